//! A network on the simulated arrays: a 64–32–10 multi-layer perceptron trained here in
//! floating point on the 8×8 handwritten digits (examples/data/digits_8x8.csv, see
//! digits_8x8.md), then run with every layer's multiply done by the exact array solve.
//!
//! ```text
//! cargo run --release --example mlp_digits -- [--out notebooks-out] [--seed 1]
//! ```
//! Writes `mlp_digits_accuracy.csv` (header
//! `factor,array_n,r_wire_ohm,adc_bits,time_s,fault_rate,accuracy`) and
//! `mlp_digits_accuracy_vs_{array_n,r_wire_ohm,adc_bits,time_s,fault_rate}.{svg,png}`.
//!
//! - Data: 1797 images, pixels/16 ∈ [0, 1]; a seeded shuffle gives 1257 training and 540
//!   held-out test images (accuracy is on the test split).
//! - Network: x → h = min(ReLU(W1ᵀx + b1), h_max) → z = W2ᵀ(h/h_max)·h_max + b2 → argmax.
//!   h_max is the largest hidden activation over the training set, so layer 2's inputs fit
//!   the DAC's [0, 1]; the float network uses the same bound, so float and array networks are
//!   the same function. Biases are added digitally. Trained by minibatch SGD with momentum on
//!   softmax cross-entropy, 60 epochs, He-normal initial weights, all seeded.
//! - Arrays: every weight matrix tiled onto `array_n × array_n` passive (0T1R) arrays of linear
//!   cells, G ∈ [1, 100] µS at v_read = 0.2 V, signed weights on differential array pairs,
//!   partial sums added digitally after each tile's ADC ([`TiledMatrix`]). Wires r_wire Ω per
//!   segment on word and bit lines, ideal drivers and virtual grounds, 8-bit analog DAC, ADC
//!   full scale per tile calibrated on 128 training images (not the test set) on the arrays as
//!   read. Drift: ν ~ N(0.05, 0.02) per device (the range of aihwkit's PCM fit), t0 = 20 s.
//!   Faults: stuck-at-ON and stuck-at-OFF, half of `fault_rate` each.
//! - One factor at a time from the baseline array_n = 64, r_wire = 1 Ω, 8-bit ADC, t = 0,
//!   no faults. Points with random device effects (t > 0, faults) are the mean accuracy over
//!   5 array realisations (seeds); the others have no randomness once the network is trained.

use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use xbarsim::crossbar::output::write_text_atomic;
use xbarsim::crossbar::*;
use xbarsim::plot::{write_line_plot, LinePlot, Series, SeriesStyle};

pub const HIDDEN: usize = 32;
const N_TRAIN: usize = 1257;
const EPOCHS: usize = 60;
const BATCH: usize = 32;
const LR: f64 = 0.05;
const MOMENTUM: f64 = 0.9;
const N_CAL: usize = 128;
/// Array realisations averaged per point with random device effects (drift, faults).
const REALISATIONS: usize = 5;

/// Images (pixels/16) and labels.
pub struct Digits {
    pub x: Vec<Vec<f64>>,
    pub y: Vec<usize>,
}

/// Reads `examples/data/digits_8x8.csv` (header, 64 pixels and a label per line).
pub fn load_digits() -> Result<Digits, String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/digits_8x8.csv");
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    let mut d = Digits {
        x: Vec::new(),
        y: Vec::new(),
    };
    for (ln, line) in text.lines().enumerate().skip(1) {
        let f: Vec<f64> = line
            .split(',')
            .map(|s| s.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}:{}: {e}", p.display(), ln + 1))?;
        if f.len() != 65 {
            return Err(format!(
                "{}:{}: {} fields, expected 65",
                p.display(),
                ln + 1,
                f.len()
            ));
        }
        d.x.push(f[..64].iter().map(|v| v / 16.0).collect());
        d.y.push(f[64] as usize);
    }
    Ok(d)
}

/// Seeded train / test split: (train, test) index lists.
pub fn split(n: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x5eed));
    let test = idx.split_off(N_TRAIN.min(n));
    (idx, test)
}

/// The trained network: W1 (64 × HIDDEN), W2 (HIDDEN × 10), row-major `inputs × outputs`.
pub struct Mlp {
    pub w1: Vec<f64>,
    pub b1: Vec<f64>,
    pub w2: Vec<f64>,
    pub b2: Vec<f64>,
    /// Bound of the hidden activations (the DAC range of layer 2).
    pub h_max: f64,
}

fn matvec_t(w: &[f64], n_out: usize, x: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; n_out];
    for (i, xi) in x.iter().enumerate() {
        for (j, yj) in y.iter_mut().enumerate() {
            *yj += xi * w[i * n_out + j];
        }
    }
    y
}

