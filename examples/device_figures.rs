//! Device figures (CSV + SVG + PNG in notebooks-out/): I-V loops per family, PCM drift, MTJ
//! switching probability, conductance vs pulse number. Run with
//! `cargo run --example device_figures`.
//!
//! pcm_stat is a statistical inference model without bias-driven dynamics, so it has no I-V
//! loop (its I-V is the line I = g·V); its drift appears in `device retention` instead.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use xbarsim::app::device as cli;
use xbarsim::device::mram::{switching_probability_table, MtjOrientation};
use xbarsim::device::pcm::drift_curves;
use xbarsim::device::{load_card, Cell, Model};
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

/// A duration with an SI prefix for titles: 1e-6 → "1 µs", 1.0 → "1 s", 2.5e-3 → "2.5 ms".
pub fn si_time(t: f64) -> String {
    let (scale, unit) = [
        (1.0, "s"),
        (1e-3, "ms"),
        (1e-6, "µs"),
        (1e-9, "ns"),
        (1e-12, "ps"),
    ]
    .into_iter()
    .find(|(sc, _)| t >= *sc * 0.999)
    .unwrap_or((1e-12, "ps"));
    let x = t / scale;
    let txt = format!("{x:.3}");
    format!("{} {unit}", txt.trim_end_matches('0').trim_end_matches('.'))
}

/// Split a sweep table (columns time_s, v_v, ...) into the three legs of its triangle
/// 0 → vmax → vmin → 0, labelled with their direction; `y` picks the plotted quantity.
pub fn legs(
    rows: &[Vec<f64>],
    vmax: f64,
    vmin: f64,
    x: impl Fn(&[f64]) -> f64,
    y: impl Fn(&[f64]) -> f64,
    tag: &str,
    style: SeriesStyle,
) -> Vec<Series> {
    let k_max = rows
        .iter()
        .position(|r| r[1] >= vmax)
        .unwrap_or(rows.len() / 4);
    let k_min = rows
        .iter()
        .position(|r| r[1] <= vmin)
        .unwrap_or(3 * rows.len() / 4);
    let pts = |a: usize, b: usize| {
        rows[a..=b.min(rows.len() - 1)]
            .iter()
            .map(|r| (x(r), y(r)))
            .collect()
    };
    vec![
        Series::new(format!("{tag}0 → {vmax} V"), pts(0, k_max), style),
        Series::new(
            format!("{tag}{vmax} V → {vmin} V"),
            pts(k_max, k_min),
            style,
        ),
        Series::new(
            format!("{tag}{vmin} V → 0"),
            pts(k_min, rows.len() - 1),
            style,
        ),
    ]
}

