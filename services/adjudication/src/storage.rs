//! All of adjudication's SQL: its migrations, the payer's fee schedules,
//! the decisions and their records, the registry projections and the claim
//! history (ADR 0002: raw SQL with the store's dynamic names).
//!
//! The registry projections (`member_enrollments`, `provider_enrollments`,
//! `payers`) are bitemporal and append-only: each `reference.>` event adds a
//! version with its valid period (coverage, enrollment), the time its
//! producer recorded it (`occurred_at`) and the time adjudication learned it
//! (`recorded_at`). The current fact is the latest version; [`member`] and
//! the others also answer "as known at T".

use std::collections::HashMap;

use claimtrail_benefits::{AccumulatorEntry, AccumulatorsApplied, Bucket, ClaimVersion};
use claimtrail_codes::MemberId;
use claimtrail_events::{
    AccumulatorsChanged, ClaimAdjudicated, FeeScheduleEntry, MemberEnrolled, Money, PayerRegistered, ProviderEnrolled, Timestamp, format_date, parse_date,
};
use claimtrail_store::{Migration, Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use uuid::Uuid;

use crate::domain::policy::PolicyReplayError;
use crate::domain::{
    DecisionRecord, DecisionState, FeeSchedule, HistoryCounts, HistoryFact, HistoryReach, HistoryStatus, MemberFacts, PayerFacts, ProviderFacts, RegistryFacts,
    ResolvedRuleSet,
};

pub mod batch;
pub mod pending;
pub mod reprocess;

pub fn migrations() -> Vec<Migration> {
    vec![
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
        },
        Migration { version: 2, name: "reversals", statements: |store| vec![format!("ALTER TABLE {} ADD COLUMN reversed_by TEXT", store.table("decisions"))] },
        Migration {
            version: 3,
            name: "registry projections, claim history and decision records",
            statements: |store| {
                let t = store.types();
                vec![
                    format!(
                        "CREATE TABLE {} (event_id {} PRIMARY KEY, payer_id TEXT NOT NULL, member_id TEXT NOT NULL, plan_id TEXT NOT NULL, subscriber_id TEXT, \
                         coverage_start TEXT NOT NULL, coverage_end TEXT NOT NULL, date_of_death TEXT, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL)",
                        store.table("member_enrollments"),
                        t.uuid
                    ),
                    format!(
                        "CREATE INDEX {} ON {} (payer_id, member_id, recorded_at)",
                        store.index("member_enrollments_by_member"),
                        store.table("member_enrollments")
                    ),
                    format!(
                        "CREATE TABLE {} (event_id {} PRIMARY KEY, npi TEXT NOT NULL, payer_id TEXT NOT NULL, enrollment_start TEXT NOT NULL, \
                         enrollment_end TEXT NOT NULL, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL)",
                        store.table("provider_enrollments"),
                        t.uuid
                    ),
                    format!(
                        "CREATE INDEX {} ON {} (npi, payer_id, recorded_at)",
                        store.index("provider_enrollments_by_npi"),
                        store.table("provider_enrollments")
                    ),
                    format!(
                        "CREATE TABLE {} (event_id {} PRIMARY KEY, payer_id TEXT NOT NULL, timely_filing_days {} NOT NULL, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL)",
                        store.table("payers"),
                        t.uuid,
                        t.bigint
                    ),
                    format!("CREATE INDEX {} ON {} (payer_id, recorded_at)", store.index("payers_by_id"), store.table("payers")),
                    format!(
                        "CREATE TABLE {} (claim_id {} NOT NULL, sequence {} NOT NULL, payer_id TEXT NOT NULL, member_id TEXT NOT NULL, subscriber_id TEXT, \
                         billing_npi TEXT NOT NULL, rendering_npi TEXT, service_date TEXT NOT NULL, procedure_code TEXT NOT NULL, modifiers TEXT NOT NULL, \
                         units TEXT NOT NULL, charge_cents {} NOT NULL, status TEXT NOT NULL, PRIMARY KEY (claim_id, sequence))",
                        store.table("claim_lines"),
                        t.uuid,
                        t.bigint,
                        t.bigint
                    ),
                    format!("CREATE INDEX {} ON {} (payer_id, member_id, service_date)", store.index("claim_lines_by_member"), store.table("claim_lines")),
                    format!(
                        "CREATE TABLE {} (claim_id {} PRIMARY KEY, event_type TEXT NOT NULL, payer_id TEXT NOT NULL, submitter TEXT NOT NULL, \
                         engine_version TEXT NOT NULL, payload TEXT NOT NULL, record TEXT NOT NULL, decided_at {} NOT NULL DEFAULT {})",
                        store.table("decision_records"),
                        t.uuid,
                        t.timestamp,
                        t.now
                    ),
                ]
            },
        },
        Migration {
            version: 4,
            name: "policy versions",
            statements: |store| {
                let t = store.types();
                vec![
                    format!(
                        "CREATE TABLE {} (version_id {} PRIMARY KEY, payer_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, content_hash TEXT NOT NULL, \
                         row_count {} NOT NULL, effective_from TEXT NOT NULL, effective_to TEXT, body {} NOT NULL, recorded_at TEXT NOT NULL)",
                        store.table("policy_versions"),
                        t.uuid,
                        t.bigint,
                        t.bytes
                    ),
                    format!(
                        "CREATE INDEX {} ON {} (payer_id, kind, name, effective_from, recorded_at)",
                        store.index("policy_versions_by_payer"),
                        store.table("policy_versions")
                    ),
                ]
            },
        },
        Migration {
            version: 5,
            name: "registry facts of the rule set's fact model",
            statements: |store| {
                let members = store.table("member_enrollments");
                let providers = store.table("provider_enrollments");
                vec![
                    format!("ALTER TABLE {members} ADD COLUMN birth_date TEXT"),
                    format!("ALTER TABLE {members} ADD COLUMN sex TEXT"),
                    format!("ALTER TABLE {members} ADD COLUMN relationship TEXT"),
                    format!("ALTER TABLE {providers} ADD COLUMN entity_type TEXT"),
                    format!("ALTER TABLE {providers} ADD COLUMN taxonomy TEXT"),
                ]
            },
        },
        Migration { version: 6, name: "accumulators", statements: accumulator_tables },
        Migration {
            version: 7,
            name: "the pended queue by payer",
            statements: |store| {
                vec![format!(
                    "CREATE INDEX {} ON {} (payer_id, event_type)",
                    store.index("decision_records_by_payer_and_type"),
                    store.table("decision_records")
                )]
            },
        },
        Migration { version: 8, name: "corrections that ripple and reprocessing jobs", statements: reprocess::tables },
        Migration { version: 9, name: "appeals", statements: appeal_tables },
        Migration {
            version: 10,
            name: "an individual provider's name and birth date (exclusion matching)",
            statements: |store| {
                let providers = store.table("provider_enrollments");
                vec![
                    format!("ALTER TABLE {providers} ADD COLUMN last_name TEXT"),
                    format!("ALTER TABLE {providers} ADD COLUMN first_name TEXT"),
                    format!("ALTER TABLE {providers} ADD COLUMN birth_date TEXT"),
                ]
            },
        },
        Migration {
            version: 11,
            name: "a subscriber's family, found without reading every enrollment",
            statements: |store| {
                // `family_size` runs for every claim of a member with a plan: without this index it
                // read the payer's whole enrollment history each time (issue 21's profile).
                vec![format!(
                    "CREATE INDEX {} ON {} (payer_id, subscriber_id)",
                    store.index("member_enrollments_by_subscriber"),
                    store.table("member_enrollments")
                )]
            },
        },
    ]
}

/// The appeals (issue 17): one per claim, `open` until a review decides it
/// (`upheld` or `overturned`); the appeal's event as JSON, and the
/// Idempotency-Key and SHA3-256 of the request that filed it.
fn appeal_tables(store: &Store) -> Vec<String> {
    let t = store.types();
    vec![
        format!(
            "CREATE TABLE {} (appeal_id {} PRIMARY KEY, claim_id {} NOT NULL UNIQUE, payer_id TEXT NOT NULL, appellant TEXT NOT NULL, \
             idempotency_key TEXT, request_sha3 TEXT NOT NULL, status TEXT NOT NULL, appeal TEXT NOT NULL, filed_on TEXT NOT NULL)",
            store.table("appeals"),
            t.uuid,
            t.uuid
        ),
        format!("CREATE INDEX {} ON {} (payer_id, status)", store.index("appeals_by_payer"), store.table("appeals")),
    ]
}

/// One appeal as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAppeal {
    pub appeal: claimtrail_events::ClaimAppealed,
    /// `open`, `upheld` or `overturned`.
    pub status: String,
    pub idempotency_key: Option<String>,
    pub request_sha3: String,
    pub filed_on: time::Date,
}

/// The status of an appeal waiting for its review.
pub const APPEAL_OPEN: &str = "open";

