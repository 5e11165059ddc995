//! The balancer's invariants, checkable at any moment. Property tests run the
//! engine with a check after every event; production runs skip it.

use super::model::{TestId, WorkerId, WorkerStatus};
use super::pending::CountError;
use super::{Balancer, Place, PoolTotals, WorkerState};

/// A broken invariant: always a bug in the balancer, reported by checked
/// runs with the time and seed to reproduce it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InvariantError {
    /// A worker holds more than it has.
    #[error("{worker} over capacity: memory {used_memory_mib}/{memory_mib} MiB, cuda {used_cuda}/{cuda}, cores {used_cores}/{cores}")]
    OverCapacity {
        worker: WorkerId,
        used_memory_mib: u64,
        memory_mib: u64,
        used_cuda: u32,
        cuda: u32,
        used_cores: u32,
        cores: u32,
    },
    /// A worker lists a test the balancer no longer knows.
    #[error("{worker} runs {test}, which is not live")]
    RunsDeadTest { worker: WorkerId, test: TestId },
    /// A worker lists a test that is somewhere else (its place, as debug text).
    #[error("{worker} runs {test}, but the test is at {place}")]
    RunsMisplacedTest {
        worker: WorkerId,
        test: TestId,
        place: String,
    },
    /// A worker's used resources differ from the sum of its tests' shapes.
    #[error("{0} books do not match its running tests")]
    Books(WorkerId),
    /// An offline worker still lists tests.
    #[error("{0} is offline but runs tests")]
    OfflineRuns(WorkerId),
    #[error("{seen} workers active, {kept} counted")]
    ActiveCount { seen: usize, kept: usize },
    #[error("{seen} tests on workers, {kept} counted running")]
    RunningCount { seen: usize, kept: usize },
    #[error("pool totals {kept:?}, counted {seen:?}")]
    PoolTotals { kept: PoolTotals, seen: PoolTotals },
    #[error(transparent)]
    Pending(#[from] CountError),
    /// Live tests are not each in exactly one place.
    #[error("{running} running + {pending} pending + {parked} parked != {live} live")]
    LiveCount {
        running: usize,
        pending: usize,
        parked: usize,
        live: usize,
    },
    #[error("two running tests share concurrency key {0}")]
    SharedKey(u32),
}

impl Balancer {
    /// Checks that no worker is over capacity, that resource books match the
    /// tests running on each worker, that every live test is in exactly one
    /// place, and that no two running tests share a concurrency key.
    /// O(workers + live tests).
    pub(crate) fn check_invariants(&self) -> Result<(), InvariantError> {
        let mut running_seen = 0usize;
        for w in &self.workers {
            self.check_worker(w)?;
            running_seen += w.running.len();
        }
        self.check_counts(running_seen)?;
        self.check_pool_totals()?;
        self.pending.check_counts()?;
        self.check_places()?;
        self.check_keys()
    }

    /// Capacity, books and status of one worker.
    fn check_worker(&self, w: &WorkerState) -> Result<(), InvariantError> {
        let s = &w.spec;
        if w.used_memory_mib > s.memory_mib
            || w.used_cuda > s.cuda_devices
            || w.used_cores > s.cpu_cores
        {
            return Err(InvariantError::OverCapacity {
                worker: w.id,
                used_memory_mib: w.used_memory_mib,
                memory_mib: s.memory_mib,
                used_cuda: w.used_cuda,
                cuda: s.cuda_devices,
                used_cores: w.used_cores,
                cores: s.cpu_cores,
            });
        }
        self.check_books(w)?;
        if w.status == WorkerStatus::Offline && !w.running.is_empty() {
            return Err(InvariantError::OfflineRuns(w.id));
        }
        Ok(())
    }

    /// Each test a worker runs is running there, and their shapes add up to
    /// what the worker has in use.
    fn check_books(&self, w: &WorkerState) -> Result<(), InvariantError> {
        let (mut mem, mut cuda, mut cores) = (0u64, 0u32, 0u32);
        for &test in &w.running {
            let worker = w.id;
            let live = self
                .live
                .get(test.0)
                .ok_or(InvariantError::RunsDeadTest { worker, test })?;
            match live.place {
                Place::Running { worker: at, .. } if at == worker => {}
                other => {
                    let place = format!("{other:?}");
                    return Err(InvariantError::RunsMisplacedTest {
                        worker,
                        test,
                        place,
                    });
                }
            }
            let shape = live.spec.shape();
            mem += shape.memory_mib;
            cuda += shape.cuda_devices;
            cores += shape.cpu_cores;
        }
        if (mem, cuda, cores) != (w.used_memory_mib, w.used_cuda, w.used_cores) {
            return Err(InvariantError::Books(w.id));
        }
        Ok(())
    }

