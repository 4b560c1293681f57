//! The library's front door: validates a request, chooses its language, searches the served
//! generation (with the cross-language fallback) and attaches translation groups; looks up
//! agent replies in the translation memory. The gRPC server and the CLI both call this.

use crate::embed::Encoder;
use crate::index::vectors::{VectorStats, Vectors};
use crate::index::{self, Generation, IndexError};
use crate::ingest::Article;
use crate::lang::{Choice, Detection, Detector, Lang, Source, Variant};
use crate::search::fallback::{self, Fallback, Reason};
use crate::search::{self, hybrid, Hit, SearchSpec};
use crate::translate::glossary::{Glossary, GlossaryError, GlossarySource};
use crate::translate::memory::{self, PerGeneration};
use crate::translate::{self, Version};
use arc_swap::{ArcSwap, ArcSwapOption};
use smallvec::SmallVec;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Longest accepted query, in characters (after trimming).
pub const MAX_QUERY_CHARS: usize = 1000;
/// Hits returned when `top_k` is 0.
pub const DEFAULT_TOP_K: usize = 5;
/// Most hits a request may ask for.
pub const MAX_TOP_K: usize = 50;

/// Tunable behaviour of the engine.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Language used when neither detection nor a hint decides.
    pub default_lang: Lang,
    /// Confidence at or above which the first hit counts as an answer (see
    /// [`hybrid::is_answer`]); `None` for the default of the ranking in use
    /// ([`search::DEFAULT_THRESHOLD`] lexical, [`hybrid::DEFAULT_THRESHOLD`] hybrid).
    pub threshold: Option<f64>,
    /// Fail queries in unsupported languages with FAILED_PRECONDITION instead of answering
    /// from the hint or default language.
    pub strict_language: bool,
    /// How hybrid ranking weighs the knowledge base's hits ([`hybrid::WeighAs`]).
    pub weigh_as: hybrid::WeighAs,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_lang: Lang::En,
            threshold: None,
            strict_language: false,
            weigh_as: hybrid::WeighAs::Auto,
        }
    }
}

/// Errors the engine returns; the transport maps each to one status code.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The request is malformed; names the field.
    #[error("{field}: {message}")]
    InvalidArgument {
        /// The request field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Records of a re-index or an edit are invalid; nothing was changed. Each record's
    /// problem is listed (cut to [`RECORD_CHARS`] characters), at most [`LISTED_RECORDS`] of
    /// them, so a client sees which records to fix (every one of them is logged).
    #[error("{field}: {records} invalid record(s); nothing was changed: {}", listed(field, .problems))]
    InvalidRecords {
        /// The request field at fault (`paths`, `articles`).
        field: &'static str,
        /// Each invalid record's location and problem.
        problems: Vec<String>,
        /// Records they keep out (a CSV header's problem keeps out its file's records).
        records: usize,
    },
    /// The article does not exist: what was looked for, as [`EngineError::missing`] words it.
    #[error("{0} not found")]
    NotFound(String),
    /// The text is in an unsupported language and strict mode is on.
    #[error("query language {0} is not supported (supported: ko, en, zh)")]
    UnsupportedLanguage(String),
    /// The server's own configuration stops the call (e.g. a glossary file with errors).
    #[error("{0}")]
    Precondition(String),
    /// The disk holding the index is full: said to the caller, who can free space and retry.
    #[error("{0}")]
    StorageFull(String),
    /// An internal failure (details logged, not sent to clients).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Most invalid records an [`EngineError::InvalidRecords`] message lists (the rest are
/// counted).
pub const LISTED_RECORDS: usize = 10;
/// Longest record problem an [`EngineError::InvalidRecords`] message quotes, in characters.
pub const RECORD_CHARS: usize = 320;

/// Most bytes of UTF-8 an [`EngineError::InvalidRecords`] message's list takes: a
/// grpc-message percent-encodes every byte outside ASCII (three bytes each), and gRPC clients
/// refuse metadata of 8 KiB or more by default.
pub const LISTED_BYTES: usize = 2_000;

/// Lists the first [`LISTED_RECORDS`] problems, each cut to [`RECORD_CHARS`] characters, as
/// many as fit in [`LISTED_BYTES`]; the rest are counted, with where to see them all.
fn listed(field: &str, problems: &[String]) -> String {
    let list = crate::lang::list_first(problems, LISTED_RECORDS, RECORD_CHARS, LISTED_BYTES);
    if !list.ends_with(" more") {
        return list;
    }
    let all = if field == "paths" {
        "`faqd index` with these dumps lists every one"
    } else {
        "the server's log lists up to 100"
    };
    format!("{list} ({all})")
}

impl From<search::SearchError> for EngineError {
    fn from(e: search::SearchError) -> Self {
        EngineError::Internal(e.to_string())
    }
}

impl From<IndexError> for EngineError {
    fn from(e: IndexError) -> Self {
        if e.is_storage_full() {
            EngineError::StorageFull(e.to_string())
        } else {
            EngineError::Internal(e.to_string())
        }
    }
}

/// A search request in domain terms.
#[derive(Debug, Clone, Default)]
pub struct SearchParams {
    /// The user's words.
    pub query: String,
    /// Explicit language (code or locale tag).
    pub language: Option<String>,
    /// The app's UI locale.
    pub locale_hint: Option<String>,
    /// The agent's language.
    pub agent_language: Option<String>,
    /// Further languages the agent reads, most preferred first: a hit whose article lacks
    /// `agent_language` carries its version in the first of these it has.
    pub agent_languages: Vec<String>,
    /// Hits wanted, 0 for the default.
    pub top_k: u32,
    /// Category filter.
    pub category: Option<String>,
    /// Languages the user also reads, most preferred first (codes or locale tags): an article
    /// missing in the user's language is shown in the first of these it has, else as found.
    /// Empty: English.
    pub fallback_languages: Vec<String>,
    /// Skip building highlighted snippets (evaluation runs that only need ranks).
    pub no_snippets: bool,
}

/// One hit with its translation group.
#[derive(Debug, Clone)]
pub struct GroupHit {
    /// The ranked article.
    pub hit: Hit,
    /// The version shown, with its staleness.
    pub shown: Version,
    /// Every language tag the article exists in (one per variant, so held inline).
    pub available: SmallVec<[Variant; 4]>,
    /// The version in the agent's language, when asked for and present.
    pub agent_version: Option<Version>,
    /// True when it is not an answer ([`hybrid::is_answer`]): below the confidence threshold,
    /// or with hybrid ranking without one strong signal.
    pub candidate_only: bool,
    /// Set when the hit comes from the cross-language fallback.
    pub fallback: Option<Fallback>,
    /// What its answer decision weighed: its lexical evidence (with hybrid ranking see
    /// [`hybrid`]'s, else its lexical confidence; 0 when only its vectors found it), its
    /// semantic evidence (0 to 1) when the encoder ranked the search, and whether the
    /// question is far from the knowledge base.
    pub evidence: hybrid::Evidence,
}

/// Which signals ranked a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ranking {
    /// Lexical evidence and the sentence encoder's vectors.
    Hybrid,
    /// Lexical evidence only; says why the encoder was not used.
    Lexical(String),
}

