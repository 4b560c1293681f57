//! Ranking: BM25 over every analysis kind and part, summed per document, then combined per
//! article group.
//!
//! The postings of each query term, decoded from tantivy once per generation with each
//! document's BM25 term-frequency factor (most of them when the generation opens) and held
//! ([`crate::index::Generation::term`]), are scored into a dense accumulator indexed by
//! document slot ([`crate::index::Segments`]; the
//! knowledge base is small: 10^3 to 10^5 articles), so a query costs one pass over its terms'
//! postings and nothing else. Article documents are scored first; phrasings
//! and answer sentences only for the articles that can still reach the requested top `k`
//! (see [`evidence`]), which gives the same hits as scoring everything.
//!
//! - A document's score is the sum over the query's terms of `weight(kind) × BM25` in the
//!   document's field of that kind (k1 = 1.2, b = 0.75, statistics of that language and part).
//!   Words weigh 1; Korean and Chinese character bigrams and single characters 0.5 each
//!   (they catch spacing variants and words the segmenters split differently); English word
//!   pairs 0.25 (they reward the query's words in the same order).
//! - An article's score is its article document's (title, questions and answer together)
//!   plus a quarter of its best phrasing's and a quarter of its best answer sentence's. The
//!   article document is length-normalised over all its text; the phrasing and sentence
//!   evidence is not, so one close phrasing among 130, or one answering sentence of a long
//!   answer, still lifts the article.
//!
//! Confidence (0 to 1, comparable across queries) is the geometric mean of two shares, each
//! averaged over the word and bigram analyses (words alone for English):
//! - *coverage*: the IDF-weighted share of the query's terms that the article contains
//!   (numbers and function words left out: numbers name the case, not the question, and
//!   `why`, `you`, `什么` say that something is asked, not what, so `What are you doing?` is
//!   not covered by an article that merely has those words; a word spelling correction put in
//!   counts in the whole but not as contained: `Site 100` corrected to `side` is not
//!   evidence for the side-effects article);
//! - *closeness*: the share of its best phrasing's or answer sentence's tokens that are query
//!   terms (the higher of the two). A sentence's words are its content words; a phrasing's
//!   are all its words, though it is indexed by its content words ([`Part::content_only`]):
//!   its function words are counted from a fast field ([`PhrasingWords`]).
//!
//! A hit covering the whole question with a phrasing made of the question's words scores
//! near 1; a hit sharing one common word with a long question, or found through one word of
//! a long phrasing, scores low. A raw BM25 score, which grows with the length and rarity of
//! the query, cannot be thresholded that way.

use super::query::Analysed;
use crate::analysis::{self, Kind};
use crate::index::{ArticleDocs, FieldStats, Found, Generation, Part};
use crate::lang::Lang;
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use tantivy::{Searcher, Term};

/// BM25 term-frequency saturation.
const K1: f32 = 1.2;
/// BM25 length normalisation.
const B: f32 = 0.75;
/// Weight of an article's best phrasing next to its article document.
const PHRASING_WEIGHT: f32 = 0.25;
/// Weight of an article's best answer sentence next to its article document.
const SENTENCE_WEIGHT: f32 = 0.25;

/// Returns the weight of an analysis kind in the score.
fn kind_weight(kind: Kind) -> f32 {
    match kind {
        Kind::Word => 1.0,
        Kind::Bigram | Kind::Unigram => 0.5,
        Kind::Shingle => 0.25,
    }
}

/// Returns true for the kinds confidence is measured on.
pub fn measures_confidence(kind: Kind) -> bool {
    matches!(kind, Kind::Word | Kind::Bigram)
}

/// Returns true for tokens made of digits only: amounts, dates, sizes and order numbers say
/// which case a message is about, not which question, so they do not count in coverage.
fn is_number(token: &str) -> bool {
    token.chars().all(|c| c.is_ascii_digit())
}

