//! Interval arrivals (a throwaway example): one test every `gap` seconds.

use super::{Pattern, Schedule, Window};
use crate::error::Result;
use crate::scenario::check::{FieldPath, POSITIVE_SECONDS};
use crate::sim::SimRng;
use serde::{Deserialize, Serialize};

/// One test every `gap` seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    /// Seconds between tests; `None`: duration / tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<f64>,
}

impl Interval {
    fn gap_in(&self, window: Window) -> f64 {
        self.gap.unwrap_or(window.duration_s / window.tests as f64)
    }
}

impl Pattern for Interval {
    fn fill_defaults(&mut self, window: Window) {
        self.gap = Some(self.gap_in(window));
    }

    fn check(&self, path: &FieldPath) -> Result<()> {
        match self.gap {
            Some(g) => POSITIVE_SECONDS.check(&path.field("gap"), g),
            None => Ok(()),
        }
    }

    fn span_s(&self, window: Window) -> f64 {
        window
            .duration_s
            .max(window.tests as f64 * self.gap_in(window))
    }

    fn schedule(&self, window: Window, _base_length_s: f64) -> Box<dyn Schedule> {
        Box::new(IntervalSchedule(self.gap_in(window)))
    }
}

struct IntervalSchedule(f64);

impl Schedule for IntervalSchedule {
    fn base_time_s(&mut self, k: u64, _rng: &mut SimRng) -> f64 {
        k as f64 * self.0
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::config::{Config, Overrides};
    use crate::sim::SimTime;
    use crate::workload::ArrivalSource;

    /// The config file, the checks, the spikes, the workload, the engine
    /// and the results JSON all take the new pattern.
    #[test]
    fn a_new_pattern_works_end_to_end() {
        let text = r#"{"scenario_configurations": {"s": {"test_config": "small",
            "arrivals": {"type": "interval", "gap": 0.25,
                         "spikes": [{"start": 1, "length": 2, "multiplier": 2}]}}}}"#;
        let s = Config::parse(text, "c.json")
            .unwrap()
            .scenario("s", &Overrides::default())
            .unwrap();
        let streams = crate::sim::RngStreams::new(1);
        let mut a = crate::workload::SyntheticArrivals::new(&s, &streams);
        let t: Vec<SimTime> = std::iter::from_fn(|| a.next_arrival())
            .map(|x| x.time)
            .collect();
        assert_eq!((t.len(), t[1].as_secs_f64()), (20, 0.25));
        let out = crate::engine::run(&s, &mut crate::engine::NoObserver).unwrap();
        let json = crate::report::run_json(&out);
        assert_eq!(
            json["configuration"]["arrivals"]["base"],
            serde_json::json!({"type": "interval", "gap": 0.25})
        );
        // The default, and a bad value named by its path.
        let text = r#"{"scenario_configurations": {"s": {"test_config": "small", "arrivals": {"type": "interval"}}}}"#;
        let s = Config::parse(text, "c.json")
            .unwrap()
            .scenario("s", &Overrides::default())
            .unwrap();
        assert_eq!(
            serde_json::to_value(&s.arrivals).unwrap(),
            serde_json::json!({"type": "interval", "gap": 0.5})
        );
        let text = r#"{"scenario_configurations": {"s": {"arrivals": {"type": "interval", "gap": 0, "x": 1}}}}"#;
        let e = Config::parse(text, "c.json").unwrap_err().to_string();
        assert!(
            e.ends_with("unknown field `x`, expected `gap` or `spikes`"),
            "{e}"
        );
        let text =
            r#"{"scenario_configurations": {"s": {"arrivals": {"type": "interval", "gap": 0}}}}"#;
        let e = Config::parse(text, "c.json").unwrap_err().to_string();
        assert_eq!(e, "c.json: scenario_configurations.s.arrivals.gap: 0 must be a positive number of seconds");
    }
}
