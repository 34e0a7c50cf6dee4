//! `xbar`: the command-line layer over the xbarsim library. Each subcommand parses its
//! arguments and calls one library function.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xbarsim::app::check::Tolerance;
use xbarsim::app::runner;
use xbarsim::programming;

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
        /// Judge transients as oscillators: period and amplitude over the last 10 periods
        /// within --tran-tol (relative), not point by point; with --ngspice-points the
        /// reference is ngspice at TMAX = TSTEP/1000, RELTOL = 1e-6.
        #[arg(long)]
        periodic: bool,
    },
    /// Single-device experiments on a parameter card (device-models/*.toml).
    Device {
        #[command(subcommand)]
        cmd: DeviceCmd,
    },
    /// Matrix-vector multiply on a crossbar config: writes PREFIX.mvm.csv
    /// (column,ideal_a,analog_a,digital_code,rel_error, then zero_wire_a,chord_a,error_a,
    /// rel_error_zero_wire,rel_error_chord) and prints the error summary.
    Mvm {
        config: PathBuf,
        /// Input vectors, one per row (fractions of full scale in [0, 1]); default all full scale.
        #[arg(long)]
        inputs: Option<PathBuf>,
        #[arg(short = 'o', long = "output")]
        prefix: Option<PathBuf>,
        /// Read this many seconds after programming (drift, relaxation; overrides [nonideal] time).
        #[arg(long)]
        time: Option<f64>,
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
    /// Sweep one config key over a list of values with Monte Carlo trials (in parallel);
    /// resumes an interrupted run. `--shard K/N` runs one slice, `xbar sweep merge SWEEP`
    /// combines the slices, `--slurm` writes (and with `--submit` submits) a Slurm job array.
    Sweep(SweepArgs),
    /// Fit a device model to measured CSV (I-V, pulses, retention); writes a fitted card.
    Fit(xbarsim::fit::FitArgs),
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

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct SweepArgs {
    #[command(subcommand)]
    cmd: Option<SweepCmd>,
    #[arg(required = true)]
    sweep: Option<PathBuf>,
    /// Run only slice K of N (K = 0 … N−1) and journal it for `xbar sweep merge`.
    #[arg(long, conflicts_with = "slurm")]
    shard: Option<xbarsim::Shard>,
    /// Write PREFIX.sweep.{array,merge}.sbatch: a job array of shards and a dependent merge.
    #[arg(long)]
    slurm: bool,
    /// Tasks in the Slurm job array (default: min(trials, 16)).
    #[arg(long, requires = "slurm")]
    array_size: Option<usize>,
    /// Slurm partition.
    #[arg(long, requires = "slurm")]
    partition: Option<String>,
    /// Submit the scripts with sbatch (the merge depends on the whole array).
    #[arg(long, requires = "slurm")]
    submit: bool,
}

#[derive(Subcommand)]
enum SweepCmd {
    /// Combine the shards' partial results into the CSV and figures of a single-process run.
    Merge { sweep: PathBuf },
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

/// Bench and device options shared by every `xbar device` experiment.
#[derive(clap::Args)]
struct DeviceBench {
    /// SMU-style current clamp (A) of the SET polarity (positive source).
    #[arg(long, allow_hyphen_values = true, value_parser = si)]
    compliance: Option<f64>,
    /// Current clamp (A) of the RESET polarity (negative source); default none.
    #[arg(long = "reset-compliance", allow_hyphen_values = true, value_parser = si)]
    reset_compliance: Option<f64>,
    /// Series resistance between source and top electrode (ohm).
    #[arg(long = "series-r", allow_hyphen_values = true, value_parser = si, default_value = "0")]
    series_r: f64,
    /// Access device: `1T1R` puts the cell above an n-MOSFET (VTO 0.7 V, beta 6e-4 A/V^2).
    #[arg(long)]
    access: Option<String>,
    /// Gate voltage of the 1T1R access transistor (V).
    #[arg(long = "v-gate", allow_hyphen_values = true, value_parser = si)]
    v_gate: Option<f64>,
    /// Control-gate bias of a floating-gate cell (V); default the card's v_cg.
    #[arg(long = "v-cg", allow_hyphen_values = true, value_parser = si)]
    v_cg: Option<f64>,
    /// Ambient temperature (K).
    #[arg(long, allow_hyphen_values = true, value_parser = si, default_value = "300")]
    temperature: f64,
    /// The card's nominal device: no device-to-device draw.
    #[arg(long)]
    nominal: bool,
    /// Monte Carlo over N devices (a `device` column is added).
    #[arg(long, default_value_t = 1)]
    devices: usize,
    /// Read bias (V).
    #[arg(long = "v-read", allow_hyphen_values = true, value_parser = si, default_value = "0.1")]
    v_read: f64,
    /// Initial state: lrs, hrs, card, or a conductance in S read at --v-read.
    #[arg(long, default_value = "card")]
    initial: String,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(short = 'o')]
    out: Option<PathBuf>,
}

impl DeviceBench {
    fn split(
        &self,
    ) -> Result<
        (xbarsim::app::device::Setup, xbarsim::app::device::Bench),
        Box<dyn std::error::Error>,
    > {
        use xbarsim::app::device::{Access, Bench, Setup};
        let access = match (self.access.as_deref(), self.v_gate) {
            (None, None) => None,
            (Some(a), Some(vg)) if a.eq_ignore_ascii_case("1t1r") => Some(Access::pku(vg)),
            (Some(a), None) if a.eq_ignore_ascii_case("1t1r") => {
                return Err("--access 1T1R needs --v-gate V".into())
            }
            (None, Some(_)) => return Err("--v-gate needs --access 1T1R".into()),
            (Some(a), _) => return Err(format!("--access must be 1T1R, got `{a}`").into()),
        };
        Ok((
            Setup {
                seed: self.seed,
                nominal: self.nominal,
                devices: self.devices,
                initial: self.initial.parse()?,
                v_read: self.v_read,
            },
            Bench {
                temp_k: self.temperature,
                series_r_ohm: self.series_r,
                compliance_a: self.compliance,
                reset_compliance_a: self.reset_compliance,
                access,
                v_cg: self.v_cg,
            },
        ))
    }
}

#[derive(Subcommand)]
enum DeviceCmd {
    /// Quasi-static I-V loop 0 -> vmax -> vmin -> 0 of the source, or any --waveform
    /// (columns [device,]time_s,v_v,v_cell_v,i_a,state...).
    Iv {
        card: PathBuf,
        #[arg(long, allow_hyphen_values = true, value_parser = si)]
        vmax: Option<f64>,
        #[arg(long, allow_hyphen_values = true, value_parser = si)]
        vmin: Option<f64>,
        /// Period of the triangular sweep (s).
        #[arg(long, allow_hyphen_values = true, value_parser = si)]
        period: Option<f64>,
        /// Samples of the sweep.
        #[arg(long, default_value_t = 401)]
        points: usize,
        /// Drive from a CSV waveform `time_s,v_v` or `time_s,i_a` instead of the triangle.
        #[arg(long)]
        waveform: Option<PathBuf>,
        #[command(flatten)]
        bench: DeviceBench,
    },
    /// Conductance read at --v-read after each of COUNT pulses (columns [device,]pulse,g_s,state...).
    Pulse {
        card: PathBuf,
        /// Pulse amplitude (V).
        #[arg(long, allow_hyphen_values = true, value_parser = si)]
        amplitude: f64,
        /// Pulse width (s).
        #[arg(long, allow_hyphen_values = true, value_parser = si)]
        width: f64,
        #[arg(long)]
        count: usize,
        #[command(flatten)]
        bench: DeviceBench,
    },
    /// Zero-bias conductance against time at --temperature (columns [device,]time_s,g_s,state...).
    Retention {
        card: PathBuf,
        /// Comma-separated times (s), e.g. 1,10,100,1e3.
        #[arg(long)]
        times: String,
        #[command(flatten)]
        bench: DeviceBench,
    },
}

/// A number as SPICE writes it: `10n`, `1.5`, `2meg`, `-0.3`.
fn si(text: &str) -> Result<f64, String> {
    xbarsim::spice::number::parse_number(text).ok_or_else(|| {
        format!("'{text}' is not a number (SI suffixes f p n u m k meg g t allowed)")
    })
}

/// Every command treats an output path the same way: a missing parent directory is created
/// (like `mkdir -p`) and reported on stderr, never silently.
fn prepare_output(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create output directory {}: {e}", dir.display()))?;
            eprintln!("created directory {}", dir.display());
        }
    }
    Ok(())
}

