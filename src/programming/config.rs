//! The `[program]` and `[stdp]` tables of a crossbar config. They sit in the same TOML file as
//! the array; the crossbar layer reads the rest of the file, so both stay strict about keys.
//!
//! ```toml
//! [program]            # write-verify and pulse defaults (SI units)
//! width = 100e-9       # s, pulse width (flat top)
//! edge = 0.0           # s, rise and fall time
//! unselected = "v/2"   # floating | v/2 | v/3 | grounded | inhibit (1T1R / 2T2R)
//! budget = 200         # pulses per cell
//! tolerance = 0.05     # relative window |G − G_T| ≤ tol·G_T
//! # tolerance_abs = 1e-6  # S, absolute window instead
//! read_noise_rel = 0.0 # relative σ of each verify read (added to the family's own read noise)
//! reverify = true      # final re-verify pass of the whole array
//! set_v_start = 1.3    # V, SET amplitude staircase (ISPP, Alibart start)
//! set_v_step = 0.02
//! set_v_max = 2.5
//! reset_v_start = 1.0  # V, magnitude of the RESET staircase
//! reset_v_step = 0.02
//! reset_v_max = 2.5
//! gate_knob = true     # 1T1R / 2T2R ISPP: SET at set_v_max with the gate voltage stepped
//! set_gate_start = 0.5 # V
//! set_gate_step = 0.01
//! set_gate_max = 1.8
//! reset_gate = 1.8     # V on the gate during RESET
//! # set_gate = 1.8     # V on the gate (fgate: control gate) during amplitude-stepped SET
//! #                    # pulses; default the config's v_gate
//! reset_gate_knob = false  # ISPP RESET at reset_v_max with the gate voltage stepped
//! reset_gate_start = 0.5   # V
//! reset_gate_step = 0.01
//! reset_gate_max = 1.8
//! unipolar = false     # RESET pulses keep the SET polarity (PCM: melt-quench by current)
//! binary = false       # two-state family (MTJ): each target snaps to the nearer of the
//! #                    # cell's two states, the window is its side of their geometric mean
//! fixed_set_v = 2.2    # V, fixed-amplitude scheme
//! fixed_reset_v = 1.7
//! fixed_width = 10e-9  # s: short pulses, so one fixed-amplitude pulse moves G by less than the window
//! alibart_set_v_start = 1.7   # V, Alibart et al. 2012: first SET / RESET amplitude of a run
//! alibart_reset_v_start = 1.3
//! alibart_step = 0.02  # V per further pulse in one direction (Alibart et al. 2012)
//! alibart_fine_band = 4.0  # fine stage (step / 5) once |G − G_T| < band·tol·G_T
//! tol_v = 1e-2         # V, re-solve tolerance of the pulse engine
//!
//! [stdp]
//! pre = { a_peak = -0.8, t_peak = 10e-9, a_tail = 0.8, t_tail = 100e-9 }
//! post = { a_peak = -0.8, t_peak = 10e-9, a_tail = 0.8, t_tail = 100e-9 }
//! unselected = "grounded"
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::crossbar::Crossbar;

use super::waveform::SpikeTemplate;
use super::ProgError;

#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ProgramCfg {
    pub width: f64,
    pub edge: f64,
    pub unselected: String,
    pub budget: usize,
    pub tolerance: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerance_abs: Option<f64>,
    pub read_noise_rel: f64,
    pub reverify: bool,
    pub set_v_start: f64,
    pub set_v_step: f64,
    pub set_v_max: f64,
    pub reset_v_start: f64,
    pub reset_v_step: f64,
    pub reset_v_max: f64,
    pub gate_knob: bool,
    pub set_gate_start: f64,
    pub set_gate_step: f64,
    pub set_gate_max: f64,
    pub reset_gate: f64,
    pub fixed_set_v: f64,
    pub fixed_reset_v: f64,
    pub fixed_width: f64,
    pub alibart_set_v_start: f64,
    pub alibart_reset_v_start: f64,
    pub alibart_step: f64,
    pub alibart_fine_band: f64,
    pub tol_v: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_gate: Option<f64>,
    pub reset_gate_knob: bool,
    pub reset_gate_start: f64,
    pub reset_gate_step: f64,
    pub reset_gate_max: f64,
    pub unipolar: bool,
    pub binary: bool,
}

