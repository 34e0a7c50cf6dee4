//! Ideal program-and-verify of device-card cells to a target read conductance.
//!
//! The array maps weights onto read conductances G = I(v_read)/v_read; a card cell reaches its
//! target by setting its state variable:
//! - OxRAM (Stanford-PKU): G(g) = I0·exp(−g/g0)·sinh(v_read/V0)/v_read inverts in closed form,
//!   g = −g0·ln(G·v_read/(I0·sinh(v_read/V0))), clamped to [g_min, g_max] (device-physics.md §1.1).
//! - PCM (physical): bisection over the amorphous fraction x ∈ [0, 1] at drift age 0 (G falls
//!   monotonically with x).
//! - Statistical PCM: bisection over the programmed conductance at age 0.
//! - Other families: an error (their state is not a single monotone knob of the read
//!   conductance here).

use crate::device::card::sinh_lim;
use crate::device::Cell;

use super::CrossbarError;

/// Bisection steps: 2^-100 of the bracket is far below any double's resolution of it.
const BISECT_STEPS: usize = 100;

/// Sets the state of `cell` so that its read conductance at `v_read` (V, temperature `temp_k`
/// K) is `g_target` (S), as far as the state bounds allow; returns the achieved read
/// conductance (S).
pub fn program_read_conductance(
    cell: &mut Cell,
    g_target: f64,
    v_read: f64,
    temp_k: f64,
) -> Result<f64, CrossbarError> {
    if !(g_target > 0.0 && g_target.is_finite()) {
        return Err(CrossbarError::Input(format!(
            "programming target {g_target} S must be > 0"
        )));
    }
    match cell {
        Cell::OxRam { p, s } => {
            let shape = sinh_lim(v_read / p.v0).0;
            let gap = -p.g0 * (g_target * v_read / (p.i0 * shape)).ln();
            s.gap = gap.clamp(p.g_min, p.g_max);
        }
        Cell::Pcm { s, .. } => {
            s.age_s = 0.0;
            // G decreases with the amorphous fraction.
            bisect(cell, g_target, v_read, temp_k, 0.0, 1.0, false, |c, x| {
                if let Cell::Pcm { s, .. } = c {
                    s.amorphous_fraction = x;
                }
            });
        }
        Cell::PcmStat { s, .. } => {
            s.age_s = 0.0;
            let (lo, hi) = ((g_target * 1e-3).ln(), (g_target * 1e3).ln());
            bisect(cell, g_target, v_read, temp_k, lo, hi, true, |c, x| {
                if let Cell::PcmStat { s, .. } = c {
                    s.g_prog_s = x.exp();
                    s.g_target_s = s.g_prog_s;
                }
            });
        }
        other => {
            return Err(CrossbarError::Input(format!(
                "programming to a target read conductance is not supported for family `{}`",
                other.family()
            )))
        }
    }
    Ok(cell.read_conductance(v_read, temp_k))
}

/// Bisection on one state knob `x ∈ [lo, hi]`; `increasing` says whether G grows with x.
/// Ends at the nearer bound when the target is outside the reachable window.
#[allow(clippy::too_many_arguments)]
fn bisect(
    cell: &mut Cell,
    g_target: f64,
    v_read: f64,
    temp_k: f64,
    mut lo: f64,
    mut hi: f64,
    increasing: bool,
    set: impl Fn(&mut Cell, f64),
) {
    for _ in 0..BISECT_STEPS {
        let mid = 0.5 * (lo + hi);
        set(cell, mid);
        let g = cell.read_conductance(v_read, temp_k);
        if (g < g_target) == increasing {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    set(cell, 0.5 * (lo + hi));
}

/// Reachable read-conductance window (S) of a cell at `v_read`, for OxRAM (gap bounds);
/// `None` for families without a closed form.
pub fn read_window(cell: &Cell, v_read: f64) -> Option<(f64, f64)> {
    match cell {
        Cell::OxRam { p, .. } => {
            let (g_hi, _) = p.current_at(p.g_min, v_read);
            let (g_lo, _) = p.current_at(p.g_max, v_read);
            Some((g_lo / v_read, g_hi / v_read))
        }
        _ => None,
    }
}
