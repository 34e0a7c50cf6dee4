//! Write-verify: program every cell of an array to a target read conductance with pulses
//! through the array (half-select disturb included), verify reads with noise, a pulse budget
//! and an optional final re-verify pass (device-physics.md §8).
//!
//! Schemes (one loop: read, compare with the window, choose polarity and amplitude, pulse):
//! - ISPP: the amplitude climbs from V_start by V_step per failed verify, per polarity,
//!   capped at V_max. After an overshoot the other polarity's staircase resumes half a step
//!   below its last level with its step halved (a restart from V_start would spend the pulses
//!   climbing back, and the same level would overshoot again). In 1T1R / 2T2R
//!   with `gate_knob` the SET amplitude is fixed (`set_v_max`) and the gate voltage climbs
//!   instead: the access transistor's saturation current is the compliance (§6), the RADAR
//!   protocol's word-line steps.
//! - Alibart et al. (Nanotechnology 23, 075201, 2012; QDMS `fabien_convergence`): start at
//!   V_start per polarity, +`alibart_step` for each further pulse in the same direction, back to
//!   the start on a polarity change; a fine stage (step / 5) once the error is within
//!   `alibart_fine_band` windows.
//! - Fixed: every pulse at `fixed_set_v` / `fixed_reset_v`, `fixed_width` long (MemTorch's
//!   program loop).
//!
//! A verify read is the cell's own read conductance I(v_read)/v_read (ideal sensing) times
//! (1 + σ·N(0,1)), σ from `read_noise_rel` and, for PCM, the card's 1/f read noise. The reported
//! final conductance is the noise-free read after the whole array (re-verify pass included).
//!
//! Order and parallelism: cells are programmed row by row, column by column. In 1T1R / 2T2R
//! with the exact two-row reduction (pulse.rs) word lines do not disturb each other, so rows
//! run in parallel; each cell draws from its own random streams, so results do not depend on
//! the thread count. Passive arrays are programmed sequentially on the full array.

use std::str::FromStr;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

use crate::crossbar::{Array, Crossbar};
use crate::device::Cell;

use super::config::ProgramCfg;
use super::pulse::{
    bind_for, cell_rngs, reduced_drive, reduced_row, reducible, row_rngs, run_drive, Drive,
    Stepping, Unselected, ADVANCE_SALT,
};
use super::waveform::Pwl;
use super::ProgError;

/// Salt of the verify-read noise streams.
const READ_SALT: u64 = 0x7265_6164_6e6f_6973;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Ispp,
    Alibart,
    Fixed,
}

impl FromStr for Scheme {
    type Err = ProgError;
    fn from_str(s: &str) -> Result<Self, ProgError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "ispp" => Scheme::Ispp,
            "alibart" => Scheme::Alibart,
            "fixed" => Scheme::Fixed,
            _ => {
                return Err(super::flag(
                    "--scheme",
                    format!("`{s}`: expected ispp | alibart | fixed"),
                ))
            }
        })
    }
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Ispp => "ispp",
            Scheme::Alibart => "alibart",
            Scheme::Fixed => "fixed",
        }
    }
}

