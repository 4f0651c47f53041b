//! Server-rendered inline SVG charts for the hub's dashboard: no script, no third-party
//! origin, readable without colour (every bar and point has its value as text) and by a
//! screen reader (`role="img"`, `<title>`, `<desc>`). A suppressed value is drawn as a
//! hatched, outlined bar labelled "<k", never as a zero-height bar; a sum that leaves
//! suppressed values out gets a hatched cap and "≥ n".

use std::fmt::Write as _;

/// One bar's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarValue {
    /// A published count (or a sum of published counts, nothing suppressed).
    Count(u64),
    /// Only suppressed values: "<k".
    Suppressed { k: u32 },
    /// A sum of published values that leaves `suppressed` values out: "≥ sum".
    AtLeast { sum: u64, suppressed: u32 },
    /// Nothing received.
    Missing,
}

/// One bar.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: BarValue,
}

/// One point of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    Count(u64),
    /// Suppressed: a hollow marker on the axis labelled "<k"; the line breaks there.
    Suppressed {
        k: u32,
    },
    /// Not received: the line breaks there.
    Missing,
}

/// One line of a line chart.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

/// Texts the charts need, in the page's language.
#[derive(Debug, Clone)]
pub struct Labels {
    /// "not yet received" (for a missing bar).
    pub missing: String,
    /// "{n} suppressed" template is not needed: "≥ n" says it; this is the legend of the
    /// hatching: "hatched: suppressed (<5), not added".
    pub hatch_legend: String,
    /// The legend of a line chart's hollow points: "hollow point: suppressed (<5)".
    pub point_legend: String,
}

const PALETTE: [&str; 8] = [
    "#1f5f8b", "#b3541e", "#2e7d32", "#6a1b9a", "#c62828", "#00838f", "#5d4037", "#455a64",
];

/// Escapes text for SVG/HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn hatch_def(id: &str) -> String {
    format!(
        "<defs><pattern id=\"{id}\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ffffff\"/>\
         <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#555555\" stroke-width=\"3\"/>\
         </pattern></defs>"
    )
}

/// The text shown for a bar value.
pub fn bar_text(v: BarValue, missing: &str) -> String {
    match v {
        BarValue::Count(n) => n.to_string(),
        BarValue::Suppressed { k } => format!("<{k}"),
        BarValue::AtLeast { sum, .. } => format!("≥ {sum}"),
        BarValue::Missing => missing.to_owned(),
    }
}

