//! The provider guide shows this template's code; this test keeps the two
//! the same, so the guide's code is always code that builds and conforms.
//! (A copy of the template for a real provider deletes this file.)

/// The Rust block that follows `<!-- template: <marker> -->` in the guide.
fn block_after(guide: &str, marker: &str) -> String {
    let tag = format!("<!-- template: {marker}");
    let start = guide
        .find(&tag)
        .unwrap_or_else(|| panic!("the guide has no block marked {marker}"));
    let rest = &guide[start..];
    let open = rest
        .find("```rust\n")
        .expect("a rust block after the marker")
        + "```rust\n".len();
    let close = rest[open..].find("```\n").expect("the block ends");
    rest[open..open + close].to_owned()
}

fn guide() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../docs/adding-a-provider.md"
    ))
    .expect("docs/adding-a-provider.md")
}

#[test]
fn the_guide_shows_the_whole_adapter_as_it_is() {
    let source = include_str!("../src/lib.rs");
    assert_eq!(
        block_after(&guide(), "src/lib.rs"),
        source,
        "docs/adding-a-provider.md's adapter differs from crates/testkit/template/src/lib.rs"
    );
}

#[test]
fn the_guides_conformance_test_is_the_templates() {
    let test = include_str!("conformance.rs");
    let shown = block_after(&guide(), "tests/conformance.rs");
    for part in shown.split("\n\n") {
        assert!(
            test.contains(part),
            "the guide's conformance code is not in crates/testkit/template/tests/conformance.rs:\n{part}"
        );
    }
}

#[test]
fn the_template_fits_in_sixty_lines() {
    let lines = include_str!("../src/lib.rs").lines().count();
    assert!(lines <= 60, "the template's adapter grew to {lines} lines");
}
