//! Coordination of benefits as the secondary payer, end to end on Postgres
//! and JetStream (issue 17): claims-domain.md's scenario 12 sent to the
//! payer as the secondary, once as an 837P (2000B SBR*S, the primary's 2320
//! SBR/AMT*D with 2330B, and its 2430 SVD/CAS) and once as a FHIR Claim (the
//! focal insurance at sequence 2, the primary's ClaimResponse contained and
//! named by `insurance.claimResponse`). With the secondary's fee of 365 each
//! pays 65, with OA-23 425 (what the primary paid or wrote off) and CO-45 10,
//! the member owing nothing; the explanation shows the COB step and the
//! decision replays byte-identical; the plan refuses an unknown COB method
//! at its path. Settlement's 835 carries CLP02 2 and the OA-23, and passes
//! ../shared/tools/validate-x12 and x835-balance.

use std::path::{Path, PathBuf};
use std::time::Duration;

use claimtrail_e2e::{PAYER_ID, Stack, adjustment_pair, day, first_line_adjustments, sample_claim, service_date};
use serde_json::{Value, json};

const DECIDED: Duration = Duration::from_secs(30);

fn shared_dir() -> PathBuf {
    std::env::var_os("CLAIMTRAIL_SHARED").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// Runs one of ../shared/tools on `files`, failing with its report.
fn validate(tool: &str, files: &[PathBuf]) {
    let output = std::process::Command::new(shared_dir().join("tools").join(tool)).args(files).output().expect("running a shared validator");
    assert!(output.status.success(), "{tool} refused {files:?}:\n{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
}

/// Scenario 12 as an 837P to payer 60054 as the secondary: billed 500 (J1100), Medicare paid 300, PR-1 75, CO-45 125.
fn secondary_837p(pcn: &str) -> String {
    let served = service_date().replace('-', "");
    let segments = [
        "ISA*00*          *00*          *ZZ*RIVERSIDE      *ZZ*60054          *260215*1200*^*00501*000001701*0*T*:".to_owned(),
        "GS*HC*RIVERSIDE*60054*20260215*1200*1701*X*005010X222A1".to_owned(),
        "ST*837*0001*005010X222A1".to_owned(),
        "BHT*0019*00*COB0001*20260215*1200*CH".to_owned(),
        "NM1*41*2*RIVERSIDE FAMILY PRACTICE*****46*RIVERSIDE".to_owned(),
        "PER*IC*CLAIMS DESK*TE*8005550100".to_owned(),
        "NM1*40*2*TEST HEALTH PLAN*****46*60054".to_owned(),
        "HL*1**20*1".to_owned(),
        "NM1*85*2*RIVERSIDE FAMILY PRACTICE*****XX*1245319599".to_owned(),
        "N3*100 RIVER ROAD".to_owned(),
        "N4*SPRINGFIELD*IL*627010000".to_owned(),
        "REF*EI*123456789".to_owned(),
        "HL*2*1*22*0".to_owned(),
        "SBR*S*18*GRP01******MC".to_owned(),
        "NM1*IL*1*SYNTHETIC*PAT****MI*MBR-0001".to_owned(),
        "N3*5 ELM ST".to_owned(),
        "N4*SPRINGFIELD*IL*627010000".to_owned(),
        "DMG*D8*19610412*F".to_owned(),
        "NM1*PR*2*TEST HEALTH PLAN*****PI*60054".to_owned(),
        format!("CLM*{pcn}*500.00***11:B:1*Y*A*Y*Y"),
        "HI*ABK:J069".to_owned(),
        "SBR*P*18*MEDICAREGRP******MB".to_owned(),
        "AMT*D*300.00".to_owned(),
        "OI***Y***Y".to_owned(),
        "NM1*IL*1*SYNTHETIC*PAT****MI*1EG4TE5MK73".to_owned(),
        "NM1*PR*2*MEDICARE*****PI*MEDICARE01".to_owned(),
        "LX*1".to_owned(),
        "SV1*HC:J1100*500.00*UN*1***1".to_owned(),
        format!("DTP*472*D8*{served}"),
        "SVD*MEDICARE01*300.00*HC:J1100**1".to_owned(),
        "CAS*PR*1*75.00".to_owned(),
        "CAS*CO*45*125.00".to_owned(),
        format!("DTP*573*D8*{served}"),
    ];
    let n_segments = segments.len() - 2 + 1;
    let mut text: String = segments.iter().map(|segment| format!("{segment}~\n")).collect();
    text.push_str(&format!("SE*{n_segments}*0001~\nGE*1*1701~\nIEA*1*000001701~\n"));
    text
}

/// Scenario 12 as a FHIR Claim to payer 60054 as the secondary, the primary's ClaimResponse contained (served the day before).
fn secondary_fhir(pcn: &str) -> Value {
    let mut claim = sample_claim(pcn);
    let mut item = claim["item"][2].clone();
    item["sequence"] = json!(1);
    item["quantity"] = json!({"value": 1});
    item["unitPrice"] = json!({"value": 500.00, "currency": "USD"});
    item["net"] = json!({"value": 500.00, "currency": "USD"});
    // The day before the 837P's service: the same service on the same day would be an exact duplicate (CO-18).
    let served = day(-31);
    item["servicedDate"] = json!(served);
    claim["billablePeriod"] = json!({"start": served, "end": served});
    claim["item"] = json!([item]);
    claim["total"] = json!({"value": 500.00, "currency": "USD"});
    let adjudication = "http://terminology.hl7.org/CodeSystem/adjudication";
    let carc = "https://x12.org/codes/claim-adjustment-reason-codes";
    let primary = json!({
        "resourceType": "ClaimResponse", "id": "primary", "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "claim", "patient": {"reference": "#patient"}, "created": format!("{}T10:00:00Z", service_date()),
        "insurer": {"identifier": {"value": "MEDICARE01"}}, "outcome": "complete",
        "item": [{"itemSequence": 1, "adjudication": [
            {"category": {"coding": [{"system": adjudication, "code": "submitted"}]}, "amount": {"value": 500.00, "currency": "USD"}},
            {"category": {"coding": [{"system": adjudication, "code": "eligible"}]}, "amount": {"value": 375.00, "currency": "USD"}},
            {"category": {"coding": [{"system": adjudication, "code": "deductible"}]}, "reason": {"coding": [{"system": carc, "code": "1"}], "text": "PR-1"},
             "amount": {"value": 75.00, "currency": "USD"}},
            {"category": {"coding": [{"system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication", "code": "discount"}]},
             "reason": {"coding": [{"system": carc, "code": "45"}], "text": "CO-45"}, "amount": {"value": 125.00, "currency": "USD"}},
            {"category": {"coding": [{"system": adjudication, "code": "benefit"}]}, "amount": {"value": 300.00, "currency": "USD"}}
        ]}],
        "payment": {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/ex-paymenttype", "code": "complete"}]},
                    "amount": {"value": 300.00, "currency": "USD"}}
    });
    let medicare = json!({"resourceType": "Coverage", "id": "medicare", "status": "active", "subscriberId": "1EG4TE5MK73",
        "beneficiary": {"reference": "#patient"}, "payor": [{"identifier": {"value": "MEDICARE01"}}]});
    claim["contained"].as_array_mut().expect("contained").extend([primary, medicare]);
    claim["insurance"] = json!([
        {"sequence": 1, "focal": false, "coverage": {"reference": "#medicare"}, "claimResponse": {"reference": "#primary"}},
        {"sequence": 2, "focal": true, "coverage": {"reference": "#coverage"}}
    ]);
    claim
}

/// The plan of the sample member (PPO-GOLD), as a secondary paying the lesser of.
fn plan(cob_method: &str) -> Value {
    json!({
        "name": "Medicaid secondary", "categories": ["medical"], "default_category": "medical", "cob_method": cob_method,
        "tiers": {
            "inn": {"deductible": {"individual": "500.00", "family": "1000.00"}, "oop_max": {"individual": "3000.00", "family": "6000.00"}, "coinsurance_percent": "20"},
            "oon": {"deductible": {"individual": "1000.00", "family": "2000.00"}, "oop_max": {"individual": "6000.00", "family": "12000.00"}, "coinsurance_percent": "40"}
        }
    })
}

async fn run(stack: &Stack, finance: &str, idempotency_key: &str) -> anyhow::Result<Value> {
    let url = format!("{}/v1/payment-runs", stack.url("settlement"));
    let response = stack.client.post(url).bearer_auth(finance).header("idempotency-key", idempotency_key).json(&json!({"payer_id": PAYER_ID})).send().await?;
    anyhow::ensure!(response.status() == 201, "payment run {idempotency_key}: {}", response.text().await?);
    Ok(response.json().await?)
}

#[tokio::test(flavor = "multi_thread")]
async fn scenario_12_as_the_secondary_payer_from_an_837p_and_a_fhir_claim_pays_65_and_the_835_says_so() -> anyhow::Result<()> {
    // Arrange: the secondary's fee for J1100 is 365.00; the member's plan pays as a secondary "lesser of".
    let mut stack = Stack::start(&[]).await?;
    let adjudication = stack.url("adjudication").to_owned();
    let payer_key = stack.create_key_for("payer-60054", "payer", &[PAYER_ID]).await?;
    let fees = json!({"fee_schedule_id": "cob", "entries": [{"procedure_code": "J1100", "amount": "365.00"}]});
    let response = stack.client.put(format!("{adjudication}/v1/payers/{PAYER_ID}/fee-schedule")).bearer_auth(&stack.admin_key).json(&fees).send().await?;
    anyhow::ensure!(response.status().is_success(), "fee schedule: {}", response.text().await?);
    let put_plan = |body: Value| {
        let request =
            stack.client.put(format!("{adjudication}/v1/payers/{PAYER_ID}/plans/PPO-GOLD?effective_from=2020-01-01")).bearer_auth(&payer_key).json(&body);
        async move { anyhow::Ok(request.send().await?) }
    };
    let response = put_plan(plan("carve_out")).await?;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await?;
    assert_eq!(problem["errors"][0]["path"], "cob_method", "{problem}");
    let response = put_plan(plan("lesser_of")).await?;
    assert_eq!(response.status(), 201, "{}", response.text().await?);

    // Act: the 837P and the FHIR secondary claims.
    let response = stack
        .client
        .post(format!("{}/v1/claims/x12", stack.url("intake")))
        .bearer_auth(&stack.api_key)
        .header("content-type", "application/edi-x12")
        .body(secondary_837p("PCN-COB-X12"))
        .send()
        .await?;
    let answer: Value = response.json().await?;
    assert_eq!(answer["outcomes"][0]["status"], "accepted", "{answer}");
    let x12_claim = answer["claim_ids"][0].as_str().expect("a claim id").to_owned();
    let fhir_claim = stack.submit_ok(&secondary_fhir("PCN-COB-FHIR")).await?.remove(0);

    // Assert: each pays 65.00 with OA-23 425.00 and CO-45 10.00; the member owes nothing.
    for claim in [&x12_claim, &fhir_claim] {
        let status = stack.wait_decided(claim, DECIDED).await?;
        assert_eq!(status["outcome"], "paid", "{status}");
        assert_eq!(first_line_adjustments(&status), [adjustment_pair("OA-23", "425.00"), adjustment_pair("CO-45", "10.00")], "{status}");
        let decision = &status["decision"];
        assert_eq!((decision["total_paid"].as_str(), decision["total_patient_responsibility"].as_str()), (Some("65.00"), Some("0.00")), "{status}");
        let explanation: Value = stack.client.get(format!("{adjudication}/v1/claims/{claim}/explanation")).bearer_auth(&payer_key).send().await?.json().await?;
        let steps: Vec<(&str, &str, &str)> = explanation["lines"][0]["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| (s["kind"].as_str().unwrap_or(""), s["rule"].as_str().unwrap_or(""), s["after"].as_str().unwrap_or("")))
            .collect();
        assert_eq!(steps, [("pricing", "fee-schedule", "365.00"), ("benefit", "cob-lesser-of", "65.00")], "{explanation}");
        let replay: Value = stack.client.post(format!("{adjudication}/v1/claims/{claim}/replay")).bearer_auth(&stack.api_key).send().await?.json().await?;
        assert_eq!(replay["byte_identical"], true, "{replay}");
    }
    // No accumulator moved: the member owes nothing under the secondary.
    assert_eq!(stack.count("adjudication", "accumulators").await?, 0);

    // Settlement: the payer's banking, a run that prenotes, and ten days later the run that pays by ACH with an 835.
    stack.wait_settled(2, Duration::from_secs(60)).await?;
    let finance = stack.create_key("finance-team", "finance").await?;
    let banking = json!({"name": "TEST HEALTH PLAN", "tin": "251234567", "routing_number": "031000053", "account_number": "12345",
        "address": {"name": "TEST HEALTH PLAN", "address_line": "1 PLAN WAY", "city": "HARRISBURG", "state": "PA", "postal_code": "17101"}});
    let response = stack.client.put(format!("{}/v1/payers/{PAYER_ID}/banking", stack.url("settlement"))).bearer_auth(&finance).json(&banking).send().await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    run(&stack, &finance, "cob-1").await?;
    stack.kill("settlement").await?;
    stack.spawn("settlement", &[("CLAIMTRAIL_CLOCK_OFFSET_DAYS", "10")]).await?;
    let paid = run(&stack, &finance, "cob-2").await?;
    let remittance = &paid["remittances"][0];
    assert_eq!((remittance["status"].as_str(), remittance["amount"].as_str()), (Some("ach"), Some("130.00")), "{paid}");
    let url = format!("{}/v1/remittances/{}/835", stack.url("settlement"), remittance["id"].as_str().expect("an id"));
    let x835 = stack.client.get(url).bearer_auth(&finance).send().await?.text().await?;
    for pcn in ["PCN-COB-X12", "PCN-COB-FHIR"] {
        assert!(x835.contains(&format!("CLP*{pcn}*2*500.00*65.00*0.00*")), "{pcn} as the secondary: {x835}");
    }
    assert_eq!(x835.matches("CAS*OA*23*425.00").count(), 2, "{x835}");
    assert_eq!(x835.matches("CAS*CO*45*10.00").count(), 2, "{x835}");
    let dir = tempfile::tempdir()?;
    let x835_path = dir.path().join("secondary.835");
    std::fs::write(&x835_path, &x835)?;
    validate("validate-x12", std::slice::from_ref(&x835_path));
    validate("x835-balance", std::slice::from_ref(&x835_path));
    stack.cleanup().await
}