/// A horizontal bar chart. `id` must be unique in the page (it prefixes the pattern id).
pub fn bar_chart(id: &str, title: &str, bars: &[Bar], labels: &Labels) -> String {
    let label_w = 230.0_f64;
    let plot_w = 300.0_f64;
    let row_h = 22.0_f64;
    let top = 6.0_f64;
    let width = label_w + plot_w + 120.0;
    let height = top + row_h * bars.len().max(1) as f64 + 26.0;
    let max = bars
        .iter()
        .map(|b| match b.value {
            BarValue::Count(n) | BarValue::AtLeast { sum: n, .. } => n,
            _ => 0,
        })
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let hatch = format!("{id}-hatch");
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" \
         aria-labelledby=\"{id}-t\" viewBox=\"0 0 {width:.0} {height:.0}\" width=\"100%\" \
         style=\"max-width:{width:.0}px\"><title id=\"{id}-t\">{}</title>{}",
        esc(title),
        hatch_def(&hatch)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = top + row_h * i as f64;
        let cy = y + row_h / 2.0 + 4.0;
        let _ = write!(
            s,
            "<text x=\"{:.0}\" y=\"{cy:.1}\" text-anchor=\"end\" font-size=\"12\">{}</text>",
            label_w - 6.0,
            esc(&b.label)
        );
        let bar_y = y + 3.0;
        let bar_h = row_h - 6.0;
        let text = bar_text(b.value, &labels.missing);
        let end = match b.value {
            BarValue::Count(n) => {
                let w = (n as f64 / max * plot_w).max(if n > 0 { 1.0 } else { 0.0 });
                let _ = write!(
                    s,
                    "<rect x=\"{label_w:.0}\" y=\"{bar_y:.1}\" width=\"{w:.1}\" height=\"{bar_h:.1}\" fill=\"{}\"><title>{}: {}</title></rect>",
                    PALETTE[0],
                    esc(&b.label),
                    esc(&text)
                );
                label_w + w
            }
            BarValue::AtLeast { sum, .. } => {
                let w = sum as f64 / max * plot_w;
                let _ = write!(
                    s,
                    "<rect x=\"{label_w:.0}\" y=\"{bar_y:.1}\" width=\"{w:.1}\" height=\"{bar_h:.1}\" fill=\"{}\"/>\
                     <rect x=\"{:.1}\" y=\"{bar_y:.1}\" width=\"14\" height=\"{bar_h:.1}\" fill=\"url(#{hatch})\" stroke=\"#555555\"><title>{}: {}</title></rect>",
                    PALETTE[0],
                    label_w + w,
                    esc(&b.label),
                    esc(&text)
                );
                label_w + w + 14.0
            }
            BarValue::Suppressed { .. } => {
                let _ = write!(
                    s,
                    "<rect class=\"suppressed\" x=\"{label_w:.0}\" y=\"{bar_y:.1}\" width=\"18\" height=\"{bar_h:.1}\" fill=\"url(#{hatch})\" stroke=\"#555555\"><title>{}: {}</title></rect>",
                    esc(&b.label),
                    esc(&text)
                );
                label_w + 18.0
            }
            BarValue::Missing => label_w,
        };
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{cy:.1}\" font-size=\"12\"{}>{}</text>",
            end + 5.0,
            if b.value == BarValue::Missing {
                " font-style=\"italic\""
            } else {
                ""
            },
            esc(&text)
        );
    }
    let ly = height - 10.0;
    let _ = write!(
        s,
        "<rect x=\"{label_w:.0}\" y=\"{:.1}\" width=\"14\" height=\"10\" fill=\"url(#{hatch})\" stroke=\"#555555\"/>\
         <text x=\"{:.0}\" y=\"{ly:.1}\" font-size=\"11\">{}</text></svg>",
        ly - 9.0,
        label_w + 20.0,
        esc(&labels.hatch_legend)
    );
    s
}

