//! Amounts as the APIs write them ("1015.40", "-12.5", "3") read into
//! integer cents, and cents written back; never a float.

/// The largest amount read: ten billion dollars, in cents.
pub const CENTS_MAX: i64 = 1_000_000_000_000;

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an amount of money (digits, an optional '-', at most two decimals, at most 10,000,000,000.00)")]
pub struct NotAnAmount {
    pub text: String,
}

/// `text` in cents.
pub fn parse_cents(text: &str) -> Result<i64, NotAnAmount> {
    let fail = || NotAnAmount { text: text.to_owned() };
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 11 || !digits(whole) || fraction.len() > 2 || !digits(fraction) || (unsigned.contains('.') && fraction.is_empty()) {
        return Err(fail());
    }
    let whole: i64 = whole.parse().map_err(|_| fail())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| fail())?;
    let cents = whole * 100 + fraction;
    if cents > CENTS_MAX {
        return Err(fail());
    }
    Ok(if negative { -cents } else { cents })
}

/// Cents as dollars with two decimals: `101540` → `1015.40`, `-5` → `-0.05`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_into_cents_exactly() {
        for (text, cents) in [("1015.40", 101_540), ("118.8", 11_880), ("3", 300), ("-12.50", -1_250), ("0.05", 5), ("-0.05", -5), ("0", 0)] {
            assert_eq!(parse_cents(text), Ok(cents), "{text}");
            assert_eq!(parse_cents(&format_cents(cents)), Ok(cents));
        }
        assert_eq!(format_cents(101_540), "1015.40");
        assert_eq!(format_cents(-5), "-0.05");
    }

    #[test]
    fn anything_else_is_refused_naming_it() {
        for text in ["", "-", "1.234", "1.", ".5", "1e3", "NaN", "1,000.00", " 1", "+1", "99999999999.00", "--1"] {
            let error = parse_cents(text).unwrap_err();
            assert_eq!(error.text, text);
            assert!(error.to_string().contains("is not an amount"));
        }
    }
}
