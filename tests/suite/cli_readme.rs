//! The docs stay true: every ```console block of README.md and docs/ is
//! real output (run here, in a scratch copy of a clone's root), every input
//! file a doc names is in the repository, nothing points outside it, the
//! policy table is the code's, and the README stays short.

use super::docs_blocks::{docs, matches, rewrite, root, run_steps, steps};
use lbsim::balancer::policy::SCHEDULERS;

/// Runs one doc's console blocks; its failures, one message each (or, with
/// `LBSIM_DOCS_UPDATE=1`, the doc rewritten with what ran).
fn check_doc(name: &str, text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let steps = steps(&lines);
    if steps.is_empty() {
        return Vec::new();
    }
    let outputs = run_steps(name, &steps);
    let update = std::env::var_os("LBSIM_DOCS_UPDATE").is_some();
    let mut failures = Vec::new();
    let mut new_lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    for (step, output) in steps.iter().zip(&outputs).rev() {
        let shown = &lines[step.output.clone()];
        let actual: Vec<&str> = output.lines().collect();
        if matches(shown, &actual) {
            continue;
        }
        if update {
            new_lines.splice(step.output.clone(), rewrite(shown, &actual));
        } else {
            failures.push(format!(
                "{name}:{}: `$ {}` printed:\n{output}\n--- the doc shows:\n{}",
                step.line + 1,
                step.command,
                shown.join("\n")
            ));
        }
    }
    if update
        && new_lines
            .iter()
            .map(String::as_str)
            .ne(lines.iter().copied())
    {
        let mut text = new_lines.join("\n");
        text.push('\n');
        std::fs::write(root().join(name), text).expect("doc rewritten");
    }
    failures
}

#[test]
fn every_console_block_in_the_docs_prints_what_it_shows() {
    let docs = docs();
    let mut commands = 0;
    for (_, text) in &docs {
        commands += steps(&text.lines().collect::<Vec<_>>()).len();
    }
    assert!(
        commands >= 40,
        "only {commands} console commands in the docs"
    );
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = docs
            .iter()
            .map(|(name, text)| s.spawn(move || check_doc(name, text)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("doc check"))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} console steps differ (LBSIM_DOCS_UPDATE=1 rewrites them):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_repository_file_the_docs_name_exists() {
    let mut named = 0;
    for (doc, text) in docs() {
        for prefix in ["tests/fixtures/", "tests/data/", "scenarios/", "traces/"] {
            for (i, _) in text.match_indices(prefix) {
                if i > 0 && !" `(\"'".contains(&text[i - 1..i]) {
                    continue; // part of a longer path, e.g. /grids/scenarios/
                }
                let path: String = text[i..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || "/._-".contains(*c))
                    .collect();
                let path = path.trim_end_matches('.');
                if path.ends_with('/') {
                    continue;
                }
                assert!(
                    root().join(path).exists(),
                    "{doc} names {path}, which is missing"
                );
                named += 1;
            }
        }
    }
    assert!(named >= 8, "only {named} files named");
}

#[test]
fn no_doc_points_outside_the_repository() {
    for (doc, text) in docs() {
        for (n, line) in text.lines().enumerate() {
            assert!(
                !line.contains("../shared"),
                "{doc}:{}: names ../shared, which a clone does not have: {line}",
                n + 1
            );
        }
    }
}

/// The policy table of docs/reference.md, as `SCHEDULERS` gives it.
fn policy_table() -> String {
    let mut table = String::from("| policy | how it chooses |\n|---|---|\n");
    for s in SCHEDULERS {
        table.push_str(&format!("| `{}` | {} |\n", s.id, s.description));
    }
    table
}

#[test]
fn the_references_policy_table_is_the_schedulers_table() {
    let path = root().join("docs/reference.md");
    let text = std::fs::read_to_string(&path).expect("docs/reference.md");
    let table = policy_table();
    assert!(
        text.contains(&table),
        "docs/reference.md lacks the policy table as SCHEDULERS renders it; paste:\n{table}"
    );
}

#[test]
fn the_readme_stays_short() {
    let text = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let lines = text.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines; the rest goes in docs/"
    );
    let opening: Vec<&str> = text.lines().take(6).collect();
    for command in ["cargo run --release -- stress", "cargo test --release"] {
        assert!(
            opening.iter().any(|l| l.starts_with(command)),
            "README.md does not open with `{command}`"
        );
    }
}

#[test]
fn the_block_matcher_takes_elisions_and_nothing_else() {
    let shown = ["a", "...", "d"];
    assert!(matches(&shown, &["a", "b", "c", "d"]));
    assert!(matches(&shown, &["a", "d"]));
    assert!(!matches(&shown, &["a", "b"]));
    assert!(!matches(&["a", "b"], &["a", "b", "c"]));
    assert!(matches(&["a  ", "b"], &["a", "b"]));
    assert!(matches(&["...", "c", "...", "e"], &["a", "c", "d", "e"]));
    assert!(!matches(&["...", "x", "...", "e"], &["a", "c", "d", "e"]));
    assert_eq!(rewrite(&shown, &["a", "b", "c", "e"]), ["a", "...", "e"]);
}
