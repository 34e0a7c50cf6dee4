//! Library side of the `xbar crossbar …` commands: each takes paths, does the work, writes
//! its files atomically and returns a summary with a `Display` for the CLI to print.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::crossbar::config::{Crossbar, Reference};
use crate::crossbar::netlist::export_netlist;
use crate::crossbar::network::Bias;
use crate::crossbar::ops::{mvm_once, read_cell, Energy, MvmReport, ReadReport, ReadScheme};
use crate::crossbar::output::write_text_atomic;
use crate::crossbar::solver::Array;
use crate::crossbar::CrossbarError;
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
    /// What `rms_error` and `rms_error_adc` are measured against (`ideal`, `zero_wire`, `chord`).
    pub reference: &'static str,
    /// RMS error of the analog currents against the zero-wire solve (IR drop alone) and
    /// against the chord reference (IR drop and nonlinearity).
    pub rms_error_zero_wire: f64,
    pub rms_error_chord: f64,
    /// How the ADC range was set.
    pub adc_calibration: String,
    /// Mean converter energies per MVM (J): ADC (Walden or Schreier FOM), capacitive DAC,
    /// StrongARM sense amplifiers (`crossbar::periphery`).
    pub energy_adc: f64,
    pub energy_dac: f64,
    pub energy_sense: f64,
    /// Latency of one MVM (s): read pulses plus conversions.
    pub latency: f64,
    /// Periphery area (m²): ADCs, DACs, sense amplifiers (0 where no coefficient is given).
    pub area_periphery: f64,
    /// Seconds after programming at which the array was read.
    pub time_s: f64,
    pub csv: PathBuf,
}

