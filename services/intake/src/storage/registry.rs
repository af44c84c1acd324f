//! The registries' tables: payers, providers (with the organization whose
//! keys bill under each NPI), the organizations' signing keys, members with
//! their coverage and provider enrollments; and the [`edit_facts`] that the
//! front-end edits read for a whole request.

use std::collections::{HashMap, HashSet};

use claimtrail_events::{ClaimStatus, Frequency, MemberEnrolled, PayerRegistered, ProviderEnrolled, ProviderRegistered, SubmittedClaim, format_date};
use claimtrail_store::{Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use super::placeholders;
use crate::domain::{edits, fingerprints};

/// Upserts a payer.
pub async fn upsert_payer(store: &Store, tx: &impl ConnectionTrait, payer: &PayerRegistered) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!(
            "INSERT INTO {} (payer_id, name, timely_filing_days) VALUES ($1, $2, $3) \
             ON CONFLICT (payer_id) DO UPDATE SET name = excluded.name, timely_filing_days = excluded.timely_filing_days",
            store.table("payers")
        ),
        vec![Value::from(payer.payer_id.clone()), Value::from(payer.name.clone()), Value::from(i64::from(payer.timely_filing_days))],
    ))
    .await?;
    Ok(())
}

/// Upserts a provider's registration (the whole of it as `details`).
pub async fn upsert_provider(store: &Store, tx: &impl ConnectionTrait, provider: &ProviderRegistered) -> Result<(), StoreError> {
    let details = serde_json::to_string(provider).map_err(|e| StoreError::Config(e.to_string()))?;
    tx.execute_raw(stmt(
        store,
        format!(
            "INSERT INTO {} (npi, organization, licence_expires, details) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (npi) DO UPDATE SET organization = excluded.organization, licence_expires = excluded.licence_expires, \
             details = excluded.details, updated_at = {}",
            store.table("providers"),
            store.types().now
        ),
        vec![
            Value::from(provider.npi.clone()),
            Value::from(provider.organization.clone()),
            Value::from(provider.licence.as_ref().map(|l| format_date(l.expires))),
            Value::from(details),
        ],
    ))
    .await?;
    Ok(())
}

/// A registered provider: the organization holding its NPI, and its registration as stored.
pub async fn provider(store: &Store, npi: &str) -> Result<Option<(String, String)>, StoreError> {
    let row = store
        .reader()
        .query_one_raw(stmt(store, format!("SELECT organization, details FROM {} WHERE npi = $1", store.table("providers")), vec![Value::from(npi.to_owned())]))
        .await?;
    row.map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))).transpose()
}

/// The organizations owning each NPI, for those registered.
pub async fn organizations(store: &Store, npis: &[String]) -> Result<HashMap<String, (String, Option<String>)>, StoreError> {
    let mut found = HashMap::new();
    for chunk in npis.chunks(500) {
        let rows = store
            .reader()
            .query_all_raw(stmt(
                store,
                format!("SELECT npi, organization, licence_expires FROM {} WHERE npi IN ({})", store.table("providers"), placeholders(1, chunk.len())),
                chunk.iter().map(|npi| Value::from(npi.clone())).collect(),
            ))
            .await?;
        for row in rows {
            found.insert(row.try_get_by_index(0)?, (row.try_get_by_index(1)?, row.try_get_by_index(2)?));
        }
    }
    Ok(found)
}

/// How many signing keys `tenant` holds besides `key_name`.
pub async fn other_signing_keys(store: &Store, tx: &impl ConnectionTrait, tenant: &str, key_name: &str) -> Result<i64, StoreError> {
    let row = tx
        .query_one_raw(stmt(
            store,
            format!("SELECT COUNT(*) FROM {} WHERE tenant = $1 AND key_name <> $2", store.table("signing_keys")),
            vec![Value::from(tenant.to_owned()), Value::from(key_name.to_owned())],
        ))
        .await?;
    Ok(row.map(|row| row.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0))
}

