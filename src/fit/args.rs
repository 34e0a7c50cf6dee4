//! `xbar fit` arguments (clap), turned into [`FitOptions`].

use std::path::PathBuf;

use super::{ExperimentKind, FitError, FitOptions, Polarity, Residual};
use crate::data;

fn num(text: &str) -> Result<f64, String> {
    crate::spice::number::parse_number(text)
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("'{text}' is not a number (SI suffixes f p n u m k meg g allowed)"))
}

/// Fit a device model to measured CSV data; writes PREFIX.card.toml, PREFIX.fit.csv,
/// PREFIX.fit.json and PREFIX.{svg,png}.
#[derive(clap::Args, Debug, Clone)]
pub struct FitArgs {
    /// Model family (a key of the device registry).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(crate::device::FAMILIES.iter().copied()))]
    pub family: String,
    /// Experiment: iv | pulse | retention.
    #[arg(long)]
    pub kind: String,
    /// Measured CSV (header with units: time_s, v_v, i_a, g_s, r_ohm, pulse, cycle, ...).
    #[arg(long)]
    pub data: PathBuf,
    /// Start card (default: the family's card in device-models/).
    #[arg(long)]
    pub card: Option<PathBuf>,
    /// Parameters to fit, comma-separated (e.g. g0,v0,i0); default: the family's set for the kind (README).
    #[arg(long, value_delimiter = ',')]
    pub free: Vec<String>,
    /// Start values overriding the card, e.g. vel_rlx=1e-3,g_ini=1e-9.
    #[arg(long, value_delimiter = ',')]
    pub set: Vec<String>,
    /// Cycles to fit, N or N-M (1-based; a `cycle` column, or sweeps split where they turn back).
    #[arg(long)]
    pub cycles: Option<String>,
    /// Map quantities to other headers: v=AV,i=AI (quantities: time v i g r pulse cycle amplitude width v_read temp).
    #[arg(long)]
    pub columns: Option<String>,
    /// Units of the columns: i=mA,r=kohm,time=ms, or a bare SI factor (i=1e-5).
    #[arg(long)]
    pub units: Option<String>,
    /// Keep only rows where COLUMN equals VALUE (repeatable), e.g. --where device=U2_0_0.
    #[arg(long = "where")]
    pub filters: Vec<String>,
    /// Current compliance of the source on the SET branch (A); default: detected from a plateau.
    #[arg(long, value_parser = num)]
    pub compliance: Option<f64>,
    /// Do not detect or apply a compliance.
    #[arg(long)]
    pub no_compliance: bool,
    /// Series resistance between source and device (ohm).
    #[arg(long, value_parser = num, default_value_t = 0.0)]
    pub series_r: f64,
    /// SET polarity of the device: positive | negative (default: detected from the data).
    #[arg(long)]
    pub set_polarity: Option<String>,
    /// Sweep rate (V/s) for I-V data without a time column.
    #[arg(long, value_parser = num)]
    pub sweep_rate: Option<f64>,
    /// Pulse amplitude (V) when the data have no amplitude_v column.
    #[arg(long, allow_hyphen_values = true, value_parser = num)]
    pub amplitude: Option<f64>,
    /// Pulse width (s) when the data have no width_s column.
    #[arg(long, value_parser = num)]
    pub width: Option<f64>,
    /// Read voltage (V): pulse reads (default v_read_v column or 0.1 V); retention reads
    /// (default zero-bias dI/dV).
    #[arg(long, allow_hyphen_values = true, value_parser = num)]
    pub v_read: Option<f64>,
    /// Ambient temperature (K) when the data have no temp_k column (default 300).
    #[arg(long, value_parser = num)]
    pub temp_k: Option<f64>,
    /// Residual: log (default; log10|I| or log10 G, RMSE in decades) | abs | rel.
    #[arg(long)]
    pub residual: Option<String>,
    /// Floor added to |I| before the log (A).
    #[arg(long, value_parser = num, default_value_t = 1e-12)]
    pub i_floor: f64,
    /// Number of LM starts (the card's values + a seeded Latin hypercube).
    #[arg(long, default_value_t = 8)]
    pub starts: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print each start's outcome on stderr.
    #[arg(long)]
    pub verbose: bool,
    /// Output prefix.
    #[arg(short = 'o', long = "output", default_value = "fit")]
    pub prefix: PathBuf,
}

impl FitArgs {
    pub fn to_options(&self) -> Result<FitOptions, FitError> {
        let inp = FitError::Input;
        let kind = ExperimentKind::parse(&self.kind).map_err(inp)?;
        let mut o = FitOptions::new(&self.family, kind, &self.data, &self.prefix);
        o.card = self.card.clone();
        o.free = self
            .free
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        for kv in &self.set {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| FitError::Input(format!("--set `{kv}`: expected KEY=VALUE")))?;
            o.set
                .push((k.trim().to_string(), num(v.trim()).map_err(inp)?));
        }
        if let Some(c) = &self.cycles {
            o.import.cycles = Some(data::parse_cycles(c).map_err(inp)?);
        }
        if let Some(c) = &self.columns {
            o.import.columns = data::parse_columns(c).map_err(inp)?;
        }
        if let Some(u) = &self.units {
            o.import.scale = data::parse_units(u).map_err(inp)?;
        }
        for f in &self.filters {
            let (k, v) = f
                .split_once('=')
                .ok_or_else(|| FitError::Input(format!("--where `{f}`: expected COLUMN=VALUE")))?;
            o.import
                .filters
                .push((k.trim().to_string(), v.trim().to_string()));
        }
        let e = &mut o.experiment;
        e.compliance_a = self.compliance;
        e.no_compliance = self.no_compliance;
        e.series_r_ohm = self.series_r;
        if self.series_r < 0.0 {
            return Err(FitError::Input("--series-r must be >= 0".into()));
        }
        e.set_polarity = match self.set_polarity.as_deref() {
            None => None,
            Some("positive") => Some(Polarity::Positive),
            Some("negative") => Some(Polarity::Negative),
            Some(s) => {
                return Err(FitError::Input(format!(
                    "--set-polarity `{s}`: expected positive or negative"
                )))
            }
        };
        e.sweep_rate_v_per_s = self.sweep_rate;
        e.amplitude_v = self.amplitude;
        e.width_s = self.width;
        e.v_read_v = self.v_read;
        e.temp_k = self.temp_k;
        o.residual = match &self.residual {
            Some(r) => Some(Residual::parse(r).map_err(inp)?),
            None => None,
        };
        o.i_floor_a = self.i_floor;
        o.starts = self.starts;
        o.seed = self.seed;
        o.verbose = self.verbose;
        o.command = std::env::args().collect::<Vec<_>>().join(" ");
        Ok(o)
    }
}

/// `xbar fit`: fit, write the outputs, return the summary to print.
pub fn command(args: &FitArgs) -> Result<String, FitError> {
    let o = args.to_options()?;
    let rep = super::run(&o)?;
    Ok(format!(
        "{rep}wrote {p}.card.toml, {p}.fit.csv, {p}.fit.json, {p}.svg, {p}.png",
        p = o.prefix.display()
    ))
}
