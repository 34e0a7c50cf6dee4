//! ngspice's ternary, comparison and boolean operators in B expressions (issue 12: `xbar export`
//! of card cells wrote `?:` that `xbar run` rejected), and the export round trip: every array
//! kind and cell law, cards included, exported and run by xbarsim's own netlist path and by
//! ngspice, must give the structured solver's bit-line currents.
//!
//! Expected values are closed-form logic (C semantics: true = 1, false = 0, any non-zero operand
//! is true) or ngspice 39 (`ngspice -b`, compared in the test itself where ngspice is on PATH).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use xbarsim::circuit::{AnalysisResult, NodeId};
use xbarsim::crossbar::netlist::export_bound;
use xbarsim::crossbar::*;
use xbarsim::spice::expr::{eval_param, Compiled};

mod common;
use common::build;

/// Compile with nodes a = 1, b = 2.
fn b(text: &str) -> Compiled {
    let mut lookup = |n: &str| -> Result<NodeId, String> {
        match n {
            "a" => Ok(1),
            "b" => Ok(2),
            other => Err(format!("no node {other}")),
        }
    };
    Compiled::parse(text, &|_| None, &mut lookup).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn value(text: &str, va: f64, vb: f64) -> f64 {
    b(text).eval(&[va, vb], 0.0, &mut [0.0, 0.0])
}

#[test]
fn comparisons_and_booleans_are_one_or_zero() {
    let cases: [(&str, f64); 22] = [
        ("1 < 2", 1.0),
        ("2 < 1", 0.0),
        ("2 <= 2", 1.0),
        ("3 > 2", 1.0),
        ("2 >= 3", 0.0),
        ("2 == 2", 1.0),
        ("2 != 2", 0.0),
        ("2 <> 3", 1.0),
        ("1 && 0", 0.0),
        ("2 && -1", 1.0),
        ("0 || 0", 0.0),
        ("0 || 0.5", 1.0),
        ("!0", 1.0),
        ("!3", 0.0),
        // Precedence: arithmetic binds tighter than comparison, comparison than ==,
        // == than &&, && than ||, all of them than ?:.
        ("1 + 1 == 2", 1.0),
        ("1 < 2 == 1", 1.0),
        ("0 && 1 || 1", 1.0),
        ("1 || 1 && 0", 1.0),
        ("1 ? 2 : 3", 2.0),
        ("0 ? 2 : 3", 3.0),
        // Right-associative: 0 ? 1 : (1 ? 2 : 3).
        ("0 ? 1 : 1 ? 2 : 3", 2.0),
        ("(1 > 2 ? 10 : 20) + 1", 21.0),
    ];
    for (text, want) in cases {
        assert_eq!(value(text, 0.0, 0.0), want, "{text}");
        assert_eq!(
            eval_param(text, &|_| None).unwrap(),
            want,
            "{text} as a .param"
        );
    }
}

/// The ternary takes the value and the exact derivative of the branch it selects; the other
/// branch may overflow without harm (as the cards' overflow-safe softplus relies on).
#[test]
fn ternary_derivative_is_that_of_the_branch_taken() {
    let e = b("v(a) > 0.5 ? v(a)*v(a)*v(b) : exp(1000*v(a)) + 3*v(b)");
    let mut g = [0.0; 2];
    // Taken: a² b at a = 0.7, b = 2: ∂/∂a = 2ab = 2.8, ∂/∂b = a² = 0.49.
    let v = e.eval(&[0.7, 2.0], 0.0, &mut g);
    assert!((v - 0.98).abs() < 1e-15, "{v}");
    assert!(
        (g[0] - 2.8).abs() < 1e-14 && (g[1] - 0.49).abs() < 1e-15,
        "{g:?}"
    );
    // Other branch at a = 0.2: exp(200) + 3b; ∂/∂a = 1000·exp(200), ∂/∂b = 3.
    let v = e.eval(&[0.2, 2.0], 0.0, &mut g);
    assert!((v / (200f64.exp() + 6.0) - 1.0).abs() < 1e-14);
    assert!((g[0] / (1000.0 * 200f64.exp()) - 1.0).abs() < 1e-14 && g[1] == 3.0);
    // At a = 0.8 the untaken branch is exp(800) = inf; value and gradient stay finite.
    let v = e.eval(&[0.8, 1.0], 0.0, &mut g);
    assert!(
        v.is_finite() && g.iter().all(|x| x.is_finite()),
        "{v} {g:?}"
    );
    // Comparisons are piecewise constant: zero derivative.
    let c = b("(v(a) < v(b)) + 2*(v(a) >= 1 && v(b) != 0)");
    let v = c.eval(&[1.5, 2.0], 0.0, &mut g);
    assert_eq!((v, g), (3.0, [0.0, 0.0]));
}

#[test]
fn logic_expressions_round_trip_through_to_spice() {
    for text in [
        "v(a) > 0.5 ? v(a)*2 : (v(b) <= 0 || !v(a) ? 1 : v(a,b))",
        "(v(a) == v(b)) + (v(a) != 1 && v(b) < 3) - (v(a) >= 0.1)",
    ] {
        let e = b(text);
        let written = e.to_spice(&|id| if id == 1 { "a".into() } else { "b".into() });
        let again = b(&written);
        for (va, vb) in [(0.7, 0.2), (0.1, -1.0), (0.0, 0.3), (1.0, 1.0), (0.3, 0.3)] {
            let (mut g1, mut g2) = ([0.0; 2], [0.0; 2]);
            let (x, y) = (
                e.eval(&[va, vb], 0.0, &mut g1),
                again.eval(&[va, vb], 0.0, &mut g2),
            );
            assert_eq!((x, g1), (y, g2), "{text} -> {written} at ({va}, {vb})");
        }
    }
}

fn ngspice_available() -> bool {
    let ok = xbarsim::spice::ngspice::available();
    if !ok {
        eprintln!("NOTICE: ngspice not on PATH; ngspice comparisons skipped");
    }
    ok
}

fn op_map(results: Vec<AnalysisResult>) -> HashMap<String, f64> {
    match results.into_iter().next() {
        Some(AnalysisResult::Op(rows)) => rows
            .into_iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v))
            .collect(),
        _ => panic!("expected an .op result"),
    }
}

