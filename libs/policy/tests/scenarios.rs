//! The worked scenarios of the claims domain primer (section c) that this
//! crate owns, to the cent, on the fixtures in tests/fixtures (CMS shapes,
//! synthetic or HCPCS Level II codes).

use claimtrail_codes::{Carc, GroupCode, Rarc};
use claimtrail_events::Money;
use claimtrail_policy::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use time::Date;
use time::macros::date;
use uuid::Uuid;

const DOS: Date = date!(2026 - 03 - 02);
const RENDERING: &str = "1000000004";
const BILLING: &str = "1000000012";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("fixture {path}: {error}"))
}

fn claim(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn line(claim_id: Uuid, sequence: u32, code: &str, modifiers: &[&str], units: Decimal, charge_cents: i64) -> EditLine {
    EditLine {
        claim_id,
        sequence,
        procedure_code: code.to_owned(),
        modifiers: modifiers.iter().map(|modifier| (*modifier).to_owned()).collect(),
        units,
        charge: Money::from_cents(charge_cents),
        rendering_npi: RENDERING.to_owned(),
        billing_npi: BILLING.to_owned(),
        member_id: "M-1".to_owned(),
        service_date: DOS,
        place_of_service: Some("11".to_owned()),
        status: LineStatus::Submitted,
    }
}

fn paid(mut line: EditLine) -> EditLine {
    line.status = LineStatus::Paid;
    line
}

fn ncci() -> NcciTable {
    NcciTable::load(fixture("ncci_practitioner.csv").as_slice()).expect("NCCI fixture loads")
}

fn mues() -> MueTable {
    MueTable::load(fixture("mue_practitioner.csv").as_slice()).expect("MUE fixture loads")
}

fn denied_with(findings: &[Finding], sequence: u32, carc: &str) -> bool {
    findings.iter().any(|finding| finding.sequence == sequence && matches!(&finding.action, Action::Deny { cas, .. } if cas.carc.as_ref() == carc))
}

// Scenario 1: NCCI PTP.

#[test]
fn scenario_1_the_column_two_line_is_denied_co_97_for_its_full_charge() {
    let current = [line(claim(1), 1, "G0101", &[], dec!(1), 10_000), line(claim(1), 2, "G0102", &[], dec!(1), 4_000)];
    let findings = ncci_edits(&ncci(), &current, &[]);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].sequence, 2);
    assert_eq!(findings[0].action, Action::Deny { cas: Cas { group: GroupCode::Co, carc: Carc::BUNDLED, amount: Money::from_cents(4_000) }, remarks: vec![] });
}

#[test]
fn scenario_1_an_ncci_associated_modifier_lifts_indicator_1() {
    for modifier in ["59", "XE", "XS", "XP", "XU", "RT", "F5"] {
        let current = [line(claim(1), 1, "G0101", &[], dec!(1), 10_000), line(claim(1), 2, "G0102", &[modifier], dec!(1), 4_000)];
        assert!(ncci_edits(&ncci(), &current, &[]).is_empty(), "{modifier} lifts the edit");
    }
}

#[test]
fn scenario_1_indicator_0_is_never_lifted() {
    let current = [line(claim(1), 1, "G0101", &[], dec!(1), 10_000), line(claim(1), 2, "G0103", &["59"], dec!(1), 4_000)];
    assert!(denied_with(&ncci_edits(&ncci(), &current, &[]), 2, "97"));
}

#[test]
fn scenario_1_indicator_9_and_a_date_after_the_deletion_date_do_nothing() {
    let current =
        [line(claim(1), 1, "G0101", &[], dec!(1), 10_000), line(claim(1), 2, "G0104", &[], dec!(1), 4_000), line(claim(1), 3, "G0106", &[], dec!(1), 4_000)];
    assert!(ncci_edits(&ncci(), &current, &[]).is_empty());
}

