//! The one wall clock outside the service: `--stats` times a run with it
//! and the dashboard paces its frames with it. Neither reading reaches a
//! result (the engine only ever gets simulated time), so outputs stay
//! byte-identical.

/// Wall time since [`WallClock::start`], in seconds.
#[derive(Clone, Copy, Debug)]
pub struct WallClock(std::time::Instant);

impl WallClock {
    /// Starts counting now.
    // Wall time is the point here (how long a run took, how fast the
    // dashboard shows it); clippy.toml bans it everywhere else in the core.
    #[allow(clippy::disallowed_methods)]
    pub fn start() -> WallClock {
        WallClock(std::time::Instant::now())
    }

    /// Seconds since the start.
    pub fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}
