//! The terminal dashboard drawn off-screen (ratatui's `TestBackend`): every
//! pane at 80×24 and 160×48, paused, finished with its summary, the help and
//! the filter, from a real short simulation; and a monitor view fed by a
//! stored `/v1/status` document. Snapshots live in `golden/`.

use std::collections::{BTreeMap, BTreeSet};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lbsim::balancer::model::{TestId, Thermal, WorkerId};
use lbsim::balancer::{Assignment, Balancer, TestRecord};
use lbsim::dashboard::render::{buffer_text, draw_to_buffer};
use lbsim::dashboard::{handle, DashboardState, Pane, Speed, StatusDoc, Theme, UiState};
use lbsim::engine::{self, Observer, RunOutput};
use lbsim::scenario::{Arrivals, Churn, ChurnAction, ChurnEvent, Scenario, Spike, StressOptions};
use lbsim::sim::{RngStreams, SimTime, Stream};
use lbsim::workload::{Arrival, ArrivalSource, CycleEffects, Pool, SyntheticArrivals};

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

/// The engine's pool replayed beside the run: the same draws at the same
/// simulated times give the pool facts (joins, drains, crashes, thermal
/// phases, drift) that the engine's pool hooks will hand the dashboard.
struct ShadowPool {
    pool: Pool,
    balancer: Balancer,
    next_cycle: Option<SimTime>,
    thermal_ends: Vec<(SimTime, WorkerId)>,
}

impl ShadowPool {
    fn new(scenario: &Scenario) -> ShadowPool {
        let streams = RngStreams::new(scenario.seed);
        let mut pool = Pool::new(scenario, &streams);
        let mut balancer = Balancer::with_options(
            scenario.scheduler,
            &scenario.balancing,
            streams.stream(Stream::Policy),
        );
        for spec in pool.possible_workers() {
            balancer.declare_possible_worker(&spec);
        }
        for _ in 0..scenario.workers {
            let spec = pool.draw_worker();
            balancer.register_worker(spec, SimTime::ZERO);
        }
        let next_cycle = pool.next_cycle_in().map(|dt| SimTime::ZERO + dt);
        ShadowPool {
            pool,
            balancer,
            next_cycle,
            thermal_ends: Vec::new(),
        }
    }

    /// Runs the pool's due actions up to `to`, reporting each to `state`;
    /// a crash requeues the tests `running_on` says the worker held.
    fn advance(
        &mut self,
        to: SimTime,
        state: &mut DashboardState,
        running_on: &mut BTreeMap<u64, WorkerId>,
    ) {
        loop {
            let thermal = self.thermal_ends.first().map(|e| e.0);
            let scripted = self.pool.next_scripted_at();
            let due = [self.next_cycle, scripted, thermal]
                .into_iter()
                .flatten()
                .min();
            let Some(t) = due.filter(|&t| t <= to) else {
                break;
            };
            if thermal == Some(t) {
                let (_, w) = self.thermal_ends.remove(0);
                self.balancer.set_thermal(w, Thermal::Normal);
                continue;
            }
            let fx = if scripted == Some(t) {
                self.pool.scripted(&mut self.balancer, t)
            } else {
                let fx = self.pool.cycle(&mut self.balancer, t);
                self.next_cycle = self.pool.next_cycle_in().map(|dt| t + dt);
                fx
            };
            self.report(fx, t, state, running_on);
        }
    }

    fn report(
        &mut self,
        fx: CycleEffects,
        t: SimTime,
        state: &mut DashboardState,
        running_on: &mut BTreeMap<u64, WorkerId>,
    ) {
        for w in fx.joined {
            state.on_worker_joined(w, t);
        }
        for w in fx.drained {
            state.on_worker_draining(w, t);
        }
        for (w, _) in fx.failed {
            let held: Vec<u64> = running_on
                .iter()
                .filter(|e| *e.1 == w)
                .map(|e| *e.0)
                .collect();
            held.iter().for_each(|id| {
                running_on.remove(id);
            });
            state.on_worker_failed(w, held.len(), t);
        }
        self.thermal_ends
            .extend(fx.thermal_ends.into_iter().map(|(w, until)| (until, w)));
        self.thermal_ends.sort();
    }
}

/// Feeds the dashboard the run's facts up to `stop` (later ones are
/// ignored: the model shows the run as it stood then).
struct Feeder<'a> {
    state: &'a mut DashboardState,
    shadow: &'a mut ShadowPool,
    arrivals: &'a BTreeMap<u64, Arrival>,
    stop: SimTime,
    running_on: BTreeMap<u64, WorkerId>,
    finals: BTreeSet<u64>,
}

impl Observer for Feeder<'_> {
    fn on_decision(&mut self, a: &Assignment) -> lbsim::Result<()> {
        if a.time <= self.stop {
            self.shadow
                .advance(a.time, self.state, &mut self.running_on);
            self.running_on.insert(a.test.0, a.worker);
            let submitted = self.arrivals.get(&a.test.0).map(|x| x.time);
            self.state.on_assignment(a, submitted);
        }
        Ok(())
    }

    fn on_final(&mut self, r: &TestRecord) -> lbsim::Result<()> {
        match r.finished_at {
            Some(t) if t <= self.stop => {
                self.shadow.advance(t, self.state, &mut self.running_on);
                self.running_on.remove(&r.id.0);
                self.finals.insert(r.id.0);
                self.state.on_final(r);
            }
            _ => {}
        }
        Ok(())
    }
}

/// The dashboard's model after the run up to `stop_s` (past the end: the
/// finished run, with its summary), and the run's output.
fn simulated(stop_s: f64) -> (DashboardState, RunOutput) {
    let scenario = scenario();
    let streams = RngStreams::new(scenario.seed);
    let mut source = SyntheticArrivals::new(&scenario, &streams);
    let arrivals: BTreeMap<u64, Arrival> = std::iter::from_fn(|| source.next_arrival())
        .map(|a| (a.id.0, a))
        .collect();
    let mut state = DashboardState::for_simulation(&scenario, "stress");
    let mut shadow = ShadowPool::new(&scenario);
    let stop = SimTime::from_secs_f64(stop_s);
    let mut feeder = Feeder {
        state: &mut state,
        shadow: &mut shadow,
        arrivals: &arrivals,
        stop,
        running_on: BTreeMap::new(),
        finals: BTreeSet::new(),
    };
    let out = engine::run(&scenario, &mut feeder).unwrap();
    let (finals, mut running_on) = (
        std::mem::take(&mut feeder.finals),
        std::mem::take(&mut feeder.running_on),
    );
    let now = stop.min(SimTime::from_secs_f64(out.run.end_time));
    shadow.advance(now, &mut state, &mut running_on);
    // The tests live at `now`, placed by the shadow's own pass: the loads
    // are realistic, though not the engine's exact placement.
    for (id, a) in arrivals
        .iter()
        .filter(|(id, a)| a.time <= now && !finals.contains(*id))
    {
        shadow
            .balancer
            .submit(TestId(*id), a.spec.clone(), a.time)
            .unwrap();
    }
    shadow.balancer.schedule(now, &mut Vec::new());
    state.sync_pool(&shadow.balancer, now);
    if stop_s > out.run.end_time {
        state.finish(&out);
    }
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
    let doc = StatusDoc::from_json(&text).unwrap();
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
