//! Confidence that a hit answers the query, comparable across queries and languages.
//!
//! A raw BM25 score grows with the query's length and rarity, so it cannot be thresholded.
//! Instead faqd measures how much of the query a hit accounts for: the IDF-weighted share of
//! the query's tokens present in the hit's best question phrasing, or in its title and answer,
//! whichever is higher. For Korean and Chinese the word and bigram analyses are combined
//! (bigram share weighs as much as word share), so an unsegmented `비밀번호재설정` still matches.
//! Presence is read from the postings of the matched documents, not by re-analysing text.

use super::Analysed;
use crate::analysis::Kind;
use crate::index::{Generation, Part};
use crate::lang::Lang;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, Searcher, Term};

/// Default confidence threshold for `answered`: one value for every language and knowledge
/// base, chosen with `faqd eval --sweep` on the HINT3 development sets.
pub const DEFAULT_THRESHOLD: f64 = 0.25;

/// Returns a token's document frequency in each part's field ([`Part::ALL`] order).
pub fn doc_freqs(
    searcher: &Searcher,
    gen: &Generation,
    lang: Lang,
    kind: Kind,
    token: &str,
) -> [u64; 3] {
    Part::ALL.map(|p| {
        let f = gen.fields.text(lang, p, kind);
        searcher
            .doc_freq(&Term::from_field_text(f, token))
            .unwrap_or(0)
    })
}

/// Returns the IDF weight of a token found in `df` documents (BM25's form, never negative).
pub fn idf(searcher: &Searcher, df: u64) -> f64 {
    let n = searcher.num_docs().max(1) as f64;
    let df = df as f64;
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// IDF weights of the query's tokens, per analysis kind.
pub struct TermWeights {
    lang: crate::lang::Lang,
    kinds: Vec<(Kind, Vec<(String, f64)>)>,
    /// (kind, part, token) triples that occur in the index.
    present: std::collections::HashSet<(Kind, Part, String)>,
}

impl TermWeights {
    /// Computes each token's IDF over the question and answer fields of its kind.
    pub fn new(searcher: &Searcher, gen: &Generation, q: &Analysed) -> Self {
        let mut present = std::collections::HashSet::new();
        let kinds = q
            .tokens
            .iter()
            .map(|(kind, tokens)| {
                let weighted = tokens
                    .iter()
                    .map(|t| {
                        let per_part = doc_freqs(searcher, gen, q.lang, *kind, t);
                        for (p, df) in Part::ALL.into_iter().zip(per_part) {
                            if df > 0 {
                                present.insert((*kind, p, t.clone()));
                            }
                        }
                        (t.clone(), idf(searcher, per_part.iter().sum()))
                    })
                    .collect();
                (*kind, weighted)
            })
            .collect();
        TermWeights {
            lang: q.lang,
            kinds,
            present,
        }
    }

    /// Returns true when the token occurs in that part's field of the index.
    pub fn occurs(&self, kind: Kind, part: Part, token: &str) -> bool {
        self.present.contains(&(kind, part, token.to_string()))
    }

    /// Returns, for each document, the weighted share of query tokens it contains. Question
    /// documents are checked in the question field, article documents in title and answer.
    pub fn coverage(
        &self,
        searcher: &Searcher,
        gen: &Generation,
        docs: &[(DocAddress, bool)],
    ) -> tantivy::Result<Vec<f64>> {
        // found[doc][kind][token]: the token is in the document
        let mut found: Vec<Vec<Vec<bool>>> = vec![
            self.kinds
                .iter()
                .map(|(_, t)| vec![false; t.len()])
                .collect();
            docs.len()
        ];
        let mut order: Vec<usize> = (0..docs.len()).collect();
        order.sort_by_key(|&i| (docs[i].0.segment_ord, docs[i].0.doc_id));
        for (seg_ord, seg) in searcher.segment_readers().iter().enumerate() {
            let in_seg: Vec<usize> = order
                .iter()
                .copied()
                .filter(|&i| docs[i].0.segment_ord as usize == seg_ord)
                .collect();
            if in_seg.is_empty() {
                continue;
            }
            for (ki, (kind, tokens)) in self.kinds.iter().enumerate() {
                for part in Part::ALL {
                    let wanted: Vec<usize> = in_seg
                        .iter()
                        .copied()
                        .filter(|&i| docs[i].1 == (part == Part::Question))
                        .collect();
                    if wanted.is_empty() {
                        continue;
                    }
                    let field = gen.fields.text(self.lang, part, *kind);
                    let inverted = seg.inverted_index(field)?;
                    for (ti, (token, _)) in tokens.iter().enumerate() {
                        let term = Term::from_field_text(field, token);
                        let Some(mut postings) =
                            inverted.read_postings(&term, IndexRecordOption::Basic)?
                        else {
                            continue;
                        };
                        // `wanted` is in document order, so the postings only move forward.
                        for &i in &wanted {
                            let d = docs[i].0.doc_id;
                            let cur = postings.doc();
                            let present = if cur >= d {
                                cur == d
                            } else {
                                postings.seek(d) == d
                            };
                            found[i][ki][ti] |= present;
                        }
                    }
                }
            }
        }
        Ok(found
            .into_iter()
            .map(|per_kind| {
                let mut sum = 0.0;
                let mut n = 0;
                for (ki, (_, tokens)) in self.kinds.iter().enumerate() {
                    let all: f64 = tokens.iter().map(|(_, w)| w).sum();
                    if all <= 0.0 {
                        continue;
                    }
                    let got: f64 = tokens
                        .iter()
                        .zip(&per_kind[ki])
                        .filter(|(_, present)| **present)
                        .map(|((_, w), _)| w)
                        .sum();
                    sum += got / all;
                    n += 1;
                }
                if n == 0 {
                    0.0
                } else {
                    sum / n as f64
                }
            })
            .collect())
    }
}
