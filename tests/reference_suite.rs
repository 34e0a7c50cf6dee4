//! The reference suite in `netlists/`: every deck against its ngspice 39 CSVs (regenerated and
//! re-compared by `.ci/run`, so a stale reference cannot hide). Tolerances: `check::Tolerance`
//! defaults — op/dc |Δ| ≤ 1e-6·|ref| + 1e-9 V (1e-12 A); tran ≤ 1e-3 of each signal's range.

use std::path::PathBuf;

use xbarsim::check::Tolerance;
use xbarsim::runner::{check_paths, TranReference};

#[test]
fn every_reference_deck_matches_ngspice() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("netlists");
    let report = check_paths(&[dir], &Tolerance::default(), TranReference::Stored).unwrap();
    println!("{report}");
    assert!(
        report.0.len() >= 40,
        "expected at least 40 reference analyses, found {}",
        report.0.len()
    );
    assert!(report.passed(), "{report}");
}
