//! Library functions behind the crossbar CLI: mvm / read / export / sweep.

use std::path::Path;

use xbarsim::app::crossbar::*;
use xbarsim::crossbar::*;

const BASE: &str = r#"
rows = 6
cols = 4
cell = "0T1R"
seed = 3

[device]
kind = "sinh"
g_min = 1e-6
g_max = 1e-4
v0 = 0.25

[wires]
r_row = 2.0
r_col = 2.0

[weights]
random = true

[adc]
bits = 6
range = "max"
"#;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn mvm_command_writes_csv_consistent_with_mvm() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write(d.path(), "xb.toml", BASE);
    let s = mvm_command(&cfg, None, None).unwrap();
    assert_eq!(s.csv, d.path().join("xb.mvm.csv"));
    let text = std::fs::read_to_string(&s.csv).unwrap();
    let mut lines = text.lines();
    // Today's columns first and in their order, the error decomposition after them.
    assert_eq!(
        lines.next().unwrap(),
        "column,ideal_a,analog_a,digital_code,rel_error,\
         zero_wire_a,chord_a,error_a,rel_error_zero_wire,rel_error_chord"
    );
    // Ideal column currents at full scale: Σ_i v_read·G_read,ij from the resolved config.
    let xb = Crossbar::from_toml_file(&cfg).unwrap();
    for (j, l) in lines.enumerate() {
        let f: Vec<&str> = l.split(',').collect();
        let ideal: f64 = f[1].parse().unwrap();
        let expect: f64 = (0..6).map(|i| xb.v_read * xb.g_read(i * 4 + j)).sum();
        assert!((ideal - expect).abs() <= 1e-11 * expect);
        let code: i64 = f[3].parse().unwrap();
        assert!((0..=63).contains(&code));
    }
    assert!(s.energy_per_mvm > 0.0 && s.rms_error > 0.0);
    assert!(s.to_string().contains("energy per MVM"));

    // Batch: a header line and two vectors give a leading `vector` column.
    let inp = write(
        d.path(),
        "in.csv",
        "# inputs\nx0,x1,x2,x3,x4,x5\n1,0.5,0,0.2,1,1\n0,0,0,0,0,1\n",
    );
    let s = mvm_command(&cfg, Some(&inp), Some(&d.path().join("run"))).unwrap();
    assert_eq!(s.vectors, 2);
    let text = std::fs::read_to_string(d.path().join("run.mvm.csv")).unwrap();
    assert!(text.starts_with("vector,column,"));
    assert_eq!(text.lines().count(), 1 + 2 * 4);

    let bad = write(d.path(), "bad.csv", "1,0.5,0,0.2,1\n");
    let e = mvm_command(&cfg, Some(&bad), None).unwrap_err().to_string();
    assert!(
        e.contains("bad.csv:1") && e.contains("expected rows = 6"),
        "{e}"
    );
}

#[test]
fn read_and_export_commands() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write(d.path(), "xb.toml", BASE);
    let r = read_command(&cfg, 1, 2, "v/2", Some(0.3)).unwrap();
    assert!(r.i_sense > 0.0);
    assert!(r.to_string().contains("read margin"));
    let e = read_command(&cfg, 1, 2, "v/4", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("v/4"), "{e}");
    let e = read_command(&cfg, 9, 0, "grounded", None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("outside"), "{e}");
    let out = d.path().join("deck.cir");
    export_command(&cfg, &out).unwrap();
    let deck = std::fs::read_to_string(&out).unwrap();
    assert!(deck.contains(".op") && deck.trim_end().ends_with(".end"));
    assert_eq!(deck.matches("sinh(").count(), 24);
}

/// Linear cells: the analog error is wire IR drop alone, so it grows with r_row.
fn sweep_file(dir: &Path, body: &str) -> std::path::PathBuf {
    let linear = BASE
        .replace("kind = \"sinh\"", "kind = \"linear\"")
        .replace("v0 = 0.25\n", "");
    write(dir, "xb.toml", &linear);
    write(dir, "sweep.toml", body)
}

