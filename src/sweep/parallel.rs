//! Independent runs on N threads, their results handed back in order.
//!
//! Threads take the next item from a shared counter and send back its
//! result; the calling thread buffers results that arrive early and hands
//! each to the sink once every result before it was handed over. So what
//! the sink sees (and writes) is the same for any thread count: the
//! parallelism never reaches an output.

use crate::error::Result;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// Runs `work(item)` for each of `items` on `jobs` threads and calls
/// `sink(item, result)` in the order of `items`. `stop` is checked before
/// each item starts: items in flight finish and are handed over if every
/// earlier one was. The first error (of `work` or `sink`) stops the rest
/// and is returned. Returns how many items reached the sink.
pub(crate) fn run_in_order<T: Send>(
    items: &[usize],
    jobs: usize,
    stop: &AtomicBool,
    work: impl Fn(usize) -> Result<T> + Sync,
    mut sink: impl FnMut(usize, T) -> Result<()>,
) -> Result<usize> {
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, Result<T>)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(items.len()) {
            let tx = tx.clone();
            let (next, abort, work) = (&next, &abort, &work);
            scope.spawn(move || loop {
                if stop.load(Ordering::SeqCst) || abort.load(Ordering::SeqCst) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(&item) = items.get(i) else { break };
                if tx.send((i, work(item))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut early = BTreeMap::new();
        let mut handed = 0;
        for (i, result) in rx {
            match result {
                Ok(value) => early.insert(i, value),
                Err(e) => {
                    abort.store(true, Ordering::SeqCst);
                    return Err(e);
                }
            };
            while let Some(value) = early.remove(&handed) {
                if let Err(e) = sink(items[handed], value) {
                    abort.store(true, Ordering::SeqCst);
                    return Err(e);
                }
                handed += 1;
            }
        }
        Ok(handed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn results_arrive_in_item_order_for_any_thread_count() {
        let items: Vec<usize> = (0..40).map(|i| i * 3).collect();
        for jobs in [1, 2, 7] {
            let mut seen = Vec::new();
            let n = run_in_order(
                &items,
                jobs,
                &AtomicBool::new(false),
                // Later items finish sooner, so they arrive early.
                |item| {
                    std::thread::sleep(std::time::Duration::from_micros((120 - item as u64) * 5));
                    Ok(item * 2)
                },
                |item, value| {
                    seen.push((item, value));
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(n, 40);
            let want: Vec<(usize, usize)> = items.iter().map(|&i| (i, i * 2)).collect();
            assert_eq!(seen, want, "jobs {jobs}");
        }
    }

    #[test]
    fn an_error_stops_the_run_and_a_stop_flag_starts_nothing() {
        let items: Vec<usize> = (0..20).collect();
        let err = run_in_order(
            &items,
            2,
            &AtomicBool::new(false),
            |item| {
                if item == 5 {
                    Err(Error::Run("cell 5 broke".into()))
                } else {
                    Ok(item)
                }
            },
            |_, _| Ok(()),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "cell 5 broke");
        let n = run_in_order(&items, 2, &AtomicBool::new(true), Ok, |_, _| Ok(())).unwrap();
        assert_eq!(n, 0);
    }
}
