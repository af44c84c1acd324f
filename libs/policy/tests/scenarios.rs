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
    lines.iter().map(|line| LineToPrice { line, units_allowed: line.units, revenue_code: None }).collect()
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
    let prices = price_claim(&tables, None, &[LineToPrice { line: &billed, units_allowed: dec!(2), revenue_code: None }]).expect("priced");
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

#[test]
fn an_authorization_s_units_are_counted_over_the_member_s_earlier_claims() {
    let authorizations = PriorAuthorizations::load(fixture("prior_authorizations.csv").as_slice()).expect("fixture loads");
    let on = |day: Date, units: Decimal| {
        let mut earlier = paid(line(claim(9), 1, "E0601", &[], units, 10_000));
        earlier.service_date = day;
        earlier
    };
    // PA-0001 approves 2 units from January to March: one used in January leaves one.
    let history = [on(date!(2026 - 01 - 10), dec!(1)), on(date!(2025 - 12 - 31), dec!(5))];
    let row = authorizations.rows_of_member("M-1").next().expect("PA-0001");
    assert_eq!(units_used_by(row, &history), dec!(1), "the December line is before the authorization");
    let one = line(claim(1), 1, "E0601", &[], dec!(1), 10_000);
    assert_eq!(prior_authorization_edit(&authorizations, &one, |row| units_used_by(row, &history)), None);
    let two = line(claim(1), 1, "E0601", &[], dec!(2), 10_000);
    assert!(denied_with(&[prior_authorization_edit(&authorizations, &two, |row| units_used_by(row, &history)).expect("one unit left")], 1, "197"));
    // Lines not paid or pending (the claim's own, submitted), and lines of another provider or code, use none.
    let mut denied = on(date!(2026 - 01 - 10), dec!(2));
    denied.status = LineStatus::Submitted;
    let mut other_provider = on(date!(2026 - 01 - 10), dec!(2));
    other_provider.rendering_npi = "1999999984".to_owned();
    let other_code = paid(line(claim(9), 2, "E0470", &[], dec!(2), 10_000));
    assert_eq!(units_used_by(row, &[denied, other_provider, other_code]), Decimal::ZERO);
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
        let to_price: Vec<LineToPrice<'_>> = lines.iter().enumerate().map(|(idx, line)| LineToPrice { line, units_allowed: Decimal::from(allowed_units[idx]), revenue_code: None }).collect();
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
        contracts: Some(&contracts),
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

#[test]
fn scenario_7_with_the_payer_s_switch_off_no_procedure_is_reduced() {
    let schedule = fee_schedule();
    let tables = PricingTables { fee_schedule: Some(&schedule), multiple_procedure_off: true, ..PricingTables::default() };
    let lines = [line(claim(1), 1, "G0121", &[], dec!(1), 50_000), line(claim(1), 2, "G0120", &[], dec!(1), 80_000)];
    let prices = price_claim(&tables, None, &to_price(&lines)).expect("priced");
    assert_eq!((prices[0].allowed, prices[1].allowed), (Money::from_cents(50_000), Money::from_cents(80_000)));
    assert!(prices[0].adjustments.is_empty(), "{:?}", prices[0].adjustments);
    assert!(prices[0].steps.iter().any(|step| step.contains("turns the reduction off")), "{:?}", prices[0].steps);
}

// Institutional pricing by the provider's contract.

const INSTITUTIONAL_CONTRACTS: &str = "contract_id,code_from,code_to,method,rate,effective_date,end_date,billing_npi\n\
H-1,001,999,drg,6500.00,20251001,,1000000012\n\
H-1,0100,0219,per_diem,,20260101,,1000000012\n\
H-1,0300,0399,percent_of_charge,55,20260101,,1000000012\n";

fn institutional_line(sequence: u32, revenue_code: &str, units: Decimal, charge_cents: i64) -> EditLine {
    let mut line = line(claim(1), sequence, revenue_code, &[], units, charge_cents);
    line.place_of_service = None;
    line
}

fn institutional_tables() -> (Contracts, DrgWeights, PerDiems) {
    (
        Contracts::load(INSTITUTIONAL_CONTRACTS.as_bytes()).expect("contracts"),
        DrgWeights::load("drg,weight,effective_date,end_date\n470,1.9047,20251001,\n".as_bytes()).expect("weights"),
        PerDiems::load("basis,key,rate,effective_date,end_date\nrevenue_code,0120,1250.50,20260101,\n".as_bytes()).expect("per diems"),
    )
}

fn with_revenue_codes<'a>(lines: &'a [EditLine]) -> Vec<LineToPrice<'a>> {
    lines.iter().map(|line| LineToPrice { line, units_allowed: line.units, revenue_code: Some(&line.procedure_code) }).collect()
}

