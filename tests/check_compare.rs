//! Comparison of results with ngspice reference CSVs (src/check.rs).

use std::path::Path;
use xbarsim::check::{
    compare_files, compare_op, compare_sweep, compare_tran, compare_tran_periodic, oscillation, At,
    Comparison, Kind, Tolerance,
};
use xbarsim::report::{read_name_value, read_table, write_name_value, Table};

fn tol() -> Tolerance {
    Tolerance::default()
}

fn nv(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
    pairs.iter().map(|(n, v)| (n.to_string(), *v)).collect()
}

fn col<'a>(c: &'a Comparison, name: &str) -> &'a xbarsim::check::ColumnResult {
    c.worst.iter().find(|r| r.name == name).unwrap()
}

#[test]
fn default_tolerances_are_the_documented_ones() {
    let t = tol();
    assert_eq!(
        (t.rel, t.abs_v, t.abs_i, t.tran_rel_range),
        (1e-6, 1e-9, 1e-12, 1e-3)
    );
    assert_eq!(t.abs_for("i(vdd)"), 1e-12);
    assert_eq!(t.abs_for("I(V.X1.VS)"), 1e-12);
    assert_eq!(t.abs_for("v(xpin.da)"), 1e-9);
}

#[test]
fn op_within_relative_tolerance_passes_and_beyond_fails() {
    let reference = nv(&[("v(1)", 1.0), ("i(v1)", -1e-3)]);
    let ok = nv(&[
        ("v(1)", 1.0 + 0.5e-6),
        ("i(v1)", -1e-3 * (1.0 + 0.5e-6)),
        ("v(extra)", 9.0),
    ]);
    let c = compare_op(&reference, &ok, &tol());
    assert!(c.passed, "{c}");
    assert_eq!(c.worst.len(), 2, "extra result vectors are ignored");

    let bad = nv(&[("v(1)", 1.0 + 3e-6), ("i(v1)", -1e-3)]);
    let c = compare_op(&reference, &bad, &tol());
    assert!(!c.passed);
    assert_eq!(c.worst[0].name, "v(1)", "failures come first");
    assert!(!c.worst[0].passed && c.worst[1].passed);
    // Allowed: 1e-6·(1 + 3e-6) + 1e-9; error 3e-6 → ratio ≈ 2.997.
    assert!((c.worst[0].worst_ratio - 3e-6 / (1e-6 * (1.0 + 3e-6) + 1e-9)).abs() < 1e-9);
    assert!((c.worst[0].max_abs_err - 3e-6).abs() < 1e-15);
    assert_eq!(c.worst[0].at, At::Op);
}

#[test]
fn absolute_tolerances_apply_near_zero_by_vector_kind() {
    let reference = nv(&[("v(a)", 0.0), ("i(va)", 0.0)]);
    let c = compare_op(
        &reference,
        &nv(&[("v(a)", 5e-10), ("i(va)", 5e-13)]),
        &tol(),
    );
    assert!(c.passed, "{c}");
    let c = compare_op(&reference, &nv(&[("v(a)", 2e-9), ("i(va)", 5e-13)]), &tol());
    assert!(!col(&c, "v(a)").passed && col(&c, "i(va)").passed);
    let c = compare_op(
        &reference,
        &nv(&[("v(a)", 5e-10), ("i(va)", 2e-12)]),
        &tol(),
    );
    assert!(col(&c, "v(a)").passed && !col(&c, "i(va)").passed);
    // A 2e-12 V error on a voltage is fine: voltages get abs_v, not abs_i.
    assert!(compare_op(&nv(&[("v(a)", 0.0)]), &nv(&[("v(a)", 2e-12)]), &tol()).passed);
}

#[test]
fn missing_vector_fails_and_is_named() {
    let reference = nv(&[("v(1)", 1.0), ("i(vdd)", 2.0)]);
    let c = compare_op(&reference, &nv(&[("v(1)", 1.0)]), &tol());
    assert!(!c.passed);
    let m = col(&c, "i(vdd)");
    assert!(!m.passed && m.problem.as_deref() == Some("missing vector"));
    let text = c.to_string();
    assert!(text.contains("i(vdd)") && text.contains("missing vector") && text.contains("FAIL"));
}

