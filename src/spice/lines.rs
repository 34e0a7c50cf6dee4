//! Reading a deck into logical lines: comments, `+` continuations, `.include` and `.lib`.
//!
//! Every logical line remembers where each of its pieces came from, so a token can be
//! reported as `file:line:column` even when it sits on a continuation line or in an included file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::NetlistError;

/// One piece of a logical line: the byte offset in `Line::text` where it starts, and the
/// physical line and 1-based column (in characters) it came from.
#[derive(Clone, Debug)]
struct Segment {
    start: usize,
    line: usize,
    column: usize,
}

/// A logical line: a card with its continuations joined and inline comments removed.
#[derive(Clone, Debug)]
pub struct Line {
    pub text: String,
    pub file: Option<Arc<PathBuf>>,
    segments: Vec<Segment>,
}

impl Line {
    /// Physical line number where the card starts.
    pub fn line(&self) -> usize {
        self.segments[0].line
    }

    /// Physical line and column of byte offset `offset` in `text`.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| s.start <= offset)
            .unwrap_or(&self.segments[0]);
        let end = offset.min(self.text.len());
        let chars = self.text[seg.start.min(end)..end].chars().count();
        (seg.line, seg.column + chars)
    }

    /// An error located at byte `offset` of this line.
    pub fn error(
        &self,
        offset: usize,
        message: impl Into<String>,
        token: Option<&str>,
    ) -> NetlistError {
        let (line, column) = self.position(offset);
        NetlistError {
            file: self.file.as_deref().cloned(),
            line,
            column,
            message: message.into(),
            token: token.map(str::to_string),
        }
    }

    /// First whitespace-separated word, lower case (the card name).
    pub fn keyword(&self) -> String {
        self.text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    }
}

/// Remove an inline comment: `;` anywhere, or `$` at the start or after whitespace and
/// followed by whitespace or the end (ngspice's rule, so `$batchmode`-like words stay).
/// Text inside `'...'` or `{...}` is left alone.
fn strip_inline_comment(s: &str) -> &str {
    let b = s.as_bytes();
    let mut quote = false;
    let mut brace = 0usize;
    for i in 0..b.len() {
        match b[i] {
            b'\'' if brace == 0 => quote = !quote,
            b'{' if !quote => brace += 1,
            b'}' if !quote => brace = brace.saturating_sub(1),
            b';' if !quote && brace == 0 => return &s[..i],
            b'$' if !quote && brace == 0 => {
                let before_ok = i == 0 || b[i - 1].is_ascii_whitespace();
                let after_ok = i + 1 == b.len() || b[i + 1].is_ascii_whitespace();
                if before_ok && after_ok {
                    return &s[..i];
                }
            }
            _ => {}
        }
    }
    s
}

/// Split `text` into logical lines. When `has_title`, the first physical line is the title
/// and is returned separately, untouched.
fn logical_lines(
    text: &str,
    file: &Option<Arc<PathBuf>>,
    has_title: bool,
) -> (Option<String>, Vec<Line>) {
    let mut title = None;
    let mut out: Vec<Line> = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let lineno = idx + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if idx == 0 && has_title {
            title = Some(raw.trim().to_string());
            continue;
        }
        let lead = raw.len() - raw.trim_start().len();
        let body = &raw[lead..];
        if body.is_empty() || body.starts_with('*') {
            continue;
        }
        let lead_cols = raw[..lead].chars().count();
        if let Some(rest) = body.strip_prefix('+') {
            let rest = strip_inline_comment(rest);
            if let Some(prev) = out.last_mut() {
                prev.text.push(' ');
                let start = prev.text.len();
                prev.text.push_str(rest);
                prev.segments.push(Segment {
                    start,
                    line: lineno,
                    column: lead_cols + 2,
                });
                continue;
            }
            // A `+` line with nothing to continue: keep it, the parser reports it.
        }
        let kept = strip_inline_comment(body);
        if kept.trim().is_empty() {
            continue;
        }
        out.push(Line {
            text: kept.to_string(),
            file: file.clone(),
            segments: vec![Segment {
                start: 0,
                line: lineno,
                column: lead_cols + 1,
            }],
        });
    }
    (title, out)
}

/// Unquote a file name token (`'ex1.lib'` or `"ex1.lib"`).
fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['\'', '"'] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

pub struct Reader {
    /// Files (canonical) and lib sections being read, to detect cycles.
    stack: Vec<(PathBuf, Option<String>)>,
}

/// Read the main deck: title plus fully expanded logical lines.
pub fn read_deck(text: &str, path: Option<&Path>) -> Result<(String, Vec<Line>), NetlistError> {
    let file = path.map(|p| Arc::new(p.to_path_buf()));
    let (title, lines) = logical_lines(text, &file, true);
    let mut reader = Reader { stack: Vec::new() };
    if let Some(p) = path {
        reader
            .stack
            .push((p.canonicalize().unwrap_or_else(|_| p.to_path_buf()), None));
    }
    let base = base_dir(path);
    let mut out = Vec::new();
    reader.expand(lines, &base, &mut out)?;
    Ok((title.unwrap_or_default(), out))
}

