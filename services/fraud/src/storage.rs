//! All of the fraud service's SQL (ADR 0002: raw SQL with the store's
//! dynamic names): the claims it scans, the alerts it raised and their
//! status, and the reference facts (deaths, specialties) from the registry's events.

use std::collections::BTreeMap;

use claimtrail_events::{AlertEvidence, FraudAlertRaised, PolicyVersionPublished};
use claimtrail_runtime::auth::PayerScope;
use claimtrail_store::{Migration, Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};
use time::Date;
use uuid::Uuid;

use crate::domain::AlertStatus;
use crate::domain::claim::ScannedClaim;
use crate::domain::policy::{InForce, PolicyRows};

pub fn migrations() -> Vec<Migration> {
    vec![
        Migration { version: 1, name: "claims, alerts, deaths, specialties", statements: tables },
        Migration { version: 2, name: "policy rows (exclusions, NCCI pairs)", statements: policy_tables },
        Migration { version: 3, name: "every policy version with its dates of service", statements: policy_version_tables },
    ]
}

/// Every published version is kept with the dates of service it is in force for (a payer's NCCI edits
/// change by quarter); the rows of migration 2, one version per payer and kind, become versions in force
/// from the start.
fn policy_version_tables(store: &Store) -> Vec<String> {
    let (versions, policy) = (store.table("policy_versions"), store.table("policy"));
    vec![
        format!(
            "CREATE TABLE {versions} (payer_id TEXT NOT NULL, kind TEXT NOT NULL, version_id TEXT NOT NULL, effective_from TEXT NOT NULL, \
             effective_to TEXT, content_hash TEXT NOT NULL, rows_json TEXT NOT NULL, PRIMARY KEY (payer_id, kind, version_id))"
        ),
        format!(
            "INSERT INTO {versions} (payer_id, kind, version_id, effective_from, effective_to, content_hash, rows_json) \
             SELECT payer_id, kind, version_id, '{LEGACY_EFFECTIVE_FROM}', NULL, content_hash, rows_json FROM {policy}"
        ),
        format!("DROP TABLE {policy}"),
    ]
}

/// The effective date given to the versions migration 3 found (their dates were not kept).
const LEGACY_EFFECTIVE_FROM: &str = "1900-01-01";

fn policy_tables(store: &Store) -> Vec<String> {
    vec![format!(
        "CREATE TABLE {} (payer_id TEXT NOT NULL, kind TEXT NOT NULL, version_id TEXT NOT NULL, content_hash TEXT NOT NULL, \
         rows_json TEXT NOT NULL, PRIMARY KEY (payer_id, kind))",
        store.table("policy")
    )]
}

