//! Claimtrail's identifiers and codes as types: each is parsed once, at the
//! edge (FHIR, X12, an HTTP body, a stored event), so that the code behind
//! it cannot hold a value of the wrong shape. Pure: no IO, no async, no clock
//! (a date, where one matters, is passed in).
//!
//! Every string-backed type has a private field, a `parse` that names what
//! is wrong, `AsRef<str>`, `Display` and `FromStr`, and serializes as the
//! plain string it holds (serde transparent), so events and HTTP bodies are
//! byte-for-byte what they were as `String`s; deserializing validates. Each
//! has a JSON Schema (a string with its `pattern`) and, with the `utoipa`
//! feature, an OpenAPI schema.
//!
//! # Layout
//! - identifiers: [`npi`] ([`Npi`]), [`tin`] ([`Tin`]), [`payer_id`]
//!   ([`PayerId`]), [`member_id`] ([`MemberId`]), [`claim_id`] ([`ClaimId`]);
//! - claim codes: [`procedure_code`] ([`ProcedureCode`], HCPCS / CPT),
//!   [`modifier`] ([`Modifier`]), [`icd10`] ([`Icd10Code`], ICD-10-CM),
//!   [`revenue_code`] ([`RevenueCode`], UB-04), [`place_of_service`]
//!   ([`PlaceOfService`], with the CMS list and its facility settings),
//!   [`service_code`] ([`ServiceCode`], a line's procedure code or, on an
//!   837I revenue-only line, its revenue code);
//! - adjustments: [`group_code`] ([`GroupCode`]), [`carc`] ([`Carc`]) and
//!   [`rarc`] ([`Rarc`]), checked by shape, and [`code_list`] ([`CodeList`]),
//!   the versioned list of known CARCs and RARCs they are looked up in
//!   (`data/adjustment-codes.txt`);
//! - internal: `text` (the string plumbing every string-backed type shares).
//!
//! Claim statuses and outcomes stay in `claimtrail-events` (`ClaimStatus`,
//! `Outcome`), beside the events that carry them.

#[macro_use]
mod text;

pub mod carc;
pub mod claim_id;
pub mod code_list;
pub mod group_code;
pub mod icd10;
pub mod member_id;
pub mod modifier;
pub mod npi;
pub mod payer_id;
pub mod place_of_service;
pub mod procedure_code;
pub mod rarc;
pub mod revenue_code;
pub mod service_code;
pub mod tin;

pub use carc::{Carc, CarcError};
pub use claim_id::{ClaimId, ClaimIdError};
pub use code_list::{CodeKind, CodeList, CodeListError, Listed, Listing};
pub use group_code::{GroupCode, GroupCodeError};
pub use icd10::{Icd10Code, Icd10Error};
pub use member_id::{MemberId, MemberIdError};
pub use modifier::{Modifier, ModifierError};
pub use npi::{Npi, NpiError};
pub use payer_id::{PayerId, PayerIdError};
pub use place_of_service::{PlaceOfService, PlaceOfServiceError};
pub use procedure_code::{CodeSet, ProcedureCode, ProcedureCodeError};
pub use rarc::{Rarc, RarcError};
pub use revenue_code::{RevenueCode, RevenueCodeError};
pub use service_code::{ServiceCode, ServiceCodeError};
pub use tin::{Tin, TinError};