#[test]
fn names_match_ignoring_case_and_nan_never_passes() {
    let reference = nv(&[("V(OUT)", 1.0)]);
    assert!(compare_op(&reference, &nv(&[("v(out)", 1.0)]), &tol()).passed);
    assert!(!compare_op(&reference, &nv(&[("v(out)", f64::NAN)]), &tol()).passed);
}

fn divider(n: usize, scale: f64) -> Table {
    // Resistive divider sweep: v(2) = v(1)/2, i(vdd) = −v(1)/2 kΩ.
    let mut t = Table::new(["v-sweep", "v(1)", "v(2)", "i(vdd)"]);
    for k in 0..n {
        let v = 0.1 * k as f64;
        t.push_row(vec![v, v, scale * v / 2.0, -v / 2e3]).unwrap();
    }
    t
}

#[test]
fn sweep_compares_row_by_row_and_locates_the_worst_row() {
    let reference = divider(11, 1.0);
    assert!(compare_sweep(&reference, &divider(11, 1.0 + 0.5e-6), &tol()).passed);
    let mut got = divider(11, 1.0);
    got.rows[7][2] += 1e-4;
    let c = compare_sweep(&reference, &got, &tol());
    assert!(!c.passed);
    assert_eq!(c.failed_columns(), 1);
    match c.worst[0].at {
        At::Row { row, sweep } => {
            assert_eq!(row, 7);
            assert!((sweep - 0.7).abs() < 1e-12);
        }
        other => panic!("unexpected location {other:?}"),
    }
    assert!(c.to_string().contains("v(2)"));
}

#[test]
fn sweep_row_count_and_sweep_values_must_match() {
    let reference = divider(11, 1.0);
    let c = compare_sweep(&reference, &divider(10, 1.0), &tol());
    assert!(!c.passed && c.problems[0].contains("row count"), "{c}");
    assert!(c.worst.iter().all(|r| r.passed), "the common rows agree");

    let mut got = divider(11, 1.0);
    got.rows[3][0] = 0.35;
    let c = compare_sweep(&reference, &got, &tol());
    assert!(!c.passed && c.problems[0].contains("row 3"), "{c}");

    // The sweep column is found by name even if it is not first in the result.
    let mut moved = Table::new(["v(1)", "v(2)", "i(vdd)", "v-sweep"]);
    for r in &divider(11, 1.0).rows {
        moved.push_row(vec![r[1], r[2], r[3], r[0]]).unwrap();
    }
    assert!(compare_sweep(&reference, &moved, &tol()).passed);

    let mut gone = divider(11, 1.0);
    gone.columns[3] = "i(other)".into();
    let c = compare_sweep(&reference, &gone, &tol());
    assert!(!c.passed && col(&c, "i(vdd)").problem.is_some());
}

/// Reference times accumulated like ngspice's grid (t += step), so they drift off k·step.
fn sine_reference(step: f64, n: usize) -> Table {
    let mut t = Table::new(["time", "v(out)", "i(v1)"]);
    let mut time = 0.0f64;
    for _ in 0..=n {
        let s = (2.0 * std::f64::consts::PI * time).sin();
        t.push_row(vec![time, s, -1e-3 * s]).unwrap();
        time += step;
    }
    t
}

fn sine_fine(n: usize, offset: f64) -> Table {
    let mut t = Table::new(["time", "v(out)", "i(v1)"]);
    for k in 0..=n {
        let time = k as f64 / n as f64;
        let s = (2.0 * std::f64::consts::PI * time).sin();
        t.push_row(vec![time, s + offset, -1e-3 * s]).unwrap();
    }
    t
}

