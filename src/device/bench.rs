//! The bench of a device experiment: what sits between the source and the device in a lab
//! (series resistance, an SMU's current compliance, a 1T1R access transistor, the ambient), and
//! the series-chain solve that drives a cell through it. Used by `xbar device` and by the
//! fitter's replay of measured data.

use rand_chacha::ChaCha8Rng;

use super::Cell;

/// Ambient temperature of the device experiments (K).
pub const DEVICE_TEMP_K: f64 = 300.0;
/// Sub-steps of the state integration between two samples of a sweep; the bias of each is the
/// sweep's value at the sub-step midpoint, so the triangle is followed to second order.
pub const IV_SUBSTEPS: usize = 8;

/// A bench setting that cannot be run (the message names the flag and value).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BenchError(pub String);

// ---------------------------------------------------------------------------------------------
// The bench: what sits between the source and the device in a lab, and how a device is prepared.

/// Access transistor of a 1T1R bench: an n-MOSFET (Shichman-Hodges, no body effect, λ = 0)
/// between the cell's bottom electrode and ground, gate at `v_gate_v`. Its saturation current
/// β/2·(V_G − V_TO)² is the SET compliance of a 1T1R cell (device-physics.md §6). Defaults are the
/// PKU netlist's (VTO = 0.7 V, KP = 6e-5 A/V², W/L = 10: β = 6e-4 A/V²) [PKU2].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Access {
    pub v_gate_v: f64,
    pub vto_v: f64,
    /// β = KP·W/L (A/V²).
    pub beta_a_per_v2: f64,
}

impl Access {
    /// 1T1R access transistor with the PKU netlist's parameters at gate bias `v_gate_v`.
    pub fn pku(v_gate_v: f64) -> Self {
        Access {
            v_gate_v,
            vto_v: 0.7,
            beta_a_per_v2: 6e-5 * 10.0,
        }
    }

    /// Drain-source drop (V, ≥ 0) that carries current magnitude `i` (A) in the direction given
    /// by `forward` (current into the drain from the cell: source at ground), or `None` when the
    /// transistor cannot carry it (saturated, λ = 0).
    /// Forward: V_GS = V_G, I = β(V_ov·V − V²/2) up to V_ov, then β/2·V_ov².
    /// Reverse (cell below ground): the source is the cell side, V_GS = V_G + V, and the device
    /// is always in its linear region, I = β(V_ov·V + V²/2), or β/2·(V_ov + V)² when V_ov < 0.
    pub fn drop_for_current(&self, i: f64, forward: bool) -> Option<f64> {
        let b = self.beta_a_per_v2;
        let ov = self.v_gate_v - self.vto_v;
        if i <= 0.0 {
            return Some(0.0);
        }
        if forward {
            if ov <= 0.0 || i >= 0.5 * b * ov * ov {
                None
            } else {
                Some(ov - (ov * ov - 2.0 * i / b).max(0.0).sqrt())
            }
        } else if ov >= 0.0 {
            Some(-ov + (ov * ov + 2.0 * i / b).sqrt())
        } else {
            Some(-ov + (2.0 * i / b).sqrt())
        }
    }

    /// Forward saturation current β/2·(V_G − V_TO)² (A): the 1T1R compliance.
    pub fn saturation_current(&self) -> f64 {
        let ov = (self.v_gate_v - self.vto_v).max(0.0);
        0.5 * self.beta_a_per_v2 * ov * ov
    }
}

/// What sits between the source and the device, and the conditions of the experiment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bench {
    /// Ambient temperature (K) of every thermal model and of retention bakes.
    pub temp_k: f64,
    /// Series resistance (Ω) between the source and the top electrode.
    pub series_r_ohm: f64,
    /// SMU-style current clamp (A) of the SET polarity (positive source): the source becomes a
    /// current source at the compliance when the circuit would draw more. As in a lab, RESET
    /// (negative source) is not clamped by it: a RESET needs more current than the SET left.
    pub compliance_a: Option<f64>,
    /// Current clamp (A) of the RESET polarity (negative source), if any.
    pub reset_compliance_a: Option<f64>,
    /// 1T1R access transistor below the cell.
    pub access: Option<Access>,
    /// Control-gate bias (V) of a floating-gate cell; `None` = the card's `v_cg`.
    pub v_cg: Option<f64>,
}

impl Default for Bench {
    fn default() -> Self {
        Bench {
            temp_k: DEVICE_TEMP_K,
            series_r_ohm: 0.0,
            compliance_a: None,
            reset_compliance_a: None,
            access: None,
            v_cg: None,
        }
    }
}

/// Largest relative change of the cell current across one refined ramp sub-step.
pub const RAMP_REL_DI: f64 = 0.05;
/// Deepest halving of a ramp sub-step.
const RAMP_MAX_DEPTH: u32 = 24;

