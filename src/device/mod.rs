//! Compact models of memristive devices.
//!
//! - [`Model`]: a card-level description (nominal parameters + D2D spread) of one family,
//!   loaded from a TOML card ([`load_card`]) or a netlist `.model` line ([`model_from_params`]).
//! - [`Cell`]: one device instance (sampled parameters + state); dispatch is a `match`, so a loop
//!   over many cells has no dynamic dispatch and no allocation.
//!
//! Sign convention: `v` is the voltage from the positive (top) to the negative (bottom) terminal;
//! positive `v` is SET (conductance up) for every family here.

pub mod card;
pub mod cbram;
pub mod fgate;
pub mod model;
pub mod oxram;

use std::path::Path;

use rand_chacha::ChaCha8Rng;

pub use card::{
    load_card, model_from_params, param_table_markdown, parse_card, Card, CardError, ParamSpec,
};
pub use model::CompactModel;

use card::{build_family, FamilyParams, Kind, Sigma};

/// Family keys understood by cards and `.model` lines.
pub const FAMILIES: &[&str] = &["oxram", "cbram", "fgate"];
// TODO(device-b): add "pcm", "pcmstat", "mram".

/// Parameter table of a family.
pub fn family_specs(family: &str) -> Option<&'static [ParamSpec]> {
    match family {
        "oxram" => Some(oxram::Params::SPECS),
        "cbram" => Some(cbram::Params::SPECS),
        "fgate" => Some(fgate::Params::SPECS),
        // TODO(device-b): "pcm" | "pcmstat" | "mram"
        _ => None,
    }
}

/// One device instance: its (D2D-sampled) parameters and its state.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    OxRam { p: oxram::Params, s: oxram::State },
    Cbram { p: cbram::Params, s: cbram::State },
    FloatingGate { p: fgate::Params, s: fgate::State },
    // TODO(device-b): Pcm { p: pcm::Params, s: pcm::State },
    // TODO(device-b): PcmStat { p: pcm::StatParams, s: pcm::StatState },
    // TODO(device-b): Mtj { p: mram::Params, s: mram::State },
}

macro_rules! each_cell {
    ($self:expr, $p:ident, $s:ident => $body:expr) => {
        match $self {
            Cell::OxRam { p: $p, s: $s } => $body,
            Cell::Cbram { p: $p, s: $s } => $body,
            Cell::FloatingGate { p: $p, s: $s } => $body,
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

    /// Family key ("oxram", "cbram", "fgate", ...).
    pub fn family(&self) -> &'static str {
        match self {
            Cell::OxRam { .. } => oxram::Params::FAMILY,
            Cell::Cbram { .. } => cbram::Params::FAMILY,
            Cell::FloatingGate { .. } => fgate::Params::FAMILY,
        }
    }

    /// State variables for CSV output: (name with unit suffix, value in SI).
    pub fn state_vars(&self) -> Vec<(&'static str, f64)> {
        match self {
            Cell::OxRam { s, .. } => vec![("gap_m", s.gap)],
            Cell::Cbram { s, .. } => vec![("height_m", s.h), ("radius_m", s.r)],
            Cell::FloatingGate { p, s } => {
                vec![("q_fg_c", s.q), ("vth_cg_v", p.vth_cg(s))]
            }
        }
    }

    /// Put the state back to the card's initial state.
    pub fn reset_state(&mut self) {
        each_cell!(self, p, s => *s = p.initial_state())
    }
}

/// Card-level parameters of one family, before device-to-device variability.
#[derive(Clone, Debug, PartialEq)]
pub enum Model {
    OxRam(Card<oxram::Params>),
    Cbram(Card<cbram::Params>),
    FloatingGate(Card<fgate::Params>),
    // TODO(device-b): Pcm(Card<pcm::Params>), PcmStat(Card<pcm::StatParams>), Mtj(Card<mram::Params>),
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
        }
    }

    pub fn family(&self) -> &'static str {
        match self {
            Model::OxRam(_) => oxram::Params::FAMILY,
            Model::Cbram(_) => cbram::Params::FAMILY,
            Model::FloatingGate(_) => fgate::Params::FAMILY,
        }
    }

    /// Card name (file stem unless the card sets `name`).
    pub fn name(&self) -> &str {
        match self {
            Model::OxRam(c) => &c.name,
            Model::Cbram(c) => &c.name,
            Model::FloatingGate(c) => &c.name,
        }
    }

    /// Published source the card cites.
    pub fn source(&self) -> &str {
        match self {
            Model::OxRam(c) => &c.source,
            Model::Cbram(c) => &c.source,
            Model::FloatingGate(c) => &c.source,
        }
    }

    /// Nominal parameter values (key, SI value) in declaration order, e.g. for writing a
    /// `.model` line that [`model_from_params`] reads back.
    pub fn params(&self) -> Vec<(&'static str, f64)> {
        fn kv<P: FamilyParams>(p: &P) -> Vec<(&'static str, f64)> {
            P::SPECS.iter().map(|s| s.name).zip(p.values()).collect()
        }
        match self {
            Model::OxRam(c) => kv(&c.nominal),
            Model::Cbram(c) => kv(&c.nominal),
            Model::FloatingGate(c) => kv(&c.nominal),
        }
    }
}

pub mod mram;
pub mod pcm;
pub mod pcm_stat;
