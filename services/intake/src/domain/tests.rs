//! Given/when/then: one test per front-end edit and per status transition,
//! without a database.

use std::collections::{HashMap, HashSet};

use claimtrail_events::{FieldPaths, Money, Outcome, format_date};
use serde_json::json;
use time::Duration;
use time::macros::date;

use super::*;

const PAYER: &str = "60054";
const MEMBER: &str = "MBR-0001";
const NPI: &str = "1245319599";
const OTHER_NPI: &str = "1234567893";
const ORGANIZATION: &str = "riverside";
const TODAY: Date = date!(2026 - 12 - 06);

/// Given `facts`, when `command`, then `expected` (cqrs-es style).
fn check(given: Facts, when: Command, then: impl FnOnce(Result<Vec<Event>, Rejection>)) {
    then(decide(&given, &when));
}

fn claim(id: u128, frequency: &str, related: Option<Uuid>, service_date: Date) -> Candidate {
    let claim_id = Uuid::from_u128(id);
    let claim: SubmittedClaim<AsRead> = serde_json::from_value(json!({
        "claim_id": claim_id, "claim_type": "professional", "frequency": frequency, "related_claim_id": related,
        "patient_control_number": "PCN-1", "billing_npi": NPI, "rendering_npi": null, "payer_id": PAYER, "member_id": MEMBER,
        "diagnoses": [{"sequence": 1, "code": "E119"}],
        "lines": [{"sequence": 1, "procedure_code": "99213", "modifiers": [], "quantity": "1", "charge": "120.00",
                   "service_date": format_date(service_date), "place_of_service": "11", "diagnosis_pointers": [1]}],
        "total_charge": "120.00"
    }))
    .expect("a valid claim");
    Candidate::new(claim_id, MappedClaim::new(claim, FieldPaths::default()))
}

/// An original claim served 30 days before [`TODAY`].
fn recent(id: u128) -> Candidate {
    claim(id, "original", None, TODAY - Duration::days(30))
}

/// The registries as a payer sets them up: coverage, enrollment and licence a year either side of [`TODAY`].
fn registered() -> Facts {
    let period = (format_date(TODAY - Duration::days(365)), format_date(TODAY + Duration::days(365)));
    Facts {
        edits: edits::Facts {
            payers: HashMap::from([(PAYER.to_owned(), 365)]),
            coverage: HashMap::from([((PAYER.to_owned(), MEMBER.to_owned()), period)]),
            licences: HashMap::from([(NPI.to_owned(), Some(format_date(TODAY + Duration::days(365))))]),
            originals: HashMap::new(),
            taken: HashSet::new(),
        },
        not_held: vec![],
        claims: HashMap::new(),
        versions: HashMap::new(),
    }
}

/// `registered()` plus an original claim of this organization, `status`, billed by NPI to PAYER.
fn with_original(status: ClaimStatus) -> Facts {
    let mut facts = registered();
    facts.edits.originals.insert(ORIGINAL, (ORGANIZATION.to_owned(), status.as_str().to_owned(), PAYER.to_owned(), NPI.to_owned()));
    facts
}

const ORIGINAL: Uuid = Uuid::from_u128(100);

fn submit(channel: Channel, candidates: Vec<Candidate>) -> Command {
    Command::Submit { channel, today: TODAY, submitter: ORGANIZATION.to_owned(), billing: Billing::AsOrganization, candidates }
}

/// The status and issue codes of each claim received.
fn outcomes(then: Result<Vec<Event>, Rejection>) -> Vec<(ClaimStatus, Vec<String>)> {
    then.expect("decided")
        .into_iter()
        .map(|event| match event {
            Event::Received(candidate) => (candidate.status(), candidate.issues.into_iter().map(|issue| issue.code).collect()),
            other => panic!("not a received claim: {other:?}"),
        })
        .collect()
}

fn rejected(codes: &[&str]) -> Vec<(ClaimStatus, Vec<String>)> {
    vec![(ClaimStatus::Rejected, codes.iter().map(|code| (*code).to_owned()).collect())]
}

