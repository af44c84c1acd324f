//! Settlement end to end on real Postgres and NATS JetStream, over HTTP
//! only: a claim submitted to intake, adjudicated, booked; the payer's
//! banking put; a payment run that waits for the provider's prenote; the
//! settlement service restarted ten days later (its clock moved, so the
//! prenote's three banking days have passed) pays it by ACH; the 835 passes
//! `validate-x12` and `x835-balance` and the PaymentReconciliation
//! `validate-fhir`; a camt.053 statement built from the run's ACH file is
//! imported and reconciled with no exception (and the same statement again
//! changes nothing); the bank returns the entry (R03, an account fault): the
//! remittance is `returned`, the journal takes the money back, and the next
//! run holds the provider's payment until the provider registers new
//! banking, whose account is prenoted, and ten days later paid again; intake's EOB and ClaimResponse show each payment (date,
//! amount, EFT trace) from settlement's events, and none while returned; a statement showing that payment one dollar short opens an
//! amount-mismatch exception that finance resolves.

use std::time::Duration;

use claimtrail_e2e::{PAYER_ID, Stack, sample_claim, validate, wait_until};
use serde_json::{Value, json};

const TIN: &str = "251234567";
const COMPANY_ID: &str = "1251234567";
const NPI: &str = "1245319599";

/// A camt.053 statement `msg_id` of the payer's account for `date`, with `entries` (`<Ntry>` elements).
fn camt053(msg_id: &str, date: &str, entries: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>{date}T18:00:00Z</CreDtTm></GrpHdr>
    <Stmt>
      <Acct><Id><Othr><Id>12345</Id></Othr></Id></Acct>
      <FrToDt><FrDtTm>{date}T00:00:00Z</FrDtTm><ToDtTm>{date}T23:59:59Z</ToDtTm></FrToDt>
{entries}
    </Stmt>
  </BkToCstmrStmt>
</Document>
"#
    )
}

/// The ACH settlement debit the bank books for a batch: `amount` on `date`, naming the company id.
fn debit_entry(amount: &str, date: &str, company_id: &str) -> String {
    format!(
        r#"      <Ntry>
        <Amt Ccy="USD">{amount}</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <BookgDt><Dt>{date}</Dt></BookgDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ACDT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <AddtlNtryInf>ACH SETTLEMENT HCCLAIMPMT CO ID {company_id}</AddtlNtryInf>
      </Ntry>"#
    )
}

/// A returned ACH credit coming back to the payer's account: `amount` on `date`, the original `trace`, `reason`.
fn return_entry(amount: &str, date: &str, trace: &str, reason: &str) -> String {
    format!(
        r#"      <Ntry>
        <Amt Ccy="USD">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <BookgDt><Dt>{date}</Dt></BookgDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls><Refs><ClrSysRef>{trace}</ClrSysRef></Refs><RtrInf><Rsn><Prtry>{reason}</Prtry></Rsn></RtrInf></TxDtls></NtryDtls>
      </Ntry>"#
    )
}

/// The credits of a NACHA file as (company id of their batch, effective date YYMMDD, cents, trace), read at the rules' positions.
fn ach_credits(file: &str) -> Vec<(String, String, i64, String)> {
    let mut credits = Vec::new();
    let mut batch = (String::new(), String::new());
    for record in file.lines() {
        assert_eq!(record.len(), 94, "{record:?}");
        match &record[..1] {
            "5" => batch = (record[40..50].to_owned(), record[69..75].to_owned()),
            "6" if matches!(&record[1..3], "22" | "32") => {
                credits.push((batch.0.clone(), batch.1.clone(), record[29..39].parse().expect("an amount"), record[79..94].to_owned()))
            }
            _ => {}
        }
    }
    credits
}

struct Finance<'a> {
    stack: &'a Stack,
    key: String,
}

