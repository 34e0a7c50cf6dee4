//! A fit turns the cycle-to-cycle noise amplitudes off (the declared `[variability.c2c]` keys
//! whose range includes 0) in every family, pcm included now that its parameters are declared
//! like every other family's. A noise-free PCM SET pulse train is fitted back to the card
//! values; before the one declaration, the pcm fit kept σ_K = 0.2 and σ_xm = 0.05 on and gave
//! R_c = 3.4e5 Ω for a true 4e4 Ω on the same data.

use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use xbarsim::app::device as cli;
use xbarsim::device::parse_card;
use xbarsim::fit::{self, ExperimentKind, FitOptions};
use xbarsim::report::Table;

const PCM: &str = include_str!("../device-models/pcm_gst_mushroom.toml");

#[test]
fn a_noise_free_pcm_pulse_train_is_fitted_back_to_the_card_values() {
    // Truth: the shipped card without C2C noise, nominal device (no D2D).
    let truth = PCM
        .replace("set_rate_sigma_ln = 0.2", "set_rate_sigma_ln = 0.0")
        .replace(
            "reset_fraction_sigma_rel = 0.05",
            "reset_fraction_sigma_rel = 0.0",
        );
    assert_ne!(truth, PCM);
    let mut cell = parse_card(Path::new("truth.toml"), &truth)
        .unwrap()
        .nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (amp, width) = (1.5, 50e-9);
    let up = cli::pulse_train(&mut cell, amp, width, 8, 0.1, cli::DEVICE_TEMP_K, &mut rng).unwrap();
    let mut t = Table::new(["pulse", "amplitude_v", "width_s", "g_s"]);
    for (k, r) in up.rows.iter().enumerate() {
        t.push_row(vec![k as f64, amp, width, r[1]]).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("pulses.csv");
    t.write_csv(&data).unwrap();
    // Start: the shipped card (noise on in the card), K0 a factor 3 off; the default free set.
    let mut o = FitOptions::new("pcm", ExperimentKind::Pulse, &data, &dir.path().join("f"));
    o.set = vec![("k0_cryst_per_s".into(), 0.8e22)];
    let rep = fit::fit(&o).unwrap();
    for (name, value) in [
        ("k0_cryst_per_s", 2.4e22),
        ("r_set_ohm", 4.0e4),
        ("r_reset_ohm", 4.0e6),
    ] {
        let p = rep.params.iter().find(|p| p.name == name).unwrap();
        assert!(
            (p.value / value - 1.0).abs() < 1e-3,
            "{name}: fitted {:e}, true {value:e}\n{rep}",
            p.value
        );
    }
}
