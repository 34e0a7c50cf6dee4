//! MOSFET level 1 (Shichman–Hodges) with ngspice 39's MOS1 equations and Meyer capacitances.
//!
//! Sources, restated from ngspice-39.3 `src/spicelib/devices/mos1/`: `mos1.c` (parameter names),
//! `mos1set.c` (defaults, internal nodes), `mos1temp.c` (temperature update), `mos1load.c`
//! (currents, charges, limiting, stamp) and `devices/devsup.c` (`DEVfetlim`, `DEVlimvds`,
//! `DEVpnjlim`, `DEVqmeyer`). Instance defaults W = L = 100 µm, AD = AS = 0 come from
//! `cktinit.c` (`CKTdefaultMosW/L/AD/AS`); ngspice also takes W and L from the `.model` card as
//! instance defaults, which [`Mos1Model::w`]/[`Mos1Model::l`] record.
//!
//! # Frames and signs
//!
//! Everything in [`eval`] is in the *polarity-normalised* frame: with `p = polarity` (+1 NMOS,
//! −1 PMOS) and terminal voltages at the internal drain d', gate g, internal source s', bulk b,
//! `vbs = p·(Vb − Vs')`, `vgs = p·(Vg − Vs')`, `vds = p·(Vd' − Vs')`, and `vbd = vbs − vds`,
//! `vgd = vgs − vds`, `vgb = vgs − vbs`. `mode = +1` when `vds ≥ 0`, else −1 (source and drain
//! swap roles); [`Mos1Eval::cdrain`] is the channel current flowing d'→s' in normal mode (s'→d'
//! in reverse mode), so the normalised drain-terminal channel current is `mode·cdrain`.
//! `gm, gds, gmbs` are its derivatives with respect to the mode-resolved `vgs|vgd`,
//! `vds·mode`, `vbs|vbd`. Bulk junction currents `cbs` (b→s') and `cbd` (b→d') include gmin.
//!
//! # How `mos1load.c` stamps one MOSFET (per Newton iteration)
//!
//! Series resistances (`mos1set.c`): a drain-prime node d' exists when RD ≠ 0 or (RSH ≠ 0 and
//! NRD ≠ 0), else d' = d; likewise s'. [`Mos1Temp::gdrain`]/[`Mos1Temp::gsource`] are 0 without
//! them.
//!
//! 1. Voltages (normalised) from the previous solution; limiting against the values saved at
//!    the last load (state0) with [`limit`], using `von_old = p·von_saved` (ngspice stores
//!    `von` multiplied by polarity; it starts at 0). Only the pn-junction limiting reports
//!    "limited" (the FET limits do not set `Check`).
//! 2. `e = eval(t, model, vbs, vgs, vds, gmin)`. Save vbs, vbd, vgs, vds as the new state0 and
//!    `von_saved = p·e.von`.
//! 3. Bulk junction charges (transient, and at tran-op; not in plain .op/.dc): `e.qbd` with
//!    `e.capbd`, `e.qbs` with `e.capbs` are integrated with `NIintegrate` exactly like a
//!    capacitor charge (see the diode module): `iq = ag0·q + ag1·q_prev` (order 1) etc.,
//!    `geq = ag0·cap`; then `gbd += geq_bd; cbd += iq_bd; gbs += geq_bs; cbs += iq_bs`. This is
//!    done when MODETRAN, or at MODEINITTRAN without UIC.
//! 4. Meyer gate capacitances (MODETRAN and MODETRANOP): `e.cgs/e.cgd/e.cgb` are *half* the
//!    bias-dependent capacitances at this time point. The total capacitances are
//!    `capgs = e.cgs + cgs_prev + t.cgso` (cgs_prev = the half-capacitance saved at the
//!    previous accepted time point, state1), likewise `capgd` with `t.cgdo`, `capgb` with
//!    `t.cgbo`. At tran-op (MODETRANOP) use `2·e.cgs + t.cgso` etc. The gate charges are
//!    then (MODETRAN) `qgs = (vgs − vgs_prev)·capgs + qgs_prev`, `qgd = (vgd − vgd_prev)·capgd
//!    + qgd_prev`, `qgb = (vgb − vgb_prev)·capgb + qgb_prev` with the previous time point's
//!    normalised voltages; at tran-op `qgs = vgs·capgs` etc. At MODEINITTRAN (first step) and
//!    MODEINITPRED ngspice instead *predicts* the charges: `q = (1+xfact)·q_prev − xfact·q_prev2`
//!    with `xfact = delta/delta_old`.
//! 5. Gate-capacitor companion: at MODEINITTRAN, or when not in MODETRAN, `gcgs = gcgd = gcgb =
//!    0` and `ceqgs = ceqgd = ceqgb = 0`. Otherwise (a capacitance of 0 zeroes its stored
//!    current) `NIintegrate` gives `gcgX = ag0·capgX` and `ceqX` for each of qgs, qgd, qgb, and
//!    `ceqgs = ceq_gs − gcgs·vgs + ag0·qgs`, `ceqgd = ceq_gd − gcgd·vgd + ag0·qgd`,
//!    `ceqgb = ceq_gb − gcgb·vgb + ag0·qgb` (i.e. `ceqgX = iq_X − gcgX·vgX`).
//! 6. Equivalent current sources (with the possibly capacitor-augmented cbs/gbs/cbd/gbd):
//!    `ceqbs = p·(cbs − gbs·vbs)`, `ceqbd = p·(cbd − gbd·vbd)`;
//!    normal mode: `cdreq = p·(cdrain − gds·vds − gm·vgs − gmbs·vbs)`;
//!    reverse mode: `cdreq = −p·(cdrain − gds·(−vds) − gm·vgd − gmbs·vbd)`.
//! 7. Right-hand side:
//!    `rhs[g] −= p·(ceqgs + ceqgb + ceqgd)`;
//!    `rhs[b] −= ceqbs + ceqbd − p·ceqgb`;
//!    `rhs[d'] += ceqbd − cdreq + p·ceqgd`;
//!    `rhs[s'] += cdreq + ceqbs + p·ceqgs`.
//! 8. Matrix, with `xnrm = 1, xrev = 0` in normal mode and `xnrm = 0, xrev = 1` in reverse,
//!    `gdpr = t.gdrain`, `gspr = t.gsource` (note: no polarity factors in the matrix):
//!    ```text
//!    G[d,d]   += gdpr          G[d,d']  −= gdpr          G[d',d]  −= gdpr
//!    G[s,s]   += gspr          G[s,s']  −= gspr          G[s',s]  −= gspr
//!    G[g,g]   += gcgd + gcgs + gcgb
//!    G[g,b]   −= gcgb          G[g,d']  −= gcgd          G[g,s']  −= gcgs
//!    G[b,b]   += gbd + gbs + gcgb
//!    G[b,g]   −= gcgb          G[b,d']  −= gbd           G[b,s']  −= gbs
//!    G[d',d'] += gdpr + gds + gbd + xrev·(gm + gmbs) + gcgd
//!    G[s',s'] += gspr + gds + gbs + xnrm·(gm + gmbs) + gcgs
//!    G[d',g]  += (xnrm − xrev)·gm − gcgd
//!    G[d',b]  += −gbd + (xnrm − xrev)·gmbs
//!    G[d',s'] += −gds − xnrm·(gm + gmbs)
//!    G[s',g]  += −(xnrm − xrev)·gm − gcgs
//!    G[s',b]  += −gbs − (xnrm − xrev)·gmbs
//!    G[s',d'] += −gds − xrev·(gm + gmbs)
//!    ```
//!
//! Initial voltages (MODEINITJCT, first iteration of an operating point, device not OFF):
//! the instance ICs `p·(IC_vbs, IC_vgs, IC_vds)` when any is non-zero; when all are zero,
//! `vbs = −1, vgs = p·tVto (= t.vto_norm()), vds = 0` (except at a UIC tran-op, which keeps
//! the zeros). OFF devices start at 0. At MODEINITTRAN
//! and MODEINITPRED the voltages are extrapolated: `v = (1+xfact)·v_prev − xfact·v_prev2`.
//! Convergence (beyond ngspice's node-voltage test) is flagged non-converged whenever
//! pnjlim limited.

