//! The condensed Newton-Krylov path (middle nodes eliminated per crosspoint, GMRES on a saved
//! Cholesky factor) and the iterative path (the same with line-preconditioned CG for M⁻¹)
//! against the direct path (Newton on the full nodal matrix, refactorised every
//! iteration; itself checked against the engine and ngspice in `crossbar_engine.rs` and
//! `crossbar_ngspice.rs`): every bit-line current agrees to 1e-9 relative, for all four cell
//! kinds, linear and sinh cells, and access transistors in cutoff, at threshold, in the linear
//! region and in saturation.

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbarsim::crossbar::network::End;
use xbarsim::crossbar::*;

const TOL: f64 = 1e-9;

fn array(rows: usize, cols: usize, cell: CellKind, law: CellLaw, seed: u64) -> Crossbar {
    let mut xb = Crossbar::new(rows, cols);
    xb.cell = cell;
    xb.law = law;
    xb.g_min = 1e-6;
    xb.g_max = 1e-4;
    xb.r_row = 1.5;
    xb.r_col = 2.5;
    xb.r_driver = 10.0;
    xb.r_sense = 5.0;
    xb.v_read = 0.8;
    common::add_cell_devices(&mut xb);
    xb.random_weights(&mut ChaCha8Rng::seed_from_u64(seed));
    xb
}

/// MVM bias with random inputs in [0, v_read] and, per word line, a gate voltage cycling
/// through cutoff (below VTO), exactly VTO, a small overdrive (saturation at these drain
/// voltages) and a large one (linear region).
fn bias(xb: &Crossbar, seed: u64) -> Bias {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let v: Vec<f64> = (0..xb.rows)
        .map(|_| rng.random_range(0.0..=xb.v_read))
        .collect();
    let mut b = Bias::mvm(xb, &v);
    if let Some(m) = xb.transistor {
        let gates = [m.vto - 0.2, m.vto, m.vto + 0.15, m.vto + 2.0];
        for (i, g) in b.gates.iter_mut().enumerate() {
            *g = gates[i % gates.len()];
        }
    }
    b
}

fn solve_with(xb: &Crossbar, b: &Bias, method: Method) -> Array {
    let mut arr = Array::bind(xb, b).unwrap();
    arr.method = method;
    arr.solve().unwrap();
    arr
}

fn assert_columns_agree(a: &Array, b: &Array, what: &str) {
    let (ia, ib) = (a.column_currents(), b.column_currents());
    let scale = ib.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(scale > 0.0, "{what}: no current at all");
    for (j, (x, y)) in ia.iter().zip(&ib).enumerate() {
        // Relative per column; a column carrying exactly nothing (all its cells cut off)
        // must carry nothing on both paths up to roundoff of the array's scale.
        let d = (x - y).abs() / y.abs().max(1e-13 * scale);
        assert!(
            d <= TOL,
            "{what}: column {j}: {x:e} vs direct {y:e} (rel {d:e})"
        );
    }
}

/// Transistor regions visited by a solved array: (cutoff, linear, saturation).
fn regions(arr: &Array, b: &Bias) -> (usize, usize, usize) {
    let m = arr.crossbar().transistor.unwrap();
    let (mut cut, mut lin, mut sat) = (0, 0, 0);
    for t in &arr.net().mos {
        let vg = b.gates[t.row];
        let (vd, vs) = (arr.end_voltage(t.d), arr.end_voltage(t.s));
        let vov = vg - vd.min(vs) - m.vto;
        let vds = (vd - vs).abs();
        if vov <= 0.0 {
            cut += 1;
        } else if vds < vov {
            lin += 1;
        } else {
            sat += 1;
        }
    }
    (cut, lin, sat)
}

