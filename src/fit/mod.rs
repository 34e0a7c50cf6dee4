//! Fit a compact model to measured CSV data (`xbar fit`).
//!
//! 1. [`crate::data`] reads the CSV (units, column mapping, cycles, row filters).
//! 2. [`experiment`] turns it into an I-V, pulse or retention experiment and replays it
//!    through a device [`crate::device::Cell`].
//! 3. [`solve`] runs Levenberg-Marquardt over the free card parameters (log space for positive
//!    ones, bounds from the declared ranges, seeded Latin-hypercube multi-start) and derives
//!    standard errors, 95 % intervals and correlations from the Jacobian.
//! 4. [`output`] writes `PREFIX.card.toml`, `PREFIX.fit.csv`, `PREFIX.fit.json` and the
//!    overlay figure `PREFIX.{svg,png}`.

pub mod args;
pub mod experiment;
pub mod output;
pub mod solve;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::data::{self, DataError, ImportOptions, Role};
use crate::device::{self, card::Kind as ParamKind, CardError, Model};
pub use args::{command, FitArgs};
pub use experiment::{Experiment, ExperimentOptions, Polarity};
pub use solve::Residual;

/// Which measurement the data are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExperimentKind {
    Iv,
    Pulse,
    Retention,
}

impl ExperimentKind {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "iv" => Ok(ExperimentKind::Iv),
            "pulse" => Ok(ExperimentKind::Pulse),
            "retention" => Ok(ExperimentKind::Retention),
            _ => Err(format!("--kind `{s}`: expected iv, pulse or retention")),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ExperimentKind::Iv => "iv",
            ExperimentKind::Pulse => "pulse",
            ExperimentKind::Retention => "retention",
        }
    }
}

/// Error of a fit: bad data, bad card, bad option, or a model that cannot follow the data.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Card(#[from] CardError),
    #[error("{0}")]
    Input(String),
    #[error("fit failed: {0}")]
    Failed(String),
    #[error("{path}: {msg}")]
    Output { path: PathBuf, msg: String },
}

/// Everything `xbar fit` needs.
#[derive(Clone, Debug)]
pub struct FitOptions {
    pub family: String,
    pub kind: ExperimentKind,
    pub data: PathBuf,
    /// Start card; `None` = the family's card shipped in `device-models/`.
    pub card: Option<PathBuf>,
    /// Start values overriding the card (`--set key=value`).
    pub set: Vec<(String, f64)>,
    pub free: Vec<String>,
    pub import: ImportOptions,
    pub experiment: ExperimentOptions,
    pub residual: Option<Residual>,
    /// Floor added to |I| before the log for I-V data (A).
    pub i_floor_a: f64,
    pub starts: usize,
    pub seed: u64,
    pub prefix: PathBuf,
    /// Command line recorded in the card's provenance comment.
    pub command: String,
    /// Print every start's outcome on stderr.
    pub verbose: bool,
}

impl FitOptions {
    pub fn new(family: &str, kind: ExperimentKind, data: &Path, prefix: &Path) -> Self {
        FitOptions {
            family: family.into(),
            kind,
            data: data.into(),
            card: None,
            set: Vec::new(),
            free: Vec::new(),
            import: ImportOptions::default(),
            experiment: ExperimentOptions::default(),
            residual: None,
            i_floor_a: 1e-12,
            starts: 8,
            seed: 1,
            prefix: prefix.into(),
            command: String::new(),
            verbose: false,
        }
    }
}

/// One fitted parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct FittedParam {
    pub name: String,
    pub unit: String,
    pub start: f64,
    pub value: f64,
    pub stderr: f64,
    pub ci95_low: f64,
    pub ci95_high: f64,
}

