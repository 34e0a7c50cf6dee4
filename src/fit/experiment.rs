//! The three measured experiments, each replayed through a [`Cell`](crate::device::Cell) so the fit compares like
//! with like:
//! - [`IvExperiment`]: the measured V(t) through the state dynamics on the device layer's bench
//!   (`xbar device iv --waveform`): series resistance and the instrument's SET compliance solved
//!   at every time point;
//! - [`PulseExperiment`]: conductance read after each pulse of a train;
//! - [`RetentionExperiment`]: conductance against time at rest.
//!
//! The simulations are deterministic: the fitter builds cells with the cycle-to-cycle noise
//! switched off, and the generator passed to `advance` has a fixed seed.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::{DataError, Dataset, Role};
use crate::device::bench::Bench;
use crate::device::Model;

/// Default ambient temperature of the replayed experiments (K).
pub const DEFAULT_TEMP_K: f64 = 300.0;
/// Polarity of the SET (conductance-increasing) branch of the measured device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polarity {
    Positive,
    Negative,
}

impl Polarity {
    pub fn sign(self) -> f64 {
        match self {
            Polarity::Positive => 1.0,
            Polarity::Negative => -1.0,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Polarity::Positive => "positive",
            Polarity::Negative => "negative",
        }
    }
}

/// Measured I-V sweeps to replay.
#[derive(Clone, Debug)]
pub struct IvExperiment {
    /// Time of each sample (s); a sample with `new_run` starts a new instrument run (its time
    /// base restarts) and no time elapses before it.
    pub time_s: Vec<f64>,
    pub new_run: Vec<bool>,
    /// Applied (programmed) voltage (V).
    pub v_v: Vec<f64>,
    /// Measured current (A).
    pub i_a: Vec<f64>,
    /// SET polarity of the device; the model (SET at positive bias) is driven by sign·V and its
    /// current reported as sign·I.
    pub polarity: Polarity,
    /// Current compliance of the source (A, magnitude), on the SET branch only.
    pub compliance_a: Option<f64>,
    /// Series resistance between the source and the device (Ω).
    pub series_r_ohm: f64,
    pub temp_k: f64,
}

/// Pulse trains with a read after each pulse group.
#[derive(Clone, Debug)]
pub struct PulseExperiment {
    /// Pulses applied since the previous read (0 for the read before the train).
    pub pulses: Vec<usize>,
    /// The device starts again from the card's initial state before this read.
    pub restart: Vec<bool>,
    pub amplitude_v: Vec<f64>,
    pub width_s: Vec<f64>,
    pub v_read_v: Vec<f64>,
    /// Measured read conductance (S).
    pub g_s: Vec<f64>,
    pub temp_k: Vec<f64>,
}

/// Conductance against time at zero bias.
#[derive(Clone, Debug)]
pub struct RetentionExperiment {
    pub time_s: Vec<f64>,
    pub restart: Vec<bool>,
    /// Measured conductance (S).
    pub g_s: Vec<f64>,
    /// Read bias (V); `None` = zero-bias dI/dV, as `xbar device retention` reports.
    pub v_read_v: Option<f64>,
    pub temp_k: Vec<f64>,
}

/// One experiment of any kind.
#[derive(Clone, Debug)]
pub enum Experiment {
    Iv(IvExperiment),
    Pulse(PulseExperiment),
    Retention(RetentionExperiment),
}

/// Options that shape an experiment beyond what the CSV holds.
#[derive(Clone, Debug, Default)]
pub struct ExperimentOptions {
    pub set_polarity: Option<Polarity>,
    pub compliance_a: Option<f64>,
    /// Disable compliance detection.
    pub no_compliance: bool,
    pub series_r_ohm: f64,
    /// Sweep rate (V/s) when the file has no time column.
    pub sweep_rate_v_per_s: Option<f64>,
    pub amplitude_v: Option<f64>,
    pub width_s: Option<f64>,
    pub v_read_v: Option<f64>,
    pub temp_k: Option<f64>,
}

fn opt_err(ds: &Dataset, msg: String) -> DataError {
    DataError {
        file: ds.file.clone(),
        row: None,
        column: None,
        msg,
    }
}

