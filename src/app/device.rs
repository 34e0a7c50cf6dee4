//! Single-device experiments behind `xbar device iv|pulse|retention`: a card in, a
//! [`Table`] out (write it with [`Table::write_csv`], which is atomic). No clap here.
//!
//! All three run one device sampled from the card with D2D variability drawn from
//! `ChaCha8Rng::seed_from_u64(seed)`; the same generator then drives the cycle-to-cycle noise,
//! so a seed fixes the whole experiment. The ambient temperature is [`DEVICE_TEMP_K`].

use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::device::{load_card, CardError, Cell, Model};
use crate::report::{ReportError, Table};

/// Default number of samples of an I-V loop.
pub const DEFAULT_IV_POINTS: usize = 401;
pub use crate::device::bench::{
    Access, Bench, BenchError, DEVICE_TEMP_K, IV_SUBSTEPS, RAMP_REL_DI,
};
pub use crate::device::DEFAULT_V_READ;

/// Error of a device experiment.
#[derive(Debug, thiserror::Error)]
pub enum DeviceCliError {
    #[error(transparent)]
    Card(#[from] CardError),
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Report(#[from] ReportError),
}

impl From<BenchError> for DeviceCliError {
    fn from(e: BenchError) -> Self {
        DeviceCliError::Input(e.0)
    }
}

fn input(msg: impl Into<String>) -> DeviceCliError {
    DeviceCliError::Input(msg.into())
}

/// Default I-V sweep of a family, `(vmax_v, vmin_v, period_s)`, chosen so the loop shows the
/// family's switching: OxRAM ±1.5 V over 1 s (the field gate opens near 1.4 V in the HRS),
/// CBRAM ±1.5 V over 1 s (vertical growth through 50 nm takes ms there), PCM ±1.6 V over 1 µs
/// (threshold 1.2 V), MTJ ±0.3 V over 1 µs (|I| > Ic ≈ 15-30 µA at R ≈ 4-8 kΩ), FG ±14 V over
/// 1 ms (FN needs ~10 MV/cm across the 8 nm tunnel oxide).
pub fn iv_defaults(family: &str) -> (f64, f64, f64) {
    crate::device::Model::iv_defaults(family).unwrap_or((1.0, -1.0, 1.0))
}

/// Load a card and sample one device from it with `seed`; returns the device and the RNG
/// (positioned after the D2D draws) for its cycle-to-cycle noise.
pub fn sample_device(card: &Path, seed: u64) -> Result<(Model, Cell, ChaCha8Rng), DeviceCliError> {
    let model = load_card(card)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cell = model.instantiate(&mut rng);
    Ok((model, cell, rng))
}

fn columns(first: &[&str], cell: &Cell) -> Vec<String> {
    first
        .iter()
        .map(|s| s.to_string())
        .chain(cell.state_vars().into_iter().map(|(n, _)| n.to_string()))
        .collect()
}

fn check_finite(what: &str, x: f64) -> Result<(), DeviceCliError> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(input(format!("{what} must be a finite number, got {x}")))
    }
}

/// Bias of the triangle 0 → vmax → vmin → 0 at phase `u` in [0, 1] of one period. The sweep
/// rate (V/s) is constant, so each leg lasts in proportion to its voltage span.
pub fn triangle(u: f64, vmax: f64, vmin: f64) -> f64 {
    let (a, b, c) = (vmax.abs(), (vmax - vmin).abs(), vmin.abs());
    let total = a + b + c;
    let s = u.clamp(0.0, 1.0) * total;
    // Snap rounding residue at the zero crossings to an exact 0 V.
    let v = if s <= a {
        vmax * s / a.max(f64::MIN_POSITIVE)
    } else if s <= a + b {
        vmax + (vmin - vmax) * (s - a) / b.max(f64::MIN_POSITIVE)
    } else {
        vmin * (1.0 - (s - a - b) / c.max(f64::MIN_POSITIVE))
    };
    if v.abs() <= 1e-12 * total {
        0.0
    } else {
        v
    }
}

/// Quasi-static I-V of `cell` under `cycles` triangles 0 → vmax → vmin → 0 of `period_s`
/// each, sampled at `points` per cycle (first and last sample at 0 V). Between samples the
/// state advances through [`Cell::advance`] at the midpoint bias of each of a few sub-steps.
/// Columns: `time_s, v_v, i_a` and the state variables.
#[allow(clippy::too_many_arguments)]
pub fn iv_loop(
    cell: &mut Cell,
    vmax: f64,
    vmin: f64,
    period_s: f64,
    points: usize,
    cycles: usize,
    temp_k: f64,
    rng: &mut ChaCha8Rng,
) -> Result<Table, DeviceCliError> {
    for (w, x) in [("vmax", vmax), ("vmin", vmin), ("period", period_s)] {
        check_finite(w, x)?;
    }
    if vmax < 0.0 || vmin > 0.0 || vmax == vmin {
        return Err(input(format!(
            "the sweep needs vmax >= 0 >= vmin and vmax != vmin (got vmax {vmax} V, vmin {vmin} V)"
        )));
    }
    if period_s <= 0.0 {
        return Err(input(format!("period must be > 0 s, got {period_s}")));
    }
    if points < 3 {
        return Err(input(format!(
            "an I-V loop needs at least 3 points, got {points}"
        )));
    }
    let mut t = Table::new(columns(&["time_s", "v_v", "i_a"], cell));
    let n = (points - 1) * cycles.max(1);
    let dt = period_s / (points - 1) as f64;
    let h = dt / IV_SUBSTEPS as f64;
    let mut row = |k: usize, cell: &Cell| -> Result<(), ReportError> {
        let time = k as f64 * dt;
        let v = triangle((time / period_s).fract(), vmax, vmin);
        // The last sample of each period is at phase 1 (0 V), not phase 0 of the next.
        let v = if k > 0 && k % (points - 1) == 0 {
            0.0
        } else {
            v
        };
        let (i, _) = cell.current(v, temp_k);
        let mut r = vec![time, v, i];
        r.extend(cell.state_vars().into_iter().map(|(_, x)| x));
        t.push_row(r)
    };
    row(0, cell)?;
    for k in 1..=n {
        let t0 = (k - 1) as f64 * dt;
        for j in 0..IV_SUBSTEPS {
            let tm = t0 + (j as f64 + 0.5) * h;
            let v = triangle((tm / period_s).fract(), vmax, vmin);
            cell.advance(v, h, temp_k, rng);
        }
        row(k, cell)?;
    }
    Ok(t)
}

