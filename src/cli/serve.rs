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
        dumps: a
            .dump_dir
            .as_deref()
            .map(|d| {
                crate::admin::DumpDir::new(d, a.dump_max_bytes)
                    .with_context(|| format!("failed to open the dump directory {}", d.display()))
            })
            .transpose()?,
    };
    let engine = Arc::new(super::open_engine(&a.location, &a.engine)?);
    if a.repoint_current {
        repoint_current(&engine)?;
    }
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
    // The last reload failure, logged once (an unusable CURRENT stays so until repaired).
    let mut failed = String::new();
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
                failed.clear();
                tracing::info!(from = before, to = now, "serving new generation")
            }
            Ok(Ok(_)) => failed.clear(),
            Ok(Err(err)) if err.to_string() == failed => {}
            Ok(Err(err)) => {
                failed = err.to_string();
                tracing::error!(error = %err, "reload failed; still serving generation {before}")
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
