//! API keys and tenants: see [`claimtrail_runtime::auth`], shared by every
//! service's API. Intake adds nothing; the module stays so that callers keep
//! `claimtrail_intake::auth`.

pub use claimtrail_runtime::auth::*;
