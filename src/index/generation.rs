//! Index generations: `ROOT/gen-000001/` holds a tantivy index and `faqd-meta.json`;
//! `ROOT/CURRENT` names the generation being served. A build writes a `.tmp-*` directory,
//! commits, renames it into place, then replaces `CURRENT` by rename, so a crash or a bad dump
//! at any point leaves the served generation as it was.

use super::documents::{add_article, load_doc_refs, load_groups, DocRef};
use super::faults::{self, Step};
use super::postings::{
    field_stats, FieldMap, FieldReaders, FieldStats, Lexicon, Segments, COMMON_BYTES,
};
use super::schema::Fields;
use super::{io_err, IndexError};
use crate::analysis::{self, Kind};
use crate::ingest::Article;
use crate::lang::Lang;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tantivy::{Index, IndexReader, ReloadPolicy};

const CURRENT: &str = "CURRENT";
const META: &str = "faqd-meta.json";
const TMP_PREFIX: &str = ".tmp-";
const LOCK: &str = ".lock";
/// Version of the index layout (schema, analyzers, and the function-word lists answer
/// sentences and phrasings are indexed without: bump it when the `stop-words` crate's lists
/// or the Korean analyzer's function stems change). 4: phrasings' word fields without
/// function words, kept apart per document. 5: Korean request words (`방법`, `알려주세요`,
/// ...) analysed as function words. 6: Chinese `帐` folded with `账`. 7: Chinese Taiwan
/// words folded with the mainland's (`身分` with `身份`, `網路` with `网络`). 8: only where
/// jieba cuts them as words. Part of every
/// fingerprint, so a faqd that indexes differently rebuilds the shipped knowledge base (and
/// the dumps `serve --source` names) instead of opening an index it cannot read; an index
/// built from other dumps and served without them is kept, with a warning
/// ([`indexed_as_now`]).
const INDEX_FORMAT: u32 = 8;

/// What is recorded about a generation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Meta {
    /// Generation number, increasing.
    pub generation: u64,
    /// Fingerprint of the sources it was built from.
    pub fingerprint: String,
    /// Names of the sources.
    pub sources: Vec<String>,
    /// Article versions per language tag.
    pub articles: BTreeMap<String, usize>,
    /// Build wall time in milliseconds.
    pub build_ms: u64,
    /// When it was built, seconds since the epoch.
    pub built_at: i64,
    /// Admin edits (upserts, deletes) applied since it was last built from its sources.
    #[serde(default)]
    pub edits: u64,
    /// Records of its sources left out as invalid (`--skip-invalid`, `skip_invalid`).
    #[serde(default)]
    pub skipped_records: usize,
    /// Their problems, as `file:line: field `x`: problem`: the first [`KEPT_PROBLEMS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// The article ids its admin edits touched, sorted: the first [`KEPT_PROBLEMS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edited: Vec<String>,
}

/// Most skipped records' problems a generation's metadata keeps.
pub const KEPT_PROBLEMS: usize = 100;

impl Meta {
    /// Returns when it was built, RFC 3339 (empty if the time cannot be shown).
    pub fn built_at_rfc3339(&self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.built_at)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }
}

/// What a generation is built from: recorded in its [`Meta`].
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// Fingerprint of the sources (kept unchanged by admin edits).
    pub fingerprint: String,
    /// Names of the sources.
    pub sources: Vec<String>,
    /// Admin edits applied on top of the sources.
    pub edits: u64,
    /// Records of the sources left out as invalid, and the first [`KEPT_PROBLEMS`] of their
    /// problems (user trial: after a restart nothing said a build had skipped any).
    pub skipped: (usize, Vec<String>),
    /// The article ids admin edits touched (see [`Meta::edited`]).
    pub edited: Vec<String>,
}

/// An exclusive lock on an index root, held while a generation is built and published so
/// that concurrent builders (several `faqd index` runs, admin edits in several servers) take
/// turns, number generations without clashing, and never remove each other's temporary
/// directories. The operating system releases it when the process dies, even by SIGKILL.
pub struct RootLock {
    root: PathBuf,
    _file: fs::File,
}

