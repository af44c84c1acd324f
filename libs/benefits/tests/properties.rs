//! Property tests of cost sharing and the accumulators, with other numbers
//! than the domain file's: each result is checked against a reference
//! calculation written here, independently, in integer cents.

use claimtrail_benefits::*;
use claimtrail_codes::{Carc, ClaimId, MemberId};
use claimtrail_events::Money;
use proptest::prelude::*;
use serde_json::json;

fn cents(money: Money) -> i64 {
    money.to_cents().unwrap()
}

fn member(id: &str) -> MemberId {
    MemberId::parse(id).unwrap()
}

fn claim_version(n: u32) -> ClaimVersion {
    ClaimVersion { claim_id: ClaimId::parse(&format!("0190f3a4-7c1e-7d2b-9a41-{n:012x}")).unwrap(), version: 1 }
}

#[derive(Debug, Clone)]
struct Terms {
    deductible_individual: i64,
    deductible_family_extra: i64,
    oop_extra: i64,
    oop_family_extra: i64,
    coinsurance_percent: i64,
    copay: i64,
    skips_deductible: bool,
    copay_counts: bool,
    non_embedded: bool,
}

fn terms() -> impl Strategy<Value = Terms> {
    (0i64..300_000, 0i64..300_000, 0i64..500_000, 0i64..500_000, 0i64..=100, 0i64..10_000, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(
            deductible_individual,
            deductible_family_extra,
            oop_extra,
            oop_family_extra,
            coinsurance_percent,
            copay,
            skips_deductible,
            copay_counts,
            non_embedded,
        )| Terms {
            deductible_individual,
            deductible_family_extra,
            oop_extra,
            oop_family_extra,
            coinsurance_percent,
            copay,
            skips_deductible,
            copay_counts,
            non_embedded,
        },
    )
}

impl Terms {
    fn deductible_family(&self) -> i64 {
        self.deductible_individual + self.deductible_family_extra
    }
    fn oop_individual(&self) -> i64 {
        self.deductible_individual + self.oop_extra
    }
    fn oop_family(&self) -> i64 {
        self.oop_individual().max(self.deductible_family()) + self.oop_family_extra
    }

    /// Category `copay` (codes C*) has the copay terms; everything else is `medical`.
    fn plan(&self) -> CompiledPlan {
        let m = |c: i64| Money::from_cents(c).to_string();
        let rule = if self.non_embedded { "non_embedded" } else { "embedded" };
        let body = json!({
            "name": "property plan",
            "categories": ["medical", "copay"],
            "default_category": "medical",
            "category_map": [{"category": "copay", "codes": ["C0000-C9999"]}],
            "family_deductible": rule,
            "family_oop_max": rule,
            "tiers": {
                "inn": {
                    "deductible": {"individual": m(self.deductible_individual), "family": m(self.deductible_family())},
                    "oop_max": {"individual": m(self.oop_individual()), "family": m(self.oop_family())},
                    "coinsurance_percent": self.coinsurance_percent.to_string(),
                    "category_benefits": [{"category": "copay", "copay": m(self.copay), "skips_deductible": self.skips_deductible, "copay_counts_toward_oop": self.copay_counts}]
                },
                "oon": {
                    "deductible": {"individual": "0.00", "family": "0.00"},
                    "oop_max": {"individual": "0.00", "family": "0.00"},
                    "coinsurance_percent": "0"
                }
            }
        });
        Plan::from_json(body.to_string().as_bytes()).unwrap()
    }
}

