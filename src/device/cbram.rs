//! CBRAM (electrochemical metallization): Yu & Wong, IEEE TED 58(5) 2011
//! (doi 10.1109/TED.2011.2116120), structure as in device-physics.md §4, made continuous.
//!
//! State: filament height h (0..L) and filament top radius r; the bottom radius is fixed,
//! R_b = sqrt(A/π). Resistance (eqs. 5 and 7 of the paper joined so that they agree at h = L):
//!
//!   R(h, r) = ρ_on·h/(π·r·R_b) + ρ_off·(L − h)/A,   I = V/R (ohmic)
//!
//! Dynamics (eqs. 6, 10), T = T0 + V²·Rth/R (eq. 8, with the present R):
//!   vertical  dh/dt = v_h·exp(−Ea/kT)·sinh(α·qV/(2kT))   while h < L (SET) or r <= r_floor (RESET)
//!   lateral   dr/dt = v_r·exp(−Ea/kT)·sinh(β·qV/(kT))     while h = L
//! SET grows h to L; when h reaches L the radius is set by the compliance relation
//! R_set = C/I_comp (eq. 9): r_set = ρ_on·L/(π·R_b·R_set), times a C2C lognormal factor per
//! touch event. Lateral growth under positive bias (re-SET of a partly dissolved filament) stops
//! at r_set too: the compliance current fixes the LRS (the paper's eq. 9 is the statement that
//! growth ends when the cell voltage under compliance falls to C), so the LRS is R_set, not the
//! full-base cylinder. RESET dissolves r down to r_floor = r_set/2 (a residual
//! stub, our choice — the paper lets r reach 0, which makes R jump to infinity), then retracts h.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::card::{closed, family_params, params, pos, sinh_lim};
use super::model::{CompactModel, K_B, Q_E};

params! {
    /// Yu-Wong CBRAM parameters (SI; the paper's cm/s and Ω·cm converted).
    Params, "cbram" {
        l: "L", "m", None, pos(1e-6), P, "switching-layer thickness L";
        area: "A", "m^2", None, pos(1e-10), P, "filament base area A (bottom radius sqrt(A/pi))";
        rho_on: "ρ_on", "ohm*m", None, pos(1.0), P, "filament (metal) resistivity";
        rho_off: "ρ_off", "ohm*m", None, pos(1e8), P, "electrolyte resistivity";
        v_h: "v_h", "m/s", Some(3.5e-3), pos(1e6), P, "vertical growth velocity prefactor";
        v_r: "v_r", "m/s", Some(7.0), pos(1e6), P, "lateral growth velocity prefactor";
        ea: "E_a", "eV", Some(0.5), closed(0.0, 5.0), P, "activation energy";
        alpha: "α", "1", Some(0.5), pos(100.0), P, "vertical field factor";
        beta: "β", "1", Some(0.3), pos(100.0), P, "lateral field factor";
        r_th: "R_th", "K/W", Some(1e6), closed(0.0, 1e10), P, "thermal resistance";
        c_set: "C", "V", Some(0.08), pos(10.0), P, "R_set = c_set / i_comp at filament touch";
        i_comp: "I_comp", "A", Some(1e-3), pos(1.0), P, "compliance current of the forming/SET";
        h_ini: "h_0", "m", Some(0.0), closed(0.0, 1e-6), P, "initial filament height";
        sigma_touch: "σ_r", "1", Some(0.0), closed(0.0, 2.0), C2c, "lognormal sigma of the touch radius, drawn at each SET (touch) event";
    }
}

fn check(p: &Params) -> Result<(), (&'static str, String)> {
    if p.h_ini > p.l {
        return Err((
            "h_ini",
            format!("h_ini {:e} m exceeds L {:e} m", p.h_ini, p.l),
        ));
    }
    if p.r_set() > p.r_base() {
        return Err((
            "c_set",
            format!(
                "touch radius {:e} m from R_set = c_set/i_comp exceeds the base radius {:e} m",
                p.r_set(),
                p.r_base()
            ),
        ));
    }
    Ok(())
}
family_params!(Params, check);

/// Per-cell state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct State {
    /// Filament height (m).
    pub h: f64,
    /// Filament top radius (m).
    pub r: f64,
}

const MAX_SUBSTEPS: usize = 1_000_000;
const REL_RATE: f64 = 0.05;
/// Fraction of L or R_b a sub-step may move.
const STEP_FRAC: f64 = 1.0 / 200.0;

