//! TOML configuration: a complete file resolves; bad files give errors naming file and key.

use std::path::Path;
use xbarsim::crossbar::*;

const GOOD: &str = r#"
rows = 4
cols = 3
cell = "1T1R"
seed = 7

[device]
kind = "sinh"
g_min = 1e-6
g_max = 1e-4
v0 = 0.25
d2d_sigma = 0.05

[transistor]
vto = 0.5
kp = 2e-4
w = 2e-6
l = 1e-6
v_gate = 1.5

[wires]
resistivity = 2e-8
width = 50e-9
thickness = 100e-9
pitch = 100e-9

[periphery]
r_driver = 100
r_sense = 0
line_ends = "both"
v_read = 0.3

[weights]
csv = "w.csv"

[dac]
bits = 4
mode = "bit_serial"

[adc]
bits = 8
range = "percentile"
percentile = 99.5
"#;

fn with_dir(files: &[(&str, &str)], f: impl FnOnce(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    f(dir.path());
}

#[test]
fn complete_config_resolves_with_geometry_wires_and_csv_weights() {
    let w = "0,0.5,1\n1,1,0\n0.25,0,0\n# comment\n1,1,1\n";
    with_dir(&[("a.toml", GOOD), ("w.csv", w)], |d| {
        let xb = Crossbar::from_toml_file(d.join("a.toml")).unwrap();
        assert_eq!((xb.rows, xb.cols, xb.cell), (4, 3, CellKind::OneT1R));
        // ρ·pitch/(w·t) = 2e-8·1e-7/(5e-8·1e-7) = 0.4 Ω.
        assert!((xb.r_row - 0.4).abs() < 1e-12 && (xb.r_col - 0.4).abs() < 1e-12);
        assert_eq!(xb.line_ends, LineEnds::Both);
        assert_eq!(xb.dac.mode, DacMode::BitSerial);
        assert_eq!(xb.adc.range, AdcRange::Percentile(99.5));
        // d2d spread: the 0.5 weight is near the middle of the window, not exactly on it.
        let mid = 1e-6 + 0.5 * (1e-4 - 1e-6);
        assert!((xb.g[1] / mid - 1.0).abs() < 0.3 && xb.g[1] != mid);
        // Same seed, same array.
        let again = Crossbar::from_toml_file(d.join("a.toml")).unwrap();
        assert_eq!(xb, again);
    });
}

fn err_of(toml_text: &str, csv: Option<&str>) -> String {
    let mut out = String::new();
    let mut files = vec![("bad.toml", toml_text)];
    if let Some(c) = csv {
        files.push(("w.csv", c));
    }
    with_dir(&files, |d| {
        out = Crossbar::from_toml_file(d.join("bad.toml"))
            .unwrap_err()
            .to_string();
    });
    out
}

#[test]
fn unknown_cell_kind_is_rejected_with_file_and_key() {
    let e = err_of(&GOOD.replace("\"1T1R\"", "\"3T1R\""), Some("0,0,0\n"));
    assert!(
        e.contains("bad.toml") && e.contains("3T1R") && e.contains("cell"),
        "{e}"
    );
}

#[test]
fn zero_rows_is_rejected() {
    let e = err_of(&GOOD.replace("rows = 4", "rows = 0"), None);
    assert!(e.contains("bad.toml") && e.contains("`rows`"), "{e}");
}

#[test]
fn negative_resistance_is_rejected() {
    let e = err_of(&GOOD.replace("r_driver = 100", "r_driver = -1"), Some(""));
    assert!(
        e.contains("bad.toml") && e.contains("periphery.r_driver"),
        "{e}"
    );
}

#[test]
fn weight_csv_of_the_wrong_shape_names_file_and_line() {
    let e = err_of(GOOD, Some("0,0,0\n1,1\n"));
    assert!(e.contains("w.csv:2") && e.contains("2 values"), "{e}");
    let e = err_of(GOOD, Some("0,0,0\n1,1,1\n"));
    assert!(e.contains("w.csv") && e.contains("2 rows"), "{e}");
}

#[test]
fn unknown_key_is_rejected() {
    let e = err_of(&GOOD.replace("v_read = 0.3", "v_raed = 0.3"), None);
    assert!(e.contains("bad.toml") && e.contains("v_raed"), "{e}");
}

#[test]
fn missing_transistor_section_for_1t1r_is_rejected() {
    let (a, b) = (
        GOOD.find("[transistor]").unwrap(),
        GOOD.find("[wires]").unwrap(),
    );
    let text = format!("{}{}", &GOOD[..a], &GOOD[b..]);
    let e = err_of(&text, Some("0,0,0\n0,0,0\n0,0,0\n0,0,0\n"));
    assert!(e.contains("bad.toml") && e.contains("`transistor`"), "{e}");
}

#[test]
fn shipped_example_config_loads_and_runs() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/configs/crossbar_1t1r_oxram.toml");
    let mut xb = Crossbar::from_toml_file(&p).unwrap();
    assert_eq!(xb.cell, CellKind::OneT1R);
    // ρ·pitch/(w·t) = 2.2e-8·1e-7/(5e-8·1e-7) = 0.44 Ω.
    assert!((xb.r_row - 0.44).abs() < 1e-12);
    xb.rows = 8;
    xb.cols = 8;
    xb.g.truncate(64);
    let rep = mvm(&xb, &[vec![0.5; 8]]).unwrap();
    assert!(rep.analog[0].iter().all(|&i| i > 0.0));
}
