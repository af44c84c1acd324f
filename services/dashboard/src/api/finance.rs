//! Finance's pages over settlement's API, each call with the signed-in key
//! (so the API's scope checks and audit apply): payment runs (totals, paid
//! per run, a run's remittances, their 835s and the ACH file, a new run with
//! an Idempotency-Key), payment holds (place, release), and reconciliation
//! (a bank statement uploaded, its matched debits, returns and exceptions,
//! the exception queue with resolve). Every POST carries the session's CSRF token.

use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    DashboardState, PayerQuery, TableQuery, acting, bad_request, checked_payer_id, payer_choice, random_token, show, signed_in, table_or_csv, upstream_page,
};
use crate::domain::chart::{BarChart, CATEGORIES_MAX, Unit};
use crate::domain::exceptions;
use crate::domain::money::{format_cents, parse_cents};
use crate::domain::multipart;
use crate::domain::page::Page;
use crate::domain::runs::{self, Remittance, Run};
use crate::domain::session::Session;
use crate::domain::table::Table;
use crate::domain::viewer::Role;
use crate::upstream::{Service, UpstreamError, cell};
use crate::views::{self, encode};

/// The largest bank statement the upload takes.
pub const STATEMENT_BYTES_MAX: usize = 10 * 1024 * 1024;
/// The longest reason (hold, release, resolution) sent on.
pub const REASON_CHARS_MAX: usize = 1_000;

/// A UUID as the APIs write it (36 characters of hex and dashes).
pub(crate) fn checked_uuid<'a>(what: &str, text: &'a str) -> Result<&'a str, String> {
    let text = text.trim();
    let shape = text.len() == 36 && text.bytes().enumerate().all(|(idx, b)| if matches!(idx, 8 | 13 | 18 | 23) { b == b'-' } else { b.is_ascii_hexdigit() });
    if shape { Ok(text) } else { Err(format!("`{text}` is not a {what} id (a UUID)")) }
}

fn checked_npi(text: &str) -> Result<&str, String> {
    let text = text.trim();
    if text.len() == 10 && text.bytes().all(|b| b.is_ascii_digit()) { Ok(text) } else { Err(format!("`{text}` is not an NPI (10 digits)")) }
}

fn checked_reason(text: Option<&str>) -> Result<&str, String> {
    let text = text.unwrap_or_default().trim();
    if text.is_empty() || text.chars().count() > REASON_CHARS_MAX {
        return Err(format!("a reason is required (1 to {REASON_CHARS_MAX} characters)"));
    }
    Ok(text)
}

/// Whether the key may act on payments (the API decides; this only hides forms it would refuse).
fn acts_on_payments(session: &Session) -> bool {
    matches!(session.viewer.role, Role::Finance | Role::Admin)
}

/// A run of the API's answer as the domain totals it.
fn run_of(run: &Value) -> Result<Run, String> {
    let mut remittances = Vec::new();
    for remittance in run["remittances"].as_array().into_iter().flatten() {
        let amount_cents = parse_cents(&cell(&remittance["amount"])).map_err(|e| format!("settlement's answer: {e}"))?;
        remittances.push(Remittance { pay_to: cell(&remittance["pay_to"]), amount_cents, status: cell(&remittance["status"]) });
    }
    Ok(Run { run_id: cell(&run["run_id"]), payer_id: cell(&run["payer_id"]), run_date: cell(&run["run_date"]), remittances })
}

fn bad_answer(session: &Session, current: Page, detail: String) -> Response {
    upstream_page(session, current, UpstreamError::Unreachable { service: Service::Settlement, reason: detail })
}

fn totals_table(caption: &str, key: &str, rows: &[(String, runs::Total)]) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead { tr { th scope="col" { (key) } th scope="col" { "Remittances" } th scope="col" { "Paid" } } }
            tbody {
                @for (name, total) in rows { tr { td { (name) } td.num { (total.remittances) } td.num { (format_cents(total.amount_cents)) } } }
                @if rows.is_empty() { tr { td colspan="3" { "Nothing paid yet." } } }
            }
        }
    }
}

/// The start of a payer's page: the signed-in session, the payer form and
/// the payer chosen (checked), or the page to answer instead (sign-in, the
/// payer form alone, or 400).
async fn payer_page(
    state: &DashboardState,
    headers: &HeaderMap,
    current: Page,
    asked: Option<&str>,
    button: &str,
) -> Result<(Session, Markup, String), Response> {
    let session = signed_in(state, headers, Some(current)).await.map_err(|response| *response)?;
    let (payer_form, payer_id) = payer_choice(&session, asked, current.path(), button);
    let Some(payer_id) = payer_id else { return Err(show(&session, current, payer_form)) };
    if let Err(detail) = checked_payer_id(&payer_id) {
        return Err(bad_request(&session, current, &detail));
    }
    Ok((session, payer_form, payer_id))
}

