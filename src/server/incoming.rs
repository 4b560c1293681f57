//! Accepted connections: TCP_NODELAY on each (without it the trailer of every response waits
//! for the client's delayed ACK, about 40 ms), at most `max` open at once (a limit below the
//! process's file limit, so idle sockets cannot starve health checks and searches of file
//! descriptors), and closed when the client sends nothing within the preface timeout.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
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
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: default_max_connections(),
            preface_timeout: Duration::from_secs(10),
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
                io: stream,
                _slot: permit,
                preface: Some(Box::pin(tokio::time::sleep(limits.preface_timeout))),
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
    io: TcpStream,
    _slot: OwnedSemaphorePermit,
    /// Running until the client's first bytes arrive.
    preface: Option<Pin<Box<Sleep>>>,
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.io.connect_info()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        match &polled {
            Poll::Ready(Ok(())) if buf.filled().len() > before => self.preface = None,
            Poll::Pending => {
                if let Some(timer) = self.preface.as_mut() {
                    if timer.as_mut().poll(cx).is_ready() {
                        tracing::debug!("closing a connection that sent nothing");
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "no HTTP/2 preface within the timeout",
                        )));
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

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
