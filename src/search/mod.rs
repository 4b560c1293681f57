//! Query building, ranking, confidence and snippets over one generation.
//!
//! The user's text is analysed with the same analyzers as the index and turned into term
//! queries directly: it is never parsed as query syntax. Each article version is indexed as
//! one document (title + answer) plus one document per phrasing (title and each question);
//! an article's score is the best of its documents, so an article with many phrasings is not
//! penalised for length.
//!
//! Confidence (0.0 to 1.0, comparable across queries): the IDF-weighted share of the query's
//! terms found in the best-matching unit of the hit (its best phrasing, or title + answer),
//! averaged over the word and bigram analyses for Korean and Chinese.
//!
//! [`fallback`] searches the other languages with the query's glossary terms when the query's
//! own language has no confident answer.

mod confidence;
pub mod fallback;

pub(crate) use confidence::{doc_freqs, idf};

use crate::analysis::{self, Kind, Tok};
use crate::index::{Generation, Part};
use crate::ingest::Article;
use crate::lang::{Lang, Variant};
use std::collections::HashMap;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Term};

pub use confidence::DEFAULT_THRESHOLD;

/// What to search for.
#[derive(Debug, Clone)]
pub struct SearchSpec<'a> {
    /// The user's text.
    pub text: &'a str,
    /// The language to search.
    pub lang: Lang,
    /// How many articles to return.
    pub top_k: usize,
    /// Only articles of this category.
    pub category: Option<&'a str>,
    /// Whether to build highlighted snippets.
    pub snippets: bool,
}

/// One ranked article.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Index of its group in the generation.
    pub group: u32,
    /// The version shown to the user.
    pub version: Article,
    /// Ranking score (comparable within one result list only).
    pub score: f32,
    /// Confidence 0.0 to 1.0.
    pub confidence: f64,
    /// Excerpt with matched terms in `<b>`.
    pub snippet: String,
}

/// Errors from tantivy while searching.
#[derive(Debug, thiserror::Error)]
#[error("search failed: {0}")]
pub struct SearchError(#[from] tantivy::TantivyError);

/// Per-part boosts of the ranking. Titles weigh less than answers and phrasings: in many
/// knowledge bases one title heads several entries (measured on the passage sets).
const BOOSTS: [(Part, f32); 3] = [
    (Part::Title, 0.5),
    (Part::Answer, 1.0),
    (Part::Question, 1.5),
];

/// The analysed query: unique tokens per analysis kind.
pub struct Analysed {
    /// Language of the analysis.
    pub lang: Lang,
    /// Tokens per kind, deduplicated, in order.
    pub tokens: Vec<(Kind, Vec<String>)>,
    /// True when the text is written in Traditional Chinese.
    pub traditional: bool,
}

/// Analyses a query with every analyzer of its language.
pub fn analyse(text: &str, lang: Lang) -> Analysed {
    let tokens = Kind::for_lang(lang)
        .iter()
        .map(|&k| {
            let mut seen = Vec::new();
            for Tok { text, .. } in analysis::analyze(lang, k, text) {
                if !seen.contains(&text) {
                    seen.push(text);
                }
            }
            (k, seen)
        })
        .collect();
    Analysed {
        lang,
        tokens,
        traditional: lang == Lang::Zh && analysis::is_traditional(text),
    }
}

fn build_query(
    gen: &Generation,
    q: &Analysed,
    weights: &confidence::TermWeights,
    category: Option<&str>,
) -> Option<Box<dyn Query>> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (kind, tokens) in &q.tokens {
        for (part, boost) in BOOSTS {
            let field = gen.fields.text(q.lang, part, *kind);
            // Terms absent from a field cannot score there: leave them out of the query.
            for t in tokens.iter().filter(|t| weights.occurs(*kind, part, t)) {
                let tq = TermQuery::new(
                    Term::from_field_text(field, t),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(tq), boost)),
                ));
            }
        }
    }
    if clauses.is_empty() {
        return None;
    }
    let text: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
    Some(match category {
        None => text,
        Some(c) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, text),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(gen.fields.category, c),
                    IndexRecordOption::Basic,
                )),
            ),
        ])),
    })
}

/// Picks the version of a group to show for a query language: the same script for Chinese
/// when present.
pub fn display_version(versions: &[Article], lang: Lang, traditional: bool) -> Option<&Article> {
    let wanted = match lang {
        Lang::Ko => Variant::Ko,
        Lang::En => Variant::En,
        Lang::Zh if traditional => Variant::ZhHant,
        Lang::Zh => Variant::Zh,
    };
    versions
        .iter()
        .find(|a| a.lang == wanted)
        .or_else(|| versions.iter().find(|a| a.lang.lang() == lang))
}

