//! The glossary of support terms (`index/glossary.tsv`): one concept per line with its terms
//! in Korean, English and Chinese, synonyms separated by `|`. The cross-language fallback finds
//! the concepts a query names and searches other languages with their terms.
//!
//! Matching works on normalised text, never on raw strings:
//! - English: the English analyzer's tokens (lowercase, ASCII folding, stop words dropped,
//!   stemmed), so `withdrawals` and `withdrawal` match; a term matches as a phrase of tokens.
//! - Korean and Chinese: NFKC, lowercase, Chinese folded to Simplified, spaces and
//!   punctuation removed (so `입금 주소` matches `입금주소`, and `출금이` contains `출금`); a
//!   term matches as a substring, except that a Latin word or number must not be cut
//!   (`eth` does not match inside `method`), and a one-syllable Korean term (`원`, `앱`) must
//!   be a whole word, optionally followed by a particle (`원으로`, not `회원`).
//!
//! In a query, concepts are taken left to right, longest term first, without overlaps.

use crate::analysis::{self, Kind};
use crate::index::Generation;
use crate::ingest::Article;
use crate::lang::{Lang, Variant};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The glossary shipped in `index/glossary.tsv` (compiled in).
pub const SHIPPED_GLOSSARY: &str = include_str!("../../index/glossary.tsv");
/// Name of the shipped glossary in messages.
pub const SHIPPED_NAME: &str = "<shipped index/glossary.tsv>";
/// The header line every glossary starts with.
pub const HEADER: &str = "concept\tko\ten\tzh";

/// Errors of loading a glossary; the message names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum GlossaryError {
    /// The file cannot be read.
    #[error("{path}: cannot read glossary: {cause}")]
    Read {
        /// The file, as resolved against the working directory.
        path: PathBuf,
        /// Why (in the message, not a separate source, so that it is said once).
        cause: std::io::Error,
    },
    /// A line is malformed.
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The file (or the shipped name).
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Where the glossary is loaded from; kept by the engine so a reload reads the same place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum GlossarySource {
    /// The compiled-in `index/glossary.tsv`.
    #[default]
    Shipped,
    /// A TSV file (`--glossary FILE`, `FAQD_GLOSSARY`), re-read on every reload.
    File(PathBuf),
}

impl GlossarySource {
    /// Returns the file source, or the shipped glossary when `path` is `None`.
    pub fn from_path(path: Option<&Path>) -> Self {
        path.map_or(GlossarySource::Shipped, |p| {
            GlossarySource::File(p.to_path_buf())
        })
    }

    /// Reads and parses the glossary.
    pub fn load(&self) -> Result<Glossary, GlossaryError> {
        match self {
            GlossarySource::Shipped => Glossary::parse(SHIPPED_NAME, SHIPPED_GLOSSARY),
            GlossarySource::File(p) => {
                let text = std::fs::read_to_string(p).map_err(|cause| GlossaryError::Read {
                    path: crate::ingest::absolute(p),
                    cause,
                })?;
                Glossary::parse(&p.display().to_string(), &text)
            }
        }
    }
}

/// One concept: its name and its terms per language, as written in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concept {
    /// The concept's name (first column), e.g. `withdrawal`.
    pub name: String,
    /// Terms per language, in [`Lang::ALL`] order; the first term of a language is its
    /// preferred term.
    pub terms: [Vec<String>; 3],
}

impl Concept {
    /// Returns the concept's terms in a language.
    pub fn terms(&self, lang: Lang) -> &[String] {
        &self.terms[slot(lang)]
    }
}

/// A concept found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Index of the concept in [`Glossary::concepts`].
    pub concept: usize,
    /// The term that matched, as written in the glossary.
    pub term: String,
    /// Byte spans of the text that matched (every match of the concept).
    pub spans: Vec<(usize, usize)>,
}

/// A term keyed for matching: normalised characters (ko, zh) or analysed tokens (en).
#[derive(Debug, Clone)]
struct Key {
    concept: usize,
    term: usize,
    chars: Vec<char>,
    tokens: Vec<String>,
}

/// A parsed glossary with per-language lookup tables.
#[derive(Debug, Clone)]
pub struct Glossary {
    concepts: Vec<Concept>,
    /// Per language: keys grouped by their first character (ko, zh) or token (en), longest
    /// first.
    by_first: [FxHashMap<String, Vec<Key>>; 3],
    /// What [`Glossary::present_in`] found, for the articles of one generation.
    memo: PresenceMemo,
}

