//! The payer's policy data and the standard edits and pricing that read it.
//!
//! Pure: no IO beyond reading the `impl Read` a loader is given, no tokio,
//! no SQL, no HTTP. The adjudication engine stores the versions and calls
//! these; fraud detection reads the LEIE and NCCI tables too.
//!
//! # Layout
//!
//! - [`csv`]: the shared reader: limits, preamble, header, `YYYYMMDD` dates,
//!   all-or-nothing failures with 1-based lines ([`LoadErrors`]).
//! - [`code`]: [`CodeKey`], codes packed into a `u64` for compact sorted tables.
//! - [`versions`]: [`Versions`], the table version in force on a date of service.
//! - [`setting`]: practitioner, outpatient hospital or DME table.
//! - [`ncci`]: NCCI PTP edits (CMS layout). [`mue`]: MUEs (CMS layout).
//! - [`rbrvs`]: PPRRVU, GPCI and ZIP-to-locality (CMS layouts).
//! - [`fees`]: the payer's fee schedule. [`institutional`]: DRG weights and
//!   per diem rates. [`contracts`]: reimbursement method per code range.
//!   [`auth`]: prior authorizations. (Layouts of our own, docs/policy-data.md.)
//! - [`leie`]: the OIG exclusion list (OIG layout) and the exclusion edit.
//! - [`line`]: [`EditLine`], the line view, and the typed [`Finding`]s.
//! - [`edits`]: NCCI, MUE, duplicate and date-of-death edits.
//! - [`pricing`]: fee schedule, RBRVS, percent of charge, MPPR; DRG and per
//!   diem for institutional claims, by the provider's contract.

pub mod auth;
pub mod code;
pub mod contracts;
pub mod csv;
pub mod edits;
pub mod fees;
pub mod institutional;
pub mod leie;
pub mod line;
pub mod mue;
pub mod ncci;
pub mod pricing;
pub mod rbrvs;
pub mod setting;
pub mod versions;

pub use auth::{AuthLookup, AuthStatus, PriorAuthorization, PriorAuthorizations, prior_authorization_edit, units_used_by};
pub use code::CodeKey;
pub use contracts::{ContractTerm, Contracts, ReimbursementMethod};
pub use csv::{LoadError, LoadErrors};
pub use edits::{EditPolicy, NCCI_ASSOCIATED_MODIFIERS, date_of_death_edit, duplicate_edits, mue_edits, ncci_edits, ptp_edit_applies};
pub use fees::{Fee, FeeSchedule};
pub use institutional::{DrgWeights, InstitutionalPrice, PerDiemBasis, PerDiems, price_drg, price_per_diem, type_of_bill_rate};
pub use leie::{Exclusion, ExclusionCheck, ExclusionList, ProviderIdentity, exclusion_edit};
pub use line::{Action, Cas, Edit, EditLine, Finding, LineStatus, PendReason};
pub use mue::{Mue, MueIndicator, MueTable};
pub use ncci::{ModifierIndicator, NcciTable, PtpEdit};
pub use pricing::{LinePrice, LineToPrice, PriceSource, PricingError, PricingTables, Stay, price_claim, price_institutional};
pub use rbrvs::{Gpci, GpciTable, Locality, Rvu, RvuTable, ZipLocalities};
pub use setting::Setting;
pub use versions::{Version, Versions};
