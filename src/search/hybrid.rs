//! Hybrid ranking: the lexical hits (with the glossary fallback) and the sentence vectors'
//! nearest articles, fused into one ranking with one confidence.
//!
//! - *Semantic evidence* of an article group comes from the cosines between the query's vector
//!   and the vectors of the group's titles, questions and answers, in every language (so an
//!   article that exists only in another language is found). Cosines of this encoder are high
//!   even for unrelated texts (about 0.7 to 0.8) and their level moves with the query, so the
//!   evidence is measured from the query's own background per channel (a language's titles
//!   and questions, a language's answers): the mean over the groups of their best cosine in
//!   the channel, or [`FLOOR`] when that is lower (a question from another domain is far from
//!   every article, and its best match is no closer):
//!   `semantic = clamp((cos − max(mean, FLOOR)) / SPREAD, 0, 1)`, the group's best channel
//!   (see [`similarities`]). A group with a version in the user's language is measured in
//!   another language's channel against the groups that have the user's language too.
//!   When the knowledge base has no version in the user's language, the mean is that of the
//!   other groups and the floor [`CROSS_FLOOR`].
//! - *Lexical evidence* keeps the lexical order: the first native hit's confidence times the
//!   group's score relative to that hit's, never above an earlier native hit's evidence (0
//!   when it has no hit); a glossary fallback hit's own confidence (see [`lexical_evidence`]).
//! - `confidence = w × lexical + (1 − w) × semantic`; hits are ordered by it. A group without
//!   a version in the user's language in a knowledge base that has versions in it has its
//!   semantic evidence from another language stretched to the user's language's spread:
//!   measured where the knowledge base's articles in both languages measure it
//!   ([`spread_ratios`]), else [`PRIOR_SPREAD_RATIO`]; it is ordered with the whole stretch
//!   and its confidence takes the square root of it ([`GroupSimilarity::halfway`]). The
//!   first one is an answer when it reaches [`DEFAULT_THRESHOLD`] and its stronger evidence
//!   reaches the threshold plus [`EVIDENCE_MARGIN`], or plus [`FAR_EVIDENCE_MARGIN`] for a
//!   question far from every article ([`is_answer`]). The lexical weight `w` is
//!   [`LEXICAL_WEIGHT`], except in a knowledge base of documents
//!   ([`crate::index::holds_documents`]: passages under a title, no other phrasings; or set
//!   with [`WeighAs`]) that has versions in the user's language, whose words can be
//!   compared. There every group gets [`DOCUMENT_LEXICAL_WEIGHT`], and native hits' lexical
//!   evidence falls with the square of their score ratio ([`Weighing`]): a fact question
//!   shares its rare words with the passage that answers it, while this small encoder sees
//!   a long passage only as a topic.
//!
//! A hit found only through its vectors is shown in the user's language when its group has
//! that version, else in the language of its closest text, flagged as a fallback
//! ([`Reason::MissingTranslation`]; the engine then shows it in a language the user reads
//! when it has one).

use super::fallback::{Fallback, Ranked, Reason};
use super::{display_version, excerpt, Hit};
use crate::embed::{dot, DIM};
use crate::index::vectors::{variant_index, TextKind, Vectors};
use crate::index::Generation;
use crate::lang::{Lang, Variant};

/// Weight of the lexical confidence in the hybrid confidence.
pub const LEXICAL_WEIGHT: f64 = 0.3;
/// Weight of the lexical confidence in a knowledge base of documents with versions in the
/// user's language.
pub const DOCUMENT_LEXICAL_WEIGHT: f64 = 0.5;
/// Cosine above the query's mean cosine that counts as full semantic evidence.
pub const SPREAD: f64 = 0.2;
/// Lowest background cosine: below it, a query's mean cosine says the question is far from
/// the whole knowledge base (when it has versions in the user's language; else
/// [`CROSS_FLOOR`]).
pub const FLOOR: f32 = 0.78;
/// Lowest background when the knowledge base has no version in the user's language: every
/// text is then in another language, where unrelated texts sit lower.
pub const CROSS_FLOOR: f32 = 0.76;
/// Default confidence threshold of hybrid ranking (one value for every language).
pub const DEFAULT_THRESHOLD: f64 = 0.2;
/// How far above the threshold a hybrid answer's stronger evidence, lexical or semantic, must
/// reach ([`is_answer`]).
pub const EVIDENCE_MARGIN: f64 = 0.05;

/// How far above the threshold the stronger evidence of a hit must reach when the question
/// is [far](GroupSimilarity::far) from the knowledge base ([`is_answer`]).
pub const FAR_EVIDENCE_MARGIN: f64 = 0.15;
/// How much farther than [`Vectors::neighbour_cosine`] a question's closest title or question
/// in its language may be before it is [far](GroupSimilarity::far) from the knowledge base.
pub const NEIGHBOUR_MARGIN: f32 = 0.03;

/// What a hit's answer decision weighs ([`is_answer`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// Lexical evidence under hybrid ranking (see [`fuse`]), else the lexical confidence.
    pub lexical: f64,
    /// Semantic evidence; `None` under lexical ranking.
    pub semantic: Option<f64>,
    /// Whether the question is far from the knowledge base in the hit's language, the user's
    /// ([`GroupSimilarity::far`]).
    pub far: bool,
}

impl Evidence {
    /// Returns the evidence of a hit under lexical ranking: its confidence.
    pub fn lexical(confidence: f64) -> Evidence {
        Evidence {
            lexical: confidence,
            semantic: None,
            far: false,
        }
    }
}

