//! Logs: JSON lines on stderr, filtered by `RUST_LOG` (default `info`).
//! Spans carry ids (claim, event), never member data.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls do nothing.
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(format!("{default_filter},sqlx=warn,async_nats=warn")));
    let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(std::io::stderr).with_current_span(true).try_init();
}
