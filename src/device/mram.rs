//! STT-MRAM: a two-state perpendicular MTJ with stochastic spin-torque switching [MTJ-Q]
//! (XiaoquinNUDT/HSPICE-Model-for-MTJ `PMAMTJ.inc`, Zhang/Zhao equations, parameters of Cheng,
//! Khizroev, Liang, JMMM 2014, doi 10.1016/j.jmmm.2014.01.007). device-physics.md §3.
//!
//! - Resistance: `R_P = RA/Area`, `R_AP(V) = R_P·(1 + TMR(V))`, `TMR(V) = TMR0/(1 + V²/V_h²)`.
//! - Barrier `E_b = μ0·M_s·H_k·Vol/2`, `Δ = E_b/(k·T)`.
//! - Critical currents `Ic = 2·α·γ·e·E_b/(μ_B·g)` with `γ = e/m_e`,
//!   `g_AP→P = P/(2(1 − P²))`, `g_P→AP = P/(2(1 + P²))`.
//! - Sign convention (as the source): positive current, top → bottom, drives AP → P; negative
//!   current drives P → AP.
//! - Switching rate `1/τ` of the present orientation under a signed current `I` (positive for
//!   the polarity that favours switching away from it), `x = I/Ic`:
//!   - thermal, `x ≤ x_NB` (Néel-Brown, valid while `Δ·(1 − x) ≫ 1`):
//!     `1/τ = (1/τ0)·exp(−Δ·(1 − x))`. At `I = 0` this is the zero-bias thermal flip rate
//!     (retention, `τ = τ0·e^Δ`, 59 s for the card's Δ = 24.8); a current of the other polarity
//!     (`x < 0`) raises the barrier and slows it further;
//!   - precessional, `x ≥ x_Sun` (Sun): `1/τ = [2/(C + ln(π²Δ/4))]·[μ_B·P/(e·m·(1 + P²))]·(I − Ic)`,
//!     `m = M_s·Vol`, `C = 0.577`;
//!   - between them, `x_NB < x < x_Sun`, neither law holds (Néel-Brown reaches 1/τ0 at Ic where
//!     Sun starts from zero): `ln(1/τ)` follows the quadratic Bézier whose end tangents are the two
//!     laws' tangents in `(x, ln rate)`. It is monotone and C¹, and it leaves both laws exact
//!     outside the gap (defaults `x_NB = 0.8`, `x_Sun = 1.5`: 0.8·Ic gives Néel-Brown's 0.14 µs,
//!     2·Ic Sun's 2.54 ns). Where the laws do not leave a concave join (very small Δ, hot cells)
//!     the join falls back to a straight line in `ln(1/τ)`, still monotone.
//! - Stochastic switching (device-physics.md §3 and §11.6): the hazard `∫dt/τ` is integrated at
//!   every bias, zero included, and the cell flips when it reaches a threshold `−ln u`,
//!   `u ~ U(0,1]`, drawn afresh after every flip. The switching is then a non-homogeneous Poisson
//!   process, so `P_sw = 1 − exp(−∫dt/τ)` for any slicing of any waveform, and the same
//!   mechanism gives write switching, read disturb and zero-bias retention. (The source resets
//!   its integral below 1 µA, which cannot express retention; `i_reset_a` is kept only so old
//!   cards load, and is ignored.)
//! - Self-heating and the parasitic capacitance of the source are not modelled.

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::card::{
    closed, family_params, open, params, sample_params, ParamError, NON_NEG, POS,
};
use super::model::{CompactModel, K_B, Q_E};

/// Vacuum permeability (CODATA 2018), H/m.
pub const MU_0: f64 = 1.256_637_062_12e-6;
/// Bohr magneton (CODATA 2018), J/T.
pub const MU_B: f64 = 9.274_010_078_3e-24;
/// Electron mass (CODATA 2018), kg.
pub const M_E: f64 = 9.109_383_701_5e-31;
/// Euler's constant as rounded in the Sun model [MTJ-Q].
pub const EULER_C: f64 = 0.577;

