//! Linear arrays without wire resistance (the `mvm` zero-wire reference): each line is one
//! node, and the structured solver takes a two-block Gauss-Seidel path (word-line classes from
//! bit-line classes and back) instead of a factorisation, falling back to the factor when the
//! sweeps do not contract. Checked against the generic engine (`Simulator::op()` on the same
//! circuit, one LU solve) to 1e-9 relative on every bit line, and by KCL at every node.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbarsim::crossbar::network::End;
use xbarsim::crossbar::*;

const TOL: f64 = 1e-9;

fn array(rows: usize, cols: usize, r_driver: f64, r_sense: f64, ends: LineEnds) -> Crossbar {
    let mut xb = Crossbar::new(rows, cols);
    xb.g_min = 1e-6;
    xb.g_max = 1e-4;
    xb.r_row = 0.0;
    xb.r_col = 0.0;
    xb.r_driver = r_driver;
    xb.r_sense = r_sense;
    xb.line_ends = ends;
    xb.v_read = 0.2;
    xb.random_weights(&mut ChaCha8Rng::seed_from_u64((rows * cols) as u64));
    xb
}

/// Σ of currents leaving every free node through resistors and cells (A).
fn kcl(arr: &Array) -> Vec<f64> {
    let mut f = vec![0.0; arr.net().n_free];
    let mut leave = |e: End, i: f64| {
        if let End::Free(k) = e {
            f[k as usize] += i;
        }
    };
    for r in &arr.net().res {
        let i = r.g * (arr.end_voltage(r.a) - arr.end_voltage(r.b));
        leave(r.a, i);
        leave(r.b, -i);
    }
    for (idx, t) in arr.net().cells.iter().enumerate() {
        let i = arr.cell_current(idx);
        leave(t.a, i);
        leave(t.b, -i);
    }
    f
}

#[test]
fn wireless_linear_arrays_agree_with_the_engine_and_satisfy_kcl() {
    // (rows, cols, R_driver, R_sense, line ends, sweeps expected to converge)
    let cases = [
        (48, 40, 1.0, 1.0, LineEnds::One, true),
        (33, 30, 10.0, 5.0, LineEnds::Both, true),
        (20, 25, 0.0, 2.0, LineEnds::One, true),
        (25, 20, 3.0, 0.0, LineEnds::One, true),
        // Periphery far weaker than the cells: the sweeps barely contract, the factor solves.
        (24, 24, 2e4, 2e4, LineEnds::One, false),
    ];
    for (k, &(rows, cols, rd, rs, ends, sweeps)) in cases.iter().enumerate() {
        let xb = array(rows, cols, rd, rs, ends);
        let mut rng = ChaCha8Rng::seed_from_u64(7 + k as u64);
        let v: Vec<f64> = (0..rows).map(|_| rng.random_range(0.0..=0.2)).collect();
        let mut bias = Bias::mvm(&xb, &v);
        // A floating word line and a biased bit line: still one node each, still bipartite.
        bias.rows[1] = None;
        bias.cols[2] = ColEnd::Bias(0.05);
        let mut arr = Array::bind(&xb, &bias).unwrap();
        arr.solve().unwrap();
        let what = format!("{rows}×{cols} R_driver {rd} Ω R_sense {rs} Ω {ends:?}");
        assert_eq!(
            arr.last_factorizations,
            usize::from(!sweeps),
            "{what}: factorisations"
        );
        let got = arr.column_currents();
        let want = engine_column_currents(&arr).unwrap();
        let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        assert!(scale > 0.0, "{what}: no current");
        for (j, (x, y)) in got.iter().zip(&want).enumerate() {
            let rel = (x - y).abs() / y.abs().max(1e-12 * scale);
            assert!(
                rel <= TOL,
                "{what}: column {j}: {x:e} vs engine {y:e} (rel {rel:e})"
            );
        }
        // Every node's currents balance to roundoff of the largest current in the array.
        let i_max = arr.row_currents().iter().fold(scale, |m, x| m.max(x.abs()));
        for (node, r) in kcl(&arr).iter().enumerate() {
            assert!(
                r.abs() <= 1e-12 * i_max,
                "{what}: KCL at unknown {node}: {r:e} A (largest current {i_max:e} A)"
            );
        }
    }
}
