//! The terminal dashboard drawn off-screen (ratatui's `TestBackend`): every
//! pane at 80×24 and 160×48, paused, finished with its summary, the help and
//! the filter, from a real short simulation; and a monitor view fed by a
//! stored `/v1/status` document. Snapshots live in `golden/`.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lbsim::balancer::model::{TestId, WorkerId, WorkerSpec};
use lbsim::balancer::{Assignment, TestRecord};
use lbsim::dashboard::render::{buffer_text, draw_to_buffer};
use lbsim::dashboard::{handle, status, DashboardState, Pane, Speed, Theme, UiState};
use lbsim::engine::{self, Observer, Progress, RunOutput, Simulation};
use lbsim::scenario::{Arrivals, Churn, ChurnAction, ChurnEvent, Scenario, Spike, StressOptions};
use lbsim::sim::{RngStreams, SimTime};
use lbsim::workload::{ArrivalSource, SyntheticArrivals};

/// A short run with a spike and scripted churn (two joins, a drain, a crash).
fn scenario() -> Scenario {
    let mut s = StressOptions {
        workers: 16,
        tests: 400,
        duration_s: 60.0,
        seed: 7,
        ..Default::default()
    }
    .to_scenario()
    .unwrap();
    let spike = Spike {
        start_s: 20.0,
        length_s: 15.0,
        multiplier: 4.0,
        ramp_s: 0.0,
    };
    s.arrivals = Arrivals::Spiky {
        base: Box::new(s.arrivals.clone()),
        spikes: vec![spike],
    };
    let event = |at_s, action, count| ChurnEvent {
        at_s,
        action,
        count,
        every_s: 0.0,
        replace: false,
    };
    s.churn = Churn::Timeline {
        events: vec![
            event(10.0, ChurnAction::Join, 2),
            event(25.0, ChurnAction::Drain, 1),
            event(32.0, ChurnAction::Fail, 1),
        ],
    };
    s.validate().unwrap();
    s
}

/// Feeds the dashboard every fact the engine reports through its observer
/// hooks, as the live wiring does.
struct Feeder<'a> {
    state: &'a RefCell<DashboardState>,
    submitted: &'a BTreeMap<u64, SimTime>,
}

impl Observer for Feeder<'_> {
    fn on_decision(&mut self, a: &Assignment) -> lbsim::Result<()> {
        let submitted = self.submitted.get(&a.test.0).copied();
        self.state.borrow_mut().on_assignment(a, submitted);
        Ok(())
    }

    fn on_final(&mut self, r: &TestRecord) -> lbsim::Result<()> {
        self.state.borrow_mut().on_final(r);
        Ok(())
    }

    fn on_join(&mut self, w: WorkerId, _: &WorkerSpec, now: SimTime) -> lbsim::Result<()> {
        self.state.borrow_mut().on_worker_joined(w, now);
        Ok(())
    }

    fn on_drain(&mut self, w: WorkerId, now: SimTime) -> lbsim::Result<()> {
        self.state.borrow_mut().on_worker_draining(w, now);
        Ok(())
    }

    fn on_fail(&mut self, w: WorkerId, requeued: &[TestId], now: SimTime) -> lbsim::Result<()> {
        self.state
            .borrow_mut()
            .on_worker_failed(w, requeued.len(), now);
        Ok(())
    }
}

/// The dashboard's model after the run up to `stop_s` (past the end: the
/// finished run, with its summary), and the run's output.
fn simulated(stop_s: f64) -> (DashboardState, RunOutput) {
    let scenario = scenario();
    let streams = RngStreams::new(scenario.seed);
    let mut source = SyntheticArrivals::new(&scenario, &streams);
    let submitted: BTreeMap<u64, SimTime> = std::iter::from_fn(|| source.next_arrival())
        .map(|a| (a.id.0, a.time))
        .collect();
    let state = RefCell::new(DashboardState::for_simulation(&scenario, "stress"));
    let stop = SimTime::from_secs_f64(stop_s);
    let mut feeder = Feeder {
        state: &state,
        submitted: &submitted,
    };
    let mut sim = Simulation::new(&scenario, &mut feeder);
    if sim.run_until(stop).unwrap() == Progress::Running {
        state.borrow_mut().sync_pool(sim.balancer(), stop);
        drop(sim);
        let out = engine::run(&scenario, &mut engine::NoObserver).unwrap();
        return (state.into_inner(), out);
    }
    let end = sim.now();
    state.borrow_mut().sync_pool(sim.balancer(), end);
    let out = sim.finish().unwrap();
    let mut state = state.into_inner();
    state.finish(&out);
    (state, out)
}

