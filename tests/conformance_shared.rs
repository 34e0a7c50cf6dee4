//! The conformance suite we did not write: `../shared/ngspice-tests/` (decks from ngspice's own
//! tests with ngspice 39 references). Skips with a notice where `../shared` is absent.
//!
//! `.op` and `.dc` are compared with the stored references at 1e-6. The stored transient
//! references were made with ngspice's `interp`, which is wrong by percents in ngspice 39
//! (see `stored_interp_reference_misses_closed_form` below), so transients are compared with a
//! fresh, converged ngspice run at ngspice's own time points (`TranReference::NgspicePoints`),
//! which needs ngspice (installed by `.ci/run`).

use std::path::PathBuf;

use xbarsim::check::Tolerance;
use xbarsim::report::read_table;
use xbarsim::runner::{check_deck_with, find_decks, TranReference};
use xbarsim::spice::ngspice;

fn shared_dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/ngspice-tests/netlists");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!(
            "NOTICE: {} is absent; shared conformance suite skipped",
            d.display()
        );
        None
    }
}

#[test]
fn shared_op_and_dc_decks_match_stored_references() {
    let Some(dir) = shared_dir() else { return };
    let decks = find_decks(&[dir]).unwrap();
    let mut n = 0;
    for d in decks {
        for c in check_deck_with(&d, &Tolerance::default(), TranReference::Stored) {
            if c.kind == "tran" {
                continue;
            }
            n += 1;
            assert!(
                c.passed(),
                "{}: {:?}",
                d.display(),
                c.outcome.as_ref().map(|c| c.to_string())
            );
        }
    }
    assert_eq!(n, 16, "12 .op and 4 .dc decks expected");
}

#[test]
fn shared_tran_decks_match_converged_ngspice() {
    let Some(dir) = shared_dir() else { return };
    if !ngspice::available() {
        eprintln!("NOTICE: ngspice not on PATH; shared transient decks skipped (CI installs it)");
        return;
    }
    let decks = find_decks(&[dir]).unwrap();
    let mut n = 0;
    for d in decks {
        for c in check_deck_with(&d, &Tolerance::default(), TranReference::NgspicePoints) {
            if c.kind != "tran" {
                continue;
            }
            n += 1;
            assert!(
                c.passed(),
                "{}: {:?}",
                d.display(),
                c.outcome.as_ref().map(|c| c.to_string())
            );
        }
    }
    assert_eq!(n, 11, "11 .tran decks expected");
}

/// Why the stored transient references are not used: `control_if_batchmode` is an RC charge
/// (R = 1 kΩ, C = 1 µF, 1 V, uic) with the closed form v(2) = 1 − exp(−t/1 ms). The stored
/// (interp) value at 1.2 ms is off by 1.5 % while xbarsim is within 1e-4.
#[test]
fn stored_interp_reference_misses_closed_form() {
    let Some(dir) = shared_dir() else { return };
    let deck = dir.join("control_if_batchmode.cir");
    let stored = read_table(&dir.join("control_if_batchmode.tran.csv")).unwrap();
    let col = stored.column_index("v(2)").unwrap();
    let row = stored
        .rows
        .iter()
        .find(|r| (r[0] - 1.2e-3).abs() < 1e-9)
        .unwrap();
    let exact = 1.0 - (-1.2f64).exp();
    assert!(
        (row[col] - exact).abs() > 1e-2,
        "stored reference now agrees with the closed form"
    );
    let ours = xbarsim::runner::run_netlist(&deck).unwrap();
    let xbarsim::circuit::AnalysisResult::Tran(t) = &ours.results[0] else {
        panic!()
    };
    let c = t.column_index("v(2)").unwrap();
    let r = t
        .rows
        .iter()
        .find(|r| (r[0] - 1.2e-3).abs() < 1e-9)
        .unwrap();
    assert!(
        (r[c] - exact).abs() < 1e-4,
        "xbarsim {} vs exact {exact}",
        r[c]
    );
}
