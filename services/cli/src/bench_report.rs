//! The pure parts of `claimtrail bench --topology deployed`: percentiles,
//! per-claim latencies from stream timestamps, each resource's use beside its
//! measured ceiling and the bottleneck among them, /proc parsing, the
//! `--json` document and the Markdown row. No IO here; `bench_deployed`
//! gathers the inputs.

use std::collections::HashMap;

use serde_json::{Value, json};

/// The value at quantile `q` (0..=1) of `sorted` (ascending), nearest rank;
/// None for no values.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// p50, p99 and p99.9 of a set of latencies in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latencies {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latencies {
    pub fn of(mut values: Vec<f64>) -> Option<Latencies> {
        values.sort_by(f64::total_cmp);
        Some(Latencies {
            count: values.len(),
            p50: percentile(&values, 0.50)?,
            p99: percentile(&values, 0.99)?,
            p999: percentile(&values, 0.999)?,
            max: *values.last()?,
        })
    }

    pub fn to_json(self) -> Value {
        json!({"count": self.count, "p50_ms": self.p50, "p99_ms": self.p99, "p999_ms": self.p999, "max_ms": self.max})
    }
}

/// What the bench knows of one measured claim, in milliseconds of the wall
/// clock (Unix epoch): when its Bundle was sent (or was due, under `--rate`),
/// when the stream stored its decision, and the highest ledger index of its events.
#[derive(Debug, Clone, Default)]
pub struct ClaimTimes {
    pub submitted_ms: f64,
    pub decided_ms: Option<f64>,
    pub last_ledger_index: Option<u64>,
    pub events_in_ledger: usize,
}

/// When a ledger index is first under a signed checkpoint: `checkpoints` are
/// (tree size, stream time in ms); an index is covered by the first
/// checkpoint whose size exceeds it. Sizes and times both only grow, but the
/// list may come in any order.
pub fn covered_at(checkpoints: &[(u64, f64)], index: u64) -> Option<f64> {
    checkpoints.iter().filter(|(size, _)| *size > index).map(|(_, at)| *at).min_by(f64::total_cmp)
}

/// Submission-to-decision and submission-to-checkpoint latencies of the
/// claims whose `events_per_claim` events all reached the ledger under a
/// checkpoint, and the time the last one did.
pub struct LatencyReport {
    pub decision: Option<Latencies>,
    pub checkpoint: Option<Latencies>,
    pub completed: usize,
    pub last_completed_ms: Option<f64>,
}

pub fn latency_report(claims: &HashMap<uuid::Uuid, ClaimTimes>, checkpoints: &[(u64, f64)], events_per_claim: usize) -> LatencyReport {
    let decision: Vec<f64> = claims.values().filter_map(|c| c.decided_ms.map(|at| (at - c.submitted_ms).max(0.0))).collect();
    let mut checkpoint = Vec::new();
    let mut last_completed_ms: Option<f64> = None;
    for claim in claims.values() {
        if claim.events_in_ledger < events_per_claim {
            continue;
        }
        if let Some(at) = claim.last_ledger_index.and_then(|index| covered_at(checkpoints, index)) {
            checkpoint.push((at - claim.submitted_ms).max(0.0));
            last_completed_ms = Some(last_completed_ms.map_or(at, |last| last.max(at)));
        }
    }
    LatencyReport { completed: checkpoint.len(), decision: Latencies::of(decision), checkpoint: Latencies::of(checkpoint), last_completed_ms }
}

/// The witness's lag: for each checkpoint signed at or after `from_ms`
/// (tree size, when JetStream stored its `checkpoint.signed.v1`), the time
/// until a cosigned checkpoint covered it, i.e. the first one the driver saw
/// cosigned (`cosigned`: size and time first seen) of that size or more (the
/// anchor asks for the latest checkpoint only, so one signed while the
/// witness answered the previous is covered by a later one). Returns the
/// lags in ms and how many checkpoints no cosignature covered.
pub fn cosignature_lags(signed: &[(u64, f64)], cosigned: &[(u64, f64)], from_ms: f64) -> (Vec<f64>, usize) {
    let mut lags = Vec::new();
    let mut uncovered = 0;
    for (size, at) in signed.iter().filter(|(_, at)| *at >= from_ms) {
        match cosigned.iter().filter(|(cosigned_size, _)| cosigned_size >= size).map(|(_, seen)| *seen).min_by(f64::total_cmp) {
            Some(seen) => lags.push((seen - at).max(0.0)),
            None => uncovered += 1,
        }
    }
    (lags, uncovered)
}