/// One cell's programming record.
#[derive(Clone, Debug, PartialEq)]
pub struct CellOutcome {
    pub row: usize,
    /// Physical bit line.
    pub col: usize,
    pub target_s: f64,
    /// Noise-free read conductance after the whole array was programmed (S).
    pub final_s: f64,
    pub pulses: usize,
    pub success: bool,
    /// Energy delivered by the drivers during this cell's pulses (J).
    pub energy_j: f64,
    /// Noise-free read conductance before the first pulse and after each pulse (S).
    pub trace: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct ProgramReport {
    pub scheme: Scheme,
    pub cells: Vec<CellOutcome>,
    pub wall_s: f64,
    /// Whether the exact two-row reduction was used.
    pub reduced: bool,
    pub tolerance: f64,
    pub tolerance_abs: Option<f64>,
    /// Per-cell acceptance windows replaced the tolerance (binary families, RADAR windows).
    pub per_cell_windows: bool,
}

impl ProgramReport {
    pub fn success_rate(&self) -> f64 {
        self.cells.iter().filter(|c| c.success).count() as f64 / self.cells.len().max(1) as f64
    }
    pub fn mean_pulses(&self) -> f64 {
        self.cells.iter().map(|c| c.pulses as f64).sum::<f64>() / self.cells.len().max(1) as f64
    }
    /// Nearest-rank percentile of the pulse counts.
    pub fn pulses_percentile(&self, p: f64) -> usize {
        let mut v: Vec<usize> = self.cells.iter().map(|c| c.pulses).collect();
        v.sort_unstable();
        percentile(&v, p)
    }
    pub fn total_energy(&self) -> f64 {
        self.cells.iter().map(|c| c.energy_j).sum()
    }
    /// Relative errors (final − target)/target.
    pub fn rel_errors(&self) -> Vec<f64> {
        self.cells
            .iter()
            .map(|c| (c.final_s - c.target_s) / c.target_s)
            .collect()
    }
}

fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let k = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize - 1;
    sorted[k.min(sorted.len() - 1)]
}

impl std::fmt::Display for ProgramReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut e: Vec<f64> = self.rel_errors().iter().map(|x| x.abs()).collect();
        e.sort_by(|a, b| a.total_cmp(b));
        writeln!(f, "scheme            {}", self.scheme.name())?;
        writeln!(f, "cells             {}", self.cells.len())?;
        writeln!(
            f,
            "success rate      {:.2} %  (window {})",
            100.0 * self.success_rate(),
            match self.tolerance_abs {
                _ if self.per_cell_windows => "per cell".to_string(),
                Some(a) => format!("±{a:e} S"),
                None => format!("±{:.1} %", 100.0 * self.tolerance),
            }
        )?;
        writeln!(
            f,
            "pulses            mean {:.2}, 95th percentile {}",
            self.mean_pulses(),
            self.pulses_percentile(95.0)
        )?;
        writeln!(
            f,
            "|final error|     median {:.3} %, 95th pct {:.3} %, max {:.3} %",
            100.0 * percentile(&e, 50.0),
            100.0 * percentile(&e, 95.0),
            100.0 * e.last().copied().unwrap_or(0.0)
        )?;
        writeln!(
            f,
            "energy            {:.4e} J (drivers, pulses only)",
            self.total_energy()
        )?;
        write!(
            f,
            "wall time         {:.3} s{}",
            self.wall_s,
            if self.reduced {
                " (exact two-row reduction per word line)"
            } else {
                ""
            }
        )
    }
}

/// Everything the per-cell loop needs.
#[derive(Clone, Debug)]
pub struct Plan {
    pub scheme: Scheme,
    pub cfg: ProgramCfg,
    pub unselected: Unselected,
    pub stepping: Stepping,
    pub seed: u64,
    /// Per-cell acceptance windows [G_lo, G_hi] (S), row-major, replacing the tolerance
    /// (e.g. the resistance windows of a multi-level protocol).
    pub windows: Option<Vec<(f64, f64)>>,
}

impl Plan {
    pub fn new(scheme: Scheme, cfg: &ProgramCfg, seed: u64) -> Result<Plan, ProgError> {
        Ok(Plan {
            scheme,
            unselected: cfg.unselected.parse()?,
            stepping: Stepping {
                tol_v: cfg.tol_v,
                ..Stepping::default()
            },
            cfg: cfg.clone(),
            seed: cfg.seed.unwrap_or(seed),
            windows: None,
        })
    }

    /// Whether read `g` (S) of cell `k` (global index) with target `target` passes.
    fn in_window(&self, k: usize, g: f64, target: f64) -> bool {
        if let Some(w) = &self.windows {
            let (lo, hi) = w[k];
            return g >= lo && g <= hi;
        }
        match self.cfg.tolerance_abs {
            Some(a) => (g - target).abs() <= a,
            None => (g - target).abs() <= self.cfg.tolerance * target,
        }
    }
}

