//! Figures from plain data: line plots (linear or log axes) and heat maps with a colour bar.
//!
//! Callers fill a [`LinePlot`] or a [`HeatMap`] and call [`write_line_plot`] / [`write_heat_map`],
//! which write `stem.svg` and `stem.png` through a temporary file and a rename (see
//! [`crate::report::write_atomic`]). Text uses the bundled DejaVu Sans font (registered once with
//! plotters' `ab_glyph` backend), so figures render on a machine without any system fonts.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::report::{commit_temp, ensure_parent, temp_path_for, write_atomic};

/// DejaVu Sans (Bitstream Vera / DejaVu licence), bundled so no system font is needed.
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Pixel size of the PNG (and the SVG canvas) for line plots.
pub const LINE_PLOT_SIZE: (u32, u32) = (1024, 768);
/// Pixel size of the PNG (and the SVG canvas) for heat maps.
pub const HEAT_MAP_SIZE: (u32, u32) = (960, 800);

/// Errors from building or writing a figure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("the bundled font could not be loaded")]
    Font,
    #[error("figure `{title}` has no data to plot{}", skipped_note(*skipped))]
    NoData { title: String, skipped: usize },
    #[error("figure `{title}`: {what}")]
    BadInput { title: String, what: String },
    #[error("drawing figure `{title}` failed: {what}")]
    Draw { title: String, what: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn skipped_note(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} points skipped: non-finite, or non-positive on a log axis)")
    }
}

/// What was written, and how many points could not be shown.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOutput {
    pub svg: PathBuf,
    pub png: PathBuf,
    /// Points (or heat-map cells) left out: non-finite values, or values ≤ 0 on a log axis.
    pub skipped: usize,
}

/// Register the bundled font with plotters exactly once; later calls return the first result.
fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Marks {
    #[default]
    Line,
    Markers,
    LineAndMarkers,
}

/// Style of one series: line, markers or both, optionally dashed. Colours are assigned by the
/// series' position in the plot (a colour-blind-safe palette), so they stay distinct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeriesStyle {
    pub marks: Marks,
    /// Draw the line dashed (ignored for `Marks::Markers`).
    pub dashed: bool,
}

impl SeriesStyle {
    pub fn line() -> Self {
        SeriesStyle {
            marks: Marks::Line,
            dashed: false,
        }
    }
    pub fn dashed() -> Self {
        SeriesStyle {
            marks: Marks::Line,
            dashed: true,
        }
    }
    pub fn markers() -> Self {
        SeriesStyle {
            marks: Marks::Markers,
            dashed: false,
        }
    }
    pub fn line_and_markers() -> Self {
        SeriesStyle {
            marks: Marks::LineAndMarkers,
            dashed: false,
        }
    }
}

/// One curve: a legend label and (x, y) points in the axes' units.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub style: SeriesStyle,
}

impl Series {
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>, style: SeriesStyle) -> Self {
        Series {
            label: label.into(),
            points,
            style,
        }
    }
}

/// A line plot. Axis labels should carry units, e.g. `"V_read (V)"`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Logarithmic x axis (decade ticks); points with x ≤ 0 are skipped.
    pub x_log: bool,
    /// Logarithmic y axis (decade ticks); points with y ≤ 0 are skipped.
    pub y_log: bool,
    pub series: Vec<Series>,
}

/// Okabe & Ito's colour-blind-safe palette (Okabe, M. & Ito, K., "Color Universal Design", 2008),
/// black first, yellow dropped (too faint on white), then darker extras so that figures with
/// up to 14 series (the peer benchmark) repeat no colour.
const PALETTE: [RGBColor; 14] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 0, 0),       // black
    RGBColor(120, 60, 20),   // brown
    RGBColor(100, 100, 100), // grey
    RGBColor(90, 40, 140),   // purple
    RGBColor(30, 90, 30),    // dark green
    RGBColor(160, 20, 60),   // crimson
    RGBColor(20, 40, 110),   // navy
    RGBColor(140, 140, 30),  // olive
];

/// Colour of series number `i`.
pub fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// One axis after transformation: data range in plot coordinates (log10 for log axes) and ticks.
#[derive(Debug, Clone)]
struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    minor: Vec<f64>,
    /// Decimal places for linear tick labels, or `None` for scientific notation.
    decimals: Option<usize>,
}

