//! Draws the README's picture of the terminal dashboard: the `spike` run
//! 40 simulated seconds in (the spike, joins and drains on the charts), as
//! `lbsim dashboard spike` shows it in a 120×36 terminal, written as SVG.
//!
//! `cargo run --release --example dashboard_svg -- docs/images/dashboard.svg`

// An example program: it may print what it wrote.
#![allow(clippy::disallowed_macros)]

use std::cell::RefCell;

use lbsim::dashboard::feeder::{Feeder, SubmitTimes};
use lbsim::dashboard::render::draw_to_buffer;
use lbsim::dashboard::svg::buffer_svg;
use lbsim::dashboard::{DashboardState, Speed, Theme, UiState};
use lbsim::run::{Drive, Overrides, RunRequest, Source};
use lbsim::scenario::EnvSettings;
use lbsim::sim::SimTime;

fn main() -> lbsim::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "docs/images/dashboard.svg".into());
    let request = RunRequest {
        source: Source::Spike,
        overrides: Overrides {
            workers: Some(24),
            tests: Some(900),
            seed: Some(7),
            ..Default::default()
        },
        outputs: Default::default(),
    };
    let prepared = request.prepare(&EnvSettings::default())?;
    let submitted = SubmitTimes::read(prepared.arrivals());
    let state = RefCell::new(DashboardState::for_simulation(prepared.scenario(), "spike"));
    let mut feeder = Feeder {
        state: &state,
        submitted: &submitted,
    };
    let stop = SimTime::from_secs(40);
    prepared.run_driven(&mut feeder, &mut |sim| {
        sim.run_until(stop)?;
        state.borrow_mut().sync_pool(sim.balancer(), stop);
        Ok(Drive::Stop)
    })?;
    let ui = UiState::new(Speed::Times(2.4));
    let screen = draw_to_buffer(&state.borrow(), &ui, &Theme::color(), 120, 36);
    std::fs::write(&path, buffer_svg(&screen)).map_err(|e| lbsim::Error::io(&path, e))?;
    println!("wrote {path}");
    Ok(())
}
