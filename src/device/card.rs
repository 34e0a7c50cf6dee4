//! Model cards: one declaration per parameter (`params!`, for every family), TOML loading,
//! netlist `.model` parameters, and device-to-device (D2D) sampling.
//!
//! A card file looks like
//!
//! ```toml
//! family = "oxram"
//! source = "Guan, Yu, Wong, IEEE EDL 33(10) 2012; Stanford-PKU v1.0.0"
//! [params]
//! i0 = 1e-3
//! [variability.d2d]
//! g0 = { rel = 0.05 }      # spread of a [params] key: lognormal, median = nominal
//! g_ini = { abs = 0.02e-9 } # normal, clipped into the declared range
//! # nu_sigma = 0.045       # (pcm) a named D2D coefficient, used by the family's own sampling
//! [variability.c2c]
//! dg0 = 0.02               # family-specific cycle-to-cycle / noise coefficients
//! ```
//!
//! Every key is checked against the family's parameter table (`ParamSpec`: name, symbol,
//! unit, default, range, section, meaning): unknown keys, keys in the wrong section, values
//! outside the declared range and missing required keys give a [`CardError`] naming file, line
//! and key; only relations between parameters are checked by hand (the family's `check`). The
//! old flat layout of the pcm, pcm_stat and mtj cards (parameters at top level, coefficients in
//! a plain `[variability]` table) is converted on reading, and a key that moved section
//! (`family_params!(…, moved: [key: OldKind])`, e.g. pcm_stat `drift_scale`, once in
//! `[variability.c2c]`) still reads in its old section.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Deserialize;
use toml::Spanned;

/// Allowed values of one parameter (always finite).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Range {
    /// `0 < x <= max`.
    Positive { max: f64 },
    /// `min <= x <= max`.
    Closed { min: f64, max: f64 },
    /// `min < x < max`.
    Open { min: f64, max: f64 },
    /// `min <= x < max`.
    ClosedOpen { min: f64, max: f64 },
}

pub const fn pos(max: f64) -> Range {
    Range::Positive { max }
}
pub const fn closed(min: f64, max: f64) -> Range {
    Range::Closed { min, max }
}
pub const fn open(min: f64, max: f64) -> Range {
    Range::Open { min, max }
}
pub const fn closed_open(min: f64, max: f64) -> Range {
    Range::ClosedOpen { min, max }
}
/// Any finite value.
pub const ANY: Range = Range::Closed {
    min: f64::NEG_INFINITY,
    max: f64::INFINITY,
};
/// Any finite value `>= 0`.
pub const NON_NEG: Range = Range::Closed {
    min: 0.0,
    max: f64::INFINITY,
};
/// Any finite value `> 0`.
pub const POS: Range = Range::Positive { max: f64::INFINITY };

impl Range {
    pub fn contains(&self, x: f64) -> bool {
        match *self {
            Range::Positive { max } => x > 0.0 && x <= max,
            Range::Closed { min, max } => x >= min && x <= max,
            Range::Open { min, max } => x > min && x < max,
            Range::ClosedOpen { min, max } => x >= min && x < max,
        }
    }
    /// Values are strictly positive, so a relative D2D sigma is lognormal.
    pub fn is_positive(&self) -> bool {
        match *self {
            Range::Positive { .. } => true,
            Range::Closed { min, .. } | Range::ClosedOpen { min, .. } => min > 0.0,
            Range::Open { min, .. } => min >= 0.0,
        }
    }
    /// Lower and upper bound (open or closed).
    pub fn bounds(&self) -> (f64, f64) {
        match *self {
            Range::Positive { max } => (0.0, max),
            Range::Closed { min, max }
            | Range::Open { min, max }
            | Range::ClosedOpen { min, max } => (min, max),
        }
    }
    fn clamp(&self, x: f64) -> f64 {
        match *self {
            Range::Positive { max } => x.clamp(f64::MIN_POSITIVE, max),
            Range::Closed { min, max } => x.clamp(min, max),
            Range::Open { min, max } => x.clamp(min.next_up(), max.next_down()),
            Range::ClosedOpen { min, max } => x.clamp(min, max.next_down()),
        }
    }
    pub fn describe(&self) -> String {
        let (min, max) = self.bounds();
        if min == f64::NEG_INFINITY && max == f64::INFINITY {
            return "any finite value".into();
        }
        let b = |x: f64| {
            if x.is_infinite() {
                format!("{}inf", if x < 0.0 { "-" } else { "" })
            } else {
                format!("{x:e}")
            }
        };
        // An infinite bound is never reached (values are finite): an open bracket.
        let hi = |closed: bool| if closed && max.is_finite() { "]" } else { ")" };
        let lo = |closed: bool| if closed && min.is_finite() { "[" } else { "(" };
        match *self {
            Range::Positive { .. } => format!("(0, {}{}", b(max), hi(true)),
            Range::Closed { .. } => format!("{}{}, {}{}", lo(true), b(min), b(max), hi(true)),
            Range::Open { .. } => format!("({}, {})", b(min), b(max)),
            Range::ClosedOpen { .. } => format!("{}{}, {})", lo(true), b(min), b(max)),
        }
    }
}

