//! The provider guide's API sheet names everything a contributor reaches
//! for: every behaviour's constant, every knob of the mock server with its
//! signature, every fault, every credential of the context, and the
//! constants the suite and the core decide with. These tests read the
//! sources, so a knob added without its row fails here.

use authkit_core::error::DESCRIPTION_FIELDS;
use authkit_testkit::TELLING_CHARACTERS;
use authkit_testkit::conformance::SUITE_CLIENT_SECRET;

fn guide() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/adding-a-provider.md"
    ))
    .expect("docs/adding-a-provider.md")
}

/// The names after `marker` at the start of a trimmed line, up to the
/// first character that cannot be in a name.
fn names_after<'a>(source: &'a str, marker: &str) -> Vec<&'a str> {
    source
        .lines()
        .filter_map(|line| line.trim().strip_prefix(marker))
        .map(|rest| {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

/// The part of `source` from `start` to the first line that is `}`.
fn block<'a>(source: &'a str, start: &str) -> &'a str {
    let from = source.find(start).expect("the block starts");
    let rest = &source[from..];
    let end = rest.find("\n}\n").expect("the block ends");
    &rest[..end]
}

#[test]
fn every_behaviour_constant_has_its_row() {
    let source = include_str!("../src/conformance/behaviours/mod.rs");
    let names = names_after(block(source, "pub mod names"), "pub const ");
    assert!(names.len() >= 12, "{names:?}");
    let guide = guide();
    for name in names {
        assert!(
            guide.contains(&format!("| `{name}` |")),
            "the guide's behaviour table has no row for behaviour::{name}"
        );
    }
}

#[test]
fn every_knob_of_the_mock_server_is_given_with_its_signature() {
    let source = include_str!("../src/server/mod.rs");
    let builder = block(source, "impl MockAuthServerBuilder {");
    let mut knobs = names_after(builder, "pub fn ");
    knobs.extend(names_after(builder, "pub async fn "));
    assert!(knobs.len() >= 15, "{knobs:?}");
    let guide = guide();
    for knob in knobs {
        assert!(
            guide.contains(&format!("`{knob}(")),
            "the guide's knob table does not give `{knob}(..)`"
        );
    }
    // A signature, not only a name: the argument's type is shown.
    for signature in [
        "access_ttl(Duration)",
        "refresh_ttl(Option<Duration>)",
        "invalid_grant_status(u16)",
        "error_shape(ErrorShape { description_field: String, invalid_client_status: u16 })",
    ] {
        assert!(guide.contains(signature), "no `{signature}` in the guide");
    }
}

#[test]
fn every_fault_is_named() {
    let source = include_str!("../src/server/faults.rs");
    let faults = block(source, "pub enum Fault {");
    let guide = guide();
    let variants: Vec<&str> = faults
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with(char::is_uppercase))
        .map(|line| {
            line.split(|c: char| !c.is_alphanumeric())
                .next()
                .unwrap_or_default()
        })
        .collect();
    assert!(variants.len() >= 8, "{variants:?}");
    for variant in variants {
        assert!(
            guide.contains(&format!("`{variant}")),
            "the guide does not name Fault::{variant}"
        );
    }
}

#[test]
fn every_credential_of_the_context_is_named() {
    let source = include_str!("../src/conformance/context.rs");
    let context = block(source, "impl ProviderContext<'_> {");
    let guide = guide();
    for method in names_after(context, "pub fn ") {
        assert!(
            guide.contains(&format!("`ctx.{method}(")),
            "the guide does not name ctx.{method}()"
        );
    }
    assert!(guide.contains(".with_identifier("));
}

#[test]
fn the_constants_the_kit_decides_with_are_given_as_they_are() {
    let guide = guide();
    assert!(
        guide.contains(&format!("\"{SUITE_CLIENT_SECRET}\"")),
        "the guide gives SUITE_CLIENT_SECRET's value"
    );
    for field in DESCRIPTION_FIELDS {
        assert!(
            guide.contains(&format!("`{field}`")),
            "the guide does not list the description field `{field}`"
        );
    }
    for c in TELLING_CHARACTERS.iter().filter(|c| **c != ' ') {
        assert!(
            guide.contains(&format!("`{c}`")),
            "the guide does not list `{c}` among the telling characters"
        );
    }
}
