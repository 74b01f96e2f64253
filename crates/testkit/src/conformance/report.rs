//! What a conformance run found: each behaviour passed, failed (and why),
//! or did not apply to the provider's shape (and why not).

use std::fmt;

/// One behaviour's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The behaviour held.
    Passed,
    /// The behaviour broke; the text says how.
    Failed(String),
    /// The behaviour does not apply to this provider's shape; the text says
    /// why (a provider without refresh tokens has no refresh to check).
    Skipped(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Passed => f.write_str("passed"),
            Verdict::Failed(why) => write!(f, "FAILED: {why}"),
            Verdict::Skipped(why) => write!(f, "skipped: {why}"),
        }
    }
}

/// The outcome of every behaviour, in the order they ran.
#[derive(Debug)]
pub struct ConformanceReport {
    pub(super) name: String,
    pub(super) shape: String,
    pub(super) results: Vec<(&'static str, Verdict)>,
}

impl ConformanceReport {
    /// Every behaviour and its verdict.
    pub fn results(&self) -> &[(&'static str, Verdict)] {
        &self.results
    }

    /// The verdict of the behaviour `name`, if it ran.
    pub fn verdict(&self, name: &str) -> Option<&Verdict> {
        self.results
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// The shape the suite found: refresh tokens, who signs in, which
    /// credentials the provider reads.
    pub fn shape(&self) -> &str {
        &self.shape
    }

    /// The behaviours that broke, with why.
    pub fn failures(&self) -> Vec<(&'static str, &str)> {
        self.results
            .iter()
            .filter_map(|(name, v)| match v {
                Verdict::Failed(why) => Some((*name, why.as_str())),
                _ => None,
            })
            .collect()
    }

    /// The behaviours that did not apply, with why.
    pub fn skipped(&self) -> Vec<(&'static str, &str)> {
        self.results
            .iter()
            .filter_map(|(name, v)| match v {
                Verdict::Skipped(why) => Some((*name, why.as_str())),
                _ => None,
            })
            .collect()
    }

    /// Panics, naming every behaviour that broke, unless none did; prints
    /// the skipped ones and why, so a skip is never silent.
    pub fn assert_passed(&self) {
        eprintln!("{self}");
        let failures = self.failures();
        if !failures.is_empty() {
            let lines: Vec<String> = failures
                .iter()
                .map(|(n, e)| format!("  - {n}: {e}"))
                .collect();
            panic!(
                "conformance of `{}`: {} of {} behaviours broke:\n{}",
                self.name,
                failures.len(),
                self.results.len(),
                lines.join("\n")
            );
        }
    }
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "conformance of `{}` ({}):", self.name, self.shape)?;
        for (name, verdict) in &self.results {
            writeln!(f, "  {name}: {verdict}")?;
        }
        Ok(())
    }
}
