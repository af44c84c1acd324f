//! The SQL of corrections that ripple and of reprocessing jobs (issue 17):
//!
//! - `claim_order`: each decided claim under a plan, with its family (the
//!   family's subscriber when the plan's family buckets apply, else the
//!   member), plan year and position in the order the family's claims
//!   applied their accumulators. A replacement, or a new version decided by
//!   a correction, takes the position of the version it reverses.
//! - `claim_versions`: the new versions a correction decided (payer
//!   initiated), each with the version it reverses and its cause; a
//!   provider's replacement or void of the original follows them to the
//!   standing version.
//! - `reprocessing_jobs` and `reprocessing_claims`: a job, its counts and
//!   each claim it selected with what came of it, written in the
//!   transaction that decides the claim (so a job resumes without doubling).

use std::collections::HashMap;

use claimtrail_events::{Timestamp, format_date};
use claimtrail_store::{Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, QueryResult, Value};
use uuid::Uuid;

use crate::domain::HistoryStatus;
use crate::domain::ripple::CandidateLine;

/// Migration 8's statements.
pub fn tables(store: &Store) -> Vec<String> {
    let t = store.types();
    vec![
        format!(
            "CREATE TABLE {} (claim_id {} PRIMARY KEY, payer_id TEXT NOT NULL, family_key TEXT NOT NULL, plan_year {} NOT NULL, position {} NOT NULL)",
            store.table("claim_order"),
            t.uuid,
            t.bigint,
            t.bigint
        ),
        format!("CREATE INDEX {} ON {} (payer_id, family_key, plan_year, position)", store.index("claim_order_by_family"), store.table("claim_order")),
        format!(
            "CREATE TABLE {} (version_id {} PRIMARY KEY, of_claim_id {} NOT NULL, cause_id {} NOT NULL)",
            store.table("claim_versions"),
            t.uuid,
            t.uuid,
            t.uuid
        ),
        format!("CREATE INDEX {} ON {} (of_claim_id)", store.index("claim_versions_of"), store.table("claim_versions")),
        format!(
            "CREATE TABLE {} (job_id {} PRIMARY KEY, payer_id TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL, status TEXT NOT NULL, \
             n_selected {} NOT NULL, n_changed {} NOT NULL, n_unchanged {} NOT NULL, n_skipped {} NOT NULL, n_rippled {} NOT NULL, \
             created_at TEXT NOT NULL, finished_at TEXT)",
            store.table("reprocessing_jobs"),
            t.uuid,
            t.bigint,
            t.bigint,
            t.bigint,
            t.bigint,
            t.bigint
        ),
        format!(
            "CREATE TABLE {} (job_id {} NOT NULL, claim_id {} NOT NULL, state TEXT NOT NULL, version_id {}, PRIMARY KEY (job_id, claim_id))",
            store.table("reprocessing_claims"),
            t.uuid,
            t.uuid,
            t.uuid
        ),
    ]
}

/// A claim's place in its family's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub payer_id: String,
    pub family_key: String,
    pub plan_year: i32,
    pub position: i64,
}

/// `claim_id`'s place in its family's order, if it was decided under a plan.
pub async fn order_of(store: &Store, conn: &impl ConnectionTrait, claim_id: Uuid) -> Result<Option<OrderRow>, StoreError> {
    let select = format!("SELECT payer_id, family_key, plan_year, position FROM {} WHERE claim_id = $1", store.table("claim_order"));
    let Some(row) = conn.query_one_raw(stmt(store, select, vec![Value::from(claim_id)])).await? else { return Ok(None) };
    let plan_year: i64 = row.try_get_by_index(2)?;
    Ok(Some(OrderRow {
        payer_id: row.try_get_by_index(0)?,
        family_key: row.try_get_by_index(1)?,
        plan_year: i32::try_from(plan_year).map_err(|_| StoreError::Corrupt(format!("plan year {plan_year}")))?,
        position: row.try_get_by_index(3)?,
    }))
}

/// The next position of `family_key` at `payer_id`.
pub async fn next_position(store: &Store, conn: &impl ConnectionTrait, payer_id: &str, family_key: &str) -> Result<i64, StoreError> {
    let select = format!("SELECT COALESCE(MAX(position), 0) + 1 FROM {} WHERE payer_id = $1 AND family_key = $2", store.table("claim_order"));
    let row = conn.query_one_raw(stmt(store, select, vec![Value::from(payer_id.to_owned()), Value::from(family_key.to_owned())])).await?;
    Ok(match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 1,
    })
}

