//! The periodic work, run on the service's timers: silent workers go
//! offline, thermal phases follow the reference's monitoring rule, and work
//! stealing and rebalancing run when enabled.

use super::Core;
use crate::api::WorkerStatusView;
use crate::balancer::model::{Thermal, WorkerStatus};
use crate::balancer::Moved;
use crate::sim::{SimDuration, SimTime};

/// The reference's monitoring loop interval (thermal management), seconds.
pub(crate) const MONITOR_INTERVAL_S: f64 = 10.0;
/// Warming and cooling phases (the reference's `start_warming`/`start_cooling`).
const WARMING_S: f64 = 30.0;
const COOLING_S: f64 = 60.0;

impl Core {
    /// Workers silent longer than the heartbeat timeout go offline, their
    /// runs requeued a bounded step at a time (`work_losses`). Returns true
    /// while runs of lost workers are left to requeue or a bounded
    /// scheduling pass left tests to place.
    pub(crate) fn expire(&mut self, now: u64) -> bool {
        let timeout = self.cfg.heartbeat_timeout_us;
        let silent: Vec<u64> = self
            .workers
            .iter()
            .enumerate()
            .filter(|(_, w)| w.status != WorkerStatusView::Offline)
            .filter(|(_, w)| now.saturating_sub(w.last_heartbeat_us) > timeout)
            .map(|(i, _)| i as u64 + 1)
            .collect();
        for &id in &silent {
            let secs = timeout as f64 / 1e6;
            tracing::warn!(
                worker = id,
                "no heartbeat for {secs} s: offline, its runs requeued"
            );
            self.lose_worker(id, now, "heartbeat timeout", "lost");
            self.totals.worker_timeouts += 1;
        }
        self.work_losses(now)
    }

    /// The reference's thermal rule (`_manage_worker_thermal_states`): an
    /// idle, lightly loaded worker warms up while work waits; a hot worker
    /// with more than three runs cools down; a phase ends on time.
    pub(crate) fn manage_thermal(&mut self, now: u64) {
        let t = SimTime(now);
        let pending = self.balancer.pending_len() > 0;
        for i in 0..self.balancer.workers().len() {
            let w = &self.balancer.workers()[i];
            if w.status != WorkerStatus::Active {
                continue;
            }
            let id = w.id;
            let next = match w.thermal {
                Thermal::Warming { until } | Thermal::Cooling { until } if until <= t => {
                    Some(Thermal::Normal)
                }
                Thermal::Warming { .. } | Thermal::Cooling { .. } => None,
                Thermal::Normal if w.load_score() < 0.2 && w.running.is_empty() && pending => {
                    Some(Thermal::Warming {
                        until: t + SimDuration::from_secs_f64(WARMING_S),
                    })
                }
                Thermal::Normal if w.load_score() > 0.9 && w.running.len() > 3 => {
                    Some(Thermal::Cooling {
                        until: t + SimDuration::from_secs_f64(COOLING_S),
                    })
                }
                Thermal::Normal => None,
            };
            if let Some(phase) = next {
                self.balancer.set_thermal(id, phase);
            }
        }
    }

    /// One work-stealing (`steal`) or rebalancing round: a moved run's old
    /// lease is cancelled and a new one goes to its new worker.
    pub(crate) fn move_runs(&mut self, now: u64, steal: bool) {
        let mut moved: Vec<Moved> = Vec::new();
        if steal {
            self.balancer.steal(SimTime(now), &mut moved);
        } else {
            self.balancer.rebalance(SimTime(now), &mut moved);
        }
        for m in moved {
            let test = m.assignment.test.0;
            self.end_run(test, now, "moved");
            self.assigned(test, m.assignment.worker, now);
        }
    }
}
