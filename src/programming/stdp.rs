//! STDP from the device physics: pre-synaptic spikes on a row, post-synaptic spikes on a
//! column, the cell sees V = v_pre(t − t_pre) − v_post(t − t_post) through the array and
//! changes only where the overlap crosses its switching threshold (device-physics.md §7,
//! Serrano-Gotarredona et al., Front. Neurosci. 7:2, 2013). The ΔG(Δt) window is measured on
//! cell (0, 0) of the array with the other lines biased by a scheme, and compared with the
//! pair-based rule Δw = A+·exp(−Δt/τ+) (Δt > 0), −A−·exp(Δt/τ−) (Δt < 0) (Song, Miller &
//! Abbott, Nat. Neurosci. 3, 2000) fitted to it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::crossbar::program::program_read_conductance;
use crate::crossbar::Crossbar;

use super::config::StdpCfg;
use super::pulse::{bind_for, cell_rngs, run_drive, Drive, Stepping, Unselected, ADVANCE_SALT};
use super::waveform::{Pwl, SpikeTemplate};
use super::ProgError;

/// One point of the window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WindowPoint {
    /// t_post − t_pre (s).
    pub dt_s: f64,
    /// Change of the read conductance at v_read (S).
    pub dg_s: f64,
    /// dg_s / G before.
    pub dg_rel: f64,
}

/// Line waveforms for one pre spike on `row` at `t_pre` and one post spike on `col` at
/// `t_post`; unselected lines by `scheme` in terms of the two selected waveforms.
pub fn pair_drive(
    xb: &Crossbar,
    row: usize,
    col: usize,
    pre: &Pwl,
    post: &Pwl,
    scheme: Unselected,
) -> Result<Drive, ProgError> {
    super::pulse::check_cell(xb, row, col)?;
    // Unselected levels: rows at v_c + (v_r − v_c)·a, columns at v_c + (v_r − v_c)·b.
    let lin = |a: f64| Pwl::sum(&[post.scaled(1.0 - a), pre.scaled(a)]);
    let (ur, uc) = match scheme {
        Unselected::Floating => (None, None),
        Unselected::Grounded => (Some(Pwl::constant(0.0)), Some(Pwl::constant(0.0))),
        Unselected::Half => (Some(lin(0.5)), Some(lin(0.5))),
        Unselected::Third => (Some(lin(1.0 / 3.0)), Some(lin(2.0 / 3.0))),
        Unselected::Inhibit => {
            super::pulse::check_inhibit(xb)?;
            (Some(Pwl::constant(0.0)), Some(pre.clone()))
        }
    };
    Ok(Drive::one_cell(
        xb,
        row,
        col,
        pre.clone(),
        post.clone(),
        ur,
        uc,
        xb.v_gate,
    ))
}

/// Puts every card cell at read conductance `g` (S) where the family allows it (OxRAM, PCM).
pub fn set_all(xb: &mut Crossbar, g: f64) -> Result<(), ProgError> {
    for k in 0..xb.cells.len() {
        xb.g[k] = program_read_conductance(&mut xb.cells[k], g, xb.v_read, xb.temp_k)?;
    }
    Ok(())
}

/// ΔG of cell (0, 0) for each Δt (s), every point from the same start state.
pub fn window(
    xb: &Crossbar,
    cfg: &StdpCfg,
    dts: &[f64],
    seed: u64,
) -> Result<Vec<WindowPoint>, ProgError> {
    let scheme: Unselected = cfg.unselected.parse()?;
    let mut base = xb.clone();
    let g_start = cfg.g_start.unwrap_or((xb.g_min * xb.g_max).sqrt());
    set_all(&mut base, g_start)?;
    let g0 = base.cells[0].read_conductance(base.v_read, base.temp_k);
    let lead =
        cfg.pre.width().max(cfg.post.width()) + dts.iter().fold(0.0f64, |m, d| m.max(d.abs()));
    let stepping = Stepping::default();
    let mut out = Vec::with_capacity(dts.len());
    for &dt in dts {
        let (t_pre, t_post) = (lead, lead + dt);
        let drive = pair_drive(
            &base,
            0,
            0,
            &cfg.pre.at(t_pre),
            &cfg.post.at(t_post),
            scheme,
        )?;
        let mut arr = bind_for(&base, &drive)?;
        let mut rngs = cell_rngs(seed, ADVANCE_SALT, base.cells.len());
        run_drive(&mut arr, &drive, &mut rngs, &stepping)?;
        let g1 = arr.crossbar().cells[0].read_conductance(base.v_read, base.temp_k);
        if !g1.is_finite() {
            return Err(ProgError::Input(format!(
                "STDP: read conductance of cell (0, 0) not finite at Δt = {dt:e} s"
            )));
        }
        out.push(WindowPoint {
            dt_s: dt,
            dg_s: g1 - g0,
            dg_rel: (g1 - g0) / g0,
        });
    }
    Ok(out)
}

