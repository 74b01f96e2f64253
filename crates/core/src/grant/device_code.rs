//! The device code grant (RFC 8628 §3.4): what a device polls with while the
//! user approves on another screen. [`crate::DeviceAuthorization`] drives it.

use super::{FormParam, GrantType};
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
    /// Polls with `device_code`; `scopes` and `resources` are what the
    /// authorization asked for (the set is bound to them when the response
    /// names no `scope`).
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
        vec![FormParam::secret(
            "device_code",
            self.device_code.expose_secret(),
        )]
    }

    fn requested_scopes(&self) -> &[String] {
        &self.scopes
    }

    fn resources(&self) -> &[String] {
        &self.resources
    }
}