impl MvmSummary {
    /// Energy of one MVM with its converters (J): the array's circuit energy (every solve, every
    /// bit plane) plus the ADC, DAC and sense-amplifier energies of their models.
    pub fn energy_total(&self) -> f64 {
        self.energy_per_mvm + self.energy_adc + self.energy_dac + self.energy_sense
    }
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
        writeln!(
            f,
            "  reference: {}; analog error vs zero-wire solve (IR drop) RMS {:.4e}, vs chord \
             (IR drop + nonlinearity) RMS {:.4e}; read at t = {} s after programming",
            self.reference, self.rms_error_zero_wire, self.rms_error_chord, self.time_s
        )?;
        writeln!(f, "  ADC range from: {}", self.adc_calibration)?;
        writeln!(
            f,
            "  energy per MVM: {:.4e} J ({:.4e} J in wires and periphery resistances)",
            self.energy_per_mvm, self.energy_wires
        )?;
        write!(
            f,
            "  converters per MVM: ADC {:.4e} J, DAC {:.4e} J, sense {:.4e} J; latency {:.4e} s; \
             periphery area {:.4e} m²",
            self.energy_adc, self.energy_dac, self.energy_sense, self.latency, self.area_periphery
        )?;
        write!(
            f,
            "\n  total per MVM (array + converters): {:.4e} J",
            self.energy_total()
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

/// Everything one MVM run computes: what [`mvm_command`] writes and the Python module returns.
pub struct MvmOutcome {
    pub report: MvmReport,
    /// Energy of each input vector (summed over its bit planes when bit-serial).
    pub energy: Vec<Energy>,
}

impl MvmOutcome {
    /// `rel_error` per vector and column: (ADC output − ideal)/|ideal| (analog without an ADC).
    pub fn rel_error(&self) -> Vec<Vec<f64>> {
        let rep = &self.report;
        rep.digital
            .iter()
            .zip(&rep.ideal)
            .map(|(d, i)| d.iter().zip(i).map(|(d, i)| (d - i) / i.abs()).collect())
            .collect()
    }
}

/// Binds `xb` once, multiplies every input vector (fractions of full scale in [0, 1]) and
/// measures each vector's energy.
pub fn mvm_outcome(xb: &Crossbar, inputs: &[Vec<f64>]) -> Result<MvmOutcome, CrossbarError> {
    let arr = Array::bind(xb, &Bias::mvm(xb, &vec![0.0; xb.rows]))?;
    // Zero-wire reference always solved: PREFIX.mvm.csv reports it beside the others.
    let report = mvm_once(arr, inputs, true)?;
    let energy = report.energy_per_vector.clone();
    Ok(MvmOutcome { report, energy })
}

/// Runs the MVM of `config` on the vectors of `inputs_csv` (all at full scale when `None`) and
/// writes `PREFIX.mvm.csv` (PREFIX defaults to the config path without extension) with columns
/// `column,ideal_a,analog_a,digital_code,rel_error` — one block per vector behind a leading
/// `vector` column when the CSV holds more than one. `ideal_a` is Σ V_i·G_ij with the
/// unquantised inputs, `analog_a` the solved column current, `digital_code` the ADC code (empty
/// without an ADC), `rel_error` = (ADC output − ideal)/|ideal| (analog when there is no ADC).
/// Then, after those: `zero_wire_a` (the same cells solved with zero wire resistance),
/// `chord_a` (Σ V·G_chord of the cells as read), `error_a` (ADC output − the config's
/// reference, signed, A), `rel_error_zero_wire` and `rel_error_chord` ((analog − that
/// reference)/|that reference|).
pub fn mvm_command(
    config: &Path,
    inputs_csv: Option<&Path>,
    prefix: Option<&Path>,
) -> Result<MvmSummary, CrossbarError> {
    mvm_command_at(config, inputs_csv, prefix, None)
}

/// [`mvm_command`] read `time_s` seconds after programming (overrides `[nonideal] time`).
pub fn mvm_command_at(
    config: &Path,
    inputs_csv: Option<&Path>,
    prefix: Option<&Path>,
    time_s: Option<f64>,
) -> Result<MvmSummary, CrossbarError> {
    let mut xb = Crossbar::from_toml_file(config)?;
    if let Some(t) = time_s {
        if !(t >= 0.0 && t.is_finite()) {
            return Err(CrossbarError::Input(format!(
                "--time must be ≥ 0 s, got {t}"
            )));
        }
        xb.effects.time_s = t;
    }
    let inputs = match inputs_csv {
        Some(p) => read_inputs_csv(p, xb.rows)?,
        None => vec![vec![1.0; xb.rows]],
    };
    let out = mvm_outcome(&xb, &inputs)?;
    let rep = &out.report;
    // Energy of every solve (every bit plane when bit-serial).
    let (e_tot, e_wires) = (rep.energy.e_total, rep.energy.e_wires);
    let nv = inputs.len() as f64;
    let batch = inputs.len() > 1;
    let reference = match xb.reference {
        Reference::Ideal => &rep.ideal,
        Reference::ZeroWire => &rep.zero_wire,
        Reference::Chord => &rep.chord,
    };
    const NEW_COLUMNS: &str = "zero_wire_a,chord_a,error_a,rel_error_zero_wire,rel_error_chord\n";
    let mut s = String::from(if batch {
        "vector,column,ideal_a,analog_a,digital_code,rel_error,"
    } else {
        "column,ideal_a,analog_a,digital_code,rel_error,"
    });
    s += NEW_COLUMNS;
    for k in 0..inputs.len() {
        for j in 0..xb.cols {
            let ideal = rep.ideal[k][j];
            let code = rep
                .codes
                .get(k)
                .map(|c| c[j].to_string())
                .unwrap_or_default();
            let place = || format!("column {j} of vector {k}");
            let fin = |name: &str, x: f64| {
                ensure_finite(name, place, x, SOLVE_CAUSE)
                    .map_err(|e| CrossbarError::Solve(e.to_string()))
            };
            // A relative error against a zero reference is undefined: left empty.
            let rel_to = |name: &str, x: f64, r: f64| -> Result<String, CrossbarError> {
                if r == 0.0 {
                    Ok(String::new())
                } else {
                    Ok(format!("{:.6e}", fin(name, (x - r) / r.abs())?))
                }
            };
            let a = fin("analog_a", rep.analog[k][j])?;
            let (zw, ch) = (fin("zero_wire_a", rep.zero_wire[k][j])?, rep.chord[k][j]);
            let rel = rel_to("rel_error", rep.digital[k][j], ideal)?;
            let err = fin("error_a", rep.digital[k][j] - reference[k][j])?;
            let (rel_zw, rel_ch) = (
                rel_to("rel_error_zero_wire", a, zw)?,
                rel_to("rel_error_chord", a, ch)?,
            );
            if batch {
                s += &format!("{k},");
            }
            s += &format!(
                "{j},{ideal:.12e},{a:.12e},{code},{rel},{zw:.12e},{ch:.12e},{err:.12e},{rel_zw},{rel_ch}\n"
            );
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
        reference: xb.reference.name(),
        rms_error_zero_wire: rep.err_zero_wire.rms,
        rms_error_chord: rep.err_chord.rms,
        adc_calibration: rep.adc_calibration.clone(),
        energy_adc: rep.periphery.e_adc / nv,
        energy_dac: rep.periphery.e_dac / nv,
        energy_sense: rep.periphery.e_sense / nv,
        latency: rep.periphery.latency_per_mvm,
        area_periphery: rep.periphery.area_adc + rep.periphery.area_dac + rep.periphery.area_sense,
        time_s: xb.effects.time_s,
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
    // The array as programmed and aged by its `[nonideal]` effects.
    let xb = Crossbar::from_toml_file(config)?.programmed()?;
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

/// Writes the MVM deck of `config` (every input at full scale) to `out` atomically: the
/// array as programmed and aged by its `[nonideal]` effects (levels, programming error,
/// faults, drift at `time`; per-read noise is not in the deck).
pub fn export_command(config: &Path, out: &Path) -> Result<(), CrossbarError> {
    let xb = Crossbar::from_toml_file(config)?.programmed()?;
    let deck = export_netlist(&xb)?;
    write_text_atomic(out, &deck).map_err(|e| io_err(out, e))
}

// ---------------------------------------------------------------------------------------------
// sweep: see `super::sweep` (re-exported here for the old paths).

pub use super::sweep::{sweep_command, SweepRow, SweepSummary};