#[test]
fn condensed_path_agrees_with_direct_path_for_every_cell_kind_and_law() {
    let laws = [CellLaw::Linear, CellLaw::Sinh { v0: 0.25 }];
    let kinds = [
        CellKind::ZeroT1R,
        CellKind::OneS1R,
        CellKind::OneT1R,
        CellKind::TwoT2R,
    ];
    for (k, &kind) in kinds.iter().enumerate() {
        for (l, &law) in laws.iter().enumerate() {
            let seed = (10 * k + l) as u64;
            let xb = array(13, 11, kind, law, seed);
            let b = bias(&xb, seed + 100);
            let direct = solve_with(&xb, &b, Method::Direct);
            let cond = solve_with(&xb, &b, Method::Condensed);
            let what = format!("{} {:?}", kind.name(), law);
            assert_columns_agree(&cond, &direct, &what);
            let iter = solve_with(&xb, &b, Method::Iterative);
            assert_columns_agree(&iter, &direct, &format!("{what} (iterative)"));
            // Middle nodes are restored too: every cell current agrees (cells of cut-off
            // transistors carry nothing, and the direct path leaves roundoff there: relative to the largest cell).
            let nx = xb.rows * xb.phys_cols();
            let imax = (0..nx).fold(0.0f64, |m, i| m.max(direct.cell_current(i).abs()));
            for idx in 0..nx {
                let (x, y) = (cond.cell_current(idx), direct.cell_current(idx));
                assert!(
                    (x - y).abs() <= TOL * (y.abs() + imax),
                    "{what}: cell {idx}: {x:e} vs {y:e}"
                );
            }
            if kind.has_transistor() {
                let (cut, lin, sat) = regions(&direct, &b);
                assert!(
                    cut > 0 && lin > 0 && sat > 0,
                    "{what}: regions cut {cut} lin {lin} sat {sat}"
                );
            }
        }
    }
}

#[test]
fn condensed_path_is_the_default_for_nonlinear_arrays_and_reuses_its_factor() {
    let xb = array(16, 16, CellKind::OneT1R, CellLaw::Sinh { v0: 0.25 }, 7);
    let mut arr = Array::bind(&xb, &bias(&xb, 1)).unwrap();
    assert_eq!(arr.method, Method::Auto);
    arr.solve().unwrap();
    assert!(
        arr.last_krylov_iterations > 0,
        "Auto took the condensed path"
    );
    assert!(arr.last_factorizations >= 1);
    // A second input vector, warm-started, on the saved factor: exact again.
    let b2 = bias(&xb, 2);
    arr.set_bias(&b2).unwrap();
    arr.solve().unwrap();
    let direct = solve_with(&xb, &b2, Method::Direct);
    assert_columns_agree(&arr, &direct, "second vector");
    assert!(
        arr.last_factorizations < arr.last_iterations,
        "the factor is reused across Newton steps ({} factorisations, {} iterations)",
        arr.last_factorizations,
        arr.last_iterations
    );
}

#[test]
fn condensed_path_handles_merged_lines_and_both_line_ends() {
    // Ideal periphery merges the line ends into the sources (AMD ordering, fixed r ends);
    // "both" drives and senses every line at both ends.
    for (r_drv, ends) in [(0.0, LineEnds::One), (10.0, LineEnds::Both)] {
        let mut xb = array(9, 12, CellKind::TwoT2R, CellLaw::Sinh { v0: 0.25 }, 3);
        xb.r_driver = r_drv;
        xb.r_sense = r_drv;
        xb.line_ends = ends;
        let b = bias(&xb, 4);
        let direct = solve_with(&xb, &b, Method::Direct);
        let cond = solve_with(&xb, &b, Method::Condensed);
        assert_columns_agree(&cond, &direct, &format!("r_driver {r_drv}, {ends:?}"));
        let iter = solve_with(&xb, &b, Method::Iterative);
        assert_columns_agree(
            &iter,
            &direct,
            &format!("r_driver {r_drv}, {ends:?} (iterative)"),
        );
    }
}

#[test]
fn condensed_solution_satisfies_kcl_at_every_middle_node() {
    let xb = array(10, 10, CellKind::OneT1R, CellLaw::Sinh { v0: 0.25 }, 9);
    let arr = solve_with(&xb, &bias(&xb, 5), Method::Condensed);
    for idx in 0..xb.rows * xb.cols {
        // KCL at the drain: cell current = channel current + the drain junction's gmin.
        let (ic, im) = (arr.cell_current(idx), arr.mos_current(idx));
        let i_leak = xbarsim::crossbar::GMIN_BULK * arr.end_voltage(arr.net().mos[idx].d);
        assert!(
            // (the local solve resolves v_m to ~4ε·|v|, i.e. currents to ~g·4ε·|v| ≈ 1e-20 A)
            (ic - im - i_leak).abs() <= 1e-12 * ic.abs() + 1e-18,
            "cell {idx}: cell {ic:e} A vs transistor {im:e} A + junction leak {i_leak:e} A"
        );
        assert!(matches!(arr.net().mos[idx].d, End::Free(_)));
    }
}

