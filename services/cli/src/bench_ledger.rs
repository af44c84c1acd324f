//! `claimtrail bench --ledger`: the audit ledger's own rates, beside the raw
//! rates of what it is built from, measured in one run:
//!
//! - raw SHA3-256 over leaf-sized input (one core);
//! - verify: `libs/ledger`'s `Verifier` over signed leaves in runs of
//!   4,096, as `claimtrail verify` pushes them (leaf decode, leaf
//!   hash, chain, Merkle frontier, the checkpoint, and each producer batch's
//!   inclusion path and signature; one batch of 100 events per signature),
//!   as `claimtrail verify` runs it, without IO;
//! - with `--database-url`: the raw Postgres rates of the ledger's row
//!   (multi-row INSERT in 500-row statements, and binary COPY through
//!   tokio-postgres) into a scratch table, and the anchor's own append path
//!   (`claimtrail_anchor::storage::copy`): the writer lock, the check for events
//!   already appended, the tail read, leaf hash and chain per entry, and the
//!   binary COPY into a ledger table, per transaction of `--ledger-batch`
//!   entries.
//!
//! Leaves are prepared before any clock starts.

use std::time::Instant;

use anyhow::Context as _;
use claimtrail_ledger::batch;
use claimtrail_ledger::hash::{CHAIN_SEED, Hash, chain_next, leaf_hash};
use claimtrail_ledger::leaf::{LeafBatch, LeafRecord};
use claimtrail_ledger::merkle::Frontier;
use claimtrail_ledger::note::{Checkpoint, SignerKey};
use claimtrail_ledger::verify::Verifier;

use crate::storage;
use sea_orm::TransactionTrait;

/// Events per producer batch in the generated leaves (one signature each).
const EVENTS_PER_BATCH: usize = 100;

pub(crate) struct Prepared {
    leaves: Vec<Vec<u8>>,
    event_ids: Vec<uuid::Uuid>,
    checkpoint_note: String,
    log_key: SignerKey,
    producer_key: SignerKey,
}

pub(crate) fn prepare(entries: usize) -> anyhow::Result<Prepared> {
    let log_key = SignerKey::generate("bench.claimtrail/ledger")?;
    let producer_key = SignerKey::generate("intake-producer")?;
    let key_label = batch::key_label(producer_key.name(), producer_key.key_id());
    let mut leaves = Vec::with_capacity(entries);
    let mut event_ids = Vec::with_capacity(entries);
    let mut frontier = Frontier::new();
    let mut index = 0u64;
    while (index as usize) < entries {
        let n = EVENTS_PER_BATCH.min(entries - index as usize);
        let ids: Vec<uuid::Uuid> = (0..n).map(|_| uuid::Uuid::now_v7()).collect();
        // Stand-ins for canonical envelopes of about 600 bytes each.
        let envelopes: Vec<Vec<u8>> = ids.iter().map(|id| format!("{{\"event_id\":\"{id}\",\"pad\":\"{}\"}}", "x".repeat(560)).into_bytes()).collect();
        let hashes: Vec<Hash> = envelopes.iter().map(|e| batch::event_hash(e)).collect();
        let proofs = batch::sign(&producer_key, "intake", &uuid::Uuid::now_v7().to_string(), &hashes);
        for ((id, hash), proof) in ids.iter().zip(&hashes).zip(&proofs) {
            let record = LeafRecord {
                index,
                event_id: id.to_string(),
                event_type: claimtrail_events::ClaimSubmitted::EVENT_TYPE.into(),
                producer: format!("intake/{key_label}"),
                occurred_at: "2026-11-25T04:00:00.000000Z".into(),
                commitment: hex::encode(leaf_hash(id.as_bytes())),
                batch: Some(LeafBatch::new(hash, proof)),
                verified: Some(true),
            };
            let bytes = record.to_bytes();
            frontier.push(leaf_hash(&bytes));
            leaves.push(bytes);
            event_ids.push(*id);
            index += 1;
        }
    }
    let checkpoint_note =
        Checkpoint { origin: log_key.name().to_owned(), size: frontier.size(), root: frontier.root(), extensions: vec![] }.sign(&[&log_key])?;
    Ok(Prepared { leaves, event_ids, checkpoint_note, log_key, producer_key })
}

fn rate(n: usize, started: Instant) -> f64 {
    n as f64 / started.elapsed().as_secs_f64().max(1e-9)
}

