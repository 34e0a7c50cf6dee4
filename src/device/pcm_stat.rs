//! PCM statistical inference model, after IBM aihwkit `PCMLikeNoiseModel`
//! (`src/aihwkit/inference/noise/pcm.py`; Nandakumar et al., ICECS 2019; drift law of
//! Le Gallo et al., Adv. Electron. Mater. 4, 1700627 (2018)). device-physics.md §2.2.
//!
//! Conductances in the published polynomials are in µS and referenced to g_max; the card keeps
//! µS at the edge (keys end in `_us`) and the state holds SI siemens.
//!
//! 1. Programming: `g_prog = max(g_T + σ_prog·N, 0)`,
//!    `σ_prog = (c0 + c1·x + c2·x²)·g_max/g_ref`, `x = g_T/g_max`.
//! 2. Drift exponent per device and programming: `ν = |μ_ν + σ_ν·N|`, `x_c = max(|g_T|/g_max, 1e-7)`,
//!    `μ_ν = clamp(−0.0155·ln x_c + 0.0244, 0.049, 0.1)`,
//!    `σ_ν = clamp(−0.0125·ln x_c − 0.0059, 0.008, 0.045)`.
//! 3. Drift: `g(t) = g_prog·(t/t0)^(−ν)`, `t = t_inference + t0` (t_inference = time since
//!    programming, the state's age).
//! 4. Read noise: `Q_s = min(0.0088/max((|g_prog|/g_max)^0.65, 1e-3), 0.2)`,
//!    `σ_nG = Q_s·sqrt(ln((t + t_read)/(2·t_read)))`, `g = max(g(t) + |g(t)|·σ_nG·N, 0)`.
//!
//! The model has no bias-driven dynamics: a cell is programmed by [`PcmStatModel::program`];
//! `advance` only ages it (at any bias). All randomness belongs to programming and reading
//! events (as in aihwkit), so `sample_device` returns an identical copy.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::card::{family_params, params, sample_params, ParamError, ANY, NON_NEG, POS};
use super::model::CompactModel;

/// Relative-conductance floor of aihwkit's ν(G) fit (`_ZERO_CLIP`).
const ZERO_CLIP: f64 = 1e-7;

params! {
    /// Parameters of the aihwkit statistical PCM model. `drift_scale` and the C2C coefficients
    /// are aihwkit's scales (`drift_scale`, `prog_noise_scale`, `read_noise_scale`); the draws
    /// themselves happen per programming (`program`: programming noise and ν) and per read
    /// (`read_conductance_noisy`).
    PcmStatParams, "pcm_stat" {
        #[required] g_max_us: "g_max", "µS", Some(25.0), POS, P,
            "Conductance that the largest weight maps to.";
        #[required] t0_s: "t0", "s", Some(20.0), POS, P,
            "Drift reference time (first read after programming).";
        t_read_s: "t_read", "s", Some(250.0e-9), POS, P,
            "Read duration of the 1/f noise fit.";
        prog_c0_us: "c0", "µS", Some(0.26348), ANY, P,
            "Programming-noise polynomial, constant term (at g_ref).";
        prog_c1_us: "c1", "µS", Some(1.9650), ANY, P,
            "Programming-noise polynomial, linear term in x = g_T/g_max.";
        prog_c2_us: "c2", "µS", Some(-1.1731), ANY, P,
            "Programming-noise polynomial, quadratic term.";
        prog_g_ref_us: "g_ref", "µS", Some(25.0), POS, P,
            "g_max at which the programming polynomial was fitted; σ_prog scales by g_max/g_ref.";
        nu_mu_slope: "a_μ", "1", Some(-0.0155), ANY, P,
            "μ_ν = clamp(a_μ·ln x_c + b_μ, μ_min, μ_max).";
        nu_mu_offset: "b_μ", "1", Some(0.0244), ANY, P,
            "Offset of μ_ν(ln x_c).";
        nu_mu_min: "μ_min", "1", Some(0.049), NON_NEG, P,
            "Lower clamp of μ_ν.";
        nu_mu_max: "μ_max", "1", Some(0.1), NON_NEG, P,
            "Upper clamp of μ_ν.";
        nu_sigma_slope: "a_σ", "1", Some(-0.0125), ANY, P,
            "σ_ν = clamp(a_σ·ln x_c + b_σ, σ_min, σ_max).";
        nu_sigma_offset: "b_σ", "1", Some(-0.0059), ANY, P,
            "Offset of σ_ν(ln x_c).";
        nu_sigma_min: "σ_min", "1", Some(0.008), NON_NEG, P,
            "Lower clamp of σ_ν.";
        nu_sigma_max: "σ_max", "1", Some(0.045), NON_NEG, P,
            "Upper clamp of σ_ν.";
        q_s_coeff: "Q_0", "1", Some(0.0088), NON_NEG, P,
            "Q_s = min(Q_0/max(x^a_Q, Q_floor), Q_max), x = |g_prog|/g_max.";
        q_s_exponent: "a_Q", "1", Some(0.65), POS, P,
            "Exponent of the Q_s law.";
        q_s_floor: "Q_floor", "1", Some(1.0e-3), POS, P,
            "Floor of x^a_Q in the Q_s law.";
        q_s_max: "Q_max", "1", Some(0.2), NON_NEG, P,
            "Upper cap of Q_s.";
        initial_g_us: "g_init", "µS", Some(0.0), NON_NEG, P,
            "Conductance of the initial (unprogrammed) state, noise free.";
        // A model parameter (0 = no drift), not a noise amplitude: in [params], so that
        // turning noise off (a fit sets C2C amplitudes to 0) keeps the drift.
        drift_scale: "s_ν", "1", Some(1.0), NON_NEG, P,
            "Scale of the drawn drift exponent.";
        prog_noise_scale: "s_prog", "1", Some(1.0), NON_NEG, C2c,
            "Scale of the programming noise.";
        read_noise_scale: "s_read", "1", Some(1.0), NON_NEG, C2c,
            "Scale of the accumulated 1/f read noise.";
    }
}

