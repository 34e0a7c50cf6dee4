//! `xbar`: the command-line layer over the xbarsim library. Each subcommand parses its
//! arguments and calls one library function.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xbarsim::check::Tolerance;
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
    }
}
