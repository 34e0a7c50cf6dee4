//! Writer: every conformance deck survives parse -> write -> parse, and ngspice 39 runs what we
//! write and gets the same results (and vector names) as from the original hierarchical deck.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use xbarsim::circuit::{Circuit, NodeId};
use xbarsim::spice::writer::write_netlist_mapped;
use xbarsim::spice::{parse_file, parse_str, write_netlist};

const DECKS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/ngspice-tests/netlists"
);

/// The shared conformance decks (when ../shared is present) and our own reference decks.
fn decks() -> Option<Vec<PathBuf>> {
    let own = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/netlists"));
    let mut dirs = vec![own];
    let shared = Path::new(DECKS);
    if shared.is_dir() {
        dirs.push(shared);
    } else {
        println!("NOTICE: {DECKS} is absent; writer tests use netlists/ only");
    }
    let mut v: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cir"))
        .collect();
    v.sort();
    Some(v)
}

/// Evaluate every B source at a few voltage sets, for comparing two compilations.
fn b_values(c: &Circuit) -> Vec<f64> {
    let mut out = Vec::new();
    for b in &c.behavioural {
        for k in 0..3 {
            let volts: Vec<f64> = b
                .expr
                .nodes
                .iter()
                .map(|&n| {
                    // Depends on the node's name, not its id (ids differ between parses).
                    let h: u32 = c.node_name(n).bytes().map(u32::from).sum();
                    0.3 + 0.17 * k as f64 + 0.01 * (h % 50) as f64
                })
                .collect();
            let mut g = vec![0.0; volts.len()];
            out.push(b.expr.eval(&volts, 1e-6 * k as f64, &mut g));
            out.extend(g);
        }
    }
    out
}

/// The circuit with node ids replaced by names, so that two parses compare regardless of order.
fn summary(c: &Circuit) -> Vec<String> {
    let n = |id: NodeId| c.node_name(id).to_string();
    let mut v = Vec::new();
    for r in &c.resistors {
        v.push(format!("{} {} {} {:e}", r.name, n(r.a), n(r.b), r.r));
    }
    for x in &c.capacitors {
        v.push(format!(
            "{} {} {} {:e} {:?}",
            x.name,
            n(x.a),
            n(x.b),
            x.c,
            x.ic
        ));
    }
    for x in &c.inductors {
        v.push(format!(
            "{} {} {} {:e} {:?}",
            x.name,
            n(x.a),
            n(x.b),
            x.l,
            x.ic
        ));
    }
    for s in c.vsources.iter().chain(&c.isources) {
        v.push(format!(
            "{} {} {} {:e} {:?}",
            s.name,
            n(s.pos),
            n(s.neg),
            s.dc,
            s.wave
        ));
    }
    for e in c.vcvs.iter().chain(&c.vccs) {
        v.push(format!(
            "{} {} {} {} {} {:e}",
            e.name,
            n(e.pos),
            n(e.neg),
            n(e.cpos),
            n(e.cneg),
            e.gain
        ));
    }
    for d in &c.diodes {
        v.push(format!(
            "{} {} {} {:e} {:e} {:?}",
            d.name,
            n(d.anode),
            n(d.cathode),
            d.area,
            d.m,
            d.model
        ));
    }
    for m in &c.mosfets {
        v.push(format!(
            "{} {} {} {} {} {:e} {:e} {:e} {:e} {:e} {:e} {:e} {:?}",
            m.name,
            n(m.d),
            n(m.g),
            n(m.s),
            n(m.b),
            m.w,
            m.l,
            m.ad,
            m.as_,
            m.pd,
            m.ps,
            m.m,
            m.model
        ));
    }
    for b in &c.behavioural {
        let nodes: Vec<String> = b.expr.nodes.iter().map(|&x| n(x)).collect();
        v.push(format!(
            "{} {} {} {:?} {:?} {}",
            b.name,
            n(b.pos),
            n(b.neg),
            b.kind,
            nodes,
            b.expr.uses_time()
        ));
    }
    v.push(format!("{:?}", c.analyses));
    v.sort();
    v
}

#[test]
fn every_deck_round_trips_through_the_writer() {
    let Some(decks) = decks() else { return };
    for p in decks {
        let c = parse_file(&p).unwrap_or_else(|e| panic!("{e}"));
        let text = write_netlist(&c).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let again =
            parse_str(&text, None).unwrap_or_else(|e| panic!("{}: {e}\n{text}", p.display()));
        assert_eq!(summary(&c), summary(&again), "{}\n{text}", p.display());
        assert_eq!(b_values(&c), b_values(&again), "{}", p.display());
        let mut names_a = c.node_names.clone();
        let mut names_b = again.node_names.clone();
        names_a.sort();
        names_b.sort();
        assert_eq!(names_a, names_b);
        let (o, q) = (&c.options, &again.options);
        assert_eq!(
            (o.reltol, o.abstol, o.vntol, o.gmin, o.itl1, o.itl4, o.method),
            (q.reltol, q.abstol, q.vntol, q.gmin, q.itl1, q.itl4, q.method)
        );
        assert!((o.temp - q.temp).abs() < 1e-9 && (o.tnom - q.tnom).abs() < 1e-9);
    }
}

