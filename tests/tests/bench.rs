//! `claimtrail bench --topology deployed`, small and bounded: the bench
//! starts the services (intake, adjudication, settlement, anchor, fraud and
//! a witness) as `claimtrail serve` processes on the test
//! Postgres and NATS, drives 200 claims through them at a fixed offered rate,
//! and writes its figures as JSON. Keeps the measuring machinery working in
//! CI; the figures themselves are not asserted beyond being measured.

use claimtrail_e2e::{claimtrail_bin, database_url, nats_url};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployed_bench_runs_200_claims_and_reports_them_beside_their_ceilings() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let json_path = dir.path().join("bench.json");
    let markdown_path = dir.path().join("benchmarks.md");
    std::fs::write(&markdown_path, "| h |\n|---|\n<!-- bench --topology deployed rows: new rows go above this line -->\n").expect("writing");
    let output = tokio::process::Command::new(claimtrail_bin())
        .args(["bench", "--topology", "deployed", "--claims", "200", "--bundle", "20", "--warmup", "20", "--rate", "400", "--members", "100"])
        .args(["--database-url", &database_url(), "--nats-url", &nats_url()])
        .arg("--json")
        .arg(&json_path)
        .arg("--markdown")
        .arg(&markdown_path)
        .output()
        .await
        .expect("running claimtrail bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the bench failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    for line in [
        "setup:",
        "submission -> decision:",
        "submission -> checkpoint:",
        "bottleneck:",
        "process intake",
        "process anchor",
        "process fraud",
        "process witness",
        "process driver",
        "witness:",
        "fraud:",
    ] {
        assert!(stdout.contains(line), "no `{line}` in the output:\n{stdout}");
    }

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).expect("the JSON file")).expect("JSON");
    assert_eq!(report["claims"], 200);
    assert_eq!(report["offered_rate"], 400.0);
    let number = |field: &str| report[field].as_f64().unwrap_or_else(|| panic!("{field} is not a number: {report}"));
    assert!(number("claims_per_second") > 0.0);
    assert!(number("p99_decision_ms") >= number("p50_decision_ms"));
    assert!(number("p99_checkpoint_ms") >= number("p99_decision_ms"), "a claim is checkpointed after its decision: {report}");
    assert!(number("bottleneck_ceiling_ratio") > 0.0);
    assert!(report["bottleneck"].as_str().is_some_and(|name| !name.is_empty()));
    for ceiling in
        ["jetstream_publish_per_second", "postgres_insert_rows_per_second", "postgres_copy_rows_per_second", "sha3_256_per_second", "ed25519_verify_per_second"]
    {
        assert!(report["ceilings"][ceiling].as_f64().is_some_and(|rate| rate > 0.0), "{ceiling}: {report}");
    }
    // Three events per claim, and a fourth where the claim moves the member's accumulators (the demo
    // plan); the figure divides every event produced during the run by the claims, so an event a
    // claim causes besides these counts too (4.01 seen in CI); at least that many ledger rows per
    // claim; a delivery per consumer that sees each.
    assert!((3.0..=4.5).contains(&report["per_claim"]["events"].as_f64().unwrap_or(0.0)), "{report}");
    assert!(report["per_claim"]["rows"].as_f64().unwrap_or(0.0) >= 6.0, "{report}");
    assert!(report["per_claim"]["bus_deliveries"].as_f64().unwrap_or(0.0) >= 3.0, "{report}");
    let processes: Vec<&str> = report["processes"].as_array().expect("processes").iter().filter_map(|p| p["name"].as_str()).collect();
    for name in ["intake", "adjudication", "settlement", "anchor", "fraud", "witness", "driver"] {
        assert!(processes.contains(&name), "{name} missing from {processes:?}");
    }
    // The witness cosigned the run's checkpoints (the last one within the bench's wait), and the fraud service saw the claims.
    assert!(report["witness"]["checkpoints_signed"].as_u64().is_some_and(|n| n > 0), "{report}");
    assert_eq!(report["witness"]["checkpoints_not_cosigned"], 0, "{report}");
    assert!(report["witness"]["cosignature_lag"]["p50_ms"].as_f64().is_some(), "{report}");
    assert!(report["fraud"]["claims_recorded_in_all"].as_i64().is_some_and(|n| n > 0), "{report}");
    assert!(report["fraud"]["alerts"].as_i64().is_some(), "{report}");
    // Postgres runs on this machine, so its CPU counts (all its processes, with no one RSS).
    let process_list = report["processes"].as_array().expect("processes");
    assert!(process_list.iter().filter(|p| p["name"] != "postgres").all(|p| p["peak_rss_kb"].as_u64().unwrap_or(0) > 0), "{report}");
    if ["@127.0.0.1", "@localhost"].iter().any(|host| database_url().contains(host)) {
        let postgres = process_list.iter().find(|p| p["name"] == "postgres").unwrap_or_else(|| panic!("no postgres entry: {report}"));
        assert!(postgres["cpu_seconds"].as_f64().is_some_and(|seconds| seconds > 0.0), "{report}");
    }

    let markdown = std::fs::read_to_string(&markdown_path).expect("the markdown file");
    let rows: Vec<&str> = markdown.lines().filter(|line| line.contains("| deployed | 200 | 400/s |")).collect();
    assert_eq!(rows.len(), 1, "{markdown}");
    assert!(markdown.find(rows[0]) < markdown.find("<!-- bench"), "{markdown}");
}

/// The embedded mode (every service in the bench's process on SQLite) writes
/// `--json` with the deployed mode's keys where they apply, and the decision
/// records' size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_bench_writes_its_figures_as_json() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let json_path = dir.path().join("embedded.json");
    let output = tokio::process::Command::new(claimtrail_bin())
        .args(["bench", "--claims", "60", "--bundle", "20", "--members", "6"])
        .arg("--json")
        .arg(&json_path)
        .output()
        .await
        .expect("running claimtrail bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the bench failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).expect("the JSON file")).expect("JSON");
    assert_eq!((report["topology"].as_str(), report["claims"].as_u64()), (Some("embedded"), Some(60)), "{report}");
    for field in ["claims_per_second", "accepted_per_second", "duration_seconds"] {
        assert!(report[field].as_f64().is_some_and(|value| value > 0.0), "{field}: {report}");
    }
    for field in ["rows", "bytes", "events", "decision_record_bytes"] {
        assert!(report["per_claim"][field].as_f64().is_some_and(|value| value > 0.0), "per_claim.{field}: {report}");
    }
    assert_eq!(report["setup"]["members"], 6, "{report}");
}
