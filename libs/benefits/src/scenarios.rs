//! The benefit, accumulator, correction and COB scenarios of
//! claims-domain.md, section (c), to the cent, on the pure core.

use claimtrail_codes::{Carc, ClaimId, GroupCode, MemberId};
use claimtrail_events::{Adjustment, Money, Outcome};
use serde_json::json;

use crate::*;

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn member(id: &str) -> MemberId {
    MemberId::parse(id).unwrap()
}

fn claim_version(n: u32) -> ClaimVersion {
    ClaimVersion { claim_id: ClaimId::parse(&format!("0190f3a4-7c1e-7d2b-9a41-5f0c3e2d1b{n:02x}")).unwrap(), version: 1 }
}

fn adjustment(group: GroupCode, reason: Carc, amount: &str) -> Adjustment {
    Adjustment { group, reason, amount: money(amount) }
}

fn pr(reason: Carc, amount: &str) -> Adjustment {
    adjustment(GroupCode::Pr, reason, amount)
}

/// A plan: INN deductible 500/1,000, OOP 3,000/6,000, coinsurance 20%;
/// office visits (99202-99215 at POS 11) copay 25 and no deductible.
fn plan_json(family_rule: &str, copay_counts: bool) -> serde_json::Value {
    json!({
        "name": "Copay PPO",
        "categories": ["medical", "office_visit"],
        "default_category": "medical",
        "category_map": [{"category": "office_visit", "codes": ["99202-99215"], "places_of_service": ["11"]}],
        "family_deductible": family_rule,
        "family_oop_max": family_rule,
        "tiers": {
            "inn": {
                "deductible": {"individual": "500.00", "family": "1000.00"},
                "oop_max": {"individual": "3000.00", "family": "6000.00"},
                "coinsurance_percent": "20",
                "category_benefits": [{"category": "office_visit", "copay": "25.00", "skips_deductible": true, "coinsurance_percent": "0", "copay_counts_toward_oop": copay_counts}]
            },
            "oon": {
                "deductible": {"individual": "1000.00", "family": "2000.00"},
                "oop_max": {"individual": "6000.00", "family": "12000.00"},
                "coinsurance_percent": "40"
            }
        }
    })
}

fn plan() -> CompiledPlan {
    Plan::from_json(plan_json("embedded", true).to_string().as_bytes()).unwrap()
}

fn line(sequence: u32, code: &str, allowed: &str) -> BenefitLine {
    BenefitLine { sequence, procedure_code: code.into(), place_of_service: Some("22".into()), allowed: money(allowed), denied: false }
}

fn claim(n: u32, member_id: &str, family: Option<&str>, lines: Vec<BenefitLine>) -> BenefitClaim {
    BenefitClaim { claim: claim_version(n), member_id: member(member_id), family_id: family.map(member), plan_year: 2026, tier: Tier::Inn, lines }
}

fn imported(rows: &[(&str, Bucket, &str)]) -> Accumulators {
    let entries =
        rows.iter().map(|(id, bucket, amount)| AccumulatorEntry { member_id: member(id), plan_year: 2026, bucket: *bucket, amount: money(amount) }).collect();
    Accumulators::fold([&AccumulatorEvent::Imported(AccumulatorsImported { source_sha3: "test".into(), entries })])
}

fn decide(plan: &CompiledPlan, state: &mut Accumulators, claim: &BenefitClaim) -> ClaimBenefits {
    let benefits = cost_share(plan, claim, state).unwrap();
    state.apply(&AccumulatorEvent::Applied(benefits.applied.clone()));
    benefits
}

