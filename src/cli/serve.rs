//! `faqd serve`: builds the index if needed, then serves gRPC until SIGINT or SIGTERM.

use super::{EngineArgs, IndexLocation};
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FAQD_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: String,
    /// File holding the admin API's bearer token (at least 16 characters). Without it the
    /// admin API (faq.v1.AdminService) is disabled.
    #[arg(long, env = "FAQD_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Directory admin Reindex reads dumps from (request paths are relative to it). Without
    /// it, admin Reindex is refused.
    #[arg(long, env = "FAQD_DUMP_DIR")]
    pub dump_dir: Option<PathBuf>,
    /// Largest dump admin Reindex reads, in bytes.
    #[arg(long, env = "FAQD_DUMP_MAX_BYTES", default_value_t = 1 << 30)]
    pub dump_max_bytes: u64,
    /// When `CURRENT` is unusable and an older generation is served instead, point `CURRENT`
    /// at it (without this flag it is left as found, for the operator to inspect).
    #[arg(long, env = "FAQD_REPOINT_CURRENT")]
    pub repoint_current: bool,
    /// Allows the admin API on a non-loopback address without TLS (the token would travel in
    /// plain text).
    #[arg(long, env = "FAQD_ADMIN_ALLOW_PLAINTEXT")]
    pub admin_allow_plaintext: bool,
    /// PEM certificate chain: serve over TLS (needs --tls-key).
    #[arg(long, env = "FAQD_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "FAQD_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates: require client certificates signed by them (mutual TLS).
    #[arg(long, env = "FAQD_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Address of the Prometheus metrics endpoint (`GET /metrics`); off when unset.
    #[arg(long, env = "FAQD_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Calls run at once (default: the number of cores).
    #[arg(long, env = "FAQD_MAX_CONCURRENT")]
    pub max_concurrent: Option<usize>,
    /// Calls that may wait for a free slot; beyond them calls get RESOURCE_EXHAUSTED at once
    /// (default: 16 per core; with the sentence encoder, whose searches take milliseconds, 4
    /// per running call).
    #[arg(long, env = "FAQD_MAX_QUEUED")]
    pub max_queued: Option<usize>,
    /// Longest time a call may take, in seconds, when the client's deadline is not sooner
    /// (0: no limit).
    #[arg(long, env = "FAQD_REQUEST_TIMEOUT", default_value_t = 10.0)]
    pub request_timeout: f64,
    /// Runs lexical searches, detections and article lookups on the async workers instead of
    /// the blocking pool: less CPU per call, but a call (a health check too) arriving while a
    /// search runs waits for it. Searches with the sentence encoder stay on the pool.
    #[arg(long, env = "FAQD_SEARCH_ON_WORKERS")]
    pub search_on_workers: bool,
    /// Connections open at once (default: three quarters of the open-file limit, at most
    /// 10,000).
    #[arg(long, env = "FAQD_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Seconds a new connection may stay silent before it is closed.
    #[arg(long, env = "FAQD_PREFACE_TIMEOUT", default_value_t = 10.0)]
    pub preface_timeout: f64,
    /// Seconds a connection may stay without an open call before it is closed (0: never).
    #[arg(long, env = "FAQD_IDLE_TIMEOUT", default_value_t = 300.0)]
    pub idle_timeout: f64,
    /// Seconds between HTTP/2 keepalive pings (0: none); a peer silent 20 s after a ping is
    /// disconnected.
    #[arg(long, env = "FAQD_KEEPALIVE", default_value_t = 60.0)]
    pub keepalive: f64,
    /// Seconds health reports NOT_SERVING after SIGTERM/SIGINT before the listener closes.
    #[arg(long, env = "FAQD_DRAIN", default_value_t = 5.0)]
    pub drain: f64,
    /// Seconds in-flight calls and open streams get after the listener closed.
    #[arg(long, env = "FAQD_GRACE", default_value_t = 10.0)]
    pub grace: f64,
    #[command(flatten)]
    pub location: IndexLocation,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Shortest admin token accepted.
const MIN_TOKEN_CHARS: usize = 16;

fn read_token(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "failed to read the admin token file {}",
            super::absolute(path).display()
        )
    })?;
    let token = text.trim();
    if token.chars().count() < MIN_TOKEN_CHARS || token.chars().any(char::is_whitespace) {
        anyhow::bail!(
            "{}: the admin token must be at least {MIN_TOKEN_CHARS} characters without spaces",
            path.display()
        );
    }
    Ok(token.to_string())
}

/// Warns when a secret file can be read by group or others.
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path) {
            let mode = m.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "the admin token file is readable by group or others; chmod 600 it"
                );
            }
        }
    }
}

fn seconds(flag: &str, s: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| anyhow::anyhow!("--{flag}: {s} is not a number of seconds (0 or more)"))
}

fn read_pem(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path)
        .with_context(|| format!("failed to read {}", super::absolute(path).display()))
}