/// A resource the run uses, its measured rate of use and its own ceiling
/// measured in the same run (same unit).
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub name: String,
    pub unit: String,
    pub used: f64,
    pub ceiling: f64,
}

impl Resource {
    pub fn new(name: &str, unit: &str, used: f64, ceiling: f64) -> Resource {
        Resource { name: name.to_owned(), unit: unit.to_owned(), used, ceiling }
    }

    /// Use as a fraction of the ceiling; None when the ceiling was not measured.
    pub fn ratio(&self) -> Option<f64> {
        (self.ceiling > 0.0 && self.ceiling.is_finite() && self.used.is_finite()).then(|| self.used / self.ceiling)
    }
}

/// The busiest resource: the highest use as a fraction of its ceiling.
pub fn bottleneck(resources: &[Resource]) -> Option<(&Resource, f64)> {
    resources.iter().filter_map(|r| r.ratio().map(|ratio| (r, ratio))).max_by(|a, b| a.1.total_cmp(&b.1))
}

/// The command name of a /proc/PID/stat line (between the first `(` and the last `)`).
pub fn stat_comm(stat: &str) -> Option<&str> {
    Some(&stat[stat.find('(')? + 1..stat.rfind(')')?])
}

/// Whether a Postgres URL names this machine (loopback or a Unix socket):
/// then its server's processes share the bench's cores and their CPU counts.
pub fn database_is_local(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?']).next().unwrap_or("");
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, hosts)| hosts);
    let socket_host = url.contains("host=/") || url.contains("host=%2F");
    socket_host
        || hosts.is_empty()
        || hosts.split(',').all(|host| {
            let name = host.strip_prefix('[').and_then(|h| h.split_once(']')).map_or_else(|| host.split(':').next().unwrap_or(""), |(h, _)| h);
            matches!(name, "127.0.0.1" | "localhost" | "::1") || name.starts_with("127.")
        })
}

/// utime + stime (clock ticks) from a /proc/PID/stat line. The command name
/// is in parentheses and may hold spaces and parentheses itself, so the
/// fields are counted after the last `)`.
pub fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime 14 and stime 15 (1-based, whole line).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A `Name:   1234 kB` field of /proc/PID/status, in kB.
pub fn status_kb(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

/// One process's use over the measured window.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessUse {
    pub name: String,
    pub pid: u32,
    pub cpu_seconds: f64,
    pub peak_rss_kb: u64,
    /// (seconds since the window started, RSS in kB).
    pub rss_kb_over_time: Vec<(f64, u64)>,
}

/// The ceilings measured in the run (per second).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ceilings {
    pub jetstream_publish: f64,
    pub postgres_insert_rows: f64,
    pub postgres_copy_rows: f64,
    pub sha3_256: f64,
    pub ed25519_sign: f64,
    pub ed25519_verify: f64,
}

impl Ceilings {
    fn to_json(&self) -> Value {
        json!({
            "jetstream_publish_per_second": self.jetstream_publish,
            "postgres_insert_rows_per_second": self.postgres_insert_rows,
            "postgres_copy_rows_per_second": self.postgres_copy_rows,
            "sha3_256_per_second": self.sha3_256,
            "ed25519_sign_per_second": self.ed25519_sign,
            "ed25519_verify_per_second": self.ed25519_verify,
        })
    }
}

/// Everything one deployed run reports.
#[derive(Debug, Clone)]
pub struct Report {
    pub topology: String,
    pub claims: usize,
    pub offered_rate: Option<f64>,
    pub claims_per_second: f64,
    pub accepted_per_second: f64,
    pub duration_seconds: f64,
    pub decision: Option<Latencies>,
    pub checkpoint: Option<Latencies>,
    pub per_claim_rows: f64,
    pub per_claim_bytes: f64,
    pub per_claim_events: f64,
    pub per_claim_deliveries: f64,
    /// The mean length of a decision record written in the window (canonical JSON).
    pub per_record_bytes: Option<f64>,
    pub ceilings: Ceilings,
    pub resources: Vec<Resource>,
    pub processes: Vec<ProcessUse>,
    pub setup: Value,
    /// The witness's cosignatures in the run (deployed topology), as the driver measured them.
    pub witness: Option<Value>,
    /// The fraud service's claims and alerts in the run (deployed topology).
    pub fraud: Option<Value>,
}

