//! Spike timelines: windows in which the arrival rate is multiplied, with
//! optional linear ramps (a ramp of 0 is a flash crowd). The timeline warps
//! time: arrivals are laid out on a base process and then mapped through the
//! cumulative intensity, so a spike packs more of the same tests into its
//! window without changing how many tests a run submits.

use super::Arrivals;
use crate::error::Result;
use crate::scenario::check::FieldPath;
use serde::Serialize;

impl Arrivals {
    /// `self` under a spike timeline (`self` again when there is none).
    pub(crate) fn with_spikes(self, spikes: Vec<Spike>) -> Arrivals {
        if spikes.is_empty() {
            return self;
        }
        Arrivals::Spiky {
            base: Box::new(self),
            spikes,
        }
    }
}

/// The rules of a spiky pattern: a plain base, sound windows, and some
/// arrival rate left in the submission window (`duration_s`). The base's
/// fields are named as in a config file: `arrivals.rate`, not
/// `arrivals.base.rate`.
pub(super) fn check(
    base: &Arrivals,
    spikes: &[Spike],
    path: &FieldPath,
    duration_s: f64,
) -> Result<()> {
    if matches!(base, Arrivals::Spiky { .. }) {
        return Err(path.error("spikes cannot be nested"));
    }
    base.check(path, duration_s)?;
    // The rate profile costs spikes² to lay out.
    if spikes.len() > MAX_SPIKES {
        return Err(path
            .field("spikes")
            .error(format!("{} spikes, more than {MAX_SPIKES}", spikes.len())));
    }
    for (i, s) in spikes.iter().enumerate() {
        s.check(&path.field("spikes").index(i))?;
    }
    if RateProfile::new(spikes).cumulative(duration_s) <= 0.0 {
        return Err(path
            .field("spikes")
            .error("leave no arrival rate at all in the submission window"));
    }
    Ok(())
}

/// Most spikes one pattern may have (the profile is quadratic in them).
pub(super) const MAX_SPIKES: usize = 1000;

/// One window of changed load.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Spike {
    /// When the rate starts to change, seconds.
    pub start_s: f64,
    /// How long the window lasts, ramps included, seconds.
    pub length_s: f64,
    /// The rate multiplier at the top (1 = no change, 0 = a lull).
    pub multiplier: f64,
    /// Seconds to ramp up at the start and down at the end (0 = a step).
    pub ramp_s: f64,
}

impl Spike {
    /// When the window ends (ramp down included), seconds.
    pub fn end_s(&self) -> f64 {
        self.start_s + self.length_s
    }

    /// This spike's factor at `t` (1 outside the window).
    fn factor(&self, t: f64) -> f64 {
        let (s, e) = (self.start_s, self.end_s());
        if t < s || t >= e {
            return 1.0;
        }
        let up = if self.ramp_s > 0.0 {
            ((t - s) / self.ramp_s).min(1.0)
        } else {
            1.0
        };
        let down = if self.ramp_s > 0.0 {
            ((e - t) / self.ramp_s).min(1.0)
        } else {
            1.0
        };
        1.0 + (self.multiplier - 1.0) * up.min(down)
    }

    /// The window's rules; `path` names the spike (`arrivals.spikes[0]`).
    pub(crate) fn check(&self, path: &FieldPath) -> Result<()> {
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        if !ok(self.start_s) {
            return Err(path.field("start").error("must be >= 0"));
        }
        if !(self.length_s.is_finite() && self.length_s > 0.0) {
            return Err(path.field("length").error("must be > 0"));
        }
        if !ok(self.multiplier) {
            return Err(path
                .field("multiplier")
                .error("must be a finite number >= 0"));
        }
        if !(ok(self.ramp_s) && 2.0 * self.ramp_s <= self.length_s) {
            return Err(path
                .field("ramp")
                .error("must be >= 0 and at most half the length"));
        }
        Ok(())
    }
}

/// A piece of the intensity: linear on `[t0, t1)`.
#[derive(Clone, Copy, Debug)]
struct Segment {
    t0: f64,
    t1: f64,
    /// Intensity at `t0` (from the right) and its slope.
    a: f64,
    b: f64,
    /// Cumulative intensity at `t0`.
    cum0: f64,
}

/// The rate multiplier m(t) = 1 + Σ (spikeᵢ(t) − 1), its integral Λ(t) and
/// the inverse of Λ. m is piecewise linear, so both are exact per piece.
#[derive(Clone, Debug)]
pub struct RateProfile {
    segments: Vec<Segment>,
}

