//! A payment run: the payer's adjudicated, not yet paid claims (and
//! reversals) grouped per pay-to provider and netted into remittances.
//! Pure: [`plan_run`] takes every fact (the payables, the providers' pay-to
//! and EFT enrollment, the debts carried from earlier cycles, the holds, the
//! run date) and returns what to pay; the caller stores it in one
//! transaction.
//!
//! Per provider (the billing NPI; its pay-to comes from the registry):
//! 1. claims = ΣCLP04: decisions positive, reversals (CLP02 22) negative.
//! 2. Prompt-pay interest ([`PromptPay`]): a paid claim settled more than
//!    `days` after it was adjudicated earns `paid × annual_rate × days late
//!    / 365`, rounded half away from zero to the cent; a PLB `L6` of the
//!    negated interest (money to the provider) cites the claim.
//! 3. Debts carried from earlier cycles are recovered, oldest first, as far
//!    as the cycle's money (step 1 plus step 2) reaches: a positive PLB `WO`
//!    citing the original claim, or a positive `FB` citing the 835 that
//!    forwarded a balance. A debt is taken in full. When the money left is
//!    less than the debt, that debt cannot be recovered by `WO` in this cycle:
//!    the shortfall becomes a negative `FB` (forwarding balance) citing this
//!    remittance (its TRN02), BPR02 is 0, and the later debts wait untouched
//!    (X12 RFI 1756: "if the unpaid balance cannot be collected, a negative FB
//!    for the amount to be collected would be included in the PLB"; RFI 2051:
//!    a later 835 applies the whole FB positively and forwards what is still
//!    owed as one new negative FB). A cycle with no money (ΣCLP04 + interest
//!    ≤ 0) writes no FB and recovers nothing (RFI 738).
//! 4. If the cycle still nets below zero, a negative `WO` per reversal (citing
//!    it) brings BPR02 to 0, and the amount becomes a debt recovered later
//!    (scenario 10).
//! 5. A provider's refund check (finance records it, [`apply_refund`]) pays
//!    its debts at once; its next settled 835 acknowledges it with a PLB `72`
//!    (negative, the check) offset by a positive `WO` (or `FB`) citing what it
//!    paid (scenario 10; RFI 1385): the pair nets to zero.
//! 6. BPR02 = claims + interest − recoveries (never below 0).
//!
//! Status, in this order: `held` (a finance hold, or no registered pay-to),
//! `zero` (BPR02 = 0: a non-payment 835 settles the cycle; no money moves),
//! `held` (an account-fault return holds the account until new banking is
//! registered, or there is no bank account for EFT), `awaiting_prenote` (the account is not verified: a prenote goes out in
//! this run's ACH file if none has, and the claims wait), `ach`. Held and
//! awaiting remittances settle nothing: their payables stay unpaid and come
//! back in the next run.
//!
//! An account is verified once [`PRENOTE_WAIT_BANKING_DAYS`] banking days
//! have passed after its prenote's effective entry date (NACHA's waiting
//! period), judged on this run's effective entry date.

use std::collections::BTreeMap;

use claimtrail_events::{BankAccount, LineDecision, Money, PayTo, PayerSequence, RemittanceIssued};
use rust_decimal::Decimal;
use time::Date;
use uuid::Uuid;

use super::banking_day::{add_banking_days, next_banking_day};

/// Banking days after a prenote's effective date before the account is used.
pub const PRENOTE_WAIT_BANKING_DAYS: u32 = 3;

/// A claim's decision or the reversal of one, booked and not yet paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payable {
    pub claim_id: Uuid,
    pub kind: PayableKind,
    pub payer_id: String,
    pub billing_npi: String,
    /// CLM01 as submitted (the claim id when none was given).
    pub patient_control_number: String,
    pub member_id: String,
    /// The decision's lines (for a reversal: the original's, negated).
    pub lines: Vec<LineDecision>,
    pub total_charge: Money,
    pub total_paid: Money,
    pub total_patient_responsibility: Money,
    /// When it was adjudicated (for prompt-pay interest).
    pub adjudicated_on: Date,
    /// The payer's place in coordination of benefits (CLP02 2 or 3 for a secondary or tertiary claim).
    pub payer_sequence: PayerSequence,
}

/// A decision (CLP02 1) or a reversal (CLP02 22).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PayableKind {
    Decision,
    Reversal,
    /// A claim's corrected decision after its first was reversed (an overturned appeal): CLP02 1.
    Correction,
}

impl PayableKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PayableKind::Decision => "decision",
            PayableKind::Reversal => "reversal",
            PayableKind::Correction => "correction",
        }
    }

    pub fn parse(text: &str) -> Option<PayableKind> {
        match text {
            "decision" => Some(PayableKind::Decision),
            "reversal" => Some(PayableKind::Reversal),
            "correction" => Some(PayableKind::Correction),
            _ => None,
        }
    }
}

/// What settlement knows of a provider from the registry (`provider.registered.v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payee {
    pub npi: String,
    pub name: String,
    pub tin: String,
    pub pay_to: PayTo,
    pub bank_account: Option<BankAccount>,
    /// The effective entry date of the prenote sent for this account, if one was.
    pub prenote_effective_on: Option<Date>,
    /// Why this account may not be paid: the bank returned an entry for an
    /// account fault ([`super::account::account_fault`]); cleared when new
    /// banking is registered.
    pub account_hold: Option<String>,
}

/// The payer's side of the money: its TIN, and the account the ACH debits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerBanking {
    pub payer_id: String,
    pub name: String,
    /// 9 digits.
    pub tin: String,
    /// The ODFI's routing number (9 digits) and the payer's account there.
    pub routing_number: String,
    pub account_number: String,
    pub address: PayTo,
}

/// An amount a provider owes from an earlier cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debt {
    /// The claim whose reversal (or recoupment) made it; for a forwarding
    /// balance, the remittance whose 835 forwarded it (its TRN02 is the PLB reference).
    pub claim_id: Uuid,
    /// Positive: what is still owed.
    pub amount: Money,
    /// The run that recorded it.
    pub since_run: Uuid,
    pub basis: DebtBasis,
}

