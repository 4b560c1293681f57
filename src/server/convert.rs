//! Conversions between proto messages and domain types.

use crate::engine::{GroupHit, SearchOutcome, SearchParams};
use crate::lang::{Choice, Detection, Source};
use crate::proto;
use crate::translate::Version;

pub fn search_params(r: proto::SearchRequest) -> SearchParams {
    SearchParams {
        query: r.query,
        language: r.language,
        locale_hint: r.locale_hint,
        agent_language: r.agent_language,
        top_k: r.top_k,
        category: r.category,
        no_snippets: false,
    }
}

fn source(s: Source) -> i32 {
    (match s {
        Source::Override => proto::LanguageSource::Override,
        Source::Detected => proto::LanguageSource::Detected,
        Source::Hint => proto::LanguageSource::Hint,
        Source::Default => proto::LanguageSource::Default,
    }) as i32
}

pub fn version(v: Version) -> proto::ArticleVersion {
    let a = v.article;
    proto::ArticleVersion {
        language: a.lang.tag().to_string(),
        title: a.title,
        answer: a.answer,
        questions: a.questions,
        url: a.url,
        category: a.category,
        tags: a.tags,
        updated_at: a.updated_at,
        stale: v.stale,
    }
}

fn hit(h: GroupHit) -> proto::SearchHit {
    let found_language = h.hit.version.lang.lang().code().to_string();
    let a = h.shown.article;
    proto::SearchHit {
        id: a.id,
        language: a.lang.tag().to_string(),
        title: a.title,
        answer: a.answer,
        snippet: h.hit.snippet,
        score: h.hit.score,
        confidence: h.hit.confidence,
        url: a.url,
        category: a.category,
        available_languages: h.available.iter().map(|v| v.tag().to_string()).collect(),
        agent_version: h.agent_version.map(version),
        candidate_only: h.candidate_only,
        // Set by the cross-language fallback (issue 6).
        fallback: proto::FallbackReason::Unspecified as i32,
        found_language,
    }
}

pub fn search_response(o: SearchOutcome) -> proto::SearchResponse {
    proto::SearchResponse {
        language: o.choice.lang.code().to_string(),
        language_source: source(o.choice.source),
        language_confidence: o.choice.confidence,
        answered: o.answered,
        hits: o.hits.into_iter().map(hit).collect(),
        confidence_threshold: o.threshold,
        unsupported_language: o.unsupported.unwrap_or_default().to_string(),
        generation: o.generation,
        fallback_used: false,
    }
}

pub fn detect_response(c: &Choice, d: &Detection) -> proto::DetectLanguageResponse {
    let unsupported = d.is_unsupported();
    proto::DetectLanguageResponse {
        language: if unsupported && c.source == Source::Default {
            String::new()
        } else {
            c.lang.code().to_string()
        },
        confidence: d.confidence,
        source: source(c.source),
        alternatives: d
            .alternatives
            .iter()
            .map(|(code, conf)| proto::LanguageCandidate {
                language: code.to_string(),
                confidence: *conf,
            })
            .collect(),
        unsupported,
        detected: d.code.unwrap_or_default().to_string(),
    }
}

pub fn article_response(
    id: String,
    chosen: Option<Version>,
    versions: Vec<Version>,
) -> proto::GetArticleResponse {
    proto::GetArticleResponse {
        article: chosen.map(version),
        id,
        translations: versions.into_iter().map(version).collect(),
    }
}
