//! Ed25519 note keys in the C2SP text encodings.
//!
//! - verifier key ("vkey"): `<name>+<key id as 8 hex digits>+<base64(0x01 ‖ public key)>`
//! - signer key: `PRIVATE+KEY+<name>+<key id as 8 hex digits>+<base64(0x01 ‖ 32-byte seed)>`
//!
//! The key id is the first 4 bytes of `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};
use thiserror::Error;

/// The C2SP signature type byte of Ed25519.
pub const ED25519_SIGNATURE_TYPE: u8 = 0x01;

const SIGNER_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// The 4-byte id that names a key in signature lines, shown as 8 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 4]);

impl KeyId {
    /// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public_key)[..4]`.
    pub fn for_ed25519(name: &str, public_key: &[u8; 32]) -> KeyId {
        let digest = Sha256::new().chain_update(name.as_bytes()).chain_update([b'\n', ED25519_SIGNATURE_TYPE]).chain_update(public_key).finalize();
        KeyId([digest[0], digest[1], digest[2], digest[3]])
    }

    fn parse_hex(text: &str) -> Option<KeyId> {
        let is_lower_hex = |byte: &u8| byte.is_ascii_digit() || (b'a'..=b'f').contains(byte);
        if text.len() != 8 || !text.as_bytes().iter().all(is_lower_hex) {
            return None;
        }
        let mut bytes = [0u8; 4];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(KeyId(bytes))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Why a key name or key string was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// Key names must be non-empty, with no whitespace and no `+`.
    #[error("invalid key name {0:?}: it must be non-empty, with no whitespace and no '+'")]
    InvalidName(String),
    /// The key string does not have the `name+id+key` shape.
    #[error("malformed key string: {0}")]
    Malformed(&'static str),
    /// The key material is not `0x01` (Ed25519) followed by 32 bytes.
    #[error("unsupported key type {0:#04x}, only Ed25519 (0x01) is supported")]
    UnsupportedKeyType(u8),
    /// The 32 bytes are not a valid Ed25519 public key.
    #[error("the public key is not a valid Ed25519 point")]
    InvalidPublicKey,
    /// The key id in the string does not match the name and key.
    #[error("key id {stated} does not match the computed id {computed}")]
    KeyIdMismatch { stated: KeyId, computed: KeyId },
    /// The operating system could not provide randomness for a new key.
    #[error("could not generate a key: {0}")]
    Randomness(String),
}

/// A trusted public key that checks note signatures: a name, its key id and
/// an Ed25519 public key. `Display` gives the vkey string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: KeyId,
    public_key: VerifyingKey,
}

/// A private key that signs notes. `Debug` hides the seed; the signer key
/// string is only produced by [`SignerKey::to_private_key_string`].
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    key_id: KeyId,
    signing_key: SigningKey,
}

/// Key names are non-empty, contain no Unicode whitespace and no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c == '+')
}

fn check_name(name: &str) -> Result<(), KeyError> {
    if is_valid_key_name(name) { Ok(()) } else { Err(KeyError::InvalidName(name.to_string())) }
}

/// Splits `name+id+base64` and decodes the typed 33-byte key material.
fn parse_key_parts(text: &str) -> Result<(&str, KeyId, [u8; 32]), KeyError> {
    // Standard base64 may itself contain '+', so split off only two fields.
    let mut fields = text.splitn(3, '+');
    let (Some(name), Some(key_id_hex), Some(key_base64)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(KeyError::Malformed("expected <name>+<key id>+<base64 key>"));
    };
    check_name(name)?;
    let key_id = KeyId::parse_hex(key_id_hex).ok_or(KeyError::Malformed("the key id must be 8 lowercase hex digits"))?;
    let typed_key = BASE64.decode(key_base64).map_err(|_| KeyError::Malformed("the key is not padded standard base64"))?;
    let Some((&key_type, key_bytes)) = typed_key.split_first() else {
        return Err(KeyError::Malformed("the key is empty"));
    };
    if key_type != ED25519_SIGNATURE_TYPE {
        return Err(KeyError::UnsupportedKeyType(key_type));
    }
    let key_bytes: [u8; 32] = key_bytes.try_into().map_err(|_| KeyError::Malformed("an Ed25519 key is 32 bytes"))?;
    Ok((name, key_id, key_bytes))
}

