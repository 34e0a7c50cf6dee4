//! Levenberg-Marquardt (the `levenberg-marquardt` crate, MINPACK's trust-region algorithm) over
//! a chosen subset of a card's parameters.
//!
//! Coordinates: a positive parameter is fitted as p = ln θ, any other as p = θ. Bounds
//! [lo, hi] on p (the card's declared range, see [`free_param`]) are imposed by the smooth map
//! p = lo + (hi − lo)·(1 + sin u)/2 (MINUIT's transform), so LM works on an unbounded u.
//! The Jacobian is by forward differences in p (the replayed experiments have no analytic
//! derivative with respect to a card parameter). Uncertainties come from the Jacobian at the
//! optimum in p: Cov = s²·(JᵀJ)⁻¹, s² = SSR/(m − k).

use std::cell::{Cell as StdCell, RefCell};

use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::{storage::Owned, DMatrix, DVector, Dyn};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::experiment::Experiment;
use crate::device::{model_from_params, Model};

/// How model and data are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Residual {
    /// log10|y_model| − log10|y_data| (decades); the default, as I-V data span decades.
    Log,
    /// y_model − y_data (the data's unit).
    Absolute,
    /// (y_model − y_data)/|y_data|.
    Relative,
}

impl Residual {
    pub fn parse(s: &str) -> Result<Residual, String> {
        match s {
            "log" => Ok(Residual::Log),
            "abs" | "absolute" => Ok(Residual::Absolute),
            "rel" | "relative" => Ok(Residual::Relative),
            _ => Err(format!("--residual `{s}`: expected log, abs or rel")),
        }
    }
    /// Name in `PREFIX.fit.json`: `log_abs_i` / `log_abs_g`, `absolute`, `relative`.
    pub fn name(self, iv: bool) -> &'static str {
        match (self, iv) {
            (Residual::Log, true) => "log_abs_i",
            (Residual::Log, false) => "log_abs_g",
            (Residual::Absolute, _) => "absolute",
            (Residual::Relative, _) => "relative",
        }
    }
}

/// One free parameter: its name, start value and bounds in the fit coordinate p.
#[derive(Clone, Debug, PartialEq)]
pub struct FreeParam {
    pub name: String,
    /// Index into the model's parameter list.
    pub index: usize,
    pub start: f64,
    /// p = ln θ when true.
    pub log: bool,
    pub lo: f64,
    pub hi: f64,
}

impl FreeParam {
    pub fn theta(&self, p: f64) -> f64 {
        if self.log {
            p.exp()
        } else {
            p
        }
    }
    pub fn p_of(&self, theta: f64) -> f64 {
        if self.log {
            theta.ln()
        } else {
            theta
        }
    }
}

/// Factor either side of the start that bounds a positive parameter whose declared range is
/// open at 0 or very wide (e.g. `(0, 1]` for a current prefactor of 1 mA).
pub const LOG_SPAN: f64 = 1e3;

/// A free parameter with bounds from the declared range `range` (`None` for families that
/// declare none): positive ranges (and positive starts in `[0, max]`) are fitted in ln θ within
/// range ∩ [start/1e3, start·1e3]; others linearly within the range.
pub fn free_param(
    name: &str,
    index: usize,
    start: f64,
    range: Option<crate::device::card::Range>,
) -> Result<FreeParam, String> {
    let (min, max) = match range {
        Some(r) => r.bounds(),
        None => (f64::NEG_INFINITY, f64::INFINITY),
    };
    if !start.is_finite() || start < min || start > max {
        return Err(format!(
            "start value {start:e} of `{name}` is outside its range [{min:e}, {max:e}]"
        ));
    }
    if min >= 0.0 || (range.is_none() && start > 0.0) {
        if start <= 0.0 {
            return Err(format!(
                "start value of `{name}` is {start:e}; a positive parameter is fitted in log \
                 space and needs a positive start (set one with --set {name}=VALUE)"
            ));
        }
        let lo = (start / LOG_SPAN).max(min).max(f64::MIN_POSITIVE);
        let hi = (start * LOG_SPAN).min(max);
        return Ok(FreeParam {
            name: name.into(),
            index,
            start,
            log: true,
            lo: lo.ln(),
            hi: hi.ln(),
        });
    }
    let w = 10.0 * start.abs().max(1e-30);
    Ok(FreeParam {
        name: name.into(),
        index,
        start,
        log: false,
        lo: min.max(start - w),
        hi: max.min(start + w),
    })
}