/// Returns true when a hit is an answer at `threshold`, under either ranking: its confidence
/// reaches it and, under hybrid ranking (`evidence.semantic` known), its stronger evidence
/// reaches `threshold` + [`EVIDENCE_MARGIN`] (at most 1, the most evidence there is), or
/// `threshold` + [`FAR_EVIDENCE_MARGIN`] when `evidence.far`.
///
/// Two weak signals that only add up to the threshold (a question from another domain that
/// shares a word with an article and sits a little closer to it than to the rest) are not an
/// answer; one signal that on its own points at the article is. On the development halves
/// this declined more out-of-scope questions than a higher threshold that declines as many
/// (offtopic 0.947 → 0.964, HINT3 accuracy up 1.3 and 1.5 points) without losing a
/// cross-language answer.
///
/// `evidence.far` is set by [`fuse`] for a hit shown in the user's language in a knowledge
/// base of FAQ entries when the question's closest title or question is more than
/// [`NEIGHBOUR_MARGIN`] below [`Vectors::neighbour_cosine`] ([`GroupSimilarity::far`]).
/// Semantic evidence is measured from the question's own background: it says how much
/// closer the question is to one article than to the rest, not whether it is close to any.
/// A question farther from every article than the articles typically are from another one
/// needs a signal clearly above the threshold (offtopic 0.964 → 0.983 on the development
/// halves, HINT3 accuracy up 0.6 and 0.3 points, curekart's answered R@1 down 0.9).
pub fn is_answer(confidence: f64, evidence: &Evidence, threshold: f64) -> bool {
    let margin = if evidence.far {
        FAR_EVIDENCE_MARGIN
    } else {
        EVIDENCE_MARGIN
    };
    confidence >= threshold
        && evidence
            .semantic
            .is_none_or(|s| evidence.lexical.max(s) >= (threshold + margin).min(1.0))
}

/// How a knowledge base's hits are weighed: decided from its articles, or set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeighAs {
    /// Documents when most versions read as documents ([`crate::index::holds_documents`]).
    #[default]
    Auto,
    /// FAQ entries: [`LEXICAL_WEIGHT`] for every group.
    Faq,
    /// Documents: [`DOCUMENT_LEXICAL_WEIGHT`] when the knowledge base has versions in the
    /// user's language.
    Documents,
}

impl WeighAs {
    /// Parses `auto`, `faq` or `documents`.
    pub fn parse(s: &str) -> Result<WeighAs, String> {
        match s {
            "auto" => Ok(WeighAs::Auto),
            "faq" => Ok(WeighAs::Faq),
            "documents" => Ok(WeighAs::Documents),
            other => Err(format!(
                "unknown weighing {other:?} (expected auto, faq or documents)"
            )),
        }
    }

    /// Returns true when `gen`'s hits are weighed as documents.
    pub fn documents(self, gen: &Generation) -> bool {
        match self {
            WeighAs::Auto => gen.documents,
            WeighAs::Faq => false,
            WeighAs::Documents => true,
        }
    }

    /// Names how `gen`'s hits are weighed, for logs and admin Stats: `documents` or `faq`.
    pub fn name(self, gen: &Generation) -> &'static str {
        if self.documents(gen) {
            "documents"
        } else {
            "faq"
        }
    }
}

/// The fusion's parameters for one query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weighing {
    /// Weight of the lexical evidence in the confidence.
    pub lexical_weight: f64,
    /// Power of a native hit's score ratio in its lexical evidence.
    pub sharpness: i32,
}

impl Weighing {
    /// Returns the weighing of a query: documents with versions in the user's language
    /// (`native`) are weighed more by their words, every group with the same weight, so one
    /// formula ranks the query's hits ([`fuse`]); otherwise (FAQ entries, or documents
    /// only in other languages, whose words cannot be compared) [`LEXICAL_WEIGHT`].
    pub fn of(documents: bool, native: bool) -> Weighing {
        if documents && native {
            Weighing {
                lexical_weight: DOCUMENT_LEXICAL_WEIGHT,
                sharpness: 2,
            }
        } else {
            Weighing {
                lexical_weight: LEXICAL_WEIGHT,
                sharpness: 1,
            }
        }
    }
}

/// Lexical hits gathered per query so that their confidence is known for the semantic
/// candidates too.
pub const LEXICAL_CANDIDATES: usize = 30;

/// Per group: its semantic evidence and the language version that gave it.
pub struct GroupSimilarity {
    /// Semantic evidence (0 to 1) per group; `None` for a group without vectors.
    evidence: Vec<Option<f64>>,
    /// Semantic evidence per group with each other language's channel rescaled to the user's
    /// language's spread ([`spread_ratios`], or [`PRIOR_SPREAD_RATIO`]): what a group without
    /// the user's language is ordered by.
    rescaled: Vec<Option<f64>>,
    /// Semantic evidence per group with each channel stretched by the square root of its
    /// ratio: what a group without the user's language is decided by.
    halfway: Vec<Option<f64>>,
    /// The language version of the closest text, per group.
    pub variant: Vec<Option<Variant>>,
    /// Whether the knowledge base has versions in the user's language (as measured with).
    native: bool,
    /// Per variant of [`Variant::ALL`], whether the query is far from the knowledge base's
    /// titles and questions in it ([`far`]).
    ///
    /// [`far`]: GroupSimilarity::far
    far: [bool; Variant::ALL.len()],
}