/// Scenario 4: deductible partly met, then coinsurance.
#[test]
fn scenario_4_deductible_partly_met_then_coinsurance() {
    let plan = plan();
    let mut state = imported(&[("M1", Bucket::DeductibleInnIndividual, "350.00"), ("M1", Bucket::OopInnIndividual, "1000.00")]);
    let charge = money("400.00");
    let contractual = adjustment(GroupCode::Co, Carc::FEE_SCHEDULE, "150.00"); // pricing: charge 400, allowed 250
    let benefits = decide(&plan, &mut state, &claim(1, "M1", None, vec![line(1, "J1100", "250.00")]));
    let result = &benefits.lines[0];
    assert_eq!(result.adjustments, vec![pr(Carc::DEDUCTIBLE, "150.00"), pr(Carc::COINSURANCE, "20.00")]);
    assert_eq!(result.paid, money("80.00"));
    assert_eq!(benefits.patient_share, money("170.00"), "CLP05");
    let cas_total = Money::checked_sum(result.adjustments.iter().chain([&contractual]).map(|a| &a.amount)).unwrap();
    assert_eq!(charge.checked_sub(cas_total), Some(result.paid), "400 − 150 − 150 − 20 = 80");
    assert_eq!(state.met(&member("M1"), 2026, Bucket::DeductibleInnIndividual), money("500.00"));
    assert_eq!(state.met(&member("M1"), 2026, Bucket::OopInnIndividual), money("1170.00"));
    assert_eq!(
        benefits.position_after[0],
        BucketPosition { bucket: Bucket::DeductibleInnIndividual, member_id: member("M1"), met: money("500.00"), limit: money("500.00") }
    );
    let steps: Vec<(BenefitRule, Money, Money)> = result.steps.iter().map(|step| (step.rule, step.before, step.after)).collect();
    assert_eq!(steps, vec![(BenefitRule::Deductible, money("250.00"), money("100.00")), (BenefitRule::Coinsurance, money("100.00"), money("80.00"))]);
    assert_eq!(result.steps[1].detail, "coinsurance 20% of 100.00 = 20.00");
    assert_eq!(benefits.outcome, Outcome::Paid);
}

/// Scenario 5: the out-of-pocket maximum is hit mid-claim; later claims pay 100%.
#[test]
fn scenario_5_oop_maximum_hit_mid_claim() {
    let plan = plan();
    let mut state = imported(&[("M1", Bucket::DeductibleInnIndividual, "500.00"), ("M1", Bucket::OopInnIndividual, "2990.00")]);
    let benefits = decide(&plan, &mut state, &claim(1, "M1", None, vec![line(1, "J1100", "500.00")]));
    assert_eq!(benefits.lines[0].adjustments, vec![pr(Carc::COINSURANCE, "10.00")]);
    assert_eq!(benefits.lines[0].paid, money("490.00"));
    let cap = benefits.lines[0].steps.last().unwrap();
    assert_eq!((cap.rule, cap.before, cap.after), (BenefitRule::OopMaximum, money("400.00"), money("490.00")));
    assert_eq!(state.met(&member("M1"), 2026, Bucket::OopInnIndividual), money("3000.00"));
    let later = decide(&plan, &mut state, &claim(2, "M1", None, vec![line(1, "J1100", "300.00")]));
    assert_eq!((later.lines[0].paid, later.lines[0].adjustments.len()), (money("300.00"), 0), "100% of allowed once the maximum is met");
    assert_eq!(later.outcome, Outcome::Paid);
}

/// Scenario 5, family rule: on a non-embedded plan only the family deductible applies.
#[test]
fn scenario_5_non_embedded_family_only_the_family_deductible_applies() {
    let non_embedded = Plan::from_json(plan_json("non_embedded", true).to_string().as_bytes()).unwrap();
    let embedded = plan();
    let position = imported(&[("M1", Bucket::DeductibleInnIndividual, "500.00"), ("S1", Bucket::DeductibleInnFamily, "500.00")]);
    let claim = claim(1, "M1", Some("S1"), vec![line(1, "J1100", "300.00")]);
    // Embedded: M1 met the individual 500, so no deductible; coinsurance 60.
    let benefits = cost_share(&embedded, &claim, &position).unwrap();
    assert_eq!(benefits.lines[0].adjustments, vec![pr(Carc::COINSURANCE, "60.00")]);
    // Non-embedded: the family has 500 of 1,000 left, so M1 pays deductible 300.
    let benefits = cost_share(&non_embedded, &claim, &position).unwrap();
    assert_eq!(benefits.lines[0].adjustments, vec![pr(Carc::DEDUCTIBLE, "300.00")]);
    assert_eq!(benefits.lines[0].paid, money("0.00"));
    assert_eq!(benefits.outcome, Outcome::Paid, "zero paid because of cost sharing is paid");
    let buckets: Vec<(Bucket, &str, Money)> = benefits.applied.entries.iter().map(|e| (e.bucket, e.member_id.as_ref(), e.amount)).collect();
    assert_eq!(
        buckets,
        vec![
            (Bucket::DeductibleInnIndividual, "M1", money("300.00")),
            (Bucket::DeductibleInnFamily, "S1", money("300.00")),
            (Bucket::OopInnIndividual, "M1", money("300.00")),
            (Bucket::OopInnFamily, "S1", money("300.00")),
        ]
    );
}

