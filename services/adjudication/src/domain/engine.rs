//! One original claim decided under the payer's policy, in the order the
//! issue fixes:
//!
//! 1. the payer's pend thresholds (rule-set switches: total charge over an
//!    amount, listed codes): the claim pends;
//! 2. per line, the registry edits of [`super::edits`] (coverage CO-26/27,
//!    date of death CO-13, timely filing CO-29 counted to receipt with the
//!    rule set's days when one applies, enrollment CO-B7), each only when
//!    the rule set's `standard_edits` names it;
//! 3. on the lines still open, the standard edits of libs/policy: LEIE
//!    exclusion (CO-B7 by NPI; a name and birth-date match pends), exact
//!    duplicate CO-18 / suspect duplicate pends (76, 77, 91 are repeats),
//!    NCCI PTP CO-97 within the claim and across the provider's other claims
//!    for the member and date, MUE CO-151 with N362 (indicator 1 per line, 2
//!    and 3 summed per date across lines and history; the rule set's
//!    `mue_action` denies or reduces units). The first finding of a line
//!    decides it; any pend pends the claim.
//!    **Column one after column two:** when a line's code is the column-one
//!    code of a column-two line already paid (or pended) on an earlier claim
//!    of the same provider, member and date, the claim pends
//!    (`ncci-column-one-after-column-two`): paying it would pay the bundle
//!    twice, and recouping the earlier line is a reviewer's correction
//!    (a replacement or void of the earlier claim), not something a decision
//!    of this claim may do to another;
//! 4. pricing: with a policy fee schedule, RVU table or contracts in force,
//!    libs/policy: the billing provider's contract (effective-dated) chooses
//!    the method per code range; an institutional claim's DRG paid weight ×
//!    the contract's base rate (lesser of billed, shared over the lines by
//!    charge), room lines per diem × days; otherwise fee by code, modifier
//!    and place of service, else RBRVS (RVU × GPCI of the service ZIP's
//!    locality × CF, facility or non-facility by place of service), percent
//!    of charge; multiple-procedure reduction CO-59 unless the rule set's
//!    `multiple_procedure` switch is off; MUE units CO-151. Else the legacy
//!    per-code schedule ([`super::pricing`]);
//! 5. the payer's rule set on each priced line ([`rules`]): its actions
//!    deny, pend, reduce, require a prior authorization (CO-197 unless the
//!    payer's table approves the line with units left after this claim's
//!    earlier lines and the member's earlier claims, and the claim's
//!    authorization number, when it gives one, is that row's) or set the
//!    allowed amount. A cell
//!    that fails to evaluate pends the claim with the cell's path.
//!
//! Each step appends a [`DecisionStep`] naming the table row or rule.

use claimtrail_codes::{Carc, GroupCode, Rarc};
use claimtrail_events::{Adjustment, ClaimLine, ClaimPended, DecisionStep, LineDecision, Money, StepKind, SubmittedClaim};
use claimtrail_policy::{self as policy, AuthLookup, EditLine, EditPolicy, Finding, LineStatus, PendReason};
use claimtrail_rules::StandardEdit;
use rust_decimal::Decimal;

use super::edits::{self, Denial};
use super::policy::PolicyInForce;
use super::pricing::{self, PricingError};
use super::registry::{HistoryFact, HistoryStatus, MemberFacts, PayerFacts};
use super::rules;
use super::{Event, Facts};

/// Where one line stands while the claim is decided.
#[derive(Debug, Clone)]
enum LineState {
    Denied(Denial),
    /// Open, paying at most `units` units (an MUE reduction).
    Open {
        units: Decimal,
        steps: Vec<DecisionStep>,
    },
}

/// The rule set's switches, or the defaults without one (every edit, the
/// payer's timely-filing days, MUE deny, no pend thresholds).
struct Switches<'a> {
    policy: Option<&'a claimtrail_rules::Policy>,
}

