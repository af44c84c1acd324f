//! Coordination of benefits in a FHIR R4 Claim: `Claim.insurance[]`.
//!
//! R4 carries an earlier payer's decision the way the spec gives it:
//! `Claim.insurance.claimResponse`, "the result of the adjudication of the
//! line items for the Coverage specified in this insurance" (never on the
//! focal insurance). Claimtrail reads:
//! - this payer's place: the focal insurance's `sequence` (1 primary, 2
//!   secondary, 3 tertiary); a claim whose focal insurance has no
//!   `sequence`, or sequence 1, is not coordinated;
//! - each earlier payer: an insurance with a lower `sequence` and a
//!   `claimResponse` that resolves (contained, or in the Bundle) to a
//!   ClaimResponse; a logical reference cannot be read and is an error;
//! - from that ClaimResponse: the payer (`insurer`), the paid amount
//!   (`payment.amount`, else the sum of the items' `benefit`), claim-level
//!   adjustments (`adjudication[]` with a CARC `reason`), and per line
//!   (`item[]`, `itemSequence`) the `benefit` adjudication (paid) and each
//!   adjudication whose `reason` is a CARC coding (an adjustment).
//!
//! An adjustment's group is the `GROUP-` prefix of `reason.text` (`PR-1`, as
//! Claimtrail's own ClaimResponse writes it, so a response Claimtrail made as
//! the primary can be sent back with the secondary claim), else the closest
//! the category says: `deductible`, `copay`, `coinsurance`, `memberliability`
//! are PR, `priorpayerpaid` is OA, anything else CO.

use claimtrail_codes::{Carc, GroupCode};
use claimtrail_events::{Adjustment, Coordination, Money, PayerSequence, PriorLine, PriorPayer};

use crate::claim::money_element;
use crate::error::Errors;
use crate::node::{Obj, find_coding};
use crate::output::CARC;
use crate::resolve::{BundleIndex, Contained, Target, resolve};

/// Where an earlier payer and its line decisions were read: the insurance's `claimResponse`, and each item.
pub(crate) struct PriorPaths {
    pub(crate) payer: String,
    pub(crate) lines: Vec<String>,
}

