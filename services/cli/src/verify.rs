//! `claimtrail verify <URL|EXPORT-FILE> [--key VKEY]... [--state FILE]`.
//!
//! Needs only the entries, the checkpoints and the public keys: recomputes
//! every leaf hash, the hash chain, the Merkle root at every checkpoint size
//! and every checkpoint signature, and names the first bad index. With
//! `--state`, the last verified checkpoint per (origin, key id) is kept and
//! must still hold (same root at its size, the ledger no smaller) next time.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_ledger::hash::Hash;
use claimtrail_ledger::note::{CosignatureVerifier, VerifierKey, open_checkpoint};
use claimtrail_ledger::verify::{Verifier, VerifyFailure};
use serde::{Deserialize, Serialize};

/// Entries fetched per request (the API's page limit).
const PAGE: u64 = 1_000;

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// "<origin> <key id>" -> last verified checkpoint.
    checkpoints: BTreeMap<String, TrustedCheckpoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrustedCheckpoint {
    size: u64,
    note: String,
}

#[derive(Debug, Deserialize)]
struct Entry {
    index: u64,
    leaf: String,
    chain: Option<String>,
}

enum Source {
    Url { base: String, client: reqwest::Client },
    File { path: std::path::PathBuf },
}

pub async fn run(target: &str, key_texts: &[String], state_path: Option<&Path>, witness_quorum: Option<usize>) -> anyhow::Result<()> {
    let source = if target.starts_with("http://") || target.starts_with("https://") {
        Source::Url { base: target.trim_end_matches('/').to_owned(), client: reqwest::Client::builder().build()? }
    } else {
        let path = std::path::PathBuf::from(target);
        anyhow::ensure!(path.is_file(), "{target} is neither an http(s) URL nor an export file");
        Source::File { path }
    };

    // Witness keys are cosignature keys (type 0x04), given as `"VKEY witness"`.
    let (witness_texts, key_texts): (Vec<&String>, Vec<&String>) = key_texts.iter().partition(|text| text.trim_end().ends_with(" witness"));
    let witnesses: Vec<CosignatureVerifier> = witness_texts
        .iter()
        .map(|text| {
            let vkey = text.trim().trim_end_matches("witness").trim();
            CosignatureVerifier::parse(vkey).with_context(|| format!("--key {text} is not a witness cosignature key"))
        })
        .collect::<anyhow::Result<_>>()?;
    let witness_quorum = witness_quorum.unwrap_or(witnesses.len());
    anyhow::ensure!(
        witness_quorum <= witnesses.len(),
        "--witness-quorum {witness_quorum} needs at least that many witness keys (--key \"VKEY witness\"), not {}",
        witnesses.len()
    );
    let keys: Vec<(VerifierKey, Role)> = if key_texts.is_empty() {
        let keys = source.keys().await?;
        let n_log = keys.iter().filter(|(_, role)| *role == Role::Log).count();
        anyhow::ensure!(n_log > 0, "{target} lists no log key; pass --key");
        eprintln!(
            "no --key given: trusting the {n_log} log key(s) and {} producer key(s) that {target} itself serves (this proves integrity, not origin)",
            keys.iter().filter(|(_, role)| matches!(role, Role::Producer(_))).count()
        );
        keys
    } else {
        key_texts
            .into_iter()
            .map(|text| parse_key_line(text, true).with_context(|| format!("--key {text} is not a verifier key")))
            .collect::<anyhow::Result<_>>()?
    };
    let trusted: Vec<VerifierKey> = keys.iter().filter(|(_, role)| *role == Role::Log).map(|(key, _)| key.clone()).collect();
    let producer_keys: Vec<(String, VerifierKey)> = keys
        .iter()
        .filter_map(|(key, role)| match role {
            Role::Producer(service) => Some((service.clone(), key.clone())),
            _ => None,
        })
        .collect();

    let mut state: State = match state_path {
        Some(path) if path.exists() => serde_json::from_str(&std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?)
            .with_context(|| format!("{} is not a verify state file", path.display()))?,
        _ => State::default(),
    };

    let mut verifier = Verifier::new(trusted.clone()).with_producer_keys(producer_keys);
    let trusted_ids: Vec<String> = trusted.iter().map(|k| format!("{}", k.key_id())).collect();
    for (label, remembered) in &state.checkpoints {
        if trusted_ids.iter().any(|id| label.ends_with(&format!(" {id}")))
            && let Err(failure) = verifier.push_checkpoint(&remembered.note)
        {
            return fail(failure, &format!("the checkpoint remembered in the state file ({label}, size {})", remembered.size));
        }
    }
    let notes = source.checkpoints().await?;
    for note in &notes {
        if let Err(failure) = verifier.push_checkpoint(note) {
            return fail(failure, "");
        }
    }

    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.set_message("verifying ledger entries");
    let mut pushed = 0u64;
    let mut result: Result<(), VerifyFailure> = Ok(());
    source
        .for_each_entry(|entry| {
            if result.is_err() {
                return false;
            }
            let leaf = match BASE64.decode(&entry.leaf) {
                Ok(leaf) => leaf,
                Err(_) => {
                    result = Err(VerifyFailure { first_bad_index: Some(entry.index), reason: format!("entry {}: leaf is not base64", entry.index) });
                    return false;
                }
            };
            let chain: Option<Hash> = match entry.chain.as_deref().map(|c| BASE64.decode(c).ok().and_then(|b| b.try_into().ok())) {
                None => None,
                Some(Some(chain)) => Some(chain),
                Some(None) => {
                    result =
                        Err(VerifyFailure { first_bad_index: Some(entry.index), reason: format!("entry {}: chain is not base64 of 32 bytes", entry.index) });
                    return false;
                }
            };
            result = verifier.push_entry(entry.index, &leaf, chain);
            pushed += 1;
            if pushed.is_multiple_of(10_000) {
                bar.set_position(pushed);
            }
            result.is_ok()
        })
        .await?;
    bar.finish_and_clear();
    if let Err(failure) = result {
        return fail(failure, "");
    }
    let report = match verifier.finish() {
        Ok(report) => report,
        Err(failure) => return fail(failure, ""),
    };
    let witnessed = check_witnesses(&notes, &witnesses, witness_quorum)?;

    if let Some(path) = state_path {
        for (label, remembered) in &state.checkpoints {
            if trusted_ids.iter().any(|id| label.ends_with(&format!(" {id}"))) && remembered.size > report.entries {
                println!("first bad index: {}", report.entries);
                anyhow::bail!("the ledger has {} entries but {label} was verified at size {} before (rollback)", report.entries, remembered.size);
            }
        }
        if let Some(latest) = notes.last() {
            let opened = open_checkpoint(latest, &trusted).context("re-opening the latest checkpoint")?;
            for key in &opened.note.verified_by {
                let label = format!("{} {}", opened.checkpoint.origin, key.key_id());
                let keep = state.checkpoints.get(&label).is_none_or(|old| old.size <= opened.checkpoint.size);
                if keep {
                    state.checkpoints.insert(label, TrustedCheckpoint { size: opened.checkpoint.size, note: latest.clone() });
                }
            }
        }
        let text = serde_json::to_string_pretty(&state)?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    }
    println!(
        "ledger verified: {} entries, {} checkpoints, last checkpoint size {} root {}",
        report.entries,
        report.checkpoints_verified,
        report.last_size,
        BASE64.encode(report.last_root)
    );
    if let Some((size, count)) = witnessed {
        println!("witnesses: the checkpoint of size {size} holds {count} of {} trusted witness cosignatures (quorum {witness_quorum})", witnesses.len());
    }
    let producers = &report.producers;
    if producers.checked {
        println!(
            "producer signatures verified: {} entries in {} batches; {} entries recorded unverified by the anchor, {} unsigned",
            producers.signed_entries, producers.batches_verified, producers.unverified_entries, producers.unsigned_entries
        );
    } else {
        println!("producer signatures not checked (no producer key trusted): {} entries carry one", producers.signed_entries);
    }
    if let Some(first) = producers.first_unverified {
        eprintln!(
            "warning: {} entries were recorded unverified by the anchor (their producer signature failed or was missing), the first at index {first}",
            producers.unverified_entries
        );
    }
    Ok(())
}

