//! Redelivery has one effect; a poison message goes to the dead-letter
//! subject without holding up the others.

use std::time::Duration;

use claimtrail_e2e::{Stack, nats_url, sample_claim, wait_until};
use futures::StreamExt as _;
use sea_orm::ConnectionTrait as _;

#[tokio::test(flavor = "multi_thread")]
async fn the_same_message_delivered_twice_gives_one_journal_entry_and_one_ledger_entry() -> anyhow::Result<()> {
    let stack = Stack::start(&[]).await?;
    let claim_id = stack.submit_ok(&sample_claim("PCN-R-1")).await?.remove(0);
    stack.wait_settled(1, Duration::from_secs(60)).await?;

    // The adjudication event as published (its canonical bytes from the producer's outbox).
    let row = stack
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!("SELECT event_id::text, body FROM {} WHERE event_type = 'claim.adjudicated.v1'", stack.table("adjudication", "outbox")),
        ))
        .await?
        .expect("adjudication event");
    let event_id: String = row.try_get_by_index(0)?;
    let body: Vec<u8> = row.try_get_by_index(1)?;

    // Deliver it twice more, under new message ids so that JetStream's dedupe window does not hide them.
    let client = async_nats::connect(nats_url()).await?;
    let jetstream = async_nats::jetstream::new(client);
    let subject = format!("{}.claims.claim.adjudicated.v1", stack.prefix);
    for attempt in 0..2 {
        let publish = async_nats::jetstream::message::PublishMessage::build().payload(body.clone().into()).message_id(format!("replay-{attempt}-{event_id}"));
        jetstream.send_publish(subject.clone(), publish).await?.await?;
    }

    // Both consumers have seen the replays once they are idle and their inbox holds the id.
    wait_until(Duration::from_secs(30), || async {
        let pending = consumer_pending(&jetstream, &stack.prefix, "settlement").await? + consumer_pending(&jetstream, &stack.prefix, "anchor").await?;
        Ok((pending == 0, format!("{pending} messages pending")))
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let journal = stack.scalar(&format!("SELECT COUNT(*) FROM {} WHERE claim_id = '{claim_id}'", stack.table("settlement", "journal_entries"))).await?;
    assert_eq!(journal, 1);
    let ledger = stack.scalar(&format!("SELECT COUNT(*) FROM {} WHERE event_id = '{event_id}'", stack.table("anchor", "ledger"))).await?;
    assert_eq!(ledger, 1);
    assert_eq!(stack.ledger_size().await?, stack.baseline_events + 3);
    let duplicates = stack.client.get(format!("{}/metrics", stack.url("settlement"))).send().await?.text().await?;
    assert!(duplicates.contains("claimtrail_messages_duplicate_total"), "{duplicates}");

    stack.cleanup().await
}

async fn consumer_pending(jetstream: &async_nats::jetstream::Context, prefix: &str, service: &str) -> anyhow::Result<u64> {
    let mut consumer: async_nats::jetstream::consumer::PullConsumer =
        jetstream.get_consumer_from_stream(format!("{prefix}_{service}_claims"), format!("{}_CLAIMS", prefix.to_uppercase())).await?;
    let info = consumer.info().await?;
    Ok(info.num_pending + info.num_ack_pending as u64)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poison_message_ends_in_the_dead_letter_subject_without_holding_up_the_others() -> anyhow::Result<()> {
    let stack = Stack::start(&[("CLAIMTRAIL_DELIVERIES_MAX", "3")]).await?;
    let client = async_nats::connect(nats_url()).await?;
    let jetstream = async_nats::jetstream::new(client);

    // Poison first, then good claims behind it. Without a partition token the poison belongs
    // to partition 0, where adjudication's consumer of that partition reads it.
    let subject = format!("{}.claims.p0.claim.submitted.v1", stack.prefix);
    jetstream.send_publish(subject, async_nats::jetstream::message::PublishMessage::build().payload("{\"not\": \"an envelope\"}".into())).await?.await?;
    let mut claim_ids = Vec::new();
    for n in 0..5 {
        claim_ids.extend(stack.submit_ok(&sample_claim(&format!("PCN-P-{n}"))).await?);
    }
    stack.wait_settled(5, Duration::from_secs(60)).await?;
    for claim_id in &claim_ids {
        assert_eq!(stack.claim_status(claim_id).await?["status"], "adjudicated");
    }

    // The services that read claim.submitted.v1 dead-letter it: adjudication, the anchor, which
    // reads every event, and settlement, which keeps each claim's CLM01 and member for the 835.
    // Intake's status projection acts on other types of the family and acknowledges it unread.
    let dead_letters = format!("{}_DEADLETTER", stack.prefix.to_uppercase());
    wait_until(Duration::from_secs(30), || async {
        let mut stream = jetstream.get_stream(&dead_letters).await?;
        let n = stream.info().await?.state.messages;
        Ok((n == 3, format!("{n} dead letters")))
    })
    .await?;
    let consumer = jetstream.get_stream(&dead_letters).await?.create_consumer(async_nats::jetstream::consumer::pull::Config { ..Default::default() }).await?;
    let mut messages = consumer.fetch().max_messages(3).messages().await?;
    let mut subjects = Vec::new();
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| anyhow::anyhow!(e))?;
        let headers = message.headers.clone().expect("headers");
        assert!(headers.get("Claimtrail-Reason").is_some_and(|r| r.as_str().contains("envelope")), "{headers:?}");
        assert_eq!(message.payload.as_ref(), b"{\"not\": \"an envelope\"}");
        subjects.push(message.subject.to_string());
    }
    subjects.sort();
    assert_eq!(
        subjects,
        [format!("{}.deadletter.adjudication", stack.prefix), format!("{}.deadletter.anchor", stack.prefix), format!("{}.deadletter.settlement", stack.prefix)]
    );
    let metrics = stack.client.get(format!("{}/metrics", stack.url("adjudication"))).send().await?.text().await?;
    assert!(metrics.contains("claimtrail_dead_letters_total"), "{metrics}");

    stack.cleanup().await
}
