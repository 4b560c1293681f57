//! The serving layer as clients and operators meet it: TLS and mutual TLS, the metrics
//! endpoint, load shedding, deadlines, the drain on shutdown, open Watch streams, statuses of
//! malformed requests and request ids.

use crate::common::{build_index, fixture, query, search, spawn_server_with};
use faqd::engine::{Engine, Settings};
use faqd::proto::faq_service_client::FaqServiceClient;
use faqd::server::{Limits, Metrics, ServeConfig, TlsFiles};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tempfile::TempDir;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

static ENGINE: OnceLock<(TempDir, Arc<Engine>)> = OnceLock::new();

/// One engine over `tests/fixtures/small.jsonl`, shared by this module's servers.
fn engine() -> Arc<Engine> {
    ENGINE
        .get_or_init(|| {
            let dir = build_index(&faqd::kb::sources(&[fixture("small.jsonl")], None));
            let engine = Arc::new(Engine::open(dir.path(), Settings::default()).unwrap());
            (dir, engine)
        })
        .1
        .clone()
}

/// An engine of its own (its own search counter) over the same index.
fn own_engine() -> Arc<Engine> {
    engine();
    let dir = ENGINE.get().unwrap().0.path();
    Arc::new(Engine::open(dir, Settings::default()).unwrap())
}

async fn plain(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"))
}

/// A CA, and a certificate for `localhost` it signed, in PEM.
struct Pki {
    ca: rcgen::Issuer<'static, rcgen::KeyPair>,
    ca_pem: String,
}

impl Pki {
    fn new() -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "faqd test CA");
        let key = rcgen::KeyPair::generate().unwrap();
        let ca_pem = params.self_signed(&key).unwrap().pem();
        Pki {
            ca: rcgen::Issuer::new(params, key),
            ca_pem,
        }
    }

    /// Returns (certificate, key) for `name`, signed by the CA.
    fn issue(&self, name: &str) -> (String, String) {
        let params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

fn tls_server(pki: &Pki, mutual: bool) -> SocketAddr {
    let (cert, key) = pki.issue("localhost");
    let config = ServeConfig {
        tls: Some(TlsFiles {
            cert: cert.into_bytes(),
            key: key.into_bytes(),
            client_ca: mutual.then(|| pki.ca_pem.clone().into_bytes()),
        }),
        ..ServeConfig::default()
    };
    spawn_server_with(engine(), std::future::pending(), config).0
}

async fn tls_client(
    addr: SocketAddr,
    ca_pem: &str,
    identity: Option<(String, String)>,
) -> Result<FaqServiceClient<Channel>, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    let channel = Endpoint::from_shared(format!("https://localhost:{}", addr.port()))?
        .tls_config(tls)?
        .connect()
        .await?;
    Ok(FaqServiceClient::new(channel))
}

#[tokio::test]
async fn tls_with_a_certificate_generated_in_the_test_serves_search() {
    let pki = Pki::new();
    let addr = tls_server(&pki, false);
    let mut c = tls_client(addr, &pki.ca_pem, None).await.unwrap();
    let r = search(&mut c, query("test withdrawal")).await;
    assert_eq!(r.hits[0].id, "fx-withdrawal");
    // A plain-text client gets no answer from a TLS port.
    let plain_client = FaqServiceClient::new(plain(addr).await)
        .search(query("test withdrawal"))
        .await;
    assert!(plain_client.is_err(), "{plain_client:?}");
}

#[tokio::test]
async fn mutual_tls_refuses_a_client_without_a_certificate() {
    let pki = Pki::new();
    let addr = tls_server(&pki, true);
    let refused = match tls_client(addr, &pki.ca_pem, None).await {
        Err(e) => Err(e.to_string()),
        Ok(mut c) => c
            .search(query("test withdrawal"))
            .await
            .map_err(|s| s.to_string()),
    };
    assert!(
        refused.is_err(),
        "a client without a certificate was served"
    );
    let mut c = tls_client(addr, &pki.ca_pem, Some(pki.issue("agent-console")))
        .await
        .unwrap();
    let r = search(&mut c, query("test withdrawal")).await;
    assert_eq!(r.hits[0].id, "fx-withdrawal");
}

