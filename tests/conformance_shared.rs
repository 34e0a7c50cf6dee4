//! The conformance suite we did not write: `../shared/ngspice-tests/` (decks from ngspice's own
//! tests with ngspice 39 references). Skips with a notice where `../shared` is absent.
//!
//! `.op` and `.dc` are compared with the stored references at 1e-6. The stored transient
//! references are ngspice's default-step run resampled with `linearize` onto the deck's TSTEP
//! grid (see the suite's README), and transients are compared with them at 1e-3 of each
//! signal's range. Where ngspice itself is not converged at its default step (its answer moves
//! when TMAX is cut to TSTEP/20), the stored CSV is not a converged answer either: those decks,
//! named in [`NGSPICE_UNCONVERGED_AT_DEFAULT_STEP`], are compared with a fresh, converged ngspice
//! run at ngspice's own time points (`TranReference::NgspicePoints`), which needs ngspice
//! (installed by `.ci/run`). Free-running oscillators ([`OSCILLATORS`]) are judged by their
//! period and amplitude over the last 10 periods against ngspice converged at
//! TMAX = TSTEP/1000, RELTOL = 1e-6.

use std::path::PathBuf;

use xbarsim::check::Tolerance;
use xbarsim::circuit::AnalysisResult;
use xbarsim::report::{read_table, Table};
use xbarsim::runner::{check_deck_judged, check_deck_with, find_decks, TranJudge, TranReference};
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

/// Transient decks whose stored reference (ngspice 39 at its default step) is not converged,
/// so they are compared with ngspice rerun at TMAX = TSTEP/20. Each reason is the difference
/// between ngspice's default-step and converged answers (measured with
/// `xbar check --ngspice-points`; the test below also checks that ngspice's own answer still
/// moves, so a deck that no longer needs the exception fails here and must move back).
/// (`general_mosmem` was here until the source-current truncation-error test of issue 12:
/// xbarsim at its default step now meets the stored reference, i(vdd) included, so it is
/// compared with it like the other decks.)
const NGSPICE_UNCONVERGED_AT_DEFAULT_STEP: [(&str, &str); 2] = [
    (
        "misc_convergence",
        "exponential B-source diode under a current pulse: v(n01) moves by 4e-2 of its range",
    ),
    (
        "probe_mos_test",
        "CMOS inverter edges: i(vs) spikes shift by a whole range at TMAX = TSTEP/20",
    ),
];

/// Free-running oscillators, judged by period and amplitude over their last 10 periods
/// (`TranJudge::Periodic`) against ngspice converged at TMAX = TSTEP/1000, RELTOL = 1e-6: over
/// many periods a pointwise comparison only measures accumulated phase (issue 12).
const OSCILLATORS: [(&str, &str); 1] = [(
    "pss_vdp_osc",
    "Van der Pol oscillator over ~92 periods: accumulated phase moves v(gib) by 8e-3",
)];

fn deck_name(d: &std::path::Path) -> String {
    d.file_stem().unwrap().to_string_lossy().into_owned()
}

fn is_unconverged_in_ngspice(d: &std::path::Path) -> bool {
    let n = deck_name(d);
    NGSPICE_UNCONVERGED_AT_DEFAULT_STEP
        .iter()
        .chain(OSCILLATORS.iter())
        .any(|(name, _)| *name == n)
}

