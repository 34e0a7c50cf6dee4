//! Circuits as element tables, and the sparse nodal-analysis engine.

pub mod analysis;
pub mod diode;
pub mod elements;
pub mod engine;
pub mod expr;
pub mod matrix;
pub mod mos1;
pub mod number;
pub mod stamp;
pub mod topology;
pub mod union_find;
pub mod waveform;

pub use analysis::*;
pub use elements::*;
pub use engine::{SimError, Simulator, Solution};
