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
                .map(|line| {
                    hex::encode(claimtrail_fraud::fingerprint(key, &person, &billing_npi, line.service_date, &line.procedure_code.to_string().to_uppercase()))
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(payer_id: &str, member_id: &str) -> SubmittedClaim {
        serde_json::from_value(serde_json::json!({
            "claim_id": uuid::Uuid::from_u128(1), "claim_type": "professional", "frequency": "original", "related_claim_id": null,
            "patient_control_number": null, "billing_npi": "1245319599", "rendering_npi": null, "payer_id": payer_id, "member_id": member_id,
            "diagnoses": [{"sequence": 1, "code": "J069"}],
            "lines": [{"sequence": 1, "procedure_code": "99213", "modifiers": [], "quantity": "1", "charge": "120.00",
                       "service_date": "2026-11-02", "place_of_service": "11", "diagnosis_pointers": [1]},
                      {"sequence": 2, "procedure_code": "G0008", "modifiers": [], "quantity": "1", "charge": "30.00",
                       "service_date": "2026-11-02", "place_of_service": "11", "diagnosis_pointers": [1]}],
            "total_charge": "150.00"
        }))
        .unwrap()
    }

    fn pat(family_name: &str) -> MemberIdentity {
        MemberIdentity { family_name: family_name.into(), given_name: "Pat".into(), birth_date: time::macros::date!(1961 - 04 - 12), sex: "female".into() }
    }

    fn key(id: u32, byte: u8) -> FingerprintKey {
        FingerprintKey::new(id, vec![byte; 32]).unwrap()
    }

    #[test]
    fn the_same_person_and_service_at_two_payers_under_other_member_ids_fingerprint_alike() {
        let keys = [key(1, 7)];
        let at_a = of(&claim("PA", "MBR-1"), Some(&pat("Synthetic")), &keys);
        let at_b = of(&claim("PB", "X-99"), Some(&pat("SYNTHETIC")), &keys);
        assert_eq!(at_a, at_b);
        let [set] = at_a.as_slice() else { panic!("one key, one set") };
        assert_eq!((set.key_id, set.lines.len(), set.person.len()), (1, 2, 64));
        assert_ne!(set.lines[0], set.lines[1], "each line's code is in its fingerprint");
    }

    #[test]
    fn another_person_or_another_key_fingerprints_differently() {
        let base = of(&claim("PA", "MBR-1"), Some(&pat("Synthetic")), &[key(1, 7)]);
        assert_ne!(base, of(&claim("PA", "MBR-1"), Some(&pat("Other")), &[key(1, 7)]));
        assert_ne!(base[0].person, of(&claim("PA", "MBR-1"), Some(&pat("Synthetic")), &[key(1, 8)])[0].person);
    }

    #[test]
    fn every_key_held_stamps_a_set_and_without_an_identity_or_keys_there_is_none() {
        let both = of(&claim("PA", "MBR-1"), Some(&pat("Synthetic")), &[key(1, 7), key(2, 9)]);
        assert_eq!(both.iter().map(|set| set.key_id).collect::<Vec<_>>(), [1, 2]);
        assert!(of(&claim("PA", "MBR-1"), None, &[key(1, 7)]).is_empty());
        assert!(of(&claim("PA", "MBR-1"), Some(&pat("Synthetic")), &[]).is_empty());
    }
}