/// Reads a PEM file of certificates, checked before the server starts: a file without one
/// is refused, naming the flag and the file.
fn read_certificates(flag: &str, path: &Path) -> anyhow::Result<Vec<u8>> {
    use rustls_pki_types::{pem::PemObject, CertificateDer};
    let pem = read_pem(path)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("--{flag} {}: {e}", super::absolute(path).display()))?;
    anyhow::ensure!(
        !certificates.is_empty(),
        "--{flag} {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file",
        super::absolute(path).display()
    );
    Ok(pem)
}

/// Reads the PEM private key, checked before the server starts.
fn read_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    use rustls_pki_types::{pem::PemObject, PrivateKeyDer};
    let pem = read_pem(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        anyhow::anyhow!(
            "--tls-key {}: no usable PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
            super::absolute(path).display()
        )
    })?;
    Ok(pem)
}

fn config(a: &ServeArgs) -> anyhow::Result<crate::server::ServeConfig> {
    let cores = crate::server::Limits::from_cores();
    let request_timeout = seconds("request-timeout", a.request_timeout)?;
    let keepalive = seconds("keepalive", a.keepalive)?;
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(cert), Some(key)) => Some(crate::server::TlsFiles {
            cert: read_certificates("tls-cert", cert)?,
            key: read_key(key)?,
            client_ca: a
                .tls_client_ca
                .as_deref()
                .map(|ca| read_certificates("tls-client-ca", ca))
                .transpose()?,
        }),
        _ => None,
    };
    let admin_token = a.admin_token_file.as_deref().map(read_token).transpose()?;
    if let Some(path) = &a.admin_token_file {
        warn_if_shared(path);
    }
    Ok(crate::server::ServeConfig {
        admin_token,
        keep_generations: a.location.keep_generations,
        dumps: a
            .dump_dir
            .as_deref()
            .map(|d| {
                crate::admin::DumpDir::new(d, a.dump_max_bytes)
                    .with_context(|| format!("failed to open the dump directory {}", d.display()))
            })
            .transpose()?,
        limits: crate::server::Limits {
            concurrent: a.max_concurrent.unwrap_or(cores.concurrent),
            queued: a.max_queued,
            request_timeout: (!request_timeout.is_zero()).then_some(request_timeout),
        },
        connections: crate::server::ConnLimits {
            max_connections: a
                .max_connections
                .unwrap_or_else(crate::server::incoming::default_max_connections),
            preface_timeout: seconds("preface-timeout", a.preface_timeout)?,
            idle_timeout: Some(seconds("idle-timeout", a.idle_timeout)?).filter(|t| !t.is_zero()),
        },
        keepalive: (!keepalive.is_zero()).then_some(keepalive),
        drain: seconds("drain", a.drain)?,
        grace: seconds("grace", a.grace)?,
        tls,
        metrics: crate::server::Metrics::new(),
        search_on_workers: a.search_on_workers,
    })
}

pub fn run(a: ServeArgs) -> anyhow::Result<i32> {
    // A bad flag value (a duration, a TLS file without a certificate or key, a token file) is
    // a usage error, found before anything starts.
    let config = match config(&a) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(2);
        }
    };
    // Before the index is opened (a build can take long) and before --repoint-current
    // changes anything. The listener binds the first of these addresses: when any is off
    // the machine, so may be the one bound (when none resolves, binding fails too).
    let off_loopback = |listen: &str| {
        std::net::ToSocketAddrs::to_socket_addrs(listen)
            .is_ok_and(|mut addrs| addrs.any(|addr| !addr.ip().is_loopback()))
    };
    if config.admin_token.is_some()
        && config.tls.is_none()
        && !a.admin_allow_plaintext
        && off_loopback(&a.listen)
    {
        eprintln!(
            "error: the admin API on {} would receive its token in plain text: serve with \
             --tls-cert/--tls-key, listen on a loopback address, or pass \
             --admin-allow-plaintext",
            a.listen
        );
        return Ok(2);
    }
    let engine = Arc::new(super::open_engine(&a.location, &a.engine, true)?);
    if a.repoint_current {
        repoint_current(&engine)?;
    }
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    let code = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .with_context(|| format!("failed to listen on {}", a.listen))?;
        let addr = listener.local_addr()?;
        if let Some(m) = &a.metrics_listen {
            let ml = tokio::net::TcpListener::bind(m)
                .await
                .with_context(|| format!("failed to listen on {m} for metrics"))?;
            tracing::info!(addr = %ml.local_addr()?, "serving Prometheus metrics on /metrics");
            let (metrics, engine) = (config.metrics.clone(), engine.clone());
            tokio::spawn(async move {
                let served =
                    crate::server::serve_metrics(metrics, engine, ml, std::future::pending()).await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "the metrics endpoint failed");
                }
            });
        }
        // The signals are listened for before the start is announced: a SIGTERM or SIGHUP
        // sent as soon as the server says it serves would otherwise find their default
        // action, which ends the process without a drain.
        let shutdown = shutdown_signal();
        let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let g = engine.generation();
        tracing::info!(
            %addr,
            generation = g.meta.generation,
            articles = g.article_count(),
            admin = config.admin_token.is_some(),
            tls = config.tls.is_some(),
            concurrent = config.limits.concurrent,
            queued = config.limits.queue(engine.encoder().is_some()),
            "faqd serving gRPC (faq.v1.FaqService, health, reflection)"
        );
        if g.meta.skipped_records > 0 {
            tracing::warn!(
                generation = g.meta.generation,
                records = g.meta.skipped_records,
                first = %g.meta.skipped.first().map_or("", String::as_str),
                "the served generation was built skipping invalid records of its dumps: they \
                 are not in it (admin Stats lists them)"
            );
        }
        tokio::spawn(reload_on_change(
            engine.clone(),
            config.metrics.clone(),
            hup,
        ));
        crate::server::serve_with(engine, listener, shutdown, config).await?;
        Ok::<i32, anyhow::Error>(0)
    })?;
    // Searches still running after the grace period are not waited for.
    runtime.shutdown_timeout(Duration::from_millis(100));
    tracing::info!("stopped");
    Ok(code)
}

