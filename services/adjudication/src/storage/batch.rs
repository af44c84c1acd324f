//! The registry and claim-history reads of a whole consumer batch: one query
//! per table for all of its claims, instead of four per claim.
//!
//! Results are those of the per-claim reads ([`super::registry_facts`],
//! [`super::claim_history`]), claim by claim:
//! - registry: the latest version per member, provider and payer, picked
//!   from all the versions of the batch's keys in the same order
//!   (`recorded_at DESC, event_id DESC`);
//! - history: every line of the batch's members, billing providers and dates
//!   of service (at most [`BATCH_HISTORY_ROWS_MAX`]; past it the caller reads
//!   per claim), then per claim the per-claim query's filter, order and limit
//!   ([`claim_history_in`]) for a claim whose reach is its dates (a claim
//!   that also reads an authorization's dates is read per claim). The lines the batch's own decisions write (and
//!   reverse) in its transaction are applied to the rows read
//!   ([`BatchHistory::record`]), so a later claim of the batch sees them as the
//!   per-claim query would. A member's lines are written only by its family's
//!   partition, which is this consumer, so no other writer changes them
//!   while the batch runs.

use std::collections::{BTreeSet, HashMap};

use claimtrail_events::{Money, SubmittedClaim, format_date};
use claimtrail_store::{Store, StoreError, stmt};
use sea_orm::{ConnectionTrait, Value};
use uuid::Uuid;

use super::{HISTORY_COLUMNS, HISTORY_LINES_MAX, MEMBER_COLUMNS, PAYER_COLUMNS, PROVIDER_COLUMNS, history_row, member_row, payer_row, provider_row};
use crate::domain::{HistoryFact, HistoryReach, HistoryStatus, RegistryFacts};

/// History rows one batch reads at most in its one query; past it, the
/// batch reads per claim (the per-claim query's limit still bounds a record).
pub const BATCH_HISTORY_ROWS_MAX: usize = 20_000;

/// One line of the claim history with the keys the per-claim query filters on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub payer_id: String,
    pub member_id: String,
    pub fact: HistoryFact,
}

/// `column IN ($k, ...)` over the distinct `values`, pushed in order.
fn one_of(column: &str, values: BTreeSet<String>, bound: &mut Vec<Value>) -> String {
    let values: Vec<String> = values.into_iter().collect();
    claimtrail_store::one_of_condition(column, Some(&values), bound).unwrap_or_else(|| "1 = 0".to_owned())
}

/// The registry facts of each claim, as known now: three queries for them all.
pub async fn registry_facts_of(store: &Store, conn: &impl ConnectionTrait, claims: &[&SubmittedClaim]) -> Result<HashMap<Uuid, RegistryFacts>, StoreError> {
    if claims.is_empty() {
        return Ok(HashMap::new());
    }
    let payers: BTreeSet<String> = claims.iter().map(|claim| claim.payer_id.to_string()).collect();
    let order = "ORDER BY recorded_at DESC, event_id DESC";

    let mut values = Vec::new();
    let payer_in = one_of("payer_id", payers.clone(), &mut values);
    let member_in = one_of("member_id", claims.iter().map(|claim| claim.member_id.to_string()).collect(), &mut values);
    let select = format!("SELECT {MEMBER_COLUMNS} FROM {} WHERE {payer_in} AND {member_in} {order}", store.table("member_enrollments"));
    let mut members = HashMap::new();
    for row in conn.query_all_raw(stmt(store, select, values)).await? {
        let payer_id: String = row.try_get_by_index(10)?;
        let member = member_row(&row)?;
        members.entry((payer_id, member.member_id.clone())).or_insert(member);
    }

    let mut values = Vec::new();
    let npis = claims.iter().flat_map(|claim| std::iter::once(claim.billing_npi.to_string()).chain(super::other_renderer(claim).map(str::to_owned)));
    let npi_in = one_of("npi", npis.collect(), &mut values);
    let payer_in = one_of("payer_id", payers.clone(), &mut values);
    let select = format!("SELECT {PROVIDER_COLUMNS} FROM {} WHERE {npi_in} AND {payer_in} {order}", store.table("provider_enrollments"));
    let mut providers = HashMap::new();
    for row in conn.query_all_raw(stmt(store, select, values)).await? {
        let payer_id: String = row.try_get_by_index(6)?;
        let provider = provider_row(&row)?;
        providers.entry((provider.npi.clone(), payer_id)).or_insert(provider);
    }

    let mut values = Vec::new();
    let payer_in = one_of("payer_id", payers, &mut values);
    let select = format!("SELECT {PAYER_COLUMNS} FROM {} WHERE {payer_in} {order}", store.table("payers"));
    let mut payer_facts = HashMap::new();
    for row in conn.query_all_raw(stmt(store, select, values)).await? {
        let payer = payer_row(&row)?;
        payer_facts.entry(payer.payer_id.clone()).or_insert(payer);
    }

    Ok(claims
        .iter()
        .map(|claim| {
            let (payer_id, member_id, npi) = (claim.payer_id.to_string(), claim.member_id.to_string(), claim.billing_npi.to_string());
            let facts = RegistryFacts {
                member: members.get(&(payer_id.clone(), member_id)).cloned(),
                provider: providers.get(&(npi, payer_id.clone())).cloned(),
                payer: payer_facts.get(&payer_id).cloned(),
                rendering_provider: super::other_renderer(claim).and_then(|npi| providers.get(&(npi.to_owned(), payer_id.clone()))).cloned(),
            };
            (claim.claim_id, facts)
        })
        .collect())
}

