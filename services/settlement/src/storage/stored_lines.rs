//! A payable's lines as `payable_lines.lines` keeps them: what a payment run
//! reads of them (the 835's SVC, CAS and LQ segments), in a compact text a
//! run parses without serde, instead of the JSON of [`LineDecision`]
//! (3.6 s of a 30 s run over 1,000,000 claims, docs/benchmarks.md).
//!
//! The text begins with [`MARK`]; then, per line,
//! `;sequence,code,charge,allowed,paid,patient,n_adjustments{,group,reason,amount},n_remarks{,remark}`,
//! amounts in cents (signed integers) and each string written as
//! `length:bytes` (so that no character of a code needs escaping).
//! A line's `explanation` and `steps` are not kept: adjudication serves them
//! (`GET /v1/claims/{id}/explanation`) and no use of a payable reads them, so
//! a payable read back has them empty. Lines with an amount beyond an i64 of
//! cents are kept as their JSON, as every payable was before
//! this format; [`decode`] reads both.

use claimtrail_codes::{Carc, GroupCode, Rarc};
use claimtrail_events::{Adjustment, LineDecision, Money};

/// The first bytes of the compact form (JSON begins with `[`).
pub const MARK: &str = "L1";

/// The stored text of `lines`: compact, or their JSON when an amount does not fit in i64 cents.
pub fn encode(lines: &[LineDecision]) -> Result<String, serde_json::Error> {
    match compact(lines) {
        Some(text) => Ok(text),
        None => serde_json::to_string(lines),
    }
}

fn compact(lines: &[LineDecision]) -> Option<String> {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(16 + lines.len() * 64);
    text.push_str(MARK);
    let string = |text: &mut String, value: &str| {
        let _ = write!(text, "{}:{value}", value.len());
    };
    for line in lines {
        let _ = write!(text, ";{},", line.sequence);
        string(&mut text, &line.procedure_code);
        for amount in [line.charge, line.allowed, line.paid, line.patient_responsibility] {
            let _ = write!(text, ",{}", amount.to_cents()?);
        }
        let _ = write!(text, ",{}", line.adjustments.len());
        for adjustment in &line.adjustments {
            let _ = write!(text, ",{},", adjustment.group.as_str());
            string(&mut text, adjustment.reason.as_ref());
            let _ = write!(text, ",{}", adjustment.amount.to_cents()?);
        }
        let _ = write!(text, ",{}", line.remarks.len());
        for remark in &line.remarks {
            text.push(',');
            string(&mut text, remark.as_ref());
        }
    }
    Some(text)
}

/// The lines stored as `text` (compact or JSON); an error names what is wrong.
pub fn decode(text: &str) -> Result<Vec<LineDecision>, String> {
    let Some(rest) = text.strip_prefix(MARK) else {
        return serde_json::from_str::<Vec<LineDecision>>(text).map_err(|e| format!("a payable's lines (JSON): {e}"));
    };
    let mut reader = Reader { text: rest, at: 0 };
    let mut lines = Vec::with_capacity(2);
    while !reader.done() {
        reader.expect(b';')?;
        let sequence = u32::try_from(reader.integer()?).map_err(|_| reader.error("a line's sequence"))?;
        reader.expect(b',')?;
        let procedure_code = reader.string()?.to_owned();
        let mut amounts = [Money::ZERO; 4];
        for amount in &mut amounts {
            reader.expect(b',')?;
            *amount = Money::from_cents(reader.integer()?);
        }
        let [charge, allowed, paid, patient_responsibility] = amounts;
        reader.expect(b',')?;
        let n_adjustments = reader.count()?;
        let mut adjustments = Vec::with_capacity(n_adjustments);
        for _ in 0..n_adjustments {
            reader.expect(b',')?;
            let group = reader.until_comma();
            let group = GroupCode::parse(group).map_err(|e| reader.error(&e.to_string()))?;
            reader.expect(b',')?;
            let reason = carc(reader.string()?).map_err(|e| reader.error(&e))?;
            reader.expect(b',')?;
            adjustments.push(Adjustment { group, reason, amount: Money::from_cents(reader.integer()?) });
        }
        reader.expect(b',')?;
        let n_remarks = reader.count()?;
        let mut remarks = Vec::with_capacity(n_remarks);
        for _ in 0..n_remarks {
            reader.expect(b',')?;
            remarks.push(Rarc::parse(reader.string()?).map_err(|e| reader.error(&e.to_string()))?);
        }
        lines.push(LineDecision {
            sequence,
            procedure_code,
            charge,
            allowed,
            paid,
            patient_responsibility,
            adjustments,
            remarks,
            explanation: vec![],
            steps: vec![],
        });
    }
    Ok(lines)
}

