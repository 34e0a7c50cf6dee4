//! `xbar device` through the binary: nonsense refused with a message and exit code 1 (never a
//! panic, never clap's "unexpected argument"), and `--initial G` puts each family at the
//! conductance asked for.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use xbarsim::app::device::{self as cli, Initial};
use xbarsim::device::load_card;

fn card(n: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device-models")
        .join(n)
}

mod common;

/// (exit success, stderr) of the `xbar` binary.
fn xbar(args: &[&str]) -> (bool, String) {
    let (ok, _, err) = common::xbar(args);
    (ok, err)
}

#[test]
fn nonsense_is_refused_by_the_binary_with_a_message() {
    let ox = card("oxram-stanford-v1.toml");
    let ox = ox.to_str().unwrap();
    for (args, want) in [
        (
            vec![
                "device",
                "pulse",
                ox,
                "--amplitude",
                "1.5",
                "--width",
                "-1",
                "--count",
                "3",
            ],
            "must be > 0",
        ),
        (vec!["device", "iv", ox, "--period", "-1"], "must be > 0"),
        (vec!["device", "iv", ox, "--vmax", "100"], "breakdown"),
        (vec!["device", "iv", ox, "--vmax", "1e300"], "breakdown"),
        (vec!["device", "iv", ox, "--vmin", "-100"], "breakdown"),
        (vec!["device", "iv", ox, "--vmin", "-1e300"], "breakdown"),
        (vec!["device", "iv", ox, "--period", "0"], "must be > 0"),
        (
            vec![
                "device",
                "pulse",
                ox,
                "--amplitude",
                "1.5",
                "--width",
                "0",
                "--count",
                "3",
            ],
            "must be > 0",
        ),
        (
            vec!["device", "iv", ox, "--temperature", "-3"],
            "temperature",
        ),
        (vec!["device", "iv", ox, "--access", "1T1R"], "--v-gate"),
        (vec!["device", "iv", ox, "--initial", "warm"], "--initial"),
        (vec!["device", "iv", ox, "--devices", "0"], "--devices"),
    ] {
        let t0 = std::time::Instant::now();
        let (ok, err) = xbar(&args);
        // Refused up front, not after running the sweep (1e300 V used to run > 10 minutes).
        assert!(
            t0.elapsed().as_secs_f64() < 10.0,
            "{args:?} took {:?}",
            t0.elapsed()
        );
        assert!(!ok, "{args:?} should fail");
        assert!(
            !err.contains("panicked") && !err.contains("unexpected argument"),
            "{err}"
        );
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn initial_conductance_is_reached_for_every_continuous_family() {
    for (file, g) in [
        ("oxram-stanford-v1.toml", 1e-4),
        ("cbram-yu-wong.toml", 1e-6),
        ("pcm_gst_mushroom.toml", 2e-6),
        ("fgate-flash.toml", 1e-6),
        ("jart_vcm_v1b.toml", 1e-4),
    ] {
        let m = load_card(&card(file)).unwrap();
        let mut c = m.nominal_cell();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        cli::set_initial(&mut c, Initial::Conductance(g), 0.1, 300.0, &mut rng).unwrap();
        let got = c.read_conductance(0.1, 300.0);
        assert!((got / g - 1.0).abs() < 1e-6, "{file}: {got} vs {g}");
    }
    // Outside the family's range: refused, naming the range.
    let m = load_card(&card("oxram-stanford-v1.toml")).unwrap();
    let mut c = m.nominal_cell();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let e = cli::set_initial(&mut c, Initial::Conductance(1.0), 0.1, 300.0, &mut rng).unwrap_err();
    assert!(e.to_string().contains("outside"), "{e}");
}
