//! The searchable index, one file per concern:
//! - `schema`: the fields of every language, part and analysis;
//! - `documents`: the tantivy documents an article becomes, and what each one stands for;
//! - `generation`: generations on disk: build, publish, prune, the lock and the `CURRENT`
//!   pointer (built in a fresh directory, published by an atomic swap);
//! - `postings`: the decoded-postings table ranking reads (segments, field readers and
//!   statistics, each term's postings decoded once).

mod documents;
#[doc(hidden)]
pub mod faults;
mod generation;
mod postings;
mod schema;
pub mod vectors;

pub use documents::{documents, DocRef};
pub use generation::{
    build_generation, current_generation, current_meta, edit_generation, fingerprint,
    generation_dir, holds_documents, indexed_as_now, is_empty_root, open_current, open_served,
    repoint_current, verify, BuildOptions, Generation, Meta, Progress, Provenance, RootLock,
    Served, KEPT_PROBLEMS,
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
    /// A tantivy failure (said in the message, so not also a `source()` that `{:#}` would
    /// repeat).
    #[error("index error: {0}")]
    Tantivy(tantivy::TantivyError),
    /// A file-system failure, with the path involved.
    #[error("failed to {action} {path}: {error}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// Why (said in the message, so not also a `source()` that `{:#}` would repeat).
        error: std::io::Error,
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

impl From<tantivy::TantivyError> for IndexError {
    fn from(e: tantivy::TantivyError) -> Self {
        IndexError::Tantivy(e)
    }
}

pub(crate) fn io_err(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> IndexError {
    let path = path.into();
    move |error| IndexError::Io {
        action,
        path,
        error,
    }
}

/// The operating system's "no space left on device" (ENOSPC) and "disk quota exceeded"
/// (EDQUOT) on Linux.
const STORAGE_FULL: [i32; 2] = [28, 122];

fn storage_full(e: &std::io::Error) -> bool {
    e.raw_os_error().is_some_and(|n| STORAGE_FULL.contains(&n))
        || e.kind() == std::io::ErrorKind::StorageFull
}

impl IndexError {
    /// Returns true when the disk (or the user's quota) is full: the operator's to fix, and
    /// said so in every message.
    pub fn is_storage_full(&self) -> bool {
        match self {
            IndexError::Io { error, .. } => storage_full(error),
            _ => false,
        }
    }

    /// Names the directory being written when tantivy failed for lack of space (its errors
    /// say neither where nor, when an indexing thread failed, why).
    pub(crate) fn writing(self, dir: &std::path::Path) -> IndexError {
        let IndexError::Tantivy(e) = &self else {
            return self;
        };
        use tantivy::directory::error::{OpenReadError, OpenWriteError};
        let io = match e {
            tantivy::TantivyError::IoError(io)
            | tantivy::TantivyError::OpenWriteError(OpenWriteError::IoError {
                io_error: io, ..
            })
            | tantivy::TantivyError::OpenReadError(OpenReadError::IoError {
                io_error: io, ..
            }) => Some(io),
            _ => None,
        };
        let errno = match io {
            Some(io) if storage_full(io) => io.raw_os_error().or(Some(STORAGE_FULL[0])),
            Some(_) => None,
            // An indexing thread's error reaches the caller as text only.
            None => match e {
                tantivy::TantivyError::InternalError(text)
                | tantivy::TantivyError::ErrorInThread(text)
                | tantivy::TantivyError::SystemError(text) => STORAGE_FULL
                    .into_iter()
                    .find(|n| text.contains(&format!("(os error {n})"))),
                _ => None,
            },
        };
        if let Some(errno) = errno {
            return IndexError::Io {
                action: "write the index in",
                path: dir.to_path_buf(),
                error: std::io::Error::from_raw_os_error(errno),
            };
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use tantivy::TantivyError;

    #[test]
    fn a_full_disk_in_tantivy_names_the_cause_and_the_directory() {
        let dir = Path::new("/data/index/.tmp-gen-000002-1");
        let full = || std::io::Error::from_raw_os_error(28);
        for e in [
            TantivyError::IoError(full().into()),
            TantivyError::InternalError(full().to_string()),
            TantivyError::OpenWriteError(tantivy::directory::error::OpenWriteError::wrap_io_error(
                full(),
                "x.idx".into(),
            )),
        ] {
            let named = IndexError::Tantivy(e).writing(dir);
            assert!(named.is_storage_full(), "{named}");
            assert_eq!(
                named.to_string(),
                "failed to write the index in /data/index/.tmp-gen-000002-1: No space left on \
                 device (os error 28)"
            );
        }
        let other = IndexError::Tantivy(TantivyError::IoError(
            std::io::Error::from_raw_os_error(5).into(),
        ))
        .writing(dir);
        assert!(!other.is_storage_full(), "{other}");
    }

    #[test]
    fn a_knowledge_base_of_passages_holds_documents_and_an_faq_does_not() {
        use crate::ingest::Article;
        use std::sync::Arc;
        let version = |questions: &[&str], answer_chars: usize| {
            Arc::new(Article {
                id: "a".into(),
                lang: crate::lang::Variant::parse("en").unwrap(),
                title: "Topic".into(),
                questions: questions.iter().map(|q| q.to_string()).collect(),
                answer: "é".repeat(answer_chars),
                category: String::new(),
                tags: Vec::new(),
                url: String::new(),
                updated_at: String::new(),
            })
        };
        let passage = || version(&[], generation::DOCUMENT_CHARS);
        let short = || version(&[], generation::DOCUMENT_CHARS - 1);
        let asked = || version(&["How?"], 1000);
        // Characters are counted, not bytes.
        assert!(holds_documents(&[
            vec![passage()],
            vec![passage(), short()]
        ]));
        assert!(!holds_documents(&[vec![passage()], vec![short()]]));
        assert!(!holds_documents(&[vec![passage(), asked()], vec![asked()]]));
        assert!(!holds_documents(&[]));
    }
}
