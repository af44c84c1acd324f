//! The pended queue over adjudication's API, for the payer a key works:
//! `GET /ui/pended?payer_id=` lists adjudication's `GET
//! /v1/payers/{payer_id}/pended` (highest charge first, then oldest; the
//! payer's own pended claims, whoever submitted them), with the claims
//! counted by reason as a chart; `GET /ui/pended/review` shows one claim's
//! lines and the review form; `POST /ui/pended/review` sends the review to
//! `POST /v1/claims/{id}/review` (approve, adjust or deny, with a reason)
//! and waits briefly for adjudication to decide it, so the claim has left
//! the queue when the queue shows again. `GET /ui/auto-adjudication` charts
//! adjudication's auto-adjudication rate per day received. The API's scope applies: another
//! payer's queue or claim answers 403 or 404, whatever the URL says.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    DashboardState, TableQuery, acting, bad_request, checked_payer_id, claim_id, frame, page, payer_choice, show, signed_in, table_or_csv, upstream_page,
};
use crate::domain::claims::{RateDay, auto_rate_chart, percent};
use crate::domain::page::Page;
use crate::domain::review::{self, REASON_CHARS_MAX, ReviewForm};
use crate::domain::session::Session;
use crate::domain::table::Table;
use crate::domain::viewer::Role;
use crate::upstream::{Service, cell};
use crate::views::{self, encode};

/// How long a review waits for adjudication's decision before showing the queue.
pub const DECISION_WAIT: Duration = Duration::from_secs(5);
const DECISION_POLL: Duration = Duration::from_millis(100);

const HEADERS: [&str; 8] = ["Priority", "Claim", "Reason", "Step", "Detail", "Charge", "Pended on", "Age (days)"];

fn row(claim: &Value) -> Vec<String> {
    ["priority", "claim_id", "reason", "step", "detail", "total_charge", "pended_on", "age"].iter().map(|field| cell(&claim[*field])).collect()
}

/// Whether the key reviews (the payer's own keys and admin keys; the API decides per claim).
fn reviews(session: &Session) -> bool {
    matches!(session.viewer.role, Role::Payer | Role::Admin)
}

fn review_path(payer_id: &str, claim_id: &str) -> String {
    format!("/ui/pended/review?payer_id={}&claim_id={}", encode(payer_id), encode(claim_id))
}

#[derive(Deserialize)]
pub struct QueueQuery {
    payer_id: Option<String>,
    /// What the last review did (`approved:<claim id>`), said back on the page.
    done: Option<String>,
    #[serde(flatten)]
    table: TableQuery,
}

fn done_message(done: Option<&str>) -> Option<String> {
    let (what, claim) = super::done_id(done)?;
    Some(match what {
        "approved" | "adjusted" | "denied" => format!("Claim {claim} is {what} and has left the queue."),
        "recorded" => format!("The review of claim {claim} is recorded; adjudication decides it in a moment, then it leaves the queue."),
        _ => return None,
    })
}

