//! The charts of one run (stress, scenario or spike results).

use super::data::{num, pairs, spikes, worker_events, Spike};
use super::figure::{Band, Bar, Body, Chart, Heat, Mark, Panel, Series};
use serde_json::Value;

const TIME: &str = "simulated time (s)";

/// Every chart the file has data for, and a note for each one skipped.
pub fn charts(v: &Value) -> (Vec<Chart>, Vec<String>) {
    let mut charts = vec![summary(v)];
    let mut notes = Vec::new();
    let mut push = |c: Option<Chart>, why: &str| match c {
        Some(c) => charts.push(c),
        None => notes.push(why.to_string()),
    };
    push(
        time_series(v),
        "throughput and latency over time: no time_series in the file",
    );
    push(
        heat(v),
        "worker utilisation heat map: no time_series.worker_busy (results from an older lbsim)",
    );
    push(
        resources(v),
        "resource efficiency: no time_series.memory_utilization (results from an older lbsim)",
    );
    push(
        spike_correlation(v),
        "load-spike correlation: no spikes, or no arrivals/pending series, in the file",
    );
    push(latency_cdf(v), "latency distribution: no metrics.latency");
    (charts, notes)
}

fn bars(mut p: Panel, items: &[(&str, Option<f64>)]) -> Panel {
    for (label, value) in items {
        if let Some(value) = value {
            p.bars.push(Bar {
                label: (*label).into(),
                value: *value,
            });
        }
    }
    p
}

/// Key figures as bars, grouped by unit.
pub fn summary(v: &Value) -> Chart {
    let m = |k: &str| num(v, &format!("metrics/{k}"));
    let pct = |k: &str| m(k).map(|x| x * 100.0);
    let rates = bars(
        Panel::new("Rates", "", "percent (%)"),
        &[
            ("scheduled", m("success_rate")),
            ("completed ok", m("completion_success_rate")),
            ("workers used", pct("worker_utilization")),
            ("Jain fairness ×100", pct("jain_fairness")),
            ("memory used", pct("memory_utilization")),
            ("CUDA used", pct("cuda_utilization")),
        ],
    );
    let latency = bars(
        Panel::new(
            "Scheduling latency (assigned − submitted)",
            "",
            "seconds (s)",
        ),
        &[
            ("avg", m("avg_latency")),
            ("p50", m("latency/p50")),
            ("p95", m("latency/p95")),
            ("p99", m("latency/p99")),
            ("max", m("max_latency")),
        ],
    );
    let throughput = bars(
        Panel::new("Throughput", "", "tests per second"),
        &[
            ("peak scheduled", m("peak_throughput")),
            ("avg scheduled", m("avg_throughput")),
            ("peak completed", m("peak_completion_throughput")),
            ("avg completed", m("avg_completion_throughput")),
        ],
    );
    let panels = [rates, latency, throughput]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    Chart {
        name: "performance_summary".into(),
        title: format!("Performance summary: {}", headline(v)),
        body: Body::Panels(panels),
    }
}

/// "20 workers, 100 tests, performance_based, seed 42".
pub fn headline(v: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(w) = num(v, "configuration/workers") {
        parts.push(format!("{w} workers"));
    }
    if let Some(t) = num(v, "configuration/tests") {
        parts.push(format!("{t} tests"));
    }
    if let Some(s) = v.get("scheduler").and_then(Value::as_str) {
        parts.push(s.to_string());
    }
    if let Some(s) = v.get("seed").and_then(Value::as_u64) {
        parts.push(format!("seed {s}"));
    }
    parts.join(", ")
}

fn bands(spikes: &[Spike]) -> Vec<Band> {
    spikes
        .iter()
        .map(|s| Band {
            start: s.start,
            end: s.end,
            label: format!("spike ×{}", s.multiplier),
        })
        .collect()
}

fn marks(v: &Value) -> Vec<Mark> {
    let (joins, leaves) = worker_events(v);
    let mark = |label: &'static str| {
        move |at: f64| Mark {
            at,
            label: label.into(),
        }
    };
    joins
        .into_iter()
        .map(mark("worker joined"))
        .chain(leaves.into_iter().map(mark("worker left")))
        .collect()
}

fn time_series(v: &Value) -> Option<Chart> {
    let throughput = pairs(v, "time_series/throughput")?;
    let mut top =
        Panel::new("Tests per second", TIME, "tests per second").line("scheduled", throughput);
    if let Some(c) = pairs(v, "time_series/completions") {
        top = top.line("completed", c);
    }
    top.bands = bands(&spikes(v));
    top.marks = marks(v);
    let mut panels = vec![top];
    if let Some(l) = pairs(v, "time_series/latency") {
        let mut p = Panel::new(
            "Mean scheduling latency of tests first assigned in each bucket",
            TIME,
            "seconds (s)",
        )
        .line("latency", l);
        p.bands = bands(&spikes(v));
        panels.push(p);
    }
    Some(Chart {
        name: "throughput_latency".into(),
        title: "Throughput and scheduling latency over time (shaded: spikes; lines: worker joins/departures)".into(),
        body: Body::Panels(panels),
    })
}

