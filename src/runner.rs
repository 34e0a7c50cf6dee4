//! Netlist jobs behind `xbar run` and `xbar check`: parse, simulate every analysis, write
//! CSVs in ngspice's layout, and compare against reference CSVs beside a deck.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::check::{self, Comparison, Tolerance};
use crate::circuit::{run_all, AnalysisResult, SimError};
use crate::report;
use crate::spice;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Netlist(#[from] spice::NetlistError),
    #[error("{file}: {source}")]
    Sim { file: String, source: SimError },
    #[error("{0}")]
    Report(#[from] report::ReportError),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// Everything a netlist run produced.
pub struct RunOutput {
    pub results: Vec<AnalysisResult>,
    pub warnings: Vec<String>,
}

/// Parse `path` and run every analysis card in it.
pub fn run_netlist(path: &Path) -> Result<RunOutput, RunError> {
    let parsed = spice::parse_file(path)?;
    let results = run_all(parsed.circuit).map_err(|source| RunError::Sim {
        file: path.display().to_string(),
        source,
    })?;
    Ok(RunOutput {
        results,
        warnings: parsed.warnings,
    })
}

/// The `.op` rows as a `name,value` CSV (ngspice's `%.15e` precision).
pub fn op_csv(rows: &[(String, f64)]) -> String {
    let mut s = String::from("name,value\n");
    for (n, v) in rows {
        s.push_str(&format!("{n},{v:.15e}\n"));
    }
    s
}

/// Write `PREFIX.op.csv`, `PREFIX.dc.csv`, `PREFIX.tran.csv` (a second analysis of the same
/// kind gets `PREFIX.KIND2.csv`). Files are written to a temporary name and renamed.
pub fn write_results(results: &[AnalysisResult], prefix: &Path) -> Result<Vec<PathBuf>, RunError> {
    let mut written = Vec::new();
    let mut counts = std::collections::HashMap::new();
    for r in results {
        let n = counts.entry(r.kind()).or_insert(0);
        *n += 1;
        let suffix = if *n == 1 { r.kind().to_string() } else { format!("{}{}", r.kind(), n) };
        let path = PathBuf::from(format!("{}.{}.csv", prefix.display(), suffix));
        let text = match r {
            AnalysisResult::Op(rows) => op_csv(rows),
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
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
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

/// Run a deck and compare every analysis that has a reference file.
pub fn check_deck(deck: &Path, tol: &Tolerance) -> Vec<DeckCheck> {
    let refs = references(deck);
    let run = run_netlist(deck);
    let mut out = Vec::new();
    if refs.is_empty() {
        out.push(DeckCheck {
            deck: deck.to_path_buf(),
            kind: "-",
            outcome: Err("no reference NAME.op.csv / NAME.dc.csv / NAME.tran.csv beside the deck".into()),
        });
        return out;
    }
    for (kind, path) in refs {
        let outcome = (|| -> Result<Comparison, String> {
            let run = run.as_ref().map_err(|e| e.to_string())?;
            let got = run
                .results
                .iter()
                .find(|r| r.kind() == kind)
                .ok_or_else(|| format!("the deck has no .{kind} analysis but {} exists", path.display()))?;
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
                    let reference = report::read_table(&path).map_err(|e| e.to_string())?;
                    Ok(check::compare_tran(&reference, t, tol))
                }
            }
        })();
        out.push(DeckCheck {
            deck: deck.to_path_buf(),
            kind,
            outcome,
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
            let name = d.deck.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
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
        writeln!(f, "{} checked, {} passed, {} failed", self.0.len(), self.0.len() - failed, failed)
    }
}

/// Check every deck under `paths` against its references.
pub fn check_paths(paths: &[PathBuf], tol: &Tolerance) -> Result<CheckReport, RunError> {
    let decks = find_decks(paths)?;
    let mut all = Vec::new();
    for d in decks {
        all.extend(check_deck(&d, tol));
    }
    Ok(CheckReport(all))
}
