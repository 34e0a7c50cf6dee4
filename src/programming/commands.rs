//! Library side of `xbar pulse`, `xbar program` and `xbar stdp`: paths in, files written
//! atomically, a summary with a `Display` out.

use std::fmt;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::crossbar::config::read_weight_csv;
use crate::crossbar::law::CellLaw;
use crate::crossbar::output::write_text_atomic;
use crate::crossbar::program::read_window;
use crate::crossbar::{CellKind, Crossbar};

use super::config::load_config;
use super::pulse::{
    bind_for, cell_rngs, reduced_drive, reduced_row, reducible, row_rngs, run_drive, Drive,
    Unselected, ADVANCE_SALT,
};
use super::stdp::{dt_grid, window, PairRule, WindowPoint};
use super::verify::{program_array, Plan, ProgramReport, Scheme};
use super::waveform::Pwl;
use super::{flag, ProgError};

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn write(path: &Path, text: &str) -> Result<(), ProgError> {
    write_text_atomic(path, text).map_err(|e| ProgError::File {
        file: path.to_path_buf(),
        msg: e.to_string(),
    })
}

// ---------------------------------------------------------------------------------------------
// xbar pulse

pub struct PulseArgs {
    pub config: PathBuf,
    pub cell: (usize, usize),
    /// Cell voltage amplitude (V); negative = RESET.
    pub v: f64,
    /// Flat-top width (s).
    pub width: f64,
    /// Unselected-line scheme; default the config's `program.unselected`.
    pub scheme: Option<String>,
    /// Gate voltage of the selected word line (V); default the config's v_gate.
    pub v_gate: Option<f64>,
    pub prefix: Option<PathBuf>,
}

pub struct PulseSummary {
    pub csv: PathBuf,
    pub cell: (usize, usize),
    pub g_before: f64,
    pub g_after: f64,
    /// Largest |ΔG/G| of any other cell, and where.
    pub worst_disturb: (f64, usize, usize),
    pub energy_j: f64,
    pub steps: usize,
    pub reduced: bool,
    /// Per cell, row-major over physical columns: (G before, G after) (S).
    pub g: Vec<(f64, f64)>,
    pub cols: usize,
}

impl fmt::Display for PulseSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cell ({}, {})   G {:.6e} S -> {:.6e} S ({:+.3} %)",
            self.cell.0,
            self.cell.1,
            self.g_before,
            self.g_after,
            100.0 * (self.g_after / self.g_before - 1.0)
        )?;
        let (d, i, j) = self.worst_disturb;
        writeln!(f, "worst disturb   {:+.3e} (relative) at ({i}, {j})", d)?;
        writeln!(
            f,
            "energy          {:.4e} J, {} time steps{}",
            self.energy_j,
            self.steps,
            if self.reduced {
                " (exact two-row reduction)"
            } else {
                ""
            }
        )?;
        write!(f, "wrote           {}", self.csv.display())
    }
}