/// Returns each group's semantic evidence for `query` (exact search over every vector).
///
/// Texts in the query's own language are closer to it than their translations are, whatever
/// they say, and answers (embedded as passages) sit on another scale than questions, so each
/// *channel* (a language's questions, a language's answers) is measured from its own
/// background: a group's best cosine among its texts of that channel, minus the mean of that
/// over the groups that have the channel (or [`FLOOR`]). A group's evidence is its best over
/// the channels, so an English-only article competes with the Korean ones on how far it
/// stands out among the English texts, not on its raw cosine with a Korean question. A
/// group that has texts in the user's language is measured in another language's channel
/// against the groups that have the user's language too, itself included (when at least
/// [`MIN_PAIRED`] of them have the channel): articles only in that language do not lower its
/// background. A group without the user's language is still measured against every group
/// in the channel.
///
/// When the knowledge base has no version in the user's language (`native` false), only
/// the glossary bridges words, so semantic evidence mostly answers alone, and it is measured
/// with more care: a group's background is the mean of the *other* groups that have the
/// channel (in a knowledge base of a few articles the group's own cosine would weigh much in
/// the mean of all), and the floor is [`CROSS_FLOOR`]. A channel only one group has gives
/// it no evidence, unless that group is the knowledge base's only one.
pub fn similarities(
    vectors: &Vectors,
    groups: usize,
    query: &[f32],
    user: Lang,
    native: bool,
) -> GroupSimilarity {
    debug_assert_eq!(query.len(), DIM);
    // Channels: per language, the questions (titles and questions) and the answers.
    let channels = Lang::ALL.len() * 2;
    let mut best = vec![f32::NEG_INFINITY; groups * channels];
    let mut variant = vec![None; groups * channels];
    // Per variant: the closest title or question.
    let mut closest_question = [f32::NEG_INFINITY; Variant::ALL.len()];
    for (i, t) in vectors.texts.iter().enumerate() {
        let s = dot(query, vectors.vector(i));
        let channel = lang_index(t.variant.lang()) * 2 + usize::from(t.kind == TextKind::Answer);
        let at = t.group as usize * channels + channel;
        if s > best[at] {
            best[at] = s;
            variant[at] = Some(t.variant);
        }
        if t.kind != TextKind::Answer {
            let v = &mut closest_question[variant_index(t.variant)];
            *v = v.max(s);
        }
    }
    let user = lang_index(user);
    // Whether a group (its row of `best`) has texts in the user's language.
    let speaks_user = |row: &[f32]| row[user * 2].is_finite() || row[user * 2 + 1].is_finite();
    // Per channel: the sum and the number of the groups' best cosines, over every group and
    // over the groups with texts in the user's language.
    let mut all = Background::new(channels);
    let mut of_native = Background::new(channels);
    let mut with_vectors = 0;
    for g in 0..groups {
        let row = &best[g * channels..(g + 1) * channels];
        with_vectors += usize::from(row.iter().any(|s| s.is_finite()));
        all.add(row);
        if speaks_user(row) {
            of_native.add(row);
        }
    }
    // How far each channel's evidence stretches: the user's language's channels and, in a
    // knowledge base without the user's language, every channel, not at all.
    let ratios: Vec<f64> = if native {
        spread_ratios(&best, user)
            .into_iter()
            .enumerate()
            .map(|(c, r)| match r {
                Some(r) => r,
                None if c / 2 == user => 1.0,
                None => PRIOR_SPREAD_RATIO,
            })
            .collect()
    } else {
        vec![1.0; channels]
    };
    let mut evidence = vec![None; groups];
    let mut rescaled: Vec<Option<f64>> = vec![None; groups];
    let mut halfway: Vec<Option<f64>> = vec![None; groups];
    let mut closest = vec![None; groups];
    for g in 0..groups {
        let native_group = native && speaks_user(&best[g * channels..(g + 1) * channels]);
        for c in 0..channels {
            let s = best[g * channels + c];
            if !s.is_finite() {
                continue;
            }
            // A group with texts in the user's language is measured in another language's
            // channel against the groups with texts in the user's language (itself among
            // them, as in the user's own channels), the articles it competes with there:
            // articles that exist only in that language (another product's, another
            // domain's) lower its background without saying anything of this group (shipped
            // + Tor: an unrelated Korean question rose to an English version's evidence).
            // Fewer than MIN_PAIRED such groups in the channel: every group in it.
            let (sum, n) = if native_group && of_native.counts[c] >= MIN_PAIRED {
                (of_native.sums[c], of_native.counts[c])
            } else {
                (all.sums[c], all.counts[c])
            };
            let background = if native {
                (sum / n as f32).max(FLOOR)
            } else if n > 1 {
                ((sum - s) / (n - 1) as f32).max(CROSS_FLOOR)
            } else if with_vectors == 1 {
                // A knowledge base of one article: nothing to compare it with but the floor.
                CROSS_FLOOR
            } else {
                // The only text of its language and kind among several articles: no
                // background to measure it from, so no evidence from this channel.
                s
            };
            let above = (s - background) as f64;
            let e = (above / SPREAD).clamp(0.0, 1.0);
            if evidence[g].is_none_or(|best: f64| e > best) {
                evidence[g] = Some(e);
                closest[g] = variant[g * channels + c];
            }
            let ratio = ratios[c];
            let r = (above * ratio / SPREAD).clamp(0.0, 1.0);
            if rescaled[g].is_none_or(|best: f64| r > best) {
                rescaled[g] = Some(r);
            }
            let h = (above * ratio.sqrt() / SPREAD).clamp(0.0, 1.0);
            if halfway[g].is_none_or(|best: f64| h > best) {
                halfway[g] = Some(h);
            }
        }
    }
    GroupSimilarity {
        evidence,
        rescaled,
        halfway,
        variant: closest,
        native,
        far: Variant::ALL.map(|v| {
            native
                && vectors
                    .neighbour_cosine(v)
                    .is_some_and(|n| closest_question[variant_index(v)] < n - NEIGHBOUR_MARGIN)
        }),
    }
}

/// Per channel, the sum and the number of some groups' best cosines ([`similarities`]).
struct Background {
    sums: Vec<f32>,
    counts: Vec<usize>,
}

impl Background {
    fn new(channels: usize) -> Background {
        Background {
            sums: vec![0.0; channels],
            counts: vec![0; channels],
        }
    }

    /// Adds a group's row of best cosines (`-inf`: the group has no text in that channel).
    fn add(&mut self, row: &[f32]) {
        for (c, &s) in row.iter().enumerate() {
            if s.is_finite() {
                self.sums[c] += s;
                self.counts[c] += 1;
            }
        }
    }
}

