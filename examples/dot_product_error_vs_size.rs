//! Relative dot-product error of crossbar MVMs against array size, wire resistance, cell type
//! and ON/OFF ratio; error against ADC resolution; and the IR-drop map of a 256×256 array.
//!
//! ```text
//! CARGO_PROFILE_DEV_OPT_LEVEL=2 cargo run --example dot_product_error_vs_size -- [--sizes 16,32,64,128,256] [--t1r-max 128]
//!     [--trials 8] [--batch 4] [--seed 1] [--out notebooks-out] [--heat-n 256]
//! ```
//! (faer's generic kernels are instantiated in xbarsim, so an unoptimised xbarsim is ~50×
//! slower.) Writes into `--out`: `dot_product_error_vs_size.csv`, `dot_product_error_vs_size_{0t1r,1t1r}.{svg,png}`,
//! `dot_product_error_vs_adc_bits.{csv,svg,png}`, `ir_drop_cell_voltage_256.{csv,svg,png}`.
//!
//! Cells are OxRAM-like sinh cells, I = I0·sinh(V/V0) with V0 = 0.25 V, weights mapped onto read
//! conductances at V_read = 0.2 V in [G_on/ratio, G_on] with G_on = 100 µS; ideal sources and
//! virtual grounds, so the error is wire IR drop plus cell nonlinearity (plus the access
//! transistor for 1T1R). Error per input vector = ‖I − I*‖₂/‖I*‖₂ against Σ V_i·G_ij; each
//! (case, size, trial) draws weights and inputs from its own ChaCha8 stream of `--seed`, so the
//! results do not depend on the thread count.

use std::path::PathBuf;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use xbarsim::crossbar::output::write_text_atomic;
use xbarsim::crossbar::*;
use xbarsim::plot::{write_heat_map, write_line_plot, HeatMap, LinePlot, Series, SeriesStyle};

const V0: f64 = 0.25;
const G_ON: f64 = 100e-6;
const V_READ: f64 = 0.2;

#[derive(Clone, Copy, Debug)]
struct Case {
    cell: CellKind,
    r_wire: f64,
    on_off: f64,
}

struct Args {
    sizes: Vec<usize>,
    t1r_max: usize,
    trials: usize,
    batch: usize,
    seed: u64,
    out: PathBuf,
    heat_n: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        sizes: vec![16, 32, 64, 128, 256],
        t1r_max: 128,
        trials: 8,
        batch: 4,
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
            "--trials" => a.trials = num(val()?)? as usize,
            "--batch" => a.batch = num(val()?)? as usize,
            "--seed" => a.seed = num(val()?)?,
            "--heat-n" => a.heat_n = num(val()?)? as usize,
            "--out" => a.out = PathBuf::from(val()?),
            _ => return Err(format!("unknown argument {k}")),
        }
    }
    Ok(a)
}