    /// The kept counts of active workers and running tests.
    fn check_counts(&self, running_seen: usize) -> Result<(), InvariantError> {
        let active = self
            .workers
            .iter()
            .filter(|w| w.status == WorkerStatus::Active)
            .count();
        if active != self.active {
            return Err(InvariantError::ActiveCount {
                seen: active,
                kept: self.active,
            });
        }
        if running_seen != self.running {
            return Err(InvariantError::RunningCount {
                seen: running_seen,
                kept: self.running,
            });
        }
        Ok(())
    }

    /// The kept pool totals against a sum over the workers not offline.
    fn check_pool_totals(&self) -> Result<(), InvariantError> {
        let mut seen = PoolTotals::default();
        for w in self
            .workers
            .iter()
            .filter(|w| w.status != WorkerStatus::Offline)
        {
            seen.memory_mib += w.spec.memory_mib;
            seen.memory_used_mib += w.used_memory_mib;
            seen.cuda += u64::from(w.spec.cuda_devices);
            seen.cuda_used += u64::from(w.used_cuda);
        }
        if seen != self.pool {
            return Err(InvariantError::PoolTotals {
                kept: self.pool,
                seen,
            });
        }
        Ok(())
    }

    /// Every live test is running, pending or parked, and only one of them.
    fn check_places(&self) -> Result<(), InvariantError> {
        let parked = self.keys.parked();
        if self.running + self.pending.len() + parked != self.live.len() {
            return Err(InvariantError::LiveCount {
                running: self.running,
                pending: self.pending.len(),
                parked,
                live: self.live.len(),
            });
        }
        Ok(())
    }

    /// No two running tests hold the same concurrency key.
    fn check_keys(&self) -> Result<(), InvariantError> {
        let mut held = std::collections::BTreeSet::new();
        for w in &self.workers {
            for t in &w.running {
                if let Some(key) = self.live[t.0].spec.concurrency_key {
                    if !held.insert(key) {
                        return Err(InvariantError::SharedKey(key));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::policy::testkit::{spec, test};
    use crate::balancer::policy::SchedulerName;
    use crate::sim::{RngStreams, SimTime, Stream};

    fn busy_balancer() -> Balancer {
        let mut b = Balancer::new(
            SchedulerName::Fifo,
            RngStreams::new(1).stream(Stream::Policy),
        );
        b.register_worker(spec(8, 0), SimTime::ZERO);
        b.register_worker(spec(8, 0), SimTime::ZERO);
        for i in 0..3 {
            b.submit(TestId(i), test(2, 0), SimTime::ZERO).unwrap();
        }
        b.schedule(SimTime::ZERO, &mut Vec::new());
        b
    }

    #[test]
    fn a_consistent_balancer_passes_and_broken_books_are_named() {
        let mut b = busy_balancer();
        assert_eq!(b.check_invariants(), Ok(()));
        b.workers[0].used_cores += 1;
        let err = b.check_invariants().unwrap_err();
        assert_eq!(err, InvariantError::Books(WorkerId(0)));
        assert_eq!(
            err.to_string(),
            "worker-0000 books do not match its running tests"
        );
        b.workers[0].used_cores += 100;
        assert!(b
            .check_invariants()
            .unwrap_err()
            .to_string()
            .starts_with("worker-0000 over capacity: memory "));
    }

    #[test]
    fn broken_counts_keep_their_messages() {
        let mut b = busy_balancer();
        b.active += 1;
        assert_eq!(
            b.check_invariants().unwrap_err().to_string(),
            "2 workers active, 3 counted"
        );
        b.active -= 1;
        b.running += 1;
        assert_eq!(
            b.check_invariants().unwrap_err().to_string(),
            "3 tests on workers, 4 counted running"
        );
        b.running -= 1;
        b.pool.cuda += 1;
        assert!(b
            .check_invariants()
            .unwrap_err()
            .to_string()
            .starts_with("pool totals PoolTotals { memory_mib: "));
    }
}
