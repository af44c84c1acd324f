//! Servers a test starts for itself, so that it can make them fail: a NATS
//! JetStream node (or a cluster of them) and a Postgres cluster, each in a
//! temporary directory on loopback ports of its own. The machine's shared
//! servers (5432, 4222) are never touched.
//!
//! Every server is stopped when its guard drops, also when a test fails.
//! Postgres refuses to run as root: as root, its programs run with the uid
//! and gid of the `postgres` user (set on the child process itself, so that
//! signals reach the server), which must exist (it does wherever the Debian
//! `postgresql` package is installed).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// A free loopback port: bound, read, released. Another process could take
/// it in between; the servers fail loudly when that happens.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("binding a loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// Waits until something accepts TCP connections on `port`, or `timeout` passes.
pub fn wait_port(port: u16, timeout: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing listens on 127.0.0.1:{port} after {timeout:?}")
}

/// Sends `signal` (`KILL`, `TERM`, `STOP`, `CONT`) to `pid`.
pub fn signal(pid: u32, signal: &str) -> anyhow::Result<()> {
    let status = Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status().context("running kill")?;
    anyhow::ensure!(status.success(), "kill -{signal} {pid} failed");
    Ok(())
}

/// Kills and reaps `child` (no-op when it has exited).
fn kill_child(child: &mut Child) {
    let _ = signal(child.id(), "CONT");
    let _ = child.kill();
    let _ = child.wait();
}

/// The `nats-server` binary: `NATS_SERVER` or the first on the PATH or in /usr/sbin.
pub fn nats_server_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("NATS_SERVER") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/bin")])
        .map(|dir| dir.join("nats-server"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from("nats-server"))
}

/// One `nats-server` with JetStream, its store in a directory that outlives
/// restarts of the process.
pub struct NatsNode {
    pub name: String,
    pub port: u16,
    pub cluster_port: u16,
    /// The other nodes' cluster ports; empty for a single node.
    pub routes: Vec<u16>,
    pub dir: tempfile::TempDir,
    pub process: Option<Child>,
}

impl NatsNode {
    /// The client URL, `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(Child::id)
    }

    fn write_config(&self) -> anyhow::Result<PathBuf> {
        let store = self.dir.path().join("jetstream");
        let mut config = format!(
            "server_name: {name}\nlisten: 127.0.0.1:{port}\njetstream {{\n  store_dir: \"{store}\"\n}}\n",
            name = self.name,
            port = self.port,
            store = store.display()
        );
        if !self.routes.is_empty() {
            let routes: Vec<String> = self.routes.iter().map(|port| format!("    nats-route://127.0.0.1:{port}")).collect();
            config.push_str(&format!("cluster {{\n  name: faults\n  listen: 127.0.0.1:{}\n  routes: [\n{}\n  ]\n}}\n", self.cluster_port, routes.join("\n")));
        }
        let path = self.dir.path().join("nats.conf");
        std::fs::write(&path, config)?;
        Ok(path)
    }

    /// Starts the process (again, on the same port and store) and waits for its client port.
    pub fn start(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.process.is_none(), "{} is running already", self.name);
        let config = self.write_config()?;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("nats.log"))?;
        let child = Command::new(nats_server_bin())
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("starting {} (set NATS_SERVER to the nats-server binary)", nats_server_bin().display()))?;
        self.process = Some(child);
        wait_port(self.port, Duration::from_secs(20)).with_context(|| format!("{} did not start (log: {})", self.name, self.log_path().display()))
    }

    /// kill -9, then reaps the process.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.process.take() {
            kill_child(&mut child);
        }
    }

    /// SIGTERM (lame duck off: the server stops at once, flushing its store), bounded by 10 s, then kill -9.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.process.take() {
            signal(child.id(), "TERM")?;
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(10) {
                if child.try_wait()?.is_some() {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            kill_child(&mut child);
        }
        Ok(())
    }

    /// SIGSTOP: the process stays, its sockets stay open, nothing answers.
    pub fn pause(&self) -> anyhow::Result<()> {
        signal(self.pid().context("not running")?, "STOP")
    }

    /// SIGCONT after [`NatsNode::pause`].
    pub fn resume(&self) -> anyhow::Result<()> {
        signal(self.pid().context("not running")?, "CONT")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("nats.log")
    }
}

