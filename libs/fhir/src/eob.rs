//! The decision on a claim as a FHIR R4 ExplanationOfBenefit in the shape of
//! CARIN Blue Button's professional EOB (without claiming the profile: the
//! member's demographics and the payer's network status, which the profile
//! requires, are not ours to publish here).

use claimtrail_events::{ClaimAdjudicated, ClaimLine, SubmittedClaim};
use serde_json::{Map, Value, json};

use crate::amount::decimal_json;
use crate::claim::{CPT, HCPCS, ICD10_CM};
use crate::output::{self, ADJUDICATION, C4BB_ADJUDICATION, concept};
use claimtrail_codes::{CodeSet, ProcedureCode};

const C4BB_IDENTIFIER_TYPE: &str = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType";
const C4BB_CARE_TEAM_ROLE: &str = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimCareTeamRole";
const PLACE_OF_SERVICE: &str = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set";

/// A FHIR R4 ExplanationOfBenefit for `adjudicated`, the decision on `claim`;
/// `created` is a FHIR dateTime.
///
/// Lines carry `submitted`, `eligible`, `benefit`, `paidtoprovider` and
/// `memberliability` (the patient's responsibility; CARIN's `paidbypatient`
/// means money paid at the point of service, which Claimtrail does not know),
/// then one entry per adjustment with its CARC; `total[]` the same categories,
/// and the member's copay, deductible and coinsurance when not zero. The
/// accumulator position after the claim is added by [`crate::with_balances`].
pub fn explanation_of_benefit(adjudicated: &ClaimAdjudicated, claim: &SubmittedClaim, created: &str) -> Value {
    let rendering_sequence = claim.rendering_npi.as_ref().map(|_| 1);
    let items: Vec<Value> = adjudicated
        .lines
        .iter()
        .map(|decision| {
            let line = claim.lines.iter().find(|line| line.sequence == decision.sequence);
            let mut item = Map::new();
            item.insert("sequence".into(), json!(decision.sequence));
            if let Some(sequence) = rendering_sequence {
                item.insert("careTeamSequence".into(), json!([sequence]));
            }
            if let Some(pointers) = line.map(|line| &line.diagnosis_pointers).filter(|pointers| !pointers.is_empty()) {
                item.insert("diagnosisSequence".into(), json!(pointers));
            }
            item.insert("productOrService".into(), procedure(&decision.procedure_code));
            if let Some(line) = line {
                insert_line_details(&mut item, line);
            }
            let mut adjudications = vec![
                output::adjudication(ADJUDICATION, "submitted", "Submitted Amount", decision.charge),
                output::adjudication(ADJUDICATION, "eligible", "Eligible Amount", decision.allowed),
                output::adjudication(ADJUDICATION, "benefit", "Benefit Amount", decision.paid),
                output::adjudication(C4BB_ADJUDICATION, "paidtoprovider", "Paid to provider", decision.paid),
                output::adjudication(C4BB_ADJUDICATION, "memberliability", "Member liability", decision.patient_responsibility),
            ];
            adjudications.extend(decision.adjustments.iter().map(output::adjustment));
            item.insert("adjudication".into(), Value::Array(adjudications));
            Value::Object(item)
        })
        .collect();

    let mut eob = Map::new();
    eob.insert("resourceType".into(), json!("ExplanationOfBenefit"));
    eob.insert(
        "identifier".into(),
        json!([{ "type": concept(C4BB_IDENTIFIER_TYPE, "uc", "Unique Claim ID"), "system": "urn:ietf:rfc:3986",
                 "value": format!("urn:uuid:{}", adjudicated.claim_id) }]),
    );
    eob.insert("status".into(), json!("active"));
    eob.insert("type".into(), output::claim_type(claim.claim_type));
    eob.insert("use".into(), json!("claim"));
    eob.insert("patient".into(), output::patient(&claim.member_id));
    let first = claim.lines.iter().map(|line| line.service_date).min();
    let last = claim.lines.iter().map(|line| line.service_date).max();
    if let (Some(first), Some(last)) = (first, last) {
        let period = json!({ "start": claimtrail_events::format_date(first), "end": claimtrail_events::format_date(last) });
        eob.insert("billablePeriod".into(), period);
    }
    eob.insert("created".into(), json!(created));
    eob.insert("insurer".into(), output::insurer(&adjudicated.payer_id));
    eob.insert("provider".into(), output::provider(&adjudicated.billing_npi));
    eob.insert("outcome".into(), json!("complete"));
    eob.insert("disposition".into(), json!(output::disposition(adjudicated.outcome)));
    if let Some(rendering_npi) = &claim.rendering_npi {
        let member = json!({ "sequence": 1, "provider": output::provider(rendering_npi),
                             "role": concept(C4BB_CARE_TEAM_ROLE, "performing", "Performing provider") });
        eob.insert("careTeam".into(), json!([member]));
    }
    if !claim.diagnoses.is_empty() {
        let diagnoses: Vec<Value> = claim
            .diagnoses
            .iter()
            .map(|diagnosis| {
                json!({ "sequence": diagnosis.sequence,
                                     "diagnosisCodeableConcept": { "coding": [{ "system": ICD10_CM, "code": icd10_with_dot(&diagnosis.code) }] } })
            })
            .collect();
        eob.insert("diagnosis".into(), Value::Array(diagnoses));
    }
    let coverage = json!({ "type": "Coverage", "identifier": { "value": claim.member_id },
                           "display": format!("Coverage with payer {}", adjudicated.payer_id) });
    eob.insert("insurance".into(), json!([{ "focal": true, "coverage": coverage }]));
    eob.insert("item".into(), Value::Array(items));
    let mut totals = vec![
        output::total(ADJUDICATION, "submitted", "Submitted Amount", adjudicated.total_charge),
        output::total(ADJUDICATION, "eligible", "Eligible Amount", adjudicated.total_allowed),
        output::total(ADJUDICATION, "benefit", "Benefit Amount", adjudicated.total_paid),
        output::total(C4BB_ADJUDICATION, "paidtoprovider", "Paid to provider", adjudicated.total_paid),
        output::total(C4BB_ADJUDICATION, "memberliability", "Member liability", adjudicated.total_patient_responsibility),
    ];
    totals.extend(output::cost_share_totals(adjudicated));
    eob.insert("total".into(), Value::Array(totals));
    eob.insert("payment".into(), output::payment(adjudicated.total_paid));
    Value::Object(eob)
}

