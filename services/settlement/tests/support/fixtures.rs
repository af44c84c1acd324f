//! Fixtures shared by the scenario tests and the payment-run benchmark
//! (included with `#[path]`): the payer and its address, and a decision
//! line's reversal.

use claimtrail_events::PayTo;
use claimtrail_settlement::domain::payment_run::PayerBanking;

pub fn address(name: &str) -> PayTo {
    PayTo { name: name.into(), address_line: "100 MARKET ST".into(), city: "HARRISBURG".into(), state: "PA".into(), postal_code: "171010000".into() }
}

pub fn payer() -> PayerBanking {
    PayerBanking {
        payer_id: "P1".into(),
        name: "ACME HEALTH PLAN".into(),
        tin: "251234567".into(),
        routing_number: "031000053".into(),
        account_number: "000123456789".into(),
        address: address("ACME HEALTH PLAN"),
    }
}
