//! End-to-end tests of faqd: a real gRPC server on 127.0.0.1, the generated client, real dump
//! files and the real `faqd` binary. This is the only integration test binary; its modules
//! live in `tests/integration/`.
//!
//! - [`common`]: shared servers (the shipped knowledge base and `tests/fixtures/small.jsonl`,
//!   each started once per test binary) and helpers.
//! - [`search`]: search quality across languages and scripts (shipped knowledge base).
//! - [`requests`]: request options (language choice, category, top_k, answered) and every
//!   validation error.
//! - [`articles`]: GetArticle, DetectLanguage, agent-language versions and staleness.
//! - [`bridge`]: the cross-language fallback (glossary, reload) and TranslateReply.
//! - [`dumps`]: building indexes from JSONL, CSV and Zendesk dumps; bad dumps; generations.
//! - [`service`]: health, graceful shutdown and hot reload of a new generation.
//! - [`cli`]: the `faqd` binary.
//! - [`admin`]: the admin API: token check, re-index, upsert/delete, stats, swaps under load.
//! - [`faults`]: a build killed by SIGKILL, two servers on one index root.
//! - [`semantic`]: the sentence encoder (agreement with the model package's engine), hybrid
//!   ranking across languages, the lexical mode, vectors reused across rebuilds.
//! - [`readme`]: README.md's configuration table against the command line's flags.
//! - [`serving`]: TLS, metrics, load shedding, deadlines, drain and shutdown, malformed
//!   requests.

#[path = "integration/common.rs"]
mod common;

#[path = "integration/admin.rs"]
mod admin;
#[path = "integration/articles.rs"]
mod articles;
#[path = "integration/bridge.rs"]
mod bridge;
#[path = "integration/cli.rs"]
mod cli;
#[path = "integration/dumps.rs"]
mod dumps;
#[path = "integration/faults.rs"]
mod faults;
#[path = "integration/readme.rs"]
mod readme;
#[path = "integration/requests.rs"]
mod requests;
#[path = "integration/search.rs"]
mod search;
#[path = "integration/semantic.rs"]
mod semantic;
#[path = "integration/service.rs"]
mod service;
#[path = "integration/serving.rs"]
mod serving;
