//! The timeouts on the wire: the socket wrapper that enforces the read
//! deadline of the connection's phase and a send timeout, and the body
//! wrapper that enforces the body timeout.

use super::track::Track;
use super::Limits;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// The socket, with the connection's read deadline (idle or header, from
/// its phase) and a send timeout.
pub(super) struct Guarded {
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
    pub(super) fn new(io: TcpStream, track: Arc<Track>, limits: &Limits) -> Guarded {
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

    /// The socket, for the lingering close.
    pub(super) fn into_inner(self) -> TcpStream {
        self.io
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
pub(super) struct TimedBody<B> {
    inner: B,
    deadline: Instant,
    limit: Duration,
    timer: Timer,
}

impl<B> TimedBody<B> {
    pub(super) fn new(inner: B, deadline: Instant, limit: Duration) -> TimedBody<B> {
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
