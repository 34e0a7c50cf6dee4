//! # xbarsim — memristive crossbar arrays from the device up
//!
//! The layers, bottom to top (each uses only those below it):
//! - [`device`]: compact models of memristive cells (OxRAM, PCM, STT-MRAM, CBRAM, floating gate).
//! - [`circuit`]: plain-data circuits, expressions and the sparse nodal-analysis engine that
//!   solves them (Newton DC, DC sweeps, transient). Every solve is `G(x)·x = i`, assembled into a
//!   fixed sparsity pattern once and refactorised numerically with faer.
//! - [`spice`]: the ngspice-dialect netlist parser and writer.
//! - [`crossbar`]: 0T1R / 1S1R / 1T1R / 2T2R arrays built straight into the engine.
//! - [`app`]: the jobs the `xbar` CLI and the Python module run (netlists, device experiments,
//!   MVM, reads, sweeps and their shards).
//! - [`data`] and [`fit`]: measured CSV in, a fitted card out (Levenberg-Marquardt over a
//!   replay of the measured experiment through a device).
//! - [`programming`]: pulses inside the array (half-select disturb), write-verify, STDP.
//! - [`plot`] and [`report`]: figures and CSV written atomically, beneath every layer.
//!
//! Units are SI everywhere (V, A, S, Ω, s, K, m). Every error converts into [`Error`], whose
//! message names the file, line or element at fault.
//!
//! ## A tour
//!
//! Load a device card and evaluate its static I-V (current in A and dI/dV in S):
//!
//! ```
//! use xbarsim::{load_card, Cell};
//! let card = load_card("device-models/oxram-stanford-v1.toml".as_ref())?;
//! let cell: Cell = card.nominal_cell();
//! let (i, di_dv) = cell.current(0.1, 300.0);
//! assert!(i > 0.0 && di_dv > 0.0, "a positive bias drives a positive current");
//! # Ok::<(), xbarsim::Error>(())
//! ```
//!
//! Build a 2×2 array of ideal wires and multiply: each column current is Σᵢ Vᵢ·Gᵢⱼ with
//! Vᵢ = xᵢ·v_read (inputs are fractions of full scale).
//!
//! ```
//! use xbarsim::{mvm, Crossbar};
//! let mut xb = Crossbar::new(2, 2);
//! xb.g = vec![1e-4, 2e-5, 5e-5, 1e-5]; // row-major, S
//! let rep = mvm(&xb, &[vec![1.0, 0.5]])?;
//! let v = [xb.v_read, 0.5 * xb.v_read];
//! let expected = v[0] * 1e-4 + v[1] * 5e-5; // column 0
//! assert!((rep.analog[0][0] - expected).abs() < 1e-12 * expected);
//! # Ok::<(), xbarsim::Error>(())
//! ```
//!
//! Parse a netlist and solve its operating point: a 1 kΩ / 3 kΩ divider across 4 V gives 3 V.
//!
//! ```
//! use xbarsim::{spice, Simulator};
//! let deck = "divider\nV1 in 0 DC 4\nR1 in out 1k\nR2 out 0 3k\n.op\n.end\n";
//! let circuit = spice::parse_str(deck, None)?;
//! let mut sim = Simulator::new(circuit)?;
//! let op = xbarsim::circuit::op(&mut sim)?;
//! let v_out = op.iter().find(|(name, _)| name == "v(out)").unwrap().1;
//! assert!((v_out - 3.0).abs() < 1e-9);
//! # Ok::<(), xbarsim::Error>(())
//! ```
//!
//! [`run_netlist`] does the same from a file for every analysis card in it (`xbar run`).
//!
//! The same from files (this is the README's snippet, kept identical by `tests/library_api.rs`):
//!
//! ```
//! use xbarsim::{load_card, mvm, run_netlist, AnalysisResult, Crossbar};
//!
//! fn main() -> xbarsim::Result<()> {
//!     // A device card: current (A) and dI/dV (S) of the nominal cell at 0.2 V, 300 K.
//!     let cell = load_card("device-models/oxram-stanford-v1.toml".as_ref())?.nominal_cell();
//!     let (i_a, g_s) = cell.current(0.2, 300.0);
//!     println!("OxRAM at 0.2 V: {i_a:.3e} A, {g_s:.3e} S");
//!
//!     // An array from its TOML config: multiply two input vectors (fractions of full scale).
//!     let xb = Crossbar::from_toml_file("examples/configs/crossbar_0t1r_oxram_card.toml")?;
//!     let rep = mvm(&xb, &[vec![1.0; xb.rows], vec![0.5; xb.rows]])?;
//!     println!("column 0: {:.4e} A, ideal {:.4e} A", rep.analog[0][0], rep.ideal[0][0]);
//!
//!     // A netlist, every analysis card in it (as `xbar run`): V1 holds node `in` at 3 V.
//!     let out = run_netlist("netlists/diode_basic_op.cir".as_ref())?;
//!     if let AnalysisResult::Op(op) = &out.results[0] {
//!         let v_in = op.iter().find(|(name, _)| name == "v(in)").unwrap().1;
//!         assert!((v_in - 3.0).abs() < 1e-12);
//!     }
//!     Ok(())
//! }
//! ```

pub mod app;
pub mod circuit;
pub mod crossbar;
pub mod data;
pub mod device;
mod error;
pub mod fit;
pub mod plot;
pub mod programming;
pub mod report;
pub mod spice;

pub use app::runner::{run_netlist, RunOutput};
pub use app::sweep::{
    sweep_command, sweep_merge, sweep_shard, Shard, Sweep, SweepRow, SweepSummary,
};
pub use circuit::{AnalysisResult, Circuit, Simulator};
pub use crossbar::{
    mvm, read_cell as read, Array, Bias, Crossbar, MvmReport, ReadReport, ReadScheme,
};
pub use device::{load_card, Cell, Model};
pub use error::{Error, Result};

/// Old paths of [`app::check`] and [`app::runner`].
#[doc(hidden)]
pub use app::{check, runner};
