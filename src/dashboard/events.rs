//! The event log: what happened to the pool and the load, newest last,
//! bounded so a long run cannot grow it without end.

use std::collections::VecDeque;

/// What kind of thing happened (the log's second column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventKind {
    SpikeStart,
    SpikeEnd,
    Join,
    Drain,
    WorkerFailed,
    Offline,
    Requeue,
    Rejected,
    TestFailed,
    RunEnd,
    Poll,
}

impl EventKind {
    /// A short fixed-width label, readable without colour.
    pub(crate) fn label(self) -> &'static str {
        match self {
            EventKind::SpikeStart => "spike+",
            EventKind::SpikeEnd => "spike-",
            EventKind::Join => "join",
            EventKind::Drain => "drain",
            EventKind::WorkerFailed => "FAIL",
            EventKind::Offline => "offline",
            EventKind::Requeue => "requeue",
            EventKind::Rejected => "reject",
            EventKind::TestFailed => "failed",
            EventKind::RunEnd => "end",
            EventKind::Poll => "poll",
        }
    }
}

/// One line of the log.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Event {
    /// Simulated seconds, or the coordinator's uptime.
    pub(crate) t_s: f64,
    pub(crate) kind: EventKind,
    pub(crate) text: String,
}

/// The latest `capacity` events, and how many there were in all.
#[derive(Clone, Debug)]
pub(crate) struct EventLog {
    capacity: usize,
    items: VecDeque<Event>,
    total: u64,
}

impl EventLog {
    pub(crate) fn new(capacity: usize) -> EventLog {
        EventLog {
            capacity: capacity.max(1),
            items: VecDeque::new(),
            total: 0,
        }
    }

    pub(crate) fn push(&mut self, t_s: f64, kind: EventKind, text: impl Into<String>) {
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(Event {
            t_s,
            kind,
            text: text.into(),
        });
        self.total += 1;
    }

    /// The kept events, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &Event> + ExactSizeIterator {
        self.items.iter()
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Events ever logged, the forgotten ones included.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_latest_and_counts_all() {
        let mut log = EventLog::new(2);
        for i in 0..5 {
            log.push(f64::from(i), EventKind::Join, format!("w{i}"));
        }
        let kept: Vec<&str> = log.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(kept, ["w3", "w4"]);
        assert_eq!(log.total(), 5);
    }
}
