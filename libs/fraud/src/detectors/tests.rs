//! Given/when/then tests of every detector on the pure core: `check(reference, given, when)`
//! feeds the `given` claims to a fresh scanner, then `when`, and returns what `when` raised.

use proptest::prelude::*;
use time::Date;
use time::macros::date;
use uuid::Uuid;

use crate::facts::{ClaimFacts, Frequency, LineFacts};
use crate::finding::Finding;
use crate::fingerprint::{FingerprintKey, PersonIdentity, Sex, fingerprint, person_fingerprint};
use crate::pattern::Pattern;
use std::sync::Arc;

use claimtrail_policy::{CodeKey, ModifierIndicator, NcciTable, PtpEdit, Setting};

use crate::reference::{ExclusionPeriod, Reference};
use crate::scanner::{ScanConfig, Scanner};

const DAY: Date = date!(2026 - 11 - 02);

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn line(code: &str, date: Date, charge_cents: i64) -> LineFacts {
    LineFacts { code: code.into(), modifiers: Vec::new(), service_date: date, units: 1, charge_cents, place_of_service: Some("11".into()), fingerprint: None }
}

fn claim(n: u128, lines: Vec<LineFacts>) -> ClaimFacts {
    ClaimFacts {
        claim_id: id(n),
        payer_id: "PAYER-A".into(),
        ledger_index: n as u64,
        billing_npi: "1111111112".into(),
        rendering_npi: None,
        specialty: Some("207Q00000X".into()),
        member_id: "A-0001".into(),
        person: None,
        fingerprint_key_id: None,
        cob_secondary: false,
        frequency: Frequency::Original,
        replaces: None,
        received: DAY,
        lines,
    }
}

fn visit(n: u128) -> ClaimFacts {
    claim(n, vec![line("99213", DAY, 12_500), line("36415", DAY, 1_500)])
}

fn check(reference: Reference, given: &[ClaimFacts], when: &ClaimFacts) -> Vec<Finding> {
    let mut scanner = Scanner::new(reference, ScanConfig::standard());
    for claim in given {
        scanner.observe(claim);
    }
    scanner.observe(when)
}

fn patterns(findings: &[Finding]) -> Vec<Pattern> {
    findings.iter().map(|finding| finding.pattern).collect()
}

// exact_duplicate

#[test]
fn the_same_claim_billed_again_is_an_exact_duplicate_of_the_first() {
    let found = check(Reference::new(), &[visit(1)], &visit(2));
    assert_eq!(patterns(&found), [Pattern::ExactDuplicate]);
    assert_eq!(found[0].claim_ids, [id(2)]);
    assert_eq!(found[0].duplicates, Some(id(1)));
    assert_eq!(found[0].evidence.iter().map(|e| e.ledger_index).collect::<Vec<_>>(), [2, 1]);
}

#[test]
fn lines_in_another_order_are_still_an_exact_duplicate() {
    let mut again = visit(2);
    again.lines.reverse();
    assert_eq!(patterns(&check(Reference::new(), &[visit(1)], &again)), [Pattern::ExactDuplicate]);
}

#[test]
fn a_replacement_of_the_claim_is_not_a_duplicate_of_it_and_a_void_raises_nothing() {
    let replacement = ClaimFacts { frequency: Frequency::Replacement, replaces: Some(id(1)), ..visit(2) };
    assert_eq!(check(Reference::new(), &[visit(1)], &replacement), []);
    let void = ClaimFacts { frequency: Frequency::Void, replaces: Some(id(1)), ..visit(2) };
    assert_eq!(check(Reference::new(), &[visit(1)], &void), []);
}

#[test]
fn after_a_void_the_same_claim_billed_again_is_no_duplicate() {
    let void = ClaimFacts { frequency: Frequency::Void, replaces: Some(id(1)), ..visit(2) };
    assert_eq!(check(Reference::new(), &[visit(1), void], &visit(3)), []);
}

