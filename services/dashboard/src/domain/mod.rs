//! The dashboard's pure core: sessions and their idle timeout, CSRF checks,
//! which pages a role sees, tables (filter, pages) and their CSV export,
//! amounts in cents, payment-run totals, reconciliation exceptions by age, claims per day, bar-chart layout and
//! multipart forms, the pended queue's review form and pended claims by
//! reason, fraud alerts' filters and closing form. No IO: the clock, randomness and the services' answers
//! come in as values.

pub mod chart;
pub mod claims;
pub mod csv;
pub mod exceptions;
pub mod fraud;
pub mod money;
pub mod multipart;
pub mod page;
pub mod review;
pub mod runs;
pub mod session;
pub mod table;
pub mod viewer;
