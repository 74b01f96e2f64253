//! Credentials: each one the provider reads made wrong on its own, a
//! provider only a person signs in, and the server's reason for a refusal
//! reaching the caller.

use authkit_core::{Error, ErrorCode};

use super::ensure;
use crate::conformance::shape::Shape;
use crate::conformance::suite::Conformance;
use crate::server::Fault;

/// The reason the description behaviour's refusal gives, in plain words.
const SERVER_REASON: &str = "the server says why in its own words";

impl Conformance {
    /// Each credential the provider reads, made wrong on its own (so a
    /// refusal of one cannot hide how another is refused): identifiers and
    /// user names as much as secrets.
    pub(super) async fn refuses_wrong_credentials(&self, shape: &Shape) -> Result<(), String> {
        for which in &shape.reads {
            let (server, credentials) = self.start().await;
            let (provider, _) = self.provider(&server, &credentials.with_wrong(which))?;
            match provider.authenticate(&server.context()).await {
                Ok(_) => {
                    return Err(format!(
                        "a wrong {which} was accepted (does the provider send what it reads?)"
                    ));
                }
                Err(error) => {
                    let code = error.refusal().map(|r| r.code().clone());
                    ensure(
                        matches!(
                            code,
                            Some(ErrorCode::InvalidGrant | ErrorCode::InvalidClient)
                        ),
                        format!(
                            "a wrong {which}: expected a refusal of the credentials (invalid_grant or invalid_client), got: {error}; a server that answers with another code is re-coded in the classifier with Refusal::with_code"
                        ),
                    )?;
                    ensure(
                        !error.is_retryable(),
                        format!("a wrong {which}: the refusal was classified as retryable"),
                    )?;
                }
            }
            ensure(
                server.log().len() == 1,
                format!(
                    "a wrong {which}: the refusal was retried: {} requests",
                    server.log().len()
                ),
            )?;
        }
        Ok(())
    }

    /// A refusal whose reason is in the field the server's error shape
    /// names: the refusal's description and the error's message carry it.
    pub(super) async fn reads_refusal_descriptions(&self) -> Result<(), String> {
        let (server, credentials) = self.start().await;
        let (provider, _) = self.provider(&server, &credentials)?;
        let field = server.error_shape().description_field;
        server.inject(Fault::Refusal {
            status: 400,
            code: "invalid_request".into(),
            description: SERVER_REASON.into(),
        });
        let error = match self.first_tokens(&server, &credentials, &provider).await {
            Ok(_) => return Err("the refusal the server sent was not reported".to_owned()),
            Err(error) => error,
        };
        let refusal = error
            .refusal()
            .ok_or_else(|| format!("expected a refusal, got: {error}"))?;
        ensure(
            refusal
                .description()
                .is_some_and(|d| d.contains(SERVER_REASON)),
            format!(
                "the server's reason, sent in `{field}`, is not the refusal's description ({:?}): name the field with TokenEndpointBuilder::description_field(\"{field}\")",
                refusal.description()
            ),
        )?;
        ensure(
            error.to_string().contains(SERVER_REASON),
            format!("the error's message does not give the server's reason: {error}"),
        )
    }

    pub(super) async fn asks_for_a_person(&self) -> Result<(), String> {
        let (server, credentials) = self.start().await;
        let (provider, _) = self.provider(&server, &credentials)?;
        match provider.authenticate(&server.context()).await {
            Err(Error::SignInRequired { .. }) => ensure(
                server.log().is_empty(),
                "authenticate sent a request instead of asking for a person",
            ),
            other => Err(format!(
                "expected SignInRequired from authenticate, got {other:?}"
            )),
        }
    }
}
