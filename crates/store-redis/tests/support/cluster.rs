//! A real Redis Cluster for the tests: three primaries, each with one
//! replica, on 127.0.0.1, started with `redis-server --cluster-enabled yes`
//! and joined with `redis-cli --cluster create`, stopped when dropped.
//!
//! Failover is quick on purpose (`cluster-node-timeout` 1000 ms, and a
//! replica may always be promoted), so that the tests can kill a primary
//! and watch its replica take over within a few seconds.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The cluster's failure detection time, in milliseconds.
pub const NODE_TIMEOUT_MS: u64 = 1000;

/// One node: its port, its process and its directory.
struct Node {
    port: u16,
    child: Option<Child>,
    dir: PathBuf,
}

/// A running three-primary, three-replica cluster.
pub struct RedisCluster {
    _root: tempfile::TempDir,
    nodes: BTreeMap<u16, Node>,
}

/// A node's role as `CLUSTER NODES` reports it.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// The node's id.
    pub id: String,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Whether it is a primary.
    pub primary: bool,
    /// Whether the cluster considers it failed.
    pub failed: bool,
    /// For a replica, its primary's id.
    pub primary_id: Option<String>,
    /// For a primary, the slot ranges it serves.
    pub slots: Vec<(u16, u16)>,
}

impl RedisCluster {
    /// Starts one, or returns `None` (loudly) when `redis-server` or
    /// `redis-cli` is missing; with `AUTHKIT_REQUIRE_REDIS=1` that fails the
    /// test instead.
    pub fn start() -> Option<Self> {
        for tool in ["redis-server", "redis-cli"] {
            let found = Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok();
            if !found {
                if std::env::var("AUTHKIT_REQUIRE_REDIS").as_deref() == Ok("1") {
                    panic!("{tool} is not on PATH and AUTHKIT_REQUIRE_REDIS=1");
                }
                eprintln!(
                    "SKIPPED: {tool} is not on PATH; install Debian's redis-server to run the cluster tests"
                );
                return None;
            }
        }
        let root = tempfile::tempdir().expect("temporary directory");
        let mut nodes = BTreeMap::new();
        for port in free_ports(6) {
            let dir = root.path().join(port.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            nodes.insert(
                port,
                Node {
                    port,
                    child: None,
                    dir,
                },
            );
        }
        let mut cluster = Self { _root: root, nodes };
        let ports: Vec<u16> = cluster.nodes.keys().copied().collect();
        for port in &ports {
            cluster.launch(*port);
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for port in &ports {
            create.arg(format!("127.0.0.1:{port}"));
        }
        let created = create
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli --cluster create");
        assert!(created.success(), "redis-cli --cluster create failed");
        cluster.wait_until_healthy(Duration::from_secs(30));
        Some(cluster)
    }

    fn launch(&mut self, port: u16) {
        let node = self.nodes.get_mut(&port).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--cluster-enabled", "yes"])
            .args(["--cluster-config-file", "nodes.conf"])
            .args(["--cluster-node-timeout", &NODE_TIMEOUT_MS.to_string()])
            .args(["--cluster-replica-validity-factor", "0"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&node.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        node.child = Some(child);
        let started = Instant::now();
        while !ping(port) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server on port {port} did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Seed URLs for a cluster client: every node's.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .keys()
            .map(|port| format!("redis://127.0.0.1:{port}"))
            .collect()
    }

    /// The nodes as a live node sees them.
    pub fn topology(&self) -> Vec<NodeInfo> {
        let live = self
            .nodes
            .values()
            .find(|node| node.child.is_some() && ping(node.port))
            .expect("a live node");
        parse_nodes(&cli(live.port, &["CLUSTER", "NODES"]))
    }

    /// The port of the primary now serving `key`'s slot.
    pub fn primary_for(&self, key: &str) -> u16 {
        let slot = self.slot(key);
        self.topology()
            .into_iter()
            .find(|n| {
                n.primary && !n.failed && n.slots.iter().any(|(a, b)| (*a..=*b).contains(&slot))
            })
            .map(|n| n.port)
            .expect("a primary serves the slot")
    }

    /// The port of a replica of the primary on `primary_port`.
    pub fn replica_of(&self, primary_port: u16) -> u16 {
        let topology = self.topology();
        let id = topology
            .iter()
            .find(|n| n.port == primary_port)
            .map(|n| n.id.clone())
            .expect("the primary is known");
        topology
            .iter()
            .find(|n| n.primary_id.as_deref() == Some(&id) && !n.failed)
            .map(|n| n.port)
            .expect("the primary has a replica")
    }

    /// The slot of `key`, as the cluster computes it.
    pub fn slot(&self, key: &str) -> u16 {
        let port = *self.nodes.keys().next().unwrap();
        let port = if ping(port) { port } else { self.live_port() };
        cli(port, &["CLUSTER", "KEYSLOT", key])
            .trim()
            .parse()
            .expect("a slot number")
    }

    fn live_port(&self) -> u16 {
        self.nodes
            .values()
            .find(|node| node.child.is_some() && ping(node.port))
            .map(|node| node.port)
            .expect("a live node")
    }

    /// Kills the node on `port` with SIGKILL: no goodbye, no save.
    pub fn kill(&mut self, port: u16) {
        if let Some(mut child) = self.nodes.get_mut(&port).unwrap().child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the node on `port` again; it remembers the cluster from its
    /// `nodes.conf` and rejoins (a primary that was replaced comes back as
    /// a replica of its successor).
    pub fn restart(&mut self, port: u16) {
        self.kill(port);
        self.launch(port);
    }

    /// Stops the node on `port` (SIGSTOP) until [`resume`](Self::resume):
    /// alive to the kernel, silent to everyone.
    pub fn pause(&self, port: u16) {
        self.signal(port, "-STOP");
    }

    /// Lets a paused node go on (SIGCONT).
    pub fn resume(&self, port: u16) {
        self.signal(port, "-CONT");
    }

    fn signal(&self, port: u16, signal: &str) {
        let pid = self.nodes[&port]
            .child
            .as_ref()
            .expect("the node runs")
            .id();
        let sent = Command::new("kill")
            .arg(signal)
            .arg(pid.to_string())
            .status()
            .expect("kill");
        assert!(sent.success());
    }

    /// Waits until every running node reports `cluster_state:ok`, every
    /// replica's link to its primary is up and every primary has a replica.
    pub fn wait_until_healthy(&self, within: Duration) {
        let started = Instant::now();
        loop {
            let healthy = self
                .nodes
                .values()
                .filter(|node| node.child.is_some())
                .all(|node| {
                    let info = cli(node.port, &["CLUSTER", "INFO"]);
                    let replication = cli(node.port, &["INFO", "replication"]);
                    // A primary counts once its replica is attached and has
                    // finished its first sync (`state=online`; until then
                    // WAIT does not count it): a restarted old primary
                    // briefly says `role:master` before it learns it was
                    // replaced. A replica counts once its link is up and no
                    // sync is in progress.
                    let primary_ready = replication.contains("role:master")
                        && !replication.contains("connected_slaves:0")
                        && replication.contains("state=online")
                        && !replication.contains("state=wait_bgsave")
                        && !replication.contains("state=send_bulk");
                    let replica_ready = replication.contains("master_link_status:up")
                        && !replication.contains("master_sync_in_progress:1");
                    info.contains("cluster_state:ok") && (primary_ready || replica_ready)
                });
            if healthy {
                return;
            }
            assert!(
                started.elapsed() < within,
                "the cluster did not become healthy within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until a write to `key`'s slot is confirmed by a replica: a
    /// probe key in the same slot is written and `WAIT 1` asked on the same
    /// connection, until one replica acknowledges it. Health in `INFO` says
    /// a replica is attached; this says it acknowledges, which is what a
    /// store configured with `wait_for_replicas` counts on.
    pub fn wait_until_replicated(&self, key: &str, within: Duration) {
        let started = Instant::now();
        let probe = format!("{key}:replication-probe");
        loop {
            let primary = self.primary_for(key);
            let script = format!("SET {probe} 1\nWAIT 1 1000\nDEL {probe}\nWAIT 1 1000\n");
            let replies = cli_script(primary, &script);
            let acknowledged: Vec<&str> = replies.lines().skip(1).step_by(2).collect();
            if acknowledged.len() == 2 && acknowledged.iter().all(|n| n.trim() == "1") {
                return;
            }
            assert!(
                started.elapsed() < within,
                "no replica acknowledged a write to {key}'s slot within {within:?}: {replies}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until a replica serves `key`'s slot in place of the failed
    /// primary on `old_port`; returns how long that took.
    pub fn wait_for_failover(&self, key: &str, old_port: u16, within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let slot = self.slot(key);
            let promoted = self.topology().into_iter().any(|n| {
                n.primary
                    && !n.failed
                    && n.port != old_port
                    && n.slots.iter().any(|(a, b)| (*a..=*b).contains(&slot))
            });
            if promoted {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < within,
                "no replica took over within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        // SIGKILL ends a paused (SIGSTOPped) node too.
        let ports: Vec<u16> = self.nodes.keys().copied().collect();
        for port in ports {
            self.kill(port);
        }
    }
}

/// Runs `redis-cli -p port args...` and returns what it printed.
pub fn cli(port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stderr(Stdio::null())
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs the commands in `script`, one per line, on one `redis-cli`
/// connection, and returns what it printed, one reply per line.
pub fn cli_script(port: u16, script: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-cli");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write to redis-cli");
    let output = child.wait_with_output().expect("redis-cli");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn ping(port: u16) -> bool {
    cli(port, &["PING"]).trim() == "PONG"
}

/// `count` ports on 127.0.0.1 that are free, each with its cluster bus port
/// (port + 10000) free too.
fn free_ports(count: usize) -> Vec<u16> {
    let mut ports = Vec::new();
    let mut held = Vec::new();
    while ports.len() < count {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        if port > 55_000 {
            held.push(listener);
            continue;
        }
        let Ok(bus) = TcpListener::bind(("127.0.0.1", port + 10_000)) else {
            held.push(listener);
            continue;
        };
        held.push(listener);
        held.push(bus);
        ports.push(port);
    }
    ports
}

fn parse_nodes(text: &str) -> Vec<NodeInfo> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                return None;
            }
            let port = fields[1]
                .split('@')
                .next()?
                .rsplit(':')
                .next()?
                .parse()
                .ok()?;
            let flags = fields[2];
            let slots = fields[8..]
                .iter()
                .filter(|s| !s.starts_with('['))
                .filter_map(|range| {
                    let mut parts = range.split('-');
                    let start: u16 = parts.next()?.parse().ok()?;
                    let end: u16 = parts.next().map_or(Some(start), |e| e.parse().ok())?;
                    Some((start, end))
                })
                .collect();
            Some(NodeInfo {
                id: fields[0].to_owned(),
                port,
                primary: flags.contains("master"),
                failed: flags.contains("fail") && !flags.contains("fail?"),
                primary_id: (fields[3] != "-").then(|| fields[3].to_owned()),
                slots,
            })
        })
        .collect()
}
