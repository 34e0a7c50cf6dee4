//! Statistical PCM card against IBM aihwkit's published PCMLikeNoiseModel
//! (src/aihwkit/inference/noise/pcm.py: prog_coeff = [0.26348, 1.9650, -1.1731] at
//! g_max = 25 µS; mu_drift = clamp(-0.0155·ln x + 0.0244, 0.049, 0.1);
//! sig_drift = clamp(-0.0125·ln x - 0.0059, 0.008, 0.045); t_0 = 20 s; t_read = 250 ns;
//! q_s = min(0.0088/max(x^0.65, 1e-3), 0.2)). Expected numbers are evaluated by hand below.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use xbarsim::device::pcm_stat::{PcmStatModel, PcmStatParams};
use xbarsim::device::CompactModel;

fn card() -> PcmStatModel {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device-models/pcm_stat_aihwkit.toml");
    PcmStatModel::new(PcmStatParams::from_toml_file(&path).expect("card parses")).expect("valid")
}

#[test]
fn programming_noise_polynomial_matches_aihwkit_at_three_conductances() {
    let m = card();
    // σ_prog = 0.26348 + 1.9650·x − 1.1731·x² (µS), x = g/25 µS:
    //   g = 25   -> x = 1   : 0.26348 + 1.9650 − 1.1731            = 1.05538
    //   g = 12.5 -> x = 0.5 : 0.26348 + 0.98250 − 0.293275         = 0.952705
    //   g = 2.5  -> x = 0.1 : 0.26348 + 0.19650 − 0.011731         = 0.448249
    for (g, expect) in [(25.0, 1.05538), (12.5, 0.952705), (2.5, 0.448249)] {
        let s = m.prog_noise_sigma_us(g);
        assert!((s - expect).abs() < 1e-9, "g {g}: {s} vs {expect}");
    }
    // device-physics.md §10 target: σ_prog(g_max) = 1.055 µS.
    assert!((m.prog_noise_sigma_us(25.0) - 1.055).abs() < 5e-4);
}

#[test]
fn drift_exponent_mean_and_std_match_aihwkit_at_three_conductances() {
    let m = card();
    // μ_ν = clamp(−0.0155·ln x + 0.0244, 0.049, 0.1):
    //   x = 1    : 0.0244 -> clamped to 0.049
    //   x = 0.1  : 0.0155·2.302585 + 0.0244 = 0.0356901 + 0.0244 = 0.0600901
    //   x = 0.01 : 0.0155·4.605170 + 0.0244 = 0.0713801 + 0.0244 = 0.0957801
    for (g, expect) in [(25.0, 0.049), (2.5, 0.0600901), (0.25, 0.0957801)] {
        let mu = m.nu_mean(g);
        assert!((mu - expect).abs() < 1e-6, "g {g}: {mu} vs {expect}");
    }
    // σ_ν = clamp(−0.0125·ln x − 0.0059, 0.008, 0.045):
    //   x = 1    : −0.0059 -> 0.008;  x = 0.1: 0.0287823 − 0.0059 = 0.0228823;
    //   x = 0.01 : 0.0575646 − 0.0059 = 0.0516646 -> 0.045
    for (g, expect) in [(25.0, 0.008), (2.5, 0.0228823), (0.25, 0.045)] {
        let s = m.nu_std(g);
        assert!((s - expect).abs() < 1e-6, "g {g}: {s} vs {expect}");
    }
}

