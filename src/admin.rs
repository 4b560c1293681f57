//! Administration of a served index: re-index from dumps, upsert and delete articles, reload,
//! stats. Every change builds a complete new generation under the index root's lock and then
//! serves it, so searches never see a half-applied change and other servers on the same root
//! follow through the `CURRENT` pointer. The gRPC transport (and its token check) is in
//! [`crate::server`].

use crate::engine::{Engine, EngineError};
use crate::index::{self, BuildOptions, IndexError, Provenance, RootLock};
use crate::ingest::{Article, Format, RecordError, Source};
use crate::kb::{self, BuildError};
use crate::lang::Variant;
use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// A published re-index.
#[derive(Debug, Clone)]
pub struct Reindexed {
    /// The generation now served.
    pub generation: u64,
    /// Article versions in it.
    pub article_versions: usize,
    /// Records skipped (with `skip_invalid`).
    pub skipped: Vec<RecordError>,
    /// Fields or columns that are not faqd's, ignored (one per name and dump).
    pub ignored_fields: Vec<RecordError>,
    /// Build wall time.
    pub build_ms: u64,
    /// Valid records with an empty answer.
    pub empty_answers: Vec<RecordError>,
    /// The generation served before and its admin edits, which the new one does not have.
    pub replaced_edits: Option<(u64, u64)>,
    /// The article ids those edits touched.
    pub replaced_ids: Vec<String>,
}

/// A published edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edited {
    /// The generation now served.
    pub generation: u64,
    /// Article versions in it.
    pub article_versions: usize,
    /// Versions added, replaced or removed.
    pub changed: usize,
}

/// What a reload did.
#[derive(Debug, Clone, Copy)]
pub struct Reloaded {
    /// Generation served before.
    pub previous: u64,
    /// Generation served now.
    pub generation: u64,
    /// Concepts in the glossary now.
    pub glossary_concepts: usize,
}

/// What is being served.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Generation number.
    pub generation: u64,
    /// Article versions per language tag.
    pub articles_by_language: BTreeMap<String, usize>,
    /// Distinct article ids.
    pub article_ids: usize,
    /// Build wall time of the generation.
    pub build_ms: u64,
    /// When it was built (RFC 3339).
    pub built_at: String,
    /// Its sources (plus an admin-edits note when edited).
    pub sources: Vec<String>,
    /// Searches served since start.
    pub searches_served: u64,
    /// Concepts in the glossary.
    pub glossary_concepts: usize,
    /// Entries in the translation memory of the served generation.
    pub memory_entries: usize,
    /// The ranking in use.
    pub ranking: crate::engine::Ranking,
    /// The encoder's model file, when loaded.
    pub model: Option<std::path::PathBuf>,
    /// Sentence vectors of the served generation.
    pub vectors: usize,
    /// How hybrid ranking weighs its hits: `documents` or `faq`.
    pub weighed_as: &'static str,
    /// The categories its articles have, sorted.
    pub categories: Vec<String>,
    /// Why it is a generation kept from before the dumps named at start became unusable.
    pub dumps_problem: Option<String>,
    /// Records its dumps held that were skipped as invalid, and the first of their problems.
    pub skipped: (usize, Vec<String>),
}

/// Administers the index an [`Engine`] serves.
pub struct Admin {
    engine: Arc<Engine>,
    keep: usize,
    dumps: Option<DumpDir>,
}

impl From<BuildError> for EngineError {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Invalid(errors) | BuildError::NothingValid(errors) => {
                EngineError::InvalidRecords {
                    field: "paths",
                    problems: errors.iter().map(ToString::to_string).collect(),
                    records: crate::ingest::records_kept_out(&errors),
                }
            }
            BuildError::Ingest(_)
            | BuildError::OnlyDrafts(_)
            | BuildError::Index(IndexError::Empty) => EngineError::InvalidArgument {
                field: "paths",
                message: e.to_string(),
            },
            BuildError::Index(e) => e.into(),
        }
    }
}

/// The directory admin re-indexes read dumps from, and the largest dump they read. A
/// requested path is resolved inside it: no `..`, no absolute path, no symbolic link that
/// leads out; only regular files are read (a FIFO or a device would block or never end).
#[derive(Debug, Clone)]
pub struct DumpDir {
    /// The directory, canonical (symbolic links resolved).
    dir: PathBuf,
    /// The directory as given, made absolute (for the names generations record).
    given: PathBuf,
    /// Largest dump read, in bytes.
    max_bytes: u64,
    /// The admin token: a file holding it is refused, so that no message quotes it.
    secret: Option<std::sync::Arc<[u8]>>,
}