/// `xbar device iv`: quasi-static I-V loop of one device from `card` under one triangle
/// 0 → `vmax` → `vmin` → 0 (V) of `period_s` (s), `points` samples. Columns
/// `time_s, v_v, i_a, <state variables with units>`.
pub fn device_iv(
    card: &Path,
    vmax: f64,
    vmin: f64,
    period_s: f64,
    points: usize,
    seed: u64,
) -> Result<Table, DeviceCliError> {
    let (_, mut cell, mut rng) = sample_device(card, seed)?;
    if let Cell::PcmStat { .. } = cell {
        return Err(input(format!(
            "{}: family pcm_stat is a statistical model without bias-driven dynamics \
             (its I-V is the line I = g·V); use `device retention`",
            card.display()
        )));
    }
    iv_loop(
        &mut cell,
        vmax,
        vmin,
        period_s,
        points,
        1,
        DEVICE_TEMP_K,
        &mut rng,
    )
}

/// Apply `count` rectangular pulses of `amplitude_v` (V) and `width_s` (s) to `cell`, each
/// followed by an equal rest at 0 V (50 % duty; the rest also ends the PCM pulse so the next
/// one draws its own C2C factors). Reads I(v_read)/v_read before the first pulse (row
/// `pulse = 0`) and after each rest. Columns `pulse, g_s` and the state variables.
pub fn pulse_train(
    cell: &mut Cell,
    amplitude_v: f64,
    width_s: f64,
    count: usize,
    v_read: f64,
    temp_k: f64,
    rng: &mut ChaCha8Rng,
) -> Result<Table, DeviceCliError> {
    for (w, x) in [
        ("amplitude", amplitude_v),
        ("width", width_s),
        ("v_read", v_read),
    ] {
        check_finite(w, x)?;
    }
    if width_s <= 0.0 {
        return Err(input(format!("pulse width must be > 0 s, got {width_s}")));
    }
    if v_read == 0.0 {
        return Err(input("the read bias must be non-zero"));
    }
    let mut t = Table::new(columns(&["pulse", "g_s"], cell));
    let mut row = |k: usize, cell: &Cell| -> Result<(), ReportError> {
        let mut r = vec![k as f64, cell.read_conductance(v_read, temp_k)];
        r.extend(cell.state_vars().into_iter().map(|(_, x)| x));
        t.push_row(r)
    };
    row(0, cell)?;
    for k in 1..=count {
        cell.advance(amplitude_v, width_s, temp_k, rng);
        cell.advance(0.0, width_s, temp_k, rng);
        row(k, cell)?;
    }
    Ok(t)
}

/// `xbar device pulse`: conductance read at `v_read` (V) after each of `count` pulses of
/// `amplitude_v` (V, positive = SET) and `width_s` (s). Columns `pulse, g_s, <state>`.
pub fn device_pulse(
    card: &Path,
    amplitude_v: f64,
    width_s: f64,
    count: usize,
    v_read: f64,
    seed: u64,
) -> Result<Table, DeviceCliError> {
    let (_, mut cell, mut rng) = sample_device(card, seed)?;
    if let Cell::PcmStat { .. } = cell {
        return Err(input(format!(
            "{}: family pcm_stat is programmed to a target conductance, not by voltage pulses; \
             use `device retention`",
            card.display()
        )));
    }
    pulse_train(
        &mut cell,
        amplitude_v,
        width_s,
        count,
        v_read,
        DEVICE_TEMP_K,
        &mut rng,
    )
}

/// Zero-bias conductance dI/dV at V = 0 (S) of `cell` at each time in `times_s` (s, ascending,
/// >= 0), the cell resting at 0 V in between. Columns `time_s, g_s` and the state variables.
pub fn retention(
    cell: &mut Cell,
    times_s: &[f64],
    temp_k: f64,
    rng: &mut ChaCha8Rng,
) -> Result<Table, DeviceCliError> {
    if times_s.is_empty() {
        return Err(input("give at least one time"));
    }
    for (k, &x) in times_s.iter().enumerate() {
        if !(x.is_finite() && x >= 0.0) {
            return Err(input(format!(
                "time {} = {x} s must be finite and >= 0",
                k + 1
            )));
        }
        if k > 0 && x < times_s[k - 1] {
            return Err(input(format!(
                "times must be ascending: time {} = {x} s follows {} s",
                k + 1,
                times_s[k - 1]
            )));
        }
    }
    let mut t = Table::new(columns(&["time_s", "g_s"], cell));
    let mut now = 0.0;
    for &time in times_s {
        if time > now {
            cell.advance(0.0, time - now, temp_k, rng);
            now = time;
        }
        let mut r = vec![time, cell.current(0.0, temp_k).1];
        r.extend(cell.state_vars().into_iter().map(|(_, x)| x));
        t.push_row(r)?;
    }
    Ok(t)
}