/// Embedded family deductible: a member stops at the individual limit, everyone at the family's.
#[test]
fn embedded_family_the_family_limit_stops_every_member() {
    let plan = plan();
    let position = imported(&[("M2", Bucket::DeductibleInnIndividual, "100.00"), ("S1", Bucket::DeductibleInnFamily, "950.00")]);
    let benefits = cost_share(&plan, &claim(1, "M2", Some("S1"), vec![line(1, "J1100", "300.00")]), &position).unwrap();
    assert_eq!(benefits.lines[0].adjustments, vec![pr(Carc::DEDUCTIBLE, "50.00"), pr(Carc::COINSURANCE, "50.00")]);
    assert_eq!(benefits.lines[0].paid, money("200.00"));
}

/// INN and OON buckets do not count toward each other.
#[test]
fn in_and_out_of_network_buckets_do_not_cross_count() {
    let plan = plan();
    let mut state = imported(&[("M1", Bucket::DeductibleInnIndividual, "500.00")]);
    let mut oon = claim(1, "M1", None, vec![line(1, "J1100", "300.00")]);
    oon.tier = Tier::Oon;
    let benefits = decide(&plan, &mut state, &oon);
    assert_eq!(benefits.lines[0].adjustments, vec![pr(Carc::DEDUCTIBLE, "300.00")], "the OON deductible of 1,000 is untouched by INN");
    assert_eq!(state.met(&member("M1"), 2026, Bucket::DeductibleOonIndividual), money("300.00"));
    assert_eq!(state.met(&member("M1"), 2026, Bucket::DeductibleInnIndividual), money("500.00"));
}

/// Scenario 6: an office visit with a copay, deductible bypassed.
#[test]
fn scenario_6_copay_visit_skips_the_deductible() {
    let plan = plan();
    let mut state = Accumulators::new();
    let mut visit = line(1, "99213", "120.00");
    visit.place_of_service = Some("11".into());
    let benefits = decide(&plan, &mut state, &claim(1, "M1", None, vec![visit.clone()]));
    let result = &benefits.lines[0];
    assert_eq!(result.category, "office_visit");
    assert_eq!(result.adjustments, vec![pr(Carc::COPAYMENT, "25.00")]);
    assert_eq!(result.paid, money("95.00"));
    assert_eq!(money("180.00").checked_sub(money("60.00")).and_then(|m| m.checked_sub(money("25.00"))), Some(result.paid), "CO-45 60, PR-3 25, paid 95");
    assert_eq!(state.met(&member("M1"), 2026, Bucket::DeductibleInnIndividual), Money::ZERO);
    assert_eq!(state.met(&member("M1"), 2026, Bucket::OopInnIndividual), money("25.00"), "the copay counts toward the OOP maximum");
    assert!(result.steps.iter().any(|step| step.rule == BenefitRule::Deductible && step.detail == "office_visit skips the deductible"));

    // A plan whose copays do not count: nothing accumulates, and the copay stays once the maximum is met.
    let not_counting = Plan::from_json(plan_json("embedded", false).to_string().as_bytes()).unwrap();
    let mut state = imported(&[("M1", Bucket::OopInnIndividual, "3000.00")]);
    let benefits = decide(&not_counting, &mut state, &claim(2, "M1", None, vec![visit]));
    assert_eq!(benefits.lines[0].adjustments, vec![pr(Carc::COPAYMENT, "25.00")]);
    assert!(benefits.applied.entries.is_empty());
}

