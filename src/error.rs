//! One error type for the whole library: every layer's error converts into [`Error`] with `?`,
//! and its message is the layer's own (file, line and what is wrong), unchanged.

use crate::{app, circuit, crossbar, device, plot, report, spice};

/// Any error xbarsim reports. Each variant wraps one layer's error; `Display` is that error's
/// message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Malformed netlist (file:line:column).
    #[error(transparent)]
    Netlist(#[from] spice::NetlistError),
    /// A B-source or parameter expression that does not parse or evaluate.
    #[error(transparent)]
    Expr(#[from] circuit::expr::ExprError),
    /// The engine: floating node, singular matrix, non-convergence, non-finite value.
    #[error(transparent)]
    Sim(#[from] circuit::SimError),
    /// A netlist job (`xbar run` / `check`): parse, solve or write.
    #[error(transparent)]
    Run(#[from] app::runner::RunError),
    /// A device card (file and key).
    #[error(transparent)]
    Card(#[from] device::CardError),
    /// A single-device experiment.
    #[error(transparent)]
    Device(#[from] app::device::DeviceCliError),
    /// A crossbar config, weights, inputs or array solve.
    #[error(transparent)]
    Crossbar(#[from] crossbar::CrossbarError),
    /// Writing a netlist.
    #[error(transparent)]
    Write(#[from] spice::WriteError),
    /// Reading or writing CSV tables.
    #[error(transparent)]
    Report(#[from] report::ReportError),
    /// Drawing a figure.
    #[error(transparent)]
    Plot(#[from] plot::PlotError),
    /// A file that could not be read or written, named.
    #[error("{}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// `Result` with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
