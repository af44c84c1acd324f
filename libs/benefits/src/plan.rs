//! The benefit plan: what a member owes, per network tier and service
//! category, as `PUT /v1/payers/{payer_id}/plans/{plan_id}` takes it.
//!
//! [`Plan`] is the JSON body (serde + utoipa). [`Plan::compile`] checks it
//! whole, reporting every contradiction at once with its path
//! (`tiers.inn.deductible.family`) and reason, and gives a [`CompiledPlan`]:
//! the same plan with its lookups resolved and its content hash (SHA3-256 of
//! the RFC 8785 canonical JSON), which a decision records.

use claimtrail_codes::{PlaceOfService, ProcedureCode};
use claimtrail_events::{FieldError, Money, canonical, sha3_256};
use claimtrail_policy::CodeKey;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::bucket::Tier;

/// The most service categories a plan may name.
pub const CATEGORIES_MAX: usize = 256;
/// The most category mappings a plan may hold.
pub const MAPPINGS_MAX: usize = 4_096;
/// The most codes or code ranges one mapping may list.
pub const MAPPING_CODES_MAX: usize = 4_096;
/// The longest plan name and category id.
pub const NAME_CHARS_MAX: usize = 200;
pub const CATEGORY_CHARS_MAX: usize = 64;

/// A benefit plan, as the payer uploads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// A name for people, e.g. `HDHP 2026`.
    pub name: String,
    /// The month (1 to 12) the plan year starts; January when absent.
    #[serde(default = "january")]
    pub plan_year_start_month: u8,
    /// The service categories the plan knows, by id (`office_visit`): lower-case letters, digits and `_`.
    pub categories: Vec<String>,
    /// The category of a line that no mapping matches.
    pub default_category: String,
    /// Codes (and code ranges) and places of service to categories; the first mapping that matches wins.
    #[serde(default)]
    pub category_map: Vec<CategoryMapping>,
    /// How the family deductible works beside the individual one.
    #[serde(default)]
    pub family_deductible: FamilyRule,
    /// How the family out-of-pocket maximum works beside the individual one.
    #[serde(default)]
    pub family_oop_max: FamilyRule,
    /// How the plan pays as a secondary payer.
    #[serde(default)]
    pub cob_method: CobMethod,
    /// In-network and out-of-network benefits, kept apart: neither counts toward the other.
    pub tiers: Tiers,
}

/// The benefits of each network tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tiers {
    pub inn: TierBenefits,
    pub oon: TierBenefits,
}

/// One network tier's deductible, out-of-pocket maximum and coinsurance, and
/// what differs per service category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierBenefits {
    pub deductible: Limits,
    pub oop_max: Limits,
    /// The member's share after the deductible, in percent (0 to 100), as a string: `"20"`.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "20")]
    pub coinsurance_percent: Decimal,
    /// Copays, coinsurance and deductible exemptions of particular categories.
    #[serde(default)]
    pub category_benefits: Vec<CategoryBenefit>,
}

/// An individual and a family amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[schema(value_type = String, example = "500.00")]
    pub individual: Money,
    #[schema(value_type = String, example = "1000.00")]
    pub family: Money,
}

/// What one service category pays differently from its tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryBenefit {
    /// The category these terms apply to (one of the plan's `categories`).
    #[serde(default)]
    pub category: String,
    /// A fixed amount the member pays first (PR-3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "25.00")]
    pub copay: Option<Money>,
    /// Whether the copay counts toward the out-of-pocket maximum (and stops once it is met); true when absent.
    #[serde(default = "yes")]
    pub copay_counts_toward_oop: bool,
    /// The category's coinsurance in percent, instead of the tier's.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, example = "0")]
    pub coinsurance_percent: Option<Decimal>,
    /// The deductible does not apply to the category (an office visit with a copay, preventive care).
    #[serde(default)]
    pub skips_deductible: bool,
}