/// Returns a query token's weight in coverage: its IDF over the `articles` article documents
/// of its language (`df` of them contain it); 0 for numbers and for function words (`why`,
/// `you`, `什么`), which say that something is asked, not what.
pub fn coverage_weight(lang: Lang, token: &str, articles: u64, df: u64) -> f64 {
    if is_number(token) || analysis::is_function_word(lang, token) {
        0.0
    } else {
        idf(articles, df)
    }
}

/// Returns BM25's IDF of a term found in `df` of `n` documents (never negative).
pub fn idf(n: u64, df: u64) -> f64 {
    let (n, df) = (n as f64, df.min(n) as f64);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// Returns how many article documents of `lang` contain a token in the field of `kind`.
pub fn doc_freq(searcher: &Searcher, gen: &Generation, lang: Lang, kind: Kind, token: &str) -> u64 {
    let field = gen.fields.text(lang, Part::Article, kind);
    searcher
        .doc_freq(&Term::from_field_text(field, token))
        .unwrap_or(0)
}

/// Returns the number of article documents of `lang` (the `n` of their IDF).
pub fn language_articles(gen: &Generation, lang: Lang) -> u64 {
    let field = gen.fields.text(lang, Part::Article, Kind::Word);
    gen.stats.get(&field).map_or(0, |s| s.docs)
}

/// The best document of one part for an article group.
#[derive(Debug, Clone, Copy, Default)]
pub struct Best {
    /// Its score (0 when the group has no matching document of that part).
    pub score: f32,
    /// For an article document: the IDF-weighted share of the query's terms it contains.
    pub coverage: f32,
    /// For a phrasing or sentence: the share of its tokens that are query terms (for a
    /// phrasing, see [`PhrasingWords`]).
    pub precision: f32,
    /// For a phrasing: occurrences of query terms in its word field (content words only).
    words_matched: f32,
    /// Its document's slot ([`crate::index::Segments`]).
    doc: u32,
}

impl Best {
    /// The evidence of the phrasing or sentence in slot `at`, from what it gathered
    /// (coverage is measured on article documents: [`Articles::best`]).
    fn of(acc: &Acc, at: u32) -> Best {
        Best {
            score: acc.score,
            coverage: 0.0,
            precision: acc.precision.min(1.0),
            words_matched: acc.words_matched,
            doc: at,
        }
    }
}

/// The evidence for one article group.
#[derive(Debug, Clone, Copy, Default)]
pub struct Evidence {
    /// Index of the group.
    pub group: u32,
    /// Its best article document (for Chinese, the better of its scripts).
    pub article: Best,
    /// Its best phrasing.
    pub phrasing: Best,
    /// Its best answer sentence.
    pub sentence: Best,
}

impl Evidence {
    /// Returns the article's score.
    pub fn score(&self) -> f32 {
        self.article.score
            + PHRASING_WEIGHT * self.phrasing.score
            + SENTENCE_WEIGHT * self.sentence.score
    }

    /// Returns the confidence that the article answers the query (see the module docs).
    pub fn confidence(&self) -> f64 {
        let closeness = self.phrasing.precision.max(self.sentence.precision);
        f64::from(self.article.coverage * closeness)
            .clamp(0.0, 1.0)
            .sqrt()
    }
}

/// Per-thread buffers reused across queries: scores and shares per document (indexed by the
/// document's slot), and the documents touched.
#[derive(Default)]
struct Scratch {
    /// What phrasings and sentences gather, by slot (article slots unused).
    docs: Vec<Acc>,
    /// What article documents gather.
    articles: Articles,
    /// The documents the query added to one posting at a time (a dense term's are
    /// [`Articles::swept`]).
    touched: Vec<u32>,
    /// Per group: the query (epoch) that last gave it a slot, and the slot. A stamp instead of
    /// a reset, so a query that stops half-way leaves nothing behind.
    group_slot: Vec<(u32, u32)>,
    /// Per group: the query (epoch) that made it a candidate for the top k.
    candidate: Vec<u32>,
    epoch: u32,
    /// The article groups the query's article documents belong to.
    folded: Vec<Fold>,
    /// The best scores seen, for choosing the `top_k`-th ([`kth_best`]).
    best: BinaryHeap<Reverse<u32>>,
}

/// An article group's article documents, folded: the best score (for Chinese, of either
/// script), which document has it, and the sum of their bounds (see [`Job::bound`]).
#[derive(Debug, Clone, Copy)]
struct Fold {
    group: u32,
    score: f32,
    bound: f32,
    /// Position of the best document (`u32::MAX` for none).
    best: u32,
}

impl Scratch {
    /// Zeroes what the last query touched (also after a query that failed half-way).
    fn reset(&mut self) {
        let a = &mut self.articles;
        let swept = a.swept.start as usize..a.swept.end as usize;
        a.swept = 0..0;
        let (score, bound, coverage) = (&mut a.score[..], &mut a.bound[..], &mut a.coverage[..]);
        let docs = &mut self.docs[..];
        for &at in &self.touched {
            let at = at as usize;
            docs[at] = Acc::default();
            if at < score.len() {
                (score[at], bound[at], coverage[at]) = (0.0, 0.0, 0.0);
            }
        }
        self.touched.clear();
        for sums in [score, bound, coverage] {
            sums[swept.clone()].fill(0.0);
        }
    }
}

/// What one phrasing or sentence has gathered so far (kept together: one cache line per
/// document).
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    score: f32,
    precision: f32,
    /// For a phrasing: occurrences of query terms in its word field.
    words_matched: f32,
}