/// Where in an article version [`Glossary::present_in`] looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The title and the questions: what the article is about.
    Phrasings,
    /// The title, the questions and the answer.
    Everything,
}

/// An article version's scope: its group, its language and where in it.
type PresenceKey = (u32, Variant, Scope);

/// The concepts found in an article version's scope (indexes into the concepts).
type Concepts = Arc<HashSet<usize>>;

/// Concepts found, per article version's scope, for one generation.
type Presence = HashMap<PresenceKey, Concepts>;

/// The concepts each article version names, per generation, computed on first use or when
/// a generation starts to be served ([`Glossary::warm`]): an article's text is analysed once
/// per glossary, not once per search. It holds the two newest generations it has seen, so
/// searches still running on the one a reload replaced neither lose nor undo what was
/// computed for the new one.
#[derive(Default)]
struct PresenceMemo(Mutex<BTreeMap<u64, Presence>>);

impl PresenceMemo {
    /// Returns what was found for `key` in `generation`, if it is remembered.
    fn get(&self, generation: u64, key: &PresenceKey) -> Option<Concepts> {
        let memo = self.0.lock().unwrap_or_else(|e| e.into_inner());
        memo.get(&generation)?.get(key).cloned()
    }

    /// Remembers what was found in `generation`, then forgets all but the two newest
    /// generations.
    fn insert(&self, generation: u64, found: impl IntoIterator<Item = (PresenceKey, Concepts)>) {
        let mut memo = self.0.lock().unwrap_or_else(|e| e.into_inner());
        memo.entry(generation).or_default().extend(found);
        while memo.len() > 2 {
            memo.pop_first();
        }
    }
}

impl Clone for PresenceMemo {
    fn clone(&self) -> Self {
        PresenceMemo::default()
    }
}

impl std::fmt::Debug for PresenceMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PresenceMemo")
    }
}

fn slot(lang: Lang) -> usize {
    match lang {
        Lang::Ko => 0,
        Lang::En => 1,
        Lang::Zh => 2,
    }
}

/// Normalised text of Korean or Chinese for substring matching: characters without spaces
/// and punctuation, each with a flag telling whether it starts a word.
struct Keyed {
    chars: Vec<char>,
    word_start: Vec<bool>,
    /// Byte span of each character in the original text.
    spans: Vec<(usize, usize)>,
}

fn keyed(text: &str, lang: Lang) -> Keyed {
    let chars = super::fold(text, lang);
    let mut k = Keyed {
        chars: Vec::with_capacity(chars.len()),
        word_start: Vec::with_capacity(chars.len()),
        spans: Vec::with_capacity(chars.len()),
    };
    let mut boundary = true;
    for f in chars {
        let c = f.c;
        if analysis::is_word_char(c) {
            let script_change = k.chars.last().is_some_and(|&p| latin(p) != latin(c));
            k.chars.push(c);
            k.spans.push((f.from, f.to));
            k.word_start.push(boundary || script_change);
            boundary = false;
        } else {
            boundary = true;
        }
    }
    k
}

/// Latin letters and digits: words of these must not be cut by a match.
fn latin(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    // The script checks are range tests; `is_alphanumeric` is a table search.
    !analysis::is_hangul(c) && !analysis::is_han(c) && !analysis::is_kana(c) && c.is_alphanumeric()
}

fn tokens(text: &str) -> Vec<String> {
    analysis::analyze(Lang::En, Kind::Word, text)
        .into_iter()
        .map(|t| t.text.into_string())
        .collect()
}

/// The keys matching at one position, each with the number of positions it spans.
type KeysAt<'g> = Vec<(&'g Key, usize)>;

/// A term matched in a text, with the byte span it covers.
struct Hit<'g> {
    key: &'g Key,
    span: (usize, usize),
}

