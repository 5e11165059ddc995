//! The in-process balancer behind `lbsim.LoadBalancerService`: names to the
//! balancer's dense ids, measured load to drift, thermal phases that end
//! on time, and a scheduling pass after every call that can free or add
//! capacity. The clock is the caller's (`now`, seconds): this module never
//! reads one, so a script on the manual clock is deterministic.

use crate::errors::{guard, invalid};
use indexmap::IndexMap;
use lbsim::balancer::model::{
    gb_to_mib_ceil, gb_to_mib_floor, Backends, LoadDrift, TestId, TestSpec, Thermal, WorkerId,
    WorkerSpec, WorkerStatus,
};
use lbsim::balancer::options::BalancerOptions;
use lbsim::balancer::policy::{CompositeWeights, SchedulerName};
use lbsim::balancer::{Assignment, Balancer};
use lbsim::sim::{RngStreams, SimDuration, SimTime, Stream};
use pyo3::prelude::*;
use std::sync::Mutex;

/// The balancer behind its (never contended) mutex.
fn bal(m: &mut Mutex<Balancer>) -> &mut Balancer {
    m.get_mut().unwrap_or_else(|e| e.into_inner())
}

/// `(test, worker)` names of the assignments a call made, in order.
type Assigned = Vec<(String, String)>;

/// Where a test is, as far as this core knows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Pending,
    Assigned(WorkerId),
}

struct WorkerEntry {
    bw: WorkerId,
    spec: WorkerSpec,
}

fn sim_time(now: f64) -> PyResult<SimTime> {
    if !(0.0..1e12).contains(&now) {
        return Err(invalid("now", "must be seconds in [0, 1e12)"));
    }
    Ok(SimTime::from_secs_f64(now))
}

fn backends_of(field: &str, names: &[String]) -> PyResult<Backends> {
    let mut set = Backends::default();
    for n in names {
        let b = Backends::from_name(n)
            .ok_or_else(|| invalid(field, format!("'{n}' is not one of cpu, cuda, rocm")))?;
        set = set.union(b);
    }
    Ok(set)
}

fn percent(field: &str, v: f64) -> PyResult<f64> {
    if !(v.is_finite() && (0.0..=100.0).contains(&v)) {
        return Err(invalid(field, "must be a percentage from 0 to 100"));
    }
    Ok(v / 100.0)
}

/// The balancer state machine the Python service drives.
#[pyclass(module = "lbsim._native")]
pub struct Core {
    /// A mutex only to make the class `Sync` (policies are `Send`, not
    /// `Sync`); every method has `&mut self`, so it is never contended.
    balancer: Mutex<Balancer>,
    workers: IndexMap<String, WorkerEntry>,
    /// Balancer worker id → name.
    names: Vec<String>,
    /// Test number - 1 → name.
    tests: Vec<String>,
    live: IndexMap<String, (TestId, Place)>,
    /// Shapes of every worker that ever registered (for rejections).
    shapes: Vec<WorkerSpec>,
    keys: IndexMap<String, u32>,
    families: IndexMap<String, u32>,
    /// Workers in a warming or cooling phase.
    thermal: Vec<WorkerId>,
    buf: Vec<Assignment>,
}

#[pymethods]
impl Core {
    #[new]
    #[pyo3(signature = (scheduler, seed, composite_weights=None))]
    fn new(scheduler: &str, seed: u64, composite_weights: Option<&str>) -> PyResult<Core> {
        let name = SchedulerName::parse(scheduler).map_err(|e| invalid("scheduler", e))?;
        let mut options = BalancerOptions::default();
        if let Some(w) = composite_weights {
            options.composite_weights =
                CompositeWeights::parse(w).map_err(|e| invalid("composite_weights", e))?;
        }
        let rng = RngStreams::new(seed).stream(Stream::Policy);
        let mut balancer = Balancer::with_options(name, &options, rng);
        balancer.declare_possible_worker(&WorkerSpec::universal());
        Ok(Core {
            balancer: Mutex::new(balancer),
            workers: IndexMap::new(),
            names: Vec::new(),
            tests: Vec::new(),
            live: IndexMap::new(),
            shapes: Vec::new(),
            keys: IndexMap::new(),
            families: IndexMap::new(),
            thermal: Vec::new(),
            buf: Vec::new(),
        })
    }

