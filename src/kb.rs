//! The knowledge base shipped in `index/` (compiled in, so `faqd serve` works from any
//! directory) and the build-if-needed step that `serve` runs at start.

use crate::index::{self, BuildOptions, IndexError, Meta, Provenance, RootLock};
use crate::ingest::{self, Article, IngestError, Loaded, RecordError, Source};
use crate::lang::Variant;
use std::path::{Path, PathBuf};

/// The shipped FAQ dump (`index/faq.jsonl`).
pub const SHIPPED_FAQ: &str = include_str!("../index/faq.jsonl");
/// Name of the shipped dump in messages.
pub const SHIPPED_NAME: &str = "<shipped index/faq.jsonl>";

/// Returns the sources to index: the given files, or the shipped knowledge base.
pub fn sources(paths: &[PathBuf], format: Option<ingest::Format>) -> Vec<Source> {
    if paths.is_empty() {
        vec![Source::Embedded(SHIPPED_NAME, SHIPPED_FAQ)]
    } else {
        paths
            .iter()
            .map(|p| Source::File(p.clone(), format))
            .collect()
    }
}

/// Errors of building an index from dumps.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A dump cannot be read.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// Records are invalid and the build is strict.
    #[error("{} invalid record(s); nothing was changed:\n{}", ingest::records_kept_out(.0), one_per_line(.0))]
    Invalid(Vec<RecordError>),
    /// Every record is invalid, so skipping them (`--skip-invalid`) leaves nothing.
    #[error("{} invalid record(s) and no valid one: skipping them leaves nothing to index; nothing was changed:\n{}", ingest::records_kept_out(.0), one_per_line(.0))]
    NothingValid(Vec<RecordError>),
    /// Every record of the dumps is a draft.
    #[error(
        "nothing to index: all {0} records of the dumps are drafts (`draft` true, or not \
         published in a Zendesk export), which are not indexed"
    )]
    OnlyDrafts(usize),
    /// The index cannot be written.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// Lists record problems one per line, indented.
