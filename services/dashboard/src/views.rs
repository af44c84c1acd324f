//! The pages' HTML, as maud templates checked at compile time. Every value is
//! escaped by maud; no page embeds a script other than the import map.

use maud::{DOCTYPE, Markup, PreEscaped, html};

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
                @for row in &page.rows {
                    tr { @for cell in row { td { (cell) } } }
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
    fn a_value_with_markup_is_escaped() {
        let page = crate::domain::table::Table::new(vec!["name"], vec![vec!["<script>alert(1)</script>".into()]]).page(1, 10);
        let html = table(&page, "Things", "/ui/x", "", "\"><b>").into_string();
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("\"><b>"));
    }
}
