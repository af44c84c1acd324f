//! RFC 9162 (Certificate Transparency v2, section 2.1) Merkle trees over
//! SHA3-256: the tree hash, a compact [`Frontier`], and inclusion and
//! consistency proofs with their verifiers.
//!
//! All sizes and indexes are `u64`. Leaves are leaf hashes
//! ([`crate::leaf_hash`]), never raw leaf bytes.

mod frontier;
mod proof;
pub mod stored;

pub use frontier::{Frontier, FrontierError};
pub use proof::{
    LeafSource, LeavesFn, ProofError, consistency_proof, consistency_proof_ranges, inclusion_proof, inclusion_proof_ranges, root, verify_consistency,
    verify_inclusion,
};

#[cfg(test)]
mod tests;