/// `xbar device retention`: zero-bias conductance (S) of one device from `card` at each of
/// `times_s` (s since the start, ascending). The device starts in the card's initial state;
/// a `pcm_stat` device is first programmed (with programming noise and a drawn drift exponent)
/// to the card's `initial_g_us` (`g_max_us` when that is 0), and its noise-free drifted conductance is reported.
pub fn device_retention(card: &Path, times_s: &[f64], seed: u64) -> Result<Table, DeviceCliError> {
    let (_, mut cell, mut rng) = sample_device(card, seed)?;
    if let Cell::PcmStat { p, s } = &mut cell {
        let q = p.params();
        let g_us = if q.initial_g_us > 0.0 {
            q.initial_g_us
        } else {
            q.g_max_us
        };
        p.program(s, g_us * 1e-6, &mut rng);
    }
    retention(&mut cell, times_s, DEVICE_TEMP_K, &mut rng)
}

/// Parse a comma-separated list of times such as `1,10,1e3` (s) for `--times`.
pub fn parse_times(text: &str) -> Result<Vec<f64>, DeviceCliError> {
    text.split(',')
        .map(|s| {
            let s = s.trim();
            crate::circuit::number::parse_number(s)
                .filter(|x| x.is_finite())
                .ok_or_else(|| input(format!("bad time `{s}` in --times (expected seconds)")))
        })
        .collect()
}

