//! PCM physical model: drift, gradual SET, RESET, derivative, read noise, card errors.
//! References are closed forms of the model's published laws (cited in src/device/pcm.rs) or
//! the card's own values, never numbers printed by the code under test.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use xbarsim::device::pcm::{drift_curves, PcmModel, PcmParams};
use xbarsim::device::CompactModel;

const T_AMB: f64 = 300.0;

fn card() -> PcmModel {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device-models/pcm_gst_mushroom.toml");
    PcmModel::new(PcmParams::from_toml_file(&path).expect("card parses")).expect("card valid")
}

fn no_variability(m: &PcmModel) -> PcmModel {
    let mut p = m.params().clone();
    // The D2D and C2C coefficients at their declared (zero) defaults.
    p.nu_sigma = 0.0;
    p.r_set_sigma_ln = 0.0;
    p.r_reset_sigma_ln = 0.0;
    p.v_th_sigma_rel = 0.0;
    p.set_rate_sigma_ln = 0.0;
    p.reset_fraction_sigma_rel = 0.0;
    PcmModel::new(p).unwrap()
}

/// Log-log slope of R(t) between two times.
fn slope(r1: f64, r2: f64, t1: f64, t2: f64) -> f64 {
    (r2 / r1).ln() / (t2 / t1).ln()
}

#[test]
fn drift_log_log_slope_equals_nu_within_one_percent() {
    // Closed form: R(t) = R(t0)·(t/t0)^ν for the fully amorphous cell, so the slope is ν.
    let m = no_variability(&card());
    let nu = m.params().nu;
    let times = [1.0, 20.0, 1.0e2, 1.0e4, 1.0e6];
    let curves = drift_curves(&m, 1.0, 1, &times, 0.1, T_AMB, 7);
    let r: Vec<f64> = curves.iter().map(|(_, r)| r[0]).collect();
    // aihwkit's time base: R(t) = R_a·((t + t0)/t0)^ν, t the age since the quench.
    let t0 = m.params().drift_t0_s;
    for (k, &t) in times.iter().enumerate() {
        let want = m.params().r_reset_ohm * ((t + t0) / t0).powf(nu);
        assert!(
            (r[k] / want - 1.0).abs() < 1e-6,
            "t {t}: {} vs {want}",
            r[k]
        );
    }
    // Far past t0 the log-log slope is ν.
    let s = slope(r[3], r[4], times[3], times[4]);
    assert!((s / nu - 1.0).abs() < 0.01, "slope {s} vs nu {nu}");
}

#[test]
fn drift_slope_follows_each_sampled_devices_nu() {
    let m = card();
    let seed = 11;
    let times = [1.0e4, 1.0e7]; // t ≫ t0: ((t + t0)/t0)^ν has log-log slope ν there
    let curves = drift_curves(&m, 1.0, 6, &times, 0.1, T_AMB, seed);
    let mut distinct = Vec::new();
    for d in 0..6 {
        // Same seeding rule as documented on drift_curves: stream d of seed.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(d as u64);
        let nu = m.sample_device(&mut rng).params().nu;
        let s = slope(curves[0].1[d], curves[1].1[d], times[0], times[1]);
        assert!(
            (s / nu - 1.0).abs() < 0.01,
            "device {d}: slope {s} vs nu {nu}"
        );
        distinct.push(nu);
    }
    distinct.dedup();
    assert!(distinct.len() > 1, "ν must differ between devices");
}

#[test]
fn zero_bias_advance_ages_the_cell() {
    let m = no_variability(&card());
    let mut st = m.state_with(1.0, 0.0);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    m.advance(&mut st, 0.0, 2.0e3, T_AMB, &mut rng);
    assert_eq!(st.age_s, 2.0e3);
    // Retention: at 300 K, K = K0·exp(−E_a/kT) ≈ 1e-17 /s, so x stays 1 to ~1e-13.
    assert!(1.0 - st.amorphous_fraction < 1e-9);
    let p = m.params();
    let expect = p.r_reset_ohm * ((2.0e3f64 + p.drift_t0_s) / p.drift_t0_s).powf(p.nu);
    assert!((m.read_resistance(&st) / expect - 1.0).abs() < 1e-9);
}

/// Applies a pulse then a rest at zero bias; returns read conductance at 0.1 V.
fn pulse(
    m: &PcmModel,
    st: &mut <PcmModel as CompactModel>::State,
    v: f64,
    width: f64,
    rng: &mut ChaCha8Rng,
) -> f64 {
    m.advance(st, v, width, T_AMB, rng);
    m.advance(st, 0.0, 1e-6, T_AMB, rng);
    m.read_conductance(st, 0.1, T_AMB)
}

#[test]
fn repeated_partial_set_pulses_raise_g_monotonically_and_saturate() {
    for m in [no_variability(&card()), card()] {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut st = m.state_with(1.0, 0.0);
        let g_set = 1.0 / m.params().r_set_ohm; // closed form at x = 0
        let mut g = vec![m.read_conductance(&st, 0.1, T_AMB)];
        for _ in 0..200 {
            g.push(pulse(&m, &mut st, 1.5, 50e-9, &mut rng));
        }
        for w in g.windows(2) {
            assert!(w[1] >= w[0], "G must not decrease: {} -> {}", w[0], w[1]);
        }
        // Gradual: several pulses are needed to get half-way.
        let half = g
            .iter()
            .position(|&x| x > 0.5 * g_set)
            .expect("reaches half of G_set");
        assert!(half >= 5, "SET too abrupt: half-way after {half} pulses");
        // Saturates at the crystalline conductance.
        let last = *g.last().unwrap();
        assert!(
            (last / g_set - 1.0).abs() < 0.01,
            "G_final {last} vs G_set {g_set}"
        );
        assert!((g[200] - g[190]) < 1e-3 * last);
    }
}