/// The reference: integer cents, written apart from the library.
/// Returns per line (copay, deductible, coinsurance, paid).
fn reference(terms: &Terms, family: bool, met: [i64; 4], lines: &[(bool, i64)]) -> Vec<(i64, i64, i64, i64)> {
    let [mut ded_ind, mut ded_fam, mut oop_ind, mut oop_fam] = met;
    let left = |limit_ind: i64, limit_fam: i64, met_ind: i64, met_fam: i64| -> i64 {
        let ind = (limit_ind - met_ind).max(0);
        let fam = (limit_fam - met_fam).max(0);
        match (family, terms.non_embedded) {
            (false, _) => ind,
            (true, false) => ind.min(fam),
            (true, true) => fam,
        }
    };
    let mut out = Vec::new();
    for &(copay_category, allowed) in lines {
        let mut copay = if copay_category { terms.copay.min(allowed) } else { 0 };
        let ded_applies = !(copay_category && terms.skips_deductible);
        let mut ded = if ded_applies { (allowed - copay).min(left(terms.deductible_individual, terms.deductible_family(), ded_ind, ded_fam)) } else { 0 };
        let rest = allowed - copay - ded;
        let mut coins = (rest * terms.coinsurance_percent + 50) / 100; // half away from zero, for rest >= 0
        let copay_counts = !copay_category || terms.copay_counts;
        let oop_left = left(terms.oop_individual(), terms.oop_family(), oop_ind, oop_fam);
        let counted_copay = if copay_counts { copay } else { 0 };
        let over = (counted_copay + ded + coins - oop_left).max(0);
        // Give way in reverse order of application.
        let coins_cut = over.min(coins);
        let ded_cut = (over - coins_cut).min(ded);
        let copay_cut = (over - coins_cut - ded_cut).min(counted_copay);
        coins -= coins_cut;
        ded -= ded_cut;
        copay -= copay_cut;
        let counted = ded + coins + if copay_counts { copay } else { 0 };
        ded_ind += ded;
        oop_ind += counted;
        if family {
            ded_fam += ded;
            oop_fam += counted;
        }
        out.push((copay, ded, coins, allowed - copay - ded - coins));
    }
    out
}

fn lines() -> impl Strategy<Value = Vec<(bool, i64)>> {
    proptest::collection::vec((any::<bool>(), 0i64..400_000), 1..6)
}

fn benefit_claim(n: u32, member_id: &str, family: bool, plan_lines: &[(bool, i64)]) -> BenefitClaim {
    BenefitClaim {
        claim: claim_version(n),
        member_id: member(member_id),
        family_id: family.then(|| member("S1")),
        plan_year: 2026,
        tier: Tier::Inn,
        lines: plan_lines
            .iter()
            .enumerate()
            .map(|(line_idx, &(copay_category, allowed))| BenefitLine {
                sequence: line_idx as u32 + 1,
                procedure_code: if copay_category { "C1234".into() } else { "J1100".into() },
                place_of_service: Some("11".into()),
                allowed: Money::from_cents(allowed),
                denied: false,
            })
            .collect(),
    }
}

