//! Postgres behind several hosts: libpq's multi-host connection string
//! (`postgres://user@h1:5432,h2:5432/db?target_session_attrs=read-write`)
//! for sqlx, which reads one host only.
//!
//! tokio-postgres (the anchor's COPY channel) understands the multi-host form
//! itself; sqlx does not, so [`Store::connect`](crate::Store::connect) splits
//! the string here into one set of options per host, connects the pool to
//! the first read-write host ([`find_primary`]), refuses connections that
//! turn out read-only (a standby), and [`follow_primary`] moves the pool to
//! whichever host is the primary after a failover.

use std::str::FromStr as _;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};
use sea_orm::sqlx::{self, Connection as _};
use sea_orm::{DbErr, RuntimeErr};

use crate::StoreError;

/// How long probing one host may take (connect and ask).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// How often the pool checks that its host is still the read-write primary.
pub const FOLLOW_INTERVAL: Duration = Duration::from_secs(1);

/// A Postgres URL split per host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
    /// One single-host URL per host, in the order given, without `target_session_attrs`.
    pub urls: Vec<String>,
    /// `target_session_attrs=read-write` (or `primary`): only a host that takes writes will do.
    pub read_write: bool,
}

impl Hosts {
    /// Whether the pool must pick and follow a host: several hosts, or one that must be read-write.
    pub fn is_selective(&self) -> bool {
        self.urls.len() > 1 || self.read_write
    }
}

/// Splits `url` (`postgres://` or `postgresql://`, one host or several
/// separated by commas) into one URL per host. `target_session_attrs` may be
/// `any`, `read-write` or `primary`; the other libpq values (`read-only`,
/// `standby`, `prefer-standby`) are refused, as is a host list given as
/// `?host=` parameters.
pub fn parse(url: &str) -> Result<Hosts, StoreError> {
    let redacted = crate::redact_url(url);
    let (scheme, rest) = ["postgres://", "postgresql://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme).map(|rest| (*scheme, rest)))
        .ok_or_else(|| StoreError::Config(format!("a Postgres URL starts with postgres:// or postgresql:// (got `{redacted}`)")))?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host_list) = match authority.rfind('@') {
        Some(at) => (&authority[..=at], &authority[at + 1..]),
        None => ("", authority),
    };
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, query),
        None => (tail, ""),
    };
    let mut read_write = false;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "target_session_attrs" => {
                read_write = match value {
                    "any" => false,
                    "read-write" | "primary" => true,
                    other => {
                        return Err(StoreError::Config(format!("target_session_attrs={other} is not supported (any, read-write or primary) in `{redacted}`")));
                    }
                }
            }
            "host" | "hostaddr" | "port" if value.contains(',') => {
                return Err(StoreError::Config(format!(
                    "a host list in `{key}=` is not supported; name the hosts in the URL's authority (postgres://user@h1:5432,h2:5432/db) in `{redacted}`"
                )));
            }
            _ => kept.push(pair),
        }
    }
    let query = if kept.is_empty() { String::new() } else { format!("?{}", kept.join("&")) };
    let urls = host_list
        .split(',')
        .map(|host| {
            if host.is_empty() {
                return Err(StoreError::Config(format!("the database URL `{redacted}` has an empty host in its host list")));
            }
            Ok(format!("{scheme}{userinfo}{host}{path}{query}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Hosts { urls, read_write })
}

/// The sqlx options of each host, in order.
pub fn options(hosts: &Hosts) -> Result<Vec<PgConnectOptions>, StoreError> {
    hosts
        .urls
        .iter()
        .map(|url| PgConnectOptions::from_str(url).map_err(|e| StoreError::Config(format!("database URL `{}`: {e}", crate::redact_url(url)))))
        .collect()
}

/// `host:port` of `options`, for messages.
pub fn address(options: &PgConnectOptions) -> String {
    format!("{}:{}", options.get_host(), options.get_port())
}

/// Whether the session on `conn` takes writes (`transaction_read_only` is off).
pub async fn is_read_write(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    let read_only: String = sqlx::query_scalar("SHOW transaction_read_only").fetch_one(conn).await?;
    Ok(read_only == "off")
}

/// The error of a connection that reached a read-only host: unavailable
/// (see [`crate::is_unavailable`]), so requests meanwhile get 503.
pub fn read_only_error() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "the database host is read-only (a standby), not the primary"))
}

