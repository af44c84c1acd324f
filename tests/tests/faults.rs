//! Infrastructure faults (issue 22): the servers under Claimtrail fail
//! mid-run, on servers each test starts for itself on loopback ports
//! (tests/src/servers.rs); afterwards every claim is decided once and booked
//! once, and the ledger verifies.

use std::time::{Duration, Instant};

use claimtrail_e2e::servers::Nats;
use claimtrail_e2e::{Stack, bundle, database_url, sample_claim, wait_until};

/// Claims per bundle; every run submits at least 2,000.
const BUNDLE_CLAIMS: usize = 100;

fn claims_bundle(run: &str, bundle_idx: usize) -> serde_json::Value {
    bundle((0..BUNDLE_CLAIMS).map(|n| sample_claim(&format!("PCN-{run}-{bundle_idx}-{n}"))).collect())
}

/// Exactly-once checks over the whole stack, once it has settled.
async fn assert_exactly_once(stack: &Stack, n_claims: i64) -> anyhow::Result<()> {
    assert_eq!(stack.count("intake", "claims").await?, n_claims);
    // Intake's status projection is a consumer of its own; it may still be catching up.
    let adjudicated = format!("SELECT COUNT(*) FROM {} WHERE status = 'adjudicated'", stack.table("intake", "claims"));
    wait_until(Duration::from_secs(60), || async {
        let (n, history) = (stack.scalar(&adjudicated).await?, stack.count("intake", "claim_history").await?);
        Ok((n >= n_claims && history >= 3 * n_claims, format!("intake shows {n} of {n_claims} adjudicated, {history} history rows")))
    })
    .await?;
    assert_eq!(stack.scalar(&adjudicated).await?, n_claims);
    assert_eq!(stack.count("adjudication", "decisions").await?, n_claims);
    assert_eq!(stack.count("settlement", "journal_entries").await?, n_claims);
    assert_eq!(stack.scalar(&format!("SELECT COUNT(DISTINCT claim_id) FROM {}", stack.table("settlement", "journal_entries"))).await?, n_claims);
    assert_eq!(stack.ledger_size().await?, stack.baseline_events + 3 * n_claims);
    assert_eq!(stack.scalar(&format!("SELECT COUNT(DISTINCT event_id) FROM {}", stack.table("anchor", "ledger"))).await?, stack.baseline_events + 3 * n_claims);
    assert_eq!(stack.count("intake", "claim_history").await?, 3 * n_claims);
    let leaves = stack.leaves().await?;
    assert_eq!(claimtrail_e2e::verified_counts(&leaves), (leaves.len(), 0, 0));
    let (verified, output) = stack.verify(&[]).await?;
    assert!(verified, "{output}");
    assert!(output.contains("0 entries recorded unverified"), "{output}");
    Ok(())
}

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
    assert_exactly_once(&stack, n_claims).await?;
    for service in claimtrail_e2e::SERVICES {
        assert_eq!(readyz(&stack, service).await?.0, 200, "{service} is not ready after the restart");
    }
    println!("NATS restart run: {:?}", started.elapsed());
    stack.cleanup().await
}