#[test]
fn scenario_1_a_different_rendering_provider_is_not_edited() {
    let mut other = line(claim(1), 2, "G0102", &[], dec!(1), 4_000);
    other.rendering_npi = "1000000020".to_owned();
    let current = [line(claim(1), 1, "G0101", &[], dec!(1), 10_000), other];
    assert!(ncci_edits(&ncci(), &current, &[]).is_empty());
}

#[test]
fn scenario_1_the_pair_is_found_across_the_providers_other_claims() {
    let history = [paid(line(claim(9), 1, "G0101", &[], dec!(1), 10_000))];
    let current = [line(claim(1), 1, "G0102", &[], dec!(1), 4_000)];
    assert!(denied_with(&ncci_edits(&ncci(), &current, &history), 1, "97"));
}

#[test]
fn scenario_1_a_late_column_one_code_is_paid_and_the_paid_column_two_line_is_reversed() {
    let history = [paid(line(claim(9), 3, "G0102", &[], dec!(1), 4_000))];
    let current = [line(claim(1), 1, "G0101", &[], dec!(1), 10_000)];
    let findings = ncci_edits(&ncci(), &current, &history);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].action, Action::ReverseEarlierLine { claim_id: claim(9), sequence: 3, carc: Carc::BUNDLED });
}

// Scenario 2: MUE.

#[test]
fn scenario_2_units_over_a_line_mue_deny_the_whole_line_co_151_n362() {
    let current = [line(claim(1), 1, "82374", &[], dec!(3), 9_000)];
    let findings = mue_edits(&mues(), EditPolicy::default(), &current, &[]);
    assert_eq!(
        findings[0].action,
        Action::Deny {
            cas: Cas { group: GroupCode::Co, carc: Carc::UNITS_NOT_SUPPORTED, amount: Money::from_cents(9_000) },
            remarks: vec![Rarc::UNITS_OVER_MAXIMUM]
        }
    );
}

#[test]
fn scenario_2_units_split_over_two_lines_are_each_assessed_alone() {
    let current = [line(claim(1), 1, "82374", &[], dec!(2), 6_000), line(claim(1), 2, "82374", &["59"], dec!(1), 3_000)];
    assert!(mue_edits(&mues(), EditPolicy::default(), &current, &[]).is_empty());
}

#[test]
fn scenario_2_a_payer_that_reduces_to_the_mue_cuts_units_back() {
    let current = [line(claim(1), 1, "82374", &[], dec!(3), 9_000)];
    let findings = mue_edits(&mues(), EditPolicy { mue_reduce: true }, &current, &[]);
    assert_eq!(findings[0].action, Action::ReduceUnits { units: dec!(2), carc: Carc::UNITS_NOT_SUPPORTED, remarks: vec![Rarc::UNITS_OVER_MAXIMUM] });
}

#[test]
fn scenario_2_indicator_2_sums_units_across_lines_and_claims_of_the_date() {
    let history = [paid(line(claim(9), 1, "G0422", &[], dec!(4), 4_000))];
    let current = [line(claim(1), 1, "G0422", &[], dec!(2), 2_000), line(claim(1), 2, "G0422", &[], dec!(1), 1_000)];
    let findings = mue_edits(&mues(), EditPolicy::default(), &current, &history);
    assert!(denied_with(&findings, 1, "151") && denied_with(&findings, 2, "151"), "{findings:?}");
    assert!(findings[0].explanation.contains("no appeal"), "{}", findings[0].explanation);
    let within = [line(claim(1), 1, "G0422", &[], dec!(2), 2_000)];
    assert!(mue_edits(&mues(), EditPolicy::default(), &within, &history).is_empty());
}

#[test]
fn scenario_2_reducing_a_date_of_service_mue_keeps_what_the_history_left() {
    let history = [paid(line(claim(9), 1, "G0422", &[], dec!(4), 4_000))];
    let current = [line(claim(1), 1, "G0422", &[], dec!(1), 1_000), line(claim(1), 2, "G0422", &[], dec!(2), 2_000)];
    let findings = mue_edits(&mues(), EditPolicy { mue_reduce: true }, &current, &history);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(
        (findings[0].sequence, &findings[0].action),
        (2, &Action::ReduceUnits { units: dec!(1), carc: Carc::UNITS_NOT_SUPPORTED, remarks: vec![Rarc::UNITS_OVER_MAXIMUM] })
    );
}

