//! Where a token set came from, and so where it may go back to.
//!
//! A refresh token is a credential for one client at one authorization
//! server. Sent anywhere else it is at best refused and at worst stolen, and
//! an access token granted for some scopes does not grant others. So every
//! token set carries a [`Binding`]: the token endpoint that issued it, the
//! client it was issued to, the resources (RFC 8707) it was granted for, and
//! the scopes it was granted (from the response's `scope`, or the requested
//! ones when the server omits it, as RFC 6749 §5.1 allows).
//!
//! Providers declare the binding they would obtain
//! ([`crate::TokenProvider::binding`]); the endpoint stamps the binding on
//! every set it parses; the manager compares the two before it sends
//! anything (see `docs/architecture.md`, "Identity").

use std::collections::BTreeSet;
use std::fmt;

use sha2::{Digest, Sha256};
use url::Url;

use crate::secret::{AccountKey, ClientId};

/// A set of OAuth scopes, compared as a set (order and repeats do not matter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    /// The scopes in `scopes` (empty strings are dropped).
    pub fn new<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(
            scopes
                .into_iter()
                .map(Into::into)
                .filter(|s: &String| !s.is_empty())
                .collect(),
        )
    }

    /// Reads a space-separated `scope` value.
    pub fn parse(value: &str) -> Self {
        Self::new(value.split_whitespace())
    }

    /// Whether every scope of `requested` is in this set.
    pub fn covers(&self, requested: &Scopes) -> bool {
        requested.0.is_subset(&self.0)
    }

    /// The scopes of this set and of `other`.
    pub fn union(&self, other: &Scopes) -> Scopes {
        Scopes(self.0.union(&other.0).cloned().collect())
    }

    /// Whether there are no scopes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes, in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined: Vec<&str> = self.iter().collect();
        f.write_str(&joined.join(" "))
    }
}

/// The server, client, resources and scopes a token set belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Binding {
    token_endpoint: String,
    client_id: ClientId,
    resources: BTreeSet<String>,
    scopes: Scopes,
}

impl Binding {
    /// A binding to the token endpoint at `token_endpoint` and the client
    /// `client_id`, with no scopes or resources yet.
    pub fn new(token_endpoint: &Url, client_id: ClientId) -> Self {
        Self {
            token_endpoint: token_endpoint.as_str().to_owned(),
            client_id,
            resources: BTreeSet::new(),
            scopes: Scopes::default(),
        }
    }

    /// The same binding with these scopes.
    pub fn with_scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes;
        self
    }

    /// The same binding with these resources (RFC 8707).
    pub fn with_resources<I, S>(mut self, resources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resources = resources.into_iter().map(Into::into).collect();
        self
    }

    /// The token endpoint's URL, normalised (`Url`'s serialisation).
    pub fn token_endpoint(&self) -> &str {
        &self.token_endpoint
    }

    /// The client the tokens were issued to.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The resources the tokens were granted for.
    pub fn resources(&self) -> impl Iterator<Item = &str> {
        self.resources.iter().map(String::as_str)
    }

    /// The granted (or requested) scopes.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    /// Whether `other` names the same endpoint, client and resources: the
    /// only place this set's refresh token may be presented.
    pub fn same_origin(&self, other: &Binding) -> bool {
        self.token_endpoint == other.token_endpoint
            && self.client_id == other.client_id
            && self.resources == other.resources
    }

    /// Whether a set bound here may serve a configuration that wants
    /// `wanted`: same endpoint, client and resources, and every scope it asks
    /// for granted.
    pub fn serves(&self, wanted: &Binding) -> bool {
        self.same_origin(wanted) && self.scopes.covers(&wanted.scopes)
    }

    /// Eight hex digits that tell endpoint, client and resources apart (not
    /// scopes): the suffix of account keys, so two servers or clients never
    /// share a stored account.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.token_endpoint.as_bytes());
        hash.update(b"\n");
        hash.update(self.client_id.as_str().as_bytes());
        for resource in &self.resources {
            hash.update(b"\n");
            hash.update(resource.as_bytes());
        }
        hash.finalize()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl Binding {
    /// The account key for `name` at this binding: `name#fingerprint`, such
    /// as `voipex:alice@example.com#1a2b3c4d`. Readable, and never the same
    /// for two endpoints, clients or resources.
    pub fn account_key(&self, name: &str) -> AccountKey {
        AccountKey::new(format!("{name}#{}", self.fingerprint()))
    }
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "token endpoint {}, client {}",
            self.token_endpoint, self.client_id
        )?;
        if !self.resources.is_empty() {
            let resources: Vec<&str> = self.resources().collect();
            write!(f, ", resource {}", resources.join(" "))?;
        }
        if !self.scopes.is_empty() {
            write!(f, ", scopes {}", self.scopes)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(url: &str, client: &str) -> Binding {
        Binding::new(&Url::parse(url).unwrap(), ClientId::new(client))
    }

    #[test]
    fn scopes_compare_as_sets() {
        let granted = Scopes::parse("openid  profile email");
        assert!(granted.covers(&Scopes::parse("email openid")));
        assert!(!granted.covers(&Scopes::parse("openid admin")));
        assert!(granted.covers(&Scopes::default()));
    }

    #[test]
    fn another_endpoint_or_client_is_another_origin() {
        let prod = binding("https://auth.example.com/token", "api");
        assert!(prod.same_origin(&binding("https://AUTH.example.com:443/token", "api")));
        assert!(!prod.same_origin(&binding("https://staging.example.com/token", "api")));
        assert!(!prod.same_origin(&binding("https://auth.example.com/token", "other")));
        assert_ne!(
            prod.fingerprint(),
            binding("https://auth.example.com/token", "other").fingerprint()
        );
        assert_eq!(prod.fingerprint().len(), 8);
    }

    #[test]
    fn a_set_serves_only_the_scopes_it_was_granted() {
        let granted = binding("https://a/token", "c").with_scopes(Scopes::parse("read"));
        let wider = binding("https://a/token", "c").with_scopes(Scopes::parse("read write"));
        assert!(granted.serves(&binding("https://a/token", "c")));
        assert!(!granted.serves(&wider));
        assert!(wider.serves(&granted));
    }
}
