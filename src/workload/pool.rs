//! The worker pool over time: initial workers, load drift, thermal events and
//! churn, advanced one pool cycle at a time (the reference's worker loop).

use crate::balancer::model::{
    gb_to_mib_floor, Backends, LoadDrift, TestId, Thermal, WorkerId, WorkerSpec, WorkerStatus,
};
use crate::balancer::Balancer;
use crate::scenario::{Churn, ChurnAction, ChurnEvent, LoadModel, Scenario, WorkerProfile};
use crate::sim::{RngStreams, SimDuration, SimRng, SimTime, Stream};

/// What a pool cycle changed, for the engine and the metrics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CycleEffects {
    pub joined: Vec<WorkerId>,
    pub drained: Vec<WorkerId>,
    pub failed: Vec<(WorkerId, Vec<TestId>)>,
    /// Thermal phases started: the worker and when the phase ends.
    pub thermal_ends: Vec<(WorkerId, SimTime)>,
}

/// Draws workers and drives drift and churn.
pub struct Pool {
    profile: WorkerProfile,
    churn: Churn,
    load: LoadModel,
    initial: u32,
    workers_rng: SimRng,
    churn_rng: SimRng,
    drift_rng: SimRng,
    /// Scripted churn, expanded to single actions, and the next one due.
    timeline: Vec<(SimTime, ChurnAction, bool)>,
    next_scripted: usize,
}

impl Pool {
    pub fn new(scenario: &Scenario, streams: &RngStreams) -> Self {
        Pool {
            profile: scenario.worker_profile.clone(),
            churn: scenario.churn.clone(),
            load: scenario.load.clone(),
            initial: scenario.workers,
            workers_rng: streams.stream(Stream::Workers),
            churn_rng: streams.stream(Stream::Churn),
            drift_rng: streams.stream(Stream::LoadDrift),
            timeline: match &scenario.churn {
                Churn::Timeline { events } => ChurnEvent::expand(events)
                    .into_iter()
                    .map(|(t, a, r)| (SimTime::from_secs_f64(t), a, r))
                    .collect(),
                _ => Vec::new(),
            },
            next_scripted: 0,
        }
    }

    /// When the next scripted churn action is due, if any.
    pub fn next_scripted_at(&self) -> Option<SimTime> {
        self.timeline.get(self.next_scripted).map(|e| e.0)
    }

    /// Applies every scripted action due at or before `now`. Drains and
    /// failures take the oldest active worker, so a rolling drain walks the
    /// pool in order and a multi-worker failure takes a contiguous block (a
    /// rack).
    pub fn scripted(&mut self, balancer: &mut Balancer, now: SimTime) -> CycleEffects {
        let mut fx = CycleEffects::default();
        while let Some(&(at, action, replace)) = self.timeline.get(self.next_scripted) {
            if at > now {
                break;
            }
            self.next_scripted += 1;
            let oldest = balancer
                .workers()
                .iter()
                .find(|w| w.status == WorkerStatus::Active)
                .map(|w| w.id);
            let removed = match (action, oldest) {
                (ChurnAction::Join, _) => false,
                (ChurnAction::Drain, Some(w)) => {
                    balancer.drain_worker(w, now);
                    fx.drained.push(w);
                    true
                }
                (ChurnAction::Fail, Some(w)) => {
                    let requeued = balancer.fail_worker(w, now);
                    fx.failed.push((w, requeued));
                    true
                }
                (_, None) => false,
            };
            if action == ChurnAction::Join || (removed && replace) {
                let spec = self.draw_worker();
                fx.joined.push(balancer.register_worker(spec, now));
            }
        }
        fx
    }

    fn spec_of(&self, memory_gb: f64, cuda: u32, cores: u32, speed: f64) -> WorkerSpec {
        let backends = if cuda > 0 {
            Backends::CPU.union(Backends::CUDA)
        } else {
            Backends::CPU
        };
        WorkerSpec {
            memory_mib: gb_to_mib_floor(memory_gb * self.profile.usable_memory_fraction),
            memory_gb,
            cpu_cores: cores,
            cuda_devices: cuda,
            backends,
            speed,
        }
    }

    /// A new worker from the profile.
    pub fn draw_worker(&mut self) -> WorkerSpec {
        let r = &mut self.workers_rng;
        let memory = *r.choose(&self.profile.memory_gb);
        let cuda = *r.choose(&self.profile.cuda_devices);
        let cores = *r.choose(&self.profile.cpu_cores);
        let speed = *r.choose(&self.profile.speed);
        self.spec_of(memory, cuda, cores, speed)
    }

