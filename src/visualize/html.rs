//! `index.html`: one self-contained page (SVG inlined, no scripts, no
//! external files) with the run's configuration, seed, key figures and every
//! chart, readable offline.

use super::render::format_value;
use crate::metrics::Metrics;
use crate::report::ResultsDoc;
use serde_json::Value;
use std::fmt::Write;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The "Key figures" table: label, value as the page shows it, unit.
fn key_figures(m: &Metrics) -> [(&'static str, String, &'static str); 14] {
    let x = format_value;
    [
        ("tests submitted", m.total_tests.to_string(), ""),
        ("scheduled", x(m.success_rate), "%"),
        ("completed successfully", x(m.completion_success_rate), "%"),
        ("scheduling latency, mean", x(m.avg_latency), "s"),
        ("scheduling latency, p50", x(m.latency.p50), "s"),
        ("scheduling latency, p99", x(m.latency.p99), "s"),
        ("scheduling latency, max", x(m.max_latency), "s"),
        ("peak throughput", x(m.peak_throughput), "tests/s"),
        ("mean throughput", x(m.avg_throughput), "tests/s"),
        ("Jain fairness (1 = even)", x(m.jain_fairness), ""),
        (
            "workers that got a test",
            x(m.worker_utilization),
            "fraction",
        ),
        ("workers at the end", m.final_worker_count.to_string(), ""),
        ("memory utilisation", x(m.memory_utilization), "fraction"),
        ("CUDA utilisation", x(m.cuda_utilization), "fraction"),
    ]
}

/// What the page shows besides the charts.
pub struct Page<'a> {
    pub title: String,
    pub source: &'a str,
    pub kind: &'a str,
    /// The run's tables (configuration, key figures); `None` for a grid.
    pub results: Option<&'a ResultsDoc>,
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

/// A setting as the page shows it: strings bare, floats as on the charts,
/// anything nested as compact JSON.
fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => n.as_f64().map_or_else(|| n.to_string(), format_value),
        other => other.to_string(),
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
    s.push_str(&table(who.into_iter()));
    // Every setting, in file order, whatever the scenario sections hold.
    if let Ok(Value::Object(cfg)) = serde_json::to_value(&doc.configuration) {
        s.push_str("<h2>Configuration</h2>\n");
        s.push_str(&table(
            cfg.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), compact(x))),
        ));
    }
    let figures = key_figures(&doc.metrics).map(|(label, value, unit)| {
        let shown = format!("{value} {unit}").trim_end().to_string();
        (label.to_string(), shown)
    });
    s.push_str("<h2>Key figures</h2>\n");
    s.push_str(&table(figures.into_iter()));
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
    use crate::visualize::fixtures::known_run_doc;

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
            charts: vec![(
                "a".into(),
                "<?xml version=\"1.0\"?>\n<svg x=\"1\"></svg>\n".into(),
            )],
            notes: &notes,
        });
        assert!(html.contains("<tr><th>seed</th><td>42</td></tr>"));
        assert!(html.contains("<tr><th>workers</th><td>2</td></tr>"));
        assert!(html.contains("<tr><th>scheduled</th><td>97.50 %</td></tr>"));
        assert!(html.contains("<tr><th>scheduling latency, p99</th><td>0.250 s</td></tr>"));
        assert!(html.contains("<tr><th>tests submitted</th><td>10</td></tr>"));
        assert!(!html.contains("timestamp"), "null settings are left out");
        assert!(!html.contains("<th>scenario</th>"), "no name, no row");
        assert!(html.contains("<li>heat map: &lt;missing&gt;</li>"));
        assert!(html.contains("<figure id=\"a\">\n<svg x=\"1\"></svg>\n</figure>"));
        assert!(!html.contains("<?xml"));
    }
}