fn argmax(v: &[f64]) -> usize {
    let mut k = 0;
    for (j, x) in v.iter().enumerate() {
        if *x > v[k] {
            k = j;
        }
    }
    k
}

/// Trains the MLP on `train` (SGD with momentum, softmax cross-entropy), seeded.
pub fn train(d: &Digits, train: &[usize], seed: u64) -> Mlp {
    let (ni, nh, no) = (64, HIDDEN, 10);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let he = |n_in: usize| Normal::new(0.0, (2.0 / n_in as f64).sqrt()).expect("σ > 0");
    let (d1, d2) = (he(ni), he(nh));
    let mut w1: Vec<f64> = (0..ni * nh).map(|_| d1.sample(&mut rng)).collect();
    let mut w2: Vec<f64> = (0..nh * no).map(|_| d2.sample(&mut rng)).collect();
    let (mut b1, mut b2) = (vec![0.0; nh], vec![0.0; no]);
    let (mut v1, mut v2, mut vb1, mut vb2) = (
        vec![0.0; ni * nh],
        vec![0.0; nh * no],
        vec![0.0; nh],
        vec![0.0; no],
    );
    let mut order = train.to_vec();
    for _ in 0..EPOCHS {
        order.shuffle(&mut rng);
        for batch in order.chunks(BATCH) {
            let (mut g1, mut g2, mut gb1, mut gb2) = (
                vec![0.0; ni * nh],
                vec![0.0; nh * no],
                vec![0.0; nh],
                vec![0.0; no],
            );
            for &s in batch {
                let x = &d.x[s];
                let a: Vec<f64> = matvec_t(&w1, nh, x)
                    .iter()
                    .zip(&b1)
                    .map(|(z, b)| (z + b).max(0.0))
                    .collect();
                let z: Vec<f64> = matvec_t(&w2, no, &a)
                    .iter()
                    .zip(&b2)
                    .map(|(z, b)| z + b)
                    .collect();
                let zm = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = z.iter().map(|v| (v - zm).exp()).collect();
                let se: f64 = e.iter().sum();
                let dz: Vec<f64> = e
                    .iter()
                    .enumerate()
                    .map(|(j, v)| v / se - if j == d.y[s] { 1.0 } else { 0.0 })
                    .collect();
                let mut da = vec![0.0; nh];
                for h in 0..nh {
                    for j in 0..no {
                        g2[h * no + j] += a[h] * dz[j];
                        da[h] += w2[h * no + j] * dz[j];
                    }
                }
                for j in 0..no {
                    gb2[j] += dz[j];
                }
                for h in 0..nh {
                    if a[h] > 0.0 {
                        gb1[h] += da[h];
                        for i in 0..ni {
                            g1[i * nh + h] += x[i] * da[h];
                        }
                    }
                }
            }
            let k = LR / batch.len() as f64;
            let step = |w: &mut [f64], v: &mut [f64], g: &[f64]| {
                for ((w, v), g) in w.iter_mut().zip(v.iter_mut()).zip(g) {
                    *v = MOMENTUM * *v - k * g;
                    *w += *v;
                }
            };
            step(&mut w1, &mut v1, &g1);
            step(&mut w2, &mut v2, &g2);
            step(&mut b1, &mut vb1, &gb1);
            step(&mut b2, &mut vb2, &gb2);
        }
    }
    let mut mlp = Mlp {
        w1,
        b1,
        w2,
        b2,
        h_max: f64::INFINITY,
    };
    mlp.h_max = train
        .iter()
        .flat_map(|&s| mlp.hidden_pre(&d.x[s]))
        .fold(0.0f64, f64::max);
    mlp
}

impl Mlp {
    /// ReLU hidden activations before the bound.
    fn hidden_pre(&self, x: &[f64]) -> Vec<f64> {
        matvec_t(&self.w1, HIDDEN, x)
            .iter()
            .zip(&self.b1)
            .map(|(z, b)| (z + b).max(0.0))
            .collect()
    }

    /// Layer-2 input in [0, 1] from layer 1's pre-activations (without bias).
    fn layer2_input(&self, z1: &[f64]) -> Vec<f64> {
        z1.iter()
            .zip(&self.b1)
            .map(|(z, b)| ((z + b).max(0.0) / self.h_max).min(1.0))
            .collect()
    }

    /// Float prediction.
    pub fn predict(&self, x: &[f64]) -> usize {
        let h = self.layer2_input(&matvec_t(&self.w1, HIDDEN, x));
        let z = matvec_t(&self.w2, 10, &h);
        argmax(
            &z.iter()
                .zip(&self.b2)
                .map(|(z, b)| z * self.h_max + b)
                .collect::<Vec<_>>(),
        )
    }

