//! The dashboard's HTTP surface: `/` (sign-in or the role's home), the
//! embedded assets, sign-in and sign-out (the only actions, both POST with a
//! CSRF token), and the pages under `/ui/`, each read from the services'
//! public APIs with the signed-in key. Nothing here clashes with `/v1`,
//! `/healthz`, `/readyz`, `/metrics` or `/openapi.json`.

mod claims;
mod finance;
mod fraud;
mod pended;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use sha2::Digest as _;
use time::OffsetDateTime;

use crate::domain::csv::to_csv;
use crate::domain::page::Page;
use crate::domain::session::{Session, SessionError, check_csrf};
use crate::domain::table::{PAGE_ROWS_MAX, Table};
use crate::domain::viewer::Viewer;
use crate::storage::sessions::SessionStore;
use crate::upstream::{Service, Upstream, UpstreamError, cell};
use crate::views::{self, Frame, encode};

/// The session cookie: a random id, HttpOnly, SameSite=Strict.
pub const SESSION_COOKIE: &str = "claimtrail_session";
/// The sign-in form's CSRF cookie (double submit: the form carries the same token).
pub const SIGN_IN_COOKIE: &str = "claimtrail_sign_in";
/// Ledger entries shown on one page.
pub const ENTRIES_PAGE_ROWS: u64 = 50;

/// The wall clock, injected so that tests can move it.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;
/// Who an API key belongs to (None: unknown key), from the key registry.
pub type KeyCheck = Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = anyhow::Result<Option<Viewer>>> + Send>> + Send + Sync>;

#[derive(Clone)]
pub struct DashboardState {
    pub sessions: SessionStore,
    pub upstream: Upstream,
    pub check_key: KeyCheck,
    pub clock: Clock,
}