impl Glossary {
    /// Parses a glossary TSV: the header `concept\tko\ten\tzh`, then one concept per line.
    /// Blank lines and lines starting with `#` are skipped. Every concept needs a unique name
    /// and at least one term in each language.
    pub fn parse(file: &str, text: &str) -> Result<Glossary, GlossaryError> {
        let err = |line: usize, message: String| GlossaryError::Invalid {
            file: file.to_string(),
            line,
            message,
        };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        match lines.next() {
            Some((_, h)) if h.trim_start_matches('\u{feff}').trim_end() == HEADER => {}
            Some((n, h)) => {
                return Err(err(
                    n,
                    format!("expected the header {HEADER:?}, found {h:?}"),
                ))
            }
            None => {
                return Err(err(
                    1,
                    format!("empty file; expected the header {HEADER:?}"),
                ))
            }
        }
        let mut concepts: Vec<Concept> = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for (n, line) in lines {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() != 4 {
                return Err(err(
                    n,
                    format!(
                        "expected 4 tab-separated columns (concept, ko, en, zh), found {}",
                        cols.len()
                    ),
                ));
            }
            let name = cols[0].trim();
            if name.is_empty() {
                return Err(err(n, "column `concept` is empty".into()));
            }
            if let Some(first) = names.insert(name.to_string(), n) {
                return Err(err(
                    n,
                    format!("concept {name:?} is already defined on line {first}"),
                ));
            }
            let mut terms: [Vec<String>; 3] = Default::default();
            for lang in Lang::ALL {
                let col = cols[1 + slot(lang)];
                let list: Vec<String> = col
                    .split('|')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect();
                if list.is_empty() {
                    return Err(err(
                        n,
                        format!("concept {name:?} has no {} term (column `{}`)", lang, lang),
                    ));
                }
                for t in &list {
                    let empty = match lang {
                        Lang::En => tokens(t).is_empty(),
                        _ => keyed(t, lang).chars.is_empty(),
                    };
                    if empty {
                        return Err(err(
                            n,
                            format!(
                                "{lang} term {t:?} of concept {name:?} has no words left after normalisation"
                            ),
                        ));
                    }
                }
                terms[slot(lang)] = list;
            }
            concepts.push(Concept {
                name: name.to_string(),
                terms,
            });
        }
        Ok(Glossary::from_concepts(concepts))
    }

    fn from_concepts(concepts: Vec<Concept>) -> Glossary {
        let mut by_first: [FxHashMap<String, Vec<Key>>; 3] = Default::default();
        for (ci, c) in concepts.iter().enumerate() {
            for lang in Lang::ALL {
                for (ti, t) in c.terms(lang).iter().enumerate() {
                    let key = match lang {
                        Lang::En => Key {
                            concept: ci,
                            term: ti,
                            chars: Vec::new(),
                            tokens: tokens(t),
                        },
                        _ => Key {
                            concept: ci,
                            term: ti,
                            chars: keyed(t, lang).chars,
                            tokens: Vec::new(),
                        },
                    };
                    let first = match lang {
                        Lang::En => key.tokens[0].clone(),
                        _ => key.chars[0].to_string(),
                    };
                    by_first[slot(lang)].entry(first).or_default().push(key);
                }
            }
        }
        for table in &mut by_first {
            for keys in table.values_mut() {
                keys.sort_by_key(|k| std::cmp::Reverse(k.chars.len().max(k.tokens.len())));
            }
        }
        Glossary {
            concepts,
            by_first,
            memo: PresenceMemo::default(),
        }
    }

    /// Returns the concepts, in file order.
    pub fn concepts(&self) -> &[Concept] {
        &self.concepts
    }

    /// Returns the number of concepts.
    pub fn len(&self) -> usize {
        self.concepts.len()
    }

    /// Returns true when the glossary has no concepts.
    pub fn is_empty(&self) -> bool {
        self.concepts.is_empty()
    }

    /// Returns the concepts a text in `lang` names, left to right, longest term first,
    /// without overlapping matches; each concept once.
    pub fn find(&self, text: &str, lang: Lang) -> Vec<Found> {
        let mut out: Vec<Found> = Vec::new();
        for Hit { key: k, span } in self.scan(text, lang, false) {
            match out.iter_mut().find(|f| f.concept == k.concept) {
                Some(f) => f.spans.push(span),
                None => out.push(Found {
                    concept: k.concept,
                    term: self.concepts[k.concept].terms(lang)[k.term].clone(),
                    spans: vec![span],
                }),
            }
        }
        out
    }

    /// Returns every concept with a term anywhere in a text in `lang`, overlapping matches
    /// included (`withdrawal fee` counts for `withdrawal-fee`, `withdrawal` and `fee`).
    pub fn present(&self, text: &str, lang: Lang) -> HashSet<usize> {
        self.scan(text, lang, true)
            .into_iter()
            .map(|h| h.key.concept)
            .collect()
    }

