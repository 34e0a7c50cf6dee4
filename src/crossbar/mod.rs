//! Crossbar arrays: 0T1R / 1S1R / 1T1R / 2T2R with wire, driver and sense resistances.
//!
//! - [`Crossbar`] is plain data (from TOML with [`Crossbar::from_toml_file`], or built in code).
//! - [`Array`] binds it for one bias topology: nodes merged and numbered in geometric
//!   nested-dissection order, matrix pattern and slots, symbolic factorisation. Solves reuse
//!   it; Newton warm-starts from the previous solution.
//! - Operations: [`mvm`] (DAC → analog solve → ADC, with error metrics against the ideal
//!   Σ V_i·G_ij), [`read_cell`] (one cell with floating / V/2 / V/3 / grounded unselected lines),
//!   node maps and energy accounting.
//! - [`export_netlist`] writes the same array as an ngspice deck; [`to_circuit`] builds it into
//!   the engine's element tables.
//!
//! Orientation: word lines (rows) are driven from column 0 (and the last column with
//! `line_ends = "both"`); bit lines (columns) are sensed after the last row (and before row 0
//! with "both"). Every wire segment joins adjacent crosspoints; the driver and sense
//! resistances join the line end to the ideal source / virtual ground.

mod condensed;
pub mod config;
pub mod law;
pub mod netlist;
pub mod network;
pub mod nonideal;
pub mod ops;
pub mod output;
pub mod periphery;
pub mod program;
pub mod solver;
pub mod tiling;

use std::path::PathBuf;

pub use config::{Adc, AdcRange, CellKind, Crossbar, Dac, DacMode, LineEnds, Reference, Selector};
pub use law::{CellLaw, Mos1, GMIN_BULK};
pub use netlist::{engine_column_currents, export_netlist, to_circuit, NetlistOptions};
pub use network::{Bias, ColEnd};
pub use nonideal::DeviceEffects;
pub use ops::{
    apply_adc, chord_dot, energy, mvm, mvm_bound, mvm_bound_with, node_map, read_cell, Energy,
    MvmReport, NodeMap, ReadReport, ReadScheme,
};
pub use periphery::{AdcFom, Converters, PeripheryCost};
pub use solver::{Array, Method, ITERATIVE_ABOVE};
pub use tiling::{Layout, Signed, TiledMatrix};

#[derive(Debug, thiserror::Error)]
pub enum CrossbarError {
    #[error("{}: {msg}", file.display())]
    Io { file: PathBuf, msg: String },
    #[error("{}: {msg}", file.display())]
    Toml { file: PathBuf, msg: String },
    #[error("{}: key `{key}`: {msg}", file.display())]
    Config {
        file: PathBuf,
        key: String,
        msg: String,
    },
    #[error("{}:{line}: {msg}", file.display())]
    Weights {
        file: PathBuf,
        line: usize,
        msg: String,
    },
    #[error("{0}")]
    Input(String),
    #[error("array solve: {0}")]
    Solve(String),
}