#[test]
fn another_member_or_another_day_is_not_a_duplicate() {
    let other_member = ClaimFacts { member_id: "A-0002".into(), ..visit(2) };
    assert_eq!(check(Reference::new(), &[visit(1)], &other_member), []);
    let next_day = claim(2, vec![line("99213", DAY.next_day().unwrap(), 12_500), line("36415", DAY.next_day().unwrap(), 1_500)]);
    assert_eq!(check(Reference::new(), &[visit(1)], &next_day), []);
}

// near_duplicate

#[test]
fn the_same_service_with_another_charge_or_a_line_added_is_a_near_duplicate() {
    let recharged = claim(2, vec![line("99213", DAY, 13_900), line("36415", DAY, 1_500)]);
    let found = check(Reference::new(), &[visit(1)], &recharged);
    assert_eq!(patterns(&found), [Pattern::NearDuplicate]);
    assert_eq!(found[0].duplicates, Some(id(1)));
    let mut added = visit(3);
    added.lines.push(line("81002", DAY, 900));
    assert_eq!(patterns(&check(Reference::new(), &[visit(1)], &added)), [Pattern::NearDuplicate]);
}

#[test]
fn another_rendering_provider_on_the_same_lines_is_a_near_duplicate() {
    let rerendered = ClaimFacts { rendering_npi: Some("2222222223".into()), ..visit(2) };
    assert_eq!(patterns(&check(Reference::new(), &[visit(1)], &rerendered)), [Pattern::NearDuplicate]);
}

#[test]
fn a_repeat_service_billed_with_modifier_91_is_not_a_near_duplicate() {
    let mut repeat = claim(2, vec![line("36415", DAY, 1_500)]);
    repeat.lines[0].modifiers = vec!["91".into()];
    assert_eq!(check(Reference::new(), &[visit(1)], &repeat), []);
}

#[test]
fn a_second_claim_the_same_day_with_other_codes_is_not_a_near_duplicate() {
    let other = claim(2, vec![line("99214", DAY, 16_000), line("93000", DAY, 4_000), line("81002", DAY, 900)]);
    assert_eq!(check(Reference::new(), &[visit(1)], &other), []);
}

// cross_payer_duplicate

fn key() -> FingerprintKey {
    FingerprintKey::new(1, vec![9; 32]).unwrap()
}

fn person() -> PersonIdentity {
    PersonIdentity { family_name: "Rivera".into(), given_name: "Ana".into(), birth_date: date!(1958 - 03 - 09), sex: Sex::Female }
}

fn fingerprinted(mut claim: ClaimFacts, key: &FingerprintKey) -> ClaimFacts {
    claim.fingerprint_key_id = Some(key.id());
    claim.person = Some(person_fingerprint(key, &person()));
    let npi = claim.billing_npi.clone();
    for line in &mut claim.lines {
        line.fingerprint = Some(fingerprint(key, &person(), &npi, line.service_date, &line.code));
    }
    claim
}

fn at_payer_b(claim: ClaimFacts) -> ClaimFacts {
    ClaimFacts { payer_id: "PAYER-B".into(), member_id: "B-77".into(), ..claim }
}

#[test]
fn the_same_service_billed_to_a_second_payer_is_a_cross_payer_duplicate() {
    let first = fingerprinted(visit(1), &key());
    let second = fingerprinted(at_payer_b(visit(2)), &key());
    let found = check(Reference::new(), &[first], &second);
    assert_eq!(patterns(&found), [Pattern::CrossPayerDuplicate]);
    assert_eq!(found[0].duplicates, Some(id(1)));
    assert_eq!(found[0].evidence[1].payer_id, "PAYER-A");
    assert_eq!(found[0].score, 1.0);
}

#[test]
fn a_cob_secondary_claim_is_not_a_double_bill() {
    let first = fingerprinted(visit(1), &key());
    let secondary = ClaimFacts { cob_secondary: true, ..fingerprinted(at_payer_b(visit(2)), &key()) };
    assert_eq!(check(Reference::new(), &[first], &secondary), []);
}

