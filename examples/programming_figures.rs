//! Programming inside the array: write-verify traces per scheme, pulses-to-converge
//! histograms, the final-error map of an ISPP-programmed 32×32 1T1R array, the disturb map of
//! one half-selected write, STDP windows of OxRAM and PCM beside the fitted pair rule, the
//! winner-take-all STDP network demo, and the RADAR ISPP replay against the measured logs
//! (`../shared/data/radar-ispp-3bpc`, skipped with a notice where absent).
//!
//! ```text
//! cargo run --release --example programming_figures
//! ```
//! Writes `notebooks-out/programming_*.{csv,svg,png}`.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xbarsim::crossbar::output::write_text_atomic;
use xbarsim::crossbar::program::read_window;
use xbarsim::crossbar::{CellKind, Crossbar};
use xbarsim::device::load_card;
use xbarsim::plot::{write_heat_map, write_line_plot, HeatMap, LinePlot, Series, SeriesStyle};
use xbarsim::programming::commands::apply_pulse;
use xbarsim::programming::config::{load_config, StdpCfg};
use xbarsim::programming::stdp::{
    demo_patterns, network_spikes, set_all, train_network, window, NetworkSpec, PairRule,
};
use xbarsim::programming::verify::{program_array, Plan, Scheme};
use xbarsim::programming::{Pwl, Unselected};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir() -> PathBuf {
    root().join("notebooks-out")
}

