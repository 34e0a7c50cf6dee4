//! Measured-data CSV import of `xbar fit` (`data::load_csv`), with the command-line options it
//! takes. The first input line holds the options as `COLUMNS|UNITS|WHERE|CYCLES` (each may be
//! empty; WHERE is `header=text`), the rest is the file. An accepted file must give one finite
//! value per kept row for every role read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xbarsim::data::{self, ImportOptions, Role};

fuzz_target!(|data: &[u8]| {
    if data.len() > 16 * 1024 {
        return;
    }
    let text = String::from_utf8_lossy(data);
    let (opt_line, body) = text.split_once('\n').unwrap_or(("", &text));
    let mut parts = opt_line.split('|');
    let mut opts = ImportOptions::default();
    if let Some(c) = parts.next().filter(|s| !s.is_empty()) {
        match data::parse_columns(c) {
            Ok(m) => opts.columns = m,
            Err(_) => return,
        }
    }
    if let Some(u) = parts.next().filter(|s| !s.is_empty()) {
        match data::parse_units(u) {
            Ok(m) => opts.scale = m,
            Err(_) => return,
        }
    }
    if let Some(w) = parts.next().filter(|s| !s.is_empty()) {
        match w.split_once('=') {
            Some((k, v)) => opts.filters.push((k.to_string(), v.to_string())),
            None => return,
        }
    }
    if let Some(c) = parts.next().filter(|s| !s.is_empty()) {
        match data::parse_cycles(c) {
            Ok(r) => opts.cycles = Some(r),
            Err(_) => return,
        }
    }
    let path = std::env::temp_dir().join(format!("xbarsim-fuzz-data-{}.csv", std::process::id()));
    std::fs::write(&path, body.as_bytes()).unwrap();
    let required = [Role::V, Role::I];
    let optional = [Role::Time, Role::G, Role::R, Role::Pulse, Role::Cycle, Role::Temp];
    if let Ok(ds) = data::load_csv(&path, &opts, &required, &optional) {
        assert!(!ds.is_empty());
        for (role, v) in &ds.values {
            assert_eq!(v.len(), ds.len(), "{role:?}");
            assert!(v.iter().all(|x| x.is_finite()), "{role:?} not finite");
        }
        let _ = data::cycle_numbers(&ds);
    }
    // The same file, asked for time series only (retention / pulse fits).
    let _ = data::load_csv(&path, &ImportOptions::default(), &[Role::Time, Role::G], &[]);
});