/// The result of a search.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    /// The signals that ranked it.
    pub ranking: Ranking,
    /// The language searched and why.
    pub choice: Choice,
    /// True when the first hit is an answer ([`hybrid::is_answer`]).
    pub answered: bool,
    /// The threshold used.
    pub threshold: f64,
    /// Hits, best first.
    pub hits: Vec<GroupHit>,
    /// The unsupported language the text was detected in, if any.
    pub unsupported: Option<&'static str>,
    /// Generation searched.
    pub generation: u64,
}

/// Serves searches over the current generation; the generation can be swapped while searches
/// run (in-flight searches finish on the one they started with).
pub struct Engine {
    detector: Detector,
    current: ArcSwap<Generation>,
    /// The last generation `CURRENT` named that failed to open or verify (0: none): not
    /// retried until `CURRENT` names another.
    refused: AtomicU64,
    /// Held while a reload opens a generation and embeds its texts: the `CURRENT` watcher and
    /// an admin edit that both see a new generation load it once, not each (the edit's call
    /// waits for the watcher's load, then finds it served).
    reloading: std::sync::Mutex<()>,
    /// Generations loaded by [`Engine::reload`] (the one opened first not counted).
    loads: AtomicU64,
    root: PathBuf,
    settings: Settings,
    searches: AtomicU64,
    glossary: ArcSwap<Glossary>,
    glossary_source: GlossarySource,
    memory: PerGeneration,
    /// Chinese versions shown converted to the other script, kept: converting costs more
    /// than the search.
    converted: translate::Converted,
    encoder: Option<Arc<Encoder>>,
    /// The model file's SHA-256 (the vectors' model id).
    model_id: String,
    /// Why there is no encoder (or no vectors), for responses and stats.
    lexical_reason: String,
    /// The served generation's vectors (`None` without an encoder).
    vectors: ArcSwapOption<Vectors>,
    /// The dumps named at start that cannot be indexed (as a generation records them), and
    /// why ([`Engine::with_kept_generation`]).
    kept: std::sync::Mutex<Option<(Vec<String>, u64, String)>>,
}

/// Most languages a request may list in `fallback_languages` (and in `agent_languages`).
pub const MAX_FALLBACK_LANGUAGES: usize = 8;

/// Parses `fallback_languages`; empty means English.
fn parse_fallback_languages(values: &[String]) -> Result<Vec<Variant>, EngineError> {
    let mut reads = parse_languages("fallback_languages", values)?;
    if reads.is_empty() {
        reads.push(Variant::En);
    }
    Ok(reads)
}

/// Parses a list of language tags (at most [`MAX_FALLBACK_LANGUAGES`], none empty).
fn parse_languages(field: &'static str, values: &[String]) -> Result<Vec<Variant>, EngineError> {
    if values.len() > MAX_FALLBACK_LANGUAGES {
        return Err(EngineError::InvalidArgument {
            field,
            message: format!(
                "at most {MAX_FALLBACK_LANGUAGES} languages, got {}",
                values.len()
            ),
        });
    }
    let mut reads = Vec::with_capacity(values.len().max(1));
    for (i, v) in values.iter().enumerate() {
        match parse_lang(field, &Some(v.clone()))? {
            Some(lang) => reads.push(lang),
            None => {
                return Err(EngineError::InvalidArgument {
                    field,
                    message: format!("entry {i} is empty"),
                })
            }
        }
    }
    Ok(reads)
}

/// Least share of the confidence of the best answer outside a search's category that a hit
/// in the category needs to be an answer. The category is context that picks among
/// comparable articles (`출금`, withdrawal, asked in the fees section: withdrawal-fees at 0.77
/// of how-to-withdraw's confidence), but it is no reason to answer with an article much
/// weaker than the one the question is about (`how do i delete my account` in the KYC
/// section: kyc-documents at 0.35 against account-deletion's 1.0). On the shipped knowledge
/// base's own 655 questions, each asked in the 9 categories its article is not in, the first
/// hit in the category had at most 0.52 of the best answer's confidence for 95 % of those
/// answered before (lexical ranking; 0.52 with the model too); short questions that the
/// section disambiguates had 0.66 to 0.89 (lexical) and 0.72 to 1.0 (hybrid).
pub const CATEGORY_SHARE: f64 = 0.6;

/// Share of the first hit's confidence a later hit needs to be an answer too (else it is a
/// candidate). Hits after the first that reached the threshold were answers however far below
/// the first they were (user trial: "I forgot my pasword" listed "Airdrop distribution" as
/// an answer). With the model, 0.6 keeps every later hit that was the labelled article on
/// HINT3 curekart (38), sofmattress (15) and x-tor-en (3) an answer, and takes 40 %, 39 %
/// and 31 % of the other later answers back to candidates (docs/QUALITY.md).
pub const ANSWER_SHARE: f64 = 0.6;

/// Longest list of categories an unknown category's message quotes, in characters.
const CATEGORIES_QUOTED: usize = 38;
/// Longest start of a category quoted in that message, in characters.
const CATEGORY_QUOTED: usize = 24;