/// Records `appeal` (open), unless its claim was appealed before: false then.
pub async fn insert_appeal(
    store: &Store,
    tx: &impl ConnectionTrait,
    appeal: &claimtrail_events::ClaimAppealed,
    idempotency_key: Option<&str>,
    request_sha3: &str,
    filed_on: time::Date,
) -> Result<bool, StoreError> {
    let json = serde_json::to_string(appeal).map_err(|e| StoreError::Corrupt(format!("appeal {}: {e}", appeal.appeal_id)))?;
    let insert = format!(
        "INSERT INTO {} (appeal_id, claim_id, payer_id, appellant, idempotency_key, request_sha3, status, appeal, filed_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (claim_id) DO NOTHING",
        store.table("appeals")
    );
    let values = vec![
        Value::from(appeal.appeal_id),
        Value::from(appeal.claim_id),
        Value::from(appeal.payer_id.clone()),
        Value::from(appeal.appellant.clone()),
        Value::from(idempotency_key.map(str::to_owned)),
        Value::from(request_sha3.to_owned()),
        Value::from(APPEAL_OPEN.to_owned()),
        Value::from(json),
        Value::from(format_date(filed_on)),
    ];
    Ok(tx.execute_raw(stmt(store, insert, values)).await?.rows_affected() == 1)
}

fn appeal_row(row: &QueryResult) -> Result<StoredAppeal, StoreError> {
    let json: String = row.try_get_by_index(0)?;
    Ok(StoredAppeal {
        appeal: serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("stored appeal: {e}")))?,
        status: row.try_get_by_index(1)?,
        idempotency_key: row.try_get_by_index(2)?,
        request_sha3: row.try_get_by_index(3)?,
        filed_on: date_column(row, 4, "filed_on")?,
    })
}

/// The appeal of `claim_id`, if it was appealed.
pub async fn appeal_of(store: &Store, conn: &impl ConnectionTrait, claim_id: Uuid) -> Result<Option<StoredAppeal>, StoreError> {
    let select = format!("SELECT appeal, status, idempotency_key, request_sha3, filed_on FROM {} WHERE claim_id = $1", store.table("appeals"));
    conn.query_one_raw(stmt(store, select, vec![Value::from(claim_id)])).await?.as_ref().map(appeal_row).transpose()
}

/// `payer_id`'s open appeals (the pended queue's reason `appeal`).
pub async fn open_appeals(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<Vec<StoredAppeal>, StoreError> {
    let select = format!(
        "SELECT appeal, status, idempotency_key, request_sha3, filed_on FROM {} WHERE payer_id = $1 AND status = $2 ORDER BY claim_id",
        store.table("appeals")
    );
    let rows = conn.query_all_raw(stmt(store, select, vec![Value::from(payer_id.to_owned()), Value::from(APPEAL_OPEN.to_owned())])).await?;
    rows.iter().map(appeal_row).collect()
}

/// Closes the open appeal `appeal_id` with `outcome`; false when it was not open.
pub async fn close_appeal(store: &Store, tx: &impl ConnectionTrait, appeal_id: Uuid, outcome: &str) -> Result<bool, StoreError> {
    let update = format!("UPDATE {} SET status = $2 WHERE appeal_id = $1 AND status = $3", store.table("appeals"));
    let values = vec![Value::from(appeal_id), Value::from(outcome.to_owned()), Value::from(APPEAL_OPEN.to_owned())];
    Ok(tx.execute_raw(stmt(store, update, values)).await?.rows_affected() == 1)
}

/// Replaces the standing decision of a claim decided again (an overturned
/// appeal); false when the claim's decision was reversed meanwhile.
pub async fn replace_decision(store: &Store, tx: &impl ConnectionTrait, decision: &ClaimAdjudicated) -> Result<bool, StoreError> {
    let decision_json = serde_json::to_string(decision).map_err(|e| StoreError::Corrupt(format!("decision {}: {e}", decision.claim_id)))?;
    let total_paid_cents = decision.total_paid.cents().map_err(|e| StoreError::Corrupt(format!("paid amount of claim {}: {e}", decision.claim_id)))?;
    let update = format!(
        "UPDATE {} SET outcome = $2, rule_set_hash = $3, total_paid_cents = $4, decision = $5 WHERE claim_id = $1 AND reversed_by IS NULL",
        store.table("decisions")
    );
    let values = vec![
        Value::from(decision.claim_id),
        Value::from(decision.outcome.as_str()),
        Value::from(decision.rule_set_hash.clone()),
        Value::from(total_paid_cents),
        Value::from(decision_json),
    ];
    Ok(tx.execute_raw(stmt(store, update, values)).await?.rows_affected() == 1)
}

/// One stored version of a payer's policy table or rule set, without its
/// bytes: what the version listing shows and what a decision cites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version_id: Uuid,
    pub payer_id: String,
    /// `ncci-ptp`, `mue`, ..., or `rule-set` ([`crate::api::PolicyKind`]).
    pub kind: String,
    /// The rule set's name; the kind again for tables.
    pub name: String,
    /// Hex SHA3-256 of `body`.
    pub content_hash: String,
    pub row_count: u64,
    pub effective_from: time::Date,
    pub effective_to: Option<time::Date>,
    /// When adjudication stored it: a decision made before this never saw it.
    pub recorded_at: Timestamp,
}

/// Stores one version and its bytes, in `tx` (with its event, all or nothing).
pub async fn insert_policy_version(store: &Store, tx: &impl ConnectionTrait, version: &PolicyVersion, body: &[u8]) -> Result<(), StoreError> {
    let insert = format!(
        "INSERT INTO {} (version_id, payer_id, kind, name, content_hash, row_count, effective_from, effective_to, body, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        store.table("policy_versions")
    );
    let row_count = i64::try_from(version.row_count).map_err(|_| StoreError::Corrupt(format!("row count {} of a policy version", version.row_count)))?;
    let values = vec![
        Value::from(version.version_id),
        Value::from(version.payer_id.clone()),
        Value::from(version.kind.clone()),
        Value::from(version.name.clone()),
        Value::from(version.content_hash.clone()),
        Value::from(row_count),
        Value::from(format_date(version.effective_from)),
        Value::from(version.effective_to.map(format_date)),
        Value::from(body.to_vec()),
        Value::from(version.recorded_at.to_string()),
    ];
    tx.execute_raw(stmt(store, insert, values)).await?;
    Ok(())
}

fn policy_version_row(row: &QueryResult) -> Result<PolicyVersion, StoreError> {
    let row_count: i64 = row.try_get_by_index(5)?;
    let effective_to: Option<String> = row.try_get_by_index(7)?;
    Ok(PolicyVersion {
        version_id: row.try_get_by_index(0)?,
        payer_id: row.try_get_by_index(1)?,
        kind: row.try_get_by_index(2)?,
        name: row.try_get_by_index(3)?,
        content_hash: row.try_get_by_index(4)?,
        row_count: u64::try_from(row_count).map_err(|_| StoreError::Corrupt(format!("row count {row_count} of a policy version")))?,
        effective_from: date_column(row, 6, "effective_from")?,
        effective_to: match effective_to {
            Some(text) => Some(parse_date(&text).ok_or_else(|| StoreError::Corrupt(format!("effective_to `{text}` is not a date")))?),
            None => None,
        },
        recorded_at: timestamp_column(row, 8, "recorded_at")?,
    })
}

const POLICY_VERSION_COLUMNS: &str = "version_id, payer_id, kind, name, content_hash, row_count, effective_from, effective_to, recorded_at";