use super::diode::{egfet, pbfact, pnjlim, CHARGE, K_OVER_Q, MAX_EXP_ARG, REFTEMP};

/// ngspice's default MOS channel width and length (m), `CKTdefaultMosW/L`.
pub const DEFAULT_W: f64 = 100e-6;
pub const DEFAULT_L: f64 = 100e-6;

/// Permittivity of vacuum as `mos1temp.c` writes it (F/m).
const EPS0_MOS1: f64 = 8.854214871e-12;

/// Level-1 MOSFET `.model` parameters (SI units, TNOM in K). `None` = not given, where ngspice
/// behaves differently when a parameter is given.
#[derive(Clone, Debug, PartialEq)]
pub struct Mos1Model {
    /// +1 NMOS, −1 PMOS.
    pub polarity: f64,
    /// Zero-bias threshold VTO (V); `None` = 0, or derived from NSUB when TOX and NSUB given.
    pub vto: Option<f64>,
    /// Transconductance KP (A/V²); `None` = 2e-5, or UO·Cox when TOX is given.
    pub kp: Option<f64>,
    /// Body-effect coefficient GAMMA (√V); `None` = 0, or derived from NSUB.
    pub gamma: Option<f64>,
    /// Surface potential PHI (V); `None` = 0.6, or derived from NSUB.
    pub phi: Option<f64>,
    /// Channel-length modulation LAMBDA (1/V).
    pub lambda: f64,
    /// Drain/source series resistances RD, RS (Ω) and sheet resistance RSH (Ω/□).
    pub rd: Option<f64>,
    pub rs: Option<f64>,
    pub rsh: Option<f64>,
    /// Zero-bias bulk junction capacitances CBD, CBS (F).
    pub cbd: Option<f64>,
    pub cbs: Option<f64>,
    /// Bulk junction saturation current IS (A) and density JS (A/m²).
    pub is: f64,
    pub js: f64,
    /// Bulk junction potential PB (V).
    pub pb: f64,
    /// Overlap capacitances per width CGSO, CGDO (F/m) and per length CGBO (F/m).
    pub cgso: f64,
    pub cgdo: f64,
    pub cgbo: f64,
    /// Bottom junction capacitance per area CJ (F/m²) and its grading MJ.
    pub cj: Option<f64>,
    pub mj: f64,
    /// Sidewall junction capacitance per perimeter CJSW (F/m) and grading MJSW.
    pub cjsw: Option<f64>,
    pub mjsw: f64,
    /// Oxide thickness TOX (m); `None` (or 0) = no Meyer capacitances.
    pub tox: Option<f64>,
    /// Lateral diffusion LD (m).
    pub ld: f64,
    /// Surface mobility UO (cm²/V·s); `None` = 600 when needed.
    pub uo: Option<f64>,
    /// Forward-bias depletion capacitance coefficient FC.
    pub fc: f64,
    /// Substrate doping NSUB (1/cm³).
    pub nsub: Option<f64>,
    /// Gate type TPG (+1 opposite to substrate, −1 same, 0 aluminium); `None` = 1.
    pub tpg: Option<f64>,
    /// Surface state density NSS (1/cm²).
    pub nss: Option<f64>,
    /// Parameter measurement temperature TNOM (K).
    pub tnom: Option<f64>,
    /// Flicker noise KF, AF (noise analysis only).
    pub kf: f64,
    pub af: f64,
    /// W and L given on the model card (m): ngspice uses them as instance defaults.
    pub w: Option<f64>,
    pub l: Option<f64>,
}

impl Default for Mos1Model {
    fn default() -> Self {
        Mos1Model::new(1.0)
    }
}

use super::diode::{changed_params, check_level_one, model_param as p, set_param, Param, Range};

/// One declaration per parameter (names as in ngspice 39 `mos1.c`).
const PARAMS: &[Param<Mos1Model>] = &[
    p!(&["vto", "vt0"], Range::Any, opt vto),
    p!(&["kp"], Range::Pos, opt kp),
    p!(&["gamma"], Range::NonNeg, opt gamma),
    p!(&["phi"], Range::Pos, opt phi),
    p!(&["lambda"], Range::NonNeg, lambda),
    p!(&["rd"], Range::NonNeg, opt rd),
    p!(&["rs"], Range::NonNeg, opt rs),
    p!(&["rsh"], Range::NonNeg, opt rsh),
    p!(&["cbd"], Range::NonNeg, opt cbd),
    p!(&["cbs"], Range::NonNeg, opt cbs),
    p!(&["is"], Range::NonNeg, is),
    p!(&["js"], Range::NonNeg, js),
    p!(&["pb"], Range::Pos, pb),
    p!(&["cgso"], Range::NonNeg, cgso),
    p!(&["cgdo"], Range::NonNeg, cgdo),
    p!(&["cgbo"], Range::NonNeg, cgbo),
    p!(&["cj"], Range::NonNeg, opt cj),
    p!(&["mj"], Range::Unit, mj),
    p!(&["cjsw"], Range::NonNeg, opt cjsw),
    p!(&["mjsw"], Range::Unit, mjsw),
    p!(&["tox"], Range::NonNeg, opt tox),
    p!(&["ld"], Range::NonNeg, ld),
    p!(&["u0", "uo"], Range::Pos, opt uo),
    p!(&["fc"], Range::Unit, fc),
    // NSUB below the intrinsic density 1.45e10 cm⁻³ is a fatal error in mos1temp.c.
    p!(&["nsub"], Range::Pos, opt nsub),
    p!(&["tpg"], Range::Int(&[-1, 0, 1]), opt tpg),
    p!(&["nss"], Range::Any, opt nss),
    p!(&["tnom"], Range::Any, celsius tnom),
    p!(&["kf"], Range::NonNeg, kf),
    p!(&["af"], Range::Pos, af),
    p!(&["w"], Range::Pos, opt w),
    p!(&["l"], Range::Pos, opt l),
];

impl Mos1Model {
    /// A model with ngspice's defaults (`mos1set.c`): VTO = 0, KP = 2e-5, GAMMA = 0, PHI = 0.6,
    /// LAMBDA = 0, IS = 1e-14, PB = 0.8, MJ = MJSW = 0.5, FC = 0.5, no capacitances.
    pub fn new(polarity: f64) -> Self {
        Mos1Model {
            polarity: if polarity < 0.0 { -1.0 } else { 1.0 },
            vto: None,
            kp: None,
            gamma: None,
            phi: None,
            lambda: 0.0,
            rd: None,
            rs: None,
            rsh: None,
            cbd: None,
            cbs: None,
            is: 1e-14,
            js: 0.0,
            pb: 0.8,
            cgso: 0.0,
            cgdo: 0.0,
            cgbo: 0.0,
            cj: None,
            mj: 0.5,
            cjsw: None,
            mjsw: 0.5,
            tox: None,
            ld: 0.0,
            uo: None,
            fc: 0.5,
            nsub: None,
            tpg: None,
            nss: None,
            tnom: None,
            kf: 0.0,
            af: 1.0,
            w: None,
            l: None,
        }
    }

    /// Set a `.model ... nmos|pmos (...)` parameter by its ngspice name (case-insensitive).
    /// `level` must be 1; TNOM is in °C; W and L become instance defaults.
    pub fn set(&mut self, key: &str, value: f64) -> Result<(), String> {
        let k = key.to_ascii_lowercase();
        if k == "level" {
            return check_level_one(value, "MOSFET");
        }
        if k == "nsub" && value.is_finite() && value <= 1.45e10 {
            return Err(format!(
                "parameter '{key}' = {value}: NSUB must exceed the intrinsic density 1.45e10 cm^-3"
            ));
        }
        set_param(PARAMS, self, key, value)
            .unwrap_or_else(|| Err(format!("unknown MOSFET level-1 model parameter '{key}'")))
    }