impl RateProfile {
    /// The profile of `spikes` together (overlapping windows add up).
    pub fn new(spikes: &[Spike]) -> RateProfile {
        let mut cuts: Vec<f64> = vec![0.0];
        for s in spikes {
            cuts.extend([
                s.start_s,
                s.start_s + s.ramp_s,
                s.end_s() - s.ramp_s,
                s.end_s(),
            ]);
        }
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        let m = |t: f64| 1.0 + spikes.iter().map(|s| s.factor(t) - 1.0).sum::<f64>();
        let mut segments = Vec::with_capacity(cuts.len());
        let mut cum = 0.0;
        for w in cuts.windows(2) {
            let (t0, t1) = (w[0], w[1]);
            // m is linear inside the piece: read it at two interior points.
            let (q1, q3) = (t0 + (t1 - t0) / 4.0, t0 + 3.0 * (t1 - t0) / 4.0);
            let b = (m(q3) - m(q1)) / (q3 - q1);
            let a = (m(q1) - b * (q1 - t0)).max(0.0);
            segments.push(Segment {
                t0,
                t1,
                a,
                b,
                cum0: cum,
            });
            cum += a * (t1 - t0) + b * (t1 - t0) * (t1 - t0) / 2.0;
        }
        let last = *cuts.last().unwrap_or(&0.0);
        segments.push(Segment {
            t0: last,
            t1: f64::INFINITY,
            a: 1.0,
            b: 0.0,
            cum0: cum,
        });
        RateProfile { segments }
    }

    /// The multiplier at `t`.
    pub fn multiplier(&self, t: f64) -> f64 {
        let s = self.segment_at(t);
        s.a + s.b * (t - s.t0)
    }

    fn segment_at(&self, t: f64) -> &Segment {
        let i = self.segments.partition_point(|s| s.t1 <= t);
        &self.segments[i.min(self.segments.len() - 1)]
    }

    /// Λ(t) = ∫₀ᵗ m.
    pub fn cumulative(&self, t: f64) -> f64 {
        let s = self.segment_at(t);
        let d = t - s.t0;
        s.cum0 + s.a * d + s.b * d * d / 2.0
    }

    /// The first `t` with Λ(t) = y (y ≥ 0).
    pub fn inverse(&self, y: f64) -> f64 {
        // The last piece with cum0 <= y that has positive mass up to y.
        let i = self.segments.partition_point(|s| s.cum0 <= y).max(1) - 1;
        let s = &self.segments[i];
        let r = y - s.cum0;
        if r <= 0.0 {
            return s.t0;
        }
        // Solve a·d + b·d²/2 = r in the form that is stable for b → 0.
        let disc = (s.a * s.a + 2.0 * s.b * r).max(0.0);
        let d = 2.0 * r / (s.a + disc.sqrt());
        (s.t0 + d).min(s.t1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spike(start: f64, length: f64, m: f64, ramp: f64) -> Spike {
        Spike {
            start_s: start,
            length_s: length,
            multiplier: m,
            ramp_s: ramp,
        }
    }

    #[test]
    fn no_spike_is_the_identity() {
        let p = RateProfile::new(&[]);
        assert_eq!(p.cumulative(12.5), 12.5);
        assert_eq!(p.inverse(7.25), 7.25);
    }

    #[test]
    fn a_step_spike_packs_time() {
        // Rate ×4 on [10, 20): Λ(20) = 10 + 40 = 50.
        let p = RateProfile::new(&[spike(10.0, 10.0, 4.0, 0.0)]);
        assert_eq!(p.multiplier(15.0), 4.0);
        assert_eq!(p.multiplier(25.0), 1.0);
        assert!((p.cumulative(20.0) - 50.0).abs() < 1e-9);
        assert!((p.inverse(30.0) - 15.0).abs() < 1e-9);
        assert!((p.inverse(60.0) - 30.0).abs() < 1e-9);
    }

    #[test]
    fn ramps_are_linear_and_inverse_round_trips() {
        let p = RateProfile::new(&[spike(10.0, 20.0, 5.0, 5.0), spike(25.0, 10.0, 0.0, 0.0)]);
        assert!((p.multiplier(12.5) - 3.0).abs() < 1e-9);
        for i in 0..400 {
            let t = f64::from(i) * 0.1;
            let y = p.cumulative(t);
            let back = p.inverse(y);
            // Where m = 0 several t share one Λ; the inverse gives the first.
            assert!((p.cumulative(back) - y).abs() < 1e-9, "t {t}");
        }
    }

    #[test]
    fn validation_names_the_field() {
        let p = FieldPath::root().field("arrivals").field("spikes").index(0);
        let err = spike(1.0, 4.0, 2.0, 3.0).check(&p).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid arrivals.spikes[0].ramp: must be >= 0 and at most half the length"
        );
        let err = spike(1.0, 0.0, 2.0, 0.0).check(&p).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid arrivals.spikes[0].length: must be > 0"
        );
    }

    #[test]
    fn a_spiky_pattern_needs_a_plain_base_and_some_rate_left() {
        let p = FieldPath::root().field("arrivals");
        let spiky = Arrivals::Even.with_spikes(vec![spike(1.0, 2.0, 3.0, 0.0)]);
        spiky.check(&p, 60.0).unwrap();
        let nested = Arrivals::Spiky {
            base: Box::new(spiky),
            spikes: vec![],
        };
        let e = nested.check(&p, 60.0).unwrap_err().to_string();
        assert_eq!(e, "invalid arrivals: spikes cannot be nested");
        let lull = Arrivals::Bursts.with_spikes(vec![spike(0.0, 100.0, 0.0, 0.0)]);
        let e = lull.check(&p, 60.0).unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid arrivals.spikes: leave no arrival rate at all in the submission window"
        );
        assert_eq!(Arrivals::Even.with_spikes(vec![]), Arrivals::Even);
    }
}
