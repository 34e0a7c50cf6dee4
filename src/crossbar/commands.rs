//! Library side of the `xbar crossbar …` commands: each takes paths, does the work, writes
//! its files atomically and returns a summary with a `Display` for the CLI to print.

use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Deserialize;

use super::config::Crossbar;
use super::netlist::export_netlist;
use super::network::Bias;
use super::ops::{energy, mvm_bound, read_cell, ReadReport, ReadScheme};
use super::output::write_text_atomic;
use super::solver::Array;
use super::CrossbarError;
use crate::plot::{write_line_plot, LinePlot, Series, SeriesStyle};
use crate::report::{ensure_finite, SOLVE_CAUSE};

fn io_err(file: &Path, e: impl fmt::Display) -> CrossbarError {
    CrossbarError::Io {
        file: file.to_path_buf(),
        msg: e.to_string(),
    }
}

/// `dir/stem` of a path without its extension (`a/b.toml` → `a/b`).
fn default_prefix(p: &Path) -> PathBuf {
    p.with_extension("")
}

/// `PREFIX` + `suffix` (`run` + `.mvm.csv` → `run.mvm.csv`).
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

// ---------------------------------------------------------------------------------------------
// mvm

/// Summary of one `mvm` run. Errors are normalised per input vector by its largest |I*_j|
/// (see `ErrorStats`); energies in J.
#[derive(Clone, Debug, PartialEq)]
pub struct MvmSummary {
    pub vectors: usize,
    pub rows: usize,
    pub cols: usize,
    /// Analog column currents against the ideal with the DAC-quantised inputs.
    pub rms_error: f64,
    pub max_error: f64,
    /// ADC output against the ideal with the unquantised inputs (end to end).
    pub rms_error_adc: f64,
    pub max_error_adc: f64,
    /// Fraction of ADC conversions that clipped (0 without an ADC).
    pub clip_rate: f64,
    /// ADC full scale (A); 0 without an ADC.
    pub adc_full_scale: f64,
    /// Mean energy of one MVM over the read pulse (J): sources' power × t_read.
    pub energy_per_mvm: f64,
    /// Mean energy dissipated in wires, drivers and sense resistances (J).
    pub energy_wires: f64,
    pub csv: PathBuf,
}

impl fmt::Display for MvmSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} input vector(s) on a {}×{} array → {}",
            self.vectors,
            self.rows,
            self.cols,
            self.csv.display()
        )?;
        writeln!(
            f,
            "  error before ADC: RMS {:.4e}, max {:.4e} (of max |I*| per vector)",
            self.rms_error, self.max_error
        )?;
        writeln!(
            f,
            "  error after ADC:  RMS {:.4e}, max {:.4e}; clipping {:.2} %, full scale {:.4e} A",
            self.rms_error_adc,
            self.max_error_adc,
            100.0 * self.clip_rate,
            self.adc_full_scale
        )?;
        write!(
            f,
            "  energy per MVM: {:.4e} J ({:.4e} J in wires and periphery resistances)",
            self.energy_per_mvm, self.energy_wires
        )
    }
}

/// Reads input vectors (fractions of full scale in [0, 1]): one row per vector, comma
/// separated, `#` comments; a first line that is not numeric is taken as a header.
pub fn read_inputs_csv(path: &Path, rows: usize) -> Result<Vec<Vec<f64>>, CrossbarError> {
    let text = std::fs::read_to_string(path).map_err(|e| io_err(path, e))?;
    let werr = |line: usize, msg: String| CrossbarError::Weights {
        file: path.to_path_buf(),
        line,
        msg,
    };
    let mut out = Vec::new();
    let mut first = true;
    for (ln, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = t.split(',').map(str::trim).collect();
        if first && fields[0].parse::<f64>().is_err() {
            first = false;
            continue; // header
        }
        first = false;
        let mut v = Vec::with_capacity(rows);
        for f in &fields {
            let x: f64 = f
                .parse()
                .map_err(|_| werr(ln + 1, format!("not a number: {f:?}")))?;
            if !(0.0..=1.0).contains(&x) {
                // (NaN is not contained either.)
                return Err(werr(ln + 1, format!("input {x} outside [0, 1]")));
            }
            v.push(x);
        }
        if v.len() != rows {
            return Err(werr(
                ln + 1,
                format!("{} values, expected rows = {rows}", v.len()),
            ));
        }
        out.push(v);
    }
    if out.is_empty() {
        return Err(werr(text.lines().count().max(1), "no input vectors".into()));
    }
    Ok(out)
}

