//! Simulated time: integer microseconds, so event order never depends on float rounding.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Microseconds in one simulated second.
pub(crate) const MICROS_PER_SEC: u64 = 1_000_000;

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
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// Later than any event: "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Seconds as a float, for reports only; never for ordering.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// `secs` whole seconds after the start.
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

/// `x.round() as u64` for `0 <= x < 2^64`, without the library call that
/// `f64::round` is on baseline x86-64 (every event converts a time). Below
/// 2^53 the fraction `x - trunc(x)` is exact; from 2^53 up every double is
/// an integer.
fn round_half_up(x: f64) -> u64 {
    const EXACT_FRACTIONS: f64 = (1u64 << 53) as f64;
    let whole = x as u64;
    if x < EXACT_FRACTIONS {
        whole + u64::from(x - whole as f64 >= 0.5)
    } else {
        whole
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// `secs` whole seconds.
    pub fn from_secs(secs: u64) -> SimDuration {
        SimDuration(secs.saturating_mul(MICROS_PER_SEC))
    }

    /// Rounds to the nearest microsecond; negative and NaN inputs clamp to zero,
    /// huge ones saturate.
    pub fn from_secs_f64(secs: f64) -> SimDuration {
        if secs.is_nan() || secs <= 0.0 {
            return SimDuration(0);
        }
        let micros = secs * MICROS_PER_SEC as f64;
        if micros >= u64::MAX as f64 {
            SimDuration(u64::MAX)
        } else {
            SimDuration(round_half_up(micros))
        }
    }

    /// In seconds, for reports (outputs round it).
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
    fn round_half_up_is_f64_round() {
        let two53 = (1u64 << 53) as f64;
        let mut cases = vec![
            0.0,
            0.5,
            1.5,
            2.5,
            0.499_999_999_999_999_94,
            1e-300,
            4_503_599_627_370_495.5, // 2^52 - 0.5
            4_503_599_627_370_496.5,
            two53 - 1.0,
            two53,
            two53 + 2.0,
            1e19,
            (u64::MAX as f64) / 2.0,
        ];
        let mut rng = crate::sim::RngStreams::new(3).stream(crate::sim::Stream::Custom(1));
        for _ in 0..100_000 {
            let scale = [1.0, 1e3, 1e6, 1e9, 1e12, 1e15, 1e18][rng.below(7) as usize];
            cases.push(rng.unit() * scale);
            let whole = rng.below(1 << 40) as f64;
            cases.push(whole + 0.5);
            cases.push(whole + 0.5 - f64::EPSILON * whole.max(1.0));
        }
        for x in cases {
            assert_eq!(round_half_up(x), x.round() as u64, "{x:e}");
        }
    }

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