/// With witness keys: the largest checkpoint (all of them verified above)
/// holding `quorum` valid cosignatures by distinct trusted witnesses, as
/// (size, cosignatures); none reaching it is a failure. Without: nothing to check.
fn check_witnesses(notes: &[String], witnesses: &[CosignatureVerifier], quorum: usize) -> anyhow::Result<Option<(u64, usize)>> {
    if witnesses.is_empty() {
        return Ok(None);
    }
    let mut best: Option<(u64, usize)> = None;
    for note in notes.iter().rev() {
        let size: u64 = note.lines().nth(1).and_then(|line| line.parse().ok()).context("a checkpoint without a size line")?;
        let count = witnesses.iter().filter(|witness| witness.find_in_note(note).is_some()).count();
        if count >= quorum {
            return Ok(Some((size, count)));
        }
        if best.is_none_or(|(_, most)| count > most) {
            best = Some((size, count));
        }
    }
    let (size, count) = best.unwrap_or((0, 0));
    println!("first bad index: none (no checkpoint holds the witness quorum)");
    anyhow::bail!(
        "verification failed: no checkpoint holds {quorum} cosignatures by the {} trusted witnesses (the best, size {size}, has {count})",
        witnesses.len()
    )
}

/// What a trusted key may sign.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    /// Checkpoints (the log key).
    Log,
    /// Event batches of one service.
    Producer(String),
    /// Anything else a listing names; not used.
    Other,
}

/// `<vkey>[ <role>]`, as /v1/ledger/keys lists keys; a bare vkey is a log key when `bare_is_log`.
fn parse_key_line(line: &str, bare_is_log: bool) -> anyhow::Result<(VerifierKey, Role)> {
    let line = line.trim();
    let (vkey, role) = match line.split_once(char::is_whitespace) {
        Some((vkey, role)) => (vkey, role.trim()),
        None => (line, if bare_is_log { "log" } else { "" }),
    };
    let key = VerifierKey::parse(vkey)?;
    let role = match role.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["log"] => Role::Log,
        ["producer", service] => Role::Producer((*service).to_owned()),
        _ => Role::Other,
    };
    Ok((key, role))
}

