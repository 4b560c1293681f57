//! Confidence that a hit answers the query, comparable across queries and languages.

use super::Analysed;
use crate::analysis::{self, Kind};
use crate::index::{Generation, Part};
use std::collections::HashSet;

/// Default confidence threshold for `answered`.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// IDF weights of the query's tokens, per analysis kind.
pub struct TermWeights {
    lang: crate::lang::Lang,
    kinds: Vec<(Kind, Vec<(String, f64)>)>,
}

impl TermWeights {
    /// Computes each token's IDF over the question and answer fields of its kind.
    pub fn new(searcher: &tantivy::Searcher, gen: &Generation, q: &Analysed) -> Self {
        let n = searcher.num_docs().max(1) as f64;
        let kinds = q
            .tokens
            .iter()
            .map(|(kind, tokens)| {
                let weighted = tokens
                    .iter()
                    .map(|t| {
                        let df: u64 = [Part::Question, Part::Answer]
                            .iter()
                            .map(|&p| {
                                let f = gen.fields.text(q.lang, p, *kind);
                                searcher
                                    .doc_freq(&tantivy::Term::from_field_text(f, t))
                                    .unwrap_or(0)
                            })
                            .sum();
                        let df = df as f64;
                        (t.clone(), (1.0 + (n - df + 0.5) / (df + 0.5)).ln())
                    })
                    .collect();
                (*kind, weighted)
            })
            .collect();
        TermWeights {
            lang: q.lang,
            kinds,
        }
    }

    /// Returns the IDF-weighted share of query tokens present in `text`, averaged over the
    /// analysis kinds that produced tokens.
    pub fn coverage(&self, text: &str) -> f64 {
        let mut total = 0.0;
        let mut n = 0;
        for (kind, weighted) in &self.kinds {
            let all: f64 = weighted.iter().map(|(_, w)| w).sum();
            if all <= 0.0 {
                continue;
            }
            let present: HashSet<String> = analysis::analyze(self.lang, *kind, text)
                .into_iter()
                .map(|t| t.text)
                .collect();
            let found: f64 = weighted
                .iter()
                .filter(|(t, _)| present.contains(t))
                .map(|(_, w)| w)
                .sum();
            total += found / all;
            n += 1;
        }
        if n == 0 {
            0.0
        } else {
            total / n as f64
        }
    }
}