impl Axis {
    /// An axis spanning exactly `lo..hi` (log10 values for log axes), no padding, ticks inside.
    /// Used for heat-map cell edges and colour bars, where the ends carry meaning.
    fn exact(log: bool, lo: f64, hi: f64) -> Axis {
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, lo + 0.5)
        };
        if log {
            let decades: Vec<f64> = ((lo.ceil() as i64)..=(hi.floor() as i64))
                .map(|k| k as f64)
                .collect();
            let ticks = if decades.len() >= 2 {
                let every = decades.len().div_ceil(10).max(1);
                decades.iter().copied().step_by(every).collect()
            } else {
                // Less than a decade: 1-2-5 mantissas, else just the ends.
                let t: Vec<f64> = ((lo.floor() as i64)..=(hi.ceil() as i64))
                    .flat_map(|k| [1f64, 2.0, 5.0].map(|m| k as f64 + m.log10()))
                    .filter(|v| *v >= lo - 1e-12 && *v <= hi + 1e-12)
                    .collect();
                if t.len() >= 2 {
                    t
                } else {
                    vec![lo, hi]
                }
            };
            return Axis {
                log,
                lo,
                hi,
                ticks,
                minor: Vec::new(),
                decimals: Some(0),
            };
        }
        let mut a = Axis::new(false, lo, hi);
        a.lo = lo;
        a.hi = hi;
        let step = nice_step((hi - lo) / 6.0);
        a.ticks = ((lo / step).ceil() as i64..=(hi / step).floor() as i64)
            .map(|k| k as f64 * step)
            .collect();
        a
    }

    /// An axis covering the finite values `lo..=hi` (already log10 for log axes).
    fn new(log: bool, lo: f64, hi: f64) -> Axis {
        if log {
            let mut a = lo.floor();
            let mut b = hi.ceil();
            if b <= a {
                a -= 1.0;
                b += 1.0;
            }
            // Too many decades: label every k-th decade.
            let span = (b - a) as usize;
            let every = span.div_ceil(10).max(1);
            let ticks = (0..=span)
                .filter(|k| k % every == 0)
                .map(|k| a + k as f64)
                .collect();
            let minor = if every == 1 {
                (0..span)
                    .flat_map(|k| (2..10).map(move |m| a + k as f64 + (m as f64).log10()))
                    .collect()
            } else {
                (0..=span).map(|k| a + k as f64).collect()
            };
            return Axis {
                log,
                lo: a,
                hi: b,
                ticks,
                minor,
                decimals: Some(0),
            };
        }
        let (mut lo, mut hi) = (lo, hi);
        if hi - lo <= f64::EPSILON * lo.abs().max(hi.abs()) {
            // A flat series: open a window around it.
            let d = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
            lo -= d;
            hi += d;
        } else {
            let pad = 0.04 * (hi - lo);
            lo -= pad;
            hi += pad;
        }
        let step = nice_step((hi - lo) / 6.0);
        let first = (lo / step).ceil() as i64;
        let last = (hi / step).floor() as i64;
        let ticks: Vec<f64> = (first..=last).map(|k| k as f64 * step).collect();
        let big = lo.abs().max(hi.abs());
        let decimals = if (1e-3..1e5).contains(&big) {
            Some((-step.log10().floor()).max(0.0) as usize)
        } else {
            None
        };
        Axis {
            log,
            lo,
            hi,
            ticks,
            minor: Vec::new(),
            decimals,
        }
    }

    fn label(&self, v: f64) -> String {
        if self.log {
            return log_tick_label(v);
        }
        // Snap tiny round-off to zero so the origin reads `0`.
        let step = self
            .ticks
            .get(1)
            .zip(self.ticks.first())
            .map(|(b, a)| b - a);
        let v = match step {
            Some(s) if v.abs() < 1e-9 * s => 0.0,
            _ => v,
        };
        match self.decimals {
            Some(d) => format!("{v:.d$}"),
            None if v == 0.0 => "0".into(),
            None => {
                let s = format!("{v:.2e}");
                // Trim `2.50e-6` to `2.5e-6`.
                match s.split_once('e') {
                    Some((m, e)) => {
                        let m = m.trim_end_matches('0').trim_end_matches('.');
                        format!("{m}e{e}")
                    }
                    None => s,
                }
            }
        }
    }
}

