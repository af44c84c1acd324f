//! Fraud alerts over the fraud service's API, with the signed-in key (its
//! payer scope applies: a key sees its payers' alerts, another payer's
//! claims only as a ledger index and the pattern): `GET /ui/fraud-alerts`
//! lists `GET /v1/fraud/alerts` by status and pattern, each alert's claims
//! leading to their explanation; the payer's keys and admin keys acknowledge
//! (`POST /ui/fraud-alerts/acknowledge`) and close with an outcome and a
//! reason (`POST /ui/fraud-alerts/close`); auditors read.

use axum::extract::{Form, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};

use super::finance::checked_uuid;
use super::{DashboardState, acting, bad_request, csv_response, show, signed_in, upstream_page};
use crate::domain::fraud::{self, REASON_CHARS_MAX, STATUSES};
use crate::domain::page::Page;
use crate::domain::session::Session;
use crate::domain::table::Table;
use crate::domain::viewer::Role;
use crate::upstream::{Service, cell};
use crate::views::encode;

const HEADERS: [&str; 11] = ["Alert", "Status", "Pattern", "Score (‰)", "Payer", "Provider NPI", "Date", "Claims", "Reason", "Evidence", "Closed with"];

/// The alert's evidence in words: its own claims with proofs, and other payers' entries (index only).
fn evidence(alert: &Value) -> String {
    let items = alert["evidence"].as_array().cloned().unwrap_or_default();
    let other: Vec<String> = items.iter().filter(|item| item["other_payer"] == true).map(|item| cell(&item["ledger_index"])).collect();
    let proved = items.iter().filter(|item| item["inclusion_proof"].is_array()).count();
    let mut words = format!("{} ledger entries, {proved} with an inclusion proof", items.len());
    if !other.is_empty() {
        words.push_str(&format!("; another payer's claims at ledger index {}", other.join(", ")));
    }
    words
}

fn claim_ids(alert: &Value) -> Vec<String> {
    alert["claim_ids"].as_array().into_iter().flatten().map(cell).collect()
}

fn row(alert: &Value) -> Vec<String> {
    vec![
        cell(&alert["alert_id"]),
        cell(&alert["status"]),
        cell(&alert["pattern"]),
        cell(&alert["score_permille"]),
        cell(&alert["payer_id"]),
        cell(&alert["npi"]),
        cell(&alert["date"]),
        claim_ids(alert).join(" "),
        cell(&alert["reason"]),
        evidence(alert),
        cell(&alert["closed_reason"]),
    ]
}

/// Whether the key acts on alerts (the fraud service decides per alert).
fn investigates(session: &Session) -> bool {
    matches!(session.viewer.role, Role::Payer | Role::Admin)
}

#[derive(Deserialize)]
pub struct AlertsQuery {
    status: Option<String>,
    pattern: Option<String>,
    done: Option<String>,
    format: Option<String>,
}

fn done_message(done: Option<&str>) -> Option<String> {
    let (what, alert) = super::done_id(done)?;
    Some(match what {
        "acknowledged" => format!("Alert {alert} is acknowledged."),
        "confirmed" => format!("Alert {alert} is closed as confirmed."),
        "false_positive" => format!("Alert {alert} is closed as a false positive."),
        _ => return None,
    })
}