/// Relations between the parameters (single-parameter ranges are declared above).
fn check(p: &PcmStatParams) -> Result<(), (&'static str, String)> {
    if p.nu_mu_max < p.nu_mu_min {
        return Err(("nu_mu_max", format!("{}: must be >= nu_mu_min", p.nu_mu_max)));
    }
    if p.nu_sigma_max < p.nu_sigma_min {
        return Err((
            "nu_sigma_max",
            format!("{}: must be >= nu_sigma_min", p.nu_sigma_max),
        ));
    }
    Ok(())
}
// drift_scale was a [variability.c2c] key until it moved to [params]: such cards still read.
family_params!(PcmStatParams, check, moved: [drift_scale: C2c]);

impl Default for PcmStatParams {
    /// The declared defaults (aihwkit's), no D2D spread.
    fn default() -> Self {
        super::card::defaults().expect("every pcm_stat parameter has a default")
    }
}

/// Per-cell state of the statistical model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PcmStatState {
    /// Target conductance of the last programming (S).
    pub g_target_s: f64,
    /// Conductance right after programming, with programming noise (S).
    pub g_prog_s: f64,
    /// Drift exponent drawn at the last programming.
    pub nu: f64,
    /// Time since programming, aihwkit's t_inference (s).
    pub age_s: f64,
}

/// The statistical PCM model (validated parameters).
#[derive(Clone, Debug, PartialEq)]
pub struct PcmStatModel {
    p: PcmStatParams,
}

impl PcmStatModel {
    /// Validates `params` and builds the model.
    pub fn new(params: PcmStatParams) -> Result<Self, ParamError> {
        params.validate()?;
        Ok(Self { p: params })
    }

    /// The parameters.
    pub fn params(&self) -> &PcmStatParams {
        &self.p
    }

    /// Programming-noise std (µS) at target conductance `g_target_us` (µS), before
    /// `prog_noise_scale`: `(c0 + c1·x + c2·x²)·g_max/g_ref`.
    pub fn prog_noise_sigma_us(&self, g_target_us: f64) -> f64 {
        let p = &self.p;
        let x = g_target_us / p.g_max_us;
        (p.prog_c0_us + x * (p.prog_c1_us + x * p.prog_c2_us)) * p.g_max_us / p.prog_g_ref_us
    }

    fn ln_x_c(&self, g_target_us: f64) -> f64 {
        (g_target_us.abs() / self.p.g_max_us).max(ZERO_CLIP).ln()
    }

    /// Mean drift exponent μ_ν at target conductance `g_target_us` (µS).
    pub fn nu_mean(&self, g_target_us: f64) -> f64 {
        let p = &self.p;
        (p.nu_mu_slope * self.ln_x_c(g_target_us) + p.nu_mu_offset).clamp(p.nu_mu_min, p.nu_mu_max)
    }

    /// Std σ_ν of the drift exponent at target conductance `g_target_us` (µS).
    pub fn nu_std(&self, g_target_us: f64) -> f64 {
        let p = &self.p;
        (p.nu_sigma_slope * self.ln_x_c(g_target_us) + p.nu_sigma_offset)
            .clamp(p.nu_sigma_min, p.nu_sigma_max)
    }

    /// 1/f noise amplitude Q_s at programmed conductance `g_prog_us` (µS).
    pub fn read_noise_qs(&self, g_prog_us: f64) -> f64 {
        let p = &self.p;
        let x = g_prog_us.abs() / p.g_max_us;
        (p.q_s_coeff / x.powf(p.q_s_exponent).max(p.q_s_floor)).min(p.q_s_max)
    }