#[test]
fn an_inpatient_stay_is_paid_drg_weight_times_base_rate_shared_over_its_lines_by_charge() {
    let (contracts, weights, per_diems) = institutional_tables();
    let tables = PricingTables { contracts: Some(&contracts), drg_weights: Some(&weights), per_diems: Some(&per_diems), ..PricingTables::default() };
    // Billed 10,000.00 + 4,000.00 + 1,000.01 = 15,000.01; DRG 470: 1.9047 x 6500.00 = 12,380.55.
    let lines =
        [institutional_line(1, "0120", dec!(3), 1_000_000), institutional_line(2, "0250", dec!(10), 400_000), institutional_line(3, "0300", dec!(1), 100_001)];
    let stay = Stay {
        drg: Some("470"),
        type_of_bill: None,
        admission: Some(date!(2026 - 03 - 01)),
        statement_from: Some(date!(2026 - 03 - 01)),
        statement_to: Some(date!(2026 - 03 - 04)),
    };
    let prices = price_institutional(&tables, None, &stay, &with_revenue_codes(&lines)).expect("priced");
    let allowed: Vec<Money> = prices.iter().map(|price| price.allowed).collect();
    // 12,380.55 x 10,000.00 / 15,000.01 = 8,253.694...; x 4,000.00 / .. = 3,301.477...; x 1,000.01 / .. = 825.377...
    // floors 8,253.69 + 3,301.47 + 825.37 = 12,380.53; the 2 cents left go to the largest remainders (lines 2 and 3).
    assert_eq!(allowed, vec![Money::from_cents(825_369), Money::from_cents(330_148), Money::from_cents(82_538)]);
    assert_eq!(Money::checked_sum(allowed.iter()), Some(Money::from_cents(1_238_055)));
    assert!(prices.iter().all(|price| price.source == PriceSource::Drg));
    assert_eq!(prices[0].adjustments, vec![Cas { group: GroupCode::Co, carc: Carc::FEE_SCHEDULE, amount: Money::from_cents(174_631) }]);
    assert!(prices[0].steps.iter().any(|step| step == "DRG 470: weight 1.9047 x base rate 6500.00 = 12380.55"), "{:?}", prices[0].steps);

    // Lesser of billed: a stay billed under the DRG amount is allowed what it billed.
    let cheap = [institutional_line(1, "0120", dec!(3), 500_000), institutional_line(2, "0250", dec!(1), 100_000)];
    let prices = price_institutional(&tables, None, &stay, &with_revenue_codes(&cheap)).expect("priced");
    assert_eq!((prices[0].allowed, prices[1].allowed), (Money::from_cents(500_000), Money::from_cents(100_000)));
    assert!(prices.iter().all(|price| price.adjustments.is_empty()));

    // A DRG with no weight in force leaves the stay not covered, CO-96.
    let unknown = Stay { drg: Some("871"), ..stay };
    let prices = price_institutional(&tables, None, &unknown, &with_revenue_codes(&cheap)).expect("priced");
    assert!(prices.iter().all(|price| price.source == PriceSource::NotPriced && price.adjustments[0].carc == Carc::NON_COVERED));
    assert!(prices[0].steps.iter().any(|step| step.contains("DRG 871 has no weight in force")), "{:?}", prices[0].steps);
}

#[test]
fn without_a_drg_the_room_lines_are_paid_per_diem_times_days_and_the_rest_by_their_method() {
    let (contracts, weights, per_diems) = institutional_tables();
    let tables = PricingTables { contracts: Some(&contracts), drg_weights: Some(&weights), per_diems: Some(&per_diems), ..PricingTables::default() };
    let lines =
        [institutional_line(1, "0120", dec!(5), 900_000), institutional_line(2, "0300", dec!(1), 20_000), institutional_line(3, "0250", dec!(1), 5_000)];
    // Admitted March 1, discharged March 4: 3 days, though 5 are billed.
    let stay = Stay { drg: None, type_of_bill: None, admission: Some(date!(2026 - 03 - 01)), statement_from: None, statement_to: Some(date!(2026 - 03 - 04)) };
    let prices = price_institutional(&tables, None, &stay, &with_revenue_codes(&lines)).expect("priced");
    // 1,250.50 x 3 = 3,751.50; 55% of 200.00 = 110.00; 0250 is in no range and on no schedule: CO-96.
    assert_eq!((prices[0].source, prices[0].allowed), (PriceSource::PerDiem, Money::from_cents(375_150)));
    assert_eq!(prices[0].adjustments, vec![Cas { group: GroupCode::Co, carc: Carc::FEE_SCHEDULE, amount: Money::from_cents(524_850) }]);
    assert!(prices[0].steps.iter().any(|step| step.contains("5 days billed, the stay is 3 days")), "{:?}", prices[0].steps);
    assert_eq!((prices[1].source, prices[1].allowed), (PriceSource::PercentOfCharge, Money::from_cents(11_000)));
    assert_eq!((prices[2].source, prices[2].allowed), (PriceSource::NotPriced, Money::ZERO));
    // Another provider has no contract: nothing here prices its room line.
    let mut other = lines[0].clone();
    other.billing_npi = "1999999984".to_owned();
    let prices = price_institutional(&tables, None, &stay, &with_revenue_codes(std::slice::from_ref(&other))).expect("priced");
    assert_eq!(prices[0].source, PriceSource::NotPriced);
}