/// Δt grid of `points` values over [from, to], or ± three spike widths.
pub fn dt_grid(
    cfg: &StdpCfg,
    from: Option<f64>,
    to: Option<f64>,
    points: usize,
) -> Result<Vec<f64>, ProgError> {
    let w = cfg.pre.width().max(cfg.post.width());
    let (a, b) = (from.unwrap_or(-3.0 * w), to.unwrap_or(3.0 * w));
    if points < 2 {
        return Err(super::flag(
            "--points",
            format!("{points}: need at least 2"),
        ));
    }
    if !(b > a) {
        return Err(super::flag(
            "--dt-to",
            format!("{b:e} s must be above --dt-from {a:e} s"),
        ));
    }
    Ok((0..points)
        .map(|k| a + (b - a) * k as f64 / (points - 1) as f64)
        .collect())
}

/// The pair rule fitted to a window: least squares on ln|ΔG| against Δt per side.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairRule {
    /// S
    pub a_plus: f64,
    /// s
    pub tau_plus: f64,
    pub a_minus: f64,
    pub tau_minus: f64,
}

impl PairRule {
    pub fn eval(&self, dt: f64) -> f64 {
        if dt > 0.0 {
            self.a_plus * (-dt / self.tau_plus).exp()
        } else if dt < 0.0 {
            -self.a_minus * (dt / self.tau_minus).exp()
        } else {
            0.0
        }
    }