/// A payer's page over the payer's payment runs: the session, the payer
/// form, the payer and settlement's `GET /v1/payment-runs` answer.
async fn payer_runs_page(
    state: &DashboardState,
    headers: &HeaderMap,
    current: Page,
    asked: Option<&str>,
    button: &str,
) -> Result<(Session, Markup, String, Value), Response> {
    let (session, payer_form, payer_id) = payer_page(state, headers, current, asked, button).await?;
    let answer = settlement_json(state, &session, current, "/v1/payment-runs", &[("payer_id", payer_id.clone())]).await?;
    Ok((session, payer_form, payer_id, answer))
}

/// The start of a page about one run or remittance: the signed-in session
/// and the id from the path (`what` names it when it is not a UUID: 400).
async fn id_page(state: &DashboardState, headers: &HeaderMap, current: Page, what: &str, id: &str) -> Result<(Session, String), Response> {
    let session = signed_in(state, headers, Some(current)).await.map_err(|response| *response)?;
    match checked_uuid(what, id) {
        Ok(id) => Ok((session, id.to_owned())),
        Err(detail) => Err(bad_request(&session, current, &detail)),
    }
}

/// Settlement's answer to a GET with the session's key, or the page that says why there is none.
async fn settlement_json(state: &DashboardState, session: &Session, current: Page, path: &str, query: &[(&str, String)]) -> Result<Value, Response> {
    state.upstream.json(Service::Settlement, &session.api_key, path, query).await.map_err(|e| upstream_page(session, current, e))
}

/// A payer's page with its table, or the table as CSV (`table_or_csv`, the payer kept in the table's links).
fn payer_table_or_csv(
    query: &TableQuery,
    file_name: &str,
    table: Table,
    render: impl FnOnce(Markup) -> Response,
    caption: &str,
    current: Page,
    payer_id: &str,
) -> Response {
    table_or_csv(query, file_name, table, render, caption, current.path(), &format!("payer_id={}", encode(payer_id)))
}

/// `GET /ui/payment-runs?payer_id=`: the payer's runs, totals by payer, provider and day, paid per run, and a new run.
pub(crate) async fn runs(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<PayerQuery>) -> Response {
    let current = Page::PaymentRuns;
    let (session, payer_form, payer_id, answer) = match payer_runs_page(&state, &headers, current, query.payer_id.as_deref(), "Show runs").await {
        Ok(page) => page,
        Err(response) => return response,
    };
    let listed = answer["runs"].as_array().cloned().unwrap_or_default();
    let mut domain_runs = Vec::with_capacity(listed.len());
    for run in &listed {
        match run_of(run) {
            Ok(run) => domain_runs.push(run),
            Err(detail) => return bad_answer(&session, current, detail),
        }
    }
    let totals = runs::totals(&domain_runs);
    let count = |run: &Value, status: &str| run["remittances"].as_array().into_iter().flatten().filter(|r| r["status"] == status).count().to_string();
    let rows = listed
        .iter()
        .zip(&domain_runs)
        .map(|(run, domain)| {
            vec![
                cell(&run["run_id"]),
                cell(&run["run_date"]),
                cell(&run["effective_date"]),
                run["remittances"].as_array().map(Vec::len).unwrap_or(0).to_string(),
                format_cents(domain.paid_cents()),
                count(run, "held"),
                count(run, "awaiting_prenote"),
            ]
        })
        .collect();
    let links = listed.iter().map(|run| Some(format!("/ui/payment-runs/{}", encode(&cell(&run["run_id"]))))).collect();
    let table = Table::new(vec!["Run", "Run date", "Effective date", "Remittances", "Paid (ACH)", "Held", "Awaiting prenote"], rows).linked(0, links);
    // Runs are listed newest first; the chart reads left to right, oldest first.
    let charted: Vec<&Run> = domain_runs.iter().take(CATEGORIES_MAX).rev().collect();
    let chart = BarChart {
        title: format!("Paid per payment run, payer {payer_id}"),
        description: format!(
            "Amount sent by ACH in each of the latest {} payment runs of payer {payer_id}, oldest first; held and prenote-waiting remittances pay nothing yet.",
            charted.len()
        ),
        unit: Unit::Cents,
        categories: charted.iter().map(|run| format!("{} {}", run.run_date, run.run_id.chars().take(8).collect::<String>())).collect(),
        series: vec!["paid".into()],
        values: charted.iter().map(|run| vec![run.paid_cents()]).collect(),
    };
    let idempotency_key = random_token();
    let render = |table_markup: Markup| {
        let body = html! {
            (payer_form)
            @if acts_on_payments(&session) {
                form.inline method="post" action=(current.path()) {
                    input type="hidden" name="csrf_token" value=(session.csrf_token);
                    input type="hidden" name="payer_id" value=(payer_id);
                    // One key per form shown: a second submit of the same form answers the same run.
                    input type="hidden" name="idempotency_key" value=(idempotency_key);
                    button type="submit" { "Start a payment run for payer " (payer_id) }
                }
            }
            dl.facts {
                dt { "Runs" } dd { (domain_runs.len()) }
                dt { "Paid by ACH, all runs" } dd { (format_cents(totals.paid.amount_cents)) " in " (totals.paid.remittances) " remittances" }
            }
            h2 { "Paid per run" }
            (views::bar_chart(&chart, "paid-per-run"))
            h2 { "Paid by day" }
            (views::bar_chart(&runs::paid_by_day(&totals.by_day, &payer_id), "paid-by-day"))
            h2 { "Runs" }
            (table_markup)
            h2 { "Totals" }
            section.actions {
                (totals_table("Paid by payer", "Payer", &totals.by_payer))
                (totals_table("Paid by run day", "Day", &totals.by_day))
                (totals_table("Paid by pay-to provider", "NPI", &totals.by_provider))
            }
        };
        show(&session, current, body)
    };
    payer_table_or_csv(&query.table, "payment-runs.csv", table, render, "Payment runs", current, &payer_id)
}

