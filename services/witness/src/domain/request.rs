//! The add-checkpoint body (<https://c2sp.org/tlog-witness>): `old <size>`,
//! up to 63 base64 consistency-proof lines, an empty line, then the signed
//! checkpoint note. Parsed strictly: anything else is malformed (400).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use claimtrail_ledger::Hash;

use super::Refusal;

/// Consistency proof lines accepted at most (the spec's limit).
pub const PROOF_LINES_MAX: usize = 63;

/// A parsed add-checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    /// The checkpoint's first line.
    pub origin: String,
    /// The signed checkpoint note, as sent.
    pub note: String,
}

/// Parses an add-checkpoint body.
pub fn parse_request(body: &str) -> Result<Request, Refusal> {
    let (old_line, mut rest) = body.split_once('\n').ok_or_else(|| Refusal::malformed("the body must start with `old <size>` and a newline"))?;
    let old_size = old_line
        .strip_prefix("old ")
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && (digits.len() == 1 || !digits.starts_with('0')))
        .and_then(|digits| digits.parse::<u64>().ok())
        .ok_or_else(|| Refusal::malformed(format!("`{old_line}` is not `old <decimal size>`")))?;
    let mut proof = Vec::new();
    loop {
        let (line, after) = rest.split_once('\n').ok_or_else(|| Refusal::malformed("the proof lines must end with an empty line before the checkpoint"))?;
        rest = after;
        if line.is_empty() {
            break;
        }
        if proof.len() == PROOF_LINES_MAX {
            return Err(Refusal::malformed(format!("more than {PROOF_LINES_MAX} consistency proof lines")));
        }
        let hash = BASE64.decode(line).ok().and_then(|bytes| Hash::try_from(bytes.as_slice()).ok());
        proof.push(hash.ok_or_else(|| Refusal::malformed(format!("proof line {} is not base64 of 32 bytes", proof.len() + 1)))?);
    }
    let origin = rest.split('\n').next().unwrap_or_default().to_owned();
    if origin.is_empty() {
        return Err(Refusal::malformed("no checkpoint after the empty line"));
    }
    Ok(Request { old_size, proof, origin, note: rest.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_parsed_strictly() {
        let note = "log.example\n2\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} log.example AAAA\n";
        let proof_line = BASE64.encode([7u8; 32]);
        let parsed = parse_request(&format!("old 1\n{proof_line}\n\n{note}")).unwrap();
        assert_eq!((parsed.old_size, parsed.proof.len(), parsed.origin.as_str()), (1, 1, "log.example"));
        assert_eq!(parsed.note, note);
        for bad in ["", "old 01\n\nx\n", "old -1\n\nx\n", "new 1\n\nx\n", "old 1\nnot base64\n\nx\n", "old 1\n", "old 1\n\n"] {
            assert!(matches!(parse_request(bad), Err(Refusal::Malformed(_))), "{bad:?}");
        }
        let too_many = format!("old 1\n{}\n{note}", format!("{proof_line}\n").repeat(64));
        assert!(parse_request(&too_many).unwrap_err().to_string().contains("63"));
    }
}
