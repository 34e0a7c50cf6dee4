//! Parameter sweeps (`xbar sweep`): one config key over a list of values, Monte Carlo trials per
//! value, on one machine or sharded over many (`--shard K/N`, `merge`, Slurm job arrays).
//!
//! The unit of work is one (value, trial) *job*. Trial t of value k draws everything it uses
//! from ChaCha8(seed) on stream (k << 32 | t), so a job's result depends on nothing but (k, t):
//! not on the thread count, nor on which process or machine ran it. That is what lets shards
//! run anywhere and merge bit for bit into the single-process result.
//!
//! Every finished job is appended at once to a *journal* in `PREFIX.sweep.parts/` (one per
//! shard; `shard-0-of-1` for a plain run), with its numbers stored as exact f64 bits. So:
//! - an interrupted run (Ctrl-C, a killed Slurm task) loses only the jobs in flight; running
//!   the same command again resumes from the journal;
//! - `PREFIX.sweep.csv` and the figures are written only when every job is done (atomically),
//!   so an interrupted sweep never leaves a partial or stale-looking CSV behind;
//! - `merge` reads every journal, checks that each job is present (identical wherever two
//!   shards both ran it), and writes exactly what the single-process run writes.
//!
//! A journal records a fingerprint of the sweep file, the base config and the xbarsim version;
//! journals of another fingerprint are ignored (and replaced), never mixed in.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{IsTerminal, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Deserialize;

use crate::crossbar::config::Crossbar;
use crate::crossbar::output::write_text_atomic;
use crate::crossbar::CrossbarError;
use crate::plot::{write_line_plot, LinePlot, Series, SeriesStyle};

fn io_err(file: &Path, e: impl fmt::Display) -> CrossbarError {
    CrossbarError::Io {
        file: file.to_path_buf(),
        msg: e.to_string(),
    }
}

/// `PREFIX` + `suffix` (`run` + `.sweep.csv` → `run.sweep.csv`).
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepCfg {
    /// Base crossbar config, relative to the sweep file.
    base: PathBuf,
    /// Dotted config key, e.g. `wires.r_row` or `rows`.
    key: String,
    values: Vec<f64>,
    trials: Option<usize>,
    seed: Option<u64>,
    /// Input vectors per trial.
    inputs: Option<usize>,
    /// Output prefix, relative to the sweep file (default: the sweep file without extension).
    out: Option<PathBuf>,
}

/// SI unit of a swept config key, for the figure's axis label.
fn key_unit(key: &str) -> Option<&'static str> {
    let last = key.rsplit('.').next().unwrap_or(key);
    Some(match last {
        "r_row" | "r_col" | "r_driver" | "r_sense" => "Ω",
        "resistivity" => "Ω·m",
        "width" | "thickness" | "pitch" | "w" | "l" => "m",
        "v_read" | "v_gate" | "v0" | "vto" | "v_s" => "V",
        "g_min" | "g_max" => "S",
        "t_read" | "time" | "drift_t0" => "s",
        "temperature" => "K",
        "drift_ea_ev" => "eV",
        "kp" => "A/V²",
        "i_s" | "i_max" => "A",
        "bits" => "bits",
        _ => return None,
    })
}

/// Config keys whose values are integers in the TOML form.
const INTEGER_KEYS: &[&str] = &[
    "rows",
    "cols",
    "seed",
    "dac.bits",
    "adc.bits",
    "adc.calibration_vectors",
    "adc.columns_per_adc",
    "nonideal.levels",
];

/// One row of the sweep results.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRow {
    pub value: f64,
    pub trial: usize,
    /// RMS and max error of the analog column currents (normalised as in `ErrorStats`).
    pub rms_error: f64,
    pub max_error: f64,
    /// The same after the DAC and ADC, against the unquantised ideal.
    pub rms_error_adc: f64,
    pub max_error_adc: f64,
    pub clip_rate: f64,
    /// Mean ‖I − I*‖₂/‖I*‖₂ over the trial's input vectors (analog).
    pub norm_rel_error: f64,
    /// Mean Newton iterations per solve.
    pub newton_iterations: f64,
    /// RMS and max error of the analog currents against the same cells with zero wire
    /// resistance (IR drop alone) and against the chord Σ V·G_chord (IR drop + nonlinearity).
    pub rms_error_zero_wire: f64,
    pub max_error_zero_wire: f64,
    pub rms_error_chord: f64,
    pub max_error_chord: f64,
}

