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
pub mod cbram;
pub mod fgate;
pub mod model;
pub mod mram;
pub mod oxram;
pub mod pcm;
pub mod pcm_stat;
mod spice_expr;

/// Default read bias of `device_pulse` (V): below every family's switching threshold.
pub const DEFAULT_V_READ: f64 = 0.1;

use std::path::Path;

use rand_chacha::ChaCha8Rng;

pub use card::{
    family_param_docs, load_card, model_from_params, param_table_markdown, parse_card, Card,
    CardError, ParamDoc, ParamSpec,
};
pub use model::CompactModel;

use card::{build_family, FamilyParams, Kind, Sigma};

/// Family keys understood by cards and `.model` lines.
pub const FAMILIES: &[&str] = &["oxram", "cbram", "fgate", "pcm", "pcm_stat", "mtj"];

/// Families whose cards are flat TOML read by the model's own serde struct (device-b layout:
/// top-level keys and a `[variability]` table), as opposed to `[params]` / `[variability.*]`.
pub const FLAT_FAMILIES: &[&str] = &["pcm", "pcm_stat", "mtj"];

/// Validation table (ranges, sections) of a `[params]`-style family. The flat families
/// (`pcm`, `pcm_stat`, `mtj`) validate in their own `validate()` and have `None` here; use
/// [`family_param_docs`] for a table of every family.
pub fn family_specs(family: &str) -> Option<&'static [ParamSpec]> {
    match family {
        "oxram" => Some(oxram::Params::SPECS),
        "cbram" => Some(cbram::Params::SPECS),
        "fgate" => Some(fgate::Params::SPECS),
        _ => None,
    }
}

/// One device instance: its (D2D-sampled) parameters and its state.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    OxRam {
        p: oxram::Params,
        s: oxram::State,
    },
    Cbram {
        p: cbram::Params,
        s: cbram::State,
    },
    FloatingGate {
        p: fgate::Params,
        s: fgate::State,
    },
    Pcm {
        p: pcm::PcmModel,
        s: pcm::PcmState,
    },
    PcmStat {
        p: pcm_stat::PcmStatModel,
        s: pcm_stat::PcmStatState,
    },
    Mtj {
        p: mram::MtjModel,
        s: mram::MtjState,
    },
}

macro_rules! each_cell {
    ($self:expr, $p:ident, $s:ident => $body:expr) => {
        match $self {
            Cell::OxRam { p: $p, s: $s } => $body,
            Cell::Cbram { p: $p, s: $s } => $body,
            Cell::FloatingGate { p: $p, s: $s } => $body,
            Cell::Pcm { p: $p, s: $s } => $body,
            Cell::PcmStat { p: $p, s: $s } => $body,
            Cell::Mtj { p: $p, s: $s } => $body,
        }
    };
}

impl Cell {
    /// Current (A) from the positive to the negative terminal at bias `v` (V) and its exact
    /// derivative dI/dV (S), at ambient temperature `temp_k` (K).
    #[inline]
    pub fn current(&self, v: f64, temp_k: f64) -> (f64, f64) {
        each_cell!(self, p, s => p.current(s, v, temp_k))
    }

    /// Advance the state by `dt` (s) under constant bias `v` (V); accurate for any `dt`.
    #[inline]
    pub fn advance(&mut self, v: f64, dt: f64, temp_k: f64, rng: &mut ChaCha8Rng) {
        each_cell!(self, p, s => p.advance(s, v, dt, temp_k, rng))
    }

    /// Read conductance I(v_read)/v_read (S).
    #[inline]
    pub fn read_conductance(&self, v_read: f64, temp_k: f64) -> f64 {
        each_cell!(self, p, s => p.read_conductance(s, v_read, temp_k))
    }

    /// Whether the family has a driven control gate (a third terminal): `fgate`.
    pub fn has_control_gate(&self) -> bool {
        matches!(self, Cell::FloatingGate { .. })
    }

