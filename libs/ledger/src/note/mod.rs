//! C2SP signed notes (<https://c2sp.org/signed-note>) and tlog checkpoints
//! (<https://c2sp.org/tlog-checkpoint>), Ed25519 only.
//!
//! A signed note is a body that ends in `\n`, a blank line, then one line per
//! signature: `— <key name> <base64(key id ‖ 64-byte Ed25519 signature)>\n`
//! (an em dash U+2014 and a space first). Each signature covers the body bytes
//! exactly, final newline included.

mod checkpoint;
mod cosignature;
mod key;

pub use checkpoint::{Checkpoint, CheckpointError, VerifiedCheckpoint, open_checkpoint};
pub use cosignature::{COSIGNATURE_V1_TYPE, CosignatureError, CosignatureVerifier, Cosigner, cosigned_message, cosigner_key_id};
pub use key::{ED25519_SIGNATURE_TYPE, KeyError, KeyId, SignerKey, VerifierKey, is_valid_key_name};

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use thiserror::Error;

/// A note with more signature lines than this is rejected before any check.
pub const SIGNATURES_MAX: usize = 100;

const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";
const ED25519_SIGNATURE_LEN: usize = 64;

/// Why a note could not be signed or opened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NoteError {
    /// The text contains an ASCII control character other than `\n`.
    #[error("note contains a control character other than newline")]
    ControlCharacter,
    /// The body to sign is empty or does not end with `\n`.
    #[error("note body must be non-empty and end with a newline")]
    BodyNotNewlineTerminated,
    /// No signer was given to [`sign_note`].
    #[error("a note needs at least one signer")]
    NoSigners,
    /// The note has no blank line before a newline-terminated signature block.
    #[error("note has no signature block after a blank line")]
    MissingSignatureBlock,
    /// A signature line is not `— <name> <base64>` with a valid name and
    /// at least a key id and one signature byte.
    #[error("malformed signature line {line_number}")]
    MalformedSignatureLine { line_number: usize },
    /// The note carries more than [`SIGNATURES_MAX`] signature lines.
    #[error("note has more than {SIGNATURES_MAX} signatures")]
    TooManySignatures,
    /// Two signature lines name the same key.
    #[error("duplicate signature by {name}+{key_id}")]
    DuplicateSignature { name: String, key_id: KeyId },
    /// A signature by a trusted key does not verify: the note was altered or forged.
    #[error("signature by trusted key {name}+{key_id} does not verify")]
    InvalidSignature { name: String, key_id: KeyId },
    /// No signature line is by a trusted key.
    #[error("note is not signed by any trusted key")]
    NoTrustedSignature,
}

/// A note whose signatures were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The signed body, final `\n` included.
    pub body: String,
    /// The trusted keys whose signatures verified, in signature-line order.
    pub verified_by: Vec<VerifierKey>,
    /// Signatures by keys not in the trusted list (ignored, not checked).
    pub unknown_signers: Vec<(String, KeyId)>,
}

/// Signs `body` (which must end with `\n`) with every signer and returns the
/// signed note text.
pub fn sign_note(body: &str, signers: &[&SignerKey]) -> Result<String, NoteError> {
    check_text(body)?;
    if !body.ends_with('\n') {
        return Err(NoteError::BodyNotNewlineTerminated);
    }
    if signers.is_empty() {
        return Err(NoteError::NoSigners);
    }
    let mut note = String::with_capacity(body.len() + 1 + signers.len() * 120);
    note.push_str(body);
    note.push('\n');
    for signer in signers {
        let mut signature = Vec::with_capacity(4 + ED25519_SIGNATURE_LEN);
        signature.extend_from_slice(&signer.key_id().0);
        signature.extend_from_slice(&signer.sign(body.as_bytes()));
        note.push_str(SIGNATURE_LINE_PREFIX);
        note.push_str(signer.name());
        note.push(' ');
        note.push_str(&BASE64.encode(signature));
        note.push('\n');
    }
    Ok(note)
}

/// Parses a signed note and checks its signatures against `trusted`.
///
/// Signatures by unknown keys are ignored, but at least one trusted key must
/// have signed, and a bad signature by a trusted key rejects the whole note.
pub fn open_note(text: &str, trusted: &[VerifierKey]) -> Result<VerifiedNote, NoteError> {
    check_text(text)?;
    let split_at = text.rfind("\n\n").ok_or(NoteError::MissingSignatureBlock)?;
    let body = &text[..=split_at];
    let signature_block = &text[split_at + 2..];
    if signature_block.is_empty() || !signature_block.ends_with('\n') {
        return Err(NoteError::MissingSignatureBlock);
    }
    // The block ends with '\n', so the last split piece is empty.
    let signature_lines: Vec<&str> = signature_block.strip_suffix('\n').unwrap_or(signature_block).split('\n').collect();
    if signature_lines.len() > SIGNATURES_MAX {
        return Err(NoteError::TooManySignatures);
    }

    let mut seen = HashSet::new();
    let mut verified_by = Vec::new();
    let mut unknown_signers = Vec::new();
    for (line_idx, line) in signature_lines.iter().enumerate() {
        let (name, key_id, signature) = parse_signature_line(line).ok_or(NoteError::MalformedSignatureLine { line_number: line_idx + 1 })?;
        if !seen.insert((name, key_id)) {
            return Err(NoteError::DuplicateSignature { name: name.to_string(), key_id });
        }
        let trusted_key = trusted.iter().find(|key| key.name() == name && key.key_id() == key_id);
        match trusted_key {
            None => unknown_signers.push((name.to_string(), key_id)),
            Some(key) if key.verify(body.as_bytes(), &signature) => verified_by.push(key.clone()),
            Some(_) => {
                return Err(NoteError::InvalidSignature { name: name.to_string(), key_id });
            }
        }
    }
    if verified_by.is_empty() {
        return Err(NoteError::NoTrustedSignature);
    }
    Ok(VerifiedNote { body: body.to_string(), verified_by, unknown_signers })
}

/// Notes are UTF-8 (guaranteed by `&str`) without ASCII control characters
/// other than newline.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.bytes().any(|byte| byte < 0x20 && byte != b'\n') {
        return Err(NoteError::ControlCharacter);
    }
    Ok(())
}

/// `— <name> <base64(key id ‖ signature)>` into its parts; `None` if malformed.
fn parse_signature_line(line: &str) -> Option<(&str, KeyId, Vec<u8>)> {
    let rest = line.strip_prefix(SIGNATURE_LINE_PREFIX)?;
    let (name, signature_base64) = rest.split_once(' ')?;
    if !is_valid_key_name(name) || signature_base64.is_empty() {
        return None;
    }
    let decoded = BASE64.decode(signature_base64).ok()?;
    if decoded.len() < 5 {
        return None;
    }
    let (key_id, signature) = decoded.split_at(4);
    let key_id = KeyId([key_id[0], key_id[1], key_id[2], key_id[3]]);
    Some((name, key_id, signature.to_vec()))
}

#[cfg(test)]
mod tests;
