//! The `Crossbar` description (plain data) and its TOML form.
//!
//! Given → resolved: the TOML file deserialises into `*Cfg` structs with optional fields
//! (unknown keys rejected); `resolve` applies defaults in one place, checks ranges, reads the
//! weight CSV, samples device-to-device variability and yields a `Crossbar`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::Deserialize;

use super::law::{CellLaw, Mos1};
use super::nonideal::DeviceEffects;
use super::periphery::Converters;
use super::program::{program_read_conductance, read_window};
use super::CrossbarError;
use crate::device::{Cell, Model};

/// Cell topology at each crosspoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum CellKind {
    /// Passive: one resistive cell between word line and bit line.
    #[serde(rename = "0T1R")]
    ZeroT1R,
    /// Two-terminal selector in series with the cell (word line – selector – cell – bit line).
    #[serde(rename = "1S1R")]
    OneS1R,
    /// Cell in series with an access transistor (word line – cell – drain, source – bit line).
    #[serde(rename = "1T1R")]
    OneT1R,
    /// A pair of 1T1R cells on two bit lines per output; the output is I(+) − I(−), so signed
    /// weights map onto the pair.
    #[serde(rename = "2T2R")]
    TwoT2R,
}

impl CellKind {
    pub fn has_transistor(self) -> bool {
        matches!(self, CellKind::OneT1R | CellKind::TwoT2R)
    }
    pub fn name(self) -> &'static str {
        match self {
            CellKind::ZeroT1R => "0T1R",
            CellKind::OneS1R => "1S1R",
            CellKind::OneT1R => "1T1R",
            CellKind::TwoT2R => "2T2R",
        }
    }
}

/// Which ends of every line are connected to the periphery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEnds {
    /// Word lines driven at column 0, bit lines sensed after the last row.
    One,
    /// Word lines driven at both ends, bit lines sensed at both ends (currents summed).
    Both,
}

/// Two-terminal selector law I = i_s·sinh(V/v_s) (1S1R only).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// Current scale (A).
    pub i_s: f64,
    /// Voltage scale (V).
    pub v_s: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DacMode {
    /// One analog level per input: V = code/(2^bits − 1) · v_read.
    Analog,
    /// One read per input bit at 0 or v_read; column results shifted and added after the ADC.
    BitSerial,
}

/// Input digital-to-analog conversion. `bits = 0` means unquantised inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dac {
    pub bits: u32,
    pub mode: DacMode,
}

/// ADC full-scale range choice.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AdcRange {
    /// Fixed full scale (A).
    Fixed(f64),
    /// Largest |column current| of the calibration batch (the batch being converted).
    MaxOfBatch,
    /// This percentile (0–100] of |column current| over the batch; larger values clip.
    Percentile(f64),
}

/// Column analog-to-digital conversion. `bits = 0` means no ADC (ideal readout).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adc {
    pub bits: u32,
    pub range: AdcRange,
}

/// What the array's error is measured against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    /// Σ V_i·G_ij with the mapped (target) read conductances at v_read: every non-ideality
    /// counts as error (today's reference).
    Ideal,
    /// The same cells as read (device effects included) solved with zero wire resistance:
    /// the error is the wires' IR drop alone.
    ZeroWire,
    /// Σ V_i·G_chord,ij with the chord conductances I(v_read)/v_read of the cells as read:
    /// the error is IR drop plus cell (and transistor / selector) nonlinearity.
    Chord,
}

impl Reference {
    pub fn name(self) -> &'static str {
        match self {
            Reference::Ideal => "ideal",
            Reference::ZeroWire => "zero_wire",
            Reference::Chord => "chord",
        }
    }
}

/// A crossbar array as plain data (all SI). Build from TOML with
/// [`Crossbar::from_toml_file`] or directly with [`Crossbar::new`] and field updates.
#[derive(Clone, Debug, PartialEq)]
pub struct Crossbar {
    /// Word lines (inputs).
    pub rows: usize,
    /// Outputs (logical columns). 2T2R uses two bit lines per output.
    pub cols: usize,
    pub cell: CellKind,
    pub law: CellLaw,
    /// Conductance window the weights map onto (S): read conductances I(v_read)/v_read.
    pub g_min: f64,
    pub g_max: f64,
    /// Per-cell conductance parameter (S), row-major `rows × phys_cols()`. For sinh cells it is
    /// the small-signal conductance I0/V0.
    pub g: Vec<f64>,
    pub selector: Option<Selector>,
    pub transistor: Option<Mos1>,
    /// Gate voltage of selected access transistors (V).
    pub v_gate: f64,
    /// Wire resistance per segment between adjacent crosspoints (Ω), word and bit lines.
    pub r_row: f64,
    pub r_col: f64,
    /// Driver output resistance (Ω); 0 = ideal source.
    pub r_driver: f64,
    /// Sense resistance to virtual ground (Ω); 0 = ideal virtual ground.
    pub r_sense: f64,
    pub line_ends: LineEnds,
    /// Full-scale input voltage (V).
    pub v_read: f64,
    /// Duration of one read / MVM pulse for energy accounting (s).
    pub t_read: f64,
    pub dac: Dac,
    pub adc: Adc,
    pub seed: u64,
    /// Device instances for `CellLaw::Card`, row-major `rows × phys_cols()`; empty otherwise.
    pub cells: Vec<Cell>,
    /// The card `cells` were sampled from (`CellLaw::Card` only).
    pub card: Option<Arc<Model>>,
    /// Ambient temperature of the array (K), config key `temperature`: every card cell's
    /// thermal law and thermally activated drift; 300.15 K = 27 °C, ngspice's default.
    pub temp_k: f64,
    /// Device effects between mapping and read (config table `[nonideal]`).
    pub effects: DeviceEffects,
    /// ADC errors and calibration, converter cost models (`[adc]`, `[periphery]`).
    pub converters: Converters,
    /// Reference of the headline error (`[metrics] reference`).
    pub reference: Reference,
    /// Driven control-gate voltage per word line (V) for cells with a control gate (`fgate`):
    /// the word line's gate line drives them ([`Array::set_bias`](super::Array::set_bias)
    /// copies `Bias::gates` here). Empty (the default, every read path): the card's own `v_cg`.
    pub cg: Vec<f64>,
}

