//! The gRPC transport: the only module that imports tonic. Every RPC decodes its request,
//! passes admission control ([`limits`]), calls the [`Engine`], and converts the result;
//! errors become status codes in one place ([`status`]). The engine runs on the blocking
//! pool, or, with [`ServeConfig::search_on_workers`], work of tens to hundreds of
//! microseconds (lexical search, detection, lookups) runs on the async worker that received
//! the call; the sentence encoder (milliseconds per query) and the translation memory always
//! run on the blocking pool ([`Work`]).
//!
//! Around the services: TCP_NODELAY, a connection limit and a preface timeout
//! ([`incoming`]), HTTP/2 keepalive, optional TLS (rustls), request ids, Prometheus metrics
//! ([`metrics`]), and a shutdown that load balancers can follow: health turns NOT_SERVING
//! for a drain period before the listener closes, in-flight calls finish, and after a grace
//! period the server returns even if streams (such as `Health/Watch`) are still open.

mod admin;
pub mod codec;
mod convert;
pub mod incoming;
pub mod limits;
pub mod metrics;
mod status;

use crate::engine::Engine;
use crate::proto::faq_service_server::{FaqService, FaqServiceServer};
use crate::proto::{
    DetectLanguageRequest, DetectLanguageResponse, GetArticleRequest, GetArticleResponse,
    SearchRequest, SearchResponse, TranslateReplyRequest, TranslateReplyResponse,
};
use limits::{Limiter, Refusal};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status};
use tracing::Instrument;

pub use incoming::ConnLimits;
pub use limits::Limits;
pub use metrics::{serve_metrics, Metrics};
pub use status::to_status;

/// The metadata key of the request id, read from the client and echoed in every response.
pub const REQUEST_ID: &str = "x-request-id";

/// The FaqService implementation over an engine.
pub struct FaqApi {
    engine: Arc<Engine>,
    limiter: Limiter,
    metrics: Metrics,
    /// Where searches, detections and lookups run.
    short_work: Work,
    /// Where searches run: as `short_work` without the sentence encoder, else the pool.
    search_work: Work,
}

/// Returns after one turn at the back of the worker's run queue: the task wakes itself,
/// which tokio schedules behind the tasks already waiting. (`tokio::task::yield_now` defers
/// the wake-up until the worker has nothing else to run and then schedules the deferred tasks
/// ahead of those woken by I/O meanwhile, so a health check or a new call's admission waited
/// behind every admitted search: at 2,000 calls/s on the mixed bank, health p99 20 ms instead
/// of 5.5.)
struct Requeue(bool);

impl Future for Requeue {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Where a call's engine work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// Tens to hundreds of microseconds: run on the async worker that received the call,
    /// sparing the hand-off to the blocking pool (context switches and futex wake-ups: a
    /// quarter of the server's CPU in a profile at 1,000 calls/s), but a health check or a
    /// new call then waits until the running search ends.
    Short,
    /// Up to milliseconds (the sentence encoder embeds each query; a translation-memory
    /// lookup's p99 is a few ms): the blocking pool, off the async workers.
    Long,
}

/// One call being answered: its name, id, arrival and deadline.
struct Call {
    method: &'static str,
    id: String,
    arrived: Instant,
    deadline: Option<Instant>,
}

/// Returns the client's request id when it is a short printable ASCII string, else a new one.
pub(super) fn request_id<T>(request: &Request<T>) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    if let Some(id) = request
        .metadata()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
    {
        return id.to_string();
    }
    // Unique within the process, and unlikely to repeat across restarts.
    let prefix = *PREFIX.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.finish() as u32
    });
    format!("{prefix:08x}-{:08x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn with_id<T>(mut r: Response<T>, id: &str) -> Response<T> {
    if let Ok(v) = MetadataValue::try_from(id) {
        r.metadata_mut().insert(REQUEST_ID, v);
    }
    r
}

/// Attaches the request id to a refused call's status.
pub(super) fn status_with_id(s: &mut Status, id: &str) {
    if let Ok(v) = MetadataValue::try_from(id) {
        s.metadata_mut().insert(REQUEST_ID, v);
    }
}

/// Ends a call of either service: counts it by method and status code, hands a refusal to
/// `log_refused`, and attaches the request id to the response or the status.
pub(super) fn conclude<T>(
    metrics: &Metrics,
    method: &'static str,
    id: &str,
    lang: Option<&str>,
    took: Duration,
    result: Result<Response<T>, Status>,
    log_refused: impl FnOnce(&Status),
) -> Result<Response<T>, Status> {
    let code = result
        .as_ref()
        .map_or_else(|s| s.code(), |_| tonic::Code::Ok);
    metrics.request(method, code, lang, took);
    match result {
        Ok(r) => Ok(with_id(r, id)),
        Err(mut s) => {
            log_refused(&s);
            status_with_id(&mut s, id);
            Err(s)
        }
    }
}