impl DumpDir {
    /// Opens the dump directory `dir`, which must exist.
    pub fn new(dir: &Path, max_bytes: u64) -> std::io::Result<DumpDir> {
        let given = crate::ingest::absolute(dir);
        let dir = dir.canonicalize()?;
        if !dir.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is not a directory", dir.display()),
            ));
        }
        Ok(DumpDir {
            dir,
            given,
            max_bytes,
            secret: None,
        })
    }

    /// Refuses to read a file that holds `token` (user trial: with `--dump-dir .` beside the
    /// token file, a Reindex of it as CSV quoted the token as the file's header).
    pub fn refusing(mut self, token: Option<&str>) -> Self {
        self.secret = token
            .filter(|t| !t.is_empty())
            .map(|t| std::sync::Arc::from(t.as_bytes()));
        self
    }

    /// Returns the directory (canonical).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads the dump at `requested` (relative to the directory) as a source for a build.
    pub fn read(&self, requested: &str, format: Option<Format>) -> Result<Source, EngineError> {
        let bad = |message: String| EngineError::InvalidArgument {
            field: "paths",
            message,
        };
        let shown = crate::ingest::excerpt(requested);
        let rel = Path::new(requested);
        // What is wrong with the path, in the words an operator would use.
        let problem = if requested.trim().is_empty() {
            Some("an empty path")
        } else if rel.is_absolute() {
            Some("an absolute path")
        } else if rel.components().any(|c| c == Component::ParentDir) {
            Some("`..` leads out of the dump directory")
        } else if rel.components().all(|c| c == Component::CurDir) {
            Some("names the dump directory itself, not a dump in it")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(bad(format!(
                "{shown}: {problem}; name a dump file by its path inside the dump directory"
            )));
        }
        let format = format
            .or_else(|| Format::from_path(rel))
            .ok_or_else(|| bad(format!("{shown}: cannot tell the dump format from the extension (use .jsonl, .csv or .json, or format)")))?;
        // (Second trial: `"nope.jsonl": No such file or directory` did not say where faqd
        // looked.)
        let io = |e: std::io::Error| {
            bad(format!(
                "{shown}: {e} (in the dump directory {})",
                self.given.display()
            ))
        };
        let path = self.dir.join(rel).canonicalize().map_err(io)?;
        if !path.starts_with(&self.dir) {
            return Err(bad(format!("{shown}: leads outside the dump directory")));
        }
        // Not blocking on a FIFO swapped in after the check; not following a link either.
        let file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
                .open(&path)
                .map_err(io)?
        };
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(bad(format!("{shown}: not a regular file")));
        }
        let too_big = |size: u64| {
            bad(format!(
                "{shown}: {size} bytes, over the dump size limit of {} bytes (--dump-max-bytes)",
                self.max_bytes
            ))
        };
        if meta.len() > self.max_bytes {
            return Err(too_big(meta.len()));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.take(self.max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(too_big(bytes.len() as u64));
        }
        // A token file is one line: its first 4 KiB are enough.
        if let Some(secret) = &self.secret {
            let head = &bytes[..bytes.len().min(4096)];
            if head.windows(secret.len()).any(|w| w == &secret[..]) {
                return Err(bad(format!(
                    "{shown}: holds the admin token, so it is not read as a dump (keep the \
                     token file out of the dump directory)"
                )));
            }
        }
        // Shown to the admin client as it asked for it; recorded by the generation by its
        // absolute path through the directory as given (`./` left out), as a dump named on
        // the command line is, so that a server restarted with `--source` on that file
        // knows it built it, even when the file is missing then.
        let recorded = rel
            .components()
            .filter(|c| *c != std::path::Component::CurDir)
            .fold(self.given.clone(), |p, c| p.join(c));
        Ok(Source::Read(
            requested.to_string(),
            bytes.into(),
            format,
            recorded,
        ))
    }
}

impl Admin {
    /// Administers `engine`'s index root, keeping `keep` generations.
    pub fn new(engine: Arc<Engine>, keep: usize) -> Self {
        Admin {
            engine,
            keep,
            dumps: None,
        }
    }

