//! Bad netlists give a `file:line:column` error naming the offending token; includes and
//! `.lib` sections resolve relative to the including file.

use std::fs;
use std::path::Path;

use xbarsim::spice::{parse_file, parse_file_full, parse_str, NetlistError};

fn err(text: &str) -> NetlistError {
    match parse_str(text, Some(Path::new("deck.cir"))) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

fn check(e: &NetlistError, line: usize, column: usize, token: &str, words: &str) {
    assert_eq!((e.line, e.column), (line, column), "{e}");
    assert_eq!(e.token.as_deref(), Some(token), "{e}");
    assert!(e.message.contains(words), "{e}");
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("deck.cir:{line}:{column}: ")),
        "{shown}"
    );
    assert!(shown.ends_with(&format!("(token '{token}')")), "{shown}");
}

#[test]
fn unknown_element_letter() {
    check(
        &err("t\nR1 a 0 1k\nQ1 c b e mod\n.end\n"),
        3,
        1,
        "Q1",
        "unknown element letter",
    );
}

#[test]
fn missing_nodes() {
    check(&err("t\nR1 a\n"), 2, 5, "R1", "missing node");
}

#[test]
fn missing_value() {
    check(&err("t\n  C1 a 0\n"), 2, 9, "C1", "missing value");
}

#[test]
fn bad_suffix_or_number() {
    check(&err("t\nR1 a 0 1k%\n"), 2, 8, "1k%", "bad number");
    check(&err("t\nV1 a 0 dc x2\n"), 2, 11, "x2", "bad number");
}

#[test]
fn unbalanced_subckt_and_ends() {
    check(
        &err("t\n.subckt s a b\nR1 a b 1\n"),
        2,
        1,
        "s",
        ".subckt without .ends",
    );
    check(
        &err("t\nR1 a 0 1\n.ends\n"),
        3,
        1,
        ".ends",
        ".ends without .subckt",
    );
}

#[test]
fn undefined_parameter() {
    check(
        &err("t\n.param a=1\nR1 x 0 {a+bb}\n"),
        3,
        11,
        "bb",
        "undefined parameter",
    );
    check(
        &err("t\nB1 x 0 V=v(x)*gain\n"),
        2,
        15,
        "gain",
        "undefined parameter",
    );
}

#[test]
fn undefined_model_and_subckt() {
    check(
        &err("t\nD1 a 0 nosuch\n"),
        2,
        8,
        "nosuch",
        "undefined model",
    );
    check(
        &err("t\nX1 a 0 nosub\n"),
        2,
        8,
        "nosub",
        "undefined subcircuit",
    );
}

#[test]
fn unknown_dot_command() {
    check(
        &err("t\nR1 a 0 1\n.func f(x) x*2\n"),
        3,
        1,
        ".func",
        "unknown dot command",
    );
}

#[test]
fn bad_pulse_arity() {
    check(
        &err("t\nV1 a 0 PULSE(1)\n"),
        2,
        8,
        "PULSE",
        "PULSE takes 2 to 7 values",
    );
    check(
        &err("t\nV1 a 0 pulse 1 2 3 4 5 6 7 8\n"),
        2,
        8,
        "pulse",
        "PULSE takes 2 to 7 values",
    );
}

#[test]
fn error_on_a_continuation_line_points_there() {
    check(&err("t\nR1 a\n+ 0\n+  1q%\n"), 4, 4, "1q%", "bad number");
}

#[test]
fn memristive_instance_has_unknown_family() {
    let e = err("t\n.model cell oxram (a=1)\nN1 a 0 cell\n");
    check(&e, 3, 8, "cell", "unknown model family 'oxram'");
}

#[test]
fn wrong_port_count() {
    check(
        &err("t\n.subckt s a b\nR1 a b 1\n.ends\nX1 a s\n"),
        5,
        6,
        "s",
        "has 2 nodes, instance gives 1",
    );
}

#[test]
fn duplicate_element() {
    check(
        &err("t\nR1 a 0 1\nr1 b 0 1\n"),
        3,
        1,
        "r1",
        "duplicate element",
    );
}

#[test]
fn control_and_output_cards_are_skipped_with_warnings() {
    let p = xbarsim::spice::parse_str_full(
        "t\nR1 a 0 1\nV1 a 0 1 ac 1\n.print tran v(a)\n.control\nrun\n.endc\n.options noacct reltol=1e-4\n.op\n.end\nthis is ignored\n",
        None,
    )
    .unwrap();
    assert_eq!(p.circuit.options.reltol, 1e-4);
    assert_eq!(p.warnings.len(), 4, "{:?}", p.warnings);
}

#[test]
fn include_and_lib_relative_to_the_including_file() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("models");
    fs::create_dir(&sub).unwrap();
    fs::write(
        sub.join("parts.lib"),
        "* library\n.lib RES\n.subckt div a b\nR1 a mid 1k\nR2 mid b 3k\n.ends\n.endl\n.lib OTHER\nQbad x\n.endl\n",
    )
    .unwrap();
    // The include sits in models/ and pulls the library relative to itself.
    fs::write(
        sub.join("inc.cir"),
        "* included\n.lib 'parts.lib' res\nR9 q 0 9\n",
    )
    .unwrap();
    let main = dir.path().join("main.cir");
    fs::write(
        &main,
        "main\n.include models/inc.cir\nX1 in 0 div\nV1 in 0 1\n.op\n.end\n",
    )
    .unwrap();
    let c = parse_file(&main).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.resistors.len(), 3);
    assert!(c.find_node("x1.mid").is_some());
    let o = &c.origins["r.x1.r2"];
    assert_eq!(o.line, 5);
    assert!(o.file.as_ref().unwrap().ends_with("models/parts.lib"));
}

#[test]
fn include_cycle() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.inc"), "R1 a 0 1\n.include b.inc\n").unwrap();
    fs::write(dir.path().join("b.inc"), "R2 a 0 1\n.include a.inc\n").unwrap();
    let main = dir.path().join("main.cir");
    fs::write(&main, "main\n.include a.inc\n").unwrap();
    let e = parse_file_full(&main).unwrap_err();
    assert!(e.message.contains("include cycle"), "{e}");
    assert!(e.file.as_ref().unwrap().ends_with("b.inc"));
    assert_eq!((e.line, e.column), (2, 10));
}

#[test]
fn missing_include_file() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.cir");
    fs::write(&main, "main\n.include nothere.inc\n").unwrap();
    let e = parse_file(&main).unwrap_err();
    assert!(e.message.contains("cannot read included file"), "{e}");
    assert_eq!((e.line, e.column), (2, 10));
    assert!(e.token.unwrap().ends_with("nothere.inc"));
}

#[test]
fn missing_lib_section() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("x.lib"), ".lib A\nR1 a 0 1\n.endl\n").unwrap();
    let main = dir.path().join("main.cir");
    fs::write(&main, "main\n.lib x.lib B\n").unwrap();
    let e = parse_file(&main).unwrap_err();
    assert!(e.message.contains("no section 'b'"), "{e}");
}

#[test]
fn dc_of_unknown_source() {
    check(
        &err("t\nR1 a 0 1\n.dc vx 0 1 0.1\n"),
        3,
        5,
        "vx",
        ".dc names no V or I source",
    );
}