impl RootLock {
    /// Waits for the lock on `root` (created if missing), then removes the temporary
    /// directories that crashed or killed builds left behind.
    pub fn acquire(root: &Path) -> Result<RootLock, IndexError> {
        fs::create_dir_all(root).map_err(io_err("create", root))?;
        let path = root.join(LOCK);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err("open", &path))?;
        file.lock().map_err(io_err("lock", &path))?;
        let lock = RootLock {
            root: root.to_path_buf(),
            _file: file,
        };
        clean_temporaries(&lock)?;
        Ok(lock)
    }

    /// Takes the lock only if no one holds it (a build is running otherwise).
    pub fn try_acquire(root: &Path) -> Result<Option<RootLock>, IndexError> {
        let path = root.join(LOCK);
        let file = match fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("open", &path)(e)),
        };
        match file.try_lock() {
            Ok(()) => {
                let lock = RootLock {
                    root: root.to_path_buf(),
                    _file: file,
                };
                clean_temporaries(&lock)?;
                Ok(Some(lock))
            }
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(io_err("lock", &path)(e)),
        }
    }

    /// The locked root.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Reports (done, total) articles while a generation is built.
pub type Progress = std::sync::Arc<dyn Fn(usize, usize) + Send + Sync>;

/// Options for building a generation.
#[derive(Clone)]
pub struct BuildOptions {
    /// How many published generations to keep (at least 1).
    pub keep: usize,
    /// Called with (done, total) while documents are added.
    pub progress: Option<Progress>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            keep: 3,
            progress: None,
        }
    }
}

/// An opened, searchable generation with its articles grouped by id.
pub struct Generation {
    /// Its metadata.
    pub meta: Meta,
    /// The tantivy index.
    pub index: Index,
    /// A reader on it.
    pub reader: IndexReader,
    /// Field handles.
    pub fields: Fields,
    /// Every article version, grouped by id, versions ordered by language tag.
    pub groups: Vec<Vec<Arc<Article>>>,
    /// Group index by article id.
    pub by_id: HashMap<String, u32>,
    /// What each document is, by its slot ([`Segments`]).
    pub doc_refs: Vec<DocRef>,
    /// Statistics of every text field, for ranking.
    pub stats: FieldMap<FieldStats>,
    /// Readers of every text field per segment, opened once (the generation's segments never
    /// change: an edit opens a new generation).
    pub readers: FieldMap<FieldReaders>,
    /// Per segment: each phrasing's function words ([`Fields::function_words`]); none in a
    /// segment without any (a Korean knowledge base).
    pub function_words: Vec<Option<tantivy::columnar::Column<u64>>>,
    /// Where each segment's documents start across segments, which are deleted, and each
    /// document's slot (shared with every field's readers).
    pub segments: Arc<Segments>,
    /// Per language and analysis: the terms looked up, with their postings.
    pub(super) lexicons: FxHashMap<(Lang, Kind), Lexicon>,
    /// Whether the knowledge base holds documents rather than FAQ entries
    /// ([`holds_documents`]).
    pub documents: bool,
    /// Every category an article version has (a search limited to another is refused).
    pub categories: BTreeSet<String>,
    /// Per language, the hash of each title's and question's [`analysis::phrasing_key`] and
    /// its group (`u32::MAX` when articles share it): see [`Generation::phrased`].
    phrasings: FxHashMap<u64, u32>,
}

/// Returns the hash a wording is kept under in [`Generation::phrased`]'s table.
fn phrasing_hash(lang: Lang, key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    (lang, key).hash(&mut h);
    h.finish()
}

/// Returns `a`'s titles' and questions' keys.
fn keys_of(a: &Article) -> impl Iterator<Item = String> + '_ {
    std::iter::once(&a.title)
        .chain(&a.questions)
        .map(|text| analysis::phrasing_key(text, a.lang.lang()))
        .filter(|key| !key.is_empty())
}