/// The same logic expressions as B sources, in xbarsim and ngspice 39. (No comparison sits
/// on its boundary: node voltages carry the solver's roundoff, so `v(b) == -0.2` is false in
/// ngspice 39 with `vb b 0 -0.2`.)
#[test]
fn logic_b_sources_match_ngspice() {
    let deck = "logic in B sources\n\
        va a 0 0.3\n\
        vb b 0 -0.2\n\
        b1 o1 0 v=v(a) > 0.25 ? v(a)*4 : -1\n\
        b2 o2 0 v=(v(a) < v(b)) + 2*(v(a) >= 0.2) + 4*(v(a)+v(a) == 2*v(a)) + 8*(v(a) != v(b))\n\
        b3 o3 0 v=(v(a) && v(b)) + 2*(0 || v(b)) + 4*!v(a) + 8*!0\n\
        b4 o4 0 v=v(b) > 0 ? 1 : v(a) > 0.5 ? 2 : 3\n\
        r1 o1 0 1k\nr2 o2 0 1k\nr3 o3 0 1k\nr4 o4 0 1k\n\
        .op\n.end\n";
    let circuit = xbarsim::spice::parse_str(deck, None).unwrap();
    let ours = op_map(xbarsim::circuit::run_all(circuit).unwrap());
    let want = [
        ("v(o1)", 1.2),
        ("v(o2)", 2.0 + 4.0 + 8.0),
        ("v(o3)", 1.0 + 2.0 + 8.0),
        ("v(o4)", 3.0),
    ];
    for (k, w) in want {
        assert!(
            (ours[k] - w).abs() < 1e-12,
            "{k}: xbarsim {} vs {w}",
            ours[k]
        );
    }
    if !ngspice_available() {
        return;
    }
    let theirs = op_map(xbarsim::spice::ngspice::run_text(deck).unwrap());
    for (k, w) in want {
        assert!(
            (theirs[k] - w).abs() < 1e-12,
            "{k}: ngspice {} vs {w}",
            theirs[k]
        );
    }
}

