//! FHIR decimals (JSON numbers) read exactly into `rust_decimal`, never via a
//! float computation.
//!
//! serde_json (without `arbitrary_precision`, which this crate does not
//! enable) keeps a non-integer as an `f64`; `Number::to_string()` writes it
//! back as the shortest text that reads as the same `f64`. For any decimal of
//! at most 15 significant digits that text is the decimal itself, so the
//! limits below ([`MONEY_CENTS_MAX`](crate::MONEY_CENTS_MAX): 12 digits,
//! [`QUANTITY_MAX`](crate::QUANTITY_MAX) with 3 places: 8 digits) make every
//! accepted amount exact. Digits beyond the 17th of an input never reach us;
//! anything that comes back with an exponent (`1e21`) is refused.

use claimtrail_events::Money;
use rust_decimal::Decimal;
use serde_json::Number;

use crate::error::Errors;
use crate::{MONEY_CENTS_MAX, QUANTITY_DECIMAL_PLACES_MAX, QUANTITY_MAX};

/// The exact decimal text of a JSON number, refusing exponent notation.
pub(crate) fn exact_decimal(number: &Number) -> Result<Decimal, String> {
    let text = number.to_string();
    if text.contains(['e', 'E']) {
        return Err(format!("`{text}` is written with an exponent; write the amount as a plain decimal"));
    }
    if text.contains(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-')) {
        return Err(format!("`{text}` is not a finite decimal"));
    }
    Decimal::from_str_exact(&text).map_err(|_| format!("`{text}` is out of range"))
}

/// A FHIR Money.value: not negative, at most two decimal places, at most
/// [`MONEY_CENTS_MAX`] cents.
pub(crate) fn money(number: &Number, path: String, errors: &mut Errors) -> Option<Money> {
    let amount = match exact_decimal(number) {
        Ok(amount) => amount,
        Err(message) => {
            errors.push(path, message);
            return None;
        }
    };
    let Ok(money) = Money::from_decimal(amount) else {
        errors.push(path, format!("`{amount}` has more than two decimal places; money is in whole cents"));
        return None;
    };
    if money.is_negative() {
        errors.push(path, format!("`{money}` is negative; charges must not be"));
        return None;
    }
    if money > Money::from_cents(MONEY_CENTS_MAX) {
        errors.push(path, format!("`{money}` is more than the largest amount accepted, {}", Money::from_cents(MONEY_CENTS_MAX)));
        return None;
    }
    Some(money)
}

/// A SimpleQuantity.value for units of service: more than zero, at most
/// [`QUANTITY_MAX`], at most [`QUANTITY_DECIMAL_PLACES_MAX`] places.
pub(crate) fn quantity(number: &Number, path: String, errors: &mut Errors) -> Option<Decimal> {
    let amount = match exact_decimal(number) {
        Ok(amount) => amount.normalize(),
        Err(message) => {
            errors.push(path, message);
            return None;
        }
    };
    if amount.scale() > QUANTITY_DECIMAL_PLACES_MAX {
        errors.push(path, format!("`{amount}` has more than {QUANTITY_DECIMAL_PLACES_MAX} decimal places"));
        return None;
    }
    if amount <= Decimal::ZERO || amount > Decimal::from(QUANTITY_MAX) {
        errors.push(path, format!("`{amount}` units is not more than 0 and at most {QUANTITY_MAX}"));
        return None;
    }
    Some(amount)
}

/// A domain amount as a FHIR JSON number carrying exactly its decimal value.
pub(crate) fn money_json(money: Money) -> serde_json::Value {
    decimal_json(&money.to_string())
}

/// A decimal string as a JSON number (serde_json keeps the value).
pub(crate) fn decimal_json(text: &str) -> serde_json::Value {
    serde_json::from_str::<Number>(text).map(serde_json::Value::Number).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(json: &str) -> Number {
        serde_json::from_str(json).unwrap()
    }

    fn money_of(json: &str) -> Result<String, String> {
        let mut errors = Errors::default();
        let money = money(&number(json), "Claim.total.value".into(), &mut errors);
        money.map(|m| m.to_string()).ok_or_else(|| errors.into_vec().remove(0).message)
    }

    #[test]
    fn amounts_are_read_exactly_to_the_cent() {
        let cases = [
            ("80", "80.00"),
            ("80.0", "80.00"),
            ("80.00", "80.00"),
            ("140.52", "140.52"),
            ("0.1", "0.10"),
            ("0", "0.00"),
            ("9999999999.99", "9999999999.99"),
            ("1234567.89", "1234567.89"),
        ];
        for (json, expected) in cases {
            assert_eq!(money_of(json).as_deref(), Ok(expected), "{json}");
        }
    }

    #[test]
    fn amounts_with_a_third_decimal_place_are_refused() {
        assert!(money_of("80.005").unwrap_err().contains("more than two decimal places"));
        assert!(money_of("0.001").unwrap_err().contains("more than two decimal places"));
    }

    #[test]
    fn amounts_written_with_exponents_or_out_of_range_are_refused() {
        assert!(money_of("1e21").unwrap_err().contains("exponent"));
        assert!(money_of("1e-7").unwrap_err().contains("exponent"));
        assert!(money_of("10000000000").unwrap_err().contains("largest amount"));
    }

    #[test]
    fn negative_amounts_are_refused() {
        assert!(money_of("-5.00").unwrap_err().contains("negative"));
        assert_eq!(money_of("-0.0").as_deref(), Ok("0.00"));
    }

    #[test]
    fn quantities_must_be_positive_and_bounded() {
        let mut errors = Errors::default();
        assert_eq!(quantity(&number("2"), "q".into(), &mut errors), Some(Decimal::from(2)));
        assert_eq!(quantity(&number("1.5"), "q".into(), &mut errors), Some(Decimal::new(15, 1)));
        assert!(errors.is_empty());
        for bad in ["0", "-1", "1.2345", "100000", "1e300"] {
            let mut errors = Errors::default();
            assert_eq!(quantity(&number(bad), "q".into(), &mut errors), None, "{bad}");
            assert_eq!(errors.len(), 1);
        }
    }

    #[test]
    fn amounts_written_out_keep_their_decimal_value() {
        let value = money_json(Money::parse("80.10").unwrap());
        let text = value.to_string();
        assert_eq!(Decimal::from_str_exact(&text).unwrap(), Decimal::new(801, 1));
    }
}
