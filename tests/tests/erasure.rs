//! Erasure on request (crypto-shredding) across the four services on
//! Postgres + NATS JetStream: before, a claim's ledger commitment opens with
//! the producer's salt and payload; after `POST /v1/erasures`, every
//! service's salts of the member's events are gone and the published bodies
//! replaced, intake answers 410 for the claims and no longer knows the
//! member, and the ledger still verifies, with the erasure on it.

use std::time::Duration;

use claimtrail_e2e::{PAYER_ID, Stack, bundle, sample_claim, wait_until};
use claimtrail_events::canonical::canonicalize;
use claimtrail_events::{Envelope, commitment};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

/// (salt present, body is the erasure marker) of `service`'s outbox rows whose aggregate is `claim_id`.
async fn outbox_rows(stack: &Stack, service: &str, claim_id: &str) -> anyhow::Result<(i64, i64, i64)> {
    let table = stack.table(service, "outbox");
    let where_claim = format!("WHERE aggregate_id = '{claim_id}'");
    Ok((
        stack.scalar(&format!("SELECT COUNT(*) FROM {table} {where_claim}")).await?,
        stack.scalar(&format!("SELECT COUNT(*) FROM {table} {where_claim} AND salt IS NOT NULL")).await?,
        stack.scalar(&format!("SELECT COUNT(*) FROM {table} {where_claim} AND convert_from(body, 'UTF8') LIKE '{{\"erased\":%'")).await?,
    ))
}

/// Opens the ledger commitment of intake's `claim.submitted.v1` of `claim_id` with the stored salt and body.
async fn opens(stack: &Stack, claim_id: &str) -> anyhow::Result<Option<bool>> {
    let sql = format!("SELECT salt, body FROM {} WHERE aggregate_id = '{claim_id}' AND event_type = 'claim.submitted.v1'", stack.table("intake", "outbox"));
    let row = stack.db.query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)).await?.expect("the submission's outbox row");
    let salt: Option<Vec<u8>> = row.try_get_by_index(0)?;
    let body: Vec<u8> = row.try_get_by_index(1)?;
    let Some(salt) = salt else { return Ok(None) };
    let envelope = Envelope::from_bytes(&body)?;
    let computed = hex::encode(commitment(&salt.try_into().expect("32-byte salt"), &canonicalize(&envelope.payload)?));
    let leaves = stack.leaves().await?;
    let leaf = leaves.iter().find(|leaf| leaf["event_id"] == envelope.event_id.to_string()).expect("the submission is on the ledger");
    Ok(Some(leaf["commitment"] == computed.as_str()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_shreds_every_services_salts_and_the_ledger_still_verifies() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let claim_ids = stack.submit_ok(&bundle(vec![sample_claim("ERASE-1"), sample_claim("ERASE-2")])).await?;
    stack.wait_settled(2, Duration::from_secs(120)).await?;
    for claim_id in &claim_ids {
        assert_eq!(opens(&stack, claim_id).await?, Some(true), "the commitment opens before the erasure");
    }
    let erasures = format!("{}/v1/erasures", stack.url("intake"));
    let request = json!({"payer_id": PAYER_ID, "member_id": "MBR-0001", "reason": "member request 2026-118"});

    // Only an admin may, and a bad request names its field.
    let response = stack.client.post(&erasures).bearer_auth(&stack.api_key).json(&request).send().await?;
    assert_eq!(response.status(), 403);
    let response =
        stack.client.post(&erasures).bearer_auth(&stack.admin_key).json(&json!({"payer_id": PAYER_ID, "member_id": "", "reason": "x"})).send().await?;
    assert_eq!(response.status(), 400);
    assert!(response.text().await?.contains("member_id"));

    let response = stack.client.post(&erasures).bearer_auth(&stack.admin_key).json(&request).send().await?;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await?;
    assert_eq!(answer["claims"], 2, "{answer}");
    assert!(answer["salts_deleted"].as_u64().unwrap() >= 3, "two submissions and the enrollment: {answer}");

    // Intake at once; adjudication and settlement when claims.erased.v1 reaches them.
    for claim_id in &claim_ids {
        assert_eq!(opens(&stack, claim_id).await?, None, "no salt: the commitment cannot be opened");
        let (rows, salted, marked) = outbox_rows(&stack, "intake", claim_id).await?;
        assert_eq!((salted, marked), (0, rows), "intake {claim_id}");
        let response = stack.client.get(format!("{}/v1/claims/{claim_id}", stack.url("intake"))).bearer_auth(&stack.api_key).send().await?;
        assert_eq!(response.status(), 410);
    }
    wait_until(Duration::from_secs(60), || async {
        for claim_id in &claim_ids {
            for service in ["adjudication", "settlement"] {
                let (rows, salted, marked) = outbox_rows(&stack, service, claim_id).await?;
                if rows == 0 || salted > 0 || marked < rows {
                    return Ok((false, format!("{service} {claim_id}: {rows} rows, {salted} with a salt, {marked} erased")));
                }
            }
        }
        Ok((true, String::new()))
    })
    .await?;
    let stored_claims =
        stack.scalar(&format!("SELECT COUNT(*) FROM {} WHERE claim IS NOT NULL OR member_id IS NOT NULL", stack.table("intake", "claims"))).await?;
    assert_eq!(stored_claims, 0, "no submitted claim or member id left in intake");
    assert_eq!(stack.count("intake", "members").await?, 0, "the enrollment is gone");

    // The member is unknown now; a second erasure takes the rejected submission that named them again.
    let response = stack.submit(&sample_claim("ERASE-3")).await?;
    let answer: Value = response.json().await?;
    assert_eq!(answer["outcomes"][0]["status"], "rejected", "{answer}");
    let answer: Value = stack.client.post(&erasures).bearer_auth(&stack.admin_key).json(&request).send().await?.json().await?;
    assert_eq!(answer["claims"], 1, "{answer}");

    // The ledger never needed a salt: it verifies, with the erasures on it.
    wait_until(Duration::from_secs(60), || async {
        let erasures = stack.leaves().await?.iter().filter(|leaf| leaf["event_type"] == "claims.erased.v1").count();
        let (checkpoint, ledger) = (stack.checkpoint_size().await?, stack.ledger_size().await?);
        Ok((erasures == 2 && checkpoint == ledger, format!("{erasures} erasures on the ledger, checkpoint {checkpoint} of {ledger}")))
    })
    .await?;
    let (ok, text) = stack.verify(&[]).await?;
    assert!(ok, "{text}");
    stack.cleanup().await
}