impl Finance<'_> {
    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<(u16, String)> {
        let response = request.bearer_auth(&self.key).send().await?;
        Ok((response.status().as_u16(), response.text().await?))
    }

    async fn run(&self, idempotency_key: &str) -> anyhow::Result<Value> {
        let url = format!("{}/v1/payment-runs", self.stack.url("settlement"));
        let (status, text) = self.send(self.stack.client.post(url).header("idempotency-key", idempotency_key).json(&json!({"payer_id": PAYER_ID}))).await?;
        anyhow::ensure!(status == 201, "payment run {idempotency_key}: {status} {text}");
        Ok(serde_json::from_str(&text)?)
    }

    async fn get(&self, path: &str) -> anyhow::Result<String> {
        let (status, text) = self.send(self.stack.client.get(format!("{}{path}", self.stack.url("settlement")))).await?;
        anyhow::ensure!(status == 200, "GET {path}: {status} {text}");
        Ok(text)
    }

    async fn import(&self, statement: &str) -> anyhow::Result<(u16, Value)> {
        let url = format!("{}/v1/payers/{PAYER_ID}/bank-statements", self.stack.url("settlement"));
        let (status, text) = self.send(self.stack.client.post(url).header("content-type", "application/xml").body(statement.to_owned())).await?;
        Ok((status, serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{e}: {text}"))?))
    }

    async fn open_exceptions(&self) -> anyhow::Result<Vec<Value>> {
        let text = self.get(&format!("/v1/payers/{PAYER_ID}/reconciliation/exceptions")).await?;
        Ok(serde_json::from_str::<Value>(&text)?["exceptions"].as_array().cloned().unwrap_or_default())
    }

    async fn bank_balance(&self) -> anyhow::Result<String> {
        let balances: Value = serde_json::from_str(&self.get("/v1/journal/balances").await?)?;
        anyhow::ensure!(balances["balanced"] == true, "{balances}");
        let account = format!("asset:bank:{PAYER_ID}");
        Ok(balances["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["account"] == account.as_str())
            .map_or("0.00".into(), |a| a["balance"].as_str().unwrap_or_default().to_owned()))
    }
}

/// Waits until intake's ExplanationOfBenefit and ClaimResponse of `claim_id` show `trace` as their payment's EFT trace number (none: no payment identifier); the EOB.
async fn wait_payment_shown(stack: &Stack, claim_id: &str, trace: Option<&str>) -> anyhow::Result<Value> {
    let started = std::time::Instant::now();
    loop {
        let mut shown = Vec::new();
        let mut eob = Value::Null;
        for view in ["eob", "claim-response"] {
            let url = format!("{}/v1/claims/{claim_id}/{view}", stack.url("intake"));
            let resource: Value = stack.client.get(url).bearer_auth(&stack.api_key).send().await?.json().await?;
            shown.push(resource["payment"]["identifier"]["value"].as_str().map(str::to_owned));
            if view == "eob" {
                eob = resource;
            }
        }
        if shown.iter().all(|value| value.as_deref() == trace) {
            return Ok(eob);
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "the EOB and ClaimResponse show trace {shown:?}, not {trace:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn only_remittance(run: &Value) -> Value {
    let remittances = run["remittances"].as_array().expect("remittances");
    assert_eq!(remittances.len(), 1, "{run}");
    remittances[0].clone()
}

#[tokio::test]
async fn claims_are_paid_reconciled_returned_repaid_and_a_short_debit_is_resolved() -> anyhow::Result<()> {
    // Arrange: a paid claim, and the payer's banking.
    let mut stack = Stack::start(&[]).await?;
    let finance = stack.create_key("finance-team", "finance").await?;
    let claim_id = stack.submit_ok(&sample_claim("PCN-SETTLE-1")).await?.remove(0);
    stack.wait_settled(1, Duration::from_secs(60)).await?;
    assert_eq!(stack.claim_status(&claim_id).await?["total_paid"], "118.80");
    let banking = json!({"name": "TEST HEALTH PLAN", "tin": TIN, "routing_number": "031000053", "account_number": "12345",
        "address": {"name": "TEST HEALTH PLAN", "address_line": "1 PLAN WAY", "city": "HARRISBURG", "state": "PA", "postal_code": "17101"}});
    let response = stack.client.put(format!("{}/v1/payers/{PAYER_ID}/banking", stack.url("settlement"))).bearer_auth(&finance).json(&banking).send().await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);

    // Act 1: today's run. The provider's account was never prenoted: a prenote goes out and the claim waits.
    let money = Finance { stack: &stack, key: finance.clone() };
    let first = money.run("cycle-1").await?;
    let waiting = only_remittance(&first);
    assert_eq!((waiting["status"].as_str(), waiting["pay_to"].as_str(), waiting["amount"].as_str()), (Some("awaiting_prenote"), Some(NPI), Some("118.80")));
    let prenote_file = money.get(&format!("/v1/payment-runs/{}/ach", first["run_id"].as_str().unwrap())).await?;
    assert!(prenote_file.lines().any(|record| record.starts_with("623") && &record[29..39] == "0000000000"), "{prenote_file}");
    drop(money);

    // Ten days later (the prenote's 3 banking days have passed; prompt pay's 30 days have not).
    stack.kill("settlement").await?;
    stack.spawn("settlement", &[("CLAIMTRAIL_CLOCK_OFFSET_DAYS", "10")]).await?;
    let money = Finance { stack: &stack, key: finance.clone() };
    let second = money.run("cycle-2").await?;

    // Assert: paid by ACH, to the cent, with an 835, a PaymentReconciliation and an ACH credit that agree.
    let paid = only_remittance(&second);
    assert_eq!((paid["status"].as_str(), paid["amount"].as_str()), (Some("ach"), Some("118.80")), "{second}");
    assert_eq!(paid["claims"][0]["claim_id"], claim_id.as_str());
    let trace = paid["trace_number"].as_str().expect("a trace number").to_owned();
    let remittance_id = paid["id"].as_str().unwrap().to_owned();
    let effective = second["effective_date"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir()?;
    let x835 = money.get(&format!("/v1/remittances/{remittance_id}/835")).await?;
    assert!(x835.contains("BPR*I*118.80*C*ACH*CCP*"), "{x835}");
    assert!(x835.contains(&format!("TRN*1*{trace}*{COMPANY_ID}~")), "{x835}");
    assert!(x835.contains("CLP*PCN-SETTLE-1*1*"), "{x835}");
    let x835_path = dir.path().join("remittance.835");
    std::fs::write(&x835_path, &x835)?;
    validate("validate-x12", std::slice::from_ref(&x835_path));
    validate("x835-balance", std::slice::from_ref(&x835_path));
    let reconciliation = money.get(&format!("/v1/remittances/{remittance_id}/payment-reconciliation")).await?;
    let fhir_path = dir.path().join("payment-reconciliation.json");
    std::fs::write(&fhir_path, &reconciliation)?;
    validate("validate-fhir", std::slice::from_ref(&fhir_path));
    let ach = money.get(&format!("/v1/payment-runs/{}/ach", second["run_id"].as_str().unwrap())).await?;
    let effective_yymmdd = effective.replace('-', "")[2..].to_owned();
    assert_eq!(ach_credits(&ach), [(COMPANY_ID.to_owned(), effective_yymmdd.clone(), 11_880, trace.clone())]);
    assert_eq!(money.bank_balance().await?, "-118.80");
    // Intake's EOB and ClaimResponse (from settlement's events only) show the payment: date, amount, EFT trace.
    let eob = wait_payment_shown(&stack, &claim_id, Some(&trace)).await?;
    assert_eq!((eob["payment"]["date"].as_str(), &eob["payment"]["amount"]), (Some(effective.as_str()), &json!({"value": 118.8, "currency": "USD"})));
    let eob_path = dir.path().join("eob.json");
    std::fs::write(&eob_path, serde_json::to_vec_pretty(&eob)?)?;
    validate("validate-fhir", std::slice::from_ref(&eob_path));

    // Act 2: the bank statement of the effective date shows the batch's one debit.
    let statement = camt053("STMT-1", &effective, &debit_entry("118.80", &effective, COMPANY_ID));
    let (status, view) = money.import(&statement).await?;

    // Assert: reconciled, no exception; the same statement again changes nothing.
    assert_eq!(status, 201, "{view}");
    assert_eq!(view["matched"].as_array().map(Vec::len), Some(1), "{view}");
    assert_eq!((view["matched"][0]["run_id"].as_str(), view["matched"][0]["amount"].as_str()), (second["run_id"].as_str(), Some("118.80")));
    assert_eq!(view["exceptions"], json!([]));
    assert!(money.open_exceptions().await?.is_empty());
    let (status, again) = money.import(&statement).await?;
    assert_eq!((status, again["already_imported"].as_bool()), (200, Some(true)), "{again}");

    // Act 3: two banking days later the bank returns the credit (R03: no account).
    let returned_on = claimtrail_events::format_date(claimtrail_events::parse_date(&effective).unwrap() + time::Duration::days(2));
    let (status, view) = money.import(&camt053("STMT-2", &returned_on, &return_entry("118.80", &returned_on, &trace, "R03"))).await?;

    // Assert: the remittance is reopened: returned, the bank's money back in the journal, the claim unpaid again.
    assert_eq!(status, 201, "{view}");
    assert_eq!((view["returned"][0]["remittance_id"].as_str(), view["returned"][0]["reason_code"].as_str()), (Some(remittance_id.as_str()), Some("R03")));
    assert_eq!(view["exceptions"], json!([]));
    let shown: Value = serde_json::from_str(&money.get(&format!("/v1/payment-runs/{}", second["run_id"].as_str().unwrap())).await?)?;
    assert_eq!(only_remittance(&shown)["status"], "returned");
    assert_eq!(money.bank_balance().await?, "0.00");
    let eob = wait_payment_shown(&stack, &claim_id, None).await?;
    assert_eq!(eob["payment"]["date"], Value::Null);

    // Act 4: R03 is an account fault: the next run holds the provider's payment, with the reason, until new banking is registered.
    let third = money.run("cycle-3").await?;
    let held = only_remittance(&third);
    assert_eq!((held["status"].as_str(), held["amount"].as_str()), (Some("held"), Some("118.80")), "{third}");
    assert!(held["hold_reason"].as_str().is_some_and(|reason| reason.contains("R03") && reason.contains(&trace)), "{third}");
    // The provider registers new banking in the registry (intake); settlement releases the hold and prenotes the new account.
    let provider = json!({"entity_type": 2, "name": "Riverside Family Practice", "tin": "123456789", "taxonomy": "207Q00000X",
        "organization": "riverside", "licence": null,
        "pay_to": {"name": "Riverside Family Practice", "address_line": "100 River Road", "city": "Springfield", "state": "IL", "postal_code": "62701"},
        "bank_account": {"routing_number": "021000021", "account_number": "000987654321", "account_type": "checking"}});
    let response = stack.client.put(format!("{}/v1/providers/{NPI}", stack.url("intake"))).bearer_auth(&stack.admin_key).json(&provider).send().await?;
    assert!(response.status().is_success(), "{}", response.text().await?);
    let payees = stack.table("settlement", "payees");
    wait_until(Duration::from_secs(30), || async {
        let sql = format!("SELECT COUNT(*) FROM {payees} WHERE npi = '{NPI}' AND account_hold IS NULL AND bank_account LIKE '%000987654321%'");
        let n = stack.scalar(&sql).await.unwrap_or(-1);
        Ok((n == 1, "settlement has not seen the new banking yet".to_owned()))
    })
    .await?;
    let fourth = money.run("cycle-4").await?;
    assert_eq!(only_remittance(&fourth)["status"], "awaiting_prenote", "{fourth}");
    let prenote_file = money.get(&format!("/v1/payment-runs/{}/ach", fourth["run_id"].as_str().unwrap())).await?;
    assert!(prenote_file.lines().any(|record| record.starts_with("623") && record[12..29].trim_end() == "000987654321"), "{prenote_file}");
    drop(money);

    // Ten more days: the new account is verified and the next run pays the claim again, with a new trace.
    stack.kill("settlement").await?;
    stack.spawn("settlement", &[("CLAIMTRAIL_CLOCK_OFFSET_DAYS", "20")]).await?;
    let money = Finance { stack: &stack, key: finance.clone() };
    let fifth = money.run("cycle-5").await?;
    let repaid = only_remittance(&fifth);
    assert_eq!((repaid["status"].as_str(), repaid["amount"].as_str()), (Some("ach"), Some("118.80")), "{fifth}");
    assert_eq!(repaid["claims"][0]["claim_id"], claim_id.as_str());
    assert_ne!(repaid["trace_number"].as_str(), Some(trace.as_str()));
    let ach = money.get(&format!("/v1/payment-runs/{}/ach", fifth["run_id"].as_str().unwrap())).await?;
    assert!(ach.lines().any(|record| record.starts_with("622") && record[12..29].trim_end() == "000987654321"), "{ach}");
    wait_payment_shown(&stack, &claim_id, repaid["trace_number"].as_str()).await?;
    assert_eq!(money.bank_balance().await?, "-118.80");
    // A further run finds nothing unpaid.
    assert_eq!(money.run("cycle-6").await?["remittances"], json!([]));
    let effective = fifth["effective_date"].as_str().unwrap().to_owned();

    // Act 5: the statement shows the new batch's debit one dollar short.
    let (status, view) = money.import(&camt053("STMT-3", &effective, &debit_entry("117.80", &effective, COMPANY_ID))).await?;

    // Assert: one amount-mismatch exception naming both amounts, which finance resolves.
    assert_eq!(status, 201, "{view}");
    let exceptions = view["exceptions"].as_array().cloned().unwrap_or_default();
    assert_eq!(exceptions.len(), 1, "{view}");
    let exception = &exceptions[0];
    assert_eq!(
        (exception["kind"].as_str(), exception["expected_amount"].as_str(), exception["actual_amount"].as_str(), exception["run_id"].as_str()),
        (Some("amount-mismatch"), Some("118.80"), Some("117.80"), fifth["run_id"].as_str())
    );
    assert_eq!(money.open_exceptions().await?.len(), 1);
    let url = format!("{}/v1/payers/{PAYER_ID}/reconciliation/exceptions/{}/resolve", stack.url("settlement"), exception["exception_id"].as_str().unwrap());
    let (status, text) = money.send(stack.client.post(url).json(&json!({"reason": "bank fee of 1.00 netted by the bank; booked to fees"}))).await?;
    assert_eq!(status, 200, "{text}");
    assert!(money.open_exceptions().await?.is_empty());

    // Every step is an event of settlement's.
    let events = stack.table("settlement", "outbox");
    for event_type in
        ["remittance.issued.v1", "payment_run.completed.v1", "bank_debit.matched.v1", "ach_entry.returned.v1", "reconciliation_exception.resolved.v1"]
    {
        let n = stack.scalar(&format!("SELECT COUNT(*) FROM {events} WHERE event_type = '{event_type}'")).await?;
        assert!(n >= 1, "no {event_type} in settlement's outbox");
    }
    wait_until(Duration::from_secs(30), || async {
        let unpublished = stack.scalar(&format!("SELECT COUNT(*) FROM {events} WHERE published_at IS NULL")).await.unwrap_or(-1);
        Ok((unpublished == 0, format!("{unpublished} events of settlement not yet published")))
    })
    .await?;
    drop(money);
    stack.cleanup().await
}