#[test]
fn tran_interpolates_other_time_points_and_tolerates_time_drift() {
    let reference = sine_reference(0.1, 10);
    // The accumulated grid ends at 0.9999999999999999, not 1.
    assert_ne!(reference.rows[10][0], 1.0);
    // 1000 points: linear-interpolation error ≤ h²/8·max|f''| = 1e-6/8·(2π)² ≈ 4.9e-6,
    // far inside 1e-3 × range (2) = 2e-3 for v(out) and 2e-6 A for i(v1).
    let c = compare_tran(&reference, &sine_fine(1000, 0.0), &tol());
    assert!(c.passed, "{c}");
    assert!(col(&c, "v(out)").max_abs_err < 5e-6);
    assert!(
        col(&c, "v(out)").max_abs_err > 0.0,
        "interpolation really happened"
    );
    // An offset of 3e-3 V exceeds 2e-3 + 1e-9.
    let c = compare_tran(&reference, &sine_fine(1000, 3e-3), &tol());
    assert!(
        !c.passed && !col(&c, "v(out)").passed && col(&c, "i(v1)").passed,
        "{c}"
    );
    assert!(matches!(col(&c, "v(out)").at, At::Time(_)));
}

#[test]
fn tran_linear_signal_interpolates_exactly_and_span_is_checked() {
    let mut reference = Table::new(["time", "v(r)"]);
    for k in 0..=20 {
        let t = 0.05 * k as f64 * (1.0 + 1e-13); // drift past the result's end at 1.0
        reference.push_row(vec![t, 2.0 * t + 1.0]).unwrap();
    }
    let mut got = Table::new(["time", "v(r)"]);
    for &t in &[0.0, 0.13, 0.5, 0.77, 1.0] {
        got.push_row(vec![t, 2.0 * t + 1.0]).unwrap();
    }
    let c = compare_tran(&reference, &got, &tol());
    assert!(c.passed, "{c}");
    assert!(c.worst[0].max_abs_err < 1e-12);

    let mut short = got.clone();
    short.rows.pop(); // result stops at 0.77 s
    let c = compare_tran(&reference, &short, &tol());
    assert!(!c.passed && c.problems[0].contains("outside"), "{c}");

    let mut backwards = got.clone();
    backwards.rows.swap(1, 2);
    let c = compare_tran(&reference, &backwards, &tol());
    assert!(!c.passed && c.problems[0].contains("not increasing"), "{c}");
}

#[test]
fn kind_is_read_from_the_reference_file_name() {
    assert_eq!(Kind::of_reference(Path::new("a/x.op.csv")), Some(Kind::Op));
    assert_eq!(Kind::of_reference(Path::new("x.dc.csv")), Some(Kind::Dc));
    assert_eq!(
        Kind::of_reference(Path::new("x.TRAN.csv")),
        Some(Kind::Tran)
    );
    assert_eq!(Kind::of_reference(Path::new("x.csv")), None);
}

// ---- the stored ngspice references --------------------------------------------------------

const NETLISTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/ngspice-tests/netlists"
);

fn reference_files() -> Option<Vec<std::path::PathBuf>> {
    let dir = Path::new(NETLISTS);
    if !dir.exists() {
        eprintln!("NOTICE: {NETLISTS} absent; skipping the ngspice reference comparisons");
        return None;
    }
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| Kind::of_reference(p).is_some())
        .collect();
    v.sort();
    assert_eq!(v.len(), 27, "the suite has 27 references");
    Some(v)
}

/// Scale every value except the sweep/time column (column 0) by `f`.
fn scaled(t: &Table, f: f64) -> Table {
    let mut s = t.clone();
    for r in &mut s.rows {
        for v in r.iter_mut().skip(1) {
            *v *= f;
        }
    }
    s
}

