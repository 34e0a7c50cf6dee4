//! MTJ switching-rate law across its three regimes, against the closed forms of device-physics.md
//! §3 ([MTJ-Q]; Néel-Brown below Ic, Sun above) and its [derived] targets: τ_NB = 0.14 µs at
//! 0.8·Ic, ⟨τ⟩_Sun = 2.5 ns at 2·Ic, Δ = 24.8. The join between must be monotone and C¹, and the
//! same hazard must give read disturb and zero-bias retention (τ0·e^Δ).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use xbarsim::device::mram::{MtjModel, MtjOrientation, MtjParams};
use xbarsim::device::CompactModel;

const T: f64 = 300.0;
const QE: f64 = 1.602176634e-19;
const MUB: f64 = 9.2740100783e-24;

fn card() -> MtjModel {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device-models/mtj_pma_cheng2014.toml");
    MtjModel::new(MtjParams::from_toml_file(&path).expect("card parses")).expect("card valid")
}

const AP: MtjOrientation = MtjOrientation::AntiParallel;

/// Sun mean time written out again: 1/τ = [2/(C + ln(π²Δ/4))]·[μ_B·P/(e·m·(1+P²))]·(I − Ic).
fn sun_tau(m: &MtjModel, i: f64) -> f64 {
    let delta = m.thermal_stability(T);
    let mtot = 3.25e5 * std::f64::consts::PI * (40e-9f64).powi(2) / 4.0 * 1e-9;
    let k = 2.0 / (0.577 + (std::f64::consts::PI.powi(2) * delta / 4.0).ln())
        * (MUB * 0.56 / (QE * mtot * (1.0 + 0.56 * 0.56)));
    1.0 / (k * (i - m.critical_current(AP)))
}

#[test]
fn thermal_regime_at_0_8_ic_is_neel_brown_0_14_us() {
    let m = card();
    let ic = m.critical_current(AP);
    let tau = 1.0 / m.switching_rate(0.8 * ic, AP, T);
    let nb = 1e-9 * (m.thermal_stability(T) * 0.2).exp();
    assert!((tau / nb - 1.0).abs() < 1e-12, "τ {tau} vs NB {nb}");
    // device-physics.md §3 [derived]: τ_NB = 0.14 µs at 0.8·Ic.
    println!("mean switching time at 0.8·Ic (AP): {tau:e} s (Néel-Brown {nb:e} s)");
    assert!((tau / 0.14e-6 - 1.0).abs() < 0.05, "τ(0.8 Ic) = {tau}");
}

#[test]
fn precessional_regime_at_2_ic_is_sun_2_5_ns() {
    let m = card();
    let ic = m.critical_current(AP);
    let tau = 1.0 / m.switching_rate(2.0 * ic, AP, T);
    assert!((tau / sun_tau(&m, 2.0 * ic) - 1.0).abs() < 1e-9);
    // device-physics.md §3 and §10 [derived]: ⟨τ⟩_Sun = 2.5 ns at 2·Ic (2.54 ns unrounded).
    println!(
        "mean switching time at 2·Ic (AP): {tau:e} s (Sun {:e} s)",
        sun_tau(&m, 2.0 * ic)
    );
    assert!((tau / 2.54e-9 - 1.0).abs() < 0.05, "τ(2 Ic) = {tau}");
}

#[test]
fn overdrive_dependence_follows_sun_above_the_join() {
    // Write-error-rate studies rest on τ ∝ 1/(I − Ic): at 2, 3, 4·Ic the times go as 1 : 1/2 : 1/3.
    let m = card();
    let ic = m.critical_current(AP);
    let t2 = 1.0 / m.switching_rate(2.0 * ic, AP, T);
    for k in [3.0, 4.0] {
        let t = 1.0 / m.switching_rate(k * ic, AP, T);
        assert!(
            (t2 / t - (k - 1.0)).abs() < 1e-9,
            "τ(2Ic)/τ({k}Ic) = {}",
            t2 / t
        );
    }
}

#[test]
fn rate_is_monotone_and_continuously_differentiable_through_the_join() {
    let m = card();
    let ic = m.critical_current(AP);
    let lnr = |x: f64| m.switching_rate(x * ic, AP, T).ln();
    let mut prev = f64::NEG_INFINITY;
    for k in 0..=3000 {
        let x = -0.5 + k as f64 * 1e-3;
        let y = lnr(x);
        assert!(y > prev, "ln rate not increasing at x = {x}");
        prev = y;
    }
    // One-sided slopes of ln(rate) agree at both ends of the join (C¹), and equal the laws'
    // own slopes: Δ on the Néel-Brown side, 1/(x − 1) on the Sun side.
    let h = 1e-6;
    for (x, slope) in [(0.8, m.thermal_stability(T)), (1.5, 1.0 / 0.5)] {
        let left = (lnr(x) - lnr(x - h)) / h;
        let right = (lnr(x + h) - lnr(x)) / h;
        assert!(
            (left / slope - 1.0).abs() < 1e-3,
            "x {x}: left {left} vs {slope}"
        );
        assert!(
            (right / slope - 1.0).abs() < 1e-3,
            "x {x}: right {right} vs {slope}"
        );
    }
}