#[derive(Deserialize)]
pub struct RunForm {
    csrf_token: Option<String>,
    payer_id: Option<String>,
    idempotency_key: Option<String>,
}

/// `POST /ui/payment-runs`: a new run, then its page.
pub(crate) async fn create_run(State(state): State<DashboardState>, headers: HeaderMap, Form(form): Form<RunForm>) -> Response {
    let current = Page::PaymentRuns;
    let session = match acting(&state, &headers, current, form.csrf_token.as_deref()).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let payer_id = match checked_payer_id(form.payer_id.as_deref().unwrap_or_default()) {
        Ok(payer_id) => payer_id.to_owned(),
        Err(detail) => return bad_request(&session, current, &detail),
    };
    let idempotency_key = form.idempotency_key.filter(|key| !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic()));
    let Some(idempotency_key) = idempotency_key else { return bad_request(&session, current, "the form carried no Idempotency-Key; reload the page") };
    let body = json!({ "payer_id": payer_id });
    let headers = [("Idempotency-Key", idempotency_key)];
    match state.upstream.post_json(Service::Settlement, &session.api_key, "/v1/payment-runs", &body, &headers).await {
        Ok((_, run)) => match checked_uuid("run", &cell(&run["run_id"])) {
            Ok(run_id) => Redirect::to(&format!("/ui/payment-runs/{run_id}")).into_response(),
            Err(detail) => bad_answer(&session, current, detail),
        },
        Err(e) => upstream_page(&session, current, e),
    }
}

