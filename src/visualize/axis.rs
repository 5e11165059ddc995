//! Axes: the range a panel shows, where its ticks go and how their labels
//! read. A log axis is drawn as a linear one over log10 of the values (one
//! coordinate type for every panel), with ticks at 1, 2, 5 × 10ⁿ or at the
//! powers of ten; labels are short (`10k`, `1M`, `0.25`), never `10000.0`.

use super::figure::Scale;
use std::ops::Range;

/// Ticks a linear axis aims for.
const LINEAR_TICKS: usize = 6;
/// A log axis spanning more decades than this ticks only powers of ten.
const DENSE_LOG_DECADES: f64 = 2.5;
/// Room left beyond the outermost values of a log axis (a factor), so
/// markers at the ends are not cut by the frame.
const LOG_PAD: f64 = 1.2;

/// One axis as drawn: `scale`, the plotted range and the ticks, all in
/// the values' own units (a log axis converts with [`Axis::to_plot`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub(crate) scale: Scale,
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub ticks: Vec<f64>,
}

impl Axis {
    /// A linear axis over exactly `lo..hi`, ticks at round steps inside.
    pub(crate) fn linear(lo: f64, hi: f64) -> Axis {
        Axis {
            scale: Scale::Linear,
            lo,
            hi,
            ticks: linear_ticks(lo, hi, LINEAR_TICKS),
        }
    }

    /// A linear axis from 0 (or `lo` when negative) up to the tick at or
    /// above `max` plus a little headroom, so the top tick is labelled.
    pub(crate) fn from_zero(lo: f64, max: f64) -> Axis {
        let lo = lo.min(0.0);
        let max = if max > lo { max } else { lo + 1.0 };
        let step = nice_step((max - lo) * 1.05, LINEAR_TICKS);
        let hi = ((max * 1.05) / step).ceil() * step;
        Axis::linear(lo, hi)
    }

    /// A log axis padded around `lo..hi` (both > 0).
    pub(crate) fn log(lo: f64, hi: f64) -> Axis {
        let (lo, hi) = (lo / LOG_PAD, hi * LOG_PAD);
        Axis {
            scale: Scale::Log,
            lo,
            hi,
            ticks: log_ticks(lo, hi),
        }
    }

    /// Where a value sits on the drawn (linear) coordinate.
    pub(crate) fn to_plot(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => v,
            Scale::Log => v.log10(),
        }
    }

    /// The inverse of [`Axis::to_plot`], for tick labels (named as its
    /// pair, though it takes `self` for the scale).
    #[allow(clippy::wrong_self_convention)]
    pub(crate) fn from_plot(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => v,
            Scale::Log => 10f64.powf(v),
        }
    }

    /// The drawn coordinate range.
    pub(crate) fn plot_range(&self) -> Range<f64> {
        self.to_plot(self.lo)..self.to_plot(self.hi)
    }

    /// The ticks on the drawn coordinate.
    pub(crate) fn plot_ticks(&self) -> Vec<f64> {
        self.ticks.iter().map(|&t| self.to_plot(t)).collect()
    }

    /// The ticks' labels, as drawn.
    pub fn labels(&self) -> Vec<String> {
        self.ticks.iter().map(|&t| format_tick(t)).collect()
    }
}

/// A round step (1, 2 or 5 × 10ⁿ) cutting `span` into about `target` parts.
pub(super) fn nice_step(span: f64, target: usize) -> f64 {
    let raw = (span / target.max(1) as f64).abs();
    if raw == 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let f = raw / magnitude;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * magnitude
}

/// Multiples of a round step within `lo..=hi`, each a whole number of
/// steps (no `0.30000000000000004`).
pub(super) fn linear_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let step = nice_step(hi - lo, target);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// 1, 2, 5 × 10ⁿ within `lo..=hi` (`0 < lo < hi`), or only the powers of
/// ten when the range spans many decades.
pub(super) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mantissas: &[f64] = if (hi / lo).log10() <= DENSE_LOG_DECADES {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let (from, to) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mut ticks = Vec::new();
    for e in from..=to {
        for m in mantissas {
            let t = m * 10f64.powi(e);
            if t >= lo * (1.0 - 1e-9) && t <= hi * (1.0 + 1e-9) {
                ticks.push(t);
            }
        }
    }
    ticks
}

/// A tick label: at most three significant digits, thousands as `k`,
/// millions as `M`, billions as `G`, no trailing zeros (`10k`, `2.5k`,
/// `1M`, `0.25`, `0`).
pub fn format_tick(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = scaled.abs();
    let decimals = if s == 0.0 || s >= 100.0 {
        0
    } else {
        (2 - s.log10().floor() as i32).clamp(0, 9) as usize
    };
    let mut text = format!("{scaled:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if text == "-0" {
        text = "0".into();
    }
    text + suffix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_short_and_exact() {
        let labels: Vec<String> = [0.0, 0.25, 0.3, 1.5, 12.0, 100.0, 2500.0, 10_000.0]
            .iter()
            .chain(&[1_000_000.0, 1.0e9, -5.0, 0.0005, 0.1 + 0.2])
            .map(|&v| format_tick(v))
            .collect();
        assert_eq!(
            labels,
            [
                "0", "0.25", "0.3", "1.5", "12", "100", "2.5k", "10k", "1M", "1G", "-5", "0.0005",
                "0.3"
            ]
        );
    }

    #[test]
    fn linear_ticks_are_round_steps_inside_the_range() {
        assert_eq!(linear_ticks(0.0, 10.0, 5), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(
            linear_ticks(0.0, 0.9, 6),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8]
        );
        let t = linear_ticks(3.0, 97.0, 6);
        assert_eq!((t[0], *t.last().unwrap()), (20.0, 80.0));
        let a = Axis::from_zero(0.0, 93.0);
        assert_eq!((a.lo, a.hi), (0.0, 100.0));
        assert_eq!(a.labels().last().unwrap(), "100");
    }

    #[test]
    fn log_axes_tick_decades_or_one_two_five() {
        let workers = Axis::log(5.0, 100.0);
        assert_eq!(workers.ticks, [5.0, 10.0, 20.0, 50.0, 100.0]);
        let full = Axis::log(5.0, 10_000.0);
        assert_eq!(full.labels(), ["10", "100", "1k", "10k"]);
        let tests = Axis::log(100.0, 1_000_000.0);
        assert_eq!(tests.labels(), ["100", "1k", "10k", "100k", "1M"]);
        assert_eq!(tests.to_plot(1000.0), 3.0);
        assert_eq!(
            format_tick(tests.from_plot(tests.to_plot(100_000.0))),
            "100k"
        );
    }
}
