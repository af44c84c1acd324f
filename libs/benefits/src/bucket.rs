//! Accumulator buckets. The names are fixed (issue 17):
//! `{deductible|oop}_{inn|oon}_{individual|family}`, for example
//! `deductible_inn_individual`. In-network and out-of-network buckets never
//! count toward each other.

use serde::{Deserialize, Serialize};

/// The network tier of a claim's provider: in network or out of network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Inn,
    Oon,
}

/// What a bucket accumulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BucketKind {
    /// Deductible dollars (PR-1).
    Deductible,
    /// Out-of-pocket dollars: deductible, coinsurance and the copays that count.
    Oop,
}

/// Whose limit a bucket measures: one member's, or the whole family's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Individual,
    Family,
}

/// One of the eight accumulator buckets, serialized by its fixed name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    DeductibleInnIndividual,
    DeductibleInnFamily,
    DeductibleOonIndividual,
    DeductibleOonFamily,
    OopInnIndividual,
    OopInnFamily,
    OopOonIndividual,
    OopOonFamily,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a bucket is one of {names}, `{text}` is not", names = Bucket::NAMES.join(", "), text = .0)]
pub struct BucketError(String);

impl Bucket {
    pub const ALL: [Bucket; 8] = [
        Bucket::DeductibleInnIndividual,
        Bucket::DeductibleInnFamily,
        Bucket::DeductibleOonIndividual,
        Bucket::DeductibleOonFamily,
        Bucket::OopInnIndividual,
        Bucket::OopInnFamily,
        Bucket::OopOonIndividual,
        Bucket::OopOonFamily,
    ];

    /// The fixed names, in the order of [`Bucket::ALL`].
    pub const NAMES: [&'static str; 8] = [
        "deductible_inn_individual",
        "deductible_inn_family",
        "deductible_oon_individual",
        "deductible_oon_family",
        "oop_inn_individual",
        "oop_inn_family",
        "oop_oon_individual",
        "oop_oon_family",
    ];

    /// The bucket of `kind`, `tier` and `level`.
    pub fn of(kind: BucketKind, tier: Tier, level: Level) -> Bucket {
        match (kind, tier, level) {
            (BucketKind::Deductible, Tier::Inn, Level::Individual) => Bucket::DeductibleInnIndividual,
            (BucketKind::Deductible, Tier::Inn, Level::Family) => Bucket::DeductibleInnFamily,
            (BucketKind::Deductible, Tier::Oon, Level::Individual) => Bucket::DeductibleOonIndividual,
            (BucketKind::Deductible, Tier::Oon, Level::Family) => Bucket::DeductibleOonFamily,
            (BucketKind::Oop, Tier::Inn, Level::Individual) => Bucket::OopInnIndividual,
            (BucketKind::Oop, Tier::Inn, Level::Family) => Bucket::OopInnFamily,
            (BucketKind::Oop, Tier::Oon, Level::Individual) => Bucket::OopOonIndividual,
            (BucketKind::Oop, Tier::Oon, Level::Family) => Bucket::OopOonFamily,
        }
    }

    fn index(self) -> usize {
        Bucket::ALL.iter().position(|bucket| *bucket == self).unwrap_or_default()
    }

    /// The bucket's fixed name, e.g. `deductible_inn_individual`.
    pub fn name(self) -> &'static str {
        Bucket::NAMES[self.index()]
    }

    /// The bucket named `text`, exactly as written.
    pub fn parse(text: &str) -> Result<Bucket, BucketError> {
        Bucket::NAMES.iter().position(|name| *name == text).map(|idx| Bucket::ALL[idx]).ok_or_else(|| BucketError(text.to_owned()))
    }

    pub fn kind(self) -> BucketKind {
        if self.index() < 4 { BucketKind::Deductible } else { BucketKind::Oop }
    }

    pub fn tier(self) -> Tier {
        if self.index() % 4 < 2 { Tier::Inn } else { Tier::Oon }
    }

    pub fn level(self) -> Level {
        if self.index().is_multiple_of(2) { Level::Individual } else { Level::Family }
    }
}

impl std::fmt::Display for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bucket_has_its_fixed_name_and_parts() {
        for kind in [BucketKind::Deductible, BucketKind::Oop] {
            for tier in [Tier::Inn, Tier::Oon] {
                for level in [Level::Individual, Level::Family] {
                    let bucket = Bucket::of(kind, tier, level);
                    assert_eq!((bucket.kind(), bucket.tier(), bucket.level()), (kind, tier, level));
                    let expected = format!(
                        "{}_{}_{}",
                        if kind == BucketKind::Deductible { "deductible" } else { "oop" },
                        if tier == Tier::Inn { "inn" } else { "oon" },
                        if level == Level::Individual { "individual" } else { "family" }
                    );
                    assert_eq!(bucket.name(), expected);
                    assert_eq!(Bucket::parse(&expected), Ok(bucket));
                    assert_eq!(serde_json::to_string(&bucket).unwrap(), format!("\"{expected}\""));
                }
            }
        }
    }

    #[test]
    fn an_unknown_bucket_name_is_refused_with_the_list() {
        let error = Bucket::parse("deductible_in_individual").unwrap_err();
        assert!(error.to_string().contains("`deductible_in_individual`"), "{error}");
        assert!(error.to_string().contains("oop_oon_family"), "{error}");
        assert!(Bucket::parse("Deductible_inn_individual").is_err());
    }
}