/// A plotters coordinate with our own tick choice (major ticks labelled, minor ticks as light
/// grid lines). `lo > hi` gives a reversed axis.
#[derive(Clone)]
struct AxisCoord(Axis);

impl plotters::coord::ranged1d::Ranged for AxisCoord {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = (v - self.0.lo) / (self.0.hi - self.0.lo);
        let t = t.clamp(-10.0, 11.0); // keep far-off points from overflowing i32
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.0.minor.clone()
        } else {
            self.0.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.0.lo..self.0.hi
    }
}

/// The step from {1, 2, 5}·10^k nearest above `raw`.
fn nice_step(raw: f64) -> f64 {
    let e = raw.log10().floor();
    let base = 10f64.powf(e);
    let m = raw / base;
    let n = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    n * base
}

/// Label for a log-axis tick at log10 value `v`: `10⁻⁶`, or `2×10⁻⁶` between decades.
fn log_tick_label(v: f64) -> String {
    let k = v.floor();
    let m = 10f64.powf(v - k);
    if (v - v.round()).abs() < 1e-9 || (m - 10.0).abs() < 1e-6 {
        pow10_label(v.round() as i32)
    } else {
        let m = format!("{m:.2}");
        let m = m.trim_end_matches('0').trim_end_matches('.');
        format!("{m}×{}", pow10_label(k as i32))
    }
}

/// `10⁻⁶`-style label with Unicode superscripts (DejaVu Sans has the glyphs).
fn pow10_label(k: i32) -> String {
    const SUP: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut s = String::from("10");
    if k < 0 {
        s.push('⁻');
    }
    for c in k.unsigned_abs().to_string().chars() {
        s.push(SUP[c.to_digit(10).unwrap_or(0) as usize]);
    }
    s
}

/// The series mapped to plot coordinates (log10 on log axes), with bad points removed.
struct Prepared {
    series: Vec<Vec<(f64, f64)>>,
    x: Axis,
    y: Axis,
    skipped: usize,
}

fn prepare(plot: &LinePlot) -> Result<Prepared, PlotError> {
    let map = |v: f64, log: bool| -> Option<f64> {
        if !v.is_finite() || (log && v <= 0.0) {
            None
        } else if log {
            Some(v.log10())
        } else {
            Some(v)
        }
    };
    let mut skipped = 0;
    let mut bounds = [
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let series: Vec<Vec<(f64, f64)>> = plot
        .series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .filter_map(|&(x, y)| match (map(x, plot.x_log), map(y, plot.y_log)) {
                    (Some(x), Some(y)) => {
                        bounds[0] = bounds[0].min(x);
                        bounds[1] = bounds[1].max(x);
                        bounds[2] = bounds[2].min(y);
                        bounds[3] = bounds[3].max(y);
                        Some((x, y))
                    }
                    _ => {
                        skipped += 1;
                        None
                    }
                })
                .collect()
        })
        .collect();
    if series.iter().all(Vec::is_empty) {
        return Err(PlotError::NoData {
            title: plot.title.clone(),
            skipped,
        });
    }
    Ok(Prepared {
        series,
        x: Axis::new(plot.x_log, bounds[0], bounds[1]),
        y: Axis::new(plot.y_log, bounds[2], bounds[3]),
        skipped,
    })
}

/// Pick the legend corner that covers the fewest points (a crude but effective heuristic).
fn legend_corner(p: &Prepared, n_labels: usize) -> SeriesLabelPosition {
    // One 16 px label row is ~0.033 of a 1024×768 plot's height (~620 px), plus margins.
    let h = (0.035 * n_labels as f64 + 0.05).min(0.9);
    let w = 0.4;
    let corners = [
        (SeriesLabelPosition::UpperRight, 1.0 - w, 1.0, 1.0 - h, 1.0),
        (SeriesLabelPosition::UpperLeft, 0.0, w, 1.0 - h, 1.0),
        (SeriesLabelPosition::LowerRight, 1.0 - w, 1.0, 0.0, h),
        (SeriesLabelPosition::LowerLeft, 0.0, w, 0.0, h),
    ];
    let fx = |x: f64| (x - p.x.lo) / (p.x.hi - p.x.lo);
    let fy = |y: f64| (y - p.y.lo) / (p.y.hi - p.y.lo);
    let mut best = (usize::MAX, SeriesLabelPosition::UpperRight);
    for (pos, x0, x1, y0, y1) in corners {
        let n = p
            .series
            .iter()
            .flatten()
            .filter(|&&(x, y)| {
                let (u, v) = (fx(x), fy(y));
                u >= x0 && u <= x1 && v >= y0 && v <= y1
            })
            .count();
        if n < best.0 {
            best = (n, pos);
        }
    }
    best.1
}