/// Scenario 8's Medicare-like 80/20 plan after the deductible: 20% is PR-2, rounded half away from zero.
#[test]
fn scenario_8_eighty_twenty_after_the_deductible() {
    let plan = plan();
    let state = imported(&[("M1", Bucket::DeductibleInnIndividual, "500.00")]);
    let benefits = cost_share(&plan, &claim(1, "M1", None, vec![line(1, "J1100", "81.52"), line(2, "J1100", "60.01")]), &state).unwrap();
    assert_eq!(benefits.lines[0].adjustments, vec![pr(Carc::COINSURANCE, "16.30")]);
    assert_eq!(benefits.lines[0].paid, money("65.22"));
    assert_eq!(benefits.lines[1].adjustments, vec![pr(Carc::COINSURANCE, "12.00")]);
    assert_eq!(benefits.lines[1].paid, money("48.01"));
}

#[test]
fn coinsurance_rounds_half_away_from_zero_not_to_even() {
    let mut json = plan_json("embedded", true);
    json["tiers"]["inn"]["coinsurance_percent"] = json!("15");
    let plan = Plan::from_json(json.to_string().as_bytes()).unwrap();
    let state = imported(&[("M1", Bucket::DeductibleInnIndividual, "500.00")]);
    let benefits = cost_share(&plan, &claim(1, "M1", None, vec![line(1, "J1100", "10.30")]), &state).unwrap();
    assert_eq!(benefits.lines[0].coinsurance, money("1.55"), "15% of 10.30 = 1.545");
}

/// Lines share the deductible in line order; denied lines take no cost sharing.
#[test]
fn lines_meet_the_deductible_in_order_and_denied_lines_are_skipped() {
    let plan = plan();
    let state = imported(&[("M1", Bucket::DeductibleInnIndividual, "350.00")]);
    let mut denied = line(2, "J1100", "0.00");
    denied.denied = true;
    let benefits = cost_share(&plan, &claim(1, "M1", None, vec![line(1, "J1100", "100.00"), denied, line(3, "J1100", "200.00")]), &state).unwrap();
    assert_eq!(benefits.lines[0].adjustments, vec![pr(Carc::DEDUCTIBLE, "100.00")]);
    assert_eq!((benefits.lines[1].paid, benefits.lines[1].adjustments.len()), (Money::ZERO, 0));
    assert_eq!(benefits.lines[2].adjustments, vec![pr(Carc::DEDUCTIBLE, "50.00"), pr(Carc::COINSURANCE, "30.00")]);
    assert_eq!(benefits.lines[2].paid, money("120.00"));
    assert_eq!(
        benefits.applied.entries[0],
        AccumulatorEntry { member_id: member("M1"), plan_year: 2026, bucket: Bucket::DeductibleInnIndividual, amount: money("150.00") }
    );
    assert_eq!(benefits.outcome, Outcome::PartiallyPaid);
}

#[test]
fn the_claim_outcome_is_denied_only_when_every_line_was_denied() {
    assert_eq!(claim_outcome([true, true]), Outcome::Denied);
    assert_eq!(claim_outcome([true, false]), Outcome::PartiallyPaid);
    assert_eq!(claim_outcome([false, false]), Outcome::Paid);
    let plan = plan();
    let mut all_denied = claim(1, "M1", None, vec![line(1, "J1100", "100.00")]);
    all_denied.lines[0].denied = true;
    assert_eq!(cost_share(&plan, &all_denied, &Accumulators::new()).unwrap().outcome, Outcome::Denied);
}

#[test]
fn bad_claims_are_refused_with_the_reason() {
    let plan = plan();
    let mut state = Accumulators::new();
    let first = claim(1, "M1", None, vec![line(1, "J1100", "100.00")]);
    decide(&plan, &mut state, &first);
    assert_eq!(cost_share(&plan, &first, &state), Err(BenefitError::Accumulator(AccumulatorError::AlreadyApplied(claim_version(1)))));
    assert_eq!(cost_share(&plan, &claim(2, "M1", None, vec![]), &state), Err(BenefitError::NoLines));
    let negative = claim(3, "M1", None, vec![line(4, "J1100", "-1.00")]);
    assert_eq!(cost_share(&plan, &negative, &state).unwrap_err().to_string(), "line 4: the allowed amount -1.00 is negative");
}

