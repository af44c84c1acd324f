//! The C2SP tlog-checkpoint note body: origin, tree size, root hash, extensions.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use thiserror::Error;

use crate::hash::Hash;
use crate::note::{NoteError, SignerKey, VerifiedNote, VerifierKey, open_note, sign_note};

/// A checkpoint: the log's origin, a tree size and the Merkle root at that size.
///
/// Its note body is `"<origin>\n<size>\n<base64 root>\n"` followed by each
/// extension line and `"\n"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `claimtrail.example/ledger`.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// RFC 9162 root of the first `size` leaves.
    pub root: Hash,
    /// Optional extra lines, each non-empty.
    pub extensions: Vec<String>,
}

/// A signed checkpoint that opened with at least one trusted signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    pub checkpoint: Checkpoint,
    pub note: VerifiedNote,
}

/// Why a checkpoint body was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckpointError {
    /// The body has fewer than three lines or does not end with `\n`.
    #[error("checkpoint body needs origin, size and root lines, each ending in a newline")]
    MissingLines,
    /// The origin line is empty.
    #[error("checkpoint origin is empty")]
    EmptyOrigin,
    /// The size line is not a decimal `u64` without sign or leading zeros.
    #[error("checkpoint size {0:?} is not a canonical decimal number")]
    InvalidSize(String),
    /// The root line is not padded standard base64 of exactly 32 bytes.
    #[error("checkpoint root {0:?} is not base64 of 32 bytes")]
    InvalidRoot(String),
    /// An extension line is empty, or a field contains a newline.
    #[error("checkpoint has an empty extension line or a field with a newline")]
    InvalidLine,
    /// The note around the checkpoint failed to sign or open.
    #[error(transparent)]
    Note(#[from] NoteError),
}

impl Checkpoint {
    /// The note body: `"<origin>\n<size>\n<base64 root>\n"` plus extension lines.
    pub fn to_body(&self) -> String {
        let mut body = format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root));
        for extension in &self.extensions {
            body.push_str(extension);
            body.push('\n');
        }
        body
    }

    /// Parses a checkpoint body strictly.
    pub fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let lines_text = body.strip_suffix('\n').ok_or(CheckpointError::MissingLines)?;
        let mut lines = lines_text.split('\n');
        let (Some(origin), Some(size_text), Some(root_text)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(CheckpointError::MissingLines);
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_canonical_u64(size_text).ok_or_else(|| CheckpointError::InvalidSize(size_text.to_string()))?;
        let root: Hash =
            BASE64.decode(root_text).ok().and_then(|bytes| bytes.try_into().ok()).ok_or_else(|| CheckpointError::InvalidRoot(root_text.to_string()))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::InvalidLine);
        }
        Ok(Checkpoint { origin: origin.to_string(), size, root, extensions })
    }

    /// Signs the checkpoint and returns the signed note text. Fails if a
    /// field would not survive a round trip (empty origin or extension line,
    /// a newline or control character inside a field).
    pub fn sign(&self, signers: &[&SignerKey]) -> Result<String, CheckpointError> {
        let body = self.to_body();
        if Checkpoint::parse_body(&body)? != *self {
            return Err(CheckpointError::InvalidLine);
        }
        Ok(sign_note(&body, signers)?)
    }
}

/// Opens a signed checkpoint note: checks the signatures against `trusted`,
/// then parses the body.
pub fn open_checkpoint(text: &str, trusted: &[VerifierKey]) -> Result<VerifiedCheckpoint, CheckpointError> {
    let note = open_note(text, trusted)?;
    let checkpoint = Checkpoint::parse_body(&note.body)?;
    Ok(VerifiedCheckpoint { checkpoint, note })
}

