//! Phase-change memory (PCM), physical compact model.
//!
//! State: the amorphous fraction `x` of the plug over the heater (0 = fully crystalline SET,
//! 1 = fully amorphous RESET) and the time since the last melt-quench (drift age).
//!
//! - Read law [PCM-NC17]: the amorphous plug in series with the crystalline remainder,
//!   linear in the plug thickness: `R_read = (1 − x)·R_c + x·R_a·((t + t0)/t0)^ν`.
//!   Drift acts on the amorphous part only (device-physics.md §2.2, "physical-model drift hook";
//!   drift law from Le Gallo et al., Adv. Electron. Mater. 4, 1700627 (2018)). The time base is
//!   aihwkit's (`pcm_stat`): `t` is the age since the quench and `t0` the reference delay of the
//!   first read, so the two PCM families drift alike (the former `max(t, t0)` held R flat before
//!   t0 and had a kink there).
//! - Threshold switching [PCM-NC17]: above `V_th(x)` the amorphous phase switches ON and the cell
//!   follows `V = V_ON + R_ON·I` until the current falls below the holding current `I_hold`.
//!   The static law at a frozen state is smooth and monotone (Newton friendly) on each branch:
//!   OFF `I = V/R_read + s(V)·I_on(V)`, with `s` a logistic gate in `V²` around `V_th²`; ON
//!   `I = V/R_read + I_on(V)`; `I_on` is a softplus knee at `±V_ON`. The branch is a state
//!   (`threshold_on`), switched by `advance`: ON when |V| reaches V_th(x), OFF when |I| on the
//!   ON branch falls below I_hold. Since V_ON + R_ON·I < V_th at the switching current, a sweep
//!   through a series resistor snaps back (the cell voltage drops at switching), and a voltage
//!   sweep shows the holding hysteresis. I_hold is [GAP], a literature-typical value.
//! - Heating: `T = T_amb + R_th·|I·V|` (quasi-static: the thermal time constant, ~ns, is shorter
//!   than the pulses this model is meant for).
//! - Crystallisation (SET, cumulative partial SET): JMAK, `x = exp(−(K·t)^n)` with
//!   `K = K0·exp(−E_a/kT)`, integrated in closed form at frozen `T` over sub-steps that change `x`
//!   by at most 0.02 (device-physics.md §2.1, JMAK alternative; E_a = 2.34 eV for Ge2Sb2Te5).
//! - Melt-quench (RESET): while `T ≥ T_melt` the molten (then quenched, amorphous) fraction is
//!   `x_m = min(1, (T − T_melt)/ΔT_span)`; `x ← max(x, x_m)` and the drift age restarts. The
//!   amorphous region outside the melt keeps crystallising at the rate of T_melt, down to x_m.
//!   The quench is assumed fast (trailing edge ≪ crystallisation time).
//!
//! Numbers marked [GAP] in device-physics.md §12 (V_th, R_ON, R_th, T_melt, K0) are literature-
//! typical choices, named as such in the card.

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::card::{
    closed, closed_open, family_params, params, sample_params, ParamError, NON_NEG, POS,
};
use super::model::{CompactModel, K_B, Q_E};

