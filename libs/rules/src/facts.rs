//! The fact model: what a rule can read about the line being decided.
//!
//! One [`Facts`] per claim line, turned into the ZEN variable that every cell
//! sees. Its fields are listed in [`FACT_FIELDS`] (with their types), which is
//! what upload checks a table's input fields and a cell's references against,
//! and in docs/rules.md. Changing a field's name, type or meaning is a new
//! [`FACT_MODEL_VERSION`], recorded with each decision.

use claimtrail_events::Money;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;
use zen_expression::variable::{Variable, VariableMap};

/// The version of the fact model below, recorded with every decision.
pub const FACT_MODEL_VERSION: &str = "claimtrail-facts/1";

/// The top-level names of the fact model; an expression node cannot use them
/// as keys.
pub const FACT_ROOTS: [&str; 6] = ["claim", "line", "member", "provider", "history", "decision"];

/// The type of a fact field, as a cell sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactType {
    /// A string (codes, identifiers, enumerations).
    Text,
    /// A string, or `null` when the claim does not carry it.
    OptionalText,
    /// A decimal number (money, units).
    Number,
    /// A decimal number, or `null`.
    OptionalNumber,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A date as a `YYYY-MM-DD` string (compare with `d(...)`).
    Date,
    /// A list of strings.
    TextList,
}

/// Every field of the fact model, version [`FACT_MODEL_VERSION`].
pub const FACT_FIELDS: &[(&str, FactType)] = &[
    ("claim.type", FactType::Text),
    ("claim.frequency", FactType::Text),
    ("claim.total_charge", FactType::Number),
    ("claim.place_of_service", FactType::OptionalText),
    ("claim.diagnosis_codes", FactType::TextList),
    ("claim.received_date", FactType::Date),
    ("claim.days_from_service_to_receipt", FactType::Integer),
    ("claim.billing_npi", FactType::Text),
    ("claim.rendering_npi", FactType::OptionalText),
    ("line.sequence", FactType::Integer),
    ("line.procedure_code", FactType::Text),
    ("line.modifiers", FactType::TextList),
    ("line.units", FactType::Number),
    ("line.charge", FactType::Number),
    ("line.place_of_service", FactType::OptionalText),
    ("line.service_date", FactType::Date),
    ("line.revenue_code", FactType::OptionalText),
    ("line.allowed", FactType::OptionalNumber),
    ("member.age", FactType::Integer),
    ("member.sex", FactType::Text),
    ("member.plan_id", FactType::OptionalText),
    ("member.relationship", FactType::Text),
    ("member.network_tier", FactType::OptionalText),
    ("provider.npi", FactType::Text),
    ("provider.taxonomy", FactType::OptionalText),
    ("provider.entity_type", FactType::Text),
    ("provider.in_network", FactType::Boolean),
    ("provider.contract_id", FactType::OptionalText),
    ("history.same_code_last_365_days", FactType::Integer),
    ("history.same_code_same_date", FactType::Integer),
    ("history.claims_same_date", FactType::Integer),
    ("history.claims_last_365_days", FactType::Integer),
    ("decision.date", FactType::Date),
];

/// Whether `path` is a field of the fact model, or a group of fields (such
/// as `claim`).
pub(crate) fn is_fact_path(path: &str) -> bool {
    FACT_FIELDS.iter().any(|(field, _)| *field == path || field.strip_prefix(path).is_some_and(|rest| rest.starts_with('.')))
}

/// The type of the fact field `path`.
pub(crate) fn fact_type(path: &str) -> Option<FactType> {
    FACT_FIELDS.iter().find(|(field, _)| *field == path).map(|(_, kind)| *kind)
}

