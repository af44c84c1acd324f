//! The batch's held writes (issue 21): the same claims decided one per batch
//! and all in one batch leave the same rows, byte for byte.

use claimtrail_events::{
    ClaimSubmitted, Frequency, MemberEnrolled, NewEvent, PayerRegistered, Producer, ProviderEnrolled, SealedEvent, SubmittedClaim, Timestamp,
};
use claimtrail_runtime::EventHandler;
use claimtrail_store::{Store, StoreConfig};
use time::macros::date;
use uuid::Uuid;

use super::Adjudicator;
use crate::domain::fixtures;
use crate::storage::{self, PolicyVersion, StoredSchedule};

const PAYER: &str = "PAYER1";
const PLAN_ID: &str = "DEMO-PPO";
const PLAN: &str = include_str!("../../../cli/demo/plan.json");
const RULE_SET: &str = r#"{"contentType":"application/vnd.gorules.decision",
    "nodes":[{"type":"inputNode","id":"in","name":"Request","position":{"x":0,"y":0}},
             {"type":"outputNode","id":"out","name":"Response","position":{"x":400,"y":0}}],
    "edges":[{"id":"e0","sourceId":"in","targetId":"out","type":"edge"}],
    "policy":{"effective_from":"2026-01-01","mue_action":"deny","timely_filing_days":365,"standard_edits":["coverage"]}}"#;

/// Members: (member, subscriber). S1's family has three, S2 is alone, M9 has no plan's family.
const MEMBERS: [(&str, &str); 5] = [("S1", "S1"), ("S1B", "S1"), ("S1C", "S1"), ("S2", "S2"), ("M9", "M9")];

fn at(day: u8) -> Timestamp {
    Timestamp::parse(&format!("2026-01-{day:02}T00:00:00.000000Z")).unwrap()
}

async fn seed(store: &Store) {
    let tx = store.begin().await.unwrap();
    for (member_id, subscriber_id) in MEMBERS {
        let member = MemberEnrolled {
            payer_id: PAYER.into(),
            member_id: member_id.into(),
            family_name: "DOE".into(),
            given_name: "JO".into(),
            birth_date: date!(1980 - 01 - 01),
            sex: "female".into(),
            plan_id: PLAN_ID.into(),
            coverage_start: date!(2026 - 01 - 01),
            coverage_end: date!(2026 - 12 - 31),
            subscriber_id: Some(subscriber_id.into()),
            relationship: None,
            date_of_death: None,
            zip: None,
        };
        storage::record_member(store, &tx, Uuid::now_v7(), &member, at(1), at(1)).await.unwrap();
    }
    let provider = ProviderEnrolled {
        npi: "1234567893".into(),
        entity_type: 1,
        name: "CLINIC".into(),
        tin: "123456789".into(),
        taxonomy: "207Q00000X".into(),
        payer_id: PAYER.into(),
        enrollment_start: date!(2026 - 01 - 01),
        enrollment_end: date!(2026 - 12 - 31),
        last_name: None,
        first_name: None,
        birth_date: None,
    };
    storage::record_provider(store, &tx, Uuid::now_v7(), &provider, at(1), at(1)).await.unwrap();
    let payer = PayerRegistered { payer_id: PAYER.into(), name: "ACME".into(), timely_filing_days: 365 };
    storage::record_payer(store, &tx, Uuid::now_v7(), &payer, at(1), at(1)).await.unwrap();
    let entries = [("99213", "75.00"), ("97597", "40.00"), ("11042", "120.00"), ("90686", "25.00")]
        .iter()
        .map(|(code, fee)| claimtrail_events::FeeScheduleEntry { procedure_code: (*code).into(), amount: claimtrail_events::Money::parse(fee).unwrap() })
        .collect();
    let schedule = StoredSchedule { fee_schedule_id: "fs-1".into(), content_hash: "a".repeat(64), entries };
    storage::replace_fee_schedule(store, &tx, PAYER, &schedule).await.unwrap();
    let version = |kind: &str, name: &str, content_hash: String| PolicyVersion {
        version_id: Uuid::now_v7(),
        payer_id: PAYER.into(),
        kind: kind.into(),
        name: name.into(),
        content_hash,
        row_count: 0,
        effective_from: date!(2026 - 01 - 01),
        effective_to: None,
        recorded_at: at(2),
    };
    let rule_set = claimtrail_rules::RuleSet::parse("payer-rules", RULE_SET.as_bytes()).unwrap();
    storage::insert_policy_version(store, &tx, &version("rule-set", "payer-rules", rule_set.content_hash().to_owned()), rule_set.canonical_bytes())
        .await
        .unwrap();
    let plan_hash = hex::encode(claimtrail_events::sha3_256(PLAN.as_bytes()));
    storage::insert_policy_version(store, &tx, &version(crate::api::plans::PLAN_KIND, PLAN_ID, plan_hash), PLAN.as_bytes()).await.unwrap();
    tx.commit().await.unwrap();
}

