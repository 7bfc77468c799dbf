//! Server-rendered SVG bar charts (issue 18): no JavaScript library, a
//! `<title>` for screen readers, and the same figures as a table beside it
//! (the templates put that table behind a "show as table" toggle).

use std::fmt::Write;

/// One bar: its label (a day) and a value per series, stacked.
pub struct Bar {
    pub label: String,
    pub values: Vec<i64>,
}

/// A stacked bar chart of `bars`, one colour class per series
/// (`series-0`, `series-1`, ... in app.css).
pub struct Chart {
    pub title: String,
    pub series: Vec<String>,
    pub bars: Vec<Bar>,
}

const WIDTH: i64 = 600;
const HEIGHT: i64 = 160;
const AXIS: i64 = 20;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Chart {
    pub fn max(&self) -> i64 {
        self.bars
            .iter()
            .map(|b| b.values.iter().sum::<i64>())
            .max()
            .unwrap_or(0)
    }

    /// The chart as inline SVG, scaled to the largest bar.
    pub fn svg(&self) -> String {
        let max = self.max().max(1);
        let n = self.bars.len().max(1) as i64;
        let step = WIDTH / n;
        let mut out = format!(
            r#"<svg class="chart" viewBox="0 0 {WIDTH} {}" role="img" aria-labelledby="chart-{id}"><title id="chart-{id}">{}</title>"#,
            HEIGHT + AXIS,
            escape(&self.title),
            id = self.id(),
        );
        for (i, bar) in self.bars.iter().enumerate() {
            let x = i as i64 * step;
            let mut y = HEIGHT;
            for (s, v) in bar.values.iter().enumerate().filter(|(_, v)| **v > 0) {
                let h = (v * HEIGHT / max).max(1);
                y -= h;
                let name = self.series.get(s).map(String::as_str).unwrap_or("");
                let _ = write!(
                    out,
                    r#"<rect class="series-{s}" x="{}" y="{y}" width="{}" height="{h}"><title>{}: {} {v}</title></rect>"#,
                    x + 1,
                    (step - 2).max(1),
                    escape(&bar.label),
                    escape(name),
                );
            }
        }
        let _ = write!(
            out,
            r#"<line class="axis" x1="0" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}"/><text x="0" y="{}">{}</text><text x="{WIDTH}" y="{}" text-anchor="end">{}</text></svg>"#,
            HEIGHT + AXIS - 4,
            escape(self.bars.first().map(|b| b.label.as_str()).unwrap_or("")),
            HEIGHT + AXIS - 4,
            escape(self.bars.last().map(|b| b.label.as_str()).unwrap_or("")),
        );
        out
    }

    /// A stable id from the title, for `aria-labelledby`.
    fn id(&self) -> String {
        self.title
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(24)
            .collect::<String>()
            .to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Chart {
        Chart {
            title: "Acts <per> day".into(),
            series: vec!["deactivate".into(), "delete".into()],
            bars: vec![
                Bar {
                    label: "2026-12-01".into(),
                    values: vec![2, 2],
                },
                Bar {
                    label: "2026-12-02".into(),
                    values: vec![0, 0],
                },
                Bar {
                    label: "2026-12-03".into(),
                    values: vec![1, 0],
                },
            ],
        }
    }

    #[test]
    fn bars_are_stacked_scaled_to_the_largest_and_titled() {
        let svg = chart().svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title id=\"chart-actsperday\">Acts &lt;per&gt; day</title>"));
        // The largest bar (4) fills the height: two halves of 80.
        assert_eq!(svg.matches("height=\"80\"").count(), 2);
        assert!(svg.contains("height=\"40\""), "1 of 4");
        assert_eq!(svg.matches("<rect").count(), 3, "empty values draw nothing");
        assert!(svg.contains("<title>2026-12-03: deactivate 1</title>"));
    }

    #[test]
    fn an_empty_chart_still_draws_its_axis() {
        let svg = Chart {
            title: "Nothing".into(),
            series: vec![],
            bars: vec![],
        }
        .svg();
        assert!(svg.contains("class=\"axis\"") && !svg.contains("<rect"));
    }
}
