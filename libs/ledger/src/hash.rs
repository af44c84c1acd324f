//! SHA3-256 with domain separation: leaf hashes, tree nodes and the hash chain.
//!
//! Every hash in the ledger starts with one domain byte, so a value computed
//! for one purpose can never be replayed as another:
//!
//! | domain byte | value                         | used for            |
//! |-------------|-------------------------------|---------------------|
//! | `0x00`      | `SHA3-256(0x00 ‖ leaf_bytes)` | Merkle leaf         |
//! | `0x01`      | `SHA3-256(0x01 ‖ left ‖ right)` | Merkle interior node |
//! | `0x02`      | `SHA3-256(0x02 ‖ prev ‖ leaf_hash)` | hash chain       |

use sha3::{Digest, Sha3_256};

/// A SHA3-256 digest.
pub type Hash = [u8; 32];

/// The chain value that precedes entry 0: `chain[0] = chain_next(&CHAIN_SEED, &leaf_hash[0])`.
pub const CHAIN_SEED: Hash = [0u8; 32];

/// Domain byte of a Merkle leaf (RFC 9162 section 2.1.1).
pub const LEAF_DOMAIN: u8 = 0x00;
/// Domain byte of a Merkle interior node (RFC 9162 section 2.1.1).
pub const NODE_DOMAIN: u8 = 0x01;
/// Domain byte of a hash-chain link (Claimtrail-specific).
pub const CHAIN_DOMAIN: u8 = 0x02;

/// SHA3-256 over the concatenation of `parts`.
fn sha3_256(parts: &[&[u8]]) -> Hash {
    let mut hasher = Sha3_256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The root of the empty tree: SHA3-256 of the empty string (RFC 9162 `MTH({})`).
pub fn empty_root() -> Hash {
    sha3_256(&[])
}

/// `SHA3-256(0x00 ‖ leaf_bytes)`: the Merkle leaf hash of one ledger entry.
pub fn leaf_hash(leaf_bytes: &[u8]) -> Hash {
    sha3_256(&[&[LEAF_DOMAIN], leaf_bytes])
}

/// `SHA3-256(0x01 ‖ left ‖ right)`: a Merkle interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha3_256(&[&[NODE_DOMAIN], left, right])
}

/// `SHA3-256(0x02 ‖ prev ‖ leaf_hash)`: the chain value of an entry, given the
/// chain value of the entry before it ([`CHAIN_SEED`] for index 0) and the
/// entry's own [`leaf_hash`].
pub fn chain_next(prev: &Hash, leaf_hash: &Hash) -> Hash {
    sha3_256(&[&[CHAIN_DOMAIN], prev, leaf_hash])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_of(hash: &Hash) -> String {
        hex::encode(hash)
    }

    #[test]
    fn the_empty_root_is_sha3_256_of_the_empty_string() {
        assert_eq!(hex_of(&empty_root()), "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
    }

    #[test]
    fn a_leaf_hash_is_sha3_256_of_the_zero_byte_and_the_leaf() {
        // python3 -c "import hashlib; print(hashlib.sha3_256(b'\x00abc').hexdigest())"
        assert_eq!(leaf_hash(b"abc"), sha3_256(&[b"\x00abc"]));
        assert_ne!(leaf_hash(b"abc"), sha3_256(&[b"abc"]));
    }

    #[test]
    fn node_and_chain_values_use_distinct_domain_bytes() {
        let left = leaf_hash(b"left");
        let right = leaf_hash(b"right");
        let mut node_input = vec![0x01];
        node_input.extend_from_slice(&left);
        node_input.extend_from_slice(&right);
        assert_eq!(node_hash(&left, &right), sha3_256(&[&node_input]));
        assert_ne!(node_hash(&left, &right), chain_next(&left, &right));
        let mut chain_input = vec![0x02];
        chain_input.extend_from_slice(&left);
        chain_input.extend_from_slice(&right);
        assert_eq!(chain_next(&left, &right), sha3_256(&[&chain_input]));
    }
}
