//! The application layer: what `xbar` and the Python module call. Each job takes paths or
//! plain values, does the work with the layers below, writes its files atomically and
//! returns a summary (with a `Display` for the CLI). No clap, no printing of results here.
//!
//! - [`runner`]: `xbar run` / `xbar check` on netlists; [`check`] compares with ngspice CSVs.
//! - [`device`]: `xbar device iv|pulse|retention` on a card.
//! - [`crossbar`]: `xbar mvm|read|export|sweep` on a crossbar config.

pub mod check;
pub mod crossbar;
pub mod device;
pub mod runner;