/// Read conductances (S) of the two states of a two-state family (MTJ: antiparallel,
/// parallel), `None` for analog families. Binary write-verify aims at one of them.
pub fn binary_states(cell: &Cell, v_read: f64, temp_k: f64) -> Option<(f64, f64)> {
    use crate::device::mram::MtjOrientation;
    match cell {
        Cell::Mtj { p, .. } => {
            let g = |o| {
                Cell::Mtj {
                    p: p.clone(),
                    s: p.state_with(o),
                }
                .read_conductance(v_read, temp_k)
            };
            Some((g(MtjOrientation::AntiParallel), g(MtjOrientation::Parallel)))
        }
        _ => None,
    }
}

/// Binary targets: each target snaps to the nearer (in log G) of the cell's two states, and
/// its window is that state's side of their geometric mean. Returns (targets, windows).
#[allow(clippy::type_complexity)]
pub fn binary_windows(
    xb: &Crossbar,
    targets: &[f64],
) -> Result<(Vec<f64>, Vec<(f64, f64)>), ProgError> {
    let pc = xb.phys_cols();
    let mut t = Vec::with_capacity(targets.len());
    let mut w = Vec::with_capacity(targets.len());
    for (k, (&g, c)) in targets.iter().zip(&xb.cells).enumerate() {
        let (lo, hi) = binary_states(c, xb.v_read, xb.temp_k).ok_or_else(|| {
            ProgError::Input(format!(
                "`program.binary = true` needs a two-state family (mtj), cell ({}, {}) is `{}`",
                k / pc,
                k % pc,
                c.family()
            ))
        })?;
        let mid = (lo * hi).sqrt();
        if g >= mid {
            t.push(hi);
            w.push((mid, f64::INFINITY));
        } else {
            t.push(lo);
            w.push((0.0, mid));
        }
    }
    Ok((t, w))
}

/// Relative σ of one verify read of `cell`.
fn read_sigma(cell: &Cell, cfg: &ProgramCfg, t_read: f64) -> f64 {
    let fam = match cell {
        Cell::Pcm { p, s } => p.read_noise_sigma_rel(s, 0.5 / t_read),
        _ => 0.0,
    };
    (fam * fam + cfg.read_noise_rel * cfg.read_noise_rel).sqrt()
}

/// Working copy for one programming pass: the bound array whose `xb.cells` are authoritative,
/// and the (row, col) of the cell it was bound for when the topology depends on it.
struct Site {
    arr: Array,
    bound_for: Option<(usize, usize)>,
    /// Reduced array: local row 0 stands for this global word line.
    global_row: Option<usize>,
}

impl Site {
    fn drive(
        &self,
        plan: &Plan,
        row: usize,
        col: usize,
        v: f64,
        gate: f64,
    ) -> Result<Drive, ProgError> {
        let width = match plan.scheme {
            Scheme::Fixed => plan.cfg.fixed_width,
            _ => plan.cfg.width,
        };
        let pulse = Pwl::pulse(v, width, plan.cfg.edge);
        let local_row = if self.global_row.is_some() { 0 } else { row };
        let d = Drive::program(
            &self.arr.crossbar(),
            local_row,
            col,
            &pulse,
            gate,
            plan.unselected,
        )?;
        Ok(d)
    }

    /// One pulse of cell voltage `v` (signed) with gate `gate` on (row, col); returns the
    /// driver energy (J).
    fn pulse(
        &mut self,
        plan: &Plan,
        row: usize,
        col: usize,
        v: f64,
        gate: f64,
        rngs: &mut [ChaCha8Rng],
    ) -> Result<f64, ProgError> {
        let drive = self.drive(plan, row, col, v, gate)?;
        if plan.unselected == Unselected::Floating && self.bound_for != Some((row, col)) {
            self.arr = Array::bind(&self.arr.crossbar(), &drive.bias_at(0.0))?;
            self.bound_for = Some((row, col));
        }
        Ok(run_drive(&mut self.arr, &drive, rngs, &plan.stepping)?.energy_j)
    }
}

