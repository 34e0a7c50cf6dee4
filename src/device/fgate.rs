//! Floating-gate cell (flash / FG synapse) as a two-terminal `N` element.
//!
//! Terminal mapping (what the element's two nodes are):
//! - positive terminal = **drain**, negative terminal = **source** (bulk tied to source);
//! - the **control gate** is a third, driven terminal: [`Params::current_gated`] and
//!   [`Params::advance_gated`] take its bias `v_cg` (V, relative to the source). The two-terminal
//!   [`CompactModel`] calls (what netlists and arrays use today) hold it at the card's `v_cg`,
//!   the word-line bias of a read;
//! - the tunnel oxide (FN window) lies between the floating gate and the drain.
//!
//! Charge balance (device-physics.md §5, [YFLASH]):
//!   V_FG = (Q + C_cg·V_cg + C_d·V) / C_T,  C_T = C_cg + C_d + C_s
//! Channel current: EKV single equation (device-physics.md §6, [EKV]), source/drain symmetric,
//! with the FG as gate:
//!   V_P = (V_FG − V_th0)/n,  I = I_spec·[F(V_P/U_T) − F((V_P − V)/U_T)],
//!   F(x) = ln²(1 + e^{x/2}),  I_spec = 2·n·kp·U_T²
//! Fowler–Nordheim tunnelling through the drain window (Lenzlinger & Snow, JAP 40, 278, 1969):
//!   E = (V_FG − V)/t_tun,  J = A·E²·exp(−B/|E|)·sign(E),  dQ/dt = −a_tun·J
//!   A = q³·m0/(8π·h·φ_B·m_ox),  B = 8π·sqrt(2·m_ox)·(q·φ_B)^{3/2}/(3·q·h)
//! So a large positive V pulls electrons out of the FG (Q up, V_th down, conductance up: SET /
//! "erase" in flash terms) and a large negative V injects them (RESET / "program").
//! Threshold seen from the control gate: V_th,cg = (C_T·V_th0 − Q − C_d·V)/C_cg, hence
//! ΔV_th = −ΔQ/C_cg. Retention: Q relaxes to 0 with τ = tau_ret0·exp(ea_ret/kT).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::card::{closed, family_params, params, pos};
use super::model::{CompactModel, K_B, Q_E};

/// Electron rest mass (kg), CODATA 2018.
pub const M_E: f64 = 9.1093837015e-31;
/// Planck constant (J·s), exact.
pub const H_PLANCK: f64 = 6.62607015e-34;

params! {
    /// Floating-gate cell parameters (SI).
    Params, "fgate" {
        v_cg: "V_cg", "V", None, closed(-30.0, 30.0), P, "control-gate bias held during operation, relative to the source (negative terminal)";
        c_cg: "C_cg", "F", None, pos(1e-9), P, "control gate to FG capacitance";
        c_d: "C_d", "F", None, pos(1e-9), P, "drain (positive terminal, incl. tunnel window) to FG capacitance";
        c_s: "C_s", "F", None, pos(1e-9), P, "source and bulk to FG capacitance";
        vth0: "V_th0", "V", None, closed(-10.0, 10.0), P, "threshold voltage seen from the FG at Q = 0";
        kp: "k_p", "A/V^2", None, pos(1.0), P, "transconductance factor mu*Cox*W/L";
        n: "n", "1", Some(1.5), closed(1.0, 10.0), P, "subthreshold slope factor";
        phi_b: "φ_B", "eV", Some(3.2), pos(10.0), P, "tunnel barrier height (Si/SiO2: 3.2 eV)";
        m_ox: "m_ox", "1", Some(0.42), pos(10.0), P, "effective electron mass in the oxide / m0";
        t_tun: "t_tun", "m", None, pos(1e-6), P, "tunnel-oxide thickness";
        a_tun: "a_tun", "m^2", None, pos(1e-6), P, "tunnel-window area";
        q_ini: "Q_0", "C", Some(0.0), closed(-1e-9, 1e-9), P, "initial floating-gate charge";
        tau_ret0: "τ_ret0", "s", Some(1e-7), pos(1e30), P, "retention time prefactor";
        ea_ret: "E_a,ret", "eV", Some(1.1), closed(0.0, 5.0), P, "retention (charge loss) activation energy";
        fano: "F", "1", Some(0.0), closed(0.0, 1e6), C2c, "shot-noise factor of tunnelling: var(dQ) = fano*q*|dQ| (1 = Poisson)";
    }
}

fn check(_p: &Params) -> Result<(), (&'static str, String)> {
    Ok(())
}
family_params!(Params, check);

/// Per-cell state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct State {
    /// Floating-gate charge (C); negative = electrons stored (programmed).
    pub q: f64,
}