/// `GET /ui/pended?payer_id=`: the payer's pended claims, by reason as a chart, each leading to its review.
pub(crate) async fn queue(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<QueueQuery>) -> Response {
    let current = Page::PendedQueue;
    let session = match signed_in(&state, &headers, Some(current)).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let (payer_form, payer_id) = payer_choice(&session, query.payer_id.as_deref(), current.path(), "Show the queue");
    let Some(payer_id) = payer_id else { return show(&session, current, payer_form) };
    if let Err(detail) = checked_payer_id(&payer_id) {
        return bad_request(&session, current, &detail);
    }
    let answer = match state.upstream.json(Service::Adjudication, &session.api_key, &format!("/v1/payers/{payer_id}/pended"), &[]).await {
        Ok(answer) => answer,
        Err(e) => return upstream_page(&session, current, e),
    };
    let claims = answer["claims"].as_array().cloned().unwrap_or_default();
    let reviewer = reviews(&session);
    let links = claims
        .iter()
        .map(|claim| {
            let id = cell(&claim["claim_id"]);
            Some(if reviewer { review_path(&payer_id, &id) } else { format!("/ui/claims/explanation?claim_id={}", encode(&id)) })
        })
        .collect();
    let table = Table::new(HEADERS.to_vec(), claims.iter().map(row).collect()).linked(1, links);
    let chart = review::by_reason(
        claims.iter().map(|claim| claim["reason"].as_str().unwrap_or_default()),
        &format!("Pended claims of payer {payer_id} by reason"),
        &format!("One bar per reason a claim was pended for, counting the {} claims in payer {payer_id}'s queue.", claims.len()),
    );
    let message = done_message(query.done.as_deref());
    let count = cell(&answer["count"]);
    let render = |table_markup: Markup| {
        let body = html! {
            (payer_form)
            @if let Some(message) = &message { p.done role="status" { (message) } }
            p.note {
                (count) " claims of payer " (payer_id) " are pended for review, highest charge first, then the oldest. "
                @if reviewer { "Open a claim to approve, adjust or deny it with a reason." }
                @else { "Open a claim for the step where it pended and why; the payer's own keys review them." }
            }
            (views::bar_chart(&chart, "pended-by-reason"))
            (table_markup)
        };
        show(&session, current, body)
    };
    table_or_csv(&query.table, "pended-claims.csv", table, render, "Pended claims", current.path(), &format!("payer_id={}", encode(&payer_id)))
}

#[derive(Deserialize)]
pub struct ReviewQuery {
    payer_id: Option<String>,
    claim_id: Option<String>,
}

fn not_a_reviewer(session: &Session) -> Response {
    let detail = format!("A {} key reads the pended queue; the payer's own keys and admin keys review its claims.", session.viewer.role.label());
    page(StatusCode::FORBIDDEN, views::problem(Some(&frame(session, Some(Page::PendedQueue))), "Not allowed", &detail))
}

