//! The domain events: past-tense facts, one payload type each.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::claim::{ClaimIssue, LineDecision, Outcome, SubmittedClaim};
use crate::fraud::{ClaimFingerprints, FraudAlertAcknowledged, FraudAlertClosed, FraudAlertRaised};
use crate::money::Money;
use crate::reconciliation::{
    AchChangeNotified, AchEntryReturned, BankDebitMatched, BankStatementImported, ReconciliationExceptionOpened, ReconciliationExceptionResolved,
};
use crate::timestamp::Timestamp;

/// The stream family an event belongs to (DESIGN.md "Subjects").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Reference,
    Claims,
    Settlement,
    Ledger,
    Fraud,
}

impl Family {
    pub const ALL: [Family; 5] = [Family::Reference, Family::Claims, Family::Settlement, Family::Ledger, Family::Fraud];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Reference => "reference",
            Family::Claims => "claims",
            Family::Settlement => "settlement",
            Family::Ledger => "ledger",
            Family::Fraud => "fraud",
        }
    }
}

/// A claim passed intake's structural checks and was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimSubmitted {
    pub claim: SubmittedClaim,
    /// The organization (tenant) that submitted it.
    pub submitter: String,
    /// Where it came from: `fhir` or `x12`.
    pub channel: String,
    pub received_at: Timestamp,
    /// The organization's Ed25519 signature over the request body, when it signed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_signature: Option<SubmissionSignature>,
    /// Keyed fingerprints for cross-payer matching (docs/fraud.md), one set
    /// per fingerprint key the producer holds; absent when it holds none or
    /// the member's identity is not in its registry (and in every event from
    /// before they existed, whose bytes are unchanged).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fingerprints: Vec<ClaimFingerprints>,
}

/// An Ed25519 signature by the submitting organization over SHA3-256 of the
/// exact request body, kept with the claim so that the submission can be
/// attributed to the organization's key later, whoever holds the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SubmissionSignature {
    /// The organization's name for the key, as registered.
    pub key_name: String,
    /// Base64 of the 32-byte Ed25519 public key.
    pub public_key: String,
    /// Hex of SHA3-256 of the request body: the signed message.
    pub body_sha3_256: String,
    /// Base64 of the 64-byte Ed25519 signature.
    pub signature: String,
}

/// A claim failed a front-end edit; it is kept with its reasons and goes no further.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimRejected {
    pub claim_id: Uuid,
    pub submitter: String,
    pub issues: Vec<ClaimIssue>,
    pub received_at: Timestamp,
}

/// Adjudication decided a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ClaimAdjudicated {
    #[cfg_attr(feature = "utoipa", schema(value_type = String, format = "uuid"))]
    pub claim_id: Uuid,
    pub payer_id: String,
    pub billing_npi: String,
    pub outcome: Outcome,
    /// SHA3-256 (hex) of the canonical fee schedule (the rule set) that priced it.
    pub rule_set_hash: String,
    pub lines: Vec<LineDecision>,
    pub total_charge: Money,
    pub total_allowed: Money,
    pub total_paid: Money,
    pub total_patient_responsibility: Money,
}

/// Adjudication could not decide a claim on its own and set it aside for a
/// person to review: status `pended`, no outcome yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ClaimPended {
    #[cfg_attr(feature = "utoipa", schema(value_type = String, format = "uuid"))]
    pub claim_id: Uuid,
    pub payer_id: String,
    pub billing_npi: String,
    /// A short machine code, e.g. `member-not-in-registry`.
    pub reason: String,
    /// The step of adjudication that pended it, e.g. `eligibility`.
    pub step: String,
    /// What a reviewer needs to know, in a sentence.
    pub detail: String,
}

/// One amount added to (or, negative, taken from) an accumulator bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccumulatorChange {
    /// The member for an `*_individual` bucket, the family's subscriber for a `*_family` bucket.
    pub member_id: String,
    pub plan_year: i32,
    /// `{deductible|oop}_{inn|oon}_{individual|family}`, e.g. `deductible_inn_individual`.
    pub bucket: String,
    pub amount: Money,
}

/// Adjudication changed a member's (or family's) accumulators: a claim's
/// cost sharing was `applied`, a replaced or voided claim's entries were
/// `reversed` (exactly, negated), or amounts met in a prior system were
/// `imported` (mid-year onboarding, one CSV file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccumulatorsChanged {
    pub payer_id: String,
    /// `applied`, `reversed` or `imported`.
    pub change: String,
    /// The claim whose cost sharing this is (absent for an import).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<Uuid>,
    /// The claim version (1 for claims decided once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_version: Option<u32>,
    /// SHA3-256 (hex) of an imported file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_sha3: Option<String>,
    pub entries: Vec<AccumulatorChange>,
    /// For `applied`: the claim's member's (and family's) deductible and
    /// out-of-pocket buckets of the claim's network tier after the claim,
    /// each with the plan's limit (what the EOB's `benefitBalance` shows).
    /// Absent otherwise, and in events from before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub balances: Vec<AccumulatorBalance>,
}

