//! The worker's CUDA devices, handed out to runs: each run gets exactly
//! the devices it asked for, and no two runs at once share one.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// The free devices, by index name (`"0"`, `"1"`, ...).
pub(crate) struct DevicePool {
    free: Mutex<Vec<String>>,
    total: usize,
    released: Condvar,
}

impl DevicePool {
    pub(crate) fn new(devices: Vec<String>) -> DevicePool {
        DevicePool {
            total: devices.len(),
            free: Mutex::new(devices),
            released: Condvar::new(),
        }
    }

    pub(crate) fn total(&self) -> usize {
        self.total
    }

    /// Takes `n` devices, waiting at most `timeout` for them to be free;
    /// `None` if there are never that many, or they stayed busy.
    pub(crate) fn take(&self, n: usize, timeout: Duration) -> Option<Vec<String>> {
        if n > self.total {
            return None;
        }
        let guard = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let (mut free, _) = self
            .released
            .wait_timeout_while(guard, timeout, |f| f.len() < n)
            .unwrap_or_else(|e| e.into_inner());
        if free.len() < n {
            return None;
        }
        // Lowest indices first, so a lone run gets device 0.
        free.sort_by_key(|d| (d.len(), d.clone()));
        Some(free.drain(..n).collect())
    }

    /// Gives devices back.
    pub(crate) fn give(&self, devices: Vec<String>) {
        if devices.is_empty() {
            return;
        }
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(devices);
        self.released.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::DevicePool;
    use std::time::Duration;

    #[test]
    fn devices_go_to_one_run_at_a_time() {
        let pool = DevicePool::new(vec!["0".into(), "1".into()]);
        let a = pool.take(1, Duration::ZERO).unwrap();
        let b = pool.take(1, Duration::ZERO).unwrap();
        assert_eq!((a.clone(), b.clone()), (vec!["0".into()], vec!["1".into()]));
        assert!(pool.take(1, Duration::from_millis(5)).is_none());
        assert!(pool.take(3, Duration::ZERO).is_none());
        pool.give(b);
        pool.give(a);
        assert_eq!(pool.take(2, Duration::ZERO).unwrap(), ["0", "1"]);
        assert_eq!(pool.take(0, Duration::ZERO).unwrap(), Vec::<String>::new());
    }
}