/// Everything a rule can read about one claim line. The engine fills it
/// from the claim, its reference data and the member's history, records it
/// with the decision, and hands it to [`crate::RuleSet::evaluate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    pub claim: ClaimFacts,
    pub line: LineFacts,
    pub member: MemberFacts,
    pub provider: ProviderFacts,
    pub history: HistoryFacts,
    pub decision: DecisionFacts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimType {
    Professional,
    Institutional,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimFacts {
    #[serde(rename = "type")]
    pub claim_type: ClaimType,
    /// The frequency code (CLM05-3): `1` original, `7` replacement, `8` void.
    pub frequency: String,
    pub total_charge: Money,
    /// The claim's place of service (two digits), professional claims only.
    pub place_of_service: Option<String>,
    /// ICD-10-CM codes as submitted, principal first.
    pub diagnosis_codes: Vec<String>,
    #[serde(with = "claimtrail_events::date")]
    pub received_date: Date,
    /// Days from the claim's earliest date of service to its receipt.
    pub days_from_service_to_receipt: i64,
    pub billing_npi: String,
    pub rendering_npi: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineFacts {
    pub sequence: u32,
    /// HCPCS (or CPT) code of the line.
    pub procedure_code: String,
    pub modifiers: Vec<String>,
    #[serde(with = "rust_decimal::serde::str")]
    pub units: Decimal,
    pub charge: Money,
    /// The line's place of service, or the claim's when the line has none.
    pub place_of_service: Option<String>,
    #[serde(with = "claimtrail_events::date")]
    pub service_date: Date,
    /// The revenue code (institutional claims).
    pub revenue_code: Option<String>,
    /// The allowed amount so far, after pricing and the standard edits;
    /// `None` when the line could not be priced.
    pub allowed: Option<Money>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    Other,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    #[serde(rename = "self")]
    Subscriber,
    Spouse,
    Child,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberFacts {
    /// Whole years on the line's date of service.
    pub age: u32,
    pub sex: Sex,
    pub plan_id: Option<String>,
    /// To the subscriber: `self`, `spouse`, `child` or `other`.
    pub relationship: Relationship,
    pub network_tier: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    /// NPI entity type 1.
    Individual,
    /// NPI entity type 2.
    Organization,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderFacts {
    /// The rendering NPI, or the billing NPI when there is no renderer.
    pub npi: String,
    /// NUCC taxonomy code.
    pub taxonomy: Option<String>,
    pub entity_type: EntityType,
    pub in_network: bool,
    pub contract_id: Option<String>,
}

/// Counts from the member's claim history (the claim being decided is never
/// counted), as of the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryFacts {
    /// Lines with this procedure code in the 365 days before the date of service.
    pub same_code_last_365_days: u32,
    /// Lines with this procedure code on the same date of service.
    pub same_code_same_date: u32,
    /// Other claims with a line on the same date of service.
    pub claims_same_date: u32,
    /// Claims with a date of service in the 365 days before this one.
    pub claims_last_365_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionFacts {
    /// The date of the clock the decision runs under (recorded with it, so a
    /// replay sees the same date). Cells use it instead of "now".
    #[serde(with = "claimtrail_events::date")]
    pub date: Date,
}

impl Facts {
    /// The ZEN variable every cell sees: the fields of [`FACT_FIELDS`],
    /// numbers as decimals, dates as `YYYY-MM-DD` strings.
    pub fn to_variable(&self) -> Variable {
        let mut root = VariableMap::with_capacity(6);
        root.insert_str("claim", self.claim.to_variable());
        root.insert_str("line", self.line.to_variable());
        root.insert_str("member", self.member.to_variable());
        root.insert_str("provider", self.provider.to_variable());
        root.insert_str("history", self.history.to_variable());
        let mut decision = VariableMap::with_capacity(1);
        decision.insert_str("date", date(self.decision.date));
        root.insert_str("decision", Variable::from_object(decision));
        Variable::from_object(root)
    }
}

impl ClaimFacts {
    fn to_variable(&self) -> Variable {
        let mut map = VariableMap::with_capacity(9);
        map.insert_str(
            "type",
            text(match self.claim_type {
                ClaimType::Professional => "professional",
                ClaimType::Institutional => "institutional",
            }),
        );
        map.insert_str("frequency", text(&self.frequency));
        map.insert_str("total_charge", Variable::Number(self.total_charge.amount()));
        map.insert_str("place_of_service", optional_text(self.place_of_service.as_deref()));
        map.insert_str("diagnosis_codes", text_list(&self.diagnosis_codes));
        map.insert_str("received_date", date(self.received_date));
        map.insert_str("days_from_service_to_receipt", Variable::Number(Decimal::from(self.days_from_service_to_receipt)));
        map.insert_str("billing_npi", text(&self.billing_npi));
        map.insert_str("rendering_npi", optional_text(self.rendering_npi.as_deref()));
        Variable::from_object(map)
    }
}

impl LineFacts {
    fn to_variable(&self) -> Variable {
        let mut map = VariableMap::with_capacity(9);
        map.insert_str("sequence", Variable::Number(Decimal::from(self.sequence)));
        map.insert_str("procedure_code", text(&self.procedure_code));
        map.insert_str("modifiers", text_list(&self.modifiers));
        map.insert_str("units", Variable::Number(self.units));
        map.insert_str("charge", Variable::Number(self.charge.amount()));
        map.insert_str("place_of_service", optional_text(self.place_of_service.as_deref()));
        map.insert_str("service_date", date(self.service_date));
        map.insert_str("revenue_code", optional_text(self.revenue_code.as_deref()));
        map.insert_str("allowed", self.allowed.map_or(Variable::Null, |allowed| Variable::Number(allowed.amount())));
        Variable::from_object(map)
    }
}

impl MemberFacts {
    fn to_variable(&self) -> Variable {
        let mut map = VariableMap::with_capacity(5);
        map.insert_str("age", Variable::Number(Decimal::from(self.age)));
        map.insert_str(
            "sex",
            text(match self.sex {
                Sex::Male => "male",
                Sex::Female => "female",
                Sex::Other => "other",
                Sex::Unknown => "unknown",
            }),
        );
        map.insert_str("plan_id", optional_text(self.plan_id.as_deref()));
        map.insert_str(
            "relationship",
            text(match self.relationship {
                Relationship::Subscriber => "self",
                Relationship::Spouse => "spouse",
                Relationship::Child => "child",
                Relationship::Other => "other",
            }),
        );
        map.insert_str("network_tier", optional_text(self.network_tier.as_deref()));
        Variable::from_object(map)
    }
}

impl ProviderFacts {
    fn to_variable(&self) -> Variable {
        let mut map = VariableMap::with_capacity(5);
        map.insert_str("npi", text(&self.npi));
        map.insert_str("taxonomy", optional_text(self.taxonomy.as_deref()));
        map.insert_str(
            "entity_type",
            text(match self.entity_type {
                EntityType::Individual => "individual",
                EntityType::Organization => "organization",
            }),
        );
        map.insert_str("in_network", Variable::Bool(self.in_network));
        map.insert_str("contract_id", optional_text(self.contract_id.as_deref()));
        Variable::from_object(map)
    }
}

impl HistoryFacts {
    fn to_variable(&self) -> Variable {
        let mut map = VariableMap::with_capacity(4);
        map.insert_str("same_code_last_365_days", Variable::Number(Decimal::from(self.same_code_last_365_days)));
        map.insert_str("same_code_same_date", Variable::Number(Decimal::from(self.same_code_same_date)));
        map.insert_str("claims_same_date", Variable::Number(Decimal::from(self.claims_same_date)));
        map.insert_str("claims_last_365_days", Variable::Number(Decimal::from(self.claims_last_365_days)));
        Variable::from_object(map)
    }
}

fn text(value: &str) -> Variable {
    Variable::String(Variable::key(value))
}

fn optional_text(value: Option<&str>) -> Variable {
    value.map_or(Variable::Null, text)
}

fn text_list(values: &[String]) -> Variable {
    Variable::from_array(values.iter().map(|value| text(value)).collect())
}

fn date(value: Date) -> Variable {
    text(&claimtrail_events::format_date(value))
}
