//! `to_circuit` for every cell kind: the structured solver and the generic engine
//! (`Simulator::op()`) must agree on every bit-line current to 1e-9 relative.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbarsim::crossbar::*;

const TOL: f64 = 1e-9;

mod common;
use common::build;

#[test]
fn all_cell_kinds_agree_with_the_engine_on_8x8() {
    let mut seed = 0;
    for cell in [
        CellKind::ZeroT1R,
        CellKind::OneS1R,
        CellKind::OneT1R,
        CellKind::TwoT2R,
    ] {
        for sinh in [false, true] {
            seed += 1;
            let xb = build(8, cell, sinh, seed);
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
            let v: Vec<f64> = (0..8).map(|_| rng.random_range(0.0..0.5)).collect();
            let mut arr = Array::bind(&xb, &Bias::mvm(&xb, &v)).unwrap();
            arr.solve().unwrap();
            let fast = arr.column_currents();
            let engine = engine_column_currents(&arr).unwrap();
            let mut worst = 0.0f64;
            for j in 0..fast.len() {
                let e = (engine[j] - fast[j]).abs() / fast[j].abs();
                assert!(
                    e < TOL,
                    "{} {:?} column {j}: engine {:e} A, structured {:e} A (rel {e:e})",
                    cell.name(),
                    xb.law,
                    engine[j],
                    fast[j]
                );
                worst = worst.max(e);
            }
            eprintln!(
                "{} {:?}: worst rel. difference {worst:.2e}",
                cell.name(),
                xb.law
            );
        }
    }
}