    /// Returns [`Glossary::present`] for the `scope` of an article version of generation
    /// `generation` (group `group`), remembered for later searches.
    pub fn present_in(
        &self,
        generation: u64,
        group: u32,
        a: &Article,
        scope: Scope,
    ) -> Arc<HashSet<usize>> {
        let key = (group, a.lang, scope);
        if let Some(found) = self.memo.get(generation, &key) {
            return found;
        }
        let found = self.scope_present(a, scope);
        self.memo.insert(generation, [(key, found.clone())]);
        found
    }

    /// Returns [`Glossary::present`] for the `scope` of an article version.
    fn scope_present(&self, a: &Article, scope: Scope) -> Arc<HashSet<usize>> {
        let mut text = format!("{}\n{}", a.title, a.questions.join("\n"));
        if scope == Scope::Everything {
            text.push('\n');
            text.push_str(&a.answer);
        }
        Arc::new(self.present(&text, a.lang.lang()))
    }

    /// Computes [`Glossary::present_in`] for the titles and questions of every article
    /// version of a generation (what every search whose first hit is confident asks), before
    /// the generation or the glossary is served: found on first use, a long article costs a
    /// search milliseconds (banking77's 77 articles have about 130 phrasings each). Returns
    /// how many versions were scanned.
    pub fn warm(&self, gen: &Generation) -> usize {
        let started = std::time::Instant::now();
        let found: Vec<_> = gen
            .groups
            .iter()
            .enumerate()
            .flat_map(|(group, versions)| {
                versions.iter().map(move |a| {
                    let key = (group as u32, a.lang, Scope::Phrasings);
                    (key, self.scope_present(a, Scope::Phrasings))
                })
            })
            .collect();
        let scanned = found.len();
        self.memo.insert(gen.meta.generation, found);
        tracing::debug!(
            generation = gen.meta.generation,
            versions = scanned,
            ms = started.elapsed().as_millis() as u64,
            "found the glossary concepts of every article's title and questions"
        );
        scanned
    }

    /// Returns the matching terms: every match when `all`, else left to right, longest
    /// first, without overlaps.
    fn scan<'g>(&'g self, text: &str, lang: Lang, all: bool) -> Vec<Hit<'g>> {
        let table = &self.by_first[slot(lang)];
        // Per position: the keys matching there, each with the number of positions it spans;
        // and the byte span of each position.
        let (spans, at): (Vec<(usize, usize)>, Vec<KeysAt<'g>>) = if lang == Lang::En {
            let toks = analysis::analyze(Lang::En, Kind::Word, text);
            let words: Vec<&str> = toks.iter().map(|t| t.text.as_str()).collect();
            // Not the first half of a contraction: `won't` is no won (user trial).
            let contracted = |i: usize| {
                let rest = &text[toks[i].to..];
                rest.starts_with("'t") || rest.starts_with("’t")
            };
            let at = (0..words.len())
                .map(|i| {
                    if contracted(i) {
                        return Vec::new();
                    }
                    table.get(words[i]).map_or(Vec::new(), |keys| {
                        keys.iter()
                            .filter(|k| {
                                words.len() - i >= k.tokens.len()
                                    && k.tokens.iter().zip(&words[i..]).all(|(k, w)| k == w)
                            })
                            .map(|k| (k, k.tokens.len()))
                            .collect()
                    })
                })
                .collect();
            (toks.iter().map(|t| (t.from, t.to)).collect(), at)
        } else {
            let text = keyed(text, lang);
            let at = (0..text.chars.len())
                .map(|i| {
                    let mut utf8 = [0u8; 4];
                    let first: &str = text.chars[i].encode_utf8(&mut utf8);
                    table.get(first).map_or(Vec::new(), |keys| {
                        keys.iter()
                            .filter(|k| matches_at(&text, i, &k.chars, lang))
                            .map(|k| (k, k.chars.len()))
                            .collect()
                    })
                })
                .collect();
            (text.spans, at)
        };
        let hit = |i: usize, (key, n): (&'g Key, usize)| Hit {
            key,
            span: (spans[i].0, spans[i + n - 1].1),
        };
        let mut out = Vec::new();
        let mut i = 0;
        while i < at.len() {
            match at[i].first() {
                Some(&(k, n)) if !all => {
                    out.push(hit(i, (k, n)));
                    i += n;
                }
                _ => {
                    out.extend(at[i].iter().map(|&m| hit(i, m)));
                    i += 1;
                }
            }
        }
        out
    }
}

