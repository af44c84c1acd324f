//! A provider's bank account after the bank has spoken about it. Pure.
//!
//! - An **account-fault return** ([`account_fault`]): the RDFI sent the
//!   credit back because the account itself is wrong (closed, not found,
//!   malformed, frozen, not a transaction account, the holder deceased, the
//!   routing number invalid). Paying it again would come back again, so the
//!   provider's payments are held ([`hold_reason`]) until new banking is
//!   registered; the new account is then prenoted like any new account
//!   (`awaiting_prenote`) before money moves. Any other return (R01
//!   insufficient funds, R06 returned per the ODFI's request, R23 credit
//!   refused, ...) reopens the payment and the next run pays it again.
//! - A **notification of change** ([`apply_change`]): the RDFI posted the
//!   entry but gives corrected account data, which must be used from the
//!   next entry on (NACHA: within six banking days or before the next entry).
//!   C01 account number, C02 routing number, C03 both, C05 transaction code
//!   (checking or savings), C06 account number and transaction code, C07 all
//!   three. The corrected data field (98 addenda, positions 36-64) carries
//!   them at NACHA's positions. Other C-codes (C04 name, C09 individual id,
//!   C13 addenda format, ...) do not touch the account and change nothing here.

use claimtrail_events::BankAccount;

/// NACHA return reasons (and their ISO 20022 counterparts in camt.053) that
/// say the receiving account cannot take entries as registered.
const ACCOUNT_FAULTS: &[(&str, &str)] = &[
    ("R02", "account closed"),
    ("R03", "no account / unable to locate account"),
    ("R04", "invalid account number structure"),
    ("R12", "account sold to another DFI"),
    ("R13", "invalid ACH routing number"),
    ("R14", "representative payee deceased or unable to continue"),
    ("R15", "beneficiary or account holder deceased"),
    ("R16", "account frozen"),
    ("R20", "non-transaction account"),
    ("R28", "routing number check digit error"),
    ("AC01", "incorrect account number"),
    ("AC03", "invalid creditor account number"),
    ("AC04", "closed account number"),
    ("AC06", "blocked account"),
    ("MD07", "end customer deceased"),
    ("RC01", "bank identifier incorrect"),
];

/// What an account-fault return code means (`None`: the return is not about the account).
pub fn account_fault(reason: &str) -> Option<&'static str> {
    ACCOUNT_FAULTS.iter().find(|(code, _)| *code == reason).map(|(_, meaning)| *meaning)
}

/// The reason of the hold an account-fault return places on the provider's payments.
pub fn hold_reason(reason: &str, meaning: &str, trace_number: &str) -> String {
    format!("account fault: the bank returned entry {trace_number} with {reason} ({meaning}); payments wait for new banking to be registered and prenoted")
}

/// ABA check digit: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10).
pub fn valid_routing_number(text: &str) -> bool {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    if text.len() != 9 || digits.len() != 9 {
        return false;
    }
    let weights = [3, 7, 1, 3, 7, 1, 3, 7, 1];
    digits.iter().zip(weights).map(|(digit, weight)| digit * weight).sum::<u32>() % 10 == 0
}

/// Why a notification of change cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("notification of change {code}: {message} in its corrected data `{corrected}`")]
pub struct ChangeError {
    pub code: String,
    pub corrected: String,
    pub message: String,
}