/// `GET /ui/fraud-alerts?status=&pattern=`: the alerts of the key's payers, newest first.
pub(crate) async fn alerts(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<AlertsQuery>) -> Response {
    let current = Page::FraudAlerts;
    let session = match signed_in(&state, &headers, Some(current)).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let checked = fraud::status_filter(query.status.as_deref()).and_then(|status| Ok((status, fraud::pattern_filter(query.pattern.as_deref())?)));
    let (status, pattern) = match checked {
        Ok(checked) => checked,
        Err(detail) => return bad_request(&session, current, &detail),
    };
    let mut params = Vec::new();
    params.extend(status.map(|status| ("status", status.to_owned())));
    params.extend(pattern.map(|pattern| ("pattern", pattern.to_owned())));
    let answer = match state.upstream.json(Service::Fraud, &session.api_key, "/v1/fraud/alerts", &params).await {
        Ok(answer) => answer,
        Err(e) => return upstream_page(&session, current, e),
    };
    let alerts = answer["alerts"].as_array().cloned().unwrap_or_default();
    if query.format.as_deref() == Some("csv") {
        return csv_response("fraud-alerts.csv", Table::new(HEADERS.to_vec(), alerts.iter().map(row).collect()));
    }
    let filter_query: String = params.iter().map(|(name, value)| format!("{name}={}&", encode(value))).collect();
    let message = done_message(query.done.as_deref());
    let acts = investigates(&session);
    let body = html! {
        form.inline method="get" action=(current.path()) role="search" {
            div {
                label for="alert-status" { "Status" }
                select #alert-status name="status" {
                    option value="" selected[status.is_none()] { "Any" }
                    @for s in STATUSES { option value=(s) selected[status == Some(s)] { (s.replace('_', " ")) } }
                }
            }
            div {
                label for="alert-pattern" { "Pattern" }
                input #alert-pattern type="text" name="pattern" value=(pattern.unwrap_or_default()) placeholder="e.g. exact_duplicate";
            }
            button type="submit" { "Show alerts" }
        }
        @if let Some(message) = &message { p.done role="status" { (message) } }
        p.note {
            "Alerts of the payers this key reads, newest first (at most 500). Another payer's claim in an alert is shown as its ledger index only. "
            @if acts { "Acknowledge an alert when you take it up; close it as confirmed or a false positive, with a reason." }
            @else { "The payer's own keys and admin keys acknowledge and close them." }
        }
        p { a href={(current.path()) "?" (filter_query) "format=csv"} download { "Download CSV (" (alerts.len()) " rows)" } }
        table #alerts {
            caption { "Fraud alerts" }
            thead { tr { @for header in HEADERS { th scope="col" { (header) } } @if acts { th scope="col" { "Act" } } } }
            tbody {
                @for alert in &alerts {
                    @let cells = row(alert);
                    @let open = matches!(cells[1].as_str(), "open" | "acknowledged");
                    tr {
                        td.mono { (cells[0]) } td { (cells[1].replace('_', " ")) } td { (cells[2]) } td.num { (cells[3]) } td { (cells[4]) } td { (cells[5]) } td { (cells[6]) }
                        td.mono {
                            @for id in claim_ids(alert) { a href={"/ui/claims/explanation?claim_id=" (encode(&id))} { (id) } " " }
                        }
                        td { (cells[8]) } td { (cells[9]) } td { (cells[10]) }
                        @if acts {
                            td {
                                @if cells[1] == "open" {
                                    form.row.acknowledge method="post" action="/ui/fraud-alerts/acknowledge" {
                                        input type="hidden" name="csrf_token" value=(session.csrf_token);
                                        input type="hidden" name="alert_id" value=(cells[0]);
                                        button type="submit" aria-label={"Acknowledge alert " (cells[0])} { "Acknowledge" }
                                    }
                                }
                                @if open {
                                    form.row.close method="post" action="/ui/fraud-alerts/close" {
                                        input type="hidden" name="csrf_token" value=(session.csrf_token);
                                        input type="hidden" name="alert_id" value=(cells[0]);
                                        label.visually-hidden for={"outcome-" (cells[0])} { "Outcome of alert " (cells[0]) }
                                        select id={"outcome-" (cells[0])} name="outcome" {
                                            option value="confirmed" { "confirmed" }
                                            option value="false_positive" { "false positive" }
                                        }
                                        label.visually-hidden for={"close-reason-" (cells[0])} { "Reason for closing alert " (cells[0]) }
                                        input id={"close-reason-" (cells[0])} type="text" name="reason" placeholder="Reason" maxlength=(REASON_CHARS_MAX) required;
                                        button type="submit" aria-label={"Close alert " (cells[0])} { "Close" }
                                    }
                                }
                            }
                        }
                    }
                }
                @if alerts.is_empty() { tr { td colspan=(HEADERS.len() + usize::from(acts)) { "No alerts." } } }
            }
        }
    };
    show(&session, current, body)
}

