//! docs/devices.md is generated from the parameter declarations and must not drift.

use std::path::Path;
use xbarsim::device::card::SYMBOLS;
use xbarsim::device::{cli::devices_markdown, family_param_docs, family_specs, FAMILIES};

#[test]
fn devices_md_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/devices.md");
    let want = devices_markdown();
    if std::env::var_os("XBAR_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/devices.md is stale; run XBAR_UPDATE_DOCS=1 cargo test --test device_int_docs"
    );
}

#[test]
fn every_parameter_has_a_symbol_unit_and_meaning() {
    for f in FAMILIES {
        let rows = family_param_docs(f).unwrap();
        assert!(rows.len() > 3, "{f}");
        for r in &rows {
            assert!(!r.symbol.is_empty(), "{f}: {} has no symbol", r.key);
            assert!(!r.unit.is_empty(), "{f}: {} has no unit", r.key);
            assert!(!r.meaning.is_empty(), "{f}: {} has no meaning", r.key);
        }
    }
    // The symbol map of the [params]-style families names no key that does not exist.
    for (f, syms) in SYMBOLS {
        let specs = family_specs(f).unwrap();
        for (k, _) in *syms {
            assert!(
                specs.iter().any(|s| s.name == *k),
                "{f}: symbol for unknown key {k}"
            );
        }
    }
}