/// Returns the hash of each title's and question's key, with its group (`u32::MAX` for a
/// wording two groups share). Hashes, not the texts, keep it small on a large knowledge base.
fn phrasings_of(groups: &[Vec<Arc<Article>>]) -> FxHashMap<u64, u32> {
    let mut out: FxHashMap<u64, u32> = FxHashMap::default();
    for (g, versions) in groups.iter().enumerate() {
        for a in versions {
            for key in keys_of(a) {
                let slot = out
                    .entry(phrasing_hash(a.lang.lang(), &key))
                    .or_insert(g as u32);
                if *slot != g as u32 {
                    *slot = u32::MAX;
                }
            }
        }
    }
    out
}

/// Shortest answer, in characters, of an article that reads as a document.
pub const DOCUMENT_CHARS: usize = 200;

/// Returns true when most article versions are documents: passages of at least
/// [`DOCUMENT_CHARS`] characters under a title, with no other phrasings of a question (an FAQ
/// entry has those, or a short answer). Hybrid ranking weighs words more for documents.
pub fn holds_documents(groups: &[Vec<Arc<Article>>]) -> bool {
    let (mut versions, mut documents) = (0usize, 0usize);
    for a in groups.iter().flatten() {
        versions += 1;
        if a.questions.is_empty() && a.answer.chars().nth(DOCUMENT_CHARS - 1).is_some() {
            documents += 1;
        }
    }
    documents * 2 > versions
}

impl Generation {
    /// Returns the group whose version in `lang` has `text` as its title or one of its
    /// questions (spacing, punctuation and case aside), unless two groups share that wording.
    pub fn phrased(&self, lang: Lang, text: &str) -> Option<u32> {
        let key = analysis::phrasing_key(text, lang);
        if key.is_empty() {
            return None;
        }
        let g = *self.phrasings.get(&phrasing_hash(lang, &key))?;
        // The table holds hashes: the group must have the wording itself.
        let versions = self.groups.get(g as usize)?;
        versions
            .iter()
            .filter(|a| a.lang.lang() == lang)
            .any(|a| keys_of(a).any(|k| k == key))
            .then_some(g)
    }

    /// Returns the versions of an article, if it exists.
    pub fn group(&self, id: &str) -> Option<&[Arc<Article>]> {
        self.by_id
            .get(id)
            .map(|&g| self.groups[g as usize].as_slice())
    }

    /// Returns true when some article has a version in `lang`.
    pub fn has_language(&self, lang: Lang) -> bool {
        self.meta.articles.iter().any(|(tag, &n)| {
            n > 0 && crate::lang::Variant::parse(tag).is_ok_and(|v| v.lang() == lang)
        })
    }

    /// Returns the total number of article versions.
    pub fn article_count(&self) -> usize {
        self.groups.iter().map(Vec::len).sum()
    }
}

fn gen_dir_name(n: u64) -> String {
    format!("gen-{n:06}")
}

/// Returns the number of the generation `CURRENT` points to, if any.
pub fn current_generation(root: &Path) -> Result<Option<u64>, IndexError> {
    let path = root.join(CURRENT);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("read", &path)(e)),
    };
    let name = text.trim();
    name.strip_prefix("gen-")
        .and_then(|n| n.parse().ok())
        .map(Some)
        .ok_or_else(|| IndexError::Corrupt {
            path,
            message: format!("expected gen-NNNNNN, found {name:?}"),
        })
}

