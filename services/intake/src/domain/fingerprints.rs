//! The keyed fingerprints intake puts on `claim.submitted.v1` for cross-payer
//! matching (docs/fraud.md): with each fingerprint key it holds, the person's
//! (normalized name, birth date, sex from the payer's member registry) and,
//! per line, the person's with the billing NPI, the date of service and the
//! code (`claimtrail_fraud::fingerprint`, HMAC-SHA3-256).

use claimtrail_events::{ClaimFingerprints, SubmittedClaim};
use claimtrail_fraud::{FingerprintKey, PersonIdentity, Sex};
use time::Date;

/// The member as the registry holds them: family and given name, birth date, sex (`female`, `male`, `other`, `unknown`).
#[derive(Clone, PartialEq, Eq)]
pub struct MemberIdentity {
    pub family_name: String,
    pub given_name: String,
    pub birth_date: Date,
    pub sex: String,
}

impl std::fmt::Debug for MemberIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemberIdentity([masked])")
    }
}

/// The fingerprints of `claim` under each of `keys`, for the member `identity`; none without an identity or keys.
pub fn of(claim: &SubmittedClaim, identity: Option<&MemberIdentity>, keys: &[FingerprintKey]) -> Vec<ClaimFingerprints> {
    let Some(identity) = identity else { return Vec::new() };
    let person = PersonIdentity {
        family_name: identity.family_name.clone(),
        given_name: identity.given_name.clone(),
        birth_date: identity.birth_date,
        sex: match identity.sex.as_str() {
            "female" => Sex::Female,
            "male" => Sex::Male,
            _ => Sex::Unknown,
        },
    };
    let billing_npi = claim.billing_npi.to_string();
    keys.iter()
        .map(|key| ClaimFingerprints {
            key_id: key.id(),
            person: hex::encode(claimtrail_fraud::person_fingerprint(key, &person)),
            lines: claim
                .lines
                .iter()
                .map(|line| hex::encode(claimtrail_fraud::fingerprint(key, &person, &billing_npi, line.service_date, &line.procedure_code.to_string().to_uppercase())))
                .collect(),
        })
        .collect()
}