/// [`next_position`] of each of `family_keys` at `payer_id`, in one statement.
pub async fn next_positions(store: &Store, conn: &impl ConnectionTrait, payer_id: &str, family_keys: &[String]) -> Result<HashMap<String, i64>, StoreError> {
    let mut next: HashMap<String, i64> = family_keys.iter().map(|key| (key.clone(), 1)).collect();
    if family_keys.is_empty() {
        return Ok(next);
    }
    let mut values = vec![Value::from(payer_id.to_owned())];
    let key_in = claimtrail_store::one_of_condition("family_key", Some(family_keys), &mut values).unwrap_or_else(|| "1 = 0".to_owned());
    let select =
        format!("SELECT family_key, COALESCE(MAX(position), 0) + 1 FROM {} WHERE payer_id = $1 AND {key_in} GROUP BY family_key", store.table("claim_order"));
    for row in conn.query_all_raw(stmt(store, select, values)).await? {
        next.insert(row.try_get_by_index(0)?, row.try_get_by_index(1)?);
    }
    Ok(next)
}

/// Records `claim_id`'s place (idempotent: a claim is placed once).
pub async fn insert_order(store: &Store, tx: &impl ConnectionTrait, claim_id: Uuid, order: &OrderRow) -> Result<(), StoreError> {
    let insert = format!(
        "INSERT INTO {} (claim_id, payer_id, family_key, plan_year, position) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (claim_id) DO NOTHING",
        store.table("claim_order")
    );
    let values = vec![
        Value::from(claim_id),
        Value::from(order.payer_id.clone()),
        Value::from(order.family_key.clone()),
        Value::from(i64::from(order.plan_year)),
        Value::from(order.position),
    ];
    tx.execute_raw(stmt(store, insert, values)).await?;
    Ok(())
}

/// The family's claims decided after `order` in its plan year whose decisions stand, in order.
pub async fn later_claims(store: &Store, conn: &impl ConnectionTrait, order: &OrderRow) -> Result<Vec<Uuid>, StoreError> {
    let select = format!(
        "SELECT o.claim_id FROM {} o JOIN {} d ON d.claim_id = o.claim_id \
         WHERE o.payer_id = $1 AND o.family_key = $2 AND o.plan_year = $3 AND o.position > $4 AND d.reversed_by IS NULL \
         ORDER BY o.position, o.claim_id",
        store.table("claim_order"),
        store.table("decisions")
    );
    let values =
        vec![Value::from(order.payer_id.clone()), Value::from(order.family_key.clone()), Value::from(i64::from(order.plan_year)), Value::from(order.position)];
    let rows = conn.query_all_raw(stmt(store, select, values)).await?;
    rows.iter().map(|row| Ok(row.try_get_by_index(0)?)).collect()
}

/// Records that `version_id` is the version of `of_claim_id` that `cause_id` decided.
pub async fn insert_version(store: &Store, tx: &impl ConnectionTrait, version_id: Uuid, of_claim_id: Uuid, cause_id: Uuid) -> Result<(), StoreError> {
    let insert =
        format!("INSERT INTO {} (version_id, of_claim_id, cause_id) VALUES ($1, $2, $3) ON CONFLICT (version_id) DO NOTHING", store.table("claim_versions"));
    tx.execute_raw(stmt(store, insert, vec![Value::from(version_id), Value::from(of_claim_id), Value::from(cause_id)])).await?;
    Ok(())
}

/// How many hops [`standing_version`] follows at most.
const VERSION_HOPS_MAX: usize = 1_000;

/// The version of `claim_id` whose decision stands now: the claim itself,
/// or the last of the new versions corrections decided in its place.
pub async fn standing_version(store: &Store, conn: &impl ConnectionTrait, claim_id: Uuid) -> Result<Uuid, StoreError> {
    let select = format!(
        "SELECT v.version_id FROM {} d JOIN {} v ON v.of_claim_id = d.claim_id WHERE d.claim_id = $1 AND d.reversed_by IS NOT NULL",
        store.table("decisions"),
        store.table("claim_versions")
    );
    let mut current = claim_id;
    for _ in 0..VERSION_HOPS_MAX {
        let Some(row) = conn.query_one_raw(stmt(store, select.clone(), vec![Value::from(current)])).await? else { return Ok(current) };
        current = row.try_get_by_index(0)?;
    }
    Err(StoreError::Corrupt(format!("claim {claim_id} has more than {VERSION_HOPS_MAX} corrected versions")))
}

/// The columns [`candidate_row`] reads.
const CANDIDATE_COLUMNS: &str = "claim_id, member_id, service_date, procedure_code, status, COALESCE(subscriber_id, member_id)";

