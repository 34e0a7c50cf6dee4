//! The application layer: what `xbar` and the Python module call. Each job takes paths or
//! plain values, does the work with the layers below, writes its files atomically and
//! returns a summary (with a `Display` for the CLI). No clap, no printing of results here.
//!
//! - [`runner`]: `xbar run` / `xbar check` on netlists; [`check`] compares with ngspice CSVs.
//! - [`device`]: `xbar device iv|pulse|retention` on a card.
//! - [`crossbar`]: `xbar mvm|read|export` on a crossbar config.
//! - [`sweep`]: `xbar sweep`, its shards, their merge and Slurm job arrays.

pub mod check;
pub mod crossbar;
pub mod device;
pub mod runner;
pub mod sweep;
