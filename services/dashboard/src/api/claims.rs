//! Claims pages over intake's `GET /v1/claims` (every read in its access
//! log): the claims list, a page at a time by intake's
//! keyset cursor (`after`, the last claim id of the previous page), so that a
//! page costs the same on the 100,000th claim as on the first; and claims per
//! day by outcome as a chart. Each claim drills down to its explanation.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use claimtrail_events::ClaimStatus;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

use super::{DashboardState, bad_request, csv_response, show, signed_in, upstream_page};
use crate::domain::claims::{ListedClaim, per_day_by_outcome};
use crate::domain::page::Page;
use crate::domain::session::Session;
use crate::domain::table::Table;
use crate::upstream::{Service, UpstreamError, cell};
use crate::views::{self, encode};

/// Claims on one page.
pub const CLAIMS_PAGE_ROWS: u64 = 50;
/// Claims one API call returns at most (intake's `LIST_PAGE_MAX`).
pub const API_PAGE_ROWS: u64 = 500;
/// Claims a CSV export holds at most (from the page shown onwards).
pub const CSV_CLAIMS_MAX: usize = 5_000;
/// Days the claims chart covers, up to today.
pub const CHART_DAYS: i64 = 14;
/// Claims the chart counts at most (the oldest first within its days).
pub const CHART_CLAIMS_MAX: usize = 5_000;

/// The statuses a claim can have (intake's).
const STATUSES: [&str; ClaimStatus::ALL.len()] = ClaimStatus::ALL_NAMES;

#[derive(Deserialize, Default)]
pub struct ClaimsQuery {
    status: Option<String>,
    /// The last claim id of the previous page.
    after: Option<String>,
    /// The page's number, for the reader only (the cursor is `after`).
    n: Option<u64>,
    format: Option<String>,
}

const HEADERS: [&str; 6] = ["Claim", "Received at", "Status", "Outcome", "Charge", "Paid"];

fn row(claim: &Value) -> Vec<String> {
    ["claim_id", "received_at", "status", "outcome", "total_charge", "total_paid"].iter().map(|field| cell(&claim[*field])).collect()
}

/// A page of intake's list: the claims and the next cursor.
async fn list_page(state: &DashboardState, session: &Session, query: &[(&str, String)]) -> Result<(Vec<Value>, Option<String>), UpstreamError> {
    let answer = state.upstream.json(Service::Intake, &session.api_key, "/v1/claims", query).await?;
    let claims = answer["claims"].as_array().cloned().unwrap_or_default();
    let next = answer["next"].as_str().map(str::to_owned);
    Ok((claims, next))
}

/// Follows the cursor from `after` until `max` claims or the last page.
async fn list_all(
    state: &DashboardState,
    session: &Session,
    base: &[(&str, String)],
    mut after: Option<String>,
    max: usize,
) -> Result<(Vec<Value>, bool), UpstreamError> {
    let mut claims = Vec::new();
    loop {
        let mut query = base.to_vec();
        query.push(("limit", API_PAGE_ROWS.min((max - claims.len()) as u64).to_string()));
        if let Some(after) = &after {
            query.push(("after", after.clone()));
        }
        let (page, next) = list_page(state, session, &query).await?;
        claims.extend(page);
        match next {
            Some(next) if claims.len() < max => after = Some(next),
            Some(_) => return Ok((claims, true)),
            None => return Ok((claims, false)),
        }
    }
}

fn checked_status(text: Option<&str>) -> Result<Option<&str>, String> {
    match text.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(status) if STATUSES.contains(&status) => Ok(Some(status)),
        Some(other) => Err(format!("`{other}` is not a claim status ({})", STATUSES.join(", "))),
    }
}

fn checked_cursor(text: Option<&str>) -> Result<Option<&str>, String> {
    match text.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(cursor) if cursor.len() == 36 && cursor.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') => Ok(Some(cursor)),
        Some(other) => Err(format!("`{other}` is not a page cursor (a claim id)")),
    }
}

