//! One run's process group: spawned as its own group, waited for without
//! being reaped until the agent has marked it ended (so a signal to the
//! group can never reach a recycled process id), and terminated on a time
//! limit, a cancel or a stop: SIGTERM to the whole group, a grace period,
//! then SIGKILL. When the leader exits, whatever it left behind in its
//! group is killed too: a run's processes do not outlive it.

use super::lease_loop::now;
use rustix::process::{kill_process_group, waitid, Pid, Signal, WaitId, WaitIdOptions};
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a run goes on before the coordinator is told it started. A
/// run that ends sooner is reported once, complete: one call and one
/// commit fewer per short test (a `true` costs about 1.5 ms of CPU end to
/// end on 2 cores, of which the start call was a fifth), while a run a
/// person could watch still shows as running.
pub(crate) const START_AFTER: Duration = Duration::from_millis(50);

/// Why the agent ended a run before it ended by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// It ran past its `timeout_s`.
    TimedOut,
    /// The test was cancelled, or its lease is no longer current.
    Cancelled,
    /// The worker was told to quit (a second Ctrl-C).
    Stopped,
}

/// The agent's hold on one run, shared with the watchdog.
pub(crate) struct RunCtl {
    state: Mutex<CtlState>,
    timeout: Option<Duration>,
}

#[derive(Default)]
struct CtlState {
    /// The group, while its leader is not reaped.
    pgid: Option<Pid>,
    stop: Option<Stop>,
    /// When SIGTERM went out (SIGKILL follows after the grace period).
    term_at: Option<Instant>,
    killed: bool,
    /// The time limit, counted from the spawn.
    deadline: Option<Instant>,
    /// When the run, if it still goes on, is reported as started; `None`
    /// once that report is claimed, or the run ended first.
    start_due: Option<Instant>,
}

impl RunCtl {
    /// A run that must end within `timeout` of its spawn (`None`: no limit).
    pub(crate) fn new(timeout: Option<Duration>) -> RunCtl {
        RunCtl {
            state: Mutex::new(CtlState::default()),
            timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CtlState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends the run for `why` (the first reason given stands): SIGTERM to
    /// its group now if it runs, at its start otherwise.
    pub(crate) fn stop(&self, why: Stop) {
        let mut s = self.lock();
        s.stop.get_or_insert(why);
        if s.term_at.is_none() {
            if let Some(pgid) = s.pgid {
                let _ = kill_process_group(pgid, Signal::TERM);
                s.term_at = Some(now());
            }
        }
    }

    /// Why the agent ended the run, if it did.
    pub(crate) fn stopped(&self) -> Option<Stop> {
        self.lock().stop
    }

    /// The watchdog's look: past the deadline → SIGTERM; past the grace
    /// period after SIGTERM → SIGKILL.
    pub(crate) fn tick(&self, at: Instant, grace: Duration) {
        let due = {
            let s = self.lock();
            s.stop.is_none() && s.deadline.is_some_and(|d| at >= d)
        };
        if due {
            self.stop(Stop::TimedOut);
        }
        let mut s = self.lock();
        if let (Some(pgid), Some(term), false) = (s.pgid, s.term_at, s.killed) {
            if at >= term + grace {
                let _ = kill_process_group(pgid, Signal::KILL);
                s.killed = true;
            }
        }
    }

    /// The watchdog's claim on the start report: true once, when the run
    /// has gone on past its `START_AFTER` and has not ended.
    pub(crate) fn claim_start(&self, at: Instant) -> bool {
        let mut s = self.lock();
        let due = s.start_due.is_some_and(|d| at >= d);
        if due {
            s.start_due = None;
        }
        due
    }

    /// The group exists: a stop asked for before now applies at once.
    fn attach(&self, pgid: Pid) {
        let mut s = self.lock();
        s.pgid = Some(pgid);
        s.deadline = self.timeout.map(|t| now() + t);
        s.start_due = Some(now() + START_AFTER);
        if s.stop.is_some() {
            let _ = kill_process_group(pgid, Signal::TERM);
            s.term_at = Some(now());
        }
    }

    /// The leader exited (not yet reaped, so the group id is still ours):
    /// kill what it left, and forget the group. A run that ended before
    /// its start report was claimed is reported once, complete.
    fn detach(&self) {
        let mut s = self.lock();
        s.start_due = None;
        if let Some(pgid) = s.pgid.take() {
            let _ = kill_process_group(pgid, Signal::KILL);
        }
    }
}

/// What a finished process tells: its status, and how long it ran.
pub(crate) struct Exited {
    pub(crate) status: ExitStatus,
    /// From the spawn's return to the exit, wall clock.
    pub(crate) run_time: Duration,
}

/// Runs `argv` as a new process group with `env` added, stdin empty,
/// stdout and stderr both into `log`, under `ctl`'s control.
pub(crate) fn run(
    argv: &[String],
    env: &[(String, String)],
    log: &File,
    ctl: &RunCtl,
) -> std::io::Result<Exited> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| std::io::Error::other("an empty command"))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?)
        .process_group(0);
    let mut child = cmd.spawn()?;
    let spawned = now();
    let pid = Pid::from_child(&child);
    ctl.attach(pid);
    loop {
        match waitid(
            WaitId::Pid(pid),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
        ) {
            Err(e) if e == rustix::io::Errno::INTR => continue,
            _ => break,
        }
    }
    let ended = now();
    ctl.detach();
    let status = child.wait()?;
    Ok(Exited {
        status,
        run_time: ended - spawned,
    })
}