/// A line chart over `x` (periods), one line per series; suppressed points are hollow markers
/// on the axis with "<k", missing ones break the line.
pub fn line_chart(
    id: &str,
    title: &str,
    x: &[String],
    series: &[Series],
    labels: &Labels,
) -> String {
    let left = 50.0_f64;
    let right = 150.0_f64;
    let top = 12.0_f64;
    let plot_h = 180.0_f64;
    let step = 70.0_f64;
    // Wide enough for the legend line under the plot even with two periods.
    let plot_w = step * (x.len().max(5) - 1) as f64;
    let width = left + plot_w + right;
    let height = top + plot_h + 50.0;
    let max = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter_map(|p| match p {
            Point::Count(n) => Some(*n),
            _ => None,
        })
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let xy = |i: usize, v: f64| (left + step * i as f64, top + plot_h - v / max * plot_h);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" \
         aria-labelledby=\"{id}-t\" viewBox=\"0 0 {width:.0} {height:.0}\" width=\"100%\" \
         style=\"max-width:{width:.0}px\"><title id=\"{id}-t\">{}</title>",
        esc(title)
    );
    // Axes and the scale.
    let base = top + plot_h;
    let _ = write!(
        s,
        "<line x1=\"{left:.0}\" y1=\"{top:.0}\" x2=\"{left:.0}\" y2=\"{base:.0}\" stroke=\"#888888\"/>\
         <line x1=\"{left:.0}\" y1=\"{base:.0}\" x2=\"{:.0}\" y2=\"{base:.0}\" stroke=\"#888888\"/>\
         <text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\" font-size=\"11\">{}</text>\
         <text x=\"{:.0}\" y=\"{base:.0}\" text-anchor=\"end\" font-size=\"11\">0</text>",
        left + plot_w,
        left - 4.0,
        top + 8.0,
        max as u64,
        left - 4.0
    );
    for (i, label) in x.iter().enumerate() {
        let (px, _) = xy(i, 0.0);
        let _ = write!(
            s,
            "<text x=\"{px:.0}\" y=\"{:.0}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
            base + 16.0,
            esc(label)
        );
    }
    for (n, ser) in series.iter().enumerate() {
        let colour = PALETTE[n % PALETTE.len()];
        // Runs of consecutive published points.
        let mut run: Vec<(f64, f64)> = Vec::new();
        let flush = |run: &mut Vec<(f64, f64)>, s: &mut String| {
            if run.len() > 1 {
                let pts: Vec<String> = run.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
                let _ = write!(
                    s,
                    "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
                    pts.join(" ")
                );
            }
            run.clear();
        };
        for (i, p) in ser.points.iter().enumerate() {
            match *p {
                Point::Count(v) => {
                    let (px, py) = xy(i, v as f64);
                    run.push((px, py));
                    let _ = write!(
                        s,
                        "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"3.5\" fill=\"{colour}\"><title>{} {}: {v}</title></circle>",
                        esc(&ser.name),
                        esc(x.get(i).map_or("", String::as_str))
                    );
                }
                Point::Suppressed { k } => {
                    flush(&mut run, &mut s);
                    let (px, py) = xy(i, 0.0);
                    let _ = write!(
                        s,
                        "<circle class=\"suppressed\" cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"4\" fill=\"#ffffff\" stroke=\"{colour}\" stroke-width=\"2\"><title>{} {}: &lt;{k}</title></circle>\
                         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"{colour}\">&lt;{k}</text>",
                        esc(&ser.name),
                        esc(x.get(i).map_or("", String::as_str)),
                        px + 5.0,
                        py - 5.0
                    );
                }
                Point::Missing => flush(&mut run, &mut s),
            }
        }
        flush(&mut run, &mut s);
        // Legend.
        let ly = top + 14.0 * n as f64 + 6.0;
        let lx = left + plot_w + 16.0;
        let _ = write!(
            s,
            "<line x1=\"{lx:.0}\" y1=\"{ly:.0}\" x2=\"{:.0}\" y2=\"{ly:.0}\" stroke=\"{colour}\" stroke-width=\"3\"/>\
             <text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\">{}</text>",
            lx + 18.0,
            lx + 22.0,
            ly + 4.0,
            esc(&ser.name)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{left:.0}\" y=\"{:.0}\" font-size=\"11\">{}</text></svg>",
        height - 6.0,
        esc(&labels.point_legend)
    );
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn labels() -> Labels {
        Labels {
            missing: "no recibido aún".into(),
            hatch_legend: "rayado: suprimido".into(),
            point_legend: "punto hueco: suprimido".into(),
        }
    }

    #[test]
    fn a_suppressed_bar_is_hatched_and_labelled_never_zero_height() {
        let svg = bar_chart(
            "c1",
            "Víctimas <por> forma",
            &[
                Bar {
                    label: "Trabajo forzoso".into(),
                    value: BarValue::Count(40),
                },
                Bar {
                    label: "Explotación sexual".into(),
                    value: BarValue::Suppressed { k: 5 },
                },
                Bar {
                    label: "Otra".into(),
                    value: BarValue::AtLeast {
                        sum: 10,
                        suppressed: 2,
                    },
                },
                Bar {
                    label: "HND".into(),
                    value: BarValue::Missing,
                },
            ],
            &labels(),
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<title id=\"c1-t\">Víctimas &lt;por&gt; forma</title>"));
        assert!(svg.contains("class=\"suppressed\""));
        assert!(svg.contains(">&lt;5</text>"));
        assert!(svg.contains(">≥ 10</text>"));
        assert!(svg.contains("no recibido aún"));
        assert!(!svg.contains("<script"));
        assert!(!svg.contains("width=\"0.0\""));
    }

    #[test]
    fn a_line_breaks_at_suppressed_and_missing_points() {
        let svg = line_chart(
            "c2",
            "Tendencia",
            &["2025-Q1".into(), "2025-Q2".into(), "2025-Q3".into()],
            &[Series {
                name: "GTM".into(),
                points: vec![Point::Count(20), Point::Suppressed { k: 5 }, Point::Missing],
            }],
            &labels(),
        );
        assert!(svg.contains("&lt;5"));
        assert!(!svg.contains("<polyline")); // no two consecutive published points
        assert!(svg.contains("2025-Q2"));
    }
}