params! {
    /// Parameters of the physical PCM model (one device after D2D sampling). The named D2D
    /// coefficients are applied by `sample_device`; the C2C ones by `advance`, drawn once per
    /// programming pulse (a pulse starts when the cell heats above ambient by more than 50 K),
    /// so the draw does not depend on how the caller slices the pulse in time.
    PcmParams, "pcm" {
        #[required] r_set_ohm: "R_c", "Ω", Some(40.0e3), POS, P,
            "Read resistance of the fully crystalline (SET) cell.";
        #[required] r_reset_ohm: "R_a", "Ω", Some(4.0e6), POS, P,
            "Read resistance of the fully amorphous (RESET) cell at the drift reference time t0.";
        #[required] v_th_reset_v: "V_th,a", "V", Some(1.2), POS, P,
            "Threshold-switching voltage of the fully amorphous cell.";
        #[required] v_th_set_v: "V_th,c", "V", Some(0.9), POS, P,
            "Threshold voltage extrapolated to x = 0; V_th is linear in the amorphous fraction.";
        v_th_width_v: "w_th", "V", Some(0.02), POS, P,
            "Smoothing width of the threshold gate (in V, at V = V_th).";
        #[required] v_on_v: "V_ON", "V", Some(0.8), NON_NEG, P,
            "Holding (ON-branch offset) voltage: after switching V = V_ON + R_ON·I.";
        #[required] r_on_ohm: "R_ON", "Ω", Some(5.0e3), POS, P,
            "Dynamic resistance of the switched ON branch, heater included.";
        v_on_width_v: "w_ON", "V", Some(0.02), POS, P,
            "Smoothing width of the ON-branch knee at V_ON.";
        #[required] r_th_k_per_w: "R_th", "K/W", Some(2.0e6), POS, P,
            "Thermal resistance from the active region to ambient: T = T_amb + R_th·|I·V|.";
        #[required] t_melt_k: "T_melt", "K", Some(900.0), POS, P,
            "Melting temperature of the phase-change material.";
        melt_span_k: "ΔT_span", "K", Some(200.0), POS, P,
            "Temperature above T_melt at which the melt (and quenched plug) covers the heater fully.";
        #[required] ea_cryst_ev: "E_a", "eV", Some(2.34), POS, P,
            "Activation energy of crystallisation, K = K0·exp(−E_a/kT).";
        #[required] k0_cryst_per_s: "K0", "1/s", Some(2.4e22), POS, P,
            "Crystallisation rate prefactor of the JMAK law.";
        avrami_n: "n", "1", Some(1.0), closed(1.0, 4.0), P,
            "Avrami exponent of the JMAK law x = exp(−(K·t)^n); 1 is interface-growth limited.";
        #[required] nu: "ν", "1", Some(0.1), closed_open(0.0, 1.0), P,
            "Drift exponent of the amorphous part: R_a(t) = R_a·((t + t0)/t0)^ν (sampled per device).";
        #[required] drift_t0_s: "t0", "s", Some(20.0), POS, P,
            "Drift reference time: R_a(t) = R_a·((t + t0)/t0)^ν, t the age since the quench (aihwkit's time base).";
        i_hold_a: "I_hold", "A", Some(20.0e-6), POS, P,
            "Holding current: the threshold-switched ON state returns OFF when |I| falls below it.";
        read_noise_q: "Q_s0", "1", Some(0.0088), NON_NEG, P,
            "1/f read-noise amplitude at G = 1/R_c (relative std per sqrt(ln) of bandwidth ratio).";
        read_noise_exponent: "a_Q", "1", Some(0.65), POS, P,
            "Q_s = Q_s0/max((G·R_c)^a_Q, 1e-3), capped at Q_max.";
        read_noise_q_max: "Q_max", "1", Some(0.2), NON_NEG, P,
            "Upper cap of Q_s.";
        initial_amorphous_fraction: "x_init", "1", Some(1.0), closed(0.0, 1.0), P,
            "Amorphous fraction of the initial state (1 = RESET).";
        nu_sigma: "σ_ν", "1", Some(0.0), closed(0.0, 1.0), D2d,
            "D2D: std of ν; ν ← |ν + σ_ν·N(0,1)| as in aihwkit.";
        r_set_sigma_ln: "σ_Rc", "1", Some(0.0), closed(0.0, 1.0), D2d,
            "D2D: lognormal sigma of R_c.";
        r_reset_sigma_ln: "σ_Ra", "1", Some(0.0), closed(0.0, 1.0), D2d,
            "D2D: lognormal sigma of R_a.";
        v_th_sigma_rel: "σ_Vth", "1", Some(0.0), closed(0.0, 1.0), D2d,
            "D2D: relative std of both threshold voltages (one common factor).";
        set_rate_sigma_ln: "σ_K", "1", Some(0.0), closed(0.0, 1.0), C2c,
            "C2C: lognormal sigma of the crystallisation rate, one draw per pulse.";
        reset_fraction_sigma_rel: "σ_xm", "1", Some(0.0), closed(0.0, 1.0), C2c,
            "C2C: relative std of the melted fraction x_m, one draw per pulse.";
    }
}

/// Relations between PCM parameters (single-parameter ranges are declared above).
fn check(p: &PcmParams) -> Result<(), (&'static str, String)> {
    if p.r_reset_ohm <= p.r_set_ohm {
        return Err((
            "r_reset_ohm",
            format!("{:e}: must be > r_set_ohm", p.r_reset_ohm),
        ));
    }
    if p.v_th_set_v <= p.v_on_v {
        return Err((
            "v_th_set_v",
            format!(
                "{}: must be > v_on_v (threshold above the holding voltage)",
                p.v_th_set_v
            ),
        ));
    }
    if p.v_th_reset_v < p.v_th_set_v {
        return Err((
            "v_th_reset_v",
            format!("{}: must be >= v_th_set_v", p.v_th_reset_v),
        ));
    }
    Ok(())
}
family_params!(PcmParams, check);

