//! Fixtures shared by the crossbar test files.
#![allow(dead_code)] // each test crate uses its own subset

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use xbarsim::crossbar::*;

/// An n×n array of `cell` kind (linear or sinh cells) with wire, driver and sense resistance,
/// a selector for 1S1R, an access transistor for 1T1R/2T2R and seeded random weights. Even
/// seeds drive and sense both line ends.
pub fn build(n: usize, cell: CellKind, sinh: bool, seed: u64) -> Crossbar {
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
        xb.transistor = Some(access_mos());
        xb.v_gate = 1.2;
    }
    xb.random_weights(&mut ChaCha8Rng::seed_from_u64(seed));
    xb
}

/// The 2×1 2T2R sinh array (and its input vector, fractions of full scale) on which the general
/// engine's Newton once cycled on roundoff (found by proptest; regression tests
/// `engine_converges_on_small_2t2r_sinh_array` in properties.rs and
/// `two_t2r_sinh_case_matches_ngspice` in crossbar_ngspice.rs).
pub fn two_t2r_sinh_repro() -> (Crossbar, Vec<f64>) {
    let mut xb = Crossbar::new(2, 1);
    xb.cell = CellKind::TwoT2R;
    xb.law = CellLaw::Sinh { v0: 0.25 };
    xb.g_min = 2e-6;
    xb.g_max = 1e-4;
    xb.g = vec![
        1.8015867836615707e-6,
        5.53344137101277e-5,
        8.321023904859552e-5,
        1.8015867836615707e-6,
    ];
    xb.transistor = Some(access_mos());
    xb.v_gate = 1.2;
    xb.r_row = 0.2829381175156222;
    xb.r_col = 4.0513885519377855;
    xb.r_driver = 192.28179424951048;
    xb.r_sense = 57.865002145342594;
    xb.line_ends = LineEnds::One;
    (xb, vec![0.22669677207307676, 0.42147524082274834])
}

/// Fit `xb` with the device its cell kind needs, as the condensed-path and structured-solver
/// test arrays have it: a selector (I_s = 10 µA, V_s = 50 mV) for 1S1R, a W/L = 2 µm/1 µm
/// access transistor (gate at the default `v_gate`) for 1T1R and 2T2R.
pub fn add_cell_devices(xb: &mut Crossbar) {
    if xb.cell == CellKind::OneS1R {
        xb.selector = Some(Selector {
            i_s: 1e-5,
            v_s: 0.05,
        });
    }
    if xb.cell.has_transistor() {
        xb.transistor = Some(Mos1 {
            vto: 0.5,
            kp: 2e-4,
            lambda: 0.02,
            w: 2e-6,
            l: 1e-6,
        });
    }
}

/// The access transistor of the test arrays (level 1, on at the 1.2 V gate of the fixtures).
pub fn access_mos() -> Mos1 {
    Mos1 {
        vto: 0.45,
        kp: 1.5e-4,
        lambda: 0.03,
        w: 1e-6,
        l: 0.5e-6,
    }
}

/// Runs the `xbar` binary with `args`: (exit success, stdout, stderr).
pub fn xbar(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xbar"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}
