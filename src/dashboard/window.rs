//! A rolling window over simulated time: the facts of the last span, so a
//! rate is a count divided by the time it covers. (The reference divided a
//! 0.2-second count by a 1-second span and showed a fifth of the real rate.)

use std::collections::VecDeque;

use crate::sim::{SimDuration, SimTime};

/// Timestamped values within `span` of the latest time seen, oldest first.
#[derive(Clone, Debug)]
pub(crate) struct TimeWindow {
    span: SimDuration,
    items: VecDeque<(SimTime, f64)>,
}

impl TimeWindow {
    pub(crate) fn new(span: SimDuration) -> TimeWindow {
        TimeWindow {
            span,
            items: VecDeque::new(),
        }
    }

    /// Adds a fact at `at`; facts come in time order.
    pub(crate) fn push(&mut self, at: SimTime, value: f64) {
        debug_assert!(self.items.back().is_none_or(|&(t, _)| t <= at));
        self.items.push_back((at, value));
    }

    /// Forgets facts at or before `now − span`: the window is `(now − span, now]`.
    pub(crate) fn trim(&mut self, now: SimTime) {
        let Some(cut) = now.0.checked_sub(self.span.0) else {
            return;
        };
        while self.items.front().is_some_and(|&(t, _)| t.0 <= cut) {
            self.items.pop_front();
        }
    }

    /// Facts per second over the last `span` (at most the window's) before
    /// `now`. Before `span` has passed since the run started (time 0), the
    /// count is divided by the time that has passed, not by the whole span.
    pub(crate) fn rate(&self, now: SimTime, span: SimDuration) -> f64 {
        let span = span.0.min(self.span.0);
        let covered = span.min(now.0);
        if covered == 0 {
            return 0.0;
        }
        let cut = now.0 - covered;
        let count = self
            .items
            .iter()
            .rev()
            .take_while(|&&(t, _)| t.0 > cut)
            .filter(|&&(t, _)| t <= now)
            .count();
        count as f64 / SimDuration(covered).as_secs_f64()
    }

    /// The values in the window, oldest first.
    pub(crate) fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.items.iter().map(|&(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> SimTime {
        SimTime::from_secs_f64(s)
    }

    /// Completions every 1/r seconds: the window's rate is r, whatever the
    /// span, once the span has passed.
    #[test]
    fn a_steady_rate_reads_back_exactly() {
        let r = 10.0;
        let minute = SimDuration::from_secs(60);
        let mut w = TimeWindow::new(minute);
        for k in 1..=1000u64 {
            w.push(SimTime(k * 100_000), 1.0);
        }
        let now = secs(100.0);
        w.trim(now);
        assert_eq!(w.items.len(), 600);
        assert_eq!(w.rate(now, minute), r);
        assert_eq!(w.rate(now, SimDuration::from_secs(5)), r);
    }

    /// The reference's case: 10 tests over 3 s peaked at a displayed 1.0/s.
    /// Counted over the time that passed, it is 10 / 3.
    #[test]
    fn early_in_a_run_the_rate_divides_by_the_time_passed() {
        let mut w = TimeWindow::new(SimDuration::from_secs(60));
        for k in 1..=10u64 {
            w.push(SimTime(k * 300_000), 1.0);
        }
        let rate = w.rate(secs(3.0), SimDuration::from_secs(60));
        assert!((rate - 10.0 / 3.0).abs() < 1e-12, "{rate}");
    }

    #[test]
    fn the_window_is_half_open_and_forgets_old_facts() {
        let mut w = TimeWindow::new(SimDuration::from_secs(10));
        w.push(secs(5.0), 1.0);
        w.push(secs(15.0), 2.0);
        w.trim(secs(15.0));
        assert_eq!(w.values().collect::<Vec<_>>(), vec![2.0]);
        assert_eq!(w.rate(secs(15.0), SimDuration::from_secs(10)), 0.1);
        w.trim(secs(25.0));
        assert!(w.items.is_empty());
        assert_eq!(w.rate(SimTime::ZERO, SimDuration::from_secs(10)), 0.0);
    }
}
