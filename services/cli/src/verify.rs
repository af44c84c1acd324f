//! `claimtrail verify <URL|EXPORT-FILE> [--key VKEY]... [--state FILE] [--api-key KEY]`.
//!
//! Needs only the entries, the checkpoints and the public keys: recomputes
//! every leaf hash, the hash chain, the Merkle root at every checkpoint size
//! and every checkpoint signature, and names the first bad index. With
//! `--state`, the last verified checkpoint per (origin, key id) is kept and
//! must still hold (same root at its size, the ledger no smaller) next time.
//!
//! Against a URL it also checks the proofs the server hands to light
//! clients: inclusion proofs of sampled entries and consistency proofs
//! between verified checkpoints, against the roots it recomputed. The server
//! is not trusted: answers are size-capped, pages must move forward, and a
//! log key that the state file trusted but the server no longer lists fails.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_ledger::hash::{Hash, leaf_hash};
use claimtrail_ledger::merkle::{verify_consistency, verify_inclusion};
use claimtrail_ledger::note::{CosignatureVerifier, VerifierKey, open_checkpoint};
use claimtrail_ledger::verify::{ENTRIES_PER_RUN, EntryBytes, Verifier, VerifyFailure};
use serde::{Deserialize, Serialize};

/// Entries fetched per request (the API's page limit).
const PAGE: u64 = 1_000;
/// The largest answer read from a server (a page of 1,000 entries is about 1.5 MB).
const RESPONSE_BYTES_MAX: usize = 64 << 20;
/// Entries whose served inclusion proofs are checked against the latest checkpoint.
const INCLUSION_SAMPLES: u64 = 8;

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

/// One line of an export file (`claimtrail ledger export`). Unknown and
/// missing fields are refused: a renamed field must not pass as an absent one.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum ExportLine {
    Key { vkey: String, role: String },
    Entry { index: u64, leaf: String, chain: String },
    Checkpoint { size: u64, note: String },
}

enum Source {
    Url { base: String, client: reqwest::Client },
    File { path: std::path::PathBuf },
}

