//! Issue 12 defects seen through the `xbar` binary: error locations, empty netlists, output
//! directories, one message per line, NaN never printed as a result.

use std::path::Path;
use std::process::Command;

mod common;
use common::xbar;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn repo(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .display()
        .to_string()
}

const CONFIG_2X2: &str = "rows = 2\ncols = 2\ncell = \"0T1R\"\n[device]\nkind = \"linear\"\n\
                          g_min = 1e-6\ng_max = 1e-4\n[weights]\ncsv = \"w.csv\"\n";

/// Every message on stderr ends its own line, and no line holds two messages glued together.
fn assert_one_message_per_line(err: &str) {
    assert!(
        err.is_empty() || err.ends_with('\n'),
        "unterminated: {err:?}"
    );
    for l in err.lines() {
        let starts = l.matches("error:").count() + l.matches("warning:").count();
        assert!(starts <= 1, "two messages on one line: {l:?}");
        assert!(!l.contains("Ωno "), "run-together: {l:?}");
    }
}

#[test]
fn weight_csv_errors_name_the_line_of_the_bad_value() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write(d.path(), "a.toml", CONFIG_2X2);
    for (csv, line, what) in [
        ("0.5,0.2\n0.3,1.5\n", ":2:", "1.5"),
        ("# header comment\n0.5,NaN\n0.3,0.5\n", ":2:", "NaN"),
        ("0.5,0.2\n0.3,x\n", ":2:", "not a number"),
        ("0.5,0.2\n", ":1:", "rows"),
    ] {
        write(d.path(), "w.csv", csv);
        let (ok, _, err) = xbar(&["mvm", &cfg]);
        assert!(!ok, "{csv:?} accepted");
        assert!(
            err.contains("w.csv") && err.contains(line),
            "{csv:?}: {err}"
        );
        assert!(err.contains(what), "{csv:?}: {err}");
        assert!(!err.contains(":0:"), "{err}");
        assert_one_message_per_line(&err);
    }
}

#[test]
fn input_csv_errors_name_the_line() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "w.csv", "0.5,0.2\n0.3,0.5\n");
    let cfg = write(d.path(), "a.toml", CONFIG_2X2);
    for (csv, line) in [
        ("in0,in1\n0.5,0.2\n0.3,NaN\n", ":3:"),
        ("0.5,2\n", ":1:"),
        ("# nothing\n", ":1:"),
    ] {
        let inp = write(d.path(), "in.csv", csv);
        let (ok, _, err) = xbar(&["mvm", &cfg, "--inputs", &inp]);
        assert!(
            !ok && err.contains("in.csv") && err.contains(line),
            "{csv:?}: {err}"
        );
    }
}

#[test]
fn card_errors_name_the_key_or_say_nothing_about_keys() {
    let d = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(repo("device-models/oxram-stanford-v1.toml")).unwrap();
    let (k, line) = good
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with("v0 "))
        .unwrap();
    let bad = good.replace(line, "v0 = \"abc\"");
    let wrong_type = write(d.path(), "wrong_type.toml", &bad);
    let missing = d.path().join("missing.toml").display().to_string();
    let dir = d.path().join("a_dir");
    std::fs::create_dir(&dir).unwrap();
    for (card, must) in [
        (
            wrong_type.as_str(),
            vec![format!(":{}:", k + 1), "key `v0`".to_string()],
        ),
        (
            missing.as_str(),
            vec!["missing.toml".into(), "cannot read".into()],
        ),
        (
            &dir.display().to_string(),
            vec!["a_dir".into(), "cannot read".into()],
        ),
    ] {
        let (ok, _, err) = xbar(&["device", "iv", card]);
        assert!(!ok, "{card} accepted");
        assert!(!err.contains("key ``"), "empty key: {err}");
        for m in &must {
            assert!(err.contains(m.as_str()), "{card}: want {m:?} in {err}");
        }
        assert_one_message_per_line(&err);
    }
}

#[test]
fn empty_netlist_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    for text in ["", "title only\n", "title\n* a comment\n.op\n.end\n"] {
        let p = write(d.path(), "empty.cir", text);
        let (ok, out, err) = xbar(&["run", &p]);
        assert!(!ok, "{text:?} ran");
        assert!(out.is_empty(), "{out}");
        assert!(
            err.contains("empty.cir") && err.contains("empty netlist"),
            "{err}"
        );
    }
}

