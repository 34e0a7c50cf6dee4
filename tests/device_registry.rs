//! The device registry and the one card layout: every family comes from one list, the shipped
//! cards are in the sectioned layout, the old flat layout (pcm, pcm_stat, mtj) is still read and
//! gives the same model, and `.model` errors carry their key as data.

use std::path::Path;
use xbarsim::device::{
    family_param_docs, load_card, model_from_params_typed, parse_card, Model, FAMILIES,
};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_shipped_card_is_in_the_one_sectioned_layout() {
    for e in std::fs::read_dir(root().join("device-models")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().and_then(|s| s.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines().any(|l| l.trim() == "[params]"),
            "{} lacks a [params] table",
            path.display()
        );
        assert!(
            !text.lines().any(|l| l.trim() == "[variability]"),
            "{} uses the old [variability] table",
            path.display()
        );
        let m = load_card(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(FAMILIES.contains(&m.family()));
    }
}

#[test]
fn the_old_flat_layout_is_still_read_and_gives_the_same_model() {
    for f in ["pcm_gst_mushroom", "pcm_stat_aihwkit", "mtj_pma_cheng2014"] {
        let new = load_card(&root().join(format!("device-models/{f}.toml"))).unwrap();
        let old = load_card(&root().join(format!("tests/data/{f}.flat-layout.toml")))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(new.params(), old.params(), "{f}");
        assert_eq!(new.source(), old.source(), "{f}");
        assert_eq!(new.family(), old.family(), "{f}");
        // The flat copy's D2D spread is the same: same seed, same sampled device.
        use rand::SeedableRng;
        let mut r1 = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut r2 = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        assert_eq!(new.instantiate(&mut r1), old.instantiate(&mut r2), "{f}");
    }
}

#[test]
fn a_flat_layout_card_without_a_required_key_is_an_error() {
    let path = root().join("tests/data/mtj_pma_cheng2014.flat-layout.toml");
    let text: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("tmr0 "))
        .map(|l| format!("{l}\n"))
        .collect();
    let e = parse_card(&path, &text).unwrap_err();
    assert_eq!(e.key, "tmr0", "{e}");
    assert!(e.to_string().contains("missing required"), "{e}");
}

#[test]
fn a_variability_key_in_the_wrong_section_names_key_line_and_section() {
    let path = root().join("device-models/pcm_gst_mushroom.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "[variability.c2c]\nset_rate_sigma_ln",
        "nu_sigma_unused = 0\n[variability.c2c]\nset_rate_sigma_ln",
    );
    let e = parse_card(&path, &text).unwrap_err();
    assert_eq!(e.key, "nu_sigma_unused", "{e}");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("nu_sigma = 0.045\n", "")
        .replace(
            "[variability.c2c]\n",
            "[variability.c2c]\nnu_sigma = 0.045\n",
        );
    let e = parse_card(&path, &text).unwrap_err();
    assert_eq!(e.key, "nu_sigma", "{e}");
    assert!(e.msg.contains("[variability.d2d]"), "{e}");
    assert!(e.line.is_some(), "{e}");
    // A model parameter under [variability.*] is refused too.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("[variability.c2c]\n", "[variability.c2c]\nnu2 = 0.1\n");
    assert_eq!(parse_card(&path, &text).unwrap_err().key, "nu2");
}

#[test]
fn model_errors_are_typed_with_the_key() {
    for fam in FAMILIES {
        let e = model_from_params_typed(fam, &[("bogus_key".into(), 1.0)]).unwrap_err();
        assert_eq!(e.key, "bogus_key", "{fam}: {e}");
    }
    let e = model_from_params_typed("mtj", &[("tmr0".into(), -1.0)]).unwrap_err();
    assert_eq!(e.key, "tmr0", "{e}");
    let e = model_from_params_typed("warp", &[]).unwrap_err();
    assert!(
        e.key.is_empty() && e.msg.contains("unknown device family"),
        "{e}"
    );
}

#[test]
fn every_family_of_the_registry_has_docs_defaults_and_round_trips_its_model_keys() {
    for fam in FAMILIES {
        assert!(
            family_param_docs(fam).is_some_and(|d| !d.is_empty()),
            "{fam}"
        );
        assert!(Model::iv_defaults(fam).is_some(), "{fam}");
        for d in family_param_docs(fam).unwrap() {
            let bare = d.key.rsplit('.').next().unwrap();
            let ok = [bare.to_string(), format!("variability.{bare}")]
                .iter()
                .any(|k| {
                    Model::card_section(fam, k).is_some_and(|s| d.key == format!("{s}.{bare}"))
                });
            assert!(ok, "{fam}: {} is not in its declared section", d.key);
        }
    }
}
