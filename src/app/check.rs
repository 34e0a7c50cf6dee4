//! Compare simulation results with ngspice reference CSVs (`xbar check` and the conformance tests).
//!
//! Three kinds of reference, as written by `../shared/ngspice-tests/regen.sh`:
//! - `.op`: name-value pairs ([`compare_op`]);
//! - `.dc`: a sweep table, first column the sweep variable ([`compare_sweep`]);
//! - `.tran`: a table with a `time` column ([`compare_tran`]); our time points may differ, so the
//!   result is interpolated linearly onto the reference times.
//!
//! Columns named `i(...)` (or `i-sweep`, `i_...`) are currents and get the absolute tolerance
//! `abs_i`; everything else is a voltage and gets `abs_v`. Columns present only in the result are
//! ignored; a reference column missing from the result fails as "missing vector".
//! Names match exactly, or else ignoring ASCII case (SPICE names are case-insensitive).

use std::fmt;
use std::path::Path;

use crate::report::{read_name_value, read_table, ReportError, Table};

/// The analysis a reference CSV comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Op,
    Dc,
    Tran,
}

impl Kind {
    /// The kind of a reference file from its name: `NAME.op.csv`, `NAME.dc.csv`, `NAME.tran.csv`.
    pub fn of_reference(path: &Path) -> Option<Kind> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".op.csv") {
            Some(Kind::Op)
        } else if name.ends_with(".dc.csv") {
            Some(Kind::Dc)
        } else if name.ends_with(".tran.csv") {
            Some(Kind::Tran)
        } else {
            None
        }
    }
}

/// Tolerances. For `.op` and `.dc` a value passes when
/// `|got − ref| ≤ rel·max(|ref|, |got|) + abs` (the SPICE convergence test form, reltol·max + abstol);
/// for `.tran` when `|got − ref| ≤ tran_rel_range·(max − min of the reference column)
/// + rel·max(|ref|, |got|) + abs` (the range term follows the brief; the op/dc term is added so
/// a flat column, such as a DC supply, is not held to `abs` alone).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Relative tolerance for `.op` and `.dc` (and for matching sweep values).
    pub rel: f64,
    /// Absolute tolerance for voltages (V).
    pub abs_v: f64,
    /// Absolute tolerance for currents (A).
    pub abs_i: f64,
    /// Transient tolerance as a fraction of each reference column's range (max − min).
    pub tran_rel_range: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            rel: 1e-6,
            abs_v: 1e-9,
            abs_i: 1e-12,
            tran_rel_range: 1e-3,
        }
    }
}

impl Tolerance {
    /// Absolute tolerance for a vector name: `abs_i` for currents (`i(..)`, `i-sweep`, `i_..`),
    /// `abs_v` otherwise.
    pub fn abs_for(&self, name: &str) -> f64 {
        if is_current(name) {
            self.abs_i
        } else {
            self.abs_v
        }
    }
}

/// Whether a vector name denotes a current (ngspice `i(vx)`, `i-sweep`, or a `i_...` header).
pub fn is_current(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    n.starts_with("i(") || n.starts_with("i-") || n.starts_with("i_")
}

/// Where a column's worst error is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum At {
    /// An operating-point value (one number per vector).
    Op,
    /// Data row `row` (0-based, header excluded) of a sweep, whose sweep value is `sweep`.
    Row { row: usize, sweep: f64 },
    /// Reference time point (s).
    Time(f64),
    /// Nothing compared (missing vector).
    Nowhere,
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Op => write!(f, "op"),
            At::Row { row, sweep } => write!(f, "row {row} ({sweep:.6e})"),
            At::Time(t) => write!(f, "t={t:.6e}"),
            At::Nowhere => write!(f, "-"),
        }
    }
}

