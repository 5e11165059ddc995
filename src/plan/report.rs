//! A plan as the console shows it (the curve per policy, then the answer)
//! and as charts (one per target: the metric against the pool, a line per
//! policy, and the target's bound).

use super::{num, Plan, PolicyPlan};
use crate::visualize::{Body, Chart, Panel, Scale, Series};

/// The plan as printed: a header, then each policy's curve and notes, then
/// the answers.
pub(crate) fn text(plan: &Plan) -> String {
    let targets: Vec<String> = plan.targets.iter().map(|t| t.label()).collect();
    let mut out = format!(
        "plan {}: smallest pool meeting {}, workers {}..{}\n",
        plan.source,
        targets.join(" and "),
        plan.min,
        plan.max
    );
    out.push_str(&match plan.seeds.as_slice() {
        [one] => format!("1 run per pool (seed {one} at every pool): no interval from one run\n"),
        s => format!(
            "{} replications per pool (seeds {}, the same at every pool); mean ± 95 % t-interval half-width\n",
            s.len(),
            seeds(s)
        ),
    });
    for p in &plan.policies {
        out.push('\n');
        out.push_str(&curve(p, &targets));
    }
    out.push('\n');
    for p in &plan.policies {
        let answer = match p.workers {
            Some(1) => "1 worker".to_string(),
            Some(w) => format!("{w} workers"),
            None => format!("not met by {} workers", plan.max),
        };
        out.push_str(&format!("answer {}: {answer}\n", p.scheduler));
    }
    out
}

fn seeds(s: &[u64]) -> String {
    match s {
        [one] => one.to_string(),
        [first, .., last] => format!("{first}..{last}"),
        [] => String::new(),
    }
}

/// One policy's table: workers, each metric's mean ± half-width, meets.
fn curve(p: &PolicyPlan, targets: &[String]) -> String {
    let mut rows: Vec<Vec<String>> = vec![std::iter::once("workers".to_string())
        .chain(p.curve.first().map_or(Vec::new(), |c| {
            c.metrics.iter().map(|m| m.metric.clone()).collect()
        }))
        .chain(std::iter::once("meets".to_string()))
        .collect()];
    for point in &p.curve {
        let mut row = vec![point.workers.to_string()];
        row.extend(point.metrics.iter().map(|m| match m.ci95 {
            Some((lo, hi)) => format!("{} ± {}", num(m.mean), num((hi - lo) / 2.0)),
            None => num(m.mean),
        }));
        row.push(match (point.finished, point.meets) {
            (false, _) => "no (unfinished)".into(),
            (true, true) => "yes".into(),
            (true, false) => "no".into(),
        });
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!("{} (targets {})\n", p.scheduler, targets.join(", "));
    for row in rows {
        let cells: Vec<String> = (row.iter().zip(&widths).enumerate())
            .map(|(i, (c, w))| match i {
                0 => format!("{c:>w$}"),
                _ => format!("{c:<w$}"),
            })
            .collect();
        out.push_str(&format!("  {}\n", cells.join("  ").trim_end()));
    }
    for w in &p.warnings {
        out.push_str(&format!("  note: {w}\n"));
    }
    out
}

/// One chart per target: the mean against the pool for each policy (the
/// runs that finished), and the bound as a flat line.
pub(crate) fn charts(plan: &Plan) -> Vec<Chart> {
    (plan.targets.iter().enumerate())
        .map(|(i, t)| {
            let mut panel = Panel::new(
                &format!(
                    "{} against the pool ({} replications)",
                    t.metric, plan.replications
                ),
                "workers",
                &t.metric,
            );
            let mut xs = Vec::new();
            for p in &plan.policies {
                let points: Vec<(f64, f64)> = (p.curve.iter().filter(|c| c.finished))
                    .map(|c| (f64::from(c.workers), c.metrics[i].mean))
                    .collect();
                xs.extend(points.iter().map(|q| q.0));
                panel.series.push(Series::policy(
                    p.scheduler.to_string(),
                    p.scheduler,
                    false,
                    points,
                ));
            }
            let (lo, hi) = xs
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            if lo <= hi {
                panel = panel.line(
                    &format!("target {}", t.label()),
                    vec![(lo, t.value), (hi, t.value)],
                );
                if hi / lo >= 8.0 {
                    panel.x_scale = Scale::Log;
                }
            }
            Chart {
                name: format!("plan_{}", file_stem(&t.metric)),
                title: format!("lbsim plan {}: {}", plan.source, t.label()),
                body: Body::Panels(vec![panel]),
            }
        })
        .collect()
}

/// A metric path as a file name: letters, digits and `_` kept, the rest `_`.
fn file_stem(metric: &str) -> String {
    metric
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{MetricPoint, Point, CONFIDENCE, RULE};
    use super::*;
    use crate::balancer::policy::SchedulerName;
    use crate::plan::Target;

    fn plan() -> Plan {
        let point = |w: u32, mean: f64, meets: bool| Point {
            workers: w,
            finished: true,
            meets,
            metrics: vec![MetricPoint {
                metric: "wait.avg".into(),
                mean,
                ci95: Some((mean - 0.1, mean + 0.1)),
                values: vec![mean - 0.05, mean + 0.05],
            }],
        };
        let policy = |s: SchedulerName, answer| PolicyPlan {
            scheduler: s,
            workers: answer,
            monotone: true,
            warnings: vec![],
            curve: vec![
                point(1, 5.0, false),
                point(2, 2.5, false),
                point(4, 0.5, true),
            ],
        };
        Plan {
            source: "mmc".into(),
            targets: vec![Target::parse("wait.avg<=1").unwrap()],
            replications: 2,
            seeds: vec![42, 43],
            confidence: CONFIDENCE,
            rule: RULE,
            min: 1,
            max: 64,
            policies: vec![
                policy(SchedulerName::DEFAULT, Some(3)),
                policy(SchedulerName::parse("least_loaded").unwrap(), None),
            ],
        }
    }

    #[test]
    fn the_text_shows_each_curve_and_the_answers() {
        let t = text(&plan());
        assert!(
            t.starts_with("plan mmc: smallest pool meeting wait.avg<=1, workers 1..64\n"),
            "{t}"
        );
        assert!(t.contains("seeds 42..43"), "{t}");
        assert!(t.contains("        4  0.5 ± 0.1  yes\n"), "{t}");
        assert!(
            t.ends_with(
                "answer performance_based: 3 workers\nanswer least_loaded: not met by 64 workers\n"
            ),
            "{t}"
        );
    }

    #[test]
    fn a_chart_per_target_names_every_policy_and_the_bound() {
        let charts = charts(&plan());
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].name, "plan_wait_avg");
        let Body::Panels(panels) = &charts[0].body else {
            panic!("a heat map")
        };
        let names: Vec<&str> = panels[0].series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["performance_based", "least_loaded", "target wait.avg<=1"]
        );
        assert_eq!(panels[0].series[2].points, vec![(1.0, 1.0), (4.0, 1.0)]);
        let svg = crate::visualize::svg(&charts[0]).unwrap();
        assert!(
            svg.contains("least_loaded") && svg.contains("target wait.avg&lt;=1"),
            "{svg}"
        );
    }
}
