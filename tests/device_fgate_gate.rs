//! Floating-gate cell with a driven control gate (three terminals): program by a positive gate
//! pulse, erase by a negative one, both through Fowler-Nordheim tunnelling (Lenzlinger & Snow,
//! JAP 40, 278 (1969)) and the charge balance V_FG = (Q + C_cg·V_cg + C_d·V_d)/C_T
//! (device-physics.md §5). References are written out again here: the FN law integrated by
//! RK4 (an independent integrator) and ΔV_th = −ΔQ/C_cg measured from Id–Vcg curves.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use xbarsim::device::{fgate, load_card, CompactModel, Model};

const T: f64 = 300.0;
const Q: f64 = 1.602176634e-19;
const M0: f64 = 9.1093837015e-31;
const H: f64 = 6.62607015e-34;
// Card: C_cg 1 fF, C_d 0.1 fF, C_s 0.3 fF, t_tun 8 nm, a_tun 9e-16 m², φ_B 3.2 eV, m_ox 0.42.
const C_CG: f64 = 1e-15;
const C_T: f64 = 1.4e-15;

fn fg() -> fgate::Params {
    let m =
        load_card(&Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models/fgate-flash.toml"))
            .unwrap();
    match m {
        Model::FloatingGate(c) => {
            let mut p = c.nominal;
            p.fano = 0.0;
            p
        }
        _ => unreachable!(),
    }
}

fn fn_density(e: f64) -> f64 {
    let m = 0.42 * M0;
    let a = Q * Q * Q * M0 / (8.0 * std::f64::consts::PI * H * 3.2 * Q * m);
    let b = 8.0 * std::f64::consts::PI * (2.0 * m).sqrt() * (Q * 3.2_f64).powf(1.5) / (3.0 * Q * H);
    a * e * e * (-b / e).exp()
}

/// ΔQ of a gate pulse `v_cg` at drain `v_d` by RK4 on dQ/dt = −a_tun·J(E(Q)).
fn delta_q_rk4(v_d: f64, v_cg: f64, width: f64) -> f64 {
    let f = |q: f64| {
        let e = ((q + C_CG * v_cg + 0.1e-15 * v_d) / C_T - v_d) / 8e-9;
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

/// V_cg at which Id(V_d = 50 mV) crosses 100 nA, from the gated Id–Vcg law (a constant-current
/// threshold, as a parameter analyser measures it).
fn vth_from_id_vcg(p: &fgate::Params, s: &fgate::State) -> f64 {
    let (mut lo, mut hi) = (-30.0, 30.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if p.current_gated(s, 0.05, mid, T).0 > 100e-9 {
            hi = mid
        } else {
            lo = mid
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn gate_program_and_erase_shift_vth_by_equal_and_opposite_fn_charge() {
    let p = fg();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (v_pgm, width) = (18.0, 100e-6);
    let s0 = p.initial_state();
    let vth0 = vth_from_id_vcg(&p, &s0);
    // Program: gate +18 V, drain and source at 0 V: electrons tunnel into the FG, Vth rises.
    let mut sp = s0;
    p.advance_gated(&mut sp, 0.0, v_pgm, width, T, &mut rng);
    let dq_p = delta_q_rk4(0.0, v_pgm, width);
    assert!(
        (sp.q / dq_p - 1.0).abs() < 1e-6,
        "ΔQ {} vs RK4 {dq_p}",
        sp.q
    );
    let dvth_p = vth_from_id_vcg(&p, &sp) - vth0;
    assert!(
        (dvth_p / (-dq_p / C_CG) - 1.0).abs() < 1e-4,
        "ΔVth {dvth_p}"
    );
    // Erase: gate −18 V: electrons leave, Vth falls by the same amount (the FN law is odd in E
    // and the fresh cell has Q = 0).
    let mut se = s0;
    p.advance_gated(&mut se, 0.0, -v_pgm, width, T, &mut rng);
    let dvth_e = vth_from_id_vcg(&p, &se) - vth0;
    assert!(
        (dvth_e + dvth_p).abs() < 1e-6 * dvth_p,
        "erase {dvth_e} vs program {dvth_p}"
    );
    // Volts, not millivolts, in both directions (before the gate was a terminal, a drain-side
    // erase at +10 V moved Vth by −1.5 mV while program at −10 V moved it by +2.3 V).
    println!("gate ±{v_pgm} V, {width} s: program ΔVth {dvth_p} V, erase ΔVth {dvth_e} V");
    assert!(
        dvth_p > 1.0 && dvth_e < -1.0,
        "program {dvth_p} V, erase {dvth_e} V"
    );
}

#[test]
fn erase_after_program_restores_the_fresh_id_vcg_curve() {
    let p = fg();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut s = p.initial_state();
    let vth0 = vth_from_id_vcg(&p, &s);
    p.advance_gated(&mut s, 0.0, 18.0, 100e-6, T, &mut rng);
    let vth_p = vth_from_id_vcg(&p, &s);
    // Erase until the threshold is back (FN is fast at first: a few pulses).
    let mut k = 0;
    while vth_from_id_vcg(&p, &s) > vth0 && k < 1000 {
        p.advance_gated(&mut s, 0.0, -18.0, 1e-6, T, &mut rng);
        k += 1;
    }
    assert!(k > 1 && k < 1000, "{k} erase pulses");
    let vth_e = vth_from_id_vcg(&p, &s);
    assert!(
        vth_p - vth0 > 1.0 && (vth_e - vth0).abs() < 0.5,
        "{vth0} {vth_p} {vth_e}"
    );
    // Subthreshold slope of the Id–Vcg curve: n·U_T·ln10/α_cg per decade (EKV, weak inversion).
    let ut = 1.380649e-23 * T / Q;
    let want = p.n * ut * std::f64::consts::LN_10 / (C_CG / C_T);
    let v1 = vth_e - 1.5;
    let i1 = p.current_gated(&s, 0.05, v1, T).0;
    let i2 = p.current_gated(&s, 0.05, v1 + 0.01, T).0;
    let ss = 0.01 / (i2 / i1).log10();
    assert!((ss / want - 1.0).abs() < 0.02, "SS {ss} V/dec vs {want}");
}

#[test]
fn two_terminal_calls_hold_the_gate_at_the_card_bias() {
    let p = fg();
    let s = p.initial_state();

    for v in [-1.0, 0.05, 2.0] {
        assert_eq!(p.current(&s, v, T), p.current_gated(&s, v, p.v_cg, T));
    }
}