#[test]
fn programming_statistics_match_the_published_distribution() {
    // g_T = 12.5 µS: g_prog ~ N(12.5, 0.952705²) µS (clamp at 0 is 13σ away), and
    // ν ~ |N(μ, σ)| with x = 0.5: μ = 0.0155·0.693147 + 0.0244 = 0.0351438 -> 0.049,
    // σ = 0.0125·0.693147 − 0.0059 = 0.0027643 -> 0.008; μ/σ = 6 so E|ν| = μ to 1e-9.
    let m = card();
    let n = 20_000;
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut st = m.initial_state();
    let (mut gs, mut nus) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        m.program(&mut st, 12.5e-6, &mut rng);
        gs.push(st.g_prog_s * 1e6);
        nus.push(st.nu);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let sd = |v: &[f64]| {
        let m = mean(v);
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
    };
    let se_mean = 0.952705 / (n as f64).sqrt();
    assert!((mean(&gs) - 12.5).abs() < 3.0 * se_mean);
    // SE of a normal sample std ≈ σ/sqrt(2(n−1)).
    assert!((sd(&gs) - 0.952705).abs() < 3.0 * 0.952705 / (2.0 * (n - 1) as f64).sqrt());
    assert!((mean(&nus) - 0.049).abs() < 3.0 * 0.008 / (n as f64).sqrt());
}

#[test]
fn drift_follows_the_power_law_and_advance_ages_the_cell() {
    let m = card();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut st = m.initial_state();
    m.program(&mut st, 10e-6, &mut rng);
    let g0 = m.read_conductance(&st, 0.2, 300.0);
    assert!((g0 / st.g_prog_s - 1.0).abs() < 1e-12); // t_inference = 0 -> t = t0
                                                     // g(t) = g_prog·((t_inf + 20)/20)^(−ν): after 1 day.
    m.advance(&mut st, 0.0, 86_400.0, 300.0, &mut rng);
    let g1 = m.read_conductance(&st, 0.2, 300.0);
    let expect = st.g_prog_s * ((86_400.0f64 + 20.0) / 20.0).powf(-st.nu);
    assert!((g1 / expect - 1.0).abs() < 1e-12);
    // dI/dV = g (linear device).
    let (_, d) = m.current(&st, 0.2, 300.0);
    assert!((d / g1 - 1.0).abs() < 1e-12);
}

#[test]
fn read_noise_has_the_published_1_over_f_spread() {
    // g_prog = 25 µS (set directly): Q_s = 0.0088 (x = 1); at t_inf = 0, t = 20 s:
    // σ = 0.0088·sqrt(ln((20 + 250e-9)/(500e-9))) = 0.0088·sqrt(17.50439) = 0.0368175.
    let m = card();
    let mut st = m.initial_state();
    st.g_prog_s = 25e-6;
    st.g_target_s = 25e-6;
    st.nu = 0.05;
    let sigma = 0.0088 * ((20.0f64 + 250e-9) / 500e-9).ln().sqrt();
    assert!((sigma - 0.0368175).abs() < 1e-6);
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let n = 20_000;
    let xs: Vec<f64> = (0..n)
        .map(|_| m.read_conductance_noisy(&st, &mut rng) / 25e-6 - 1.0)
        .collect();
    let mean = xs.iter().sum::<f64>() / n as f64;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    assert!((sd / sigma - 1.0).abs() < 3.0 / (2.0 * (n - 1) as f64).sqrt());
    assert!(mean.abs() < 3.0 * sigma / (n as f64).sqrt());
}

#[test]
fn bad_card_values_name_the_key() {
    let base = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("device-models/pcm_stat_aihwkit.toml"),
    )
    .unwrap();
    let cases = [
        ("g_max_us = 25.0", "g_max_us = 0.0", "g_max_us"),
        ("nu_mu_max = 0.1", "nu_mu_max = 0.01", "nu_mu_max"),
        ("t_read_s = 250.0e-9", "t_read_s = -1.0", "t_read_s"),
        ("drift_scale = 1.0", "drift_scale = -2.0", "drift_scale"),
        ("q_s_max = 0.2", "qs_max = 0.2", "qs_max"),
    ];
    for (from, to, key) in cases {
        assert!(base.contains(from), "{from}");
        let err = PcmStatParams::from_toml_str(&base.replace(from, to))
            .expect_err(to)
            .to_string();
        assert!(
            err.contains(key),
            "error for `{to}` does not name `{key}`: {err}"
        );
    }
}