impl Debt {
    /// A debt citing the claim whose reversal or recoupment made it (recovered by `WO`).
    pub fn of_claim(claim_id: Uuid, amount: Money, since_run: Uuid) -> Debt {
        Debt { claim_id, amount, since_run, basis: DebtBasis::Claim }
    }
}

/// What a debt cites, and so which PLB code recovers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DebtBasis {
    /// A claim's overpayment: recovered by a positive `WO` citing the claim.
    Claim,
    /// A balance an 835 forwarded (negative `FB`): applied by a positive `FB` citing that 835.
    Forward,
}

impl DebtBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            DebtBasis::Claim => "claim",
            DebtBasis::Forward => "forward",
        }
    }

    pub fn parse(text: &str) -> Option<DebtBasis> {
        [DebtBasis::Claim, DebtBasis::Forward].into_iter().find(|basis| basis.as_str() == text)
    }

    /// The PLB code that recovers (positive) a debt of this basis.
    pub fn recovery(self) -> PlbReason {
        match self {
            DebtBasis::Claim => PlbReason::WriteOff,
            DebtBasis::Forward => PlbReason::ForwardingBalance,
        }
    }
}

/// The part of a provider's refund check that paid one debt; its next
/// settled 835 acknowledges it (PLB `72` offset by `WO`/`FB`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundPart {
    pub refund_id: Uuid,
    /// The debt it paid: a claim, or a forwarding balance's remittance.
    pub claim_id: Uuid,
    pub basis: DebtBasis,
    pub amount: Money,
}

/// Why a refund cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("a refund must be a positive amount, not {0}")]
    NotPositive(Money),
    #[error("NPI {npi} owes {owed}; a refund of {amount} is more than that")]
    MoreThanOwed { npi: String, owed: Money, amount: Money },
}

/// Applies a refund check of `amount` from `npi` to what it `owes` (oldest
/// first): the debts left, and the parts its next 835 acknowledges.
pub fn apply_refund(refund_id: Uuid, npi: &str, owes: &[Debt], amount: Money) -> Result<(Vec<Debt>, Vec<RefundPart>), RefundError> {
    if amount.is_negative() || amount.is_zero() {
        return Err(RefundError::NotPositive(amount));
    }
    let owed = Money::checked_sum(owes.iter().map(|debt| &debt.amount)).unwrap_or(Money::ZERO);
    if amount > owed {
        return Err(RefundError::MoreThanOwed { npi: npi.to_owned(), owed, amount });
    }
    let (mut left, mut after, mut parts) = (amount, Vec::new(), Vec::new());
    for debt in owes {
        let paid = debt.amount.min(left);
        if !paid.is_zero() {
            parts.push(RefundPart { refund_id, claim_id: debt.claim_id, basis: debt.basis, amount: paid });
            left = left.checked_sub(paid).expect("paid ≤ left");
        }
        let rest = debt.amount.checked_sub(paid).expect("paid ≤ owed");
        if !rest.is_zero() {
            after.push(Debt { amount: rest, ..debt.clone() });
        }
    }
    Ok((after, parts))
}

/// The prompt-pay rule: interest after `days` days at `annual_rate` (e.g. 0.04625).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromptPay {
    pub days: u32,
    pub annual_rate: Decimal,
}

impl PromptPay {
    /// 30 days, at the Treasury's prompt payment rate of January 2025 (4.625 %).
    pub const DEFAULT: PromptPay = PromptPay { days: 30, annual_rate: Decimal::from_parts(4625, 0, 0, false, 5) };
}

/// Every fact a run needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFacts {
    pub run_id: Uuid,
    pub payer: PayerBanking,
    /// Today, from the injected clock.
    pub run_date: Date,
    pub prompt_pay: PromptPay,
    pub payables: Vec<Payable>,
    pub payees: BTreeMap<String, Payee>,
    /// Per NPI, oldest first.
    pub debts: BTreeMap<String, Vec<Debt>>,
    /// Per NPI, the reason of its active hold.
    pub holds: BTreeMap<String, String>,
    /// Per NPI, refund parts not yet acknowledged in an 835.
    pub refunds: BTreeMap<String, Vec<RefundPart>>,
    /// The ACH entry sequence numbers this run may use start here (1-based, unique per payer).
    pub first_entry_sequence: u64,
}

/// A remittance's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RemittanceStatus {
    Ach,
    Held,
    AwaitingPrenote,
    Zero,
    /// Paid by ACH, then returned by the bank: its claims are unpaid again (domain/returned.rs).
    Returned,
}

impl RemittanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RemittanceStatus::Ach => "ach",
            RemittanceStatus::Held => "held",
            RemittanceStatus::AwaitingPrenote => "awaiting_prenote",
            RemittanceStatus::Zero => "zero",
            RemittanceStatus::Returned => "returned",
        }
    }

    pub fn parse(text: &str) -> Option<RemittanceStatus> {
        [RemittanceStatus::Ach, RemittanceStatus::Held, RemittanceStatus::AwaitingPrenote, RemittanceStatus::Zero, RemittanceStatus::Returned]
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// Whether its claims are paid (settled) by this run.
    pub fn settles(self) -> bool {
        matches!(self, RemittanceStatus::Ach | RemittanceStatus::Zero)
    }
}

/// A PLB reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlbReason {
    /// WO: overpayment recovery (positive: recovered; negative: the shortfall carried).
    WriteOff,
    /// L6: interest owed (negative: paid to the provider).
    Interest,
    /// FB: forwarding balance (negative: moved to a future 835; positive: applied from an earlier one).
    ForwardingBalance,
    /// 72: authorized return (negative: a refund check received, offset by a positive WO or FB).
    AuthorizedReturn,
}

impl PlbReason {
    pub fn code(self) -> &'static str {
        match self {
            PlbReason::WriteOff => "WO",
            PlbReason::Interest => "L6",
            PlbReason::ForwardingBalance => "FB",
            PlbReason::AuthorizedReturn => "72",
        }
    }

    pub fn parse(code: &str) -> Option<PlbReason> {
        [PlbReason::WriteOff, PlbReason::Interest, PlbReason::ForwardingBalance, PlbReason::AuthorizedReturn].into_iter().find(|reason| reason.code() == code)
    }
}