/// The CARC `text`: one of the constants without allocating, else parsed.
fn carc(text: &str) -> Result<Carc, String> {
    match Carc::USED.iter().find(|used| AsRef::<str>::as_ref(*used) == text) {
        Some(used) => Ok(used.clone()),
        None => Carc::parse(text).map_err(|e| e.to_string()),
    }
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.at >= self.text.len()
    }

    fn error(&self, what: &str) -> String {
        format!("a payable's lines (compact form), at byte {}: {what}", self.at + MARK.len())
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.text.as_bytes().get(self.at) == Some(&byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected `{}`", byte as char)))
        }
    }

    /// A signed decimal integer.
    fn integer(&mut self) -> Result<i64, String> {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let negative = bytes.get(self.at) == Some(&b'-');
        if negative {
            self.at += 1;
        }
        let digits_start = self.at;
        let mut value: i64 = 0;
        while let Some(digit) = bytes.get(self.at).filter(|byte| byte.is_ascii_digit()) {
            value = value.checked_mul(10).and_then(|value| value.checked_add(i64::from(digit - b'0'))).ok_or_else(|| self.error("a number out of range"))?;
            self.at += 1;
        }
        if self.at == digits_start {
            self.at = start;
            return Err(self.error("expected a number"));
        }
        Ok(if negative { -value } else { value })
    }

    fn count(&mut self) -> Result<usize, String> {
        usize::try_from(self.integer()?).map_err(|_| self.error("a negative count"))
    }

    /// `length:bytes`.
    fn string(&mut self) -> Result<&'a str, String> {
        let length = self.count()?;
        self.expect(b':')?;
        let end = self.at.checked_add(length).filter(|end| *end <= self.text.len()).ok_or_else(|| self.error("a string past the end"))?;
        let value = self.text.get(self.at..end).ok_or_else(|| self.error("a string cut inside a character"))?;
        self.at = end;
        Ok(value)
    }

    fn until_comma(&mut self) -> &'a str {
        let rest = &self.text[self.at..];
        let length = rest.find(',').unwrap_or(rest.len());
        self.at += length;
        &rest[..length]
    }
}

#[cfg(test)]
mod tests {
    use claimtrail_events::{DecisionStep, StepKind};

    use super::*;

    fn line(sequence: u32, code: &str) -> LineDecision {
        LineDecision {
            sequence,
            procedure_code: code.into(),
            charge: Money::parse("120.00").unwrap(),
            allowed: Money::parse("92.00").unwrap(),
            paid: Money::parse("82.00").unwrap(),
            patient_responsibility: Money::parse("10.00").unwrap(),
            adjustments: vec![
                Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: Money::parse("28.00").unwrap() },
                Adjustment { group: GroupCode::Pr, reason: Carc::parse("B9").unwrap(), amount: Money::parse("10.00").unwrap() },
            ],
            remarks: vec![Rarc::parse("N130").unwrap(), Rarc::parse("MA01").unwrap()],
            explanation: vec![],
            steps: vec![],
        }
    }

    #[test]
    fn compact_lines_read_back_as_written() {
        let mut reversed = line(2, "G0008");
        for amount in [&mut reversed.charge, &mut reversed.allowed, &mut reversed.paid, &mut reversed.patient_responsibility] {
            *amount = amount.negated();
        }
        reversed.remarks.clear();
        // A code with the separators in it still reads back (lengths, not escapes).
        let odd = LineDecision { adjustments: vec![], ..line(3, "A;1,2:3") };
        let lines = vec![line(1, "99213"), reversed, odd];
        let text = encode(&lines).unwrap();
        assert!(text.starts_with(MARK), "{text}");
        assert_eq!(decode(&text).unwrap(), lines);
        assert_eq!(decode(&encode(&[]).unwrap()).unwrap(), vec![]);
    }

    #[test]
    fn explanation_and_steps_are_not_kept() {
        let mut explained = line(1, "99213");
        explained.explanation = vec!["priced at the fee schedule".into()];
        explained.steps = vec![DecisionStep {
            kind: StepKind::Pricing,
            rule: "fee-schedule".into(),
            source: None,
            adjustment: None,
            before: Money::ZERO,
            after: Money::ZERO,
            detail: "priced".into(),
        }];
        let read = decode(&encode(std::slice::from_ref(&explained)).unwrap()).unwrap();
        assert_eq!(read, vec![line(1, "99213")]);
    }

    #[test]
    fn json_lines_stored_before_read_as_before() {
        let mut explained = line(1, "99213");
        explained.explanation = vec!["priced at the fee schedule".into()];
        let json = serde_json::to_string(&vec![explained.clone()]).unwrap();
        assert_eq!(decode(&json).unwrap(), vec![explained]);
    }

    #[test]
    fn an_amount_beyond_i64_cents_keeps_the_json() {
        let mut huge = line(1, "99213");
        huge.charge = Money::parse("999999999999999999999.00").unwrap();
        let text = encode(std::slice::from_ref(&huge)).unwrap();
        assert!(text.starts_with('['), "{text}");
        assert_eq!(decode(&text).unwrap(), vec![huge]);
    }

    #[test]
    fn a_damaged_text_is_an_error_naming_where() {
        let text = encode(&[line(1, "99213")]).unwrap();
        for cut in [3, 8, text.len() - 1] {
            let error = decode(&text[..cut]).unwrap_err();
            assert!(error.contains("compact form"), "{error}");
        }
        assert!(decode("L1;1,5:99213,x").unwrap_err().contains("expected a number"));
        assert!(decode("L1;1,5:99213,1,1,1,1,1,XX,2:45,1,0").unwrap_err().contains("XX"));
        assert!(decode("not json").unwrap_err().contains("JSON"));
    }
}
