//! Parameter recovery: data simulated by the device layer's own experiments (`xbar device
//! iv|pulse|retention`) from known parameters, with seeded noise, are fitted back from a start
//! a factor 3 off; the true values must lie inside the reported 95 % intervals. Noise-free I-V
//! data from the nominal OxRAM card must give g0, v0, i0 within 5 %.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use xbarsim::app::device as cli;
use xbarsim::device::{self, parse_card, Model};
use xbarsim::fit::{self, output::set_card_values, ExperimentKind, FitOptions, FitReport};
use xbarsim::report::Table;

const OXRAM: &str = include_str!("../device-models/oxram-stanford-v1.toml");

/// The OxRAM card without its variability sections (nominal, noise-free device), with `set`.
fn oxram_card(set: &[(&str, f64)]) -> String {
    let cut = OXRAM.find("[variability").unwrap_or(OXRAM.len());
    let kv: Vec<(String, f64)> = set.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    set_card_values("oxram", &OXRAM[..cut], &kv)
}

fn model(text: &str) -> Model {
    parse_card(Path::new("test.toml"), text).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Multiply column `col` by exp(sigma·N(0,1)) (seeded lognormal noise).
fn add_noise(t: &mut Table, col: &str, sigma: f64, seed: u64) {
    let c = t.column_index(col).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = Normal::new(0.0, sigma).unwrap();
    for r in &mut t.rows {
        r[c] *= n.sample(&mut rng).exp();
    }
}

fn assert_inside_ci(rep: &FitReport, truth: &[(&str, f64)]) {
    for (name, value) in truth {
        let p = rep.params.iter().find(|p| p.name == *name).unwrap();
        assert!(
            p.ci95_low <= *value && *value <= p.ci95_high,
            "{name}: true {value:e} outside the 95 % interval [{:e}, {:e}] (fitted {:e} ± {:e})\n{rep}",
            p.ci95_low,
            p.ci95_high,
            p.value,
            p.stderr
        );
    }
}

fn iv_data(card: &str) -> Table {
    let mut cell = model(card).nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    cli::iv_loop(
        &mut cell,
        1.5,
        -1.5,
        1.0,
        401,
        1,
        cli::DEVICE_TEMP_K,
        &mut rng,
    )
    .unwrap()
}

#[test]
fn noise_free_oxram_iv_recovers_g0_v0_i0_within_5_percent_from_a_start_2_to_3_times_off() {
    let dir = tempfile::tempdir().unwrap();
    let truth = oxram_card(&[]);
    let data = dir.path().join("iv.csv");
    iv_data(&truth).write_csv(&data).unwrap();
    // Start: i0 x3, g0 / 2.5, v0 x 2.4.
    let start = write(
        dir.path(),
        "start.toml",
        &oxram_card(&[("i0", 3e-3), ("g0", 0.1e-9), ("v0", 0.6)]),
    );
    let prefix = dir.path().join("fit");
    let mut o = FitOptions::new("oxram", ExperimentKind::Iv, &data, &prefix);
    o.card = Some(start);
    o.free = vec!["g0".into(), "v0".into(), "i0".into()];
    let rep = fit::run(&o).unwrap();
    for (name, value) in [("g0", 0.25e-9), ("v0", 0.25), ("i0", 1e-3)] {
        let p = rep.params.iter().find(|p| p.name == name).unwrap();
        assert!(
            (p.value / value - 1.0).abs() < 0.05,
            "{name}: fitted {:e}, true {value:e}",
            p.value
        );
    }
    // The outputs: exact CSV header, JSON keys, a card that loads and reproduces the data
    // through `xbar device iv`'s own experiment.
    let csv = std::fs::read_to_string(prefix.with_extension("fit.csv")).unwrap();
    assert_eq!(
        csv.lines().next().unwrap(),
        "parameter,value,stderr,ci95_low,ci95_high"
    );
    assert_eq!(csv.lines().count(), 4);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(prefix.with_extension("fit.json")).unwrap())
            .unwrap();
    assert_eq!(rep.set_polarity, Some(fit::Polarity::Positive));
    assert_eq!(json["residual"], "log_abs_i");
    assert_eq!(json["n_points"], 401);
    assert!(json["rmse"].as_f64().unwrap() < 1e-3);
    assert!(json["iterations"].as_u64().unwrap() >= 1);
    assert!(prefix.with_extension("png").exists() && prefix.with_extension("svg").exists());
    let card = prefix.with_extension("card.toml");
    let text = std::fs::read_to_string(&card).unwrap();
    assert!(
        text.contains("sha256 ") && text.contains("# command:"),
        "{text}"
    );
    let replay = cli::device_iv(&card, 1.5, -1.5, 1.0, 401, 0).unwrap();
    let (a, b) = (
        xbarsim::report::read_table(&data)
            .unwrap()
            .column("i_a")
            .unwrap(),
        replay.column("i_a").unwrap(),
    );
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 0.05 * x.abs().max(1e-15), "{x:e} vs {y:e}");
    }
}

