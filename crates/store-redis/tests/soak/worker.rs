//! The soak's worker processes: the test binary run again with
//! [`ROLE`] set, each keeping every account's token valid until the
//! deadline, and writing one line per new token, one per failure and one
//! summary per account to its output file.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use authkit_core::{AccountKey, Error, ExposeSecret, StoreError, TokenManager, TokenStore};
use authkit_store_file::FileStore;

use super::{FILE_ACCOUNT, provider, redis_accounts, redis_store, soak_policy, unix_millis};

const ROLE: &str = "AUTHKIT_SOAK_ROLE";

/// What every worker is told.
pub struct Plan {
    pub cluster_urls: Vec<String>,
    pub token_url: String,
    pub deadline_ms: u64,
    /// The file store's directory, when the disk fault can be made.
    pub file_dir: Option<PathBuf>,
}

/// Starts `processes` workers; each writes its report to a file in `dir`.
pub fn spawn(plan: &Plan, processes: usize, dir: &Path) -> Vec<(Child, PathBuf)> {
    let exe = std::env::current_exe().unwrap();
    (0..processes)
        .map(|i| {
            let out = dir.join(format!("worker-{i}.txt"));
            let mut command = Command::new(&exe);
            command
                .args([
                    "--exact",
                    "worker::soak_worker_process",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(ROLE, "worker")
                .env("SOAK_CLUSTER_URLS", plan.cluster_urls.join(","))
                .env("SOAK_TOKEN_URL", &plan.token_url)
                .env("SOAK_DEADLINE_MS", plan.deadline_ms.to_string())
                .env("SOAK_OUT", &out)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some(dir) = &plan.file_dir {
                command.env("SOAK_FILE_DIR", dir);
            }
            (command.spawn().expect("a worker"), out)
        })
        .collect()
}

/// What an error is, for the report: a class a caller decides on.
pub fn class_of(error: &Error) -> String {
    match error {
        Error::Transient(t) => format!("transient:{:?}", t.kind()),
        Error::Store(s) => format!("store:{}", store_class(s)),
        Error::UnsavedRotation { source, .. } => {
            format!("unsaved_rotation:{}", store_class(source))
        }
        Error::Refused(r) => format!("refused:{}", r.code().as_str()),
        Error::SignInRequired { .. } => "sign_in_required".to_owned(),
        Error::Protocol(_) => "protocol".to_owned(),
        Error::Config(_) => "config".to_owned(),
        _ => "other".to_owned(),
    }
}

fn store_class(error: &StoreError) -> &'static str {
    match error {
        StoreError::Unavailable { .. } => "unavailable",
        StoreError::LockLost { .. } => "lock_lost",
        StoreError::Full { .. } => "full",
        StoreError::Io { .. } => "io",
        _ => "other",
    }
}

fn fingerprint(secret: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    secret.hash(&mut hasher);
    hasher.finish()
}

/// Not a test of its own: the entry point of the soak's worker processes.
/// Each keeps every account's token valid until the deadline and writes
/// one line per failure and one summary per account to its output file.
#[test]
fn soak_worker_process() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    assert_eq!(role, "worker");
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set"));
    let urls: Vec<String> = var("SOAK_CLUSTER_URLS")
        .split(',')
        .map(str::to_owned)
        .collect();
    let token_url = var("SOAK_TOKEN_URL");
    let deadline: u64 = var("SOAK_DEADLINE_MS").parse().unwrap();
    let file_dir = std::env::var("SOAK_FILE_DIR").ok();
    let out = PathBuf::from(var("SOAK_OUT"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let lines = runtime.block_on(async move {
        let redis = redis_store(urls).await.expect("the cluster");
        let mut accounts: Vec<(AccountKey, Arc<dyn TokenStore>)> = redis_accounts()
            .into_iter()
            .map(|key| (key, Arc::new(redis.clone()) as Arc<dyn TokenStore>))
            .collect();
        if let Some(dir) = file_dir {
            let store = FileStore::open(dir).expect("the file store");
            accounts.push((AccountKey::new(FILE_ACCOUNT), Arc::new(store)));
        }
        let tasks: Vec<_> = accounts
            .into_iter()
            .map(|(key, store)| {
                let manager = TokenManager::builder(provider(&key, &token_url), store)
                    .refresh_policy(soak_policy())
                    .build();
                tokio::spawn(keep_alive(key, manager, deadline))
            })
            .collect();
        let mut lines = Vec::new();
        for task in tasks {
            lines.extend(task.await.expect("an account's task ends without a panic"));
        }
        lines
    });
    let mut file = std::fs::File::create(out).unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
    std::process::exit(0);
}

/// One account in one worker: asks for its token every 50-250 ms, as a
/// busy service would, until the deadline.
async fn keep_alive(key: AccountKey, manager: TokenManager, deadline: u64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut ok = 0u64;
    let mut tokens = BTreeSet::new();
    while unix_millis() < deadline {
        match manager.access_token().await {
            Ok(token) => {
                ok += 1;
                let print = fingerprint(token.expose_secret());
                if tokens.insert(print) {
                    lines.push(format!("TOKEN {} {key} {print:x}", unix_millis()));
                }
            }
            Err(error) => {
                let message = error.to_string().replace('\n', " ");
                lines.push(format!(
                    "FAIL {} {} {} {message}",
                    unix_millis(),
                    key,
                    class_of(&error)
                ));
            }
        }
        tokio::time::sleep(Duration::from_millis(50 + fastrand::u64(0..200))).await;
    }
    lines.push(format!("DONE {key} {ok}"));
    lines
}
