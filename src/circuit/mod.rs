//! Circuits as element tables, and the sparse nodal-analysis engine.

pub mod diode;
pub mod elements;
pub mod mos1;

pub use elements::*;