#[test]
fn real_op_and_dc_references_pass_small_and_fail_larger_relative_perturbations() {
    let Some(files) = reference_files() else {
        return;
    };
    for p in files {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        match Kind::of_reference(&p).unwrap() {
            Kind::Op => {
                let r = read_name_value(&p).unwrap();
                let pert = |f: f64| {
                    r.iter()
                        .map(|(n, v)| (n.clone(), v * f))
                        .collect::<Vec<_>>()
                };
                assert!(compare_op(&r, &r, &tol()).passed, "{name} vs itself");
                let c = compare_op(&r, &pert(1.0 + 0.5e-6), &tol());
                assert!(c.passed, "{name} +0.5e-6:\n{c}");
                let c = compare_op(&r, &pert(1.0 + 1e-5), &tol());
                assert!(!c.passed, "{name} +1e-5 must fail:\n{c}");
            }
            Kind::Dc => {
                let r = read_table(&p).unwrap();
                assert!(compare_sweep(&r, &r, &tol()).passed, "{name} vs itself");
                let c = compare_sweep(&r, &scaled(&r, 1.0 + 0.5e-6), &tol());
                assert!(c.passed, "{name} +0.5e-6:\n{c}");
                let c = compare_sweep(&r, &scaled(&r, 1.0 + 1e-5), &tol());
                assert!(!c.passed, "{name} +1e-5 must fail:\n{c}");
            }
            Kind::Tran => {}
        }
    }
}

#[test]
fn real_tran_references_pass_small_and_fail_larger_perturbations() {
    let Some(files) = reference_files() else {
        return;
    };
    let t = tol();
    for p in files
        .iter()
        .filter(|p| Kind::of_reference(p) == Some(Kind::Tran))
    {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let r = read_table(p).unwrap();
        assert!(compare_tran(&r, &r, &t).passed, "{name} vs itself");
        let c = compare_tran(&r, &scaled(&r, 1.0 + 0.5e-6), &t);
        assert!(c.passed, "{name} +0.5e-6 relative:\n{c}");
        // Tran tolerance is mostly relative to each column's range, so perturb by that measure:
        // an offset of 0.5× the allowed error passes, 2× fails (in every column). The allowed
        // error is 1e-3·range + 1e-6·|value| + abs; take |value| at its largest.
        let offset = |k: f64| {
            let mut s = r.clone();
            for j in 1..r.columns.len() {
                let v = r.column(&r.columns[j]).unwrap();
                let max = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let min = v.iter().cloned().fold(f64::INFINITY, f64::min);
                let big = max.abs().max(min.abs());
                let allowed =
                    t.tran_rel_range * (max - min) + t.rel * big + t.abs_for(&r.columns[j]);
                for row in &mut s.rows {
                    row[j] += k * allowed;
                }
            }
            s
        };
        assert!(
            compare_tran(&r, &offset(0.5), &t).passed,
            "{name} 0.5× allowed"
        );
        let c = compare_tran(&r, &offset(2.0), &t);
        assert_eq!(
            c.failed_columns(),
            r.columns.len() - 1,
            "{name} 2× allowed:\n{c}"
        );
        // Time drift of 1e-13 relative (like ngspice's accumulated grid) changes nothing.
        let mut drift = r.clone();
        for row in &mut drift.rows {
            row[0] *= 1.0 + 1e-13;
        }
        let c = compare_tran(&r, &drift, &t);
        assert!(c.passed, "{name} with time drift:\n{c}");
    }
}

#[test]
fn compare_files_reads_both_sides() {
    let Some(_) = reference_files() else { return };
    let reference = Path::new(NETLISTS).join("libproc_ex1a.op.csv");
    let dir = tempfile::tempdir().unwrap();
    let got = dir.path().join("got.op.csv");
    let mut vals = read_name_value(&reference).unwrap();
    vals[0].1 += 1e-3;
    write_name_value(&got, &vals).unwrap();
    let c = compare_files(Kind::Op, &reference, &got, &tol()).unwrap();
    assert!(!c.passed && c.worst[0].name == "v(9)", "{c}");
    println!("{c}");
    assert!(compare_files(Kind::Op, &reference, &dir.path().join("nope.csv"), &tol()).is_err());
}

