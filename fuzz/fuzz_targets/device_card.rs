//! Device cards: parse, instantiate with D2D, static current at a few biases, one state step.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rand_chacha::rand_core::SeedableRng;

fuzz_target!(|data: &[u8]| {
    if data.len() > 8192 {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(model) = xbarsim::device::parse_card(Path::new("fuzz.toml"), text) else {
        return;
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut cell = model.instantiate(&mut rng);
    for v in [-1.0, 0.0, 0.2, 1.5] {
        let _ = cell.current(v, 300.0);
    }
    cell.advance(0.8, 1e-8, 300.0, &mut rng);
    let _ = cell.current(0.2, 300.0);
});
