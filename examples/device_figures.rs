//! Device figures (CSV + SVG + PNG in notebooks-out/): I-V loops per family, PCM drift, MTJ
//! switching probability, conductance vs pulse number. Run with
//! `cargo run --example device_figures`.
//!
//! pcm_stat is a statistical inference model without bias-driven dynamics, so it has no I-V
//! loop (its I-V is the line I = g·V); its drift appears in `device retention` instead.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use xbarsim::device::mram::{switching_probability_table, MtjOrientation};
use xbarsim::device::pcm::drift_curves;
use xbarsim::device::{cli, load_card, Cell, Model};
use xbarsim::plot::{write_line_plot, LinePlot, Series, SeriesStyle};
use xbarsim::report::Table;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn card(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device-models")
        .join(name)
}

fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks-out")
}

fn plot(title: &str, x: &str, y: &str, x_log: bool, y_log: bool, series: Vec<Series>) -> LinePlot {
    LinePlot {
        title: title.into(),
        x_label: x.into(),
        y_label: y.into(),
        x_log,
        y_log,
        series,
    }
}

fn save(stem: &str, table: &Table, p: &LinePlot) -> Res<()> {
    let dir = out_dir();
    table.write_csv(&dir.join(format!("{stem}.csv")))?;
    let o = write_line_plot(p, &dir.join(stem))?;
    println!("wrote {} (+ .svg, .csv)", o.png.display());
    Ok(())
}

/// I-V hysteresis loops (two cycles), log |I| vs V.
fn iv_figures() -> Res<()> {
    for (family, file, title) in [
        (
            "oxram",
            "oxram-stanford-v1.toml",
            "OxRAM (Stanford-PKU) I-V",
        ),
        ("cbram", "cbram-yu-wong.toml", "CBRAM (Yu-Wong) I-V"),
        ("pcm", "pcm_gst_mushroom.toml", "PCM (GST mushroom) I-V"),
        ("mtj", "mtj_pma_cheng2014.toml", "STT-MTJ (PMA) I-V"),
        (
            "fgate",
            "fgate-flash.toml",
            "Floating-gate cell I-V (V_cg = 2.5 V)",
        ),
    ] {
        let model = load_card(&card(file))?;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut cell = model.instantiate(&mut rng);
        let (vmax, vmin, period) = cli::iv_defaults(family);
        let points = 401;
        let t = cli::iv_loop(
            &mut cell,
            vmax,
            vmin,
            period,
            points,
            2,
            cli::DEVICE_TEMP_K,
            &mut rng,
        )?;
        let mut series = Vec::new();
        for cyc in 0..2 {
            let pts: Vec<(f64, f64)> = t.rows[cyc * (points - 1)..=(cyc + 1) * (points - 1)]
                .iter()
                .map(|r| (r[1], r[2].abs()))
                .collect();
            let style = if cyc == 0 {
                SeriesStyle::line()
            } else {
                SeriesStyle::dashed()
            };
            series.push(Series::new(format!("cycle {}", cyc + 1), pts, style));
        }
        let p = plot(
            &format!("{title}, sweep 0→{vmax} V→{vmin} V→0 in {period:e} s"),
            "cell voltage V (V)",
            "|I| (A)",
            false,
            true,
            series,
        );
        save(&format!("device_iv_{family}"), &t, &p)?;
    }
    println!("pcm_stat: no I-V figure (statistical model, no bias-driven dynamics)");
    Ok(())
}

/// PCM drift of several programmed levels: median read resistance of 25 devices vs time.
fn drift_figure() -> Res<()> {
    let Model::Pcm(c) = load_card(&card("pcm_gst_mushroom.toml"))? else {
        return Err("not a pcm card".into());
    };
    let times: Vec<f64> = (0..=30).map(|k| 10f64.powf(k as f64 * 0.2)).collect();
    let mut table = Table::new(["time_s"]);
    let mut columns: Vec<Vec<f64>> = Vec::new();
    let mut series = Vec::new();
    for (k, &x) in [1.0, 0.6, 0.3, 0.1].iter().enumerate() {
        let curves = drift_curves(&c.nominal, x, 25, &times, 0.1, 300.0, 11 + k as u64);
        let med: Vec<f64> = curves
            .iter()
            .map(|(_, rs)| {
                let mut v = rs.clone();
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            })
            .collect();
        table.columns.push(format!("r_median_x{x}_ohm"));
        series.push(Series::new(
            format!("amorphous fraction {x}"),
            times.iter().copied().zip(med.iter().copied()).collect(),
            SeriesStyle::line_and_markers(),
        ));
        columns.push(med);
    }
    for (i, t) in times.iter().enumerate() {
        let mut r = vec![*t];
        r.extend(columns.iter().map(|c| c[i]));
        table.push_row(r)?;
    }
    let p = plot(
        "PCM drift: median read resistance (25 devices, 0.1 V read)",
        "time since RESET quench (s)",
        "read resistance (Ω)",
        true,
        true,
        series,
    );
    save("device_pcm_drift", &table, &p)
}

