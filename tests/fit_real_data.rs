//! The real-data fits of the main job (`examples/fit_figures.rs`, data in `examples/data/`)
//! reach the RMSE the README states for them, and the fitted cards reproduce the data when
//! run through the device layer's own experiments (`xbar device pulse|retention`).

#[path = "../examples/fit_figures.rs"]
#[allow(dead_code)]
mod fit_figures;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use xbarsim::app::device as cli;
use xbarsim::device::{self, load_card, model_from_params, Model};
use xbarsim::fit::{self, FitReport};

/// RMSE bounds stated in README.md, "Fit your own data" (decades of |I| or G).
const README_RMSE: &[(&str, f64)] = &[
    ("tud-rram-b12-iv-cycles", 0.43),
    ("nbsto-ltd-ltp-pulses", 0.26),
    ("tio2-drift", 0.0018),
    ("rram-relaxation-techC", 0.028),
    ("yflash-d2d-prog-erase", 0.012),
];

fn run(name: &str) -> (FitReport, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let f = fit_figures::real_fits(dir.path())
        .into_iter()
        .find(|f| f.name == name)
        .unwrap();
    let prefix = f.options.prefix.clone();
    let rep = fit::run(&f.options).unwrap();
    let bound = README_RMSE.iter().find(|(n, _)| *n == name).unwrap().1;
    assert!(
        rep.rmse <= bound,
        "{name}: RMSE {} above the README's {bound}\n{rep}",
        rep.rmse
    );
    (rep, prefix.with_extension("card.toml"), dir)
}

/// The fitted card as written, with its noise amplitudes set to 0 as during the fit.
fn fitted(card: &std::path::Path) -> Model {
    let m = load_card(card).unwrap();
    let specs = device::family_specs(m.family()).unwrap();
    let kv: Vec<(String, f64)> = m
        .params()
        .into_iter()
        .map(|(k, v)| {
            let noise = specs
                .iter()
                .any(|s| s.name == k && s.kind == device::card::Kind::C2c && s.range.contains(0.0));
            (k.to_string(), if noise { 0.0 } else { v })
        })
        .collect();
    model_from_params(m.family(), &kv).unwrap()
}

fn log_rmse(a: &[f64], b: &[f64]) -> f64 {
    let s: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x.abs().log10() - y.abs().log10()).powi(2))
        .sum();
    (s / a.len() as f64).sqrt()
}

#[test]
fn tud_rram_iv_fit_reaches_the_readme_rmse_with_negative_set_and_detected_compliance() {
    let (rep, card, _d) = run("tud-rram-b12-iv-cycles");
    assert_eq!(rep.set_polarity, Some(fit::Polarity::Negative));
    let c = rep.compliance_a.unwrap();
    assert!((c / 5e-4 - 1.0).abs() < 1e-3, "compliance {c:e} A");
    assert!(load_card(&card).is_ok());

    // The fitted card through `xbar device iv --waveform` (the measured V(t), mirrored as the
    // fit mirrors it: the model SETs at positive bias) on the bench the fit found: the SMU's
    // compliance clamps the SET polarity only, as in the fit's replay.
    let e = match &rep.experiment {
        fit::Experiment::Iv(e) => e.clone(),
        _ => unreachable!(),
    };
    let s = e.polarity.sign();
    // The second run's time base restarts; no time passes between runs (both rest at 0 V),
    // so it is appended 1 ms after the first run's last sample.
    let mut times = Vec::with_capacity(e.time_s.len());
    let mut offset = 0.0;
    for k in 0..e.time_s.len() {
        if k > 0 && e.new_run[k] {
            assert!(e.v_v[k] == 0.0 && e.v_v[k - 1] == 0.0, "runs join at 0 V");
            offset = times[k - 1] + 1e-3 - e.time_s[k];
        }
        times.push(e.time_s[k] + offset);
    }
    let w = cli::Waveform {
        times_s: times,
        values: e.v_v.iter().map(|v| s * v).collect(),
        current: false,
    };
    let bench = cli::Bench {
        temp_k: e.temp_k,
        series_r_ohm: e.series_r_ohm,
        compliance_a: Some(c),
        ..Default::default()
    };
    let mut cell = fitted(&card).nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let t = cli::waveform_bench(&mut cell, &bench, &w, &mut rng).unwrap();
    let i: Vec<f64> = t.column("i_a").unwrap().iter().map(|i| s * i).collect();
    // The fit's log residual adds its current floor (`--i-floor`, default 1e-12 A) to |I|.
    let floor = |x: &[f64]| x.iter().map(|i| i.abs() + 1e-12).collect::<Vec<_>>();
    let r = log_rmse(&floor(&i), &floor(&e.i_a));
    eprintln!(
        "tud: fit RMSE {} dec, `xbar device iv --waveform` RMSE {r} dec",
        rep.rmse
    );
    assert!(
        r <= 0.43 + 0.01,
        "device-bench replay RMSE {r} above 0.44 decades"
    );
}

