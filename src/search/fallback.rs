//! Cross-language fallback: answers from articles found in another language when the query's
//! own language has no confident answer.
//!
//! 1. The glossary concepts the query names are found in the query's language
//!    ([`Glossary::find`]). A query that names none gets no fallback.
//! 2. For each other language, the *mapped query* is built: per concept, its first term (in
//!    glossary order) that occurs in that language's index, else its first term. That
//!    language is searched with the mapped query as usual.
//! 3. A fallback hit's confidence is the ordinary confidence of that search (how much of the
//!    mapped query the article covers) times the query's [`coverage`]: the IDF-weighted share
//!    of the query's own tokens that lie inside the glossary matches, averaged over its
//!    analyses like confidence (numbers and function words weigh nothing, as in confidence).
//!    Words the glossary does not know lower it, so `qwxz zzkj fee` is not answered by
//!    articles about fees.
//! 4. A fallback hit is shown in the user's language when its group has that version
//!    ([`Reason::NoConfidentAnswer`]), else in the language it was found in
//!    ([`Reason::MissingTranslation`]; the engine then shows it in a language the user reads
//!    when it has one, see `SearchParams::fallback_languages`).
//! 5. Merging depends on the native first hit:
//!    - below the threshold, or no native hits: native and fallback hits are merged by
//!      confidence (a fallback hit goes before a native one only with a strictly higher
//!      confidence; each list keeps its order);
//!    - confident, and its title or questions have a term of every named concept: the
//!      native hits stand, after any fallback hit of an article that has no version in the
//!      user's language, has every named concept and a strictly higher confidence (`韩元怎么
//!      充值`: the Chinese article on the hold after a KRW deposit names both terms at 0.40,
//!      the Korean/English `krw-deposit` is about them at 0.9);
//!    - confident but missing a named concept there (an answer that mentions it in passing
//!      is not about it): fallback hits of articles that have no version
//!      in the user's language, have every named concept and reach the threshold go first
//!      (best confidence first); when the first native hit does name every concept, in its
//!      answer only, the native hits whose title or questions have every named concept and
//!      a strictly higher confidence come next (`my withdrawal is still pending`: the delay
//!      article, 0.82, before the wrong-address one, 0.71, whose answer mentions a withdrawal
//!      still pending); then the other native hits.
//!
//!    A group appears once (its first place).

use super::{
    coverage_weight, display_version, doc_freq as term_doc_freq, excerpt, language_articles,
    measures_confidence, search, Hit, SearchError, SearchSpec,
};
use crate::analysis::{self, Kind};
use crate::index::Generation;
use crate::lang::{Lang, Variant};
use crate::translate::glossary::{Found, Glossary, Scope};
use tantivy::Searcher;

/// Why a hit comes from another language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Found in another language; shown in the user's language.
    NoConfidentAnswer,
    /// Found in another language; the article has no version in the user's language.
    MissingTranslation,
}

impl Reason {
    /// Returns its name in metrics and JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Reason::NoConfidentAnswer => "no_confident_answer",
            Reason::MissingTranslation => "missing_translation",
        }
    }
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
        .map(|t| term_doc_freq(searcher, gen, lang, kind, &t.text))
        .min()
        .unwrap_or(0)
}

/// Returns the share of the query the named concepts account for, weighed like confidence:
/// per analysis of the query's language, the IDF-weighted share of its tokens that lie inside
/// the glossary matches, averaged over the analyses. Words the glossary does not know (and
/// nonsense, which weighs most) lower it; numbers and function words weigh nothing.
pub fn coverage(gen: &Generation, text: &str, lang: Lang, named: &[Found]) -> f64 {
    let searcher = gen.reader.searcher();
    let mut covered = vec![false; text.len()];
    for &(a, b) in named.iter().flat_map(|f| &f.spans) {
        covered[a..b].iter_mut().for_each(|c| *c = true);
    }
    let shares: Vec<f64> = Kind::for_lang(lang)
        .iter()
        .filter(|&&kind| measures_confidence(kind))
        .filter_map(|&kind| {
            let mut tokens: Vec<(String, bool)> = Vec::new();
            for t in analysis::analyze(lang, kind, text) {
                let inside = covered[t.from] && covered[t.to - 1];
                match tokens.iter_mut().find(|(s, _)| *s == t.text) {
                    Some(seen) => seen.1 |= inside,
                    None => tokens.push((t.text.into_string(), inside)),
                }
            }
            let articles = language_articles(gen, lang);
            let weight = |t: &str| {
                coverage_weight(
                    lang,
                    t,
                    articles,
                    term_doc_freq(&searcher, gen, lang, kind, t),
                )
            };
            let all: f64 = tokens.iter().map(|(t, _)| weight(t)).sum();
            let got: f64 = tokens
                .iter()
                .filter(|(_, inside)| *inside)
                .map(|(t, _)| weight(t))
                .sum();
            (all > 0.0).then(|| got / all)
        })
        .collect();
    if shares.is_empty() {
        0.0
    } else {
        shares.iter().sum::<f64>() / shares.len() as f64
    }
}

