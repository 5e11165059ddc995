//! Resource samples over time for charts: memory and CUDA in use, memory
//! stranded while tests wait, and each worker's busy time per column of a
//! heat map. Sampling costs O(workers) once per time bucket (at the first
//! scheduling pass in it), never per event, so long runs stay cheap.

use super::view::PoolView;
use super::{ResourceSeries, WorkerBusy};
use crate::sim::{SimTime, MICROS_PER_SEC};

/// Heat-map rows: only the first this many workers (by id) are tracked, so
/// memory stays bounded on huge pools.
pub(crate) const MAX_HEAT_WORKERS: usize = 200;
/// Heat-map columns at most; buckets are merged into wider columns.
pub const MAX_HEAT_COLUMNS: u64 = 120;

/// One sample: the pool's state right after a scheduling pass.
#[derive(Clone, Debug)]
struct Sample {
    at: SimTime,
    memory: f64,
    cuda: f64,
    stranded_memory: f64,
    /// Cumulative busy µs of the first `MAX_HEAT_WORKERS` workers.
    busy_us: Vec<u64>,
}

/// Samples the pool once per bucket.
#[derive(Debug)]
pub(super) struct Sampler {
    bucket_us: u64,
    next_at: SimTime,
    samples: Vec<Sample>,
}

impl Sampler {
    pub(super) fn new(bucket_us: u64) -> Self {
        Sampler {
            bucket_us,
            next_at: SimTime::ZERO,
            samples: Vec::new(),
        }
    }

    /// Called after every scheduling pass; samples only at the first pass
    /// in each bucket. Between passes the pool does not change, so a bucket
    /// without a pass has the state of the last sample.
    #[inline]
    pub(super) fn observe(&mut self, now: SimTime, balancer: &impl PoolView) {
        if now >= self.next_at {
            self.record(now, balancer);
        }
    }

    /// The rare part of `observe`, kept out of line so the common early
    /// return stays a compare in the caller.
    #[inline(never)]
    fn record(&mut self, now: SimTime, balancer: &impl PoolView) {
        self.samples.push(sample(now, balancer));
        self.next_at = SimTime((now.0 / self.bucket_us + 1) * self.bucket_us);
    }

    /// The per-bucket series over `n` buckets, and the heat map to `end`.
    pub(super) fn finish(
        mut self,
        balancer: &impl PoolView,
        end: SimTime,
        n: usize,
    ) -> ResourceSeries {
        self.samples.push(sample(end, balancer));
        let width_s = self.bucket_us / MICROS_PER_SEC;
        let mut out = ResourceSeries::default();
        // Samples are in time order and so are buckets: the first sample at
        // or after each bucket's start only moves forward.
        let mut first_at_or_after = 0;
        for i in 0..n {
            let start = SimTime(i as u64 * self.bucket_us);
            // The bucket's first sample, else the last one before it.
            while self
                .samples
                .get(first_at_or_after)
                .is_some_and(|s| s.at < start)
            {
                first_at_or_after += 1;
            }
            let k = first_at_or_after;
            let k = match self.samples.get(k) {
                Some(s) if s.at.0 < start.0 + self.bucket_us => k,
                _ => k.saturating_sub(1),
            };
            let s = &self.samples[k];
            let t = i as u64 * width_s;
            out.memory_utilization.push((t, s.memory));
            out.cuda_utilization.push((t, s.cuda));
            out.stranded_memory.push((t, s.stranded_memory));
        }
        out.worker_busy = self.heat(balancer, end);
        out
    }

    /// Busy fraction per worker per column, from the cumulative busy time
    /// interpolated linearly between samples, over the part of the column
    /// the worker was in the pool; `None` where it was not there at all.
    fn heat(&self, balancer: &impl PoolView, end: SimTime) -> WorkerBusy {
        let buckets = end.0.div_ceil(self.bucket_us).max(1);
        let per_column = buckets.div_ceil(MAX_HEAT_COLUMNS);
        let col_us = per_column * self.bucket_us;
        let columns = end.0.div_ceil(col_us).max(1);
        let mut busy = WorkerBusy {
            column_seconds: (col_us / MICROS_PER_SEC) as f64,
            ..WorkerBusy::default()
        };
        for w in balancer.workers().iter().take(MAX_HEAT_WORKERS) {
            let i = w.id.0 as usize;
            let left = w.left_at.unwrap_or(end);
            let row = (0..columns)
                .map(|c| {
                    let a = SimTime(c * col_us);
                    let b = SimTime(((c + 1) * col_us).min(end.0));
                    // Only the part of the column the worker was in the pool.
                    let (a, b) = (a.max(w.joined_at), b.min(left));
                    if b <= a {
                        return None;
                    }
                    let done = self.cumulative(i, b) - self.cumulative(i, a);
                    Some((done / (b - a).0 as f64).clamp(0.0, 1.0))
                })
                .collect();
            busy.workers.push(w.id.to_string());
            busy.busy.push(row);
        }
        busy
    }

    /// Worker `i`'s busy µs up to `t`, linear between samples.
    fn cumulative(&self, i: usize, t: SimTime) -> f64 {
        let at = |k: usize| self.samples[k].busy_us.get(i).copied().unwrap_or(0) as f64;
        let k = self.samples.partition_point(|s| s.at <= t);
        if k == 0 {
            return 0.0;
        }
        let (s0, v0) = (self.samples[k - 1].at, at(k - 1));
        match self.samples.get(k) {
            Some(s1) if s1.at > s0 => {
                let f = (t - s0).0 as f64 / (s1.at - s0).0 as f64;
                v0 + f * (at(k) - v0)
            }
            _ => v0,
        }
    }
}

fn sample(now: SimTime, balancer: &impl PoolView) -> Sample {
    // Totals are kept by the balancer: a sample is O(1) plus the heat-map
    // rows, whatever the pool's size.
    let pool = balancer.pool_totals();
    let (mem_cap, mem_used, cuda_cap, cuda_used) = (
        pool.memory_mib,
        pool.memory_used_mib,
        pool.cuda,
        pool.cuda_used,
    );
    let busy_us: Vec<u64> = balancer
        .workers()
        .iter()
        .take(MAX_HEAT_WORKERS)
        .map(|w| w.usage.busy_us + w.usage.busy_since.map_or(0, |s| (now - s).0))
        .collect();
    let frac = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let waiting = balancer.pending_len() > 0;
    Sample {
        at: now,
        memory: frac(mem_used, mem_cap),
        cuda: frac(cuda_used, cuda_cap),
        stranded_memory: if waiting {
            frac(mem_cap - mem_used, mem_cap)
        } else {
            0.0
        },
        busy_us,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampler(points: &[(u64, u64)]) -> Sampler {
        let mut s = Sampler::new(MICROS_PER_SEC);
        for &(at, busy) in points {
            s.samples.push(Sample {
                at: SimTime(at),
                memory: 0.0,
                cuda: 0.0,
                stranded_memory: 0.0,
                busy_us: vec![busy],
            });
        }
        s
    }

    #[test]
    fn cumulative_busy_is_linear_between_samples() {
        let s = sampler(&[(0, 0), (2_000_000, 1_000_000), (4_000_000, 3_000_000)]);
        assert_eq!(s.cumulative(0, SimTime(1_000_000)), 500_000.0);
        assert_eq!(s.cumulative(0, SimTime(3_000_000)), 2_000_000.0);
        assert_eq!(s.cumulative(0, SimTime(9_000_000)), 3_000_000.0);
        // A worker that was not sampled yet has done nothing.
        assert_eq!(s.cumulative(5, SimTime(3_000_000)), 0.0);
    }
}