    /// Lets re-indexes read dumps from `dumps` (without it, Reindex is refused).
    pub fn with_dumps(mut self, dumps: Option<DumpDir>) -> Self {
        self.dumps = dumps;
        self
    }

    fn options(&self) -> BuildOptions {
        BuildOptions {
            keep: self.keep,
            progress: None,
        }
    }

    /// Builds a generation from dumps in the dump directory (`paths` relative to it) and
    /// serves it. A bad dump changes nothing unless `skip_invalid`.
    pub fn reindex(
        &self,
        paths: &[String],
        format: Option<Format>,
        skip_invalid: bool,
    ) -> Result<Reindexed, EngineError> {
        if paths.is_empty() {
            return Err(EngineError::InvalidArgument {
                field: "paths",
                message: "name at least one dump file".into(),
            });
        }
        let dumps = self.dumps.as_ref().ok_or_else(|| {
            EngineError::Precondition(
                "admin Reindex is disabled: start faqd serve with --dump-dir (dumps are read \
                 only from that directory)"
                    .into(),
            )
        })?;
        let sources = paths
            .iter()
            .map(|p| dumps.read(p, format))
            .collect::<Result<Vec<Source>, _>>()?;
        let built = kb::build(self.engine.root(), &sources, skip_invalid, &self.options())?;
        self.serve_published(built.meta.generation)?;
        if let Some((generation, edits)) = built.replaced_edits {
            tracing::warn!(
                replaced = generation,
                edits,
                articles = ?built.replaced_ids,
                new = built.meta.generation,
                "admin: the generation served before had admin edits (UpsertArticles, \
                 DeleteArticles); the re-indexed one is built from the dumps alone and does \
                 not have them (put them in the dumps to keep them)"
            );
        }
        Ok(Reindexed {
            generation: built.meta.generation,
            article_versions: built.meta.articles.values().sum(),
            skipped: built.skipped,
            ignored_fields: built.ignored_fields,
            build_ms: built.meta.build_ms,
            empty_answers: built.empty_answers,
            replaced_edits: built.replaced_edits,
            replaced_ids: built.replaced_ids,
        })
    }

    /// Adds or replaces article versions (by id and language tag) and serves the result.
    pub fn upsert(&self, articles: Vec<Article>) -> Result<Edited, EngineError> {
        if articles.is_empty() {
            return Err(EngineError::InvalidArgument {
                field: "articles",
                message: "give at least one article".into(),
            });
        }
        let mut seen = HashSet::new();
        for (i, a) in articles.iter().enumerate() {
            if !seen.insert((a.id.as_str(), a.lang)) {
                return Err(EngineError::InvalidArgument {
                    field: "articles",
                    message: format!("article {}: {:?} in {} is given twice", i + 1, a.id, a.lang),
                });
            }
        }
        self.edit(move |all| {
            let changed = articles.len();
            let replaced: HashSet<(String, Variant)> =
                articles.iter().map(|a| (a.id.clone(), a.lang)).collect();
            all.retain(|a| !replaced.contains(&(a.id.clone(), a.lang)));
            let touched = articles.iter().map(|a| a.id.clone()).collect();
            all.extend(articles);
            Ok((changed, touched))
        })
    }

    /// Removes every version of the given ids (or only the `lang` version) and serves the
    /// result. Unknown ids fail with NOT_FOUND and change nothing.
    pub fn delete(&self, ids: &[String], lang: Option<Variant>) -> Result<Edited, EngineError> {
        let ids: HashSet<&str> = ids.iter().map(|s| s.trim()).collect();
        if ids.is_empty() || ids.contains("") {
            return Err(EngineError::InvalidArgument {
                field: "ids",
                message: "give at least one non-empty article id".into(),
            });
        }
        self.edit(|all| {
            let matches =
                |a: &Article| ids.contains(a.id.as_str()) && lang.is_none_or(|l| l == a.lang);
            let present: HashSet<&str> = all
                .iter()
                .filter(|a| matches(a))
                .map(|a| a.id.as_str())
                .collect();
            let mut missing: Vec<&str> = ids.difference(&present).copied().collect();
            if !missing.is_empty() {
                missing.sort_unstable();
                return Err(EngineError::missing(&missing, lang));
            }
            let before = all.len();
            all.retain(|a| !matches(a));
            if all.is_empty() {
                return Err(EngineError::InvalidArgument {
                    field: "ids",
                    message: "deleting these would leave the knowledge base empty".into(),
                });
            }
            let touched = ids.iter().map(|id| id.to_string()).collect();
            Ok((before - all.len(), touched))
        })
    }

