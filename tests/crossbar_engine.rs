//! `to_circuit` for every cell kind: the structured solver and the generic engine
//! (`Simulator::op()`) must agree on every bit-line current to 1e-9 relative.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbarsim::circuit::Simulator;
use xbarsim::crossbar::network::Line;
use xbarsim::crossbar::*;

const TOL: f64 = 1e-9;

fn build(n: usize, cell: CellKind, sinh: bool, seed: u64) -> Crossbar {
    let mut xb = Crossbar::new(n, n);
    xb.cell = cell;
    if sinh {
        xb.law = CellLaw::Sinh { v0: 0.25 };
    }
    xb.g_min = 2e-6;
    xb.g_max = 1e-4;
    xb.r_row = 2.5;
    xb.r_col = 1.5;
    xb.r_driver = 20.0;
    xb.r_sense = 10.0;
    xb.line_ends = if seed % 2 == 0 {
        LineEnds::Both
    } else {
        LineEnds::One
    };
    if cell == CellKind::OneS1R {
        xb.selector = Some(Selector {
            i_s: 2e-5,
            v_s: 0.08,
        });
    }
    if cell.has_transistor() {
        xb.transistor = Some(Mos1 {
            vto: 0.45,
            kp: 1.5e-4,
            lambda: 0.03,
            w: 1e-6,
            l: 0.5e-6,
        });
        xb.v_gate = 1.2;
    }
    xb.random_weights(&mut ChaCha8Rng::seed_from_u64(seed));
    xb
}

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
            let circuit = to_circuit(&arr).unwrap();
            let mut sim = Simulator::new(circuit).unwrap();
            let sol = sim.op().unwrap();
            let fast = arr.column_currents();
            let mut engine = vec![0.0; fast.len()];
            for (f, &t) in arr.net.fixed_term.iter().enumerate() {
                if let Line::Col(j) = arr.net.terminals[t].line {
                    engine[j] += sim.vsource_current(&sol, f);
                }
            }
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
