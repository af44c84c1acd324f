//! C2SP tlog-cosignature v1 (<https://c2sp.org/tlog-cosignature>), Ed25519:
//! a witness's statement that, at a time, the checkpoint is the largest
//! consistent tree it has seen for the log.
//!
//! - key id: `SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[..4]`
//! - signed message: `"cosignature/v1\ntime <unix seconds>\n"` followed by the
//!   whole checkpoint note body (final newline included)
//! - signature line: `— <name> base64(key id ‖ u64 big-endian timestamp ‖ 64-byte signature)`
//! - verifier key (vkey): `<name>+<key id>+base64(0x04 ‖ public key)`; the
//!   private key string `PRIVATE+KEY+<name>+<key id>+base64(0x04 ‖ seed)`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};
use thiserror::Error;

use super::{KeyError, KeyId, SIGNATURE_LINE_PREFIX, is_valid_key_name};

/// The key-id algorithm byte of Ed25519 cosignature/v1 keys.
pub const COSIGNATURE_V1_TYPE: u8 = 0x04;

const PRIVATE_PREFIX: &str = "PRIVATE+KEY+";

/// `SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public_key)[..4]`.
pub fn cosigner_key_id(name: &str, public_key: &[u8; 32]) -> KeyId {
    let digest = Sha256::new().chain_update(name.as_bytes()).chain_update([b'\n', COSIGNATURE_V1_TYPE]).chain_update(public_key).finalize();
    KeyId([digest[0], digest[1], digest[2], digest[3]])
}

/// The bytes a cosignature signs.
pub fn cosigned_message(checkpoint_body: &str, timestamp: u64) -> Vec<u8> {
    let mut message = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    message.extend_from_slice(checkpoint_body.as_bytes());
    message
}

/// Why a cosignature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CosignatureError {
    #[error("not a signature line of this cosigner")]
    NotThisCosigner,
    #[error("the cosignature is not key id, 8-byte timestamp and 64-byte signature")]
    Malformed,
    #[error("the timestamp exceeds 2^63 - 1")]
    TimestampOutOfRange,
    #[error("the cosignature by {0} does not verify")]
    Invalid(String),
}

/// A witness's private key.
#[derive(Clone)]
pub struct Cosigner {
    name: String,
    key_id: KeyId,
    signing_key: SigningKey,
}

impl fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cosigner").field("name", &self.name).field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl Cosigner {
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Cosigner, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName(name.to_owned()));
        }
        let signing_key = SigningKey::from_bytes(seed);
        Ok(Cosigner { name: name.to_owned(), key_id: cosigner_key_id(name, signing_key.verifying_key().as_bytes()), signing_key })
    }

    /// A new random key.
    pub fn generate(name: &str) -> Result<Cosigner, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Randomness(e.to_string()))?;
        Cosigner::from_seed(name, &seed)
    }

    /// Parses `PRIVATE+KEY+<name>+<key id>+base64(0x04 ‖ seed)`.
    pub fn parse(text: &str) -> Result<Cosigner, KeyError> {
        let rest = text.trim().strip_prefix(PRIVATE_PREFIX).ok_or(KeyError::Malformed("a cosigner key starts with PRIVATE+KEY+"))?;
        let (name, key_id, seed) = parse_parts(rest)?;
        let cosigner = Cosigner::from_seed(name, &seed)?;
        if cosigner.key_id != key_id {
            return Err(KeyError::KeyIdMismatch { stated: key_id, computed: cosigner.key_id });
        }
        Ok(cosigner)
    }

    pub fn to_private_key_string(&self) -> String {
        format!("{PRIVATE_PREFIX}{}+{}+{}", self.name, self.key_id, typed(self.signing_key.as_bytes()))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier { name: self.name.clone(), key_id: self.key_id, public_key: self.signing_key.verifying_key() }
    }

    /// The signature line (with its final newline) cosigning `checkpoint_body` at `timestamp`.
    pub fn cosign(&self, checkpoint_body: &str, timestamp: u64) -> String {
        let signature = self.signing_key.sign(&cosigned_message(checkpoint_body, timestamp));
        let mut bytes = Vec::with_capacity(4 + 8 + 64);
        bytes.extend_from_slice(&self.key_id.0);
        bytes.extend_from_slice(&timestamp.to_be_bytes());
        bytes.extend_from_slice(&signature.to_bytes());
        format!("{SIGNATURE_LINE_PREFIX}{} {}\n", self.name, BASE64.encode(bytes))
    }
}

/// A witness's public key. `Display` gives the vkey string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_id: KeyId,
    public_key: VerifyingKey,
}

