//! Synthetic arrivals: the scenario's arrival pattern (even, bursts,
//! Poisson: see `scenario::Arrivals`) warped by its spike timeline, each
//! test with requirements drawn from the test profile and a fate seed.

use super::{Arrival, ArrivalSource, Fate};
use crate::balancer::model::{gb_to_mib_ceil, Backends, TestId, TestSpec};
use crate::scenario::{RateProfile, Scenario, Schedule, TestProfile};
use crate::sim::{RngStreams, SimDuration, SimRng, SimTime, Stream};

/// Arrivals drawn from a scenario, generated lazily (a million tests cost no
/// memory until they arrive).
pub struct SyntheticArrivals {
    tests: u64,
    /// The arrival pattern's schedule, in base time.
    schedule: Box<dyn Schedule>,
    profile: TestProfile,
    /// `profile.memory_gb` in MiB and `profile.expected_duration_s` as a
    /// duration, converted once instead of per test.
    memory_mib: Vec<u64>,
    expected_duration: SimDuration,
    next: u64,
    requirements: SimRng,
    fates: SimRng,
    /// The spike timeline that warps base time, if any.
    warp: Option<RateProfile>,
    times: SimRng,
}

impl SyntheticArrivals {
    /// The scenario's arrivals, drawn from its own seeded streams (the same
    /// scenario and seed give the same tests at the same times).
    pub fn new(scenario: &Scenario, streams: &RngStreams) -> Self {
        let spikes = scenario.arrivals.spikes();
        let warp = (!spikes.is_empty()).then(|| RateProfile::new(spikes));
        // Under spikes the window is Λ(duration) long in base time.
        let base_length_s = warp
            .as_ref()
            .map_or(scenario.duration_s, |p| p.cumulative(scenario.duration_s));
        SyntheticArrivals {
            tests: scenario.tests,
            schedule: scenario.arrivals.schedule(scenario.window(), base_length_s),
            profile: scenario.test_profile.clone(),
            memory_mib: (scenario.test_profile.memory_gb.iter())
                .map(|&gb| gb_to_mib_ceil(gb))
                .collect(),
            expected_duration: SimDuration::from_secs_f64(
                scenario.test_profile.expected_duration_s,
            ),
            next: 0,
            requirements: streams.stream(Stream::Requirements),
            fates: streams.stream(Stream::Durations),
            warp,
            times: streams.stream(Stream::Arrivals),
        }
    }

    /// Submission time of test `k` (0-based): the pattern places it in base
    /// time, and a spike timeline maps base time through Λ⁻¹, so the same
    /// tests crowd into the spikes (for Poisson arrivals: a non-homogeneous
    /// Poisson process with rate × m(t)).
    fn time_of(&mut self, k: u64) -> SimTime {
        let base_s = self.schedule.base_time_s(k, &mut self.times);
        match &self.warp {
            Some(profile) => SimTime::from_secs_f64(profile.inverse(base_s)),
            None => SimTime::from_secs_f64(base_s),
        }
    }

    fn draw_spec(&mut self) -> TestSpec {
        let r = &mut self.requirements;
        let p = &self.profile;
        let memory_mib = *r.choose(&self.memory_mib);
        let cuda = *r.choose(&p.cuda_devices);
        let priority = *r.choose(&p.priorities);
        let cpu_cores = *r.choose(&p.cpu_cores);
        let model_family = r.below(u64::from(p.model_families.max(1))) as u32;
        // Drawn only when keys exist, so profiles without keys keep their
        // draws (and their golden outputs).
        let concurrency_key = (p.concurrency_keys > 0 && r.chance(p.concurrency_key_probability))
            .then(|| r.below(u64::from(p.concurrency_keys)) as u32);
        TestSpec {
            priority,
            memory_mib,
            cuda_devices: cuda,
            cpu_cores,
            backend: (cuda > 0).then_some(Backends::CUDA),
            expected_duration: self.expected_duration,
            model_family,
            concurrency_key,
        }
    }
}

