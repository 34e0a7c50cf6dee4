//! Compact models of memristive devices.

pub mod model;
pub use model::CompactModel;

/// One device instance (placeholder until the families exist).
#[derive(Clone, Debug, Default)]
pub struct Cell {}

pub mod mram;
pub mod pcm;
pub mod pcm_stat;
