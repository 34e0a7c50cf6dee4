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

#[test]
fn every_family_is_declared_once_with_ranges_and_sections() {
    // One declaration system: every family has a validation table, its docs are that table,
    // and a value outside a declared range is refused with the key (no hand-written check).
    for fam in FAMILIES {
        let specs = xbarsim::device::family_specs(fam).unwrap_or_else(|| panic!("{fam}"));
        let docs = family_param_docs(fam).unwrap();
        assert_eq!(specs.len(), docs.len(), "{fam}");
        for (s, d) in specs.iter().zip(&docs) {
            assert_eq!(d.key, format!("{}.{}", s.kind.section(), s.name), "{fam}");
        }
    }
    // The MTJ polarisation is declared in (0, 1): 1 is refused, naming the key and range.
    let e = model_from_params_typed("mtj", &[("polarization".into(), 1.0)]).unwrap_err();
    assert_eq!(e.key, "polarization", "{e}");
    assert!(e.msg.contains("(0e0, 1e0)"), "{e}");
}

#[test]
fn a_params_spread_in_a_formerly_flat_family_samples_after_its_named_coefficients() {
    // `[variability.d2d] key = { rel = σ }` works for pcm as for oxram; its draws come after
    // the family's named D2D coefficients, so a card without such spreads samples as before.
    use rand::SeedableRng;
    let path = root().join("device-models/pcm_gst_mushroom.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let spread = text.replace(
        "[variability.d2d]\n",
        "[variability.d2d]\nr_on_ohm = { rel = 0.2 }\n",
    );
    let a = parse_card(&path, &text).unwrap();
    let b = parse_card(&path, &spread).unwrap();
    assert_eq!(a.params(), b.params(), "the nominal device is unchanged");
    let draw = |m: &Model| m.instantiate(&mut rand_chacha::ChaCha8Rng::seed_from_u64(5));
    let (xbarsim::device::Cell::Pcm { p: pa, .. }, xbarsim::device::Cell::Pcm { p: pb, .. }) =
        (draw(&a), draw(&b))
    else {
        panic!("not pcm")
    };
    let (qa, qb) = (pa.params(), pb.params());
    // Same named draws (ν, R_c, R_a, V_th) ...
    assert_eq!(
        (qa.nu, qa.r_set_ohm, qa.r_reset_ohm, qa.v_th_set_v),
        (qb.nu, qb.r_set_ohm, qb.r_reset_ohm, qb.v_th_set_v)
    );
    // ... and R_ON spread only in the card that declares it.
    assert_eq!(qa.r_on_ohm, 5.0e3);
    assert!(qb.r_on_ohm != 5.0e3 && qb.r_on_ohm > 0.0, "{}", qb.r_on_ohm);
    // A card with a spread entry that is neither `{ rel }`/`{ abs }` nor a number is refused.
    let bad = text.replace("nu_sigma = 0.045", "nu_sigma = \"wide\"");
    let e = parse_card(&path, &bad).unwrap_err();
    assert_eq!(e.key, "nu_sigma", "{e}");
    assert!(e.line.is_some(), "{e}");
}