/// `GET /ui/payment-runs/{run_id}`: the run's remittances, each with its 835 and claims; the ACH file.
pub(crate) async fn run(State(state): State<DashboardState>, headers: HeaderMap, Path(run_id): Path<String>, Query(query): Query<TableQuery>) -> Response {
    let current = Page::PaymentRuns;
    let (session, run_id) = match id_page(&state, &headers, current, "run", &run_id).await {
        Ok(page) => page,
        Err(response) => return response,
    };
    let run = match settlement_json(&state, &session, current, &format!("/v1/payment-runs/{run_id}"), &[]).await {
        Ok(run) => run,
        Err(response) => return response,
    };
    let domain = match run_of(&run) {
        Ok(domain) => domain,
        Err(detail) => return bad_answer(&session, current, detail),
    };
    let remittances = run["remittances"].as_array().cloned().unwrap_or_default();
    // The run's file holds its ACH entries and its prenotes.
    let sends_ach = remittances.iter().any(|r| r["status"] == "ach" || r["status"] == "awaiting_prenote");
    // One row per claim settled (a held remittance settles none yet, and is one row).
    let mut rows = Vec::new();
    let mut links = Vec::new();
    for remittance in &remittances {
        let base =
            [cell(&remittance["id"]), cell(&remittance["pay_to"]), cell(&remittance["status"]), cell(&remittance["amount"]), cell(&remittance["trace_number"])];
        let claims = remittance["claims"].as_array().cloned().unwrap_or_default();
        if claims.is_empty() {
            let mut row = base.to_vec();
            row.extend([String::new(), String::new(), String::new(), cell(&remittance["hold_reason"])]);
            rows.push(row);
            links.push(None);
        }
        for claim in claims {
            let mut row = base.to_vec();
            let claim_id = cell(&claim["claim_id"]);
            row.extend([claim_id.clone(), cell(&claim["kind"]), cell(&claim["paid"]), String::new()]);
            rows.push(row);
            links.push(Some(format!("/ui/claims/explanation?claim_id={}", encode(&claim_id))));
        }
    }
    let table =
        Table::new(vec!["Remittance", "Pay-to NPI", "Status", "Amount", "Trace number", "Claim", "Kind", "Claim paid", "Hold reason"], rows).linked(5, links);
    let render = |table_markup: Markup| {
        let body = html! {
            p { a href={(current.path()) "?payer_id=" (encode(&domain.payer_id))} { "All runs of payer " (domain.payer_id) } }
            dl.facts {
                dt { "Run" } dd.mono { (run_id) }
                dt { "Payer" } dd { (domain.payer_id) }
                dt { "Run date" } dd { (cell(&run["run_date"])) }
                dt { "ACH effective date" } dd { (cell(&run["effective_date"])) }
                dt { "Paid by ACH" } dd { (format_cents(domain.paid_cents())) }
            }
            @if sends_ach {
                p { a href={"/ui/payment-runs/" (run_id) "/ach"} download { "Download the ACH file (NACHA, with any prenotes)" } }
            } @else {
                p.note { "This run sent no ACH entries or prenotes (nothing to pay, or every remittance held)." }
            }
            h2 { "835 remittance advice" }
            ul {
                @for remittance in &remittances {
                    @let id = cell(&remittance["id"]);
                    li {
                        "Pay-to " (cell(&remittance["pay_to"])) ", " (cell(&remittance["amount"])) " (" (cell(&remittance["status"])) "): "
                        @if matches!(remittance["status"].as_str(), Some("ach" | "zero")) {
                            a href={"/ui/remittances/" (id) "/835"} download { "835 of remittance " (id.chars().take(8).collect::<String>()) }
                        } @else {
                            "no 835 until it is released or its prenote clears"
                        }
                    }
                }
            }
            h2 { "Remittances and the claims they settle" }
            (table_markup)
        };
        show(&session, current, body)
    };
    table_or_csv(&query, "payment-run.csv", table, render, "Remittances", &format!("/ui/payment-runs/{run_id}"), "")
}

fn download(bytes: Vec<u8>, content_type: &str, file_name: &str) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
}

/// `GET /ui/payment-runs/{run_id}/ach`: the run's NACHA file, as a download.
pub(crate) async fn ach_file(State(state): State<DashboardState>, headers: HeaderMap, Path(run_id): Path<String>) -> Response {
    let current = Page::PaymentRuns;
    let (session, run_id) = match id_page(&state, &headers, current, "run", &run_id).await {
        Ok(page) => page,
        Err(response) => return response,
    };
    match state.upstream.file(Service::Settlement, &session.api_key, &format!("/v1/payment-runs/{run_id}/ach")).await {
        Ok((bytes, content_type)) => download(bytes, &content_type, &format!("ach-{run_id}.txt")),
        Err(e) => upstream_page(&session, current, e),
    }
}

/// `GET /ui/remittances/{remittance_id}/835`: the stored 835, as a download.
pub(crate) async fn remittance_835(State(state): State<DashboardState>, headers: HeaderMap, Path(remittance_id): Path<String>) -> Response {
    let current = Page::PaymentRuns;
    let (session, remittance_id) = match id_page(&state, &headers, current, "remittance", &remittance_id).await {
        Ok(page) => page,
        Err(response) => return response,
    };
    match state.upstream.file(Service::Settlement, &session.api_key, &format!("/v1/remittances/{remittance_id}/835")).await {
        Ok((bytes, content_type)) => download(bytes, &content_type, &format!("835-{remittance_id}.x12")),
        Err(e) => upstream_page(&session, current, e),
    }
}