/// MTJ AP→P switching probability vs pulse width at several currents (multiples of Ic).
fn mtj_figure() -> Res<()> {
    let Model::Mtj(c) = load_card(&card("mtj_pma_cheng2014.toml"))? else {
        return Err("not an mtj card".into());
    };
    let m = &c.nominal;
    let ic = m.critical_current(MtjOrientation::AntiParallel);
    // Between Ic and about 2.5 Ic the rate sits on its 1/τ0 floor (mram.rs), so those
    // currents share one curve; 1 Ic stands for them.
    let mults = [0.7, 0.8, 0.9, 1.0, 4.0, 8.0];
    let currents: Vec<f64> = mults.iter().map(|k| k * ic).collect();
    let widths: Vec<f64> = (0..=40)
        .map(|k| 1e-10 * 10f64.powf(k as f64 * 0.125))
        .collect();
    let tab =
        switching_probability_table(m, &currents, &widths, MtjOrientation::AntiParallel, 300.0);
    let mut table = Table::new(
        std::iter::once("pulse_width_s".to_string())
            .chain(currents.iter().map(|i| format!("p_sw_i{:.1}ua", i * 1e6))),
    );
    for (w, row) in &tab {
        let mut r = vec![*w];
        r.extend(row);
        table.push_row(r)?;
    }
    let series = mults
        .iter()
        .enumerate()
        .map(|(j, k)| {
            Series::new(
                format!("I = {k} Ic = {:.1} µA", currents[j] * 1e6),
                tab.iter().map(|(w, row)| (*w, row[j])).collect(),
                SeriesStyle::line(),
            )
        })
        .collect();
    let p = plot(
        &format!(
            "MTJ AP→P switching probability (Ic = {:.1} µA, 300 K, closed form)",
            ic * 1e6
        ),
        "pulse width (s)",
        "switching probability",
        true,
        false,
        series,
    );
    save("device_mtj_switching", &table, &p)
}

/// Potentiation then depression: conductance read at 0.1 V after each pulse.
fn pulse_figures() -> Res<()> {
    // OxRAM: gradual SET and RESET with 10 ns pulses at ±1.5 V (the C2C gap noise of the
    // card shows as jitter). PCM: gradual SET by crystallisation at 1.5 V / 100 ns; RESET is
    // melt-quench, abrupt by nature: 1.8 V / 100 ns melts about 60 % of the plug each time.
    for (family, file, set, reset, width, n) in [
        ("oxram", "oxram-stanford-v1.toml", 1.5, -1.5, 10e-9, 30),
        ("pcm", "pcm_gst_mushroom.toml", 1.5, 1.8, 100e-9, 30),
    ] {
        let model = load_card(&card(file))?;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut cell: Cell = model.instantiate(&mut rng);
        let t = cli::DEVICE_TEMP_K;
        let pot = cli::pulse_train(&mut cell, set, width, n, cli::DEFAULT_V_READ, t, &mut rng)?;
        let dep = cli::pulse_train(&mut cell, reset, width, n, cli::DEFAULT_V_READ, t, &mut rng)?;
        let mut table = Table::new(pot.columns.iter().cloned().chain(["phase".to_string()]));
        let mut p_pts = Vec::new();
        let mut d_pts = Vec::new();
        for r in &pot.rows {
            let mut row = r.clone();
            row.push(0.0);
            p_pts.push((r[0], r[1]));
            table.push_row(row)?;
        }
        for r in dep.rows.iter().skip(1) {
            let mut row = r.clone();
            row[0] += n as f64;
            row.push(1.0);
            d_pts.push((row[0], r[1]));
            table.push_row(row)?;
        }
        let p = plot(
            &format!(
                "{} conductance vs pulse number ({:.0} ns pulses; read at 0.1 V)",
                family.to_uppercase(),
                width * 1e9
            ),
            "pulse number",
            "read conductance (S)",
            false,
            true,
            vec![
                Series::new(
                    format!("potentiation, {set} V"),
                    p_pts,
                    SeriesStyle::line_and_markers(),
                ),
                Series::new(
                    format!("depression, {reset} V"),
                    d_pts,
                    SeriesStyle::line_and_markers(),
                ),
            ],
        );
        save(&format!("device_pulses_{family}"), &table, &p)?;
    }
    Ok(())
}

pub fn main() -> Res<()> {
    iv_figures()?;
    drift_figure()?;
    mtj_figure()?;
    pulse_figures()?;
    Ok(())
}
