//! Bad input through the `xbar` binary: one clear error naming file, line and the element or
//! node at fault, a non-zero exit, and no panic.

mod common;
use common::xbar;

fn deck(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.cir");
    std::fs::write(&p, text).unwrap();
    (dir, p.display().to_string())
}

fn assert_clean_failure(text: &str, must_contain: &[&str]) {
    let (_d, p) = deck(text);
    let (ok, _out, err) = xbar(&["run", &p]);
    assert!(!ok, "expected failure for:\n{text}");
    assert!(!err.contains("panicked"), "panic: {err}");
    for m in must_contain {
        assert!(
            err.to_lowercase().contains(&m.to_lowercase()),
            "error should mention {m:?}: {err}"
        );
    }
}

#[test]
fn floating_node_names_file_line_and_node() {
    assert_clean_failure(
        "t\nV1 a 0 1\nR1 a 0 1k\nC1 b 0 1p\nR2 b c 1k\n.op\n.end\n",
        &["bad.cir:4", "node b", "no DC path"],
    );
}

#[test]
fn loop_of_voltage_sources_names_the_source() {
    assert_clean_failure(
        "t\nV1 a 0 1\nV2 a 0 2\nR1 a 0 1k\n.op\n.end\n",
        &["bad.cir:3", "V2", "loop"],
    );
}

#[test]
fn non_convergence_names_the_element_or_node() {
    // KCL at a: v/1k + 1e-3·(v² + 1) = 0 has no real root, so no method can converge; the
    // error says which strategies were tried and names the node that kept moving.
    assert_clean_failure(
        "t\nR1 a 0 1k\nB1 a 0 I=1e-3*(v(a)*v(a)+1)\n.op\n.end\n",
        &[
            "no convergence",
            "gmin stepping",
            "source stepping",
            "node a",
            "bad.cir:2",
        ],
    );
}

#[test]
fn malformed_netlist_names_line_column_and_token() {
    assert_clean_failure(
        "t\nR1 a 0 1k\nQ1 a b c qmod\n.op\n.end\n",
        &["bad.cir:3:1", "Q1"],
    );
    assert_clean_failure("t\nR1 a 0 1kk?\n.op\n.end\n", &["bad.cir:2"]);
}

#[test]
fn run_prints_the_operating_point_and_writes_csvs_atomically() {
    let (d, p) = deck("divider\nV1 in 0 3\nR1 in out 1k\nR2 out 0 2k\n.op\n.end\n");
    let (ok, out, err) = xbar(&["run", &p]);
    assert!(ok, "{err}");
    assert!(out.starts_with("name,value\n"));
    assert!(out.contains("v(out),2.000000000000000e+00"), "{out}");
    let prefix = d.path().join("res");
    let (ok, _, err) = xbar(&["run", &p, "-o", prefix.to_str().unwrap()]);
    assert!(ok, "{err}");
    let csv = std::fs::read_to_string(d.path().join("res.op.csv")).unwrap();
    assert!(csv.contains("i(v1),-1.000000000000000e-03"), "{csv}");
    // Nothing but the result file is left behind (temp file renamed).
    let names: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

/// `xbar fit --family` takes the device registry's keys (every family, the newest included)
/// and names them when given something else.
#[test]
fn fit_family_is_checked_against_the_device_registry() {
    let (ok, _out, err) = xbar(&["fit", "--family", "foo", "--kind", "iv", "--data", "x.csv"]);
    assert!(!ok && !err.contains("panicked"), "{err}");
    assert!(err.contains("'foo'"), "{err}");
    for fam in xbarsim::device::FAMILIES {
        assert!(err.contains(fam), "{fam} missing from: {err}");
    }
}