/// Fetches `http://addr/metrics` with a plain HTTP/1.1 request.
pub(crate) async fn scrape(addr: SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).await.unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    body
}

#[tokio::test]
async fn metrics_are_scraped_over_http_after_a_few_calls() {
    let metrics = Metrics::new();
    let config = ServeConfig {
        metrics: metrics.clone(),
        ..ServeConfig::default()
    };
    let (addr, _) = spawn_server_with(engine(), std::future::pending(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = listener.local_addr().unwrap();
    tokio::spawn(faqd::server::serve_metrics(
        metrics,
        engine(),
        listener,
        std::future::pending(),
    ));
    let mut c = FaqServiceClient::new(plain(addr).await);
    for _ in 0..3 {
        search(&mut c, query("test withdrawal")).await;
    }
    let bad = c.search(query("   ")).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);

    let text = scrape(metrics_addr).await;
    for line in [
        r#"faqd_requests_total{code="0",method="Search"} 3"#,
        r#"faqd_requests_total{code="3",method="Search"} 1"#,
        r#"faqd_request_duration_seconds_count{lang="en",method="Search"} 3"#,
        r#"faqd_searches_total{answered="true",lang="en"} 3"#,
        "faqd_generation 1",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    assert!(text.contains("faqd_articles "), "{text}");
}

async fn calls_beyond_a_tiny_concurrency_limit_answer_resource_exhausted(search_on_workers: bool) {
    let config = ServeConfig {
        limits: Limits {
            concurrent: 1,
            queued: Some(0),
            request_timeout: None,
        },
        search_on_workers,
        ..ServeConfig::default()
    };
    let (addr, _) = spawn_server_with(engine(), std::future::pending(), config);
    let c = FaqServiceClient::new(plain(addr).await);
    // Sent together on one connection: while one searches, the others find no slot.
    let calls: Vec<_> = (0..200)
        .map(|i| {
            let mut c = c.clone();
            tokio::spawn(async move {
                c.search(query(&format!("test withdrawal fee limit {i}")))
                    .await
                    .map(drop)
            })
        })
        .collect();
    let (mut ok, mut shed) = (0, 0);
    for call in calls {
        match call.await.unwrap() {
            Ok(()) => ok += 1,
            Err(s) if s.code() == Code::ResourceExhausted => shed += 1,
            Err(s) => panic!("unexpected status {s:?}"),
        }
    }
    assert!(ok >= 1 && shed >= 1, "ok {ok}, shed {shed}");
}

#[tokio::test]
async fn a_tiny_concurrency_limit_answers_resource_exhausted_beyond_it() {
    calls_beyond_a_tiny_concurrency_limit_answer_resource_exhausted(false).await;
}

/// On the workers a call waiting behind another's search is only a task; it must still hold
/// a queue place, or the limit would never be reached.
#[tokio::test]
async fn searches_on_the_workers_are_shed_beyond_a_tiny_concurrency_limit_too() {
    calls_beyond_a_tiny_concurrency_limit_answer_resource_exhausted(true).await;
}

async fn an_expired_call_is_never_searched(search_on_workers: bool) {
    let engine = own_engine();
    let config = ServeConfig {
        limits: Limits {
            request_timeout: Some(Duration::ZERO),
            ..Limits::default()
        },
        search_on_workers,
        ..ServeConfig::default()
    };
    let (addr, _) = spawn_server_with(engine.clone(), std::future::pending(), config);
    let mut c = FaqServiceClient::new(plain(addr).await);
    let s = c.search(query("test withdrawal")).await.unwrap_err();
    assert_eq!(s.code(), Code::DeadlineExceeded, "{s:?}");
    assert_eq!(engine.searches_served(), 0, "the expired call was searched");
}

#[tokio::test]
async fn a_call_past_its_deadline_is_deadline_exceeded_and_never_searched() {
    an_expired_call_is_never_searched(false).await;
}

#[tokio::test]
async fn a_call_past_its_deadline_is_never_searched_on_the_workers_either() {
    an_expired_call_is_never_searched(true).await;
}

async fn status(channel: Channel, service: &str) -> i32 {
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .unwrap_or_else(|s| panic!("health check {service:?}: {s:?}"))
        .into_inner()
        .status
}

#[tokio::test]
async fn health_reports_not_serving_during_the_drain_while_calls_are_still_answered() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let config = ServeConfig {
        drain: Duration::from_secs(3600),
        ..ServeConfig::default()
    };
    let (addr, _) = spawn_server_with(
        engine(),
        async {
            let _ = rx.await;
        },
        config,
    );
    let channel = plain(addr).await;
    assert_eq!(
        status(channel.clone(), "").await,
        ServingStatus::Serving as i32
    );
    tx.send(()).unwrap();
    let mut overall = status(channel.clone(), "").await;
    for _ in 0..500 {
        if overall == ServingStatus::NotServing as i32 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        overall = status(channel.clone(), "").await;
    }
    assert_eq!(overall, ServingStatus::NotServing as i32);
    assert_eq!(
        status(channel.clone(), "faq.v1.FaqService").await,
        ServingStatus::NotServing as i32
    );
    // Load balancers take the server out while it still answers, on new connections too.
    let mut c = FaqServiceClient::new(plain(addr).await);
    assert_eq!(
        search(&mut c, query("test withdrawal")).await.hits[0].id,
        "fx-withdrawal"
    );
}

#[tokio::test]
async fn an_open_watch_stream_does_not_keep_the_server_from_stopping() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let config = ServeConfig {
        drain: Duration::ZERO,
        grace: Duration::from_millis(200),
        ..ServeConfig::default()
    };
    let (addr, handle) = spawn_server_with(
        engine(),
        async {
            let _ = rx.await;
        },
        config,
    );
    let mut watch = HealthClient::new(plain(addr).await)
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = watch.message().await.unwrap().unwrap();
    assert_eq!(first.status, ServingStatus::Serving as i32);
    tx.send(()).unwrap();
    let next = watch.message().await.unwrap().unwrap();
    assert_eq!(next.status, ServingStatus::NotServing as i32);
    crate::common::join_server(handle).await;
}

