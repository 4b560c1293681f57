//! Index generations: `ROOT/gen-000001/` holds a tantivy index and `faqd-meta.json`;
//! `ROOT/CURRENT` names the generation being served. A build writes a `.tmp-*` directory,
//! commits, renames it into place, then replaces `CURRENT` by rename, so a crash or a bad dump
//! at any point leaves the served generation as it was.

use super::documents::{add_article, load_doc_refs, load_groups, DocRef};
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
use std::collections::{BTreeMap, HashMap, HashSet};
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
/// change). 4: phrasings' word fields without function words, kept apart per document. Part
/// of every fingerprint, so a faqd that indexes differently rebuilds the shipped knowledge
/// base (and the dumps it is given) instead of opening an index it cannot read.
const INDEX_FORMAT: u32 = 4;

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
}

impl Generation {
    /// Returns the versions of an article, if it exists.
    pub fn group(&self, id: &str) -> Option<&[Arc<Article>]> {
        self.by_id
            .get(id)
            .map(|&g| self.groups[g as usize].as_slice())
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

/// Removes directories left by builds that crashed or were killed (only under the lock, so a
/// running build's directory is never touched).
fn clean_temporaries(lock: &RootLock) -> Result<usize, IndexError> {
    let Ok(entries) = fs::read_dir(&lock.root) else {
        return Ok(0);
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with(TMP_PREFIX) {
            fs::remove_dir_all(entry.path()).map_err(io_err("remove", entry.path()))?;
            removed += 1;
        }
    }
    Ok(removed)
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

/// Opens the generation `CURRENT` points to.
pub fn open_current(root: &Path) -> Result<Generation, IndexError> {
    let n =
        current_generation(root)?.ok_or_else(|| IndexError::NoGeneration(root.to_path_buf()))?;
    open_generation(&root.join(gen_dir_name(n)))
}

fn open_generation(dir: &Path) -> Result<Generation, IndexError> {
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
            add_article(&writer, &base.fields, article)?;
        }
        writer.commit()?;
        let reader = index.reader()?;
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
    if let Err(e) = fill(&tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
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
    };
    let meta_path = tmp.join(META);
    fs::write(
        &meta_path,
        serde_json::to_vec_pretty(&meta).expect("meta serialises"),
    )
    .map_err(io_err("write", &meta_path))?;
    let final_dir = root.join(gen_dir_name(next));
    fs::rename(&tmp, &final_dir).map_err(io_err("rename", &tmp))?;
    publish(root, next)?;
    prune(root, next, opts.keep.max(1));
    Ok(meta)
}

fn write_index(dir: &Path, articles: &[Article], opts: &BuildOptions) -> Result<(), IndexError> {
    let (schema, fields) = Fields::schema();
    let index = Index::create_in_dir(dir, schema)?;
    analysis::register(index.tokenizers());
    let mut writer: tantivy::IndexWriter = index.writer(200_000_000)?;
    for (i, article) in articles.iter().enumerate() {
        add_article(&writer, &fields, article)?;
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

fn latest_generation(root: &Path) -> Result<u64, IndexError> {
    let mut max = current_generation(root)?.unwrap_or(0);
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
        let mut f = fs::File::create(&tmp).map_err(io_err("create", &tmp))?;
        f.write_all(gen_dir_name(n).as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(io_err("write", &tmp))?;
    }
    fs::rename(&tmp, root.join(CURRENT)).map_err(io_err("rename", &tmp))?;
    if let Ok(d) = fs::File::open(root) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes generations older than the newest `keep`, never the current one.
fn prune(root: &Path, current: u64, keep: usize) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    let mut gens: Vec<u64> = entries
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_prefix("gen-")?
                .parse()
                .ok()
        })
        .collect();
    gens.sort_unstable_by(|a, b| b.cmp(a));
    for n in gens.into_iter().skip(keep) {
        if n != current {
            let _ = fs::remove_dir_all(root.join(gen_dir_name(n)));
        }
    }
}

/// Returns the path of a generation directory (for tools and tests).
pub fn generation_dir(root: &Path, n: u64) -> PathBuf {
    root.join(gen_dir_name(n))
}