/// What a fit produced.
#[derive(Clone, Debug)]
pub struct FitReport {
    pub family: String,
    pub kind: ExperimentKind,
    pub residual: Residual,
    pub params: Vec<FittedParam>,
    pub correlation: Vec<Vec<f64>>,
    /// Root-mean-square residual in the residual's unit (decades for `log`).
    pub rmse: f64,
    pub r2: f64,
    pub n_points: usize,
    pub iterations: usize,
    pub evaluations: usize,
    pub starts: usize,
    pub termination: String,
    pub wall_time_s: f64,
    pub data_file: PathBuf,
    pub data_sha256: String,
    /// SET polarity and compliance used for an I-V replay.
    pub set_polarity: Option<Polarity>,
    pub compliance_a: Option<f64>,
    /// Start card text (for writing the fitted card) and its path.
    pub start_card_text: String,
    pub start_card_path: PathBuf,
    /// Measured and simulated values at the data points, and the experiment (for figures).
    pub measured: Vec<f64>,
    pub simulated: Vec<f64>,
    pub experiment: Experiment,
    /// The fitted model.
    pub model: Model,
}

/// Start card of each family when `--card` is not given (the cards in `device-models/`).
/// Parameters fitted when `--free` is not given, per family and kind: the ones each experiment
/// determines best — the static conduction law and the state it starts from, plus the switching
/// rate the sweep or the train exercises, or the relaxation law for retention. `None` (MTJ
/// retention, CBRAM retention: no motion at zero bias in those models) means `--free` is
/// required. Listed in README, "Fit your own data".
pub fn default_free(family: &str, kind: ExperimentKind) -> Option<&'static [&'static str]> {
    let i = match kind {
        ExperimentKind::Iv => 0,
        ExperimentKind::Pulse => 1,
        ExperimentKind::Retention => 2,
    };
    device::Model::fit_free(family)?[i]
}

/// The family's shipped card (path, text): each family declares it
/// ([`device::Family::DEFAULT_CARD`]).
pub fn default_card(family: &str) -> Option<(&'static str, &'static str)> {
    device::Model::default_card(family)
}

fn input(msg: impl Into<String>) -> FitError {
    FitError::Input(msg.into())
}

/// Roles each kind reads: (required, optional).
fn roles(kind: ExperimentKind) -> (Vec<Role>, Vec<Role>) {
    match kind {
        ExperimentKind::Iv => (vec![Role::V, Role::I], vec![Role::Time, Role::Cycle]),
        ExperimentKind::Pulse => (
            vec![],
            vec![
                Role::G,
                Role::R,
                Role::I,
                Role::Pulse,
                Role::Amplitude,
                Role::Width,
                Role::VRead,
                Role::Temp,
            ],
        ),
        ExperimentKind::Retention => (
            vec![Role::Time],
            vec![Role::G, Role::R, Role::I, Role::Temp],
        ),
    }
}