/// The comparison of one vector.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnResult {
    pub name: String,
    /// Largest |got − ref| over the column (column units).
    pub max_abs_err: f64,
    /// Largest relative error: |got − ref| / |ref| for op/dc (∞ if ref is 0 and got is not);
    /// |got − ref| / (max − min of the reference column) for tran (/|ref| if the column is flat).
    pub max_rel_err: f64,
    /// Where the error is largest compared with what is allowed there.
    pub at: At,
    /// Largest |got − ref| / allowed; the column passes when this is ≤ 1.
    pub worst_ratio: f64,
    pub passed: bool,
    /// Why the column could not be compared (e.g. "missing vector"), if so.
    pub problem: Option<String>,
}

/// The result of comparing one analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// One entry per reference vector, worst first (failures before passes).
    pub worst: Vec<ColumnResult>,
    /// Problems with the table as a whole (row count, sweep values, time coverage).
    pub problems: Vec<String>,
    pub passed: bool,
}

impl Comparison {
    fn finish(mut worst: Vec<ColumnResult>, problems: Vec<String>) -> Comparison {
        // Failures first, then by how close to the limit; NaN ratios count as worst.
        let key = |c: &ColumnResult| {
            if c.worst_ratio.is_nan() {
                f64::INFINITY
            } else {
                c.worst_ratio
            }
        };
        worst.sort_by(|a, b| a.passed.cmp(&b.passed).then(key(b).total_cmp(&key(a))));
        let passed = problems.is_empty() && worst.iter().all(|c| c.passed);
        Comparison {
            worst,
            problems,
            passed,
        }
    }

    /// Number of vectors that failed.
    pub fn failed_columns(&self) -> usize {
        self.worst.iter().filter(|c| !c.passed).count()
    }
}

/// How many column rows [`Comparison`]'s `Display` prints before summarising the rest.
const DISPLAY_ROWS: usize = 20;

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.worst.len();
        if self.passed {
            writeln!(f, "PASS: {n} vectors within tolerance")?;
        } else {
            writeln!(
                f,
                "FAIL: {} of {n} vectors out of tolerance, {} table problem(s)",
                self.failed_columns(),
                self.problems.len()
            )?;
        }
        for p in &self.problems {
            writeln!(f, "  problem: {p}")?;
        }
        if n == 0 {
            return Ok(());
        }
        let w = self
            .worst
            .iter()
            .take(DISPLAY_ROWS)
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(6);
        writeln!(
            f,
            "  {:<w$}  {:>11}  {:>11}  {:>9}  {:<28} {}",
            "vector", "max |err|", "max rel", "err/tol", "worst at", "status"
        )?;
        for c in self.worst.iter().take(DISPLAY_ROWS) {
            let status = match (&c.problem, c.passed) {
                (Some(p), _) => format!("FAIL ({p})"),
                (None, true) => "ok".into(),
                (None, false) => "FAIL".into(),
            };
            writeln!(
                f,
                "  {:<w$}  {:>11.3e}  {:>11.3e}  {:>9.3}  {:<28} {}",
                c.name,
                c.max_abs_err,
                c.max_rel_err,
                c.worst_ratio,
                c.at.to_string(),
                status
            )?;
        }
        if n > DISPLAY_ROWS {
            let rest_failed = self.worst[DISPLAY_ROWS..]
                .iter()
                .filter(|c| !c.passed)
                .count();
            writeln!(
                f,
                "  … {} more vectors ({rest_failed} of them failed)",
                n - DISPLAY_ROWS
            )?;
        }
        Ok(())
    }
}

/// Index of `name` in `names`: exact match first, then ASCII case-insensitive.
fn find<'a>(names: impl Iterator<Item = &'a str> + Clone, name: &str) -> Option<usize> {
    names
        .clone()
        .position(|n| n == name)
        .or_else(|| names.clone().position(|n| n.eq_ignore_ascii_case(name)))
}