/// Removes what builds that crashed or were killed left behind: temporary generation
/// directories and temporary `CURRENT` files (only under the lock, so a running build's
/// temporaries are never touched).
fn clean_temporaries(lock: &RootLock) -> Result<usize, IndexError> {
    let Ok(entries) = fs::read_dir(&lock.root) else {
        return Ok(0);
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with(TMP_PREFIX) {
            let path = entry.path();
            remove_any(&path).map_err(io_err("remove", &path))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes a file, a symbolic link or a directory tree (the link itself, never its target).
fn remove_any(path: &Path) -> std::io::Result<()> {
    let removed = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match removed {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Reads the metadata of the generation `CURRENT` points to, if there is one.
pub fn current_meta(root: &Path) -> Result<Option<Meta>, IndexError> {
    match current_generation(root)? {
        None => Ok(None),
        Some(n) => read_meta(&root.join(gen_dir_name(n))).map(Some),
    }
}

fn read_meta(dir: &Path) -> Result<Meta, IndexError> {
    let meta_path = dir.join(META);
    let meta_text = fs::read_to_string(&meta_path).map_err(io_err("read", &meta_path))?;
    serde_json::from_str(&meta_text).map_err(|e| IndexError::Corrupt {
        path: meta_path,
        message: e.to_string(),
    })
}

/// Opens the generation `CURRENT` points to, after verifying its checksums.
pub fn open_current(root: &Path) -> Result<Generation, IndexError> {
    let n =
        current_generation(root)?.ok_or_else(|| IndexError::NoGeneration(root.to_path_buf()))?;
    open_generation(&root.join(gen_dir_name(n)))
}

/// A generation opened to be served, and why it is not the one `CURRENT` names, if it is not.
pub struct Served {
    /// The generation.
    pub generation: Generation,
    /// What was wrong with `CURRENT` or the generation it names, when an older complete
    /// generation is served instead.
    pub fallback: Option<IndexError>,
}

/// Opens the generation to serve: the one `CURRENT` names; when `CURRENT` is missing or
/// garbled, or its generation is missing, incomplete or fails to open or verify, the newest
/// other generation that opens and verifies (reported in [`Served::fallback`]; `CURRENT` is
/// left as it is: repointing it is the operator's call). Fails with the first problem when
/// no generation opens.
pub fn open_served(root: &Path) -> Result<Served, IndexError> {
    let (named, problem) = match current_generation(root) {
        Ok(Some(n)) => match open_generation(&root.join(gen_dir_name(n))) {
            Ok(generation) => {
                return Ok(Served {
                    generation,
                    fallback: None,
                })
            }
            Err(e) => (Some(n), e),
        },
        Ok(None) if generations(root)?.is_empty() => {
            return Err(IndexError::NoGeneration(root.to_path_buf()))
        }
        Ok(None) => (
            None,
            IndexError::Corrupt {
                path: root.join(CURRENT),
                message: "missing, though the root holds generations".into(),
            },
        ),
        Err(e) => (None, e),
    };
    let mut newest_failure = None;
    for n in generations(root)?.into_iter().rev() {
        if Some(n) == named {
            continue;
        }
        match open_generation(&root.join(gen_dir_name(n))) {
            Ok(generation) => {
                return Ok(Served {
                    generation,
                    fallback: Some(problem),
                })
            }
            Err(e) => {
                tracing::warn!(generation = n, error = %e, "generation not usable");
                newest_failure.get_or_insert(e);
            }
        }
    }
    // Without a `CURRENT` naming one, the reason the generations are not usable says more.
    Err(match (named, newest_failure) {
        (None, Some(e)) => e,
        _ => problem,
    })
}

/// Returns true when `root` holds neither a `CURRENT` pointer nor a generation directory (a
/// first start: the only root the shipped knowledge base is built into unasked).
pub fn is_empty_root(root: &Path) -> Result<bool, IndexError> {
    if !root.exists() {
        return Ok(true);
    }
    Ok(!root.join(CURRENT).exists() && generations(root)?.is_empty())
}

/// Returns the numbers of the generation directories under `root`, in increasing order.
fn generations(root: &Path) -> Result<Vec<u64>, IndexError> {
    let mut gens: Vec<u64> = fs::read_dir(root)
        .map_err(io_err("list", root))?
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_prefix("gen-")?
                .parse()
                .ok()
        })
        .collect();
    gens.sort_unstable();
    Ok(gens)
}

/// Points `CURRENT` at generation `n`, which must open and verify (the operator's repair
/// after [`open_served`] fell back).
pub fn repoint_current(lock: &RootLock, n: u64) -> Result<(), IndexError> {
    open_generation(&generation_dir(lock.root(), n))?;
    publish(lock.root(), n)
}

/// Verifies the checksum tantivy keeps at the end of every file of a generation's segments,
/// so a generation with a garbled byte is never published or served. Returns the files that
/// fail, as an error naming them.
pub fn verify(dir: &Path) -> Result<(), IndexError> {
    let checked = std::panic::catch_unwind(|| -> Result<_, IndexError> {
        let index = Index::open_in_dir(dir)?;
        Ok(index.validate_checksum()?)
    })
    .map_err(|panic| corrupt_panic(dir, panic))?;
    let mut damaged: Vec<String> = checked?
        .into_iter()
        .map(|p| p.display().to_string())
        .collect();
    if damaged.is_empty() {
        return Ok(());
    }
    damaged.sort();
    Err(IndexError::Corrupt {
        path: dir.to_path_buf(),
        message: format!("checksum mismatch in {}", damaged.join(", ")),
    })
}

/// Reports a panic of tantivy while reading a generation as corruption.
fn corrupt_panic(dir: &Path, panic: Box<dyn std::any::Any + Send>) -> IndexError {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    IndexError::Corrupt {
        path: dir.to_path_buf(),
        message: format!("unreadable index ({what})"),
    }
}

/// Opens a generation after verifying its checksums; a panic of tantivy on a damaged file
/// the checksums missed is reported as corruption, never propagated.
fn open_generation(dir: &Path) -> Result<Generation, IndexError> {
    let started = Instant::now();
    verify(dir)?;
    tracing::debug!(
        dir = %dir.display(),
        us = started.elapsed().as_micros() as u64,
        "verified checksums"
    );
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| open_verified(dir)))
        .map_err(|panic| corrupt_panic(dir, panic))?
}

fn open_verified(dir: &Path) -> Result<Generation, IndexError> {
    let meta = read_meta(dir)?;
    let index = Index::open_in_dir(dir)?;
    analysis::register(index.tokenizers());
    let fields = Fields::from_schema(&index.schema())?;
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    let groups = load_groups(&reader, &fields)?;
    let mut ids: Vec<&String> = groups.keys().collect();
    ids.sort();
    let by_id: HashMap<String, u32> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| ((*id).clone(), i as u32))
        .collect();
    let doc_refs = load_doc_refs(&reader, &by_id)?;
    let segments = Arc::new(Segments::of(&reader.searcher(), &doc_refs));
    let doc_refs = segments.by_slot(&doc_refs);
    let (stats, readers) = field_stats(&reader, &fields, &doc_refs, &segments)?;
    let function_words = reader
        .searcher()
        .segment_readers()
        .iter()
        .map(|seg| seg.fast_fields().column_opt("function_words"))
        .collect::<tantivy::Result<_>>()?;
    let lexicons = Lang::ALL
        .into_iter()
        .flat_map(|lang| Kind::for_lang(lang).iter().map(move |&kind| (lang, kind)))
        .map(|key| (key, Lexicon::default()))
        .collect();
    let mut ordered = vec![Vec::new(); by_id.len()];
    for (id, versions) in groups {
        ordered[by_id[&id] as usize] = versions;
    }
    let documents = holds_documents(&ordered);
    let categories = ordered
        .iter()
        .flatten()
        .filter(|a| !a.category.is_empty())
        .map(|a| a.category.clone())
        .collect();
    let phrasings = phrasings_of(&ordered);
    let mut generation = Generation {
        meta,
        index,
        reader,
        fields,
        groups: ordered,
        by_id,
        doc_refs,
        stats,
        readers,
        function_words,
        segments,
        lexicons,
        documents,
        categories,
        phrasings,
    };
    let started = Instant::now();
    let warmed = generation
        .warm(COMMON_BYTES)
        .map_err(io_err("read the commonest terms of", dir))?;
    tracing::debug!(
        generation = generation.meta.generation,
        terms = warmed,
        ms = started.elapsed().as_millis() as u64,
        "decoded the commonest terms"
    );
    Ok(generation)
}

