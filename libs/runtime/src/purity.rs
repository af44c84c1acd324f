//! The architecture checks (ARCHITECTURE.md, "The shape of a service"):
//!
//! - a service's domain core is pure: its source names nothing that does IO,
//!   SQL, HTTP or messaging. Each service's tests call [`check_domain_dir`]
//!   on its `src/domain`.
//! - SQL lives in storage: no string literal that holds a statement
//!   (`SELECT`, `INSERT INTO`, `UPDATE`, `DELETE FROM`) outside the `storage`
//!   modules, libs/store and tests ([`check_no_sql_outside_storage`], run
//!   over the whole workspace by this module's tests).
//! - an event type is named by its type's `EVENT_TYPE`, never written out:
//!   no string literal holding one (`claim.submitted.v1`, ...) outside
//!   libs/events and tests ([`check_no_event_types_outside_events`]).

use std::path::Path;

/// Crates and modules a domain core must not name: IO crates, and the
/// service's own modules that do IO (its storage, API and consumer).
pub const FORBIDDEN: &[&str] = &[
    "axum",
    "sea_orm",
    "tokio",
    "tokio_postgres",
    "claimtrail_store",
    "claimtrail_bus",
    "claimtrail_runtime",
    "async_nats",
    "reqwest",
    "std::fs",
    "std::net",
    "crate::storage",
    "crate::api",
    "crate::consumer",
];

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

/// What starts or holds a SQL statement in a string literal. Built, so that
/// this file holds none of them as a literal itself.
fn sql_markers() -> [String; 7] {
    [
        ["SEL", "ECT "].concat(),
        ["INS", "ERT INTO"].concat(),
        ["UPD", "ATE "].concat(),
        ["DEL", "ETE FROM"].concat(),
        ["CRE", "ATE TABLE"].concat(),
        ["ALT", "ER TABLE"].concat(),
        ["DR", "OP TABLE"].concat(),
    ]
}

/// The string literals of `source` (normal, byte and raw), each with the
/// line it starts on; comments are skipped, and so is everything from the
/// first line that is `#[cfg(test)]` on (a file's unit tests come last).
pub fn string_literals(source: &str) -> Vec<(usize, String)> {
    let source = source.find("\n#[cfg(test)]").map_or(source, |tests_at| &source[..tests_at]);
    let chars: Vec<char> = source.chars().collect();
    let (mut literals, mut line, mut at) = (Vec::new(), 1usize, 0usize);
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    while at < chars.len() {
        let c = chars[at];
        let next = chars.get(at + 1).copied();
        match c {
            '\n' => {
                line += 1;
                at += 1;
            }
            '/' if next == Some('/') => {
                while at < chars.len() && chars[at] != '\n' {
                    at += 1;
                }
            }
            '/' if next == Some('*') => {
                at += 2;
                while at + 1 < chars.len() && !(chars[at] == '*' && chars[at + 1] == '/') {
                    line += usize::from(chars[at] == '\n');
                    at += 1;
                }
                at += 2;
            }
            '\'' => {
                // A char literal ('x', '\n', '"'), or a lifetime ('a) that is left alone.
                if next == Some('\\') {
                    at += 2;
                    while at < chars.len() && chars[at] != '\'' {
                        at += 1;
                    }
                    at += 1;
                } else if chars.get(at + 2) == Some(&'\'') {
                    at += 3;
                } else {
                    at += 1;
                }
            }
            'r' if (at == 0 || !is_ident(chars[at - 1]) || (at == 1 && chars[0] == 'b') || (at >= 2 && chars[at - 1] == 'b' && !is_ident(chars[at - 2])))
                && matches!(next, Some('"') | Some('#')) =>
            {
                let hashes = chars[at + 1..].iter().take_while(|c| **c == '#').count();
                if chars.get(at + 1 + hashes) != Some(&'"') {
                    at += 1;
                    continue;
                }
                let (start_line, mut text) = (line, String::new());
                at += 2 + hashes;
                while at < chars.len() {
                    if chars[at] == '"' && chars[at + 1..].iter().take(hashes).filter(|c| **c == '#').count() == hashes {
                        at += 1 + hashes;
                        break;
                    }
                    line += usize::from(chars[at] == '\n');
                    text.push(chars[at]);
                    at += 1;
                }
                literals.push((start_line, text));
            }
            '"' => {
                let (start_line, mut text) = (line, String::new());
                at += 1;
                while at < chars.len() && chars[at] != '"' {
                    if chars[at] == '\\' {
                        text.push(chars[at]);
                        at += 1;
                    }
                    if let Some(&c) = chars.get(at) {
                        line += usize::from(c == '\n');
                        text.push(c);
                    }
                    at += 1;
                }
                at += 1;
                literals.push((start_line, text));
            }
            _ => at += 1,
        }
    }
    literals
}

