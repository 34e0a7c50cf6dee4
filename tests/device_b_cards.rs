//! The README tables (`PARAMS`) of the three families name exactly the card keys, with the
//! defaults the structs use, and the shipped cards load.

use xbarsim::device::{mram, pcm, pcm_stat};

/// Builds a one-key TOML card from a table row.
fn one_key_card(key: &str, value: f64) -> String {
    match key.strip_prefix("variability.") {
        Some(k) => format!("[variability]\n{k} = {value:e}\n"),
        None => format!("{key} = {value:e}\n"),
    }
}

macro_rules! table_matches_struct {
    ($name:ident, $params:ty, $table:expr) => {
        #[test]
        fn $name() {
            let d = <$params>::default();
            d.validate().unwrap();
            for (key, symbol, unit, def, meaning) in $table {
                assert!(
                    !symbol.is_empty() && !unit.is_empty() && !meaning.is_empty(),
                    "{key}"
                );
                let p = <$params>::from_toml_str(&one_key_card(key, *def))
                    .unwrap_or_else(|e| panic!("{key}: {e}"));
                assert_eq!(p, d, "{key}");
            }
        }
    };
}

table_matches_struct!(pcm_table, pcm::PcmParams, pcm::PARAMS);
table_matches_struct!(mtj_table, mram::MtjParams, mram::PARAMS);
table_matches_struct!(pcm_stat_table, pcm_stat::PcmStatParams, pcm_stat::PARAMS);

#[test]
fn shipped_cards_load_and_cite_a_source() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models");
    let p = pcm::PcmParams::from_toml_file(&dir.join("pcm_gst_mushroom.toml")).unwrap();
    let m = mram::MtjParams::from_toml_file(&dir.join("mtj_pma_cheng2014.toml")).unwrap();
    let s = pcm_stat::PcmStatParams::from_toml_file(&dir.join("pcm_stat_aihwkit.toml")).unwrap();
    assert!(!p.source.is_empty() && !m.source.is_empty() && !s.source.is_empty());
    // A missing file is reported with its path.
    let err = pcm::PcmParams::from_toml_file(&dir.join("no_such_card.toml")).unwrap_err();
    assert!(err.contains("no_such_card.toml"), "{err}");
}
