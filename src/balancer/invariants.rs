//! The balancer's invariants, checkable at any moment. Property tests run the
//! engine with a check after every event; production runs skip it.

use super::model::WorkerStatus;
use super::{Balancer, Place};

impl Balancer {
    /// Checks that no worker is over capacity, that resource books match the
    /// tests running on each worker, that every live test is in exactly one
    /// place, and that no two running tests share a concurrency key.
    /// O(workers + live tests).
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut running_seen = 0usize;
        for w in &self.workers {
            let s = &w.spec;
            if w.used_memory_mib > s.memory_mib
                || w.used_cuda > s.cuda_devices
                || w.used_cores > s.cpu_cores
            {
                return Err(format!(
                    "{} over capacity: memory {}/{} MiB, cuda {}/{}, cores {}/{}",
                    w.id,
                    w.used_memory_mib,
                    s.memory_mib,
                    w.used_cuda,
                    s.cuda_devices,
                    w.used_cores,
                    s.cpu_cores
                ));
            }
            let (mut mem, mut cuda, mut cores) = (0u64, 0u32, 0u32);
            for t in &w.running {
                let live = self
                    .live
                    .get(t.0)
                    .ok_or_else(|| format!("{} runs {t}, which is not live", w.id))?;
                match live.place {
                    Place::Running { worker, .. } if worker == w.id => {}
                    other => {
                        return Err(format!("{} runs {t}, but the test is at {other:?}", w.id))
                    }
                }
                let shape = live.spec.shape();
                mem += shape.memory_mib;
                cuda += shape.cuda_devices;
                cores += shape.cpu_cores;
            }
            if (mem, cuda, cores) != (w.used_memory_mib, w.used_cuda, w.used_cores) {
                return Err(format!("{} books do not match its running tests", w.id));
            }
            if w.status == WorkerStatus::Offline && !w.running.is_empty() {
                return Err(format!("{} is offline but runs tests", w.id));
            }
            running_seen += w.running.len();
        }
        let active = self
            .workers
            .iter()
            .filter(|w| w.status == WorkerStatus::Active)
            .count();
        if active != self.active {
            return Err(format!("{active} workers active, {} counted", self.active));
        }
        if running_seen != self.running {
            return Err(format!(
                "{running_seen} tests on workers, {} counted running",
                self.running
            ));
        }
        let mut pool = super::PoolTotals::default();
        for w in self
            .workers
            .iter()
            .filter(|w| w.status != WorkerStatus::Offline)
        {
            pool.memory_mib += w.spec.memory_mib;
            pool.memory_used_mib += w.used_memory_mib;
            pool.cuda += u64::from(w.spec.cuda_devices);
            pool.cuda_used += u64::from(w.used_cuda);
        }
        if pool != self.pool {
            return Err(format!("pool totals {:?}, counted {pool:?}", self.pool));
        }
        self.pending.check_counts()?;
        let parked = self.keys.parked();
        if self.running + self.pending.len() + parked != self.live.len() {
            return Err(format!(
                "{} running + {} pending + {parked} parked != {} live",
                self.running,
                self.pending.len(),
                self.live.len()
            ));
        }
        let mut held = std::collections::BTreeSet::new();
        for w in &self.workers {
            for t in &w.running {
                if let Some(key) = self.live[t.0].spec.concurrency_key {
                    if !held.insert(key) {
                        return Err(format!("two running tests share concurrency key {key}"));
                    }
                }
            }
        }
        Ok(())
    }
}
