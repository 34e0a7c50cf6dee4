//! CSV tables written atomically, and readers for ngspice reference CSVs.
//!
//! Every output file goes through [`write_atomic`]: the bytes land in a temporary file in the
//! same directory, are flushed to disk, and only then renamed over the target, so a crash or a
//! full disk never leaves a half-written CSV or figure behind.
//!
//! Numbers are written like ngspice's ASCII rawfile prints them (C `%.15e`, e.g.
//! `1.000000000000000e-03`), which round-trips every `f64` that came from ngspice exactly.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Errors from reading or writing tables. Parse errors name the file, the 1-based line, the
/// column and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}:{line}: {what}")]
    Parse {
        path: PathBuf,
        /// 1-based line number in the file (0 when the file is empty).
        line: u64,
        what: String,
    },
    #[error("table is malformed: {0}")]
    Shape(String),
    /// A NaN or an infinity about to leave the library as a result.
    #[error("{quantity} = {value} at {place} is not a result; likely cause: {cause}")]
    NonFinite {
        quantity: String,
        place: String,
        value: f64,
        cause: String,
    },
}

/// The likely cause named when a solved quantity is not finite.
pub const SOLVE_CAUSE: &str = "a singular or diverged solve (a node or line without a DC \
     path, an element value that overflows, or Newton running away)";

/// The one guard where numbers leave the library (CSV writers, printed reports): a NaN or an
/// infinity is an error naming the quantity, where it is (element, cell, row) and the likely
/// cause, never a value in a results file.
pub fn ensure_finite(
    quantity: &str,
    place: impl FnOnce() -> String,
    value: f64,
    cause: &str,
) -> Result<f64, ReportError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ReportError::NonFinite {
            quantity: quantity.to_string(),
            place: place(),
            value,
            cause: cause.to_string(),
        })
    }
}

/// [`ensure_finite`] on every value of a name-value list (an operating point).
pub fn ensure_finite_values(values: &[(String, f64)], cause: &str) -> Result<(), ReportError> {
    for (n, v) in values {
        ensure_finite(n, || "the operating point".into(), *v, cause)?;
    }
    Ok(())
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary path next to `path` (same directory, so `rename` is atomic on one filesystem).
/// The name keeps `path`'s extension last, because some encoders (the PNG writer) choose the
/// format from it: `dir/.name.<pid>-<n>.part.ext`.
pub(crate) fn temp_path_for(path: &Path) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!(
            ".{stem}.{}-{n}.part.{}",
            std::process::id(),
            ext.to_string_lossy()
        ),
        None => format!(".{stem}.{}-{n}.part", std::process::id()),
    };
    path.with_file_name(name)
}

/// Create the parent directory of `path` if it has one and it is missing.
pub(crate) fn ensure_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => fs::create_dir_all(dir),
        _ => Ok(()),
    }
}

/// Move a finished temporary file over `path`, then fsync the directory so the rename itself is
/// durable. On failure the temporary file is removed.
pub(crate) fn commit_temp(tmp: &Path, path: &Path) -> io::Result<()> {
    if let Err(e) = fs::rename(tmp, path) {
        let _ = fs::remove_file(tmp);
        return Err(e);
    }
    sync_dir(path);
    Ok(())
}

#[cfg(unix)]
fn sync_dir(path: &Path) {
    // Best effort: some filesystems refuse fsync on directories; the data is already renamed.
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(not(unix))]
fn sync_dir(_path: &Path) {}

/// Write `bytes` to `path` atomically: temp file in the same directory, fsync, rename.
/// Creates the parent directory. Either the old file or the complete new one exists afterwards,
/// never a partial file; the temporary file is removed on failure.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    ensure_parent(path)?;
    let tmp = temp_path_for(path);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    commit_temp(&tmp, path)
}

