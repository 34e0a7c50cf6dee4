//! STT-MTJ model against the closed forms of [MTJ-Q] (PMAMTJ.inc; device-physics.md §3),
//! written out again here with CODATA constants, and against the [derived] regression targets
//! printed in device-physics.md §3 and §10.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use xbarsim::device::mram::{
    brinkman_ra_ohm_m2, switching_probability_table, MtjModel, MtjOrientation, MtjParams,
};
use xbarsim::device::CompactModel;

const T: f64 = 300.0;
const KB: f64 = 1.380649e-23;
const QE: f64 = 1.602176634e-19;
const MU0: f64 = 1.25663706212e-6;
const MUB: f64 = 9.2740100783e-24;
const ME: f64 = 9.1093837015e-31;

fn card() -> MtjModel {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device-models/mtj_pma_cheng2014.toml");
    MtjModel::new(MtjParams::from_toml_file(&path).expect("card parses")).expect("card valid")
}

/// Hand-written reference quantities for the card values (d = 40 nm, t_fl = 1 nm, Ms = 3.25e5,
/// Hk = 4e5, α = 0.01, P = 0.56).
struct Ref {
    r_p: f64,
    delta: f64,
    ic_ap_p: f64,
    ic_p_ap: f64,
}

fn reference() -> Ref {
    let area = std::f64::consts::PI * (40e-9f64).powi(2) / 4.0;
    let vol = area * 1e-9;
    let eb = MU0 * 3.25e5 * 4e5 * vol / 2.0;
    let p = 0.56f64;
    let ic = |g: f64| 2.0 * 0.01 * (QE / ME) * QE * eb / (MUB * g);
    Ref {
        r_p: 4.7597e-12 / area,
        delta: eb / (KB * T),
        ic_ap_p: ic(p / (2.0 * (1.0 - p * p))),
        ic_p_ap: ic(p / (2.0 * (1.0 + p * p))),
    }
}

fn r_ap_ref(v: f64) -> f64 {
    reference().r_p * (1.0 + 1.2 / (1.0 + v * v / 0.25))
}

#[test]
fn derived_quantities_match_published_regression_targets() {
    let m = card();
    let r = reference();
    // device-physics.md §3 [derived]: Δ = 24.8, Ic = 15.3 / 29.2 µA, R_P = 3.79 kΩ, R_AP = 8.34 kΩ.
    // The targets carry three digits, so compare to 3e-3 relative.
    let close = |x: f64, target: f64| (x / target - 1.0).abs() < 3e-3;
    assert!(close(m.thermal_stability(T), 24.8));
    assert!(close(
        m.critical_current(MtjOrientation::AntiParallel),
        15.3e-6
    ));
    assert!(close(m.critical_current(MtjOrientation::Parallel), 29.2e-6));
    assert!((m.r_p() / 3.79e3 - 1.0).abs() < 2e-3);
    assert!((m.r_ap(0.0) / 8.34e3 - 1.0).abs() < 2e-3);
    // And the hand formulas to rounding.
    assert!((m.thermal_stability(T) / r.delta - 1.0).abs() < 1e-12);
    assert!((m.critical_current(MtjOrientation::AntiParallel) / r.ic_ap_p - 1.0).abs() < 1e-12);
    assert!((m.critical_current(MtjOrientation::Parallel) / r.ic_p_ap - 1.0).abs() < 1e-12);
    // The card's RA is the source's Brinkman expression evaluated as coded.
    assert!((brinkman_ra_ohm_m2(1e-9, 0.4, 332.2) / 4.7597e-12 - 1.0).abs() < 1e-4);
    // ⟨τ⟩_Sun = 2.5 ns at 2·Ic and τ_NB = 0.14 µs at 0.8·Ic (§3 [derived]).
    let ic = r.ic_ap_p;
    let tau_sun = m.sun_mean_switching_time_s(2.0 * ic, MtjOrientation::AntiParallel, T);
    assert!((tau_sun * 1e9 - 2.5).abs() < 0.05, "{tau_sun}");
    let tau_nb = m.neel_brown_time_s(0.8 * ic, MtjOrientation::AntiParallel, T);
    assert!((tau_nb * 1e6 - 0.14).abs() < 0.005, "{tau_nb}");
}

