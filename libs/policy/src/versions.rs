//! Table versions chosen by date of service.
//!
//! CMS publishes MUE, RVU and GPCI tables quarterly, each in force from a
//! date until the next; a payer uploads each fee schedule as a full new
//! version. [`Versions`] holds the versions of one table by the date each
//! takes effect and answers the one in force on a date of service: the
//! latest whose effective date is on or before it and whose end date, if
//! any, is after it.

use time::Date;

/// One version of a table with the span it is in force: from `effective`
/// (inclusive) until `ends` (exclusive; `None` while no later version ends it).
#[derive(Debug, Clone)]
pub struct Version<T> {
    pub effective: Date,
    pub ends: Option<Date>,
    pub table: T,
}

/// The versions of one table, ordered by effective date.
#[derive(Debug, Clone)]
pub struct Versions<T> {
    versions: Vec<Version<T>>,
}

impl<T> Default for Versions<T> {
    fn default() -> Self {
        Versions { versions: Vec::new() }
    }
}

impl<T> Versions<T> {
    pub fn new() -> Versions<T> {
        Versions::default()
    }

    /// Adds a version; a later one with the same effective date replaces it
    /// (a corrected upload of the same quarter).
    pub fn insert(&mut self, version: Version<T>) {
        match self.versions.binary_search_by_key(&version.effective, |existing| existing.effective) {
            Ok(version_idx) => self.versions[version_idx] = version,
            Err(version_idx) => self.versions.insert(version_idx, version),
        }
    }

    /// The version in force on `service_date`, if any.
    pub fn in_force(&self, service_date: Date) -> Option<&Version<T>> {
        let after = self.versions.partition_point(|version| version.effective <= service_date);
        let candidate = self.versions[..after].last()?;
        match candidate.ends {
            Some(ends) if service_date >= ends => None,
            _ => Some(candidate),
        }
    }

    pub fn len(&self) -> usize {
        self.versions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_version_in_force_is_the_latest_effective_on_or_before_the_date_of_service() {
        let mut versions = Versions::new();
        versions.insert(Version { effective: date!(2026 - 01 - 01), ends: None, table: "q1" });
        versions.insert(Version { effective: date!(2026 - 04 - 01), ends: Some(date!(2026 - 07 - 01)), table: "q2" });
        assert_eq!(versions.in_force(date!(2025 - 12 - 31)).map(|v| v.table), None);
        assert_eq!(versions.in_force(date!(2026 - 01 - 01)).map(|v| v.table), Some("q1"));
        assert_eq!(versions.in_force(date!(2026 - 03 - 31)).map(|v| v.table), Some("q1"));
        assert_eq!(versions.in_force(date!(2026 - 04 - 01)).map(|v| v.table), Some("q2"));
        assert_eq!(versions.in_force(date!(2026 - 07 - 01)).map(|v| v.table), None);
    }

    #[test]
    fn a_second_upload_for_the_same_effective_date_replaces_the_first() {
        let mut versions = Versions::new();
        versions.insert(Version { effective: date!(2026 - 01 - 01), ends: None, table: "first" });
        versions.insert(Version { effective: date!(2026 - 01 - 01), ends: None, table: "corrected" });
        assert_eq!(versions.len(), 1);
        assert_eq!(versions.in_force(date!(2026 - 02 - 01)).map(|v| v.table), Some("corrected"));
    }
}