#[test]
fn fingerprints_under_another_key_do_not_match() {
    let first = fingerprinted(visit(1), &key());
    let rotated = FingerprintKey::new(2, vec![10; 32]).unwrap();
    let second = fingerprinted(at_payer_b(visit(2)), &rotated);
    assert_eq!(check(Reference::new(), &[first], &second), []);
}

#[test]
fn another_persons_service_at_another_payer_is_no_duplicate() {
    let first = fingerprinted(visit(1), &key());
    let mut second = at_payer_b(visit(2));
    second.fingerprint_key_id = Some(1);
    for line in &mut second.lines {
        line.fingerprint = Some(fingerprint(&key(), &PersonIdentity { given_name: "Ada".into(), ..person() }, "1111111112", line.service_date, &line.code));
    }
    assert_eq!(check(Reference::new(), &[first], &second), []);
}

// unbundling

/// An NCCI edit in force from 2020 on: `indicator` 0, 1 or 9.
fn edit(comprehensive: &str, component: &str, indicator: u8) -> PtpEdit {
    PtpEdit {
        column_one: CodeKey::parse(comprehensive).unwrap(),
        column_two: CodeKey::parse(component).unwrap(),
        prior_1996: false,
        effective: date!(2020 - 01 - 01),
        deletion: None,
        modifier_indicator: [ModifierIndicator::NotAllowed, ModifierIndicator::Allowed, ModifierIndicator::NotApplicable][usize::from(indicator.min(2))],
    }
}

fn table(edits: Vec<PtpEdit>) -> Arc<NcciTable> {
    Arc::new(NcciTable::from_edits(Setting::Practitioner, edits))
}

/// PAYER-A's edits (the payer of `claim`), one version in force since 2020.
fn ncci() -> Reference {
    let mut reference = Reference::new();
    let edits = vec![edit("80053", "80048", 0), edit("29881", "29877", 1), edit("20610", "99213", 1)];
    reference.add_ncci_version("PAYER-A", date!(2020 - 01 - 01), None, table(edits));
    reference
}

#[test]
fn a_component_billed_beside_its_comprehensive_code_is_unbundling() {
    let split = claim(1, vec![line("80053", DAY, 4_000), line("80048", DAY, 3_000)]);
    let found = check(ncci(), &[], &split);
    assert_eq!(patterns(&found), [Pattern::Unbundling]);
    assert!(found[0].reason.contains("80048 is included in 80053"), "{}", found[0].reason);
}

#[test]
fn a_distinct_service_modifier_bypasses_a_pair_that_allows_one_only() {
    let mut knee = claim(1, vec![line("29881", DAY, 90_000), line("29877", DAY, 40_000)]);
    knee.lines[1].modifiers = vec!["59".into()];
    assert_eq!(check(ncci(), &[], &knee), []);
    let mut panel = claim(2, vec![line("80053", DAY, 4_000), line("80048", DAY, 3_000)]);
    panel.lines[1].modifiers = vec!["59".into()];
    assert_eq!(patterns(&check(ncci(), &[], &panel)), [Pattern::Unbundling]);
}

#[test]
fn the_pair_split_over_two_claims_flags_the_second() {
    let first = claim(1, vec![line("80053", DAY, 4_000)]);
    let second = claim(2, vec![line("80048", DAY, 3_000)]);
    let found = check(ncci(), &[first], &second);
    assert_eq!(patterns(&found), [Pattern::Unbundling]);
    assert_eq!((found[0].claim_ids.clone(), found[0].duplicates), (vec![id(2)], Some(id(1))));
}