/// Programs every cell of `xb` (card cells, present states as the start) to `targets` (read
/// conductances at `xb.v_read`, S, row-major over physical columns). The cells of `xb` end in
/// their programmed states.
pub fn program_array(
    xb: &mut Crossbar,
    targets: &[f64],
    plan: &Plan,
    show_progress: bool,
) -> Result<ProgramReport, ProgError> {
    let pc = xb.phys_cols();
    let n = xb.rows * pc;
    if xb.cells.len() != n {
        return Err(ProgError::Input(
            "write-verify needs device-card cells ([device] kind = \"card\")".into(),
        ));
    }
    if targets.len() != n {
        return Err(ProgError::Input(format!(
            "{} targets for {n} cells",
            targets.len()
        )));
    }
    if plan.windows.as_ref().is_some_and(|w| w.len() != n) {
        return Err(ProgError::Input(format!(
            "acceptance windows: need one per cell ({n})"
        )));
    }
    if let Some((k, t)) = targets
        .iter()
        .enumerate()
        .find(|(_, t)| !(**t > 0.0 && t.is_finite()))
    {
        return Err(ProgError::Input(format!(
            "target of cell ({}, {}) = {t} S must be > 0",
            k / pc,
            k % pc
        )));
    }
    let binary;
    let (targets, plan) = if plan.cfg.binary && plan.windows.is_none() {
        let (t, w) = binary_windows(xb, targets)?;
        let mut p = plan.clone();
        p.windows = Some(w);
        binary = (t, p);
        (&binary.0[..], &binary.1)
    } else {
        (targets, plan)
    };
    let start = Instant::now();
    let bar = progress_bar(n as u64, show_progress);
    let probe = Drive::program(
        xb,
        0,
        0,
        &Pwl::pulse(1.0, 1.0, 0.0),
        plan.cfg.reset_gate,
        plan.unselected,
    )?;
    let use_reduced = reduced_row(xb, 0).is_some() && reducible(xb, &probe, 0);
    let mut cells: Vec<CellOutcome>;
    if use_reduced {
        let rows: Vec<Result<(Vec<Cell>, Vec<CellOutcome>), ProgError>> = (0..xb.rows)
            .into_par_iter()
            .map(|i| {
                let red = reduced_row(xb, i).expect("reduction applies");
                let drive = reduced_drive(
                    &Drive::program(xb, i, 0, &Pwl::pulse(1.0, 1.0, 0.0), 1.0, plan.unselected)?,
                    i,
                );
                let mut site = Site {
                    arr: bind_for(&red, &drive)?,
                    bound_for: None,
                    global_row: Some(i),
                };
                // Streams of the row's real cells; the dummy row gets its own (it never moves).
                let mut rngs = row_rngs(plan.seed, ADVANCE_SALT, i, pc, xb.rows, pc);
                let mut read_rngs = row_rngs(plan.seed, READ_SALT, i, pc, xb.rows, 0);
                let idx: Vec<(usize, usize, usize)> = (0..pc).map(|j| (j, i, j)).collect();
                let out = program_cells(
                    &mut site,
                    &idx,
                    &targets[i * pc..(i + 1) * pc],
                    plan,
                    &mut rngs,
                    &mut read_rngs,
                    &bar,
                )?;
                Ok((site.arr.crossbar().cells[..pc].to_vec(), out))
            })
            .collect();
        cells = Vec::with_capacity(n);
        for (i, r) in rows.into_iter().enumerate() {
            let (c, out) = r?;
            xb.cells[i * pc..(i + 1) * pc].clone_from_slice(&c);
            cells.extend(out);
        }
    } else {
        let drive = Drive::program(xb, 0, 0, &Pwl::pulse(1.0, 1.0, 0.0), 1.0, plan.unselected)?;
        let mut site = Site {
            arr: bind_for(xb, &drive)?,
            bound_for: Some((0, 0)),
            global_row: None,
        };
        let mut rngs = cell_rngs(plan.seed, ADVANCE_SALT, n);
        let mut read_rngs = cell_rngs(plan.seed, READ_SALT, n);
        let idx: Vec<(usize, usize, usize)> = (0..n).map(|k| (k, k / pc, k % pc)).collect();
        cells = program_cells(
            &mut site,
            &idx,
            targets,
            plan,
            &mut rngs,
            &mut read_rngs,
            &bar,
        )?;
        xb.cells.clone_from_slice(&site.arr.crossbar().cells);
    }
    bar.finish_and_clear();
    for (k, c) in xb.cells.iter().enumerate() {
        xb.g[k] = c.read_conductance(xb.v_read, xb.temp_k);
    }
    Ok(ProgramReport {
        scheme: plan.scheme,
        cells,
        wall_s: start.elapsed().as_secs_f64(),
        reduced: use_reduced,
        tolerance: plan.cfg.tolerance,
        tolerance_abs: plan.cfg.tolerance_abs,
        per_cell_windows: plan.windows.is_some(),
    })
}

