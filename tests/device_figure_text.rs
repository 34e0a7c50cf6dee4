//! Text of the device figures (examples/device_figures.rs, run by the main job): titles give
//! durations with SI prefixes, never raw float formatting ("in 1e0 s"), and each leg of an I-V
//! sweep is labelled with its direction by an arrow.

#[allow(dead_code)]
#[path = "../examples/device_figures.rs"]
mod device_figures;

use device_figures::{legs, si_time};
use xbarsim::plot::SeriesStyle;

#[test]
fn durations_in_titles_have_si_prefixes() {
    assert_eq!(si_time(1.0), "1 s");
    assert_eq!(si_time(5.2), "5.2 s");
    assert_eq!(si_time(1e-6), "1 µs");
    assert_eq!(si_time(1e-3), "1 ms");
    assert_eq!(si_time(2.5e-9), "2.5 ns");
    for t in [1e-9, 3e-7, 1e-3, 0.25, 1.0, 57.163] {
        let s = si_time(t);
        assert!(!s.contains('e'), "{t}: {s}");
    }
}

#[test]
fn sweep_legs_are_labelled_with_their_direction() {
    // A 0 → 1 → −1 → 0 triangle, rows (time_s, v_v, ...).
    let rows: Vec<Vec<f64>> = (0..=40)
        .map(|k| {
            let t = k as f64 / 40.0;
            let v = if t < 0.25 {
                4.0 * t
            } else if t < 0.75 {
                2.0 - 4.0 * t
            } else {
                4.0 * t - 4.0
            };
            vec![t, v]
        })
        .collect();
    let s = legs(
        &rows,
        1.0,
        -1.0,
        |r| r[1],
        |r| r[1].abs(),
        "",
        SeriesStyle::line(),
    );
    let names: Vec<&str> = s.iter().map(|x| x.label.as_str()).collect();
    assert_eq!(names, ["0 → 1 V", "1 V → -1 V", "-1 V → 0"]);
    // Each leg runs the way its label says.
    let first = &s[1].points;
    assert!(first.first().unwrap().0 > first.last().unwrap().0);
}