fn card(name: &str) -> Arc<xbarsim::device::Model> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("device-models")
        .join(name);
    Arc::new(xbarsim::device::load_card(&p).unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// Every exported array must run in xbarsim (`spice::parse_str` + `.op`, what `xbar run` does)
/// and in ngspice with the structured solver's bit-line currents (1e-6 relative).
#[test]
fn every_export_runs_in_xbarsim_and_ngspice() {
    let ngspice = ngspice_available();
    let cards = [
        "oxram-stanford-v1.toml",
        "pcm_gst_mushroom.toml",
        "cbram-yu-wong.toml",
        "mtj_pma_cheng2014.toml",
        "fgate-flash.toml",
        "pcm_stat_aihwkit.toml",
    ];
    let mut checked = 0;
    let mut seed = 20;
    for cell in [
        CellKind::ZeroT1R,
        CellKind::OneS1R,
        CellKind::OneT1R,
        CellKind::TwoT2R,
    ] {
        let mut laws: Vec<(String, Option<&str>)> =
            vec![("linear".into(), None), ("sinh".into(), None)];
        laws.extend(cards.iter().map(|c| (c.to_string(), Some(*c))));
        for (law, card_file) in laws {
            seed += 1;
            let mut xb = build(4, cell, law == "sinh", seed);
            if let Some(c) = card_file {
                if let Err(e) = xb.use_card(card(c)) {
                    eprintln!("{} {law}: not usable as an array cell ({e})", cell.name());
                    continue;
                }
            }
            let what = format!("{} {law}", cell.name());
            let v: Vec<f64> = (0..4).map(|i| 0.05 + 0.04 * i as f64).collect();
            let mut arr = Array::bind(&xb, &Bias::mvm(&xb, &v)).unwrap();
            arr.solve().unwrap();
            let fast = arr.column_currents();
            let (deck, map) = export_bound(&arr, &NetlistOptions::default());
            let circuit = xbarsim::spice::parse_str(&deck, None)
                .unwrap_or_else(|e| panic!("{what}: xbarsim rejects its own export: {e}"));
            let ours = op_map(xbarsim::circuit::run_all(circuit).unwrap());
            let theirs = ngspice.then(|| {
                op_map(
                    xbarsim::spice::ngspice::run_text(&deck)
                        .unwrap_or_else(|e| panic!("{what}: {e}")),
                )
            });
            for (j, srcs) in map.col_sources.iter().enumerate() {
                let sum = |m: &HashMap<String, f64>| -> f64 {
                    srcs.iter().map(|s| m[&format!("i({s})")]).sum()
                };
                let x = sum(&ours);
                assert!(
                    (x - fast[j]).abs() <= 1e-6 * fast[j].abs(),
                    "{what} column {j}: xbarsim run {x:e} A, structured {:e} A",
                    fast[j]
                );
                if let Some(t) = &theirs {
                    let y = sum(t);
                    assert!(
                        (y - fast[j]).abs() <= 1e-6 * fast[j].abs(),
                        "{what} column {j}: ngspice {y:e} A, structured {:e} A",
                        fast[j]
                    );
                }
            }
            checked += 1;
        }
    }
    // linear and sinh on all four kinds, plus the cards that program to a read conductance.
    assert!(checked >= 4 * 3, "only {checked} exports checked");
}

/// Every card family's exported current expression (with `? :` where the Rust law guards an
/// overflow) compiles in xbarsim and reproduces the Rust law, value and derivative, on both
/// sides of every switch (|V| up to 3 V); where ngspice is on PATH, ngspice gives the same
/// currents for the same B sources.
#[test]
fn every_card_current_expression_runs_in_xbarsim_and_ngspice() {
    let temp_k = 300.15;
    let volts = [-3.0, -1.0, -0.3, -0.05, 0.0, 0.02, 0.2, 0.7, 1.5, 3.0];
    let mut deck = String::from("card cell laws as B sources\n");
    let mut want = Vec::new();
    for (k, name) in [
        "oxram-stanford-v1.toml",
        "pcm_gst_mushroom.toml",
        "cbram-yu-wong.toml",
        "mtj_pma_cheng2014.toml",
        "fgate-flash.toml",
        "pcm_stat_aihwkit.toml",
    ]
    .iter()
    .enumerate()
    {
        let cell = card(name).nominal_cell();
        let text = cell.spice_current_expr("v(a)", temp_k);
        let e = b(&text);
        for (m, &v) in volts.iter().enumerate() {
            let (i, di) = cell.current(v, temp_k);
            let mut g = [0.0; 2];
            let x = e.eval(&[v, 0.0], 0.0, &mut g);
            let scale = i.abs().max(1e-30);
            assert!(
                (x - i).abs() <= 1e-9 * scale,
                "{name} at {v} V: expr {x:e}, law {i:e}"
            );
            assert!(
                (g[0] - di).abs() <= 1e-6 * di.abs().max(1e-30),
                "{name} at {v} V: d/dV expr {:e}, law {di:e}",
                g[0]
            );
            // One node per (card, voltage): a source and the cell's current into 1 Ω.
            let node = format!("n{k}_{m}");
            deck.push_str(&format!("v{node} a{node} 0 {v:e}\n"));
            deck.push_str(&format!(
                "b{node} 0 {node} i={}\nr{node} {node} 0 1\n",
                cell.spice_current_expr(&format!("v(a{node})"), temp_k)
            ));
            want.push((format!("v({node})"), i));
        }
    }
    deck.push_str(&format!(
        ".options temp={} tnom={}\n.op\n.end\n",
        temp_k - 273.15,
        temp_k - 273.15
    ));
    if !ngspice_available() {
        return;
    }
    let theirs = op_map(xbarsim::spice::ngspice::run_text(&deck).unwrap());
    for (node, i) in want {
        let got = theirs[&node];
        assert!(
            (got - i).abs() <= 1e-9 * i.abs() + 1e-18,
            "{node}: ngspice {got:e} A through 1 Ω, law {i:e} A"
        );
    }
}

/// Found while writing the fuzz harnesses: a deeply nested expression is an error (not a stack
/// overflow), and a non-finite constant (`1/0`) is kept as an expression so that `to_spice`
/// writes text that parses back (it used to fold to `inf`, which no parser reads).
#[test]
fn deep_nesting_is_an_error_and_infinite_constants_round_trip() {
    let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let mut lookup = |_: &str| -> Result<NodeId, String> { Ok(1) };
    let e = Compiled::parse(&deep, &|_| None, &mut lookup).unwrap_err();
    assert!(e.message.contains("nested deeper"), "{e}");
    assert!(eval_param(&"-".repeat(10_000), &|_| None).is_err());
    let ok = format!("{}1{}", "(".repeat(50), ")".repeat(50));
    assert_eq!(eval_param(&ok, &|_| None).unwrap(), 1.0);

    let e = b("v(a) > 0 ? v(a) : 1/0");
    let written = e.to_spice(&|_| "a".into());
    let again = b(&written);
    for va in [1.0, -1.0] {
        let (x, y) = (
            value(&format!("{written}"), va, 0.0),
            again.eval(&[va], 0.0, &mut [0.0]),
        );
        assert_eq!(x.to_bits(), y.to_bits(), "{written}");
    }
    assert!(eval_param("1/0", &|_| None).is_err());
    assert_eq!(eval_param("1/(1/0)", &|_| None).unwrap(), 0.0);
}

/// Fuzz finding (target `expr`, input `(- (0))`): a folded −0 was written as `0`, so the
/// exported expression changed sign under a division (1/−0 = −inf, 1/0 = +inf).
#[test]
fn negative_zero_constant_round_trips() {
    let e = b("v(a) / (- (0))");
    let written = e.to_spice(&|_| "a".into());
    let again = b(&written);
    let x = e.eval(&[1.0], 0.0, &mut [0.0]);
    let y = again.eval(&[1.0], 0.0, &mut [0.0]);
    assert_eq!((x, y), (f64::NEG_INFINITY, f64::NEG_INFINITY), "{written}");
}

/// Fuzz finding (target `expr`, input `1e573`): a literal beyond f64 became +inf, which
/// `to_spice` cannot write back; it is now an error.
#[test]
fn overflowing_number_literal_is_an_error() {
    let mut lookup = |_: &str| -> Result<NodeId, String> { Ok(1) };
    let e = Compiled::parse("1e573", &|_| None, &mut lookup).unwrap_err();
    assert!(e.message.contains("out of range"), "{e}");
    assert!(eval_param("2*1e573", &|_| None).is_err());
}