#[derive(Deserialize)]
pub struct DoneQuery {
    payer_id: Option<String>,
    /// What the last action did, said back on the page.
    done: Option<String>,
    status: Option<String>,
    #[serde(flatten)]
    table: TableQuery,
}

fn done_message(done: Option<&str>) -> Option<String> {
    let (what, subject) = done?.split_once(':')?;
    let subject: String = subject.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(64).collect();
    Some(match what {
        "held" => format!("Payments to NPI {subject} are held: later runs keep its remittances back until it is released."),
        "released" => format!("The hold on NPI {subject} is released: the next run pays what it kept back."),
        "resolved" => format!("Exception {subject} is resolved."),
        _ => return None,
    })
}

/// `GET /ui/payment-holds?payer_id=`: place and release holds; the remittances held in the payer's runs.
pub(crate) async fn holds(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<DoneQuery>) -> Response {
    let current = Page::PaymentHolds;
    let (session, payer_form, payer_id, answer) = match payer_runs_page(&state, &headers, current, query.payer_id.as_deref(), "Show holds").await {
        Ok(page) => page,
        Err(response) => return response,
    };
    let mut rows = Vec::new();
    let mut links = Vec::new();
    for run in answer["runs"].as_array().into_iter().flatten() {
        for remittance in run["remittances"].as_array().into_iter().flatten().filter(|r| r["status"] == "held") {
            rows.push(vec![
                cell(&remittance["pay_to"]),
                cell(&remittance["amount"]),
                cell(&remittance["hold_reason"]),
                cell(&run["run_date"]),
                cell(&run["run_id"]),
            ]);
            links.push(Some(format!("/ui/payment-runs/{}", encode(&cell(&run["run_id"])))));
        }
    }
    let table = Table::new(vec!["Pay-to NPI", "Amount kept back", "Hold reason", "Run date", "Run"], rows).linked(4, links);
    let message = done_message(query.done.as_deref());
    let render = |table_markup: Markup| {
        let form = |action: &str, legend: &str, button: &str| {
            html! {
                form method="post" action=(current.path()) {
                    fieldset {
                        legend { (legend) }
                        input type="hidden" name="csrf_token" value=(session.csrf_token);
                        input type="hidden" name="payer_id" value=(payer_id);
                        input type="hidden" name="action" value=(action);
                        label for={(action) "-npi"} { "Pay-to NPI" }
                        input id={(action) "-npi"} type="text" name="npi" inputmode="numeric" pattern="[0-9]{10}" required;
                        label for={(action) "-reason"} { "Reason" }
                        input id={(action) "-reason"} type="text" name="reason" maxlength=(REASON_CHARS_MAX) required;
                        p { button type="submit" { (button) } }
                    }
                }
            }
        };
        let body = html! {
            (payer_form)
            @if let Some(message) = &message { p.done role="status" { (message) } }
            @if acts_on_payments(&session) {
                section.actions {
                    (form("place", "Hold payments to a provider", "Place the hold"))
                    (form("release", "Release a hold", "Release the hold"))
                }
            }
            h2 { "Remittances held in payer " (payer_id) "'s runs" }
            (table_markup)
        };
        show(&session, current, body)
    };
    payer_table_or_csv(&query.table, "payment-holds.csv", table, render, "Held remittances", current, &payer_id)
}

#[derive(Deserialize)]
pub struct HoldForm {
    csrf_token: Option<String>,
    payer_id: Option<String>,
    action: Option<String>,
    npi: Option<String>,
    reason: Option<String>,
}

/// `POST /ui/payment-holds`: place (`action=place`) or release (`action=release`) a hold.
pub(crate) async fn hold_action(State(state): State<DashboardState>, headers: HeaderMap, Form(form): Form<HoldForm>) -> Response {
    let current = Page::PaymentHolds;
    let session = match acting(&state, &headers, current, form.csrf_token.as_deref()).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let checked = checked_payer_id(form.payer_id.as_deref().unwrap_or_default())
        .and_then(|payer_id| Ok((payer_id, checked_npi(form.npi.as_deref().unwrap_or_default())?, checked_reason(form.reason.as_deref())?)));
    let (payer_id, npi, reason) = match checked {
        Ok(checked) => checked,
        Err(detail) => return bad_request(&session, current, &detail),
    };
    let (path, body, done) = match form.action.as_deref() {
        Some("place") => (format!("/v1/payers/{payer_id}/payment-holds"), json!({ "npi": npi, "reason": reason }), "held"),
        Some("release") => (format!("/v1/payers/{payer_id}/payment-holds/{npi}/release"), json!({ "reason": reason }), "released"),
        _ => return bad_request(&session, current, "the form's action is neither place nor release"),
    };
    match state.upstream.post_json(Service::Settlement, &session.api_key, &path, &body, &[]).await {
        Ok(_) => Redirect::to(&format!("{}?payer_id={}&done={done}:{npi}", current.path(), encode(payer_id))).into_response(),
        Err(e) => upstream_page(&session, current, e),
    }
}