/// SET polarity: the sign of V where the chord conductance |I/V| jumps up most between
/// consecutive samples on an outward (or flat) ramp — the SET event. The chord conductance,
/// unlike |I|, does not jump near 0 V, and rises only smoothly with a nonlinear static law.
pub fn detect_set_polarity(v: &[f64], i: &[f64]) -> Option<Polarity> {
    let vmax = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let mut best = (0.0, None);
    for k in 1..v.len() {
        let (v0, v1) = (v[k - 1], v[k]);
        if v0 * v1 <= 0.0 || v1.abs() + 1e-12 < v0.abs() || v1.abs() < 0.02 * vmax {
            continue;
        }
        let (a, b) = (i[k - 1].abs(), i[k].abs());
        if a <= 0.0 || b <= 0.0 {
            continue;
        }
        let jump = ((b / v1.abs()) / (a / v0.abs())).log10();
        if jump > best.0 {
            best = (
                jump,
                Some(if v1 > 0.0 {
                    Polarity::Positive
                } else {
                    Polarity::Negative
                }),
            );
        }
    }
    best.1
}

/// A compliance plateau on the SET branch: the largest |I| there, if at least three samples
/// sit within 0.1 % of it.
pub fn detect_compliance(v: &[f64], i: &[f64], pol: Polarity) -> Option<f64> {
    let s = pol.sign();
    let set: Vec<f64> = v
        .iter()
        .zip(i)
        .filter(|(v, _)| **v * s > 0.0)
        .map(|(_, i)| i.abs())
        .collect();
    let max = set.iter().cloned().fold(0.0f64, f64::max);
    let n = set.iter().filter(|x| **x >= 0.999 * max).count();
    (max > 0.0 && n >= 3).then_some(max)
}

impl IvExperiment {
    pub fn from_dataset(ds: &Dataset, o: &ExperimentOptions) -> Result<Self, DataError> {
        let v = ds.get(Role::V).expect("v column").to_vec();
        let i = ds.get(Role::I).expect("i column").to_vec();
        let (time_s, new_run) =
            match (ds.get(Role::Time), o.sweep_rate_v_per_s) {
                (Some(t), _) => {
                    let mut runs = vec![true];
                    runs.extend(t.windows(2).map(|w| w[1] < w[0]));
                    (t.to_vec(), runs)
                }
                (None, Some(rate)) if rate > 0.0 && rate.is_finite() => {
                    let mut t = vec![0.0];
                    for w in v.windows(2) {
                        t.push(t.last().unwrap() + (w[1] - w[0]).abs() / rate);
                    }
                    let mut runs = vec![false; v.len()];
                    runs[0] = true;
                    (t, runs)
                }
                (None, _) => return Err(opt_err(
                    ds,
                    "missing column: the I-V replay needs a `time_s` column or --sweep-rate V/s"
                        .into(),
                )),
            };
        let polarity = match o.set_polarity {
            Some(p) => p,
            None => detect_set_polarity(&v, &i).ok_or_else(|| {
                opt_err(
                    ds,
                    "no SET event found (no upward current jump); give --set-polarity".into(),
                )
            })?,
        };
        let compliance_a = match o.compliance_a {
            Some(c) => Some(c.abs()),
            None if o.no_compliance => None,
            None => detect_compliance(&v, &i, polarity),
        };
        Ok(IvExperiment {
            time_s,
            new_run,
            v_v: v,
            i_a: i,
            polarity,
            compliance_a,
            series_r_ohm: o.series_r_ohm,
            temp_k: o.temp_k.unwrap_or(DEFAULT_TEMP_K),
        })
    }
}