/// Fewest articles with versions in both languages over which a channel's spread is
/// compared with the user's language's ([`spread_ratios`]), and fewest articles with texts
/// in the user's language and in a channel over which that channel's background is taken
/// for them ([`similarities`]).
pub const MIN_PAIRED: usize = 5;
/// The most a channel's evidence is stretched by [`spread_ratios`].
pub const MAX_SPREAD_RATIO: f64 = 3.0;
/// How much wider the user's language's channel is taken to spread than another language's
/// where nothing measures it ([`spread_ratios`]: fewer than [`MIN_PAIRED`] articles in both
/// languages, or no spread among them). It is the median the shipped knowledge base's own
/// questions measure (1.54 to 1.74 by language; 2.36 at the 90th percentile). Questions from
/// other domains measure about 1 there, which a fixed value cannot follow: the median, not
/// more, keeps them from being stretched further.
pub const PRIOR_SPREAD_RATIO: f64 = 1.6;

/// Returns, per channel of `best` (each group's best cosine per channel, six per group:
/// see [`similarities`]; `user` is the user's language's index), how much wider the user's
/// language's channel of the same kind spreads its cosines than this one, over the groups
/// that have both (the standard deviations' ratio, from 1 to [`MAX_SPREAD_RATIO`]); `None`
/// when it cannot be measured: the user's channel itself, fewer than [`MIN_PAIRED`] groups
/// with both, or no spread in this channel.
///
/// The encoder puts a translation of the question closer than unrelated texts in another
/// language, but by less than the same text in the question's language: the same articles'
/// cosines spread 1.6 times as wide in the user's language at the median over the shipped
/// knowledge base's own questions (about 1 for questions from other domains). Measured on
/// the articles the knowledge base has in both languages, for this query, the ratio says
/// how far another language's evidence would reach in the user's. It is measured over the
/// whole knowledge base, whatever the category filter.
fn spread_ratios(best: &[f32], user: usize) -> Vec<Option<f64>> {
    let channels = Lang::ALL.len() * 2;
    let deviation = |xs: &[f64]| {
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        (xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / xs.len() as f64).sqrt()
    };
    (0..channels)
        .map(|c| {
            let own = user * 2 + c % 2;
            if c == own {
                return None;
            }
            let (mut theirs, mut ours) = (Vec::new(), Vec::new());
            for row in best.chunks_exact(channels) {
                if row[c].is_finite() && row[own].is_finite() {
                    theirs.push(f64::from(row[c]));
                    ours.push(f64::from(row[own]));
                }
            }
            if theirs.len() < MIN_PAIRED {
                return None;
            }
            let (t, o) = (deviation(&theirs), deviation(&ours));
            (t > 0.0).then(|| (o / t).clamp(1.0, MAX_SPREAD_RATIO))
        })
        .collect()
}

fn lang_index(l: Lang) -> usize {
    Lang::ALL
        .iter()
        .position(|&x| x == l)
        .expect("a supported language")
}

impl GroupSimilarity {
    /// Returns a group's semantic evidence (0 to 1).
    pub fn evidence(&self, group: u32) -> f64 {
        self.evidence[group as usize].unwrap_or(0.0)
    }

    /// Returns a group's semantic evidence with other languages' channels rescaled to the
    /// user's language's spread (what a group without the user's language is ordered by).
    fn rescaled(&self, group: u32) -> f64 {
        self.rescaled[group as usize].unwrap_or(0.0)
    }

    /// Returns the semantic evidence a group without the user's language is *decided* by:
    /// halfway, on a log scale, between its evidence and its [`rescaled`](Self::rescaled)
    /// evidence (each channel stretched by the square root of its spread ratio, the best
    /// channel taken). The ratio is measured on a few articles per query (or is
    /// [`PRIOR_SPREAD_RATIO`]) and stretches every article of the other language alike, those
    /// of another topic too; taken whole in the answer decision, it answered off-topic
    /// questions with them.
    fn halfway(&self, group: u32) -> f64 {
        self.halfway[group as usize].unwrap_or(0.0)
    }

    /// Returns true when the query is far from the knowledge base for a reader of `reader`:
    /// its closest title or question in that variant (a Chinese script apart from the other)
    /// is more than [`NEIGHBOUR_MARGIN`] below [`Vectors::neighbour_cosine`], how close the
    /// knowledge base's titles and questions in it typically are to another article's.
    /// Never in a knowledge base without the user's language, or with fewer than
    /// [`crate::index::vectors::NEIGHBOUR_GROUPS`] articles in the variant.
    pub fn far(&self, reader: Variant) -> bool {
        self.far[variant_index(reader)]
    }

    /// Returns true when the group has vectors.
    fn has(&self, group: u32) -> bool {
        self.evidence[group as usize].is_some()
    }
}

/// How the fused hits are shown.
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    /// The user's language.
    pub lang: Lang,
    /// Whether the user writes Traditional Chinese.
    pub traditional: bool,
    /// Hits wanted.
    pub top_k: usize,
    /// Whether hits get snippets.
    pub snippets: bool,
    /// The group one of whose titles or questions the query is ([`Generation::phrased`]):
    /// first, whatever its score, as under lexical ranking
    /// ([`super::SearchSpec::phrasing_first`]).
    pub listed: Option<u32>,
}

/// Returns the lexical evidence of each hit of `lexical` (in its order). A native hit's is
/// the confidence of the first native hit times the hit's score relative to that hit's (to
/// the power `sharpness`), and never above an earlier native hit's evidence: the evidence
/// keeps the order of the list (a hit's own confidence measures how much of the query it
/// covers, and can be higher for a hit the scores put second). A glossary fallback hit keeps
/// its own confidence.
fn lexical_evidence(lexical: &[Ranked], sharpness: i32) -> Vec<f64> {
    let first = lexical
        .iter()
        .find(|r| r.fallback.is_none())
        .map(|r| &r.hit);
    let mut ceiling = f64::INFINITY;
    lexical
        .iter()
        .map(|r| match first {
            Some(first) if r.fallback.is_none() && first.score > 0.0 => {
                let ratio = f64::from(r.hit.score / first.score).clamp(0.0, 1.0);
                let e = (first.confidence * ratio.powi(sharpness)).min(ceiling);
                ceiling = e;
                e
            }
            _ => r.hit.confidence,
        })
        .collect()
}

