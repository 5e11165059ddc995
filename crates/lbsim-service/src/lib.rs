//! The coordinator service: the same balancer core as the simulator, driven
//! in wall-clock time by real workers over HTTP/JSON, with its state in
//! SQLite. The core never reads a clock: the edge (`clock`) hands it `now`,
//! and the periodic work runs on timers (`tasks`).
//!
//! Layout: `api` (wire types), `core` (the state machine over the
//! balancer), `store` + `writer` (durable, group-committed), `http`
//! (handlers), `router` (routes and the layers around them), `auth`,
//! `tasks` (timers), `clock`, `web` (the page at `/`), `listen` (the
//! accept loop and its bounds), `lock` (one server per store), `created`
//! (a failed start leaves nothing behind).

#![warn(unreachable_pub)]

/// The wire types, shared with the client (they live in `lbsim-client`,
/// which needs neither the server nor its runtime).
pub use lbsim_client::api;
mod auth;
mod clock;
mod commit;
pub mod core;
mod created;
mod http;
mod http_work;
mod listen;
mod lock;
mod migrate;
mod openapi;
mod prom;
mod recording;
mod router;
pub mod store;
mod tasks;
#[cfg(test)]
mod test_dir;
mod wake;
mod web;
mod writer;

// The core crate's modules under the paths the service has always used.
use lbsim_client::json;
use lbsim_core::{balancer, console, error, metrics, sim, workload};

use self::core::{Core, CoreConfig};
use crate::balancer::options::BalancerOptions;
use crate::balancer::policy::SchedulerName;
use crate::error::{Error, Result};
use crate::workload::trace::recording::RECORDING_VERSION;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

pub use self::clock::Stopwatch;

/// What `lbsim serve` was asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct ServeOptions {
    pub host: String,
    pub port: u16,
    pub db_path: PathBuf,
    pub scheduler: SchedulerName,
    pub balancing: BalancerOptions,
    pub heartbeat_timeout_s: f64,
    pub token: Option<String>,
    pub record: Option<PathBuf>,
    pub seed: u64,
    /// `--disable-load-balancer`: the plain queue.
    pub plain_queue: bool,
}

/// Everything a handler can reach.
pub struct App {
    core: Mutex<Core>,
    writer: writer::WriterHandle,
    clock: clock::Clock,
    /// Changes to true when the server begins to stop.
    shutdown: watch::Receiver<bool>,
    metrics: prom::Metrics,
    /// Why changes are refused, while the store cannot commit.
    degraded: Mutex<Option<String>>,
    /// Wakes the long-polling lease calls the core names.
    wakers: wake::Wakers,
}

