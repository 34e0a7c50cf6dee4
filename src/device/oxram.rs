//! OxRAM: Stanford-PKU filament-gap model v1.0.0 (Guan, Yu, Wong, IEEE EDL 33(10) 2012;
//! Jiang et al., IEEE TED 63(5) 2016), as restated in device-physics.md §1.1.
//!
//! State: the gap g (m) between filament tip and electrode, g_min <= g <= g_max.
//! Positive V (top electrode to bottom) shrinks the gap (SET); negative V grows it (RESET).
//! The ambient temperature T0 of the source is the `temp_k` argument (circuit temperature).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::card::{closed, family_params, params, pos, sinh_lim};
use super::model::{CompactModel, K_B, Q_E};

params! {
    /// Stanford-PKU v1.0.0 parameters (SI).
    Params, "oxram" {
        i0: "I_0", "A", None, pos(1.0), P, "current prefactor I0";
        g0: "g_0", "m", None, pos(2e-9), P, "tunnelling length g0 (source range (0, 2 nm])";
        v0: "V_0", "V", None, pos(10.0), P, "I-V nonlinearity voltage V0";
        vel0: "v_0", "m/s", Some(10.0), pos(1e12), P, "gap velocity prefactor v0";
        gamma0: "γ_0", "1", Some(16.0), pos(1e3), P, "field enhancement at g = 0";
        beta: "β", "1", Some(0.8), closed(0.0, 1e3), P, "enhancement roll-off: gamma = gamma0 - beta*(g/1nm)^3";
        ea: "E_a", "eV", Some(0.6), closed(0.0, 5.0), P, "activation energy of gap motion";
        a0: "a_0", "m", Some(0.25e-9), pos(1e-8), P, "hopping distance a0";
        t_ox: "t_ox", "m", Some(12e-9), pos(1e-6), P, "oxide thickness";
        f_min: "F_min", "V/m", Some(1.4e9), closed(0.0, 1e12), P, "minimum field gamma*|V|/t_ox for gap motion";
        r_th: "R_th", "K/W", Some(2.1e3), closed(0.0, 1e9), P, "thermal resistance, T = T0 + |V*I|*r_th";
        g_min: "g_min", "m", None, closed(0.0, 1e-8), P, "minimum gap";
        g_max: "g_max", "m", None, pos(1e-8), P, "maximum gap";
        g_ini: "g_ini", "m", None, closed(0.0, 1e-8), P, "initial gap";
        vel_rlx: "v_r", "m/s", Some(0.0), closed(0.0, 1e12), P, "gap relaxation velocity prefactor (0 = no relaxation)";
        ea_rlx: "E_a,r", "eV", Some(1.0), closed(0.0, 5.0), P, "activation energy of gap relaxation";
        l_rlx: "λ_r", "m", Some(0.1e-9), pos(1e-8), P, "relaxation length: the relaxation rate falls as exp(-(g-g_min)/l_rlx)";
        dg0: "δg_0", "m/s", Some(0.0), closed(0.0, 0.1), C2c, "amplitude of the random gap velocity (source delta_g0, range [0, 0.1))";
        t_crit: "T_crit", "K", Some(450.0), pos(1e4), C2c, "temperature above which the random velocity switches on";
        t_smth: "T_smth", "K", Some(500.0), pos(1e4), C2c, "smoothing of that onset";
        tau_noise: "τ_n", "s", Some(1e-9), pos(1.0), C2c, "correlation time of the random velocity (source time_step)";
    }
}

fn check(p: &Params) -> Result<(), (&'static str, String)> {
    if p.g_min >= p.g_max {
        return Err((
            "g_min",
            format!("g_min {:e} m must be < g_max {:e} m", p.g_min, p.g_max),
        ));
    }
    if p.g_ini < p.g_min || p.g_ini > p.g_max {
        return Err((
            "g_ini",
            format!("g_ini {:e} m outside [g_min, g_max]", p.g_ini),
        ));
    }
    if p.gamma(p.g_max) <= 0.0 {
        return Err((
            "beta",
            format!(
                "gamma0 - beta*(g_max/1nm)^3 = {:e} must stay > 0",
                p.gamma(p.g_max)
            ),
        ));
    }
    Ok(())
}
family_params!(Params, check);