/// The README's device section: per family a parameter table generated from the
/// declarations that drive validation, and the `xbar device` commands. The test
/// `device_int_docs` fails when the file differs (regenerate with `XBAR_UPDATE_DOCS=1`).
pub fn devices_markdown() -> String {
    let mut s = String::from(
        "<!-- Generated by xbarsim::app::device::devices_markdown(); do not edit by hand.\n     \
         Regenerate: XBAR_UPDATE_DOCS=1 cargo test --test device_int_docs -->\n\
         # Device models\n\n\
         Cards live in `device-models/*.toml` and name their `family`. Every family uses one \
         layout: `family`, `source` (and optional `name`) at top level, model parameters under \
         `[params]`, cycle-to-cycle and noise coefficients under `[variability.c2c]` and \
         device-to-device entries under `[variability.d2d]`. In every family a D2D entry may \
         spread a `[params]` key (`key = { rel = σ }` lognormal or `{ abs = σ }` normal, drawn \
         in declaration order and kept in range); `pcm` and `mtj` also declare named D2D \
         coefficients (e.g. `nu_sigma = 0.045`, a plain number), listed below in their section \
         and applied by the family's own sampling. The older flat layout of the `pcm`, \
         `pcm_stat` and `mtj` cards (parameters at top level, coefficients under \
         `[variability]`) is still read and gives the same model (tests/device_registry.rs). \
         Every family's parameters are declared once, with the same `params!` macro: unknown \
         keys, keys in the wrong section, values outside the declared range (`allowed` below) \
         and every missing required key (`required` below) are errors naming file, line and \
         key; a `.model` line may omit a required key that has a declared default.\n\n\
         The families come from one registry (`registry!` in `src/device/mod.rs`, one line per \
         family): the `Cell` and `Model` enums and their dispatch, the family keys, card and \
         `.model` loading, these tables, the CLI defaults and bias limits, the `--initial \
         lrs|hrs|VALUE` states, the crossbar's program-and-verify inverse (state for a target \
         conductance) and the fit's default free parameters and start card are generated from \
         it. A family is one module that declares each parameter once (name, symbol, unit, \
         default, range or requirement, section, meaning) and implements `device::Family` \
         (static I-V with dI/dV, state advance over dt, read conductance, ngspice export \
         expression, state variables, and where they exist the state fraction between HRS and \
         LRS and the inverse of the read law). Adding one = the module, its card in \
         `device-models/`, one registry line (which also declares the module): `jart` was \
         added that way, with no edit to any other source file.\n\n\
         `jart` is JART VCM v1b (Bengel et al., IEEE TCAS-I 67(12) 4618, 2020): state N_disc, \
         the vacancy concentration of the disc, moved by the field-lowered ionic hopping current \
         with Joule heating T = T0 + I·(V − V_series)·R_th,eff; its static I-V is the explicit \
         fit of Ntinas et al. (SMACD 2023) of the published Schottky-plus-series law, which \
         agrees with aihwkit's independent fit within 5 % (tests/device_jart.rs). The published \
         model SETs at negative voltage on its active electrode; here positive `v` is SET, so \
         `v` = −V_M. Under its published ±1.3 V, 1 V/s sweep at 293 K it SETs abruptly at \
         +0.61 V and RESETs between −0.87 V and −0.93 V, then declines slowly to −1.3 V \
         (`notebooks-out/device_iv_jart.png`).\n\n\
         In a netlist, a cell is `N<name> <n+> <n-> <model>` with either\n\n\
         ```\n.model cell oxram (i0=1e-3 g0=0.25e-9 v0=0.25 g_min=0.2e-9 g_max=1.7e-9 g_ini=1.7e-9)\n\
         .model cell pcm (card=../device-models/pcm_gst_mushroom.toml)\n```\n\n\
         `.model` keys are the last component of the keys below (`nu_sigma`, or \
         `variability.nu_sigma`); `card=` paths are relative to the netlist file. Netlist \
         cells are the nominal device (no D2D) in the card's initial state. Positive voltage \
         (n+ above n-) is SET for `oxram`, `cbram`, `fgate` and `jart`; for `mtj` positive current \
         drives AP→P; the `pcm` law is odd in V, so either polarity heats (SETs or RESETs) it; \
         `pcm_stat` is a linear conductance.\n\n",
    );
    for f in crate::device::FAMILIES {
        s.push_str(&format!("## `{f}`\n\n"));
        s.push_str(&crate::device::param_table_markdown(f).unwrap_or_default());
        s.push('\n');
    }
    s.push_str(
        "## Commands\n\n\
         ```\n\
         xbar device iv CARD [--vmax V] [--vmin V] [--period S] [--points N] [--waveform FILE.csv] [BENCH]\n\
         xbar device pulse CARD --amplitude V --width S --count N [BENCH]\n\
         xbar device retention CARD --times T1,T2,... [BENCH]\n\
         \n\
         BENCH: [--compliance A] [--reset-compliance A] [--series-r OHM] [--access 1T1R --v-gate V]\n\
         \x20      [--v-cg V] [--temperature K] [--nominal] [--seed N] [--devices N] [--v-read V]\n\
         \x20      [--initial lrs|hrs|card|G_S] [-o FILE.csv]\n\
         ```\n\n\
         - `iv`: quasi-static I-V loop under one triangle 0 → vmax → vmin → 0 of the source over \
         `--period` (family defaults: oxram ±1.5 V / 1 s, cbram ±1.5 V / 1 s, pcm ±1.6 V / 1 µs, \
         mtj ±0.3 V / 1 µs, fgate ±14 V / 1 ms), `--points` samples (401). `--waveform` drives \
         the source from a CSV `time_s,v_v` (through the bench) or forces the cell current from \
         `time_s,i_a`, piecewise linear. Columns `[device,]time_s,v_v,v_cell_v,i_a,<state>` \
         (`v_v` the source, `v_cell_v` across the cell).\n\
         - `pulse`: conductance I(`--v-read`)/`--v-read` before and after each of `--count` \
         rectangular pulses of the source (each followed by an equal rest at 0 V). Columns \
         `[device,]pulse,g_s,<state>`.\n\
         - `retention`: zero-bias conductance dI/dV at the given times (s) at `--temperature` \
         (a bake at 358.15 K is 85 °C; every thermal law, Arrhenius retention included, uses it). \
         A `pcm_stat` cell is first programmed to `--initial` (or `initial_g_us`, else \
         `g_max_us`). Columns `[device,]time_s,g_s,<state>`.\n\n\
         The bench, in series from the source: `--series-r`, the cell, and with `--access 1T1R` an \
         n-MOSFET to ground (Shichman-Hodges, VTO 0.7 V, β = KP·W/L = 6e-4 A/V², λ = 0, the PKU \
         netlist's transistor) at gate `--v-gate`; its saturation current β/2·(V_G − 0.7 V)² is the \
         SET compliance. `--compliance` is an SMU clamp of the SET polarity (positive source): the \
         source turns into a current source there, as in a forming or SET measurement; RESET is \
         clamped only by `--reset-compliance`. `--v-cg` drives the control gate of an `fgate` cell \
         (default the card's `v_cg`). The device is sampled from the card with its D2D spread \
         (ChaCha8, `--seed`, device k on stream k), which also drives the cycle-to-cycle noise; \
         `--nominal` takes the card's nominal device; `--devices N` repeats the experiment on N \
         devices and adds a `device` column. `--initial` sets the state before the experiment: \
         `lrs`/`hrs` the family's extreme states, or a conductance (S) read at `--v-read`.\n\n\
         Refused with a message (exit code 1): non-positive widths, periods or temperatures, \
         biases past what the family survives (|V| > 10 V; 5 V for mtj; 40 V for fgate), periods \
         over 1e6 s, more than 1e6 points, malformed waveform rows (file:line named). \
         `pcm_stat` has no bias-driven dynamics, so `iv` and `pulse` refuse it.\n\n\
         Model notes for experiments: MTJ reads disturb — at 0.1 V an AP cell carries 0.80·Ic, \
         a mean time to flip of 0.14 µs (half of the AP cells flip in a 100 ns read), and at zero bias the cell flips \
         thermally with mean τ0·e^Δ = 59 s at 300 K (1.1 s at 85 °C); see \
         `MtjModel::read_disturb_probability` and `retention_time_s`. A floating-gate cell \
         programs with the gate at +18 V and erases at −18 V (ΔV_th ±3.3 V in 100 µs).\n\n\
         Examples:\n\n\
         ```\n\
         xbar device iv device-models/oxram-stanford-v1.toml --compliance 500u -o iv.csv\n\
         xbar device iv device-models/oxram-stanford-v1.toml --access 1T1R --v-gate 1.2 --devices 25 -o iv_mc.csv\n\
         xbar device pulse device-models/pcm_gst_mushroom.toml --amplitude 1.5 --width 100e-9 --count 30 -o set.csv\n\
         xbar device pulse device-models/fgate-flash.toml --amplitude 0 --v-cg 18 --width 100u --count 3 -o pgm.csv\n\
         xbar device retention device-models/fgate-flash.toml --initial hrs --temperature 358.15 --times 1,1e3,1e6,1e9\n\
         ```\n\n\
         Figures: `cargo run --example device_figures` writes `notebooks-out/device_*.{csv,svg,png}`.\n",
    );
    s
}