/// Runs the MVM of `config` on the vectors of `inputs_csv` (all at full scale when `None`) and
/// writes `PREFIX.mvm.csv` (PREFIX defaults to the config path without extension) with columns
/// `column,ideal_a,analog_a,digital_code,rel_error` — one block per vector behind a leading
/// `vector` column when the CSV holds more than one. `ideal_a` is Σ V_i·G_ij with the
/// unquantised inputs, `analog_a` the solved column current, `digital_code` the ADC code (empty
/// without an ADC), `rel_error` = (ADC output − ideal)/|ideal| (analog when there is no ADC).
pub fn mvm_command(
    config: &Path,
    inputs_csv: Option<&Path>,
    prefix: Option<&Path>,
) -> Result<MvmSummary, CrossbarError> {
    let xb = Crossbar::from_toml_file(config)?;
    let inputs = match inputs_csv {
        Some(p) => read_inputs_csv(p, xb.rows)?,
        None => vec![vec![1.0; xb.rows]],
    };
    let mut arr = Array::bind(&xb, &Bias::mvm(&xb, &vec![0.0; xb.rows]))?;
    let rep = mvm_bound(&mut arr, &inputs)?;
    // Energy per vector at its (DAC-quantised) analog input levels.
    let (mut e_tot, mut e_wires) = (0.0, 0.0);
    for v in &rep.v_in {
        arr.set_bias(&Bias::mvm(&xb, v))?;
        arr.solve()?;
        let e = energy(&arr);
        e_tot += e.e_total;
        e_wires += e.e_wires;
    }
    let nv = inputs.len() as f64;
    let batch = inputs.len() > 1;
    let mut s = String::from(if batch {
        "vector,column,ideal_a,analog_a,digital_code,rel_error\n"
    } else {
        "column,ideal_a,analog_a,digital_code,rel_error\n"
    });
    for k in 0..inputs.len() {
        for j in 0..xb.cols {
            let ideal = rep.ideal[k][j];
            let code = rep
                .codes
                .get(k)
                .map(|c| c[j].to_string())
                .unwrap_or_default();
            let place = || format!("column {j} of vector {k}");
            let analog = ensure_finite("analog_a", place, rep.analog[k][j], SOLVE_CAUSE)
                .map_err(|e| CrossbarError::Solve(e.to_string()))?;
            // The relative error of a zero ideal output is undefined: left empty.
            let rel = if ideal == 0.0 {
                String::new()
            } else {
                let r = (rep.digital[k][j] - ideal) / ideal.abs();
                let r = ensure_finite("rel_error", place, r, SOLVE_CAUSE)
                    .map_err(|e| CrossbarError::Solve(e.to_string()))?;
                format!("{r:.6e}")
            };
            if batch {
                s += &format!("{k},");
            }
            s += &format!("{j},{ideal:.12e},{analog:.12e},{code},{rel}\n");
        }
    }
    let prefix = prefix.map_or_else(|| default_prefix(config), Path::to_path_buf);
    let csv = with_suffix(&prefix, ".mvm.csv");
    write_text_atomic(&csv, &s).map_err(|e| io_err(&csv, e))?;
    Ok(MvmSummary {
        vectors: inputs.len(),
        rows: xb.rows,
        cols: xb.cols,
        rms_error: rep.err_analog.rms,
        max_error: rep.err_analog.max,
        rms_error_adc: rep.err_digital.rms,
        max_error_adc: rep.err_digital.max,
        clip_rate: rep.clip_rate,
        adc_full_scale: rep.adc_full_scale,
        energy_per_mvm: e_tot / nv,
        energy_wires: e_wires / nv,
        csv,
    })
}

// ---------------------------------------------------------------------------------------------
// read

