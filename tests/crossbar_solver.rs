//! The structured array solver against closed forms, conservation laws and the generic engine.

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use xbarsim::circuit::Simulator;
use xbarsim::crossbar::network::End;
use xbarsim::crossbar::*;

/// Relative tolerances used throughout (one place).
const TOL_EXACT: f64 = 1e-12;
const TOL_SOLVE: f64 = 1e-9;

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

fn oxram(rows: usize, cols: usize, cell: CellKind, seed: u64) -> Crossbar {
    let mut xb = Crossbar::new(rows, cols);
    xb.cell = cell;
    xb.law = CellLaw::Sinh { v0: 0.25 };
    xb.g_min = 1e-6;
    xb.g_max = 1e-4;
    xb.r_row = 2.0;
    xb.r_col = 3.0;
    xb.r_driver = 50.0;
    xb.r_sense = 20.0;
    common::add_cell_devices(&mut xb);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    xb.random_weights(&mut rng);
    xb
}

fn solve(xb: &Crossbar, v: &[f64]) -> Array {
    let mut arr = Array::bind(xb, &Bias::mvm(xb, v)).unwrap();
    arr.solve().unwrap();
    arr
}

#[test]
fn one_by_one_linear_equals_series_resistance() {
    let mut xb = Crossbar::new(1, 1);
    xb.g = vec![2e-5];
    xb.r_driver = 1e3;
    xb.r_sense = 500.0;
    xb.r_row = 7.0; // no segment in a 1×1 array
    let arr = solve(&xb, &[0.3]);
    let expect = 0.3 / (1e3 + 1.0 / 2e-5 + 500.0);
    assert!(rel(arr.column_currents()[0], expect) < TOL_EXACT);
    assert!(rel(arr.row_currents()[0], expect) < TOL_EXACT);
}

#[test]
fn one_by_one_sinh_equals_scalar_root_of_series_equation() {
    // V = I·(Rd + Rs) + V0·asinh(I/I0), solved by bisection (monotone in I).
    let (v, rd, rs, g, v0) = (0.8, 2e3, 1e3, 1e-4, 0.25);
    let i0 = g * v0;
    let f = |i: f64| i * (rd + rs) + v0 * (i / i0).asinh() - v;
    let (mut lo, mut hi) = (0.0, v / (rd + rs));
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > 0.0 {
            hi = mid
        } else {
            lo = mid
        }
    }
    let mut xb = Crossbar::new(1, 1);
    xb.law = CellLaw::Sinh { v0 };
    xb.g = vec![g];
    xb.r_driver = rd;
    xb.r_sense = rs;
    let arr = solve(&xb, &[v]);
    assert!(rel(arr.column_currents()[0], 0.5 * (lo + hi)) < TOL_SOLVE);
}

#[test]
fn zero_wire_resistance_gives_ideal_dot_product() {
    for ends in [LineEnds::One, LineEnds::Both] {
        let mut xb = Crossbar::new(13, 9);
        xb.line_ends = ends;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        xb.random_weights(&mut rng);
        let x: Vec<Vec<f64>> = (0..4)
            .map(|_| (0..13).map(|_| rng.random_range(0.0..1.0)).collect())
            .collect();
        let rep = mvm(&xb, &x).unwrap();
        for (a, b) in rep.analog.iter().zip(&rep.ideal) {
            for (p, q) in a.iter().zip(b) {
                assert!(rel(*p, *q) < TOL_EXACT, "{p} vs {q}");
            }
        }
    }
}

