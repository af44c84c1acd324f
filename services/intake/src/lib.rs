//! Intake: accepts claims from providers and answers their status.
//!
//! # Layout
//! - [`auth`]: API keys and tenants.
//! - [`submit`]: `POST /v1/claims` (FHIR R4 Claim or Bundle): content type,
//!   size, structure, front-end edits; one transaction for the claims, their
//!   history and their events.
//! - [`status`]: `GET /v1/claims/{id}` and the projection of adjudication and
//!   settlement events that feeds it.
//! - [`run`]: the service (`claimtrail serve intake`).

pub mod access;
pub mod auth;
pub mod edits;
pub mod erasure;
pub mod idempotency;
pub mod imports;
pub mod reference;
pub mod registry;
pub mod status;
pub mod submit;
pub mod x12;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use claimtrail_runtime::{Runtime, ServeSettings, ServiceParts, http};
use claimtrail_store::Migration;

pub const SERVICE: &str = "intake";

pub fn migrations() -> Vec<Migration> {
    vec![
        Migration {
            version: 1,
            name: "claims, history, api keys",
            statements: |store| {
                let t = store.types();
                vec![
                    format!(
                        "CREATE TABLE {} (claim_id {} PRIMARY KEY, submitter TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL, outcome TEXT, \
                 payer_id TEXT, billing_npi TEXT, total_charge_cents {}, total_paid_cents {}, claim TEXT, issues TEXT NOT NULL, decision TEXT, \
                 received_at TEXT NOT NULL, updated_at {} NOT NULL DEFAULT {})",
                        store.table("claims"),
                        t.uuid,
                        t.bigint,
                        t.bigint,
                        t.timestamp,
                        t.now
                    ),
                    format!("CREATE INDEX {} ON {} (submitter, received_at)", store.index("claims_submitter"), store.table("claims")),
                    format!(
                        "CREATE TABLE {} (history_id {}, claim_id {} NOT NULL, status TEXT NOT NULL, event_type TEXT NOT NULL, event_id {} NOT NULL UNIQUE, \
                 at TEXT NOT NULL, detail TEXT NOT NULL)",
                        store.table("claim_history"),
                        t.id,
                        t.uuid,
                        t.uuid
                    ),
                    format!("CREATE INDEX {} ON {} (claim_id)", store.index("claim_history_claim"), store.table("claim_history")),
                    format!(
                        "CREATE TABLE {} (key_id TEXT PRIMARY KEY, secret_sha256 {} NOT NULL, tenant TEXT NOT NULL, role TEXT NOT NULL, created_at {} NOT NULL DEFAULT {})",
                        store.table("api_keys"),
                        t.bytes,
                        t.timestamp,
                        t.now
                    ),
                ]
            },
        },
        Migration {
            version: 2,
            name: "access log",
            statements: |store| {
                let t = store.types();
                vec![
                    format!(
                        "CREATE TABLE {} (access_id {}, claim_id {} NOT NULL, reader_tenant TEXT NOT NULL, reader_key_id TEXT NOT NULL, view TEXT NOT NULL, \
                     at {} NOT NULL DEFAULT {})",
                        store.table("access_log"),
                        t.id,
                        t.uuid,
                        t.timestamp,
                        t.now
                    ),
                    format!("CREATE INDEX {} ON {} (claim_id)", store.index("access_log_claim"), store.table("access_log")),
                ]
            },
        },
        idempotency::migration(),
        reference::migration(),
        registry::migration(),
        x12::migration(),
        erasure::migration(),
        Migration {
            version: 8,
            name: "related-claim index over replacements and voids only",
            // Originals (nearly every claim) have no related claim; indexing their NULLs cost every insert an index entry.
            // The one query (`related_claim_id IN (...)`) implies IS NOT NULL, so both backends still use the index.
            statements: |store| {
                let claims = store.table("claims");
                vec![
                    format!("DROP INDEX {}", store.index_path("claims_related")),
                    format!("CREATE INDEX {} ON {claims} (related_claim_id) WHERE related_claim_id IS NOT NULL", store.index("claims_related")),
                ]
            },
        },
        idempotency::lease_migration(),
    ]
}

/// Every intake route.
pub fn routes(runtime: Runtime) -> Router {
    submit::routes(runtime.clone())
        .merge(status::routes(runtime.clone()))
        .merge(reference::routes(runtime.clone()))
        .merge(registry::routes(runtime.clone()))
        .merge(x12::routes(runtime.clone()))
        .merge(imports::routes(runtime.clone()))
        .merge(erasure::routes(runtime.clone()))
        .merge(access::routes(runtime))
}

/// The service's routes, handler and tasks on `runtime`. API keys created
/// before they moved to the shared registry are copied there first; embedded,
/// Idempotency-Keys that a dead process left in flight are freed.
pub async fn parts(runtime: &Runtime) -> anyhow::Result<ServiceParts> {
    copy_legacy_keys(runtime).await?;
    if !runtime.store.is_postgres() {
        // Embedded, this process is the data directory's one intake: a key left in flight was a dead process's.
        let released = idempotency::release_abandoned(&runtime.store).await?;
        if released > 0 {
            tracing::info!(released, "released Idempotency-Keys left in flight by the last process");
        }
    }
    Ok(ServiceParts {
        openapi: openapi(),
        routes: routes(runtime.clone()),
        handler: Some(Arc::new(status::StatusProjection::new(runtime.store.clone()))),
        readiness: http::always_ready(),
        background: vec![Box::pin(idempotency::sweep(runtime.store.clone(), runtime.stop_signal()))],
    })
}

/// Intake kept the API keys in its own `api_keys` table before every
/// service authenticated against the shared registry: copy any such key
/// over (idempotent; the registry's row wins). `WHERE true` resolves
/// SQLite's parsing ambiguity between the SELECT and the upsert clause.
async fn copy_legacy_keys(runtime: &Runtime) -> anyhow::Result<()> {
    use claimtrail_store::stmt;
    use sea_orm::ConnectionTrait as _;
    let sql = format!(
        "INSERT INTO {} (key_id, secret_sha256, tenant, role, payer_id) SELECT key_id, secret_sha256, tenant, role, payer_id FROM {} \
         WHERE true ON CONFLICT (key_id) DO NOTHING",
        runtime.registry.table("api_keys"),
        runtime.store.table("api_keys")
    );
    runtime.store.db().execute_raw(stmt(&runtime.store, sql, vec![])).await?;
    Ok(())
}

/// Runs the intake service alone until `shutdown` (`claimtrail serve intake`).
pub async fn run(settings: ServeSettings, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let runtime = Runtime::connect(&settings, SERVICE, &migrations()).await?;
    let parts = parts(&runtime).await?;
    runtime.run(parts, shutdown).await
}

/// The OpenAPI paths this service serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(
        submit::submit,
        x12::submit_x12,
        status::list,
        status::show,
        status::claim_response,
        status::explanation_of_benefit,
        reference::put_member,
        reference::import_members,
        reference::put_enrollment,
        registry::put_payer,
        registry::put_provider,
        registry::show_provider,
        registry::put_signing_key,
        registry::list_signing_keys,
        imports::import_providers,
        imports::import_enrollments,
        access::list,
        erasure::erase
    ))]
    struct ApiDoc;
    <ApiDoc as utoipa::OpenApi>::openapi()
}

/// Rows and bytes of the tables intake grows per claim, for the bench.
pub async fn footprint(store: &claimtrail_store::Store) -> Result<claimtrail_store::Footprint, claimtrail_store::StoreError> {
    claimtrail_store::footprint(store, &["claims", "claim_history", "outbox", "inbox"]).await
}