/// Scenario 9: a replacement reverses A's entries, then applies B's: A paid 80, B pays 120.
#[test]
fn scenario_9_replacement_reverses_then_applies() {
    let plan = plan();
    let position = imported(&[("M1", Bucket::DeductibleInnIndividual, "350.00"), ("M1", Bucket::OopInnIndividual, "1000.00")]);
    let mut state = position.clone();
    let original = decide(&plan, &mut state, &claim(1, "M1", None, vec![line(1, "J1100", "250.00")]));
    assert_eq!(original.paid, money("80.00"));
    let mut replacement = claim(2, "M1", None, vec![line(1, "J1100", "300.00")]);
    replacement.claim = ClaimVersion { claim_id: claim_version(2).claim_id, version: 1 };
    let replayed = reverse_and_replay(&plan, &state, &claim_version(1), Some(&replacement), &[]).unwrap();
    let replaced = replayed.replacement.unwrap();
    assert_eq!(replaced.lines[0].adjustments, vec![pr(Carc::DEDUCTIBLE, "150.00"), pr(Carc::COINSURANCE, "30.00")]);
    assert_eq!(replaced.paid, money("120.00"));
    assert_eq!(replaced.paid.checked_sub(original.paid), Some(money("40.00")), "net effect on BPR +40");
    for event in &replayed.events {
        state.apply(event);
    }
    assert_eq!(state.met(&member("M1"), 2026, Bucket::DeductibleInnIndividual), money("500.00"));
    assert_eq!(state.met(&member("M1"), 2026, Bucket::OopInnIndividual), money("1180.00"));
    assert!(state.applied_entries(&claim_version(1)).is_none());
    assert!(replayed.corrections.is_empty());
}

/// Scenario 10: a void only reverses.
#[test]
fn scenario_10_void_only_reverses() {
    let plan = plan();
    let position = imported(&[("M1", Bucket::DeductibleInnIndividual, "350.00")]);
    let mut state = position.clone();
    decide(&plan, &mut state, &claim(1, "M1", None, vec![line(1, "J1100", "250.00")]));
    let replayed = reverse_and_replay(&plan, &state, &claim_version(1), None, &[]).unwrap();
    assert_eq!(replayed.events.len(), 1);
    for event in &replayed.events {
        state.apply(event);
    }
    assert_eq!(state.totals(), position.totals());
}

