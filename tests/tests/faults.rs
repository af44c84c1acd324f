//! Infrastructure faults (issue 22): the servers under Claimtrail fail
//! mid-run, on servers each test starts for itself on loopback ports
//! (tests/src/servers.rs); afterwards every claim is decided once and booked
//! once, and the ledger verifies.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use sea_orm::ConnectionTrait as _;

use claimtrail_e2e::servers::{Nats, Postgres, SmallFilesystem};
use claimtrail_e2e::{BUNDLE_CLAIMS, Embedded, Stack, claims_bundle, database_url, metric, wait_until};

/// `/readyz` of `service`: (status, body).
async fn readyz(stack: &Stack, service: &str) -> anyhow::Result<(u16, String)> {
    let response = stack.client.get(format!("{}/readyz", stack.url(service))).timeout(Duration::from_secs(10)).send().await?;
    Ok((response.status().as_u16(), response.text().await?))
}

/// Waits until every service's /readyz answers 503 with `reason` in its body.
async fn wait_not_ready(stack: &Stack, reason: &str, timeout: Duration) -> anyhow::Result<()> {
    for service in claimtrail_e2e::SERVICES {
        wait_until(timeout, || async {
            let (status, body) = readyz(stack, service).await?;
            Ok((status == 503 && body.contains(reason), format!("{service} /readyz answered {status}: {}", body.trim())))
        })
        .await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nats_restart_mid_run_loses_and_doubles_nothing() -> anyhow::Result<()> {
    let started = Instant::now();
    let mut nats = Nats::single()?;
    let stack = Stack::start_on(&database_url(), &nats.url(), &[("CLAIMTRAIL_ACK_WAIT_SECONDS", "5")]).await?;
    let n_bundles = 20;
    for bundle_idx in 0..n_bundles {
        if bundle_idx == 8 {
            // kill -9 mid-flight: relays and consumers lose their connection at once.
            nats.nodes[0].kill();
            wait_not_ready(&stack, "bus disconnected", Duration::from_secs(20)).await?;
        }
        if bundle_idx == 12 {
            nats.nodes[0].start()?;
        }
        // Intake takes claims while the bus is gone: they wait in its outbox.
        stack.submit_ok(&claims_bundle("N", bundle_idx)).await?;
    }
    let n_claims = (n_bundles * BUNDLE_CLAIMS) as i64;
    stack.wait_settled(n_claims, Duration::from_secs(240)).await?;
    stack.assert_exactly_once(n_claims).await?;
    for service in claimtrail_e2e::SERVICES {
        assert_eq!(readyz(&stack, service).await?.0, 200, "{service} is not ready after the restart");
    }
    println!("NATS restart run: {:?}", started.elapsed());
    stack.cleanup().await
}

/// Client connections of the test cluster, but for the one running this query.
async fn client_connections(stack: &Stack) -> anyhow::Result<i64> {
    stack.scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()").await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postgres_restart_mid_run_answers_503_meanwhile_and_loses_and_doubles_nothing() -> anyhow::Result<()> {
    let started = Instant::now();
    let mut postgres = Postgres::start()?;
    let mut stack = Stack::start_on(&postgres.url(), &claimtrail_e2e::nats_url(), &[("CLAIMTRAIL_ACK_WAIT_SECONDS", "5")]).await?;
    let n_bundles = 20;
    for bundle_idx in 0..8 {
        stack.submit_ok(&claims_bundle("P", bundle_idx)).await?;
    }
    postgres.stop()?;
    let down = Instant::now();

    // Requests are refused promptly, with a hint of when to come back.
    let refused = tokio::time::timeout(Duration::from_secs(20), stack.submit(&claims_bundle("P-refused", 0))).await??;
    assert_eq!(refused.status(), 503, "submission while the database is down: {}", refused.text().await?);
    let retry_after = refused.headers().get("retry-after").and_then(|value| value.to_str().ok()).and_then(|value| value.parse::<u64>().ok());
    assert!(retry_after.is_some_and(|seconds| (1..=60).contains(&seconds)), "Retry-After: {retry_after:?}");
    let body: serde_json::Value = refused.json().await?;
    assert!(body["detail"].as_str().is_some_and(|detail| detail.contains("database")), "{body}");
    wait_not_ready(&stack, "database unreachable", Duration::from_secs(20)).await?;

    // Ten seconds without a database: nobody exits.
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(down.elapsed())).await;
    for service in claimtrail_e2e::SERVICES {
        let process = stack.processes.get_mut(service).expect("started");
        assert!(process.child.try_wait()?.is_none(), "{service} exited while the database was down");
    }
    postgres.start_server()?;
    for service in claimtrail_e2e::SERVICES {
        wait_until(Duration::from_secs(30), || async {
            let (status, body) = readyz(&stack, service).await?;
            Ok((status == 200, format!("{service} /readyz answered {status}: {}", body.trim())))
        })
        .await?;
    }
    for bundle_idx in 8..n_bundles {
        stack.submit_ok(&claims_bundle("P", bundle_idx)).await?;
    }
    let n_claims = (n_bundles * BUNDLE_CLAIMS) as i64;
    stack.wait_settled(n_claims, Duration::from_secs(240)).await?;
    stack.assert_exactly_once(n_claims).await?;

    // The pools came back no larger than they are allowed to be: 4 services x the pool maximum.
    let connections = client_connections(&stack).await?;
    assert!(connections <= 4 * 8 + 4, "{connections} client connections after the restart");
    println!("Postgres restart run: {:?}, {connections} client connections afterwards", started.elapsed());
    stack.cleanup().await
}

/// The claims stream's cluster state, asked of the running nodes.
async fn claims_cluster(nats: &Nats, prefix: &str) -> anyhow::Result<async_nats::jetstream::stream::ClusterInfo> {
    let servers: Vec<String> = nats.nodes.iter().filter(|node| node.process.is_some()).map(|node| node.url()).collect();
    let client = async_nats::ConnectOptions::new().connection_timeout(Duration::from_secs(5)).connect(servers).await?;
    let jetstream = async_nats::jetstream::new(client);
    let mut stream = jetstream.get_stream(format!("{}_CLAIMS", prefix.to_uppercase())).await?;
    let info = tokio::time::timeout(Duration::from_secs(10), stream.info()).await??;
    info.cluster.clone().ok_or_else(|| anyhow::anyhow!("the claims stream is not clustered"))
}

/// The server name of the claims stream's leader (`n1`, `n2`, `n3`).
async fn claims_leader(nats: &Nats, prefix: &str) -> anyhow::Result<String> {
    claims_cluster(nats, prefix).await?.leader.ok_or_else(|| anyhow::anyhow!("the claims stream has no leader"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jetstream_cluster_survives_its_leader_killed_and_holds_events_in_the_outbox_without_quorum() -> anyhow::Result<()> {
    let started = Instant::now();
    let mut nats = Nats::start(3)?;
    nats.wait_jetstream(Duration::from_secs(60)).await?;
    let env = [("CLAIMTRAIL_ACK_WAIT_SECONDS", "5"), ("CLAIMTRAIL_STREAM_REPLICAS", "3")];
    let stack = Stack::start_on(&database_url(), &nats.url(), &env).await?;
    let n_bundles = 20;
    let mut submitted = 0;
    for bundle_idx in 0..6 {
        stack.submit_ok(&claims_bundle("C", bundle_idx)).await?;
        submitted += 1;
    }
    // kill -9 the claims stream's leader mid-run; the other two elect another and go on.
    let leader = claims_leader(&nats, &stack.prefix).await?;
    nats.node(&leader)?.kill();
    for bundle_idx in 6..10 {
        stack.submit_ok(&claims_bundle("C", bundle_idx)).await?;
        submitted += 1;
    }
    stack.wait_settled(submitted * BUNDLE_CLAIMS as i64, Duration::from_secs(120)).await?;
    nats.node(&leader)?.start()?;
    // The restarted node catches up: a current replica again, with no lag.
    wait_until(Duration::from_secs(60), || async {
        let cluster = claims_cluster(&nats, &stack.prefix).await?;
        let caught_up = cluster.replicas.iter().any(|peer| peer.name == leader && peer.current && !peer.offline && peer.lag.unwrap_or(0) == 0);
        Ok((caught_up, format!("claims stream replicas: {:?}", cluster.replicas.iter().map(|p| (&p.name, p.current, p.offline, p.lag)).collect::<Vec<_>>())))
    })
    .await?;

    // Two nodes down: no quorum. Intake still takes claims; they wait in its outbox.
    let others: Vec<String> = nats.nodes.iter().map(|node| node.name.clone()).filter(|name| *name != leader).collect();
    nats.node(&others[0])?.kill();
    nats.node(&others[1])?.kill();
    for bundle_idx in 10..14 {
        stack.submit_ok(&claims_bundle("C", bundle_idx)).await?;
        submitted += 1;
    }
    wait_until(Duration::from_secs(30), || async {
        let (status, body) = readyz(&stack, "intake").await?;
        Ok((
            status == 503 && (body.contains("outbox relay cannot publish") || body.contains("bus disconnected")),
            format!("intake /readyz answered {status}: {}", body.trim()),
        ))
    })
    .await?;
    let unpublished = stack.scalar(&format!("SELECT COUNT(*) FROM {} WHERE published_at IS NULL", stack.table("intake", "outbox"))).await?;
    assert!(unpublished >= 4 * BUNDLE_CLAIMS as i64, "{unpublished} events held in intake's outbox");

    nats.node(&others[0])?.start()?;
    nats.node(&others[1])?.start()?;
    for bundle_idx in 14..n_bundles {
        stack.submit_ok(&claims_bundle("C", bundle_idx)).await?;
        submitted += 1;
    }
    let n_claims = submitted * BUNDLE_CLAIMS as i64;
    stack.wait_settled(n_claims, Duration::from_secs(240)).await?;
    stack.assert_exactly_once(n_claims).await?;
    println!("JetStream cluster run: {:?}", started.elapsed());
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_nats_server_delays_acks_within_bounds_and_the_backlog_drains_once() -> anyhow::Result<()> {
    let started = Instant::now();
    let nats = Nats::single()?;
    let stack = Stack::start_on(&database_url(), &nats.url(), &[("CLAIMTRAIL_ACK_WAIT_SECONDS", "5")]).await?;
    let n_bundles = 20;
    for bundle_idx in 0..n_bundles {
        if bundle_idx == 8 {
            // SIGSTOP: connections stay open, nothing is acknowledged.
            nats.nodes[0].pause()?;
        }
        if bundle_idx == 12 {
            // /readyz says why: the relay's publishes wait for acknowledgements that do not come.
            wait_until(Duration::from_secs(15), || async {
                let (status, body) = readyz(&stack, "intake").await?;
                Ok((
                    status == 503 && (body.contains("outbox relay waiting") || body.contains("bus disconnected")),
                    format!("intake /readyz answered {status}: {}", body.trim()),
                ))
            })
            .await?;
            tokio::time::sleep(Duration::from_secs(3)).await;
            nats.nodes[0].resume()?;
        }
        // Intake does not wait on the bus: a submission is answered within bounds while acks are held.
        let submitted = Instant::now();
        tokio::time::timeout(Duration::from_secs(15), stack.submit_ok(&claims_bundle("S", bundle_idx))).await??;
        assert!(submitted.elapsed() < Duration::from_secs(15), "bundle {bundle_idx} took {:?}", submitted.elapsed());
    }
    let n_claims = (n_bundles * BUNDLE_CLAIMS) as i64;
    stack.wait_settled(n_claims, Duration::from_secs(240)).await?;
    stack.assert_exactly_once(n_claims).await?;
    for service in claimtrail_e2e::SERVICES {
        assert_eq!(readyz(&stack, service).await?.0, 200, "{service} is not ready after the pause");
    }
    println!("paused NATS run: {:?}", started.elapsed());
    stack.cleanup().await
}

/// The ledger entry at `idx`: (event id, chain value), both as text.
async fn ledger_entry(stack: &Stack, idx: i64) -> anyhow::Result<(String, String)> {
    let sql = format!("SELECT event_id::text, encode(chain, 'hex') FROM {} WHERE idx = {idx}", stack.table("anchor", "ledger"));
    let row = stack.db.query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)).await?.context("no such ledger entry")?;
    Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postgres_failover_mid_run_moves_every_service_and_the_ledger_writer_to_the_promoted_replica() -> anyhow::Result<()> {
    let started = Instant::now();
    let mut primary = Postgres::start()?;
    let replica = primary.replica()?;
    // Commits wait for the standby: a failover loses nothing that was acknowledged.
    primary.require_synchronous_standby()?;
    let url = format!("postgres://postgres@127.0.0.1:{},127.0.0.1:{}/postgres?target_session_attrs=read-write", primary.port, replica.port);
    let mut stack = Stack::start_on(&url, &claimtrail_e2e::nats_url(), &[("CLAIMTRAIL_ACK_WAIT_SECONDS", "5")]).await?;
    println!("primary, replica and stack up {:?}", started.elapsed());
    let n_bundles = 20;
    for bundle_idx in 0..8 {
        stack.submit_ok(&claims_bundle("F", bundle_idx)).await?;
    }
    println!("800 claims submitted {:?}", started.elapsed());
    // Mid-run: adjudication, settlement and the anchor are still working through the backlog.
    let ledger_before = stack.ledger_size().await?;
    anyhow::ensure!(ledger_before > 0, "nothing on the ledger before the failover");
    let last_before = ledger_entry(&stack, ledger_before - 1).await?;
    primary.kill();
    let down = Instant::now();

    // No primary: requests are refused promptly with Retry-After, and /readyz says why.
    let refused = tokio::time::timeout(Duration::from_secs(20), stack.submit(&claims_bundle("F-refused", 0))).await??;
    assert_eq!(refused.status(), 503, "submission without a primary: {}", refused.text().await?);
    assert!(refused.headers().get("retry-after").is_some(), "no Retry-After on the 503");
    wait_not_ready(&stack, "database unreachable", Duration::from_secs(20)).await?;

    // The operator (or Patroni, or the cloud) promotes the standby.
    replica.promote()?;
    println!("promoted the replica {:?} after the primary died", down.elapsed());
    stack.db = sea_orm::Database::connect(replica.url()).await?;
    for service in claimtrail_e2e::SERVICES {
        wait_until(Duration::from_secs(30), || async {
            let (status, body) = readyz(&stack, service).await?;
            Ok((status == 200, format!("{service} /readyz answered {status}: {}", body.trim())))
        })
        .await?;
        let process = stack.processes.get_mut(service).expect("started");
        assert!(process.child.try_wait()?.is_none(), "{service} exited during the failover");
    }
    println!("every service ready on the new primary {:?} after the primary died", down.elapsed());
    for bundle_idx in 8..n_bundles {
        stack.submit_ok(&claims_bundle("F", bundle_idx)).await?;
    }
    println!("2,000 claims submitted {:?}", started.elapsed());
    let n_claims = (n_bundles * BUNDLE_CLAIMS) as i64;
    stack.wait_settled(n_claims, Duration::from_secs(240)).await?;
    println!("settled {:?}", started.elapsed());
    stack.assert_exactly_once(n_claims).await?;
    println!("exactly once checked {:?}", started.elapsed());

    // No fork: what the anchor appended before the failover is still there, byte for byte, and the
    // ledger grew past it on the new primary without a gap (the writer lock moved with the anchor).
    assert_eq!(ledger_entry(&stack, ledger_before - 1).await?, last_before);
    let ledger = stack.table("anchor", "ledger");
    assert_eq!(stack.scalar(&format!("SELECT MAX(idx) + 1 - COUNT(*) FROM {ledger}")).await?, 0, "the ledger has a gap");
    assert!(stack.ledger_size().await? > ledger_before);
    assert_eq!(replica.psql("SELECT pg_is_in_recovery()")?, "f");
    println!("Postgres failover run: {:?}", started.elapsed());
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_under_up_answers_503_corrupts_nothing_and_the_stack_resumes_once_space_is_freed() -> anyhow::Result<()> {
    let started = Instant::now();
    // Every claim here is the same member's, from the same provider on the same day, so each
    // decision records the most recent 200 history lines it read (`HISTORY_LINES_MAX`): 2,000
    // such claims take about 190 MB of SQLite file plus a WAL of up to 40 MB (measured; a
    // realistic claim, with a handful of history lines, takes about 16 KB). The filesystem
    // holds the whole run once the filler is gone; with less, it filled again after the free
    // and the run stalled (what made this test fail beside the others).
    let Some(mut disk) = SmallFilesystem::mount(448 * 1024 * 1024)? else {
        return Ok(());
    };
    let data_dir = tempfile::Builder::new().prefix("up").tempdir_in(disk.path())?;
    let mut up = Embedded::start_in(data_dir, &[]).await?;
    let n_bundles = 20;
    let mut accepted = 0;
    for bundle_idx in 0..8 {
        up.submit_ok(&claims_bundle("D", bundle_idx)).await?;
        accepted += 1;
    }
    // Mid-run, the disk fills up. SQLite reuses the pages its file and WAL hold already, so writes
    // go on for a while; submit until the first refusal.
    let filled = disk.fill()?;
    let refused = loop {
        anyhow::ensure!(accepted < n_bundles, "{accepted} bundles accepted on a full disk; none refused");
        let response = tokio::time::timeout(Duration::from_secs(30), up.submit(&claims_bundle("D", accepted))).await??;
        if response.status() != 202 {
            break response;
        }
        accepted += 1;
    };
    assert_eq!(refused.status(), 503, "a submission on a full disk: {}", refused.text().await?);
    let retry_after = refused.headers().get("retry-after").and_then(|value| value.to_str().ok()).and_then(|value| value.parse::<u64>().ok());
    assert!(retry_after.is_some_and(|seconds| (1..=300).contains(&seconds)), "Retry-After: {retry_after:?}");
    let body: serde_json::Value = refused.json().await?;
    assert!(body["detail"].as_str().is_some_and(|detail| detail.contains("disk is full")), "{body}");
    assert!(metric(&up.client, &up.url, "claimtrail_database_disk_full_total").await? >= 1.0);
    // Full for a while: the pipeline's writes fail too, and the file stays sound.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(up.integrity_check().await?, "ok");
    let survived = up.process.as_mut().context("not started")?.try_wait()?.is_none();

    disk.free()?;
    if survived {
        // It resumes without a restart.
        wait_until(Duration::from_secs(60), || async {
            let status = up.client.get(format!("{}/readyz", up.url)).send().await?.status();
            Ok((status == 200, format!("/readyz answered {status}")))
        })
        .await?;
    } else {
        println!("up exited on the full disk; restarting it");
        up.process = None;
        up.spawn(&[]).await?;
    }
    while accepted < n_bundles {
        up.submit_ok(&claims_bundle("D", accepted)).await?;
        accepted += 1;
    }
    let n_claims = (accepted * BUNDLE_CLAIMS) as i64;
    up.wait_settled(n_claims, Duration::from_secs(240)).await?;
    up.assert_exactly_once(n_claims).await?;
    assert_eq!(up.integrity_check().await?, "ok");
    println!("full disk run: {:?} ({filled} filler bytes; resumed without a restart: {survived})", started.elapsed());
    Ok(())
}
