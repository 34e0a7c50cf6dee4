//! Measured data in: CSV files with one header row whose column names carry their units
//! (`time_s, v_v, i_a, g_s, r_ohm, pulse, cycle`, as in `../shared/data` and as `xbar device`
//! writes them). Other headers are mapped with `--columns v=AV,i=AI`, scaled units with
//! `--units i=mA,r=kohm`. Columns the caller does not ask for are never parsed, so text columns
//! (`sweep`, `phase`) are fine. Every error names the file, and where it applies the row
//! (the line number in the file, header = line 1) and the column.
//!
//! Values are converted to SI on import; nothing else is changed.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A quantity the fitter can read from a CSV column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Time stamp (s).
    Time,
    /// Applied voltage (V).
    V,
    /// Current (A).
    I,
    /// Conductance (S).
    G,
    /// Resistance (Ω).
    R,
    /// Pulse index (count).
    Pulse,
    /// Cycle index (count).
    Cycle,
    /// Pulse amplitude (V).
    Amplitude,
    /// Pulse width (s).
    Width,
    /// Read voltage (V).
    VRead,
    /// Temperature (K).
    Temp,
}

/// Every role, for `--columns` / `--units` parsing.
pub const ROLES: &[Role] = &[
    Role::Time,
    Role::V,
    Role::I,
    Role::G,
    Role::R,
    Role::Pulse,
    Role::Cycle,
    Role::Amplitude,
    Role::Width,
    Role::VRead,
    Role::Temp,
];

impl Role {
    /// Key used in `--columns` and `--units` (`v=AV`, `i=mA`).
    pub fn key(self) -> &'static str {
        match self {
            Role::Time => "time",
            Role::V => "v",
            Role::I => "i",
            Role::G => "g",
            Role::R => "r",
            Role::Pulse => "pulse",
            Role::Cycle => "cycle",
            Role::Amplitude => "amplitude",
            Role::Width => "width",
            Role::VRead => "v_read",
            Role::Temp => "temp",
        }
    }
    /// Header names recognised without `--columns`, first = canonical.
    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Role::Time => &["time_s"],
            Role::V => &["v_v"],
            Role::I => &["i_a", "i_read_a"],
            Role::G => &["g_s"],
            Role::R => &["r_ohm"],
            Role::Pulse => &["pulse"],
            Role::Cycle => &["cycle"],
            Role::Amplitude => &["amplitude_v"],
            Role::Width => &["width_s", "pulse_width_s"],
            Role::VRead => &["v_read_v"],
            Role::Temp => &["temp_k"],
        }
    }
    /// SI base unit symbol(s) a `--units` value must end with.
    fn base_units(self) -> &'static [&'static str] {
        match self {
            Role::Time | Role::Width => &["s"],
            Role::V | Role::Amplitude | Role::VRead => &["v"],
            Role::I => &["a"],
            Role::G => &["s", "siemens"],
            Role::R => &["ohm", "Ω"],
            Role::Temp => &["k"],
            Role::Pulse | Role::Cycle => &["1"],
        }
    }
    fn meaning(self) -> &'static str {
        match self {
            Role::Time => "time (s)",
            Role::V => "voltage (V)",
            Role::I => "current (A)",
            Role::G => "conductance (S)",
            Role::R => "resistance (ohm)",
            Role::Pulse => "pulse index",
            Role::Cycle => "cycle index",
            Role::Amplitude => "pulse amplitude (V)",
            Role::Width => "pulse width (s)",
            Role::VRead => "read voltage (V)",
            Role::Temp => "temperature (K)",
        }
    }
    pub fn from_key(k: &str) -> Option<Role> {
        ROLES.iter().copied().find(|r| r.key() == k)
    }
}