    /// Registers (or re-registers with new capabilities) a worker; returns
    /// the assignments the pass made.
    #[allow(clippy::too_many_arguments)]
    fn register_worker(
        &mut self,
        name: String,
        memory_gb: f64,
        cpu_cores: u32,
        cuda_devices: u32,
        backends: Option<Vec<String>>,
        speed: f64,
        now: f64,
    ) -> PyResult<Assigned> {
        let now = sim_time(now)?;
        if !(memory_gb.is_finite() && memory_gb > 0.0 && memory_gb <= 65_536.0) {
            return Err(invalid("available_memory", "must be GB in (0, 65536]"));
        }
        if cpu_cores == 0 || cpu_cores > 4096 {
            return Err(invalid("cpu_cores", "must be 1 to 4096"));
        }
        if cuda_devices > 64 {
            return Err(invalid("available_accelerators", "must be 0 to 64 devices"));
        }
        if !(speed.is_finite() && speed > 0.0 && speed <= 1000.0) {
            return Err(invalid("speed", "must be a positive factor up to 1000"));
        }
        let backends = match backends {
            Some(b) if !b.is_empty() => backends_of("supported_backends", &b)?,
            _ => Backends::for_cuda_devices(cuda_devices),
        };
        let spec = WorkerSpec {
            memory_mib: gb_to_mib_floor(memory_gb),
            memory_gb,
            cpu_cores,
            cuda_devices,
            backends,
            speed,
        };
        guard(|| {
            if let Some(old) = self.workers.get(&name) {
                let status = bal(&mut self.balancer).worker(old.bw).status;
                if old.spec == spec && status == WorkerStatus::Active {
                    return Ok(self.schedule(now));
                }
                if status != WorkerStatus::Offline {
                    // New capabilities: the old entry finishes what it runs.
                    bal(&mut self.balancer).drain_worker(old.bw, now);
                }
            }
            if !self.shapes.contains(&spec) {
                self.shapes.push(spec.clone());
            }
            let bw = bal(&mut self.balancer).register_worker(spec.clone(), now);
            self.names.push(name.clone());
            self.workers.insert(name, WorkerEntry { bw, spec });
            Ok(self.schedule(now))
        })
    }

    /// A measured load (percentages): what the worker's booked tests do
    /// not explain becomes the balancer's drift; `warming_until` /
    /// `cooling_until` start a thermal phase.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (name, cpu, memory, gpu, io, network, warming_until, cooling_until, now))]
    fn update_load(
        &mut self,
        name: &str,
        cpu: f64,
        memory: f64,
        gpu: f64,
        io: f64,
        network: f64,
        warming_until: Option<f64>,
        cooling_until: Option<f64>,
        now: f64,
    ) -> PyResult<Assigned> {
        let now = sim_time(now)?;
        let cpu = percent("cpu_utilization", cpu)?;
        let memory = percent("memory_utilization", memory)?;
        let gpu = percent("gpu_utilization", gpu)?;
        let io = percent("io_utilization", io)?;
        let network = percent("network_utilization", network)?;
        let thermal = match (warming_until, cooling_until) {
            (Some(t), _) => Thermal::Warming {
                until: sim_time(t).map_err(|_| invalid("warming_until", "must be a time"))?,
            },
            (None, Some(t)) => Thermal::Cooling {
                until: sim_time(t).map_err(|_| invalid("cooling_until", "must be a time"))?,
            },
            (None, None) => Thermal::Normal,
        };
        let bw = self.active_worker(name)?;
        guard(|| {
            let state = bal(&mut self.balancer).worker(bw);
            let frac = |used: f64, total: f64| if total > 0.0 { used / total } else { 0.0 };
            let drift = LoadDrift {
                cpu: (cpu - frac(f64::from(state.used_cores), f64::from(state.spec.cpu_cores)))
                    .max(0.0),
                memory: (memory - frac(state.used_memory_mib as f64, state.spec.memory_mib as f64))
                    .max(0.0),
                gpu: (gpu
                    - frac(
                        f64::from(state.used_cuda),
                        f64::from(state.spec.cuda_devices),
                    ))
                .max(0.0),
                io,
                network,
            };
            let thermal = match thermal.until() {
                Some(until) if until <= now => Thermal::Normal,
                _ => thermal,
            };
            if thermal != Thermal::Normal && !self.thermal.contains(&bw) {
                self.thermal.push(bw);
            }
            bal(&mut self.balancer).set_condition(bw, drift, thermal);
            Ok(self.schedule(now))
        })
    }

