//! The accept loop: every connection served by hyper's HTTP/1 and bounded,
//! in time (a head, a body, an idle keep-alive and a stalled response each
//! have a timeout) and in number (a cap kept below the process's fd
//! limit). At the cap a newcomer takes the place of the connection idle
//! longest; when none is idle it is answered 503 and closed. `axum::serve`
//! kept every connection forever, so a few hundred silent sockets starved
//! every real client.

mod conn;
mod limits;
mod timed;
mod track;

pub(super) use self::limits::Limits;

use self::track::Registry;
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

/// How long to wait before accepting again after `accept` failed (out of
/// fds, most likely): long enough not to spin, short enough to catch up.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Refusals (503) being written at once; past this a refused connection
/// is closed without an answer, so refusing costs bounded fds too.
const MAX_REFUSALS_IN_FLIGHT: usize = 32;

/// How long a refused client gets to read its 503 before the close.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `shutdown` resolves; then stops
/// accepting, lets the requests in flight finish and closes the rest.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let registry = Arc::new(Registry::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS_IN_FLIGHT));
    let (stop_tx, stop_rx) = watch::channel(false);
    let limits = Arc::new(limits);
    tokio::pin!(shutdown);
    let mut failures = 0u64;
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                failures = 0;
                match registry.enter(limits.header) {
                    Some(track) => {
                        let (router, limits) = (router.clone(), limits.clone());
                        tokio::spawn(conn::run(stream, track, router, limits, stop_rx.clone()));
                    }
                    None => refuse(stream, &refusals, registry.max()),
                }
            }
            Err(e) => {
                failures += 1;
                accept_failed(&e, failures).await;
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    registry.wait_empty().await;
}

/// Logs a failed `accept` (once per run of failures at warn level) and
/// backs off when the process is out of a resource; never spins or exits.
async fn accept_failed(e: &std::io::Error, failures: u64) {
    use std::io::ErrorKind::*;
    if matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted) {
        return;
    }
    if failures == 1 {
        tracing::warn!("accept failed: {e}; retrying every {ACCEPT_BACKOFF:?}");
    } else {
        tracing::debug!("accept failed again: {e}");
    }
    tokio::time::sleep(ACCEPT_BACKOFF).await;
}

/// Answers 503 and closes, without holding more than a bounded number of
/// sockets for it.
fn refuse(stream: TcpStream, refusals: &Arc<Semaphore>, max: usize) {
    let Ok(permit) = refusals.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let mut stream = stream;
        let body = format!(
            "{{\"error\":\"the server has {max} connections open, all busy: try again later\"}}"
        );
        let head = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\r\n",
            body.len()
        );
        let linger = async {
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
            stream.shutdown().await?;
            // Read what the client sent, so the close is not a reset that
            // could destroy the answer before the client reads it.
            let mut sink = [0u8; 4096];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<(), std::io::Error>(())
        };
        let _ = tokio::time::timeout(REFUSAL_LINGER, linger).await;
    });
}