/// Claims of the same members and family again and again (some on the same
/// dates, so that edits and counts read the batch's earlier claims), a
/// replacement and a void of earlier claims of the batch among them.
fn claims() -> Vec<SubmittedClaim> {
    let lines: [&[(&str, &str, i64)]; 4] = [
        &[("99213", "100.00", 1)],
        &[("99213", "100.00", 1), ("97597", "60.00", 2)],
        &[("11042", "300.00", 1), ("97597", "35.50", 1)],
        &[("90686", "30.00", 1), ("99213", "90.00", 1)],
    ];
    let mut claims = Vec::new();
    for idx in 0..24u32 {
        let (member_id, _) = MEMBERS[(idx as usize * 7) % MEMBERS.len()];
        let mut claim = fixtures::claim(Frequency::Original, None, lines[idx as usize % lines.len()]);
        claim.claim_id = Uuid::from_u128(0xC1A1_0000 + u128::from(idx));
        claim.member_id = member_id.parse().unwrap();
        claim.payer_id = PAYER.parse().unwrap();
        for line in &mut claim.lines {
            line.service_date = date!(2026 - 10 - 01) + time::Duration::days(i64::from(idx % 5) * 3);
        }
        claims.push(claim);
    }
    // A replacement of claim 2 and a void of claim 5, both in the batch.
    let mut replacement = claims[2].clone();
    replacement.claim_id = Uuid::from_u128(0xC1A1_1000);
    replacement.frequency = Frequency::Replacement;
    replacement.related_claim_id = Some(claims[2].claim_id.into());
    replacement.lines.truncate(1);
    claims.insert(9, replacement);
    let mut void = claims[5].clone();
    void.claim_id = Uuid::from_u128(0xC1A1_1001);
    void.frequency = Frequency::Void;
    void.related_claim_id = Some(claims[5].claim_id.into());
    claims.insert(15, void);
    claims
}

fn envelope(claim: SubmittedClaim) -> claimtrail_events::Envelope {
    let aggregate = claim.claim_id.to_string();
    let submitted = ClaimSubmitted {
        claim,
        submitter: "riverside".into(),
        channel: "fhir".into(),
        received_at: Timestamp::parse("2026-11-05T09:00:00.000000Z").unwrap(),
        submission_signature: None,
        fingerprints: Default::default(),
    };
    let producer = Producer { service: "intake".into(), key_id: "intake-test".into() };
    SealedEvent::seal(NewEvent::new(submitted, aggregate), 1, producer, [7; 32], Timestamp::parse("2026-11-05T09:00:01.000000Z").unwrap())
        .unwrap()
        .envelope()
        .unwrap()
}