fn accepted() -> Vec<(ClaimStatus, Vec<String>)> {
    vec![(ClaimStatus::Accepted, vec![])]
}

#[test]
fn a_claim_that_passes_every_edit_is_received_as_accepted() {
    check(registered(), submit(Channel::Fhir, vec![recent(1)]), |then| assert_eq!(outcomes(then), accepted()));
}

#[test]
fn a_claim_the_reader_faulted_is_rejected_without_the_registry_edits() {
    // The reader's structural edits (an NPI check digit, a malformed code) come with the candidate.
    let mut faulted = recent(1);
    faulted.issues.push(ClaimIssue { path: "Claim.item[0].productOrService".into(), code: "invalid-code".into(), message: "not a CPT code".into() });
    check(Facts::default(), submit(Channel::Fhir, vec![faulted]), |then| assert_eq!(outcomes(then), rejected(&["invalid-code"])));
}

#[test]
fn an_npi_with_a_bad_check_digit_is_left_to_the_readers_edit_not_to_the_billing_scope() {
    let mut bad = recent(1);
    bad.read.billing_npi = "1245319590".into();
    assert_eq!(billed_npis(&[bad, recent(2), recent(3)]), [NPI]);
}

/// [`recent`] as read, with `edit` made to it before the parse.
fn read_with(id: u128, edit: impl FnOnce(&mut SubmittedClaim<AsRead>)) -> Candidate {
    let mut read = recent(id).read;
    edit(&mut read);
    Candidate::new(Uuid::from_u128(id), MappedClaim::new(read, FieldPaths::default()))
}

#[test]
fn a_claim_whose_codes_do_not_parse_is_rejected_naming_each_and_no_registry_edit_runs() {
    let malformed = read_with(1, |read| {
        read.lines[0].modifiers = vec!["5".into()];
        read.lines[0].place_of_service = Some("office".into());
        read.member_id = "MBR 0001".into();
    });
    assert_eq!(malformed.claim, None);
    let paths: Vec<&str> = malformed.issues.iter().map(|issue| issue.path.as_str()).collect();
    assert_eq!(paths, ["member_id", "lines[0].modifiers[0]", "lines[0].place_of_service"]);
    // Facts::default() knows no payer: a registry edit would add `payer-unknown`.
    check(Facts::default(), submit(Channel::Fhir, vec![malformed, recent(2)]), |then| {
        assert_eq!(outcomes(then), [rejected(&["member-id-shape", "modifier-shape", "place-of-service-shape"]), rejected(&["payer-unknown"])].concat())
    });
}

#[test]
fn a_parsed_claim_keeps_the_json_it_was_read_with() {
    let candidate = recent(1);
    let parsed = candidate.claim.as_ref().expect("parses");
    assert_eq!(serde_json::to_value(parsed).unwrap(), serde_json::to_value(&candidate.read).unwrap());
    assert_eq!(candidate.accepted(), Some(parsed));
}

#[test]
fn a_replacement_naming_an_original_by_another_number_is_rejected_at_the_related_claim() {
    let replacement = read_with(1, |read| {
        read.frequency = Frequency::Replacement;
        read.related_claim_id = Some("PAYERICN0001".into());
    });
    check(registered(), submit(Channel::X12, vec![replacement]), |then| assert_eq!(outcomes(then), rejected(&["original-not-found"])));
}

#[test]
fn a_fhir_request_billed_under_an_npi_not_held_is_refused_whole() {
    let mut facts = registered();
    facts.not_held = vec![NPI.to_owned()];
    check(facts, submit(Channel::Fhir, vec![recent(1), recent(2)]), |then| {
        let rejection = then.unwrap_err();
        assert_eq!(rejection, Rejection::BillingNpisNotHeld { organization: ORGANIZATION.into(), npis: vec![NPI.into()] });
        assert!(rejection.to_string().contains("`riverside` may not bill under NPI 1245319599"), "{rejection}");
    });
}