/// One accumulator bucket after a claim, beside what the plan allows in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccumulatorBalance {
    /// The member for an `*_individual` bucket, the family's subscriber for a `*_family` bucket.
    pub member_id: String,
    pub plan_year: i32,
    /// `{deductible|oop}_{inn|oon}_{individual|family}`.
    pub bucket: String,
    /// The plan's deductible or out-of-pocket maximum for the bucket.
    pub limit: Money,
    /// What is met of it after the claim.
    pub met: Money,
}

/// The amount a reviewer allows on one line of a pended claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReviewedLine {
    pub sequence: u32,
    /// At most the line's charge; the rest is CO-45.
    pub allowed: Money,
}

/// A reviewer decided a pended claim (`POST /v1/claims/{id}/review`):
/// approved (or adjusted) with the amounts allowed on its lines, or denied with one CARC.
/// It travels on the claim's family partition; adjudication decides the
/// claim on it (benefits and accumulators included) and the claim leaves
/// the pended queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimReviewed {
    pub claim_id: Uuid,
    pub payer_id: String,
    /// The organization (tenant) whose key reviewed.
    pub reviewer: String,
    /// `approve`, `adjust` or `deny`.
    pub action: String,
    /// Why, in the reviewer's words.
    pub reason: String,
    /// A denial's CARC, on every line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carc: Option<String>,
    /// The amount an approval allows on a line (the lines not listed: their charge).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<ReviewedLine>,
}

/// A reprocessing job of adjudication queued one claim to be decided again
/// under corrected reference data (a late date of death, a retroactive
/// coverage termination, a fee-schedule correction). It travels on the
/// claim's family partition, so adjudication re-decides the claim in the
/// family's order; the job counts it done in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimReprocessingQueued {
    pub job_id: Uuid,
    /// The claim as the job selected it (adjudication follows it to its standing version).
    pub claim_id: Uuid,
    pub payer_id: String,
    /// `date-of-death`, `coverage-termination` or `fee-schedule-correction`.
    pub reason: String,
}

/// A provider appealed a claim's decision (`POST /v1/claims/{id}/appeals`):
/// the claim's submitter, with a reason, asks the payer to reopen the lines
/// named. Adjudication checks that they may be appealed (MUE indicator 1 or
/// 3 denials; never indicator 2 nor an exact duplicate, CO-18) before it
/// records this; the appeal then waits in the payer's pended queue (reason
/// `appeal`) until a review upholds or overturns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimAppealed {
    pub appeal_id: Uuid,
    pub claim_id: Uuid,
    pub payer_id: String,
    /// The organization (tenant) that appealed: the claim's submitter.
    pub appellant: String,
    /// Why, in the appellant's words.
    pub reason: String,
    /// The lines appealed (their sequence numbers), in order.
    pub lines: Vec<u32>,
}

/// A reviewer decided an appeal. `upheld`: the decision stands.
/// `overturned`: the claim was adjudicated again with the appealed edits
/// lifted; its `claim.reversed.v1` (`by_claim_id` = `claim_id`) and the
/// corrected `claim.adjudicated.v1` precede this event, and settlement pays
/// the difference, `paid_after` − `paid_before`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimAppealDecided {
    pub appeal_id: Uuid,
    pub claim_id: Uuid,
    pub payer_id: String,
    /// `upheld` or `overturned`.
    pub outcome: String,
    /// The organization (tenant) whose key reviewed.
    pub reviewer: String,
    /// Why, in the reviewer's words.
    pub reason: String,
    /// What the claim paid before the appeal.
    pub paid_before: Money,
    /// What it pays after (the same when upheld).
    pub paid_after: Money,
}

/// Adjudication reversed an earlier decision because a replacement
/// (frequency 7) or a void (frequency 8) of that claim arrived. The amounts
/// are the original decision's, negated (the 835's CLP02 = 22).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ClaimReversed {
    /// The original claim whose decision is reversed.
    #[cfg_attr(feature = "utoipa", schema(value_type = String, format = "uuid"))]
    pub claim_id: Uuid,
    /// The replacement or void claim that caused the reversal.
    #[cfg_attr(feature = "utoipa", schema(value_type = String, format = "uuid"))]
    pub by_claim_id: Uuid,
    /// `replacement` or `void`.
    pub frequency: crate::claim::Frequency,
    pub payer_id: String,
    pub billing_npi: String,
    /// The rule set hash of the decision reversed.
    pub rule_set_hash: String,
    /// The original lines, every amount negated.
    pub lines: Vec<LineDecision>,
    pub total_charge: Money,
    pub total_allowed: Money,
    pub total_paid: Money,
    pub total_patient_responsibility: Money,
}

