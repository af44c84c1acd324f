//! The dashboard's pure core: sessions and their idle timeout, CSRF checks,
//! which pages a role sees, tables (filter, pages) and their CSV export,
//! amounts in cents, payment-run totals, claims per day, bar-chart layout and
//! multipart forms. No IO: the clock, randomness and the services' answers
//! come in as values.

pub mod chart;
pub mod claims;
pub mod csv;
pub mod money;
pub mod multipart;
pub mod page;
pub mod runs;
pub mod session;
pub mod table;
pub mod viewer;
