//! Netlist jobs behind `xbar run` and `xbar check`: parse, simulate every analysis, write
//! CSVs in ngspice's layout, and compare against reference CSVs beside a deck.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::app::check::{self, Comparison, Tolerance};
use crate::circuit::{run_all_at, AnalysisResult, SimError};
use crate::report::{self, Table};
use crate::spice;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Netlist(#[from] spice::NetlistError),
    #[error("{}", sim_message(file, source))]
    Sim { file: String, source: SimError },
    #[error("{0}")]
    Report(#[from] report::ReportError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The solver's message, prefixed with the file unless it already names it.
fn sim_message(file: &str, e: &SimError) -> String {
    let m = e.to_string();
    if m.contains(file) {
        m
    } else {
        format!("{file}: {m}")
    }
}

/// Everything a netlist run produced.
pub struct RunOutput {
    pub results: Vec<AnalysisResult>,
    pub warnings: Vec<String>,
}

/// Parse `path` and run every analysis card in it.
pub fn run_netlist(path: &Path) -> Result<RunOutput, RunError> {
    run_netlist_at(path, None)
}

/// As [`run_netlist`], with transient rows at `tran_times` (s).
pub fn run_netlist_at(path: &Path, tran_times: Option<&[f64]>) -> Result<RunOutput, RunError> {
    let parsed = spice::parse_file_full(path)?;
    let results = run_all_at(parsed.circuit, tran_times).map_err(|source| RunError::Sim {
        file: path.display().to_string(),
        source,
    })?;
    Ok(RunOutput {
        results,
        warnings: parsed.warnings,
    })
}

/// The `.op` rows as a `name,value` CSV (ngspice's `%.15e` precision); a NaN or an infinity
/// is an error naming the vector ([`report::ensure_finite_values`]).
pub fn op_csv(rows: &[(String, f64)]) -> Result<String, report::ReportError> {
    report::ensure_finite_values(rows, report::SOLVE_CAUSE)?;
    Ok(report::name_value_to_csv_string(rows))
}

/// Write `PREFIX.op.csv`, `PREFIX.dc.csv`, `PREFIX.tran.csv` (a second analysis of the same
/// kind gets `PREFIX.KIND2.csv`). Files are written to a temporary name and renamed.
pub fn write_results(results: &[AnalysisResult], prefix: &Path) -> Result<Vec<PathBuf>, RunError> {
    let mut written = Vec::new();
    let mut counts = std::collections::HashMap::new();
    for r in results {
        let n = counts.entry(r.kind()).or_insert(0);
        *n += 1;
        let suffix = if *n == 1 {
            r.kind().to_string()
        } else {
            format!("{}{}", r.kind(), n)
        };
        let path = PathBuf::from(format!("{}.{}.csv", prefix.display(), suffix));
        let text = match r {
            AnalysisResult::Op(rows) => op_csv(rows)?,
            AnalysisResult::Dc(t) | AnalysisResult::Tran(t) => t.to_csv_string()?,
        };
        report::write_atomic(&path, text.as_bytes()).map_err(|source| RunError::Io {
            path: path.display().to_string(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// One deck's comparison with its reference files.
pub struct DeckCheck {
    pub deck: PathBuf,
    pub kind: &'static str,
    pub outcome: Result<Comparison, String>,
    /// How the reference was made, where that is not the plain stored file.
    pub note: Option<String>,
}

impl DeckCheck {
    pub fn passed(&self) -> bool {
        matches!(&self.outcome, Ok(c) if c.passed)
    }
}

/// Decks under `paths` (files `NAME.cir`, or directories holding them) that have at least
/// one reference `NAME.{op,dc,tran}.csv` beside them.
pub fn find_decks(paths: &[PathBuf]) -> Result<Vec<PathBuf>, RunError> {
    let mut decks = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|source| RunError::Io {
                path: p.display().to_string(),
                source,
            })?;
            let mut found: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|e| e == "cir"))
                .filter(|f| !references(f).is_empty())
                .collect();
            found.sort();
            decks.extend(found);
        } else if p.exists() {
            decks.push(p.clone());
        } else {
            return Err(RunError::Io {
                path: p.display().to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file or directory",
                ),
            });
        }
    }
    Ok(decks)
}

fn references(deck: &Path) -> Vec<(&'static str, PathBuf)> {
    ["op", "dc", "tran"]
        .into_iter()
        .map(|k| (k, deck.with_extension(format!("{k}.csv"))))
        .filter(|(_, p)| p.exists())
        .collect()
}

/// Where transient references come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TranReference {
    /// The stored `NAME.tran.csv` beside the deck.
    Stored,
    /// A fresh, converged `ngspice -b` run at ngspice's own accepted time points (no
    /// interpolation); xbarsim's rows are computed at exactly those times. "Converged": the
    /// deck is also run with TMAX = TSTEP/20, and where ngspice's own answer moves by more
    /// than the tolerance, both simulators are compared at that smaller TMAX.
    NgspicePoints,
}