    /// (name, card value) of every parameter that differs from its default (TNOM in °C).
    /// The polarity is the model type (nmos/pmos), not a parameter.
    pub fn card_params(&self) -> Vec<(&'static str, f64)> {
        changed_params(PARAMS, self, &Mos1Model::new(self.polarity))
    }

    /// Model quantities derived at the nominal temperature (`mos1temp.c`, model part):
    /// (VTO, KP, GAMMA, PHI, Cox per area F/m²).
    fn derived(&self, tnom: f64) -> (f64, f64, f64, f64, f64) {
        let p = self.polarity;
        let vtnom = tnom * K_OVER_Q;
        let egfet1 = egfet(tnom);
        let mut vto = self.vto.unwrap_or(0.0);
        let mut kp = self.kp.unwrap_or(2e-5);
        let mut gamma = self.gamma.unwrap_or(0.0);
        let mut phi = self.phi.unwrap_or(0.6);
        let cox = match self.tox {
            Some(tox) if tox != 0.0 => 3.9 * EPS0_MOS1 / tox,
            _ => 0.0,
        };
        if cox != 0.0 {
            if self.kp.is_none() {
                kp = self.uo.unwrap_or(600.0) * cox * 1e-4;
            }
            if let Some(nsub) = self.nsub.filter(|&n| n * 1e6 > 1.45e16) {
                if self.phi.is_none() {
                    phi = (2.0 * vtnom * (nsub * 1e6 / 1.45e16).ln()).max(0.1);
                }
                let fermis = p * 0.5 * phi;
                let mut wkfng = 3.2;
                let tpg = self.tpg.unwrap_or(1.0);
                if tpg != 0.0 {
                    let fermig = p * tpg * 0.5 * egfet1;
                    wkfng = 3.25 + 0.5 * egfet1 - fermig;
                }
                let wkfngs = wkfng - (3.25 + 0.5 * egfet1 + fermis);
                if self.gamma.is_none() {
                    gamma = (2.0 * 11.70 * EPS0_MOS1 * CHARGE * nsub * 1e6).sqrt() / cox;
                }
                if self.vto.is_none() {
                    let vfb = wkfngs - self.nss.unwrap_or(0.0) * 1e4 * CHARGE / cox;
                    vto = vfb + p * (gamma * phi.sqrt() + phi);
                }
            }
        }
        (vto, kp, gamma, phi, cox)
    }

    /// Temperature- and geometry-resolved instance quantities (`mos1temp.c` plus the
    /// per-instance prologue of `mos1load.c`), with NRD = NRS = 1 square.
    /// Lengths in m, areas in m², temperatures in K (`tnom_k` is the circuit's nominal
    /// temperature, used unless the model gives TNOM).
    #[allow(clippy::too_many_arguments)]
    pub fn at_temperature(
        &self,
        w: f64,
        l: f64,
        ad: f64,
        as_: f64,
        pd: f64,
        ps: f64,
        m: f64,
        temp_k: f64,
        tnom_k: f64,
    ) -> Mos1Temp {
        self.at_temperature_sq(w, l, ad, as_, pd, ps, m, 1.0, 1.0, temp_k, tnom_k)
    }

    /// As [`Mos1Model::at_temperature`] with the drain/source square counts NRD, NRS (used
    /// with RSH).
    #[allow(clippy::too_many_arguments)]
    pub fn at_temperature_sq(
        &self,
        w: f64,
        l: f64,
        ad: f64,
        as_: f64,
        pd: f64,
        ps: f64,
        m: f64,
        nrd: f64,
        nrs: f64,
        temp_k: f64,
        tnom_k: f64,
    ) -> Mos1Temp {
        let p = self.polarity;
        let tnom = self.tnom.unwrap_or(tnom_k);
        let t = temp_k;
        let (vto, kp, gamma, phi, cox) = self.derived(tnom);

        let fact1 = tnom / REFTEMP;
        let vtnom = tnom * K_OVER_Q;
        let egfet1 = egfet(tnom);
        let pbfact1 = pbfact(tnom);

        let vt = t * K_OVER_Q;
        let ratio = t / tnom;
        let fact2 = t / REFTEMP;
        let eg = egfet(t);
        let pbf = pbfact(t);

        let ratio4 = ratio * ratio.sqrt();
        let t_kp = kp / ratio4;
        let phio = (phi - pbfact1) / fact1;
        let t_phi = fact2 * phio + pbf;
        let t_vbi = vto - p * (gamma * phi.sqrt()) + 0.5 * (egfet1 - eg) + p * 0.5 * (t_phi - phi);
        let t_vto = t_vbi + p * gamma * t_phi.sqrt();
        let sat_scale = (-eg / vt + egfet1 / vtnom).exp();
        let t_sat_cur = self.is * sat_scale;
        let t_sat_cur_dens = self.js * sat_scale;

        let pbo = (self.pb - pbfact1) / fact1;
        let gmaold = (self.pb - pbo) / pbo;
        let capfact = 1.0 / (1.0 + self.mj * (4e-4 * (tnom - REFTEMP) - gmaold));
        let (mut t_cbd, mut t_cbs, mut t_cj) = (
            self.cbd.unwrap_or(0.0) * capfact,
            self.cbs.unwrap_or(0.0) * capfact,
            self.cj.unwrap_or(0.0) * capfact,
        );
        let capfact = 1.0 / (1.0 + self.mjsw * (4e-4 * (tnom - REFTEMP) - gmaold));
        let mut t_cjsw = self.cjsw.unwrap_or(0.0) * capfact;
        let t_bulk_pot = fact2 * pbo + pbf;
        let gmanew = (t_bulk_pot - pbo) / pbo;
        let capfact = 1.0 + self.mj * (4e-4 * (t - REFTEMP) - gmanew);
        t_cbd *= capfact;
        t_cbs *= capfact;
        t_cj *= capfact;
        t_cjsw *= 1.0 + self.mjsw * (4e-4 * (t - REFTEMP) - gmanew);
        let t_dep_cap = self.fc * t_bulk_pot;

        let per_area = !(t_sat_cur_dens == 0.0 || ad == 0.0 || as_ == 0.0);
        let root2 = std::f64::consts::SQRT_2;
        let (drain_vcrit, source_vcrit) = if per_area {
            (
                vt * (vt / (root2 * m * t_sat_cur_dens * ad)).ln(),
                vt * (vt / (root2 * m * t_sat_cur_dens * as_)).ln(),
            )
        } else {
            let v = vt * (vt / (root2 * m * t_sat_cur)).ln();
            (v, v)
        };
        let (drain_sat_cur, source_sat_cur) = if per_area {
            (t_sat_cur_dens * m * ad, t_sat_cur_dens * m * as_)
        } else {
            (m * t_sat_cur, m * t_sat_cur)
        };

        // Zero-bias junction capacitances and their forward-bias continuation (f2, f3, f4).
        let junction = |cb: Option<f64>, tcb: f64, area: f64, perim: f64| {
            let czb = if cb.is_some() {
                tcb * m
            } else if self.cj.is_some() {
                t_cj * m * area
            } else {
                0.0
            };
            let czbsw = if self.cjsw.is_some() {
                t_cjsw * perim * m
            } else {
                0.0
            };
            let arg = 1.0 - self.fc;
            let sarg = (-self.mj * arg.ln()).exp();
            let sargsw = (-self.mjsw * arg.ln()).exp();
            let f2 = czb * (1.0 - self.fc * (1.0 + self.mj)) * sarg / arg
                + czbsw * (1.0 - self.fc * (1.0 + self.mjsw)) * sargsw / arg;
            let f3 = czb * self.mj * sarg / arg / t_bulk_pot
                + czbsw * self.mjsw * sargsw / arg / t_bulk_pot;
            let f4 = czb * t_bulk_pot * (1.0 - arg * sarg) / (1.0 - self.mj)
                + czbsw * t_bulk_pot * (1.0 - arg * sargsw) / (1.0 - self.mjsw)
                - f3 / 2.0 * (t_dep_cap * t_dep_cap)
                - t_dep_cap * f2;
            JunctionCap {
                c0: czb,
                c0sw: czbsw,
                f2,
                f3,
                f4,
            }
        };
        let jd = junction(self.cbd, t_cbd, ad, pd);
        let js = junction(self.cbs, t_cbs, as_, ps);

        // Series conductances (mos1temp.c): RD/RS win over RSH·squares; zero means none.
        let series = |r: Option<f64>, squares: f64, check_squares: bool| match (r, self.rsh) {
            (Some(r), _) if r != 0.0 => m / r,
            (Some(_), _) => 0.0,
            (None, Some(rsh)) if rsh != 0.0 && (!check_squares || squares != 0.0) => {
                m / (rsh * squares)
            }
            _ => 0.0,
        };

        let leff = l - 2.0 * self.ld;
        Mos1Temp {
            polarity: p,
            temp: t,
            vt,
            vbi: t_vbi,
            vto: t_vto,
            phi: t_phi,
            gamma,
            lambda: self.lambda,
            kp: t_kp,
            beta: t_kp * m * w / leff,
            leff,
            drain_sat_cur,
            source_sat_cur,
            drain_vcrit,
            source_vcrit,
            gdrain: series(self.rd, nrd, false),
            gsource: series(self.rs, nrs, true),
            bulk_pot: t_bulk_pot,
            dep_cap: t_dep_cap,
            mj: self.mj,
            mjsw: self.mjsw,
            jd,
            js,
            oxide_cap: cox * leff * m * w,
            cgso: self.cgso * m * w,
            cgdo: self.cgdo * m * w,
            cgbo: self.cgbo * m * leff,
        }
    }
}

