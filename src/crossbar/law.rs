//! Element laws used inside the array solver: two-terminal cells and selectors, and the
//! level-1 (Shichman–Hodges) access transistor. Pure functions returning `(i, di/dv)`.
//!
//! These stay local to the crossbar layer until `crate::device::Cell` and
//! `crate::circuit::mos1` land; the laws are the ones `export_netlist` writes for ngspice, so the
//! two agree by construction of the equations, not by shared code.

/// |x| beyond which sinh(x) is continued linearly (exp(80) ≈ 5.5e34; guards overflow during
/// Newton excursions; device-physics.md §11 item 1).
const SINH_ARG_MAX: f64 = 80.0;

/// I = i0·sinh(v/v0) and dI/dv, with the argument continued linearly beyond ±80.
#[inline]
pub fn sinh_law(i0: f64, v0: f64, v: f64) -> (f64, f64) {
    let x = v / v0;
    if x.abs() <= SINH_ARG_MAX {
        (i0 * x.sinh(), i0 / v0 * x.cosh())
    } else {
        let s = x.signum();
        let (sh, ch) = (SINH_ARG_MAX.sinh(), SINH_ARG_MAX.cosh());
        let dx = x - s * SINH_ARG_MAX;
        (i0 * (s * sh + ch * dx), i0 / v0 * ch)
    }
}

/// Two-terminal resistive-switching cell law, per array (per-cell scale lives in the array).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CellLaw {
    /// I = G·V; the per-cell parameter is G (S).
    Linear,
    /// I = I0·sinh(V/V0) with I0 = G·V0, so that the per-cell parameter G (S) is the
    /// small-signal conductance at 0 V. `v0` in V.
    Sinh { v0: f64 },
    /// A `crate::device::Cell` per crosspoint (`Crossbar::cells`), evaluated with
    /// `Cell::current`; the per-cell parameter is then the programmed read conductance (S).
    Card,
}

impl CellLaw {
    /// Current (A) from the first to the second terminal at bias `v` (V) for a cell whose
    /// per-cell parameter is `g` (S), and dI/dV (S). `Card` cells are evaluated through
    /// `Crossbar::cell_iv` (their law lives in the device instance); here they fall back to
    /// the linear law of their read conductance.
    #[inline]
    pub fn eval(&self, g: f64, v: f64) -> (f64, f64) {
        match *self {
            CellLaw::Linear | CellLaw::Card => (g * v, g),
            CellLaw::Sinh { v0 } => sinh_law(g * v0, v0, v),
        }
    }

    pub fn is_linear(&self) -> bool {
        matches!(self, CellLaw::Linear)
    }
}

/// Conductance (S) from an access transistor's drain and source to its grounded bulk: the
/// bulk junctions carry no saturation current (IS = 0) but, as in every SPICE, gmin in
/// parallel (ngspice's default GMIN). It keeps a line whose transistors are all off (an
/// unselected, floating line) at a defined voltage instead of leaving the matrix singular;
/// export and `to_circuit` set the same gmin, so all three solvers model the same circuit.
pub const GMIN_BULK: f64 = 1e-12;

/// Level-1 MOSFET parameters (n-channel, no body effect, no LD, no junction current): the
/// subset of ngspice's MOS1 model the array writes as `.model ... nmos (level=1 ...)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mos1 {
    /// Threshold voltage VTO (V).
    pub vto: f64,
    /// Transconductance parameter KP (A/V²).
    pub kp: f64,
    /// Channel-length modulation LAMBDA (1/V).
    pub lambda: f64,
    /// Channel width and length (m).
    pub w: f64,
    pub l: f64,
}

impl Mos1 {
    /// β = KP·W/L (A/V²).
    #[inline]
    pub fn beta(&self) -> f64 {
        self.kp * self.w / self.l
    }

    /// The channel law with β resolved once, for loops that evaluate it per crosspoint.
    #[inline]
    pub fn channel(&self) -> Channel {
        Channel {
            beta: self.beta(),
            lambda: self.lambda,
            vto: self.vto,
        }
    }

    /// Current (A) flowing from drain through the channel to source, given gate, drain and
    /// source voltages (V), with ∂I/∂vd and ∂I/∂vs (S) (see [`Channel::eval`]).
    #[inline]
    pub fn eval(&self, vg: f64, vd: f64, vs: f64) -> (f64, f64, f64) {
        self.channel().eval(vg, vd, vs)
    }
}