/// Where a parameter lives in a card and what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Physical parameter (`[params]`); may carry a generic D2D spread
    /// (`[variability.d2d] key = { rel | abs }`).
    P,
    /// Named device-to-device coefficient (`[variability.d2d] key = number`), used by the
    /// family's own sampling (e.g. a common factor of two thresholds).
    D2d,
    /// Cycle-to-cycle / read-noise / statistical coefficient (`[variability.c2c]`).
    C2c,
}

impl Kind {
    /// Card section of this kind.
    pub fn section(self) -> &'static str {
        match self {
            Kind::P => "params",
            Kind::D2d => "variability.d2d",
            Kind::C2c => "variability.c2c",
        }
    }
}

/// One parameter: name (the card / netlist key), SI unit, default (`None` = required), range,
/// section and meaning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: &'static str,
    /// Symbol in the source paper (README tables).
    pub symbol: &'static str,
    pub unit: &'static str,
    /// Value when the key is omitted (`None`: it must be given).
    pub default: Option<f64>,
    /// A card file must give the key (always so without a default; a key declared
    /// `#[required]` with a default must be in a card, while a `.model` line may omit it).
    pub required: bool,
    pub range: Range,
    pub kind: Kind,
    pub doc: &'static str,
}

/// Per-parameter D2D spread.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sigma {
    /// Relative sigma: lognormal factor `exp(σ·N)` for positive parameters, `1 + σ·N` otherwise.
    Rel(f64),
    /// Absolute sigma in the parameter's unit: `x + σ·N`, clipped into the range.
    Abs(f64),
}

/// D2D spread of a card, shared (cheaply, by `Arc`) by every cell sampled from it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct D2dSpec(pub Arc<[(usize, Sigma)]>);