/// Decimal digits only, no sign, no leading zero unless the number is `0`.
fn parse_canonical_u64(text: &str) -> Option<u64> {
    let is_digits = !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
    let has_leading_zero = text.len() > 1 && text.starts_with('0');
    if !is_digits || has_leading_zero {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn checkpoint() -> Checkpoint {
        Checkpoint { origin: "claimtrail.example/ledger".to_string(), size: 42, root: leaf_hash(b"root"), extensions: Vec::new() }
    }

    #[test]
    fn a_checkpoint_body_has_origin_size_and_base64_root_lines() {
        let body = checkpoint().to_body();
        assert_eq!(body, format!("claimtrail.example/ledger\n42\n{}\n", BASE64.encode(leaf_hash(b"root"))));
        assert_eq!(Checkpoint::parse_body(&body), Ok(checkpoint()));
    }

    #[test]
    fn extension_lines_round_trip() {
        let mut with_extensions = checkpoint();
        with_extensions.extensions = vec!["anchor batch 7".to_string(), "x".to_string()];
        let body = with_extensions.to_body();
        assert!(body.ends_with("\nanchor batch 7\nx\n"));
        assert_eq!(Checkpoint::parse_body(&body), Ok(with_extensions));
    }

    #[test]
    fn non_canonical_sizes_are_rejected() {
        let root_line = BASE64.encode([7u8; 32]);
        for size in ["", "042", "+42", "-1", "4 2", "0x2a", "18446744073709551616", "٤٢"] {
            let body = format!("origin\n{size}\n{root_line}\n");
            assert_eq!(Checkpoint::parse_body(&body), Err(CheckpointError::InvalidSize(size.to_string())), "{size:?}");
        }
        let zero = Checkpoint::parse_body(&format!("origin\n0\n{root_line}\n")).unwrap();
        assert_eq!(zero.size, 0);
    }

    #[test]
    fn roots_that_are_not_32_bytes_of_padded_base64_are_rejected() {
        let short = BASE64.encode([7u8; 31]);
        let long = BASE64.encode([7u8; 33]);
        let unpadded = BASE64.encode([7u8; 32]).trim_end_matches('=').to_string();
        for root_line in [short, long, unpadded, "!!!".to_string(), String::new()] {
            let body = format!("origin\n1\n{root_line}\n");
            assert_eq!(Checkpoint::parse_body(&body), Err(CheckpointError::InvalidRoot(root_line.clone())));
        }
    }

    #[test]
    fn bodies_missing_lines_or_the_final_newline_are_rejected() {
        let root_line = BASE64.encode([7u8; 32]);
        assert_eq!(Checkpoint::parse_body(&format!("origin\n1\n{root_line}")), Err(CheckpointError::MissingLines));
        assert_eq!(Checkpoint::parse_body("origin\n1\n"), Err(CheckpointError::MissingLines));
        assert_eq!(Checkpoint::parse_body(&format!("\n1\n{root_line}\n")), Err(CheckpointError::EmptyOrigin));
        assert_eq!(Checkpoint::parse_body(&format!("origin\n1\n{root_line}\n\n")), Err(CheckpointError::InvalidLine));
    }

    #[test]
    fn a_signed_checkpoint_opens_with_the_trusted_key() {
        let signer = SignerKey::from_seed("claimtrail.example/anchor", &[9u8; 32]).unwrap();
        let text = checkpoint().sign(&[&signer]).unwrap();
        let opened = open_checkpoint(&text, &[signer.verifier()]).unwrap();
        assert_eq!(opened.checkpoint, checkpoint());
        assert_eq!(opened.note.verified_by, vec![signer.verifier()]);
    }

    #[test]
    fn a_checkpoint_that_would_not_round_trip_is_not_signed() {
        let signer = SignerKey::from_seed("anchor", &[9u8; 32]).unwrap();
        let mut bad = checkpoint();
        bad.origin = "two\nlines".to_string();
        assert!(bad.sign(&[&signer]).is_err());
        let mut empty_extension = checkpoint();
        empty_extension.extensions = vec![String::new()];
        assert!(empty_extension.sign(&[&signer]).is_err());
    }
}
