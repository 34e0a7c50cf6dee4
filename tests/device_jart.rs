//! JART VCM v1b (src/device/jart.rs): its equations against their closed forms, its static law
//! against an independent fit of the same published model (aihwkit's JART v1b port), its
//! SET/RESET under the published sweep, the bounds of N_disc, and the registry plumbing that a
//! new family gets for free.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use xbarsim::device::jart::{Params, State};
use xbarsim::device::{load_card, Cell, CompactModel, Model, FAMILIES};

const K_B: f64 = 1.380649e-23;
const Q: f64 = 1.602176634e-19;

fn card_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models/jart_vcm_v1b.toml")
}

fn nominal() -> Params {
    match load_card(&card_path()).unwrap() {
        Model::Jart(c) => c.nominal,
        other => panic!("not a jart card: {}", other.family()),
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(a.abs())
}

#[test]
fn the_family_is_registered_and_its_card_loads() {
    assert!(FAMILIES.contains(&"jart"));
    let p = nominal();
    // SI conversions of the source's units (JART_TUD_params.py: 1e26 m^-3, nm).
    assert_eq!(p.n_min, 0.008e26);
    assert_eq!(p.n_max, 20e26);
    assert_eq!(p.r_fil, 45e-9);
    assert_eq!(p.l_disc, 0.4e-9);
    let docs = xbarsim::device::family_param_docs("jart").unwrap();
    assert!(docs
        .iter()
        .any(|d| d.key == "params.dw_a" && d.unit == "eV"));
}

/// Series voltage of the TiOx layer and the self-heated lines:
/// V = I·(R_TiOx + R0·(1 + R0·α·I²·R_th,line)), by hand at I = 1 mA.
#[test]
fn series_voltage_is_the_closed_form() {
    let p = nominal();
    let i = 1e-3;
    let want = i * (650.0 + 719.2437 * (1.0 + 719.2437 * 3.92e-3 * i * i * 90471.47));
    assert!(
        close(p.v_series(i), want, 1e-14),
        "{} vs {want}",
        p.v_series(i)
    );
    // R_disc = l_disc/(N·z·e·µn·A) at N = 1e26 m^-3: 0.4 nm/(1e26·2·e·4e-6·π·(45 nm)²).
    let r = 0.4e-9 / (1e26 * 2.0 * Q * 4e-6 * PI * 45e-9 * 45e-9);
    assert!(close(p.r_disc(1e26), r, 1e-12));
}

/// T = T0 + I·(V − V_series)·R_th,eff with R_th,eff = R_th0·(r_det/r)² in SET and
/// 0.27·R_th0·(r_det/r)² in RESET (the source's gradual-RESET scaling).
#[test]
fn filament_temperature_is_the_closed_form() {
    let p = nominal();
    let (vm, i, t0) = (-0.8, -2e-4, 293.0);
    let vs = p.v_series(i);
    let want = t0 + i * (vm - vs) * 15.72e6;
    assert!(close(p.temperature_at(vm, i, t0), want, 1e-14));
    assert!(
        want > t0 + 100.0,
        "a SET at 0.8 V heats the filament: {want}"
    );
    let (vm, i) = (0.9, 3e-4);
    let want = t0 + i * (vm - p.v_series(i)) * 0.27 * 15.72e6;
    assert!(close(p.temperature_at(vm, i, t0), want, 1e-14));
}

/// Ion current: at zero field the two barriers are equal and no ions move; at small field it
/// reduces to the Mott-Gurney hopping law 2·z·e·c·a·ν0·A·exp(−ΔW_A/kT)·sinh(z·E·a/(2kT))
/// (ΔW_min,max = ΔW_A·(1 ∓ γπ/2) + O(γ²)); at γ = 1 the lower barrier vanishes.
#[test]
fn ion_current_follows_its_closed_forms() {
    let p = nominal();
    let (n, t) = (1e26, 500.0);
    assert_eq!(p.ion_current(n, 0.0, t, 1.0), 0.0);
    let ut = K_B * t / Q;
    let c = 0.5 * (20e26 + n);
    let area = PI * 45e-9 * 45e-9;
    for e in [1e6, 1e7] {
        // γ = 2·E·0.25 nm/(π·1.35 V) ≤ 1.2e-3: the O(γ²) terms are below 1e-5 relative.
        let mg = 2.0
            * 2.0
            * Q
            * c
            * 0.25e-9
            * 2e13
            * area
            * (-1.35 / ut).exp()
            * (2.0 * e * 0.25e-9 / (2.0 * ut)).sinh();
        let got = p.ion_current(n, e, t, 1.0);
        assert!(
            close(got, mg, 1e-4),
            "E = {e}: {got:e} vs Mott-Gurney {mg:e}"
        );
        assert!(close(p.ion_current(n, -e, t, 1.0), -mg, 1e-4));
    }
    let e1 = PI * 1.35 / (2.0 * 0.25e-9); // γ = 1
    let (w_min, w_max) = p.barriers(e1);
    assert!(w_min.abs() < 1e-12, "{w_min}");
    assert!(close(w_max, 1.35 * PI, 1e-12), "{w_max}");
}

/// Arrhenius: at a fixed small field the ion current scales as exp(−ΔW_A/kT)·sinh(zEa/2kT).
#[test]
fn ion_current_rises_with_ambient_as_arrhenius() {
    let p = nominal();
    let e = 1e6;
    let r = p.ion_current(1e26, e, 358.15, 1.0) / p.ion_current(1e26, e, 300.0, 1.0);
    let f = |t: f64| {
        let ut = K_B * t / Q;
        (-1.35 / ut).exp() * (2.0 * e * 0.25e-9 / (2.0 * ut)).sinh()
    };
    assert!(close(r, f(358.15) / f(300.0), 1e-4), "{r}");
}

/// State equation dN/dt = −I_ion/(A·l_disc·e·z): SET (V_M < 0, positive v here) raises N,
/// RESET lowers it, and the rate is the ion current so converted.
#[test]
fn state_rate_is_the_ion_current_over_the_disc() {
    let p = nominal();
    let (n, vm, t0) = (0.1e26, -0.6, 293.0);
    let (i, _) = p.current_vm(n, vm);
    let t = p.temperature_at(vm, i, t0);
    let e = p.ion_field(n, vm, i);
    assert!(close(e, i * p.r_disc(n) / 0.4e-9, 1e-12));
    let f_lim = 1.0 - (n / 20e26).powi(10);
    let i_ion = p.ion_current(n, e, t, f_lim);
    let area = PI * 45e-9 * 45e-9;
    let want = -i_ion / (area * 0.4e-9 * Q * 2.0);
    let got = p.n_rate_vm(n, vm, t0);
    assert!(close(got, want, 1e-12), "{got:e} vs {want:e}");
    assert!(got > 0.0, "SET raises N_disc");
    assert!(p.n_rate_vm(1e26, 0.9, t0) < 0.0, "RESET lowers N_disc");
    assert_eq!(p.n_rate_vm(p.n_max, -1.0, t0), 0.0);
    assert_eq!(p.n_rate_vm(p.n_min, 1.0, t0), 0.0);
}

/// The static law at fixed N_disc against an independent fit of the same JART v1b model:
/// aihwkit's `rpu_JART_v1b_device.h` (Z. Yu, FZ Jülich) reads
/// I = g0·(1 − e^(−g1·V))/(1 + (h0 + h1·V + h2·e^(−h3·V))·(N/N_min)^(−j0))^(1/k0)
/// with g0 = 4.84e-3, g1 = 0.1353, h0 = 5.548, h1 = 6.8648, h2 = 51.586, h3 = 0.36,
/// j0 = 1.054, k0 = 1.0526, N_min = 0.008e26, for V_M >= 0. The two fits of the published
/// model agree within 5 % from HRS to LRS.
#[test]
fn static_law_agrees_with_the_aihwkit_fit_of_the_same_model() {
    let p = nominal();
    let aih = |v: f64, n: f64| {
        let h = 5.548 + 6.8648 * v + 51.586 * (-0.36 * v).exp();
        4.84e-3 * (1.0 - (-0.1353 * v).exp())
            / (1.0 + h * (n / 0.008e26).powf(-1.054)).powf(1.0 / 1.0526)
    };
    for vm in [0.1, 0.2, 0.5, 1.0] {
        for n in [0.008e26, 0.06e26, 0.5e26, 2e26, 10e26, 19.9e26] {
            let cell = State { n_disc: n };
            // Here v = −V_M and I = −I_M.
            let (i, _) = p.current(&cell, -vm, 300.0);
            let want = -aih(vm, n);
            assert!(
                close(i, want, 0.05),
                "V_M {vm}, N {n:e}: {i:e} vs aihwkit {want:e}"
            );
        }
    }
}

#[test]
fn current_derivative_is_exact_and_law_is_monotone_in_v() {
    let p = nominal();
    for n in [0.008e26, 0.3e26, 5e26, 20e26] {
        let s = State { n_disc: n };
        let mut prev = f64::NEG_INFINITY;
        for k in -40..=40 {
            let v = k as f64 * 0.075; // ±3 V: through the linear continuation past ±2 V
            let (i, g) = p.current(&s, v, 300.0);
            assert!(
                i.is_finite() && g.is_finite() && g > 0.0,
                "v {v} N {n:e}: {i} {g}"
            );
            assert!(i > prev, "monotone at v {v}, N {n:e}");
            prev = i;
            // h = 1e-4: the ExpLin part of the SET branch cancels to ~1e-3 of its terms, so a
            // smaller step drowns the difference in roundoff.
            let h = 1e-4;
            let fd = (p.current(&s, v + h, 300.0).0 - p.current(&s, v - h, 300.0).0) / (2.0 * h);
            if v.abs() > 2e-4 && (v.abs() - 2.0).abs() > 2e-4 {
                assert!(close(g, fd, 1e-5), "v {v} N {n:e}: {g:e} vs {fd:e}");
            }
        }
        assert_eq!(p.current(&s, 0.0, 300.0).0, 0.0);
    }
}

/// The published sweep (JART_TUD_testbench.m: ±1.3 V triangle at 1 V/s, from the HRS): an
/// abrupt SET and a gradual RESET (the source's R_th scaling k_th = 0.27 exists "for gradual
/// RESET"), both inside the sweep, and every current inside the testbench's plot window
/// 2e-7 A .. 1e-3 A.
#[test]
fn the_published_sweep_sets_abruptly_and_resets_gradually() {
    let p = nominal();
    let mut s = p.initial_state();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let n_pts = 2600;
    let dt = 5.2 / n_pts as f64;
    let v_at = |t: f64| {
        // 0 → +1.3 → −1.3 → 0 in this crate's sign (positive v = SET).
        if t < 1.3 {
            t
        } else if t < 3.9 {
            2.6 - t
        } else {
            t - 5.2
        }
    };
    let mut set_v = None;
    let mut reset_start = None;
    let mut reset_end = None;
    let mut max_i: f64 = 0.0;
    let mut min_i_read = f64::INFINITY;
    for k in 0..n_pts {
        let v = v_at((k as f64 + 0.5) * dt);
        let before = s.n_disc;
        p.advance(&mut s, v, dt, 293.0, &mut rng);
        let (i, _) = p.current(&s, v, 293.0);
        max_i = max_i.max(i.abs());
        if v.abs() > 0.1 {
            min_i_read = min_i_read.min(i.abs());
        }
        if set_v.is_none() && v > 0.0 && s.n_disc > 10.0 * before {
            set_v = Some(v);
        }
        if v < 0.0 && reset_start.is_none() && s.n_disc < 0.9 * p.n_max {
            reset_start = Some(v);
        }
        if v < 0.0 && reset_end.is_none() && s.n_disc < 10.0 * p.n_min {
            reset_end = Some(v);
        }
    }
    let set_v = set_v.expect("no SET in the published sweep");
    assert!(set_v > 0.3 && set_v < 1.3, "SET at {set_v} V");
    let (r0, r1) = (
        reset_start.expect("no RESET"),
        reset_end.expect("RESET incomplete"),
    );
    assert!(r0 < -0.3 && r1 >= -1.3, "RESET from {r0} V to {r1} V");
    // Gradual: the RESET spans more than 50 mV of the sweep, while the SET jumps N by 10x
    // within one 2 mV sample.
    assert!(r0 - r1 > 0.05, "RESET from {r0} to {r1}");
    assert!(
        max_i < 1e-3 && min_i_read > 2e-7,
        "{max_i:e} {min_i_read:e}"
    );
}

#[test]
fn n_disc_stays_within_its_bounds_for_any_step() {
    let p = nominal();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for dt in [1e-9, 1e-6, 1e-3, 1.0, 1e6] {
        let mut s = p.initial_state();
        p.advance(&mut s, 1.5, dt, 300.0, &mut rng);
        assert!(
            s.n_disc >= p.n_min && s.n_disc <= p.n_max,
            "{dt}: {}",
            s.n_disc
        );
        p.advance(&mut s, -1.5, dt, 300.0, &mut rng);
        assert!(
            s.n_disc >= p.n_min && s.n_disc <= p.n_max,
            "{dt}: {}",
            s.n_disc
        );
    }
    // A long SET ends at N_max, a long RESET at N_min.
    let mut s = p.initial_state();
    p.advance(&mut s, 1.2, 1.0, 300.0, &mut rng);
    assert!(close(s.n_disc, p.n_max, 1e-3), "{:e}", s.n_disc);
    p.advance(&mut s, -1.3, 10.0, 300.0, &mut rng);
    assert!(s.n_disc < 1.5 * p.n_min, "{:e}", s.n_disc);
    // No motion at zero bias.
    let before = s;
    p.advance(&mut s, 0.0, 1e6, 300.0, &mut rng);
    assert_eq!(s, before);
}

#[test]
fn card_errors_name_the_key() {
    let text = std::fs::read_to_string(card_path()).unwrap();
    let e = xbarsim::device::parse_card(
        &card_path(),
        &text.replace("r_fil = 45e-9", "r_fil = 60e-9"),
    )
    .unwrap_err();
    assert_eq!(e.key, "r_fil", "{e}");
    let no_nmin: String = text
        .lines()
        .filter(|l| !l.starts_with("n_min"))
        .map(|l| format!("{l}\n"))
        .collect();
    let e = xbarsim::device::parse_card(&card_path(), &no_nmin).unwrap_err();
    assert_eq!(e.key, "n_min", "{e}");
    assert!(e.to_string().contains("missing required"), "{e}");
}

/// What the registry derives: program-and-verify, `--initial`, bias limit, fit defaults.
#[test]
fn the_registry_gives_the_new_family_programming_initial_states_and_limits() {
    let m = load_card(&card_path()).unwrap();
    let mut cell: Cell = m.nominal_cell();
    let (lo, hi) = cell.read_window(0.2).unwrap();
    assert!(lo > 0.0 && hi > 10.0 * lo, "{lo:e} {hi:e}");
    let target = (lo * hi).sqrt();
    let g = xbarsim::crossbar::program::program_read_conductance(&mut cell, target, 0.2, 300.0)
        .unwrap();
    assert!(close(g, target, 1e-9), "{g:e} vs {target:e}");
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    xbarsim::app::device::set_initial(
        &mut cell,
        xbarsim::app::device::Initial::Lrs,
        0.1,
        300.0,
        &mut rng,
    )
    .unwrap();
    assert!(close(cell.state_vars()[0].1, 20e26, 1e-12));
    assert_eq!(xbarsim::app::device::max_bias_v("jart"), 5.0);
    assert!(xbarsim::fit::default_free("jart", xbarsim::fit::ExperimentKind::Iv).is_some());
    assert!(xbarsim::fit::default_card("jart").is_some());
}

/// `xbar fit --family jart` with the family's default free set recovers the barrier and the
/// initial state of a loop simulated from a card with known, different values.
#[test]
fn fit_recovers_barrier_and_initial_state_of_a_simulated_loop() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(card_path())
        .unwrap()
        .replace("dw_a = 1.35 ", "dw_a = 1.33 ")
        .replace("n_ini = 0.008e26", "n_ini = 0.02e26 ");
    let truth = dir.path().join("truth.toml");
    std::fs::write(&truth, text).unwrap();
    let xbar = env!("CARGO_BIN_EXE_xbar");
    let meas = dir.path().join("meas.csv");
    let st = std::process::Command::new(xbar)
        .args(["device", "iv", truth.to_str().unwrap(), "--nominal", "-o"])
        .arg(&meas)
        .status()
        .unwrap();
    assert!(st.success());
    let out = std::process::Command::new(xbar)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "fit",
            "--family",
            "jart",
            "--kind",
            "iv",
            "--no-compliance",
            "--data",
        ])
        .arg(&meas)
        .arg("-o")
        .arg(dir.path().join("fit"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value = |key: &str| -> f64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key},")))
            .and_then(|r| r.split(',').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{key} not in {stdout}"))
    };
    assert!(close(value("dw_a"), 1.33, 1e-4), "{stdout}");
    assert!(close(value("n_ini"), 0.02e26, 1e-3), "{stdout}");
}