/// The per diem basis by type of bill (docs/policy-data.md): a stay whose
/// type of bill has a `type_of_bill` rate is paid rate x the stay's days,
/// lesser of billed, shared by charge; `11X` matches any frequency; without
/// such a rate the revenue-code basis prices line by line; a DRG comes first.
#[test]
fn a_stay_whose_type_of_bill_has_a_per_diem_rate_is_paid_that_rate_times_its_days() {
    let (contracts, weights, _) = institutional_tables();
    let per_diems = PerDiems::load(
        "basis,key,rate,effective_date,end_date\nrevenue_code,0120,1250.50,20260101,\ntype_of_bill,0111,900.00,20260101,\ntype_of_bill,21X,400.00,20260101,\n"
            .as_bytes(),
    )
    .expect("per diems");
    let tables = PricingTables { contracts: Some(&contracts), drg_weights: Some(&weights), per_diems: Some(&per_diems), ..PricingTables::default() };
    let lines = [institutional_line(1, "0120", dec!(3), 300_000), institutional_line(2, "0300", dec!(1), 100_000)];
    // Admitted March 1, discharged March 4: 3 days; 900.00 x 3 = 2,700.00 of 4,000.00 billed: 3/4 and 1/4.
    let stay = Stay {
        drg: None,
        type_of_bill: Some("111"),
        admission: Some(date!(2026 - 03 - 01)),
        statement_from: Some(date!(2026 - 03 - 01)),
        statement_to: Some(date!(2026 - 03 - 04)),
    };
    let prices = price_institutional(&tables, None, &stay, &with_revenue_codes(&lines)).expect("priced");
    assert!(prices.iter().all(|price| price.source == PriceSource::TypeOfBillPerDiem), "{prices:?}");
    assert_eq!((prices[0].allowed, prices[1].allowed), (Money::from_cents(202_500), Money::from_cents(67_500)));
    assert!(prices[0].steps.iter().any(|step| step == "per diem for type of bill 111: 900.00 x 3 days = 2700.00"), "{:?}", prices[0].steps);
    assert_eq!(prices[0].adjustments, vec![Cas { group: GroupCode::Co, carc: Carc::FEE_SCHEDULE, amount: Money::from_cents(97_500) }]);

    // 21X: a skilled nursing stay of any frequency (a replacement, 217) at 400.00 x 3 = 1,200.00.
    let replacement = Stay { type_of_bill: Some("217"), ..stay };
    let prices = price_institutional(&tables, None, &replacement, &with_revenue_codes(&lines)).expect("priced");
    assert_eq!(Money::checked_sum(prices.iter().map(|price| &price.allowed)), Some(Money::from_cents(120_000)));

    // No rate for the type of bill (131, outpatient): the revenue-code basis, line by line.
    let outpatient = Stay { type_of_bill: Some("131"), ..stay };
    let prices = price_institutional(&tables, None, &outpatient, &with_revenue_codes(&lines)).expect("priced");
    assert_eq!((prices[0].source, prices[0].allowed), (PriceSource::PerDiem, Money::from_cents(300_000)), "1,250.50 x 3 is over the 3,000.00 billed");

    // A DRG the contract pays comes first.
    let with_drg = Stay { drg: Some("470"), ..stay };
    let prices = price_institutional(&tables, None, &with_drg, &with_revenue_codes(&lines)).expect("priced");
    assert!(prices.iter().all(|price| price.source == PriceSource::Drg));

    // Without the stay's dates its days are unknown: not priced, CO-96.
    let undated = Stay { admission: None, statement_from: None, statement_to: None, ..stay };
    let prices = price_institutional(&tables, None, &undated, &with_revenue_codes(&lines)).expect("priced");
    assert!(prices.iter().all(|price| price.source == PriceSource::NotPriced && price.adjustments[0].carc == Carc::NON_COVERED), "{prices:?}");

    // A key that is no type of bill is refused at upload with its line.
    let error = PerDiems::load("basis,key,rate,effective_date,end_date\ntype_of_bill,11,900.00,20260101,\n".as_bytes()).unwrap_err();
    assert!(error.to_string().contains("is not a type of bill"), "{error}");
}