/// Everything needed to evaluate residuals at a parameter vector.
pub struct Objective<'a> {
    pub family: String,
    /// All parameters of the model (key, value), noise amplitudes zeroed.
    pub base: Vec<(String, f64)>,
    pub free: Vec<FreeParam>,
    pub experiment: &'a Experiment,
    pub residual: Residual,
    /// Added to |y| before the log (A or S), so a zero current stays finite.
    pub floor: f64,
}

impl Objective<'_> {
    pub fn thetas(&self, p: &[f64]) -> Vec<f64> {
        self.free.iter().zip(p).map(|(f, p)| f.theta(*p)).collect()
    }

    pub fn model(&self, p: &[f64]) -> Result<Model, String> {
        let mut kv = self.base.clone();
        for (f, th) in self.free.iter().zip(self.thetas(p)) {
            kv[f.index].1 = th;
        }
        model_from_params(&self.family, &kv)
    }

    pub fn transform(&self, y: &[f64]) -> Vec<f64> {
        match self.residual {
            Residual::Log => y.iter().map(|y| (y.abs() + self.floor).log10()).collect(),
            _ => y.to_vec(),
        }
    }

    pub fn residuals_of(&self, y: &[f64]) -> Vec<f64> {
        let d = self.experiment.measured();
        match self.residual {
            Residual::Log => y
                .iter()
                .zip(d)
                .map(|(y, d)| (y.abs() + self.floor).log10() - (d.abs() + self.floor).log10())
                .collect(),
            Residual::Absolute => y.iter().zip(d).map(|(y, d)| y - d).collect(),
            Residual::Relative => y.iter().zip(d).map(|(y, d)| (y - d) / d.abs()).collect(),
        }
    }

    /// Residuals at p, or the reason the model could not be built or simulated there.
    pub fn residuals(&self, p: &[f64]) -> Result<Vec<f64>, String> {
        let m = self.model(p)?;
        let y = self.experiment.simulate(&m)?;
        Ok(self.residuals_of(&y))
    }

    /// Forward-difference Jacobian in p at `p` (residuals `r0` there).
    pub fn jacobian(&self, p: &[f64], r0: &[f64], penalty: f64) -> DMatrix<f64> {
        let m = r0.len();
        let mut j = DMatrix::zeros(m, p.len());
        for c in 0..p.len() {
            let h = fd_step(&self.free[c], p[c]);
            let mut q = p.to_vec();
            // Step inward near the upper bound.
            let h = if q[c] + h > self.free[c].hi { -h } else { h };
            q[c] += h;
            let r = self.residuals(&q).unwrap_or_else(|_| vec![penalty; m]);
            for i in 0..m {
                j[(i, c)] = (r[i] - r0[i]) / h;
            }
        }
        j
    }
}

/// Step of the finite differences: 1e-3 in ln θ (0.1 %), or 1e-3·|θ| for linear parameters,
/// well above the roughness the adaptive sub-steps of a replay leave in the residuals.
fn fd_step(f: &FreeParam, p: f64) -> f64 {
    if f.log {
        1e-3
    } else {
        1e-3 * p.abs().max(1e-3 * (f.hi - f.lo))
    }
}

fn u_to_p(f: &FreeParam, u: f64) -> f64 {
    f.lo + (f.hi - f.lo) * 0.5 * (1.0 + u.sin())
}
fn dp_du(f: &FreeParam, u: f64) -> f64 {
    (f.hi - f.lo) * 0.5 * u.cos()
}
fn p_to_u(f: &FreeParam, p: f64) -> f64 {
    if f.hi <= f.lo {
        return 0.0;
    }
    let s = (2.0 * (p - f.lo) / (f.hi - f.lo) - 1.0).clamp(-0.999, 0.999);
    s.asin()
}

