//! Background load as workers report it (`"load": {"view": "reported"}`).
//!
//! The reference redraws every worker's background load in every pool cycle
//! (each with the update probability), and the balancer sees each redraw at
//! once. That costs workers × cycles: at 100,000 workers an hour of it is
//! 600 million visits and 180 million index updates, whatever the tests do.
//!
//! Here each worker's drift and thermal phases follow the same law, on the
//! same pool cycles, but nothing is drawn until it is asked for: when a
//! worker reports on its heartbeat (paced as `lbsim serve` paces them, so
//! the fleet sends at most 500 reports a second), or when a run starts on it
//! (a run feels the real condition). Every draw is a counter-based hash of
//! (run key, worker, cycle or phase number), so a worker's condition at a
//! time is fixed by the seed, whichever policy asks and in whatever order
//! (common random numbers), and asking costs little however long the worker
//! was silent. The balancer ranks workers on what they last reported.
//!
//! The law, per worker, from the cycle after it joined:
//! - each cycle is a redraw with the update probability `p`;
//! - at a redraw of a worker in its normal thermal state, warming starts with
//!   the thermal probability `t`, else cooling with `t` again (`q = t + (1 −
//!   t)·t` in all); a phase ends `warming`/`cooling` seconds later, and the
//!   first cycle at or after its end finds the worker normal again.
//!
//! Walked as it alternates: a normal stretch, whose cycles start a phase
//! with probability `p·q` (found by a geometric gap, not cycle by cycle) and
//! are otherwise redraws with probability `p(1 − q)/(1 − p·q)`; then a phase,
//! whose cycles are redraws with probability `p` (a phase cannot start in
//! it). A report walks the phases since the last one (about three in 200 s)
//! and then back from now to the last redraw (a few cycles); both are exactly
//! the reference's Bernoulli draws, reorganised.

use super::drift::drift_from;
use crate::balancer::model::{LoadDrift, Thermal, WorkerId};
use crate::scenario::{LoadModel, ReportPace};
use crate::sim::{SimDuration, SimTime};

/// One worker's process as far as it was last evaluated.
#[derive(Clone, Debug)]
struct Progress {
    /// Cycles up to this one are reflected in `drift`, `thermal` and below.
    seen: u64,
    drift: LoadDrift,
    /// The phase of the last window (kept after it ended, until the walk
    /// finds the cycle that ends it), or normal.
    thermal: Thermal,
    /// The cycle that started the last phase window (0: none yet), and the
    /// first cycle after it (`u64::MAX` while no cycle has ended it).
    window_start: u64,
    window_end: u64,
    /// In a normal stretch: the cycle that starts the next phase.
    next_start: u64,
    /// Phases started so far (numbers each one's draws).
    phases: u64,
}

/// Every worker's drift and thermal process, evaluated on demand.
#[derive(Clone, Debug)]
pub(super) struct ReportedLoad {
    key: u64,
    /// `ln(1 − p·q)`: the geometric gaps between triggers (`0`: none).
    ln_no_trigger: f64,
    /// Probability that a normal cycle that starts no phase is a redraw.
    plain: f64,
    /// The update probability: a cycle inside a phase is a redraw with it.
    update: f64,
    /// Probability that a trigger is warming rather than cooling.
    warming_share: f64,
    warming: SimDuration,
    cooling: SimDuration,
    /// The pool cycles so far, in order; cycle `k` (from 1) is `cycles[k − 1]`.
    cycles: Vec<SimTime>,
    workers: Vec<Option<Progress>>,
    /// Heartbeats: their pace, the reports owed (fractional) and the worker
    /// whose turn is next (workers report in id order, round and round).
    pace: ReportPace,
    owed: f64,
    next_reporter: usize,
}

/// What each hash draws; the tag keeps the draws of one worker apart.
#[derive(Clone, Copy)]
enum Draw {
    TriggerGap = 0,
    TriggerKind = 1,
    Redraw = 2,
    /// The five drift components, `Drift + j` for component `j`.
    Drift = 3,
}

/// SplitMix64's finaliser: a bijection of 64 bits that mixes every input
/// bit into every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