/// Every history line any of `claims` may read, in one query; `None` when
/// there are more than [`BATCH_HISTORY_ROWS_MAX`] (read per claim then).
pub async fn history_of(store: &Store, conn: &impl ConnectionTrait, claims: &[&SubmittedClaim]) -> Result<Option<Vec<HistoryRow>>, StoreError> {
    let dates: BTreeSet<String> = claims.iter().flat_map(|claim| claim.lines.iter().map(|line| format_date(line.service_date))).collect();
    if dates.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let mut values = Vec::new();
    let payer_in = one_of("payer_id", claims.iter().map(|claim| claim.payer_id.to_string()).collect(), &mut values);
    let member_in = one_of("member_id", claims.iter().map(|claim| claim.member_id.to_string()).collect(), &mut values);
    let npi_in = one_of("billing_npi", claims.iter().map(|claim| claim.billing_npi.to_string()).collect(), &mut values);
    let date_in = one_of("service_date", dates, &mut values);
    let select = format!(
        "SELECT {HISTORY_COLUMNS} FROM {} WHERE {payer_in} AND {member_in} AND {npi_in} AND {date_in} LIMIT {}",
        store.table("claim_lines"),
        BATCH_HISTORY_ROWS_MAX + 1
    );
    let rows = conn.query_all_raw(stmt(store, select, values)).await?;
    if rows.len() > BATCH_HISTORY_ROWS_MAX {
        return Ok(None);
    }
    let mut history = Vec::with_capacity(rows.len());
    for row in &rows {
        history.push(HistoryRow { payer_id: row.try_get_by_index(10)?, member_id: row.try_get_by_index(11)?, fact: history_row(row)? });
    }
    Ok(Some(history))
}

/// What [`super::claim_history`] answers for `claim` within `reach`, from
/// rows holding every line it may read: the same filter, order
/// (`service_date DESC, claim_id DESC, sequence`) and limit.
pub fn claim_history_in<'r>(rows: impl IntoIterator<Item = &'r HistoryRow>, claim: &SubmittedClaim, reach: &HistoryReach) -> Vec<HistoryFact> {
    let (payer_id, member_id, npi) = (claim.payer_id.to_string(), claim.member_id.to_string(), claim.billing_npi.to_string());
    let mut lines: Vec<&HistoryFact> = rows
        .into_iter()
        .filter(|row| row.payer_id == payer_id && row.member_id == member_id)
        .map(|row| &row.fact)
        .filter(|fact| fact.claim_id != claim.claim_id && fact.billing_npi == npi && reach.holds(fact))
        .collect();
    lines.sort_by(|a, b| (b.service_date, b.claim_id, a.sequence).cmp(&(a.service_date, a.claim_id, b.sequence)));
    lines.into_iter().take(usize::try_from(HISTORY_LINES_MAX).unwrap_or(usize::MAX)).cloned().collect()
}

/// `claim`'s lines as the history stores them, each with its status.
pub fn history_rows(claim: &SubmittedClaim, status_of: impl Fn(u32) -> HistoryStatus) -> Result<Vec<HistoryRow>, StoreError> {
    claim
        .lines
        .iter()
        .map(|line| {
            let cents = line.charge.cents().map_err(|e| StoreError::Corrupt(format!("charge of line {}: {e}", line.sequence)))?;
            Ok(HistoryRow {
                payer_id: claim.payer_id.to_string(),
                member_id: claim.member_id.to_string(),
                fact: HistoryFact {
                    claim_id: claim.claim_id,
                    sequence: line.sequence,
                    billing_npi: claim.billing_npi.to_string(),
                    rendering_npi: claim.rendering_npi.as_ref().map(ToString::to_string),
                    service_date: line.service_date,
                    procedure_code: line.procedure_code.to_string(),
                    modifiers: line.modifiers.iter().map(|modifier| modifier.as_str().to_owned()).collect(),
                    units: line.quantity.normalize().to_string(),
                    // As read back: from whole cents.
                    charge: Money::from_cents(cents),
                    status: status_of(line.sequence),
                },
            })
        })
        .collect()
}