fn screen(state: &DashboardState, ui: &UiState, width: u16, height: u16) -> String {
    let buffer = draw_to_buffer(state, ui, &Theme::mono(), width, height);
    let text = buffer_text(&buffer);
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => "../../golden", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, text);
    });
}

const MID_RUN_S: f64 = 40.0;

#[test]
fn a_running_simulation_at_80x24_and_160x48() {
    let (state, _) = simulated(MID_RUN_S);
    let ui = UiState::new(Speed::Times(2.0));
    snapshot("dashboard_sim_80x24", &screen(&state, &ui, 80, 24));
    snapshot("dashboard_sim_160x48", &screen(&state, &ui, 160, 48));
}

#[test]
fn a_paused_simulation_shows_paused_and_the_focused_pane() {
    let (state, _) = simulated(MID_RUN_S);
    let mut ui = UiState::new(Speed::Times(0.5));
    handle(key(KeyCode::Char(' ')), &mut ui);
    handle(key(KeyCode::Tab), &mut ui);
    assert!(ui.paused);
    assert_eq!(ui.focus, Pane::Workers);
    let text = screen(&state, &ui, 80, 24);
    assert!(text.contains("|| PAUSED"));
    snapshot("dashboard_paused_80x24", &text);
}

#[test]
fn a_finished_run_keeps_the_batch_summary_on_screen() {
    let (state, out) = simulated(1e9);
    let ui = UiState::new(Speed::Max);
    let wide = screen(&state, &ui, 160, 48);
    for line in lbsim::report::summary(&out).lines() {
        assert!(
            wide.contains(line.trim_end()),
            "missing summary line: {line}"
        );
    }
    assert!(wide.contains("FINISHED"));
    snapshot("dashboard_finished_80x24", &screen(&state, &ui, 80, 24));
    snapshot("dashboard_finished_160x48", &wide);
}

#[test]
fn the_help_overlay() {
    let (state, _) = simulated(MID_RUN_S);
    let mut ui = UiState::new(Speed::Times(2.0));
    handle(key(KeyCode::Char('?')), &mut ui);
    snapshot("dashboard_help_80x24", &screen(&state, &ui, 80, 24));
}

#[test]
fn a_typed_filter_and_another_sort_order() {
    let (state, _) = simulated(MID_RUN_S);
    let mut ui = UiState::new(Speed::Times(2.0));
    for c in "o/worker-001".chars() {
        handle(key(KeyCode::Char(c)), &mut ui);
    }
    let text = screen(&state, &ui, 80, 24);
    assert!(text.contains("filter workers: worker-001_"));
    snapshot("dashboard_filter_80x24", &text);
}

fn monitor() -> DashboardState {
    let text = std::fs::read_to_string("tests/fixtures/status_v1.json").unwrap();
    let doc = status::parse(&text).unwrap();
    let mut state = DashboardState::for_monitor("http://127.0.0.1:8080", 1.0);
    state.on_status(&doc);
    state
}

#[test]
fn a_monitor_view_fed_by_a_stored_status_document() {
    let state = monitor();
    let ui = UiState::new(Speed::Max);
    snapshot("dashboard_monitor_80x24", &screen(&state, &ui, 80, 24));
    snapshot("dashboard_monitor_160x48", &screen(&state, &ui, 160, 48));
}

#[test]
fn a_monitor_whose_poll_failed_says_so_and_keeps_the_last_figures() {
    let mut state = monitor();
    state.on_poll_failed("connection refused (os error 111)");
    let text = screen(&state, &UiState::new(Speed::Max), 80, 24);
    assert!(text.contains("POLL FAILED x1"));
    assert!(text.contains("submitted 1842"));
    snapshot("dashboard_monitor_poll_failed_80x24", &text);
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}