/// Returns the message for a category no article has: the value (its start) and either the
/// known category it most likely meant (the same but for case, or a near spelling) or the
/// knowledge base's categories, closest first, as many as fit in [`CATEGORIES_QUOTED`]
/// characters (at most about 110 characters with the field's name). Alphabetical order hid
/// `fees` when `Fees` was asked (user trial).
fn unknown_category(category: &str, known: &std::collections::BTreeSet<String>) -> String {
    use rapidfuzz::distance::levenshtein;
    let asked = crate::lang::start(category, CATEGORY_QUOTED);
    // Compared by its start: a long value costs no more than a category does.
    let folded = crate::lang::start(category.trim(), 2 * CATEGORY_QUOTED).to_lowercase();
    let closeness = |c: &str| {
        let c = c.to_lowercase();
        if c == folded {
            2.0
        } else {
            levenshtein::normalized_similarity(folded.chars(), c.chars())
        }
    };
    let mut ranked: Vec<(f64, &String)> = known.iter().map(|c| (closeness(c), c)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let meant = ranked
        .first()
        .filter(|(score, _)| *score >= 0.6)
        .map(|(_, c)| {
            format!(
                ": did you mean {:?}?",
                crate::lang::start(c, CATEGORY_QUOTED)
            )
        })
        .unwrap_or_default();
    let mut list = String::new();
    for (_, c) in &ranked {
        if list.is_empty() {
            list = crate::lang::start(c, CATEGORY_QUOTED);
        } else if list.chars().count() + 2 + c.chars().count() > CATEGORIES_QUOTED {
            list.push_str(", …");
            break;
        } else {
            list.push_str(", ");
            list.push_str(c);
        }
    }
    if list.is_empty() {
        format!("no article has a category (asked for {asked:?})")
    } else if meant.is_empty() {
        let n = known.len();
        let noun = if n == 1 { "category" } else { "categories" };
        format!("no article has {asked:?} ({n} {noun}: {list})")
    } else {
        format!("no article has {asked:?}{meant} (categories match exactly)")
    }
}

/// Shows a hit whose article has no version in the user's language in the first language of
/// `reads` the article has (in `category`, when the search is limited to one), with the start
/// of its answer as the snippet (the highlights were the found version's); returns that
/// language. Left as found when it has none of them.
fn show_in_a_language_read(
    hit: &mut Hit,
    group: &[Arc<Article>],
    reads: &[Variant],
    category: Option<&str>,
    snippets: bool,
) -> Option<Variant> {
    let (read, version) = reads.iter().find_map(|&v| {
        search::display_version(group, v.lang(), v == Variant::ZhHant)
            .filter(|a| category.is_none_or(|c| a.category == c))
            .map(|a| (v, a))
    })?;
    if version.lang != hit.version.lang {
        hit.version = version.clone();
        hit.snippet = if snippets {
            search::excerpt(version)
        } else {
            String::new()
        };
    }
    Some(read)
}

fn parse_lang(field: &'static str, value: &Option<String>) -> Result<Option<Variant>, EngineError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => Variant::parse(v)
            .map(Some)
            .map_err(|e| EngineError::InvalidArgument {
                field,
                message: match crate::lang::meant_by(v) {
                    Some(m) => format!("{e}; did you mean {m}?"),
                    None => e.to_string(),
                },
            }),
    }
}

/// Reads the app's UI locale. A locale faqd does not search (`ja-JP`, `fr`), or one that is
/// not a locale at all, is no hint: detection decides, as without one. (Before, it failed
/// the call, so every user of an app in another UI language got no answer.)
pub fn parse_hint(value: &Option<String>) -> Option<Lang> {
    parse_lang("locale_hint", value)
        .inspect_err(|e| tracing::debug!(error = %e, "locale hint ignored"))
        .ok()
        .flatten()
        .map(Variant::lang)
}

impl EngineError {
    /// NOT_FOUND for these article ids (in `lang`, when only that version was looked for):
    /// `article "a" in en`, `articles "a", "b"`.
    pub fn missing(ids: &[&str], lang: Option<Variant>) -> EngineError {
        let quoted: Vec<String> = ids.iter().map(|id| format!("{id:?}")).collect();
        let noun = if ids.len() == 1 {
            "article"
        } else {
            "articles"
        };
        let what = lang.map(|l| format!(" in {l}")).unwrap_or_default();
        EngineError::NotFound(format!("{noun} {}{what}", quoted.join(", ")))
    }
}

impl Engine {
    /// Opens the generation `CURRENT` names under `root`, or, when it is missing or does not
    /// open and verify, the newest complete generation that does (logged as an ERROR;
    /// `CURRENT` is left for the operator to repoint).
    pub fn open(root: &Path, settings: Settings) -> Result<Engine, IndexError> {
        let index::Served {
            generation,
            fallback,
        } = index::open_served(root)?;
        if let Some(problem) = fallback {
            tracing::error!(
                root = %root.display(),
                error = %problem,
                serving = generation.meta.generation,
                "CURRENT is unusable: serving the newest generation that opens and verifies \
                 (repoint CURRENT with `faqd serve --repoint-current` or `faqd index`)"
            );
        }
        crate::analysis::warm_up();
        let glossary = GlossarySource::Shipped
            .load()
            .expect("the shipped glossary is valid (checked by a unit test)");
        glossary.warm(&generation);
        Ok(Engine {
            detector: Detector::new(),
            current: ArcSwap::from_pointee(generation),
            refused: AtomicU64::new(0),
            reloading: std::sync::Mutex::new(()),
            loads: AtomicU64::new(0),
            root: root.to_path_buf(),
            settings,
            searches: AtomicU64::new(0),
            glossary: ArcSwap::from_pointee(glossary),
            glossary_source: GlossarySource::Shipped,
            memory: PerGeneration::default(),
            converted: translate::Converted::default(),
            encoder: None,
            model_id: String::new(),
            lexical_reason: "no model installed".into(),
            vectors: ArcSwapOption::empty(),
            kept: std::sync::Mutex::new(None),
        })
    }

    /// Ranks with the sentence encoder too (`None`: lexically, for `reason`). Embeds the served
    /// generation's titles, questions and answers that its vectors file lacks; returns how.
    pub fn with_encoder(
        mut self,
        encoder: Option<(Arc<Encoder>, String)>,
        reason: &str,
    ) -> Result<(Engine, Option<VectorStats>), crate::index::vectors::VectorError> {
        let Some((encoder, model_id)) = encoder else {
            self.lexical_reason = reason.to_string();
            return Ok((self, None));
        };
        let gen = self.generation();
        let (vectors, stats) = Vectors::load_or_build(&self.root, &gen, &encoder, &model_id, None)?;
        self.vectors.store(Some(Arc::new(vectors)));
        self.encoder = Some(encoder);
        self.model_id = model_id;
        Ok((self, Some(stats)))
    }

    /// Returns the ranking searches use now.
    pub fn ranking(&self) -> Ranking {
        match (&self.encoder, self.vectors.load().is_some()) {
            (Some(_), true) => Ranking::Hybrid,
            (Some(_), false) => Ranking::Lexical("the served generation has no vectors".into()),
            (None, _) => Ranking::Lexical(self.lexical_reason.clone()),
        }
    }

    /// Returns the number of sentence vectors of the served generation.
    pub fn vector_count(&self) -> usize {
        self.vectors.load().as_ref().map_or(0, |v| v.len())
    }

    /// Returns the encoder, when one is loaded.
    pub fn encoder(&self) -> Option<&Arc<Encoder>> {
        self.encoder.as_ref()
    }