/// Zero-bias bulk junction capacitances (F) and forward-bias continuation coefficients of one
/// junction (ngspice's `MOS1Cbd, MOS1Cbdsw, MOS1f2d, MOS1f3d, MOS1f4d`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JunctionCap {
    pub c0: f64,
    pub c0sw: f64,
    pub f2: f64,
    pub f3: f64,
    pub f4: f64,
}

/// Temperature- and geometry-resolved MOS1 instance quantities.
#[derive(Clone, Debug, PartialEq)]
pub struct Mos1Temp {
    pub polarity: f64,
    /// Device temperature (K) and kT/q (V).
    pub temp: f64,
    pub vt: f64,
    /// Built-in voltage tVbi and threshold tVto (V), in the model's (not normalised) sign.
    pub vbi: f64,
    pub vto: f64,
    /// Surface potential tPhi (V).
    pub phi: f64,
    pub gamma: f64,
    pub lambda: f64,
    /// Temperature-adjusted KP (A/V²) and beta = KP·m·W/Leff (A/V²).
    pub kp: f64,
    pub beta: f64,
    /// Effective channel length L − 2·LD (m).
    pub leff: f64,
    /// Bulk junction saturation currents (A), m included.
    pub drain_sat_cur: f64,
    pub source_sat_cur: f64,
    /// Critical voltages for pnjlim on vbd / vbs (V).
    pub drain_vcrit: f64,
    pub source_vcrit: f64,
    /// Drain/source series conductances (S); 0 means no internal node.
    pub gdrain: f64,
    pub gsource: f64,
    /// Bulk junction potential (V), FC·PB (V), grading coefficients.
    pub bulk_pot: f64,
    pub dep_cap: f64,
    pub mj: f64,
    pub mjsw: f64,
    /// Drain and source junction capacitance data.
    pub jd: JunctionCap,
    pub js: JunctionCap,
    /// Oxide capacitance Cox·Leff·m·W (F); 0 when TOX is not given.
    pub oxide_cap: f64,
    /// Overlap capacitances (F): CGSO·m·W, CGDO·m·W, CGBO·m·Leff.
    pub cgso: f64,
    pub cgdo: f64,
    pub cgbo: f64,
}

impl Mos1Temp {
    /// The threshold in the normalised frame, `polarity·tVto` (the MODEINITJCT vgs guess).
    pub fn vto_norm(&self) -> f64 {
        self.polarity * self.vto
    }
}

/// Everything `mos1load.c` computes at one bias, in the normalised, mode-resolved frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mos1Eval {
    /// Channel current (A, ≥ 0) and its derivatives (S) w.r.t. the mode-resolved vgs, vds, vbs.
    pub cdrain: f64,
    pub gm: f64,
    pub gds: f64,
    pub gmbs: f64,
    /// +1 normal (vds ≥ 0), −1 drain/source swapped.
    pub mode: f64,
    /// Threshold including body effect and saturation voltage, normalised frame (V).
    pub von: f64,
    pub vdsat: f64,
    /// Bulk-drain and bulk-source junction currents (A, bulk → d'/s') and conductances (S),
    /// including gmin.
    pub cbd: f64,
    pub gbd: f64,
    pub cbs: f64,
    pub gbs: f64,
    /// Bulk junction depletion charges (C) and capacitances (F).
    pub qbd: f64,
    pub capbd: f64,
    pub qbs: f64,
    pub capbs: f64,
    /// Meyer half-capacitances from DEVqmeyer (F), without overlap caps.
    pub cgs: f64,
    pub cgd: f64,
    pub cgb: f64,
}

impl Mos1Eval {
    /// ngspice's `MOS1cd`: the normalised drain-terminal current excluding capacitor currents,
    /// `mode·cdrain − cbd` (A).
    pub fn cd(&self) -> f64 {
        self.mode * self.cdrain - self.cbd
    }
}

/// Depletion charge and capacitance of one bulk junction (`mos1load.c`).
fn bulk_charge(t: &Mos1Temp, j: &JunctionCap, v: f64) -> (f64, f64) {
    if j.c0 == 0.0 && j.c0sw == 0.0 {
        return (0.0, 0.0);
    }
    if v < t.dep_cap {
        let arg = 1.0 - v / t.bulk_pot;
        // ngspice special-cases grading 0.5 with 1/sqrt (same value up to rounding).
        let pw = |mg: f64| {
            if mg == 0.5 {
                1.0 / arg.sqrt()
            } else {
                (-mg * arg.ln()).exp()
            }
        };
        let (sarg, sargsw) = (pw(t.mj), pw(t.mjsw));
        (
            t.bulk_pot
                * (j.c0 * (1.0 - arg * sarg) / (1.0 - t.mj)
                    + j.c0sw * (1.0 - arg * sargsw) / (1.0 - t.mjsw)),
            j.c0 * sarg + j.c0sw * sargsw,
        )
    } else {
        (j.f4 + v * (j.f2 + v * j.f3 / 2.0), j.f2 + v * j.f3)
    }
}

/// Ideal bulk diode with gmin (`mos1load.c`): (current, conductance).
fn bulk_diode(isat: f64, v: f64, vt: f64, gmin: f64) -> (f64, f64) {
    if v <= -3.0 * vt {
        (gmin * v - isat, gmin)
    } else {
        let e = (v / vt).min(MAX_EXP_ARG).exp();
        (isat * (e - 1.0) + gmin * v, isat * e / vt + gmin)
    }
}