/// Returns a group's hybrid confidence, `w × lexical + (1 − w) × semantic`: the answer
/// decision's ([`is_answer`]).
fn confidence(w: f64, lexical: f64, semantic: f64) -> f64 {
    w * lexical + (1.0 - w) * semantic
}

/// Fuses lexical hits (already merged with the glossary fallback) with the semantic
/// evidence of every group; returns at most `top_k` hits, best first, each with its hybrid
/// confidence and the evidence its answer decision weighs ([`is_answer`]: in a knowledge
/// base of FAQ entries, a hit shown in the user's language is decided with
/// [`GroupSimilarity::far`]; one from another language by its halfway evidence).
/// `in_scope` filters groups (the category filter).
pub fn fuse(
    gen: &Generation,
    lexical: Vec<Ranked>,
    sims: &GroupSimilarity,
    shown: &Shown,
    weigh_as: WeighAs,
    in_scope: impl Fn(u32) -> bool,
) -> Vec<(Ranked, Evidence)> {
    let groups = gen.groups.len();
    let mut lexical_conf = vec![0f64; groups];
    let mut from_lexical: Vec<Option<Ranked>> = (0..groups).map(|_| None).collect();
    let documents = weigh_as.documents(gen);
    let weighing = Weighing::of(documents, sims.native);
    // Far from every title and question means something in a knowledge base of FAQ entries
    // only: documents' titles are topics, and a fact question is far from all of them
    // however well a passage answers it (cmrc2018: 0.8 points of answered R@1 lost).
    let far = sims.far(Variant::read_in(shown.lang, shown.traditional)) && !documents;
    let evidence = lexical_evidence(&lexical, weighing.sharpness);
    // Whether any group lacks the user's language, looked up once: reading each group's
    // versions costs more than the search on a large knowledge base.
    let some_missing = sims.native && super::fallback::missing_somewhere(gen, shown.lang);
    for (r, e) in lexical.into_iter().zip(evidence) {
        let g = r.hit.group as usize;
        if from_lexical[g].is_none() {
            lexical_conf[g] = e;
            from_lexical[g] = Some(r);
        }
    }
    // Per group shown: its score, the group, the semantic evidence its confidence takes, and
    // whether it lacks the user's language.
    let mut scored: Vec<(f64, u32, f64, bool)> = (0..groups as u32)
        .filter(|&g| from_lexical[g as usize].is_some() || sims.has(g))
        .filter(|&g| in_scope(g))
        .map(|g| {
            let lexical = lexical_conf[g as usize];
            let missing = some_missing
                && display_version(&gen.groups[g as usize], shown.lang, false).is_none();
            if missing {
                let score = confidence(weighing.lexical_weight, lexical, sims.rescaled(g));
                (score, g, sims.halfway(g), true)
            } else {
                let semantic = sims.evidence(g);
                (
                    confidence(weighing.lexical_weight, lexical, semantic),
                    g,
                    semantic,
                    false,
                )
            }
        })
        .collect();
    let listed = |x: &(f64, u32, f64, bool)| shown.listed == Some(x.1);
    let order = |a: &(f64, u32, f64, bool), b: &(f64, u32, f64, bool)| {
        listed(b)
            .cmp(&listed(a))
            .then(b.0.total_cmp(&a.0))
            .then(a.1.cmp(&b.1))
    };
    let top_k = shown.top_k;
    if top_k < scored.len() && top_k > 0 {
        scored.select_nth_unstable_by(top_k - 1, order);
        scored.truncate(top_k);
    }
    scored.sort_unstable_by(order);
    scored.truncate(top_k);
    let mut out = Vec::with_capacity(scored.len());
    for (score, g, semantic, missing) in scored {
        let confidence = confidence(weighing.lexical_weight, lexical_conf[g as usize], semantic);
        let ranked = match from_lexical[g as usize].take() {
            Some(mut r) => {
                // Ordered by the hybrid score: the lexical score says nothing next to hits
                // found by their vectors.
                r.hit.confidence = confidence;
                r.hit.score = score as f32;
                r
            }
            None => {
                let versions = &gen.groups[g as usize];
                let (version, fallback) =
                    match display_version(versions, shown.lang, shown.traditional) {
                        Some(v) => (v.clone(), None),
                        None => {
                            let closest = sims.variant[g as usize];
                            let v = versions
                                .iter()
                                .find(|a| Some(a.lang) == closest)
                                .unwrap_or(&versions[0]);
                            (
                                v.clone(),
                                Some(Fallback {
                                    reason: Reason::MissingTranslation,
                                    found: v.lang.lang(),
                                }),
                            )
                        }
                    };
                let snippet = if shown.snippets {
                    excerpt(&version)
                } else {
                    String::new()
                };
                Ranked {
                    hit: Hit {
                        group: g,
                        version,
                        score: score as f32,
                        confidence,
                        snippet,
                    },
                    fallback,
                }
            }
        };
        let evidence = Evidence {
            lexical: lexical_conf[g as usize],
            semantic: Some(semantic),
            far: far && !missing,
        };
        out.push((ranked, evidence));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::vectors::VectorText;
    use crate::search::fallback::tests::ranked;

    /// Titles `(group, version, cosine with the query)`; the query is the first axis.
    fn titles(titles: &[(u32, Variant, f32)]) -> Vectors {
        let mut data = vec![0f32; titles.len() * DIM];
        let texts = titles
            .iter()
            .enumerate()
            .map(|(i, &(group, variant, c))| {
                data[i * DIM] = c;
                data[i * DIM + 1 + i] = (1.0 - c * c).sqrt();
                VectorText {
                    group,
                    variant,
                    kind: TextKind::Title,
                }
            })
            .collect();
        Vectors::of_texts(texts, data)
    }

    /// Titles of groups 0, 1, 2, … in these variants: title g is a·e0 + b·e1 + r·e(2+g), so
    /// the query (e0) has cosine a with each, and any two of them a² + b².
    fn equidistant_titles(a: f32, b: f32, variants: &[Variant]) -> Vectors {
        let r = (1.0 - a * a - b * b).sqrt();
        let mut data = vec![0f32; variants.len() * DIM];
        let texts = (0u32..)
            .zip(variants)
            .map(|(g, &variant)| {
                let row = &mut data[g as usize * DIM..(g as usize + 1) * DIM];
                (row[0], row[1], row[2 + g as usize]) = (a, b, r);
                VectorText {
                    group: g,
                    variant,
                    kind: TextKind::Title,
                }
            })
            .collect();
        Vectors::of_texts(texts, data)
    }

    /// English titles of groups 0, 1, 2, … with these cosines.
    fn english_titles(cosines: &[f32]) -> Vectors {
        let t: Vec<_> = (0u32..)
            .zip(cosines)
            .map(|(g, &c)| (g, Variant::En, c))
            .collect();
        titles(&t)
    }

    #[test]
    fn a_question_farther_than_the_articles_are_from_each_other_is_far() {
        // Six titles in `variant`.
        let titles_at = |a: f32, b: f32, variant: Variant| equidistant_titles(a, b, &[variant; 6]);
        let mut query = vec![0f32; DIM];
        query[0] = 1.0;
        let far = |v: &Vectors, lang: Lang, native: bool, reader: Variant| {
            similarities(v, 6, &query, lang, native).far(reader)
        };
        // 0.5 from every title, which are 0.89 from one another: far.
        let v = titles_at(0.5, 0.8, Variant::Ko);
        assert!(far(&v, Lang::Ko, true, Variant::Ko));
        // Never far in a knowledge base without the user's language.
        assert!(!far(&v, Lang::Ko, false, Variant::Ko));
        // 0.95 from the closest, which are 0.9125 from one another: not far.
        let v = titles_at(0.95, 0.1, Variant::Ko);
        assert!(!far(&v, Lang::Ko, true, Variant::Ko));
        // 0.9 from the closest: 0.029 below the titles' 0.929 is not far, 0.031 below 0.931 is.
        let v = titles_at(0.9, 0.119f32.sqrt(), Variant::Ko);
        assert!(!far(&v, Lang::Ko, true, Variant::Ko));
        let v = titles_at(0.9, 0.121f32.sqrt(), Variant::Ko);
        assert!(far(&v, Lang::Ko, true, Variant::Ko));
        // Chinese scripts apart: a knowledge base in Traditional only is far for a reader of
        // Traditional, and has nothing to measure a reader of Simplified by.
        let v = titles_at(0.5, 0.8, Variant::ZhHant);
        assert!(far(&v, Lang::Zh, true, Variant::ZhHant));
        assert!(!far(&v, Lang::Zh, true, Variant::Zh));
    }

    #[test]
    fn across_languages_a_group_is_measured_against_the_others_from_a_lower_floor() {
        let mut query = vec![0f32; DIM];
        query[0] = 1.0;
        let close = |a: f64, b: f64| (a - b).abs() < 1e-5;
        let evidence = |v: &Vectors, groups: usize, native: bool, g: u32| {
            similarities(v, groups, &query, Lang::Ko, native).evidence(g)
        };
        // With versions in the user's language: the mean of all three, 0.8 + 0.1 / 3.
        let v = english_titles(&[0.9, 0.8, 0.8]);
        let e = evidence(&v, 3, true, 0);
        assert!(close(e, (0.9 - 2.5 / 3.0) / SPREAD), "{e}");
        // Without: the mean of the other two, 0.8.
        let e = evidence(&v, 3, false, 0);
        assert!(close(e, 0.1 / SPREAD), "{e}");
        assert_eq!(evidence(&v, 3, false, 1), 0.0);
        // Far from every text: the floors, 0.78 with the user's language, 0.76 without.
        let (floor, cross_floor) = (f64::from(FLOOR), f64::from(CROSS_FLOOR));
        let v = english_titles(&[0.85, 0.7, 0.7]);
        let e = evidence(&v, 3, true, 0);
        assert!(close(e, (0.85 - floor) / SPREAD), "{e}");
        let e = evidence(&v, 3, false, 0);
        assert!(close(e, (0.85 - cross_floor) / SPREAD), "{e}");
        // A knowledge base of one article: measured from the floor, not from itself.
        let v = english_titles(&[0.85]);
        let e = evidence(&v, 1, false, 0);
        assert!(close(e, (0.85 - cross_floor) / SPREAD), "{e}");
        assert_eq!(evidence(&v, 1, true, 0), 0.0);
        // The only Chinese title among three articles gives no evidence of its own: the
        // group is measured by its English title.
        let v = titles(&[
            (0, Variant::En, 0.8),
            (0, Variant::Zh, 0.95),
            (1, Variant::En, 0.8),
            (2, Variant::En, 0.8),
        ]);
        assert_eq!(evidence(&v, 3, false, 0), 0.0);
    }

    #[test]
    fn another_languages_spread_is_measured_against_the_users_over_shared_articles() {
        let channels = Lang::ALL.len() * 2;
        let (ko, en) = (lang_index(Lang::Ko) * 2, lang_index(Lang::En) * 2);
        // Per group: its best Korean question cosine and its best English one (NaN: none).
        let rows = |pairs: &[(f32, f32)]| {
            let mut best = vec![f32::NEG_INFINITY; pairs.len() * channels];
            for (g, &(k, e)) in pairs.iter().enumerate() {
                if !k.is_nan() {
                    best[g * channels + ko] = k;
                }
                if !e.is_nan() {
                    best[g * channels + en] = e;
                }
            }
            best
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-4;
        // Korean cosines spread twice as wide as English ones over five shared articles.
        let shared = [
            (0.80, 0.80),
            (0.84, 0.82),
            (0.88, 0.84),
            (0.76, 0.78),
            (0.72, 0.76),
        ];
        let r = spread_ratios(&rows(&shared), lang_index(Lang::Ko));
        assert!(r[en].is_some_and(|r| close(r, 2.0)), "{r:?}");
        assert_eq!((r[ko], r[en + 1]), (None, None), "own channel; no answers");
        // Asked in English, Korean is wider: never narrowed.
        let r = spread_ratios(&rows(&shared), lang_index(Lang::En));
        assert_eq!(r[ko], Some(1.0));
        // An English-only or a Korean-only article does not count; four shared ones are too
        // few.
        for one_language in [(f32::NAN, 0.76), (0.72, f32::NAN)] {
            let mut few = shared.to_vec();
            few[4] = one_language;
            let r = spread_ratios(&rows(&few), lang_index(Lang::Ko));
            assert_eq!(r[en], None);
        }
        // English cosines all alike: no spread to measure by.
        let flat: Vec<_> = shared.iter().map(|&(k, _)| (k, 0.8)).collect();
        assert_eq!(spread_ratios(&rows(&flat), lang_index(Lang::Ko))[en], None);
        // At most MAX_SPREAD_RATIO.
        let wide: Vec<_> = shared.iter().map(|&(k, e)| (k * 10.0, e)).collect();
        let r = spread_ratios(&rows(&wide), lang_index(Lang::Ko));
        assert_eq!(r[en], Some(MAX_SPREAD_RATIO));

        // In `similarities`: an English-only group (5) beside those five, asked in Korean.
        let mut t: Vec<(u32, Variant, f32)> = Vec::new();
        for (g, &(k, e)) in (0u32..).zip(&shared) {
            t.push((g, Variant::Ko, k));
            t.push((g, Variant::En, e));
        }
        t.push((5, Variant::En, 0.83));
        let mut query = vec![0f32; DIM];
        query[0] = 1.0;
        let sims = similarities(&titles(&t), 6, &query, Lang::Ko, true);
        // The English channel's mean is 0.805: 0.025 above it, stretched by 2 to order it,
        // by √2 to decide on it.
        let e = 0.025 / SPREAD;
        assert!(close(sims.evidence(5), e), "{}", sims.evidence(5));
        assert!(close(sims.rescaled(5), 2.0 * e), "{}", sims.rescaled(5));
        assert!(
            close(sims.halfway(5), 2f64.sqrt() * e),
            "{}",
            sims.halfway(5)
        );
        // Without five articles in both languages nothing measures the ratio: the prior
        // stands in for it.
        let few: Vec<_> = t
            .into_iter()
            .filter(|&(g, v, _)| g != 0 || v != Variant::Ko)
            .collect();
        let sims = similarities(&titles(&few), 6, &query, Lang::Ko, true);
        let e = sims.evidence(5);
        assert!(e > 0.0, "{e}");
        let (r, h) = (sims.rescaled(5), sims.halfway(5));
        assert!(close(r, PRIOR_SPREAD_RATIO * e), "{r} {e}");
        assert!(close(h, PRIOR_SPREAD_RATIO.sqrt() * e), "{h} {e}");
        // The user's own language is never stretched (group 1's Korean title is its best),
        // nor is anything in a knowledge base without the user's language.
        assert_eq!(sims.rescaled(1), sims.evidence(1));
        assert_eq!(sims.halfway(1), sims.evidence(1));
        let sims = similarities(&titles(&few), 6, &query, Lang::Ko, false);
        for g in 0..6 {
            assert_eq!(sims.rescaled(g), sims.evidence(g));
            assert_eq!(sims.halfway(g), sims.evidence(g));
        }
    }

    #[test]
    fn articles_only_in_another_language_do_not_move_a_native_groups_background() {
        let mut query = vec![0f32; DIM];
        query[0] = 1.0;
        let close = |a: f64, b: f64| (a - b).abs() < 1e-5;
        // Five groups in Korean and English, the Korean titles all alike; group 0's English
        // title stands out, 0.1 above the others: 0.08 above their mean of 0.82.
        let mut t: Vec<(u32, Variant, f32)> = Vec::new();
        for g in 0..5u32 {
            t.push((g, Variant::Ko, 0.8));
            t.push((g, Variant::En, if g == 0 { 0.9 } else { 0.8 }));
        }
        let sims = similarities(&titles(&t), 5, &query, Lang::Ko, true);
        assert!(
            close(sims.evidence(0), 0.08 / SPREAD),
            "{}",
            sims.evidence(0)
        );
        // Ten English-only articles far from the question: group 0 is measured as before
        // (against all fifteen, the floor 0.78, it would get 0.12 / SPREAD); an English-only
        // article is measured against every English title (mean 0.75, the floor).
        for g in 5..15u32 {
            t.push((g, Variant::En, if g == 5 { 0.85 } else { 0.7 }));
        }
        let sims = similarities(&titles(&t), 15, &query, Lang::Ko, true);
        assert!(
            close(sims.evidence(0), 0.08 / SPREAD),
            "{}",
            sims.evidence(0)
        );
        let e = f64::from(0.85 - FLOOR) / SPREAD;
        assert!(close(sims.evidence(5), e), "{} {e}", sims.evidence(5));
        // With fewer than MIN_PAIRED groups in both languages, every English title counts.
        let few: Vec<_> = t
            .iter()
            .copied()
            .filter(|&(g, v, _)| g != 4 || v != Variant::Ko)
            .collect();
        let sims = similarities(&titles(&few), 15, &query, Lang::Ko, true);
        let e = f64::from(0.9 - FLOOR) / SPREAD;
        assert!(close(sims.evidence(0), e), "{} {e}", sims.evidence(0));
    }

    #[test]
    fn far_is_decided_for_faq_entries_in_the_users_language_only() {
        // Six Korean articles and six only in English; a Korean question 0.5 from every
        // title, which are 0.89 from one another: far from the Korean articles, and from
        // the English ones were it measured there (an index in a tempdir, as postings.rs's
        // tests build one: `fuse` needs a generation).
        let dir = tempfile::tempdir().unwrap();
        let dump = dir.path().join("kb.jsonl");
        let mut lines = String::new();
        for g in 0..6 {
            lines.push_str(&format!(
                "{{\"id\": \"ko{g}\", \"lang\": \"ko\", \"title\": \"제목 {g}\", \"answer\": \"답변 {g}\"}}\n\
                 {{\"id\": \"en{g}\", \"lang\": \"en\", \"title\": \"Title {g}\", \"answer\": \"Answer {g}\"}}\n"
            ));
        }
        std::fs::write(&dump, lines).unwrap();
        let sources = [crate::ingest::Source::File(dump, None)];
        let root = dir.path().join("index");
        crate::kb::build(&root, &sources, false, &Default::default()).unwrap();
        let gen = crate::index::open_current(&root).unwrap();
        let variants: Vec<Variant> = gen.groups.iter().map(|v| v[0].lang).collect();
        let vectors = equidistant_titles(0.5, 0.8, &variants);
        let mut query = vec![0f32; DIM];
        query[0] = 1.0;
        let sims = similarities(&vectors, gen.groups.len(), &query, Lang::Ko, true);
        assert!(sims.far(Variant::Ko) && sims.far(Variant::En));
        let shown = Shown {
            lang: Lang::Ko,
            traditional: false,
            top_k: 12,
            snippets: false,
            listed: None,
        };
        for (weigh_as, far_native) in [(WeighAs::Faq, true), (WeighAs::Documents, false)] {
            let hits = fuse(&gen, Vec::new(), &sims, &shown, weigh_as, |_| true);
            assert_eq!(hits.len(), 12);
            for (ranked, evidence) in hits {
                let missing = gen.groups[ranked.hit.group as usize][0].lang == Variant::En;
                assert_eq!(ranked.fallback.is_some(), missing);
                // A hit from another language is never far; documents never are.
                assert_eq!(evidence.far, far_native && !missing, "{weigh_as:?}");
            }
        }
    }

    fn scored(group: u32, confidence: f64, score: f32, fallback: bool) -> Ranked {
        let mut r = ranked(group, confidence, fallback);
        r.hit.score = score;
        r
    }

    #[test]
    fn an_answer_needs_the_threshold_and_one_strong_signal() {
        // Lexical ranking: the confidence alone.
        let t = crate::search::DEFAULT_THRESHOLD;
        assert!(is_answer(t, &Evidence::lexical(t), t));
        assert!(!is_answer(t - 0.01, &Evidence::lexical(t - 0.01), t));
        let t = DEFAULT_THRESHOLD;
        let hybrid = |lexical, semantic| Evidence {
            lexical,
            semantic: Some(semantic),
            far: false,
        };
        // Hybrid: two weak signals that add up to the threshold are not an answer.
        assert!(!is_answer(0.3 * 0.22 + 0.7 * 0.22, &hybrid(0.22, 0.22), t));
        // One signal at the threshold plus the margin is.
        assert!(is_answer(0.3 * 0.1 + 0.7 * 0.25, &hybrid(0.1, 0.25), t));
        assert!(is_answer(0.3 * 0.6 + 0.7 * 0.1, &hybrid(0.6, 0.1), t));
        // A strong signal does not make up for a confidence under the threshold.
        assert!(!is_answer(0.3 * 0.6, &hybrid(0.6, 0.0), t));
        // At a threshold near 1 the evidence asked for is at most 1.
        assert!(is_answer(1.0, &hybrid(1.0, 1.0), 0.98));
        // Far from the knowledge base, one signal must reach the threshold plus the larger
        // margin.
        let far = |lexical, semantic| Evidence {
            far: true,
            ..hybrid(lexical, semantic)
        };
        assert!(!is_answer(0.3 * 0.1 + 0.7 * 0.3, &far(0.1, 0.3), t));
        assert!(is_answer(0.3 * 0.1 + 0.7 * 0.35, &far(0.1, 0.35), t));
        assert!(is_answer(0.3 * 0.5 + 0.7 * 0.1, &far(0.5, 0.1), t));
    }

    #[test]
    fn lexical_evidence_keeps_the_order_of_the_list() {
        // A fallback hit first keeps its confidence; the first native hit (score 10) is the
        // reference; the next covers the query better (0.5 against 0.4) but gets 0.4 × 5 / 10.
        let hits = [
            scored(7, 0.3, 2.0, true),
            scored(0, 0.4, 10.0, false),
            scored(1, 0.5, 5.0, false),
        ];
        assert_eq!(lexical_evidence(&hits, 1), [0.3, 0.4, 0.2]);
        // Native hits moved ahead of a higher-scoring one (the glossary fallback puts the
        // articles that name every concept first) keep their places: the later hit gets no
        // more than the earlier one, although its score is higher.
        let moved = [
            scored(2, 0.6, 4.0, false),
            scored(3, 0.9, 8.0, false),
            scored(4, 0.2, 2.0, false),
        ];
        assert_eq!(lexical_evidence(&moved, 1), [0.6, 0.6, 0.3]);
        // Without a positive score every hit keeps its confidence.
        let unscored = [scored(5, 0.4, 0.0, false), scored(6, 0.5, 0.0, false)];
        assert_eq!(lexical_evidence(&unscored, 1), [0.4, 0.5]);
        // Sharper for documents: half the first hit's score gives a quarter of its evidence.
        assert_eq!(lexical_evidence(&hits, 2), [0.3, 0.4, 0.1]);
    }
}