fn progress_bar(n: u64, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("programming {bar:40} {pos}/{len} cells [{elapsed} < {eta}]")
            .expect("static template"),
    );
    bar
}

/// Programs the cells `idx` = (index in the site's array, row, physical column) in order, then
/// the re-verify pass. `targets[k]` belongs to `idx[k]`.
fn program_cells(
    site: &mut Site,
    idx: &[(usize, usize, usize)],
    targets: &[f64],
    plan: &Plan,
    rngs: &mut [ChaCha8Rng],
    read_rngs: &mut [ChaCha8Rng],
    bar: &ProgressBar,
) -> Result<Vec<CellOutcome>, ProgError> {
    let v_read = site.arr.crossbar().v_read;
    let temp = site.arr.crossbar().temp_k;
    let pc = site.arr.crossbar().phys_cols();
    let mut out: Vec<CellOutcome> = Vec::with_capacity(idx.len());
    for (k, &(a, row, col)) in idx.iter().enumerate() {
        let g0 = site.arr.crossbar().cells[a].read_conductance(v_read, temp);
        let mut o = CellOutcome {
            row: site.global_row.unwrap_or(row),
            col,
            target_s: targets[k],
            final_s: g0,
            pulses: 0,
            success: false,
            energy_j: 0.0,
            trace: vec![g0],
        };
        verify_loop(site, a, row, col, &mut o, plan, rngs, &mut read_rngs[k])?;
        out.push(o);
        bar.inc(1);
    }
    if plan.cfg.reverify {
        for (k, &(a, row, col)) in idx.iter().enumerate() {
            verify_loop(
                site,
                a,
                row,
                col,
                &mut out[k],
                plan,
                rngs,
                &mut read_rngs[k],
            )?;
        }
    }
    for (o, &(a, _, _)) in out.iter_mut().zip(idx) {
        o.final_s = site.arr.crossbar().cells[a].read_conductance(v_read, temp);
        o.success = plan.in_window(o.row * pc + o.col, o.final_s, o.target_s);
    }
    Ok(out)
}