/// Parses a read scheme name: `floating`, `v/2` (or `half`), `v/3` (or `third`), `grounded`.
pub fn parse_read_scheme(s: &str) -> Result<ReadScheme, CrossbarError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "floating" | "float" => Ok(ReadScheme::Floating),
        "v/2" | "half" => Ok(ReadScheme::Half),
        "v/3" | "third" => Ok(ReadScheme::Third),
        "grounded" | "ground" => Ok(ReadScheme::Grounded),
        other => Err(CrossbarError::Input(format!(
            "read scheme `{other}`: expected floating, v/2, v/3 or grounded"
        ))),
    }
}

/// Reads cell (`row`, physical column `col`) of `config` at `v` volts (default: the config's
/// v_read) with unselected lines biased per `scheme`.
pub fn read_command(
    config: &Path,
    row: usize,
    col: usize,
    scheme: &str,
    v: Option<f64>,
) -> Result<ReadReport, CrossbarError> {
    let xb = Crossbar::from_toml_file(config)?;
    let scheme = parse_read_scheme(scheme)?;
    let v = v.unwrap_or(xb.v_read);
    if !(v.is_finite() && v > 0.0) {
        return Err(CrossbarError::Input(format!(
            "read voltage must be > 0 V, got {v}"
        )));
    }
    read_cell(&xb, row, col, v, scheme)
}

// ---------------------------------------------------------------------------------------------
// export

/// Writes the MVM deck of `config` (every input at full scale) to `out` atomically.
pub fn export_command(config: &Path, out: &Path) -> Result<(), CrossbarError> {
    let xb = Crossbar::from_toml_file(config)?;
    let deck = export_netlist(&xb)?;
    write_text_atomic(out, &deck).map_err(|e| io_err(out, e))
}

// ---------------------------------------------------------------------------------------------
// sweep

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
        "t_read" => "s",
        "kp" => "A/V²",
        "i_s" | "i_max" => "A",
        "bits" => "bits",
        _ => return None,
    })
}