    /// Programs the cell to `g_target_s` (S): draws programming noise and ν, restarts the clock.
    pub fn program(&self, st: &mut PcmStatState, g_target_s: f64, rng: &mut ChaCha8Rng) {
        let g_t_us = g_target_s * 1e6;
        let var = &self.p;
        let n1: f64 = rng.sample(StandardNormal);
        let n2: f64 = rng.sample(StandardNormal);
        let g_prog_us =
            (g_t_us + var.prog_noise_scale * self.prog_noise_sigma_us(g_t_us) * n1).max(0.0);
        let nu = (self.nu_mean(g_t_us) + self.nu_std(g_t_us) * n2).abs() * var.drift_scale;
        *st = PcmStatState {
            g_target_s,
            g_prog_s: g_prog_us * 1e-6,
            nu,
            age_s: 0.0,
        };
    }

    /// Noise-free drifted conductance (S): g_prog·(t/t0)^(−ν), t = age + t0.
    pub fn drifted_conductance(&self, st: &PcmStatState) -> f64 {
        let t0 = self.p.t0_s;
        st.g_prog_s * ((st.age_s + t0) / t0).powf(-st.nu)
    }

    /// A noisy read of the conductance (S) with accumulated 1/f noise (aihwkit step 4).
    pub fn read_conductance_noisy(&self, st: &PcmStatState, rng: &mut ChaCha8Rng) -> f64 {
        let g = self.drifted_conductance(st);
        let t = st.age_s + self.p.t0_s;
        let tr = self.p.t_read_s;
        let sig =
            self.read_noise_qs(st.g_prog_s * 1e6) * ((t + tr) / (2.0 * tr)).ln().max(0.0).sqrt();
        let n: f64 = rng.sample(StandardNormal);
        (g + g.abs() * self.p.read_noise_scale * sig * n).max(0.0)
    }
}

impl CompactModel for PcmStatModel {
    type State = PcmStatState;

    fn initial_state(&self) -> PcmStatState {
        let g = self.p.initial_g_us;
        PcmStatState {
            g_target_s: g * 1e-6,
            g_prog_s: g * 1e-6,
            nu: self.nu_mean(g) * self.p.drift_scale,
            age_s: 0.0,
        }
    }

    /// Linear: I = g(t)·V, dI/dV = g(t).
    fn current(&self, st: &PcmStatState, v: f64, _temp_k: f64) -> (f64, f64) {
        let g = self.drifted_conductance(st);
        (g * v, g)
    }

    fn advance(
        &self,
        st: &mut PcmStatState,
        _v: f64,
        dt: f64,
        _temp_k: f64,
        _rng: &mut ChaCha8Rng,
    ) {
        if dt > 0.0 {
            st.age_s += dt;
        }
    }

    /// No D2D draw of its own (all randomness is per programming and per read), but the
    /// spreads of single parameters a card declares (`[variability.d2d] key = { rel | abs }`).
    fn sample_device(&self, rng: &mut ChaCha8Rng) -> Self {
        Self {
            p: sample_params(&self.p, rng),
        }
    }
}

impl super::model::Family for PcmStatModel {
    const KEY: &'static str = "pcm_stat";
    const IV_DEFAULTS: (f64, f64, f64) = (1.0, -1.0, 1.0);

    /// LRS: programmed to g_max; HRS: programmed to 0 (with programming noise).
    fn set_extreme(&self, s: &mut PcmStatState, lrs: bool, rng: &mut ChaCha8Rng) -> bool {
        let g = if lrs { self.params().g_max_us * 1e-6 } else { 0.0 };
        self.program(s, g, rng);
        true
    }

    /// Bisection over the programmed conductance at drift age 0.
    fn program_read_conductance(&self, s: &mut PcmStatState, g: f64, v_read: f64, t: f64) -> bool {
        s.age_s = 0.0;
        let mut probe = *s;
        let (lo, hi) = ((g * 1e-3).ln(), (g * 1e3).ln());
        let x = super::model::bisect(lo, hi, true, g, |x| {
            probe.g_prog_s = x.exp();
            probe.g_target_s = probe.g_prog_s;
            self.read_conductance(&probe, v_read, t)
        });
        s.g_prog_s = x.exp();
        s.g_target_s = s.g_prog_s;
        true
    }

    /// `--initial VALUE` programs with the model's programming noise.
    fn program_initial(
        &self,
        s: &mut PcmStatState,
        g: f64,
        _v_read: f64,
        _t: f64,
        rng: &mut ChaCha8Rng,
    ) -> bool {
        self.program(s, g, rng);
        true
    }

    fn state_vars(&self, s: &PcmStatState) -> Vec<(&'static str, f64)> {
        vec![
            ("g_prog_s", s.g_prog_s),
            ("drift_exponent", s.nu),
            ("age_s", s.age_s),
        ]
    }

    fn spice_current_expr(&self, s: &PcmStatState, v: &str, temp_k: f64) -> String {
        super::spice_expr::pcm_stat(self, s, v, temp_k)
    }

    super::card::sectioned_card_plumbing!(PcmStatParams, PcmStatModel::new);
}
