//! `faqd bench`: an open-loop load generator for a running server. Search calls are sent at a
//! fixed rate over several connections whether or not earlier calls have returned (a
//! closed-loop client slows down with the server and hides its queueing). Latency is measured
//! from the moment a call is sent; how late the generator sent calls (tokio's timer ticks
//! every millisecond, so calls go out in per-millisecond batches) is reported beside it, and
//! so is the latency of health checks sent meanwhile on a connection of their own, as a load
//! balancer would send them.

use crate::proto::faq_service_client::FaqServiceClient;
use crate::proto::SearchRequest;
use anyhow::Context;
use clap::Args;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Server address (`host:port`, or a URL with `http://` or `https://`).
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub target: String,
    /// Queries to send, one JSON object with a `query` field per line (as in `faqd eval`),
    /// used in turn.
    #[arg(long)]
    pub queries: PathBuf,
    /// Calls per second; several comma-separated rates run one after the other.
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    pub rate: Vec<f64>,
    /// Seconds per rate.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of calls at each rate before measuring starts.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// HTTP/2 connections to spread calls over.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Milliseconds between health checks (`grpc.health.v1.Health/Check`) sent during each
    /// rate on a connection of their own (0: none).
    #[arg(long, default_value_t = 10)]
    pub health_interval_ms: u64,
    /// Deadline of each call in milliseconds (0: none).
    #[arg(long, default_value_t = 1000)]
    pub deadline_ms: u64,
    /// PEM CA certificate to trust for an `https://` target.
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,
    /// Print one JSON object per rate instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What one rate produced.
#[derive(Debug, Default)]
struct Report {
    rate: f64,
    sent: u64,
    ok: u64,
    seconds: f64,
    latency_us: Option<Histogram<u64>>,
    lag_us: Option<Histogram<u64>>,
    health_us: Option<Histogram<u64>>,
    errors: BTreeMap<String, u64>,
    health_errors: u64,
}

fn read_queries(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read {}", super::absolute(path).display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not JSON", path.display(), i + 1))?;
        let q = v
            .get("query")
            .and_then(|q| q.as_str())
            .with_context(|| format!("{}:{}: field `query`: missing", path.display(), i + 1))?;
        out.push(q.to_string());
    }
    anyhow::ensure!(!out.is_empty(), "{}: no queries", path.display());
    Ok(out)
}

/// Returns `connections` channels to the target, each its own HTTP/2 connection.
async fn connect(a: &BenchArgs, connections: usize) -> anyhow::Result<Vec<Channel>> {
    let url = if a.target.contains("://") {
        a.target.clone()
    } else {
        format!("http://{}", a.target)
    };
    let mut endpoint = Endpoint::from_shared(url.clone())
        .with_context(|| format!("--target: {url} is not a URL"))?
        .tcp_nodelay(true);
    if let Some(ca) = &a.tls_ca {
        let pem = std::fs::read(ca).with_context(|| format!("failed to read {}", ca.display()))?;
        endpoint = endpoint.tls_config(
            tonic::transport::ClientTlsConfig::new()
                .ca_certificate(tonic::transport::Certificate::from_pem(pem)),
        )?;
    }
    let mut channels = Vec::new();
    for _ in 0..connections {
        // One endpoint connected several times: each Channel is its own HTTP/2 connection.
        channels.push(
            endpoint
                .connect()
                .await
                .with_context(|| format!("failed to connect to {url}"))?,
        );
    }
    Ok(channels)
}

/// Returns a histogram of microseconds from 1 µs to 10 minutes, 3 significant digits.
/// (`Histogram::new` starts with a highest trackable value of 2,048, at which
/// `saturating_record` would clamp every latency above 2 ms.)
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid bounds")
}