impl Switches<'_> {
    fn applies(&self, edit: StandardEdit) -> bool {
        self.policy.is_none_or(|policy| policy.applies(edit))
    }

    fn mue_reduce(&self) -> bool {
        self.policy.is_some_and(|policy| policy.mue_action == claimtrail_rules::MueAction::Reduce)
    }
}

fn pended(claim: &SubmittedClaim, reason: &str, step: &str, detail: String) -> Event {
    Event::Pended(ClaimPended {
        claim_id: claim.claim_id,
        payer_id: claim.payer_id.to_string(),
        billing_npi: claim.billing_npi.to_string(),
        reason: reason.into(),
        step: step.into(),
        detail,
    })
}

fn renderer(claim: &SubmittedClaim) -> String {
    claim.rendering_npi.as_deref().unwrap_or(&*claim.billing_npi).to_owned()
}

/// The claim's line as the policy edits see it.
fn edit_line(claim: &SubmittedClaim, line: &ClaimLine) -> EditLine {
    EditLine {
        claim_id: claim.claim_id,
        sequence: line.sequence,
        procedure_code: String::from(&*line.procedure_code),
        modifiers: line.modifiers.iter().map(|modifier| String::from(&**modifier)).collect(),
        units: line.quantity,
        charge: line.charge,
        rendering_npi: renderer(claim),
        billing_npi: String::from(&*claim.billing_npi),
        member_id: String::from(&*claim.member_id),
        service_date: line.service_date,
        place_of_service: line.place_of_service.as_deref().map(str::to_owned),
        status: LineStatus::Submitted,
    }
}

/// The member's earlier lines the edits read: paid or pended (denied and
/// reversed lines bundle and duplicate nothing). A replacement's original is
/// left out: the replacement reverses it, so its lines are neither
/// duplicates of the replacement's nor paid beside them.
pub fn history_lines(claim: &SubmittedClaim, history: &[HistoryFact]) -> Vec<EditLine> {
    let replaced = super::related_claim(claim);
    history
        .iter()
        .filter(|fact| Some(fact.claim_id) != replaced)
        .filter_map(|fact| {
            let status = match fact.status {
                HistoryStatus::Paid => LineStatus::Paid,
                HistoryStatus::Pended => LineStatus::Pending,
                HistoryStatus::Denied | HistoryStatus::Reversed => return None,
            };
            Some(EditLine {
                claim_id: fact.claim_id,
                sequence: fact.sequence,
                procedure_code: fact.procedure_code.clone(),
                modifiers: fact.modifiers.clone(),
                units: fact.units.parse().unwrap_or(Decimal::ZERO),
                charge: fact.charge,
                rendering_npi: fact.rendering_npi.clone().unwrap_or_else(|| fact.billing_npi.clone()),
                billing_npi: fact.billing_npi.clone(),
                member_id: String::from(&*claim.member_id),
                service_date: fact.service_date,
                place_of_service: None,
                status,
            })
        })
        .collect()
}

/// A finding's denial as a line [`Denial`].
fn finding_denial(finding: &Finding, cas: &policy::Cas, remarks: &[Rarc], source: String) -> Denial {
    Denial { edit: finding.edit.as_str(), carc: cas.carc.clone(), remarks: remarks.to_vec(), source, detail: finding.explanation.clone() }
}

