//! The import graph of one crate's files, read from its source text.
//!
//! A file imports another when it names an item through that file's module:
//! a `use` tree, or a path in code such as `crate::endpoint::retry::backoff()`,
//! `super::Inner` or, in a parent, `builder::TokenEndpointBuilder`. A path
//! is followed as deep as its segments name module files, so
//! `crate::endpoint::MAX_LIFETIME` imports `endpoint/mod.rs` even when that
//! file only re-exports the constant: a re-export is an import too, and that
//! is what keeps a parent's façade above its children.
//!
//! `mod x;` declarations are not imports (a parent always declares its
//! children), and paths into other crates are not followed. The reader is a
//! small tokenizer, not a Rust parser: it drops comments, strings and char
//! literals, then reads `use` trees and `a::b` chains. That is enough for
//! the code in this workspace, which names modules plainly (no `#[path]`,
//! no glob imports of sibling modules through macros).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// One crate's files and the imports between them.
pub struct Graph {
    /// Files relative to `src/`, such as `endpoint/mod.rs`.
    pub files: BTreeSet<String>,
    /// importing file → imported file → the names that make the import.
    pub edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
}

impl Graph {
    /// Reads every `.rs` file under `src` (the crate root is `lib.rs`, or
    /// `main.rs` for a binary-only crate).
    pub fn read(src: &Path) -> Graph {
        let mut modules: BTreeMap<Vec<String>, String> = BTreeMap::new();
        for file in rust_files(src) {
            let relative = file
                .strip_prefix(src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            if let Some(path) = module_path(&relative) {
                modules.insert(path, relative);
            }
        }
        let mut edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        let by_file: BTreeMap<String, Vec<String>> = modules
            .iter()
            .map(|(path, file)| (file.clone(), path.clone()))
            .collect();
        for (file, module) in &by_file {
            let text = fs::read_to_string(src.join(file)).expect("readable source");
            for (path, inline) in paths_in(&tokens(&text)) {
                let mut current = module.clone();
                current.extend(inline);
                if let Some((target, name)) = resolve(&modules, module, &current, &path)
                    && &target != file
                {
                    edges
                        .entry(file.clone())
                        .or_default()
                        .entry(target)
                        .or_default()
                        .insert(name);
                }
            }
        }
        Graph {
            files: modules.into_values().collect(),
            edges,
        }
    }

    /// The files each file imports.
    pub fn imports(&self, file: &str) -> impl Iterator<Item = &String> {
        self.edges.get(file).into_iter().flat_map(|m| m.keys())
    }

    /// Every strongly connected group of two or more files: each is an
    /// import circle.
    pub fn circles(&self) -> Vec<Vec<String>> {
        let files: Vec<&String> = self.files.iter().collect();
        let index: BTreeMap<&String, usize> =
            files.iter().enumerate().map(|(i, f)| (*f, i)).collect();
        let successors: Vec<Vec<usize>> = files
            .iter()
            .map(|f| {
                self.imports(f)
                    .filter_map(|t| index.get(t).copied())
                    .collect()
            })
            .collect();
        strongly_connected(&successors)
            .into_iter()
            .filter(|group| group.len() > 1)
            .map(|group| {
                let mut names: Vec<String> = group.into_iter().map(|i| files[i].clone()).collect();
                names.sort();
                names
            })
            .collect()
    }

    /// Explains a circle: every import between its files, with the names.
    pub fn describe(&self, circle: &[String]) -> String {
        let mut text = String::new();
        for from in circle {
            for (to, names) in self.edges.get(from).into_iter().flatten() {
                if circle.contains(to) {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    text.push_str(&format!("    {from} -> {to} ({})\n", names.join(", ")));
                }
            }
        }
        text
    }

    /// The files in layers, the top first: a file's layer is one above the
    /// highest file it imports, so every import goes down. `None` when there
    /// is a circle.
    pub fn layers(&self) -> Option<Vec<Vec<String>>> {
        if !self.circles().is_empty() {
            return None;
        }
        let mut height: BTreeMap<String, usize> = BTreeMap::new();
        fn measure(graph: &Graph, file: &str, height: &mut BTreeMap<String, usize>) -> usize {
            if let Some(h) = height.get(file) {
                return *h;
            }
            let h = graph
                .imports(file)
                .cloned()
                .collect::<Vec<_>>()
                .iter()
                .map(|t| measure(graph, t, height) + 1)
                .max()
                .unwrap_or(0);
            height.insert(file.to_string(), h);
            h
        }
        for file in &self.files {
            measure(self, file, &mut height);
        }
        let top = height.values().copied().max().unwrap_or(0);
        let mut layers = vec![Vec::new(); top + 1];
        for (file, h) in height {
            layers[top - h].push(file);
        }
        Some(layers)
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("readable directory")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// `lib.rs` → [], `a.rs` and `a/mod.rs` → [a], `a/b.rs` → [a, b].
fn module_path(relative: &str) -> Option<Vec<String>> {
    let stem = relative.strip_suffix(".rs")?;
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    match parts.last().map(String::as_str) {
        Some("lib") | Some("main") if parts.len() == 1 => parts.clear(),
        Some("mod") => {
            parts.pop();
        }
        _ => {}
    }
    Some(parts)
}

/// Follows `path` from `current` (the file's module plus any inline modules
/// it sits in) to the deepest module file it names.
fn resolve(
    modules: &BTreeMap<Vec<String>, String>,
    file_module: &[String],
    current: &[String],
    path: &[String],
) -> Option<(String, String)> {
    let mut base: Vec<String>;
    let mut rest = path;
    match path.first()?.as_str() {
        "crate" => {
            base = Vec::new();
            rest = &path[1..];
        }
        "self" | "super" => {
            base = current.to_vec();
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "self" => rest = &rest[1..],
                    "super" => {
                        base.pop()?;
                        rest = &rest[1..];
                    }
                    _ => break,
                }
            }
        }
        first => {
            // A path relative to the file's own module names a child module.
            let mut child = file_module.to_vec();
            child.push(first.to_string());
            if current.len() != file_module.len() || !modules.contains_key(&child) {
                return None;
            }
            base = file_module.to_vec();
        }
    }
    while !modules.contains_key(&base) {
        base.pop()?;
    }
    for segment in rest {
        let mut deeper = base.clone();
        deeper.push(segment.clone());
        if modules.contains_key(&deeper) {
            base = deeper;
        } else {
            break;
        }
    }
    let name = path.last().cloned().unwrap_or_default();
    Some((modules[&base].clone(), name))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Star,
    Dollar,
    Other,
}

/// Source text as tokens, with comments, strings and char literals dropped.
fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let raw_string =
                (word == "r" || word == "br") && matches!(chars.get(i), Some('"') | Some('#'));
            if raw_string {
                let mut hashes = 0;
                while chars.get(i) == Some(&'#') {
                    hashes += 1;
                    i += 1;
                }
                i += 1; // the opening quote
                loop {
                    if i >= chars.len() {
                        break;
                    }
                    if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                        i += 1 + hashes;
                        break;
                    }
                    i += 1;
                }
            } else if word == "b" && chars.get(i) == Some(&'\'') {
                // A byte literal such as b'a' or b'\n'.
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
            } else if word != "b" || chars.get(i) != Some(&'"') {
                out.push(Token::Ident(word));
            }
        } else if c == ':' && next == Some(':') {
            out.push(Token::PathSep);
            i += 2;
        } else {
            out.push(match c {
                '{' => Token::Open,
                '}' => Token::Close,
                ',' => Token::Comma,
                ';' => Token::Semi,
                '*' => Token::Star,
                '$' => Token::Dollar,
                c if c.is_whitespace() => {
                    i += 1;
                    continue;
                }
                _ => Token::Other,
            });
            i += 1;
        }
    }
    out
}