#[test]
fn any_ncci_associated_modifier_on_either_line_lifts_an_indicator_1_pair_as_adjudication_does() {
    // The demo payer's joint injection with the visit: 25 on the visit (column two), or RT on the injection (column one).
    for (visit_modifiers, injection_modifiers) in [(vec!["25"], vec![]), (vec![], vec!["RT"]), (vec!["25"], vec!["RT"]), (vec![], vec!["57"])] {
        let mut encounter = claim(1, vec![line("99213", DAY, 12_000), line("20610", DAY, 14_000)]);
        encounter.lines[0].modifiers = visit_modifiers.iter().map(|m| (*m).to_owned()).collect();
        encounter.lines[1].modifiers = injection_modifiers.iter().map(|m| (*m).to_owned()).collect();
        assert_eq!(check(ncci(), &[], &encounter), [], "{visit_modifiers:?} {injection_modifiers:?}");
    }
    let bare = claim(2, vec![line("99213", DAY, 12_000), line("20610", DAY, 14_000)]);
    assert_eq!(patterns(&check(ncci(), &[], &bare)), [Pattern::Unbundling]);
    let mut not_associated = bare.clone();
    not_associated.lines[0].modifiers = vec!["26".into()];
    assert_eq!(patterns(&check(ncci(), &[], &not_associated)), [Pattern::Unbundling]);
}

#[test]
fn another_payers_pairs_are_not_applied_to_a_claim() {
    let mut reference = Reference::new();
    reference.add_ncci_version("PAYER-B", date!(2020 - 01 - 01), None, table(vec![edit("20610", "99213", 1)]));
    let encounter = claim(1, vec![line("99213", DAY, 12_000), line("20610", DAY, 14_000)]);
    assert_eq!(check(reference.clone(), &[], &encounter), [], "PAYER-B's pair on PAYER-A's claim");
    reference.add_ncci_version("PAYER-A", date!(2020 - 01 - 01), None, table(vec![edit("80053", "80048", 0)]));
    assert_eq!(check(reference.clone(), &[], &encounter), [], "PAYER-A has edits, but not this pair");
    let mut at_b = encounter.clone();
    at_b.payer_id = "PAYER-B".into();
    assert_eq!(patterns(&check(reference, &[], &at_b)), [Pattern::Unbundling]);
}

#[test]
fn an_edit_applies_from_its_effective_date_through_its_deletion_date_only() {
    let mut dated = edit("80053", "80048", 0);
    dated.effective = DAY;
    dated.deletion = Some(DAY + time::Duration::days(10));
    let mut reference = Reference::new();
    reference.add_ncci_version("PAYER-A", date!(2020 - 01 - 01), None, table(vec![dated]));
    let on = |date: Date| claim(1, vec![line("80053", date, 4_000), line("80048", date, 3_000)]);
    assert_eq!(check(reference.clone(), &[], &on(DAY.previous_day().unwrap())), [], "before the effective date");
    assert_eq!(patterns(&check(reference.clone(), &[], &on(DAY))), [Pattern::Unbundling]);
    assert_eq!(patterns(&check(reference.clone(), &[], &on(DAY + time::Duration::days(10)))), [Pattern::Unbundling], "the deletion date is the last day");
    assert_eq!(check(reference, &[], &on(DAY + time::Duration::days(11))), [], "after the deletion date");
}

#[test]
fn indicator_9_does_nothing_and_supersedes_the_pairs_earlier_row() {
    let mut deleted = edit("80053", "80048", 9);
    deleted.effective = date!(2024 - 01 - 01);
    let mut reference = Reference::new();
    reference.add_ncci_version("PAYER-A", date!(2020 - 01 - 01), None, table(vec![edit("80053", "80048", 0), deleted]));
    let panel = claim(1, vec![line("80053", DAY, 4_000), line("80048", DAY, 3_000)]);
    assert_eq!(check(reference.clone(), &[], &panel), []);
    let old_panel = claim(2, vec![line("80053", date!(2023 - 06 - 01), 4_000), line("80048", date!(2023 - 06 - 01), 3_000)]);
    assert_eq!(patterns(&check(reference, &[], &old_panel)), [Pattern::Unbundling], "the indicator-0 row is in force before the 9");
}