    /// Accepts a test (`Ok((None, assigned))`), or rejects it at once when
    /// no worker that ever registered could hold it (`Ok((Some(reason), []))`).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (name, priority, memory_gb, cuda_devices, cpu_cores, backend, expected_duration, model_family, concurrency_key, now))]
    fn submit(
        &mut self,
        name: String,
        priority: u8,
        memory_gb: f64,
        cuda_devices: u32,
        cpu_cores: u32,
        backend: Option<String>,
        expected_duration: f64,
        model_family: Option<String>,
        concurrency_key: Option<String>,
        now: f64,
    ) -> PyResult<(Option<String>, Assigned)> {
        let now = sim_time(now)?;
        if self.live.contains_key(&name) {
            return Err(invalid(
                "test_id",
                format!("'{name}' is already submitted and not final"),
            ));
        }
        let spec = self.test_spec(
            priority,
            memory_gb,
            cuda_devices,
            cpu_cores,
            backend,
            expected_duration,
            model_family,
            concurrency_key,
        )?;
        guard(|| {
            let shape = spec.shape();
            if !self.shapes.is_empty() && !self.shapes.iter().any(|w| shape.fits_spec(w)) {
                let reason = "no worker could ever hold it (more memory, devices, cores or another backend than any registered worker offers)";
                return Ok((Some(reason.to_string()), Vec::new()));
            }
            self.tests.push(name.clone());
            let id = TestId(self.tests.len() as u64);
            if let Err(record) = bal(&mut self.balancer).submit(id, spec, now) {
                return Ok((record.reason.map(str::to_string), Vec::new()));
            }
            self.live.insert(name, (id, Place::Pending));
            Ok((None, self.schedule(now)))
        })
    }

    /// An assigned test ended (`success` or not): it is final, its
    /// resources are free, and a pass runs.
    fn finish(&mut self, name: &str, success: bool, now: f64) -> PyResult<Assigned> {
        let now = sim_time(now)?;
        let Some(&(id, place)) = self.live.get(name) else {
            return Err(invalid("test_id", format!("no live test '{name}'")));
        };
        if place == Place::Pending {
            return Err(invalid(
                "test_id",
                format!("'{name}' is not assigned to a worker"),
            ));
        }
        guard(|| {
            bal(&mut self.balancer).finish(id, now, success);
            self.live.swap_remove(name);
            Ok(self.schedule(now))
        })
    }

    /// The worker is gone: its tests go back to pending (returned), and a
    /// pass runs on the others.
    fn fail_worker(&mut self, name: &str, now: f64) -> PyResult<(Vec<String>, Assigned)> {
        let now = sim_time(now)?;
        let bw = self.known_worker(name)?;
        guard(|| {
            let requeued: Vec<String> = bal(&mut self.balancer)
                .fail_worker(bw, now)
                .into_iter()
                .map(|t| self.requeued(t))
                .collect();
            Ok((requeued, self.schedule(now)))
        })
    }

    /// Takes nothing new; finishes what it runs.
    fn drain_worker(&mut self, name: &str, now: f64) -> PyResult<Assigned> {
        let now = sim_time(now)?;
        let bw = self.known_worker(name)?;
        guard(|| {
            bal(&mut self.balancer).drain_worker(bw, now);
            Ok(self.schedule(now))
        })
    }

    /// Ends thermal phases that are due and runs a pass.
    fn tick(&mut self, now: f64) -> PyResult<Assigned> {
        let now = sim_time(now)?;
        guard(|| Ok(self.schedule(now)))
    }

    /// `"active"`, `"draining"` or `"offline"`; `None` for an unknown name.
    fn worker_status(&mut self, name: &str) -> Option<&'static str> {
        let w = self.workers.get(name)?;
        Some(match bal(&mut self.balancer).worker(w.bw).status {
            WorkerStatus::Active => "active",
            WorkerStatus::Draining => "draining",
            WorkerStatus::Offline => "offline",
        })
    }

    /// What the balancer knows of a worker, as a dict-ready list of pairs.
    fn worker_info(&mut self, name: &str) -> PyResult<Vec<(&'static str, f64)>> {
        let bw = self.known_worker(name)?;
        let w = bal(&mut self.balancer).worker(bw);
        let u = w.utilisation();
        Ok(vec![
            ("effective_load", w.effective_load()),
            ("load_score", w.load_score()),
            ("performance_level", w.performance_level()),
            ("cpu_utilization", u.cpu * 100.0),
            ("memory_utilization", u.memory * 100.0),
            ("gpu_utilization", u.gpu * 100.0),
            ("memory_gb", w.spec.memory_mib as f64 / 1024.0),
            ("free_memory_gb", w.free_memory_mib() as f64 / 1024.0),
            ("free_cuda", f64::from(w.free_cuda())),
            ("free_cores", f64::from(w.free_cores())),
            ("running", w.running.len() as f64),
            ("assignments", w.assignments as f64),
        ])
    }

    /// Pending tests in scheduling order (priority, then submission).
    fn pending(&mut self) -> Vec<String> {
        bal(&mut self.balancer)
            .pending_in_order()
            .into_iter()
            .map(|t| self.tests[(t.0 - 1) as usize].clone())
            .collect()
    }

    fn pending_len(&mut self) -> usize {
        bal(&mut self.balancer).pending_len()
    }

    fn running_len(&mut self) -> usize {
        bal(&mut self.balancer).running_len()
    }

    fn scheduler(&mut self) -> &'static str {
        bal(&mut self.balancer).scheduler().as_str()
    }
}

