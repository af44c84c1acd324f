//! The registrations intake checks before it stores them: payers, providers,
//! members with their coverage, provider enrollments. Each body is the
//! command as sent (the HTTP body, a CSV row, the demo's seed); its
//! `validate_*` turns it into the event it publishes, or names every field
//! that is wrong. Pure, like the rest of the domain.

use claimtrail_events::{BankAccount, Licence, MemberEnrolled, PayTo, PayerRegistered, ProviderEnrolled, ProviderRegistered, parse_date};
use serde::Deserialize;

/// A field that is wrong, and why; `path` names it (prefixed, in a CSV import, with its line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub path: String,
    pub message: String,
}

/// The longest timely-filing limit a payer may set, in days (three years).
pub const TIMELY_FILING_DAYS_MAX: u32 = 1_095;

/// An id: 1-80 letters, digits, `-` or `_`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 80 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The body of `PUT /v1/payers/{payer_id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayerBody {
    pub name: String,
    pub timely_filing_days: u32,
}

/// Checks a payer; errors name the field.
pub fn validate_payer(payer_id: &str, body: &PayerBody) -> Result<PayerRegistered, Vec<Invalid>> {
    let mut errors = Vec::new();
    if !valid_id(payer_id) {
        errors.push(Invalid { path: "payer_id".into(), message: "must be 1-80 letters, digits, - or _".into() });
    }
    if body.name.trim().is_empty() || body.name.len() > 200 {
        errors.push(Invalid { path: "name".into(), message: "must be 1-200 characters".into() });
    }
    if body.timely_filing_days == 0 || body.timely_filing_days > TIMELY_FILING_DAYS_MAX {
        errors.push(Invalid { path: "timely_filing_days".into(), message: format!("must be 1-{TIMELY_FILING_DAYS_MAX} days") });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(PayerRegistered { payer_id: payer_id.to_owned(), name: body.name.trim().to_owned(), timely_filing_days: body.timely_filing_days })
}

/// A licence as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenceBody {
    pub number: String,
    pub state: String,
    pub expires: String,
}

/// A pay-to address as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayToBody {
    pub name: String,
    pub address_line: String,
    pub city: String,
    pub state: String,
    pub postal_code: String,
}

/// A bank account as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankAccountBody {
    pub routing_number: String,
    pub account_number: String,
    pub account_type: String,
}

/// The body of `PUT /v1/providers/{npi}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderBody {
    pub entity_type: u8,
    pub name: String,
    pub tin: String,
    pub taxonomy: String,
    pub organization: String,
    pub licence: Option<LicenceBody>,
    pub pay_to: PayToBody,
    pub bank_account: Option<BankAccountBody>,
}

/// US states, DC and the territories with their own licensing boards.
const STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO",
    "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR",
    "VI", "GU", "AS", "MP",
];

/// An ABA routing number: 9 digits whose weighted sum (3, 7, 1, ...) is a multiple of 10.
pub fn valid_routing_number(routing: &str) -> bool {
    let digits: Vec<u32> = routing.chars().filter_map(|c| c.to_digit(10)).collect();
    if routing.len() != 9 || digits.len() != 9 {
        return false;
    }
    let weights = [3, 7, 1, 3, 7, 1, 3, 7, 1];
    digits.iter().zip(weights).map(|(d, w)| d * w).sum::<u32>() % 10 == 0
}

