//! Flat-family cards (pcm, pcm_stat, mtj) through `load_card` / `model_from_params`, and the
//! `xbar device` library functions.

use std::path::{Path, PathBuf};
use xbarsim::app::device::{device_iv, device_pulse, device_retention, parse_times, triangle};
use xbarsim::device::{load_card, model_from_params, Cell, Model};

fn card_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device-models")
        .join(name)
}

#[test]
fn flat_cards_load_with_name_and_source() {
    for (card, fam) in [
        ("pcm_gst_mushroom.toml", "pcm"),
        ("pcm_stat_aihwkit.toml", "pcm_stat"),
        ("mtj_pma_cheng2014.toml", "mtj"),
    ] {
        let m = load_card(&card_path(card)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.family(), fam);
        assert!(!m.source().is_empty() && !m.name().is_empty());
        // Round trip through netlist keys gives the same nominal device.
        let kv: Vec<(String, f64)> = m
            .params()
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        let m2 = model_from_params(fam, &kv).unwrap();
        assert_eq!(m.nominal_cell(), m2.nominal_cell(), "{fam}");
    }
}

fn load_text(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, text).unwrap();
    load_card(&p).unwrap_err().to_string()
}

#[test]
fn flat_card_errors_name_file_line_and_key() {
    let e = load_text("family = \"pcm\"\nr_set_ohm = 1e4\nwarp = 3\n");
    assert!(e.contains("bad.toml:3") && e.contains("warp"), "{e}");
    let e = load_text("family = \"pcm\"\nr_set_ohm = 1e4\nr_reset_ohm = 5e3\n");
    assert!(e.contains("bad.toml:3") && e.contains("r_reset_ohm"), "{e}");
    let e = load_text("family = \"mtj\"\n[variability]\ntmr_sigma_rel = 3\n");
    assert!(
        e.contains("bad.toml:3") && e.contains("tmr_sigma_rel"),
        "{e}"
    );
    let e = load_text("family = \"warp\"\n");
    assert!(e.contains("family") && e.contains("pcm_stat"), "{e}");
    let e = model_from_params("mtj", &[("nope".into(), 1.0)]).unwrap_err();
    assert!(e.contains("`nope`"), "{e}");
}

#[test]
fn d2d_sampling_of_flat_families_is_seeded() {
    use rand::SeedableRng;
    let m = load_card(&card_path("pcm_gst_mushroom.toml")).unwrap();
    let draw = |s| m.instantiate(&mut rand_chacha::ChaCha8Rng::seed_from_u64(s));
    assert_eq!(draw(1), draw(1));
    assert_ne!(draw(1), draw(2));
    assert!(matches!(m, Model::Pcm(_)));
}

#[test]
fn triangle_visits_the_corners() {
    // 0 -> 1 -> -1 -> 0: spans 1, 2, 1, so the corners are at phases 1/4 and 3/4.
    assert_eq!(triangle(0.0, 1.0, -1.0), 0.0);
    assert!((triangle(0.25, 1.0, -1.0) - 1.0).abs() < 1e-15);
    assert!((triangle(0.5, 1.0, -1.0)).abs() < 1e-15);
    assert!((triangle(0.75, 1.0, -1.0) + 1.0).abs() < 1e-15);
    assert_eq!(triangle(1.0, 1.0, -1.0), 0.0);
}

#[test]
fn iv_pulse_retention_tables() {
    let ox = card_path("oxram-stanford-v1.toml");
    let t = device_iv(&ox, 1.5, -1.5, 1.0, 201, 3).unwrap();
    assert_eq!(t.columns, ["time_s", "v_v", "i_a", "gap_m"]);
    assert_eq!(t.rows.len(), 201);
    assert_eq!(t, device_iv(&ox, 1.5, -1.5, 1.0, 201, 3).unwrap());
    // The loop SETs: the gap after the positive half is below the initial 1.7 nm.
    let gmin = t.rows.iter().map(|r| r[3]).fold(f64::INFINITY, f64::min);
    assert!(gmin < 1.0e-9, "{gmin}");
    // Ohm's law check on the read: g_s = I(0.1)/0.1 from the cell in the state column.
    let pcm = card_path("pcm_gst_mushroom.toml");
    let p = device_pulse(&pcm, 1.5, 100e-9, 5, 0.1, 9).unwrap();
    assert_eq!(p.columns[..2], ["pulse", "g_s"]);
    assert_eq!(p.rows.len(), 6);
    assert!(p.rows[5][1] > p.rows[0][1], "SET pulses raise g");
    // PCM retention: the fully amorphous cell drifts as (t/t0)^-nu past t0 (pcm.rs law).
    let r = device_retention(&pcm, &[20.0, 2000.0], 4).unwrap();
    let x = r.column("amorphous_fraction").unwrap();
    assert_eq!(x[0], 1.0);
    let ratio = r.rows[0][1] / r.rows[1][1];
    assert!(ratio > 1.0 && ratio < 100f64.powf(0.2), "{ratio}");
    // pcm_stat: retention is programmed then drifts; iv/pulse refuse it with a reason.
    let ps = card_path("pcm_stat_aihwkit.toml");
    let r = device_retention(&ps, &[0.0, 1e3], 1).unwrap();
    assert!(r.rows[0][1] > 0.0 && r.rows[1][1] < r.rows[0][1]);
    let e = device_iv(&ps, 1.0, -1.0, 1.0, 11, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("pcm_stat"), "{e}");
    // Bad input is an error, not a panic.
    assert!(device_iv(&ox, -1.0, -2.0, 1.0, 11, 1).is_err());
    assert!(device_retention(&ox, &[2.0, 1.0], 1).is_err());
    assert!(device_pulse(&ox, 1.0, 0.0, 1, 0.1, 1).is_err());
    assert_eq!(parse_times("1, 10,1e3").unwrap(), vec![1.0, 10.0, 1e3]);
    assert!(parse_times("1,x").is_err());
    let _ = Cell::family;
}
