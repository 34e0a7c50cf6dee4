//! Memristive `N` elements in netlists: `.model NAME <family> (key=value ...)` and
//! `(card=path)`, .op / .dc / .tran through the engine, and export of a frozen cell as a
//! B source whose .op in ngspice agrees with xbarsim's own solve of the N-element circuit.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use xbarsim::circuit::{analysis, run_all, AnalysisResult, Circuit, Simulator};
use xbarsim::device::{load_card, Cell};
use xbarsim::spice::parser::{parse_file, parse_str};
use xbarsim::spice::writer::write_netlist_mapped;

fn card_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device-models")
        .join(name)
}

const CARDS: &[(&str, &str)] = &[
    ("oxram", "oxram-stanford-v1.toml"),
    ("cbram", "cbram-yu-wong.toml"),
    ("fgate", "fgate-flash.toml"),
    ("pcm", "pcm_gst_mushroom.toml"),
    ("pcm_stat", "pcm_stat_aihwkit.toml"),
    ("mtj", "mtj_pma_cheng2014.toml"),
    ("jart", "jart_vcm_v1b.toml"),
];

/// Write `text` as `deck.cir` next to a copy of `card` in a fresh directory and parse it, so
/// `card=<file name>` exercises the path-relative-to-netlist rule.
fn parse_with_card(text: &str, card: &str) -> (tempfile::TempDir, Circuit) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(card_path(card), dir.path().join(card)).unwrap();
    let deck = dir.path().join("deck.cir");
    std::fs::write(&deck, text).unwrap();
    let c = parse_file(&deck).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (dir, c)
}

#[test]
fn card_path_is_relative_to_the_netlist_and_family_must_match() {
    for &(family, card) in CARDS {
        let text = format!(
            "t\n.model cell {family} (card={card})\nV1 a 0 DC 0.1\nN1 a 0 cell\n.op\n.end\n"
        );
        let (_d, c) = parse_with_card(&text, card);
        assert_eq!(c.memcells.len(), 1);
        assert_eq!(c.memcells[0].cell.family(), family);
        assert_eq!(
            c.memcells[0].cell,
            load_card(&card_path(card)).unwrap().nominal_cell()
        );
    }
    // Wrong family on the .model line.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        card_path("pcm_gst_mushroom.toml"),
        dir.path().join("p.toml"),
    )
    .unwrap();
    let deck = dir.path().join("d.cir");
    std::fs::write(
        &deck,
        "t\n.model cell mtj (card=p.toml)\nN1 a 0 cell\n.end\n",
    )
    .unwrap();
    let e = parse_file(&deck).unwrap_err().to_string();
    assert!(e.contains("family `pcm`") && e.contains(":2:"), "{e}");
    // Missing card file: the error names the .model line and the path.
    std::fs::write(
        &deck,
        "t\n.model cell pcm (card=nope.toml)\nN1 a 0 cell\n.end\n",
    )
    .unwrap();
    let e = parse_file(&deck).unwrap_err().to_string();
    assert!(e.contains("nope.toml") && e.contains(":2:"), "{e}");
}

#[test]
fn model_keys_on_the_line_and_errors_name_the_key() {
    let c = parse_str(
        "t\n.param rs=20k\n.model cell pcm (r_set_ohm={rs} variability.nu_sigma=0.01)\n\
         N1 a 0 cell\nV1 a 0 0.1\n.end\n",
        None,
    )
    .unwrap();
    let Cell::Pcm { p, .. } = &c.memcells[0].cell else {
        panic!("not pcm")
    };
    assert_eq!(p.params().r_set_ohm, 20e3);
    assert_eq!(p.params().nu_sigma, 0.01);
    let e = parse_str(
        "t\n.model cell mtj (tmr0=1 bogus=2)\nN1 a 0 cell\n.end\n",
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("bogus") && e.contains(":2:"), "{e}");
    let e = parse_str("t\n.model cell oxram (i0=1e-3)\nN1 a 0 cell\n.end\n", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("g0") && e.contains("missing"), "{e}");
    let e = parse_str("t\n.model cell pcm ()\nN1 a 0 cell extra\n.end\n", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("extra"), "{e}");
}

