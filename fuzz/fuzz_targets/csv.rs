//! CSV readers: crossbar weights (4×4, signed) and input vectors, and the result-table reader
//! (`report::read_table`, the format of every reference and measured-data CSV).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > 16 * 1024 {
        return;
    }
    let path = std::env::temp_dir().join(format!("xbarsim-fuzz-csv-{}.csv", std::process::id()));
    std::fs::write(&path, data).unwrap();
    if let Ok(w) = xbarsim::crossbar::config::read_weight_csv(&path, 4, 4, -1.0) {
        assert!(w.len() == 16 && w.iter().all(|x| (-1.0..=1.0).contains(x)));
    }
    if let Ok(v) = xbarsim::app::crossbar::read_inputs_csv(&path, 4) {
        assert!(v
            .iter()
            .all(|r| r.len() == 4 && r.iter().all(|x| (0.0..=1.0).contains(x))));
    }
    let _ = xbarsim::report::read_table(&path);
    let _ = xbarsim::report::read_name_value(&path);
});
