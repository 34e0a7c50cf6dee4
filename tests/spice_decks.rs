//! The 27 ngspice conformance decks in ../shared/ngspice-tests/netlists: every deck parses,
//! the names it produces are the ones in ngspice's reference CSV, and selected element values
//! agree with the deck text (worked out by hand in the comments).

use std::path::{Path, PathBuf};

use xbarsim::circuit::{Analysis, Circuit, IntegrationMethod, Waveform};
use xbarsim::spice::{parse_file, parse_file_full};

const DECKS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/ngspice-tests/netlists"
);

fn decks() -> Option<Vec<PathBuf>> {
    let dir = Path::new(DECKS);
    if !dir.is_dir() {
        println!("NOTICE: {DECKS} is absent; deck tests skipped");
        return None;
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cir"))
        .collect();
    v.sort();
    Some(v)
}

fn deck(name: &str) -> Option<Circuit> {
    let p = Path::new(DECKS).join(format!("{name}.cir"));
    if !p.exists() {
        println!("NOTICE: {} is absent; test skipped", p.display());
        return None;
    }
    Some(parse_file(&p).unwrap_or_else(|e| panic!("{e}")))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
}

fn r(c: &Circuit, name: &str) -> f64 {
    c.resistors
        .iter()
        .find(|x| x.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no resistor {name}; have {:?}",
                c.resistors.iter().map(|r| &r.name).collect::<Vec<_>>()
            )
        })
        .r
}

/// Names of every vector in a reference CSV header (v(...) and i(...) columns).
fn csv_vectors(deck: &Path) -> Vec<String> {
    let stem = deck.file_stem().unwrap().to_str().unwrap();
    let mut out = Vec::new();
    for kind in ["op", "dc", "tran"] {
        let p = deck.with_file_name(format!("{stem}.{kind}.csv"));
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        if kind == "op" {
            out.extend(
                text.lines()
                    .skip(1)
                    .map(|l| l.split(',').next().unwrap().to_string()),
            );
        } else {
            out.extend(
                text.lines()
                    .next()
                    .unwrap()
                    .split(',')
                    .skip(1)
                    .map(str::to_string),
            );
        }
    }
    out
}

#[test]
fn every_deck_parses_with_ngspice_names() {
    let Some(decks) = decks() else { return };
    assert_eq!(decks.len(), 27);
    for p in &decks {
        let parsed = parse_file_full(p).unwrap_or_else(|e| panic!("{e}"));
        let c = &parsed.circuit;
        assert_eq!(c.analyses.len(), 1, "{}", p.display());
        // Every vector ngspice reports names a node or a branch we produced.
        for v in csv_vectors(p) {
            if let Some(node) = v.strip_prefix("v(").and_then(|s| s.strip_suffix(')')) {
                assert!(
                    c.find_node(node).is_some(),
                    "{}: node {node} missing",
                    p.display()
                );
            } else if let Some(el) = v.strip_prefix("i(").and_then(|s| s.strip_suffix(')')) {
                let found = c.vsources.iter().any(|x| x.name == el)
                    || c.vcvs.iter().any(|x| x.name == el)
                    || c.inductors.iter().any(|x| x.name == el)
                    || c.behavioural.iter().any(|x| x.name == el);
                assert!(found, "{}: branch {el} missing", p.display());
            } else {
                panic!("{}: unexpected vector {v}", p.display());
            }
        }
        // ...and every non-ground node we made is one ngspice reports (device-internal nodes excepted).
        let vecs = csv_vectors(p);
        for name in &c.node_names[1..] {
            assert!(
                vecs.contains(&format!("v({name})")),
                "{}: extra node {name}",
                p.display()
            );
        }
        for (name, _) in &c.origins {
            assert!(!name.is_empty());
        }
    }
}

#[test]
fn libproc_scoping_and_parameters() {
    // ex1b: X1 -> sub1 uses the sub_in_lib defined inside sub1 (R3 = 2k); X3 at top level uses
    // the top-level sub_in_lib (R4 = 4k).
    let Some(c) = deck("libproc_ex1b") else {
        return;
    };
    assert_eq!(r(&c, "r.x1.x1.r3"), 2e3);
    assert_eq!(r(&c, "r.x3.r4"), 4e3);
    assert_eq!(r(&c, "r2"), 4e3);
    // scope2: the top-level `sub` is 3k, the ones local to sub1/sub2 are 4k/2k.
    let c = deck("libproc_scope2").unwrap();
    assert_eq!(r(&c, "r.x1003_t.r1"), 3e3);
    assert_eq!(r(&c, "r.x1001_t.x1.r1"), 4e3);
    assert_eq!(r(&c, "r.x1002_t.x1.r1"), 2e3);
    // scope3: foo = 2k globally. x1001_t: sub1 foo = 2k*3 = 6k, so its R1 = 5*6k = 30k and
    // its inner `sub` gets foo = 3*6k = 18k, R1 = 18k. x1002_t: sub2 foo = 8k, R1 = 8k*13 = 104k,
    // inner foo = 11*8k = 88k. x1003_t: top `sub` with foo = 3k, R1 = 3k*11 = 33k.
    let c = deck("libproc_scope3").unwrap();
    assert!(close(r(&c, "r.x1001_t.r1"), 30e3));
    assert!(close(r(&c, "r.x1001_t.x1.r1"), 18e3));
    assert!(close(r(&c, "r.x1002_t.r1"), 104e3));
    assert!(close(r(&c, "r.x1002_t.x1.r1"), 88e3));
    assert!(close(r(&c, "r.x1003_t.r1"), 33e3));
    let v = c.vsources.iter().find(|v| v.name == "v1002_g").unwrap();
    assert_eq!(v.dc, 47.666666666666666);
}