pub fn routes(state: DashboardState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/ui/assets/{*path}", get(asset))
        .route("/ui/sign-in", post(sign_in))
        .route("/ui/sign-out", post(sign_out))
        .route("/ui/ledger", get(ledger))
        .route("/ui/ledger/entries", get(ledger_entries))
        .route("/ui/claims/proofs", get(proofs))
        .route("/ui/claims/explanation", get(explanation))
        .route("/ui/policy-versions", get(policy_versions))
        .route("/ui/balances", get(balances))
        .route("/ui/payment-runs", get(finance::runs).post(finance::create_run))
        .route("/ui/payment-runs/{run_id}", get(finance::run))
        .route("/ui/payment-runs/{run_id}/ach", get(finance::ach_file))
        .route("/ui/remittances/{remittance_id}/835", get(finance::remittance_835))
        .route("/ui/payment-holds", get(finance::holds).post(finance::hold_action))
        .route("/ui/reconciliation", get(finance::reconciliation))
        .route(
            "/ui/reconciliation/statements",
            post(finance::import_statement).layer(axum::extract::DefaultBodyLimit::max(finance::STATEMENT_BYTES_MAX + 64 * 1024)),
        )
        .route("/ui/reconciliation/exceptions/resolve", post(finance::resolve_exception))
        .route("/ui/pended", get(pended::queue))
        .route("/ui/pended/review", get(pended::review_form).post(pended::record_review))
        .route("/ui/auto-adjudication", get(pended::auto_rate))
        .route("/ui/fraud-alerts", get(fraud::alerts))
        .route("/ui/fraud-alerts/acknowledge", post(fraud::acknowledge))
        .route("/ui/fraud-alerts/close", post(fraud::close))
        .route("/ui/claims", get(claims::claims))
        .route("/ui/claims/per-day", get(claims::per_day))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// The Content-Security-Policy: scripts only from this origin, plus the import map by its hash.
pub fn content_security_policy() -> String {
    let import_map_hash = BASE64.encode(sha2::Sha256::digest(views::IMPORT_MAP.as_bytes()));
    format!(
        "default-src 'self'; script-src 'self' 'sha256-{import_map_hash}'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    )
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    static CSP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let csp = CSP.get_or_init(content_security_policy);
    if let Ok(value) = HeaderValue::from_str(csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

// ---- Sessions and sign-in.

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // Without system randomness no session can be safe: refuse to serve rather than guess.
    getrandom::fill(&mut bytes).expect("the system has no randomness source");
    hex::encode(bytes)
}

fn set_cookie(name: &str, value: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict")).expect("cookie values are hex")
}

fn clear_cookie(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")).expect("cookie names are ASCII")
}

pub(crate) fn page(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// The sign-in page with a fresh form token (and its cookie).
fn sign_in_page(status: StatusCode, message: Option<&str>, clear_session: bool) -> Response {
    let token = random_token();
    let mut response = page(status, views::sign_in(&token, message));
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SIGN_IN_COOKIE, &token));
    if clear_session {
        response.headers_mut().append(header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
    }
    response
}

pub(crate) fn frame(session: &Session, current: Option<Page>) -> Frame<'_> {
    Frame { viewer: &session.viewer, csrf_token: &session.csrf_token, current }
}

/// The session of this request, when it has one that may see `page`; else the page to answer with.
pub(crate) async fn signed_in(state: &DashboardState, headers: &HeaderMap, page_wanted: Option<Page>) -> Result<Session, Box<Response>> {
    let id = cookie(headers, SESSION_COOKIE);
    let now = (state.clock)();
    let touched = state.sessions.touch(id.as_deref(), now).await.map_err(|e| {
        tracing::error!(error.message = %e, "reading a dashboard session");
        Box::new(page(StatusCode::SERVICE_UNAVAILABLE, views::problem(None, "Error", "the session table could not be read; try again shortly")))
    })?;
    let session = match touched {
        Ok(session) => session,
        Err(e @ SessionError::Expired { .. }) => return Err(Box::new(sign_in_page(StatusCode::UNAUTHORIZED, Some(&e.to_string()), true))),
        Err(e @ SessionError::Missing) => {
            return Err(Box::new(sign_in_page(StatusCode::UNAUTHORIZED, Some(&format!("{e}: sign in with your API key")), id.is_some())));
        }
    };
    if let Some(wanted) = page_wanted
        && !wanted.visible_to(session.viewer.role)
    {
        let detail = format!("{} is not a page for a {} key.", wanted.title(), session.viewer.role.label());
        return Err(Box::new(page(StatusCode::FORBIDDEN, views::problem(Some(&frame(&session, None)), "Not allowed", &detail))));
    }
    Ok(session)
}

/// The session of an action (a POST): signed in, allowed `page`, and the form's CSRF token its own.
pub(crate) async fn acting(state: &DashboardState, headers: &HeaderMap, page_wanted: Page, csrf_token: Option<&str>) -> Result<Session, Box<Response>> {
    let session = signed_in(state, headers, Some(page_wanted)).await?;
    if let Err(e) = check_csrf(&session.csrf_token, csrf_token) {
        return Err(Box::new(page(StatusCode::FORBIDDEN, views::problem(Some(&frame(&session, Some(page_wanted))), "Not done", &e.to_string()))));
    }
    Ok(session)
}

async fn home(State(state): State<DashboardState>, headers: HeaderMap) -> Response {
    let id = cookie(&headers, SESSION_COOKIE);
    if id.is_none() {
        return sign_in_page(StatusCode::OK, None, false);
    }
    match signed_in(&state, &headers, None).await {
        Ok(session) => page(StatusCode::OK, views::home(&frame(&session, None))),
        Err(response) => *response,
    }
}

async fn asset(Path(path): Path<String>) -> Response {
    match crate::assets::asset(&path) {
        Some((bytes, content_type)) => ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], bytes).into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}

#[derive(Deserialize)]
pub struct SignInForm {
    api_key: Option<String>,
    csrf_token: Option<String>,
}

async fn sign_in(State(state): State<DashboardState>, headers: HeaderMap, Form(form): Form<SignInForm>) -> Response {
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if let Err(e) = check_csrf(&expected, form.csrf_token.as_deref()) {
        return sign_in_page(StatusCode::FORBIDDEN, Some(&e.to_string()), false);
    }
    let api_key = form.api_key.unwrap_or_default().trim().to_owned();
    if api_key.is_empty() {
        return sign_in_page(StatusCode::BAD_REQUEST, Some("Enter your API key."), false);
    }
    let viewer = match (state.check_key)(api_key.clone()).await {
        Ok(Some(viewer)) => viewer,
        Ok(None) => return sign_in_page(StatusCode::UNAUTHORIZED, Some("That API key is not known. Check it and try again."), false),
        Err(e) => {
            tracing::error!(error.message = %format!("{e:#}"), "checking an API key at sign-in");
            return sign_in_page(StatusCode::SERVICE_UNAVAILABLE, Some("The key registry could not be read; try again shortly."), false);
        }
    };
    let id = random_token();
    let session = Session { api_key, viewer, csrf_token: random_token(), last_seen: (state.clock)() };
    if let Err(e) = state.sessions.start(&id, &session).await {
        tracing::error!(error.message = %e, "starting a dashboard session");
        return sign_in_page(StatusCode::SERVICE_UNAVAILABLE, Some("The session could not be kept; try again shortly."), false);
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &id));
    response.headers_mut().append(header::SET_COOKIE, clear_cookie(SIGN_IN_COOKIE));
    response
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf_token: Option<String>,
}

