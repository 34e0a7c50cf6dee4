//! The lab bench of `xbar device`: series resistor, SMU compliance, 1T1R access transistor,
//! temperature, Monte Carlo, waveform drive and input refusal. Each operating point is checked
//! against Kirchhoff's voltage law with the elements' closed forms written out here.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use xbarsim::app::device::{self as cli, Access, Bench, Initial, Setup};
use xbarsim::device::{load_card, Cell};

fn card(n: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device-models")
        .join(n)
}

fn oxram_lrs() -> Cell {
    let m = load_card(&card("oxram-stanford-v1.toml")).unwrap();
    let mut c = m.nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    cli::set_initial(&mut c, Initial::Lrs, 0.1, 300.0, &mut rng).unwrap();
    c
}

#[test]
fn series_resistor_operating_point_obeys_kvl() {
    let c = oxram_lrs();
    let b = Bench {
        series_r_ohm: 1e3,
        ..Bench::default()
    };
    for vs in [-1.0, -0.3, 0.2, 0.8] {
        let (vc, i) = b.operate(&c, vs);
        let (ic, _) = c.current(vc, 300.0);
        assert!(
            (i - ic).abs() <= 1e-9 * ic.abs().max(1e-12),
            "{vs}: {i} vs {ic}"
        );
        assert!(
            (vs - vc - 1e3 * i).abs() < 1e-9,
            "KVL at {vs}: {vc} + {}",
            1e3 * i
        );
    }
}

#[test]
fn compliance_clamps_the_current_and_the_cell_voltage_falls() {
    let c = oxram_lrs();
    let b = Bench {
        compliance_a: Some(100e-6),
        ..Bench::default()
    };
    let (vc, i) = b.operate(&c, 1.0);
    assert!((i - 100e-6).abs() < 1e-15);
    // The cell carries exactly the compliance at the returned voltage: I0·exp(−g/g0)·sinh(V/V0).
    let (ic, _) = c.current(vc, 300.0);
    assert!(
        (ic / 100e-6 - 1.0).abs() < 1e-9 && vc < 1.0,
        "{vc} V, {ic} A"
    );
    // The RESET polarity is not clamped by it (as in a lab), unless a reset compliance is set.
    let (_, i_neg) = b.operate(&c, -1.0);
    assert!(i_neg < -1e-3, "{i_neg}");
    let both = Bench {
        reset_compliance_a: Some(1e-3),
        ..b
    };
    assert!((both.operate(&c, -1.0).1 + 1e-3).abs() < 1e-15);
    // A whole OxRAM loop never exceeds it on the SET side (without it the default loop
    // reaches ~94 mA).
    let t = cli::device_iv_bench(
        &card("oxram-stanford-v1.toml"),
        &Setup::default(),
        &b,
        1.5,
        -1.5,
        1.0,
        401,
    )
    .unwrap();
    let imax = t
        .column("i_a")
        .unwrap()
        .iter()
        .fold(0.0f64, |m, x| m.max(*x));
    assert!(
        imax <= 100e-6 * (1.0 + 1e-12) && imax > 99e-6,
        "max |I| {imax}"
    );
}

#[test]
fn one_transistor_access_limits_set_current_to_its_saturation_current() {
    let c = oxram_lrs();
    let a = Access::pku(1.2);
    // β/2·(V_G − V_TO)² = 3e-4·0.25 = 75 µA (Shichman-Hodges, λ = 0).
    assert!((a.saturation_current() - 75e-6).abs() < 1e-15);
    let b = Bench {
        access: Some(a),
        ..Bench::default()
    };
    let (vc, i) = b.operate(&c, 1.5);
    assert!(i <= 75e-6 && i > 70e-6, "{i}");
    // KVL: 1.5 V = V_cell + V_DS, with V_DS from I = β(V_ov·V − V²/2) in the linear region, or
    // saturated (V_DS ≥ V_ov) when I is at β/2·V_ov².
    let vds = 1.5 - vc;
    let ov = 0.5;
    let i_mos = if vds < ov {
        6e-4 * (ov * vds - vds * vds / 2.0)
    } else {
        75e-6
    };
    assert!((i_mos / i - 1.0).abs() < 1e-6, "{i_mos} vs {i}");
    // Reverse (RESET polarity): the transistor source is the cell side, never saturated:
    // I = β(V_ov·V + V²/2).
    let (vc, i) = b.operate(&c, -0.5);
    let v = -0.5 - vc; // drop across the transistor (negative)
    let want = -6e-4 * (ov * (-v) + v * v / 2.0);
    assert!((i / want - 1.0).abs() < 1e-6, "{i} vs {want}");
}

