//! Device effects inside the multiply: what happens to the programmed conductances between the
//! weight mapping and the read.
//!
//! A [`DeviceEffects`] (config table `[nonideal]`) turns the mapped array (the targets) into the
//! array that is actually read, in the order hardware applies them:
//! 1. **finite levels**: the target read conductance snaps to the nearest of `levels` equally
//!    spaced values in [g_min, g_max] (a multi-level cell with `levels` states);
//! 2. **programming error**: additive Gaussian of σ = `prog_sigma`·(g_max − g_min) around the
//!    (quantised) target, the form of aihwkit's and CrossSim's programming-noise models
//!    (Joshi et al., Nat. Commun. 11, 2473 (2020)); a result ≤ 0 is clipped to 1e-3·g_min;
//! 3. **stuck-at faults**: a seeded map, each cell independently stuck at g_max (fraction
//!    `stuck_on`) or g_min (fraction `stuck_off`), stuck cells ignore 1–2 and 4;
//! 4. **drift and relaxation** at `time_s` after programming: the power law
//!    G(t) = G₀·((t + t0)/t0)^(−ν) (Ielmini et al., IEEE TED 54(2), 308 (2007); Le Gallo et al.,
//!    Adv. Electron. Mater. 4, 1700627 (2018)), ν drawn per device from N(`drift_nu`,
//!    `drift_nu_sigma`) and taken as |ν|; thermally activated drift runs on the
//!    Arrhenius-equivalent time t·exp(Ea/k·(1/T_ref − 1/T)) with Ea = `drift_ea_ev`,
//!    T = the array's `temperature`, T_ref = 300.15 K. RRAM relaxation follows the power law
//!    G(t) = G₀·(1 + t/τ_r)^(−ν_r), τ_r = `relax_tau`, with ν_r drawn per device from
//!    N(`relax_nu`, `relax_nu_sigma`) and kept signed (a filament may relax up or down), so
//!    ln G has mean −μ_ν·ln(1 + t/τ_r) and σ = σ_ν·ln(1 + t/τ_r): a mean decay and a spread that
//!    both grow linearly in log-time, the form measured on HfOx RRAM (the CMO/HfOx relaxation
//!    model of aihwkit, `inference/noise/reram.py`: mean −0.089·ln t µS, σ(t) = 0.042·ln t +
//!    0.41 µS; Wan et al., Nature 608, 504 (2022) for the broadening with time). It is the
//!    zero-bias solution of the OxRAM card's gap relaxation (Yu et al., APL 100, 043507 (2012);
//!    `device::oxram::Params::relax_gap`), with ν_r = l_rlx/g0;
//! 5. **read noise** per read (per input vector; every bit plane of a bit-serial read shares
//!    it): G·(1 + `read_sigma`·N(0,1)), a negative draw clipped to 1e-3·g_min.
//!
//! Card cells take what their card has: programming to the target happens in the device
//! (`program_read_conductance`), finite levels and stuck-at faults change that target, drift is
//! the device's own ([`crate::device::Cell::advance`] for `time_s` at 0 V and the array's
//! temperature: the PCM t^ν law with its card's ν, the statistical PCM's per-device ν, the OxRAM card's
//! thermally activated gap relaxation `relax_gap`); with
//! `card_noise = true` a statistical-PCM card adds its programming noise (σ_prog polynomial)
//! and its accumulated 1/f read noise (Q_s law), and a physical-PCM card its 1/f read noise
//! (the same Q_s law from its `read_noise_*` keys, over the bandwidth 1/(2·t_read)). The Gaussian `prog_sigma`, `read_sigma`,
//! `drift_*` and `relax_*` are for parametric (linear / sinh) cells.
//!
//! Every draw comes from ChaCha8(array seed ^ salt) on a stream per cell (programming, drift,
//! faults) or per (read, cell), so results do not depend on order or thread count, and every
//! effect at zero leaves the array bit for bit as mapped.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::config::Crossbar;
use super::law::CellLaw;
use super::program::program_read_conductance;
use super::CrossbarError;
use crate::device::Cell;

/// Reference temperature of the drift exponents (K): 27 °C.
pub const T_REF_K: f64 = 300.15;
/// Boltzmann constant (eV/K).
const K_B_EV: f64 = 8.617_333_262e-5;

const SALT_PROG: u64 = 0x7072_6f67_5f65_7272;
const SALT_FAULT: u64 = 0x6661_756c_745f_6d61;
const SALT_DRIFT: u64 = 0x6472_6966_745f_6e75;
const SALT_READ: u64 = 0x7265_6164_5f6e_6f69;