#[test]
fn scenario_2_indicator_3_is_a_clinical_date_of_service_edit() {
    let current = [line(claim(1), 1, "J1100", &[], dec!(31), 31_000)];
    let findings = mue_edits(&mues(), EditPolicy::default(), &current, &[]);
    assert!(denied_with(&findings, 1, "151"));
    assert!(findings[0].explanation.contains("appeal with records"), "{}", findings[0].explanation);
}

// Scenario 3: duplicates.

#[test]
fn scenario_3_an_exact_duplicate_of_a_paid_line_is_denied_co_18() {
    let history = [paid(line(claim(9), 1, "G0101", &["RT"], dec!(1), 10_000))];
    let current = [line(claim(1), 1, "G0101", &["RT"], dec!(1), 10_000)];
    assert!(denied_with(&duplicate_edits(&current, &history), 1, "18"));
}

#[test]
fn scenario_3_a_different_charge_modifier_or_renderer_of_the_group_pends() {
    let history = [paid(line(claim(9), 1, "G0101", &[], dec!(1), 10_000))];
    let mut same_group = line(claim(1), 3, "G0101", &[], dec!(1), 10_000);
    same_group.rendering_npi = "1000000020".to_owned();
    let current = [line(claim(1), 1, "G0101", &[], dec!(1), 12_000), line(claim(1), 2, "G0101", &["LT"], dec!(1), 10_000), same_group];
    let findings = duplicate_edits(&current, &history);
    assert_eq!(findings.len(), 3, "{findings:?}");
    for finding in findings {
        assert_eq!(finding.action, Action::Pend { reason: PendReason::SuspectDuplicate { claim_id: claim(9), sequence: 1 } });
    }
}

#[test]
fn scenario_3_repeat_services_with_76_77_or_91_are_not_duplicates() {
    let history = [paid(line(claim(9), 1, "G0101", &[], dec!(1), 10_000))];
    for modifier in ["76", "77", "91"] {
        let current = [line(claim(1), 1, "G0101", &[modifier], dec!(1), 10_000)];
        assert!(duplicate_edits(&current, &history).is_empty(), "{modifier}");
    }
}

// Scenario 7: multiple procedures.

fn fee_schedule() -> FeeSchedule {
    FeeSchedule::load(fixture("fee_schedule.csv").as_slice()).expect("fee schedule fixture loads")
}

fn to_price(lines: &[EditLine]) -> Vec<LineToPrice<'_>> {
    lines.iter().map(|line| LineToPrice { line, units_allowed: line.units }).collect()
}

#[test]
fn scenario_7_the_second_procedure_is_paid_at_half_with_co_59() {
    let schedule = fee_schedule();
    let tables = PricingTables { fee_schedule: Some(&schedule), ..PricingTables::default() };
    let lines =
        [line(claim(1), 1, "G0121", &[], dec!(1), 50_000), line(claim(1), 2, "G0120", &[], dec!(1), 80_000), line(claim(1), 3, "G0122", &[], dec!(1), 30_000)];
    let prices = price_claim(&tables, None, &to_price(&lines)).expect("priced");
    assert_eq!(prices[1].allowed, Money::from_cents(80_000));
    assert_eq!(prices[0].allowed, Money::from_cents(25_000));
    assert_eq!(prices[0].adjustments, vec![Cas { group: GroupCode::Co, carc: Carc::MULTIPLE_PROCEDURE, amount: Money::from_cents(25_000) }]);
    assert_eq!(prices[2].allowed, Money::from_cents(30_000), "indicator 0 is not reduced");
}