fn one_per_line(errors: &[RecordError]) -> String {
    errors
        .iter()
        .map(|e| format!("  {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The result of a build.
#[derive(Debug)]
pub struct Built {
    /// The new generation's metadata.
    pub meta: Meta,
    /// Records skipped (only with `skip_invalid`).
    pub skipped: Vec<RecordError>,
    /// Fields or columns that are not faqd's, ignored (one per name and dump).
    pub ignored_fields: Vec<RecordError>,
    /// Valid records with an empty answer (indexed; a hit on one shows its title only).
    pub empty_answers: Vec<RecordError>,
    /// The generation current before and its admin edits, when it had any: the new one is
    /// built from the dumps alone and does not have them. (User trial: an upserted article
    /// vanished on `faqd index` and on Reindex, and only `serve --source` said so.) The
    /// callers say so: Reindex in its log and reply, `faqd index` on stderr, `serve --source`
    /// in its warning that the generation was replaced.
    pub replaced_edits: Option<(u64, u64)>,
    /// The article ids those edits touched (the first 100, sorted).
    pub replaced_ids: Vec<String>,
}

/// Returns a fingerprint of the sources' contents.
pub fn fingerprint(sources: &[Source]) -> Result<String, IngestError> {
    let mut texts = Vec::new();
    for s in sources {
        match s {
            Source::File(p, _) => texts.push(crate::ingest::read_file(p)?),
            Source::Embedded(_, t) => texts.push(t.as_bytes().to_vec()),
            Source::Read(_, bytes, _, _) => texts.push(bytes.to_vec()),
        }
    }
    Ok(index::fingerprint(texts.iter().map(Vec::as_slice)))
}

/// Reads the sources and builds a new generation. With `skip_invalid` false, any invalid
/// record fails the build and nothing changes.
pub fn build(
    root: &Path,
    sources: &[Source],
    skip_invalid: bool,
    opts: &BuildOptions,
) -> Result<Built, BuildError> {
    let fp = fingerprint(sources)?;
    let Loaded {
        articles,
        errors,
        empty_answers,
        ignored_fields,
        drafts,
    } = ingest::load(sources)?;
    if !errors.is_empty() && !skip_invalid {
        return Err(BuildError::Invalid(errors));
    }
    if !errors.is_empty() && articles.is_empty() {
        return Err(BuildError::NothingValid(errors));
    }
    if articles.is_empty() && drafts > 0 {
        return Err(BuildError::OnlyDrafts(drafts));
    }
    warn_empty_answers(&empty_answers);
    warn_split_categories(&articles);
    for e in &ignored_fields {
        tracing::warn!(field = %e, "a field that is not faqd's was ignored");
    }
    let provenance = Provenance {
        fingerprint: fp,
        sources: sources.iter().map(Source::recorded_name).collect(),
        edits: 0,
        skipped: (
            ingest::records_kept_out(&errors),
            errors
                .iter()
                .take(index::KEPT_PROBLEMS)
                .map(|e| crate::lang::start(&e.to_string(), crate::engine::RECORD_CHARS))
                .collect(),
        ),
        edited: Vec::new(),
    };
    let lock = RootLock::acquire(root)?;
    let before = index::current_meta(root).ok().flatten();
    let meta = index::build_generation(&lock, &articles, provenance, opts)?;
    let before = before.filter(|b| b.edits > 0);
    let replaced_edits = before.as_ref().map(|b| (b.generation, b.edits));
    let replaced_ids = before.map(|b| b.edited).unwrap_or_default();
    Ok(Built {
        meta,
        skipped: errors,
        ignored_fields,
        empty_answers,
        replaced_edits,
        replaced_ids,
    })
}

/// Most records (or articles) a build's warning names (the rest are counted).
const NAMED_RECORDS: usize = 5;

/// Warns that article versions have an empty answer: they are indexed and can be answers,
/// but a support front-end then shows a title and no reply.
fn warn_empty_answers(empty: &[RecordError]) {
    if empty.is_empty() {
        return;
    }
    let all: Vec<String> = empty.iter().map(ToString::to_string).collect();
    let named = crate::lang::list_first(&all, NAMED_RECORDS, usize::MAX, usize::MAX);
    tracing::warn!(
        versions = empty.len(),
        records = %named,
        "article versions with an empty answer are indexed: a hit on one shows its title only"
    );
}

/// Warns about articles whose language versions are filed under different categories (a
/// user trial found one): a search in either category finds the article, and each language's
/// readers see another category for it. Most likely a translation filed in the wrong
/// section.
fn warn_split_categories(articles: &[Article]) {
    let mut by_id: std::collections::BTreeMap<&str, Vec<(&str, Variant)>> = Default::default();
    for a in articles {
        let seen = by_id.entry(a.id.as_str()).or_default();
        if !seen.iter().any(|(c, _)| *c == a.category) {
            seen.push((a.category.as_str(), a.lang));
        }
    }
    let split: Vec<String> = by_id
        .iter()
        .filter(|(_, c)| c.len() > 1)
        .map(|(id, c)| {
            let each: Vec<String> = c
                .iter()
                .map(|(c, l)| format!("{}: {c:?}", l.tag()))
                .collect();
            format!("{id} ({})", each.join(", "))
        })
        .collect();
    if split.is_empty() {
        return;
    }
    let named = crate::lang::list_first(&split, NAMED_RECORDS, usize::MAX, usize::MAX);
    tracing::warn!(
        articles = split.len(),
        split = %named,
        "articles whose language versions have different categories: a search in either \
         category finds them, and each language's readers see another category (give every \
         version the same category)"
    );
}

/// Returns true when two lists of dump names name the same files in the same order: equal
/// as typed, or resolving to the same file (`./faq.jsonl` and `faq.jsonl`, a symbolic link
/// and its target). A name that no longer resolves is compared as typed.
fn same_dumps(a: &[String], b: &[String]) -> bool {
    let resolve = |name: &String| std::fs::canonicalize(name).ok();
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || resolve(x).is_some_and(|p| Some(p) == resolve(y)))
}

/// Returns true when two lists of dump names name the same files, in any order
/// ([`same_dumps`] for each).
pub(crate) fn same_dump_set(a: &[String], b: &[String]) -> bool {
    let one = std::slice::from_ref;
    let within = |a: &[String], b: &[String]| {
        a.iter()
            .all(|x| b.iter().any(|y| same_dumps(one(x), one(y))))
    };
    a.len() == b.len() && within(a, b) && within(b, a)
}

/// Builds a generation at start-up when the index needs one, and returns it (`None` when the
/// current generation is kept). Built when:
/// - the root is empty (no `CURRENT`, no generation: a first start);
/// - `explicit` and `CURRENT` or its generation's metadata cannot be read;
/// - `explicit` (the caller named its dumps) and the current generation was built from
///   other contents (fingerprints differ; admin edits keep their base's fingerprint);
/// - not `explicit` (the shipped knowledge base) and the current generation was built from
///   an older shipped knowledge base, unedited.
///
/// An index built from other dumps (`faqd index`) or edited through the admin API is never
/// replaced by the shipped knowledge base: when `CURRENT` is missing or garbled, or names a
/// missing or broken generation, nothing is built ([`crate::engine::Engine::open`] serves the
/// newest generation that opens and verifies, and says so).
pub fn ensure_built(
    root: &Path,
    sources: &[Source],
    explicit: bool,
    opts: &BuildOptions,
) -> Result<Option<Built>, BuildError> {
    // Clean what a killed build left, unless a build is running right now.
    if root.exists() {
        drop(RootLock::try_acquire(root)?);
    }
    if index::is_empty_root(root)? {
        return build(root, sources, false, opts).map(Some);
    }
    let meta = match index::current_meta(root) {
        Ok(Some(meta)) => meta,
        Ok(None) | Err(_) if explicit => return build(root, sources, false, opts).map(Some),
        Ok(None) | Err(_) => return Ok(None),
    };
    let same = meta.fingerprint == fingerprint(sources)?;
    let shipped_only = meta.sources == [SHIPPED_NAME];
    if same || (!explicit && !shipped_only) {
        if !index::indexed_as_now(&meta.fingerprint) {
            tracing::warn!(
                generation = meta.generation,
                built_from = ?meta.sources,
                "the served generation was indexed by a faqd that analyses text differently: \
                 it is served, but its words match queries less well until it is rebuilt \
                 (`faqd index` with its dumps, or `faqd serve --source`)"
            );
        }
        return Ok(None);
    }
    if !explicit && meta.edits > 0 {
        tracing::warn!(
            generation = meta.generation,
            edits = meta.edits,
            "the shipped knowledge base changed (or this faqd indexes differently), but the \
             index has admin edits: keeping it (run `faqd index` to rebuild from the shipped \
             knowledge base)"
        );
        return Ok(None);
    }
    let built = build(root, sources, false, opts)?;
    let names: Vec<String> = sources.iter().map(Source::recorded_name).collect();
    if explicit && (meta.edits > 0 || (!same_dumps(&meta.sources, &names) && !shipped_only)) {
        // The operator named the dumps; say what the new generation replaced.
        tracing::warn!(
            replaced = meta.generation,
            built_from = ?meta.sources,
            edits = meta.edits,
            sources = ?names,
            "the generation served before was built from other dumps or had admin edits; the \
             one built from the named sources replaced it (the old one stays on disk while \
             --keep-generations allows)"
        );
    }
    Ok(Some(built))
}

/// What [`ensure_built_or_keep`] did.
pub enum Ensured {
    /// As [`ensure_built`]: a generation built from the sources, or none needed.
    Built(Option<Box<Built>>),
    /// The sources cannot be indexed; the current generation, built from an earlier version
    /// of them, stays served. Says why (the build's error).
    Kept(String),
}

/// [`ensure_built`] for a server: when the named dumps cannot be read or have invalid
/// records, and the current generation was built from the same dumps (an earlier version of
/// them, perhaps edited since through the admin API), it is kept and served, and the problem
/// is logged as an error: a restart with a bad dump does not take the answers away. With
/// another generation (or none) the error is returned, as by [`ensure_built`].
pub fn ensure_built_or_keep(
    root: &Path,
    sources: &[Source],
    explicit: bool,
    opts: &BuildOptions,
) -> Result<Ensured, BuildError> {
    match ensure_built(root, sources, explicit, opts) {
        Err(e @ (BuildError::Invalid(_) | BuildError::NothingValid(_) | BuildError::Ingest(_)))
            if explicit =>
        {
            let names: Vec<String> = sources.iter().map(Source::recorded_name).collect();
            match index::current_meta(root) {
                Ok(Some(meta)) if same_dump_set(&meta.sources, &names) => {
                    tracing::error!(
                        generation = meta.generation,
                        built_at = %meta.built_at_rfc3339(),
                        edits = meta.edits,
                        "the dumps cannot be indexed: serving generation {} built from an \
                         earlier version of them until they are fixed (then restart, or run \
                         `faqd index` with them): {e}",
                        meta.generation
                    );
                    Ok(Ensured::Kept(format!(
                        "the dumps named at start cannot be indexed, so generation {} built \
                         from an earlier version of them was served instead; until a \
                         generation is built from them fixed (`faqd index`, admin Reindex), a \
                         restart with them serves the last one built from them, or fails if \
                         another is current: {}",
                        meta.generation,
                        // A Stats reply stays small however many records are bad.
                        crate::lang::start(&e.to_string(), 2_000)
                    )))
                }
                _ => Err(e),
            }
        }
        other => other.map(|built| Ensured::Built(built.map(Box::new))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_sets_are_the_same_in_any_order_and_not_with_a_file_missing() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(same_dump_set(&names(&["/a", "/b"]), &names(&["/b", "/a"])));
        // A dump named twice stands for one file, not for another never read (review).
        assert!(!same_dump_set(&names(&["/a", "/a"]), &names(&["/a", "/b"])));
        assert!(!same_dump_set(&names(&["/a", "/b"]), &names(&["/a", "/a"])));
        assert!(!same_dump_set(&names(&["/a"]), &names(&["/a", "/b"])));
    }

    #[test]
    fn dump_names_that_resolve_to_one_file_are_the_same_dumps() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
        std::fs::write(&a, "").unwrap();
        std::fs::write(&b, "").unwrap();
        let name = |p: &Path| p.display().to_string();
        let dotted = name(&dir.path().join(".").join("a.jsonl"));
        assert!(same_dumps(&[name(&a)], std::slice::from_ref(&dotted)));
        assert!(!same_dumps(&[name(&a)], &[name(&b)]));
        assert!(!same_dumps(&[name(&a), name(&b)], &[name(&b), dotted]));
        assert!(!same_dumps(&[name(&a)], &[name(&a), name(&b)]));
        // A link and its target.
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        assert!(same_dumps(&[name(&link)], &[name(&a)]));
        // Names that no longer resolve are compared as typed.
        let gone = name(&dir.path().join("gone.jsonl"));
        assert!(same_dumps(
            std::slice::from_ref(&gone),
            std::slice::from_ref(&gone)
        ));
        assert!(!same_dumps(
            &[gone],
            &[name(&dir.path().join(".").join("gone.jsonl"))]
        ));
    }
}
