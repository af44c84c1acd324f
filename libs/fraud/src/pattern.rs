//! The fixed list of fraud patterns (issue 20), and the level each is labelled at.

use serde::{Deserialize, Serialize};

/// A fraud pattern. The names are fixed: they are the labels of the generated
/// data, the alerts' `pattern` and the measurement's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// The same claim billed again to the same payer: same member, provider, date, codes, units and charges.
    ExactDuplicate,
    /// The same service billed again with something changed (charge, modifier, rendering provider, a line added or dropped).
    NearDuplicate,
    /// The same service billed to two payers (matched on keyed fingerprints), not as a COB secondary.
    CrossPayerDuplicate,
    /// A comprehensive code and its component billed apart, on one claim or on two claims for the same day.
    Unbundling,
    /// A provider whose E/M levels sit far above its specialty peers'.
    Upcoding,
    /// A provider billing more time on one day than a day can hold.
    ImpossibleDay,
    /// A claim from a provider on the exclusion list, for a service on or after the exclusion.
    ExcludedProvider,
    /// A service dated after the patient's death.
    AfterDeath,
    /// A provider whose daily claim count jumps far above its own baseline.
    VelocitySpike,
}

/// Where a pattern's labels (and its alerts) live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// `claim_id,pattern` (with the duplicated claim where relevant).
    Claim,
    /// `npi,date,pattern` with the date empty.
    Provider,
    /// `npi,date,pattern` with the date.
    ProviderDay,
}

impl Pattern {
    /// Every pattern, in the order.
    pub const ALL: [Pattern; 9] = [
        Pattern::ExactDuplicate,
        Pattern::NearDuplicate,
        Pattern::CrossPayerDuplicate,
        Pattern::Unbundling,
        Pattern::Upcoding,
        Pattern::ImpossibleDay,
        Pattern::ExcludedProvider,
        Pattern::AfterDeath,
        Pattern::VelocitySpike,
    ];

    /// The fixed name (`exact_duplicate`, ...), as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::ExactDuplicate => "exact_duplicate",
            Pattern::NearDuplicate => "near_duplicate",
            Pattern::CrossPayerDuplicate => "cross_payer_duplicate",
            Pattern::Unbundling => "unbundling",
            Pattern::Upcoding => "upcoding",
            Pattern::ImpossibleDay => "impossible_day",
            Pattern::ExcludedProvider => "excluded_provider",
            Pattern::AfterDeath => "after_death",
            Pattern::VelocitySpike => "velocity_spike",
        }
    }

    /// The level its labels live at.
    pub fn level(self) -> Level {
        match self {
            Pattern::Upcoding | Pattern::VelocitySpike => Level::Provider,
            Pattern::ImpossibleDay => Level::ProviderDay,
            _ => Level::Claim,
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`Pattern::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a fraud pattern (exact_duplicate, near_duplicate, cross_payer_duplicate, unbundling, upcoding, impossible_day, excluded_provider, after_death, velocity_spike)"
)]
pub struct UnknownPattern(pub String);

impl std::str::FromStr for Pattern {
    type Err = UnknownPattern;

    fn from_str(name: &str) -> Result<Pattern, UnknownPattern> {
        Pattern::ALL.into_iter().find(|pattern| pattern.as_str() == name).ok_or_else(|| UnknownPattern(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_through_serde_and_from_str() {
        for pattern in Pattern::ALL {
            assert_eq!(serde_json::to_string(&pattern).unwrap(), format!("\"{}\"", pattern.as_str()));
            assert_eq!(serde_json::from_str::<Pattern>(&format!("\"{pattern}\"")).unwrap(), pattern);
            assert_eq!(pattern.as_str().parse::<Pattern>(), Ok(pattern));
        }
        assert_eq!("duplicate".parse::<Pattern>(), Err(UnknownPattern("duplicate".into())));
    }
}