    /// Every worker shape the profile can produce (speed aside), so tests
    /// that only a future joiner could run are not rejected.
    pub fn possible_workers(&self) -> Vec<WorkerSpec> {
        let mut out: Vec<WorkerSpec> = Vec::new();
        for &m in &self.profile.memory_gb {
            for &c in &self.profile.cuda_devices {
                for &k in &self.profile.cpu_cores {
                    let s = self.spec_of(m, c, k, 1.0);
                    if !out.contains(&s) {
                        out.push(s);
                    }
                }
            }
        }
        out
    }

    /// Time to the next pool cycle, or `None` if nothing ever changes.
    pub fn next_cycle_in(&mut self) -> Option<SimDuration> {
        if !self.load.enabled && !matches!(self.churn, Churn::Random { .. }) {
            return None;
        }
        let s = self
            .drift_rng
            .uniform(self.load.cycle_min_s, self.load.cycle_max_s);
        Some(SimDuration::from_secs_f64(s).max(SimDuration(1)))
    }

    /// One cycle: drift and thermal events first, then churn.
    pub fn cycle(&mut self, balancer: &mut Balancer, now: SimTime) -> CycleEffects {
        let mut fx = CycleEffects::default();
        balancer.defer_index();
        if self.load.enabled {
            self.drift(balancer, now, &mut fx);
        }
        self.churn(balancer, now, &mut fx);
        balancer.flush_index();
        fx
    }

    fn drift(&mut self, balancer: &mut Balancer, now: SimTime, fx: &mut CycleEffects) {
        let l = &self.load;
        for i in 0..balancer.workers().len() {
            let id = WorkerId(i as u32);
            if balancer.worker(id).status == WorkerStatus::Offline {
                continue;
            }
            let r = &mut self.drift_rng;
            if !r.chance(l.update_probability) {
                continue;
            }
            // Background load from outside the tests: small on the resources
            // tests drive, the reference's ranges on I/O and network.
            let drift = LoadDrift {
                cpu: r.uniform(0.0, 0.2),
                memory: r.uniform(0.0, 0.1),
                gpu: r.uniform(0.0, 0.1),
                io: r.uniform(0.05, 0.5),
                network: r.uniform(0.1, 0.6),
            };
            balancer.set_drift(id, drift);
            if balancer.worker(id).thermal != Thermal::Normal {
                continue;
            }
            let phase = if r.chance(l.thermal_probability) {
                Some(Thermal::Warming {
                    until: now + SimDuration::from_secs_f64(l.warming_s),
                })
            } else if r.chance(l.thermal_probability) {
                Some(Thermal::Cooling {
                    until: now + SimDuration::from_secs_f64(l.cooling_s),
                })
            } else {
                None
            };
            if let Some(phase) = phase {
                let (Thermal::Warming { until } | Thermal::Cooling { until }) = phase else {
                    unreachable!()
                };
                balancer.set_thermal(id, phase);
                fx.thermal_ends.push((id, until));
            }
        }
    }

    fn churn(&mut self, balancer: &mut Balancer, now: SimTime, fx: &mut CycleEffects) {
        let Churn::Random {
            join_probability,
            leave_probability,
            fail_fraction,
            max_factor,
            min_factor,
        } = self.churn
        else {
            return;
        };
        let initial = f64::from(self.initial);
        let active = balancer.active_workers() as f64;
        if self.churn_rng.chance(join_probability) && active < max_factor * initial {
            let spec = self.draw_worker();
            fx.joined.push(balancer.register_worker(spec, now));
        }
        let active = balancer.active_workers() as f64;
        if self.churn_rng.chance(leave_probability) && active > min_factor * initial {
            let candidates: Vec<WorkerId> = balancer
                .workers()
                .iter()
                .filter(|w| w.status == WorkerStatus::Active)
                .map(|w| w.id)
                .collect();
            let victim = *self.churn_rng.choose(&candidates);
            if self.churn_rng.chance(fail_fraction) {
                let requeued = balancer.fail_worker(victim, now);
                fx.failed.push((victim, requeued));
            } else {
                balancer.drain_worker(victim, now);
                fx.drained.push(victim);
            }
        }
    }
}
