//! Configuration in layers, each overriding the one before: the flags'
//! built-in defaults, a configuration file, the environment, the command line.
//!
//! The file is named by `--config FILE` (or `CLAIMTRAIL_CONFIG`). One setting
//! per line, `name = value`, where the name is a long flag of the command
//! being run (`batch-max = 512`) or its environment variable
//! (`CLAIMTRAIL_BATCH_MAX = 512`); `#` starts a comment, values may be
//! quoted, and list settings take commas (`witness-urls = http://a,http://b`).
//! The file's values become the flags' defaults, so the environment and the
//! command line still override them, and every value is validated by the same
//! rules as a flag. A name the command does not have, a malformed line or an
//! unreadable file stops the start with the file, line and reason.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Settings a file may hold, at most.
const SETTINGS_MAX: usize = 500;

/// `--config FILE` / `--config=FILE` among `args`, else `CLAIMTRAIL_CONFIG`.
pub fn config_path(args: &[String]) -> Option<PathBuf> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--config" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("CLAIMTRAIL_CONFIG").filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The `(name, value)` lines of a configuration file.
pub fn parse(text: &str, path: &Path) -> anyhow::Result<Vec<(usize, String, String)>> {
    let mut settings = Vec::new();
    for (line_idx, line) in text.lines().enumerate() {
        let line_no = line_idx + 1;
        let content = line.split_once('#').map_or(line, |(before, _)| before).trim();
        if content.is_empty() {
            continue;
        }
        let (name, value) = content.split_once('=').with_context(|| format!("{} line {line_no}: `{content}` is not `name = value`", path.display()))?;
        let (name, mut value) = (name.trim(), value.trim());
        anyhow::ensure!(!name.is_empty(), "{} line {line_no}: the setting has no name", path.display());
        if value.len() >= 2 && ((value.starts_with('"') && value.ends_with('"')) || (value.starts_with('\'') && value.ends_with('\''))) {
            value = &value[1..value.len() - 1];
        }
        settings.push((line_no, name.to_owned(), value.to_owned()));
        anyhow::ensure!(settings.len() <= SETTINGS_MAX, "{}: more than {SETTINGS_MAX} settings", path.display());
    }
    Ok(settings)
}

/// The subcommand path `args` runs (`["serve", "intake"]` → `["serve"]`, the
/// level whose flags a file configures), found by walking `command`'s subcommands.
fn subcommand_path(command: &clap::Command, args: &[String]) -> Vec<String> {
    let mut path = Vec::new();
    let mut current = command;
    for arg in args.iter().skip(1).filter(|a| !a.starts_with('-')) {
        match current.find_subcommand(arg) {
            Some(sub) => {
                path.push(arg.clone());
                current = sub;
            }
            None => break,
        }
    }
    path
}

/// Applies a file's settings as defaults of the flags of the command `args` runs.
pub fn apply(command: clap::Command, args: &[String], settings: &[(usize, String, String)], path: &Path) -> anyhow::Result<clap::Command> {
    let sub_path = subcommand_path(&command, args);
    anyhow::ensure!(
        !sub_path.is_empty() || settings.is_empty(),
        "{}: a configuration file configures a subcommand (serve, up, ...), and none is given",
        path.display()
    );
    let mut command = command;
    for (line_no, name, value) in settings {
        command = set_default(command, &sub_path, name, value).map_err(|reason| anyhow::anyhow!("{} line {line_no}: {reason}", path.display()))?;
    }
    Ok(command)
}

fn set_default(command: clap::Command, sub_path: &[String], name: &str, value: &str) -> Result<clap::Command, String> {
    let Some((first, rest)) = sub_path.split_first() else {
        let id = command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(name) || arg.get_env().is_some_and(|env| env == name))
            .map(|arg| arg.get_id().clone())
            .ok_or_else(|| format!("`{name}` is not a setting of this command (see its --help: the long flags and their environment variables)"))?;
        let value: &'static str = Box::leak(value.to_owned().into_boxed_str());
        // A required flag (e.g. the database URL) is satisfied by the file's value.
        return Ok(command.mut_arg(id, |arg| arg.default_value(value).required(false)));
    };
    let mut result = Ok(());
    let command = command.mut_subcommand(first.as_str(), |sub| match set_default(sub.clone(), rest, name, value) {
        Ok(sub) => sub,
        Err(reason) => {
            result = Err(reason);
            sub
        }
    });
    result.map(|()| command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory as _, FromArgMatches as _};

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    fn settings_of(cli: crate::Cli) -> claimtrail_runtime::ServeSettings {
        match cli.command {
            crate::Command::Serve { settings, .. } => *settings,
            _ => panic!("not serve"),
        }
    }

    #[test]
    fn a_file_sets_defaults_that_flags_override_and_names_may_be_flags_or_variables() {
        let path = Path::new("claimtrail.conf");
        let text =
            "# layered\nbatch-max = 512\nCLAIMTRAIL_DB_POOL_MAX = \"3\"  # quoted\ndatabase-url = postgres://db/claimtrail\nwitness-urls = http://a,http://b\n";
        let settings = parse(text, path).unwrap();
        let argv = args(&["claimtrail", "serve", "intake", "--db-pool-max", "5"]);
        let command = apply(crate::Cli::command(), &argv, &settings, path).unwrap();
        let serve = settings_of(crate::Cli::from_arg_matches(&command.try_get_matches_from(&argv).unwrap()).unwrap());
        assert_eq!(serve.batch_max, 512, "from the file");
        assert_eq!(serve.db_pool_max, 5, "the flag wins over the file");
        assert_eq!(serve.database_url, "postgres://db/claimtrail");
        assert_eq!(serve.anchor.witness_urls, ["http://a", "http://b"]);
        assert_eq!(serve.anchor.checkpoint_entries, 1_000, "untouched settings keep the built-in default");
    }

    #[test]
    fn bad_files_name_the_line_and_bad_values_are_refused_like_flags() {
        let path = Path::new("claimtrail.conf");
        let err = parse("batch-max 512\n", path).unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("name = value"), "{err}");
        let argv = args(&["claimtrail", "serve", "intake"]);
        let settings = parse("\nbatch-maxx = 1\n", path).unwrap();
        let err = apply(crate::Cli::command(), &argv, &settings, path).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("batch-maxx"), "{err}");
        let settings = parse("batch-max = 0\ndatabase-url = postgres://db/x\n", path).unwrap();
        let command = apply(crate::Cli::command(), &argv, &settings, path).unwrap();
        let refused = command.try_get_matches_from(&argv).unwrap_err().to_string();
        assert!(refused.contains("batch-max") && refused.contains("0"), "{refused}");
    }

    #[test]
    fn the_config_path_comes_from_the_flag_in_either_form() {
        assert_eq!(config_path(&args(&["claimtrail", "serve", "intake", "--config", "a.conf"])), Some(PathBuf::from("a.conf")));
        assert_eq!(config_path(&args(&["claimtrail", "up", "--config=b.conf"])), Some(PathBuf::from("b.conf")));
    }
}