/// The string literals of `source` that hold SQL, as `line: marker`.
pub fn sql_lines(source: &str) -> Vec<String> {
    let markers = sql_markers();
    let mut found = Vec::new();
    for (line, text) in string_literals(source) {
        if let Some(marker) = markers.iter().find(|marker| text.contains(marker.as_str())) {
            found.push(format!("{line}: {}", marker.trim_end()));
        }
    }
    found
}

/// Whether `path` (relative to the workspace) may hold SQL: a `storage`
/// module (`storage.rs` or under `storage/`), libs/store, or tests (a
/// `tests` directory or a `tests.rs` test module).
pub fn may_hold_sql(path: &Path) -> bool {
    let components: Vec<&str> = path.components().filter_map(|component| component.as_os_str().to_str()).collect();
    components.iter().any(|name| matches!(*name, "storage" | "storage.rs" | "tests" | "tests.rs" | "benches"))
        || components.starts_with(&["libs", "store"])
        || components.first() == Some(&"tests")
}

/// Checks every Rust source under `libs/*/src` and `services/*/src` of the
/// workspace at `root` that may not hold SQL; returns how many it read, or
/// the literals holding SQL by file.
pub fn check_no_sql_outside_storage(root: &Path) -> Result<usize, String> {
    check_sources(root, may_hold_sql, sql_lines).map_err(|faults| format!("SQL outside the storage modules and libs/store: {faults}"))
}

/// The string literals of `source` that are an event type name or a
/// subject ending in one, as `line: type`. Prose that mentions one (an
/// OpenAPI description, a message) is not code naming it and is left alone.
pub fn event_type_lines(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (line, text) in string_literals(source).into_iter().filter(|(_, text)| !text.contains(char::is_whitespace)) {
        if let Some(event_type) = claimtrail_events::EVENT_TYPES.iter().find(|event_type| text.contains(**event_type)) {
            found.push(format!("{line}: {event_type}"));
        }
    }
    found
}

/// Whether `path` (relative to the workspace) may write an event type out:
/// libs/events, where each is defined once, and tests.
pub fn may_name_event_types(path: &Path) -> bool {
    let components: Vec<&str> = path.components().filter_map(|component| component.as_os_str().to_str()).collect();
    components.starts_with(&["libs", "events"]) || components.iter().any(|name| matches!(*name, "tests" | "benches")) || components.first() == Some(&"tests")
}

/// Checks every Rust source under `libs/*/src` and `services/*/src` of the
/// workspace at `root` outside libs/events: no literal names an event type.
pub fn check_no_event_types_outside_events(root: &Path) -> Result<usize, String> {
    check_sources(root, may_name_event_types, event_type_lines).map_err(|faults| format!("event types written out (use the type's EVENT_TYPE): {faults}"))
}