#[test]
fn noisy_oxram_iv_recovers_the_true_parameters_inside_the_95_percent_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = iv_data(&oxram_card(&[]));
    add_noise(&mut t, "i_a", 0.03, 7);
    let data = dir.path().join("iv.csv");
    t.write_csv(&data).unwrap();
    let start = write(
        dir.path(),
        "start.toml",
        &oxram_card(&[("i0", 3e-3), ("g0", 0.75e-9), ("v0", 0.0833)]),
    );
    let mut o = FitOptions::new("oxram", ExperimentKind::Iv, &data, &dir.path().join("f"));
    o.card = Some(start);
    o.free = vec!["g0".into(), "v0".into(), "i0".into()];
    let rep = fit::fit(&o).unwrap();
    assert_inside_ci(&rep, &[("g0", 0.25e-9), ("v0", 0.25), ("i0", 1e-3)]);
}

/// Potentiation then depression through `xbar device pulse`'s own pulse train.
fn pulse_data(card: &str, width: f64, n: usize) -> Table {
    let mut cell = model(card).nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let t = cli::DEVICE_TEMP_K;
    let up = cli::pulse_train(&mut cell, 1.5, width, n, 0.1, t, &mut rng).unwrap();
    let down = cli::pulse_train(&mut cell, -1.5, width, n, 0.1, t, &mut rng).unwrap();
    let mut out = Table::new(["pulse", "amplitude_v", "width_s", "g_s"]);
    for (k, r) in up.rows.iter().enumerate() {
        out.push_row(vec![k as f64, 1.5, width, r[1]]).unwrap();
    }
    for (k, r) in down.rows.iter().enumerate().skip(1) {
        out.push_row(vec![(n + k) as f64, -1.5, width, r[1]])
            .unwrap();
    }
    out
}

#[test]
fn noisy_oxram_pulse_trains_recover_the_true_parameters_inside_the_95_percent_intervals() {
    let dir = tempfile::tempdir().unwrap();
    // No field roll-off and no self-heating: each pulse moves the gap by about the same step.
    let base = [("beta", 0.0), ("r_th", 0.0)];
    let mut t = pulse_data(&oxram_card(&base), 2e-10, 40);
    add_noise(&mut t, "g_s", 0.02, 11);
    let data = dir.path().join("pulses.csv");
    t.write_csv(&data).unwrap();
    let start = write(
        dir.path(),
        "start.toml",
        &oxram_card(&[
            ("beta", 0.0),
            ("r_th", 0.0),
            ("vel0", 10.0 / 3.0),
            ("i0", 3e-3),
        ]),
    );
    // With the gap moving by the same step each pulse, only the step over g0 shows in G, so
    // vel0 and g0 are not separately identifiable: g0 stays at its true value.
    let mut o = FitOptions::new("oxram", ExperimentKind::Pulse, &data, &dir.path().join("f"));
    o.card = Some(start);
    o.free = vec!["vel0".into(), "i0".into()];
    let rep = fit::fit(&o).unwrap();
    assert_inside_ci(&rep, &[("vel0", 10.0), ("i0", 1e-3)]);
}

const RELAX: [(&str, f64); 4] = [
    ("g_ini", 0.2e-9),
    ("i0", 1e-5),
    ("vel_rlx", 300.0),
    ("l_rlx", 3e-12),
];

fn retention_times() -> Vec<f64> {
    std::iter::once(0.0)
        .chain((0..=40).map(|k| 10f64.powf(k as f64 / 8.0)))
        .collect()
}

#[test]
fn noisy_oxram_retention_recovers_the_relaxation_law_inside_the_95_percent_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let mut cell = model(&oxram_card(&RELAX)).nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut t = cli::retention(&mut cell, &retention_times(), 300.0, &mut rng).unwrap();
    add_noise(&mut t, "g_s", 0.002, 5);
    let data = dir.path().join("retention.csv");
    t.write_csv(&data).unwrap();
    let start = write(
        dir.path(),
        "start.toml",
        &oxram_card(&[
            ("g_ini", 0.2e-9),
            ("i0", 3e-5),
            ("vel_rlx", 100.0),
            ("l_rlx", 9e-12),
        ]),
    );
    let mut o = FitOptions::new(
        "oxram",
        ExperimentKind::Retention,
        &data,
        &dir.path().join("f"),
    );
    o.card = Some(start);
    o.free = vec!["i0".into(), "vel_rlx".into(), "l_rlx".into()];
    let rep = fit::fit(&o).unwrap();
    assert_inside_ci(&rep, &[("i0", 1e-5), ("vel_rlx", 300.0), ("l_rlx", 3e-12)]);

    // Without --free the documented default set for OxRAM retention is fitted: the same
    // parameters, the same recovery.
    o.free.clear();
    let rep = fit::fit(&o).unwrap();
    let names: Vec<&str> = rep.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        fit::default_free("oxram", ExperimentKind::Retention).unwrap()
    );
    assert_inside_ci(&rep, &[("i0", 1e-5), ("vel_rlx", 300.0), ("l_rlx", 3e-12)]);
}