/// The history rows one batch read, with its own writes applied, keyed by
/// (claim, line); the claims whose windows it holds.
#[derive(Default)]
pub struct BatchHistory {
    rows: HashMap<(Uuid, u32), HistoryRow>,
    covered: std::collections::HashSet<Uuid>,
}

impl BatchHistory {
    /// Whether the rows read hold everything `claim_id`'s history may read.
    pub fn covers(&self, claim_id: Uuid) -> bool {
        self.covered.contains(&claim_id)
    }

    /// Adds rows read for the claims `claim_ids` (a later read replaces an earlier one's row).
    pub fn read(&mut self, claim_ids: &[Uuid], rows: Vec<HistoryRow>) {
        self.covered.extend(claim_ids.iter().copied());
        for row in rows {
            self.rows.insert((row.fact.claim_id, row.fact.sequence), row);
        }
    }

    /// `claim`'s history on its dates of service, as [`claim_history_in`] answers from the rows held.
    pub fn history(&self, claim: &SubmittedClaim) -> Vec<HistoryFact> {
        claim_history_in(self.rows.values(), claim, &HistoryReach::of(claim, None))
    }

    /// Lines the batch wrote (inserted, or their status updated).
    pub fn record(&mut self, written: Vec<HistoryRow>) {
        for row in written {
            match self.rows.get_mut(&(row.fact.claim_id, row.fact.sequence)) {
                // ON CONFLICT updates the status only.
                Some(existing) => existing.fact.status = row.fact.status,
                None => {
                    self.rows.insert((row.fact.claim_id, row.fact.sequence), row);
                }
            }
        }
    }

    /// The lines of `claim_id` marked reversed.
    pub fn reverse(&mut self, claim_id: Uuid) {
        for row in self.rows.values_mut().filter(|row| row.fact.claim_id == claim_id) {
            row.fact.status = HistoryStatus::Reversed;
        }
    }
}

#[cfg(test)]
mod tests {
    use claimtrail_events::{Frequency, MemberEnrolled, PayerRegistered, ProviderEnrolled, Timestamp};
    use claimtrail_store::StoreConfig;
    use time::macros::date;

    use super::*;
    use crate::domain::fixtures;
    use crate::storage;

    const NPIS: [&str; 2] = ["1234567893", "1003000126"];
    const MEMBERS: [&str; 3] = ["M1", "M2", "M3"];
    const CODES: [&str; 3] = ["99213", "97597", "11042"];

