//! The server's own handling of connections: how long a client may take to send a request,
//! how long a connection may sit idle, and how many may be open at once.
//!
//! `axum::serve` has none of these knobs, and without them slow clients took the server down
//! (issue 21, class 6): 1,100 half-sent requests used up the file descriptors and `/healthz`
//! timed out. So connections are accepted here, one task each, and served by hyper with:
//!
//! - a **header-read timeout** (hyper's own timer): a request's head must arrive in full
//!   within it, or the connection is closed. Hyper starts it as soon as it waits for a head,
//!   so it also closes keep-alive connections that send nothing more;
//! - an **idle timeout**: a connection on which no byte has moved either way for this long,
//!   with no request being handled, is closed (e.g. a client that stops reading its answer).
//!   A long import keeps its connection: a request in flight is never idle;
//! - a **body-read timeout** (tower-http's `RequestBodyTimeoutLayer`): the longest wait for
//!   the next piece of a request body, so an upload may be slow but never stalled;
//! - a **connection cap**: beyond it, new connections wait in the kernel's accept queue until
//!   one closes. The cap leaves room for the limits above to work: with the defaults (10 s
//!   header timeout, 10,000 connections, the process's open-file limit raised to its hard
//!   limit and the cap lowered to fit under it) 2,000 half-sent requests take a fifth of the
//!   cap and are closed within ten seconds, while `/healthz` and everyone else are served.
//!   A per-address cap was not chosen: behind a reverse proxy every client has the proxy's
//!   address;
//! - read buffers of at most [`MAX_BUF_BYTES`] per connection (hyper's default lets each
//!   grow to 400 KB), which also bounds the size of a request's head.
//!
//! Only HTTP/1.1 is served: it is what browsers and proxies send to a plain-HTTP backend, and
//! the header timeout above does not apply to HTTP/2's streams.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::Service;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// The most a connection's read buffer may grow to, and so the largest request head (cookies
/// included) the server reads: 64 KiB, eight times what nginx reads by default.
pub const MAX_BUF_BYTES: usize = 64 * 1024;

/// Open files kept free for the database, the log and the files a request reads or writes:
/// the connection cap is lowered, if need be, to leave these under the process's limit.
pub const RESERVED_FILES: u64 = 256;

/// The longest any of the timeouts may be set to: a day.
const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);

/// How long connections are given to finish their requests after Ctrl+C.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Limits on clients' connections (in [`crate::WebConfig`]); the defaults suit a public
/// deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// The longest a client may take to send a request's head (and the longest a keep-alive
    /// connection waits for its next request). Default 10 s.
    pub header_read_timeout: Duration,
    /// A connection with no byte moving either way and no request being handled for this long
    /// is closed. Default 60 s.
    pub idle_timeout: Duration,
    /// The longest wait for the next piece of a request's body. Default 30 s.
    pub body_read_timeout: Duration,
    /// The most connections open at once; beyond it new ones wait to be accepted. Lowered at
    /// start to fit the process's open-file limit. Default 10,000.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 10_000,
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then gives open
/// connections [`SHUTDOWN_GRACE`] to finish.
pub async fn serve(
    app: Router,
    limits: ConnectionLimits,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    // Timers add these to the clock: keep them within a day (and above zero) so that no
    // setting can overflow it or close every connection at once.
    let clamp = |d: Duration| d.clamp(Duration::from_millis(100), MAX_TIMEOUT);
    let limits = ConnectionLimits {
        header_read_timeout: clamp(limits.header_read_timeout),
        idle_timeout: clamp(limits.idle_timeout),
        body_read_timeout: clamp(limits.body_read_timeout),
        ..limits
    };
    let cap = connection_cap(limits.max_connections);
    tracing::info!(
        connections = cap,
        header_read_timeout = ?limits.header_read_timeout,
        idle_timeout = ?limits.idle_timeout,
        body_read_timeout = ?limits.body_read_timeout,
        "serving"
    );
    let permits = Arc::new(Semaphore::new(cap));
    let reclaimer = crate::memory::Reclaimer::default();
    tokio::spawn(reclaimer.clone().run({
        let permits = permits.clone();
        move || cap.saturating_sub(permits.available_permits())
    }));
    let app = app.layer(RequestBodyTimeoutLayer::new(limits.body_read_timeout));
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_BUF_BYTES);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_closed) => break, // never closed; stop serving if it were
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let activity = Arc::new(Activity::default());
        let io = TokioIo::new(Tracked {
            inner: stream,
            activity: activity.clone(),
        });
        let service = {
            let (app, activity) = (app.clone(), activity.clone());
            hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                // What `into_make_service_with_connect_info` would give handlers.
                request.extensions_mut().insert(ConnectInfo(remote));
                let in_flight = InFlight::new(activity.clone());
                // A Router is always ready: no need to wait on `poll_ready`.
                let answer = app.clone().call(request);
                async move {
                    let answer = answer.await;
                    drop(in_flight);
                    answer
                }
            })
        };
        let connection = graceful.watch(builder.serve_connection(io, service).into_owned());
        let idle_timeout = limits.idle_timeout;
        let reclaimer = reclaimer.clone();
        tokio::spawn(async move {
            let _permit = permit; // the slot is free again when this task ends
            let mut connection = std::pin::pin!(connection);
            loop {
                tokio::select! {
                    ended = &mut connection => {
                        if let Err(e) = ended {
                            tracing::debug!(error = %e, %remote, "connection ended");
                        }
                        break;
                    }
                    () = tokio::time::sleep_until(activity.next_check(idle_timeout)) => {
                        if activity.is_idle_for(idle_timeout) {
                            tracing::debug!(%remote, "closing an idle connection");
                            break; // dropping the connection closes the socket
                        }
                    }
                }
            }
            reclaimer.closed();
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("connections still open after the shutdown grace period were closed");
        }
    }
    Ok(())
}

/// Raises the open-file limit to the hard limit and fits `wanted` connections under it,
/// with [`RESERVED_FILES`] to spare.
fn connection_cap(wanted: usize) -> usize {
    let wanted = wanted.max(1);
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            let room = usize::try_from(limit.saturating_sub(RESERVED_FILES))
                .unwrap_or(usize::MAX)
                .max(1);
            if room < wanted {
                tracing::warn!(
                    wanted,
                    open_file_limit = limit,
                    connections = room,
                    "the open-file limit leaves room for fewer connections than asked; raise it (ulimit -n, LimitNOFILE=) to allow more"
                );
            }
            wanted.min(room)
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read or raise the open-file limit");
            wanted
        }
    }
}

/// An accept that failed: a client that gave up is nothing; running out of file descriptors
/// (or memory) is logged and waited out, rather than retried in a tight loop.
async fn accept_failed(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// When a connection last moved a byte, and how many of its requests are being handled.
struct Activity {
    opened: tokio::time::Instant,
    /// Milliseconds from `opened` to the last byte read or written.
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Default for Activity {
    fn default() -> Self {
        Self {
            opened: tokio::time::Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> tokio::time::Instant {
        self.opened + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }

    fn is_idle_for(&self, timeout: Duration) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0 && self.last().elapsed() >= timeout
    }

    /// When to look again: `timeout` after the last byte, or after now while a request is
    /// being handled (its end counts as activity).
    fn next_check(&self, timeout: Duration) -> tokio::time::Instant {
        let from_last = self.last() + timeout;
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            from_last.max(tokio::time::Instant::now() + timeout)
        } else {
            from_last
        }
    }
}

/// A request being handled; its end is activity on the connection.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A TCP stream that notes in its [`Activity`] each time a byte moves.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
