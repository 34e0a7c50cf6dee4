//! Figures render with the bundled font into SVG + PNG (src/plot.rs).

use std::collections::HashSet;
use std::path::Path;
use xbarsim::plot::{
    render_line_plot_rgb, write_line_plot, LinePlot, PlotError, Series, SeriesStyle,
};

/// PNG signature, then the IHDR chunk: width and height as big-endian u32 (PNG spec §11.2.2).
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert!(b.len() > 1000, "PNG suspiciously small: {} bytes", b.len());
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "not a PNG signature");
    assert_eq!(&b[12..16], b"IHDR");
    let w = u32::from_be_bytes(b[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(b[20..24].try_into().unwrap());
    (w, h)
}

fn distinct_colors(rgb: &[u8]) -> usize {
    rgb.chunks_exact(3)
        .map(|p| (p[0], p[1], p[2]))
        .collect::<HashSet<_>>()
        .len()
}

fn iv_plot() -> LinePlot {
    // A diode-like I–V on a log current axis: exp(V/25.85 mV)·1e-14 A, plus a resistor line.
    let v: Vec<f64> = (0..=70).map(|k| k as f64 * 0.01).collect();
    LinePlot {
        title: "I–V of a diode and a 1 kΩ resistor".into(),
        x_label: "V (V)".into(),
        y_label: "|I| (A)".into(),
        x_log: false,
        y_log: true,
        series: vec![
            Series::new(
                "diode, Iₛ = 10 fA",
                v.iter()
                    .map(|&x| (x, 1e-14 * ((x / 0.02585).exp() - 1.0)))
                    .collect(),
                SeriesStyle::line(),
            ),
            Series::new(
                "1 kΩ",
                v.iter().map(|&x| (x, x / 1e3)).collect(),
                SeriesStyle::dashed(),
            ),
            Series::new(
                "measured (µA scale)",
                v.iter().step_by(7).map(|&x| (x, 1e-6 * x)).collect(),
                SeriesStyle::markers(),
            ),
        ],
    }
}

#[test]
fn line_plot_writes_svg_and_png_and_counts_skipped_points() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("sub/iv");
    let out = write_line_plot(&iv_plot(), &stem).unwrap();
    assert_eq!(out.png, dir.path().join("sub/iv.png"));
    // V = 0 gives I = 0 for all three series, which a log axis cannot show: 3 points.
    assert_eq!(out.skipped, 3);
    assert_eq!(png_size(&out.png), (1024, 768));
    let svg = std::fs::read_to_string(&out.svg).unwrap();
    assert!(svg.starts_with("<svg"), "not an SVG");
    assert!(
        svg.contains("1 kΩ") && svg.contains("I–V of a diode"),
        "labels missing"
    );
    // Only the two figures, no temporary files.
    let mut names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["iv.png", "iv.svg"]);
    if let Ok(keep) = std::env::var("XBAR_KEEP_FIGURES") {
        std::fs::copy(&out.png, Path::new(&keep).join("iv.png")).unwrap();
    }
}

#[test]
fn line_plot_pixels_are_not_blank_and_show_series_colours() {
    let rgb = render_line_plot_rgb(&iv_plot(), (800, 600)).unwrap();
    assert_eq!(rgb.len(), 800 * 600 * 3);
    assert!(distinct_colors(&rgb) > 20, "figure looks blank");
    // The first palette colour (0, 114, 178) must appear: the diode curve was drawn.
    assert!(rgb.chunks_exact(3).any(|p| p == [0, 114, 178]));
    // Dark pixels come from text and axes (the font really rendered glyphs).
    let dark = rgb
        .chunks_exact(3)
        .filter(|p| p.iter().all(|&c| c < 60))
        .count();
    assert!(dark > 2000, "too few dark pixels ({dark}): text missing?");
}

#[test]
fn linear_axes_and_flat_series_render() {
    let plot = LinePlot {
        title: "flat".into(),
        x_label: "t (s)".into(),
        y_label: "V (V)".into(),
        series: vec![
            Series::new(
                "const",
                vec![(0.0, 0.5), (1e-9, 0.5)],
                SeriesStyle::line_and_markers(),
            ),
            Series::new("", vec![(0.0, 0.5)], SeriesStyle::markers()),
        ],
        ..Default::default()
    };
    let rgb = render_line_plot_rgb(&plot, (640, 480)).unwrap();
    assert!(distinct_colors(&rgb) > 10);
}