/// Decides the original `claim` (member and payer known) under `facts`.
pub fn decide_original(
    claim: &SubmittedClaim,
    facts: &Facts<'_>,
    member: &MemberFacts,
    payer: &PayerFacts,
    policy: &PolicyInForce,
) -> Result<Event, PricingError> {
    let rule_set = policy.rule_set.as_deref();
    let switches = Switches { policy: rule_set.map(|rule_set| rule_set.policy()) };
    if let Some(rules_policy) = switches.policy {
        let total = Money::checked_sum(claim.lines.iter().map(|line| &line.charge)).ok_or(PricingError::Overflow(0))?;
        if let Some(limit) = rules_policy.pend_amount_over
            && total > limit
        {
            return Ok(pended(
                claim,
                "amount-over-threshold",
                "rule-set",
                format!("the claim's total charge {total} is over payer policy's pend threshold {limit}"),
            ));
        }
        if let Some(line) = claim.lines.iter().find(|line| rules_policy.pend_codes.contains(&*line.procedure_code)) {
            return Ok(pended(
                claim,
                "code-pended-by-policy",
                "rule-set",
                format!("line {}: procedure {} is on the payer's pend list", line.sequence, &*line.procedure_code),
            ));
        }
    }
    // 2. Registry edits.
    let payer = match switches.policy {
        Some(rules_policy) => PayerFacts { timely_filing_days: rules_policy.timely_filing_days, ..payer.clone() },
        None => payer.clone(),
    };
    let mut states: Vec<LineState> = claim
        .lines
        .iter()
        .map(|line| {
            let date = line.service_date;
            // An overturned appeal lifts the registry denial of an appealed line (timely filing, enrollment); the next edit still applies.
            let mut steps = Vec::new();
            let mut unless_lifted = |denial: Option<edits::Denial>| match (denial, facts.appeal.as_ref()) {
                (Some(denial), Some(appeal)) if appeal.lifts_edit(line.sequence, denial.edit) => {
                    steps.push(appeal.lifted_step(line.charge, &denial.detail));
                    None
                }
                (denial, _) => denial,
            };
            let denial = None
                .or_else(|| unless_lifted(switches.applies(StandardEdit::Coverage).then(|| edits::coverage(date, member)).flatten()))
                .or_else(|| unless_lifted(switches.applies(StandardEdit::Death).then(|| edits::date_of_death(date, member)).flatten()))
                .or_else(|| {
                    unless_lifted(switches.applies(StandardEdit::TimelyFiling).then(|| edits::timely_filing(date, facts.received_on, &payer)).flatten())
                })
                .or_else(|| {
                    unless_lifted(
                        switches
                            .applies(StandardEdit::Enrollment)
                            .then(|| edits::provider_enrollment(date, &claim.billing_npi, &payer.payer_id, facts.registry.provider.as_ref()))
                            .flatten(),
                    )
                });
            match denial {
                Some(denial) => LineState::Denied(denial),
                None => LineState::Open { units: line.quantity, steps },
            }
        })
        .collect();
    // 3. The policy edits, on the open lines.
    let open: Vec<EditLine> =
        claim.lines.iter().zip(&states).filter(|(_, state)| matches!(state, LineState::Open { .. })).map(|(line, _)| edit_line(claim, line)).collect();
    let history = history_lines(claim, &facts.history);
    let mut findings: Vec<(Finding, String)> = Vec::new();
    if let Some(list) = policy.exclusions.as_ref().filter(|_| switches.applies(StandardEdit::Exclusion)) {
        let npi = renderer(claim);
        let identity = facts.registry.exclusion_identity(&npi);
        for line in &open {
            findings.extend(policy::exclusion_edit(&list.table, line, identity).map(|finding| (finding, format!("exclusions:{}", list.content_hash))));
        }
    }
    if switches.applies(StandardEdit::Duplicate) {
        findings.extend(policy::duplicate_edits(&open, &history).into_iter().map(|finding| (finding, "claim-history".to_owned())));
    }
    if let Some(ncci) = policy.ncci.as_ref().filter(|_| switches.applies(StandardEdit::Ncci)) {
        findings.extend(policy::ncci_edits(&ncci.table, &open, &history).into_iter().map(|finding| (finding, format!("ncci-ptp:{}", ncci.content_hash))));
    }
    if let Some(mue) = policy.mue.as_ref().filter(|_| switches.applies(StandardEdit::Mue)) {
        let edit_policy = EditPolicy { mue_reduce: switches.mue_reduce() };
        findings.extend(policy::mue_edits(&mue.table, edit_policy, &open, &history).into_iter().map(|finding| (finding, format!("mue:{}", mue.content_hash))));
    }
    // In edit order (the order pushed), the first finding that decides a line wins.
    for (line, state) in claim.lines.iter().zip(states.iter_mut()) {
        for (finding, source) in findings.iter().filter(|(finding, _)| finding.sequence == line.sequence) {
            let LineState::Open { units, steps } = state else { break };
            if let Some(appeal) = facts.appeal.as_ref().filter(|appeal| appeal.lifts(finding)) {
                // An overturned appeal lifts the finding that denied or reduced an appealed line: it is priced in full.
                steps.push(appeal.lifted_step(line.charge, &finding.explanation));
                continue;
            }
            match &finding.action {
                policy::Action::Deny { cas, remarks } => {
                    *state = LineState::Denied(finding_denial(finding, cas, remarks, format!("{source}#{}", &*line.procedure_code)));
                    break;
                }
                policy::Action::Pend { reason } => {
                    let reason = match reason {
                        PendReason::SuspectDuplicate { .. } => "suspect-duplicate",
                        PendReason::PossibleExclusion => "possible-exclusion",
                    };
                    return Ok(pended(claim, reason, finding.edit.as_str(), format!("line {}: {}", line.sequence, finding.explanation)));
                }
                policy::Action::ReverseEarlierLine { .. } => {
                    return Ok(pended(
                        claim,
                        "ncci-column-one-after-column-two",
                        finding.edit.as_str(),
                        format!("line {}: {}", line.sequence, finding.explanation),
                    ));
                }
                policy::Action::ReduceUnits { units: kept, .. } => {
                    *units = (*units).min(*kept);
                    steps.push(DecisionStep {
                        kind: StepKind::Edit,
                        rule: finding.edit.as_str().into(),
                        source: Some(format!("{source}#{}", &*line.procedure_code)),
                        adjustment: None,
                        before: line.charge,
                        after: line.charge,
                        detail: finding.explanation.clone(),
                    });
                }
            }
        }
    }
    // 4. Pricing.
    let mut decided = price(claim, facts, policy, &switches, &states)?;
    // 5. The payer's rule set.
    if let Some(rule_set) = rule_set {
        let authorizations = rules::AuthorizationUse { this_claim: std::cell::RefCell::default(), history: &history };
        for (line_idx, line) in claim.lines.iter().enumerate() {
            if matches!(states[line_idx], LineState::Denied(_)) {
                continue;
            }
            let rule_facts = rules::facts(claim, line, decided[line_idx].allowed, facts, member);
            let fired = match rule_set.evaluate(&rule_facts) {
                Ok(fired) => fired,
                Err(error) => {
                    return Ok(pended(claim, "rule-evaluation-failed", "rule-set", format!("line {}: rule set {}: {error}", line.sequence, rule_set.name())));
                }
            };
            for rule in fired {
                let source = format!(
                    "rule_set:{}#{}/{}",
                    rule_set.content_hash(),
                    rule.table_name,
                    if rule.rule_id.is_empty() { rule.rule_index.to_string() } else { rule.rule_id.clone() }
                );
                let decision = &mut decided[line_idx];
                if let Some(appeal) = facts.appeal.as_ref().filter(|appeal| {
                    matches!(rule.action, claimtrail_rules::Action::RequirePriorAuthorization) && appeal.lifts_edit(line.sequence, "prior-authorization")
                }) {
                    // An overturned appeal lifts the missing authorization of an appealed line (the authorization obtained).
                    decision.steps.push(appeal.lifted_step(line.charge, &format!("the payer's rule {source} requires a prior authorization")));
                    continue;
                }
                match rules::apply(claim, line, decision, &rule.action, &source, policy, &authorizations)? {
                    rules::Applied::Continue => {}
                    rules::Applied::Denied => break,
                    rules::Applied::Pend(reason) => {
                        return Ok(pended(claim, "pended-by-rule", "rule-set", format!("line {}: {reason} ({source})", line.sequence)));
                    }
                }
            }
        }
    }
    let hash = match (rule_set, &policy.fee_schedule) {
        (Some(rule_set), _) => rule_set.content_hash().to_owned(),
        (None, Some(fees)) if policy.prices() => fees.content_hash.clone(),
        _ => pricing::schedule_hash(facts.schedule),
    };
    Ok(Event::Adjudicated(pricing::finish(claim, decided, hash)?))
}

