//! `--arrivals`: when a suite's tests are submitted. A CI run submits
//! them all at once (the default); a suite fed in over time (a merge
//! queue, tests streamed to a pool) spreads them with one of the
//! scenario's arrival patterns (`scenario::Arrivals`), drawn from the
//! run's seed on the arrivals' own stream, in the suite's order.

use super::super::TraceJob;
use crate::scenario::{Arrivals, Poisson, Window};
use crate::sim::{RngStreams, SimTime, Stream};
use serde::{Deserialize, Serialize};

/// How a suite's tests arrive.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Spread {
    /// Every test at time 0: one CI run.
    AtOnce,
    /// Evenly over `over_s` seconds.
    Even {
        /// The window, seconds.
        over_s: f64,
    },
    /// In bursts over `over_s` seconds (the scenario's bursts pattern).
    Bursts {
        /// The window, seconds.
        over_s: f64,
    },
    /// A Poisson process at `rate` tests per second.
    Poisson {
        /// Tests per second.
        rate: f64,
    },
}

impl Spread {
    /// Parses `at_once`, `even:SECONDS`, `bursts:SECONDS` or
    /// `poisson:RATE`.
    pub fn parse(s: &str) -> Result<Spread, String> {
        let (kind, value) = s.split_once(':').unwrap_or((s, ""));
        let number = || -> Result<f64, String> {
            match value.trim().parse::<f64>() {
                Ok(x) if x.is_finite() && x > 0.0 && x <= 1e9 => Ok(x),
                _ => Err(format!(
                    "'{value}' in '{s}' is not a positive number (at most 1e9)"
                )),
            }
        };
        match kind {
            "at_once" if value.is_empty() => Ok(Spread::AtOnce),
            "even" => Ok(Spread::Even { over_s: number()? }),
            "bursts" => Ok(Spread::Bursts { over_s: number()? }),
            "poisson" => Ok(Spread::Poisson { rate: number()? }),
            _ => Err(format!(
                "'{s}' is not an arrival pattern (known: at_once, even:SECONDS, bursts:SECONDS, poisson:RATE)"
            )),
        }
    }

    /// Sets the submission times of `jobs` (in the suite's order).
    pub fn apply(self, jobs: &mut [TraceJob], seed: u64) {
        let tests = jobs.len() as u64;
        let (arrivals, duration_s) = match self {
            Spread::AtOnce => {
                jobs.iter_mut().for_each(|j| j.submit = SimTime::ZERO);
                return;
            }
            Spread::Even { over_s } => (Arrivals::Even, over_s),
            Spread::Bursts { over_s } => (Arrivals::Bursts, over_s),
            Spread::Poisson { rate } => (
                Arrivals::Poisson(Poisson { rate: Some(rate) }),
                tests.max(1) as f64 / rate,
            ),
        };
        let window = Window { tests, duration_s };
        let mut rng = RngStreams::new(seed).stream(Stream::Arrivals);
        let mut schedule = arrivals.schedule(window, duration_s);
        for (k, job) in jobs.iter_mut().enumerate() {
            job.submit = SimTime::from_secs_f64(schedule.base_time_s(k as u64, &mut rng));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::model::TestSpec;
    use crate::sim::SimDuration;

    fn jobs(n: usize) -> Vec<TraceJob> {
        let spec = super::super::requirements::Needs::BUILT_IN.spec(SimDuration::from_secs(1), 0);
        (0..n)
            .map(|i| TraceJob {
                submit: SimTime::ZERO,
                run: SimDuration::from_secs(1),
                success: true,
                spec: TestSpec { ..spec.clone() },
                line: i as u64 + 1,
            })
            .collect()
    }

    fn times(spread: Spread, n: usize, seed: u64) -> Vec<f64> {
        let mut j = jobs(n);
        spread.apply(&mut j, seed);
        j.iter().map(|j| j.submit.as_secs_f64()).collect()
    }

    #[test]
    fn patterns_parse_and_spread_the_suite_in_order() {
        assert_eq!(Spread::parse("at_once"), Ok(Spread::AtOnce));
        assert_eq!(Spread::parse("even:60"), Ok(Spread::Even { over_s: 60.0 }));
        assert_eq!(
            Spread::parse("poisson:2.5"),
            Ok(Spread::Poisson { rate: 2.5 })
        );
        assert!(Spread::parse("even")
            .unwrap_err()
            .contains("not a positive number"));
        assert!(Spread::parse("trickle:3")
            .unwrap_err()
            .contains("known: at_once"));
        assert_eq!(
            times(Spread::Even { over_s: 60.0 }, 4, 1),
            [0.0, 15.0, 30.0, 45.0]
        );
        assert!(times(Spread::AtOnce, 3, 1).iter().all(|&t| t == 0.0));
        let poisson = times(Spread::Poisson { rate: 2.0 }, 200, 1);
        assert!(poisson.windows(2).all(|w| w[0] <= w[1]));
        // About 200 / 2 = 100 s for the whole suite.
        assert!((60.0..140.0).contains(&poisson[199]), "{}", poisson[199]);
        assert_eq!(poisson, times(Spread::Poisson { rate: 2.0 }, 200, 1));
        assert_ne!(poisson, times(Spread::Poisson { rate: 2.0 }, 200, 2));
        // 20 tests: bursts of 2, one every 6 s over 60 s.
        let bursts = times(Spread::Bursts { over_s: 60.0 }, 20, 1);
        assert_eq!((bursts[1], bursts[2]), (0.0, 6.0));
    }
}
