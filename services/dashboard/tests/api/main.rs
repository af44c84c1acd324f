//! The dashboard's router with a stub key registry and a clock the tests
//! move: sign-in, the session cookie, CSRF, the idle timeout and roles, and
//! sessions in the database (SQLite here; Postgres for restarts and replicas).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use claimtrail_dashboard::api::{self, DashboardState, KeyCheck};
use claimtrail_dashboard::domain::viewer::{Role, Viewer};
use claimtrail_dashboard::storage::sessions::SessionStore;
use claimtrail_dashboard::upstream::Upstream;
use claimtrail_store::{Store, StoreConfig};
use http_body_util::BodyExt as _;
use time::OffsetDateTime;
use time::macros::datetime;
use tower::ServiceExt as _;

const AUDITOR_KEY: &str = "ct_auditor_secret";
const FINANCE_KEY: &str = "ct_finance_secret";

struct TestApp {
    router: Router,
    now: Arc<Mutex<OffsetDateTime>>,
    store: Store,
    _dir: Option<tempfile::TempDir>,
}

struct Answer {
    status: StatusCode,
    set_cookies: Vec<String>,
    location: Option<String>,
    body: String,
}

impl Answer {
    fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies.iter().find_map(|c| c.strip_prefix(&format!("{name}=")).map(|rest| rest.split(';').next().unwrap_or_default().to_owned()))
    }

    /// The `csrf_token` hidden field of the (first) form.
    fn csrf_field(&self) -> String {
        let at = self.body.find("name=\"csrf_token\" value=\"").expect("a csrf field") + "name=\"csrf_token\" value=\"".len();
        self.body[at..].split('"').next().unwrap().to_owned()
    }
}

/// The dashboard on SQLite in a temporary directory.
async fn spawn_app(idle_timeout: Duration) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("dashboard.db").display());
    let mut app = spawn_on(&url, "t", idle_timeout).await;
    app._dir = Some(dir);
    app
}

async fn store(database_url: &str, prefix: &str) -> Store {
    let config = StoreConfig {
        database_url: database_url.to_owned(),
        service: claimtrail_dashboard::SERVICE.into(),
        prefix: prefix.into(),
        max_connections: 2,
        statement_timeout: None,
    };
    let store = Store::connect(&config).await.unwrap();
    store.migrate(&claimtrail_dashboard::migrations()).await.unwrap();
    store
}

/// One dashboard process (a replica, or the same one after a restart) on `database_url`.
async fn spawn_on(database_url: &str, prefix: &str, idle_timeout: Duration) -> TestApp {
    let store = store(database_url, prefix).await;
    let now = Arc::new(Mutex::new(datetime!(2026-12-07 09:00 UTC)));
    let clock_now = now.clone();
    let check_key: KeyCheck = Arc::new(|key: String| {
        Box::pin(async move {
            Ok(match key.as_str() {
                AUDITOR_KEY => Some(Viewer { name: "State Audit Office".into(), role: Role::Auditor, payer_id: None, payers: Some(vec!["60054".into()]) }),
                FINANCE_KEY => Some(Viewer { name: "Finance".into(), role: Role::Finance, payer_id: None, payers: Some(vec!["60054".into()]) }),
                _ => None,
            })
        })
    });
    let state = DashboardState {
        sessions: SessionStore::new(store.clone(), idle_timeout),
        upstream: Upstream::new(Arc::new(OnceLock::new())).unwrap(),
        check_key,
        clock: Arc::new(move || *clock_now.lock().unwrap()),
    };
    TestApp { router: api::routes(state), now, store, _dir: None }
}

fn postgres_url() -> String {
    std::env::var("CLAIMTRAIL_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestApp {
    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let set_cookies = response.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        let location = response.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned());
        let body = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        Answer { status, set_cookies, location, body }
    }

    async fn get(&self, path: &str, cookie: &str) -> Answer {
        self.send(Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap()).await
    }

    async fn post(&self, path: &str, cookie: &str, form: &str) -> Answer {
        let request = Request::post(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .unwrap();
        self.send(request).await
    }

    /// Signs in with `key` through the form; the session cookie header to send next.
    async fn sign_in(&self, key: &str) -> String {
        let form = self.get("/", "").await;
        let token = form.cookie(api::SIGN_IN_COOKIE).expect("the sign-in page sets its token cookie");
        assert_eq!(form.csrf_field(), token);
        let answer = self.post("/ui/sign-in", &format!("{}={token}", api::SIGN_IN_COOKIE), &format!("api_key={key}&csrf_token={token}")).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        format!("{}={}", api::SESSION_COOKIE, answer.cookie(api::SESSION_COOKIE).expect("a session cookie"))
    }

    fn advance(&self, by: Duration) {
        *self.now.lock().unwrap() += by;
    }
}