/// Prices the open lines (denied lines take their denial), under the
/// policy's pricing tables when any is in force, else the legacy schedule.
fn price(
    claim: &SubmittedClaim,
    facts: &Facts<'_>,
    policy: &PolicyInForce,
    switches: &Switches<'_>,
    states: &[LineState],
) -> Result<Vec<LineDecision>, PricingError> {
    let mut decided: Vec<Option<LineDecision>> = vec![None; claim.lines.len()];
    if policy.prices() {
        let open: Vec<(usize, EditLine, Decimal)> = claim
            .lines
            .iter()
            .enumerate()
            .filter_map(|(line_idx, line)| match &states[line_idx] {
                LineState::Open { units, .. } => Some((line_idx, edit_line(claim, line), *units)),
                LineState::Denied(_) => None,
            })
            .collect();
        let tables = policy::PricingTables {
            fee_schedule: policy.fee_schedule.as_ref().map(|table| &*table.table),
            rvus: policy.rvu.as_ref().map(|table| &*table.table),
            gpcis: policy.gpci.as_ref().map(|table| &*table.table),
            zip_localities: policy.zip_localities.as_ref().map(|table| &*table.table),
            conversion_factor: None,
            percent_of_charge: None,
            contracts: policy.contracts.as_ref().map(|table| &*table.table),
            drg_weights: policy.drg_weights.as_ref().map(|table| &*table.table),
            per_diems: policy.per_diems.as_ref().map(|table| &*table.table),
            multiple_procedure_off: !switches.applies(StandardEdit::MultipleProcedure),
        };
        let to_price: Vec<policy::LineToPrice<'_>> = open
            .iter()
            .map(|(line_idx, line, units)| policy::LineToPrice { line, units_allowed: *units, revenue_code: claim.lines[*line_idx].revenue_code.as_deref() })
            .collect();
        // The stay's first day is the date its DRG and per diems are priced by ([`super::policy::stay_date`]).
        let stay = policy::Stay {
            drg: claim.drg.as_deref(),
            type_of_bill: claim.type_of_bill.as_deref(),
            admission: claim.admission_date,
            statement_from: claim.statement_from.or_else(|| super::policy::stay_date(claim)),
            statement_to: claim.statement_to,
        };
        let prices = policy::price_institutional(&tables, claim.service_zip.as_deref(), &stay, &to_price)
            .map_err(|policy::PricingError::Overflow(sequence)| PricingError::Overflow(sequence))?;
        for ((line_idx, _, _), price) in open.iter().zip(prices) {
            decided[*line_idx] = Some(policy_priced_line(claim, &claim.lines[*line_idx], price, policy));
        }
    } else {
        for (line_idx, line) in claim.lines.iter().enumerate() {
            if let LineState::Open { units, .. } = &states[line_idx] {
                decided[line_idx] = Some(pricing::price_line(claim, line, facts.schedule, *units)?);
            }
        }
    }
    Ok(claim
        .lines
        .iter()
        .zip(states)
        .zip(decided)
        .map(|((line, state), priced)| match (state, priced) {
            (LineState::Denied(denial), _) => pricing::denied_line(line, denial),
            (LineState::Open { steps, .. }, Some(mut priced)) => {
                let mut all = steps.clone();
                all.append(&mut priced.steps);
                priced.steps = all;
                priced
            }
            (LineState::Open { .. }, None) => unreachable!("every open line is priced"),
        })
        .collect())
}