fn op_rows(c: &Circuit) -> HashMap<String, f64> {
    let res = run_all(c.clone()).unwrap_or_else(|e| panic!("{e}"));
    match &res[0] {
        AnalysisResult::Op(rows) => rows.iter().cloned().collect(),
        _ => panic!("not op"),
    }
}

#[test]
fn op_and_dc_through_an_n_cell_follow_the_static_law() {
    // V source straight across the cell: i(v1) = -I_cell(V) (ngspice sign), exactly the law.
    for &(family, card) in CARDS {
        let text = format!(
            "t\n.model cell {family} (card={card})\nV1 a 0 DC 0.2\nN1 a 0 cell\n.op\n\
             .dc V1 -0.3 0.3 0.1\n.end\n"
        );
        let (_d, c) = parse_with_card(&text, card);
        let cell = c.memcells[0].cell.clone();
        let temp = c.options.temp;
        let res = run_all(c).unwrap();
        let AnalysisResult::Op(rows) = &res[0] else {
            panic!()
        };
        let i = rows.iter().find(|r| r.0 == "i(v1)").unwrap().1;
        let want = -cell.current(0.2, temp).0;
        assert!(
            (i - want).abs() <= 1e-9 * want.abs(),
            "{family}: {i} vs {want}"
        );
        let AnalysisResult::Dc(t) = &res[1] else {
            panic!()
        };
        let vs = t.column(&t.columns[0]).unwrap();
        let is = t.column("i(v1)").unwrap();
        for (v, i) in vs.iter().zip(&is) {
            let want = -cell.current(*v, temp).0;
            assert!(
                (i - want).abs() <= 1e-9 * want.abs() + 1e-18,
                "{family} dc at {v}: {i} vs {want}"
            );
        }
    }
}

#[test]
fn transient_advances_the_state_like_the_device_model() {
    // A 1.4 V SET pulse (1 ns edges, 250 ns plateau) straight across an OxRAM cell in the HRS:
    // a partial SET (gap 1.7 nm -> about 1.55 nm, before the thermal runaway). The reference is
    // the device model alone, advanced over the same piecewise-linear waveform in 1 ps slices
    // (edges) and one 250 ns slice (plateau, where `advance` is accurate for any dt).
    let text = "t\n.model cell oxram (card=oxram-stanford-v1.toml)\n\
                V1 a 0 PWL(0 0 1n 1.4 251n 1.4 252n 0)\nN1 a 0 cell\n.tran 1n 300n\n.end\n";
    let (_d, c) = parse_with_card(text, "oxram-stanford-v1.toml");
    let mut cell = c.memcells[0].cell.clone();
    let temp = c.options.temp;
    // The card has C2C noise; remove it so both sides are deterministic.
    if let Cell::OxRam { p, .. } = &mut cell {
        p.dg0 = 0.0;
    }
    let mut c = c;
    c.memcells[0].cell = cell.clone();
    let mut sim = Simulator::new(c).unwrap();
    analysis::transient(
        &mut sim,
        &analysis::TranSpec {
            tstep: 1e-9,
            tstop: 300e-9,
            tstart: 0.0,
            tmax: None,
            uic: false,
            output_times: None,
        },
    )
    .unwrap();
    let got = sim.circuit().memcells[0].cell.state_vars()[0].1;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let h = 1e-12;
    for k in 0..1000 {
        cell.advance(1.4 * (k as f64 + 0.5) / 1000.0, h, temp, &mut rng);
    }
    cell.advance(1.4, 250e-9, temp, &mut rng);
    for k in 0..1000 {
        cell.advance(1.4 * (1.0 - (k as f64 + 0.5) / 1000.0), h, temp, &mut rng);
    }
    let want = cell.state_vars()[0].1;
    let g_ini = 1.7e-9;
    assert!(
        want < g_ini - 0.1e-9 && want > 0.5e-9,
        "the pulse should SET partially: gap {want}"
    );
    assert!(
        (got - want).abs() <= 0.02 * (g_ini - want),
        "gap after transient {got} vs device-level {want}"
    );
}

// ---------------------------------------------------------------------------------------------
// Frozen export, checked by ngspice

fn have_ngspice() -> bool {
    let ok = Command::new("ngspice")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("NOTICE: ngspice not found on PATH; ngspice cross-check skipped");
    }
    ok
}