#[test]
fn shared_tran_decks_match_stored_linearized_references() {
    let Some(dir) = shared_dir() else { return };
    let decks = find_decks(&[dir]).unwrap();
    let mut n = 0;
    for d in decks.iter().filter(|d| !is_unconverged_in_ngspice(d)) {
        for c in check_deck_with(d, &Tolerance::default(), TranReference::Stored) {
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
    assert_eq!(
        n, 8,
        "11 .tran decks expected, 2 of them compared pointwise and 1 by its period and \
         amplitude with converged ngspice"
    );
}

#[test]
fn shared_tran_decks_ngspice_does_not_converge_match_converged_ngspice() {
    let Some(dir) = shared_dir() else { return };
    if !ngspice::available() {
        eprintln!("NOTICE: ngspice not on PATH; 2 shared transient decks skipped (CI installs it)");
        return;
    }
    for (name, why) in NGSPICE_UNCONVERGED_AT_DEFAULT_STEP {
        let d = dir.join(format!("{name}.cir"));
        let checks = check_deck_with(&d, &Tolerance::default(), TranReference::NgspicePoints);
        let c = checks.iter().find(|c| c.kind == "tran").expect(name);
        assert!(
            c.passed(),
            "{name} ({why}): {:?}",
            c.outcome.as_ref().map(|c| c.to_string())
        );
        assert!(
            c.note.is_some(),
            "{name}: ngspice's default step now agrees with its converged answer; \
             compare it with the stored reference instead ({why})"
        );
    }
}

/// xbarsim at its default step (the deck as written) reproduces the oscillator's period and
/// amplitude over the last 10 periods within 1e-3 of converged ngspice.
#[test]
fn shared_oscillator_period_and_amplitude_match_converged_ngspice() {
    let Some(dir) = shared_dir() else { return };
    if !ngspice::available() {
        eprintln!("NOTICE: ngspice not on PATH; shared oscillator deck skipped (CI installs it)");
        return;
    }
    for (name, why) in OSCILLATORS {
        let d = dir.join(format!("{name}.cir"));
        let judge = TranJudge::Periodic { periods: 10 };
        let checks = check_deck_judged(
            &d,
            &Tolerance::default(),
            TranReference::NgspicePoints,
            judge,
        );
        let c = checks.iter().find(|c| c.kind == "tran").expect(name);
        let cmp = c.outcome.as_ref().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(c.passed(), "{name} ({why}): {cmp}");
        let v = cmp
            .worst
            .iter()
            .find(|w| w.name == "v(gib)")
            .expect("v(gib)");
        assert!(
            v.problem.as_deref().is_some_and(|p| p.contains("period")),
            "{name}: v(gib) must be judged as an oscillation, not pointwise: {cmp}"
        );
    }
}

fn tran_column(t: &Table, name: &str) -> Vec<(f64, f64)> {
    let c = t.column_index(name).unwrap();
    t.rows.iter().map(|r| (r[0], r[c])).collect()
}

/// `control_if_batchmode` is an RC charge from 0 V under `uic` (R = 1 kΩ, C = 1 µF, 1 V), with
/// the closed form v(2) = 1 − exp(−t/RC), RC = 1 ms, and i(v0) = −(1 − v(2))/R (ngspice's sign:
/// a source delivering power reads negative). Both the stored linearized reference and
/// xbarsim must follow it within 1e-3 of the 1 V (1 mA) range at every grid point. (The
/// former `interp` reference read 0.7142 at 1.2 ms against 0.6988 and fails this.)
#[test]
fn stored_reference_and_xbarsim_agree_with_rc_closed_form() {
    let Some(dir) = shared_dir() else { return };
    let deck = dir.join("control_if_batchmode.cir");
    let (r, c) = (1e3, 1e-6);
    let v2 = |t: f64| 1.0 - (-t / (r * c)).exp();
    let i0 = |t: f64| -(1.0 - v2(t)) / r;
    let stored = read_table(&dir.join("control_if_batchmode.tran.csv")).unwrap();
    let ours = xbarsim::runner::run_netlist(&deck).unwrap();
    let AnalysisResult::Tran(t) = &ours.results[0] else {
        panic!("control_if_batchmode has one .tran")
    };
    for (who, table) in [("stored ngspice", &stored), ("xbarsim", t)] {
        assert_eq!(table.rows.len(), 101, "{who}: 0..10 ms by 100 µs");
        for (t, v) in tran_column(table, "v(2)") {
            assert!(
                (v - v2(t)).abs() < 1e-3,
                "{who}: v(2)({t:e}) = {v} vs {}",
                v2(t)
            );
        }
        for (t, i) in tran_column(table, "i(v0)") {
            assert!(
                (i - i0(t)).abs() < 1e-6,
                "{who}: i(v0)({t:e}) = {i} vs {}",
                i0(t)
            );
        }
    }
}