/// Evaluate the level-1 MOSFET at normalised `vbs, vgs, vds` (V; multiply terminal
/// voltages by the polarity first, as mos1load does). `gmin` (S) is added across both bulk
/// junctions.
/// The Shichman-Hodges channel current of mos1load.c in the mode-resolved frame: drain
/// current (A), gm = ∂I/∂vgs and gds = ∂I/∂vds (S), for β = KP·W/Leff (A/V²), LAMBDA (1/V),
/// gate overdrive `vgst` = vgs − von and `vds` ≥ 0 (V). Shared by [`eval`] and the crossbar's
/// fast array solver, so both carry the same transistor law.
#[inline]
pub fn shichman_hodges(beta: f64, lambda: f64, vgst: f64, vds: f64) -> (f64, f64, f64) {
    if vgst <= 0.0 {
        return (0.0, 0.0, 0.0);
    }
    let betap = beta * (1.0 + lambda * vds);
    if vgst <= vds {
        (
            betap * vgst * vgst * 0.5,
            betap * vgst,
            lambda * beta * vgst * vgst * 0.5,
        )
    } else {
        (
            betap * vds * (vgst - 0.5 * vds),
            betap * vds,
            betap * (vgst - vds) + lambda * beta * vds * (vgst - 0.5 * vds),
        )
    }
}

pub fn eval(t: &Mos1Temp, model: &Mos1Model, vbs: f64, vgs: f64, vds: f64, gmin: f64) -> Mos1Eval {
    let _ = model; // everything needed is resolved in `t`
    let vbd = vbs - vds;
    let vgd = vgs - vds;
    let (cbs, gbs) = bulk_diode(t.source_sat_cur, vbs, t.vt, gmin);
    let (cbd, gbd) = bulk_diode(t.drain_sat_cur, vbd, t.vt, gmin);
    let mode = if vds >= 0.0 { 1.0 } else { -1.0 };
    let (vbx, vgx, vdx) = if mode > 0.0 {
        (vbs, vgs, vds)
    } else {
        (vbd, vgd, -vds)
    };

    // Shichman–Hodges with the body effect linearised for forward bulk bias (mos1load.c).
    let sarg = if vbx <= 0.0 {
        (t.phi - vbx).sqrt()
    } else {
        let s = t.phi.sqrt();
        (s - vbx / (s + s)).max(0.0)
    };
    let von = t.vbi * t.polarity + t.gamma * sarg;
    let vgst = vgx - von;
    let vdsat = vgst.max(0.0);
    let arg = if sarg <= 0.0 {
        0.0
    } else {
        t.gamma / (sarg + sarg)
    };
    let (cdrain, gm, gds) = shichman_hodges(t.beta, t.lambda, vgst, vdx);
    let gmbs = gm * arg;

    let (qbs, capbs) = bulk_charge(t, &t.js, vbs);
    let (qbd, capbd) = bulk_charge(t, &t.jd, vbd);
    let (cgs, cgd, cgb) = if mode > 0.0 {
        qmeyer(vgs, vgd, von, vdsat, t.phi, t.oxide_cap)
    } else {
        let (cgd, cgs, cgb) = qmeyer(vgd, vgs, von, vdsat, t.phi, t.oxide_cap);
        (cgs, cgd, cgb)
    };
    Mos1Eval {
        cdrain,
        gm,
        gds,
        gmbs,
        mode,
        von,
        vdsat,
        cbd,
        gbd,
        cbs,
        gbs,
        qbd,
        capbd,
        qbs,
        capbs,
        cgs,
        cgd,
        cgb,
    }
}

/// ngspice `DEVqmeyer` (`devsup.c`): half of the bias-dependent Meyer capacitances
/// (cgs, cgd, cgb) in F, for gate-source `vgs`, gate-drain `vgd` (V), threshold `von`,
/// saturation voltage `vdsat`, surface potential `phi` (V) and oxide capacitance `cox` (F).
pub fn qmeyer(vgs: f64, vgd: f64, von: f64, vdsat: f64, phi: f64, cox: f64) -> (f64, f64, f64) {
    const MAGIC_VDS: f64 = 0.025;
    let vgst = vgs - von;
    let vdsat = vdsat.max(MAGIC_VDS);
    let vds = vgs - vgd;
    if vgst <= -phi {
        (0.0, 0.0, cox / 2.0)
    } else if vgst <= -phi / 2.0 {
        (0.0, 0.0, -vgst * cox / (2.0 * phi))
    } else if vgst <= 0.0 {
        let cgb = -vgst * cox / (2.0 * phi);
        let cgs = vgst * cox / (1.5 * phi) + cox / 3.0;
        if vds >= vdsat {
            (cgs, 0.0, cgb)
        } else {
            let vddif = 2.0 * vdsat - vds;
            let vddif1 = vdsat - vds;
            let vddif2 = vddif * vddif;
            (
                cgs * (1.0 - vddif1 * vddif1 / vddif2),
                cgs * (1.0 - vdsat * vdsat / vddif2),
                cgb,
            )
        }
    } else if vdsat <= vds {
        (cox / 3.0, 0.0, 0.0)
    } else {
        let vddif = 2.0 * vdsat - vds;
        let vddif1 = vdsat - vds;
        let vddif2 = vddif * vddif;
        (
            cox * (1.0 - vddif1 * vddif1 / vddif2) / 3.0,
            cox * (1.0 - vdsat * vdsat / vddif2) / 3.0,
            0.0,
        )
    }
}

/// ngspice `DEVfetlim` (`devsup.c`): limit the per-iteration change of a gate voltage `vnew`
/// from `vold` around the threshold `vto` (all V).
pub fn fetlim(vnew: f64, vold: f64, vto: f64) -> f64 {
    let vtsthi = (2.0 * (vold - vto)).abs() + 2.0;
    let vtstlo = (vold - vto).abs() + 1.0;
    let vtox = vto + 3.5;
    let delv = vnew - vold;
    if vold >= vto {
        if vold >= vtox {
            if delv <= 0.0 {
                // going off
                if vnew >= vtox {
                    if -delv > vtstlo {
                        return vold - vtstlo;
                    }
                    vnew
                } else {
                    vnew.max(vto + 2.0)
                }
            } else if delv >= vtsthi {
                // staying on
                vold + vtsthi
            } else {
                vnew
            }
        } else if delv <= 0.0 {
            // middle region, decreasing
            vnew.max(vto - 0.5)
        } else {
            vnew.min(vto + 4.0)
        }
    } else if delv <= 0.0 {
        // off
        if -delv > vtsthi {
            vold - vtsthi
        } else {
            vnew
        }
    } else {
        let vtemp = vto + 0.5;
        if vnew <= vtemp {
            if delv > vtstlo {
                vold + vtstlo
            } else {
                vnew
            }
        } else {
            vtemp
        }
    }
}

/// ngspice `DEVlimvds` (`devsup.c`): limit the per-iteration change of a drain-source voltage.
pub fn limvds(vnew: f64, vold: f64) -> f64 {
    if vold >= 3.5 {
        if vnew > vold {
            vnew.min(3.0 * vold + 2.0)
        } else if vnew < 3.5 {
            vnew.max(2.0)
        } else {
            vnew
        }
    } else if vnew > vold {
        vnew.min(4.0)
    } else {
        vnew.max(-0.5)
    }
}

