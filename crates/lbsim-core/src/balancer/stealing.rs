//! Work stealing and rebalancing: moving young runs off hot workers.
//!
//! In this simulator a test starts the moment it is assigned, so there is no
//! queue of assigned-but-waiting tests to steal from, as the reference had.
//! What can move is a run that has just started: it is stopped on its
//! worker (its progress is lost) and restarted on a cooler one, paying
//! `restart_cost_s`. A move happens only when the balancer expects it to
//! finish the test sooner: `remaining on the source > restart cost + full
//! run on the target`, with run times estimated from the test's expected
//! duration and each worker's pace (speed × thermal performance level), the
//! same pace the engine uses. So moves go from slow or throttled workers to
//! fast, cool ones, and a test never moves back and forth.

use super::model::{TestId, WorkerId, WorkerStatus};
use super::{Assignment, Balancer, Place};
use crate::sim::SimTime;

/// One run moved by stealing or rebalancing. `assignment` is its new
/// placement (its `score` is the expected gain in seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moved {
    /// The worker the run was taken from.
    pub from: WorkerId,
    /// Its new placement.
    pub assignment: Assignment,
}

impl Balancer {
    /// A worker's pace: how fast it runs a test relative to nominal.
    pub(super) fn pace(&self, w: WorkerId) -> f64 {
        let w = &self.workers[w.0 as usize];
        w.spec.speed * w.performance_level()
    }

    /// Expected seconds saved by moving `test` to `to` now (negative: worse).
    fn gain_s(&self, test: TestId, to: WorkerId, now: SimTime) -> f64 {
        let t = &self.live[test.0];
        let expected = t.spec.expected_duration.as_secs_f64();
        let elapsed = (now - t.started_at.unwrap_or(now)).as_secs_f64();
        let remaining = (expected / t.start_pace - elapsed).max(0.0);
        let restart = self.options.stealing.restart_cost_s + expected / self.pace(to);
        remaining - restart
    }

    /// Active workers whose effective load passes `keep`, ordered by load
    /// (descending if `hottest_first`), then id.
    fn workers_by_load(&self, keep: impl Fn(f64) -> bool, hottest_first: bool) -> Vec<WorkerId> {
        let mut ws: Vec<(f64, WorkerId)> = self
            .workers
            .iter()
            .filter(|w| w.status == WorkerStatus::Active)
            .map(|w| (w.effective_load(), w.id))
            .filter(|(l, _)| keep(*l))
            .collect();
        ws.sort_by(|a, b| {
            let by_load = if hottest_first {
                b.0.total_cmp(&a.0)
            } else {
                a.0.total_cmp(&b.0)
            };
            by_load.then(a.1.cmp(&b.1))
        });
        ws.into_iter().map(|(_, w)| w).collect()
    }

    /// True if a waiting test could start on `w` now: its capacity is spoken
    /// for, and moving a run there would only delay that test.
    fn wanted_by_pending(&self, w: WorkerId) -> bool {
        let worker = &self.workers[w.0 as usize];
        self.pending
            .classes()
            .iter()
            .any(|c| !c.fifo.is_empty() && worker.fits_now(&c.shape))
    }

    /// Runs on `w` that may move: least important first, then youngest.
    fn movable(&self, w: WorkerId) -> Vec<TestId> {
        let mut tests = self.workers[w.0 as usize].running.clone();
        tests.sort_by_key(|t| {
            let lt = &self.live[t.0];
            (
                std::cmp::Reverse(lt.spec.priority),
                std::cmp::Reverse(lt.started_at),
                *t,
            )
        });
        tests
    }

    /// Work stealing: idle workers take runs from busy ones, one each, at
    /// most `max_steals` per round. The reference's loop, every 30 s.
    pub fn steal(&mut self, now: SimTime, out: &mut Vec<Moved>) {
        let o = self.options.stealing.clone();
        let busy = self.workers_by_load(|l| l > o.busy_threshold, true);
        let mut idle = self.workers_by_load(|l| l < o.idle_threshold, false);
        idle.retain(|&w| !self.wanted_by_pending(w));
        let max = idle.len().min(o.max_steals as usize);
        let mut moves = 0;
        for src in busy {
            for test in self.movable(src) {
                if moves == max {
                    return;
                }
                let shape = self.live[test.0].spec.shape();
                let target = idle.iter().position(|&w| {
                    w != src
                        && self.workers[w.0 as usize].fits_now(&shape)
                        && self.gain_s(test, w, now) > 0.0
                });
                if let Some(pos) = target {
                    let to = idle.remove(pos);
                    out.push(self.migrate(test, to, now, pos as u32 + 1));
                    moves += 1;
                }
            }
        }
    }

    /// Rebalancing: runs leave overloaded workers for the fitting, not
    /// overloaded worker where they gain most, at most `max_transfers` per
    /// round. The reference's loop, every 60 s.
    pub fn rebalance(&mut self, now: SimTime, out: &mut Vec<Moved>) {
        let o = self.options.stealing.clone();
        let hot = self.workers_by_load(|l| l > o.overload_threshold, true);
        let mut moves = 0;
        for src in hot {
            for test in self.movable(src) {
                if moves == o.max_transfers {
                    return;
                }
                let shape = self.live[test.0].spec.shape();
                let candidates = self.index.fitting(&shape);
                let best = candidates
                    .iter()
                    .filter(|&&w| w != src && !self.wanted_by_pending(w))
                    .filter(|&&w| {
                        self.workers[w.0 as usize].effective_load() <= o.overload_threshold
                    })
                    .map(|&w| (self.gain_s(test, w, now), w))
                    .filter(|(g, _)| *g > 0.0)
                    .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
                if let Some((_, to)) = best {
                    out.push(self.migrate(test, to, now, candidates.len() as u32));
                    moves += 1;
                }
            }
        }
    }

