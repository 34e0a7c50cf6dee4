//! Compact models of memristive devices (placeholder until implemented).

#[derive(Clone, Debug, Default)]
pub struct Cell {}