#[test]
fn resistances_and_tmr_follow_the_closed_forms() {
    let m = card();
    let r = reference();
    for k in -20..=20 {
        let v = k as f64 * 0.05;
        let tmr = 1.2 / (1.0 + v * v / 0.25);
        assert!((m.tmr(v) / tmr - 1.0).abs() < 1e-12);
        let (ip, _) = m.current(&m.state_with(MtjOrientation::Parallel), v, T);
        let (iap, _) = m.current(&m.state_with(MtjOrientation::AntiParallel), v, T);
        assert!((ip - v / r.r_p).abs() <= 1e-9 * (v / r.r_p).abs());
        assert!((iap - v / r_ap_ref(v)).abs() <= 1e-9 * (v / r_ap_ref(v)).abs());
    }
    // TMR halves at V_h.
    assert!((m.tmr(0.5) - 0.6).abs() < 1e-12);
}

#[test]
fn current_derivative_matches_central_difference() {
    let m = card();
    let h = 1e-6;
    for o in [MtjOrientation::Parallel, MtjOrientation::AntiParallel] {
        let st = m.state_with(o);
        for k in -60..=60 {
            let v = k as f64 * 0.025 + 0.0007;
            let (_, d) = m.current(&st, v, T);
            let fd = (m.current(&st, v + h, T).0 - m.current(&st, v - h, T).0) / (2.0 * h);
            assert!((d - fd).abs() <= 1e-6 * d.abs(), "{o:?} v {v}: {d} vs {fd}");
        }
    }
}

