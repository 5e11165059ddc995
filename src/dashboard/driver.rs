//! The live loop of a simulated run: steps the engine at the chosen speed,
//! draws a frame 20 times a second, answers keys, and once the run is over
//! keeps its summary on screen until `q`. The run goes through
//! [`PreparedRun::run_driven`], the same path as the batch commands, so
//! the files it writes are theirs byte for byte.

use std::cell::RefCell;

use super::feeder::{Feeder, SubmitTimes};
use super::keys::{handle, Action, Speed, UiState};
use super::pacing::{Pacer, WallClock, FRAME};
use super::screen::{Input, Screen};
use super::state::DashboardState;
use crate::engine::{Progress, Simulation};
use crate::error::Result;
use crate::run::{Drive, PreparedRun, RunReport};
use crate::sim::{SimDuration, SimTime};

/// Events between two looks at the wall clock while running flat out.
const EVENTS_PER_CHECK: u32 = 256;
/// Share of a frame spent running events; the rest draws and reads keys.
const WORK_SHARE: f64 = 0.7;

/// How a watched run ended.
#[derive(Debug)]
pub enum Watched {
    /// It ran to its end (outputs written); the user then pressed `q`.
    Finished(Box<RunReport>),
    /// The user quit at this simulated time, before the end: nothing was
    /// written.
    Quit { at_s: f64 },
}

/// Runs `prepared` on `screen`, labelled `label` (`stress`, `scenario
/// NAME`, …), at `speed`.
pub fn watch_run(
    prepared: &PreparedRun,
    label: &str,
    speed: Speed,
    screen: &mut dyn Screen,
) -> Result<Watched> {
    let submitted = SubmitTimes::read(prepared.arrivals());
    let state = RefCell::new(DashboardState::for_simulation(prepared.scenario(), label));
    let mut feeder = Feeder {
        state: &state,
        submitted: &submitted,
    };
    let mut ui = UiState::new(speed);
    let mut live = Live {
        state: &state,
        ui: &mut ui,
        screen,
        clock: WallClock::start(),
        shown: SimTime::ZERO,
    };
    let report = prepared.run_driven(&mut feeder, &mut |sim| live.drive(sim))?;
    let Some(report) = report else {
        let at_s = state.borrow().now_s();
        return Ok(Watched::Quit { at_s });
    };
    let mut state = state.into_inner();
    state.finish(&report.output);
    hold(&state, &mut ui, screen)?;
    Ok(Watched::Finished(Box::new(report)))
}

/// Keeps a finished run on screen until `q` (or Ctrl-C); view keys still
/// work (help, filter, sort, focus).
fn hold(state: &DashboardState, ui: &mut UiState, screen: &mut dyn Screen) -> Result<()> {
    screen.draw(state, ui)?;
    loop {
        match screen.next_input(FRAME * 4)? {
            Input::Key(key) => match handle(key, ui) {
                Action::Quit => return Ok(()),
                Action::None => {}
                _ => screen.draw(state, ui)?,
            },
            Input::Resized => screen.draw(state, ui)?,
            Input::Idle => {}
        }
    }
}

/// The driver's side of a live run, between engine steps.
struct Live<'a, 's> {
    state: &'a RefCell<DashboardState>,
    ui: &'a mut UiState,
    screen: &'s mut dyn Screen,
    clock: WallClock,
    /// The simulated time last drawn (at or after the engine's clock).
    shown: SimTime,
}

impl Live<'_, '_> {
    /// Runs the simulation frame by frame until it ends or the user quits.
    fn drive(&mut self, sim: &mut Simulation<'_>) -> Result<Drive> {
        let mut pacer = Pacer::new(self.ui.speed, self.clock.seconds(), sim.now());
        let mut next_frame_s = 0.0;
        let mut ended = false;
        loop {
            let wall_s = self.clock.seconds();
            if wall_s >= next_frame_s {
                if !self.ui.paused {
                    ended |= self.run_frame(sim, &mut pacer, wall_s)?;
                }
                if ended {
                    // The pool as the run left it (a run that ends within
                    // its first frame was never drawn).
                    let end = sim.now();
                    self.state.borrow_mut().sync_pool(sim.balancer(), end);
                    return Ok(Drive::Finish);
                }
                self.show(sim, pacer.target(self.clock.seconds()))?;
                next_frame_s = wall_s + FRAME.as_secs_f64();
            }
            let wait = (next_frame_s - self.clock.seconds()).max(0.0);
            let input = self
                .screen
                .next_input(std::time::Duration::from_secs_f64(wait))?;
            let key = match input {
                Input::Key(key) => key,
                Input::Resized => {
                    next_frame_s = 0.0;
                    continue;
                }
                Input::Idle => continue,
            };
            let action = handle(key, self.ui);
            let now_s = self.clock.seconds();
            match action {
                Action::Quit => return Ok(Drive::Stop),
                Action::None | Action::Pause => {}
                Action::Resume => pacer.anchor(now_s, self.shown.max(sim.now())),
                Action::SetSpeed(speed) => pacer.set_speed(speed, now_s, self.shown.max(sim.now())),
                Action::StepEvent => ended |= sim.step()? != Progress::Running,
                Action::StepSecond => {
                    // One second on from what the screen shows: no event
                    // lies between the last one and `until`.
                    let until = self.shown.max(sim.now()) + SimDuration::from_secs(1);
                    if sim.run_until(until)? == Progress::Running {
                        self.shown = until;
                    } else {
                        ended = true;
                    }
                }
                Action::Redraw => {}
            }
            if action != Action::None {
                next_frame_s = 0.0;
            }
        }
    }

    /// Runs the events due by the pacer's target, within this frame's time
    /// budget; a run that cannot keep up is re-anchored rather than left
    /// to rush. True once the run has ended.
    fn run_frame(
        &mut self,
        sim: &mut Simulation<'_>,
        pacer: &mut Pacer,
        wall_s: f64,
    ) -> Result<bool> {
        let until = pacer.target(wall_s).unwrap_or(SimTime::MAX);
        let deadline_s = wall_s + FRAME.as_secs_f64() * WORK_SHARE;
        loop {
            for _ in 0..EVENTS_PER_CHECK {
                if sim.next_event_at().is_some_and(|t| t > until) {
                    return Ok(false);
                }
                if sim.step()? != Progress::Running {
                    return Ok(true);
                }
            }
            let now_s = self.clock.seconds();
            if now_s >= deadline_s {
                if until != SimTime::MAX {
                    pacer.anchor(now_s, sim.now());
                }
                return Ok(false);
            }
        }
    }

    /// Reads the balancer into the model and draws. Between events time
    /// moves on smoothly: the model is brought to the pacer's target when
    /// no event lies before it.
    fn show(&mut self, sim: &Simulation<'_>, target: Option<SimTime>) -> Result<()> {
        let mut shown = self.shown.max(sim.now());
        if let (Some(target), false) = (target, self.ui.paused) {
            let next = sim.next_event_at().unwrap_or(SimTime::MAX);
            shown = shown.max(target.min(next));
        }
        self.shown = shown;
        let mut state = self.state.borrow_mut();
        state.sync_pool(sim.balancer(), shown);
        self.screen.draw(&state, self.ui)
    }
}