/// Load the data, fit, and return the report (no files written; see [`run`]).
pub fn fit(o: &FitOptions) -> Result<FitReport, FitError> {
    let t0 = Instant::now();
    if !device::FAMILIES.contains(&o.family.as_str()) {
        return Err(input(format!(
            "--family `{}`: known families: {}",
            o.family,
            device::FAMILIES.join(", ")
        )));
    }
    // Start card.
    let (card_path, card_text) = match &o.card {
        Some(p) => (
            p.clone(),
            std::fs::read_to_string(p).map_err(|e| CardError {
                file: p.clone(),
                line: None,
                key: String::new(),
                msg: format!("cannot read card: {e}"),
            })?,
        ),
        None => {
            let (p, t) = default_card(&o.family).ok_or_else(|| {
                input(format!(
                    "family `{}` has no default start card; give --card",
                    o.family
                ))
            })?;
            (PathBuf::from(p), t.to_string())
        }
    };
    let start_model = device::parse_card(&card_path, &card_text)?;
    if start_model.family() != o.family {
        return Err(input(format!(
            "{}: the card is family `{}`, but --family is `{}`",
            card_path.display(),
            start_model.family(),
            o.family
        )));
    }
    // Parameters: card values, --set overrides, noise amplitudes off.
    let specs = device::family_specs(&o.family);
    let mut base: Vec<(String, f64)> = start_model
        .params()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let index_of = |base: &[(String, f64)], key: &str| base.iter().position(|(k, _)| k == key);
    // The names are fixed from here on (only the values change).
    let known = base
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let index_for_flag = |base: &[(String, f64)], flag: &str, key: &str| {
        index_of(base, key).ok_or_else(|| {
            input(format!(
                "{flag} {key}: not a {} parameter; known: {known}",
                o.family
            ))
        })
    };
    for (k, v) in &o.set {
        let i = index_for_flag(&base, "--set", k)?;
        base[i].1 = *v;
    }
    if let Some(specs) = specs {
        for s in specs {
            if s.kind == ParamKind::C2c && s.range.contains(0.0) {
                if let Some(i) = index_of(&base, s.name) {
                    base[i].1 = 0.0;
                }
            }
        }
    }
    let free_names: Vec<String> = if o.free.is_empty() {
        match default_free(&o.family, o.kind) {
            Some(d) => d.iter().map(|s| s.to_string()).collect(),
            None => {
                return Err(input(format!(
                    "family `{}` has no default free set for --kind {}; give the parameters to fit \
                     with --free (comma-separated); {} parameters: {known}",
                    o.family,
                    o.kind.name(),
                    o.family,
                )))
            }
        }
    } else {
        o.free.clone()
    };
    let mut free = Vec::new();
    for name in &free_names {
        let i = index_for_flag(&base, "--free", name)?;
        if free.iter().any(|f: &solve::FreeParam| f.index == i) {
            return Err(input(format!("--free lists `{name}` twice")));
        }
        let range = specs.and_then(|s| s.iter().find(|s| s.name == name).map(|s| s.range));
        free.push(solve::free_param(name, i, base[i].1, range).map_err(input)?);
    }
    // Data and experiment.
    let (req, opt) = roles(o.kind);
    let ds = data::load_csv(&o.data, &o.import, &req, &opt)?;
    let experiment = match o.kind {
        ExperimentKind::Iv => {
            Experiment::Iv(experiment::IvExperiment::from_dataset(&ds, &o.experiment)?)
        }
        ExperimentKind::Pulse => Experiment::Pulse(experiment::PulseExperiment::from_dataset(
            &ds,
            &o.experiment,
        )?),
        ExperimentKind::Retention => Experiment::Retention(
            experiment::RetentionExperiment::from_dataset(&ds, &o.experiment)?,
        ),
    };
    let residual = o.residual.unwrap_or(Residual::Log);
    let floor = match o.kind {
        ExperimentKind::Iv => o.i_floor_a,
        _ => 0.0,
    };
    // Measured values the residual cannot take.
    let role = match o.kind {
        ExperimentKind::Iv => Role::I,
        _ => *[Role::G, Role::R, Role::I]
            .iter()
            .find(|r| ds.has(**r))
            .unwrap_or(&Role::G),
    };
    for (k, y) in experiment.measured().iter().enumerate() {
        let bad = match residual {
            Residual::Log => y.abs() + floor <= 0.0,
            Residual::Relative => *y == 0.0,
            Residual::Absolute => false,
        };
        if bad || !y.is_finite() {
            return Err(ds
                .error_at(
                    Some(role),
                    k,
                    format!("value {y:e} cannot be fitted with the {residual:?} residual"),
                )
                .into());
        }
    }
    let obj = solve::Objective {
        family: o.family.clone(),
        base,
        free,
        experiment: &experiment,
        residual,
        floor,
    };
    // Latin hypercube over four times as many points as needed; points that break a relation
    // between parameters (e.g. g_ini > g_max) are dropped, the first feasible ones kept.
    let n_starts = o.starts.max(1);
    let candidates = solve::start_points(&obj.free, 1 + 4 * (n_starts - 1), o.seed);
    let starts: Vec<Vec<f64>> = candidates[..1]
        .iter()
        .cloned()
        .chain(
            candidates[1..]
                .iter()
                .filter(|p| obj.model(p).is_ok())
                .take(n_starts - 1)
                .cloned(),
        )
        .collect();
    let bar = indicatif::ProgressBar::new(starts.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("fit {bar:30} {pos}/{len} starts {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (best, all) = solve::multistart(&obj, &starts, &bar).map_err(FitError::Failed)?;
    bar.finish_and_clear();
    if o.verbose {
        for (k, s) in all.iter().enumerate() {
            eprintln!(
                "start {k}: from {:?} to {:?}: SSR {:e}, {} iterations, {}",
                obj.thetas(&s.start_p),
                obj.thetas(&s.p),
                s.ssr,
                s.iterations,
                s.termination
            );
        }
    }
    let r = obj.residuals(&best.p).map_err(FitError::Failed)?;
    let unc = solve::uncertainty(&obj, &best.p, &r).map_err(FitError::Failed)?;
    let model = obj.model(&best.p).map_err(FitError::Failed)?;
    let simulated = experiment.simulate(&model).map_err(FitError::Failed)?;
    let n = r.len();
    let ssr: f64 = r.iter().map(|x| x * x).sum();
    let rmse = (ssr / n as f64).sqrt();
    let yt = obj.transform(experiment.measured());
    let mean = yt.iter().sum::<f64>() / n as f64;
    let sst: f64 = match residual {
        Residual::Relative => experiment
            .measured()
            .iter()
            .map(|y| ((y - mean) / y.abs()).powi(2))
            .sum(),
        _ => yt.iter().map(|y| (y - mean).powi(2)).sum(),
    };
    let r2 = if sst > 0.0 { 1.0 - ssr / sst } else { f64::NAN };
    let thetas = obj.thetas(&best.p);
    let params = obj
        .free
        .iter()
        .enumerate()
        .map(|(c, f)| FittedParam {
            name: f.name.clone(),
            unit: specs
                .and_then(|s| s.iter().find(|s| s.name == f.name).map(|s| s.unit))
                .unwrap_or("")
                .to_string(),
            start: f.start,
            value: thetas[c],
            stderr: unc.stderr[c],
            ci95_low: unc.ci95[c].0,
            ci95_high: unc.ci95[c].1,
        })
        .collect();
    let (set_polarity, compliance_a) = match &experiment {
        Experiment::Iv(e) => (Some(e.polarity), e.compliance_a),
        _ => (None, None),
    };
    if !rmse.is_finite() {
        return Err(FitError::Failed("the RMSE is not finite".into()));
    }
    Ok(FitReport {
        family: o.family.clone(),
        kind: o.kind,
        residual,
        params,
        correlation: unc.correlation,
        rmse,
        r2,
        n_points: n,
        iterations: best.iterations,
        evaluations: best.evaluations,
        starts: starts.len(),
        termination: best.termination,
        wall_time_s: t0.elapsed().as_secs_f64(),
        data_file: o.data.clone(),
        data_sha256: ds.sha256.clone(),
        set_polarity,
        compliance_a,
        start_card_text: card_text,
        start_card_path: card_path,
        measured: experiment.measured().to_vec(),
        simulated,
        experiment,
        model,
    })
}

/// Fit and write `PREFIX.card.toml`, `PREFIX.fit.csv`, `PREFIX.fit.json`, `PREFIX.{svg,png}`.
pub fn run(o: &FitOptions) -> Result<FitReport, FitError> {
    let mut rep = fit(o)?;
    let t = Instant::now();
    output::write_all(&rep, o)?;
    rep.wall_time_s += t.elapsed().as_secs_f64();
    Ok(rep)
}

impl FitReport {
    /// The RMSE with its unit: decades for the log residual, else 4 significant digits.
    pub fn rmse_text(&self) -> String {
        match self.residual {
            Residual::Log => format!("{:.4} dec", self.rmse),
            Residual::Relative => format!("{:.4e}", self.rmse),
            Residual::Absolute => format!(
                "{:.4e} {}",
                self.rmse,
                if self.kind == ExperimentKind::Iv {
                    "A"
                } else {
                    "S"
                }
            ),
        }
    }
}

impl std::fmt::Display for FitReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} {} fit of {}: {} points, RMSE {} ({}), R² {:.4}, {} iterations, {} starts, {:.2} s",
            self.family,
            self.kind.name(),
            self.data_file.display(),
            self.n_points,
            self.rmse_text(),
            self.residual.name(self.kind == ExperimentKind::Iv),
            self.r2,
            self.iterations,
            self.starts,
            self.wall_time_s
        )?;
        if let Some(p) = self.set_polarity {
            writeln!(
                f,
                "SET polarity {}, compliance {}",
                p.name(),
                self.compliance_a
                    .map_or("none".to_string(), |c| format!("{c:e} A"))
            )?;
        }
        writeln!(f, "parameter,value,stderr,ci95_low,ci95_high")?;
        for p in &self.params {
            writeln!(
                f,
                "{},{:e},{:e},{:e},{:e}",
                p.name, p.value, p.stderr, p.ci95_low, p.ci95_high
            )?;
        }
        Ok(())
    }
}
