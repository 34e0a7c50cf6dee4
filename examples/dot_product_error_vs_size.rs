//! Relative dot-product error of crossbar MVMs against array size, wire resistance, cell type
//! and ON/OFF ratio; error against ADC resolution; and the IR-drop map of a 256×256 array.
//!
//! ```text
//! cargo run --release --example dot_product_error_vs_size -- [--sizes 16,32,64,128,256,512]
//!     [--t1r-max 512] [--seed 1] [--out notebooks-out] [--heat-n 256]
//! ```
//! Writes into `--out`: `dot_product_error_vs_size.csv`,
//! `dot_product_error_vs_size_{0t1r,1t1r}_onoff{10,20}.{svg,png}`, `dot_product_error_vs_adc_bits.{csv,svg,png}`,
//! `dot_product_ir_drop_cell_voltage_256.{csv,svg,png}`.
//!
//! Cells: OxRAM as sinh cells I = I0·sinh(V/V0) with the Stanford-PKU card's V0
//! (device-models/oxram-stanford-v1.toml, read from the card); weights mapped onto read
//! conductances at V_read = 0.2 V in [G_on/ratio, G_on], G_on = 100 µS, ON/OFF ratio 10 or 20
//! (both inside the card's reachable window ≈ 4.9 µS … 2 mS at 0.2 V). Ideal drivers and
//! virtual grounds, so the error is wire IR drop plus cell nonlinearity (plus the access
//! transistor for 1T1R); the 0 Ω curve (same cells, no wire resistance) is the nonlinearity
//! alone, the floor the wire curves start from at small N. Error of one dot product (one column, one input vector):
//! |I_j − I*_j| / |I*_j| against I*_j = Σ_i V_i·G_ij (G the read conductance); mean and 95th
//! percentile over columns, input vectors and random weight draws. Samples per size:
//! `trials(N)` arrays × `batch(N)` inputs × N columns (fewer arrays at large N, where one solve
//! is expensive and the N columns already give many samples). Each (case, size, trial) draws
//! from its own ChaCha8 stream of `--seed`, so the results do not depend on the thread count.

use std::path::PathBuf;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use xbarsim::crossbar::output::write_text_atomic;
use xbarsim::crossbar::*;
use xbarsim::plot::{write_heat_map, write_line_plot, HeatMap, LinePlot, Series, SeriesStyle};

const G_ON: f64 = 100e-6;
const V_READ: f64 = 0.2;
const ON_OFF: [f64; 2] = [10.0, 20.0];
const R_WIRE: [f64; 3] = [0.1, 1.0, 10.0];

#[derive(Clone, Copy, Debug)]
struct Case {
    cell: CellKind,
    r_wire: f64,
    on_off: f64,
}

struct Args {
    sizes: Vec<usize>,
    t1r_max: usize,
    seed: u64,
    out: PathBuf,
    heat_n: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        sizes: vec![16, 32, 64, 128, 256, 512],
        t1r_max: 512,
        seed: 1,
        out: PathBuf::from("notebooks-out"),
        heat_n: 256,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut val = || it.next().ok_or(format!("{k} needs a value"));
        let num = |s: String| {
            s.parse::<u64>()
                .map_err(|_| format!("{k}: not a number: {s}"))
        };
        match k.as_str() {
            "--sizes" => {
                a.sizes = val()?
                    .split(',')
                    .map(|s| s.trim().parse().map_err(|_| format!("--sizes: bad {s}")))
                    .collect::<Result<_, _>>()?
            }
            "--t1r-max" => a.t1r_max = num(val()?)? as usize,
            "--seed" => a.seed = num(val()?)?,
            "--heat-n" => a.heat_n = num(val()?)? as usize,
            "--out" => a.out = PathBuf::from(val()?),
            _ => return Err(format!("unknown argument {k}")),
        }
    }
    Ok(a)
}

/// Random arrays per (case, size).
fn trials(n: usize) -> usize {
    (1024 / n).clamp(2, 8)
}

/// Input vectors per array.
fn batch(n: usize) -> usize {
    match n {
        0..=64 => 4,
        65..=128 => 2,
        _ => 1,
    }
}

/// V0 (V) of the Stanford-PKU OxRAM card.
fn card_v0() -> Result<f64, Box<dyn std::error::Error>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device-models/oxram-stanford-v1.toml");
    let model = xbarsim::device::load_card(&path)?;
    model
        .params()
        .iter()
        .find(|(k, _)| *k == "v0")
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("{}: no v0", path.display()).into())
}