/// Every version `payer_id` uploaded, oldest first (by kind, name, effective date, then when recorded).
pub async fn policy_versions(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<Vec<PolicyVersion>, StoreError> {
    let select = format!(
        "SELECT {POLICY_VERSION_COLUMNS} FROM {} WHERE payer_id = $1 ORDER BY kind, name, effective_from, recorded_at, version_id",
        store.table("policy_versions")
    );
    let rows = conn.query_all_raw(stmt(store, select, vec![Value::from(payer_id.to_owned())])).await?;
    rows.iter().map(policy_version_row).collect()
}

/// The version of `payer_id`'s `kind`/`name` in force on `service_date` as
/// adjudication knew it at `known_at` (now: `None`): among the versions
/// recorded by then, the one with the latest effective date on or before the
/// date of service (the latest recorded when two share it), unless its end
/// date has passed. With its bytes.
pub async fn policy_version_in_force(
    store: &Store,
    conn: &impl ConnectionTrait,
    payer_id: &str,
    kind: &str,
    name: &str,
    service_date: time::Date,
    known_at: Option<Timestamp>,
) -> Result<Option<(PolicyVersion, Vec<u8>)>, StoreError> {
    let Some(version) = policy_version_meta_in_force(store, conn, payer_id, kind, name, service_date, known_at).await? else { return Ok(None) };
    let body = policy_body(store, conn, version.version_id).await?;
    Ok(Some((version, body)))
}

/// [`policy_version_in_force`] without the version's bytes: what a caller
/// that caches parsed versions by content hash reads per claim, fetching the
/// bytes ([`policy_body`]) only for a hash it has not seen.
pub async fn policy_version_meta_in_force(
    store: &Store,
    conn: &impl ConnectionTrait,
    payer_id: &str,
    kind: &str,
    name: &str,
    service_date: time::Date,
    known_at: Option<Timestamp>,
) -> Result<Option<PolicyVersion>, StoreError> {
    let mut values = vec![Value::from(payer_id.to_owned()), Value::from(kind.to_owned()), Value::from(name.to_owned()), Value::from(format_date(service_date))];
    let condition = known_at_condition(known_at, &mut values);
    let select = format!(
        "SELECT {POLICY_VERSION_COLUMNS} FROM {} WHERE payer_id = $1 AND kind = $2 AND name = $3 AND effective_from <= $4{condition} \
         ORDER BY effective_from DESC, recorded_at DESC, version_id DESC LIMIT 1",
        store.table("policy_versions")
    );
    let Some(row) = conn.query_one_raw(stmt(store, select, values)).await? else { return Ok(None) };
    let version = policy_version_row(&row)?;
    Ok(version.effective_to.is_none_or(|ends| service_date < ends).then_some(version))
}

/// The versions of every table and rule set of `payer_id` in force on
/// `service_date` as adjudication knows them now, without their bytes: per
/// kind and name, the latest effective on or before the date (the latest
/// recorded when two share it), unless its end date has passed. One query
/// per payer and date; the bytes are read ([`policy_body`]) only for a
/// content hash the consumer has not parsed yet.
pub async fn policy_versions_in_force(
    store: &Store,
    conn: &impl ConnectionTrait,
    payer_id: &str,
    service_date: time::Date,
) -> Result<Vec<PolicyVersion>, StoreError> {
    let select = format!(
        "SELECT {POLICY_VERSION_COLUMNS} FROM {} WHERE payer_id = $1 AND effective_from <= $2 \
         ORDER BY kind, name, effective_from DESC, recorded_at DESC, version_id DESC",
        store.table("policy_versions")
    );
    let rows = conn.query_all_raw(stmt(store, select, vec![Value::from(payer_id.to_owned()), Value::from(format_date(service_date))])).await?;
    let mut in_force: Vec<PolicyVersion> = Vec::new();
    for row in &rows {
        let version = policy_version_row(row)?;
        if in_force.last().is_some_and(|last| last.kind == version.kind && last.name == version.name) {
            continue;
        }
        in_force.push(version);
    }
    in_force.retain(|version| version.effective_to.is_none_or(|ends| service_date < ends));
    Ok(in_force)
}

/// One version of `payer_id` with its bytes, if it is that payer's.
pub async fn policy_version(
    store: &Store,
    conn: &impl ConnectionTrait,
    payer_id: &str,
    version_id: Uuid,
) -> Result<Option<(PolicyVersion, Vec<u8>)>, StoreError> {
    let select = format!("SELECT {POLICY_VERSION_COLUMNS}, body FROM {} WHERE version_id = $1 AND payer_id = $2", store.table("policy_versions"));
    let Some(row) = conn.query_one_raw(stmt(store, select, vec![Value::from(version_id), Value::from(payer_id.to_owned())])).await? else {
        return Ok(None);
    };
    let version = policy_version_row(&row)?;
    let body: Vec<u8> = row.try_get_by_index(9)?;
    Ok(Some((version, body)))
}

/// The canonical document of `payer_id`'s rule set `content_hash`, as
/// stored when it was published (the body of its first version with that
/// hash): what a record of format 3 cites by hash. `None`: no such rule set.
/// The caller checks the bytes against the hash
/// ([`crate::domain::ResolvedRuleSet::verify`]).
pub async fn rule_set_document(store: &Store, conn: &impl ConnectionTrait, payer_id: &str, content_hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let select = format!(
        "SELECT body FROM {} WHERE payer_id = $1 AND kind = $2 AND content_hash = $3 ORDER BY recorded_at, version_id LIMIT 1",
        store.table("policy_versions")
    );
    let values = vec![Value::from(payer_id.to_owned()), Value::from(crate::api::policy::PolicyKind::RuleSet.as_str()), Value::from(content_hash.to_owned())];
    let Some(row) = conn.query_one_raw(stmt(store, select, values)).await? else { return Ok(None) };
    Ok(Some(row.try_get_by_index(0)?))
}

/// The rule set `record` of `payer_id` cites by hash only (format 3),
/// loaded with [`rule_set_document`] and verified against the hash; `None`
/// when the record carries its document or ran no rule set. The inner error
/// names the hash: no document stored under it, or bytes that hash otherwise.
pub async fn resolve_rule_set(
    store: &Store,
    conn: &impl ConnectionTrait,
    payer_id: &str,
    record: &DecisionRecord,
) -> Result<Result<Option<ResolvedRuleSet>, PolicyReplayError>, StoreError> {
    let Some(used) = record.rule_set_to_resolve() else { return Ok(Ok(None)) };
    Ok(match rule_set_document(store, conn, payer_id, &used.content_hash).await? {
        None => Err(PolicyReplayError::NotStored { hash: used.content_hash.clone() }),
        Some(canonical) => ResolvedRuleSet::verify(used, &canonical).map(Some),
    })
}

/// The stored bytes of one policy version.
pub async fn policy_body(store: &Store, conn: &impl ConnectionTrait, version_id: Uuid) -> Result<Vec<u8>, StoreError> {
    let select = format!("SELECT body FROM {} WHERE version_id = $1", store.table("policy_versions"));
    let row = conn
        .query_one_raw(stmt(store, select, vec![Value::from(version_id)]))
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("policy version {version_id} has no row")))?;
    Ok(row.try_get_by_index(0)?)
}

/// Records a member enrollment version learned at `recorded_at` (idempotent by event id).
pub async fn record_member(
    store: &Store,
    tx: &impl ConnectionTrait,
    event_id: Uuid,
    member: &MemberEnrolled,
    occurred_at: Timestamp,
    recorded_at: Timestamp,
) -> Result<(), StoreError> {
    let insert = format!(
        "INSERT INTO {} (event_id, payer_id, member_id, plan_id, subscriber_id, coverage_start, coverage_end, date_of_death, occurred_at, recorded_at, \
         birth_date, sex, relationship) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (event_id) DO NOTHING",
        store.table("member_enrollments")
    );
    let values = vec![
        Value::from(event_id),
        Value::from(member.payer_id.clone()),
        Value::from(member.member_id.clone()),
        Value::from(member.plan_id.clone()),
        Value::from(member.subscriber_id.clone()),
        Value::from(format_date(member.coverage_start)),
        Value::from(format_date(member.coverage_end)),
        Value::from(member.date_of_death.map(format_date)),
        Value::from(occurred_at.to_string()),
        Value::from(recorded_at.to_string()),
        Value::from(format_date(member.birth_date)),
        Value::from(member.sex.clone()),
        Value::from(member.relationship.clone()),
    ];
    tx.execute_raw(stmt(store, insert, values)).await?;
    Ok(())
}

/// Records a provider enrollment version learned at `recorded_at`.
pub async fn record_provider(
    store: &Store,
    tx: &impl ConnectionTrait,
    event_id: Uuid,
    enrolled: &ProviderEnrolled,
    occurred_at: Timestamp,
    recorded_at: Timestamp,
) -> Result<(), StoreError> {
    let insert = format!(
        "INSERT INTO {} (event_id, npi, payer_id, enrollment_start, enrollment_end, occurred_at, recorded_at, entity_type, taxonomy, \
         last_name, first_name, birth_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (event_id) DO NOTHING",
        store.table("provider_enrollments")
    );
    let values = vec![
        Value::from(event_id),
        Value::from(enrolled.npi.clone()),
        Value::from(enrolled.payer_id.clone()),
        Value::from(format_date(enrolled.enrollment_start)),
        Value::from(format_date(enrolled.enrollment_end)),
        Value::from(occurred_at.to_string()),
        Value::from(recorded_at.to_string()),
        Value::from(enrolled.entity_type.to_string()),
        Value::from(enrolled.taxonomy.clone()),
        Value::from(enrolled.last_name.clone()),
        Value::from(enrolled.first_name.clone()),
        Value::from(enrolled.birth_date.map(format_date)),
    ];
    tx.execute_raw(stmt(store, insert, values)).await?;
    Ok(())
}

/// Records a payer's terms version learned at `recorded_at`.
pub async fn record_payer(
    store: &Store,
    tx: &impl ConnectionTrait,
    event_id: Uuid,
    payer: &PayerRegistered,
    occurred_at: Timestamp,
    recorded_at: Timestamp,
) -> Result<(), StoreError> {
    let insert = format!(
        "INSERT INTO {} (event_id, payer_id, timely_filing_days, occurred_at, recorded_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
        store.table("payers")
    );
    let values = vec![
        Value::from(event_id),
        Value::from(payer.payer_id.clone()),
        Value::from(i64::from(payer.timely_filing_days)),
        Value::from(occurred_at.to_string()),
        Value::from(recorded_at.to_string()),
    ];
    tx.execute_raw(stmt(store, insert, values)).await?;
    Ok(())
}

