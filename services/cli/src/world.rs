//! A synthetic world for `claimtrail generate --reference-dir`: payers with
//! fee schedules and timely-filing limits, providers of several specialties
//! (valid NPIs, TINs, NUCC taxonomies, licences, pay-to addresses and EFT
//! accounts) billing for one organization, members with coverage, and claims
//! among them with each specialty's codes, diagnoses, places of service and
//! charges. Deterministic in the seed (libs/fraud-world's SplitMix64
//! `Rng`, and its NPI check digit), no IO.
//!
//! Codes are HCPCS Level II where a specialty has them, plus the office
//! visits 99213/99214 the demo already uses (CPT is AMA-licensed, so no
//! wider CPT content is shipped).

use claimtrail_events::{Money, format_date};
use claimtrail_fraud_world::{Rng, npi_with_check_digit};
use serde_json::{Value, json};
use time::Date;

/// A specialty: NUCC taxonomy, codes with a base fee per unit, diagnoses, and places of service with weights.
struct Specialty {
    taxonomy: &'static str,
    label: &'static str,
    /// NPI entity type: 1 individual, 2 organization.
    entity_type: u8,
    /// Share of the providers.
    weight: u32,
    codes: &'static [(&'static str, &'static str, u32)],
    diagnoses: &'static [&'static str],
    places: &'static [(&'static str, u32)],
}

const SPECIALTIES: &[Specialty] = &[
    Specialty {
        taxonomy: "207Q00000X",
        entity_type: 1,
        label: "Family Medicine",
        weight: 40,
        codes: &[("99213", "92.00", 50), ("99214", "131.00", 25), ("G0008", "30.00", 10), ("J1100", "0.45", 5), ("36415", "3.00", 10)],
        diagnoses: &["J06.9", "I10", "E11.9", "Z23", "Z00.00"],
        places: &[("11", 80), ("02", 15), ("22", 5)],
    },
    Specialty {
        taxonomy: "207X00000X",
        entity_type: 1,
        label: "Orthopaedic Surgery",
        weight: 15,
        codes: &[("99213", "92.00", 40), ("J3420", "1.10", 10), ("L3908", "45.00", 30), ("J1100", "0.45", 20)],
        diagnoses: &["M25.561", "S52.501A", "M17.11", "M54.50"],
        places: &[("11", 70), ("22", 30)],
    },
    Specialty {
        taxonomy: "332B00000X",
        entity_type: 2,
        label: "Durable Medical Equipment",
        weight: 10,
        codes: &[("E0114", "52.00", 40), ("E0143", "98.00", 30), ("A4550", "28.00", 30)],
        diagnoses: &["M17.11", "S82.001A", "M62.81"],
        places: &[("12", 100)],
    },
    Specialty {
        taxonomy: "341600000X",
        entity_type: 2,
        label: "Ambulance",
        weight: 10,
        codes: &[("A0428", "260.00", 60), ("A0425", "7.80", 40)],
        diagnoses: &["R07.9", "R55", "S06.0X0A"],
        places: &[("41", 100)],
    },
    Specialty {
        taxonomy: "291U00000X",
        entity_type: 2,
        label: "Clinical Medical Laboratory",
        weight: 15,
        codes: &[("36415", "3.00", 40), ("G0103", "25.00", 30), ("G0328", "19.00", 30)],
        diagnoses: &["Z12.5", "Z12.11", "E78.5"],
        places: &[("81", 100)],
    },
    Specialty {
        taxonomy: "152W00000X",
        entity_type: 1,
        label: "Optometrist",
        weight: 10,
        codes: &[("V2020", "40.00", 40), ("V2100", "35.00", 60)],
        diagnoses: &["H52.13", "H52.4"],
        places: &[("11", 100)],
    },
];

const FAMILY: &[&str] = &["Synthetic", "Example", "Sample", "Testcase", "Placeholder", "Fictional", "Madeup", "Dummy", "Mock", "Imaginary"];
const GIVEN_F: &[&str] = &["Pat", "Jordan", "Morgan", "Casey", "Robin", "Alex", "Sam", "Avery"];
const GIVEN_M: &[&str] = &["Lee", "Taylor", "Jamie", "Drew", "Quinn", "Reese", "Sky", "Kai"];
const STATES: &[(&str, &str, &str)] = &[("IL", "Springfield", "62701"), ("OH", "Columbus", "43004"), ("TX", "Austin", "73301"), ("WA", "Olympia", "98501")];

pub struct Payer {
    pub payer_id: String,
    pub name: String,
    pub timely_filing_days: u32,
    /// (code, fee per unit) for every code of every specialty.
    pub fees: Vec<(String, Money)>,
}

pub struct Provider {
    pub npi: String,
    pub entity_type: u8,
    pub name: String,
    pub tin: String,
    specialty: usize,
    pub state: usize,
}

