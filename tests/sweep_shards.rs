//! Sweeps split into shards merge into exactly the single-process result; an interrupted sweep
//! or shard leaves no partial CSV and resumes from the trials it finished.
//!
//! The oracle is the single-process `xbar sweep` run in a separate directory: every (value,
//! trial) job depends only on its own random stream, so any split must reproduce it bit for bit.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use xbarsim::app::sweep::{sweep_command, sweep_merge, sweep_shard, Shard};

const XBAR: &str = env!("CARGO_BIN_EXE_xbar");

/// A sweep of a `n`×`n` 1T1R array over the wire resistivity in a fresh directory.
fn sweep_dir(name: &str, n: usize, values: &[f64], trials: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xbarsim-sweep-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let base = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/configs/crossbar_1t1r_oxram.toml"),
    )
    .unwrap()
    .replace("rows = 64", &format!("rows = {n}"))
    .replace("cols = 64", &format!("cols = {n}"));
    fs::write(dir.join("base.toml"), base).unwrap();
    let values: Vec<String> = values.iter().map(|v| format!("{v:e}")).collect();
    fs::write(
        dir.join("s.toml"),
        format!(
            "base = \"base.toml\"\nkey = \"wires.resistivity\"\nvalues = [{}]\ntrials = {trials}\nseed = 7\ninputs = 2\n",
            values.join(", ")
        ),
    )
    .unwrap();
    dir
}

