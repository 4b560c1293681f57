//! The gRPC transport: the only module that imports tonic. Every RPC decodes its request,
//! calls the [`Engine`] off the async threads, and converts the result; errors become status
//! codes in one place ([`status`]).

mod admin;
mod convert;
mod status;

use crate::engine::Engine;
use crate::proto::faq_service_server::{FaqService, FaqServiceServer};
use crate::proto::{
    DetectLanguageRequest, DetectLanguageResponse, GetArticleRequest, GetArticleResponse,
    SearchRequest, SearchResponse, TranslateReplyRequest, TranslateReplyResponse,
};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

pub use status::to_status;

/// The FaqService implementation over an engine.
pub struct FaqApi {
    engine: Arc<Engine>,
}

impl FaqApi {
    /// Wraps an engine.
    pub fn new(engine: Arc<Engine>) -> Self {
        FaqApi { engine }
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, Status>
    where
        T: Send + 'static,
        F: FnOnce(&Engine) -> Result<T, crate::engine::EngineError> + Send + 'static,
    {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || f(&engine))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "search task failed");
                Status::internal("internal error")
            })?
            .map_err(|e| to_status(&e))
    }
}

#[tonic::async_trait]
impl FaqService for FaqApi {
    async fn search(
        &self,
        request: Request<SearchRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        let params = convert::search_params(request.into_inner());
        let start = std::time::Instant::now();
        let outcome = self.blocking(move |e| e.search(&params)).await?;
        tracing::info!(
            lang = %outcome.choice.lang,
            source = outcome.choice.source.name(),
            hits = outcome.hits.len(),
            answered = outcome.answered,
            took_us = start.elapsed().as_micros() as u64,
            "search"
        );
        Ok(Response::new(convert::search_response(outcome)))
    }

    async fn detect_language(
        &self,
        request: Request<DetectLanguageRequest>,
    ) -> Result<Response<DetectLanguageResponse>, Status> {
        let r = request.into_inner();
        let (choice, detection) = self
            .blocking(move |e| e.detect(&r.text, &r.locale_hint))
            .await?;
        Ok(Response::new(convert::detect_response(&choice, &detection)))
    }

    async fn get_article(
        &self,
        request: Request<GetArticleRequest>,
    ) -> Result<Response<GetArticleResponse>, Status> {
        let r = request.into_inner();
        let id = r.id.clone();
        let (chosen, versions) = self
            .blocking(move |e| e.article(&r.id, &r.language))
            .await?;
        Ok(Response::new(convert::article_response(
            id, chosen, versions,
        )))
    }

    async fn translate_reply(
        &self,
        request: Request<TranslateReplyRequest>,
    ) -> Result<Response<TranslateReplyResponse>, Status> {
        let params = convert::reply_params(request.into_inner());
        let start = std::time::Instant::now();
        let outcome = self.blocking(move |e| e.translate_reply(&params)).await?;
        tracing::info!(
            source = %outcome.source,
            target = %outcome.target,
            matched = outcome.matched,
            percent = outcome.percent,
            took_us = start.elapsed().as_micros() as u64,
            "translate_reply"
        );
        Ok(Response::new(convert::reply_response(outcome)))
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
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            admin_token: None,
            keep_generations: 3,
            dumps: None,
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

/// Serves FaqService, AdminService (answering only with the configured token), health
/// (`grpc.health.v1`) and reflection (v1 and v1alpha) on a bound listener until `shutdown`
/// completes; health turns NOT_SERVING first.
pub async fn serve_with(
    engine: Arc<Engine>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    config: ServeConfig,
) -> Result<(), ServeError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<FaqServiceServer<FaqApi>>().await;
    if config.admin_token.is_some() {
        health
            .set_serving::<crate::proto::admin_service_server::AdminServiceServer<admin::AdminApi>>(
            )
            .await;
    }
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let shutdown = async move {
        shutdown.await;
        health.set_not_serving::<FaqServiceServer<FaqApi>>().await;
        tracing::info!("shutting down");
    };
    tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(admin::service(
            crate::admin::Admin::new(engine.clone(), config.keep_generations)
                .with_dumps(config.dumps),
            config.admin_token,
        ))
        .add_service(FaqServiceServer::new(FaqApi::new(engine)))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
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