/// Lines whose code (or code range, `99202-99215`) and place of service
/// match belong to `category`. An empty list matches anything; at least one
/// of the two lists must be given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryMapping {
    #[serde(default)]
    pub category: String,
    /// Procedure codes, or inclusive ranges written `from-to`.
    #[serde(default)]
    pub codes: Vec<String>,
    /// Place-of-service codes (two digits).
    #[serde(default)]
    pub places_of_service: Vec<String>,
}

/// The family rule of a deductible or out-of-pocket maximum, for coverage of
/// more than one member. Single coverage has only the individual limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FamilyRule {
    /// Each member stops at the individual limit, and everyone stops when the family limit is met.
    #[default]
    Embedded,
    /// Only the family limit applies: no member stops before the family does.
    NonEmbedded,
}

/// How the plan pays as a secondary payer (docs/benefits.md, "Coordination
/// of benefits"; libs/benefits `cob`). Each pays at most the patient share
/// the earlier payers left.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CobMethod {
    /// Pay the lesser of (secondary allowed − primary paid) and the primary's patient share; the rest is written off (CO-45).
    #[default]
    LesserOf,
    /// Standard (traditional) COB, the NAIC model's: pay this plan's own benefit (what it would pay as primary) up to the patient share the earlier payers left; the rest stays the member's (PR).
    Standard,
    /// Non-duplication: pay the difference, if any, between this plan's own benefit and what the earlier payers paid, up to that patient share; the rest stays the member's (PR).
    NonDuplication,
}

impl CobMethod {
    /// The setting's JSON name, also the benefit step's rule after `cob-`.
    pub fn name(self) -> &'static str {
        match self {
            CobMethod::LesserOf => "lesser_of",
            CobMethod::Standard => "standard",
            CobMethod::NonDuplication => "non_duplication",
        }
    }

    /// Whether the method reads this plan's own benefit (its cost sharing as if it were primary).
    pub fn reads_own_benefit(self) -> bool {
        self != CobMethod::LesserOf
    }
}

fn january() -> u8 {
    1
}

fn yes() -> bool {
    true
}

/// Every fault of a plan, each with its path and reason; nothing was built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect::<Vec<_>>().join("; "))]
pub struct PlanErrors {
    pub errors: Vec<FieldError>,
}

/// A checked plan with its lookups resolved. Built only by [`Plan::compile`].
#[derive(Debug, Clone)]
pub struct CompiledPlan {
    plan: Plan,
    content_hash: [u8; 32],
    default_category: usize,
    mappings: Vec<CompiledMapping>,
    inn: CompiledTier,
    oon: CompiledTier,
}

#[derive(Debug, Clone)]
struct CompiledMapping {
    category: usize,
    ranges: Vec<(CodeKey, CodeKey)>,
    places: Vec<CodeKey>,
}

/// One tier's limits and the terms of each category (indexed as `Plan::categories`).
#[derive(Debug, Clone)]
pub struct CompiledTier {
    pub deductible: Limits,
    pub oop_max: Limits,
    terms: Vec<CategoryTerms>,
}

/// What a line of one category in one tier costs the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CategoryTerms {
    /// Zero when the category has no copay.
    pub copay: Money,
    pub copay_counts_toward_oop: bool,
    pub coinsurance_percent: Decimal,
    pub deductible_applies: bool,
}

impl Plan {
    /// Reads a plan from its JSON body and compiles it.
    pub fn from_json(body: &[u8]) -> Result<CompiledPlan, PlanErrors> {
        if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice::<serde_json::Value>(body)
            && let Some(method) = fields.get("cob_method")
            && serde_json::from_value::<CobMethod>(method.clone()).is_err()
        {
            let message = format!(
                "{method} is not a COB method: `lesser_of` (the lesser of the secondary's allowed less the primary's payment, and the primary's patient share), \
                 `standard` (this plan's own benefit up to that patient share) or `non_duplication` (its own benefit less the primary's payment, up to that share)"
            );
            return Err(PlanErrors { errors: vec![FieldError::new("cob_method", message)] });
        }
        let plan: Plan = serde_json::from_slice(body).map_err(|error| PlanErrors { errors: vec![FieldError::new("body", error.to_string())] })?;
        plan.compile()
    }

