//! The AdminService transport: a bearer-token check in front of [`crate::admin::Admin`].
//!
//! Without a configured token the service answers every call with UNIMPLEMENTED ("disabled").
//! With one, a call must carry `authorization: Bearer <token>`; the token is compared in
//! constant time (`subtle`), so response timing does not reveal how much of a guess matched.

use super::status::to_status;
use super::Metrics;
use crate::admin::Admin;
use crate::engine::EngineError;
use crate::ingest::{Article, Fields, Format, Origin, RecordError};
use crate::lang::Variant;
use crate::proto::admin_service_server::{AdminService, AdminServiceServer};
use crate::proto::{
    ArticleRecord, DeleteArticlesRequest, MutationResponse, ReindexRequest, ReindexResponse,
    ReloadRequest, ReloadResponse, StatsRequest, StatsResponse, UpsertArticlesRequest,
};
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tonic::service::interceptor::InterceptedService;
use tonic::{Request, Response, Status};
use tracing::Instrument;

/// The admin service as mounted on the server.
pub type Mounted = InterceptedService<AdminServiceServer<AdminApi>, TokenCheck>;

/// Builds the admin service; `token` `None` disables it. Its calls are counted in `metrics`
/// by method and status code, as FaqService's are.
pub fn service(admin: Admin, token: Option<String>, metrics: Metrics) -> Mounted {
    AdminServiceServer::with_interceptor(
        AdminApi {
            admin: Arc::new(admin),
            metrics: metrics.clone(),
        },
        TokenCheck {
            token: token.map(|t| Arc::from(t.into_bytes())),
            metrics,
        },
    )
}

/// Checks the bearer token of every admin call.
#[derive(Clone)]
pub struct TokenCheck {
    token: Option<Arc<[u8]>>,
    metrics: Metrics,
}

/// Names a call's peer in a log line.
fn peer<T>(request: &Request<T>) -> String {
    request
        .remote_addr()
        .map_or_else(|| "unknown".to_string(), |a| a.to_string())
}

impl tonic::service::Interceptor for TokenCheck {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(token) = &self.token else {
            return Err(Status::unimplemented(
                "the admin API is disabled: start faqd serve with --admin-token-file",
            ));
        };
        let header = request.metadata().get("authorization");
        let given = header
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token);
        let refused = match given {
            Some(given) if bool::from(given.trim().as_bytes().ct_eq(token)) => return Ok(request),
            Some(_) => ("admin login failed: invalid token", "invalid admin token"),
            None if header.is_some() => (
                "admin call with a malformed authorization",
                "the `authorization` metadata is not `Bearer <token>`: send the token after \
                 `Bearer `",
            ),
            None => (
                "admin call without a token",
                "missing admin token: send the metadata `authorization: Bearer <token>`",
            ),
        };
        // Counted (latency 0: no work was done) and logged with the peer and the request id,
        // which the client gets back.
        let id = super::request_id(&request);
        tracing::warn!(remote = %peer(&request), request_id = %id, "{}", refused.0);
        self.metrics
            .request("Admin", tonic::Code::Unauthenticated, None, Duration::ZERO);
        let mut s = Status::unauthenticated(refused.1);
        super::status_with_id(&mut s, &id);
        Err(s)
    }
}

/// The AdminService implementation.
pub struct AdminApi {
    admin: Arc<Admin>,
    metrics: Metrics,
}

impl AdminApi {
    /// Runs one admin call in a span that names it and its request id, counts it by status
    /// code, logs a refused one (code and reason) at WARN, and attaches the request id.
    async fn logged<Q, T, Fut>(
        &self,
        method: &'static str,
        request: Request<Q>,
        f: impl FnOnce(Request<Q>) -> Fut,
    ) -> Result<Response<T>, Status>
    where
        Fut: std::future::Future<Output = Result<Response<T>, Status>>,
    {
        let id = super::request_id(&request);
        let arrived = Instant::now();
        let span = tracing::info_span!("call", method, request_id = %id);
        let result = f(request).instrument(span.clone()).await;
        let took = arrived.elapsed();
        let _entered = span.enter();
        super::conclude(&self.metrics, method, &id, None, took, result, |s| {
            tracing::warn!(
                code = ?s.code(),
                reason = s.message(),
                took_us = took.as_micros() as u64,
                "admin call refused"
            )
        })
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, Status>
    where
        T: Send + 'static,
        F: FnOnce(&Admin) -> Result<T, EngineError> + Send + 'static,
    {
        let admin = self.admin.clone();
        // The call's span (method, request id) follows the work: a build logs from there.
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| f(&admin)))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "admin task failed");
                Status::internal("internal error")
            })?
            .map_err(|e| to_status(&e))
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> Status {
    to_status(&EngineError::InvalidArgument {
        field,
        message: message.into(),
    })
}

