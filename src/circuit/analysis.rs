//! Analyses over a bound circuit: DC operating point, DC sweep (one or two nested
//! sources), and transient (backward Euler / trapezoidal with truncation-error step control
//! and breakpoints at source corners and at every output time).

use super::elements::*;
use super::engine::{Integrator, Mode, SimError, Simulator};
use super::waveform;
use crate::report::Table;

/// Result of one analysis card, named and ordered as ngspice writes it.
#[derive(Clone, Debug)]
pub enum AnalysisResult {
    /// `(name, value)` rows: `v(node)` then `i(source)`.
    Op(Vec<(String, f64)>),
    /// First column `v-sweep` or `i-sweep`, then the output vectors.
    Dc(Table),
    /// First column `time`, then the output vectors.
    Tran(Table),
}

impl AnalysisResult {
    pub fn kind(&self) -> &'static str {
        match self {
            AnalysisResult::Op(_) => "op",
            AnalysisResult::Dc(_) => "dc",
            AnalysisResult::Tran(_) => "tran",
        }
    }
}

/// Run every analysis of the circuit in order.
pub fn run_all(circuit: Circuit) -> Result<Vec<AnalysisResult>, SimError> {
    run_all_at(circuit, None)
}

/// As [`run_all`], with transient rows at `tran_times` (s) instead of the TSTEP grid.
pub fn run_all_at(
    circuit: Circuit,
    tran_times: Option<&[f64]>,
) -> Result<Vec<AnalysisResult>, SimError> {
    let analyses = circuit.analyses.clone();
    let mut sim = Simulator::new(circuit)?;
    let mut out = Vec::new();
    for a in analyses {
        out.push(match a {
            Analysis::Op => AnalysisResult::Op(op(&mut sim)?),
            Analysis::Dc { inner, outer } => {
                AnalysisResult::Dc(dc_sweep(&mut sim, &inner, outer.as_ref())?)
            }
            Analysis::Tran {
                tstep,
                tstop,
                tstart,
                tmax,
                uic,
            } => AnalysisResult::Tran(transient(
                &mut sim,
                &TranSpec {
                    tstep,
                    tstop,
                    tstart,
                    tmax,
                    uic,
                    output_times: tran_times.map(|t| t.to_vec()),
                },
            )?),
        });
    }
    Ok(out)
}

/// DC operating point as `(name, value)` rows.
pub fn op(sim: &mut Simulator) -> Result<Vec<(String, f64)>, SimError> {
    let sol = sim.op()?;
    Ok(sim
        .output_names()
        .into_iter()
        .zip(sim.output_values(&sol.x))
        .collect())
}

/// Which independent source a sweep drives.
#[derive(Clone, Copy)]
enum Swept {
    V(usize),
    I(usize),
}

fn find_source(sim: &Simulator, name: &str) -> Result<Swept, SimError> {
    let c = sim.circuit();
    if let Some(k) = c
        .vsources
        .iter()
        .position(|v| v.name.eq_ignore_ascii_case(name))
    {
        return Ok(Swept::V(k));
    }
    if let Some(k) = c
        .isources
        .iter()
        .position(|v| v.name.eq_ignore_ascii_case(name))
    {
        return Ok(Swept::I(k));
    }
    Err(SimError::Invalid(format!(
        ".dc sweeps source {name}, which is not a V or I source of the circuit"
    )))
}

fn set_source(sim: &mut Simulator, s: Swept, value: f64) {
    let c = sim.circuit_mut();
    match s {
        Swept::V(k) => c.vsources[k].dc = value,
        Swept::I(k) => c.isources[k].dc = value,
    }
}

/// Sweep points as ngspice steps them: start, start+step, … while not past stop.
fn sweep_points(s: &Sweep) -> Result<Vec<f64>, SimError> {
    if s.step == 0.0 || !s.step.is_finite() || (s.stop - s.start) * s.step < 0.0 {
        return Err(SimError::Invalid(format!(
            ".dc {}: step {} does not lead from {} to {}",
            s.source, s.step, s.start, s.stop
        )));
    }
    let n = ((s.stop - s.start) / s.step + 1e-9).floor() as usize + 1;
    Ok((0..n).map(|k| s.start + k as f64 * s.step).collect())
}

