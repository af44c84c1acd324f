//! `claimtrail ledger export`: the ledger as JSON lines that `claimtrail
//! verify` reads: first one line per public key, then every entry in index
//! order, then every checkpoint in size order. The keys include the
//! producers' (role `producer <service>`); each entry's leaf carries its
//! producer batch signature and inclusion path, so the file is all that
//! `verify` needs.
//!
//! ```text
//! {"type":"key","vkey":"claimtrail.local/ledger+1a2b3c4d+AT...","role":"log"}
//! {"type":"entry","index":0,"leaf":"<base64>","chain":"<base64>"}
//! {"type":"checkpoint","size":1000,"note":"claimtrail.local/ledger\n1000\n...\n\n\u2014 ..."}
//! ```

use std::io::Write;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_store::Store;
use serde_json::json;

use crate::storage;

/// Rows read per query.
const PAGE: i64 = 10_000;

/// Writes the export; returns (entries, checkpoints) written.
pub async fn export(store: &Store, registry: &Store, out: &mut impl Write, mut progress: impl FnMut(u64)) -> anyhow::Result<(u64, u64)> {
    for (key, role) in crate::keys::published(store, registry).await? {
        serde_json::to_writer(&mut *out, &json!({"type": "key", "vkey": key, "role": role}))?;
        out.write_all(b"\n")?;
    }
    let mut n_entries = 0u64;
    let mut next = 0i64;
    loop {
        let entries = storage::entries_page(store, next, PAGE).await?;
        let n_rows = entries.len();
        for entry in entries {
            let line = json!({"type": "entry", "index": entry.index, "leaf": BASE64.encode(entry.leaf), "chain": BASE64.encode(entry.chain)});
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
            next = entry.index + 1;
            n_entries += 1;
        }
        progress(n_entries);
        if (n_rows as i64) < PAGE {
            break;
        }
    }
    // The log's signed notes, each followed by the witnesses' cosignature lines gathered for it.
    let checkpoints = storage::checkpoints(store, 0, None).await?;
    let n_checkpoints = checkpoints.len() as u64;
    for (size, note) in checkpoints {
        serde_json::to_writer(&mut *out, &json!({"type": "checkpoint", "size": size, "note": note}))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok((n_entries, n_checkpoints))
}
