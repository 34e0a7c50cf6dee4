//! Every card's required key missing is an error naming the file and the key; the optional
//! knobs (declared `#[optional]`) may be left out.

use std::path::Path;
use xbarsim::device::parse_card;

fn shipped(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("device-models")
            .join(name),
    )
    .unwrap()
}

fn without(text: &str, key: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with(&format!("{key} ")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_card_without_a_required_key_is_an_error_naming_file_and_key() {
    for (card, key) in [
        ("mtj_pma_cheng2014.toml", "tmr0"),
        ("mtj_pma_cheng2014.toml", "ra_ohm_um2"),
        ("pcm_gst_mushroom.toml", "r_reset_ohm"),
        ("pcm_stat_aihwkit.toml", "g_max_us"),
        ("oxram-stanford-v1.toml", "g0"),
        ("fgate-flash.toml", "c_cg"),
        ("cbram-yu-wong.toml", "area"),
    ] {
        let text = without(&shipped(card), key);
        let e = parse_card(Path::new(card), &text).expect_err(key);
        assert_eq!(e.key, key, "{card}: {e}");
        let msg = e.to_string();
        assert!(
            msg.contains(card) && msg.contains("missing required"),
            "{msg}"
        );
    }
}

#[test]
fn optional_knobs_may_be_left_out() {
    for (card, key) in [
        ("mtj_pma_cheng2014.toml", "nb_max_ic_ratio"),
        ("mtj_pma_cheng2014.toml", "initial_ap"),
        ("pcm_gst_mushroom.toml", "i_hold_a"),
    ] {
        let text = without(&shipped(card), key);
        parse_card(Path::new(card), &text).unwrap_or_else(|e| panic!("{card} without {key}: {e}"));
    }
}