#[test]
fn scenario_7_add_on_codes_are_exempt_from_the_reduction() {
    let rvus = RvuTable::load(fixture("pprrvu.csv").as_slice()).expect("rvus");
    let gpcis = GpciTable::load(fixture("gpci.csv").as_slice()).expect("gpcis");
    let zips = ZipLocalities::load(fixture("zip5.txt").as_slice()).expect("zips");
    let tables = PricingTables { rvus: Some(&rvus), gpcis: Some(&gpcis), zip_localities: Some(&zips), ..PricingTables::default() };
    let lines = [
        line(claim(1), 1, "G0110", &[], dec!(1), 100_000),
        line(claim(1), 2, "G0111", &[], dec!(1), 100_000),
        line(claim(1), 3, "G0112", &[], dec!(1), 100_000),
    ];
    let prices = price_claim(&tables, Some("35004"), &to_price(&lines)).expect("priced");
    assert!(prices[0].adjustments.iter().all(|cas| cas.carc != Carc::MULTIPLE_PROCEDURE));
    assert!(prices[1].adjustments.iter().any(|cas| cas.carc == Carc::MULTIPLE_PROCEDURE));
    assert!(prices[2].adjustments.iter().all(|cas| cas.carc != Carc::MULTIPLE_PROCEDURE), "{:?}", prices[2]);
}

// Scenario 8: RBRVS by place of service.

#[test]
fn scenario_8_rbrvs_gives_81_52_in_the_office_and_60_01_in_the_facility() {
    let rvus = RvuTable::load(fixture("pprrvu.csv").as_slice()).expect("rvus");
    let gpcis = GpciTable::load(fixture("gpci.csv").as_slice()).expect("gpcis");
    let zips = ZipLocalities::load(fixture("zip5.txt").as_slice()).expect("zips");
    let tables = PricingTables { rvus: Some(&rvus), gpcis: Some(&gpcis), zip_localities: Some(&zips), ..PricingTables::default() };
    let office = line(claim(1), 1, "G0101", &[], dec!(1), 20_000);
    let mut facility = line(claim(1), 2, "G0101", &[], dec!(1), 20_000);
    facility.place_of_service = Some("22".to_owned());
    facility.service_date = date!(2026 - 03 - 03);
    let prices = price_claim(&tables, Some("35004"), &to_price(&[office, facility])).expect("priced");
    assert_eq!(prices[0].allowed, Money::from_cents(8_152), "{:?}", prices[0].steps);
    assert_eq!(prices[1].allowed, Money::from_cents(6_001), "{:?}", prices[1].steps);
    assert_eq!(prices[0].source, PriceSource::Rbrvs);
    assert_eq!(prices[0].adjustments, vec![Cas { group: GroupCode::Co, carc: Carc::FEE_SCHEDULE, amount: Money::from_cents(11_848) }]);
}

#[test]
fn scenario_8_allowed_is_the_lower_of_charge_and_fee() {
    let rvus = RvuTable::load(fixture("pprrvu.csv").as_slice()).expect("rvus");
    let gpcis = GpciTable::load(fixture("gpci.csv").as_slice()).expect("gpcis");
    let zips = ZipLocalities::load(fixture("zip5.txt").as_slice()).expect("zips");
    let tables = PricingTables { rvus: Some(&rvus), gpcis: Some(&gpcis), zip_localities: Some(&zips), ..PricingTables::default() };
    let cheap = [line(claim(1), 1, "G0101", &[], dec!(1), 5_000)];
    let prices = price_claim(&tables, Some("35004"), &to_price(&cheap)).expect("priced");
    assert_eq!(prices[0].allowed, Money::from_cents(5_000));
    assert!(prices[0].adjustments.is_empty());
}

