//! Device-card cells in arrays: programming, closed forms, and agreement with the engine.

use std::path::Path;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbarsim::crossbar::*;
use xbarsim::device::load_card;

const TOL_SOLVE: f64 = 1e-9;
/// Card V0 (device-models/oxram-stanford-v1.toml, [params] v0 = 0.25 V; no D2D on it).
const CARD_V0: f64 = 0.25;

fn card() -> Arc<xbarsim::device::Model> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models/oxram-stanford-v1.toml");
    Arc::new(load_card(&p).unwrap())
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// 1×1 1T1R: driver – OxRAM cell – access transistor (triode) – sense resistance. With the
/// cell programmed to read conductance G at v_read, its law is I = A·sinh(V/V0) with
/// A = G·v_read/sinh(v_read/V0) (Stanford-PKU static law at a fixed gap). The transistor
/// (λ = 0) in triode conducts I_t = β(vgst·vds − vds²/2), and its drain and source each leak
/// GMIN_BULK to the grounded bulk (as in SPICE). For a cell current I: the drain sits at
/// vd = V − I·Rd − V0·asinh(I/A), the channel carries I_t = I − gmin·vd, the source at
/// vs = Rs·(I_t + gmin·vs); the channel law's current at (vg − vs, vd − vs) minus I_t falls
/// monotonically with I: bisection. The sensed current is I_t + gmin·vs.
#[test]
fn one_by_one_card_1t1r_matches_series_closed_form() {
    let (v_in, rd, rs, vg) = (0.35, 150.0, 80.0, 1.1);
    let m1 = Mos1 {
        vto: 0.45,
        kp: 2e-4,
        lambda: 0.0,
        w: 1e-6,
        l: 0.5e-6,
    };
    let mut xb = Crossbar::new(1, 1);
    xb.cell = CellKind::OneT1R;
    xb.transistor = Some(m1);
    xb.v_gate = vg;
    xb.r_driver = rd;
    xb.r_sense = rs;
    xb.r_row = 3.0; // no segment in a 1×1 array
    xb.g_min = 2e-5;
    xb.g_max = 4e-4;
    xb.seed = 11;
    xb.use_card(card()).unwrap();
    xb.set_weights(&[0.6]).unwrap();
    let g_target = 2e-5 + 0.6 * (4e-4 - 2e-5);
    assert!(
        rel(xb.g_read(0), g_target) < 1e-12,
        "programmed {}",
        xb.g_read(0)
    );

    let a = g_target * xb.v_read / (xb.v_read / CARD_V0).sinh();
    let beta = m1.kp * m1.w / m1.l;
    let gmin = GMIN_BULK;
    let branch = |i: f64| {
        let vd = v_in - i * rd - CARD_V0 * (i / a).asinh();
        let i_t = i - gmin * vd;
        let vs = rs * i_t / (1.0 - rs * gmin);
        (vd, vs, i_t)
    };
    let f = |i: f64| {
        let (vd, vs, i_t) = branch(i);
        let (vgst, vds) = (vg - vs - m1.vto, vd - vs);
        assert!(vds < vgst, "triode");
        beta * (vgst * vds - vds * vds / 2.0) - i_t
    };
    let (mut lo, mut hi) = (0.0, v_in / (rd + rs));
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < 0.0 {
            hi = mid
        } else {
            lo = mid
        }
    }
    let (_, vs, i_t) = branch(0.5 * (lo + hi));
    let expect = i_t + gmin * vs;
    let mut arr = Array::bind(&xb, &Bias::mvm(&xb, &[v_in])).unwrap();
    arr.solve().unwrap();
    let got = arr.column_currents()[0];
    assert!(rel(got, expect) < TOL_SOLVE, "{got:e} vs {expect:e}");
}

/// Column currents of the structured solver and of the general engine (`engine_column_currents`).
fn compare_with_engine(xb: &Crossbar, v: &[f64], tol: f64) -> f64 {
    let mut arr = Array::bind(xb, &Bias::mvm(xb, v)).unwrap();
    arr.solve().unwrap();
    let fast = arr.column_currents();
    let engine = engine_column_currents(&arr).unwrap();
    let mut worst = 0.0f64;
    for j in 0..fast.len() {
        let e = rel(engine[j], fast[j]);
        assert!(
            e < tol,
            "{} {:?} col {j}: engine {:e} A, structured {:e} A",
            xb.cell.name(),
            xb.law,
            engine[j],
            fast[j]
        );
        worst = worst.max(e);
    }
    worst
}

