//! Files a fit writes, each through a temporary file and a rename.

use std::path::{Path, PathBuf};

use super::{ExperimentKind, FitError, FitOptions, FitReport};
use crate::device;
use crate::plot::{self, LinePlot, Series, SeriesStyle};
use crate::report::write_atomic;

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

fn out_err(path: &Path, msg: impl std::fmt::Display) -> FitError {
    FitError::Output {
        path: path.to_path_buf(),
        msg: msg.to_string(),
    }
}

/// Today's UTC date and time as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, H. Hinnant).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Section of a card a key lives in, as the family's registry entry declares it
/// (`params`, `variability.c2c`, `variability.d2d`); for a card in the old flat layout (no
/// `[params]` table) top level, or `variability` for `variability.<k>` keys.
fn section_of(family: &str, key: &str, text: &str) -> (String, String) {
    let bare = key.strip_prefix("variability.").unwrap_or(key);
    let flat_layout = !text.lines().any(|l| l.trim() == "[params]");
    if flat_layout {
        return match key.strip_prefix("variability.") {
            Some(k) => ("variability".into(), k.into()),
            None => (String::new(), key.into()),
        };
    }
    let section = device::Model::card_section(family, key).unwrap_or("params");
    (section.into(), bare.into())
}

/// The start card's text with `values` written in place (comments and layout kept; a key the
/// card did not set is added at the top of its section).
pub fn set_card_values(family: &str, text: &str, values: &[(String, f64)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (key, value) in values {
        let (section, bare) = section_of(family, key, text);
        let mut current = String::new();
        let mut header_line: Option<usize> = if section.is_empty() { Some(0) } else { None };
        let mut done = false;
        for line in lines.iter_mut() {
            let t = line.trim();
            if t.starts_with('[') {
                current = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
                continue;
            }
            if current != section {
                continue;
            }
            let Some((k, rest)) = t.split_once('=') else {
                continue;
            };
            if k.trim().trim_matches('"') != bare {
                continue;
            }
            let comment = rest.find('#').map(|i| rest[i..].to_string());
            *line = match comment {
                Some(c) => format!("{bare} = {value:e} {c}"),
                None => format!("{bare} = {value:e}"),
            };
            done = true;
            break;
        }
        if done {
            continue;
        }
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim();
            if t.starts_with('[') && t.trim_matches(|c| c == '[' || c == ']').trim() == section {
                header_line = Some(i + 1);
            }
        }
        match header_line {
            Some(i) => lines.insert(i, format!("{bare} = {value:e}")),
            None => {
                lines.push(String::new());
                lines.push(format!("[{section}]"));
                lines.push(format!("{bare} = {value:e}"));
            }
        }
    }
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// The fitted card: provenance comment + start card with the fitted values.
pub fn fitted_card_text(rep: &FitReport, o: &FitOptions) -> String {
    let values: Vec<(String, f64)> = rep
        .params
        .iter()
        .map(|p| (p.name.clone(), p.value))
        .chain(
            o.set
                .iter()
                .filter(|&(k, _)| !rep.params.iter().any(|p| &p.name == k))
                .cloned(),
        )
        .collect();
    let body = set_card_values(&rep.family, &rep.start_card_text, &values);
    let mut head = String::new();
    head.push_str(&format!(
        "# Fitted by xbarsim {} `xbar fit` on {}\n",
        env!("CARGO_PKG_VERSION"),
        utc_now()
    ));
    head.push_str(&format!(
        "# data: {} (sha256 {})\n",
        rep.data_file.display(),
        rep.data_sha256
    ));
    head.push_str(&format!(
        "# command: {}\n",
        if o.command.is_empty() {
            "(library call xbarsim::fit::run)"
        } else {
            &o.command
        }
    ));
    head.push_str(&format!(
        "# start card: {}; free: {}; {} residual RMSE {:.4e}, R² {:.4}, {} points\n",
        rep.start_card_path.display(),
        rep.params
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(","),
        rep.residual.name(rep.kind == ExperimentKind::Iv),
        rep.rmse,
        rep.r2,
        rep.n_points
    ));
    head.push_str("# The rest of this file is the start card with the fitted values written in.\n");
    head + &body
}

fn csv_text(rep: &FitReport) -> String {
    let mut s = String::from("parameter,value,stderr,ci95_low,ci95_high\n");
    for p in &rep.params {
        s.push_str(&format!(
            "{},{:e},{:e},{:e},{:e}\n",
            p.name, p.value, p.stderr, p.ci95_low, p.ci95_high
        ));
    }
    s
}

fn json_text(rep: &FitReport, o: &FitOptions) -> String {
    let params: Vec<serde_json::Value> = rep
        .params
        .iter()
        .map(|p| {
            serde_json::json!({
                "name": p.name, "unit": p.unit, "start": p.start, "value": p.value,
                "stderr": p.stderr, "ci95_low": p.ci95_low, "ci95_high": p.ci95_high,
            })
        })
        .collect();
    let v = serde_json::json!({
        "rmse": rep.rmse,
        "r2": rep.r2,
        "residual": rep.residual.name(rep.kind == ExperimentKind::Iv),
        "n_points": rep.n_points,
        "iterations": rep.iterations,
        "evaluations": rep.evaluations,
        "starts": rep.starts,
        "seed": o.seed,
        "termination": rep.termination,
        "wall_time_s": rep.wall_time_s,
        "family": rep.family,
        "kind": rep.kind.name(),
        "data": rep.data_file.display().to_string(),
        "data_sha256": rep.data_sha256,
        "set_polarity": rep.set_polarity.map(|p| p.name()),
        "compliance_a": rep.compliance_a,
        "free": rep.params.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
        "parameters": params,
        "correlation": rep.correlation,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// Overlay of data and model: |I| against V for I-V (log scale), G against pulse number or
/// time otherwise.
pub fn overlay_plot(rep: &FitReport, title: &str) -> LinePlot {
    use super::Experiment;
    let (x, x_label, x_log, y_label): (Vec<f64>, &str, bool, &str) = match &rep.experiment {
        Experiment::Iv(e) => (e.v_v.clone(), "V (V)", false, "|I| (A)"),
        Experiment::Pulse(e) => {
            let mut n = 0usize;
            let x = e
                .pulses
                .iter()
                .map(|p| {
                    n += p;
                    n as f64
                })
                .collect();
            (x, "pulse number", false, "G (S)")
        }
        Experiment::Retention(e) => {
            let pos = e.time_s.iter().cloned().filter(|t| *t > 0.0);
            let (lo, hi) = pos.fold((f64::INFINITY, 0.0f64), |(a, b), t| (a.min(t), b.max(t)));
            (e.time_s.clone(), "time (s)", hi > 100.0 * lo, "G (S)")
        }
    };
    let abs =
        |y: &[f64]| -> Vec<(f64, f64)> { x.iter().zip(y).map(|(x, y)| (*x, y.abs())).collect() };
    let model = SeriesStyle::line();
    LinePlot {
        title: title.to_string(),
        x_label: x_label.into(),
        y_label: y_label.into(),
        x_log,
        y_log: rep.kind == ExperimentKind::Iv || {
            let pos = rep.measured.iter().chain(&rep.simulated).map(|y| y.abs());
            let (lo, hi) = pos.fold((f64::INFINITY, 0.0f64), |(a, b), y| (a.min(y), b.max(y)));
            hi > 10.0 * lo
        },
        series: vec![
            Series::new("measured", abs(&rep.measured), SeriesStyle::markers()),
            Series::new(
                format!("model ({} fit, RMSE {})", rep.family, rep.rmse_text()),
                abs(&rep.simulated),
                model,
            ),
        ],
    }
}

/// Write the four outputs next to `o.prefix`. The card is read back through the card parser
/// before it is written, so what lands on disk loads in every other command.
pub fn write_all(rep: &FitReport, o: &FitOptions) -> Result<(), FitError> {
    let card_path = with_suffix(&o.prefix, ".card.toml");
    let card = fitted_card_text(rep, o);
    device::parse_card(&card_path, &card)?;
    write_atomic(&card_path, card.as_bytes()).map_err(|e| out_err(&card_path, e))?;
    let csv_path = with_suffix(&o.prefix, ".fit.csv");
    write_atomic(&csv_path, csv_text(rep).as_bytes()).map_err(|e| out_err(&csv_path, e))?;
    let json_path = with_suffix(&o.prefix, ".fit.json");
    write_atomic(&json_path, json_text(rep, o).as_bytes()).map_err(|e| out_err(&json_path, e))?;
    let stem = o.prefix.clone();
    let name = o
        .data
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let title = format!("{} {} fit: {}", rep.family, rep.kind.name(), name);
    plot::write_line_plot(&overlay_plot(rep, &title), &stem).map_err(|e| out_err(&stem, e))?;
    Ok(())
}