impl ReportedLoad {
    pub(super) fn new(load: &LoadModel, key: u64) -> Self {
        let (p, t) = (load.update_probability, load.thermal_probability);
        let q = t + (1.0 - t) * t;
        let pq = p * q;
        ReportedLoad {
            key,
            ln_no_trigger: if pq > 0.0 { libm::log(1.0 - pq) } else { 0.0 },
            plain: if pq < 1.0 {
                p * (1.0 - q) / (1.0 - pq)
            } else {
                0.0
            },
            update: p,
            warming_share: if q > 0.0 { t / q } else { 0.0 },
            warming: SimDuration::from_secs_f64(load.warming_s),
            cooling: SimDuration::from_secs_f64(load.cooling_s),
            cycles: Vec::new(),
            workers: Vec::new(),
            pace: load.reports.unwrap_or_default(),
            owed: 0.0,
            next_reporter: 0,
        }
    }

    /// A pool cycle happened at `now` (cycles come in time order); returns
    /// how many heartbeats fell due since the last one, at the pace for
    /// `active` workers.
    pub(super) fn cycle(&mut self, now: SimTime, active: usize) -> usize {
        let since = now - self.cycles.last().copied().unwrap_or(SimTime::ZERO);
        self.cycles.push(now);
        self.owed += self.pace.fleet_rate(active) * since.as_secs_f64();
        let due = libm::floor(self.owed);
        self.owed -= due;
        (due as usize).min(active)
    }

    /// The next worker in heartbeat order among `workers` registered.
    pub(super) fn next_reporter(&mut self, workers: usize) -> WorkerId {
        if self.next_reporter >= workers {
            self.next_reporter = 0;
        }
        let id = WorkerId(self.next_reporter as u32);
        self.next_reporter += 1;
        id
    }

