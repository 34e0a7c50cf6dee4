//! Crossbar TOML configs: parse, build (weights, D2D, cards), bind and solve one MVM. Arrays
//! are capped at 16×16. An MVM reported with a non-finite column current is a finding.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use xbarsim::crossbar::{Array, Bias, Crossbar};

fuzz_target!(|data: &[u8]| {
    if data.len() > 8192 {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Cap the size before building anything.
    let Ok(table) = text.parse::<toml::Table>() else {
        return;
    };
    for key in ["rows", "cols"] {
        match table.get(key).and_then(|v| v.as_integer()) {
            Some(n) if (1..=16).contains(&n) => {}
            _ => return,
        }
    }
    // Relative card and CSV paths resolve as for the example configs.
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/configs/fuzz.toml");
    let Ok(xb) = Crossbar::from_toml_str(text, &here) else {
        return;
    };
    let v = vec![xb.v_read; xb.rows];
    let Ok(mut arr) = Array::bind(&xb, &Bias::mvm(&xb, &v)) else {
        return;
    };
    if arr.solve().is_ok() {
        for (j, i) in arr.column_currents().iter().enumerate() {
            assert!(i.is_finite(), "column {j} current {i} reported as a result");
        }
    }
});
