//! Compact models of memristive devices.

pub mod model;
pub use model::CompactModel;

/// One device instance (stub until the families land).
#[derive(Clone, Debug, Default)]
pub struct Cell {}

impl Cell {
    pub fn current(&self, _v: f64, _temp_k: f64) -> (f64, f64) {
        (0.0, 0.0)
    }
    pub fn advance(&mut self, _v: f64, _dt: f64, _temp_k: f64, _rng: &mut rand_chacha::ChaCha8Rng) {}
}
