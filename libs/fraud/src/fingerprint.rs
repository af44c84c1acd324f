//! Keyed fingerprints for cross-payer matching: HMAC-SHA3-256 (RFC 2104 over
//! FIPS 202 SHA3-256, the `hmac` and `sha3` crates) of the normalized person
//! identity, and of that with the billing NPI, date of service and code.
//!
//! The key lives only with the producers and the fraud service. Each key has
//! an id, carried beside the fingerprints ([`crate::ClaimFacts::fingerprint_key_id`]):
//! on rotation producers switch to the new key, and fingerprints compare only
//! under equal key ids, so no fingerprint outlives the key it was made with.
//!
//! Normalization: names upper case, letters and digits only (spaces,
//! hyphens, apostrophes and accents' combining marks dropped), birth date
//! `YYYY-MM-DD`, sex one of `F`, `M`, `U`. Fields are length-prefixed, so no
//! two identities share an input.

use hmac::{KeyInit, Mac, SimpleHmac as Hmac};
use sha3::Sha3_256;
use time::Date;

use crate::facts::Fingerprint;

/// Key bytes, at least: SHA3-256's output length.
pub const KEY_BYTES_MIN: usize = 32;

/// A fingerprint key and its id. `Debug` shows the id only.
#[derive(Clone)]
pub struct FingerprintKey {
    id: u32,
    secret: Vec<u8>,
}

/// A key that is too short to be a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fingerprint key {id} has {len} bytes; at least {KEY_BYTES_MIN} are needed")]
pub struct KeyTooShort {
    pub id: u32,
    pub len: usize,
}

impl FingerprintKey {
    pub fn new(id: u32, secret: Vec<u8>) -> Result<FingerprintKey, KeyTooShort> {
        if secret.len() < KEY_BYTES_MIN {
            return Err(KeyTooShort { id, len: secret.len() });
        }
        Ok(FingerprintKey { id, secret })
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    fn mac(&self) -> Hmac<Sha3_256> {
        <Hmac<Sha3_256> as KeyInit>::new_from_slice(&self.secret).expect("HMAC takes a key of any length")
    }
}

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FingerprintKey").field("id", &self.id).field("secret", &"[masked]").finish()
    }
}

/// Administrative sex as claims carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Female,
    Male,
    Unknown,
}

/// Who a claim is for, as matching needs it. `Debug` masks it (PHI).
#[derive(Clone, PartialEq, Eq)]
pub struct PersonIdentity {
    pub family_name: String,
    pub given_name: String,
    pub birth_date: Date,
    pub sex: Sex,
}

impl std::fmt::Debug for PersonIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonIdentity([masked])")
    }
}

/// `name` upper case, letters and digits only.
pub fn normalize_name(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect()
}

fn put(mac: &mut Hmac<Sha3_256>, field: &[u8]) {
    mac.update(&(field.len() as u32).to_be_bytes());
    mac.update(field);
}

fn put_person(mac: &mut Hmac<Sha3_256>, person: &PersonIdentity) {
    put(mac, normalize_name(&person.family_name).as_bytes());
    put(mac, normalize_name(&person.given_name).as_bytes());
    put(mac, format_date(person.birth_date).as_bytes());
    put(
        mac,
        match person.sex {
            Sex::Female => b"F",
            Sex::Male => b"M",
            Sex::Unknown => b"U",
        },
    );
}

fn format_date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// The keyed fingerprint of one service: the person, the billing NPI, the date of service and the code.
pub fn fingerprint(key: &FingerprintKey, person: &PersonIdentity, billing_npi: &str, date_of_service: Date, code: &str) -> Fingerprint {
    let mut mac = key.mac();
    put(&mut mac, b"claimtrail.fraud.service.v1");
    put_person(&mut mac, person);
    put(&mut mac, billing_npi.trim().as_bytes());
    put(&mut mac, format_date(date_of_service).as_bytes());
    put(&mut mac, code.trim().to_uppercase().as_bytes());
    mac.finalize().into_bytes().into()
}

/// The keyed fingerprint of the person alone (deaths known to one payer reach claims at another).
pub fn person_fingerprint(key: &FingerprintKey, person: &PersonIdentity) -> Fingerprint {
    let mut mac = key.mac();
    put(&mut mac, b"claimtrail.fraud.person.v1");
    put_person(&mut mac, person);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn key(id: u32, byte: u8) -> FingerprintKey {
        FingerprintKey::new(id, vec![byte; 32]).unwrap()
    }

    fn person() -> PersonIdentity {
        PersonIdentity { family_name: "O'Brien-Smith".into(), given_name: "Mary Ann".into(), birth_date: date!(1961 - 04 - 02), sex: Sex::Female }
    }

    #[test]
    fn hmac_sha3_256_matches_the_nist_example() {
        // NIST CSRC "HMAC_SHA3-256" example 1: key 00..1f, "Sample message for keylen<blocklen".
        let secret: Vec<u8> = (0u8..32).collect();
        let mut mac = <Hmac<Sha3_256> as KeyInit>::new_from_slice(&secret).unwrap();
        mac.update(b"Sample message for keylen<blocklen");
        let out: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(hex::encode(out), "4fe8e202c4f058e8dddc23d8c34e467343e23555e24fc2f025d598f558f67205");
    }

    #[test]
    fn the_same_person_written_differently_has_one_fingerprint() {
        let written_otherwise = PersonIdentity { family_name: "obrien smith".into(), given_name: "MARYANN".into(), ..person() };
        let key = key(1, 7);
        assert_eq!(
            fingerprint(&key, &person(), "1234567893", date!(2026 - 11 - 02), "99213"),
            fingerprint(&key, &written_otherwise, "1234567893", date!(2026 - 11 - 02), "99213")
        );
        assert_eq!(person_fingerprint(&key, &person()), person_fingerprint(&key, &written_otherwise));
    }

    #[test]
    fn each_input_and_the_key_change_the_fingerprint() {
        let key1 = key(1, 7);
        let base = fingerprint(&key1, &person(), "1234567893", date!(2026 - 11 - 02), "99213");
        let others = [
            fingerprint(&key(2, 8), &person(), "1234567893", date!(2026 - 11 - 02), "99213"),
            fingerprint(&key1, &PersonIdentity { sex: Sex::Male, ..person() }, "1234567893", date!(2026 - 11 - 02), "99213"),
            fingerprint(&key1, &PersonIdentity { birth_date: date!(1961 - 04 - 03), ..person() }, "1234567893", date!(2026 - 11 - 02), "99213"),
            fingerprint(&key1, &person(), "1234567894", date!(2026 - 11 - 02), "99213"),
            fingerprint(&key1, &person(), "1234567893", date!(2026 - 11 - 03), "99213"),
            fingerprint(&key1, &person(), "1234567893", date!(2026 - 11 - 02), "99214"),
        ];
        for other in others {
            assert_ne!(base, other);
        }
        assert_ne!(base, person_fingerprint(&key1, &person()));
    }

    #[test]
    fn a_short_key_is_refused_and_debug_hides_the_secret() {
        assert_eq!(FingerprintKey::new(3, vec![1; 31]).unwrap_err(), KeyTooShort { id: 3, len: 31 });
        let shown = format!("{:?} {:?}", key(4, 0xab), person());
        assert!(!shown.contains("171") && !shown.contains("ab, ") && !shown.contains("Brien"), "{shown}");
    }
}