/// Returns true when `term` occurs in `text` at `i` without cutting a Latin word, and, for a
/// one-syllable Korean term, as a whole word optionally followed by a particle.
fn matches_at(text: &Keyed, i: usize, term: &[char], lang: Lang) -> bool {
    let end = i + term.len();
    if end > text.chars.len() || text.chars[i..end] != *term {
        return false;
    }
    let starts_word = |j: usize| j >= text.chars.len() || text.word_start[j];
    if latin(term[0]) && !text.word_start[i] {
        return false;
    }
    if latin(term[term.len() - 1]) && !starts_word(end) {
        return false;
    }
    if lang == Lang::Ko && term.len() == 1 && analysis::is_hangul(term[0]) {
        // After a number, also one written with a Korean unit: `100만원` (user trial).
        let after_number =
            i >= 2 && "만억천백".contains(text.chars[i - 1]) && text.chars[i - 2].is_ascii_digit();
        if !text.word_start[i] && !after_number {
            return false;
        }
        let word_end = (end..=text.chars.len())
            .find(|&j| starts_word(j))
            .unwrap_or(text.chars.len());
        let word: String = text.chars[i..word_end].iter().collect();
        return analysis::strip_particles(&word) == term[0].to_string();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glossary() -> Glossary {
        Glossary::parse(
            "test.tsv",
            "concept\tko\ten\tzh\n\
             # a comment\n\
             withdrawal\t출금|인출\twithdrawal|withdraw|cash out\t提币|提现\n\
             withdrawal-fee\t출금 수수료\twithdrawal fee\t提币手续费\n\
             fee\t수수료\tfee\t手续费\n\
             krw\t원화|원|krw\tkrw|korean won\t韩元|krw\n\
             eth\t이더리움|eth\tethereum|eth\t以太坊|eth\n\
             deposit-address\t입금 주소\tdeposit address\t充值地址\n",
        )
        .unwrap()
    }

    fn names(g: &Glossary, text: &str, lang: Lang) -> Vec<String> {
        g.find(text, lang)
            .into_iter()
            .map(|f| g.concepts()[f.concept].name.clone())
            .collect()
    }

    #[test]
    fn finds_concepts_through_particles_spaces_and_scripts() {
        let g = glossary();
        for (text, lang, want) in [
            ("출금이 안돼요", Lang::Ko, vec!["withdrawal"]),
            ("출금 수수료가 얼마예요", Lang::Ko, vec!["withdrawal-fee"]),
            ("출금수수료", Lang::Ko, vec!["withdrawal-fee"]),
            ("입금주소 알려주세요", Lang::Ko, vec!["deposit-address"]),
            ("원화 출금", Lang::Ko, vec!["krw", "withdrawal"]),
            ("5000원으로 출금", Lang::Ko, vec!["krw", "withdrawal"]),
            ("100만원 이상 출금", Lang::Ko, vec!["krw", "withdrawal"]),
            ("회원님 만원", Lang::Ko, vec![]),
            ("We won't withdraw it", Lang::En, vec!["withdrawal"]),
            ("We won 1,000 KRW", Lang::En, vec!["krw"]),
            ("회원 탈퇴", Lang::Ko, vec![]),
            ("ETH출금", Lang::Ko, vec!["eth", "withdrawal"]),
            ("提幣手續費多少", Lang::Zh, vec!["withdrawal-fee"]),
            ("韩元提现", Lang::Zh, vec!["krw", "withdrawal"]),
            ("Withdrawals are slow", Lang::En, vec!["withdrawal"]),
            (
                "what is the withdrawal fee",
                Lang::En,
                vec!["withdrawal-fee"],
            ),
            (
                "I want to cash out Korean won",
                Lang::En,
                vec!["withdrawal", "krw"],
            ),
            ("which method", Lang::En, vec![]),
        ] {
            assert_eq!(names(&g, text, lang), want, "{text}");
        }
        let found = g.find("提幣", Lang::Zh);
        assert_eq!(found[0].term, "提币", "the term is reported as written");
        let text = "USDT 출금이 안돼요, 출금";
        let found = g.find(text, Lang::Ko);
        let spans: Vec<&str> = found[0].spans.iter().map(|&(a, b)| &text[a..b]).collect();
        assert_eq!(
            spans,
            ["출금", "출금"],
            "spans point into the original text"
        );
        let text = "My WITHDRAWALS, and a withdrawal fee";
        let found = g.find(text, Lang::En);
        let spans: Vec<&str> = found
            .iter()
            .flat_map(|f| f.spans.iter().map(|&(a, b)| &text[a..b]))
            .collect();
        assert_eq!(spans, ["WITHDRAWALS", "withdrawal fee"]);
    }

    #[test]
    fn present_reports_overlapping_concepts() {
        let g = glossary();
        let id = |name: &str| g.concepts().iter().position(|c| c.name == name).unwrap();
        let p = g.present("출금 수수료는 1,000원입니다", Lang::Ko);
        for name in ["withdrawal-fee", "withdrawal", "fee", "krw"] {
            assert!(p.contains(&id(name)), "{name}: {p:?}");
        }
        assert!(g.present("The fees", Lang::En).contains(&id("fee")));
    }

    #[test]
    fn latin_terms_do_not_match_inside_words() {
        let g = glossary();
        assert!(names(&g, "method 오류", Lang::Ko).is_empty());
        assert_eq!(
            names(&g, "eth 입금 주소", Lang::Ko),
            ["eth", "deposit-address"]
        );
    }

    #[test]
    fn rejects_malformed_lines_naming_file_and_line() {
        for (text, want) in [
            ("concept\tko\ten\n", "x.tsv:1: expected the header"),
            ("", "x.tsv:1: empty file"),
            (
                "concept\tko\ten\tzh\na\t출금\twithdrawal\n",
                "x.tsv:2: expected 4",
            ),
            (
                "concept\tko\ten\tzh\n\na\t출금\t\t提币\n",
                "x.tsv:3: concept \"a\" has no en term",
            ),
            (
                "concept\tko\ten\tzh\na\t출금\tw\t提币\na\t입금\td\t充值\n",
                "x.tsv:3: concept \"a\" is already defined on line 2",
            ),
            (
                "concept\tko\ten\tzh\n\t출금\tw\t提币\n",
                "x.tsv:2: column `concept` is empty",
            ),
            (
                "concept\tko\ten\tzh\na\t출금\tthe\t提币\n",
                "x.tsv:2: en term \"the\"",
            ),
        ] {
            let e = Glossary::parse("x.tsv", text).unwrap_err().to_string();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn the_shipped_glossary_parses() {
        let g = GlossarySource::Shipped.load().unwrap();
        assert!(g.len() >= 118, "{}", g.len());
        assert_eq!(g.concepts()[0].name, "withdrawal");
    }

    #[test]
    fn warming_finds_what_a_search_would_and_keeps_the_two_newest_generations() {
        let dir = tempfile::tempdir().unwrap();
        let shipped = crate::kb::sources(&[], None);
        let opts = crate::index::BuildOptions::default();
        crate::kb::build(dir.path(), &shipped, false, &opts).unwrap();
        let gen = crate::index::open_current(dir.path()).unwrap();
        let g = GlossarySource::Shipped.load().unwrap();
        assert_eq!(g.warm(&gen), gen.article_count());
        let mut named = 0;
        for (group, versions) in gen.groups.iter().enumerate() {
            for a in versions {
                let key = (group as u32, a.lang, Scope::Phrasings);
                let warmed = g.memo.get(gen.meta.generation, &key).expect("warmed");
                let text = format!("{}\n{}", a.title, a.questions.join("\n"));
                assert_eq!(*warmed, g.present(&text, a.lang.lang()), "{}", a.id);
                named += usize::from(!warmed.is_empty());
            }
        }
        assert!(named > 0, "the shipped articles name glossary concepts");
        let (key, found) = (
            (0, Variant::En, Scope::Everything),
            Arc::new(HashSet::from([7])),
        );
        let memo = PresenceMemo::default();
        for generation in [3, 1, 2, 4] {
            memo.insert(generation, [(key, found.clone())]);
        }
        memo.insert(1, [(key, found.clone())]);
        let held: Vec<u64> = memo.0.lock().unwrap().keys().copied().collect();
        assert_eq!(held, [3, 4]);
        assert_eq!(memo.get(4, &key), Some(found));
        assert_eq!(memo.get(1, &key), None);
    }
}