fn tables(store: &Store) -> Vec<String> {
    let t = store.types();
    vec![
        format!(
            "CREATE TABLE {} (claim_id {uuid} PRIMARY KEY, payer_id TEXT NOT NULL, billing_npi TEXT NOT NULL, event_id {uuid} NOT NULL, \
             claim TEXT NOT NULL, ledger_index {big}, decided {big} NOT NULL DEFAULT 0, scanned {big} NOT NULL DEFAULT 0)",
            store.table("claims"),
            uuid = t.uuid,
            big = t.bigint
        ),
        format!("CREATE INDEX {} ON {} (decided, scanned)", store.index("claims_pending"), store.table("claims")),
        format!("CREATE INDEX {} ON {} (billing_npi)", store.index("claims_npi"), store.table("claims")),
        format!(
            "CREATE TABLE {} (seq {}, alert_id {} NOT NULL UNIQUE, payer_id TEXT NOT NULL, pattern TEXT NOT NULL, npi TEXT NOT NULL, alert_date TEXT, \
             score_permille {big} NOT NULL, claim_ids TEXT NOT NULL, evidence TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL, \
             closed_reason TEXT, raised_at {} NOT NULL DEFAULT {})",
            store.table("alerts"),
            t.id,
            t.uuid,
            t.timestamp,
            t.now,
            big = t.bigint
        ),
        format!("CREATE INDEX {} ON {} (payer_id)", store.index("alerts_payer"), store.table("alerts")),
        format!(
            "CREATE TABLE {} (payer_id TEXT NOT NULL, member_id TEXT NOT NULL, date_of_death TEXT NOT NULL, PRIMARY KEY (payer_id, member_id))",
            store.table("deaths")
        ),
        format!("CREATE TABLE {} (npi TEXT PRIMARY KEY, taxonomy TEXT NOT NULL)", store.table("specialties")),
    ]
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// Keeps a submitted claim until it is decided and scanned; a claim seen before is left as it is.
pub async fn insert_claim(store: &Store, tx: &impl ConnectionTrait, event_id: Uuid, claim: &ScannedClaim) -> Result<(), StoreError> {
    let json = serde_json::to_string(claim).map_err(|e| corrupt("claim", e))?;
    tx.execute_raw(stmt(
        store,
        format!(
            "INSERT INTO {} (claim_id, payer_id, billing_npi, event_id, claim) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (claim_id) DO NOTHING",
            store.table("claims")
        ),
        vec![
            Value::from(claim.claim_id),
            Value::from(claim.payer_id.clone()),
            Value::from(claim.billing_npi.clone()),
            Value::from(event_id),
            Value::from(json),
        ],
    ))
    .await?;
    Ok(())
}

/// Marks a claim decided (adjudicated or pended): it is scanned once its submission is on the ledger.
pub async fn mark_decided(store: &Store, tx: &impl ConnectionTrait, claim_id: Uuid) -> Result<(), StoreError> {
    tx.execute_raw(stmt(store, format!("UPDATE {} SET decided = 1 WHERE claim_id = $1", store.table("claims")), vec![Value::from(claim_id)])).await?;
    Ok(())
}

/// A claim waiting to be scanned.
#[derive(Debug, Clone)]
pub struct PendingClaim {
    pub claim: ScannedClaim,
    /// Its `claim.submitted.v1` event.
    pub event_id: Uuid,
    pub ledger_index: Option<u64>,
}

/// Decided claims not scanned yet, at most `limit`, those with a known ledger index first, in ledger order.
pub async fn pending(store: &Store, tx: &impl ConnectionTrait, limit: u64) -> Result<Vec<PendingClaim>, StoreError> {
    let rows = tx
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT claim, event_id, ledger_index FROM {} WHERE decided = 1 AND scanned = 0 \
                 ORDER BY CASE WHEN ledger_index IS NULL THEN 1 ELSE 0 END, ledger_index, claim_id LIMIT $1",
                store.table("claims")
            ),
            vec![Value::from(i64::try_from(limit).unwrap_or(i64::MAX))],
        ))
        .await?;
    let mut pending = Vec::with_capacity(rows.len());
    for row in rows {
        let json: String = row.try_get_by_index(0)?;
        let ledger_index: Option<i64> = row.try_get_by_index(2)?;
        pending.push(PendingClaim {
            claim: serde_json::from_str(&json).map_err(|e| corrupt("stored claim", e))?,
            event_id: row.try_get_by_index(1)?,
            ledger_index: ledger_index.map(|index| u64::try_from(index).unwrap_or_default()),
        });
    }
    Ok(pending)
}

/// Records where a claim's submission is on the ledger.
pub async fn set_ledger_index(store: &Store, tx: &impl ConnectionTrait, claim_id: Uuid, ledger_index: u64) -> Result<(), StoreError> {
    let index = i64::try_from(ledger_index).map_err(|e| corrupt("ledger index", e))?;
    tx.execute_raw(stmt(
        store,
        format!("UPDATE {} SET ledger_index = $1 WHERE claim_id = $2", store.table("claims")),
        vec![Value::from(index), Value::from(claim_id)],
    ))
    .await?;
    Ok(())
}

/// Marks claims scanned.
pub async fn mark_scanned(store: &Store, tx: &impl ConnectionTrait, claim_ids: &[Uuid]) -> Result<(), StoreError> {
    for chunk in claim_ids.chunks(400) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|idx| format!("${idx}")).collect();
        tx.execute_raw(stmt(
            store,
            format!("UPDATE {} SET scanned = 1 WHERE claim_id IN ({})", store.table("claims"), placeholders.join(",")),
            chunk.iter().map(|claim_id| Value::from(*claim_id)).collect(),
        ))
        .await?;
    }
    Ok(())
}

/// Every scanned claim with its ledger index, in ledger order: what a scanner is rebuilt from.
pub async fn scanned(store: &Store, conn: &impl ConnectionTrait) -> Result<Vec<(ScannedClaim, u64)>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!("SELECT claim, ledger_index FROM {} WHERE scanned = 1 AND ledger_index IS NOT NULL ORDER BY ledger_index", store.table("claims")),
            vec![],
        ))
        .await?;
    let mut claims = Vec::with_capacity(rows.len());
    for row in rows {
        let json: String = row.try_get_by_index(0)?;
        let index: i64 = row.try_get_by_index(1)?;
        claims.push((serde_json::from_str(&json).map_err(|e| corrupt("stored claim", e))?, u64::try_from(index).map_err(|e| corrupt("ledger index", e))?));
    }
    Ok(claims)
}

