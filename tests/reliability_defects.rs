//! Regression tests for the defects of issue 12, one per defect, named after what must hold.

use std::collections::HashMap;

use xbarsim::crossbar::netlist::export_bound;
use xbarsim::crossbar::*;

mod common;
use common::build;

fn ngspice_available() -> bool {
    let ok = xbarsim::spice::ngspice::available();
    if !ok {
        eprintln!("NOTICE: ngspice not on PATH; ngspice comparisons skipped");
    }
    ok
}

/// The `.op` vectors of `deck` as ngspice computes them, by lower-case name.
fn ngspice_op(deck: &str) -> HashMap<String, f64> {
    match xbarsim::spice::ngspice::run_text(deck).unwrap_or_else(|e| panic!("{e}")) .into_iter().next() {
        Some(xbarsim::circuit::AnalysisResult::Op(rows)) => rows
            .into_iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v))
            .collect(),
        _ => panic!("expected an .op result from ngspice"),
    }
}

/// A floating-scheme read of a 1T1R / 2T2R array leaves every unselected row line held only by
/// off transistors. It used to print NaN (1T1R, 16×16 and up) or fail Newton (2T2R); the lines
/// now sit on the transistors' bulk-junction gmin, as in SPICE, and the read agrees with the
/// ngspice (the exported deck) on the sensed current to 1e-6. The sneak current is the gmin leakage at most:
/// |i_sneak| ≤ 2·(transistors)·GMIN_BULK·V.
#[test]
fn floating_read_of_transistor_arrays_is_finite_and_matches_the_engine() {
    let ngspice = ngspice_available();
    for cell in [CellKind::OneT1R, CellKind::TwoT2R] {
        for n in [8, 16, 32] {
            for sinh in [false, true] {
                let xb = build(n, cell, sinh, n as u64 + 1);
                let (row, col) = (n / 2 - 1, 3);
                let v = 0.2;
                let r = read_cell(&xb, row, col, v, ReadScheme::Floating).unwrap_or_else(|e| {
                    panic!("{} {n}×{n} sinh={sinh}: {e}", cell.name())
                });
                let what = format!("{} {n}×{n} sinh={sinh}", cell.name());
                for (name, x) in [
                    ("i_sense", r.i_sense),
                    ("i_cell", r.i_cell),
                    ("v_cell", r.v_cell),
                    ("power", r.power),
                    ("i_sense_on", r.i_sense_on),
                    ("i_sense_off", r.i_sense_off),
                    ("read_margin", r.read_margin),
                ] {
                    assert!(x.is_finite(), "{what}: {name} = {x}");
                }
                assert!(r.i_sense > 0.0 && r.i_cell > 0.0, "{what}: {r}");
                let leak = 2.0 * (n * xb.phys_cols()) as f64 * GMIN_BULK * v;
                assert!(r.i_sneak.abs() <= leak, "{what}: sneak {:e} A > {leak:e} A", r.i_sneak);

                if !ngspice {
                    continue;
                }
                let bias = ReadScheme::Floating.bias(&xb, row, col, v);
                let mut arr = Array::bind(&xb, &bias).unwrap();
                arr.solve().unwrap();
                let fast = arr.column_currents()[col];
                // The floating lines' voltages sit at the factorisation's roundoff floor
                // (~1e-10 V), so ngspice, like xbarsim, cannot converge them to the export's
                // default vntol = 1e-13 V ("timestep too small"); 1e-10 V still leaves the
                // sensed current converged far below 1e-6.
                let opt = NetlistOptions {
                    options: format!("reltol=1e-10 abstol=1e-18 vntol=1e-10 gmin={GMIN_BULK:e}"),
                    op: true,
                };
                let (deck, map) = export_bound(&arr, &opt);
                let spice = ngspice_op(&deck);
                let theirs: f64 = map.col_sources[col]
                    .iter()
                    .map(|s| spice[&format!("i({s})")])
                    .sum();
                assert!(
                    (fast - theirs).abs() <= 1e-6 * theirs.abs(),
                    "{what}: xbarsim {fast:e} A, ngspice {theirs:e} A"
                );
            }
        }
    }
}
