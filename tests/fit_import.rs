//! Measured-CSV import for `xbar fit`: units, column mapping, cycles, filters, and one clear
//! error naming file, row and column for each kind of malformed file — never a panic.

use std::path::PathBuf;
use std::process::Command;

use xbarsim::data::{self, load_csv, ImportOptions, Role};

fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("measured.csv");
    std::fs::write(&p, text).unwrap();
    (dir, p)
}

fn iv_error(text: &str) -> String {
    let (_d, p) = file(text);
    let e = load_csv(
        &p,
        &ImportOptions::default(),
        &[Role::V, Role::I],
        &[Role::Time],
    )
    .expect_err("malformed file must be rejected");
    let msg = e.to_string();
    assert!(
        msg.contains("measured.csv"),
        "error must name the file: {msg}"
    );
    msg
}

#[test]
fn missing_current_column_is_named_with_the_header_it_found() {
    let msg = iv_error("time_s,v_v\n0,0\n1,0.1\n");
    assert!(
        msg.contains("`i_a`") && msg.contains("missing column"),
        "{msg}"
    );
    assert!(
        msg.contains("--columns i="),
        "should say how to map it: {msg}"
    );
}

#[test]
fn non_numeric_cell_names_row_and_column() {
    let msg = iv_error("time_s,v_v,i_a\n0,0,0\n1,0.1,abc\n");
    assert!(msg.contains("row 3"), "{msg}");
    assert!(msg.contains("column `i_a`"), "{msg}");
    assert!(msg.contains("`abc` is not a number"), "{msg}");
}

#[test]
fn nan_and_infinity_are_not_measurements() {
    let msg = iv_error("time_s,v_v,i_a\n0,0,0\n1,NaN,1e-6\n");
    assert!(
        msg.contains("row 3") && msg.contains("column `v_v`"),
        "{msg}"
    );
    let msg = iv_error("time_s,v_v,i_a\n0,0,inf\n");
    assert!(
        msg.contains("row 2") && msg.contains("column `i_a`"),
        "{msg}"
    );
}

#[test]
fn empty_cell_in_a_used_column_is_an_error() {
    let msg = iv_error("time_s,v_v,i_a\n0,0,\n");
    assert!(msg.contains("row 2") && msg.contains("empty cell"), "{msg}");
}

#[test]
fn empty_file_and_header_only_file_are_errors() {
    let msg = iv_error("");
    assert!(msg.contains("empty file"), "{msg}");
    let msg = iv_error("time_s,v_v,i_a\n");
    assert!(msg.contains("no data rows"), "{msg}");
}

#[test]
fn ragged_row_names_its_row() {
    let msg = iv_error("time_s,v_v,i_a\n0,0,0\n1,0.1\n");
    assert!(
        msg.contains("row 3") && msg.contains("malformed CSV"),
        "{msg}"
    );
}

#[test]
fn unused_text_columns_are_ignored_and_units_scale_to_si() {
    let (_d, p) = file("sweep,AV,AI_mA,note\nset,0.5,2.0,ok\nset,1.0,4.0,x y\n");
    let o = ImportOptions {
        columns: data::parse_columns("v=AV,i=AI_mA").unwrap(),
        scale: data::parse_units("i=mA").unwrap(),
        ..Default::default()
    };
    let ds = load_csv(&p, &o, &[Role::V, Role::I], &[]).unwrap();
    assert_eq!(ds.get(Role::V).unwrap(), &[0.5, 1.0]);
    assert_eq!(ds.get(Role::I).unwrap(), &[2.0e-3, 4.0e-3]);
    assert_eq!(ds.rows, vec![2, 3]);
}

