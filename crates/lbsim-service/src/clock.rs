//! The service's one source of time: a monotonic clock read at the edge and
//! handed to the core as µs since the store was created. This is the only
//! module allowed to read the wall clock.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Monotonic µs since the store's time zero, continuing across restarts.
#[derive(Clone, Copy, Debug)]
pub(super) struct Clock {
    started: Instant,
    /// Store time at `started`.
    offset_us: u64,
}

/// Unix time now, µs (for a new store's time zero and for restarts).
#[allow(clippy::disallowed_methods)] // wall time is the point: the store's calendar anchor
pub(super) fn unix_now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

impl Clock {
    /// A clock that reads `max(last_us + 1, wall time since the epoch)`
    /// now: never behind what the store already recorded, even if the
    /// machine's calendar went back.
    #[allow(clippy::disallowed_methods)] // the service's monotonic clock starts here
    pub(super) fn start(epoch_unix_us: u64, last_us: u64) -> Clock {
        let wall = unix_now_us().saturating_sub(epoch_unix_us);
        Clock {
            started: Instant::now(),
            offset_us: wall.max(last_us + 1),
        }
    }

    /// Store time now, µs.
    pub(super) fn now_us(&self) -> u64 {
        self.offset_us + self.started.elapsed().as_micros() as u64
    }

    /// Seconds since this process started serving.
    pub(super) fn uptime_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

/// A stopwatch for request durations (metrics, logs).
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    #[allow(clippy::disallowed_methods)] // measuring real request latency is the point
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    pub fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}