/// The payers each of `npis` has billed, by NPI.
pub async fn provider_payers(store: &Store, conn: &impl ConnectionTrait, npis: &[String]) -> Result<BTreeMap<String, Vec<String>>, StoreError> {
    let mut payers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for chunk in npis.chunks(400) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|idx| format!("${idx}")).collect();
        let rows = conn
            .query_all_raw(stmt(
                store,
                format!(
                    "SELECT DISTINCT billing_npi, payer_id FROM {} WHERE billing_npi IN ({}) ORDER BY billing_npi, payer_id",
                    store.table("claims"),
                    placeholders.join(",")
                ),
                chunk.iter().map(|npi| Value::from(npi.clone())).collect(),
            ))
            .await?;
        for row in rows {
            payers.entry(row.try_get_by_index(0)?).or_default().push(row.try_get_by_index(1)?);
        }
    }
    Ok(payers)
}

/// Stores a raised alert, open; false when an alert with its id exists (the same finding seen again).
pub async fn insert_alert(store: &Store, tx: &impl ConnectionTrait, alert: &FraudAlertRaised) -> Result<bool, StoreError> {
    let claim_ids = serde_json::to_string(&alert.claim_ids).map_err(|e| corrupt("alert claims", e))?;
    let evidence = serde_json::to_string(&alert.evidence).map_err(|e| corrupt("alert evidence", e))?;
    let result = tx
        .execute_raw(stmt(
            store,
            format!(
                "INSERT INTO {} (alert_id, payer_id, pattern, npi, alert_date, score_permille, claim_ids, evidence, reason, status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (alert_id) DO NOTHING",
                store.table("alerts")
            ),
            vec![
                Value::from(alert.alert_id),
                Value::from(alert.payer_id.clone()),
                Value::from(alert.pattern.clone()),
                Value::from(alert.npi.clone()),
                Value::from(alert.date.map(claimtrail_events::format_date)),
                Value::from(i64::from(alert.score_permille)),
                Value::from(claim_ids),
                Value::from(evidence),
                Value::from(alert.reason.clone()),
                Value::from(AlertStatus::Open.as_str()),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// An alert's payer and status.
pub async fn alert_state(store: &Store, conn: &impl ConnectionTrait, alert_id: Uuid) -> Result<Option<(String, AlertStatus)>, StoreError> {
    let row = conn
        .query_one_raw(stmt(store, format!("SELECT payer_id, status FROM {} WHERE alert_id = $1", store.table("alerts")), vec![Value::from(alert_id)]))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let status: String = row.try_get_by_index(1)?;
    Ok(Some((row.try_get_by_index(0)?, AlertStatus::parse(&status).ok_or_else(|| corrupt("alert status", &status))?)))
}

/// The claims an alert flags: its own evidence marked `flagged`.
pub async fn flagged_claims(store: &Store, conn: &impl ConnectionTrait, alert_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    let row =
        conn.query_one_raw(stmt(store, format!("SELECT evidence FROM {} WHERE alert_id = $1", store.table("alerts")), vec![Value::from(alert_id)])).await?;
    let Some(row) = row else { return Ok(vec![]) };
    let evidence: String = row.try_get_by_index(0)?;
    let evidence: Vec<AlertEvidence> = serde_json::from_str(&evidence).map_err(|e| corrupt("alert evidence", e))?;
    Ok(evidence.into_iter().filter(|evidence| evidence.flagged).filter_map(|evidence| evidence.claim_id).collect())
}

/// Sets an alert's status (and the reason it was closed with).
pub async fn set_status(store: &Store, tx: &impl ConnectionTrait, alert_id: Uuid, status: AlertStatus, closed_reason: Option<&str>) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!("UPDATE {} SET status = $1, closed_reason = $2 WHERE alert_id = $3", store.table("alerts")),
        vec![Value::from(status.as_str()), Value::from(closed_reason.map(str::to_owned)), Value::from(alert_id)],
    ))
    .await?;
    Ok(())
}

/// One stored alert, as the investigators read it.
#[derive(Debug, Clone)]
pub struct StoredAlert {
    pub alert: FraudAlertRaised,
    pub status: AlertStatus,
    pub closed_reason: Option<String>,
}

/// The alerts of the payers `scope` reads, newest first, at most `limit`, optionally of one status and one pattern.
pub async fn alerts(store: &Store, scope: &PayerScope, status: Option<&str>, pattern: Option<&str>, limit: u64) -> Result<Vec<StoredAlert>, StoreError> {
    let mut values = Vec::new();
    let mut conditions = Vec::new();
    if let Some(condition) = scope.sql_condition("payer_id", &mut values) {
        conditions.push(condition);
    }
    if let Some(status) = status {
        values.push(Value::from(status.to_owned()));
        conditions.push(format!("status = ${}", values.len()));
    }
    if let Some(pattern) = pattern {
        values.push(Value::from(pattern.to_owned()));
        conditions.push(format!("pattern = ${}", values.len()));
    }
    values.push(Value::from(i64::try_from(limit).unwrap_or(i64::MAX)));
    let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {} ", conditions.join(" AND ")) };
    let rows = store
        .reader()
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT alert_id, payer_id, pattern, npi, alert_date, score_permille, claim_ids, evidence, reason, status, closed_reason FROM {} \
                 {filter}ORDER BY seq DESC LIMIT ${}",
                store.table("alerts"),
                values.len()
            ),
            values,
        ))
        .await?;
    let mut alerts = Vec::with_capacity(rows.len());
    for row in rows {
        let date: Option<String> = row.try_get_by_index(4)?;
        let score: i64 = row.try_get_by_index(5)?;
        let claim_ids: String = row.try_get_by_index(6)?;
        let evidence: String = row.try_get_by_index(7)?;
        let status: String = row.try_get_by_index(9)?;
        let evidence: Vec<AlertEvidence> = serde_json::from_str(&evidence).map_err(|e| corrupt("alert evidence", e))?;
        alerts.push(StoredAlert {
            alert: FraudAlertRaised {
                alert_id: row.try_get_by_index(0)?,
                payer_id: row.try_get_by_index(1)?,
                pattern: row.try_get_by_index(2)?,
                npi: row.try_get_by_index(3)?,
                date: date.map(|date| claimtrail_events::parse_date(&date).ok_or_else(|| corrupt("alert date", &date))).transpose()?,
                score_permille: u32::try_from(score).map_err(|e| corrupt("alert score", e))?,
                claim_ids: serde_json::from_str(&claim_ids).map_err(|e| corrupt("alert claims", e))?,
                reason: row.try_get_by_index(8)?,
                evidence,
            },
            status: AlertStatus::parse(&status).ok_or_else(|| corrupt("alert status", &status))?,
            closed_reason: row.try_get_by_index(10)?,
        });
    }
    Ok(alerts)
}

