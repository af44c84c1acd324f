//! The payers' policy data the detectors read, as adjudication publishes it
//! (`policy_version.published.v1`: kind, version id, content hash; the rows
//! are fetched by version): the OIG exclusion list (LEIE, kind `exclusions`)
//! for `excluded_provider`, and the NCCI procedure-to-procedure edits (kind
//! `ncci-ptp`) for `unbundling`.
//!
//! [`PolicyRows::of`] checks the fetched bytes against the published hash
//! and reduces them to what the detectors need: exclusions by NPI (rows
//! without an NPI match by name and birth date, which the fraud service
//! does not hold, so they are left to adjudication's edit), and every PTP
//! edit with its effective and deletion dates and modifier indicator (a row
//! with indicator 9, "not applicable", is kept: it supersedes the pair's
//! earlier rows, as in adjudication's lookup). [`PolicyRows::add_to`] puts
//! them into a [`Reference`]: the exclusions for every claim, the edits as
//! the payer's table version in force over the version's dates of service.

use claimtrail_events::sha3_256;
use std::sync::Arc;

use claimtrail_fraud::{ExclusionPeriod, Reference};
use claimtrail_policy::{CodeKey, ExclusionList, ModifierIndicator, NcciTable, PtpEdit, Setting};
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
    /// The PTP edits, every row.
    NcciPtp { rows: Vec<NcciRow> },
}

/// One stored NCCI row: an edit, or, as the fraud service stored them before
/// its migration 3, a bare `(column one, column two, modifier allowed)` pair
/// (read as an edit in force on every date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NcciRow {
    Edit(PtpEdit),
    Pair(String, String, bool),
}

impl NcciRow {
    fn edit(&self) -> Option<PtpEdit> {
        match self {
            NcciRow::Edit(edit) => Some(*edit),
            NcciRow::Pair(column_one, column_two, modifier_allowed) => Some(PtpEdit {
                column_one: CodeKey::parse(column_one)?,
                column_two: CodeKey::parse(column_two)?,
                prior_1996: false,
                effective: Date::MIN,
                deletion: None,
                modifier_indicator: if *modifier_allowed { ModifierIndicator::Allowed } else { ModifierIndicator::NotAllowed },
            }),
        }
    }
}

