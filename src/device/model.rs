//! The interface every compact model implements. Dispatch over families happens through the
//! `Cell` enum in `mod.rs` (a `match`, no trait objects in the per-cell loop).

use rand_chacha::ChaCha8Rng;

/// Thermal voltage helpers and physical constants (CODATA 2018 exact values).
pub const K_B: f64 = 1.380649e-23; // J/K
pub const Q_E: f64 = 1.602176634e-19; // C

/// A compact model of one memristive family. `Self` is the validated parameter set of one
/// device (after device-to-device variability has been sampled into it).
pub trait CompactModel: Clone + std::fmt::Debug + Send + Sync {
    /// Per-cell internal state (gap, amorphous fraction, magnetisation, ...).
    type State: Clone + Copy + std::fmt::Debug + PartialEq + Send + Sync;

    /// State the card declares as the initial one.
    fn initial_state(&self) -> Self::State;

    /// Static law: current (A) from the positive (top) to the negative (bottom) terminal at bias
    /// `v` (V), and its exact derivative di/dv (S). `temp_k` is the ambient temperature in K.
    fn current(&self, state: &Self::State, v: f64, temp_k: f64) -> (f64, f64);

    /// Advance the state by `dt` (s) under a constant bias `v` (V). Must stay accurate and in
    /// bounds for any `dt` (sub-step internally or integrate in closed form). Cycle-to-cycle
    /// noise is drawn from `rng`.
    fn advance(&self, state: &mut Self::State, v: f64, dt: f64, temp_k: f64, rng: &mut ChaCha8Rng);

    /// Small-signal read conductance (S) at read bias `v_read` (V): I(v_read)/v_read.
    fn read_conductance(&self, state: &Self::State, v_read: f64, temp_k: f64) -> f64 {
        let (i, _) = self.current(state, v_read, temp_k);
        i / v_read
    }

    /// Device-to-device variability: a copy of `self` with the card's declared per-device
    /// perturbations sampled from `rng`.
    fn sample_device(&self, rng: &mut ChaCha8Rng) -> Self;
}