impl Default for ProgramCfg {
    /// Defaults for the Stanford-PKU OxRAM card (field threshold 1.05–1.39 V, device-physics.md
    /// §1.1) with 100 ns pulses.
    fn default() -> Self {
        ProgramCfg {
            width: 100e-9,
            edge: 0.0,
            unselected: "v/2".into(),
            budget: 200,
            tolerance: 0.05,
            tolerance_abs: None,
            read_noise_rel: 0.0,
            reverify: true,
            set_v_start: 1.3,
            set_v_step: 0.01,
            set_v_max: 2.5,
            reset_v_start: 1.0,
            reset_v_step: 0.01,
            reset_v_max: 2.5,
            gate_knob: true,
            set_gate_start: 0.5,
            set_gate_step: 0.01,
            set_gate_max: 1.8,
            reset_gate: 1.8,
            // Fixed and Alibart defaults: tuned on an 8×8 corner of the 1T1R OxRAM example
            // (gate 1.8 V in SET, 4 V in RESET; tests/programming.rs): 100 ns fixed pulses move
            // the abrupt OxRAM SET far past a 5 % window, 10 ns ones do not.
            fixed_set_v: 2.2,
            fixed_reset_v: 1.7,
            fixed_width: 10e-9,
            alibart_set_v_start: 1.7,
            alibart_reset_v_start: 1.3,
            alibart_step: 0.02,
            alibart_fine_band: 4.0,
            tol_v: 1e-2,
            seed: None,
            set_gate: None,
            reset_gate_knob: false,
            reset_gate_start: 0.5,
            reset_gate_step: 0.01,
            reset_gate_max: 1.8,
            unipolar: false,
            binary: false,
        }
    }
}

impl ProgramCfg {
    /// Defaults per family: the pulses that switch each card behind the 1T1R examples' access
    /// transistor (`examples/configs/program_1t1r_*.toml`) or, for the floating gate, with its
    /// control gate driven by the word line's gate line. One table, so a family's programming
    /// recipe lives in one place; `[program]` keys override it key by key.
    pub fn default_for(family: &str) -> ProgramCfg {
        let d = ProgramCfg::default();
        match family {
            // Two-state STT-MTJ: switches (stochastically) at ~0.1 V in 100 ns, P→AP for
            // V < 0; amplitude ISPP per polarity, the window is the target state's side.
            "mtj" => ProgramCfg {
                binary: true,
                gate_knob: false,
                set_v_start: 0.05,
                set_v_step: 0.02,
                set_v_max: 1.0,
                reset_v_start: 0.05,
                reset_v_step: 0.02,
                reset_v_max: 1.0,
                ..d
            },
            // Yu-Wong CBRAM: the filament touches at ~2.5–3 V (100 ns) and the LRS radius is the
            // card's compliance level; the gate limits the current of the lateral re-growth, and
            // a gentle RESET staircase (from 0.1 V, gate fully on) dissolves the filament
            // partly: the intermediate LRS levels [c_set/i_comp, 2·c_set/i_comp].
            "cbram" => ProgramCfg {
                set_v_start: 2.0,
                set_v_step: 0.05,
                set_v_max: 3.0,
                set_gate_start: 0.45,
                set_gate_step: 0.02,
                set_gate_max: 1.8,
                reset_v_start: 0.1,
                reset_v_step: 0.01,
                reset_v_max: 2.0,
                reset_gate: 4.0,
                ..d
            },
            // Physical PCM behind a 0.5 µm access transistor (kp 3e-4 A/V², L 0.1 µm, V_T 0.4 V):
            // unipolar, every pulse 2.5 V on the bit line and the gate sets the current, hence
            // the temperature. SET: gate staircase 0.80–0.88 V (≈ 130–170 µA after threshold
            // switching, 700–880 K: cumulative crystallisation); RESET: gate from 0.95 V
            // (melt-quench). Short (10 ns) pulses so one SET pulse moves G by less than a 5 %
            // window near the targets.
            "pcm" => ProgramCfg {
                unipolar: true,
                width: 10e-9,
                gate_knob: true,
                set_v_max: 2.5,
                set_gate_start: 0.80,
                set_gate_step: 0.002,
                set_gate_max: 0.88,
                reset_gate_knob: true,
                reset_v_max: 2.5,
                reset_gate_start: 0.95,
                reset_gate_step: 0.004,
                reset_gate_max: 1.2,
                ..d
            },
            // Floating gate, control gate driven by the word line's gate line: erase (SET, Q up)
            // with the drain high and the control gate at −6 V, program (RESET) with the source
            // high and the control gate at +8 V; 1 µs pulses, FN needs ~13 V across the 8 nm
            // tunnel oxide between floating gate and drain.
            "fgate" => ProgramCfg {
                width: 1e-6,
                gate_knob: false,
                set_gate: Some(-6.0),
                set_v_start: 6.0,
                set_v_step: 0.1,
                set_v_max: 12.0,
                reset_gate: 8.0,
                reset_v_start: 4.0,
                reset_v_step: 0.1,
                reset_v_max: 10.0,
                ..d
            },
            _ => d,
        }
    }

