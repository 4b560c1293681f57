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
use std::path::PathBuf;
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
    /// Build wall time.
    pub build_ms: u64,
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
}

/// Administers the index an [`Engine`] serves.
pub struct Admin {
    engine: Arc<Engine>,
    keep: usize,
}

impl From<BuildError> for EngineError {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Invalid(_)
            | BuildError::Ingest(_)
            | BuildError::Index(IndexError::Empty) => EngineError::InvalidArgument {
                field: "paths",
                message: e.to_string(),
            },
            BuildError::Index(e) => e.into(),
        }
    }
}

impl Admin {
    /// Administers `engine`'s index root, keeping `keep` generations.
    pub fn new(engine: Arc<Engine>, keep: usize) -> Self {
        Admin { engine, keep }
    }

    fn options(&self) -> BuildOptions {
        BuildOptions {
            keep: self.keep,
            progress: None,
        }
    }

    /// Builds a generation from dumps on this machine and serves it. A bad dump changes
    /// nothing unless `skip_invalid`.
    pub fn reindex(
        &self,
        paths: &[PathBuf],
        format: Option<Format>,
        skip_invalid: bool,
    ) -> Result<Reindexed, EngineError> {
        if paths.is_empty() {
            return Err(EngineError::InvalidArgument {
                field: "paths",
                message: "name at least one dump file".into(),
            });
        }
        let sources: Vec<Source> = paths
            .iter()
            .map(|p| Source::File(p.clone(), format))
            .collect();
        let built = kb::build(self.engine.root(), &sources, skip_invalid, &self.options())?;
        self.engine.reload()?;
        Ok(Reindexed {
            generation: built.meta.generation,
            article_versions: built.meta.articles.values().sum(),
            skipped: built.skipped,
            build_ms: built.meta.build_ms,
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
                let what = lang.map(|l| format!(" in {l}")).unwrap_or_default();
                return Err(EngineError::NotFound(format!(
                    "{}{what}",
                    missing.join(", ")
                )));
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
        self.engine.reload()?;
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
        };
        let meta = index::edit_generation(
            &lock,
            &base,
            &articles,
            &touched,
            provenance,
            &self.options(),
        )?;
        self.engine.reload()?;
        Ok(Edited {
            generation: meta.generation,
            article_versions: articles.len(),
            changed,
        })
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
        let built_at = time::OffsetDateTime::from_unix_timestamp(g.meta.built_at)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
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
        }
    }
}
