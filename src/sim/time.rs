//! Simulated time: integer microseconds, so event order never depends on float rounding.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Microseconds in one simulated second.
pub const MICROS_PER_SEC: u64 = 1_000_000;

/// A point in simulated time, in microseconds since the run started.
///
/// Integer time makes `(time, seq)` a total order with no epsilon: two events
/// "at the same time" really are at the same time.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct SimTime(pub u64);

/// A span of simulated time, in microseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Seconds as a float, for reports only; never for ordering.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    pub fn from_secs(secs: u64) -> SimTime {
        SimTime(secs.saturating_mul(MICROS_PER_SEC))
    }

    /// Rounds to the nearest microsecond; negative and NaN inputs clamp to zero.
    pub fn from_secs_f64(secs: f64) -> SimTime {
        SimTime(SimDuration::from_secs_f64(secs).0)
    }

    /// Whole simulated seconds since the start (the throughput bucket).
    pub fn whole_secs(self) -> u64 {
        self.0 / MICROS_PER_SEC
    }

    /// Time elapsed since `earlier`, zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub fn from_secs(secs: u64) -> SimDuration {
        SimDuration(secs.saturating_mul(MICROS_PER_SEC))
    }

    /// Rounds to the nearest microsecond; negative and NaN inputs clamp to zero,
    /// huge ones saturate.
    pub fn from_secs_f64(secs: f64) -> SimDuration {
        if secs.is_nan() || secs <= 0.0 {
            return SimDuration(0);
        }
        let micros = (secs * MICROS_PER_SEC as f64).round();
        if micros >= u64::MAX as f64 {
            SimDuration(u64::MAX)
        } else {
            SimDuration(micros as u64)
        }
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, rhs: SimDuration) {
        *self = *self + rhs;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, rhs: SimTime) -> SimDuration {
        self.since(rhs)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:06}s",
            self.0 / MICROS_PER_SEC,
            self.0 % MICROS_PER_SEC
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_conversion_rounds_and_clamps() {
        assert_eq!(SimTime::from_secs_f64(1.5), SimTime(1_500_000));
        assert_eq!(SimTime::from_secs_f64(0.000_000_6), SimTime(1));
        assert_eq!(SimTime::from_secs_f64(-3.0), SimTime(0));
        assert_eq!(SimTime::from_secs_f64(f64::NAN), SimTime(0));
        assert_eq!(SimDuration::from_secs_f64(1e300), SimDuration(u64::MAX));
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime::MAX + SimDuration(5), SimTime::MAX);
        assert_eq!(SimTime(3) - SimTime(10), SimDuration::ZERO);
        assert_eq!(SimTime(2_500_000).whole_secs(), 2);
        assert_eq!(SimTime(2_500_001).to_string(), "2.500001s");
    }
}