fn heat(v: &Value) -> Option<Chart> {
    let b = v.pointer("/time_series/worker_busy")?;
    let rows: Vec<String> = b
        .get("workers")?
        .as_array()?
        .iter()
        .map(|w| w.as_str().unwrap_or("?").to_string())
        .collect();
    let cells: Vec<Vec<Option<f64>>> = b
        .get("busy")?
        .as_array()?
        .iter()
        .map(|r| {
            r.as_array()
                .map(|r| r.iter().map(Value::as_f64).collect())
                .unwrap_or_default()
        })
        .collect();
    if rows.is_empty() || cells.len() != rows.len() {
        return None;
    }
    Some(Chart {
        name: "worker_utilization_heatmap".into(),
        title: "Worker busy fraction over time (share of each column with ≥ 1 test running)".into(),
        body: Body::Heat(Heat {
            x_label: TIME.into(),
            column_seconds: b
                .get("column_seconds")
                .and_then(Value::as_f64)
                .unwrap_or(1.0),
            rows,
            cells,
        }),
    })
}

fn percent(xs: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    xs.into_iter().map(|(t, y)| (t, y * 100.0)).collect()
}

fn resources(v: &Value) -> Option<Chart> {
    let memory = pairs(v, "time_series/memory_utilization")?;
    let mut top = Panel::new(
        "Memory and CUDA devices in use",
        TIME,
        "percent of online capacity (%)",
    )
    .line("memory", percent(memory));
    if let Some(c) = pairs(v, "time_series/cuda_utilization") {
        top = top.line("CUDA devices", percent(c));
    }
    let mut panels = vec![top];
    if let Some(s) = pairs(v, "time_series/stranded_memory") {
        panels.push(
            Panel::new(
                "Stranded memory: free while tests waited",
                TIME,
                "percent of online memory (%)",
            )
            .line("stranded memory", percent(s)),
        );
    }
    Some(Chart {
        name: "resource_efficiency".into(),
        title: "Resource efficiency over time (sampled once per bucket)".into(),
        body: Body::Panels(panels),
    })
}

fn mean_in(xs: &[(f64, f64)], a: f64, b: f64) -> Option<f64> {
    let ys: Vec<f64> = xs
        .iter()
        .filter(|p| p.0 >= a && p.0 < b)
        .map(|p| p.1)
        .collect();
    (!ys.is_empty()).then(|| ys.iter().sum::<f64>() / ys.len() as f64)
}

/// Arrivals, queue length and latency around each spike, and the mean
/// queue before, during and after it (windows as long as the spike).
pub fn spike_correlation(v: &Value) -> Option<Chart> {
    let spikes = spikes(v);
    let arrivals = pairs(v, "time_series/arrivals")?;
    let pending = pairs(v, "time_series/pending")?;
    if spikes.is_empty() {
        return None;
    }
    let b = bands(&spikes);
    let mut p1 =
        Panel::new("Arrival rate", TIME, "tests submitted per second").line("arrivals", arrivals);
    let mut p2 = Panel::new("Queue length", TIME, "pending tests").line("pending", pending.clone());
    p1.bands = b.clone();
    p2.bands = b.clone();
    let mut panels = vec![p1, p2];
    if let Some(l) = pairs(v, "time_series/latency") {
        let mut p3 = Panel::new("Scheduling latency", TIME, "seconds (s)").line("latency", l);
        p3.bands = b;
        panels.push(p3);
    }
    let mut around = Panel::new("Mean queue length around each spike", "", "pending tests");
    for (i, s) in spikes.iter().enumerate() {
        let len = (s.end - s.start).max(1.0);
        for (when, a, z) in [
            ("before", s.start - len, s.start),
            ("during", s.start, s.end),
            ("after", s.end, s.end + len),
        ] {
            around.bars.push(Bar {
                label: format!("#{} {when}", i + 1),
                value: mean_in(&pending, a, z).unwrap_or(0.0),
            });
        }
    }
    panels.push(around);
    Some(Chart {
        name: "spike_correlation".into(),
        title: "Load spikes: arrival rate, queue length and latency (shaded: spike windows)".into(),
        body: Body::Panels(panels),
    })
}