fn array(n: usize, case: Case, v0: f64) -> Crossbar {
    let mut xb = Crossbar::new(n, n);
    xb.cell = case.cell;
    xb.law = CellLaw::Sinh { v0 };
    xb.v_read = V_READ;
    xb.g_max = G_ON;
    xb.g_min = G_ON / case.on_off;
    xb.r_row = case.r_wire;
    xb.r_col = case.r_wire;
    if case.cell.has_transistor() {
        // 65 nm-class access device, on-resistance ≈ 1/(β·(V_GS − VTO)) ≈ 0.8 kΩ.
        xb.transistor = Some(Mos1 {
            vto: 0.4,
            kp: 3e-4,
            lambda: 0.0,
            w: 0.5e-6,
            l: 0.1e-6,
        });
        xb.v_gate = 1.2;
    }
    xb
}

/// Stream id of one (case, size, trial), so every trial's numbers are fixed by --seed alone.
fn stream(case_idx: usize, n: usize, trial: usize) -> u64 {
    ((case_idx as u64) << 48) | ((n as u64) << 24) | trial as u64
}

/// Per-dot-product relative errors |I − I*|/|I*| of every column and input.
fn column_errors(analog: &[Vec<f64>], ideal: &[Vec<f64>]) -> Vec<f64> {
    analog
        .iter()
        .zip(ideal)
        .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs()))
        .collect()
}