/// Per-cell state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct State {
    /// Gap (m).
    pub gap: f64,
}

/// Largest gap change per internal sub-step (m), device-physics.md §11.4 suggests 0.01 nm.
const DG_MAX: f64 = 5e-12;
/// Largest relative change of the rate across one sub-step (midpoint vs start).
const REL_RATE: f64 = 0.05;
const MAX_SUBSTEPS: usize = 1_000_000;

impl Params {
    /// Field-enhancement factor gamma(g) (g in m, normalised to 1 nm, cubic roll-off).
    #[inline]
    pub fn gamma(&self, g: f64) -> f64 {
        self.gamma0 - self.beta * (g * 1e9).powi(3)
    }

    /// Static law I = I0·exp(-g/g0)·sinh(V/V0) and dI/dV (device-physics.md §1.1).
    #[inline]
    pub fn current_at(&self, g: f64, v: f64) -> (f64, f64) {
        let pre = self.i0 * (-g / self.g0).exp();
        let (s, c) = sinh_lim(v / self.v0);
        (pre * s, pre * c / self.v0)
    }

    /// Local filament temperature T = T0 + |V·I|·Rth (K), quasi-static as in v1.0.0.
    #[inline]
    pub fn temperature(&self, g: f64, v: f64, t_amb: f64) -> f64 {
        t_amb + (v * self.current_at(g, v).0).abs() * self.r_th
    }

    /// Deterministic gap velocity dg/dt (m/s):
    /// -v0·exp(-q·Ea/(kT))·sinh(γ·a0·q·V/(t_ox·k·T)), zero below the field gate.
    #[inline]
    pub fn gap_rate(&self, g: f64, v: f64, t_amb: f64) -> f64 {
        let gamma = self.gamma(g);
        if gamma * v.abs() / self.t_ox < self.f_min {
            return 0.0;
        }
        let ut = K_B * self.temperature(g, v, t_amb) / Q_E; // kT/q in V
        -self.vel0 * (-self.ea / ut).exp() * sinh_lim(gamma * self.a0 * v / (self.t_ox * ut)).0
    }

    /// Thermally activated gap relaxation (filament-tip dissolution by vacancy diffusion; Yu,
    /// Chen, Guan, Wong, Kwon, APL 100, 043507 (2012)):
    /// dg/dt = vel_rlx·exp(-q·Ea_rlx/(kT))·exp(-(g-g_min)/l_rlx), integrated in closed form over
    /// `dt` (s): x = exp((g-g_min)/l_rlx) grows linearly, so at zero bias the conductance follows
    /// G(t) = G(0)·(1 + t/τ)^(-l_rlx/g0), the power-law (log-time for small exponents)
    /// relaxation reported for RRAM (Fantini et al., IEDM 2015, "Intrinsic program instability
    /// in HfO2 RRAM"). Returns the new gap, at most g_max.
    pub fn relax_gap(&self, g: f64, dt: f64, temp_k: f64) -> f64 {
        if self.vel_rlx <= 0.0 || dt.is_nan() || dt <= 0.0 {
            return g;
        }
        let ut = K_B * temp_k / Q_E;
        let kappa = self.vel_rlx * (-self.ea_rlx / ut).exp() / self.l_rlx;
        let x0 = ((g - self.g_min) / self.l_rlx).exp();
        (self.g_min + self.l_rlx * (x0 + kappa * dt).ln()).min(self.g_max)
    }
}

impl CompactModel for Params {
    type State = State;

    fn initial_state(&self) -> State {
        State { gap: self.g_ini }
    }

    fn current(&self, s: &State, v: f64, _temp_k: f64) -> (f64, f64) {
        self.current_at(s.gap, v)
    }

