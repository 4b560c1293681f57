//! The analysed query: the user's text run through every analyzer of its language, with
//! misspelt English words corrected against the knowledge base's vocabulary.

use crate::analysis::{self, Kind, Tok};
use crate::index::{Generation, Part};
use crate::lang::Lang;
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;
use tantivy::query::FuzzyTermQuery;
use tantivy::Term;

/// The analysed query.
pub struct Analysed {
    /// Language of the analysis.
    pub lang: Lang,
    /// Tokens per kind, in text order (repeats kept).
    pub tokens: Vec<(Kind, Vec<Tok>)>,
    /// True when the text is written in Traditional Chinese.
    pub traditional: bool,
    /// Words that spelling correction put in place of words the knowledge base lacks.
    pub corrected: Vec<String>,
}

impl Analysed {
    /// Returns the distinct terms of one kind with how often each occurs, in first-seen
    /// order.
    pub fn terms(&self, kind: Kind) -> Vec<(&str, u32)> {
        let Some((_, tokens)) = self.tokens.iter().find(|(k, _)| *k == kind) else {
            return Vec::new();
        };
        let mut out: Vec<(&str, u32)> = Vec::with_capacity(tokens.len());
        let mut at: FxHashMap<&str, usize> = FxHashMap::default();
        at.reserve(tokens.len());
        for t in tokens {
            match at.entry(&t.text) {
                Entry::Occupied(seen) => out[*seen.get()].1 += 1,
                Entry::Vacant(new) => {
                    new.insert(out.len());
                    out.push((&t.text, 1));
                }
            }
        }
        out
    }

    /// Returns true when spelling correction put `term` in place of a word the user typed.
    pub fn is_corrected(&self, term: &str) -> bool {
        self.corrected.iter().any(|c| c == term)
    }
}

/// Analyses a query with every analyzer of its language.
pub fn analyse(text: &str, lang: Lang) -> Analysed {
    Analysed {
        lang,
        tokens: analysis::analyze_all(lang, text),
        traditional: lang == Lang::Zh && analysis::is_traditional(text),
        corrected: Vec::new(),
    }
}

/// Returns how many edits a misspelt word of `len` characters may be away from the word the
/// user meant: none under 4 characters (too many short words are one edit apart), one up to
/// 6, two from 7 (as search engines' "auto" fuzziness does); none over 20 (not a word).
fn max_edits(len: usize) -> u8 {
    match len {
        0..=3 => 0,
        4..=6 => 1,
        7..=20 => 2,
        _ => 0,
    }
}

/// Most words corrected in one query: each costs a walk of the term dictionary, and a long
/// run of unknown words is not a query with typos.
const MAX_CORRECTIONS: usize = 8;

/// Replaces English words the knowledge base does not contain with the closest word it does
/// (fewest edits, a swap of neighbouring letters counting as one, same first letter; among
/// equals the most frequent), then rebuilds the shingles from the corrected words. Real
/// support traffic is full of typos (`matress`, `recieve`, `protien`), and a word no article
/// contains can only lower recall. The corrections are noted in [`Analysed::corrected`]:
/// they rank, but they are not evidence for confidence.
pub fn correct_spelling(gen: &Generation, q: &mut Analysed) -> tantivy::Result<()> {
    if q.lang != Lang::En {
        return Ok(());
    }
    let field = gen.fields.text(Lang::En, Part::Article, Kind::Word);
    let Some(readers) = gen.readers.get(&field) else {
        return Ok(());
    };
    let searcher = gen.reader.searcher();
    let Some(words) = q.tokens.iter_mut().find(|(k, _)| *k == Kind::Word) else {
        return Ok(());
    };
    // The words as typed, copied at the first correction (most queries have none): a
    // correction to a word typed elsewhere in the query is no guess.
    let mut typed: Vec<String> = Vec::new();
    let mut fixes: Vec<(String, Option<String>)> = Vec::new();
    for i in 0..words.1.len() {
        let text = &words.1[i].text;
        if let Some((_, fixed)) = fixes.iter().find(|(from, _)| from == text) {
            if let Some(fixed) = fixed {
                words.1[i].text = fixed.as_str().into();
            }
            continue;
        }
        let edits = max_edits(text.chars().count());
        if edits == 0 || !text.chars().all(char::is_alphabetic) {
            continue;
        }
        // The article documents' postings, which ranking reads next.
        if gen.term(Lang::En, Kind::Word, text)?.article().doc_freq > 0 {
            continue;
        }
        if fixes.len() == MAX_CORRECTIONS {
            break;
        }
        let fixed = readers.correction(text, || closest_term(&searcher, field, text, edits))?;
        if fixes.is_empty() {
            typed = words.1.iter().map(|w| w.text.to_string()).collect();
        }
        fixes.push((words.1[i].text.to_string(), fixed.clone()));
        if let Some(fixed) = fixed {
            words.1[i].text = fixed.into();
        }
    }
    let fixed: Vec<String> = fixes.into_iter().filter_map(|(_, fixed)| fixed).collect();
    if !fixed.is_empty() {
        let shingles = analysis::shingles(&words.1);
        if let Some(s) = q.tokens.iter_mut().find(|(k, _)| *k == Kind::Shingle) {
            s.1 = shingles;
        }
    }
    q.corrected = fixed.into_iter().filter(|f| !typed.contains(f)).collect();
    Ok(())
}

/// Returns the indexed term closest to `word` within `max` edits that starts with the same
/// letter: the most frequent at the smallest distance.
fn closest_term(
    searcher: &tantivy::Searcher,
    field: tantivy::schema::Field,
    word: &str,
    max: u8,
) -> tantivy::Result<Option<String>> {
    let Some(first) = word.chars().next() else {
        return Ok(None);
    };
    // Only the terms that start with the same letter are walked: [first, next letter).
    let (mut from, mut to) = ([0; 4], [0; 4]);
    let from: &str = first.encode_utf8(&mut from);
    let to = char::from_u32(first as u32 + 1).map(|next| &*next.encode_utf8(&mut to));
    let first = Some(first);
    for edits in 1..=max {
        let automaton =
            FuzzyTermQuery::new(Term::from_field_text(field, word), edits, true).automaton()?;
        // Document frequency per candidate, summed over segments.
        let mut candidates: Vec<(String, u64)> = Vec::new();
        for seg in searcher.segment_readers() {
            let inverted = seg.inverted_index(field)?;
            let mut walk = inverted.terms().search(&automaton).ge(from);
            if let Some(to) = to {
                walk = walk.lt(to);
            }
            let mut stream = walk.into_stream()?;
            while stream.advance() {
                let Ok(term) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                if term.chars().next() != first {
                    continue;
                }
                let df = u64::from(stream.value().doc_freq);
                match candidates.iter_mut().find(|(t, _)| t == term) {
                    Some(c) => c.1 += df,
                    None => candidates.push((term.to_string(), df)),
                }
            }
        }
        // The most frequent; among equals the first in alphabetical order.
        let best = candidates
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)));
        if let Some((term, _)) = best {
            return Ok(Some(term));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_grow_with_word_length() {
        assert_eq!(
            [
                "kyc",
                "card",
                "refund",
                "mattress",
                "protein",
                "pneumonoultramicroscopic"
            ]
            .map(|w| max_edits(w.len())),
            [0, 1, 1, 2, 2, 0]
        );
    }

    #[test]
    fn terms_count_repeats_in_first_seen_order() {
        let q = analyse("card card refund card", Lang::En);
        assert_eq!(q.terms(Kind::Word), [("card", 3), ("refund", 1)]);
    }
}
