//! One connection: its place among the open ones (the cap, and who has
//! been idle longest), its phase (which timeout applies now), the socket
//! wrapper that enforces the read and send timeouts, and the body wrapper
//! that enforces the body timeout.

use super::Limits;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};
use tokio::time::{Instant, Sleep};

/// The open connections: how many, and the evictable ones (not inside a
/// request) by when they became so, oldest first.
pub(super) struct Registry {
    slots: Mutex<Slots>,
    emptied: Notify,
    max: usize,
}

#[derive(Default)]
struct Slots {
    open: usize,
    next_key: u64,
    idle: BTreeMap<u64, Arc<Track>>,
}

impl Registry {
    pub(super) fn new(max: usize) -> Registry {
        Registry {
            slots: Mutex::new(Slots::default()),
            emptied: Notify::new(),
            max: max.max(1),
        }
    }

    pub(super) fn max(&self) -> usize {
        self.max
    }

    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for a new connection: at the cap, the connection idle
    /// longest is told to close; `None` when every one is in a request.
    pub(super) fn enter(self: &Arc<Self>, header: Duration) -> Option<Arc<Track>> {
        let mut slots = self.slots();
        if slots.open >= self.max {
            let (_, victim) = slots.idle.pop_first()?;
            victim.key.store(0, Ordering::Relaxed);
            victim.evicted.store(true, Ordering::Relaxed);
            victim.evict.notify_one();
        }
        slots.open += 1;
        let track = Arc::new(Track {
            registry: self.clone(),
            evict: Notify::new(),
            evicted: AtomicBool::new(false),
            key: AtomicU64::new(0),
            phase: Mutex::new(Phase::Waiting {
                deadline: Instant::now() + header,
                head_begun: true,
            }),
            parked: Mutex::new(None),
        });
        insert_idle(&mut slots, &track);
        Some(track)
    }

    /// Resolves once every connection has closed.
    pub(super) async fn wait_empty(&self) {
        loop {
            let emptied = self.emptied.notified();
            tokio::pin!(emptied);
            emptied.as_mut().enable();
            if self.slots().open == 0 {
                return;
            }
            emptied.await;
        }
    }
}

fn insert_idle(slots: &mut Slots, track: &Arc<Track>) {
    slots.next_key += 1;
    let key = slots.next_key;
    track.key.store(key, Ordering::Relaxed);
    slots.idle.insert(key, track.clone());
}

/// Where a connection is between requests.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Waiting for a request head, due by `deadline`: the idle timeout
    /// until its first byte, then the header timeout.
    Waiting { deadline: Instant, head_begun: bool },
    /// A request is being served; its body has its own deadline.
    Busy,
}

/// One connection's state, shared by its socket, its service and the
/// registry.
pub(super) struct Track {
    registry: Arc<Registry>,
    evict: Notify,
    evicted: AtomicBool,
    /// Its key in `Slots::idle` (0: not there); changed under that lock.
    key: AtomicU64,
    phase: Mutex<Phase>,
    /// The socket's reader, parked without a deadline while a request was
    /// served: woken when the response is out so the idle timer starts
    /// (hyper does not read again until the socket wakes it).
    parked: Mutex<Option<Waker>>,
}

impl Track {
    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The first bytes of a head start the header timeout.
    fn bytes_arrived(&self, header: Duration) {
        let mut phase = self.phase();
        if let Phase::Waiting {
            head_begun: false, ..
        } = *phase
        {
            *phase = Phase::Waiting {
                deadline: Instant::now() + header,
                head_begun: true,
            };
        }
    }

    /// The read deadline now; with none, `waker` is kept to be woken when
    /// one begins.
    fn read_deadline(&self, waker: &Waker) -> Option<Instant> {
        let phase = self.phase();
        match *phase {
            Phase::Waiting { deadline, .. } => Some(deadline),
            Phase::Busy => {
                let mut parked = self.parked.lock().unwrap_or_else(|e| e.into_inner());
                *parked = Some(waker.clone());
                None
            }
        }
    }

    /// A request is in: no longer evictable, no read deadline.
    fn begin_request(&self) {
        *self.phase() = Phase::Busy;
        let mut slots = self.registry.slots();
        let key = self.key.swap(0, Ordering::Relaxed);
        if key != 0 {
            slots.idle.remove(&key);
        }
    }

