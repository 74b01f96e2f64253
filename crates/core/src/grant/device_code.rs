//! The device code grant (RFC 8628 §3.4): what a device polls with while the
//! user approves on another screen. [`crate::device::DeviceAuthorization`] drives it.

use crate::grant::grant_type::{FormParam, GrantType, resource_params};
use crate::secret::{DeviceCode, ExposeSecret};

/// `urn:ietf:params:oauth:grant-type:device_code` with the device code of one
/// device authorization.
#[derive(Clone, Debug)]
pub struct DeviceCodeGrant {
    device_code: DeviceCode,
    scopes: Vec<String>,
    resources: Vec<String>,
}

impl DeviceCodeGrant {
    /// Polls with `device_code`. `scopes` are what the authorization asked
    /// for (the set is bound to them when the response names no `scope`);
    /// `resources` go on each token request (RFC 8707 §2.2) and bind the set.
    pub fn new(device_code: DeviceCode, scopes: Vec<String>, resources: Vec<String>) -> Self {
        Self {
            device_code,
            scopes,
            resources,
        }
    }
}

impl GrantType for DeviceCodeGrant {
    fn grant_type(&self) -> &str {
        "urn:ietf:params:oauth:grant-type:device_code"
    }

    fn parameters(&self) -> Vec<FormParam> {
        std::iter::once(FormParam::secret(
            "device_code",
            self.device_code.expose_secret(),
        ))
        .chain(resource_params(&self.resources))
        .collect()
    }

    fn requested_scopes(&self) -> &[String] {
        &self.scopes
    }

    fn resources(&self) -> &[String] {
        &self.resources
    }
}