/// Numbers of a row after `value` and `trial`.
const N_METRICS: usize = 11;
/// Their CSV column names, in order.
const METRIC_NAMES: [&str; N_METRICS] = [
    "rms_error",
    "max_error",
    "rms_error_adc",
    "max_error_adc",
    "clip_rate",
    "norm_rel_error",
    "newton_iterations",
    "rms_error_zero_wire",
    "max_error_zero_wire",
    "rms_error_chord",
    "max_error_chord",
];

impl SweepRow {
    /// The numbers of a row after `value` and `trial`, in CSV column order.
    fn metrics(&self) -> [f64; N_METRICS] {
        [
            self.rms_error,
            self.max_error,
            self.rms_error_adc,
            self.max_error_adc,
            self.clip_rate,
            self.norm_rel_error,
            self.newton_iterations,
            self.rms_error_zero_wire,
            self.max_error_zero_wire,
            self.rms_error_chord,
            self.max_error_chord,
        ]
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SweepSummary {
    pub key: String,
    pub values: Vec<f64>,
    pub trials: usize,
    /// Every (value, trial), values outer.
    pub rows: Vec<SweepRow>,
    /// Per value: mean and 95th percentile of `rms_error` and of `rms_error_adc` over trials.
    pub mean_rms_error: Vec<f64>,
    pub p95_rms_error: Vec<f64>,
    pub mean_rms_error_adc: Vec<f64>,
    pub p95_rms_error_adc: Vec<f64>,
    /// Jobs taken from journals of an earlier, interrupted run (or from shards, for `merge`).
    pub resumed: usize,
    pub csv: PathBuf,
    pub svg: PathBuf,
    pub png: PathBuf,
}

impl fmt::Display for SweepSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "sweep of `{}` over {} values × {} trials → {}, {}",
            self.key,
            self.values.len(),
            self.trials,
            self.csv.display(),
            self.png.display()
        )?;
        if self.resumed > 0 {
            writeln!(
                f,
                "  {} of {} trials taken from saved partial results",
                self.resumed,
                self.rows.len()
            )?;
        }
        writeln!(
            f,
            "{:>14} {:>14} {:>14} {:>14} {:>14}",
            "value", "mean RMS err", "p95 RMS err", "mean RMS ADC", "p95 RMS ADC"
        )?;
        for (k, v) in self.values.iter().enumerate() {
            writeln!(
                f,
                "{v:>14.6e} {:>14.4e} {:>14.4e} {:>14.4e} {:>14.4e}",
                self.mean_rms_error[k],
                self.p95_rms_error[k],
                self.mean_rms_error_adc[k],
                self.p95_rms_error_adc[k]
            )?;
        }
        Ok(())
    }
}

/// Sets `key` (dotted) in `table` to `value`, creating missing tables.
fn set_dotted(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err("empty component in dotted key".into());
    }
    let mut t = table;
    for p in &parts[..parts.len() - 1] {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = match entry {
            toml::Value::Table(inner) => inner,
            _ => return Err(format!("`{p}` is not a table in the base config")),
        };
    }
    t.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

fn mean_p95(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let mean = s.iter().sum::<f64>() / s.len().max(1) as f64;
    let k = ((0.95 * s.len() as f64).ceil() as usize).clamp(1, s.len().max(1)) - 1;
    (mean, s.get(k).copied().unwrap_or(f64::NAN))
}

