//! Cost sharing per line, after pricing and the payer's rules, in line order:
//!
//! 1. the copay (PR-3), if the line's service category has one;
//! 2. the deductible (PR-1), unless the category skips it;
//! 3. coinsurance (PR-2) on the rest, rounded half away from zero to the cent;
//! 4. the patient's share capped at what remains of the individual and
//!    family out-of-pocket maximums (coinsurance gives way first, then the
//!    deductible, then a copay that counts toward the maximum).
//!
//! Each line sees the accumulators as the earlier lines of the claim left
//! them. The result per line is its CAS adjustments, the paid amount, its
//! accumulator entries and the steps with the payable amount before and
//! after each; per claim, the [`AccumulatorsApplied`] event and the
//! position of each bucket after the claim.

use claimtrail_codes::{Carc, GroupCode, MemberId};
use claimtrail_events::{Adjustment, Money, Outcome};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::accumulators::{AccumulatorEntry, AccumulatorError, Accumulators, AccumulatorsApplied, ClaimVersion};
use crate::bucket::{Bucket, BucketKind, Level, Tier};
use crate::plan::{CompiledPlan, FamilyRule, Limits};

/// A claim as cost sharing needs it: who, which plan year and tier, and the
/// lines as pricing and the payer's rules left them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenefitClaim {
    pub claim: ClaimVersion,
    pub member_id: MemberId,
    /// The family's subscriber when the coverage covers more than one member;
    /// `None` for single coverage (only the individual limits apply).
    pub family_id: Option<MemberId>,
    pub plan_year: i32,
    pub tier: Tier,
    pub lines: Vec<BenefitLine>,
}

/// One priced line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenefitLine {
    pub sequence: u32,
    pub procedure_code: String,
    pub place_of_service: Option<String>,
    /// The allowed amount after pricing and the payer's rules.
    pub allowed: Money,
    /// Denied by an edit or a rule: no cost sharing, nothing paid.
    pub denied: bool,
}

/// Which benefit step acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BenefitRule {
    Copay,
    Deductible,
    Coinsurance,
    OopMaximum,
}

/// One benefit step of a line, with the line's payable amount before and after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BenefitStep {
    pub rule: BenefitRule,
    /// The adjustment the step made (none for the out-of-pocket cap, which reduces the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment: Option<Adjustment>,
    pub before: Money,
    pub after: Money,
    pub detail: String,
}

/// The cost sharing of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineBenefits {
    pub sequence: u32,
    /// The service category the plan put the line in.
    pub category: String,
    pub denied: bool,
    pub allowed: Money,
    pub copay: Money,
    pub deductible: Money,
    pub coinsurance: Money,
    /// copay + deductible + coinsurance.
    pub patient_share: Money,
    /// allowed − patient share (zero when denied).
    pub paid: Money,
    /// PR-3, PR-1, PR-2, in that order, the non-zero ones.
    pub adjustments: Vec<Adjustment>,
    pub accumulator_entries: Vec<AccumulatorEntry>,
    pub steps: Vec<BenefitStep>,
}

/// A bucket's position after the claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BucketPosition {
    pub bucket: Bucket,
    pub member_id: MemberId,
    pub met: Money,
    pub limit: Money,
}

