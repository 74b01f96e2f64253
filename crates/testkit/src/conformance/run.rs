//! Running the suite: find the provider's shape, then run every behaviour
//! that applies to it, each against a fresh server.

use super::report::ConformanceReport;
use super::suite::Conformance;

impl Conformance {
    /// Finds the provider's shape, then runs every behaviour, each against a
    /// fresh server.
    pub async fn run(&self) -> ConformanceReport {
        let shape = self.shape().await;
        let results = self.behaviours(&shape).await;
        ConformanceReport {
            name: self.name.clone(),
            shape: shape.to_string(),
            results,
        }
    }
}