impl FaqApi {
    /// Wraps an engine with default limits and fresh metrics.
    pub fn new(engine: Arc<Engine>) -> Self {
        FaqApi::with(engine, Limits::default(), Metrics::new(), false)
    }

    /// Wraps an engine with limits and metrics; `on_workers`: see
    /// [`ServeConfig::search_on_workers`].
    pub fn with(engine: Arc<Engine>, limits: Limits, metrics: Metrics, on_workers: bool) -> Self {
        let short_work = if on_workers { Work::Short } else { Work::Long };
        let search_work = if engine.encoder().is_some() {
            Work::Long
        } else {
            short_work
        };
        FaqApi {
            limiter: Limiter::new(limits, engine.encoder().is_some()),
            engine,
            metrics,
            short_work,
            search_work,
        }
    }

    fn begin<R>(&self, method: &'static str, request: &Request<R>) -> Call {
        let arrived = Instant::now();
        Call {
            method,
            id: request_id(request),
            arrived,
            deadline: self.limiter.deadline(request.metadata(), arrived),
        }
    }

    /// Runs `f` once admitted, on this worker or the blocking pool as `work` says; never
    /// starts it after the deadline.
    async fn run<T, F>(&self, call: &Call, work: Work, f: F) -> Result<T, Status>
    where
        T: Send + 'static,
        F: FnOnce(&Engine) -> Result<T, crate::engine::EngineError> + Send + 'static,
    {
        let refused = |r| match r {
            Refusal::Overloaded => {
                self.metrics.shed(call.method);
                let l = self.limiter.limits();
                Status::resource_exhausted(format!(
                    "server overloaded: {} calls running and {} queued; retry with backoff",
                    l.concurrent,
                    l.queued.unwrap_or_default()
                ))
            }
            Refusal::Expired => self.expired(call),
        };
        let admitted = self.limiter.admit(call.deadline).map_err(refused)?;
        if work == Work::Short {
            // Calls received together take their queue places before any of them runs: a
            // call waiting as a task behind this worker's searches holds no place, so without
            // this the queue bound would never be reached and overload would queue unbounded.
            Requeue(false).await;
        }
        let slot = admitted.start(call.deadline).await.map_err(refused)?;
        if work == Work::Short {
            let result = f(&self.engine);
            drop(slot);
            return result.map_err(|e| to_status(&e));
        }
        let engine = self.engine.clone();
        let deadline = call.deadline;
        let span = tracing::Span::current();
        let task = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let _entered = span.enter();
            if deadline.is_some_and(|d| d <= Instant::now()) {
                return None;
            }
            Some(f(&engine))
        });
        let joined = match deadline {
            Some(d) => tokio::time::timeout_at(d, task)
                .await
                .map_err(|_| self.expired(call))?,
            None => task.await,
        };
        match joined {
            Ok(Some(result)) => result.map_err(|e| to_status(&e)),
            Ok(None) => Err(self.expired(call)),
            Err(e) => {
                tracing::error!(error = %e, "search task failed");
                Err(Status::internal("internal error"))
            }
        }
    }

    fn expired(&self, call: &Call) -> Status {
        self.metrics.expired(call.method);
        Status::deadline_exceeded("the deadline passed before the call could be answered")
    }

    /// Counts and logs the end of a call and attaches its request id.
    fn finish<T>(
        &self,
        call: &Call,
        result: Result<T, Status>,
        lang: Option<&str>,
    ) -> Result<Response<T>, Status> {
        let took = call.arrived.elapsed();
        if result.is_ok() {
            tracing::debug!(took_us = took.as_micros() as u64, "call answered");
        }
        conclude(
            &self.metrics,
            call.method,
            &call.id,
            lang,
            took,
            result.map(Response::new),
            |s| {
                tracing::info!(
                    code = ?s.code(),
                    reason = s.message(),
                    took_us = took.as_micros() as u64,
                    "call refused"
                )
            },
        )
    }

    fn span(call: &Call) -> tracing::Span {
        tracing::info_span!("call", method = call.method, request_id = %call.id)
    }
}

