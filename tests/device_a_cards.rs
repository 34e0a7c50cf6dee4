//! Card loading: errors name file, line and key; D2D sampling is reproducible; netlist
//! parameters use the same keys; every family's current derivative matches a finite difference.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use xbarsim::device::{
    load_card, model_from_params, param_table_markdown, CardError, Cell, FAMILIES,
};

fn card_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device-models")
        .join(name)
}

const OXRAM_OK: &str = r#"family = "oxram"
source = "test"
[params]
i0 = 1e-3
g0 = 0.25e-9
v0 = 0.25
g_min = 0.2e-9
g_max = 1.7e-9
g_ini = 1.7e-9
"#;

fn load_text(text: &str) -> (PathBuf, Result<xbarsim::device::Model, CardError>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.toml");
    std::fs::write(&path, text).unwrap();
    let r = load_card(&path);
    (path, r)
}

#[test]
fn all_shipped_cards_load() {
    for f in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models")).unwrap()
    {
        let f = f.unwrap().path();
        let stem = f.file_name().unwrap().to_string_lossy().to_string();
        if ["oxram", "cbram", "fgate"]
            .iter()
            .any(|p| stem.starts_with(p))
        {
            let m = load_card(&f).unwrap_or_else(|e| panic!("{e}"));
            assert!(!m.source().is_empty());
        }
    }
    assert!(load_card(&card_path("oxram-stanford-v1.toml")).is_ok());
}

#[test]
fn minimal_card_is_accepted() {
    let (_, r) = load_text(OXRAM_OK);
    r.unwrap();
}

#[test]
fn missing_required_key_names_file_and_key() {
    let (path, r) = load_text(&OXRAM_OK.replace("g0 = 0.25e-9\n", ""));
    let e = r.unwrap_err();
    assert_eq!(e.file, path);
    assert_eq!(e.key, "g0");
    assert!(
        e.to_string().contains("card.toml") && e.to_string().contains("g0"),
        "{e}"
    );
}

#[test]
fn unknown_parameter_key_names_file_line_and_key() {
    let (path, r) = load_text(&OXRAM_OK.replace("v0 = 0.25\n", "v0 = 0.25\nbogus = 3\n"));
    let e = r.unwrap_err();
    assert_eq!(e.file, path);
    assert_eq!(e.key, "bogus");
    assert_eq!(e.line, Some(7));
}

#[test]
fn unknown_top_level_key_is_rejected() {
    let (path, r) = load_text(
        &format!("{OXRAM_OK}\n").replace("source = \"test\"\n", "source = \"test\"\ncolour = 1\n"),
    );
    let e = r.unwrap_err();
    assert_eq!(e.file, path);
    assert_eq!(e.key, "colour");
    assert_eq!(e.line, Some(3));
}

#[test]
fn negative_resistance_is_rejected() {
    let text = std::fs::read_to_string(card_path("cbram-yu-wong.toml")).unwrap();
    let bad = text.replace("rho_off = 133.0", "rho_off = -133.0");
    assert_ne!(bad, text);
    let (path, r) = load_text(&bad);
    let e = r.unwrap_err();
    assert_eq!(e.file, path);
    assert_eq!(e.key, "rho_off");
    let want_line = bad.lines().position(|l| l.starts_with("rho_off")).unwrap() + 1;
    assert_eq!(e.line, Some(want_line));
}

#[test]
fn out_of_range_value_is_rejected() {
    let (_, r) = load_text(&OXRAM_OK.replace("g0 = 0.25e-9", "g0 = 5e-9"));
    let e = r.unwrap_err();
    assert_eq!(e.key, "g0");
    assert_eq!(e.line, Some(5));
    // Relation between parameters: g_min must be below g_max.
    let (_, r) = load_text(&OXRAM_OK.replace("g_min = 0.2e-9", "g_min = 1.8e-9"));
    assert_eq!(r.unwrap_err().key, "g_min");
}