#[tokio::test]
async fn the_sign_in_page_and_the_assets_answer_without_credentials() {
    let app = spawn_app(Duration::from_secs(900)).await;
    let page = app.get("/", "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("API key"));
    let css = app.get("/ui/assets/dashboard.css", "").await;
    assert_eq!(css.status, StatusCode::OK);
    let script = app.get("/ui/assets/vendor/@noble/hashes/sha3.js", "").await;
    assert_eq!(script.status, StatusCode::OK);
    assert_eq!(app.get("/ui/assets/nothing.js", "").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_known_key_starts_a_session_in_an_http_only_same_site_strict_cookie() {
    let app = spawn_app(Duration::from_secs(900)).await;
    let form = app.get("/", "").await;
    let token = form.cookie(api::SIGN_IN_COOKIE).unwrap();
    let answer = app.post("/ui/sign-in", &format!("{}={token}", api::SIGN_IN_COOKIE), &format!("api_key={AUDITOR_KEY}&csrf_token={token}")).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location.as_deref(), Some("/"));
    let session = answer.set_cookies.iter().find(|c| c.starts_with(api::SESSION_COOKIE)).unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Path=/"), "{session}");
    assert!(!session.contains(AUDITOR_KEY), "the key never goes to the browser");
    let home = app.get("/", &format!("{}={}", api::SESSION_COOKIE, answer.cookie(api::SESSION_COOKIE).unwrap())).await;
    assert!(home.body.contains("State Audit Office") && home.body.contains("/ui/ledger") && !home.body.contains("/ui/balances"), "{}", home.body);
}

#[tokio::test]
async fn a_wrong_key_an_empty_key_and_a_missing_csrf_token_get_clear_pages() {
    let app = spawn_app(Duration::from_secs(900)).await;
    let token = app.get("/", "").await.cookie(api::SIGN_IN_COOKIE).unwrap();
    let cookie = format!("{}={token}", api::SIGN_IN_COOKIE);
    let wrong = app.post("/ui/sign-in", &cookie, &format!("api_key=ct_nobody_x&csrf_token={token}")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("That API key is not known"), "{}", wrong.body);
    let empty = app.post("/ui/sign-in", &cookie, &format!("api_key=&csrf_token={token}")).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.body.contains("Enter your API key"));
    let no_token = app.post("/ui/sign-in", &cookie, &format!("api_key={AUDITOR_KEY}")).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert!(no_token.body.contains("no CSRF token"), "{}", no_token.body);
    let other_token = app.post("/ui/sign-in", &cookie, &format!("api_key={AUDITOR_KEY}&csrf_token=forged")).await;
    assert_eq!(other_token.status, StatusCode::FORBIDDEN);
    assert!(other_token.body.contains("does not match"));
    assert!(other_token.cookie(api::SESSION_COOKIE).is_none());
}

#[tokio::test]
async fn a_session_idle_past_the_timeout_ends_with_a_page_that_says_so() {
    let app = spawn_app(Duration::from_secs(15 * 60)).await;
    let session = app.sign_in(AUDITOR_KEY).await;
    app.advance(Duration::from_secs(14 * 60));
    assert_eq!(app.get("/", &session).await.status, StatusCode::OK);
    app.advance(Duration::from_secs(14 * 60));
    assert_eq!(app.get("/", &session).await.status, StatusCode::OK, "the idle clock restarts at each request");
    app.advance(Duration::from_secs(15 * 60));
    let expired = app.get("/ui/ledger", &session).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(expired.body.contains("ended after 15 minutes without activity"), "{}", expired.body);
    assert!(expired.set_cookies.iter().any(|c| c.starts_with(&format!("{}=;", api::SESSION_COOKIE)) && c.contains("Max-Age=0")));
    assert_eq!(app.get("/ui/ledger", &session).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pages_need_a_session_and_a_role_that_has_them() {
    let app = spawn_app(Duration::from_secs(900)).await;
    let none = app.get("/ui/balances", "").await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert!(none.body.contains("not signed in"));
    let auditor = app.sign_in(AUDITOR_KEY).await;
    let refused = app.get("/ui/balances", &auditor).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Journal balances is not a page for a auditor key") || refused.body.contains("not a page for"), "{}", refused.body);
    let finance = app.sign_in(FINANCE_KEY).await;
    assert_eq!(app.get("/ui/ledger", &finance).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn sign_out_needs_the_sessions_csrf_token_and_ends_the_session() {
    let app = spawn_app(Duration::from_secs(900)).await;
    let session = app.sign_in(AUDITOR_KEY).await;
    let home = app.get("/", &session).await;
    let token = home.csrf_field();
    let refused = app.post("/ui/sign-out", &session, "").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let forged = app.post("/ui/sign-out", &session, "csrf_token=forged").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/", &session).await.status, StatusCode::OK, "still signed in");
    let out = app.post("/ui/sign-out", &session, &format!("csrf_token={token}")).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/ui/ledger", &session).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_claim_id_that_is_not_one_is_refused_before_any_api_call() {
    let app = spawn_app(Duration::from_secs(900)).await;
    let session = app.sign_in(AUDITOR_KEY).await;
    let answer = app.get("/ui/claims/proofs?claim_id=..%2F..%2Fv1%2Fledger", &session).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("is not a claim id"), "{}", answer.body);
}

#[tokio::test]
async fn every_page_carries_a_content_security_policy_that_admits_only_the_import_map() {
    let app = spawn_app(Duration::from_secs(900)).await;
    let response = app.router.clone().oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    let csp = response.headers().get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self' 'sha256-"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(response.headers().get(header::CACHE_CONTROL).unwrap(), "no-store");
}

#[tokio::test]
async fn a_session_survives_a_restart_and_works_on_every_replica_and_sign_out_ends_it_everywhere() {
    // Given two dashboard replicas on one Postgres database (the second is also what a restart looks like),
    let prefix = format!("dash{}", uuid::Uuid::now_v7().simple());
    let first = spawn_on(&postgres_url(), &prefix, Duration::from_secs(900)).await;
    let session = first.sign_in(AUDITOR_KEY).await;
    drop(first);
    let restarted = spawn_on(&postgres_url(), &prefix, Duration::from_secs(900)).await;
    let replica = spawn_on(&postgres_url(), &prefix, Duration::from_secs(900)).await;
    // when the browser comes back to either,
    let home = restarted.get("/", &session).await;
    // then it is still signed in, as itself, with the same CSRF token,
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.body.contains("State Audit Office"));
    let token = home.csrf_field();
    assert_eq!(replica.get("/", &session).await.csrf_field(), token);
    // and signing out on one replica signs out on the other.
    assert_eq!(replica.post("/ui/sign-out", &session, &format!("csrf_token={token}")).await.status, StatusCode::SEE_OTHER);
    assert_eq!(restarted.get("/ui/ledger", &session).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_idle_timeout_holds_across_replicas() {
    let prefix = format!("dash{}", uuid::Uuid::now_v7().simple());
    let one = spawn_on(&postgres_url(), &prefix, Duration::from_secs(15 * 60)).await;
    let two = spawn_on(&postgres_url(), &prefix, Duration::from_secs(15 * 60)).await;
    let session = one.sign_in(AUDITOR_KEY).await;
    // A request on replica two at minute 10 restarts the idle clock that replica one reads at minute 20.
    two.advance(Duration::from_secs(10 * 60));
    assert_eq!(two.get("/", &session).await.status, StatusCode::OK);
    one.advance(Duration::from_secs(20 * 60));
    assert_eq!(one.get("/", &session).await.status, StatusCode::OK, "idle 10 minutes, not 20");
    one.advance(Duration::from_secs(15 * 60));
    let expired = one.get("/ui/ledger", &session).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(expired.body.contains("ended after 15 minutes"), "{}", expired.body);
    assert_eq!(two.get("/", &session).await.status, StatusCode::UNAUTHORIZED, "ended for every replica");
}

#[tokio::test]
async fn the_session_table_holds_neither_the_cookies_id_nor_the_api_key() {
    use sea_orm::ConnectionTrait as _;
    let app = spawn_app(Duration::from_secs(900)).await;
    let session = app.sign_in(FINANCE_KEY).await;
    let id = session.split('=').nth(1).unwrap().to_owned();
    let rows = app
        .store
        .db()
        .query_all_raw(claimtrail_store::stmt(
            &app.store,
            format!("SELECT row_key, sealed_key, viewer, csrf_token FROM {}", app.store.table("sessions")),
            vec![],
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored: Vec<String> = (0..4).map(|idx| rows[0].try_get_by_index::<String>(idx).unwrap()).collect();
    let all = stored.join("|");
    assert!(!all.contains(&id), "the session id is not stored");
    assert!(!all.contains(FINANCE_KEY) && !all.contains(&hex_of(FINANCE_KEY)), "the API key is not stored in clear");
    assert!(stored[2].contains("Finance"));
    assert_eq!(SessionStore::new(app.store.clone(), Duration::from_secs(900)).count().await.unwrap(), 1);
}

fn hex_of(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn every_finance_action_needs_the_sessions_csrf_token_and_bad_input_is_refused_before_the_api() {
    let app = spawn_app(Duration::from_secs(900)).await;
    let session = app.sign_in(FINANCE_KEY).await;
    let token = app.get("/", &session).await.csrf_field();
    // No token, or another one: refused, and nothing reaches settlement (no API is configured here).
    for (path, form) in [
        ("/ui/payment-runs", "payer_id=60054&idempotency_key=k1".to_owned()),
        ("/ui/payment-holds", "payer_id=60054&action=place&npi=1234567893&reason=audit".to_owned()),
        ("/ui/reconciliation/exceptions/resolve", "payer_id=60054&exception_id=0193a0c4-1b2c-7d3e-8f40-123456789abc&reason=ok".to_owned()),
    ] {
        let refused = app.post(path, &session, &form).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}: {}", refused.body);
        assert!(refused.body.contains("CSRF"), "{path}");
        assert_eq!(app.post(path, &session, &format!("{form}&csrf_token=forged")).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    // With the token, a malformed NPI, exception id or missing reason is named.
    let bad_npi = app.post("/ui/payment-holds", &session, &format!("csrf_token={token}&payer_id=60054&action=place&npi=12%2F..&reason=x")).await;
    assert_eq!(bad_npi.status, StatusCode::BAD_REQUEST);
    assert!(bad_npi.body.contains("is not an NPI"), "{}", bad_npi.body);
    let no_reason = app
        .post(
            "/ui/reconciliation/exceptions/resolve",
            &session,
            &format!("csrf_token={token}&payer_id=60054&exception_id=0193a0c4-1b2c-7d3e-8f40-123456789abc&reason=+"),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    assert!(no_reason.body.contains("a reason is required"), "{}", no_reason.body);
    // A statement upload is multipart; its CSRF token is a field of the form.
    let boundary = "XyZ";
    let upload = |csrf: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"payer_id\"\r\n\r\n60054\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"statement\"; filename=\"s.bai\"\r\n\r\n01,x/\r\n--{boundary}--\r\n"
        )
    };
    let send = |body: String| {
        Request::post("/ui/reconciliation/statements")
            .header(header::COOKIE, &session)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap()
    };
    let forged = app.send(send(upload("forged"))).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let not_multipart = app.post("/ui/reconciliation/statements", &session, &format!("csrf_token={token}")).await;
    assert_eq!(not_multipart.status, StatusCode::BAD_REQUEST);
    assert!(not_multipart.body.contains("multipart/form-data"), "{}", not_multipart.body);
    // An auditor has no finance actions.
    let auditor = app.sign_in(AUDITOR_KEY).await;
    let auditor_token = app.get("/", &auditor).await.csrf_field();
    assert_eq!(app.post("/ui/payment-holds", &auditor, &format!("csrf_token={auditor_token}&payer_id=60054")).await.status, StatusCode::FORBIDDEN);
}
