//! The workspace's packages and the dependencies between them, read from
//! their `Cargo.toml` files.
//!
//! Only normal dependencies count (`[dependencies]` and
//! `[target.….dependencies]`): a dev-dependency serves the package's own
//! tests and never reaches its users. A dependency is named by its key or,
//! when renamed, by its `package = "…"`. The reader is line-based, which is
//! enough for manifests written one dependency per line, as these are.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// One package: its name and the workspace packages it depends on.
pub struct Package {
    /// The `[package]` name.
    pub name: String,
    /// Names of the packages of ours (`authkit…`) it depends on.
    pub dependencies: BTreeSet<String>,
}

/// Reads the manifest `Cargo.toml` of one package.
pub fn read(manifest: &Path) -> Package {
    let text = fs::read_to_string(manifest).expect("a readable Cargo.toml");
    let mut section = String::new();
    let mut name = None;
    let mut dependencies = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if section == "package" && key == "name" && name.is_none() {
            name = Some(value.trim().trim_matches('"').to_string());
        }
        let normal = section == "dependencies"
            || (section.starts_with("target.") && section.ends_with(".dependencies"));
        if !normal {
            continue;
        }
        let dependency = renamed(value)
            .unwrap_or_else(|| key.split('.').next().unwrap_or(key).trim().to_string());
        if dependency.starts_with("authkit") {
            dependencies.insert(dependency);
        }
    }
    Package {
        name: name.expect("a [package] name"),
        dependencies,
    }
}

/// The `package = "…"` of an inline table, if the dependency is renamed.
fn renamed(value: &str) -> Option<String> {
    let at = value.find("package")?;
    let rest = value[at + "package".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let quoted = rest.trim_start().strip_prefix('"')?;
    Some(quoted.split('"').next()?.to_string())
}

#[test]
fn a_renamed_dependency_is_named_by_its_package() {
    assert_eq!(
        renamed(r#"{ package = "authkit-core", path = "../core" }"#),
        Some("authkit-core".to_string())
    );
    assert_eq!(renamed(r#"{ path = "../core" }"#), None);
}
