//! ngspice-dialect netlists: numbers, expressions, parser and writer.

pub mod expr;