fn draw_err<E: std::fmt::Display>(title: &str) -> impl Fn(E) -> PlotError + '_ {
    move |e| PlotError::Draw {
        title: title.to_string(),
        what: e.to_string(),
    }
}

fn draw_line_plot<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &LinePlot,
    p: &Prepared,
) -> Result<(), PlotError> {
    let err = draw_err(&plot.title);
    root.fill(&WHITE).map_err(&err)?;
    let (x_range, y_range) = (AxisCoord(p.x.clone()), AxisCoord(p.y.clone()));
    let mut chart = ChartBuilder::on(root)
        .caption(&plot.title, (FAMILY, 28))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(100)
        .build_cartesian_2d(x_range, y_range)
        .map_err(&err)?;
    let xf = |v: &f64| p.x.label(*v);
    let yf = |v: &f64| p.y.label(*v);
    chart
        .configure_mesh()
        .x_desc(plot.x_label.as_str())
        .y_desc(plot.y_label.as_str())
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style((FAMILY, 16))
        .axis_desc_style((FAMILY, 20))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(200, 200, 200))
        .draw()
        .map_err(&err)?;

    let mut any_label = 0;
    for (i, (s, pts)) in plot.series.iter().zip(&p.series).enumerate() {
        let color = series_color(i);
        let line_style = color.stroke_width(2);
        let dashed = s.style.dashed && s.style.marks != Marks::Markers;
        let with_line = s.style.marks != Marks::Markers;
        let with_markers = s.style.marks != Marks::Line;
        // Same legend element shape for every style; absent parts are drawn transparent.
        let none = ShapeStyle::from(&TRANSPARENT);
        let (seg1, seg2) = match (with_line, dashed) {
            (false, _) => (none, none),
            (true, false) => (line_style, line_style),
            (true, true) => (line_style, none),
        };
        let marker = if with_markers { color.filled() } else { none };
        // The dash gaps sit either side of the marker (at 11), so a dashed line with markers
        // still reads as dashed in the legend.
        let glyph = move |(x, y): (i32, i32)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (3, 0)], seg1)
                + PathElement::new(vec![(3, 0), (6, 0)], seg2)
                + PathElement::new(vec![(6, 0), (16, 0)], seg1)
                + PathElement::new(vec![(16, 0), (19, 0)], seg2)
                + PathElement::new(vec![(19, 0), (23, 0)], seg1)
                + Circle::new((11, 0), 4, marker)
        };
        let labelled = !s.label.is_empty();
        if labelled {
            any_label += 1;
        }
        // The legend entry goes on the last element drawn for the series.
        if with_line {
            let anno = if dashed {
                chart
                    .draw_series(DashedLineSeries::new(
                        pts.iter().copied(),
                        10,
                        6,
                        line_style,
                    ))
                    .map_err(&err)?
            } else {
                chart
                    .draw_series(LineSeries::new(pts.iter().copied(), line_style))
                    .map_err(&err)?
            };
            if labelled && !with_markers {
                anno.label(s.label.as_str()).legend(glyph);
            }
        }
        if with_markers {
            let anno = chart
                .draw_series(
                    pts.iter()
                        .map(|&(x, y)| Circle::new((x, y), 4, color.filled())),
                )
                .map_err(&err)?;
            if labelled {
                anno.label(s.label.as_str()).legend(glyph);
            }
        }
    }
    if any_label > 0 {
        chart
            .configure_series_labels()
            .position(legend_corner(p, any_label))
            .label_font((FAMILY, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .margin(12)
            .draw()
            .map_err(&err)?;
    }
    root.present().map_err(&err)?;
    Ok(())
}

/// Render a line plot into an RGB buffer (`width·height·3` bytes, row-major). Used by
/// [`write_line_plot`] for the PNG and by tests to look at pixels.
pub fn render_line_plot_rgb(plot: &LinePlot, size: (u32, u32)) -> Result<Vec<u8>, PlotError> {
    ensure_font()?;
    let p = prepare(plot)?;
    let mut buf = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        draw_line_plot(&root, plot, &p)?;
    }
    Ok(buf)
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> PlotError + '_ {
    move |source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `stem` + extension, keeping any dots already in the stem (`iv.v1` -> `iv.v1.svg`).
fn with_ext(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_os_string();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Write `stem.svg` and `stem.png` for a line plot (parent directory created; both files are
/// written through a temporary file and a rename). Points that cannot be shown (non-finite, or
/// ≤ 0 on a log axis) are skipped and counted in [`PlotOutput::skipped`]; if nothing is left the
/// result is [`PlotError::NoData`].
pub fn write_line_plot(plot: &LinePlot, stem: &Path) -> Result<PlotOutput, PlotError> {
    ensure_font()?;
    let p = prepare(plot)?;
    let size = LINE_PLOT_SIZE;
    let (svg, png) = (with_ext(stem, "svg"), with_ext(stem, "png"));
    ensure_parent(&svg).map_err(io_err(&svg))?;

    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        draw_line_plot(&root, plot, &p)?;
    }
    write_atomic(&svg, text.as_bytes()).map_err(io_err(&svg))?;

    write_png(&png, |path| {
        let root = BitMapBackend::new(path, size).into_drawing_area();
        draw_line_plot(&root, plot, &p)
    })?;
    Ok(PlotOutput {
        svg,
        png,
        skipped: p.skipped,
    })
}

/// Let `draw` write a PNG to a temporary `.png` path (the encoder picks the format from the
/// extension), fsync it, and rename it over `png`.
fn write_png(
    png: &Path,
    draw: impl FnOnce(&Path) -> Result<(), PlotError>,
) -> Result<(), PlotError> {
    let tmp = temp_path_for(png);
    let result = draw(&tmp).and_then(|()| {
        fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io_err(png))
    });
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    commit_temp(&tmp, png).map_err(io_err(png))
}

/// A colour map of a matrix, e.g. cell conductances or read-current errors across a crossbar.
/// `data[r][c]` is drawn as the cell in row `r`, column `c`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeatMap {
    pub title: String,
    /// Axis labels with units, e.g. `"bit line (column)"`.
    pub x_label: String,
    pub y_label: String,
    /// The quantity and unit of the colours, e.g. `"G (S)"`.
    pub colorbar_label: String,
    /// Rows of equal length.
    pub data: Vec<Vec<f64>>,
    /// x of the centres of the first and last column; `None` = column indices `0..ncols-1`.
    pub x_centers: Option<(f64, f64)>,
    /// y of the centres of the first and last row; `None` = row indices `0..nrows-1`.
    pub y_centers: Option<(f64, f64)>,
    /// Draw row 0 at the top, like a matrix or an array layout (the y axis then runs downward).
    pub row0_at_top: bool,
    /// Logarithmic colour scale; cells ≤ 0 are then shown grey and counted as skipped.
    pub log_color: bool,
    /// Colour scale limits (data units); `None` = the data's finite min and max.
    /// Values outside are clamped to the end colours.
    pub color_range: Option<(f64, f64)>,
}

