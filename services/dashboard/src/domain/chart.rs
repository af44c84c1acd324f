//! Bar charts laid out on the server: stacked bars per category (a day, a
//! run), one colour per series, with a y axis of round ticks. Integer
//! arithmetic only (values are counts or cents); the view draws the result as
//! SVG with a title, a description and the same numbers as a table.

/// The unit of a chart's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Cents,
}

impl Unit {
    pub fn format(self, value: i64) -> String {
        match self {
            Unit::Count => value.to_string(),
            Unit::Cents => crate::domain::money::format_cents(value),
        }
    }
}

/// What to draw: `values[category][series]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarChart {
    pub title: String,
    pub description: String,
    pub unit: Unit,
    pub categories: Vec<String>,
    pub series: Vec<String>,
    pub values: Vec<Vec<i64>>,
}

/// One drawn bar segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    pub series: usize,
    pub category: usize,
    pub value: i64,
}

/// A label at a position along an axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub at: i64,
    pub label: String,
}

/// The chart laid out in a `width` × `height` box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub width: i64,
    pub height: i64,
    pub plot_left: i64,
    pub plot_right: i64,
    pub zero_y: i64,
    pub bars: Vec<Bar>,
    pub y_ticks: Vec<Tick>,
    pub x_labels: Vec<Tick>,
}

pub const WIDTH: i64 = 720;
pub const HEIGHT: i64 = 280;
const LEFT: i64 = 80;
const RIGHT: i64 = 10;
const TOP: i64 = 12;
const BOTTOM: i64 = 44;
/// Category labels drawn at most (every k-th beyond it; the table has them all).
pub const X_LABELS_MAX: usize = 12;
/// Categories drawn at most; the caller keeps the latest.
pub const CATEGORIES_MAX: usize = 60;

/// The smallest of 1, 2, 5 × 10^k at least `raw` (at least 1).
pub fn nice_step(raw: i64) -> i64 {
    let raw = raw.max(1);
    let mut magnitude = 1i64;
    loop {
        for factor in [1, 2, 5] {
            if let Some(step) = magnitude.checked_mul(factor)
                && step >= raw
            {
                return step;
            }
        }
        match magnitude.checked_mul(10) {
            Some(next) => magnitude = next,
            None => return i64::MAX,
        }
    }
}