#[test]
fn the_payers_table_version_in_force_on_the_date_of_service_is_the_one_read() {
    // Version 1 pairs the panel; version 2, from DAY, does not; version 3, from DAY + 20 and ending DAY + 30, pairs it again.
    let mut reference = Reference::new();
    reference.add_ncci_version("PAYER-A", date!(2020 - 01 - 01), None, table(vec![edit("80053", "80048", 0)]));
    reference.add_ncci_version("PAYER-A", DAY, None, table(vec![edit("29881", "29877", 1)]));
    reference.add_ncci_version("PAYER-A", DAY + time::Duration::days(20), Some(DAY + time::Duration::days(30)), table(vec![edit("80053", "80048", 0)]));
    let on = |date: Date| claim(1, vec![line("80053", date, 4_000), line("80048", date, 3_000)]);
    assert_eq!(patterns(&check(reference.clone(), &[], &on(DAY.previous_day().unwrap()))), [Pattern::Unbundling], "version 1");
    assert_eq!(check(reference.clone(), &[], &on(DAY)), [], "version 2 has no such pair");
    assert_eq!(patterns(&check(reference.clone(), &[], &on(DAY + time::Duration::days(29)))), [Pattern::Unbundling], "version 3");
    assert_eq!(check(reference.clone(), &[], &on(DAY + time::Duration::days(30))), [], "version 3 ended; no version is in force");
    // A corrected upload for the same effective date replaces the version.
    reference.add_ncci_version("PAYER-A", date!(2020 - 01 - 01), None, table(vec![]));
    assert_eq!(check(reference, &[], &on(DAY.previous_day().unwrap())), [], "version 1 corrected");
}

#[test]
fn the_pair_on_two_different_days_is_not_unbundling() {
    let split = claim(1, vec![line("80053", DAY, 4_000), line("80048", DAY.next_day().unwrap(), 3_000)]);
    assert_eq!(check(ncci(), &[], &split), []);
}

// excluded_provider

fn excluded_from(from: Date, until: Option<Date>) -> Reference {
    let mut reference = Reference::new();
    reference.add_exclusion("1111111112", ExclusionPeriod { from, until });
    reference
}

#[test]
fn a_service_on_or_after_the_exclusion_is_flagged_and_one_before_is_not() {
    assert_eq!(patterns(&check(excluded_from(DAY, None), &[], &visit(1))), [Pattern::ExcludedProvider]);
    assert_eq!(check(excluded_from(DAY.next_day().unwrap(), None), &[], &visit(1)), []);
}

#[test]
fn a_reinstated_provider_is_not_flagged_and_an_excluded_rendering_provider_is() {
    assert_eq!(check(excluded_from(date!(2025 - 01 - 01), Some(DAY)), &[], &visit(1)), []);
    let mut reference = Reference::new();
    reference.add_exclusion("3333333334", ExclusionPeriod { from: date!(2025 - 01 - 01), until: None });
    let rendered = ClaimFacts { rendering_npi: Some("3333333334".into()), ..visit(1) };
    let found = check(reference, &[], &rendered);
    assert_eq!(patterns(&found), [Pattern::ExcludedProvider]);
    assert_eq!(found[0].npi.as_deref(), Some("3333333334"));
}

// after_death

#[test]
fn a_service_after_death_is_flagged_and_one_on_the_day_of_death_is_not() {
    let mut reference = Reference::new();
    reference.add_member_death("PAYER-A", "A-0001", DAY.previous_day().unwrap());
    assert_eq!(patterns(&check(reference, &[], &visit(1))), [Pattern::AfterDeath]);
    let mut reference = Reference::new();
    reference.add_member_death("PAYER-A", "A-0001", DAY);
    assert_eq!(check(reference, &[], &visit(1)), []);
}

#[test]
fn a_death_another_payer_recorded_reaches_the_person_through_the_fingerprint() {
    let mut reference = Reference::new();
    reference.add_person_death(1, person_fingerprint(&key(), &person()), date!(2026 - 10 - 01));
    let at_b = fingerprinted(at_payer_b(visit(1)), &key());
    assert_eq!(patterns(&check(reference, &[], &at_b)), [Pattern::AfterDeath]);
}

// impossible_day

fn timed(n: u128, npi: &str, visits: u32) -> ClaimFacts {
    let mut timed = claim(n, (0..visits).map(|_| line("99215", DAY, 20_000)).collect());
    timed.billing_npi = npi.into();
    timed.member_id = format!("M-{n}");
    timed
}