params! {
    /// Parameters of the two-state MTJ (one device after D2D sampling). The D2D coefficients
    /// are the source's RA_G, TMR_G, IC_G Monte-Carlo knobs; cycle-to-cycle randomness is the
    /// intrinsic stochastic switching.
    MtjParams, "mtj" {
        #[required] ra_ohm_um2: "RA", "Ω·µm²", Some(4.7597), POS, P,
            "Resistance-area product of the parallel state; R_P = RA/Area.";
        #[required] diameter_m: "d", "m", Some(40.0e-9), POS, P,
            "Diameter of the circular pillar; Area = π·d²/4.";
        #[required] t_free_m: "t_fl", "m", Some(1.0e-9), POS, P,
            "Free-layer thickness; Vol = Area·t_fl.";
        #[required] tmr0: "TMR0", "1", Some(1.2), NON_NEG, P,
            "Zero-bias tunnelling magnetoresistance ratio (R_AP − R_P)/R_P.";
        #[required] v_h_v: "V_h", "V", Some(0.5), POS, P,
            "Bias at which TMR falls to TMR0/2.";
        #[required] alpha: "α", "1", Some(0.01), POS, P,
            "Gilbert damping of the free layer.";
        #[required] tau0_s: "τ0", "s", Some(1.0e-9), POS, P,
            "Attempt time of thermally activated switching.";
        #[required] polarization: "P", "1", Some(0.56), open(0.0, 1.0), P,
            "Spin polarisation of the tunnelling current.";
        #[required] ms_a_per_m: "M_s", "A/m", Some(3.25e5), POS, P,
            "Saturation magnetisation of the free layer.";
        #[required] hk_a_per_m: "H_k", "A/m", Some(4.0e5), POS, P,
            "Perpendicular anisotropy field of the free layer.";
        ic_scale: "IC_G", "1", Some(1.0), POS, P,
            "Multiplier of both critical currents (the source's IC_G).";
        i_reset_a: "I_min", "A", Some(1.0e-6), POS, P,
            "Ignored (kept so old cards load): the source reset its hazard integral below this |I|; the hazard now integrates at every bias, so zero-bias thermal flips are modelled.";
        nb_max_ic_ratio: "x_NB", "1", Some(0.8), open(0.0, 1.0), P,
            "Largest I/Ic at which the Néel-Brown law is used as is (it needs Δ·(1 − I/Ic) ≫ 1).";
        sun_min_ic_ratio: "x_Sun", "1", Some(1.5), open(1.0, f64::INFINITY), P,
            "Smallest I/Ic at which the Sun precessional law is used as is; between x_NB and x_Sun a monotone C¹ join.";
        initial_ap: "s0", "1", Some(0.0), closed(0.0, 1.0), P,
            "Initial orientation: 0 = parallel, 1 = antiparallel.";
        ra_sigma_ln: "σ_RA", "1", Some(0.0), closed(0.0, 1.0), D2d,
            "D2D: lognormal sigma of RA.";
        tmr_sigma_rel: "σ_TMR", "1", Some(0.0), closed(0.0, 1.0), D2d,
            "D2D: relative std of TMR0.";
        ic_sigma_rel: "σ_Ic", "1", Some(0.0), closed(0.0, 1.0), D2d,
            "D2D: relative std of ic_scale.";
    }
}

/// Relations between MTJ parameters (single-parameter ranges are declared above): the
/// orientation is one of two.
fn check(p: &MtjParams) -> Result<(), (&'static str, String)> {
    if p.initial_ap != 0.0 && p.initial_ap != 1.0 {
        return Err((
            "initial_ap",
            format!("{}: must be 0 (parallel) or 1 (antiparallel)", p.initial_ap),
        ));
    }
    Ok(())
}
family_params!(MtjParams, check);

impl Default for MtjParams {
    /// The declared defaults, no D2D spread.
    fn default() -> Self {
        super::card::defaults().expect("every mtj parameter has a default")
    }
}

/// Brinkman-type RA product (Ω·m²) as coded in [MTJ-Q] with SI inputs:
/// `RA = t_ox·exp(1.025·t_ox·sqrt(φ_B))/(F·sqrt(φ_B))` (t_ox in m, φ_B in eV, F the RA factor).
/// With the source defaults (1 nm, 0.4 eV, 332.2) it gives 4.7597e-12 Ω·m² = 4.7597 Ω·µm².
pub fn brinkman_ra_ohm_m2(t_ox_m: f64, phi_b_ev: f64, ra_factor: f64) -> f64 {
    t_ox_m * (1.025 * t_ox_m * phi_b_ev.sqrt()).exp() / (ra_factor * phi_b_ev.sqrt())
}

