//! ngspice-dialect netlists: numbers ([`number`]), expressions ([`expr`]), the parser
//! ([`parser`], reading through [`lines`]) and the writer ([`writer`]).
//!
//! `parse_file` / `parse_str` turn a deck into a flat [`Circuit`](crate::circuit::Circuit)
//! (subcircuits expanded, names as ngspice prints them); `write_netlist` turns any circuit back
//! into a deck that ngspice 39 runs unchanged.

use std::fmt;
use std::path::PathBuf;

pub mod lines;
pub mod ngspice;

// Numbers and B-source expressions live below the engine (the engine evaluates them); the
// front end keeps its old paths.
pub use crate::circuit::{expr, number};
pub mod parser;
pub mod writer;

pub use parser::{parse_file, parse_file_full, parse_str, parse_str_full, Parsed};
pub use writer::{write_netlist, WriteError};

/// A netlist error with its place: `file:line:column: message (token 'x')`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct NetlistError {
    /// The file, or `None` for text given without a path.
    pub file: Option<PathBuf>,
    /// 1-based physical line (0 when the file itself could not be read).
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    pub message: String,
    /// The offending token, when there is one.
    pub token: Option<String>,
}

impl fmt::Display for NetlistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}", p.display())?,
            None => write!(f, "<netlist>")?,
        }
        match (self.line, self.column) {
            (0, _) => write!(f, ": {}", self.message)?,
            (l, 0) => write!(f, ":{l}: {}", self.message)?,
            (l, c) => write!(f, ":{l}:{c}: {}", self.message)?,
        }
        if let Some(t) = &self.token {
            write!(f, " (token '{t}')")?;
        }
        Ok(())
    }
}