    /// Returns the threshold in force for the ranking in use.
    pub fn threshold(&self) -> f64 {
        self.threshold_for(&self.ranking())
    }

    /// Returns the threshold for `ranking`: the configured one, else that ranking's default.
    fn threshold_for(&self, ranking: &Ranking) -> f64 {
        self.settings.threshold.unwrap_or(match ranking {
            Ranking::Hybrid => hybrid::DEFAULT_THRESHOLD,
            Ranking::Lexical(_) => search::DEFAULT_THRESHOLD,
        })
    }

    /// Returns the vectors of `gen` when they are the served ones.
    fn vectors_of(&self, gen: &Generation) -> Option<Arc<Vectors>> {
        self.vectors
            .load_full()
            .filter(|v| v.generation == gen.meta.generation)
    }

    /// Loads the glossary from `source` and keeps `source` for [`Engine::reload_glossary`].
    pub fn with_glossary(self, source: GlossarySource) -> Result<Engine, GlossaryError> {
        if source == self.glossary_source {
            // Already loaded (the shipped one, by `open`), and its concepts found.
            return Ok(self);
        }
        let glossary = source.load()?;
        Ok(self.with_loaded_glossary(source, glossary))
    }

    /// Serves `glossary`, read from `source` (by a caller that reads it before opening the
    /// index, so that a bad file fails before a build).
    pub fn with_loaded_glossary(mut self, source: GlossarySource, glossary: Glossary) -> Engine {
        glossary.warm(&self.current.load());
        self.glossary.store(Arc::new(glossary));
        self.glossary_source = source;
        self
    }

    /// Records that the served generation is kept because the dumps named at start cannot be
    /// indexed (`problem` says why). [`Engine::dumps_problem`] reports it until a generation
    /// is built afresh from those dumps (they were fixed); admin edits and generations built
    /// from other dumps leave it, since a restart with the named dumps would still meet it.
    pub fn with_kept_generation(self, problem: String) -> Engine {
        let g = self.generation();
        let kept = (g.meta.sources.clone(), g.meta.generation, problem);
        *self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(kept);
        self
    }