/// Validates one upserted record exactly as a dump record is validated.
fn article(index: usize, r: ArticleRecord) -> Result<Article, RecordError> {
    let origin = Origin {
        file: "UpsertArticles".into(),
        line: index + 1,
        unit: "article",
        record: 0,
    };
    let f = Fields { origin: &origin };
    let list = |items: Vec<String>| -> Vec<String> {
        items
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    f.checked_article(
        Article {
            id: f.id("id", Some(r.id))?,
            lang: f.lang("language", Some(r.language))?,
            title: f.required("title", Some(r.title))?,
            questions: list(r.questions),
            answer: f.present("answer", Some(r.answer))?,
            category: r.category.trim().to_string(),
            tags: list(r.tags),
            url: r.url.trim().to_string(),
            updated_at: f.time("updated_at", Some(r.updated_at))?,
        },
        "language",
    )
}

fn mutation(e: crate::admin::Edited) -> MutationResponse {
    MutationResponse {
        generation: e.generation,
        article_versions: e.article_versions as u32,
        changed: e.changed as u32,
    }
}

/// The calls' own work ([`AdminService`] wraps each in [`AdminApi::logged`]).
impl AdminApi {
    async fn reindex_call(
        &self,
        request: Request<ReindexRequest>,
    ) -> Result<Response<ReindexResponse>, Status> {
        let r = request.into_inner();
        let format = match r.format.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(f) => Some(<Format as clap::ValueEnum>::from_str(f, true).map_err(|_| {
                invalid(
                    "format",
                    format!("unknown format {f:?} (use jsonl, csv or zendesk)"),
                )
            })?),
        };
        let paths = r.paths;
        let done = self
            .blocking(move |a| a.reindex(&paths, format, r.skip_invalid))
            .await?;
        tracing::info!(
            generation = done.generation,
            articles = done.article_versions,
            skipped = crate::ingest::records_kept_out(&done.skipped),
            "admin: reindexed"
        );
        Ok(Response::new(ReindexResponse {
            generation: done.generation,
            article_versions: done.article_versions as u32,
            skipped: done.skipped.iter().map(ToString::to_string).collect(),
            skipped_records: crate::ingest::records_kept_out(&done.skipped) as u32,
            build_ms: done.build_ms,
            ignored_fields: done
                .ignored_fields
                .iter()
                .map(ToString::to_string)
                .collect(),
            replaced_edits: done.replaced_edits.map_or(0, |(_, edits)| edits),
            replaced_edit_ids: done.replaced_ids,
            empty_answers: listed(&done.empty_answers, LISTED_EMPTY_ANSWERS),
        }))
    }

    async fn upsert_articles_call(
        &self,
        request: Request<UpsertArticlesRequest>,
    ) -> Result<Response<MutationResponse>, Status> {
        let mut articles = Vec::new();
        let mut errors = Vec::new();
        for (i, r) in request.into_inner().articles.into_iter().enumerate() {
            match article(i, r) {
                Ok(a) => articles.push(a),
                Err(e) => errors.push(e.to_string()),
            }
        }
        if !errors.is_empty() {
            return Err(to_status(&EngineError::InvalidRecords {
                field: "articles",
                records: errors.len(),
                problems: errors,
            }));
        }
        let empty: Vec<String> = articles
            .iter()
            .filter(|a| a.answer.trim().is_empty())
            .map(|a| format!("{} ({})", crate::lang::start(&a.id, 64), a.lang))
            .collect();
        if !empty.is_empty() {
            tracing::warn!(
                versions = empty.len(),
                first = %empty[..empty.len().min(5)].join(", "),
                "admin: upserting article versions with an empty answer: a hit on one shows its title only"
            );
        }
        let done = self.blocking(move |a| a.upsert(articles)).await?;
        tracing::info!(
            generation = done.generation,
            changed = done.changed,
            "admin: upserted"
        );
        Ok(Response::new(mutation(done)))
    }

    async fn delete_articles_call(
        &self,
        request: Request<DeleteArticlesRequest>,
    ) -> Result<Response<MutationResponse>, Status> {
        let r = request.into_inner();
        let lang = match r.language.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(l) => Some(Variant::parse(l).map_err(|e| invalid("language", e.to_string()))?),
        };
        let done = self.blocking(move |a| a.delete(&r.ids, lang)).await?;
        tracing::info!(
            generation = done.generation,
            changed = done.changed,
            "admin: deleted"
        );
        Ok(Response::new(mutation(done)))
    }

    async fn reload_call(
        &self,
        _request: Request<ReloadRequest>,
    ) -> Result<Response<ReloadResponse>, Status> {
        let done = self.blocking(|a| a.reload()).await?;
        Ok(Response::new(ReloadResponse {
            previous_generation: done.previous,
            generation: done.generation,
            glossary_concepts: done.glossary_concepts as u32,
        }))
    }

    async fn stats_call(
        &self,
        _request: Request<StatsRequest>,
    ) -> Result<Response<StatsResponse>, Status> {
        let s = self.blocking(|a| Ok(a.stats())).await?;
        let (ranking, ranking_note) = super::convert::ranking(s.ranking.clone());
        Ok(Response::new(StatsResponse {
            generation: s.generation,
            articles_by_language: s
                .articles_by_language
                .into_iter()
                .map(|(k, v)| (k, v as u32))
                .collect(),
            article_ids: s.article_ids as u32,
            build_ms: s.build_ms,
            built_at: s.built_at,
            sources: s.sources,
            glossary_concepts: s.glossary_concepts as u32,
            translation_memory_entries: s.memory_entries as u32,
            searches_served: s.searches_served,
            ranking,
            ranking_note,
            model: s.model.map(|p| p.display().to_string()).unwrap_or_default(),
            vectors: s.vectors as u32,
            weighed_as: s.weighed_as.into(),
            categories: s.categories,
            dumps_problem: s.dumps_problem.unwrap_or_default(),
            skipped_records: s.skipped.0 as u64,
            skipped: s.skipped.1,
        }))
    }
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn reindex(
        &self,
        request: Request<ReindexRequest>,
    ) -> Result<Response<ReindexResponse>, Status> {
        self.logged("Reindex", request, |r| self.reindex_call(r))
            .await
    }

    async fn upsert_articles(
        &self,
        request: Request<UpsertArticlesRequest>,
    ) -> Result<Response<MutationResponse>, Status> {
        self.logged("UpsertArticles", request, |r| self.upsert_articles_call(r))
            .await
    }

    async fn delete_articles(
        &self,
        request: Request<DeleteArticlesRequest>,
    ) -> Result<Response<MutationResponse>, Status> {
        self.logged("DeleteArticles", request, |r| self.delete_articles_call(r))
            .await
    }

    async fn reload(
        &self,
        request: Request<ReloadRequest>,
    ) -> Result<Response<ReloadResponse>, Status> {
        self.logged("Reload", request, |r| self.reload_call(r))
            .await
    }

    async fn stats(
        &self,
        request: Request<StatsRequest>,
    ) -> Result<Response<StatsResponse>, Status> {
        self.logged("Stats", request, |r| self.stats_call(r)).await
    }
}

/// Most records with an empty answer a Reindex reply names.
const LISTED_EMPTY_ANSWERS: usize = 20;

/// The first `most` problems as text, then `… and N more` when there are more.
fn listed(errors: &[RecordError], most: usize) -> Vec<String> {
    let mut out: Vec<String> = errors.iter().take(most).map(ToString::to_string).collect();
    if errors.len() > most {
        out.push(format!("… and {} more", errors.len() - most));
    }
    out
}