    pub fn validate(&self, file: &Path) -> Result<(), ProgError> {
        let bad = |k: &str, m: String| ProgError::File {
            file: file.to_path_buf(),
            msg: format!("key `program.{k}`: {m}"),
        };
        for (k, v) in [
            ("width", self.width),
            ("fixed_width", self.fixed_width),
            ("set_v_max", self.set_v_max),
            ("reset_v_max", self.reset_v_max),
            ("tol_v", self.tol_v),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(bad(k, format!("{v} must be > 0")));
            }
        }
        for (k, v) in [
            ("edge", self.edge),
            ("set_v_step", self.set_v_step),
            ("reset_v_step", self.reset_v_step),
            ("set_gate_step", self.set_gate_step),
            ("reset_gate_step", self.reset_gate_step),
            ("alibart_step", self.alibart_step),
            ("read_noise_rel", self.read_noise_rel),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(bad(k, format!("{v} must be ≥ 0")));
            }
        }
        if !(self.tolerance > 0.0 && self.tolerance < 1.0) {
            return Err(bad(
                "tolerance",
                format!("{} must be in (0, 1)", self.tolerance),
            ));
        }
        if self.budget == 0 {
            return Err(bad("budget", "must be ≥ 1".into()));
        }
        self.unselected
            .parse::<super::Unselected>()
            .map_err(|e| bad("unselected", e.to_string()))?;
        Ok(())
    }
}

#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StdpCfg {
    /// Pre-synaptic spike (row).
    pub pre: SpikeTemplate,
    /// Post-synaptic spike (column).
    pub post: SpikeTemplate,
    pub unselected: String,
    /// Read conductance (S) the measured cell starts from; default the geometric middle of
    /// the config's [g_min, g_max].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub g_start: Option<f64>,
}