/// Returns true when a hit's article version has a term of every named concept in `scope`.
fn covers(glossary: &Glossary, gen: &Generation, hit: &Hit, named: &[Found], scope: Scope) -> bool {
    let present = glossary.present_in(gen.meta.generation, hit.group, &hit.version, scope);
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
    // A confident native answer whose title or questions name every concept of the query
    // stands, unless an article missing in the user's language has them all with a higher
    // confidence; one that misses a concept the user named (or names it only in passing, in
    // its answer) is outranked by the articles that have them all.
    let confident = native
        .first()
        .is_some_and(|r| r.hit.confidence >= threshold);
    let first_covers = confident && covers(glossary, gen, &native[0].hit, &named, Scope::Phrasings);
    if first_covers && !missing_somewhere(gen, spec.lang) {
        // Every article has a version in the user's language: nothing can be missing.
        return Ok(native);
    }
    let share = coverage(gen, spec.text, spec.lang, &named);
    let traditional = spec.lang == Lang::Zh && analysis::is_traditional(spec.text);
    let mut found: Vec<Ranked> = Vec::new();
    for lang in Lang::ALL.into_iter().filter(|&l| l != spec.lang) {
        let mapped = mapped_query(gen, glossary, &named, lang);
        let (hits, highlights) = search(
            gen,
            &SearchSpec {
                text: &mapped,
                lang,
                // Glossary terms are spelt right; a term missing from this language's
                // articles must not turn into a neighbouring word.
                spelling: false,
                phrasing_first: false,
                ..spec.clone()
            },
        )?;
        for mut hit in hits {
            hit.confidence *= share;
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
            // Before a confident native answer that names every concept, only a strictly
            // more confident one.
            let bar_passed = if first_covers {
                hit.confidence > native[0].hit.confidence
            } else {
                hit.confidence >= threshold
            };
            let eligible = !confident
                || (reason == Reason::MissingTranslation
                    && bar_passed
                    // The version found (no version in the user's language).
                    && covers(glossary, gen, &hit, &named, Scope::Everything));
            if eligible {
                if reason == Reason::MissingTranslation {
                    // The found version with the mapped words highlighted (the engine shows
                    // another version instead when the user reads one the article has).
                    hit.snippet = highlights.snippet(&hit.version);
                }
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
    let merged = if first_covers {
        found.into_iter().chain(native).collect()
    } else if confident {
        // Articles that have every named term go before native hits that miss one: first
        // those missing in the user's language; then, when the first hit names them all in
        // its answer only (in passing), native ones whose title or questions name them all
        // and that are more confident than it (in their order).
        let bar = native[0].hit.confidence;
        let in_passing = covers(glossary, gen, &native[0].hit, &named, Scope::Everything);
        let (about, rest): (Vec<Ranked>, Vec<Ranked>) = native.into_iter().partition(|r| {
            in_passing
                && r.hit.confidence > bar
                && covers(glossary, gen, &r.hit, &named, Scope::Phrasings)
        });
        found.into_iter().chain(about).chain(rest).collect()
    } else {
        merge(native, found)
    };
    let mut hits = dedupe(merged);
    hits.truncate(spec.top_k);
    Ok(hits)
}

/// Returns true when some article of the generation has no version in `lang`.
pub(in crate::search) fn missing_somewhere(gen: &Generation, lang: Lang) -> bool {
    let groups = gen.groups.len();
    // A group has at most one version per language tag, so a tag of `lang` with as many
    // versions as there are groups settles it without reading every group (a cold read of
    // each group's article costs more than the search on a large knowledge base).
    let full = gen
        .meta
        .articles
        .iter()
        .any(|(tag, &n)| n >= groups && Variant::parse(tag).is_ok_and(|v| v.lang() == lang));
    !full
        && gen
            .groups
            .iter()
            .any(|g| g.iter().all(|a| a.lang.lang() != lang))
}

/// Merges two lists by confidence, keeping each list's order; `b` goes first only with a
/// strictly higher confidence.
fn merge(a: Vec<Ranked>, b: Vec<Ranked>) -> Vec<Ranked> {
    let mut a = a.into_iter().peekable();
    let mut b = b.into_iter().peekable();
    let mut out: Vec<Ranked> = Vec::with_capacity(a.len() + b.len());
    loop {
        let take_b = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => y.hit.confidence > x.hit.confidence,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        match if take_b { b.next() } else { a.next() } {
            Some(r) => out.push(r),
            None => return out,
        }
    }
}

/// Keeps each group's first place.
fn dedupe(hits: Vec<Ranked>) -> Vec<Ranked> {
    let mut out: Vec<Ranked> = Vec::with_capacity(hits.len());
    for r in hits {
        if !out.iter().any(|o| o.hit.group == r.hit.group) {
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::ingest::Article;
    use std::sync::Arc;

    /// A hit of group `group` (score 1) with an empty English version.
    pub(in crate::search) fn ranked(group: u32, confidence: f64, fallback: bool) -> Ranked {
        Ranked {
            hit: Hit {
                group,
                version: Arc::new(Article {
                    id: group.to_string(),
                    lang: Variant::En,
                    title: String::new(),
                    questions: vec![],
                    answer: String::new(),
                    category: String::new(),
                    tags: vec![],
                    url: String::new(),
                    updated_at: String::new(),
                }),
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
    fn merge_keeps_list_order_and_dedupe_keeps_first_places() {
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
        let mut out = dedupe(merge(native, fb));
        out.truncate(4);
        let got: Vec<(u32, bool)> = out
            .iter()
            .map(|r| (r.hit.group, r.fallback.is_some()))
            .collect();
        // 4 (0.3) and then the fallback 2 (0.25) beat native 1 (0.2); native 2 comes after 1
        // (list order) and is skipped as a duplicate; 3 (0.1) beats 5 (0.05).
        assert_eq!(got, [(4, true), (2, true), (1, false), (3, false)]);
    }
}