/// Format like C's `%.15e` (what ngspice writes): `-1.234567890123457e-05`, exponent with a sign
/// and at least two digits. Non-finite values are written `nan`, `inf`, `-inf`, which
/// [`read_table`] reads back.
pub fn format_e15(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let s = format!("{x:.15e}");
    // Rust writes `1.5e-5` / `1.5e5`; rewrite the exponent as `e-05` / `e+05`.
    match s.split_once('e') {
        Some((mant, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mant}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

/// A table of named numeric columns (one `Vec<f64>` per row), e.g. a DC sweep or a transient.
/// Header names should carry units (`v_read_v`, `i_col_a`) or be ngspice vector names (`v(1)`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl Table {
    /// An empty table with the given column names.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        Table {
            columns: columns.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Append a row; it must have one value per column.
    pub fn push_row(&mut self, row: Vec<f64>) -> Result<(), ReportError> {
        if row.len() != self.columns.len() {
            return Err(ReportError::Shape(format!(
                "row {} has {} values but the table has {} columns",
                self.rows.len() + 1,
                row.len(),
                self.columns.len()
            )));
        }
        self.rows.push(row);
        Ok(())
    }

    /// Index of the column named `name` (exact match).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The values of column `name`, top to bottom.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let j = self.column_index(name)?;
        Some(self.rows.iter().map(|r| r[j]).collect())
    }

    /// Check that the table is rectangular and its column names are non-empty and distinct.
    pub fn validate(&self) -> Result<(), ReportError> {
        for (i, c) in self.columns.iter().enumerate() {
            if c.trim().is_empty() {
                return Err(ReportError::Shape(format!(
                    "column {} has an empty name",
                    i + 1
                )));
            }
            if self.columns[..i].contains(c) {
                return Err(ReportError::Shape(format!(
                    "column name `{c}` appears twice"
                )));
            }
        }
        for (i, r) in self.rows.iter().enumerate() {
            if r.len() != self.columns.len() {
                return Err(ReportError::Shape(format!(
                    "row {} has {} values but the table has {} columns",
                    i + 1,
                    r.len(),
                    self.columns.len()
                )));
            }
        }
        Ok(())
    }

    /// [`ensure_finite`] on every value: the first NaN or infinity is an error naming its
    /// column, its row and the row's first-column value (time, sweep value, ...).
    pub fn ensure_finite(&self, cause: &str) -> Result<(), ReportError> {
        for (i, r) in self.rows.iter().enumerate() {
            for (j, v) in r.iter().enumerate() {
                ensure_finite(
                    &self.columns[j],
                    || format!("row {} ({} = {:e})", i + 1, self.columns[0], r[0]),
                    *v,
                    cause,
                )?;
            }
        }
        Ok(())
    }

    /// The CSV text: a header line, then one line per row with values as `%.15e`.
    /// Fails if the table is not rectangular (see [`Table::validate`]) or holds a NaN or an
    /// infinity ([`Table::ensure_finite`]): results files never carry them.
    pub fn to_csv_string(&self) -> Result<String, ReportError> {
        self.validate()?;
        self.ensure_finite(SOLVE_CAUSE)?;
        let mut s = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| csv_field(c)).collect();
        s.push_str(&header.join(","));
        s.push('\n');
        for r in &self.rows {
            for (j, v) in r.iter().enumerate() {
                if j > 0 {
                    s.push(',');
                }
                s.push_str(&format_e15(*v));
            }
            s.push('\n');
        }
        Ok(s)
    }

    /// Write the table as CSV to `path` atomically (creating the parent directory).
    pub fn write_csv(&self, path: &Path) -> Result<(), ReportError> {
        let text = self.to_csv_string()?;
        write_atomic(path, text.as_bytes()).map_err(|source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Quote a header field if it needs it (RFC 4180); ngspice names never do.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The CSV text of a name-value table (ngspice `.op` layout): header `name,value`.
pub fn name_value_to_csv_string(values: &[(String, f64)]) -> String {
    let mut s = String::from("name,value\n");
    for (n, v) in values {
        let _ = writeln!(s, "{},{}", csv_field(n), format_e15(*v));
    }
    s
}

/// Write a name-value table (ngspice `.op` layout) to `path` atomically; a NaN or an infinity
/// is an error ([`ensure_finite_values`]).
pub fn write_name_value(path: &Path, values: &[(String, f64)]) -> Result<(), ReportError> {
    ensure_finite_values(values, SOLVE_CAUSE)?;
    write_atomic(path, name_value_to_csv_string(values).as_bytes()).map_err(|source| {
        ReportError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

fn open_csv(path: &Path) -> Result<csv::Reader<fs::File>, ReportError> {
    let file = fs::File::open(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(file))
}

fn parse_err(path: &Path, line: u64, what: String) -> ReportError {
    ReportError::Parse {
        path: path.to_path_buf(),
        line,
        what,
    }
}

/// Read records with their 1-based line numbers; skips blank lines (the csv crate does).
fn records(path: &Path) -> Result<Vec<(u64, csv::StringRecord)>, ReportError> {
    let mut rdr = open_csv(path)?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            match e.into_kind() {
                csv::ErrorKind::Io(source) => ReportError::Io {
                    path: path.to_path_buf(),
                    source,
                },
                csv::ErrorKind::Utf8 { err, .. } => {
                    parse_err(path, line, format!("not valid UTF-8 ({err})"))
                }
                other => parse_err(path, line, format!("CSV syntax error: {other:?}")),
            }
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        out.push((line, rec));
    }
    Ok(out)
}

fn parse_value(
    path: &Path,
    line: u64,
    col: usize,
    name: &str,
    text: &str,
) -> Result<f64, ReportError> {
    text.parse::<f64>().map_err(|_| {
        parse_err(
            path,
            line,
            format!("column {col} (`{name}`): `{text}` is not a number"),
        )
    })
}

/// Read a numeric CSV with a header line (ngspice `.dc`/`.tran` layout, or [`Table::write_csv`]).
/// Every row must have one value per header column; names must be non-empty and distinct.
pub fn read_table(path: &Path) -> Result<Table, ReportError> {
    let recs = records(path)?;
    let mut it = recs.into_iter();
    let (hline, header) = it
        .next()
        .ok_or_else(|| parse_err(path, 0, "file is empty (no header line)".into()))?;
    let columns: Vec<String> = header.iter().map(str::to_string).collect();
    for (i, c) in columns.iter().enumerate() {
        if c.is_empty() {
            return Err(parse_err(
                path,
                hline,
                format!("header column {} has an empty name", i + 1),
            ));
        }
        if columns[..i].contains(c) {
            return Err(parse_err(
                path,
                hline,
                format!(
                    "header column {} `{c}` repeats an earlier column name",
                    i + 1
                ),
            ));
        }
    }
    let mut rows = Vec::new();
    for (line, rec) in it {
        if rec.len() != columns.len() {
            return Err(parse_err(
                path,
                line,
                format!(
                    "row has {} fields but the header has {} columns",
                    rec.len(),
                    columns.len()
                ),
            ));
        }
        let row = rec
            .iter()
            .enumerate()
            .map(|(j, t)| parse_value(path, line, j + 1, &columns[j], t))
            .collect::<Result<Vec<f64>, _>>()?;
        rows.push(row);
    }
    Ok(Table { columns, rows })
}

/// Read a name-value CSV (ngspice `.op` layout: header `name,value`, one vector per line).
/// Names must be non-empty and distinct.
pub fn read_name_value(path: &Path) -> Result<Vec<(String, f64)>, ReportError> {
    let recs = records(path)?;
    let mut it = recs.into_iter();
    let (hline, header) = it
        .next()
        .ok_or_else(|| parse_err(path, 0, "file is empty (no header line)".into()))?;
    let h: Vec<&str> = header.iter().collect();
    if h.len() != 2 || !h[0].eq_ignore_ascii_case("name") || !h[1].eq_ignore_ascii_case("value") {
        return Err(parse_err(
            path,
            hline,
            format!("expected the header `name,value`, found `{}`", h.join(",")),
        ));
    }
    let mut out: Vec<(String, f64)> = Vec::new();
    for (line, rec) in it {
        if rec.len() != 2 {
            return Err(parse_err(
                path,
                line,
                format!("expected 2 fields (name,value), found {}", rec.len()),
            ));
        }
        let name = rec[0].to_string();
        if name.is_empty() {
            return Err(parse_err(path, line, "column 1 (`name`) is empty".into()));
        }
        if out.iter().any(|(n, _)| *n == name) {
            return Err(parse_err(
                path,
                line,
                format!("column 1 (`name`): `{name}` appears twice"),
            ));
        }
        let v = parse_value(path, line, 2, "value", &rec[1])?;
        out.push((name, v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_e15_matches_c_printf() {
        // Expected strings are what C's printf("%.15e") prints (and what ngspice writes).
        assert_eq!(format_e15(0.0), "0.000000000000000e+00");
        assert_eq!(format_e15(1.0), "1.000000000000000e+00");
        assert_eq!(format_e15(-5e-5), "-5.000000000000000e-05");
        assert_eq!(format_e15(1.5e300), "1.500000000000000e+300");
        assert_eq!(format_e15(123.0), "1.230000000000000e+02");
    }

    #[test]
    fn format_e15_round_trips_f64() {
        for x in [
            1.0 / 3.0,
            -2.0f64.sqrt() * 1e-13,
            6.02214076e23,
            f64::MIN_POSITIVE,
        ] {
            let y: f64 = format_e15(x).parse().unwrap();
            // 16 significant digits: within 1 ulp-ish, relative 1e-15.
            assert!(((y - x) / x).abs() < 1e-15, "{x} -> {y}");
        }
    }
}