impl D2dSpec {
    pub fn none() -> Self {
        D2dSpec(Arc::from(Vec::new()))
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A validated parameter set of one family, generated by `params!`.
pub trait FamilyParams: Clone + std::fmt::Debug + Sized {
    /// Family key as in cards and `.model` lines.
    const FAMILY: &'static str;
    const SPECS: &'static [ParamSpec];
    /// Build from values in `SPECS` order (length checked by the caller).
    fn from_values(v: &[f64], d2d: D2dSpec) -> Self;
    fn values(&self) -> Vec<f64>;
    fn d2d(&self) -> &D2dSpec;
    /// Relations between parameters; `Err((key, message))`.
    fn check(&self) -> Result<(), (&'static str, String)>;
    /// Keys an earlier release declared in another card section (see [`Moved`]).
    const MOVED: &'static [Moved] = &[];
}

/// A key that an earlier release declared in another card section. Cards written then still
/// read: the key is accepted in its old section too and gives the same parameter set as in its
/// declared one (a `.model` line's `variability.<section>.` prefix is not checked anyway).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moved {
    pub name: &'static str,
    /// The section it was declared in before.
    pub from: Kind,
}

/// Declares a family's parameter struct and its `SPECS` table in one place: one row per
/// parameter, `name: "symbol", "unit", default, range, Kind, "meaning";`, where the default is
/// `None` (required) or `Some(x)`, and a row marked `#[required]` must be given in a card file
/// although it has a default (the value a `.model` line that omits it gets).
macro_rules! params {
    (
        $(#[$meta:meta])*
        $name:ident, $family:literal {
            $( $(#[$req:ident])? $field:ident : $sym:literal, $unit:literal, $default:expr, $range:expr, $kind:ident, $doc:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $( #[doc = concat!($doc, " [", $unit, "]")] pub $field: f64, )*
            /// D2D spread of the card this device was sampled from.
            pub d2d: $crate::device::card::D2dSpec,
        }
        impl $name {
            pub const SPECS: &'static [$crate::device::card::ParamSpec] = &[
                $( $crate::device::card::ParamSpec {
                    name: stringify!($field), symbol: $sym, unit: $unit, default: $default,
                    required: { let d: Option<f64> = $default; d.is_none() } || !stringify!($($req)?).is_empty(),
                    range: $range, kind: $crate::device::card::Kind::$kind, doc: $doc,
                }, )*
            ];
            #[allow(unused_assignments)]
            fn from_values_impl(v: &[f64], d2d: $crate::device::card::D2dSpec) -> Self {
                let mut i = 0;
                $( let $field = v[i]; i += 1; )*
                $name { $( $field, )* d2d }
            }
            fn values_impl(&self) -> Vec<f64> {
                vec![$( self.$field ),*]
            }
            pub const FAMILY_KEY: &'static str = $family;
        }
    };
}
pub(crate) use params;

/// Implements `FamilyParams` given the family's `check` function (relations between
/// parameters; single-parameter ranges come from the declaration), and the card readers
/// `from_toml_str` / `from_toml_file` / `validate`. An optional `moved: [key: Kind, …]` lists
/// keys an earlier release declared in another section (their old place still reads).
macro_rules! family_params {
    ($name:ident, $check:path) => {
        $crate::device::card::family_params!($name, $check, moved: []);
    };
    ($name:ident, $check:path, moved: [$( $moved:ident : $from:ident ),* $(,)?]) => {
        impl $crate::device::card::FamilyParams for $name {
            const FAMILY: &'static str = $name::FAMILY_KEY;
            const SPECS: &'static [$crate::device::card::ParamSpec] = $name::SPECS;
            const MOVED: &'static [$crate::device::card::Moved] = &[
                $( $crate::device::card::Moved {
                    name: stringify!($moved),
                    from: $crate::device::card::Kind::$from,
                }, )*
            ];
            fn from_values(v: &[f64], d2d: $crate::device::card::D2dSpec) -> Self {
                $name::from_values_impl(v, d2d)
            }
            fn values(&self) -> Vec<f64> {
                self.values_impl()
            }
            fn d2d(&self) -> &$crate::device::card::D2dSpec {
                &self.d2d
            }
            fn check(&self) -> Result<(), (&'static str, String)> {
                $check(self)
            }
        }
        impl $name {
            /// Nominal parameters of a card given as TOML text (either layout); errors name
            /// line and key (file `<card>`).
            pub fn from_toml_str(text: &str) -> Result<Self, $crate::device::card::CardError> {
                $crate::device::card::sectioned_card::<Self>(
                    std::path::Path::new("<card>"),
                    text,
                    String::new(),
                )
                .map(|c| c.nominal)
            }

            /// Nominal parameters of a card file; errors name file, line and key.
            pub fn from_toml_file(
                path: &std::path::Path,
            ) -> Result<Self, $crate::device::card::CardError> {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    $crate::device::card::CardError {
                        file: path.to_path_buf(),
                        line: None,
                        key: String::new(),
                        msg: format!("cannot read card: {e}"),
                    }
                })?;
                $crate::device::card::sectioned_card::<Self>(path, &text, String::new())
                    .map(|c| c.nominal)
            }

            /// Every value in its declared range, and the relations between them.
            pub fn validate(&self) -> Result<(), $crate::device::card::ParamError> {
                $crate::device::card::validate(self)
            }
        }
    };
}
pub(crate) use family_params;

/// Error in a card file or a `.model` parameter list.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{}{}{}: {msg}",
    file.display(),
    line.map(|l| format!(":{l}")).unwrap_or_default(),
    if key.is_empty() { String::new() } else { format!(": key `{key}`") }
)]
pub struct CardError {
    pub file: PathBuf,
    /// 1-based line, where the TOML parser gives a position.
    pub line: Option<usize>,
    pub key: String,
    pub msg: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardFile {
    family: Spanned<String>,
    source: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    params: BTreeMap<String, Spanned<f64>>,
    #[serde(default)]
    variability: Option<VarFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VarFile {
    /// `{ rel | abs }` spreads of `[params]` keys, or numbers for named D2D coefficients.
    #[serde(default)]
    d2d: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    c2c: BTreeMap<String, Spanned<f64>>,
}

/// Card-level description before variability: nominal parameters and the D2D spread.
#[derive(Clone, Debug, PartialEq)]
pub struct Card<P> {
    pub name: String,
    pub source: String,
    /// Nominal (median) device; its `d2d` field carries the spread.
    pub nominal: P,
}

impl<P: FamilyParams> Card<P> {
    /// One device with D2D sampled from `rng` (see [`sample_params`]).
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> P {
        sample_params(&self.nominal, rng)
    }
}

/// Sample a device from the nominal one. Draws one normal per D2D entry in declaration order,
/// so the same seed gives the same device. If the sampled set breaks a relation between
/// parameters (e.g. g_min > g_max), it is redrawn (up to 64 times), then the nominal is kept.
pub fn sample_params<P: FamilyParams>(nominal: &P, rng: &mut ChaCha8Rng) -> P {
    let spec = nominal.d2d().clone();
    if spec.is_empty() {
        return nominal.clone();
    }
    let base = nominal.values();
    for _ in 0..64 {
        let mut v = base.clone();
        for &(i, sigma) in spec.0.iter() {
            let n: f64 = rng.sample(StandardNormal);
            let range = P::SPECS[i].range;
            v[i] = match sigma {
                Sigma::Rel(s) if range.is_positive() => v[i] * (s * n).exp(),
                Sigma::Rel(s) => v[i] * (1.0 + s * n),
                Sigma::Abs(s) => v[i] + s * n,
            };
            v[i] = range.clamp(v[i]);
        }
        let p = P::from_values(&v, spec.clone());
        if p.check().is_ok() {
            return p;
        }
    }
    nominal.clone()
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Key named in a serde/toml message such as "unknown field `foo`, expected ...".
fn key_in_message(msg: &str) -> String {
    let mut it = msg.split('`');
    it.next();
    it.next().unwrap_or("").to_string()
}

/// The key a TOML error is about: named in its message, or else (a value of the wrong type)
/// the `key = value` on the line the error points at.
fn toml_error_key(e: &toml::de::Error, text: &str) -> String {
    let key = key_in_message(e.message());
    if !key.is_empty() {
        return key;
    }
    let Some(span) = e.span() else {
        return key;
    };
    let line_start = text[..span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    match line.split_once('=') {
        Some((k, _)) if !k.trim().is_empty() && !k.contains('[') => k.trim().to_string(),
        _ => key,
    }
}

/// Where a parameter list comes from: a card file (every `required` key must be given) or a
/// `.model` line (a key with a default may be omitted; sections are not checked).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Card,
    Model,
}

/// Resolve `(key, value, line, section)` entries into a validated parameter set. Order of
/// checks: unknown key, section, range (each with its line), then the relations between
/// parameters (`check`, with the defaults filled in), then completeness of a card.
fn resolve<P: FamilyParams>(
    file: &Path,
    params: &[(String, f64, Option<usize>, Kind)],
    d2d: &[(String, Sigma, Option<usize>)],
    source: Source,
) -> Result<P, CardError> {
    let err = |key: &str, line: Option<usize>, msg: String| CardError {
        file: file.to_path_buf(),
        line,
        key: key.to_string(),
        msg,
    };
    let mut vals: Vec<Option<f64>> = P::SPECS.iter().map(|s| s.default).collect();
    let mut given = vec![false; P::SPECS.len()];
    let mut lines: Vec<Option<usize>> = vec![None; P::SPECS.len()];
    for (key, value, line, kind) in params {
        let Some(i) = P::SPECS.iter().position(|s| s.name == key) else {
            let known: Vec<&str> = P::SPECS.iter().map(|s| s.name).collect();
            return Err(err(
                key,
                *line,
                format!(
                    "unknown {} parameter; known: {}",
                    P::FAMILY,
                    known.join(", ")
                ),
            ));
        };
        let spec = &P::SPECS[i];
        let moved_from_here = P::MOVED
            .iter()
            .any(|m| m.name == spec.name && m.from == *kind);
        if source == Source::Card && spec.kind != *kind && !moved_from_here {
            return Err(err(
                key,
                *line,
                format!("belongs in [{}]", spec.kind.section()),
            ));
        }
        if !value.is_finite() || !spec.range.contains(*value) {
            return Err(err(
                key,
                *line,
                format!(
                    "value {value:e} {} out of range {}",
                    spec.unit,
                    spec.range.describe()
                ),
            ));
        }
        // In a card, only a key that also reads in its old section can come twice (a `.model`
        // line keeps its last value, as before).
        if source == Source::Card && given[i] {
            let first = lines[i]
                .map(|l| format!(" (first at line {l})"))
                .unwrap_or_default();
            return Err(err(key, *line, format!("given twice{first}")));
        }
        vals[i] = Some(*value);
        given[i] = true;
        lines[i] = *line;
    }
    let missing = |spec: &ParamSpec| {
        err(
            spec.name,
            None,
            format!("missing required parameter ({}, {})", spec.unit, spec.doc),
        )
    };
    let mut v = Vec::with_capacity(vals.len());
    for (spec, x) in P::SPECS.iter().zip(&vals) {
        match x {
            Some(x) => v.push(*x),
            None => return Err(missing(spec)),
        }
    }
    let mut spread = Vec::new();
    for (key, sigma, line) in d2d {
        let Some(i) = P::SPECS
            .iter()
            .position(|s| s.name == key && s.kind == Kind::P)
        else {
            return Err(err(
                key,
                *line,
                format!("unknown {} parameter in [variability.d2d]", P::FAMILY),
            ));
        };
        let s = match sigma {
            Sigma::Rel(s) | Sigma::Abs(s) => *s,
        };
        if !(s.is_finite() && s >= 0.0) {
            return Err(err(
                key,
                *line,
                format!("sigma {s:e} must be finite and >= 0"),
            ));
        }
        spread.push((i, *sigma));
    }
    let p = P::from_values(&v, D2dSpec(Arc::from(spread)));
    p.check().map_err(|(key, msg)| {
        let line = P::SPECS
            .iter()
            .position(|s| s.name == key)
            .and_then(|i| lines[i]);
        err(key, line, msg)
    })?;
    // A card must give every required key: defaults are for `.model` lines and optional knobs
    // (a card without `tmr0` is an error, not an MTJ with the default TMR).
    if source == Source::Card {
        if let Some(spec) = P::SPECS
            .iter()
            .zip(&given)
            .find(|(s, g)| s.required && !**g)
        {
            return Err(missing(spec.0));
        }
    }
    Ok(p)
}

/// Every value of `p` in its declared range, and the relations between them (for parameter
/// sets built in code; cards and `.model` lines are checked as they are read).
pub fn validate<P: FamilyParams>(p: &P) -> Result<(), ParamError> {
    for (spec, x) in P::SPECS.iter().zip(p.values()) {
        if !x.is_finite() || !spec.range.contains(x) {
            return Err(ParamError {
                key: spec.name.to_string(),
                msg: format!(
                    "{x:e}: {} out of range {}",
                    spec.unit,
                    spec.range.describe()
                ),
            });
        }
    }
    p.check().map_err(|(key, msg)| ParamError {
        key: key.to_string(),
        msg,
    })
}

/// The family's declared defaults as a parameter set (no D2D spread); `None` if a parameter
/// has no default.
pub fn defaults<P: FamilyParams>() -> Option<P> {
    let v: Option<Vec<f64>> = P::SPECS.iter().map(|s| s.default).collect();
    Some(P::from_values(&v?, D2dSpec::none()))
}

#[derive(Deserialize)]
struct FamilyPeek {
    family: Option<Spanned<String>>,
}

/// 1-based line where `key` is assigned in `text` (for errors in a card whose layout was
/// converted, where the TOML parser's positions point into the converted text).
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// A parameter that failed validation: its key and what is wrong (typed, so callers point at
/// the key without parsing a message).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("parameter `{key}` = {msg}")]
pub struct ParamError {
    pub key: String,
    /// `"<value>: <requirement>"`.
    pub msg: String,
}

impl From<ParamError> for String {
    fn from(e: ParamError) -> String {
        e.to_string()
    }
}

/// Top-level keys of a card that are not parameters.
const CARD_META: [&str; 5] = ["family", "source", "name", "notes", "params"];

/// A card in the old flat layout (parameters at top level, named coefficients in a plain
/// `[variability]` table) rewritten in the one layout (`[params]`, `[variability.d2d]`,
/// `[variability.c2c]`), each coefficient in the section its declaration names. `None` when
/// there is nothing to convert (the card is in the one layout, or is not valid TOML: the
/// parser then reports the syntax error with its position).
fn convert_old_layout(text: &str, specs: &[ParamSpec]) -> Result<Option<String>, (String, String)> {
    let Ok(mut t) = text.parse::<toml::Table>() else {
        return Ok(None);
    };
    let stray: Vec<String> = t
        .keys()
        .filter(|k| !CARD_META.contains(&k.as_str()) && k.as_str() != "variability")
        .cloned()
        .collect();
    let flat_var: Vec<String> = match t.get("variability").and_then(|v| v.as_table()) {
        Some(v) => v
            .iter()
            .filter(|(k, val)| !(matches!(k.as_str(), "d2d" | "c2c") && val.is_table()))
            .map(|(k, _)| k.clone())
            .collect(),
        None => Vec::new(),
    };
    if stray.is_empty() && flat_var.is_empty() {
        return Ok(None);
    }
    fn put(
        t: &mut toml::Table,
        path: &[&str],
        k: String,
        v: toml::Value,
    ) -> Result<(), (String, String)> {
        let mut cur = t;
        for name in path {
            cur = cur
                .entry(name.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| (name.to_string(), format!("`{name}` must be a table")))?;
        }
        if cur.insert(k.clone(), v).is_some() {
            return Err((k, "given twice (at top level and in its section)".into()));
        }
        Ok(())
    }
    for k in stray {
        let v = t.remove(&k).expect("listed above");
        put(&mut t, &["params"], k, v)?;
    }
    // The old layout made `source` optional.
    t.entry("source")
        .or_insert_with(|| toml::Value::String(String::new()));
    if let Some(var) = t.get_mut("variability").and_then(|v| v.as_table_mut()) {
        let rest: Vec<(String, toml::Value)> = flat_var
            .into_iter()
            .map(|k| {
                let v = var.remove(&k).expect("listed above");
                (k, v)
            })
            .collect();
        for (k, v) in rest {
            // Into the section the declaration names; an unknown key goes to c2c, where it is
            // reported as unknown.
            let path: &[&str] = match specs.iter().find(|s| s.name == k).map(|s| s.kind) {
                Some(Kind::D2d) => &["variability", "d2d"],
                Some(Kind::P) => &["params"],
                _ => &["variability", "c2c"],
            };
            put(&mut t, path, k, v)?;
        }
    }
    Ok(Some(toml::to_string(&t).expect("a TOML table serialises")))
}

/// A family's card from text: `[params]`, `[variability.d2d]` (`{ rel | abs }` spreads of
/// `[params]` keys, numbers for named D2D coefficients), `[variability.c2c]`. The old flat
/// layout of the pcm, pcm_stat and mtj cards is read too.
pub(crate) fn sectioned_card<P: FamilyParams>(
    file: &Path,
    text: &str,
    default_name: String,
) -> Result<Card<P>, CardError> {
    let converted = convert_old_layout(text, P::SPECS).map_err(|(key, msg)| CardError {
        file: file.to_path_buf(),
        line: line_of_key(text, &key),
        key,
        msg,
    })?;
    let parsed = converted.as_deref().unwrap_or(text);
    // Lines point into the text as written: where the layout was converted, locate the key.
    let ln = |s: &std::ops::Range<usize>, key: &str| match converted {
        Some(_) => line_of_key(text, key),
        None => Some(line_of(text, s.start)),
    };
    let card: CardFile = toml::from_str(parsed).map_err(|e| {
        let key = toml_error_key(&e, parsed);
        CardError {
            file: file.to_path_buf(),
            line: match converted {
                Some(_) => line_of_key(text, &key),
                None => e.span().map(|s| line_of(text, s.start)),
            },
            key,
            msg: e.message().trim().to_string(),
        }
    })?;
    if card.family.get_ref() != P::FAMILY {
        return Err(CardError {
            file: file.to_path_buf(),
            line: ln(&card.family.span(), "family"),
            key: "family".into(),
            msg: format!("\"{}\": expected \"{}\"", card.family.get_ref(), P::FAMILY),
        });
    }
    let mut params: Vec<(String, f64, Option<usize>, Kind)> = card
        .params
        .iter()
        .map(|(k, v)| (k.clone(), *v.get_ref(), ln(&v.span(), k), Kind::P))
        .collect();
    let mut d2d = Vec::new();
    if let Some(var) = &card.variability {
        for (k, v) in &var.c2c {
            params.push((k.clone(), *v.get_ref(), ln(&v.span(), k), Kind::C2c));
        }
        for (k, v) in &var.d2d {
            let line = ln(&v.span(), k);
            let bad = |msg: &str| CardError {
                file: file.to_path_buf(),
                line,
                key: k.clone(),
                msg: msg.into(),
            };
            match v.get_ref() {
                toml::Value::Float(x) => params.push((k.clone(), *x, line, Kind::D2d)),
                toml::Value::Integer(x) => params.push((k.clone(), *x as f64, line, Kind::D2d)),
                toml::Value::Table(t) => {
                    let num = |name: &str| match t.get(name) {
                        None => Ok(None),
                        Some(toml::Value::Float(x)) => Ok(Some(*x)),
                        Some(toml::Value::Integer(x)) => Ok(Some(*x as f64)),
                        Some(_) => Err(bad(&format!("`{name}` must be a number"))),
                    };
                    if let Some(other) = t.keys().find(|n| *n != "rel" && *n != "abs") {
                        return Err(bad(&format!(
                            "unknown field `{other}`; give exactly one of `rel` or `abs`"
                        )));
                    }
                    let s = match (num("rel")?, num("abs")?) {
                        (Some(r), None) => Sigma::Rel(r),
                        (None, Some(a)) => Sigma::Abs(a),
                        _ => return Err(bad("give exactly one of `rel` or `abs`")),
                    };
                    d2d.push((k.clone(), s, line));
                }
                _ => {
                    return Err(bad(
                        "a D2D entry is `{ rel = … }` / `{ abs = … }` for a [params] key, or a number for a named D2D coefficient",
                    ))
                }
            }
        }
    }
    let _ = &card.notes;
    let name = card.name.clone().unwrap_or(default_name);
    Ok(Card {
        name,
        source: card.source.clone(),
        nominal: resolve::<P>(file, &params, &d2d, Source::Card)?,
    })
}

/// A family's model from `.model` keys (every section's keys, bare or as
/// `variability.<key>`; no D2D spread).
pub(crate) fn sectioned_card_from_params<P: FamilyParams>(
    kv: &[(String, f64)],
) -> Result<Card<P>, CardError> {
    let params: Vec<_> = kv
        .iter()
        .map(|(k, v)| {
            let key = bare_key(&k.to_ascii_lowercase()).to_string();
            let kind = P::SPECS
                .iter()
                .find(|s| s.name == key)
                .map_or(Kind::P, |s| s.kind);
            (key, *v, None, kind)
        })
        .collect();
    Ok(Card {
        name: String::new(),
        source: "netlist .model".into(),
        nominal: resolve::<P>(Path::new(".model"), &params, &[], Source::Model)?,
    })
}

/// `key` without a `variability.`, `variability.d2d.` or `variability.c2c.` prefix.
fn bare_key(key: &str) -> &str {
    let k = key.strip_prefix("variability.").unwrap_or(key);
    k.strip_prefix("d2d.")
        .or_else(|| k.strip_prefix("c2c."))
        .unwrap_or(k)
}

/// A family's documented parameters.
pub(crate) fn sectioned_docs<P: FamilyParams>() -> Vec<ParamDoc> {
    P::SPECS
        .iter()
        .map(|p| ParamDoc {
            key: format!("{}.{}", p.kind.section(), p.name),
            symbol: p.symbol,
            unit: p.unit,
            // A key a card must give shows as required (a `.model` line may still omit
            // one that has a default).
            default: if p.required { None } else { p.default },
            meaning: format!(
                "{}; allowed {}",
                p.doc.trim_end_matches('.'),
                p.range.describe()
            ),
        })
        .collect()
}

/// Section of a family's key (bare or `variability.<key>`).
pub(crate) fn sectioned_section<P: FamilyParams>(key: &str) -> &'static str {
    let key = bare_key(key);
    P::SPECS
        .iter()
        .find(|s| s.name == key)
        .map_or("params", |s| s.kind.section())
}

/// Parse a card from TOML text; `file` is used in error messages only. The family's registry
/// entry reads the rest (see [`super::Model::card_from_toml`]).
pub fn parse_card(file: &Path, text: &str) -> Result<super::Model, CardError> {
    let peek: FamilyPeek = toml::from_str(text).map_err(|e| CardError {
        file: file.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        key: toml_error_key(&e, text),
        msg: e.message().trim().to_string(),
    })?;
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(family) = peek.family else {
        return Err(CardError {
            file: file.to_path_buf(),
            line: None,
            key: "family".into(),
            msg: format!("missing `family`; known: {}", super::FAMILIES.join(", ")),
        });
    };
    super::Model::card_from_toml(family.get_ref(), file, text, stem).unwrap_or_else(|| {
        Err(CardError {
            file: file.to_path_buf(),
            line: Some(line_of(text, family.span().start)),
            key: "family".into(),
            msg: format!(
                "unknown family `{}`; known: {}",
                family.get_ref(),
                super::FAMILIES.join(", ")
            ),
        })
    })
}

/// Load a card file.
pub fn load_card(path: &Path) -> Result<super::Model, CardError> {
    let text = std::fs::read_to_string(path).map_err(|e| CardError {
        file: path.to_path_buf(),
        line: None,
        key: String::new(),
        msg: format!("cannot read card: {e}"),
    })?;
    parse_card(path, &text)
}

/// Model from a netlist `.model NAME family (key=value ...)` with a typed error: `key` names
/// the offending parameter (empty for an unknown family), `file` is `.model`.
pub fn model_from_params_typed(
    family: &str,
    kv: &[(String, f64)],
) -> Result<super::Model, CardError> {
    let fam = family.to_ascii_lowercase();
    super::Model::card_from_params(&fam, kv).unwrap_or_else(|| {
        Err(CardError {
            file: PathBuf::from(".model"),
            line: None,
            key: String::new(),
            msg: format!(
                "unknown device family `{fam}`; known: {}",
                super::FAMILIES.join(", ")
            ),
        })
    })
}

/// Model from a netlist `.model NAME family (key=value ...)`: the same keys as a card, all in
/// one flat list (variability keys bare or as `variability.<key>`; a key with a declared default
/// may be omitted); no D2D spread. The message names the key; use
/// [`model_from_params_typed`] for the key as data.
pub fn model_from_params(family: &str, kv: &[(String, f64)]) -> Result<super::Model, String> {
    model_from_params_typed(family, kv).map_err(|e| {
        if e.key.is_empty() {
            e.msg
        } else {
            format!(
                "{}: parameter `{}`: {}",
                family.to_ascii_lowercase(),
                e.key,
                e.msg
            )
        }
    })
}

/// One documented parameter of any family (for README tables and `--help` text).
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDoc {
    /// Card key as written in a TOML card (dotted path for variability keys, e.g.
    /// `variability.c2c.dg0` or `variability.nu_sigma`) and, for `[params]` keys and flat
    /// families, in a netlist `.model` line.
    pub key: String,
    pub symbol: &'static str,
    pub unit: &'static str,
    /// `None` = required.
    pub default: Option<f64>,
    pub meaning: String,
}

/// Every parameter of `family` (any family in [`super::FAMILIES`]), from the same declarations
/// that drive validation. `None` for an unknown family.
pub fn family_param_docs(family: &str) -> Option<Vec<ParamDoc>> {
    super::Model::param_docs(family)
}

/// Markdown table `parameter | symbol | unit | default | meaning` of a family's parameters
/// (for the README), from the same declarations that drive validation. `None` for an unknown
/// family.
pub fn param_table_markdown(family: &str) -> Option<String> {
    let rows = family_param_docs(family)?;
    let mut s =
        String::from("| parameter | symbol | unit | default | meaning |\n|---|---|---|---|---|\n");
    for p in rows {
        let default = p
            .default
            .map_or("required".to_string(), |d| format!("{d:e}"));
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            p.key,
            p.symbol,
            p.unit,
            default,
            p.meaning.replace('|', "\\|")
        ));
    }
    Some(s)
}