/// One history line as the selection reads it, with the claim's family (its partition's subscriber).
fn candidate_row(row: &QueryResult) -> Result<(CandidateLine, String), StoreError> {
    let date: String = row.try_get_by_index(2)?;
    let status: String = row.try_get_by_index(4)?;
    Ok((
        CandidateLine {
            claim_id: row.try_get_by_index(0)?,
            member_id: row.try_get_by_index(1)?,
            service_date: claimtrail_events::parse_date(&date).ok_or_else(|| StoreError::Corrupt(format!("service date `{date}`")))?,
            procedure_code: row.try_get_by_index(3)?,
            status: HistoryStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("claim history status `{status}`")))?,
        },
        row.try_get_by_index(5)?,
    ))
}

/// Every history line of `member_id` at `payer_id`.
pub async fn member_lines(store: &Store, conn: &impl ConnectionTrait, payer_id: &str, member_id: &str) -> Result<Vec<(CandidateLine, String)>, StoreError> {
    let select = format!("SELECT {CANDIDATE_COLUMNS} FROM {} WHERE payer_id = $1 AND member_id = $2", store.table("claim_lines"));
    let rows = conn.query_all_raw(stmt(store, select, vec![Value::from(payer_id.to_owned()), Value::from(member_id.to_owned())])).await?;
    rows.iter().map(candidate_row).collect()
}

/// Every history line of `payer_id` served from `from` (to `to`, exclusive) billing one of `codes`.
pub async fn code_lines(
    store: &Store,
    conn: &impl ConnectionTrait,
    payer_id: &str,
    from: time::Date,
    to: Option<time::Date>,
    codes: &[String],
) -> Result<Vec<(CandidateLine, String)>, StoreError> {
    let mut values = vec![Value::from(payer_id.to_owned()), Value::from(format_date(from))];
    let until = match to {
        Some(to) => {
            values.push(Value::from(format_date(to)));
            format!(" AND service_date < ${}", values.len())
        }
        None => String::new(),
    };
    let Some(code_in) = claimtrail_store::one_of_condition("procedure_code", Some(codes), &mut values) else { return Ok(Vec::new()) };
    let select = format!("SELECT {CANDIDATE_COLUMNS} FROM {} WHERE payer_id = $1 AND service_date >= $2{until} AND {code_in}", store.table("claim_lines"));
    let rows = conn.query_all_raw(stmt(store, select, values)).await?;
    rows.iter().map(candidate_row).collect()
}

/// A reprocessing job and its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub job_id: Uuid,
    pub payer_id: String,
    pub reason: String,
    /// What the job corrects, in a sentence.
    pub detail: String,
    /// `running` or `completed`.
    pub status: String,
    pub n_selected: i64,
    pub n_changed: i64,
    pub n_unchanged: i64,
    pub n_skipped: i64,
    /// Later claims of the families decided again because a selected claim changed.
    pub n_rippled: i64,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// Stores a new job and the claims it selected, each `pending`, in `tx`.
pub async fn insert_job(store: &Store, tx: &impl ConnectionTrait, job: &JobRow, claim_ids: &[Uuid]) -> Result<(), StoreError> {
    let insert = format!(
        "INSERT INTO {} (job_id, payer_id, reason, detail, status, n_selected, n_changed, n_unchanged, n_skipped, n_rippled, created_at, finished_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        store.table("reprocessing_jobs")
    );
    let values = vec![
        Value::from(job.job_id),
        Value::from(job.payer_id.clone()),
        Value::from(job.reason.clone()),
        Value::from(job.detail.clone()),
        Value::from(job.status.clone()),
        Value::from(job.n_selected),
        Value::from(job.n_changed),
        Value::from(job.n_unchanged),
        Value::from(job.n_skipped),
        Value::from(job.n_rippled),
        Value::from(job.created_at.clone()),
        Value::from(job.finished_at.clone()),
    ];
    tx.execute_raw(stmt(store, insert, values)).await?;
    let rows: Vec<Vec<Value>> = claim_ids.iter().map(|claim_id| vec![Value::from(job.job_id), Value::from(*claim_id), Value::from("pending")]).collect();
    if !rows.is_empty() {
        let insert = format!("INSERT INTO {} (job_id, claim_id, state) VALUES ", store.table("reprocessing_claims"));
        claimtrail_store::insert_rows(store, tx, &insert, rows, "").await?;
    }
    Ok(())
}