/// Records a member's date of death (from `member.enrolled.v1`); `None` removes it.
pub async fn set_death(store: &Store, tx: &impl ConnectionTrait, payer_id: &str, member_id: &str, date_of_death: Option<Date>) -> Result<(), StoreError> {
    let table = store.table("deaths");
    let keys = vec![Value::from(payer_id.to_owned()), Value::from(member_id.to_owned())];
    match date_of_death {
        None => tx.execute_raw(stmt(store, format!("DELETE FROM {table} WHERE payer_id = $1 AND member_id = $2"), keys)).await?,
        Some(date) => {
            let values = keys.into_iter().chain([Value::from(claimtrail_events::format_date(date))]).collect();
            tx.execute_raw(stmt(
                store,
                format!(
                    "INSERT INTO {table} (payer_id, member_id, date_of_death) VALUES ($1, $2, $3) \
                     ON CONFLICT (payer_id, member_id) DO UPDATE SET date_of_death = excluded.date_of_death"
                ),
                values,
            ))
            .await?
        }
    };
    Ok(())
}

/// Records a provider's taxonomy (from `provider.registered.v1`), its specialty for peer scoring.
pub async fn set_specialty(store: &Store, tx: &impl ConnectionTrait, npi: &str, taxonomy: &str) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!("INSERT INTO {} (npi, taxonomy) VALUES ($1, $2) ON CONFLICT (npi) DO UPDATE SET taxonomy = excluded.taxonomy", store.table("specialties")),
        vec![Value::from(npi.to_owned()), Value::from(taxonomy.to_owned())],
    ))
    .await?;
    Ok(())
}

/// What the reference facts hold: deaths ((payer, member), date) and specialties (NPI, taxonomy).
pub type ReferenceRows = (Vec<((String, String), Date)>, Vec<(String, String)>);