/// Weight of the best question phrasing next to the article's title + answer document.
const QUESTION_WEIGHT: f32 = 1.0;

/// Evidence collected for one article group.
#[derive(Default, Clone, Copy)]
struct Evidence {
    article: Option<(f32, DocAddress)>,
    question: Option<(f32, DocAddress)>,
}

impl Evidence {
    fn score(&self) -> f32 {
        self.article.map_or(0.0, |a| a.0) + QUESTION_WEIGHT * self.question.map_or(0.0, |q| q.0)
    }
}

/// Searches one generation; returns at most `top_k` articles, best first, with confidence.
/// An article's score adds the evidence of its title + answer document and of its best
/// question phrasing.
pub fn search(gen: &Generation, spec: &SearchSpec) -> Result<Vec<Hit>, SearchError> {
    let analysed = analyse(spec.text, spec.lang);
    let searcher = gen.reader.searcher();
    let weights = confidence::TermWeights::new(&searcher, gen, &analysed);
    let Some(query) = build_query(gen, &analysed, &weights, spec.category) else {
        return Ok(Vec::new());
    };
    let limit = (spec.top_k * 10).max(50);
    let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
    let mut groups: HashMap<u32, Evidence> = HashMap::new();
    for (score, addr) in top {
        let r = gen.doc_ref(addr);
        if r.group == u32::MAX {
            continue;
        }
        let e = groups.entry(r.group).or_default();
        let slot = if r.unit.is_some() {
            &mut e.question
        } else {
            &mut e.article
        };
        if slot.is_none() {
            *slot = Some((score, addr));
        }
    }
    let mut ranked: Vec<(u32, Evidence)> = groups.into_iter().collect();
    ranked.sort_by(|a, b| b.1.score().total_cmp(&a.1.score()).then(a.0.cmp(&b.0)));
    ranked.truncate(spec.top_k);
    let docs: Vec<(DocAddress, bool)> = ranked
        .iter()
        .flat_map(|(_, e)| {
            e.article
                .map(|a| (a.1, false))
                .into_iter()
                .chain(e.question.map(|q| (q.1, true)))
        })
        .collect();
    let coverage: HashMap<DocAddress, f64> = docs
        .iter()
        .map(|d| d.0)
        .zip(weights.coverage(&searcher, gen, &docs)?)
        .collect();
    let snippets = spec
        .snippets
        .then(|| SnippetFields::new(&searcher, gen, query.as_ref(), spec.lang));
    let mut hits = Vec::with_capacity(ranked.len());
    for (group, e) in ranked {
        let versions = &gen.groups[group as usize];
        let Some(version) = display_version(versions, spec.lang, analysed.traditional) else {
            continue;
        };
        let confidence = [e.article, e.question]
            .iter()
            .flatten()
            .map(|(_, addr)| coverage.get(addr).copied().unwrap_or(0.0))
            .fold(0.0, f64::max);
        let snippet = snippets
            .as_ref()
            .map(|s| s.snippet(version))
            .unwrap_or_default();
        hits.push(Hit {
            group,
            version: version.clone(),
            score: e.score(),
            confidence,
            snippet,
        });
    }
    Ok(hits)
}

struct SnippetFields {
    answer: Option<SnippetGenerator>,
    title: Option<SnippetGenerator>,
}

impl SnippetFields {
    fn new(searcher: &tantivy::Searcher, gen: &Generation, query: &dyn Query, lang: Lang) -> Self {
        let kind = if lang == Lang::En {
            Kind::Word
        } else {
            Kind::Bigram
        };
        let make = |part| {
            SnippetGenerator::create(searcher, query, gen.fields.text(lang, part, kind))
                .ok()
                .map(|mut g| {
                    g.set_max_num_chars(160);
                    g
                })
        };
        SnippetFields {
            answer: make(Part::Answer),
            title: make(Part::Title),
        }
    }

    fn snippet(&self, a: &Article) -> String {
        if let Some(g) = &self.answer {
            let s = g.snippet(&a.answer);
            if !s.highlighted().is_empty() {
                return s.to_html();
            }
        }
        if let Some(g) = &self.title {
            let s = g.snippet(&a.title);
            if !s.highlighted().is_empty() {
                return s.to_html();
            }
        }
        excerpt(a)
    }
}

/// Returns the start of an article's answer (160 characters), HTML-escaped, as a snippet
/// without highlights.
pub fn excerpt(a: &Article) -> String {
    let mut plain: String = a.answer.chars().take(160).collect();
    if plain.len() < a.answer.len() {
        plain.push('…');
    }
    html_escape(&plain)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
