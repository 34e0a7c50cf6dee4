//! Pulses inside the array: PWL waveforms on chosen row, column and gate lines, the unselected
//! lines biased by a scheme, every cell's state advanced under the voltage it actually sees.
//!
//! Time stepping (quasi-static: the array has no capacitance, DESIGN.md "programming"): over a
//! step of length h the line voltages are taken at the step's midpoint, the array is solved
//! exactly (the crossbar layer's Newton on the full nonlinear array) and every cell advances for h
//! under its own solved voltage (the device model's `advance`, accurate for any h at a constant
//! bias). The step is accepted when re-solving the array with the advanced states moves no cell
//! voltage by more than `tol_v`: the currents then changed too little to matter and the held
//! voltages were right. Otherwise the step shrinks and is retried from the saved states. So the
//! array is re-solved only when states have moved enough, and a cell whose voltage cannot depend
//! on the states (ideal lines) advances over a whole flat segment in one call, exactly as the
//! single-device model would. Ramps are cut so no line moves by more than `dv_ramp` per step.
//!
//! Exact reduction (1T1R / 2T2R, `line_ends = "one"`): with every unselected gate at or below
//! the threshold the level-1 access transistors of those word lines carry exactly zero current,
//! so their cells see exactly 0 V and each bit line carries current only between the selected
//! word line and its periphery end. The array is then exactly a two-row array: the selected word
//! line, and a dummy word line (gate off) one bit-line segment of (rows − 1 − row)·r_col away,
//! behind which the column drivers sit ([`reduced_row`]).

use std::str::FromStr;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::crossbar::{Array, Bias, CellKind, ColEnd, Crossbar, LineEnds};
use crate::device::Cell;

use super::waveform::Pwl;
use super::ProgError;

/// Bias of the unselected lines during a program pulse of cell voltage V on (row, col): the
/// selected row at V_r and the selected column at V_c with V = V_r − V_c.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unselected {
    /// Unselected rows and columns not connected.
    Floating,
    /// Unselected rows and columns at (V_r + V_c)/2: half-selected cells see V/2.
    Half,
    /// Unselected rows at V_c + V/3, columns at V_c + 2V/3: every unselected cell sees ±V/3.
    Third,
    /// Unselected rows and columns at 0 V.
    Grounded,
    /// Access-transistor arrays (1T1R / 2T2R): unselected bit lines follow the selected word
    /// line, so the selected word line's other cells see 0 V and draw no current (no
    /// half-select disturb, and the word line carries only the selected cell's current: the
    /// least IR drop); unselected word lines at 0 V with their gates off.
    Inhibit,
}

impl FromStr for Unselected {
    type Err = ProgError;
    fn from_str(s: &str) -> Result<Self, ProgError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "floating" | "float" => Unselected::Floating,
            "v/2" | "half" => Unselected::Half,
            "v/3" | "third" => Unselected::Third,
            "grounded" | "ground" | "0" => Unselected::Grounded,
            "inhibit" => Unselected::Inhibit,
            _ => {
                return Err(ProgError::Input(format!(
                "unselected-line scheme `{s}`: expected floating | v/2 | v/3 | grounded | inhibit"
            )))
            }
        })
    }
}

/// What drives every line during an operation: a waveform, or `None` = floating. Columns are
/// physical bit lines; every driven line sits behind the config's `r_driver`.
#[derive(Clone, Debug, PartialEq)]
pub struct Drive {
    pub rows: Vec<Option<Pwl>>,
    pub cols: Vec<Option<Pwl>>,
    /// Gate voltage per word line (1T1R / 2T2R), V.
    pub gates: Vec<Pwl>,
}

impl Drive {
    /// Every line grounded, gates at 0 V.
    pub fn idle(xb: &Crossbar) -> Drive {
        Drive {
            rows: vec![Some(Pwl::constant(0.0)); xb.rows],
            cols: vec![Some(Pwl::constant(0.0)); xb.phys_cols()],
            gates: vec![Pwl::constant(0.0); xb.rows],
        }
    }