/// `limexp`-style sinh: exact up to |x| = 80, then continued linearly (value and slope match at
/// the join), so rates never overflow (device-physics.md §11.1). Returns (sinh, d sinh/dx).
#[inline]
pub fn sinh_lim(x: f64) -> (f64, f64) {
    const X_MAX: f64 = 80.0;
    if x.abs() <= X_MAX {
        (x.sinh(), x.cosh())
    } else {
        let c = X_MAX.cosh();
        (x.signum() * (X_MAX.sinh() + c * (x.abs() - X_MAX)), c)
    }
}

/// `limexp`: exp(x) up to x = 80, then linear.
#[inline]
pub fn exp_lim(x: f64) -> (f64, f64) {
    const X_MAX: f64 = 80.0;
    if x <= X_MAX {
        let e = x.exp();
        (e, e)
    } else {
        let e = X_MAX.exp();
        (e * (1.0 + x - X_MAX), e)
    }
}

/// The card plumbing of a [`crate::device::model::Family`]: card loading, `.model` keys,
/// values, docs, validation table and sections, all from the family's one `params!`
/// declaration. Used inside the family's `impl Family for …` block. `()`: the family type is
/// the `params!` struct itself; `($params, $build)`: the family type is built from a `params!`
/// struct by `$build(params) -> Result<Self, ParamError>` and exposes it as `self.params()`.
macro_rules! sectioned_card_plumbing {
    () => {
        fn card_from_toml(
            file: &std::path::Path,
            text: &str,
            name: String,
        ) -> Result<$crate::device::card::Card<Self>, $crate::device::card::CardError> {
            $crate::device::card::sectioned_card(file, text, name)
        }

        fn card_from_params(
            kv: &[(String, f64)],
        ) -> Result<$crate::device::card::Card<Self>, $crate::device::card::CardError> {
            $crate::device::card::sectioned_card_from_params(kv)
        }

        fn param_values(&self) -> Vec<(&'static str, f64)> {
            use $crate::device::card::FamilyParams;
            Self::SPECS
                .iter()
                .map(|s| s.name)
                .zip(self.values())
                .collect()
        }

        $crate::device::card::sectioned_card_plumbing!(@common Self);
    };
    ($params:ty, $build:path) => {
        fn card_from_toml(
            file: &std::path::Path,
            text: &str,
            name: String,
        ) -> Result<$crate::device::card::Card<Self>, $crate::device::card::CardError> {
            let c = $crate::device::card::sectioned_card::<$params>(file, text, name)?;
            $crate::device::card::build_card(c, file, $build)
        }

        fn card_from_params(
            kv: &[(String, f64)],
        ) -> Result<$crate::device::card::Card<Self>, $crate::device::card::CardError> {
            let c = $crate::device::card::sectioned_card_from_params::<$params>(kv)?;
            $crate::device::card::build_card(c, std::path::Path::new(".model"), $build)
        }

        fn param_values(&self) -> Vec<(&'static str, f64)> {
            use $crate::device::card::FamilyParams;
            <$params>::SPECS
                .iter()
                .map(|s| s.name)
                .zip(self.params().values())
                .collect()
        }

        $crate::device::card::sectioned_card_plumbing!(@common $params);
    };
    (@common $params:ty) => {
        fn param_docs() -> Vec<$crate::device::card::ParamDoc> {
            $crate::device::card::sectioned_docs::<$params>()
        }

        fn specs() -> Option<&'static [$crate::device::card::ParamSpec]> {
            Some(<$params>::SPECS)
        }

        fn section_of(key: &str) -> &'static str {
            $crate::device::card::sectioned_section::<$params>(key)
        }
    };
}
pub(crate) use sectioned_card_plumbing;

/// A card of parameters turned into a card of the family's model by `build` (which validated
/// parameters pass; an error still names its key).
pub fn build_card<P, M>(
    c: Card<P>,
    file: &Path,
    build: impl Fn(P) -> Result<M, ParamError>,
) -> Result<Card<M>, CardError> {
    Ok(Card {
        name: c.name,
        source: c.source,
        nominal: build(c.nominal).map_err(|e| CardError {
            file: file.to_path_buf(),
            line: None,
            key: e.key,
            msg: e.msg,
        })?,
    })
}