#[tokio::test]
async fn silent_connections_are_closed_so_the_connection_limit_frees_up() {
    use tokio::io::AsyncReadExt;
    let config = ServeConfig {
        connections: faqd::server::ConnLimits {
            max_connections: 1,
            preface_timeout: Duration::from_millis(300),
            idle_timeout: None,
        },
        ..ServeConfig::default()
    };
    let (addr, _) = spawn_server_with(engine(), std::future::pending(), config);
    // A socket that never sends the HTTP/2 preface takes the only connection slot...
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    // ...until the server closes it (end of stream, or a reset); the server's own SETTINGS
    // frame comes first.
    let closed = async {
        let mut buf = [0u8; 256];
        while let Ok(1..) = silent.read(&mut buf).await {}
    };
    tokio::time::timeout(Duration::from_secs(60), closed)
        .await
        .expect("the silent connection was never closed");
    // The slot is free again: a client is served.
    assert_eq!(
        status(plain(addr).await, "").await,
        ServingStatus::Serving as i32
    );
}

#[tokio::test]
async fn a_connection_without_calls_is_closed_after_the_idle_timeout() {
    let config = ServeConfig {
        connections: faqd::server::ConnLimits {
            max_connections: 1,
            preface_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_millis(200)),
        },
        ..ServeConfig::default()
    };
    let (addr, _) = spawn_server_with(engine(), std::future::pending(), config);
    // A client that made one call and keeps its channel takes the only slot...
    let first = plain(addr).await;
    assert_eq!(
        status(first.clone(), "").await,
        ServingStatus::Serving as i32
    );
    // ...until its connection has had no call for the idle timeout: then a second client is
    // served.
    let second = tokio::time::timeout(Duration::from_secs(60), async {
        status(plain(addr).await, "").await
    })
    .await
    .expect("the idle connection was never closed");
    assert_eq!(second, ServingStatus::Serving as i32);
    drop(first);
}

