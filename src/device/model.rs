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

    /// Validation table of the family's `params!` declaration.
    fn specs() -> Option<&'static [super::card::ParamSpec]>;

    /// Section of the card (`params`, `variability.d2d`, `variability.c2c`) that `key` lives in.
    fn section_of(key: &str) -> &'static str;

    /// Largest |bias| (V) an experiment accepts for this family: well past any switching
    /// voltage, well short of where the laws overflow (a few-nm oxide breaks down at a few V).
    const MAX_BIAS_V: f64 = 10.0;

    /// Parameters a fit frees when `--free` is not given, per experiment: `[iv, pulse,
    /// retention]` (`None`: `--free` is required for that experiment).
    const FIT_FREE: [Option<&'static [&'static str]>; 3] = [None, None, None];

    /// The shipped card of the family: (path relative to the crate root, its text), the start
    /// card of a fit when `--card` is not given.
    const DEFAULT_CARD: Option<(&'static str, &'static str)> = None;

    /// Put `s` at the fraction `u` in [0, 1] of the way from the family's HRS (0) to its LRS
    /// (1) along its state variable; `false` for families without one continuous state knob.
    fn set_state_fraction(&self, _s: &mut Self::State, _u: f64) -> bool {
        false
    }

    /// The extreme state (`lrs`: lowest resistance) of `xbar device … --initial lrs|hrs`;
    /// `false` if the family has none. Default: [`Family::set_state_fraction`] at 1 or 0.
    fn set_extreme(&self, s: &mut Self::State, lrs: bool, _rng: &mut ChaCha8Rng) -> bool {
        self.set_state_fraction(s, if lrs { 1.0 } else { 0.0 })
    }

    /// The inverse of the read law: set `s` so that its read conductance at `v_read` (V,
    /// temperature `temp_k` K) is `g_target` (S), at the nearer state bound when the target is
    /// outside the reachable window (ideal program-and-verify). `false`: not supported.
    fn program_read_conductance(
        &self,
        _s: &mut Self::State,
        _g_target: f64,
        _v_read: f64,
        _temp_k: f64,
    ) -> bool {
        false
    }

    /// Program `s` to a read conductance `g_target` (S) as an experiment's `--initial VALUE`
    /// does: default the ideal inverse, or bisection along [`Family::set_state_fraction`];
    /// families with programming noise draw it from `rng`. `false`: not supported.
    fn program_initial(
        &self,
        s: &mut Self::State,
        g_target: f64,
        v_read: f64,
        temp_k: f64,
        _rng: &mut ChaCha8Rng,
    ) -> bool {
        if self.program_read_conductance(s, g_target, v_read, temp_k) {
            return true;
        }
        let mut t = *s;
        if !self.set_state_fraction(&mut t, 0.0) {
            return false;
        }
        let read = |t: &mut Self::State, u: f64| {
            self.set_state_fraction(t, u);
            self.read_conductance(t, v_read, temp_k)
        };
        let increasing = read(&mut t, 1.0) >= read(&mut t, 0.0);
        let u = bisect(0.0, 1.0, increasing, g_target, |u| read(&mut t, u));
        self.set_state_fraction(s, u)
    }

    /// Reachable read-conductance window (S) at `v_read`, where the family has a closed form.
    fn read_window(&self, _v_read: f64) -> Option<(f64, f64)> {
        None
    }
}

/// Bisection steps: 2^-100 of the bracket is far below any double's resolution of it.
const BISECT_STEPS: usize = 100;

/// The knob `x` in `[lo, hi]` at which the read conductance `g(x)` (monotone; `increasing` says
/// which way) equals `g_target`, or the nearer bound when the target is outside.
pub fn bisect(
    mut lo: f64,
    mut hi: f64,
    increasing: bool,
    g_target: f64,
    mut g: impl FnMut(f64) -> f64,
) -> f64 {
    for _ in 0..BISECT_STEPS {
        let mid = 0.5 * (lo + hi);
        if (g(mid) < g_target) == increasing {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}