/// `GET /ui/pended/review?payer_id=&claim_id=`: the pended claim's lines and the review form.
pub(crate) async fn review_form(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<ReviewQuery>) -> Response {
    let current = Page::PendedQueue;
    let session = match signed_in(&state, &headers, Some(current)).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    if !reviews(&session) {
        return not_a_reviewer(&session);
    }
    let checked = checked_payer_id(query.payer_id.as_deref().unwrap_or_default())
        .and_then(|payer_id| Ok((payer_id, claim_id(query.claim_id.as_deref().unwrap_or_default())?)));
    let (payer_id, id) = match checked {
        Ok(checked) => checked,
        Err(detail) => return bad_request(&session, current, &detail),
    };
    // The queue (not intake's claim) holds the lines: a payer key reads its payer's queue, not the claims others submitted.
    let answer = match state.upstream.json(Service::Adjudication, &session.api_key, &format!("/v1/payers/{payer_id}/pended"), &[]).await {
        Ok(answer) => answer,
        Err(e) => return upstream_page(&session, current, e),
    };
    let queue_link = html! { p { a href={(current.path()) "?payer_id=" (encode(payer_id))} { "Back to the pended queue" } } };
    let Some(claim) = answer["claims"].as_array().into_iter().flatten().find(|claim| claim["claim_id"] == id) else {
        let body = html! {
            p.message role="alert" { "Claim " (id) " is not in payer " (payer_id) "'s pended queue: it was decided already, or it is not one of this payer's claims." }
            (queue_link)
        };
        return page(StatusCode::NOT_FOUND, views::layout("Review a pended claim", Some(&frame(&session, Some(current))), html! {}, body));
    };
    let lines = claim["lines"].as_array().cloned().unwrap_or_default();
    let body = html! {
        (queue_link)
        dl.facts {
            dt { "Claim" } dd.mono { a href={"/ui/claims/explanation?claim_id=" (encode(id))} { (id) } }
            dt { "Payer" } dd { (payer_id) }
            dt { "Pended for" } dd { (cell(&claim["reason"])) " at " (cell(&claim["step"])) }
            dt { "Detail" } dd { (cell(&claim["detail"])) }
            dt { "Total charge" } dd { (cell(&claim["total_charge"])) }
            dt { "Pended on" } dd { (cell(&claim["pended_on"])) " (" (cell(&claim["age"])) " days ago)" }
        }
        form #review method="post" action="/ui/pended/review" {
            input type="hidden" name="csrf_token" value=(session.csrf_token);
            input type="hidden" name="payer_id" value=(payer_id);
            input type="hidden" name="claim_id" value=(id);
            fieldset {
                legend { "Decision" }
                div { input #action-approve type="radio" name="action" value="approve" checked; label for="action-approve" { "Approve: each line its charge, or the amount typed on it" } }
                div { input #action-adjust type="radio" name="action" value="adjust"; label for="action-adjust" { "Adjust: allow the amounts typed (at least one line)" } }
                div { input #action-deny type="radio" name="action" value="deny"; label for="action-deny" { "Deny with a CARC" } }
            }
            table #review-lines {
                caption { "The claim's lines" }
                thead { tr { th scope="col" { "Line" } th scope="col" { "Procedure" } th scope="col" { "Charge" } th scope="col" { "Amount allowed (approve, adjust)" } } }
                tbody {
                    @for line in &lines {
                        @let sequence = cell(&line["sequence"]);
                        tr {
                            td { (sequence) } td { (cell(&line["procedure_code"])) } td.num { (cell(&line["charge"])) }
                            td {
                                label.visually-hidden for={"allowed-" (sequence)} { "Amount allowed on line " (sequence) }
                                input id={"allowed-" (sequence)} type="text" name={"allowed_" (sequence)} inputmode="decimal" placeholder=(cell(&line["charge"]));
                            }
                        }
                    }
                    @if lines.is_empty() { tr { td colspan="4" { "The queue lists no lines for this claim." } } }
                }
            }
            div {
                label for="review-carc" { "CARC (a denial's, e.g. 50)" }
                input #review-carc type="text" name="carc" maxlength="3" autocomplete="off";
            }
            div {
                label for="review-reason" { "Reason (required)" }
                input #review-reason type="text" name="reason" maxlength=(REASON_CHARS_MAX) required;
            }
            p { button type="submit" { "Record the review" } }
        }
    };
    page(StatusCode::OK, views::layout("Review a pended claim", Some(&frame(&session, Some(current))), html! {}, body))
}

/// `POST /ui/pended/review`: the review to adjudication; back to the queue once the claim is decided.
pub(crate) async fn record_review(State(state): State<DashboardState>, headers: HeaderMap, Form(form): Form<HashMap<String, String>>) -> Response {
    let current = Page::PendedQueue;
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let session = match acting(&state, &headers, current, form.get("csrf_token").map(String::as_str)).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    if !reviews(&session) {
        return not_a_reviewer(&session);
    }
    let checked = checked_payer_id(field("payer_id")).and_then(|payer_id| Ok((payer_id, claim_id(field("claim_id"))?)));
    let (payer_id, id) = match checked {
        Ok(checked) => checked,
        Err(detail) => return bad_request(&session, current, &detail),
    };
    let mut allowed: Vec<(u32, String)> = form.iter().filter_map(|(name, value)| Some((name.strip_prefix("allowed_")?.parse().ok()?, value.clone()))).collect();
    allowed.sort();
    let typed = ReviewForm { action: field("action").to_owned(), reason: field("reason").to_owned(), carc: field("carc").to_owned(), allowed };
    let review = match review::read(&typed) {
        Ok(review) => review,
        Err(faults) => return bad_request(&session, current, &format!("The review was not sent: {}.", faults.join("; "))),
    };
    let lines: Vec<Value> = review.lines.iter().map(|(sequence, allowed)| json!({ "sequence": sequence, "allowed": allowed })).collect();
    let mut body = json!({ "action": review.action, "reason": review.reason, "lines": lines });
    if let Some(carc) = &review.carc {
        body["carc"] = json!(carc);
    }
    let key = &session.api_key;
    if let Err(e) = state.upstream.post_json(Service::Adjudication, key, &format!("/v1/claims/{id}/review"), &body, &[]).await {
        return upstream_page(&session, current, e);
    }
    // Adjudication decides on the review a moment later (on the bus); wait for it, within bounds.
    let started = tokio::time::Instant::now();
    let mut done = "recorded";
    while started.elapsed() < DECISION_WAIT {
        let decided = state.upstream.json(Service::Adjudication, key, &format!("/v1/claims/{id}/explanation"), &[]).await;
        if decided.is_ok_and(|answer| answer["status"] != "pended") {
            done = review.done();
            break;
        }
        tokio::time::sleep(DECISION_POLL).await;
    }
    Redirect::to(&format!("{}?payer_id={}&done={done}:{}", current.path(), encode(payer_id), encode(id))).into_response()
}

#[derive(Deserialize)]
pub struct RateQuery {
    payer_id: Option<String>,
    #[serde(flatten)]
    table: TableQuery,
}

/// Days the auto-adjudication chart covers.
pub const RATE_DAYS: u32 = 30;

/// `GET /ui/auto-adjudication?payer_id=`: the payer's auto-adjudication rate per day received, over [`RATE_DAYS`] days.
pub(crate) async fn auto_rate(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<RateQuery>) -> Response {
    let current = Page::AutoAdjudication;
    let session = match signed_in(&state, &headers, Some(current)).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let (payer_form, payer_id) = payer_choice(&session, query.payer_id.as_deref(), current.path(), "Show the rate");
    let Some(payer_id) = payer_id else { return show(&session, current, payer_form) };
    if let Err(detail) = checked_payer_id(&payer_id) {
        return bad_request(&session, current, &detail);
    }
    let path = format!("/v1/payers/{payer_id}/auto-adjudication");
    let answer = match state.upstream.json(Service::Adjudication, &session.api_key, &path, &[("days", RATE_DAYS.to_string())]).await {
        Ok(answer) => answer,
        Err(e) => return upstream_page(&session, current, e),
    };
    let count = |day: &Value, field: &str| day[field].as_i64().unwrap_or_default();
    let days: Vec<RateDay> = answer["days"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|day| RateDay {
            day: cell(&day["day"]),
            auto: count(day, "auto"),
            reviewed: count(day, "reviewed"),
            pended: count(day, "pended"),
            rate_permille: count(day, "rate_permille"),
        })
        .collect();
    let since = cell(&answer["since"]);
    let (auto, all) = days.iter().fold((0, 0), |(auto, all), day| (auto + day.auto, all + day.auto + day.reviewed + day.pended));
    let chart = auto_rate_chart(
        &days,
        &format!("Claims of payer {payer_id} per day received, by how they were decided"),
        &format!("Stacked bars, one per day of receipt since {since}: claims decided by the engine alone, by a reviewer after a pend, and still pended."),
    );
    let rows = days
        .iter()
        .map(|day| {
            let total = day.auto + day.reviewed + day.pended;
            vec![day.day.clone(), total.to_string(), day.auto.to_string(), day.reviewed.to_string(), day.pended.to_string(), percent(day.rate_permille)]
        })
        .collect();
    let table = Table::new(vec!["Day received", "Claims", "By the engine", "By a reviewer", "Still pended", "Auto-adjudication rate"], rows);
    let render = |table_markup: Markup| {
        let body = html! {
            (payer_form)
            dl.facts {
                dt { "Since" } dd { (since) }
                dt { "Claims" } dd { (all) }
                dt { "Decided by the engine alone" } dd { (auto) @if all > 0 { " (" (percent(auto * 1000 / all)) ")" } }
            }
            p.note { "A claim counts on the day it was received. Denials are decisions too: they count as decided by the engine." }
            (views::bar_chart(&chart, "auto-adjudication"))
            (table_markup)
        };
        show(&session, current, body)
    };
    table_or_csv(
        &query.table,
        "auto-adjudication.csv",
        table,
        render,
        "Auto-adjudication rate by day",
        current.path(),
        &format!("payer_id={}", encode(&payer_id)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_reviews_are_said_back_and_their_claim_id_is_cleaned() {
        let id = "0193a0c4-1b2c-7d3e-8f40-123456789abc";
        assert_eq!(done_message(Some(&format!("approved:{id}"))).unwrap(), format!("Claim {id} is approved and has left the queue."));
        assert!(done_message(Some("recorded:<b>x")).unwrap().starts_with("The review of claim b is recorded"));
        assert_eq!(done_message(Some("paid:1")), None);
        assert_eq!(done_message(None), None);
    }
}
