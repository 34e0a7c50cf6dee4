//! `xbar`: the command-line layer over the xbarsim library. Each subcommand parses its
//! arguments and calls one library function.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xbarsim::check::Tolerance;
use xbarsim::crossbar;
use xbarsim::programming;
use xbarsim::runner;

#[derive(Parser)]
#[command(
    name = "xbar",
    version,
    about = "Memristive crossbar simulator (xbarsim)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run every analysis of a netlist; write PREFIX.{op,dc,tran}.csv, or print the operating point.
    Run {
        netlist: PathBuf,
        /// Output prefix for the CSV files.
        #[arg(short = 'o', long = "output")]
        prefix: Option<PathBuf>,
    },
    /// Compare decks NAME.cir with their reference NAME.{op,dc,tran}.csv; non-zero exit on any failure.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Relative tolerance for .op and .dc.
        #[arg(long, default_value_t = 1e-6)]
        reltol: f64,
        /// Transient tolerance relative to each signal's range.
        #[arg(long, default_value_t = 1e-3)]
        tran_tol: f64,
        /// Take transient references from a fresh ngspice run at ngspice's own time points
        /// instead of the stored NAME.tran.csv (needs ngspice on PATH).
        #[arg(long)]
        ngspice_points: bool,
    },
    /// Single-device experiments on a parameter card (device-models/*.toml).
    Device {
        #[command(subcommand)]
        cmd: DeviceCmd,
    },
    /// Matrix-vector multiply on a crossbar config: writes PREFIX.mvm.csv
    /// (column,ideal_a,analog_a,digital_code,rel_error) and prints the error summary.
    Mvm {
        config: PathBuf,
        /// Input vectors, one per row (fractions of full scale in [0, 1]); default all full scale.
        #[arg(long)]
        inputs: Option<PathBuf>,
        #[arg(short = 'o', long = "output")]
        prefix: Option<PathBuf>,
    },
    /// Read one cell with a biasing scheme for the unselected lines.
    Read {
        config: PathBuf,
        /// Selected cell as ROW,COL (0-based).
        #[arg(long, value_parser = cell_index)]
        cell: (usize, usize),
        /// floating | v/2 | v/3 | grounded
        #[arg(long, default_value = "v/2")]
        scheme: String,
        /// Read voltage (V); default the config's v_read.
        #[arg(long, value_parser = si)]
        v: Option<f64>,
    },
    /// Write the array as an ngspice deck (cells frozen, every wire segment an R).
    Export {
        config: PathBuf,
        #[arg(short = 'o', long = "output")]
        out: PathBuf,
    },
    /// Sweep one config key over a list of values with Monte Carlo trials (in parallel).
    Sweep { sweep: PathBuf },
    /// Write-verify a target pattern into the array; writes PREFIX.program.csv
    /// (row,col,target_s,final_s,pulses,success,energy_j).
    Program {
        config: PathBuf,
        /// Weights CSV (rows × cols, [0, 1]; [-1, 1] for 2T2R), mapped like `[weights] csv`.
        #[arg(long)]
        targets: Option<PathBuf>,
        /// Read conductances (S), rows × bit lines.
        #[arg(long)]
        targets_siemens: Option<PathBuf>,
        /// ispp | alibart | fixed
        #[arg(long, default_value = "ispp")]
        scheme: String,
        /// Relative tolerance window (default the config's, 0.05).
        #[arg(long)]
        tolerance: Option<f64>,
        /// Absolute tolerance window (S) instead of the relative one.
        #[arg(long, value_parser = si)]
        tolerance_abs: Option<f64>,
        /// Pulse budget per cell.
        #[arg(long)]
        budget: Option<usize>,
        /// Start from hrs | lrs instead of the state `[weights]` gives.
        #[arg(long)]
        initial: Option<String>,
        /// Skip the final re-verify pass.
        #[arg(long)]
        no_reverify: bool,
        #[arg(short = 'o', long = "output")]
        prefix: Option<PathBuf>,
    },
    /// One pulse on one cell with the unselected lines biased; writes PREFIX.disturb.csv
    /// (row,col,g_before_s,g_after_s).
    Pulse {
        config: PathBuf,
        #[arg(long, value_parser = cell_index)]
        cell: (usize, usize),
        /// Cell voltage (V); negative = RESET.
        #[arg(long, allow_hyphen_values = true, value_parser = si)]
        v: f64,
        /// Pulse width (s).
        #[arg(long, value_parser = si)]
        width: f64,
        /// floating | v/2 | v/3 | grounded (default the config's program.unselected)
        #[arg(long)]
        scheme: Option<String>,
        /// Gate voltage of the selected word line (V); default the config's v_gate.
        #[arg(long, value_parser = si)]
        v_gate: Option<f64>,
        #[arg(short = 'o', long = "output")]
        prefix: Option<PathBuf>,
    },
    /// STDP window ΔG(Δt) of cell (0, 0) from spike overlap; writes PREFIX.stdp.csv (dt_s,dg_s,dg_rel).
    Stdp {
        config: PathBuf,
        #[arg(long, allow_hyphen_values = true, value_parser = si)]
        dt_from: Option<f64>,
        #[arg(long, allow_hyphen_values = true, value_parser = si)]
        dt_to: Option<f64>,
        #[arg(long, default_value_t = 61)]
        points: usize,
        #[arg(short = 'o', long = "output")]
        prefix: Option<PathBuf>,
    },
}

/// `R,C` as two 0-based indices.
fn cell_index(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("'{text}' is not ROW,COL");
    let (r, c) = text.split_once(',').ok_or_else(bad)?;
    Ok((
        r.trim().parse().map_err(|_| bad())?,
        c.trim().parse().map_err(|_| bad())?,
    ))
}

