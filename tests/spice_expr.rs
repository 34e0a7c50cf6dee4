//! Expression evaluator: values against ngspice 39 and gradients against finite differences.
//!
//! Reference values marked "ngspice 39" were printed by `ngspice -b` (Debian 39.3+ds-1) for
//! `.param`/B-source decks of the same expressions; the others are closed-form arithmetic.

use std::collections::HashMap;

use xbarsim::circuit::NodeId;
use xbarsim::spice::expr::{eval_param, Compiled};

fn params() -> HashMap<String, f64> {
    HashMap::from([
        ("pm".to_string(), -2.0),
        ("vt".to_string(), 0.026),
        ("isat".to_string(), 1e-14),
        ("a".to_string(), 0.2),
    ])
}

fn p(text: &str) -> f64 {
    let map = params();
    eval_param(text, &|n| map.get(n).copied()).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Compile with nodes named a=1, b=2, c=3.
fn b(text: &str) -> Compiled {
    let map = params();
    let mut lookup = |n: &str| -> Result<NodeId, String> {
        match n.to_ascii_lowercase().as_str() {
            "0" | "gnd" => Ok(0),
            "a" => Ok(1),
            "b" => Ok(2),
            "c" => Ok(3),
            other => Err(format!("no node {other}")),
        }
    };
    Compiled::parse(text, &|n| map.get(n).copied(), &mut lookup)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn b_const(text: &str) -> f64 {
    b(text).eval(&[], 0.0, &mut [])
}

#[test]
fn param_expressions_match_ngspice39() {
    // ngspice 39: '2--3' = 5 (parser_minus_minus.op.csv v(1) = 5).
    assert_eq!(p("2--3"), 5.0);
    // ngspice 39 numparam: pm**3 = |pm|^3 = 8 and pm^3 = 8 with pm = -2; pow(pm,3) = -8;
    // pwr(pm,3) = 8; pwr(pm,2) = 4; -2**2 = -4; 2^3^2 = 64 (left-associative); -2^-2 = -0.25.
    assert_eq!(p("pm**3"), 8.0);
    assert_eq!(p("pm^3"), 8.0);
    assert_eq!(p("pow(pm,3)"), -8.0);
    assert_eq!(p("pwr(pm,3)"), 8.0);
    assert_eq!(p("pwr(pm,2)"), 4.0);
    assert_eq!(p("-2**2"), -4.0);
    assert_eq!(p("2^3^2"), 64.0);
    assert_eq!(p("-2^-2"), -0.25);
    // misc_bugs1: aux1003 = -2, 'aux1003**2' = 4 and '-aux1003**2' = -4.
    assert_eq!(p("pm**2"), 4.0);
    assert_eq!(p("-pm**2"), -4.0);
    // ngspice 39: log() is the natural log (misc_log_functions1: v(n2) = 0.9932517730102833).
    assert!((p("log(2.7)") - 0.993_251_773_010_283_3).abs() < 1e-15);
    assert!((p("ln(2.7)") - 0.993_251_773_010_283_3).abs() < 1e-15);
    assert!((p("log(8)") - 2.079442).abs() < 1e-6);
    // Suffixes inside expressions: 1k*2 = 2000.
    assert_eq!(p("1k*2"), 2000.0);
    assert_eq!(p("1k+1meg"), 1.001e6);
    assert_eq!(p("(1 + 2) * 3 / 4 - 1"), 1.25);
    assert_eq!(p("max(1, min(3, 2)) + abs(-4) + sqrt(9)"), 9.0);
    assert_eq!(p("PM * 2"), -4.0, "parameter names are case-insensitive");
}

#[test]
fn param_errors() {
    let map = params();
    let look = |n: &str| map.get(n).copied();
    let e = eval_param("foo*2", &look).unwrap_err();
    assert_eq!(e.token, "foo");
    assert!(e.message.contains("undefined parameter"));
    assert!(
        eval_param("pow(pm, 2.5)", &look).is_err(),
        "NaN is an error, as in ngspice"
    );
    assert!(eval_param("1 +", &look).is_err());
    assert!(eval_param("(1", &look).is_err());
    assert!(eval_param("2 3", &look).is_err());
    assert!(eval_param("v(a)", &look).is_err());
    assert!(eval_param("time", &look).is_err());
    assert!(eval_param("frob(1)", &look).is_err());
    assert!(eval_param("min(1)", &look).is_err());
}

#[test]
fn b_source_powers_match_ngspice39() {
    // ngspice 39 B sources: (-2)^3 = 8, pow(-2,3) = 8, pwr(-2,2) = -4, -2^2 = -4, 2^3^2 = 64,
    // 2*-3 = -6, 2^-1 = 0.5, -2^2*3 = -12, 1k+1meg = 1.001e6.
    assert_eq!(b_const("(-2)^3"), 8.0);
    assert_eq!(b_const("pow(-2,3)"), 8.0);
    assert_eq!(b_const("pwr(-2,2)"), -4.0);
    assert_eq!(b_const("-2^2"), -4.0);
    assert_eq!(b_const("2^3^2"), 64.0);
    assert_eq!(b_const("2*-3"), -6.0);
    assert_eq!(b_const("2^-1"), 0.5);
    assert_eq!(b_const("-2^2*3"), -12.0);
    assert_eq!(b_const("1k+1meg"), 1.001e6);
    // misc_bugs1.op.csv: v(n1001_t) = -5, v(n1005_t) = 5, v(n1007_t) = v(n1008_t) = -5.
    assert_eq!(b_const("(- (5))"), -5.0);
    assert_eq!(b_const("(+ (5))"), 5.0);
    assert_eq!(b_const("+-(5)"), -5.0);
    assert_eq!(b_const("-+(5)"), -5.0);
}

#[test]
fn b_source_nodes_and_time() {
    let c = b("v(a,b)*2 + v(c) - v(0) + time");
    assert_eq!(c.nodes, vec![1, 2, 3]);
    assert!(c.uses_time());
    let mut g = [0.0; 3];
    let v = c.eval(&[1.0, 0.25, 3.0], 0.5, &mut g);
    assert_eq!(v, (1.0 - 0.25) * 2.0 + 3.0 + 0.5);
    assert_eq!(g, [2.0, -2.0, 1.0]);
    assert!(!b("v(a)").uses_time());
    // A repeated node appears once and its partial derivatives add up.
    let c = b("v(a)*v(A)");
    assert_eq!(c.nodes, vec![1]);
    let mut g = [0.0];
    assert_eq!(c.eval(&[3.0], 0.0, &mut g), 9.0);
    assert_eq!(g, [6.0]);
}

fn check_gradient(text: &str, at: &[f64]) {
    let c = b(text);
    assert_eq!(c.nodes.len(), at.len(), "{text}");
    let mut g = vec![0.0; at.len()];
    let f0 = c.eval(at, 0.3, &mut g);
    assert!(f0.is_finite(), "{text}");
    for k in 0..at.len() {
        let h = 1e-6 * at[k].abs().max(1e-3);
        let mut up = at.to_vec();
        let mut dn = at.to_vec();
        up[k] += h;
        dn[k] -= h;
        let mut scratch = vec![0.0; at.len()];
        let fd = (c.eval(&up, 0.3, &mut scratch) - c.eval(&dn, 0.3, &mut scratch)) / (2.0 * h);
        let tol = 1e-6 * fd.abs().max(g[k].abs()).max(1e-9);
        assert!(
            (fd - g[k]).abs() <= tol,
            "{text}: d/dV{k} exact {} vs central difference {fd}",
            g[k]
        );
    }
}

#[test]
fn gradients_match_central_differences() {
    check_gradient("isat*(exp(v(a)/vt)-1)", &[0.6]);
    check_gradient("-1e-2*v(a,b)+1e-2*v(a,b)*v(a,b)*v(a,b)", &[0.7, -0.4]);
    check_gradient(
        "v(a)^3 + pow(v(b), 2.5) + pwr(v(c), 1.5)",
        &[-0.5, -0.8, -1.2],
    );
    check_gradient("v(a)**v(b)", &[1.7, 0.6]);
    check_gradient("ln(v(a)) + log10(v(b)) + sqrt(v(c))", &[2.0, 3.0, 5.0]);
    check_gradient("sinh(v(a)) * cosh(v(b)) / tanh(v(c))", &[0.3, -0.2, 0.9]);
    check_gradient(
        "sin(v(a)) + cos(v(b)) + tan(v(c)) + atan(v(a)*v(b))",
        &[0.3, -0.2, 0.9],
    );
    check_gradient(
        "abs(v(a)) + min(v(a), v(b)) + max(v(b), v(c)) * time",
        &[-0.3, 0.2, 0.9],
    );
    check_gradient("-(a + v(c) * (v(a) - 5.7))", &[1.0, 2.0]);
}

#[test]
fn to_spice_round_trips() {
    let names = ["0", "a", "b", "c"];
    let name_of = |n: NodeId| names[n].to_string();
    for text in [
        "isat*(exp(v(a)/vt)-1)",
        "-(v(a) + a * v(b))",
        "v(a)^3 - pwr(v(b), 2) + pow(v(c), -1.5) + 2^-2",
        "min(v(a), 3) + max(time, 1e-9) * abs(v(b,c))",
        "-2--3 + ln(v(a)) + sqrt(v(b)) + log(2)",
    ] {
        let c = b(text);
        let written = c.to_spice(&name_of);
        let again = b(&written);
        let volts = [0.7, 1.3, 2.2];
        let (mut g1, mut g2) = ([0.0; 3], [0.0; 3]);
        let n = c.nodes.len();
        // Same node order in both compilations, because names are met in the same order.
        assert_eq!(c.nodes, again.nodes, "{text} -> {written}");
        let v1 = c.eval(&volts[..n], 0.4, &mut g1[..n]);
        let v2 = again.eval(&volts[..n], 0.4, &mut g2[..n]);
        assert_eq!(v1, v2, "{text} -> {written}");
        assert_eq!(g1, g2);
    }
}

#[test]
fn too_long_expression_is_an_error() {
    let text = vec!["v(a)"; xbarsim::spice::expr::MAX_TAPE].join("*");
    let map = params();
    let mut lookup = |_: &str| -> Result<NodeId, String> { Ok(1) };
    let e = Compiled::parse(&text, &|n| map.get(n).copied(), &mut lookup).unwrap_err();
    assert!(e.message.contains("too long"));
}