/// Whether a process group has no process left (`kill(-pgid, 0)` fails
/// with ESRCH).
pub fn group_gone(pgid: u32) -> bool {
    match Pid::from_raw(pgid as i32) {
        Some(p) => rustix::process::test_kill_process_group(p) == Err(rustix::io::Errno::SRCH),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log file that is gone once open: the run writes into it, and
    /// the test leaves nothing behind.
    fn log() -> File {
        let path = std::env::temp_dir().join(format!(
            "lbsim-proc-{}-{:?}.log",
            std::process::id(),
            std::thread::current().id()
        ));
        let file = File::create(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        file
    }

    fn argv(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_run_that_ends_within_start_after_is_never_reported_started() {
        let ctl = RunCtl::new(None);
        run(&argv(&["true"]), &[], &log(), &ctl).unwrap();
        assert!(!ctl.claim_start(now() + START_AFTER * 10));
    }

    #[test]
    fn a_longer_run_is_reported_started_once_after_start_after() {
        let ctl = std::sync::Arc::new(RunCtl::new(None));
        let watch = ctl.clone();
        let watcher = std::thread::spawn(move || {
            // Claims as the watchdog does, until the run has ended.
            let mut claims = Vec::new();
            for _ in 0..100 {
                let at = now();
                if watch.claim_start(at) {
                    claims.push(at);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            claims
        });
        let t0 = now();
        run(&argv(&["sleep", "0.3"]), &[], &log(), &ctl).unwrap();
        let claims = watcher.join().unwrap();
        assert_eq!(claims.len(), 1, "one start report");
        assert!(claims[0] >= t0 + START_AFTER, "not before START_AFTER");
    }

    #[test]
    fn exit_codes_come_back() {
        let ctl = RunCtl::new(None);
        let e = run(&argv(&["sh", "-c", "exit 3"]), &[], &log(), &ctl).unwrap();
        assert_eq!(e.status.code(), Some(3));
        assert_eq!(ctl.stopped(), None);
    }

    #[test]
    fn a_stopped_run_is_terminated_with_its_group() {
        let ctl = std::sync::Arc::new(RunCtl::new(Some(Duration::from_millis(100))));
        let watch = ctl.clone();
        let watchdog = std::thread::spawn(move || {
            for _ in 0..40 {
                watch.tick(now(), Duration::from_millis(200));
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        // The shell ignores SIGTERM: SIGKILL after the grace period ends it.
        let script = "trap '' TERM; sleep 30 & sleep 30; wait";
        let e = run(&argv(&["sh", "-c", script]), &[], &log(), &ctl).unwrap();
        assert_eq!(ctl.stopped(), Some(Stop::TimedOut));
        assert_eq!(e.status.code(), None, "killed by a signal");
        let _ = watchdog.join();
    }
}