/// DC sweep of one source (inner), optionally nested in a second (outer); every point is
/// warm-started from the previous one.
pub fn dc_sweep(
    sim: &mut Simulator,
    inner: &Sweep,
    outer: Option<&Sweep>,
) -> Result<Table, SimError> {
    let si = find_source(sim, &inner.source)?;
    let inner_pts = sweep_points(inner)?;
    let outer_pts = match outer {
        Some(o) => Some((find_source(sim, &o.source)?, sweep_points(o)?)),
        None => None,
    };
    let saved: Vec<f64> = sim
        .circuit()
        .vsources
        .iter()
        .map(|v| v.dc)
        .chain(sim.circuit().isources.iter().map(|i| i.dc))
        .collect();
    let first = match si {
        Swept::V(_) => "v-sweep",
        Swept::I(_) => "i-sweep",
    };
    let mut columns = vec![first.to_string()];
    columns.extend(sim.output_names());
    let mut rows = Vec::new();
    let outer_list: Vec<Option<f64>> = match &outer_pts {
        Some((_, p)) => p.iter().map(|&v| Some(v)).collect(),
        None => vec![None],
    };
    let result = (|| {
        for ov in outer_list {
            if let (Some(v), Some((so, _))) = (ov, &outer_pts) {
                set_source(sim, *so, v);
            }
            for &v in &inner_pts {
                set_source(sim, si, v);
                let sol = sim.op().map_err(|e| {
                    SimError::NoConvergence(format!("at {} = {v}: {e}", inner.source))
                })?;
                let mut row = vec![v];
                row.extend(sim.output_values(&sol.x));
                rows.push(row);
            }
        }
        Ok(())
    })();
    // Restore the sources' own values whatever happened.
    let c = sim.circuit_mut();
    let nv = c.vsources.len();
    for (k, v) in saved.into_iter().enumerate() {
        if k < nv {
            c.vsources[k].dc = v;
        } else {
            c.isources[k - nv].dc = v;
        }
    }
    result?;
    Ok(Table { columns, rows })
}

/// Parameters of a `.tran` card (s).
#[derive(Clone, Debug)]
pub struct TranSpec {
    pub tstep: f64,
    pub tstop: f64,
    pub tstart: f64,
    pub tmax: Option<f64>,
    pub uic: bool,
    /// Output rows at these times (s, increasing) instead of the TSTEP grid — e.g. another
    /// simulator's own time points, so a comparison involves no interpolation at all.
    pub output_times: Option<Vec<f64>>,
}

/// Local truncation error bound on the next step from the charge histories (the
/// divided-difference estimate of SPICE2/ngspice's CKTterr).
fn truncation_step(sim: &Simulator, deltas: &[f64; 3], order: usize) -> f64 {
    let o = &sim.circuit.options;
    let factor = if order == 1 { 0.5 } else { 1.0 / 12.0 };
    let h = deltas[0];
    let mut best = f64::INFINITY;
    for (q, i) in sim.charges.q.iter().zip(&sim.charges.i) {
        let volttol = o.abstol + o.reltol * i[0].abs().max(i[1].abs());
        let chargetol = o.reltol * q[0].abs().max(q[1].abs()).max(o.chgtol) / h;
        let tol = volttol.max(chargetol);
        let diff = divided_difference(q, deltas, order);
        let del = o.trtol * tol / o.abstol.max(factor * diff.abs());
        let del = if order == 2 { del.sqrt() } else { del };
        best = best.min(del);
    }
    best
}

/// The (order + 1)-th divided difference of a charge over the present iterate and the last
/// order + 1 accepted points (C/s^(order+1)).
fn divided_difference(q: &[f64; 4], deltas: &[f64; 3], order: usize) -> f64 {
    let mut diff = *q;
    let mut dt = [deltas[0], deltas[1], deltas[2]];
    let mut j = order as isize;
    loop {
        for k in 0..=(j as usize) {
            diff[k] = (diff[k] - diff[k + 1]) / dt[k];
        }
        j -= 1;
        if j < 0 {
            break;
        }
        for k in 0..=(j as usize) {
            dt[k] = dt[k + 1] + deltas[k];
        }
    }
    diff[0]
}