fn date_column(row: &QueryResult, idx: usize, what: &str) -> Result<time::Date, StoreError> {
    let text: String = row.try_get_by_index(idx)?;
    parse_date(&text).ok_or_else(|| StoreError::Corrupt(format!("{what} `{text}` is not a date")))
}

fn timestamp_column(row: &QueryResult, idx: usize, what: &str) -> Result<Timestamp, StoreError> {
    let text: String = row.try_get_by_index(idx)?;
    Timestamp::parse(&text).map_err(|e| StoreError::Corrupt(format!("{what} `{text}`: {e}")))
}

/// `AND recorded_at <= $n` when asking as known at `known_at`, with its value pushed.
fn optional_date_column(row: &QueryResult, column_idx: usize, what: &str) -> Result<Option<time::Date>, StoreError> {
    let text: Option<String> = row.try_get_by_index(column_idx)?;
    match text {
        Some(text) => parse_date(&text).map(Some).ok_or_else(|| StoreError::Corrupt(format!("{what} `{text}` is not a date"))),
        None => Ok(None),
    }
}

fn known_at_condition(known_at: Option<Timestamp>, values: &mut Vec<Value>) -> String {
    match known_at {
        Some(at) => {
            values.push(Value::from(at.to_string()));
            format!(" AND recorded_at <= ${}", values.len())
        }
        None => String::new(),
    }
}

/// The member's enrollment as adjudication knew it at `known_at` (now: `None`): the latest version recorded by then.
pub async fn member(
    store: &Store,
    conn: &impl ConnectionTrait,
    payer_id: &str,
    member_id: &str,
    known_at: Option<Timestamp>,
) -> Result<Option<MemberFacts>, StoreError> {
    let mut values = vec![Value::from(payer_id.to_owned()), Value::from(member_id.to_owned())];
    let condition = known_at_condition(known_at, &mut values);
    let select = format!(
        "SELECT {MEMBER_COLUMNS} FROM {} WHERE payer_id = $1 AND member_id = $2{condition} ORDER BY recorded_at DESC, event_id DESC LIMIT 1",
        store.table("member_enrollments")
    );
    let Some(row) = conn.query_one_raw(stmt(store, select, values)).await? else { return Ok(None) };
    member_row(&row).map(Some)
}

/// The columns [`member_row`] reads, in its order.
pub(crate) const MEMBER_COLUMNS: &str =
    "member_id, plan_id, subscriber_id, coverage_start, coverage_end, date_of_death, recorded_at, birth_date, sex, relationship, payer_id";

pub(crate) fn member_row(row: &QueryResult) -> Result<MemberFacts, StoreError> {
    Ok(MemberFacts {
        member_id: row.try_get_by_index(0)?,
        plan_id: row.try_get_by_index(1)?,
        subscriber_id: row.try_get_by_index(2)?,
        coverage_start: date_column(row, 3, "coverage start")?,
        coverage_end: date_column(row, 4, "coverage end")?,
        date_of_death: optional_date_column(row, 5, "date of death")?,
        recorded_at: timestamp_column(row, 6, "recorded_at")?,
        birth_date: optional_date_column(row, 7, "birth date")?,
        sex: row.try_get_by_index(8)?,
        relationship: row.try_get_by_index(9)?,
    })
}

/// The provider's enrollment with the payer as known at `known_at` (now: `None`).
pub async fn provider(
    store: &Store,
    conn: &impl ConnectionTrait,
    npi: &str,
    payer_id: &str,
    known_at: Option<Timestamp>,
) -> Result<Option<ProviderFacts>, StoreError> {
    let mut values = vec![Value::from(npi.to_owned()), Value::from(payer_id.to_owned())];
    let condition = known_at_condition(known_at, &mut values);
    let select = format!(
        "SELECT {PROVIDER_COLUMNS} FROM {} WHERE npi = $1 AND payer_id = $2{condition} ORDER BY recorded_at DESC, event_id DESC LIMIT 1",
        store.table("provider_enrollments")
    );
    let Some(row) = conn.query_one_raw(stmt(store, select, values)).await? else { return Ok(None) };
    provider_row(&row).map(Some)
}

/// The columns [`provider_row`] reads, in its order.
pub(crate) const PROVIDER_COLUMNS: &str =
    "npi, enrollment_start, enrollment_end, recorded_at, entity_type, taxonomy, payer_id, last_name, first_name, birth_date";

pub(crate) fn provider_row(row: &QueryResult) -> Result<ProviderFacts, StoreError> {
    Ok(ProviderFacts {
        npi: row.try_get_by_index(0)?,
        enrollment_start: date_column(row, 1, "enrollment start")?,
        enrollment_end: date_column(row, 2, "enrollment end")?,
        recorded_at: timestamp_column(row, 3, "recorded_at")?,
        entity_type: row.try_get_by_index::<Option<String>>(4)?.and_then(|text| text.parse().ok()),
        taxonomy: row.try_get_by_index(5)?,
        last_name: row.try_get_by_index(7)?,
        first_name: row.try_get_by_index(8)?,
        birth_date: optional_date_column(row, 9, "provider birth date")?,
    })
}

/// The payer's terms as known at `known_at` (now: `None`).
pub async fn payer(store: &Store, conn: &impl ConnectionTrait, payer_id: &str, known_at: Option<Timestamp>) -> Result<Option<PayerFacts>, StoreError> {
    let mut values = vec![Value::from(payer_id.to_owned())];
    let condition = known_at_condition(known_at, &mut values);
    let select =
        format!("SELECT {PAYER_COLUMNS} FROM {} WHERE payer_id = $1{condition} ORDER BY recorded_at DESC, event_id DESC LIMIT 1", store.table("payers"));
    let Some(row) = conn.query_one_raw(stmt(store, select, values)).await? else { return Ok(None) };
    payer_row(&row).map(Some)
}

/// The columns [`payer_row`] reads, in its order.
pub(crate) const PAYER_COLUMNS: &str = "payer_id, timely_filing_days, recorded_at";

pub(crate) fn payer_row(row: &QueryResult) -> Result<PayerFacts, StoreError> {
    let days: i64 = row.try_get_by_index(1)?;
    Ok(PayerFacts {
        payer_id: row.try_get_by_index(0)?,
        timely_filing_days: u32::try_from(days).map_err(|_| StoreError::Corrupt(format!("timely filing days {days} out of range")))?,
        recorded_at: timestamp_column(row, 2, "recorded_at")?,
    })
}

/// The registry facts of `claim` as known now.
pub async fn registry_facts(store: &Store, conn: &impl ConnectionTrait, claim: &claimtrail_events::SubmittedClaim) -> Result<RegistryFacts, StoreError> {
    Ok(RegistryFacts {
        member: member(store, conn, &claim.payer_id, &claim.member_id, None).await?,
        provider: provider(store, conn, &claim.billing_npi, &claim.payer_id, None).await?,
        payer: payer(store, conn, &claim.payer_id, None).await?,
        rendering_provider: match other_renderer(claim) {
            Some(npi) => provider(store, conn, npi, &claim.payer_id, None).await?,
            None => None,
        },
    })
}

/// The claim's rendering NPI when it is not the billing provider's.
pub(crate) fn other_renderer(claim: &claimtrail_events::SubmittedClaim) -> Option<&str> {
    claim.rendering_npi.as_deref().filter(|&npi| npi != &*claim.billing_npi)
}

/// History lines one decision reads and records, at most: the most recent
/// first. Realistic families have a handful per provider and day; the cap
/// keeps a decision record (and its replay) bounded when they do not.
pub const HISTORY_LINES_MAX: i64 = 200;

/// How far back the rule set's 365-day counts (and a prior authorization's
/// units used) reach before a date of service.
pub const HISTORY_DAYS: i64 = crate::domain::registry::HISTORY_DAYS;

/// The statuses of the lines that still stand (paid, pended), as stored.
fn standing_statuses() -> Vec<String> {
    HistoryStatus::ALL.into_iter().filter(|status| status.stands()).map(|status| status.as_str().to_owned()).collect()
}