/// Applies one rectangular pulse to a cell of the config's array and writes
/// `PREFIX.disturb.csv` (`row,col,g_before_s,g_after_s`).
pub fn pulse_command(a: &PulseArgs) -> Result<PulseSummary, ProgError> {
    let loaded = load_config(&a.config)?;
    let mut xb = loaded.xb;
    let (row, col) = a.cell;
    if row >= xb.rows || col >= xb.phys_cols() {
        return Err(flag(
            "--cell",
            format!(
                "{row},{col} is outside the {}×{} array",
                xb.rows,
                xb.phys_cols()
            ),
        ));
    }
    if !(a.width > 0.0 && a.width.is_finite()) {
        return Err(flag("--width", format!("{} s must be > 0", a.width)));
    }
    if !a.v.is_finite() {
        return Err(flag("--v", format!("{} V is not a number", a.v)));
    }
    let scheme: Unselected = a
        .scheme
        .as_deref()
        .unwrap_or(&loaded.program.unselected)
        .parse()
        .map_err(|e: ProgError| flag("--scheme", e.to_string()))?;
    let pulse = Pwl::pulse(a.v, a.width, loaded.program.edge);
    let gate = a.v_gate.unwrap_or(xb.v_gate);
    let seed = loaded.program.seed.unwrap_or(xb.seed);
    let (before, stats, reduced) = apply_pulse(&mut xb, row, col, &pulse, gate, scheme, seed)?;
    let pc = xb.phys_cols();
    let after: Vec<f64> = xb
        .cells
        .iter()
        .map(|c| c.read_conductance(xb.v_read, xb.temp_k))
        .collect();
    let mut s = String::from("row,col,g_before_s,g_after_s\n");
    let mut worst = (0.0f64, 0, 0);
    for k in 0..before.len() {
        let (i, j) = (k / pc, k % pc);
        s += &format!("{i},{j},{:.12e},{:.12e}\n", before[k], after[k]);
        let d = after[k] / before[k] - 1.0;
        if (i, j) != (row, col) && d.abs() > worst.0.abs() {
            worst = (d, i, j);
        }
    }
    let prefix = a
        .prefix
        .clone()
        .unwrap_or_else(|| a.config.with_extension(""));
    let csv = with_suffix(&prefix, ".disturb.csv");
    write(&csv, &s)?;
    let k = row * pc + col;
    Ok(PulseSummary {
        csv,
        cell: (row, col),
        g_before: before[k],
        g_after: after[k],
        worst_disturb: worst,
        energy_j: stats.0,
        steps: stats.1,
        reduced,
        g: before.iter().copied().zip(after.iter().copied()).collect(),
        cols: pc,
    })
}

/// One waveform `pulse` (cell voltage) on (row, col) of `xb` (states updated in place).
/// Returns the read conductances before, (energy J, steps) and whether the two-row reduction
/// was used.
pub fn apply_pulse(
    xb: &mut Crossbar,
    row: usize,
    col: usize,
    pulse: &Pwl,
    gate: f64,
    scheme: Unselected,
    seed: u64,
) -> Result<(Vec<f64>, (f64, usize), bool), ProgError> {
    let before: Vec<f64> = xb
        .cells
        .iter()
        .map(|c| c.read_conductance(xb.v_read, xb.temp_k))
        .collect();
    let drive = Drive::program(xb, row, col, pulse, gate, scheme)?;
    let pc = xb.phys_cols();
    if let (Some(red), true) = (reduced_row(xb, row), reducible(xb, &drive, row)) {
        let rd = reduced_drive(&drive, row);
        let mut arr = bind_for(&red, &rd)?;
        let mut rngs = row_rngs(seed, ADVANCE_SALT, row, pc, xb.rows, pc);
        let st = run_drive(&mut arr, &rd, &mut rngs, &Default::default())?;
        xb.cells[row * pc..(row + 1) * pc].clone_from_slice(&arr.crossbar().cells[..pc]);
        return Ok((before, (st.energy_j, st.steps), true));
    }
    let mut arr = bind_for(xb, &drive)?;
    let mut rngs = cell_rngs(seed, ADVANCE_SALT, xb.cells.len());
    let st = run_drive(&mut arr, &drive, &mut rngs, &Default::default())?;
    xb.cells.clone_from_slice(&arr.crossbar().cells);
    Ok((before, (st.energy_j, st.steps), false))
}

// ---------------------------------------------------------------------------------------------
// xbar program

pub struct ProgramArgs {
    pub config: PathBuf,
    /// Weights CSV (rows × cols), mapped like `[weights] csv`.
    pub targets: Option<PathBuf>,
    /// Conductance CSV (rows × physical columns, S).
    pub targets_siemens: Option<PathBuf>,
    pub scheme: String,
    pub tolerance: Option<f64>,
    pub tolerance_abs: Option<f64>,
    pub budget: Option<usize>,
    /// `hrs` | `lrs`; default the state the config's `[weights]` gives.
    pub initial: Option<String>,
    pub no_reverify: bool,
    pub prefix: Option<PathBuf>,
    pub progress: bool,
}

pub struct ProgramSummary {
    pub report: ProgramReport,
    pub csv: PathBuf,
}

impl fmt::Display for ProgramSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.report)?;
        write!(f, "wrote             {}", self.csv.display())
    }
}