/// What article documents have gathered so far, by slot (article slots come before the
/// others), each measure in an array of its own, so that a
/// [dense](crate::index::ArticleDocs::Dense) term adds to every article of a language in
/// one pass the processor vectorises.
#[derive(Default)]
struct Articles {
    score: Vec<f32>,
    /// The sum of its matched terms' [`Job::bound`].
    bound: Vec<f32>,
    /// The IDF-weighted share of the query's terms it contains.
    coverage: Vec<f32>,
    /// The slots a dense term added to (their documents are not in [`Scratch::touched`]).
    swept: std::ops::Range<u32>,
}

impl Articles {
    /// What the article document in slot `at` gathered.
    fn best(&self, at: u32) -> Best {
        let i = at as usize;
        Best {
            score: self.score[i],
            coverage: self.coverage[i].min(1.0),
            doc: at,
            ..Best::default()
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Returns BM25's length normalisation `k1 × (1 − b + b × len / avg_len)` of a document of
/// `len` tokens in a field whose documents average `avg_len` (tabulated per generation in
/// [`FieldStats`]).
pub fn bm25_length_norm(len: f32, avg_len: f32) -> f32 {
    K1 * (1.0 - B + B * len / avg_len)
}

/// Returns BM25's term-frequency factor `tf × (k1 + 1) / (tf + norm)` for `tf` occurrences
/// in a document whose length normalisation is `norm`.
pub fn bm25_tf(tf: f32, norm: f32) -> f32 {
    tf * (K1 + 1.0) / (tf + norm)
}

/// One field of the query: its statistics.
struct FieldPlan<'g> {
    stats: &'g FieldStats,
}

/// One query term in one field: its postings and its weights.
struct Job<'g> {
    /// Index of its [`FieldPlan`].
    field: usize,
    part: Part,
    postings: Found<'g>,
    /// `weight(kind) × occurrences in the query × IDF`.
    weight: f32,
    /// The term's part of the query's coverage (0 for kinds confidence ignores).
    coverage: f32,
    /// The weight of its occurrences in closeness (0 for kinds confidence ignores).
    closeness: f32,
    /// True for a phrasing's word field: its occurrences are counted, and its closeness
    /// computed with the phrasing's function words ([`PhrasingWords`]).
    phrasing_words: bool,
    /// For an article document's term: the most it can add to the article's score through
    /// the best phrasing and the best answer sentence (a BM25 factor is below `k1 + 1`).
    bound: f32,
}

/// Returns the weight of a part's best document in an article's score.
fn part_weight(part: Part) -> f32 {
    match part {
        Part::Article => 1.0,
        Part::Phrasing => PHRASING_WEIGHT,
        Part::Sentence => SENTENCE_WEIGHT,
    }
}

/// Scores the evidence of the `top_k` best article groups, and of any group that could tie
/// with them (unordered); the others are left out. `keep` filters groups (e.g. by category).
///
/// Article documents are scored first. An article's phrasings and sentences hold only terms
/// of its article document, so the article score plus the bounds of the terms it matched is
/// the most the article can reach; phrasings and sentences are then scored only for the
/// articles whose bound reaches the `top_k`-th best article score, and for the group `must`
/// (when it matched) whatever its bound. The result is the same as scoring everything.
pub fn evidence(
    searcher: &Searcher,
    gen: &Generation,
    q: &Analysed,
    top_k: usize,
    must: Option<u32>,
    keep: impl Fn(u32) -> bool,
) -> tantivy::Result<Vec<Evidence>> {
    if top_k == 0 {
        return Ok(Vec::new());
    }
    let total = gen.doc_refs.len();
    let Plan {
        fields,
        jobs,
        function_words,
        word_closeness,
    } = plan(searcher.segment_readers().len(), gen, q)?;
    // Each term's postings are a list of their own, cold from one query to the next: reading
    // the first of every job's now lets their cache misses overlap, instead of each one
    // stalling the scoring loop in turn.
    std::hint::black_box(jobs.iter().map(first_factor).sum::<f32>());
    SCRATCH.with(|scratch| {
        let mut s = scratch.borrow_mut();
        let s = &mut *s;
        s.reset();
        if s.docs.len() < total {
            s.docs.resize(total, Acc::default());
        }
        let lang_articles = gen.segments.articles(q.lang);
        let a = &mut s.articles;
        if a.score.len() < lang_articles.end as usize {
            let n = lang_articles.end as usize;
            for sums in [&mut a.score, &mut a.bound, &mut a.coverage] {
                sums.resize(n, 0.0);
            }
        }
        if s.group_slot.len() < gen.groups.len() {
            s.group_slot.resize(gen.groups.len(), (0, 0));
            s.candidate.resize(gen.groups.len(), 0);
        }
        s.epoch = s.epoch.wrapping_add(1);
        if s.epoch == 0 {
            // Wrapped around: old stamps could match again.
            s.group_slot.fill((0, 0));
            s.candidate.fill(0);
            s.epoch = 1;
        }
        let ctx = Ctx { fields: &fields };
        for job in jobs.iter().filter(|j| j.part == Part::Article) {
            score_articles(job, &lang_articles, s);
        }
        fold_articles(gen, s, &keep);
        let threshold = if top_k < s.folded.len() {
            kth_best(s.folded.iter().map(|f| f.score), top_k, &mut s.best)
        } else {
            f32::NEG_INFINITY
        };
        // The candidates get their evidence, and their slot now points into it.
        let mut out = Vec::new();
        for f in &s.folded {
            // The slack covers rounding: the score adds the same terms in another order.
            if (f.score + f.bound) * 1.001 >= threshold || must == Some(f.group) {
                s.candidate[f.group as usize] = s.epoch;
                s.group_slot[f.group as usize].1 = out.len() as u32;
                let article = match f.best {
                    u32::MAX => Best::default(),
                    at => s.articles.best(at),
                };
                out.push(Evidence {
                    group: f.group,
                    article,
                    ..Evidence::default()
                });
            }
        }
        let articles = s.touched.len();
        let (candidate, epoch) = (std::mem::take(&mut s.candidate), s.epoch);
        // Slices held by value, so the scoring loop keeps them in registers.
        let (doc_refs, candidates) = (&gen.doc_refs[..], &candidate[..]);
        let admit = move |at: usize| {
            let group = doc_refs[at].group as usize;
            candidates.get(group) == Some(&epoch)
        };
        for job in jobs.iter().filter(|j| j.part != Part::Article) {
            ctx.score_evidence(job, s, admit);
        }
        s.candidate = candidate;
        collect(gen, s, articles, &mut out);
        s.reset();
        let words = PhrasingWords::new(gen, q.lang, function_words, word_closeness);
        for e in &mut out {
            words.complete(&mut e.phrasing);
        }
        Ok(out)
    })
}

/// Returns how many analyses confidence averages over: those that measure it and that the
/// query has tokens in (a Korean query of Latin words only, such as `OTP`, has no bigrams).
fn measured_kinds(q: &Analysed) -> f32 {
    q.tokens
        .iter()
        .filter(|(k, tokens)| measures_confidence(*k) && !tokens.is_empty())
        .count()
        .max(1) as f32
}

/// A planned query.
struct Plan<'g> {
    /// Every (part, kind) field the query has terms in.
    fields: Vec<FieldPlan<'g>>,
    /// Every query term's postings in each of them.
    jobs: Vec<Job<'g>>,
    /// Keys of the query's function words (see [`PhrasingWords`]).
    function_words: Vec<u64>,
    /// The weight of the word analysis in closeness (0 when the query has no words).
    word_closeness: f32,
}

