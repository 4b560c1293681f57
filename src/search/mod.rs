//! Query analysis, ranking, confidence and snippets over one generation.
//!
//! The user's text is analysed with the same analyzers as the index (`query.rs`) and its
//! terms' postings are scored directly (`rank.rs`, which also describes how articles are
//! scored and how confidence is computed): it is never parsed as query syntax.
//!
//! [`fallback`] searches the other languages with the query's glossary terms when the query's
//! own language has no confident answer, or its confident answer is not about the support
//! terms the query names.

pub mod fallback;
pub mod hybrid;
mod query;
mod rank;

pub use query::{analyse, correct_spelling, Analysed};
pub use rank::{
    bm25_length_norm, bm25_tf, coverage_weight, doc_freq, language_articles, measures_confidence,
};

use crate::analysis::Kind;
use crate::index::{Generation, Part};
use crate::ingest::Article;
use crate::lang::{Lang, Variant};
use htmlescape::encode_minimal;
use std::sync::Arc;
use tantivy::snippet::SnippetGenerator;
use tantivy::Term;

/// Default confidence threshold for `answered`: one value for every language and knowledge
/// base, chosen with `faqd eval --sweep` on the HINT3 development sets (real support-bot
/// traffic with out-of-scope messages).
pub const DEFAULT_THRESHOLD: f64 = 0.23;

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
    /// Whether an article one of whose titles or questions is the user's text (spacing,
    /// punctuation and case aside) goes first, whatever its score: lexical ranking, where a
    /// wording that shares the text's words with a longer article can outscore the entry
    /// that lists it. (Under hybrid ranking, that entry's semantic evidence is at its
    /// highest.)
    pub phrasing_first: bool,
    /// Whether to correct misspelt words (user text; not glossary terms).
    pub spelling: bool,
}

/// One ranked article.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Index of its group in the generation.
    pub group: u32,
    /// The version shown to the user.
    pub version: Arc<Article>,
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

/// Picks the version of a group to show for a query language: the same script for Chinese
/// when present.
pub fn display_version(
    versions: &[Arc<Article>],
    lang: Lang,
    traditional: bool,
) -> Option<&Arc<Article>> {
    let wanted = Variant::read_in(lang, traditional);
    versions
        .iter()
        .find(|a| a.lang == wanted)
        .or_else(|| versions.iter().find(|a| a.lang.lang() == lang))
}

/// Searches one generation; returns at most `top_k` articles, best first, with confidence,
/// and the [`Highlights`] that build their snippets (when `spec.snippets`): for the hits that
/// are shown only, since hybrid ranking asks for more lexical hits than it returns and a
/// snippet costs more than the search itself.
pub fn search(gen: &Generation, spec: &SearchSpec) -> Result<(Vec<Hit>, Highlights), SearchError> {
    let mut analysed = analyse(spec.text, spec.lang);
    if spec.spelling {
        correct_spelling(gen, &mut analysed)?;
    }
    let searcher = gen.reader.searcher();
    let in_category = |group: u32| {
        spec.category.is_none_or(|c| {
            gen.groups[group as usize]
                .iter()
                .any(|a| a.lang.lang() == spec.lang && a.category == c)
        })
    };
    let listed = spec
        .phrasing_first
        .then(|| gen.phrased(spec.lang, spec.text))
        .flatten()
        .filter(|&g| in_category(g));
    let evidence = rank::evidence(&searcher, gen, &analysed, spec.top_k, listed, in_category)?;
    // Only the best `top_k` are ordered: a common word can match most of the knowledge base.
    // Ordered as (score, group) keys, cheaper to move than the evidence; the listed wording's
    // article before every score.
    let mut order: Vec<(f32, u32, u32)> = evidence
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let key = if listed == Some(e.group) {
                f32::INFINITY
            } else {
                e.score()
            };
            (key, e.group, i as u32)
        })
        .collect();
    let best_first =
        |a: &(f32, u32, u32), b: &(f32, u32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    if spec.top_k == 0 {
        order.clear();
    } else if spec.top_k < order.len() {
        order.select_nth_unstable_by(spec.top_k - 1, best_first);
        order.truncate(spec.top_k);
    }
    order.sort_unstable_by(best_first);
    let ranked = order.iter().map(|&(_, _, i)| evidence[i as usize]);
    let highlights = Highlights {
        fields: spec
            .snippets
            .then(|| SnippetFields::new(&searcher, gen, &analysed)),
    };
    let mut hits = Vec::with_capacity(ranked.len());
    for e in ranked {
        let versions = &gen.groups[e.group as usize];
        let Some(version) = display_version(versions, spec.lang, analysed.traditional) else {
            continue;
        };
        hits.push(Hit {
            group: e.group,
            version: version.clone(),
            score: e.score(),
            confidence: e.confidence(),
            snippet: String::new(),
        });
    }
    Ok((hits, highlights))
}