/// Checks a provider registration; errors name the field.
pub fn validate_provider(npi: &str, body: &ProviderBody) -> Result<ProviderRegistered, Vec<Invalid>> {
    let mut errors = Vec::new();
    let mut error = |path: &str, message: String| errors.push(Invalid { path: path.to_owned(), message });
    if let Err(e) = claimtrail_codes::Npi::parse(npi) {
        error("npi", e.to_string());
    }
    if !matches!(body.entity_type, 1 | 2) {
        error("entity_type", "must be 1 (individual) or 2 (organization)".into());
    }
    if body.name.trim().is_empty() || body.name.len() > 200 {
        error("name", "must be 1-200 characters".into());
    }
    if body.tin.len() != 9 || !body.tin.chars().all(|c| c.is_ascii_digit()) {
        error("tin", "must be 9 digits".into());
    }
    if body.taxonomy.len() != 10 || !body.taxonomy.chars().all(|c| c.is_ascii_alphanumeric()) {
        error("taxonomy", "must be a 10-character NUCC taxonomy code".into());
    }
    if body.organization.trim().is_empty() || body.organization.len() > 200 {
        error("organization", "must name the tenant (1-200 characters) whose provider keys bill under this NPI".into());
    }
    let licence = match &body.licence {
        None => None,
        Some(licence) => {
            if licence.number.trim().is_empty() || licence.number.len() > 40 {
                error("licence.number", "must be 1-40 characters".into());
            }
            if !STATES.contains(&licence.state.as_str()) {
                error("licence.state", format!("`{}` is not a two-letter US state code", licence.state));
            }
            match parse_date(&licence.expires) {
                None => {
                    error("licence.expires", format!("`{}` is not a date (YYYY-MM-DD)", licence.expires));
                    None
                }
                Some(expires) => Some(Licence { number: licence.number.trim().to_owned(), state: licence.state.clone(), expires }),
            }
        }
    };
    let pay_to = &body.pay_to;
    for (path, value) in [("pay_to.name", &pay_to.name), ("pay_to.address_line", &pay_to.address_line), ("pay_to.city", &pay_to.city)] {
        if value.trim().is_empty() || value.len() > 55 {
            error(path, "must be 1-55 characters".into());
        }
    }
    if !STATES.contains(&pay_to.state.as_str()) {
        error("pay_to.state", format!("`{}` is not a two-letter US state code", pay_to.state));
    }
    if !matches!(pay_to.postal_code.len(), 5 | 9) || !pay_to.postal_code.chars().all(|c| c.is_ascii_digit()) {
        error("pay_to.postal_code", "must be 5 or 9 digits".into());
    }
    let bank_account = body.bank_account.as_ref().map(|account| {
        if !valid_routing_number(&account.routing_number) {
            error("bank_account.routing_number", "must be a 9-digit ABA routing number with a valid check digit".into());
        }
        if !(4..=17).contains(&account.account_number.len()) || !account.account_number.chars().all(|c| c.is_ascii_digit()) {
            error("bank_account.account_number", "must be 4-17 digits".into());
        }
        if !matches!(account.account_type.as_str(), "checking" | "savings") {
            error("bank_account.account_type", format!("`{}` is not checking or savings", account.account_type));
        }
        BankAccount {
            routing_number: account.routing_number.clone(),
            account_number: account.account_number.clone(),
            account_type: account.account_type.clone(),
        }
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ProviderRegistered {
        npi: npi.to_owned(),
        entity_type: body.entity_type,
        name: body.name.trim().to_owned(),
        tin: body.tin.clone(),
        taxonomy: body.taxonomy.clone(),
        organization: body.organization.trim().to_owned(),
        licence,
        pay_to: PayTo {
            name: pay_to.name.trim().to_owned(),
            address_line: pay_to.address_line.trim().to_owned(),
            city: pay_to.city.trim().to_owned(),
            state: pay_to.state.clone(),
            postal_code: pay_to.postal_code.clone(),
        },
        bank_account,
    })
}

/// Shows only the last four digits of an account number.
pub fn mask(account_number: &str) -> String {
    let keep = account_number.len().saturating_sub(4);
    format!("{}{}", "*".repeat(keep), &account_number[keep..])
}

/// The body of `PUT /v1/payers/{payer_id}/members/{member_id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    pub family_name: String,
    pub given_name: String,
    pub birth_date: String,
    pub sex: String,
    pub plan_id: String,
    pub coverage_start: String,
    pub coverage_end: String,
    /// The member's date of death, once known (YYYY-MM-DD).
    #[serde(default)]
    pub date_of_death: Option<String>,
    /// The subscriber of the member's family; the member's own id when absent.
    #[serde(default)]
    pub subscriber_id: Option<String>,
    /// `self`, `spouse`, `child` or `other`.
    #[serde(default)]
    pub relationship: Option<String>,
    /// The member's address ZIP code, 5 or 9 digits.
    #[serde(default)]
    pub zip: Option<String>,
}