#[test]
fn every_default_free_set_names_distinct_parameters_of_the_familys_start_card() {
    for fam in ["oxram", "cbram", "fgate", "pcm", "mtj"] {
        let (path, text) = fit::default_card(fam).unwrap();
        let params: Vec<String> = parse_card(Path::new(path), text)
            .unwrap()
            .params()
            .into_iter()
            .map(|(k, _)| k.to_string())
            .collect();
        for kind in [
            ExperimentKind::Iv,
            ExperimentKind::Pulse,
            ExperimentKind::Retention,
        ] {
            let Some(set) = fit::default_free(fam, kind) else {
                continue;
            };
            assert!(!set.is_empty());
            for (k, name) in set.iter().enumerate() {
                assert!(
                    params.iter().any(|p| p == name),
                    "{fam} {}: default free `{name}` is not a card parameter ({params:?})",
                    kind.name()
                );
                assert!(!set[..k].contains(name), "{fam}: `{name}` twice");
            }
        }
    }
    // OxRAM has a default for every kind; an MTJ retention fit needs --free.
    assert!(fit::default_free("mtj", ExperimentKind::Retention).is_none());
}

#[test]
fn a_fit_without_free_and_without_a_default_set_names_the_parameters_to_choose_from() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "r.csv", "time_s,g_s\n0,1e-4\n1,1e-4\n10,1e-4\n");
    let o = FitOptions::new(
        "mtj",
        ExperimentKind::Retention,
        &data,
        &dir.path().join("f"),
    );
    let msg = fit::fit(&o).unwrap_err().to_string();
    assert!(
        msg.contains("no default free set") && msg.contains("--free") && msg.contains("tmr0"),
        "{msg}"
    );
}

#[test]
fn an_unknown_set_or_free_parameter_is_named_with_its_flag_and_the_known_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "r.csv", "time_s,g_s\n0,1e-4\n1,1e-4\n10,1e-4\n");
    let base = FitOptions::new(
        "mtj",
        ExperimentKind::Retention,
        &data,
        &dir.path().join("f"),
    );
    let mut o = base.clone();
    o.set = vec![("bogus".to_string(), 1.0)];
    let msg = fit::fit(&o).unwrap_err().to_string();
    assert!(
        msg.contains("--set bogus: not a mtj parameter") && msg.contains("tmr0"),
        "{msg}"
    );
    let mut o = base;
    o.free = vec!["tmr0".to_string(), "bogus".to_string()];
    let msg = fit::fit(&o).unwrap_err().to_string();
    assert!(
        msg.contains("--free bogus: not a mtj parameter") && msg.contains("tmr0"),
        "{msg}"
    );
}

#[test]
fn oxram_relaxation_follows_the_closed_form_power_law() {
    // dg/dt = v_r·exp(-Ea/kT)·exp(-(g-g_min)/l) from g(0) = g_min gives
    // G(t) = G(0)·(1 + t/τ)^(-l/g0), τ = l/(v_r·exp(-Ea/kT)).
    let m = model(&oxram_card(&RELAX));
    let mut cell = m.nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let times = retention_times();
    let t = cli::retention(&mut cell, &times, 300.0, &mut rng).unwrap();
    let g = t.column("g_s").unwrap();
    let kt: f64 = 1.380649e-23 * 300.0 / 1.602176634e-19;
    let tau = 3e-12 / (300.0 * (-1.0f64 / kt).exp());
    let nu = 3e-12 / 0.25e-9;
    for (time, gk) in times.iter().zip(&g) {
        let expected = g[0] * (1.0 + time / tau).powf(-nu);
        assert!(
            (gk / expected - 1.0).abs() < 1e-9,
            "t = {time} s: {gk:e} vs closed form {expected:e}"
        );
    }
    assert!(g.last().unwrap() < &(0.95 * g[0]), "the law must relax");
    // The default card has no relaxation: its state does not move at zero bias.
    let mut still = model(&oxram_card(&[])).nominal_cell();
    let before = still.state_vars();
    still.advance(0.0, 1e6, 300.0, &mut rng);
    assert_eq!(still.state_vars(), before);
    let _ = device::FAMILIES;
}

