//! The dashboard in a real browser: `claimtrail up --demo` (embedded), a
//! claim submitted and anchored, then tests/browser/dashboard.mjs in
//! headless Debian chromium driven by playwright-core. It signs in as each
//! role, checks a claim's proofs in the page (and sees a tampered proof and a
//! changed pinned key fail), exports CSV, tries another payer's claim by URL,
//! runs axe-core on every page, acts from the keyboard, and saves a
//! screenshot of each page under `<target>/e2e-logs/dashboard-<run>/`.
//! scripts/test installs chromium and the npm packages when they are missing;
//! this test installs the npm packages too when run on its own.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use claimtrail_e2e::{Embedded, claimtrail_bin, logs_dir, sample_claim, wait_until};
use serde_json::{Value, json};

/// The whole browser run's budget.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(150);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

fn chromium() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("CLAIMTRAIL_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    anyhow::ensure!(path.exists(), "no chromium at {} (scripts/test installs Debian's `chromium`; or set CLAIMTRAIL_CHROMIUM)", path.display());
    Ok(path)
}

async fn npm_packages() -> anyhow::Result<()> {
    if browser_dir().join("node_modules/playwright-core/package.json").exists() && browser_dir().join("node_modules/axe-core/axe.min.js").exists() {
        return Ok(());
    }
    let status = tokio::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(browser_dir())
        .status()
        .await
        .context("running npm ci in tests/browser (is node installed?)")?;
    anyhow::ensure!(status.success(), "npm ci in tests/browser failed");
    Ok(())
}

async fn cli(up: &Embedded, args: &[&str]) -> anyhow::Result<String> {
    let output = up.command(args).output().await?;
    anyhow::ensure!(output.status.success(), "claimtrail {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn each_role_signs_in_and_an_auditor_checks_a_claims_proofs_in_the_browser() -> anyhow::Result<()> {
    let chromium = chromium()?;
    npm_packages().await?;
    let _ = claimtrail_bin();

    // Arrange: a stack, a claim adjudicated, booked and in a signed checkpoint.
    let up = Embedded::start(&[("CLAIMTRAIL_DASHBOARD_IDLE_TIMEOUT_MINUTES", "30")]).await?;
    let claim_id = up.submit_ok(&sample_claim("PCN-DASH-1")).await?.remove(0);
    up.wait_settled(1, Duration::from_secs(60)).await?;
    let ledger_size = "SELECT COUNT(*) FROM \"anchor_ledger\"";
    let checkpointed = "SELECT COALESCE(MAX(size), 0) FROM \"anchor_checkpoints\"";
    wait_until(Duration::from_secs(30), || async {
        let (size, signed) = (up.scalar(ledger_size).await?, up.scalar(checkpointed).await?);
        Ok((signed >= size && size > 0, format!("checkpoint covers {signed} of {size} entries")))
    })
    .await?;
    let data_dir = up.data_dir.path().to_str().context("data dir")?.to_owned();
    // The log's key as its operator hands it out (not from the server the page checks).
    let log_key = cli(&up, &["keys", "log", "--key-dir", &format!("{data_dir}/keys")]).await?;
    let other_dir = tempfile::tempdir()?;
    let other_log_key = cli(&up, &["keys", "log", "--key-dir", other_dir.path().to_str().context("dir")?]).await?;
    assert_ne!(log_key, other_log_key);
    let created = cli(&up, &["keys", "create", "--tenant", "Other Audit Office", "--role", "auditor", "--payer-id", "99999", "--data-dir", &data_dir]).await?;
    let other_auditor = created.split_whitespace().find(|word| word.starts_with("ct_")).context("no key printed")?.to_owned();

    let out_dir = logs_dir().join(format!("dashboard-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&out_dir)?;
    let config = json!({
        "url": up.url,
        "chromium": chromium,
        "out_dir": out_dir,
        "claim_id": claim_id,
        "log_key": log_key,
        "other_log_key": other_log_key,
        "keys": {
            "auditor": up.demo_key("auditor")?,
            "payer": up.demo_key("payer")?,
            "finance": up.demo_key("finance")?,
            "admin": up.demo_key("admin")?,
            "provider": up.demo_key("provider")?,
            "other_auditor": other_auditor,
        },
    });

    // Act: the browser run.
    let mut node = tokio::process::Command::new("node");
    node.arg(browser_dir().join("dashboard.mjs"))
        .env("CLAIMTRAIL_BROWSER_TEST", config.to_string())
        .current_dir(browser_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = tokio::time::timeout(BROWSER_TIMEOUT, node.output()).await.context("the browser run took longer than its budget")??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    std::fs::write(out_dir.join("node.log"), format!("{stdout}\n{stderr}"))?;
    assert!(output.status.success(), "the browser run failed (screenshots in {}):\n{stdout}\n{stderr}", out_dir.display());

    // Assert: the script's own checks passed, its screenshots exist, and the
    // claim the auditor saw in the dashboard is in the access log as an API read.
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).with_context(|| format!("no summary line:\n{stdout}"))?;
    assert_eq!(summary["failed"], 0, "{summary}");
    let screenshots = summary["screenshots"].as_array().context("screenshots")?;
    for role in ["auditor", "payer", "finance"] {
        assert!(screenshots.iter().any(|shot| shot.as_str().is_some_and(|name| name.starts_with(role))), "no screenshot of the {role}'s pages: {summary}");
    }
    for shot in screenshots {
        let path = out_dir.join(shot.as_str().context("name")?);
        assert!(std::fs::metadata(&path).map(|m| m.len() > 1000).unwrap_or(false), "{} is missing or empty", path.display());
    }
    let access_log: Value = up.client.get(format!("{}/v1/access-log", up.url)).bearer_auth(up.demo_key("admin")?).send().await?.json().await?;
    let reads = access_log.to_string();
    assert!(reads.contains(&claim_id) && reads.contains("State Audit Office"), "the auditor's read of {claim_id} is not in the access log: {access_log}");
    Ok(())
}
