//! The dashboard's own tables (all of its SQL): the sessions.

pub mod sessions;

use claimtrail_store::migrate::Migration;

/// The dashboard's migrations, applied under its own schema (`<prefix>_dashboard`).
pub fn migrations() -> Vec<Migration> {
    vec![Migration {
        version: 1,
        name: "sessions, kept across restarts and replicas",
        statements: |store| {
            let t = store.types();
            vec![
                format!(
                    "CREATE TABLE {} (row_key TEXT PRIMARY KEY, sealed_key TEXT NOT NULL, viewer TEXT NOT NULL, csrf_token TEXT NOT NULL, \
                     last_seen_unix {big} NOT NULL, started_unix {big} NOT NULL)",
                    store.table("sessions"),
                    big = t.bigint
                ),
                format!("CREATE INDEX {} ON {} (last_seen_unix)", store.index("sessions_last_seen"), store.table("sessions")),
            ]
        },
    }]
}
