//! faqd answers customer-support questions in Korean, English and Chinese from a multilingual
//! FAQ knowledge base.
//!
//! Module map, in the order a request flows:
//! - [`server`]: the gRPC transport (the only module that knows tonic): decode, validate,
//!   call [`engine`], map errors to status codes.
//! - [`engine`]: validation, language choice, search over the served generation, groups.
//! - [`lang`]: supported languages, locale parsing, detection (script check + lingua).
//! - [`analysis`]: per-language analyzers, registered with every opened index.
//! - [`embed`]: the multilingual sentence encoder (one vector per text, any language).
//! - [`search`]: query building, ranking, confidence, snippets, cross-language fallback.
//! - [`translate`]: translation groups and staleness, the glossary, the translation memory.
//! - [`ingest`]: reading dumps (JSONL, CSV, Zendesk) into [`ingest::Article`] values.
//! - [`index`]: schema, documents, generations and the atomic `CURRENT` swap.
//! - [`admin`]: re-index, upsert/delete, reload and stats of a served index.
//! - [`kb`]: the knowledge base shipped in `index/`, and building an index from sources.
//! - [`eval`]: retrieval, detection and translation-memory evaluation.
//! - [`cli`]: one file per subcommand.

pub mod admin;
pub mod analysis;
mod budget;
pub mod cli;
pub mod embed;
pub mod engine;
pub mod eval;
pub mod index;
pub mod ingest;
pub mod kb;
pub mod lang;
pub mod search;
pub mod server;
pub mod translate;

/// Code generated from `proto/faq/v1/*.proto`.
pub mod proto {
    #![allow(missing_docs, clippy::all)]
    tonic::include_proto!("faq.v1");

    /// The descriptor set of the protos, served by gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/faq_descriptor.bin"));
}