/// One fee-schedule amount per unit of a procedure code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FeeScheduleEntry {
    pub procedure_code: String,
    pub amount: Money,
}

/// A payer published (a new version of) its fee schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FeeSchedulePublished {
    pub payer_id: String,
    pub fee_schedule_id: String,
    /// SHA3-256 (hex) of the canonical bytes of `entries`.
    pub content_hash: String,
    pub entries: Vec<FeeScheduleEntry>,
}

/// A payer published a new version of one of its policy tables (an edit
/// table, a pricing table or a rule set). Large tables travel as versions:
/// the rows stay in adjudication's store; the event carries the version's
/// identity (SHA3-256 of the uploaded bytes, or of a rule set's canonical
/// JSON), row count and effective dates, so the ledger proves which version
/// decided a claim while the payload stays far below NATS's 1 MB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PolicyVersionPublished {
    pub payer_id: String,
    /// `ncci-ptp`, `mue`, `rvu`, `gpci`, `zip-localities`, `fee-schedule`,
    /// `contracts`, `drg-weights`, `per-diems`, `prior-authorizations`,
    /// `exclusions` or `rule-set`.
    pub kind: String,
    /// The rule set's name; the kind again for tables.
    pub name: String,
    pub version_id: String,
    /// SHA3-256 (hex) of the stored bytes.
    pub content_hash: String,
    pub row_count: u64,
    /// The first date of service the version applies to.
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub effective_from: time::Date,
    /// The first date of service it no longer applies to, if any.
    #[serde(with = "crate::timestamp::optional_date", default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub effective_to: Option<time::Date>,
}

/// A payer enrolled a member (or changed the enrollment): who, and the
/// coverage period. Member data is PHI: it travels on the bus and stays in
/// the services' stores; the ledger only holds the commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberEnrolled {
    pub payer_id: String,
    pub member_id: String,
    pub family_name: String,
    pub given_name: String,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub birth_date: time::Date,
    /// `female`, `male`, `other` or `unknown` (FHIR administrative gender).
    pub sex: String,
    pub plan_id: String,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub coverage_start: time::Date,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub coverage_end: time::Date,
    /// The subscriber of the member's family (the member's own id when the
    /// member is the subscriber); absent on enrollments recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriber_id: Option<String>,
    /// The member's relationship to the subscriber (X12 INS02 / FHIR
    /// `Coverage.relationship`): `self`, `spouse`, `child` or `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<String>,
    /// The member's date of death, once the payer knows it.
    #[serde(default, with = "crate::timestamp::optional_date", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub date_of_death: Option<time::Date>,
    /// The member's address ZIP code, 5 or 9 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
}

/// A member's claims were erased on request (crypto-shredding): every service
/// deletes the commitment salts of the events of these claims (and of the
/// member's enrollment) and the PHI it holds for them. The ledger keeps its
/// entries and stays verifiable; without the salts nobody can open their
/// commitments. Carries no member identifier: the claims name what to erase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimsErased {
    pub erasure_id: Uuid,
    pub payer_id: String,
    /// The member's claims, in every service's terms (each service's events about them have these as aggregate ids).
    pub claim_ids: Vec<Uuid>,
    /// The tenant (admin key) that asked.
    pub requested_by: String,
    /// Why, as given (free text; no PHI expected).
    pub reason: String,
}

/// Claims were read through a service other than intake (adjudication's
/// explanation, pended queue, replay): intake records each in its HIPAA
/// access log as it records its own API reads. Carries no PHI: who read,
/// which claims, through which view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimsAccessed {
    /// This read (the event's aggregate).
    pub read_id: Uuid,
    pub payer_id: String,
    /// The claims the answer showed, each once.
    pub claim_ids: Vec<Uuid>,
    /// The reader's tenant and API key id, as the access log records them.
    pub reader_tenant: String,
    pub reader_key_id: String,
    /// The view read, e.g. `adjudication:explanation`.
    pub view: String,
}