/// Builds the snippets of one search's hits: its query's words highlighted in an article.
pub struct Highlights {
    /// None when the search was asked for no snippets.
    fields: Option<SnippetFields>,
}

impl Highlights {
    /// The snippet of `a` (empty when the search was asked for none).
    pub fn snippet(&self, a: &Article) -> String {
        self.fields
            .as_ref()
            .map(|s| s.snippet(a))
            .unwrap_or_default()
    }
}

struct SnippetFields {
    generator: Option<SnippetGenerator>,
    /// Chinese bigrams: a highlight keeps the whole words it covers, none when it only
    /// joins the ends of two ([`crate::analysis::highlight_words`]).
    chinese: bool,
}

impl SnippetFields {
    /// Highlights the query's words (English) or character bigrams (Korean, Chinese).
    fn new(searcher: &tantivy::Searcher, gen: &Generation, q: &Analysed) -> Self {
        let kind = if q.lang == Lang::En {
            Kind::Word
        } else {
            Kind::Bigram
        };
        let field = gen.fields.text(q.lang, Part::Article, kind);
        // As `SnippetGenerator::create` weighs terms, with a tokenizer that computes only the
        // field's kind of tokens and remembers them per text (see `snippet_tokenizer`).
        let mut terms = std::collections::BTreeMap::new();
        for (t, _) in q.terms(kind) {
            let term = Term::from_field_text(field, t);
            match searcher.doc_freq(&term) {
                Ok(0) => {}
                Ok(n) => {
                    terms.insert(t.to_string(), 1.0 / (1.0 + n as f32));
                }
                Err(_) => {
                    return SnippetFields {
                        generator: None,
                        chinese: false,
                    }
                }
            }
        }
        let generator = Some(SnippetGenerator::new(
            terms,
            crate::analysis::snippet_tokenizer(q.lang, kind),
            field,
            160,
        ));
        SnippetFields {
            generator,
            chinese: q.lang == Lang::Zh,
        }
    }

    fn snippet(&self, a: &Article) -> String {
        let Some(g) = &self.generator else {
            return excerpt(a);
        };
        for text in [&a.answer, &a.title] {
            // A fragment whose Chinese highlights all went: the best of the text after it
            // (review: a real `认证` later in the answer was passed over for the title).
            let mut from = 0;
            for _ in 0..FRAGMENT_TRIES {
                let s = g.snippet(&text[from..]);
                if s.highlighted().is_empty() {
                    break;
                }
                if !self.chinese {
                    return s.to_html();
                }
                let runs: Vec<_> = tantivy::snippet::collapse_overlapped_ranges(s.highlighted())
                    .into_iter()
                    .filter_map(|r| crate::analysis::highlight_words(s.fragment(), r))
                    .collect();
                if !runs.is_empty() {
                    return highlighted_html(s.fragment(), &runs);
                }
                from += s.fragment_range().end;
                if s.fragment_range().end == 0 || from >= text.len() {
                    break;
                }
            }
        }
        excerpt(a)
    }
}

/// Fragments of one text tried for a snippet whose Chinese highlights all went.
const FRAGMENT_TRIES: usize = 3;

/// Returns `fragment` HTML-escaped with `runs` (sorted byte ranges, apart) in `<b>`, as
/// tantivy's `Snippet::to_html` writes it.
fn highlighted_html(fragment: &str, runs: &[std::ops::Range<usize>]) -> String {
    let mut html = String::with_capacity(fragment.len() + 7 * runs.len());
    let mut from = 0;
    for r in runs {
        html.push_str(&encode_minimal(&fragment[from..r.start]));
        html.push_str("<b>");
        html.push_str(&encode_minimal(&fragment[r.clone()]));
        html.push_str("</b>");
        from = r.end;
    }
    html.push_str(&encode_minimal(&fragment[from..]));
    html
}

/// Returns the start of an article's answer (160 characters), HTML-escaped, as a snippet
/// without highlights.
pub fn excerpt(a: &Article) -> String {
    html_escape(&crate::lang::start(&a.answer, 160))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
