//! A chart's data: values in fixed-width time buckets, the latest few
//! hundred kept, so a chart scrolls over a rolling window.

use std::collections::VecDeque;

/// What a bucket shows. Rates and means leave out the bucket in progress
/// (a partial count would read as a drop, and two charts over the same
/// buckets stay aligned); a gauge's latest reading is complete and shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SeriesKind {
    /// Facts per second: the bucket's count over its width.
    Rate,
    /// The mean of the values that fell in the bucket.
    Mean,
    /// The last reading `set` in the bucket.
    Gauge,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Bucket {
    count: u64,
    sum: f64,
}

/// Buckets `[i·width, (i+1)·width)` seconds, the last `capacity` of them.
#[derive(Clone, Debug)]
pub struct Series {
    kind: SeriesKind,
    bucket_s: f64,
    capacity: usize,
    /// Index of `buckets[0]`.
    first: u64,
    buckets: VecDeque<Bucket>,
}

impl Series {
    pub(crate) fn new(kind: SeriesKind, bucket_s: f64, capacity: usize) -> Series {
        debug_assert!(bucket_s > 0.0 && capacity > 0);
        Series {
            kind,
            bucket_s,
            capacity,
            first: 0,
            buckets: VecDeque::new(),
        }
    }

    pub(crate) fn bucket_s(&self) -> f64 {
        self.bucket_s
    }

    fn index(&self, t_s: f64) -> u64 {
        (t_s.max(0.0) / self.bucket_s).floor() as u64
    }

    /// Time passes to `t_s`: the buckets up to the one holding it exist
    /// (empty ones too, so a quiet spell reads as zero).
    pub(crate) fn advance(&mut self, t_s: f64) {
        let index = self.index(t_s);
        if self.buckets.is_empty() {
            self.first = index;
        }
        while self.first + (self.buckets.len() as u64) <= index {
            self.buckets.push_back(Bucket::default());
        }
        while self.buckets.len() > self.capacity {
            self.buckets.pop_front();
            self.first += 1;
        }
    }

    /// Adds one fact with `value` at `t_s` (for a rate, the value is not used).
    pub(crate) fn add(&mut self, t_s: f64, value: f64) {
        if let Some(b) = self.bucket_mut(t_s) {
            b.count += 1;
            b.sum += value;
        }
    }

    /// Sets a gauge reading at `t_s`; a later reading in the same bucket wins.
    pub(crate) fn set(&mut self, t_s: f64, value: f64) {
        if let Some(b) = self.bucket_mut(t_s) {
            *b = Bucket {
                count: 1,
                sum: value,
            };
        }
    }

    fn bucket_mut(&mut self, t_s: f64) -> Option<&mut Bucket> {
        self.advance(t_s);
        let index = self.index(t_s);
        let at = index.checked_sub(self.first)?;
        self.buckets.get_mut(at as usize)
    }

    /// Forgets every bucket (the source restarted).
    pub(crate) fn clear(&mut self) {
        self.buckets.clear();
        self.first = 0;
    }

    /// The values to draw, oldest first, each with its bucket's start time;
    /// `None` where a mean has no data.
    pub(crate) fn points(&self) -> Vec<(f64, Option<f64>)> {
        let shown = match self.kind {
            SeriesKind::Rate | SeriesKind::Mean => self.buckets.len().saturating_sub(1),
            SeriesKind::Gauge => self.buckets.len(),
        };
        self.buckets
            .iter()
            .take(shown)
            .enumerate()
            .map(|(i, b)| {
                let start = (self.first + i as u64) as f64 * self.bucket_s;
                let value = match self.kind {
                    SeriesKind::Rate => Some(b.count as f64 / self.bucket_s),
                    SeriesKind::Mean | SeriesKind::Gauge => {
                        (b.count > 0).then(|| b.sum / b.count as f64)
                    }
                };
                (start, value)
            })
            .collect()
    }
}

/// A bucket width that gives about `columns` buckets over `span_s`, rounded
/// up to a readable step (0.1 s … 1 h).
pub(crate) fn bucket_width(span_s: f64, columns: u32) -> f64 {
    const STEPS: [f64; 15] = [
        0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
    ];
    let want = span_s / f64::from(columns.max(1));
    STEPS
        .iter()
        .copied()
        .find(|&s| s >= want)
        .unwrap_or(STEPS[STEPS.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_bucket_is_its_count_over_its_width_and_the_open_one_is_hidden() {
        let mut s = Series::new(SeriesKind::Rate, 2.0, 100);
        for t in [0.5, 1.0, 1.5, 2.5, 5.0] {
            s.add(t, 1.0);
        }
        // Buckets [0,2) 3 facts, [2,4) 1, [4,6) open.
        assert_eq!(s.points(), vec![(0.0, Some(1.5)), (2.0, Some(0.5))]);
    }

    #[test]
    fn a_gauge_bucket_without_data_is_absent_and_the_open_one_shows() {
        let mut s = Series::new(SeriesKind::Gauge, 1.0, 100);
        s.add(0.2, 2.0);
        s.add(0.4, 4.0);
        s.advance(2.5);
        s.set(2.6, 7.0);
        s.set(2.9, 8.0);
        assert_eq!(
            s.points(),
            vec![(0.0, Some(3.0)), (1.0, None), (2.0, Some(8.0))]
        );
    }

    #[test]
    fn only_the_latest_buckets_are_kept() {
        let mut s = Series::new(SeriesKind::Gauge, 1.0, 3);
        s.set(10.0, 1.0);
        s.set(11.0, 2.0);
        s.set(12.0, 3.0);
        s.set(13.0, 4.0);
        let starts: Vec<f64> = s.points().iter().map(|p| p.0).collect();
        assert_eq!(starts, vec![11.0, 12.0, 13.0]);
        // A fact older than the window is dropped, not misplaced.
        s.add(1.0, 9.0);
        assert_eq!(s.points()[0], (11.0, Some(2.0)));
    }

    #[test]
    fn a_mean_hides_its_open_bucket_like_a_rate() {
        let mut s = Series::new(SeriesKind::Mean, 1.0, 100);
        s.add(0.5, 2.0);
        s.add(1.5, 4.0);
        assert_eq!(s.points(), vec![(0.0, Some(2.0))]);
    }

    #[test]
    fn bucket_widths_are_readable_steps() {
        assert_eq!(bucket_width(20.0, 100), 0.2);
        assert_eq!(bucket_width(600.0, 100), 10.0);
        assert_eq!(bucket_width(1e9, 100), 3600.0);
    }
}
