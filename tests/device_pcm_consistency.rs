//! The two PCM families agree on drift, and the physical one threshold-switches with snap-back
//! and holding hysteresis.
//! - Drift: aihwkit's law g(t) = g_prog·((t + t0)/t0)^(−ν) ([AIHW-PCM], device-physics.md §2.2)
//!   for `pcm_stat`, and the same time base on the amorphous part of `pcm`.
//! - Threshold switching (device-physics.md §2.1, [PCM-NC17]): above V_th the cell follows
//!   V = V_ON + R_ON·I, until I < I_hold. Through a series resistor R_s the load line
//!   V_s = V + R_s·I then shows the cell voltage falling at switching (snap-back); the ON branch
//!   at current I sits at V_ON + R_ON·I (closed form, up to the softplus knee and R_read).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use xbarsim::device::pcm::{PcmModel, PcmParams};
use xbarsim::device::pcm_stat::{PcmStatModel, PcmStatParams};
use xbarsim::device::CompactModel;

const T: f64 = 300.0;

fn pcm() -> PcmModel {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models/pcm_gst_mushroom.toml");
    let mut p = PcmParams::from_toml_file(&path).unwrap();
    // No variability: the D2D and C2C coefficients at their declared (zero) defaults.
    p.nu_sigma = 0.0;
    p.r_set_sigma_ln = 0.0;
    p.r_reset_sigma_ln = 0.0;
    p.v_th_sigma_rel = 0.0;
    p.set_rate_sigma_ln = 0.0;
    p.reset_fraction_sigma_rel = 0.0;
    PcmModel::new(p).unwrap()
}

#[test]
fn physical_and_statistical_pcm_drift_on_the_same_time_base() {
    let m = pcm();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models/pcm_stat_aihwkit.toml");
    let ms = PcmStatModel::new(PcmStatParams::from_toml_file(&path).unwrap()).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut ss = ms.initial_state();
    ms.program(&mut ss, 10e-6, &mut rng);
    let nu_s = ss.nu;
    let g_s0 = ms.drifted_conductance(&ss);
    let mut sp = m.state_with(1.0, 0.0);
    let r_p0 = m.read_resistance(&sp);
    let nu_p = m.params().nu;
    let (t0p, t0s) = (m.params().drift_t0_s, ms.params().t0_s);
    let mut now = 0.0;
    for t in [1.0, 5.0, 20.0, 100.0, 1e4] {
        ms.advance(&mut ss, 0.0, t - now, T, &mut rng);
        m.advance(&mut sp, 0.0, t - now, T, &mut rng);
        now = t;
        let gs = ms.drifted_conductance(&ss) / g_s0;
        let rp = m.read_resistance(&sp) / r_p0;
        println!(
            "t = {t} s: pcm R/R0 = {rp}, ((t+t0)/t0)^ν = {}; pcm_stat g/g0 = {gs}",
            ((t + t0p) / t0p).powf(nu_p)
        );
        assert!(
            (gs / ((t + t0s) / t0s).powf(-nu_s) - 1.0).abs() < 1e-9,
            "pcm_stat at {t}"
        );
        assert!(
            (rp / ((t + t0p) / t0p).powf(nu_p) - 1.0).abs() < 1e-9,
            "pcm at {t}"
        );
    }
    // Drift already acts before t0 (no flat stretch): R(5 s) > R(1 s).
}

/// Cell voltage on the load line V_s = V + R_s·I(V) (bisection; I is monotone at a frozen state).
fn cell_voltage(m: &PcmModel, st: &xbarsim::device::pcm::PcmState, vs: f64, rs: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64.min(vs), 0.0f64.max(vs));
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid + rs * m.current(st, mid, T).0 > vs {
            hi = mid
        } else {
            lo = mid
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn series_resistor_sweep_snaps_back_at_threshold() {
    let m = pcm();
    let p = m.params().clone();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut st = m.state_with(1.0, 0.0);
    let rs = 20e3;
    let mut vcell = Vec::new();
    let mut on = Vec::new();
    // A slow ramp of the source from 0 to 2.5 V in 2 mV steps, 1 ns per step (too short and too
    // cool to crystallise much below threshold), reading the cell voltage on the load line.
    for k in 0..=1250 {
        let vs = k as f64 * 2e-3;
        let v = cell_voltage(&m, &st, vs, rs);
        m.advance(&mut st, v, 1e-9, T, &mut rng);
        vcell.push(v);
        on.push(st.threshold_on);
    }
    let k_sw = on
        .iter()
        .position(|&b| b)
        .expect("the cell threshold-switches");
    let v_before = vcell[k_sw];
    let v_after = vcell[k_sw + 1];
    // Switching happens at V_th of the amorphous cell, and the cell voltage then drops.
    assert!(
        (v_before / p.v_th_reset_v - 1.0).abs() < 0.02,
        "V at switching {v_before}"
    );
    println!("series {rs} Ω: cell voltage {v_before} V -> {v_after} V at switching");
    assert!(
        v_after < v_before - 0.1,
        "snap-back: {v_before} V -> {v_after} V"
    );
    // On the ON branch V ≈ V_ON + R_ON·I with I = (V_s − V)/R_s.
    let vs = (k_sw + 1) as f64 * 2e-3;
    let i = (vs - v_after) / rs;
    let want = p.v_on_v + p.r_on_ohm * i;
    assert!(
        (v_after - want).abs() < 0.05,
        "ON branch {v_after} vs {want}"
    );
}

#[test]
fn on_state_holds_until_the_current_falls_below_i_hold() {
    let m = pcm();
    let p = m.params().clone();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut st = m.state_with(1.0, 0.0);
    m.advance(&mut st, 1.25, 1e-12, T, &mut rng);
    assert!(st.threshold_on);
    // Below V_th but above V_ON + R_ON·I_hold: still ON (holding hysteresis).
    let v_hold = p.v_on_v + p.r_on_ohm * p.i_hold_a;
    m.advance(&mut st, 0.5 * (v_hold + p.v_th_reset_v), 1e-12, T, &mut rng);
    assert!(st.threshold_on, "holds between V_hold and V_th");
    // Below the holding point: OFF.
    m.advance(&mut st, v_hold - 0.1, 1e-12, T, &mut rng);
    assert!(!st.threshold_on, "returns OFF below I_hold");
}