#[test]
fn infinite_resistance_and_missing_op_are_separate_lines() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "rinf.cir", "t\nr1 a 0 1e400\nv1 a 0 1\n.end\n");
    let (ok, _, err) = xbar(&["run", &p]);
    assert!(
        !ok && err.contains("rinf.cir:2") && err.contains("r1"),
        "{err}"
    );
    assert_one_message_per_line(&err);
    let p = write(d.path(), "noop.cir", "t\nr1 a 0 1k\nv1 a 0 1\n.end\n");
    let (_, _, err) = xbar(&["run", &p]);
    assert_one_message_per_line(&err);
}

/// One rule for every command that writes a file: a missing output directory is created and
/// reported on stderr ("created directory ..."), and the file lands in it.
#[test]
fn every_command_creates_a_missing_output_directory_and_says_so() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "w.csv", "0.5,0.2\n0.3,0.5\n");
    let cfg = write(d.path(), "a.toml", CONFIG_2X2);
    let deck = write(d.path(), "rc.cir", "t\nr1 a 0 1k\nv1 a 0 1\n.op\n.end\n");
    let card = repo("device-models/oxram-stanford-v1.toml");
    let sub = |name: &str| d.path().join(name).join("deeper").join("x");
    let cases: Vec<(Vec<String>, std::path::PathBuf)> = vec![
        (
            vec![
                "run".into(),
                deck.clone(),
                "-o".into(),
                sub("run").display().to_string(),
            ],
            sub("run").with_extension("op.csv"),
        ),
        (
            vec![
                "mvm".into(),
                cfg.clone(),
                "-o".into(),
                sub("mvm").display().to_string(),
            ],
            sub("mvm").with_extension("mvm.csv"),
        ),
        (
            vec![
                "export".into(),
                cfg.clone(),
                "-o".into(),
                sub("export").display().to_string(),
            ],
            sub("export"),
        ),
        (
            vec![
                "device".into(),
                "iv".into(),
                card.clone(),
                "-o".into(),
                sub("device").display().to_string(),
            ],
            sub("device"),
        ),
    ];
    for (args, file) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, _, err) = xbar(&a);
        assert!(ok, "{args:?}: {err}");
        assert!(
            err.contains("created directory"),
            "{args:?} did not say so: {err}"
        );
        assert!(file.is_file(), "{args:?}: {} missing", file.display());
        assert_one_message_per_line(&err);
        // Written through a temporary file and a rename: nothing else is left beside it, and
        // a second run replaces the file whole.
        let before = std::fs::read(&file).unwrap();
        let (ok, _, err) = xbar(&a);
        assert!(ok && !err.contains("created directory"), "{args:?}: {err}");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            before,
            "{args:?}: not reproducible"
        );
        let names: Vec<String> = std::fs::read_dir(file.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.contains(".part")),
            "{args:?}: left {names:?}"
        );
    }
}

#[test]
fn floating_read_of_a_16x16_1t1r_array_prints_no_nan() {
    let d = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("examples/configs/crossbar_1t1r_oxram.toml"))
        .unwrap()
        .replace("rows = 64", "rows = 16")
        .replace("cols = 64", "cols = 16");
    for (name, t) in [
        ("t1.toml", text.clone()),
        (
            "t2.toml",
            text.replace("cell = \"1T1R\"", "cell = \"2T2R\""),
        ),
    ] {
        let cfg = write(d.path(), name, &t);
        let (ok, out, err) = xbar(&["read", &cfg, "--cell", "3,4", "--scheme", "floating"]);
        assert!(ok, "{name}: {err}");
        assert!(!out.to_lowercase().contains("nan"), "{name}: {out}");
    }
}

/// `xbar run deck.cir | head -1`: a reader that closes the pipe early ends the output quietly,
/// without a panic.
#[test]
fn closed_stdout_pipe_is_not_a_panic() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_xbar"))
        .args(["run", &repo("netlists/res_xbar32_wire_op.cir")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // stdout is dropped here: the rest of the output meets a closed pipe.
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.status.success(), "{err}");
}
