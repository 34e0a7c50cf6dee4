//! Compact models of memristive devices.
//!
//! - [`Model`]: a card-level description (nominal parameters + D2D spread) of one family,
//!   loaded from a TOML card ([`load_card`]) or a netlist `.model` line ([`model_from_params`]).
//! - [`Cell`]: one device instance (sampled parameters + state); dispatch is a `match`, so a loop
//!   over many cells has no dynamic dispatch and no allocation.
//!
//! Sign convention: `v` is the voltage from the positive (top) to the negative (bottom) terminal;
//! positive `v` is SET (conductance up) for every family here.

pub mod bench;
pub mod card;
pub mod model;
mod spice_expr;

/// Default read bias of `device_pulse` (V): below every family's switching threshold.
pub const DEFAULT_V_READ: f64 = 0.1;

use std::path::Path;

use rand_chacha::ChaCha8Rng;

pub use card::{
    family_param_docs, load_card, model_from_params, model_from_params_typed, param_table_markdown,
    parse_card, Card, CardError, ParamDoc, ParamError, ParamSpec,
};
pub use model::{CompactModel, Family};

/// The device registry: one line per family, `Variant => module::ParamType`. Everything that
/// depends on the set of families is generated from this list: the [`Cell`] and [`Model`]
/// enums, their dispatch (a `match`, so the per-cell loop has no dynamic dispatch), the family
/// keys ([`FAMILIES`]), card and `.model` loading, parameter docs, CLI defaults and bias limits,
/// `--initial` states, the crossbar's program-and-verify inverse and the fit's default free
/// parameters and start card. A new family is its module (parameters declared once, [`Family`]
/// implemented) plus one line here, which also declares the module (`pub mod <m>;`).
macro_rules! registry {
    ($( $(#[$doc:meta])* $variant:ident => $m:ident :: $ty:ident, )*) => {
        $( pub mod $m; )*

        /// Family keys understood by cards and `.model` lines, in registry order.
        pub const FAMILIES: &[&str] = &[$( <$m::$ty as Family>::KEY ),*];

        /// One device instance: its (D2D-sampled) parameters and its state.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Cell {
            $( $(#[$doc])* $variant { p: $m::$ty, s: <$m::$ty as CompactModel>::State }, )*
        }

        /// Card-level parameters of one family (nominal device carrying the D2D spread).
        #[derive(Clone, Debug, PartialEq)]
        pub enum Model {
            $( $(#[$doc])* $variant(Card<$m::$ty>), )*
        }

        impl Cell {
            /// Current (A) from the positive to the negative terminal at bias `v` (V) and its
            /// exact derivative dI/dV (S), at ambient temperature `temp_k` (K).
            #[inline]
            pub fn current(&self, v: f64, temp_k: f64) -> (f64, f64) {
                match self { $( Cell::$variant { p, s } => p.current(s, v, temp_k), )* }
            }

            /// Advance the state by `dt` (s) under constant bias `v` (V); accurate for any `dt`.
            #[inline]
            pub fn advance(&mut self, v: f64, dt: f64, temp_k: f64, rng: &mut ChaCha8Rng) {
                match self { $( Cell::$variant { p, s } => p.advance(s, v, dt, temp_k, rng), )* }
            }

            /// Read conductance I(v_read)/v_read (S).
            #[inline]
            pub fn read_conductance(&self, v_read: f64, temp_k: f64) -> f64 {
                match self { $( Cell::$variant { p, s } => p.read_conductance(s, v_read, temp_k), )* }
            }

            /// Whether the family has a driven control gate (a third terminal): `fgate`.
            pub fn has_control_gate(&self) -> bool {
                match self { $( Cell::$variant { .. } => <$m::$ty as Family>::HAS_CONTROL_GATE, )* }
            }

            /// [`Cell::current`] with the control gate driven to `v_cg` (V, relative to the
            /// negative terminal). Families without a control gate ignore `v_cg`.
            #[inline]
            pub fn current_gated(&self, v: f64, v_cg: f64, temp_k: f64) -> (f64, f64) {
                match self { $( Cell::$variant { p, s } => p.current_gated(s, v, v_cg, temp_k), )* }
            }

            /// [`Cell::advance`] with the control gate driven to `v_cg` (V). Families without a
            /// control gate ignore `v_cg`.
            #[inline]
            pub fn advance_gated(
                &mut self,
                v: f64,
                v_cg: f64,
                dt: f64,
                temp_k: f64,
                rng: &mut ChaCha8Rng,
            ) {
                match self {
                    $( Cell::$variant { p, s } => p.advance_gated(s, v, v_cg, dt, temp_k, rng), )*
                }
            }

            /// Family key (one of [`FAMILIES`]).
            pub fn family(&self) -> &'static str {
                match self { $( Cell::$variant { .. } => <$m::$ty as Family>::KEY, )* }
            }

            /// State variables for CSV output: (name with unit suffix, value in SI).
            /// Dimensionless quantities carry no suffix.
            pub fn state_vars(&self) -> Vec<(&'static str, f64)> {
                match self { $( Cell::$variant { p, s } => p.state_vars(s), )* }
            }

            /// Put the state at the fraction `u` in [0, 1] from HRS (0) to LRS (1) along the
            /// family's state variable (`false`: the family has no such knob).
            pub fn set_state_fraction(&mut self, u: f64) -> bool {
                let u = u.clamp(0.0, 1.0);
                match self { $( Cell::$variant { p, s } => p.set_state_fraction(s, u), )* }
            }

            /// The family's extreme state (`lrs`: lowest resistance); `false` if it has none.
            pub fn set_extreme(&mut self, lrs: bool, rng: &mut ChaCha8Rng) -> bool {
                match self { $( Cell::$variant { p, s } => p.set_extreme(s, lrs, rng), )* }
            }

            /// Ideal program-and-verify to the read conductance `g_target` (S) at `v_read` (V),
            /// clamped to the state bounds (`false`: not supported by the family).
            pub fn program_read_conductance(&mut self, g_target: f64, v_read: f64, temp_k: f64) -> bool {
                match self { $( Cell::$variant { p, s } => p.program_read_conductance(s, g_target, v_read, temp_k), )* }
            }

            /// Program to `g_target` (S) as an experiment's `--initial VALUE` does (with the
            /// family's programming noise, if any); `false`: not supported.
            pub fn program_initial(
                &mut self,
                g_target: f64,
                v_read: f64,
                temp_k: f64,
                rng: &mut ChaCha8Rng,
            ) -> bool {
                match self { $( Cell::$variant { p, s } => p.program_initial(s, g_target, v_read, temp_k, rng), )* }
            }

            /// Reachable read-conductance window (S) at `v_read`, where the family has a
            /// closed form.
            pub fn read_window(&self, v_read: f64) -> Option<(f64, f64)> {
                match self { $( Cell::$variant { p, .. } => p.read_window(v_read), )* }
            }

            /// Put the state back to the card's initial state.
            pub fn reset_state(&mut self) {
                match self { $( Cell::$variant { p, s } => *s = p.initial_state(), )* }
            }

            /// The static law at the present (frozen) state as an ngspice B-source current
            /// expression in the branch voltage `v` (e.g. `"v(a,b)"`), at circuit temperature
            /// `temp_k` (K). Every family's law is written exactly (piecewise closed forms via
            /// `? :` where the Rust code guards overflow).
            pub fn spice_current_expr(&self, v: &str, temp_k: f64) -> String {
                match self { $( Cell::$variant { p, s } => p.spice_current_expr(s, v, temp_k), )* }
            }
        }

        impl Model {
            /// The card of `family` from TOML text (`None`: unknown family).
            pub(crate) fn card_from_toml(
                family: &str,
                file: &Path,
                text: &str,
                name: String,
            ) -> Option<Result<Model, CardError>> {
                $( if family == <$m::$ty as Family>::KEY {
                    return Some(<$m::$ty as Family>::card_from_toml(file, text, name).map(Model::$variant));
                } )*
                None
            }

            /// The model of `family` from `.model` keys (`None`: unknown family).
            pub(crate) fn card_from_params(
                family: &str,
                kv: &[(String, f64)],
            ) -> Option<Result<Model, CardError>> {
                $( if family == <$m::$ty as Family>::KEY {
                    return Some(<$m::$ty as Family>::card_from_params(kv).map(Model::$variant));
                } )*
                None
            }

            /// Every documented parameter of `family` (`None`: unknown family).
            pub fn param_docs(family: &str) -> Option<Vec<ParamDoc>> {
                $( if family == <$m::$ty as Family>::KEY {
                    return Some(<$m::$ty as Family>::param_docs());
                } )*
                None
            }

            /// Card section (`params`, `variability.d2d`, `variability.c2c`) of `key` in
            /// `family`'s card (`None`: unknown family).
            pub fn card_section(family: &str, key: &str) -> Option<&'static str> {
                $( if family == <$m::$ty as Family>::KEY {
                    return Some(<$m::$ty as Family>::section_of(key));
                } )*
                None
            }

            /// Default `xbar device iv` sweep (v_max V, v_min V, period s) of `family`.
            pub fn iv_defaults(family: &str) -> Option<(f64, f64, f64)> {
                $( if family == <$m::$ty as Family>::KEY {
                    return Some(<$m::$ty as Family>::IV_DEFAULTS);
                } )*
                None
            }

            /// Largest |bias| (V) an experiment accepts for `family` (`None`: unknown family).
            pub fn max_bias_v(family: &str) -> Option<f64> {
                $( if family == <$m::$ty as Family>::KEY {
                    return Some(<$m::$ty as Family>::MAX_BIAS_V);
                } )*
                None
            }

            /// Parameters a fit of `family` frees by default, per experiment `[iv, pulse,
            /// retention]` (`None`: unknown family).
            pub fn fit_free(family: &str) -> Option<[Option<&'static [&'static str]>; 3]> {
                $( if family == <$m::$ty as Family>::KEY {
                    return Some(<$m::$ty as Family>::FIT_FREE);
                } )*
                None
            }

            /// The shipped card of `family`: (path, text).
            pub fn default_card(family: &str) -> Option<(&'static str, &'static str)> {
                $( if family == <$m::$ty as Family>::KEY {
                    return <$m::$ty as Family>::DEFAULT_CARD;
                } )*
                None
            }

            /// Validation table of `family` (`None`: unknown family).
            pub fn specs(family: &str) -> Option<&'static [ParamSpec]> {
                $( if family == <$m::$ty as Family>::KEY {
                    return <$m::$ty as Family>::specs();
                } )*
                None
            }

            /// A device with D2D variability sampled from `rng`, in its initial state.
            pub fn instantiate(&self, rng: &mut ChaCha8Rng) -> Cell {
                match self { $( Model::$variant(c) => {
                    let p = c.nominal.sample_device(rng);
                    Cell::$variant { s: p.initial_state(), p }
                } )* }
            }

            /// The nominal device (no variability) in its initial state.
            pub fn nominal_cell(&self) -> Cell {
                match self { $( Model::$variant(c) => Cell::$variant {
                    s: c.nominal.initial_state(),
                    p: c.nominal.clone(),
                }, )* }
            }

            /// Family key (one of [`FAMILIES`]).
            pub fn family(&self) -> &'static str {
                match self { $( Model::$variant(_) => <$m::$ty as Family>::KEY, )* }
            }

            /// Card name (file stem unless the card sets `name`).
            pub fn name(&self) -> &str {
                match self { $( Model::$variant(c) => &c.name, )* }
            }

            /// Published source the card cites.
            pub fn source(&self) -> &str {
                match self { $( Model::$variant(c) => &c.source, )* }
            }

            /// Nominal parameter values (key, SI value) in declaration order, e.g. for writing
            /// a `.model` line that [`model_from_params`] reads back (variability keys bare).
            pub fn params(&self) -> Vec<(&'static str, f64)> {
                match self { $( Model::$variant(c) => c.nominal.param_values(), )* }
            }
        }
    };
}

registry! {
    /// Stanford-PKU filamentary OxRAM (gap model).
    OxRam => oxram::Params,
    /// Yu-Wong CBRAM (filament height and radius).
    Cbram => cbram::Params,
    /// Floating-gate transistor (FN tunnelling, EKV channel, driven control gate).
    FloatingGate => fgate::Params,
    /// Physical PCM (amorphous fraction, threshold switching, drift).
    Pcm => pcm::PcmModel,
    /// aihwkit-style statistical PCM (no bias-driven dynamics).
    PcmStat => pcm_stat::PcmStatModel,
    /// Two-state stochastic STT-MTJ.
    Mtj => mram::MtjModel,
    /// JART VCM v1b filamentary OxRAM (disc vacancy concentration).
    Jart => jart::Params,
}

/// Validation table (ranges, sections, defaults) of a family, from its one `params!`
/// declaration; `None` for an unknown family.
pub fn family_specs(family: &str) -> Option<&'static [ParamSpec]> {
    Model::specs(family)
}
