//! CSV and figure writing for crossbar results, behind one function each so they can move
//! onto `crate::report` / `crate::plot` when those land.

use std::path::Path;

/// Writes `text` to `path` atomically (temp file and rename, via `crate::report`).
pub fn write_text_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    crate::report::write_atomic(path, text.as_bytes())
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