/// Returns a fingerprint of source texts (FNV-1a, 64 bits), to tell whether an index is up to
/// date with its sources.
pub fn fingerprint<'a>(texts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = analysis::FNV_OFFSET;
    for t in texts {
        h = analysis::fnv1a(analysis::fnv1a(h, t), &[0xff]);
    }
    format!("{h:016x}-v{}-f{INDEX_FORMAT}", env!("CARGO_PKG_VERSION"))
}

/// Returns true when a generation's fingerprint says it was indexed as this faqd indexes
/// ([`INDEX_FORMAT`]); a generation of another format still opens, but its words were
/// analysed otherwise than the queries it is asked.
pub fn indexed_as_now(fingerprint: &str) -> bool {
    fingerprint.ends_with(&format!("-f{INDEX_FORMAT}"))
}

/// Builds a new generation from articles and publishes it; returns its metadata. The lock
/// proves the caller holds the root.
pub fn build_generation(
    lock: &RootLock,
    articles: &[Article],
    provenance: Provenance,
    opts: &BuildOptions,
) -> Result<Meta, IndexError> {
    publish_new(lock, articles, provenance, opts, |dir| {
        write_index(dir, articles, opts)
    })
}

/// Publishes a generation that differs from `base` only in the articles whose ids are in
/// `touched`: `articles` is the complete new set. The new directory starts as hard links to
/// `base`'s immutable segment files; the touched ids' documents are deleted and re-added, so
/// the cost follows the size of the change, not of the knowledge base. Segments are merged
/// back into one once deleted documents make up a tenth of the index (until then they still
/// count in term statistics, so scores and confidences drift slightly from a fresh build's).
pub fn edit_generation(
    lock: &RootLock,
    base: &Generation,
    articles: &[Article],
    touched: &HashSet<String>,
    provenance: Provenance,
    opts: &BuildOptions,
) -> Result<Meta, IndexError> {
    let base_dir = lock.root().join(gen_dir_name(base.meta.generation));
    publish_new(lock, articles, provenance, opts, |dir| {
        for entry in fs::read_dir(&base_dir).map_err(io_err("list", &base_dir))? {
            let entry = entry.map_err(io_err("list", &base_dir))?;
            let name = entry.file_name();
            let name_str = name.to_string_lossy();
            if name_str == META || name_str.ends_with(".lock") {
                continue;
            }
            let (from, to) = (entry.path(), dir.join(&name));
            if fs::hard_link(&from, &to).is_err() {
                fs::copy(&from, &to).map_err(io_err("copy", &from))?;
            }
        }
        let index = Index::open_in_dir(dir)?;
        analysis::register(index.tokenizers());
        let mut writer: tantivy::IndexWriter = index.writer(50_000_000)?;
        for id in touched {
            writer.delete_term(tantivy::Term::from_field_text(base.fields.id, id));
        }
        for article in articles.iter().filter(|a| touched.contains(&a.id)) {
            if let Err(e) = add_article(&writer, &base.fields, article) {
                return Err(worker_error(&mut writer, e));
            }
        }
        writer.commit()?;
        // Read once, here: a reader that reloads on commits watches the directory, which is
        // renamed into place next, and logged an ERROR when it found it gone (user trial).
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        let (deleted, total) = searcher.segment_readers().iter().fold((0, 0), |(d, t), s| {
            (d + s.num_deleted_docs(), t + s.max_doc())
        });
        let segments = index.searchable_segment_ids()?;
        if (deleted > 0 && deleted * 10 >= total) || segments.len() > 8 {
            writer.merge(&segments).wait()?;
        }
        writer.wait_merging_threads()?;
        Ok(())
    })
}