    /// Stops `test` where it runs and restarts it on `to`.
    fn migrate(&mut self, test: TestId, to: WorkerId, now: SimTime, candidates: u32) -> Moved {
        let gain = self.gain_s(test, to, now);
        let start_pace = self.pace(to);
        let t = self.live.get_mut(test.0).expect("moved test is live");
        let Place::Running { worker: from, .. } = t.place else {
            unreachable!("only running tests move")
        };
        let shape = t.spec.shape();
        let run = now - t.started_at.unwrap_or(now);
        t.epoch += 1;
        t.place = Place::Running {
            worker: to,
            epoch: t.epoch,
        };
        t.started_at = Some(now);
        t.start_pace = start_pace;
        let assignment = Assignment {
            time: now,
            test,
            worker: to,
            score: gain,
            candidates,
            attempt: t.attempts,
            epoch: t.epoch,
        };
        // Both workers are online, so the pool's totals do not change.
        self.workers[from.0 as usize].stop(test, &shape, run.0, now);
        self.workers[to.0 as usize].start(test, &shape, now);
        self.counters.moved += 1;
        self.refresh(from, true);
        self.refresh(to, false);
        Moved { from, assignment }
    }
}

#[cfg(test)]
mod tests {
    use super::super::options::{BalancerOptions, StealingOptions};
    use super::super::policy::testkit::{spec, test};
    use super::super::policy::SchedulerName;
    use super::super::*;
    use crate::sim::{RngStreams, SimDuration, Stream};

    fn balancer(specs: Vec<model::WorkerSpec>, stealing: StealingOptions) -> Balancer {
        let options = BalancerOptions {
            stealing,
            ..Default::default()
        };
        let mut b = Balancer::with_options(
            SchedulerName::Fifo,
            &options,
            RngStreams::new(1).stream(Stream::Policy),
        );
        for s in specs {
            b.register_worker(s, SimTime::ZERO);
        }
        b
    }

    #[test]
    fn a_young_run_moves_from_a_slow_busy_worker_to_a_fast_idle_one() {
        let mut slow = spec(8, 0);
        slow.speed = 0.25;
        let opts = StealingOptions {
            enabled: true,
            busy_threshold: 0.2,
            idle_threshold: 0.2,
            ..Default::default()
        };
        let mut b = balancer(vec![slow, spec(8, 0)], opts);
        // Fifo puts both on worker 0 (the slow one): cpu 2/4 → load 0.15 + mem.
        let mut t = test(2, 0);
        t.expected_duration = SimDuration::from_secs(10);
        b.submit(TestId(0), t.clone(), SimTime(0)).unwrap();
        t.priority = 5;
        b.submit(TestId(1), t, SimTime(0)).unwrap();
        let mut out = Vec::new();
        b.schedule(SimTime(0), &mut out);
        assert!(out.iter().all(|a| a.worker == WorkerId(0)));
        let mut moved = Vec::new();
        let now = SimTime::from_secs_f64(5.0);
        b.steal(now, &mut moved);
        // One idle worker, one steal: the least important test (1) moves.
        // Gain: (40 − 5) − (1 + 10) = 24 s.
        assert_eq!(moved.len(), 1);
        let m = moved[0];
        assert_eq!(
            (m.from, m.assignment.test, m.assignment.worker),
            (WorkerId(0), TestId(1), WorkerId(1))
        );
        assert!((m.assignment.score - 24.0).abs() < 1e-9);
        assert_eq!(b.counters().moved, 1);
        assert!(b.is_current(TestId(1), m.assignment.epoch));
        assert!(!b.is_current(TestId(1), out[1].epoch));
        assert_eq!(b.worker(WorkerId(0)).running, vec![TestId(0)]);
        assert_eq!(b.worker(WorkerId(1)).used_memory_mib, 2048);
        // Now nothing gains: a fast run never moves back to the slow worker.
        let mut again = Vec::new();
        b.steal(now, &mut again);
        b.rebalance(now, &mut again);
        assert!(again.is_empty());
    }

    #[test]
    fn an_old_run_stays_put_when_restarting_would_lose() {
        let mut slow = spec(8, 0);
        slow.speed = 0.5;
        let opts = StealingOptions {
            enabled: true,
            overload_threshold: 0.1,
            ..Default::default()
        };
        let mut b = balancer(vec![slow, spec(8, 0)], opts);
        b.submit(TestId(0), test(2, 0), SimTime(0)).unwrap();
        let mut out = Vec::new();
        b.schedule(SimTime(0), &mut out);
        // Worker 0: cpu 1/4, mem 1/4: load 0.15, above 0.1.
        let mut moved = Vec::new();
        // At 12 s of 20: 8 s left < 1 + 10 s elsewhere.
        b.rebalance(SimTime::from_secs_f64(12.0), &mut moved);
        assert!(moved.is_empty());
        // At 2 s: 18 s left > 11 s: it moves.
        b.rebalance(SimTime::from_secs_f64(2.0), &mut moved);
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].assignment.worker, WorkerId(1));
    }
}
