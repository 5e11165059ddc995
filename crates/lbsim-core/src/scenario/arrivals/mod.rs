//! When tests arrive. Each arrival pattern lives in one file of this
//! directory with its parameters, their defaults, their rules and its
//! schedule; spikes (`spikes.rs`) are a modifier on any pattern.
//!
//! A new pattern is a new file here, holding a serde struct of its
//! parameters (`Option` where a default applies, `deny_unknown_fields`) that
//! implements `Pattern`, and in this file its `mod` line, its variant of
//! `Arrivals` and its arm in `pattern` and `fill_defaults` (the compiler
//! asks for both). The config file, the results JSON, sweeps, spikes and the
//! workload's generator pick it up from there.

mod bursts;
mod even;
mod poisson;
mod spikes;

pub use poisson::Poisson;
pub use spikes::RateProfile;
pub use spikes::Spike;

use super::check::FieldPath;
use crate::error::Result;
use crate::sim::SimRng;
use bursts::Bursts;
use even::Even;
use serde::{Deserialize, Serialize};

/// When tests arrive within the submission window. Serialized as the
/// pattern's fields under `"type"`; with spikes, as `{"type": "spiky",
/// "base": …, "spikes": […]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Arrivals {
    /// Evenly spaced over the duration (the reference's steady mode).
    Even,
    /// Bursts of `min(tests/10, 50)` (at least 1), burst k at
    /// `(tests before it / tests) × duration` (the reference's burst mode).
    Bursts,
    /// A Poisson process until every test arrived.
    Poisson(Poisson),
    /// `base` with its rate multiplied by a spike timeline.
    Spiky {
        /// The arrivals whose rate the spikes change.
        base: Box<Arrivals>,
        /// The windows of changed rate.
        spikes: Vec<Spike>,
    },
}

/// The run a pattern lays its tests out for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Window {
    pub(crate) tests: u64,
    /// The submission window, seconds.
    pub(crate) duration_s: f64,
}

/// What each arrival pattern provides.
pub(crate) trait Pattern {
    /// Sets the parameters left to their defaults (`None`) for `window`,
    /// so a results file shows the values a run used.
    fn fill_defaults(&mut self, _window: Window) {}

    /// The parameters' rules; `path` names the `arrivals` field.
    fn check(&self, _path: &FieldPath) -> Result<()> {
        Ok(())
    }

    /// Seconds until the last test arrives, before spikes (the default
    /// horizon is ten times this).
    fn span_s(&self, window: Window) -> f64 {
        window.duration_s
    }

    /// The schedule of the run's tests in base time, where the window is
    /// `base_length_s` long (the duration, or its length under spikes).
    fn schedule(&self, window: Window, base_length_s: f64) -> Box<dyn Schedule>;
}

/// Places a run's tests one after another in base time: the time before a
/// spike timeline warps it (without spikes, the run's own time).
pub(crate) trait Schedule {
    /// The base time of test `k`, called for k = 0, 1, 2, … in order; `rng`
    /// is the arrivals' own stream.
    fn base_time_s(&mut self, k: u64, rng: &mut SimRng) -> f64;
}

impl Arrivals {
    /// The arrival process without its spikes.
    pub fn base(&self) -> &Arrivals {
        match self {
            Arrivals::Spiky { base, .. } => base,
            other => other,
        }
    }

    /// The spike windows (empty without spikes).
    pub fn spikes(&self) -> &[Spike] {
        match self {
            Arrivals::Spiky { spikes, .. } => spikes,
            _ => &[],
        }
    }

    /// The base pattern.
    fn pattern(&self) -> &dyn Pattern {
        match self {
            Arrivals::Even => &Even,
            Arrivals::Bursts => &Bursts,
            Arrivals::Poisson(p) => p,
            Arrivals::Spiky { base, .. } => base.pattern(),
        }
    }

    /// Sets the base pattern's defaulted parameters for `window`.
    pub(crate) fn fill_defaults(&mut self, window: Window) {
        match self {
            Arrivals::Even | Arrivals::Bursts => {}
            Arrivals::Poisson(p) => p.fill_defaults(window),
            Arrivals::Spiky { base, .. } => base.fill_defaults(window),
        }
    }