async fn sign_out(State(state): State<DashboardState>, headers: HeaderMap, Form(form): Form<ActionForm>) -> Response {
    let session = match signed_in(&state, &headers, None).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    if let Err(e) = check_csrf(&session.csrf_token, form.csrf_token.as_deref()) {
        return page(StatusCode::FORBIDDEN, views::problem(Some(&frame(&session, None)), "Not signed out", &e.to_string()));
    }
    if let Some(id) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = state.sessions.end(&id).await
    {
        tracing::error!(error.message = %e, "ending a dashboard session");
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            views::problem(Some(&frame(&session, None)), "Not signed out", "the session could not be ended; try again"),
        );
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
    response
}

// ---- Pages.

/// What an API's refusal becomes: the same status, said in words.
pub(crate) fn upstream_page(session: &Session, current: Page, error: UpstreamError) -> Response {
    let frame = frame(session, Some(current));
    let (status, title, detail) = match &error {
        UpstreamError::Status { status: 404, detail } => (StatusCode::NOT_FOUND, "Not found", format!("{detail} (or it is not one this key may read)")),
        UpstreamError::Status { status: 403, detail } => (StatusCode::FORBIDDEN, "Not allowed", detail.clone()),
        UpstreamError::Status { status: 401, .. } => {
            return sign_in_page(StatusCode::UNAUTHORIZED, Some("The API no longer accepts this key; sign in again."), true);
        }
        UpstreamError::Status { status: 429, detail } => (StatusCode::TOO_MANY_REQUESTS, "Too many requests", detail.clone()),
        UpstreamError::Status { status: 400 | 422, detail } => (StatusCode::BAD_REQUEST, "Bad request", detail.clone()),
        other => {
            tracing::warn!(error.message = %other, "a dashboard page's API call failed");
            (StatusCode::BAD_GATEWAY, "A service did not answer", other.to_string())
        }
    };
    page(status, views::problem(Some(&frame), title, &detail))
}

/// A `done=<what>:<id>` query value (what an action did, said back on the page): the
/// action and the id, cleaned to what an id holds (hex digits and '-', at most 36).
pub(crate) fn done_id(done: Option<&str>) -> Option<(&str, String)> {
    let (what, id) = done?.split_once(':')?;
    Some((what, id.chars().filter(|c| c.is_ascii_hexdigit() || *c == '-').take(36).collect()))
}

pub(crate) fn bad_request(session: &Session, current: Page, detail: &str) -> Response {
    page(StatusCode::BAD_REQUEST, views::problem(Some(&frame(session, Some(current))), "Bad request", detail))
}

/// A claim id as the APIs take it: letters, digits, `-`, `_` and `.`, at most 64.
pub(crate) fn claim_id(text: &str) -> Result<&str, String> {
    let text = text.trim();
    if text.is_empty() || text.len() > 64 || !text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Err(format!("`{text}` is not a claim id (letters, digits, '-', '_' or '.', at most 64)"));
    }
    Ok(text)
}

/// The query of a table: its filter, page (1-based) and `format=csv` for the export.
#[derive(Deserialize, Default)]
pub struct TableQuery {
    pub(crate) filter: Option<String>,
    pub(crate) page: Option<String>,
    pub(crate) format: Option<String>,
}

impl TableQuery {
    fn page_number(&self) -> usize {
        self.page.as_deref().and_then(|page| page.parse().ok()).unwrap_or(1)
    }
}

pub(crate) fn csv_response(file_name: &str, table: Table) -> Response {
    let body = to_csv(&table.headers, &table.rows);
    let disposition = format!("attachment; filename=\"{file_name}\"");
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], body).into_response()
}

/// The table as CSV (every row after the filter), or one page of it in `render`.
pub(crate) fn table_or_csv(
    query: &TableQuery,
    file_name: &str,
    table: Table,
    render: impl FnOnce(Markup) -> Response,
    caption: &str,
    path: &str,
    other_query: &str,
) -> Response {
    let filter = query.filter.clone().unwrap_or_default();
    let table = table.filtered(&filter);
    if query.format.as_deref() == Some("csv") {
        return csv_response(file_name, table);
    }
    let table_page = table.page(query.page_number(), PAGE_ROWS_MAX);
    render(views::table(&table_page, caption, path, other_query, &filter))
}

