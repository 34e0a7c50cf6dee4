//! Ideal program-and-verify of device-card cells to a target read conductance.
//!
//! The array maps weights onto read conductances G = I(v_read)/v_read; a card cell reaches its
//! target by setting its state variable. The inverse is each family's own
//! ([`crate::device::Family::program_read_conductance`]: OxRAM and JART in closed form or by
//! bisection over their state, PCM over the amorphous fraction at drift age 0, statistical PCM
//! over the programmed conductance); other families are an error (their state is not a single
//! monotone knob of the read conductance here).

use crate::device::Cell;

use super::CrossbarError;

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
    if !cell.program_read_conductance(g_target, v_read, temp_k) {
        return Err(CrossbarError::Input(format!(
            "programming to a target read conductance is not supported for family `{}`",
            cell.family()
        )));
    }
    Ok(cell.read_conductance(v_read, temp_k))
}

/// Reachable read-conductance window (S) of a cell at `v_read`, for families with a closed
/// form (OxRAM: its gap bounds); `None` otherwise.
pub fn read_window(cell: &Cell, v_read: f64) -> Option<(f64, f64)> {
    cell.read_window(v_read)
}
