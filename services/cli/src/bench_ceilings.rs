//! The raw ceilings `bench --topology deployed` measures in the same run,
//! before its load, on the same Postgres and NATS server as the services:
//!
//! - JetStream publish-with-ack of 1 KB messages into a file-stored scratch
//!   stream, async, [`ACKS_IN_FLIGHT`] acks awaited per batch;
//! - Postgres multi-row INSERT and binary COPY of ledger-sized rows
//!   (`bench_ledger::postgres_rates`, 5,000 rows a transaction: the best
//!   batching, so the ceiling is generous);
//! - SHA3-256 over 1 KB and Ed25519 sign and verify, on every core.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;

use crate::bench_report::Ceilings;

/// Messages published for the JetStream ceiling.
const JETSTREAM_MESSAGES: usize = 20_000;
/// Acks in flight per publishing batch.
pub const ACKS_IN_FLIGHT: usize = 256;
/// Rows written for each Postgres ceiling.
const POSTGRES_ROWS: usize = 20_000;
/// How long each CPU ceiling runs.
const CPU_WINDOW: Duration = Duration::from_millis(700);

pub async fn measure(database_url: &str, nats_url: &str, prefix: &str) -> anyhow::Result<Ceilings> {
    let jetstream_publish = jetstream_publish(nats_url, prefix).await.context("measuring the JetStream ceiling")?;
    println!("ceiling: JetStream publish-with-ack, 1 KB, {ACKS_IN_FLIGHT} acks in flight: {jetstream_publish:.0} msgs/s");
    let prepared = crate::bench_ledger::prepare(POSTGRES_ROWS)?;
    let postgres = crate::bench_ledger::postgres_rates(&prepared, database_url, 5_000).await.context("measuring the Postgres ceilings")?;
    drop(prepared);
    let (sha3_256, ed25519_sign, ed25519_verify) = tokio::task::spawn_blocking(cpu_ceilings).await?;
    let cores = cores();
    println!("ceiling: SHA3-256 over 1 KB, {cores} cores: {sha3_256:.0} hashes/s");
    println!("ceiling: Ed25519, {cores} cores: {ed25519_sign:.0} signatures/s, {ed25519_verify:.0} verifications/s");
    Ok(Ceilings { jetstream_publish, postgres_insert_rows: postgres.insert, postgres_copy_rows: postgres.copy, sha3_256, ed25519_sign, ed25519_verify })
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Publishes into a scratch stream of the bench's prefix and deletes it.
async fn jetstream_publish(nats_url: &str, prefix: &str) -> anyhow::Result<f64> {
    let client = async_nats::connect(nats_url).await?;
    let context = async_nats::jetstream::new(client);
    let name = format!("{}_BENCHCEILING", prefix.to_ascii_uppercase());
    let subject = format!("{prefix}.benchceiling");
    context
        .create_stream(async_nats::jetstream::stream::Config {
            name: name.clone(),
            subjects: vec![subject.clone()],
            storage: async_nats::jetstream::stream::StorageType::File,
            ..Default::default()
        })
        .await?;
    let payload = Bytes::from(vec![b'x'; 1024]);
    let result = async {
        let started = Instant::now();
        let mut sent = 0;
        while sent < JETSTREAM_MESSAGES {
            let n = ACKS_IN_FLIGHT.min(JETSTREAM_MESSAGES - sent);
            let mut acks = Vec::with_capacity(n);
            for _ in 0..n {
                acks.push(context.publish(subject.clone(), payload.clone()).await?);
            }
            for ack in acks {
                ack.await?;
            }
            sent += n;
        }
        Ok::<f64, anyhow::Error>(JETSTREAM_MESSAGES as f64 / started.elapsed().as_secs_f64())
    }
    .await;
    let _ = context.delete_stream(&name).await;
    result
}

/// SHA3-256 hashes, Ed25519 signatures and verifications per second, on every core.
fn cpu_ceilings() -> (f64, f64, f64) {
    use ed25519_dalek::{Signer as _, SigningKey, Verifier as _};
    let cores = cores();
    let on_every_core = |work: &(dyn Fn() -> u64 + Sync)| -> f64 {
        let started = Instant::now();
        let total: u64 = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..cores).map(|_| scope.spawn(work)).collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
        });
        total as f64 / started.elapsed().as_secs_f64()
    };
    let input = vec![0x5au8; 1024];
    let sha3 = on_every_core(&|| {
        let started = Instant::now();
        let mut n = 0;
        while started.elapsed() < CPU_WINDOW {
            for _ in 0..256 {
                std::hint::black_box(claimtrail_ledger::hash::leaf_hash(std::hint::black_box(&input)));
            }
            n += 256;
        }
        n
    });
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let message = [0x42u8; 32];
    let sign = on_every_core(&|| {
        let started = Instant::now();
        let mut n = 0;
        while started.elapsed() < CPU_WINDOW {
            std::hint::black_box(key.sign(std::hint::black_box(&message)));
            n += 1;
        }
        n
    });
    let signature = key.sign(&message);
    let verifying = key.verifying_key();
    let verify = on_every_core(&|| {
        let started = Instant::now();
        let mut n = 0;
        while started.elapsed() < CPU_WINDOW {
            std::hint::black_box(verifying.verify(std::hint::black_box(&message), &signature).is_ok());
            n += 1;
        }
        n
    });
    (sha3, sign, verify)
}
