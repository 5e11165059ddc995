//! The pool and the step behind the criterion decision benches
//! (`benches/lbsim.rs`, group `decision`) and `examples/decision_cost.rs`,
//! which counts the same step's instructions under callgrind: one place, so
//! the two measure the same thing.
//!
//! The pool mixes four memory sizes and four CUDA counts (4 cores each) and
//! starts half busy with long tests; each step submits one test of a
//! rotating shape, runs a scheduling pass and finishes what it placed (a
//! test that fits no free worker waits for a later pass).

use super::model::{Backends, TestId, TestSpec, WorkerSpec};
use super::policy::SchedulerName;
use super::Assignment;
use super::Balancer;
use crate::sim::{RngStreams, SimDuration, SimTime, Stream};

/// Worker `i` of the pool.
pub fn worker(i: u32) -> WorkerSpec {
    let memory_gb = [4.0, 8.0, 16.0, 32.0][(i % 4) as usize];
    let cuda = [0, 1, 2, 4][(i / 4 % 4) as usize];
    WorkerSpec {
        memory_mib: (memory_gb * 0.9 * 1024.0) as u64,
        memory_gb,
        cpu_cores: 4,
        cuda_devices: cuda,
        backends: Backends::for_cuda_devices(cuda),
        speed: 1.0,
    }
}

/// Test `i`: priorities, memory and CUDA needs rotate.
pub fn test_spec(i: u64) -> TestSpec {
    let cuda = [0, 0, 0, 1, 1, 2][(i % 6) as usize];
    TestSpec {
        priority: (i % 5) as u8 + 1,
        memory_mib: [512, 1024, 2048, 4096, 8192][(i % 5) as usize],
        cuda_devices: cuda,
        cpu_cores: 1,
        backend: (cuda > 0).then_some(Backends::CUDA),
        expected_duration: SimDuration::from_secs(10),
        model_family: (i % 3) as u32,
        concurrency_key: None,
    }
}

/// A balancer with `workers` workers and half their cores busy, ready for
/// [`DecisionBench::step`].
pub struct DecisionBench {
    pub balancer: Balancer,
    /// Tests the steps placed.
    pub placed: u64,
    /// The workers their decisions examined, summed (the decision log's
    /// `candidates`).
    pub(crate) examined: u64,
    out: Vec<Assignment>,
    next: u64,
    now: u64,
}

impl DecisionBench {
    pub fn new(scheduler: SchedulerName, workers: u32) -> DecisionBench {
        let mut b = Balancer::new(scheduler, RngStreams::new(3).stream(Stream::Policy));
        for i in 0..workers {
            b.register_worker(worker(i), SimTime::ZERO);
        }
        let mut next = 0u64;
        for _ in 0..workers * 2 {
            b.submit(TestId(next), test_spec(next), SimTime::ZERO).ok();
            next += 1;
        }
        let mut out = Vec::new();
        b.schedule(SimTime::ZERO, &mut out);
        DecisionBench {
            balancer: b,
            placed: 0,
            examined: 0,
            out,
            next,
            now: 1,
        }
    }

    /// One decision: submit a test, run a pass, finish what it placed.
    pub fn step(&mut self) {
        self.out.clear();
        let (b, now) = (&mut self.balancer, self.now);
        b.submit(TestId(self.next), test_spec(self.next), SimTime(now))
            .ok();
        b.schedule(SimTime(now), &mut self.out);
        for a in &self.out {
            b.finish(a.test, SimTime(now + 1), true);
        }
        self.placed += self.out.len() as u64;
        self.examined += self
            .out
            .iter()
            .map(|a| u64::from(a.candidates))
            .sum::<u64>();
        self.next += 1;
        self.now += 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::policy::SCHEDULERS;

    /// A bench of `workers` workers after `steps` steps.
    fn stepped(scheduler: SchedulerName, workers: u32, steps: u32) -> DecisionBench {
        let mut bench = DecisionBench::new(scheduler, workers);
        for _ in 0..steps {
            bench.step();
        }
        bench
    }

    /// The steps are real decisions: with half the cores free, every
    /// policy places most steps' tests (a test whose memory and CUDA fit no
    /// free worker waits, and a later pass may place it).
    #[test]
    fn most_steps_place_a_test() {
        for info in SCHEDULERS {
            let bench = stepped(info.name, 100, 40);
            assert!(
                (30..=40).contains(&bench.placed),
                "{} placed {}",
                info.id,
                bench.placed
            );
        }
    }

    /// No policy lists the pool to decide: on 4,000 workers, where a test
    /// of 8 GiB and two CUDA devices fits about one worker in eight, the
    /// draws go through the tallies of the test's capacity class and the
    /// searches through the bounds, so a decision examines a handful of
    /// workers on average (listing the fitting ones would be hundreds).
    #[test]
    fn decisions_examine_a_handful_of_workers() {
        for info in SCHEDULERS {
            let bench = stepped(info.name, 4000, 300);
            let mean = bench.examined as f64 / bench.placed as f64;
            assert!(mean < 8.0, "{} examined {mean} workers a decision", info.id);
        }
    }
}
