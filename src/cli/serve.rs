//! `faqd serve`: builds the index if needed, then serves gRPC until SIGINT or SIGTERM.

use super::{EngineArgs, IndexLocation};
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FAQD_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: String,
    /// File holding the admin API's bearer token (at least 16 characters). Without it the
    /// admin API (faq.v1.AdminService) is disabled.
    #[arg(long, env = "FAQD_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    #[command(flatten)]
    pub location: IndexLocation,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Shortest admin token accepted.
const MIN_TOKEN_CHARS: usize = 16;

fn read_token(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read the admin token file {}", path.display()))?;
    let token = text.trim();
    if token.chars().count() < MIN_TOKEN_CHARS || token.chars().any(char::is_whitespace) {
        anyhow::bail!(
            "{}: the admin token must be at least {MIN_TOKEN_CHARS} characters without spaces",
            path.display()
        );
    }
    Ok(token.to_string())
}

pub fn run(a: ServeArgs) -> anyhow::Result<i32> {
    let config = crate::server::ServeConfig {
        admin_token: a.admin_token_file.as_deref().map(read_token).transpose()?,
        keep_generations: a.location.keep_generations,
    };
    let engine = Arc::new(super::open_engine(&a.location, &a.engine)?);
    let runtime = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .with_context(|| format!("failed to listen on {}", a.listen))?;
        let addr = listener.local_addr()?;
        let g = engine.generation();
        tracing::info!(
            %addr,
            generation = g.meta.generation,
            articles = g.article_count(),
            admin = config.admin_token.is_some(),
            "faqd serving gRPC (faq.v1.FaqService, health, reflection)"
        );
        tokio::spawn(reload_on_change(engine.clone()));
        crate::server::serve_with(engine, listener, shutdown_signal(), config).await?;
        Ok(0)
    })
}

/// Serves a newly published generation without a restart: on SIGHUP, and when the
/// `CURRENT` pointer changes (checked every two seconds, so several servers on one index root
/// all follow a `faqd index` run). In-flight searches finish on the generation they started on.
async fn reload_on_change(engine: Arc<crate::engine::Engine>) {
    #[cfg(unix)]
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
    loop {
        #[cfg(unix)]
        {
            let hangup = async {
                match hup.as_mut() {
                    Some(h) => {
                        h.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = tick.tick() => {},
                () = hangup => {
                    tracing::info!("SIGHUP: reloading");
                    reload_glossary(&engine).await;
                }
            }
        }
        #[cfg(not(unix))]
        tick.tick().await;
        let e = engine.clone();
        let before = e.generation().meta.generation;
        match tokio::task::spawn_blocking(move || e.reload()).await {
            Ok(Ok(now)) if now != before => {
                tracing::info!(from = before, to = now, "serving new generation")
            }
            Ok(Ok(_)) => {}
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "reload failed; still serving generation {before}")
            }
            Err(err) => tracing::warn!(error = %err, "reload task failed"),
        }
    }
}

/// Re-reads the glossary (SIGHUP only: the file is not watched); a bad file keeps the old one.
#[cfg(unix)]
async fn reload_glossary(engine: &Arc<crate::engine::Engine>) {
    let e = engine.clone();
    match tokio::task::spawn_blocking(move || e.reload_glossary()).await {
        Ok(Ok(concepts)) => tracing::info!(concepts, "glossary reloaded"),
        Ok(Err(err)) => tracing::warn!(error = %err, "glossary reload failed; keeping the old one"),
        Err(err) => tracing::warn!(error = %err, "glossary reload task failed"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