/// The LM crate's view of one start.
struct LmProblem<'a, 'b> {
    obj: &'b Objective<'a>,
    u: DVector<f64>,
    r: RefCell<Vec<f64>>,
    penalty: f64,
    iterations: StdCell<usize>,
}

impl LmProblem<'_, '_> {
    fn p(&self) -> Vec<f64> {
        self.obj
            .free
            .iter()
            .zip(self.u.iter())
            .map(|(f, u)| u_to_p(f, *u))
            .collect()
    }
}

impl LeastSquaresProblem<f64, Dyn, Dyn> for LmProblem<'_, '_> {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, Dyn>;
    type ParameterStorage = Owned<f64, Dyn>;

    fn set_params(&mut self, u: &DVector<f64>) {
        self.u.copy_from(u);
        let p = self.p();
        let m = self.obj.experiment.measured().len();
        let r = self
            .obj
            .residuals(&p)
            .unwrap_or_else(|_| vec![self.penalty; m]);
        *self.r.borrow_mut() = r;
    }
    fn params(&self) -> DVector<f64> {
        self.u.clone()
    }
    fn residuals(&self) -> Option<DVector<f64>> {
        Some(DVector::from_vec(self.r.borrow().clone()))
    }
    fn jacobian(&self) -> Option<DMatrix<f64>> {
        self.iterations.set(self.iterations.get() + 1);
        let p = self.p();
        let mut j = self.obj.jacobian(&p, &self.r.borrow(), self.penalty);
        for (c, f) in self.obj.free.iter().enumerate() {
            let d = dp_du(f, self.u[c]);
            for i in 0..j.nrows() {
                j[(i, c)] *= d;
            }
        }
        Some(j)
    }
}

/// Result of one LM run.
#[derive(Clone, Debug)]
pub struct StartResult {
    pub start_p: Vec<f64>,
    pub p: Vec<f64>,
    pub ssr: f64,
    pub iterations: usize,
    pub evaluations: usize,
    pub termination: String,
}