/// The lines of the member's other claims from the same billing provider
/// within `reach` (`claim`'s dates of service, and its authorized codes'
/// dates: [`HistoryReach`]), the most recent [`HISTORY_LINES_MAX`].
pub async fn claim_history(
    store: &Store,
    conn: &impl ConnectionTrait,
    claim: &claimtrail_events::SubmittedClaim,
    reach: &HistoryReach,
) -> Result<Vec<HistoryFact>, StoreError> {
    if reach.dates.is_empty() {
        return Ok(vec![]);
    }
    let mut values = vec![
        Value::from(claim.payer_id.to_string()),
        Value::from(claim.member_id.to_string()),
        Value::from(claim.claim_id),
        Value::from(claim.billing_npi.to_string()),
    ];
    let dates: Vec<String> = reach.dates.iter().map(|date| format_date(*date)).collect();
    let mut within = vec![claimtrail_store::one_of_condition("service_date", Some(&dates), &mut values).unwrap_or_else(|| "1 = 0".to_owned())];
    for (code, from, to) in &reach.authorized {
        values.extend([Value::from(code.clone()), Value::from(format_date(*from)), Value::from(format_date(*to))]);
        let at = values.len();
        within.push(format!("(procedure_code = ${} AND service_date >= ${} AND service_date <= ${at})", at - 2, at - 1));
    }
    // The most recent first: the claim's own dates (what the edits read) lead unless 200 later lines crowd them out.
    let select = format!(
        "SELECT {HISTORY_COLUMNS} FROM {} \
         WHERE payer_id = $1 AND member_id = $2 AND claim_id <> $3 AND billing_npi = $4 AND ({}) \
         ORDER BY service_date DESC, claim_id DESC, sequence LIMIT {HISTORY_LINES_MAX}",
        store.table("claim_lines"),
        within.join(" OR ")
    );
    let rows = conn.query_all_raw(stmt(store, select, values)).await?;
    rows.iter().map(history_row).collect()
}

/// The rule set's 365-day counts for `claim` ([`HistoryCounts`], ascending
/// by date), counted in one statement: per date of service, the standing
/// lines of the member's other claims from the billing provider in the 365
/// days through it, by the claim's codes on that date, and their distinct claims.
pub async fn history_counts(store: &Store, conn: &impl ConnectionTrait, claim: &claimtrail_events::SubmittedClaim) -> Result<Vec<HistoryCounts>, StoreError> {
    let mut counts = history_counts_of(store, conn, &[claim]).await?;
    Ok(counts.remove(&claim.claim_id).unwrap_or_default())
}

/// Parts of one [`history_counts_of`] statement at most (SQLite allows 500 in a compound SELECT).
const HISTORY_COUNT_PARTS_MAX: usize = 400;

/// [`history_counts`] of each of `claims` (one batch's), in as few
/// statements as the parts allow: the same counts, each part tagged with its
/// claim and date.
pub async fn history_counts_of(
    store: &Store,
    conn: &impl ConnectionTrait,
    claims: &[&claimtrail_events::SubmittedClaim],
) -> Result<HashMap<Uuid, Vec<HistoryCounts>>, StoreError> {
    let table = store.table("claim_lines");
    let mut all = HashMap::with_capacity(claims.len());
    let mut values = Vec::new();
    let mut selects = Vec::new();
    // Per part: (claim, its counts being filled).
    let mut pending: Vec<(Uuid, Vec<HistoryCounts>)> = Vec::new();
    for (claim_at, claim) in claims.iter().enumerate() {
        let dates = crate::domain::registry::codes_by_date(claim);
        for (date_idx, (through, codes)) in dates.iter().enumerate() {
            // Each part binds its own values (no placeholder is used twice).
            let condition = |values: &mut Vec<Value>| {
                values.extend([
                    Value::from(claim.payer_id.to_string()),
                    Value::from(claim.member_id.to_string()),
                    Value::from(claim.claim_id),
                    Value::from(claim.billing_npi.to_string()),
                    Value::from(format_date(*through - time::Duration::days(HISTORY_DAYS))),
                    Value::from(format_date(*through)),
                ]);
                let at = values.len();
                let standing = claimtrail_store::one_of_condition("status", Some(&standing_statuses()), values).unwrap_or_else(|| "1 = 0".to_owned());
                format!(
                    "payer_id = ${} AND member_id = ${} AND claim_id <> ${} AND billing_npi = ${} AND service_date > ${} AND service_date <= ${at} AND {standing}",
                    at - 5,
                    at - 4,
                    at - 3,
                    at - 2,
                    at - 1
                )
            };
            let by_code = condition(&mut values);
            let codes: Vec<String> = codes.iter().cloned().collect();
            let code_in = claimtrail_store::one_of_condition("procedure_code", Some(&codes), &mut values).unwrap_or_else(|| "1 = 0".to_owned());
            let tag = (pending.len() * 1_000 + date_idx) as i64;
            selects.push(format!("SELECT CAST({tag} AS BIGINT), procedure_code, COUNT(*) FROM {table} WHERE {by_code} AND {code_in} GROUP BY procedure_code"));
            let every = condition(&mut values);
            selects.push(format!("SELECT CAST({tag} AS BIGINT), NULL, COUNT(DISTINCT claim_id) FROM {table} WHERE {every}"));
        }
        pending.push((
            claim.claim_id,
            dates.keys().map(|through| HistoryCounts { through: *through, claims: 0, codes: std::collections::BTreeMap::new() }).collect(),
        ));
        let last = claim_at + 1 == claims.len();
        let next_parts = claims.get(claim_at + 1).map_or(0, |next| 2 * crate::domain::registry::codes_by_date(next).len());
        if !last && selects.len() + next_parts <= HISTORY_COUNT_PARTS_MAX {
            continue;
        }
        if !selects.is_empty() {
            let count = |row: &QueryResult| -> Result<u32, StoreError> {
                let count: i64 = row.try_get_by_index(2)?;
                u32::try_from(count).map_err(|_| StoreError::Corrupt(format!("history count {count}")))
            };
            for row in conn.query_all_raw(stmt(store, std::mem::take(&mut selects).join(" UNION ALL "), std::mem::take(&mut values))).await? {
                let tag: i64 = row.try_get_by_index(0)?;
                let entry = usize::try_from(tag)
                    .ok()
                    .and_then(|tag| pending.get_mut(tag / 1_000).and_then(|(_, counts)| counts.get_mut(tag % 1_000)))
                    .ok_or_else(|| StoreError::Corrupt(format!("history count of part {tag}")))?;
                match row.try_get_by_index::<Option<String>>(1)? {
                    Some(code) => {
                        entry.codes.insert(code, count(&row)?);
                    }
                    None => entry.claims = count(&row)?,
                }
            }
        }
        all.extend(pending.drain(..));
        values.clear();
    }
    Ok(all)
}

/// The columns [`history_row`] reads, in its order.
pub(crate) const HISTORY_COLUMNS: &str =
    "claim_id, sequence, billing_npi, rendering_npi, service_date, procedure_code, modifiers, units, charge_cents, status, payer_id, member_id";

pub(crate) fn history_row(row: &QueryResult) -> Result<HistoryFact, StoreError> {
    let sequence: i64 = row.try_get_by_index(1)?;
    let modifiers: String = row.try_get_by_index(6)?;
    Ok(HistoryFact {
        claim_id: row.try_get_by_index(0)?,
        sequence: u32::try_from(sequence).map_err(|_| StoreError::Corrupt(format!("line sequence {sequence}")))?,
        billing_npi: row.try_get_by_index(2)?,
        rendering_npi: row.try_get_by_index(3)?,
        service_date: date_column(row, 4, "service date")?,
        procedure_code: row.try_get_by_index(5)?,
        modifiers: modifiers.split(',').filter(|m| !m.is_empty()).map(str::to_owned).collect(),
        units: row.try_get_by_index(7)?,
        charge: Money::from_cents(row.try_get_by_index(8)?),
        status: {
            let status: String = row.try_get_by_index(9)?;
            HistoryStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("claim history status `{status}`")))?
        },
    })
}

/// Adds `claim`'s lines to the claim history, each with its status (`paid`,
/// `denied`, `pended`), or updates them when the claim is decided again;
/// returns the rows as a later read returns them (the batch's cache keeps them).
pub async fn record_claim_lines(
    store: &Store,
    tx: &impl ConnectionTrait,
    claim: &claimtrail_events::SubmittedClaim,
    status_of: impl Fn(u32) -> HistoryStatus,
) -> Result<Vec<batch::HistoryRow>, StoreError> {
    let mut writes = pending::Writes::default();
    let lines = writes.lines(claim, status_of)?;
    writes.flush(store, tx).await?;
    Ok(lines)
}

/// Marks the history lines of `claim_id` reversed.
pub async fn reverse_claim_lines(store: &Store, tx: &impl ConnectionTrait, claim_id: Uuid) -> Result<(), StoreError> {
    let update = format!("UPDATE {} SET status = $1 WHERE claim_id = $2", store.table("claim_lines"));
    tx.execute_raw(stmt(store, update, vec![Value::from(HistoryStatus::Reversed.as_str()), Value::from(claim_id)])).await?;
    Ok(())
}