/// A provider is enrolled with a payer for a period (credentialed to bill it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProviderEnrolled {
    pub npi: String,
    /// 1 (individual) or 2 (organization).
    pub entity_type: u8,
    pub name: String,
    pub tin: String,
    /// NUCC taxonomy code.
    pub taxonomy: String,
    pub payer_id: String,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub enrollment_start: time::Date,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub enrollment_end: time::Date,
    /// An individual provider's (entity type 1) last name, for matching OIG
    /// exclusions that carry no NPI; absent for organizations and on
    /// enrollments recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// An individual provider's first name (see `last_name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// An individual provider's birth date (see `last_name`).
    #[serde(default, with = "crate::timestamp::optional_date", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub birth_date: Option<time::Date>,
}

/// A payer registered (or changed) itself: its name and its claim rules
/// intake enforces at the front end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PayerRegistered {
    pub payer_id: String,
    pub name: String,
    /// Claims must arrive within this many days of each date of service (timely filing).
    pub timely_filing_days: u32,
}

/// A provider's state licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Licence {
    pub number: String,
    /// Two-letter US state code.
    pub state: String,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub expires: time::Date,
}

/// Where payments and remittances go (835 N1*PE / N3 / N4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct PayTo {
    pub name: String,
    pub address_line: String,
    pub city: String,
    pub state: String,
    /// 5 or 9 digits.
    pub postal_code: String,
}

/// A bank account for EFT (NACHA CCD+).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BankAccount {
    /// 9-digit ABA routing number (check digit verified).
    pub routing_number: String,
    /// 4-17 digits.
    pub account_number: String,
    /// `checking` or `savings`.
    pub account_type: String,
}

/// A provider registered (or changed) its details: identity, the
/// organization whose API keys may bill under this NPI, licence, pay-to and
/// bank account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProviderRegistered {
    pub npi: String,
    /// 1 (individual) or 2 (organization).
    pub entity_type: u8,
    pub name: String,
    pub tin: String,
    /// NUCC taxonomy code.
    pub taxonomy: String,
    /// The tenant (organization) whose provider keys submit claims for this NPI.
    pub organization: String,
    pub licence: Option<Licence>,
    pub pay_to: PayTo,
    pub bank_account: Option<BankAccount>,
}

/// One line of a journal entry: an account and a debit or credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JournalLine {
    pub account: String,
    pub debit: Money,
    pub credit: Money,
}

/// Settlement booked an adjudicated claim into the double-entry journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PayableBooked {
    pub claim_id: Uuid,
    pub journal_entry_id: Uuid,
    pub payer_id: String,
    pub billing_npi: String,
    pub amount: Money,
    pub lines: Vec<JournalLine>,
}

/// One claim (or reversal, CLP02 22) a remittance settles: its CLP04.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RemittedClaim {
    #[cfg_attr(feature = "utoipa", schema(value_type = String, format = "uuid"))]
    pub claim_id: Uuid,
    /// `decision` or `reversal`.
    pub kind: String,
    pub paid: Money,
}

/// One provider-level adjustment (835 PLB): `WO` (recovery, or a negative
/// shortfall carried) or `L6` (interest, negative), citing a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RemittedAdjustment {
    pub reason: String,
    pub claim_id: Uuid,
    pub amount: Money,
}

/// A payment run made one remittance for a pay-to provider (one event per
/// remittance; the run's header is [`PaymentRunCompleted`]). A remittance
/// whose claims and adjustments would take more than about 512 KiB (NATS
/// payloads stop at 1 MB) is split into several events: each repeats the
/// header (ids, status, amount, trace, date) with `part` and `parts`, and
/// carries a slice of the claims and adjustments, in order; together they
/// hold them all. A remittance in one event has neither member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RemittanceIssued {
    pub remittance_id: Uuid,
    pub run_id: Uuid,
    pub payer_id: String,
    pub billing_npi: String,
    /// `ach`, `held`, `awaiting_prenote` or `zero` (`returned` in settlement's own record, once the bank returned it).
    pub status: String,
    /// BPR02.
    pub amount: Money,
    /// TRN02 (the ACH trace number) when money moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_number: Option<String>,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub effective_date: time::Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<String>,
    /// The claims settled (empty when held or awaiting a prenote: they wait for a later run).
    pub claims: Vec<RemittedClaim>,
    pub provider_adjustments: Vec<RemittedAdjustment>,
    /// Which part this event is (1-based), when the remittance is split over several events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<u32>,
    /// How many events the remittance is split over, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<u32>,
}

/// A payment run's header: the run, its totals and its ACH batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentRunCompleted {
    pub run_id: Uuid,
    pub payer_id: String,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub run_date: time::Date,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub effective_date: time::Date,
    pub n_remittances: u64,
    /// What leaves the payer's account (the sum of the `ach` remittances).
    pub total_paid: Money,
    pub n_prenotes: u64,
}

