//! The payer's rule set on one priced line: the fact model
//! (`claimtrail_rules::Facts`, documented in docs/rules.md) built from the
//! claim, the line, the member and plan, the provider and the member's
//! claim history, and the actions of the rules that fired, applied in the
//! order they fired.

use std::cell::RefCell;

use claimtrail_codes::Carc;
use claimtrail_events::{Adjustment, ClaimLine, DecisionStep, Frequency, LineDecision, Money, StepKind, SubmittedClaim};
use claimtrail_rules as rules;
use rust_decimal::Decimal;
use time::Date;

use super::edits::Denial;
use super::engine::{RULE_GROUP, prior_authorization_missing};
use super::policy::PolicyInForce;
use super::pricing::{self, PricingError};
use super::registry::MemberFacts;
use super::{Facts, HistoryCounts, HistoryFact};

/// What applying one action left to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The next fired rule applies too.
    Continue,
    /// The line is denied: no later rule changes it.
    Denied,
    /// The claim pends, for this reason.
    Pend(String),
}

/// Whole years from `birth` to `on`.
pub fn age_on(birth: Date, on: Date) -> u32 {
    let mut years = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

/// The history counts of the fact model, over the member's other claims
/// from the billing provider: on the line's date from the lines read, over
/// 365 days from the recorded counts (format 1 records: from the lines).
fn history_facts(history: &[HistoryFact], counts: Option<&[HistoryCounts]>, line: &ClaimLine) -> rules::HistoryFacts {
    let date = line.service_date;
    let code: &str = &line.procedure_code;
    let (same_code_last_365_days, claims_last_365_days) = match counts {
        Some(counts) => HistoryCounts::find(counts, date, code),
        None => HistoryCounts::find(&[HistoryCounts::through(history, date, &[code.to_owned()].into())], date, code),
    };
    let same_date =
        HistoryCounts::through(&history.iter().filter(|fact| fact.service_date == date).cloned().collect::<Vec<_>>(), date, &[code.to_owned()].into());
    let (same_code_same_date, claims_same_date) = HistoryCounts::find(&[same_date], date, code);
    rules::HistoryFacts { same_code_last_365_days, same_code_same_date, claims_same_date, claims_last_365_days }
}

/// The fact model for `line` of `claim`, priced at `allowed`.
pub fn facts(claim: &SubmittedClaim, line: &ClaimLine, allowed: Money, facts: &Facts<'_>, member: &MemberFacts) -> rules::Facts {
    let first_date = claim.lines.iter().map(|line| line.service_date).min().unwrap_or(line.service_date);
    let total_charge = Money::checked_sum(claim.lines.iter().map(|line| &line.charge)).unwrap_or(claim.total_charge);
    let provider = facts.registry.provider.as_ref();
    let in_network = provider.is_some_and(|provider| provider.enrollment_start <= line.service_date && line.service_date <= provider.enrollment_end);
    rules::Facts {
        claim: rules::ClaimFacts {
            claim_type: match claim.claim_type {
                claimtrail_events::ClaimType::Professional => rules::ClaimType::Professional,
                claimtrail_events::ClaimType::Institutional => rules::ClaimType::Institutional,
            },
            frequency: match claim.frequency {
                Frequency::Original => "1",
                Frequency::Replacement => "7",
                Frequency::Void => "8",
            }
            .to_owned(),
            total_charge,
            place_of_service: claim.lines.first().and_then(|line| line.place_of_service.as_deref()).map(str::to_owned),
            diagnosis_codes: claim.diagnoses.iter().map(|diagnosis| String::from(&*diagnosis.code)).collect(),
            received_date: facts.received_on,
            days_from_service_to_receipt: (facts.received_on - first_date).whole_days(),
            billing_npi: String::from(&*claim.billing_npi),
            rendering_npi: claim.rendering_npi.as_deref().map(str::to_owned),
        },
        line: rules::LineFacts {
            sequence: line.sequence,
            procedure_code: String::from(&*line.procedure_code),
            modifiers: line.modifiers.iter().map(|modifier| String::from(&**modifier)).collect(),
            units: line.quantity,
            charge: line.charge,
            place_of_service: line.place_of_service.as_deref().map(str::to_owned),
            service_date: line.service_date,
            revenue_code: line.revenue_code.as_deref().map(str::to_owned),
            allowed: Some(allowed),
        },
        member: rules::MemberFacts {
            age: member.birth_date.map_or(0, |birth| age_on(birth, line.service_date)),
            sex: match member.sex.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("male" | "m") => rules::Sex::Male,
                Some("female" | "f") => rules::Sex::Female,
                Some("other") => rules::Sex::Other,
                _ => rules::Sex::Unknown,
            },
            plan_id: Some(member.plan_id.clone()),
            relationship: match member.relationship.as_deref() {
                Some("spouse") => rules::Relationship::Spouse,
                Some("child") => rules::Relationship::Child,
                Some("self") | None if member.subscriber_id.as_deref().is_none_or(|subscriber| subscriber == member.member_id) => {
                    rules::Relationship::Subscriber
                }
                _ => rules::Relationship::Other,
            },
            network_tier: None,
        },
        provider: rules::ProviderFacts {
            npi: claim.rendering_npi.as_deref().unwrap_or(&*claim.billing_npi).to_owned(),
            taxonomy: provider.and_then(|provider| provider.taxonomy.clone()),
            entity_type: if provider.and_then(|provider| provider.entity_type) == Some(1) {
                rules::EntityType::Individual
            } else {
                rules::EntityType::Organization
            },
            in_network,
            // The contract that pays the line's code (the same lookup pricing made, so its row is recorded).
            contract_id: facts.policy.and_then(|policy| policy.contracts.as_ref()).and_then(|contracts| {
                let code = claimtrail_policy::CodeKey::of(&line.procedure_code);
                contracts.table.method(&claim.billing_npi, code, line.service_date).map(|(contract_id, _)| contract_id.to_owned())
            }),
        },
        history: history_facts(&facts.history, facts.history_counts.as_deref(), line),
        decision: rules::DecisionFacts { date: facts.decided_on },
    }
}