/// Plans a query: every (part, kind) field, and every query term's postings in it.
fn plan<'g>(segments: usize, gen: &'g Generation, q: &Analysed) -> tantivy::Result<Plan<'g>> {
    let measured = measured_kinds(q);
    let mut fields: Vec<FieldPlan> = Vec::new();
    let mut jobs: Vec<Job> = Vec::new();
    let (mut function_words, mut word_closeness) = (Vec::new(), 0.0);
    for &(kind, _) in &q.tokens {
        let terms = q.terms(kind);
        if terms.is_empty() {
            continue;
        }
        let measured_kind = if measures_confidence(kind) {
            1.0 / measured
        } else {
            0.0
        };
        if kind == Kind::Word {
            function_words = terms
                .iter()
                .filter(|(t, _)| analysis::is_function_word(q.lang, t))
                .map(|(t, _)| analysis::term_key(t))
                .collect();
            word_closeness = measured_kind;
        }
        // Each term's postings in every part's field of the kind, looked up once.
        let found: Vec<Found<'_>> = terms
            .iter()
            .map(|(t, _)| gen.term(q.lang, kind, t))
            .collect::<std::io::Result<_>>()?;
        let mut article_job: Vec<Option<usize>> = vec![None; terms.len()];
        for part in Part::with_kind(q.lang, kind) {
            let field = gen.fields.text(q.lang, part, kind);
            let Some(stats) = gen.stats.get(&field).filter(|s| s.docs > 0) else {
                continue;
            };
            debug_assert!(
                gen.readers
                    .get(&field)
                    .is_none_or(|r| r.inverted.len() == segments),
                "the generation's searcher"
            );
            let plan = FieldPlan { stats };
            let dfs: Vec<u64> = found.iter().map(|f| f.doc_freq(part)).collect();
            // Coverage is measured on article documents, with IDF over the articles. A word
            // that spelling correction supplied weighs in the whole but earns no share when
            // matched: it is a guess at what the user meant, not evidence that the article
            // answers what they wrote.
            let coverage: Vec<f32> = if part == Part::Article && measures_confidence(kind) {
                let weights: Vec<f64> = terms
                    .iter()
                    .zip(&dfs)
                    .map(|((t, _), df)| coverage_weight(q.lang, t, stats.docs, *df))
                    .collect();
                let total: f64 = weights.iter().sum();
                terms
                    .iter()
                    .zip(&weights)
                    .map(|((t, _), w)| {
                        if total > 0.0 && !q.is_corrected(t) {
                            (w / total) as f32 / measured
                        } else {
                            0.0
                        }
                    })
                    .collect()
            } else {
                vec![0.0; terms.len()]
            };
            for (i, (((_, count), (found, df)), coverage)) in terms
                .iter()
                .zip(found.iter().zip(dfs))
                .zip(coverage)
                .enumerate()
            {
                if df == 0 {
                    continue;
                }
                let weight = kind_weight(kind) * *count as f32 * idf(stats.docs, df) as f32;
                if part == Part::Article {
                    article_job[i] = Some(jobs.len());
                } else if let Some(j) = article_job[i] {
                    jobs[j].bound += part_weight(part) * weight * (K1 + 1.0);
                }
                jobs.push(Job {
                    field: fields.len(),
                    part,
                    postings: found.clone(),
                    weight,
                    coverage,
                    closeness: measured_kind,
                    phrasing_words: part == Part::Phrasing && kind == Kind::Word,
                    bound: 0.0,
                });
            }
            fields.push(plan);
        }
    }
    Ok(Plan {
        fields,
        jobs,
        function_words,
        word_closeness,
    })
}