#[test]
fn an_x12_claim_billed_under_an_npi_not_held_is_rejected_alone() {
    let mut facts = registered();
    facts.not_held = vec![OTHER_NPI.to_owned()];
    let mut other = recent(2);
    other.read.billing_npi = OTHER_NPI.into();
    other.claim.as_mut().expect("parses").billing_npi = OTHER_NPI.parse().unwrap();
    check(facts, submit(Channel::X12, vec![recent(1), other]), |then| {
        assert_eq!(outcomes(then), [(ClaimStatus::Accepted, vec![]), (ClaimStatus::Rejected, vec!["billing-npi-not-held".to_owned()])]);
    });
}

#[test]
fn an_admin_key_bills_under_any_npi() {
    let mut facts = registered();
    facts.not_held = vec![NPI.to_owned()];
    let command = Command::Submit { channel: Channel::Fhir, today: TODAY, submitter: "admin".into(), billing: Billing::AnyNpi, candidates: vec![recent(1)] };
    check(facts, command, |then| assert_eq!(outcomes(then), accepted()));
}

#[test]
fn an_organization_holds_only_the_npis_registered_to_it() {
    let owners: HashMap<String, (String, Option<String>)> =
        HashMap::from([(NPI.to_owned(), (ORGANIZATION.to_owned(), None)), (OTHER_NPI.to_owned(), ("lakeside".to_owned(), None))]);
    let npis = [NPI, OTHER_NPI, "1093817465", OTHER_NPI].map(str::to_owned);
    assert_eq!(npis_not_held(ORGANIZATION, &npis, &owners), ["1093817465", OTHER_NPI], "another's, and nobody's");
    assert!(npis_not_held(ORGANIZATION, &npis[..1], &owners).is_empty());
}

#[test]
fn a_claim_to_an_unknown_payer_is_rejected_and_no_other_edit_runs() {
    let mut facts = registered();
    facts.edits.payers.clear();
    facts.edits.coverage.clear();
    check(facts, submit(Channel::Fhir, vec![recent(1)]), |then| assert_eq!(outcomes(then), rejected(&["payer-unknown"])));
}

#[test]
fn a_line_served_before_the_payers_timely_filing_limit_is_accepted_for_adjudication_to_deny() {
    let late = claim(1, "original", None, TODAY - Duration::days(366));
    let mut facts = registered();
    facts.edits.coverage.insert((PAYER.into(), MEMBER.into()), (format_date(TODAY - Duration::days(400)), format_date(TODAY)));
    check(facts, submit(Channel::Fhir, vec![late]), |then| assert_eq!(outcomes(then), accepted()));
}

#[test]
fn a_claim_for_a_member_the_payer_does_not_have_is_rejected() {
    let mut facts = registered();
    facts.edits.coverage.clear();
    check(facts, submit(Channel::Fhir, vec![recent(1)]), |then| assert_eq!(outcomes(then), rejected(&["member-unknown"])));
}

#[test]
fn coverage_and_enrollment_are_not_judged_here_adjudication_denies_them() {
    let mut facts = registered();
    facts.edits.coverage.insert((PAYER.into(), MEMBER.into()), (format_date(TODAY - Duration::days(400)), format_date(TODAY - Duration::days(31))));
    check(facts, submit(Channel::Fhir, vec![recent(1)]), |then| assert_eq!(outcomes(then), accepted()));
}

#[test]
fn a_billing_provider_whose_licence_expired_before_the_date_of_service_is_rejected() {
    let mut facts = registered();
    facts.edits.licences.insert(NPI.into(), Some(format_date(TODAY - Duration::days(31))));
    check(facts, submit(Channel::Fhir, vec![recent(1)]), |then| assert_eq!(outcomes(then), rejected(&["provider-licence-expired"])));
}

#[test]
fn a_replacement_that_names_no_original_is_rejected() {
    let replacement = claim(1, "replacement", None, TODAY - Duration::days(30));
    check(registered(), submit(Channel::Fhir, vec![replacement]), |then| assert_eq!(outcomes(then), rejected(&["original-required"])));
}