    /// A program pulse on cell (row, physical column): the cell voltage waveform `p` (V,
    /// positive = SET; one polarity per pulse) goes on the selected row (p ≥ 0) or, negated, on
    /// the selected column (p < 0); the unselected lines follow `scheme`; the selected word
    /// line's gate is held at `v_gate` (V), the other gates at 0 V.
    pub fn program(
        xb: &Crossbar,
        row: usize,
        col: usize,
        p: &Pwl,
        v_gate: f64,
        scheme: Unselected,
    ) -> Result<Drive, ProgError> {
        check_cell(xb, row, col)?;
        let set = p.v.iter().all(|&v| v >= 0.0);
        let reset = p.v.iter().all(|&v| v <= 0.0);
        if !set && !reset {
            return Err(ProgError::Input(
                "a program pulse must keep one polarity; split it into SET and RESET pulses".into(),
            ));
        }
        let mag = if set { p.clone() } else { p.scaled(-1.0) };
        let zero = Pwl::constant(0.0);
        let (vr, vc) = if set {
            (mag.clone(), zero.clone())
        } else {
            (zero.clone(), mag.clone())
        };
        // Unselected (row, column) waveforms in terms of |V|.
        let (ur, uc) = match scheme {
            Unselected::Floating => (None, None),
            Unselected::Half => (Some(mag.scaled(0.5)), Some(mag.scaled(0.5))),
            Unselected::Third if set => (Some(mag.scaled(1.0 / 3.0)), Some(mag.scaled(2.0 / 3.0))),
            Unselected::Third => (Some(mag.scaled(2.0 / 3.0)), Some(mag.scaled(1.0 / 3.0))),
            Unselected::Grounded => (Some(zero.clone()), Some(zero.clone())),
            Unselected::Inhibit => {
                check_inhibit(xb)?;
                (Some(zero.clone()), Some(vr.clone()))
            }
        };
        Ok(Drive::one_cell(xb, row, col, vr, vc, ur, uc, v_gate))
    }

    /// `v_row` on `row`, `v_col` on physical column `col`, the other rows and columns at
    /// `other_rows` / `other_cols` (`None`: floating), and the gate of `row` at `v_gate` with every
    /// other word line off.
    #[allow(clippy::too_many_arguments)]
    pub fn one_cell(
        xb: &Crossbar,
        row: usize,
        col: usize,
        v_row: Pwl,
        v_col: Pwl,
        other_rows: Option<Pwl>,
        other_cols: Option<Pwl>,
        v_gate: f64,
    ) -> Drive {
        let pick = |selected: bool, on: &Pwl, off: &Option<Pwl>| {
            if selected {
                Some(on.clone())
            } else {
                off.clone()
            }
        };
        Drive {
            rows: (0..xb.rows)
                .map(|i| pick(i == row, &v_row, &other_rows))
                .collect(),
            cols: (0..xb.phys_cols())
                .map(|j| pick(j == col, &v_col, &other_cols))
                .collect(),
            gates: (0..xb.rows)
                .map(|i| Pwl::constant(if i == row { v_gate } else { 0.0 }))
                .collect(),
        }
    }

    /// Waveforms on chosen rows and (physical) columns, every other line biased by `scheme`
    /// relative to 0 V (floating, or grounded; V/2 and V/3 need one selected pair: use
    /// [`Drive::program`]); gates at 0 V. A line assigned twice is an error.
    pub fn assign(
        xb: &Crossbar,
        rows: &[(usize, Pwl)],
        cols: &[(usize, Pwl)],
        scheme: Unselected,
    ) -> Result<Drive, ProgError> {
        let rest = match scheme {
            Unselected::Floating => None,
            Unselected::Grounded => Some(Pwl::constant(0.0)),
            other => {
                return Err(ProgError::Input(format!(
                "unselected scheme {other:?} needs a selected row and column (use Drive::program)"
            )))
            }
        };
        let mut d = Drive {
            rows: vec![rest.clone(); xb.rows],
            cols: vec![rest; xb.phys_cols()],
            gates: vec![Pwl::constant(0.0); xb.rows],
        };
        let mut seen_r = vec![false; xb.rows];
        for (i, p) in rows {
            if *i >= xb.rows {
                return Err(ProgError::Input(format!(
                    "row {i} is outside the array ({} rows)",
                    xb.rows
                )));
            }
            if std::mem::replace(&mut seen_r[*i], true) {
                return Err(ProgError::Input(format!("row {i} is assigned twice")));
            }
            d.rows[*i] = Some(p.clone());
        }
        let mut seen_c = vec![false; xb.phys_cols()];
        for (j, p) in cols {
            if *j >= xb.phys_cols() {
                return Err(ProgError::Input(format!(
                    "column {j} is outside the array ({} bit lines)",
                    xb.phys_cols()
                )));
            }
            if std::mem::replace(&mut seen_c[*j], true) {
                return Err(ProgError::Input(format!("column {j} is assigned twice")));
            }
            d.cols[*j] = Some(p.clone());
        }
        Ok(d)
    }