/// Most iterations of a bisection (2^-100 of the bracket, well under f64 resolution).
const BISECT: usize = 100;
/// Iterations of the outer bisection on the chain current (2^-64 of the bracket).
const BISECT_CURRENT: usize = 64;

impl Bench {
    /// Check the bench's own numbers.
    pub fn validate(&self) -> Result<(), BenchError> {
        if !(self.temp_k.is_finite() && self.temp_k > 0.0 && self.temp_k <= 2000.0) {
            return Err(BenchError(format!(
                "--temperature must be in (0, 2000] K, got {}",
                self.temp_k
            )));
        }
        if !(self.series_r_ohm.is_finite() && self.series_r_ohm >= 0.0) {
            return Err(BenchError(format!(
                "--series-r must be >= 0 ohm, got {}",
                self.series_r_ohm
            )));
        }
        for (name, c) in [
            ("--compliance", self.compliance_a),
            ("--reset-compliance", self.reset_compliance_a),
        ] {
            if let Some(c) = c {
                if !(c.is_finite() && c > 0.0) {
                    return Err(BenchError(format!("{name} must be > 0 A, got {c}")));
                }
            }
        }
        if let Some(a) = self.access {
            if !a.v_gate_v.is_finite() || a.v_gate_v.abs() > 10.0 {
                return Err(BenchError(format!(
                    "--v-gate must be within ±10 V, got {}",
                    a.v_gate_v
                )));
            }
        }
        if let Some(v) = self.v_cg {
            if !v.is_finite() || v.abs() > 40.0 {
                return Err(BenchError(format!("--v-cg must be within ±40 V, got {v}")));
            }
        }
        Ok(())
    }

    pub fn gate(&self, cell: &Cell) -> f64 {
        match (self.v_cg, cell) {
            (Some(v), _) => v,
            (None, Cell::FloatingGate { p, .. }) => p.v_cg,
            _ => 0.0,
        }
    }

    /// Cell current at cell voltage `v` (A), control gate applied.
    fn cell_current(&self, cell: &Cell, v: f64) -> f64 {
        cell.current_gated(v, self.gate(cell), self.temp_k).0
    }

    /// Cell voltage that carries current `i` (same sign as `v_max`), by Newton steps kept
    /// inside a shrinking bisection bracket on the monotone static law; `None` when even `v_max`
    /// does not reach it.
    pub fn cell_voltage_for(&self, cell: &Cell, i: f64, v_max: f64) -> Option<f64> {
        let s = if v_max < 0.0 { -1.0 } else { 1.0 };
        let g = self.gate(cell);
        // f(x) = s·I(s·x) − s·i, increasing in x ≥ 0.
        let f = |x: f64| {
            let (ic, di) = cell.current_gated(s * x, g, self.temp_k);
            (s * ic - s * i, di)
        };
        let (mut lo, mut hi) = (0.0f64, v_max.abs());
        if f(hi).0 < 0.0 {
            return None;
        }
        let mut x = 0.5 * hi;
        for _ in 0..BISECT {
            let (fx, dfx) = f(x);
            if fx == 0.0 {
                return Some(s * x);
            }
            if fx < 0.0 {
                lo = x
            } else {
                hi = x
            }
            let newton = x - fx / dfx;
            let next = if dfx > 0.0 && newton > lo && newton < hi {
                newton
            } else {
                0.5 * (lo + hi)
            };
            if (next - x).abs() <= 1e-15 * x.abs() + 1e-300 || hi - lo <= 1e-15 * hi {
                x = next;
                break;
            }
            x = next;
        }
        Some(s * x)
    }