/// Voltage at which the AP-state current equals `i` (bisection on the closed-form R_AP).
fn v_for_ap_current(i: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 2.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid / r_ap_ref(mid) < i {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Fraction of `n` seeded fresh cells that switch from `from` under `v` for `tp`.
fn mc_fraction(m: &MtjModel, v: f64, tp: f64, from: MtjOrientation, n: usize, seed: u64) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut k = 0;
    for _ in 0..n {
        let mut st = m.state_with(from);
        // Slice the pulse in 7 unequal parts: P_sw must not depend on the slicing.
        let parts = [0.05, 0.1, 0.2, 0.05, 0.3, 0.1, 0.2];
        for f in parts {
            m.advance(&mut st, v, f * tp, T, &mut rng);
        }
        if st.orientation != from {
            k += 1;
        }
    }
    k as f64 / n as f64
}

#[test]
fn thermal_switching_probability_matches_neel_brown_within_three_standard_errors() {
    let m = card();
    let r = reference();
    let n = 10_000;
    // AP -> P at 0.8·Ic: τ = τ0·exp(Δ(1 − I/Ic)), P = 1 − exp(−t_p/τ) (Néel-Brown).
    let i = 0.8 * r.ic_ap_p;
    let v = v_for_ap_current(i);
    let tau = 1e-9 * (r.delta * (1.0 - i / r.ic_ap_p)).exp();
    for (j, tp) in [30e-9, 140e-9, 400e-9].into_iter().enumerate() {
        let p = 1.0 - (-tp / tau).exp();
        let se = (p * (1.0 - p) / n as f64).sqrt();
        let f = mc_fraction(&m, v, tp, MtjOrientation::AntiParallel, n, 100 + j as u64);
        assert!(
            (f - p).abs() < 3.0 * se,
            "tp {tp}: MC {f} vs NB {p} (se {se})"
        );
        let closed = m.switching_probability(i, tp, MtjOrientation::AntiParallel, T);
        assert!((closed - p).abs() < 1e-6, "closed form {closed} vs {p}");
    }
    // P -> AP with negative current at 0.7·Ic(P->AP); R_P is bias independent.
    let i = 0.7 * r.ic_p_ap;
    let v = -i * r.r_p;
    let tau = 1e-9 * (r.delta * (1.0 - i / r.ic_p_ap)).exp();
    let tp = tau; // P = 1 − 1/e
    let p = 1.0 - (-1.0f64).exp();
    let se = (p * (1.0 - p) / n as f64).sqrt();
    let f = mc_fraction(&m, v, tp, MtjOrientation::Parallel, n, 7);
    assert!((f - p).abs() < 3.0 * se, "P->AP: MC {f} vs NB {p}");
}

#[test]
fn precessional_switching_probability_matches_sun_model() {
    let m = card();
    let r = reference();
    let n = 10_000;
    let i = 6.0 * r.ic_ap_p;
    let v = v_for_ap_current(i);
    // Sun: 1/τ = [2/(C + ln(π²Δ/4))]·[μ_B·P/(e·m·(1+P²))]·(I − Ic).
    let mtot = 3.25e5 * std::f64::consts::PI * (40e-9f64).powi(2) / 4.0 * 1e-9;
    let rate = 2.0 / (0.577 + (std::f64::consts::PI.powi(2) * r.delta / 4.0).ln())
        * (MUB * 0.56 / (QE * mtot * (1.0 + 0.56 * 0.56)))
        * (i - r.ic_ap_p);
    assert!(rate > 1e9, "regime where Sun exceeds 1/τ0");
    let tp = 0.7 / rate;
    let p = 1.0 - (-0.7f64).exp();
    let se = (p * (1.0 - p) / n as f64).sqrt();
    let f = mc_fraction(&m, v, tp, MtjOrientation::AntiParallel, n, 21);
    assert!((f - p).abs() < 3.0 * se, "MC {f} vs Sun {p}");
}

#[test]
fn wrong_polarity_or_tiny_current_does_not_switch_within_a_millisecond() {
    // Zero-bias thermal flips take τ0·e^Δ ≈ 59 s on average (device_mtj_rates.rs), so 1 ms
    // switches with probability ~2e-5 at most.
    let m = card();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (o, v) in [
        (MtjOrientation::AntiParallel, -0.5),
        (MtjOrientation::Parallel, 0.5),
        (MtjOrientation::Parallel, -1e-3),
    ] {
        let mut st = m.state_with(o);
        m.advance(&mut st, v, 1e-3, T, &mut rng);
        assert_eq!(st.orientation, o);
    }
}

#[test]
fn probability_table_is_monotone_in_current_and_width() {
    let m = card();
    let ic = reference().ic_ap_p;
    let currents: Vec<f64> = (1..=60).map(|k| k as f64 * 0.1 * ic).collect();
    let widths = [1e-9, 10e-9, 100e-9];
    let t = switching_probability_table(&m, &currents, &widths, MtjOrientation::AntiParallel, T);
    assert_eq!(t.len(), 3);
    for (_, row) in &t {
        assert_eq!(row.len(), currents.len());
        for w in row.windows(2) {
            assert!(w[1] >= w[0]);
        }
    }
    for j in 0..currents.len() {
        assert!(t[1].1[j] >= t[0].1[j] && t[2].1[j] >= t[1].1[j]);
    }
}

#[test]
fn bad_card_values_name_the_key() {
    let base = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("device-models/mtj_pma_cheng2014.toml"),
    )
    .unwrap();
    let cases = [
        ("polarization = 0.56", "polarization = 1.5", "polarization"),
        ("diameter_m = 40.0e-9", "diameter_m = 0.0", "diameter_m"),
        ("initial_ap = 0.0", "initial_ap = 0.5", "initial_ap"),
        (
            "tmr_sigma_rel = 0.03",
            "tmr_sigma_rel = -1.0",
            "tmr_sigma_rel",
        ),
        ("tmr0 = 1.2", "tmr_0 = 1.2", "tmr_0"),
        ("family = \"mtj\"", "family = \"pcm\"", "family"),
    ];
    for (from, to, key) in cases {
        assert!(base.contains(from), "{from}");
        let err = MtjParams::from_toml_str(&base.replace(from, to))
            .expect_err(to)
            .to_string();
        assert!(
            err.contains(key),
            "error for `{to}` does not name `{key}`: {err}"
        );
    }
    // Sampled devices stay valid and differ.
    let m = card();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let a = m.sample_device(&mut rng);
    let b = m.sample_device(&mut rng);
    assert!(a.r_p() != b.r_p());
}