/// Device effects of one array (all zero = the mapped array, read ideally).
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceEffects {
    /// Conductance levels per cell (0 = continuous).
    pub levels: u32,
    /// Programming-error σ as a fraction of g_max − g_min.
    pub prog_sigma: f64,
    /// Relative σ of the per-read conductance noise.
    pub read_sigma: f64,
    /// Fractions of cells stuck at g_max and at g_min.
    pub stuck_on: f64,
    pub stuck_off: f64,
    /// Drift exponent ν: mean and device-to-device σ.
    pub drift_nu: f64,
    pub drift_nu_sigma: f64,
    /// Drift reference time t0 (s): the first read after programming.
    pub drift_t0: f64,
    /// Activation energy of thermally accelerated drift and relaxation (eV); 0 = none.
    pub drift_ea_ev: f64,
    /// RRAM relaxation exponent ν_r (signed): mean and device-to-device σ.
    pub relax_nu: f64,
    pub relax_nu_sigma: f64,
    /// RRAM relaxation time constant τ_r (s).
    pub relax_tau: f64,
    /// Time since programming (s).
    pub time_s: f64,
    /// Card cells: the card's own programming and read noise (statistical PCM).
    pub card_noise: bool,
}

impl Default for DeviceEffects {
    fn default() -> Self {
        DeviceEffects {
            levels: 0,
            prog_sigma: 0.0,
            read_sigma: 0.0,
            stuck_on: 0.0,
            stuck_off: 0.0,
            drift_nu: 0.0,
            drift_nu_sigma: 0.0,
            drift_t0: 20.0,
            drift_ea_ev: 0.0,
            relax_nu: 0.0,
            relax_nu_sigma: 0.0,
            relax_tau: 1.0,
            time_s: 0.0,
            card_noise: false,
        }
    }
}

impl DeviceEffects {
    /// True when reads differ from one another (a new array realisation per read).
    pub fn per_read(&self, law: CellLaw) -> bool {
        if law == CellLaw::Card {
            self.card_noise
        } else {
            self.read_sigma > 0.0
        }
    }

    /// True when nothing changes the mapped array.
    pub fn is_none(&self, law: CellLaw) -> bool {
        let card = law == CellLaw::Card;
        self.levels == 0
            && self.stuck_on == 0.0
            && self.stuck_off == 0.0
            && self.time_s == 0.0
            && if card {
                !self.card_noise
            } else {
                self.prog_sigma == 0.0
                    && self.read_sigma == 0.0
                    && self.drift_nu == 0.0
                    && self.drift_nu_sigma == 0.0
                    && self.relax_nu == 0.0
                    && self.relax_nu_sigma == 0.0
            }
    }

    /// Checks ranges; the error names the key under `[nonideal]`.
    pub fn validate(&self, law: CellLaw) -> Result<(), (String, String)> {
        let bad = |k: &str, m: &str| Err((format!("nonideal.{k}"), m.to_string()));
        for (k, v) in [
            ("prog_sigma", self.prog_sigma),
            ("read_sigma", self.read_sigma),
            ("drift_nu_sigma", self.drift_nu_sigma),
            ("drift_ea_ev", self.drift_ea_ev),
            ("relax_nu_sigma", self.relax_nu_sigma),
            ("time", self.time_s),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return bad(k, &format!("must be finite and ≥ 0, got {v}"));
            }
        }
        if !self.drift_nu.is_finite() {
            return bad("drift_nu", "must be finite");
        }
        if !self.relax_nu.is_finite() {
            return bad("relax_nu", "must be finite");
        }
        if !(self.drift_t0 > 0.0 && self.drift_t0.is_finite()) {
            return bad("drift_t0", "must be > 0 s");
        }
        if !(self.relax_tau > 0.0 && self.relax_tau.is_finite()) {
            return bad("relax_tau", "must be > 0 s");
        }
        for (k, v) in [("stuck_on", self.stuck_on), ("stuck_off", self.stuck_off)] {
            if !(0.0..=1.0).contains(&v) {
                return bad(k, &format!("a fraction in [0, 1], got {v}"));
            }
        }
        if self.stuck_on + self.stuck_off > 1.0 {
            return bad("stuck_on", "stuck_on + stuck_off must be ≤ 1");
        }
        if self.levels == 1 {
            return bad("levels", "0 (continuous) or at least 2");
        }
        if law == CellLaw::Card {
            for (k, v) in [
                ("prog_sigma", self.prog_sigma),
                ("read_sigma", self.read_sigma),
                ("drift_nu", self.drift_nu),
                ("drift_nu_sigma", self.drift_nu_sigma),
                ("relax_nu", self.relax_nu),
                ("relax_nu_sigma", self.relax_nu_sigma),
            ] {
                if v != 0.0 {
                    return bad(
                        k,
                        "card cells take programming error, read noise and drift from the \
                         card (card_noise = true, time)",
                    );
                }
            }
        } else if self.card_noise {
            return bad("card_noise", "only for device-card cells");
        }
        Ok(())
    }

    /// Drift time after Arrhenius acceleration at `temp_k` (s).
    pub fn effective_time(&self, temp_k: f64) -> f64 {
        if self.drift_ea_ev == 0.0 {
            self.time_s
        } else {
            self.time_s * (self.drift_ea_ev / K_B_EV * (1.0 / T_REF_K - 1.0 / temp_k)).exp()
        }
    }
}

