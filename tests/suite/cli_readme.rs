//! The README's examples stay true: every input file its commands name is
//! in the repository, and the error examples print what the README shows.

use super::common::{lbsim, stderr, stdout};
use std::path::Path;

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    std::fs::read_to_string(path).expect("README.md")
}

#[test]
fn every_repository_file_the_readme_names_exists() {
    let text = readme();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut named = 0;
    for prefix in ["tests/fixtures/", "tests/data/", "scenarios/"] {
        for (i, _) in text.match_indices(prefix) {
            let path: String = text[i..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || "/._-".contains(*c))
                .collect();
            let path = path.trim_end_matches('.');
            if path.ends_with('/') {
                continue;
            }
            assert!(
                root.join(path).exists(),
                "README names {path}, which is missing"
            );
            named += 1;
        }
    }
    assert!(named >= 8, "only {named} files named");
}

#[test]
fn the_readmes_error_examples_print_what_it_shows() {
    let text = readme();
    for args in [
        &[
            "--config",
            "tests/fixtures/bad-syntax.json",
            "--list-scenarios",
        ][..],
        &[
            "--config",
            "tests/fixtures/bad-profile.json",
            "--list-scenarios",
        ],
        &["replay", "tests/fixtures/short.swf"],
        &["--scenario", "nope"],
    ] {
        let out = lbsim(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        let line = stderr(&out);
        let command = format!("$ lbsim {}\n{line}", args.join(" "));
        assert!(text.contains(&command), "README lacks:\n{command}");
    }
}