    /// Predictions with both layers' multiplies on tiled arrays built from `template`;
    /// the ADCs are calibrated on `x_cal` first.
    pub fn predict_on_arrays(
        &self,
        template: &Crossbar,
        array_n: usize,
        x: &[Vec<f64>],
        x_cal: &[Vec<f64>],
    ) -> Result<Vec<usize>, CrossbarError> {
        let mut t2 = template.clone();
        t2.seed = template.seed.wrapping_add(1);
        let mut l1 = TiledMatrix::new(template, &self.w1, 64, HIDDEN, array_n, Layout::default())?;
        let mut l2 = TiledMatrix::new(&t2, &self.w2, HIDDEN, 10, array_n, Layout::default())?;
        l1.calibrate_adc(x_cal)?;
        let h_cal: Vec<Vec<f64>> = l1
            .multiply(x_cal)?
            .iter()
            .map(|z| self.layer2_input(z))
            .collect();
        l2.calibrate_adc(&h_cal)?;
        let h: Vec<Vec<f64>> = l1
            .multiply(x)?
            .iter()
            .map(|z| self.layer2_input(z))
            .collect();
        Ok(l2
            .multiply(&h)?
            .iter()
            .map(|z| {
                argmax(
                    &z.iter()
                        .zip(&self.b2)
                        .map(|(z, b)| z * self.h_max + b)
                        .collect::<Vec<_>>(),
                )
            })
            .collect())
    }
}

/// The arrays of the study: linear 0T1R cells, G ∈ [1, 100] µS, 0.2 V read.
pub fn template(r_wire: f64, dac_bits: u32, adc_bits: u32, seed: u64) -> Crossbar {
    let mut xb = Crossbar::new(1, 1);
    xb.g_min = 1e-6;
    xb.g_max = 100e-6;
    xb.v_read = 0.2;
    xb.r_row = r_wire;
    xb.r_col = r_wire;
    xb.seed = seed;
    xb.dac = Dac {
        bits: dac_bits,
        mode: DacMode::Analog,
    };
    xb.adc = Adc {
        bits: adc_bits,
        range: AdcRange::MaxOfBatch,
    };
    xb
}

#[derive(Clone, Copy)]
struct Point {
    factor: &'static str,
    array_n: usize,
    r_wire: f64,
    adc_bits: u32,
    time_s: f64,
    fault_rate: f64,
}

const BASE: Point = Point {
    factor: "baseline",
    array_n: 64,
    r_wire: 1.0,
    adc_bits: 8,
    time_s: 0.0,
    fault_rate: 0.0,
};

