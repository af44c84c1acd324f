//! The payers' policy data the detectors read, as adjudication publishes it
//! (`policy_version.published.v1`: kind, version id, content hash; the rows
//! are fetched by version): the OIG exclusion list (LEIE, kind `exclusions`)
//! for `excluded_provider`, and the NCCI procedure-to-procedure edits (kind
//! `ncci-ptp`) for `unbundling`.
//!
//! [`PolicyRows::of`] checks the fetched bytes against the published hash
//! and reduces them to what the detectors need: exclusions by NPI (rows
//! without an NPI match by name and birth date, which the fraud service
//! does not hold, so they are left to adjudication's edit), and code pairs
//! with whether a modifier may lift them (edits with indicator 9, "not
//! applicable", do nothing and are left out). [`PolicyRows::add_to`] puts
//! them into a [`Reference`].

use claimtrail_events::sha3_256;
use claimtrail_fraud::{ExclusionPeriod, Reference, UnbundlingPair};
use claimtrail_policy::{ExclusionList, ModifierIndicator, NcciTable};
use serde::{Deserialize, Serialize};
use time::Date;

/// The policy kinds the detectors read.
pub const KINDS: [&str; 2] = [EXCLUSIONS, NCCI_PTP];
pub const EXCLUSIONS: &str = "exclusions";
pub const NCCI_PTP: &str = "ncci-ptp";

/// What the detectors keep of one policy version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PolicyRows {
    /// `(npi, excluded from, reinstated on)`.
    Exclusions { rows: Vec<(String, String, Option<String>)> },
    /// `(column one: comprehensive, column two: component, modifier allowed)`.
    NcciPtp { rows: Vec<(String, String, bool)> },
}

/// Why a published version cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the fetched bytes hash to {actual}, not the published {published}")]
    HashMismatch { published: String, actual: String },
    #[error("`{0}` is not a policy kind the detectors read")]
    UnknownKind(String),
    #[error("the {kind} table does not load: {message}")]
    Invalid { kind: String, message: String },
}

impl PolicyRows {
    /// The rows of a version of `kind` whose bytes are `body`, published with hash `content_hash` (hex SHA3-256).
    pub fn of(kind: &str, content_hash: &str, body: &[u8]) -> Result<PolicyRows, PolicyError> {
        let actual = hex::encode(sha3_256(body));
        if !actual.eq_ignore_ascii_case(content_hash) {
            return Err(PolicyError::HashMismatch { published: content_hash.to_owned(), actual });
        }
        let invalid = |message: String| PolicyError::Invalid { kind: kind.to_owned(), message };
        match kind {
            EXCLUSIONS => {
                let list = ExclusionList::load(body).map_err(|e| invalid(e.to_string()))?;
                let rows = list
                    .rows()
                    .iter()
                    .filter_map(|row| {
                        let npi = row.npi.clone()?;
                        Some((npi, claimtrail_events::format_date(row.excluded), row.reinstated.map(claimtrail_events::format_date)))
                    })
                    .collect();
                Ok(PolicyRows::Exclusions { rows })
            }
            NCCI_PTP => {
                let table = NcciTable::load(body).map_err(|e| invalid(e.to_string()))?;
                let mut rows: Vec<(String, String, bool)> = table
                    .edits()
                    .iter()
                    .filter(|edit| edit.modifier_indicator != ModifierIndicator::NotApplicable)
                    .map(|edit| (edit.column_one.to_string(), edit.column_two.to_string(), edit.modifier_indicator == ModifierIndicator::Allowed))
                    .collect();
                rows.dedup();
                Ok(PolicyRows::NcciPtp { rows })
            }
            other => Err(PolicyError::UnknownKind(other.to_owned())),
        }
    }