/// Registers (or replaces) one of `tenant`'s signing keys.
pub async fn upsert_signing_key(
    store: &Store,
    tx: &impl ConnectionTrait,
    tenant: &str,
    key_name: &str,
    public_key: &[u8; 32],
    required: bool,
) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!(
            "INSERT INTO {} (tenant, key_name, public_key, required) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant, key_name) DO UPDATE SET public_key = excluded.public_key, required = excluded.required",
            store.table("signing_keys")
        ),
        vec![Value::from(tenant.to_owned()), Value::from(key_name.to_owned()), Value::from(public_key.to_vec()), Value::from(i32::from(required))],
    ))
    .await?;
    Ok(())
}

/// One registered signing key: its name, its public key's bytes, and whether it makes signatures required.
pub struct SigningKey {
    pub key_name: String,
    pub public_key: Vec<u8>,
    pub required: bool,
}

/// `tenant`'s signing keys, by name.
pub async fn signing_keys(store: &Store, tenant: &str) -> Result<Vec<SigningKey>, StoreError> {
    let rows = store
        .reader()
        .query_all_raw(stmt(
            store,
            format!("SELECT key_name, public_key, required FROM {} WHERE tenant = $1 ORDER BY key_name", store.table("signing_keys")),
            vec![Value::from(tenant.to_owned())],
        ))
        .await?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        keys.push(SigningKey { key_name: row.try_get_by_index(0)?, public_key: row.try_get_by_index(1)?, required: row.try_get_by_index::<i32>(2)? != 0 });
    }
    Ok(keys)
}

/// Whether any of `tenant`'s signing keys makes signed submissions required.
pub async fn signatures_required(store: &Store, tenant: &str) -> Result<bool, StoreError> {
    let required = store
        .reader()
        .query_one_raw(stmt(
            store,
            format!("SELECT COUNT(*) FROM {} WHERE tenant = $1 AND required <> 0", store.table("signing_keys")),
            vec![Value::from(tenant.to_owned())],
        ))
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    Ok(required > 0)
}

/// The public key's bytes of `tenant`'s signing key `key_name`, if registered.
pub async fn signing_key(store: &Store, tenant: &str, key_name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let row = store
        .reader()
        .query_one_raw(stmt(
            store,
            format!("SELECT public_key FROM {} WHERE tenant = $1 AND key_name = $2", store.table("signing_keys")),
            vec![Value::from(tenant.to_owned()), Value::from(key_name.to_owned())],
        ))
        .await?;
    row.map(|row| row.try_get_by_index(0)).transpose().map_err(Into::into)
}

