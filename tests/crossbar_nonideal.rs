//! Device effects inside the multiply, converter errors and calibration, the error
//! decomposition (ideal / zero-wire / chord) and energy bookkeeping including bit-serial reads.
//!
//! Distribution tests read every cell through the multiply itself: a passive linear array with
//! ideal wires and periphery and a one-hot input on row i gives column currents
//! I_j = v_read·G_ij exactly, so the conductances the effects produced are measured, not
//! assumed. Tolerances are 5 standard errors of the estimate.

mod common;

use std::path::Path;
use std::sync::Arc;

use xbarsim::app::crossbar::*;
use xbarsim::crossbar::*;
use xbarsim::device::load_card;

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// n×n passive linear array, every weight `w`, ideal wires and periphery.
fn flat(n: usize, w: f64, seed: u64) -> Crossbar {
    let mut xb = Crossbar::new(n, n);
    xb.g_min = 1e-6;
    xb.g_max = 1e-4;
    xb.seed = seed;
    xb.set_weights(&vec![w; n * n]).unwrap();
    xb
}

/// Read conductances of every cell (row-major) through `n` one-hot multiplies.
fn measured_g(xb: &Crossbar) -> Vec<f64> {
    let n = xb.rows;
    let inputs: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|k| if k == i { 1.0 } else { 0.0 }).collect())
        .collect();
    let rep = mvm(xb, &inputs).unwrap();
    rep.analog
        .iter()
        .flat_map(|row| row.iter().map(|i| i / xb.v_read))
        .collect()
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let s = (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt();
    (m, s)
}

/// Mean within 5 standard errors and σ within 5 standard errors of a normal sample's σ.
fn assert_normal(v: &[f64], mean: f64, sigma: f64, what: &str) {
    let (m, s) = mean_std(v);
    let n = v.len() as f64;
    assert!(
        (m - mean).abs() <= 5.0 * sigma / n.sqrt(),
        "{what}: mean {m:e}, expected {mean:e} (σ {sigma:e}, n {n})"
    );
    assert!(
        (s - sigma).abs() <= 5.0 * sigma / (2.0 * n).sqrt(),
        "{what}: σ {s:e}, expected {sigma:e}"
    );
}