/// Run ngspice on `text`; return the `.op` vectors by name.
fn run_ngspice(text: &str) -> HashMap<String, f64> {
    let results = xbarsim::spice::ngspice::run_text(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    match results.into_iter().next() {
        Some(xbarsim::circuit::AnalysisResult::Op(rows)) => rows.into_iter().collect(),
        _ => panic!("expected an .op result from ngspice:\n{text}"),
    }
}

/// ngspice rawfile names: `v(node)` for nodes (or the bare node), `i(v1)` / `v1#branch`.
fn lookup(ng: &HashMap<String, f64>, name: &str) -> f64 {
    if let Some(x) = ng.get(name) {
        return *x;
    }
    let inner = &name[2..name.len() - 1];
    let alt = if name.starts_with("i(") {
        format!("{inner}#branch")
    } else {
        inner.to_string()
    };
    *ng.get(&alt)
        .unwrap_or_else(|| panic!("{name} not in ngspice output {:?}", ng.keys()))
}

/// Put each cell in a state away from its card's initial one, so the export is tested at a
/// state that only the frozen expression knows.
fn move_state(cell: &mut Cell) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let t = 300.0;
    if let Cell::PcmStat { p, s } = cell {
        p.program(s, 10e-6, &mut rng);
        s.age_s = 3600.0;
        return;
    }
    // By family key, not an exhaustive match: a new family needs no edit here to compile.
    match cell.family() {
        "oxram" => cell.advance(1.3, 100e-9, t, &mut rng),
        "cbram" => cell.advance(2.0, 1e-3, t, &mut rng),
        "fgate" => cell.advance(14.0, 1e-5, t, &mut rng),
        "pcm" => {
            cell.advance(1.5, 50e-9, t, &mut rng);
            cell.advance(0.0, 100.0, t, &mut rng);
        }
        "mtj" => cell.advance(-0.4, 50e-9, t, &mut rng),
        // Partway through the JART SET (N_disc between its bounds).
        "jart" => cell.advance(0.6, 1e-3, t, &mut rng),
        _ => cell.advance(1.0, 1e-6, t, &mut rng),
    }
}

#[test]
fn frozen_1t1r_export_agrees_with_ngspice() {
    if !have_ngspice() {
        return;
    }
    // Bit-line bias per family: in each law's nonlinear region (OxRAM sinh, PCM above the
    // threshold on the ON branch, MTJ bias-dependent TMR, FG channel in saturation).
    let biases = [
        ("oxram", 0.9),
        ("cbram", 0.3),
        ("fgate", 1.2),
        ("pcm", 1.6),
        ("pcm_stat", 0.2),
        ("mtj", 0.5),
        ("jart", 0.7),
    ];
    for &(family, card) in CARDS {
        let vbl = biases.iter().find(|b| b.0 == family).unwrap().1;
        let text = format!(
            "1t1r {family}\n.model cell {family} (card={card})\n\
             .model nacc nmos (level=1 vto=0.5 kp=1.2e-4 lambda=0.02)\n\
             .options reltol=1e-10 vntol=1e-13 abstol=1e-18\n\
             Vbl bl 0 DC {vbl}\nVwl wl 0 DC 1.8\nN1 bl mid cell\n\
             M1 mid wl 0 0 nacc w=2u l=0.5u\n.op\n.end\n"
        );
        let (_d, mut c) = parse_with_card(&text, card);
        move_state(&mut c.memcells[0].cell);
        let ours = op_rows(&c);
        let w = write_netlist_mapped(&c).unwrap();
        assert!(w.text.contains("bn1 bl mid i="), "{}", w.text);
        let ng = run_ngspice(&w.text);
        for name in ["v(mid)", "i(vbl)"] {
            let a = ours[name];
            let b = lookup(&ng, name);
            assert!(
                (a - b).abs() <= 1e-6 * a.abs().max(b.abs()),
                "{family}: {name}: xbarsim {a:e} vs ngspice {b:e}\n{}",
                w.text
            );
        }
        // The cell carries real current (the comparison is not of two zeros).
        assert!(ours["i(vbl)"].abs() > 1e-9, "{family}: {}", ours["i(vbl)"]);
    }
}