/// Adds `amount` of `carc` (group CO) to the line's adjustments, merged with one of the same reason.
fn adjust(decision: &mut LineDecision, carc: Carc, amount: Money) -> Result<Adjustment, PricingError> {
    let overflow = PricingError::Overflow(decision.sequence);
    match decision.adjustments.iter_mut().find(|existing| existing.group == RULE_GROUP && existing.reason == carc) {
        Some(existing) => existing.amount = existing.amount.checked_add(amount).ok_or(overflow)?,
        None => decision.adjustments.push(Adjustment { group: RULE_GROUP, reason: carc.clone(), amount }),
    }
    Ok(Adjustment { group: RULE_GROUP, reason: carc, amount })
}

/// Lowers the line's allowed (and paid) amount to `to`, the difference as `carc`.
fn lower_allowed(
    decision: &mut LineDecision,
    to: Money,
    carc: Carc,
    rarcs: &[claimtrail_codes::Rarc],
    source: &str,
    detail: String,
) -> Result<(), PricingError> {
    let before = decision.allowed;
    let to = to.min(before).max(Money::ZERO);
    let cut = before.checked_sub(to).ok_or(PricingError::Overflow(decision.sequence))?;
    let adjustment = if cut.is_zero() { None } else { Some(adjust(decision, carc, cut)?) };
    for rarc in rarcs {
        if !decision.remarks.contains(rarc) {
            decision.remarks.push(rarc.clone());
        }
    }
    decision.allowed = to;
    decision.paid = to;
    decision.explanation.pop();
    decision.explanation.push(detail.clone());
    decision.explanation.push(format!("paid {to}"));
    decision.steps.push(DecisionStep {
        kind: StepKind::Pricing,
        rule: "rule-set".into(),
        source: Some(source.to_owned()),
        adjustment,
        before,
        after: to,
        detail,
    });
    Ok(())
}

/// Denies the line by a rule, keeping the steps that led there.
fn deny(line: &ClaimLine, decision: &mut LineDecision, carc: Carc, rarcs: Vec<claimtrail_codes::Rarc>, edit: &'static str, source: &str, detail: String) {
    let denial = Denial { edit, carc, remarks: rarcs, source: source.to_owned(), detail };
    let mut denied = pricing::denied_line(line, &denial);
    let mut steps = std::mem::take(&mut decision.steps);
    steps.append(&mut denied.steps);
    denied.steps = steps;
    *decision = denied;
}