fn inputs(n: usize, k: usize) -> Vec<Vec<f64>> {
    (0..k)
        .map(|s| {
            (0..n)
                .map(|i| ((i * 7 + s * 13) % 11) as f64 / 10.0)
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// With their noise at zero, effects leave today's results unchanged.

#[test]
fn every_effect_with_zero_noise_reproduces_the_ideal_array_to_1e12() {
    for (cell, sinh) in [
        (CellKind::ZeroT1R, false),
        (CellKind::ZeroT1R, true),
        (CellKind::OneT1R, true),
    ] {
        let base = common::build(8, cell, sinh, 3);
        let x = inputs(8, 3);
        let today = mvm(&base, &x).unwrap();
        let zero_effects = [
            // Read an hour after programming with no drift, no relaxation.
            DeviceEffects {
                time_s: 3600.0,
                drift_t0: 1.0,
                ..Default::default()
            },
            // Every noise and fault rate explicitly zero, aged, Arrhenius on.
            DeviceEffects {
                time_s: 10.0,
                drift_ea_ev: 0.6,
                prog_sigma: 0.0,
                read_sigma: 0.0,
                stuck_on: 0.0,
                stuck_off: 0.0,
                ..Default::default()
            },
        ];
        for e in zero_effects {
            let mut xb = base.clone();
            xb.effects = e.clone();
            xb.temp_k = 350.0;
            assert!(!xb.effects.is_none(xb.law), "takes the effects path");
            let rep = mvm(&xb, &x).unwrap();
            for (a, b) in rep
                .analog
                .iter()
                .flatten()
                .zip(today.analog.iter().flatten())
            {
                assert!(rel(*a, *b) <= 1e-12, "{cell:?} {e:?}: {a} vs {b}");
            }
        }
        // A converter with every error at zero is today's quantiser, code for code.
        let mut xb = base.clone();
        xb.adc = Adc {
            bits: 6,
            range: AdcRange::MaxOfBatch,
        };
        let ideal_adc = mvm(&xb, &x).unwrap();
        xb.converters = Converters {
            noise_lsb: 0.0,
            inl_lsb: 0.0,
            offset_lsb: 0.0,
            ..Default::default()
        };
        assert_eq!(mvm(&xb, &x).unwrap().codes, ideal_adc.codes);
    }
}

#[test]
fn card_cells_at_time_zero_without_card_noise_are_todays_array() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models/pcm_stat_aihwkit.toml");
    let model = Arc::new(load_card(&p).unwrap());
    let mut xb = Crossbar::new(6, 6);
    xb.g_min = 1e-6;
    xb.g_max = 20e-6;
    xb.use_card(model).unwrap();
    xb.set_weights(&(0..36).map(|k| k as f64 / 35.0).collect::<Vec<_>>())
        .unwrap();
    let x = inputs(6, 2);
    let today = mvm(&xb, &x).unwrap();
    xb.effects.card_noise = false;
    xb.effects.time_s = 0.0;
    let rep = mvm(&xb, &x).unwrap();
    assert_eq!(rep.analog, today.analog);
}

// ---------------------------------------------------------------------------------------------
// With noise on, each effect matches its distribution.

#[test]
fn programming_error_is_gaussian_with_sigma_a_fraction_of_the_window() {
    let mut xb = flat(40, 0.5, 11);
    xb.effects.prog_sigma = 0.03;
    let g = measured_g(&xb);
    let target = 1e-6 + 0.5 * (1e-4 - 1e-6);
    assert_normal(&g, target, 0.03 * (1e-4 - 1e-6), "programming error");
}

#[test]
fn read_noise_is_relative_gaussian_and_fresh_on_every_read() {
    let mut xb = flat(40, 1.0, 5);
    xb.effects.read_sigma = 0.05;
    let g = measured_g(&xb);
    assert_normal(&g, 1e-4, 0.05e-4, "read noise");
    // Two reads of the same input differ (fresh draws), the same seed repeats them.
    let x = vec![vec![1.0; 40]; 2];
    let r = mvm(&xb, &x).unwrap();
    assert_ne!(r.analog[0], r.analog[1]);
    assert_eq!(r.analog, mvm(&xb, &x).unwrap().analog);
}

#[test]
fn stuck_at_faults_hit_the_requested_fractions() {
    let mut xb = flat(50, 0.5, 2);
    xb.effects.stuck_on = 0.1;
    xb.effects.stuck_off = 0.05;
    let g = measured_g(&xb);
    let n = g.len() as f64;
    for (level, p) in [(1e-4, 0.1), (1e-6, 0.05)] {
        let k = g.iter().filter(|&&x| rel(x, level) < 1e-9).count() as f64;
        let sd = (n * p * (1.0 - p)).sqrt();
        assert!((k - n * p).abs() <= 5.0 * sd, "{k} cells at {level}");
    }
}

#[test]
fn drift_exponents_follow_the_power_law_with_their_spread() {
    let mut xb = flat(40, 0.8, 9);
    let (nu, s_nu, t0, t) = (0.05, 0.01, 20.0, 3600.0);
    xb.effects = DeviceEffects {
        drift_nu: nu,
        drift_nu_sigma: s_nu,
        drift_t0: t0,
        time_s: t,
        ..Default::default()
    };
    let g0 = 1e-6 + 0.8 * (1e-4 - 1e-6);
    let g = measured_g(&xb);
    // ν_ij = −ln(G/G0)/ln((t + t0)/t0).
    let nus: Vec<f64> = g
        .iter()
        .map(|&x| -(x / g0).ln() / ((t + t0) / t0).ln())
        .collect();
    assert_normal(&nus, nu, s_nu, "drift exponent");
    // Thermally activated: at 350 K with Ea = 0.3 eV the same drift needs the Arrhenius time.
    xb.effects.drift_nu_sigma = 0.0;
    xb.effects.drift_ea_ev = 0.3;
    xb.temp_k = 350.0;
    let g_hot = measured_g(&xb)[0];
    let k_b: f64 = 8.617_333_262e-5;
    let t_eff = t * (0.3 / k_b * (1.0 / 300.15 - 1.0 / 350.0)).exp();
    let expect = g0 * ((t_eff + t0) / t0).powf(-nu);
    assert!(rel(g_hot, expect) < 1e-12, "{g_hot} vs {expect}");
}

#[test]
fn rram_relaxation_is_a_power_law_in_time_with_a_device_to_device_exponent() {
    // G(t) = G0·(1 + t/τ)^(−ν), ν ~ N(μ, σ) per device (signed): ln G/G0 is normal with mean
    // −μ·ln(1 + t/τ) and σ·ln(1 + t/τ), both linear in log-time.
    let mut xb = flat(40, 0.5, 4);
    xb.effects.relax_nu = 0.01;
    xb.effects.relax_nu_sigma = 0.004;
    xb.effects.relax_tau = 2.0;
    xb.effects.time_s = 1e4;
    let g0 = 1e-6 + 0.5 * (1e-4 - 1e-6);
    let ln: Vec<f64> = measured_g(&xb).iter().map(|g| (g / g0).ln()).collect();
    let l = (1.0f64 + 1e4 / 2.0).ln();
    assert_normal(&ln, -0.01 * l, 0.004 * l, "ln G/G0");
}

#[test]
fn oxram_card_cells_relax_through_the_cards_gap_relaxation_law() {
    // A card with the thermally activated gap relaxation switched on; `--time` must move every
    // cell's gap exactly as `relax_gap` (closed form) says, at the array's temperature.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models/oxram-stanford-v1.toml");
    let text = std::fs::read_to_string(&src).unwrap().replace(
        "[params]\n",
        "[params]\nvel_rlx = 1e5\nea_rlx = 0.9\nl_rlx = 0.05e-9\n",
    );
    let dir = std::env::temp_dir().join(format!("xbarsim-relax-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let card = dir.join("oxram-relax.toml");
    std::fs::write(&card, text).unwrap();
    let model = Arc::new(load_card(&card).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
    let n = 6;
    let mut xb = Crossbar::new(n, n);
    xb.temp_k = 330.0;
    xb.use_card(model).unwrap();
    let w: Vec<f64> = (0..n * n).map(|k| (k as f64 * 0.37).fract()).collect();
    xb.set_weights(&w).unwrap();
    let fresh = xb.programmed().unwrap();
    let t = 3600.0;
    xb.effects.time_s = t;
    let aged = xb.programmed().unwrap();
    let mut moved = 0;
    for (k, (c0, c1)) in fresh.cells.iter().zip(&aged.cells).enumerate() {
        let (xbarsim::device::Cell::OxRam { p, s: s0 }, xbarsim::device::Cell::OxRam { s: s1, .. }) =
            (c0, c1)
        else {
            panic!("oxram cells")
        };
        let expect = p.relax_gap(s0.gap, t, 330.0);
        assert!(
            rel(s1.gap, expect) < 1e-12,
            "cell {k}: gap {} vs {expect}",
            s1.gap
        );
        moved += usize::from(s1.gap > s0.gap * (1.0 + 1e-6));
    }
    assert!(
        moved > n * n / 2,
        "relaxation opened the gap of {moved} cells only"
    );
    // And the multiply reads the relaxed cells: less current than fresh.
    let x = vec![vec![1.0; n]];
    let i0: f64 = mvm(&fresh, &x).unwrap().analog[0].iter().sum();
    let i1: f64 = mvm(&aged, &x).unwrap().analog[0].iter().sum();
    assert!(i1 < i0, "{i1} vs {i0}");
}

#[test]
fn finite_levels_snap_every_cell_to_the_nearest_level() {
    let n = 12;
    let mut xb = Crossbar::new(n, n);
    let w: Vec<f64> = (0..n * n).map(|k| (k as f64 * 0.618).fract()).collect();
    xb.set_weights(&w).unwrap();
    xb.effects.levels = 5;
    let g = measured_g(&xb);
    let (lo, hi) = (xb.g_min, xb.g_max);
    for (k, (&gm, &wk)) in g.iter().zip(&w).enumerate() {
        let expect = lo + (hi - lo) * (wk * 4.0).round() / 4.0;
        assert!(rel(gm, expect) < 1e-12, "cell {k}: {gm} vs {expect}");
    }
}

#[test]
fn physical_pcm_card_reads_carry_its_1_over_f_noise() {
    // Card pcm_gst_mushroom: Q_s = min(0.0088/max(g_rel^0.65, 1e-3), 0.2), g_rel = R_set/R, and
    // σ_rel = Q_s·sqrt(ln((t + t_r)/(2·t_r))) with t_r = t_read (bandwidth 1/(2·t_read)) at drift
    // age t (aihwkit's PCM read-noise law, device-physics.md §2.2). Each read rescales G by
    // (1 + σ_rel·z): (G_read/G − 1)/σ_rel is standard normal over the cells.
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models/pcm_gst_mushroom.toml");
    let model = Arc::new(load_card(&p).unwrap());
    let n = 30;
    let mut xb = Crossbar::new(n, n);
    xb.g_min = 1e-6;
    xb.g_max = 20e-6;
    xb.seed = 11;
    xb.use_card(model).unwrap();
    xb.set_weights(&vec![0.5; n * n]).unwrap();
    let t = 3600.0;
    xb.effects.time_s = t;
    xb.effects.card_noise = true;
    let prog = xb.programmed().unwrap();
    let read = xb.read_instance(&prog, 0);
    let again = xb.read_instance(&prog, 1);
    let (r_set, t_r) = (40.0e3, xb.t_read);
    let mut zs = Vec::new();
    for (k, (c0, c1)) in prog.cells.iter().zip(&read.cells).enumerate() {
        let (xbarsim::device::Cell::Pcm { p, s: s0 }, xbarsim::device::Cell::Pcm { s: s1, .. }) =
            (c0, c1)
        else {
            panic!("pcm cells")
        };
        let (r0, r1) = (p.read_resistance(s0), p.read_resistance(s1));
        let q_s = (0.0088 / (r_set / r0).powf(0.65).max(1e-3)).min(0.2);
        let sig = q_s * ((t + t_r) / (2.0 * t_r)).ln().sqrt();
        assert!(s0.age_s == t, "cell {k}: drift age {}", s0.age_s);
        zs.push((r0 / r1 - 1.0) / sig);
    }
    assert_normal(&zs, 0.0, 1.0, "PCM read noise z");
    // Fresh on every read, and the multiply sees it.
    assert_ne!(read.cells, again.cells);
    let x = vec![vec![1.0; n]];
    let a: Vec<f64> = mvm(&xb, &[x[0].clone(), x[0].clone()])
        .unwrap()
        .analog
        .concat();
    assert!(a[..n] != a[n..], "two reads of the same input differ");
}

#[test]
fn statistical_pcm_card_drifts_with_its_own_exponents() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models/pcm_stat_aihwkit.toml");
    let model = Arc::new(load_card(&p).unwrap());
    let n = 30;
    let mut xb = Crossbar::new(n, n);
    xb.g_min = 1e-6;
    xb.g_max = 20e-6;
    xb.use_card(model.clone()).unwrap();
    xb.set_weights(&vec![0.5; n * n]).unwrap();
    let g_t = xb.g[0];
    xb.effects.time_s = 3600.0;
    xb.effects.card_noise = true;
    let g1 = measured_g(&xb);
    // aihwkit's laws at this target (device-physics.md §2.2; card pcm_stat_aihwkit.toml):
    // ν per device ~ |N(μ_ν, σ_ν)| and g_prog ~ N(g_T, σ_prog), read off the programmed cells.
    let xbarsim::device::Model::PcmStat(card) = model.as_ref() else {
        panic!("pcm_stat card")
    };
    let m = &card.nominal;
    let t0 = m.params().t0_s;
    let xb_prog = xb.programmed().unwrap();
    let nus: Vec<f64> = xb_prog
        .cells
        .iter()
        .map(|c| match c {
            xbarsim::device::Cell::PcmStat { p, s } => {
                -(p.drifted_conductance(s) / s.g_prog_s).ln() / ((3600.0 + t0) / t0).ln()
            }
            _ => unreachable!(),
        })
        .collect();
    let (mu, sd) = (m.nu_mean(g_t * 1e6), m.nu_std(g_t * 1e6));
    // ν = |N(μ, σ)| with μ ≫ σ here, so the fold is negligible.
    assert_normal(&nus, mu, sd, "pcm_stat ν");
    let progs: Vec<f64> = xb_prog
        .cells
        .iter()
        .map(|c| match c {
            xbarsim::device::Cell::PcmStat { s, .. } => s.g_prog_s * 1e6,
            _ => unreachable!(),
        })
        .collect();
    assert_normal(
        &progs,
        g_t * 1e6,
        m.prog_noise_sigma_us(g_t * 1e6),
        "pcm_stat σ_prog",
    );
    // The multiply sees drifted, noisy cells: on average lower than at t = 0.
    let (m1, _) = mean_std(&g1);
    assert!(m1 < g_t * 0.8, "{m1} vs {g_t}");
}

#[test]
fn adc_noise_offset_and_gain_match_their_models() {
    let n = 8;
    let mut xb = flat(n, 0.5, 1);
    xb.adc = Adc {
        bits: 8,
        range: AdcRange::Fixed(2.0 * n as f64 * 0.2 * 1e-4),
    };
    let x = vec![vec![0.6; n]; 400];
    let clean = mvm(&xb, &x).unwrap();
    let fs = clean.adc_full_scale;
    let code_axis = clean.analog[0][0] / fs * 255.0;
    // Offset and gain: code = round((1 + g)·x + offset).
    xb.converters.offset_lsb = 3.3;
    xb.converters.gain_error = 0.02;
    let r = mvm(&xb, &x).unwrap();
    assert_eq!(r.codes[0][0], (1.02 * code_axis + 3.3).round() as i64);
    // Noise: codes scatter with σ² = σ_n² + 1/12 (quantisation of a dithered input).
    xb.converters.offset_lsb = 0.0;
    xb.converters.gain_error = 0.0;
    xb.converters.noise_lsb = 2.0;
    let r = mvm(&xb, &x).unwrap();
    let codes: Vec<f64> = r.codes.iter().flatten().map(|&c| c as f64).collect();
    assert_normal(
        &codes,
        code_axis,
        (4.0f64 + 1.0 / 12.0).sqrt(),
        "ADC noise codes",
    );
    // INL: the bow adds inl_lsb at mid-scale.
    xb.converters.noise_lsb = 0.0;
    xb.converters.inl_lsb = 1.5;
    let r = mvm(&xb, &x).unwrap();
    let u = code_axis / 255.0;
    assert_eq!(
        r.codes[0][0],
        (code_axis + 4.0 * 1.5 * u * (1.0 - u)).round() as i64
    );
}

/// Transition-level shifts t_k − (k − ½), k = 1..=hi, of a converter measured from outside:
/// t_k is the smallest input giving code ≥ k, found by bisection on its output.
fn transition_shifts(c: &Converters, hi: i64, seed: u64) -> Vec<f64> {
    let mut a = periphery::AdcInstance::new(c, 0, hi, seed);
    (1..=hi)
        .map(|k| {
            let (mut lo, mut up) = (k as f64 - 2.0, k as f64 + 1.0);
            for _ in 0..60 {
                let mid = 0.5 * (lo + up);
                if a.convert(mid) >= k {
                    up = mid;
                } else {
                    lo = mid;
                }
            }
            up - (k as f64 - 0.5)
        })
        .collect()
}

#[test]
fn adc_dnl_shifts_every_transition_level_by_its_configured_distribution() {
    // A 10-bit converter with dnl_lsb = σ: its 1023 measured transition shifts must be
    // N(0, σ) (mean and σ within 5 standard errors), so DNL_k = d_(k+1) − d_k has rms √2·σ
    // (neighbouring DNLs share a level, so that check gets twice the iid tolerance). At
    // σ = 0.1 LSB the guard keeping levels monotone (a 10σ event) never acts.
    let sigma = 0.1;
    let c = Converters {
        dnl_lsb: sigma,
        ..Default::default()
    };
    let d = transition_shifts(&c, 1023, 42);
    assert_normal(&d, 0.0, sigma, "DNL transition shifts");
    let dnl: Vec<f64> = d.windows(2).map(|w| w[1] - w[0]).collect();
    let m = dnl.len() as f64;
    let rms = (dnl.iter().map(|x| x * x).sum::<f64>() / m).sqrt();
    let s2 = 2f64.sqrt() * sigma;
    assert!(
        (rms - s2).abs() <= 10.0 * s2 / (2.0 * m).sqrt(),
        "rms DNL {rms}"
    );
    // Seeded: the same seed is the same converter, another seed another one.
    assert_eq!(transition_shifts(&c, 1023, 42), d);
    assert_ne!(transition_shifts(&c, 1023, 43), d);
    // dnl_lsb = 0: the ideal quantiser's transitions at k − ½.
    let ideal = transition_shifts(&Converters::default(), 255, 42);
    assert!(ideal.iter().all(|x| x.abs() < 1e-12), "ideal transitions");
}

#[test]
fn separate_calibration_does_not_see_the_evaluated_batch() {
    let mut xb = common::build(8, CellKind::ZeroT1R, true, 3);
    xb.adc = Adc {
        bits: 6,
        range: AdcRange::MaxOfBatch,
    };
    let a = inputs(8, 2);
    let b: Vec<Vec<f64>> = vec![vec![0.3; 8]; 3];
    // Today: the range is the evaluated batch's own max.
    let ra = mvm(&xb, &a).unwrap();
    let max_a = ra
        .analog
        .iter()
        .flatten()
        .fold(0.0f64, |m, x| m.max(x.abs()));
    assert_eq!(ra.adc_full_scale, max_a);
    assert_eq!(ra.adc_calibration, "evaluated batch");
    xb.converters.calibration_vectors = 16;
    let ra = mvm(&xb, &a).unwrap();
    let rb = mvm(&xb, &b).unwrap();
    assert_eq!(ra.adc_full_scale, rb.adc_full_scale);
    assert_ne!(ra.adc_full_scale, max_a);
    assert!(ra.adc_calibration.contains("separate batch of 16"));
}

// ---------------------------------------------------------------------------------------------
// Error decomposition.

#[test]
fn zero_wire_and_chord_references_separate_ir_drop_from_nonlinearity() {
    // Linear cells: chord = ideal; zero wires and ideal periphery: zero-wire = ideal.
    let mut xb = common::build(6, CellKind::ZeroT1R, false, 1);
    xb.r_driver = 0.0;
    xb.r_sense = 0.0;
    let x = inputs(6, 2);
    let r = mvm_bound_with(
        &mut Array::bind(&xb, &Bias::mvm(&xb, &[0.0; 6])).unwrap(),
        &x,
        true,
    )
    .unwrap();
    for ((c, z), i) in r
        .chord
        .iter()
        .flatten()
        .zip(r.zero_wire.iter().flatten())
        .zip(r.ideal_dac.iter().flatten())
    {
        assert!(rel(*c, *i) < 1e-12 && rel(*z, *i) < 1e-12, "{c} {z} {i}");
    }
    // Sinh cells at full-scale inputs: each cell sees exactly v_read without wires, so the
    // zero-wire solve equals the chord reference; with wires the analog error against it is
    // the IR drop, and it is what the analog error against the chord measures too.
    let mut xb = common::build(6, CellKind::ZeroT1R, true, 1);
    xb.r_driver = 0.0;
    xb.r_sense = 0.0;
    xb.reference = Reference::ZeroWire;
    let full = vec![vec![1.0; 6]];
    let r = mvm(&xb, &full).unwrap();
    for (c, z) in r.chord[0].iter().zip(&r.zero_wire[0]) {
        assert!(rel(*c, *z) < 1e-10, "{c} vs {z}");
    }
    assert_eq!(r.err_analog, r.err_zero_wire);
    assert!(r.err_analog.rms > 0.0);
    // At half-scale inputs the sinh law's curvature makes the zero-wire current fall below the
    // chord's V·G(v_read): I0·sinh(V/V0) < V·I0·sinh(v_read/V0)/v_read for V < v_read.
    let half = vec![vec![0.5; 6]];
    let r = mvm_bound_with(
        &mut Array::bind(&xb, &Bias::mvm(&xb, &[0.0; 6])).unwrap(),
        &half,
        true,
    )
    .unwrap();
    let v0 = 0.25;
    let v = 0.5 * xb.v_read;
    let ratio = (v / v0).sinh() / (v / xb.v_read * (xb.v_read / v0).sinh());
    for (c, z) in r.chord[0].iter().zip(&r.zero_wire[0]) {
        assert!(rel(*z, c * ratio) < 1e-10, "{z} vs {}", c * ratio);
    }
}

#[test]
fn mvm_csv_reports_every_reference_and_the_signed_error_from_their_closed_forms() {
    // 0T1R linear cells, ideal drivers and a sense resistance r_s. Without wire resistance
    // every bit line is independent and its node sits at I_j·r_s, so
    // I_j = Σ_i G_ij·V_i / (1 + r_s·Σ_i G_ij): the zero-wire column. chord_a = Σ_i V_i·G_ij
    // with the 8-bit DAC's inputs round(255·x)/255, ideal_a the same with x itself, the ADC
    // code round(255·I/I_max) of the analog current, and error_a = code·I_max/255 − the
    // configured reference (signed). With 5 Ω segments the IR drop makes the analog current
    // fall below the zero-wire one: rel_error_zero_wire < 0.
    let d = tempfile::tempdir().unwrap();
    let w = [[0.2, 1.0], [0.5, 0.0], [0.9, 0.4]];
    let (g_min, g_max, v_read, r_s, i_max) = (1e-6, 1e-4, 0.2, 100.0, 1e-4);
    let weights: String = w.iter().map(|r| format!("{},{}\n", r[0], r[1])).collect();
    std::fs::write(d.path().join("w.csv"), weights).unwrap();
    let x = [[1.0, 0.6, 0.3], [0.25, 1.0, 0.0]];
    let inputs: String = x
        .iter()
        .map(|r| format!("{},{},{}\n", r[0], r[1], r[2]))
        .collect();
    let inp = d.path().join("x.csv");
    std::fs::write(&inp, inputs).unwrap();
    let g = |i: usize, j: usize| g_min + w[i][j] * (g_max - g_min);
    let q = |x: f64| (x * 255.0).round() / 255.0;
    for reference in ["ideal", "zero_wire", "chord"] {
        let cfg = d.path().join(format!("{reference}.toml"));
        std::fs::write(
            &cfg,
            format!(
                "rows = 3\ncols = 2\ncell = \"0T1R\"\n[device]\nkind = \"linear\"\n\
                 g_min = {g_min}\ng_max = {g_max}\n[wires]\nr_row = 5.0\nr_col = 5.0\n\
                 [periphery]\nr_sense = {r_s}\nv_read = {v_read}\n\
                 [weights]\ncsv = \"w.csv\"\n[dac]\nbits = 8\n\
                 [adc]\nbits = 8\nrange = \"fixed\"\ni_max = {i_max}\n\
                 [metrics]\nreference = \"{reference}\"\n"
            ),
        )
        .unwrap();
        let s = mvm_command(&cfg, Some(&inp), None).unwrap();
        let text = std::fs::read_to_string(&s.csv).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "vector,column,ideal_a,analog_a,digital_code,rel_error,\
             zero_wire_a,chord_a,error_a,rel_error_zero_wire,rel_error_chord"
        );
        let mut n = 0;
        for l in lines {
            let f: Vec<f64> = l.split(',').map(|v| v.parse::<f64>().unwrap()).collect();
            let (k, j) = (f[0] as usize, f[1] as usize);
            let ideal: f64 = (0..3).map(|i| x[k][i] * v_read * g(i, j)).sum();
            let chord: f64 = (0..3).map(|i| q(x[k][i]) * v_read * g(i, j)).sum();
            let sum_g: f64 = (0..3).map(|i| g(i, j)).sum();
            let zero_wire = chord / (1.0 + r_s * sum_g);
            let (analog, code) = (f[3], f[4]);
            assert!(rel(f[2], ideal) < 1e-11, "ideal {} vs {ideal}", f[2]);
            assert!(
                rel(f[6], zero_wire) < 1e-11,
                "zero wire {} vs {zero_wire}",
                f[6]
            );
            assert!(rel(f[7], chord) < 1e-11, "chord {} vs {chord}", f[7]);
            assert_eq!(code, (analog / i_max * 255.0).round());
            let r = match reference {
                "ideal" => ideal,
                "zero_wire" => zero_wire,
                _ => chord,
            };
            let err = code * i_max / 255.0 - r;
            assert!((f[8] - err).abs() <= 1e-11 * r, "error_a {} vs {err}", f[8]);
            assert!(rel(f[9], (analog - zero_wire) / zero_wire) < 1e-5);
            assert!(rel(f[10], (analog - chord) / chord) < 1e-5);
            assert!(
                f[9] < 0.0 && analog < zero_wire,
                "IR drop lowers the current"
            );
            n += 1;
        }
        assert_eq!(n, 2 * 2);
    }
}

// ---------------------------------------------------------------------------------------------
// Energy bookkeeping.

#[test]
fn energy_parts_add_up_to_the_source_energy_bit_serial_included() {
    for cell in [
        CellKind::ZeroT1R,
        CellKind::OneS1R,
        CellKind::OneT1R,
        CellKind::TwoT2R,
    ] {
        let mut xb = common::build(6, cell, true, 2);
        xb.dac = Dac {
            bits: 4,
            mode: DacMode::BitSerial,
        };
        let rep = mvm(&xb, &inputs(6, 3)).unwrap();
        assert_eq!(rep.iterations.len(), 3 * 4, "every bit plane solved");
        let e = &rep.energy;
        assert!(
            rel(e.p_dissipated(), e.p_sources) <= 1e-9,
            "{cell:?}: {} vs {}",
            e.p_dissipated(),
            e.p_sources
        );
        assert!(rel(e.e_total, e.p_sources * xb.t_read) <= 1e-12);
    }
}

#[test]
fn bit_serial_energy_counts_every_per_bit_solve() {
    // Linear cells, no wires, ideal periphery: each plane dissipates Σ_ij (b_ik·v)²·G_ij.
    let n = 5;
    let mut xb = Crossbar::new(n, n);
    let w: Vec<f64> = (0..n * n).map(|k| (k % 7) as f64 / 6.0).collect();
    xb.set_weights(&w).unwrap();
    let bits = 3;
    xb.dac = Dac {
        bits,
        mode: DacMode::BitSerial,
    };
    let x: Vec<f64> = (0..n).map(|i| i as f64 / (n - 1) as f64).collect();
    let rep = mvm(&xb, std::slice::from_ref(&x)).unwrap();
    let mut p = 0.0;
    for k in 0..bits {
        for (i, xi) in x.iter().enumerate() {
            let code = (xi * 7.0).round() as u64;
            let v = if (code >> k) & 1 == 1 { xb.v_read } else { 0.0 };
            for j in 0..n {
                p += v * v * xb.g[i * n + j];
            }
        }
    }
    assert!(rel(rep.energy.e_total, p * xb.t_read) <= 1e-12);
    // The analog-mode energy of the same (quantised) inputs is a different number.
    xb.dac.mode = DacMode::Analog;
    let analog = mvm(&xb, &[x]).unwrap();
    assert!(rel(analog.energy.e_total, rep.energy.e_total) > 1e-3);
}

#[test]
fn converter_energy_follows_the_walden_figure_of_merit() {
    let mut xb = flat(4, 0.5, 1);
    xb.adc = Adc {
        bits: 6,
        range: AdcRange::MaxOfBatch,
    };
    xb.converters.fom_walden_j = 20e-15;
    xb.dac = Dac {
        bits: 4,
        mode: DacMode::BitSerial,
    };
    let rep = mvm(&xb, &inputs(4, 3)).unwrap();
    // 3 vectors × 4 bit planes × 4 columns conversions, each FOM·2^6.
    assert_eq!(rep.periphery.adc_conversions, 48);
    assert!(rel(rep.periphery.e_adc, 48.0 * 20e-15 * 64.0) < 1e-12);
    assert!(
        rel(
            rep.periphery.latency_per_mvm,
            4.0 * (xb.t_read + 1.0 / 100e6)
        ) < 1e-12
    );
}

#[test]
fn schreier_figure_of_merit_gives_the_energy_of_its_definition() {
    // FOM_S = SNDR + 10·log10(BW/P), SNDR = 6.02·b + 1.76 dB, BW = f_s/2: at b = 8 and
    // FOM_S = 170 dB, P = (f_s/2)·10^((49.92 − 170)/10), and one conversion takes 1/f_s.
    let mut xb = flat(4, 0.5, 1);
    xb.adc = Adc {
        bits: 8,
        range: AdcRange::MaxOfBatch,
    };
    xb.converters.fom = AdcFom::Schreier;
    xb.converters.fom_schreier_db = 170.0;
    xb.converters.adc_sample_rate_hz = 50e6;
    let rep = mvm(&xb, &inputs(4, 2)).unwrap();
    let p = 25e6 * 10f64.powf((6.02 * 8.0 + 1.76 - 170.0) / 10.0);
    let e_conv = p / 50e6;
    assert!(rel(e_conv, 4.909e-13) < 1e-3, "{e_conv}");
    assert_eq!(rep.periphery.adc_conversions, 8);
    assert!(rel(rep.periphery.e_adc, 8.0 * e_conv) < 1e-12);
}

#[test]
fn dac_and_sense_amplifier_energies_follow_their_capacitive_models() {
    // DAC: 2^b·C_u·V² per word line and read (b = 1 for a bit-serial driver); sense amplifier:
    // C_SA·V_DD² per bit line and read; both beside, not inside, the circuit energy.
    let mut xb = flat(4, 0.5, 1);
    xb.v_read = 0.2;
    xb.dac = Dac {
        bits: 5,
        mode: DacMode::Analog,
    };
    let x = inputs(4, 3);
    let rep = mvm(&xb, &x).unwrap();
    let (cu, csa) = (1e-15, 10e-15);
    assert!(rel(rep.periphery.e_dac, 3.0 * 4.0 * 32.0 * cu * 0.04) < 1e-12);
    assert!(rel(rep.periphery.e_sense, 3.0 * 4.0 * csa * 1.0) < 1e-12);
    assert!(rel(rep.periphery.area_dac, 4.0 * 32.0 * cu / 2e-3) < 1e-12);
    // Bit-serial: 5 planes of 1-bit drives.
    xb.dac.mode = DacMode::BitSerial;
    xb.converters.sense_vdd = 0.9;
    let bs = mvm(&xb, &x).unwrap();
    assert!(rel(bs.periphery.e_dac, 3.0 * 5.0 * 4.0 * 2.0 * cu * 0.04) < 1e-12);
    assert!(rel(bs.periphery.e_sense, 3.0 * 5.0 * 4.0 * csa * 0.81) < 1e-12);
    // A fixed energy replaces the model; the circuit's energy is untouched by either.
    xb.converters.dac_energy_j = Some(3e-14);
    let fixed = mvm(&xb, &x).unwrap();
    assert!(rel(fixed.periphery.e_dac, 3.0 * 5.0 * 4.0 * 3e-14) < 1e-12);
    assert_eq!(fixed.energy.e_total, bs.energy.e_total);
}

#[test]
fn nonideal_config_keys_resolve_and_bad_values_name_the_key() {
    let base = r#"
rows = 4
cols = 4
cell = "0T1R"
temperature = 330.0
[device]
kind = "linear"
[nonideal]
prog_sigma = 0.02
read_sigma = 0.01
stuck_on = 0.01
levels = 16
time = 100.0
drift_nu = 0.05
relax_nu = 0.01
relax_tau = 2.0
[adc]
bits = 6
inl_lsb = 0.5
calibration_vectors = 8
fom = "schreier"
fom_schreier_db = 165.0
[periphery]
dac_unit_cap_f = 2e-15
sense_vdd = 0.8
[metrics]
reference = "chord"
"#;
    let xb = Crossbar::from_toml_str(base, Path::new("t.toml")).unwrap();
    assert_eq!(xb.temp_k, 330.0);
    assert_eq!(xb.effects.levels, 16);
    assert_eq!(xb.effects.time_s, 100.0);
    assert_eq!(xb.converters.calibration_vectors, 8);
    assert_eq!(xb.reference, Reference::Chord);
    assert_eq!((xb.effects.relax_nu, xb.effects.relax_tau), (0.01, 2.0));
    assert_eq!(xb.converters.fom, AdcFom::Schreier);
    assert_eq!(xb.converters.fom_schreier_db, 165.0);
    assert_eq!(xb.converters.dac_unit_cap_f, 2e-15);
    assert_eq!(xb.converters.sense_vdd, 0.8);
    for (bad, key) in [
        ("prog_sigma = 0.02", "prog_sigma = -1.0"),
        ("relax_tau = 2.0", "relax_tau = 0.0"),
        ("fom = \"schreier\"", "fom = \"murmann\""),
        ("sense_vdd = 0.8", "sense_vdd = -1.0"),
        ("levels = 16", "levels = 1"),
        ("stuck_on = 0.01", "stuck_on = 1.5"),
        ("temperature = 330.0", "temperature = -3.0"),
    ] {
        let text = base.replace(bad, key);
        let e = Crossbar::from_toml_str(&text, Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        let k = key.split(' ').next().unwrap();
        assert!(e.contains(k) && e.contains("t.toml"), "{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Tiling, signed weights, bit-slicing.

fn signed_matrix(m: usize, n: usize) -> Vec<f64> {
    (0..m * n)
        .map(|k| ((k as f64 * 0.7548776662).fract() - 0.5) * 3.0)
        .collect()
}

fn dense(w: &[f64], m: usize, n: usize, x: &[f64]) -> Vec<f64> {
    (0..n)
        .map(|j| (0..m).map(|i| x[i] * w[i * n + j]).sum())
        .collect()
}

#[test]
fn tiled_multiply_with_ideal_wires_equals_the_untiled_product() {
    let (m, n) = (37, 23);
    let w = signed_matrix(m, n);
    let x = inputs(m, 4);
    let mut template = Crossbar::new(1, 1);
    template.g_min = 1e-6;
    template.g_max = 1e-4;
    for (layout, array_n) in [
        (Layout::default(), 8),
        (Layout::default(), 64),
        (
            Layout {
                signed: Signed::OffsetColumn,
                ..Default::default()
            },
            8,
        ),
    ] {
        let mut t = TiledMatrix::new(&template, &w, m, n, array_n, layout).unwrap();
        let y = t.multiply(&x).unwrap();
        for (xs, ys) in x.iter().zip(&y) {
            for (a, b) in ys.iter().zip(dense(&w, m, n, xs)) {
                assert!(
                    (a - b).abs() <= 1e-12 * 3.0 * m as f64,
                    "{layout:?} {array_n}: {a} vs {b}"
                );
            }
        }
        assert!(t.energy.e_total > 0.0);
    }
}

#[test]
fn bit_sliced_weights_reconstruct_the_quantised_product() {
    let (m, n) = (20, 9);
    let w = signed_matrix(m, n);
    let x = inputs(m, 3);
    let template = Crossbar::new(1, 1);
    let layout = Layout {
        signed: Signed::Differential,
        slice_bits: 2,
        slices: 3,
    };
    let mut t = TiledMatrix::new(&template, &w, m, n, 8, layout).unwrap();
    // 3 row blocks × 2 column blocks × 3 slices × 2 signs.
    assert_eq!(t.n_arrays(), 3 * 2 * 3 * 2);
    let y = t.multiply(&x).unwrap();
    // Weights quantised to 6 bits of magnitude (63 levels of max |W|), independently.
    let scale = w.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    let wq: Vec<f64> = w
        .iter()
        .map(|v| v.signum() * (v.abs() / scale * 63.0).round() / 63.0 * scale)
        .collect();
    for (xs, ys) in x.iter().zip(&y) {
        for (a, b) in ys.iter().zip(dense(&wq, m, n, xs)) {
            assert!((a - b).abs() <= 1e-11, "{a} vs {b}");
        }
    }
}

#[test]
fn mvm_command_time_option_reads_the_drifted_array() {
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/configs/crossbar_0t1r_pcm_stat_drift.toml");
    let d = tempfile::tempdir().unwrap();
    let read = |t: f64| {
        let prefix = d.path().join(format!("t{t}"));
        let s = mvm_command_at(&cfg, None, Some(&prefix), Some(t)).unwrap();
        assert_eq!(s.time_s, t);
        let text = std::fs::read_to_string(&s.csv).unwrap();
        text.lines()
            .skip(1)
            .map(|l| l.split(',').nth(2).unwrap().parse::<f64>().unwrap())
            .sum::<f64>()
    };
    let (i0, i1) = (read(0.0), read(3600.0));
    // PCM drift with ν ≈ 0.05–0.1: ((3600 + 20)/20)^−ν ≈ 0.6–0.8 of the t = 0 currents.
    assert!(i1 < 0.85 * i0 && i1 > 0.4 * i0, "{i1} vs {i0}");
    assert!(mvm_command_at(&cfg, None, Some(&d.path().join("bad")), Some(-1.0)).is_err());
}

#[test]
fn export_writes_the_array_as_programmed_with_its_faults() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("xb.toml");
    std::fs::write(
        &cfg,
        "rows = 4\ncols = 4\ncell = \"0T1R\"\n[device]\nkind = \"linear\"\ng_min = 1e-6\n\
         g_max = 1e-4\n[wires]\nr_row = 1.0\nr_col = 1.0\n[weights]\nrandom = true\n\
         [nonideal]\nstuck_off = 1.0\n",
    )
    .unwrap();
    let out = d.path().join("xb.cir");
    export_command(&cfg, &out).unwrap();
    let deck = std::fs::read_to_string(&out).unwrap();
    let cells: Vec<f64> = deck
        .lines()
        .filter(|l| l.starts_with("rc"))
        .map(|l| l.split_whitespace().nth(3).unwrap().parse().unwrap())
        .collect();
    assert_eq!(cells.len(), 16);
    // Every cell stuck at g_min: 1 MΩ.
    assert!(cells.iter().all(|r| rel(*r, 1e6) < 1e-12), "{cells:?}");
}

#[test]
fn signed_weights_on_2t2r_pairs_give_the_dense_product_when_the_transistors_are_near_ideal() {
    // Access transistors with ≈ 1 mΩ on-resistance against ≥ 10 kΩ cells: the pair's
    // I(+) − I(−) is v_read·(g_max − g_min)·Σ x·w to ~1e-7.
    let (m, n) = (12, 7);
    let w = signed_matrix(m, n);
    let x = inputs(m, 2);
    let mut t = Crossbar::new(1, 1);
    t.cell = CellKind::TwoT2R;
    t.transistor = Some(Mos1 {
        vto: 0.4,
        kp: 1e3,
        lambda: 0.0,
        w: 1e-6,
        l: 1e-6,
    });
    t.v_gate = 1.8;
    let mut tm = TiledMatrix::new(&t, &w, m, n, 5, Layout::default()).unwrap();
    assert_eq!(tm.n_arrays(), 3 * 2, "one signed array per tile");
    let y = tm.multiply(&x).unwrap();
    for (xs, ys) in x.iter().zip(&y) {
        for (a, b) in ys.iter().zip(dense(&w, m, n, xs)) {
            assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
        }
    }
}

#[test]
fn write_verify_result_is_the_programming_error_inside_the_multiply() {
    // ISPP on a 4×4 corner of the 1T1R OxRAM example; the verified array with the targets as
    // its reference, read one-hot: every cell's chord reference is the read conductance the
    // programming layer recorded for it (final_s), the ideal reference its target, so the
    // multiply's chord − ideal gap is the write-verify residual cell by cell.
    use xbarsim::programming::verify::{program_array, Plan, Scheme};
    let cfg =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/configs/program_1t1r_oxram.toml");
    let loaded = xbarsim::programming::load_config(&cfg).unwrap();
    let n = 4;
    let big = &loaded.xb;
    let pc = big.phys_cols();
    let mut xb = big.clone();
    xb.rows = n;
    xb.cols = n;
    xb.cells = (0..n * n)
        .map(|k| big.cells[(k / n) * pc + k % n].clone())
        .collect();
    xb.g = xb
        .cells
        .iter()
        .map(|c| c.read_conductance(xb.v_read, xb.temp_k))
        .collect();
    let nominal = xb.card.as_ref().unwrap().nominal_cell();
    let (lo, hi) = xbarsim::crossbar::program::read_window(&nominal, xb.v_read).unwrap();
    let targets: Vec<f64> = (0..n * n)
        .map(|k| 1.1 * lo + (k as f64 * 0.618).fract() * (0.9 * hi - 1.1 * lo))
        .collect();
    let plan = Plan::new(Scheme::Ispp, &loaded.program, 1).unwrap();
    let rep = program_array(&mut xb, &targets, &plan, false).unwrap();
    let arr = xb.with_reference_targets(&targets).unwrap();
    let one_hot: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|k| if k == i { 1.0 } else { 0.0 }).collect())
        .collect();
    let m = mvm(&arr, &one_hot).unwrap();
    for c in &rep.cells {
        let k = c.row * n + c.col;
        let (chord, ideal) = (m.chord[c.row][c.col], m.ideal[c.row][c.col]);
        assert!(rel(chord / arr.v_read, c.final_s) < 1e-9, "cell {k}");
        assert!(rel(ideal / arr.v_read, targets[k]) < 1e-12, "cell {k}");
        if c.success {
            assert!(rel(chord, ideal) <= rep.tolerance + 1e-12, "cell {k}");
        }
    }
    assert!(rep.success_rate() >= 0.9, "{}", rep.success_rate());
    // The reference is not the achieved state: the residual is there to be counted.
    assert!(m.chord.concat() != m.ideal.concat());
    assert!(arr.with_reference_targets(&targets[1..]).is_err());
}

#[test]
fn xbar_mvm_time_flag_reads_the_array_that_many_seconds_after_programming() {
    // The binary itself: `xbar mvm CONFIG --time 3600` writes the CSV that the library call at
    // t = 3600 s writes (bit for bit: seeded draws), which differs from the config's own
    // `time = 20`; a negative time is an error naming the flag.
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/configs/crossbar_0t1r_pcm_stat_drift.toml");
    let d = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_xbar"))
            .arg("mvm")
            .arg(&cfg)
            .args(args)
            .output()
            .unwrap()
    };
    let cli = d.path().join("cli");
    let out = run(&["--time", "3600", "-o", cli.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lib = mvm_command_at(&cfg, None, Some(&d.path().join("lib")), Some(3600.0)).unwrap();
    let at_20 = mvm_command_at(&cfg, None, Some(&d.path().join("t20")), None).unwrap();
    let text = |p: &Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(text(&d.path().join("cli.mvm.csv")), text(&lib.csv));
    assert_ne!(text(&lib.csv), text(&at_20.csv));
    // The report adds the converters to the array energy: 32 columns of an 8-bit Walden ADC
    // (10 fJ·2^8 each), 32 word lines of an 8-bit capacitive DAC (2^8·1 fF·v_read²) and 32
    // StrongARM decisions (10 fF·1 V²) per MVM, on top of the circuit's energy.
    let xb = Crossbar::from_toml_file(&cfg).unwrap();
    let conv = 32.0 * (10e-15 * 256.0 + 256.0 * 1e-15 * xb.v_read * xb.v_read + 10e-15);
    assert!(rel(lib.energy_total(), lib.energy_per_mvm + conv) < 1e-12);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "total per MVM (array + converters): {:.4e} J",
            lib.energy_total()
        )),
        "{stdout}"
    );
    let bad = run(&["--time=-5", "-o", d.path().join("bad").to_str().unwrap()]);
    assert!(!bad.status.success());
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(msg.contains("--time"), "{msg}");
}

#[test]
fn tiled_multiply_reports_every_tiles_converter_cost() {
    // 37×23 signed matrix on 8×8 tiles, differential: 5 row blocks × 3 column blocks × 2 signs
    // = 30 arrays working side by side. Per input vector each array makes 8 DAC conversions
    // (2^4·1 fF·v_read²), 8 ADC conversions (Walden 10 fJ·2^6) and 8 sense decisions
    // (10 fF·1 V²); the latency is one array's (read pulse + one conversion at 100 MS/s).
    let (m, n) = (37, 23);
    let w = signed_matrix(m, n);
    let x = inputs(m, 3);
    let mut template = Crossbar::new(1, 1);
    template.dac = Dac {
        bits: 4,
        mode: DacMode::Analog,
    };
    template.adc = Adc {
        bits: 6,
        range: AdcRange::MaxOfBatch,
    };
    let mut t = TiledMatrix::new(&template, &w, m, n, 8, Layout::default()).unwrap();
    assert_eq!(t.n_arrays(), 30);
    t.multiply(&x).unwrap();
    let per = 30.0 * 3.0 * 8.0;
    let v = template.v_read;
    let p = &t.periphery;
    assert_eq!(p.adc_conversions, 30 * 3 * 8);
    assert!(rel(p.e_adc, per * 10e-15 * 64.0) < 1e-12, "{}", p.e_adc);
    assert!(
        rel(p.e_dac, per * 16.0 * 1e-15 * v * v) < 1e-12,
        "{}",
        p.e_dac
    );
    assert!(rel(p.e_sense, per * 10e-15) < 1e-12, "{}", p.e_sense);
    assert!(rel(p.latency_per_mvm, template.t_read + 1.0 / 100e6) < 1e-12);
}
