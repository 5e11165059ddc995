//! The periodic work on tokio timers, at the reference's intervals: silent
//! workers are declared lost (checked a few times per heartbeat timeout),
//! thermal management every 10 s, and work stealing every 30 s and
//! rebalancing every 60 s when enabled.

use super::core::periodic::MONITOR_INTERVAL_S;
use super::core::Core;
use super::{App, ServeOptions};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Starts the timers; each ends when the server begins to stop.
pub(super) fn spawn(app: Arc<App>, options: &ServeOptions) -> Vec<JoinHandle<()>> {
    let expiry = (options.heartbeat_timeout_s / 4.0).clamp(0.05, 1.0);
    let mut tasks = vec![
        every(app.clone(), expiry, |core, now| core.expire(now)),
        probe(app.clone()),
        every(app.clone(), MONITOR_INTERVAL_S, |core, now| {
            core.manage_thermal(now);
            core.schedule(now);
            false
        }),
    ];
    let stealing = &options.balancing.stealing;
    if stealing.enabled {
        tasks.push(every(
            app.clone(),
            stealing.steal_interval_s,
            |core, now| {
                core.move_runs(now, true);
                false
            },
        ));
        tasks.push(every(app, stealing.rebalance_interval_s, |core, now| {
            core.move_runs(now, false);
            false
        }));
    }
    tasks
}

/// Runs `work` every `seconds` under the lock, committing what it changed;
/// while `work` says more is left, runs it again at once (each round a
/// bounded piece, the lock released and the commit awaited in between, so
/// no call waits on a backlog). Skipped while the store refuses changes.
fn every(
    app: Arc<App>,
    seconds: f64,
    work: impl Fn(&mut Core, u64) -> bool + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut stop = app.shutdown.clone();
        let mut tick = tokio::time::interval(Duration::from_secs_f64(seconds));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            let mut more = true;
            while more && app.degraded().is_none() && !*stop.borrow() {
                let (committed, generation) = {
                    let mut core = app.lock();
                    more = work(&mut core, app.clock.now_us());
                    (app.commit(&mut core), core.generation())
                };
                if let Some(rx) = committed {
                    if let Err(e) = rx
                        .await
                        .unwrap_or_else(|_| Err("the store thread stopped".into()))
                    {
                        tracing::error!("periodic work not saved: {e}");
                        app.roll_back(generation, &e).await;
                    }
                }
                tokio::task::yield_now().await;
            }
        }
    })
}

/// Once a second while the store refuses changes, tries a trivial commit.
fn probe(app: Arc<App>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut stop = app.shutdown.clone();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            app.probe().await;
        }
    })
}

/// A store or recording that reaches the process's file-size limit
/// (`ulimit -f`) must fail its write (EFBIG: the change is refused with
/// 503) rather than kill the server: SIGXFSZ's default action is to end the
/// process with no message. Listening for it replaces that action.
pub(super) fn survive_file_size_limit() {
    #[cfg(target_os = "linux")]
    {
        use tokio::signal::unix::{signal, SignalKind};
        const SIGXFSZ: i32 = 25;
        match signal(SignalKind::from_raw(SIGXFSZ)) {
            Ok(mut s) => {
                tokio::spawn(async move {
                    while s.recv().await.is_some() {
                        tracing::error!(
                            "a file reached the process's size limit (SIGXFSZ): the write failed"
                        );
                    }
                });
            }
            Err(e) => tracing::warn!("cannot catch SIGXFSZ: {e}"),
        }
    }
}