/// The complete limiting step of `mos1load.c` for one iteration, in the normalised frame.
/// `new = (vbs, vgs, vds)` from the latest solution, `old` the values saved at the previous
/// load, `von_old` the normalised `von` of the previous load (0 initially). `fix_limit` is
/// ngspice's `CKTfixLimit` option (default false). Returns the limited (vbs, vgs, vds) and
/// whether the junction limiting changed a value (ngspice's `Check`).
pub fn limit(
    t: &Mos1Temp,
    new: (f64, f64, f64),
    old: (f64, f64, f64),
    von_old: f64,
    fix_limit: bool,
) -> ((f64, f64, f64), bool) {
    let (mut vbs, mut vgs, mut vds) = new;
    let (vbs_old, vgs_old, vds_old) = old;
    // vbd and vgd from the unlimited voltages, as mos1load.c computes them before limiting.
    let vbd_raw = vbs - vds;
    let mut vgd = vgs - vds;
    let vgdo = vgs_old - vds_old;
    if vds_old >= 0.0 {
        vgs = fetlim(vgs, vgs_old, von_old);
        vds = vgs - vgd;
        vds = limvds(vds, vds_old);
    } else {
        vgd = fetlim(vgd, vgdo, von_old);
        vds = vgs - vgd;
        if !fix_limit {
            vds = -limvds(-vds, -vds_old);
        }
        vgs = vgd + vds;
    }
    let limited;
    if vds >= 0.0 {
        (vbs, limited) = pnjlim(vbs, vbs_old, t.vt, t.source_vcrit);
    } else {
        let vbd_old = vbs_old - vds_old;
        let (vbd, l) = pnjlim(vbd_raw, vbd_old, t.vt, t.drain_vcrit);
        vbs = vbd + vds;
        limited = l;
    }
    ((vbs, vgs, vds), limited)
}

#[cfg(test)]
mod tests {
    use super::super::diode::{ngspice, CELSIUS_TO_KELVIN};
    use super::*;
    use approx::assert_relative_eq;

    const T27: f64 = REFTEMP;
    const GMIN: f64 = 1e-12;

    fn model(polarity: f64, pairs: &[(&str, f64)]) -> Mos1Model {
        let mut m = Mos1Model::new(polarity);
        for &(k, v) in pairs {
            m.set(k, v).unwrap();
        }
        m
    }

    fn at27(m: &Mos1Model, w: f64, l: f64) -> Mos1Temp {
        m.at_temperature(w, l, 0.0, 0.0, 0.0, 0.0, 1.0, T27, T27)
    }

    #[test]
    fn square_law_in_saturation_and_triode_with_lambda() {
        let m = model(
            1.0,
            &[("vto", 1.0), ("kp", 2e-5), ("lambda", 0.02), ("ld", 0.5e-6)],
        );
        let t = at27(&m, 20e-6, 11e-6);
        let beta = 2e-5 * 20e-6 / 10e-6;
        assert_relative_eq!(t.beta, beta, max_relative = 1e-14);
        // Saturation: vds ≥ vgs − vto.
        let e = eval(&t, &m, 0.0, 2.5, 3.0, GMIN);
        assert_relative_eq!(
            e.cdrain,
            beta / 2.0 * 1.5f64.powi(2) * (1.0 + 0.02 * 3.0),
            max_relative = 1e-14
        );
        assert_relative_eq!(e.vdsat, 1.5, max_relative = 1e-14);
        // Triode.
        let e = eval(&t, &m, 0.0, 2.5, 0.5, GMIN);
        assert_relative_eq!(
            e.cdrain,
            beta * (1.0 + 0.02 * 0.5) * 0.5 * (1.5 - 0.25),
            max_relative = 1e-14
        );
        // Cutoff.
        let e = eval(&t, &m, 0.0, 0.9, 2.0, GMIN);
        assert_eq!((e.cdrain, e.gm, e.gds, e.gmbs), (0.0, 0.0, 0.0, 0.0));
    }

    #[test]
    fn body_effect_raises_threshold_by_gamma() {
        let m = model(1.0, &[("vto", 0.7), ("gamma", 0.5), ("phi", 0.6)]);
        let t = at27(&m, 10e-6, 10e-6);
        for vbs in [0.0, -1.0, -3.0] {
            let e = eval(&t, &m, vbs, 3.0, 5.0, GMIN);
            let von = 0.7 + 0.5 * ((0.6 - vbs).sqrt() - 0.6f64.sqrt());
            assert_relative_eq!(e.von, von, max_relative = 1e-13);
            assert_relative_eq!(
                e.cdrain,
                2e-5 / 2.0 * (3.0 - von).powi(2),
                max_relative = 1e-12
            );
        }
    }

    #[test]
    fn pmos_mirrors_nmos_in_the_normalised_frame() {
        let n = model(1.0, &[("vto", 0.8), ("gamma", 0.4), ("lambda", 0.05)]);
        let p = model(-1.0, &[("vto", -0.8), ("gamma", 0.4), ("lambda", 0.05)]);
        let (tn, tp) = (at27(&n, 5e-6, 1e-6), at27(&p, 5e-6, 1e-6));
        for (vbs, vgs, vds) in [(0.0, 2.0, 3.0), (-1.0, 1.5, 0.3), (0.0, 2.0, -1.0)] {
            assert_eq!(
                eval(&tn, &n, vbs, vgs, vds, GMIN),
                eval(&tp, &p, vbs, vgs, vds, GMIN)
            );
        }
    }

    #[test]
    fn bulk_junctions_follow_the_ideal_diode_with_gmin() {
        let m = model(1.0, &[("is", 1e-14)]);
        let t = at27(&m, 10e-6, 10e-6);
        let e = eval(&t, &m, 0.5, 0.0, 0.2, GMIN);
        assert_relative_eq!(
            e.cbs,
            1e-14 * ((0.5 / t.vt).exp() - 1.0) + GMIN * 0.5,
            max_relative = 1e-13
        );
        assert_relative_eq!(
            e.cbd,
            1e-14 * ((0.3 / t.vt).exp() - 1.0) + GMIN * 0.3,
            max_relative = 1e-13
        );
        let e = eval(&t, &m, -2.0, 0.0, 1.0, GMIN);
        assert_relative_eq!(e.cbs, -1e-14 - 2.0 * GMIN, max_relative = 1e-13);
        assert_eq!(e.gbd, GMIN);
    }

    /// Drain-terminal (normalised) channel current as a function of terminal voltages.
    fn id(t: &Mos1Temp, m: &Mos1Model, vbs: f64, vgs: f64, vds: f64) -> f64 {
        let e = eval(t, m, vbs, vgs, vds, GMIN);
        e.mode * e.cdrain
    }