#[test]
fn unit_prefixes_follow_si_and_keep_case() {
    assert_eq!(data::unit_factor(Role::R, "kohm").unwrap(), 1e3);
    assert_eq!(data::unit_factor(Role::R, "Mohm").unwrap(), 1e6);
    assert_eq!(data::unit_factor(Role::R, "mohm").unwrap(), 1e-3);
    assert_eq!(data::unit_factor(Role::G, "uS").unwrap(), 1e-6);
    assert_eq!(data::unit_factor(Role::Time, "ms").unwrap(), 1e-3);
    assert_eq!(data::unit_factor(Role::I, "nA").unwrap(), 1e-9);
    assert_eq!(data::unit_factor(Role::I, "1e-5").unwrap(), 1e-5);
    let e = data::unit_factor(Role::I, "mV").unwrap_err();
    assert!(e.contains("not a unit of current"), "{e}");
}

#[test]
fn cycles_come_from_the_cycle_column_or_from_sweeps_turning_back() {
    let text = "cycle,v_v,i_a\n1,0.5,1\n1,-0.5,2\n2,0.5,3\n2,-0.5,4\n3,0.5,5\n";
    let (_d, p) = file(text);
    let o = ImportOptions {
        cycles: Some(data::parse_cycles("2-3").unwrap()),
        ..Default::default()
    };
    let ds = load_csv(&p, &o, &[Role::V, Role::I], &[Role::Cycle]).unwrap();
    assert_eq!(ds.get(Role::I).unwrap(), &[3.0, 4.0, 5.0]);
    // Without a cycle column: a new cycle starts when the sweep returns to the first polarity.
    let text = "v_v,i_a\n0,0\n1,1\n0,0\n-1,2\n0,0\n1,3\n0,0\n-1,4\n";
    let (_d, p) = file(text);
    let mut o = ImportOptions {
        cycles: Some((2, 2)),
        ..Default::default()
    };
    let ds = load_csv(&p, &o, &[Role::V, Role::I], &[]).unwrap();
    assert_eq!(ds.get(Role::I).unwrap(), &[3.0, 0.0, 4.0]);
    o.cycles = Some((5, 6));
    let e = load_csv(&p, &o, &[Role::V, Role::I], &[]).unwrap_err();
    assert!(e.to_string().contains("selects no rows"), "{e}");
}

#[test]
fn where_filter_keeps_matching_rows_only() {
    let (_d, p) = file("device,time_s,r_ohm\nA,0,100\nB,0,x\nA,1,200\n");
    let o = ImportOptions {
        filters: vec![("device".into(), "A".into())],
        ..Default::default()
    };
    // Row 3 (device B) holds a non-number but is filtered out before parsing.
    let ds = load_csv(&p, &o, &[Role::Time, Role::R], &[]).unwrap();
    assert_eq!(ds.get(Role::R).unwrap(), &[100.0, 200.0]);
    assert_eq!(ds.rows, vec![2, 4]);
    assert!(ds.sha256.len() == 64);
}

#[test]
fn sha256_of_the_data_matches_an_independent_digest() {
    let (_d, p) = file("v_v,i_a\n1,2\n");
    let ds = load_csv(&p, &ImportOptions::default(), &[Role::V, Role::I], &[]).unwrap();
    // `printf 'v_v,i_a\n1,2\n' | sha256sum`
    assert_eq!(
        ds.sha256,
        "88c4f2238295dbb5b830dd3a46c5de445d136318afd3974237c3f8fbd0fcf7bf"
    );
}