/// The claim's coordination of benefits, with where each earlier payer was read, or `None`.
pub(crate) fn coordination<'a>(
    claim: &Obj<'a>,
    scope: &Contained<'a>,
    bundle: Option<&BundleIndex<'a>>,
    errors: &mut Errors,
) -> Option<(Coordination, Vec<PriorPaths>, String)> {
    // The insurance array itself is checked where the payer is read; read it quietly here.
    let quiet = &mut Errors::default();
    let insurance = claim.arr("insurance", false, quiet)?;
    let policies = insurance.objs(quiet);
    let focal_idx = policies.iter().position(|policy| policy.bool("focal", quiet) == Some(true)).unwrap_or(0);
    let focal = policies.get(focal_idx)?;
    let number = focal.positive_int("sequence", false, errors)?;
    let Some(sequence) = PayerSequence::from_number(u64::from(number)) else {
        errors.push(focal.path_of("sequence"), format!("sequence {number}: Claimtrail coordinates benefits as primary, secondary or tertiary (1 to 3)"));
        return None;
    };
    if sequence == PayerSequence::Primary {
        return None;
    }
    let mut prior: Vec<(PriorPayer, PriorPaths)> = Vec::new();
    for (policy_idx, policy) in policies.iter().enumerate() {
        if policy_idx == focal_idx {
            continue;
        }
        let Some(their_number) = policy.positive_int("sequence", false, errors) else { continue };
        let Some(their_sequence) = PayerSequence::from_number(u64::from(their_number)).filter(|theirs| *theirs < sequence) else { continue };
        let Some(reference) = policy.obj("claimResponse", false, errors) else { continue };
        let response = match resolve(&reference, scope, bundle, &["ClaimResponse"], errors)? {
            Target::Resource(response) => response,
            Target::Identifier { .. } => {
                let message = "a logical ClaimResponse reference cannot be read: contain the earlier payer's ClaimResponse or put it in the Bundle";
                errors.push(reference.path.clone(), message);
                continue;
            }
        };
        let insurer = response.obj.obj("insurer", true, errors)?;
        let payer_id = crate::claim::payer_of(&insurer, &response.scope, bundle, errors)?;
        let mut lines = Vec::new();
        let mut line_paths = Vec::new();
        if let Some(items) = response.obj.arr("item", false, errors) {
            for item in items.objs(errors) {
                let Some(line_sequence) = item.positive_int("itemSequence", true, errors) else { continue };
                let (paid, adjustments) = adjudications(&item, errors);
                lines.push(PriorLine { sequence: line_sequence, paid: paid.unwrap_or(Money::ZERO), adjustments });
                line_paths.push(item.path.clone());
            }
        }
        let (_, adjustments) = adjudications(&response.obj, errors);
        let payment = match response.obj.obj("payment", false, errors) {
            Some(payment) => money_element(&payment, "amount", errors).ok()?,
            None => None,
        };
        let paid = match payment {
            Some(paid) => paid,
            None => match Money::checked_sum(lines.iter().map(|line| &line.paid)) {
                Some(sum) => sum,
                None => {
                    errors.push(response.obj.path.clone(), "the items' benefit amounts are out of range");
                    return None;
                }
            },
        };
        prior.push((
            PriorPayer { sequence: their_sequence, payer_id, paid, adjustments, lines },
            PriorPaths { payer: reference.path.clone(), lines: line_paths },
        ));
    }
    prior.sort_by_key(|(payer, _)| payer.sequence);
    let (prior_payers, paths) = prior.into_iter().unzip();
    Some((Coordination { sequence, prior_payers }, paths, focal.path_of("sequence")))
}

/// The `benefit` amount and the CARC adjustments among `parent.adjudication[]`.
fn adjudications(parent: &Obj<'_>, errors: &mut Errors) -> (Option<Money>, Vec<Adjustment>) {
    let mut paid = None;
    let mut adjustments = Vec::new();
    let Some(entries) = parent.arr("adjudication", false, errors) else {
        return (paid, adjustments);
    };
    for entry in entries.objs(errors) {
        let category = entry.obj("category", true, errors).and_then(|concept| find_coding(&concept, errors, |_| true).map(|(_, _, code)| code));
        let reason = entry.obj("reason", false, errors);
        let carc = reason.as_ref().and_then(|reason| find_coding(reason, errors, |system| system == Some(CARC)));
        let Ok(Some(amount)) = money_element(&entry, "amount", errors) else { continue };
        match (carc, category) {
            (Some((coding_idx, _, code)), _) => {
                let Ok(reason_code) = Carc::parse(code) else {
                    let path = reason.as_ref().map_or_else(|| entry.path.clone(), |reason| format!("{}.coding[{coding_idx}].code", reason.path));
                    errors.push(path, format!("`{code}` is not a claim adjustment reason code (1 to 3 letters or digits)"));
                    continue;
                };
                let text = reason.as_ref().and_then(|reason| reason.str("text", false, &mut Errors::default()));
                let group = group_of(text, category);
                adjustments.push(Adjustment { group, reason: reason_code, amount });
            }
            (None, Some("benefit")) => paid = Some(amount),
            _ => {}
        }
    }
    (paid, adjustments)
}

/// The group of an adjustment: `reason.text`'s `GROUP-` prefix, else the category's closest.
fn group_of(text: Option<&str>, category: Option<&str>) -> GroupCode {
    if let Some(group) = text.and_then(|text| text.split_once('-')).and_then(|(group, _)| GroupCode::parse(group.trim()).ok()) {
        return group;
    }
    match category {
        Some("deductible" | "copay" | "coinsurance" | "memberliability") => GroupCode::Pr,
        Some("priorpayerpaid") => GroupCode::Oa,
        _ => GroupCode::Co,
    }
}