/// FNV-1a, 64 bit: a stable fingerprint of the inputs a journal was made from.
fn fnv1a(chunks: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in chunks {
        for &b in c.iter().chain(&[0xff]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Shard `index` of `count` (`K/N` on the command line, K = 0 … N−1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// The whole sweep as one shard.
    pub const ALL: Shard = Shard { index: 0, count: 1 };
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("shard `{s}`: expected K/N with 0 ≤ K < N, e.g. 0/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// A sweep file, read and checked: every value gives a valid array before anything runs.
pub struct Sweep {
    /// The sweep file.
    pub path: PathBuf,
    pub key: String,
    pub values: Vec<f64>,
    /// Monte Carlo trials per value.
    pub trials: usize,
    /// Random input vectors per trial.
    pub inputs: usize,
    pub seed: u64,
    /// Output prefix: results go to `PREFIX.sweep.{csv,svg,png}`.
    pub prefix: PathBuf,
    base: PathBuf,
    base_path: PathBuf,
    /// One config table per value (its `seed` set per trial).
    tables: Vec<toml::Table>,
    fingerprint: u64,
}

impl Sweep {
    /// Reads `sweep_toml` (format in [`sweep_command`]) and its base config.
    pub fn load(sweep_toml: &Path) -> Result<Sweep, CrossbarError> {
        let text = fs::read_to_string(sweep_toml).map_err(|e| io_err(sweep_toml, e))?;
        let cfg: SweepCfg = toml::from_str(&text).map_err(|e| CrossbarError::Toml {
            file: sweep_toml.to_path_buf(),
            msg: e.to_string(),
        })?;
        let bad = |key: &str, msg: String| CrossbarError::Config {
            file: sweep_toml.to_path_buf(),
            key: key.into(),
            msg,
        };
        let dir = sweep_toml.parent().unwrap_or(Path::new("."));
        let base_path = dir.join(&cfg.base);
        let base_text = fs::read_to_string(&base_path)
            .map_err(|e| bad("base", format!("{}: {e}", base_path.display())))?;
        let base: toml::Table = toml::from_str(&base_text).map_err(|e| {
            bad(
                "base",
                format!("{}: {}", base_path.display(), e.to_string().trim()),
            )
        })?;
        if cfg.values.is_empty() {
            return Err(bad("values", "needs at least one value".into()));
        }
        if let Some((k, v)) = cfg.values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(bad(&format!("values[{k}]"), format!("not finite: {v}")));
        }
        let trials = cfg.trials.unwrap_or(8);
        if trials == 0 {
            return Err(bad("trials", "must be at least 1".into()));
        }
        let inputs = cfg.inputs.unwrap_or(4);
        if inputs == 0 {
            return Err(bad("inputs", "must be at least 1".into()));
        }
        if cfg.key == "seed" {
            return Err(bad("key", "`seed` is set per trial by the sweep".into()));
        }
        let integer = INTEGER_KEYS.contains(&cfg.key.as_str());

        // One TOML table per value, checked up front (seed 0) so a bad value fails before the run.
        let mut tables = Vec::with_capacity(cfg.values.len());
        for (k, &v) in cfg.values.iter().enumerate() {
            let val = if integer {
                if v.fract() != 0.0 || v < 0.0 {
                    return Err(bad(
                        &format!("values[{k}]"),
                        format!("`{}` needs a non-negative integer, got {v}", cfg.key),
                    ));
                }
                toml::Value::Integer(v as i64)
            } else {
                toml::Value::Float(v)
            };
            let mut t = base.clone();
            set_dotted(&mut t, &cfg.key, val)
                .map_err(|m| bad("key", format!("`{}`: {m}", cfg.key)))?;
            t.insert("seed".into(), toml::Value::Integer(0));
            let s = toml::to_string(&t).map_err(|e| bad("key", e.to_string()))?;
            Crossbar::from_toml_str(&s, &base_path).map_err(|e| {
                bad(
                    &cfg.key,
                    format!("value {v} (values[{k}]) does not give a valid array: {e}"),
                )
            })?;
            tables.push(t);
        }
        let prefix = cfg
            .out
            .as_ref()
            .map_or_else(|| sweep_toml.with_extension(""), |p| dir.join(p));
        let fingerprint = fnv1a(&[
            env!("CARGO_PKG_VERSION").as_bytes(),
            text.as_bytes(),
            base_text.as_bytes(),
        ]);
        Ok(Sweep {
            path: sweep_toml.to_path_buf(),
            key: cfg.key,
            values: cfg.values,
            trials,
            inputs,
            seed: cfg.seed.unwrap_or(0),
            prefix,
            base: cfg.base,
            base_path,
            tables,
            fingerprint,
        })
    }

    /// Number of (value, trial) jobs.
    pub fn jobs(&self) -> usize {
        self.values.len() * self.trials
    }

    /// The jobs of `shard`: the K-th of N contiguous, disjoint slices of `0..jobs()`
    /// (job j is value j / trials, trial j % trials).
    pub fn shard_jobs(&self, shard: Shard) -> Range<usize> {
        let n = self.jobs();
        n * shard.index / shard.count..n * (shard.index + 1) / shard.count
    }

    /// Where the journals of partial results live.
    pub fn parts_dir(&self) -> PathBuf {
        with_suffix(&self.prefix, ".sweep.parts")
    }

    fn journal_path(&self, shard: Shard) -> PathBuf {
        self.parts_dir()
            .join(format!("shard-{}-of-{}.journal", shard.index, shard.count))
    }

    /// Runs job `j` (value j / trials, trial j % trials).
    pub fn run_job(&self, j: usize) -> Result<SweepRow, CrossbarError> {
        let (k, t) = (j / self.trials, j % self.trials);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(((k as u64) << 32) | t as u64);
        let mut table = self.tables[k].clone();
        // Array seed as a non-negative TOML integer.
        let arr_seed = (rng.next_u64() >> 1) as i64;
        table.insert("seed".into(), toml::Value::Integer(arr_seed));
        let s = toml::to_string(&table).map_err(|e| CrossbarError::Input(e.to_string()))?;
        let xb = Crossbar::from_toml_str(&s, &self.base_path)?;
        let x: Vec<Vec<f64>> = (0..self.inputs)
            .map(|_| (0..xb.rows).map(|_| rng.random_range(0.0..=1.0)).collect())
            .collect();
        // Always solve the zero-wire reference too, for its error column.
        let bias = crate::crossbar::Bias::mvm(&xb, &vec![0.0; xb.rows]);
        let arr = crate::crossbar::Array::bind(&xb, &bias)?;
        let rep = crate::crossbar::ops::mvm_once(arr, &x, true)?;
        let ps = &rep.err_analog.per_sample_norm;
        let row = SweepRow {
            value: self.values[k],
            trial: t,
            rms_error: rep.err_analog.rms,
            max_error: rep.err_analog.max,
            rms_error_adc: rep.err_digital.rms,
            max_error_adc: rep.err_digital.max,
            clip_rate: rep.clip_rate,
            norm_rel_error: ps.iter().sum::<f64>() / ps.len().max(1) as f64,
            newton_iterations: rep.iterations.iter().sum::<usize>() as f64
                / rep.iterations.len().max(1) as f64,
            rms_error_zero_wire: rep.err_zero_wire.rms,
            max_error_zero_wire: rep.err_zero_wire.max,
            rms_error_chord: rep.err_chord.rms,
            max_error_chord: rep.err_chord.max,
        };
        if let Some(bad) = row.metrics().iter().position(|x| !x.is_finite()) {
            return Err(CrossbarError::Solve(format!(
                "{} is not finite ({}); the array solve gave a non-finite column current",
                METRIC_NAMES[bad],
                row.metrics()[bad]
            )));
        }
        Ok(row)
    }

    fn row_of(&self, j: usize, m: [f64; N_METRICS]) -> SweepRow {
        SweepRow {
            value: self.values[j / self.trials],
            trial: j % self.trials,
            rms_error: m[0],
            max_error: m[1],
            rms_error_adc: m[2],
            max_error_adc: m[3],
            clip_rate: m[4],
            norm_rel_error: m[5],
            newton_iterations: m[6],
            rms_error_zero_wire: m[7],
            max_error_zero_wire: m[8],
            rms_error_chord: m[9],
            max_error_chord: m[10],
        }
    }

    fn journal_header(&self) -> String {
        format!(
            "# xbarsim sweep journal v2 fingerprint={:016x} jobs={}\n",
            self.fingerprint,
            self.jobs()
        )
    }

    /// Rows of one journal, or `None` when it belongs to another sweep (fingerprint). A last
    /// line cut short by an interruption is ignored.
    fn read_journal(&self, path: &Path) -> Result<Option<Vec<(usize, SweepRow)>>, CrossbarError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Some(Vec::new())),
            Err(e) => return Err(io_err(path, e)),
        };
        let mut lines = text.split_inclusive('\n');
        if lines.next() != Some(self.journal_header().as_str()) {
            return Ok(None);
        }
        let mut out = Vec::new();
        for (n, line) in lines.enumerate() {
            let Some(line) = line.strip_suffix('\n') else {
                break; // cut short while being written
            };
            let parse = || -> Option<(usize, [f64; N_METRICS])> {
                let mut f = line.split(',');
                let j: usize = f.next()?.parse().ok()?;
                let mut m = [0.0; N_METRICS];
                for x in &mut m {
                    *x = f64::from_bits(u64::from_str_radix(f.next()?, 16).ok()?);
                }
                (f.next().is_none() && j < self.jobs()).then_some((j, m))
            };
            let (j, m) = parse().ok_or_else(|| CrossbarError::Weights {
                file: path.to_path_buf(),
                line: n + 2,
                msg: "malformed journal line; delete the file to recompute its trials".into(),
            })?;
            out.push((j, self.row_of(j, m)));
        }
        Ok(Some(out))
    }

    /// Every journal in the parts directory: (path, rows or `None` if stale).
    fn journals(&self) -> Result<Vec<(PathBuf, Option<Vec<(usize, SweepRow)>>)>, CrossbarError> {
        let dir = self.parts_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&dir, e)),
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "journal"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|p| Ok((p.clone(), self.read_journal(&p)?)))
            .collect()
    }

    /// Runs the jobs of `shard` not yet in its journal (or, for [`Shard::ALL`], in any
    /// journal), appending each to the journal as it finishes. Returns the rows by job and
    /// how many were already done.
    fn run_shard(&self, shard: Shard) -> Result<(Vec<Option<SweepRow>>, usize), CrossbarError> {
        let mut done: Vec<Option<SweepRow>> = vec![None; self.jobs()];
        let own = self.journal_path(shard);
        let mut own_is_current = false;
        for (path, rows) in self.journals()? {
            let is_own = path == own;
            match rows {
                Some(rows) if is_own || shard == Shard::ALL => {
                    own_is_current |= is_own;
                    for (j, r) in rows {
                        done[j] = Some(r);
                    }
                }
                Some(_) => {}
                None if is_own => eprintln!(
                    "note: {} belongs to another version of the sweep; starting it afresh",
                    path.display()
                ),
                None => {}
            }
        }
        let range = self.shard_jobs(shard);
        let todo: Vec<usize> = range.clone().filter(|&j| done[j].is_none()).collect();
        let resumed = range.len() - todo.len();
        if todo.is_empty() {
            return Ok((done, resumed));
        }

        let dir = self.parts_dir();
        fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
        let file = if own_is_current {
            // Drop a line cut short by an earlier interruption, then append after the rest.
            let text = fs::read(&own).map_err(|e| io_err(&own, e))?;
            let keep = text.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            let mut f = OpenOptions::new()
                .write(true)
                .open(&own)
                .map_err(|e| io_err(&own, e))?;
            f.set_len(keep as u64).map_err(|e| io_err(&own, e))?;
            f.seek(SeekFrom::End(0)).map_err(|e| io_err(&own, e))?;
            f
        } else {
            let mut f = File::create(&own).map_err(|e| io_err(&own, e))?;
            f.write_all(self.journal_header().as_bytes())
                .map_err(|e| io_err(&own, e))?;
            f
        };
        let journal = Mutex::new(file);

        let pb = progress(range.len() as u64, resumed as u64);
        let results: Vec<Result<SweepRow, CrossbarError>> = todo
            .par_iter()
            .map(|&j| {
                let row = self.run_job(j)?;
                let mut line = j.to_string();
                for x in row.metrics() {
                    line += &format!(",{:016x}", x.to_bits());
                }
                line.push('\n');
                // One write per line: an interruption loses at most this line.
                let mut f = journal.lock().unwrap_or_else(|e| e.into_inner());
                f.write_all(line.as_bytes()).map_err(|e| io_err(&own, e))?;
                pb.inc(1);
                Ok(row)
            })
            .collect();
        pb.finish_and_clear();
        for (r, &j) in results.into_iter().zip(&todo) {
            let row = r.map_err(|e| {
                let (k, t) = (j / self.trials, j % self.trials);
                CrossbarError::Config {
                    file: self.path.clone(),
                    key: self.key.clone(),
                    msg: format!("value {} trial {t}: {e}", self.values[k]),
                }
            })?;
            done[j] = Some(row);
        }
        Ok((done, resumed))
    }

    /// Removes the journals once the results are written.
    fn remove_parts(&self) {
        if let Ok(entries) = fs::read_dir(self.parts_dir()) {
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "journal") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let _ = fs::remove_dir(self.parts_dir());
    }

    /// Writes `PREFIX.sweep.csv` and the figures from the complete set of rows.
    fn write_results(
        &self,
        rows: Vec<SweepRow>,
        resumed: usize,
    ) -> Result<SweepSummary, CrossbarError> {
        let mut s = String::from(
            "value,trial,rms_error,max_error,rms_error_adc,max_error_adc,clip_rate,norm_rel_error,newton_iterations,\
             rms_error_zero_wire,max_error_zero_wire,rms_error_chord,max_error_chord\n",
        );
        for r in &rows {
            s += &format!(
                "{:.12e},{},{:.9e},{:.9e},{:.9e},{:.9e},{:.6e},{:.9e},{:.3},{:.9e},{:.9e},{:.9e},{:.9e}\n",
                r.value,
                r.trial,
                r.rms_error,
                r.max_error,
                r.rms_error_adc,
                r.max_error_adc,
                r.clip_rate,
                r.norm_rel_error,
                r.newton_iterations,
                r.rms_error_zero_wire,
                r.max_error_zero_wire,
                r.rms_error_chord,
                r.max_error_chord
            );
        }
        let csv = with_suffix(&self.prefix, ".sweep.csv");
        write_text_atomic(&csv, &s).map_err(|e| io_err(&csv, e))?;

        let trials = self.trials;
        let per_value = |f: fn(&SweepRow) -> f64| -> Vec<(f64, f64)> {
            (0..self.values.len())
                .map(|k| {
                    let v: Vec<f64> = rows[k * trials..(k + 1) * trials].iter().map(f).collect();
                    mean_p95(&v)
                })
                .collect()
        };
        let an = per_value(|r| r.rms_error);
        let ad = per_value(|r| r.rms_error_adc);
        let pos = self.values.iter().all(|&v| v > 0.0);
        let (lo, hi) = self
            .values
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
        let y_pos = an.iter().chain(&ad).all(|&(m, p)| m > 0.0 && p > 0.0);
        let pts = |d: &[(f64, f64)], p95: bool| -> Vec<(f64, f64)> {
            self.values
                .iter()
                .zip(d)
                .map(|(&v, &(m, p))| (v, if p95 { p } else { m }))
                .collect()
        };
        let plot = LinePlot {
            title: format!(
                "{}: MVM error vs {} ({} trials per value)",
                self.base.display(),
                self.key,
                trials
            ),
            x_label: match key_unit(&self.key) {
                Some(u) => format!("{} ({u})", self.key),
                None => self.key.clone(),
            },
            y_label: "RMS error (fraction of max |I*| per vector)".into(),
            x_log: pos && hi / lo >= 100.0,
            y_log: y_pos,
            series: vec![
                Series::new(
                    "analog: mean",
                    pts(&an, false),
                    SeriesStyle::line_and_markers(),
                ),
                Series::new("analog: p95", pts(&an, true), SeriesStyle::dashed()),
                Series::new(
                    "after ADC: mean",
                    pts(&ad, false),
                    SeriesStyle::line_and_markers(),
                ),
                Series::new("after ADC: p95", pts(&ad, true), SeriesStyle::dashed()),
            ],
        };
        let stem = with_suffix(&self.prefix, ".sweep");
        let out = write_line_plot(&plot, &stem).map_err(|e| io_err(&stem, e))?;
        Ok(SweepSummary {
            key: self.key.clone(),
            values: self.values.clone(),
            trials,
            rows,
            mean_rms_error: an.iter().map(|x| x.0).collect(),
            p95_rms_error: an.iter().map(|x| x.1).collect(),
            mean_rms_error_adc: ad.iter().map(|x| x.0).collect(),
            p95_rms_error_adc: ad.iter().map(|x| x.1).collect(),
            resumed,
            csv,
            svg: out.svg,
            png: out.png,
        })
    }
}

