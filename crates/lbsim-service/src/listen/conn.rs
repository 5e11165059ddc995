//! One connection served: hyper's HTTP/1 over the guarded socket, the
//! router behind it with the phase kept and the body timed, and a
//! lingering close.

use super::timed::{Guarded, TimedBody};
use super::track::{Slot, Track};
use super::Limits;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

/// After a finished exchange, how long a closing connection keeps reading
/// (and discarding) what the client still sends: closing with unread
/// bytes is a reset, which can destroy an early answer (a 413 before the
/// body) before the client reads it.
const LINGER: Duration = Duration::from_secs(2);

/// Serves one connection until it closes, times out, is evicted, or the
/// server stops (then the request in flight is finished first).
pub(super) async fn run(
    stream: TcpStream,
    track: Arc<Track>,
    router: Router,
    limits: Arc<Limits>,
    stop: watch::Receiver<bool>,
) {
    let _slot = Slot(track.clone());
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(Guarded::new(stream, track.clone(), &limits));
    let service = Serve {
        router,
        track: track.clone(),
        limits,
    };
    let mut builder = http1::Builder::new();
    // The header timeout is `Guarded`'s, which tells a fresh head from an
    // idle keep-alive; hyper's would close both alike.
    builder.header_read_timeout(None);
    let mut conn = builder.serve_connection(io, service);
    let done = tokio::select! {
        done = std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)) => done,
        _ = track.evicted() => {
            tracing::debug!("closed the connection idle longest to admit a new one");
            return;
        }
        _ = stopped(stop) => {
            Pin::new(&mut conn).graceful_shutdown();
            std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)).await
        }
    };
    match done {
        Ok(()) => linger(conn.into_parts().io.into_inner().into_inner()).await,
        Err(e) => tracing::debug!("connection closed: {e}"),
    }
}

/// Closes the sending side, then reads until the client closes too (or
/// `LINGER` has passed).
async fn linger(mut stream: TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let drained = async {
        stream.shutdown().await?;
        let mut sink = [0u8; 8192];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), io::Error>(())
    };
    let _ = tokio::time::timeout(LINGER, drained).await;
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The router behind one connection, with the phase kept and the body
/// timed.
#[derive(Clone)]
struct Serve {
    router: Router,
    track: Arc<Track>,
    limits: Arc<Limits>,
}

type Answer = Pin<Box<dyn Future<Output = Result<axum::response::Response, Infallible>> + Send>>;

impl hyper::service::Service<hyper::Request<Incoming>> for Serve {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, request: hyper::Request<Incoming>) -> Answer {
        self.track.begin_request();
        let deadline = Instant::now() + self.limits.body;
        let limit = self.limits.body;
        let request = request.map(|b| axum::body::Body::new(TimedBody::new(b, deadline, limit)));
        let router = self.router.clone();
        let track = self.track.clone();
        let idle = self.limits.idle;
        Box::pin(async move {
            let response = tower::ServiceExt::oneshot(router, request).await;
            track.end_request(idle);
            response
        })
    }
}
