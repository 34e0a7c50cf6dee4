//! Figures (placeholder until implemented).
