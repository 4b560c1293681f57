//! Accepted connections: TCP_NODELAY on each (without it the trailer of every response waits
//! for the client's delayed ACK, about 40 ms), at most `max` open at once (a limit below the
//! process's file limit, so idle sockets cannot starve health checks and searches of file
//! descriptors), closed when the client sends nothing within the preface timeout, and closed
//! when no call has been open on it for the idle timeout ([`TrackCalls`] counts the calls).
//!
//! A unary response is written with one system call where it can be: h2 writes the
//! response's headers and message, then its trailers, as two writes when the message is
//! chained rather than copied into its buffer (and nothing is buffered behind a chained
//! message until it has been written). Over a connection that says it has no vectored
//! writes, h2 copies messages up to 1 KiB instead of chaining them, and a write buffer sends
//! a larger chained message together with the headers before it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, BufWriter, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Connection options.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Connections open at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// How long a new connection may stay silent before it is closed.
    pub preface_timeout: Duration,
    /// How long a connection may stay without an open call before it is closed; `None`:
    /// never.
    pub idle_timeout: Option<Duration>,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: default_max_connections(),
            preface_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(300)),
        }
    }
}

/// Returns three quarters of the soft open-file limit (the rest is left for index files and
/// the process), at most 10,000.
pub fn default_max_connections() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct passed and reads nothing else.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        lim.rlim_cur
    } else {
        1024
    };
    let soft = usize::try_from(soft).unwrap_or(usize::MAX);
    (soft / 4 * 3).clamp(16, 10_000)
}

/// Bytes of a connection's write buffer: a response up to this size goes out in one write.
const WRITE_BUFFER: usize = 16 * 1024;

/// Returns the stream of accepted connections. The listener is owned by a task that stops
/// (closing the listening socket) when the stream is dropped.
pub fn incoming(
    listener: TcpListener,
    limits: ConnLimits,
) -> ReceiverStream<Result<Conn, io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::spawn(async move {
        loop {
            let permit = tokio::select! {
                () = tx.closed() => return,
                p = slots.clone().acquire_owned() => p.expect("never closed"),
            };
            let accepted = tokio::select! {
                () = tx.closed() => return,
                a = listener.accept() => a,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // EMFILE and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY not set");
            }
            let conn = Conn {
                io: BufWriter::with_capacity(WRITE_BUFFER, stream),
                _slot: permit,
                preface: Some(Box::pin(tokio::time::sleep(limits.preface_timeout))),
                idle: limits
                    .idle_timeout
                    .map(|t| (Box::pin(tokio::time::sleep(t)), t)),
                activity: Arc::new(Activity::default()),
            };
            if tx.send(Ok(conn)).await.is_err() {
                return;
            }
        }
    });
    ReceiverStream::new(rx)
}

/// An accepted connection holding one of the connection slots.
pub struct Conn {
    io: BufWriter<TcpStream>,
    _slot: OwnedSemaphorePermit,
    /// Running until the client's first bytes arrive.
    preface: Option<Pin<Box<Sleep>>>,
    /// The idle check's timer and the idle timeout.
    idle: Option<(Pin<Box<Sleep>>, Duration)>,
    activity: Arc<Activity>,
}

/// The calls open on a connection, and since when none has been.
#[derive(Debug)]
pub struct Activity {
    open: AtomicUsize,
    /// Milliseconds from `born` to the end of the last call.
    idle_since_ms: AtomicU64,
    born: std::time::Instant,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            open: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            born: std::time::Instant::now(),
        }
    }
}

impl Activity {
    fn now_ms(&self) -> u64 {
        self.born.elapsed().as_millis() as u64
    }

    /// Returns how long the connection must still stay open before it counts as idle, or
    /// `None` when it has been idle for `timeout`.
    fn remaining(&self, timeout: Duration) -> Option<Duration> {
        if self.open.load(Ordering::SeqCst) > 0 {
            return Some(timeout);
        }
        let idle_for = Duration::from_millis(
            self.now_ms()
                .saturating_sub(self.idle_since_ms.load(Ordering::SeqCst)),
        );
        timeout.checked_sub(idle_for).filter(|d| !d.is_zero())
    }
}

/// Keeps a call counted as open on its connection until dropped.
#[derive(Debug)]
pub struct OpenCall(Arc<Activity>);

impl Drop for OpenCall {
    fn drop(&mut self) {
        self.0
            .idle_since_ms
            .store(self.0.now_ms(), Ordering::SeqCst);
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the calls of a connection learn about it.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// The addresses, as tonic reports them ([`tonic::Request::remote_addr`]).
    pub tcp: TcpConnectInfo,
    activity: Arc<Activity>,
}

impl ConnInfo {
    /// Counts a call as open until the returned guard is dropped.
    pub fn open_call(&self) -> OpenCall {
        self.activity.open.fetch_add(1, Ordering::SeqCst);
        OpenCall(self.activity.clone())
    }
}

impl Connected for Conn {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        ConnInfo {
            tcp: self.io.get_ref().connect_info(),
            activity: self.activity.clone(),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        match &polled {
            Poll::Ready(Ok(())) if buf.filled().len() > before => this.preface = None,
            Poll::Pending => {
                if let Some(timer) = this.preface.as_mut() {
                    if timer.as_mut().poll(cx).is_ready() {
                        tracing::debug!("closing a connection that sent nothing");
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "no HTTP/2 preface within the timeout",
                        )));
                    }
                }
                if let Some((timer, timeout)) = this.idle.as_mut() {
                    // Re-armed until the connection has had no open call for the timeout.
                    while timer.as_mut().poll(cx).is_ready() {
                        match this.activity.remaining(*timeout) {
                            Some(left) => timer.as_mut().reset(tokio::time::Instant::now() + left),
                            None => {
                                tracing::debug!("closing an idle connection");
                                return Poll::Ready(Err(io::Error::new(
                                    io::ErrorKind::TimedOut,
                                    "no call within the idle timeout",
                                )));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        polled
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    /// Returns false, so that h2 copies a small response message next to its headers and
    /// trailers instead of chaining it (see the module's documentation).
    fn is_write_vectored(&self) -> bool {
        false
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// A tower layer counting every call as open on its connection until its response body is
/// dropped (so a streaming call such as `Health/Watch` keeps its connection from being idle),
/// and giving the call tonic's [`TcpConnectInfo`] for [`tonic::Request::remote_addr`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TrackCallsLayer;

impl<S> tower_layer::Layer<S> for TrackCallsLayer {
    type Service = TrackCalls<S>;

    fn layer(&self, inner: S) -> TrackCalls<S> {
        TrackCalls(inner)
    }
}

/// See [`TrackCallsLayer`].
#[derive(Debug, Clone)]
pub struct TrackCalls<S>(S);

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, RB> tonic::codegen::Service<http::Request<B>> for TrackCalls<S>
where
    S: tonic::codegen::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Tracked<RB>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let ext = request.extensions();
        let info = ext.get::<ConnInfo>().cloned().or_else(|| {
            ext.get::<tonic::transport::server::TlsConnectInfo<ConnInfo>>()
                .map(|t| t.get_ref().clone())
        });
        let open = info.map(|info| {
            let open = info.open_call();
            request.extensions_mut().insert(info.tcp);
            open
        });
        let response = self.0.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| Tracked { body, _open: open }))
        })
    }
}

/// A response body that keeps its call counted as open.
#[derive(Debug)]
pub struct Tracked<B> {
    body: B,
    _open: Option<OpenCall>,
}

impl<B: http_body::Body + Unpin> http_body::Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
