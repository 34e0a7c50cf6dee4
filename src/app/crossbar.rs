//! Library side of the `xbar crossbar …` commands: each takes paths, does the work, writes
//! its files atomically and returns a summary with a `Display` for the CLI to print.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::crossbar::config::Crossbar;
use crate::crossbar::netlist::export_netlist;
use crate::crossbar::network::Bias;
use crate::crossbar::ops::{
    energy, mvm_bound, read_cell, Energy, MvmReport, ReadReport, ReadScheme,
};
use crate::crossbar::output::write_text_atomic;
use crate::crossbar::solver::Array;
use crate::crossbar::CrossbarError;

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
        return Err(werr(0, "no input vectors".into()));
    }
    Ok(out)
}

/// Everything one MVM run computes: what [`mvm_command`] writes and the Python module returns.
pub struct MvmOutcome {
    pub report: MvmReport,
    /// Energy of each input vector at its (DAC-quantised) analog input levels.
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
    let mut arr = Array::bind(xb, &Bias::mvm(xb, &vec![0.0; xb.rows]))?;
    let report = mvm_bound(&mut arr, inputs)?;
    let mut energies = Vec::with_capacity(report.v_in.len());
    for v in &report.v_in {
        arr.set_bias(&Bias::mvm(xb, v))?;
        arr.solve()?;
        energies.push(energy(&arr));
    }
    Ok(MvmOutcome {
        report,
        energy: energies,
    })
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
    let out = mvm_outcome(&xb, &inputs)?;
    let rep = &out.report;
    let rel_error = out.rel_error();
    let e_tot: f64 = out.energy.iter().map(|e| e.e_total).sum();
    let e_wires: f64 = out.energy.iter().map(|e| e.e_wires).sum();
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
            let rel = rel_error[k][j];
            if batch {
                s += &format!("{k},");
            }
            s += &format!(
                "{j},{ideal:.12e},{:.12e},{code},{rel:.6e}\n",
                rep.analog[k][j]
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
// sweep: see `super::sweep` (re-exported here for the old paths).

pub use super::sweep::{sweep_command, SweepRow, SweepSummary};