pub fn main() -> Result<(), Box<dyn Error>> {
    // XBAR_PROGRAMMING_ONLY=write_verify|families|disturb|stdp|network|radar runs one part.
    let only = std::env::var("XBAR_PROGRAMMING_ONLY").ok();
    let run = |name: &str| only.as_deref().is_none_or(|o| o == name);
    let t = std::time::Instant::now();
    let parts: [(&str, fn() -> Result<(), Box<dyn Error>>); 6] = [
        ("write_verify", write_verify_figures),
        ("families", family_traces),
        ("disturb", disturb_map),
        ("stdp", stdp_windows),
        ("network", network_demo),
        ("radar", radar_replay),
    ];
    for (name, f) in parts {
        if run(name) {
            f()?;
            eprintln!(
                "programming: {name} done at {:.1} s",
                t.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// Uniform targets inside the card's nominal window less 10 % at each end (D2D moves each
/// cell's own window).
fn targets(xb: &Crossbar, seed: u64) -> Vec<f64> {
    let (lo, hi) = read_window(&xb.card.as_ref().unwrap().nominal_cell(), xb.v_read).unwrap();
    let (lo, hi) = (1.1 * lo, 0.9 * hi);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..xb.rows * xb.phys_cols())
        .map(|_| lo + rng.random_range(0.0..1.0) * (hi - lo))
        .collect()
}

fn write_verify_figures() -> Result<(), Box<dyn Error>> {
    let cfg = root().join("examples/configs/program_1t1r_oxram.toml");
    let loaded = load_config(&cfg)?;
    // Traces and histograms: the three schemes on the same 8×8 corner of the 1T1R config.
    let mut small = loaded.xb.clone();
    small.rows = 8;
    small.cols = 8;
    small.g.truncate(64);
    let pc = loaded.xb.phys_cols();
    small.cells = (0..64)
        .map(|k| loaded.xb.cells[(k / 8) * pc + k % 8].clone())
        .collect();
    small.g = small
        .cells
        .iter()
        .map(|c| c.read_conductance(small.v_read, small.temp_k))
        .collect();
    let tg = targets(&small, 3);
    let mut traces = Vec::new();
    let mut hist = Vec::new();
    let mut csv = String::from("scheme,row,col,target_s,final_s,pulses,success,energy_j\n");
    for scheme in [Scheme::Ispp, Scheme::Alibart, Scheme::Fixed] {
        // Every scheme with the config's defaults (Alibart and fixed: `alibart_*`, `fixed_*`).
        let plan = Plan::new(scheme, &loaded.program, 5)?;
        let mut xb = small.clone();
        let rep = program_array(&mut xb, &tg, &plan, false)?;
        println!("programming 8×8 1T1R, {}:\n{rep}", scheme.name());
        for c in &rep.cells {
            csv += &format!(
                "{},{},{},{:.6e},{:.6e},{},{},{:.4e}\n",
                scheme.name(),
                c.row,
                c.col,
                c.target_s,
                c.final_s,
                c.pulses,
                u8::from(c.success),
                c.energy_j
            );
        }
        for c in rep.cells.iter().take(3) {
            let pts = c
                .trace
                .iter()
                .enumerate()
                .map(|(k, g)| (k as f64, *g))
                .collect();
            traces.push(Series::new(
                format!(
                    "{} ({},{}) target {:.3e} S",
                    scheme.name(),
                    c.row,
                    c.col,
                    c.target_s
                ),
                pts,
                SeriesStyle::line_and_markers(),
            ));
        }
        let max = rep.cells.iter().map(|c| c.pulses).max().unwrap_or(1);
        let bin = (max / 20).max(1);
        let mut counts = vec![0usize; max / bin + 1];
        for c in &rep.cells {
            counts[c.pulses / bin] += 1;
        }
        let pts = counts
            .iter()
            .enumerate()
            .map(|(k, n)| ((k * bin) as f64 + 0.5 * bin as f64, *n as f64))
            .collect();
        hist.push(Series::new(
            format!(
                "{} (success {:.0} %)",
                scheme.name(),
                100.0 * rep.success_rate()
            ),
            pts,
            SeriesStyle::line_and_markers(),
        ));
    }
    write_text_atomic(&out_dir().join("programming_schemes_8x8_1t1r.csv"), &csv)?;
    write_line_plot(
        &LinePlot {
            title: "Write-verify traces, 8×8 1T1R OxRAM (3 cells per scheme)".into(),
            x_label: "pulse number".into(),
            y_label: "read conductance at 0.2 V (S)".into(),
            y_log: true,
            series: traces,
            ..Default::default()
        },
        &out_dir().join("programming_traces"),
    )?;
    write_line_plot(
        &LinePlot {
            title: "Pulses to converge, 8×8 1T1R OxRAM, 5 % window".into(),
            x_label: "pulses (bin centre)".into(),
            y_label: "cells".into(),
            series: hist,
            ..Default::default()
        },
        &out_dir().join("programming_pulses_histogram"),
    )?;

    // Final-error map: ISPP over the whole 32×32 1T1R array.
    let mut xb = loaded.xb.clone();
    let tg = targets(&xb, 21);
    let plan = Plan::new(Scheme::Ispp, &loaded.program, 1)?;
    let rep = program_array(&mut xb, &tg, &plan, true)?;
    println!("programming 32×32 1T1R, ISPP:\n{rep}");
    write_text_atomic(
        &out_dir().join("programming_ispp_32x32_1t1r.program.csv"),
        &xbarsim::programming::commands::program_csv(&rep),
    )?;
    let data: Vec<Vec<f64>> = (0..xb.rows)
        .map(|i| {
            (0..pc)
                .map(|j| 100.0 * rep.rel_errors()[i * pc + j])
                .collect()
        })
        .collect();
    let mut hm = HeatMap::new(
        format!(
            "ISPP final error, 32×32 1T1R OxRAM, 1 Ω segments ({:.1} % in ±5 %)",
            100.0 * rep.success_rate()
        ),
        data,
    );
    hm.x_label = "bit line (column)".into();
    hm.y_label = "word line (row)".into();
    hm.colorbar_label = "(G − G_T)/G_T (%)".into();
    hm.color_range = Some((-10.0, 10.0));
    write_heat_map(&hm, &out_dir().join("programming_final_error_map"))?;
    Ok(())
}

/// ISPP with each family's `[program]` defaults on its 8×8 example array
/// (`examples/configs/program_{1t1r_mtj,1t1r_cbram,1t1r_pcm,0t1r_fgate}.toml`), the weights of
/// `program_targets_8.csv`: G/G_T against pulse number for the two cells needing the most
/// pulses per family, and the success rates in `programming_families.csv`.
fn family_traces() -> Result<(), Box<dyn Error>> {
    let weights = root().join("examples/configs/program_targets_8.csv");
    let mut series = Vec::new();
    let mut csv = String::from("family,config,cells,success_rate,mean_pulses,p95_pulses\n");
    for (family, config) in [
        ("mtj", "program_1t1r_mtj.toml"),
        ("cbram", "program_1t1r_cbram.toml"),
        ("pcm", "program_1t1r_pcm.toml"),
        ("fgate", "program_0t1r_fgate.toml"),
    ] {
        let loaded = load_config(&root().join("examples/configs").join(config))?;
        let mut xb = loaded.xb.clone();
        let tg = xbarsim::programming::commands::read_targets(&xb, Some(&weights), None)?;
        let plan = Plan::new(Scheme::Ispp, &loaded.program, xb.seed)?;
        let rep = program_array(&mut xb, &tg, &plan, false)?;
        println!("programming 8×8 {family} ({config}), ISPP:\n{rep}");
        csv += &format!(
            "{family},{config},{},{:.4},{:.2},{}\n",
            rep.cells.len(),
            rep.success_rate(),
            rep.mean_pulses(),
            rep.pulses_percentile(95.0)
        );
        let mut by_pulses: Vec<_> = rep.cells.iter().collect();
        by_pulses.sort_by_key(|c| std::cmp::Reverse(c.pulses));
        for c in by_pulses.iter().take(2) {
            let pts = c
                .trace
                .iter()
                .enumerate()
                .map(|(k, g)| (k as f64, g / c.target_s))
                .collect();
            series.push(Series::new(
                format!("{family} ({},{}) G_T {:.2e} S", c.row, c.col, c.target_s),
                pts,
                SeriesStyle::line_and_markers(),
            ));
        }
    }
    write_text_atomic(&out_dir().join("programming_families.csv"), &csv)?;
    write_line_plot(
        &LinePlot {
            title: "ISPP write-verify per family, 8×8 arrays, 1 Ω segments (2 slowest cells each)"
                .into(),
            x_label: "pulse number".into(),
            y_label: "G / G_target (read)".into(),
            y_log: true,
            series,
            ..Default::default()
        },
        &out_dir().join("programming_families_traces"),
    )?;
    Ok(())
}

fn disturb_map() -> Result<(), Box<dyn Error>> {
    let cfg = root().join("examples/configs/program_0t1r_oxram.toml");
    let mut xb = load_config(&cfg)?.xb;
    set_all(&mut xb, 2e-5)?;
    let (row, col, v) = (8, 8, 2.4);
    let (before, (e, _), _) = apply_pulse(
        &mut xb,
        row,
        col,
        &Pwl::pulse(v, 20e-9, 0.0),
        0.0,
        Unselected::Half,
        1,
    )?;
    let pc = xb.phys_cols();
    let data: Vec<Vec<f64>> = (0..xb.rows)
        .map(|i| {
            (0..pc)
                .map(|j| {
                    let k = i * pc + j;
                    let d = xb.cells[k].read_conductance(xb.v_read, xb.temp_k) / before[k] - 1.0;
                    d.abs().max(1e-9)
                })
                .collect()
        })
        .collect();
    let mut hm = HeatMap::new(
        format!("V/2 write disturb: {v} V, 20 ns on (8,8), 16×16 0T1R, 1 Ω"),
        data,
    );
    hm.x_label = "bit line (column)".into();
    hm.y_label = "word line (row)".into();
    hm.colorbar_label = "|ΔG/G| (floor 1e-9)".into();
    hm.log_color = true;
    write_heat_map(&hm, &out_dir().join("programming_disturb_map"))?;
    println!("disturb map: pulse energy {e:.3e} J");
    Ok(())
}

fn stdp_windows() -> Result<(), Box<dyn Error>> {
    let mut series = Vec::new();
    let mut csv = String::from("family,dt_s,dg_rel,pair_rule_rel\n");
    for (card, name) in [
        ("oxram-stanford-v1.toml", "OxRAM"),
        ("pcm_gst_mushroom.toml", "PCM"),
    ] {
        let model = Arc::new(load_card(&root().join("device-models").join(card))?);
        let mut xb = Crossbar::new(4, 4);
        xb.cell = CellKind::ZeroT1R;
        xb.r_row = 1.0;
        xb.r_col = 1.0;
        let cell = model.nominal_cell();
        // PCM: the card's R_RESET … R_SET (4 MΩ … 40 kΩ).
        let (lo, hi) = read_window(&cell, 0.2).unwrap_or((1.0 / 4e6, 1.0 / 40e3));
        xb.g_min = lo.max(1e-7);
        xb.g_max = hi;
        xb.g = vec![(lo * hi).sqrt(); 16];
        xb.use_card(model.clone())?;
        let cfg = StdpCfg::default_for(model.family());
        let w = cfg.pre.width().max(cfg.post.width());
        let dts: Vec<f64> = (0..81)
            .map(|k| -3.0 * w + 6.0 * w * k as f64 / 80.0)
            .collect();
        let pts = window(&xb, &cfg, &dts, 1)?;
        let g0 = pts.first().map_or(1.0, |p| p.dg_s / p.dg_rel.max(1e-300));
        let fit = PairRule::fit(&pts);
        for p in &pts {
            let r = fit.map_or(f64::NAN, |f| f.eval(p.dt_s) / g0.abs());
            csv += &format!("{name},{:.6e},{:.6e},{:.6e}\n", p.dt_s, p.dg_rel, r);
        }
        series.push(Series::new(
            format!("{name} device (spike width {:.0} ns)", w * 1e9),
            pts.iter().map(|p| (p.dt_s / w, p.dg_rel)).collect(),
            SeriesStyle::line_and_markers(),
        ));
        if let Some(f) = fit {
            println!(
                "STDP {name}: A+ = {:.3e} S, τ+ = {:.3e} s, A− = {:.3e} S, τ− = {:.3e} s",
                f.a_plus, f.tau_plus, f.a_minus, f.tau_minus
            );
            let g_ref = pts
                .iter()
                .find(|p| p.dg_rel != 0.0)
                .map_or(1.0, |p| p.dg_s / p.dg_rel);
            series.push(Series::new(
                format!("{name} fitted pair rule"),
                dts.iter().map(|&d| (d / w, f.eval(d) / g_ref)).collect(),
                SeriesStyle::dashed(),
            ));
        } else {
            println!("STDP {name}: pair rule not fitted (too few non-zero points on a side)");
        }
    }
    write_text_atomic(&out_dir().join("programming_stdp_windows.csv"), &csv)?;
    write_line_plot(
        &LinePlot {
            title: "STDP window from spike overlap (cell (0,0) of a 4×4 0T1R array)".into(),
            x_label: "Δt = t_post − t_pre (spike widths)".into(),
            y_label: "ΔG / G".into(),
            series,
            ..Default::default()
        },
        &out_dir().join("programming_stdp_windows"),
    )?;
    Ok(())
}

fn network_demo() -> Result<(), Box<dyn Error>> {
    let model = Arc::new(load_card(
        &root().join("device-models/oxram-stanford-v1.toml"),
    )?);
    let mut xb = Crossbar::new(64, 3);
    xb.seed = 4;
    let (lo, hi) = read_window(&model.nominal_cell(), 0.2).unwrap();
    xb.g_min = 2.0 * lo;
    xb.g_max = 0.5 * hi;
    xb.g = vec![xb.g_min; 64 * 3];
    xb.use_card(model)?;
    let cfg = network_spikes(&StdpCfg::default_for("oxram"));
    let spec = NetworkSpec::demo();
    let g_init = (xb.g_min * xb.g_max).sqrt();
    let res = train_network(&xb, &cfg, &spec, g_init)?;
    // Images: the 3 columns side by side, one blank column between.
    let mut data = vec![vec![f64::NAN; 8 * 3 + 2]; 8];
    for j in 0..3 {
        let img = res.image(j);
        for r in 0..8 {
            for c in 0..8 {
                data[r][j * 9 + c] = img[r][c];
            }
        }
    }
    let mut hm = HeatMap::new(
        "STDP-trained weights, 64×3 OxRAM array, winner-take-all (columns 0 | 1 | 2)",
        data,
    );
    hm.x_label = "pixel column (per output)".into();
    hm.y_label = "pixel row".into();
    hm.colorbar_label = "G at 0.2 V (S)".into();
    hm.log_color = true;
    write_heat_map(&hm, &out_dir().join("programming_stdp_network_weights"))?;
    let mut counts = vec![vec![0usize; 3]; 3];
    for (p, j) in res.winners.iter().skip(spec.presentations / 2).flatten() {
        counts[*p][*j] += 1;
    }
    println!("STDP network, second half of training: wins per (pattern, column) = {counts:?}");
    let pats = demo_patterns();
    for (pi, pat) in pats.iter().enumerate() {
        let x: Vec<f64> = pat.iter().map(|&b| f64::from(u8::from(b))).collect();
        let cors: Vec<f64> = (0..3)
            .map(|j| {
                let w: Vec<f64> = (0..64).map(|i| res.g[i * 3 + j]).collect();
                let (mx, mw) = (x.iter().sum::<f64>() / 64.0, w.iter().sum::<f64>() / 64.0);
                let c: f64 = x.iter().zip(&w).map(|(a, b)| (a - mx) * (b - mw)).sum();
                let sx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum::<f64>().sqrt();
                let sw: f64 = w.iter().map(|b| (b - mw).powi(2)).sum::<f64>().sqrt();
                c / (sx * sw)
            })
            .collect();
        println!("pattern {pi}: correlation with columns {cors:.3?}");
    }
    let mut csv = String::from("input,output,g_s\n");
    for i in 0..64 {
        for j in 0..3 {
            csv += &format!("{i},{j},{:.6e}\n", res.g[i * 3 + j]);
        }
    }
    write_text_atomic(
        &out_dir().join("programming_stdp_network_weights.csv"),
        &csv,
    )?;
    Ok(())
}

/// RADAR (Levy et al., IEEE TED 2021): SET by word-line (gate) steps of 0.01, 0.05, 0.1 V with
/// verify, RESET on overshoot, 8 resistance levels. Replayed on a 16×8 1T1R OxRAM array with
/// the measured target windows of the first 128 cells of each log.
fn radar_replay() -> Result<(), Box<dyn Error>> {
    let data = root().join("../shared/data/radar-ispp-3bpc/ispp_3bpc.csv");
    if !data.exists() {
        eprintln!("notice: {} not found; RADAR replay skipped", data.display());
        return Ok(());
    }
    let rows = read_radar(&data)?;
    let cfg = root().join("examples/configs/program_1t1r_oxram.toml");
    let loaded = load_config(&cfg)?;
    let steps = [0.01, 0.05, 0.1];
    let (mut meas_p, mut meas_s, mut sim_p, mut sim_s) = (vec![], vec![], vec![], vec![]);
    let mut csv = String::from("wl_step_v,source,mean_pulses,success_rate\n");
    for &step in &steps {
        let m: Vec<&RadarRow> = rows
            .iter()
            .filter(|r| (r.step - step).abs() < 1e-6)
            .collect();
        let mp = m.iter().map(|r| r.pulses as f64).sum::<f64>() / m.len() as f64;
        let ms = m.iter().filter(|r| r.success).count() as f64 / m.len() as f64;
        // The simulated array: a 16×8 corner of the config, the first 128 measured windows.
        let mut xb = loaded.xb.clone();
        let pc0 = xb.phys_cols();
        xb.rows = 16;
        xb.cols = 8;
        xb.cells = (0..128)
            .map(|k| loaded.xb.cells[(k / 8) * pc0 + k % 8].clone())
            .collect();
        xb.g = xb
            .cells
            .iter()
            .map(|c| c.read_conductance(xb.v_read, xb.temp_k))
            .collect();
        let win: Vec<(f64, f64)> = m
            .iter()
            .take(128)
            .map(|r| {
                (
                    1.0 / r.r_hi,
                    if r.r_lo > 0.0 {
                        1.0 / r.r_lo
                    } else {
                        f64::INFINITY
                    },
                )
            })
            .collect();
        let tg: Vec<f64> = win
            .iter()
            .map(|(lo, hi)| {
                if hi.is_finite() {
                    (lo * hi).sqrt()
                } else {
                    2.0 * lo
                }
            })
            .collect();
        let mut pcfg = loaded.program.clone();
        pcfg.set_gate_step = step;
        pcfg.budget = 400;
        let mut plan = Plan::new(Scheme::Ispp, &pcfg, 7)?;
        plan.windows = Some(win);
        let rep = program_array(&mut xb, &tg, &plan, false)?;
        println!("RADAR replay, WL step {step} V: measured {mp:.1} pulses, {:.1} % success; simulated {:.1} pulses, {:.1} % success", 100.0 * ms, rep.mean_pulses(), 100.0 * rep.success_rate());
        csv += &format!(
            "{step},measured,{mp:.4},{ms:.4}\n{step},simulated,{:.4},{:.4}\n",
            rep.mean_pulses(),
            rep.success_rate()
        );
        meas_p.push((step, mp));
        meas_s.push((step, 100.0 * ms));
        sim_p.push((step, rep.mean_pulses()));
        sim_s.push((step, 100.0 * rep.success_rate()));
    }
    write_text_atomic(&out_dir().join("programming_radar_replay.csv"), &csv)?;
    write_line_plot(
        &LinePlot {
            title: "RADAR ISPP: pulses to converge vs word-line step".into(),
            x_label: "WL (gate) step (V)".into(),
            y_label: "mean pulses per cell".into(),
            series: vec![
                Series::new(
                    "measured (Levy et al. 2021, 2048 cells)",
                    meas_p,
                    SeriesStyle::line_and_markers(),
                ),
                Series::new(
                    "simulated 16×8 1T1R OxRAM, same windows",
                    sim_p,
                    SeriesStyle::line_and_markers(),
                ),
            ],
            ..Default::default()
        },
        &out_dir().join("programming_radar_pulses"),
    )?;
    write_line_plot(
        &LinePlot {
            title: "RADAR ISPP: success rate vs word-line step".into(),
            x_label: "WL (gate) step (V)".into(),
            y_label: "cells ending in their window (%)".into(),
            series: vec![
                Series::new(
                    "measured (Levy et al. 2021)",
                    meas_s,
                    SeriesStyle::line_and_markers(),
                ),
                Series::new(
                    "simulated 16×8 1T1R OxRAM",
                    sim_s,
                    SeriesStyle::line_and_markers(),
                ),
            ],
            ..Default::default()
        },
        &out_dir().join("programming_radar_success"),
    )?;
    Ok(())
}

struct RadarRow {
    step: f64,
    pulses: usize,
    r_lo: f64,
    r_hi: f64,
    success: bool,
}

fn read_radar(path: &Path) -> Result<Vec<RadarRow>, Box<dyn Error>> {
    let text = std::fs::read_to_string(path)?;
    let mut out = Vec::new();
    for (ln, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let num = |k: usize| -> Result<f64, Box<dyn Error>> {
            f.get(k)
                .and_then(|s| s.trim().parse::<f64>().ok())
                .ok_or_else(|| {
                    format!(
                        "{}:{}: column {} is not a number",
                        path.display(),
                        ln + 1,
                        k + 1
                    )
                    .into()
                })
        };
        out.push(RadarRow {
            step: num(0)?,
            pulses: (num(3)? + num(4)?) as usize,
            r_lo: num(7)?,
            r_hi: num(8)?,
            success: num(9)? == 1.0,
        });
    }
    Ok(out)
}
