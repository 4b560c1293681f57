//! `faqd search`: runs a query through the same code as the Search RPC and prints a table
//! (or JSON).

use super::{EngineArgs, IndexLocation};
use crate::engine::SearchParams;
use clap::Args;

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The user's words.
    pub query: String,
    /// Explicit language (overrides detection).
    #[arg(long)]
    pub lang: Option<String>,
    /// The app's UI locale.
    #[arg(long)]
    pub hint: Option<String>,
    /// The languages the agent reads, most preferred first (comma-separated): each hit
    /// carries its version in the first of these it has.
    #[arg(long, value_delimiter = ',')]
    pub agent: Vec<String>,
    /// Number of hits.
    #[arg(long, short = 'k', default_value_t = 5)]
    pub top_k: u32,
    /// Category filter.
    #[arg(long)]
    pub category: Option<String>,
    /// Languages the user also reads, most preferred first (comma-separated): an article
    /// missing in the user's language is shown in the first of these it has. Default: en.
    #[arg(long, value_delimiter = ',')]
    pub fallback_languages: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub location: IndexLocation,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(a: SearchArgs) -> anyhow::Result<i32> {
    let engine = super::open_existing_engine(&a.location, &a.engine)?;
    let params = SearchParams {
        query: a.query,
        language: a.lang,
        locale_hint: a.hint,
        agent_language: a.agent.first().cloned(),
        agent_languages: a.agent.iter().skip(1).cloned().collect(),
        top_k: a.top_k,
        category: a.category,
        fallback_languages: a.fallback_languages,
        no_snippets: false,
    };
    let o = match engine.search(&params) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    if a.json {
        let hits: Vec<_> = o
            .hits
            .iter()
            .map(|h| {
                serde_json::json!({
                    "id": h.shown.article.id,
                    "language": h.shown.article.lang.tag(),
                    "title": h.shown.article.title,
                    "answer": h.shown.article.answer,
                    "stale": h.shown.stale,
                    "converted": h.shown.converted,
                    "snippet": h.hit.snippet,
                    "score": h.hit.score,
                    "confidence": h.hit.confidence,
                    "lexical_confidence": h.evidence.lexical,
                    "semantic_evidence": h.evidence.semantic,
                    "far_from_articles": h.evidence.far,
                    "candidate_only": h.candidate_only,
                    "fallback": h.fallback.map(|f| f.reason.name()),
                    "found_language": h.fallback.map_or(h.hit.version.lang.lang(), |f| f.found).code(),
                    "available_languages": h.available.iter().map(|v| v.tag()).collect::<Vec<_>>(),
                    "agent_version": h.agent_version.as_ref().map(|v| serde_json::json!({
                        "language": v.article.lang.tag(), "title": v.article.title,
                        "answer": v.article.answer, "stale": v.stale,
                        "converted": v.converted,
                    })),
                })
            })
            .collect();
        let (ranking, ranking_note) = match &o.ranking {
            crate::engine::Ranking::Hybrid => ("hybrid", ""),
            crate::engine::Ranking::Lexical(why) => ("lexical", why.as_str()),
        };
        let v = serde_json::json!({
            "ranking": ranking,
            "ranking_note": ranking_note,
            "confidence_threshold": o.threshold,
            "language": o.choice.lang.code(),
            "language_source": o.choice.source.name(),
            "language_confidence": o.choice.confidence,
            "answered": o.answered,
            "unsupported_language": o.unsupported,
            "generation": o.generation,
            "hits": hits,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    println!(
        "language {} ({}, confidence {:.2}){} — {}",
        o.choice.lang,
        o.choice.source.name(),
        o.choice.confidence,
        o.unsupported
            .map(|c| format!(", text detected as unsupported {c}"))
            .unwrap_or_default(),
        if o.answered {
            "answered"
        } else {
            "no confident answer: hand over to a human"
        }
    );
    // With hybrid ranking the two evidences behind each confidence are shown: an answer needs
    // one of them strong enough on its own (see `hybrid::is_answer`).
    let hybrid = o.hits.iter().any(|h| h.evidence.semantic.is_some());
    let evidence = |lexical: &str, semantic: &str| {
        if hybrid {
            format!(" {lexical:>5} {semantic:>5}")
        } else {
            String::new()
        }
    };
    println!(
        "{:>2}  {:<28} {:<7} {:>5}{}  title",
        "#",
        "id",
        "lang",
        "conf",
        evidence("lex", "sem")
    );
    for (i, h) in o.hits.iter().enumerate() {
        let a = &h.shown.article;
        println!(
            "{:>2}  {:<28} {:<7} {:>5.3}{}  {}{}{}{}",
            i + 1,
            a.id,
            a.lang.tag(),
            h.hit.confidence,
            evidence(
                &format!("{:.3}", h.evidence.lexical),
                &format!("{:.3}", h.evidence.semantic.unwrap_or_default())
            ),
            a.title,
            if h.shown.converted {
                "  (converted from the other Chinese script)"
            } else {
                ""
            },
            if h.candidate_only {
                "  (candidate)"
            } else {
                ""
            },
            h.fallback
                .map(|f| format!("  [fallback: {}, found in {}]", f.reason.name(), f.found))
                .unwrap_or_default()
        );
        if let Some(v) = &h.agent_version {
            println!(
                "    agent [{}{}{}] {}",
                v.article.lang.tag(),
                if v.stale { ", stale" } else { "" },
                if v.converted { ", converted" } else { "" },
                v.article.title
            );
        }
    }
    Ok(0)
}