fn exception_row(exception: &Value) -> Vec<String> {
    [
        "exception_id",
        "statement_id",
        "kind",
        "position",
        "expected_amount",
        "actual_amount",
        "detail",
        "status",
        "resolved_by",
        "resolution_reason",
        "opened_on",
    ]
    .iter()
    .map(|field| cell(&exception[*field]))
    .collect()
}

const EXCEPTION_HEADERS: [&str; 11] =
    ["Exception", "Statement", "Kind", "Where in the file", "Expected", "Actual", "Detail", "Status", "Resolved by", "Resolution reason", "Opened on"];

/// The open ones of settlement's exceptions, with the day each was opened (one without a readable date is left out of the chart).
fn open_exceptions(exceptions: &[Value]) -> Vec<exceptions::OpenException> {
    exceptions
        .iter()
        .filter(|exception| exception["status"] == "open")
        .filter_map(|exception| {
            let opened_on = claimtrail_events::parse_date(exception["opened_on"].as_str()?)?;
            Some(exceptions::OpenException { kind: exception["kind"].as_str().unwrap_or("other").to_owned(), opened_on })
        })
        .collect()
}

/// `GET /ui/reconciliation?payer_id=&status=open|all`: upload a statement; the exception queue, each open one with a resolve form.
pub(crate) async fn reconciliation(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<DoneQuery>) -> Response {
    let current = Page::Reconciliation;
    let (session, payer_form, payer_id) = match payer_page(&state, &headers, current, query.payer_id.as_deref(), "Show reconciliation").await {
        Ok(page) => page,
        Err(response) => return response,
    };
    let status = if query.status.as_deref() == Some("all") { "all" } else { "open" };
    let path = format!("/v1/payers/{payer_id}/reconciliation/exceptions");
    let answer = match settlement_json(&state, &session, current, &path, &[("status", status.to_owned())]).await {
        Ok(answer) => answer,
        Err(response) => return response,
    };
    let exceptions = answer["exceptions"].as_array().cloned().unwrap_or_default();
    if query.table.format.as_deref() == Some("csv") {
        let table = Table::new(EXCEPTION_HEADERS.to_vec(), exceptions.iter().map(exception_row).collect());
        return super::csv_response("reconciliation-exceptions.csv", table.filtered(query.table.filter.as_deref().unwrap_or_default()));
    }
    let message = done_message(query.done.as_deref());
    let may_resolve = session.viewer.role == Role::Finance;
    let by_age = exceptions::by_age(&open_exceptions(&exceptions), (state.clock)().date(), &payer_id);
    let body = html! {
        (payer_form)
        @if let Some(message) = &message { p.done role="status" { (message) } }
        @if acts_on_payments(&session) {
            h2 { "Import a bank statement" }
            form method="post" action="/ui/reconciliation/statements" enctype="multipart/form-data" {
                input type="hidden" name="csrf_token" value=(session.csrf_token);
                input type="hidden" name="payer_id" value=(payer_id);
                div.inline {
                    div {
                        label for="statement-file" { "Statement file (BAI2, camt.053 or NACHA returns)" }
                        input #statement-file type="file" name="statement" required;
                    }
                    div {
                        label for="statement-format" { "Format" }
                        select #statement-format name="format" {
                            option value="" { "Tell from the file" }
                            option value="bai2" { "BAI2" }
                            option value="camt053" { "camt.053" }
                            option value="nacha-returns" { "NACHA returns" }
                        }
                    }
                }
                p { button type="submit" { "Import and reconcile" } }
            }
        }
        h2 { "Open exceptions by age" }
        (views::bar_chart(&by_age, "exceptions-by-age"))
        h2 { "Exception queue" }
        p {
            @if status == "open" {
                "Open exceptions. " a href={(current.path()) "?payer_id=" (encode(&payer_id)) "&status=all"} { "Show resolved ones too" }
            } @else {
                "Every exception. " a href={(current.path()) "?payer_id=" (encode(&payer_id))} { "Show open ones only" }
            }
            " · " a href={(current.path()) "?payer_id=" (encode(&payer_id)) "&status=" (status) "&format=csv"} download { "Download CSV (" (exceptions.len()) " rows)" }
        }
        table #exceptions {
            caption { "Reconciliation exceptions of payer " (payer_id) }
            thead { tr { @for header in EXCEPTION_HEADERS { th scope="col" { (header) } } th scope="col" { "Resolve" } } }
            tbody {
                @for exception in &exceptions {
                    @let row = exception_row(exception);
                    tr {
                        @for value in &row { td { (value) } }
                        td {
                            @if exception["status"] == "open" && may_resolve {
                                form.row method="post" action="/ui/reconciliation/exceptions/resolve" {
                                    input type="hidden" name="csrf_token" value=(session.csrf_token);
                                    input type="hidden" name="payer_id" value=(payer_id);
                                    input type="hidden" name="exception_id" value=(row[0]);
                                    label.visually-hidden for={"reason-" (row[0])} { "Reason for resolving " (row[0]) }
                                    input id={"reason-" (row[0])} type="text" name="reason" placeholder="Reason" maxlength=(REASON_CHARS_MAX) required;
                                    button type="submit" { "Resolve" }
                                }
                            }
                        }
                    }
                }
                @if exceptions.is_empty() { tr { td colspan=(EXCEPTION_HEADERS.len() + 1) { "No exceptions." } } }
            }
        }
        @if !may_resolve { p.note { "Exceptions are resolved by the payer's finance keys." } }
    };
    show(&session, current, body)
}