/// How transients are judged against their reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TranJudge {
    /// Point by point, within the tolerance's share of each signal's range.
    Pointwise,
    /// As a free-running oscillator: period and amplitude over the last `periods` periods
    /// ([`check::compare_tran_periodic`]). xbarsim runs the deck as written (its own
    /// default step and TSTEP grid); with [`TranReference::NgspicePoints`] the reference is
    /// ngspice converged at TMAX = TSTEP/[`PERIODIC_TMAX_DIVISOR`] and RELTOL = 1e-6.
    Periodic { periods: usize },
}

/// TMAX = TSTEP / this for the converged ngspice reference of a periodic judgement.
pub const PERIODIC_TMAX_DIVISOR: f64 = 1000.0;

/// The `.tran` card of a deck rewritten with TMAX = TSTEP/`divisor` (or the card's own TMAX
/// if smaller). `None` if the deck has no single-line `.tran` card.
pub fn with_smaller_tmax(text: &str, divisor: f64) -> Option<String> {
    let mut found = false;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if !t.to_ascii_lowercase().starts_with(".tran ") {
                return l.to_string();
            }
            let mut nums = Vec::new();
            let mut uic = false;
            for tok in t.split(';').next().unwrap_or("").split_whitespace().skip(1) {
                if tok.eq_ignore_ascii_case("uic") {
                    uic = true;
                } else if let Some(v) = spice::number::parse_number(tok) {
                    nums.push(v);
                }
            }
            if nums.len() < 2 {
                return l.to_string();
            }
            found = true;
            let tmax = (nums[0] / divisor).min(nums.get(3).copied().unwrap_or(f64::INFINITY));
            format!(
                ".tran {:e} {:e} {:e} {:e}{}",
                nums[0],
                nums[1],
                nums.get(2).copied().unwrap_or(0.0),
                tmax,
                if uic { " uic" } else { "" }
            )
        })
        .collect();
    found.then(|| out.join("\n") + "\n")
}

fn ngspice_tran(deck: &Path) -> Result<Table, String> {
    spice::ngspice::run_reference(deck)?
        .into_iter()
        .find_map(|a| match a {
            AnalysisResult::Tran(t) => Some(t),
            _ => None,
        })
        .ok_or_else(|| "ngspice produced no transient".to_string())
}

/// `text` with `.options reltol=1e-6` added before its `.end` (or at its end): a later
/// `.options` card overrides the deck's own.
fn with_tight_reltol(text: &str) -> String {
    let mut out = String::new();
    let mut added = false;
    for l in text.lines() {
        if !added && l.trim().eq_ignore_ascii_case(".end") {
            out.push_str(".options reltol=1e-6\n");
            added = true;
        }
        out.push_str(l);
        out.push('\n');
    }
    if !added {
        out.push_str(".options reltol=1e-6\n");
    }
    out
}