impl CosignatureVerifier {
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<CosignatureVerifier, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName(name.to_owned()));
        }
        let verifying_key = VerifyingKey::from_bytes(public_key).map_err(|_| KeyError::InvalidPublicKey)?;
        Ok(CosignatureVerifier { name: name.to_owned(), key_id: cosigner_key_id(name, public_key), public_key: verifying_key })
    }

    /// Parses `<name>+<key id>+base64(0x04 ‖ public key)`.
    pub fn parse(vkey: &str) -> Result<CosignatureVerifier, KeyError> {
        let (name, key_id, public_key) = parse_parts(vkey.trim())?;
        let verifier = CosignatureVerifier::new(name, &public_key)?;
        if verifier.key_id != key_id {
            return Err(KeyError::KeyIdMismatch { stated: key_id, computed: verifier.key_id });
        }
        Ok(verifier)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Checks one signature line against `checkpoint_body`; the timestamp it carries.
    pub fn verify_line(&self, checkpoint_body: &str, line: &str) -> Result<u64, CosignatureError> {
        let rest = line.trim_end_matches('\n').strip_prefix(SIGNATURE_LINE_PREFIX).ok_or(CosignatureError::NotThisCosigner)?;
        let (name, encoded) = rest.split_once(' ').ok_or(CosignatureError::NotThisCosigner)?;
        if name != self.name {
            return Err(CosignatureError::NotThisCosigner);
        }
        let bytes = BASE64.decode(encoded).map_err(|_| CosignatureError::Malformed)?;
        if bytes.len() != 4 + 8 + 64 {
            return if bytes.get(..4) == Some(&self.key_id.0[..]) { Err(CosignatureError::Malformed) } else { Err(CosignatureError::NotThisCosigner) };
        }
        if bytes[..4] != self.key_id.0 {
            return Err(CosignatureError::NotThisCosigner);
        }
        let timestamp = u64::from_be_bytes(bytes[4..12].try_into().map_err(|_| CosignatureError::Malformed)?);
        if timestamp > i64::MAX as u64 {
            return Err(CosignatureError::TimestampOutOfRange);
        }
        let signature = Signature::from_slice(&bytes[12..]).map_err(|_| CosignatureError::Malformed)?;
        self.public_key.verify_strict(&cosigned_message(checkpoint_body, timestamp), &signature).map_err(|_| CosignatureError::Invalid(self.name.clone()))?;
        Ok(timestamp)
    }

    /// The first valid cosignature by this key among a note's signature lines.
    pub fn find_in_note(&self, note: &str) -> Option<u64> {
        let split_at = note.rfind("\n\n")?;
        let body = &note[..=split_at];
        note[split_at + 2..].lines().find_map(|line| self.verify_line(body, line).ok())
    }
}

impl fmt::Display for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}+{}", self.name, self.key_id, typed(self.public_key.as_bytes()))
    }
}

fn typed(key: &[u8; 32]) -> String {
    let mut bytes = Vec::with_capacity(33);
    bytes.push(COSIGNATURE_V1_TYPE);
    bytes.extend_from_slice(key);
    BASE64.encode(bytes)
}

/// `name+keyid+base64(0x04 ‖ 32 bytes)`.
fn parse_parts(text: &str) -> Result<(&str, KeyId, [u8; 32]), KeyError> {
    let mut fields = text.splitn(3, '+');
    let (Some(name), Some(key_id_hex), Some(key_base64)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(KeyError::Malformed("expected <name>+<key id>+<base64 key>"));
    };
    if !is_valid_key_name(name) {
        return Err(KeyError::InvalidName(name.to_owned()));
    }
    let mut key_id = [0u8; 4];
    if key_id_hex.len() != 8
        || !key_id_hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        || hex::decode_to_slice(key_id_hex, &mut key_id).is_err()
    {
        return Err(KeyError::Malformed("the key id must be 8 lowercase hex digits"));
    }
    let typed = BASE64.decode(key_base64).map_err(|_| KeyError::Malformed("the key is not padded standard base64"))?;
    let Some((&key_type, key)) = typed.split_first() else {
        return Err(KeyError::Malformed("the key is empty"));
    };
    if key_type != COSIGNATURE_V1_TYPE {
        return Err(KeyError::UnsupportedKeyType(key_type));
    }
    let key: [u8; 32] = key.try_into().map_err(|_| KeyError::Malformed("an Ed25519 key is 32 bytes"))?;
    Ok((name, KeyId(key_id), key))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn the_signed_message_is_the_header_the_time_and_the_whole_body() {
        assert_eq!(
            String::from_utf8(cosigned_message(BODY, 1679315147)).unwrap(),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn a_cosignature_verifies_with_its_key_only_and_over_its_body_only() {
        let witness = Cosigner::from_seed("witness.example/w1", &[3u8; 32]).unwrap();
        let line = witness.cosign(BODY, 1_700_000_000);
        assert!(line.starts_with("\u{2014} witness.example/w1 ") && line.ends_with('\n'));
        let verifier = CosignatureVerifier::parse(&witness.verifier().to_string()).unwrap();
        assert_eq!(verifier.verify_line(BODY, &line), Ok(1_700_000_000));
        assert!(matches!(verifier.verify_line(&BODY.replace("20852163", "20852164"), &line), Err(CosignatureError::Invalid(_))));
        let other = Cosigner::from_seed("witness.example/w1", &[4u8; 32]).unwrap().verifier();
        assert_eq!(other.verify_line(BODY, &line), Err(CosignatureError::NotThisCosigner));
        let note = format!("{BODY}\n\u{2014} example.com/behind-the-sofa AAAA\n{line}");
        assert_eq!(verifier.find_in_note(&note), Some(1_700_000_000));
    }

    #[test]
    fn key_ids_use_the_cosignature_type_byte_and_keys_round_trip() {
        let witness = Cosigner::from_seed("w", &[9u8; 32]).unwrap();
        let public_key = *witness.verifier().public_key.as_bytes();
        assert_ne!(cosigner_key_id("w", &public_key), crate::note::KeyId::for_ed25519("w", &public_key));
        let reparsed = Cosigner::parse(&witness.to_private_key_string()).unwrap();
        assert_eq!(reparsed.verifier(), witness.verifier());
        assert!(CosignatureVerifier::parse(&witness.verifier().to_string().replacen("+", "x+", 1)).is_err());
    }
}
