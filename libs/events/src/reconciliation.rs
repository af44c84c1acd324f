//! Settlement's reconciliation against the bank: each step a fact
//! (docs/reconciliation.md). Amounts are never negative; dates are value dates.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Money;

/// A bank file was imported and applied, once: what it held and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BankStatementImported {
    pub payer_id: String,
    /// `bai2:<sender>:<receiver>:<date>:<time>:<file id>`, `camt053:<MsgId>` or `nacha:<origin>:<date><time>:<modifier>`.
    pub statement_id: String,
    /// `bai2`, `camt053` or `nacha-returns`.
    pub format: String,
    /// The account the statement is for (empty for a NACHA return file).
    pub account: String,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub from_date: time::Date,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub to_date: time::Date,
    /// Hex SHA3-256 of the file's bytes.
    pub content_sha3_256: String,
    pub line_count: u64,
    pub matched_count: u64,
    pub returned_count: u64,
    pub change_count: u64,
    pub exception_count: u64,
}

/// A bank debit matched the ACH batch a payment run sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BankDebitMatched {
    pub payer_id: String,
    pub statement_id: String,
    /// Where in the file: `line 4`, `Document/BkToCstmrStmt/Stmt[1]/Ntry[1]`.
    pub position: String,
    pub run_id: Uuid,
    pub batch_number: u32,
    pub amount: Money,
    #[serde(with = "crate::timestamp::date")]
    #[schemars(with = "String")]
    pub date: time::Date,
}

/// The bank returned an ACH entry: its remittance is not paid after all and is reopened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AchEntryReturned {
    pub payer_id: String,
    pub statement_id: String,
    pub position: String,
    pub run_id: Uuid,
    pub batch_number: u32,
    pub remittance_id: Uuid,
    /// The original entry's 15-digit trace number.
    pub trace_number: String,
    /// A NACHA return reason (`R03`) or an ISO 20022 one (`AC04`).
    pub reason_code: String,
    pub amount: Money,
}

/// The bank sent a notification of change (C-code) for an ACH entry's account data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AchChangeNotified {
    pub payer_id: String,
    pub statement_id: String,
    pub position: String,
    pub run_id: Uuid,
    pub batch_number: u32,
    pub remittance_id: Uuid,
    pub trace_number: String,
    /// `C01` (account number), `C02` (routing number), ...
    pub change_code: String,
    pub corrected_data: String,
}

/// An item of a bank file that reconciliation could not match went to the exception queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReconciliationExceptionOpened {
    pub payer_id: String,
    pub exception_id: Uuid,
    pub statement_id: String,
    /// `unmatched-debit`, `amount-mismatch`, `missing-debit`, `unmatched-return` or `return-amount-mismatch`.
    pub kind: String,
    /// Where in the file; absent for a missing debit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_amount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_amount: Option<Money>,
    pub detail: String,
}

/// Finance resolved an exception, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReconciliationExceptionResolved {
    pub payer_id: String,
    pub exception_id: Uuid,
    /// The tenant (finance or admin key) that resolved it.
    pub resolved_by: String,
    pub reason: String,
}