#[test]
fn sweep_is_identical_on_one_and_two_threads() {
    let d = tempfile::tempdir().unwrap();
    let p = sweep_file(
        d.path(),
        "base = \"xb.toml\"\nkey = \"wires.r_row\"\nvalues = [0.5, 5.0, 50.0]\ntrials = 4\nseed = 9\n",
    );
    let run = |n: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(|| sweep_command(&p).unwrap())
    };
    let a = run(1);
    let csv_a = std::fs::read_to_string(&a.csv).unwrap();
    let b = run(2);
    let csv_b = std::fs::read_to_string(&b.csv).unwrap();
    assert_eq!(a.rows, b.rows);
    assert_eq!(csv_a, csv_b);
    assert_eq!(a.rows.len(), 12);
    assert!(a.png.exists() && a.svg.exists());
    // More wire resistance, more IR-drop error (mean over trials).
    assert!(a.mean_rms_error[0] < a.mean_rms_error[1]);
    assert!(a.mean_rms_error[1] < a.mean_rms_error[2]);
    // Trials differ (weights are redrawn per trial).
    assert_ne!(a.rows[0].rms_error, a.rows[1].rms_error);

    // Integer keys.
    let p2 = sweep_file(
        d.path(),
        "base = \"xb.toml\"\nkey = \"rows\"\nvalues = [2, 4]\ntrials = 2\n",
    );
    let s = sweep_command(&p2).unwrap();
    assert_eq!(s.rows.len(), 4);
}

#[test]
fn sweep_rows_report_the_zero_wire_and_chord_errors_after_the_old_columns() {
    let d = tempfile::tempdir().unwrap();
    // Linear cells, ideal drivers and virtual grounds, no device effects: the cells as read are
    // the mapped targets (chord = ideal) and with zero wire resistance the array computes Σ V·G
    // exactly, so both new errors equal the headline error, computed through other solves.
    let p = sweep_file(
        d.path(),
        "base = \"xb.toml\"\nkey = \"wires.r_row\"\nvalues = [0.5, 50.0]\ntrials = 2\nseed = 5\n",
    );
    let s = sweep_command(&p).unwrap();
    let csv = std::fs::read_to_string(&s.csv).unwrap();
    assert_eq!(
        csv.lines().next().unwrap(),
        "value,trial,rms_error,max_error,rms_error_adc,max_error_adc,clip_rate,norm_rel_error,\
         newton_iterations,rms_error_zero_wire,max_error_zero_wire,rms_error_chord,max_error_chord"
    );
    for r in &s.rows {
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
        assert!(rel(r.rms_error_chord, r.rms_error) < 1e-9, "{r:?}");
        assert!(rel(r.rms_error_zero_wire, r.rms_error) < 1e-9, "{r:?}");
        assert!(rel(r.max_error_zero_wire, r.max_error) < 1e-9, "{r:?}");
    }
    // Sinh cells: the zero-wire error is the IR drop alone, growing with the wire resistance,
    // and differs from the headline error, which also holds the nonlinearity.
    write(d.path(), "xb.toml", BASE);
    let s = sweep_command(&p).unwrap();
    let zw: Vec<f64> = s.rows.iter().map(|r| r.rms_error_zero_wire).collect();
    assert!(zw[0] > 0.0 && zw[2] > zw[0], "{zw:?}");
    assert!(s.rows.iter().all(|r| r.rms_error_zero_wire != r.rms_error));
}

#[test]
fn bad_sweep_files_name_file_and_key() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        // (body, expected key in message)
        (
            "base = \"xb.toml\"\nkey = \"wires.r_row\"\nvalues = []\n",
            "values",
        ),
        (
            "base = \"xb.toml\"\nkey = \"wires.r_row\"\nvalues = [1.0, -2.0]\n",
            "wires.r_row",
        ),
        (
            "base = \"xb.toml\"\nkey = \"wires.r_rwo\"\nvalues = [1.0]\n",
            "wires.r_rwo",
        ),
        (
            "base = \"xb.toml\"\nkey = \"rows\"\nvalues = [2.5]\n",
            "values[0]",
        ),
        (
            "base = \"missing.toml\"\nkey = \"rows\"\nvalues = [2]\n",
            "base",
        ),
        (
            "base = \"xb.toml\"\nkey = \"rows\"\nvalues = [2]\ntrials = 0\n",
            "trials",
        ),
        ("base = \"xb.toml\"\nkey = \"rows\"\nvalue = [2]\n", "value"),
    ];
    for (body, key) in cases {
        let p = sweep_file(d.path(), body);
        let e = sweep_command(&p).unwrap_err().to_string();
        assert!(e.contains("sweep.toml") && e.contains(key), "{body:?}: {e}");
    }
}