fn missing(name: &str) -> ColumnResult {
    ColumnResult {
        name: name.to_string(),
        max_abs_err: f64::NAN,
        max_rel_err: f64::NAN,
        at: At::Nowhere,
        worst_ratio: f64::INFINITY,
        passed: false,
        problem: Some("missing vector".into()),
    }
}

/// Running worst-case tracker for one column.
struct Acc {
    max_abs: f64,
    max_rel: f64,
    ratio: f64,
    at: At,
}

impl Acc {
    fn new(at: At) -> Acc {
        Acc {
            max_abs: 0.0,
            max_rel: 0.0,
            ratio: 0.0,
            at,
        }
    }

    /// Record one comparison: error `err` against `allowed`, relative error `rel`.
    fn add(&mut self, reference: f64, got: f64, allowed: f64, rel_scale: f64, at: At) {
        let (err, ratio) = if reference == got {
            (0.0, 0.0) // also covers equal infinities
        } else if reference.is_finite() && got.is_finite() {
            let e = (got - reference).abs();
            (e, e / allowed)
        } else {
            (f64::INFINITY, f64::INFINITY) // NaN or a lone infinity never passes
        };
        let rel = if err == 0.0 { 0.0 } else { err / rel_scale };
        self.max_abs = self.max_abs.max(err);
        self.max_rel = self.max_rel.max(rel);
        if ratio > self.ratio {
            self.ratio = ratio;
            self.at = at;
        }
    }

    fn result(self, name: &str) -> ColumnResult {
        ColumnResult {
            name: name.to_string(),
            max_abs_err: self.max_abs,
            max_rel_err: self.max_rel,
            at: self.at,
            worst_ratio: self.ratio,
            passed: self.ratio <= 1.0,
            problem: None,
        }
    }
}

/// Allowed error for op/dc values: `rel·max(|ref|, |got|) + abs`.
fn point_allowed(reference: f64, got: f64, rel: f64, abs: f64) -> f64 {
    rel * reference.abs().max(got.abs()) + abs
}

/// Compare operating points (name-value lists, ngspice `.op` CSV layout).
pub fn compare_op(
    reference: &[(String, f64)],
    got: &[(String, f64)],
    tol: &Tolerance,
) -> Comparison {
    let worst = reference
        .iter()
        .map(
            |(name, r)| match find(got.iter().map(|(n, _)| n.as_str()), name) {
                None => missing(name),
                Some(j) => {
                    let g = got[j].1;
                    let mut acc = Acc::new(At::Op);
                    let allowed = point_allowed(*r, g, tol.rel, tol.abs_for(name));
                    acc.add(*r, g, allowed, r.abs(), At::Op);
                    acc.at = At::Op;
                    acc.result(name)
                }
            },
        )
        .collect();
    Comparison::finish(worst, Vec::new())
}

/// Column indices of `reference`'s columns in `got` (by name).
fn map_columns(reference: &Table, got: &Table) -> Vec<Option<usize>> {
    reference
        .columns
        .iter()
        .map(|n| find(got.columns.iter().map(String::as_str), n))
        .collect()
}

fn shape_problems(t: &Table, which: &str, problems: &mut Vec<String>) -> bool {
    match t.validate() {
        Ok(()) if !t.columns.is_empty() => true,
        Ok(()) => {
            problems.push(format!("{which} table has no columns"));
            false
        }
        Err(e) => {
            problems.push(format!("{which} {e}"));
            false
        }
    }
}

