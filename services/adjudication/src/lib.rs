//! Adjudication: decides submitted claims.
//!
//! # Layout
//! - [`pricing`]: the pure pricing step (fee schedule, CO-45, CO-96).
//! - [`fee_schedules`]: the payer's fee schedule API and its projection.
//! - [`Adjudicator`]: the event handler: `claim.submitted.v1` in, `claim.adjudicated.v1` out.
//! - [`run`]: the service (`claimtrail serve adjudication`).

pub mod fee_schedules;
pub mod pricing;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use claimtrail_events::{ClaimAdjudicated, ClaimReversed, DomainEvent, Envelope, Family, Frequency, NewEvent, SubmittedClaim};
use claimtrail_runtime::{EventHandler, HandlerError, Runtime, ServeSettings, ServiceParts, http};
use claimtrail_store::{Migration, Store, stmt};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Value};
use tracing::Instrument as _;
use uuid::Uuid;

use crate::pricing::FeeSchedule;

pub const SERVICE: &str = "adjudication";

pub fn migrations() -> Vec<Migration> {
    vec![
        first_migration(),
        Migration { version: 2, name: "reversals", statements: |store| vec![format!("ALTER TABLE {} ADD COLUMN reversed_by TEXT", store.table("decisions"))] },
    ]
}

fn first_migration() -> Migration {
    Migration {
        version: 1,
        name: "fee schedules and decisions",
        statements: |store| {
            let t = store.types();
            vec![
                format!(
                    "CREATE TABLE {} (payer_id TEXT NOT NULL, procedure_code TEXT NOT NULL, amount_cents {} NOT NULL, PRIMARY KEY (payer_id, procedure_code))",
                    store.table("fees"),
                    t.bigint
                ),
                format!(
                    "CREATE TABLE {} (payer_id TEXT PRIMARY KEY, fee_schedule_id TEXT NOT NULL, content_hash TEXT NOT NULL, published_at {} NOT NULL DEFAULT {})",
                    store.table("fee_schedules"),
                    t.timestamp,
                    t.now
                ),
                format!(
                    "CREATE TABLE {} (claim_id {} PRIMARY KEY, outcome TEXT NOT NULL, rule_set_hash TEXT NOT NULL, total_paid_cents {} NOT NULL, decision TEXT NOT NULL, decided_at {} NOT NULL DEFAULT {})",
                    store.table("decisions"),
                    t.uuid,
                    t.bigint,
                    t.timestamp,
                    t.now
                ),
            ]
        },
    }
}

/// The event handler of adjudication.
pub struct Adjudicator {
    store: Store,
}

impl Adjudicator {
    pub fn new(store: Store) -> Adjudicator {
        Adjudicator { store }
    }
}

#[async_trait]
impl EventHandler for Adjudicator {
    fn families(&self) -> Vec<Family> {
        vec![Family::Claims]
    }

    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&["claim.submitted.v1", "claims.erased.v1"])
    }

    async fn handle(&self, tx: &DatabaseTransaction, envelope: &Envelope) -> Result<Vec<NewEvent>, HandlerError> {
        self.handle_with(tx, envelope, &mut HashMap::new()).await
    }

    /// Each event as [`EventHandler::handle`] does, with each payer's fee
    /// schedule read once for the whole batch (its transaction).
    async fn handle_batch(&self, tx: &DatabaseTransaction, events: &[&Envelope]) -> Result<Vec<NewEvent>, HandlerError> {
        let mut schedules = HashMap::new();
        let mut outgoing = Vec::new();
        for envelope in events {
            let span = claimtrail_runtime::event_span(envelope);
            let caused = self.handle_with(tx, envelope, &mut schedules).instrument(span.clone()).await?;
            outgoing.extend(claimtrail_runtime::consumer::continue_trace(caused, envelope, &span));
        }
        Ok(outgoing)
    }
}

/// The fee schedules read in one batch, by payer.
type Schedules = HashMap<String, FeeSchedule>;

impl Adjudicator {
    async fn handle_with(&self, tx: &DatabaseTransaction, envelope: &Envelope, schedules: &mut Schedules) -> Result<Vec<NewEvent>, HandlerError> {
        if claimtrail_runtime::erasure::apply(&self.store, tx, envelope).await? {
            return Ok(vec![]);
        }
        if envelope.event_type != "claim.submitted.v1" {
            return Ok(vec![]);
        }
        let DomainEvent::ClaimSubmitted(submitted) = envelope.domain_event().map_err(|e| HandlerError::Invalid(e.to_string()))? else {
            return Ok(vec![]);
        };
        let claim = &submitted.claim;
        let mut events = Vec::with_capacity(2);
        if claim.frequency != Frequency::Original {
            match self.reverse_original(tx, claim).await? {
                Reversal::Reversed(reversal) => {
                    let aggregate = reversal.claim_id.to_string();
                    events.push(NewEvent::new(reversal, aggregate).caused_by(envelope));
                    if claim.frequency == Frequency::Void {
                        return Ok(events);
                    }
                }
                Reversal::AlreadyReversed(denial) => {
                    self.record(tx, &denial).await?;
                    return Ok(vec![NewEvent::new(denial, claim.claim_id.to_string()).caused_by(envelope)]);
                }
            }
        }
        if !schedules.contains_key(&claim.payer_id) {
            schedules.insert(claim.payer_id.clone(), fee_schedules::load(&self.store, tx, &claim.payer_id).await?);
        }
        let schedule = &schedules[&claim.payer_id];
        let decision = pricing::adjudicate(claim, schedule).map_err(|e| HandlerError::Invalid(e.to_string()))?;
        self.record(tx, &decision).await?;
        events.push(NewEvent::new(decision, claim.claim_id.to_string()).caused_by(envelope));
        Ok(events)
    }
}