#[tonic::async_trait]
impl FaqService for FaqApi {
    async fn search(
        &self,
        request: Request<SearchRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        let call = self.begin("Search", &request);
        let params = convert::search_params(request.into_inner());
        let span = Self::span(&call);
        async move {
            let outcome = self
                .run(&call, self.search_work, move |e| e.search(&params))
                .await;
            let lang = outcome.as_ref().ok().map(|o| o.choice.lang.code());
            if let Ok(outcome) = &outcome {
                self.metrics.search(outcome);
                tracing::info!(
                    lang = %outcome.choice.lang,
                    source = outcome.choice.source.name(),
                    hits = outcome.hits.len(),
                    answered = outcome.answered,
                    took_us = call.arrived.elapsed().as_micros() as u64,
                    "search"
                );
            }
            self.finish(&call, outcome.map(convert::search_response), lang)
        }
        .instrument(span)
        .await
    }

    async fn detect_language(
        &self,
        request: Request<DetectLanguageRequest>,
    ) -> Result<Response<DetectLanguageResponse>, Status> {
        let call = self.begin("DetectLanguage", &request);
        let r = request.into_inner();
        let span = Self::span(&call);
        async move {
            let result = self
                .run(&call, self.short_work, move |e| {
                    let strict = e.settings().strict_language;
                    e.detect(&r.text, &r.locale_hint)
                        .map(|(c, d)| (c, d, strict))
                })
                .await
                .map(|(choice, detection, strict)| {
                    convert::detect_response(&choice, &detection, strict)
                });
            self.finish(&call, result, None)
        }
        .instrument(span)
        .await
    }

    async fn get_article(
        &self,
        request: Request<GetArticleRequest>,
    ) -> Result<Response<GetArticleResponse>, Status> {
        let call = self.begin("GetArticle", &request);
        let r = request.into_inner();
        let id = r.id.clone();
        let span = Self::span(&call);
        async move {
            let result = self
                .run(&call, self.short_work, move |e| {
                    e.article(&r.id, &r.language)
                })
                .await
                .map(|a| convert::article_response(id, a));
            self.finish(&call, result, None)
        }
        .instrument(span)
        .await
    }

    async fn translate_reply(
        &self,
        request: Request<TranslateReplyRequest>,
    ) -> Result<Response<TranslateReplyResponse>, Status> {
        let call = self.begin("TranslateReply", &request);
        let params = convert::reply_params(request.into_inner());
        let span = Self::span(&call);
        async move {
            let outcome = self
                .run(&call, Work::Long, move |e| e.translate_reply(&params))
                .await;
            if let Ok(outcome) = &outcome {
                tracing::info!(
                    source = %outcome.source,
                    target = %outcome.target,
                    matched = outcome.matched,
                    percent = outcome.percent,
                    took_us = call.arrived.elapsed().as_micros() as u64,
                    "translate_reply"
                );
            }
            self.finish(&call, outcome.map(convert::reply_response), None)
        }
        .instrument(span)
        .await
    }
}

/// TLS material, PEM-encoded.
#[derive(Clone)]
pub struct TlsFiles {
    /// The server's certificate chain.
    pub cert: Vec<u8>,
    /// The server's private key.
    pub key: Vec<u8>,
    /// CA certificates that client certificates must chain to; `None`: no client certificates
    /// are asked for.
    pub client_ca: Option<Vec<u8>>,
}

impl std::fmt::Debug for TlsFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsFiles")
            .field("mutual", &self.client_ca.is_some())
            .finish_non_exhaustive()
    }
}

/// Server options beyond the engine.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The admin API's bearer token; `None` disables the admin API.
    pub admin_token: Option<String>,
    /// Generations kept by admin re-indexes and edits.
    pub keep_generations: usize,
    /// Where admin re-indexes read dumps; `None` refuses them.
    pub dumps: Option<crate::admin::DumpDir>,
    /// Concurrent and queued calls, request timeout.
    pub limits: Limits,
    /// Connection limit and preface timeout.
    pub connections: ConnLimits,
    /// Interval of HTTP/2 keepalive pings; a peer that does not answer one within 20 s is
    /// disconnected. `None`: no pings.
    pub keepalive: Option<Duration>,
    /// How long health reports NOT_SERVING before the listener closes on shutdown.
    pub drain: Duration,
    /// How long in-flight calls and open streams get after the listener closed.
    pub grace: Duration,
    /// TLS; `None` serves plain HTTP/2.
    pub tls: Option<TlsFiles>,
    /// Where calls are counted.
    pub metrics: Metrics,
    /// Runs lexical searches, detections and article lookups on the async workers instead of
    /// the blocking pool: less CPU per call, but a call (a health check too) arriving while a
    /// search runs on its worker waits for it.
    pub search_on_workers: bool,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            admin_token: None,
            keep_generations: 3,
            dumps: None,
            limits: Limits::default(),
            connections: ConnLimits::default(),
            keepalive: Some(Duration::from_secs(60)),
            drain: Duration::ZERO,
            grace: Duration::from_secs(10),
            tls: None,
            metrics: Metrics::new(),
            search_on_workers: false,
        }
    }
}

