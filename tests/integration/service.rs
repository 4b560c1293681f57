//! The service around the API: health, graceful shutdown, and serving a new generation.

use crate::common::{build_index, connect, fixture, query, search, shipped_server, spawn_server};
use faqd::engine::{Engine, Settings};
use faqd::index::{self, BuildOptions};
use faqd::kb;
use faqd::proto::GetArticleRequest;
use std::sync::Arc;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

async fn health(addr: std::net::SocketAddr, service: &str) -> i32 {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
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
async fn health_reports_serving_for_the_server_and_faq_service() {
    let addr = shipped_server().addr;
    assert_eq!(health(addr, "").await, ServingStatus::Serving as i32);
    assert_eq!(
        health(addr, "faq.v1.FaqService").await,
        ServingStatus::Serving as i32
    );
}

#[tokio::test]
async fn serve_returns_ok_when_its_shutdown_future_completes() {
    let dir = build_index(&kb::sources(&[fixture("small.jsonl")], None));
    let engine = Arc::new(Engine::open(dir.path(), Settings::default()).unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr, handle) = spawn_server(engine, async {
        let _ = rx.await;
    });
    let mut c = connect(addr).await;
    let r = search(&mut c, query("test withdrawal")).await;
    assert_eq!(r.hits[0].id, "fx-withdrawal");
    drop(c);
    tx.send(()).unwrap();
    crate::common::join_server(handle).await;
}

#[tokio::test]
async fn reload_serves_a_newly_published_generation_and_ignores_failed_builds() {
    let dir = build_index(&kb::sources(&[fixture("small.jsonl")], None));
    let root = dir.path().to_path_buf();
    let engine = Arc::new(Engine::open(&root, Settings::default()).unwrap());
    let (addr, _handle) = spawn_server(engine.clone(), std::future::pending());
    let mut c = connect(addr).await;
    assert_eq!(search(&mut c, query("test withdrawal")).await.generation, 1);

    // A failed build publishes nothing: reload keeps generation 1.
    let bad = kb::sources(&[fixture("bad_missing_title.jsonl")], None);
    assert!(kb::build(&root, &bad, false, &BuildOptions::default()).is_err());
    assert_eq!(engine.reload().unwrap(), 1);

    // A new dump with one more article, published as generation 2.
    let extra = crate::common::tempdir();
    let dump = extra.path().join("more.jsonl");
    let mut text = std::fs::read_to_string(fixture("small.jsonl")).unwrap();
    text.push_str(
        r#"{"id": "fx-new", "lang": "en", "title": "Brand new staking article", "answer": "Staking rewards are paid daily.", "category": "events"}"#,
    );
    text.push('\n');
    std::fs::write(&dump, text).unwrap();
    let built = kb::build(
        &root,
        &kb::sources(&[dump], None),
        false,
        &BuildOptions::default(),
    )
    .unwrap();
    assert_eq!(built.meta.generation, 2);
    assert_eq!(index::current_generation(&root).unwrap(), Some(2));
    // Not served until reloaded.
    let r = search(&mut c, query("staking rewards")).await;
    assert_eq!(r.generation, 1);
    assert!(r.hits.iter().all(|h| h.id != "fx-new"), "{r:?}");

    assert_eq!(engine.reload().unwrap(), 2);
    let r = search(&mut c, query("staking rewards")).await;
    assert_eq!(r.generation, 2);
    assert_eq!(
        r.hits.first().map(|h| h.id.as_str()),
        Some("fx-new"),
        "{r:?}"
    );
    let a = c
        .get_article(GetArticleRequest {
            id: "fx-new".into(),
            language: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(a.translations.len(), 1);
}