/// Writes a generation into a fresh temporary directory with `fill`, then records its
/// metadata, renames it into place and points `CURRENT` at it.
fn publish_new(
    lock: &RootLock,
    articles: &[Article],
    provenance: Provenance,
    opts: &BuildOptions,
    fill: impl FnOnce(&Path) -> Result<(), IndexError>,
) -> Result<Meta, IndexError> {
    if articles.is_empty() {
        return Err(IndexError::Empty);
    }
    let start = Instant::now();
    let root = lock.root();
    let next = latest_generation(root)? + 1;
    let tmp = root.join(format!(
        "{TMP_PREFIX}{}-{}",
        gen_dir_name(next),
        std::process::id()
    ));
    fs::create_dir_all(&tmp).map_err(io_err("create", &tmp))?;
    let written = (|| -> Result<Meta, IndexError> {
        faults::check(root, Step::WriteIndex).map_err(io_err("write the index in", &tmp))?;
        fill(&tmp).map_err(|e| e.writing(&tmp))?;
        let started = Instant::now();
        verify(&tmp)?;
        tracing::debug!(
            us = started.elapsed().as_micros() as u64,
            "verified the new generation's checksums"
        );
        let mut counts = BTreeMap::new();
        for a in articles {
            *counts.entry(a.lang.tag().to_string()).or_insert(0) += 1;
        }
        let meta = Meta {
            generation: next,
            fingerprint: provenance.fingerprint,
            sources: provenance.sources,
            articles: counts,
            build_ms: start.elapsed().as_millis() as u64,
            built_at: time::OffsetDateTime::now_utc().unix_timestamp(),
            edits: provenance.edits,
            skipped_records: provenance.skipped.0,
            skipped: provenance.skipped.1,
            edited: provenance.edited,
        };
        let meta_path = tmp.join(META);
        faults::check(root, Step::WriteMeta)
            .and_then(|()| {
                fs::write(
                    &meta_path,
                    serde_json::to_vec_pretty(&meta).expect("meta serialises"),
                )
            })
            .map_err(io_err("write", &meta_path))?;
        Ok(meta)
    })();
    // A failed publish removes what it wrote: the next run finds the root as it was.
    let meta = written.inspect_err(|_| {
        let _ = remove_any(&tmp);
    })?;
    let final_dir = root.join(gen_dir_name(next));
    if let Err(e) = fs::rename(&tmp, &final_dir) {
        let _ = remove_any(&tmp);
        return Err(io_err("rename", &tmp)(e));
    }
    if let Err(e) = publish(root, next) {
        // `CURRENT` still names the previous generation: this one was never served.
        let _ = remove_any(&final_dir);
        return Err(e);
    }
    prune(root, next, opts.keep.max(1));
    Ok(meta)
}