    /// [`Cell::current`] with the control gate driven to `v_cg` (V, relative to the negative
    /// terminal). Families without a control gate ignore `v_cg`.
    #[inline]
    pub fn current_gated(&self, v: f64, v_cg: f64, temp_k: f64) -> (f64, f64) {
        match self {
            Cell::FloatingGate { p, s } => p.current_gated(s, v, v_cg, temp_k),
            _ => self.current(v, temp_k),
        }
    }

    /// [`Cell::advance`] with the control gate driven to `v_cg` (V). Families without a control
    /// gate ignore `v_cg`.
    #[inline]
    pub fn advance_gated(&mut self, v: f64, v_cg: f64, dt: f64, temp_k: f64, rng: &mut ChaCha8Rng) {
        match self {
            Cell::FloatingGate { p, s } => p.advance_gated(s, v, v_cg, dt, temp_k, rng),
            _ => self.advance(v, dt, temp_k, rng),
        }
    }

    /// Family key ("oxram", "cbram", "fgate", "pcm", "pcm_stat", "mtj").
    pub fn family(&self) -> &'static str {
        match self {
            Cell::OxRam { .. } => oxram::Params::FAMILY,
            Cell::Cbram { .. } => cbram::Params::FAMILY,
            Cell::FloatingGate { .. } => fgate::Params::FAMILY,
            Cell::Pcm { .. } => "pcm",
            Cell::PcmStat { .. } => "pcm_stat",
            Cell::Mtj { .. } => "mtj",
        }
    }

    /// State variables for CSV output: (name with unit suffix, value in SI). Dimensionless
    /// quantities carry no suffix; the MTJ orientation is 1 for antiparallel, 0 for parallel.
    pub fn state_vars(&self) -> Vec<(&'static str, f64)> {
        match self {
            Cell::OxRam { s, .. } => vec![("gap_m", s.gap)],
            Cell::Cbram { s, .. } => vec![("height_m", s.h), ("radius_m", s.r)],
            Cell::FloatingGate { p, s } => {
                vec![("q_fg_c", s.q), ("vth_cg_v", p.vth_cg(s))]
            }
            Cell::Pcm { s, .. } => vec![
                ("amorphous_fraction", s.amorphous_fraction),
                ("drift_age_s", s.age_s),
            ],
            Cell::PcmStat { s, .. } => vec![
                ("g_prog_s", s.g_prog_s),
                ("drift_exponent", s.nu),
                ("age_s", s.age_s),
            ],
            Cell::Mtj { s, .. } => vec![(
                "antiparallel",
                f64::from(u8::from(
                    s.orientation == mram::MtjOrientation::AntiParallel,
                )),
            )],
        }
    }

    /// Put the state back to the card's initial state.
    pub fn reset_state(&mut self) {
        each_cell!(self, p, s => *s = p.initial_state())
    }

    /// The static law at the present (frozen) state as an ngspice B-source current expression
    /// in the branch voltage `v` (e.g. `"v(a,b)"`), at circuit temperature `temp_k` (K).
    /// Every family's law is written exactly (piecewise closed forms via `? :` where the
    /// Rust code guards overflow); see `spice_expr.rs`.
    pub fn spice_current_expr(&self, v: &str, temp_k: f64) -> String {
        spice_expr::current_expr(self, v, temp_k)
    }
}

/// Card-level parameters of one family, before device-to-device variability.
#[derive(Clone, Debug, PartialEq)]
pub enum Model {
    OxRam(Card<oxram::Params>),
    Cbram(Card<cbram::Params>),
    FloatingGate(Card<fgate::Params>),
    /// Physical PCM; `nominal` carries the card's D2D sigmas in its `variability`.
    Pcm(Card<pcm::PcmModel>),
    /// aihwkit-style statistical PCM (no bias-driven dynamics).
    PcmStat(Card<pcm_stat::PcmStatModel>),
    /// Two-state stochastic STT-MTJ.
    Mtj(Card<mram::MtjModel>),
}