/// An oscillator's output sampled every `dt` s up to `t_end`: a supply column at 1 V and
/// v(osc) = a·sin(2π(t/period) + phase) (closed form), with a small third harmonic so the
/// waveform is not a pure sine.
fn oscillator(dt: f64, t_end: f64, period: f64, amplitude: f64, phase: f64) -> Table {
    let mut t = Table::new(["time", "v(vdd)", "v(osc)"]);
    let n = (t_end / dt).round() as usize;
    for k in 0..=n {
        let time = k as f64 * dt;
        let w = 2.0 * std::f64::consts::PI * time / period + phase;
        let v = 0.5 * amplitude * (w.sin() + 0.1 * (3.0 * w).sin());
        t.push_row(vec![time, 1.0, v]).unwrap();
    }
    t
}

#[test]
fn oscillation_finds_the_period_of_a_sampled_wave() {
    let t = oscillator(1e-3, 20.0, 1.0, 2.0, 0.3);
    let times: Vec<f64> = t.rows.iter().map(|r| r[0]).collect();
    let v: Vec<f64> = t.rows.iter().map(|r| r[2]).collect();
    let (p, a, t0) = oscillation(&times, &v, 10).unwrap();
    assert!((p - 1.0).abs() < 1e-6, "period {p}");
    // Peak-to-peak of sin w + 0.1 sin 3w (odd, so twice its maximum, found on a fine grid);
    // 1 ms samples of a 1 s period put the sampled peak within ~2e-5 of it.
    let peak = (0..1_000_000)
        .map(|k| {
            let w = 2.0 * std::f64::consts::PI * k as f64 / 1e6;
            w.sin() + 0.1 * (3.0 * w).sin()
        })
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(
        (a - 2.0 * peak).abs() < 1e-4 * a,
        "amplitude {a} vs {}",
        2.0 * peak
    );
    assert!(
        t0 > 9.0 && t0 < 11.0,
        "the last 10 of 20 periods start near t = 10: {t0}"
    );
    let flat = vec![1.0; times.len()];
    assert!(oscillation(&times, &flat, 10).is_none());
    assert!(oscillation(&times, &v, 25).is_none(), "only 20 periods");
}

#[test]
fn periodic_judgement_ignores_phase_but_not_period_or_amplitude() {
    let reference = oscillator(1e-4, 30.0, 1.0, 2.0, 0.0);
    // Same period and amplitude, accumulated phase of 0.3 rad, other time points: a pointwise
    // comparison fails, the periodic one passes.
    let shifted = oscillator(6e-4, 30.0, 1.0, 2.0, 0.3);
    assert!(!compare_tran(&reference, &shifted, &tol()).passed);
    let c = compare_tran_periodic(&reference, &shifted, &tol(), 10);
    assert!(c.passed, "{c}");
    // Period 0.2 % longer: fails, and the failure names the period.
    let slow = oscillator(6e-4, 30.0, 1.002, 2.0, 0.0);
    let c = compare_tran_periodic(&reference, &slow, &tol(), 10);
    assert!(!c.passed, "{c}");
    assert!(col(&c, "v(osc)")
        .problem
        .as_deref()
        .unwrap()
        .contains("period"));
    assert!(
        col(&c, "v(vdd)").passed,
        "the flat supply is compared pointwise"
    );
    // Amplitude 0.2 % smaller: fails.
    let small = oscillator(6e-4, 30.0, 1.0, 2.0 * 0.998, 0.0);
    assert!(!compare_tran_periodic(&reference, &small, &tol(), 10).passed);
    // Within 1e-3: 0.05 % on both passes.
    let close = oscillator(6e-4, 30.0, 1.0005, 2.0 * 0.9995, 0.0);
    assert!(compare_tran_periodic(&reference, &close, &tol(), 10).passed);
    // A result that stopped oscillating fails.
    let dead = oscillator(6e-4, 30.0, 1.0, 0.0, 0.0);
    assert!(!compare_tran_periodic(&reference, &dead, &tol(), 10).passed);
}