/// Error reading measured data: file, row (1-based line of the file), column, message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct DataError {
    pub file: PathBuf,
    pub row: Option<usize>,
    pub column: Option<String>,
    pub msg: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(r) = self.row {
            write!(f, ": row {r}")?;
        }
        if let Some(c) = &self.column {
            write!(f, ", column `{c}`")?;
        }
        write!(f, ": {}", self.msg)
    }
}

/// How to read a file: header mapping, unit scaling, row selection.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Role → header name (`--columns v=AV`).
    pub columns: BTreeMap<Role, String>,
    /// Role → scale factor to SI (`--units i=mA` gives 1e-3).
    pub scale: BTreeMap<Role, f64>,
    /// Keep only rows whose column equals the text (`--where device=U2_0_0`).
    pub filters: Vec<(String, String)>,
    /// Keep only cycles in this inclusive range (`--cycles 1-3`), 1-based.
    pub cycles: Option<(usize, usize)>,
}

/// Parse `v=AV,i=AI` into role → header.
pub fn parse_columns(text: &str) -> Result<BTreeMap<Role, String>, String> {
    let mut m = BTreeMap::new();
    for item in text.split(',').filter(|s| !s.trim().is_empty()) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("--columns: `{item}` is not ROLE=HEADER"))?;
        let role = Role::from_key(k.trim()).ok_or_else(|| {
            format!(
                "--columns: unknown quantity `{}`; known: {}",
                k.trim(),
                ROLES.iter().map(|r| r.key()).collect::<Vec<_>>().join(", ")
            )
        })?;
        m.insert(role, v.trim().to_string());
    }
    Ok(m)
}

/// SI factor of a unit such as `mA`, `kohm`, `uS`, `ms` for `role`, or a bare positive number
/// (e.g. `1e-5` for a voltage across a 100 kΩ sense resistor read as a current).
pub fn unit_factor(role: Role, unit: &str) -> Result<f64, String> {
    let u = unit.trim();
    if let Ok(f) = u.parse::<f64>() {
        if f.is_finite() && f > 0.0 {
            return Ok(f);
        }
    }
    let lower = u.to_lowercase();
    for base in role.base_units() {
        if let Some(prefix) = lower.strip_suffix(&base.to_lowercase()) {
            // Keep the case of the prefix (m = milli, M = mega).
            let p = &u[..prefix.len()];
            let f = match p {
                "" => 1.0,
                "f" => 1e-15,
                "p" => 1e-12,
                "n" => 1e-9,
                "u" | "µ" | "μ" => 1e-6,
                "m" => 1e-3,
                "k" | "K" => 1e3,
                "M" | "meg" | "Meg" => 1e6,
                "G" => 1e9,
                _ => continue,
            };
            return Ok(f);
        }
    }
    Err(format!(
        "--units: `{u}` is not a unit of {} (SI prefix f p n u m k M G + {})",
        role.meaning(),
        role.base_units().join(" or ")
    ))
}

/// Parse `i=mA,r=kohm` into role → SI factor.
pub fn parse_units(text: &str) -> Result<BTreeMap<Role, f64>, String> {
    let mut m = BTreeMap::new();
    for item in text.split(',').filter(|s| !s.trim().is_empty()) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("--units: `{item}` is not ROLE=UNIT"))?;
        let role = Role::from_key(k.trim())
            .ok_or_else(|| format!("--units: unknown quantity `{}`", k.trim()))?;
        m.insert(role, unit_factor(role, v)?);
    }
    Ok(m)
}

/// Parse `1-3` or `2` (1-based, inclusive).
pub fn parse_cycles(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--cycles: `{text}` is not N or N-M (1-based)");
    let (a, b) = match text.split_once('-') {
        Some((a, b)) => (a.trim(), b.trim()),
        None => (text.trim(), text.trim()),
    };
    let a: usize = a.parse().map_err(|_| bad())?;
    let b: usize = b.parse().map_err(|_| bad())?;
    if a == 0 || b < a {
        return Err(bad());
    }
    Ok((a, b))
}

