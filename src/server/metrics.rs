//! Prometheus metrics of the server, served as text on their own address (`/metrics`).

use crate::engine::{Engine, SearchOutcome};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use std::sync::Arc;
use std::time::Duration;

/// The server's counters and histograms, in a registry of their own (several servers can run
/// in one process, as in the tests).
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    searches: IntCounterVec,
    fallbacks: IntCounterVec,
    detection: IntCounterVec,
    shed: IntCounterVec,
    expired: IntCounterVec,
    reloads: IntCounterVec,
    generation: IntGauge,
    kept: IntGauge,
    articles: IntGauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry
        .register(Box::new(c.clone()))
        .expect("unique metric");
    c
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::new(name, help).expect("valid metric");
    registry
        .register(Box::new(g.clone()))
        .expect("unique metric");
    g
}

impl Metrics {
    /// Returns fresh metrics in a new registry.
    pub fn new() -> Self {
        let registry = Registry::new();
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "faqd_request_duration_seconds",
                "Time from a call's arrival to its answer, by method and searched language",
            )
            .buckets(vec![
                0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                0.5, 1.0, 2.5,
            ]),
            &["method", "lang"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(latency.clone()))
            .expect("unique metric");
        Metrics {
            requests: counter(
                &registry,
                "faqd_requests_total",
                "Calls answered, by method and gRPC status code",
                &["method", "code"],
            ),
            latency,
            searches: counter(
                &registry,
                "faqd_searches_total",
                "Searches by searched language and whether they were answered",
                &["lang", "answered"],
            ),
            fallbacks: counter(
                &registry,
                "faqd_fallback_hits_total",
                "Hits found in another language, by reason",
                &["reason"],
            ),
            detection: counter(
                &registry,
                "faqd_language_source_total",
                "Searches by how their language was chosen",
                &["source"],
            ),
            shed: counter(
                &registry,
                "faqd_shed_total",
                "Calls refused with RESOURCE_EXHAUSTED because the queue was full",
                &["method"],
            ),
            expired: counter(
                &registry,
                "faqd_deadline_expired_total",
                "Calls not run or not answered because their deadline passed",
                &["method"],
            ),
            reloads: counter(
                &registry,
                "faqd_reloads_total",
                "Reload checks that served a new generation (ok) or failed (error)",
                &["result"],
            ),
            generation: gauge(
                &registry,
                "faqd_generation",
                "The index generation being served",
            ),
            kept: gauge(
                &registry,
                "faqd_dumps_unindexable",
                "1 while the generation served was kept because the dumps named at start cannot \
                 be indexed (admin Stats' dumps_problem says why)",
            ),
            articles: gauge(
                &registry,
                "faqd_articles",
                "Articles in the generation being served",
            ),
            registry,
        }
    }

    /// Counts one answered call.
    pub fn request(&self, method: &str, code: tonic::Code, lang: Option<&str>, took: Duration) {
        self.requests
            .with_label_values(&[method, &(code as i32).to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, lang.unwrap_or("")])
            .observe(took.as_secs_f64());
    }

    /// Counts what a search found.
    pub fn search(&self, outcome: &SearchOutcome) {
        let answered = if outcome.answered { "true" } else { "false" };
        self.searches
            .with_label_values(&[outcome.choice.lang.code(), answered])
            .inc();
        self.detection
            .with_label_values(&[outcome.choice.source.name()])
            .inc();
        for h in &outcome.hits {
            if let Some(f) = h.fallback {
                self.fallbacks.with_label_values(&[f.reason.name()]).inc();
            }
        }
    }

    /// Counts a call refused because the server was full.
    pub fn shed(&self, method: &str) {
        self.shed.with_label_values(&[method]).inc();
    }

    /// Counts a call whose deadline passed.
    pub fn expired(&self, method: &str) {
        self.expired.with_label_values(&[method]).inc();
    }

    /// Counts a reload that served a new generation (`ok`) or failed.
    pub fn reload(&self, ok: bool) {
        self.reloads
            .with_label_values(&[if ok { "ok" } else { "error" }])
            .inc();
    }

    /// Returns the metrics in the Prometheus text format, with the served generation read now.
    pub fn render(&self, engine: &Engine) -> String {
        let g = engine.generation();
        self.generation.set(g.meta.generation as i64);
        self.articles.set(g.article_count() as i64);
        self.kept.set(i64::from(engine.dumps_problem().is_some()));
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding does not fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

/// Serves `GET /metrics` on `listener` until `shutdown` completes.
pub async fn serve_metrics(
    metrics: Metrics,
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let (metrics, engine) = (metrics.clone(), engine.clone());
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    metrics.render(&engine),
                )
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
