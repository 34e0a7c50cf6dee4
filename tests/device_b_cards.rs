//! The declarations (`SPECS`) of the three formerly flat families name exactly the card keys,
//! with the defaults the structs use, and the shipped cards load.

use xbarsim::device::{load_card, mram, pcm, pcm_stat};

macro_rules! table_matches_struct {
    ($name:ident, $params:ty) => {
        #[test]
        fn $name() {
            let d = <$params>::default();
            d.validate().unwrap();
            // A card giving every declared key at its default, in its declared section, reads
            // back as the defaults.
            let mut text = format!(
                "family = \"{}\"\nsource = \"test\"\n",
                <$params>::FAMILY_KEY
            );
            for section in ["params", "variability.d2d", "variability.c2c"] {
                text += &format!("[{section}]\n");
                for s in <$params>::SPECS
                    .iter()
                    .filter(|s| s.kind.section() == section)
                {
                    assert!(
                        !s.symbol.is_empty() && !s.unit.is_empty() && !s.doc.is_empty(),
                        "{}",
                        s.name
                    );
                    text += &format!("{} = {:e}\n", s.name, s.default.unwrap());
                }
            }
            let p = <$params>::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(p, d);
        }
    };
}

table_matches_struct!(pcm_table, pcm::PcmParams);
table_matches_struct!(mtj_table, mram::MtjParams);
table_matches_struct!(pcm_stat_table, pcm_stat::PcmStatParams);

#[test]
fn shipped_cards_load_and_cite_a_source() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("device-models");
    for f in [
        "pcm_gst_mushroom.toml",
        "mtj_pma_cheng2014.toml",
        "pcm_stat_aihwkit.toml",
    ] {
        let m = load_card(&dir.join(f)).unwrap_or_else(|e| panic!("{e}"));
        assert!(!m.source().is_empty(), "{f}");
    }
    pcm::PcmParams::from_toml_file(&dir.join("pcm_gst_mushroom.toml")).unwrap();
    // A missing file is reported with its path.
    let err = pcm::PcmParams::from_toml_file(&dir.join("no_such_card.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no_such_card.toml"), "{err}");
}