impl Default for PcmParams {
    /// The declared defaults, no D2D spread.
    fn default() -> Self {
        super::card::defaults().expect("every pcm parameter has a default")
    }
}

/// Per-cell PCM state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PcmState {
    /// Amorphous fraction x in [0, 1] (1 = RESET).
    pub amorphous_fraction: f64,
    /// Time since the last melt-quench (s): the drift age.
    pub age_s: f64,
    /// C2C multiplier of the crystallisation rate for the pulse in progress.
    pub pulse_rate_factor: f64,
    /// C2C multiplier of the melted fraction for the pulse in progress.
    pub pulse_melt_factor: f64,
    /// True while a programming pulse heats the cell (ΔT > 50 K).
    pub in_pulse: bool,
    /// True while the amorphous phase is threshold-switched ON (from |V| ≥ V_th until
    /// |I| < I_hold).
    pub threshold_on: bool,
}

/// Heating above ambient that marks a programming pulse (K); crystallisation at T_amb + 50 K is
/// negligible with any sensible card, so reads never count as pulses.
const PULSE_DETECT_DK: f64 = 50.0;
/// Largest change of the amorphous fraction in one crystallisation sub-step (T is frozen).
const DX_MAX: f64 = 0.02;
/// Below this the amorphous fraction is set to zero (fully crystalline).
const X_FLOOR: f64 = 1e-12;
/// Sub-step budget of one `advance` call; the last sub-step takes the remaining time.
const MAX_SUBSTEPS: usize = 10_000;

/// Numerically safe logistic function 1/(1 + e^(−a)).
fn logistic(a: f64) -> f64 {
    if a >= 0.0 {
        1.0 / (1.0 + (-a).exp())
    } else {
        let e = a.exp();
        e / (1.0 + e)
    }
}

/// Softplus with width w: w·ln(1 + e^(z/w)), overflow-safe.
fn softplus(z: f64, w: f64) -> f64 {
    let a = z / w;
    if a > 0.0 {
        z + w * (-a).exp().ln_1p()
    } else {
        w * a.exp().ln_1p()
    }
}

/// The physical PCM model (validated parameters of one device).
#[derive(Clone, Debug, PartialEq)]
pub struct PcmModel {
    p: PcmParams,
}

impl PcmModel {
    /// Validates `params` and builds the model.
    pub fn new(params: PcmParams) -> Result<Self, ParamError> {
        params.validate()?;
        Ok(Self { p: params })
    }

    /// The parameters of this device.
    pub fn params(&self) -> &PcmParams {
        &self.p
    }

    /// State with amorphous fraction `x` (clamped to [0, 1]) and drift age `age_s`.
    pub fn state_with(&self, x: f64, age_s: f64) -> PcmState {
        PcmState {
            amorphous_fraction: x.clamp(0.0, 1.0),
            age_s: age_s.max(0.0),
            pulse_rate_factor: 1.0,
            pulse_melt_factor: 1.0,
            in_pulse: false,
            threshold_on: false,
        }
    }

    /// Low-field read resistance (Ω) at the state's amorphous fraction and drift age.
    pub fn read_resistance(&self, st: &PcmState) -> f64 {
        let p = &self.p;
        let x = st.amorphous_fraction;
        let drift = ((st.age_s + p.drift_t0_s) / p.drift_t0_s).powf(p.nu);
        (1.0 - x) * p.r_set_ohm + x * p.r_reset_ohm * drift
    }

    /// Switch the threshold branch at bias `v`: ON once |V| ≥ V_th(x), OFF when the ON-branch
    /// current falls below I_hold. A crystalline cell (x = 0) has nothing to switch.
    fn update_threshold_branch(&self, st: &mut PcmState, v: f64, temp_k: f64) {
        if st.threshold_on {
            let (i, _) = self.current(st, v, temp_k);
            if i.abs() < self.p.i_hold_a {
                st.threshold_on = false;
            }
        } else if st.amorphous_fraction > 0.0
            && v.abs() >= self.threshold_voltage(st.amorphous_fraction)
        {
            st.threshold_on = true;
        }
    }

    /// Threshold voltage (V) at amorphous fraction `x`: linear in the plug thickness.
    pub fn threshold_voltage(&self, x: f64) -> f64 {
        self.p.v_th_set_v + x * (self.p.v_th_reset_v - self.p.v_th_set_v)
    }