#[test]
fn iterative_path_agrees_on_a_larger_linear_passive_array() {
    // Linear passive arrays normally take one direct Cholesky solve; forced through the
    // iterative path they must give the same currents.
    let xb = array(40, 37, CellKind::ZeroT1R, CellLaw::Linear, 11);
    let b = bias(&xb, 12);
    let direct = solve_with(&xb, &b, Method::Direct);
    let iter = solve_with(&xb, &b, Method::Iterative);
    assert_columns_agree(&iter, &direct, "0T1R linear 40×37 (iterative)");
}

/// Batched input vectors (`Array::solve_each`: lock-step chord sweeps on one factor, all from
/// zero line voltages) agree with a separate direct solve of every vector, for
/// 1T1R and 2T2R, linear and sinh cells, transistors in every region; and at least one vector
/// was actually solved by the chord sweeps (no Krylov step, no factorisation).
#[test]
fn batched_vectors_agree_with_the_direct_path_one_by_one() {
    let laws = [CellLaw::Linear, CellLaw::Sinh { v0: 0.25 }];
    for kind in [CellKind::OneT1R, CellKind::TwoT2R] {
        for law in laws {
            let xb = array(12, 10, kind, law, 11);
            let biases: Vec<Bias> = (0..5).map(|s| bias(&xb, 100 + s)).collect();
            let mut arr = Array::bind(&xb, &biases[0]).unwrap();
            let mut got = Vec::new();
            let mut chord = 0;
            arr.solve_each(&biases, |a, _| {
                got.push(a.column_currents());
                if a.last_krylov_iterations == 0 && a.last_factorizations == 0 {
                    chord += 1;
                }
            })
            .unwrap();
            assert_eq!(got.len(), biases.len());
            for (k, b) in biases.iter().enumerate() {
                let d = solve_with(&xb, b, Method::Direct);
                let want = d.column_currents();
                let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                for (j, (x, y)) in got[k].iter().zip(&want).enumerate() {
                    let rel = (x - y).abs() / y.abs().max(1e-13 * scale);
                    assert!(
                        rel <= TOL,
                        "{kind:?} {law:?} vector {k} column {j}: {x:e} vs direct {y:e} (rel {rel:e})"
                    );
                }
            }
            assert!(
                chord > 0,
                "{kind:?} {law:?}: no vector took the chord sweeps"
            );
        }
    }
}

/// A batch starts from a fixed point (zero line voltages, the factor made there), so the same
/// batch on the same array gives the same bits whatever the array solved in between (other
/// batches, a single solve); the ADC's separate calibration batch relies on it.
#[test]
fn batched_results_do_not_depend_on_what_the_array_solved_before() {
    let xb = array(12, 10, CellKind::OneT1R, CellLaw::Sinh { v0: 0.25 }, 11);
    let biases: Vec<Bias> = (0..9).map(|s| bias(&xb, 300 + s)).collect();
    let others: Vec<Bias> = (0..9).map(|s| bias(&xb, 400 + s)).collect();
    let mut arr = Array::bind(&xb, &biases[0]).unwrap();
    let run = |arr: &mut Array, bs: &[Bias]| {
        let mut got = Vec::new();
        let mut chord = 0;
        arr.solve_each(bs, |a, _| {
            got.push(a.column_currents());
            chord += usize::from(a.last_krylov_iterations == 0 && a.last_factorizations == 0);
        })
        .unwrap();
        (got, chord)
    };
    let (first, chord) = run(&mut arr, &biases);
    assert_eq!(chord, biases.len(), "every vector by the chord sweeps");
    run(&mut arr, &others);
    arr.set_bias(&others[3]).unwrap();
    arr.solve().unwrap();
    let (again, _) = run(&mut arr, &biases);
    for (k, (a, b)) in first.iter().zip(&again).enumerate() {
        let (a, b): (Vec<u64>, Vec<u64>) = (
            a.iter().map(|x| x.to_bits()).collect(),
            b.iter().map(|x| x.to_bits()).collect(),
        );
        assert_eq!(
            a, b,
            "vector {k}: other bits after the array solved other biases"
        );
    }
}