    /// Fits each side on the points whose ΔG has the side's sign and at least 1e-3 of the side's
    /// largest |ΔG| (the thresholded device gives exact zeros beyond the spike overlap).
    pub fn fit(w: &[WindowPoint]) -> Option<PairRule> {
        let side = |pos: bool| -> Option<(f64, f64)> {
            let pts: Vec<(f64, f64)> = w
                .iter()
                .filter(|p| {
                    if pos {
                        p.dt_s > 0.0 && p.dg_s > 0.0
                    } else {
                        p.dt_s < 0.0 && p.dg_s < 0.0
                    }
                })
                .map(|p| (p.dt_s.abs(), p.dg_s.abs()))
                .collect();
            let m = pts.iter().fold(0.0f64, |m, p| m.max(p.1));
            let pts: Vec<(f64, f64)> = pts.into_iter().filter(|p| p.1 >= 1e-3 * m).collect();
            if pts.len() < 2 {
                return None;
            }
            let n = pts.len() as f64;
            let (sx, sy) = pts
                .iter()
                .fold((0.0, 0.0), |(a, b), p| (a + p.0, b + p.1.ln()));
            let (mx, my) = (sx / n, sy / n);
            let (sxy, sxx) = pts.iter().fold((0.0, 0.0), |(a, b), p| {
                (
                    a + (p.0 - mx) * (p.1.ln() - my),
                    b + (p.0 - mx) * (p.0 - mx),
                )
            });
            if sxx <= 0.0 {
                return None;
            }
            let slope = sxy / sxx;
            if slope >= 0.0 {
                return None;
            }
            Some(((my - slope * mx).exp(), -1.0 / slope))
        };
        let (ap, tp) = side(true)?;
        let (am, tm) = side(false)?;
        Some(PairRule {
            a_plus: ap,
            tau_plus: tp,
            a_minus: am,
            tau_minus: tm,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Network demo

/// Settings of the winner-take-all demo.
#[derive(Clone, Debug)]
pub struct NetworkSpec {
    /// Binary 8×8 patterns, row-major (64 values each).
    pub patterns: Vec<Vec<bool>>,
    /// Output neurons (columns).
    pub outputs: usize,
    /// Presentations (one random pattern each).
    pub presentations: usize,
    /// Time slots per presentation; a slot lasts one spike width.
    pub slots: usize,
    /// Spike probability per slot of an ON / OFF pixel.
    pub p_on: f64,
    pub p_off: f64,
    pub seed: u64,
}

impl NetworkSpec {
    /// The demo: the three [`demo_patterns`] on 3 outputs, 300 presentations of 12 slots, ON
    /// pixels spiking in 95 % of the slots and OFF pixels in 2 % (nearly every ON pixel then
    /// spikes in the slot that fires the output; tuned with [`network_spikes`], seed 9).
    pub fn demo() -> NetworkSpec {
        NetworkSpec {
            patterns: demo_patterns(),
            outputs: 3,
            presentations: 300,
            slots: 12,
            p_on: 0.95,
            p_off: 0.02,
            seed: 9,
        }
    }
}

/// The network's spikes from the window's (`base`): the post spike's tail raised to 1.5 V, so
/// that with the OxRAM card a post spike alone RESETs every cell of the winning column (its
/// 0.8 V tail alone does not: the window is flat beyond the spikes), and a pre spike just
/// before it turns the overlap into a SET. This is the simplified STDP of
/// Querlioz et al. (IEEE Trans. Nanotechnol. 12, 288 (2013)): inputs that drove the output
/// potentiate, all others depress, so OFF pixels (which rarely spike) still unlearn.
pub fn network_spikes(base: &StdpCfg) -> StdpCfg {
    let mut cfg = base.clone();
    cfg.post.a_tail = 1.5;
    cfg
}

/// The demo's binary 8×8 patterns, row-major.
pub fn demo_patterns() -> Vec<Vec<bool>> {
    let pics = [
        // a cross, a square frame, a diagonal band
        [
            "X......X", ".X....X.", "..X..X..", "...XX...", "...XX...", "..X..X..", ".X....X.",
            "X......X",
        ],
        [
            "XXXXXXXX", "X......X", "X......X", "X......X", "X......X", "X......X", "X......X",
            "XXXXXXXX",
        ],
        [
            "XX......", "XXX.....", ".XXX....", "..XXX...", "...XXX..", "....XXX.", ".....XXX",
            "......XX",
        ],
    ];
    pics.iter()
        .map(|p| p.iter().flat_map(|r| r.chars().map(|c| c == 'X')).collect())
        .collect()
}

/// Trains the config's array (rows = 64 inputs, its first `outputs` columns) by STDP; returns
/// the read-conductance matrix after each `snapshot_every` presentations and the winner
/// sequence.
///
/// Per presentation: Poisson (Bernoulli per slot) pre spikes; each output integrates
/// Σ_i s_i·G_ij in a leaky integrator with an adaptive threshold (homeostasis), the first to
/// cross it fires and inhibits the others for the rest of the presentation (winner-take-all);
/// then every cell of the array receives its row's pre-spike train and its column's post spike
/// train as line waveforms, and advances under the overlap by the device physics. With ideal
/// lines the cells are independent, so each is driven on its own (a one-cell array, the same
/// engine); pre spikes on non-firing columns stay below threshold.
pub fn train_network(
    xb: &Crossbar,
    cfg: &StdpCfg,
    spec: &NetworkSpec,
    g_init: f64,
) -> Result<NetworkResult, ProgError> {
    let n_in = spec.patterns.first().map_or(0, |p| p.len());
    if xb.rows != n_in || xb.phys_cols() < spec.outputs {
        return Err(ProgError::Input(format!(
            "network demo needs a {n_in}-row array with ≥ {} columns, got {}×{}",
            spec.outputs,
            xb.rows,
            xb.phys_cols()
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut cell_xb = xb.clone();
    cell_xb.rows = 1;
    cell_xb.cols = 1;
    cell_xb.cell = crate::crossbar::CellKind::ZeroT1R;
    cell_xb.transistor = None;
    cell_xb.r_row = 0.0;
    cell_xb.r_col = 0.0;
    cell_xb.r_driver = 0.0;
    cell_xb.r_sense = 0.0;
    cell_xb.cells.truncate(1);
    cell_xb.g.truncate(1);
    let (v_read, temp) = (xb.v_read, xb.temp_k);
    let mut cells: Vec<crate::device::Cell> = (0..n_in)
        .flat_map(|i| (0..spec.outputs).map(move |j| (i, j)))
        .map(|(i, j)| xb.cells[i * xb.phys_cols() + j].clone())
        .collect();
    for c in &mut cells {
        program_read_conductance(c, g_init, v_read, temp)?;
    }
    let mut rngs = cell_rngs(spec.seed, ADVANCE_SALT, cells.len());
    let slot = cfg.pre.width().max(cfg.post.width());
    let mut theta = vec![0.0f64; spec.outputs];
    let mut winners = Vec::with_capacity(spec.presentations);
    let mut snapshots = Vec::new();
    let stepping = Stepping::default();
    for pres in 0..spec.presentations {
        let p = rng.random_range(0..spec.patterns.len());
        let pat = &spec.patterns[p];
        let spikes: Vec<Vec<usize>> = (0..n_in)
            .map(|i| {
                let q = if pat[i] { spec.p_on } else { spec.p_off };
                (0..spec.slots).filter(|_| rng.random_bool(q)).collect()
            })
            .collect();
        // Leaky integrators with winner-take-all. The input of output j is normalised by its
        // column's total conductance (divisive normalisation), so it measures how much of the
        // column's weight sits on the spiking pixels, not its overall scale.
        let g: Vec<f64> = cells
            .iter()
            .map(|c| c.read_conductance(v_read, temp))
            .collect();
        let g_col: Vec<f64> = (0..spec.outputs)
            .map(|j| (0..n_in).map(|i| g[i * spec.outputs + j]).sum())
            .collect();
        let mut u = vec![0.0f64; spec.outputs];
        let mut fire: Option<(usize, usize)> = None;
        let mut best = (0usize, f64::NEG_INFINITY, 0usize);
        for s in 0..spec.slots {
            for j in 0..spec.outputs {
                let drive: f64 = (0..n_in)
                    .filter(|&i| spikes[i].contains(&s))
                    .map(|i| g[i * spec.outputs + j])
                    .sum();
                u[j] = 0.7 * u[j] + drive / g_col[j];
            }
            for j in 0..spec.outputs {
                if u[j] - theta[j] > best.1 {
                    best = (j, u[j] - theta[j], s);
                }
            }
            if best.1 > 0.5 {
                fire = Some((best.0, best.2));
                break;
            }
        }
        // Lateral inhibition: at the latest at the end of the presentation the most excited
        // output fires and silences the others.
        if fire.is_none() && best.1.is_finite() {
            fire = Some((best.0, best.2));
        }
        // Homeostasis: the winner's threshold rises, all decay slowly.
        for t in theta.iter_mut() {
            *t *= 0.98;
        }
        let Some((jw, s_post)) = fire else {
            winners.push(None);
            continue;
        };
        theta[jw] += 0.05;
        winners.push(Some((p, jw)));
        // Device update of the winner's column: each cell sees its row's pre train and one post spike.
        // The output fires just after the peaks of the pre spikes that drove it (the slot's
        // spikes start at s·slot + slot): those land at Δt = 1.2·t_peak, the top of the window.
        let t_post = s_post as f64 * slot + slot + 1.2 * cfg.pre.t_peak;
        let post = cfg.post.at(t_post);
        for i in 0..n_in {
            let pre_parts: Vec<Pwl> = spikes[i]
                .iter()
                .map(|&s| cfg.pre.at(s as f64 * slot + slot))
                .collect();
            // Every cell of the column is driven, silent inputs too: a lone post spike may move
            // the state (it does with `network_spikes`).
            let pre = if pre_parts.is_empty() {
                Pwl::constant(0.0)
            } else {
                Pwl::sum(&pre_parts)
            };
            let k = i * spec.outputs + jw;
            cell_xb.cells[0] = cells[k].clone();
            let drive = Drive {
                rows: vec![Some(pre)],
                cols: vec![Some(post.clone())],
                gates: vec![Pwl::constant(0.0)],
            };
            let mut arr = bind_for(&cell_xb, &drive)?;
            run_drive(
                &mut arr,
                &drive,
                std::slice::from_mut(&mut rngs[k]),
                &stepping,
            )?;
            cells[k] = arr.crossbar().cells[0].clone();
        }
        if (pres + 1) % spec.presentations.div_ceil(8).max(1) == 0 || pres + 1 == spec.presentations
        {
            snapshots.push(
                cells
                    .iter()
                    .map(|c| c.read_conductance(v_read, temp))
                    .collect(),
            );
        }
    }
    let g_final = cells
        .iter()
        .map(|c| c.read_conductance(v_read, temp))
        .collect();
    Ok(NetworkResult {
        outputs: spec.outputs,
        g: g_final,
        snapshots,
        winners,
    })
}

/// Result of [`train_network`]: conductances row-major `inputs × outputs` (S).
#[derive(Clone, Debug)]
pub struct NetworkResult {
    pub outputs: usize,
    pub g: Vec<f64>,
    pub snapshots: Vec<Vec<f64>>,
    /// (pattern shown, winning column) per presentation; `None` when no output fired.
    pub winners: Vec<Option<(usize, usize)>>,
}

impl NetworkResult {
    /// Column j's weights as an 8×8 image.
    pub fn image(&self, j: usize) -> Vec<Vec<f64>> {
        (0..8)
            .map(|r| {
                (0..8)
                    .map(|c| self.g[(r * 8 + c) * self.outputs + j])
                    .collect()
            })
            .collect()
    }
}

/// Template helper for tests and the demo: the spike used for both neurons.
pub fn default_spike() -> SpikeTemplate {
    StdpCfg::default().pre
}