/// Compare DC sweeps. The first reference column is the sweep variable; it is found in `got` by
/// name, or else `got`'s first column is taken as the sweep. Row counts and sweep values must
/// agree (within `rel`/`abs`), then every reference vector is compared row by row.
/// Nested sweeps (the sweep value restarting) are fine: rows are matched in order.
pub fn compare_sweep(reference: &Table, got: &Table, tol: &Tolerance) -> Comparison {
    let mut problems = Vec::new();
    let ref_ok = shape_problems(reference, "reference", &mut problems);
    let got_ok = shape_problems(got, "result", &mut problems);
    if !(ref_ok && got_ok) {
        return Comparison::finish(Vec::new(), problems);
    }
    let cols = map_columns(reference, got);
    let sweep_name = &reference.columns[0];
    let sweep_got = cols[0].unwrap_or(0);
    let rows = reference.rows.len().min(got.rows.len());
    if reference.rows.len() != got.rows.len() {
        problems.push(format!(
            "row count differs: reference {}, result {} (the first {rows} compared)",
            reference.rows.len(),
            got.rows.len()
        ));
    }
    let abs_sweep = tol.abs_for(sweep_name);
    let mut bad_sweep = 0;
    for r in 0..rows {
        let (a, b) = (reference.rows[r][0], got.rows[r][sweep_got]);
        if !((a - b).abs() <= point_allowed(a, b, tol.rel, abs_sweep)) {
            if bad_sweep == 0 {
                problems.push(format!(
                    "sweep `{sweep_name}` differs first at row {r}: reference {a:e}, result {b:e}"
                ));
            }
            bad_sweep += 1;
        }
    }
    if bad_sweep > 1 {
        problems.push(format!("sweep values differ in {bad_sweep} rows"));
    }
    let worst = reference
        .columns
        .iter()
        .zip(&cols)
        .enumerate()
        .skip(1)
        .map(|(j, (name, gj))| match gj {
            None => missing(name),
            Some(gj) => {
                let abs = tol.abs_for(name);
                let mut acc = Acc::new(At::Nowhere);
                for r in 0..rows {
                    let (a, b) = (reference.rows[r][j], got.rows[r][*gj]);
                    let at = At::Row {
                        row: r,
                        sweep: reference.rows[r][0],
                    };
                    acc.add(a, b, point_allowed(a, b, tol.rel, abs), a.abs(), at);
                }
                if matches!(acc.at, At::Nowhere) && rows > 0 {
                    acc.at = At::Row {
                        row: 0,
                        sweep: reference.rows[0][0],
                    };
                }
                acc.result(name)
            }
        })
        .collect();
    Comparison::finish(worst, problems)
}

/// Index of the time column: `time` by name, else the first column.
fn time_column(t: &Table) -> usize {
    find(t.columns.iter().map(String::as_str), "time").unwrap_or(0)
}