    /// Its response is out: idle (and evictable) until the next head.
    fn end_request(self: &Arc<Self>, idle: Duration) {
        *self.phase() = Phase::Waiting {
            deadline: Instant::now() + idle,
            head_begun: false,
        };
        let parked = self.parked.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(waker) = parked {
            waker.wake();
        }
        let mut slots = self.registry.slots();
        if !self.evicted.load(Ordering::Relaxed) && self.key.load(Ordering::Relaxed) == 0 {
            insert_idle(&mut slots, self);
        }
    }

    fn leave(&self) {
        let mut slots = self.registry.slots();
        let key = self.key.swap(0, Ordering::Relaxed);
        if key != 0 {
            slots.idle.remove(&key);
        }
        slots.open -= 1;
        if slots.open == 0 {
            self.registry.emptied.notify_waiters();
        }
    }
}

/// Frees the connection's place however its task ends.
struct Slot(Arc<Track>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.leave();
    }
}

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
        _ = track.evict.notified() => {
            tracing::debug!("closed the connection idle longest to admit a new one");
            return;
        }
        _ = stopped(stop) => {
            Pin::new(&mut conn).graceful_shutdown();
            std::future::poll_fn(|cx| conn.poll_without_shutdown(cx)).await
        }
    };
    match done {
        Ok(()) => linger(conn.into_parts().io.into_inner().io).await,
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

/// The socket, with the connection's read deadline (idle or header, from
/// its phase) and a send timeout.
struct Guarded {
    io: TcpStream,
    track: Arc<Track>,
    header: Duration,
    send: Duration,
    read_timer: Timer,
    write_timer: Timer,
    /// When the current stalled write gives up.
    write_deadline: Option<Instant>,
}

impl Guarded {
    fn new(io: TcpStream, track: Arc<Track>, limits: &Limits) -> Guarded {
        Guarded {
            io,
            track,
            header: limits.header,
            send: limits.send,
            read_timer: Timer::default(),
            write_timer: Timer::default(),
            write_deadline: None,
        }
    }

    /// After a write that did not complete: the send timeout's verdict.
    fn stalled_write<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let send = self.send;
        let at = *self
            .write_deadline
            .get_or_insert_with(|| Instant::now() + send);
        self.write_timer
            .poll(at, cx, "the client took no response bytes in time")
    }

    fn wrote<T>(&mut self, poll: Poll<io::Result<T>>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Pending => self.stalled_write(cx),
            ready => {
                self.write_deadline = None;
                ready
            }
        }
    }
}

/// A sleep re-armed only when its deadline moves.
#[derive(Default)]
struct Timer {
    sleep: Option<(Instant, Pin<Box<Sleep>>)>,
}

impl Timer {
    /// `Ready(Err(TimedOut))` once `at` has passed, else `Pending` (with a
    /// wake-up at `at`).
    fn poll<T>(&mut self, at: Instant, cx: &mut Context<'_>, what: &str) -> Poll<io::Result<T>> {
        match &mut self.sleep {
            Some((armed, sleep)) if *armed == at => {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            }
            slot => {
                let mut sleep = Box::pin(tokio::time::sleep_until(at));
                let fired = sleep.as_mut().poll(cx).is_ready();
                *slot = Some((at, sleep));
                if !fired {
                    return Poll::Pending;
                }
            }
        }
        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)))
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.track.bytes_arrived(this.header);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match this.track.read_deadline(cx.waker()) {
                None => Poll::Pending,
                Some(at) => this
                    .read_timer
                    .poll(at, cx, "no complete request head in time"),
            },
            failed => failed,
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write(cx, buf);
        this.wrote(poll, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.wrote(poll, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The body timeout, as the handler sees it (its message reaches the 400).
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} ms", .0.as_millis())]
struct BodyTimeout(Duration);

/// A request body that fails once its deadline has passed.
struct TimedBody<B> {
    inner: B,
    deadline: Instant,
    limit: Duration,
    timer: Timer,
}

impl<B> TimedBody<B> {
    fn new(inner: B, deadline: Instant, limit: Duration) -> TimedBody<B> {
        TimedBody {
            inner,
            deadline,
            limit,
            timer: Timer::default(),
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<B> http_body::Body for TimedBody<B>
where
    B: http_body::Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, BoxError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => match this.timer.poll::<()>(this.deadline, cx, "") {
                Poll::Pending => Poll::Pending,
                Poll::Ready(_) => Poll::Ready(Some(Err(BodyTimeout(this.limit).into()))),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