fn progress(len: u64, pos: u64) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(
        Some(len),
        if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    pb.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} trials, {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_position(pos);
    pb
}

/// Runs a parameter sweep described by `sweep_toml`:
///
/// ```toml
/// base = "crossbar_1t1r_oxram.toml"   # crossbar config, relative to this file
/// key = "wires.r_row"                 # dotted config key to vary
/// values = [0.1, 0.3, 1.0, 3.0]       # its values (integers for rows, cols, *.bits)
/// trials = 16                         # Monte Carlo trials per value (default 8)
/// seed = 1                            # default 0
/// inputs = 4                          # random input vectors per trial (default 4)
/// out = "r_row_sweep"                 # output prefix (default: this file without extension)
/// ```
/// Every (value, trial) runs in parallel (rayon); trial t of value k draws the array seed
/// (weights, D2D) and its inputs from ChaCha8(seed) on stream (k << 32 | t), so results do not
/// depend on the thread count. Writes `PREFIX.sweep.csv` and `PREFIX.sweep.{svg,png}` (mean and
/// 95th percentile over trials of the RMS error, before and after the ADC, vs the value).
/// A progress bar is drawn on stderr when it is a terminal.
///
/// Finished trials are journalled in `PREFIX.sweep.parts/` as they complete; an interrupted
/// run resumes from them (and from shard journals) when run again, and the journals are
/// removed once the results are written.
pub fn sweep_command(sweep_toml: &Path) -> Result<SweepSummary, CrossbarError> {
    let sweep = Sweep::load(sweep_toml)?;
    let (done, resumed) = sweep.run_shard(Shard::ALL)?;
    let rows = done
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect();
    let summary = sweep.write_results(rows, resumed)?;
    sweep.remove_parts();
    Ok(summary)
}