#[test]
fn student_t_quantile_matches_the_printed_tables() {
    // Two-sided 95 % points of Student's t, Abramowitz & Stegun Table 26.10.
    for (nu, t) in [(5.0, 2.571), (10.0, 2.228), (30.0, 2.042), (120.0, 1.980)] {
        let q = fit::solve::t95(nu);
        assert!((q - t).abs() < 2e-3, "nu = {nu}: {q} vs {t}");
    }
}

#[test]
fn fitted_values_are_written_into_the_start_card_keeping_comments() {
    let text = "family = \"oxram\"\nsource = \"x\"\n[params]\ni0 = 1e-3 # A\ng0 = 0.25e-9\n\
                [variability.c2c]\ndg0 = 0.02\n";
    let out = set_card_values(
        "oxram",
        text,
        &[
            ("i0".into(), 2e-3),
            ("dg0".into(), 0.0),
            ("vel_rlx".into(), 5.0),
        ],
    );
    assert!(out.contains("i0 = 2e-3 # A"), "{out}");
    assert!(out.contains("[variability.c2c]\ndg0 = 0e0"), "{out}");
    assert!(out.contains("[params]\nvel_rlx = 5e0"), "{out}");
    assert!(out.contains("g0 = 0.25e-9"), "{out}");
}

#[test]
fn iv_replay_with_series_resistance_and_compliance_satisfies_kcl_at_every_point() {
    use xbarsim::fit::experiment::{IvExperiment, Polarity};
    // A frozen device (field gate never opens): the replay is a pure static solve.
    let m = model(&oxram_card(&[("f_min", 1e12), ("g_ini", 0.5e-9)]));
    let cell = m.nominal_cell();
    let v: Vec<f64> = (0..=60).map(|k| -1.5 + 0.05 * k as f64).collect();
    let (r_s, i_c) = (1e3, 2e-4);
    let e = IvExperiment {
        time_s: (0..v.len()).map(|k| k as f64).collect(),
        new_run: (0..v.len()).map(|k| k == 0).collect(),
        v_v: v.clone(),
        i_a: vec![1e-6; v.len()],
        polarity: Polarity::Positive,
        compliance_a: Some(i_c),
        series_r_ohm: r_s,
        temp_k: 300.0,
    };
    let i = e.simulate(&m).unwrap();
    let mut clamped = 0;
    for (v, i) in v.iter().zip(&i) {
        if *v > 0.0 && (i.abs() - i_c).abs() < 1e-12 {
            // On the compliance plateau (SET branch only) the device sees less than V - R·I.
            clamped += 1;
            let (i_full, _) = cell.current(v - r_s * i, 300.0);
            assert!(i_full.abs() >= i_c * (1.0 - 1e-9), "V = {v}: {i_full:e}");
        } else {
            let (i_dev, _) = cell.current(v - r_s * i, 300.0);
            assert!(
                (i_dev - i).abs() <= 1e-9 * i.abs().max(1e-15),
                "KCL at V = {v}: source {i:e}, device {i_dev:e}"
            );
        }
        if *v <= -1.2 {
            assert!(i.abs() > i_c, "no compliance on the RESET branch at {v} V");
        }
    }
    assert!(clamped > 3, "the compliance must act on the SET branch");
}

#[test]
fn set_polarity_is_where_the_conductance_jumps_up_even_from_a_low_resistance_start() {
    use xbarsim::fit::experiment::{detect_set_polarity, Polarity};
    // HRS start: the SET happens on the positive branch of the model's own loop.
    let t = iv_data(&oxram_card(&[]));
    let (v, i) = (t.column("v_v").unwrap(), t.column("i_a").unwrap());
    assert_eq!(detect_set_polarity(&v, &i), Some(Polarity::Positive));
    // Mirrored (a device that SETs at negative bias).
    let (vm, im): (Vec<f64>, Vec<f64>) = v.iter().zip(&i).map(|(v, i)| (-v, -i)).collect();
    assert_eq!(detect_set_polarity(&vm, &im), Some(Polarity::Negative));
    // LRS start: RESET first at negative bias, SET again at positive bias on the next loop.
    let card = oxram_card(&[("g_ini", 0.2e-9)]);
    let mut cell = model(&card).nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let t = cli::iv_loop(&mut cell, 1.5, -1.5, 1.0, 401, 2, 300.0, &mut rng).unwrap();
    let (v, i) = (t.column("v_v").unwrap(), t.column("i_a").unwrap());
    assert_eq!(detect_set_polarity(&v, &i), Some(Polarity::Positive));
}