/// One stored decision with what it used.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    pub claim_id: Uuid,
    /// `claim.adjudicated.v1`, `claim.reversed.v1` (a void) or `claim.pended.v1`.
    pub event_type: String,
    pub payer_id: String,
    pub submitter: String,
    /// The decision payload's canonical bytes, as emitted.
    pub payload: Vec<u8>,
    /// The [`crate::domain::DecisionRecord`]'s canonical bytes.
    pub record: Vec<u8>,
}

/// Stores the record of a decision (a claim decided again, after a pend, replaces it).
pub async fn insert_record(store: &Store, tx: &impl ConnectionTrait, stored: &StoredRecord, engine_version: &str) -> Result<(), StoreError> {
    let mut writes = pending::Writes::default();
    writes.record(stored, engine_version)?;
    writes.flush(store, tx).await
}

/// The stored record of `claim_id`'s decision, if it was decided (or pended).
pub async fn record(store: &Store, conn: &impl ConnectionTrait, claim_id: Uuid) -> Result<Option<StoredRecord>, StoreError> {
    let select = format!("SELECT event_type, payer_id, submitter, payload, record FROM {} WHERE claim_id = $1", store.table("decision_records"));
    let Some(row) = conn.query_one_raw(stmt(store, select, vec![Value::from(claim_id)])).await? else { return Ok(None) };
    Ok(Some(StoredRecord {
        claim_id,
        event_type: row.try_get_by_index(0)?,
        payer_id: row.try_get_by_index(1)?,
        submitter: row.try_get_by_index(2)?,
        payload: row.try_get_by_index::<String>(3)?.into_bytes(),
        record: row.try_get_by_index::<String>(4)?.into_bytes(),
    }))
}

/// The decision records held and the length of their canonical JSON in all
/// (characters; the records are ASCII but for names): the bench's record-size figure.
pub async fn record_volume(store: &Store) -> Result<(i64, i64), StoreError> {
    let select = format!("SELECT COUNT(*), COALESCE(SUM(LENGTH(record)), 0) FROM {}", store.table("decision_records"));
    let row = store.db().query_one_raw(stmt(store, select, vec![])).await?;
    Ok(match row {
        Some(row) => (row.try_get_by_index(0)?, row.try_get_by_index(1)?),
        None => (0, 0),
    })
}

/// Deletes what adjudication holds of erased claims beyond its events: their
/// decision records (which hold the claim) and their history lines.
pub async fn erase_claims(store: &Store, tx: &impl ConnectionTrait, claim_ids: &[Uuid]) -> Result<(), StoreError> {
    for claim_id in claim_ids {
        for table in ["decision_records", "claim_lines"] {
            tx.execute_raw(stmt(store, format!("DELETE FROM {} WHERE claim_id = $1", store.table(table)), vec![Value::from(*claim_id)])).await?;
        }
    }
    Ok(())
}

/// A payer's fee schedule as published: its id, content hash and entries by code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchedule {
    pub fee_schedule_id: String,
    pub content_hash: String,
    pub entries: Vec<FeeScheduleEntry>,
}

/// Replaces `payer_id`'s schedule with `schedule` (entries sorted by code), in `tx`.
pub async fn replace_fee_schedule(store: &Store, tx: &impl ConnectionTrait, payer_id: &str, schedule: &StoredSchedule) -> Result<(), StoreError> {
    tx.execute_raw(stmt(store, format!("DELETE FROM {} WHERE payer_id = $1", store.table("fees")), vec![Value::from(payer_id.to_owned())])).await?;
    let mut rows = Vec::with_capacity(schedule.entries.len());
    for entry in &schedule.entries {
        let cents = entry.amount.cents().map_err(|e| StoreError::Corrupt(format!("fee of {}: {e}", entry.procedure_code)))?;
        rows.push(vec![Value::from(payer_id.to_owned()), Value::from(entry.procedure_code.clone()), Value::from(cents)]);
    }
    let insert = format!("INSERT INTO {} (payer_id, procedure_code, amount_cents) VALUES ", store.table("fees"));
    claimtrail_store::insert_rows(store, tx, &insert, rows, "").await?;
    let upsert = format!(
        "INSERT INTO {} (payer_id, fee_schedule_id, content_hash) VALUES ($1, $2, $3) \
         ON CONFLICT (payer_id) DO UPDATE SET fee_schedule_id = excluded.fee_schedule_id, content_hash = excluded.content_hash, published_at = {}",
        store.table("fee_schedules"),
        store.types().now
    );
    let values = vec![Value::from(payer_id.to_owned()), Value::from(schedule.fee_schedule_id.clone()), Value::from(schedule.content_hash.clone())];
    tx.execute_raw(stmt(store, upsert, values)).await?;
    Ok(())
}

