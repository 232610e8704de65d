//! Charts as SVG, drawn on the server so they work without JavaScript, print cleanly and can
//! go into PDF reports unchanged. Every chart carries a `<title>` and `<desc>` (its text
//! alternative); pages also show the figures as a table and link the CSV.

use greenplan_core::Decimal;
use std::fmt::Write;

/// Escapes text for SVG/XML. Characters XML 1.0 forbids even escaped (C0 controls other than
/// TAB, LF and CR; U+FFFE and U+FFFF) become U+FFFD: one in a metric name made every PDF
/// report fail, because the PDF writer refuses the SVG (issue 21).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if xml_forbids(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// True for a character no XML 1.0 document may hold.
fn xml_forbids(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// A prefix for the ids of a chart's title and description, unique per title, so two charts on
/// one page never share an id.
fn id_prefix(title: &str) -> String {
    let slug: String = title
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(24)
        .collect::<String>()
        .to_lowercase();
    format!("chart-{slug}")
}

fn f(d: Decimal) -> f64 {
    // Charts only position shapes: exactness lives in the tables beside them.
    d.to_string().parse().unwrap_or(0.0)
}

/// One bar of a bar chart.
pub struct Bar {
    pub label: String,
    pub value: Decimal,
    pub display: String,
}

/// A horizontal bar chart.
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let row_h = 28.0;
    let label_w = 260.0;
    let bar_w = 420.0;
    let width = label_w + bar_w + 110.0;
    let height = 10.0 + row_h * bars.len() as f64;
    let max = bars
        .iter()
        .map(|b| f(b.value))
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let desc = bars
        .iter()
        .map(|b| format!("{}: {}", b.label, b.display))
        .collect::<Vec<_>>()
        .join("; ");
    let id = id_prefix(title);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{id}-t {id}-d" class="chart"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(&desc)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 5.0 + i as f64 * row_h;
        let w = (f(b.value) / max * bar_w).max(0.0);
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" class="chart-label">{}</text><rect x="{label_w}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="#005eb8"/><text x="{:.1}" y="{:.1}" class="chart-value">{}</text>"##,
            label_w - 8.0,
            y + row_h * 0.62,
            esc(&b.label),
            y + 4.0,
            row_h - 8.0,
            label_w + w + 6.0,
            y + row_h * 0.62,
            esc(&b.display)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A line chart of actual values against a trajectory, by financial year.
pub fn trajectory_chart(
    title: &str,
    years: &[String],
    trajectory: &[Option<Decimal>],
    actual: &[Option<Decimal>],
) -> String {
    let (w, h, left, bottom, top, right) = (640.0, 280.0, 70.0, 40.0, 20.0, 40.0);
    let values: Vec<f64> = trajectory
        .iter()
        .chain(actual)
        .flatten()
        .map(|d| f(*d))
        .collect();
    let step = nice_step(values.iter().copied().fold(0.0_f64, f64::max) / 4.0);
    let max = step * 4.0;
    let n = years.len().max(2) as f64 - 1.0;
    let x = |i: usize| left + (w - left - right) * i as f64 / n;
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v / max);
    let series = |vals: &[Option<Decimal>]| {
        vals.iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(f(v)))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let describe = |vals: &[Option<Decimal>]| {
        years
            .iter()
            .zip(vals)
            .filter_map(|(yr, v)| v.map(|v| format!("{yr} {}", v.normalize())))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let desc = format!(
        "Trajectory: {}. Actual: {}.",
        describe(trajectory),
        describe(actual)
    );
    let id = id_prefix(title);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d" class="chart"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(&desc)
    );
    for k in 0..=4 {
        let v = step * k as f64;
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#d8dde0"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="chart-axis">{}</text>"##,
            w - right,
            y(v),
            y(v),
            left - 6.0,
            y(v) + 4.0,
            axis_label(v)
        );
    }
    for (i, yr) in years.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="chart-axis">{}</text>"#,
            x(i),
            h - 14.0,
            esc(yr)
        );
    }
    // A line needs two points; a trajectory of one year is shown as a hollow marker.
    if trajectory.iter().flatten().count() >= 2 {
        let _ = write!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="#768692" stroke-width="2" stroke-dasharray="6 4"/>"##,
            series(trajectory)
        );
    } else if let Some((i, v)) = trajectory
        .iter()
        .enumerate()
        .find_map(|(i, v)| v.map(|v| (i, v)))
    {
        let _ = write!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="5" fill="none" stroke="#768692" stroke-width="2"/>"##,
            x(i),
            y(f(v))
        );
    }
    if actual.iter().flatten().count() >= 2 {
        let _ = write!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="#005eb8" stroke-width="3"/>"##,
            series(actual)
        );
    }
    for (i, v) in actual.iter().enumerate() {
        if let Some(v) = v {
            let _ = write!(
                svg,
                r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#005eb8"/>"##,
                x(i),
                y(f(*v))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The chart with its type style inside it, for documents that have no page stylesheet
/// (PDF, a saved HTML file): the same rule the web app's CSS gives `.chart` text.
pub fn self_styled(svg: &str) -> String {
    const STYLE: &str = "<style>.chart-label, .chart-value, .chart-axis { font-family: Arial, 'Liberation Sans', sans-serif; font-size: 13px; fill: #212b32; }</style>";
    match svg.find('>') {
        Some(end) => format!("{}{STYLE}{}", &svg[..=end], &svg[end + 1..]),
        None => svg.to_string(),
    }
}

/// A round step (1, 2, 2.5 or 5 × a power of ten) at least `raw`, so axis labels read well.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

fn axis_label(v: f64) -> String {
    let rounded = (v * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        greenplan_core::quantity::with_thousands(Decimal::from(rounded as i64), 0)
    } else {
        format!("{rounded:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(nice_step(16133.0 / 4.0), 5000.0);
        assert_eq!(nice_step(2.2), 2.5);
        assert_eq!(nice_step(0.0), 1.0);
    }

    #[test]
    fn a_single_year_draws_markers_not_lines() {
        let one = [Some(Decimal::from(9))];
        let svg = trajectory_chart("N2O", &["2024/25".into()], &one, &[Some(Decimal::from(6))]);
        assert!(!svg.contains("<polyline"));
        assert_eq!(svg.matches("<circle").count(), 2);
        let two = [Some(Decimal::from(9)), Some(Decimal::from(8))];
        let svg = trajectory_chart("N2O", &["a".into(), "b".into()], &two, &two);
        assert_eq!(svg.matches("<polyline").count(), 2);
    }

    #[test]
    fn bar_chart_escapes_and_describes() {
        let svg = bar_chart(
            "Footprint <by> org",
            &[Bar {
                label: "A&B".into(),
                value: Decimal::from(5),
                display: "5 t".into(),
            }],
        );
        assert!(svg.contains("Footprint &lt;by&gt; org"));
        assert!(svg.contains("A&amp;B: 5 t"));
        assert!(svg.starts_with("<svg"));
        let controls = bar_chart(
            "Metric\u{1} name\u{1f}",
            &[Bar {
                label: "Bad\u{0}\u{b}label\u{ffff}".into(),
                value: Decimal::from(5),
                display: "5\u{7} t".into(),
            }],
        );
        assert!(!controls.chars().any(xml_forbids), "{controls:?}");
        assert!(controls.contains("Metric\u{FFFD} name\u{FFFD}"));
        let styled = self_styled(&svg);
        assert!(styled.contains("\"><style>.chart-label"));
        assert!(styled.ends_with("</svg>"));
    }
}
