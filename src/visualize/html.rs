//! `index.html`: one self-contained page (SVG inlined, no scripts, no
//! external files) with the run's configuration, seed, key figures and every
//! chart, readable offline.

use super::render::format_value;
use serde_json::Value;
use std::fmt::Write;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The figures shown in the "Key figures" table, with their units.
const KEY_FIGURES: &[(&str, &str, &str)] = &[
    ("total_tests", "tests submitted", ""),
    ("success_rate", "scheduled", "%"),
    ("completion_success_rate", "completed successfully", "%"),
    ("avg_latency", "scheduling latency, mean", "s"),
    ("latency/p50", "scheduling latency, p50", "s"),
    ("latency/p99", "scheduling latency, p99", "s"),
    ("max_latency", "scheduling latency, max", "s"),
    ("peak_throughput", "peak throughput", "tests/s"),
    ("avg_throughput", "mean throughput", "tests/s"),
    ("jain_fairness", "Jain fairness (1 = even)", ""),
    ("worker_utilization", "workers that got a test", "fraction"),
    ("final_worker_count", "workers at the end", ""),
    ("memory_utilization", "memory utilisation", "fraction"),
    ("cuda_utilization", "CUDA utilisation", "fraction"),
];

/// What the page shows besides the charts.
pub struct Page<'a> {
    pub title: String,
    pub source: &'a str,
    pub kind: &'a str,
    pub results: Option<&'a Value>,
    pub charts: Vec<(String, String)>,
    pub notes: &'a [String],
}

fn table(rows: impl Iterator<Item = (String, String)>) -> String {
    let mut t = String::from("<table>\n");
    for (k, v) in rows {
        let _ = writeln!(t, "<tr><th>{}</th><td>{}</td></tr>", escape(&k), escape(&v));
    }
    t.push_str("</table>\n");
    t
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => n.as_f64().map_or_else(|| n.to_string(), format_value),
        other => other.to_string(),
    }
}

fn run_tables(v: &Value) -> String {
    let mut s = String::new();
    let who = ["scenario", "scheduler", "seed", "lbsim_version"]
        .iter()
        .filter_map(|k| Some((k.to_string(), compact(v.get(*k).filter(|x| !x.is_null())?))));
    s.push_str("<h2>Run</h2>\n");
    s.push_str(&table(who));
    if let Some(cfg) = v.get("configuration").and_then(Value::as_object) {
        s.push_str("<h2>Configuration</h2>\n");
        s.push_str(&table(
            cfg.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), compact(x))),
        ));
    }
    if let Some(m) = v.get("metrics") {
        let rows = KEY_FIGURES.iter().filter_map(|(path, label, unit)| {
            let x = m.pointer(&format!("/{path}"))?;
            Some((
                label.to_string(),
                format!("{} {unit}", compact(x)).trim_end().to_string(),
            ))
        });
        s.push_str("<h2>Key figures</h2>\n");
        s.push_str(&table(rows));
    }
    s
}

/// The whole page.
pub fn page(p: &Page) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <style>\nbody{{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}}\n\
         table{{border-collapse:collapse;margin-bottom:1em}}\n\
         th,td{{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:14px}}\n\
         th{{background:#f4f4f4;font-weight:normal}}\n\
         figure{{margin:1.5em 0}} svg{{max-width:100%;height:auto}}\n</style>\n</head>\n<body>\n\
         <h1>{title}</h1>\n<p>From <code>{source}</code> ({kind} results), drawn by lbsim visualize.</p>\n",
        title = escape(&p.title),
        source = escape(p.source),
        kind = p.kind,
    );
    if let Some(v) = p.results {
        s.push_str(&run_tables(v));
    }
    if !p.notes.is_empty() {
        s.push_str("<h2>Charts not drawn</h2>\n<ul>\n");
        for n in p.notes {
            let _ = writeln!(s, "<li>{}</li>", escape(n));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("<h2>Charts</h2>\n");
    for (name, svg) in &p.charts {
        let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        let _ = writeln!(
            s,
            "<figure id=\"{}\">\n{}\n</figure>",
            escape(name),
            body.trim_end()
        );
    }
    s.push_str("</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_page_has_the_seed_figures_notes_and_inlined_charts() {
        let v = json!({"seed": 42, "scheduler": "round_robin", "configuration": {"workers": 20, "timestamp": null},
                       "metrics": {"success_rate": 97.5, "latency": {"p99": 0.25}}});
        let notes = vec!["heat map: <missing>".to_string()];
        let html = page(&Page {
            title: "t".into(),
            source: "r.json",
            kind: "stress",
            results: Some(&v),
            charts: vec![(
                "a".into(),
                "<?xml version=\"1.0\"?>\n<svg x=\"1\"></svg>\n".into(),
            )],
            notes: &notes,
        });
        assert!(html.contains("<tr><th>seed</th><td>42</td></tr>"));
        assert!(html.contains("<tr><th>scheduled</th><td>97.50 %</td></tr>"));
        assert!(html.contains("<tr><th>scheduling latency, p99</th><td>0.250 s</td></tr>"));
        assert!(!html.contains("timestamp"), "null settings are left out");
        assert!(html.contains("<li>heat map: &lt;missing&gt;</li>"));
        assert!(html.contains("<figure id=\"a\">\n<svg x=\"1\"></svg>\n</figure>"));
        assert!(!html.contains("<?xml"));
    }
}