/// `payer_id`'s schedule in force, entries by code, or `None` if it never published one.
pub async fn fee_schedule(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<Option<StoredSchedule>, StoreError> {
    let header = conn
        .query_one_raw(stmt(
            store,
            format!("SELECT fee_schedule_id, content_hash FROM {} WHERE payer_id = $1", store.table("fee_schedules")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    let Some(header) = header else { return Ok(None) };
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!("SELECT procedure_code, amount_cents FROM {} WHERE payer_id = $1 ORDER BY procedure_code", store.table("fees")),
            vec![Value::from(payer_id.to_owned())],
        ))
        .await?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        entries.push(FeeScheduleEntry { procedure_code: row.try_get_by_index(0)?, amount: Money::from_cents(row.try_get_by_index(1)?) });
    }
    Ok(Some(StoredSchedule { fee_schedule_id: header.try_get_by_index(0)?, content_hash: header.try_get_by_index(1)?, entries }))
}

/// The schedule the pricing step uses, read on `conn` (the transaction of
/// the batch of claims it prices: one read per payer and batch); `None` when
/// the payer never published one (pricing then uses the empty schedule).
pub async fn pricing_schedule(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<Option<FeeSchedule>, StoreError> {
    Ok(fee_schedule(store, conn, payer_id).await?.map(|stored| {
        let fees: HashMap<String, Money> = stored.entries.into_iter().map(|entry| (entry.procedure_code, entry.amount)).collect();
        FeeSchedule { content_hash: stored.content_hash, fees }
    }))
}

/// The decision state of `claim_id`, as stored.
pub async fn decision_state(store: &Store, conn: &impl ConnectionTrait, claim_id: Uuid) -> Result<DecisionState, StoreError> {
    let row = conn
        .query_one_raw(stmt(store, format!("SELECT decision, reversed_by FROM {} WHERE claim_id = $1", store.table("decisions")), vec![Value::from(claim_id)]))
        .await?;
    let Some(row) = row else { return Ok(DecisionState::Undecided) };
    let decision: ClaimAdjudicated =
        serde_json::from_str(&row.try_get_by_index::<String>(0)?).map_err(|e| StoreError::Corrupt(format!("stored decision {claim_id}: {e}")))?;
    Ok(match row.try_get_by_index::<Option<String>>(1)? {
        Some(by_claim_id) => DecisionState::Reversed { decision, by_claim_id },
        None => DecisionState::Decided { decision },
    })
}

/// Stores a decision (for replays and reversals).
pub async fn insert_decision(store: &Store, tx: &impl ConnectionTrait, decision: &ClaimAdjudicated) -> Result<(), StoreError> {
    let mut writes = pending::Writes::default();
    writes.decision(decision)?;
    writes.flush(store, tx).await
}

/// Marks `original` reversed by `by`, unless another claim reversed it
/// first (conditional, so that of two concurrent replacements one wins);
/// false when it lost that race.
pub async fn mark_reversed(store: &Store, tx: &impl ConnectionTrait, original: Uuid, by: Uuid) -> Result<bool, StoreError> {
    let updated = tx
        .execute_raw(stmt(
            store,
            format!("UPDATE {} SET reversed_by = $2 WHERE claim_id = $1 AND reversed_by IS NULL", store.table("decisions")),
            vec![Value::from(original), Value::from(by.to_string())],
        ))
        .await?;
    Ok(updated.rows_affected() == 1)
}

/// Rows and bytes this service holds, for the bench.
pub async fn footprint(store: &Store) -> Result<claimtrail_store::Footprint, StoreError> {
    claimtrail_store::footprint(
        store,
        &[
            "decisions",
            "decision_records",
            "claim_lines",
            "member_enrollments",
            "provider_enrollments",
            "payers",
            "accumulators",
            "accumulator_entries",
            "fees",
            "fee_schedules",
            "policy_versions",
            "claim_order",
            "claim_versions",
            "reprocessing_jobs",
            "reprocessing_claims",
            "appeals",
            "outbox",
            "inbox",
        ],
    )
    .await
}

/// The accumulator tables (issue 17): `accumulator_entries`, every amount
/// applied, reversed or imported (the event-sourced truth, in order), and
/// `accumulators`, their totals per payer, member (or family subscriber),
/// plan year and bucket, updated in the same transaction as the decision.
fn accumulator_tables(store: &Store) -> Vec<String> {
    let t = store.types();
    vec![
        format!(
            "CREATE TABLE {} (payer_id TEXT NOT NULL, member_id TEXT NOT NULL, plan_year {} NOT NULL, bucket TEXT NOT NULL, met_cents {} NOT NULL, \
             PRIMARY KEY (payer_id, member_id, plan_year, bucket))",
            store.table("accumulators"),
            t.bigint,
            t.bigint
        ),
        format!(
            "CREATE TABLE {} (entry_id {} PRIMARY KEY, payer_id TEXT NOT NULL, change_kind TEXT NOT NULL, claim_id {}, claim_version {}, source_sha3 TEXT, \
             entry_index {} NOT NULL, member_id TEXT NOT NULL, plan_year {} NOT NULL, bucket TEXT NOT NULL, amount_cents {} NOT NULL, recorded_at {} NOT NULL DEFAULT {})",
            store.table("accumulator_entries"),
            t.uuid,
            t.uuid,
            t.bigint,
            t.bigint,
            t.bigint,
            t.bigint,
            t.timestamp,
            t.now
        ),
        format!("CREATE INDEX {} ON {} (payer_id, claim_id)", store.index("accumulator_entries_by_claim"), store.table("accumulator_entries")),
    ]
}

fn accumulator_entry(member_id: String, plan_year: i64, bucket: String, cents: i64) -> Result<AccumulatorEntry, StoreError> {
    Ok(AccumulatorEntry {
        member_id: MemberId::parse(&member_id).map_err(|e| StoreError::Corrupt(format!("accumulator member id: {e}")))?,
        plan_year: i32::try_from(plan_year).map_err(|_| StoreError::Corrupt(format!("plan year {plan_year}")))?,
        bucket: Bucket::parse(&bucket).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        amount: Money::from_cents(cents),
    })
}

/// Records one accumulator change: its entries, in order, and the totals, in `tx`.
pub async fn record_accumulators(store: &Store, tx: &impl ConnectionTrait, changed: &AccumulatorsChanged) -> Result<(), StoreError> {
    let mut writes = pending::Writes::default();
    writes.accumulators(changed)?;
    writes.flush(store, tx).await
}

/// The totals of `member_ids`' buckets in `plan_years` at `payer_id`, sorted (zero totals left out).
pub async fn accumulator_position(
    store: &Store,
    conn: &impl ConnectionTrait,
    payer_id: &str,
    member_ids: &[&str],
    plan_years: &[i32],
) -> Result<Vec<AccumulatorEntry>, StoreError> {
    let mut position = Vec::new();
    for member_id in member_ids {
        for plan_year in plan_years {
            let select = format!(
                "SELECT member_id, plan_year, bucket, met_cents FROM {} WHERE payer_id = $1 AND member_id = $2 AND plan_year = $3 AND met_cents <> 0 ORDER BY bucket",
                store.table("accumulators")
            );
            let values = vec![Value::from(payer_id.to_owned()), Value::from((*member_id).to_owned()), Value::from(i64::from(*plan_year))];
            for row in conn.query_all_raw(stmt(store, select, values)).await? {
                position.push(accumulator_entry(row.try_get_by_index(0)?, row.try_get_by_index(1)?, row.try_get_by_index(2)?, row.try_get_by_index(3)?)?);
            }
        }
    }
    position.sort_by(|a, b| (&a.member_id, a.plan_year, a.bucket).cmp(&(&b.member_id, b.plan_year, b.bucket)));
    Ok(position)
}

/// The entries `claim_id` applied to the accumulators, while they stand (not reversed).
pub async fn applied_accumulators(
    store: &Store,
    conn: &impl ConnectionTrait,
    payer_id: &str,
    claim_id: Uuid,
) -> Result<Option<AccumulatorsApplied>, StoreError> {
    let select = format!(
        "SELECT change_kind, claim_version, member_id, plan_year, bucket, amount_cents FROM {} WHERE payer_id = $1 AND claim_id = $2 ORDER BY claim_version, recorded_at, entry_index",
        store.table("accumulator_entries")
    );
    let rows = conn.query_all_raw(stmt(store, select, vec![Value::from(payer_id.to_owned()), Value::from(claim_id)])).await?;
    // Per claim version (a claim decided again after an appeal applies its next one): its
    // applied entries, and whether they were reversed.
    let mut versions: std::collections::BTreeMap<u32, (Vec<AccumulatorEntry>, bool)> = std::collections::BTreeMap::new();
    for row in rows {
        let change: String = row.try_get_by_index(0)?;
        let claim_version: Option<i64> = row.try_get_by_index(1)?;
        let version = versions.entry(claim_version.and_then(|v| u32::try_from(v).ok()).unwrap_or(1)).or_default();
        match change.as_str() {
            "applied" => {
                version.0.push(accumulator_entry(row.try_get_by_index(2)?, row.try_get_by_index(3)?, row.try_get_by_index(4)?, row.try_get_by_index(5)?)?)
            }
            _ => version.1 = true,
        }
    }
    let standing = versions.into_iter().rev().find(|(_, (entries, reversed))| !entries.is_empty() && !reversed);
    Ok(standing.map(|(version, (entries, _))| AccumulatorsApplied { claim: ClaimVersion { claim_id: claim_id.into(), version }, entries }))
}

/// How many members `payer_id`'s registry enrolls under `subscriber_id` (the family's size).
pub async fn family_size(store: &Store, conn: &impl ConnectionTrait, payer_id: &str, subscriber_id: &str) -> Result<i64, StoreError> {
    let select = format!("SELECT COUNT(DISTINCT member_id) FROM {} WHERE payer_id = $1 AND subscriber_id = $2", store.table("member_enrollments"));
    let row = conn.query_one_raw(stmt(store, select, vec![Value::from(payer_id.to_owned()), Value::from(subscriber_id.to_owned())])).await?;
    Ok(match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    })
}

/// [`family_size`] of each of `subscriber_ids` at `payer_id`, in one statement (a subscriber no one is enrolled under: 0).
pub async fn family_sizes(store: &Store, conn: &impl ConnectionTrait, payer_id: &str, subscriber_ids: &[String]) -> Result<HashMap<String, i64>, StoreError> {
    let mut sizes: HashMap<String, i64> = subscriber_ids.iter().map(|id| (id.clone(), 0)).collect();
    if subscriber_ids.is_empty() {
        return Ok(sizes);
    }
    let mut values = vec![Value::from(payer_id.to_owned())];
    let subscriber_in = claimtrail_store::one_of_condition("subscriber_id", Some(subscriber_ids), &mut values).unwrap_or_else(|| "1 = 0".to_owned());
    let select = format!(
        "SELECT subscriber_id, COUNT(DISTINCT member_id) FROM {} WHERE payer_id = $1 AND {subscriber_in} GROUP BY subscriber_id",
        store.table("member_enrollments")
    );
    for row in conn.query_all_raw(stmt(store, select, values)).await? {
        sizes.insert(row.try_get_by_index(0)?, row.try_get_by_index(1)?);
    }
    Ok(sizes)
}

/// Every non-zero accumulator total of `member_ids` at `payer_id`, of any plan year, by member, in one statement.
pub async fn accumulator_totals(
    store: &Store,
    conn: &impl ConnectionTrait,
    payer_id: &str,
    member_ids: &[String],
) -> Result<HashMap<String, Vec<AccumulatorEntry>>, StoreError> {
    let mut totals: HashMap<String, Vec<AccumulatorEntry>> = member_ids.iter().map(|id| (id.clone(), Vec::new())).collect();
    if member_ids.is_empty() {
        return Ok(totals);
    }
    let mut values = vec![Value::from(payer_id.to_owned())];
    let member_in = claimtrail_store::one_of_condition("member_id", Some(member_ids), &mut values).unwrap_or_else(|| "1 = 0".to_owned());
    let select =
        format!("SELECT member_id, plan_year, bucket, met_cents FROM {} WHERE payer_id = $1 AND {member_in} AND met_cents <> 0", store.table("accumulators"));
    for row in conn.query_all_raw(stmt(store, select, values)).await? {
        let member_id: String = row.try_get_by_index(0)?;
        let entry = accumulator_entry(member_id.clone(), row.try_get_by_index(1)?, row.try_get_by_index(2)?, row.try_get_by_index(3)?)?;
        totals.entry(member_id).or_default().push(entry);
    }
    Ok(totals)
}

/// [`accumulator_position`] from the totals [`accumulator_totals`] read: `member_ids`' buckets in `plan_years`, sorted.
pub fn position_of(totals: &HashMap<String, Vec<AccumulatorEntry>>, member_ids: &[&str], plan_years: &[i32]) -> Option<Vec<AccumulatorEntry>> {
    let mut position = Vec::new();
    for member_id in member_ids {
        position.extend(totals.get(*member_id)?.iter().filter(|entry| plan_years.contains(&entry.plan_year)).cloned());
    }
    position.sort_by(|a, b| (&a.member_id, a.plan_year, a.bucket).cmp(&(&b.member_id, b.plan_year, b.bucket)));
    Some(position)
}

/// Whether `payer_id` imported the accumulator file whose SHA3-256 is `source_sha3`.
pub async fn import_recorded(store: &Store, conn: &impl ConnectionTrait, payer_id: &str, source_sha3: &str) -> Result<bool, StoreError> {
    let select = format!("SELECT 1 FROM {} WHERE payer_id = $1 AND source_sha3 = $2 LIMIT 1", store.table("accumulator_entries"));
    Ok(conn.query_one_raw(stmt(store, select, vec![Value::from(payer_id.to_owned()), Value::from(source_sha3.to_owned())])).await?.is_some())
}

/// The stored records of `payer_id`'s claims that are pended now (their last decision a pend).
/// The event type and record of each of the payer's decisions (or pends)
/// stored at or after `since` (`YYYY-MM-DD HH:MM:SS`, UTC): the auto-adjudication rate's input.
pub async fn records_decided_since(store: &Store, conn: &impl ConnectionTrait, payer_id: &str, since: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    // The text cast first, so Postgres types the parameter as text and then reads it as a timestamp.
    let select = format!(
        "SELECT event_type, record FROM {} WHERE payer_id = $1 AND decided_at >= CAST(CAST($2 AS TEXT) AS {})",
        store.table("decision_records"),
        store.types().timestamp
    );
    let values = vec![Value::from(payer_id.to_owned()), Value::from(since.to_owned())];
    let rows = conn.query_all_raw(stmt(store, select, values)).await?;
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        records.push((row.try_get_by_index(0)?, row.try_get_by_index::<String>(1)?.into_bytes()));
    }
    Ok(records)
}