/// A line libs/policy priced, with one step per amount it changed.
fn policy_priced_line(claim: &SubmittedClaim, line: &ClaimLine, price: policy::LinePrice, policy: &PolicyInForce) -> LineDecision {
    let drg = claim.drg.as_deref();
    let (rule, source) = match price.source {
        policy::PriceSource::FeeSchedule => {
            ("fee-schedule", policy.fee_schedule.as_ref().map(|t| format!("fee-schedules:{}#{}", t.content_hash, &*line.procedure_code)))
        }
        policy::PriceSource::Rbrvs => ("rbrvs", policy.rvu.as_ref().map(|t| format!("rvu:{}#{}", t.content_hash, &*line.procedure_code))),
        policy::PriceSource::PercentOfCharge => {
            ("percent-of-charge", policy.contracts.as_ref().map(|t| format!("contracts:{}#{}", t.content_hash, &*line.procedure_code)))
        }
        policy::PriceSource::Drg => ("drg", policy.drg_weights.as_ref().map(|t| format!("drg-weights:{}#{}", t.content_hash, drg.unwrap_or_default()))),
        policy::PriceSource::PerDiem => {
            ("per-diem", policy.per_diems.as_ref().map(|t| format!("per-diems:{}#{}", t.content_hash, line.revenue_code.as_deref().unwrap_or_default())))
        }
        policy::PriceSource::TypeOfBillPerDiem => (
            "per-diem-type-of-bill",
            policy.per_diems.as_ref().map(|t| format!("per-diems:{}#{}", t.content_hash, claim.type_of_bill.as_deref().unwrap_or_default())),
        ),
        policy::PriceSource::NotPriced => ("not-priced", None),
    };
    let adjustments: Vec<Adjustment> = price.adjustments.into_iter().map(policy::Cas::to_adjustment).collect();
    let mut steps = Vec::with_capacity(adjustments.len().max(1));
    let mut before = line.charge;
    let detail = price.steps.join("; ");
    if adjustments.is_empty() {
        steps.push(DecisionStep {
            kind: StepKind::Pricing,
            rule: rule.into(),
            source: source.clone(),
            adjustment: None,
            before,
            after: price.allowed,
            detail: detail.clone(),
        });
    }
    for adjustment in &adjustments {
        let after = before.checked_sub(adjustment.amount).unwrap_or(before);
        let step_rule = match adjustment.reason.as_ref() {
            "151" => "mue-units",
            "59" => "multiple-procedure",
            _ => rule,
        };
        steps.push(DecisionStep {
            kind: StepKind::Pricing,
            rule: step_rule.into(),
            source: source.clone(),
            adjustment: Some(adjustment.clone()),
            before,
            after,
            detail: detail.clone(),
        });
        before = after;
    }
    let mut explanation = price.steps;
    explanation.push(format!("paid {}", price.allowed));
    LineDecision {
        remarks: if adjustments.iter().any(|a| a.reason == Carc::UNITS_NOT_SUPPORTED) { vec![Rarc::UNITS_OVER_MAXIMUM] } else { Vec::new() },
        sequence: line.sequence,
        procedure_code: line.procedure_code.to_string(),
        charge: line.charge,
        allowed: price.allowed,
        paid: price.allowed,
        patient_responsibility: Money::ZERO,
        adjustments,
        explanation,
        steps,
    }
}

