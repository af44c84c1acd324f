//! The dashboard's pure core: sessions and their idle timeout, CSRF checks,
//! which pages a role sees, tables (filter, pages) and their CSV export. No
//! IO: the clock, randomness and the services' answers come in as values.

pub mod csv;
pub mod page;
pub mod session;
pub mod table;
pub mod viewer;