fn stream_rng(seed: u64, salt: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ salt);
    rng.set_stream(stream);
    rng
}

/// Nearest of `levels` equally spaced read conductances in [lo, hi].
pub fn quantise_level(g: f64, lo: f64, hi: f64, levels: u32) -> f64 {
    if levels < 2 || hi <= lo {
        return g;
    }
    let n = (levels - 1) as f64;
    let k = ((g - lo) / (hi - lo) * n).round().clamp(0.0, n);
    lo + (hi - lo) * k / n
}

/// Fault of cell `idx`: Some(true) stuck at g_max, Some(false) stuck at g_min.
fn fault(e: &DeviceEffects, seed: u64, idx: usize) -> Option<bool> {
    if e.stuck_on == 0.0 && e.stuck_off == 0.0 {
        return None;
    }
    let u: f64 = stream_rng(seed, SALT_FAULT, idx as u64).random();
    if u < e.stuck_on {
        Some(true)
    } else if u < e.stuck_on + e.stuck_off {
        Some(false)
    } else {
        None
    }
}

impl Crossbar {
    /// The array as programmed and aged by `self.effects` (steps 1–4 of the module docs), with
    /// no effects left to apply; the mapped array itself when no effect is on. Per-read noise
    /// is drawn by [`Crossbar::read_instance`] of the original array.
    pub fn programmed(&self) -> Result<Crossbar, CrossbarError> {
        let e = &self.effects;
        if e.is_none(self.law) {
            return Ok(self.clone());
        }
        let mut xb = self.clone();
        xb.effects = DeviceEffects::default();
        let (lo, hi) = (self.g_min, self.g_max);
        let n = self.g.len();
        if self.law == CellLaw::Card {
            let t = e.time_s;
            for idx in 0..n {
                let target = match fault(e, self.seed, idx) {
                    Some(true) => hi,
                    Some(false) => lo,
                    None => quantise_level(self.g[idx], lo, hi, e.levels),
                };
                let cell = &mut xb.cells[idx];
                if target != self.g[idx] {
                    xb.g[idx] = program_read_conductance(cell, target, self.v_read, self.temp_k)?;
                }
                if e.card_noise {
                    if let Cell::PcmStat { p, s } = cell {
                        let mut rng = stream_rng(self.seed, SALT_PROG, idx as u64);
                        // Programmed at the read conductance the mapping asked for.
                        p.program(s, xb.g[idx], &mut rng);
                    }
                }
                if t > 0.0 {
                    let mut rng = stream_rng(self.seed, SALT_DRIFT, idx as u64);
                    cell.advance(0.0, t, self.temp_k, &mut rng);
                }
            }
            return Ok(xb);
        }
        let f = self.read_factor();
        let t = e.effective_time(self.temp_k);
        let relax_log = (1.0 + t / e.relax_tau).ln();
        let aged = t > 0.0
            && (e.drift_nu != 0.0
                || e.drift_nu_sigma > 0.0
                || e.relax_nu != 0.0
                || e.relax_nu_sigma > 0.0);
        for idx in 0..n {
            let g_read = match fault(e, self.seed, idx) {
                Some(true) => hi,
                Some(false) => lo,
                None => {
                    let mut g = quantise_level(self.g[idx] * f, lo, hi, e.levels);
                    if e.prog_sigma > 0.0 {
                        let mut rng = stream_rng(self.seed, SALT_PROG, idx as u64);
                        let z: f64 = rng.sample(StandardNormal);
                        g += e.prog_sigma * (hi - lo) * z;
                        g = g.max(1e-3 * lo);
                    }
                    if aged {
                        let mut rng = stream_rng(self.seed, SALT_DRIFT, idx as u64);
                        let z1: f64 = rng.sample(StandardNormal);
                        let z2: f64 = rng.sample(StandardNormal);
                        let nu = (e.drift_nu + e.drift_nu_sigma * z1).abs();
                        g *= ((t + e.drift_t0) / e.drift_t0).powf(-nu);
                        let nu_r = e.relax_nu + e.relax_nu_sigma * z2;
                        g *= (-nu_r * relax_log).exp();
                    }
                    g
                }
            };
            xb.g[idx] = g_read / f;
        }
        Ok(xb)
    }