impl Core {
    #[allow(clippy::too_many_arguments)]
    fn test_spec(
        &mut self,
        priority: u8,
        memory_gb: f64,
        cuda_devices: u32,
        cpu_cores: u32,
        backend: Option<String>,
        expected_duration: f64,
        model_family: Option<String>,
        concurrency_key: Option<String>,
    ) -> PyResult<TestSpec> {
        if !(1..=5).contains(&priority) {
            return Err(invalid("priority", "must be 1 (most urgent) to 5"));
        }
        if !(memory_gb.is_finite() && (0.0..=1e6).contains(&memory_gb)) {
            return Err(invalid("minimum_memory", "must be GB in [0, 1e6]"));
        }
        if cuda_devices > 1024 {
            return Err(invalid(
                "required_accelerators",
                "must be 0 to 1024 devices",
            ));
        }
        if cpu_cores > 1_000_000 {
            return Err(invalid("cpu_cores", "must be 0 to 1000000"));
        }
        let d = expected_duration;
        if !(d.is_finite() && d > 0.0 && d <= 1e9) {
            return Err(invalid("expected_duration", "must be seconds in (0, 1e9]"));
        }
        let backend = match backend {
            Some(b) => Some(Backends::from_name(&b).ok_or_else(|| {
                invalid(
                    "required_backend",
                    format!("'{b}' is not one of cpu, cuda, rocm"),
                )
            })?),
            None => (cuda_devices > 0).then_some(Backends::CUDA),
        };
        let intern = |table: &mut IndexMap<String, u32>, s: String| {
            let n = table.len() as u32;
            *table.entry(s).or_insert(n)
        };
        let concurrency_key = concurrency_key.map(|k| intern(&mut self.keys, k));
        let model_family = model_family.map_or(0, |f| intern(&mut self.families, f) + 1);
        Ok(TestSpec {
            priority,
            memory_mib: gb_to_mib_ceil(memory_gb),
            cuda_devices,
            cpu_cores,
            backend,
            expected_duration: SimDuration::from_secs_f64(d),
            model_family,
            concurrency_key,
        })
    }

    fn known_worker(&self, name: &str) -> PyResult<WorkerId> {
        self.workers
            .get(name)
            .map(|w| w.bw)
            .ok_or_else(|| invalid("worker_id", format!("no worker '{name}' is registered")))
    }

    fn active_worker(&mut self, name: &str) -> PyResult<WorkerId> {
        let bw = self.known_worker(name)?;
        if bal(&mut self.balancer).worker(bw).status == WorkerStatus::Offline {
            return Err(invalid("worker_id", format!("worker '{name}' is offline")));
        }
        Ok(bw)
    }

    fn requeued(&mut self, t: TestId) -> String {
        let name = self.tests[(t.0 - 1) as usize].clone();
        if let Some(entry) = self.live.get_mut(&name) {
            entry.1 = Place::Pending;
        }
        name
    }

    /// Ends due thermal phases, then one scheduling pass; the assignments
    /// by name.
    fn schedule(&mut self, now: SimTime) -> Assigned {
        let mut i = 0;
        while i < self.thermal.len() {
            let bw = self.thermal[i];
            match bal(&mut self.balancer).worker(bw).thermal.until() {
                Some(until) if until > now => i += 1,
                _ => {
                    bal(&mut self.balancer).set_thermal(bw, Thermal::Normal);
                    self.thermal.swap_remove(i);
                }
            }
        }
        self.buf.clear();
        bal(&mut self.balancer).schedule(now, &mut self.buf);
        let mut out = Vec::with_capacity(self.buf.len());
        for a in std::mem::take(&mut self.buf) {
            let test = self.tests[(a.test.0 - 1) as usize].clone();
            if let Some(entry) = self.live.get_mut(&test) {
                entry.1 = Place::Assigned(a.worker);
            }
            out.push((test, self.names[a.worker.0 as usize].clone()));
        }
        out
    }
}