fn accuracy(pred: &[usize], truth: &[usize]) -> f64 {
    pred.iter().zip(truth).filter(|(a, b)| a == b).count() as f64 / truth.len() as f64
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = PathBuf::from("notebooks-out");
    let mut seed = 1u64;
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        match k.as_str() {
            "--out" => out = PathBuf::from(it.next().ok_or("--out needs a value")?),
            "--seed" => seed = it.next().ok_or("--seed needs a value")?.parse()?,
            _ => return Err(format!("unknown argument {k}").into()),
        }
    }
    std::fs::create_dir_all(&out)?;
    let t0 = std::time::Instant::now();
    let d = load_digits()?;
    let (tr, te) = split(d.x.len(), seed);
    let mlp = train(&d, &tr, seed);
    let x_te: Vec<Vec<f64>> = te.iter().map(|&s| d.x[s].clone()).collect();
    let y_te: Vec<usize> = te.iter().map(|&s| d.y[s]).collect();
    let x_cal: Vec<Vec<f64>> = tr[..N_CAL].iter().map(|&s| d.x[s].clone()).collect();
    let float_pred: Vec<usize> = x_te.iter().map(|x| mlp.predict(x)).collect();
    let acc_float = accuracy(&float_pred, &y_te);
    eprintln!(
        "MLP 64-{HIDDEN}-10 trained in {:.1} s: float test accuracy {:.4} on {} images",
        t0.elapsed().as_secs_f64(),
        acc_float,
        y_te.len()
    );

    let mut points = vec![BASE];
    for n in [16, 32, 128, 256] {
        points.push(Point {
            factor: "array_n",
            array_n: n,
            ..BASE
        });
    }
    for r in [0.0, 0.3, 3.0, 10.0, 30.0] {
        points.push(Point {
            factor: "r_wire_ohm",
            r_wire: r,
            ..BASE
        });
    }
    for b in [2, 3, 4, 5, 6, 10] {
        points.push(Point {
            factor: "adc_bits",
            adc_bits: b,
            ..BASE
        });
    }
    for t in [1.0, 3600.0, 86400.0, 3.15e7] {
        points.push(Point {
            factor: "time_s",
            time_s: t,
            ..BASE
        });
    }
    for f in [0.005, 0.01, 0.02, 0.05, 0.1] {
        points.push(Point {
            factor: "fault_rate",
            fault_rate: f,
            ..BASE
        });
    }
    let pb = indicatif::ProgressBar::with_draw_target(
        Some(points.len() as u64),
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            indicatif::ProgressDrawTarget::stderr()
        } else {
            indicatif::ProgressDrawTarget::hidden()
        },
    );
    let mut rows = Vec::new();
    for p in &points {
        // Random device effects (drift exponents, fault maps): mean over realisations.
        let random = p.time_s > 0.0 || p.fault_rate > 0.0;
        let n_real = if random { REALISATIONS } else { 1 };
        let mut acc = 0.0;
        for r in 0..n_real {
            let mut xb = template(p.r_wire, 8, p.adc_bits, seed.wrapping_add(1000 * r as u64));
            xb.effects = DeviceEffects {
                drift_nu: 0.05,
                drift_nu_sigma: 0.02,
                drift_t0: 20.0,
                time_s: p.time_s,
                stuck_on: p.fault_rate / 2.0,
                stuck_off: p.fault_rate / 2.0,
                ..Default::default()
            };
            let pred = mlp.predict_on_arrays(&xb, p.array_n, &x_te, &x_cal)?;
            acc += accuracy(&pred, &y_te) / n_real as f64;
        }
        rows.push((*p, acc));
        pb.inc(1);
    }
    pb.finish_and_clear();
    let mut csv = String::from("factor,array_n,r_wire_ohm,adc_bits,time_s,fault_rate,accuracy\n");
    for (p, a) in &rows {
        csv += &format!(
            "{},{},{},{},{},{},{a:.6}\n",
            p.factor, p.array_n, p.r_wire, p.adc_bits, p.time_s, p.fault_rate
        );
    }
    write_text_atomic(&out.join("mlp_digits_accuracy.csv"), &csv)?;

    let base_acc = rows[0].1;
    type Get = fn(&Point) -> f64;
    let factors: [(&str, &str, Get, bool); 5] = [
        (
            "array_n",
            "array size N (N×N tiles)",
            |p| p.array_n as f64,
            true,
        ),
        (
            "r_wire_ohm",
            "wire resistance per segment (Ω)",
            |p| p.r_wire,
            false,
        ),
        (
            "adc_bits",
            "ADC resolution (bits)",
            |p| p.adc_bits as f64,
            false,
        ),
        ("time_s", "time after programming (s)", |p| p.time_s, true),
        (
            "fault_rate",
            "stuck-at fault rate (fraction of cells)",
            |p| p.fault_rate,
            false,
        ),
    ];
    for (name, label, get, log) in factors {
        let mut pts: Vec<(f64, f64)> = rows
            .iter()
            .filter(|(p, _)| p.factor == name || p.factor == "baseline")
            .map(|(p, a)| (get(p), *a))
            .filter(|(x, _)| !log || *x > 0.0)
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (lo, hi) = (pts[0].0, pts[pts.len() - 1].0);
        let plot = LinePlot {
            title: format!(
                "MLP 64-{HIDDEN}-10 on 8×8 digits, {} test images: accuracy vs {name}",
                y_te.len()
            ),
            x_label: format!(
                "{label}; others at baseline (64² tiles, 1 Ω, 8-bit ADC, t = 0, no faults)"
            ),
            y_label: "test accuracy".into(),
            x_log: log,
            y_log: false,
            series: vec![
                Series::new(
                    if name == "time_s" || name == "fault_rate" {
                        "on arrays (0T1R linear cells; mean of 5 realisations)"
                    } else {
                        "on arrays (0T1R linear cells)"
                    },
                    pts,
                    SeriesStyle::line_and_markers(),
                ),
                Series::new(
                    format!("floating point ({acc_float:.3})"),
                    vec![(lo, acc_float), (hi, acc_float)],
                    SeriesStyle::dashed(),
                ),
            ],
        };
        write_line_plot(&plot, &out.join(format!("mlp_digits_accuracy_vs_{name}")))?;
    }
    println!("MLP 64-{HIDDEN}-10, 8×8 digits: float accuracy {acc_float:.4}, baseline arrays {base_acc:.4}");
    println!(
        "{:>11} {:>8} {:>11} {:>8} {:>10} {:>10} {:>9}",
        "factor", "array_n", "r_wire_ohm", "adc_bits", "time_s", "fault_rate", "accuracy"
    );
    for (p, a) in &rows {
        println!(
            "{:>11} {:>8} {:>11} {:>8} {:>10} {:>10} {:>9.4}",
            p.factor, p.array_n, p.r_wire, p.adc_bits, p.time_s, p.fault_rate, a
        );
    }
    eprintln!("MLP study done in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}