impl HeatMap {
    /// A heat map over row/column indices with row 0 at the top and a linear colour scale.
    pub fn new(title: impl Into<String>, data: Vec<Vec<f64>>) -> Self {
        HeatMap {
            title: title.into(),
            x_label: "column".into(),
            y_label: "row".into(),
            data,
            row0_at_top: true,
            ..Default::default()
        }
    }
}

/// viridis sampled at 9 equally spaced points (R `viridisLite::viridis(9)`, the matplotlib
/// colour map by van der Walt & Smith, 2015); linear interpolation between them.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (0x44, 0x01, 0x54),
    (0x47, 0x2D, 0x7B),
    (0x3B, 0x52, 0x8B),
    (0x2C, 0x72, 0x8E),
    (0x21, 0x90, 0x8C),
    (0x27, 0xAD, 0x81),
    (0x5D, 0xC8, 0x63),
    (0xAA, 0xDC, 0x32),
    (0xFD, 0xE7, 0x25),
];

/// Colour for cells that cannot be shown (non-finite, or ≤ 0 on a log scale).
const MISSING: RGBColor = RGBColor(190, 190, 190);

/// viridis colour at `t` in [0, 1] (clamped).
pub fn viridis(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: u8, q: u8| (f64::from(p) + f * (f64::from(q) - f64::from(p))).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The heat map checked and mapped: cell edges, colour axis (log10 values if log) and counts.
struct PreparedHeat {
    x: Axis,
    y: Axis,
    color: Axis,
    x_edges: Vec<f64>,
    y_edges: Vec<f64>,
    skipped: usize,
}

/// `n + 1` cell edges around `n` centres spaced evenly from `first` to `last`.
fn edges(n: usize, centers: Option<(f64, f64)>) -> Vec<f64> {
    let (first, last) = centers.unwrap_or((0.0, n.saturating_sub(1) as f64));
    let d = if n > 1 {
        (last - first) / (n - 1) as f64
    } else {
        1.0
    };
    (0..=n).map(|k| first + (k as f64 - 0.5) * d).collect()
}

fn prepare_heat(h: &HeatMap) -> Result<PreparedHeat, PlotError> {
    let bad = |what: String| PlotError::BadInput {
        title: h.title.clone(),
        what,
    };
    let nrows = h.data.len();
    let ncols = h.data.first().map_or(0, Vec::len);
    if nrows == 0 || ncols == 0 {
        return Err(PlotError::NoData {
            title: h.title.clone(),
            skipped: 0,
        });
    }
    if let Some(r) = h.data.iter().position(|r| r.len() != ncols) {
        return Err(bad(format!(
            "row {r} has {} values but row 0 has {ncols}",
            h.data[r].len()
        )));
    }
    for (name, c) in [("x_centers", h.x_centers), ("y_centers", h.y_centers)] {
        if let Some((a, b)) = c {
            if !(a.is_finite() && b.is_finite()) || (a == b && (nrows > 1 || ncols > 1)) {
                return Err(bad(format!(
                    "{name} ({a}, {b}) must be finite and distinct"
                )));
            }
        }
    }
    let shown = |v: f64| v.is_finite() && (!h.log_color || v > 0.0);
    let skipped = h.data.iter().flatten().filter(|v| !shown(**v)).count();
    let (cmin, cmax) = match h.color_range {
        Some((a, b)) => {
            if !(shown(a) && shown(b) && b > a) {
                return Err(bad(format!(
                    "color_range ({a}, {b}) must be finite, increasing{}",
                    if h.log_color { " and positive" } else { "" }
                )));
            }
            (a, b)
        }
        None => {
            let vals = h.data.iter().flatten().copied().filter(|v| shown(*v));
            let (a, b) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
            if a > b {
                return Err(PlotError::NoData {
                    title: h.title.clone(),
                    skipped,
                });
            }
            (a, b)
        }
    };
    let tr = |v: f64| if h.log_color { v.log10() } else { v };
    let x_edges = edges(ncols, h.x_centers);
    let y_edges = edges(nrows, h.y_centers);
    let span = |e: &[f64]| {
        let (a, b) = (e[0], e[e.len() - 1]);
        (a.min(b), a.max(b))
    };
    let (xa, xb) = span(&x_edges);
    let (ya, yb) = span(&y_edges);
    let mut y = Axis::exact(false, ya, yb);
    if h.row0_at_top == (y_edges[0] < y_edges[nrows]) {
        // First row at the top: the axis must run from the last row's edge (bottom) upward.
        std::mem::swap(&mut y.lo, &mut y.hi);
    }
    let mut x = Axis::exact(false, xa, xb);
    if x_edges[0] > x_edges[ncols] {
        std::mem::swap(&mut x.lo, &mut x.hi);
    }
    Ok(PreparedHeat {
        x,
        y,
        color: Axis::exact(h.log_color, tr(cmin), tr(cmax)),
        x_edges,
        y_edges,
        skipped,
    })
}

fn draw_heat_map<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    h: &HeatMap,
    p: &PreparedHeat,
) -> Result<(), PlotError> {
    let err = draw_err(&h.title);
    root.fill(&WHITE).map_err(&err)?;
    let body = root.titled(&h.title, (FAMILY, 28)).map_err(&err)?;
    let (w, _) = body.dim_in_pixel();
    let (main, bar) = body.split_horizontally(w.saturating_sub(170));
    let (x_area, top, bottom) = (60, 10, 20);

    let mut chart = ChartBuilder::on(&main)
        .margin_left(20)
        .margin_right(10)
        .margin_top(top)
        .margin_bottom(bottom)
        .x_label_area_size(x_area)
        .y_label_area_size(90)
        .build_cartesian_2d(AxisCoord(p.x.clone()), AxisCoord(p.y.clone()))
        .map_err(&err)?;
    let xf = |v: &f64| p.x.label(*v);
    let yf = |v: &f64| p.y.label(*v);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(h.x_label.as_str())
        .y_desc(h.y_label.as_str())
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style((FAMILY, 16))
        .axis_desc_style((FAMILY, 20))
        .draw()
        .map_err(&err)?;
    let (c0, c1) = (p.color.lo, p.color.hi);
    let color_of = |v: f64| -> RGBColor {
        if !v.is_finite() || (h.log_color && v <= 0.0) {
            return MISSING;
        }
        let v = if h.log_color { v.log10() } else { v };
        viridis((v - c0) / (c1 - c0))
    };
    let (xe, ye) = (&p.x_edges, &p.y_edges);
    chart
        .draw_series(h.data.iter().enumerate().flat_map(|(r, row)| {
            row.iter().enumerate().map(move |(c, &v)| {
                Rectangle::new(
                    [(xe[c], ye[r]), (xe[c + 1], ye[r + 1])],
                    color_of(v).filled(),
                )
            })
        }))
        .map_err(&err)?;

    // Colour bar: a narrow chart whose y axis is the colour scale, labels on the right.
    let mut cb = ChartBuilder::on(&bar)
        .margin_left(10)
        .margin_right(10)
        .margin_top(top)
        .margin_bottom(bottom + x_area)
        .right_y_label_area_size(110)
        .build_cartesian_2d(0.0..1.0, AxisCoord(p.color.clone()))
        .map_err(&err)?;
    let cf = |v: &f64| p.color.label(*v);
    cb.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(h.colorbar_label.as_str())
        .y_label_formatter(&cf)
        .label_style((FAMILY, 16))
        .axis_desc_style((FAMILY, 20))
        .draw()
        .map_err(&err)?;
    const STEPS: usize = 256;
    cb.draw_series((0..STEPS).map(|k| {
        let (a, b) = (k as f64 / STEPS as f64, (k + 1) as f64 / STEPS as f64);
        let (v0, v1) = (c0 + a * (c1 - c0), c0 + b * (c1 - c0));
        Rectangle::new([(0.0, v0), (1.0, v1)], viridis((a + b) / 2.0).filled())
    }))
    .map_err(&err)?;
    cb.plotting_area()
        .draw(&Rectangle::new(
            [(0.0, c0), (1.0, c1)],
            BLACK.stroke_width(1),
        ))
        .map_err(&err)?;
    root.present().map_err(&err)?;
    Ok(())
}