pub struct Member {
    pub payer: usize,
    pub member_id: String,
    pub family: String,
    pub given: String,
    pub birth_date: Date,
    pub sex: &'static str,
}

pub struct World {
    pub organization: String,
    pub payers: Vec<Payer>,
    pub providers: Vec<Provider>,
    pub members: Vec<Member>,
    pub coverage: (Date, Date),
}

impl World {
    pub fn new(seed: u64, n_payers: u32, n_providers: u32, n_members: u32, organization: &str, today: Date) -> World {
        let mut rng = Rng::new(seed);
        let payers = (0..n_payers.max(1))
            .map(|idx| {
                let factor = 90 + rng.below(31); // 0.90 .. 1.20 of the base fee
                let mut fees: Vec<(String, Money)> = Vec::new();
                for specialty in SPECIALTIES {
                    for (code, base, _) in specialty.codes {
                        if fees.iter().any(|(c, _)| c == code) {
                            continue;
                        }
                        let base = Money::parse(base).unwrap_or(Money::ZERO).amount();
                        fees.push(((*code).to_owned(), Money::round_half_away_from_zero(base * rust_decimal::Decimal::new(factor as i64, 2))));
                    }
                }
                Payer {
                    payer_id: format!("{}", 70_001 + idx),
                    name: format!("Synthetic Health Plan {}", idx + 1),
                    timely_filing_days: [90, 180, 365][rng.below(3) as usize],
                    fees,
                }
            })
            .collect();
        let weights: Vec<u32> = SPECIALTIES.iter().map(|s| s.weight).collect();
        let providers = (0..n_providers.max(1))
            .map(|idx| {
                let specialty = rng.weighted(&weights);
                let entity_type = SPECIALTIES[specialty].entity_type;
                let name = if entity_type == 1 {
                    format!(
                        "{} {} ({})",
                        GIVEN_F[rng.below(GIVEN_F.len() as u64) as usize],
                        FAMILY[rng.below(FAMILY.len() as u64) as usize],
                        SPECIALTIES[specialty].label
                    )
                } else {
                    format!("Synthetic {} {}", SPECIALTIES[specialty].label, idx + 1)
                };
                Provider {
                    npi: npi_with_check_digit(100_000_000 * u64::from(entity_type) + 7_000_000 + u64::from(idx)),
                    entity_type,
                    name,
                    tin: format!("{:09}", 300_000_000 + rng.below(600_000_000)),
                    specialty,
                    state: rng.below(STATES.len() as u64) as usize,
                }
            })
            .collect();
        let members = (0..n_members.max(1))
            .map(|idx| {
                let female = rng.below(2) == 0;
                let age_days = 365 * (1 + rng.below(89) as i64) + rng.below(365) as i64;
                Member {
                    payer: rng.below(u64::from(n_payers.max(1))) as usize,
                    member_id: format!("SYN{:07}", idx + 1),
                    family: FAMILY[rng.below(FAMILY.len() as u64) as usize].to_owned(),
                    given: if female { GIVEN_F[rng.below(GIVEN_F.len() as u64) as usize] } else { GIVEN_M[rng.below(GIVEN_M.len() as u64) as usize] }
                        .to_owned(),
                    birth_date: today - time::Duration::days(age_days),
                    sex: if female { "female" } else { "male" },
                }
            })
            .collect();
        let year = today.year();
        let start = Date::from_calendar_date(year - 1, time::Month::January, 1).unwrap_or(today);
        let end = Date::from_calendar_date(year + 1, time::Month::December, 31).unwrap_or(today);
        World { organization: organization.to_owned(), payers, providers, members, coverage: (start, end) }
    }

    pub fn payers_json(&self) -> Value {
        Value::Array(self.payers.iter().map(|p| json!({"payer_id": p.payer_id, "name": p.name, "timely_filing_days": p.timely_filing_days})).collect())
    }

    pub fn fee_schedules_json(&self) -> Value {
        Value::Array(
            self.payers
                .iter()
                .map(|p| {
                    let entries: Vec<Value> = p.fees.iter().map(|(code, fee)| json!({"procedure_code": code, "amount": fee})).collect();
                    json!({"payer_id": p.payer_id, "fee_schedule_id": format!("{}-synthetic", p.payer_id), "entries": entries})
                })
                .collect(),
        )
    }

