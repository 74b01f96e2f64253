//! Secrets: no password, client secret or token reaches `Debug`, an error
//! or a log line, whatever happens; identifiers and user names may.

use std::sync::Arc;

use authkit_core::{ExposeSecret, MemoryStore};

use super::{ensure, lifetime};
use crate::capture::capture_logs;
use crate::conformance::suite::Conformance;
use crate::server::Fault;

impl Conformance {
    pub(super) async fn keeps_secrets(&self) -> Result<(), String> {
        let (server, credentials) = self.start().await;
        let (logs, guard) = capture_logs();
        let mut seen = Vec::new();
        let (provider, _) = self.provider(&server, &credentials)?;
        seen.push(format!("{provider:?}"));
        let manager = self
            .signed_in_manager(
                &server,
                &credentials,
                Arc::clone(&provider),
                MemoryStore::new(),
            )
            .await?;
        let tokens = manager
            .token_set()
            .await
            .map_err(|e| format!("first token failed: {e}"))?;
        seen.push(format!("{tokens:?} {manager:?}"));
        server
            .clock()
            .advance(lifetime(&tokens) + time::Duration::minutes(1));
        server.inject(Fault::TruncatedJson);
        if let Err(error) = manager.access_token().await {
            seen.push(format!("{error:?} {error}"));
        }
        server.clock().advance(time::Duration::minutes(2));
        let renewed = manager
            .token_set()
            .await
            .map_err(|e| format!("renewal failed: {e}"))?;
        seen.push(format!("{renewed:?}"));
        let wrong_credentials = credentials.wrong_secrets();
        let (wrong, _) = self.provider(&server, &wrong_credentials)?;
        seen.push(format!("{wrong:?}"));
        if let Err(error) = wrong.authenticate(&server.context()).await {
            seen.push(format!("{error:?} {error}"));
        }
        drop(guard);
        seen.push(logs.text());
        let mut secrets = server.all_secrets();
        secrets.push(wrong_credentials.password.clone());
        secrets.extend(wrong_credentials.client_secret.clone());
        secrets.push(renewed.access_token().expose_secret().to_owned());
        let text = seen.join("\n");
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            ensure(
                !text.contains(secret.as_str()),
                format!(
                    "a secret ({} chars) appeared in Debug, an error or a log line",
                    secret.len()
                ),
            )?;
        }
        Ok(())
    }
}