/// The account after the notification of change `code` with `corrected`
/// data (the addenda's 29 characters, as sent); `None` when the code does
/// not correct the account (C04, C09, ...).
pub fn apply_change(account: &BankAccount, code: &str, corrected: &str) -> Result<Option<BankAccount>, ChangeError> {
    let fault = |message: &str| ChangeError { code: code.to_owned(), corrected: corrected.to_owned(), message: message.to_owned() };
    // Positions are 1-based and inclusive, as NACHA gives them; short data reads as blanks.
    let field = |from: usize, to: usize| corrected.get(from - 1..to.min(corrected.len())).unwrap_or("").trim().to_owned();
    let routing = |from: usize| {
        let routing = field(from, from + 8);
        if valid_routing_number(&routing) { Ok(routing) } else { Err(fault("the routing number is not 9 digits with a valid check digit")) }
    };
    let account_number = |from: usize| {
        let number = field(from, from + 16);
        if !number.is_empty() && number.len() <= 17 && number.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            Ok(number)
        } else {
            Err(fault("the account number is missing or has characters other than letters, digits and hyphens"))
        }
    };
    let account_type = |from: usize| match field(from, from + 1).as_str() {
        "22" | "23" | "24" => Ok("checking".to_owned()),
        "32" | "33" | "34" => Ok("savings".to_owned()),
        _ => Err(fault("the transaction code is not a checking (22-24) or savings (32-34) credit code")),
    };
    let mut changed = account.clone();
    match code {
        "C01" => changed.account_number = account_number(1)?,
        "C02" => changed.routing_number = routing(1)?,
        "C03" => (changed.routing_number, changed.account_number) = (routing(1)?, account_number(13)?),
        "C05" => changed.account_type = account_type(1)?,
        "C06" => (changed.account_number, changed.account_type) = (account_number(1)?, account_type(21)?),
        "C07" => (changed.routing_number, changed.account_number, changed.account_type) = (routing(1)?, account_number(10)?, account_type(27)?),
        _ => return Ok(None),
    }
    Ok(Some(changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> BankAccount {
        BankAccount { routing_number: "011000015".into(), account_number: "12345678".into(), account_type: "checking".into() }
    }

    #[test]
    fn account_faults_are_nachas_account_returns_and_their_iso_codes() {
        for code in ["R02", "R03", "R04", "R12", "R13", "R14", "R15", "R16", "R20", "R28", "AC04", "AC01"] {
            assert!(account_fault(code).is_some(), "{code}");
        }
        for code in ["R01", "R06", "R09", "R23", "R24", "AM04", "C01"] {
            assert_eq!(account_fault(code), None, "{code}");
        }
        let reason = hold_reason("R03", account_fault("R03").unwrap(), "031000050000002");
        assert!(reason.contains("R03 (no account") && reason.contains("031000050000002") && reason.contains("new banking"), "{reason}");
    }

    #[test]
    fn c01_c02_c03_correct_the_account_number_and_routing_at_nachas_positions() {
        let c01 = apply_change(&account(), "C01", "1918171614                   ").unwrap().unwrap();
        assert_eq!((c01.routing_number.as_str(), c01.account_number.as_str(), c01.account_type.as_str()), ("011000015", "1918171614", "checking"));
        let c02 = apply_change(&account(), "C02", "021000021").unwrap().unwrap();
        assert_eq!((c02.routing_number.as_str(), c02.account_number.as_str()), ("021000021", "12345678"));
        let c03 = apply_change(&account(), "C03", "021000021   55501234").unwrap().unwrap();
        assert_eq!((c03.routing_number.as_str(), c03.account_number.as_str()), ("021000021", "55501234"));
    }

    #[test]
    fn c05_c06_c07_correct_the_account_type_from_the_transaction_code() {
        assert_eq!(apply_change(&account(), "C05", "32").unwrap().unwrap().account_type, "savings");
        let c06 = apply_change(&account(), "C06", "777                 32").unwrap().unwrap();
        assert_eq!((c06.account_number.as_str(), c06.account_type.as_str()), ("777", "savings"));
        let c07 = apply_change(&account(), "C07", "021000021888              22").unwrap().unwrap();
        assert_eq!((c07.routing_number.as_str(), c07.account_number.as_str(), c07.account_type.as_str()), ("021000021", "888", "checking"));
    }

    #[test]
    fn other_change_codes_leave_the_account_and_bad_corrected_data_is_refused_by_name() {
        assert_eq!(apply_change(&account(), "C04", "NEW NAME"), Ok(None));
        assert_eq!(apply_change(&account(), "C09", "X"), Ok(None));
        let error = apply_change(&account(), "C02", "021000022").unwrap_err();
        assert!(error.to_string().contains("C02: the routing number is not 9 digits with a valid check digit"), "{error}");
        assert!(apply_change(&account(), "C01", "   ").unwrap_err().message.contains("account number is missing"));
        assert!(apply_change(&account(), "C05", "27").unwrap_err().message.contains("transaction code"));
    }

    #[test]
    fn routing_check_digits_are_verified() {
        assert!(valid_routing_number("011000015") && valid_routing_number("021000021"));
        assert!(!valid_routing_number("021000022") && !valid_routing_number("02100002") && !valid_routing_number("02100002x"));
    }
}