impl PulseExperiment {
    pub fn from_dataset(ds: &Dataset, o: &ExperimentOptions) -> Result<Self, DataError> {
        let n = ds.len();
        let per_row = |role: Role, flag: Option<f64>, what: &str| -> Result<Vec<f64>, DataError> {
            match (ds.get(role), flag) {
                (_, Some(x)) => Ok(vec![x; n]),
                (Some(c), None) => Ok(c.to_vec()),
                (None, None) => Err(opt_err(
                    ds,
                    format!(
                        "missing column: the pulse fit needs {what}: a `{}` column or --{}",
                        role.headers()[0],
                        role.key().replace('_', "-")
                    ),
                )),
            }
        };
        let amplitude_v = per_row(Role::Amplitude, o.amplitude_v, "the pulse amplitude")?;
        let width_s = per_row(Role::Width, o.width_s, "the pulse width")?;
        let v_read_v = match (ds.get(Role::VRead), o.v_read_v) {
            (_, Some(x)) => vec![x; n],
            (Some(c), None) => c.to_vec(),
            (None, None) => vec![crate::device::DEFAULT_V_READ; n],
        };
        let g_s = measured_g(ds, Some(&v_read_v))?;
        let (pulses, restart) = match ds.get(Role::Pulse) {
            Some(p) => {
                let mut pulses = Vec::with_capacity(n);
                let mut restart = Vec::with_capacity(n);
                for k in 0..n {
                    let cur = p[k].round();
                    if cur < 0.0 {
                        return Err(ds.error_at(Some(Role::Pulse), k, "negative pulse index"));
                    }
                    if k == 0 || cur < p[k - 1].round() {
                        restart.push(true);
                        pulses.push(cur as usize);
                    } else {
                        restart.push(false);
                        pulses.push((cur - p[k - 1].round()) as usize);
                    }
                }
                (pulses, restart)
            }
            None => {
                let mut p = vec![1; n];
                p[0] = 0;
                let mut r = vec![false; n];
                r[0] = true;
                (p, r)
            }
        };
        for (k, w) in width_s.iter().enumerate() {
            if *w <= 0.0 {
                return Err(ds.error_at(Some(Role::Width), k, "pulse width must be > 0 s"));
            }
        }
        for (k, v) in v_read_v.iter().enumerate() {
            if *v == 0.0 {
                return Err(ds.error_at(Some(Role::VRead), k, "read voltage must be non-zero"));
            }
        }
        let temp_k = temps(ds, o);
        Ok(PulseExperiment {
            pulses,
            restart,
            amplitude_v,
            width_s,
            v_read_v,
            g_s,
            temp_k,
        })
    }
}

fn temps(ds: &Dataset, o: &ExperimentOptions) -> Vec<f64> {
    match (ds.get(Role::Temp), o.temp_k) {
        (_, Some(t)) => vec![t; ds.len()],
        (Some(t), None) => t.to_vec(),
        (None, None) => vec![DEFAULT_TEMP_K; ds.len()],
    }
}

/// Measured conductance from `g_s`, from `r_ohm`, or from a read current and read voltage.
fn measured_g(ds: &Dataset, v_read: Option<&[f64]>) -> Result<Vec<f64>, DataError> {
    if let Some(g) = ds.get(Role::G) {
        return Ok(g.to_vec());
    }
    if let Some(r) = ds.get(Role::R) {
        return r
            .iter()
            .enumerate()
            .map(|(k, r)| {
                if *r > 0.0 {
                    Ok(1.0 / r)
                } else {
                    Err(ds.error_at(Some(Role::R), k, "resistance must be > 0"))
                }
            })
            .collect();
    }
    if let (Some(i), Some(v)) = (ds.get(Role::I), v_read) {
        return Ok(i.iter().zip(v).map(|(i, v)| i / v).collect());
    }
    Err(opt_err(
        ds,
        "missing column: need `g_s`, `r_ohm`, or a read current `i_a`/`i_read_a` with a read \
         voltage"
            .into(),
    ))
}

impl RetentionExperiment {
    pub fn from_dataset(ds: &Dataset, o: &ExperimentOptions) -> Result<Self, DataError> {
        let t = ds.get(Role::Time).expect("time column").to_vec();
        let v_read = o.v_read_v;
        let vr = v_read.map(|v| vec![v; ds.len()]);
        let g_s = measured_g(ds, vr.as_deref())?;
        let mut restart = vec![true];
        restart.extend(t.windows(2).map(|w| w[1] < w[0]));
        for (k, x) in t.iter().enumerate() {
            if *x < 0.0 {
                return Err(ds.error_at(Some(Role::Time), k, "time must be >= 0 s"));
            }
        }
        Ok(RetentionExperiment {
            time_s: t,
            restart,
            g_s,
            v_read_v: v_read,
            temp_k: temps(ds, o),
        })
    }
}

fn fresh_rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(0)
}