/// ln(1 + e^y) without overflow.
#[inline]
fn softplus(y: f64) -> f64 {
    if y > 30.0 {
        y + (-y).exp().ln_1p()
    } else {
        y.exp().ln_1p()
    }
}
/// 1/(1 + e^-y) without overflow.
#[inline]
fn sigmoid(y: f64) -> f64 {
    if y >= 0.0 {
        1.0 / (1.0 + (-y).exp())
    } else {
        let e = y.exp();
        e / (1.0 + e)
    }
}
/// EKV F(x) = ln²(1 + e^{x/2}) and dF/dx.
#[inline]
fn ekv_f(x: f64) -> (f64, f64) {
    let sp = softplus(0.5 * x);
    (sp * sp, sp * sigmoid(0.5 * x))
}

impl Params {
    pub fn c_total(&self) -> f64 {
        self.c_cg + self.c_d + self.c_s
    }
    /// Floating-gate potential (V) relative to the source, control gate at the card's `v_cg`.
    #[inline]
    pub fn v_fg(&self, q: f64, v: f64) -> f64 {
        self.v_fg_gated(q, v, self.v_cg)
    }
    /// Floating-gate potential (V) with the control gate driven to `v_cg` (V):
    /// V_FG = (Q + C_cg·V_cg + C_d·V)/C_T.
    #[inline]
    pub fn v_fg_gated(&self, q: f64, v: f64, v_cg: f64) -> f64 {
        (q + self.c_cg * v_cg + self.c_d * v) / self.c_total()
    }
    /// Threshold voltage seen from the control gate at drain bias 0 (V).
    pub fn vth_cg(&self, s: &State) -> f64 {
        (self.c_total() * self.vth0 - s.q) / self.c_cg
    }
    /// FN constants (A in A/V², B in V/m) from φ_B and m_ox.
    pub fn fn_constants(&self) -> (f64, f64) {
        let m_ox = self.m_ox * M_E;
        let a =
            Q_E.powi(3) * M_E / (8.0 * std::f64::consts::PI * H_PLANCK * self.phi_b * Q_E * m_ox);
        let b = 8.0 * std::f64::consts::PI * (2.0 * m_ox).sqrt() * (Q_E * self.phi_b).powf(1.5)
            / (3.0 * Q_E * H_PLANCK);
        (a, b)
    }
    /// Tunnel-oxide field (V/m) at charge `q` and bias `v`; positive = FG above the drain.
    #[inline]
    pub fn tunnel_field(&self, q: f64, v: f64) -> f64 {
        self.tunnel_field_gated(q, v, self.v_cg)
    }
    /// Tunnel-oxide field (V/m) with the control gate at `v_cg` (V).
    #[inline]
    pub fn tunnel_field_gated(&self, q: f64, v: f64, v_cg: f64) -> f64 {
        (self.v_fg_gated(q, v, v_cg) - v) / self.t_tun
    }
    /// FN current into the floating gate, dQ/dt (A): −a_tun·A·E²·exp(−B/|E|)·sign(E).
    pub fn tunnel_current(&self, q: f64, v: f64) -> f64 {
        let (a, b) = self.fn_constants();
        let e = self.tunnel_field(q, v);
        if e == 0.0 {
            return 0.0;
        }
        -e.signum() * self.a_tun * a * e * e * (-b / e.abs()).exp()
    }
    /// FN step in closed form for constant V over `t` (s): with u = 1/|E|,
    /// du/dt = κ·e^{−B·u}, κ = a_tun·A/(C_T·t_tun)  ⇒  e^{B·u1} = e^{B·u0} + B·κ·t.
    /// Returns ΔQ (C).
    fn fn_step(&self, q: f64, v: f64, v_cg: f64, t: f64, a: f64, b: f64) -> f64 {
        let e0 = self.tunnel_field_gated(q, v, v_cg);
        if e0 == 0.0 || t <= 0.0 {
            return 0.0;
        }
        let u0 = 1.0 / e0.abs();
        let kappa = self.a_tun * a / (self.c_total() * self.t_tun);
        let u1 = u0 + (b * kappa * t * (-b * u0).exp()).ln_1p() / b;
        let e1 = e0.signum() / u1;
        self.c_total() * self.t_tun * (e1 - e0)
    }
    /// Retention time constant at temperature `t_k` (s).
    pub fn tau_ret(&self, t_k: f64) -> f64 {
        self.tau_ret0 * (self.ea_ret * Q_E / (K_B * t_k)).exp()
    }
}