fn base_dir(path: Option<&Path>) -> PathBuf {
    path.and_then(|p| p.parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

impl Reader {
    /// Splice `.include` and `.lib file section` into `out`; drop `.lib name` ... `.endl`
    /// section definitions (they are read only when referenced).
    fn expand(
        &mut self,
        lines: Vec<Line>,
        base: &Path,
        out: &mut Vec<Line>,
    ) -> Result<(), NetlistError> {
        let mut it = lines.into_iter();
        while let Some(line) = it.next() {
            let kw = line.keyword();
            let words: Vec<&str> = line.text.split_whitespace().collect();
            match kw.as_str() {
                ".include" | ".inc" => {
                    let Some(&name) = words.get(1) else {
                        return Err(line.error(0, "missing file name", Some(words[0])));
                    };
                    let offset = line.text.find(name).unwrap_or(0);
                    let target = base.join(unquote(name));
                    self.read_file(&line, offset, &target, None, out)?;
                }
                ".lib" if words.len() >= 3 => {
                    let name = words[1];
                    let offset = line.text.find(name).unwrap_or(0);
                    let target = base.join(unquote(name));
                    self.read_file(
                        &line,
                        offset,
                        &target,
                        Some(words[2].to_ascii_lowercase()),
                        out,
                    )?;
                }
                ".lib" => {
                    // Section definition in the file being read: skip to its `.endl`.
                    let mut closed = false;
                    for inner in it.by_ref() {
                        if inner.keyword() == ".endl" {
                            closed = true;
                            break;
                        }
                    }
                    if !closed {
                        return Err(line.error(0, ".lib section without .endl", Some(&line.text)));
                    }
                }
                ".endl" => return Err(line.error(0, ".endl without .lib", Some(words[0]))),
                _ => out.push(line),
            }
        }
        Ok(())
    }

    fn read_file(
        &mut self,
        from: &Line,
        offset: usize,
        target: &Path,
        section: Option<String>,
        out: &mut Vec<Line>,
    ) -> Result<(), NetlistError> {
        let shown = target.display().to_string();
        let text = std::fs::read_to_string(target).map_err(|e| {
            from.error(
                offset,
                format!("cannot read included file: {e}"),
                Some(&shown),
            )
        })?;
        let canon = target
            .canonicalize()
            .unwrap_or_else(|_| target.to_path_buf());
        let key = (canon, section.clone());
        if self
            .stack
            .iter()
            .any(|k| k.0 == key.0 && (k.1.is_none() || k.1 == key.1))
        {
            return Err(from.error(offset, "include cycle", Some(&shown)));
        }
        let file = Some(Arc::new(target.to_path_buf()));
        let (_, lines) = logical_lines(&text, &file, false);
        let lines = match &section {
            None => lines,
            Some(sec) => {
                let mut picked = None;
                let mut it = lines.into_iter();
                while let Some(l) = it.next() {
                    let w: Vec<String> = l
                        .text
                        .split_whitespace()
                        .map(|s| s.to_ascii_lowercase())
                        .collect();
                    if w.len() == 2 && w[0] == ".lib" && &w[1] == sec {
                        let mut body = Vec::new();
                        let mut closed = false;
                        for inner in it.by_ref() {
                            if inner.keyword() == ".endl" {
                                closed = true;
                                break;
                            }
                            body.push(inner);
                        }
                        if !closed {
                            return Err(l.error(0, ".lib section without .endl", Some(sec)));
                        }
                        picked = Some(body);
                        break;
                    }
                }
                picked.ok_or_else(|| {
                    from.error(
                        offset,
                        format!("no section '{sec}' in library {shown}"),
                        Some(sec),
                    )
                })?
            }
        };
        self.stack.push(key);
        let result = self.expand(lines, &base_dir(Some(target)), out);
        self.stack.pop();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_continuations() {
        let text = "title $ here\n* comment\nR1 a b 1k ; trailing\n+ extra $ gone\n\nv1 a 0 $ dc\n";
        let (title, lines) = read_deck(text, None).unwrap();
        assert_eq!(title, "title $ here");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text.trim_end(), "R1 a b 1k   extra");
        assert_eq!(
            lines[0].position(lines[0].text.find("extra").unwrap()),
            (4, 3)
        );
        assert_eq!(lines[1].text.trim_end(), "v1 a 0");
        assert_eq!(strip_inline_comment("a $x b"), "a $x b");
        assert_eq!(strip_inline_comment("a 'x;y' b;c"), "a 'x;y' b");
    }
}