/// One provider-level adjustment, as the 835's PLB carries it (BPR02 = ΣCLP04 − ΣPLB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderAdjustment {
    pub reason: PlbReason,
    /// What it cites: a claim, or for `FB` the remittance whose 835 forwarded the balance.
    pub claim_id: Uuid,
    pub amount: Money,
}

/// One remittance: a provider's part of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remittance {
    pub remittance_id: Uuid,
    pub npi: String,
    pub status: RemittanceStatus,
    pub hold_reason: Option<String>,
    /// BPR02.
    pub amount: Money,
    /// ΣCLP04.
    pub claims_total: Money,
    pub interest: Money,
    pub payables: Vec<Payable>,
    pub provider_adjustments: Vec<ProviderAdjustment>,
    /// What the provider owes after this remittance (replaces its debts when it settles).
    pub debts_after: Vec<Debt>,
    /// The refund parts its 835 acknowledges (PLB 72 and its offset).
    pub acknowledged: Vec<RefundPart>,
    /// TRN02 and the ACH trace number (only for `ach`).
    pub trace_number: Option<String>,
}

/// A prenote (zero-dollar entry) sent to verify a provider's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prenote {
    pub npi: String,
    pub trace_number: String,
}

/// What a run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRun {
    pub run_id: Uuid,
    pub payer_id: String,
    pub run_date: Date,
    /// The ACH effective entry date (BPR16): the first banking day after the run date.
    pub effective_date: Date,
    pub remittances: Vec<Remittance>,
    pub prenotes: Vec<Prenote>,
    /// The next free ACH entry sequence number after this run.
    pub next_entry_sequence: u64,
}

/// Why a run cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("claim {0} belongs to payer {1}, not this run's")]
    OtherPayer(Uuid, String),
    #[error("the amounts of provider {0} overflow")]
    Overflow(String),
    #[error("the payer's ODFI routing number `{0}` is not 9 digits")]
    Routing(String),
}

/// Plans the run: remittances per provider (by NPI), prenotes for unverified accounts.
/// `new_id` makes each remittance's id (the caller's clock or counter; the core stays pure).
pub fn plan_run(facts: &RunFacts, mut new_id: impl FnMut() -> Uuid) -> Result<PaymentRun, RunError> {
    let routing = &facts.payer.routing_number;
    if routing.len() != 9 || !routing.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(RunError::Routing(routing.clone()));
    }
    let effective_date = next_banking_day(facts.run_date);
    let mut by_npi: BTreeMap<&str, Vec<&Payable>> = BTreeMap::new();
    for payable in &facts.payables {
        if payable.payer_id != facts.payer.payer_id {
            return Err(RunError::OtherPayer(payable.claim_id, payable.payer_id.clone()));
        }
        by_npi.entry(payable.billing_npi.as_str()).or_default().push(payable);
    }
    let mut sequence = facts.first_entry_sequence;
    let trace = |sequence: &mut u64| {
        let number = format!("{}{:07}", &routing[..8], *sequence % 10_000_000);
        *sequence += 1;
        number
    };
    let mut remittances = Vec::with_capacity(by_npi.len());
    let mut prenotes = Vec::new();
    for (npi, mut payables) in by_npi {
        payables.sort_by_key(|payable| (payable.adjudicated_on, payable.claim_id, payable.kind));
        let overflow = || RunError::Overflow(npi.to_owned());
        let debts = facts.debts.get(npi).cloned().unwrap_or_default();
        let refunds = facts.refunds.get(npi).map_or(&[][..], Vec::as_slice);
        let remittance_id = new_id();
        let netted = net(facts, effective_date, &payables, debts, remittance_id, refunds).ok_or_else(overflow)?;
        let payee = facts.payees.get(npi);
        let (status, hold_reason) = match (facts.holds.get(npi), payee) {
            (Some(reason), _) => (RemittanceStatus::Held, Some(reason.clone())),
            (None, None) => (RemittanceStatus::Held, Some(format!("no pay-to registered for NPI {npi}"))),
            (None, Some(_)) if netted.amount.is_zero() => (RemittanceStatus::Zero, None),
            (None, Some(Payee { account_hold: Some(reason), .. })) => (RemittanceStatus::Held, Some(reason.clone())),
            (None, Some(Payee { bank_account: None, .. })) => (RemittanceStatus::Held, Some(format!("NPI {npi} has no bank account for EFT"))),
            (None, Some(payee)) => match payee.prenote_effective_on {
                Some(prenoted) if add_banking_days(prenoted, PRENOTE_WAIT_BANKING_DAYS) <= effective_date => (RemittanceStatus::Ach, None),
                Some(_) => (RemittanceStatus::AwaitingPrenote, None),
                None => {
                    prenotes.push(Prenote { npi: npi.to_owned(), trace_number: trace(&mut sequence) });
                    (RemittanceStatus::AwaitingPrenote, None)
                }
            },
        };
        let trace_number = (status == RemittanceStatus::Ach).then(|| trace(&mut sequence));
        remittances.push(Remittance {
            remittance_id,
            npi: npi.to_owned(),
            status,
            hold_reason,
            amount: netted.amount,
            claims_total: netted.claims_total,
            interest: netted.interest,
            payables: payables.into_iter().cloned().collect(),
            provider_adjustments: netted.adjustments,
            debts_after: netted
                .debts_after
                .into_iter()
                .map(|mut debt| {
                    if debt.since_run.is_nil() {
                        debt.since_run = facts.run_id;
                    }
                    debt
                })
                .collect(),
            acknowledged: refunds.to_vec(),
            trace_number,
        });
    }
    Ok(PaymentRun {
        run_id: facts.run_id,
        payer_id: facts.payer.payer_id.clone(),
        run_date: facts.run_date,
        effective_date,
        remittances,
        prenotes,
        next_entry_sequence: sequence,
    })
}

struct Netted {
    amount: Money,
    claims_total: Money,
    interest: Money,
    adjustments: Vec<ProviderAdjustment>,
    debts_after: Vec<Debt>,
}