impl IvExperiment {
    /// The bench the data were measured on, in model polarity: the series resistance, and the
    /// SMU compliance on the SET branch only (positive model bias after mirroring) — the same
    /// chain solve and ramp stepping as `xbar device iv --waveform --compliance --series-r`.
    pub fn bench(&self) -> Bench {
        Bench {
            temp_k: self.temp_k,
            series_r_ohm: self.series_r_ohm,
            compliance_a: self.compliance_a,
            ..Bench::default()
        }
    }

    /// Simulated current (A, in the data's polarity) at every sample.
    pub fn simulate(&self, model: &Model) -> Result<Vec<f64>, String> {
        let s = self.polarity.sign();
        let bench = self.bench();
        let mut cell = model.nominal_cell();
        let mut rng = fresh_rng();
        let mut out = Vec::with_capacity(self.v_v.len());
        for k in 0..self.v_v.len() {
            if k > 0 && !self.new_run[k] {
                let dt = self.time_s[k] - self.time_s[k - 1];
                if dt > 0.0 {
                    bench.advance_ramp(
                        &mut cell,
                        s * self.v_v[k - 1],
                        s * self.v_v[k],
                        dt,
                        &mut rng,
                    );
                }
            }
            let (_, i) = bench.operate(&cell, s * self.v_v[k]);
            out.push(s * i);
        }
        Ok(out)
    }
}

impl PulseExperiment {
    /// Simulated read conductance (S) at every row. Each pulse is followed by an equal rest at
    /// 0 V, as in `xbar device pulse`.
    pub fn simulate(&self, model: &Model) -> Result<Vec<f64>, String> {
        let fresh = model.nominal_cell();
        let mut cell = fresh.clone();
        let mut rng = fresh_rng();
        let mut out = Vec::with_capacity(self.g_s.len());
        for k in 0..self.g_s.len() {
            if self.restart[k] {
                cell = fresh.clone();
            }
            let t = self.temp_k[k];
            for _ in 0..self.pulses[k] {
                cell.advance(self.amplitude_v[k], self.width_s[k], t, &mut rng);
                cell.advance(0.0, self.width_s[k], t, &mut rng);
            }
            out.push(cell.read_conductance(self.v_read_v[k], t));
        }
        Ok(out)
    }
}

impl RetentionExperiment {
    /// Simulated conductance (S) at every time, the cell resting at 0 V from its initial state.
    pub fn simulate(&self, model: &Model) -> Result<Vec<f64>, String> {
        let fresh = model.nominal_cell();
        let mut cell = fresh.clone();
        let mut rng = fresh_rng();
        let mut now = 0.0;
        let mut out = Vec::with_capacity(self.g_s.len());
        for k in 0..self.g_s.len() {
            if self.restart[k] {
                cell = fresh.clone();
                now = 0.0;
            }
            let t = self.temp_k[k];
            if self.time_s[k] > now {
                cell.advance(0.0, self.time_s[k] - now, t, &mut rng);
                now = self.time_s[k];
            }
            out.push(match self.v_read_v {
                Some(v) => cell.read_conductance(v, t),
                None => cell.current(0.0, t).1,
            });
        }
        Ok(out)
    }
}

impl Experiment {
    /// Measured values the residuals compare with: current (A) for I-V, conductance (S) else.
    pub fn measured(&self) -> &[f64] {
        match self {
            Experiment::Iv(e) => &e.i_a,
            Experiment::Pulse(e) => &e.g_s,
            Experiment::Retention(e) => &e.g_s,
        }
    }

    pub fn simulate(&self, model: &Model) -> Result<Vec<f64>, String> {
        let y = match self {
            Experiment::Iv(e) => e.simulate(model)?,
            Experiment::Pulse(e) => e.simulate(model)?,
            Experiment::Retention(e) => e.simulate(model)?,
        };
        if let Some(k) = y.iter().position(|x| !x.is_finite()) {
            return Err(format!("simulated value at point {} is {}", k + 1, y[k]));
        }
        Ok(y)
    }

    /// Quantity name with unit, for figures.
    pub fn quantity(&self) -> &'static str {
        match self {
            Experiment::Iv(_) => "|I| (A)",
            _ => "G (S)",
        }
    }
}
