//! Cross-checks the Merkle tree against an independent Python implementation
//! of RFC 9162 (MTH, PATH, PROOF) written straight from the RFC text.
//!
//! Needs `python3` with `hashlib.sha3_256` on PATH; without it this test fails
//! rather than skipping, so a machine that cannot cross-check is noticed.

use std::fmt::Write as _;
use std::process::Command;

use claimtrail_ledger::merkle::{consistency_proof, inclusion_proof, root};
use claimtrail_ledger::{Hash, leaf_hash};

const PYTHON_RFC_9162: &str = r#"
import hashlib
import sys


def sha3(data):
    return hashlib.sha3_256(data).digest()


def mth(d):
    n = len(d)
    if n == 0:
        return sha3(b"")
    if n == 1:
        return sha3(b"\x00" + d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha3(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m, d):
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m, d):
    return subproof(m, d, True)


def joined(hashes):
    return ",".join(h.hex() for h in hashes) if hashes else "-"


def main():
    with open(sys.argv[1]) as f:
        lines = f.read().split("\n")
    sizes = [int(s) for s in lines[0].split()[1:]]
    data = [bytes.fromhex(line.split(" ")[1]) for line in lines[1:] if line]
    out = []
    for i, entry in enumerate(data):
        out.append("leaf %d %s" % (i, sha3(b"\x00" + entry).hex()))
    for n in sizes:
        d = data[:n]
        out.append("root %d %s" % (n, mth(d).hex()))
        for i in range(n):
            out.append("path %d %d %s" % (i, n, joined(path(i, d))))
        for m in range(1, n):
            out.append("proof %d %d %s" % (m, n, joined(proof(m, d))))
    sys.stdout.write("\n".join(out) + "\n")


main()
"#;

/// SplitMix64, so the sizes and leaves are random-looking but reproducible.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn joined(hashes: &[Hash]) -> String {
    if hashes.is_empty() {
        return "-".to_string();
    }
    hashes.iter().map(hex::encode).collect::<Vec<_>>().join(",")
}

#[test]
fn roots_and_proofs_match_an_independent_python_implementation() {
    // Arrange
    let mut rng = SplitMix64(0x000c_1a17_7a11);
    let mut sizes: Vec<u64> = (1..=17).collect();
    sizes.extend((0..10).map(|_| 18 + rng.next() % 240));
    let n_leaves = *sizes.iter().max().unwrap();
    let leaf_data: Vec<Vec<u8>> = (0..n_leaves)
        .map(|_| {
            let len = (rng.next() % 48) as usize;
            (0..len).map(|_| rng.next() as u8).collect()
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let script_path = dir.path().join("rfc9162.py");
    let input_path = dir.path().join("leaves.txt");
    std::fs::write(&script_path, PYTHON_RFC_9162).unwrap();
    let mut input = String::from("sizes");
    for size in &sizes {
        write!(input, " {size}").unwrap();
    }
    input.push('\n');
    for data in &leaf_data {
        writeln!(input, "leaf {}", hex::encode(data)).unwrap();
    }
    std::fs::write(&input_path, input).unwrap();

    // Act
    let output =
        Command::new("python3").arg(&script_path).arg(&input_path).output().expect("python3 is required for the RFC 9162 cross-check and could not be run");
    assert!(output.status.success(), "the python cross-check failed: {}", String::from_utf8_lossy(&output.stderr));
    let python_lines: Vec<String> = String::from_utf8(output.stdout).unwrap().lines().map(str::to_string).collect();

    let leaf_hashes: Vec<Hash> = leaf_data.iter().map(|data| leaf_hash(data)).collect();
    let mut rust_lines = Vec::new();
    for (leaf_idx, hash) in leaf_hashes.iter().enumerate() {
        rust_lines.push(format!("leaf {leaf_idx} {}", hex::encode(hash)));
    }
    for &size in &sizes {
        let prefix = &leaf_hashes[..size as usize];
        rust_lines.push(format!("root {size} {}", hex::encode(root(prefix))));
        for index in 0..size {
            let proof = inclusion_proof(index, size, prefix).unwrap();
            rust_lines.push(format!("path {index} {size} {}", joined(&proof)));
        }
        for old_size in 1..size {
            let proof = consistency_proof(old_size, size, prefix).unwrap();
            rust_lines.push(format!("proof {old_size} {size} {}", joined(&proof)));
        }
    }

    // Assert
    assert_eq!(rust_lines.len(), python_lines.len(), "line counts differ");
    for (rust_line, python_line) in rust_lines.iter().zip(&python_lines) {
        assert_eq!(rust_line, python_line);
    }
}

const PYTHON_CANONICAL_JSON: &str = r#"
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    records = json.load(f)
for record in records:
    line = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    sys.stdout.buffer.write(line.encode("utf-8") + b"\n")
"#;

#[test]
fn leaf_bytes_match_python_canonical_json() {
    // Arrange
    use claimtrail_ledger::LeafRecord;
    let awkward = "quote\" back\\slash /slash \u{8}\u{c}\n\r\t \u{1} \u{1f} del\u{7f} é \u{2028} 😀";
    let records: Vec<LeafRecord> = (0..6u64)
        .map(|index| LeafRecord {
            index: index * 1_000_003,
            event_id: format!("0190f5a2-7c1e-7d3a-9b2f-{index:012}"),
            event_type: if index == 3 { awkward.to_string() } else { "ClaimSubmitted".to_string() },
            producer: if index == 4 { awkward.to_string() } else { "intake".to_string() },
            occurred_at: "2026-01-02T03:04:05.123456Z".to_string(),
            commitment: hex::encode(leaf_hash(&index.to_be_bytes())),
            batch: (index % 2 == 1).then(|| claimtrail_ledger::leaf::LeafBatch {
                event_hash: "AAEC".to_string(),
                id: format!("batch/{index}"),
                index,
                key: if index == 3 { awkward.to_string() } else { "intake-producer+0a1b2c3d".to_string() },
                path: (0..index).map(|n| format!("p{n}")).collect(),
                root: "cm9vdA==".to_string(),
                signature: "c2ln".to_string(),
                size: index + 1,
            }),
            verified: (index > 0).then_some(index % 3 != 0),
        })
        .collect();
    let rust_lines: Vec<Vec<u8>> = records.iter().map(LeafRecord::to_bytes).collect();
    let json_array = format!("[{}]", rust_lines.iter().map(|bytes| String::from_utf8(bytes.clone()).unwrap()).collect::<Vec<_>>().join(","));
    let dir = tempfile::tempdir().unwrap();
    let script_path = dir.path().join("canonical.py");
    let input_path = dir.path().join("records.json");
    std::fs::write(&script_path, PYTHON_CANONICAL_JSON).unwrap();
    std::fs::write(&input_path, json_array).unwrap();

    // Act
    let output = Command::new("python3")
        .arg(&script_path)
        .arg(&input_path)
        .output()
        .expect("python3 is required for the canonical JSON cross-check and could not be run");

    // Assert
    assert!(output.status.success(), "the python cross-check failed: {}", String::from_utf8_lossy(&output.stderr));
    let python_lines: Vec<&[u8]> = output.stdout.split(|byte| *byte == b'\n').collect();
    assert_eq!(python_lines.len(), rust_lines.len() + 1);
    for (rust_line, python_line) in rust_lines.iter().zip(&python_lines) {
        assert_eq!(String::from_utf8_lossy(rust_line), String::from_utf8_lossy(python_line));
        assert_eq!(LeafRecord::from_bytes(python_line).as_ref(), Ok(&LeafRecord::from_bytes(rust_line).unwrap()));
    }
}
