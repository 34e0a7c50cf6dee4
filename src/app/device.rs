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

/// Ambient temperature of the device experiments (K).
pub const DEVICE_TEMP_K: f64 = 300.0;
/// Default number of samples of an I-V loop.
pub const DEFAULT_IV_POINTS: usize = 401;
/// Default read bias of `device_pulse` (V): below every family's switching threshold.
pub const DEFAULT_V_READ: f64 = 0.1;
/// Sub-steps of the state integration between two samples of a sweep; the bias of each is the
/// sweep's value at the sub-step midpoint, so the triangle is followed to second order.
const IV_SUBSTEPS: usize = 8;

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

fn input(msg: impl Into<String>) -> DeviceCliError {
    DeviceCliError::Input(msg.into())
}

/// Default I-V sweep of a family, `(vmax_v, vmin_v, period_s)`, chosen so the loop shows the
/// family's switching: OxRAM ±1.5 V over 1 s (the field gate opens near 1.4 V in the HRS),
/// CBRAM ±1.5 V over 1 s (vertical growth through 50 nm takes ms there), PCM ±1.6 V over 1 µs
/// (threshold 1.2 V), MTJ ±0.3 V over 1 µs (|I| > Ic ≈ 15-30 µA at R ≈ 4-8 kΩ), FG ±14 V over
/// 1 ms (FN needs ~10 MV/cm across the 8 nm tunnel oxide).
pub fn iv_defaults(family: &str) -> (f64, f64, f64) {
    match family {
        "oxram" => (1.5, -1.5, 1.0),
        "cbram" => (1.5, -1.5, 1.0),
        "pcm" => (1.6, -1.6, 1e-6),
        "mtj" => (0.3, -0.3, 1e-6),
        "fgate" => (14.0, -14.0, 1e-3),
        _ => (1.0, -1.0, 1.0),
    }
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
        "<!-- Generated by xbarsim::device::cli::devices_markdown(); do not edit by hand.\n     \
         Regenerate: XBAR_UPDATE_DOCS=1 cargo test --test device_int_docs -->\n\
         # Device models\n\n\
         Cards live in `device-models/*.toml` and name their `family`. `oxram`, `cbram` and \
         `fgate` cards put parameters under `[params]`, cycle-to-cycle keys under \
         `[variability.c2c]` and device-to-device spreads under `[variability.d2d]` \
         (`key = { rel = σ }` lognormal or `{ abs = σ }` normal). `pcm`, `pcm_stat` and `mtj` \
         cards are flat: parameters at top level, variability sigmas under `[variability]`.\n\n\
         In a netlist, a cell is `N<name> <n+> <n-> <model>` with either\n\n\
         ```\n.model cell oxram (i0=1e-3 g0=0.25e-9 v0=0.25 g_min=0.2e-9 g_max=1.7e-9 g_ini=1.7e-9)\n\
         .model cell pcm (card=../device-models/pcm_gst_mushroom.toml)\n```\n\n\
         `.model` keys are the last component of the keys below (`variability.nu_sigma` or \
         `nu_sigma` for flat families); `card=` paths are relative to the netlist file. Netlist \
         cells are the nominal device (no D2D) in the card's initial state. Positive voltage \
         (n+ above n-) is SET for `oxram`, `cbram` and `fgate`; for `mtj` positive current \
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
         xbar device iv CARD [--vmax V] [--vmin V] [--period S] [-o FILE.csv] [--seed N]\n\
         xbar device pulse CARD --amplitude V --width S --count N [-o FILE.csv] [--seed N]\n\
         xbar device retention CARD --times T1,T2,... [-o FILE.csv] [--seed N]\n\
         ```\n\n\
         - `iv`: quasi-static I-V loop under one triangle 0 → vmax → vmin → 0 over `--period` \
         (family defaults: oxram ±1.5 V / 1 s, cbram ±1.5 V / 1 s, pcm ±1.6 V / 1 µs, \
         mtj ±0.3 V / 1 µs, fgate ±14 V / 1 ms), 401 samples. Columns \
         `time_s,v_v,i_a,<state>`.\n\
         - `pulse`: conductance I(0.1 V)/0.1 V before and after each of `--count` rectangular \
         pulses (each followed by an equal rest at 0 V). Columns `pulse,g_s,<state>`.\n\
         - `retention`: zero-bias conductance dI/dV at the given times (s), the cell resting at \
         0 V. A `pcm_stat` cell is first programmed to `initial_g_us` (or `g_max_us`). Columns \
         `time_s,g_s,<state>`.\n\n\
         The device is sampled from the card with its D2D spread using `--seed` (ChaCha8), \
         which also drives the cycle-to-cycle noise; 300 K ambient. `pcm_stat` has no \
         bias-driven dynamics, so `iv` and `pulse` refuse it.\n\n\
         Examples:\n\n\
         ```\n\
         xbar device iv device-models/oxram-stanford-v1.toml --vmax 1.5 --vmin -1.5 -o iv.csv\n\
         xbar device pulse device-models/pcm_gst_mushroom.toml --amplitude 1.5 --width 100e-9 --count 30 -o set.csv\n\
         xbar device retention device-models/pcm_gst_mushroom.toml --times 1,10,100,1e3,1e4,1e5 -o drift.csv\n\
         ```\n\n\
         Figures: `cargo run --example device_figures` writes `notebooks-out/device_*.{csv,svg,png}`.\n",
    );
    s
}