/// Largest |bias| (V) a family's experiment accepts: the family's declared
/// [`crate::device::Family::MAX_BIAS_V`] (10 V unless the family says otherwise; 5 V for mtj,
/// 40 V for fgate).
pub fn max_bias_v(family: &str) -> f64 {
    crate::device::Model::max_bias_v(family).unwrap_or(10.0)
}

/// Refuse a drive amplitude the family cannot sensibly take.
pub fn check_bias(family: &str, what: &str, v: f64) -> Result<(), DeviceCliError> {
    check_finite(what, v)?;
    let m = max_bias_v(family);
    if v.abs() > m {
        let v = if v.abs() < 1e6 {
            format!("{v}")
        } else {
            format!("{v:e}")
        };
        return Err(input(format!(
            "{what} = {v} V is far past breakdown of a {family} cell; this experiment accepts |V| <= {m} V"
        )));
    }
    Ok(())
}

/// Initial state of an experiment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Initial {
    /// The card's initial state.
    Card,
    /// Fully SET (lowest resistance state).
    Lrs,
    /// Fully RESET (highest resistance state).
    Hrs,
    /// Conductance target (S) read at the experiment's read bias.
    Conductance(f64),
}

impl std::str::FromStr for Initial {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "card" => Ok(Initial::Card),
            "lrs" => Ok(Initial::Lrs),
            "hrs" => Ok(Initial::Hrs),
            t => crate::spice::number::parse_number(t)
                .filter(|g| g.is_finite() && *g > 0.0)
                .map(Initial::Conductance)
                .ok_or_else(|| {
                    format!("--initial must be lrs, hrs, card or a conductance > 0 in S, got `{s}`")
                }),
        }
    }
}

/// Prepare `cell` in the state `init`, reading at `v_read` (V) and `temp_k` (K). What "lrs",
/// "hrs" and a conductance mean is each family's own ([`crate::device::Family::set_extreme`],
/// [`crate::device::Family::set_state_fraction`], [`crate::device::Family::program_initial`]).
pub fn set_initial(
    cell: &mut Cell,
    init: Initial,
    v_read: f64,
    temp_k: f64,
    rng: &mut ChaCha8Rng,
) -> Result<(), DeviceCliError> {
    let fam = cell.family();
    match init {
        Initial::Card => Ok(()),
        Initial::Lrs | Initial::Hrs => {
            if cell.set_extreme(init == Initial::Lrs, rng) {
                Ok(())
            } else {
                Err(input(format!(
                    "--initial lrs|hrs: family {fam} has no extreme states"
                )))
            }
        }
        Initial::Conductance(target) => {
            // A family with a state fraction has a window to check the target against.
            let mut probe = cell.clone();
            if probe.set_state_fraction(0.0) {
                let g0 = probe.read_conductance(v_read, temp_k);
                probe.set_state_fraction(1.0);
                let g1 = probe.read_conductance(v_read, temp_k);
                let (lo_g, hi_g) = (g0.min(g1), g0.max(g1));
                if !(target >= lo_g && target <= hi_g) {
                    return Err(input(format!(
                        "--initial {target:e} S is outside the {fam} cell's range \
                         [{lo_g:e}, {hi_g:e}] S at {v_read} V"
                    )));
                }
            }
            if cell.program_initial(target, v_read, temp_k, rng) {
                Ok(())
            } else {
                Err(input(format!(
                    "--initial VALUE: family {fam} has two states; use lrs or hrs"
                )))
            }
        }
    }
}

/// How to get the device(s) of an experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    /// ChaCha8 seed; device `k` uses stream `k`.
    pub seed: u64,
    /// No device-to-device draw (the card's nominal device).
    pub nominal: bool,
    /// Monte Carlo over this many devices (≥ 1).
    pub devices: usize,
    pub initial: Initial,
    /// Read bias (V) of conductance reads and of `--initial VALUE`.
    pub v_read: f64,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            seed: 0,
            nominal: false,
            devices: 1,
            initial: Initial::Card,
            v_read: DEFAULT_V_READ,
        }
    }
}

/// Most devices of one Monte Carlo experiment.
pub const MAX_DEVICES: usize = 100_000;
/// Most samples of one sweep or waveform.
pub const MAX_POINTS: usize = 1_000_000;

impl Setup {
    fn validate(&self) -> Result<(), DeviceCliError> {
        if self.devices == 0 || self.devices > MAX_DEVICES {
            return Err(input(format!(
                "--devices must be in 1..={MAX_DEVICES}, got {}",
                self.devices
            )));
        }
        check_finite("--v-read", self.v_read)?;
        if self.v_read == 0.0 || self.v_read.abs() > 5.0 {
            return Err(input(format!(
                "--v-read must be non-zero and within ±5 V, got {}",
                self.v_read
            )));
        }
        Ok(())
    }