/// Target read conductances (S, row-major over physical columns) from a weights CSV through the
/// array's weight → conductance mapping, or a conductance CSV.
pub fn read_targets(
    xb: &Crossbar,
    weights: Option<&Path>,
    siemens: Option<&Path>,
) -> Result<Vec<f64>, ProgError> {
    let file_err = |p: &Path, msg: String| ProgError::File {
        file: p.to_path_buf(),
        msg,
    };
    let targets = match (weights, siemens) {
        (Some(p), None) => {
            let lo = if xb.cell == CellKind::TwoT2R {
                -1.0
            } else {
                0.0
            };
            let w = read_weight_csv(p, xb.rows, xb.cols, lo)?;
            let mut m = xb.clone();
            m.law = CellLaw::Linear;
            m.cells.clear();
            m.card = None;
            m.set_weights(&w).map_err(|e| file_err(p, e.to_string()))?;
            m.g
        }
        (None, Some(p)) => {
            let g = read_weight_csv(p, xb.rows, xb.phys_cols(), 0.0)?;
            if let Some((k, x)) = g
                .iter()
                .enumerate()
                .find(|(_, x)| !(**x > 0.0 && x.is_finite()))
            {
                let pc = xb.phys_cols();
                return Err(file_err(
                    p,
                    format!("conductance ({}, {}) = {x} S must be > 0", k / pc, k % pc),
                ));
            }
            g
        }
        (Some(_), Some(_)) => {
            return Err(flag(
                "--targets",
                "give --targets or --targets-siemens, not both",
            ))
        }
        (None, None) => {
            return Err(flag(
                "--targets",
                "missing: give --targets FILE.csv or --targets-siemens FILE.csv",
            ))
        }
    };
    // Outside the card's nominal window no pulse can get there.
    if let Some(model) = &xb.card {
        if let Some((lo, hi)) = read_window(&model.nominal_cell(), xb.v_read) {
            let file = weights.or(siemens).expect("one given");
            let pc = xb.phys_cols();
            if let Some((k, t)) = targets
                .iter()
                .enumerate()
                .find(|(_, t)| **t < lo * 0.999 || **t > hi * 1.001)
            {
                return Err(file_err(
                    file,
                    format!(
                        "target of cell ({}, {}) = {t:e} S is outside the card's reachable window [{lo:e}, {hi:e}] S at v_read = {} V",
                        k / pc,
                        k % pc,
                        xb.v_read
                    ),
                ));
            }
        }
    }
    Ok(targets)
}

/// Puts every card cell in its family's own extreme state (`hrs` / `lrs`,
/// [`crate::device::Family::set_extreme`]: OxRAM's gap bounds, the MTJ's AP / P state, the
/// floating gate's erased / programmed charge, …) and reads its conductance at `v_read`.
pub fn set_initial(xb: &mut Crossbar, which: &str) -> Result<(), ProgError> {
    let lrs = match which {
        "hrs" => false,
        "lrs" => true,
        other => return Err(flag("--initial", format!("`{other}`: expected hrs | lrs"))),
    };
    for k in 0..xb.cells.len() {
        // Each cell on its own stream: a family whose extreme state is drawn (pcm_stat's
        // programming noise) gives the same array for the same seed, whatever the order.
        let mut rng = ChaCha8Rng::seed_from_u64(xb.seed ^ INITIAL_STATE_SALT);
        rng.set_stream(k as u64);
        if !xb.cells[k].set_extreme(lrs, &mut rng) {
            return Err(flag(
                "--initial",
                format!(
                    "{which}: family `{}` has no extreme states",
                    xb.cells[k].family()
                ),
            ));
        }
        xb.g[k] = xb.cells[k].read_conductance(xb.v_read, xb.temp_k);
    }
    Ok(())
}

/// Salt of the random streams of `--initial` (kept apart from the D2D and C2C streams).
const INITIAL_STATE_SALT: u64 = 0x1a17_1a15_7a7e_0001;

