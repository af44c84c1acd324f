//! Intake's storage: its migrations and every SQL statement it runs (raw SQL
//! through [`Store::table`], ADR 0002). The handlers in [`crate::api`] and the
//! projection in [`crate::consumer`] call these functions and never write SQL.
//!
//! - [`claims`]: claims, their history, the status projection's updates and
//!   reads, the access log and erasure.
//! - [`registry`]: payers, providers, signing keys, members and enrollments,
//!   and the facts of the front-end edits.
//! - [`idempotency`]: `Idempotency-Key` leases and stored answers.
//! - [`x12`]: interchanges received and outbound control numbers.

pub mod benefits;
pub mod claims;
pub mod idempotency;
pub mod payments;
pub mod registry;
pub mod versions;
pub mod x12;

use claimtrail_store::{Footprint, Migration, Store, StoreError, stmt};
use sea_orm::ConnectionTrait;

/// Intake's migrations, in order.
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
        members_and_enrollments(),
        registries(),
        x12_interchanges(),
        erasure(),
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
        payments::migration(),
        benefits::migration(),
        versions::migration(),
    ]
}

/// Version 4: the members and provider enrollments that payers publish.
fn members_and_enrollments() -> Migration {
    Migration {
        version: 4,
        name: "members and provider enrollments",
        statements: |store| {
            vec![
                format!(
                    "CREATE TABLE {} (payer_id TEXT NOT NULL, member_id TEXT NOT NULL, plan_id TEXT NOT NULL, family_name TEXT NOT NULL, given_name TEXT NOT NULL, \
                     birth_date TEXT NOT NULL, sex TEXT NOT NULL, coverage_start TEXT NOT NULL, coverage_end TEXT NOT NULL, PRIMARY KEY (payer_id, member_id))",
                    store.table("members")
                ),
                format!(
                    "CREATE TABLE {} (npi TEXT NOT NULL, payer_id TEXT NOT NULL, entity_type INTEGER NOT NULL, name TEXT NOT NULL, tin TEXT NOT NULL, \
                     taxonomy TEXT NOT NULL, enrollment_start TEXT NOT NULL, enrollment_end TEXT NOT NULL, PRIMARY KEY (npi, payer_id))",
                    store.table("provider_enrollments")
                ),
            ]
        },
    }
}

/// Version 5: payers, the provider registry and signing keys.
fn registries() -> Migration {
    Migration {
        version: 5,
        name: "payers, provider registry, signing keys, key scopes, related claims",
        statements: |store| {
            let t = store.types();
            vec![
                format!("CREATE TABLE {} (payer_id TEXT PRIMARY KEY, name TEXT NOT NULL, timely_filing_days {} NOT NULL)", store.table("payers"), t.bigint),
                format!(
                    "CREATE TABLE {} (npi TEXT PRIMARY KEY, organization TEXT NOT NULL, licence_expires TEXT, details TEXT NOT NULL, updated_at {} NOT NULL DEFAULT {})",
                    store.table("providers"),
                    t.timestamp,
                    t.now
                ),
                format!("CREATE INDEX {} ON {} (organization)", store.index("providers_organization"), store.table("providers")),
                format!(
                    "CREATE TABLE {} (tenant TEXT NOT NULL, key_name TEXT NOT NULL, public_key {} NOT NULL, required INTEGER NOT NULL, \
                     created_at {} NOT NULL DEFAULT {}, PRIMARY KEY (tenant, key_name))",
                    store.table("signing_keys"),
                    t.bytes,
                    t.timestamp,
                    t.now
                ),
                format!("ALTER TABLE {} ADD COLUMN payer_id TEXT", store.table("api_keys")),
                format!("ALTER TABLE {} ADD COLUMN related_claim_id TEXT", store.table("claims")),
                format!("CREATE INDEX {} ON {} (related_claim_id)", store.index("claims_related"), store.table("claims")),
            ]
        },
    }
}

/// Version 6: X12 interchanges received and the outbound control numbers.
fn x12_interchanges() -> Migration {
    Migration {
        version: 6,
        name: "x12 interchanges received and outbound control numbers",
        statements: |store| {
            let t = store.types();
            vec![
                format!(
                    "CREATE TABLE {} (sender_qualifier TEXT NOT NULL, sender_id TEXT NOT NULL, control_number TEXT NOT NULL, submitter TEXT NOT NULL, \
                     received_at {} NOT NULL DEFAULT {}, PRIMARY KEY (sender_qualifier, sender_id, control_number))",
                    store.table("x12_interchanges"),
                    t.timestamp,
                    t.now
                ),
                format!(
                    "CREATE TABLE {} (id INTEGER PRIMARY KEY, next_interchange {} NOT NULL, next_group {} NOT NULL, next_transaction {} NOT NULL)",
                    store.table("x12_control_numbers"),
                    t.bigint,
                    t.bigint,
                    t.bigint
                ),
                format!("INSERT INTO {} (id, next_interchange, next_group, next_transaction) VALUES (1, 1, 1, 1)", store.table("x12_control_numbers")),
            ]
        },
    }
}

/// Version 7: erasure on request.
fn erasure() -> Migration {
    Migration {
        version: 7,
        name: "erasure: member id and erasure time per claim",
        statements: |store| {
            let claims = store.table("claims");
            let member_of_claim = if store.is_postgres() { "(claim::jsonb ->> 'member_id')" } else { "json_extract(claim, '$.member_id')" };
            vec![
                format!("ALTER TABLE {claims} ADD COLUMN member_id TEXT"),
                format!("ALTER TABLE {claims} ADD COLUMN erased_at TEXT"),
                format!("UPDATE {claims} SET member_id = {member_of_claim} WHERE claim IS NOT NULL"),
                format!("CREATE INDEX {} ON {claims} (payer_id, member_id)", store.index("claims_member")),
            ]
        },
    }
}

/// Rows and bytes of the tables intake grows per claim, for the bench.
pub async fn footprint(store: &Store) -> Result<Footprint, StoreError> {
    claimtrail_store::footprint(store, &["claims", "claim_history", "outbox", "inbox"]).await
}

/// Intake kept the API keys in its own `api_keys` table before every
/// service authenticated against the shared registry: copy any such key
/// over (idempotent; the registry's row wins). `WHERE true` resolves
/// SQLite's parsing ambiguity between the SELECT and the upsert clause.
pub async fn copy_legacy_keys(store: &Store, registry: &Store) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO {} (key_id, secret_sha256, tenant, role, payer_id) SELECT key_id, secret_sha256, tenant, role, payer_id FROM {} \
         WHERE true ON CONFLICT (key_id) DO NOTHING",
        registry.table("api_keys"),
        store.table("api_keys")
    );
    store.db().execute_raw(stmt(store, sql, vec![])).await?;
    Ok(())
}

/// `n` placeholders numbered from `first`: `$first,$first+1,...`.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|idx| format!("${idx}")).collect::<Vec<_>>().join(",")
}
