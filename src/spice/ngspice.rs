//! Running ngspice itself as the reference: a deck's analyses are re-run in `ngspice -b`
//! inside a `.control` block and the ASCII rawfiles are read back into the same result
//! types xbarsim produces. Transients are taken at ngspice's own accepted time points (no
//! `interp`, no `linearize`), so a comparison involves no interpolation on either side.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::circuit::AnalysisResult;
use crate::report::Table;

/// Is `ngspice` on PATH?
pub fn available() -> bool {
    Command::new("ngspice")
        .arg("-v")
        .output()
        .map(|o| o.status.success() || !o.stdout.is_empty())
        .unwrap_or(false)
}

/// One analysis card of a deck, as written (without the leading dot).
fn analysis_cards(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let t = l.trim_start();
            let low = t.to_ascii_lowercase();
            ["op", "dc", "tran"]
                .iter()
                .find(|k| {
                    low.starts_with(&format!(".{k}"))
                        && low[k.len() + 1..]
                            .chars()
                            .next()
                            .is_none_or(|c| c.is_whitespace())
                })
                .map(|_| t[1..].split(';').next().unwrap_or("").trim().to_string())
        })
        .collect()
}

/// Run every `.op` / `.dc` / `.tran` of `deck` in ngspice and read the results back.
pub fn run_reference(deck: &Path) -> Result<Vec<AnalysisResult>, String> {
    let text = std::fs::read_to_string(deck).map_err(|e| format!("{}: {e}", deck.display()))?;
    let cards = analysis_cards(&text);
    if cards.is_empty() {
        return Err(format!("{}: no .op, .dc or .tran card", deck.display()));
    }
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let tmp = std::env::temp_dir().join(format!(
        "xbarsim-ngspice-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    // The analyses move into a control block; everything else stays as written.
    let mut body = String::new();
    for line in text.lines() {
        let low = line.trim_start().to_ascii_lowercase();
        let is_card = ["op", "dc", "tran"].iter().any(|k| {
            low.starts_with(&format!(".{k}"))
                && low[k.len() + 1..]
                    .chars()
                    .next()
                    .is_none_or(|c| c.is_whitespace())
        });
        if is_card {
            body.push_str("* (moved into .control) ");
        }
        if low.trim_end() == ".end" {
            continue;
        }
        body.push_str(line);
        body.push('\n');
    }
    body.push_str(".control\nset filetype=ascii\n");
    let mut raws = Vec::new();
    for (k, c) in cards.iter().enumerate() {
        let raw: PathBuf = tmp.join(format!("a{k}.raw"));
        body.push_str(&format!("{c}\nwrite {}\n", raw.display()));
        raws.push(raw);
    }
    body.push_str("quit 0\n.endc\n.end\n");
    let run_deck = tmp.join("deck.cir");
    std::fs::write(&run_deck, body).map_err(|e| format!("{}: {e}", run_deck.display()))?;
    let dir = deck
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let out = Command::new("ngspice")
        .arg("-b")
        .arg(&run_deck)
        .current_dir(dir)
        .env("HOME", &tmp)
        .output()
        .map_err(|e| format!("cannot run ngspice: {e}"))?;
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    // The same failure words netlists/regen.sh rejects.
    let lower = log.to_ascii_lowercase();
    if let Some(bad) = ["error", "aborted", "singular", "too small"]
        .iter()
        .find(|b| lower.contains(**b))
    {
        return Err(format!(
            "{}: ngspice reported '{bad}':\n{log}",
            deck.display()
        ));
    }
    let mut results = Vec::new();
    for (c, raw) in cards.iter().zip(&raws) {
        let table = read_rawfile(raw).map_err(|e| format!("{e}\nngspice log:\n{log}"))?;
        let kind = c
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        results.push(match kind.as_str() {
            "op" => AnalysisResult::Op(
                table
                    .columns
                    .iter()
                    .cloned()
                    .zip(table.rows.first().cloned().unwrap_or_default())
                    .collect(),
            ),
            "dc" => AnalysisResult::Dc(table),
            _ => AnalysisResult::Tran(table),
        });
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(results)
}

/// Run a deck given as text (written to a temporary directory first), as [`run_reference`].
pub fn run_text(text: &str) -> Result<Vec<AnalysisResult>, String> {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let k = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("xbarsim-text-{}-{k}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let deck = dir.join("deck.cir");
    std::fs::write(&deck, text).map_err(|e| format!("{}: {e}", deck.display()))?;
    let r = run_reference(&deck);
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// Read an ngspice ASCII rawfile (real data) into a table named as ngspice names vectors;
/// a DC sweep's scale `v(v-sweep)` becomes `v-sweep`.
pub fn read_rawfile(path: &Path) -> Result<Table, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    let mut nvars = 0usize;
    let mut npts = 0usize;
    for l in lines.by_ref() {
        if let Some(v) = l.strip_prefix("No. Variables:") {
            nvars = v
                .trim()
                .parse()
                .map_err(|_| format!("{}: bad variable count", path.display()))?;
        } else if let Some(v) = l.strip_prefix("No. Points:") {
            npts = v
                .trim()
                .parse()
                .map_err(|_| format!("{}: bad point count", path.display()))?;
        } else if l.starts_with("Variables:") {
            break;
        }
    }
    let mut columns = Vec::with_capacity(nvars);
    for _ in 0..nvars {
        let l = lines
            .next()
            .ok_or_else(|| format!("{}: truncated variable list", path.display()))?;
        let name = l
            .split_whitespace()
            .nth(1)
            .ok_or_else(|| format!("{}: bad variable line", path.display()))?;
        let name = match name {
            "v(v-sweep)" => "v-sweep".to_string(),
            "i(i-sweep)" => "i-sweep".to_string(),
            n => n.to_string(),
        };
        columns.push(name);
    }
    if lines.next().map(|l| l.trim()) != Some("Values:") {
        return Err(format!("{}: expected Values:", path.display()));
    }
    let mut values = Vec::with_capacity(nvars * npts);
    for l in lines {
        let mut it = l.split_whitespace();
        let v = if values.len() % nvars.max(1) == 0 {
            it.next(); // point index
            it.next()
        } else {
            it.next()
        };
        if let Some(v) = v {
            values.push(
                v.parse::<f64>()
                    .map_err(|_| format!("{}: bad number {v}", path.display()))?,
            );
        }
    }
    if nvars == 0 || values.len() != nvars * npts {
        return Err(format!(
            "{}: expected {} values, read {}",
            path.display(),
            nvars * npts,
            values.len()
        ));
    }
    let rows = values.chunks(nvars).map(|c| c.to_vec()).collect();
    Ok(Table { columns, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_cards_are_found_case_insensitively() {
        let t = "title\n.TRAN 1n 1u uic ; c\n.options reltol=1e-6\n.op\n.dcx\n";
        assert_eq!(
            analysis_cards(t),
            vec!["TRAN 1n 1u uic".to_string(), "op".to_string()]
        );
    }
}