/// Results on stdout. A closed pipe (`xbar run deck.cir | head`) ends the output quietly
/// instead of panicking as `print!` does.
fn stdout(text: &str) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    if let Err(e) = o.write_all(text.as_bytes()).and_then(|_| o.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: writing to stdout: {e}");
        }
    }
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
                    prepare_output(&p)?;
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
                        Some(rows) => stdout(&runner::op_csv(rows)?),
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
            periodic,
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
            let judge = if periodic {
                runner::TranJudge::Periodic { periods: 10 }
            } else {
                runner::TranJudge::Pointwise
            };
            let report = runner::check_paths_judged(&paths, &tol, source, judge)?;
            stdout(&report.to_string());
            Ok(if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Cmd::Device { cmd } => {
            use xbarsim::app::device as cli;
            use xbarsim::device::load_card;
            let (table, out) = match cmd {
                DeviceCmd::Iv {
                    card,
                    vmax,
                    vmin,
                    period,
                    points,
                    waveform,
                    bench,
                } => {
                    let (setup, b) = bench.split()?;
                    let t = match waveform {
                        Some(w) => {
                            cli::device_waveform(&card, &setup, &b, &cli::read_waveform(&w)?)?
                        }
                        None => {
                            let fam = load_card(&card)?.family();
                            let (dv, dn, dp) = cli::iv_defaults(fam);
                            cli::device_iv_bench(
                                &card,
                                &setup,
                                &b,
                                vmax.unwrap_or(dv),
                                vmin.unwrap_or(dn),
                                period.unwrap_or(dp),
                                points,
                            )?
                        }
                    };
                    (t, bench.out)
                }
                DeviceCmd::Pulse {
                    card,
                    amplitude,
                    width,
                    count,
                    bench,
                } => {
                    let (setup, b) = bench.split()?;
                    (
                        cli::device_pulse_bench(&card, &setup, &b, amplitude, width, count)?,
                        bench.out,
                    )
                }
                DeviceCmd::Retention { card, times, bench } => {
                    let (setup, b) = bench.split()?;
                    (
                        cli::device_retention_bench(&card, &setup, &b, &cli::parse_times(&times)?)?,
                        bench.out,
                    )
                }
            };
            match out {
                Some(p) => {
                    prepare_output(&p)?;
                    table.write_csv(&p)?;
                    eprintln!("wrote {}", p.display());
                }
                None => stdout(&table.to_csv_string()?),
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Mvm {
            config,
            inputs,
            prefix,
            time,
        } => {
            if let Some(p) = &prefix {
                prepare_output(p)?;
            }
            let summary = xbarsim::app::crossbar::mvm_command_at(
                &config,
                inputs.as_deref(),
                prefix.as_deref(),
                time,
            )?;
            stdout(&format!("{summary}\n"));
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Read {
            config,
            cell,
            scheme,
            v,
        } => {
            let report = xbarsim::app::crossbar::read_command(&config, cell.0, cell.1, &scheme, v)?;
            stdout(&format!("{report}\n"));
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Export { config, out } => {
            prepare_output(&out)?;
            xbarsim::app::crossbar::export_command(&config, &out)?;
            eprintln!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Sweep(a) => {
            use xbarsim::app::sweep;
            match (a.cmd, a.sweep) {
                (Some(SweepCmd::Merge { sweep }), _) => println!("{}", sweep::sweep_merge(&sweep)?),
                (None, Some(path)) if a.slurm => {
                    let opts = sweep::SlurmOptions {
                        array_size: a.array_size,
                        partition: a.partition,
                    };
                    let s = sweep::write_slurm(&path, &std::env::current_exe()?, &opts)?;
                    println!(
                        "wrote {} ({} tasks) and {}",
                        s.array.display(),
                        s.array_size,
                        s.merge.display()
                    );
                    if a.submit {
                        let (array, merge) = sweep::submit_slurm(&s)?;
                        println!("submitted job array {array}; merge job {merge} runs after it");
                    }
                }
                (None, Some(path)) => match a.shard {
                    Some(shard) => println!("{}", sweep::sweep_shard(&path, shard)?),
                    None => println!("{}", sweep::sweep_command(&path)?),
                },
                (None, None) => unreachable!("clap requires SWEEP"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Fit(args) => {
            stdout(&format!("{}\n", xbarsim::fit::command(&args)?));
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