    /// Checks the plan whole and resolves its lookups; every fault is reported, with its path.
    pub fn compile(self) -> Result<CompiledPlan, PlanErrors> {
        let mut errors = Vec::new();
        let mut fault = |path: String, message: String| errors.push(FieldError::new(path, message));

        if self.name.trim().is_empty() || self.name.chars().count() > NAME_CHARS_MAX {
            fault("name".into(), format!("a plan name is 1 to {NAME_CHARS_MAX} characters"));
        }
        if !(1..=12).contains(&self.plan_year_start_month) {
            fault("plan_year_start_month".into(), format!("a month is 1 to 12, {} is not", self.plan_year_start_month));
        }
        if self.categories.is_empty() || self.categories.len() > CATEGORIES_MAX {
            fault("categories".into(), format!("a plan names 1 to {CATEGORIES_MAX} service categories, this one {}", self.categories.len()));
        }
        for (category_idx, category) in self.categories.iter().enumerate() {
            if !is_category_id(category) {
                fault(
                    format!("categories[{category_idx}]"),
                    format!("`{category}` is not a category id: 1 to {CATEGORY_CHARS_MAX} lower-case letters, digits or `_`"),
                );
            } else if self.categories[..category_idx].contains(category) {
                fault(format!("categories[{category_idx}]"), format!("`{category}` is named twice"));
            }
        }
        let category_idx_of = |name: &str| self.categories.iter().position(|category| category == name);
        let default_category = category_idx_of(&self.default_category);
        if default_category.is_none() {
            fault("default_category".into(), format!("`{}` is not one of the plan's categories", self.default_category));
        }

        if self.category_map.len() > MAPPINGS_MAX {
            fault("category_map".into(), format!("at most {MAPPINGS_MAX} mappings, this plan has {}", self.category_map.len()));
        }
        let mut mappings = Vec::with_capacity(self.category_map.len());
        for (mapping_idx, mapping) in self.category_map.iter().enumerate() {
            let path = format!("category_map[{mapping_idx}]");
            let category = if mapping.category.is_empty() {
                fault(format!("{path}.category"), "a mapping must name the service category it maps to".into());
                None
            } else {
                let found = category_idx_of(&mapping.category);
                if found.is_none() {
                    fault(format!("{path}.category"), format!("`{}` is not one of the plan's categories", mapping.category));
                }
                found
            };
            if mapping.codes.is_empty() && mapping.places_of_service.is_empty() {
                fault(path.clone(), "a mapping needs codes or places_of_service (or both); this one matches nothing in particular".into());
            }
            if mapping.codes.len() > MAPPING_CODES_MAX {
                fault(format!("{path}.codes"), format!("at most {MAPPING_CODES_MAX} codes per mapping"));
            }
            let mut ranges = Vec::with_capacity(mapping.codes.len());
            for (code_idx, text) in mapping.codes.iter().enumerate() {
                match code_range(text) {
                    Ok(range) => ranges.push(range),
                    Err(reason) => fault(format!("{path}.codes[{code_idx}]"), reason),
                }
            }
            let mut places = Vec::with_capacity(mapping.places_of_service.len());
            for (place_idx, text) in mapping.places_of_service.iter().enumerate() {
                match PlaceOfService::parse(text).ok().and_then(|_| CodeKey::parse(text)) {
                    Some(key) => places.push(key),
                    None => fault(format!("{path}.places_of_service[{place_idx}]"), format!("`{text}` is not a place of service (two digits, `11` office)")),
                }
            }
            if let Some(category) = category {
                mappings.push(CompiledMapping { category, ranges, places });
            }
        }

        let mut tier_of = |name: &str, benefits: &TierBenefits| -> Option<CompiledTier> {
            let path = format!("tiers.{name}");
            let mut ok = true;
            for (what, limits) in [("deductible", &benefits.deductible), ("oop_max", &benefits.oop_max)] {
                for (level, amount) in [("individual", limits.individual), ("family", limits.family)] {
                    if amount.is_negative() {
                        fault(format!("{path}.{what}.{level}"), format!("{amount} is negative"));
                        ok = false;
                    }
                }
                if limits.family < limits.individual {
                    fault(format!("{path}.{what}.family"), format!("the family {what} {} is below the individual {}", limits.family, limits.individual));
                    ok = false;
                }
            }
            if benefits.oop_max.individual < benefits.deductible.individual {
                fault(
                    format!("{path}.oop_max.individual"),
                    format!(
                        "the out-of-pocket maximum {} is below the deductible {}, which counts toward it",
                        benefits.oop_max.individual, benefits.deductible.individual
                    ),
                );
                ok = false;
            }
            if benefits.oop_max.family < benefits.deductible.family {
                fault(
                    format!("{path}.oop_max.family"),
                    format!(
                        "the family out-of-pocket maximum {} is below the family deductible {}, which counts toward it",
                        benefits.oop_max.family, benefits.deductible.family
                    ),
                );
                ok = false;
            }
            if let Err(reason) = percent(benefits.coinsurance_percent) {
                fault(format!("{path}.coinsurance_percent"), reason);
                ok = false;
            }
            let tier_terms = CategoryTerms {
                copay: Money::ZERO,
                copay_counts_toward_oop: true,
                coinsurance_percent: benefits.coinsurance_percent,
                deductible_applies: true,
            };
            let mut terms = vec![tier_terms; self.categories.len()];
            for (benefit_idx, benefit) in benefits.category_benefits.iter().enumerate() {
                let benefit_path = format!("{path}.category_benefits[{benefit_idx}]");
                let category = if benefit.category.is_empty() {
                    let reason = if benefit.copay.is_some() {
                        "a copay must name the service category it applies to"
                    } else {
                        "category benefits must name their service category"
                    };
                    fault(format!("{benefit_path}.category"), reason.into());
                    None
                } else if let Some(found) = category_idx_of(&benefit.category) {
                    if benefits.category_benefits[..benefit_idx].iter().any(|earlier| earlier.category == benefit.category) {
                        fault(format!("{benefit_path}.category"), format!("`{}` has benefits twice in this tier", benefit.category));
                        None
                    } else {
                        Some(found)
                    }
                } else {
                    fault(format!("{benefit_path}.category"), format!("`{}` is not one of the plan's categories", benefit.category));
                    None
                };
                if let Some(copay) = benefit.copay
                    && copay.is_negative()
                {
                    fault(format!("{benefit_path}.copay"), format!("{copay} is negative"));
                    ok = false;
                }
                if let Some(coinsurance) = benefit.coinsurance_percent
                    && let Err(reason) = percent(coinsurance)
                {
                    fault(format!("{benefit_path}.coinsurance_percent"), reason);
                    ok = false;
                }
                match category {
                    Some(category_idx) => {
                        terms[category_idx] = CategoryTerms {
                            copay: benefit.copay.unwrap_or(Money::ZERO),
                            copay_counts_toward_oop: benefit.copay_counts_toward_oop,
                            coinsurance_percent: benefit.coinsurance_percent.unwrap_or(benefits.coinsurance_percent),
                            deductible_applies: !benefit.skips_deductible,
                        }
                    }
                    None => ok = false,
                }
            }
            ok.then_some(CompiledTier { deductible: benefits.deductible, oop_max: benefits.oop_max, terms })
        };
        let inn = tier_of("inn", &self.tiers.inn);
        let oon = tier_of("oon", &self.tiers.oon);

        let content_hash = match canonical::to_canonical_vec(&self) {
            Ok(bytes) => Some(sha3_256(&bytes)),
            Err(error) => {
                errors.push(FieldError::new("body", format!("the plan has no canonical form: {error}")));
                None
            }
        };
        match (errors.is_empty(), default_category, inn, oon, content_hash) {
            (true, Some(default_category), Some(inn), Some(oon), Some(content_hash)) => {
                Ok(CompiledPlan { plan: self, content_hash, default_category, mappings, inn, oon })
            }
            _ => Err(PlanErrors { errors }),
        }
    }
}