    /// Temperature of the active region (K) at bias `v` with ambient `temp_k`.
    pub fn internal_temperature(&self, st: &PcmState, v: f64, temp_k: f64) -> f64 {
        let (i, _) = self.current(st, v, temp_k);
        temp_k + self.p.r_th_k_per_w * (i * v).abs()
    }

    /// JMAK crystallisation rate constant K(T) (1/s), without C2C factor.
    pub fn crystallisation_rate(&self, t_k: f64) -> f64 {
        self.p.k0_cryst_per_s * (-self.p.ea_cryst_ev * Q_E / (K_B * t_k)).exp()
    }

    /// Relative std of a read with 1/f noise accumulated since programming (aihwkit form, see
    /// device-physics.md §2.2 item 4): `Q_s·sqrt(ln((t + t_r)/(2·t_r)))`, with `t_r = 1/(2·BW)`
    /// and `t` the drift age (time since programming).
    pub fn read_noise_sigma_rel(&self, st: &PcmState, bandwidth_hz: f64) -> f64 {
        let p = &self.p;
        let g_rel = p.r_set_ohm / self.read_resistance(st);
        let q_s =
            (p.read_noise_q / g_rel.powf(p.read_noise_exponent).max(1e-3)).min(p.read_noise_q_max);
        let t_r = 0.5 / bandwidth_hz;
        let arg = ((st.age_s + t_r) / (2.0 * t_r)).ln();
        q_s * arg.max(0.0).sqrt()
    }

    /// A noisy read: the current (A) at `v_read` with relative 1/f noise of std
    /// `read_noise_sigma_rel(state, bandwidth_hz)`. Draws one normal from `rng`.
    pub fn read_current_noisy(
        &self,
        st: &PcmState,
        v_read: f64,
        temp_k: f64,
        bandwidth_hz: f64,
        rng: &mut ChaCha8Rng,
    ) -> f64 {
        let (i, _) = self.current(st, v_read, temp_k);
        let n: f64 = rng.sample(StandardNormal);
        i * (1.0 + self.read_noise_sigma_rel(st, bandwidth_hz) * n)
    }
}

impl CompactModel for PcmModel {
    type State = PcmState;

    fn initial_state(&self) -> PcmState {
        self.state_with(self.p.initial_amorphous_fraction, 0.0)
    }

    /// `I = V/R_read + s(V)·I_on(V)`:
    /// - `s = logistic((V² − V_th²)/(2·V_th·w_th))`, even in V;
    /// - `I_on = [sp(V − V_ON) − sp(−V − V_ON)]/R_ON`, odd, with `sp` a softplus of width w_ON.
    ///
    /// Every term of dI/dV is ≥ 0, so the law is monotone.
    fn current(&self, st: &PcmState, v: f64, _temp_k: f64) -> (f64, f64) {
        let p = &self.p;
        let r = self.read_resistance(st);
        let vth = self.threshold_voltage(st.amorphous_fraction);
        let a = (v * v - vth * vth) / (2.0 * vth * p.v_th_width_v);
        let (s, ds) = if st.threshold_on {
            (1.0, 0.0)
        } else {
            let s = logistic(a);
            let s_c = logistic(-a); // 1 − s without cancellation
            (s, s * s_c * v / (vth * p.v_th_width_v))
        };
        let w = p.v_on_width_v;
        let i_on = (softplus(v - p.v_on_v, w) - softplus(-v - p.v_on_v, w)) / p.r_on_ohm;
        let di_on = (logistic((v - p.v_on_v) / w) + logistic((-v - p.v_on_v) / w)) / p.r_on_ohm;
        let i = v / r + s * i_on;
        let g = 1.0 / r + ds * i_on + s * di_on;
        (i, g)
    }

