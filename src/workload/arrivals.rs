//! Synthetic arrivals: the reference's steady and burst submission.

use super::{Arrival, ArrivalSource, Fate};
use crate::balancer::model::{gb_to_mib_ceil, Backends, TestId, TestSpec};
use crate::scenario::{Arrivals, Scenario, TestProfile};
use crate::sim::{RngStreams, SimDuration, SimRng, SimTime, Stream};

/// Arrivals drawn from a scenario, generated lazily (a million tests cost no
/// memory until they arrive).
pub struct SyntheticArrivals {
    kind: Arrivals,
    tests: u64,
    duration_s: f64,
    burst_size: u64,
    profile: TestProfile,
    next: u64,
    requirements: SimRng,
    fates: SimRng,
}

impl SyntheticArrivals {
    pub fn new(scenario: &Scenario, streams: &RngStreams) -> Self {
        SyntheticArrivals {
            kind: scenario.arrivals.clone(),
            tests: scenario.tests,
            duration_s: scenario.duration_s,
            burst_size: (scenario.tests / 10).clamp(1, 50),
            profile: scenario.test_profile.clone(),
            next: 0,
            requirements: streams.stream(Stream::Requirements),
            fates: streams.stream(Stream::Durations),
        }
    }

    /// Submission time of test `k` (0-based).
    fn time_of(&mut self, k: u64) -> SimTime {
        let fraction = match self.kind {
            Arrivals::Even => k as f64 / self.tests as f64,
            Arrivals::Bursts => (k / self.burst_size * self.burst_size) as f64 / self.tests as f64,
        };
        SimTime::from_secs_f64(fraction * self.duration_s)
    }

    fn draw_spec(&mut self) -> TestSpec {
        let r = &mut self.requirements;
        let p = &self.profile;
        let memory_gb = *r.choose(&p.memory_gb);
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
            memory_mib: gb_to_mib_ceil(memory_gb),
            cuda_devices: cuda,
            cpu_cores,
            backend: (cuda > 0).then_some(Backends::CUDA),
            expected_duration: SimDuration::from_secs_f64(p.expected_duration_s),
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
    use crate::scenario::StressOptions;

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