fn inputs(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(0.05..0.45)).collect()
}

#[test]
fn four_by_four_oxram_card_arrays_agree_with_engine_memcells() {
    for cell in [CellKind::ZeroT1R, CellKind::OneT1R] {
        let mut xb = Crossbar::new(4, 4);
        xb.cell = cell;
        xb.r_row = 2.0;
        xb.r_col = 3.0;
        xb.r_driver = 20.0;
        xb.r_sense = 10.0;
        xb.g_min = 1e-5;
        xb.g_max = 2e-4;
        xb.seed = 5;
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
        xb.use_card(card()).unwrap();
        xb.random_weights(&mut ChaCha8Rng::seed_from_u64(3));
        let w = compare_with_engine(&xb, &inputs(4, 4), TOL_SOLVE);
        eprintln!("{}: worst rel. difference {w:.2e}", cell.name());
    }
}

#[test]
fn card_cells_are_seeded_per_cell_and_programmed_within_the_window() {
    let mut a = Crossbar::new(6, 5);
    a.g_min = 1e-5;
    a.g_max = 1e-4;
    a.seed = 9;
    a.use_card(card()).unwrap();
    a.random_weights(&mut ChaCha8Rng::seed_from_u64(1));
    // Same seed, bigger array: the shared cells (same index) draw the same D2D parameters.
    let mut b = a.clone();
    b.use_card(card()).unwrap();
    assert_eq!(a.cells, b.cells);
    // D2D spread present: not all cells have the same i0.
    let i0: Vec<f64> = a
        .cells
        .iter()
        .map(|c| match c {
            xbarsim::device::Cell::OxRam { p, .. } => p.i0,
            _ => unreachable!(),
        })
        .collect();
    assert!(i0.iter().any(|&x| x != i0[0]));
    for (k, c) in a.cells.iter().enumerate() {
        let g = c.read_conductance(a.v_read, a.temp_k);
        assert!(rel(g, a.g[k]) < 1e-12);
        assert!(g >= 1e-5 * (1.0 - 1e-12) && g <= 1e-4 * (1.0 + 1e-12));
    }
}

#[test]
fn card_config_file_resolves_and_bad_card_keys_name_the_key() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/configs/crossbar_0t1r_oxram_card.toml");
    let xb = Crossbar::from_toml_file(&p).unwrap();
    assert_eq!(xb.law, CellLaw::Card);
    assert_eq!(xb.cells.len(), 32 * 32);
    let rep = mvm(&xb, &[vec![1.0; 32]]).unwrap();
    assert!(rep.err_analog.rms > 0.0 && rep.err_analog.rms < 0.1);

    let text = std::fs::read_to_string(&p).unwrap();
    let bad = text.replace("../../device-models/oxram-stanford-v1.toml", "nope.toml");
    let e = Crossbar::from_toml_str(&bad, &p).unwrap_err().to_string();
    assert!(e.contains("device.card") && e.contains("nope.toml"), "{e}");
    let bad = text.replace("g_min = 1e-5", "g_min = 1e-9");
    let e = Crossbar::from_toml_str(&bad, &p).unwrap_err().to_string();
    assert!(e.contains("device.g_min") && e.contains("window"), "{e}");
    let bad = text.replace("card = \"../../device-models/oxram-stanford-v1.toml\"", "");
    let e = Crossbar::from_toml_str(&bad, &p).unwrap_err().to_string();
    assert!(e.contains("device.card"), "{e}");
}

/// Unsupported families give a clear error naming the family.
#[test]
fn programming_an_mtj_card_is_a_clear_error() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models/mtj_pma_cheng2014.toml");
    let mut xb = Crossbar::new(2, 2);
    let e = xb
        .use_card(Arc::new(load_card(&p).unwrap()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("mtj") && e.contains("not supported"), "{e}");
}