/// Config keys whose values are integers in the TOML form.
const INTEGER_KEYS: &[&str] = &["rows", "cols", "seed", "dac.bits", "adc.bits"];

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
pub fn sweep_command(sweep_toml: &Path) -> Result<SweepSummary, CrossbarError> {
    let text = std::fs::read_to_string(sweep_toml).map_err(|e| io_err(sweep_toml, e))?;
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
    let base_text = std::fs::read_to_string(&base_path)
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
    let n_inputs = cfg.inputs.unwrap_or(4);
    if n_inputs == 0 {
        return Err(bad("inputs", "must be at least 1".into()));
    }
    if cfg.key == "seed" {
        return Err(bad("key", "`seed` is set per trial by the sweep".into()));
    }
    let integer = INTEGER_KEYS.contains(&cfg.key.as_str());
    let seed = cfg.seed.unwrap_or(0);

    // One TOML text per value, checked up front (trial 0) so a bad value fails before the run.
    let mut texts = Vec::with_capacity(cfg.values.len());
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
        set_dotted(&mut t, &cfg.key, val).map_err(|m| bad("key", format!("`{}`: {m}", cfg.key)))?;
        t.insert("seed".into(), toml::Value::Integer(0));
        let s = toml::to_string(&t).map_err(|e| bad("key", e.to_string()))?;
        Crossbar::from_toml_str(&s, &base_path).map_err(|e| {
            bad(
                &cfg.key,
                format!("value {v} (values[{k}]) does not give a valid array: {e}"),
            )
        })?;
        texts.push(t);
    }

    let jobs: Vec<(usize, usize)> = (0..cfg.values.len())
        .flat_map(|k| (0..trials).map(move |t| (k, t)))
        .collect();
    let pb = ProgressBar::with_draw_target(
        Some(jobs.len() as u64),
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
    let results: Vec<Result<SweepRow, CrossbarError>> = jobs
        .par_iter()
        .map(|&(k, t)| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(((k as u64) << 32) | t as u64);
            let mut table = texts[k].clone();
            // Array seed as a non-negative TOML integer.
            let arr_seed = (rng.next_u64() >> 1) as i64;
            table.insert("seed".into(), toml::Value::Integer(arr_seed));
            let s = toml::to_string(&table).map_err(|e| CrossbarError::Input(e.to_string()))?;
            let xb = Crossbar::from_toml_str(&s, &base_path)?;
            let x: Vec<Vec<f64>> = (0..n_inputs)
                .map(|_| (0..xb.rows).map(|_| rng.random_range(0.0..=1.0)).collect())
                .collect();
            let rep = super::ops::mvm(&xb, &x)?;
            pb.inc(1);
            let ps = &rep.err_analog.per_sample_norm;
            Ok(SweepRow {
                value: cfg.values[k],
                trial: t,
                rms_error: rep.err_analog.rms,
                max_error: rep.err_analog.max,
                rms_error_adc: rep.err_digital.rms,
                max_error_adc: rep.err_digital.max,
                clip_rate: rep.clip_rate,
                norm_rel_error: ps.iter().sum::<f64>() / ps.len().max(1) as f64,
                newton_iterations: rep.iterations.iter().sum::<usize>() as f64
                    / rep.iterations.len().max(1) as f64,
            })
        })
        .collect();
    pb.finish_and_clear();
    let rows: Vec<SweepRow> = results
        .into_iter()
        .zip(&jobs)
        .map(|(r, &(k, t))| {
            r.map_err(|e| bad(&cfg.key, format!("value {} trial {t}: {e}", cfg.values[k])))
        })
        .collect::<Result<_, _>>()?;

    let prefix = cfg
        .out
        .as_ref()
        .map_or_else(|| default_prefix(sweep_toml), |p| dir.join(p));
    let mut s = String::from(
        "value,trial,rms_error,max_error,rms_error_adc,max_error_adc,clip_rate,norm_rel_error,newton_iterations\n",
    );
    for r in &rows {
        s += &format!(
            "{:.12e},{},{:.9e},{:.9e},{:.9e},{:.9e},{:.6e},{:.9e},{:.3}\n",
            r.value,
            r.trial,
            r.rms_error,
            r.max_error,
            r.rms_error_adc,
            r.max_error_adc,
            r.clip_rate,
            r.norm_rel_error,
            r.newton_iterations
        );
    }
    let csv = with_suffix(&prefix, ".sweep.csv");
    write_text_atomic(&csv, &s).map_err(|e| io_err(&csv, e))?;

    let per_value = |f: fn(&SweepRow) -> f64| -> Vec<(f64, f64)> {
        (0..cfg.values.len())
            .map(|k| {
                let v: Vec<f64> = rows[k * trials..(k + 1) * trials].iter().map(f).collect();
                mean_p95(&v)
            })
            .collect()
    };
    let an = per_value(|r| r.rms_error);
    let ad = per_value(|r| r.rms_error_adc);
    let pos = cfg.values.iter().all(|&v| v > 0.0);
    let (lo, hi) = cfg
        .values
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
    let y_pos = an.iter().chain(&ad).all(|&(m, p)| m > 0.0 && p > 0.0);
    let pts = |d: &[(f64, f64)], p95: bool| -> Vec<(f64, f64)> {
        cfg.values
            .iter()
            .zip(d)
            .map(|(&v, &(m, p))| (v, if p95 { p } else { m }))
            .collect()
    };
    let plot = LinePlot {
        title: format!(
            "{}: MVM error vs {} ({} trials per value)",
            cfg.base.display(),
            cfg.key,
            trials
        ),
        x_label: match key_unit(&cfg.key) {
            Some(u) => format!("{} ({u})", cfg.key),
            None => cfg.key.clone(),
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
    let stem = with_suffix(&prefix, ".sweep");
    let out = write_line_plot(&plot, &stem).map_err(|e| io_err(&stem, e))?;
    Ok(SweepSummary {
        key: cfg.key.clone(),
        values: cfg.values.clone(),
        trials,
        rows,
        mean_rms_error: an.iter().map(|x| x.0).collect(),
        p95_rms_error: an.iter().map(|x| x.1).collect(),
        mean_rms_error_adc: ad.iter().map(|x| x.0).collect(),
        p95_rms_error_adc: ad.iter().map(|x| x.1).collect(),
        csv,
        svg: out.svg,
        png: out.png,
    })
}