#[test]
fn plot_with_no_drawable_points_is_an_error() {
    let plot = LinePlot {
        title: "empty".into(),
        y_log: true,
        series: vec![Series::new(
            "neg",
            vec![(0.0, -1.0), (1.0, f64::NAN)],
            SeriesStyle::line(),
        )],
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    match write_line_plot(&plot, &dir.path().join("e")) {
        Err(PlotError::NoData { skipped, .. }) => assert_eq!(skipped, 2),
        other => panic!("expected NoData, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file written"
    );
}

use xbarsim::plot::{render_heat_map_rgb, viridis, write_heat_map, HeatMap};

fn gradient_map(log: bool) -> HeatMap {
    // 16×24 conductances from 1 µS to 100 µS, with one missing cell.
    let mut data: Vec<Vec<f64>> = (0..16)
        .map(|r| {
            (0..24)
                .map(|c| 1e-6 * 10f64.powf(2.0 * (r + c) as f64 / 38.0))
                .collect()
        })
        .collect();
    data[3][5] = f64::NAN;
    HeatMap {
        x_label: "bit line".into(),
        y_label: "word line".into(),
        colorbar_label: "G (S)".into(),
        log_color: log,
        ..HeatMap::new("Cell conductance", data)
    }
}

#[test]
fn viridis_ends_match_the_published_map() {
    // viridis endpoints #440154 and #FDE725 (matplotlib/viridisLite).
    assert_eq!(viridis(0.0), plotters::style::RGBColor(0x44, 0x01, 0x54));
    assert_eq!(viridis(1.0), plotters::style::RGBColor(0xFD, 0xE7, 0x25));
    assert_eq!(viridis(2.0), viridis(1.0), "clamped");
}

#[test]
fn heat_map_writes_both_files_with_colour_bar() {
    let dir = tempfile::tempdir().unwrap();
    for log in [false, true] {
        let stem = dir.path().join(if log { "g_log" } else { "g_lin" });
        let out = write_heat_map(&gradient_map(log), &stem).unwrap();
        assert_eq!(out.skipped, 1, "the NaN cell");
        assert_eq!(png_size(&out.png), (960, 800));
        let svg = std::fs::read_to_string(&out.svg).unwrap();
        assert!(svg.contains("G (S)") && svg.contains("word line"));
        if let Ok(keep) = std::env::var("XBAR_KEEP_FIGURES") {
            let name = out.png.file_name().unwrap();
            std::fs::copy(&out.png, Path::new(&keep).join(name)).unwrap();
        }
    }
    let rgb = render_heat_map_rgb(&gradient_map(true), (960, 800)).unwrap();
    // Both ends of the colour map appear (cells and colour bar) plus the grey missing cell.
    let has = |c: (u8, u8, u8)| rgb.chunks_exact(3).any(|p| p == [c.0, c.1, c.2]);
    assert!(has((0x44, 0x01, 0x54)) && has((0xFD, 0xE7, 0x25)) && has((190, 190, 190)));
    assert!(distinct_colors(&rgb) > 100);
}

#[test]
fn heat_map_bad_input_is_reported() {
    let mut h = HeatMap::new("ragged", vec![vec![1.0, 2.0], vec![3.0]]);
    assert!(matches!(
        render_heat_map_rgb(&h, (400, 300)),
        Err(PlotError::BadInput { .. })
    ));
    h.data = vec![vec![1.0, 2.0]];
    h.color_range = Some((2.0, 1.0));
    assert!(matches!(
        render_heat_map_rgb(&h, (400, 300)),
        Err(PlotError::BadInput { .. })
    ));
    h.color_range = None;
    h.log_color = true;
    h.data = vec![vec![0.0, -1.0]];
    assert!(matches!(
        render_heat_map_rgb(&h, (400, 300)),
        Err(PlotError::NoData { skipped: 2, .. })
    ));
    h.data = vec![];
    assert!(matches!(
        render_heat_map_rgb(&h, (400, 300)),
        Err(PlotError::NoData { .. })
    ));
}