/// Adds an article document job's term to the article documents that have it: its score,
/// its bound and its share of coverage (closeness is measured on phrasings and sentences).
/// A [dense](ArticleDocs::Dense) term is added to every article of the query's language
/// (`articles`, its slots), a document without it getting 0: the same sums as adding its
/// listed postings.
fn score_articles(job: &Job, articles: &std::ops::Range<u32>, s: &mut Scratch) {
    let a = &mut s.articles;
    match &job.postings.article().docs {
        ArticleDocs::Listed(postings) => {
            // Slices, so the loop keeps them in registers (a Vec's pointer is reloaded after
            // each push to `touched`).
            let (score, bound, coverage) =
                (&mut a.score[..], &mut a.bound[..], &mut a.coverage[..]);
            let touched = &mut s.touched;
            for p in postings.iter() {
                let at = p.at as usize;
                if score[at] == 0.0 {
                    touched.push(p.at);
                }
                score[at] += job.weight * p.factor;
                bound[at] += job.bound;
                coverage[at] += job.coverage;
            }
        }
        ArticleDocs::Dense(factors) => {
            let slots = articles.start as usize..articles.start as usize + factors.len();
            for (score, f) in a.score[slots.clone()].iter_mut().zip(factors.iter()) {
                *score += job.weight * f;
            }
            for (add, sums) in [(job.bound, &mut a.bound), (job.coverage, &mut a.coverage)] {
                if add != 0.0 {
                    for (sum, f) in sums[slots.clone()].iter_mut().zip(factors.iter()) {
                        *sum += if *f > 0.0 { add } else { 0.0 };
                    }
                }
            }
            a.swept = articles.clone();
        }
    }
}