#[test]
fn zero_bias_retention_is_tau0_exp_delta_about_a_minute() {
    let m = card();
    let tau = 1e-9 * m.thermal_stability(T).exp();
    assert!((m.retention_time_s(T) / tau - 1.0).abs() < 1e-12);
    println!(
        "zero-bias retention at {T} K: τ0·e^Δ = {} s",
        m.retention_time_s(T)
    );
    assert!(
        tau > 40.0 && tau < 90.0,
        "Δ = 24.8 means about a minute: {tau} s"
    );
    // Monte Carlo: fraction of P cells flipped after τ at 0 V is 1 − 1/e (first flip; the chance
    // of flipping back within τ is second order and included in the exact two-state answer).
    // Two-state chain with equal rates r: P(flipped at t) = (1 − e^{−2rt})/2.
    let n = 20_000;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut flipped = 0;
    for _ in 0..n {
        let mut st = m.state_with(MtjOrientation::Parallel);
        for _ in 0..10 {
            m.advance(&mut st, 0.0, tau / 10.0, T, &mut rng);
        }
        flipped += usize::from(st.orientation != MtjOrientation::Parallel);
    }
    let f = flipped as f64 / n as f64;
    let p = (1.0 - (-2.0f64).exp()) / 2.0;
    let se = (p * (1.0 - p) / n as f64).sqrt();
    assert!((f - p).abs() < 3.0 * se, "MC {f} vs two-state {p}");
    // A 125 °C bake shortens it by exp(Δ(300 K) − Δ(398 K)).
    let hot = m.retention_time_s(398.15);
    assert!(
        (hot / tau - (m.thermal_stability(398.15) - m.thermal_stability(T)).exp()).abs() < 1e-9
    );
}

#[test]
fn read_at_0_1_v_disturbs_an_antiparallel_cell_as_neel_brown_predicts() {
    let m = card();
    let st = m.state_with(AP);
    let (i, _) = m.current(&st, 0.1, T);
    let x = i / m.critical_current(AP);
    assert!(x > 0.75 && x < 0.85, "0.1 V drives {x}·Ic through AP");
    // 0.1 V sits just inside the join (x ≈ 0.802): the rate lies between Néel-Brown at 0.8·Ic
    // and Néel-Brown's tangent extrapolated to x (the join is concave in ln rate).
    let nb = |x: f64| 1e-9 * (m.thermal_stability(T) * (1.0 - x)).exp();
    for t_read in [10e-9, 100e-9, 1e-6] {
        let p = m.read_disturb_probability(0.1, t_read, AP, T);
        let lo = 1.0 - (-t_read / nb(0.8)).exp();
        let hi = 1.0 - (-t_read / nb(x)).exp();
        assert!(p >= lo && p <= hi, "{t_read}: {p} not in [{lo}, {hi}]");
    }
    println!(
        "read disturb at 0.1 V, AP: x = {x}, mean time to flip {} s, P(flip in 100 ns) = {}",
        1.0 / m.switching_rate(i, AP, T),
        m.read_disturb_probability(0.1, 100e-9, AP, T)
    );
    // At 0.08 V (x < 0.8) it is Néel-Brown exactly.
    let (i8, _) = m.current(&st, 0.08, T);
    let x8 = i8 / m.critical_current(AP);
    let p = m.read_disturb_probability(0.08, 1e-6, AP, T);
    let want = 1.0 - (-1e-6 / nb(x8)).exp();
    assert!((p - want).abs() < 1e-12, "{p} vs {want}");
    // A parallel cell read at +0.1 V is pushed towards its own state: no disturb beyond retention.
    let p_p = m.read_disturb_probability(0.1, 1e-6, MtjOrientation::Parallel, T);
    assert!(p_p < 1e-6 / m.retention_time_s(T) * 1.0001);
}

#[test]
fn long_zero_bias_rest_reaches_the_even_two_state_split() {
    let m = card();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let n = 400_000;
    let mut ap = 0;
    for _ in 0..n {
        let mut st = m.initial_state();
        m.advance(&mut st, 0.0, 1e5, T, &mut rng);
        ap += usize::from(st.orientation == AP);
    }
    let f = ap as f64 / n as f64;
    let se = (0.25 / n as f64).sqrt();
    assert!((f - 0.5).abs() < 3.0 * se, "AP fraction {f}");
}