/// Every row of the tables a decision writes, as text (the columns the clock or a random id fills left out).
async fn rows(store: &Store) -> Vec<String> {
    let tables: [(&str, &str, &str); 6] = [
        ("decisions", "claim_id, outcome, rule_set_hash, total_paid_cents, decision, reversed_by", "claim_id"),
        ("decision_records", "claim_id, event_type, payer_id, submitter, engine_version, payload, record", "claim_id"),
        ("claim_order", "claim_id, payer_id, family_key, plan_year, position", "claim_id"),
        (
            "claim_lines",
            "claim_id, sequence, payer_id, member_id, subscriber_id, billing_npi, rendering_npi, service_date, procedure_code, modifiers, units, charge_cents, status",
            "claim_id, sequence",
        ),
        ("accumulators", "payer_id, member_id, plan_year, bucket, met_cents", "payer_id, member_id, plan_year, bucket"),
        (
            "accumulator_entries",
            "payer_id, change_kind, claim_id, claim_version, source_sha3, entry_index, member_id, plan_year, bucket, amount_cents",
            "claim_id, claim_version, change_kind, entry_index, member_id, plan_year, bucket, amount_cents",
        ),
    ];
    let mut all = Vec::new();
    for (table, columns, order) in tables {
        all.extend(claimtrail_store::rows_as_text(store, table, columns, order).await.unwrap().into_iter().map(|row| format!("{table}: {row}")));
    }
    all
}

/// Decides `claims` one per batch (a transaction each) and all in one batch; the rows of each.
async fn one_by_one_and_all_at_once(one: &Store, all: &Store) -> (Vec<String>, Vec<String>) {
    let envelopes: Vec<claimtrail_events::Envelope> = claims().into_iter().map(envelope).collect();
    seed(one).await;
    let adjudicator = Adjudicator::new(one.clone());
    for envelope in &envelopes {
        let tx = one.begin().await.unwrap();
        adjudicator.handle_batch(&tx, &[envelope]).await.unwrap();
        tx.commit().await.unwrap();
    }
    seed(all).await;
    let adjudicator = Adjudicator::new(all.clone());
    let tx = all.begin().await.unwrap();
    adjudicator.handle_batch(&tx, &envelopes.iter().collect::<Vec<_>>()).await.unwrap();
    tx.commit().await.unwrap();
    (rows(one).await, rows(all).await)
}

fn assert_same(one: &[String], all: &[String]) {
    for (table, at_least) in
        [("decisions", 20), ("decision_records", 20), ("claim_order", 10), ("claim_lines", 30), ("accumulators", 4), ("accumulator_entries", 10)]
    {
        let n = one.iter().filter(|row| row.starts_with(&format!("{table}: "))).count();
        assert!(n >= at_least, "{n} rows of {table}, expected at least {at_least}: {one:#?}");
    }
    assert!(one.iter().any(|row| row.starts_with("decisions: ") && !row.ends_with("|NULL")), "some decision was reversed: {one:#?}");
    assert_eq!(one.len(), all.len());
    for (one, all) in one.iter().zip(all) {
        assert_eq!(one, all);
    }
}

async fn sqlite(dir: &tempfile::TempDir, name: &str) -> Store {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join(name).display());
    let config = StoreConfig { database_url: url, service: "adjudication".into(), prefix: String::new(), max_connections: 1, statement_timeout: None };
    let store = Store::connect(&config).await.unwrap();
    store.migrate(&storage::migrations()).await.unwrap();
    store
}

#[tokio::test]
async fn one_claim_per_batch_and_all_in_one_batch_write_the_same_rows_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (one, all) = one_by_one_and_all_at_once(&sqlite(&dir, "one.db").await, &sqlite(&dir, "all.db").await).await;
    assert_same(&one, &all);
}

#[tokio::test]
async fn one_claim_per_batch_and_all_in_one_batch_write_the_same_rows_on_postgres() {
    let url = std::env::var("CLAIMTRAIL_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let tag = Uuid::now_v7().simple().to_string();
    let mut stores = Vec::new();
    for which in ["one", "all"] {
        let prefix = format!("adjb{which}{}", &tag[tag.len() - 10..]);
        let config = StoreConfig { database_url: url.clone(), service: "adjudication".into(), prefix, max_connections: 2, statement_timeout: None };
        let store = Store::connect(&config).await.unwrap();
        store.migrate(&storage::migrations()).await.unwrap();
        stores.push(store);
    }
    let (one, all) = one_by_one_and_all_at_once(&stores[0], &stores[1]).await;
    assert_same(&one, &all);
}
