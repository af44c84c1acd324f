//! Money: US dollars as an exact decimal with two places, never a float.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of money in USD, always held at scale 2.
///
/// JSON carries it as a string (`"80.00"`). Construction from a decimal with
/// more than two places is refused; arithmetic that needs rounding says so
/// with [`Money::round_half_away_from_zero`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("`{0}` is not a decimal amount")]
    NotADecimal(String),
    #[error("`{0}` has more than two decimal places")]
    TooPrecise(String),
    #[error("`{0}` is too large to store in cents (a signed 64-bit integer)")]
    OutOfRange(String),
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Exact conversion: refuses more than two decimal places.
    pub fn from_decimal(amount: Decimal) -> Result<Money, MoneyError> {
        let normalized = amount.normalize();
        if normalized.scale() > 2 {
            return Err(MoneyError::TooPrecise(amount.to_string()));
        }
        let mut fixed = normalized;
        fixed.rescale(2);
        Ok(Money(fixed))
    }

    /// Rounds to the cent, half away from zero (DESIGN.md "Money"), not
    /// rust_decimal's default banker's rounding.
    pub fn round_half_away_from_zero(amount: Decimal) -> Money {
        let mut rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        rounded.rescale(2);
        Money(rounded)
    }

    pub fn from_cents(cents: i64) -> Money {
        Money(Decimal::new(cents, 2))
    }

    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let amount: Decimal = text.trim().parse().map_err(|_| MoneyError::NotADecimal(text.to_owned()))?;
        Money::from_decimal(amount)
    }

    pub fn amount(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    /// The same amount with the opposite sign (a reversal). Exact: a scale-2
    /// decimal negates without rounding or overflow.
    pub fn negated(self) -> Money {
        Money(-self.0)
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    pub fn min(self, other: Money) -> Money {
        if self <= other { self } else { other }
    }

    /// Sum that fails instead of overflowing.
    pub fn checked_sum<'a>(amounts: impl IntoIterator<Item = &'a Money>) -> Option<Money> {
        amounts.into_iter().try_fold(Money::ZERO, |total, amount| total.checked_add(*amount))
    }

    /// Cents as an integer, for storage: an amount that does not fit is an error naming it, never zero.
    pub fn cents(self) -> Result<i64, MoneyError> {
        self.to_cents().ok_or_else(|| MoneyError::OutOfRange(self.to_string()))
    }

    /// Cents as an integer (for FHIR, which carries numbers).
    pub fn to_cents(self) -> Option<i64> {
        let cents = self.0.checked_mul(Decimal::ONE_HUNDRED)?;
        i64::try_from(cents).ok()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let text = String::deserialize(deserializer)?;
        Money::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Money's JSON (and OpenAPI) schema: its pattern and description.
const SCHEMA_PATTERN: &str = "^-?[0-9]+\\.[0-9]{2}$";
const SCHEMA_DESCRIPTION: &str = "US dollars with exactly two decimal places, as a string";

impl schemars::JsonSchema for Money {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Money".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": SCHEMA_PATTERN,
            "description": SCHEMA_DESCRIPTION
        })
    }
}

/// The same as the JSON Schema: a string with two decimal places.
#[cfg(feature = "utoipa")]
impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(SCHEMA_PATTERN))
            .description(Some(SCHEMA_DESCRIPTION))
            .examples(["80.00"])
            .into()
    }
}

#[cfg(feature = "utoipa")]
impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounding_is_half_away_from_zero_not_bankers() {
        assert_eq!(Money::round_half_away_from_zero(dec!(2.345)).to_string(), "2.35");
        assert_eq!(Money::round_half_away_from_zero(dec!(2.325)).to_string(), "2.33");
        assert_eq!(Money::round_half_away_from_zero(dec!(-2.325)).to_string(), "-2.33");
        assert_eq!(Money::round_half_away_from_zero(dec!(81.5204)).to_string(), "81.52");
    }

    #[test]
    fn amounts_with_more_than_two_places_are_refused() {
        assert_eq!(Money::parse("1.234"), Err(MoneyError::TooPrecise("1.234".into())));
        assert_eq!(Money::parse("1.230").unwrap().to_string(), "1.23");
        assert!(matches!(Money::parse("abc"), Err(MoneyError::NotADecimal(_))));
    }

    #[test]
    fn json_carries_a_fixed_scale_string() {
        let money = Money::parse("80").unwrap();
        assert_eq!(serde_json::to_string(&money).unwrap(), "\"80.00\"");
        assert_eq!(serde_json::from_str::<Money>("\"80.5\"").unwrap().to_string(), "80.50");
    }

    #[test]
    fn an_amount_beyond_the_cents_range_is_an_error_never_zero() {
        assert_eq!(Money::from_cents(i64::MAX).cents(), Ok(i64::MAX));
        let too_large = Money::parse("92233720368547758.08").unwrap();
        assert_eq!(too_large.cents(), Err(MoneyError::OutOfRange("92233720368547758.08".into())));
        assert_eq!(Money::from_cents(-1).cents(), Ok(-1));
    }

    proptest! {
        #[test]
        fn cents_round_trip_through_json(cents in -10_000_000_000i64..10_000_000_000i64) {
            let money = Money::from_cents(cents);
            let json = serde_json::to_string(&money).unwrap();
            let back: Money = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, money);
            prop_assert_eq!(back.to_cents(), Some(cents));
        }
    }
}