/// Render a heat map into an RGB buffer (`width·height·3` bytes, row-major), for tests.
pub fn render_heat_map_rgb(h: &HeatMap, size: (u32, u32)) -> Result<Vec<u8>, PlotError> {
    ensure_font()?;
    let p = prepare_heat(h)?;
    let mut buf = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        draw_heat_map(&root, h, &p)?;
    }
    Ok(buf)
}

/// Write `stem.svg` and `stem.png` for a heat map with a colour bar (temp file + rename each).
/// Cells that cannot be coloured are grey and counted in [`PlotOutput::skipped`]. A ragged
/// matrix or a bad `color_range` is [`PlotError::BadInput`].
///
/// The SVG holds one rectangle per cell, so it grows with the array (≈100 bytes per cell).
pub fn write_heat_map(h: &HeatMap, stem: &Path) -> Result<PlotOutput, PlotError> {
    ensure_font()?;
    let p = prepare_heat(h)?;
    let size = HEAT_MAP_SIZE;
    let (svg, png) = (with_ext(stem, "svg"), with_ext(stem, "png"));
    ensure_parent(&svg).map_err(io_err(&svg))?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        draw_heat_map(&root, h, &p)?;
    }
    write_atomic(&svg, text.as_bytes()).map_err(io_err(&svg))?;
    write_png(&png, |path| {
        let root = BitMapBackend::new(path, size).into_drawing_area();
        draw_heat_map(&root, h, &p)
    })?;
    Ok(PlotOutput {
        svg,
        png,
        skipped: p.skipped,
    })
}