#[test]
fn reset_pulse_returns_the_cell_to_the_amorphous_range() {
    let m = no_variability(&card());
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut st = m.state_with(0.0, 1.0e3);
    let g = pulse(&m, &mut st, 2.0, 50e-9, &mut rng);
    let r = 1.0 / g;
    assert!(st.amorphous_fraction > 0.99);
    assert!(
        (r / m.params().r_reset_ohm - 1.0).abs() < 0.02,
        "R after RESET {r}"
    );
    // The drift clock restarted at the quench.
    assert!(st.age_s <= 1.0e-6 + 1e-12);
    // And the cell can be SET again.
    let g2 = (0..100)
        .map(|_| pulse(&m, &mut st, 1.5, 50e-9, &mut rng))
        .last()
        .unwrap();
    assert!(g2 * m.params().r_set_ohm > 0.99);
}

#[test]
fn current_derivative_matches_central_difference() {
    let m = no_variability(&card());
    let h = 1e-6;
    for &x in &[0.0, 0.25, 0.5, 0.75, 1.0] {
        for &age in &[0.0, 1.0e4] {
            let st = m.state_with(x, age);
            for k in -100..=100 {
                let v = k as f64 * 0.025 + 0.0013; // offset avoids only the exact grid zero
                let (_, d) = m.current(&st, v, T_AMB);
                let fd =
                    (m.current(&st, v + h, T_AMB).0 - m.current(&st, v - h, T_AMB).0) / (2.0 * h);
                assert!(
                    (d - fd).abs() <= 1e-6 * d.abs(),
                    "x {x} age {age} v {v}: d {d} fd {fd}"
                );
                assert!(d > 0.0, "monotone law");
            }
        }
    }
}

#[test]
fn noisy_read_has_the_1_over_f_spread() {
    // aihwkit form with t_read = 1/(2·BW): σ = Q_s·sqrt(ln((t + t_r)/(2 t_r))); at G = 1/R_c,
    // Q_s = 0.0088 (card), t = 1 s, BW = 1 MHz -> t_r = 0.5 µs.
    let m = no_variability(&card());
    let st = m.state_with(0.0, 1.0);
    let sigma = 0.0088 * ((1.0f64 + 0.5e-6) / 1.0e-6).ln().sqrt();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let i0 = m.current(&st, 0.1, T_AMB).0;
    let n = 20_000;
    let xs: Vec<f64> = (0..n)
        .map(|_| m.read_current_noisy(&st, 0.1, T_AMB, 1.0e6, &mut rng) / i0 - 1.0)
        .collect();
    let mean = xs.iter().sum::<f64>() / n as f64;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    assert!((sd / sigma - 1.0).abs() < 0.03, "sd {sd} vs {sigma}");
    assert!(mean.abs() < 4.0 * sigma / (n as f64).sqrt());
}

#[test]
fn bad_card_values_name_the_key() {
    let base = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("device-models/pcm_gst_mushroom.toml"),
    )
    .unwrap();
    let cases = [
        ("r_set_ohm = 40.0e3", "r_set_ohm = -1.0", "r_set_ohm"),
        ("r_reset_ohm = 4.0e6", "r_reset_ohm = 1.0e3", "r_reset_ohm"),
        ("avrami_n = 1.0", "avrami_n = 7.0", "avrami_n"),
        ("t_melt_k = 900.0", "t_melt_k = nan", "t_melt_k"),
        ("nu_sigma = 0.045", "nu_sigma = -0.1", "nu_sigma"),
        ("r_on_ohm = 5.0e3", "r_onn_ohm = 5.0e3", "r_onn_ohm"),
        ("family = \"pcm\"", "family = \"mtj\"", "family"),
        ("v_on_v = 0.8", "v_on_v = \"high\"", "v_on_v"),
    ];
    for (from, to, key) in cases {
        assert!(base.contains(from), "{from}");
        let text = base.replace(from, to);
        let err = PcmParams::from_toml_str(&text).expect_err(to).to_string();
        assert!(
            err.contains(key),
            "error for `{to}` does not name `{key}`: {err}"
        );
    }
}

#[test]
fn reset_amplitude_sweep_melts_a_growing_plug_and_is_history_free() {
    // Above the melt threshold the quenched plug grows with pulse power, and a long enough pulse
    // forgets the starting state (the melted fraction is a fixed point of the melt law).
    let m = no_variability(&card());
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut last = -1.0;
    for k in 0..=10 {
        let v = 1.6 + 0.04 * k as f64;
        let mut from_set = m.state_with(0.0, 0.0);
        let mut from_reset = m.state_with(1.0, 0.0);
        m.advance(&mut from_set, v, 200e-9, T_AMB, &mut rng);
        m.advance(&mut from_reset, v, 200e-9, T_AMB, &mut rng);
        let x = from_set.amorphous_fraction;
        assert!(x >= last, "v {v}: x {x} < {last}");
        assert!(
            (x - from_reset.amorphous_fraction).abs() < 0.03,
            "v {v}: {x} vs {}",
            from_reset.amorphous_fraction
        );
        last = x;
    }
    assert!(last > 0.99);
}