fn minutes() -> Reference {
    let mut reference = Reference::new();
    reference.add_standard_minutes();
    reference
}

#[test]
fn a_provider_billing_more_than_sixteen_hours_in_a_day_is_flagged_once() {
    // 99215 is 40 minutes: 24 visits are 960 minutes (allowed), the 25th passes.
    let given: Vec<ClaimFacts> = (1..=24).map(|n| timed(n, "1111111112", 1)).collect();
    let found = check(minutes(), &given, &timed(25, "1111111112", 1));
    assert_eq!(patterns(&found), [Pattern::ImpossibleDay]);
    assert_eq!((found[0].npi.as_deref(), found[0].date), (Some("1111111112"), Some(DAY)));
    assert_eq!(found[0].claim_ids.len(), 25);
    let mut given = given;
    given.push(timed(25, "1111111112", 1));
    assert_eq!(check(minutes(), &given, &timed(26, "1111111112", 1)), []);
}

#[test]
fn sixteen_hours_exactly_or_spread_over_providers_is_not_an_impossible_day() {
    let given: Vec<ClaimFacts> = (1..=23).map(|n| timed(n, "1111111112", 1)).collect();
    assert_eq!(check(minutes(), &given, &timed(24, "1111111112", 1)), []);
    assert_eq!(check(minutes(), &given, &timed(24, "2222222223", 2)), []);
}

#[test]
fn units_multiply_a_timed_codes_minutes() {
    let mut therapy = claim(1, vec![line("97110", DAY, 3_000)]);
    therapy.lines[0].units = 65; // 975 minutes
    assert_eq!(patterns(&check(minutes(), &[], &therapy)), [Pattern::ImpossibleDay]);
}

// velocity_spike

fn received(n: u128, npi: &str, day: Date) -> ClaimFacts {
    let mut one = claim(n, vec![line("99213", day, 12_500)]);
    one.billing_npi = npi.into();
    one.member_id = format!("M-{n}");
    one.received = day;
    one
}

/// `per_day` claims a day for `days` days from 2026-10-01, then `spike` claims on the next day; the findings of the spike day.
fn velocity_run(per_day: &[u32], spike: u32) -> Vec<Finding> {
    let mut scanner = Scanner::new(Reference::new(), ScanConfig::standard());
    let start = date!(2026 - 10 - 01);
    let mut n = 0u128;
    for (day_idx, count) in per_day.iter().enumerate() {
        for _ in 0..*count {
            n += 1;
            assert_eq!(scanner.observe(&received(n, "1111111112", start + time::Duration::days(day_idx as i64))), []);
        }
    }
    let spike_day = start + time::Duration::days(per_day.len() as i64);
    let mut found = Vec::new();
    for _ in 0..spike {
        n += 1;
        found.extend(scanner.observe(&received(n, "1111111112", spike_day)));
    }
    found
}

#[test]
fn a_day_of_five_times_the_usual_claims_is_a_velocity_spike_flagged_once() {
    let found = velocity_run(&[8; 28], 50);
    assert_eq!(patterns(&found), [Pattern::VelocitySpike]);
    assert_eq!(found[0].npi.as_deref(), Some("1111111112"));
}

#[test]
fn a_weekly_batch_submitter_or_a_short_history_is_no_spike() {
    let weekly: Vec<u32> = (0..28).map(|day| if day % 7 == 0 { 56 } else { 0 }).collect();
    assert_eq!(velocity_run(&weekly, 60), []);
    assert_eq!(velocity_run(&[8; 3], 60), []);
    assert_eq!(velocity_run(&[8; 28], 30), []);
}

// upcoding