/// Above `ITERATIVE_ABOVE` condensed unknowns `Method::Auto` takes the iterative path (CG on
/// M in line order, tiled crosspoint couplings): its currents are the iterative path's to the
/// bit and agree with the direct path to 1e-9 on every bit line, for all four cell kinds with
/// transistors in every region; and the same bits come out on 1 and on 2 threads.
#[test]
fn auto_takes_the_iterative_path_on_large_arrays_and_agrees_with_direct() {
    let cases = [
        (CellKind::ZeroT1R, CellLaw::Linear),
        (CellKind::OneS1R, CellLaw::Sinh { v0: 0.25 }),
        (CellKind::OneT1R, CellLaw::Sinh { v0: 0.25 }),
        (CellKind::TwoT2R, CellLaw::Linear),
    ];
    for (k, &(kind, law)) in cases.iter().enumerate() {
        let n = 145;
        let xb = array(n, n, kind, law, 40 + k as u64);
        assert!(2 * xb.rows * xb.phys_cols() > ITERATIVE_ABOVE);
        let b = bias(&xb, 50 + k as u64);
        let what = format!("{} {:?} {n}×{n}", kind.name(), law);
        let solve_on = |threads: usize, method: Method| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| solve_with(&xb, &b, method))
        };
        let auto = solve_on(2, Method::Auto);
        let iter = solve_on(2, Method::Iterative);
        let iter1 = solve_on(1, Method::Iterative);
        assert_eq!(
            auto.column_currents(),
            iter.column_currents(),
            "{what}: Auto"
        );
        assert_eq!(
            iter1.column_currents(),
            iter.column_currents(),
            "{what}: 1 vs 2 threads"
        );
        let direct = solve_with(&xb, &b, Method::Direct);
        assert_columns_agree(&auto, &direct, &format!("{what} (Auto, iterative)"));
    }
}

/// A batch of 8 or more vectors on an array above `ITERATIVE_ABOVE` keeps `Auto` on the saved
/// factor (chord sweeps: some vectors solved without a Krylov step or a factorisation), and
/// every vector agrees with its own iterative solve (itself checked against the direct path
/// above) to 1e-9; a single solve afterwards is back on the iterative path (same bits as
/// `Method::Iterative`). Linear passive batches likewise agree through `solve_batch_linear`.
#[test]
fn large_batches_keep_the_factor_and_agree_with_single_iterative_solves() {
    let xb = array(145, 145, CellKind::OneT1R, CellLaw::Linear, 61);
    let biases: Vec<Bias> = (0..9).map(|s| bias(&xb, 200 + s)).collect();
    let mut arr = Array::bind(&xb, &biases[0]).unwrap();
    let mut got = Vec::new();
    let mut nodes = Vec::new();
    let mut chord = 0;
    arr.solve_each(&biases, |a, _| {
        got.push(a.column_currents());
        nodes.push(a.v.clone());
        if a.last_krylov_iterations == 0 && a.last_factorizations == 0 {
            chord += 1;
        }
    })
    .unwrap();
    assert!(chord > 0, "no vector took the chord sweeps on the factor");
    let check = |got: &[Vec<f64>], xb: &Crossbar, biases: &[Bias], what: &str| {
        for (k, b) in biases.iter().enumerate() {
            let want = solve_with(xb, b, Method::Iterative).column_currents();
            let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            for (j, (x, y)) in got[k].iter().zip(&want).enumerate() {
                let rel = (x - y).abs() / y.abs().max(1e-13 * scale);
                assert!(
                    rel <= TOL,
                    "{what} vector {k} column {j}: {x:e} vs {y:e} ({rel:e})"
                );
            }
        }
    };
    check(&got, &xb, &biases, "1T1R batch");
    // Every node too, the transistors' middle nodes included (they set the cells' voltages and
    // so the energy): within 1e-9 of the read voltage of the single solve's.
    for (k, b) in biases.iter().enumerate() {
        let want = solve_with(&xb, b, Method::Iterative).v;
        for (i, (x, y)) in nodes[k].iter().zip(&want).enumerate() {
            assert!(
                (x - y).abs() <= 1e-9 * xb.v_read,
                "1T1R batch vector {k} node {i}: {x:e} V vs {y:e} V"
            );
        }
    }
    arr.set_bias(&biases[1]).unwrap();
    arr.v.fill(0.0);
    arr.solve().unwrap();
    let single = solve_with(&xb, &biases[1], Method::Iterative);
    assert_eq!(arr.column_currents(), single.column_currents());

    let xp = array(145, 145, CellKind::ZeroT1R, CellLaw::Linear, 62);
    let bp: Vec<Bias> = (0..8).map(|s| bias(&xp, 300 + s)).collect();
    let mut ap = Array::bind(&xp, &bp[0]).unwrap();
    let sols = ap.solve_batch_linear(&bp).unwrap();
    let mut gp = Vec::new();
    for (b, v) in bp.iter().zip(sols) {
        ap.set_bias(b).unwrap();
        ap.v.copy_from_slice(&v);
        gp.push(ap.column_currents());
    }
    check(&gp, &xp, &bp, "0T1R batch");
}