    fn advance(&self, st: &mut PcmState, v: f64, dt: f64, temp_k: f64, rng: &mut ChaCha8Rng) {
        if dt.is_nan() || dt <= 0.0 {
            return;
        }
        self.update_threshold_branch(st, v, temp_k);
        let p = &self.p;
        let mut rem = dt;
        let mut iters = 0usize;
        while rem > 0.0 {
            iters += 1;
            let budget_left = iters < MAX_SUBSTEPS;
            let (i, _) = self.current(st, v, temp_k);
            let t_int = temp_k + p.r_th_k_per_w * (i * v).abs();
            let heated = t_int - temp_k > PULSE_DETECT_DK;
            if heated && !st.in_pulse {
                // A new programming pulse: draw its C2C factors once.
                let n1: f64 = rng.sample(StandardNormal);
                let n2: f64 = rng.sample(StandardNormal);
                st.pulse_rate_factor = (p.set_rate_sigma_ln * n1).exp();
                st.pulse_melt_factor = (1.0 + p.reset_fraction_sigma_rel * n2).max(0.0);
            }
            st.in_pulse = heated;

            // Melt: the molten fraction x_m becomes amorphous at the quench, so it is a floor
            // for x; the amorphous region outside the melt keeps crystallising, at most at the
            // rate of T_melt. The drift clock restarts at the quench.
            let molten = t_int >= p.t_melt_k;
            let x_m = if molten {
                ((t_int - p.t_melt_k) / p.melt_span_k * st.pulse_melt_factor).min(1.0)
            } else {
                0.0
            };
            if x_m > st.amorphous_fraction + 1e-9 && budget_left {
                // A larger plug changes I and T: iterate to the self-consistent melt.
                st.amorphous_fraction = x_m;
                continue;
            }
            let x = st.amorphous_fraction.max(x_m);
            st.amorphous_fraction = x;
            let k = self.crystallisation_rate(t_int.min(p.t_melt_k)) * st.pulse_rate_factor;
            let k_rem = k * rem;
            let x_floor = x_m.max(X_FLOOR);
            if x <= x_floor || k_rem.is_nan() || k_rem <= 1e-14 {
                // Nothing left to crystallise, or negligible change in the remaining time.
                st.age_s = if molten { 0.0 } else { st.age_s + rem };
                break;
            }
            // Exact JMAK over a sub-step at frozen T: x = exp(−(K·(t_eq + h))^n), where t_eq is
            // the time that would have produced the present x.
            let inv_n = 1.0 / p.avrami_n;
            let t_eq = (-x.ln()).powf(inv_n) / k;
            let h = if x > DX_MAX + x_floor && budget_left {
                let t_target = (-(x - DX_MAX).ln()).powf(inv_n) / k;
                (t_target - t_eq).min(rem)
            } else {
                rem
            };
            let x_new = (-(k * (t_eq + h)).powf(p.avrami_n)).exp().min(x).max(x_m);
            st.amorphous_fraction = if x_new < X_FLOOR { 0.0 } else { x_new };
            st.age_s = if molten { 0.0 } else { st.age_s + h };
            rem -= h;
        }
        self.update_threshold_branch(st, v, temp_k);
    }

    fn sample_device(&self, rng: &mut ChaCha8Rng) -> Self {
        let mut p = self.p.clone();
        let v = &self.p;
        let mut n = || -> f64 { rng.sample(StandardNormal) };
        p.nu = (p.nu + v.nu_sigma * n()).abs().min(0.99);
        p.r_set_ohm *= (v.r_set_sigma_ln * n()).exp();
        p.r_reset_ohm *= (v.r_reset_sigma_ln * n()).exp();
        let f = (1.0 + v.v_th_sigma_rel * n()).max(0.05);
        p.v_th_set_v *= f;
        p.v_th_reset_v *= f;
        // Keep the sampled device inside the validated domain.
        p.r_reset_ohm = p.r_reset_ohm.max(1.01 * p.r_set_ohm);
        p.v_th_set_v = p.v_th_set_v.max(p.v_on_v + p.v_th_width_v);
        p.v_th_reset_v = p.v_th_reset_v.max(p.v_th_set_v);
        // Spreads of single parameters (`[variability.d2d] key = { rel | abs }`); no draw
        // without them.
        Self {
            p: sample_params(&p, rng),
        }
    }
}