    fn end(&self) -> f64 {
        self.rows
            .iter()
            .chain(&self.cols)
            .flatten()
            .chain(&self.gates)
            .map(|p| p.end())
            .fold(0.0, f64::max)
    }

    fn corners(&self) -> Vec<f64> {
        let mut t: Vec<f64> = self
            .rows
            .iter()
            .chain(&self.cols)
            .flatten()
            .chain(&self.gates)
            .flat_map(|p| p.t.iter().copied())
            .filter(|&t| t > 0.0)
            .collect();
        t.push(0.0);
        t.sort_by(|a, b| a.total_cmp(b));
        t.dedup();
        t
    }

    /// The crossbar bias at time `t` (s).
    pub fn bias_at(&self, t: f64) -> Bias {
        Bias {
            rows: self
                .rows
                .iter()
                .map(|p| p.as_ref().map(|p| p.at(t)))
                .collect(),
            cols: self
                .cols
                .iter()
                .map(|p| match p {
                    Some(p) => ColEnd::Bias(p.at(t)),
                    None => ColEnd::Float,
                })
                .collect(),
            gates: self.gates.iter().map(|p| p.at(t)).collect(),
        }
    }

    /// Largest |dV/dt| of any line over (a, b) (V/s), lines being linear there.
    fn max_slope(&self, a: f64, b: f64) -> f64 {
        let m = 0.5 * (a + b);
        self.rows
            .iter()
            .chain(&self.cols)
            .flatten()
            .chain(&self.gates)
            .map(|p| 2.0 * (p.at(m) - p.at(a)).abs() / (b - a))
            .fold(0.0, f64::max)
    }

    /// Whether any unselected gate is ever above `vto` (so off transistors might conduct).
    fn gates_off_except(&self, row: usize, vto: f64) -> bool {
        self.gates
            .iter()
            .enumerate()
            .all(|(i, p)| i == row || p.v.iter().all(|&v| v <= vto))
    }
}

/// The inhibit scheme relies on the unselected word lines' transistors being off: in a passive
/// array it would put the full pulse on every cell of the selected column's other rows.
pub(crate) fn check_inhibit(xb: &Crossbar) -> Result<(), ProgError> {
    if xb.cell.has_transistor() {
        Ok(())
    } else {
        Err(ProgError::Input(format!(
            "unselected-line scheme `inhibit` needs access transistors (1T1R / 2T2R), not {:?}",
            xb.cell
        )))
    }
}

pub(crate) fn check_cell(xb: &Crossbar, row: usize, col: usize) -> Result<(), ProgError> {
    if row >= xb.rows || col >= xb.phys_cols() {
        return Err(ProgError::Input(format!(
            "cell ({row}, {col}) is outside the {}×{} array (rows × bit lines)",
            xb.rows,
            xb.phys_cols()
        )));
    }
    Ok(())
}

/// Step control of [`run_drive`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stepping {
    /// Re-solve tolerance: a step is accepted when no cell voltage moved by more (V).
    pub tol_v: f64,
    /// Largest change of any line voltage per step on a ramp (V).
    pub dv_ramp: f64,
    /// Smallest step, as a fraction of the waveform duration; a step this short is accepted.
    pub h_min_rel: f64,
}

impl Default for Stepping {
    fn default() -> Self {
        Stepping {
            tol_v: 1e-2,
            dv_ramp: 0.02,
            h_min_rel: 1e-9,
        }
    }
}

/// What one waveform did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PulseStats {
    /// Energy delivered by all line drivers (J), Σ V·I·dt (trapezoid over accepted steps).
    pub energy_j: f64,
    pub steps: usize,
    pub rejected: usize,
    /// Largest |voltage| each cell saw (V), row-major over physical columns.
    pub v_max: Vec<f64>,
}