#[test]
fn a_code_without_a_fee_falls_back_to_percent_of_charge_then_co_96() {
    let schedule = fee_schedule();
    let mut tables = PricingTables { fee_schedule: Some(&schedule), percent_of_charge: Some(dec!(60)), ..PricingTables::default() };
    let lines = [line(claim(1), 1, "A9999", &[], dec!(1), 12_345)];
    let prices = price_claim(&tables, None, &to_price(&lines)).expect("priced");
    assert_eq!((prices[0].source, prices[0].allowed), (PriceSource::PercentOfCharge, Money::from_cents(7_407)));
    tables.percent_of_charge = None;
    let prices = price_claim(&tables, None, &to_price(&lines)).expect("priced");
    assert_eq!(prices[0].adjustments, vec![Cas { group: GroupCode::Co, carc: Carc::NON_COVERED, amount: Money::from_cents(12_345) }]);
}

#[test]
fn units_an_mue_took_away_are_adjusted_co_151_in_pricing() {
    let schedule = fee_schedule();
    let tables = PricingTables { fee_schedule: Some(&schedule), ..PricingTables::default() };
    let billed = line(claim(1), 1, "G0102", &[], dec!(3), 15_000);
    let prices = price_claim(&tables, None, &[LineToPrice { line: &billed, units_allowed: dec!(2) }]).expect("priced");
    assert_eq!(prices[0].allowed, Money::from_cents(8_000));
    assert_eq!(
        prices[0].adjustments,
        vec![
            Cas { group: GroupCode::Co, carc: Carc::FEE_SCHEDULE, amount: Money::from_cents(3_000) },
            Cas { group: GroupCode::Co, carc: Carc::UNITS_NOT_SUPPORTED, amount: Money::from_cents(4_000) }
        ]
    );
}

// Scenario 13: date of death.

#[test]
fn scenario_13_a_service_after_the_date_of_death_is_denied_co_13() {
    let mut after = line(claim(1), 1, "G0101", &[], dec!(1), 10_000);
    after.service_date = date!(2025 - 03 - 15);
    let finding = date_of_death_edit(&after, Some(date!(2025 - 03 - 10))).expect("denied");
    assert_eq!(
        finding.action,
        Action::Deny { cas: Cas { group: GroupCode::Co, carc: Carc::DATE_OF_DEATH, amount: Money::from_cents(10_000) }, remarks: vec![] }
    );
    after.service_date = date!(2025 - 03 - 10);
    assert_eq!(date_of_death_edit(&after, Some(date!(2025 - 03 - 10))), None);
}

// Scenario 16: the rendering provider on the LEIE.

#[test]
fn scenario_16_an_excluded_npi_is_denied_co_b7_and_a_name_match_pends() {
    let list = ExclusionList::load(fixture("leie.csv").as_slice()).expect("LEIE fixture loads");
    assert_eq!(list.rows().len(), 3);
    let current = line(claim(1), 1, "G0101", &[], dec!(1), 10_000);
    let excluded = ProviderIdentity { npi: "1234567893", last_name: None, first_name: None, birth_date: None };
    assert!(matches!(exclusion_edit(&list, &current, excluded).map(|f| f.action), Some(Action::Deny { cas, .. }) if cas.carc == Carc::PROVIDER_NOT_ELIGIBLE));
    let by_name = ProviderIdentity { npi: RENDERING, last_name: Some("EXAMPLE"), first_name: Some("JO"), birth_date: Some(date!(1980 - 02 - 02)) };
    assert_eq!(exclusion_edit(&list, &current, by_name).map(|f| f.action), Some(Action::Pend { reason: PendReason::PossibleExclusion }));
    let clear = ProviderIdentity { npi: RENDERING, last_name: Some("OTHER"), first_name: Some("JO"), birth_date: Some(date!(1980 - 02 - 02)) };
    assert_eq!(exclusion_edit(&list, &current, clear), None);
}

// Prior authorization.

