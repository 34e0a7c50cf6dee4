//! Linear passive arrays from ~71×71 up take the iterative path under `Method::Auto`: one CG
//! solve of M·δ = −F (J = M for fixed conductances) to roundoff instead of Newton-GMRES or a
//! Cholesky factor. Against the direct factor (itself checked against the engine and ngspice):
//! every bit-line current to 1e-9 relative, KCL at every node, the same bits on 1 and 2
//! threads, and a warm-started second vector equal to its own cold solve to 1e-12.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbarsim::crossbar::network::End;
use xbarsim::crossbar::*;

fn array(n: usize, ends: LineEnds, seed: u64) -> Crossbar {
    let mut xb = Crossbar::new(n, n + 3);
    xb.g_min = 1e-6;
    xb.g_max = 1e-4;
    xb.r_row = 1.0;
    xb.r_col = 2.0;
    xb.r_driver = 1.0;
    xb.r_sense = 3.0;
    xb.line_ends = ends;
    xb.v_read = 0.2;
    xb.random_weights(&mut ChaCha8Rng::seed_from_u64(seed));
    xb
}

fn bias(xb: &Crossbar, seed: u64) -> Bias {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let v: Vec<f64> = (0..xb.rows).map(|_| rng.random_range(0.0..=0.2)).collect();
    Bias::mvm(xb, &v)
}

fn solve(xb: &Crossbar, b: &Bias, m: Method, threads: usize) -> Array {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| {
            let mut arr = Array::bind(xb, b).unwrap();
            arr.method = m;
            arr.solve().unwrap();
            arr
        })
}

fn max_rel(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1e-12 * scale))
        .fold(0.0, f64::max)
}

#[test]
fn linear_arrays_take_one_cg_solve_that_agrees_with_the_factor() {
    for (k, ends) in [LineEnds::One, LineEnds::Both].into_iter().enumerate() {
        let xb = array(80, ends, 3 + k as u64);
        let b = bias(&xb, 9 + k as u64);
        let auto = solve(&xb, &b, Method::Auto, 2);
        assert!(
            auto.last_krylov_iterations > 0 && auto.last_iterations <= 3,
            "{ends:?}: Auto took {} steps, {} CG iterations",
            auto.last_iterations,
            auto.last_krylov_iterations
        );
        let direct = solve(&xb, &b, Method::Direct, 2);
        assert_eq!(direct.last_krylov_iterations, 0);
        let d = max_rel(&auto.column_currents(), &direct.column_currents());
        assert!(d <= 1e-9, "{ends:?}: iterative vs factor {d:e}");
        assert_eq!(
            solve(&xb, &b, Method::Auto, 1).column_currents(),
            auto.column_currents(),
            "{ends:?}: 1 vs 2 threads"
        );
        // KCL at every node, to roundoff of the largest current.
        let net = auto.net();
        let mut f = vec![0.0; net.n_free];
        let mut leave = |e: End, i: f64| {
            if let End::Free(k) = e {
                f[k as usize] += i;
            }
        };
        for r in &net.res {
            let i = r.g * (auto.end_voltage(r.a) - auto.end_voltage(r.b));
            leave(r.a, i);
            leave(r.b, -i);
        }
        for (idx, t) in net.cells.iter().enumerate() {
            let i = auto.cell_current(idx);
            leave(t.a, i);
            leave(t.b, -i);
        }
        let i_max = auto
            .row_currents()
            .iter()
            .fold(0.0f64, |m, x| m.max(x.abs()));
        for (node, r) in f.iter().enumerate() {
            assert!(r.abs() <= 1e-12 * i_max, "{ends:?}: KCL at {node}: {r:e} A");
        }
        // A second vector warm-started from the first equals its own cold solve.
        let b2 = bias(&xb, 100 + k as u64);
        let mut arr = Array::bind(&xb, &b).unwrap();
        let sols = arr.solve_batch_linear(&[b.clone(), b2.clone()]).unwrap();
        arr.set_bias(&b2).unwrap();
        arr.v.copy_from_slice(&sols[1]);
        let cold = solve(&xb, &b2, Method::Auto, 2);
        let d = max_rel(&arr.column_currents(), &cold.column_currents());
        assert!(d <= 1e-12, "{ends:?}: warm vs cold second vector {d:e}");
    }
}
