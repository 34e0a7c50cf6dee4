//! A fitted card runs unchanged wherever a shipped card does: `xbar device`, a netlist's
//! `.model … (card=…)` and a crossbar config's `[device] kind = "card"` (issue 8). The cards are
//! the ones the main job's fits wrote into `notebooks-out/`.

use std::path::{Path, PathBuf};

use xbarsim::app::runner::run_netlist;
use xbarsim::circuit::AnalysisResult;
use xbarsim::crossbar::{mvm, Crossbar};
use xbarsim::device::load_card;

fn fitted_cards() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks-out");
    let mut cards: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("fit_") && n.ends_with(".card.toml")
        })
        .collect();
    cards.sort();
    assert!(cards.len() >= 4, "the main job's fitted cards: {cards:?}");
    cards
}

/// One cell across a DC source: the engine's i(v1) is minus the card's own static current.
#[test]
fn fitted_cards_run_in_a_netlist_through_card_equals() {
    for card in fitted_cards() {
        let model = load_card(&card).unwrap();
        let cell = model.nominal_cell();
        let family = cell.family();
        let v = 0.1;
        let dir = tempfile::tempdir().unwrap();
        let deck = dir.path().join("deck.cir");
        std::fs::write(
            &deck,
            format!(
                "fitted card\n.model cell {family} (card={})\nV1 a 0 DC {v}\nN1 a 0 cell\n.op\n.end\n",
                card.display()
            ),
        )
        .unwrap();
        let out = run_netlist(&deck).unwrap_or_else(|e| panic!("{}: {e}", card.display()));
        let AnalysisResult::Op(rows) = &out.results[0] else {
            panic!("expected .op")
        };
        let i_v1 = rows.iter().find(|(n, _)| n == "i(v1)").unwrap().1;
        let (i, _) = cell.current(v, 300.15);
        assert!(
            (i_v1 + i).abs() <= 1e-6 * i.abs() + 1e-15,
            "{}: i(v1) {i_v1:e} A vs cell {i:e} A",
            card.display()
        );
    }
}

/// A 4×4 passive array of the fitted OxRAM cards multiplies (every current finite and positive).
#[test]
fn fitted_oxram_cards_populate_a_crossbar() {
    for card in fitted_cards() {
        if load_card(&card).unwrap().nominal_cell().family() != "oxram" {
            continue; // only OxRAM and PCM cards can be array cells
        }
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("xb.toml");
        std::fs::write(
            &cfg,
            format!(
                "rows = 4\ncols = 4\ncell = \"0T1R\"\nseed = 1\n\n[device]\nkind = \"card\"\n\
                 card = \"{}\"\n\n[wires]\nr_row = 1.0\nr_col = 1.0\n\n[weights]\nrandom = true\n",
                card.display()
            ),
        )
        .unwrap();
        let xb = Crossbar::from_toml_file(&cfg).unwrap_or_else(|e| panic!("{e}"));
        let rep = mvm(&xb, &[vec![1.0; 4]]).unwrap();
        for i in &rep.analog[0] {
            assert!(i.is_finite() && *i > 0.0, "{}: {i}", card.display());
        }
    }
}
