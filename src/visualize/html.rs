//! `index.html`: one self-contained page (SVG inlined, no scripts, no
//! external files) with the run's configuration, seed, key figures and every
//! chart, readable offline.

use super::render::format_value;
use crate::metrics::Metrics;
use crate::report::ResultsDoc;
use serde_json::Value;
use std::fmt::Write;

/// Escapes text for HTML.
pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A fraction (0–1) as the page shows it: percent.
fn percent_of_fraction(f: f64) -> String {
    percent(f * 100.0)
}

pub(super) fn percent(p: f64) -> String {
    format!("{} %", format_value(p))
}

/// A time in seconds with its unit: milliseconds below one second.
pub(super) fn seconds(s: f64) -> String {
    if s != 0.0 && s.abs() < 1.0 {
        format!("{} ms", format_value(s * 1000.0))
    } else {
        format!("{} s", format_value(s))
    }
}

/// The "Key figures" table: label and value with its unit. Every share
/// is a percent and every time has its unit, whatever the file stores.
fn key_figures(m: &Metrics) -> [(&'static str, String); 14] {
    [
        ("tests submitted", m.total_tests.to_string()),
        ("scheduled", percent(m.success_rate)),
        ("completed successfully", percent(m.completion_success_rate)),
        ("scheduling latency, mean", seconds(m.avg_latency)),
        ("scheduling latency, p50", seconds(m.latency.p50)),
        ("scheduling latency, p99", seconds(m.latency.p99)),
        ("scheduling latency, max", seconds(m.max_latency)),
        (
            "peak throughput",
            format!("{} tests/s", format_value(m.peak_throughput)),
        ),
        (
            "mean throughput",
            format!("{} tests/s", format_value(m.avg_throughput)),
        ),
        (
            "Jain fairness (100 % = even)",
            percent_of_fraction(m.jain_fairness),
        ),
        (
            "workers that got a test",
            percent_of_fraction(m.worker_utilization),
        ),
        ("workers at the end", m.final_worker_count.to_string()),
        (
            "memory utilisation",
            percent_of_fraction(m.memory_utilization),
        ),
        ("CUDA utilisation", percent_of_fraction(m.cuda_utilization)),
    ]
}

/// What the page shows besides the charts.
pub(super) struct Page<'a> {
    pub(crate) title: String,
    pub(crate) source: &'a str,
    pub(crate) kind: &'a str,
    /// The run's tables (configuration, key figures); `None` for a grid.
    pub(crate) results: Option<&'a ResultsDoc>,
    /// Tables of a grid (the policy comparison), as HTML; empty for a run.
    pub(crate) tables: String,
    pub(crate) charts: Vec<(String, String)>,
    pub(crate) notes: &'a [String],
}

/// A two-column table; a value of several lines is shown one per line.
fn table(rows: impl Iterator<Item = (String, Vec<String>)>) -> String {
    let mut t = String::from("<table>\n");
    for (k, lines) in rows {
        let v: Vec<String> = lines.iter().map(|l| escape(l)).collect();
        let _ = writeln!(
            t,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(&k),
            v.join("<br>")
        );
    }
    t.push_str("</table>\n");
    t
}

/// A setting's value in one line: strings without quotes, numbers as
/// written (`0.9`, `900`), lists comma-separated, an object inside a list
/// as `(key: value, …)`.
fn inline(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.to_string(),
            (_, Some(i), _) => i.to_string(),
            (_, _, Some(f)) => f.to_string(),
            _ => n.to_string(),
        },
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(inline).collect();
            items.join(", ")
        }
        Value::Object(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| format!("{k}: {}", inline(x)))
                .collect();
            format!("({})", fields.join(", "))
        }
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
    }
}

/// A setting as the page shows it: one line for a value, and an object
/// flattened to `key: value` lines (nested keys joined with dots).
fn setting_lines(prefix: &str, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(fields) => {
            for (k, x) in fields.iter().filter(|(_, x)| !x.is_null()) {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                setting_lines(&key, x, out);
            }
        }
        other if prefix.is_empty() => out.push(inline(other)),
        other => out.push(format!("{prefix}: {}", inline(other))),
    }
}