fn fail(failure: VerifyFailure, context: &str) -> anyhow::Result<()> {
    match failure.first_bad_index {
        Some(index) => println!("first bad index: {index}"),
        None => println!("first bad index: none (a checkpoint itself is bad)"),
    }
    let suffix = if context.is_empty() { String::new() } else { format!(" [{context}]") };
    anyhow::bail!("verification failed: {}{suffix}", failure.reason)
}

impl Source {
    /// Every key the target lists, with its role.
    async fn keys(&self) -> anyhow::Result<Vec<(VerifierKey, Role)>> {
        let lines: Vec<String> = match self {
            Source::Url { base, client } => {
                let text = get_text(client, &format!("{base}/v1/ledger/keys")).await?;
                text.lines().map(str::to_owned).collect()
            }
            Source::File { path } => {
                let mut lines = Vec::new();
                for line in read_lines(path)? {
                    let value: serde_json::Value = serde_json::from_str(&line?)?;
                    if value["type"] == "key" {
                        lines.push(format!("{} {}", value["vkey"].as_str().unwrap_or(""), value["role"].as_str().unwrap_or("")));
                    }
                }
                lines
            }
        };
        let mut keys = Vec::new();
        for line in lines.iter().filter(|line| !line.trim().is_empty()) {
            let role_is_used = line.trim_end().ends_with(" log") || line.contains(" producer ");
            match parse_key_line(line, false) {
                Ok(key) => keys.push(key),
                Err(e) if role_is_used => return Err(e.context(format!("served key `{line}` is not a verifier key"))),
                // A key of a role this verifier does not use, in a form it does not know: not its business.
                Err(_) => continue,
            }
        }
        Ok(keys)
    }

    async fn checkpoints(&self) -> anyhow::Result<Vec<String>> {
        let mut notes: Vec<(u64, String)> = Vec::new();
        match self {
            Source::Url { base, client } => {
                let mut from_size = 0u64;
                loop {
                    let page: serde_json::Value = get_json(client, &format!("{base}/v1/ledger/checkpoints?from_size={from_size}")).await?;
                    let list = page["checkpoints"].as_array().context("checkpoints answer has no `checkpoints` list")?;
                    if list.is_empty() {
                        break;
                    }
                    for item in list {
                        let size = item["size"].as_u64().context("checkpoint without size")?;
                        let note = item["note"].as_str().context("checkpoint without note")?;
                        notes.push((size, note.to_owned()));
                        from_size = size + 1;
                    }
                }
            }
            Source::File { path } => {
                for line in read_lines(path)? {
                    let value: serde_json::Value = serde_json::from_str(&line?)?;
                    if value["type"] == "checkpoint" {
                        let size = value["size"].as_u64().context("checkpoint line without size")?;
                        notes.push((size, value["note"].as_str().context("checkpoint line without note")?.to_owned()));
                    }
                }
            }
        }
        notes.sort_by_key(|(size, _)| *size);
        Ok(notes.into_iter().map(|(_, note)| note).collect())
    }

    /// Calls `visit` for each entry in order until it returns false.
    async fn for_each_entry(&self, mut visit: impl FnMut(Entry) -> bool) -> anyhow::Result<()> {
        match self {
            Source::Url { base, client } => {
                let mut start = 0u64;
                loop {
                    let page: serde_json::Value = get_json(client, &format!("{base}/v1/ledger/entries?start={start}&end={}", start + PAGE)).await?;
                    let list = page["entries"].as_array().context("entries answer has no `entries` list")?;
                    if list.is_empty() {
                        return Ok(());
                    }
                    for item in list {
                        let entry: Entry = serde_json::from_value(item.clone()).context("malformed entry in the answer")?;
                        if !visit(entry) {
                            return Ok(());
                        }
                    }
                    start += list.len() as u64;
                }
            }
            Source::File { path } => {
                for (line_idx, line) in read_lines(path)?.enumerate() {
                    let line = line?;
                    let value: serde_json::Value = serde_json::from_str(&line).with_context(|| format!("line {} is not JSON", line_idx + 1))?;
                    if value["type"] == "entry" {
                        let entry: Entry = serde_json::from_value(value).with_context(|| format!("line {} is not an entry", line_idx + 1))?;
                        if !visit(entry) {
                            return Ok(());
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

fn read_lines(path: &Path) -> anyhow::Result<std::io::Lines<std::io::BufReader<std::fs::File>>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(std::io::BufReader::new(file).lines())
}

async fn get_text(client: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let response = client.get(url).send().await.with_context(|| format!("GET {url}"))?;
    let status = response.status();
    anyhow::ensure!(status.is_success(), "GET {url} answered {status}");
    Ok(response.text().await?)
}

async fn get_json(client: &reqwest::Client, url: &str) -> anyhow::Result<serde_json::Value> {
    let text = get_text(client, url).await?;
    serde_json::from_str(&text).with_context(|| format!("GET {url} did not answer JSON"))
}
