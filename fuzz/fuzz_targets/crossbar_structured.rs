//! Crossbar configs derived from the fuzz bytes (issue 12): the bytes choose the cell kind,
//! the law (linear, sinh, or a device card from `device-models/`), sizes up to 16×16, wire,
//! driver and sense resistances (0 and extremes included), DAC/ADC bits, device effects,
//! seeds and the inputs, so every execution reaches the array builder and solver (the
//! `crossbar_config` target mostly exercises the TOML parser). The config goes through
//! `Crossbar::from_toml_str`, the same validation a user's file gets; then one MVM batch and
//! one-cell reads with each scheme. Errors are fine; a panic, or an Ok result with a
//! non-finite number, is a finding.
#![no_main]

use std::path::Path;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use toml::{Table, Value};
use xbarsim::crossbar::{mvm, read_cell, Crossbar, ReadScheme};

const CARDS: [&str; 7] = [
    "cbram-yu-wong.toml",
    "fgate-flash.toml",
    "jart_vcm_v1b.toml",
    "mtj_pma_cheng2014.toml",
    "oxram-stanford-v1.toml",
    "pcm_gst_mushroom.toml",
    "pcm_stat_aihwkit.toml",
];

/// A float that is usually a plausible value (log-uniform between `lo` and `hi`), sometimes
/// 0, an extreme, negative, or whatever the bytes spell (NaN and infinities included).
fn value(u: &mut Unstructured, lo: f64, hi: f64) -> Result<f64> {
    Ok(match u.int_in_range(0u8..=15)? {
        0 => 0.0,
        1 => *u.choose(&[1e-300, 1e300, f64::MIN_POSITIVE, 1e-30, 1e30])?,
        2 => -(lo * hi).sqrt(),
        3 => u.arbitrary::<f64>()?,
        _ => {
            let t = u.int_in_range(0u16..=1000)? as f64 / 1000.0;
            lo * (hi / lo).powf(t)
        }
    })
}

/// Sets `key` in `t` to a derived value with probability ~1/2 (otherwise the default).
fn maybe(u: &mut Unstructured, t: &mut Table, key: &str, lo: f64, hi: f64) -> Result<()> {
    if u.arbitrary::<bool>()? {
        t.insert(key.into(), Value::Float(value(u, lo, hi)?));
    }
    Ok(())
}

fn config(u: &mut Unstructured) -> Result<(Table, usize, usize)> {
    let rows = u.int_in_range(1usize..=16)?;
    let cols = u.int_in_range(1usize..=16)?;
    let cell = *u.choose(&["0T1R", "1S1R", "1T1R", "2T2R"])?;
    let mut top = Table::new();
    top.insert("rows".into(), Value::Integer(rows as i64));
    top.insert("cols".into(), Value::Integer(cols as i64));
    top.insert("cell".into(), Value::String(cell.into()));
    top.insert("seed".into(), Value::Integer(u.arbitrary::<u32>()? as i64));
    maybe(u, &mut top, "temperature", 200.0, 500.0)?;

    let mut dev = Table::new();
    match u.int_in_range(0u8..=2)? {
        0 => {
            dev.insert("kind".into(), Value::String("linear".into()));
        }
        1 => {
            dev.insert("kind".into(), Value::String("sinh".into()));
            maybe(u, &mut dev, "v0", 0.01, 1.0)?;
        }
        _ => {
            dev.insert("kind".into(), Value::String("card".into()));
            let card = u.choose(&CARDS)?;
            dev.insert(
                "card".into(),
                Value::String(format!("../../device-models/{card}")),
            );
        }
    }
    maybe(u, &mut dev, "g_min", 1e-9, 1e-5)?;
    maybe(u, &mut dev, "g_max", 1e-6, 1e-2)?;
    maybe(u, &mut dev, "d2d_sigma", 1e-3, 1.0)?;
    top.insert("device".into(), Value::Table(dev));

    if cell == "1S1R" || u.int_in_range(0u8..=15)? == 0 {
        let mut s = Table::new();
        s.insert("i_s".into(), Value::Float(value(u, 1e-9, 1e-3)?));
        s.insert("v_s".into(), Value::Float(value(u, 0.01, 1.0)?));
        top.insert("selector".into(), Value::Table(s));
    }
    if cell == "1T1R" || cell == "2T2R" || u.int_in_range(0u8..=15)? == 0 {
        let mut t = Table::new();
        maybe(u, &mut t, "vto", 0.1, 1.0)?;
        maybe(u, &mut t, "kp", 1e-5, 1e-3)?;
        maybe(u, &mut t, "lambda", 1e-3, 0.5)?;
        maybe(u, &mut t, "w", 1e-7, 1e-5)?;
        maybe(u, &mut t, "l", 1e-8, 1e-6)?;
        maybe(u, &mut t, "v_gate", 0.5, 5.0)?;
        top.insert("transistor".into(), Value::Table(t));
    }

    let mut w = Table::new();
    maybe(u, &mut w, "r_row", 1e-3, 1e3)?;
    maybe(u, &mut w, "r_col", 1e-3, 1e3)?;
    top.insert("wires".into(), Value::Table(w));

    let mut p = Table::new();
    maybe(u, &mut p, "r_driver", 1e-3, 1e5)?;
    maybe(u, &mut p, "r_sense", 1e-3, 1e5)?;
    maybe(u, &mut p, "v_read", 0.01, 2.0)?;
    maybe(u, &mut p, "t_read", 1e-9, 1e-3)?;
    if u.arbitrary::<bool>()? {
        let ends = *u.choose(&["one", "both"])?;
        p.insert("line_ends".into(), Value::String(ends.into()));
    }
    top.insert("periphery".into(), Value::Table(p));

    let mut wt = Table::new();
    wt.insert("random".into(), Value::Boolean(true));
    top.insert("weights".into(), Value::Table(wt));

    let mut dac = Table::new();
    dac.insert("bits".into(), Value::Integer(u.int_in_range(0i64..=40)?));
    let mode = *u.choose(&["analog", "bit_serial"])?;
    dac.insert("mode".into(), Value::String(mode.into()));
    top.insert("dac".into(), Value::Table(dac));

    let mut adc = Table::new();
    adc.insert("bits".into(), Value::Integer(u.int_in_range(0i64..=40)?));
    match u.int_in_range(0u8..=2)? {
        0 => {
            adc.insert("range".into(), Value::String("max".into()));
        }
        1 => {
            adc.insert("range".into(), Value::String("fixed".into()));
            adc.insert("i_max".into(), Value::Float(value(u, 1e-9, 1e-2)?));
        }
        _ => {
            adc.insert("range".into(), Value::String("percentile".into()));
            adc.insert("percentile".into(), Value::Float(value(u, 1.0, 100.0)?));
        }
    }
    maybe(u, &mut adc, "inl_lsb", 0.01, 2.0)?;
    maybe(u, &mut adc, "noise_lsb", 0.01, 2.0)?;
    maybe(u, &mut adc, "gain_error", 1e-4, 0.1)?;
    top.insert("adc".into(), Value::Table(adc));

    if u.arbitrary::<bool>()? {
        let mut n = Table::new();
        if u.arbitrary::<bool>()? {
            n.insert("levels".into(), Value::Integer(u.int_in_range(0i64..=300)?));
        }
        maybe(u, &mut n, "prog_sigma", 1e-3, 0.5)?;
        maybe(u, &mut n, "read_sigma", 1e-3, 0.5)?;
        maybe(u, &mut n, "stuck_on", 1e-3, 1.0)?;
        maybe(u, &mut n, "stuck_off", 1e-3, 1.0)?;
        maybe(u, &mut n, "drift_nu", 1e-3, 0.5)?;
        maybe(u, &mut n, "time", 1e-3, 1e6)?;
        top.insert("nonideal".into(), Value::Table(n));
    }
    if u.arbitrary::<bool>()? {
        let mut m = Table::new();
        let r = *u.choose(&["ideal", "zero_wire", "chord"])?;
        m.insert("reference".into(), Value::String(r.into()));
        top.insert("metrics".into(), Value::Table(m));
    }
    Ok((top, rows, cols))
}