/// Compare transients. `got` may use other time points: each `got` column is interpolated
/// linearly onto the reference times. Reference times may lie outside `got`'s time span by
/// rounding drift (up to 1e-9 of the span); they are then clamped to `got`'s end points. The
/// allowed error at a point is `tran_rel_range·(max − min of the reference column)
/// + rel·max(|ref|, |got|) + abs` (see [`Tolerance`]).
pub fn compare_tran(reference: &Table, got: &Table, tol: &Tolerance) -> Comparison {
    let mut problems = Vec::new();
    let ref_ok = shape_problems(reference, "reference", &mut problems);
    let got_ok = shape_problems(got, "result", &mut problems);
    if !(ref_ok && got_ok) {
        return Comparison::finish(Vec::new(), problems);
    }
    if got.rows.is_empty() || reference.rows.is_empty() {
        problems.push(format!(
            "no time points: reference {}, result {}",
            reference.rows.len(),
            got.rows.len()
        ));
        return Comparison::finish(Vec::new(), problems);
    }
    let (rt, gt) = (time_column(reference), time_column(got));
    let gtimes: Vec<f64> = got.rows.iter().map(|r| r[gt]).collect();
    if let Some(k) = gtimes.windows(2).position(|w| !(w[1] >= w[0])) {
        problems.push(format!(
            "result time is not increasing at row {}: {:e} after {:e}",
            k + 1,
            gtimes[k + 1],
            gtimes[k]
        ));
        return Comparison::finish(Vec::new(), problems);
    }
    let (g0, g1) = (gtimes[0], gtimes[gtimes.len() - 1]);
    let rtimes: Vec<f64> = reference.rows.iter().map(|r| r[rt]).collect();
    let span = (rtimes[rtimes.len() - 1] - rtimes[0]).abs().max(g1 - g0);
    let slack = 1e-9 * span;
    let outside = rtimes
        .iter()
        .filter(|&&t| t < g0 - slack || t > g1 + slack)
        .count();
    if outside > 0 {
        problems.push(format!(
            "{outside} reference time points lie outside the result's span [{g0:e}, {g1:e}] s"
        ));
    }

    // For each reference time: the got segment (k, k+1) and weight w of row k+1.
    let mut seg = Vec::with_capacity(rtimes.len());
    let mut k = 0;
    for &t in &rtimes {
        let t = t.clamp(g0, g1);
        // Reference times increase, so k only moves forward (restart if they ever do not).
        if k + 1 < gtimes.len() && gtimes[k] > t {
            k = 0;
        }
        while k + 2 < gtimes.len() && gtimes[k + 1] <= t {
            k += 1;
        }
        let (k, w) = if gtimes.len() == 1 {
            (0, 0.0)
        } else {
            let (a, b) = (gtimes[k], gtimes[k + 1]);
            (k, if b > a { (t - a) / (b - a) } else { 1.0 })
        };
        seg.push((k, w.clamp(0.0, 1.0)));
    }

    let cols = map_columns(reference, got);
    let worst = reference
        .columns
        .iter()
        .zip(&cols)
        .enumerate()
        .filter(|(j, _)| *j != rt)
        .map(|(j, (name, gj))| match gj {
            None => missing(name),
            Some(gj) => {
                let (lo, hi) = reference
                    .rows
                    .iter()
                    .map(|r| r[j])
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                        (a.min(v), b.max(v))
                    });
                let range = hi - lo;
                let abs = tol.abs_for(name);
                let mut acc = Acc::new(At::Time(rtimes[0]));
                for (r, &(k, w)) in seg.iter().enumerate() {
                    let ga = got.rows[k][*gj];
                    let g = if w == 0.0 {
                        ga
                    } else {
                        let gb = got.rows[(k + 1).min(got.rows.len() - 1)][*gj];
                        ga + w * (gb - ga)
                    };
                    let a = reference.rows[r][j];
                    // Never tighter than the op/dc test: a flat column (a DC supply) has no
                    // range, yet a 1e-7-relative wobble on it is no error.
                    let allowed = tol.tran_rel_range * range + point_allowed(a, g, tol.rel, abs);
                    let scale = if range > 0.0 { range } else { a.abs() };
                    acc.add(a, g, allowed, scale, At::Time(rtimes[r]));
                }
                acc.result(name)
            }
        })
        .collect();
    Comparison::finish(worst, problems)
}

/// Period (s) and peak-to-peak amplitude (column units) of an oscillation over its last
/// `periods` periods, from the upward crossings of the midline (halfway between the column's
/// extremes), each located by linear interpolation between samples. The amplitude is the
/// sampled max − min over those periods. `None` if the column crosses its midline upward fewer
/// than `periods + 1` times (it does not oscillate, or not for that long).
pub fn oscillation(times: &[f64], values: &[f64], periods: usize) -> Option<(f64, f64, f64)> {
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if periods == 0 || !(hi > lo) || !(hi - lo).is_finite() {
        return None;
    }
    let mid = 0.5 * (lo + hi);
    let crossings: Vec<f64> = (1..values.len())
        .filter(|&k| values[k - 1] < mid && values[k] >= mid)
        .map(|k| {
            let (a, b) = (values[k - 1] - mid, values[k] - mid);
            times[k - 1] + (-a / (b - a)) * (times[k] - times[k - 1])
        })
        .collect();
    if crossings.len() < periods + 1 {
        return None;
    }
    let last = &crossings[crossings.len() - periods - 1..];
    let (t0, t1) = (last[0], last[periods]);
    let (wlo, whi) = times
        .iter()
        .zip(values)
        .filter(|(t, _)| **t >= t0 && **t <= t1)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, &v)| {
            (a.min(v), b.max(v))
        });
    Some(((t1 - t0) / periods as f64, whi - wlo, t0))
}