    /// Device `k` of the experiment, prepared in its initial state, with its own RNG (stream k).
    pub fn device(
        &self,
        model: &Model,
        k: usize,
        bench: &Bench,
    ) -> Result<(Cell, ChaCha8Rng), DeviceCliError> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(k as u64);
        let mut cell = if self.nominal {
            model.nominal_cell()
        } else {
            model.instantiate(&mut rng)
        };
        set_initial(&mut cell, self.initial, self.v_read, bench.temp_k, &mut rng)?;
        Ok((cell, rng))
    }
}

/// One experiment over every device of `setup`: `run` gives each device's table; with more
/// than one device a `device` column (0-based) is prepended and the tables are stacked in device
/// order. Devices run in parallel (rayon); each has its own RNG stream, so the result does not
/// depend on the thread count.
fn over_devices(
    model: &Model,
    setup: &Setup,
    bench: &Bench,
    run: impl Fn(&mut Cell, &mut ChaCha8Rng) -> Result<Table, DeviceCliError> + Sync,
) -> Result<Table, DeviceCliError> {
    use rayon::prelude::*;
    setup.validate()?;
    bench.validate()?;
    if setup.devices == 1 {
        let (mut cell, mut rng) = setup.device(model, 0, bench)?;
        return run(&mut cell, &mut rng);
    }
    let bar = indicatif::ProgressBar::new(setup.devices as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("devices {pos}/{len} {wide_bar} {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let tables: Vec<Result<Table, DeviceCliError>> = (0..setup.devices)
        .into_par_iter()
        .map(|k| {
            let (mut cell, mut rng) = setup.device(model, k, bench)?;
            let t = run(&mut cell, &mut rng);
            bar.inc(1);
            t
        })
        .collect();
    bar.finish_and_clear();
    let mut out: Option<Table> = None;
    for (k, t) in tables.into_iter().enumerate() {
        let t = t?;
        let o = out.get_or_insert_with(|| {
            let mut cols = vec!["device".to_string()];
            cols.extend(t.columns.iter().cloned());
            Table::new(cols)
        });
        for r in &t.rows {
            let mut row = vec![k as f64];
            row.extend_from_slice(r);
            o.push_row(row)?;
        }
    }
    Ok(out.expect("at least one device"))
}

fn refuse_pcm_stat(card: &Path, cell_family: &str, what: &str) -> Result<(), DeviceCliError> {
    if cell_family == "pcm_stat" {
        return Err(input(format!(
            "{}: family pcm_stat is a statistical model without bias-driven dynamics; \
             `device {what}` needs one (use `device retention`)",
            card.display()
        )));
    }
    Ok(())
}

/// I-V loop on a bench: triangle 0 → vmax → vmin → 0 of the source over `period_s`, `points`
/// samples. Columns `time_s, v_v` (source), `v_cell_v, i_a` and the state variables.
#[allow(clippy::too_many_arguments)]
pub fn iv_loop_bench(
    cell: &mut Cell,
    bench: &Bench,
    vmax: f64,
    vmin: f64,
    period_s: f64,
    points: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Table, DeviceCliError> {
    let mut t = Table::new(columns(&["time_s", "v_v", "v_cell_v", "i_a"], cell));
    let n = points - 1;
    let dt = period_s / n as f64;
    let h = dt / IV_SUBSTEPS as f64;
    let row = |k: usize, cell: &Cell, t: &mut Table| -> Result<(), DeviceCliError> {
        let time = k as f64 * dt;
        let v = if k == n {
            0.0
        } else {
            triangle(time / period_s, vmax, vmin)
        };
        let (vc, i) = bench.operate(cell, v);
        let mut r = vec![time, v, vc, i];
        r.extend(cell.state_vars().into_iter().map(|(_, x)| x));
        if let Some(bad) = r.iter().position(|x| !x.is_finite()) {
            return Err(input(format!(
                "non-finite {} at t = {time} s (source {v} V)",
                t.columns[bad]
            )));
        }
        t.push_row(r)?;
        Ok(())
    };
    row(0, cell, &mut t)?;
    for k in 1..=n {
        let t0 = (k - 1) as f64 * dt;
        for j in 0..IV_SUBSTEPS {
            let tm = t0 + (j as f64 + 0.5) * h;
            if bench.state_dependent() {
                // Refined as in `advance_ramp`, so a sweep and its waveform agree.
                let ta = triangle((t0 + j as f64 * h) / period_s, vmax, vmin);
                let tb = triangle((t0 + (j + 1) as f64 * h) / period_s, vmax, vmin);
                bench.advance_segment(cell, ta, tb, h, rng);
            } else {
                bench.advance(cell, triangle(tm / period_s, vmax, vmin), h, rng);
            }
        }
        row(k, cell, &mut t)?;
    }
    Ok(t)
}

/// Longest sweep period or waveform (s) an experiment accepts (about 11.6 days).
pub const MAX_PERIOD_S: f64 = 1e6;

/// `xbar device iv` with every bench option: columns `[device,] time_s, v_v, v_cell_v, i_a,
/// <state>`.
#[allow(clippy::too_many_arguments)]
pub fn device_iv_bench(
    card: &Path,
    setup: &Setup,
    bench: &Bench,
    vmax: f64,
    vmin: f64,
    period_s: f64,
    points: usize,
) -> Result<Table, DeviceCliError> {
    let model = load_card(card)?;
    let fam = model.family();
    refuse_pcm_stat(card, fam, "iv")?;
    check_bias(fam, "--vmax", vmax)?;
    check_bias(fam, "--vmin", vmin)?;
    if vmax < 0.0 || vmin > 0.0 || vmax == vmin {
        return Err(input(format!(
            "the sweep needs vmax >= 0 >= vmin and vmax != vmin (got vmax {vmax} V, vmin {vmin} V)"
        )));
    }
    check_finite("--period", period_s)?;
    if !(period_s > 0.0 && period_s <= MAX_PERIOD_S) {
        return Err(input(format!(
            "--period must be > 0 s and <= {MAX_PERIOD_S:e} s, got {period_s}"
        )));
    }
    if !(3..=MAX_POINTS).contains(&points) {
        return Err(input(format!(
            "--points must be in 3..={MAX_POINTS}, got {points}"
        )));
    }
    over_devices(&model, setup, bench, |cell, rng| {
        iv_loop_bench(cell, bench, vmax, vmin, period_s, points, rng)
    })
}

/// `xbar device pulse` with every bench option: conductance read at `setup.v_read` before and
/// after each of `count` pulses of the source (each followed by an equal rest at 0 V). Columns
/// `[device,] pulse, g_s, <state>`.
pub fn device_pulse_bench(
    card: &Path,
    setup: &Setup,
    bench: &Bench,
    amplitude_v: f64,
    width_s: f64,
    count: usize,
) -> Result<Table, DeviceCliError> {
    let model = load_card(card)?;
    let fam = model.family();
    refuse_pcm_stat(card, fam, "pulse")?;
    check_bias(fam, "--amplitude", amplitude_v)?;
    check_finite("--width", width_s)?;
    if !(width_s > 0.0 && width_s <= MAX_PERIOD_S) {
        return Err(input(format!(
            "--width must be > 0 s and <= {MAX_PERIOD_S:e} s, got {width_s}"
        )));
    }
    if count > MAX_POINTS {
        return Err(input(format!(
            "--count must be <= {MAX_POINTS}, got {count}"
        )));
    }
    over_devices(&model, setup, bench, |cell, rng| {
        let mut t = Table::new(columns(&["pulse", "g_s"], cell));
        let read = |cell: &Cell| bench_read(bench, cell, setup.v_read);
        let mut r = vec![0.0, read(cell)];
        r.extend(cell.state_vars().into_iter().map(|(_, x)| x));
        t.push_row(r)?;
        for k in 1..=count {
            bench.advance(cell, amplitude_v, width_s, rng);
            bench.advance(cell, 0.0, width_s, rng);
            let mut r = vec![k as f64, read(cell)];
            r.extend(cell.state_vars().into_iter().map(|(_, x)| x));
            t.push_row(r)?;
        }
        Ok(t)
    })
}

/// Read conductance of the cell itself (S) at `v_read`, control gate applied.
fn bench_read(bench: &Bench, cell: &Cell, v_read: f64) -> f64 {
    cell.current_gated(v_read, bench.gate(cell), bench.temp_k).0 / v_read
}

/// `xbar device retention` at the bench temperature (a bake): zero-bias conductance at each of
/// `times_s`. A `pcm_stat` device is programmed first (to `--initial`, else `initial_g_us` or
/// `g_max_us`). Columns `[device,] time_s, g_s, <state>`.
pub fn device_retention_bench(
    card: &Path,
    setup: &Setup,
    bench: &Bench,
    times_s: &[f64],
) -> Result<Table, DeviceCliError> {
    let model = load_card(card)?;
    if let Some(&t) = times_s.last() {
        if t > 1e10 {
            return Err(input(format!(
                "times must be <= 1e10 s (about 300 years), got {t}"
            )));
        }
    }
    over_devices(&model, setup, bench, |cell, rng| {
        if setup.initial == Initial::Card {
            if let Cell::PcmStat { p, s } = cell {
                let q = p.params();
                let g_us = if q.initial_g_us > 0.0 {
                    q.initial_g_us
                } else {
                    q.g_max_us
                };
                p.program(s, g_us * 1e-6, rng);
            }
        }
        retention(cell, times_s, bench.temp_k, rng)
    })
}

/// A drive waveform read from CSV: `time_s,v_v` (voltage) or `time_s,i_a` (current).
#[derive(Clone, Debug, PartialEq)]
pub struct Waveform {
    pub times_s: Vec<f64>,
    pub values: Vec<f64>,
    /// True for a current waveform (`i_a`).
    pub current: bool,
}

/// Read a waveform CSV; errors name the file, the line and what is wrong.
pub fn read_waveform(path: &Path) -> Result<Waveform, DeviceCliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| input(format!("{}: cannot read waveform: {e}", path.display())))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let (_, header) = lines
        .next()
        .ok_or_else(|| input(format!("{}: empty waveform file", path.display())))?;
    let cols: Vec<String> = header
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let current = match cols
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["time_s", "v_v"] => false,
        ["time_s", "i_a"] => true,
        _ => {
            return Err(input(format!(
                "{}:1: header must be `time_s,v_v` or `time_s,i_a`, got `{header}`",
                path.display()
            )))
        }
    };
    let mut w = Waveform {
        times_s: Vec::new(),
        values: Vec::new(),
        current,
    };
    for (ln, l) in lines {
        let f: Vec<&str> = l.split(',').map(str::trim).collect();
        let num = |s: &str| crate::spice::number::parse_number(s).filter(|x| x.is_finite());
        let (Some(t), Some(x), 2) = (
            f.first().and_then(|s| num(s)),
            f.get(1).and_then(|s| num(s)),
            f.len(),
        ) else {
            return Err(input(format!(
                "{}:{}: expected two finite numbers `time_s,value`, got `{l}`",
                path.display(),
                ln + 1
            )));
        };
        if let Some(&prev) = w.times_s.last() {
            if t <= prev {
                return Err(input(format!(
                    "{}:{}: time {t} s must increase (previous {prev} s)",
                    path.display(),
                    ln + 1
                )));
            }
        } else if t < 0.0 {
            return Err(input(format!(
                "{}:{}: time {t} s must be >= 0",
                path.display(),
                ln + 1
            )));
        }
        w.times_s.push(t);
        w.values.push(x);
    }
    if w.times_s.len() < 2 {
        return Err(input(format!(
            "{}: a waveform needs at least two rows",
            path.display()
        )));
    }
    if w.times_s.len() > MAX_POINTS {
        return Err(input(format!(
            "{}: more than {MAX_POINTS} rows",
            path.display()
        )));
    }
    if w.times_s[w.times_s.len() - 1] > MAX_PERIOD_S {
        return Err(input(format!(
            "{}: the waveform lasts longer than {MAX_PERIOD_S:e} s",
            path.display()
        )));
    }
    Ok(w)
}