/// The body of `PUT /v1/providers/{npi}/enrollments/{payer_id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentBody {
    pub entity_type: u8,
    pub name: String,
    pub tin: String,
    pub taxonomy: String,
    pub enrollment_start: String,
    pub enrollment_end: String,
    /// An individual provider's (entity type 1) last name, as the OIG
    /// exclusion list spells it; with `first_name` and `birth_date`, it lets
    /// adjudication match exclusions that carry no NPI.
    #[serde(default)]
    pub last_name: Option<String>,
    /// An individual provider's first name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// An individual provider's birth date (YYYY-MM-DD).
    #[serde(default)]
    pub birth_date: Option<String>,
}

/// Checks a member; errors name the field (prefixed with `at`, e.g. a CSV line).
pub fn validate_member(payer_id: &str, member_id: &str, body: &MemberBody, at: &str) -> Result<MemberEnrolled, Vec<Invalid>> {
    let mut errors = Vec::new();
    let mut error = |path: &str, message: String| errors.push(Invalid { path: format!("{at}{path}"), message });
    if !valid_id(payer_id) {
        error("payer_id", "must be 1-80 letters, digits, - or _".into());
    }
    if !valid_id(member_id) {
        error("member_id", "must be 1-80 letters, digits, - or _".into());
    }
    if body.family_name.trim().is_empty() {
        error("family_name", "must not be empty".into());
    }
    if body.given_name.trim().is_empty() {
        error("given_name", "must not be empty".into());
    }
    if !matches!(body.sex.as_str(), "female" | "male" | "other" | "unknown") {
        error("sex", format!("`{}` is not female, male, other or unknown", body.sex));
    }
    if !valid_id(&body.plan_id) {
        error("plan_id", "must be 1-80 letters, digits, - or _".into());
    }
    let mut date = |path: &str, text: &str| match parse_date(text) {
        Some(date) => Some(date),
        None => {
            error(path, format!("`{text}` is not a date (YYYY-MM-DD)"));
            None
        }
    };
    let birth_date = date("birth_date", &body.birth_date);
    let start = date("coverage_start", &body.coverage_start);
    let end = date("coverage_end", &body.coverage_end);
    let date_of_death = body.date_of_death.as_deref().and_then(|text| date("date_of_death", text));
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        errors.push(Invalid { path: format!("{at}coverage_end"), message: "is before coverage_start".into() });
    }
    if let Some(subscriber_id) = &body.subscriber_id
        && !valid_id(subscriber_id)
    {
        errors.push(Invalid { path: format!("{at}subscriber_id"), message: "must be 1-80 letters, digits, - or _".into() });
    }
    if let Some(relationship) = &body.relationship
        && !matches!(relationship.as_str(), "self" | "spouse" | "child" | "other")
    {
        errors.push(Invalid { path: format!("{at}relationship"), message: format!("`{relationship}` is not self, spouse, child or other") });
    }
    if let Some(zip) = &body.zip
        && !(matches!(zip.len(), 5 | 9) && zip.bytes().all(|b| b.is_ascii_digit()))
    {
        errors.push(Invalid { path: format!("{at}zip"), message: format!("`{zip}` is not a 5- or 9-digit ZIP code") });
    }
    if let (Some(born), Some(died)) = (birth_date, date_of_death)
        && died < born
    {
        errors.push(Invalid { path: format!("{at}date_of_death"), message: "is before birth_date".into() });
    }
    match (birth_date, start, end) {
        (Some(birth_date), Some(coverage_start), Some(coverage_end)) if errors.is_empty() => Ok(MemberEnrolled {
            payer_id: payer_id.to_owned(),
            member_id: member_id.to_owned(),
            family_name: body.family_name.trim().to_owned(),
            given_name: body.given_name.trim().to_owned(),
            birth_date,
            sex: body.sex.clone(),
            plan_id: body.plan_id.clone(),
            coverage_start,
            coverage_end,
            subscriber_id: Some(body.subscriber_id.clone().unwrap_or_else(|| member_id.to_owned())),
            relationship: body.relationship.clone(),
            date_of_death,
            zip: body.zip.clone(),
        }),
        _ => Err(errors),
    }
}

