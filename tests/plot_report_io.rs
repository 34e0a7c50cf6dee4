//! Atomic output and CSV reading/writing (src/report.rs).

use std::fs;
use xbarsim::report::{
    read_name_value, read_table, write_atomic, write_name_value, ReportError, Table,
};

#[test]
fn write_atomic_creates_parent_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/out.csv");
    write_atomic(&path, b"hello").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"hello");
    // Overwrite: the new content replaces the old one completely.
    write_atomic(&path, b"hi").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"hi");
    let names: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["out.csv".to_string()],
        "temp files left: {names:?}"
    );
}

#[test]
fn write_atomic_into_a_file_path_fails_and_leaves_target_alone() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    fs::write(&blocker, b"x").unwrap();
    // The parent "directory" is a regular file, so creation must fail with an error, not panic.
    assert!(write_atomic(&blocker.join("out.csv"), b"y").is_err());
    assert_eq!(fs::read(&blocker).unwrap(), b"x");
}

#[test]
fn table_round_trips_through_csv_in_ngspice_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let mut t = Table::new(["time", "v(1)", "i(vin)"]);
    t.push_row(vec![0.0, 1.0, -5e-5]).unwrap();
    t.push_row(vec![1e-9, 1.0 / 3.0, 2.5e-12]).unwrap();
    t.write_csv(&path).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "time,v(1),i(vin)",
        "header as given"
    );
    // Same layout as the ngspice reference files (C %.15e).
    assert_eq!(
        text.lines().nth(1).unwrap(),
        "0.000000000000000e+00,1.000000000000000e+00,-5.000000000000000e-05"
    );
    let back = read_table(&path).unwrap();
    assert_eq!(back.columns, t.columns);
    for (a, b) in back.rows.iter().flatten().zip(t.rows.iter().flatten()) {
        assert!((a - b).abs() <= 1e-15 * b.abs());
    }
    assert!(t.push_row(vec![1.0]).is_err(), "short row must be rejected");
}

#[test]
fn ragged_table_is_an_error_not_a_bad_file() {
    let t = Table {
        columns: vec!["a".into(), "b".into()],
        rows: vec![vec![1.0]],
    };
    assert!(matches!(t.to_csv_string(), Err(ReportError::Shape(_))));
}

#[test]
fn name_value_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("op.csv");
    let vals = vec![("v(9)".to_string(), 1.0), ("i(vcheck)".to_string(), -2e-3)];
    write_name_value(&path, &vals).unwrap();
    assert!(fs::read_to_string(&path)
        .unwrap()
        .starts_with("name,value\n"));
    assert_eq!(read_name_value(&path).unwrap(), vals);
}

fn err_text(text: &str, name_value: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    fs::write(&path, text).unwrap();
    let e = if name_value {
        read_name_value(&path).unwrap_err()
    } else {
        read_table(&path).unwrap_err()
    };
    let s = e.to_string();
    assert!(s.contains("bad.csv"), "error must name the file: {s}");
    s
}

#[test]
fn parse_errors_name_line_column_and_problem() {
    let s = err_text("time,v(1)\n0,1\n1,abc\n", false);
    assert!(
        s.contains(":3:") && s.contains("v(1)") && s.contains("abc"),
        "{s}"
    );
    let s = err_text("time,v(1)\n0,1\n1\n", false);
    assert!(s.contains(":3:") && s.contains("1 fields"), "{s}");
    let s = err_text("time,time\n", false);
    assert!(s.contains(":1:") && s.contains("repeats"), "{s}");
    let s = err_text("", false);
    assert!(s.contains("empty"), "{s}");
    let s = err_text("name,val\n", true);
    assert!(s.contains(":1:") && s.contains("name,value"), "{s}");
    let s = err_text("name,value\nv(1),1\nv(2),x1\n", true);
    assert!(
        s.contains(":3:") && s.contains("value") && s.contains("x1"),
        "{s}"
    );
    let s = err_text("name,value\nv(1),1\nv(1),2\n", true);
    assert!(s.contains(":3:") && s.contains("twice"), "{s}");
}

#[test]
fn reads_real_ngspice_reference_files() {
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/ngspice-tests/netlists"
    ));
    if !dir.exists() {
        eprintln!(
            "NOTICE: {} absent; skipping the ngspice reference read test",
            dir.display()
        );
        return;
    }
    let op = read_name_value(&dir.join("libproc_ex1a.op.csv")).unwrap();
    assert_eq!(op[0], ("v(9)".to_string(), 1.0));
    let t = read_table(&dir.join("various_param_sweep.dc.csv")).unwrap();
    assert_eq!(t.columns, ["v-sweep", "v(1)", "v(2)", "i(vdd)"]);
    assert_eq!(t.rows.len(), 11);
    // Row 2 of the file: 0.1 V sweep across a 1k+1k divider -> -5e-5 A in vdd.
    assert_eq!(t.rows[1][3], -5e-5);
}