/// The first host in `candidates` that accepts a connection within
/// [`PROBE_TIMEOUT`] and, when `read_write`, takes writes. The error names
/// every host and what it answered.
pub async fn find_primary(candidates: &[PgConnectOptions], read_write: bool) -> Result<PgConnectOptions, StoreError> {
    let mut answers = Vec::with_capacity(candidates.len());
    for options in candidates {
        let probe = async {
            let mut conn = PgConnection::connect_with(options).await?;
            let writable = if read_write { is_read_write(&mut conn).await? } else { true };
            let _ = conn.close().await;
            Ok::<bool, sqlx::Error>(writable)
        };
        match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Ok(true)) => return Ok(options.clone()),
            Ok(Ok(false)) => answers.push(format!("{} is read-only (a standby)", address(options))),
            Ok(Err(e)) => answers.push(format!("{}: {e}", address(options))),
            Err(_) => answers.push(format!("{} did not answer within {PROBE_TIMEOUT:?}", address(options))),
        }
    }
    Err(StoreError::Db(DbErr::Conn(RuntimeErr::Internal(format!("no database host is a read-write primary: {}", answers.join("; "))))))
}

/// Keeps `pool` on the read-write primary among `candidates`: every
/// [`FOLLOW_INTERVAL`] it asks its current host; when that host is gone or
/// has turned read-only, it probes the others in order and points the
/// pool's new connections at the first primary (connections to the old host
/// fail and are dropped). Ends when the pool is closed.
pub async fn follow_primary(pool: PgPool, candidates: Vec<PgConnectOptions>, read_write: bool) {
    let mut last_failure = String::new();
    loop {
        tokio::time::sleep(FOLLOW_INTERVAL).await;
        if pool.is_closed() {
            return;
        }
        let current = pool.connect_options();
        let healthy = tokio::time::timeout(PROBE_TIMEOUT, async {
            let mut conn = pool.acquire().await?;
            if read_write { is_read_write(&mut conn).await } else { Ok(true) }
        })
        .await;
        if matches!(healthy, Ok(Ok(true))) {
            continue;
        }
        match find_primary(&candidates, read_write).await {
            Ok(primary) => {
                last_failure.clear();
                if (primary.get_host(), primary.get_port()) != (current.get_host(), current.get_port()) {
                    tracing::warn!(from = %address(&current), to = %address(&primary), "the database primary moved; new connections go to the new primary");
                    // Keep every other setting (statement timeout, logging) of the pool's options.
                    let moved = (*current).clone().host(primary.get_host()).port(primary.get_port());
                    pool.set_connect_options(moved);
                }
            }
            Err(e) => {
                let message = e.to_string();
                if message != last_failure {
                    tracing::warn!(error.message = %message, "looking for the database primary");
                    last_failure = message;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_host_url_splits_into_one_url_per_host_without_target_session_attrs() {
        let hosts =
            parse("postgres://app:s3cret@10.0.0.1:5432,10.0.0.2:5433/claims?sslmode=disable&target_session_attrs=read-write&application_name=x").unwrap();
        assert_eq!(
            hosts.urls,
            vec![
                "postgres://app:s3cret@10.0.0.1:5432/claims?sslmode=disable&application_name=x",
                "postgres://app:s3cret@10.0.0.2:5433/claims?sslmode=disable&application_name=x"
            ]
        );
        assert!(hosts.read_write);
        assert!(hosts.is_selective());
        assert_eq!(options(&hosts).unwrap().iter().map(address).collect::<Vec<_>>(), vec!["10.0.0.1:5432", "10.0.0.2:5433"]);
    }

    #[test]
    fn a_single_host_url_is_kept_as_it_is() {
        let hosts = parse("postgresql://postgres@127.0.0.1:5432/postgres").unwrap();
        assert_eq!(hosts.urls, vec!["postgresql://postgres@127.0.0.1:5432/postgres"]);
        assert!(!hosts.read_write);
        assert!(!hosts.is_selective());
        let hosts = parse("postgres://db.internal?target_session_attrs=any").unwrap();
        assert_eq!(hosts.urls, vec!["postgres://db.internal"]);
        assert!(!hosts.is_selective());
    }

    #[test]
    fn unsupported_session_attributes_and_host_lists_in_parameters_are_refused_by_name() {
        let error = parse("postgres://a,b/db?target_session_attrs=prefer-standby").unwrap_err().to_string();
        assert!(error.contains("target_session_attrs=prefer-standby is not supported"), "{error}");
        let error = parse("postgres:///db?host=a,b").unwrap_err().to_string();
        assert!(error.contains("a host list in `host=` is not supported"), "{error}");
        let error = parse("postgres://u:pw@a,,b/db").unwrap_err().to_string();
        assert!(error.contains("empty host") && !error.contains("pw"), "{error}");
        assert!(parse("mysql://a/db").is_err());
    }

    #[tokio::test]
    async fn no_reachable_host_is_an_unavailable_error_naming_each_host() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let hosts = parse(&format!("postgres://postgres@127.0.0.1:{port},127.0.0.1:{port}/postgres?target_session_attrs=read-write")).unwrap();
        let error = find_primary(&options(&hosts).unwrap(), true).await.unwrap_err();
        assert!(error.is_unavailable());
        let message = error.to_string();
        assert!(message.contains("no database host is a read-write primary") && message.matches(&format!("127.0.0.1:{port}")).count() == 2, "{message}");
    }
}