#[test]
fn a_replacement_of_a_claim_unknown_or_another_organizations_is_rejected() {
    let replacement = || claim(1, "replacement", Some(ORIGINAL), TODAY - Duration::days(30));
    check(registered(), submit(Channel::Fhir, vec![replacement()]), |then| assert_eq!(outcomes(then), rejected(&["original-not-found"])));
    let mut facts = registered();
    facts.edits.originals.insert(ORIGINAL, ("lakeside".into(), ClaimStatus::Adjudicated.as_str().into(), PAYER.into(), NPI.into()));
    check(facts, submit(Channel::Fhir, vec![replacement()]), |then| assert_eq!(outcomes(then), rejected(&["original-not-found"])));
}

#[test]
fn a_replacement_that_changes_payer_or_billing_provider_is_rejected() {
    let mut facts = registered();
    facts.edits.originals.insert(ORIGINAL, (ORGANIZATION.into(), ClaimStatus::Adjudicated.as_str().into(), "OTHER".into(), NPI.into()));
    let replacement = claim(1, "replacement", Some(ORIGINAL), TODAY - Duration::days(30));
    check(facts, submit(Channel::Fhir, vec![replacement]), |then| assert_eq!(outcomes(then), rejected(&["original-mismatch"])));
}

#[test]
fn a_replacement_of_a_rejected_replaced_or_voided_claim_is_rejected() {
    for status in [ClaimStatus::Rejected, ClaimStatus::Replaced, ClaimStatus::Voided] {
        let replacement = claim(1, "replacement", Some(ORIGINAL), TODAY - Duration::days(30));
        check(with_original(status), submit(Channel::Fhir, vec![replacement]), |then| {
            assert_eq!(outcomes(then), rejected(&["original-not-replaceable"]), "{status}");
        });
    }
}

#[test]
fn a_replacement_of_a_claim_another_live_claim_already_replaces_is_rejected() {
    let mut facts = with_original(ClaimStatus::Adjudicated);
    facts.edits.taken.insert(ORIGINAL.to_string());
    let replacement = claim(1, "replacement", Some(ORIGINAL), TODAY - Duration::days(30));
    check(facts, submit(Channel::Fhir, vec![replacement]), |then| assert_eq!(outcomes(then), rejected(&["original-not-replaceable"])));
}

#[test]
fn only_the_first_of_two_replacements_of_one_original_in_a_request_is_accepted() {
    let replacement = |id| claim(id, "replacement", Some(ORIGINAL), TODAY - Duration::days(30));
    check(with_original(ClaimStatus::Adjudicated), submit(Channel::Fhir, vec![replacement(1), replacement(2)]), |then| {
        assert_eq!(outcomes(then), [(ClaimStatus::Accepted, vec![]), (ClaimStatus::Rejected, vec!["original-not-replaceable".to_owned()])]);
    });
}

#[test]
fn an_x12_issue_names_its_segment_and_a_fhir_issue_its_fhirpath() {
    let mut facts = registered();
    facts.edits.coverage.clear();
    for (channel, path) in [(Channel::Fhir, "Claim.insurance[0].coverage"), (Channel::X12, "2010BA/NM109")] {
        check(facts.clone(), submit(channel, vec![recent(1)]), |then| {
            let events = then.unwrap();
            let [Event::Received(candidate)] = &events[..] else { panic!("one claim: {events:?}") };
            assert_eq!(candidate.issues[0].path, path);
        });
    }
}

fn decision(claim_id: Uuid) -> ClaimAdjudicated {
    ClaimAdjudicated {
        claim_id,
        payer_id: PAYER.into(),
        billing_npi: NPI.into(),
        outcome: Outcome::Paid,
        rule_set_hash: "h".into(),
        lines: vec![],
        total_charge: Money::parse("120.00").unwrap(),
        total_allowed: Money::parse("80.00").unwrap(),
        total_paid: Money::parse("80.00").unwrap(),
        total_patient_responsibility: Money::ZERO,
    }
}