/// Start points: the card's values first, then a seeded Latin hypercube of `n - 1` points
/// spanning a factor 10 either side of the start (log parameters) or ±|start| (others),
/// inside the bounds.
pub fn start_points(free: &[FreeParam], n: usize, seed: u64) -> Vec<Vec<f64>> {
    let p0: Vec<f64> = free.iter().map(|f| f.p_of(f.start)).collect();
    let mut out = vec![p0.clone()];
    let m = n.saturating_sub(1);
    if m == 0 {
        return out;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut cols: Vec<Vec<f64>> = Vec::new();
    for (f, p) in free.iter().zip(&p0) {
        let w = if f.log {
            std::f64::consts::LN_10
        } else {
            p.abs().max(1e-3 * (f.hi - f.lo))
        };
        let (a, b) = ((p - w).max(f.lo), (p + w).min(f.hi));
        let mut strata: Vec<usize> = (0..m).collect();
        strata.shuffle(&mut rng);
        cols.push(
            strata
                .iter()
                .map(|&s| {
                    let x: f64 = rng.random();
                    a + (b - a) * (s as f64 + x) / m as f64
                })
                .collect(),
        );
    }
    for k in 0..m {
        out.push(cols.iter().map(|c| c[k]).collect());
    }
    out
}

/// Run LM from every start (in parallel; the result does not depend on the thread count:
/// the best sum of squares wins, ties to the earlier start).
pub fn multistart(
    obj: &Objective,
    starts: &[Vec<f64>],
    progress: &indicatif::ProgressBar,
) -> Result<(StartResult, Vec<StartResult>), String> {
    let m = obj.experiment.measured().len();
    let r0 = obj
        .residuals(&starts[0])
        .map_err(|e| format!("the model cannot be simulated at the start values: {e}"))?;
    let max0 = r0.iter().fold(0.0f64, |a, r| a.max(r.abs()));
    let penalty = 1e3 * max0.max(1.0);
    let results: Vec<StartResult> = starts
        .par_iter()
        .map(|sp| {
            let u: Vec<f64> = obj
                .free
                .iter()
                .zip(sp)
                .map(|(f, p)| p_to_u(f, *p))
                .collect();
            let mut prob = LmProblem {
                obj,
                u: DVector::from_vec(u.clone()),
                r: RefCell::new(vec![0.0; m]),
                penalty,
                iterations: StdCell::new(0),
            };
            prob.set_params(&DVector::from_vec(u));
            let (prob, report) = LevenbergMarquardt::new()
                .with_patience(40)
                .with_ftol(1e-10)
                .with_xtol(1e-10)
                .minimize(prob);
            let p = prob.p();
            let r = prob.r.borrow();
            let ssr: f64 = r.iter().map(|x| x * x).sum();
            let penalised = r.contains(&penalty);
            progress.inc(1);
            StartResult {
                start_p: sp.clone(),
                p,
                ssr: if penalised { f64::INFINITY } else { ssr },
                iterations: prob.iterations.get(),
                evaluations: report.number_of_evaluations,
                termination: format!("{:?}", report.termination),
            }
        })
        .collect();
    let best = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.ssr.is_finite())
        .min_by(|a, b| a.1.ssr.total_cmp(&b.1.ssr).then(a.0.cmp(&b.0)))
        .map(|(_, r)| r.clone())
        .ok_or_else(|| {
            "no start converged to a point where the model can be simulated".to_string()
        })?;
    Ok((best, results))
}

/// Uncertainties at the optimum.
#[derive(Clone, Debug)]
pub struct Uncertainty {
    /// Standard error of θ (delta method for log parameters).
    pub stderr: Vec<f64>,
    pub ci95: Vec<(f64, f64)>,
    pub correlation: Vec<Vec<f64>>,
}