/// Runs `find` over every Rust source under `libs/*/src` and `services/*/src`
/// of the workspace at `root` that `exempt` does not exempt; returns how
/// many it read, or what it found by file.
fn check_sources(root: &Path, exempt: fn(&Path) -> bool, find: fn(&str) -> Vec<String>) -> Result<usize, String> {
    let mut files = Vec::new();
    for group in ["libs", "services"] {
        let crates = std::fs::read_dir(root.join(group)).map_err(|e| format!("{}: {e}", root.join(group).display()))?;
        for krate in crates {
            let src = krate.map_err(|e| e.to_string())?.path().join("src");
            if src.is_dir() {
                collect_rust_files(&src, &mut files)?;
            }
        }
    }
    let (mut checked, mut faults) = (0, Vec::new());
    for path in files {
        let relative = path.strip_prefix(root).unwrap_or(&path);
        if exempt(relative) {
            continue;
        }
        let source = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        faults.extend(find(&source).into_iter().map(|fault| format!("{}:{fault}", relative.display())));
        checked += 1;
    }
    if faults.is_empty() { Ok(checked) } else { Err(faults.join(", ")) }
}

fn collect_rust_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect_rust_files(&path, files)?;
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_sql_text_outside_the_storage_modules_libs_store_and_tests() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let checked = check_no_sql_outside_storage(&root).unwrap();
        assert!(checked >= 50, "only {checked} files were read under {}", root.display());
    }

    #[test]
    fn no_event_type_is_written_out_outside_libs_events_and_tests() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let checked = check_no_event_types_outside_events(&root).unwrap();
        assert!(checked >= 50, "only {checked} files were read under {}", root.display());
    }

    #[test]
    fn an_event_type_in_a_literal_is_found_and_its_constant_a_comment_or_prose_is_not() {
        let submitted = claimtrail_events::ClaimSubmitted::EVENT_TYPE;
        let source = format!(
            "// {submitted} in a comment\nlet kind = ClaimSubmitted::EVENT_TYPE;\nif kind == \"{submitted}\" {{}}\nlet subject = \"t1.claims.{submitted}\";\n#[doc = \"Stored; `{submitted}` emitted\"]\n"
        );
        assert_eq!(event_type_lines(&source), [format!("3: {submitted}"), format!("4: {submitted}")]);
        assert!(may_name_event_types(Path::new("libs/events/src/event.rs")));
        assert!(!may_name_event_types(Path::new("services/cli/src/bench_deployed.rs")));
    }

    #[test]
    fn a_statement_in_a_literal_is_found_and_one_in_a_comment_or_a_test_is_not() {
        let select = ["SEL", "ECT "].concat();
        let source = format!(
            "// {select}in a comment\nlet c = '\"';\nfn f<'a>(x: &'a str) {{}}\nlet sql = format!(\"{select}a FROM t\");\nlet raw = r#\"\n  {}\"#;\n#[cfg(test)]\nmod tests {{ const Q: &str = \"{select}1\"; }}\n",
            ["DEL", "ETE FROM t"].concat()
        );
        assert_eq!(sql_lines(&source), ["4: SELECT", "5: DELETE FROM"]);
        assert!(sql_lines("let message = \"select a payer\";\n").is_empty(), "lower case is prose");
    }

    #[test]
    fn storage_modules_libs_store_and_tests_may_hold_sql() {
        for path in [
            "services/intake/src/storage/claims.rs",
            "services/cli/src/storage.rs",
            "libs/store/src/outbox.rs",
            "libs/x12/tests/reading.rs",
            "services/adjudication/src/consumer/tests.rs",
        ] {
            assert!(may_hold_sql(Path::new(path)), "{path}");
        }
        for path in ["libs/bus/src/embedded.rs", "services/intake/src/api/claims.rs", "libs/runtime/src/auth.rs"] {
            assert!(!may_hold_sql(Path::new(path)), "{path}");
        }
    }

    #[test]
    fn an_import_of_io_is_found_and_a_comment_is_not() {
        let source = "//! talks of tokio:: in a comment\nuse claimtrail_events::Money;\nuse sea_orm::Value;\nfn f() { tokio::spawn(async {}); }\nuse crate::storage::claims;\n";
        assert_eq!(impure_lines(source), ["3: sea_orm", "4: tokio", "5: crate::storage"]);
        assert!(impure_lines("use uuid::Uuid;\npub fn decide() {}\n").is_empty());
    }
}
