//! Golden snapshot of a small run's results JSON. A change here is a change
//! in behaviour: review the diff, never accept it blindly.

use lbsim::engine::{self, NoObserver};
use lbsim::report;
use lbsim::scenario::StressOptions;

#[test]
fn small_stress_run_matches_its_snapshot() {
    let scenario = StressOptions {
        workers: 4,
        tests: 40,
        duration_s: 20.0,
        burst: true,
        dynamic: true,
        seed: 7,
        ..Default::default()
    }
    .to_scenario()
    .unwrap();
    let out = engine::run(&scenario, &mut NoObserver).unwrap();
    let json = report::ResultsDoc::from_run(&out).to_json();
    insta::with_settings!({snapshot_path => "../../golden", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("stress_small", json);
    });
}