/// What waits in each payer's queue: pended claims (since their decision
/// was recorded) and open appeals (since the day they were filed).
pub async fn queue_waiting(store: &Store, conn: &impl ConnectionTrait) -> Result<Vec<crate::domain::queue::Waiting>, StoreError> {
    use crate::domain::queue::{APPEAL, PENDED, Waiting};
    let oldest = if store.is_postgres() { "CAST(EXTRACT(EPOCH FROM MIN(decided_at)) AS BIGINT)" } else { "CAST(strftime('%s', MIN(decided_at)) AS INTEGER)" };
    let select = format!("SELECT payer_id, COUNT(*), {oldest} FROM {} WHERE event_type = $1 GROUP BY payer_id", store.table("decision_records"));
    let values = vec![Value::from(claimtrail_events::ClaimPended::EVENT_TYPE.to_owned())];
    let mut waiting = Vec::new();
    for row in conn.query_all_raw(stmt(store, select, values)).await? {
        let count: i64 = row.try_get_by_index(1)?;
        waiting.push(Waiting {
            payer_id: row.try_get_by_index(0)?,
            kind: PENDED,
            count: u64::try_from(count).unwrap_or(0),
            oldest_since: row.try_get_by_index(2)?,
        });
    }
    let select = format!("SELECT payer_id, COUNT(*), MIN(filed_on) FROM {} WHERE status = $1 GROUP BY payer_id", store.table("appeals"));
    for row in conn.query_all_raw(stmt(store, select, vec![Value::from(APPEAL_OPEN.to_owned())])).await? {
        let count: i64 = row.try_get_by_index(1)?;
        let filed_on = optional_date_column(&row, 2, "appeal filed on")?;
        waiting.push(Waiting {
            payer_id: row.try_get_by_index(0)?,
            kind: APPEAL,
            count: u64::try_from(count).unwrap_or(0),
            oldest_since: filed_on.map(|day| day.midnight().assume_utc().unix_timestamp()),
        });
    }
    Ok(waiting)
}

pub async fn pended_records(store: &Store, conn: &impl ConnectionTrait, payer_id: &str) -> Result<Vec<StoredRecord>, StoreError> {
    let select = format!(
        "SELECT claim_id, event_type, payer_id, submitter, payload, record FROM {} WHERE payer_id = $1 AND event_type = $2 ORDER BY claim_id",
        store.table("decision_records")
    );
    let values = vec![Value::from(payer_id.to_owned()), Value::from(claimtrail_events::ClaimPended::EVENT_TYPE.to_owned())];
    let rows = conn.query_all_raw(stmt(store, select, values)).await?;
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        records.push(StoredRecord {
            claim_id: row.try_get_by_index(0)?,
            event_type: row.try_get_by_index(1)?,
            payer_id: row.try_get_by_index(2)?,
            submitter: row.try_get_by_index(3)?,
            payload: row.try_get_by_index::<String>(4)?.into_bytes(),
            record: row.try_get_by_index::<String>(5)?.into_bytes(),
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use claimtrail_events::{Frequency, Timestamp};
    use claimtrail_store::StoreConfig;
    use time::macros::date;

    use super::*;
    use crate::domain::fixtures;
    use crate::domain::policy::RuleSetUsed;

    const RULE_SET: &str = r#"{"contentType":"application/vnd.gorules.decision",
        "nodes":[{"type":"inputNode","id":"in","name":"Request","position":{"x":0,"y":0}},
                 {"type":"outputNode","id":"out","name":"Response","position":{"x":400,"y":0}}],
        "edges":[{"id":"e0","sourceId":"in","targetId":"out","type":"edge"}],
        "policy":{"effective_from":"2026-01-01","mue_action":"deny","timely_filing_days":365,"standard_edits":["coverage"]}}"#;

    async fn store(dir: &tempfile::TempDir) -> Store {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("adjudication.db").display());
        let config = StoreConfig { database_url: url, service: "adjudication".into(), prefix: String::new(), max_connections: 1, statement_timeout: None };
        let store = Store::connect(&config).await.unwrap();
        store.migrate(&migrations()).await.unwrap();
        store
    }

    fn version(payer_id: &str, content_hash: &str) -> PolicyVersion {
        PolicyVersion {
            version_id: Uuid::now_v7(),
            payer_id: payer_id.into(),
            kind: "rule-set".into(),
            name: "payer-rules".into(),
            content_hash: content_hash.into(),
            row_count: 0,
            effective_from: date!(2026 - 01 - 01),
            effective_to: None,
            recorded_at: Timestamp::parse("2026-01-02T00:00:00.000000Z").unwrap(),
        }
    }

    /// A record citing `content_hash` (format 3: no document inside).
    fn citing(content_hash: &str) -> DecisionRecord {
        let schedule = FeeSchedule { content_hash: "c".repeat(64), fees: Default::default() };
        let facts = fixtures::facts(&schedule, DecisionState::Undecided);
        let mut record = DecisionRecord::of(&facts, &fixtures::claim(Frequency::Original, None, &[("99213", "100.00", 1)]), "riverside");
        record.policy.rule_set = Some(RuleSetUsed {
            content_hash: content_hash.into(),
            name: "payer-rules".into(),
            canonical: None,
            fact_model_version: claimtrail_rules::FACT_MODEL_VERSION.into(),
            evaluator_version: claimtrail_rules::EVALUATOR_VERSION.into(),
        });
        record
    }

    /// The document a format-3 record cites is read back from the payer's
    /// policy versions by its hash and verified; another payer's, a hash
    /// nothing is stored under, and a stored body that is not the document
    /// the hash names are each refused, naming the hash.
    #[tokio::test]
    async fn a_record_s_rule_set_resolves_from_its_payer_s_stored_document_only_when_the_bytes_hash_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let rule_set = claimtrail_rules::RuleSet::parse("payer-rules", RULE_SET.as_bytes()).unwrap();
        let hash = rule_set.content_hash().to_owned();
        insert_policy_version(&store, store.db(), &version("PAYER1", &hash), rule_set.canonical_bytes()).await.unwrap();

        let record = citing(&hash);
        let resolved = resolve_rule_set(&store, store.db(), "PAYER1", &record).await.unwrap().unwrap().expect("resolved");
        assert_eq!(resolved.content_hash(), hash);
        assert!(record.replay_with(Some(&resolved)).is_ok());

        let elsewhere = resolve_rule_set(&store, store.db(), "PAYER2", &record).await.unwrap().unwrap_err();
        assert_eq!(elsewhere, PolicyReplayError::NotStored { hash: hash.clone() });

        // A body stored under a hash it does not have.
        let forged = "f".repeat(64);
        insert_policy_version(&store, store.db(), &version("PAYER1", &forged), rule_set.canonical_bytes()).await.unwrap();
        let refused = resolve_rule_set(&store, store.db(), "PAYER1", &citing(&forged)).await.unwrap().unwrap_err();
        assert_eq!(refused, PolicyReplayError::HashMismatch { hash: forged, actual: hash });

        // A record that ran no rule set needs nothing from the store.
        let mut carried = citing("0".repeat(64).as_str());
        carried.policy.rule_set = None;
        assert!(resolve_rule_set(&store, store.db(), "PAYER1", &carried).await.unwrap().unwrap().is_none());
    }
}
