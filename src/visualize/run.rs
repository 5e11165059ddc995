//! The charts of one run (stress, scenario, spike or replay results).

use super::figure::{Band, Bar, Body, Chart, Heat, Mark, Panel, Series};
use super::style::{JOIN_COLOUR, LEAVE_COLOUR};
use crate::metrics::Metrics;
use crate::report::{ResultsDoc, SpikeWindow};

const TIME: &str = "simulated time (s)";

/// Every chart the file has data for, and a note for each one skipped.
pub(super) fn charts(doc: &ResultsDoc) -> (Vec<Chart>, Vec<String>) {
    let optional = [
        (
            heat(doc),
            "worker utilisation heat map: no time_series.worker_busy (results from an older lbsim)",
        ),
        (
            resources(doc),
            "resource efficiency: no time_series.memory_utilization (results from an older lbsim)",
        ),
        (
            spike_correlation(doc),
            "load-spike correlation: no spikes, or no arrivals/pending series, in the file",
        ),
    ];
    let mut charts = vec![summary(doc), time_series(doc)];
    let mut notes = Vec::new();
    for (chart, why) in optional {
        match chart {
            Some(c) => charts.push(c),
            None => notes.push(why.to_string()),
        }
    }
    charts.push(latency_cdf(doc));
    (charts, notes)
}

fn bars(mut p: Panel, items: &[(&str, f64)]) -> Panel {
    for &(label, value) in items {
        p.bars.push(Bar {
            label: label.into(),
            value,
        });
    }
    p
}

/// Key figures as bars, grouped by unit.
pub(super) fn summary(doc: &ResultsDoc) -> Chart {
    let m = &doc.metrics;
    let mut rates = bars(
        Panel::new("Rates", "", "percent (%)"),
        &[
            ("scheduled", m.success_rate),
            ("completed ok", m.completion_success_rate),
            ("workers used", m.worker_utilization * 100.0),
            ("Jain fairness", m.jain_fairness * 100.0),
            ("memory used", m.memory_utilization * 100.0),
            ("CUDA used", m.cuda_utilization * 100.0),
        ],
    );
    // Up to 100 %, with room for the value over a full bar.
    rates.y_range = Some((0.0, 110.0));
    let latency = bars(
        Panel::new(
            "Scheduling latency (assigned − submitted)",
            "",
            "seconds (s)",
        ),
        &[
            ("avg", m.avg_latency),
            ("p50", m.latency.p50),
            ("p95", m.latency.p95),
            ("p99", m.latency.p99),
            ("max", m.max_latency),
        ],
    );
    let throughput = bars(
        Panel::new("Throughput", "", "tests per second"),
        &[
            ("peak scheduled", m.peak_throughput),
            ("avg scheduled", m.avg_throughput),
            ("peak completed", m.peak_completion_throughput),
            ("avg completed", m.avg_completion_throughput),
        ],
    );
    Chart {
        name: "performance_summary".into(),
        title: format!("Performance summary: {}", headline(doc)),
        body: Body::Panels(vec![rates, latency, throughput]),
    }
}

/// "20 workers, 100 tests, performance_based, seed 42".
pub(super) fn headline(doc: &ResultsDoc) -> String {
    format!(
        "{} workers, {} tests, {}, seed {}",
        doc.configuration.workers,
        doc.configuration.tests,
        doc.scheduler.as_str(),
        doc.seed
    )
}

fn bands(spikes: &[SpikeWindow]) -> Vec<Band> {
    spikes
        .iter()
        .map(|s| Band {
            start: s.start,
            end: s.end,
            label: format!("spike ×{}", s.multiplier),
        })
        .collect()
}

/// Worker joins (after the start) and departures, in time order.
fn marks(doc: &ResultsDoc) -> Vec<Mark> {
    let mut joins: Vec<f64> = (doc.workers.iter())
        .map(|w| w.joined_at)
        .filter(|&j| j > 0.0)
        .collect();
    let mut leaves: Vec<f64> = doc.workers.iter().filter_map(|w| w.left_at).collect();
    joins.sort_by(f64::total_cmp);
    leaves.sort_by(f64::total_cmp);
    let mark = |label: &'static str, colour| {
        move |at: f64| Mark {
            at,
            label: label.into(),
            colour,
        }
    };
    joins
        .into_iter()
        .map(mark("worker joined", JOIN_COLOUR))
        .chain(leaves.into_iter().map(mark("worker left", LEAVE_COLOUR)))
        .collect()
}

