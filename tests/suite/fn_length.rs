//! "Functions under 70 lines" is a rule of the house: this test holds it
//! for every crate's `src/` (tests are not scanned: a test may spell out a
//! long scenario). A body's length is the lines strictly between its braces,
//! found by matching braces with comments, strings and char literals blanked
//! out, so a brace in a message or a doc comment does not count.

use std::fs;
use std::path::{Path, PathBuf};

/// The longest body allowed, in lines.
const MAX_LINES: usize = 70;

/// Functions still over the limit, as `path::name`; it may only shrink
/// (empty: none is).
const ALLOWED: &[&str] = &[];

#[test]
fn no_function_in_any_crate_is_over_seventy_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("src")];
    for entry in fs::read_dir(root.join("crates")).unwrap() {
        dirs.push(entry.unwrap().path().join("src"));
    }
    let mut files = Vec::new();
    for dir in &dirs {
        rust_files(dir, &mut files);
    }
    assert!(files.len() > 50, "only {} files found", files.len());
    let mut over = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        let rel = file.strip_prefix(root).unwrap().display().to_string();
        for (name, lines) in long_functions(&text) {
            let key = format!("{rel}::{name}");
            if !ALLOWED.contains(&key.as_str()) {
                over.push(format!("{key}: {lines} lines"));
            }
        }
    }
    assert!(
        over.is_empty(),
        "over {MAX_LINES} lines:\n{}",
        over.join("\n")
    );
}

#[test]
fn the_scanner_measures_bodies_and_ignores_braces_in_text() {
    let body = "    let x = 1;\n".repeat(71);
    let text = format!(
        "// fn fake() {{\nfn long(a: u8) -> Option<u8> {{\n{body}}}\n\
         fn short() {{ let s = \"}}{{\"; let c = '{{'; }}\nfn decl();\n"
    );
    assert_eq!(long_functions(&text), vec![("long".to_string(), 71)]);
    let seventy = format!("fn ok() {{\n{}}}\n", "    f();\n".repeat(70));
    assert!(long_functions(&seventy).is_empty());
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(name, body lines)` of every function whose body is over the limit.
fn long_functions(text: &str) -> Vec<(String, usize)> {
    let code = blank_text(text);
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(pos) = code[at..].find("fn ") {
        let start = at + pos;
        at = start + 3;
        let word_before = start > 0 && is_ident(bytes[start - 1]);
        if word_before {
            continue;
        }
        let name: String = code[at..]
            .trim_start()
            .bytes()
            .take_while(|b| is_ident(*b))
            .map(char::from)
            .collect();
        let Some(open) = body_start(bytes, at) else {
            continue;
        };
        let close = matching_brace(bytes, open);
        let lines = code[open..close].matches('\n').count().saturating_sub(1);
        if lines > MAX_LINES {
            found.push((name, lines));
        }
    }
    found
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The `{` opening the body after a signature, or `None` for a
/// declaration (`fn f();`) or a pointer type (`fn(u8) -> u8`, no body).
fn body_start(bytes: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'>') => i += 1,
            b'(' | b'[' | b'<' => depth += 1,
            b')' | b']' | b'>' => depth -= 1,
            b';' | b',' | b'=' if depth <= 0 => return None,
            b'{' if depth <= 0 => return Some(i),
            _ => {}
        }
        if depth < 0 {
            return None;
        }
        i += 1;
    }
    None
}

fn matching_brace(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0;
    for (i, b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    bytes.len()
}

/// `text` with comments, strings and char literals turned to spaces,
/// newlines kept (so line counts hold).
fn blank_text(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        let end = if rest.starts_with(b"//") {
            i + rest.iter().position(|c| *c == b'\n').unwrap_or(rest.len())
        } else if rest.starts_with(b"/*") {
            i + find(rest, b"*/").map_or(rest.len(), |p| p + 2)
        } else if let Some(hashes) = raw_string(b, i) {
            let mut close = vec![b'"'];
            close.resize(1 + hashes, b'#');
            let body = i + 2 + hashes;
            body + find(&b[body..], &close).map_or(b.len() - body, |p| p + close.len())
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            j + 1
        } else if let Some(len) = char_literal(rest) {
            i + len
        } else {
            i += 1;
            continue;
        };
        blank(&mut out, i, end);
        i = end;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `#`s of a raw string starting at `i` (`r"`, `r#"`, `br"`...).
fn raw_string(b: &[u8], i: usize) -> Option<usize> {
    if b[i] != b'r' || (i > 0 && is_ident(b[i - 1]) && b[i - 1] != b'b') {
        return None;
    }
    if i > 1 && b[i - 1] == b'b' && is_ident(b[i - 2]) {
        return None;
    }
    let hashes = b[i + 1..].iter().take_while(|c| **c == b'#').count();
    (b.get(i + 1 + hashes) == Some(&b'"')).then_some(hashes)
}

/// The length of a char literal at the start (`'x'`, `'\n'`, `'\''`, `'\u{7f}'`,
/// `'é'`), not a lifetime (`'a`).
fn char_literal(rest: &[u8]) -> Option<usize> {
    if rest.first() != Some(&b'\'') {
        return None;
    }
    if rest.get(1) == Some(&b'\\') {
        return rest
            .get(3..)?
            .iter()
            .position(|c| *c == b'\'')
            .map(|p| p + 4);
    }
    let len = std::str::from_utf8(&rest[1..rest.len().min(6)])
        .or_else(|e| std::str::from_utf8(&rest[1..1 + e.valid_up_to()]))
        .ok()?
        .chars()
        .next()?
        .len_utf8();
    (rest.get(1 + len) == Some(&b'\'')).then_some(len + 2)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