/// The prior authorization a line needs, looked up in the payer's table:
/// the approving authorization's number and table row (it must be the
/// claim's own number when the claim names one), or why there is none.
pub(crate) fn prior_authorization_missing(
    claim: &SubmittedClaim,
    line: &ClaimLine,
    policy: &PolicyInForce,
    authorizations: &rules::AuthorizationUse<'_>,
) -> Result<(String, String), String> {
    let Some(table) = &policy.prior_authorizations else {
        return Err(format!("the payer has no prior authorization table, so none approves {}", &*line.procedure_code));
    };
    let edit_line = edit_line(claim, line);
    // Earlier lines of this claim that used the authorization, and the member's earlier claims that did.
    let this_claim = authorizations.this_claim.borrow();
    let units_used = |authorization: &policy::PriorAuthorization| {
        this_claim.iter().filter(|(used, _)| *used == authorization.auth_number).map(|(_, units)| *units).sum::<Decimal>()
            + policy::units_used_by(authorization, authorizations.history)
    };
    match table.table.lookup(&edit_line, units_used) {
        AuthLookup::Valid { authorization, .. } => match claim.prior_authorization.as_deref() {
            Some(number) if number != authorization.auth_number => {
                Err(format!("the claim names authorization {number}, but the one approving {} is {}", &*line.procedure_code, authorization.auth_number))
            }
            _ => Ok((authorization.auth_number.clone(), format!("prior-authorizations:{}#{}", table.content_hash, authorization.auth_number))),
        },
        AuthLookup::Exhausted(row) => Err(format!("authorization {} has fewer than {} units left", row.auth_number, line.quantity.normalize())),
        AuthLookup::NotFound => Err(format!("no approved authorization for {} on {} by this provider", &*line.procedure_code, line.service_date)),
    }
}