    #[test]
    fn every_conductance_and_capacitance_matches_finite_differences() {
        let m = model(
            1.0,
            &[
                ("vto", 0.8),
                ("kp", 5e-5),
                ("gamma", 0.45),
                ("phi", 0.7),
                ("lambda", 0.04),
                ("is", 1e-15),
                ("cbd", 2e-14),
                ("cbs", 3e-14),
                ("cjsw", 1e-10),
                ("mj", 0.4),
                ("mjsw", 0.3),
                ("pb", 0.75),
                ("fc", 0.6),
            ],
        );
        let t = m.at_temperature(12e-6, 3e-6, 0.0, 0.0, 10e-6, 12e-6, 2.0, 320.0, T27);
        let h = 1e-6;
        let biases = [
            (0.0, 2.5, 3.0),   // saturation
            (-1.0, 2.5, 0.4),  // triode with body bias
            (0.2, 2.0, 2.0),   // forward body bias (linearised sqrt)
            (0.0, 2.0, -0.5),  // reverse mode, triode
            (-0.5, 1.0, -3.0), // reverse mode, saturation
            (0.3, 2.0, 0.1),   // forward junction, triode
        ];
        for (vbs, vgs, vds) in biases {
            let e = eval(&t, &m, vbs, vgs, vds, GMIN);
            let d_gs = (id(&t, &m, vbs, vgs + h, vds) - id(&t, &m, vbs, vgs - h, vds)) / (2.0 * h);
            let d_ds = (id(&t, &m, vbs, vgs, vds + h) - id(&t, &m, vbs, vgs, vds - h)) / (2.0 * h);
            let d_bs = (id(&t, &m, vbs + h, vgs, vds) - id(&t, &m, vbs - h, vgs, vds)) / (2.0 * h);
            // Normal mode: ∂I/∂(vgs, vds, vbs) = (gm, gds, gmbs). Reverse mode (I = −cdrain(vgd,
            // −vds, vbd)): (−gm, gm + gds + gmbs, −gmbs), which is what the stamp encodes.
            let (want_gs, mut want_ds, mut want_bs) = if e.mode > 0.0 {
                (e.gm, e.gds, e.gmbs)
            } else {
                (-e.gm, e.gm + e.gds + e.gmbs, -e.gmbs)
            };
            let vbx = if e.mode > 0.0 { vbs } else { vbs - vds };
            if vbx > 0.0 {
                // ngspice quirk (mos1load.c): with forward bulk bias sqrt(phi − vbs) is
                // linearised, but gmbs keeps gm·gamma/(2·sarg) instead of the exact
                // gm·gamma/(2·sqrt(phi)). We keep ngspice's value; check the exact slope here.
                let sarg = t.phi.sqrt() - vbx / (2.0 * t.phi.sqrt());
                // Beyond sarg = 0 the threshold is clamped and both slopes vanish.
                let exact = if sarg > 0.0 {
                    e.gm * t.gamma / (2.0 * t.phi.sqrt())
                } else {
                    0.0
                };
                let quirk = if sarg > 0.0 {
                    e.gm * t.gamma / (2.0 * sarg)
                } else {
                    0.0
                };
                assert_relative_eq!(e.gmbs, quirk, max_relative = 1e-13);
                if e.mode > 0.0 {
                    want_bs = exact;
                } else {
                    want_bs = -exact;
                    want_ds = e.gm + e.gds + exact;
                }
            }
            let tol = 1e-6 * (e.gm + e.gds + e.gmbs) + 1e-15;
            assert!(
                (d_gs - want_gs).abs() < tol,
                "gm at {vbs},{vgs},{vds}: {d_gs} vs {want_gs}"
            );
            assert!(
                (d_ds - want_ds).abs() < tol,
                "gds at {vbs},{vgs},{vds}: {d_ds} vs {want_ds}"
            );
            assert!(
                (d_bs - want_bs).abs() < tol,
                "gmbs at {vbs},{vgs},{vds}: {d_bs} vs {want_bs}"
            );
            // Junctions: cbs(vbs), cbd(vbd = vbs − vds) and their charges.
            let f = |vb: f64, vd: f64| eval(&t, &m, vb, vgs, vd, GMIN);
            let g_bs = (f(vbs + h, vds).cbs - f(vbs - h, vds).cbs) / (2.0 * h);
            let g_bd = (f(vbs, vds - h).cbd - f(vbs, vds + h).cbd) / (2.0 * h);
            assert_relative_eq!(e.gbs, g_bs, max_relative = 1e-6);
            assert_relative_eq!(e.gbd, g_bd, max_relative = 1e-6);
            let c_bs = (f(vbs + h, vds).qbs - f(vbs - h, vds).qbs) / (2.0 * h);
            let c_bd = (f(vbs, vds - h).qbd - f(vbs, vds + h).qbd) / (2.0 * h);
            assert_relative_eq!(e.capbs, c_bs, max_relative = 1e-6);
            assert_relative_eq!(e.capbd, c_bd, max_relative = 1e-6);
        }
    }

    #[test]
    fn meyer_capacitances_in_the_textbook_limits() {
        let m = model(1.0, &[("vto", 1.0), ("tox", 20e-9), ("phi", 0.6)]);
        let t = at27(&m, 10e-6, 2e-6);
        let cox = 3.9 * 8.854214871e-12 / 20e-9 * 10e-6 * 2e-6;
        assert_relative_eq!(t.oxide_cap, cox, max_relative = 1e-14);
        // Strong inversion, saturation: Cgs = 2/3·Cox (half returned), Cgd = Cgb = 0.
        let e = eval(&t, &m, 0.0, 3.0, 5.0, GMIN);
        assert_relative_eq!(2.0 * e.cgs, 2.0 / 3.0 * cox, max_relative = 1e-14);
        assert_eq!((e.cgd, e.cgb), (0.0, 0.0));
        // Deep triode (vds → 0): Cgs = Cgd = Cox/2.
        let e = eval(&t, &m, 0.0, 3.0, 1e-9, GMIN);
        assert_relative_eq!(2.0 * e.cgs, cox / 2.0, max_relative = 1e-6);
        assert_relative_eq!(2.0 * e.cgd, cox / 2.0, max_relative = 1e-6);
        // Accumulation: Cgb = Cox.
        let e = eval(&t, &m, 0.0, -2.0, 1.0, GMIN);
        assert_relative_eq!(2.0 * e.cgb, cox, max_relative = 1e-14);
        assert_eq!((e.cgs, e.cgd), (0.0, 0.0));
    }

    #[test]
    fn temperature_equal_to_tnom_leaves_parameters_unchanged() {
        let m = model(
            1.0,
            &[
                ("vto", 0.9),
                ("kp", 3e-5),
                ("gamma", 0.5),
                ("phi", 0.65),
                ("pb", 0.7),
                ("cbd", 1e-14),
                ("is", 2e-14),
            ],
        );
        for tnom in [T27, 360.0] {
            let t = m.at_temperature(10e-6, 10e-6, 0.0, 0.0, 0.0, 0.0, 1.0, tnom, tnom);
            assert_relative_eq!(t.vto, 0.9, max_relative = 1e-13);
            assert_relative_eq!(t.phi, 0.65, max_relative = 1e-13);
            assert_relative_eq!(t.kp, 3e-5, max_relative = 1e-14);
            assert_relative_eq!(t.bulk_pot, 0.7, max_relative = 1e-13);
            assert_relative_eq!(t.jd.c0, 1e-14, max_relative = 1e-13);
            assert_relative_eq!(t.drain_sat_cur, 2e-14, max_relative = 1e-13);
        }
    }

    #[test]
    fn set_rejects_unknown_keys_other_levels_and_out_of_range_values() {
        let mut m = Mos1Model::new(1.0);
        assert!(m.set("LEVEL", 1.0).is_ok());
        assert!(m.set("level", 2.0).unwrap_err().contains("level"));
        assert!(m.set("vt0", -0.5).is_ok() && m.vto == Some(-0.5));
        assert!(m.set("uo", 400.0).is_ok() && m.uo == Some(400.0));
        assert!(m.set("w", 5e-6).is_ok() && m.w == Some(5e-6));
        assert!(m.set("nonsense", 1.0).unwrap_err().contains("nonsense"));
        assert!(m.set("kp", -1.0).unwrap_err().contains("kp"));
        assert!(m.set("phi", 0.0).is_err());
        assert!(m.set("is", -1e-14).is_err());
        assert!(m.set("nsub", 1e9).unwrap_err().contains("nsub"));
        assert!(m.set("tpg", 2.0).is_err());
        assert!(m.set("lambda", f64::INFINITY).is_err());
    }

    #[test]
    fn card_params_round_trip() {
        let m = model(
            -1.0,
            &[
                ("vto", -0.7),
                ("kp", 4e-5),
                ("tox", 1e-8),
                ("tnom", 40.0),
                ("l", 2e-6),
            ],
        );
        let card = m.card_params();
        assert_eq!(card.len(), 5, "{card:?}");
        let mut back = Mos1Model::new(-1.0);
        for (k, v) in &card {
            back.set(k, *v).unwrap();
        }
        assert_eq!(back, m);
    }

    #[test]
    fn fetlim_and_limvds_on_simple_cases() {
        // Off device, big increase: capped at vto + 0.5.
        assert_eq!(fetlim(5.0, 0.0, 1.0), 1.5);
        // Off device, small increase within vtstlo: unchanged.
        assert_eq!(fetlim(0.5, 0.0, 1.0), 0.5);
        // Strongly on, large increase: vold + (2|vold − vto| + 2).
        assert_eq!(fetlim(20.0, 5.0, 1.0), 5.0 + 10.0);
        // Strongly on, dropping below vto + 3.5: held at vto + 2.
        assert_eq!(fetlim(0.0, 5.0, 1.0), 3.0);
        // Middle region: increase capped at vto + 4, decrease at vto − 0.5.
        assert_eq!(fetlim(10.0, 2.0, 1.0), 5.0);
        assert_eq!(fetlim(-3.0, 2.0, 1.0), 0.5);
        assert_eq!(limvds(10.0, 1.0), 4.0);
        assert_eq!(limvds(-3.0, 1.0), -0.5);
        assert_eq!(limvds(30.0, 5.0), 17.0);
        assert_eq!(limvds(0.0, 5.0), 2.0);
        assert_eq!(limvds(4.0, 5.0), 4.0);
    }

