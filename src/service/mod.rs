//! The coordinator service: the same balancer core as the simulator, driven
//! in wall-clock time by real workers over HTTP/JSON, with its state in
//! SQLite. The core never reads a clock: the edge (`clock`) hands it `now`,
//! and the periodic work runs on timers (`tasks`).
//!
//! Layout: `api` (wire types), `core` (the state machine over the
//! balancer), `store` + `writer` (durable, group-committed), `http`
//! (handlers), `router` (routes and the layers around them), `auth`,
//! `tasks` (timers), `clock`, `web` (the page at `/`).

pub mod api;
mod auth;
mod clock;
mod commit;
pub mod core;
mod http;
mod json;
mod openapi;
mod prom;
mod recording;
mod router;
pub mod store;
mod tasks;
mod web;
mod writer;

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
}

impl App {
    /// The core. A panic while it was held (a bug, caught by the
    /// catch-panic layer) does not take the server down with it.
    fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn store_error(db: &std::path::Path, e: impl std::fmt::Display) -> Error {
    Error::Run(format!("{}: {e}", db.display()))
}

/// Opens the store and rebuilds the core from it.
fn open(options: &ServeOptions) -> Result<(store::Store, Core, clock::Clock, usize, usize)> {
    let db = &options.db_path;
    let store = store::Store::open(db, clock::unix_now_us()).map_err(|e| store_error(db, e))?;
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

async fn run(options: ServeOptions) -> Result<()> {
    tasks::survive_file_size_limit();
    let (mut store, mut core, clock, tests, workers) = open(&options)?;
    let record = match &options.record {
        None => None,
        Some(path) => {
            let (record, note) = recording::open(&mut store, path)?;
            if let Some(note) = note {
                tracing::warn!("{note}");
                crate::console::print_err(&format!("lbsim serve: {note}\n"));
            }
            Some(record)
        }
    };
    let (writer, thread) = writer::spawn(store, record, core.last_seq())
        .map_err(|e| Error::Run(format!("cannot start the store thread: {e}")))?;
    if options.record.is_some() {
        core.record_session(clock.now_us(), RECORDING_VERSION);
    }
    if let Some(rx) = core.commit(&writer) {
        rx.await
            .map_err(|_| Error::Run("the store thread stopped".into()))?
            .map_err(|e| store_error(&options.db_path, e))?;
    }
    let addr = bind_address(&options)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Run(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Run(format!("cannot read the bound address: {e}")))?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let app = Arc::new(App {
        core: Mutex::new(core),
        writer,
        clock,
        shutdown: stop_rx,
        metrics: prom::Metrics::new(),
        degraded: Mutex::new(None),
    });
    let timers = tasks::spawn(app.clone(), &options);
    let router = router::build(app.clone(), options.token.clone());
    warn_if_exposed(&options, addr.ip());
    crate::console::print_out(&format!(
        "lbsim serve: listening on http://{local} (scheduler {}, store {}: {tests} tests and {workers} workers restored)\n",
        if options.plain_queue { "none: plain queue".to_string() } else { options.scheduler.to_string() },
        options.db_path.display()
    ))?;
    tracing::info!(%local, "ready");
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(stop_signal(stop_tx))
        .await;
    for t in timers {
        let _ = t.await;
    }
    drop(app);
    let _ = thread.join();
    tracing::info!("stopped; the store is closed");
    served.map_err(|e| Error::Run(format!("the server failed: {e}")))
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