fn position(met: [i64; 4]) -> Accumulators {
    let entries = [
        ("M1", Bucket::DeductibleInnIndividual, met[0]),
        ("S1", Bucket::DeductibleInnFamily, met[1]),
        ("M1", Bucket::OopInnIndividual, met[2]),
        ("S1", Bucket::OopInnFamily, met[3]),
    ]
    .into_iter()
    .map(|(id, bucket, amount)| AccumulatorEntry { member_id: member(id), plan_year: 2026, bucket, amount: Money::from_cents(amount) })
    .collect();
    Accumulators::fold([&AccumulatorEvent::Imported(AccumulatorsImported { source_sha3: "p".into(), entries })])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn cost_sharing_matches_the_reference_calculation(terms in terms(), family in any::<bool>(), met in [0i64..400_000, 0i64..800_000, 0i64..900_000, 0i64..1_600_000], lines in lines()) {
        let plan = terms.plan();
        let claim = benefit_claim(1, "M1", family, &lines);
        let benefits = cost_share(&plan, &claim, &position(met)).unwrap();
        let expected = reference(&terms, family, met, &lines);
        for (result, (copay, ded, coins, paid)) in benefits.lines.iter().zip(expected) {
            prop_assert_eq!((cents(result.copay), cents(result.deductible), cents(result.coinsurance), cents(result.paid)), (copay, ded, coins, paid), "line {}", result.sequence);
            // The CAS carries exactly those amounts, and the line balances.
            let by_reason = |carc: Carc| result.adjustments.iter().filter(|a| a.reason == carc).map(|a| cents(a.amount)).sum::<i64>();
            prop_assert_eq!((by_reason(Carc::COPAYMENT), by_reason(Carc::DEDUCTIBLE), by_reason(Carc::COINSURANCE)), (copay, ded, coins));
            prop_assert_eq!(cents(result.allowed), paid + copay + ded + coins);
            // The explanation's steps chain from the allowed amount to the paid one.
            if let (Some(first), Some(last)) = (result.steps.first(), result.steps.last()) {
                prop_assert_eq!(first.before, result.allowed);
                prop_assert_eq!(last.after, result.paid);
                prop_assert!(result.steps.windows(2).all(|pair| pair[0].after == pair[1].before));
            }
        }
        // No limit that applies is passed because of this claim (a non-embedded
        // family has only the family limits; the individual buckets still count).
        let mut state = position(met);
        state.apply(&AccumulatorEvent::Applied(benefits.applied.clone()));
        let after = |id: &str, bucket| cents(state.met(&member(id), 2026, bucket));
        if !(family && terms.non_embedded) {
            prop_assert!(after("M1", Bucket::DeductibleInnIndividual) <= met[0].max(terms.deductible_individual));
            prop_assert!(after("M1", Bucket::OopInnIndividual) <= met[2].max(terms.oop_individual()));
        }
        if family {
            prop_assert!(after("S1", Bucket::DeductibleInnFamily) <= met[1].max(terms.deductible_family()));
            prop_assert!(after("S1", Bucket::OopInnFamily) <= met[3].max(terms.oop_family()));
        } else {
            prop_assert_eq!(after("S1", Bucket::OopInnFamily), met[3], "single coverage leaves the family buckets alone");
        }
    }

    #[test]
    fn applying_then_reversing_a_claim_restores_the_accumulators(
        terms in terms(),
        met in [0i64..400_000, 0i64..800_000, 0i64..900_000, 0i64..1_600_000],
        claims in proptest::collection::vec((any::<bool>(), 0usize..3, lines()), 1..6),
        reversed_idx in 0usize..6,
    ) {
        let plan = terms.plan();
        let members = ["M1", "M2", "M3"];
        let mut state = position(met);
        let mut before = Vec::new();
        for (claim_idx, (family, member_idx, lines)) in claims.iter().enumerate() {
            before.push(state.clone());
            let claim = benefit_claim(claim_idx as u32 + 1, members[*member_idx], *family, lines);
            let benefits = cost_share(&plan, &claim, &state).unwrap();
            state.apply(&AccumulatorEvent::Applied(benefits.applied));
        }
        // The last claim reversed: exactly the state before it.
        let last = claim_version(claims.len() as u32);
        let mut undone = state.clone();
        undone.apply(&AccumulatorEvent::Reversed(undone.reverse(&last).unwrap()));
        prop_assert_eq!(&undone, before.last().unwrap());
        // Any claim reversed, then the others reversed too: the starting position.
        let reversed = claim_version((reversed_idx % claims.len()) as u32 + 1);
        let mut all = state.clone();
        all.apply(&AccumulatorEvent::Reversed(all.reverse(&reversed).unwrap()));
        for claim_idx in 0..claims.len() {
            let other = claim_version(claim_idx as u32 + 1);
            if other != reversed {
                all.apply(&AccumulatorEvent::Reversed(all.reverse(&other).unwrap()));
            }
        }
        prop_assert_eq!(all.totals(), position(met).totals());
        prop_assert!(all.reverse(&reversed).is_err(), "a reversed claim cannot be reversed twice");
    }
}