/// I-V hysteresis loops, log |I| vs cell voltage, each leg of the sweep labelled with its
/// direction. OxRAM and CBRAM are shown under an SMU compliance as measured (without one the
/// OxRAM loop reaches ~94 mA and CBRAM ~19 mA, far past what the devices survive).
fn iv_figures() -> Res<()> {
    for (family, file, title, compliance) in [
        (
            "oxram",
            "oxram-stanford-v1.toml",
            "OxRAM (Stanford-PKU) I-V",
            Some(500e-6),
        ),
        (
            "cbram",
            "cbram-yu-wong.toml",
            "CBRAM (Yu-Wong) I-V",
            Some(1e-3),
        ),
        (
            "pcm",
            "pcm_gst_mushroom.toml",
            "PCM (GST mushroom) I-V",
            None,
        ),
        ("mtj", "mtj_pma_cheng2014.toml", "STT-MTJ (PMA) I-V", None),
        (
            "jart",
            "jart_vcm_v1b.toml",
            "JART VCM v1b (HfO2/TiOx) I-V",
            None,
        ),
        (
            "fgate",
            "fgate-flash.toml",
            "Floating-gate cell Id-Vd (V_cg = 2.5 V)",
            None,
        ),
    ] {
        let model = load_card(&card(file))?;
        let (vmax, vmin, period) = cli::iv_defaults(family);
        let bench = cli::Bench {
            compliance_a: compliance,
            ..cli::Bench::default()
        };
        let setup = cli::Setup {
            seed: 1,
            ..cli::Setup::default()
        };
        let t = cli::device_iv_bench(&card(file), &setup, &bench, vmax, vmin, period, 401)?;
        let _ = model;
        let series = legs(
            &t.rows,
            vmax,
            vmin,
            |r| r[2],
            |r| r[3].abs(),
            "",
            SeriesStyle::line(),
        );
        let comp = compliance.map_or(String::new(), |c| {
            if c >= 1e-3 {
                format!(", SET compliance {} mA", c * 1e3)
            } else {
                format!(", SET compliance {} µA", c * 1e6)
            }
        });
        let p = plot(
            &format!("{title}, sweep in {}{comp}", si_time(period)),
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

/// OxRAM I-V over 25 devices: median |I| and the 10-90 % band at each sample.
fn d2d_band_figure() -> Res<()> {
    let file = "oxram-stanford-v1.toml";
    let (vmax, vmin, period, points, n) = (1.5, -1.5, 1.0, 401, 25);
    let setup = cli::Setup {
        seed: 5,
        devices: n,
        ..cli::Setup::default()
    };
    let bench = cli::Bench {
        compliance_a: Some(500e-6),
        ..cli::Bench::default()
    };
    let t = cli::device_iv_bench(&card(file), &setup, &bench, vmax, vmin, period, points)?;
    // Rows are device-major: device k's sample j is row k·points + j; columns device, time_s,
    // v_v, v_cell_v, i_a.
    let mut out = Table::new(["time_s", "v_v", "i_p10_a", "i_median_a", "i_p90_a"]);
    let mut rows = Vec::new();
    for j in 0..points {
        let mut col: Vec<f64> = (0..n).map(|k| t.rows[k * points + j][4].abs()).collect();
        col.sort_by(f64::total_cmp);
        let q = |f: f64| col[((n - 1) as f64 * f).round() as usize];
        let r = vec![t.rows[j][1], t.rows[j][2], q(0.1), q(0.5), q(0.9)];
        out.push_row(r.clone())?;
        rows.push(r);
    }
    let mut series = legs(
        &rows,
        vmax,
        vmin,
        |r| r[1],
        |r| r[3],
        "median ",
        SeriesStyle::line(),
    );
    series.push(Series::new(
        "10 % and 90 % of devices",
        rows.iter().map(|r| (r[1], r[2])).collect(),
        SeriesStyle::dashed(),
    ));
    series.push(Series::new(
        "",
        rows.iter().map(|r| (r[1], r[4])).collect(),
        SeriesStyle::dashed(),
    ));
    let p = plot(
        &format!("OxRAM I-V over {n} devices (D2D + C2C), SET compliance 500 µA, sweep in 1 s"),
        "source voltage V (V)",
        "|I| (A)",
        false,
        true,
        series,
    );
    save("device_iv_oxram_d2d_band", &out, &p)
}

/// MTJ as an R-V loop: resistance V/I against the source voltage, the square two-state loop.
fn mtj_rv_figure() -> Res<()> {
    let file = "mtj_pma_cheng2014.toml";
    let (vmax, vmin, period) = (0.3, -0.3, 1e-6);
    let setup = cli::Setup {
        seed: 2,
        nominal: true,
        initial: cli::Initial::Hrs,
        ..cli::Setup::default()
    };
    let t = cli::device_iv_bench(
        &card(file),
        &setup,
        &cli::Bench::default(),
        vmax,
        vmin,
        period,
        601,
    )?;
    let rows: Vec<Vec<f64>> = t
        .rows
        .iter()
        .filter(|r| r[2].abs() > 2e-3)
        .cloned()
        .collect();
    let mut out = Table::new(["time_s", "v_v", "r_ohm"]);
    for r in &rows {
        out.push_row(vec![r[0], r[2], r[2] / r[3]])?;
    }
    let series = legs(
        &t.rows,
        vmax,
        vmin,
        |r| r[2],
        |r| {
            if r[2].abs() > 2e-3 {
                r[2] / r[3]
            } else {
                f64::NAN
            }
        },
        "",
        SeriesStyle::line(),
    );
    let series = series
        .into_iter()
        .map(|mut s| {
            s.points.retain(|p| p.1.is_finite());
            s
        })
        .collect();
    let p = plot(
        &format!(
            "STT-MTJ: R-V loop from AP (PMA card, 300 K, ±0.3 V in {})",
            si_time(period)
        ),
        "voltage V (V)",
        "resistance V/I (Ω)",
        false,
        false,
        series,
    );
    save("device_mtj_rv_loop", &out, &p)
}

/// Floating gate: Id-Vcg curves of a fresh cell, after a program pulse (gate +18 V, 100 µs)
/// and after an erase pulse (gate −18 V, 100 µs), at V_d = 0.1 V.
fn fgate_transfer_figure() -> Res<()> {
    let model = load_card(&card("fgate-flash.toml"))?;
    let mut cell = model.nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (vd, lo, hi, n) = (0.1, -4.0, 8.0, 241);
    let mut curves = Vec::new();
    let fresh = cli::transfer_curve(&cell, vd, lo, hi, n, 300.0)?;
    curves.push(("fresh cell", fresh));
    cell.advance_gated(0.0, 18.0, 100e-6, 300.0, &mut rng);
    curves.push((
        "after program (V_cg = +18 V, 100 µs)",
        cli::transfer_curve(&cell, vd, lo, hi, n, 300.0)?,
    ));
    cell.advance_gated(0.0, -18.0, 100e-6, 300.0, &mut rng);
    curves.push((
        "after erase (V_cg = −18 V, 100 µs)",
        cli::transfer_curve(&cell, vd, lo, hi, n, 300.0)?,
    ));
    let mut out = Table::new(["v_cg_v", "i_fresh_a", "i_programmed_a", "i_erased_a"]);
    for j in 0..n {
        out.push_row(vec![
            curves[0].1.rows[j][0],
            curves[0].1.rows[j][1],
            curves[1].1.rows[j][1],
            curves[2].1.rows[j][1],
        ])?;
    }
    // Currents under 10 fA (a parameter analyser's floor) are left out of the figure (they stay
    // in the CSV): the EKV subthreshold law has no leakage floor.
    let series = curves
        .iter()
        .map(|(l, t)| {
            let pts = t
                .rows
                .iter()
                .filter(|r| r[1] >= 1e-14)
                .map(|r| (r[0], r[1]))
                .collect();
            Series::new(*l, pts, SeriesStyle::line())
        })
        .collect();
    let p = plot(
        "Floating-gate Id-Vcg before and after program and erase (V_d = 0.1 V)",
        "control-gate voltage V_cg (V)",
        "drain current I_d (A)",
        false,
        true,
        series,
    );
    save("device_fgate_id_vcg", &out, &p)
}

/// Floating-gate retention bakes: threshold against time at 85 °C and 125 °C (Arrhenius charge
/// loss, E_a = 1.1 eV), from a programmed cell.
fn retention_bake_figure() -> Res<()> {
    let times: Vec<f64> = (0..=40).map(|k| 10f64.powf(k as f64 * 0.25)).collect();
    let mut out = Table::new(["time_s", "vth_85c_v", "vth_125c_v"]);
    let mut series = Vec::new();
    let mut cols = Vec::new();
    for t_c in [85.0, 125.0] {
        let setup = cli::Setup {
            nominal: true,
            initial: cli::Initial::Hrs,
            ..cli::Setup::default()
        };
        let bench = cli::Bench {
            temp_k: 273.15 + t_c,
            ..cli::Bench::default()
        };
        let t = cli::device_retention_bench(&card("fgate-flash.toml"), &setup, &bench, &times)?;
        let vth = t.column("vth_cg_v").ok_or("no vth column")?;
        series.push(Series::new(
            format!("bake at {t_c} °C"),
            times.iter().copied().zip(vth.iter().copied()).collect(),
            SeriesStyle::line_and_markers(),
        ));
        cols.push(vth);
    }
    for (j, t) in times.iter().enumerate() {
        out.push_row(vec![*t, cols[0][j], cols[1][j]])?;
    }
    let p = plot(
        "Floating-gate retention bake: threshold vs time (E_a = 1.1 eV, 10 years at 85 °C)",
        "bake time (s)",
        "threshold seen from the control gate (V)",
        true,
        false,
        series,
    );
    save("device_fgate_retention_bake", &out, &p)
}

/// Retention of a resistive family at 85 °C: the fraction of 400 MTJ cells written AP that are
/// still AP after a zero-bias bake, against the two-state closed form (1 + e^(−2t/τ))/2 with the
/// Néel-Brown τ = τ0·e^Δ(T) (thermal flips both ways at equal rates), at 27 °C and 85 °C.
fn mtj_retention_bake_figure() -> Res<()> {
    let Model::Mtj(c) = load_card(&card("mtj_pma_cheng2014.toml"))? else {
        return Err("not an mtj card".into());
    };
    let times: Vec<f64> = (0..=36)
        .map(|k| 10f64.powf(-3.0 + k as f64 * 0.2))
        .collect();
    let n_dev = 400;
    let mut out = Table::new([
        "time_s",
        "ap_fraction_27c",
        "closed_form_27c",
        "ap_fraction_85c",
        "closed_form_85c",
    ]);
    let mut series = Vec::new();
    let mut cols = Vec::new();
    for t_c in [27.0, 85.0] {
        let temp_k = 273.15 + t_c;
        let setup = cli::Setup {
            seed: 3,
            devices: n_dev,
            initial: cli::Initial::Hrs,
            ..cli::Setup::default()
        };
        let bench = cli::Bench {
            temp_k,
            ..cli::Bench::default()
        };
        let t =
            cli::device_retention_bench(&card("mtj_pma_cheng2014.toml"), &setup, &bench, &times)?;
        let g = t.column("g_s").ok_or("no g_s column")?;
        let (g_lo, g_hi) = g
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
        let mid = 0.5 * (g_lo + g_hi);
        // Rows are device-major: device d, time k at row d·len + k.
        let frac: Vec<f64> = (0..times.len())
            .map(|k| {
                (0..n_dev).filter(|d| g[d * times.len() + k] < mid).count() as f64 / n_dev as f64
            })
            .collect();
        let tau = c.nominal.retention_time_s(temp_k);
        let model: Vec<f64> = times
            .iter()
            .map(|t| 0.5 * (1.0 + (-2.0 * t / tau).exp()))
            .collect();
        series.push(Series::new(
            format!("{t_c} °C, {n_dev} cells"),
            times.iter().copied().zip(frac.iter().copied()).collect(),
            SeriesStyle::markers(),
        ));
        series.push(Series::new(
            format!("{t_c} °C, (1 + e^(−2t/τ))/2, τ = {}", si_time(tau)),
            times.iter().copied().zip(model.iter().copied()).collect(),
            SeriesStyle::line(),
        ));
        cols.push(frac);
        cols.push(model);
    }
    for (j, t) in times.iter().enumerate() {
        out.push_row(vec![*t, cols[0][j], cols[1][j], cols[2][j], cols[3][j]])?;
    }
    let p = plot(
        "STT-MTJ retention bake: cells written AP still AP at 0 V (Δ = 24.8 at 300 K)",
        "bake time (s)",
        "fraction still AP",
        true,
        false,
        series,
    );
    save("device_mtj_retention_85c", &out, &p)
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
    // Néel-Brown below 0.8 Ic, Sun above 1.5 Ic, a monotone join between (mram.rs).
    let mults = [0.7, 0.8, 0.9, 1.0, 1.5, 2.0, 4.0];
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
            "MTJ AP→P switching probability (Ic = {:.1} µA, 300 K)",
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
    d2d_band_figure()?;
    mtj_rv_figure()?;
    fgate_transfer_figure()?;
    retention_bake_figure()?;
    mtj_retention_bake_figure()?;
    drift_figure()?;
    mtj_figure()?;
    pulse_figures()?;
    Ok(())
}
