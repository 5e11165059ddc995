//! What each event does: arrivals, run ends, pool changes, stealing rounds,
//! and the scheduling pass that follows the last event at a time.

use super::apply::Applier;
use super::{Event, Simulation};
use crate::balancer::model::{TestId, Thermal};
use crate::balancer::{performance_level_in, Assignment, Carried, TestRecord};
use crate::error::Result;
use crate::sim::SimDuration;
use crate::workload::{Fate, Pool};

impl Simulation<'_> {
    pub(super) fn handle(&mut self, event: Event) -> Result<()> {
        match event {
            Event::Arrival => self.arrive()?,
            Event::RunEnd {
                test,
                epoch,
                success,
            } => {
                if self.balancer.is_current(test, epoch) {
                    self.run_ended(test, success)?;
                }
            }
            Event::PoolCycle => self.pool_cycle()?,
            Event::ScriptedChurn => self.scripted_churn()?,
            Event::ThermalEnd(worker) => self.balancer.set_thermal(worker, Thermal::Normal),
            Event::Steal | Event::Rebalance => self.move_runs(event)?,
            Event::Horizon => unreachable!("handled by the loop"),
        }
        Ok(())
    }

    pub(super) fn schedule_next_arrival(&mut self) {
        self.next_arrival = self.arrivals.next_arrival();
        if let Some(a) = &self.next_arrival {
            let time = a.time.max(self.now);
            self.queue.push(time, Event::Arrival);
        }
    }

    fn arrive(&mut self) -> Result<()> {
        let a = self
            .next_arrival
            .take()
            .expect("an arrival event has an arrival");
        self.collector.on_submit();
        self.collector.on_arrival(self.now);
        // The test's future travels with it in the balancer's record.
        let carried = Carried {
            seed: a.fate.seed,
            exact: a.fate.exact,
            runs: 0,
            failures: 0,
        };
        if let Err(rejected) = self
            .balancer
            .submit_carrying(a.id, a.spec, carried, self.now)
        {
            self.record_final(*rejected)?;
        }
        self.schedule_next_arrival();
        Ok(())
    }

    fn run_ended(&mut self, test: TestId, success: bool) -> Result<()> {
        if !success {
            let (_, d) = self
                .balancer
                .test_mut_carried(test)
                .expect("a running test is live");
            d.failures += 1;
            if d.failures <= self.run_model.retries {
                self.balancer.retry(test, self.now);
                return Ok(());
            }
        }
        let record = self.balancer.finish(test, self.now, success);
        self.record_final(record)
    }

    /// Lets the pool tell its facts to an `Applier` over this run's
    /// balancer, metrics, queue and observer.
    fn tell_pool(
        &mut self,
        f: impl FnOnce(&mut Pool, &mut Applier<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut sink = Applier {
            balancer: &mut self.balancer,
            collector: &mut self.collector,
            queue: &mut self.queue,
            observer: &mut *self.observer,
            now: self.now,
        };
        f(&mut self.pool, &mut sink)
    }

    fn scripted_churn(&mut self) -> Result<()> {
        let now = self.now;
        self.tell_pool(|pool, sink| pool.scripted(sink, now))?;
        if let Some(t) = self.pool.next_scripted_at() {
            self.queue.push(t, Event::ScriptedChurn);
        }
        Ok(())
    }

    /// A pool cycle touches many workers: their index updates are batched
    /// until its last fact is applied.
    fn pool_cycle(&mut self) -> Result<()> {
        let now = self.now;
        self.balancer.defer_index();
        let told = self.tell_pool(|pool, sink| pool.cycle(sink, now));
        self.balancer.flush_index();
        told?;
        if let Some(dt) = self.pool.next_cycle_in() {
            self.queue.push(now + dt, Event::PoolCycle);
        }
        Ok(())
    }

    /// A stealing or rebalancing round: moved runs restart on their new
    /// worker (same nominal run time, new pace) and are logged as decisions.
    fn move_runs(&mut self, event: Event) -> Result<()> {
        let stealing = &self.scenario.balancing.stealing;
        let mut moved = Vec::new();
        let every = if event == Event::Steal {
            self.balancer.steal(self.now, &mut moved);
            stealing.steal_interval_s
        } else {
            self.balancer.rebalance(self.now, &mut moved);
            stealing.rebalance_interval_s
        };
        self.queue
            .push(self.now + SimDuration::from_secs_f64(every), event);
        for m in &moved {
            self.start_run(&m.assignment, true);
            self.collector.on_move();
            self.observer.on_decision(&m.assignment)?;
        }
        Ok(())
    }

    pub(super) fn scheduling_pass(&mut self) -> Result<()> {
        let mut decisions = std::mem::take(&mut self.decisions);
        self.balancer.schedule(self.now, &mut decisions);
        for a in &decisions {
            self.start_run(a, false);
            let first_latency = (a.epoch == 1).then(|| {
                self.balancer
                    .test(a.test)
                    .map_or(0.0, |t| (a.time - t.submitted_at).as_secs_f64())
            });
            self.collector.on_assign(a, first_latency);
            self.observer.on_decision(a)?;
        }
        decisions.clear();
        self.decisions = decisions;
        self.collector.on_state(
            self.now,
            self.balancer.pending_len(),
            self.balancer.active_workers(),
        );
        self.collector.on_pool(self.now, &self.balancer);
        Ok(())
    }

    /// Decides how long this run takes on its worker and whether it fails.
    /// A moved run repeats its attempt's draws: only the pace differs. With
    /// the reported view the pace follows the worker's real condition, not
    /// its last report.
    fn start_run(&mut self, a: &Assignment, moved: bool) {
        let (spec, d) = self
            .balancer
            .test_mut_carried(a.test)
            .expect("assigned test is live");
        if moved {
            d.runs -= 1;
        }
        let fate = Fate {
            seed: d.seed,
            exact: d.exact,
        };
        let (nominal, fails) = self.run_model.attempt(&fate, spec, d.runs);
        d.runs += 1;
        let w = self.balancer.worker(a.worker);
        let (drift, thermal) = self
            .pool
            .condition(w, self.now)
            .unwrap_or((w.drift, w.thermal));
        let mut pace = w.spec.speed * performance_level_in(thermal);
        if self.scenario.load.contention {
            let load = w.effective_load_in(&drift, thermal);
            pace /= crate::workload::contention::slowdown(load);
        }
        let mut run = SimDuration::from_secs_f64(nominal.as_secs_f64() / pace);
        let mut success = !fails;
        if let Some(limit) = self.run_model.timeout {
            if run > limit {
                run = limit;
                success = false;
            }
        }
        self.queue.push(
            self.now + run,
            Event::RunEnd {
                test: a.test,
                epoch: a.epoch,
                success,
            },
        );
    }

    pub(super) fn record_final(&mut self, record: TestRecord) -> Result<()> {
        self.collector.on_final(&record);
        self.observer.on_final(&record)
    }
}