/// Columns read from a file, in SI, after row selection.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub file: PathBuf,
    /// SHA-256 of the file's bytes (lower-case hex).
    pub sha256: String,
    /// Line number in the file of each kept row (header = 1).
    pub rows: Vec<usize>,
    /// Role → values (SI), one per kept row.
    pub values: BTreeMap<Role, Vec<f64>>,
    /// Header actually used for each role.
    pub headers: BTreeMap<Role, String>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    pub fn get(&self, r: Role) -> Option<&[f64]> {
        self.values.get(&r).map(|v| v.as_slice())
    }
    pub fn has(&self, r: Role) -> bool {
        self.values.contains_key(&r)
    }
    /// Error about `role` at kept row `k`.
    pub fn error_at(&self, role: Option<Role>, k: usize, msg: impl Into<String>) -> DataError {
        DataError {
            file: self.file.clone(),
            row: self.rows.get(k).copied(),
            column: role.and_then(|r| self.headers.get(&r).cloned()),
            msg: msg.into(),
        }
    }
}

/// Read `path`: `required` roles must be present, `optional` ones are read when present.
/// Rows failing a `--where` filter are dropped before any number is parsed.
pub fn load_csv(
    path: &Path,
    opts: &ImportOptions,
    required: &[Role],
    optional: &[Role],
) -> Result<Dataset, DataError> {
    let err = |row: Option<usize>, column: Option<&str>, msg: String| DataError {
        file: path.to_path_buf(),
        row,
        column: column.map(str::to_string),
        msg,
    };
    let bytes =
        std::fs::read(path).map_err(|e| err(None, None, format!("cannot read file: {e}")))?;
    let sha256 = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(bytes.as_slice());
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| err(Some(1), None, format!("cannot read the header row: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if header.is_empty() || header.iter().all(|h| h.is_empty()) {
        return Err(err(
            None,
            None,
            "empty file: expected a header row and data rows".into(),
        ));
    }
    let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    // Resolve every wanted role to a column index.
    let mut cols: Vec<(Role, usize)> = Vec::new();
    let mut headers = BTreeMap::new();
    let wanted = required
        .iter()
        .map(|r| (*r, true))
        .chain(optional.iter().map(|r| (*r, false)));
    for (role, needed) in wanted {
        if cols.iter().any(|(r, _)| *r == role) {
            continue;
        }
        let found = match opts.columns.get(&role) {
            Some(name) => match find(name) {
                Some(i) => Some(i),
                None => {
                    return Err(err(
                        Some(1),
                        Some(name),
                        format!(
                            "column given by --columns {}={name} is not in the header ({})",
                            role.key(),
                            header.join(", ")
                        ),
                    ))
                }
            },
            None => role.headers().iter().find_map(|h| find(h)),
        };
        match found {
            Some(i) => {
                cols.push((role, i));
                headers.insert(role, header[i].clone());
            }
            None if needed => {
                return Err(err(
                    Some(1),
                    Some(role.headers()[0]),
                    format!(
                        "missing column: {} needs a `{}` column (header has: {}); map another \
                         with --columns {}=NAME",
                        role.meaning(),
                        role.headers().join("` or `"),
                        header.join(", "),
                        role.key()
                    ),
                ))
            }
            None => {}
        }
    }
    let filters: Vec<(usize, &str)> = opts
        .filters
        .iter()
        .map(|(c, v)| {
            find(c).map(|i| (i, v.as_str())).ok_or_else(|| {
                err(
                    Some(1),
                    Some(c),
                    format!(
                        "--where column is not in the header ({})",
                        header.join(", ")
                    ),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let mut values: BTreeMap<Role, Vec<f64>> = cols.iter().map(|(r, _)| (*r, Vec::new())).collect();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = rdr.position().line() as usize;
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let row = e.position().map(|p| p.line() as usize).unwrap_or(line);
                return Err(err(Some(row), None, format!("malformed CSV: {e}")));
            }
        }
        let row = record.position().map(|p| p.line() as usize).unwrap_or(line);
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        if !filters.iter().all(|(i, v)| record.get(*i) == Some(*v)) {
            continue;
        }
        for (role, i) in &cols {
            let cell = record.get(*i).unwrap_or("");
            let name = &header[*i];
            let x: f64 = cell.parse().map_err(|_| {
                err(
                    Some(row),
                    Some(name),
                    if cell.is_empty() {
                        format!("empty cell; {} needs a number", role.meaning())
                    } else {
                        format!("`{cell}` is not a number ({})", role.meaning())
                    },
                )
            })?;
            if !x.is_finite() {
                return Err(err(
                    Some(row),
                    Some(name),
                    format!("`{cell}` is not a finite measurement"),
                ));
            }
            let scale = opts.scale.get(role).copied().unwrap_or(1.0);
            let si = x * scale;
            if !si.is_finite() {
                // A finite reading times a large --units factor can overflow.
                return Err(err(
                    Some(row),
                    Some(name),
                    format!("`{cell}` × {scale:e} (--units) overflows to {si} in SI"),
                ));
            }
            values.get_mut(role).expect("role column").push(si);
        }
        rows.push(row);
    }
    if rows.is_empty() {
        let why = if filters.is_empty() {
            "no data rows"
        } else {
            "no data rows match --where"
        };
        return Err(err(None, None, why.into()));
    }
    let mut ds = Dataset {
        file: path.to_path_buf(),
        sha256,
        rows,
        values,
        headers,
    };
    if let Some((a, b)) = opts.cycles {
        select_cycles(&mut ds, a, b)?;
    }
    Ok(ds)
}

/// Cycle number of each row: the `cycle` column when present, else counted from the voltage:
/// a new cycle starts each time the sweep leaves 0 V towards the polarity of the file's first
/// excursion after having visited the other polarity.
pub fn cycle_numbers(ds: &Dataset) -> Option<Vec<usize>> {
    if let Some(c) = ds.get(Role::Cycle) {
        return Some(c.iter().map(|x| x.round().max(0.0) as usize).collect());
    }
    let v = ds.get(Role::V)?;
    let vmax = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let tol = 1e-3 * vmax;
    let mut first = 0.0;
    let mut seen_other = false;
    let mut cycle = 1;
    let mut out = Vec::with_capacity(v.len());
    for &x in v {
        if x.abs() > tol {
            let s = x.signum();
            if first == 0.0 {
                first = s;
            } else if s != first {
                seen_other = true;
            } else if seen_other {
                cycle += 1;
                seen_other = false;
            }
        }
        out.push(cycle);
    }
    Some(out)
}

fn select_cycles(ds: &mut Dataset, a: usize, b: usize) -> Result<(), DataError> {
    let Some(c) = cycle_numbers(ds) else {
        return Err(DataError {
            file: ds.file.clone(),
            row: None,
            column: None,
            msg: "--cycles needs a `cycle` column or a `v_v` column to split sweeps".into(),
        });
    };
    let keep: Vec<bool> = c.iter().map(|&k| k >= a && k <= b).collect();
    if !keep.iter().any(|&k| k) {
        let max = c.iter().max().copied().unwrap_or(0);
        return Err(DataError {
            file: ds.file.clone(),
            row: None,
            column: ds.headers.get(&Role::Cycle).cloned(),
            msg: format!("--cycles {a}-{b} selects no rows (cycles found: 1-{max})"),
        });
    }
    let filt = |v: &mut Vec<f64>| {
        let mut it = keep.iter();
        v.retain(|_| *it.next().unwrap());
    };
    for v in ds.values.values_mut() {
        filt(v);
    }
    let mut it = keep.iter();
    ds.rows.retain(|_| *it.next().unwrap());
    Ok(())
}
