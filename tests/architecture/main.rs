//! The shape of the house, checked: no crate has an import circle, the
//! core's root stays small, and `docs/architecture.md` pictures the crates
//! in layers their dependencies follow, and every crate's files in layers
//! that its imports really follow.
//!
//! When a check fails it prints what it found and, for the picture, the
//! layers the code has now, ready to paste into the page.

mod graph;
mod packages;

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use graph::{Graph, public_root_names};

/// The most names the core's root may make public: what a user of the
/// manager needs. Everything else lives in a module named for its role.
const CORE_ROOT_LIMIT: usize = 30;

/// The first line of the page's picture of the packages (the others
/// picture a crate's files and start with its `src` directory).
const PACKAGES: &str = "packages";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every package's `src/`, relative to the workspace: the facade's and each
/// crate's under `crates/` (the provider template included).
fn source_dirs() -> Vec<String> {
    let root = workspace();
    let mut dirs = vec!["src".to_string()];
    let mut stack = vec![root.join("crates")];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("crates/ is readable") {
            let path = entry.expect("entry").path();
            if path.join("Cargo.toml").is_file() && path.join("src").is_dir() {
                let relative = path.strip_prefix(&root).expect("inside").to_string_lossy();
                dirs.push(format!("{}/src", relative.replace('\\', "/")));
            }
            if path.is_dir() && path.file_name().is_some_and(|n| n != "node_modules") {
                stack.push(path);
            }
        }
    }
    dirs.sort();
    dirs.dedup();
    dirs
}

#[test]
fn no_crate_has_an_import_circle() {
    let mut report = String::new();
    for dir in source_dirs() {
        let graph = Graph::read(&workspace().join(&dir));
        for circle in graph.circles() {
            report.push_str(&format!("{dir}: {}\n", circle.join(" <-> ")));
            report.push_str(&graph.describe(&circle));
        }
    }
    assert!(report.is_empty(), "import circles:\n{report}");
}

#[test]
fn the_reader_finds_a_circle_through_a_re_export() {
    // A parent that re-exports its child, and a child that reaches back
    // into its parent: the smallest circle the shape forbids.
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path();
    fs::create_dir(src.join("endpoint")).expect("mkdir");
    fs::write(
        src.join("lib.rs"),
        "mod endpoint;\npub use endpoint::Builder;\n",
    )
    .expect("write");
    fs::write(
        src.join("endpoint/mod.rs"),
        "mod builder;\npub use builder::Builder;\n/// Max.\npub const MAX: u32 = 1;\n",
    )
    .expect("write");
    fs::write(
        src.join("endpoint/builder.rs"),
        "// use crate::lib_only; (a comment names nothing)\nlet s = \"crate::endpoint::MAX\";\n\
         pub struct Builder(u32);\nfn f() -> u32 { super::MAX }\n",
    )
    .expect("write");
    let graph = Graph::read(src);
    assert_eq!(
        graph.circles(),
        vec![vec![
            "endpoint/builder.rs".to_string(),
            "endpoint/mod.rs".to_string()
        ]]
    );
    assert!(
        graph
            .describe(&graph.circles()[0])
            .contains("endpoint/builder.rs -> endpoint/mod.rs (MAX)")
    );

    // Moving the constant to a file of its own breaks the circle.
    fs::write(
        src.join("endpoint/mod.rs"),
        "mod builder;\nmod limits;\npub use builder::Builder;\npub use limits::MAX;\n",
    )
    .expect("write");
    fs::write(
        src.join("endpoint/limits.rs"),
        "/// Max.\npub const MAX: u32 = 1;\n",
    )
    .expect("write");
    fs::write(
        src.join("endpoint/builder.rs"),
        "use super::limits::MAX;\npub struct Builder(u32);\nfn f() -> u32 { MAX }\n",
    )
    .expect("write");
    let graph = Graph::read(src);
    assert!(graph.circles().is_empty(), "{:?}", graph.circles());
    assert_eq!(
        graph.layers().expect("no circle"),
        vec![
            vec!["lib.rs".to_string()],
            vec!["endpoint/mod.rs".to_string()],
            vec!["endpoint/builder.rs".to_string()],
            vec!["endpoint/limits.rs".to_string()],
        ]
    );
}

#[test]
fn the_core_root_holds_what_a_user_of_the_manager_needs() {
    let names: Vec<String> = public_root_names(&workspace().join("crates/core/src/lib.rs"))
        .into_iter()
        .filter(|n| !n.starts_with("__"))
        .collect();
    assert!(
        names.len() <= CORE_ROOT_LIMIT,
        "the core's root makes {} items public (at most {CORE_ROOT_LIMIT}): {}",
        names.len(),
        names.join(", ")
    );
    for needed in [
        "TokenManager",
        "TokenManagerBuilder",
        "GrantType",
        "TokenProvider",
        "TokenStore",
        "TokenSet",
        "Error",
        "GenericProvider",
        "MemoryStore",
        "ClientAuth",
        "TokenEndpoint",
    ] {
        assert!(
            names.iter().any(|n| n == needed),
            "{needed} is not at the root"
        );
    }
}