#[test]
fn nbsto_pulse_fit_reaches_the_readme_rmse_and_its_card_reproduces_the_data_in_xbar_device_pulse() {
    let (rep, card, _d) = run("nbsto-ltd-ltp-pulses");
    // The same waveform through `xbar device pulse`'s pulse train: 100 pulses at -2 V, then
    // 100 at +2 V, 0.1 s each, read at 0.3 V.
    let mut cell = fitted(&card).nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let t = cli::DEVICE_TEMP_K;
    let down = cli::pulse_train(&mut cell, -2.0, 0.1, 100, 0.3, t, &mut rng).unwrap();
    let up = cli::pulse_train(&mut cell, 2.0, 0.1, 100, 0.3, t, &mut rng).unwrap();
    let g: Vec<f64> = down
        .column("g_s")
        .unwrap()
        .into_iter()
        .chain(up.column("g_s").unwrap().into_iter().skip(1))
        .collect();
    let r = log_rmse(&g, &rep.measured);
    assert!(
        (r - rep.rmse).abs() < 1e-3 * rep.rmse,
        "{r} vs {}",
        rep.rmse
    );
}

#[test]
fn tio2_retention_fit_reaches_the_readme_rmse_and_its_card_reproduces_the_data_in_xbar_device_retention(
) {
    let (rep, card, _d) = run("tio2-drift");
    let times = match &rep.experiment {
        fit::Experiment::Retention(e) => e.time_s.clone(),
        _ => unreachable!(),
    };
    let mut cell = fitted(&card).nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let t = cli::retention(&mut cell, &times, cli::DEVICE_TEMP_K, &mut rng).unwrap();
    let r = log_rmse(&t.column("g_s").unwrap(), &rep.measured);
    assert!(
        (r - rep.rmse).abs() < 1e-6 * rep.rmse.max(1e-12) + 1e-12,
        "{r} vs {}",
        rep.rmse
    );
    // The relaxation is real: the fitted exponent l_rlx/g0 is positive and resolved.
    let l = rep.params.iter().find(|p| p.name == "l_rlx").unwrap();
    assert!(l.ci95_low > 0.0 && l.stderr < 0.5 * l.value, "{rep}");
}

#[test]
fn rram_techc_relaxation_fit_reaches_the_readme_rmse_and_its_card_reproduces_each_cell_in_xbar_device_retention(
) {
    let (rep, card, _d) = run("rram-relaxation-techC");
    let e = match &rep.experiment {
        fit::Experiment::Retention(e) => e.clone(),
        _ => unreachable!(),
    };
    // One `xbar device retention` per cell (the times restart at each cell's programming).
    let model = fitted(&card);
    let mut g = Vec::new();
    let mut k = 0;
    while k < e.time_s.len() {
        let end = (k + 1..e.time_s.len())
            .find(|&j| e.restart[j])
            .unwrap_or(e.time_s.len());
        let mut cell = model.nominal_cell();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let t = cli::retention(&mut cell, &e.time_s[k..end], cli::DEVICE_TEMP_K, &mut rng).unwrap();
        g.extend(t.column("g_s").unwrap());
        k = end;
    }
    assert_eq!(
        e.restart.iter().filter(|r| **r).count(),
        39,
        "39 cells of level 28"
    );
    let r = log_rmse(&g, &rep.measured);
    assert!(
        (r - rep.rmse).abs() < 1e-6 * rep.rmse,
        "{r} vs {}",
        rep.rmse
    );
    // The mean downward drift is resolved: the relaxation exponent's interval excludes 0.
    let l = rep.params.iter().find(|p| p.name == "l_rlx").unwrap();
    assert!(l.ci95_low > 0.0 && l.stderr < 0.5 * l.value, "{rep}");
}

#[test]
fn yflash_erase_fit_reaches_the_readme_rmse_and_its_card_reproduces_the_data_in_xbar_device_pulse()
{
    let (rep, card, _d) = run("yflash-d2d-prog-erase");
    let n = rep.measured.len() - 1;
    let mut cell = fitted(&card).nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let t = cli::pulse_train(&mut cell, 8.0, 1e-4, n, 2.0, 300.0, &mut rng).unwrap();
    let r = log_rmse(&t.column("g_s").unwrap(), &rep.measured);
    assert!(
        (r - rep.rmse).abs() < 1e-3 * rep.rmse,
        "{r} vs {}",
        rep.rmse
    );
}