/// Truncation error of the voltage sources' branch currents, the currents a deck reports as
/// `i(vname)`. The charge test above lets each charge's current be off by TRTOL·(ABSTOL +
/// RELTOL·|i|); a supply current that is the difference of several such currents (loads
/// whose capacitances charge and discharge together) can then be wrong by more than RELTOL
/// of its own range. Here each source's current error is estimated as the signed sum, by KCL
/// at its node, of the current errors of the charges there: i = dq/dt is off by
/// h·q''/2 = h·q[2] under backward Euler and by h²·q'''/6 = h²·q[3] under the trapezoidal
/// rule (q[k]: the k-th divided difference, smooth where the trapezoidal currents ring),
/// and held to RELTOL of the source's largest |current| so far (a signal-relative tolerance,
/// not ABSTOL, which a deck may set loose for convergence; a source whose current has not
/// exceeded ABSTOL is not held). The window of the divided
/// differences must not straddle a source corner (a kink in every charge there).
struct SourceLte {
    /// Per source: (charge, sign of its current at the source's node).
    charges: Vec<Vec<(usize, f64)>>,
    /// Per source: largest |branch current| at the accepted points so far (A).
    peak: Vec<f64>,
    /// Accepted points since the last corner.
    since_corner: usize,
}

impl SourceLte {
    fn new(sim: &Simulator, x: &[f64]) -> Self {
        SourceLte {
            charges: sim.vsource_charges(),
            peak: sim.vsource_currents(x).iter().map(|i| i.abs()).collect(),
            since_corner: 0,
        }
    }

    /// The largest step (s) for which every source current's estimated truncation error
    /// stays within RELTOL of its peak, judged on the step of `deltas[0]` just solved.
    fn step_bound(&self, sim: &Simulator, deltas: &[f64; 3], order: usize) -> f64 {
        if self.since_corner < order {
            return f64::INFINITY;
        }
        let (reltol, abstol) = (sim.circuit.options.reltol, sim.circuit.options.abstol);
        let h = deltas[0];
        let mut best = f64::INFINITY;
        for (charges, &peak) in self.charges.iter().zip(&self.peak) {
            // A current that has stayed within ABSTOL of zero is as accurate as ABSTOL asks
            // (and its relative error would be roundoff and Newton noise).
            if charges.is_empty() || peak <= abstol {
                continue;
            }
            let err: f64 = charges
                .iter()
                .map(|&(k, sign)| sign * divided_difference(&sim.charges.q[k], deltas, order))
                .sum::<f64>()
                * h.powi(order as i32);
            let tol = reltol * peak;
            if err != 0.0 {
                best = best.min(h * (tol / err.abs()).powf(1.0 / order as f64));
            }
        }
        best
    }

    fn accept(&mut self, currents: &[f64], corner: bool) {
        for (p, i) in self.peak.iter_mut().zip(currents) {
            *p = p.max(i.abs());
        }
        self.since_corner = if corner { 0 } else { self.since_corner + 1 };
    }
}

/// The solution at `time`, a backward-Euler step of `h` (s, ≤ 1e-6·TMAX) past the accepted
/// point `x`, which is not kept as history: divided differences over so short a step would
/// only carry roundoff into the next truncation-error estimate. `None` if Newton fails
/// (the caller then reports `x`, at most `h` early).
fn solve_off_history(sim: &mut Simulator, x: &[f64], time: f64, h: f64) -> Option<Vec<f64>> {
    let saved_integ = sim.integ;
    let saved_charges = sim.charges.clone();
    sim.integ = Integrator {
        ag0: 1.0 / h,
        ag1: 0.0,
        order: 1,
    };
    sim.seed_limits(x);
    // A step this short starts next to its answer, except where the answer is a square-root
    // function of the time (a double root: Newton converges only linearly); hence the
    // budget of the transient's initial point.
    let budget = sim.circuit.options.itl4.max(10) * 10;
    let r = sim.newton(x, Mode::Tran { time }, budget);
    sim.integ = saved_integ;
    sim.charges = saved_charges;
    sim.seed_limits(x);
    match r {
        Ok(xg) => Some(xg),
        Err(e) => {
            if std::env::var_os("XBAR_TRAN").is_some() {
                eprintln!("tran: output row at t = {time:e} from {h:e} s earlier: {e}");
            }
            None
        }
    }
}