/// A single driven word line with uniform segments R and identical cells G to an ideal
/// virtual ground is a resistive ladder. With cosh θ = 1 + R·G/2 the node voltages are
/// V_j = K·cosh((N − ½ − j)·θ), which satisfies the interior recurrence
/// V_{j+1} − (2 + RG)·V_j + V_{j−1} = 0 and the open far end V_{N−2} = (1 + RG)·V_{N−1};
/// K follows from KCL at the driven node: (V_in − V_0)/R_d = G·V_0 + (V_0 − V_1)/R.
#[test]
fn uniform_row_matches_analytic_ladder() {
    let (n, r, g, rd, vin): (usize, f64, f64, f64, f64) = (64, 5.0, 1e-3, 30.0, 0.5);
    let theta = (1.0 + r * g / 2.0).acosh();
    let nf = n as f64;
    let k = vin
        / rd
        / (((nf - 0.5) * theta).cosh() * (1.0 / rd + g + 1.0 / r)
            - ((nf - 1.5) * theta).cosh() / r);
    let mut xb = Crossbar::new(1, n);
    xb.g = vec![g; n];
    xb.r_row = r;
    xb.r_col = 1.0;
    xb.r_driver = rd;
    let arr = solve(&xb, &[vin]);
    let i = arr.column_currents();
    for j in 0..n {
        let vj = k * ((nf - 0.5 - j as f64) * theta).cosh();
        assert!(rel(i[j], g * vj) < TOL_SOLVE, "column {j}");
    }
}

/// Σ currents leaving every free node is zero (to 1e-9 of the largest branch current).
fn check_kcl(arr: &Array) {
    let n = arr.net().n_free;
    let mut sum = vec![0.0; n];
    let mut imax = 0.0f64;
    let mut put = |a: End, b: End, i: f64, imax: &mut f64| {
        *imax = imax.max(i.abs());
        if let End::Free(a) = a {
            sum[a as usize] += i;
        }
        if let End::Free(b) = b {
            sum[b as usize] -= i;
        }
    };
    for r in &arr.net().res {
        let i = r.g * (arr.end_voltage(r.a) - arr.end_voltage(r.b));
        put(r.a, r.b, i, &mut imax);
    }
    for (k, t) in arr.net().cells.iter().enumerate() {
        put(t.a, t.b, arr.cell_current(k), &mut imax);
    }
    for (k, t) in arr.net().sels.iter().enumerate() {
        put(t.a, t.b, arr.selector_current(k), &mut imax);
    }
    for (k, t) in arr.net().mos.iter().enumerate() {
        put(t.d, t.s, arr.mos_current(k), &mut imax);
    }
    for (k, s) in sum.iter().enumerate() {
        assert!(
            s.abs() <= 1e-9 * imax,
            "KCL at unknown {k}: {s} A (max {imax} A)"
        );
    }
}

#[test]
fn kcl_holds_at_every_node_and_power_balances() {
    for cell in [
        CellKind::ZeroT1R,
        CellKind::OneS1R,
        CellKind::OneT1R,
        CellKind::TwoT2R,
    ] {
        let mut xb = oxram(20, 12, cell, 7);
        xb.line_ends = LineEnds::Both;
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let v: Vec<f64> = (0..20).map(|_| rng.random_range(0.0..0.4)).collect();
        let arr = solve(&xb, &v);
        check_kcl(&arr);
        let e = energy(&arr);
        assert!(
            rel(e.p_dissipated(), e.p_sources) < TOL_SOLVE,
            "{cell:?}: sources {} W, dissipated {} W",
            e.p_sources,
            e.p_dissipated()
        );
        assert!(e.p_cells > 0.0 && e.p_row_wires > 0.0 && e.p_col_wires > 0.0);
    }
}

#[test]
fn linear_array_agrees_with_the_generic_engine() {
    let mut xb = Crossbar::new(8, 6);
    xb.r_row = 1.5;
    xb.r_col = 2.5;
    xb.r_driver = 10.0;
    xb.r_sense = 5.0;
    xb.line_ends = LineEnds::Both;
    xb.random_weights(&mut ChaCha8Rng::seed_from_u64(1));
    let v: Vec<f64> = (0..8).map(|i| 0.05 * (i as f64 + 1.0)).collect();
    let arr = solve(&xb, &v);
    let circuit = to_circuit(&arr).unwrap();
    let mut sim = Simulator::new(circuit).unwrap();
    let sol = sim.op().unwrap();
    let fast = arr.column_currents();
    let mut engine = vec![0.0; 6];
    for (f, &t) in arr.net().fixed_term.iter().enumerate() {
        if let xbarsim::crossbar::network::Line::Col(j) = arr.net().terminals[t].line {
            engine[j] += sim.vsource_current(&sol, f);
        }
    }
    for j in 0..6 {
        assert!(
            rel(engine[j], fast[j]) < TOL_SOLVE,
            "col {j}: {} vs {}",
            engine[j],
            fast[j]
        );
    }
}

