//! A labelled synthetic world for fraud detection (issue 20), and the
//! measurement of the detectors on it.
//!
//! The generator is deterministic in its seed and makes claims the way the
//! world's providers would send them, with fraud of the nine patterns
//! injected among benign look-alikes, and labels beside them. The detectors
//! (libs/fraud) never read this crate: this crate depends on them, not the
//! other way round, and the measurement feeds them only what the fraud
//! service would have ([`LabelledWorld::facts`], [`LabelledWorld::reference`]).
//!
//! # Layout
//!
//! - [`rng`]: [`Rng`], SplitMix64.
//! - [`catalogue`]: specialties (volumes, E/M mixes, codes, places, fees) and the NCCI-like pairs.
//! - [`world`]: [`WorldConfig`], [`LabelledWorld::generate`], labels and their CSV, prevalence.
//! - [`measure`]: scan a world, precision and recall per pattern, the peer-outlier ROC.

pub mod catalogue;
pub mod measure;
pub mod rng;
pub mod world;

pub use measure::{RocPoint, Scan, Score, labelled_peer_scores, measurement_key, peer_roc, scan, score};
pub use rng::Rng;
pub use world::{
    ClaimLabel, Death, LabelledWorld, Prevalence, ProviderLabel, SynthClaim, SynthLine, SynthMember, SynthProvider, WorldConfig, npi_with_check_digit,
};