#[derive(Subcommand)]
enum DeviceCmd {
    /// Quasi-static I-V loop 0 -> vmax -> vmin -> 0 (columns time_s,v_v,i_a,state...).
    Iv {
        card: PathBuf,
        #[arg(long, allow_hyphen_values = true, value_parser = si)]
        vmax: Option<f64>,
        #[arg(long, allow_hyphen_values = true, value_parser = si)]
        vmin: Option<f64>,
        /// Period of the triangular sweep (s).
        #[arg(long, value_parser = si)]
        period: Option<f64>,
        #[arg(short = 'o')]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Conductance read at a small bias after each of COUNT pulses (columns pulse,g_s,state...).
    Pulse {
        card: PathBuf,
        /// Pulse amplitude (V).
        #[arg(long, allow_hyphen_values = true, value_parser = si)]
        amplitude: f64,
        /// Pulse width (s).
        #[arg(long, value_parser = si)]
        width: f64,
        #[arg(long)]
        count: usize,
        #[arg(short = 'o')]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Zero-bias conductance against time (columns time_s,g_s,state...).
    Retention {
        card: PathBuf,
        /// Comma-separated times (s), e.g. 1,10,100,1e3.
        #[arg(long)]
        times: String,
        #[arg(short = 'o')]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

/// A number as SPICE writes it: `10n`, `1.5`, `2meg`, `-0.3`.
fn si(text: &str) -> Result<f64, String> {
    xbarsim::spice::number::parse_number(text).ok_or_else(|| {
        format!("'{text}' is not a number (SI suffixes f p n u m k meg g t allowed)")
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match cli.cmd {
        Cmd::Run { netlist, prefix } => {
            let out = runner::run_netlist(&netlist)?;
            for w in &out.warnings {
                eprintln!("warning: {w}");
            }
            match prefix {
                Some(p) => {
                    for f in runner::write_results(&out.results, &p)? {
                        eprintln!("wrote {}", f.display());
                    }
                }
                None => {
                    let op = out.results.iter().find_map(|r| match r {
                        xbarsim::circuit::AnalysisResult::Op(rows) => Some(rows),
                        _ => None,
                    });
                    match op {
                        Some(rows) => print!("{}", runner::op_csv(rows)),
                        None => eprintln!("no .op in the netlist; use -o PREFIX to write the sweep/transient CSVs"),
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Check {
            paths,
            reltol,
            tran_tol,
            ngspice_points,
        } => {
            let tol = Tolerance {
                rel: reltol,
                tran_rel_range: tran_tol,
                ..Tolerance::default()
            };
            let source = if ngspice_points {
                runner::TranReference::NgspicePoints
            } else {
                runner::TranReference::Stored
            };
            let report = runner::check_paths(&paths, &tol, source)?;
            print!("{report}");
            Ok(if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Cmd::Device { cmd } => {
            use xbarsim::device::{cli, load_card};
            let (table, out) = match cmd {
                DeviceCmd::Iv {
                    card,
                    vmax,
                    vmin,
                    period,
                    out,
                    seed,
                } => {
                    let fam = load_card(&card)?.family();
                    let (dv, dn, dp) = cli::iv_defaults(fam);
                    let t = cli::device_iv(
                        &card,
                        vmax.unwrap_or(dv),
                        vmin.unwrap_or(dn),
                        period.unwrap_or(dp),
                        cli::DEFAULT_IV_POINTS,
                        seed,
                    )?;
                    (t, out)
                }
                DeviceCmd::Pulse {
                    card,
                    amplitude,
                    width,
                    count,
                    out,
                    seed,
                } => (
                    cli::device_pulse(&card, amplitude, width, count, cli::DEFAULT_V_READ, seed)?,
                    out,
                ),
                DeviceCmd::Retention {
                    card,
                    times,
                    out,
                    seed,
                } => (
                    cli::device_retention(&card, &cli::parse_times(&times)?, seed)?,
                    out,
                ),
            };
            match out {
                Some(p) => {
                    table.write_csv(&p)?;
                    eprintln!("wrote {}", p.display());
                }
                None => print!("{}", table.to_csv_string()?),
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Mvm {
            config,
            inputs,
            prefix,
        } => {
            let summary = crossbar::mvm_command(&config, inputs.as_deref(), prefix.as_deref())?;
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Read {
            config,
            cell,
            scheme,
            v,
        } => {
            let report = crossbar::read_command(&config, cell.0, cell.1, &scheme, v)?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Export { config, out } => {
            crossbar::export_command(&config, &out)?;
            eprintln!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Sweep { sweep } => {
            let summary = crossbar::sweep_command(&sweep)?;
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Program {
            config,
            targets,
            targets_siemens,
            scheme,
            tolerance,
            tolerance_abs,
            budget,
            initial,
            no_reverify,
            prefix,
        } => {
            let args = programming::ProgramArgs {
                config,
                targets,
                targets_siemens,
                scheme,
                tolerance,
                tolerance_abs,
                budget,
                initial,
                no_reverify,
                prefix,
                progress: true,
            };
            println!("{}", programming::program_command(&args)?);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Pulse {
            config,
            cell,
            v,
            width,
            scheme,
            v_gate,
            prefix,
        } => {
            let args = programming::PulseArgs {
                config,
                cell,
                v,
                width,
                scheme,
                v_gate,
                prefix,
            };
            println!("{}", programming::pulse_command(&args)?);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Stdp {
            config,
            dt_from,
            dt_to,
            points,
            prefix,
        } => {
            let args = programming::StdpArgs {
                config,
                dt_from,
                dt_to,
                points,
                prefix,
            };
            println!("{}", programming::stdp_command(&args)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
