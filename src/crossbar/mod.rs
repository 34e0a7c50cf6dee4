//! Crossbar arrays (placeholder until implemented).