/// Salt of the per-cell device-to-device streams, so they differ from the weight stream.
const D2D_SALT: u64 = 0x6372_6f73_7362_6172;

/// Largest |threshold| and |gate voltage| (V) accepted for the access transistor.
pub const MAX_GATE_V: f64 = 100.0;
/// Largest MOS1 transconductance parameter kp (A/V²) and channel-length modulation λ (1/V).
/// Real access devices have kp ~1e-5…1e-3 A/V²; near-ideal switches (kp ~1e3) stay allowed.
pub const MAX_KP: f64 = 1e4;
pub const MAX_LAMBDA: f64 = 10.0;

impl Crossbar {
    /// A linear passive (0T1R) array with all cells at `g_max`, ideal periphery, no wires.
    pub fn new(rows: usize, cols: usize) -> Self {
        Crossbar {
            rows,
            cols,
            cell: CellKind::ZeroT1R,
            law: CellLaw::Linear,
            g_min: 1e-6,
            g_max: 1e-4,
            g: vec![1e-4; rows * cols],
            selector: None,
            transistor: None,
            v_gate: 1.8,
            r_row: 0.0,
            r_col: 0.0,
            r_driver: 0.0,
            r_sense: 0.0,
            line_ends: LineEnds::One,
            v_read: 0.2,
            t_read: 10e-9,
            dac: Dac {
                bits: 0,
                mode: DacMode::Analog,
            },
            adc: Adc {
                bits: 0,
                range: AdcRange::MaxOfBatch,
            },
            seed: 0,
            cells: Vec::new(),
            card: None,
            temp_k: 300.15,
            effects: DeviceEffects::default(),
            converters: Converters::default(),
            reference: Reference::Ideal,
            cg: Vec::new(),
        }
    }