/// A distribution read back from its summary: (value, fraction ≤ value).
pub fn cdf_from(m: &Value) -> Option<Vec<(f64, f64)>> {
    let p = |k: &str| m.pointer(k).and_then(Value::as_f64);
    let low = p("/min_latency").unwrap_or(0.0);
    Some(vec![
        (low, 0.0),
        (p("/latency/p50")?, 0.5),
        (p("/latency/p95")?, 0.95),
        (p("/latency/p99")?, 0.99),
        (p("/latency/max").or(p("/max_latency"))?, 1.0),
    ])
}

fn latency_cdf(v: &Value) -> Option<Chart> {
    let points = cdf_from(v.get("metrics")?)?;
    let name = v.get("scheduler").and_then(Value::as_str).unwrap_or("run");
    Some(cdf_chart(vec![Series {
        name: name.into(),
        step: true,
        points,
    }]))
}

pub fn cdf_chart(series: Vec<Series>) -> Chart {
    let mut p = Panel::new(
        "Fraction of tests scheduled within a latency (min, p50, p95, p99, max)",
        "scheduling latency (s)",
        "fraction of tests",
    );
    p.series = series;
    Chart {
        name: "latency_cdf".into(),
        title: "Scheduling latency distribution (CDF from percentiles)".into(),
        body: Body::Panels(vec![p]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run() -> Value {
        json!({
            "seed": 7, "scheduler": "round_robin",
            "configuration": {"workers": 2, "tests": 10},
            "metrics": {"success_rate": 90.0, "worker_utilization": 0.5, "jain_fairness": 0.8,
                        "avg_latency": 0.5, "min_latency": 0.1, "max_latency": 2.0,
                        "latency": {"p50": 0.4, "p95": 1.5, "p99": 1.9, "max": 2.0}},
            "time_series": {"throughput": [[0, 2.0], [1, 4.0]], "arrivals": [[0, 1], [1, 9], [2, 1], [3, 1]],
                            "pending": [[0, 0], [1, 6], [2, 2], [3, 0]]},
            "workers": [{"joined_at": 0.0, "left_at": 3.5}, {"joined_at": 1.25, "left_at": null}],
            "spikes": [{"start": 1, "end": 2, "multiplier": 4}]
        })
    }

    #[test]
    fn summary_plots_percent_and_seconds_and_skips_missing_figures() {
        let c = summary(&run());
        assert_eq!(
            c.title,
            "Performance summary: 2 workers, 10 tests, round_robin, seed 7"
        );
        let Body::Panels(p) = c.body else { panic!() };
        let rates: Vec<(&str, f64)> = p[0]
            .bars
            .iter()
            .map(|b| (b.label.as_str(), b.value))
            .collect();
        assert_eq!(
            rates,
            [
                ("scheduled", 90.0),
                ("workers used", 50.0),
                ("Jain fairness ×100", 80.0)
            ]
        );
        assert_eq!(p[1].bars.len(), 5);
        assert_eq!(p.len(), 2, "no throughput figures, no throughput panel");
    }

    #[test]
    fn time_series_marks_spikes_joins_and_departures() {
        let c = time_series(&run()).unwrap();
        let Body::Panels(p) = c.body else { panic!() };
        assert_eq!(p[0].series[0].points, [(0.0, 2.0), (1.0, 4.0)]);
        assert_eq!((p[0].bands[0].start, p[0].bands[0].end), (1.0, 2.0));
        let marks: Vec<(f64, &str)> = p[0]
            .marks
            .iter()
            .map(|m| (m.at, m.label.as_str()))
            .collect();
        assert_eq!(marks, [(1.25, "worker joined"), (3.5, "worker left")]);
    }

    #[test]
    fn spike_correlation_compares_the_queue_before_during_and_after() {
        let c = spike_correlation(&run()).unwrap();
        let Body::Panels(p) = c.body else { panic!() };
        let around: Vec<f64> = p.last().unwrap().bars.iter().map(|b| b.value).collect();
        assert_eq!(around, [0.0, 6.0, 2.0]);
        let mut calm = run();
        calm["spikes"] = json!([]);
        assert!(spike_correlation(&calm).is_none());
    }

    #[test]
    fn missing_series_become_notes() {
        let (charts, notes) = charts(&json!({"metrics": {"success_rate": 100.0}}));
        assert_eq!(charts.len(), 1);
        assert_eq!(notes.len(), 5, "{notes:?}");
    }

    #[test]
    fn cdf_reads_percentiles_in_order() {
        let points = cdf_from(&run()["metrics"]).unwrap();
        assert_eq!(
            points,
            [(0.1, 0.0), (0.4, 0.5), (1.5, 0.95), (1.9, 0.99), (2.0, 1.0)]
        );
    }
}