pub async fn run(entries: usize, database_url: Option<&str>, batch_size: usize) -> anyhow::Result<()> {
    anyhow::ensure!(entries > 0 && batch_size > 0, "--ledger-entries and --ledger-batch must be positive");
    eprintln!("preparing {entries} signed leaves ({EVENTS_PER_BATCH} events per producer batch)");
    let prepared = prepare(entries)?;
    let leaf_bytes: usize = prepared.leaves.iter().map(Vec::len).sum();
    println!("leaves: {entries}, {:.0} bytes each on average", leaf_bytes as f64 / entries as f64);

    let started = Instant::now();
    for leaf in &prepared.leaves {
        std::hint::black_box(leaf_hash(std::hint::black_box(leaf)));
    }
    let sha3 = rate(entries, started);
    println!("raw SHA3-256 over the leaves, one core: {sha3:.0} hashes/s ({:.1} MB/s)", sha3 * leaf_bytes as f64 / entries as f64 / 1e6);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for part in prepared.leaves.chunks(entries.div_ceil(cores)) {
            scope.spawn(move || {
                for leaf in part {
                    std::hint::black_box(leaf_hash(std::hint::black_box(leaf)));
                }
            });
        }
    });
    println!("raw SHA3-256 over the leaves, {cores} cores: {:.0} hashes/s", rate(entries, started));

    for (label, with_producers) in
        [("verify, log key only (chain, tree, checkpoint)", false), ("verify with producer keys (also paths and batch signatures)", true)]
    {
        let mut verifier = Verifier::new(vec![prepared.log_key.verifier()]);
        if with_producers {
            verifier = verifier.with_producer_keys(vec![("intake".to_owned(), prepared.producer_key.verifier())]);
        }
        verifier.push_checkpoint(&prepared.checkpoint_note).map_err(|f| anyhow::anyhow!("{}", f.reason))?;
        // Runs as `claimtrail verify` pushes them (leaves decoded and hashed on every core).
        let runs: Vec<Vec<claimtrail_ledger::verify::EntryBytes>> = prepared
            .leaves
            .chunks(claimtrail_ledger::verify::ENTRIES_PER_RUN)
            .enumerate()
            .map(|(run_idx, run)| {
                run.iter()
                    .enumerate()
                    .map(|(offset, leaf)| ((run_idx * claimtrail_ledger::verify::ENTRIES_PER_RUN + offset) as u64, leaf.clone(), None))
                    .collect()
            })
            .collect();
        let started = Instant::now();
        for run in &runs {
            verifier.push_entries(run).map_err(|f| anyhow::anyhow!("{}", f.reason))?;
        }
        let report = verifier.finish().map_err(|f| anyhow::anyhow!("{}", f.reason))?;
        anyhow::ensure!(report.checkpoints_verified == 1, "the checkpoint did not verify");
        println!("{label}, {cores} cores: {:.0} entries/s", rate(entries, started));
    }

    let Some(database_url) = database_url else {
        println!("(no --database-url: the Postgres rates are skipped)");
        return Ok(());
    };
    postgres_rates(&prepared, database_url, batch_size).await.map(|_| ())
}

/// The raw Postgres rates (rows/s), each printed as measured with the anchor's append path beside them.
pub(crate) struct PostgresRates {
    pub insert: f64,
    pub copy: f64,
}

pub(crate) async fn postgres_rates(prepared: &Prepared, database_url: &str, batch_size: usize) -> anyhow::Result<PostgresRates> {
    let entries = prepared.leaves.len();
    let schema = format!("benchledger{}", &uuid::Uuid::now_v7().simple().to_string()[24..]);
    let db = sea_orm::Database::connect(database_url).await.context("connecting to Postgres")?;
    storage::create_bench_ledger_schema(&db, &schema).await?;
    let result = async {
        // Hashes and chain for the raw rates, computed before the clock.
        let mut chain = CHAIN_SEED;
        let rows: Vec<(i64, uuid::Uuid, &Vec<u8>, Hash, Hash)> = prepared
            .leaves
            .iter()
            .zip(&prepared.event_ids)
            .enumerate()
            .map(|(idx, (leaf, id))| {
                let hash = leaf_hash(leaf);
                chain = chain_next(&chain, &hash);
                (idx as i64, *id, leaf, hash, chain)
            })
            .collect();

        let started = Instant::now();
        for transaction in rows.chunks(batch_size) {
            let tx = db.begin().await?;
            storage::insert_ledger_rows(&tx, &format!("{schema}.raw_insert"), transaction).await?;
            tx.commit().await?;
        }
        let insert = rate(entries, started);
        println!("raw Postgres multi-row INSERT (500 rows a statement, {batch_size} a transaction): {insert:.0} rows/s");

        let (client, connection) = tokio_postgres::connect(database_url, tokio_postgres::NoTls).await.context("connecting tokio-postgres")?;
        tokio::spawn(connection);
        let started = Instant::now();
        for transaction in rows.chunks(batch_size) {
            storage::copy_ledger_rows(&client, &format!("{schema}.raw_copy"), transaction).await?;
        }
        let copy = rate(entries, started);
        println!("raw Postgres binary COPY ({batch_size} rows a transaction): {copy:.0} rows/s");

        // The anchor's append path on Postgres (claimtrail_anchor::storage::copy): lock, the
        // events already present, tail, leaf hash and chain, binary COPY; one
        // transaction per batch.
        let writer = claimtrail_anchor::storage::copy::CopyWriter::new(database_url, &format!("{schema}.ledger"));
        let started = Instant::now();
        let mut next = 0usize;
        for transaction in prepared.leaves.chunks(batch_size) {
            let ids = &prepared.event_ids[next..next + transaction.len()];
            let size = writer
                .append(ids, |present, index, mut chain| {
                    let unexpected = (!present.is_empty() || index != next as u64).then(|| anyhow::anyhow!("the bench ledger is not where it was left"));
                    unexpected.into_iter().map(Err).chain(transaction.iter().zip(ids).enumerate().map(move |(offset, (leaf, id))| {
                        let leaf_hash = leaf_hash(leaf);
                        chain = chain_next(&chain, &leaf_hash);
                        Ok(claimtrail_anchor::domain::Entry { index: (next + offset) as i64, event_id: *id, leaf: leaf.clone(), leaf_hash, chain })
                    }))
                })
                .await?;
            next += transaction.len();
            anyhow::ensure!(size == next as u64, "the append reported size {size}, expected {next}");
        }
        let append = rate(entries, started);
        println!("ledger append path (lock, tail, hash and chain streamed into binary COPY; {batch_size} entries a transaction): {append:.0} entries/s");
        Ok::<PostgresRates, anyhow::Error>(PostgresRates { insert, copy })
    }
    .await;
    storage::drop_schema(&db, &schema).await?;
    result
}