    /// Switches to device-card cells: one instance of `model` per crosspoint, its D2D spread
    /// sampled per cell from ChaCha8(seed) on stream `cell index` (so the draw does not depend on
    /// the order or thread cells are made in), every cell programmed to the present mapped
    /// read conductance `g_read(idx)`.
    pub fn use_card(&mut self, model: Arc<Model>) -> Result<(), CrossbarError> {
        let targets: Vec<f64> = (0..self.g.len()).map(|k| self.g_read(k)).collect();
        let n = self.rows * self.phys_cols();
        self.cells = (0..n)
            .map(|k| {
                let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ D2D_SALT);
                rng.set_stream(k as u64);
                model.instantiate(&mut rng)
            })
            .collect();
        self.card = Some(model);
        self.law = CellLaw::Card;
        if targets.len() == n {
            self.program_all(&targets)?;
        }
        Ok(())
    }

    /// Programs every card cell to its target read conductance (S); `g` becomes the achieved
    /// read conductances.
    fn program_all(&mut self, targets: &[f64]) -> Result<(), CrossbarError> {
        if self.cells.len() != targets.len() {
            return Err(CrossbarError::Input(format!(
                "{} device instances for {} cells (call use_card after changing the size)",
                self.cells.len(),
                targets.len()
            )));
        }
        self.g.resize(targets.len(), 0.0);
        for (k, &t) in targets.iter().enumerate() {
            self.g[k] = program_read_conductance(&mut self.cells[k], t, self.v_read, self.temp_k)?;
        }
        Ok(())
    }

    /// Sets cell `idx` (row-major over physical columns) to read conductance `g_read` (S) at
    /// v_read: card cells are programmed, parametric cells get `g_read / read_factor()`.
    /// Returns the achieved read conductance.
    pub fn set_cell_read_conductance(
        &mut self,
        idx: usize,
        g_read: f64,
    ) -> Result<f64, CrossbarError> {
        if self.law == CellLaw::Card {
            let g =
                program_read_conductance(&mut self.cells[idx], g_read, self.v_read, self.temp_k)?;
            self.g[idx] = g;
            Ok(g)
        } else {
            self.g[idx] = g_read / self.read_factor();
            Ok(g_read)
        }
    }

    /// Current (A) through cell `idx` at bias `v` (V) and dI/dV (S).
    #[inline]
    pub fn cell_iv(&self, idx: usize, v: f64) -> (f64, f64) {
        match self.law {
            CellLaw::Card => self.card_iv(idx, v),
            law => law.eval(self.g[idx], v),
        }
    }

    /// `cell_iv` of a card cell: out of line, so that the closed-form laws inline into the
    /// solvers' loops over the crosspoints.
    #[inline(never)]
    fn card_iv(&self, idx: usize, v: f64) -> (f64, f64) {
        if self.cg.is_empty() {
            self.cells[idx].current(v, self.temp_k)
        } else {
            let vcg = self.cg[idx / self.phys_cols()];
            self.cells[idx].current_gated(v, vcg, self.temp_k)
        }
    }

    /// Bit lines: `cols`, or `2·cols` for 2T2R.
    pub fn phys_cols(&self) -> usize {
        if self.cell == CellKind::TwoT2R {
            2 * self.cols
        } else {
            self.cols
        }
    }

    /// I(v_read)/v_read per unit of the per-cell parameter: 1 for linear cells,
    /// (v0/v_read)·sinh(v_read/v0) for sinh cells.
    pub fn read_factor(&self) -> f64 {
        match self.law {
            CellLaw::Linear | CellLaw::Card => 1.0,
            CellLaw::Sinh { v0 } => v0 / self.v_read * (self.v_read / v0).sinh(),
        }
    }

    /// Read conductance I(v_read)/v_read of cell `idx` (S): what program-and-verify sets
    /// (card cells: the achieved value).
    pub fn g_read(&self, idx: usize) -> f64 {
        self.g[idx] * self.read_factor()
    }

    /// Map weights (row-major `rows × cols`) onto read conductances: w ∈ [0, 1] → g_min +
    /// w·(g_max − g_min) at v_read (the per-cell parameter is that divided by
    /// [`Crossbar::read_factor`]); for 2T2R, w ∈ [−1, 1] goes onto the pair, the positive part on the + bit line and
    /// the negative part on the − bit line, the other cell at g_min.
    pub fn set_weights(&mut self, w: &[f64]) -> Result<(), CrossbarError> {
        if w.len() != self.rows * self.cols {
            return Err(CrossbarError::Input(format!(
                "weights: expected {}×{} = {} values, got {}",
                self.rows,
                self.cols,
                self.rows * self.cols,
                w.len()
            )));
        }
        let signed = self.cell == CellKind::TwoT2R;
        let lo = if signed { -1.0 } else { 0.0 };
        if let Some((k, &x)) = w.iter().enumerate().find(|(_, &x)| !(x >= lo && x <= 1.0)) {
            return Err(CrossbarError::Input(format!(
                "weight ({}, {}) = {x} outside [{lo}, 1]",
                k / self.cols,
                k % self.cols
            )));
        }
        let span = self.g_max - self.g_min;
        let pc = self.phys_cols();
        let f = 1.0 / self.read_factor();
        self.g = vec![0.0; self.rows * pc];
        for i in 0..self.rows {
            for j in 0..self.cols {
                let x = w[i * self.cols + j];
                if signed {
                    self.g[i * pc + 2 * j] = f * (self.g_min + span * x.max(0.0));
                    self.g[i * pc + 2 * j + 1] = f * (self.g_min + span * (-x).max(0.0));
                } else {
                    self.g[i * pc + j] = f * (self.g_min + span * x);
                }
            }
        }
        if self.law == CellLaw::Card {
            let targets = std::mem::take(&mut self.g);
            self.program_all(&targets)?;
        }
        Ok(())
    }

    /// Uniform random weights from `rng` (in [0,1], or [−1,1] for 2T2R), mapped by `set_weights`.
    /// Panics where [`Crossbar::try_random_weights`] fails (card families without a closed-form
    /// program-to-target).
    pub fn random_weights(&mut self, rng: &mut ChaCha8Rng) {
        self.try_random_weights(rng)
            .expect("weights in range by construction");
    }

    /// [`Crossbar::random_weights`], failing where a card family cannot be set to a target read
    /// conductance in closed form (CBRAM, floating gate, MTJ: program those with pulses).
    pub fn try_random_weights(&mut self, rng: &mut ChaCha8Rng) -> Result<(), CrossbarError> {
        let lo = if self.cell == CellKind::TwoT2R {
            -1.0
        } else {
            0.0
        };
        let w: Vec<f64> = (0..self.rows * self.cols)
            .map(|_| rng.random_range(lo..=1.0))
            .collect();
        self.set_weights(&w)
    }

    /// Multiply every cell conductance by a lognormal factor exp(σ·N(0,1)) (device-to-device
    /// variability).
    pub fn apply_d2d(&mut self, sigma: f64, rng: &mut ChaCha8Rng) {
        if sigma <= 0.0 || self.law == CellLaw::Card {
            return;
        }
        let n = Normal::new(0.0, sigma).expect("sigma > 0");
        for g in &mut self.g {
            *g *= n.sample(rng).exp();
        }
    }

    /// Checks that the description is solvable; every problem names the field.
    pub fn validate(&self) -> Result<(), CrossbarError> {
        self.validate_scalars()?;
        if self.g.len() != self.rows * self.phys_cols() {
            return Err(CrossbarError::Config {
                file: "<api>".into(),
                key: "weights".into(),
                msg: format!(
                    "{} conductances for a {}×{} array",
                    self.g.len(),
                    self.rows,
                    self.phys_cols()
                ),
            });
        }
        if self.law == CellLaw::Card && self.cells.len() != self.g.len() {
            return Err(CrossbarError::Config {
                file: "<api>".into(),
                key: "device.card".into(),
                msg: format!(
                    "{} device instances for {} cells (call use_card)",
                    self.cells.len(),
                    self.g.len()
                ),
            });
        }
        if self.g.iter().any(|&g| !(g > 0.0 && g.is_finite())) {
            return Err(CrossbarError::Config {
                file: "<api>".into(),
                key: "device".into(),
                msg: "every cell conductance must be > 0 S".into(),
            });
        }
        Ok(())
    }

    /// Everything `validate` checks except the conductance table.
    fn validate_scalars(&self) -> Result<(), CrossbarError> {
        let bad = |key: &str, msg: String| {
            Err(CrossbarError::Config {
                file: "<api>".into(),
                key: key.into(),
                msg,
            })
        };
        if self.rows == 0 {
            return bad("rows", "must be at least 1".into());
        }
        if self.cols == 0 {
            return bad("cols", "must be at least 1".into());
        }
        for (k, v) in [
            ("wires.r_row", self.r_row),
            ("wires.r_col", self.r_col),
            ("periphery.r_driver", self.r_driver),
            ("periphery.r_sense", self.r_sense),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return bad(k, format!("resistance must be finite and ≥ 0 Ω, got {v}"));
            }
        }
        if self.law == CellLaw::Card && self.card.is_none() {
            return bad(
                "device.card",
                "CellLaw::Card needs a card (use_card)".into(),
            );
        }
        if let CellLaw::Sinh { v0 } = self.law {
            if !(v0 > 0.0) {
                return bad("device.v0", format!("must be > 0 V, got {v0}"));
            }
        }
        match (self.cell, &self.selector, &self.transistor) {
            (CellKind::OneS1R, None, _) => return bad("selector", "1S1R needs [selector]".into()),
            (CellKind::OneT1R | CellKind::TwoT2R, _, None) => {
                return bad("transistor", "1T1R/2T2R need [transistor]".into())
            }
            _ => {}
        }
        if let Some(s) = &self.selector {
            if !(s.i_s > 0.0 && s.v_s > 0.0) {
                return bad("selector", "i_s and v_s must be > 0".into());
            }
        }
        if let Some(m) = &self.transistor {
            let finite = [m.kp, m.w, m.l, m.lambda].iter().all(|x| x.is_finite());
            if !(finite && m.kp > 0.0 && m.w > 0.0 && m.l > 0.0 && m.lambda >= 0.0) {
                return bad(
                    "transistor",
                    "kp, w, l must be finite and > 0 and lambda finite and ≥ 0".into(),
                );
            }
            // MOS1 kp is µ·C_ox (~1e-5…1e-3 A/V²) and λ a fraction of a 1/V: far past that (1e30)
            // the square law overflows and Newton runs away instead of answering.
            if m.kp > MAX_KP || m.lambda > MAX_LAMBDA {
                return bad(
                    "transistor",
                    format!(
                        "kp must be ≤ {MAX_KP} A/V² and lambda ≤ {MAX_LAMBDA} 1/V, got {} and {}",
                        m.kp, m.lambda
                    ),
                );
            }
            // An access transistor's threshold and gate drive are volts, not 1e300 V: past
            // ±MAX_GATE_V the square law overflows and Newton runs away for seconds.
            for (k, v) in [
                ("transistor.vto", m.vto),
                ("transistor.v_gate", self.v_gate),
            ] {
                if !(v.is_finite() && v.abs() <= MAX_GATE_V) {
                    return bad(k, format!("must be within ±{MAX_GATE_V} V, got {v} V"));
                }
            }
        }
        if !(self.v_read.is_finite() && self.v_read > 0.0) {
            return bad("periphery.v_read", "must be > 0 V".into());
        }
        if self.dac.bits > 24 || self.adc.bits > 24 {
            return bad("dac.bits / adc.bits", "at most 24 bits".into());
        }
        if self.dac.mode == DacMode::BitSerial && self.dac.bits == 0 {
            return bad("dac.bits", "bit-serial inputs need bits ≥ 1".into());
        }
        if let AdcRange::Percentile(p) = self.adc.range {
            if !(p > 0.0 && p <= 100.0) {
                return bad("adc.percentile", format!("must be in (0, 100], got {p}"));
            }
        }
        if let AdcRange::Fixed(x) = self.adc.range {
            if !(x > 0.0) {
                return bad("adc.i_max", format!("must be > 0 A, got {x}"));
            }
        }
        if !(self.temp_k > 0.0 && self.temp_k.is_finite()) {
            return bad("temperature", format!("must be > 0 K, got {}", self.temp_k));
        }
        if let Err((k, m)) = self.effects.validate(self.law) {
            return bad(&k, m);
        }
        if let Err((k, m)) = self.converters.validate() {
            return bad(&k, m);
        }
        Ok(())
    }

    /// Reads a TOML description; relative paths inside (weight CSV) are relative to the file.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Crossbar, CrossbarError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| CrossbarError::Io {
            file: path.to_path_buf(),
            msg: e.to_string(),
        })?;
        Crossbar::from_toml_str(&text, path)
    }

    /// Parses TOML text; `path` is used for error messages and to resolve relative paths.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Crossbar, CrossbarError> {
        let cfg: FileCfg = toml::from_str(text).map_err(|e| CrossbarError::Toml {
            file: path.to_path_buf(),
            msg: e.to_string(),
        })?;
        cfg.resolve(path)
    }
}

