//! libs/policy is pure: it depends on no crate that does IO (so it cannot
//! name tokio, sea-orm, axum or a bus), and its source names no `std::fs`,
//! `std::net` or `std::process`. Loaders read only the `impl Read` given.

// serde (no IO): the row types serialize into the decision record, so a replay reads the rows a decision used.
const PURE_DEPENDENCIES: &[&str] = &["claimtrail-codes", "claimtrail-events", "rust_decimal", "time", "uuid", "thiserror", "serde"];
const FORBIDDEN_STD: &[&str] = &["std::fs", "std::net", "std::process", "std::env"];

#[test]
fn the_crate_depends_only_on_pure_crates() {
    let manifest = include_str!("../Cargo.toml");
    let dependencies = manifest.split("[dependencies]").nth(1).and_then(|rest| rest.split("\n[").next()).unwrap_or("");
    for dependency in dependencies.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')) {
        let name = dependency.split(['.', ' ', '=']).next().unwrap_or("");
        assert!(PURE_DEPENDENCIES.contains(&name), "libs/policy must stay pure, but depends on `{name}`");
    }
}

#[test]
fn the_source_names_no_file_network_or_process_io() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut n_files = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display())) {
        let path = entry.unwrap_or_else(|error| panic!("{error}")).path();
        let source = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        for (line_idx, line) in source.lines().enumerate().filter(|(_, line)| !line.trim_start().starts_with("//")) {
            for name in FORBIDDEN_STD {
                assert!(!line.contains(name), "{}:{} names {name}", path.display(), line_idx + 1);
            }
        }
        n_files += 1;
    }
    assert!(n_files >= 10, "the crate's modules were not found in {}", dir.display());
}
