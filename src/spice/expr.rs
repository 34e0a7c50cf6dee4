//! Expressions of `.param`, `{...}` and B sources (placeholder until implemented).

#[derive(Clone, Debug, Default)]
pub struct Compiled {}