fn finite(what: &str, rows: &[Vec<f64>]) {
    for (s, r) in rows.iter().enumerate() {
        for (j, x) in r.iter().enumerate() {
            assert!(x.is_finite(), "{what}[{s}][{j}] = {x} reported as a result");
        }
    }
}

fn run(data: &[u8]) -> Result<()> {
    let mut u = Unstructured::new(data);
    let (table, rows, _) = config(&mut u)?;
    let text = toml::to_string(&table).expect("a toml::Table serialises");
    if std::env::var_os("XBAR_FUZZ_PRINT").is_some() {
        eprintln!("{text}");
    }
    // Relative card paths resolve as for the example configs.
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/configs/fuzz.toml");
    let Ok(xb) = Crossbar::from_toml_str(&text, &here) else {
        return Ok(());
    };
    // Up to 3 input vectors, mostly in [0, 1], sometimes huge or negative (an error).
    let n = u.int_in_range(1usize..=3)?;
    let mut inputs = Vec::with_capacity(n);
    for _ in 0..n {
        let mut x = Vec::with_capacity(rows);
        for _ in 0..rows {
            x.push(match u.int_in_range(0u8..=15)? {
                0 => *u.choose(&[-1.0, 1e300, -0.0, f64::NAN, 1.0 + 1e-12])?,
                _ => u.int_in_range(0u16..=1000)? as f64 / 1000.0,
            });
        }
        inputs.push(x);
    }
    if let Ok(rep) = mvm(&xb, &inputs) {
        finite("analog", &rep.analog);
        finite("digital", &rep.digital);
        finite("ideal", &rep.ideal);
        finite("chord", &rep.chord);
        finite("v_in", &rep.v_in);
    }
    let scheme = *u.choose(&[
        ReadScheme::Floating,
        ReadScheme::Half,
        ReadScheme::Third,
        ReadScheme::Grounded,
    ])?;
    let row = u.int_in_range(0..=xb.rows)?;
    let col = u.int_in_range(0..=xb.phys_cols())?;
    let v = value(&mut u, 0.01, 2.0)?;
    if std::env::var_os("XBAR_FUZZ_PRINT").is_some() {
        eprintln!("inputs {inputs:?}\nread ({row}, {col}) at {v} V, {scheme:?}");
    }
    if let Ok(r) = read_cell(&xb, row, col, v, scheme) {
        for (name, x) in [
            ("i_sense", r.i_sense),
            ("i_cell", r.i_cell),
            ("v_cell", r.v_cell),
            ("power", r.power),
            ("i_sense_on", r.i_sense_on),
            ("i_sense_off", r.i_sense_off),
        ] {
            assert!(x.is_finite(), "read {name} = {x} reported as a result");
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 4096 {
        return;
    }
    let _ = run(data);
});