fn write_index(dir: &Path, articles: &[Article], opts: &BuildOptions) -> Result<(), IndexError> {
    let (schema, fields) = Fields::schema();
    let index = Index::create_in_dir(dir, schema)?;
    analysis::register(index.tokenizers());
    let mut writer: tantivy::IndexWriter = index.writer(200_000_000)?;
    for (i, article) in articles.iter().enumerate() {
        if let Err(e) = add_article(&writer, &fields, article) {
            return Err(worker_error(&mut writer, e));
        }
        if let Some(progress) = &opts.progress {
            if i % 1000 == 999 || i + 1 == articles.len() {
                progress(i + 1, articles.len());
            }
        }
    }
    writer.commit()?;
    // The index is read-mostly: one segment makes every search cheaper.
    let segments = index.searchable_segment_ids()?;
    if segments.len() > 1 {
        writer.merge(&segments).wait()?;
    }
    writer.wait_merging_threads()?;
    Ok(())
}

/// Returns the error that stopped an indexing worker (tantivy reports only "the index
/// writer was killed" to the caller; committing joins the workers and returns theirs, e.g.
/// the disk being full), or `e` when there is none.
fn worker_error(writer: &mut tantivy::IndexWriter, e: IndexError) -> IndexError {
    match writer.commit() {
        Err(worker) => IndexError::Tantivy(worker),
        Ok(_) => e,
    }
}