/// What one shard did.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardSummary {
    pub shard: Shard,
    /// Jobs of this shard (a slice of the (value, trial) grid).
    pub jobs: Range<usize>,
    /// Of which already in the journal from an earlier run.
    pub resumed: usize,
    pub journal: PathBuf,
}

impl fmt::Display for ShardSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "shard {}: {} trials done (jobs {}..{}; {} from an earlier run) → {}",
            self.shard,
            self.jobs.len(),
            self.jobs.start,
            self.jobs.end,
            self.resumed,
            self.journal.display()
        )
    }
}

/// Runs shard `shard` of the sweep (`xbar sweep SWEEP --shard K/N`): its slice of the
/// (value, trial) grid, journalled in `PREFIX.sweep.parts/shard-K-of-N.journal`. Re-running a
/// shard after an interruption does only the trials missing from its journal.
pub fn sweep_shard(sweep_toml: &Path, shard: Shard) -> Result<ShardSummary, CrossbarError> {
    let sweep = Sweep::load(sweep_toml)?;
    let (_, resumed) = sweep.run_shard(shard)?;
    Ok(ShardSummary {
        shard,
        jobs: sweep.shard_jobs(shard),
        resumed,
        journal: sweep.journal_path(shard),
    })
}

/// Combines the shards' journals into the CSV and figures a single-process run writes, at the
/// same paths (`xbar sweep merge SWEEP`). Fails, naming the shards to re-run, when a trial is
/// missing; removes the journals on success.
pub fn sweep_merge(sweep_toml: &Path) -> Result<SweepSummary, CrossbarError> {
    let sweep = Sweep::load(sweep_toml)?;
    let mut rows: Vec<Option<SweepRow>> = vec![None; sweep.jobs()];
    let mut shards: Vec<Shard> = Vec::new();
    for (path, found) in sweep.journals()? {
        let Some(found) = found else {
            eprintln!(
                "note: ignoring {} (written for another version of the sweep)",
                path.display()
            );
            continue;
        };
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if let Some(s) = name
            .strip_prefix("shard-")
            .and_then(|s| s.split_once("-of-"))
            .and_then(|(k, n)| format!("{k}/{n}").parse().ok())
        {
            shards.push(s);
        }
        for (j, r) in found {
            match &rows[j] {
                Some(prev) if *prev != r => {
                    return Err(CrossbarError::Input(format!(
                        "{}: trial {j} differs from another shard's result for it \
                         (bit-for-bit reproducibility broken; was the sweep run with different builds?)",
                        path.display()
                    )))
                }
                _ => rows[j] = Some(r),
            }
        }
    }
    let missing: Vec<usize> = (0..sweep.jobs()).filter(|&j| rows[j].is_none()).collect();
    if !missing.is_empty() {
        // Name the shards (of the largest sharding seen) that still owe trials.
        let n = shards.iter().map(|s| s.count).max().unwrap_or(1);
        let owing: Vec<String> = (0..n)
            .map(|k| Shard { index: k, count: n })
            .filter(|&s| {
                let r = sweep.shard_jobs(s);
                missing.iter().any(|j| r.contains(j))
            })
            .map(|s| s.to_string())
            .collect();
        return Err(CrossbarError::Input(format!(
            "{}: {} of {} trials missing from the partial results in {}; re-run shard(s) {} \
             (`xbar sweep {} --shard K/N`), then merge again",
            sweep.path.display(),
            missing.len(),
            sweep.jobs(),
            sweep.parts_dir().display(),
            owing.join(", "),
            sweep.path.display()
        )));
    }
    let n = rows.len();
    let summary = sweep.write_results(rows.into_iter().flatten().collect(), n)?;
    sweep.remove_parts();
    Ok(summary)
}