pub async fn run(target: &str, key_texts: &[String], state_path: Option<&Path>, witness_quorum: Option<usize>, api_key: Option<&str>) -> anyhow::Result<()> {
    let source = if target.starts_with("http://") || target.starts_with("https://") {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(api_key) = api_key {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {api_key}")).context("--api-key is not a valid header value")?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        Source::Url { base: target.trim_end_matches('/').to_owned(), client: reqwest::Client::builder().default_headers(headers).build()? }
    } else {
        let path = std::path::PathBuf::from(target);
        anyhow::ensure!(path.is_file(), "{target} is neither an http(s) URL nor an export file");
        Source::File { path }
    };

    // Witness keys are cosignature keys (type 0x04), given as `"VKEY witness"`.
    let (witness_texts, key_texts): (Vec<&String>, Vec<&String>) = key_texts.iter().partition(|text| text.trim_end().ends_with(" witness"));
    let mut witnesses: Vec<CosignatureVerifier> = witness_texts
        .iter()
        .map(|text| {
            let vkey = text.trim().trim_end_matches("witness").trim();
            CosignatureVerifier::parse(vkey).with_context(|| format!("--key {text} is not a witness cosignature key"))
        })
        .collect::<anyhow::Result<_>>()?;
    // A witness is its key (name and key id): given twice, it is still one.
    let mut seen = BTreeSet::new();
    witnesses.retain(|witness| seen.insert((witness.name().to_owned(), witness.key_id())));
    let witness_quorum = witness_quorum.unwrap_or(witnesses.len());
    anyhow::ensure!(
        witness_quorum <= witnesses.len(),
        "--witness-quorum {witness_quorum} needs at least that many distinct witness keys (--key \"VKEY witness\"), not {}",
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
    let is_trusted_label = |label: &str| label.rsplit_once(' ').is_some_and(|(_, id)| trusted_ids.iter().any(|trusted| trusted == id));
    for (label, remembered) in &state.checkpoints {
        let origin = label.rsplit_once(' ').map_or(label.as_str(), |(origin, _)| origin);
        let origin_still_trusted = state.checkpoints.keys().any(|other| other.starts_with(&format!("{origin} ")) && is_trusted_label(other));
        if !origin_still_trusted {
            anyhow::bail!(
                "the state file trusts {label} at size {}, but no key trusted now has signed for {origin}: the log key changed without a rotation \
                 (a rotation keeps the old key listed). Pass the old key with --key, or remove the state file to start over",
                remembered.size
            );
        }
    }
    for (label, remembered) in &state.checkpoints {
        if is_trusted_label(label)
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

    // The verified checkpoints' (size, root), for the proof checks below.
    let heads: Vec<(u64, Hash)> = notes
        .iter()
        .filter_map(|note| open_checkpoint(note, &trusted).ok())
        .map(|opened| (opened.checkpoint.size, opened.checkpoint.root))
        .filter(|(size, _)| *size > 0)
        .collect();
    let samples: Vec<u64> = match heads.last() {
        Some(&(size, _)) => sample_indexes(size),
        None => Vec::new(),
    };
    let mut sampled: Vec<(u64, Hash)> = Vec::new();
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.set_message("verifying ledger entries");
    let mut pushed = 0u64;
    let mut result: Result<(), VerifyFailure> = Ok(());
    // Entries are checked in runs, their leaves decoded and hashed on every core.
    let mut run: Vec<EntryBytes> = Vec::with_capacity(ENTRIES_PER_RUN);
    source
        .for_each_entry(|entry| {
            if result.is_err() {
                return false;
            }
            let decoded = BASE64.decode(&entry.leaf).map_err(|_| format!("entry {}: leaf is not base64", entry.index)).and_then(|leaf| {
                match entry.chain.as_deref().map(|c| BASE64.decode(c).ok().and_then(|b| Hash::try_from(b).ok())) {
                    None => Ok((leaf, None)),
                    Some(Some(chain)) => Ok((leaf, Some(chain))),
                    Some(None) => Err(format!("entry {}: chain is not base64 of 32 bytes", entry.index)),
                }
            });
            let (leaf, chain) = match decoded {
                Ok(decoded) => decoded,
                Err(reason) => {
                    // Entries before it are checked first: an earlier fault is the first bad index.
                    result = verifier.push_entries(&run).and(Err(VerifyFailure { first_bad_index: Some(entry.index), reason }));
                    return false;
                }
            };
            if samples.binary_search(&entry.index).is_ok() {
                sampled.push((entry.index, leaf_hash(&leaf)));
            }
            run.push((entry.index, leaf, chain));
            if run.len() == ENTRIES_PER_RUN {
                result = verifier.push_entries(&run);
                run.clear();
                pushed += ENTRIES_PER_RUN as u64;
                bar.set_position(pushed);
            }
            result.is_ok()
        })
        .await?;
    if result.is_ok() {
        result = verifier.push_entries(&run);
    }
    bar.finish_and_clear();
    if let Err(failure) = result {
        return fail(failure, "");
    }
    let report = match verifier.finish() {
        Ok(report) => report,
        Err(failure) => return fail(failure, ""),
    };
    let witnessed = check_witnesses(&notes, &witnesses, witness_quorum)?;
    let remembered_sizes: Vec<u64> = state.checkpoints.iter().filter(|(label, _)| is_trusted_label(label)).map(|(_, c)| c.size).collect();
    let proofs = match &source {
        Source::Url { base, client } => Some(check_served_proofs(base, client, &heads, &sampled, &remembered_sizes).await?),
        Source::File { .. } => None,
    };

    if let Some(path) = state_path {
        for (label, remembered) in &state.checkpoints {
            if is_trusted_label(label) && remembered.size > report.entries {
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
    if let Some((inclusion, consistency)) = proofs {
        println!("proofs served by {target} verified: {inclusion} inclusion, {consistency} consistency");
    }
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

/// Which entries' inclusion proofs to check in a tree of `size`: the first,
/// the last, and evenly spread ones between, sorted.
fn sample_indexes(size: u64) -> Vec<u64> {
    let mut indexes: Vec<u64> = (0..INCLUSION_SAMPLES).map(|k| k * (size - 1) / (INCLUSION_SAMPLES - 1)).collect();
    indexes.dedup();
    indexes
}

/// Checks the server's proofs against roots recomputed from the entries:
/// the inclusion of each sampled entry in the latest checkpoint, and the
/// consistency of the first, a middle and every remembered checkpoint with
/// it. Returns how many of each were checked.
async fn check_served_proofs(
    base: &str,
    client: &reqwest::Client,
    heads: &[(u64, Hash)],
    sampled: &[(u64, Hash)],
    remembered_sizes: &[u64],
) -> anyhow::Result<(usize, usize)> {
    let Some(&(size, root)) = heads.last() else { return Ok((0, 0)) };
    let decode = |value: &serde_json::Value, what: &str| -> anyhow::Result<Vec<Hash>> {
        let list = value["hashes"].as_array().with_context(|| format!("the {what} proof has no `hashes` list"))?;
        list.iter()
            .map(|hash| {
                hash.as_str()
                    .and_then(|text| BASE64.decode(text).ok())
                    .and_then(|bytes| Hash::try_from(bytes).ok())
                    .with_context(|| format!("the {what} proof holds a hash that is not base64 of 32 bytes"))
            })
            .collect()
    };
    for &(index, leaf) in sampled {
        let what = format!("inclusion of entry {index} in size {size}");
        let answer = get_json(client, &format!("{base}/v1/ledger/proofs/inclusion?index={index}&size={size}")).await?;
        let proof = decode(&answer, &what)?;
        verify_inclusion(index, size, &leaf, &proof, &root)
            .map_err(|e| anyhow::anyhow!("verification failed: the server's proof of {what} does not verify: {e}"))?;
    }
    let mut olds: Vec<(u64, Hash)> = Vec::new();
    let candidates = [heads.first().map(|h| h.0), heads.get(heads.len() / 2).map(|h| h.0)];
    for old_size in candidates.into_iter().flatten().chain(remembered_sizes.iter().copied()) {
        if let Some(head) = heads.iter().find(|(s, _)| *s == old_size && *s < size)
            && !olds.contains(head)
        {
            olds.push(*head);
        }
    }
    for &(old_size, old_root) in &olds {
        let what = format!("consistency from size {old_size} to {size}");
        let answer = get_json(client, &format!("{base}/v1/ledger/proofs/consistency?from={old_size}&to={size}")).await?;
        let proof = decode(&answer, &what)?;
        verify_consistency(old_size, size, &old_root, &root, &proof)
            .map_err(|e| anyhow::anyhow!("verification failed: the server's proof of {what} does not verify: {e}"))?;
    }
    Ok((sampled.len(), olds.len()))
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
        let count = cosigners_in(note, witnesses);
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

/// How many distinct witness keys (name and key id) among `witnesses` hold a valid cosignature in `note`.
fn cosigners_in(note: &str, witnesses: &[CosignatureVerifier]) -> usize {
    witnesses.iter().filter(|witness| witness.find_in_note(note).is_some()).map(|witness| (witness.name(), witness.key_id())).collect::<BTreeSet<_>>().len()
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
                for line in export_lines(path)? {
                    if let ExportLine::Key { vkey, role } = line? {
                        lines.push(format!("{vkey} {role}"));
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
                        anyhow::ensure!(
                            size >= from_size,
                            "{base} answered a checkpoint of size {size} to a request from size {from_size}: its pages do not move forward"
                        );
                        let note = item["note"].as_str().context("checkpoint without note")?;
                        notes.push((size, note.to_owned()));
                        from_size = size + 1;
                    }
                }
            }
            Source::File { path } => {
                for line in export_lines(path)? {
                    if let ExportLine::Checkpoint { size, note } = line? {
                        notes.push((size, note));
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
                for line in export_lines(path)? {
                    if let ExportLine::Entry { index, leaf, chain } = line?
                        && !visit(Entry { index, leaf, chain: Some(chain) })
                    {
                        return Ok(());
                    }
                }
                Ok(())
            }
        }
    }
}

/// The lines of an export file, each parsed strictly; an error names the file, the line and what is wrong.
fn export_lines(path: &Path) -> anyhow::Result<impl Iterator<Item = anyhow::Result<ExportLine>>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let display = path.display().to_string();
    Ok(std::io::BufReader::new(file).lines().enumerate().map(move |(line_idx, line)| {
        let line = line.with_context(|| format!("reading {display} line {}", line_idx + 1))?;
        parse_export_line(&line).with_context(|| format!("{display} line {} is not a valid export line", line_idx + 1))
    }))
}

/// One export line: `{"type": "key"|"entry"|"checkpoint", ...}` with exactly that type's fields.
fn parse_export_line(line: &str) -> Result<ExportLine, serde_json::Error> {
    serde_json::from_str(line)
}

async fn get_text(client: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let mut response = client.get(url).send().await.with_context(|| format!("GET {url}"))?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        anyhow::bail!("GET {url} answered {status}: the ledger is read with an auditor, admin or payer key (--api-key or CLAIMTRAIL_API_KEY)");
    }
    anyhow::ensure!(status.is_success(), "GET {url} answered {status}");
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.with_context(|| format!("reading the answer to GET {url}"))? {
        anyhow::ensure!(body.len() + chunk.len() <= RESPONSE_BYTES_MAX, "GET {url} answered more than {RESPONSE_BYTES_MAX} bytes");
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).with_context(|| format!("GET {url} did not answer UTF-8"))
}

async fn get_json(client: &reqwest::Client, url: &str) -> anyhow::Result<serde_json::Value> {
    let text = get_text(client, url).await?;
    serde_json::from_str(&text).with_context(|| format!("GET {url} did not answer JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_ledger::note::Cosigner;

    #[test]
    fn each_kind_of_export_line_is_read_with_its_fields() {
        let key = parse_export_line(r#"{"type":"key","vkey":"v","role":"log"}"#).unwrap();
        assert!(matches!(key, ExportLine::Key { vkey, role } if vkey == "v" && role == "log"));
        let entry = parse_export_line(r#"{"type":"entry","index":3,"leaf":"bGVhZg==","chain":"Y2hhaW4="}"#).unwrap();
        assert!(matches!(entry, ExportLine::Entry { index: 3, leaf, chain } if leaf == "bGVhZg==" && chain == "Y2hhaW4="));
        let checkpoint = parse_export_line(r#"{"type":"checkpoint","size":10,"note":"n"}"#).unwrap();
        assert!(matches!(checkpoint, ExportLine::Checkpoint { size: 10, note } if note == "n"));
    }

    #[test]
    fn an_export_line_with_a_renamed_field_is_refused_naming_it() {
        let error = parse_export_line(r#"{"type":"entry","index":3,"leaf":"bGVhZg==","chian":"Y2hhaW4="}"#).unwrap_err().to_string();
        assert!(error.contains("unknown field `chian`"), "{error}");
    }

    #[test]
    fn an_export_line_with_an_extra_field_is_refused() {
        let error = parse_export_line(r#"{"type":"checkpoint","size":10,"note":"n","cosigned":true}"#).unwrap_err().to_string();
        assert!(error.contains("unknown field `cosigned`"), "{error}");
    }

    #[test]
    fn an_export_line_without_a_required_field_is_refused_naming_it() {
        let error = parse_export_line(r#"{"type":"entry","index":3,"leaf":"bGVhZg=="}"#).unwrap_err().to_string();
        assert!(error.contains("missing field `chain`"), "{error}");
        let error = parse_export_line(r#"{"type":"key","vkey":"v"}"#).unwrap_err().to_string();
        assert!(error.contains("missing field `role`"), "{error}");
    }

    #[test]
    fn an_export_line_of_an_unknown_type_or_without_one_is_refused() {
        let error = parse_export_line(r#"{"type":"entries","index":3}"#).unwrap_err().to_string();
        assert!(error.contains("unknown variant `entries`"), "{error}");
        let error = parse_export_line(r#"{"index":3,"leaf":"bGVhZg==","chain":"Y2hhaW4="}"#).unwrap_err().to_string();
        assert!(error.contains("missing field `type`"), "{error}");
    }

    #[test]
    fn an_error_in_an_export_file_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.jsonl");
        let lines = [r#"{"type":"key","vkey":"v","role":"log"}"#, r#"{"type":"entry","index":0,"leaf":"bGVhZg==","chian":"Y2hhaW4="}"#];
        std::fs::write(&path, lines.join("\n")).unwrap();
        let results: Vec<anyhow::Result<ExportLine>> = export_lines(&path).unwrap().collect();
        assert!(results[0].is_ok());
        let error = format!("{:#}", results[1].as_ref().unwrap_err());
        assert!(error.contains("line 2 is not a valid export line") && error.contains("unknown field `chian`"), "{error}");
    }

    #[test]
    fn a_witness_key_given_twice_counts_once_toward_the_quorum() {
        let body = "claimtrail.test/ledger\n8\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let one = Cosigner::generate("witness.test/w1").unwrap();
        let two = Cosigner::generate("witness.test/w2").unwrap();
        let three = Cosigner::generate("witness.test/w3").unwrap();
        let note = format!("{body}\n\u{2014} claimtrail.test/ledger AAAA\n{}{}", one.cosign(body, 1_000), two.cosign(body, 1_000));
        assert_eq!(cosigners_in(&note, &[one.verifier(), two.verifier(), three.verifier()]), 2);
        assert_eq!(cosigners_in(&note, &[one.verifier(), one.verifier(), three.verifier()]), 1);
        let notes = [note];
        assert_eq!(check_witnesses(&notes, &[one.verifier(), two.verifier(), three.verifier()], 2).unwrap(), Some((8, 2)));
        assert!(check_witnesses(&notes, &[one.verifier(), one.verifier(), three.verifier()], 2).is_err());
    }
}