/// A `Mos1`'s channel law with β = KP·W/L computed (`Mos1::channel`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Channel {
    /// β (A/V²), LAMBDA (1/V), VTO (V).
    pub beta: f64,
    pub lambda: f64,
    pub vto: f64,
}

impl Channel {
    /// Drain current for vds ≥ 0 (normal mode), with gm = ∂I/∂vgs and gds = ∂I/∂vds.
    /// Shichman–Hodges as in ngspice's mos1load.c (IEEE JSSC 3(3), 1968).
    #[inline]
    fn forward(&self, vgs: f64, vds: f64) -> (f64, f64, f64) {
        // The engine's MOS1 channel law (gamma = 0, so von = VTO).
        crate::circuit::mos1::shichman_hodges(self.beta, self.lambda, vgs - self.vto, vds)
    }

    /// Current (A) flowing from drain through the channel to source, given gate, drain and
    /// source voltages (V), with ∂I/∂vd and ∂I/∂vs (S). Drain and source swap roles when
    /// vd < vs, as in SPICE.
    #[inline]
    pub fn eval(&self, vg: f64, vd: f64, vs: f64) -> (f64, f64, f64) {
        if vd >= vs {
            let (id, gm, gds) = self.forward(vg - vs, vd - vs);
            (id, gds, -gm - gds)
        } else {
            let (id, gm, gds) = self.forward(vg - vd, vs - vd);
            (-id, gm + gds, -gds)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fd<F: Fn(f64) -> f64>(f: F, x: f64) -> f64 {
        let h = 1e-6 * (1.0 + x.abs());
        (f(x + h) - f(x - h)) / (2.0 * h)
    }

    #[test]
    fn sinh_derivative_matches_central_difference() {
        for &v in &[-30.0, -0.7, -0.1, 0.0, 0.05, 0.4, 1.3, 30.0] {
            let (_, g) = sinh_law(1e-6, 0.25, v);
            let g_fd = fd(|x| sinh_law(1e-6, 0.25, x).0, v);
            assert!((g - g_fd).abs() <= 1e-6 * g.abs(), "v={v} g={g} fd={g_fd}");
        }
    }

    #[test]
    fn mos1_derivatives_match_central_difference_in_all_regions() {
        let m = Mos1 {
            vto: 0.5,
            kp: 2e-4,
            lambda: 0.05,
            w: 2e-6,
            l: 1e-6,
        };
        // (vg, vd, vs): linear, saturation, reverse linear, reverse saturation.
        for &(vg, vd, vs) in &[
            (1.8, 0.3, 0.1),
            (1.0, 1.5, 0.0),
            (1.8, 0.1, 0.3),
            (1.0, 0.0, 1.5),
        ] {
            let (_, gd, gs) = m.eval(vg, vd, vs);
            let gd_fd = fd(|x| m.eval(vg, x, vs).0, vd);
            let gs_fd = fd(|x| m.eval(vg, vd, x).0, vs);
            assert!(
                (gd - gd_fd).abs() <= 1e-6 * gd.abs().max(1e-9),
                "{gd} {gd_fd}"
            );
            assert!(
                (gs - gs_fd).abs() <= 1e-6 * gs.abs().max(1e-9),
                "{gs} {gs_fd}"
            );
        }
    }

    #[test]
    fn mos1_is_antisymmetric_under_drain_source_swap() {
        let m = Mos1 {
            vto: 0.5,
            kp: 2e-4,
            lambda: 0.05,
            w: 2e-6,
            l: 1e-6,
        };
        let a = m.eval(1.8, 0.3, 0.1).0;
        // Same terminal voltages with the roles swapped: vgs = 1.7, vds = 0.2 either way.
        let b = m.eval(1.8, 0.1, 0.3).0;
        assert!(a > 0.0 && b < 0.0);
        // Saturation closed form: β/2 (vgs−vto)²(1+λ vds).
        let (id, _, _) = m.eval(1.0, 1.5, 0.0);
        let beta = 2e-4 * 2.0;
        assert!((id - beta / 2.0 * 0.25 * (1.0 + 0.05 * 1.5)).abs() < 1e-18);
    }
}