/// The units of prior authorizations already used when a line asks for one:
/// by this claim's earlier lines (authorization number, units), and by the
/// member's earlier claims (their paid and pended lines, [`claimtrail_policy::units_used_by`]).
pub struct AuthorizationUse<'h> {
    pub this_claim: RefCell<Vec<(String, Decimal)>>,
    pub history: &'h [claimtrail_policy::EditLine],
}

/// Applies one fired rule's action to the line's decision.
pub fn apply(
    claim: &SubmittedClaim,
    line: &ClaimLine,
    decision: &mut LineDecision,
    action: &rules::Action,
    source: &str,
    policy: &PolicyInForce,
    authorizations: &AuthorizationUse<'_>,
) -> Result<Applied, PricingError> {
    match action {
        rules::Action::Deny { carc, rarcs } => {
            deny(line, decision, carc.clone(), rarcs.clone(), "rule-set", source, format!("the payer's rule {source} denies the line: CO-{carc}"));
            Ok(Applied::Denied)
        }
        rules::Action::Pend { reason } => Ok(Applied::Pend(reason.clone())),
        rules::Action::RequirePriorAuthorization => {
            let missing = prior_authorization_missing(claim, line, policy, authorizations);
            match missing {
                Err(why) => {
                    deny(
                        line,
                        decision,
                        Carc::AUTHORIZATION_ABSENT,
                        Vec::new(),
                        "prior-authorization",
                        source,
                        format!("the payer's rule {source} requires a prior authorization and {why}: CO-197"),
                    );
                    Ok(Applied::Denied)
                }
                Ok((number, table_source)) => {
                    authorizations.this_claim.borrow_mut().push((number.clone(), line.quantity));
                    decision.steps.push(DecisionStep {
                        kind: StepKind::Edit,
                        rule: "prior-authorization".into(),
                        source: Some(table_source),
                        adjustment: None,
                        before: decision.allowed,
                        after: decision.allowed,
                        detail: format!("the payer's rule {source} requires a prior authorization: authorization {number} approves the line"),
                    });
                    Ok(Applied::Continue)
                }
            }
        }
        rules::Action::ReducePercent { percent, carc, rarcs } => {
            let kept =
                decision.allowed.amount().checked_mul(Decimal::ONE_HUNDRED - *percent).ok_or(PricingError::Overflow(line.sequence))? / Decimal::ONE_HUNDRED;
            let to = Money::round_half_away_from_zero(kept);
            let carc = carc.clone().unwrap_or(Carc::FEE_SCHEDULE);
            let detail = format!("the payer's rule {source} reduces the allowed {} by {}% to {to}: CO-{carc}", decision.allowed, percent.normalize());
            lower_allowed(decision, to, carc, rarcs, source, detail)?;
            Ok(Applied::Continue)
        }
        rules::Action::ReduceTo { amount, carc, rarcs } => {
            let carc = carc.clone().unwrap_or(Carc::FEE_SCHEDULE);
            let to = (*amount).min(decision.allowed);
            let detail = format!("the payer's rule {source} lowers the allowed {} to {to}: CO-{carc}", decision.allowed);
            lower_allowed(decision, to, carc, rarcs, source, detail)?;
            Ok(Applied::Continue)
        }
        rules::Action::SetAllowed { amount } => {
            let before = decision.allowed;
            let to = (*amount).min(line.charge);
            let contractual = line.charge.checked_sub(to).ok_or(PricingError::Overflow(line.sequence))?;
            decision.adjustments =
                if contractual.is_zero() { Vec::new() } else { vec![Adjustment { group: RULE_GROUP, reason: Carc::FEE_SCHEDULE, amount: contractual }] };
            decision.allowed = to;
            decision.paid = to;
            let detail =
                format!("the payer's rule {source} sets the allowed amount to {to} (lower of {amount} and the charge {}); CO-45 {contractual}", line.charge);
            decision.explanation.pop();
            decision.explanation.push(detail.clone());
            decision.explanation.push(format!("paid {to}"));
            decision.steps.push(DecisionStep {
                kind: StepKind::Pricing,
                rule: "rule-set".into(),
                source: Some(source.to_owned()),
                adjustment: decision.adjustments.first().cloned(),
                before,
                after: to,
                detail,
            });
            Ok(Applied::Continue)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn age_is_whole_years_on_the_date_of_service() {
        assert_eq!(age_on(date!(1980 - 06 - 15), date!(2026 - 06 - 14)), 45);
        assert_eq!(age_on(date!(1980 - 06 - 15), date!(2026 - 06 - 15)), 46);
    }
}