/// Per-cell random streams for the devices' cycle-to-cycle noise: stream `idx` of
/// ChaCha8(seed ^ salt), so a cell's draws do not depend on thread or programming order of
/// other cells.
pub fn cell_rngs(seed: u64, salt: u64, n: usize) -> Vec<ChaCha8Rng> {
    (0..n)
        .map(|k| {
            let mut r = ChaCha8Rng::seed_from_u64(seed ^ salt);
            r.set_stream(k as u64);
            r
        })
        .collect()
}

/// The streams [`cell_rngs`] gives the cells of word line `i` (`pc` bit lines), plus `extra`
/// streams after the array's (for the dummy row of a reduced array).
pub fn row_rngs(
    seed: u64,
    salt: u64,
    i: usize,
    pc: usize,
    rows: usize,
    extra: usize,
) -> Vec<ChaCha8Rng> {
    (i * pc..(i + 1) * pc)
        .chain(rows * pc..rows * pc + extra)
        .map(|k| {
            let mut r = ChaCha8Rng::seed_from_u64(seed ^ salt);
            r.set_stream(k as u64);
            r
        })
        .collect()
}

/// Salt of the programming noise streams.
pub const ADVANCE_SALT: u64 = 0x7075_6c73_6521_0001;

/// Binds `xb` (card cells) for the line topology of `drive`. Cells with a control gate
/// (`fgate`) get it driven by their word line's gate line (`Drive::gates`) in the solve and in
/// `advance`, instead of the card's fixed read bias `v_cg`.
pub fn bind_for(xb: &Crossbar, drive: &Drive) -> Result<Array, ProgError> {
    if xb.cells.len() != xb.rows * xb.phys_cols() {
        return Err(ProgError::Input(
            "pulse programming needs device-card cells ([device] kind = \"card\")".into(),
        ));
    }
    if xb.cells.iter().any(|c| c.has_control_gate()) && xb.cg.len() != xb.rows {
        let mut x = xb.clone();
        x.cg = vec![0.0; xb.rows];
        return Ok(Array::bind(&x, &drive.bias_at(0.0))?);
    }
    Ok(Array::bind(xb, &drive.bias_at(0.0))?)
}

fn cell_voltages(arr: &Array, out: &mut Vec<f64>) -> Result<(), ProgError> {
    out.clear();
    out.extend((0..arr.net.cells.len()).map(|k| arr.cell_voltage(k)));
    if let Some(k) = out.iter().position(|v| !v.is_finite()) {
        let pc = arr.net.pcols;
        return Err(ProgError::Solve(format!(
            "voltage across cell ({}, {}) is not finite (a floating line with its access transistors off?)",
            k / pc,
            k % pc
        )));
    }
    Ok(())
}

fn source_power(arr: &Array) -> f64 {
    arr.fixed_class_currents()
        .iter()
        .zip(&arr.fixed_v)
        .map(|(i, v)| i * v)
        .sum()
}