/// Serves FaqService, health and reflection with the admin API disabled; see [`serve_with`].
pub async fn serve(
    engine: Arc<Engine>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    serve_with(engine, listener, shutdown, ServeConfig::default()).await
}

type AdminServer = crate::proto::admin_service_server::AdminServiceServer<admin::AdminApi>;

/// Serves FaqService, AdminService (answering only with the configured token), health
/// (`grpc.health.v1`) and reflection (v1 and v1alpha) on a bound listener until `shutdown`
/// completes.
///
/// On shutdown, health reports NOT_SERVING (the overall `""` service and each service) for
/// `config.drain`, then the listener closes and in-flight calls finish; after `config.grace`
/// the function returns even if calls or streams are still open.
pub async fn serve_with(
    engine: Arc<Engine>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    config: ServeConfig,
) -> Result<(), ServeError> {
    let admin_enabled = config.admin_token.is_some();
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<FaqServiceServer<FaqApi>>().await;
    if admin_enabled {
        health.set_serving::<AdminServer>().await;
    }
    // Listing names only the services served (the admin API only when enabled) and both
    // reflection versions, as grpcurl's `list` shows them whichever version it asks. Both
    // versions' descriptors are registered in both, so either version describes the other.
    let reflection = || {
        let mut b = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            )
            .with_service_name("faq.v1.FaqService")
            .with_service_name("grpc.health.v1.Health")
            .with_service_name("grpc.reflection.v1.ServerReflection")
            .with_service_name("grpc.reflection.v1alpha.ServerReflection");
        if admin_enabled {
            b = b.with_service_name("faq.v1.AdminService");
        }
        b
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;
    let incoming = incoming::incoming(listener, config.connections);
    let closed = Arc::new(tokio::sync::Notify::new());
    let drain = config.drain;
    let signal = {
        let closed = closed.clone();
        async move {
            shutdown.await;
            health
                .set_service_status("", tonic_health::ServingStatus::NotServing)
                .await;
            health.set_not_serving::<FaqServiceServer<FaqApi>>().await;
            health.set_not_serving::<AdminServer>().await;
            tracing::info!(
                drain_ms = drain.as_millis() as u64,
                "shutting down: draining"
            );
            tokio::time::sleep(drain).await;
            tracing::info!("listener closed; finishing in-flight calls");
            closed.notify_one();
        }
    };
    let mut builder = tonic::transport::Server::builder()
        .http2_keepalive_interval(config.keepalive)
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        // Cancelled calls reset their streams; hyper's default (20 resets of streams not yet
        // accepted) made a burst of cancellations close the connection with GOAWAY
        // "too_many_resets" and fail unrelated calls on it.
        .http2_max_pending_accept_reset_streams(Some(1024))
        .max_concurrent_streams(Some(1024));
    if let Some(tls) = &config.tls {
        let mut t = tonic::transport::ServerTlsConfig::new()
            .identity(tonic::transport::Identity::from_pem(&tls.cert, &tls.key));
        if let Some(ca) = &tls.client_ca {
            t = t.client_ca_root(tonic::transport::Certificate::from_pem(ca));
        }
        builder = builder.tls_config(t)?;
    }
    let server = builder
        .layer(incoming::TrackCallsLayer)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(admin::service(
            crate::admin::Admin::new(engine.clone(), config.keep_generations).with_dumps(
                config
                    .dumps
                    .map(|d| d.refusing(config.admin_token.as_deref())),
            ),
            config.admin_token,
            config.metrics.clone(),
        ))
        .add_service(FaqServiceServer::new(FaqApi::with(
            engine,
            config.limits,
            config.metrics,
            config.search_on_workers,
        )))
        .serve_with_incoming_shutdown(incoming, signal);
    let grace = config.grace;
    let expired = async move {
        closed.notified().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = server => served?,
        () = expired => tracing::warn!(
            grace_ms = grace.as_millis() as u64,
            "grace period over with calls or streams still open; stopping anyway"
        ),
    }
    Ok(())
}

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The reflection service cannot be built from the descriptors.
    #[error("failed to build reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed.
    #[error("gRPC transport failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}