#[test]
fn alterparam_instance_overrides() {
    // R1 = {rr + 1} with rr = vv + 1 = 2 -> 3 Ω; in Xr: rint = 7 (instance beats the body's
    // .param rint = 5), rint1 = 9 (instance beats the default 6), rint2 = 8.
    let Some(c) = deck("various_alterparam") else {
        return;
    };
    assert_eq!(r(&c, "r1"), 3.0);
    assert_eq!(r(&c, "r.xr.r0"), 7.0);
    assert_eq!(r(&c, "r.xr.r1"), 9.0);
    assert_eq!(r(&c, "r.xr.r2"), 8.0);
}

#[test]
fn sources_and_waveforms() {
    // general_rc: `pulse (0 1)` with everything else defaulted; no DC given -> value at t=0 (0).
    let Some(c) = deck("general_rc") else { return };
    let v = &c.vsources[0];
    assert_eq!(v.dc, 0.0);
    assert_eq!(
        v.wave,
        Some(Waveform::Pulse {
            v1: 0.0,
            v2: 1.0,
            td: None,
            tr: None,
            tf: None,
            pw: None,
            per: None
        })
    );
    assert_eq!(
        c.analyses[0],
        Analysis::Tran {
            tstep: 0.1,
            tstop: 7.0,
            tstart: 0.0,
            tmax: None,
            uic: false
        }
    );
    // misc_convergence: `pulse 2µ 20µ 50n 50n 50n 1µ 2µ` without parentheses, µ = micro.
    let c = deck("misc_convergence").unwrap();
    let i = &c.isources[0];
    assert_eq!((i.pos, i.neg), (0, c.find_node("n01").unwrap()));
    match &i.wave {
        Some(Waveform::Pulse {
            v1,
            v2,
            td,
            tr,
            tf,
            pw,
            per,
        }) => {
            assert!(close(*v1, 2e-6) && close(*v2, 20e-6));
            assert!(
                close(td.unwrap(), 50e-9) && close(tr.unwrap(), 50e-9) && close(tf.unwrap(), 50e-9)
            );
            assert!(close(pw.unwrap(), 1e-6) && close(per.unwrap(), 2e-6));
        }
        w => panic!("{w:?}"),
    }
    assert_eq!(c.options.reltol, 1e-3);
    assert_eq!(c.options.abstol, 1e-12);
    // probe_cntrl_sources_eg: `DC 0.0 PWL (0 0.9 2e-3 2 4e-3 0.4)` keeps DC 0 for .op.
    let c = deck("probe_cntrl_sources_eg").unwrap();
    let v2 = c.vsources.iter().find(|v| v.name == "v2").unwrap();
    assert_eq!(v2.dc, 0.0);
    assert_eq!(
        v2.wave,
        Some(Waveform::Pwl(vec![(0.0, 0.9), (2e-3, 2.0), (4e-3, 0.4)]))
    );
    let i1 = c.isources.iter().find(|v| v.name == "i1").unwrap();
    assert_eq!(
        i1.wave,
        Some(Waveform::Pwl(vec![(0.0, 0.0), (2e-3, 2e-3), (4e-3, -2e-3)]))
    );
    assert_eq!(c.vccs[0].gain, 1.5e-3);
    assert_eq!(c.vcvs[0].gain, 2.5e-3);
    // various_cutout1: `dc 0 sin (0 1 1k)` with a space before the parenthesis.
    let c = deck("various_cutout1").unwrap();
    assert_eq!(
        c.vsources[0].wave,
        Some(Waveform::Sin {
            vo: 0.0,
            va: 1.0,
            freq: Some(1e3),
            td: None,
            theta: None,
            phase: None
        })
    );
    // numparam_pintest: 2mW = 2e-3, 10V = 10, 0.001ohm; `.dc vlight 0 10mW 0.01mW`.
    let c = deck("numparam_pintest").unwrap();
    assert_eq!(
        c.vsources.iter().find(|v| v.name == "vlight").unwrap().dc,
        2e-3
    );
    assert_eq!(
        c.vsources.iter().find(|v| v.name == "vbias").unwrap().dc,
        10.0
    );
    assert_eq!(r(&c, "r.xpin.ra"), 1e-3);
    assert_eq!(r(&c, "r.xpin.rin"), 1e9);
    assert_eq!(
        c.vccs[0].gain, 0.7,
        "G gain {{resp}} with resp=0.7 from the X line"
    );
    assert_eq!(c.capacitors[0].c, 0.7);
    assert_eq!(c.diodes[0].name, "d.xpin.dpn");
    match &c.analyses[0] {
        Analysis::Dc { inner, outer: None } => {
            assert_eq!(inner.source, "vlight");
            assert!(close(inner.stop, 10e-3) && close(inner.step, 1e-5));
        }
        a => panic!("{a:?}"),
    }
}

