//! The pages' HTML, as maud templates checked at compile time. Every value is
//! escaped by maud; no page embeds a script other than the import map.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::domain::chart::{self, BarChart};
use crate::domain::page::Page;
use crate::domain::table::TablePage;
use crate::domain::viewer::Viewer;

/// The import map of the proofs page: bare `@noble/...` specifiers to the embedded files.
pub const IMPORT_MAP: &str = r#"{"imports":{"@noble/hashes/":"/ui/assets/vendor/@noble/hashes/","@noble/curves/":"/ui/assets/vendor/@noble/curves/"}}"#;

/// The header of a signed-in page: who, the pages of the role, sign-out.
pub struct Frame<'a> {
    pub viewer: &'a Viewer,
    pub csrf_token: &'a str,
    pub current: Option<Page>,
}

pub fn layout(title: &str, frame: Option<&Frame<'_>>, head_extra: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Claimtrail" }
                link rel="stylesheet" href="/ui/assets/dashboard.css";
                link rel="icon" href="data:,";
                (head_extra)
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    span.brand { "Claimtrail" }
                    @if let Some(frame) = frame {
                        nav aria-label="Pages" {
                            ul {
                                li { a href="/" aria-current=[frame.current.is_none().then_some("page")] { "Home" } }
                                @for page in Page::for_role(frame.viewer.role) {
                                    li { a href=(page.path()) aria-current=[(frame.current == Some(page)).then_some("page")] { (page.title()) } }
                                }
                            }
                        }
                        div.who {
                            span { (frame.viewer.name) " (" (frame.viewer.role.label()) ")" }
                            form method="post" action="/ui/sign-out" {
                                input type="hidden" name="csrf_token" value=(frame.csrf_token);
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

pub fn sign_in(csrf_token: &str, message: Option<&str>) -> Markup {
    let body = html! {
        div.signin {
            @if let Some(message) = message {
                p.message role="alert" { (message) }
            }
            p { "Sign in with your Claimtrail API key. Finance, payer operations, auditor and admin keys each see their own pages." }
            form method="post" action="/ui/sign-in" {
                input type="hidden" name="csrf_token" value=(csrf_token);
                label for="api-key" { "API key" }
                input #api-key type="password" name="api_key" autocomplete="off" required;
                p { button type="submit" { "Sign in" } }
            }
        }
    };
    layout("Sign in", None, html! {}, body)
}

pub fn home(frame: &Frame<'_>) -> Markup {
    let pages = Page::for_role(frame.viewer.role);
    let body = html! {
        @if pages.is_empty() {
            p { "A " (frame.viewer.role.label()) " key has no dashboard pages; it uses the API." }
        } @else {
            p { "Signed in as " (frame.viewer.name) ". Your pages:" }
            ul {
                @for page in pages {
                    li { a href=(page.path()) { (page.title()) } }
                }
            }
        }
    };
    layout("Dashboard", Some(frame), html! {}, body)
}

/// A page that says what went wrong, with the HTTP status it is sent with.
pub fn problem(frame: Option<&Frame<'_>>, title: &str, detail: &str) -> Markup {
    let body = html! {
        p.message role="alert" { (detail) }
        p { a href="/" { "Back to the dashboard" } }
    };
    layout(title, frame, html! {}, body)
}

/// A table page: its filter, its rows, links to the other pages and to the CSV of every row.
/// `query` is the page's other query parameters, already encoded.
pub fn table(page: &TablePage, caption: &str, path: &str, query: &str, filter: &str) -> Markup {
    let link = |extra: &str| if query.is_empty() { format!("{path}?{extra}") } else { format!("{path}?{query}&{extra}") };
    let filter_query = format!("filter={}", encode(filter));
    html! {
        form.inline method="get" action=(path) role="search" {
            @for (name, value) in decode_pairs(query) {
                input type="hidden" name=(name) value=(value);
            }
            div {
                label for={"filter-" (caption_id(caption))} { "Filter " (caption.to_lowercase()) }
                input id={"filter-" (caption_id(caption))} type="search" name="filter" value=(filter);
            }
            button type="submit" { "Filter" }
        }
        p {
            a href=(link(&format!("{filter_query}&format=csv"))) download { "Download CSV (" (page.n_rows) " rows)" }
        }
        table {
            caption { (caption) }
            thead { tr { @for header in &page.headers { th scope="col" { (header) } } } }
            tbody {
                @for (row, link) in page.rows.iter().zip(&page.links) {
                    tr {
                        @for (idx, cell) in row.iter().enumerate() {
                            @match link.as_deref().filter(|_| idx == page.link_column) {
                                Some(href) => td { a href=(href) { (cell) } },
                                None => td { (cell) },
                            }
                        }
                    }
                }
                @if page.rows.is_empty() {
                    tr { td colspan=(page.headers.len()) { "Nothing to show." } }
                }
            }
        }
        nav.pager aria-label={(caption) " pages"} {
            @if page.page > 1 {
                a href=(link(&format!("{filter_query}&page={}", page.page - 1))) { "Previous page" }
            }
            span { "Page " (page.page) " of " (page.n_pages) }
            @if page.page < page.n_pages {
                a href=(link(&format!("{filter_query}&page={}", page.page + 1))) { "Next page" }
            }
        }
    }
}

fn caption_id(caption: &str) -> String {
    caption.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn decode_pairs(query: &str) -> Vec<(String, String)> {
    query.split('&').filter(|pair| !pair.is_empty()).filter_map(|pair| pair.split_once('=')).map(|(k, v)| (k.to_owned(), decode(v))).collect()
}

fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        match bytes[idx] {
            b'%' if idx + 2 < bytes.len() => match u8::from_str_radix(std::str::from_utf8(&bytes[idx + 1..idx + 3]).unwrap_or("zz"), 16) {
                Ok(byte) => {
                    out.push(byte);
                    idx += 3;
                }
                Err(_) => {
                    out.push(b'%');
                    idx += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                idx += 1;
            }
            other => {
                out.push(other);
                idx += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A bar chart as inline SVG (no script): a title and a description for
/// screen readers, each bar titled with its value, a legend, and the same
/// numbers as a table.
pub fn bar_chart(chart: &BarChart, id: &str) -> Markup {
    let layout = chart::layout(chart);
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    html! {
        figure.chart #(id) {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (layout.width) " " (layout.height)} width=(layout.width) height=(layout.height)
                role="img" aria-labelledby={(title_id) " " (desc_id)} {
                title #(title_id) { (chart.title) }
                desc #(desc_id) { (chart.description) }
                g.axis {
                    @for tick in &layout.y_ticks {
                        line.grid x1=(layout.plot_left) x2=(layout.plot_right) y1=(tick.at) y2=(tick.at) {}
                        text x=(layout.plot_left - 6) y=(tick.at + 4) text-anchor="end" { (tick.label) }
                    }
                    @for label in &layout.x_labels {
                        text x=(label.at) y=(layout.height - 24) text-anchor="middle" { (label.label) }
                    }
                    line.zero x1=(layout.plot_left) x2=(layout.plot_right) y1=(layout.zero_y) y2=(layout.zero_y) {}
                }
                g.bars {
                    @for bar in &layout.bars {
                        rect class={"s" (bar.series)} x=(bar.x) y=(bar.y) width=(bar.width) height=(bar.height) {
                            title { (chart.categories[bar.category]) ", " (chart.series[bar.series]) ": " (chart.unit.format(bar.value)) }
                        }
                    }
                }
            }
            figcaption {
                (chart.title)
                @if chart.series.len() > 1 {
                    ul.legend {
                        @for (idx, name) in chart.series.iter().enumerate() {
                            li { span class={"swatch s" (idx)} aria-hidden="true" {} (name) }
                        }
                    }
                }
            }
            details {
                summary { "The chart's numbers as a table" }
                table {
                    caption { (chart.title) }
                    thead { tr { th scope="col" { "" } @for name in &chart.series { th scope="col" { (name) } } } }
                    tbody {
                        @for (category, row) in chart.categories.iter().zip(&chart.values) {
                            tr { th scope="row" { (category) } @for value in row { td.num { (chart.unit.format(*value)) } } }
                        }
                        @if chart.categories.is_empty() {
                            tr { td colspan=(chart.series.len() + 1) { "Nothing to show." } }
                        }
                    }
                }
            }
        }
    }
}

/// The import map as a `<script>`, its text exactly [`IMPORT_MAP`] (the CSP allows it by hash).
pub fn import_map() -> Markup {
    html! { script type="importmap" { (PreEscaped(IMPORT_MAP)) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_round_trip_through_encoding() {
        for value in ["plain", "a b&c=d", "é%+", ""] {
            assert_eq!(decode(&encode(value)), value);
        }
        assert_eq!(decode_pairs("payer_id=60054&filter=a%20b"), [("payer_id".to_owned(), "60054".to_owned()), ("filter".to_owned(), "a b".to_owned())]);
    }

    #[test]
    fn a_chart_is_svg_with_a_title_a_description_and_a_table_of_its_numbers() {
        let chart = BarChart {
            title: "Paid per run".into(),
            description: "Paid <by> run".into(),
            unit: chart::Unit::Cents,
            categories: vec!["2026-12-07 r1".into()],
            series: vec!["paid".into()],
            values: vec![vec![11_880]],
        };
        let html = bar_chart(&chart, "runs-chart").into_string();
        assert!(html.contains("role=\"img\" aria-labelledby=\"runs-chart-title runs-chart-desc\""));
        assert!(html.contains("<title id=\"runs-chart-title\">Paid per run</title>"));
        assert!(html.contains("<desc id=\"runs-chart-desc\">Paid &lt;by&gt; run</desc>"));
        assert!(html.contains("<title>2026-12-07 r1, paid: 118.80</title>"));
        assert!(html.contains("<td class=\"num\">118.80</td>"));
        assert!(!html.contains("<script"));
    }

    #[test]
    fn a_value_with_markup_is_escaped() {
        let page = crate::domain::table::Table::new(vec!["name"], vec![vec!["<script>alert(1)</script>".into()]]).page(1, 10);
        let html = table(&page, "Things", "/ui/x", "", "\"><b>").into_string();
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("\"><b>"));
    }
}
