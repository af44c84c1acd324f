//! Provider accounts verified outside a payment run: an account whose
//! prenote went out before settlement paid it (from the payment system it
//! replaces, or a seeded environment such as `up --demo` and the payment-run
//! benchmark). [`prenoted_before`] records that prenote for each registered
//! account not yet prenoted, so that runs judge it like any other
//! (`domain::payment_run`: usable [`crate::domain::payment_run::PRENOTE_WAIT_BANKING_DAYS`]
//! banking days after the prenote's effective date).

use claimtrail_store::{Store, StoreError};
use time::Date;

use crate::storage::payments;

/// Why prenotes were not recorded (nothing was).
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("settlement knows no provider with NPI {0} (provider.registered.v1 not seen yet)")]
    UnknownPayee(String),
    #[error("NPI {0} has no bank account for EFT to verify")]
    NoAccount(String),
    #[error("a prenote effective {on} is after today ({today}): only a prenote already sent can be recorded")]
    Future { on: Date, today: Date },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for AccountError {
    fn from(error: sea_orm::DbErr) -> AccountError {
        AccountError::Store(StoreError::Db(error))
    }
}

/// Records, in one transaction, that each of `npis`' current accounts was
/// prenoted effective `on` (at or before `today`), unless a prenote is
/// already recorded for it: the NPIs recorded. All or nothing: an unknown
/// NPI or one without an account records none.
pub async fn prenoted_before(store: &Store, npis: &[&str], on: Date, today: Date) -> Result<Vec<String>, AccountError> {
    if on > today {
        return Err(AccountError::Future { on, today });
    }
    let tx = store.begin().await?;
    let payees = payments::payees(store, &tx).await?;
    let mut recorded = Vec::new();
    for npi in npis {
        let payee = payees.get(*npi).ok_or_else(|| AccountError::UnknownPayee((*npi).to_owned()))?;
        if payee.bank_account.is_none() {
            return Err(AccountError::NoAccount((*npi).to_owned()));
        }
        if payee.prenote_effective_on.is_none() {
            payments::record_prenote(store, &tx, npi, on).await?;
            recorded.push((*npi).to_owned());
        }
    }
    tx.commit().await?;
    Ok(recorded)
}