    /// One ngspice deck per (model card, polarity, temperature): drain, gate and bulk driven by
    /// sources, source grounded, at several biases; `op` for currents/conductances, then `ac`
    /// (small-signal init) for the capacitances. Node voltages are the source values, so this
    /// checks the device equations independently of any circuit engine.
    fn check_against_ngspice(card: &str, polarity: f64, temp_c: f64, biases: &[(f64, f64, f64)]) {
        let (w, l, ad, as_, pd, ps) = (20e-6, 5e-6, 40e-12, 50e-12, 24e-6, 30e-6);
        let kind = if polarity > 0.0 { "nmos" } else { "pmos" };
        let mut deck = format!(
            "mos1 check\nvd d 0 dc 0\nvg g 0 dc 0\nvb b 0 dc 0\n\
             m1 d g 0 b mx w={w} l={l} ad={ad} as={as_} pd={pd} ps={ps}\n\
             .model mx {kind} (level=1 {card})\n\
             .options reltol=1e-9 abstol=1e-15 vntol=1e-12 temp={temp_c}\n.control\nset numdgt=15\n"
        );
        for &(vd, vg, vb) in biases {
            deck += &format!(
                "alter vd dc={vd}\nalter vg dc={vg}\nalter vb dc={vb}\nop\n\
                 print i(vd) @m1[id] @m1[gm] @m1[gds] @m1[gmbs] @m1[gbd] @m1[gbs] @m1[ibd] @m1[ibs] @m1[von] @m1[vdsat]\n\
                 ac lin 1 1e3 1e3\nprint @m1[cgs] @m1[cgd] @m1[cgb] @m1[cbd] @m1[cbs] @m1[qbd] @m1[qbs]\n"
            );
        }
        deck += ".endc\n.end\n";
        let Some(vals) = ngspice::run(&deck) else {
            return;
        };
        let mut m = Mos1Model::new(polarity);
        for kv in card.split_whitespace() {
            let (k, v) = kv.split_once('=').unwrap();
            m.set(k, v.parse().unwrap()).unwrap();
        }
        let t = m.at_temperature(w, l, ad, as_, pd, ps, 1.0, temp_c + CELSIUS_TO_KELVIN, T27);
        let p = polarity;
        for (i, &(vd, vg, vb)) in biases.iter().enumerate() {
            let e = eval(&t, &m, p * vb, p * vg, p * vd, GMIN);
            let g = |k: &str| ngspice::get(&vals, k, i);
            let close = |what: &str, ours: f64, theirs: f64, scale: f64| {
                assert!(
                    (ours - theirs).abs() <= 1e-6 * theirs.abs().max(1e-9 * scale) + 1e-20,
                    "{card} T={temp_c} bias {:?}: {what} ours {ours:e} ngspice {theirs:e}",
                    (vd, vg, vb)
                );
            };
            let gscale = e.gm + e.gds + e.gmbs + 1e-12;
            close("i(vd)", -p * e.cd(), g("i(vd)"), e.cdrain + 1e-12);
            close("id", e.cd(), g("@m1[id]"), e.cdrain + 1e-12);
            close("gm", e.gm, g("@m1[gm]"), gscale);
            close("gds", e.gds, g("@m1[gds]"), gscale);
            close("gmbs", e.gmbs, g("@m1[gmbs]"), gscale);
            close("gbd", e.gbd, g("@m1[gbd]"), e.gbd);
            close("gbs", e.gbs, g("@m1[gbs]"), e.gbs);
            close("ibd", e.cbd, g("@m1[ibd]"), e.cbd.abs());
            close("ibs", e.cbs, g("@m1[ibs]"), e.cbs.abs());
            close("von", p * e.von, g("@m1[von]"), 1.0);
            close("vdsat", p * e.vdsat, g("@m1[vdsat]"), 1.0);
            let cscale = t.oxide_cap + t.jd.c0 + 1e-18;
            close("cgs", 2.0 * e.cgs + t.cgso, g("@m1[cgs]"), cscale);
            close("cgd", 2.0 * e.cgd + t.cgdo, g("@m1[cgd]"), cscale);
            close("cgb", 2.0 * e.cgb + t.cgbo, g("@m1[cgb]"), cscale);
            close("capbd", e.capbd, g("@m1[cbd]"), cscale);
            close("capbs", e.capbs, g("@m1[cbs]"), cscale);
            close("qbd", e.qbd, g("@m1[qbd]"), cscale);
            close("qbs", e.qbs, g("@m1[qbs]"), cscale);
        }
    }

    const NBIASES: &[(f64, f64, f64)] = &[
        (3.0, 2.0, -1.0), // saturation, body bias
        (0.3, 2.5, 0.0),  // triode
        (2.0, 0.5, 0.0),  // cutoff
        (-0.4, 2.0, 0.0), // reverse mode (drain below source)
        (1.0, 2.0, 0.3),  // forward-biased bulk-source junction
        (0.05, 1.2, -2.0),
    ];

    #[test]
    fn matches_ngspice_nmos_with_explicit_parameters() {
        let card = "vto=0.8 kp=5e-5 gamma=0.4 phi=0.65 lambda=0.03 tox=2e-8 cj=2e-4 cjsw=1e-9 mj=0.45 mjsw=0.3 \
                    cgso=1e-10 cgdo=1.2e-10 cgbo=2e-10 js=1e-4 pb=0.75 ld=2e-7";
        check_against_ngspice(card, 1.0, 27.0, NBIASES);
        check_against_ngspice(card, 1.0, 85.0, NBIASES);
    }

    #[test]
    fn matches_ngspice_nmos_with_parameters_derived_from_nsub_and_tox() {
        let card = "tox=2.5e-8 nsub=2e16 uo=450 nss=1e10 lambda=0.01 cbd=2e-14 cbs=3e-14 is=1e-15";
        check_against_ngspice(card, 1.0, 27.0, NBIASES);
        check_against_ngspice(card, 1.0, -20.0, NBIASES);
    }

    #[test]
    fn matches_ngspice_pmos() {
        let card = "vto=-0.7 kp=2e-5 gamma=0.3 lambda=0.05 tox=2e-8 cj=3e-4 tnom=40";
        let biases: Vec<_> = NBIASES.iter().map(|&(d, g, b)| (-d, -g, -b)).collect();
        check_against_ngspice(card, -1.0, 27.0, &biases);
        check_against_ngspice(card, -1.0, 60.0, &biases);
    }

    #[test]
    fn limit_applies_fetlim_then_limvds_then_pnjlim() {
        let m = model(1.0, &[("vto", 1.0)]);
        let t = at27(&m, 10e-6, 10e-6);
        // vgs 0 → 10 around von 1 is cut to 1.5; vds keeps vgd = vgs − vds (= 0) fixed.
        assert_eq!(
            limit(&t, (0.0, 10.0, 10.0), (0.0, 0.0, 0.0), 1.0, false),
            ((0.0, 1.5, 1.5), false)
        );
        // A large forward jump of vbs is limited by pnjlim against the source vcrit.
        let ((vbs, _, _), lim) = limit(&t, (5.0, 0.0, 1.0), (0.0, 0.0, 1.0), 1.0, false);
        assert!(lim);
        assert_eq!(vbs, pnjlim(5.0, 0.0, t.vt, t.source_vcrit).0);
    }
}