#[test]
fn names_are_sanitised_and_reported() {
    let mut c = Circuit::new("sanitise");
    let a = c.node("wl[0]");
    let b = c.node("bl 1");
    c.resistors.push(xbarsim::circuit::Resistor {
        name: "cell(0,1)".into(),
        a,
        b,
        r: 1e3,
    });
    c.resistors.push(xbarsim::circuit::Resistor {
        name: "rx".into(),
        a,
        b: 0,
        r: 2e3,
    });
    c.resistors.push(xbarsim::circuit::Resistor {
        name: "rx".into(),
        a: b,
        b: 0,
        r: 3e3,
    });
    let w = write_netlist_mapped(&c).unwrap();
    assert!(
        w.renamed_elements
            .contains(&("cell(0,1)".to_string(), "rcell_0_1_".to_string())),
        "{:?}",
        w.renamed_elements
    );
    assert!(w
        .renamed_elements
        .contains(&("rx".to_string(), "rx_2".to_string())));
    assert!(w
        .renamed_nodes
        .contains(&("wl[0]".to_string(), "wl_0_".to_string())));
    let again = parse_str(&w.text, None).unwrap();
    assert_eq!(again.resistors.len(), 3);
    assert!(again.find_node("bl_1").is_some());
}

// ---------------------------------------------------------------------------------------------
// ngspice runs

fn have_ngspice() -> bool {
    let ok = Command::new("ngspice")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("NOTICE: ngspice not found; ngspice cross-checks skipped");
    }
    ok
}

/// Run ngspice on `text`; return every vector of its (single) analysis by name.
fn run_ngspice(text: &str) -> HashMap<String, Vec<f64>> {
    use xbarsim::circuit::AnalysisResult;
    let results = xbarsim::spice::ngspice::run_text(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut out = HashMap::new();
    for r in results {
        match r {
            AnalysisResult::Op(rows) => out.extend(rows.into_iter().map(|(n, v)| (n, vec![v]))),
            AnalysisResult::Dc(t) | AnalysisResult::Tran(t) => {
                for (k, name) in t.columns.iter().enumerate() {
                    out.insert(name.clone(), t.rows.iter().map(|r| r[k]).collect());
                }
            }
        }
    }
    out
}

fn compare_runs(what: &str, a: &HashMap<String, Vec<f64>>, b: &HashMap<String, Vec<f64>>) {
    let mut ka: Vec<&String> = a.keys().collect();
    let mut kb: Vec<&String> = b.keys().collect();
    ka.sort();
    kb.sort();
    assert_eq!(ka, kb, "{what}: vector names differ");
    // Transients: the flattened deck's element order changes ngspice's own time-step sequence,
    // so b's voltages are interpolated onto a's time points and compared within 1e-3 of each
    // signal's scale; op/dc points must agree to 1e-9.
    let times = a.get("time").zip(b.get("time"));
    for (k, va) in a {
        let vb = &b[k];
        let scale = va.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1e-12);
        match times {
            None => {
                assert_eq!(va.len(), vb.len(), "{what}: {k} length");
                for (x, y) in va.iter().zip(vb) {
                    assert!((x - y).abs() <= 1e-9 * scale, "{what}: {k}: {x} vs {y}");
                }
            }
            // Branch currents through capacitive paths are derivatives of the step sequence
            // itself; the voltages carry the check.
            Some(_) if k.starts_with("i(") => {}
            Some((ta, tb)) => {
                for (t, x) in ta.iter().zip(va) {
                    let j = tb.partition_point(|&s| s < *t).clamp(1, tb.len() - 1);
                    let f = ((t - tb[j - 1]) / (tb[j] - tb[j - 1])).clamp(0.0, 1.0);
                    let y = vb[j - 1] + f * (vb[j] - vb[j - 1]);
                    assert!(
                        (x - y).abs() <= 1e-3 * scale,
                        "{what}: {k} at t = {t}: {x} vs {y}"
                    );
                }
            }
        }
    }
}

#[test]
fn ngspice_runs_written_decks_with_the_same_results() {
    let Some(decks) = decks() else { return };
    if !have_ngspice() {
        return;
    }
    for p in decks {
        let c = parse_file(&p).unwrap();
        let written = write_netlist(&c).unwrap();
        let from_written = run_ngspice(&written);
        let original = std::fs::read_to_string(&p).unwrap();
        let from_original = run_ngspice(&original);
        compare_runs(&p.display().to_string(), &from_original, &from_written);
    }
}

#[test]
fn ngspice_names_flattened_subcircuits_as_the_parser_does() {
    if !have_ngspice() {
        return;
    }
    // V source and internal node two levels deep: ngspice prints i(v.x1.x2.vi) and v(x1.x2.mid).
    let deck = "nested\n.param pm=-2\nva a 0 {pm**3}\nx1 a 0 outer\n.subckt inner p q\nvi p mid 0\nri mid q 1k\nbi mid q i=v(p,mid)*1m + 1u\n.ends\n.subckt outer p q\nx2 p q inner\n.ends\n.op\n.end\n";
    let c = parse_str(deck, None).unwrap();
    assert!(c.find_node("x1.x2.mid").is_some());
    assert_eq!(c.vsources[1].name, "v.x1.x2.vi");
    assert_eq!(c.behavioural[0].name, "b.x1.x2.bi");
    let written = write_netlist(&c).unwrap();
    let a = run_ngspice(deck);
    let b = run_ngspice(&written);
    assert!(
        a.contains_key("i(v.x1.x2.vi)") && a.contains_key("v(x1.x2.mid)"),
        "{:?}",
        a.keys()
    );
    compare_runs("nested", &a, &b);
}