/// A signed note's body lines and signature lines (name, key id hex).
struct Note {
    origin: String,
    size: u64,
    root: String,
    signatures: Vec<(String, String)>,
}

fn parse_note(note: &str) -> Option<Note> {
    let (body, signatures) = note.split_once("\n\n")?;
    let mut lines = body.lines();
    let origin = lines.next()?.to_owned();
    let size = lines.next()?.parse().ok()?;
    let root = lines.next()?.to_owned();
    let signatures = signatures
        .lines()
        .filter_map(|line| line.strip_prefix("\u{2014} "))
        .filter_map(|line| line.split_once(' '))
        .map(|(name, signature)| {
            let key_id = BASE64.decode(signature).ok().filter(|raw| raw.len() >= 4).map(|raw| hex::encode(&raw[..4])).unwrap_or_else(|| "?".into());
            (name.to_owned(), key_id)
        })
        .collect();
    Some(Note { origin, size, root, signatures })
}

fn note_view(note_text: &str) -> Markup {
    let Some(note) = parse_note(note_text) else {
        return html! { p.message { "The latest checkpoint does not parse as a signed note." } pre { (note_text) } };
    };
    html! {
        dl.facts {
            dt { "Origin" } dd { (note.origin) }
            dt { "Tree size" } dd { (note.size) }
            dt { "Root hash" } dd.mono { (note.root) }
        }
        table {
            caption { "Signatures on the latest checkpoint" }
            thead { tr { th scope="col" { "Signer" } th scope="col" { "Key id" } th scope="col" { "Kind" } } }
            tbody {
                @for (name, key_id) in &note.signatures {
                    tr {
                        td { (name) }
                        td.mono { (key_id) }
                        td { @if *name == note.origin { "the log's signature" } @else { "witness cosignature" } }
                    }
                }
            }
        }
        details {
            summary { "The signed note" }
            pre { (note_text) }
        }
    }
}