    /// Why the served generation is one kept from before: the dumps named at start cannot be
    /// indexed ([`Engine::with_kept_generation`]).
    pub fn dumps_problem(&self) -> Option<String> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|(_, _, problem)| problem.clone())
    }

    /// Builds translation memories with these canned replies instead of the shipped ones
    /// (`--replies`; empty for none).
    pub fn with_replies(mut self, replies: Vec<memory::Aligned>) -> Engine {
        self.memory = PerGeneration::with_replies(replies);
        self
    }

    /// Re-reads the glossary from its source and serves it; no re-index is needed. Returns
    /// the number of concepts. On error the old glossary stays in use.
    pub fn reload_glossary(&self) -> Result<usize, GlossaryError> {
        let g = self.glossary_source.load()?;
        let n = g.len();
        g.warm(&self.current.load());
        self.glossary.store(Arc::new(g));
        Ok(n)
    }

    /// Returns the glossary in use.
    pub fn glossary(&self) -> Arc<Glossary> {
        self.glossary.load_full()
    }

    /// Returns the translation memory of the served generation (built on first use after a
    /// generation change).
    pub fn memory(&self) -> Arc<memory::Memory> {
        self.memory.get(&self.generation())
    }

    /// Returns the settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Returns the index root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns how many searches ran since the engine was opened.
    pub fn searches_served(&self) -> u64 {
        self.searches.load(Ordering::Relaxed)
    }

    /// Returns the generation being served.
    pub fn generation(&self) -> Arc<Generation> {
        self.current.load_full()
    }

    /// Returns how many generations [`Engine::reload`] has loaded since the engine opened.
    pub fn generations_loaded(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    /// Opens the generation `CURRENT` now points to and serves it, if it is another one.
    /// Returns the generation served afterwards. A generation that fails to open or verify is
    /// never served (the error is returned once; it is not retried until `CURRENT` changes).
    pub fn reload(&self) -> Result<u64, IndexError> {
        // A reload that panicked left nothing half-done behind the lock (the generation is
        // swapped in last), so a poisoned lock is used as is.
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let served = self.current.load().meta.generation;
        match index::current_generation(&self.root)? {
            Some(n) if n != served && n != self.refused.load(Ordering::Relaxed) => {
                let g = index::open_current(&self.root)
                    .inspect_err(|_| self.refused.store(n, Ordering::Relaxed))?;
                self.glossary.load().warm(&g);
                let n = g.meta.generation;
                let vectors = self.encoder.as_ref().and_then(|encoder| {
                    let previous = self.vectors.load_full();
                    match Vectors::load_or_build(&self.root, &g, encoder, &self.model_id, previous.as_deref()) {
                        Ok((v, stats)) => {
                            tracing::info!(generation = n, weighed_as = self.settings.weigh_as.name(&g), texts = stats.texts, embedded = stats.embedded, reused = stats.reused, ms = stats.ms, neighbours = %stats.neighbours(), "vectors ready");
                            Some(Arc::new(v))
                        }
                        Err(e) => {
                            tracing::error!(generation = n, error = %e, "vectors failed; searching lexically");
                            None
                        }
                    }
                });
                // Built afresh from the dumps named at start (the same files, however named
                // or ordered: review), after the kept one: they were fixed.
                let mut kept = self
                    .kept
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if kept.as_ref().is_some_and(|(dumps, generation, _)| {
                    g.meta.edits == 0
                        && g.meta.generation > *generation
                        && crate::kb::same_dump_set(&g.meta.sources, dumps)
                }) {
                    kept.take();
                }
                drop(kept);
                self.current.store(Arc::new(g));
                self.vectors.store(vectors);
                self.loads.fetch_add(1, Ordering::Relaxed);
                Ok(n)
            }
            _ => Ok(served),
        }
    }

    /// Detects the language of a text as Search would.
    pub fn detect(
        &self,
        text: &str,
        hint: &Option<String>,
    ) -> Result<(Choice, Detection), EngineError> {
        let text = validate_text("text", text)?;
        let hint = parse_hint(hint);
        let choice = self
            .detector
            .choose(text, None, hint, self.settings.default_lang);
        let detection = choice.detection.clone();
        Ok((choice, detection))
    }

    /// Returns the detector (for evaluation tools).
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// Runs a search request.
    pub fn search(&self, p: &SearchParams) -> Result<SearchOutcome, EngineError> {
        let text = validate_text("query", &p.query)?;
        let top_k = match p.top_k as usize {
            0 => DEFAULT_TOP_K,
            k if k > MAX_TOP_K => {
                return Err(EngineError::InvalidArgument {
                    field: "top_k",
                    message: format!("must be between 1 and {MAX_TOP_K}, got {k}"),
                })
            }
            k => k,
        };
        let explicit_tag = parse_lang("language", &p.language)?;
        let explicit = explicit_tag.map(Variant::lang);
        let hint = parse_hint(&p.locale_hint);
        // The Chinese script a tag names (`zh-TW`, `zh-CN`; not a bare `zh`, which clients
        // send for both).
        let script = |tag: &Option<String>| tag.as_deref().and_then(Variant::script_named);
        let (explicit_script, hint_script) = (script(&p.language), script(&p.locale_hint));
        let agents: Vec<Variant> = parse_lang("agent_language", &p.agent_language)?
            .into_iter()
            .chain(parse_languages("agent_languages", &p.agent_languages)?)
            .collect();
        let reads = parse_fallback_languages(&p.fallback_languages)?;
        let category = p
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let choice = self
            .detector
            .choose(text, explicit, hint, self.settings.default_lang);
        let unsupported = (choice.source != Source::Override && choice.detection.is_unsupported())
            .then_some(choice.detection.code)
            .flatten();
        if let (Some(code), true) = (unsupported, self.settings.strict_language) {
            return Err(EngineError::UnsupportedLanguage(code.to_string()));
        }
        let gen = self.generation();
        if let Some(c) = category.filter(|c| !gen.categories.contains(*c)) {
            return Err(EngineError::InvalidArgument {
                field: "category",
                message: unknown_category(c, &gen.categories),
            });
        }
        let vectors = self.encoder.as_ref().and(self.vectors_of(&gen));
        let ranking = match (&vectors, self.ranking()) {
            (Some(_), _) => Ranking::Hybrid,
            (None, Ranking::Hybrid) => Ranking::Lexical("vectors are not ready".into()),
            (None, r) => r,
        };
        let threshold = self.threshold_for(&ranking);
        // The fallback's own decisions are lexical: they use the lexical threshold.
        let lexical_threshold = match ranking {
            Ranking::Hybrid => search::DEFAULT_THRESHOLD,
            Ranking::Lexical(_) => threshold,
        };
        // The query's semantic evidence for every group, whatever the category.
        let sims = match (&vectors, &self.encoder) {
            (Some(vectors), Some(encoder)) => {
                let q = encoder
                    .embed_query(text)
                    .map_err(|e| EngineError::Internal(e.to_string()))?;
                Some(hybrid::similarities(
                    vectors,
                    gen.groups.len(),
                    &q,
                    choice.lang,
                    gen.has_language(choice.lang),
                ))
            }
            _ => None,
        };
        let glossary = self.glossary.load();
        let in_category = |g: u32, category: Option<&str>| {
            category.is_none_or(|c| gen.groups[g as usize].iter().any(|a| a.category == c))
        };
        // Ranks the query's hits (in `category` when given); returns them with each one's
        // lexical and semantic evidence, the highlights of the native hits, and which those are.
        let rank = |category: Option<&str>, top_k: usize, snippets: bool| {
            let spec = SearchSpec {
                text,
                lang: choice.lang,
                // Hybrid ranking needs the lexical confidence of more articles than it returns.
                top_k: if sims.is_some() {
                    top_k.max(hybrid::LEXICAL_CANDIDATES)
                } else {
                    top_k
                },
                category,
                snippets,
                phrasing_first: sims.is_none(),
                spelling: true,
            };
            // The native hits' snippets are built by the caller, for the hits shown only.
            let (hits, highlights) = search::search(&gen, &spec)?;
            let hits = fallback::with_fallback(&gen, &glossary, &spec, hits, lexical_threshold)?;
            let native: Vec<u32> = hits
                .iter()
                .filter(|r| r.fallback.is_none())
                .map(|r| r.hit.group)
                .collect();
            let ranked: Vec<(fallback::Ranked, hybrid::Evidence)> = match &sims {
                Some(sims) => {
                    let shown = hybrid::Shown {
                        lang: choice.lang,
                        traditional: choice.lang == Lang::Zh
                            && crate::analysis::is_traditional(text),
                        top_k,
                        snippets,
                        listed: gen
                            .phrased(choice.lang, text)
                            .filter(|&g| in_category(g, category)),
                    };
                    hybrid::fuse(&gen, hits, sims, &shown, self.settings.weigh_as, |g| {
                        in_category(g, category)
                    })
                }
                None => hits
                    .into_iter()
                    .take(top_k)
                    .map(|r| {
                        let e = hybrid::Evidence::lexical(r.hit.confidence);
                        (r, e)
                    })
                    .collect(),
            };
            Ok::<_, EngineError>((ranked, highlights, native))
        };
        let (mut ranked, highlights, native) = rank(category, top_k, !p.no_snippets)?;
        // In a category, a hit is no answer when an article outside it answers the question
        // with much more confidence ([`CATEGORY_SHARE`]). Confidence is at most 1, so a hit
        // at CATEGORY_SHARE or above is never demoted: the second ranking runs only when an
        // answer in the category is below it.
        let demotable = || {
            ranked.iter().any(|(r, evidence)| {
                r.hit.confidence < CATEGORY_SHARE
                    && hybrid::is_answer(r.hit.confidence, evidence, threshold)
            })
        };
        let outside = match category {
            Some(_) if demotable() => rank(None, 1, false)?
                .0
                .first()
                .filter(|(r, evidence)| {
                    !in_category(r.hit.group, category)
                        && hybrid::is_answer(r.hit.confidence, evidence, threshold)
                })
                .map(|(r, _)| r.hit.confidence),
            _ => None,
        };
        for (r, _) in &mut ranked {
            // Fallback hits and those found by their vectors alone have theirs.
            if r.fallback.is_none() && native.contains(&r.hit.group) {
                r.hit.snippet = highlights.snippet(&r.hit.version);
            }
        }
        // The Chinese script the user reads: the one asked for by name (`zh-Hant`, `zh-TW`,
        // `zh-CN`); else, for a Chinese search (a bare `zh`, which clients send for both
        // scripts, or none), the one the question is written in, else the one the app's
        // locale names (`locale_hint` `zh-TW`). Decided once, for the first hit that needs it.
        let mut script: Option<Option<Variant>> = None;
        let mut reader_script = || {
            *script.get_or_insert_with(|| match (explicit_script, explicit_tag) {
                (Some(s), _) => Some(s),
                (None, Some(v)) if v.lang() != Lang::Zh => None,
                _ => translate::written_script(text)
                    .filter(|_| choice.lang == Lang::Zh)
                    .or(hint_script),
            })
        };
        let mut hits: Vec<GroupHit> = ranked
            .into_iter()
            .map(|(fallback::Ranked { mut hit, fallback }, evidence)| {
                let group = &gen.groups[hit.group as usize];
                let read = fallback
                    .filter(|f| f.reason == Reason::MissingTranslation)
                    .and_then(|_| {
                        show_in_a_language_read(&mut hit, group, &reads, category, !p.no_snippets)
                    });
                // A Chinese hit in the script the user reads (for a fallback hit, the
                // one of the fallback languages it is shown in).
                let mut wanted = hit.version.lang;
                if wanted.lang() == Lang::Zh {
                    if let Some(s) = read.or_else(&mut reader_script) {
                        wanted = s;
                    }
                }
                let shown = translate::version(group, wanted)
                    .map(|v| self.converted.in_script(gen.meta.generation, v, wanted))
                    .expect("shown version is in its group");
                // The snippet is the shown version's, converted or the other script's
                // own: highlighted as the found version was (a native hit: Chinese
                // analysis folds the scripts), else the start of its answer. (The
                // found snippet converted would not match the answer: a highlight can
                // split a phrase the conversion rewrites.) A version converted from the
                // other script's newer one is another text in the found language.
                if (shown.converted || shown.article.lang != hit.version.lang)
                    && !hit.snippet.is_empty()
                {
                    let native = fallback.is_none() && native.contains(&hit.group);
                    hit.snippet = Some(highlights.snippet(&shown.article))
                        .filter(|s| native && !s.is_empty())
                        .unwrap_or_else(|| search::excerpt(&shown.article));
                }
                let agent_version = agents.iter().find_map(|&v| {
                    translate::version(group, v)
                        .map(|x| self.converted.in_script(gen.meta.generation, x, v))
                });
                // Shown in a language the user does not read (neither theirs nor one of
                // `fallback_languages`): no answer for them, though an agent reading
                // the found language can use it (user trial: a Korean user's answer
                // was in Traditional Chinese).
                let unread = fallback.is_some_and(|f| f.reason == Reason::MissingTranslation)
                    && read.is_none();
                GroupHit {
                    candidate_only: !hybrid::is_answer(hit.confidence, &evidence, threshold)
                        || outside.is_some_and(|best| hit.confidence < CATEGORY_SHARE * best)
                        || unread,
                    available: group.iter().map(|a| a.lang).collect(),
                    hit,
                    shown,
                    agent_version,
                    fallback,
                    evidence,
                }
            })
            .collect();
        // A hit after the first is an answer only beside it: when the first is one, and at
        // [`ANSWER_SHARE`] of its confidence or more. (A first hit the user cannot read, or
        // below the threshold, left later hits answers under `answered: false`: trial.)
        if let Some((first, answers)) = hits.first().map(|h| (h.hit.confidence, !h.candidate_only))
        {
            for h in hits.iter_mut().skip(1) {
                h.candidate_only |= !answers || h.hit.confidence < ANSWER_SHARE * first;
            }
        }
        // Served: a refused request (an invalid field) is not counted.
        self.searches.fetch_add(1, Ordering::Relaxed);
        Ok(SearchOutcome {
            ranking,
            choice,
            // The first hit's own decision.
            answered: hits.first().is_some_and(|h| !h.candidate_only),
            threshold,
            hits,
            unsupported,
            generation: gen.meta.generation,
        })
    }

    /// Returns every version of an article; `lang` picks the one listed first.
    pub fn article(&self, id: &str, lang: &Option<String>) -> Result<ArticleOutcome, EngineError> {
        let id = id.trim();
        if id.is_empty() {
            return Err(EngineError::InvalidArgument {
                field: "id",
                message: "must not be empty".into(),
            });
        }
        let wanted = parse_lang("language", lang)?;
        let gen = self.generation();
        let group = gen
            .group(id)
            .ok_or_else(|| EngineError::missing(&[id], None))?;
        let versions = translate::versions(group);
        let preferred = wanted.and_then(|v| {
            translate::pick(&versions, v)
                .map(|x| self.converted.in_script(gen.meta.generation, x.clone(), v))
        });
        // (User trial: a Korean-and-Chinese article asked for in English came back in Korean
        // with nothing saying the English was missing.) English is what Search falls back
        // to by default.
        let language_missing = wanted.is_some() && preferred.is_none();
        let chosen = preferred
            .or_else(|| {
                language_missing
                    .then(|| translate::pick(&versions, Variant::En).cloned())
                    .flatten()
            })
            .or_else(|| versions.first().cloned());
        Ok(ArticleOutcome {
            chosen,
            versions,
            language_missing,
        })
    }

    /// Looks up an agent's reply in the translation memory of the served generation.
    pub fn translate_reply(&self, p: &ReplyParams) -> Result<ReplyOutcome, EngineError> {
        let text = validate_text("text", &p.text)?;
        let target = parse_lang("target_language", &Some(p.target_language.clone()))?.ok_or(
            EngineError::InvalidArgument {
                field: "target_language",
                message: "must not be empty".into(),
            },
        )?;
        let (source, how) = match parse_lang("source_language", &p.source_language)? {
            Some(v) => {
                // (User trial: Korean text given as `zh` was looked up among Chinese
                // sources, and came back an unexplained no-match.) Chinese of the other
                // script is Chinese: the lookup folds the scripts.
                let mismatch =
                    crate::ingest::script_mismatch(v, std::iter::once(text)).filter(|(_, tag)| {
                        !(v.lang() == Lang::Zh && tag.is_some_and(|t| t.starts_with("zh")))
                    });
                if let Some((what, tag)) = mismatch {
                    return Err(EngineError::InvalidArgument {
                        field: "source_language",
                        message: format!(
                            "`{}`, but the text {what}; {}",
                            v.tag(),
                            match tag {
                                Some(tag) => format!("use `{tag}`, or leave it unset to detect it"),
                                None => "faqd translates ko, en and zh only".to_string(),
                            }
                        ),
                    });
                }
                (v.lang(), "given")
            }
            None => {
                let choice = self
                    .detector
                    .choose(text, None, None, self.settings.default_lang);
                // Text in a language the memory cannot hold gets no look-up in another (user
                // trial: Japanese was looked up as English).
                if let (true, Some(code)) =
                    (choice.detection.is_unsupported(), choice.detection.code)
                {
                    return Err(EngineError::InvalidArgument {
                        field: "text",
                        message: format!(
                            "is in {code}, which faqd does not translate (ko, en, zh); set \
                             source_language if it is one of those"
                        ),
                    });
                }
                (choice.lang, "detected")
            }
        };
        if memory::text::normalize(text, source).is_empty() {
            return Err(EngineError::InvalidArgument {
                field: "text",
                message: "has no letters or digits".into(),
            });
        }
        if source == target.lang() && source != Lang::Zh {
            // (User trial: a reply already in the target language came back unmatched, with
            // no reason given.) Chinese goes on: the memory holds both scripts' versions.
            return Err(EngineError::InvalidArgument {
                field: "target_language",
                message: format!(
                    "is the text's own language ({} {how}): nothing to translate{}",
                    source.code(),
                    if how == "detected" {
                        " (set source_language if the text is in another language)"
                    } else {
                        ""
                    }
                ),
            });
        }
        let threshold = memory::DEFAULT_THRESHOLD;
        let tm = self.memory();
        let glossary = self.glossary();
        // Close as characters, but stating other numbers, the opposite, or another of the
        // glossary's terms (user trial: 출금 written where the entry says 입금, at 97 %).
        let differ = |text: &str, entry: &str| {
            memory::text::differences(text, entry, source)
                .or_else(|| term_differences(&glossary, text, entry, source))
        };
        // An entry that differs in these ways is passed over for a close one that does not.
        let agrees = |text: &str, entry: &str| differ(text, entry).is_none();
        let segments: Vec<ReplySegment> = tm
            .lookup_segments(text, source, target, threshold, &agrees)
            .into_iter()
            .map(|s| {
                // Words added to the entry's are weighed here, once the segments are
                // found: a sentence the memory holds with words added is first split where
                // the memory holds its pieces (`lookup_segments`).
                let differs = s.found.filter(|_| s.percent() >= threshold).and_then(|l| {
                    differ(s.text, &l.segment.text)
                        .or_else(|| memory::text::added_words(s.text, &l.segment.text, source))
                });
                let matched = s.percent() >= threshold && differs.is_none();
                // An entry approved in the very script asked for is its own translation
                // (user trial: Traditional text to `zh-CN` found the Simplified entry, yet
                // returned its Traditional version converted, with another word).
                let own = s.found.filter(|l| l.segment.variant == target);
                let converted =
                    own.is_none() && s.found.is_some_and(|l| l.translation.variant != target);
                let segment = ReplySegment {
                    text: s.text.to_string(),
                    differs,
                    untranslated: None,
                    matched,
                    percent: s.percent(),
                    matched_source: s.found.map(|l| l.segment.text.clone()),
                    origin: s.found.map(|l| {
                        own.map_or(&l.translation.origin, |l| &l.segment.origin)
                            .clone()
                    }),
                    translation: s.found.filter(|_| matched).map(|l| {
                        if own.is_some() {
                            l.segment.text.clone()
                        } else if converted {
                            translate::to_script(&l.translation.text, target)
                        } else {
                            l.translation.text.clone()
                        }
                    }),
                    converted: converted && matched,
                };
                if matched {
                    segment
                } else {
                    held(&tm, segment, source, target, threshold, &differ)
                }
            })
            .collect();
        let matched = !segments.is_empty() && segments.iter().all(|s| s.matched);
        let join = |parts: Vec<&str>, lang: Lang| {
            (!parts.is_empty()).then(|| parts.join(memory::text::joiner(lang)))
        };
        let mut origins: Vec<&str> = Vec::new();
        for o in segments.iter().filter_map(|s| s.origin.as_deref()) {
            if !origins.contains(&o) {
                origins.push(o);
            }
        }
        Ok(ReplyOutcome {
            matched,
            translation: if matched {
                join(
                    segments
                        .iter()
                        .filter_map(|s| s.translation.as_deref())
                        .collect(),
                    target.lang(),
                )
            } else {
                None
            },
            percent: segments
                .iter()
                .map(|s| s.percent)
                .reduce(f64::min)
                .unwrap_or(0.0),
            matched_source: join(
                segments
                    .iter()
                    .filter_map(|s| s.matched_source.as_deref())
                    .collect(),
                source,
            ),
            origin: (!origins.is_empty()).then(|| origins.join(" ")),
            unmatched: segments
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.matched)
                .map(|(i, _)| i)
                .collect(),
            converted: matched && segments.iter().any(|s| s.converted),
            segments,
            source,
            target,
            threshold,
        })
    }
}

