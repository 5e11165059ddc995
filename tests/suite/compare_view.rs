//! The policy-comparison view of `lbsim visualize` on a benchmark grid of
//! every policy (each `lbsim benchmark --scheduler X`, merged): its SVGs
//! parse and name every policy in the policy's own colour, the best-policy
//! table agrees with the figures in the file, the CDF is the stored
//! quantiles, and the same file gives the same bytes.

use super::common::{lbsim, path_str, stderr, temp_dir};
use lbsim::balancer::policy::SCHEDULERS;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `lbsim benchmark --scheduler S` (15 cells) for each of `policies`,
/// merged into one grid file.
fn grid(dir: &Path, policies: &[&str]) -> PathBuf {
    let mut rows = Vec::new();
    let mut doc = Value::Null;
    for p in policies {
        let out = dir.join(format!("{p}.json"));
        let o = lbsim(&["benchmark", "--scheduler", p, "--output", path_str(&out)]);
        assert!(o.status.success(), "{}", stderr(&o));
        doc = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        rows.extend(doc["benchmark_results"].as_array().unwrap().clone());
    }
    doc["benchmark_results"] = Value::Array(rows);
    let path = dir.join("grid.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

fn visualize(input: &Path, out: &Path) {
    let o = lbsim(&["visualize", path_str(input), "-o", path_str(out)]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Each `<text>` of an SVG with its fill colour.
fn texts(svg: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let fill = n.attribute("fill").unwrap_or("").to_ascii_lowercase();
            (n.text().unwrap_or("").trim().to_string(), fill)
        })
        .collect()
}

#[test]
fn every_policy_is_named_in_its_own_colour_and_the_output_is_deterministic() {
    let dir = temp_dir("compare-all");
    let ids: Vec<&str> = SCHEDULERS.iter().map(|s| s.id).collect();
    let path = grid(&dir, &ids);
    let (a, b) = (dir.join("a"), dir.join("b"));
    visualize(&path, &a);
    visualize(&path, &b);
    let svg = std::fs::read_to_string(a.join("policy_comparison.svg")).unwrap();
    let shown = texts(&svg);
    for s in SCHEDULERS {
        let c = s.look.colour;
        let hex = format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2);
        // One row label per criterion panel, in the policy's colour.
        let labels: Vec<&String> = (shown.iter())
            .filter(|t| t.0 == s.id)
            .map(|t| &t.1)
            .collect();
        assert_eq!(labels.len(), 3, "{}: {labels:?}", s.id);
        assert!(labels.iter().all(|f| **f == hex), "{}: {labels:?}", s.id);
    }
    let map = std::fs::read_to_string(a.join("best_policy_map.svg")).unwrap();
    assert!(!texts(&map).is_empty());
    let mut names: Vec<String> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "best_policy_map.svg",
            "index.html",
            "latency_cdf.svg",
            "policy_comparison.svg",
            "scalability.svg"
        ]
    );
    for n in &names {
        assert_eq!(
            std::fs::read(a.join(n)).unwrap(),
            std::fs::read(b.join(n)).unwrap(),
            "{n} differs between two runs on the same file"
        );
    }
}

/// The rows of the page's "Best policy per cell" table, as cell texts.
fn best_table(html: &str) -> Vec<Vec<String>> {
    let start = html.find("<h2>Best policy per cell</h2>").unwrap();
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    table
        .split("<tr>")
        .skip(2)
        .map(|row| {
            row.split("<td>")
                .skip(1)
                .map(|td| td.split("</td>").next().unwrap().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn the_best_policy_per_cell_is_the_one_with_the_lowest_p95_turnaround() {
    let dir = temp_dir("compare-best");
    let policies = ["round_robin", "least_loaded", "fifo"];
    let path = grid(&dir, &policies);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // (workers, tests) -> [(p95 turnaround, policy)], from the file itself.
    let mut cells: BTreeMap<(u64, u64), Vec<(f64, String)>> = BTreeMap::new();
    for r in doc["benchmark_results"].as_array().unwrap() {
        let key = (r["workers"].as_u64().unwrap(), r["tests"].as_u64().unwrap());
        let p95 = r["metrics"]["turnaround"]["p95"].as_f64().unwrap();
        let name = r["scheduler"].as_str().unwrap().to_string();
        cells.entry(key).or_default().push((p95, name));
    }
    let out = dir.join("viz");
    visualize(&path, &out);
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let rows = best_table(&html);
    assert_eq!(rows.len(), cells.len(), "one row per cell");
    for (row, ((workers, tests), figures)) in rows.iter().zip(&cells) {
        assert_eq!(
            row[1],
            format!("{workers} workers × {} tests", fmt_count(*tests))
        );
        let best = figures.iter().map(|f| f.0).fold(f64::MAX, f64::min);
        let winners: Vec<&str> = (figures.iter())
            .filter(|f| f.0 == best)
            .map(|f| f.1.as_str())
            .collect();
        let shown = &row[2];
        if let [one] = winners[..] {
            assert!(shown.contains(&format!("</span> {one} ")), "{shown}");
            assert!(shown.contains("(next: "), "{shown}");
        } else {
            assert!(shown.contains("tie at "), "{shown}");
        }
        for (_, p) in figures.iter().filter(|f| f.0 != best) {
            assert!(
                !shown.contains(&format!("</span> {p} ")),
                "{p} is not best: {shown}"
            );
        }
    }
    // The full table: a row per cell and policy.
    let all = html.split("<h2>All results</h2>").nth(1).unwrap();
    let all = &all[..all.find("</table>").unwrap()];
    assert_eq!(
        all.matches("<tr>").count(),
        1 + cells.len() * policies.len()
    );
}

fn fmt_count(n: u64) -> String {
    if n >= 1000 {
        format!("{},{:03}", n / 1000, n % 1000)
    } else {
        n.to_string()
    }
}

#[test]
fn the_benchmark_stores_latency_quantiles_and_the_cdf_is_drawn_from_them() {
    let dir = temp_dir("compare-cdf");
    let path = grid(&dir, &["fifo", "round_robin"]);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let row = &doc["benchmark_results"][0];
    let q = row["latency_quantiles"].as_array().unwrap();
    assert_eq!(q.len(), 101);
    assert_eq!(q[95], row["metrics"]["latency"]["p95"]);
    assert_eq!(q[100], row["metrics"]["latency"]["max"]);
    // Without them (an older lbsim's file): no CDF, and the page says why.
    let mut old = doc.clone();
    for r in old["benchmark_results"].as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("latency_quantiles");
    }
    let old_path = dir.join("old.json");
    std::fs::write(&old_path, old.to_string()).unwrap();
    let out = dir.join("old-viz");
    visualize(&old_path, &out);
    assert!(!out.join("latency_cdf.svg").exists());
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        html.contains("<li>latency CDF: the file stores no latency distribution"),
        "{html}"
    );
}