/// `GET /ui/claims?status=&after=`: a page of the claims the key lists.
pub(crate) async fn claims(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<ClaimsQuery>) -> Response {
    let current = Page::Claims;
    let session = match signed_in(&state, &headers, Some(current)).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let checked = checked_status(query.status.as_deref()).and_then(|status| Ok((status, checked_cursor(query.after.as_deref())?)));
    let (status, after) = match checked {
        Ok(checked) => checked,
        Err(detail) => return bad_request(&session, current, &detail),
    };
    let base: Vec<(&str, String)> = status.map(|status| vec![("status", status.to_owned())]).unwrap_or_default();
    if query.format.as_deref() == Some("csv") {
        return match list_all(&state, &session, &base, after.map(str::to_owned), CSV_CLAIMS_MAX).await {
            Ok((claims, _)) => csv_response("claims.csv", Table::new(HEADERS.to_vec(), claims.iter().map(row).collect())),
            Err(e) => upstream_page(&session, current, e),
        };
    }
    let mut api_query = base.clone();
    api_query.push(("limit", CLAIMS_PAGE_ROWS.to_string()));
    if let Some(after) = after {
        api_query.push(("after", after.to_owned()));
    }
    let (claims, next) = match list_page(&state, &session, &api_query).await {
        Ok(page) => page,
        Err(e) => return upstream_page(&session, current, e),
    };
    let number = query.n.unwrap_or(1).max(1);
    let path = current.path();
    let status_query = status.map(|status| format!("status={}&", encode(status))).unwrap_or_default();
    let after_query = after.map(|after| format!("after={}&", encode(after))).unwrap_or_default();
    let body = html! {
        form.inline method="get" action=(path) {
                div {
                    label for="claim-status" { "Status" }
                    select #claim-status name="status" {
                        option value="" selected[status.is_none()] { "Any" }
                        @for s in STATUSES { option value=(s) selected[status == Some(s)] { (s) } }
                    }
                }
                button type="submit" { "Show claims" }
            }
        p { a href="/ui/claims/per-day" { "Claims per day by outcome (chart)" } }
        p.note { "The claims this key lists: its own submissions, and for auditor and admin keys every claim of their payers." }
        p { a href={(path) "?" (status_query) (after_query) "format=csv"} download { "Download CSV (this page onwards, at most " (CSV_CLAIMS_MAX) " claims)" } }
        (claims_table(&claims, current))
        nav.pager aria-label="Claims pages" {
            @if after.is_some() { a href={(path) "?" (status_query)} { "First page" } }
            span { "Page " (number) }
            @if let Some(next) = &next {
                a href={(path) "?" (status_query) "after=" (encode(next)) "&n=" (number + 1)} { "Next page" }
            }
        }
    };
    show(&session, current, body)
}

fn claims_table(claims: &[Value], current: Page) -> Markup {
    html! {
        table #claims {
            caption { (current.title()) }
            thead { tr { @for header in HEADERS { th scope="col" { (header) } } } }
            tbody {
                @for claim in claims {
                    @let cells = row(claim);
                    tr {
                        td.mono { a href={"/ui/claims/explanation?claim_id=" (encode(&cells[0]))} { (cells[0]) } }
                        td { (cells[1]) } td { (cells[2]) } td { (cells[3]) } td.num { (cells[4]) } td.num { (cells[5]) }
                    }
                }
                @if claims.is_empty() { tr { td colspan=(HEADERS.len()) { "No claims." } } }
            }
        }
    }
}

/// `GET /ui/claims/per-day`: claims received per day by outcome over the last [`CHART_DAYS`] days.
pub(crate) async fn per_day(State(state): State<DashboardState>, headers: HeaderMap) -> Response {
    let current = Page::Claims;
    let session = match signed_in(&state, &headers, Some(current)).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let today = (state.clock)().date().midnight().assume_utc();
    let since = today - time::Duration::days(CHART_DAYS - 1);
    let Ok(since_text) = since.format(&Rfc3339) else { return bad_request(&session, current, "the chart's start does not format") };
    let (claims, truncated) = match list_all(&state, &session, &[("since", since_text.clone())], None, CHART_CLAIMS_MAX).await {
        Ok(listed) => listed,
        Err(e) => return upstream_page(&session, current, e),
    };
    let listed: Vec<ListedClaim> = claims
        .iter()
        .map(|claim| ListedClaim {
            received_at: cell(&claim["received_at"]),
            status: cell(&claim["status"]),
            outcome: claim["outcome"].as_str().map(str::to_owned),
        })
        .collect();
    let chart = per_day_by_outcome(
        &listed,
        &format!("Claims received per day by outcome, since {}", &since_text[..10]),
        &format!(
            "Stacked bars, one per day of receipt since {}, counting {} claims this key lists by outcome: paid, partially paid, denied, pended, other.",
            &since_text[..10],
            listed.len()
        ),
    );
    let body = html! {
        p { a href="/ui/claims" { "Back to the claims" } }
        @if truncated {
            p.message role="status" { "More than " (CHART_CLAIMS_MAX) " claims were received in these days; the chart counts the first " (CHART_CLAIMS_MAX) "." }
        }
        (views::bar_chart(&chart, "claims-per-day"))
    };
    show(&session, current, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_cursors_are_checked_before_they_reach_the_api() {
        assert_eq!(checked_status(Some("pended")), Ok(Some("pended")));
        assert_eq!(checked_status(Some("")), Ok(None));
        assert!(checked_status(Some("paid&limit=1")).unwrap_err().contains("is not a claim status"));
        assert_eq!(checked_cursor(Some("0193a0c4-1b2c-7d3e-8f40-123456789abc")), Ok(Some("0193a0c4-1b2c-7d3e-8f40-123456789abc")));
        assert!(checked_cursor(Some("1 OR 1=1")).is_err());
    }
}
