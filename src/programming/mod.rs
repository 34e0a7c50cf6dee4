//! Programming inside the array: pulses with half-select disturb, write-verify, STDP.
//!
//! Built on the crossbar layer's exact nonlinear array solve and the device layer's compact
//! models (the same `Cell` instances the array reads with):
//! - [`waveform`]: PWL line waveforms, pulses and spike templates.
//! - [`pulse`]: any waveform on chosen row / column / gate lines with the unselected lines biased
//!   by a scheme; state-change-limited quasi-static stepping; exact two-row reduction for
//!   1T1R / 2T2R.
//! - [`verify`]: write-verify (ISPP with the 1T1R gate as compliance knob, Alibart et al. 2012
//!   adaptive, fixed amplitude) to a target pattern, with read noise and a re-verify pass.
//! - [`stdp`]: spike-overlap STDP window from the device physics, the fitted pair rule, and a
//!   winner-take-all network demo.
//! - [`config`]: the `[program]` and `[stdp]` tables of a crossbar config.
//! - [`commands`]: `xbar program | pulse | stdp`.

pub mod commands;
pub mod config;
pub mod pulse;
pub mod stdp;
pub mod verify;
pub mod waveform;

use std::path::PathBuf;

pub use commands::{
    program_command, pulse_command, stdp_command, ProgramArgs, PulseArgs, StdpArgs,
};
pub use config::{load_config, ProgramCfg, StdpCfg};
pub use pulse::{run_drive, Drive, PulseStats, Stepping, Unselected};
pub use verify::{program_array, CellOutcome, ProgramReport, Scheme};
pub use waveform::{Pwl, SpikeTemplate};

#[derive(Debug, thiserror::Error)]
pub enum ProgError {
    #[error("{0}")]
    Input(String),
    /// A bad command-line value: names the flag.
    #[error("{flag}: {msg}")]
    Flag { flag: String, msg: String },
    /// A bad file: names the file (and line where known).
    #[error("{}: {msg}", file.display())]
    File { file: PathBuf, msg: String },
    #[error("array solve: {0}")]
    Solve(String),
    #[error(transparent)]
    Crossbar(#[from] crate::crossbar::CrossbarError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
}

pub(crate) fn flag(flag: &str, msg: impl Into<String>) -> ProgError {
    ProgError::Flag {
        flag: flag.into(),
        msg: msg.into(),
    }
}