/// Magnetic orientation of the free layer relative to the reference layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MtjOrientation {
    /// Parallel (low resistance).
    Parallel,
    /// Antiparallel (high resistance).
    AntiParallel,
}

/// Per-cell MTJ state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MtjState {
    /// Present orientation.
    pub orientation: MtjOrientation,
    /// Accumulated switching hazard ∫dt/τ of the write in progress (0 = no write in progress).
    pub hazard: f64,
    /// Hazard at which this write switches, −ln u drawn at the start of the write.
    pub hazard_threshold: f64,
}

/// The MTJ model: validated parameters plus the quantities derived from them once.
#[derive(Clone, Debug, PartialEq)]
pub struct MtjModel {
    p: MtjParams,
    r_p: f64,
    e_b: f64,
    m_total: f64,
    ic_ap_p: f64,
    ic_p_ap: f64,
}

impl MtjModel {
    /// Validates `params` and derives R_P, E_b and the critical currents.
    pub fn new(params: MtjParams) -> Result<Self, ParamError> {
        params.validate()?;
        let p = &params;
        let area = std::f64::consts::PI * p.diameter_m * p.diameter_m / 4.0;
        let vol = area * p.t_free_m;
        let r_p = p.ra_ohm_um2 * 1e-12 / area;
        let e_b = MU_0 * p.ms_a_per_m * p.hk_a_per_m * vol / 2.0;
        let gamma = Q_E / M_E;
        let pol = p.polarization;
        let g_ap_p = pol / (2.0 * (1.0 - pol * pol));
        let g_p_ap = pol / (2.0 * (1.0 + pol * pol));
        let ic0 = 2.0 * p.alpha * gamma * Q_E * e_b / MU_B * p.ic_scale;
        Ok(Self {
            r_p,
            e_b,
            m_total: p.ms_a_per_m * vol,
            ic_ap_p: ic0 / g_ap_p,
            ic_p_ap: ic0 / g_p_ap,
            p: params,
        })
    }

    /// The parameters of this device.
    pub fn params(&self) -> &MtjParams {
        &self.p
    }

    /// Parallel-state resistance R_P (Ω), bias independent.
    pub fn r_p(&self) -> f64 {
        self.r_p
    }

    /// Bias-dependent TMR ratio TMR0/(1 + V²/V_h²).
    pub fn tmr(&self, v: f64) -> f64 {
        self.p.tmr0 / (1.0 + v * v / (self.p.v_h_v * self.p.v_h_v))
    }

    /// Antiparallel-state resistance R_P·(1 + TMR(V)) (Ω).
    pub fn r_ap(&self, v: f64) -> f64 {
        self.r_p * (1.0 + self.tmr(v))
    }

    /// Energy barrier E_b (J).
    pub fn energy_barrier_j(&self) -> f64 {
        self.e_b
    }

    /// Thermal stability factor Δ = E_b/(k·T).
    pub fn thermal_stability(&self, temp_k: f64) -> f64 {
        self.e_b / (K_B * temp_k)
    }

    /// Critical current magnitude (A) for switching away from `from`.
    pub fn critical_current(&self, from: MtjOrientation) -> f64 {
        match from {
            MtjOrientation::AntiParallel => self.ic_ap_p,
            MtjOrientation::Parallel => self.ic_p_ap,
        }
    }

    /// Néel-Brown mean switching time τ0·exp(Δ·(1 − |I|/Ic)) (s), for |I| < Ic.
    pub fn neel_brown_time_s(&self, current_abs_a: f64, from: MtjOrientation, temp_k: f64) -> f64 {
        let ic = self.critical_current(from);
        let expo = (self.thermal_stability(temp_k) * (1.0 - current_abs_a / ic)).clamp(-85.0, 85.0);
        self.p.tau0_s * expo.exp()
    }

