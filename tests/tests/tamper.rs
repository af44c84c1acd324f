//! Tampering with the ledger in Postgres is caught by `claimtrail verify`,
//! which names the first bad index.

use std::time::Duration;

use claimtrail_e2e::{Stack, bundle, sample_claim};
use claimtrail_ledger::note::{Checkpoint, SignerKey};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn changing_deleting_or_reordering_one_ledger_row_makes_verify_fail_at_that_index() -> anyhow::Result<()> {
    // Arrange: 4 claims -> 13 ledger entries, all covered by a checkpoint.
    let stack = Stack::start(&[]).await?;
    stack.submit_ok(&bundle((0..4).map(|n| sample_claim(&format!("PCN-T-{n}"))).collect())).await?;
    stack.wait_settled(4, Duration::from_secs(60)).await?;
    let (verified, output) = stack.verify(&[]).await?;
    assert!(verified, "{output}");
    let ledger = stack.table("anchor", "ledger");
    let backup = stack.table("anchor", "ledger_backup");

    // A copy to restore from after each change.
    stack.execute(&format!("CREATE TABLE {backup} AS SELECT * FROM {ledger}")).await?;
    let restore = || async {
        stack.execute(&format!("DELETE FROM {ledger}")).await?;
        stack.execute(&format!("INSERT INTO {ledger} SELECT * FROM {backup}")).await
    };

    // Act + Assert: change one byte of a leaf.
    stack.execute(&format!("UPDATE {ledger} SET leaf = overlay(leaf placing '9' from 20 for 1) WHERE idx = 5")).await?;
    let (verified, output) = stack.verify(&[]).await?;
    assert!(!verified);
    assert!(output.contains("first bad index: 5"), "{output}");
    restore().await?;

    // Delete a row.
    stack.execute(&format!("DELETE FROM {ledger} WHERE idx = 7")).await?;
    let (verified, output) = stack.verify(&[]).await?;
    assert!(!verified);
    assert!(output.contains("first bad index: 7"), "{output}");
    restore().await?;

    // Reorder two rows (swap their positions).
    stack.execute(&format!("UPDATE {ledger} SET idx = -1 WHERE idx = 3")).await?;
    stack.execute(&format!("UPDATE {ledger} SET idx = 3 WHERE idx = 4")).await?;
    stack.execute(&format!("UPDATE {ledger} SET idx = 4 WHERE idx = -1")).await?;
    let (verified, output) = stack.verify(&[]).await?;
    assert!(!verified);
    assert!(output.contains("first bad index: 3"), "{output}");
    restore().await?;

    // Truncate the tail: the checkpoint covers entries that are gone.
    stack.execute(&format!("DELETE FROM {ledger} WHERE idx >= 10")).await?;
    let (verified, output) = stack.verify(&[]).await?;
    assert!(!verified);
    assert!(output.contains("first bad index: 10"), "{output}");
    restore().await?;

    // Restored: verifies again, also from an export file and with the key given explicitly.
    let (verified, output) = stack.verify(&[]).await?;
    assert!(verified, "{output}");
    let export = stack.key_dir.path().join("ledger.jsonl");
    let exported = stack.run_cli(&["ledger", "export", "--out", export.to_str().unwrap()]).await?;
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    let vkey = stack.client.get(format!("{}/v1/ledger/keys", stack.url("anchor"))).bearer_auth(&stack.admin_key).send().await?.text().await?;
    let vkey = vkey.split_whitespace().next().unwrap().to_owned();
    let from_file = stack.run_cli(&["verify", export.to_str().unwrap(), "--key", &vkey]).await?;
    assert!(from_file.status.success(), "{}{}", String::from_utf8_lossy(&from_file.stdout), String::from_utf8_lossy(&from_file.stderr));
    // The export carries the producer keys and every entry's batch proof: producer signatures verify from the file alone.
    let from_file = stack.run_cli(&["verify", export.to_str().unwrap()]).await?;
    let output = String::from_utf8_lossy(&from_file.stdout);
    assert!(from_file.status.success() && output.contains("producer signatures verified: ") && output.contains(" 0 entries recorded unverified"), "{output}");

    // Another log's key, well-formed and of the same origin: the checkpoints fail to verify under it.
    let origin = vkey.split('+').next().unwrap();
    let other = SignerKey::from_seed(origin, &[9u8; 32])?;
    let other_vkey = other.verifier().to_string();
    let wrong_key = stack.run_cli(&["verify", export.to_str().unwrap(), "--key", &other_vkey]).await?;
    let output = format!("{}{}", String::from_utf8_lossy(&wrong_key.stdout), String::from_utf8_lossy(&wrong_key.stderr));
    assert!(!wrong_key.status.success(), "{output}");
    assert!(output.contains("checkpoint #1: note is not signed by any trusted key"), "the checkpoint, not the key, must be what fails: {output}");

    // A forged checkpoint (another root, signed by that other key) is refused when only the real key is trusted.
    let text = std::fs::read_to_string(&export)?;
    let size = text.lines().filter(|line| line.contains(r#""type":"entry""#)).count() as u64;
    let forged = Checkpoint { origin: origin.to_owned(), size, root: [7u8; 32], extensions: vec![] }.sign(&[&other])?;
    let forged_export = stack.key_dir.path().join("ledger-forged.jsonl");
    std::fs::write(&forged_export, format!("{text}{}\n", json!({"type": "checkpoint", "size": size, "note": forged})))?;
    let refused = stack.run_cli(&["verify", forged_export.to_str().unwrap(), "--key", &vkey]).await?;
    let output = format!("{}{}", String::from_utf8_lossy(&refused.stdout), String::from_utf8_lossy(&refused.stderr));
    assert!(!refused.status.success(), "{output}");
    assert!(output.contains("note is not signed by any trusted key"), "{output}");

    // The state file remembers the checkpoint; a rolled-back ledger is refused next time.
    let state = stack.key_dir.path().join("verify-state.json");
    let (verified, output) = stack.verify(&["--key", &vkey, "--state", state.to_str().unwrap()]).await?;
    assert!(verified, "{output}");
    stack.execute(&format!("DELETE FROM {ledger} WHERE idx >= 12")).await?;
    stack.execute(&format!("DELETE FROM {} WHERE size > 12", stack.table("anchor", "checkpoints"))).await?;
    let (verified, output) = stack.verify(&["--key", &vkey, "--state", state.to_str().unwrap()]).await?;
    assert!(!verified, "a rollback must be caught: {output}");
    assert!(output.contains("first bad index: 12"), "{output}");

    stack.execute(&format!("DROP TABLE {backup}")).await?;
    stack.cleanup().await
}