/// `POST /ui/reconciliation/statements` (multipart): the file goes to settlement whole; what it matched, returned and opened is shown.
pub(crate) async fn import_statement(State(state): State<DashboardState>, headers: HeaderMap, body: Bytes) -> Response {
    let current = Page::Reconciliation;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let parts = match multipart::parse(content_type, &body) {
        Ok(parts) => parts,
        Err(e) => {
            // No CSRF token can be read from a body that does not parse: refuse as a forged form would be.
            return match signed_in(&state, &headers, Some(current)).await {
                Ok(session) => bad_request(&session, current, &e.to_string()),
                Err(response) => *response,
            };
        }
    };
    let session = match acting(&state, &headers, current, multipart::text(&parts, "csrf_token")).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let payer_id = match checked_payer_id(multipart::text(&parts, "payer_id").unwrap_or_default()) {
        Ok(payer_id) => payer_id.to_owned(),
        Err(detail) => return bad_request(&session, current, &detail),
    };
    let Some(file) = parts.iter().find(|part| part.name == "statement" && part.filename.is_some() && !part.data.is_empty()) else {
        return bad_request(&session, current, "choose the statement file to import");
    };
    let format = multipart::text(&parts, "format").unwrap_or_default();
    let query: Vec<(&str, String)> = if format.is_empty() { vec![] } else { vec![("format", format.to_owned())] };
    let file_type = file.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
    let path = format!("/v1/payers/{payer_id}/bank-statements");
    let (status, outcome) = match state.upstream.post_bytes(Service::Settlement, &session.api_key, &path, &query, &file_type, file.data.clone()).await {
        Ok(answer) => answer,
        Err(e) => return upstream_page(&session, current, e),
    };
    let list = |key: &str| outcome[key].as_array().cloned().unwrap_or_default();
    let (matched, returned, exceptions) = (list("matched"), list("returned"), list("exceptions"));
    let body = html! {
        p { a href={(current.path()) "?payer_id=" (encode(&payer_id))} { "Back to payer " (payer_id) "'s reconciliation" } }
        @if status == StatusCode::OK.as_u16() || outcome["already_imported"] == true {
            p.message role="status" { "Statement " (cell(&outcome["statement_id"])) " was imported before: nothing was applied now. What it did then:" }
        } @else {
            p.done role="status" { "Statement " (cell(&outcome["statement_id"])) " imported and reconciled." }
        }
        dl.facts {
            dt { "Statement" } dd.mono { (cell(&outcome["statement_id"])) }
            dt { "Format" } dd { (cell(&outcome["format"])) }
            dt { "Lines" } dd { (cell(&outcome["line_count"])) }
            dt { "Matched debits" } dd { (matched.len()) }
            dt { "Returns and changes" } dd { (returned.len()) }
            dt { "Exceptions opened" } dd { (exceptions.len()) }
        }
        table #matched {
            caption { "Debits matched to their ACH batches" }
            thead { tr { th scope="col" { "Where in the file" } th scope="col" { "Run" } th scope="col" { "Batch" } th scope="col" { "Amount" } th scope="col" { "Value date" } } }
            tbody {
                @for m in &matched {
                    tr {
                        td { (cell(&m["position"])) }
                        td { a href={"/ui/payment-runs/" (encode(&cell(&m["run_id"])))} { (cell(&m["run_id"])) } }
                        td.num { (cell(&m["batch_number"])) } td.num { (cell(&m["amount"])) } td { (cell(&m["date"])) }
                    }
                }
                @if matched.is_empty() { tr { td colspan="5" { "No debit matched." } } }
            }
        }
        table {
            caption { "Returns and notifications of change" }
            thead { tr { th scope="col" { "Where in the file" } th scope="col" { "Kind" } th scope="col" { "Remittance" } th scope="col" { "Trace number" } th scope="col" { "Code" } th scope="col" { "Amount" } } }
            tbody {
                @for r in &returned {
                    tr { @for field in ["position", "kind", "remittance_id", "trace_number", "reason_code", "amount"] { td { (cell(&r[field])) } } }
                }
                @if returned.is_empty() { tr { td colspan="6" { "None." } } }
            }
        }
        table {
            caption { "Exceptions opened" }
            thead { tr { @for header in EXCEPTION_HEADERS { th scope="col" { (header) } } } }
            tbody {
                @for exception in &exceptions { tr { @for value in exception_row(exception) { td { (value) } } } }
                @if exceptions.is_empty() { tr { td colspan=(EXCEPTION_HEADERS.len()) { "None." } } }
            }
        }
    };
    let mut response = show(&session, current, body);
    if status == StatusCode::CREATED.as_u16() {
        *response.status_mut() = StatusCode::CREATED;
    }
    response
}