impl Drop for NatsNode {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One node or a cluster of `nats-server` nodes on loopback.
pub struct Nats {
    pub nodes: Vec<NatsNode>,
}

impl Nats {
    /// A single JetStream node.
    pub fn single() -> anyhow::Result<Nats> {
        Nats::start(1)
    }

    /// `size` nodes; with more than one, a cluster whose routes name every node.
    pub fn start(size: usize) -> anyhow::Result<Nats> {
        let ports: Vec<(u16, u16)> = (0..size).map(|_| Ok((free_port()?, free_port()?))).collect::<anyhow::Result<_>>()?;
        let mut nodes = Vec::with_capacity(size);
        for (idx, (port, cluster_port)) in ports.iter().enumerate() {
            let routes = if size > 1 { ports.iter().map(|(_, cluster)| *cluster).collect() } else { Vec::new() };
            nodes.push(NatsNode { name: format!("n{}", idx + 1), port: *port, cluster_port: *cluster_port, routes, dir: tempfile::tempdir()?, process: None });
        }
        for node in &mut nodes {
            node.start()?;
        }
        Ok(Nats { nodes })
    }

    /// Waits until JetStream can place a stream on every node (a cluster's
    /// meta group has formed and elected a leader: until then a stream of
    /// several replicas is refused with "no suitable peers for placement"):
    /// a probe stream of one replica per node is created and deleted.
    pub async fn wait_jetstream(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let probe = async {
                let servers: Vec<async_nats::ServerAddr> = self.nodes.iter().map(|node| node.url().parse()).collect::<Result<_, _>>()?;
                let client = async_nats::connect(servers).await?;
                let jetstream = async_nats::jetstream::new(client);
                let name = format!("PROBE_{}", uuid::Uuid::now_v7().simple());
                let config = async_nats::jetstream::stream::Config {
                    name: name.clone(),
                    subjects: vec![format!("probe.{name}")],
                    num_replicas: self.nodes.len(),
                    ..Default::default()
                };
                jetstream.create_stream(config).await?;
                jetstream.delete_stream(&name).await?;
                anyhow::Ok(())
            };
            match tokio::time::timeout(Duration::from_secs(5), probe).await {
                Ok(Ok(())) => return Ok(()),
                failed if Instant::now() >= deadline => {
                    let reason = match failed {
                        Ok(Err(e)) => format!("{e:#}"),
                        _ => "the probe timed out".to_owned(),
                    };
                    bail!("JetStream of {} nodes not ready after {timeout:?}: {reason}", self.nodes.len());
                }
                _ => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }

    /// The client URL, naming every node (the client fails over between them).
    pub fn url(&self) -> String {
        self.nodes.iter().map(NatsNode::url).collect::<Vec<_>>().join(",")
    }

    /// The node named `name` (`n1`, `n2`, ...).
    pub fn node(&mut self, name: &str) -> anyhow::Result<&mut NatsNode> {
        self.nodes.iter_mut().find(|node| node.name == name).with_context(|| format!("no NATS node {name}"))
    }
}

/// A Postgres cluster of the test's own: `initdb` in a temporary directory,
/// trust authentication on loopback, its own port.
pub struct Postgres {
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub bin_dir: PathBuf,
    /// The uid and gid the programs run as (when we are root).
    pub user: Option<(u32, u32)>,
    pub process: Option<Child>,
}

/// The directory of `initdb`, `postgres` and `pg_ctl`: `PG_BIN_DIR`, else the
/// newest under /usr/lib/postgresql, else the PATH.
pub fn postgres_bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("postgres").is_file())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).unwrap_or_default()
}

/// The numeric id `id FLAG [USER]` prints (`-u`, `-g`).
fn id(flag: &str, user: Option<&str>) -> anyhow::Result<u32> {
    let output = Command::new("id").arg(flag).args(user).output().context("running id")?;
    anyhow::ensure!(output.status.success(), "id {flag} {user:?}: {}", String::from_utf8_lossy(&output.stderr).trim());
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
}