fn insert_line_details(item: &mut Map<String, Value>, line: &ClaimLine) {
    if !line.modifiers.is_empty() {
        let modifiers: Vec<Value> = line.modifiers.iter().map(|modifier| json!({ "coding": [{ "code": modifier }] })).collect();
        item.insert("modifier".into(), Value::Array(modifiers));
    }
    item.insert("servicedDate".into(), json!(claimtrail_events::format_date(line.service_date)));
    if let Some(place_of_service) = &line.place_of_service {
        item.insert("locationCodeableConcept".into(), json!({ "coding": [{ "system": PLACE_OF_SERVICE, "code": place_of_service }] }));
    }
    item.insert("quantity".into(), json!({ "value": decimal_json(&line.quantity.normalize().to_string()) }));
}

fn procedure(code: &str) -> Value {
    match ProcedureCode::code_set(code) {
        Some(CodeSet::HcpcsLevel2) => json!({ "coding": [{ "system": HCPCS, "code": code }] }),
        Some(CodeSet::Cpt) => json!({ "coding": [{ "system": CPT, "code": code }] }),
        None => json!({ "coding": [{ "code": code }] }),
    }
}

/// ICD-10-CM as FHIR writes it: a dot after the third character when more follow.
fn icd10_with_dot(code: &str) -> String {
    match (code.get(..3), code.get(3..)) {
        (Some(category), Some(rest)) if !rest.is_empty() && !code.contains('.') => {
            format!("{category}.{rest}")
        }
        _ => code.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icd10_codes_get_their_dot_back() {
        for (code, expected) in [("E119", "E11.9"), ("J45", "J45"), ("S72001A", "S72.001A"), ("E11.9", "E11.9"), ("", "")] {
            assert_eq!(icd10_with_dot(code), expected);
        }
    }
}