/// Drive the device(s) with a piecewise-linear waveform. A voltage waveform is the source of the
/// bench (series R, compliance, access apply); a current waveform forces the cell current (the
/// bench's series parts do not change a forced current). Sampled at the waveform's rows, with
/// sub-steps at the midpoint values in between. Columns `[device,] time_s, v_v, v_cell_v, i_a,
/// <state>`.
pub fn device_waveform(
    card: &Path,
    setup: &Setup,
    bench: &Bench,
    w: &Waveform,
) -> Result<Table, DeviceCliError> {
    let model = load_card(card)?;
    let fam = model.family();
    refuse_pcm_stat(card, fam, "iv --waveform")?;
    if !w.current {
        for &v in &w.values {
            check_bias(fam, "waveform voltage", v)?;
        }
    }
    over_devices(&model, setup, bench, |cell, rng| {
        waveform_bench(cell, bench, w, rng)
    })
}

/// Drive one cell with waveform `w` on `bench` (see [`device_waveform`]): the same sampling and
/// sub-steps as `xbar device iv --waveform`. Columns `time_s, v_v, v_cell_v, i_a, <state>`.
pub fn waveform_bench(
    cell: &mut Cell,
    bench: &Bench,
    w: &Waveform,
    rng: &mut ChaCha8Rng,
) -> Result<Table, DeviceCliError> {
    let fam = cell.family();
    let vmax = max_bias_v(fam);
    let mut t = Table::new(columns(&["time_s", "v_v", "v_cell_v", "i_a"], cell));
    let point = |cell: &Cell, x: f64| -> Result<(f64, f64, f64), DeviceCliError> {
        if w.current {
            let v = bench
                .cell_voltage_for(cell, x, vmax * x.signum())
                .ok_or_else(|| {
                    input(format!(
                        "waveform current {x} A needs more than {vmax} V across the {fam} cell"
                    ))
                })?;
            Ok((v, v, x))
        } else {
            let (vc, i) = bench.operate(cell, x);
            Ok((x, vc, i))
        }
    };
    let push = |t: &mut Table, time: f64, p: (f64, f64, f64), cell: &Cell| {
        let mut r = vec![time, p.0, p.1, p.2];
        r.extend(cell.state_vars().into_iter().map(|(_, x)| x));
        t.push_row(r)
    };
    let p0 = point(cell, w.values[0])?;
    push(&mut t, w.times_s[0], p0, cell)?;
    for k in 1..w.times_s.len() {
        let (t0, t1) = (w.times_s[k - 1], w.times_s[k]);
        let (x0, x1) = (w.values[k - 1], w.values[k]);
        if w.current {
            let h = (t1 - t0) / IV_SUBSTEPS as f64;
            for j in 0..IV_SUBSTEPS {
                let f = (j as f64 + 0.5) / IV_SUBSTEPS as f64;
                let (v, _, _) = point(cell, x0 + f * (x1 - x0))?;
                let g = bench.gate(cell);
                cell.advance_gated(v, g, h, bench.temp_k, rng);
            }
        } else {
            bench.advance_ramp(cell, x0, x1, t1 - t0, rng);
        }
        let p = point(cell, x1)?;
        push(&mut t, t1, p, cell)?;
    }
    Ok(t)
}

/// Id–Vcg transfer curve of a floating-gate cell at drain bias `v_d` (V): columns `v_cg_v, i_a`.
pub fn transfer_curve(
    cell: &Cell,
    v_d: f64,
    vcg_min: f64,
    vcg_max: f64,
    points: usize,
    temp_k: f64,
) -> Result<Table, DeviceCliError> {
    if !cell.has_control_gate() {
        return Err(input(format!(
            "family {} has no control gate; Id–Vcg needs fgate",
            cell.family()
        )));
    }
    if !(2..=MAX_POINTS).contains(&points) || !(vcg_max > vcg_min) {
        return Err(input("need points >= 2 and vcg_max > vcg_min"));
    }
    let mut t = Table::new(["v_cg_v", "i_a"]);
    for k in 0..points {
        let vg = vcg_min + (vcg_max - vcg_min) * k as f64 / (points - 1) as f64;
        t.push_row(vec![vg, cell.current_gated(v_d, vg, temp_k).0])?;
    }
    Ok(t)
}