    /// The programmed array as seen by read number `read` (step 5): a fresh noise draw per read.
    /// `programmed` must come from [`Crossbar::programmed`] of this array.
    pub fn read_instance(&self, programmed: &Crossbar, read: u64) -> Crossbar {
        let mut xb = programmed.clone();
        let e = &self.effects;
        if !e.per_read(self.law) {
            return xb;
        }
        let n = xb.g.len() as u64;
        // Clip of a (rare) negative draw: a cell never has zero conductance.
        let floor = 1e-3 * self.g_min / self.read_factor();
        for idx in 0..xb.g.len() {
            let mut rng = stream_rng(self.seed, SALT_READ, read * n + idx as u64);
            if self.law == CellLaw::Card {
                if let Cell::PcmStat { p, s } = &mut xb.cells[idx] {
                    // The card's noisy read rescales the programmed conductance: the drifted
                    // conductance (and so the current) is proportional to it.
                    let g0 = p.drifted_conductance(s);
                    let gn = p.read_conductance_noisy(s, &mut rng);
                    if g0 > 0.0 {
                        s.g_prog_s *= gn / g0;
                    }
                } else if let Cell::Pcm { p, s } = &mut xb.cells[idx] {
                    // The card's 1/f read noise (Q_s law accumulated since programming, over
                    // the read pulse's bandwidth 1/(2·t_read)): G → G·(1 + σ·z), realised
                    // through the amorphous fraction, in which the low-field read resistance
                    // is linear; a draw beyond the fully crystalline R_set is held there.
                    let sig = p.read_noise_sigma_rel(s, 0.5 / self.t_read);
                    let z: f64 = rng.sample(StandardNormal);
                    let r_new = p.read_resistance(s) / (1.0 + sig * z).max(1e-3);
                    let c = p.params();
                    let r_am = c.r_reset_ohm * ((s.age_s + c.drift_t0_s) / c.drift_t0_s).powf(c.nu);
                    if r_am > c.r_set_ohm {
                        s.amorphous_fraction =
                            ((r_new - c.r_set_ohm) / (r_am - c.r_set_ohm)).clamp(0.0, 1.0);
                    }
                }
            } else {
                let z: f64 = rng.sample(StandardNormal);
                xb.g[idx] = (xb.g[idx] * (1.0 + e.read_sigma * z)).max(floor);
            }
        }
        xb
    }

    /// This array's cells as they are now, with `targets` (read conductances at `v_read`, S,
    /// row-major over physical columns) as the mapping's reference: the way the write-verify
    /// layer's result becomes the programming error inside the multiply. After
    /// `programming::program_array` the cells sit in their verified states and `g` holds what
    /// they reached; with the targets put back, a multiply's `ideal` reference is Σ V·target
    /// (the verify residual counts as error) and its `chord` reference the verified states.
    /// Drift at `time` and read noise then act on those states; `levels` and stuck-at faults
    /// would re-target (and re-program) cells, so leave them off here.
    pub fn with_reference_targets(&self, targets: &[f64]) -> Result<Crossbar, CrossbarError> {
        if targets.len() != self.g.len() {
            return Err(CrossbarError::Input(format!(
                "{} reference targets for {} cells",
                targets.len(),
                self.g.len()
            )));
        }
        if let Some((k, t)) = targets
            .iter()
            .enumerate()
            .find(|(_, t)| !(**t > 0.0 && t.is_finite()))
        {
            let pc = self.g.len() / self.rows.max(1);
            return Err(CrossbarError::Input(format!(
                "reference target of cell ({}, {}) = {t} S must be > 0",
                k / pc,
                k % pc
            )));
        }
        let mut xb = self.clone();
        let f = self.read_factor();
        xb.g = targets.iter().map(|t| t / f).collect();
        Ok(xb)
    }

    /// Chord (read) conductance I(v_read)/v_read of cell `idx` as it is now (S): for card cells
    /// from the device's present state (after drift and noise), else `g_read`.
    pub fn chord_conductance(&self, idx: usize) -> f64 {
        if self.law == CellLaw::Card {
            self.cells[idx].read_conductance(self.v_read, self.temp_k)
        } else {
            self.g_read(idx)
        }
    }
}