fn outputs(dir: &Path) -> Vec<Vec<u8>> {
    ["s.sweep.csv", "s.sweep.svg", "s.sweep.png"]
        .iter()
        .map(|f| fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")))
        .collect()
}

const VALUES: [f64; 3] = [2.2e-9, 2.2e-8, 2.2e-7];

#[test]
fn four_shards_merge_bit_for_bit_into_the_single_process_csv_and_figures() {
    let single = sweep_dir("single", 12, &VALUES, 5);
    let sharded = sweep_dir("sharded", 12, &VALUES, 5);
    sweep_command(&single.join("s.toml")).unwrap();
    let sweep = sharded.join("s.toml");
    let mut covered = Vec::new();
    for k in 0..4 {
        let s = sweep_shard(&sweep, Shard { index: k, count: 4 }).unwrap();
        covered.extend(s.jobs.clone());
    }
    assert_eq!(
        covered,
        (0..15).collect::<Vec<_>>(),
        "shards are disjoint and cover the grid"
    );
    assert!(
        !sharded.join("s.sweep.csv").exists(),
        "shards alone write no CSV"
    );
    let merged = sweep_merge(&sweep).unwrap();
    assert_eq!(merged.rows.len(), 15);
    assert_eq!(outputs(&single), outputs(&sharded));
    assert!(
        !sharded.join("s.sweep.parts").exists(),
        "journals are removed after the merge"
    );
    fs::remove_dir_all(single).unwrap();
    fs::remove_dir_all(sharded).unwrap();
}

#[test]
fn shard_results_do_not_depend_on_the_thread_count() {
    let a = sweep_dir("threads1", 10, &VALUES[..2], 3);
    let b = sweep_dir("threads2", 10, &VALUES[..2], 3);
    for (dir, threads) in [(&a, "1"), (&b, "2")] {
        for k in 0..2 {
            let st = Command::new(XBAR)
                .args(["sweep", dir.join("s.toml").to_str().unwrap(), "--shard"])
                .arg(format!("{k}/2"))
                .env("RAYON_NUM_THREADS", threads)
                .output()
                .unwrap();
            assert!(
                st.status.success(),
                "{}",
                String::from_utf8_lossy(&st.stderr)
            );
        }
        let st = Command::new(XBAR)
            .args(["sweep", "merge", dir.join("s.toml").to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    }
    assert_eq!(outputs(&a), outputs(&b));
    fs::remove_dir_all(a).unwrap();
    fs::remove_dir_all(b).unwrap();
}

#[test]
fn a_merge_with_a_missing_shard_names_it_and_a_rerun_of_that_shard_completes_it() {
    let single = sweep_dir("miss-single", 10, &VALUES, 4);
    let sharded = sweep_dir("miss-sharded", 10, &VALUES, 4);
    sweep_command(&single.join("s.toml")).unwrap();
    let sweep = sharded.join("s.toml");
    for k in [0, 1, 3] {
        sweep_shard(&sweep, Shard { index: k, count: 4 }).unwrap();
    }
    let e = sweep_merge(&sweep).unwrap_err().to_string();
    assert!(e.contains("3 of 12 trials missing"), "{e}");
    assert!(e.contains("re-run shard(s) 2/4"), "{e}");
    assert!(!sharded.join("s.sweep.csv").exists());

    // Shard 2 killed after two trials, its last line cut mid-write: the re-run does the rest.
    sweep_shard(&sweep, Shard { index: 2, count: 4 }).unwrap();
    let journal = sharded.join("s.sweep.parts/shard-2-of-4.journal");
    let text = fs::read_to_string(&journal).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "header and three trials:\n{text}");
    let cut = format!("{}\n{}\n{}", lines[0], lines[1], &lines[2][..10]);
    fs::write(&journal, cut).unwrap();
    let rerun = sweep_shard(&sweep, Shard { index: 2, count: 4 }).unwrap();
    assert_eq!(rerun.resumed, 1, "one whole trial survived the kill");
    sweep_merge(&sweep).unwrap();
    assert_eq!(outputs(&single), outputs(&sharded));
    fs::remove_dir_all(single).unwrap();
    fs::remove_dir_all(sharded).unwrap();
}

#[test]
fn journals_of_an_edited_sweep_are_not_mixed_into_its_results() {
    let dir = sweep_dir("stale", 8, &VALUES[..2], 2);
    let sweep = dir.join("s.toml");
    sweep_shard(&sweep, Shard { index: 0, count: 2 }).unwrap();
    sweep_shard(&sweep, Shard { index: 1, count: 2 }).unwrap();
    // Changing the seed changes every trial: the old journals no longer count.
    let text = fs::read_to_string(&sweep)
        .unwrap()
        .replace("seed = 7", "seed = 8");
    fs::write(&sweep, text).unwrap();
    let e = sweep_merge(&sweep).unwrap_err().to_string();
    assert!(e.contains("4 of 4 trials missing"), "{e}");
    let s = sweep_command(&sweep).unwrap();
    assert_eq!(s.resumed, 0);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_interrupted_sweep_leaves_no_csv_and_resumes_to_the_uninterrupted_result() {
    let values: Vec<f64> = (0..12).map(|k| 1e-9 * 1.5f64.powi(k)).collect();
    let reference = sweep_dir("int-ref", 32, &values, 5);
    let dir = sweep_dir("int", 32, &values, 5);
    let sweep = dir.join("s.toml");
    let journal = dir.join("s.sweep.parts/shard-0-of-1.journal");

    // SIGINT restored to its default action for the sweep: a shell that starts a job in the
    // background without job control (`cmd &` in a script, as a CI runner may) starts it with
    // SIGINT ignored, and the ignored disposition is inherited down to this child.
    let mut child = Command::new("env")
        .args([
            "--default-signal=INT",
            XBAR,
            "sweep",
            sweep.to_str().unwrap(),
        ])
        .env("RAYON_NUM_THREADS", "1")
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        let done = fs::read_to_string(&journal).map_or(0, |t| t.lines().count().saturating_sub(1));
        if done >= 2 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before it was interrupted"
        );
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no trial finished in 2 min"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Ctrl-C: SIGINT to the process.
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let exit = child.wait().unwrap();
    assert!(
        !exit.success(),
        "the interrupted sweep must not report success"
    );
    assert!(
        !dir.join("s.sweep.csv").exists(),
        "no partial CSV after Ctrl-C"
    );
    // Whole lines only: one cut short by the signal does not count.
    let saved = fs::read_to_string(&journal).unwrap().matches('\n').count() - 1;
    assert!((2..60).contains(&saved), "{saved} trials journalled");

    let out = Command::new(XBAR)
        .args(["sweep", sweep.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "{saved} of 60 trials taken from saved partial results"
        )),
        "{stdout}"
    );
    sweep_command(&reference.join("s.toml")).unwrap();
    assert_eq!(outputs(&reference), outputs(&dir));
    fs::remove_dir_all(reference).unwrap();
    fs::remove_dir_all(dir).unwrap();
}
