//! # xbarsim — memristive crossbar arrays from the device up
//!
//! A tour, bottom to top:
//! - [`device`]: compact models of memristive cells (OxRAM, PCM, STT-MRAM, CBRAM, floating gate).
//! - [`circuit`]: plain-data circuits and the sparse nodal-analysis engine that solves them
//!   (Newton DC, DC sweeps, transient). Every solve is `G(x)·x = i`, assembled into a fixed
//!   sparsity pattern once and refactorised numerically with faer.
//! - [`spice`]: the ngspice-dialect netlist parser and writer.
//! - [`crossbar`]: 0T1R / 1S1R / 1T1R / 2T2R arrays built straight into the engine.
//! - [`programming`]: pulses inside the array (half-select disturb), write-verify, STDP.
//! - [`plot`] and [`report`]: figures and CSV written atomically.
//!
//! Units are SI everywhere (V, A, S, Ω, s, K, m).

pub mod check;
pub mod circuit;
pub mod crossbar;
pub mod device;
pub mod plot;
pub mod programming;
pub mod report;
pub mod runner;
pub mod spice;