/// Returns the factor of a job's first posting (0 when it has none).
fn first_factor(job: &Job) -> f32 {
    match job.part {
        Part::Article => match &job.postings.article().docs {
            ArticleDocs::Listed(postings) => postings.first().map_or(0.0, |p| p.factor),
            ArticleDocs::Dense(factors) => factors.first().copied().unwrap_or(0.0),
        },
        part => job
            .postings
            .evidence(part)
            .and_then(|p| p.postings.first())
            .map_or(0.0, |p| p.factor),
    }
}

/// What scoring a job needs besides the job.
struct Ctx<'a, 'g> {
    fields: &'a [FieldPlan<'g>],
}

impl Ctx<'_, '_> {
    /// Adds a phrasing or sentence job's term to every document of its postings that
    /// `admit` lets in (by the document's slot): its score and, for the kinds confidence
    /// measures, its closeness.
    fn score_evidence(&self, job: &Job, s: &mut Scratch, admit: impl Fn(usize) -> bool) {
        let Some(postings) = job.postings.evidence(job.part) else {
            return;
        };
        let inv_len = &*self.fields[job.field].stats.inv_len;
        // Kinds confidence ignores only add to the score.
        let measures = job.closeness > 0.0;
        let (docs, touched) = (&mut s.docs[..], &mut s.touched);
        for p in postings.postings.iter() {
            if !admit(p.at as usize) {
                continue;
            }
            let acc = &mut docs[p.at as usize];
            if acc.score == 0.0 {
                touched.push(p.at);
            }
            acc.score += job.weight * p.factor;
            if job.phrasing_words {
                acc.words_matched += f32::from(p.tf);
            } else if measures {
                acc.precision += f32::from(p.tf) * inv_len[usize::from(p.norm)] * job.closeness;
            }
        }
    }
}