/// A `[bucket start, value]` series as chart points.
fn points(series: &[(u64, f64)]) -> Vec<(f64, f64)> {
    series.iter().map(|&(t, y)| (t as f64, y)).collect()
}

/// A `[bucket start, count]` series as chart points.
fn counts(series: &[(u64, u64)]) -> Vec<(f64, f64)> {
    series.iter().map(|&(t, n)| (t as f64, n as f64)).collect()
}

fn time_series(doc: &ResultsDoc) -> Chart {
    let ts = &doc.time_series;
    let mut top = Panel::new("Tests per second", TIME, "tests per second")
        .line("scheduled", points(&ts.throughput))
        .line("completed", points(&ts.completions));
    top.bands = bands(&doc.spikes);
    top.marks = marks(doc);
    let mut latency = Panel::new(
        "Mean scheduling latency of tests first assigned in each bucket",
        TIME,
        "seconds (s)",
    )
    .line("latency", points(&ts.latency));
    latency.bands = bands(&doc.spikes);
    Chart {
        name: "throughput_latency".into(),
        title: "Throughput and scheduling latency over time".into(),
        body: Body::Panels(vec![top, latency]),
    }
}

fn heat(doc: &ResultsDoc) -> Option<Chart> {
    let b = &doc.time_series.resources.worker_busy;
    if b.workers.is_empty() || b.busy.len() != b.workers.len() {
        return None;
    }
    Some(Chart {
        name: "worker_utilization_heatmap".into(),
        title: "Worker busy fraction over time (share of each column with ≥ 1 test running)".into(),
        body: Body::Heat(Heat {
            x_label: TIME.into(),
            column_seconds: b.column_seconds,
            rows: b.workers.clone(),
            cells: b.busy.clone(),
        }),
    })
}

fn percent(series: &[(u64, f64)]) -> Vec<(f64, f64)> {
    series.iter().map(|&(t, y)| (t as f64, y * 100.0)).collect()
}