/// pcm_stat `drift_scale` moved from `[variability.c2c]` to `[params]`; a card written in the
/// previous sectioned layout (the card as shipped before, kept verbatim in tests/data) still
/// reads, with the same parameters and the same seeded retention trace.
#[test]
fn a_key_in_the_section_an_earlier_release_declared_still_reads() {
    let new_path = root().join("device-models/pcm_stat_aihwkit.toml");
    let old_path = root().join("tests/data/pcm_stat_aihwkit.c2c-drift-layout.toml");
    let old_text = std::fs::read_to_string(&old_path).unwrap();
    let c2c = old_text.split("[variability.c2c]").nth(1).unwrap();
    assert!(
        c2c.contains("drift_scale = 1.0"),
        "the old card has drift_scale in c2c"
    );
    let new = load_card(&new_path).unwrap();
    let old = load_card(&old_path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(new.params(), old.params());
    use rand::SeedableRng;
    let draw = |m: &Model| m.instantiate(&mut rand_chacha::ChaCha8Rng::seed_from_u64(7));
    assert_eq!(draw(&new), draw(&old));

    // The value given in the old place is the one used (not the default): 0.5 there equals
    // 0.5 in [params], and differs from 1.
    let new_text = std::fs::read_to_string(&new_path).unwrap();
    let half_new = parse_card(
        &new_path,
        &new_text.replace("drift_scale = 1.0", "drift_scale = 0.5"),
    )
    .unwrap();
    let half_old = parse_card(
        &old_path,
        &old_text.replace("drift_scale = 1.0", "drift_scale = 0.5"),
    )
    .unwrap();
    assert_eq!(half_new.params(), half_old.params());
    assert_ne!(half_new.params(), new.params());

    // Same bits from the binary: a seeded Monte Carlo retention run (programming noise and
    // drawn drift exponents) with either card.
    let retention = |card: &Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_xbar"))
            .args(["device", "retention"])
            .arg(card)
            .args(["--times", "1,10,1e3,1e5", "--devices", "5", "--seed", "4"])
            .args(["--initial", "10e-6"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let (a, b) = (retention(&new_path), retention(&old_path));
    assert_eq!(String::from_utf8_lossy(&a).lines().count(), 1 + 5 * 4);
    assert!(
        a == b,
        "retention differs between the new and the previous layout"
    );

    // A `.model` line with the old prefix reads the same.
    let kv = |key: &str| -> Vec<(String, f64)> {
        new.params()
            .into_iter()
            .map(|(k, v)| {
                (
                    if k == "drift_scale" {
                        key.into()
                    } else {
                        k.into()
                    },
                    v,
                )
            })
            .collect()
    };
    let m_old = model_from_params_typed("pcm_stat", &kv("variability.c2c.drift_scale")).unwrap();
    let m_new = model_from_params_typed("pcm_stat", &kv("drift_scale")).unwrap();
    assert_eq!(m_old.params(), new.params());
    assert_eq!(m_new.params(), new.params());
}

#[test]
fn a_misplaced_key_is_still_an_error_and_a_moved_key_may_not_come_twice() {
    let path = root().join("device-models/pcm_stat_aihwkit.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line_of = |t: &str, needle: &str| t.lines().position(|l| l == needle).map(|i| i + 1);
    // A [params] key that never lived in [variability.c2c].
    let bad = text.replace("nu_mu_min = 0.049\n", "").replace(
        "[variability.c2c]\n",
        "[variability.c2c]\nnu_mu_min = 0.049\n",
    );
    let e = parse_card(&path, &bad).unwrap_err();
    assert_eq!(e.key, "nu_mu_min", "{e}");
    assert_eq!(e.file, path);
    assert_eq!(e.line, line_of(&bad, "nu_mu_min = 0.049"), "{e}");
    assert!(e.to_string().contains("belongs in [params]"), "{e}");
    // drift_scale only ever lived in [params] or [variability.c2c]: [variability.d2d] is wrong.
    let bad = text.replace("drift_scale = 1.0\n", "").replace(
        "[variability.c2c]\n",
        "[variability.d2d]\ndrift_scale = 1.0\n[variability.c2c]\n",
    );
    let e = parse_card(&path, &bad).unwrap_err();
    assert_eq!(e.key, "drift_scale", "{e}");
    assert_eq!(e.line, line_of(&bad, "drift_scale = 1.0"), "{e}");
    assert!(e.to_string().contains("belongs in [params]"), "{e}");
    // In both its old and its new place: refused, not one silently preferred.
    let twice = text.replace(
        "[variability.c2c]\n",
        "[variability.c2c]\ndrift_scale = 0.5\n",
    );
    let e = parse_card(&path, &twice).unwrap_err();
    assert_eq!(e.key, "drift_scale", "{e}");
    assert!(e.to_string().contains("given twice"), "{e}");
    assert!(e.line.is_some(), "{e}");
}