/// Transient analysis. Output rows at every multiple of `tstep` from `tstart` (the grid
/// ngspice's `linearize` output uses), the first row at t = 0: the operating point, or with
/// `uic` the circuit with every capacitor at its initial voltage.
pub fn transient(sim: &mut Simulator, spec: &TranSpec) -> Result<Table, SimError> {
    let TranSpec {
        tstep,
        tstop,
        tstart,
        tmax,
        uic,
        ..
    } = *spec;
    if !(tstep > 0.0 && tstop > 0.0 && tstart >= 0.0 && tstart < tstop) {
        return Err(SimError::Invalid(format!(
            ".tran {tstep} {tstop} {tstart}: needs 0 < tstep, 0 ≤ tstart < tstop"
        )));
    }
    let hmax = tmax
        .unwrap_or_else(|| tstep.min((tstop - tstart) / 50.0))
        .min(tstep);
    // Resolve the analysis-dependent waveform defaults once and collect the corners.
    let mut corners = Vec::new();
    for s in sim
        .circuit
        .vsources
        .iter_mut()
        .chain(sim.circuit.isources.iter_mut())
    {
        if let Some(w) = &s.wave {
            let r = waveform::resolve(w, tstep, tstop);
            waveform::breakpoints(&r, tstop, &mut corners);
            s.wave = Some(r);
        }
    }
    corners.sort_by(f64::total_cmp);
    corners.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * tstop);
    let n_out = ((tstop / tstep) + 1e-6).floor() as usize;
    let grid: Vec<f64> = match &spec.output_times {
        Some(times) => times
            .iter()
            .copied()
            .filter(|&t| t >= tstart - 1e-12 * tstop && t <= tstop * (1.0 + 1e-12))
            .collect(),
        None => (0..=n_out)
            .map(|k| k as f64 * tstep)
            .filter(|&t| t >= tstart - 1e-12 * tstop)
            .collect(),
    };
    let eps = 1e-9 * hmax;
    let hmin = 1e-11 * hmax;

    let mut columns = vec!["time".to_string()];
    columns.extend(sim.output_names());
    let mut rows = Vec::new();

    // Initial point.
    sim.integ = Integrator {
        ag0: 0.0,
        ag1: 0.0,
        order: 1,
    };
    let mut x = if uic {
        let mut x = vec![0.0; sim.n];
        for (b, l) in sim
            .inds_branches()
            .into_iter()
            .zip(sim.circuit.inductors.iter())
        {
            x[b] = l.ic.unwrap_or(0.0);
        }
        for &(node, v) in &sim.circuit.initial_conditions {
            if node != GROUND {
                x[node - 1] = v;
            }
        }
        x
    } else {
        sim.source_time = Some(0.0);
        let r = sim.dc_solve();
        sim.source_time = None;
        r.map_err(|e| SimError::NoConvergence(format!("transient initial operating point: {e}")))?
    };
    sim.seed_limits(&x);
    sim.load(&x, Mode::Tran { time: 0.0 });
    if uic {
        sim.apply_initial_charges();
    }
    sim.charges.init_history();
    sim.tran_start();
    let mut source_lte = SourceLte::new(sim, &x);
    if uic && tstart <= 0.0 {
        // The t = 0 row under `uic`: the circuit with every capacitor holding its initial
        // charge, found as a vanishing backward-Euler step that is not kept as history.
        let h0 = 1e-9 * hmax;
        sim.integ = Integrator {
            ag0: 1.0 / h0,
            ag1: 0.0,
            order: 1,
        };
        let saved = sim.charges.clone();
        let x0 = sim
            .newton(
                &x,
                Mode::Tran { time: 0.0 },
                sim.circuit.options.itl4.max(10) * 10,
            )
            .map_err(|e| {
                SimError::NoConvergence(format!("transient initial point with uic: {e}"))
            })?;
        sim.charges = saved;
        let mut row = vec![0.0];
        row.extend(sim.output_values(&x0));
        rows.push(row);
        x = x0;
    }
    if !uic && tstart <= 0.0 {
        let mut row = vec![0.0];
        row.extend(sim.output_values(&x));
        rows.push(row);
    }

    let method = sim.circuit.options.method;
    let itl4 = sim.circuit.options.itl4.max(4);
    let mut t = 0.0;
    let mut h = (tstop / 100.0).min(tstep) / 10.0;
    let mut order = 1;
    // As ngspice: the history of step sizes starts at the maximum step, and the first
    // point is accepted without a truncation-error test (its history is not a solution).
    let mut deltas = [h, hmax, hmax];
    let mut first = true;
    let mut since_restart = 0usize;
    let mut next_grid = grid.iter().position(|&g| g > eps).unwrap_or(grid.len());
    let mut next_corner = 0;
    let mut steps = 0usize;
    // Output times or corners closer than this to the present point are taken as reached:
    // a step that short only adds roundoff (charge differences of 1e-16 relative divided by it).
    let tiny = 1e-6 * hmax;
    while t < tstop - eps {
        while next_corner < corners.len() && corners[next_corner] <= t + tiny {
            next_corner += 1;
        }
        while next_grid < grid.len() && grid[next_grid] <= t + tiny {
            // The row is the solution at the output time itself, not at the present point
            // up to `tiny` before it: near a square-root edge (a CMOS inverter's v(out) at
            // its switching threshold) 5 fs of input ramp move the output by millivolts.
            let g = grid[next_grid];
            let xg = if g - t > eps {
                solve_off_history(sim, &x, g, g - t)
            } else {
                None
            };
            let mut row = vec![g];
            row.extend(sim.output_values(xg.as_ref().unwrap_or(&x)));
            rows.push(row);
            next_grid += 1;
        }
        let bp = corners
            .get(next_corner)
            .copied()
            .unwrap_or(f64::INFINITY)
            .min(grid.get(next_grid).copied().unwrap_or(tstop))
            .min(tstop);
        h = h.min(hmax);
        if t + h > bp - hmin.max(1e-3 * h) {
            h = bp - t;
        }
        let tn = t + h;
        deltas[0] = h;
        sim.integ = match (order, method) {
            (2, IntegrationMethod::Trapezoidal) => Integrator {
                ag0: 2.0 / h,
                ag1: 1.0,
                order: 2,
            },
            _ => Integrator {
                ag0: 1.0 / h,
                ag1: 0.0,
                order: 1,
            },
        };
        // Newton starts from the last accepted point.
        sim.seed_limits(&x);
        match sim.newton(&x, Mode::Tran { time: tn }, itl4) {
            Err(e) => {
                if std::env::var_os("XBAR_TRAN").is_some() {
                    eprintln!("tran: step {h:e} from t = {t:e} (order {order}) failed: {e}");
                }
                if matches!(e, SimError::Singular(_)) && h < hmin * 10.0 {
                    return Err(e);
                }
                h /= 8.0;
                order = 1;
                if h < hmin {
                    return Err(SimError::NoConvergence(format!(
                        "timestep too small at t = {t:e} s: {e}"
                    )));
                }
                continue;
            }
            Ok(xn) => {
                // Charges and their currents at the solution itself (the last load saw the
                // previous iterate), before judging the step.
                sim.load(&xn, Mode::Tran { time: tn });
                let hlte = if sim.charges.q.is_empty() || first {
                    f64::INFINITY
                } else {
                    truncation_step(sim, &deltas, sim.integ.order).min(source_lte.step_bound(
                        sim,
                        &deltas,
                        sim.integ.order,
                    ))
                };
                if hlte < 0.9 * h && h > hmin * 10.0 {
                    h = hlte.max(h / 8.0);
                    continue;
                }
                x = xn;
                t = tn;
                if std::env::var("XBAR_TRAN").is_ok_and(|v| v == "2") {
                    eprintln!("tran: accept t = {t:.15e} h = {h:e} order {order} hlte {hlte:e}");
                }
                sim.accept_point(&x, h);
                steps += 1;
                first = false;
                deltas = [h, deltas[0], deltas[1]];
                let hit_corner = next_corner < corners.len()
                    && (corners[next_corner] - t).abs() <= eps.max(1e-3 * h);
                source_lte.accept(&sim.vsource_currents(&x), hit_corner);
                if next_grid < grid.len() && (grid[next_grid] - t).abs() <= eps.max(1e-3 * h) {
                    let mut row = vec![grid[next_grid]];
                    row.extend(sim.output_values(&x));
                    rows.push(row);
                    next_grid += 1;
                }
                h = (2.0 * h).min(hlte).min(hmax);
                if hit_corner {
                    // A source corner: restart with a first-order step, a tenth of the way on.
                    order = 1;
                    let following = corners.get(next_corner + 1).copied().unwrap_or(tstop);
                    h = h.min(0.1 * (following - t).max(hmin)).min(0.1 * tstep);
                    since_restart = 0;
                } else if method == IntegrationMethod::Trapezoidal && since_restart >= 3 {
                    // Second order once three L-stable backward-Euler steps have damped the
                    // stiff modes a corner excites (trapezoidal alone would ring on them).
                    order = 2;
                }
                since_restart += 1;
                if steps > 50_000_000 {
                    return Err(SimError::NoConvergence(
                        "transient exceeded 5e7 time steps".into(),
                    ));
                }
            }
        }
    }
    if std::env::var_os("XBAR_TRAN").is_some() {
        // Step-control statistics (compared in issue 12 across the shared transient decks).
        eprintln!("tran: {steps} accepted time steps to t = {tstop:e} s");
    }
    // Grid points that fall within eps of tstop.
    while next_grid < grid.len() {
        let mut row = vec![grid[next_grid]];
        row.extend(sim.output_values(&x));
        rows.push(row);
        next_grid += 1;
    }
    Ok(Table { columns, rows })
}
