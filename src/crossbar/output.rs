//! CSV and figure writing for crossbar results, behind one function each so they can move
//! onto `crate::report` / `crate::plot` when those land.

use std::io::Write;
use std::path::Path;

/// Writes `text` to `path` atomically (temp file in the same directory, then rename).
pub fn write_text_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    let tmp = path.with_extension(format!(
        "{}.tmp{}",
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// Writes a CSV with a header (units in the column names) and rows of numbers.
pub fn write_csv(path: &Path, header: &[&str], rows: &[Vec<f64>]) -> std::io::Result<()> {
    let mut s = header.join(",");
    s.push('\n');
    for r in rows {
        let line: Vec<String> = r.iter().map(|x| format!("{x:.9e}")).collect();
        s += &line.join(",");
        s.push('\n');
    }
    write_text_atomic(path, &s)
}