impl App {
    /// The core. A panic while it was held (a bug, caught by the
    /// catch-panic layer) does not take the server down with it.
    fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A store failure as one line (SQLite's messages may hold newlines).
fn store_error(db: &std::path::Path, e: impl std::fmt::Display) -> Error {
    let text = e.to_string();
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    Error::Run(format!("{}: {line}", db.display()))
}

/// Opens the store (refusing a file that is not one: exit 2) and rebuilds
/// the core from it; a store this start creates is noted in `created`.
fn open(
    options: &ServeOptions,
    created: &mut created::Created,
) -> Result<(store::Store, Core, clock::Clock, usize, usize)> {
    let db = &options.db_path;
    created.note_store_if_new(db);
    let store = store::Store::open(db, clock::unix_now_us()).map_err(|e| match e {
        store::OpenError::Foreign(_) => {
            Error::invalid("--db-path", format!("{}: {e}", db.display()))
        }
        store::OpenError::Store(e) => store_error(db, e),
    })?;
    let snap = store.snapshot().map_err(|e| store_error(db, e))?;
    let clock = clock::Clock::start(snap.epoch_unix_us, snap.last_us);
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| Error::Run(format!("cannot seed lease ids from the OS: {e}")))?;
    let cfg = CoreConfig {
        scheduler: options.scheduler,
        balancing: options.balancing.clone(),
        heartbeat_timeout_us: (options.heartbeat_timeout_s * 1e6) as u64,
        seed: options.seed,
        plain_queue: options.plain_queue,
    };
    let recording = options.record.is_some();
    let core = Core::restore(cfg, &snap, recording, seed, clock.now_us());
    Ok((store, core, clock, snap.tests.len(), snap.workers.len()))
}

/// Opens `--record` and squares it with the store (`recording::open`); a
/// file this start creates is noted.
fn open_record(
    options: &ServeOptions,
    created: &mut created::Created,
    store: &mut store::Store,
) -> Result<Option<recording::Recording>> {
    let Some(path) = &options.record else {
        return Ok(None);
    };
    created.note_if_new(path);
    let (record, note) = recording::open(store, path)?;
    if let Some(note) = note {
        tracing::warn!("{note}");
        crate::console::print_err(&format!("lbsim serve: {note}\n"));
    }
    Ok(Some(record))
}

/// Runs the coordinator until SIGINT or SIGTERM; then stops accepting,
/// finishes the requests in flight, commits and closes the store.
pub fn serve(options: ServeOptions) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("lbsim-serve")
        .build()
        .map_err(|e| Error::Run(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(run(options))
}

/// Binds the listening socket, before any file but the lock is made.
async fn listen_on(options: &ServeOptions) -> Result<(tokio::net::TcpListener, SocketAddr)> {
    let addr = bind_address(options)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Run(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Run(format!("cannot read the bound address: {e}")))?;
    Ok((listener, local))
}

/// Start-up in the order that leaves nothing behind when it fails: the
/// checks without side effects, the store's lock (its file goes with it),
/// the port, then the files (removed again by `created` if a later step
/// fails).
async fn run(options: ServeOptions) -> Result<()> {
    tasks::survive_file_size_limit();
    let limits = listen::Limits::from_env()?;
    bind_address(&options)?;
    // The lock before the port: the same command run twice names the
    // server already running rather than a port in use.
    let _lock = lock::StoreLock::acquire(&options.db_path)?;
    let (listener, local) = listen_on(&options).await?;
    let mut created = created::Created::default();
    let (mut store, mut core, clock, tests, workers) = open(&options, &mut created)?;
    let record = open_record(&options, &mut created, &mut store)?;
    let (writer, thread) = writer::spawn(store, record, core.last_seq())
        .map_err(|e| Error::Run(format!("cannot start the store thread: {e}")))?;
    if options.record.is_some() {
        core.record_session(clock.now_us(), RECORDING_VERSION);
    }
    // No lease call waits yet: there is no one to wake.
    if let (Some(rx), _) = writer.commit(&mut core) {
        let committed = match rx.await {
            Err(_) => Err(Error::Run("the store thread stopped".into())),
            Ok(done) => done.map_err(|e| store_error(&options.db_path, e)),
        };
        if let Err(e) = committed {
            drop(writer);
            let _ = thread.join();
            return Err(e);
        }
    }
    created.keep();
    let (stop_tx, stop_rx) = watch::channel(false);
    let app = Arc::new(App {
        core: Mutex::new(core),
        writer,
        clock,
        shutdown: stop_rx,
        metrics: prom::Metrics::new(),
        degraded: Mutex::new(None),
        wakers: wake::Wakers::default(),
    });
    let timers = tasks::spawn(app.clone(), &options);
    let router = router::build(app.clone(), options.token.clone());
    warn_if_exposed(&options, local.ip());
    crate::console::print_out(&format!(
        "lbsim serve: listening on http://{local} (scheduler {}, store {}: {tests} tests and {workers} workers restored)\n",
        if options.plain_queue { "none: plain queue".to_string() } else { options.scheduler.to_string() },
        options.db_path.display()
    ))?;
    tracing::info!(%local, max_connections = limits.max_connections, "ready");
    listen::serve(listener, router, limits, stop_signal(stop_tx)).await;
    for t in timers {
        let _ = t.await;
    }
    drop(app);
    let _ = thread.join();
    tracing::info!("stopped; the store is closed");
    Ok(())
}

fn bind_address(options: &ServeOptions) -> Result<SocketAddr> {
    let host = if options.host == "localhost" {
        "127.0.0.1"
    } else {
        &options.host
    };
    let ip: IpAddr = host.parse().map_err(|_| {
        Error::invalid("--host", format!("'{}' is not an IP address", options.host))
    })?;
    Ok(SocketAddr::new(ip, options.port))
}

/// The warning for a server others can reach without a token, if any.
fn exposure_warning(ip: IpAddr, token: Option<&str>) -> Option<String> {
    (!ip.is_loopback() && token.is_none()).then(|| {
        format!(
            "listening on {ip} without a token: anyone who can reach this port can submit, lease and complete tests (set --token or LB_TOKEN)"
        )
    })
}

fn warn_if_exposed(options: &ServeOptions, ip: IpAddr) {
    if let Some(msg) = exposure_warning(ip, options.token.as_deref()) {
        tracing::warn!("{msg}");
        crate::console::print_err(&format!("lbsim serve: warning: {msg}\n"));
    }
}

/// Resolves on SIGINT or SIGTERM, after telling the long-polls to end.
async fn stop_signal(stop: watch::Sender<bool>) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("stopping: finishing the requests in flight");
    let _ = stop.send(true);
}

#[cfg(test)]
mod tests {
    use super::exposure_warning;

    #[test]
    fn only_a_reachable_address_without_a_token_is_warned_about() {
        let any = "0.0.0.0".parse().unwrap();
        let loopback = "127.0.0.1".parse().unwrap();
        let v6_loopback = "::1".parse().unwrap();
        let warning = exposure_warning(any, None).expect("0.0.0.0 without a token");
        assert!(
            warning.contains("0.0.0.0") && warning.contains("--token"),
            "{warning}"
        );
        assert_eq!(exposure_warning(any, Some("secret")), None);
        assert_eq!(exposure_warning(loopback, None), None);
        assert_eq!(exposure_warning(v6_loopback, None), None);
    }
}