impl StdpCfg {
    /// Defaults per family. OxRAM (bipolar, 1.05–1.39 V field threshold): the peak alone stays
    /// below the switching threshold, peak plus the other spike's tail crosses it, with the sign
    /// of Δt. PCM is unipolar, so the sign of Δt must show in the overlap's *amplitude*: a lone
    /// spike (≤ 1.3 V) threshold-switches at most and heats the cell by < 300 K (no change); for
    /// Δt > 0 the post peak plus the weak pre tail (1.2 + 0.5·decay V) heats the cell into the
    /// crystallisation window (~800 K: SET, potentiation); for Δt < 0 the pre peak plus the
    /// strong post tail (1.2 + 1.3·decay V) melts it (RESET, depression). Equal peak widths,
    /// so a peak never overlaps the other spike's peak and then its tail.
    pub fn default_for(family: &str) -> StdpCfg {
        let (pre, post) = match family {
            "pcm" => (
                SpikeTemplate {
                    a_peak: -1.2,
                    t_peak: 10e-9,
                    a_tail: 0.5,
                    t_tail: 200e-9,
                },
                SpikeTemplate {
                    a_peak: -1.2,
                    t_peak: 10e-9,
                    a_tail: 1.3,
                    t_tail: 200e-9,
                },
            ),
            _ => {
                let s = SpikeTemplate {
                    a_peak: -0.8,
                    t_peak: 10e-9,
                    a_tail: 0.8,
                    t_tail: 100e-9,
                };
                (s, s)
            }
        };
        StdpCfg {
            pre,
            post,
            unselected: "grounded".into(),
            g_start: None,
        }
    }
}

impl Default for StdpCfg {
    fn default() -> Self {
        StdpCfg::default_for("oxram")
    }
}

/// A crossbar config with its optional `[program]` and `[stdp]` tables.
pub struct Loaded {
    pub xb: Crossbar,
    pub program: ProgramCfg,
    pub stdp: StdpCfg,
}

/// Reads a crossbar config; the `[program]` and `[stdp]` tables are taken out and parsed here,
/// the rest goes to [`Crossbar::from_toml_str`].
pub fn load_config(path: &Path) -> Result<Loaded, ProgError> {
    let text = std::fs::read_to_string(path).map_err(|e| ProgError::File {
        file: path.to_path_buf(),
        msg: e.to_string(),
    })?;
    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| ProgError::File {
        file: path.to_path_buf(),
        msg: e.to_string(),
    })?;
    let prog = table.remove("program");
    let stdp = table.remove("stdp");
    let rest = toml::to_string(&table).map_err(|e| ProgError::File {
        file: path.to_path_buf(),
        msg: e.to_string(),
    })?;
    let xb = Crossbar::from_toml_str(&rest, path)?;
    let de = |what: &str, e: toml::de::Error| ProgError::File {
        file: path.to_path_buf(),
        msg: format!("[{what}]: {}", e.message()),
    };
    let family = xb.cells.first().map_or("oxram", |c| c.family());
    // The family's defaults, overridden key by key by the file's `[program]`.
    let program: ProgramCfg = match prog {
        Some(v) => {
            let user: toml::Table = v.try_into().map_err(|e| de("program", e))?;
            let mut base: toml::Table =
                toml::Table::try_from(ProgramCfg::default_for(family)).unwrap_or_default();
            for (k, v) in user {
                base.insert(k, v);
            }
            toml::Value::Table(base)
                .try_into()
                .map_err(|e| de("program", e))?
        }
        None => ProgramCfg::default_for(family),
    };
    program.validate(path)?;
    let stdp: StdpCfg = match stdp {
        Some(v) => {
            let mut t = StdpCfg::default_for(family);
            let user: toml::Table = v.try_into().map_err(|e| de("stdp", e))?;
            // Merge so one template can be given without the other.
            let mut base: toml::Table = toml::Table::try_from(&t).unwrap_or_default();
            for (k, v) in user {
                base.insert(k, v);
            }
            t = toml::Value::Table(base)
                .try_into()
                .map_err(|e| de("stdp", e))?;
            t
        }
        None => StdpCfg::default_for(family),
    };
    stdp.pre.validate("stdp.pre")?;
    stdp.post.validate("stdp.post")?;
    Ok(Loaded { xb, program, stdp })
}