/// Options of `xbar sweep SWEEP --slurm`.
#[derive(Clone, Debug, Default)]
pub struct SlurmOptions {
    /// Tasks in the job array (default: min(trials in the sweep, 16)).
    pub array_size: Option<usize>,
    pub partition: Option<String>,
}

/// The scripts written for a Slurm run.
#[derive(Clone, Debug, PartialEq)]
pub struct SlurmScripts {
    pub array: PathBuf,
    pub merge: PathBuf,
    pub array_size: usize,
}

/// A path quoted for bash.
fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// Writes `PREFIX.sweep.array.sbatch` (a job array: task K runs `xbar sweep SWEEP --shard K/N`)
/// and `PREFIX.sweep.merge.sbatch` (`xbar sweep merge SWEEP`), calling the `xbar` at `xbar`.
/// Submit the merge with `--dependency=afterok:ARRAY_JOB` (see [`submit_slurm`]).
pub fn write_slurm(
    sweep_toml: &Path,
    xbar: &Path,
    opts: &SlurmOptions,
) -> Result<SlurmScripts, CrossbarError> {
    let sweep = Sweep::load(sweep_toml)?;
    let n = opts.array_size.unwrap_or(sweep.jobs().min(16));
    if n == 0 {
        return Err(CrossbarError::Input(
            "--array-size must be at least 1".into(),
        ));
    }
    let abs = |p: &Path| -> Result<PathBuf, CrossbarError> {
        std::path::absolute(p).map_err(|e| io_err(p, e))
    };
    let sweep_abs = abs(sweep_toml)?;
    let prefix_abs = abs(&sweep.prefix)?;
    let dir = sweep_abs.parent().unwrap_or(Path::new("/")).to_path_buf();
    let stem = prefix_abs
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sweep".into());
    let log = |what: &str| with_suffix(&prefix_abs, &format!(".sweep.{what}"));
    let head = |name: &str, out: PathBuf| {
        let mut s = format!(
            "#!/bin/bash\n# Written by `xbar sweep --slurm` for {}\n#SBATCH --job-name={name}\n#SBATCH --chdir={}\n#SBATCH --output={}\n",
            sweep_abs.display(),
            dir.display(),
            out.display()
        );
        if let Some(p) = &opts.partition {
            s += &format!("#SBATCH --partition={p}\n");
        }
        s
    };
    let mut array = head(&format!("xbar-{stem}"), log("slurm-%A_%a.out"));
    array += &format!(
        "#SBATCH --array=0-{}\n# One rayon thread per allocated CPU.\nexport RAYON_NUM_THREADS=${{SLURM_CPUS_PER_TASK:-1}}\nexec {} sweep {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{n}\"\n",
        n - 1,
        sh_quote(xbar),
        sh_quote(&sweep_abs)
    );
    let mut merge = head(&format!("xbar-{stem}-merge"), log("slurm-merge-%j.out"));
    merge += &format!(
        "exec {} sweep merge {}\n",
        sh_quote(xbar),
        sh_quote(&sweep_abs)
    );
    let scripts = SlurmScripts {
        array: log("array.sbatch"),
        merge: log("merge.sbatch"),
        array_size: n,
    };
    write_text_atomic(&scripts.array, &array).map_err(|e| io_err(&scripts.array, e))?;
    write_text_atomic(&scripts.merge, &merge).map_err(|e| io_err(&scripts.merge, e))?;
    Ok(scripts)
}

/// Submits the array, then the merge with `--dependency=afterok:` on it; returns both job ids.
pub fn submit_slurm(scripts: &SlurmScripts) -> Result<(String, String), CrossbarError> {
    let sbatch = |args: &[&str], file: &Path| -> Result<String, CrossbarError> {
        let out = std::process::Command::new("sbatch")
            .arg("--parsable")
            .args(args)
            .arg(file)
            .output()
            .map_err(|e| io_err(file, format!("cannot run sbatch: {e}")))?;
        if !out.status.success() {
            return Err(io_err(
                file,
                format!(
                    "sbatch failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            ));
        }
        let id = String::from_utf8_lossy(&out.stdout);
        // `--parsable` prints `jobid` or `jobid;cluster`.
        Ok(id.trim().split(';').next().unwrap_or("").to_string())
    };
    let array = sbatch(&[], &scripts.array)?;
    let merge = sbatch(&[&format!("--dependency=afterok:{array}")], &scripts.merge)?;
    Ok((array, merge))
}