    async fn store(dir: &tempfile::TempDir) -> Store {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("adjudication.db").display());
        let config = StoreConfig { database_url: url, service: "adjudication".into(), prefix: String::new(), max_connections: 1, statement_timeout: None };
        let store = Store::connect(&config).await.unwrap();
        store.migrate(&storage::migrations()).await.unwrap();
        store
    }

    /// A small deterministic generator (the test must not depend on the clock or on luck).
    struct Lcg(u64);
    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    fn random_claim(rng: &mut Lcg, id: u128) -> SubmittedClaim {
        let lines: Vec<(&str, &str, i64)> =
            (0..1 + rng.below(3)).map(|_| (CODES[rng.below(3) as usize], ["100.00", "35.50"][rng.below(2) as usize], 1 + rng.below(2) as i64)).collect();
        let mut claim = fixtures::claim(Frequency::Original, None, &lines);
        claim.claim_id = Uuid::from_u128(id);
        claim.member_id = MEMBERS[rng.below(3) as usize].parse().unwrap();
        claim.billing_npi = NPIS[rng.below(2) as usize].parse().unwrap();
        for line in &mut claim.lines {
            line.service_date = date!(2026 - 11 - 01) - time::Duration::days((rng.below(20) * 20) as i64);
        }
        claim
    }

    #[tokio::test]
    async fn one_read_for_a_batch_answers_what_each_claim_s_own_reads_answer() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let mut rng = Lcg(16);
        let tx = store.begin().await.unwrap();
        // Registry versions: two per member (the later wins), one provider of two, one payer.
        let at = |day: u8| Timestamp::parse(&format!("2026-01-{day:02}T00:00:00.000000Z")).unwrap();
        for (version, member_id) in MEMBERS.iter().flat_map(|member| [(1u8, member), (2u8, member)]) {
            let member = MemberEnrolled {
                payer_id: "PAYER1".into(),
                member_id: (*member_id).into(),
                family_name: "DOE".into(),
                given_name: "JO".into(),
                birth_date: date!(1980 - 01 - 01),
                sex: "female".into(),
                plan_id: format!("PLAN-{version}"),
                coverage_start: date!(2026 - 01 - 01),
                coverage_end: date!(2026 - 12 - 31),
                subscriber_id: None,
                relationship: None,
                date_of_death: None,
                zip: None,
            };
            storage::record_member(&store, &tx, Uuid::now_v7(), &member, at(version), at(version)).await.unwrap();
        }
        let provider = ProviderEnrolled {
            npi: NPIS[0].into(),
            entity_type: 1,
            name: "CLINIC".into(),
            tin: "123456789".into(),
            taxonomy: "207Q00000X".into(),
            payer_id: "PAYER1".into(),
            enrollment_start: date!(2026 - 01 - 01),
            enrollment_end: date!(2026 - 12 - 31),
            last_name: None,
            first_name: None,
            birth_date: None,
        };
        storage::record_provider(&store, &tx, Uuid::now_v7(), &provider, at(1), at(1)).await.unwrap();
        let payer = PayerRegistered { payer_id: "PAYER1".into(), name: "ACME".into(), timely_filing_days: 90 };
        storage::record_payer(&store, &tx, Uuid::now_v7(), &payer, at(1), at(1)).await.unwrap();
        // Earlier claims in the history, some reversed; `everything` holds every line written.
        let mut everything = BatchHistory::default();
        for id in 0..60 {
            let claim = random_claim(&mut rng, id);
            let status = [HistoryStatus::Paid, HistoryStatus::Denied, HistoryStatus::Pended][rng.below(3) as usize];
            everything.record(storage::record_claim_lines(&store, &tx, &claim, |_| status).await.unwrap());
            if rng.below(5) == 0 {
                storage::reverse_claim_lines(&store, &tx, claim.claim_id).await.unwrap();
                everything.reverse(claim.claim_id);
            }
        }
        tx.commit().await.unwrap();

        let batch: Vec<SubmittedClaim> = (1000..1024).map(|id| random_claim(&mut rng, id)).collect();
        let claims: Vec<&SubmittedClaim> = batch.iter().collect();
        let tx = store.begin().await.unwrap();
        let registry = registry_facts_of(&store, &tx, &claims).await.unwrap();
        let mut history = BatchHistory::default();
        history.read(&claims.iter().map(|claim| claim.claim_id).collect::<Vec<_>>(), history_of(&store, &tx, &claims).await.unwrap().expect("under the cap"));
        let (mut compared, mut counted) = (0, 0);
        for claim in &batch {
            assert_eq!(registry[&claim.claim_id], storage::registry_facts(&store, &tx, claim).await.unwrap(), "registry of {}", claim.claim_id);
            let own = storage::claim_history(&store, &tx, claim, &HistoryReach::of(claim, None)).await.unwrap();
            assert_eq!(history.history(claim), own, "history of {}", claim.claim_id);
            compared += own.len();
            // The 365-day counts the store makes are those over every line written so far (the batch's own included).
            let lines: Vec<HistoryFact> = everything
                .rows
                .values()
                .filter(|row| row.payer_id == claim.payer_id.as_str() && row.member_id.as_str() == &*claim.member_id)
                .map(|row| row.fact.clone())
                .filter(|fact| fact.claim_id != claim.claim_id && fact.billing_npi.as_str() == &*claim.billing_npi)
                .collect();
            let counts = storage::history_counts(&store, &tx, claim).await.unwrap();
            assert_eq!(counts, crate::domain::HistoryCounts::of(&lines, claim), "counts of {}", claim.claim_id);
            counted += counts.iter().map(|counts| counts.claims).sum::<u32>();
            // The claim is decided: its lines written (some then reversed), as the consumer does; later claims see them.
            let written = storage::record_claim_lines(&store, &tx, claim, |sequence| if sequence == 1 { HistoryStatus::Paid } else { HistoryStatus::Denied })
                .await
                .unwrap();
            everything.record(written.clone());
            history.record(written);
            if rng.below(4) == 0 {
                storage::reverse_claim_lines(&store, &tx, claim.claim_id).await.unwrap();
                history.reverse(claim.claim_id);
                everything.reverse(claim.claim_id);
            }
        }
        assert!(compared > 5, "the batch's claims read some history on their dates ({compared} lines)");
        assert!(counted > 20, "the batch's claims counted some history over 365 days ({counted} claims)");
        assert_eq!(registry[&batch[0].claim_id].member.as_ref().map(|member| member.plan_id.as_str()), Some("PLAN-2"));
    }
}
