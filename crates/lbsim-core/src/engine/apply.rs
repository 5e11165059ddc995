//! Where the pool's facts land: each is applied to the balancer, counted by
//! the metrics and shown to the observer, in the order the pool told them.

use super::{Event, Observer};
use crate::balancer::model::WorkerStatus;
use crate::balancer::{Balancer, WorkerState};
use crate::error::{Error, Result};
use crate::metrics::Collector;
use crate::sim::{EventQueue, SimTime};
use crate::workload::{PoolFact, PoolSink};

/// A run's parts that a pool fact changes, borrowed for one pool call.
pub(super) struct Applier<'s> {
    pub(crate) balancer: &'s mut Balancer,
    pub(crate) collector: &'s mut Collector,
    pub(crate) queue: &'s mut EventQueue<Event>,
    pub(crate) observer: &'s mut dyn Observer,
    pub(crate) now: SimTime,
}

impl PoolSink for Applier<'_> {
    type Error = Error;

    fn workers(&self) -> &[WorkerState] {
        self.balancer.workers()
    }

    fn active_workers(&self) -> usize {
        self.balancer.active_workers()
    }

    #[inline]
    fn tell(&mut self, fact: PoolFact) -> Result<()> {
        let now = self.now;
        match fact {
            PoolFact::Drift(worker, drift) => self.balancer.set_drift(worker, drift),
            PoolFact::Thermal(worker, phase) => {
                self.balancer.set_thermal(worker, phase);
                if let Some(until) = phase.until() {
                    self.queue.push(until, Event::ThermalEnd(worker));
                }
            }
            // What the balancer hears stays until the next report, a phase
            // included: no end event, unlike the live view.
            PoolFact::Report(worker, drift, thermal) => {
                self.balancer.set_condition(worker, drift, thermal);
            }
            PoolFact::Join(spec) => {
                let worker = self.balancer.register_worker(spec, now);
                self.collector.on_join();
                let spec = &self.balancer.worker(worker).spec;
                self.observer.on_join(worker, spec, now)?;
            }
            PoolFact::Drain(worker) => {
                debug_assert_eq!(self.balancer.worker(worker).status, WorkerStatus::Active);
                self.balancer.drain_worker(worker, now);
                self.collector.on_drain();
                self.observer.on_drain(worker, now)?;
            }
            PoolFact::Fail(worker) => {
                debug_assert_eq!(self.balancer.worker(worker).status, WorkerStatus::Active);
                let requeued = self.balancer.fail_worker(worker, now);
                self.collector.on_fail();
                self.observer.on_fail(worker, &requeued, now)?;
            }
        }
        Ok(())
    }
}