/// Steps 1 to 6 of the module's rule for one provider; `None` on overflow.
fn net(facts: &RunFacts, effective_date: Date, payables: &[&Payable], debts: Vec<Debt>, remittance_id: Uuid, refunds: &[RefundPart]) -> Option<Netted> {
    let claims_total = Money::checked_sum(payables.iter().map(|payable| &payable.total_paid))?;
    let mut adjustments = Vec::new();
    let mut interest = Money::ZERO;
    for payable in payables.iter().filter(|payable| payable.kind == PayableKind::Decision) {
        let owed = prompt_pay_interest(facts.prompt_pay, payable.total_paid, payable.adjudicated_on, effective_date);
        if !owed.is_zero() {
            interest = interest.checked_add(owed)?;
            adjustments.push(ProviderAdjustment { reason: PlbReason::Interest, claim_id: payable.claim_id, amount: owed.negated() });
        }
    }
    let mut available = claims_total.checked_add(interest)?;
    let mut debts_after = Vec::new();
    for debt in debts {
        if available.is_negative() || available.is_zero() {
            debts_after.push(debt);
            continue;
        }
        adjustments.push(ProviderAdjustment { reason: debt.basis.recovery(), claim_id: debt.claim_id, amount: debt.amount });
        if debt.amount <= available {
            available = available.checked_sub(debt.amount)?;
        } else {
            // Not recoverable in this cycle: the rest moves forward as one negative FB citing this 835.
            let forwarded = debt.amount.checked_sub(available)?;
            adjustments.push(ProviderAdjustment { reason: PlbReason::ForwardingBalance, claim_id: remittance_id, amount: forwarded.negated() });
            debts_after.push(Debt { claim_id: remittance_id, amount: forwarded, since_run: Uuid::nil(), basis: DebtBasis::Forward });
            available = Money::ZERO;
        }
    }
    // A refund check received: 72 (negative) offset by the recovery code of the debt it paid; nets to zero.
    for part in refunds {
        adjustments.push(ProviderAdjustment { reason: PlbReason::AuthorizedReturn, claim_id: part.claim_id, amount: part.amount.negated() });
        adjustments.push(ProviderAdjustment { reason: part.basis.recovery(), claim_id: part.claim_id, amount: part.amount });
    }
    if available.is_negative() {
        // The shortfall, spread over this cycle's reversals in order, each citing its claim.
        let mut shortfall = available.negated();
        for reversal in payables.iter().filter(|payable| payable.kind == PayableKind::Reversal) {
            if shortfall.is_zero() {
                break;
            }
            let part = reversal.total_paid.negated().min(shortfall);
            if part.is_zero() || part.is_negative() {
                continue;
            }
            adjustments.push(ProviderAdjustment { reason: PlbReason::WriteOff, claim_id: reversal.claim_id, amount: part.negated() });
            debts_after.push(Debt::of_claim(reversal.claim_id, part, Uuid::nil()));
            shortfall = shortfall.checked_sub(part)?;
        }
        // A negative cycle without reversals cannot arise (decisions pay ≥ 0, debts are recovered only from money there is).
        assert!(shortfall.is_zero(), "a negative cycle is covered by its reversals");
        available = Money::ZERO;
    }
    let plb_total = Money::checked_sum(adjustments.iter().map(|adjustment| &adjustment.amount))?;
    assert_eq!(claims_total.checked_sub(plb_total), Some(available), "BPR02 = ΣCLP04 − ΣPLB");
    Some(Netted { amount: available, claims_total, interest, adjustments, debts_after })
}

/// The most bytes of claims and adjustments one `remittance.issued.v1` carries
/// (their JSON), well below NATS's 1 MB payload limit with the envelope around it.
pub const EVENT_PART_BYTES_MAX: usize = 512 * 1024;

/// `issued` as the events that publish it: itself when its claims and
/// adjustments take at most `bytes_max` bytes of JSON; otherwise parts, each
/// repeating the header with `part`/`parts` and carrying the next claims (then
/// adjustments), in order, up to `bytes_max` (at least one item per part).
pub fn event_parts(issued: RemittanceIssued, bytes_max: usize) -> Vec<RemittanceIssued> {
    // Most remittances are far below the limit: known without writing their claims' JSON (a second per 1,000,000 claims).
    let bound: usize = issued.claims.iter().map(|claim| claim_json_len_max(&claim.kind)).sum::<usize>()
        + issued.provider_adjustments.iter().map(|adjustment| adjustment_json_len_max(&adjustment.reason)).sum::<usize>();
    if bound <= bytes_max {
        return vec![issued];
    }
    let total: usize = issued.claims.iter().map(json_len).chain(issued.provider_adjustments.iter().map(json_len)).sum();
    if total <= bytes_max {
        return vec![issued];
    }
    let header = RemittanceIssued { claims: vec![], provider_adjustments: vec![], ..issued.clone() };
    let mut parts = vec![header.clone()];
    let mut used = 0;
    // Room for an item of `size` bytes: a new part when the current one is full (and not empty).
    let mut make_room = |parts: &mut Vec<RemittanceIssued>, size: usize| {
        let last = &parts[parts.len() - 1];
        if used + size > bytes_max && !(last.claims.is_empty() && last.provider_adjustments.is_empty()) {
            parts.push(header.clone());
            used = 0;
        }
        used += size;
    };
    for claim in issued.claims {
        make_room(&mut parts, json_len(&claim));
        parts.last_mut().expect("one part at least").claims.push(claim);
    }
    for adjustment in issued.provider_adjustments {
        make_room(&mut parts, json_len(&adjustment));
        parts.last_mut().expect("one part at least").provider_adjustments.push(adjustment);
    }
    let n = u32::try_from(parts.len()).unwrap_or(u32::MAX);
    for (idx, part) in parts.iter_mut().enumerate() {
        part.part = Some(u32::try_from(idx + 1).unwrap_or(u32::MAX));
        part.parts = Some(n);
    }
    parts
}

/// The bytes an item takes in an event's JSON (with its comma).
/// More characters than a `Money` takes as JSON text (a 96-bit decimal: 29 digits, a sign, a point, two decimals written out, the quotes).
const MONEY_JSON_LEN_MAX: usize = 40;

/// At least [`json_len`] of a `RemittedClaim` of this `kind`: its fixed text, the id, the kind escaped at worst (`\u00XX` a byte) and the amount.
fn claim_json_len_max(kind: &str) -> usize {
    r#"{"claim_id":"","kind":"","paid":}"#.len() + 36 + 6 * kind.len() + MONEY_JSON_LEN_MAX + 1
}

