//! The searchable index, one file per concern:
//! - `schema`: the fields of every language, part and analysis;
//! - `documents`: the tantivy documents an article becomes, and what each one stands for;
//! - `generation`: generations on disk: build, publish, prune, the lock and the `CURRENT`
//!   pointer (built in a fresh directory, published by an atomic swap);
//! - `postings`: the decoded-postings table ranking reads (segments, field readers and
//!   statistics, each term's postings decoded once).

mod documents;
mod generation;
mod postings;
mod schema;
pub mod vectors;

pub use documents::{documents, DocRef};
pub use generation::{
    build_generation, current_generation, current_meta, edit_generation, fingerprint,
    generation_dir, open_current, BuildOptions, Generation, Meta, Progress, Provenance, RootLock,
};
pub use postings::{
    ArticleDocs, ArticlePostings, FieldMap, FieldReaders, FieldStats, Found, Posting, Postings,
    Segments, ShapedPosting, TermParts, TermPostings,
};
pub use schema::{Fields, Part};

use std::path::PathBuf;

/// Errors of index building and opening.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A tantivy failure.
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// A file-system failure, with the path involved.
    #[error("failed to {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The pointer or metadata of a generation cannot be read.
    #[error("corrupt index root {path}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// There is no published generation yet.
    #[error("no index generation in {0} (run `faqd index` first)")]
    NoGeneration(PathBuf),
    /// The knowledge base has no article.
    #[error("nothing to index: the dumps hold no valid article")]
    Empty,
}

pub(crate) fn io_err(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> IndexError {
    let path = path.into();
    move |source| IndexError::Io {
        action,
        path,
        source,
    }
}
