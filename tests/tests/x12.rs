//! `POST /v1/claims/x12` on `claimtrail up --demo`: every 837 file of the
//! shared test data gets its acknowledgments (and the 999s and 277CAs pass
//! the independent validator), generated 837Ps are accepted and paid, a
//! repeated interchange is answered with a TA1 and not processed twice, and a
//! replacement names its original with REF*F8.

use std::path::{Path, PathBuf};
use std::time::Duration;

use claimtrail_e2e::{Embedded, wait_until};
use serde_json::Value;

fn shared_dir() -> PathBuf {
    std::env::var_os("CLAIMTRAIL_SHARED").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// Every 837 file (and the 999s filed among them) of the shared test data.
fn files_837() -> Vec<PathBuf> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, files);
            } else {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&shared_dir().join("testdata"), &mut files);
    files.retain(|path| {
        let text = path.to_string_lossy();
        (text.contains("837") || text.contains("hipaa-claim-models")) && !text.ends_with(".xml") && !text.ends_with(".md")
    });
    files.sort();
    files
}

fn key_of(up: &Embedded, role: &str) -> anyhow::Result<String> {
    let credentials: Value = serde_json::from_str(&std::fs::read_to_string(up.data_dir.path().join("demo-credentials.json"))?)?;
    credentials["tenants"]
        .as_array()
        .and_then(|tenants| tenants.iter().find(|t| t["role"] == role))
        .and_then(|t| t["api_key"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no {role} key"))
}

async fn post_x12(up: &Embedded, key: &str, body: Vec<u8>) -> anyhow::Result<(u16, Value)> {
    let response = up.client.post(format!("{}/v1/claims/x12", up.url)).bearer_auth(key).header("content-type", "application/edi-x12").body(body).send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

/// Posts a file whose interchanges `repeated` says were received before, and
/// checks the answer against the reader's own reading: the claims of the
/// others, each rejected with its reasons; a TA1 for each interchange at
/// fault or repeated (TA105 `025`); a 999 when one is processed. Returns the
/// answer and its number of claims.
async fn post_and_check(
    up: &Embedded,
    key: &str,
    name: &str,
    bytes: &[u8],
    reading: &claimtrail_x12::Reading,
    repeated: &[bool],
) -> anyhow::Result<(Value, usize)> {
    let expected_claims = reading.claims().filter(|c| !repeated[c.position.interchange]).count();
    let (status, answer) = post_x12(up, key, bytes.to_vec()).await?;
    assert_eq!(status, 202, "{name}: {answer}");
    let outcomes = answer["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), expected_claims, "{name}: {answer}");
    for outcome in outcomes {
        // Old dates, ICD-9 codes and payers nobody registered: none of these claims is payable here.
        assert_eq!(outcome["status"], "rejected", "{name}: {outcome}");
        assert!(!outcome["issues"].as_array().unwrap().is_empty(), "{name}: {outcome}");
    }
    let faulted = reading.interchanges.iter().zip(repeated).any(|(i, repeated)| i.fault.is_some() || *repeated);
    let processed = reading.interchanges.iter().zip(repeated).any(|(i, repeated)| i.fault.is_none() && !*repeated);
    assert_eq!(answer["ta1"].is_string(), faulted, "{name}: ta1 {}", answer["ta1"]);
    let n_repeated = repeated.iter().filter(|repeated| **repeated).count();
    assert_eq!(answer["ta1"].as_str().unwrap_or_default().matches("*R*025~").count(), n_repeated, "{name}: ta1 {}", answer["ta1"]);
    assert_eq!(answer["ack_999"].is_string(), processed, "{name}: ack_999 {}", answer["ack_999"]);
    if expected_claims > 0 {
        let ack = answer["ack_277ca"].as_str().unwrap_or_default();
        assert!(ack.contains("STC*A3:") || ack.contains("STC*A7:"), "{name}: {ack}");
    } else {
        assert!(answer["ack_277ca"].is_null(), "{name}: {answer}");
    }
    Ok((answer, expected_claims))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_837_of_the_test_data_is_acknowledged_and_the_acknowledgments_validate() -> anyhow::Result<()> {
    let files = files_837();
    assert!(files.len() > 50, "the shared test data has {} 837 files; is ../shared there?", files.len());
    let up = Embedded::start(&[]).await?;
    let admin = key_of(&up, "admin")?;
    let ack_dir = tempfile::tempdir()?;
    let mut acks = Vec::new();
    let (mut n_claims, mut n_repeated) = (0, 0);
    for (file_idx, file) in files.iter().enumerate() {
        let bytes = std::fs::read(file)?;
        // Many of these files share a sender and an interchange control number: each file is taken as the
        // first from its sender, then sent again as a repeat.
        up.execute("DELETE FROM \"intake_x12_interchanges\"").await?;
        // What the reader makes of it, independently of intake.
        let options = claimtrail_x12::ReadOptions { today: claimtrail_e2e::today(), limits: claimtrail_x12::Limits::DEFAULT };
        let reading = claimtrail_x12::read(&bytes, &options)?;
        let name = file.display().to_string();

        // First sent: nothing is a repeat. Sent again: every interchange whose envelope is sound is a repeat.
        let first_time = vec![false; reading.interchanges.len()];
        let (answer, expected_claims) = post_and_check(&up, &admin, &name, &bytes, &reading, &first_time).await?;
        let again: Vec<bool> = reading.interchanges.iter().map(|i| i.fault.is_none() && i.duplicate_key().is_some()).collect();
        let (_, n_again) = post_and_check(&up, &admin, &name, &bytes, &reading, &again).await?;
        n_repeated += again.iter().filter(|repeated| **repeated).count();
        n_claims += expected_claims + n_again;
        // The 999 guide (X231A1) lists only health care group ids for AK101; a group that is not one
        // (a 999 sent as input) is still acknowledged, echoing its id, which that map cannot check.
        let health_care = reading.interchanges.iter().flat_map(|i| &i.groups).all(|group| group.functional_id == "HC");
        for kind in ["ack_999", "ack_277ca"] {
            if kind == "ack_999" && !health_care {
                continue;
            }
            if let Some(text) = answer[kind].as_str() {
                let path = ack_dir.path().join(format!("{file_idx:03}-{kind}.x12"));
                std::fs::write(&path, text)?;
                acks.push(path);
            }
        }
    }
    assert!(n_repeated > 20, "only {n_repeated} interchanges were sent twice");
    assert!(n_claims > 20, "only {n_claims} claims in the test data");
    assert_eq!(up.count("intake", "claims").await?, n_claims as i64, "every claim is kept, with its reasons");

    // The acknowledgments intake sent pass pyx12's implementation-guide maps.
    let tool = shared_dir().join("tools/validate-x12");
    let output = std::process::Command::new(&tool).args(&acks).env("VERBOSE", "1").output()?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "validate-x12 refused intake's acknowledgments:\n{text}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_837ps_are_accepted_paid_not_taken_twice_and_replaced_by_ref_f8() -> anyhow::Result<()> {
    let up = Embedded::start(&[]).await?;
    let output = up.command(&["generate", "--format", "x12", "--claims", "30", "--bundle-size", "15", "--seed", "3"]).output().await?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout)?;
    assert_eq!(text.matches("ISA*").count(), 2, "two interchanges of 15 claims");
    let validated = tempfile::NamedTempFile::new()?;
    std::fs::write(validated.path(), &text)?;
    let check = std::process::Command::new(shared_dir().join("tools/validate-x12")).arg(validated.path()).env("VERBOSE", "1").output()?;
    assert!(check.status.success(), "validate-x12 refused the generated 837P: {}", String::from_utf8_lossy(&check.stdout));

    let (status, answer) = post_x12(&up, &up.api_key, text.clone().into_bytes()).await?;
    assert_eq!(status, 202, "{answer}");
    assert!(answer["ta1"].is_null(), "{answer}");
    let claim_ids: Vec<String> = answer["claim_ids"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned()).collect();
    assert_eq!(claim_ids.len(), 30);
    assert!(answer["outcomes"].as_array().unwrap().iter().all(|o| o["status"] == "accepted"), "{answer}");
    let ack_999 = answer["ack_999"].as_str().unwrap();
    assert!(ack_999.contains("IK5*A") && ack_999.contains("AK9*A*1*1*1"), "{ack_999}");
    let ack_277ca = answer["ack_277ca"].as_str().unwrap();
    assert_eq!(ack_277ca.matches("STC*A1:20").count(), 30, "{ack_277ca}");
    for claim_id in &claim_ids {
        assert!(ack_277ca.contains(&format!("REF*1K*{claim_id}")), "{claim_id} in {ack_277ca}");
    }
    up.wait_settled(30, Duration::from_secs(120)).await?;
    let status = up.claim_status(&claim_ids[0]).await?;
    assert_eq!(status["status"], "adjudicated", "{status}");

    // The same file again: each interchange answered by a TA1 (025, duplicate), nothing stored.
    let (status, again) = post_x12(&up, &up.api_key, text.clone().into_bytes()).await?;
    assert_eq!(status, 202);
    let ta1 = again["ta1"].as_str().unwrap_or_default();
    assert_eq!(ta1.matches("*R*025").count(), 2, "{ta1}");
    assert!(again["claim_ids"].as_array().unwrap().is_empty() && again["ack_277ca"].is_null(), "{again}");
    assert_eq!(up.count("intake", "claims").await?, 30);

    // A replacement (CLM05-3 = 7) of the first claim, naming it in REF*F8, in a new interchange.
    let options = claimtrail_x12::ReadOptions { today: claimtrail_e2e::today(), limits: claimtrail_x12::Limits::DEFAULT };
    let reading = claimtrail_x12::read(text.as_bytes(), &options)?;
    let first = reading.claims().next().unwrap().clone();
    let mut replacement = first.claim.claim.clone();
    replacement.frequency = claimtrail_events::Frequency::Replacement;
    replacement.related_claim_id = Some(claim_ids[0].clone());
    let name = claimtrail_x12::PersonName { last: "Synthetic".into(), first: "Pat".into() };
    let to_write = claimtrail_x12::ClaimToWrite {
        claim: &replacement,
        billing_provider_name: "Riverside Family Practice",
        billing_tin: "123456789",
        payer_name: "Demo Health Plan",
        name: &name,
        birth_date: time::macros::date!(1961 - 04 - 12),
        sex: "F",
    };
    let header = reading.interchanges[0].header.clone().unwrap();
    let outgoing = claimtrail_x12::Outgoing837 {
        sender_qualifier: header.sender_qualifier.clone(),
        sender_id: header.sender_id.clone(),
        receiver_qualifier: header.receiver_qualifier.clone(),
        receiver_id: header.receiver_id.clone(),
        interchange_control_number: 777,
        group_control_number: 777,
        date: claimtrail_e2e::today(),
        time: time::Time::MIDNIGHT,
        test: false,
        submitter: first.submitter.clone(),
        receiver: first.receiver.clone(),
    };
    let file = claimtrail_x12::write_837p(&outgoing, &[to_write]);
    assert!(file.contains(&format!("REF*F8*{}", claim_ids[0])), "{file}");
    let (status, answer) = post_x12(&up, &up.api_key, file.into_bytes()).await?;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["outcomes"][0]["status"], "accepted", "{answer}");
    wait_until(Duration::from_secs(60), || async {
        let original = up.claim_status(&claim_ids[0]).await?;
        Ok((original["status"] == "replaced", format!("original {}", original["status"])))
    })
    .await?;
    Ok(())
}

/// `text` with the NPI of its `nth` (0-based) billing provider (NM1*85) set to `npi`.
fn with_billing_npi(text: &str, nth: usize, npi: &str) -> String {
    let mut segments: Vec<String> = text.split('~').map(str::to_owned).collect();
    let segment = segments.iter_mut().filter(|segment| segment.trim_start().starts_with("NM1*85*")).nth(nth).expect("no such billing provider");
    let (head, _) = segment.rsplit_once('*').expect("NM109");
    *segment = format!("{head}*{npi}");
    segments.join("~")
}

#[tokio::test(flavor = "multi_thread")]
async fn claims_billed_under_an_npi_the_organization_does_not_hold_are_rejected_one_by_one() -> anyhow::Result<()> {
    // Arrange: NPI 1234567893 belongs to another organization; the demo provider holds the demo NPIs.
    let up = Embedded::start(&[]).await?;
    let admin = key_of(&up, "admin")?;
    let provider = serde_json::json!({"entity_type": 1, "name": "Lakeside Doc", "tin": "987654321", "taxonomy": "207Q00000X", "organization": "Lakeside Clinic",
        "licence": null, "pay_to": {"name": "Lakeside", "address_line": "1 Lake St", "city": "Springfield", "state": "IL", "postal_code": "62701"}, "bank_account": null});
    let response = up.client.put(format!("{}/v1/providers/1234567893", up.url)).bearer_auth(&admin).json(&provider).send().await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    let output = up.command(&["generate", "--format", "x12", "--claims", "3", "--bundle-size", "3", "--seed", "11"]).output().await?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = with_billing_npi(&String::from_utf8(output.stdout)?, 1, "1234567893");

    // Act: a provider key sends an interchange whose second claim is billed under the other organization's NPI.
    let (status, answer) = post_x12(&up, &up.api_key, text.clone().into_bytes()).await?;

    // Assert: acknowledged; that claim alone is rejected (A7:562:85, billing provider's NPI), the others are accepted.
    assert_eq!(status, 202, "{answer}");
    assert!(answer["ta1"].is_null(), "{answer}");
    let statuses: Vec<&str> = answer["outcomes"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["accepted", "rejected", "accepted"], "{answer}");
    let issues = &answer["outcomes"][1]["issues"];
    assert_eq!(issues.as_array().unwrap().len(), 1, "{issues}");
    assert_eq!((issues[0]["code"].as_str(), issues[0]["path"].as_str()), (Some("billing-npi-not-held"), Some("2010AA/NM109")), "{issues}");
    let ack_999 = answer["ack_999"].as_str().unwrap();
    assert!(ack_999.contains("IK5*A~") && ack_999.contains("AK9*A*1*1*1~"), "{ack_999}");
    let ack_277ca = answer["ack_277ca"].as_str().unwrap();
    assert_eq!(ack_277ca.matches("STC*A7:562:85*").count(), 1, "{ack_277ca}");
    assert_eq!(ack_277ca.matches("STC*A1:20*").count(), 2, "{ack_277ca}");
    for claim_idx in [0, 2] {
        let claim_id = answer["claim_ids"][claim_idx].as_str().unwrap();
        assert!(ack_277ca.contains(&format!("REF*1K*{claim_id}~")), "{claim_id} in {ack_277ca}");
    }
    assert_eq!(up.count("intake", "claims").await?, 3, "the rejected claim is kept with its reason");
    let dir = tempfile::tempdir()?;
    let files = [dir.path().join("foreign.999"), dir.path().join("foreign.277")];
    std::fs::write(&files[0], ack_999)?;
    std::fs::write(&files[1], ack_277ca)?;
    let check = std::process::Command::new(shared_dir().join("tools/validate-x12")).args(&files).env("VERBOSE", "1").output()?;
    assert!(check.status.success(), "validate-x12 refused the acknowledgments: {}", String::from_utf8_lossy(&check.stdout));

    // Keys that may not submit claims at all are refused, and nothing is stored.
    for role in ["payer", "finance"] {
        let key = key_of(&up, role)?;
        let response = up
            .client
            .post(format!("{}/v1/claims/x12", up.url))
            .bearer_auth(&key)
            .header("content-type", "application/edi-x12")
            .body(text.clone())
            .send()
            .await?;
        assert_eq!(response.status(), 403, "{role}: {}", response.text().await?);
    }
    assert_eq!(up.count("intake", "claims").await?, 3);
    Ok(())
}