    /// Every rule of the section; `path` names it (`arrivals`) and
    /// `duration_s` is the submission window the spikes must leave open.
    pub(crate) fn check(&self, path: &FieldPath, duration_s: f64) -> Result<()> {
        match self {
            Arrivals::Spiky { base, spikes } => spikes::check(base, spikes, path, duration_s),
            plain => plain.pattern().check(path),
        }
    }

    /// Seconds until the last test arrives, before spikes.
    pub(crate) fn span_s(&self, window: Window) -> f64 {
        self.pattern().span_s(window)
    }

    /// The base pattern's schedule (see `Pattern::schedule`).
    pub(crate) fn schedule(&self, window: Window, base_length_s: f64) -> Box<dyn Schedule> {
        self.pattern().schedule(window, base_length_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Window = Window {
        tests: 120,
        duration_s: 60.0,
    };

    fn first_times(arrivals: &Arrivals, n: u64) -> Vec<f64> {
        let mut rng = crate::sim::RngStreams::new(1).stream(crate::sim::Stream::Arrivals);
        let mut s = arrivals.schedule(WINDOW, WINDOW.duration_s);
        (0..n).map(|k| s.base_time_s(k, &mut rng)).collect()
    }

    #[test]
    fn the_serialized_form_is_the_results_files() {
        let json = |a: &Arrivals| serde_json::to_string(a).unwrap();
        assert_eq!(json(&Arrivals::Even), r#"{"type":"even"}"#);
        let poisson = Arrivals::Poisson(Poisson { rate: Some(2.5) });
        assert_eq!(json(&poisson), r#"{"type":"poisson","rate":2.5}"#);
        let spiky = Arrivals::Bursts.with_spikes(vec![Spike {
            start_s: 1.0,
            length_s: 2.0,
            multiplier: 3.0,
            ramp_s: 0.0,
        }]);
        let text = json(&spiky);
        assert_eq!(
            text,
            r#"{"type":"spiky","base":{"type":"bursts"},"spikes":[{"start_s":1.0,"length_s":2.0,"multiplier":3.0,"ramp_s":0.0}]}"#
        );
        assert_eq!(serde_json::from_str::<Arrivals>(&text).unwrap(), spiky);
    }

    #[test]
    fn even_and_bursts_have_no_parameters_to_default() {
        for plain in [Arrivals::Even, Arrivals::Bursts] {
            let mut a = plain.clone();
            a.fill_defaults(WINDOW);
            assert_eq!(a, plain);
            assert_eq!(a.span_s(WINDOW), 60.0);
        }
        assert_eq!(first_times(&Arrivals::Even, 3), [0.0, 0.5, 1.0]);
        // 120 tests: bursts of 12, one every 6 s.
        let bursts = first_times(&Arrivals::Bursts, 13);
        assert_eq!((bursts[11], bursts[12]), (0.0, 6.0));
    }

    #[test]
    fn poisson_defaults_to_the_windows_average_rate() {
        let mut a = Arrivals::Poisson(Poisson { rate: None });
        assert_eq!(a.span_s(WINDOW), 60.0);
        let lazy = first_times(&a, 50);
        a.fill_defaults(WINDOW);
        assert_eq!(a, Arrivals::Poisson(Poisson { rate: Some(2.0) }));
        // The default, filled or not, draws the same times.
        assert_eq!(first_times(&a, 50), lazy);
        // A slower rate than the window's average stretches the span.
        let slow = Arrivals::Poisson(Poisson { rate: Some(1.0) });
        assert_eq!(slow.span_s(WINDOW), 120.0);
        // A given rate is kept.
        let mut kept = slow.clone();
        kept.fill_defaults(WINDOW);
        assert_eq!(kept, slow);
    }

    #[test]
    fn a_bad_rate_is_named_by_its_path() {
        let a = Arrivals::Poisson(Poisson { rate: Some(-1.0) });
        let e = a.check(&FieldPath::root().field("arrivals"), 60.0);
        assert_eq!(
            e.unwrap_err().to_string(),
            "invalid arrivals.rate: must be a positive number of tests per second"
        );
    }
}
