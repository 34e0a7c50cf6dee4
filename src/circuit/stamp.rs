//! Companion-model stamps: how an element's linearisation enters a nodal system. One module
//! for the general engine ([`crate::circuit::engine`]) and the structured array solver
//! (`crossbar::solver`, `crossbar::condensed`), so both write the same equations.
//!
//! Newton linearises a branch current around the last iterate: i(v) ≈ i(v⁰) + Σ gₖ·(vₖ − vₖ⁰).
//! The partial conductances gₖ go into the matrix (rows of the branch's two ends, columns of
//! the controlling nodes) and the companion current i(v⁰) − Σ gₖ·vₖ⁰ into the right-hand side.
//! A matrix is a value array addressed by slots fixed when the pattern is bound; a position
//! that touches ground (or, in the array solver, a node held at a fixed voltage) has
//! [`NO_SLOT`] and writes to it are dropped, so stamps never test for it.

/// Value slot of a stamp position that touches ground: writes to it are dropped.
pub const NO_SLOT: u32 = u32::MAX;

/// Slots of a two-terminal element's 2×2 block: (a,a), (a,b), (b,a), (b,b).
pub type Block = [u32; 4];

/// Add `x` to the matrix value at `slot` (nothing for [`NO_SLOT`]).
#[inline]
pub fn add(values: &mut [f64], slot: u32, x: f64) {
    if slot != NO_SLOT {
        values[slot as usize] += x;
    }
}

/// A current from `a` to `b` controlled by the voltages of nodes `x` and `y`, with partials
/// `gx` = ∂i/∂v(x) and `gy` = ∂i/∂v(y). `s` holds the slots (a,x), (a,y), (b,x), (b,y): KCL
/// at `a` sees +i, at `b` −i. A conductance is the case x = a, y = b, gy = −gx; a VCCS of
/// transconductance gm has gx = gm, gy = −gm; a transistor's drain current has gx = ∂I/∂vd,
/// gy = ∂I/∂vs.
#[inline]
pub fn controlled(values: &mut [f64], s: &Block, gx: f64, gy: f64) {
    add(values, s[0], gx);
    add(values, s[1], gy);
    add(values, s[2], -gx);
    add(values, s[3], -gy);
}

/// Conductance `g` between the two ends of a block (slots (a,a), (a,b), (b,a), (b,b)).
#[inline]
pub fn conductance(values: &mut [f64], s: &Block, g: f64) {
    controlled(values, s, g, -g);
}

/// Companion current of a two-terminal branch linearised at voltage `v` (V), where it carries
/// `i` (A) with slope `g` (S): i(v') ≈ g·v' + (i − g·v).
#[inline]
pub fn companion_current(i: f64, g: f64, v: f64) -> f64 {
    i - g * v
}

/// A current `i` (A) flowing from `a` through an element to `b`, moved to the right-hand side
/// (KCL: what leaves `a` is subtracted there, what enters `b` added). `None` is ground or a
/// fixed node.
#[inline]
pub fn inject(rhs: &mut [f64], a: Option<usize>, b: Option<usize>, i: f64) {
    if let Some(a) = a {
        rhs[a] -= i;
    }
    if let Some(b) = b {
        rhs[b] += i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A conductance stamp is the 2×2 block [g −g; −g g]; ground slots drop their writes.
    #[test]
    fn conductance_block_and_ground() {
        let mut v = vec![0.0; 4];
        conductance(&mut v, &[0, 1, 2, 3], 2.0);
        assert_eq!(v, [2.0, -2.0, -2.0, 2.0]);
        let mut w = vec![0.0; 1];
        conductance(&mut w, &[0, NO_SLOT, NO_SLOT, NO_SLOT], 3.0);
        assert_eq!(w, [3.0]);
    }

    /// The companion model reproduces the branch at its linearisation point: a diode-like
    /// i = v² at v = 2 (i = 4, g = 4) gives 4·v' − 4, which is 4 at v' = 2 and the tangent.
    #[test]
    fn companion_is_the_tangent() {
        let ieq = companion_current(4.0, 4.0, 2.0);
        assert_eq!(4.0 * 2.0 + ieq, 4.0);
        assert_eq!(4.0 * 3.0 + ieq, 8.0);
        let mut rhs = vec![0.0; 2];
        inject(&mut rhs, Some(0), Some(1), 1.5);
        assert_eq!(rhs, [-1.5, 1.5]);
        inject(&mut rhs, None, Some(0), 1.0);
        assert_eq!(rhs, [-0.5, 1.5]);
    }
}