/// What a replacement or void does to its original's decision.
enum Reversal {
    Reversed(ClaimReversed),
    /// Another claim reversed it first: this one is denied.
    AlreadyReversed(ClaimAdjudicated),
}

impl Adjudicator {
    /// Reverses the decision of the claim `claim` replaces or voids. Its
    /// original not decided yet (delivered out of order) is a retryable error.
    async fn reverse_original(&self, tx: &DatabaseTransaction, claim: &SubmittedClaim) -> Result<Reversal, HandlerError> {
        let store = &self.store;
        let original_id = claim
            .related_claim_id
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or_else(|| HandlerError::Invalid(format!("claim {} replaces or voids no claim id", claim.claim_id)))?;
        let row = tx
            .query_one_raw(stmt(
                store,
                format!("SELECT decision, reversed_by FROM {} WHERE claim_id = $1", store.table("decisions")),
                vec![Value::from(original_id)],
            ))
            .await?
            .ok_or_else(|| HandlerError::Unexpected(anyhow::anyhow!("the original claim {original_id} is not decided yet; retrying")))?;
        let original: ClaimAdjudicated = serde_json::from_str(&row.try_get_by_index::<String>(0)?)
            .map_err(|e| HandlerError::Unexpected(anyhow::anyhow!("stored decision {original_id}: {e}")))?;
        // Conditional, so that of two concurrent replacements only one reverses.
        let updated = tx
            .execute_raw(stmt(
                store,
                format!("UPDATE {} SET reversed_by = $2 WHERE claim_id = $1 AND reversed_by IS NULL", store.table("decisions")),
                vec![Value::from(original_id), Value::from(claim.claim_id.to_string())],
            ))
            .await?;
        if updated.rows_affected() == 1 {
            return Ok(Reversal::Reversed(pricing::reverse(&original, claim)));
        }
        let reversed_by = tx
            .query_one_raw(stmt(store, format!("SELECT reversed_by FROM {} WHERE claim_id = $1", store.table("decisions")), vec![Value::from(original_id)]))
            .await?
            .map(|row| row.try_get_by_index::<Option<String>>(0))
            .transpose()?
            .flatten()
            .unwrap_or_default();
        Ok(Reversal::AlreadyReversed(pricing::deny_already_reversed(claim, &reversed_by, &original.rule_set_hash)))
    }

    /// Stores a decision (for replays and reversals).
    async fn record(&self, tx: &DatabaseTransaction, decision: &ClaimAdjudicated) -> Result<(), HandlerError> {
        let decision_json = serde_json::to_string(&decision).map_err(|e| HandlerError::Unexpected(e.into()))?;
        let outcome = serde_json::to_value(decision.outcome).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        tx.execute_raw(stmt(
            &self.store,
            format!("INSERT INTO {} (claim_id, outcome, rule_set_hash, total_paid_cents, decision) VALUES ($1, $2, $3, $4, $5)", self.store.table("decisions")),
            vec![
                Value::from(decision.claim_id),
                Value::from(outcome),
                Value::from(decision.rule_set_hash.clone()),
                Value::from(decision.total_paid.cents().map_err(|e| HandlerError::Invalid(format!("paid amount: {e}")))?),
                Value::from(decision_json),
            ],
        ))
        .await?;
        Ok(())
    }
}

/// The service's routes, handler and tasks on `runtime`.
pub fn parts(runtime: &Runtime) -> ServiceParts {
    ServiceParts {
        openapi: openapi(),
        routes: fee_schedules::routes(runtime.clone()),
        handler: Some(Arc::new(Adjudicator::new(runtime.store.clone()))),
        readiness: http::always_ready(),
        background: vec![],
    }
}

/// Runs the adjudication service alone until `shutdown` (`claimtrail serve adjudication`).
pub async fn run(settings: ServeSettings, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let runtime = Runtime::connect(&settings, SERVICE, &migrations()).await?;
    let parts = parts(&runtime);
    runtime.run(parts, shutdown).await
}

/// The OpenAPI paths this service serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(fee_schedules::publish, fee_schedules::show))]
    struct ApiDoc;
    <ApiDoc as utoipa::OpenApi>::openapi()
}