#[test]
fn a_line_needing_authorization_without_one_is_denied_co_197() {
    let authorizations = PriorAuthorizations::load(fixture("prior_authorizations.csv").as_slice()).expect("fixture loads");
    let covered = line(claim(1), 1, "E0601", &[], dec!(1), 10_000);
    assert_eq!(prior_authorization_edit(&authorizations, &covered, |_| Decimal::ZERO), None);
    assert!(denied_with(&[prior_authorization_edit(&authorizations, &covered, |_| dec!(2)).expect("used up")], 1, "197"));
    let denied_auth = line(claim(1), 2, "E0470", &[], dec!(1), 10_000);
    assert!(prior_authorization_edit(&authorizations, &denied_auth, |_| Decimal::ZERO).is_some());
    let mut outside = covered.clone();
    outside.service_date = date!(2026 - 04 - 01);
    assert_eq!(authorizations.lookup(&outside, |_| Decimal::ZERO), AuthLookup::NotFound);
}

proptest! {
    #[test]
    fn every_priced_line_balances_charge_against_allowed_and_adjustments(
        charges in proptest::collection::vec(0i64..5_000_000, 1..6),
        units in proptest::collection::vec(1u32..5, 6),
        allowed_units in proptest::collection::vec(0u32..5, 6),
    ) {
        let schedule = fee_schedule();
        let tables = PricingTables { fee_schedule: Some(&schedule), percent_of_charge: Some(dec!(37.5)), ..PricingTables::default() };
        let codes = ["G0120", "G0121", "G0122", "G0102", "A9999"];
        let lines: Vec<EditLine> = charges.iter().enumerate()
            .map(|(idx, &charge)| line(claim(1), idx as u32 + 1, codes[idx % codes.len()], &[], Decimal::from(units[idx]), charge))
            .collect();
        let to_price: Vec<LineToPrice<'_>> = lines.iter().enumerate().map(|(idx, line)| LineToPrice { line, units_allowed: Decimal::from(allowed_units[idx]) }).collect();
        let prices = price_claim(&tables, None, &to_price).expect("priced");
        for (price, line) in prices.iter().zip(&lines) {
            let adjusted = Money::checked_sum(price.adjustments.iter().map(|cas| &cas.amount)).expect("sum");
            prop_assert_eq!(adjusted.checked_add(price.allowed), Some(line.charge));
            prop_assert!(price.allowed <= line.charge && !price.allowed.is_negative());
            prop_assert!(price.adjustments.iter().all(|cas| !cas.amount.is_negative()));
        }
    }
}

#[test]
fn the_providers_contract_chooses_the_source_per_code_range() {
    let schedule = fee_schedule();
    let rvus = RvuTable::load(fixture("pprrvu.csv").as_slice()).expect("rvus");
    let gpcis = GpciTable::load(fixture("gpci.csv").as_slice()).expect("gpcis");
    let zips = ZipLocalities::load(fixture("zip5.txt").as_slice()).expect("zips");
    let contracts = Contracts::load(fixture("contracts.csv").as_slice()).expect("contracts");
    let tables = PricingTables {
        fee_schedule: Some(&schedule),
        rvus: Some(&rvus),
        gpcis: Some(&gpcis),
        zip_localities: Some(&zips),
        contract: Some((&contracts, "C-1")),
        ..PricingTables::default()
    };
    let lines =
        [line(claim(1), 1, "G0101", &[], dec!(1), 20_000), line(claim(1), 2, "G0122", &[], dec!(1), 40_000), line(claim(1), 3, "E0601", &[], dec!(1), 10_000)];
    let prices = price_claim(&tables, Some("35004"), &to_price(&lines)).expect("priced");
    // RBRVS at the contract's CF 34.00: 2.52 x 34.00 = 85.68.
    assert_eq!((prices[0].source, prices[0].allowed), (PriceSource::Rbrvs, Money::from_cents(8_568)));
    assert_eq!((prices[1].source, prices[1].allowed), (PriceSource::FeeSchedule, Money::from_cents(30_000)));
    assert_eq!((prices[2].source, prices[2].allowed), (PriceSource::PercentOfCharge, Money::from_cents(6_500)));
    assert!(prices[0].steps[0].contains("contract C-1"), "{:?}", prices[0].steps);
}
