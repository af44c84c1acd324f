//! Crashes: kill -9 at random moments and at deterministic points; after a
//! restart every claim is adjudicated and booked exactly once and the ledger
//! verifies.

use std::time::Duration;

use claimtrail_e2e::{BUNDLE_CLAIMS, SERVICES, Stack, claims_bundle};

#[tokio::test(flavor = "multi_thread")]
async fn killing_each_service_at_random_in_a_2000_claim_run_loses_and_doubles_nothing() -> anyhow::Result<()> {
    let stack_env = [("CLAIMTRAIL_ACK_WAIT_SECONDS", "5")];
    let mut stack = Stack::start(&stack_env).await?;
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos() as u64;
    println!("random seed {seed}");
    let mut order: Vec<&'static str> = SERVICES.to_vec();
    // A small xorshift is enough to vary which service dies when.
    let mut state = seed | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for idx in (1..order.len()).rev() {
        order.swap(idx, (next() % (idx as u64 + 1)) as usize);
    }
    let n_bundles = 20;
    let kill_at: Vec<usize> = (0..order.len()).map(|k| 2 + k * 4 + (next() % 3) as usize).collect();
    println!("kill order {order:?} at bundles {kill_at:?}");
    for bundle_idx in 0..n_bundles {
        if let Some(victim_idx) = kill_at.iter().position(|&at| at == bundle_idx) {
            let victim = order[victim_idx];
            tokio::time::sleep(Duration::from_millis(next() % 300)).await;
            stack.kill(victim).await?;
            if victim != "intake" {
                // Work piles up for the dead service while the others go on.
                stack.submit_ok(&claims_bundle("R", bundle_idx)).await?;
                tokio::time::sleep(Duration::from_millis(200)).await;
                stack.spawn(victim, &[]).await?;
                continue;
            }
            stack.spawn(victim, &[]).await?;
        }
        stack.submit_ok(&claims_bundle("R", bundle_idx)).await?;
    }
    let n_claims = (n_bundles * BUNDLE_CLAIMS) as i64;
    stack.wait_settled(n_claims, Duration::from_secs(600)).await?;
    stack.assert_exactly_once(n_claims).await?;
    stack.cleanup().await
}

#[tokio::test(flavor = "multi_thread")]
async fn deterministic_kill_points_lose_and_double_nothing() -> anyhow::Result<()> {
    let mut stack = Stack::start(&[("CLAIMTRAIL_ACK_WAIT_SECONDS", "5")]).await?;
    let scenarios: [(&'static str, &str); 6] = [
        ("settlement", "after_commit_before_ack:2"),
        ("adjudication", "after_publish_before_mark:2"),
        ("anchor", "after_commit_before_ack:3"),
        ("anchor", "mid_checkpoint:2"),
        ("anchor", "after_ledger_copy:2"),
        ("intake", "after_publish_before_mark:1"),
    ];
    let mut n_claims = 0i64;
    for (scenario_idx, (service, point)) in scenarios.iter().enumerate() {
        stack.kill(service).await?;
        stack.spawn(service, &[("CLAIMTRAIL_KILL_POINT", point)]).await?;
        // Intake dies after answering the first bundle; the others after handling some of both.
        let bundles_before_death = if *service == "intake" { 1 } else { 2 };
        for bundle_idx in 0..bundles_before_death {
            stack.submit_ok(&claims_bundle(&format!("K{scenario_idx}"), bundle_idx)).await?;
            n_claims += BUNDLE_CLAIMS as i64;
        }
        stack.wait_exit(service, Duration::from_secs(120)).await.map_err(|e| anyhow::anyhow!("{service} at {point}: {e:#}"))?;
        stack.spawn(service, &[]).await?;
        for bundle_idx in bundles_before_death..2 {
            stack.submit_ok(&claims_bundle(&format!("K{scenario_idx}"), bundle_idx)).await?;
            n_claims += BUNDLE_CLAIMS as i64;
        }
        stack.wait_settled(n_claims, Duration::from_secs(300)).await.map_err(|e| anyhow::anyhow!("after {service} died at {point}: {e:#}"))?;
        stack.assert_exactly_once(n_claims).await?;
    }
    stack.cleanup().await
}
