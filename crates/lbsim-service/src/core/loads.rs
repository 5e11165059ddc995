//! The `load` fact: what a heartbeat changed in the load the balancer sees,
//! so a replay of the recording (`lbsim fidelity`) ranks workers on the
//! same loads the live balancer did.

use super::Core;
use crate::balancer::model::{LoadDrift, WorkerId};
use crate::workload::trace::recording::Fact;

impl Core {
    /// Records a worker's new drift (called only when it changed, so a
    /// fleet whose measured load is what its runs book writes none).
    pub(super) fn record_load(&mut self, bw: WorkerId, drift: &LoadDrift, now: u64) {
        let Some(&worker) = self.by_balancer.get(bw.0 as usize) else {
            return;
        };
        let round = |x: f64| (x * 1e6).round() / 1e6;
        let fact = Fact::Load {
            worker,
            cpu: round(drift.cpu),
            memory: round(drift.memory),
            gpu: round(drift.gpu),
        };
        self.fact(now, fact);
    }
}

#[cfg(test)]
mod tests {
    use crate::api::{Heartbeat, WorkerRegistration};
    use crate::balancer::options::BalancerOptions;
    use crate::balancer::policy::SchedulerName;
    use crate::core::{Core, CoreConfig};

    fn load_facts(c: &mut Core) -> Vec<String> {
        let facts = std::mem::take(&mut c.out).facts;
        facts
            .into_iter()
            .filter(|f| f.contains("\"fact\":\"load\""))
            .collect()
    }

    #[test]
    fn a_heartbeat_that_changes_the_unexplained_load_is_recorded_once() {
        let cfg = CoreConfig {
            scheduler: SchedulerName::DEFAULT,
            balancing: BalancerOptions::default(),
            heartbeat_timeout_us: 10_000_000,
            seed: 1,
            plain_queue: false,
        };
        let mut c = Core::new(cfg, true, [7; 32], 0);
        let registration = WorkerRegistration {
            memory_gb: 16.0,
            cpu_cores: 4,
            cuda_devices: 0,
            backends: None,
            name: None,
        };
        let w = c.register(registration, 0).unwrap().worker_id;
        load_facts(&mut c);
        let beat = |cpu| Heartbeat {
            cpu,
            ..Heartbeat::default()
        };
        c.heartbeat(w, beat(0.0), 1_000_000, true).unwrap();
        assert!(load_facts(&mut c).is_empty(), "no booked runs, no load");
        c.heartbeat(w, beat(50.0), 2_000_000, true).unwrap();
        let facts = load_facts(&mut c);
        assert_eq!(
            facts,
            [r#"{"t":2.0,"fact":"load","worker":1,"cpu":0.5,"memory":0.0,"gpu":0.0}"#]
        );
        c.heartbeat(w, beat(50.0), 3_000_000, true).unwrap();
        assert!(
            load_facts(&mut c).is_empty(),
            "unchanged: not written again"
        );
        c.heartbeat(w, beat(0.0), 4_000_000, true).unwrap();
        assert_eq!(load_facts(&mut c).len(), 1, "back to none");
    }
}