/// Group for every adjustment a rule makes.
pub(crate) const RULE_GROUP: GroupCode = GroupCode::Co;

#[cfg(test)]
mod tests {
    use claimtrail_events::{Frequency, Money};
    use claimtrail_policy::LineStatus;
    use time::macros::date;
    use uuid::Uuid;

    use super::history_lines;
    use crate::domain::fixtures::claim;
    use crate::domain::{HistoryFact, HistoryStatus};

    /// Line 1 of `claim_id`, 99213 for 100.00 on the fixture claim's date, `status`.
    fn fact(claim_id: Uuid, status: HistoryStatus) -> HistoryFact {
        HistoryFact {
            claim_id,
            sequence: 1,
            billing_npi: "1234567893".into(),
            rendering_npi: None,
            service_date: date!(2026 - 11 - 01),
            procedure_code: "99213".into(),
            modifiers: vec![],
            units: "1".into(),
            charge: Money::parse("100.00").unwrap(),
            status,
        }
    }

    /// Given the member's history, when the edits read it for `claim`, then these claims' lines, with these statuses.
    fn check(given: &[HistoryFact], when: &claimtrail_events::SubmittedClaim, then: &[(Uuid, LineStatus)]) {
        let read: Vec<(Uuid, LineStatus)> = history_lines(when, given).iter().map(|line| (line.claim_id, line.status)).collect();
        assert_eq!(read, then);
    }

    #[test]
    fn a_replacements_original_is_not_in_the_history_its_edits_read() {
        let (original, other, pended) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let history = [fact(original, HistoryStatus::Paid), fact(other, HistoryStatus::Paid), fact(pended, HistoryStatus::Pended)];
        // The replacement reverses the original: its lines are neither duplicates of the replacement's nor paid beside them.
        let replacement = claim(Frequency::Replacement, Some(original), &[("99213", "100.00", 1)]);
        check(&history, &replacement, &[(other, LineStatus::Paid), (pended, LineStatus::Pending)]);
        // A new claim of the same service reads the original's lines: they are what makes it a duplicate.
        let new_claim = claim(Frequency::Original, None, &[("99213", "100.00", 1)]);
        check(&history, &new_claim, &[(original, LineStatus::Paid), (other, LineStatus::Paid), (pended, LineStatus::Pending)]);
    }

    #[test]
    fn denied_and_reversed_lines_are_not_read() {
        let history =
            [fact(Uuid::from_u128(1), HistoryStatus::Denied), fact(Uuid::from_u128(2), HistoryStatus::Reversed), fact(Uuid::from_u128(3), HistoryStatus::Paid)];
        let new_claim = claim(Frequency::Original, None, &[("99213", "100.00", 1)]);
        check(&history, &new_claim, &[(Uuid::from_u128(3), LineStatus::Paid)]);
    }
}