    /// Uniform in `[0, 1)` for one draw of one worker.
    fn unit(&self, worker: WorkerId, draw: u64, n: u64) -> f64 {
        let who = (u64::from(worker.0) << 3 | draw).wrapping_add(1);
        let h = mix(self.key.wrapping_add(GOLDEN.wrapping_mul(who)));
        let h = mix(h.wrapping_add(GOLDEN.wrapping_mul(n.wrapping_add(1))));
        (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Cycles from one trigger to the next: geometric on 1, 2, …
    fn trigger_gap(&self, worker: WorkerId, n: u64) -> u64 {
        if self.ln_no_trigger == 0.0 {
            return u64::MAX / 2;
        }
        if self.ln_no_trigger == f64::NEG_INFINITY {
            return 1;
        }
        let u = 1.0 - self.unit(worker, Draw::TriggerGap as u64, n);
        // Non-negative, so the saturating cast is the floor.
        1 + (libm::log(u) / self.ln_no_trigger).min((u64::MAX / 4) as f64) as u64
    }

    fn drift_at(&self, worker: WorkerId, cycle: u64) -> LoadDrift {
        let mut j = 0;
        drift_from(|low, high| {
            let u = self.unit(worker, Draw::Drift as u64 + j, cycle);
            j += 1;
            low + (high - low) * u
        })
    }

    /// The worker's drift and thermal phase at `now`, for a worker that
    /// joined at `joined_at` (it is redrawn from the next cycle on).
    pub(super) fn at(
        &mut self,
        worker: WorkerId,
        joined_at: SimTime,
        now: SimTime,
    ) -> (LoadDrift, Thermal) {
        let slot = worker.0 as usize;
        if self.workers.len() <= slot {
            self.workers.resize(slot + 1, None);
        }
        let mut p = match self.workers[slot].take() {
            Some(p) => p,
            None => self.start(worker, joined_at),
        };
        // In a run every cycle so far is at or before now; tests ask earlier.
        let current = match self.cycles.last() {
            Some(&last) if last > now => self.cycles.partition_point(|&c| c <= now),
            _ => self.cycles.len(),
        } as u64;
        if current > p.seen {
            self.walk_phases(worker, &mut p, current);
            self.walk_back(worker, &mut p, current);
        }
        let thermal = match p.thermal.until() {
            Some(until) if until <= now => Thermal::Normal,
            _ => p.thermal,
        };
        let out = (p.drift, thermal);
        self.workers[slot] = Some(p);
        out
    }

    fn start(&self, worker: WorkerId, joined_at: SimTime) -> Progress {
        let joined = self.cycles.partition_point(|&c| c <= joined_at) as u64;
        Progress {
            seen: joined,
            drift: LoadDrift::default(),
            thermal: Thermal::Normal,
            window_start: 0,
            window_end: 0,
            next_start: joined.saturating_add(self.trigger_gap(worker, 0)),
            phases: 0,
        }
    }

    /// The first cycle at or after `until`, searched from cycle `from`;
    /// `None` while no cycle has reached it.
    fn first_cycle_from(&self, from: u64, until: SimTime) -> Option<u64> {
        let rest = &self.cycles[from as usize..];
        let i = rest.partition_point(|&c| c < until);
        (i < rest.len()).then_some(from + i as u64 + 1)
    }

    /// Phases and normal stretches from `p.seen` up to cycle `current`.
    fn walk_phases(&self, worker: WorkerId, p: &mut Progress, current: u64) {
        loop {
            if let Some(until) = p.thermal.until() {
                // The window runs until the first cycle at or after its end.
                match self.first_cycle_from(p.window_start, until) {
                    Some(end) if end <= current => {
                        p.thermal = Thermal::Normal;
                        p.window_end = end;
                        p.next_start = (end - 1).saturating_add(self.trigger_gap(worker, p.phases));
                    }
                    _ => return,
                }
            }
            if p.next_start > current {
                return;
            }
            let start = p.next_start;
            let at = self.cycles[(start - 1) as usize];
            let kind = self.unit(worker, Draw::TriggerKind as u64, p.phases);
            p.thermal = if kind < self.warming_share {
                Thermal::Warming {
                    until: at + self.warming,
                }
            } else {
                Thermal::Cooling {
                    until: at + self.cooling,
                }
            };
            p.window_start = start;
            p.window_end = u64::MAX;
            p.phases += 1;
        }
    }

    /// The drift of the last redraw at or before `current`, walked back no
    /// further than the cycles already seen: inside the last phase window
    /// each cycle is a redraw with `p` and its first cycle always is one;
    /// outside it, with the normal stretch's `plain`.
    fn walk_back(&self, worker: WorkerId, p: &mut Progress, current: u64) {
        let floor = p.seen.max(p.window_start.saturating_sub(1));
        for k in (floor + 1..=current).rev() {
            let inside = p.window_start > 0 && k >= p.window_start && k < p.window_end;
            let redraw = k == p.window_start || {
                let threshold = if inside { self.update } else { self.plain };
                self.unit(worker, Draw::Redraw as u64, k) < threshold
            };
            if redraw {
                p.drift = self.drift_at(worker, k);
                break;
            }
        }
        p.seen = current;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(p: f64, t: f64) -> LoadModel {
        LoadModel {
            update_probability: p,
            thermal_probability: t,
            ..LoadModel::default()
        }
    }

    /// Cycles every 0.6 s for `n` cycles.
    fn with_cycles(load: &LoadModel, n: u64) -> ReportedLoad {
        let mut r = ReportedLoad::new(load, 0x5eed);
        for k in 1..=n {
            r.cycle(SimTime::from_secs_f64(0.6 * k as f64), 0);
        }
        r
    }

    /// One cycle of a worker, as the law reads it.
    struct Step {
        redraw: bool,
        /// Normal before this cycle (so it could start a phase).
        normal: bool,
        started: Option<Thermal>,
        drift: LoadDrift,
        thermal: Thermal,
    }

    /// The same process walked cycle by cycle, each cycle asked in turn (a
    /// worker that joined at 0): what `at` must agree with.
    fn naive_steps(r: &ReportedLoad, worker: WorkerId, upto: u64) -> Vec<Step> {
        let mut next_start = r.trigger_gap(worker, 0);
        let mut phases = 0;
        let (mut drift, mut thermal) = (LoadDrift::default(), Thermal::Normal);
        let mut out = Vec::new();
        for k in 1..=upto {
            let at = r.cycles[(k - 1) as usize];
            if thermal.until().is_some_and(|u| u <= at) {
                thermal = Thermal::Normal;
                next_start = k - 1 + r.trigger_gap(worker, phases);
            }
            let normal = thermal == Thermal::Normal;
            let mut started = None;
            let redraw = if normal && k == next_start {
                let warm = r.unit(worker, Draw::TriggerKind as u64, phases) < r.warming_share;
                thermal = if warm {
                    Thermal::Warming {
                        until: at + r.warming,
                    }
                } else {
                    Thermal::Cooling {
                        until: at + r.cooling,
                    }
                };
                started = Some(thermal);
                phases += 1;
                true
            } else {
                let threshold = if normal { r.plain } else { r.update };
                r.unit(worker, Draw::Redraw as u64, k) < threshold
            };
            if redraw {
                drift = r.drift_at(worker, k);
            }
            out.push(Step {
                redraw,
                normal,
                started,
                drift,
                thermal,
            });
        }
        out
    }

    fn naive(r: &ReportedLoad, worker: WorkerId, now: SimTime) -> (LoadDrift, Thermal) {
        let upto = r.cycles.partition_point(|&c| c <= now) as u64;
        let last = naive_steps(r, worker, upto).pop();
        let (drift, thermal) = last.map_or((LoadDrift::default(), Thermal::Normal), |s| {
            (s.drift, s.thermal)
        });
        match thermal.until() {
            Some(u) if u <= now => (drift, Thermal::Normal),
            _ => (drift, thermal),
        }
    }

    #[test]
    fn reports_agree_with_a_cycle_by_cycle_walk_in_any_order() {
        let load = model(0.3, 0.05);
        let mut r = with_cycles(&load, 3_000);
        let check = with_cycles(&load, 3_000);
        // Ask 40 workers at scattered, sometimes repeated, times.
        let mut asks = Vec::new();
        for w in 0..40u32 {
            for i in 0..25u64 {
                let s = (i * 7_919 + u64::from(w) * 104_729) % 1_900;
                asks.push((WorkerId(w), s as f64));
            }
        }
        asks.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut thermal_seen = 0;
        for (w, s) in asks {
            let now = SimTime::from_secs_f64(s);
            let got = r.at(w, SimTime::ZERO, now);
            assert_eq!(got, naive(&check, w, now), "worker {w} at {s} s");
            thermal_seen += usize::from(got.1 != Thermal::Normal);
        }
        assert!(thermal_seen > 50, "thermal phases seen {thermal_seen}");
    }

    #[test]
    fn a_report_does_not_depend_on_what_was_asked_before() {
        let load = model(0.3, 0.05);
        let mut often = with_cycles(&load, 2_000);
        let mut once = with_cycles(&load, 2_000);
        let w = WorkerId(3);
        for s in 0..1_000 {
            often.at(w, SimTime::ZERO, SimTime::from_secs_f64(f64::from(s)));
        }
        let end = SimTime::from_secs_f64(1_000.0);
        assert_eq!(
            often.at(w, SimTime::ZERO, end),
            once.at(w, SimTime::ZERO, end)
        );
    }

    #[test]
    fn a_joiner_is_unloaded_until_the_cycle_after_it_joined() {
        let mut r = with_cycles(&model(1.0, 0.0), 10);
        let joined = SimTime::from_secs_f64(3.0); // cycle 5 is at 3.0 s
        let w = WorkerId(9);
        assert_eq!(r.at(w, joined, joined).0, LoadDrift::default());
        assert_ne!(
            r.at(w, joined, SimTime::from_secs_f64(3.6)).0,
            LoadDrift::default()
        );
    }

    /// The redraw rate, the phases' shares and the drift's ranges are the
    /// reference's: counted over 2,000 workers × 2,000 cycles by the walk.
    #[test]
    fn the_law_is_the_references() {
        let (p, t) = (0.3, 0.05);
        let r = with_cycles(&model(p, t), 2_000);
        let (mut redraws, mut normal_redraws, mut starts, mut warming) = (0u64, 0u64, 0u64, 0u64);
        let mut cpu_sum = 0.0;
        for w in 0..2_000u32 {
            for step in naive_steps(&r, WorkerId(w), 2_000) {
                if !step.redraw {
                    continue;
                }
                redraws += 1;
                normal_redraws += u64::from(step.normal);
                if let Some(phase) = step.started {
                    starts += 1;
                    warming += u64::from(matches!(phase, Thermal::Warming { .. }));
                }
                let d = step.drift;
                assert!((0.0..0.2).contains(&d.cpu) && (0.1..0.6).contains(&d.network));
                cpu_sum += d.cpu;
            }
        }
        let cycles = 4_000_000.0;
        // Five standard deviations of each count.
        let near = |got: u64, share: f64, of: f64| {
            let sd = (of * share * (1.0 - share)).sqrt();
            (got as f64 - of * share).abs() < 5.0 * sd
        };
        assert!(near(redraws, p, cycles), "redraws {redraws}");
        let q = t + (1.0 - t) * t;
        assert!(
            near(starts, q, normal_redraws as f64),
            "starts {starts} of {normal_redraws}"
        );
        assert!(near(warming, t / q, starts as f64), "warming {warming}");
        let mean = cpu_sum / redraws as f64;
        assert!((mean - 0.1).abs() < 0.001, "cpu mean {mean}");
    }

    /// The share of workers warming and cooling at each cycle, over cycles
    /// 500 to 3,000 of 2,000 workers, by the reference's own rule (its
    /// sequential stream, `Pool::drift`'s order of draws) and by reports.
    /// Phases span 50 and 100 cycles, so this checks the phases' law, not
    /// only the redraws': the shares are about 0.23 and 0.44.
    #[test]
    fn thermal_shares_match_the_references_rule() {
        use crate::sim::{RngStreams, Stream};
        let load = model(0.3, 0.05);
        let (workers, cycles, burn_in) = (2_000u32, 3_000u64, 500u64);
        let mut r = with_cycles(&load, cycles);
        let mut rng = RngStreams::new(3).stream(Stream::Custom(8));
        let mut reference = vec![Thermal::Normal; workers as usize];
        let (mut by_rule, mut by_report) = ([0u64; 2], [0u64; 2]);
        let count = |t: Thermal, into: &mut [u64; 2]| match t {
            Thermal::Warming { .. } => into[0] += 1,
            Thermal::Cooling { .. } => into[1] += 1,
            Thermal::Normal => {}
        };
        for k in 1..=cycles {
            let now = r.cycles[(k - 1) as usize];
            for phase in reference.iter_mut() {
                if phase.until().is_some_and(|u| u <= now) {
                    *phase = Thermal::Normal;
                }
                if !rng.chance(load.update_probability) {
                    continue;
                }
                drift_from(|low, high| rng.uniform(low, high));
                if *phase != Thermal::Normal {
                    continue;
                }
                if rng.chance(load.thermal_probability) {
                    *phase = Thermal::Warming {
                        until: now + r.warming,
                    };
                } else if rng.chance(load.thermal_probability) {
                    *phase = Thermal::Cooling {
                        until: now + r.cooling,
                    };
                }
            }
            if k > burn_in {
                for (w, &phase) in reference.iter().enumerate() {
                    count(phase, &mut by_rule);
                    count(
                        r.at(WorkerId(w as u32), SimTime::ZERO, now).1,
                        &mut by_report,
                    );
                }
            }
        }
        let samples = f64::from(workers) * (cycles - burn_in) as f64;
        for i in 0..2 {
            let (a, b) = (by_rule[i] as f64 / samples, by_report[i] as f64 / samples);
            assert!(
                (a - b).abs() < 0.015,
                "phase {i}: rule {a:.4}, reports {b:.4}"
            );
        }
        let warming = by_rule[0] as f64 / samples;
        assert!((0.2..0.27).contains(&warming), "warming share {warming}");
    }

    /// Heartbeats follow the service's pace: every 5 s per worker while the
    /// fleet sends under 500 a second, else 500 a second in all; the count
    /// does not drift over many cycles of uneven length.
    #[test]
    fn heartbeats_keep_the_services_pace() {
        let mut r = ReportedLoad::new(&LoadModel::default(), 1);
        let due = |r: &mut ReportedLoad, active: usize| -> usize {
            let start = r.cycles.last().copied().unwrap_or(SimTime::ZERO);
            (1..=1_000)
                .map(|k| {
                    let gap = 0.2 + 0.8 * f64::from(k % 7) / 6.0;
                    let at = r.cycles.last().copied().unwrap_or(start);
                    r.cycle(at + SimDuration::from_secs_f64(gap), active)
                })
                .sum()
        };
        let before = r.cycles.last().copied().unwrap_or(SimTime::ZERO);
        let small = due(&mut r, 1_000);
        let span = (*r.cycles.last().unwrap() - before).as_secs_f64();
        assert!(
            (small as f64 - 200.0 * span).abs() <= 1.0,
            "{small} in {span} s"
        );
        let before = *r.cycles.last().unwrap();
        let big = due(&mut r, 100_000);
        let span = (*r.cycles.last().unwrap() - before).as_secs_f64();
        assert!(
            (big as f64 - 500.0 * span).abs() <= 1.0,
            "{big} in {span} s"
        );
        // A cycle never asks more reports than there are workers.
        assert_eq!(r.cycle(before + SimDuration::from_secs_f64(1e6), 3), 3);
    }

    #[test]
    fn no_updates_and_every_update_are_handled() {
        let mut none = with_cycles(&model(0.0, 0.05), 100);
        let end = SimTime::from_secs_f64(60.0);
        assert_eq!(
            none.at(WorkerId(0), SimTime::ZERO, end),
            (LoadDrift::default(), Thermal::Normal)
        );
        let mut all = with_cycles(&model(1.0, 1.0), 100);
        let (drift, thermal) = all.at(WorkerId(0), SimTime::ZERO, end);
        assert_ne!(drift, LoadDrift::default());
        assert!(matches!(thermal, Thermal::Warming { .. }));
    }
}