fn reversal(frequency: Frequency) -> ClaimReversed {
    ClaimReversed {
        claim_id: ORIGINAL,
        by_claim_id: Uuid::from_u128(200),
        frequency,
        payer_id: PAYER.into(),
        billing_npi: NPI.into(),
        rule_set_hash: "h".into(),
        lines: vec![],
        total_charge: Money::parse("-120.00").unwrap(),
        total_allowed: Money::parse("-80.00").unwrap(),
        total_paid: Money::parse("-80.00").unwrap(),
        total_patient_responsibility: Money::ZERO,
    }
}

/// Intake received these claims, in these statuses.
fn known(claims: &[(Uuid, ClaimStatus)]) -> Facts {
    Facts { claims: claims.iter().copied().collect(), ..Facts::default() }
}

#[test]
fn a_submitted_claim_is_received_as_accepted_or_rejected() {
    let accepted = recent(1);
    let mut rejected = recent(2);
    rejected.issues.push(ClaimIssue { path: "Claim.provider".into(), code: "npi-check-digit".into(), message: "bad".into() });
    let facts = [Event::Received(Box::new(accepted)), Event::Received(Box::new(rejected))].iter().fold(Facts::default(), apply);
    assert_eq!(facts.claims, HashMap::from([(Uuid::from_u128(1), ClaimStatus::Accepted), (Uuid::from_u128(2), ClaimStatus::Rejected)]));
}

#[test]
fn an_accepted_claim_becomes_adjudicated_with_its_outcome_and_amounts() {
    let claim_id = Uuid::from_u128(1);
    check(known(&[(claim_id, ClaimStatus::Accepted)]), Command::Adjudicate(decision(claim_id)), |then| {
        let events = then.unwrap();
        assert_eq!(
            events,
            [Event::StatusChanged {
                claim_id,
                status: ClaimStatus::Adjudicated,
                detail: "paid: allowed 80.00, paid 80.00 (rule set h)".into(),
                secondary: false
            }]
        );
        assert_eq!(events.iter().fold(known(&[(claim_id, ClaimStatus::Accepted)]), apply).claims[&claim_id], ClaimStatus::Adjudicated);
    });
}

#[test]
fn an_accepted_claim_pended_by_adjudication_becomes_pended_with_the_step_and_reason() {
    let claim_id = Uuid::from_u128(1);
    let pended = ClaimPended {
        claim_id,
        payer_id: PAYER.into(),
        billing_npi: NPI.into(),
        reason: "member-not-in-registry".into(),
        step: "eligibility".into(),
        detail: "adjudication does not hold the member yet".into(),
    };
    check(known(&[(claim_id, ClaimStatus::Accepted)]), Command::Pend(pended), |then| {
        let events = then.unwrap();
        let [Event::StatusChanged { status, detail, .. }] = &events[..] else { panic!("{events:?}") };
        assert_eq!(*status, ClaimStatus::Pended);
        assert_eq!(detail, "pended at eligibility (member-not-in-registry): adjudication does not hold the member yet");
    });
}

#[test]
fn a_decision_about_a_claim_intake_did_not_receive_changes_nothing() {
    check(Facts::default(), Command::Adjudicate(decision(Uuid::from_u128(1))), |then| assert_eq!(then.unwrap(), []));
    check(Facts::default(), Command::Reverse(reversal(Frequency::Void)), |then| assert_eq!(then.unwrap(), []));
}

#[test]
fn a_replacement_moves_its_original_to_replaced() {
    check(
        known(&[(ORIGINAL, ClaimStatus::Adjudicated), (Uuid::from_u128(200), ClaimStatus::Accepted)]),
        Command::Reverse(reversal(Frequency::Replacement)),
        |then| {
            let events = then.unwrap();
            let [Event::StatusChanged { claim_id, status, detail, secondary }] = &events[..] else { panic!("{events:?}") };
            assert_eq!((*claim_id, *status, *secondary), (ORIGINAL, ClaimStatus::Replaced, false));
            assert!(detail.starts_with("replaced by claim 00000000-0000-0000-0000-0000000000c8; the decision is reversed (-80.00 paid)"), "{detail}");
        },
    );
}