/// Memory, CUDA and stranded memory over time; `None` for a file of an
/// older lbsim, which has no such samples.
fn resources(doc: &ResultsDoc) -> Option<Chart> {
    let r = &doc.time_series.resources;
    if r.memory_utilization.is_empty() {
        return None;
    }
    let top = Panel::new(
        "Memory and CUDA devices in use",
        TIME,
        "percent of online capacity (%)",
    )
    .line("memory", percent(&r.memory_utilization))
    .line("CUDA devices", percent(&r.cuda_utilization));
    let stranded = Panel::new(
        "Stranded memory: free while tests waited",
        TIME,
        "percent of online memory (%)",
    )
    .line("stranded memory", percent(&r.stranded_memory));
    Some(Chart {
        name: "resource_efficiency".into(),
        title: "Resource efficiency over time (sampled once per bucket)".into(),
        body: Body::Panels(vec![top, stranded]),
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
pub(super) fn spike_correlation(doc: &ResultsDoc) -> Option<Chart> {
    let ts = &doc.time_series;
    if doc.spikes.is_empty() || ts.arrivals.is_empty() {
        return None;
    }
    let pending = counts(&ts.pending);
    let b = bands(&doc.spikes);
    let mut p1 = Panel::new("Arrival rate", TIME, "tests submitted per second")
        .line("arrivals", points(&ts.arrivals));
    let mut p2 = Panel::new("Queue length", TIME, "pending tests").line("pending", pending.clone());
    let mut p3 =
        Panel::new("Scheduling latency", TIME, "seconds (s)").line("latency", points(&ts.latency));
    p1.bands = b.clone();
    p2.bands = b.clone();
    p3.bands = b;
    let mut around = Panel::new("Mean queue length around each spike", "", "pending tests");
    for (i, s) in doc.spikes.iter().enumerate() {
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
    Some(Chart {
        name: "spike_correlation".into(),
        title: "Load spikes: arrival rate, queue length and latency (shaded: spike windows)".into(),
        body: Body::Panels(vec![p1, p2, p3, around]),
    })
}

/// A latency distribution read back from its five figures, for a run
/// file without the distribution itself (an older lbsim's): (seconds,
/// percent of tests at or below). A benchmark grid never uses it.
pub(super) fn cdf_from(m: &Metrics) -> Vec<(f64, f64)> {
    vec![
        (m.min_latency, 0.0),
        (m.latency.p50, 50.0),
        (m.latency.p95, 95.0),
        (m.latency.p99, 99.0),
        (m.latency.max, 100.0),
    ]
}

/// The run's latency CDF: from its 101 quantile points when the file has
/// them, else from the percentiles.
fn latency_cdf(doc: &ResultsDoc) -> Chart {
    let quantiles = &doc.distributions.latency;
    let (points, exact) = if quantiles.is_empty() {
        (cdf_from(&doc.metrics), false)
    } else {
        (
            quantiles.iter().map(|&(q, s)| (s, q * 100.0)).collect(),
            true,
        )
    };
    let name = doc.scheduler.as_str().to_string();
    cdf_chart(
        vec![Series::policy(name, doc.scheduler, true, points)],
        exact,
    )
}

/// A latency CDF chart; `exact`: drawn from the quantile points of every
/// test, not rebuilt from five figures (the title says which).
pub(super) fn cdf_chart(series: Vec<Series>, exact: bool) -> Chart {
    let (panel, title) = if exact {
        (
            "Share of tests scheduled within a latency (every test, 101 quantiles)",
            "Scheduling latency distribution (CDF)",
        )
    } else {
        (
            "Share of tests scheduled within a latency (min, p50, p95, p99, max)",
            "Scheduling latency distribution (CDF from percentiles)",
        )
    };
    let mut p = Panel::new(panel, "scheduling latency (s)", "tests (%)");
    p.y_range = Some((0.0, 100.0));
    p.series = series;
    Chart {
        name: "latency_cdf".into(),
        title: title.into(),
        body: Body::Panels(vec![p]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visualize::fixtures::{known_run_doc, run_doc};

    #[test]
    fn summary_plots_percent_and_seconds() {
        let doc = known_run_doc();
        let c = summary(&doc);
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
            rates[..4],
            [
                ("scheduled", 90.0),
                ("completed ok", doc.metrics.completion_success_rate),
                ("workers used", 50.0),
                ("Jain fairness", 80.0)
            ]
        );
        let latency: Vec<f64> = p[1].bars.iter().map(|b| b.value).collect();
        assert_eq!(latency, [0.5, 0.4, 1.5, 1.9, 2.0]);
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn time_series_marks_spikes_joins_and_departures() {
        let Body::Panels(p) = time_series(&known_run_doc()).body else {
            panic!()
        };
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
        let c = spike_correlation(&known_run_doc()).unwrap();
        let Body::Panels(p) = c.body else { panic!() };
        let around: Vec<f64> = p.last().unwrap().bars.iter().map(|b| b.value).collect();
        assert_eq!(around, [0.0, 6.0, 2.0]);
        assert!(spike_correlation(&run_doc()).is_none(), "no spikes");
    }

    #[test]
    fn series_an_older_lbsim_did_not_write_become_notes() {
        let (all, notes) = charts(&run_doc());
        assert_eq!((all.len(), notes.len()), (5, 1), "{notes:?}");
        let mut old = known_run_doc();
        old.time_series.arrivals.clear();
        old.time_series.resources = Default::default();
        let (left, notes) = charts(&old);
        let names: Vec<&str> = left.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["performance_summary", "throughput_latency", "latency_cdf"]
        );
        assert_eq!(notes.len(), 3, "{notes:?}");
    }

    #[test]
    fn cdf_reads_percentiles_in_order() {
        assert_eq!(
            cdf_from(&known_run_doc().metrics),
            [
                (0.1, 0.0),
                (0.4, 50.0),
                (1.5, 95.0),
                (1.9, 99.0),
                (2.0, 100.0)
            ]
        );
    }
}