/// Completes a best phrasing's closeness in the word analysis with its function words.
///
/// Phrasings' word fields hold content words only ([`Part::content_only`]), so the postings
/// of `my`, `how` and `do` are not read; their occurrences in each phrasing are kept in
/// [`crate::index::Fields::function_words`]. A phrasing's word closeness is then
/// `(query terms among its content words + among its function words) / (content words +
/// function words)`, the share of all its words that are query terms, as if every word had
/// been indexed. It is computed for each group's best phrasing only (the best by the score of
/// its content words and word pairs, which function words no longer add to): a few
/// fast-field reads instead of the function words' postings.
struct PhrasingWords<'a> {
    gen: &'a Generation,
    /// Keys of the query's function words.
    query: Vec<u64>,
    /// The phrasing word field's lengths, per segment (every generation opens readers for
    /// every field; `None` only guards the lookup).
    norms: Option<&'a [tantivy::fieldnorm::FieldNormReader]>,
    /// The weight of the word analysis in closeness (0 when the query has no words).
    weight: f32,
}

impl<'a> PhrasingWords<'a> {
    /// The query's function words (their keys) and the weight of the word analysis in
    /// closeness, as [`plan`] found them.
    fn new(gen: &'a Generation, lang: Lang, query: Vec<u64>, weight: f32) -> Self {
        let field = gen.fields.text(lang, Part::Phrasing, Kind::Word);
        PhrasingWords {
            gen,
            query,
            norms: gen.readers.get(&field).map(|r| r.norms.as_slice()),
            weight,
        }
    }

    /// Adds the word analysis's share to a best phrasing's closeness (which holds the other
    /// analyses').
    fn complete(&self, best: &mut Best) {
        let Some(norms) = self.norms else {
            return;
        };
        if best.score <= 0.0 || self.weight == 0.0 {
            return;
        }
        let (segment, doc) = self.gen.segments.locate(best.doc);
        let (mut words, mut matched) = (norms[segment].fieldnorm(doc) as f32, best.words_matched);
        if let Some(column) = &self.gen.function_words[segment] {
            for key in column.values_for_doc(doc) {
                words += 1.0;
                if self.query.contains(&key) {
                    matched += 1.0;
                }
            }
        }
        if words > 0.0 {
            best.precision = (best.precision + self.weight * matched.min(words) / words).min(1.0);
        }
    }
}

/// Returns the `k`-th best of `scores` (non-negative, at least `k` of them), keeping the `k`
/// best seen in a min-heap: most scores are compared with the heap's least and go no further
/// (the knowledge base's articles nearly all match a common character or word; `k` is small).
fn kth_best(
    scores: impl Iterator<Item = f32>,
    k: usize,
    heap: &mut BinaryHeap<Reverse<u32>>,
) -> f32 {
    heap.clear();
    for score in scores {
        debug_assert!(score >= 0.0, "BM25 scores are non-negative");
        // A non-negative float's bits order like the float.
        let bits = score.to_bits();
        if heap.len() < k {
            heap.push(Reverse(bits));
        } else if heap.peek().is_some_and(|least| bits > least.0) {
            heap.pop();
            heap.push(Reverse(bits));
        }
    }
    heap.peek()
        .map_or(f32::NEG_INFINITY, |least| f32::from_bits(least.0))
}

/// Folds the article documents the query added to (those of [`Articles::swept`], else the
/// touched ones) into one [`Fold`] per article group (in [`Scratch::folded`]), giving each
/// group its slot in the current epoch.
fn fold_articles(gen: &Generation, s: &mut Scratch, keep: &impl Fn(u32) -> bool) {
    let Scratch {
        articles: a,
        touched,
        folded,
        group_slot,
        epoch,
        ..
    } = s;
    folded.clear();
    let a = &*a;
    let mut folder = Folder {
        gen,
        a,
        keep,
        folded,
        group_slot,
        epoch: *epoch,
    };
    if a.swept.is_empty() {
        for &at in touched.iter() {
            folder.fold(at);
        }
    } else {
        for at in a.swept.clone().filter(|&at| a.score[at as usize] > 0.0) {
            folder.fold(at);
        }
    }
}