#[derive(Deserialize)]
pub struct AlertForm {
    csrf_token: Option<String>,
    alert_id: Option<String>,
    outcome: Option<String>,
    reason: Option<String>,
}

/// The alert an action is on, and the session acting, or the page to answer with.
async fn acting_on(state: &DashboardState, headers: &HeaderMap, form: &AlertForm) -> Result<(Session, String), Box<Response>> {
    let current = Page::FraudAlerts;
    let session = acting(state, headers, current, form.csrf_token.as_deref()).await?;
    match checked_uuid("alert", form.alert_id.as_deref().unwrap_or_default()) {
        Ok(alert_id) => {
            let alert_id = alert_id.to_owned();
            Ok((session, alert_id))
        }
        Err(detail) => Err(Box::new(bad_request(&session, current, &detail))),
    }
}

/// `POST /ui/fraud-alerts/acknowledge`: the fraud service records who took the alert up.
pub(crate) async fn acknowledge(State(state): State<DashboardState>, headers: HeaderMap, Form(form): Form<AlertForm>) -> Response {
    let (session, alert_id) = match acting_on(&state, &headers, &form).await {
        Ok(acting) => acting,
        Err(response) => return *response,
    };
    let path = format!("/v1/fraud/alerts/{alert_id}/acknowledge");
    match state.upstream.post_json(Service::Fraud, &session.api_key, &path, &json!({}), &[]).await {
        Ok(_) => Redirect::to(&format!("{}?done=acknowledged:{alert_id}", Page::FraudAlerts.path())).into_response(),
        Err(e) => upstream_page(&session, Page::FraudAlerts, e),
    }
}

/// `POST /ui/fraud-alerts/close`: closes the alert with its outcome and a reason.
pub(crate) async fn close(State(state): State<DashboardState>, headers: HeaderMap, Form(form): Form<AlertForm>) -> Response {
    let (session, alert_id) = match acting_on(&state, &headers, &form).await {
        Ok(acting) => acting,
        Err(response) => return *response,
    };
    let (outcome, reason) = match fraud::closing(form.outcome.as_deref().unwrap_or_default(), form.reason.as_deref().unwrap_or_default()) {
        Ok(closing) => closing,
        Err(faults) => return bad_request(&session, Page::FraudAlerts, &format!("The alert was not closed: {}.", faults.join("; "))),
    };
    let path = format!("/v1/fraud/alerts/{alert_id}/close");
    match state.upstream.post_json(Service::Fraud, &session.api_key, &path, &json!({ "outcome": outcome, "reason": reason }), &[]).await {
        Ok(_) => Redirect::to(&format!("{}?done={outcome}:{alert_id}", Page::FraudAlerts.path())).into_response(),
        Err(e) => upstream_page(&session, Page::FraudAlerts, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_names_another_payers_claims_by_ledger_index_only() {
        let alert = json!({"evidence": [
            {"claim_id": "a", "inclusion_proof": ["x"], "ledger_index": 4, "other_payer": false, "pattern": "p", "tree_size": 9},
            {"ledger_index": 7, "other_payer": true, "pattern": "p"},
        ]});
        assert_eq!(evidence(&alert), "2 ledger entries, 1 with an inclusion proof; another payer's claims at ledger index 7");
    }

    #[test]
    fn only_known_actions_are_said_back() {
        assert_eq!(done_message(Some("false_positive:0193a0c4-1b2c")).unwrap(), "Alert 0193a0c4-1b2c is closed as a false positive.");
        assert_eq!(done_message(Some("deleted:1")), None);
    }
}