/// Applies `drive` to the bound array `arr` (its `xb.cells` advance in place; `rngs` has one
/// stream per cell). The array must have been bound for the drive's topology.
pub fn run_drive(
    arr: &mut Array,
    drive: &Drive,
    rngs: &mut [ChaCha8Rng],
    st: &Stepping,
) -> Result<PulseStats, ProgError> {
    let n = arr.net.cells.len();
    if rngs.len() != n {
        return Err(ProgError::Input(format!(
            "{} noise streams for {n} cells",
            rngs.len()
        )));
    }
    let temp = arr.crossbar().temp_k;
    let t_end = drive.end();
    let corners = drive.corners();
    let h_min = (t_end * st.h_min_rel).max(1e-18);
    let mut stats = PulseStats {
        v_max: vec![0.0; n],
        ..Default::default()
    };
    let (mut v0, mut v1) = (Vec::new(), Vec::new());
    let mut saved_cells: Vec<Cell> = Vec::with_capacity(n);
    let mut saved_rngs: Vec<ChaCha8Rng> = Vec::with_capacity(n);
    let mut saved_v: Vec<f64> = Vec::new();
    let trace = std::env::var_os("XBAR_PULSE_TRACE").is_some();
    let mut h_try = f64::INFINITY;
    // Length of the last accepted step if it moved no state (see `event` below).
    let mut still: Option<f64> = None;
    // Solution valid for the present states at `cached_bias`.
    let mut cached: Option<(Bias, f64)> = None;
    for w in corners.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b <= a {
            continue;
        }
        let slope = drive.max_slope(a, b);
        let h_ramp = if slope > 0.0 {
            st.dv_ramp / slope
        } else {
            f64::INFINITY
        };
        let mut t = a;
        while t < b {
            let mut h = h_try.min(h_ramp).min(b - t);
            if b - t - h < 1e-9 * (b - a) {
                h = b - t;
            }
            let bias = drive.bias_at(t + 0.5 * h);
            let p0 = match &cached {
                Some((cb, p)) if *cb == bias => *p,
                _ => {
                    solve_towards(arr, &bias, t)?;
                    cell_voltages(arr, &mut v0)?;
                    source_power(arr)
                }
            };
            saved_cells.clear();
            saved_cells.extend_from_slice(&arr.crossbar().cells);
            saved_rngs.clear();
            saved_rngs.extend_from_slice(rngs);
            // Control gates (if driven) at this step's bias, set by the solve above.
            let cg = arr.crossbar().cg.clone();
            let pc = arr.net.pcols;
            let cells = arr.cells_mut();
            for k in 0..n {
                match cg.get(k / pc) {
                    Some(&vcg) => cells[k].advance_gated(v0[k], vcg, h, temp, &mut rngs[k]),
                    None => cells[k].advance(v0[k], h, temp, &mut rngs[k]),
                }
            }
            saved_v.clear();
            saved_v.extend_from_slice(&arr.v);
            // No state moved: the solution at this bias stands (no re-solve).
            let moved = arr.crossbar().cells != saved_cells;
            // A failed Newton solve after the states moved means the step was too long.
            let dv = if !moved {
                v1.clone_from(&v0);
                0.0
            } else {
                match solve(arr, t + h) {
                    Ok(()) => {
                        cell_voltages(arr, &mut v1)?;
                        v0.iter()
                            .zip(&v1)
                            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
                    }
                    Err(e) if h <= h_min => return Err(e),
                    Err(_) => {
                        arr.v.clone_from_slice(&saved_v);
                        f64::INFINITY
                    }
                }
            };
            if trace {
                let (kmax, _) =
                    v0.iter()
                        .zip(&v1)
                        .enumerate()
                        .fold((0, 0.0f64), |m, (k, (a, b))| {
                            if (a - b).abs() > m.1 {
                                (k, (a - b).abs())
                            } else {
                                m
                            }
                        });
                eprintln!(
                    "t {t:.4e} h {h:.3e} dv {dv:.3e} cell {kmax} v0 {:.4} v1 {:.4}",
                    v0[kmax],
                    v1.get(kmax).copied().unwrap_or(f64::NAN)
                );
            }
            // A discrete event (a CBRAM filament touching, an MTJ flip): a step that reaches it
            // jumps the voltages however short it is, while the step half as long just
            // accepted moved no state at all. Shrinking cannot resolve it, so accept the jump.
            let event =
                h <= 1e-6 * (b - a) && still.is_some_and(|hs| h <= 2.0 * hs * (1.0 + 1e-12));
            if dv <= st.tol_v || h <= h_min || event {
                still = if moved { None } else { Some(h) };
                let p1 = if moved { source_power(arr) } else { p0 };
                stats.energy_j += 0.5 * (p0 + p1) * h;
                stats.steps += 1;
                for (m, v) in stats.v_max.iter_mut().zip(&v0) {
                    *m = m.max(v.abs());
                }
                std::mem::swap(&mut v0, &mut v1);
                cached = Some((bias, p1));
                t += h;
                h_try = if dv < 0.25 * st.tol_v { 2.0 * h } else { h };
            } else {
                arr.cells_mut().clone_from_slice(&saved_cells);
                rngs.clone_from_slice(&saved_rngs);
                stats.rejected += 1;
                h_try = h * (0.9 * st.tol_v / dv).clamp(0.1, 0.5);
                // v0 still holds the voltages of the restored states at this bias.
                cached = Some((bias, p0));
            }
        }
    }
    let _ = t_end;
    Ok(stats)
}

