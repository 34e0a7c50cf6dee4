//! CBRAM SET stops at the compliance of the card and RESET sets in where the universal reset
//! relation puts it. References: Yu & Wong, IEEE TED 58(5) 1352 (2011), eq. 9, R_set = C/I_comp;
//! Ielmini, "Universal reset characteristics of unipolar and bipolar metal-oxide RRAM", IEEE TED
//! 58(10) 3246 (2011), and for CBRAM Russo et al., IEEE TED 56(2) 193 (2009): the RESET current
//! equals the SET compliance, I_reset ≈ I_C, so the RESET voltage is V_reset ≈ I_C·R_set = C.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use xbarsim::app::device as cli;
use xbarsim::device::{load_card, Cell, Model};

const T: f64 = 300.0;

fn nominal_cell() -> Cell {
    let m =
        load_card(&Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models/cbram-yu-wong.toml"))
            .unwrap();
    assert!(matches!(m, Model::Cbram(_)));
    let mut c = m.nominal_cell();
    if let Cell::Cbram { p, .. } = &mut c {
        p.sigma_touch = 0.0;
    }
    c
}

fn col(t: &xbarsim::report::Table, name: &str) -> Vec<f64> {
    t.column(name).unwrap()
}

#[test]
fn set_sweep_ends_at_the_compliance_resistance_c_over_i_comp() {
    let mut c = nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let t = cli::iv_loop(&mut c, 1.5, 0.0, 1.0, 401, 1, T, &mut rng).unwrap();
    let (v, i) = (col(&t, "v_v"), col(&t, "i_a"));
    // At the top of the sweep the cell is the compliance-set filament: R = 0.08 V/1 mA = 80 Ω
    // (before this fix the lateral growth ran on to the full base and R fell to 7.5 Ω).
    let k = v
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    let r = v[k] / i[k];
    println!("CBRAM LRS at +1.5 V: {r} Ω (c_set/i_comp = 80 Ω)");
    assert!((r / 80.0 - 1.0).abs() < 0.01, "R at +1.5 V = {r} Ω");
}

#[test]
fn reset_peak_current_and_voltage_follow_the_universal_reset_relation() {
    let mut c = nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let t = cli::iv_loop(&mut c, 1.5, -1.5, 1.0, 2001, 1, T, &mut rng).unwrap();
    let (time, v, i) = (col(&t, "time_s"), col(&t, "v_v"), col(&t, "i_a"));
    // The negative leg going down (from 0 V to vmin): the RESET is the |I| peak.
    let t_min = time[v
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0];
    let (k, _) = (0..v.len())
        .filter(|&k| v[k] < 0.0 && time[k] <= t_min)
        .map(|k| (k, i[k]))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    let (i_comp, c_set) = (1e-3, 0.08);
    println!(
        "CBRAM RESET: peak |I| {} A at {} V (I_comp 1 mA, C 0.08 V)",
        -i[k], v[k]
    );
    assert!(
        -i[k] > 0.4 * i_comp && -i[k] < 1.2 * i_comp,
        "I_reset {} A vs I_comp {i_comp}",
        -i[k]
    );
    assert!(
        -v[k] > 0.5 * c_set && -v[k] < 1.5 * c_set,
        "V_reset {} V vs C {c_set}",
        v[k]
    );
}