/// Every path a file names (from `use` trees and from code), each with the
/// inline modules (`mod tests { … }`) it sits in.
fn paths_in(tokens: &[Token]) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let ident = |i: usize| match tokens.get(i) {
        Some(Token::Ident(s)) => Some(s.as_str()),
        _ => None,
    };
    while i < tokens.len() {
        let inline_names: Vec<String> = inline.iter().map(|(n, _)| n.clone()).collect();
        match &tokens[i] {
            Token::Open => {
                depth += 1;
                i += 1;
            }
            Token::Close => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                i += 1;
            }
            Token::Ident(word) if word == "mod" => {
                if let (Some(name), Some(Token::Open)) = (ident(i + 1), tokens.get(i + 2)) {
                    inline.push((name.to_string(), depth));
                    depth += 1;
                    i += 3;
                } else {
                    i += 1;
                }
            }
            Token::Ident(word)
                if word == "use" && tokens.get(i.wrapping_sub(1)) != Some(&Token::PathSep) =>
            {
                let mut j = i + 1;
                let mut trees = Vec::new();
                use_tree(tokens, &mut j, Vec::new(), &mut trees);
                for path in trees {
                    out.push((path, inline_names.clone()));
                }
                i = j;
            }
            Token::Ident(_)
                if tokens.get(i + 1) == Some(&Token::PathSep)
                    && !matches!(
                        tokens.get(i.wrapping_sub(1)),
                        Some(Token::PathSep) | Some(Token::Dollar)
                    ) =>
            {
                let mut path = Vec::new();
                let mut j = i;
                while let Some(segment) = ident(j) {
                    path.push(segment.to_string());
                    if tokens.get(j + 1) == Some(&Token::PathSep) {
                        j += 2;
                    } else {
                        j += 1;
                        break;
                    }
                }
                out.push((path, inline_names));
                i = j;
            }
            _ => i += 1,
        }
    }
    out
}