fn latest_generation(root: &Path) -> Result<u64, IndexError> {
    // A garbled `CURRENT` does not stop a build: publishing repairs it.
    let mut max = current_generation(root).ok().flatten().unwrap_or(0);
    for entry in fs::read_dir(root).map_err(io_err("list", root))?.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(n) = name
            .strip_prefix("gen-")
            .and_then(|n| n.parse::<u64>().ok())
        {
            max = max.max(n);
        }
    }
    Ok(max)
}

/// Points `CURRENT` at generation `n` atomically (write a temporary file, fsync, rename).
fn publish(root: &Path, n: u64) -> Result<(), IndexError> {
    let tmp = root.join(format!("{TMP_PREFIX}CURRENT-{}", std::process::id()));
    {
        use std::io::Write;
        let written = fs::File::create(&tmp).and_then(|mut f| {
            f.write_all(gen_dir_name(n).as_bytes())?;
            faults::check(root, Step::SyncCurrent)?;
            f.sync_all()
        });
        if let Err(e) = written {
            let _ = remove_any(&tmp);
            return Err(io_err("write", &tmp)(e));
        }
    }
    let renamed = faults::check(root, Step::RenameCurrent)
        .and_then(|()| fs::rename(&tmp, root.join(CURRENT)));
    if let Err(e) = renamed {
        let _ = remove_any(&tmp);
        return Err(io_err("rename", &tmp)(e));
    }
    if let Ok(d) = fs::File::open(root) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes generations older than the newest `keep`, never the current one.
fn prune(root: &Path, current: u64, keep: usize) {
    let Ok(gens) = generations(root) else {
        return;
    };
    for n in gens.into_iter().rev().skip(keep) {
        if n != current {
            let _ = fs::remove_dir_all(root.join(gen_dir_name(n)));
        }
    }
}

/// Returns the path of a generation directory (for tools and tests).
pub fn generation_dir(root: &Path, n: u64) -> PathBuf {
    root.join(gen_dir_name(n))
}

#[cfg(test)]
mod tests {
    use super::{phrasing_hash, phrasings_of};
    use crate::analysis::phrasing_key;
    use crate::ingest::Article;
    use crate::lang::Lang;
    use std::sync::Arc;

    fn article(id: &str, lang: &str, title: &str, questions: &[&str]) -> Arc<Article> {
        let json = serde_json::json!({
            "id": id, "lang": lang, "title": title, "questions": questions, "answer": "a",
        });
        Arc::new(serde_json::from_value(json).expect("article"))
    }

    #[test]
    fn a_wording_belongs_to_its_article_unless_two_articles_list_it() {
        let groups = vec![
            vec![
                article(
                    "otp",
                    "ko",
                    "OTP 재설정",
                    &["OTP 번호 알려줘도 되나요", "인증 코드"],
                ),
                article("otp", "en", "Reset OTP", &["Is it ok to share my OTP?"]),
            ],
            vec![article("code", "ko", "인증코드 안내", &["인증 코드"])],
        ];
        let map = phrasings_of(&groups);
        let get = |lang, text| {
            map.get(&phrasing_hash(lang, &phrasing_key(text, lang)))
                .copied()
        };
        assert_eq!(get(Lang::Ko, "otp번호 알려줘도 되나요?"), Some(0));
        assert_eq!(get(Lang::En, "is it OK to share my otp"), Some(0));
        assert_eq!(get(Lang::Ko, "인증코드 안내"), Some(1));
        // Listed by both articles: no article's own.
        assert_eq!(get(Lang::Ko, "인증 코드"), Some(u32::MAX));
        // Another language's wording is not this language's.
        assert_eq!(get(Lang::En, "OTP 재설정"), None);
    }
}