impl ArrivalSource for SyntheticArrivals {
    fn next_arrival(&mut self) -> Option<Arrival> {
        if self.next >= self.tests {
            return None;
        }
        let k = self.next;
        self.next += 1;
        let time = self.time_of(k);
        let spec = self.draw_spec();
        let fate = Fate {
            seed: self.fates.next_u64(),
            exact: None,
        };
        Some(Arrival {
            time,
            id: TestId(k),
            spec,
            fate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Arrivals, Poisson, StressOptions};

    fn times(burst: bool, tests: u64) -> Vec<f64> {
        let s = StressOptions {
            tests,
            burst,
            ..Default::default()
        }
        .to_scenario()
        .unwrap();
        let mut a = SyntheticArrivals::new(&s, &RngStreams::new(1));
        std::iter::from_fn(|| a.next_arrival())
            .map(|a| a.time.as_secs_f64())
            .collect()
    }

    #[test]
    fn steady_mode_spreads_tests_evenly() {
        let t = times(false, 100);
        assert_eq!(t.len(), 100);
        assert_eq!((t[0], t[1], t[99]), (0.0, 0.6, 59.4));
    }

    #[test]
    fn burst_mode_matches_the_reference() {
        // 100 tests over 60 s: 10 bursts of 10 at 0, 6, …, 54 s.
        let t = times(true, 100);
        assert_eq!((t[0], t[9], t[10], t[99]), (0.0, 0.0, 6.0, 54.0));
        // 15 tests: bursts of 1.
        let t = times(true, 15);
        assert_eq!(t[1], 4.0);
        // 1000 tests: bursts of 50 (capped), 20 bursts.
        let t = times(true, 1000);
        assert_eq!((t[49], t[50]), (0.0, 3.0));
    }

    fn scenario_with(arrivals: Arrivals, tests: u64) -> Scenario {
        let mut s = StressOptions {
            tests,
            ..Default::default()
        }
        .to_scenario()
        .unwrap();
        s.arrivals = arrivals;
        s.validate().unwrap();
        s
    }

    fn times_of(s: &Scenario) -> Vec<f64> {
        let mut a = SyntheticArrivals::new(s, &RngStreams::new(3));
        std::iter::from_fn(|| a.next_arrival())
            .map(|a| a.time.as_secs_f64())
            .collect()
    }

    #[test]
    fn poisson_gaps_have_the_right_mean_and_never_go_back() {
        let t = times_of(&scenario_with(
            Arrivals::Poisson(Poisson { rate: Some(4.0) }),
            20_000,
        ));
        assert!(t.windows(2).all(|w| w[0] <= w[1]));
        let mean_gap = t[t.len() - 1] / (t.len() - 1) as f64;
        assert!((mean_gap - 0.25).abs() < 0.01, "mean gap {mean_gap}");
    }

    #[test]
    fn a_spike_crowds_the_same_tests_into_its_window() {
        use crate::scenario::Spike;
        // 600 tests over 60 s, ×5 on [20, 30): Λ(60) = 100, so half the
        // tests (50/100 of the mass) arrive inside the 10 s spike.
        let spiky = Arrivals::Spiky {
            base: Box::new(Arrivals::Even),
            spikes: vec![Spike {
                start_s: 20.0,
                length_s: 10.0,
                multiplier: 5.0,
                ramp_s: 0.0,
            }],
        };
        let t = times_of(&scenario_with(spiky, 600));
        assert_eq!(t.len(), 600);
        let inside = t.iter().filter(|&&x| (20.0..30.0).contains(&x)).count();
        assert_eq!(inside, 300);
        assert!(t[599] < 60.0);
        // Poisson with the same spike: the rate inside is 5× the rate outside.
        let spiky = Arrivals::Spiky {
            base: Box::new(Arrivals::Poisson(Poisson { rate: Some(10.0) })),
            spikes: vec![Spike {
                start_s: 20.0,
                length_s: 10.0,
                multiplier: 5.0,
                ramp_s: 2.0,
            }],
        };
        let t = times_of(&scenario_with(spiky, 5_000));
        let count = |lo: f64, hi: f64| t.iter().filter(|&&x| (lo..hi).contains(&x)).count();
        let (peak, calm) = (count(22.0, 28.0), count(40.0, 46.0));
        assert!(
            (250..350).contains(&peak) && (40..80).contains(&calm),
            "{peak} {calm}"
        );
    }

    #[test]
    fn requirements_come_from_the_profile() {
        let s = StressOptions::default().to_scenario().unwrap();
        let mut a = SyntheticArrivals::new(&s, &RngStreams::new(5));
        for arrival in std::iter::from_fn(|| a.next_arrival()) {
            let spec = arrival.spec;
            assert!([512, 1024, 2048, 4096, 8192].contains(&spec.memory_mib));
            assert!(spec.cuda_devices <= 2 && (1..=5).contains(&spec.priority));
            assert_eq!(spec.backend.is_some(), spec.cuda_devices > 0);
        }
    }
}