/// The batch's chord sweeps run the vectors in parallel (each evaluated and summed in its own
/// fixed order) and share the first sweep's crosspoint evaluation when every vector starts
/// from the same line voltages: every node voltage comes out in the same bits on 1 and on 2
/// threads, and every bit-line current agrees with a separate direct solve to 1e-9, for 1T1R
/// and 2T2R with transistors in every region; also when the shared first sweep does not apply
/// (a word line driven without driver resistance, so crosspoints touch a fixed node; gate
/// voltages that differ from vector to vector), and when every line node is driven directly
/// (no wire, driver or sense resistance: only the middle nodes are unknown).
#[test]
fn batches_are_the_same_bits_on_one_and_two_threads_and_agree_with_direct_solves() {
    for kind in [CellKind::OneT1R, CellKind::TwoT2R] {
        for variant in [
            "shared start",
            "no driver resistance",
            "gates per vector",
            "lines driven directly",
        ] {
            let mut xb = array(14, 11, kind, CellLaw::Linear, 71);
            if variant == "no driver resistance" {
                xb.r_driver = 0.0;
            }
            if variant == "lines driven directly" {
                (xb.r_row, xb.r_col, xb.r_driver, xb.r_sense) = (0.0, 0.0, 0.0, 0.0);
            }
            let biases: Vec<Bias> = (0..11)
                .map(|s| {
                    let mut b = bias(&xb, 400 + s);
                    if variant == "gates per vector" {
                        b.gates.rotate_left(s as usize);
                    }
                    b
                })
                .collect();
            let what = format!("{} {variant}", kind.name());
            let run = |threads: usize| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap()
                    .install(|| {
                        let mut arr = Array::bind(&xb, &biases[0]).unwrap();
                        let (mut v, mut cols, mut chord) = (Vec::new(), Vec::new(), 0);
                        arr.solve_each(&biases, |a, _| {
                            v.push(a.v.clone());
                            cols.push(a.column_currents());
                            if a.last_krylov_iterations == 0 && a.last_factorizations == 0 {
                                chord += 1;
                            }
                        })
                        .unwrap();
                        (v, cols, chord)
                    })
            };
            let (v1, _, _) = run(1);
            let (v2, cols, chord) = run(2);
            assert!(chord > 0, "{what}: no vector took the chord sweeps");
            assert_eq!(v1, v2, "{what}: 1 vs 2 threads");
            let mut seen = (0, 0, 0);
            for (k, b) in biases.iter().enumerate() {
                let d = solve_with(&xb, b, Method::Direct);
                let r = regions(&d, b);
                seen = (seen.0 + r.0, seen.1 + r.1, seen.2 + r.2);
                let want = d.column_currents();
                let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                for (j, (x, y)) in cols[k].iter().zip(&want).enumerate() {
                    let rel = (x - y).abs() / y.abs().max(1e-13 * scale);
                    assert!(
                        rel <= TOL,
                        "{what} vector {k} column {j}: {x:e} vs direct {y:e} (rel {rel:e})"
                    );
                }
            }
            assert!(
                seen.0 > 0 && seen.1 > 0 && seen.2 > 0,
                "{what}: transistor regions visited (cutoff, linear, saturation) {seen:?}"
            );
        }
    }
}