    /// Adaptive explicit midpoint: each sub-step moves the gap by at most `DG_MAX` and the rate
    /// changes by at most `REL_RATE` across it, so any `dt` is integrated accurately. Random
    /// velocity (C2C): the source redraws N(0,1)·δg per solver step of length tau_noise; the
    /// equivalent Wiener increment δg·w(T)·sqrt(tau_noise·h)·N makes the spread independent of our
    /// sub-steps (device-physics.md §11.6). It acts only while the field gate is open, so reads
    /// below threshold do not random-walk the gap (the source applies it at every step).
    fn advance(&self, s: &mut State, v: f64, dt: f64, temp_k: f64, rng: &mut ChaCha8Rng) {
        let mut g = s.gap.clamp(self.g_min, self.g_max);
        let mut t_left = if dt.is_finite() { dt } else { 0.0 };
        let mut n = 0;
        while t_left > 0.0 && n < MAX_SUBSTEPS {
            n += 1;
            let r = self.gap_rate(g, v, temp_k);
            if r == 0.0 || (g <= self.g_min && r < 0.0) || (g >= self.g_max && r > 0.0) {
                break;
            }
            let mut h = t_left.min(DG_MAX / r.abs());
            let mut rm = self.gap_rate(g + 0.5 * h * r, v, temp_k);
            for _ in 0..40 {
                if (rm - r).abs() <= REL_RATE * r.abs() {
                    break;
                }
                h *= 0.5;
                rm = self.gap_rate(g + 0.5 * h * r, v, temp_k);
            }
            let mut g_new = g + h * rm;
            if self.dg0 > 0.0 {
                let t = self.temperature(g, v, temp_k);
                let w = 1.0 / (1.0 + ((self.t_crit - t) / self.t_smth).exp());
                let z: f64 = rng.sample(StandardNormal);
                g_new += self.dg0 * w * (self.tau_noise * h).sqrt() * z;
            }
            g = g_new.clamp(self.g_min, self.g_max);
            t_left -= h;
        }
        // Relaxation over the whole step, split from the field-driven motion (exact at 0 V).
        let t_relax = self.temperature(g, v, temp_k);
        s.gap = self.relax_gap(g, dt, t_relax);
    }

    fn sample_device(&self, rng: &mut ChaCha8Rng) -> Self {
        super::card::sample_params(self, rng)
    }
}

impl super::model::Family for Params {
    const KEY: &'static str = "oxram";
    const IV_DEFAULTS: (f64, f64, f64) = (1.5, -1.5, 1.0);
    const FIT_FREE: [Option<&'static [&'static str]>; 3] = [
        Some(&["i0", "g0", "v0", "g_ini", "vel0"]),
        Some(&["g_ini", "vel0", "i0"]),
        Some(&["i0", "vel_rlx", "l_rlx"]),
    ];
    const DEFAULT_CARD: Option<(&'static str, &'static str)> = Some((
        "device-models/oxram-stanford-v1.toml",
        include_str!("../../device-models/oxram-stanford-v1.toml"),
    ));

    fn set_state_fraction(&self, s: &mut State, u: f64) -> bool {
        s.gap = self.g_max - u * (self.g_max - self.g_min);
        true
    }

    /// G(g) = I0·exp(−g/g0)·sinh(v_read/V0)/v_read inverts in closed form:
    /// g = −g0·ln(G·v_read/(I0·sinh(v_read/V0))), clamped to [g_min, g_max] (§1.1).
    fn program_read_conductance(&self, s: &mut State, g: f64, v_read: f64, _t: f64) -> bool {
        let shape = sinh_lim(v_read / self.v0).0;
        let gap = -self.g0 * (g * v_read / (self.i0 * shape)).ln();
        s.gap = gap.clamp(self.g_min, self.g_max);
        true
    }

    fn read_window(&self, v_read: f64) -> Option<(f64, f64)> {
        let (g_hi, _) = self.current_at(self.g_min, v_read);
        let (g_lo, _) = self.current_at(self.g_max, v_read);
        Some((g_lo / v_read, g_hi / v_read))
    }

    fn state_vars(&self, s: &State) -> Vec<(&'static str, f64)> {
        vec![("gap_m", s.gap)]
    }

    fn spice_current_expr(&self, s: &State, v: &str, temp_k: f64) -> String {
        super::spice_expr::oxram(self, s, v, temp_k)
    }

    super::card::sectioned_card_plumbing!();
}