/// Where the bars, ticks and labels go.
pub fn layout(chart: &BarChart) -> Layout {
    // The stacks: positive values up from zero, negative ones down.
    let mut highest = 0i64;
    let mut lowest = 0i64;
    for row in &chart.values {
        highest = highest.max(row.iter().filter(|v| **v > 0).sum());
        lowest = lowest.min(row.iter().filter(|v| **v < 0).sum());
    }
    let step = nice_step((highest - lowest + 3) / 4);
    let top_tick = (highest + step - 1).div_euclid(step) * step;
    let bottom_tick = lowest.div_euclid(step) * step;
    let top_tick = if top_tick == bottom_tick { bottom_tick + step } else { top_tick };
    let plot_height = i128::from(HEIGHT - TOP - BOTTOM);
    let span = i128::from(top_tick - bottom_tick);
    let y_of = |value: i64| -> i64 { TOP + ((i128::from(top_tick - value) * plot_height + span / 2) / span) as i64 };
    let plot_width = WIDTH - LEFT - RIGHT;
    let n = chart.categories.len().max(1) as i64;
    let band = plot_width / n;
    let bar_width = (band * 7 / 10).max(1);
    let mut bars = Vec::new();
    for (category, row) in chart.values.iter().enumerate() {
        let x = LEFT + category as i64 * band + (band - bar_width) / 2;
        let (mut up, mut down) = (0i64, 0i64);
        for (series, value) in row.iter().copied().enumerate() {
            if value == 0 {
                continue;
            }
            let (from, to) = if value > 0 {
                up += value;
                (up - value, up)
            } else {
                down += value;
                (down - value, down)
            };
            let (y_top, y_bottom) = (y_of(from.max(to)), y_of(from.min(to)));
            bars.push(Bar { x, y: y_top, width: bar_width, height: (y_bottom - y_top).max(1), series, category, value });
        }
    }
    let y_ticks = (0..)
        .map(|k| bottom_tick + k * step)
        .take_while(|value| *value <= top_tick)
        .map(|value| Tick { at: y_of(value), label: chart.unit.format(value) })
        .collect();
    let every = chart.categories.len().div_ceil(X_LABELS_MAX).max(1);
    let x_labels = chart
        .categories
        .iter()
        .enumerate()
        .filter(|(idx, _)| idx % every == 0)
        .map(|(idx, label)| Tick { at: LEFT + idx as i64 * band + band / 2, label: label.clone() })
        .collect();
    Layout { width: WIDTH, height: HEIGHT, plot_left: LEFT, plot_right: WIDTH - RIGHT, zero_y: y_of(0), bars, y_ticks, x_labels }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(values: Vec<Vec<i64>>) -> BarChart {
        BarChart {
            title: "t".into(),
            description: "d".into(),
            unit: Unit::Count,
            categories: (0..values.len()).map(|n| format!("c{n}")).collect(),
            series: vec!["a".into(), "b".into()],
            values,
        }
    }

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        let cases = [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (26, 50), (51, 100), (2_501, 5_000)];
        for (raw, step) in cases {
            assert_eq!(nice_step(raw), step, "{raw}");
        }
    }

    #[test]
    fn stacked_bars_sit_on_each_other_and_heights_follow_the_values() {
        // Given a day with 6 paid and 2 denied and a day with 4 paid,
        let layout = layout(&chart(vec![vec![6, 2], vec![4, 0]]));
        // then the axis runs 0..8 in steps of 2,
        let labels: Vec<&str> = layout.y_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "2", "4", "6", "8"]);
        // the second series sits on top of the first,
        let (paid, denied) = (&layout.bars[0], &layout.bars[1]);
        assert_eq!((paid.series, denied.series), (0, 1));
        assert_eq!(denied.y + denied.height, paid.y);
        // the full stack reaches the top tick, and a zero value draws nothing.
        assert_eq!(denied.y, layout.y_ticks.last().unwrap().at);
        assert_eq!(layout.bars.len(), 3);
        assert_eq!(paid.height * 4, layout.bars[2].height * 6);
        assert_eq!(paid.y + paid.height, layout.zero_y);
    }

    #[test]
    fn a_negative_value_hangs_below_the_zero_line() {
        let layout = layout(&chart(vec![vec![300, 0], vec![-100, 0]]));
        let (up, down) = (&layout.bars[0], &layout.bars[1]);
        assert_eq!(up.y + up.height, layout.zero_y);
        assert_eq!(down.y, layout.zero_y);
        assert!(layout.y_ticks.first().unwrap().label.starts_with('-'));
        assert!(layout.bars.iter().all(|bar| bar.y >= 0 && bar.y + bar.height <= HEIGHT));
    }

    #[test]
    fn an_empty_chart_has_an_axis_and_no_bars_and_many_categories_label_every_kth() {
        let empty = layout(&chart(vec![]));
        assert!(empty.bars.is_empty());
        assert_eq!(empty.y_ticks.len(), 2);
        let many = layout(&chart((0..30).map(|n| vec![n, 1]).collect()));
        assert!(many.x_labels.len() <= X_LABELS_MAX);
        assert_eq!(many.x_labels[0].label, "c0");
        assert!(many.bars.iter().all(|bar| bar.x >= LEFT && bar.x + bar.width <= WIDTH - RIGHT));
    }

    #[test]
    fn cents_are_labelled_as_dollars() {
        assert_eq!(Unit::Cents.format(11_880), "118.80");
        assert_eq!(Unit::Count.format(12), "12");
    }
}