impl CompiledPlan {
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// SHA3-256 of the plan's canonical JSON (RFC 8785), for the decision record.
    pub fn content_hash(&self) -> [u8; 32] {
        self.content_hash
    }

    pub fn content_hash_hex(&self) -> String {
        hex::encode(self.content_hash)
    }

    pub fn tier(&self, tier: Tier) -> &CompiledTier {
        match tier {
            Tier::Inn => &self.inn,
            Tier::Oon => &self.oon,
        }
    }

    /// The category (index into `Plan::categories`) of a line: the first
    /// mapping that matches its code and place of service, else the default.
    pub fn category_of(&self, procedure_code: &str, place_of_service: Option<&str>) -> usize {
        let code = CodeKey::parse(procedure_code);
        let place = place_of_service.and_then(CodeKey::parse);
        self.mappings
            .iter()
            .find(|mapping| {
                let code_matches = mapping.ranges.is_empty() || code.is_some_and(|code| mapping.ranges.iter().any(|(from, to)| *from <= code && code <= *to));
                let place_matches = mapping.places.is_empty() || place.is_some_and(|place| mapping.places.contains(&place));
                code_matches && place_matches
            })
            .map(|mapping| mapping.category)
            .unwrap_or(self.default_category)
    }

    pub fn category_name(&self, category_idx: usize) -> &str {
        &self.plan.categories[category_idx]
    }