#[test]
fn xbar_fit_reports_a_malformed_csv_without_panicking() {
    let (_d, p) = file("time_s,v_v,i_a\n0,0,0\n0.1,0.1,1e-6\n0.2,0.2,oops\n");
    let out = Command::new(env!("CARGO_BIN_EXE_xbar"))
        .args([
            "fit", "--family", "oxram", "--kind", "iv", "--free", "i0", "--data",
        ])
        .arg(&p)
        .arg("-o")
        .arg(p.with_file_name("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("measured.csv") && err.contains("row 4") && err.contains("column `i_a`"),
        "{err}"
    );
    assert!(!p.with_file_name("out.card.toml").exists());
}

fn xbar_ok(args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_xbar"))
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "xbar {args:?} failed: {err}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn csvs_written_by_xbar_device_load_in_xbar_fit_without_column_flags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The nominal OxRAM card (no variability, so the device is the card) with a relaxation law.
    let base = include_str!("../device-models/oxram-stanford-v1.toml");
    let nominal = &base[..base.find("[variability").unwrap()];
    let card = d.join("nominal.toml");
    std::fs::write(&card, nominal).unwrap();
    let relaxing = d.join("relaxing.toml");
    std::fs::write(
        &relaxing,
        nominal
            .replace("[params]", "[params]\nvel_rlx = 300.0\nl_rlx = 3e-12")
            .replace("g_ini = 1.7e-9", "g_ini = 0.2e-9"),
    )
    .unwrap();
    let os = |s: &str| std::ffi::OsString::from(s);
    let iv = d.join("iv.csv");
    xbar_ok(&[
        os("device").as_os_str(),
        os("iv").as_os_str(),
        card.as_os_str(),
        os("-o").as_os_str(),
        iv.as_os_str(),
    ]);
    let prefix = d.join("ivfit");
    let out = xbar_ok(&[
        os("fit").as_os_str(),
        os("--family").as_os_str(),
        os("oxram").as_os_str(),
        os("--kind").as_os_str(),
        os("iv").as_os_str(),
        os("--card").as_os_str(),
        card.as_os_str(),
        os("--set").as_os_str(),
        os("i0=3e-3,v0=0.6").as_os_str(),
        os("--free").as_os_str(),
        os("i0,v0").as_os_str(),
        os("--data").as_os_str(),
        iv.as_os_str(),
        os("-o").as_os_str(),
        prefix.as_os_str(),
    ]);
    assert!(out.contains("SET polarity positive"), "{out}");
    for ext in ["card.toml", "fit.csv", "fit.json", "svg", "png"] {
        assert!(prefix.with_extension(ext).exists(), "missing .{ext}");
    }
    let fitted = xbarsim::device::load_card(&prefix.with_extension("card.toml")).unwrap();
    let i0 = fitted
        .params()
        .into_iter()
        .find(|(k, _)| *k == "i0")
        .unwrap()
        .1;
    assert!((i0 / 1e-3 - 1.0).abs() < 1e-3, "i0 = {i0:e}");

    let ret = d.join("ret.csv");
    xbar_ok(&[
        os("device").as_os_str(),
        os("retention").as_os_str(),
        relaxing.as_os_str(),
        os("--times").as_os_str(),
        os("0,1,10,100,1e3,1e4,1e5").as_os_str(),
        os("-o").as_os_str(),
        ret.as_os_str(),
    ]);
    let out = xbar_ok(&[
        os("fit").as_os_str(),
        os("--family").as_os_str(),
        os("oxram").as_os_str(),
        os("--kind").as_os_str(),
        os("retention").as_os_str(),
        os("--card").as_os_str(),
        relaxing.as_os_str(),
        os("--set").as_os_str(),
        os("vel_rlx=100").as_os_str(),
        os("--free").as_os_str(),
        os("vel_rlx,i0").as_os_str(),
        os("--data").as_os_str(),
        ret.as_os_str(),
        os("-o").as_os_str(),
        d.join("retfit").as_os_str(),
    ]);
    assert!(out.contains("retention fit"), "{out}");
}

/// A finite reading scaled by `--units` past f64's range is an error naming row and column,
/// not an infinite measurement (found reviewing the `data_csv` fuzz target's invariant).
#[test]
fn unit_scaling_that_overflows_is_an_error() {
    let (_d, p) = file("v_v,i_a\n0.1,1e300\n");
    let opts = ImportOptions {
        scale: data::parse_units("i=GA").unwrap(),
        ..ImportOptions::default()
    };
    let e = load_csv(&p, &opts, &[Role::V, Role::I], &[]).expect_err("overflow must be an error");
    let msg = e.to_string();
    assert!(
        msg.contains("row 2") && msg.contains("i_a") && msg.contains("overflows"),
        "{msg}"
    );
}