/// Every recorded death and specialty.
pub async fn reference(store: &Store, conn: &impl ConnectionTrait) -> Result<ReferenceRows, StoreError> {
    let mut deaths = Vec::new();
    for row in conn.query_all_raw(stmt(store, format!("SELECT payer_id, member_id, date_of_death FROM {}", store.table("deaths")), vec![])).await? {
        let date: String = row.try_get_by_index(2)?;
        deaths
            .push(((row.try_get_by_index(0)?, row.try_get_by_index(1)?), claimtrail_events::parse_date(&date).ok_or_else(|| corrupt("date of death", &date))?));
    }
    let mut specialties = Vec::new();
    for row in conn.query_all_raw(stmt(store, format!("SELECT npi, taxonomy FROM {}", store.table("specialties")), vec![])).await? {
        specialties.push((row.try_get_by_index(0)?, row.try_get_by_index(1)?));
    }
    Ok((deaths, specialties))
}

/// One stored policy version: whose, which kind, the dates of service it is in force for, and its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPolicy {
    pub payer_id: String,
    pub kind: String,
    pub in_force: InForce,
    pub rows: PolicyRows,
}

/// Keeps the rows of a published policy version, with the dates of service it is in force for (a
/// version seen again, as on redelivery, keeps what it had).
pub async fn set_policy(store: &Store, tx: &impl ConnectionTrait, published: &PolicyVersionPublished, rows: &PolicyRows) -> Result<(), StoreError> {
    let json = serde_json::to_string(rows).map_err(|e| corrupt("policy rows", e))?;
    tx.execute_raw(stmt(
        store,
        format!(
            "INSERT INTO {} (payer_id, kind, version_id, effective_from, effective_to, content_hash, rows_json) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (payer_id, kind, version_id) DO NOTHING",
            store.table("policy_versions")
        ),
        vec![
            Value::from(published.payer_id.clone()),
            Value::from(published.kind.clone()),
            Value::from(published.version_id.clone()),
            Value::from(claimtrail_events::format_date(published.effective_from)),
            Value::from(published.effective_to.map(claimtrail_events::format_date)),
            Value::from(published.content_hash.clone()),
            Value::from(json),
        ],
    ))
    .await?;
    Ok(())
}

/// Every payer's policy versions, by payer and kind, each payer's in the order they take effect
/// (versions with the same effective date in the order they were published: version ids are UUIDv7).
pub async fn policy_versions(store: &Store, conn: &impl ConnectionTrait) -> Result<Vec<StoredPolicy>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!(
                "SELECT payer_id, kind, effective_from, effective_to, rows_json FROM {} ORDER BY payer_id, kind, effective_from, version_id",
                store.table("policy_versions")
            ),
            vec![],
        ))
        .await?;
    let mut policies = Vec::with_capacity(rows.len());
    for row in rows {
        let (from, to): (String, Option<String>) = (row.try_get_by_index(2)?, row.try_get_by_index(3)?);
        let date = |text: &str| claimtrail_events::parse_date(text).ok_or_else(|| corrupt("policy version date", text));
        let json: String = row.try_get_by_index(4)?;
        policies.push(StoredPolicy {
            payer_id: row.try_get_by_index(0)?,
            kind: row.try_get_by_index(1)?,
            in_force: InForce { effective_from: date(&from)?, effective_to: to.as_deref().map(date).transpose()? },
            rows: serde_json::from_str(&json).map_err(|e| corrupt("stored policy rows", e))?,
        });
    }
    Ok(policies)
}

/// The version ids of payer `payer_id`'s `kind` the fraud service holds.
pub async fn policy_version_ids(store: &Store, conn: &impl ConnectionTrait, payer_id: &str, kind: &str) -> Result<Vec<String>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(
            store,
            format!("SELECT version_id FROM {} WHERE payer_id = $1 AND kind = $2 ORDER BY version_id", store.table("policy_versions")),
            vec![Value::from(payer_id.to_owned()), Value::from(kind.to_owned())],
        ))
        .await?;
    rows.into_iter().map(|row| row.try_get_by_index(0).map_err(Into::into)).collect()
}

/// Forgets erased claims (their alerts keep only ids and ledger indices).
pub async fn erase_claims(store: &Store, tx: &impl ConnectionTrait, claim_ids: &[Uuid]) -> Result<(), StoreError> {
    for chunk in claim_ids.chunks(400) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|idx| format!("${idx}")).collect();
        tx.execute_raw(stmt(
            store,
            format!("DELETE FROM {} WHERE claim_id IN ({})", store.table("claims"), placeholders.join(",")),
            chunk.iter().map(|claim_id| Value::from(*claim_id)).collect(),
        ))
        .await?;
    }
    Ok(())
}

/// Rows and bytes of the tables the fraud service grows per claim, for the bench.
pub async fn footprint(store: &Store) -> Result<claimtrail_store::Footprint, StoreError> {
    claimtrail_store::footprint(store, &["claims", "alerts", "outbox", "inbox"]).await
}