/// Reads one use tree at `*i`, appending each full path to `out`.
fn use_tree(tokens: &[Token], i: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    loop {
        match tokens.get(*i) {
            Some(Token::Ident(word)) if word == "as" => {
                *i += 2; // `as alias`
            }
            Some(Token::Ident(word)) => {
                if word != "self" || path.is_empty() {
                    path.push(word.clone());
                }
                *i += 1;
            }
            Some(Token::PathSep) => *i += 1,
            Some(Token::Star) => *i += 1,
            Some(Token::Open) => {
                *i += 1;
                loop {
                    match tokens.get(*i) {
                        Some(Token::Close) => {
                            *i += 1;
                            break;
                        }
                        Some(Token::Comma) => *i += 1,
                        None => return,
                        _ => use_tree(tokens, i, path.clone(), out),
                    }
                }
                return;
            }
            Some(Token::Comma) | Some(Token::Close) | Some(Token::Semi) | None => {
                if !path.is_empty() {
                    out.push(path);
                }
                if tokens.get(*i) == Some(&Token::Semi) {
                    *i += 1;
                }
                return;
            }
            Some(_) => *i += 1,
        }
    }
}

/// Tarjan's algorithm over the graph's successor lists.
fn strongly_connected(successors: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        successors: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        groups: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.successors[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                group.push(w);
                if w == v {
                    break;
                }
            }
            s.groups.push(group);
        }
    }
    let n = successors.len();
    let mut s = State {
        successors,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        groups: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.groups
}

/// The items a crate root makes public: each leaf of a `pub use` tree and
/// each `pub` item defined in the root itself. A `pub mod` is not an item
/// here: modules are where everything that is not at the root lives, one
/// per role. (A glob re-export counts as one name, `*`.)
pub fn public_root_names(root: &Path) -> Vec<String> {
    let text = fs::read_to_string(root).expect("readable crate root");
    let tokens = tokens(&text);
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Open => depth += 1,
            Token::Close => depth = depth.saturating_sub(1),
            Token::Ident(word) if word == "pub" && depth == 0 => {
                // `pub` then, for `pub(crate)`, not public: skip restricted forms.
                if tokens.get(i + 1) == Some(&Token::Other) {
                    i += 1;
                    continue;
                }
                match tokens.get(i + 1) {
                    Some(Token::Ident(kind)) if kind == "use" => {
                        let mut j = i + 2;
                        let mut trees = Vec::new();
                        let star_before = tokens.len();
                        use_tree(&tokens, &mut j, Vec::new(), &mut trees);
                        let glob = tokens[i + 2..j.min(star_before)].contains(&Token::Star);
                        for path in trees {
                            names.push(path.last().cloned().unwrap_or_default());
                        }
                        if glob {
                            names.push("*".to_string());
                        }
                        i = j;
                        continue;
                    }
                    Some(Token::Ident(kind))
                        if matches!(
                            kind.as_str(),
                            "fn" | "struct" | "enum" | "trait" | "type" | "const" | "static"
                        ) =>
                    {
                        if let Some(Token::Ident(name)) = tokens.get(i + 2) {
                            names.push(name.clone());
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        i += 1;
    }
    names
}