/// A flat-family model built from its validated parameter struct. The `name` and `source`
/// strings move to the `Card`, so sampled cells do not each carry a copy of them.
fn flat_card<P, M>(
    mut params: P,
    name: String,
    source: String,
    strip: impl Fn(&mut P) -> (&mut String, &mut String),
    build: impl Fn(P) -> Result<M, String>,
) -> Result<Card<M>, String> {
    let (n, s) = strip(&mut params);
    let name = if n.is_empty() {
        name
    } else {
        std::mem::take(n)
    };
    let source = if s.is_empty() {
        source
    } else {
        std::mem::take(s)
    };
    Ok(Card {
        name,
        source,
        nominal: build(params)?,
    })
}

impl Model {
    pub(crate) fn build(
        family: &str,
        file: &Path,
        name: String,
        source: String,
        params: &[(String, f64, Option<usize>, Kind)],
        d2d: &[(String, Sigma, Option<usize>)],
    ) -> Result<Model, CardError> {
        Ok(match family {
            "oxram" => Model::OxRam(build_family(file, name, source, params, d2d)?),
            "cbram" => Model::Cbram(build_family(file, name, source, params, d2d)?),
            "fgate" => Model::FloatingGate(build_family(file, name, source, params, d2d)?),
            _ => {
                return Err(CardError {
                    file: file.to_path_buf(),
                    line: None,
                    key: "family".into(),
                    msg: format!("unknown family `{family}`; known: {}", FAMILIES.join(", ")),
                })
            }
        })
    }

    /// Build a flat-family model (`pcm`, `pcm_stat`, `mtj`) from TOML text through the model's
    /// own parser; `default_name` is used when the card has no `name`. Errors are the model's
    /// messages (they name the key); [`card::parse_card`] adds file and line.
    pub(crate) fn build_flat(
        family: &str,
        text: &str,
        default_name: String,
    ) -> Result<Model, FlatError> {
        let de = |e: toml::de::Error| FlatError::Toml(e);
        let val = |e: String| FlatError::Invalid(e);
        let src = String::new();
        Ok(match family {
            "pcm" => {
                let p: pcm::PcmParams = toml::from_str(text).map_err(de)?;
                p.validate().map_err(val)?;
                Model::Pcm(
                    flat_card(
                        p,
                        default_name,
                        src,
                        |p| (&mut p.name, &mut p.source),
                        pcm::PcmModel::new,
                    )
                    .map_err(val)?,
                )
            }
            "pcm_stat" => {
                let p: pcm_stat::PcmStatParams = toml::from_str(text).map_err(de)?;
                p.validate().map_err(val)?;
                Model::PcmStat(
                    flat_card(
                        p,
                        default_name,
                        src,
                        |p| (&mut p.name, &mut p.source),
                        pcm_stat::PcmStatModel::new,
                    )
                    .map_err(val)?,
                )
            }
            "mtj" => {
                let p: mram::MtjParams = toml::from_str(text).map_err(de)?;
                p.validate().map_err(val)?;
                Model::Mtj(
                    flat_card(
                        p,
                        default_name,
                        src,
                        |p| (&mut p.name, &mut p.source),
                        mram::MtjModel::new,
                    )
                    .map_err(val)?,
                )
            }
            other => {
                return Err(FlatError::Invalid(format!(
                    "parameter `family` = \"{other}\": not a flat-card family ({})",
                    FLAT_FAMILIES.join(", ")
                )))
            }
        })
    }