impl Params {
    /// Bottom radius R_b = sqrt(A/π) (m).
    pub fn r_base(&self) -> f64 {
        (self.area / std::f64::consts::PI).sqrt()
    }
    /// Touch radius from the compliance relation R_set = C/I_comp (m).
    pub fn r_set(&self) -> f64 {
        self.rho_on * self.l * self.i_comp / (std::f64::consts::PI * self.r_base() * self.c_set)
    }
    /// Smallest radius RESET leaves before the filament retracts (m).
    pub fn r_floor(&self) -> f64 {
        0.5 * self.r_set()
    }
    /// R(h, r) (Ω).
    #[inline]
    pub fn resistance(&self, h: f64, r: f64) -> f64 {
        self.rho_on * h / (std::f64::consts::PI * r * self.r_base())
            + self.rho_off * (self.l - h) / self.area
    }
    fn ut(&self, s: &State, v: f64, t_amb: f64) -> f64 {
        K_B * (t_amb + v * v * self.r_th / self.resistance(s.h, s.r)) / Q_E
    }
    /// (dh/dt, dr/dt) in m/s, with the branch logic described in the module docs.
    pub fn rates(&self, s: &State, v: f64, t_amb: f64) -> (f64, f64) {
        let ut = self.ut(s, v, t_amb);
        let arr = (-self.ea / ut).exp();
        let touched = s.h >= self.l;
        if v > 0.0 {
            if !touched {
                (
                    self.v_h * arr * sinh_lim(self.alpha * v / (2.0 * ut)).0,
                    0.0,
                )
            } else if s.r < self.r_set() {
                // Lateral growth stops at the compliance: R_set = c_set/i_comp (eq. 9).
                (0.0, self.v_r * arr * sinh_lim(self.beta * v / ut).0)
            } else {
                (0.0, 0.0)
            }
        } else if v < 0.0 {
            if touched && s.r > self.r_floor() {
                (0.0, self.v_r * arr * sinh_lim(self.beta * v / ut).0)
            } else if s.h > 0.0 {
                (
                    self.v_h * arr * sinh_lim(self.alpha * v / (2.0 * ut)).0,
                    0.0,
                )
            } else {
                (0.0, 0.0)
            }
        } else {
            (0.0, 0.0)
        }
    }
}

impl CompactModel for Params {
    type State = State;

    fn initial_state(&self) -> State {
        State {
            h: self.h_ini,
            r: self.r_set(),
        }
    }

    fn current(&self, s: &State, v: f64, _temp_k: f64) -> (f64, f64) {
        let g = 1.0 / self.resistance(s.h, s.r);
        (v * g, g)
    }

    /// Adaptive explicit midpoint; each sub-step moves h by at most L/200 or r by at most
    /// R_b/200 and stays on one branch (h-motion or r-motion); branch switches happen at the
    /// bounds, where the touch event draws the C2C radius.
    fn advance(&self, s: &mut State, v: f64, dt: f64, temp_k: f64, rng: &mut ChaCha8Rng) {
        let mut t_left = if dt.is_finite() { dt } else { 0.0 };
        let (r_floor, r_max) = (self.r_floor(), self.r_base());
        let mut n = 0;
        while t_left > 0.0 && n < MAX_SUBSTEPS {
            n += 1;
            let (dh, dr) = self.rates(s, v, temp_k);
            if dh == 0.0 && dr == 0.0 {
                break;
            }
            let (rate, scale) = if dh != 0.0 { (dh, self.l) } else { (dr, r_max) };
            let mut h = t_left.min(STEP_FRAC * scale / rate.abs());
            let mut mid = *s;
            let mut rm = rate;
            for _ in 0..40 {
                mid = *s;
                if dh != 0.0 {
                    mid.h = (s.h + 0.5 * h * rate).clamp(0.0, self.l * (1.0 - 1e-12));
                } else {
                    mid.r = (s.r + 0.5 * h * rate).clamp(r_floor, r_max);
                }
                let (mh, mr) = self.rates(&mid, v, temp_k);
                rm = if dh != 0.0 { mh } else { mr };
                if (rm - rate).abs() <= REL_RATE * rate.abs() {
                    break;
                }
                h *= 0.5;
            }
            let _ = mid;
            if dh != 0.0 {
                let hn = s.h + h * rm;
                if hn >= self.l {
                    // Touch event: the compliance fixes the radius (eq. 9), with C2C spread.
                    s.h = self.l;
                    let z: f64 = if self.sigma_touch > 0.0 {
                        rng.sample(StandardNormal)
                    } else {
                        0.0
                    };
                    s.r = (self.r_set() * (self.sigma_touch * z).exp()).clamp(r_floor, r_max);
                } else {
                    s.h = hn.max(0.0);
                }
            } else {
                let top = if rm > 0.0 {
                    self.r_set().max(s.r)
                } else {
                    r_max
                };
                s.r = (s.r + h * rm).clamp(r_floor, top);
                if v < 0.0 && s.r <= r_floor {
                    // Dissolved to the stub: the filament detaches and starts to retract.
                    s.h = self.l * (1.0 - 1e-12);
                }
            }
            t_left -= h;
        }
    }

    fn sample_device(&self, rng: &mut ChaCha8Rng) -> Self {
        super::card::sample_params(self, rng)
    }
}

impl super::model::Family for Params {
    const KEY: &'static str = "cbram";
    const IV_DEFAULTS: (f64, f64, f64) = (1.5, -1.5, 1.0);
    const FIT_FREE: [Option<&'static [&'static str]>; 3] = [
        Some(&["rho_on", "rho_off", "v_h", "v_r"]),
        Some(&["rho_on", "v_h", "v_r"]),
        None, // no motion at zero bias in this model
    ];
    const DEFAULT_CARD: Option<(&'static str, &'static str)> = Some((
        "device-models/cbram-yu-wong.toml",
        include_str!("../../device-models/cbram-yu-wong.toml"),
    ));

    fn set_state_fraction(&self, s: &mut State, u: f64) -> bool {
        // h from 0 to L over u in [0, 1): the filament touches (r = r_set) at u = 1.
        s.h = u * self.l;
        s.r = if u >= 1.0 { self.r_set() } else { self.r_floor() };
        true
    }

    fn state_vars(&self, s: &State) -> Vec<(&'static str, f64)> {
        vec![("height_m", s.h), ("radius_m", s.r)]
    }

    fn spice_current_expr(&self, s: &State, v: &str, temp_k: f64) -> String {
        super::spice_expr::cbram(self, s, v, temp_k)
    }

    super::card::sectioned_card_plumbing!();
}
