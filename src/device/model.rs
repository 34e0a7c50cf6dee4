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

/// A family in the device registry (`registry!` in `mod.rs`): the compact model plus what the
/// rest of the program needs of it (card loading, `.model` keys, docs, export, CLI defaults).
/// `Self` is the per-device parameter set; a new family implements this trait in its own module
/// and adds one line to the registry.
pub trait Family: CompactModel + PartialEq + 'static {
    /// Family key in cards and `.model` lines.
    const KEY: &'static str;

    /// Default `xbar device iv` triangle sweep: (v_max V, v_min V, period s), chosen to cross
    /// the family's switching thresholds.
    const IV_DEFAULTS: (f64, f64, f64) = (1.0, -1.0, 1.0);

    /// Whether the device has a driven control gate (a third terminal).
    const HAS_CONTROL_GATE: bool = false;

    /// [`CompactModel::current`] with the control gate driven to `v_cg` (V); two-terminal
    /// families ignore `v_cg`.
    fn current_gated(&self, s: &Self::State, v: f64, _v_cg: f64, temp_k: f64) -> (f64, f64) {
        self.current(s, v, temp_k)
    }

    /// [`CompactModel::advance`] with the control gate driven to `v_cg` (V).
    fn advance_gated(
        &self,
        s: &mut Self::State,
        v: f64,
        _v_cg: f64,
        dt: f64,
        temp_k: f64,
        rng: &mut ChaCha8Rng,
    ) {
        self.advance(s, v, dt, temp_k, rng)
    }

    /// State variables for CSV output: (name with unit suffix, SI value).
    fn state_vars(&self, s: &Self::State) -> Vec<(&'static str, f64)>;

    /// The static law at the frozen state `s` as an ngspice B-source current expression in the
    /// branch voltage `v` (e.g. `"v(a,b)"`), at circuit temperature `temp_k` (K).
    fn spice_current_expr(&self, s: &Self::State, v: &str, temp_k: f64) -> String;

    /// Card from TOML text (one layout: `[params]`, `[variability.d2d]`, `[variability.c2c]`);
    /// `name` is used when the card sets none. Errors name file, line and key.
    fn card_from_toml(
        file: &std::path::Path,
        text: &str,
        name: String,
    ) -> Result<super::card::Card<Self>, super::card::CardError>;

    /// Card from a netlist `.model` key list (no D2D spread unless the family's keys carry it).
    fn card_from_params(
        kv: &[(String, f64)],
    ) -> Result<super::card::Card<Self>, super::card::CardError>;

    /// Nominal parameter values (key, SI value) in declaration order, as `.model` keys.
    fn param_values(&self) -> Vec<(&'static str, f64)>;

    /// Every parameter, documented (README tables, `--help`).
    fn param_docs() -> Vec<super::card::ParamDoc>;

    /// Validation table of a `params!`-declared family (`None` for the serde-declared ones).
    fn specs() -> Option<&'static [super::card::ParamSpec]> {
        None
    }

    /// Section of the card (`params`, `variability.d2d`, `variability.c2c`) that `key` lives in.
    fn section_of(key: &str) -> &'static str;
}