#[test]
fn a_correction_version_adjudication_made_is_learned_and_its_decision_booking_and_replacement_land_on_the_claim_intake_received() {
    // A ripple decides ORIGINAL again as version V (a derived id intake never received).
    let version = Uuid::from_u128(200);
    let given = known(&[(ORIGINAL, ClaimStatus::Adjudicated)]);
    let events = decide(&given, &Command::Reverse(reversal(Frequency::Replacement))).unwrap();
    let [Event::VersionLearned { version: learned, of_claim_id }, Event::Noted { claim_id, status, detail }] = &events[..] else { panic!("{events:?}") };
    assert_eq!((*learned, *of_claim_id, *claim_id, *status), (version, ORIGINAL, ORIGINAL, ClaimStatus::Adjudicated), "not replaced: decided again");
    assert!(detail.contains("to be decided again as version 00000000-0000-0000-0000-0000000000c8"), "{detail}");
    let facts = events.iter().fold(given, apply);
    assert_eq!(facts.resolve(version), Some(ORIGINAL));
    // The version's decision is the claim's, with its amounts.
    let mut corrected = decision(version);
    corrected.total_paid = Money::parse("60.00").unwrap();
    let events = decide(&facts, &Command::Adjudicate(corrected)).unwrap();
    let [Event::StatusChanged { claim_id, status, detail, .. }] = &events[..] else { panic!("{events:?}") };
    assert_eq!((*claim_id, *status), (ORIGINAL, ClaimStatus::Adjudicated));
    assert!(detail.starts_with("decided again as version 00000000-0000-0000-0000-0000000000c8: paid: allowed 80.00, paid 60.00"), "{detail}");
    // Its payable is a history step of the claim.
    let booked = PayableBooked {
        claim_id: version,
        journal_entry_id: Uuid::from_u128(9),
        payer_id: PAYER.into(),
        billing_npi: NPI.into(),
        amount: Money::parse("-20.00").unwrap(),
        lines: vec![],
    };
    let [Event::Noted { claim_id, detail, .. }] = &decide(&facts, &Command::Book(booked)).unwrap()[..] else { panic!() };
    assert_eq!(*claim_id, ORIGINAL);
    assert!(detail.ends_with("for version 00000000-0000-0000-0000-0000000000c8"), "{detail}");
    // A later correction of the version is learned for the same claim.
    let mut again = reversal(Frequency::Replacement);
    (again.claim_id, again.by_claim_id) = (version, Uuid::from_u128(201));
    let events = decide(&facts, &Command::Reverse(again)).unwrap();
    assert_eq!(events[0], Event::VersionLearned { version: Uuid::from_u128(201), of_claim_id: ORIGINAL });
    // The provider's own replacement of the claim, whose standing decision is the version's, replaces the claim intake received.
    let replacement = Uuid::from_u128(202);
    let mut facts = facts;
    facts.claims.insert(replacement, ClaimStatus::Accepted);
    let mut replaced = reversal(Frequency::Replacement);
    (replaced.claim_id, replaced.by_claim_id) = (version, replacement);
    let [Event::StatusChanged { claim_id, status, .. }] = &decide(&facts, &Command::Reverse(replaced)).unwrap()[..] else { panic!() };
    assert_eq!((*claim_id, *status), (ORIGINAL, ClaimStatus::Replaced));
}

