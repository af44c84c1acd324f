//! libs/benefits is pure: it depends on no crate that does IO (so it cannot
//! name tokio, sea-orm, axum or a bus), and its source names no `std::fs`,
//! `std::net`, `std::process` or `std::env`.

const PURE_DEPENDENCIES: &[&str] =
    &["claimtrail-codes", "claimtrail-events", "claimtrail-policy", "rust_decimal", "serde", "serde_json", "schemars", "utoipa", "time", "hex", "thiserror"];
const FORBIDDEN_STD: &[&str] = &["std::fs", "std::net", "std::process", "std::env"];

#[test]
fn the_crate_depends_only_on_pure_crates() {
    let manifest = include_str!("../Cargo.toml");
    let dependencies = manifest.split("[dependencies]").nth(1).and_then(|rest| rest.split("\n[").next()).unwrap_or("");
    let mut n_dependencies = 0;
    for dependency in dependencies.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')) {
        let name = dependency.split(['.', ' ', '=']).next().unwrap_or("");
        assert!(PURE_DEPENDENCIES.contains(&name), "libs/benefits must stay pure, but depends on `{name}`");
        n_dependencies += 1;
    }
    assert!(n_dependencies >= 5, "the manifest's dependencies were not found");
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
    assert!(n_files >= 8, "the crate's modules were not found in {}", dir.display());
}