fn trial_errors(
    n: usize,
    case: Case,
    v0: f64,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<f64>, CrossbarError> {
    let mut xb = array(n, case, v0);
    xb.random_weights(rng);
    let x: Vec<Vec<f64>> = (0..batch(n))
        .map(|_| (0..n).map(|_| rng.random_range(0.0..1.0)).collect())
        .collect();
    let rep = mvm(&xb, &x)?;
    Ok(column_errors(&rep.analog, &rep.ideal_dac))
}

fn mean_p95(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let k = ((0.95 * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    (mean, v[k])
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let v0 = card_v0()?;
    std::fs::create_dir_all(&args.out)?;
    let t0 = std::time::Instant::now();
    let mut cases = Vec::new();
    for cell in [CellKind::ZeroT1R, CellKind::OneT1R] {
        for r_wire in R_WIRE {
            for on_off in ON_OFF {
                cases.push(Case {
                    cell,
                    r_wire,
                    on_off,
                });
            }
        }
    }

    // The 0 Ω cases come last so the earlier cases keep their random streams: with no wire
    // the error is the cell law's nonlinearity (plus the access transistor for 1T1R) alone.
    for cell in [CellKind::ZeroT1R, CellKind::OneT1R] {
        for on_off in ON_OFF {
            cases.push(Case {
                cell,
                r_wire: 0.0,
                on_off,
            });
        }
    }

    // 1. Error against size.
    let mut jobs = Vec::new();
    for (ci, c) in cases.iter().enumerate() {
        for &n in &args.sizes {
            if c.cell.has_transistor() && n > args.t1r_max {
                continue;
            }
            for t in 0..trials(n) {
                jobs.push((ci, n, t));
            }
        }
    }
    // Largest arrays first, so both cores stay busy to the end.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(jobs[k].1));
    eprintln!("{} random arrays", jobs.len());
    let timed: Vec<(usize, Result<Vec<f64>, CrossbarError>, f64)> = order
        .par_iter()
        .map(|&k| {
            let (ci, n, t) = jobs[k];
            let t_start = std::time::Instant::now();
            let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
            rng.set_stream(stream(ci, n, t));
            let r = trial_errors(n, cases[ci], v0, &mut rng);
            (k, r, t_start.elapsed().as_secs_f64())
        })
        .collect();
    let mut results: Vec<Option<Result<Vec<f64>, CrossbarError>>> =
        (0..jobs.len()).map(|_| None).collect();
    let mut secs = std::collections::BTreeMap::<(&str, usize), f64>::new();
    for (k, r, dt) in timed {
        let (ci, n, _) = jobs[k];
        *secs.entry((cases[ci].cell.name(), n)).or_default() += dt;
        results[k] = Some(r);
    }
    for ((cell, n), t) in &secs {
        eprintln!("  {cell} N = {n}: {t:.1} s of solver time");
    }
    let mut csv = String::from("cell,r_wire_ohm,on_off_ratio,n,mean_rel_err,p95_rel_err,samples\n");
    let mut curves: Vec<(usize, Vec<(f64, f64)>, Vec<(f64, f64)>)> = Vec::new();
    for (ci, c) in cases.iter().enumerate() {
        let (mut mean_pts, mut p95_pts) = (Vec::new(), Vec::new());
        for &n in &args.sizes {
            let mut errs = Vec::new();
            for (k, &(cj, m, _)) in jobs.iter().enumerate() {
                if cj == ci && m == n {
                    match results[k].as_ref().expect("every job ran") {
                        Ok(e) => errs.extend_from_slice(e),
                        Err(e) => return Err(format!("{c:?} n={n}: {e}").into()),
                    }
                }
            }
            if errs.is_empty() {
                continue;
            }
            let len = errs.len();
            let (mean, p95) = mean_p95(errs);
            csv += &format!(
                "{},{:e},{:e},{n},{mean:.6e},{p95:.6e},{len}\n",
                c.cell.name(),
                c.r_wire,
                c.on_off
            );
            mean_pts.push((n as f64, mean));
            p95_pts.push((n as f64, p95));
        }
        curves.push((ci, mean_pts, p95_pts));
    }
    write_text_atomic(&args.out.join("dot_product_error_vs_size.csv"), &csv)?;
    for (cell, on_off) in [CellKind::ZeroT1R, CellKind::OneT1R]
        .into_iter()
        .flat_map(|c| ON_OFF.map(|r| (c, r)))
    {
        let sizes: Vec<usize> = args
            .sizes
            .iter()
            .copied()
            .filter(|&n| !(cell.has_transistor() && n > args.t1r_max))
            .collect();
        let samples = |n: usize| trials(n) * batch(n) * n;
        let (n_lo, n_hi) = (sizes[0], sizes[sizes.len() - 1]);
        let mut plot = LinePlot {
            title: format!(
                "{}, ON/OFF {on_off}, ideal periphery, no ADC: {}–{} samples/point",
                cell.name(),
                samples(n_lo),
                samples(n_hi),
            ),
            x_label: format!(
                "array size N (per point: {}×{}×N … {}×{}×N arrays × inputs × columns)",
                trials(n_lo),
                batch(n_lo),
                trials(n_hi),
                batch(n_hi)
            ),
            y_label: "relative error |I − I*| / |I*| per column".into(),
            x_log: true,
            y_log: true,
            series: Vec::new(),
        };
        for (ci, mean, p95) in &curves {
            let c = cases[*ci];
            if c.cell != cell || c.on_off != on_off || mean.is_empty() {
                continue;
            }
            let label = if c.r_wire == 0.0 && c.cell.has_transistor() {
                "0 Ω (cell nonlinearity + transistor)".to_string()
            } else if c.r_wire == 0.0 {
                "0 Ω (cell nonlinearity alone)".to_string()
            } else {
                format!("{} Ω/segment", c.r_wire)
            };
            plot.series.push(Series::new(
                format!("{label}: mean"),
                mean.clone(),
                SeriesStyle::line_and_markers(),
            ));
            plot.series.push(Series::new(
                format!("{label}: 95th percentile"),
                p95.clone(),
                SeriesStyle::dashed(),
            ));
        }
        let stem = args.out.join(format!(
            "dot_product_error_vs_size_{}_onoff{on_off}",
            cell.name().to_ascii_lowercase()
        ));
        write_line_plot(&plot, &stem)?;
    }

    eprintln!("size sweep done at {:.1} s", t0.elapsed().as_secs_f64());

    // 2. End-to-end error against ADC resolution (64×64 0T1R, 0.1 Ω, 8-bit analog DAC).
    let n_adc = 64;
    let bits_list: Vec<u32> = (2..=12).collect();
    let ranges = [
        ("max", AdcRange::MaxOfBatch),
        ("p99", AdcRange::Percentile(99.0)),
    ];
    let mut adc_csv =
        String::from("on_off_ratio,adc_range,adc_bits,mean_rel_err,p95_rel_err,clip_rate,mean_adc_only_rel_err\n");
    let mut adc_plot = LinePlot {
        title: format!(
            "{n_adc}² 0T1R, 0.1 Ω/seg, 8-bit DAC, ADC ranged on its batch: {} samples/point",
            32 * n_adc
        ),
        x_label: format!("ADC resolution (bits); per point: 1 array × 32 inputs × {n_adc} columns"),
        y_label: "mean relative error per column (of |I*|)".into(),
        x_log: false,
        y_log: true,
        series: Vec::new(),
    };
    for on_off in ON_OFF {
        let case = Case {
            cell: CellKind::ZeroT1R,
            r_wire: 0.1,
            on_off,
        };
        // One array and one calibration batch of 32 inputs per ON/OFF ratio.
        let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
        rng.set_stream(stream(1000 + on_off as usize, n_adc, 0));
        let mut xb = array(n_adc, case, v0);
        xb.random_weights(&mut rng);
        xb.dac = Dac {
            bits: 8,
            mode: DacMode::Analog,
        };
        let x: Vec<Vec<f64>> = (0..32)
            .map(|_| (0..n_adc).map(|_| rng.random_range(0.0..1.0)).collect())
            .collect();
        // One solve of the batch; every ADC variant re-quantises the same column currents.
        let base = mvm(&xb, &x)?;
        for (rname, range) in ranges {
            let pts: Vec<(u32, f64, f64, f64, f64)> = bits_list
                .iter()
                .map(|&b| {
                    let mut x_b = xb.clone();
                    x_b.adc = Adc { bits: b, range };
                    let mut rep = base.clone();
                    apply_adc(&x_b, &mut rep);
                    let (mean, p95) = mean_p95(column_errors(&rep.digital, &rep.ideal));
                    // ADC quantisation (and clipping) alone: ADC output against the analog
                    // currents it converted, relative to the ideal.
                    let q: Vec<f64> = rep
                        .digital
                        .iter()
                        .zip(&rep.analog)
                        .zip(&rep.ideal)
                        .flat_map(|((d, a), i)| {
                            d.iter()
                                .zip(a)
                                .zip(i)
                                .map(|((d, a), i)| (d - a).abs() / i.abs())
                        })
                        .collect();
                    let (q_mean, _) = mean_p95(q);
                    (b, mean, p95, rep.clip_rate, q_mean)
                })
                .collect();
            for (b, m, p, clip, q) in &pts {
                adc_csv += &format!("{on_off:e},{rname},{b},{m:.6e},{p:.6e},{clip:.6e},{q:.6e}\n");
            }
            adc_plot.series.push(Series::new(
                format!("ON/OFF {on_off}, full scale {rname}: end to end"),
                pts.iter().map(|(b, m, _, _, _)| (*b as f64, *m)).collect(),
                SeriesStyle::line_and_markers(),
            ));
            if on_off == ON_OFF[0] {
                adc_plot.series.push(Series::new(
                    format!("ON/OFF {on_off}, full scale {rname}: ADC alone"),
                    pts.iter().map(|(b, _, _, _, q)| (*b as f64, *q)).collect(),
                    SeriesStyle::dashed(),
                ));
            }
        }
        if on_off == ON_OFF[0] {
            let (m, _) = mean_p95(column_errors(&base.digital, &base.ideal));
            adc_plot.series.push(Series::new(
                format!("ON/OFF {on_off}, no ADC (array + DAC floor)"),
                vec![
                    (bits_list[0] as f64, m),
                    (*bits_list.last().unwrap() as f64, m),
                ],
                SeriesStyle::dashed(),
            ));
        }
    }
    write_text_atomic(
        &args.out.join("dot_product_error_vs_adc_bits.csv"),
        &adc_csv,
    )?;
    write_line_plot(&adc_plot, &args.out.join("dot_product_error_vs_adc_bits"))?;

    eprintln!("ADC sweep done at {:.1} s", t0.elapsed().as_secs_f64());

    // 3. IR-drop map: voltage across every cell of an N×N 0T1R array, all inputs at V_read.
    let n = args.heat_n;
    let case = Case {
        cell: CellKind::ZeroT1R,
        r_wire: 1.0,
        on_off: 10.0,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    rng.set_stream(stream(2000, n, 0));
    let mut xb = array(n, case, v0);
    xb.random_weights(&mut rng);
    let mut arr = Array::bind(&xb, &Bias::mvm(&xb, &vec![V_READ; n]))?;
    arr.solve()?;
    let map = node_map(&arr);
    write_text_atomic(
        &args
            .out
            .join(format!("dot_product_ir_drop_cell_voltage_{n}.csv")),
        &map.to_csv(),
    )?;
    let data: Vec<Vec<f64>> = (0..n)
        .map(|i| map.v_cell[i * n..(i + 1) * n].to_vec())
        .collect();
    let mut hm = HeatMap::new(
        format!("{n}×{n} 0T1R, 1 Ω/seg, all inputs {V_READ} V: cell voltage"),
        data,
    );
    hm.x_label = "bit line (column index; sensed below the last row)".into();
    hm.y_label = "word line (row index; driven at column 0)".into();
    hm.colorbar_label = "voltage across cell (V)".into();
    write_heat_map(
        &hm,
        &args
            .out
            .join(format!("dot_product_ir_drop_cell_voltage_{n}")),
    )?;
    eprintln!(
        "heat map done at {:.1} s; wrote results into {}",
        t0.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}