/// `n_providers` family physicians with a usual E/M mix, and one billing `levels` (counts of 99211..99215); the findings at close.
fn upcoding_run(levels: [u32; 5]) -> (Vec<Finding>, Vec<crate::scanner::PeerScore>) {
    let mut scanner = Scanner::new(Reference::new(), ScanConfig::standard());
    let usual = [2u32, 10, 45, 35, 8];
    let mut n = 0u128;
    for provider_idx in 0..8u32 {
        let mix = if provider_idx == 0 { levels } else { usual };
        for (level_idx, count) in mix.iter().enumerate() {
            for _ in 0..*count {
                n += 1;
                let mut one = received(n, &format!("10000000{provider_idx:02}"), DAY);
                one.lines[0].code = format!("9921{}", level_idx + 1);
                scanner.observe(&one);
            }
        }
    }
    let scores = scanner.peer_scores();
    (scanner.close_window(), scores)
}

#[test]
fn a_provider_billing_mostly_level_five_is_flagged_for_upcoding_against_its_peers() {
    let (found, scores) = upcoding_run([0, 2, 10, 30, 58]);
    assert_eq!(patterns(&found), [Pattern::Upcoding]);
    assert_eq!(found[0].npi.as_deref(), Some("1000000000"));
    assert_eq!(scores.len(), 8);
    assert!(scores[0].score > 0.3 && scores[1..].iter().all(|score| score.score == 0.0), "{scores:?}");
}

#[test]
fn a_provider_with_the_usual_mix_or_too_few_visits_is_not_flagged() {
    assert_eq!(upcoding_run([3, 9, 44, 36, 8]).0, []);
    let (found, scores) = upcoding_run([0, 0, 0, 5, 20]);
    assert_eq!(found, []);
    assert!(scores.iter().all(|score| score.npi != "1000000000"));
}

#[test]
fn close_window_starts_the_counts_again() {
    let mut scanner = Scanner::new(Reference::new(), ScanConfig::standard());
    scanner.observe(&visit(1));
    assert_eq!(scanner.close_window(), []);
    assert_eq!(scanner.peer_scores(), []);
}

// bounded state

#[test]
fn claims_beyond_the_window_or_the_cap_are_let_go() {
    let config = ScanConfig { claims_held_max: 10, ..ScanConfig::standard() };
    let mut scanner = Scanner::new(Reference::new(), config);
    for n in 0..25u128 {
        scanner.observe(&claim(n, vec![line("99213", DAY, 100 + n as i64)]));
    }
    assert_eq!(scanner.n_claims_held(), 10);
    let later = DAY + time::Duration::days(200);
    scanner.observe(&claim(99, vec![line("99213", later, 100)]));
    assert_eq!(scanner.n_claims_held(), 1);
    // The first claim is gone: billing it again finds nothing.
    assert_eq!(scanner.observe(&claim(100, vec![line("99213", DAY, 100)])), []);
}

proptest! {
    /// Any claim billed twice is found as an exact duplicate of the first, whatever its lines,
    /// and the scan is deterministic: the same claims give the same findings.
    #[test]
    fn any_claim_billed_twice_is_an_exact_duplicate(
        lines in proptest::collection::vec(("99[0-9]{3}", 0i64..100_000, 1u32..4, 0i64..30), 1..6),
    ) {
        let lines: Vec<LineFacts> = lines.into_iter().map(|(code, charge, units, offset)| LineFacts { units, ..line(&code, DAY + time::Duration::days(offset), charge) }).collect();
        let first = claim(1, lines.clone());
        let second = claim(2, lines);
        let found = check(Reference::new(), std::slice::from_ref(&first), &second);
        prop_assert_eq!(patterns(&found), vec![Pattern::ExactDuplicate]);
        prop_assert_eq!(check(Reference::new(), &[first], &second), found);
    }

    /// A claim alone, on its first sight, raises no duplicate of any kind.
    #[test]
    fn a_claim_alone_is_no_duplicate(
        lines in proptest::collection::vec(("[0-9]{5}", 0i64..100_000), 1..6),
    ) {
        let lines: Vec<LineFacts> = lines.into_iter().map(|(code, charge)| line(&code, DAY, charge)).collect();
        let found = check(Reference::new(), &[], &claim(1, lines));
        prop_assert!(found.iter().all(|finding| !matches!(finding.pattern, Pattern::ExactDuplicate | Pattern::NearDuplicate | Pattern::CrossPayerDuplicate)));
    }
}
