//! The FHIR reader on any bytes: never panics; a body that maps gives claims
//! whose issues name an element, and every entry is either a claim or an
//! entry error (see `checks/parse.rs`).

#![no_main]

#[path = "../checks/parse.rs"]
mod parse_check;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| parse_check::check(data));