#[test]
fn a_void_moves_its_original_and_itself_to_voided() {
    let void_id = Uuid::from_u128(200);
    check(known(&[(ORIGINAL, ClaimStatus::Adjudicated), (void_id, ClaimStatus::Accepted)]), Command::Reverse(reversal(Frequency::Void)), |then| {
        let events = then.unwrap();
        let moved: Vec<(Uuid, ClaimStatus, bool)> = events
            .iter()
            .map(|event| match event {
                Event::StatusChanged { claim_id, status, secondary, .. } => (*claim_id, *status, *secondary),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(moved, [(ORIGINAL, ClaimStatus::Voided, false), (void_id, ClaimStatus::Voided, true)]);
        let facts = events.iter().fold(known(&[(ORIGINAL, ClaimStatus::Adjudicated), (void_id, ClaimStatus::Accepted)]), apply);
        assert_eq!((facts.claims[&ORIGINAL], facts.claims[&void_id]), (ClaimStatus::Voided, ClaimStatus::Voided));
    });
}

#[test]
fn a_booked_payable_is_a_history_step_that_keeps_the_status() {
    let claim_id = Uuid::from_u128(1);
    let booked = PayableBooked {
        claim_id,
        journal_entry_id: Uuid::from_u128(9),
        payer_id: PAYER.into(),
        billing_npi: NPI.into(),
        amount: Money::parse("80.00").unwrap(),
        lines: vec![],
    };
    check(known(&[(claim_id, ClaimStatus::Adjudicated)]), Command::Book(booked.clone()), |then| {
        let events = then.unwrap();
        assert_eq!(events, [Event::Noted { claim_id, status: ClaimStatus::Adjudicated, detail: format!("booked in the journal: 80.00 payable to {NPI}") }]);
        assert_eq!(events.iter().fold(known(&[(claim_id, ClaimStatus::Adjudicated)]), apply).claims[&claim_id], ClaimStatus::Adjudicated);
    });
    check(Facts::default(), Command::Book(booked), |then| assert_eq!(then.unwrap(), []));
}

fn appealed(claim_id: Uuid) -> ClaimAppealed {
    ClaimAppealed {
        appeal_id: Uuid::from_u128(300),
        claim_id,
        payer_id: PAYER.into(),
        appellant: "riverside".into(),
        reason: "the records justify the units".into(),
        lines: vec![2],
    }
}

#[test]
fn an_appealed_claim_is_appealed_until_its_appeal_is_decided_and_an_overturn_s_reversal_is_a_history_step() {
    let given = known(&[(ORIGINAL, ClaimStatus::Adjudicated)]);
    check(given.clone(), Command::Appeal(appealed(ORIGINAL)), |then| {
        let events = then.unwrap();
        let [Event::StatusChanged { status, detail, .. }] = &events[..] else { panic!("{events:?}") };
        assert_eq!(*status, ClaimStatus::Appealed);
        assert!(detail.starts_with("appealed by riverside (appeal 00000000-0000-0000-0000-00000000012c) on line 2"), "{detail}");
    });
    let appealed_state = known(&[(ORIGINAL, ClaimStatus::Appealed)]);
    let mut own = reversal(Frequency::Original);
    own.by_claim_id = ORIGINAL;
    check(appealed_state.clone(), Command::Reverse(own), |then| {
        let events = then.unwrap();
        let [Event::Noted { status, detail, .. }] = &events[..] else { panic!("{events:?}") };
        assert_eq!(*status, ClaimStatus::Appealed, "not replaced: the claim is decided again");
        assert!(detail.contains("appeal was overturned"), "{detail}");
    });
    let decided = ClaimAppealDecided {
        appeal_id: Uuid::from_u128(300),
        claim_id: ORIGINAL,
        payer_id: PAYER.into(),
        outcome: "overturned".into(),
        reviewer: "Demo Health Plan".into(),
        reason: "records reviewed".into(),
        paid_before: Money::parse("40.00").unwrap(),
        paid_after: Money::parse("160.00").unwrap(),
    };
    check(appealed_state, Command::DecideAppeal(decided.clone()), |then| {
        let events = then.unwrap();
        let [Event::StatusChanged { status, detail, .. }] = &events[..] else { panic!("{events:?}") };
        assert_eq!(*status, ClaimStatus::Adjudicated);
        assert!(detail.contains("overturned by Demo Health Plan") && detail.contains("paid 40.00 before, 160.00 now"), "{detail}");
    });
    check(Facts::default(), Command::DecideAppeal(decided), |then| assert_eq!(then.unwrap(), []));
}