/// Read, compare, pulse until a verify read lands in the window or the budget is spent.
#[allow(clippy::too_many_arguments)]
fn verify_loop(
    site: &mut Site,
    a: usize,
    row: usize,
    col: usize,
    o: &mut CellOutcome,
    plan: &Plan,
    rngs: &mut [ChaCha8Rng],
    read_rng: &mut ChaCha8Rng,
) -> Result<(), ProgError> {
    let cfg = &plan.cfg;
    let pc = site.arr.crossbar().phys_cols();
    let (v_read, temp, t_read) = (
        site.arr.crossbar().v_read,
        site.arr.crossbar().temp_k,
        site.arr.crossbar().t_read,
    );
    let gate_knob = cfg.gate_knob && site.arr.crossbar().cell.has_transistor();
    let reset_knob = cfg.reset_gate_knob && site.arr.crossbar().cell.has_transistor();
    let v_gate = site.arr.crossbar().v_gate;
    // Gate (fgate: control gate) of amplitude-stepped SET pulses.
    let set_gate = cfg.set_gate.unwrap_or(v_gate);
    // Sign of a RESET pulse: unipolar families (PCM) RESET with the SET polarity.
    let rs = if cfg.unipolar { 1.0 } else { -1.0 };
    // Pulses so far in the present polarity (+1 SET, −1 RESET).
    let (mut pol, mut n_same) = (0i32, 0usize);
    // ISPP staircases [SET, RESET]: last level (amplitude or gate, V) and present step (V).
    let mut stairs: [Option<(f64, f64)>; 2] = [None, None];
    let target = o.target_s;
    loop {
        let cell = &site.arr.crossbar().cells[a];
        let sigma = read_sigma(cell, cfg, t_read);
        let z: f64 = read_rng.sample(StandardNormal);
        let g = cell.read_conductance(v_read, temp) * (1.0 + sigma * z);
        let k = o.row * pc + o.col;
        if plan.in_window(k, g, target) || o.pulses >= cfg.budget {
            return Ok(());
        }
        let below = match &plan.windows {
            Some(w) => g < w[k].0,
            None => g < target,
        };
        let p = if below { 1 } else { -1 };
        let switched = p != pol;
        if switched {
            pol = p;
            n_same = 0;
        }
        let fine = (g - target).abs() < cfg.alibart_fine_band * cfg.tolerance * target;
        let stair = |start: f64, step: f64, max: f64| (start + step * n_same as f64).min(max);
        // ISPP: climb by the step per failed verify; after the other polarity overshot, resume
        // this staircase half a step below where it last was, with the step halved (down to
        // 1/16 of the configured step), instead of restarting from the start.
        let mut ispp = |slot: usize, start: f64, step0: f64, max: f64| {
            let next = match stairs[slot] {
                None => (start, step0),
                Some((last, step)) if switched => {
                    let h = (0.5 * step).max(step0 / 16.0);
                    ((last - h).max(start), h)
                }
                Some((last, step)) => (last + step, step),
            };
            let level = next.0.min(max);
            stairs[slot] = Some((level, next.1));
            level
        };
        let (v, gate) = match (plan.scheme, p) {
            (Scheme::Ispp, 1) if gate_knob => (
                cfg.set_v_max,
                ispp(0, cfg.set_gate_start, cfg.set_gate_step, cfg.set_gate_max),
            ),
            (Scheme::Ispp, 1) => (
                ispp(0, cfg.set_v_start, cfg.set_v_step, cfg.set_v_max),
                set_gate,
            ),
            (Scheme::Ispp, _) if reset_knob => (
                rs * cfg.reset_v_max,
                ispp(
                    1,
                    cfg.reset_gate_start,
                    cfg.reset_gate_step,
                    cfg.reset_gate_max,
                ),
            ),
            (Scheme::Ispp, _) => (
                rs * ispp(1, cfg.reset_v_start, cfg.reset_v_step, cfg.reset_v_max),
                cfg.reset_gate,
            ),
            (Scheme::Alibart, _) => {
                let step = if fine {
                    cfg.alibart_step / 5.0
                } else {
                    cfg.alibart_step
                };
                if p == 1 {
                    (
                        stair(cfg.alibart_set_v_start, step, cfg.set_v_max),
                        set_gate,
                    )
                } else {
                    (
                        rs * stair(cfg.alibart_reset_v_start, step, cfg.reset_v_max),
                        cfg.reset_gate,
                    )
                }
            }
            (Scheme::Fixed, 1) => (cfg.fixed_set_v, set_gate),
            (Scheme::Fixed, _) => (rs * cfg.fixed_reset_v, cfg.reset_gate),
        };
        o.energy_j += site.pulse(plan, row, col, v, gate, rngs)?;
        o.pulses += 1;
        n_same += 1;
        o.trace
            .push(site.arr.crossbar().cells[a].read_conductance(v_read, temp));
    }
}