// ---------------------------------------------------------------------------------------------
// TOML form

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCfg {
    rows: usize,
    cols: usize,
    cell: CellKind,
    seed: Option<u64>,
    /// Ambient temperature (K).
    temperature: Option<f64>,
    device: DeviceCfg,
    selector: Option<Selector>,
    transistor: Option<TransistorCfg>,
    wires: Option<WiresCfg>,
    periphery: Option<PeripheryCfg>,
    weights: Option<WeightsCfg>,
    dac: Option<DacCfg>,
    adc: Option<AdcCfg>,
    nonideal: Option<NonidealCfg>,
    metrics: Option<MetricsCfg>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NonidealCfg {
    levels: Option<u32>,
    prog_sigma: Option<f64>,
    read_sigma: Option<f64>,
    stuck_on: Option<f64>,
    stuck_off: Option<f64>,
    drift_nu: Option<f64>,
    drift_nu_sigma: Option<f64>,
    /// s
    drift_t0: Option<f64>,
    /// eV
    drift_ea_ev: Option<f64>,
    relax_nu: Option<f64>,
    relax_nu_sigma: Option<f64>,
    /// s
    relax_tau: Option<f64>,
    /// s after programming
    time: Option<f64>,
    card_noise: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsCfg {
    reference: Option<Reference>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
enum DeviceKind {
    Linear,
    Sinh,
    Card,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceCfg {
    kind: DeviceKind,
    /// S
    g_min: Option<f64>,
    /// S
    g_max: Option<f64>,
    /// V (sinh)
    v0: Option<f64>,
    /// Path to a device card (device-models/*.toml).
    card: Option<PathBuf>,
    /// Lognormal σ of the per-cell conductance (dimensionless).
    d2d_sigma: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransistorCfg {
    vto: Option<f64>,
    kp: Option<f64>,
    lambda: Option<f64>,
    w: Option<f64>,
    l: Option<f64>,
    v_gate: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WiresCfg {
    r_row: Option<f64>,
    r_col: Option<f64>,
    /// Ω·m
    resistivity: Option<f64>,
    /// m
    width: Option<f64>,
    /// m
    thickness: Option<f64>,
    /// Crosspoint pitch = segment length (m).
    pitch: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeripheryCfg {
    r_driver: Option<f64>,
    r_sense: Option<f64>,
    line_ends: Option<LineEnds>,
    v_read: Option<f64>,
    t_read: Option<f64>,
    /// F, unit capacitor of the capacitive DAC
    dac_unit_cap_f: Option<f64>,
    /// F/m²
    dac_cap_density_f_per_m2: Option<f64>,
    /// F and V of the StrongARM sense amplifier
    sense_cap_f: Option<f64>,
    sense_vdd: Option<f64>,
    /// J per driven word line and read
    dac_energy_j: Option<f64>,
    /// m² per word line
    dac_area_m2: Option<f64>,
    /// J per bit line and read
    sense_energy_j: Option<f64>,
    /// m² per bit line
    sense_area_m2: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightsCfg {
    csv: Option<PathBuf>,
    random: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DacCfg {
    bits: Option<u32>,
    mode: Option<DacMode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
enum AdcRangeKind {
    Fixed,
    Max,
    Percentile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdcCfg {
    bits: Option<u32>,
    range: Option<AdcRangeKind>,
    /// A (range = "fixed")
    i_max: Option<f64>,
    /// percent (range = "percentile")
    percentile: Option<f64>,
    inl_lsb: Option<f64>,
    dnl_lsb: Option<f64>,
    offset_lsb: Option<f64>,
    gain_error: Option<f64>,
    noise_lsb: Option<f64>,
    calibration_vectors: Option<usize>,
    /// "walden" | "schreier"
    fom: Option<String>,
    /// J per conversion step
    fom_walden_j: Option<f64>,
    /// dB
    fom_schreier_db: Option<f64>,
    sample_rate_hz: Option<f64>,
    columns_per_adc: Option<usize>,
    /// m² per conversion step
    area_per_step_m2: Option<f64>,
}

impl FileCfg {
    fn resolve(self, path: &Path) -> Result<Crossbar, CrossbarError> {
        let err = |key: &str, msg: String| CrossbarError::Config {
            file: path.to_path_buf(),
            key: key.into(),
            msg,
        };
        if self.rows == 0 {
            return Err(err("rows", "must be at least 1".into()));
        }
        if self.cols == 0 {
            return Err(err("cols", "must be at least 1".into()));
        }
        let mut xb = Crossbar::new(self.rows, self.cols);
        xb.cell = self.cell;
        xb.seed = self.seed.unwrap_or(0);
        xb.temp_k = self.temperature.unwrap_or(xb.temp_k);

        let d = &self.device;
        xb.law = match d.kind {
            DeviceKind::Linear => {
                if d.v0.is_some() {
                    return Err(err("device.v0", "only used with kind = \"sinh\"".into()));
                }
                CellLaw::Linear
            }
            DeviceKind::Sinh => CellLaw::Sinh {
                v0: d
                    .v0
                    .ok_or_else(|| err("device.v0", "required for sinh cells".into()))?,
            },
            DeviceKind::Card => {
                if d.v0.is_some() {
                    return Err(err("device.v0", "the card sets the cell law".into()));
                }
                // Becomes `Card` in `use_card` below, once the model is loaded.
                CellLaw::Linear
            }
        };
        let model = match (&d.kind, &d.card) {
            (DeviceKind::Card, Some(p)) => {
                let full = path.parent().unwrap_or(Path::new(".")).join(p);
                let m = crate::device::load_card(&full)
                    .map_err(|e| err("device.card", e.to_string()))?;
                Some(Arc::new(m))
            }
            (DeviceKind::Card, None) => {
                return Err(err(
                    "device.card",
                    "kind = \"card\" needs card = \"path/to/card.toml\"".into(),
                ))
            }
            (_, Some(_)) => {
                return Err(err("device.card", "only used with kind = \"card\"".into()))
            }
            _ => None,
        };
        xb.g_min = d.g_min.unwrap_or(1e-6);
        xb.g_max = d.g_max.unwrap_or(1e-4);
        let v_read_cfg = self
            .periphery
            .as_ref()
            .and_then(|p| p.v_read)
            .unwrap_or(xb.v_read);
        if let Some(m) = &model {
            // Defaults: the nominal cell's reachable window; explicit bounds must lie inside.
            if let Some((lo, hi)) = read_window(&m.nominal_cell(), v_read_cfg) {
                xb.g_min = d.g_min.unwrap_or(lo);
                xb.g_max = d.g_max.unwrap_or(hi);
                for (key, g) in [("device.g_min", xb.g_min), ("device.g_max", xb.g_max)] {
                    if g < lo * (1.0 - 1e-12) || g > hi * (1.0 + 1e-12) {
                        return Err(err(
                            key,
                            format!(
                                "{g:e} S outside the card's read-conductance window \
                                 [{lo:e}, {hi:e}] S at v_read = {v_read_cfg} V"
                            ),
                        ));
                    }
                }
            } else if d.g_min.is_none() || d.g_max.is_none() {
                return Err(err(
                    "device.g_min / device.g_max",
                    format!("required with a `{}` card", m.family()),
                ));
            }
            if d.d2d_sigma.is_some() {
                return Err(err(
                    "device.d2d_sigma",
                    "card cells take their spread from the card's [variability.d2d]".into(),
                ));
            }
        }
        if !(xb.g_min > 0.0 && xb.g_max >= xb.g_min && xb.g_max.is_finite()) {
            return Err(err(
                "device.g_min / device.g_max",
                format!("need 0 < g_min ≤ g_max, got {} and {}", xb.g_min, xb.g_max),
            ));
        }
        let d2d = d.d2d_sigma.unwrap_or(0.0);
        if !(d2d >= 0.0 && d2d.is_finite()) {
            return Err(err("device.d2d_sigma", format!("must be ≥ 0, got {d2d}")));
        }

        xb.selector = self.selector;
        if xb.selector.is_some() && xb.cell != CellKind::OneS1R {
            return Err(err("selector", "only used with cell = \"1S1R\"".into()));
        }
        if let Some(t) = &self.transistor {
            if !xb.cell.has_transistor() {
                return Err(err("transistor", "only used with 1T1R / 2T2R".into()));
            }
            xb.transistor = Some(Mos1 {
                vto: t.vto.unwrap_or(0.5),
                kp: t.kp.unwrap_or(2e-5),
                lambda: t.lambda.unwrap_or(0.0),
                w: t.w.unwrap_or(1e-6),
                l: t.l.unwrap_or(1e-6),
            });
            xb.v_gate = t.v_gate.unwrap_or(1.8);
        }

        if let Some(w) = &self.wires {
            let geom = [w.resistivity, w.width, w.thickness, w.pitch];
            let n_geom = geom.iter().filter(|x| x.is_some()).count();
            if n_geom > 0 {
                if w.r_row.is_some() || w.r_col.is_some() {
                    return Err(err(
                        "wires",
                        "give either r_row/r_col or resistivity/width/thickness/pitch".into(),
                    ));
                }
                if n_geom < 4 {
                    return Err(err(
                        "wires",
                        "geometry needs all of resistivity, width, thickness, pitch".into(),
                    ));
                }
                let [rho, wd, th, p] = geom.map(|x| x.unwrap());
                if !(rho >= 0.0 && wd > 0.0 && th > 0.0 && p > 0.0) {
                    return Err(err(
                        "wires",
                        "resistivity ≥ 0 and width, thickness, pitch > 0".into(),
                    ));
                }
                // R = ρ·ℓ/(w·t) for one segment of length = pitch.
                xb.r_row = rho * p / (wd * th);
                xb.r_col = xb.r_row;
            } else {
                xb.r_row = w.r_row.unwrap_or(0.0);
                xb.r_col = w.r_col.unwrap_or(0.0);
            }
        }
        if let Some(p) = &self.periphery {
            xb.r_driver = p.r_driver.unwrap_or(0.0);
            xb.r_sense = p.r_sense.unwrap_or(0.0);
            xb.line_ends = p.line_ends.unwrap_or(LineEnds::One);
            xb.v_read = p.v_read.unwrap_or(xb.v_read);
            xb.t_read = p.t_read.unwrap_or(xb.t_read);
            if !(xb.t_read > 0.0) {
                return Err(err("periphery.t_read", "must be > 0 s".into()));
            }
            let c = &mut xb.converters;
            c.dac_unit_cap_f = p.dac_unit_cap_f.unwrap_or(c.dac_unit_cap_f);
            c.dac_cap_density_f_per_m2 = p
                .dac_cap_density_f_per_m2
                .unwrap_or(c.dac_cap_density_f_per_m2);
            c.sense_cap_f = p.sense_cap_f.unwrap_or(c.sense_cap_f);
            c.sense_vdd = p.sense_vdd.unwrap_or(c.sense_vdd);
            c.dac_energy_j = p.dac_energy_j.or(c.dac_energy_j);
            c.dac_area_m2 = p.dac_area_m2.or(c.dac_area_m2);
            c.sense_energy_j = p.sense_energy_j.or(c.sense_energy_j);
            c.sense_area_m2 = p.sense_area_m2.unwrap_or(c.sense_area_m2);
        }
        // Set on the array once the cell law is final (below), since its checks depend on it.
        let mut effects = DeviceEffects::default();
        if let Some(n) = &self.nonideal {
            let e = &mut effects;
            e.levels = n.levels.unwrap_or(e.levels);
            e.prog_sigma = n.prog_sigma.unwrap_or(e.prog_sigma);
            e.read_sigma = n.read_sigma.unwrap_or(e.read_sigma);
            e.stuck_on = n.stuck_on.unwrap_or(e.stuck_on);
            e.stuck_off = n.stuck_off.unwrap_or(e.stuck_off);
            e.drift_nu = n.drift_nu.unwrap_or(e.drift_nu);
            e.drift_nu_sigma = n.drift_nu_sigma.unwrap_or(e.drift_nu_sigma);
            e.drift_t0 = n.drift_t0.unwrap_or(e.drift_t0);
            e.drift_ea_ev = n.drift_ea_ev.unwrap_or(e.drift_ea_ev);
            e.relax_nu = n.relax_nu.unwrap_or(e.relax_nu);
            e.relax_nu_sigma = n.relax_nu_sigma.unwrap_or(e.relax_nu_sigma);
            e.relax_tau = n.relax_tau.unwrap_or(e.relax_tau);
            e.time_s = n.time.unwrap_or(e.time_s);
            e.card_noise = n.card_noise.unwrap_or(e.card_noise);
        }
        if let Some(m) = &self.metrics {
            xb.reference = m.reference.unwrap_or(xb.reference);
        }
        if let Some(dc) = &self.dac {
            xb.dac = Dac {
                bits: dc.bits.unwrap_or(8),
                mode: dc.mode.unwrap_or(DacMode::Analog),
            };
        }
        if let Some(a) = &self.adc {
            let range =
                match a.range.as_ref().unwrap_or(&AdcRangeKind::Max) {
                    AdcRangeKind::Fixed => AdcRange::Fixed(a.i_max.ok_or_else(|| {
                        err("adc.i_max", "required with range = \"fixed\"".into())
                    })?),
                    AdcRangeKind::Max => AdcRange::MaxOfBatch,
                    AdcRangeKind::Percentile => {
                        AdcRange::Percentile(a.percentile.ok_or_else(|| {
                            err(
                                "adc.percentile",
                                "required with range = \"percentile\"".into(),
                            )
                        })?)
                    }
                };
            xb.adc = Adc {
                bits: a.bits.unwrap_or(8),
                range,
            };
            let c = &mut xb.converters;
            c.inl_lsb = a.inl_lsb.unwrap_or(c.inl_lsb);
            c.dnl_lsb = a.dnl_lsb.unwrap_or(c.dnl_lsb);
            c.offset_lsb = a.offset_lsb.unwrap_or(c.offset_lsb);
            c.gain_error = a.gain_error.unwrap_or(c.gain_error);
            c.noise_lsb = a.noise_lsb.unwrap_or(c.noise_lsb);
            c.calibration_vectors = a.calibration_vectors.unwrap_or(c.calibration_vectors);
            c.fom_walden_j = a.fom_walden_j.unwrap_or(c.fom_walden_j);
            c.fom_schreier_db = a.fom_schreier_db.unwrap_or(c.fom_schreier_db);
            if let Some(f) = &a.fom {
                c.fom = match f.as_str() {
                    "walden" => super::periphery::AdcFom::Walden,
                    "schreier" => super::periphery::AdcFom::Schreier,
                    other => {
                        return Err(err(
                            "adc.fom",
                            format!("\"walden\" or \"schreier\", got \"{other}\""),
                        ))
                    }
                };
            }
            c.adc_sample_rate_hz = a.sample_rate_hz.unwrap_or(c.adc_sample_rate_hz);
            c.columns_per_adc = a.columns_per_adc.unwrap_or(c.columns_per_adc);
            c.adc_area_per_step_m2 = a.area_per_step_m2.unwrap_or(c.adc_area_per_step_m2);
        }

        let relocate = |e: CrossbarError| match e {
            CrossbarError::Config { key, msg, .. } => CrossbarError::Config {
                file: path.to_path_buf(),
                key,
                msg,
            },
            e => e,
        };
        xb.validate_scalars().map_err(relocate)?;
        if let Some(m) = model {
            // Cells first (programmed when the weights are set below).
            xb.g = Vec::new();
            xb.use_card(m)
                .map_err(|e| err("device.card", e.to_string()))?;
        }
        xb.effects = effects;
        let mut rng = ChaCha8Rng::seed_from_u64(xb.seed);
        match &self.weights {
            Some(WeightsCfg {
                csv: Some(_),
                random: Some(true),
            }) => {
                return Err(err("weights", "give either csv or random = true".into()));
            }
            Some(WeightsCfg { csv: Some(p), .. }) => {
                let full = path.parent().unwrap_or(Path::new(".")).join(p);
                let lo = if xb.cell == CellKind::TwoT2R {
                    -1.0
                } else {
                    0.0
                };
                let w = read_weight_csv(&full, xb.rows, xb.cols, lo)?;
                xb.set_weights(&w).map_err(|e| match e {
                    CrossbarError::Input(m) => CrossbarError::Weights {
                        file: full.clone(),
                        line: 1,
                        msg: m,
                    },
                    e => e,
                })?;
            }
            // `random = false` without a csv on a card array: every cell stays in the card's
            // initial state (the start of pulse programming for any family).
            Some(WeightsCfg {
                csv: None,
                random: Some(false),
            }) if xb.law == CellLaw::Card => {
                xb.g = xb
                    .cells
                    .iter()
                    .map(|c| c.read_conductance(xb.v_read, xb.temp_k))
                    .collect();
            }
            _ => xb
                .try_random_weights(&mut rng)
                .map_err(|e| err("weights", e.to_string()))?,
        }
        xb.apply_d2d(d2d, &mut rng);
        xb.validate().map_err(relocate)?;
        Ok(xb)
    }
}

/// Reads a `rows × cols` weight matrix: plain numbers in [`lo`, 1], comma separated, no
/// header; `#` comments. Every error names the file and the line (1-based).
pub fn read_weight_csv(
    path: &Path,
    rows: usize,
    cols: usize,
    lo: f64,
) -> Result<Vec<f64>, CrossbarError> {
    use std::io::BufRead;
    let io_err = |e: std::io::Error| CrossbarError::Io {
        file: path.to_path_buf(),
        msg: e.to_string(),
    };
    // Line by line: the file's text is never held whole (a 1024×1024 matrix is ~25 MB).
    let mut reader = std::io::BufReader::new(std::fs::File::open(path).map_err(io_err)?);
    let werr = |line: usize, msg: String| CrossbarError::Weights {
        file: path.to_path_buf(),
        line,
        msg,
    };
    let mut out = Vec::with_capacity(rows * cols);
    let mut n_rows = 0;
    let (mut line, mut n_lines) = (String::new(), 0);
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(io_err)? == 0 {
            break;
        }
        let ln = n_lines;
        n_lines += 1;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        n_rows += 1;
        if n_rows > rows {
            return Err(werr(
                ln + 1,
                format!("more than {rows} rows (array has rows = {rows})"),
            ));
        }
        let mut n = 0;
        for f in t.split(',') {
            let x: f64 = f
                .trim()
                .parse()
                .map_err(|_| werr(ln + 1, format!("not a number: {:?}", f.trim())))?;
            // `!(x >= lo)` also catches NaN.
            if !(x >= lo && x <= 1.0) {
                return Err(werr(
                    ln + 1,
                    format!(
                        "weight {x} (row {n_rows}, column {}) outside [{lo}, 1]",
                        n + 1
                    ),
                ));
            }
            out.push(x);
            n += 1;
        }
        if n != cols {
            return Err(werr(ln + 1, format!("{n} values, expected cols = {cols}")));
        }
    }
    if n_rows != rows {
        return Err(werr(
            n_lines.max(1),
            format!("file ends after {n_rows} rows, expected rows = {rows}"),
        ));
    }
    Ok(out)
}
