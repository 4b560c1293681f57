//! Conversions between proto messages and domain types.

use crate::engine::{
    ArticleOutcome, GroupHit, Ranking, ReplyOutcome, ReplyParams, SearchOutcome, SearchParams,
};
use crate::lang::{Choice, Detection, Source};
use crate::proto;
use crate::search::fallback::{Fallback, Reason};
use crate::translate::Version;

pub fn search_params(r: proto::SearchRequest) -> SearchParams {
    SearchParams {
        query: r.query,
        language: r.language,
        locale_hint: r.locale_hint,
        agent_language: r.agent_language,
        agent_languages: r.agent_languages,
        top_k: r.top_k,
        category: r.category,
        fallback_languages: r.fallback_languages,
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
    // The served generation shares the article; the response gets its own copy.
    let a = std::sync::Arc::unwrap_or_clone(v.article);
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
        converted: v.converted,
    }
}

fn fallback_reason(f: Option<Fallback>) -> i32 {
    (match f.map(|f| f.reason) {
        None => proto::FallbackReason::Unspecified,
        Some(Reason::NoConfidentAnswer) => proto::FallbackReason::NoConfidentAnswer,
        Some(Reason::MissingTranslation) => proto::FallbackReason::MissingTranslation,
    }) as i32
}

fn hit(h: GroupHit) -> proto::SearchHit {
    let found_language = h
        .fallback
        .map_or(h.hit.version.lang.lang(), |f| f.found)
        .code()
        .to_string();
    // Only the fields a hit carries are copied out of the served article.
    let a = &h.shown.article;
    proto::SearchHit {
        id: a.id.clone(),
        language: a.lang.tag().to_string(),
        title: a.title.clone(),
        answer: a.answer.clone(),
        snippet: h.hit.snippet,
        score: h.hit.score,
        confidence: h.hit.confidence,
        url: a.url.clone(),
        category: a.category.clone(),
        available_languages: h.available.iter().map(|v| v.tag().to_string()).collect(),
        agent_version: h.agent_version.map(version),
        candidate_only: h.candidate_only,
        fallback: fallback_reason(h.fallback),
        found_language,
        stale: h.shown.stale,
        lexical_confidence: h.evidence.lexical,
        semantic_evidence: h.evidence.semantic.unwrap_or(0.0),
        converted: h.shown.converted,
        far_from_articles: h.evidence.far,
    }
}

/// Returns the wire form of a ranking: its name (`hybrid`, `lexical`) and why it is lexical.
pub fn ranking(r: Ranking) -> (String, String) {
    match r {
        Ranking::Hybrid => ("hybrid".into(), String::new()),
        Ranking::Lexical(why) => ("lexical".into(), why),
    }
}

pub fn search_response(o: SearchOutcome) -> proto::SearchResponse {
    let (ranking, ranking_note) = ranking(o.ranking);
    let fallback_used = o.hits.iter().any(|h| h.fallback.is_some());
    proto::SearchResponse {
        language: o.choice.lang.code().to_string(),
        language_source: source(o.choice.source),
        language_confidence: o.choice.confidence,
        answered: o.answered,
        hits: o.hits.into_iter().map(hit).collect(),
        confidence_threshold: o.threshold,
        unsupported_language: o.unsupported.unwrap_or_default().to_string(),
        generation: o.generation,
        fallback_used,
        ranking,
        ranking_note,
    }
}

/// The response to DetectLanguage: `language` is what Search would use (the default for an
/// unsupported language), empty only where Search would refuse the text (`strict`).
pub fn detect_response(c: &Choice, d: &Detection, strict: bool) -> proto::DetectLanguageResponse {
    let unsupported = d.is_unsupported();
    let language = if unsupported && strict {
        ""
    } else {
        c.lang.code()
    };
    proto::DetectLanguageResponse {
        language: language.to_string(),
        confidence: d.confidence,
        source: source(c.source),
        alternatives: d
            .others(Some(language).filter(|l| !l.is_empty()))
            .into_iter()
            .map(|(code, conf)| proto::LanguageCandidate {
                language: code.to_string(),
                confidence: conf,
            })
            .collect(),
        unsupported,
        detected: d
            .code
            .filter(|_| unsupported)
            .unwrap_or_default()
            .to_string(),
    }
}

pub fn article_response(id: String, a: ArticleOutcome) -> proto::GetArticleResponse {
    proto::GetArticleResponse {
        article: a.chosen.map(version),
        id,
        translations: a.versions.into_iter().map(version).collect(),
        language_missing: a.language_missing,
    }
}

pub fn reply_params(r: proto::TranslateReplyRequest) -> ReplyParams {
    ReplyParams {
        text: r.text,
        target_language: r.target_language,
        source_language: r.source_language,
    }
}

pub fn reply_response(o: ReplyOutcome) -> proto::TranslateReplyResponse {
    proto::TranslateReplyResponse {
        matched: o.matched,
        translation: o.translation.unwrap_or_default(),
        match_percent: o.percent,
        matched_source: o.matched_source.unwrap_or_default(),
        source_language: o.source.code().to_string(),
        target_language: o.target.tag().to_string(),
        origin: o.origin.unwrap_or_default(),
        threshold: o.threshold,
        unmatched_segments: o.unmatched.iter().map(|&i| i as u32).collect(),
        converted: o.converted,
        segments: o
            .segments
            .into_iter()
            .map(|s| proto::ReplySegment {
                text: s.text,
                matched: s.matched,
                match_percent: s.percent,
                matched_source: s.matched_source.unwrap_or_default(),
                translation: s.translation.unwrap_or_default(),
                origin: s.origin.unwrap_or_default(),
                converted: s.converted,
                differs: s.differs.unwrap_or_default(),
                untranslated: s.untranslated.unwrap_or_default(),
            })
            .collect(),
    }
}