    /// Sun-model mean precessional switching time (s) for |I| > Ic (infinite at or below Ic).
    pub fn sun_mean_switching_time_s(
        &self,
        current_abs_a: f64,
        from: MtjOrientation,
        temp_k: f64,
    ) -> f64 {
        let ic = self.critical_current(from);
        let delta = self.thermal_stability(temp_k);
        let pol = self.p.polarization;
        let pref = 2.0 / (EULER_C + (std::f64::consts::PI.powi(2) * delta / 4.0).ln())
            * (MU_B * pol / (Q_E * self.m_total * (1.0 + pol * pol)));
        let rate = pref * (current_abs_a - ic);
        if rate > 0.0 {
            1.0 / rate
        } else {
            f64::INFINITY
        }
    }

    /// Sun-model rate prefactor (1/(s·A)): 1/⟨τ⟩ = k·(I − Ic).
    fn sun_slope(&self, temp_k: f64) -> f64 {
        let delta = self.thermal_stability(temp_k);
        let pol = self.p.polarization;
        2.0 / (EULER_C + (std::f64::consts::PI.powi(2) * delta / 4.0).ln())
            * (MU_B * pol / (Q_E * self.m_total * (1.0 + pol * pol)))
    }

    /// Switching rate 1/τ (1/s) for signed current `current_a` (A) from orientation `from`:
    /// Néel-Brown up to `x_NB·Ic`, Sun from `x_Sun·Ic`, a monotone C¹ join between (module
    /// docs). Current of the polarity that cannot switch `from` counts as negative `x`; at zero
    /// current the rate is the thermal flip rate 1/(τ0·e^Δ).
    pub fn switching_rate(&self, current_a: f64, from: MtjOrientation, temp_k: f64) -> f64 {
        let favourable = match from {
            MtjOrientation::AntiParallel => current_a,
            MtjOrientation::Parallel => -current_a,
        };
        let ic = self.critical_current(from);
        let x = favourable / ic;
        let delta = self.thermal_stability(temp_k);
        let ln_nb = |x: f64| -self.p.tau0_s.ln() - delta * (1.0 - x);
        let (x1, x2) = (self.p.nb_max_ic_ratio, self.p.sun_min_ic_ratio);
        if x <= x1 {
            return ln_nb(x).clamp(-700.0, 700.0).exp();
        }
        let k = self.sun_slope(temp_k) * ic; // Sun rate per unit x
        if x >= x2 {
            return k * (x - 1.0);
        }
        // Join in (x, y = ln rate): end points and tangents of the two laws.
        let (y1, s1) = (ln_nb(x1), delta);
        let (y2, s2) = ((k * (x2 - 1.0)).ln(), 1.0 / (x2 - 1.0));
        let secant = (y2 - y1) / (x2 - x1);
        let y = if secant > s2 && secant < s1 {
            // Quadratic Bézier P0 = (x1, y1), P2 = (x2, y2), P1 = the tangents' intersection.
            let xc = (y2 - y1 - s2 * x2 + s1 * x1) / (s1 - s2);
            let yc = y1 + s1 * (xc - x1);
            // x(t) = (1−t)²x1 + 2t(1−t)xc + t²x2 = x  →  a·t² + b·t + c = 0.
            let (a, b, c) = (x1 - 2.0 * xc + x2, 2.0 * (xc - x1), x1 - x);
            let t = if a.abs() < 1e-12 * (x2 - x1) {
                -c / b
            } else {
                // The root in [0, 1]: b > 0 and x(t) is monotone there.
                2.0 * (-c) / (b + (b * b - 4.0 * a * c).max(0.0).sqrt())
            };
            let t = t.clamp(0.0, 1.0);
            (1.0 - t).powi(2) * y1 + 2.0 * t * (1.0 - t) * yc + t * t * y2
        } else {
            // No concave join exists (Δ very small): straight line, monotone if y2 > y1.
            let y = y1 + secant * (x - x1);
            if y2 >= y1 {
                y
            } else {
                y1
            }
        };
        y.clamp(-700.0, 700.0).exp()
    }

    /// Probability that a read of `t_read_s` at bias `v_read` (V) flips a cell in orientation
    /// `from` (read disturb): `1 − exp(−t_read/τ(I))`, with I the static current of `from`.
    pub fn read_disturb_probability(
        &self,
        v_read: f64,
        t_read_s: f64,
        from: MtjOrientation,
        temp_k: f64,
    ) -> f64 {
        let (i, _) = self.current(&self.state_with(from), v_read, temp_k);
        self.switching_probability(i, t_read_s, from, temp_k)
    }

