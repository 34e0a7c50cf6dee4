//! `cargo bench --bench engine`: wall time of xbarsim against `ngspice -b` on the same decks
//! (median of repeated runs, each a fresh process-equivalent: parse + bind + solve).
//! Prints a table; nothing here asserts (speed is measured, not tested).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_xbarsim(deck: &Path, reps: usize) -> Duration {
    median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                let out = xbarsim::runner::run_netlist(deck).expect("deck runs");
                std::hint::black_box(out.results.len());
                t.elapsed()
            })
            .collect(),
    )
}

fn time_ngspice(deck: &Path, reps: usize) -> Option<Duration> {
    if !xbarsim::spice::ngspice::available() {
        return None;
    }
    Some(median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                let st = Command::new("ngspice")
                    .arg("-b")
                    .arg(deck)
                    .env("HOME", std::env::temp_dir())
                    .output()
                    .expect("ngspice runs");
                std::hint::black_box(st.stdout.len());
                t.elapsed()
            })
            .collect(),
    ))
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("netlists");
    println!(
        "{:<28} {:>14} {:>14} {:>9}",
        "deck", "xbarsim (ms)", "ngspice (ms)", "speed-up"
    );
    for name in [
        "res_xbar32_wire_op",
        "bsrc_sinh_xbar16_op",
        "mos_1t1r_8x8_op",
        "rc_ladder_pulse_tran",
    ] {
        let deck = root.join(format!("{name}.cir"));
        let x = time_xbarsim(&deck, 7);
        let n = time_ngspice(&deck, 5);
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        match n {
            Some(n) => println!(
                "{:<28} {:>14.2} {:>14.2} {:>8.1}x",
                name,
                ms(x),
                ms(n),
                ms(n) / ms(x)
            ),
            None => println!(
                "{:<28} {:>14.2} {:>14} {:>9}",
                name,
                ms(x),
                "(no ngspice)",
                "-"
            ),
        }
    }
}
