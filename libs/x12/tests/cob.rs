//! Coordination of benefits from an 837P: the 2000B SBR01 is this payer's
//! place, each earlier 2320 (SBR, AMT*D, CAS, 2330B) with its 2430 (SVD,
//! CAS) an earlier payer's decision; the COB edits at their X12 paths.

mod common;

use claimtrail_codes::{Carc, GroupCode};
use claimtrail_events::{Adjustment, Money, PayerSequence, PriorLine};
use claimtrail_x12::{Reading, read};

const VALID_837P: &str = include_str!("data/valid_837p.txt");

/// The fixture's first claim sent to its secondary payer: the subscriber's SBR01 `S`, the other payer's `P`.
fn as_secondary(extra: &[(&str, &str)]) -> Reading {
    let mut text = VALID_837P.replacen("SBR*P*18*GRP01", "SBR*S*18*GRP01", 1).replacen("SBR*S*18*OTHERGRP", "SBR*P*18*OTHERGRP", 1);
    for (from, to) in extra {
        assert!(text.contains(from), "{from}");
        text = text.replacen(from, to, 1);
    }
    read(recount(&text).as_bytes(), &common::options()).unwrap()
}

/// `text` with SE01 counting its segments again.
fn recount(text: &str) -> String {
    let segments: Vec<&str> = text.split("~\n").collect();
    let st = segments.iter().position(|segment| segment.starts_with("ST*")).unwrap();
    let se = segments.iter().position(|segment| segment.starts_with("SE*")).unwrap();
    let fixed = format!("SE*{}*0001", se - st + 1);
    segments.iter().enumerate().map(|(idx, segment)| if idx == se { fixed.as_str() } else { segment }).collect::<Vec<_>>().join("~\n")
}

fn cob_issues(reading: &Reading) -> Vec<String> {
    let claim = reading.claims().next().unwrap();
    claim.claim.issues.iter().filter(|issue| issue.code.starts_with("cob-")).map(|issue| format!("{} @ {}", issue.code, issue.path)).collect()
}

#[test]
fn a_claim_to_the_secondary_payer_carries_the_primary_s_2320_and_2430() {
    let reading = as_secondary(&[]);
    let claim = reading.claims().next().unwrap();
    assert_eq!(cob_issues(&reading), Vec::<String>::new());
    let cob = claim.claim.claim.cob.as_ref().expect("cob");
    assert_eq!(cob.sequence, PayerSequence::Secondary);
    let [primary] = cob.prior_payers.as_slice() else { panic!("{cob:?}") };
    assert_eq!((primary.sequence, primary.payer_id.as_str(), primary.paid), (PayerSequence::Primary, "OTHER01", Money::parse("40.00").unwrap()));
    let co_45 = Adjustment { group: GroupCode::Co, reason: Carc::FEE_SCHEDULE, amount: Money::parse("60.00").unwrap() };
    assert_eq!(primary.lines, vec![PriorLine { sequence: 1, paid: Money::parse("40.00").unwrap(), adjustments: vec![co_45] }]);
    // Sent to its primary payer (the fixture as it is), the claim carries no COB.
    let primary_claim = read(VALID_837P.as_bytes(), &common::options()).unwrap();
    assert_eq!(primary_claim.claims().next().unwrap().claim.claim.cob, None);
}

#[test]
fn the_cob_edits_name_the_loop_at_fault() {
    // The primary's line does not balance: 40 paid + 50 adjusted is not the 100 charged.
    let reading = as_secondary(&[("CAS*CO*45*60.00", "CAS*CO*45*50.00")]);
    assert_eq!(cob_issues(&reading), ["cob-line-unbalanced @ 2430[1]/SVD02"]);
    // The other payer comes after this one: nothing decided before, so a secondary claim lacks the primary's decision.
    let reading = as_secondary(&[("SBR*P*18*OTHERGRP", "SBR*T*18*OTHERGRP")]);
    assert_eq!(cob_issues(&reading), ["cob-prior-payer-missing @ 2000B/SBR01"]);
    // A line decision for a line the claim does not have is not possible in an 837 (SVD sits in its line), but a
    // multi-line claim decided only as a whole is: drop the 2430.
    let reading = as_secondary(&[("SVD*OTHER01*40.00*HC:99213:25**1~\nCAS*CO*45*60.00~\nDTP*573*D8*20260220~\n", "")]);
    assert_eq!(cob_issues(&reading), ["cob-lines-missing @ 2320/AMT02 (payer OTHER01)"]);
}