/// The cost sharing of a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimBenefits {
    pub lines: Vec<LineBenefits>,
    /// The claim's entries, summed per bucket; apply it to the accumulators.
    pub applied: AccumulatorsApplied,
    pub paid: Money,
    pub patient_share: Money,
    pub outcome: Outcome,
    /// The buckets of the claim's tier after it, individual then family.
    pub position_after: Vec<BucketPosition>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BenefitError {
    #[error(transparent)]
    Accumulator(#[from] AccumulatorError),
    #[error(transparent)]
    Cob(#[from] crate::cob::CobError),
    #[error("line {sequence}: the allowed amount {allowed} is negative")]
    NegativeAllowed { sequence: u32, allowed: Money },
    #[error("the claim has no lines")]
    NoLines,
    #[error("line {sequence}: an amount is out of range")]
    OutOfRange { sequence: u32 },
}

/// The claim outcome: denied only when every line was denied by an edit or
/// a rule; partially paid when some were; otherwise paid, even when cost
/// sharing leaves nothing to pay.
pub fn claim_outcome(lines_denied: impl IntoIterator<Item = bool>) -> Outcome {
    let (mut n_lines, mut n_denied) = (0usize, 0usize);
    for denied in lines_denied {
        n_lines += 1;
        n_denied += usize::from(denied);
    }
    if n_denied == n_lines {
        Outcome::Denied
    } else if n_denied > 0 {
        Outcome::PartiallyPaid
    } else {
        Outcome::Paid
    }
}

/// What the claim's lines have met so far: the position plus the earlier lines.
struct Running {
    deductible_individual: Money,
    deductible_family: Money,
    oop_individual: Money,
    oop_family: Money,
}

/// What remains of a limit under the family rule.
fn remaining(limits: &Limits, rule: FamilyRule, individual_met: Money, family_met: Money, has_family: bool) -> Money {
    let individual = non_negative(limits.individual.checked_sub(individual_met));
    if !has_family {
        return individual;
    }
    let family = non_negative(limits.family.checked_sub(family_met));
    match rule {
        FamilyRule::Embedded => individual.min(family),
        FamilyRule::NonEmbedded => family,
    }
}

fn non_negative(amount: Option<Money>) -> Money {
    match amount {
        Some(amount) if !amount.is_negative() => amount,
        _ => Money::ZERO,
    }
}

fn pr(reason: Carc, amount: Money) -> Adjustment {
    Adjustment { group: GroupCode::Pr, reason, amount }
}

/// Cost sharing of `claim` under `plan`, with the accumulators as `position` holds them.
pub fn cost_share(plan: &CompiledPlan, claim: &BenefitClaim, position: &Accumulators) -> Result<ClaimBenefits, BenefitError> {
    if claim.lines.is_empty() {
        return Err(BenefitError::NoLines);
    }
    position.check_not_applied(&claim.claim)?;
    let tier = plan.tier(claim.tier);
    let rules = plan.plan();
    let has_family = claim.family_id.is_some();
    let bucket = |kind, level| Bucket::of(kind, claim.tier, level);
    let family_met =
        |kind| claim.family_id.as_ref().map(|family_id| position.met(family_id, claim.plan_year, bucket(kind, Level::Family))).unwrap_or(Money::ZERO);
    let mut running = Running {
        deductible_individual: position.met(&claim.member_id, claim.plan_year, bucket(BucketKind::Deductible, Level::Individual)),
        deductible_family: family_met(BucketKind::Deductible),
        oop_individual: position.met(&claim.member_id, claim.plan_year, bucket(BucketKind::Oop, Level::Individual)),
        oop_family: family_met(BucketKind::Oop),
    };

    let mut lines = Vec::with_capacity(claim.lines.len());
    for line in &claim.lines {
        let out_of_range = || BenefitError::OutOfRange { sequence: line.sequence };
        if line.allowed.is_negative() {
            return Err(BenefitError::NegativeAllowed { sequence: line.sequence, allowed: line.allowed });
        }
        let category_idx = plan.category_of(&line.procedure_code, line.place_of_service.as_deref());
        let category = plan.category_name(category_idx).to_owned();
        if line.denied {
            lines.push(LineBenefits {
                sequence: line.sequence,
                category,
                denied: true,
                allowed: line.allowed,
                copay: Money::ZERO,
                deductible: Money::ZERO,
                coinsurance: Money::ZERO,
                patient_share: Money::ZERO,
                paid: Money::ZERO,
                adjustments: Vec::new(),
                accumulator_entries: Vec::new(),
                steps: Vec::new(),
            });
            continue;
        }
        let terms = tier.terms(category_idx);
        let mut steps = Vec::with_capacity(4);
        let allowed = line.allowed;

        // 1. Copay.
        let mut copay = terms.copay.min(allowed);
        let after_copay = allowed.checked_sub(copay).ok_or_else(out_of_range)?;
        if !copay.is_zero() {
            steps.push(BenefitStep {
                rule: BenefitRule::Copay,
                adjustment: Some(pr(Carc::COPAYMENT, copay)),
                before: allowed,
                after: after_copay,
                detail: format!("copay {copay} for {category} (plan copay {})", terms.copay),
            });
        }

        // 2. Deductible.
        let deductible_left = remaining(&tier.deductible, rules.family_deductible, running.deductible_individual, running.deductible_family, has_family);
        let mut deductible = if terms.deductible_applies { deductible_left.min(after_copay) } else { Money::ZERO };
        let after_deductible = after_copay.checked_sub(deductible).ok_or_else(out_of_range)?;
        if !deductible.is_zero() {
            steps.push(BenefitStep {
                rule: BenefitRule::Deductible,
                adjustment: Some(pr(Carc::DEDUCTIBLE, deductible)),
                before: after_copay,
                after: after_deductible,
                detail: format!(
                    "deductible {deductible}: {deductible_left} of the {} deductible remained",
                    bucket_label(claim.tier, has_family, rules.family_deductible)
                ),
            });
        } else if !terms.deductible_applies {
            steps.push(BenefitStep {
                rule: BenefitRule::Deductible,
                adjustment: None,
                before: after_copay,
                after: after_copay,
                detail: format!("{category} skips the deductible"),
            });
        }

        // 3. Coinsurance on the rest.
        let coinsurance_exact = after_deductible.amount().checked_mul(terms.coinsurance_percent).ok_or_else(out_of_range)? / Decimal::ONE_HUNDRED;
        let mut coinsurance = Money::round_half_away_from_zero(coinsurance_exact);
        let after_coinsurance = after_deductible.checked_sub(coinsurance).ok_or_else(out_of_range)?;
        if !coinsurance.is_zero() {
            steps.push(BenefitStep {
                rule: BenefitRule::Coinsurance,
                adjustment: Some(pr(Carc::COINSURANCE, coinsurance)),
                before: after_deductible,
                after: after_coinsurance,
                detail: format!("coinsurance {}% of {after_deductible} = {coinsurance}", terms.coinsurance_percent.normalize()),
            });
        }

        // 4. The out-of-pocket maximum caps what counts toward it.
        let oop_left = remaining(&tier.oop_max, rules.family_oop_max, running.oop_individual, running.oop_family, has_family);
        let counted_copay = if terms.copay_counts_toward_oop { copay } else { Money::ZERO };
        let counted = Money::checked_sum(&[counted_copay, deductible, coinsurance]).ok_or_else(out_of_range)?;
        if counted > oop_left {
            let mut excess = counted.checked_sub(oop_left).ok_or_else(out_of_range)?;
            for share in [&mut coinsurance, &mut deductible] {
                let cut = excess.min(*share);
                *share = share.checked_sub(cut).ok_or_else(out_of_range)?;
                excess = excess.checked_sub(cut).ok_or_else(out_of_range)?;
            }
            if terms.copay_counts_toward_oop {
                let cut = excess.min(copay);
                copay = copay.checked_sub(cut).ok_or_else(out_of_range)?;
                excess = excess.checked_sub(cut).ok_or_else(out_of_range)?;
            }
            assert!(excess.is_zero(), "line {}: the out-of-pocket cap cut more than the share that counts toward it", line.sequence);
            let share = Money::checked_sum(&[copay, deductible, coinsurance]).ok_or_else(out_of_range)?;
            let after = allowed.checked_sub(share).ok_or_else(out_of_range)?;
            steps.push(BenefitStep {
                rule: BenefitRule::OopMaximum,
                adjustment: None,
                before: after_coinsurance,
                after,
                detail: format!(
                    "out-of-pocket maximum: {oop_left} of the {} maximum remained, so the member owes copay {copay}, deductible {deductible}, coinsurance {coinsurance}",
                    bucket_label(claim.tier, has_family, rules.family_oop_max)
                ),
            });
        }

        let patient_share = Money::checked_sum(&[copay, deductible, coinsurance]).ok_or_else(out_of_range)?;
        let paid = allowed.checked_sub(patient_share).ok_or_else(out_of_range)?;
        assert!(!paid.is_negative() && patient_share <= allowed, "line {}: the patient share {patient_share} exceeds the allowed {allowed}", line.sequence);
        let oop_counted =
            Money::checked_sum(&[if terms.copay_counts_toward_oop { copay } else { Money::ZERO }, deductible, coinsurance]).ok_or_else(out_of_range)?;
        assert!(oop_counted <= oop_left, "line {}: more than the remaining out-of-pocket maximum counted", line.sequence);

        let adjustments: Vec<Adjustment> = [(Carc::COPAYMENT, copay), (Carc::DEDUCTIBLE, deductible), (Carc::COINSURANCE, coinsurance)]
            .into_iter()
            .filter(|(_, amount)| !amount.is_zero())
            .map(|(reason, amount)| pr(reason, amount))
            .collect();

        let mut entries = Vec::with_capacity(4);
        for (kind, amount) in [(BucketKind::Deductible, deductible), (BucketKind::Oop, oop_counted)] {
            if amount.is_zero() {
                continue;
            }
            entries.push(AccumulatorEntry { member_id: claim.member_id.clone(), plan_year: claim.plan_year, bucket: bucket(kind, Level::Individual), amount });
            if let Some(family_id) = &claim.family_id {
                entries.push(AccumulatorEntry { member_id: family_id.clone(), plan_year: claim.plan_year, bucket: bucket(kind, Level::Family), amount });
            }
        }
        running.deductible_individual = running.deductible_individual.checked_add(deductible).ok_or_else(out_of_range)?;
        running.oop_individual = running.oop_individual.checked_add(oop_counted).ok_or_else(out_of_range)?;
        if has_family {
            running.deductible_family = running.deductible_family.checked_add(deductible).ok_or_else(out_of_range)?;
            running.oop_family = running.oop_family.checked_add(oop_counted).ok_or_else(out_of_range)?;
        }

        lines.push(LineBenefits {
            sequence: line.sequence,
            category,
            denied: false,
            allowed,
            copay,
            deductible,
            coinsurance,
            patient_share,
            paid,
            adjustments,
            accumulator_entries: entries,
            steps,
        });
    }

    let paid = Money::checked_sum(lines.iter().map(|line| &line.paid)).ok_or(BenefitError::OutOfRange { sequence: 0 })?;
    let patient_share = Money::checked_sum(lines.iter().map(|line| &line.patient_share)).ok_or(BenefitError::OutOfRange { sequence: 0 })?;
    let applied = AccumulatorsApplied { claim: claim.claim, entries: merge(lines.iter().flat_map(|line| &line.accumulator_entries)) };
    let mut position_after = vec![
        BucketPosition {
            bucket: bucket(BucketKind::Deductible, Level::Individual),
            member_id: claim.member_id.clone(),
            met: running.deductible_individual,
            limit: tier.deductible.individual,
        },
        BucketPosition {
            bucket: bucket(BucketKind::Oop, Level::Individual),
            member_id: claim.member_id.clone(),
            met: running.oop_individual,
            limit: tier.oop_max.individual,
        },
    ];
    if let Some(family_id) = &claim.family_id {
        position_after.push(BucketPosition {
            bucket: bucket(BucketKind::Deductible, Level::Family),
            member_id: family_id.clone(),
            met: running.deductible_family,
            limit: tier.deductible.family,
        });
        position_after.push(BucketPosition {
            bucket: bucket(BucketKind::Oop, Level::Family),
            member_id: family_id.clone(),
            met: running.oop_family,
            limit: tier.oop_max.family,
        });
    }
    let outcome = claim_outcome(lines.iter().map(|line| line.denied));
    Ok(ClaimBenefits { lines, applied, paid, patient_share, outcome, position_after })
}

/// Entries summed per (member, plan year, bucket), in the order first seen.
fn merge<'a>(entries: impl Iterator<Item = &'a AccumulatorEntry>) -> Vec<AccumulatorEntry> {
    let mut merged: Vec<AccumulatorEntry> = Vec::with_capacity(4);
    for entry in entries {
        match merged.iter_mut().find(|known| known.bucket == entry.bucket && known.plan_year == entry.plan_year && known.member_id == entry.member_id) {
            Some(known) => known.amount = known.amount.checked_add(entry.amount).expect("a claim's entries stay far inside the decimal range"),
            None => merged.push(entry.clone()),
        }
    }
    merged
}

fn bucket_label(tier: Tier, has_family: bool, rule: FamilyRule) -> &'static str {
    match (tier, has_family, rule) {
        (Tier::Inn, false, _) => "in-network individual",
        (Tier::Oon, false, _) => "out-of-network individual",
        (Tier::Inn, true, FamilyRule::Embedded) => "in-network individual and family",
        (Tier::Oon, true, FamilyRule::Embedded) => "out-of-network individual and family",
        (Tier::Inn, true, FamilyRule::NonEmbedded) => "in-network family",
        (Tier::Oon, true, FamilyRule::NonEmbedded) => "out-of-network family",
    }
}
