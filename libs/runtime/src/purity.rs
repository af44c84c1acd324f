//! The check that keeps a service's domain core pure (ARCHITECTURE.md, "The
//! shape of a service"): its source names nothing that does IO, SQL, HTTP or
//! messaging. Each service's tests call [`check_domain_dir`] on its
//! `src/domain`.

use std::path::Path;

/// Crates and modules a domain core must not name.
pub const FORBIDDEN: &[&str] =
    &["axum", "sea_orm", "tokio", "tokio_postgres", "claimtrail_store", "claimtrail_bus", "claimtrail_runtime", "async_nats", "reqwest", "std::fs", "std::net"];

/// The lines of `source` (comments aside) that name a forbidden crate or module, as `line: name`.
pub fn impure_lines(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (line_idx, line) in source.lines().enumerate().filter(|(_, line)| !line.trim_start().starts_with("//")) {
        for name in FORBIDDEN {
            if line.contains(&format!("use {name}")) || line.contains(&format!("{name}::")) {
                found.push(format!("{}: {name}", line_idx + 1));
            }
        }
    }
    found
}

/// Checks every file of `dir` and of its subdirectories; returns how many it read, or the offending lines by file.
pub fn check_domain_dir(dir: &Path) -> Result<usize, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (mut checked, mut faults) = (0, Vec::new());
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        // A module directory (`domain/bank/`) is checked file by file too.
        if path.is_dir() {
            match check_domain_dir(&path) {
                Ok(n_files) => checked += n_files,
                Err(fault) => faults.push(fault),
            }
            continue;
        }
        let source = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        faults.extend(impure_lines(&source).into_iter().map(|fault| format!("{}:{fault}", path.display())));
        checked += 1;
    }
    if faults.is_empty() { Ok(checked) } else { Err(format!("the domain core names IO: {}", faults.join(", "))) }
}

/// The test every service with a domain core carries: its `src/domain` names no IO.
#[macro_export]
macro_rules! domain_purity_test {
    () => {
        #[test]
        fn the_domain_core_does_no_io() {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain");
            let checked = $crate::purity::check_domain_dir(&dir).unwrap();
            assert!(checked >= 2, "the domain's modules were not found in {}", dir.display());
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_of_io_is_found_and_a_comment_is_not() {
        let source = "//! talks of tokio:: in a comment\nuse claimtrail_events::Money;\nuse sea_orm::Value;\nfn f() { tokio::spawn(async {}); }\n";
        assert_eq!(impure_lines(source), ["3: sea_orm", "4: tokio"]);
        assert!(impure_lines("use uuid::Uuid;\npub fn decide() {}\n").is_empty());
    }
}