/// The dates of service a published version is in force for: from `effective_from` until
/// `effective_to` (exclusive), or until a later version of the payer takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InForce {
    pub effective_from: Date,
    pub effective_to: Option<Date>,
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
                Ok(PolicyRows::NcciPtp { rows: table.edits().iter().copied().map(NcciRow::Edit).collect() })
            }
            other => Err(PolicyError::UnknownKind(other.to_owned())),
        }
    }

    /// Adds the rows of payer `payer_id`'s version in force over `in_force` to `reference` (a payer's
    /// versions in the order they were published).
    pub fn add_to(&self, payer_id: &str, in_force: InForce, reference: &mut Reference) {
        match self {
            PolicyRows::Exclusions { rows } => {
                for (npi, from, until) in rows {
                    let Some(from) = claimtrail_events::parse_date(from) else { continue };
                    let until: Option<Date> = until.as_deref().and_then(claimtrail_events::parse_date);
                    reference.add_exclusion(npi, ExclusionPeriod { from, until });
                }
            }
            PolicyRows::NcciPtp { rows } => {
                let table = NcciTable::from_edits(Setting::Practitioner, rows.iter().filter_map(NcciRow::edit).collect());
                reference.add_ncci_version(payer_id, in_force.effective_from, in_force.effective_to, Arc::new(table));
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
        20610,99213,,20200101,*,9,Deleted retroactively\n\
        93000,93010,,20200101,20251231,0,Deleted at the end of 2025\n";

    fn hash(body: &str) -> String {
        hex::encode(sha3_256(body.as_bytes()))
    }

    #[test]
    fn exclusions_with_an_npi_become_periods_and_a_reinstated_one_ends() {
        let rows = PolicyRows::of(EXCLUSIONS, &hash(LEIE), LEIE.as_bytes()).expect("loads");
        assert_eq!(rows.len(), 2, "the row without an NPI is left to adjudication: {rows:?}");
        let mut reference = Reference::new();
        rows.add_to("PAYER-A", ALWAYS, &mut reference);
        assert!(reference.exclusion_on("1992999999", date!(2026 - 03 - 01)).is_some());
        assert!(reference.exclusion_on("1992999999", date!(2026 - 02 - 28)).is_none());
        assert!(reference.exclusion_on("1003000126", date!(2025 - 06 - 01)).is_some());
        assert!(reference.exclusion_on("1003000126", date!(2026 - 01 - 01)).is_none(), "reinstated");
    }

    const ALWAYS: InForce = InForce { effective_from: date!(2000 - 01 - 01), effective_to: None };

    fn indicator(reference: &Reference, payer_id: &str, pair: (&str, &str), service_date: Date) -> Option<ModifierIndicator> {
        reference.ptp_edit(payer_id, pair.0, pair.1, service_date).map(|edit| edit.modifier_indicator)
    }

    #[test]
    fn ncci_edits_keep_their_indicator_and_dates_and_are_the_payers_own() {
        let rows = PolicyRows::of(NCCI_PTP, &hash(NCCI), NCCI.as_bytes()).expect("loads");
        assert_eq!(rows.len(), 4, "every row, indicator 9 too");
        let mut reference = Reference::new();
        rows.add_to("PAYER-A", ALWAYS, &mut reference);
        let day = date!(2026 - 03 - 02);
        assert_eq!(indicator(&reference, "PAYER-A", ("80053", "82565"), day), Some(ModifierIndicator::NotAllowed));
        assert_eq!(indicator(&reference, "PAYER-A", ("97530", "97140"), day), Some(ModifierIndicator::Allowed));
        assert_eq!(indicator(&reference, "PAYER-A", ("20610", "99213"), day), Some(ModifierIndicator::NotApplicable));
        assert_eq!(indicator(&reference, "PAYER-A", ("97530", "97140"), date!(2019 - 12 - 31)), None, "before its effective date");
        assert_eq!(indicator(&reference, "PAYER-A", ("93000", "93010"), date!(2025 - 12 - 31)), Some(ModifierIndicator::NotAllowed));
        assert_eq!(indicator(&reference, "PAYER-A", ("93000", "93010"), date!(2026 - 01 - 01)), None, "after its deletion date");
        assert_eq!(indicator(&reference, "PAYER-B", ("80053", "82565"), day), None, "another payer's");
    }

    #[test]
    fn a_version_applies_from_its_effective_date_until_its_end_or_the_next_version() {
        let rows = PolicyRows::of(NCCI_PTP, &hash(NCCI), NCCI.as_bytes()).expect("loads");
        let mut reference = Reference::new();
        rows.add_to("PAYER-A", InForce { effective_from: date!(2026 - 01 - 01), effective_to: Some(date!(2026 - 04 - 01)) }, &mut reference);
        let pair = ("80053", "82565");
        assert_eq!(indicator(&reference, "PAYER-A", pair, date!(2025 - 12 - 31)), None, "before the version");
        assert_eq!(indicator(&reference, "PAYER-A", pair, date!(2026 - 03 - 31)), Some(ModifierIndicator::NotAllowed));
        assert_eq!(indicator(&reference, "PAYER-A", pair, date!(2026 - 04 - 01)), None, "the version ended");
        let other_pair = "\"Practitioner PTP Edits\"\nColumn 1,Column 2,*=in existence prior to 1996,Effective Date,Deletion Date *=no data,Modifier 0=not allowed 1=allowed 9=not applicable,PTP Edit Rationale\n97530,97140,,20200101,*,1,Mutually exclusive\n";
        let next = PolicyRows::of(NCCI_PTP, &hash(other_pair), other_pair.as_bytes()).expect("loads");
        next.add_to("PAYER-A", InForce { effective_from: date!(2026 - 02 - 01), effective_to: None }, &mut reference);
        assert_eq!(indicator(&reference, "PAYER-A", pair, date!(2026 - 01 - 31)), Some(ModifierIndicator::NotAllowed));
        assert_eq!(indicator(&reference, "PAYER-A", pair, date!(2026 - 02 - 01)), None, "the next version has no such pair");
    }

    #[test]
    fn pairs_stored_before_the_edits_were_kept_whole_still_read() {
        let stored = r#"{"kind":"ncci-ptp","rows":[["80053","82565",false],["97530","97140",true]]}"#;
        let rows: PolicyRows = serde_json::from_str(stored).expect("the old rows parse");
        let mut reference = Reference::new();
        rows.add_to("PAYER-A", ALWAYS, &mut reference);
        assert_eq!(indicator(&reference, "PAYER-A", ("97530", "97140"), date!(2026 - 03 - 02)), Some(ModifierIndicator::Allowed));
        assert_eq!(indicator(&reference, "PAYER-A", ("80053", "82565"), date!(2026 - 03 - 02)), Some(ModifierIndicator::NotAllowed));
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
        for rows in
            [PolicyRows::of(EXCLUSIONS, &hash(LEIE), LEIE.as_bytes()).expect("loads"), PolicyRows::of(NCCI_PTP, &hash(NCCI), NCCI.as_bytes()).expect("loads")]
        {
            let json = serde_json::to_string(&rows).unwrap();
            assert_eq!(serde_json::from_str::<PolicyRows>(&json).unwrap(), rows);
        }
    }
}