/// Drift curves for figures: `n_devices` devices sampled from `model` (device `d` uses the RNG
/// stream `d` of `ChaCha8Rng::seed_from_u64(seed)`), each starting just after a RESET-like
/// quench at amorphous fraction `amorphous_fraction` and aged at zero bias through `advance`.
/// Returns, for each time in `times_s` (ascending, s since the quench), the read resistance
/// V/I (Ω) at `v_read` of every device.
pub fn drift_curves(
    model: &PcmModel,
    amorphous_fraction: f64,
    n_devices: usize,
    times_s: &[f64],
    v_read: f64,
    temp_k: f64,
    seed: u64,
) -> Vec<(f64, Vec<f64>)> {
    let mut out: Vec<(f64, Vec<f64>)> = times_s
        .iter()
        .map(|&t| (t, Vec::with_capacity(n_devices)))
        .collect();
    for d in 0..n_devices {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(d as u64);
        let dev = model.sample_device(&mut rng);
        let mut st = dev.state_with(amorphous_fraction, 0.0);
        let mut t_now = 0.0;
        for (t, col) in out.iter_mut() {
            if *t > t_now {
                dev.advance(&mut st, 0.0, *t - t_now, temp_k, &mut rng);
                t_now = *t;
            }
            col.push(1.0 / dev.read_conductance(&st, v_read, temp_k));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> PcmModel {
        PcmModel::new(PcmParams::default()).unwrap()
    }

    #[test]
    fn default_card_is_valid_and_shipped_card_matches_defaults() {
        let d = PcmParams::default();
        d.validate().unwrap();
        // The shipped card's [params] are the declared defaults.
        let text = include_str!("../../device-models/pcm_gst_mushroom.toml");
        let c = PcmParams::from_toml_str(text).unwrap();
        use crate::device::card::{FamilyParams, Kind};
        for (i, s) in PcmParams::SPECS.iter().enumerate() {
            if s.kind == Kind::P {
                assert_eq!(c.values()[i], d.values()[i], "{}", s.name);
            }
        }
    }

    #[test]
    fn read_resistance_endpoints_are_the_card_values() {
        let m = model();
        let p = m.params();
        assert_eq!(m.read_resistance(&m.state_with(0.0, 0.0)), p.r_set_ohm);
        assert_eq!(m.read_resistance(&m.state_with(1.0, 0.0)), p.r_reset_ohm);
    }

    #[test]
    fn sub_threshold_current_is_ohmic_and_switched_branch_follows_von_plus_ron_i() {
        let m = model();
        let p = m.params();
        let st = m.state_with(1.0, 0.0);
        let (i, _) = m.current(&st, 0.1, 300.0);
        assert!((i * p.r_reset_ohm / 0.1 - 1.0).abs() < 1e-9);
        // Far above threshold: I = V/R_a + (V − V_ON)/R_ON (closed form of the ON branch).
        let v = 2.0;
        let (i, _) = m.current(&st, v, 300.0);
        let expect = v / p.r_reset_ohm + (v - p.v_on_v) / p.r_on_ohm;
        assert!((i / expect - 1.0).abs() < 1e-9, "{i} vs {expect}");
        // Odd symmetry.
        let (im, _) = m.current(&st, -v, 300.0);
        assert!((im + i).abs() < 1e-18);
    }
}

impl super::model::Family for PcmModel {
    const KEY: &'static str = "pcm";
    const IV_DEFAULTS: (f64, f64, f64) = (1.6, -1.6, 1e-6);
    const FIT_FREE: [Option<&'static [&'static str]>; 3] = [
        Some(&["r_set_ohm", "r_reset_ohm", "v_th_set_v"]),
        Some(&["k0_cryst_per_s", "r_set_ohm", "r_reset_ohm"]),
        Some(&["nu", "r_reset_ohm"]),
    ];
    const DEFAULT_CARD: Option<(&'static str, &'static str)> = Some((
        "device-models/pcm_gst_mushroom.toml",
        include_str!("../../device-models/pcm_gst_mushroom.toml"),
    ));

    fn set_state_fraction(&self, s: &mut PcmState, u: f64) -> bool {
        *s = self.state_with(1.0 - u, 0.0);
        true
    }

    /// Bisection over the amorphous fraction x in [0, 1] at drift age 0 (G falls with x).
    fn program_read_conductance(&self, s: &mut PcmState, g: f64, v_read: f64, t: f64) -> bool {
        s.age_s = 0.0;
        let mut probe = *s;
        let x = super::model::bisect(0.0, 1.0, false, g, |x| {
            probe.amorphous_fraction = x;
            self.read_conductance(&probe, v_read, t)
        });
        s.amorphous_fraction = x;
        true
    }

    fn state_vars(&self, s: &PcmState) -> Vec<(&'static str, f64)> {
        vec![
            ("amorphous_fraction", s.amorphous_fraction),
            ("drift_age_s", s.age_s),
        ]
    }

    fn spice_current_expr(&self, s: &PcmState, v: &str, temp_k: f64) -> String {
        super::spice_expr::pcm(self, s, v, temp_k)
    }

    super::card::sectioned_card_plumbing!(PcmParams, PcmModel::new);
}