#[test]
fn d2d_on_unknown_key_and_negative_sigma_are_rejected() {
    let (_, r) = load_text(&format!(
        "{OXRAM_OK}[variability.d2d]\nfoo = {{ rel = 0.1 }}\n"
    ));
    assert_eq!(r.unwrap_err().key, "foo");
    let (_, r) = load_text(&format!(
        "{OXRAM_OK}[variability.d2d]\ng0 = {{ rel = -0.1 }}\n"
    ));
    assert_eq!(r.unwrap_err().key, "g0");
}

#[test]
fn unknown_family_is_rejected() {
    let (_, r) = load_text(&OXRAM_OK.replace("\"oxram\"", "\"unobtainium\""));
    let e = r.unwrap_err();
    assert_eq!(e.key, "family");
    assert_eq!(e.line, Some(1));
}

#[test]
fn same_seed_gives_bit_identical_cells() {
    for card in [
        "oxram-stanford-v1.toml",
        "cbram-yu-wong.toml",
        "fgate-flash.toml",
    ] {
        let m = load_card(&card_path(card)).unwrap();
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..50)
                .map(|_| m.instantiate(&mut rng))
                .collect::<Vec<Cell>>()
        };
        let (a, b) = (draw(42), draw(42));
        assert_eq!(a, b, "{card}");
        assert_ne!(a[0], a[1], "{card}: D2D should make devices differ");
        assert_ne!(a, draw(43), "{card}");
        assert!(a.iter().all(|c| c.family() == m.family()));
    }
}

#[test]
fn model_params_round_trip_through_netlist_keys() {
    let m = load_card(&card_path("oxram-stanford-v1.toml")).unwrap();
    let kv: Vec<(String, f64)> = m
        .params()
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    let m2 = model_from_params("oxram", &kv).unwrap();
    assert_eq!(
        m.nominal_cell(),
        m2.nominal_cell().clone_with_d2d_of(&m.nominal_cell())
    );
    let err = model_from_params("oxram", &[("nope".into(), 1.0)]).unwrap_err();
    assert!(err.contains("nope"), "{err}");
    assert!(model_from_params("warp", &[]).is_err());
}

trait SameD2d {
    fn clone_with_d2d_of(&self, other: &Cell) -> Cell;
}
impl SameD2d for Cell {
    /// `.model` lines carry no D2D spread; compare everything else.
    fn clone_with_d2d_of(&self, other: &Cell) -> Cell {
        match (self.clone(), other) {
            (Cell::OxRam { mut p, s }, Cell::OxRam { p: q, .. }) => {
                p.d2d = q.d2d.clone();
                Cell::OxRam { p, s }
            }
            (c, _) => c,
        }
    }
}

#[test]
fn param_tables_cover_every_family() {
    for f in FAMILIES {
        let t = param_table_markdown(f).unwrap();
        assert!(t.lines().count() > 3, "{f}");
    }
    assert!(param_table_markdown("nope").is_none());
}

#[test]
fn every_current_derivative_matches_central_difference() {
    for card in [
        "oxram-stanford-v1.toml",
        "cbram-yu-wong.toml",
        "fgate-flash.toml",
    ] {
        let m = load_card(&card_path(card)).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut noise = ChaCha8Rng::seed_from_u64(6);
        let mut cell = m.nominal_cell();
        for state_i in 0..6 {
            // Visit several states: alternate SET and RESET pulses of growing width.
            let w = 1e-9 * 10f64.powi(state_i);
            let v = if state_i % 2 == 0 { 3.0 } else { -3.0 };
            cell.advance(v, w, 300.0, &mut noise);
            let _ = &mut rng;
            for i in 0..31 {
                let v = -3.0 + 0.2 * i as f64 + 0.0137;
                let h = 1e-5;
                let fd = (cell.current(v + h, 300.0).0 - cell.current(v - h, 300.0).0) / (2.0 * h);
                let (_, d) = cell.current(v, 300.0);
                assert!(
                    (fd - d).abs() <= 1e-6 * d.abs(),
                    "{card} state {state_i} v={v}: fd {fd} vs {d}"
                );
            }
        }
    }
}