    /// A device with D2D variability sampled from `rng`, in its initial state.
    pub fn instantiate(&self, rng: &mut ChaCha8Rng) -> Cell {
        match self {
            Model::OxRam(c) => {
                let p = c.sample(rng);
                Cell::OxRam {
                    s: p.initial_state(),
                    p,
                }
            }
            Model::Cbram(c) => {
                let p = c.sample(rng);
                Cell::Cbram {
                    s: p.initial_state(),
                    p,
                }
            }
            Model::FloatingGate(c) => {
                let p = c.sample(rng);
                Cell::FloatingGate {
                    s: p.initial_state(),
                    p,
                }
            }
            Model::Pcm(c) => {
                let p = c.nominal.sample_device(rng);
                Cell::Pcm {
                    s: p.initial_state(),
                    p,
                }
            }
            Model::PcmStat(c) => {
                let p = c.nominal.sample_device(rng);
                Cell::PcmStat {
                    s: p.initial_state(),
                    p,
                }
            }
            Model::Mtj(c) => {
                let p = c.nominal.sample_device(rng);
                Cell::Mtj {
                    s: p.initial_state(),
                    p,
                }
            }
        }
    }

    /// The nominal device (no variability) in its initial state.
    pub fn nominal_cell(&self) -> Cell {
        match self {
            Model::OxRam(c) => Cell::OxRam {
                s: c.nominal.initial_state(),
                p: c.nominal.clone(),
            },
            Model::Cbram(c) => Cell::Cbram {
                s: c.nominal.initial_state(),
                p: c.nominal.clone(),
            },
            Model::FloatingGate(c) => Cell::FloatingGate {
                s: c.nominal.initial_state(),
                p: c.nominal.clone(),
            },
            Model::Pcm(c) => Cell::Pcm {
                s: c.nominal.initial_state(),
                p: c.nominal.clone(),
            },
            Model::PcmStat(c) => Cell::PcmStat {
                s: c.nominal.initial_state(),
                p: c.nominal.clone(),
            },
            Model::Mtj(c) => Cell::Mtj {
                s: c.nominal.initial_state(),
                p: c.nominal.clone(),
            },
        }
    }

    pub fn family(&self) -> &'static str {
        match self {
            Model::OxRam(_) => oxram::Params::FAMILY,
            Model::Cbram(_) => cbram::Params::FAMILY,
            Model::FloatingGate(_) => fgate::Params::FAMILY,
            Model::Pcm(_) => "pcm",
            Model::PcmStat(_) => "pcm_stat",
            Model::Mtj(_) => "mtj",
        }
    }

    /// Card name (file stem unless the card sets `name`).
    pub fn name(&self) -> &str {
        match self {
            Model::OxRam(c) => &c.name,
            Model::Cbram(c) => &c.name,
            Model::FloatingGate(c) => &c.name,
            Model::Pcm(c) => &c.name,
            Model::PcmStat(c) => &c.name,
            Model::Mtj(c) => &c.name,
        }
    }

    /// Published source the card cites.
    pub fn source(&self) -> &str {
        match self {
            Model::OxRam(c) => &c.source,
            Model::Cbram(c) => &c.source,
            Model::FloatingGate(c) => &c.source,
            Model::Pcm(c) => &c.source,
            Model::PcmStat(c) => &c.source,
            Model::Mtj(c) => &c.source,
        }
    }

    /// Nominal parameter values (key, SI value) in declaration order, e.g. for writing a
    /// `.model` line that [`model_from_params`] reads back. Flat families list their
    /// variability keys as `variability.<key>`.
    pub fn params(&self) -> Vec<(&'static str, f64)> {
        fn kv<P: FamilyParams>(p: &P) -> Vec<(&'static str, f64)> {
            P::SPECS.iter().map(|s| s.name).zip(p.values()).collect()
        }
        match self {
            Model::OxRam(c) => kv(&c.nominal),
            Model::Cbram(c) => kv(&c.nominal),
            Model::FloatingGate(c) => kv(&c.nominal),
            Model::Pcm(c) => c.nominal.params().numeric_values(),
            Model::PcmStat(c) => c.nominal.params().numeric_values(),
            Model::Mtj(c) => c.nominal.params().numeric_values(),
        }
    }
}

/// Error of a flat-family card before file and line are attached.
#[derive(Debug)]
pub(crate) enum FlatError {
    /// TOML syntax or type error, or an unknown key (carries a span).
    Toml(toml::de::Error),
    /// `validate()` message: "parameter `key` = value: requirement".
    Invalid(String),
}