/// A TranslateReply request in domain terms.
#[derive(Debug, Clone, Default)]
pub struct ReplyParams {
    /// The reply text.
    pub text: String,
    /// Language to translate into (code or locale tag).
    pub target_language: String,
    /// Language of the text; detected when unset.
    pub source_language: Option<String>,
}

/// The result of a translation-memory lookup: the text is looked up sentence by sentence
/// ([`memory::Memory::lookup_segments`]).
#[derive(Debug, Clone)]
pub struct ReplyOutcome {
    /// True when every segment reached the threshold.
    pub matched: bool,
    /// The segments' approved translations joined (no space in Chinese), only when matched.
    pub translation: Option<String>,
    /// The lowest match percentage of the segments (0 when one has no entry near it).
    pub percent: f64,
    /// The segments' closest sources joined, if any.
    pub matched_source: Option<String>,
    /// The segments' origins (`reply:<id>`, `faq:<article id>`), distinct, in order,
    /// separated by spaces.
    pub origin: Option<String>,
    /// Positions in `segments` of the segments below the threshold.
    pub unmatched: Vec<usize>,
    /// True when some of the translation was converted from the other Chinese script (the
    /// memory has no version of some segment in the target's script).
    pub converted: bool,
    /// The text's segments in order, each with its closest entry.
    pub segments: Vec<ReplySegment>,
    /// Language of the text (given or detected).
    pub source: Lang,
    /// The target language tag.
    pub target: Variant,
    /// The match threshold in percent.
    pub threshold: f64,
}