/// A picture block: ```text, then `<dir>` alone on the first line, then
/// one line per layer, the top first, files separated by spaces.
fn pictures(page: &str) -> Vec<(String, Vec<Vec<String>>)> {
    let mut out = Vec::new();
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```text" {
            continue;
        }
        let Some(head) = lines.next() else { break };
        let head = head.trim();
        let is_picture =
            (head == "src" || head == PACKAGES || head.ends_with("/src")) && !head.contains(' ');
        let mut layers = Vec::new();
        for line in lines.by_ref() {
            if line.trim_start().starts_with("```") {
                break;
            }
            let files: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            if !files.is_empty() {
                layers.push(files);
            }
        }
        if is_picture {
            out.push((head.to_string(), layers));
        }
    }
    out
}

fn suggestion(dir: &str, graph: &Graph) -> String {
    match graph.layers() {
        Some(layers) => {
            let body: Vec<String> = layers
                .iter()
                .map(|l| format!("  {}", l.join("  ")))
                .collect();
            format!("```text\n{dir}\n{}\n```", body.join("\n"))
        }
        None => "(no layers: the crate has an import circle)".to_string(),
    }
}

#[test]
fn the_architecture_page_pictures_every_crate_in_layers_the_code_follows() {
    let page =
        fs::read_to_string(workspace().join("docs/architecture.md")).expect("docs/architecture.md");
    let pictures = pictures(&page);
    let mut problems = String::new();
    let dirs = source_dirs();
    for (dir, _) in &pictures {
        if dir != PACKAGES && !dirs.contains(dir) {
            problems.push_str(&format!(
                "the page pictures {dir}, which is not a package's src/\n"
            ));
        }
    }
    for dir in &dirs {
        let graph = Graph::read(&workspace().join(dir));
        let Some((_, layers)) = pictures.iter().find(|(d, _)| d == dir) else {
            problems.push_str(&format!(
                "{dir} has no picture; its layers now:\n{}\n",
                suggestion(dir, &graph)
            ));
            continue;
        };
        let pictured: Vec<&String> = layers.iter().flatten().collect();
        let pictured_set: BTreeSet<&String> = pictured.iter().copied().collect();
        let actual: BTreeSet<&String> = graph.files.iter().collect();
        let mut wrong = Vec::new();
        if pictured.len() != pictured_set.len() {
            wrong.push("a file is pictured twice".to_string());
        }
        for missing in actual.difference(&pictured_set) {
            wrong.push(format!("{missing} is not pictured"));
        }
        for gone in pictured_set.difference(&actual) {
            wrong.push(format!("{gone} is pictured but does not exist"));
        }
        let layer_of = |file: &str| layers.iter().position(|l| l.iter().any(|f| f == file));
        for file in &graph.files {
            for target in graph.imports(file) {
                if let (Some(from), Some(to)) = (layer_of(file), layer_of(target))
                    && to <= from
                {
                    wrong.push(format!(
                        "{file} imports {target}, which is not pictured below it"
                    ));
                }
            }
        }
        if !wrong.is_empty() {
            problems.push_str(&format!(
                "{dir}:\n  {}\n  its layers now:\n{}\n",
                wrong.join("\n  "),
                suggestion(dir, &graph)
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/architecture.md is out of date:\n{problems}"
    );
}

#[test]
fn the_picture_reader_reads_layers_top_first() {
    let page =
        "intro\n```text\ncrates/x/src\n  lib.rs\n  a.rs  b.rs\n```\n```text\nnot a picture\n```\n";
    assert_eq!(
        pictures(page),
        vec![(
            "crates/x/src".to_string(),
            vec![
                vec!["lib.rs".to_string()],
                vec!["a.rs".to_string(), "b.rs".to_string()]
            ]
        )]
    );
}

#[test]
fn the_architecture_page_pictures_the_crates_in_layers_their_dependencies_follow() {
    let page =
        fs::read_to_string(workspace().join("docs/architecture.md")).expect("docs/architecture.md");
    let pictures = pictures(&page);
    let Some((_, layers)) = pictures.iter().find(|(head, _)| head == PACKAGES) else {
        panic!(
            "docs/architecture.md has no picture of the packages (a text block starting `{PACKAGES}`)"
        );
    };
    let packages: Vec<packages::Package> = source_dirs()
        .iter()
        .map(|src| {
            let dir = src.strip_suffix("src").unwrap_or(src);
            packages::read(&workspace().join(dir).join("Cargo.toml"))
        })
        .collect();
    assert!(
        packages
            .iter()
            .any(|p| p.dependencies.contains("authkit-core")),
        "the manifests were read without a dependency on authkit-core"
    );
    let layer_of = |name: &str| layers.iter().position(|l| l.iter().any(|p| p == name));
    let mut wrong = Vec::new();
    let pictured: Vec<&String> = layers.iter().flatten().collect();
    for package in &packages {
        match pictured.iter().filter(|p| **p == &package.name).count() {
            0 => wrong.push(format!("{} is not pictured", package.name)),
            1 => {}
            _ => wrong.push(format!("{} is pictured twice", package.name)),
        }
        for dependency in &package.dependencies {
            if let (Some(from), Some(to)) = (layer_of(&package.name), layer_of(dependency))
                && to <= from
            {
                wrong.push(format!(
                    "{} depends on {dependency}, which is not pictured below it",
                    package.name
                ));
            }
        }
    }
    for name in pictured {
        if !packages.iter().any(|p| &p.name == name) {
            wrong.push(format!("{name} is pictured but is not a package"));
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/architecture.md's picture of the packages is out of date:\n  {}",
        wrong.join("\n  ")
    );
}