fn run_tables(doc: &ResultsDoc) -> String {
    let mut who = Vec::new();
    if let Some(name) = &doc.scenario {
        who.push(("scenario".to_string(), name.clone()));
    }
    who.push(("scheduler".into(), doc.scheduler.as_str().into()));
    who.push(("seed".into(), doc.seed.to_string()));
    who.push(("lbsim_version".into(), doc.lbsim_version.clone()));
    let mut s = String::from("<h2>Run</h2>\n");
    s.push_str(&table(who.into_iter().map(|(k, v)| (k, vec![v]))));
    // Every setting, in file order, whatever the scenario sections hold.
    if let Ok(Value::Object(cfg)) = serde_json::to_value(&doc.configuration) {
        s.push_str("<h2>Configuration</h2>\n");
        s.push_str(&table(cfg.iter().filter(|(_, x)| !x.is_null()).map(
            |(k, x)| {
                let mut lines = Vec::new();
                setting_lines("", x, &mut lines);
                (k.clone(), lines)
            },
        )));
    }
    let figures = key_figures(&doc.metrics).map(|(label, value)| (label.to_string(), vec![value]));
    s.push_str("<h2>Key figures</h2>\n");
    s.push_str(&table(figures.into_iter()));
    s
}

/// The whole page.
pub(super) fn page(p: &Page) -> String {
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
    s.push_str(&p.tables);
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
    use crate::visualize::fixtures::known_run_doc;
    use serde_json::json;

    #[test]
    fn settings_show_values_not_json() {
        let lines = |v: Value| {
            let mut out = Vec::new();
            setting_lines("", &v, &mut out);
            out
        };
        assert_eq!(lines(json!("even")), ["even"]);
        assert_eq!(lines(json!(900.0)), ["900"]);
        assert_eq!(
            lines(
                json!({"memory_gb": [4.0, 8.5], "usable_memory_fraction": 0.9,
                         "duration": {"type": "lognormal", "sigma": 0.8}, "x": null})
            ),
            [
                "memory_gb: 4, 8.5",
                "usable_memory_fraction: 0.9",
                "duration.type: lognormal",
                "duration.sigma: 0.8"
            ]
        );
        assert_eq!(
            lines(json!({"spikes": [{"at": 10.0, "multiplier": 4.0}]})),
            ["spikes: (at: 10, multiplier: 4)"]
        );
        let t = table(
            [(
                "worker_profile".to_string(),
                vec!["a: <1>".into(), "b: 2".into()],
            )]
            .into_iter(),
        );
        assert_eq!(
            t,
            "<table>\n<tr><th>worker_profile</th><td>a: &lt;1&gt;<br>b: 2</td></tr>\n</table>\n"
        );
    }

    #[test]
    fn the_page_has_the_seed_figures_notes_and_inlined_charts() {
        let mut doc = known_run_doc();
        (doc.seed, doc.metrics.success_rate, doc.metrics.latency.p99) = (42, 97.5, 0.25);
        let notes = vec!["heat map: <missing>".to_string()];
        let html = page(&Page {
            title: "t".into(),
            source: "r.json",
            kind: "stress",
            results: Some(&doc),
            tables: String::new(),
            charts: vec![(
                "a".into(),
                "<?xml version=\"1.0\"?>\n<svg x=\"1\"></svg>\n".into(),
            )],
            notes: &notes,
        });
        assert!(html.contains("<tr><th>seed</th><td>42</td></tr>"));
        assert!(html.contains("<tr><th>workers</th><td>2</td></tr>"));
        assert!(html.contains("<tr><th>scheduled</th><td>97.50 %</td></tr>"));
        assert!(html.contains("<tr><th>scheduling latency, p99</th><td>250 ms</td></tr>"));
        assert!(html.contains("<tr><th>scheduling latency, max</th><td>2 s</td></tr>"));
        assert!(html.contains("<tr><th>workers that got a test</th><td>50 %</td></tr>"));
        assert!(html.contains("<tr><th>Jain fairness (100 % = even)</th><td>80 %</td></tr>"));
        assert!(!html.contains(" fraction</td>"), "every share is a percent");
        assert!(html.contains("<tr><th>tests submitted</th><td>10</td></tr>"));
        assert!(!html.contains("timestamp"), "null settings are left out");
        assert!(!html.contains("&quot;"), "no raw JSON strings");
        assert!(!html.contains("<th>scenario</th>"), "no name, no row");
        assert!(html.contains("<li>heat map: &lt;missing&gt;</li>"));
        assert!(html.contains("<figure id=\"a\">\n<svg x=\"1\"></svg>\n</figure>"));
        assert!(!html.contains("<?xml"));
    }
}