fn check_key_id(stated: KeyId, computed: KeyId) -> Result<(), KeyError> {
    if stated == computed { Ok(()) } else { Err(KeyError::KeyIdMismatch { stated, computed }) }
}

fn typed_key_base64(key_bytes: &[u8; 32]) -> String {
    let mut typed_key = Vec::with_capacity(33);
    typed_key.push(ED25519_SIGNATURE_TYPE);
    typed_key.extend_from_slice(key_bytes);
    BASE64.encode(typed_key)
}

impl VerifierKey {
    /// A verifier for `name` and an Ed25519 public key.
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<VerifierKey, KeyError> {
        check_name(name)?;
        let verifying_key = VerifyingKey::from_bytes(public_key).map_err(|_| KeyError::InvalidPublicKey)?;
        Ok(VerifierKey { name: name.to_string(), key_id: KeyId::for_ed25519(name, public_key), public_key: verifying_key })
    }

    /// Parses a vkey string, `<name>+<8 hex digits>+<base64(0x01 ‖ public key)>`,
    /// and checks that the key id matches.
    pub fn parse(vkey: &str) -> Result<VerifierKey, KeyError> {
        let (name, stated_key_id, public_key) = parse_key_parts(vkey)?;
        let verifier = VerifierKey::new(name, &public_key)?;
        check_key_id(stated_key_id, verifier.key_id)?;
        Ok(verifier)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The raw Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public_key.to_bytes()
    }

    /// The dalek key, for batch verification.
    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.public_key
    }

    /// `<name>+<key id>`, how envelopes and ledger leaves name a producer key.
    pub fn label(&self) -> String {
        format!("{}+{}", self.name, self.key_id)
    }

    /// Checks an Ed25519 signature over `message` (strict verification:
    /// non-canonical and small-order encodings are rejected).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        self.public_key.verify_strict(message, &signature).is_ok()
    }
}

impl fmt::Display for VerifierKey {
    /// The vkey string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}+{}", self.name, self.key_id, typed_key_base64(self.public_key.as_bytes()))
    }
}

impl SignerKey {
    /// A signer for `name` from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<SignerKey, KeyError> {
        check_name(name)?;
        let signing_key = SigningKey::from_bytes(seed);
        let key_id = KeyId::for_ed25519(name, signing_key.verifying_key().as_bytes());
        Ok(SignerKey { name: name.to_string(), key_id, signing_key })
    }

    /// A new signer for `name` with a seed from the operating system's CSPRNG.
    pub fn generate(name: &str) -> Result<SignerKey, KeyError> {
        check_name(name)?;
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|error| KeyError::Randomness(error.to_string()))?;
        SignerKey::from_seed(name, &seed)
    }

    /// Parses `PRIVATE+KEY+<name>+<8 hex digits>+<base64(0x01 ‖ seed)>` and
    /// checks that the key id matches the derived public key.
    pub fn parse(private_key: &str) -> Result<SignerKey, KeyError> {
        let parts = private_key.strip_prefix(SIGNER_KEY_PREFIX).ok_or(KeyError::Malformed("a signer key starts with PRIVATE+KEY+"))?;
        let (name, stated_key_id, seed) = parse_key_parts(parts)?;
        let signer = SignerKey::from_seed(name, &seed)?;
        check_key_id(stated_key_id, signer.key_id)?;
        Ok(signer)
    }

    /// The signer key string, for a key file. Treat it as a secret.
    pub fn to_private_key_string(&self) -> String {
        format!("{SIGNER_KEY_PREFIX}{}+{}+{}", self.name, self.key_id, typed_key_base64(self.signing_key.as_bytes()))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The matching public verifier key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey { name: self.name.clone(), key_id: self.key_id, public_key: self.signing_key.verifying_key() }
    }

    /// The 64-byte Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing_key.sign(message).to_bytes()
    }
}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignerKey").field("name", &self.name).field("key_id", &self.key_id).finish_non_exhaustive()
    }
}