#[test]
fn a_bake_at_85_c_follows_the_arrhenius_retention_time() {
    // fgate card: τ = tau_ret0·exp(E_a/kT), E_a = 1.1 eV, tau_ret0 = 1e-7 s; charge decays as
    // exp(−t/τ) at zero bias.
    let setup = Setup {
        nominal: true,
        initial: Initial::Hrs,
        ..Setup::default()
    };
    let t_k = 358.15;
    let b = Bench {
        temp_k: t_k,
        ..Bench::default()
    };
    let tau = 1e-7 * (1.1 * 1.602176634e-19 / (1.380649e-23 * t_k)).exp();
    let times = [0.0, 0.1 * tau, tau];
    let t = cli::device_retention_bench(&card("fgate-flash.toml"), &setup, &b, &times).unwrap();
    let q = t.column("q_fg_c").unwrap();
    for k in 1..3 {
        let want = q[0] * (-times[k] / tau).exp();
        assert!(
            (q[k] / want - 1.0).abs() < 1e-6,
            "t {}: {} vs {want}",
            times[k],
            q[k]
        );
    }
}

#[test]
fn monte_carlo_is_seeded_and_labels_devices() {
    let setup = Setup {
        devices: 4,
        seed: 7,
        ..Setup::default()
    };
    let b = Bench::default();
    let run = || {
        cli::device_pulse_bench(&card("oxram-stanford-v1.toml"), &setup, &b, 1.6, 1e-6, 3).unwrap()
    };
    let (t1, t2) = (run(), run());
    assert_eq!(t1, t2, "same seed, same table");
    assert_eq!(t1.columns[0], "device");
    let d = t1.column("device").unwrap();
    assert_eq!(d.len(), 4 * 4);
    assert_eq!(d[0], 0.0);
    assert_eq!(d[15], 3.0);
    // Devices differ (D2D drawn), unless --nominal.
    let g = t1.column("g_s").unwrap();
    assert!(g[0] != g[4]);
    let nominal = Setup {
        nominal: true,
        ..setup.clone()
    };
    let tn = cli::device_pulse_bench(&card("oxram-stanford-v1.toml"), &nominal, &b, 1.6, 1e-6, 3)
        .unwrap();
    let gn = tn.column("g_s").unwrap();
    assert_eq!(gn[0], gn[4]);
}

#[test]
fn a_voltage_waveform_of_the_triangle_reproduces_the_sweep() {
    // Two routes to the same drive: the built-in triangle and a CSV holding its corners.
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("tri.csv");
    std::fs::write(&w, "time_s,v_v\n0,0\n0.25,1.5\n0.75,-1.5\n1,0\n").unwrap();
    let setup = Setup {
        nominal: true,
        ..Setup::default()
    };
    let b = Bench::default();
    let wave = cli::device_waveform(
        &card("oxram-stanford-v1.toml"),
        &setup,
        &b,
        &cli::read_waveform(&w).unwrap(),
    )
    .unwrap();
    let sweep = cli::device_iv_bench(
        &card("oxram-stanford-v1.toml"),
        &setup,
        &b,
        1.5,
        -1.5,
        1.0,
        5,
    )
    .unwrap();
    let (gw, gs) = (
        wave.column("gap_m").unwrap(),
        sweep.column("gap_m").unwrap(),
    );
    // Same sample instants (0, 1/4, 1/2, 3/4, 1 of the period) but the waveform has 4 rows
    // (corners only); compare the shared instants 0, 0.25, 0.75, 1.
    for (kw, ks) in [(0, 0), (1, 1), (3, 4)] {
        assert!(
            (gw[kw] - gs[ks]).abs() < 0.02e-9,
            "row {kw}: {} vs {}",
            gw[kw],
            gs[ks]
        );
    }
}

#[test]
fn nonsense_input_is_refused_with_a_clear_message() {
    let b = Bench::default();
    let s = Setup::default();
    let ox = card("oxram-stanford-v1.toml");
    let e = |r: Result<xbarsim::report::Table, cli::DeviceCliError>| r.unwrap_err().to_string();
    assert!(e(cli::device_pulse_bench(&ox, &s, &b, 1.5, -1.0, 3)).contains("must be > 0"));
    assert!(e(cli::device_iv_bench(&ox, &s, &b, 1.5, -1.5, 0.0, 401)).contains("must be > 0"));
    assert!(e(cli::device_iv_bench(&ox, &s, &b, 100.0, -1.5, 1.0, 401)).contains("breakdown"));
    assert!(e(cli::device_iv_bench(&ox, &s, &b, 1e300, -1.5, 1.0, 401)).contains("breakdown"));
    assert!(e(cli::device_iv_bench(&ox, &s, &b, 1.5, -1.5, 1e300, 401)).contains("<= 1e6"));
    let hot = Bench { temp_k: -5.0, ..b };
    assert!(e(cli::device_iv_bench(&ox, &s, &hot, 1.5, -1.5, 1.0, 401)).contains("temperature"));
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w.csv");
    std::fs::write(&w, "time_s,v_v\n0,0\n1e-3,abc\n").unwrap();
    let msg = cli::read_waveform(&w).unwrap_err().to_string();
    assert!(msg.contains("w.csv:3"), "{msg}");
    assert!("bogus".parse::<Initial>().is_err());
}