/// Folds article documents into their groups' [`Fold`]s (see [`fold_articles`]).
struct Folder<'a, K> {
    gen: &'a Generation,
    a: &'a Articles,
    keep: &'a K,
    folded: &'a mut Vec<Fold>,
    group_slot: &'a mut [(u32, u32)],
    epoch: u32,
}

impl<K: Fn(u32) -> bool> Folder<'_, K> {
    /// Folds article document `at` into its group's fold, giving the group its slot in the
    /// epoch when it has none yet.
    #[inline(always)]
    fn fold(&mut self, at: u32) {
        let r = self.gen.doc_refs[at as usize];
        if r.group == u32::MAX || !(self.keep)(r.group) {
            return;
        }
        let slot = &mut self.group_slot[r.group as usize];
        if slot.0 != self.epoch {
            *slot = (self.epoch, self.folded.len() as u32);
            self.folded.push(Fold {
                group: r.group,
                score: 0.0,
                bound: 0.0,
                best: u32::MAX,
            });
        }
        let f = &mut self.folded[slot.1 as usize];
        let i = at as usize;
        f.bound += self.a.bound[i];
        if self.a.score[i] > f.score {
            f.score = self.a.score[i];
            f.best = at;
        }
    }
}

/// Folds the touched phrasings and sentences from `from` on into their groups' evidence in
/// `out` (only candidates' documents are scored: each has its slot there).
fn collect(gen: &Generation, s: &Scratch, from: usize, out: &mut [Evidence]) {
    for &at in &s.touched[from..] {
        let r = gen.doc_refs[at as usize];
        let slot = s.group_slot[r.group as usize];
        debug_assert_eq!(slot.0, s.epoch, "a candidate's document");
        let e = &mut out[slot.1 as usize];
        let best = match r.part {
            Part::Article => continue,
            Part::Phrasing => &mut e.phrasing,
            Part::Sentence => &mut e.sentence,
        };
        let acc = &s.docs[at as usize];
        if acc.score > best.score {
            *best = Best::of(acc, at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idf_falls_with_document_frequency_and_never_goes_negative() {
        assert!(idf(100, 1) > idf(100, 10));
        assert!(idf(100, 10) > idf(100, 100));
        // Deleted documents still count in tantivy's frequencies until a merge.
        assert!(idf(100, 120) >= 0.0);
    }

    #[test]
    fn confidence_is_the_geometric_mean_of_coverage_and_the_best_closeness() {
        let best = |coverage: f32, precision: f32| Best {
            score: 1.0,
            coverage,
            precision,
            ..Best::default()
        };
        let e = Evidence {
            group: 0,
            article: best(0.64, 0.1),
            phrasing: best(0.0, 0.25),
            sentence: best(0.0, 0.5),
        };
        assert!((e.confidence() - (0.64f64 * 0.5).sqrt()).abs() < 1e-6);
        let none = Evidence {
            article: best(0.9, 0.0),
            ..Evidence::default()
        };
        assert_eq!(none.confidence(), 0.0, "no phrasing or sentence matched");
    }

    #[test]
    fn kth_best_is_the_kth_score_in_descending_order() {
        let scores = [3.5f32, 0.0, 7.25, 1.0, 7.25, 2.0, 0.5, 9.0];
        let mut sorted = scores.to_vec();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let mut heap = BinaryHeap::new();
        for k in 1..=scores.len() {
            assert_eq!(
                kth_best(scores.into_iter(), k, &mut heap),
                sorted[k - 1],
                "k = {k}"
            );
        }
    }

    #[test]
    fn numbers_are_not_topic_words() {
        assert!(is_number("7021645199"));
        assert!(!is_number("erc20"));
        assert!(!is_number("2fa"));
    }
}