impl Report {
    pub fn to_json(&self) -> Value {
        let (bottleneck_name, bottleneck_ratio) = match bottleneck(&self.resources) {
            Some((resource, ratio)) => (Value::from(resource.name.clone()), Value::from(ratio)),
            None => (Value::Null, Value::Null),
        };
        let ms = |l: Option<Latencies>, pick: fn(Latencies) -> f64| l.map(pick).map_or(Value::Null, Value::from);
        json!({
            "topology": self.topology,
            "claims": self.claims,
            "offered_rate": self.offered_rate,
            "claims_per_second": self.claims_per_second,
            "accepted_per_second": self.accepted_per_second,
            "duration_seconds": self.duration_seconds,
            "p50_decision_ms": ms(self.decision, |l| l.p50),
            "p99_decision_ms": ms(self.decision, |l| l.p99),
            "p999_decision_ms": ms(self.decision, |l| l.p999),
            "p50_checkpoint_ms": ms(self.checkpoint, |l| l.p50),
            "p99_checkpoint_ms": ms(self.checkpoint, |l| l.p99),
            "p999_checkpoint_ms": ms(self.checkpoint, |l| l.p999),
            "decision_latency": self.decision.map(Latencies::to_json),
            "checkpoint_latency": self.checkpoint.map(Latencies::to_json),
            "per_claim": {"rows": self.per_claim_rows, "bytes": self.per_claim_bytes, "events": self.per_claim_events, "bus_deliveries": self.per_claim_deliveries, "decision_record_bytes": self.per_record_bytes},
            "ceilings": self.ceilings.to_json(),
            "resources": self.resources.iter().map(|r| json!({"name": r.name, "unit": r.unit, "used": r.used, "ceiling": r.ceiling, "ratio": r.ratio()})).collect::<Vec<_>>(),
            "bottleneck": bottleneck_name,
            "bottleneck_ceiling_ratio": bottleneck_ratio,
            "processes": self.processes.iter().map(|p| json!({
                "name": p.name, "pid": p.pid, "cpu_seconds": p.cpu_seconds, "peak_rss_kb": p.peak_rss_kb,
                "rss_kb_over_time": p.rss_kb_over_time.iter().map(|(at, kb)| json!([at, kb])).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "setup": self.setup,
            "witness": self.witness,
            "fraud": self.fraud,
        })
    }

    /// One row of the table in docs/benchmarks.md: date, topology, claims,
    /// offered rate, claims/s, p99 decision, p99 checkpoint, per-claim rows,
    /// bytes and deliveries, the bottleneck and its ratio.
    pub fn markdown_row(&self, date: &str, commit: &str) -> String {
        let ms = |l: Option<Latencies>| l.map_or("-".to_owned(), |l| format!("{:.0} ms", l.p99));
        let bottleneck = bottleneck(&self.resources).map_or("-".to_owned(), |(r, ratio)| format!("{} {:.2}", r.name, ratio));
        format!(
            "| {date} | {commit} | {} | {} | {} | {:.0} | {} | {} | {:.1} | {:.1} KB | {:.1} | {bottleneck} |",
            self.topology,
            self.claims,
            self.offered_rate.map_or("flat out".to_owned(), |rate| format!("{rate:.0}/s")),
            self.claims_per_second,
            ms(self.decision),
            ms(self.checkpoint),
            self.per_claim_rows,
            self.per_claim_bytes / 1000.0,
            self.per_claim_deliveries,
        )
    }
}

/// The line after which `bench --markdown` adds its rows (the end of the
/// table under it); without it the row goes at the end of the document.
pub const ROWS_MARKER: &str = "<!-- bench --topology deployed rows: new rows go above this line -->";

/// `document` with `row` inserted just above [`ROWS_MARKER`] (or appended).
pub fn insert_row(document: &str, row: &str) -> String {
    match document.find(ROWS_MARKER) {
        Some(at) => {
            let mut out = String::with_capacity(document.len() + row.len() + 1);
            out.push_str(&document[..at]);
            out.push_str(row);
            out.push('\n');
            out.push_str(&document[at..]);
            out
        }
        None => {
            let separator = if document.is_empty() || document.ends_with('\n') { "" } else { "\n" };
            format!("{document}{separator}{row}\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), Some(500.0));
        assert_eq!(percentile(&values, 0.99), Some(990.0));
        assert_eq!(percentile(&values, 0.999), Some(999.0));
        assert_eq!(percentile(&values, 1.0), Some(1000.0));
        assert_eq!(percentile(&values, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 0.999), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn latencies_sort_their_input() {
        let l = Latencies::of(vec![30.0, 10.0, 20.0]).expect("three values");
        assert_eq!((l.count, l.p50, l.p99, l.max), (3, 20.0, 30.0, 30.0));
        assert_eq!(Latencies::of(vec![]), None);
    }

    #[test]
    fn an_index_is_covered_by_the_first_checkpoint_beyond_it() {
        let checkpoints = [(300, 3_000.0), (100, 1_000.0), (200, 2_000.0)];
        assert_eq!(covered_at(&checkpoints, 0), Some(1_000.0));
        assert_eq!(covered_at(&checkpoints, 99), Some(1_000.0));
        assert_eq!(covered_at(&checkpoints, 100), Some(2_000.0));
        assert_eq!(covered_at(&checkpoints, 299), Some(3_000.0));
        assert_eq!(covered_at(&checkpoints, 300), None);
    }

    #[test]
    fn a_claim_counts_as_completed_only_with_all_its_events_under_a_checkpoint() {
        let id = |n: u128| uuid::Uuid::from_u128(n);
        let claims: HashMap<uuid::Uuid, ClaimTimes> = [
            (id(1), ClaimTimes { submitted_ms: 0.0, decided_ms: Some(5.0), last_ledger_index: Some(10), events_in_ledger: 3 }),
            (id(2), ClaimTimes { submitted_ms: 10.0, decided_ms: Some(40.0), last_ledger_index: Some(150), events_in_ledger: 3 }),
            // Two of three events in the ledger: decided, not completed.
            (id(3), ClaimTimes { submitted_ms: 10.0, decided_ms: Some(20.0), last_ledger_index: Some(11), events_in_ledger: 2 }),
            // Beyond the last checkpoint.
            (id(4), ClaimTimes { submitted_ms: 10.0, decided_ms: None, last_ledger_index: Some(500), events_in_ledger: 3 }),
        ]
        .into();
        let report = latency_report(&claims, &[(100, 100.0), (200, 210.0)], 3);
        assert_eq!(report.completed, 2);
        assert_eq!(report.last_completed_ms, Some(210.0));
        let decision = report.decision.expect("decisions");
        assert_eq!((decision.count, decision.p50, decision.max), (3, 10.0, 30.0));
        let checkpoint = report.checkpoint.expect("checkpoints");
        assert_eq!((checkpoint.count, checkpoint.p50, checkpoint.max), (2, 100.0, 200.0));
    }

    #[test]
    fn the_bottleneck_is_the_highest_ratio_and_unmeasured_ceilings_are_skipped() {
        let resources = vec![
            Resource::new("cpu", "cores", 1.6, 2.0),
            Resource::new("postgres rows", "rows/s", 30_000.0, 45_000.0),
            Resource::new("jetstream", "msgs/s", 9_000.0, 0.0),
            Resource::new("sha3", "hashes/s", 10.0, f64::NAN),
        ];
        let (resource, ratio) = bottleneck(&resources).expect("a bottleneck");
        assert_eq!(resource.name, "cpu");
        assert!((ratio - 0.8).abs() < 1e-12);
        assert_eq!(resources[2].ratio(), None);
        assert_eq!(resources[3].ratio(), None);
        assert!(bottleneck(&resources[2..]).is_none());
    }

    #[test]
    fn proc_fields_are_parsed_past_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (claim trail (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0 100 200000000 5000";
        assert_eq!(stat_cpu_ticks(stat), Some(325));
        assert_eq!(stat_cpu_ticks("garbage"), None);
        assert_eq!(stat_comm(stat), Some("claim trail (x)"));
        assert_eq!(stat_comm("1 (postgres) S 1"), Some("postgres"));
        assert_eq!(stat_comm("garbage"), None);
    }

    #[test]
    fn a_loopback_or_socket_database_is_on_this_machine() {
        assert!(database_is_local("postgres://postgres@127.0.0.1:5432/postgres"));
        assert!(database_is_local("postgres://u:p@localhost/db?sslmode=disable"));
        assert!(database_is_local("postgres://u@[::1]:5432/db"));
        assert!(database_is_local("postgres:///db?host=/var/run/postgresql"));
        assert!(!database_is_local("postgres://u@10.0.0.7:5432/db"));
        assert!(!database_is_local("postgres://u@db.internal/db"));
        assert!(!database_is_local("postgres://u@127.0.0.1:5432,10.0.0.2:5432/db"));
        let status = "Name:\tclaimtrail\nVmPeak:\t  900000 kB\nVmHWM:\t   51234 kB\nVmRSS:\t   40000 kB\n";
        assert_eq!(status_kb(status, "VmHWM"), Some(51_234));
        assert_eq!(status_kb(status, "VmRSS"), Some(40_000));
        assert_eq!(status_kb(status, "VmSwap"), None);
    }

    fn report() -> Report {
        Report {
            topology: "deployed".into(),
            claims: 1000,
            offered_rate: Some(1000.0),
            claims_per_second: 812.4,
            accepted_per_second: 990.0,
            duration_seconds: 1.23,
            decision: Latencies::of(vec![10.0, 20.0, 45.0]),
            checkpoint: Latencies::of(vec![900.0, 1100.0]),
            per_claim_rows: 21.0,
            per_claim_bytes: 15_300.0,
            per_claim_events: 3.0,
            per_claim_deliveries: 10.0,
            per_record_bytes: Some(2_000.0),
            ceilings: Ceilings { jetstream_publish: 20_000.0, postgres_insert_rows: 40_000.0, ..Ceilings::default() },
            resources: vec![Resource::new("cpu", "cores", 1.0, 2.0), Resource::new("postgres rows", "rows/s", 17_000.0, 40_000.0)],
            processes: vec![ProcessUse { name: "intake".into(), pid: 7, cpu_seconds: 1.5, peak_rss_kb: 50_000, rss_kb_over_time: vec![(0.0, 40_000)] }],
            setup: json!({"driver": "its own process"}),
            witness: None,
            fraud: None,
        }
    }

    #[test]
    fn a_checkpoint_waits_for_the_first_cosignature_of_its_size_or_more() {
        // Signed: 10 at 1,000 ms, 20 at 2,000 ms (while the witness answered 10), 30 at 3,000 ms, 40 at 4,000 ms.
        let signed = [(10, 1_000.0), (20, 2_000.0), (30, 3_000.0), (40, 4_000.0)];
        // Seen cosigned: 10 at 1,150 ms, then 30 (20 was never asked for) at 3,200 ms; 40 never.
        let cosigned = [(10, 1_150.0), (30, 3_200.0)];
        let (lags, uncovered) = cosignature_lags(&signed, &cosigned, 0.0);
        assert_eq!(lags, vec![150.0, 1_200.0, 200.0]);
        assert_eq!(uncovered, 1);
        // Only the checkpoints signed in the window count.
        assert_eq!(cosignature_lags(&signed, &cosigned, 2_500.0), (vec![200.0], 1));
        assert_eq!(cosignature_lags(&[], &cosigned, 0.0), (vec![], 0));
    }

    #[test]
    fn the_json_holds_the_figures_the_issue_names() {
        let json = report().to_json();
        for field in ["claims_per_second", "p99_decision_ms", "ceilings", "bottleneck", "bottleneck_ceiling_ratio"] {
            assert!(!json[field].is_null(), "{field} missing: {json}");
        }
        assert_eq!(json["claims_per_second"], 812.4);
        assert_eq!(json["p99_decision_ms"], 45.0);
        assert_eq!(json["bottleneck"], "cpu");
        assert_eq!(json["bottleneck_ceiling_ratio"], 0.5);
        assert_eq!(json["ceilings"]["postgres_insert_rows_per_second"], 40_000.0);
        assert_eq!(json["processes"][0]["rss_kb_over_time"][0][1], 40_000);
        assert_eq!(json["per_claim"]["bus_deliveries"], 10.0);
    }

    #[test]
    fn the_markdown_row_goes_above_the_marker_or_at_the_end() {
        let row = report().markdown_row("2026-12-07", "abc1234");
        assert_eq!(row, "| 2026-12-07 | abc1234 | deployed | 1000 | 1000/s | 812 | 45 ms | 1100 ms | 21.0 | 15.3 KB | 10.0 | cpu 0.50 |");
        let document = format!("# B\n\n| h |\n|---|\n| old |\n{ROWS_MARKER}\n\nmore\n");
        assert_eq!(insert_row(&document, "| new |"), format!("# B\n\n| h |\n|---|\n| old |\n| new |\n{ROWS_MARKER}\n\nmore\n"));
        assert_eq!(insert_row("# B", "| new |"), "# B\n| new |\n");
        assert_eq!(insert_row("# B\n", "| new |"), "# B\n| new |\n");
    }
}
