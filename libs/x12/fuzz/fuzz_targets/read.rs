//! The reader on any bytes: never panics, every interchange is answered (a TA1
//! or a 999), and all acknowledgments render (see `checks/read.rs`).

#![no_main]

#[path = "../checks/read.rs"]
mod read_check;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| read_check::check(data));