/// Two-sided 95 % quantile of Student's t with `nu` degrees of freedom (Cornish-Fisher
/// expansion about the normal quantile 1.959964; Abramowitz & Stegun 26.7.5), within 1e-3 for
/// nu >= 3.
pub fn t95(nu: f64) -> f64 {
    let z: f64 = 1.959_963_985;
    let g1 = (z.powi(3) + z) / 4.0;
    let g2 = (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / 96.0;
    let g3 = (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / 384.0;
    let g4 = (79.0 * z.powi(9) + 776.0 * z.powi(7) + 1482.0 * z.powi(5)
        - 1920.0 * z.powi(3)
        - 945.0 * z)
        / 92160.0;
    z + g1 / nu + g2 / nu.powi(2) + g3 / nu.powi(3) + g4 / nu.powi(4)
}

/// Covariance-based uncertainties at `p` from a central-difference Jacobian in p.
pub fn uncertainty(obj: &Objective, p: &[f64], r: &[f64]) -> Result<Uncertainty, String> {
    let m = r.len();
    let k = p.len();
    if m <= k {
        return Err(format!(
            "{m} data points cannot determine {k} free parameters with uncertainties"
        ));
    }
    let mut j = DMatrix::zeros(m, k);
    for c in 0..k {
        let f = &obj.free[c];
        let h = fd_step(f, p[c]);
        // Central differences, one-sided where a bound is nearer than the step.
        let up = (p[c] + h).min(f.hi);
        let down = (p[c] - h).max(f.lo);
        let mut a = p.to_vec();
        let mut b = p.to_vec();
        a[c] = up;
        b[c] = down;
        // Where one side breaks a relation between parameters (e.g. g_ini < g_min), use
        // the other side alone.
        let (ra, rb, span) = match (obj.residuals(&a), obj.residuals(&b)) {
            (Ok(ra), Ok(rb)) => (ra, rb, up - down),
            (Ok(ra), Err(_)) => (ra, r.to_vec(), up - p[c]),
            (Err(_), Ok(rb)) => (r.to_vec(), rb, p[c] - down),
            (Err(e), Err(_)) => {
                return Err(format!(
                    "cannot vary `{}` about the optimum for its uncertainty: {e}",
                    f.name
                ))
            }
        };
        for i in 0..m {
            j[(i, c)] = (ra[i] - rb[i]) / span;
        }
    }
    let ssr: f64 = r.iter().map(|x| x * x).sum();
    let s2 = ssr / (m - k) as f64;
    // Scale columns so the normal matrix is well conditioned, then invert.
    let norms: Vec<f64> = (0..k).map(|c| j.column(c).norm()).collect();
    for (c, n) in norms.iter().enumerate() {
        if *n == 0.0 || !n.is_finite() {
            return Err(format!(
                "parameter `{}` is not identifiable from these data (the model does not \
                 depend on it here); remove it from --free",
                obj.free[c].name
            ));
        }
    }
    let mut js = j.clone();
    for (c, n) in norms.iter().enumerate() {
        js.column_mut(c).scale_mut(1.0 / n);
    }
    let jtj = js.transpose() * &js;
    let svd = jtj.clone().svd(true, true);
    let smax = svd.singular_values.max();
    let smin = svd.singular_values.min();
    if smin.is_nan() || smin <= 1e-12 * smax {
        let v = svd.v_t.as_ref().expect("svd v");
        let row = svd.singular_values.imin();
        let c = (0..k)
            .max_by(|a, b| v[(row, *a)].abs().total_cmp(&v[(row, *b)].abs()))
            .unwrap_or(0);
        return Err(format!(
            "the free parameters are not separately identifiable from these data (parameter \
             `{}` is a near-exact combination of the others); remove it from --free",
            obj.free[c].name
        ));
    }
    let inv = jtj
        .try_inverse()
        .ok_or_else(|| "the normal matrix is singular".to_string())?;
    let mut cov = DMatrix::zeros(k, k);
    for a in 0..k {
        for b in 0..k {
            cov[(a, b)] = s2 * inv[(a, b)] / (norms[a] * norms[b]);
        }
    }
    let t = t95((m - k) as f64);
    let mut stderr = Vec::with_capacity(k);
    let mut ci95 = Vec::with_capacity(k);
    for (c, f) in obj.free.iter().enumerate() {
        let sp = cov[(c, c)].sqrt();
        // Beyond a factor e^5 (log) or 100 % (linear) either way, the data do not pin it down.
        let loose = if f.log {
            sp > 5.0
        } else {
            sp > p[c].abs().max(1e-3 * (f.hi - f.lo))
        };
        if loose || !sp.is_finite() {
            return Err(format!(
                "parameter `{}` is not identifiable from these data (standard error {} in {}); \
                 remove it from --free or fix it with --set",
                f.name,
                sp,
                if f.log { "ln θ" } else { "θ" }
            ));
        }
        let th = f.theta(p[c]);
        if f.log {
            stderr.push(th * sp);
            // Truncated at the bounds (the declared range ∩ start·10^±3).
            ci95.push((
                (p[c] - t * sp).max(f.lo).exp(),
                (p[c] + t * sp).min(f.hi).exp(),
            ));
        } else {
            stderr.push(sp);
            // Truncated at the declared range the fit is bounded to.
            ci95.push(((th - t * sp).max(f.lo), (th + t * sp).min(f.hi)));
        }
    }
    let correlation = (0..k)
        .map(|a| {
            (0..k)
                .map(|b| cov[(a, b)] / (cov[(a, a)] * cov[(b, b)]).sqrt())
                .collect()
        })
        .collect();
    for (c, s) in stderr.iter().enumerate() {
        if !s.is_finite() {
            return Err(format!(
                "standard error of `{}` is not finite",
                obj.free[c].name
            ));
        }
    }
    Ok(Uncertainty {
        stderr,
        ci95,
        correlation,
    })
}
