//! Exported decks run by ngspice (39 here and in CI): every bit-line current of the structured
//! solver must match ngspice's to 1e-6 relative. The deck is the array as written by
//! `export_bound`; ngspice solves it with its own MNA engine and device equations.

use std::collections::HashMap;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbarsim::crossbar::netlist::export_bound;
use xbarsim::crossbar::*;

const TOL: f64 = 1e-6;

mod common;
use common::build;

fn ngspice_available() -> bool {
    let ok = xbarsim::spice::ngspice::available();
    if !ok {
        eprintln!("NOTICE: ngspice not on PATH; crossbar ngspice comparisons skipped");
    }
    ok
}

/// Runs the exported `deck` (its `.op`) in ngspice and returns every output vector by name.
fn run_ngspice(deck: &str, _dir: &Path) -> HashMap<String, f64> {
    let results = xbarsim::spice::ngspice::run_text(deck).unwrap_or_else(|e| panic!("{e}"));
    match results.into_iter().next() {
        Some(xbarsim::circuit::AnalysisResult::Op(rows)) => rows
            .into_iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v))
            .collect(),
        _ => panic!("expected an .op result from ngspice"),
    }
}

fn compare(xb: &Crossbar, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
    let v: Vec<f64> = (0..xb.rows).map(|_| rng.random_range(0.0..0.5)).collect();
    let mut arr = Array::bind(xb, &Bias::mvm(xb, &v)).unwrap();
    arr.solve().unwrap();
    let opt = NetlistOptions {
        op: true,
        ..Default::default()
    };
    let (deck, map) = export_bound(&arr, &opt);
    let dir = tempfile::tempdir().unwrap();
    let res = run_ngspice(&deck, dir.path());
    let ours = arr.column_currents();
    let mut worst = 0.0f64;
    for (j, srcs) in map.col_sources.iter().enumerate() {
        let spice: f64 = srcs.iter().map(|s| res[&format!("i({s})")]).sum();
        let e = (spice - ours[j]).abs() / spice.abs();
        assert!(
            e < TOL,
            "{} {:?} {}x{} column {j}: ngspice {spice:e} A, xbarsim {:e} A (rel {e:e})",
            xb.cell.name(),
            xb.law,
            xb.rows,
            xb.cols,
            ours[j]
        );
        worst = worst.max(e);
    }
    eprintln!(
        "{} {:?} {}x{}: worst column rel. difference {worst:.2e}, I(col 0) = {:.4e} A",
        xb.cell.name(),
        xb.law,
        xb.rows,
        xb.cols,
        ours[0]
    );
}

#[test]
fn passive_arrays_match_ngspice() {
    if !ngspice_available() {
        return;
    }
    for n in [8, 32] {
        compare(&build(n, CellKind::ZeroT1R, false, 1), 1);
        compare(&build(n, CellKind::ZeroT1R, true, 2), 2);
        let mut both = build(n, CellKind::ZeroT1R, true, 3);
        both.line_ends = LineEnds::Both;
        compare(&both, 3);
    }
}

#[test]
fn selector_arrays_match_ngspice() {
    if !ngspice_available() {
        return;
    }
    for n in [8, 32] {
        compare(&build(n, CellKind::OneS1R, true, 4), 4);
    }
}

#[test]
fn transistor_arrays_match_ngspice() {
    if !ngspice_available() {
        return;
    }
    for n in [8, 32] {
        compare(&build(n, CellKind::OneT1R, false, 5), 5);
        compare(&build(n, CellKind::OneT1R, true, 6), 6);
        compare(&build(n, CellKind::TwoT2R, true, 7), 7);
    }
}

#[test]
fn read_with_floating_lines_matches_ngspice() {
    if !ngspice_available() {
        return;
    }
    let xb = build(8, CellKind::ZeroT1R, true, 8);
    for scheme in [ReadScheme::Floating, ReadScheme::Third] {
        let bias = scheme.bias(&xb, 3, 5, 0.4);
        let mut arr = Array::bind(&xb, &bias).unwrap();
        arr.solve().unwrap();
        let opt = NetlistOptions {
            op: true,
            ..Default::default()
        };
        let (deck, map) = export_bound(&arr, &opt);
        let dir = tempfile::tempdir().unwrap();
        let res = run_ngspice(&deck, dir.path());
        let spice: f64 = map.col_sources[5]
            .iter()
            .map(|s| res[&format!("i({s})")])
            .sum();
        let ours = arr.column_currents()[5];
        assert!(
            (spice - ours).abs() < TOL * spice.abs(),
            "{spice} vs {ours}"
        );
    }
}

/// Card cells are exported as B sources with the programmed device's exact static law
/// (`Cell::spice_current_expr`); ngspice must give the same column currents.
#[test]
fn oxram_card_arrays_match_ngspice() {
    if !ngspice_available() {
        return;
    }
    let card = Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models/oxram-stanford-v1.toml");
    let model = std::sync::Arc::new(xbarsim::device::load_card(&card).unwrap());
    for cell in [CellKind::ZeroT1R, CellKind::OneT1R] {
        let mut xb = build(8, cell, false, 9);
        xb.g_min = 1e-5;
        xb.g_max = 2e-4;
        xb.use_card(model.clone()).unwrap();
        xb.random_weights(&mut ChaCha8Rng::seed_from_u64(10));
        compare(&xb, 9);
    }
}

/// The 2×1 2T2R sinh array on which the general engine's Newton once failed (regression in
/// tests/properties.rs): ngspice solves the exported deck, and the structured solver, the
/// general engine and ngspice agree on both bit-line currents.
#[test]
fn two_t2r_sinh_case_matches_ngspice() {
    if !ngspice_available() {
        return;
    }
    let (xb, inputs) = common::two_t2r_sinh_repro();
    let mut arr = Array::bind(&xb, &Bias::mvm(&xb, &inputs)).unwrap();
    arr.solve().unwrap();
    let (deck, map) = export_bound(&arr, &NetlistOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let res = run_ngspice(&deck, dir.path());
    let ours = arr.column_currents();
    let engine = engine_column_currents(&arr).unwrap();
    for (j, srcs) in map.col_sources.iter().enumerate() {
        let spice: f64 = srcs.iter().map(|s| res[&format!("i({s})")]).sum();
        eprintln!(
            "column {j}: ngspice {spice:.15e} A, structured {:.15e} A, engine {:.15e} A",
            ours[j], engine[j]
        );
        for (what, x) in [("structured", ours[j]), ("engine", engine[j])] {
            let e = (spice - x).abs() / spice.abs();
            assert!(
                e < TOL,
                "column {j}: ngspice {spice:e} A, {what} {x:e} A (rel {e:e})"
            );
        }
    }
}