#[derive(Deserialize)]
pub struct ResolveForm {
    csrf_token: Option<String>,
    payer_id: Option<String>,
    exception_id: Option<String>,
    reason: Option<String>,
}

/// `POST /ui/reconciliation/exceptions/resolve`: resolve an open exception with a reason.
pub(crate) async fn resolve_exception(State(state): State<DashboardState>, headers: HeaderMap, Form(form): Form<ResolveForm>) -> Response {
    let current = Page::Reconciliation;
    let session = match acting(&state, &headers, current, form.csrf_token.as_deref()).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let checked = checked_payer_id(form.payer_id.as_deref().unwrap_or_default()).and_then(|payer_id| {
        Ok((payer_id, checked_uuid("exception", form.exception_id.as_deref().unwrap_or_default())?, checked_reason(form.reason.as_deref())?))
    });
    let (payer_id, exception_id, reason) = match checked {
        Ok(checked) => checked,
        Err(detail) => return bad_request(&session, current, &detail),
    };
    let path = format!("/v1/payers/{payer_id}/reconciliation/exceptions/{exception_id}/resolve");
    match state.upstream.post_json(Service::Settlement, &session.api_key, &path, &json!({ "reason": reason }), &[]).await {
        Ok(_) => Redirect::to(&format!("{}?payer_id={}&done=resolved:{exception_id}", current.path(), encode(payer_id))).into_response(),
        Err(e) => upstream_page(&session, current, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_npis_and_reasons_are_checked_before_they_reach_a_path() {
        assert!(checked_uuid("run", "0193a0c4-1b2c-7d3e-8f40-123456789abc").is_ok());
        for bad in ["", "../v1/claims", "0193a0c4-1b2c-7d3e-8f40-123456789ab", "0193a0c4x1b2c-7d3e-8f40-123456789abc"] {
            assert!(checked_uuid("run", bad).unwrap_err().contains("is not a run id"));
        }
        assert!(checked_npi("1234567893").is_ok());
        assert!(checked_npi("123/../x").is_err());
        assert!(checked_reason(Some("  ")).is_err());
        assert!(checked_reason(Some(&"x".repeat(REASON_CHARS_MAX + 1))).is_err());
        assert_eq!(checked_reason(Some(" duplicate debit ")), Ok("duplicate debit"));
    }

    #[test]
    fn only_known_actions_are_said_back_and_their_subject_is_cleaned() {
        assert_eq!(
            done_message(Some("held:1234567893")).unwrap(),
            "Payments to NPI 1234567893 are held: later runs keep its remittances back until it is released."
        );
        assert!(done_message(Some("resolved:<script>")).unwrap().contains("Exception script is resolved"));
        assert_eq!(done_message(Some("hacked:1")), None);
        assert_eq!(done_message(None), None);
    }
}