    /// Mean zero-bias retention time τ0·e^Δ (s) at `temp_k`.
    pub fn retention_time_s(&self, temp_k: f64) -> f64 {
        1.0 / self.switching_rate(0.0, MtjOrientation::Parallel, temp_k)
    }

    /// Closed-form switching probability of a rectangular current pulse:
    /// `1 − exp(−t_p/τ(I))`.
    pub fn switching_probability(
        &self,
        current_a: f64,
        pulse_width_s: f64,
        from: MtjOrientation,
        temp_k: f64,
    ) -> f64 {
        let x = self.switching_rate(current_a, from, temp_k) * pulse_width_s.max(0.0);
        -(-x).exp_m1()
    }

    /// A state in orientation `o` with no write in progress.
    pub fn state_with(&self, o: MtjOrientation) -> MtjState {
        MtjState {
            orientation: o,
            hazard: 0.0,
            hazard_threshold: 0.0,
        }
    }
}

impl CompactModel for MtjModel {
    type State = MtjState;

    fn initial_state(&self) -> MtjState {
        self.state_with(if self.p.initial_ap == 1.0 {
            MtjOrientation::AntiParallel
        } else {
            MtjOrientation::Parallel
        })
    }

    /// `I = V/R` with R = R_P or R_AP(V); for AP, with `D = R_AP(V)`,
    /// `dI/dV = 1/D − V·D'/D²`, `D' = −R_P·TMR0·(2V/V_h²)/(1 + V²/V_h²)²`.
    fn current(&self, st: &MtjState, v: f64, _temp_k: f64) -> (f64, f64) {
        match st.orientation {
            MtjOrientation::Parallel => (v / self.r_p, 1.0 / self.r_p),
            MtjOrientation::AntiParallel => {
                let vh2 = self.p.v_h_v * self.p.v_h_v;
                let u = 1.0 + v * v / vh2;
                let d = self.r_p * (1.0 + self.p.tmr0 / u);
                let dd = -self.r_p * self.p.tmr0 * (2.0 * v / vh2) / (u * u);
                (v / d, 1.0 / d - v * dd / (d * d))
            }
        }
    }

    fn advance(&self, st: &mut MtjState, v: f64, dt: f64, temp_k: f64, rng: &mut ChaCha8Rng) {
        if dt.is_nan() || dt <= 0.0 {
            return;
        }
        let draw = |st: &mut MtjState, rng: &mut ChaCha8Rng| {
            // Threshold −ln u, u in (0, 1].
            let u: f64 = 1.0 - rng.random::<f64>();
            st.hazard_threshold = -u.ln();
            st.hazard = 0.0;
        };
        if st.hazard_threshold == 0.0 {
            draw(st, rng);
        }
        // The rate is constant on the step except after a flip, when the current (hence the
        // rate) changes: spend the remaining time at the new orientation's rate.
        let rate_of = |o: MtjOrientation| {
            let (i, _) = self.current(&self.state_with(o), v, temp_k);
            self.switching_rate(i, o, temp_k)
        };
        let mut t_left = dt;
        loop {
            let rate = rate_of(st.orientation);
            if !(rate > 0.0) {
                return;
            }
            let other = match st.orientation {
                MtjOrientation::Parallel => MtjOrientation::AntiParallel,
                MtjOrientation::AntiParallel => MtjOrientation::Parallel,
            };
            let back = rate_of(other);
            if t_left * (rate + back) > 40.0 {
                // Many flips left: the two-state chain has relaxed (to e^-40) to its stationary
                // distribution, P(other) = rate/(rate + back). Memoryless, so draw it directly.
                let u: f64 = rng.random();
                if u * (rate + back) < rate {
                    st.orientation = other;
                }
                draw(st, rng);
                return;
            }
            let need = (st.hazard_threshold - st.hazard) / rate;
            if need > t_left {
                st.hazard += rate * t_left;
                return;
            }
            t_left -= need.max(0.0);
            st.orientation = match st.orientation {
                MtjOrientation::Parallel => MtjOrientation::AntiParallel,
                MtjOrientation::AntiParallel => MtjOrientation::Parallel,
            };
            draw(st, rng);
        }
    }

