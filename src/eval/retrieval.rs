//! Retrieval evaluation: Recall@1, Recall@5, MRR@10, no-answer precision/recall/accuracy,
//! language agreement and latency, per language and overall.

use crate::engine::{Engine, SearchParams, Settings};
use crate::index::BuildOptions;
use crate::ingest::Source;
use crate::lang::Lang;
use crate::search::fallback::Reason;
use crate::search::hybrid::{is_answer, Evidence};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// One labelled query: `{"id", "lang", "query", "gold": [ids]}`; empty `gold` means out of
/// scope.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledQuery {
    /// Query id.
    pub id: String,
    /// The query's true language.
    pub lang: String,
    /// The text.
    pub query: String,
    /// Ids of articles that answer it; empty when none does.
    pub gold: Vec<String>,
}

/// How queries are routed to a language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Route {
    /// Detect the language as production does.
    Detect,
    /// Use the query's labelled language.
    Gold,
}

/// The outcome of one query.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// Gold language.
    pub lang: String,
    /// Rank (1-based) of the first gold id in the top 10.
    pub rank: Option<usize>,
    /// Whether the query is in scope.
    pub in_scope: bool,
    /// Whether faqd answered confidently.
    pub answered: bool,
    /// Whether the language searched equals the gold language.
    pub lang_agrees: bool,
    /// Latency in microseconds.
    pub micros: u64,
    /// The language searched.
    pub searched: &'static str,
    /// The first hits (at most [`DETAIL_HITS`]).
    pub top: Vec<TopHit>,
}

/// One of a query's first hits, with the evidence behind its confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct TopHit {
    /// Article id.
    pub id: String,
    pub confidence: f64,
    /// What its answer decision weighed.
    pub evidence: Evidence,
    /// Why it is a fallback, when it is one.
    pub fallback: Option<Reason>,
}

/// How many hits a query's details list.
pub const DETAIL_HITS: usize = 5;

/// What a knowledge-base owner reads of one query in `faqd eval --details`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Detail<'a> {
    pub id: &'a str,
    pub lang: &'a str,
    pub query: &'a str,
    pub gold: &'a [String],
    /// `right` (answered, a gold article first), `wrong` (answered with another article, or
    /// an out-of-scope query answered), `missed` (in scope, not answered) or `declined`
    /// (out of scope, not answered).
    pub outcome: &'static str,
    pub answered: bool,
    /// Rank of the first gold article in the top 10.
    pub rank: Option<usize>,
    pub searched_language: &'static str,
    /// The search's time in microseconds (as the latency columns count it).
    pub micros: u64,
    pub hits: Vec<DetailHit<'a>>,
}

/// One hit in a query's details.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DetailHit<'a> {
    pub id: &'a str,
    pub confidence: f64,
    /// Lexical evidence (with hybrid ranking; else the lexical confidence).
    pub lexical: f64,
    /// Semantic evidence; absent under lexical ranking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semantic: Option<f64>,
    /// Present (true) when the question is far from the knowledge base, so that the stronger
    /// evidence must reach more ([`is_answer`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub far: bool,
    /// `missing_translation` or `no_confident_answer` for a hit from another language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<&'static str>,
}

impl QueryResult {
    /// Returns the decision's outcome as [`Detail::outcome`] names it.
    pub fn outcome(&self) -> &'static str {
        match (self.in_scope, self.answered) {
            (true, true) if self.rank == Some(1) => "right",
            (_, true) => "wrong",
            (true, false) => "missed",
            (false, false) => "declined",
        }
    }

    /// Returns the query's details; `q` is the labelled query it came from.
    pub fn detail<'a>(&'a self, q: &'a LabelledQuery) -> Detail<'a> {
        Detail {
            id: &q.id,
            lang: &q.lang,
            query: &q.query,
            gold: &q.gold,
            outcome: self.outcome(),
            answered: self.answered,
            rank: self.rank,
            searched_language: self.searched,
            micros: self.micros,
            hits: self
                .top
                .iter()
                .map(|h| DetailHit {
                    id: &h.id,
                    confidence: h.confidence,
                    lexical: h.evidence.lexical,
                    semantic: h.evidence.semantic,
                    far: h.evidence.far,
                    fallback: h.fallback.map(Reason::name),
                })
                .collect(),
        }
    }
}

/// Metrics over a set of query results.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Metrics {
    pub queries: usize,
    pub recall_at_1: Option<f64>,
    pub recall_at_5: Option<f64>,
    pub mrr_at_10: Option<f64>,
    /// In-scope queries answered confidently with the right article first.
    pub answered_recall_at_1: Option<f64>,
    pub no_answer_precision: Option<f64>,
    pub no_answer_recall: Option<f64>,
    pub no_answer_accuracy: Option<f64>,
    pub language_agreement: f64,
    pub latency_us_p50: u64,
    pub latency_us_p99: u64,
}

/// The full report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub overall: Metrics,
    pub by_language: BTreeMap<String, Metrics>,
}

fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Computes metrics as defined in the evaluation README.
pub fn metrics(results: &[&QueryResult]) -> Metrics {
    let in_scope: Vec<_> = results.iter().filter(|r| r.in_scope).collect();
    let oos = results.len() - in_scope.len();
    let n = in_scope.len();
    let r1 = in_scope.iter().filter(|r| r.rank == Some(1)).count();
    let r5 = in_scope
        .iter()
        .filter(|r| r.rank.is_some_and(|k| k <= 5))
        .count();
    let mrr: f64 = in_scope
        .iter()
        .filter_map(|r| r.rank)
        .map(|k| 1.0 / k as f64)
        .sum();
    let answered_r1 = in_scope
        .iter()
        .filter(|r| r.answered && r.rank == Some(1))
        .count();
    let declined: Vec<_> = results.iter().filter(|r| !r.answered).collect();
    let declined_oos = declined.iter().filter(|r| !r.in_scope).count();
    let correct = results.iter().filter(|r| r.answered == r.in_scope).count();
    let mut lat: Vec<u64> = results.iter().map(|r| r.micros).collect();
    lat.sort_unstable();
    Metrics {
        queries: results.len(),
        recall_at_1: ratio(r1, n),
        recall_at_5: ratio(r5, n),
        mrr_at_10: (n > 0).then(|| mrr / n as f64),
        answered_recall_at_1: ratio(answered_r1, n),
        no_answer_precision: if oos > 0 {
            Some(ratio(declined_oos, declined.len()).unwrap_or(0.0))
        } else {
            None
        },
        no_answer_recall: if oos > 0 {
            ratio(declined_oos, oos)
        } else {
            None
        },
        no_answer_accuracy: if oos > 0 {
            ratio(correct, results.len())
        } else {
            None
        },
        language_agreement: ratio(
            results.iter().filter(|r| r.lang_agrees).count(),
            results.len(),
        )
        .unwrap_or(0.0),
        latency_us_p50: percentile(&lat, 0.5),
        latency_us_p99: percentile(&lat, 0.99),
    }
}

/// Builds the report from per-query results.
pub fn report(results: &[QueryResult]) -> Report {
    let all: Vec<&QueryResult> = results.iter().collect();
    let mut by: BTreeMap<String, Vec<&QueryResult>> = BTreeMap::new();
    for r in results {
        by.entry(r.lang.clone()).or_default().push(r);
    }
    Report {
        overall: metrics(&all),
        by_language: by.into_iter().map(|(k, v)| (k, metrics(&v))).collect(),
    }
}

/// Errors of an evaluation run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Build(#[from] crate::kb::BuildError),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error("failed to read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Query {
        path: String,
        line: usize,
        message: String,
    },
    #[error("query {id}: {message}")]
    Search { id: String, message: String },
    #[error("failed to create a temporary index directory: {0}")]
    TempDir(std::io::Error),
}

impl EvalError {
    /// Returns true for errors in the files given (unreadable, malformed, invalid bank
    /// records), as opposed to failures of faqd itself.
    pub fn is_invalid_input(&self) -> bool {
        match self {
            EvalError::Read { .. } | EvalError::Query { .. } => true,
            EvalError::Build(e) => matches!(
                e,
                crate::kb::BuildError::Invalid(_)
                    | crate::kb::BuildError::NothingValid(_)
                    | crate::kb::BuildError::Ingest(_)
            ),
            EvalError::Index(_) | EvalError::Search { .. } | EvalError::TempDir(_) => false,
        }
    }
}