#[tokio::test]
async fn an_open_watch_stream_keeps_its_connection_from_counting_as_idle() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let config = ServeConfig {
        connections: faqd::server::ConnLimits {
            idle_timeout: Some(Duration::from_millis(100)),
            ..faqd::server::ConnLimits::default()
        },
        drain: Duration::from_secs(3600),
        ..ServeConfig::default()
    };
    let (addr, _) = spawn_server_with(
        engine(),
        async {
            let _ = rx.await;
        },
        config,
    );
    let mut watch = HealthClient::new(plain(addr).await)
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        watch.message().await.unwrap().unwrap().status,
        ServingStatus::Serving as i32
    );
    // Several idle timeouts pass with the stream open and nothing sent on it.
    tokio::time::sleep(Duration::from_millis(800)).await;
    tx.send(()).unwrap();
    let next = watch.message().await.expect("the stream was cut").unwrap();
    assert_eq!(next.status, ServingStatus::NotServing as i32);
}

/// Sends `body` as a Search request message, bypassing the generated encoder.
async fn raw_search(addr: SocketAddr, body: Vec<u8>) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(plain(addr).await);
    grpc.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/faq.v1.FaqService/Search");
    grpc.unary::<_, Vec<u8>, _>(tonic::Request::new(body), path, RawCodec)
        .await
        .expect_err("a malformed request must fail")
}

#[tokio::test]
async fn malformed_protobuf_and_invalid_utf8_are_invalid_argument() {
    let (addr, _) = spawn_server_with(engine(), std::future::pending(), ServeConfig::default());
    // Field 1 (query), length 3, with bytes that are not UTF-8.
    let s = raw_search(addr, vec![0x0a, 0x03, b'a', 0xff, 0xfe]).await;
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    // A length running past the end of the message.
    let s = raw_search(addr, vec![0x0a, 0x7f, b'a']).await;
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
}

#[tokio::test]
async fn a_huge_invalid_value_is_clipped_and_every_answer_carries_a_request_id() {
    let (addr, _) = spawn_server_with(engine(), std::future::pending(), ServeConfig::default());
    let mut c = FaqServiceClient::new(plain(addr).await);
    let mut r = query("test withdrawal");
    r.agent_language = Some("x".repeat(3_000_000));
    let mut request = tonic::Request::new(r);
    request
        .metadata_mut()
        .insert("x-request-id", "ticket-4711".parse().unwrap());
    let s = c.search(request).await.unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{:?}", s.code());
    assert!(
        s.message().chars().count() <= 130,
        "{} chars",
        s.message().len()
    );
    assert!(s.message().starts_with("agent_language"), "{}", s.message());
    assert_eq!(s.metadata().get("x-request-id").unwrap(), "ticket-4711");
    let ok = c.search(query("test withdrawal")).await.unwrap();
    assert!(!ok.metadata().get("x-request-id").unwrap().is_empty());
}

/// Passes message bytes through unchanged.
#[derive(Default)]
struct RawCodec;

struct RawEncoder;
struct RawDecoder;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes::Buf;
        let mut out = vec![0; src.remaining()];
        src.copy_to_slice(&mut out);
        Ok(Some(out))
    }
}

