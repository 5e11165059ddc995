//! Load tools against a live coordinator: fake workers (`fleet`, behind
//! `lbsim worker`), a scenario's arrivals played in wall-clock time
//! (`playback`, behind `lbsim load`), and the results JSON computed from
//! the service's own records (`results`).

pub(crate) mod fleet;

use crate::balancer::model::WorkerSpec;
use crate::scenario::Scenario;
use crate::service::api::WorkerRegistration;
use crate::sim::RngStreams;
use crate::workload::Pool;

/// The registration a fake worker with this spec sends.
pub(crate) fn registration(spec: &WorkerSpec, name: String) -> WorkerRegistration {
    WorkerRegistration {
        memory_gb: spec.memory_gb,
        cpu_cores: spec.cpu_cores,
        cuda_devices: spec.cuda_devices,
        backends: Some(
            spec.backends
                .names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
        name: Some(name),
        labels: Vec::new(),
    }
}

/// The scenario's initial pool, drawn exactly as the simulator draws it
/// (same seed, same workers).
pub(crate) fn initial_pool(scenario: &Scenario) -> Vec<WorkerSpec> {
    let mut pool = Pool::new(scenario, &RngStreams::new(scenario.seed));
    (0..scenario.workers).map(|_| pool.draw_worker()).collect()
}

pub(crate) mod playback;
pub(crate) mod prediction;
pub(crate) mod results;

/// The results document of a live run: the simulator's document, plus a
/// `live` section saying where and how it was measured. The one place a
/// load run's results are laid out.
pub(crate) fn results_doc(
    out: &crate::engine::RunOutput,
    url: &str,
    speed: f64,
    embedded_workers: bool,
) -> crate::report::ResultsDoc {
    let mut doc = crate::report::ResultsDoc::from_run(out);
    doc.live = Some(crate::report::LiveSection {
        url: url.to_string(),
        speed,
        embedded_workers,
        source: "the coordinator's records (submission, assignment, start, end of every run)"
            .to_string(),
    });
    doc
}