/// Checks an enrollment.
pub fn validate_enrollment(npi: &str, payer_id: &str, body: &EnrollmentBody) -> Result<ProviderEnrolled, Vec<Invalid>> {
    let mut errors = Vec::new();
    if let Err(e) = claimtrail_codes::Npi::parse(npi) {
        errors.push(Invalid { path: "npi".into(), message: e.to_string() });
    }
    if !valid_id(payer_id) {
        errors.push(Invalid { path: "payer_id".into(), message: "must be 1-80 letters, digits, - or _".into() });
    }
    if !matches!(body.entity_type, 1 | 2) {
        errors.push(Invalid { path: "entity_type".into(), message: "must be 1 (individual) or 2 (organization)".into() });
    }
    if body.name.trim().is_empty() {
        errors.push(Invalid { path: "name".into(), message: "must not be empty".into() });
    }
    if body.tin.len() != 9 || !body.tin.chars().all(|c| c.is_ascii_digit()) {
        errors.push(Invalid { path: "tin".into(), message: "must be 9 digits".into() });
    }
    if body.taxonomy.len() != 10 || !body.taxonomy.chars().all(|c| c.is_ascii_alphanumeric()) {
        errors.push(Invalid { path: "taxonomy".into(), message: "must be a 10-character NUCC taxonomy code".into() });
    }
    let start = parse_date(&body.enrollment_start);
    let end = parse_date(&body.enrollment_end);
    let birth_date = body.birth_date.as_deref().and_then(|text| {
        let date = parse_date(text);
        if date.is_none() {
            errors.push(Invalid { path: "birth_date".into(), message: format!("`{text}` is not a date (YYYY-MM-DD)") });
        }
        date
    });
    let last_name = body.last_name.as_deref().map(str::trim);
    let first_name = body.first_name.as_deref().map(str::trim);
    for (path, name) in [("last_name", last_name), ("first_name", first_name)] {
        if name.is_some_and(str::is_empty) {
            errors.push(Invalid { path: path.into(), message: "must not be empty when given".into() });
        }
    }
    if body.entity_type == 2 {
        for (path, given) in [("last_name", last_name.is_some()), ("first_name", first_name.is_some()), ("birth_date", body.birth_date.is_some())] {
            if given {
                errors.push(Invalid { path: path.into(), message: "is for individual providers (entity_type 1), not organizations".into() });
            }
        }
    }
    if let (Some(born), Some(start)) = (birth_date, start)
        && born >= start
    {
        errors.push(Invalid { path: "birth_date".into(), message: "is not before enrollment_start".into() });
    }
    if start.is_none() {
        errors.push(Invalid { path: "enrollment_start".into(), message: format!("`{}` is not a date (YYYY-MM-DD)", body.enrollment_start) });
    }
    if end.is_none() {
        errors.push(Invalid { path: "enrollment_end".into(), message: format!("`{}` is not a date (YYYY-MM-DD)", body.enrollment_end) });
    }
    match (start, end) {
        (Some(start), Some(end)) if end < start => {
            errors.push(Invalid { path: "enrollment_end".into(), message: "is before enrollment_start".into() });
            Err(errors)
        }
        (Some(enrollment_start), Some(enrollment_end)) if errors.is_empty() => Ok(ProviderEnrolled {
            npi: npi.to_owned(),
            entity_type: body.entity_type,
            name: body.name.trim().to_owned(),
            tin: body.tin.clone(),
            taxonomy: body.taxonomy.clone(),
            payer_id: payer_id.to_owned(),
            enrollment_start,
            enrollment_end,
            last_name: last_name.map(str::to_owned),
            first_name: first_name.map(str::to_owned),
            birth_date,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimtrail_events::format_date;

    #[test]
    fn routing_numbers_are_checked_by_their_check_digit() {
        assert!(valid_routing_number("011000015"), "Federal Reserve Bank of Boston");
        assert!(valid_routing_number("021000021"));
        assert!(!valid_routing_number("021000022"));
        assert!(!valid_routing_number("02100002"));
        assert!(!valid_routing_number("02100002a"));
    }

    #[test]
    fn account_numbers_are_masked_to_their_last_four_digits() {
        assert_eq!(mask("123456789"), "*****6789");
        assert_eq!(mask("1234"), "1234");
    }

    #[test]
    fn a_provider_registration_names_every_bad_field() {
        let body = ProviderBody {
            entity_type: 3,
            name: "".into(),
            tin: "12-3456789".into(),
            taxonomy: "207Q00000X".into(),
            organization: "riverside".into(),
            licence: Some(LicenceBody { number: "MD123".into(), state: "ZZ".into(), expires: "2027-02-30".into() }),
            pay_to: PayToBody {
                name: "Riverside".into(),
                address_line: "1 Main St".into(),
                city: "Springfield".into(),
                state: "IL".into(),
                postal_code: "6270".into(),
            },
            bank_account: Some(BankAccountBody { routing_number: "021000022".into(), account_number: "12".into(), account_type: "money-market".into() }),
        };
        let errors = validate_provider("1245319599", &body).unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "entity_type",
                "name",
                "tin",
                "licence.state",
                "licence.expires",
                "pay_to.postal_code",
                "bank_account.routing_number",
                "bank_account.account_number",
                "bank_account.account_type"
            ]
        );
    }

    fn member(sex: &str, coverage_start: &str, coverage_end: &str) -> MemberBody {
        MemberBody {
            family_name: "Doe".into(),
            given_name: "Jane".into(),
            birth_date: "1980-02-03".into(),
            sex: sex.into(),
            plan_id: "PPO-1".into(),
            coverage_start: coverage_start.into(),
            coverage_end: coverage_end.into(),
            date_of_death: None,
            subscriber_id: None,
            relationship: None,
            zip: None,
        }
    }

    fn enrollment(start: &str, end: &str) -> EnrollmentBody {
        EnrollmentBody {
            entity_type: 2,
            name: "Riverside".into(),
            tin: "123456789".into(),
            taxonomy: "207Q00000X".into(),
            enrollment_start: start.into(),
            enrollment_end: end.into(),
            last_name: None,
            first_name: None,
            birth_date: None,
        }
    }

    fn paths(errors: Vec<Invalid>) -> Vec<String> {
        errors.into_iter().map(|e| e.path).collect()
    }

    #[test]
    fn a_payer_needs_an_id_a_name_and_a_timely_filing_limit_of_at_most_three_years() {
        let payer = validate_payer("60054", &PayerBody { name: " Acme Health ".into(), timely_filing_days: 365 }).unwrap();
        assert_eq!((payer.name.as_str(), payer.timely_filing_days), ("Acme Health", 365), "the name is trimmed");
        let errors = validate_payer("bad id", &PayerBody { name: " ".into(), timely_filing_days: TIMELY_FILING_DAYS_MAX + 1 }).unwrap_err();
        assert_eq!(paths(errors), ["payer_id", "name", "timely_filing_days"]);
        assert!(validate_payer("60054", &PayerBody { name: "Acme".into(), timely_filing_days: 0 }).is_err());
    }

    #[test]
    fn a_provider_registration_is_refused_for_an_npi_with_a_bad_check_digit() {
        let body = ProviderBody {
            entity_type: 2,
            name: "Riverside".into(),
            tin: "123456789".into(),
            taxonomy: "207Q00000X".into(),
            organization: "riverside".into(),
            licence: None,
            pay_to: PayToBody {
                name: "Riverside".into(),
                address_line: "1 Main St".into(),
                city: "Springfield".into(),
                state: "IL".into(),
                postal_code: "62701".into(),
            },
            bank_account: None,
        };
        assert!(validate_provider("1245319599", &body).is_ok());
        assert_eq!(paths(validate_provider("1245319590", &body).unwrap_err()), ["npi"]);
    }

    #[test]
    fn a_member_is_checked_field_by_field_and_a_csv_line_prefixes_each_path() {
        let enrolled = validate_member("60054", "MBR-1", &member("female", "2026-01-01", "2026-12-31"), "").unwrap();
        assert_eq!((format_date(enrolled.coverage_start), format_date(enrolled.coverage_end)), ("2026-01-01".into(), "2026-12-31".into()));
        let errors = validate_member("60054", "MBR 1", &member("f", "2026-13-01", "2026-12-31"), "line 3: ").unwrap_err();
        assert_eq!(paths(errors), ["line 3: member_id", "line 3: sex", "line 3: coverage_start"]);
    }

    #[test]
    fn coverage_that_ends_before_it_starts_is_refused() {
        let errors = validate_member("60054", "MBR-1", &member("male", "2026-06-01", "2026-05-31"), "").unwrap_err();
        assert_eq!(errors, [Invalid { path: "coverage_end".into(), message: "is before coverage_start".into() }]);
    }

    #[test]
    fn an_enrollment_needs_a_valid_npi_a_payer_and_a_period_in_order() {
        assert!(validate_enrollment("1245319599", "60054", &enrollment("2026-01-01", "2026-12-31")).is_ok());
        assert_eq!(paths(validate_enrollment("1245319590", "60054", &enrollment("2026-01-01", "2026-12-31")).unwrap_err()), ["npi"]);
        assert_eq!(paths(validate_enrollment("1245319599", "", &enrollment("2026-01-01", "2026-12-31")).unwrap_err()), ["payer_id"]);
        assert_eq!(paths(validate_enrollment("1245319599", "60054", &enrollment("2026-06-01", "2026-01-01")).unwrap_err()), ["enrollment_end"]);
        assert_eq!(paths(validate_enrollment("1245319599", "60054", &enrollment("soon", "2026-01-01")).unwrap_err()), ["enrollment_start"]);
    }

    #[test]
    fn an_individual_enrollment_carries_the_name_and_birth_date_an_exclusion_match_needs() {
        let individual = EnrollmentBody {
            entity_type: 1,
            last_name: Some(" Example ".into()),
            first_name: Some("Robin".into()),
            birth_date: Some("1975-04-12".into()),
            ..enrollment("2026-01-01", "2026-12-31")
        };
        let enrolled = validate_enrollment("1003000126", "60054", &individual).unwrap();
        assert_eq!(enrolled.last_name.as_deref(), Some("Example"), "trimmed");
        assert_eq!(enrolled.first_name.as_deref(), Some("Robin"));
        assert_eq!(enrolled.birth_date.map(format_date).as_deref(), Some("1975-04-12"));
        let without = validate_enrollment("1003000126", "60054", &EnrollmentBody { entity_type: 1, ..enrollment("2026-01-01", "2026-12-31") }).unwrap();
        assert_eq!((without.last_name, without.first_name, without.birth_date), (None, None, None), "optional");

        let bad = EnrollmentBody { birth_date: Some("12/04/1975".into()), first_name: Some(" ".into()), ..individual };
        assert_eq!(paths(validate_enrollment("1003000126", "60054", &bad).unwrap_err()), ["birth_date", "first_name"]);
        let unborn = EnrollmentBody { entity_type: 1, birth_date: Some("2026-03-01".into()), ..enrollment("2026-01-01", "2026-12-31") };
        assert_eq!(paths(validate_enrollment("1003000126", "60054", &unborn).unwrap_err()), ["birth_date"]);
        let organization =
            EnrollmentBody { last_name: Some("Riverside".into()), birth_date: Some("1975-04-12".into()), ..enrollment("2026-01-01", "2026-12-31") };
        assert_eq!(paths(validate_enrollment("1245319599", "60054", &organization).unwrap_err()), ["last_name", "birth_date"]);
    }
}
