//! CBRAM (Yu & Wong 2011) and floating-gate cell against closed forms.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use xbarsim::device::{cbram, fgate, load_card, CompactModel, Model};

const T: f64 = 300.0;
const Q: f64 = 1.602176634e-19;
const K: f64 = 1.380649e-23;
const M0: f64 = 9.1093837015e-31;
const H: f64 = 6.62607015e-34;

fn path(n: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device-models")
        .join(n)
}
fn cb() -> cbram::Params {
    match load_card(&path("cbram-yu-wong.toml")).unwrap() {
        Model::Cbram(c) => c.nominal,
        _ => unreachable!(),
    }
}
fn fg() -> fgate::Params {
    match load_card(&path("fgate-flash.toml")).unwrap() {
        Model::FloatingGate(c) => c.nominal,
        _ => unreachable!(),
    }
}

#[test]
fn cbram_set_then_reset_gives_the_card_on_off_ratio() {
    let mut p = cb();
    p.sigma_touch = 0.0;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut s = p.initial_state();
    // HRS: no filament, R = rho_off·L/A (eq. 5 at h = 0).
    let r_off = 133.0 * 50e-9 / 1.33e-15;
    let r0 = 1.0 / p.read_conductance(&s, 0.1, T);
    assert!((r0 / r_off - 1.0).abs() < 1e-12, "{r0} vs {r_off}");
    // SET: positive bias grows h to L; the compliance then fixes the LRS at
    // R_set = c_set/i_comp = 0.08 V / 1 mA = 80 ohm (eq. 9), however long the bias stays on.
    p.advance(&mut s, 2.0, 1e-3, T, &mut rng);
    let r1 = 1.0 / p.read_conductance(&s, 0.1, T);
    assert!((r1 / 80.0 - 1.0).abs() < 1e-9, "{r1} vs 80 ohm");
    // RESET: negative bias dissolves and retracts the filament back to the HRS.
    p.advance(&mut s, -2.0, 1e-2, T, &mut rng);
    let r2 = 1.0 / p.read_conductance(&s, 0.1, T);
    assert!((r2 / r_off - 1.0).abs() < 1e-6, "{r2} vs {r_off}");
}

#[test]
fn cbram_touch_radius_follows_the_compliance_relation() {
    // R_set = C/I_comp (eq. 9): right after the filament touches, R = 0.08 V / 1 mA = 80 ohm.
    let mut p = cb();
    p.sigma_touch = 0.0;
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut s = cbram::State {
        h: (1.0 - 1e-5) * p.l,
        r: p.r_set(),
    };
    // Small steps at low bias complete the vertical growth; lateral growth after the touch is
    // ~1e-12 m per step at 50 mV, negligible.
    for _ in 0..10000 {
        p.advance(&mut s, 0.05, 1e-5, T, &mut rng);
        if s.h >= p.l {
            break;
        }
    }
    assert_eq!(s.h, p.l);
    let r = 1.0 / p.read_conductance(&s, 0.01, T);
    assert!((r - 80.0).abs() / 80.0 < 0.01, "R after touch {r}");
}

#[test]
fn cbram_state_stays_in_bounds() {
    let p = cb();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut s = p.initial_state();
    for k in 0..200 {
        let v = ((k * 37 % 17) as f64 - 8.0) * 0.4;
        let w = 10f64.powi(-((k % 9) as i32) - 1);
        p.advance(&mut s, v, w, T, &mut rng);
        assert!(
            s.h >= 0.0 && s.h <= p.l && s.r >= p.r_floor() && s.r <= p.r_base(),
            "{s:?}"
        );
    }
}

#[test]
fn fn_constants_match_lenzlinger_snow() {
    // device-physics.md §5 [derived]: A = 1.15e-6 A/V², B = 2.53e10 V/m for φ_B = 3.2 eV,
    // m_ox = 0.42 m0.
    let (a, b) = fg().fn_constants();
    assert!((a / 1.15e-6 - 1.0).abs() < 0.01, "A = {a}");
    assert!((b / 2.53e10 - 1.0).abs() < 0.01, "B = {b}");
}

/// J = A·E²·exp(−B/E), A and B written out from the constants (Lenzlinger & Snow 1969).
fn fn_density(e: f64) -> f64 {
    let m = 0.42 * M0;
    let a = Q * Q * Q * M0 / (8.0 * std::f64::consts::PI * H * 3.2 * Q * m);
    let b = 8.0 * std::f64::consts::PI * (2.0 * m).sqrt() * (Q * 3.2_f64).powf(1.5) / (3.0 * Q * H);
    a * e * e * (-b / e).exp()
}