fn array(n: usize, case: Case) -> Crossbar {
    let mut xb = Crossbar::new(n, n);
    xb.cell = case.cell;
    xb.law = CellLaw::Sinh { v0: V0 };
    xb.v_read = V_READ;
    xb.g_max = G_ON;
    xb.g_min = G_ON / case.on_off;
    xb.r_row = case.r_wire;
    xb.r_col = case.r_wire;
    if case.cell.has_transistor() {
        // 65 nm-class access device, on-resistance ≈ 1/(β·(V_GS − VTO)) ≈ 0.5 kΩ.
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

fn trial_errors(
    n: usize,
    case: Case,
    rng: &mut ChaCha8Rng,
    batch: usize,
) -> Result<Vec<f64>, CrossbarError> {
    let mut xb = array(n, case);
    xb.random_weights(rng);
    let x: Vec<Vec<f64>> = (0..batch)
        .map(|_| (0..n).map(|_| rng.random_range(0.0..1.0)).collect())
        .collect();
    Ok(mvm(&xb, &x)?.err_analog.per_sample_norm)
}

fn mean_p95(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let k = ((0.95 * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    (mean, v[k])
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let t0 = std::time::Instant::now();
    let mut cases = Vec::new();
    for cell in [CellKind::ZeroT1R, CellKind::OneT1R] {
        for r_wire in [0.1, 1.0, 10.0] {
            for on_off in [10.0, 100.0] {
                cases.push(Case {
                    cell,
                    r_wire,
                    on_off,
                });
            }
        }
    }

    // 1. Error against size.
    let mut jobs = Vec::new();
    for (ci, c) in cases.iter().enumerate() {
        for &n in &args.sizes {
            if c.cell.has_transistor() && n > args.t1r_max {
                continue;
            }
            for t in 0..args.trials {
                jobs.push((ci, n, t));
            }
        }
    }
    eprintln!("{} solves of up to {} inputs each", jobs.len(), args.batch);
    let results: Vec<Result<Vec<f64>, CrossbarError>> = jobs
        .par_iter()
        .map(|&(ci, n, t)| {
            let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
            rng.set_stream(stream(ci, n, t));
            trial_errors(n, cases[ci], &mut rng, args.batch)
        })
        .collect();
    let mut csv = String::from("cell,r_wire_ohm,on_off_ratio,n,mean_rel_err,p95_rel_err,samples\n");
    let mut curves: Vec<(usize, Vec<(f64, f64)>, Vec<(f64, f64)>)> = Vec::new();
    for (ci, c) in cases.iter().enumerate() {
        let (mut mean_pts, mut p95_pts) = (Vec::new(), Vec::new());
        for &n in &args.sizes {
            let mut errs = Vec::new();
            for (k, &(cj, m, _)) in jobs.iter().enumerate() {
                if cj == ci && m == n {
                    match &results[k] {
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
    for cell in [CellKind::ZeroT1R, CellKind::OneT1R] {
        let mut plot = LinePlot {
            title: format!("{} sinh cells: MVM error vs array size", cell.name()),
            x_label: "N (rows = columns)".into(),
            y_label: "relative error ‖I − I*‖/‖I*‖".into(),
            x_log: true,
            y_log: true,
            series: Vec::new(),
        };
        for (ci, mean, p95) in &curves {
            let c = cases[*ci];
            if c.cell != cell || mean.is_empty() {
                continue;
            }
            let label = format!("{} Ω, ON/OFF {}", c.r_wire, c.on_off);
            plot.series.push(Series::new(
                format!("{label} mean"),
                mean.clone(),
                SeriesStyle::line_and_markers(),
            ));
            plot.series.push(Series::new(
                format!("{label} p95"),
                p95.clone(),
                SeriesStyle::dashed(),
            ));
        }
        let stem = args.out.join(format!(
            "dot_product_error_vs_size_{}",
            cell.name().to_ascii_lowercase()
        ));
        write_line_plot(&plot, &stem)?;
    }

    eprintln!("size sweep done at {:.1} s", t0.elapsed().as_secs_f64());

    // 2. End-to-end error against ADC resolution (64×64 0T1R, 0.1 Ω, 8-bit analog DAC).
    let n_adc = 64;
    let bits_list: Vec<u32> = (2..=10).collect();
    let ranges = [
        ("max", AdcRange::MaxOfBatch),
        ("p99", AdcRange::Percentile(99.0)),
    ];
    let mut adc_csv = String::from("on_off_ratio,adc_range,adc_bits,mean_rel_err,clip_rate\n");
    let mut adc_plot = LinePlot {
        title: format!("{n_adc}×{n_adc} 0T1R, 0.1 Ω/segment: end-to-end error vs ADC bits"),
        x_label: "ADC bits".into(),
        y_label: "relative error ‖I_ADC − I*‖/‖I*‖".into(),
        x_log: false,
        y_log: true,
        series: Vec::new(),
    };
    for on_off in [10.0, 100.0] {
        let case = Case {
            cell: CellKind::ZeroT1R,
            r_wire: 0.1,
            on_off,
        };
        // One array and one calibration batch of 32 inputs per ON/OFF ratio.
        let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
        rng.set_stream(stream(1000 + on_off as usize, n_adc, 0));
        let mut xb = array(n_adc, case);
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
            let pts: Vec<(u32, f64, f64)> = bits_list
                .iter()
                .map(|&b| {
                    let mut x_b = xb.clone();
                    x_b.adc = Adc { bits: b, range };
                    let mut rep = base.clone();
                    apply_adc(&x_b, &mut rep);
                    let (mean, _) = mean_p95(rep.err_digital.per_sample_norm.clone());
                    (b, mean, rep.clip_rate)
                })
                .collect();
            for (b, m, clip) in &pts {
                adc_csv += &format!("{on_off:e},{rname},{b},{m:.6e},{clip:.6e}\n");
            }
            adc_plot.series.push(Series::new(
                format!("ON/OFF {on_off}, range {rname}"),
                pts.iter().map(|(b, m, _)| (*b as f64, *m)).collect(),
                SeriesStyle::line_and_markers(),
            ));
        }
        let (m, _) = mean_p95(base.err_digital.per_sample_norm.clone());
        adc_plot.series.push(Series::new(
            format!("ON/OFF {on_off}, no ADC"),
            vec![
                (bits_list[0] as f64, m),
                (*bits_list.last().unwrap() as f64, m),
            ],
            SeriesStyle::dashed(),
        ));
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
    let mut xb = array(n, case);
    xb.random_weights(&mut rng);
    let mut arr = Array::bind(&xb, &Bias::mvm(&xb, &vec![V_READ; n]))?;
    arr.solve()?;
    let map = node_map(&arr);
    write_text_atomic(
        &args.out.join(format!("ir_drop_cell_voltage_{n}.csv")),
        &map.to_csv(),
    )?;
    let data: Vec<Vec<f64>> = (0..n)
        .map(|i| map.v_cell[i * n..(i + 1) * n].to_vec())
        .collect();
    let mut hm = HeatMap::new(
        format!("{n}×{n} 0T1R, 1 Ω/segment, all inputs at {V_READ} V: cell voltage"),
        data,
    );
    hm.x_label = "bit line (column)".into();
    hm.y_label = "word line (row)".into();
    hm.colorbar_label = "V_cell (V)".into();
    write_heat_map(&hm, &args.out.join(format!("ir_drop_cell_voltage_{n}")))?;
    eprintln!(
        "heat map done at {:.1} s; wrote results into {}",
        t0.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}
