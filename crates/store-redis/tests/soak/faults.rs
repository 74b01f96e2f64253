//! The faults the soak makes, and when each held.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};

use super::support::cluster::RedisCluster;
use super::unix_millis;

/// How long the authorization server refuses connections: longer than an
/// access token lives, so callers run out of valid tokens.
const SERVER_OUTAGE: Duration = Duration::from_secs(10);
/// How long the file store's disk stays full: longer than the time between
/// two refreshes, so refreshes happen on the full disk.
const DISK_FULL: Duration = Duration::from_secs(8);
/// One cycle of the three faults.
const CYCLE_MS: u64 = 40_000;
/// The part of a cycle its faults take.
const CYCLE_BUSY_MS: u64 = 38_000;

/// A TCP gate in front of the authorization server: open, it forwards each
/// connection; shut, nothing listens on its port and connections are
/// refused. Connections already through finish.
pub struct Gate {
    port: u16,
    accepting: tokio::sync::watch::Sender<bool>,
}

impl Gate {
    pub async fn start(upstream: u16) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let (accepting, mut wanted) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            loop {
                let socket = TcpSocket::new_v4().unwrap();
                socket.set_reuseaddr(true).unwrap();
                socket
                    .bind(([127, 0, 0, 1], port).into())
                    .expect("the gate's port");
                let listener = socket.listen(128).unwrap();
                loop {
                    tokio::select! {
                        accepted = listener.accept() => {
                            let Ok((client, _)) = accepted else { continue };
                            tokio::spawn(forward(client, upstream));
                        }
                        changed = wanted.changed() => {
                            if changed.is_err() { return; }
                            if !*wanted.borrow() { break; }
                        }
                    }
                }
                drop(listener);
                // Shut: wait until it is opened again.
                while !*wanted.borrow_and_update() {
                    if wanted.changed().await.is_err() {
                        return;
                    }
                }
            }
        });
        Self { port, accepting }
    }

    pub fn set_open(&self, open: bool) {
        let _ = self.accepting.send(open);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

async fn forward(mut client: TcpStream, upstream: u16) {
    if let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}

/// A `tmpfs` mounted for the file store; unmounted when dropped.
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    pub fn mount(at: &Path) -> Option<Self> {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if !root {
            assert!(
                std::env::var("AUTHKIT_REQUIRE_REAL_FAULTS").as_deref() != Ok("1"),
                "filling a disk under the file store needs root to mount a tmpfs, and AUTHKIT_REQUIRE_REAL_FAULTS=1"
            );
            eprintln!(
                "SKIPPED (in part): the file store's full disk needs root; the soak runs without it"
            );
            return None;
        }
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=512k", "tmpfs"])
            .arg(at)
            .status()
            .expect("mount");
        assert!(status.success(), "mount tmpfs at {}", at.display());
        Some(Self(at.to_owned()))
    }

    /// Fills it to the last byte; returns the filler file.
    pub fn fill(&self) -> PathBuf {
        authkit_testkit::support::fill_to_the_last_byte(&self.0)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// A fault and when it held, in Unix milliseconds.
pub struct Window {
    pub kind: Fault,
    pub fault: &'static str,
    pub from: u64,
    pub to: u64,
    /// How long the system took to recover, where the fault has a measure.
    pub note: String,
}

/// The faults the soak makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    RedisPrimaryKilled,
    ServerRefusing,
    DiskFull,
}

/// Sleeps until `offset_ms` after `started`.
async fn at(started: u64, offset_ms: u64) {
    let when = started + offset_ms;
    let now = unix_millis();
    if when > now {
        tokio::time::sleep(Duration::from_millis(when - now)).await;
    }
}

/// Makes the faults in cycles of 40 s while a whole cycle fits in
/// `seconds` from `started`: the primary serving `killed_key` killed, the
/// gate shut, the disk filled (when there is one). Returns when each held.
pub async fn run_cycles(
    cluster: &mut RedisCluster,
    gate: &Gate,
    disk: Option<&Tmpfs>,
    killed_key: &str,
    started: u64,
    seconds: u64,
) -> Vec<Window> {
    let mut windows = Vec::new();
    let mut cycle_start = 4_000;
    while cycle_start + CYCLE_BUSY_MS <= seconds * 1000 {
        // A Redis primary killed, replaced, and back as a replica.
        at(started, cycle_start).await;
        let from = unix_millis();
        let primary = cluster.primary_for(killed_key);
        let (failover, rejoined) = tokio::task::block_in_place(|| {
            cluster.kill(primary);
            let failover = cluster.wait_for_failover(killed_key, primary, Duration::from_secs(30));
            cluster.restart(primary);
            cluster.wait_until_healthy(Duration::from_secs(30));
            cluster.wait_until_replicated(killed_key, Duration::from_secs(30));
            (failover, Duration::from_millis(unix_millis() - from))
        });
        windows.push(Window {
            kind: Fault::RedisPrimaryKilled,
            fault: "a Redis primary killed",
            from,
            to: unix_millis(),
            note: format!("replica promoted in {failover:.1?}, old primary replicating again after {rejoined:.1?}"),
        });

        // The authorization server refuses connections for longer than an
        // access token lives: callers must be told.
        at(started, cycle_start + 16_000).await;
        let from = unix_millis();
        gate.set_open(false);
        tokio::time::sleep(SERVER_OUTAGE).await;
        gate.set_open(true);
        windows.push(Window {
            kind: Fault::ServerRefusing,
            fault: "the authorization server refusing connections",
            from,
            to: unix_millis(),
            note: format!("{SERVER_OUTAGE:?}, longer than a token lives"),
        });

        // The file store's disk full for longer than a refresh interval.
        if let Some(disk) = disk {
            at(started, cycle_start + 30_000).await;
            let from = unix_millis();
            let filler = disk.fill();
            tokio::time::sleep(DISK_FULL).await;
            std::fs::remove_file(filler).unwrap();
            windows.push(Window {
                kind: Fault::DiskFull,
                fault: "the file store's disk full",
                from,
                to: unix_millis(),
                note: format!("{DISK_FULL:?}, longer than a refresh interval"),
            });
        }
        cycle_start += CYCLE_MS;
    }

    windows
}