    /// Applies `change` to the articles of the newest published generation and publishes the
    /// result, holding the root lock throughout so no other builder's work is lost. `change`
    /// returns how many versions it changed and the ids it touched; only those are re-indexed.
    fn edit(
        &self,
        change: impl FnOnce(&mut Vec<Article>) -> Result<(usize, HashSet<String>), EngineError>,
    ) -> Result<Edited, EngineError> {
        let lock = RootLock::acquire(self.engine.root())?;
        if let Err(e) = self.engine.reload() {
            // An unusable CURRENT: the edit applies to the served generation and repairs it.
            tracing::warn!(error = %e, "editing the served generation");
        }
        let base = self.engine.generation();
        let mut articles: Vec<Article> = base
            .groups
            .iter()
            .flatten()
            .map(|a| Article::clone(a))
            .collect();
        let (changed, touched) = change(&mut articles)?;
        let provenance = Provenance {
            fingerprint: base.meta.fingerprint.clone(),
            sources: base.meta.sources.clone(),
            edits: base.meta.edits + 1,
            skipped: (base.meta.skipped_records, base.meta.skipped.clone()),
            edited: {
                let all: std::collections::BTreeSet<&String> =
                    base.meta.edited.iter().chain(&touched).collect();
                all.into_iter()
                    .take(index::KEPT_PROBLEMS)
                    .cloned()
                    .collect()
            },
        };
        let meta = index::edit_generation(
            &lock,
            &base,
            &articles,
            &touched,
            provenance,
            &self.options(),
        )?;
        self.serve_published(meta.generation)?;
        Ok(Edited {
            generation: meta.generation,
            article_versions: articles.len(),
            changed,
        })
    }

    /// Serves `published`, the generation this call just made `CURRENT`. The `CURRENT`
    /// watcher may have loaded it first; either way, a generation that did not open is an
    /// error here, not a success reported for a generation that is not served.
    fn serve_published(&self, published: u64) -> Result<(), EngineError> {
        let served = self.engine.reload()?;
        // A newer one (another builder published after this call) is fine.
        if served < published {
            return Err(EngineError::Internal(format!(
                "generation {published} was published but did not open; still serving \
                 generation {served}"
            )));
        }
        Ok(())
    }

    /// Serves the generation `CURRENT` names, if newer, and re-reads the glossary. A glossary
    /// with errors fails the call (FAILED_PRECONDITION, naming file and line) and the old one
    /// stays in use; the generation is reloaded either way.
    pub fn reload(&self) -> Result<Reloaded, EngineError> {
        let previous = self.engine.generation().meta.generation;
        let generation = self.engine.reload()?;
        let glossary_concepts = self
            .engine
            .reload_glossary()
            .map_err(|e| EngineError::Precondition(format!("glossary not reloaded: {e}")))?;
        Ok(Reloaded {
            previous,
            generation,
            glossary_concepts,
        })
    }

    /// Describes what is being served.
    pub fn stats(&self) -> Stats {
        let g = self.engine.generation();
        let built_at = g.meta.built_at_rfc3339();
        let mut sources = g.meta.sources.clone();
        if g.meta.edits > 0 {
            sources.push(format!("{} admin edit(s)", g.meta.edits));
        }
        Stats {
            generation: g.meta.generation,
            articles_by_language: g.meta.articles.clone(),
            article_ids: g.groups.len(),
            build_ms: g.meta.build_ms,
            built_at,
            sources,
            searches_served: self.engine.searches_served(),
            glossary_concepts: self.engine.glossary().len(),
            memory_entries: self.engine.memory().entries(),
            ranking: self.engine.ranking(),
            model: self.engine.encoder().map(|e| e.path().to_path_buf()),
            vectors: self.engine.vector_count(),
            weighed_as: self.engine.settings().weigh_as.name(&g),
            categories: g.categories.iter().cloned().collect(),
            dumps_problem: self.engine.dumps_problem(),
            skipped: (g.meta.skipped_records, g.meta.skipped.clone()),
        }
    }
}