    /// The provider registry as `POST /v1/providers/import` takes it.
    pub fn providers_csv(&self) -> String {
        let mut csv = claimtrail_intake::imports::PROVIDER_HEADER.to_owned() + "\n";
        let expires = format_date(self.coverage.1);
        for (idx, p) in self.providers.iter().enumerate() {
            let (state, city, zip) = STATES[p.state];
            let licence = if p.entity_type == 1 { format!("LIC-{:06},{state},{expires}", 100_000 + idx) } else { ",,".to_owned() };
            csv.push_str(&format!(
                "{},{},{},{},{},{},{licence},{},{} Main Street,{city},{state},{zip},011000015,{:012},checking\n",
                p.npi,
                p.entity_type,
                p.name,
                p.tin,
                SPECIALTIES[p.specialty].taxonomy,
                self.organization,
                p.name,
                100 + idx,
                4_000_000 + idx
            ));
        }
        csv
    }

    /// Every provider enrolled with the payer, as `POST /v1/payers/{payer_id}/enrollments/import` takes it.
    pub fn enrollments_csv(&self) -> String {
        let mut csv = claimtrail_intake::imports::ENROLLMENT_HEADER.to_owned() + "\n";
        for p in &self.providers {
            csv.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                p.npi,
                p.entity_type,
                p.name,
                p.tin,
                SPECIALTIES[p.specialty].taxonomy,
                format_date(self.coverage.0),
                format_date(self.coverage.1)
            ));
        }
        csv
    }

    /// The payer's members, as `POST /v1/payers/{payer_id}/members/import` takes them.
    pub fn members_csv(&self, payer: usize) -> String {
        let mut csv = "member_id,family_name,given_name,birth_date,sex,plan_id,coverage_start,coverage_end\n".to_owned();
        for m in self.members.iter().filter(|m| m.payer == payer) {
            csv.push_str(&format!(
                "{},{},{},{},{},PPO-SYN,{},{}\n",
                m.member_id,
                m.family,
                m.given,
                format_date(m.birth_date),
                m.sex,
                format_date(self.coverage.0),
                format_date(self.coverage.1)
            ));
        }
        csv
    }

    /// The `index`-th claim: a provider (by specialty weight), a member, the
    /// member's payer, one to three of the specialty's codes with its places
    /// of service, charges of 1.0-2.5 times that payer's fee, dates in the 28
    /// days before `today`.
    pub fn claim(&self, seed: u64, index: u64, today: Date) -> Value {
        let mut rng = Rng::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ index);
        let provider = &self.providers[rng.below(self.providers.len() as u64) as usize];
        let member = &self.members[rng.below(self.members.len() as u64) as usize];
        let payer = &self.payers[member.payer];
        let specialty = &SPECIALTIES[provider.specialty];
        let service_date = format_date(today - time::Duration::days(rng.below(28) as i64 + 1));
        let place = specialty.places[rng.weighted(&specialty.places.iter().map(|(_, w)| *w).collect::<Vec<_>>())].0;
        let n_diagnoses = 1 + rng.below(specialty.diagnoses.len().min(2) as u64) as usize;
        let first = rng.below(specialty.diagnoses.len() as u64) as usize;
        let diagnoses: Vec<&str> = (0..n_diagnoses).map(|k| specialty.diagnoses[(first + k) % specialty.diagnoses.len()]).collect();
        let code_weights: Vec<u32> = specialty.codes.iter().map(|(_, _, w)| *w).collect();
        let n_lines = 1 + rng.below(3) as usize;
        let mut codes: Vec<usize> = Vec::new();
        for _ in 0..n_lines {
            let code = rng.weighted(&code_weights);
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        let mut total_cents = 0i64;
        let items: Vec<Value> = codes
            .iter()
            .enumerate()
            .map(|(line_idx, code_idx)| {
                let (code, _, _) = specialty.codes[*code_idx];
                let fee = payer.fees.iter().find(|(c, _)| c == code).map_or(Money::ZERO, |(_, fee)| *fee);
                let units: i64 = if fee < Money::from_cents(500) { 1 + rng.below(10) as i64 } else { 1 };
                let multiplier = rust_decimal::Decimal::new(100 + rng.below(151) as i64, 2);
                let unit_price = Money::round_half_away_from_zero(fee.amount() * multiplier);
                let net_cents = unit_price.cents().expect("generated prices are at most 2.5 times a fee schedule's") * units;
                total_cents += net_cents;
                let system = if code.starts_with(char::is_alphabetic) { "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets" } else { "http://www.ama-assn.org/go/cpt" };
                json!({
                    "sequence": line_idx + 1,
                    "careTeamSequence": [1],
                    "diagnosisSequence": [1 + line_idx % diagnoses.len()],
                    "productOrService": {"coding": [{"system": system, "code": code}]},
                    "servicedDate": service_date,
                    "locationCodeableConcept": {"coding": [{"system": "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set", "code": place}]},
                    "quantity": {"value": units},
                    "unitPrice": {"value": number(unit_price), "currency": "USD"},
                    "net": {"value": number(Money::from_cents(net_cents)), "currency": "USD"}
                })
            })
            .collect();
        let mut claim = claim_template();
        claim["id"] = json!(format!("syn-{seed}-{index}"));
        claim["identifier"][0]["value"] = json!(format!("SYN-{seed}-{index:08}"));
        claim["billablePeriod"] = json!({"start": service_date, "end": service_date});
        claim["created"] = json!(format!("{service_date}T12:00:00Z"));
        let patient = Patient { member_id: &member.member_id, family: &member.family, given: &member.given, gender: member.sex, birth_date: member.birth_date };
        set_parties(&mut claim, &patient, (&payer.payer_id, &payer.name), (&provider.npi, &provider.tin, &provider.name), self.coverage);
        claim["diagnosis"] = Value::Array(
            diagnoses
                .iter()
                .enumerate()
                .map(|(idx, code)| json!({"sequence": idx + 1, "diagnosisCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]}}))
                .collect(),
        );
        claim["item"] = Value::Array(items);
        claim["total"] = json!({"value": number(Money::from_cents(total_cents)), "currency": "USD"});
        claim
    }

    /// The member's name, birth date and X12 sex code, for the 837P writer.
    pub fn person(&self, member_id: &str) -> Option<(String, String, Date, &'static str)> {
        let member = self.members.iter().find(|m| m.member_id == member_id)?;
        Some((member.family.clone(), member.given.clone(), member.birth_date, if member.sex == "female" { "F" } else { "M" }))
    }

    /// The billing provider's name and TIN, for the 837P writer.
    pub fn provider(&self, npi: &str) -> Option<(&str, &str)> {
        self.providers.iter().find(|p| p.npi == npi).map(|p| (p.name.as_str(), p.tin.as_str()))
    }

    /// The payer's name.
    pub fn payer_name(&self, payer_id: &str) -> Option<&str> {
        self.payers.iter().find(|p| p.payer_id == payer_id).map(|p| p.name.as_str())
    }
}

/// The patient of a generated claim, as the FHIR template's contained Patient and Coverage carry it.
pub struct Patient<'a> {
    pub member_id: &'a str,
    pub family: &'a str,
    pub given: &'a str,
    /// FHIR administrative gender: `female`, `male`, `unknown`.
    pub gender: &'a str,
    pub birth_date: Date,
}

/// Fills the claim template's contained patient, payer, billing and rendering provider and coverage.
pub fn set_parties(
    claim: &mut Value,
    patient: &Patient<'_>,
    (payer_id, payer_name): (&str, &str),
    (npi, tin, provider_name): (&str, &str, &str),
    coverage: (Date, Date),
) {
    let contained = &mut claim["contained"];
    contained[0]["identifier"][0]["value"] = json!(patient.member_id);
    contained[0]["name"] = json!([{"family": patient.family, "given": [patient.given]}]);
    contained[0]["gender"] = json!(patient.gender);
    contained[0]["birthDate"] = json!(format_date(patient.birth_date));
    contained[1]["identifier"][0]["value"] = json!(payer_id);
    contained[1]["name"] = json!(payer_name);
    contained[2]["identifier"] = json!([{"system": "http://hl7.org/fhir/sid/us-npi", "value": npi}, {"system": "urn:oid:2.16.840.1.113883.4.4", "value": tin}]);
    contained[2]["name"] = json!(provider_name);
    contained[3]["identifier"][0]["value"] = json!(npi);
    contained[4]["subscriberId"] = json!(patient.member_id);
    contained[4]["period"] = json!({"start": format_date(coverage.0), "end": format_date(coverage.1)});
}

/// The FHIR Claim template every generated claim starts from.
pub fn claim_template() -> Value {
    serde_json::from_str(include_str!("../../../libs/fhir/tests/fixtures/claim-professional.json")).unwrap_or(Value::Null)
}

pub fn number(money: Money) -> Value {
    serde_json::from_str::<serde_json::Number>(&money.to_string()).map(Value::Number).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_npis_pass_the_npi_check() {
        for base in [124_531_959u64, 100_300_012, 107_000_000, 207_000_123] {
            let npi = npi_with_check_digit(base);
            assert!(claimtrail_codes::Npi::parse(&npi).is_ok(), "{npi}");
        }
        assert_eq!(npi_with_check_digit(124_531_959), "1245319599");
    }

    #[test]
    fn the_same_seed_gives_the_same_world_and_claims() {
        let today = time::macros::date!(2026 - 11 - 25);
        let (a, b) = (World::new(5, 2, 10, 50, "org", today), World::new(5, 2, 10, 50, "org", today));
        assert_eq!(a.providers_csv(), b.providers_csv());
        assert_eq!(a.claim(5, 3, today), b.claim(5, 3, today));
        assert_ne!(a.claim(5, 3, today), a.claim(5, 4, today));
    }
}
