//! libs/fraud is pure: its dependencies do no IO, and no file of its source
//! (detectors included) names IO, SQL, HTTP or a bus
//! (`claimtrail_runtime::purity`, the check every domain core passes).

/// libs/policy is pure too (its own purity test): the NCCI tables and the modifier rule adjudication applies.
const PURE_DEPENDENCIES: &[&str] = &["claimtrail-policy", "uuid", "time", "serde", "thiserror", "sha3", "hmac"];

#[test]
fn the_crate_depends_only_on_pure_crates() {
    let manifest = include_str!("../Cargo.toml");
    let dependencies = manifest.split("[dependencies]").nth(1).and_then(|rest| rest.split("\n[").next()).unwrap_or("");
    let names: Vec<&str> = dependencies
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.split(['.', ' ', '=']).next().unwrap_or(""))
        .collect();
    assert!(names.len() >= 5, "the manifest's dependencies were not found");
    for name in names {
        assert!(PURE_DEPENDENCIES.contains(&name), "libs/fraud must stay pure, but depends on `{name}`");
    }
}

#[test]
fn no_source_file_names_io() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let n_files = claimtrail_runtime::purity::check_domain_dir(&dir).unwrap();
    assert!(n_files >= 15, "the crate's modules were not found in {}", dir.display());
}