    /// Operating point with source voltage `v_source` (V) applied to the chain source — series R
    /// — cell — access transistor — ground: `(cell voltage V, current A)`. With a compliance of
    /// the source's polarity, the current is clamped there and the source voltage falls as an
    /// SMU's does.
    pub fn operate(&self, cell: &Cell, v_source: f64) -> (f64, f64) {
        let plain = self.series_r_ohm == 0.0 && self.access.is_none();
        let compliance = if v_source >= 0.0 {
            self.compliance_a
        } else {
            self.reset_compliance_a
        };
        if plain {
            let i = self.cell_current(cell, v_source);
            match compliance {
                Some(c) if i.abs() > c => {
                    let i = c * v_source.signum();
                    let v = self.cell_voltage_for(cell, i, v_source).unwrap_or(v_source);
                    return (v, i);
                }
                _ => return (v_source, i),
            }
        }
        if v_source == 0.0 {
            return (0.0, 0.0);
        }
        let s = v_source.signum();
        let vs = v_source.abs();
        // Total drop (V) needed to carry current magnitude `i`; None = more than the chain can.
        let drop = |i: f64| -> Option<f64> {
            let mut d = i * self.series_r_ohm;
            if let Some(a) = self.access {
                d += a.drop_for_current(i, s > 0.0)?;
            }
            if d > vs {
                return None;
            }
            let vc = self.cell_voltage_for(cell, s * i, s * (vs - d))?;
            Some(d + vc.abs())
        };
        // Bracket the current: the series R alone bounds it by vs/R; the cell alone at vs.
        let mut i_hi = (self.cell_current(cell, v_source) * s).max(0.0);
        if self.series_r_ohm > 0.0 {
            i_hi = i_hi.min(vs / self.series_r_ohm);
        }
        if let Some(a) = self.access {
            if s > 0.0 {
                i_hi = i_hi.min(a.saturation_current());
            }
        }
        let mut clamp = false;
        if let Some(c) = compliance {
            if c < i_hi {
                i_hi = c;
                clamp = drop(c).is_some_and(|d| d <= vs);
            }
        }
        let i = if clamp {
            i_hi
        } else {
            let (mut lo, mut hi) = (0.0, i_hi);
            for _ in 0..BISECT_CURRENT {
                let mid = 0.5 * (lo + hi);
                match drop(mid) {
                    Some(d) if d <= vs => lo = mid,
                    _ => hi = mid,
                }
            }
            lo
        };
        let mut d = i * self.series_r_ohm;
        if let Some(a) = self.access {
            d += a.drop_for_current(i, s > 0.0).unwrap_or(0.0);
        }
        let vc = self
            .cell_voltage_for(cell, s * i, s * (vs - d).max(0.0))
            .unwrap_or(s * (vs - d).max(0.0));
        (vc, s * i)
    }

    /// Advance `cell` by `dt` (s) with the source at `v_source` (V): the state moves under the
    /// cell voltage of the operating point.
    pub fn advance(&self, cell: &mut Cell, v_source: f64, dt: f64, rng: &mut ChaCha8Rng) {
        let (vc, _) = self.operate(cell, v_source);
        let g = self.gate(cell);
        cell.advance_gated(vc, g, dt, self.temp_k, rng);
    }

    /// True when the cell voltage follows the cell's state (series R, compliance, access
    /// transistor): then a step at fixed cell voltage can overshoot a SET the chain would stop.
    pub fn state_dependent(&self) -> bool {
        self.series_r_ohm > 0.0
            || self.compliance_a.is_some()
            || self.reset_compliance_a.is_some()
            || self.access.is_some()
    }

    /// Advance `cell` over `dt` (s) with the source ramping linearly from `va` to `vb` (V), in
    /// [`IV_SUBSTEPS`] sub-steps at their midpoint source values. On a state-dependent bench a
    /// sub-step is halved (down to 2^-24 of it) until the cell current at the step's fixed cell
    /// voltage changes by at most [`RAMP_REL_DI`] across it, so a compliance-limited SET stops
    /// where the chain stops it rather than one coarse step later. `xbar device iv --waveform`
    /// and `xbar fit --kind iv` both step their waveforms here.
    pub fn advance_ramp(&self, cell: &mut Cell, va: f64, vb: f64, dt: f64, rng: &mut ChaCha8Rng) {
        let h = dt / IV_SUBSTEPS as f64;
        for j in 0..IV_SUBSTEPS {
            let a = va + (vb - va) * j as f64 / IV_SUBSTEPS as f64;
            let b = va + (vb - va) * (j + 1) as f64 / IV_SUBSTEPS as f64;
            if self.state_dependent() {
                self.advance_segment(cell, a, b, h, rng);
            } else {
                self.advance(cell, 0.5 * (a + b), h, rng);
            }
        }
    }

    /// One ramp sub-step from `va` to `vb` (V) over `dt` (s), halved as [`Bench::advance_ramp`]
    /// describes.
    pub fn advance_segment(
        &self,
        cell: &mut Cell,
        va: f64,
        vb: f64,
        dt: f64,
        rng: &mut ChaCha8Rng,
    ) {
        self.advance_refined(cell, va, vb, dt, rng, 0);
    }

    fn advance_refined(
        &self,
        cell: &mut Cell,
        va: f64,
        vb: f64,
        dt: f64,
        rng: &mut ChaCha8Rng,
        depth: u32,
    ) {
        let vm = 0.5 * (va + vb);
        let (vc, i0) = self.operate(cell, vm);
        let g = self.gate(cell);
        let mut trial = cell.clone();
        trial.advance_gated(vc, g, dt, self.temp_k, rng);
        let i1 = trial.current_gated(vc, g, self.temp_k).0;
        let scale = i0.abs().max(i1.abs());
        if depth < RAMP_MAX_DEPTH && scale > 0.0 && (i1 - i0).abs() > RAMP_REL_DI * scale {
            self.advance_refined(cell, va, vm, 0.5 * dt, rng, depth + 1);
            self.advance_refined(cell, vm, vb, 0.5 * dt, rng, depth + 1);
            return;
        }
        *cell = trial;
    }
}