impl Params {
    /// Drain current (A, drain → source) and dI/dV_ds (S) at drain bias `v` (V) with the control
    /// gate driven to `v_cg` (V); EKV with the floating gate as the gate.
    pub fn current_gated(&self, s: &State, v: f64, v_cg: f64, temp_k: f64) -> (f64, f64) {
        let ut = K_B * temp_k / Q_E;
        let i_spec = 2.0 * self.n * self.kp * ut * ut;
        let vp = (self.v_fg_gated(s.q, v, v_cg) - self.vth0) / self.n;
        let dvp = self.c_d / (self.c_total() * self.n);
        let (ff, dff) = ekv_f(vp / ut);
        let (fr, dfr) = ekv_f((vp - v) / ut);
        let i = i_spec * (ff - fr);
        let di = i_spec * (dff * dvp - dfr * (dvp - 1.0)) / ut;
        (i, di)
    }

    /// Advance the charge by `dt` (s) at drain bias `v` (V) with the control gate driven to
    /// `v_cg` (V): FN tunnelling integrated in closed form (exact for constant biases and any
    /// dt), retention as an exact exponential decay, combined by splitting into sub-steps of at
    /// most τ_ret/20. C2C: shot noise of the tunnelled charge, σ(ΔQ) = sqrt(fano·q·|ΔQ|).
    pub fn advance_gated(
        &self,
        s: &mut State,
        v: f64,
        v_cg: f64,
        dt: f64,
        temp_k: f64,
        rng: &mut ChaCha8Rng,
    ) {
        if !(dt > 0.0 && dt.is_finite()) {
            return;
        }
        let (a, b) = self.fn_constants();
        let tau = self.tau_ret(temp_k);
        let n = ((dt / tau * 20.0).ceil() as usize).clamp(1, 1000);
        let h = dt / n as f64;
        let decay = (-h / tau).exp();
        for _ in 0..n {
            let mut dq = self.fn_step(s.q, v, v_cg, h, a, b);
            if self.fano > 0.0 && dq != 0.0 {
                let z: f64 = rng.sample(StandardNormal);
                dq += (self.fano * Q_E * dq.abs()).sqrt() * z;
            }
            s.q = (s.q + dq) * decay;
        }
    }
}

impl CompactModel for Params {
    type State = State;

    fn initial_state(&self) -> State {
        State { q: self.q_ini }
    }

    /// Two-terminal law: control gate at the card's `v_cg`.
    fn current(&self, s: &State, v: f64, temp_k: f64) -> (f64, f64) {
        self.current_gated(s, v, self.v_cg, temp_k)
    }

    /// Two-terminal advance: control gate at the card's `v_cg` (see [`Params::advance_gated`]).
    fn advance(&self, s: &mut State, v: f64, dt: f64, temp_k: f64, rng: &mut ChaCha8Rng) {
        self.advance_gated(s, v, self.v_cg, dt, temp_k, rng)
    }

    fn sample_device(&self, rng: &mut ChaCha8Rng) -> Self {
        super::card::sample_params(self, rng)
    }
}

impl super::model::Family for Params {
    const KEY: &'static str = "fgate";
    const IV_DEFAULTS: (f64, f64, f64) = (14.0, -14.0, 1e-3);
    // A floating-gate program is ~20 V on the control gate.
    const MAX_BIAS_V: f64 = 40.0;
    const FIT_FREE: [Option<&'static [&'static str]>; 3] = [
        Some(&["vth0", "kp", "q_ini"]),
        Some(&["q_ini", "t_tun", "kp"]),
        Some(&["q_ini", "tau_ret0", "ea_ret"]),
    ];
    const DEFAULT_CARD: Option<(&'static str, &'static str)> = Some((
        "device-models/fgate-flash.toml",
        include_str!("../../device-models/fgate-flash.toml"),
    ));

    fn set_state_fraction(&self, s: &mut State, u: f64) -> bool {
        // Charge from "threshold at +3 V" (HRS) to "threshold at −1 V" (LRS) seen from the
        // control gate: Q = C_T·V_th0 − C_cg·V_th,cg.
        let vth = 3.0 - 4.0 * u;
        s.q = self.c_total() * self.vth0 - self.c_cg * vth;
        true
    }
    const HAS_CONTROL_GATE: bool = true;

    fn current_gated(&self, s: &State, v: f64, v_cg: f64, temp_k: f64) -> (f64, f64) {
        Params::current_gated(self, s, v, v_cg, temp_k)
    }

    fn advance_gated(
        &self,
        s: &mut State,
        v: f64,
        v_cg: f64,
        dt: f64,
        temp_k: f64,
        rng: &mut ChaCha8Rng,
    ) {
        Params::advance_gated(self, s, v, v_cg, dt, temp_k, rng)
    }

    fn state_vars(&self, s: &State) -> Vec<(&'static str, f64)> {
        vec![("q_fg_c", s.q), ("vth_cg_v", self.vth_cg(s))]
    }

    fn spice_current_expr(&self, s: &State, v: &str, temp_k: f64) -> String {
        super::spice_expr::fgate(self, s, v, temp_k)
    }

    super::card::sectioned_card_plumbing!();
}