/// `job_id`, if it is a job of `payer_id`.
pub async fn job(store: &Store, conn: &impl ConnectionTrait, payer_id: &str, job_id: Uuid) -> Result<Option<JobRow>, StoreError> {
    let select = format!(
        "SELECT job_id, payer_id, reason, detail, status, n_selected, n_changed, n_unchanged, n_skipped, n_rippled, created_at, finished_at \
         FROM {} WHERE job_id = $1 AND payer_id = $2",
        store.table("reprocessing_jobs")
    );
    let Some(row) = conn.query_one_raw(stmt(store, select, vec![Value::from(job_id), Value::from(payer_id.to_owned())])).await? else { return Ok(None) };
    Ok(Some(JobRow {
        job_id: row.try_get_by_index(0)?,
        payer_id: row.try_get_by_index(1)?,
        reason: row.try_get_by_index(2)?,
        detail: row.try_get_by_index(3)?,
        status: row.try_get_by_index(4)?,
        n_selected: row.try_get_by_index(5)?,
        n_changed: row.try_get_by_index(6)?,
        n_unchanged: row.try_get_by_index(7)?,
        n_skipped: row.try_get_by_index(8)?,
        n_rippled: row.try_get_by_index(9)?,
        created_at: row.try_get_by_index(10)?,
        finished_at: row.try_get_by_index(11)?,
    }))
}

/// One claim of a job: its state (`pending`, `changed`, `unchanged`, `skipped`) and the new version a change decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobClaim {
    pub claim_id: Uuid,
    pub state: String,
    pub version_id: Option<Uuid>,
}

/// Job claims one listing shows, at most.
pub const JOB_CLAIMS_LISTED_MAX: u64 = 1_000;

/// The claims of `job_id`, by claim id (at most [`JOB_CLAIMS_LISTED_MAX`]).
pub async fn job_claims(store: &Store, conn: &impl ConnectionTrait, job_id: Uuid) -> Result<Vec<JobClaim>, StoreError> {
    let select = format!(
        "SELECT claim_id, state, version_id FROM {} WHERE job_id = $1 ORDER BY claim_id LIMIT {JOB_CLAIMS_LISTED_MAX}",
        store.table("reprocessing_claims")
    );
    let rows = conn.query_all_raw(stmt(store, select, vec![Value::from(job_id)])).await?;
    rows.iter().map(|row| Ok(JobClaim { claim_id: row.try_get_by_index(0)?, state: row.try_get_by_index(1)?, version_id: row.try_get_by_index(2)? })).collect()
}

/// The state of `claim_id` in `job_id`, if the job selected it.
pub async fn job_claim_state(store: &Store, conn: &impl ConnectionTrait, job_id: Uuid, claim_id: Uuid) -> Result<Option<String>, StoreError> {
    let select = format!("SELECT state FROM {} WHERE job_id = $1 AND claim_id = $2", store.table("reprocessing_claims"));
    let row = conn.query_one_raw(stmt(store, select, vec![Value::from(job_id), Value::from(claim_id)])).await?;
    Ok(match row {
        Some(row) => Some(row.try_get_by_index(0)?),
        None => None,
    })
}

/// Records what came of one pending claim of a job, counts it, and
/// completes the job with its last claim; in the transaction that decided it.
pub async fn finish_job_claim(
    store: &Store,
    tx: &impl ConnectionTrait,
    job_id: Uuid,
    claim_id: Uuid,
    state: &str,
    version_id: Option<Uuid>,
    n_rippled: i64,
) -> Result<(), StoreError> {
    let counter = match state {
        "changed" => "n_changed",
        "unchanged" => "n_unchanged",
        "skipped" => "n_skipped",
        other => return Err(StoreError::Corrupt(format!("job claim state `{other}`"))),
    };
    let update =
        format!("UPDATE {} SET state = $3, version_id = $4 WHERE job_id = $1 AND claim_id = $2 AND state = 'pending'", store.table("reprocessing_claims"));
    let updated = tx.execute_raw(stmt(store, update, vec![Value::from(job_id), Value::from(claim_id), Value::from(state), Value::from(version_id)])).await?;
    if updated.rows_affected() != 1 {
        return Ok(());
    }
    let jobs = store.table("reprocessing_jobs");
    let update = format!("UPDATE {jobs} SET {counter} = {counter} + 1, n_rippled = n_rippled + $2 WHERE job_id = $1");
    tx.execute_raw(stmt(store, update, vec![Value::from(job_id), Value::from(n_rippled)])).await?;
    let complete = format!(
        "UPDATE {jobs} SET status = 'completed', finished_at = $2 WHERE job_id = $1 AND status = 'running' AND n_changed + n_unchanged + n_skipped >= n_selected"
    );
    tx.execute_raw(stmt(store, complete, vec![Value::from(job_id), Value::from(Timestamp::now().to_string())])).await?;
    Ok(())
}