/// At least [`json_len`] of a `RemittedAdjustment` with this `reason`.
fn adjustment_json_len_max(reason: &str) -> usize {
    r#"{"reason":"","claim_id":"","amount":}"#.len() + 36 + 6 * reason.len() + MONEY_JSON_LEN_MAX + 1
}

fn json_len<T: serde::Serialize>(item: &T) -> usize {
    serde_json::to_vec(item).map_or(0, |bytes| bytes.len()) + 1
}

/// Prompt-pay interest on `paid`, adjudicated on `adjudicated_on` and paid on `paid_on`.
pub fn prompt_pay_interest(rule: PromptPay, paid: Money, adjudicated_on: Date, paid_on: Date) -> Money {
    let days_late = (paid_on - adjudicated_on).whole_days() - i64::from(rule.days);
    if days_late <= 0 || !paid.amount().is_sign_positive() || paid.is_zero() {
        return Money::ZERO;
    }
    let interest = paid.amount() * rule.annual_rate * Decimal::from(days_late) / Decimal::from(365);
    Money::round_half_away_from_zero(interest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    pub(crate) fn payer() -> PayerBanking {
        PayerBanking {
            payer_id: "P1".into(),
            name: "ACME HEALTH".into(),
            tin: "123456789".into(),
            routing_number: "021000021".into(),
            account_number: "9876543210".into(),
            address: pay_to("ACME HEALTH"),
        }
    }

    fn pay_to(name: &str) -> PayTo {
        PayTo { name: name.into(), address_line: "1 MAIN ST".into(), city: "HARRISBURG".into(), state: "PA".into(), postal_code: "171110000".into() }
    }

    fn payee(npi: &str, prenote: Option<Date>) -> Payee {
        Payee {
            npi: npi.into(),
            name: "CLINIC".into(),
            tin: "987654321".into(),
            pay_to: pay_to("CLINIC"),
            bank_account: Some(BankAccount { routing_number: "011000015".into(), account_number: "12345678".into(), account_type: "checking".into() }),
            prenote_effective_on: prenote,
            account_hold: None,
        }
    }

    fn payable(n: u128, kind: PayableKind, paid: &str, on: Date) -> Payable {
        let paid = Money::parse(paid).unwrap();
        Payable {
            claim_id: Uuid::from_u128(n),
            kind,
            payer_id: "P1".into(),
            billing_npi: "1234567893".into(),
            patient_control_number: format!("PCN{n}"),
            member_id: "M1".into(),
            lines: vec![],
            total_charge: paid,
            total_paid: paid,
            total_patient_responsibility: Money::ZERO,
            adjudicated_on: on,
            payer_sequence: PayerSequence::Primary,
        }
    }

    fn facts(payables: Vec<Payable>) -> RunFacts {
        RunFacts {
            run_id: Uuid::from_u128(900),
            payer: payer(),
            run_date: date!(2026 - 03 - 02),
            prompt_pay: PromptPay::DEFAULT,
            payables,
            payees: BTreeMap::from([("1234567893".to_owned(), payee("1234567893", Some(date!(2026 - 01 - 05))))]),
            debts: BTreeMap::new(),
            holds: BTreeMap::new(),
            refunds: BTreeMap::new(),
            first_entry_sequence: 1,
        }
    }

    fn ids() -> impl FnMut() -> Uuid {
        let mut n = 1000;
        move || {
            n += 1;
            Uuid::from_u128(n)
        }
    }

    fn money(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    const RECENT: Date = date!(2026 - 02 - 20);

    #[test]
    fn claims_of_one_provider_are_paid_in_one_remittance_on_the_next_banking_day() {
        let run =
            plan_run(&facts(vec![payable(1, PayableKind::Decision, "80.00", RECENT), payable(2, PayableKind::Decision, "120.00", RECENT)]), ids()).unwrap();
        assert_eq!(run.effective_date, date!(2026 - 03 - 03));
        let [remittance] = run.remittances.try_into().unwrap();
        assert_eq!((remittance.status, remittance.amount, remittance.payables.len()), (RemittanceStatus::Ach, money("200.00"), 2));
        assert_eq!(remittance.trace_number.as_deref(), Some("021000020000001"));
        assert!(remittance.provider_adjustments.is_empty());
    }

    #[test]
    fn scenario_10_a_void_with_no_money_nets_to_zero_with_a_negative_wo_and_is_recovered_next_cycle() {
        // Cycle 1: claim 7 paid 300 earlier is voided; nothing else for the provider.
        let first = plan_run(&facts(vec![payable(7, PayableKind::Reversal, "-300.00", RECENT)]), ids()).unwrap();
        let [remittance] = first.remittances.try_into().unwrap();
        assert_eq!((remittance.status, remittance.amount, remittance.claims_total), (RemittanceStatus::Zero, Money::ZERO, money("-300.00")));
        assert_eq!(
            remittance.provider_adjustments,
            [ProviderAdjustment { reason: PlbReason::WriteOff, claim_id: Uuid::from_u128(7), amount: money("-300.00") }]
        );
        assert_eq!(remittance.debts_after, [Debt::of_claim(Uuid::from_u128(7), money("300.00"), Uuid::from_u128(900))]);
        assert_eq!(remittance.trace_number, None);
        // Cycle 2: claims 1,000 and WO +300 citing claim 7 → BPR02 700.
        let mut next = facts(vec![payable(8, PayableKind::Decision, "1000.00", RECENT)]);
        next.debts.insert("1234567893".into(), remittance.debts_after);
        let [remittance] = plan_run(&next, ids()).unwrap().remittances.try_into().unwrap();
        assert_eq!((remittance.status, remittance.amount), (RemittanceStatus::Ach, money("700.00")));
        assert_eq!(
            remittance.provider_adjustments,
            [ProviderAdjustment { reason: PlbReason::WriteOff, claim_id: Uuid::from_u128(7), amount: money("300.00") }]
        );
        assert!(remittance.debts_after.is_empty());
    }

    /// The first remittance id `ids()` makes (the one a single-provider run gets).
    const FIRST_ID: Uuid = Uuid::from_u128(1001);

    #[test]
    fn a_debt_the_cycle_cannot_cover_is_taken_by_wo_in_full_and_the_rest_forwarded_by_a_negative_fb() {
        // Cycle 2 of scenario 10 with only 100.00 of claims: WO +300 citing claim 7, FB −200 citing this 835; BPR02 0.
        let mut next = facts(vec![payable(8, PayableKind::Decision, "100.00", RECENT)]);
        next.debts.insert("1234567893".into(), vec![Debt::of_claim(Uuid::from_u128(7), money("300.00"), Uuid::from_u128(1))]);
        let [remittance] = plan_run(&next, ids()).unwrap().remittances.try_into().unwrap();
        assert_eq!((remittance.status, remittance.amount, remittance.remittance_id), (RemittanceStatus::Zero, Money::ZERO, FIRST_ID));
        assert_eq!(
            remittance.provider_adjustments,
            [
                ProviderAdjustment { reason: PlbReason::WriteOff, claim_id: Uuid::from_u128(7), amount: money("300.00") },
                ProviderAdjustment { reason: PlbReason::ForwardingBalance, claim_id: FIRST_ID, amount: money("-200.00") },
            ]
        );
        assert_eq!(remittance.debts_after, [Debt { claim_id: FIRST_ID, amount: money("200.00"), since_run: Uuid::from_u128(900), basis: DebtBasis::Forward }]);
        // Cycle 3, 150.00 of claims: FB +200 citing cycle 2's 835, FB −50 citing this one (one balance forward at a time).
        let mut third = facts(vec![payable(9, PayableKind::Decision, "150.00", RECENT)]);
        third.run_id = Uuid::from_u128(901);
        third.debts.insert("1234567893".into(), remittance.debts_after);
        let third_id = Uuid::from_u128(2002);
        let [remittance] = plan_run(&third, || third_id).unwrap().remittances.try_into().unwrap();
        assert_eq!(
            remittance.provider_adjustments,
            [
                ProviderAdjustment { reason: PlbReason::ForwardingBalance, claim_id: FIRST_ID, amount: money("200.00") },
                ProviderAdjustment { reason: PlbReason::ForwardingBalance, claim_id: third_id, amount: money("-50.00") },
            ]
        );
        assert_eq!(
            (remittance.amount, remittance.debts_after[0].amount, remittance.debts_after[0].since_run),
            (Money::ZERO, money("50.00"), Uuid::from_u128(901))
        );
        // Cycle 4, 1,000.00 of claims: FB +50 applied, BPR02 950.00, nothing owed.
        let mut fourth = facts(vec![payable(10, PayableKind::Decision, "1000.00", RECENT)]);
        fourth.debts.insert("1234567893".into(), remittance.debts_after);
        let [remittance] = plan_run(&fourth, ids()).unwrap().remittances.try_into().unwrap();
        assert_eq!((remittance.status, remittance.amount), (RemittanceStatus::Ach, money("950.00")));
        assert_eq!(remittance.provider_adjustments, [ProviderAdjustment { reason: PlbReason::ForwardingBalance, claim_id: third_id, amount: money("50.00") }]);
        assert!(remittance.debts_after.is_empty());
    }

    #[test]
    fn debts_the_cycle_covers_are_recovered_by_wo_and_the_first_it_cannot_is_forwarded_while_later_ones_wait() {
        let mut next = facts(vec![payable(8, PayableKind::Decision, "250.00", RECENT)]);
        let owed = [(7, "100.00"), (6, "200.00"), (5, "400.00")].map(|(n, amount)| Debt::of_claim(Uuid::from_u128(n), money(amount), Uuid::from_u128(1)));
        next.debts.insert("1234567893".into(), owed.to_vec());
        let [remittance] = plan_run(&next, ids()).unwrap().remittances.try_into().unwrap();
        let plb: Vec<(PlbReason, Uuid, Money)> = remittance.provider_adjustments.iter().map(|a| (a.reason, a.claim_id, a.amount)).collect();
        assert_eq!(
            plb,
            [
                (PlbReason::WriteOff, Uuid::from_u128(7), money("100.00")),
                (PlbReason::WriteOff, Uuid::from_u128(6), money("200.00")),
                (PlbReason::ForwardingBalance, FIRST_ID, money("-50.00")),
            ]
        );
        assert_eq!(remittance.amount, Money::ZERO);
        assert_eq!(remittance.debts_after[0].basis, DebtBasis::Forward);
        assert_eq!(&remittance.debts_after[1..], &owed[2..], "claim 5's debt is not touched: no FB without money to apply");
    }

    #[test]
    fn a_cycle_without_money_writes_no_fb_and_leaves_the_debts_as_they_were() {
        let mut next = facts(vec![payable(8, PayableKind::Decision, "0.00", RECENT)]);
        let owed = vec![Debt { claim_id: Uuid::from_u128(3), amount: money("75.00"), since_run: Uuid::from_u128(1), basis: DebtBasis::Forward }];
        next.debts.insert("1234567893".into(), owed.clone());
        let [remittance] = plan_run(&next, ids()).unwrap().remittances.try_into().unwrap();
        assert!(remittance.provider_adjustments.is_empty());
        assert_eq!((remittance.status, remittance.debts_after), (RemittanceStatus::Zero, owed));
    }

    #[test]
    fn a_refund_check_pays_debts_oldest_first_and_the_next_835_acknowledges_it_with_72_offset_by_wo_or_fb() {
        let owes = vec![
            Debt::of_claim(Uuid::from_u128(7), money("300.00"), Uuid::from_u128(1)),
            Debt { claim_id: Uuid::from_u128(3), amount: money("50.00"), since_run: Uuid::from_u128(2), basis: DebtBasis::Forward },
        ];
        let refund = Uuid::from_u128(0xF);
        let (after, parts) = apply_refund(refund, "1234567893", &owes, money("320.00")).unwrap();
        assert_eq!(after, [Debt { amount: money("30.00"), ..owes[1].clone() }]);
        assert_eq!(
            parts,
            [
                RefundPart { refund_id: refund, claim_id: Uuid::from_u128(7), basis: DebtBasis::Claim, amount: money("300.00") },
                RefundPart { refund_id: refund, claim_id: Uuid::from_u128(3), basis: DebtBasis::Forward, amount: money("20.00") },
            ]
        );
        let mut next = facts(vec![payable(8, PayableKind::Decision, "100.00", RECENT)]);
        next.refunds.insert("1234567893".into(), parts.clone());
        let [remittance] = plan_run(&next, ids()).unwrap().remittances.try_into().unwrap();
        assert_eq!((remittance.amount, remittance.acknowledged), (money("100.00"), parts), "the acknowledgement moves no money");
        let plb: Vec<(&str, Uuid, Money)> = remittance.provider_adjustments.iter().map(|a| (a.reason.code(), a.claim_id, a.amount)).collect();
        assert_eq!(
            plb,
            [
                ("72", Uuid::from_u128(7), money("-300.00")),
                ("WO", Uuid::from_u128(7), money("300.00")),
                ("72", Uuid::from_u128(3), money("-20.00")),
                ("FB", Uuid::from_u128(3), money("20.00")),
            ]
        );
    }

    #[test]
    fn a_refund_of_nothing_or_of_more_than_is_owed_is_refused_by_amount() {
        let owes = [Debt::of_claim(Uuid::from_u128(7), money("300.00"), Uuid::from_u128(1))];
        assert_eq!(apply_refund(Uuid::nil(), "1234567893", &owes, Money::ZERO), Err(RefundError::NotPositive(Money::ZERO)));
        let error = apply_refund(Uuid::nil(), "1234567893", &owes, money("300.01")).unwrap_err();
        assert_eq!(error.to_string(), "NPI 1234567893 owes 300.00; a refund of 300.01 is more than that");
        assert_eq!(apply_refund(Uuid::nil(), "1234567893", &owes, money("300.00")).unwrap().0, []);
    }

    #[test]
    fn scenario_9_a_replacement_nets_the_reversal_against_the_new_payment() {
        let run =
            plan_run(&facts(vec![payable(1, PayableKind::Reversal, "-80.00", RECENT), payable(2, PayableKind::Decision, "120.00", RECENT)]), ids()).unwrap();
        assert_eq!(run.remittances[0].amount, money("40.00"));
    }

    #[test]
    fn an_overturned_appeal_nets_the_reversal_against_the_correction_of_the_same_claim() {
        let run =
            plan_run(&facts(vec![payable(1, PayableKind::Reversal, "-40.00", RECENT), payable(1, PayableKind::Correction, "160.00", RECENT)]), ids()).unwrap();
        assert_eq!(run.remittances[0].amount, money("120.00"), "the difference");
        let mut kinds: Vec<u8> = run.remittances[0].payables.iter().map(super::super::advice::clp02).collect();
        kinds.sort_unstable();
        assert_eq!(kinds, [1, 22], "the 835 reverses (22) and pays again (1)");
    }

    #[test]
    fn prompt_pay_interest_accrues_after_thirty_days_rounded_half_away_from_zero() {
        // 1,000.00 × 4.625 % × 10 / 365 = 1.26712… → 1.27.
        assert_eq!(prompt_pay_interest(PromptPay::DEFAULT, money("1000.00"), date!(2026 - 01 - 22), date!(2026 - 03 - 03)), money("1.27"));
        assert_eq!(prompt_pay_interest(PromptPay::DEFAULT, money("1000.00"), date!(2026 - 02 - 01), date!(2026 - 03 - 03)), Money::ZERO);
        let late = date!(2026 - 01 - 22);
        let run = plan_run(&facts(vec![payable(1, PayableKind::Decision, "1000.00", late)]), ids()).unwrap();
        let remittance = &run.remittances[0];
        assert_eq!((remittance.amount, remittance.interest), (money("1001.27"), money("1.27")));
        assert_eq!(remittance.provider_adjustments, [ProviderAdjustment { reason: PlbReason::Interest, claim_id: Uuid::from_u128(1), amount: money("-1.27") }]);
    }

    #[test]
    fn a_hold_an_unknown_payee_and_a_missing_account_hold_the_remittance() {
        let mut held = facts(vec![payable(1, PayableKind::Decision, "80.00", RECENT)]);
        held.holds.insert("1234567893".into(), "fraud alert 42".into());
        let remittance = &plan_run(&held, ids()).unwrap().remittances[0];
        assert_eq!((remittance.status, remittance.hold_reason.as_deref()), (RemittanceStatus::Held, Some("fraud alert 42")));
        assert!(!remittance.status.settles());
        let mut unknown = facts(vec![payable(1, PayableKind::Decision, "80.00", RECENT)]);
        unknown.payees.clear();
        assert!(plan_run(&unknown, ids()).unwrap().remittances[0].hold_reason.as_deref().unwrap().contains("no pay-to"));
        let mut no_account = facts(vec![payable(1, PayableKind::Decision, "80.00", RECENT)]);
        no_account.payees.get_mut("1234567893").unwrap().bank_account = None;
        assert!(plan_run(&no_account, ids()).unwrap().remittances[0].hold_reason.as_deref().unwrap().contains("no bank account"));
    }

    #[test]
    fn an_account_fault_holds_the_remittance_with_its_reason_but_a_zero_net_cycle_still_settles() {
        let reason = crate::domain::account::hold_reason("R03", "no account / unable to locate account", "021000020000001");
        let mut held = facts(vec![payable(1, PayableKind::Decision, "80.00", RECENT)]);
        held.payees.get_mut("1234567893").unwrap().account_hold = Some(reason.clone());
        let run = plan_run(&held, ids()).unwrap();
        let remittance = &run.remittances[0];
        assert_eq!(
            (remittance.status, remittance.hold_reason.as_deref(), remittance.trace_number.as_deref()),
            (RemittanceStatus::Held, Some(reason.as_str()), None)
        );
        assert!(run.prenotes.is_empty());
        // Nothing to pay moves no money: the zero-net 835 goes out whatever the account.
        held.payables = vec![payable(2, PayableKind::Decision, "0.00", RECENT)];
        assert_eq!(plan_run(&held, ids()).unwrap().remittances[0].status, RemittanceStatus::Zero);
        // New banking registered: the hold is gone, the new account is prenoted first.
        held.payables = vec![payable(1, PayableKind::Decision, "80.00", RECENT)];
        held.payees.insert("1234567893".into(), payee("1234567893", None));
        let run = plan_run(&held, ids()).unwrap();
        assert_eq!((run.remittances[0].status, run.prenotes.len()), (RemittanceStatus::AwaitingPrenote, 1));
    }

    #[test]
    fn an_unverified_account_gets_a_prenote_and_waits_three_banking_days() {
        let mut first = facts(vec![payable(1, PayableKind::Decision, "80.00", RECENT)]);
        first.payees.insert("1234567893".into(), payee("1234567893", None));
        let run = plan_run(&first, ids()).unwrap();
        assert_eq!(run.remittances[0].status, RemittanceStatus::AwaitingPrenote);
        assert_eq!(run.prenotes, [Prenote { npi: "1234567893".into(), trace_number: "021000020000001".into() }]);
        // Prenote effective Tuesday 2026-03-03: usable from Friday 2026-03-06's effective date on.
        let mut waiting = facts(vec![payable(1, PayableKind::Decision, "80.00", RECENT)]);
        waiting.payees.insert("1234567893".into(), payee("1234567893", Some(run.effective_date)));
        waiting.run_date = date!(2026 - 03 - 04);
        let run = plan_run(&waiting, ids()).unwrap();
        assert_eq!((run.remittances[0].status, run.prenotes.len()), (RemittanceStatus::AwaitingPrenote, 0));
        waiting.run_date = date!(2026 - 03 - 05);
        assert_eq!(plan_run(&waiting, ids()).unwrap().remittances[0].status, RemittanceStatus::Ach);
    }

    #[test]
    fn a_denied_claim_alone_gives_a_zero_remittance_and_nothing_to_pay_gives_an_empty_run() {
        let run = plan_run(&facts(vec![payable(1, PayableKind::Decision, "0.00", RECENT)]), ids()).unwrap();
        assert_eq!(run.remittances[0].status, RemittanceStatus::Zero);
        let empty = plan_run(&facts(vec![]), ids()).unwrap();
        assert!(empty.remittances.is_empty() && empty.prenotes.is_empty());
    }

    fn issued_with(n_claims: u128) -> RemittanceIssued {
        RemittanceIssued {
            remittance_id: Uuid::from_u128(1),
            run_id: Uuid::from_u128(2),
            payer_id: "P1".into(),
            billing_npi: "1234567893".into(),
            status: "ach".into(),
            amount: money("1.00"),
            trace_number: Some("021000020000001".into()),
            effective_date: date!(2026 - 03 - 03),
            hold_reason: None,
            claims: (0..n_claims)
                .map(|n| claimtrail_events::RemittedClaim { claim_id: Uuid::from_u128(n), kind: "decision".into(), paid: money("118.80") })
                .collect(),
            provider_adjustments: vec![claimtrail_events::RemittedAdjustment { reason: "L6".into(), claim_id: Uuid::from_u128(0), amount: money("-1.27") }],
            part: None,
            parts: None,
        }
    }

    #[test]
    fn a_remittance_too_large_for_one_event_is_split_into_parts_that_hold_it_all_in_order() {
        // 20,000 claims take about 1.6 MB of JSON: above NATS's 1 MB.
        let whole = issued_with(20_000);
        assert!(serde_json::to_vec(&whole).unwrap().len() > 1_048_576);
        let parts = event_parts(whole.clone(), EVENT_PART_BYTES_MAX);
        assert!(parts.len() >= 3, "{}", parts.len());
        for (idx, part) in parts.iter().enumerate() {
            assert!(serde_json::to_vec(part).unwrap().len() < EVENT_PART_BYTES_MAX + 1_024, "part {idx}");
            assert_eq!((part.part, part.parts), (Some(idx as u32 + 1), Some(parts.len() as u32)));
            assert_eq!((part.remittance_id, part.amount, &part.trace_number), (whole.remittance_id, whole.amount, &whole.trace_number));
        }
        let claims: Vec<_> = parts.iter().flat_map(|part| part.claims.clone()).collect();
        let adjustments: Vec<_> = parts.iter().flat_map(|part| part.provider_adjustments.clone()).collect();
        assert_eq!((claims, adjustments), (whole.claims, whole.provider_adjustments));
    }

    #[test]
    fn the_json_length_bounds_hold_for_extreme_items() {
        let extremes = [Money::from_decimal(rust_decimal::Decimal::MAX).unwrap_or(Money::ZERO), Money::from_cents(i64::MIN), money("-0.01")];
        let extremes = [extremes[0], extremes[0].negated(), extremes[1], extremes[2]];
        for amount in extremes {
            for text in ["decision", "", "\u{1}\"\\x", "é"] {
                let claim = claimtrail_events::RemittedClaim { claim_id: Uuid::max(), kind: text.into(), paid: amount };
                assert!(json_len(&claim) <= claim_json_len_max(text), "{claim:?}: {} > {}", json_len(&claim), claim_json_len_max(text));
                let adjustment = claimtrail_events::RemittedAdjustment { reason: text.into(), claim_id: Uuid::max(), amount };
                assert!(json_len(&adjustment) <= adjustment_json_len_max(text), "{adjustment:?}");
            }
        }
    }

    #[test]
    fn a_remittance_that_fits_is_one_event_without_part_members() {
        let whole = issued_with(100);
        assert_eq!(event_parts(whole.clone(), EVENT_PART_BYTES_MAX), std::slice::from_ref(&whole));
        assert!(!serde_json::to_string(&whole).unwrap().contains("part"));
        // Tiny budget: every item its own part, none empty.
        let parts = event_parts(issued_with(2), 10);
        assert_eq!(parts.iter().map(|p| p.claims.len() + p.provider_adjustments.len()).collect::<Vec<_>>(), [1, 1, 1]);
    }

    #[test]
    fn another_payers_claim_and_a_bad_routing_number_are_refused() {
        let mut other = payable(1, PayableKind::Decision, "1.00", RECENT);
        other.payer_id = "P2".into();
        assert_eq!(plan_run(&facts(vec![other]), ids()), Err(RunError::OtherPayer(Uuid::from_u128(1), "P2".into())));
        let mut bad = facts(vec![]);
        bad.payer.routing_number = "12".into();
        assert!(matches!(plan_run(&bad, ids()), Err(RunError::Routing(_))));
    }
}