/// `xbar program`: write-verify the whole array, write `PREFIX.program.csv`
/// (`row,col,target_s,final_s,pulses,success,energy_j`).
pub fn program_command(a: &ProgramArgs) -> Result<ProgramSummary, ProgError> {
    let loaded = load_config(&a.config)?;
    let mut xb = loaded.xb;
    let mut cfg = loaded.program;
    if let Some(t) = a.tolerance {
        if !(t > 0.0 && t < 1.0) {
            return Err(flag("--tolerance", format!("{t}: must be in (0, 1)")));
        }
        cfg.tolerance = t;
    }
    if let Some(t) = a.tolerance_abs {
        if !(t > 0.0 && t.is_finite()) {
            return Err(flag("--tolerance-abs", format!("{t} S: must be > 0")));
        }
        cfg.tolerance_abs = Some(t);
    }
    if let Some(b) = a.budget {
        if b == 0 {
            return Err(flag("--budget", "0: need at least one pulse per cell"));
        }
        cfg.budget = b;
    }
    if a.no_reverify {
        cfg.reverify = false;
    }
    let scheme: Scheme = a.scheme.parse()?;
    if xb.cells.is_empty() {
        return Err(ProgError::File {
            file: a.config.clone(),
            msg: "write-verify needs device-card cells ([device] kind = \"card\")".into(),
        });
    }
    let targets = read_targets(&xb, a.targets.as_deref(), a.targets_siemens.as_deref())?;
    if let Some(init) = &a.initial {
        set_initial(&mut xb, init)?;
    }
    let plan = Plan::new(scheme, &cfg, xb.seed)?;
    let report = program_array(&mut xb, &targets, &plan, a.progress)?;
    let prefix = a
        .prefix
        .clone()
        .unwrap_or_else(|| a.config.with_extension(""));
    let csv = with_suffix(&prefix, ".program.csv");
    write(&csv, &program_csv(&report))?;
    Ok(ProgramSummary { report, csv })
}

pub fn program_csv(r: &ProgramReport) -> String {
    let mut s = String::from("row,col,target_s,final_s,pulses,success,energy_j\n");
    for c in &r.cells {
        s += &format!(
            "{},{},{:.12e},{:.12e},{},{},{:.6e}\n",
            c.row,
            c.col,
            c.target_s,
            c.final_s,
            c.pulses,
            u8::from(c.success),
            c.energy_j
        );
    }
    s
}

// ---------------------------------------------------------------------------------------------
// xbar stdp

pub struct StdpArgs {
    pub config: PathBuf,
    pub dt_from: Option<f64>,
    pub dt_to: Option<f64>,
    pub points: usize,
    pub prefix: Option<PathBuf>,
}

pub struct StdpSummary {
    pub csv: PathBuf,
    pub window: Vec<WindowPoint>,
    pub fit: Option<PairRule>,
}

impl fmt::Display for StdpSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = self.window.iter().fold(0.0f64, |m, p| m.max(p.dg_s));
        let min = self.window.iter().fold(0.0f64, |m, p| m.min(p.dg_s));
        writeln!(f, "points            {}", self.window.len())?;
        writeln!(f, "ΔG range          {min:.4e} … {max:.4e} S")?;
        match &self.fit {
            Some(r) => writeln!(
                f,
                "pair rule fit     A+ = {:.4e} S, τ+ = {:.4e} s; A− = {:.4e} S, τ− = {:.4e} s",
                r.a_plus, r.tau_plus, r.a_minus, r.tau_minus
            )?,
            None => writeln!(f, "pair rule fit     not enough points of each sign")?,
        }
        write!(f, "wrote             {}", self.csv.display())
    }
}

/// `xbar stdp`: the ΔG(Δt) window of cell (0, 0), written to `PREFIX.stdp.csv`
/// (`dt_s,dg_s,dg_rel`).
pub fn stdp_command(a: &StdpArgs) -> Result<StdpSummary, ProgError> {
    let loaded = load_config(&a.config)?;
    let dts = dt_grid(&loaded.stdp, a.dt_from, a.dt_to, a.points)?;
    let seed = loaded.program.seed.unwrap_or(loaded.xb.seed);
    let w = window(&loaded.xb, &loaded.stdp, &dts, seed)?;
    let mut s = String::from("dt_s,dg_s,dg_rel\n");
    for p in &w {
        s += &format!("{:.9e},{:.9e},{:.9e}\n", p.dt_s, p.dg_s, p.dg_rel);
    }
    let prefix = a
        .prefix
        .clone()
        .unwrap_or_else(|| a.config.with_extension(""));
    let csv = with_suffix(&prefix, ".stdp.csv");
    write(&csv, &s)?;
    Ok(StdpSummary {
        csv,
        fit: PairRule::fit(&w),
        window: w,
    })
}
