//! Pacing a simulated run against the wall clock: `--speed X` simulated
//! seconds per wall second, or as fast as frames can be drawn. The
//! arithmetic is pure (wall time is handed in); only [`WallClock`] reads a
//! clock, and nothing it reads reaches the run: the engine sees the same
//! events in the same order at any speed.

use std::time::Duration;

use super::keys::Speed;
use crate::sim::SimTime;

/// Wall time between two frames: 20 frames a second.
pub(crate) const FRAME: Duration = Duration::from_millis(50);
/// A run at the default speed takes about this long on screen.
pub(crate) const DEFAULT_SHOW_S: f64 = 30.0;

/// The default speed for a run whose tests arrive over `duration_s`
/// simulated seconds: the arrivals and a tail of a fifth more in about
/// [`DEFAULT_SHOW_S`], rounded to two significant digits so the header
/// reads well.
pub(crate) fn default_speed(duration_s: f64) -> Speed {
    let x = duration_s * 1.2 / DEFAULT_SHOW_S;
    if !(x.is_finite() && x > 0.0) {
        return Speed::Times(1.0);
    }
    // Two significant digits; powers of ten are exact as divisors and
    // factors, so 2.4 stays 2.4 (not 2.4000000000000004).
    let digits = 1 - x.log10().floor() as i32;
    let rounded = if digits >= 0 {
        let scale = 10f64.powi(digits);
        (x * scale).round() / scale
    } else {
        let scale = 10f64.powi(-digits);
        (x / scale).round() * scale
    };
    Speed::Times(rounded)
}

/// Parses `--speed`: `max`, or a positive number of simulated seconds per
/// wall second.
pub(crate) fn parse_speed(text: &str) -> Result<Speed, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("max") {
        return Ok(Speed::Max);
    }
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(Speed::Times(x)),
        _ => Err(format!(
            "{text} is neither a positive number of simulated seconds per second nor max"
        )),
    }
}

/// Where the run should be at a given wall time. Anchored at a wall time
/// and a simulated time; re-anchored when the speed changes, on resume,
/// and when the run fell behind (so it never rushes to catch up).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Pacer {
    speed: Speed,
    wall_s: f64,
    sim: SimTime,
}

impl Pacer {
    pub(crate) fn new(speed: Speed, wall_s: f64, sim: SimTime) -> Pacer {
        Pacer { speed, wall_s, sim }
    }

    /// Counts from here: after a pause, a step, a new speed or a lag.
    pub(crate) fn anchor(&mut self, wall_s: f64, sim: SimTime) {
        self.wall_s = wall_s;
        self.sim = sim;
    }

    pub(crate) fn set_speed(&mut self, speed: Speed, wall_s: f64, sim: SimTime) {
        self.speed = speed;
        self.anchor(wall_s, sim);
    }

    /// The simulated time due at `wall_s`; `None` at `max` (the frame's
    /// time budget is the only bound).
    pub(crate) fn target(&self, wall_s: f64) -> Option<SimTime> {
        match self.speed {
            Speed::Max => None,
            Speed::Times(x) => {
                let ahead_s = (wall_s - self.wall_s).max(0.0) * x;
                Some(self.sim + crate::sim::SimDuration::from_secs_f64(ahead_s))
            }
        }
    }
}

/// The wall clock of the pacing, in seconds since the dashboard started:
/// the run module's, the one wall clock outside the service.
pub use crate::run::WallClock;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_speed_shows_a_run_in_about_thirty_seconds() {
        assert_eq!(default_speed(60.0), Speed::Times(2.4));
        assert_eq!(default_speed(3600.0), Speed::Times(140.0));
        assert_eq!(default_speed(1.0), Speed::Times(0.04));
        assert_eq!(default_speed(f64::NAN), Speed::Times(1.0));
    }

    #[test]
    fn speed_is_a_positive_number_or_max() {
        assert_eq!(parse_speed("max"), Ok(Speed::Max));
        assert_eq!(parse_speed(" MAX "), Ok(Speed::Max));
        assert_eq!(parse_speed("2.5"), Ok(Speed::Times(2.5)));
        for bad in ["0", "-1", "inf", "fast", ""] {
            assert!(parse_speed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_target_moves_at_the_speed_from_the_last_anchor() {
        let mut p = Pacer::new(Speed::Times(10.0), 1.0, SimTime::from_secs(5));
        assert_eq!(p.target(1.0), Some(SimTime::from_secs(5)));
        assert_eq!(p.target(3.0), Some(SimTime::from_secs(25)));
        // Wall time before the anchor never moves the run back.
        assert_eq!(p.target(0.0), Some(SimTime::from_secs(5)));
        p.set_speed(Speed::Times(0.5), 3.0, SimTime::from_secs(25));
        assert_eq!(p.target(5.0), Some(SimTime::from_secs(26)));
        p.set_speed(Speed::Max, 5.0, SimTime::from_secs(26));
        assert_eq!(p.target(9.0), None);
        assert_eq!(p.speed, Speed::Max);
    }
}