/// ngspice's transient of `deck` converged as issue 12 defines it: TMAX = TSTEP/`divisor`
/// and RELTOL = 1e-6, run from a temporary copy.
fn tight_ngspice_tran(deck: &Path, divisor: f64) -> Result<Table, String> {
    let text = std::fs::read_to_string(deck).map_err(|e| format!("{}: {e}", deck.display()))?;
    let fine_text = with_smaller_tmax(&text, divisor)
        .ok_or_else(|| format!("{}: no single-line .tran card", deck.display()))?;
    let dir = std::env::temp_dir().join(format!("xbarsim-tight-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let fine_deck = dir.join(deck.file_name().unwrap_or_default());
    std::fs::write(&fine_deck, with_tight_reltol(&fine_text)).map_err(|e| e.to_string())?;
    let t = ngspice_tran(&fine_deck);
    let _ = std::fs::remove_file(&fine_deck);
    t
}

/// A converged ngspice transient for `deck` (see [`TranReference::NgspicePoints`]): the
/// reference table and the deck xbarsim must run to match it (the original, or a copy with a
/// smaller TMAX written to a temporary file).
fn converged_ngspice_tran(
    deck: &Path,
    tol: &Tolerance,
) -> Result<(Table, PathBuf, Option<String>), String> {
    let plain = ngspice_tran(deck)?;
    let text = std::fs::read_to_string(deck).map_err(|e| format!("{}: {e}", deck.display()))?;
    let Some(fine_text) = with_smaller_tmax(&text, 20.0) else {
        return Ok((plain, deck.to_path_buf(), None));
    };
    let dir = std::env::temp_dir().join(format!("xbarsim-fine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let fine_deck = dir.join(deck.file_name().unwrap_or_default());
    std::fs::write(&fine_deck, fine_text).map_err(|e| e.to_string())?;
    let fine = ngspice_tran(&fine_deck)?;
    if check::compare_tran(&fine, &plain, tol).passed {
        Ok((plain, deck.to_path_buf(), None))
    } else {
        let note =
            format!("ngspice not converged at the deck's own step; compared at TMAX = TSTEP/20");
        Ok((fine, fine_deck, Some(note)))
    }
}

/// Run a deck and compare every analysis that has a reference file.
pub fn check_deck(deck: &Path, tol: &Tolerance) -> Vec<DeckCheck> {
    check_deck_with(deck, tol, TranReference::Stored)
}

/// As [`check_deck`], choosing where transient references come from. Transients are
/// compared with the deck's own RELTOL as the relative term when it is looser than `tol.rel`
/// (the reference itself is only converged to it).
pub fn check_deck_with(deck: &Path, tol: &Tolerance, tran_ref: TranReference) -> Vec<DeckCheck> {
    check_deck_judged(deck, tol, tran_ref, TranJudge::Pointwise)
}

/// As [`check_deck_with`], choosing how transients are judged.
pub fn check_deck_judged(
    deck: &Path,
    tol: &Tolerance,
    tran_ref: TranReference,
    judge: TranJudge,
) -> Vec<DeckCheck> {
    let refs = references(deck);
    let mut out = Vec::new();
    if refs.is_empty() {
        out.push(DeckCheck {
            deck: deck.to_path_buf(),
            kind: "-",
            outcome: Err(
                "no reference NAME.op.csv / NAME.dc.csv / NAME.tran.csv beside the deck".into(),
            ),
            note: None,
        });
        return out;
    }
    let deck_reltol = spice::parse_file(deck)
        .map(|c| c.options.reltol)
        .unwrap_or(tol.rel);
    let tran_tol = Tolerance {
        rel: tol.rel.max(deck_reltol),
        ..*tol
    };
    let fresh = (tran_ref == TranReference::NgspicePoints
        && refs.iter().any(|(k, _)| *k == "tran"))
    .then(|| match judge {
        TranJudge::Pointwise => converged_ngspice_tran(deck, &tran_tol),
        TranJudge::Periodic { .. } => tight_ngspice_tran(deck, PERIODIC_TMAX_DIVISOR).map(|t| {
            let note = format!(
                "judged by period and amplitude; ngspice at TMAX = TSTEP/{PERIODIC_TMAX_DIVISOR}, \
                 RELTOL = 1e-6; xbarsim at its default step"
            );
            (t, deck.to_path_buf(), Some(note))
        }),
    });
    let mut note = None;
    let run_main = run_netlist(deck);
    let run_tran = match &fresh {
        Some(Ok((_, _, n))) if matches!(judge, TranJudge::Periodic { .. }) => {
            note = n.clone();
            None // the deck as written, on its own grid: `run_main`
        }
        Some(Ok((t, run_deck, n))) => {
            note = n.clone();
            let times: Vec<f64> = t.rows.iter().map(|r| r[0]).collect();
            Some(run_netlist_at(run_deck, Some(&times)))
        }
        _ => None,
    };
    for (kind, path) in refs {
        let outcome = (|| -> Result<Comparison, String> {
            let run = match (&run_tran, kind) {
                (Some(r), "tran") => r.as_ref(),
                _ => run_main.as_ref(),
            }
            .map_err(|e| e.to_string())?;
            let got = run
                .results
                .iter()
                .find(|r| r.kind() == kind)
                .ok_or_else(|| {
                    format!(
                        "the deck has no .{kind} analysis but {} exists",
                        path.display()
                    )
                })?;
            match got {
                AnalysisResult::Op(rows) => {
                    let reference = report::read_name_value(&path).map_err(|e| e.to_string())?;
                    Ok(check::compare_op(&reference, rows, tol))
                }
                AnalysisResult::Dc(t) => {
                    let reference = report::read_table(&path).map_err(|e| e.to_string())?;
                    Ok(check::compare_sweep(&reference, t, tol))
                }
                AnalysisResult::Tran(t) => {
                    let reference = match &fresh {
                        Some(f) => f
                            .as_ref()
                            .map_err(|e| format!("ngspice reference: {e}"))?
                            .0
                            .clone(),
                        None => report::read_table(&path).map_err(|e| e.to_string())?,
                    };
                    Ok(match judge {
                        TranJudge::Pointwise => check::compare_tran(&reference, t, &tran_tol),
                        TranJudge::Periodic { periods } => {
                            check::compare_tran_periodic(&reference, t, &tran_tol, periods)
                        }
                    })
                }
            }
        })();
        out.push(DeckCheck {
            deck: deck.to_path_buf(),
            kind,
            outcome,
            note: if kind == "tran" { note.clone() } else { None },
        });
    }
    out
}

/// The table `xbar check` prints: one line per deck and analysis with its worst error.
pub struct CheckReport(pub Vec<DeckCheck>);

impl CheckReport {
    pub fn passed(&self) -> bool {
        self.0.iter().all(|d| d.passed())
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<40} {:<5} {:<6} {:<28} {:>11} {:>11}",
            "deck", "kind", "result", "worst vector", "max |err|", "max rel"
        )?;
        for d in &self.0 {
            let name = d
                .deck
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            match &d.outcome {
                Ok(c) => {
                    let w = c.worst.iter().max_by(|a, b| {
                        let ka = if a.passed { 0 } else { 1 };
                        let kb = if b.passed { 0 } else { 1 };
                        ka.cmp(&kb).then(a.max_rel_err.total_cmp(&b.max_rel_err))
                    });
                    let (wn, ea, er) = w
                        .map(|w| (w.name.clone(), w.max_abs_err, w.max_rel_err))
                        .unwrap_or_default();
                    writeln!(
                        f,
                        "{:<40} {:<5} {:<6} {:<28} {:>11.3e} {:>11.3e}",
                        name,
                        d.kind,
                        if c.passed { "ok" } else { "FAIL" },
                        wn,
                        ea,
                        er
                    )?;
                    if let Some(n) = &d.note {
                        writeln!(f, "    note: {n}")?;
                    }
                    // What a passing judgement rests on, where it is not a pointwise error
                    // (period and amplitude of an oscillator).
                    if c.passed {
                        for w in c.worst.iter().filter(|w| w.problem.is_some()) {
                            writeln!(f, "    {}: {}", w.name, w.problem.as_deref().unwrap_or(""))?;
                        }
                    }
                    if !c.passed {
                        for w in c.worst.iter().filter(|w| !w.passed).take(5) {
                            writeln!(
                                f,
                                "    {:<36} |err| {:.3e} rel {:.3e} at {:?} {}",
                                w.name,
                                w.max_abs_err,
                                w.max_rel_err,
                                w.at,
                                w.problem.as_deref().unwrap_or("")
                            )?;
                        }
                        for p in &c.problems {
                            writeln!(f, "    {p}")?;
                        }
                    }
                }
                Err(e) => writeln!(f, "{:<40} {:<5} {:<6} {}", name, d.kind, "ERROR", e)?,
            }
        }
        let failed = self.0.iter().filter(|d| !d.passed()).count();
        writeln!(
            f,
            "{} checked, {} passed, {} failed",
            self.0.len(),
            self.0.len() - failed,
            failed
        )
    }
}

/// Check every deck under `paths` against its references.
pub fn check_paths(
    paths: &[PathBuf],
    tol: &Tolerance,
    tran_ref: TranReference,
) -> Result<CheckReport, RunError> {
    check_paths_judged(paths, tol, tran_ref, TranJudge::Pointwise)
}

/// As [`check_paths`], choosing how transients are judged.
pub fn check_paths_judged(
    paths: &[PathBuf],
    tol: &Tolerance,
    tran_ref: TranReference,
    judge: TranJudge,
) -> Result<CheckReport, RunError> {
    let decks = find_decks(paths)?;
    let mut all = Vec::new();
    for d in decks {
        all.extend(check_deck_judged(&d, tol, tran_ref, judge));
    }
    Ok(CheckReport(all))
}