/// Solves at `bias`, stepping the line voltages over from the present bias (source-stepping
/// continuation, 2, 4, … 256 steps) when Newton fails from the previous solution.
fn solve_towards(arr: &mut Array, bias: &Bias, t: f64) -> Result<(), ProgError> {
    let mut from = arr.bias.clone();
    let mut v_start = arr.v.clone();
    arr.set_bias(bias)?;
    let first = match solve(arr, t) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    if from == *bias {
        // No previous operating point to step from: start from every line at 0 V.
        from = Bias {
            rows: bias.rows.iter().map(|r| r.map(|_| 0.0)).collect(),
            cols: bias
                .cols
                .iter()
                .map(|c| match c {
                    ColEnd::Bias(_) => ColEnd::Bias(0.0),
                    other => *other,
                })
                .collect(),
            gates: bias.gates.clone(),
        };
        v_start.fill(0.0);
    }
    let lerp = |a: f64, b: f64, s: f64| a + (b - a) * s;
    let mut n = 2;
    while n <= 256 {
        arr.v.clone_from_slice(&v_start);
        let mut ok = true;
        for k in 1..=n {
            let s = k as f64 / n as f64;
            let b = Bias {
                rows: from
                    .rows
                    .iter()
                    .zip(&bias.rows)
                    .map(|(a, b)| match (a, b) {
                        (Some(a), Some(b)) => Some(lerp(*a, *b, s)),
                        (_, b) => *b,
                    })
                    .collect(),
                cols: from
                    .cols
                    .iter()
                    .zip(&bias.cols)
                    .map(|(a, b)| match (a, b) {
                        (ColEnd::Bias(a), ColEnd::Bias(b)) => ColEnd::Bias(lerp(*a, *b, s)),
                        (_, b) => *b,
                    })
                    .collect(),
                gates: from
                    .gates
                    .iter()
                    .zip(&bias.gates)
                    .map(|(a, b)| lerp(*a, *b, s))
                    .collect(),
            };
            arr.set_bias(&b)?;
            if solve(arr, t).is_err() {
                ok = false;
                break;
            }
        }
        if ok {
            return Ok(());
        }
        n *= 4;
    }
    Err(first)
}

fn solve(arr: &mut Array, t: f64) -> Result<(), ProgError> {
    arr.solve()
        .map_err(|e| ProgError::Solve(format!("at t = {t:e} s: {e}")))
}

/// The exact two-row reduction of a 1T1R / 2T2R array for pulses and reads on word line `row`
/// (see the module docs), or `None` where it does not apply (no transistor, or bit lines
/// sensed at both ends). Row 0 of the result is word line `row` (its cells are copies), row 1
/// a dummy word line whose gate stays off.
pub fn reduced_row(xb: &Crossbar, row: usize) -> Option<Crossbar> {
    if !xb.cell.has_transistor() || xb.line_ends != LineEnds::One || xb.rows < 2 {
        return None;
    }
    let pc = xb.phys_cols();
    let mut r = xb.clone();
    r.rows = 2;
    r.r_col = xb.r_col * (xb.rows - 1 - row) as f64;
    let g_row = xb.g[row * pc..(row + 1) * pc].to_vec();
    r.g = [g_row.clone(), g_row].concat();
    let c_row = xb.cells[row * pc..(row + 1) * pc].to_vec();
    r.cells = [c_row.clone(), c_row].concat();
    if !xb.cg.is_empty() {
        r.cg = vec![xb.cg[row], 0.0];
    }
    Some(r)
}

/// Whether `drive` on word line `row` may use [`reduced_row`]: every other gate stays at or
/// below the transistors' threshold.
pub fn reducible(xb: &Crossbar, drive: &Drive, row: usize) -> bool {
    match (xb.cell, xb.transistor) {
        (CellKind::OneT1R | CellKind::TwoT2R, Some(m)) => drive.gates_off_except(row, m.vto),
        _ => false,
    }
}

/// The drive of the reduced two-row array: the selected row's waveform, the dummy row at
/// 0 V, the columns as in `drive`, the dummy gate at 0 V.
pub fn reduced_drive(drive: &Drive, row: usize) -> Drive {
    Drive {
        rows: vec![drive.rows[row].clone(), Some(Pwl::constant(0.0))],
        cols: drive.cols.clone(),
        gates: vec![drive.gates[row].clone(), Pwl::constant(0.0)],
    }
}