/// As root, the uid and gid of the `postgres` user; otherwise none (we run it as ourselves).
fn postgres_user() -> anyhow::Result<Option<(u32, u32)>> {
    if id("-u", None)? != 0 {
        return Ok(None);
    }
    Ok(Some((id("-u", Some("postgres")).context("Postgres refuses root; a postgres user is needed")?, id("-g", Some("postgres"))?)))
}

impl Postgres {
    /// A `Command` for a Postgres program, as the `postgres` user when we are root.
    fn program(&self, name: &str) -> Command {
        use std::os::unix::process::CommandExt as _;
        let mut command = Command::new(self.bin_dir.join(name));
        if let Some((uid, gid)) = self.user {
            command.uid(uid).gid(gid).env("HOME", self.dir.path());
        }
        command
    }

    /// initdb, then start.
    pub fn start() -> anyhow::Result<Postgres> {
        let dir = tempfile::Builder::new().prefix("claimtrail-pg").tempdir()?;
        let data = dir.path().join("data");
        let user = postgres_user()?;
        let mut postgres = Postgres { port: free_port()?, dir, data, bin_dir: postgres_bin_dir(), user, process: None };
        if user.is_some() {
            // The data directory must belong to the server's user.
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(postgres.dir.path()).status()?;
            anyhow::ensure!(status.success(), "chown of {} to postgres failed", postgres.dir.path().display());
        }
        let output = postgres
            .program("initdb")
            .args(["-D", path_str(&postgres.data)?, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"])
            .output()
            .context("running initdb")?;
        anyhow::ensure!(output.status.success(), "initdb failed: {}", String::from_utf8_lossy(&output.stderr));
        postgres.start_server()?;
        Ok(postgres)
    }

    /// `postgresql://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server process on the existing data directory and waits until it accepts connections.
    pub fn start_server(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.process.is_none(), "postgres is running already");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("postgres.log"))?;
        let child = self
            .program("postgres")
            .args(["-D", path_str(&self.data)?, "-p", &self.port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="])
            .args(["-c", "max_connections=200", "-c", "fsync=off", "-c", "full_page_writes=off"])
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .context("starting postgres")?;
        self.process = Some(child);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            let ready = self.program("pg_isready").args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", "1"]).output()?;
            if ready.status.success() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("postgres did not accept connections within 30 s (log: {})", self.dir.path().join("postgres.log").display())
    }

    /// A streaming replica of this (running) cluster: `pg_basebackup -R` into
    /// a temporary directory of its own, started on its own port as a hot
    /// standby that follows this one.
    pub fn replica(&self) -> anyhow::Result<Postgres> {
        anyhow::ensure!(self.process.is_some(), "the primary is not running");
        let dir = tempfile::Builder::new().prefix("claimtrail-pg-replica").tempdir()?;
        let data = dir.path().join("data");
        let mut replica = Postgres { port: free_port()?, dir, data, bin_dir: self.bin_dir.clone(), user: self.user, process: None };
        if replica.user.is_some() {
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(replica.dir.path()).status()?;
            anyhow::ensure!(status.success(), "chown of {} to postgres failed", replica.dir.path().display());
        }
        let output = replica
            .program("pg_basebackup")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-D", path_str(&replica.data)?])
            .args(["--write-recovery-conf", "--wal-method=stream", "--checkpoint=fast", "--no-sync"])
            .output()
            .context("running pg_basebackup")?;
        anyhow::ensure!(output.status.success(), "pg_basebackup failed: {}", String::from_utf8_lossy(&output.stderr));
        replica.start_server()?;
        Ok(replica)
    }

    /// Runs one SQL statement with `psql` (no client library needed, and
    /// usable while async code holds other connections).
    pub fn psql(&self, sql: &str) -> anyhow::Result<String> {
        let output = self
            .program("psql")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-d", "postgres", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .context("running psql")?;
        anyhow::ensure!(output.status.success(), "psql -c {sql:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Makes every commit wait until a standby has flushed it
    /// (`synchronous_standby_names = '*'`), so that a failover loses no
    /// acknowledged commit; waits until a standby streams synchronously.
    pub fn require_synchronous_standby(&self) -> anyhow::Result<()> {
        self.psql("ALTER SYSTEM SET synchronous_standby_names = '*'")?;
        self.psql("SELECT pg_reload_conf()")?;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if self.psql("SELECT COUNT(*) FROM pg_stat_replication WHERE sync_state = 'sync' AND state = 'streaming'")? == "1" {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("no standby streams synchronously after 30 s")
    }

    /// kill -9 of the postmaster (its sessions end when they notice), then reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.process.take() {
            kill_child(&mut child);
        }
    }

    /// Promotes this standby to a primary (`pg_ctl promote`, waiting up to 30 s).
    pub fn promote(&self) -> anyhow::Result<()> {
        let output = self.program("pg_ctl").args(["promote", "-D", path_str(&self.data)?, "-w", "-t", "30"]).output().context("running pg_ctl promote")?;
        anyhow::ensure!(
            output.status.success(),
            "pg_ctl promote failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(())
    }

    /// A fast shutdown (SIGINT: sessions are ended, the server checkpoints), bounded by 20 s, then kill -9.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.process.take() {
            signal(child.id(), "INT")?;
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(20) {
                if child.try_wait()?.is_some() {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            kill_child(&mut child);
        }
        Ok(())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(mut child) = self.process.take() {
            // An immediate shutdown: no waiting on the test's connections.
            let _ = signal(child.id(), "QUIT");
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            kill_child(&mut child);
        }
    }
}

fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str().with_context(|| format!("{} is not UTF-8", path.display()))
}

/// A small filesystem of its own (a size-limited tmpfs mounted on a
/// temporary directory), to fill up. Mounting needs root (or CAP_SYS_ADMIN);
/// [`SmallFilesystem::mount`] answers None where it is not permitted, and
/// the caller skips with a loud message. Unmounted (lazily) on drop.
pub struct SmallFilesystem {
    pub dir: tempfile::TempDir,
    pub size_bytes: u64,
    filler_idx: usize,
}

impl SmallFilesystem {
    /// Mounts a tmpfs of `size_bytes` on a new temporary directory; None when mounting is not permitted here.
    pub fn mount(size_bytes: u64) -> anyhow::Result<Option<SmallFilesystem>> {
        let dir = tempfile::Builder::new().prefix("claimtrail-small-fs").tempdir()?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_bytes},mode=0755"), "claimtrail-small-fs"])
            .arg(dir.path())
            .output()
            .context("running mount")?;
        if !output.status.success() {
            eprintln!(
                "SKIPPED: cannot mount a {size_bytes}-byte tmpfs on {} ({}); run the tests as root to cover a full disk",
                dir.path().display(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
            return Ok(None);
        }
        Ok(Some(SmallFilesystem { dir, size_bytes, filler_idx: 0 }))
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes filler files until the filesystem refuses another byte (ENOSPC); returns the bytes written.
    pub fn fill(&mut self) -> anyhow::Result<u64> {
        use std::io::Write as _;
        self.filler_idx += 1;
        let path = self.dir.path().join(format!("filler-{}", self.filler_idx));
        let mut file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let chunk = vec![0xA5_u8; 64 * 1024];
        let mut written = 0_u64;
        for size in [chunk.len(), 4096, 512, 1] {
            loop {
                match file.write(&chunk[..size]) {
                    Ok(0) => break,
                    Ok(n) => written += n as u64,
                    Err(e) if e.raw_os_error() == Some(28) => break,
                    Err(e) => return Err(e).with_context(|| format!("filling {}", path.display())),
                }
            }
        }
        let _ = file.sync_all();
        Ok(written)
    }

    /// Deletes every filler file.
    pub fn free(&mut self) -> anyhow::Result<()> {
        for idx in 1..=self.filler_idx {
            let path = self.dir.path().join(format!("filler-{idx}"));
            if path.exists() {
                std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            }
        }
        Ok(())
    }
}

impl Drop for SmallFilesystem {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("--lazy").arg(self.dir.path()).status();
    }
}