/// One sentence of an agent's text with its closest translation-memory entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplySegment {
    /// The sentence as written (the whole text when the memory holds it whole).
    pub text: String,
    /// True when its closest entry reached the threshold.
    pub matched: bool,
    /// Match percentage of the closest entry (0 when none is near).
    pub percent: f64,
    /// Source text of the closest entry, also below the threshold.
    pub matched_source: Option<String>,
    /// Origin of the closest entry.
    pub origin: Option<String>,
    /// The approved translation, only when matched.
    pub translation: Option<String>,
    /// True when `translation` was converted from the other Chinese script.
    pub converted: bool,
    /// Why a segment at the threshold or above is no match: its numbers or its negation
    /// differ from the entry's ([`memory::text::differences`]).
    pub differs: Option<String>,
    /// For an unmatched segment that the memory holds (closer than any entry with a
    /// translation, numbers and negation agreeing) in no version of the target language:
    /// where it comes from and which languages it has. Also for the closest entry when it
    /// differs (`differs`) and has no version in the target language.
    pub untranslated: Option<String>,
}

/// An unmatched segment that the memory holds as a source, closer than the entry found and
/// at the threshold or above, agreeing with it (`differ`): for a Chinese target, that source
/// is approved Chinese, so it is the translation (converted to the script asked for: user
/// trial, Traditional text to `zh` found nothing though the memory holds it in Simplified);
/// else it has no version in the target language, and the segment says so (`untranslated`)
/// and points at it (user trial: a sentence of a Korean-only article came back as a 37 %
/// no-match against another entry, as if the memory had never seen it). Such a source that
/// does not agree is shown with how it differs (`differs`) and, when it has no version in
/// the target language, says so too.
fn held(
    tm: &memory::Memory,
    segment: ReplySegment,
    source: Lang,
    target: Variant,
    threshold: f64,
    differ: &dyn Fn(&str, &str) -> Option<String>,
) -> ReplySegment {
    let Some((seg, percent)) = tm.closest_source(&segment.text, source) else {
        return segment;
    };
    let differs = differ(&segment.text, &seg.text);
    // A source with a translation into the target was the lookup's to find; one that
    // differs replaces the entry found only when it is closer (review).
    if percent < threshold.max(segment.percent)
        || seg.translation(target).is_some()
        || (differs.is_some() && percent <= segment.percent)
    {
        return segment;
    }
    let has: Vec<&str> = seg.translated_into().map(Variant::tag).collect();
    let languages = if has.is_empty() {
        String::from(": it is in no other language")
    } else {
        format!("; it has {}", has.join(", "))
    };
    let base = ReplySegment {
        percent,
        matched_source: Some(seg.text.clone()),
        origin: Some(seg.origin.clone()),
        differs: None,
        ..segment
    };
    // Close, but stating something else: shown with how it differs, rather than a far
    // entry that has the target (user trial: `오후 7시` against an entry saying `오후 6시`
    // with no English version showed an unrelated 30 % entry).
    if let Some(differs) = differs {
        return ReplySegment {
            differs: Some(differs),
            untranslated: (seg.variant.lang() != target.lang()).then(|| {
                format!(
                    "the closest entry ({percent:.0} %, {} {}) has no approved {} version{languages}",
                    seg.origin,
                    seg.variant.tag(),
                    target.tag(),
                )
            }),
            ..base
        };
    }
    if seg.variant.lang() == target.lang() {
        // In the script asked for, the approved text as written (the tables would also
        // rewrite a Simplified `帐户`).
        let converted = seg.variant != target;
        return ReplySegment {
            matched: true,
            translation: Some(if converted {
                translate::to_script(&seg.text, target)
            } else {
                seg.text.clone()
            }),
            converted,
            ..base
        };
    }
    ReplySegment {
        untranslated: Some(format!(
            "the memory holds it ({percent:.0} %, {} {}) with no approved {} version{languages}",
            seg.origin,
            seg.variant.tag(),
            target.tag(),
        )),
        ..base
    }
}