#[test]
fn two_by_two_read_schemes_match_hand_analysis() {
    let mut xb = Crossbar::new(2, 2);
    xb.g = vec![1e-4, 2e-5, 3e-5, 4e-5]; // G00 G01 / G10 G11
    let v = 0.3;
    // Floating: sneak path G01 → G11 → G10 in series.
    let r = read_cell(&xb, 0, 0, v, ReadScheme::Floating).unwrap();
    let sneak = v / (1.0 / 2e-5 + 1.0 / 4e-5 + 1.0 / 3e-5);
    assert!(rel(r.i_cell, v * 1e-4) < TOL_EXACT);
    assert!(rel(r.i_sneak, sneak) < TOL_SOLVE);
    // V/2: the half-selected cell on the sensed column adds (V/2)·G10.
    let r = read_cell(&xb, 0, 0, v, ReadScheme::Half).unwrap();
    assert!(rel(r.i_sense, v * 1e-4 + v / 2.0 * 3e-5) < TOL_EXACT);
    // Grounded: no sneak current into the sensed column.
    let r = read_cell(&xb, 0, 0, v, ReadScheme::Grounded).unwrap();
    assert!(r.i_sneak.abs() < 1e-20);
    assert!(rel(r.i_sense_on - r.i_sense_off, v * (1e-4 - 1e-6)) < TOL_EXACT);
}

#[test]
fn bit_serial_and_adc_reconstruct_the_dot_product() {
    let mut xb = Crossbar::new(16, 8);
    xb.random_weights(&mut ChaCha8Rng::seed_from_u64(5));
    xb.dac = Dac {
        bits: 4,
        mode: DacMode::BitSerial,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let x: Vec<Vec<f64>> = (0..5)
        .map(|_| (0..16).map(|_| rng.random_range(0.0..1.0)).collect())
        .collect();
    let rep = mvm(&xb, &x).unwrap();
    for (a, b) in rep.analog.iter().zip(&rep.ideal_dac) {
        for (p, q) in a.iter().zip(b) {
            assert!(rel(*p, *q) < TOL_EXACT);
        }
    }
    // Analog DAC + 6-bit ADC over the batch maximum: error within half an LSB.
    xb.dac.mode = DacMode::Analog;
    xb.adc = Adc {
        bits: 6,
        range: AdcRange::MaxOfBatch,
    };
    let rep = mvm(&xb, &x).unwrap();
    let lsb = rep.adc_full_scale / 63.0;
    for (a, b) in rep.digital.iter().zip(&rep.ideal_dac) {
        for (p, q) in a.iter().zip(b) {
            assert!((p - q).abs() <= 0.5 * lsb * (1.0 + 1e-12));
        }
    }
    assert_eq!(rep.clip_rate, 0.0);
}

fn trial_errors(seed: u64) -> Vec<f64> {
    (0..6u64)
        .into_par_iter()
        .map(|t| {
            let mut xb = oxram(24, 24, CellKind::ZeroT1R, seed ^ (t << 32));
            let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1_000_003) + t);
            xb.random_weights(&mut rng);
            let x = vec![(0..24).map(|_| rng.random_range(0.0..1.0)).collect()];
            mvm(&xb, &x).unwrap().err_analog.rms
        })
        .collect()
}

#[test]
fn same_seed_is_bit_identical_on_one_and_two_threads() {
    let p1 = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let p2 = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = p1.install(|| trial_errors(42));
    let b = p2.install(|| trial_errors(42));
    assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
    assert!(a.iter().all(|&e| e > 0.0));
}