/// Serves a newly published generation without a restart: on SIGHUP, and when the
/// `CURRENT` pointer changes (checked every two seconds, so several servers on one index root
/// all follow a `faqd index` run). In-flight searches finish on the generation they started on.
async fn reload_on_change(
    engine: Arc<crate::engine::Engine>,
    metrics: crate::server::Metrics,
    mut hup: Option<tokio::signal::unix::Signal>,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
    // The last reload failure, logged once (an unusable CURRENT stays so until repaired).
    let mut failed = String::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {},
            () = next_of(&mut hup) => {
                tracing::info!(
                    "SIGHUP: re-reading the glossary and serving a newer generation if CURRENT \
                     names one (dumps are re-read by `faqd index` or admin Reindex, not by \
                     SIGHUP)"
                );
                reload_glossary(&engine).await;
            }
        }
        let e = engine.clone();
        let before = e.generation().meta.generation;
        match tokio::task::spawn_blocking(move || e.reload()).await {
            Ok(Ok(now)) if now != before => {
                failed.clear();
                metrics.reload(true);
                tracing::info!(from = before, to = now, "serving new generation")
            }
            Ok(Ok(_)) => failed.clear(),
            Ok(Err(err)) if err.to_string() == failed => {}
            Ok(Err(err)) => {
                failed = err.to_string();
                metrics.reload(false);
                tracing::error!(error = %err, "reload failed; still serving generation {before}")
            }
            Err(err) => tracing::warn!(error = %err, "reload task failed"),
        }
    }
}

/// Re-reads the glossary (SIGHUP only: the file is not watched); a bad file keeps the old one.
async fn reload_glossary(engine: &Arc<crate::engine::Engine>) {
    let e = engine.clone();
    match tokio::task::spawn_blocking(move || e.reload_glossary()).await {
        Ok(Ok(concepts)) => tracing::info!(concepts, "glossary reloaded"),
        Ok(Err(err)) => tracing::warn!(error = %err, "glossary reload failed; keeping the old one"),
        Err(err) => tracing::warn!(error = %err, "glossary reload task failed"),
    }
}

/// Points `CURRENT` at the served generation when it names another (the served one is then
/// the newest that opened and verified).
fn repoint_current(engine: &crate::engine::Engine) -> anyhow::Result<()> {
    use crate::index;
    let root = engine.root();
    let served = engine.generation().meta.generation;
    if index::current_generation(root).ok().flatten() == Some(served) {
        return Ok(());
    }
    let lock = index::RootLock::acquire(root)?;
    index::repoint_current(&lock, served)
        .with_context(|| format!("failed to repoint CURRENT in {}", root.display()))?;
    tracing::warn!(
        generation = served,
        "CURRENT repointed to the served generation"
    );
    Ok(())
}

/// Returns a future that resolves on the first SIGTERM or SIGINT; both are listened for from
/// this call on (not from the future's first poll). A second one, during the drain or the
/// grace period, stops the process at once (exit code 130): an operator who presses Ctrl-C
/// twice does not wait for open calls or streams.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    // Both listeners are made once, so that a second signal sent right after the first is
    // not missed.
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    async move {
        let mut next = async move || {
            tokio::select! {
                () = next_of(&mut term) => {},
                () = next_of(&mut int) => {},
            }
        };
        next().await;
        tokio::spawn(async move {
            next().await;
            tracing::warn!(
                "second signal: stopping now, without waiting for the drain or open calls"
            );
            std::process::exit(130);
        });
    }
}

/// Waits for the next delivery of `signal`; forever if it could not be listened for.
async fn next_of(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal.as_mut() {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
