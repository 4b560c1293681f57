//! Cross-language fallback: answers from articles found in another language when the query's
//! own language has no confident answer.
//!
//! 1. The glossary concepts the query names are found in the query's language
//!    ([`Glossary::find`]). A query that names none gets no fallback.
//! 2. For each other language, the *mapped query* is built: per concept, its first term (in
//!    glossary order) that occurs in that language's index, else its first term. That
//!    language is searched with the mapped query as usual; each hit's confidence is the
//!    ordinary confidence of that search, so it measures how much of the mapped query (the
//!    concepts, not words outside the glossary) the article covers.
//! 3. A fallback hit is shown in the user's language when its group has that version
//!    ([`Reason::NoConfidentAnswer`]), else in the language it was found in
//!    ([`Reason::MissingTranslation`]).
//! 4. Merging: when the native first hit is below the threshold (or there are no native
//!    hits), native and fallback hits are merged by confidence (a fallback hit goes before a
//!    native one only with a strictly higher confidence; each list keeps its order). When
//!    the native first hit is confident and its title, questions or answer has a term of
//!    every concept the query names, the native hits stand alone. When it is confident but
//!    misses a named concept, only fallback hits of articles missing in the user's language
//!    with a confidence above the native first hit's go first: the better answer exists
//!    only in another language. A group appears once (its first place).

use super::{display_version, excerpt, search, Hit, SearchError, SearchSpec};
use crate::analysis::{self, Kind};
use crate::index::{Generation, Part};
use crate::ingest::Article;
use crate::lang::Lang;
use crate::translate::glossary::{Found, Glossary};
use tantivy::{Searcher, Term};

/// Why a hit comes from another language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Found in another language; shown in the user's language.
    NoConfidentAnswer,
    /// Found in another language; the article has no version in the user's language.
    MissingTranslation,
}

/// How a fallback hit was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fallback {
    /// Why it is a fallback.
    pub reason: Reason,
    /// The language it was matched in.
    pub found: Lang,
}

/// A hit after the fallback step: `hit.version` is the version to show.
#[derive(Debug, Clone)]
pub struct Ranked {
    /// The hit (for a fallback hit: confidence and score of the search in `found`).
    pub hit: Hit,
    /// Set for fallback hits.
    pub fallback: Option<Fallback>,
}