#[test]
fn mos_and_dc_sweeps() {
    // p2n_mos1_out: W/L from the model card act as defaults (M1: 9u/3u), the instance wins (M2).
    let Some(c) = deck("p2n_mos1_out") else {
        return;
    };
    let m = |n: &str| c.mosfets.iter().find(|m| m.name == n).unwrap().clone();
    assert!(close(m("m1").w, 9e-6) && close(m("m1").l, 3e-6));
    assert!(close(m("m2").w, 10e-6) && close(m("m2").l, 5e-6));
    assert!(close(m("m3").w, 100e-6) && close(m("m3").l, 100e-6));
    match &c.analyses[0] {
        Analysis::Dc {
            inner,
            outer: Some(outer),
        } => {
            assert_eq!(
                (inner.source.as_str(), inner.stop, inner.step),
                ("vd", 5.0, 0.1)
            );
            assert_eq!(
                (outer.source.as_str(), outer.stop, outer.step),
                ("vg", 5.0, 1.0)
            );
        }
        a => panic!("{a:?}"),
    }
    let c = deck("general_mosmem").unwrap();
    assert_eq!(c.mosfets.len(), 12);
    assert!(close(c.mosfets[0].w, 250e-6) && close(c.mosfets[0].l, 5e-6));
    assert_eq!(c.options.abstol, 1e-6);
    assert_eq!(c.options.method, IntegrationMethod::Trapezoidal);
}

#[test]
fn behavioural_sources_and_capacitor_ic() {
    // various_roessler_attractor: B3 z 0 i = -(b + v(z) * (v(x) - c)), b = 0.2, c = 5.7.
    let Some(c) = deck("various_roessler_attractor") else {
        return;
    };
    let b3 = c.behavioural.iter().find(|b| b.name == "b3").unwrap();
    let (x, z) = (c.find_node("x").unwrap(), c.find_node("z").unwrap());
    let volts: Vec<f64> = b3
        .expr
        .nodes
        .iter()
        .map(|&n| {
            if n == x {
                1.5
            } else if n == z {
                0.5
            } else {
                9.9
            }
        })
        .collect();
    let mut g = vec![0.0; volts.len()];
    let want = -(0.2 + 0.5 * (1.5 - 5.7));
    assert!(close(b3.expr.eval(&volts, 0.0, &mut g), want));
    assert_eq!(
        c.capacitors.iter().find(|c| c.name == "c1").unwrap().ic,
        Some(1.0)
    );
    assert!(matches!(c.analyses[0], Analysis::Tran { uic: true, .. }));
    // pss_vdp_osc: `Ca gib 0 1e-9 ic=-1`, `La gib1 0 1.2e-6`, `RLa gib gib1 1m`.
    let c = deck("pss_vdp_osc").unwrap();
    assert_eq!(c.capacitors[0].ic, Some(-1.0));
    assert_eq!(c.inductors[0].l, 1.2e-6);
    assert_eq!(r(&c, "rla"), 1e-3);
    // misc_bugs1: 'aux1003**2' with aux1003 = -2 evaluates to 4, and '-aux1003**2' to -4.
    let c = deck("misc_bugs1").unwrap();
    let val = |n: &str| {
        c.behavioural
            .iter()
            .find(|b| b.name == n)
            .unwrap()
            .expr
            .eval(&[3.0], 0.0, &mut [0.0])
    };
    assert_eq!(val("b1003_t"), 4.0);
    assert_eq!(val("b1004_t"), -4.0);
    assert_eq!(val("b1002_t"), -3.0);
}

#[test]
fn warnings_for_skipped_cards() {
    let Some(p) = decks().map(|_| Path::new(DECKS).join("general_mosmem.cir")) else {
        return;
    };
    let parsed = parse_file_full(&p).unwrap();
    // `.opt list node noacct`: three ignored options.
    let ignored = parsed
        .warnings
        .iter()
        .filter(|w| w.contains("ignored"))
        .count();
    assert_eq!(ignored, 3, "{:?}", parsed.warnings);
    assert!(parsed.warnings[0].starts_with(&format!("{}:", p.display())));
}