/// Says how the glossary's terms of a text differ from an entry's (`withdrawal` written
/// where the entry says `deposit`), `None` when both name the same concepts.
fn term_differences(g: &Glossary, text: &str, entry: &str, lang: Lang) -> Option<String> {
    let (ours, theirs) = (g.present(text, lang), g.present(entry, lang));
    if ours == theirs {
        return None;
    }
    let only = |a: &std::collections::HashSet<usize>, b: &std::collections::HashSet<usize>| {
        let mut names: Vec<&str> = a
            .difference(b)
            .map(|&c| g.concepts()[c].name.as_str())
            .collect();
        names.sort_unstable();
        names.join(", ")
    };
    let (ours, theirs) = (only(&ours, &theirs), only(&theirs, &ours));
    Some(match (ours.is_empty(), theirs.is_empty()) {
        (false, false) => {
            format!("it names {ours} where the entry names {theirs} (glossary terms)")
        }
        (false, true) => format!("it names {ours}, which the entry does not (glossary terms)"),
        _ => format!("the entry names {theirs}, which it does not (glossary terms)"),
    })
}

/// An article as GetArticle returns it.
#[derive(Debug, Clone)]
pub struct ArticleOutcome {
    /// The version in the language asked for; when it has none, the English version, else
    /// the first; without a language asked for, the first.
    pub chosen: Option<Version>,
    /// Every version, ordered by language.
    pub versions: Vec<Version>,
    /// True when a language was asked for and the article has no version in it (nor in the
    /// other Chinese script).
    pub language_missing: bool,
}

fn validate_text<'a>(field: &'static str, text: &'a str) -> Result<&'a str, EngineError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(EngineError::InvalidArgument {
            field,
            message: "must not be empty".into(),
        });
    }
    let n = t.chars().count();
    if n > MAX_QUERY_CHARS {
        return Err(EngineError::InvalidArgument {
            field,
            message: format!("is {n} characters long; the limit is {MAX_QUERY_CHARS}"),
        });
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::unknown_category;
    use std::collections::BTreeSet;

    #[test]
    fn an_unknown_categorys_message_quotes_its_start_and_what_fits_of_the_known() {
        let known: BTreeSet<String> = [
            "account",
            "api",
            "deposits-withdrawals",
            "events",
            "fees",
            "kyc",
        ]
        .map(String::from)
        .into();
        let m = unknown_category("deposit-withdrawals", &known);
        assert_eq!(
            m,
            "no article has \"deposit-withdrawals\": did you mean \"deposits-withdrawals\"? \
             (categories match exactly)"
        );
        // The same but for case comes first, however it sorts (user trial: `Fees` was told
        // "account, api, deposits-withdrawals, …").
        assert_eq!(
            unknown_category("Fees", &known),
            "no article has \"Fees\": did you mean \"fees\"? (categories match exactly)"
        );
        assert_eq!(
            unknown_category("refunds", &known),
            "no article has \"refunds\" (6 categories: events, fees, deposits-withdrawals, …)"
        );
        let long = unknown_category(&"y".repeat(1000), &known);
        assert!(long.contains(&format!("\"{}…\"", "y".repeat(24))), "{long}");
        assert!(long.chars().count() + "category: ".len() <= 110, "{long}");
        let one: BTreeSet<String> = ["z".repeat(200)].into();
        assert_eq!(
            unknown_category("a", &one),
            format!("no article has \"a\" (1 category: {}…)", "z".repeat(24))
        );
        assert_eq!(
            unknown_category("a", &BTreeSet::new()),
            "no article has a category (asked for \"a\")"
        );
    }
}