/// Returns the query mapped into `lang`: per concept, its first term present in `lang`'s
/// index, else its first term; terms joined by spaces.
pub fn mapped_query(gen: &Generation, glossary: &Glossary, named: &[Found], lang: Lang) -> String {
    let searcher = gen.reader.searcher();
    named
        .iter()
        .map(|f| {
            let terms = glossary.concepts()[f.concept].terms(lang);
            terms
                .iter()
                .find(|t| doc_freq(&searcher, gen, lang, t) > 0)
                .unwrap_or(&terms[0])
                .as_str()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Documents containing every token of `term` at least once somewhere in `lang`'s fields
/// (bounded by the rarest token: a cheap, generous estimate for phrases).
fn doc_freq(searcher: &Searcher, gen: &Generation, lang: Lang, term: &str) -> u64 {
    let kind = if lang == Lang::En {
        Kind::Word
    } else {
        Kind::Bigram
    };
    analysis::analyze(lang, kind, term)
        .iter()
        .map(|t| {
            Part::ALL
                .iter()
                .map(|&p| {
                    let field = gen.fields.text(lang, p, kind);
                    searcher
                        .doc_freq(&Term::from_field_text(field, &t.text))
                        .unwrap_or(0)
                })
                .sum::<u64>()
        })
        .min()
        .unwrap_or(0)
}

/// Returns true when an article version has a term of every named concept (in its title,
/// questions or answer).
fn covers(glossary: &Glossary, a: &Article, named: &[Found]) -> bool {
    let text = format!("{}\n{}\n{}", a.title, a.questions.join("\n"), a.answer);
    let present = glossary.present(&text, a.lang.lang());
    named.iter().all(|f| present.contains(&f.concept))
}

/// Adds fallback hits to the native hits of `spec` (see the module docs); returns at most
/// `spec.top_k` hits.
pub fn with_fallback(
    gen: &Generation,
    glossary: &Glossary,
    spec: &SearchSpec,
    native: Vec<Hit>,
    threshold: f64,
) -> Result<Vec<Ranked>, SearchError> {
    let native: Vec<Ranked> = native
        .into_iter()
        .map(|hit| Ranked {
            hit,
            fallback: None,
        })
        .collect();
    let named = glossary.find(spec.text, spec.lang);
    if named.is_empty() {
        return Ok(native);
    }
    // A confident native answer that names every concept of the query stands; one that
    // misses a concept the user named can be outranked by an article missing in the user's
    // language.
    let confident = native
        .first()
        .filter(|r| r.hit.confidence >= threshold)
        .map(|r| (r.hit.confidence, covers(glossary, &r.hit.version, &named)));
    if matches!(confident, Some((_, true))) {
        return Ok(native);
    }
    let traditional = spec.lang == Lang::Zh && analysis::is_traditional(spec.text);
    let mut found: Vec<Ranked> = Vec::new();
    for lang in Lang::ALL.into_iter().filter(|&l| l != spec.lang) {
        let mapped = mapped_query(gen, glossary, &named, lang);
        let hits = search(
            gen,
            &SearchSpec {
                text: &mapped,
                lang,
                ..spec.clone()
            },
        )?;
        for mut hit in hits {
            let group = &gen.groups[hit.group as usize];
            let reason = match display_version(group, spec.lang, traditional) {
                Some(shown) => {
                    if spec.snippets {
                        hit.snippet = excerpt(shown);
                    }
                    hit.version = shown.clone();
                    Reason::NoConfidentAnswer
                }
                None => Reason::MissingTranslation,
            };
            let eligible = match confident {
                None => true,
                Some((top, _)) => reason == Reason::MissingTranslation && hit.confidence > top,
            };
            if eligible {
                found.push(Ranked {
                    hit,
                    fallback: Some(Fallback {
                        reason,
                        found: lang,
                    }),
                });
            }
        }
    }
    found.sort_by(|a, b| b.hit.confidence.total_cmp(&a.hit.confidence));
    Ok(merge(native, found, spec.top_k))
}

/// Merges two lists by confidence, keeping each list's order; `b` goes first only with a
/// strictly higher confidence. Keeps each group's first place; at most `k` hits.
fn merge(a: Vec<Ranked>, b: Vec<Ranked>, k: usize) -> Vec<Ranked> {
    let mut a = a.into_iter().peekable();
    let mut b = b.into_iter().peekable();
    let mut out: Vec<Ranked> = Vec::with_capacity(k);
    while out.len() < k {
        let take_b = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => y.hit.confidence > x.hit.confidence,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        let next = if take_b { b.next() } else { a.next() };
        let Some(r) = next else { break };
        if !out.iter().any(|o| o.hit.group == r.hit.group) {
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Variant;

    fn ranked(group: u32, confidence: f64, fallback: bool) -> Ranked {
        Ranked {
            hit: Hit {
                group,
                version: Article {
                    id: group.to_string(),
                    lang: Variant::En,
                    title: String::new(),
                    questions: vec![],
                    answer: String::new(),
                    category: String::new(),
                    tags: vec![],
                    url: String::new(),
                    updated_at: String::new(),
                },
                score: 1.0,
                confidence,
                snippet: String::new(),
            },
            fallback: fallback.then_some(Fallback {
                reason: Reason::MissingTranslation,
                found: Lang::Ko,
            }),
        }
    }

    #[test]
    fn merge_keeps_list_order_dedupes_groups_and_truncates() {
        let native = vec![
            ranked(1, 0.2, false),
            ranked(2, 0.4, false),
            ranked(3, 0.1, false),
        ];
        let fb = vec![
            ranked(4, 0.3, true),
            ranked(2, 0.25, true),
            ranked(5, 0.05, true),
        ];
        let out = merge(native, fb, 4);
        let got: Vec<(u32, bool)> = out
            .iter()
            .map(|r| (r.hit.group, r.fallback.is_some()))
            .collect();
        // 4 (0.3) and then the fallback 2 (0.25) beat native 1 (0.2); native 2 comes after 1
        // (list order) and is skipped as a duplicate; 3 (0.1) beats 5 (0.05).
        assert_eq!(got, [(4, true), (2, true), (1, false), (3, false)]);
    }
}
