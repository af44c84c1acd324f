//! Whatever the bytes, the reader never panics and answers every interchange
//! with claims, a 999 or a TA1; random bytes and mutations of valid files.

mod common;

use claimtrail_x12::{AckContext, ClaimDecision, ClaimOutcome, ControlNumbers, Reading, read, render_999, render_acknowledgments, render_ta1};
use proptest::prelude::*;
use time::macros::time;

const VALID_837P: &str = include_str!("data/valid_837p.txt");
const VALID_837I: &str = include_str!("data/valid_837i.txt");

/// Every interchange gets a TA1 or a 999, and all acknowledgments render.
fn check_answered(reading: &Reading) -> Result<(), TestCaseError> {
    prop_assert!(!reading.interchanges.is_empty());
    let context = AckContext { date: common::TODAY, time: time!(12:00) };
    let mut numbers = ControlNumbers::starting_at(999_999_990);
    for interchange in &reading.interchanges {
        let ta1 = render_ta1(interchange, &context, &mut numbers);
        let ack_999 = render_999(interchange, &context, &mut numbers);
        prop_assert!(ta1.is_some() != ack_999.is_some(), "an interchange gets exactly one of a TA1 and a 999");
    }
    let outcomes: Vec<ClaimOutcome> = reading
        .claims()
        .map(|claim| ClaimOutcome {
            position: claim.position,
            decision: if claim.position.claim % 2 == 0 {
                ClaimDecision::Accepted { claim_id: "x".into() }
            } else {
                ClaimDecision::Rejected { issues: claim.claim.issues.clone() }
            },
        })
        .collect();
    let acks = render_acknowledgments(reading, &outcomes, &context, &mut numbers);
    prop_assert!(acks.ta1.is_some() || acks.ack_999.is_some());
    prop_assert_eq!(acks.ack_277ca.is_some(), !outcomes.is_empty());
    Ok(())
}

fn read_and_check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let reading = read(bytes, &common::options()).map_err(|error| TestCaseError::fail(error.to_string()))?;
    check_answered(&reading)
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    Truncate { at: usize },
    DeleteSegment { index: usize },
    DuplicateSegment { index: usize },
    SwapSegments { a: usize, b: usize },
}

fn apply(text: &str, mutations: &[Mutation]) -> Vec<u8> {
    let mut segments: Vec<Vec<u8>> = text.split_inclusive('~').map(|segment| segment.as_bytes().to_vec()).collect();
    for mutation in mutations {
        let n = segments.len().max(1);
        match *mutation {
            Mutation::DeleteSegment { index } if !segments.is_empty() => {
                segments.remove(index % n);
            }
            Mutation::DuplicateSegment { index } if !segments.is_empty() => {
                let copy = segments[index % n].clone();
                segments.insert(index % n, copy);
            }
            Mutation::SwapSegments { a, b } if !segments.is_empty() => segments.swap(a % n, b % n),
            _ => {}
        }
    }
    let mut bytes: Vec<u8> = segments.concat();
    for mutation in mutations {
        match *mutation {
            Mutation::Flip { at, byte } if !bytes.is_empty() => {
                let len = bytes.len();
                bytes[at % len] = byte;
            }
            Mutation::Truncate { at } if !bytes.is_empty() => {
                let len = bytes.len();
                bytes.truncate(at % len);
            }
            _ => {}
        }
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting_byte = prop_oneof![any::<u8>(), Just(b'*'), Just(b'~'), Just(b':'), Just(b'^'), Just(b'\n'), Just(b'0'), Just(b'A')];
    prop_oneof![
        (any::<usize>(), interesting_byte).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        any::<usize>().prop_map(|index| Mutation::DeleteSegment { index }),
        any::<usize>().prop_map(|index| Mutation::DuplicateSegment { index }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapSegments { a, b }),
    ]
}

#[test]
fn the_valid_files_are_clean_and_have_claims() {
    for text in [VALID_837P, VALID_837I] {
        let reading = read(text.as_bytes(), &common::options()).unwrap();
        assert!(reading.is_clean(), "{:?}", reading.problems());
        assert!(reading.n_claims() > 0);
        assert!(reading.claims().all(|claim| !claim.claim.is_rejected()), "{:?}", reading.claims().map(|claim| &claim.claim.issues).collect::<Vec<_>>());
    }
}

#[test]
fn empty_and_whitespace_bodies_get_a_ta1() {
    for body in [&b""[..], b"   \r\n", b"ISA", b"GS*HC~", b"\xEF\xBB\xBF", b"\xFF\xFE"] {
        let reading = read(body, &common::options()).unwrap();
        assert!(reading.interchanges.iter().all(|interchange| interchange.fault.is_some()), "{body:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
        read_and_check(&bytes)?;
    }

    #[test]
    fn random_bytes_after_a_valid_isa_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..2_000)) {
        let mut bytes = VALID_837P.as_bytes()[..106].to_vec();
        bytes.extend(tail);
        read_and_check(&bytes)?;
    }

    #[test]
    fn mutated_837p_never_panics(mutations in proptest::collection::vec(mutation(), 1..6)) {
        read_and_check(&apply(VALID_837P, &mutations))?;
    }

    #[test]
    fn mutated_837i_never_panics(mutations in proptest::collection::vec(mutation(), 1..6)) {
        read_and_check(&apply(VALID_837I, &mutations))?;
    }
}