/// Sends calls at `rate` for `warmup + duration` seconds; measures the calls due after the
/// warm-up.
/// Sends a health check every `interval` from `from` until `until`; returns their latencies
/// and the number that failed.
async fn probe_health(
    channel: Channel,
    interval: Duration,
    from: Instant,
    until: Instant,
) -> (Histogram<u64>, u64) {
    let mut client = HealthClient::new(channel);
    let (mut latency, mut failed) = (histogram(), 0);
    let mut tick = tokio::time::interval_at(from, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while tick.tick().await < until {
        let sent = Instant::now();
        match client.check(HealthCheckRequest::default()).await {
            Ok(_) => latency.saturating_record(sent.elapsed().as_micros() as u64),
            Err(_) => failed += 1,
        }
    }
    (latency, failed)
}

async fn run_rate(
    clients: &[FaqServiceClient<Channel>],
    health: Option<&Channel>,
    queries: &[String],
    rate: f64,
    a: &BenchArgs,
) -> anyhow::Result<Report> {
    anyhow::ensure!(rate > 0.0, "--rate: {rate} is not a positive number");
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total = ((a.warmup + a.duration) * rate).round() as u64;
    let measured_from = (a.warmup * rate).round() as u64;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let start = Instant::now();
    let health = health.map(|channel| {
        tokio::spawn(probe_health(
            channel.clone(),
            Duration::from_millis(a.health_interval_ms),
            start + Duration::from_secs_f64(a.warmup),
            start + Duration::from_secs_f64(a.warmup + a.duration),
        ))
    });
    for i in 0..total {
        let due = start + interval.mul_f64(i as f64);
        if due > Instant::now() {
            tokio::time::sleep_until(due).await;
        } else {
            // Behind schedule: let the calls in flight make progress between sends.
            tokio::task::yield_now().await;
        }
        let mut client = clients[i as usize % clients.len()].clone();
        let mut request = tonic::Request::new(SearchRequest {
            query: queries[i as usize % queries.len()].clone(),
            ..Default::default()
        });
        if a.deadline_ms > 0 {
            request.set_timeout(Duration::from_millis(a.deadline_ms));
        }
        let tx = tx.clone();
        tokio::spawn(async move {
            let sent = Instant::now();
            let result = client.search(request).await.map(drop);
            let _ = tx.send((i, sent - due, sent.elapsed(), result.map_err(|s| s.code())));
        });
    }
    drop(tx);
    let mut report = Report {
        rate,
        seconds: a.duration,
        latency_us: Some(histogram()),
        lag_us: Some(histogram()),
        ..Report::default()
    };
    while let Some((i, lag, took, result)) = rx.recv().await {
        if i < measured_from {
            continue;
        }
        report.sent += 1;
        if let Some(h) = report.lag_us.as_mut() {
            h.saturating_record(lag.as_micros() as u64);
        }
        match result {
            Ok(()) => {
                report.ok += 1;
                if let Some(h) = report.latency_us.as_mut() {
                    h.saturating_record(took.as_micros() as u64);
                }
            }
            Err(code) => *report.errors.entry(format!("{code:?}")).or_default() += 1,
        }
    }
    if let Some(health) = health {
        let (latency, failed) = health.await.context("the health checks failed")?;
        report.health_us = Some(latency);
        report.health_errors = failed;
    }
    Ok(report)
}

fn print(reports: &[Report], json: bool) {
    let ms = |h: &Option<Histogram<u64>>, p: f64| {
        h.as_ref()
            .filter(|h| !h.is_empty())
            .map_or(0.0, |h| h.value_at_quantile(p) as f64 / 1000.0)
    };
    let q = |r: &Report, p: f64| ms(&r.latency_us, p);
    let lag = |r: &Report| ms(&r.lag_us, 0.99);
    let health = |r: &Report, p: f64| ms(&r.health_us, p);
    if json {
        for r in reports {
            let v = serde_json::json!({
                "rate": r.rate,
                "sent": r.sent,
                "ok": r.ok,
                "achieved_ok_per_s": r.ok as f64 / r.seconds,
                "p50_ms": q(r, 0.5),
                "p90_ms": q(r, 0.9),
                "p99_ms": q(r, 0.99),
                "p999_ms": q(r, 0.999),
                "send_lag_p99_ms": lag(r),
                "errors": r.errors,
                "health_checks": r.health_us.as_ref().map_or(0, |h| h.len()),
                "health_p50_ms": health(r, 0.5),
                "health_p99_ms": health(r, 0.99),
                "health_max_ms": health(r, 1.0),
                "health_errors": r.health_errors,
            });
            println!("{v}");
        }
        return;
    }
    println!(
        "{:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10}  errors",
        "rate",
        "sent",
        "ok",
        "ok/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "lag p99",
        "health p99"
    );
    for r in reports {
        let mut errors: Vec<String> = r.errors.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if r.health_errors > 0 {
            errors.push(format!("health checks failed={}", r.health_errors));
        }
        println!(
            "{:>8.0} {:>8} {:>8} {:>9.0} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>10.3}  {}",
            r.rate,
            r.sent,
            r.ok,
            r.ok as f64 / r.seconds,
            q(r, 0.5),
            q(r, 0.9),
            q(r, 0.99),
            q(r, 0.999),
            lag(r),
            health(r, 0.99),
            if errors.is_empty() {
                "-".to_string()
            } else {
                errors.join(" ")
            }
        );
    }
}

pub fn run(a: BenchArgs) -> anyhow::Result<i32> {
    let queries = read_queries(&a.queries)?;
    anyhow::ensure!(
        a.duration > 0.0 && a.warmup >= 0.0,
        "--duration must be positive and --warmup not negative"
    );
    // One thread: the generator is pinned to one core in measurements, and a single-threaded
    // runtime keeps its own overhead predictable.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let reports = runtime.block_on(async {
        let clients: Vec<_> = connect(&a, a.connections.max(1))
            .await?
            .into_iter()
            .map(FaqServiceClient::new)
            .collect();
        let health = match a.health_interval_ms {
            0 => None,
            _ => connect(&a, 1).await?.pop(),
        };
        let mut reports = Vec::new();
        for &rate in &a.rate {
            reports.push(run_rate(&clients, health.as_ref(), &queries, rate, &a).await?);
        }
        anyhow::Ok(reports)
    })?;
    print(&reports, a.json);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_above_two_milliseconds_are_not_clamped() {
        let mut h = histogram();
        for us in [300, 5_000, 5_000, 250_000] {
            h.saturating_record(us);
        }
        assert_eq!(h.value_at_quantile(0.5) / 1000, 5);
        assert_eq!(h.max() / 1000, 250);
    }
}