/// The anchor signed a checkpoint of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckpointSigned {
    pub origin: String,
    pub tree_size: u64,
    /// Base64 of the Merkle root.
    pub root_hash: String,
    /// The signed note, as served at /v1/ledger/checkpoint.
    pub note: String,
}

macro_rules! domain_events {
    ($($variant:ident => $event_type:literal, $family:ident;)*) => {
        /// Every event type Claimtrail produces.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum DomainEvent {
            $($variant($variant),)*
        }

        /// Every event type name with its version, e.g. `claim.submitted.v1`.
        pub const EVENT_TYPES: &[&str] = &[$($event_type,)*];

        impl DomainEvent {
            pub fn event_type(&self) -> &'static str {
                match self { $(DomainEvent::$variant(_) => $event_type,)* }
            }

            pub fn family(&self) -> Family {
                match self { $(DomainEvent::$variant(_) => Family::$family,)* }
            }

            /// The payload's canonical bytes, written straight from the event.
            pub fn canonical_payload(&self) -> Result<Vec<u8>, crate::canonical::CanonicalError> {
                match self { $(DomainEvent::$variant(payload) => crate::canonical::to_canonical_vec(payload),)* }
            }

            /// Parses a payload by its event type; unknown types are an error the caller can skip.
            pub fn from_payload(event_type: &str, payload: &serde_json::Value) -> Result<DomainEvent, crate::EventError> {
                match event_type {
                    $($event_type => <$variant as serde::Deserialize>::deserialize(payload).map(DomainEvent::$variant)
                        .map_err(|e| crate::EventError::Payload { event_type: event_type.to_owned(), reason: e.to_string() }),)*
                    other => Err(crate::EventError::UnknownType(other.to_owned())),
                }
            }

            /// The family of an event type name, if Claimtrail knows it.
            pub fn family_of(event_type: &str) -> Option<Family> {
                match event_type { $($event_type => Some(Family::$family),)* _ => None }
            }

            /// JSON Schema of every payload, by event type.
            pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
                vec![$(($event_type, schemars::schema_for!($variant)),)*]
            }
        }

        $(impl From<$variant> for DomainEvent {
            fn from(payload: $variant) -> DomainEvent { DomainEvent::$variant(payload) }
        })*

        $(impl $variant {
            /// This payload's event type name, as consumers filter on it.
            pub const EVENT_TYPE: &'static str = $event_type;
        })*
    };
}

domain_events! {
    ClaimSubmitted => "claim.submitted.v1", Claims;
    ClaimRejected => "claim.rejected.v1", Claims;
    ClaimAdjudicated => "claim.adjudicated.v1", Claims;
    ClaimReversed => "claim.reversed.v1", Claims;
    ClaimPended => "claim.pended.v1", Claims;
    ClaimsErased => "claims.erased.v1", Claims;
    ClaimsAccessed => "claims.accessed.v1", Claims;
    AccumulatorsChanged => "accumulators.changed.v1", Claims;
    ClaimReviewed => "claim.reviewed.v1", Claims;
    ClaimReprocessingQueued => "claim.reprocessing_queued.v1", Claims;
    ClaimAppealed => "claim.appealed.v1", Claims;
    ClaimAppealDecided => "claim.appeal_decided.v1", Claims;
    FeeSchedulePublished => "fee_schedule.published.v1", Reference;
    PolicyVersionPublished => "policy_version.published.v1", Reference;
    MemberEnrolled => "member.enrolled.v1", Reference;
    ProviderEnrolled => "provider.enrolled.v1", Reference;
    PayerRegistered => "payer.registered.v1", Reference;
    ProviderRegistered => "provider.registered.v1", Reference;
    PayableBooked => "payable.booked.v1", Settlement;
    BankStatementImported => "bank_statement.imported.v1", Settlement;
    BankDebitMatched => "bank_debit.matched.v1", Settlement;
    AchEntryReturned => "ach_entry.returned.v1", Settlement;
    AchChangeNotified => "ach_change.notified.v1", Settlement;
    ReconciliationExceptionOpened => "reconciliation_exception.opened.v1", Settlement;
    ReconciliationExceptionResolved => "reconciliation_exception.resolved.v1", Settlement;
    RemittanceIssued => "remittance.issued.v1", Settlement;
    PaymentRunCompleted => "payment_run.completed.v1", Settlement;
    CheckpointSigned => "checkpoint.signed.v1", Ledger;
    FraudAlertRaised => "alert.raised.v1", Fraud;
    FraudAlertAcknowledged => "alert.acknowledged.v1", Fraud;
    FraudAlertClosed => "alert.closed.v1", Fraud;
}