async fn ledger(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<TableQuery>) -> Response {
    let session = match signed_in(&state, &headers, Some(Page::Ledger)).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let key = &session.api_key;
    let latest = match state.upstream.text(Service::Anchor, key, "/v1/ledger/checkpoint", &[]).await {
        Ok(note) => Some(note),
        Err(UpstreamError::Status { status: 404, .. }) => None,
        Err(e) => return upstream_page(&session, Page::Ledger, e),
    };
    let checkpoints = match state.upstream.json(Service::Anchor, key, "/v1/ledger/checkpoints", &[]).await {
        Ok(answer) => answer,
        Err(e) => return upstream_page(&session, Page::Ledger, e),
    };
    let mut rows: Vec<Vec<String>> = checkpoints["checkpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|checkpoint| {
            let note = checkpoint["note"].as_str().unwrap_or_default();
            let parsed = parse_note(note);
            vec![
                cell(&checkpoint["size"]),
                parsed.as_ref().map(|n| n.root.clone()).unwrap_or_default(),
                parsed.map(|n| n.signatures.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default(),
            ]
        })
        .collect();
    rows.reverse();
    let table = Table::new(vec!["Tree size", "Root hash", "Signed by"], rows);
    let render = |table_markup: Markup| {
        let body = html! {
            h2 { "Latest checkpoint" }
            @match &latest {
                Some(note) => (note_view(note)),
                None => p { "No checkpoint has been signed (and cosigned) yet." },
            }
            h2 { "Entries" }
            form.inline method="get" action="/ui/ledger/entries" {
                div { label for="entry-start" { "From index" } input #entry-start type="number" name="start" min="0" value="0"; }
                button type="submit" { "Show entries" }
            }
            form.inline method="get" action="/ui/ledger/entries" {
                div { label for="entry-event" { "Event id" } input #entry-event type="text" name="event_id" required; }
                button type="submit" { "Find the entry" }
            }
            h2 { "Checkpoints" }
            p.note { "Newest first; the witnesses' cosignatures follow the log's signature." }
            (table_markup)
        };
        page(StatusCode::OK, views::layout(Page::Ledger.title(), Some(&frame(&session, Some(Page::Ledger))), html! {}, body))
    };
    table_or_csv(&query, "checkpoints.csv", table, render, "Checkpoints", Page::Ledger.path(), "")
}

#[derive(Deserialize)]
pub struct EntriesQuery {
    start: Option<String>,
    event_id: Option<String>,
    #[serde(flatten)]
    table: TableQuery,
}

/// An entry's row: index, event id, and the leaf's event type, producer and verification flag.
fn entry_row(entry: &Value) -> Vec<String> {
    let leaf: Value =
        entry["leaf"].as_str().and_then(|b64| BASE64.decode(b64).ok()).and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or(Value::Null);
    vec![cell(&entry["index"]), cell(&entry["event_id"]), cell(&leaf["event_type"]), cell(&leaf["producer"]), cell(&leaf["verified"]), cell(&entry["chain"])]
}

async fn ledger_entries(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<EntriesQuery>) -> Response {
    let session = match signed_in(&state, &headers, Some(Page::Ledger)).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let start = match query.start.as_deref().map(str::trim).filter(|start| !start.is_empty()).map(str::parse::<u64>) {
        None => 0,
        Some(Ok(start)) => start,
        Some(Err(_)) => return bad_request(&session, Page::Ledger, "the first index must be a whole number from 0"),
    };
    let (params, other_query) = match query.event_id.as_deref().map(str::trim).filter(|id| !id.is_empty()) {
        Some(event_id) => (vec![("event_id", event_id.to_owned())], format!("event_id={}", encode(event_id))),
        None => (vec![("start", start.to_string()), ("end", (start + ENTRIES_PAGE_ROWS).to_string())], format!("start={start}")),
    };
    let answer = match state.upstream.json(Service::Anchor, &session.api_key, "/v1/ledger/entries", &params).await {
        Ok(answer) => answer,
        Err(e) => return upstream_page(&session, Page::Ledger, e),
    };
    let rows: Vec<Vec<String>> = answer["entries"].as_array().into_iter().flatten().map(entry_row).collect();
    let n_rows = rows.len() as u64;
    let table = Table::new(vec!["Index", "Event id", "Event type", "Producer", "Producer signature verified", "Chain"], rows);
    let by_event = query.event_id.is_some();
    let render = |table_markup: Markup| {
        let body = html! {
            p { a href=(Page::Ledger.path()) { "Back to the ledger" } }
            @if !by_event {
                nav.pager aria-label="Entry ranges" {
                    @if start > 0 {
                        a href={"/ui/ledger/entries?start=" (start.saturating_sub(ENTRIES_PAGE_ROWS))} { "Previous entries" }
                    }
                    span { "Entries " (start) " to " (start + n_rows.max(1) - 1) }
                    @if n_rows == ENTRIES_PAGE_ROWS {
                        a href={"/ui/ledger/entries?start=" (start + ENTRIES_PAGE_ROWS)} { "Next entries" }
                    }
                }
            }
            (table_markup)
        };
        page(StatusCode::OK, views::layout("Ledger entries", Some(&frame(&session, Some(Page::Ledger))), html! {}, body))
    };
    table_or_csv(&query.table, "ledger-entries.csv", table, render, "Entries", "/ui/ledger/entries", &other_query)
}

#[derive(Deserialize)]
pub struct ClaimQuery {
    claim_id: Option<String>,
    #[serde(flatten)]
    table: TableQuery,
}

pub(crate) fn claim_form(path: &str, claim_id: &str) -> Markup {
    html! {
        form.inline method="get" action=(path) {
            div {
                label for="claim-id" { "Claim id" }
                input #claim-id type="text" name="claim_id" value=(claim_id) required;
            }
            button type="submit" { "Open the claim" }
        }
    }
}

/// The auditor's pinned log key (kept in this browser) and the script that checks the proofs.
fn pin_section() -> Markup {
    html! {
            h2 #pin-heading { "Pinned log key" }
            p { "The log's public key is pinned in this browser, not fetched from the server being checked. Get it from the log's operator (for example `claimtrail keys log`) and pin it once." }
            p { "Pinned: " code #pinned-key { "none pinned yet" } }
            form #pin-form.inline aria-labelledby="pin-heading" {
                div { label for="log-key" { "Log key (vkey)" } input #log-key type="text" name="log_key" autocomplete="off" required; }
                button type="submit" { "Pin this key" }
            }
            p #pin-message role="status" {}
            script type="module" src="/ui/assets/proofs.js" {}
    }
}

async fn proofs(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<ClaimQuery>) -> Response {
    let session = match signed_in(&state, &headers, Some(Page::ClaimProofs)).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let current = Page::ClaimProofs;
    let render = |body: Markup| page(StatusCode::OK, views::layout(current.title(), Some(&frame(&session, Some(current))), views::import_map(), body));
    let Some(raw_id) = query.claim_id.as_deref().filter(|id| !id.trim().is_empty()) else {
        return render(html! { (claim_form(current.path(), "")) (pin_section()) });
    };
    let id = match claim_id(raw_id) {
        Ok(id) => id,
        Err(detail) => return bad_request(&session, current, &detail),
    };
    let key = &session.api_key;
    // The claim through intake's API, so that this read is in the access log.
    let claim = match state.upstream.json(Service::Intake, key, &format!("/v1/claims/{id}"), &[]).await {
        Ok(claim) => claim,
        Err(e) => return upstream_page(&session, current, e),
    };
    let note = match state.upstream.text(Service::Anchor, key, "/v1/ledger/checkpoint", &[]).await {
        Ok(note) => Some(note),
        Err(UpstreamError::Status { status: 404, .. }) => None,
        Err(e) => return upstream_page(&session, current, e),
    };
    let size = note.as_deref().and_then(parse_note).map(|note| note.size).unwrap_or(0);
    struct Row {
        step: Value,
        entry: Option<Value>,
        proof: Option<Vec<String>>,
    }
    let mut rows = Vec::new();
    for step in claim["history"].as_array().into_iter().flatten() {
        let event_id = cell(&step["event_id"]);
        let entry = match state.upstream.json(Service::Anchor, key, "/v1/ledger/entries", &[("event_id", event_id)]).await {
            Ok(answer) => answer["entries"].as_array().and_then(|entries| entries.first().cloned()),
            Err(e) => return upstream_page(&session, current, e),
        };
        let mut proof = None;
        if let Some(index) = entry.as_ref().and_then(|entry| entry["index"].as_u64())
            && index < size
        {
            let params = [("index", index.to_string()), ("size", size.to_string())];
            match state.upstream.json(Service::Anchor, key, "/v1/ledger/proofs/inclusion", &params).await {
                Ok(answer) => proof = Some(answer["hashes"].as_array().into_iter().flatten().map(cell).collect()),
                Err(e) => return upstream_page(&session, current, e),
            }
        }
        rows.push(Row { step: step.clone(), entry, proof });
    }
    let table_query = &query.table;
    if table_query.format.as_deref() == Some("csv") {
        let rows = rows
            .iter()
            .map(|row| {
                let index = row.entry.as_ref().map(|entry| cell(&entry["index"])).unwrap_or_default();
                vec![cell(&row.step["at"]), cell(&row.step["event_type"]), cell(&row.step["event_id"]), cell(&row.step["status"]), index]
            })
            .collect();
        return csv_response("claim-events.csv", Table::new(vec!["At", "Event type", "Event id", "Status", "Ledger index"], rows));
    }
    let body = html! {
        (claim_form(current.path(), id))
        dl.facts {
            dt { "Claim" } dd.mono { (cell(&claim["claim_id"])) }
            dt { "Status" } dd { (cell(&claim["status"])) }
            dt { "Payer" } dd { (cell(&claim["payer_id"])) }
        }
        p { a href={"/ui/claims/proofs?claim_id=" (encode(id)) "&format=csv"} download { "Download CSV of the events" } }
        h2 { "Proof check" }
        p #proof-summary role="status" aria-live="polite" { "Checking the proofs in this browser…" }
        table #claim-events {
            caption { "The claim's events on the ledger" }
            thead { tr { th scope="col" { "At" } th scope="col" { "Event" } th scope="col" { "Event id" } th scope="col" { "Ledger index" } th scope="col" { "Inclusion proof" } } }
            tbody {
                @for row in &rows {
                    @let index = row.entry.as_ref().map(|entry| cell(&entry["index"])).unwrap_or_default();
                    @let leaf = row.entry.as_ref().map(|entry| cell(&entry["leaf"]));
                    @match (&leaf, &row.proof) {
                        (Some(leaf), Some(proof)) => {
                            tr data-leaf=(leaf) data-index=(index) data-size=(size) data-proof=(proof.join(",")) {
                                td { (cell(&row.step["at"])) } td { (cell(&row.step["event_type"])) } td.mono { (cell(&row.step["event_id"])) } td { (index) }
                                td.verdict { "checking…" }
                            }
                        }
                        (Some(leaf), None) => {
                            tr data-leaf=(leaf) data-index=(index) {
                                td { (cell(&row.step["at"])) } td { (cell(&row.step["event_type"])) } td.mono { (cell(&row.step["event_id"])) } td { (index) }
                                td.verdict { "not yet in a signed checkpoint" }
                            }
                        }
                        _ => {
                            tr {
                                td { (cell(&row.step["at"])) } td { (cell(&row.step["event_type"])) } td.mono { (cell(&row.step["event_id"])) } td { "—" }
                                td { "not on the ledger yet" }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Signed checkpoint" }
        @match &note {
            Some(note) => pre #checkpoint-note { (note) },
            None => p { "No checkpoint has been signed yet; the proofs can be checked once one is." },
        }
        (pin_section())
    };
    render(body)
}

async fn explanation(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<ClaimQuery>) -> Response {
    let session = match signed_in(&state, &headers, Some(Page::Explanation)).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let current = Page::Explanation;
    let Some(raw_id) = query.claim_id.as_deref().filter(|id| !id.trim().is_empty()) else {
        return page(StatusCode::OK, views::layout(current.title(), Some(&frame(&session, Some(current))), html! {}, claim_form(current.path(), "")));
    };
    let id = match claim_id(raw_id) {
        Ok(id) => id,
        Err(detail) => return bad_request(&session, current, &detail),
    };
    let answer = match state.upstream.json(Service::Adjudication, &session.api_key, &format!("/v1/claims/{id}/explanation"), &[]).await {
        Ok(answer) => answer,
        Err(e) => return upstream_page(&session, current, e),
    };
    let mut rows = Vec::new();
    for line in answer["lines"].as_array().into_iter().flatten() {
        for (step_idx, step) in line["steps"].as_array().into_iter().flatten().enumerate() {
            let adjustment = &step["adjustment"];
            let adjustment = if adjustment.is_null() {
                String::new()
            } else {
                format!("{}-{} {}", cell(&adjustment["group"]), cell(&adjustment["reason"]), cell(&adjustment["amount"]))
            };
            rows.push(vec![
                cell(&line["sequence"]),
                cell(&line["procedure_code"]),
                (step_idx + 1).to_string(),
                cell(&step["kind"]),
                cell(&step["rule"]),
                cell(&step["source"]),
                adjustment,
                cell(&step["before"]),
                cell(&step["after"]),
                cell(&step["detail"]),
            ]);
        }
    }
    let table = Table::new(vec!["Line", "Procedure", "Step", "Kind", "Rule", "Source", "Adjustment", "Before", "After", "Detail"], rows);
    let lines: Vec<Vec<String>> = answer["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|line| vec![cell(&line["sequence"]), cell(&line["procedure_code"]), cell(&line["charge"]), cell(&line["allowed"]), cell(&line["paid"])])
        .collect();
    let render = |table_markup: Markup| {
        let body = html! {
            (claim_form(current.path(), id))
            dl.facts {
                dt { "Claim" } dd.mono { (cell(&answer["claim_id"])) }
                dt { "Status" } dd { (cell(&answer["status"])) }
                dt { "Outcome" } dd { (cell(&answer["outcome"])) }
                dt { "Rule set hash" } dd.mono { (cell(&answer["rule_set_hash"])) }
                dt { "Received on" } dd { (cell(&answer["received_on"])) }
                dt { "Decided on" } dd { (cell(&answer["decided_on"])) }
                dt { "Engine" } dd { (cell(&answer["engine_version"])) " (fact model " (cell(&answer["fact_model_version"])) ")" }
            }
            @if !answer["pended"].is_null() {
                p.message { "Pended (" (cell(&answer["pended"]["reason"])) ") at " (cell(&answer["pended"]["step"])) ": " (cell(&answer["pended"]["detail"])) }
            }
            h2 { "Facts the decision used" }
            ul { @for fact in answer["facts"].as_array().into_iter().flatten() { li { (cell(fact)) } } }
            h2 { "Lines" }
            table {
                caption { "Charge, allowed and paid by line" }
                thead { tr { th scope="col" { "Line" } th scope="col" { "Procedure" } th scope="col" { "Charge" } th scope="col" { "Allowed" } th scope="col" { "Paid" } } }
                tbody { @for line in &lines { tr { td { (line[0]) } td { (line[1]) } td.num { (line[2]) } td.num { (line[3]) } td.num { (line[4]) } } } }
            }
            h2 { "Step by step" }
            (table_markup)
        };
        page(StatusCode::OK, views::layout(current.title(), Some(&frame(&session, Some(current))), html! {}, body))
    };
    table_or_csv(&query.table, "explanation.csv", table, render, "Steps", current.path(), &format!("claim_id={}", encode(id)))
}

/// A payer id as the APIs take it: letters, digits, '-' or '_', at most 64.
pub(crate) fn checked_payer_id(text: &str) -> Result<&str, String> {
    if text.is_empty() || text.len() > 64 || !text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')) {
        return Err(format!("`{text}` is not a payer id (letters, digits, '-' or '_', at most 64)"));
    }
    Ok(text)
}

/// The payer a page is about (the one asked for, else the key's first) and the form to choose another.
pub(crate) fn payer_choice(session: &Session, asked: Option<&str>, path: &str, button: &str) -> (Markup, Option<String>) {
    let listed = session.viewer.listed_payers();
    let payer_id = asked.map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned).or_else(|| listed.first().cloned());
    let form = html! {
        form.inline method="get" action=(path) {
            div {
                label for="payer-id" { "Payer" }
                @if listed.is_empty() {
                    input #payer-id type="text" name="payer_id" value=(payer_id.clone().unwrap_or_default()) required;
                } @else {
                    select #payer-id name="payer_id" {
                        @for id in &listed { option value=(id) selected[payer_id.as_deref() == Some(id.as_str())] { (id) } }
                    }
                }
            }
            button type="submit" { (button) }
        }
    };
    (form, payer_id)
}

#[derive(Deserialize)]
pub struct PayerQuery {
    pub(crate) payer_id: Option<String>,
    #[serde(flatten)]
    pub(crate) table: TableQuery,
}

/// A page of the session's role: `body` under `current`'s title and menu.
pub(crate) fn show(session: &Session, current: Page, body: Markup) -> Response {
    page(StatusCode::OK, views::layout(current.title(), Some(&frame(session, Some(current))), html! {}, body))
}

async fn policy_versions(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<PayerQuery>) -> Response {
    let session = match signed_in(&state, &headers, Some(Page::PolicyVersions)).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let current = Page::PolicyVersions;
    let (payer_form, payer_id) = payer_choice(&session, query.payer_id.as_deref(), current.path(), "Show versions");
    let Some(payer_id) = payer_id else {
        return page(StatusCode::OK, views::layout(current.title(), Some(&frame(&session, Some(current))), html! {}, payer_form));
    };
    if let Err(detail) = checked_payer_id(&payer_id) {
        return bad_request(&session, current, &detail);
    }
    let answer = match state.upstream.json(Service::Adjudication, &session.api_key, &format!("/v1/payers/{payer_id}/policy-versions"), &[]).await {
        Ok(answer) => answer,
        Err(e) => return upstream_page(&session, current, e),
    };
    let rows = answer["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|version| {
            ["kind", "name", "version_id", "content_hash", "row_count", "effective_from", "effective_to", "recorded_at"]
                .iter()
                .map(|field| cell(&version[*field]))
                .collect()
        })
        .collect();
    let table =
        Table::new(vec!["Kind", "Name", "Version", "Content hash (SHA3-256)", "Rows", "Effective from", "Effective to (exclusive)", "Recorded at"], rows);
    let render = |table_markup: Markup| {
        let body = html! {
            (payer_form)
            p.note { "Rule sets and policy tables of payer " (payer_id) ", with the hashes decisions cite." }
            (table_markup)
        };
        page(StatusCode::OK, views::layout(current.title(), Some(&frame(&session, Some(current))), html! {}, body))
    };
    table_or_csv(&query.table, "policy-versions.csv", table, render, "Policy versions", current.path(), &format!("payer_id={}", encode(&payer_id)))
}

async fn balances(State(state): State<DashboardState>, headers: HeaderMap, Query(query): Query<TableQuery>) -> Response {
    let session = match signed_in(&state, &headers, Some(Page::Balances)).await {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let current = Page::Balances;
    let answer = match state.upstream.json(Service::Settlement, &session.api_key, "/v1/journal/balances", &[]).await {
        Ok(answer) => answer,
        Err(e) => return upstream_page(&session, current, e),
    };
    let rows = answer["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|account| ["account", "debit", "credit", "balance"].iter().map(|field| cell(&account[*field])).collect())
        .collect();
    let table = Table::new(vec!["Account", "Debit", "Credit", "Balance (debit − credit)"], rows);
    let render = |table_markup: Markup| {
        let balanced = answer["balanced"].as_bool() == Some(true);
        let body = html! {
            dl.facts {
                dt { "Total debits" } dd { (cell(&answer["total_debit"])) }
                dt { "Total credits" } dd { (cell(&answer["total_credit"])) }
                dt { "Balanced" } dd class=(if balanced { "ok" } else { "failed" }) { @if balanced { "yes" } @else { "NO: debits and credits differ" } }
            }
            (table_markup)
        };
        page(StatusCode::OK, views::layout(current.title(), Some(&frame(&session, Some(current))), html! {}, body))
    };
    table_or_csv(&query, "journal-balances.csv", table, render, "Balances by account", current.path(), "")
}
