//! Claimtrail's tamper-evident audit ledger, as pure functions: no IO, no
//! async, no database. The anchor service writes with it, witnesses check
//! consistency with it, and `claimtrail verify` recomputes everything with it.
//!
//! # Layout
//!
//! - [`batch`]: producer batch signatures: one Ed25519 signature over the
//!   Merkle root of a batch of events, an inclusion path per event.
//! - [`hash`]: `Hash = [u8; 32]`, SHA3-256 with one domain byte per use:
//!   leaf (`0x00`), tree node (`0x01`), chain link (`0x02`).
//! - [`leaf`]: [`LeafRecord`], the ledger entry, and its canonical bytes.
//! - [`merkle`]: RFC 9162 Merkle tree hash, the compact [`Frontier`], and
//!   inclusion and consistency proofs with their verifiers.
//! - [`note`]: C2SP signed notes and tlog checkpoints with Ed25519 keys
//!   ([`SignerKey`], [`VerifierKey`], [`Checkpoint`]).
//! - [`verify`]: the streaming whole-ledger [`Verifier`].
//!
//! # Leaf bytes
//!
//! Entry `i` is the [`LeafRecord`] serialized as canonical JSON (RFC 8785
//! style): the seven keys in sorted order, no whitespace, strings escaped as
//! `JSON.stringify` does, `index` as a plain integer and `null` for no batch.
//!
//! ```text
//! {"batch":null,"commitment":"<64 lowercase hex>","event_id":"<uuid>","event_type":"<type>","index":<i>,"occurred_at":"<RFC 3339, microseconds>","producer":"<service>"}
//! ```
//!
//! [`LeafRecord::from_bytes`] accepts only these exact bytes: any other
//! encoding of the same record is rejected, so one record has one hash.
//!
//! # Hashes
//!
//! With `H` = SHA3-256 and `‖` concatenation:
//!
//! ```text
//! leaf_hash[i] = H(0x00 ‖ leaf_bytes[i])
//! node(l, r)   = H(0x01 ‖ l ‖ r)                   Merkle tree per RFC 9162 section 2.1
//! MTH({})      = H("")
//! chain[-1]    = CHAIN_SEED = 32 zero bytes
//! chain[i]     = H(0x02 ‖ chain[i-1] ‖ leaf_hash[i])
//! ```
//!
//! The chain names the first altered entry when stored chain values are
//! intact; the Merkle root, signed in checkpoints, catches a rewrite that
//! also recomputed the chain, and gives logarithmic inclusion and
//! consistency proofs.
//!
//! # Checkpoints
//!
//! A checkpoint is a C2SP signed note whose body is
//! `"<origin>\n<size>\n<base64 root>\n"`, signed with Ed25519; key ids and
//! key strings follow the C2SP signed-note spec, so the format is C2SP-shaped
//! even though the tree hash is SHA3-256.

pub mod batch;
pub mod hash;
pub mod leaf;
pub mod merkle;
pub mod note;
pub mod verify;

pub use batch::{BatchError, BatchProof};
pub use hash::{CHAIN_SEED, Hash, chain_next, empty_root, leaf_hash, node_hash};
pub use leaf::{LeafBatch, LeafError, LeafRecord};
pub use merkle::{Frontier, FrontierError, LeafSource, ProofError};
pub use note::{
    Checkpoint, CheckpointError, CosignatureError, CosignatureVerifier, Cosigner, KeyError, KeyId, NoteError, SignerKey, VerifiedCheckpoint, VerifiedNote,
    VerifierKey, open_checkpoint, open_note, sign_note,
};
pub use verify::{ProducerReport, Report, Verifier, VerifyFailure, verify_ledger};