/// Reversing A gives its deductible back; B, decided after A with the
/// deductible met, is re-adjudicated and takes it: settlement recoups.
#[test]
fn reversing_a_claim_re_adjudicates_later_claims_that_used_its_deductible() {
    let plan = plan();
    let mut state = Accumulators::new();
    let a = claim(1, "M1", Some("S1"), vec![line(1, "J1100", "600.00")]);
    let b_input = claim(2, "M2", Some("S1"), vec![line(1, "J1100", "1000.00")]);
    let c_input = claim(3, "M1", Some("S1"), vec![line(1, "J1100", "200.00")]);
    decide(&plan, &mut state, &a); // M1: deductible 500, family 500
    let b = decide(&plan, &mut state, &b_input); // M2: deductible 500 -> family 1,000 met
    let c = decide(&plan, &mut state, &c_input); // M1: deductible met, coinsurance 40
    assert_eq!(b.lines[0].adjustments, vec![pr(Carc::DEDUCTIBLE, "500.00"), pr(Carc::COINSURANCE, "100.00")]);
    assert_eq!(c.lines[0].adjustments, vec![pr(Carc::COINSURANCE, "40.00")]);
    let d_input = claim(4, "M3", Some("S1"), vec![line(1, "J1100", "100.00")]); // M3: family met, coinsurance only
    let d = decide(&plan, &mut state, &d_input);
    assert_eq!(d.lines[0].adjustments, vec![pr(Carc::COINSURANCE, "20.00")]);

    let later = [RecordedClaim::new(b_input, &b), RecordedClaim::new(c_input, &c), RecordedClaim::new(d_input, &d)];
    let replayed = reverse_and_replay(&plan, &state, &claim_version(1), None, &later).unwrap();
    // B is unchanged (M2 met its own 500 either way). C now takes M1's deductible: 200, paid 0 (was 160).
    // D: the family has 500 of 1,000 met without A, so M3 now pays deductible 100 (was coinsurance 20): paid 0 (was 80).
    let summary: Vec<(ClaimId, u32, Money)> =
        replayed.corrections.iter().map(|c| (c.benefits.applied.claim.claim_id, c.benefits.applied.claim.version, c.paid_difference)).collect();
    assert_eq!(summary, vec![(claim_version(3).claim_id, 2, money("-160.00")), (claim_version(4).claim_id, 2, money("-80.00"))]);
    assert_eq!(replayed.corrections[0].lines[0].adjustments_after, vec![pr(Carc::DEDUCTIBLE, "200.00")]);
    assert_eq!(replayed.corrections[1].lines[0].adjustments_after, vec![pr(Carc::DEDUCTIBLE, "100.00")]);
    for event in &replayed.events {
        state.apply(event);
    }
    assert_eq!(state.met(&member("S1"), 2026, Bucket::DeductibleInnFamily), money("800.00"), "B 500 + C 200 + D 100");
    assert_eq!(state.met(&member("M1"), 2026, Bucket::DeductibleInnIndividual), money("200.00"));
    assert!(state.applied_entries(&claim_version(2)).is_some(), "B keeps its recorded version");
    assert!(state.applied_entries(&claim_version(3)).is_none(), "C's recorded version was reversed");
}

/// Scenario 12: the secondary (Medicaid) after Medicare; secondary allowed 365.
#[test]
fn scenario_12_secondary_pays_the_lesser_of() {
    let line = CobLine {
        sequence: 1,
        charge: money("500.00"),
        primary_allowed: money("375.00"),
        primary_paid: money("300.00"),
        primary_patient_share: money("75.00"),
        primary_patient_adjustments: vec![adjustment(GroupCode::Pr, Carc::DEDUCTIBLE, "75.00")],
        secondary_allowed: money("365.00"),
        secondary_benefit: money("365.00"),
    };
    let decision = secondary_line(CobMethod::LesserOf, &line).unwrap();
    assert_eq!(decision.paid, money("65.00"));
    assert_eq!(decision.adjustments, vec![adjustment(GroupCode::Oa, Carc::PRIOR_PAYER, "425.00"), adjustment(GroupCode::Co, Carc::FEE_SCHEDULE, "10.00")]);
    let total = Money::checked_sum(decision.adjustments.iter().map(|a| &a.amount)).and_then(|sum| sum.checked_add(decision.paid));
    assert_eq!(total, Some(money("500.00")), "65 + 425 + 10 = 500, patient balance 0");
    assert!(decision.adjustments.iter().all(|a| a.group != GroupCode::Pr));

    // The patient share bounds it: with a secondary allowed of 400, pay 75 and no CO-45.
    let generous = secondary_line(CobMethod::LesserOf, &CobLine { secondary_allowed: money("400.00"), ..line.clone() }).unwrap();
    assert_eq!((generous.paid, generous.adjustments.len()), (money("75.00"), 1));
    // Below the primary's payment: pay nothing.
    let stingy = secondary_line(CobMethod::LesserOf, &CobLine { secondary_allowed: money("250.00"), ..line.clone() }).unwrap();
    assert_eq!(stingy.paid, Money::ZERO);
    assert_eq!(stingy.adjustments[1], adjustment(GroupCode::Co, Carc::FEE_SCHEDULE, "75.00"));
    // Figures that cannot be: refused, naming the line.
    let impossible = CobLine { primary_paid: money("350.00"), ..line };
    assert_eq!(
        secondary_claim(CobMethod::LesserOf, &[impossible]).unwrap_err().to_string(),
        "line 1: the primary's payment 350.00 and patient share 75.00 are more than its allowed 375.00"
    );
}