/// Upserts members with their coverage.
pub async fn upsert_members(store: &Store, tx: &impl ConnectionTrait, members: &[MemberEnrolled]) -> Result<(), StoreError> {
    let upsert = format!(
        "INSERT INTO {} (payer_id, member_id, plan_id, family_name, given_name, birth_date, sex, coverage_start, coverage_end) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (payer_id, member_id) DO UPDATE SET plan_id = excluded.plan_id, \
         family_name = excluded.family_name, given_name = excluded.given_name, birth_date = excluded.birth_date, sex = excluded.sex, \
         coverage_start = excluded.coverage_start, coverage_end = excluded.coverage_end",
        store.table("members")
    );
    for member in members {
        tx.execute_raw(stmt(
            store,
            upsert.clone(),
            vec![
                Value::from(member.payer_id.clone()),
                Value::from(member.member_id.clone()),
                Value::from(member.plan_id.clone()),
                Value::from(member.family_name.clone()),
                Value::from(member.given_name.clone()),
                Value::from(format_date(member.birth_date)),
                Value::from(member.sex.clone()),
                Value::from(format_date(member.coverage_start)),
                Value::from(format_date(member.coverage_end)),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// Deletes a member's enrollment (erasure).
pub async fn delete_member(store: &Store, tx: &impl ConnectionTrait, payer_id: &str, member_id: &str) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!("DELETE FROM {} WHERE payer_id = $1 AND member_id = $2", store.table("members")),
        vec![Value::from(payer_id.to_owned()), Value::from(member_id.to_owned())],
    ))
    .await?;
    Ok(())
}

/// Upserts a provider's enrollment with a payer.
pub async fn upsert_enrollment(store: &Store, tx: &impl ConnectionTrait, enrollment: &ProviderEnrolled) -> Result<(), StoreError> {
    tx.execute_raw(stmt(
        store,
        format!(
            "INSERT INTO {} (npi, payer_id, entity_type, name, tin, taxonomy, enrollment_start, enrollment_end) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (npi, payer_id) DO UPDATE SET entity_type = excluded.entity_type, name = excluded.name, tin = excluded.tin, \
             taxonomy = excluded.taxonomy, enrollment_start = excluded.enrollment_start, enrollment_end = excluded.enrollment_end",
            store.table("provider_enrollments")
        ),
        vec![
            Value::from(enrollment.npi.clone()),
            Value::from(enrollment.payer_id.clone()),
            Value::from(i32::from(enrollment.entity_type)),
            Value::from(enrollment.name.clone()),
            Value::from(enrollment.tin.clone()),
            Value::from(enrollment.taxonomy.clone()),
            Value::from(format_date(enrollment.enrollment_start)),
            Value::from(format_date(enrollment.enrollment_end)),
        ],
    ))
    .await?;
    Ok(())
}

/// How many members intake knows for `payer_id` (the demo seeds a payer once).
pub async fn member_count(store: &Store, payer_id: &str) -> Result<i64, StoreError> {
    payer_rows(store, "members", payer_id).await
}

/// Whether intake's registry holds `payer_id`.
pub async fn payer_registered(store: &Store, payer_id: &str) -> Result<bool, StoreError> {
    Ok(payer_rows(store, "payers", payer_id).await? > 0)
}

async fn payer_rows(store: &Store, table: &str, payer_id: &str) -> Result<i64, StoreError> {
    let sql = format!("SELECT COUNT(*) FROM {} WHERE payer_id = $1", store.table(table));
    let row = store.db().query_one_raw(stmt(store, sql, vec![Value::from(payer_id.to_owned())])).await?;
    Ok(row.map(|row| row.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0))
}

/// Runs a query over keys in chunks, with `IN (...)` over one or two columns.
async fn rows_in(store: &Store, select: &str, columns: &[&str], keys: &[Vec<String>]) -> Result<Vec<sea_orm::QueryResult>, StoreError> {
    let mut rows = Vec::new();
    for chunk in keys.chunks(400) {
        let mut values = Vec::with_capacity(chunk.len() * columns.len());
        let tuples: Vec<String> = chunk
            .iter()
            .map(|key| {
                let placeholders: Vec<String> = key
                    .iter()
                    .map(|part| {
                        values.push(Value::from(part.clone()));
                        format!("${}", values.len())
                    })
                    .collect();
                format!("({})", placeholders.join(", "))
            })
            .collect();
        let sql = format!("{select} WHERE ({}) IN ({})", columns.join(", "), tuples.join(","));
        rows.extend(store.reader().query_all_raw(stmt(store, sql, values)).await?);
    }
    Ok(rows)
}

fn distinct(keys: impl Iterator<Item = Vec<String>>) -> Vec<Vec<String>> {
    let mut keys: Vec<Vec<String>> = keys.collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The registry's identity of each member of `claims` (what their keyed fingerprints are made of), by (payer, member).
pub async fn identities(store: &Store, claims: &[&SubmittedClaim]) -> Result<HashMap<(String, String), fingerprints::MemberIdentity>, StoreError> {
    let members = distinct(claims.iter().map(|c| vec![c.payer_id.to_string(), c.member_id.to_string()]));
    let select = format!("SELECT payer_id, member_id, family_name, given_name, birth_date, sex FROM {}", store.table("members"));
    let mut identities = HashMap::new();
    for row in rows_in(store, &select, &["payer_id", "member_id"], &members).await? {
        let birth_date: String = row.try_get_by_index(4)?;
        let Some(birth_date) = claimtrail_events::parse_date(&birth_date) else { continue };
        let identity = fingerprints::MemberIdentity {
            family_name: row.try_get_by_index(2)?,
            given_name: row.try_get_by_index(3)?,
            birth_date,
            sex: row.try_get_by_index(5)?,
        };
        identities.insert((row.try_get_by_index(0)?, row.try_get_by_index(1)?), identity);
    }
    Ok(identities)
}

/// What the edits read for `claims`, fetched for the whole request (a handful of queries, however many claims).
pub async fn edit_facts(store: &Store, claims: &[&SubmittedClaim]) -> Result<edits::Facts, StoreError> {
    let mut facts =
        edits::Facts { payers: HashMap::new(), coverage: HashMap::new(), licences: HashMap::new(), originals: HashMap::new(), taken: HashSet::new() };
    if claims.is_empty() {
        return Ok(facts);
    }
    let payers = distinct(claims.iter().map(|c| vec![c.payer_id.to_string()]));
    for row in rows_in(store, &format!("SELECT payer_id, timely_filing_days FROM {}", store.table("payers")), &["payer_id"], &payers).await? {
        facts.payers.insert(row.try_get_by_index(0)?, row.try_get_by_index::<i64>(1)?);
    }
    let members = distinct(claims.iter().map(|c| vec![c.payer_id.to_string(), c.member_id.to_string()]));
    let select = format!("SELECT payer_id, member_id, coverage_start, coverage_end FROM {}", store.table("members"));
    for row in rows_in(store, &select, &["payer_id", "member_id"], &members).await? {
        facts.coverage.insert((row.try_get_by_index(0)?, row.try_get_by_index(1)?), (row.try_get_by_index(2)?, row.try_get_by_index(3)?));
    }
    let npis = distinct(claims.iter().map(|c| vec![c.billing_npi.to_string()]));
    for row in rows_in(store, &format!("SELECT npi, licence_expires FROM {}", store.table("providers")), &["npi"], &npis).await? {
        facts.licences.insert(row.try_get_by_index(0)?, row.try_get_by_index(1)?);
    }
    let originals: Vec<Uuid> = claims
        .iter()
        .filter(|c| c.frequency != Frequency::Original)
        .filter_map(|c| c.related_claim_id.map(Uuid::from))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    for chunk in originals.chunks(400) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|idx| format!("${idx}")).collect();
        let values: Vec<Value> = chunk.iter().map(|id| Value::from(*id)).collect();
        let rows = store
            .reader()
            .query_all_raw(stmt(
                store,
                format!(
                    "SELECT claim_id, submitter, status, payer_id, billing_npi FROM {} WHERE claim_id IN ({})",
                    store.table("claims"),
                    placeholders.join(",")
                ),
                values,
            ))
            .await?;
        for row in rows {
            let payer: Option<String> = row.try_get_by_index(3)?;
            let npi: Option<String> = row.try_get_by_index(4)?;
            facts
                .originals
                .insert(row.try_get_by_index(0)?, (row.try_get_by_index(1)?, row.try_get_by_index(2)?, payer.unwrap_or_default(), npi.unwrap_or_default()));
        }
        let values: Vec<Value> = chunk.iter().map(|id| Value::from(id.to_string())).collect();
        let rows = store
            .reader()
            .query_all_raw(stmt(
                store,
                format!(
                    "SELECT related_claim_id FROM {} WHERE related_claim_id IN ({}) AND status <> ${}",
                    store.table("claims"),
                    placeholders.join(","),
                    values.len() + 1
                ),
                values.into_iter().chain([Value::from(ClaimStatus::Rejected.as_str())]).collect(),
            ))
            .await?;
        for row in rows {
            facts.taken.insert(row.try_get_by_index(0)?);
        }
    }
    Ok(facts)
}