    fn sample_device(&self, rng: &mut ChaCha8Rng) -> Self {
        let mut p = self.p.clone();
        let v = &self.p;
        let mut n = || -> f64 { rng.sample(StandardNormal) };
        p.ra_ohm_um2 *= (v.ra_sigma_ln * n()).exp();
        p.tmr0 = (p.tmr0 * (1.0 + v.tmr_sigma_rel * n())).max(0.0);
        p.ic_scale = (p.ic_scale * (1.0 + v.ic_sigma_rel * n())).max(0.05);
        // Spreads of single parameters (`[variability.d2d] key = { rel | abs }`), kept in
        // range; no draw without them.
        let p = sample_params(&p, rng);
        // The sampled values stay inside the validated domain, so this cannot fail.
        Self::new(p).expect("sampled MTJ parameters stay valid")
    }
}

/// Closed-form switching probabilities for figures: for each pulse width (s), the probability
/// at each current (A, signed as in the module docs) of switching away from `from`.
pub fn switching_probability_table(
    model: &MtjModel,
    currents_a: &[f64],
    pulse_widths_s: &[f64],
    from: MtjOrientation,
    temp_k: f64,
) -> Vec<(f64, Vec<f64>)> {
    pulse_widths_s
        .iter()
        .map(|&tp| {
            let row = currents_a
                .iter()
                .map(|&i| model.switching_probability(i, tp, from, temp_k))
                .collect();
            (tp, row)
        })
        .collect()
}

/// Monte-Carlo counterpart for figures: the fraction of `trials` fresh cells in orientation
/// `from` that switch under a rectangular voltage pulse `v` (V) of width `pulse_width_s`,
/// through `advance`. Trial `k` uses stream `k` of `ChaCha8Rng::seed_from_u64(seed)`.
pub fn switching_fraction_mc(
    model: &MtjModel,
    v: f64,
    pulse_width_s: f64,
    from: MtjOrientation,
    temp_k: f64,
    trials: usize,
    seed: u64,
) -> f64 {
    let mut switched = 0usize;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for k in 0..trials {
        rng.set_stream(k as u64);
        rng.set_word_pos(0);
        let mut st = model.state_with(from);
        model.advance(&mut st, v, pulse_width_s, temp_k, &mut rng);
        if st.orientation != from {
            switched += 1;
        }
    }
    switched as f64 / trials.max(1) as f64
}

impl super::model::Family for MtjModel {
    const KEY: &'static str = "mtj";
    const IV_DEFAULTS: (f64, f64, f64) = (0.3, -0.3, 1e-6);
    // A ~1 nm MgO barrier breaks down near 1-2 V.
    const MAX_BIAS_V: f64 = 5.0;
    const FIT_FREE: [Option<&'static [&'static str]>; 3] = [
        Some(&["ra_ohm_um2", "tmr0", "v_h_v"]),
        Some(&["ic_scale", "tau0_s"]),
        None, // retention: fit the thermal stability with --free
    ];
    const DEFAULT_CARD: Option<(&'static str, &'static str)> = Some((
        "device-models/mtj_pma_cheng2014.toml",
        include_str!("../../device-models/mtj_pma_cheng2014.toml"),
    ));

    /// LRS = parallel, HRS = antiparallel.
    fn set_extreme(&self, s: &mut MtjState, lrs: bool, _rng: &mut ChaCha8Rng) -> bool {
        *s = self.state_with(if lrs {
            MtjOrientation::Parallel
        } else {
            MtjOrientation::AntiParallel
        });
        true
    }

    fn state_vars(&self, s: &MtjState) -> Vec<(&'static str, f64)> {
        vec![(
            "antiparallel",
            f64::from(u8::from(s.orientation == MtjOrientation::AntiParallel)),
        )]
    }

    fn spice_current_expr(&self, s: &MtjState, v: &str, temp_k: f64) -> String {
        super::spice_expr::mtj(self, s, v, temp_k)
    }

    super::card::sectioned_card_plumbing!(MtjParams, MtjModel::new);
}