/// Compare the transients of an oscillator by what is physical in them: each column that
/// oscillates in the reference (see [`oscillation`]) passes when its period and its
/// peak-to-peak amplitude over the last `periods` periods agree within `tol.tran_rel_range`
/// (relative). A pointwise comparison of a free-running oscillator over many periods only
/// measures its accumulated phase. Columns that do not oscillate in the reference (a supply
/// node) are compared pointwise as in [`compare_tran`]. `got` may use other time points.
pub fn compare_tran_periodic(
    reference: &Table,
    got: &Table,
    tol: &Tolerance,
    periods: usize,
) -> Comparison {
    let pointwise = compare_tran(reference, got, tol);
    if !pointwise.problems.is_empty() {
        return pointwise;
    }
    let (rt, gt) = (time_column(reference), time_column(got));
    let rtimes: Vec<f64> = reference.rows.iter().map(|r| r[rt]).collect();
    let gtimes: Vec<f64> = got.rows.iter().map(|r| r[gt]).collect();
    let cols = map_columns(reference, got);
    let worst = pointwise
        .worst
        .into_iter()
        .map(|c| {
            let Some(j) = reference.columns.iter().position(|n| *n == c.name) else {
                return c;
            };
            let Some(gj) = cols[j] else { return c };
            let rv: Vec<f64> = reference.rows.iter().map(|r| r[j]).collect();
            let Some((rp, ra, t0)) = oscillation(&rtimes, &rv, periods) else {
                return c; // not an oscillation in the reference: pointwise
            };
            let gv: Vec<f64> = got.rows.iter().map(|r| r[gj]).collect();
            let Some((gp, ga, _)) = oscillation(&gtimes, &gv, periods) else {
                return ColumnResult {
                    name: c.name,
                    max_abs_err: f64::NAN,
                    max_rel_err: f64::INFINITY,
                    at: At::Time(t0),
                    worst_ratio: f64::INFINITY,
                    passed: false,
                    problem: Some(format!(
                        "the reference oscillates (period {rp:.6e} s) but the result does not for {periods} periods"
                    )),
                };
            };
            let (ep, ea) = ((gp - rp).abs() / rp, (ga - ra).abs() / ra);
            let rel = ep.max(ea);
            let ratio = if rel.is_nan() {
                f64::INFINITY
            } else {
                rel / tol.tran_rel_range
            };
            ColumnResult {
                name: c.name,
                max_abs_err: (ga - ra).abs(),
                max_rel_err: rel,
                at: At::Time(t0),
                worst_ratio: ratio,
                passed: ratio <= 1.0,
                problem: Some(format!(
                    "last {periods} periods: period {gp:.6e} s vs {rp:.6e} s (rel {ep:.2e}), \
                     amplitude {ga:.6e} vs {ra:.6e} (rel {ea:.2e})"
                )),
            }
        })
        .collect();
    Comparison::finish(worst, Vec::new())
}

/// Errors of [`compare_files`]: either file unreadable or malformed.
pub type CheckError = ReportError;

/// Read a reference CSV and a result CSV of the same layout and compare them as `kind`.
pub fn compare_files(
    kind: Kind,
    reference: &Path,
    got: &Path,
    tol: &Tolerance,
) -> Result<Comparison, CheckError> {
    Ok(match kind {
        Kind::Op => compare_op(&read_name_value(reference)?, &read_name_value(got)?, tol),
        Kind::Dc => compare_sweep(&read_table(reference)?, &read_table(got)?, tol),
        Kind::Tran => compare_tran(&read_table(reference)?, &read_table(got)?, tol),
    })
}