    /// Adds the rows to `reference`.
    pub fn add_to(&self, reference: &mut Reference) {
        match self {
            PolicyRows::Exclusions { rows } => {
                for (npi, from, until) in rows {
                    let Some(from) = claimtrail_events::parse_date(from) else { continue };
                    let until: Option<Date> = until.as_deref().and_then(claimtrail_events::parse_date);
                    reference.add_exclusion(npi, ExclusionPeriod { from, until });
                }
            }
            PolicyRows::NcciPtp { rows } => {
                for (comprehensive, component, modifier_allowed) in rows {
                    reference.add_unbundling_pair(UnbundlingPair {
                        comprehensive: comprehensive.clone(),
                        component: component.clone(),
                        modifier_allowed: *modifier_allowed,
                    });
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        match self {
            PolicyRows::Exclusions { rows } => rows.len(),
            PolicyRows::NcciPtp { rows } => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const LEIE: &str = "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE\n\
        \"EXCLUDED\",\"ONE\",\"\",\"\",\"IND\",\"FAMILY PRACTICE\",\"\",1992999999,19700101,\"1 WAY\",\"B\",\"AL\",35203,1128b4,20260301,00000000,00000000,\"\"\n\
        \"EXCLUDED\",\"TWO\",\"\",\"\",\"IND\",\"FAMILY PRACTICE\",\"\",1003000126,19700101,\"1 WAY\",\"B\",\"AL\",35203,1128b4,20250101,20260101,00000000,\"\"\n\
        \"\",\"\",\"\",\"NO NPI LLC\",\"BUSINESS\",\"DME\",\"\",0000000000,00000000,\"2 WAY\",\"B\",\"AL\",35203,1128a1,20210601,00000000,00000000,\"\"\n";

    const NCCI: &str = "\"Practitioner PTP Edits\"\n\
        Column 1,Column 2,*=in existence prior to 1996,Effective Date,Deletion Date *=no data,Modifier 0=not allowed 1=allowed 9=not applicable,PTP Edit Rationale\n\
        80053,82565,,20200101,*,0,Panel\n\
        97530,97140,,20200101,*,1,Mutually exclusive\n\
        20610,99213,,20200101,*,9,Deleted retroactively\n";

    fn hash(body: &str) -> String {
        hex::encode(sha3_256(body.as_bytes()))
    }

    #[test]
    fn exclusions_with_an_npi_become_periods_and_a_reinstated_one_ends() {
        let rows = PolicyRows::of(EXCLUSIONS, &hash(LEIE), LEIE.as_bytes()).expect("loads");
        assert_eq!(rows.len(), 2, "the row without an NPI is left to adjudication: {rows:?}");
        let mut reference = Reference::new();
        rows.add_to(&mut reference);
        assert!(reference.exclusion_on("1992999999", date!(2026 - 03 - 01)).is_some());
        assert!(reference.exclusion_on("1992999999", date!(2026 - 02 - 28)).is_none());
        assert!(reference.exclusion_on("1003000126", date!(2025 - 06 - 01)).is_some());
        assert!(reference.exclusion_on("1003000126", date!(2026 - 01 - 01)).is_none(), "reinstated");
    }

    #[test]
    fn ncci_pairs_keep_their_modifier_indicator_and_not_applicable_edits_are_left_out() {
        let rows = PolicyRows::of(NCCI_PTP, &hash(NCCI), NCCI.as_bytes()).expect("loads");
        let mut reference = Reference::new();
        rows.add_to(&mut reference);
        assert_eq!(reference.bundled("80053", "82565"), Some(false));
        assert_eq!(reference.bundled("97530", "97140"), Some(true));
        assert_eq!(reference.bundled("20610", "99213"), None);
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn bytes_that_do_not_match_the_published_hash_are_refused() {
        let error = PolicyRows::of(NCCI_PTP, &hash(LEIE), NCCI.as_bytes()).unwrap_err();
        assert!(matches!(error, PolicyError::HashMismatch { .. }), "{error}");
    }

    #[test]
    fn a_kind_the_detectors_do_not_read_and_an_invalid_table_are_errors() {
        assert_eq!(PolicyRows::of("mue", &hash("x"), b"x"), Err(PolicyError::UnknownKind("mue".into())));
        let bad = "Column 1,Column 2\n80053\n";
        assert!(matches!(PolicyRows::of(NCCI_PTP, &hash(bad), bad.as_bytes()), Err(PolicyError::Invalid { .. })));
    }

    #[test]
    fn rows_survive_their_stored_json() {
        let rows = PolicyRows::of(EXCLUSIONS, &hash(LEIE), LEIE.as_bytes()).expect("loads");
        let json = serde_json::to_string(&rows).unwrap();
        assert_eq!(serde_json::from_str::<PolicyRows>(&json).unwrap(), rows);
    }
}
