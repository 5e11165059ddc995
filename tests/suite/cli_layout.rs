//! The command line's files import downwards only: no two files of
//! `src/cli/` import each other, directly or through others, so a command
//! can be read (and changed) without the rest.

use std::collections::BTreeMap;
use std::path::Path;

/// Each file of `src/cli/` (by module name, `mod` for mod.rs) and the
/// sibling modules it refers to (`mod` when it refers to the parent).
fn imports() -> BTreeMap<String, Vec<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let files: BTreeMap<String, String> = std::fs::read_dir(&dir)
        .expect("src/cli")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("readable"))
        })
        .collect();
    let siblings: Vec<&String> = files.keys().filter(|k| *k != "mod").collect();
    let mut graph = BTreeMap::new();
    for (name, text) in &files {
        let mut targets = Vec::new();
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for prefix in ["super::", "crate::cli::", "self::"] {
            for (i, _) in code.match_indices(prefix) {
                targets.extend(referred(&code[i + prefix.len()..]));
            }
        }
        if name == "mod" {
            // `mod x;` declares a child; a `pub use x::…` re-export uses it.
            for (i, _) in code.match_indices("pub use ") {
                targets.extend(referred(&code[i + 8..]));
            }
        }
        if name != "output" && (code.contains("outln!(") || code.contains("out!(")) {
            targets.push("output".to_string());
        }
        let mut targets: Vec<String> = targets
            .into_iter()
            .map(|t| {
                if siblings.contains(&&t) {
                    t
                } else {
                    "mod".to_string()
                }
            })
            .filter(|t| t != name)
            .collect();
        targets.sort();
        targets.dedup();
        graph.insert(name.clone(), targets);
    }
    graph
}

/// The first path segment(s) after `super::`: one name, or each name of a
/// `{a, b::c}` list.
fn referred(rest: &str) -> Vec<String> {
    let ident = |s: &str| {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<String>()
    };
    match rest.strip_prefix('{') {
        Some(list) => list
            .split('}')
            .next()
            .unwrap_or("")
            .split(',')
            .map(ident)
            .filter(|s| !s.is_empty())
            .collect(),
        None => vec![ident(rest)],
    }
}

#[test]
fn no_two_files_of_the_cli_import_each_other() {
    let graph = imports();
    assert!(graph.len() > 10, "{graph:?}");
    // Depth-first search for a cycle; `path` is the current chain.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut Vec<String>,
    ) {
        if done.iter().any(|d| d == node) {
            return;
        }
        if let Some(at) = path.iter().position(|p| p == node) {
            panic!("import loop: {} -> {node}", path[at..].join(" -> "));
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.push(node.to_string());
    }
    let mut done = Vec::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
    // Nothing imports the parent: shared pieces live in leaf files.
    for (name, targets) in &graph {
        assert!(
            !targets.contains(&"mod".to_string()),
            "{name} imports cli/mod.rs"
        );
    }
}