#[test]
fn fn_current_matches_closed_form() {
    let p = fg();
    let c_t = 1.4e-15;
    for &v in &[-12.0, -9.0, 9.0, 12.0] {
        for &q in &[-1e-15, 0.0, 1e-15] {
            let v_fg = (q + 1e-15 * 2.5 + 0.1e-15 * v) / c_t;
            let e: f64 = (v_fg - v) / 8e-9;
            let want = -e.signum() * 9e-16 * fn_density(e.abs());
            let got = p.tunnel_current(q, v);
            assert!(
                (got - want).abs() <= 1e-9 * want.abs(),
                "v={v} q={q}: {got} vs {want}"
            );
        }
    }
}

/// ΔQ of a constant-bias pulse by RK4 on dQ/dt = −a_tun·J(E(Q)) (an independent integrator).
fn delta_q_rk4(v: f64, width: f64) -> f64 {
    let c_t = 1.4e-15;
    let f = |q: f64| {
        let e = ((q + 2.5e-15 + 0.1e-15 * v) / c_t - v) / 8e-9;
        -e.signum() * 9e-16 * fn_density(e.abs())
    };
    let n = 200_000;
    let h = width / n as f64;
    let mut q = 0.0;
    for _ in 0..n {
        let k1 = f(q);
        let k2 = f(q + 0.5 * h * k1);
        let k3 = f(q + 0.5 * h * k2);
        let k4 = f(q + h * k3);
        q += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
    q
}

/// Control-gate threshold measured from the I-V: the V_cg at which I(V = 50 mV) = 100 nA.
fn vth_measured(p: &fgate::Params, s: &fgate::State) -> f64 {
    let mut p = p.clone();
    let (mut lo, mut hi) = (-20.0, 20.0);
    for _ in 0..100 {
        p.v_cg = 0.5 * (lo + hi);
        if p.current(s, 0.05, T).0 > 100e-9 {
            hi = p.v_cg
        } else {
            lo = p.v_cg
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn program_pulse_shifts_vth_by_the_charge_balance() {
    let mut p = fg();
    p.fano = 0.0;
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut s = p.initial_state();
    let vth_before = vth_measured(&p, &s);
    p.advance(&mut s, -12.0, 100e-6, T, &mut rng);
    let dq = delta_q_rk4(-12.0, 100e-6);
    assert!(dq < 0.0, "a negative drain pulse injects electrons");
    assert!(
        (s.q / dq - 1.0).abs() < 1e-6,
        "model ΔQ {} vs RK4 {dq}",
        s.q
    );
    // ΔV_th = −ΔQ/C_cg, measured from the I-V.
    let dvth = vth_measured(&p, &s) - vth_before;
    let want = -dq / 1e-15;
    assert!((dvth / want - 1.0).abs() < 1e-4, "ΔVth {dvth} vs {want}");
    assert!(
        want > 0.5,
        "a 100 µs pulse should move Vth by volts, got {want}"
    );
}

#[test]
fn fgate_switching_direction_and_on_off_ratio() {
    let mut p = fg();
    p.fano = 0.0;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut s = p.initial_state();
    let g0 = p.read_conductance(&s, 0.1, T);
    p.advance(&mut s, -12.0, 1e-3, T, &mut rng); // program: electrons in, G down
    let g_off = p.read_conductance(&s, 0.1, T);
    p.advance(&mut s, 12.0, 1e-3, T, &mut rng); // erase: electrons out, G up
    let g_on = p.read_conductance(&s, 0.1, T);
    assert!(g_off < g0 && g_on > g_off);
    assert!(g_on / g_off > 1e2, "ON/OFF {}", g_on / g_off);
}

#[test]
fn retention_decays_charge_with_the_arrhenius_time_constant() {
    let mut p = fg();
    p.fano = 0.0;
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let mut s = fgate::State { q: -1e-15 };
    let t_bake = 358.15; // 85 °C
    let tau = 1e-7 * (1.1 * Q / (K * t_bake)).exp();
    let year = 3.15576e7;
    p.advance(&mut s, 0.0, 10.0 * year, t_bake, &mut rng);
    let want = -1e-15 * (-10.0 * year / tau).exp();
    assert!((s.q / want - 1.0).abs() < 1e-3, "{} vs {want}", s.q);
}