/// `faqd serve` refuses, before it serves anything and with exit code 2 (a bad flag value):
/// a TLS key file that holds no key (the certificate given twice: before, the server logged
/// that it was serving, then died on tonic's parse error, which named no file), a
/// certificate file without a certificate, and the admin API on a non-loopback address
/// without TLS (its token would travel in plain text).
#[test]
fn serve_refuses_bad_tls_files_and_a_plaintext_admin_api_off_the_machine() {
    let dir = crate::common::tempdir();
    let pki = Pki::new();
    let (cert, key) = pki.issue("localhost");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let (cert, key) = (write("cert.pem", &cert), write("key.pem", &key));
    let token = write("admin.token", "a-token-for-this-test\n");
    let index = dir.path().join("index").display().to_string();
    let serve = |extra: &[&str]| {
        let out = crate::common::faqd_command()
            .args(["serve", "--no-model", "--index-dir", &index, "--drain", "0"])
            .args(extra)
            .output()
            .expect("run faqd serve");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    for (args, expected) in [
        (
            vec![
                "--listen",
                "127.0.0.1:0",
                "--tls-cert",
                &cert,
                "--tls-key",
                &cert,
            ],
            format!("--tls-key {cert}: no usable PEM private key"),
        ),
        (
            vec![
                "--listen",
                "127.0.0.1:0",
                "--tls-cert",
                &key,
                "--tls-key",
                &key,
            ],
            format!("--tls-cert {key}: no PEM certificate"),
        ),
        (
            vec!["--listen", "0.0.0.0:0", "--admin-token-file", &token],
            "would receive its token in plain text".to_string(),
        ),
    ] {
        let (code, stderr) = serve(&args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("faqd serving gRPC"), "{args:?}: {stderr}");
    }
    assert!(
        !dir.path().join("index").exists(),
        "refused before the index was opened (or built)"
    );
}

/// Admin calls are counted by method and status code like FaqService's, failed logins too
/// (method `Admin`), and carry the request id: before, a refused Reindex or a token guess left
/// nothing to alert on.
#[tokio::test]
async fn admin_calls_are_counted_and_carry_their_request_id() {
    use faqd::proto::admin_service_client::AdminServiceClient;
    use faqd::proto::{ReindexRequest, StatsRequest};
    let metrics = Metrics::new();
    let config = ServeConfig {
        metrics: metrics.clone(),
        admin_token: Some("the-token".into()),
        ..ServeConfig::default()
    };
    let engine = own_engine();
    let (addr, _) = spawn_server_with(engine.clone(), std::future::pending(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = listener.local_addr().unwrap();
    tokio::spawn(faqd::server::serve_metrics(
        metrics,
        engine,
        listener,
        std::future::pending(),
    ));
    let mut a = AdminServiceClient::new(plain(addr).await);
    fn asked<T>(message: T, token: &str, id: &str) -> tonic::Request<T> {
        let mut r = tonic::Request::new(message);
        let m = r.metadata_mut();
        m.insert("authorization", format!("Bearer {token}").parse().unwrap());
        m.insert("x-request-id", id.parse().unwrap());
        r
    }
    let ok = a
        .stats(asked(StatsRequest {}, "the-token", "adm-1"))
        .await
        .unwrap();
    assert_eq!(ok.metadata().get("x-request-id").unwrap(), "adm-1");
    let refused = a
        .reindex(asked(
            ReindexRequest {
                paths: vec!["faq.jsonl".into()],
                ..Default::default()
            },
            "the-token",
            "adm-2",
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert_eq!(refused.metadata().get("x-request-id").unwrap(), "adm-2");
    let guessed = a
        .stats(asked(StatsRequest {}, "a-guess", "adm-3"))
        .await
        .unwrap_err();
    assert_eq!(guessed.code(), Code::Unauthenticated);
    assert_eq!(guessed.metadata().get("x-request-id").unwrap(), "adm-3");

    let text = scrape(metrics_addr).await;
    for line in [
        r#"faqd_requests_total{code="0",method="Stats"} 1"#,
        r#"faqd_requests_total{code="9",method="Reindex"} 1"#,
        r#"faqd_requests_total{code="16",method="Admin"} 1"#,
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
}