    /// The plan year a date of service falls in (named by the calendar year it starts in).
    pub fn plan_year(&self, service_date: Date) -> i32 {
        if u8::from(service_date.month()) >= self.plan.plan_year_start_month { service_date.year() } else { service_date.year() - 1 }
    }
}

impl CompiledTier {
    /// The terms of the category `category_idx` (from [`CompiledPlan::category_of`]).
    pub fn terms(&self, category_idx: usize) -> &CategoryTerms {
        &self.terms[category_idx]
    }
}

fn is_category_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= CATEGORY_CHARS_MAX && text.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
}

fn percent(value: Decimal) -> Result<(), String> {
    if value.is_sign_negative() && !value.is_zero() || value > Decimal::ONE_HUNDRED {
        return Err(format!("a percentage is 0 to 100, {value} is not"));
    }
    if value.normalize().scale() > 4 {
        return Err(format!("a percentage has at most four decimal places, {value} has more"));
    }
    Ok(())
}

/// `99213` or `99202-99215`, as keys; `from` must not be after `to`.
fn code_range(text: &str) -> Result<(CodeKey, CodeKey), String> {
    let (from, to) = text.split_once('-').unwrap_or((text, text));
    let key = |code: &str| {
        ProcedureCode::parse(code.trim())
            .ok()
            .and_then(|_| CodeKey::parse(code))
            .ok_or_else(|| format!("`{code}` is not a procedure code (HCPCS or CPT shape)"))
    };
    let (from_key, to_key) = (key(from)?, key(to)?);
    if from_key > to_key {
        return Err(format!("the range `{text}` ends before it starts"));
    }
    Ok((from_key, to_key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::date;

    pub(crate) fn sample() -> serde_json::Value {
        json!({
            "name": "Copay PPO",
            "categories": ["medical", "office_visit", "preventive"],
            "default_category": "medical",
            "category_map": [
                {"category": "preventive", "codes": ["G0438-G0439"]},
                {"category": "office_visit", "codes": ["99202-99215"], "places_of_service": ["11"]}
            ],
            "tiers": {
                "inn": {
                    "deductible": {"individual": "500.00", "family": "1000.00"},
                    "oop_max": {"individual": "3000.00", "family": "6000.00"},
                    "coinsurance_percent": "20",
                    "category_benefits": [
                        {"category": "office_visit", "copay": "25.00", "skips_deductible": true, "coinsurance_percent": "0"},
                        {"category": "preventive", "skips_deductible": true, "coinsurance_percent": "0"}
                    ]
                },
                "oon": {
                    "deductible": {"individual": "1000.00", "family": "2000.00"},
                    "oop_max": {"individual": "6000.00", "family": "12000.00"},
                    "coinsurance_percent": "40"
                }
            }
        })
    }

    fn compile(value: &serde_json::Value) -> Result<CompiledPlan, PlanErrors> {
        Plan::from_json(value.to_string().as_bytes())
    }

    fn paths(errors: &PlanErrors) -> Vec<&str> {
        errors.errors.iter().map(|error| error.path.as_str()).collect()
    }

    #[test]
    fn a_sound_plan_compiles_and_maps_codes_and_places_to_categories() {
        let plan = compile(&sample()).unwrap();
        let name = |code: &str, pos: Option<&str>| plan.category_name(plan.category_of(code, pos)).to_owned();
        assert_eq!(name("99213", Some("11")), "office_visit");
        assert_eq!(name("99213", Some("22")), "medical", "the office mapping needs POS 11");
        assert_eq!(name("99213", None), "medical");
        assert_eq!(name("G0439", Some("22")), "preventive");
        assert_eq!(name("G0440", Some("11")), "medical");
        assert_eq!(plan.plan().family_deductible, FamilyRule::Embedded);
        assert_eq!(plan.plan().cob_method, CobMethod::LesserOf);
        let office = plan.tier(Tier::Inn).terms(plan.category_of("99213", Some("11")));
        assert_eq!(office.copay, Money::from_cents(2_500));
        assert!(!office.deductible_applies);
        assert!(office.copay_counts_toward_oop);
        let oon_office = plan.tier(Tier::Oon).terms(plan.category_of("99213", Some("11")));
        assert_eq!((oon_office.copay, oon_office.deductible_applies, oon_office.coinsurance_percent), (Money::ZERO, true, Decimal::from(40)));
    }

    #[test]
    fn the_cob_method_defaults_to_lesser_of_and_an_unknown_one_is_refused_at_its_path() {
        let mut plan = sample();
        plan["cob_method"] = json!("lesser_of");
        assert_eq!(compile(&plan).unwrap().plan().cob_method, CobMethod::LesserOf);
        for method in [CobMethod::Standard, CobMethod::NonDuplication] {
            plan["cob_method"] = json!(method.name());
            assert_eq!(compile(&plan).unwrap().plan().cob_method, method);
        }
        plan["cob_method"] = json!("carve_out");
        let errors = Plan::from_json(plan.to_string().as_bytes()).unwrap_err().errors;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path, "cob_method");
        assert!(errors[0].message.starts_with("\"carve_out\" is not a COB method"), "{}", errors[0].message);
        plan["cob_method"] = json!(7);
        assert_eq!(Plan::from_json(plan.to_string().as_bytes()).unwrap_err().errors[0].path, "cob_method");
    }

    #[test]
    fn the_content_hash_is_of_the_canonical_json_and_ignores_key_order_and_whitespace() {
        let plan = compile(&sample()).unwrap();
        let reordered = serde_json::to_string_pretty(&sample()).unwrap();
        assert_eq!(Plan::from_json(reordered.as_bytes()).unwrap().content_hash(), plan.content_hash());
        let canonical_bytes = canonical::to_canonical_vec(plan.plan()).unwrap();
        assert_eq!(plan.content_hash(), sha3_256(&canonical_bytes));
        let mut changed = sample();
        changed["tiers"]["inn"]["coinsurance_percent"] = json!("25");
        assert_ne!(compile(&changed).unwrap().content_hash(), plan.content_hash());
        assert_eq!(plan.content_hash_hex().len(), 64);
    }

    #[test]
    fn a_plan_that_contradicts_itself_is_refused_with_every_path_and_reason() {
        let mut plan = sample();
        plan["tiers"]["inn"]["deductible"]["family"] = json!("400.00");
        plan["tiers"]["inn"]["coinsurance_percent"] = json!("120");
        plan["tiers"]["oon"]["coinsurance_percent"] = json!("-5");
        plan["tiers"]["inn"]["category_benefits"][0]["category"] = json!("");
        plan["tiers"]["oon"]["category_benefits"] = json!([{"category": "dental", "copay": "10.00"}]);
        plan["category_map"][1]["category"] = json!("urgent_care");
        plan["category_map"][0]["codes"] = json!(["G0439-G0438", "not a code"]);
        plan["default_category"] = json!("other");
        let errors = compile(&plan).unwrap_err();
        assert_eq!(
            paths(&errors),
            vec![
                "default_category",
                "category_map[0].codes[0]",
                "category_map[0].codes[1]",
                "category_map[1].category",
                "tiers.inn.deductible.family",
                "tiers.inn.coinsurance_percent",
                "tiers.inn.category_benefits[0].category",
                "tiers.oon.coinsurance_percent",
                "tiers.oon.category_benefits[0].category",
            ],
            "{errors}"
        );
        let reason = |path: &str| errors.errors.iter().find(|error| error.path == path).unwrap().message.clone();
        assert_eq!(reason("tiers.inn.deductible.family"), "the family deductible 400.00 is below the individual 500.00");
        assert_eq!(reason("tiers.inn.coinsurance_percent"), "a percentage is 0 to 100, 120 is not");
        assert_eq!(reason("tiers.oon.coinsurance_percent"), "a percentage is 0 to 100, -5 is not");
        assert_eq!(reason("tiers.inn.category_benefits[0].category"), "a copay must name the service category it applies to");
        assert_eq!(reason("tiers.oon.category_benefits[0].category"), "`dental` is not one of the plan's categories");
        assert_eq!(reason("category_map[1].category"), "`urgent_care` is not one of the plan's categories");
        assert_eq!(reason("category_map[0].codes[0]"), "the range `G0439-G0438` ends before it starts");
        assert!(errors.to_string().contains("default_category: `other` is not one of the plan's categories"), "{errors}");
    }

    #[test]
    fn smaller_faults_are_each_named() {
        let mut plan = sample();
        plan["name"] = json!(" ");
        plan["plan_year_start_month"] = json!(13);
        plan["categories"] = json!(["medical", "office_visit", "preventive", "Office Visit", "medical"]);
        plan["category_map"][1]["places_of_service"] = json!(["1"]);
        plan["category_map"].as_array_mut().unwrap().push(json!({"category": "medical"}));
        plan["tiers"]["oon"]["oop_max"]["individual"] = json!("900.00");
        plan["tiers"]["inn"]["category_benefits"][0]["copay"] = json!("-1.00");
        plan["tiers"]["inn"]["category_benefits"][1]["category"] = json!("office_visit");
        let errors = compile(&plan).unwrap_err();
        assert_eq!(
            paths(&errors),
            vec![
                "name",
                "plan_year_start_month",
                "categories[3]",
                "categories[4]",
                "category_map[1].places_of_service[0]",
                "category_map[2]",
                "tiers.inn.category_benefits[0].copay",
                "tiers.inn.category_benefits[1].category",
                "tiers.oon.oop_max.individual",
            ],
            "{errors}"
        );
    }

    #[test]
    fn malformed_json_and_unknown_fields_are_refused_on_the_body() {
        let errors = Plan::from_json(b"{\"name\": 3}").unwrap_err();
        assert_eq!(paths(&errors), vec!["body"]);
        let mut plan = sample();
        plan["deductible"] = json!("500.00");
        let errors = compile(&plan).unwrap_err();
        assert!(errors.to_string().contains("unknown field `deductible`"), "{errors}");
        let mut plan = sample();
        plan["tiers"]["inn"]["coinsurance_percent"] = json!(20.5);
        assert!(compile(&plan).is_err(), "a float percentage is refused: decimals travel as strings");
    }

    #[test]
    fn the_plan_year_follows_the_start_month() {
        let mut plan = sample();
        assert_eq!(compile(&plan).unwrap().plan_year(date!(2026 - 01 - 01)), 2026);
        plan["plan_year_start_month"] = json!(7);
        let plan = compile(&plan).unwrap();
        assert_eq!(plan.plan_year(date!(2026 - 06 - 30)), 2025);
        assert_eq!(plan.plan_year(date!(2026 - 07 - 01)), 2026);
    }
}