/// Reads a labelled query file.
pub fn read_queries(path: &Path) -> Result<Vec<LabelledQuery>, EvalError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Read {
        path: crate::ingest::absolute(path).display().to_string(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| EvalError::Query {
                path: name.clone(),
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

/// Indexes the bank in a temporary directory and opens an engine on it.
pub fn engine_for_bank(
    bank: &Path,
    settings: Settings,
) -> Result<(Engine, tempfile::TempDir), EvalError> {
    let dir = tempfile::tempdir().map_err(EvalError::TempDir)?;
    let sources = [Source::File(
        bank.to_path_buf(),
        Some(crate::ingest::Format::Jsonl),
    )];
    crate::kb::build(dir.path(), &sources, false, &BuildOptions::default())?;
    let engine = Engine::open(dir.path(), settings)?;
    Ok((engine, dir))
}

/// Runs every query through the engine's search path.
pub fn run_queries(
    engine: &Engine,
    queries: &[LabelledQuery],
    route: Route,
) -> Result<Vec<QueryResult>, EvalError> {
    let mut out = Vec::with_capacity(queries.len());
    for q in queries {
        let gold_lang = Lang::parse(&q.lang).ok();
        let params = SearchParams {
            query: q.query.clone(),
            language: match route {
                Route::Gold => Some(q.lang.clone()),
                Route::Detect => None,
            },
            top_k: 10,
            no_snippets: true,
            ..SearchParams::default()
        };
        let start = Instant::now();
        let outcome = engine.search(&params).map_err(|e| EvalError::Search {
            id: q.id.clone(),
            message: e.to_string(),
        })?;
        let micros = start.elapsed().as_micros() as u64;
        let rank = outcome
            .hits
            .iter()
            .take(10)
            .position(|h| q.gold.contains(&h.shown.article.id))
            .map(|p| p + 1);
        out.push(QueryResult {
            lang: gold_lang.map_or_else(|| q.lang.clone(), |l| l.code().to_string()),
            rank,
            in_scope: !q.gold.is_empty(),
            answered: outcome.answered,
            lang_agrees: gold_lang == Some(outcome.choice.lang),
            micros,
            searched: outcome.choice.lang.code(),
            top: outcome
                .hits
                .iter()
                .take(DETAIL_HITS)
                .map(|h| TopHit {
                    id: h.shown.article.id.clone(),
                    confidence: h.hit.confidence,
                    evidence: h.evidence,
                    fallback: h.fallback.map(|f| f.reason),
                })
                .collect(),
        });
    }
    Ok(out)
}

/// Returns, for thresholds 0.05 to 0.95, the answer/no-answer accuracy and the in-scope
/// share answered with the right article first, to help choose a threshold.
pub fn sweep(results: &[QueryResult]) -> String {
    let mut s = format!(
        "{:>9} {:>8} {:>8} {:>8}\n",
        "threshold", "NA-acc", "ansR@1", "answered"
    );
    for step in 1..20 {
        let t = step as f64 * 0.05;
        let rs: Vec<QueryResult> = results
            .iter()
            .map(|r| QueryResult {
                answered: r
                    .top
                    .first()
                    .is_some_and(|h| is_answer(h.confidence, &h.evidence, t)),
                ..r.clone()
            })
            .collect();
        let all: Vec<&QueryResult> = rs.iter().collect();
        let m = metrics(&all);
        let answered = rs.iter().filter(|r| r.answered).count() as f64 / rs.len().max(1) as f64;
        s.push_str(&format!(
            "{:>9.2} {:>8} {:>8} {:>8.3}\n",
            t,
            cell(m.no_answer_accuracy),
            cell(m.answered_recall_at_1),
            answered
        ));
    }
    s
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.3}"))
}

/// Formats a report as a table.
pub fn table(r: &Report) -> String {
    let mut s = format!(
        "{:<8} {:>7} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>6} {:>7} {:>7}\n",
        "lang",
        "queries",
        "R@1",
        "R@5",
        "MRR@10",
        "ansR@1",
        "NA-P",
        "NA-R",
        "NA-acc",
        "lang=",
        "p50us",
        "p99us"
    );
    let mut row = |name: &str, m: &Metrics| {
        s.push_str(&format!(
            "{:<8} {:>7} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>6.3} {:>7} {:>7}\n",
            name,
            m.queries,
            cell(m.recall_at_1),
            cell(m.recall_at_5),
            cell(m.mrr_at_10),
            cell(m.answered_recall_at_1),
            cell(m.no_answer_precision),
            cell(m.no_answer_recall),
            cell(m.no_answer_accuracy),
            m.language_agreement,
            m.latency_us_p50,
            m.latency_us_p99
        ));
    };
    for (k, m) in &r.by_language {
        row(k, m);
    }
    row("overall", &r.overall);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(lang: &str, rank: Option<usize>, in_scope: bool, answered: bool) -> QueryResult {
        QueryResult {
            lang: lang.into(),
            rank,
            in_scope,
            answered,
            lang_agrees: lang != "zh",
            micros: 10,
            searched: "en",
            top: Vec::new(),
        }
    }

    #[test]
    fn metrics_on_a_hand_checked_case() {
        // in scope: ranks 1, 2, none, 5 -> R@1 1/4, R@5 3/4, MRR (1 + 0.5 + 0 + 0.2) / 4
        // out of scope: two, one declined; one in-scope declined.
        let rs = [
            r("en", Some(1), true, true),
            r("en", Some(2), true, true),
            r("en", None, true, false),
            r("zh", Some(5), true, true),
            r("en", None, false, false),
            r("zh", Some(1), false, true),
        ];
        let all: Vec<_> = rs.iter().collect();
        let m = metrics(&all);
        assert_eq!(m.queries, 6);
        assert_eq!(m.recall_at_1, Some(0.25));
        assert_eq!(m.recall_at_5, Some(0.75));
        assert!((m.mrr_at_10.unwrap() - 0.425).abs() < 1e-9);
        // declined: the in-scope miss and one out-of-scope -> precision 1/2; recall 1/2
        assert_eq!(m.no_answer_precision, Some(0.5));
        assert_eq!(m.no_answer_recall, Some(0.5));
        // correct decisions: 3 answered in-scope + 1 declined oos = 4 of 6
        assert!((m.no_answer_accuracy.unwrap() - 4.0 / 6.0).abs() < 1e-9);
        assert!((m.language_agreement - 4.0 / 6.0).abs() < 1e-9);
        let none_oos: Vec<_> = rs[..4].iter().collect();
        assert_eq!(metrics(&none_oos).no_answer_accuracy, None);
        let outcomes: Vec<_> = rs.iter().map(QueryResult::outcome).collect();
        assert_eq!(
            outcomes,
            ["right", "wrong", "missed", "wrong", "declined", "wrong"]
        );
    }
}
