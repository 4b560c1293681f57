//! The admin API (faq.v1.AdminService) through a real server: the token check, re-indexing,
//! upserts and deletes visible to the next search, stats, and searches that never fail while
//! generations are swapped under them.

use crate::common::{
    build_index, connect, fixture, query, query_k, search, spawn_server_with, tempdir, Client,
};
use faqd::admin::DumpDir;
use faqd::engine::{Engine, SearchParams, Settings};
use faqd::ingest::Article;
use faqd::kb;
use faqd::proto::admin_service_client::AdminServiceClient;
use faqd::proto::{
    ArticleRecord, DeleteArticlesRequest, GetArticleRequest, MutationResponse, ReindexRequest,
    ReindexResponse, ReloadRequest, StatsRequest, StatsResponse, UpsertArticlesRequest,
};
use faqd::server::ServeConfig;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tempfile::TempDir;
use tonic::transport::Channel;
use tonic::Code;

const TOKEN: &str = "test-admin-token-0123456789abcdef";

type Admin = AdminServiceClient<Channel>;

/// A server over `tests/fixtures/small.jsonl` with the admin API enabled (or not).
fn server(token: Option<&str>) -> (SocketAddr, TempDir) {
    let dir = build_index(&kb::sources(&[fixture("small.jsonl")], None));
    let engine = Arc::new(Engine::open(dir.path(), Settings::default()).expect("open engine"));
    let config = ServeConfig {
        admin_token: token.map(str::to_string),
        dumps: Some(dump_dir()),
        ..ServeConfig::default()
    };
    let (addr, _handle) = spawn_server_with(engine, std::future::pending(), config);
    (addr, dir)
}

async fn admin(addr: SocketAddr) -> Admin {
    AdminServiceClient::connect(format!("http://{addr}"))
        .await
        .expect("connect admin client")
}

/// Wraps a message with the bearer token.
fn auth<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii metadata"),
    );
    r
}

fn record(id: &str, lang: &str, title: &str, answer: &str) -> ArticleRecord {
    ArticleRecord {
        id: id.into(),
        language: lang.into(),
        title: title.into(),
        answer: answer.into(),
        category: "events".into(),
        ..Default::default()
    }
}

async fn stats(a: &mut Admin) -> StatsResponse {
    a.stats(auth(StatsRequest {}, TOKEN))
        .await
        .expect("stats")
        .into_inner()
}

/// The dump directory of the test servers: the fixtures.
fn dump_dir() -> DumpDir {
    DumpDir::new(&fixture("."), 1 << 20).expect("fixtures directory")
}

/// Re-indexes from `dump`, a path inside the dump directory.
async fn reindex(
    a: &mut Admin,
    dump: &str,
    format: Option<&str>,
    skip_invalid: bool,
) -> Result<ReindexResponse, tonic::Status> {
    let request = ReindexRequest {
        paths: vec![dump.to_string()],
        format: format.map(str::to_string),
        skip_invalid,
    };
    a.reindex(auth(request, TOKEN))
        .await
        .map(|r| r.into_inner())
}

async fn upsert(
    a: &mut Admin,
    articles: Vec<ArticleRecord>,
) -> Result<MutationResponse, tonic::Status> {
    let request = UpsertArticlesRequest { articles };
    a.upsert_articles(auth(request, TOKEN))
        .await
        .map(|r| r.into_inner())
}

async fn delete(
    a: &mut Admin,
    ids: &[&str],
    language: Option<&str>,
) -> Result<MutationResponse, tonic::Status> {
    let request = DeleteArticlesRequest {
        ids: ids.iter().map(|s| s.to_string()).collect(),
        language: language.map(str::to_string),
    };
    a.delete_articles(auth(request, TOKEN))
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn admin_api_is_disabled_without_a_token() {
    let (addr, _dir) = server(None);
    let err = admin(addr)
        .await
        .stats(auth(StatsRequest {}, TOKEN))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented, "{err:?}");
    assert!(err.message().contains("disabled"), "{err:?}");
}

#[tokio::test]
async fn admin_calls_without_the_right_token_are_unauthenticated_and_search_stays_open() {
    let (addr, _dir) = server(Some(TOKEN));
    let mut a = admin(addr).await;
    let missing = a.stats(StatsRequest {}).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated, "{missing:?}");
    assert!(missing.message().contains("Bearer"), "{missing:?}");
    // A token without its scheme is told so, not called missing (user trial).
    let mut bare = tonic::Request::new(StatsRequest {});
    bare.metadata_mut()
        .insert("authorization", TOKEN.parse().unwrap());
    let err = a.stats(bare).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    assert!(
        err.message()
            .starts_with("the `authorization` metadata is not `Bearer <token>`"),
        "{err:?}"
    );
    for wrong in [
        "test-admin-token-0123456789abcdeX",
        "test-admin-token",
        "x",
        &format!("{TOKEN}0"),
    ] {
        let err = a.stats(auth(StatsRequest {}, wrong)).await.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{wrong}: {err:?}");
    }
    // An edit with a wrong token changes nothing.
    let request = DeleteArticlesRequest {
        ids: vec!["fx-withdrawal".into()],
        language: None,
    };
    let err = a
        .delete_articles(auth(request, "wrong-token-wrong-token"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let mut c = connect(addr).await;
    let r = search(&mut c, query("test withdrawal")).await;
    assert_eq!(r.hits[0].id, "fx-withdrawal");
    assert_eq!(r.generation, 1);
    assert_eq!(stats(&mut a).await.generation, 1);
}

#[tokio::test]
async fn upserts_and_deletes_are_visible_to_the_next_search() {
    let (addr, _dir) = server(Some(TOKEN));
    let mut a = admin(addr).await;
    let mut c = connect(addr).await;
    let before = stats(&mut a).await;
    assert_eq!(before.articles_by_language.get("en"), Some(&3));
    // What SearchRequest.category accepts, sorted.
    assert_eq!(
        before.categories,
        ["api", "deposits-withdrawals", "security"]
    );

    // A new article and a new Korean version of an existing one.
    let staking = record(
        "fx-staking",
        "en",
        "Test staking rewards",
        "Staking rewards are paid every Monday.",
    );
    let korean = record(
        "fx-api-key",
        "ko",
        "테스트 API 키 발급",
        "테스트 API 키는 설정에서 만듭니다.",
    );
    let done = upsert(&mut a, vec![staking, korean]).await.unwrap();
    assert_eq!((done.changed, done.generation), (2, 2));
    assert_eq!(
        stats(&mut a).await.categories,
        ["api", "deposits-withdrawals", "events", "security"],
        "the new article's category"
    );
    let r = search(&mut c, query("staking rewards")).await;
    assert_eq!(r.generation, 2);
    assert_eq!(r.hits[0].id, "fx-staking", "{r:?}");
    let r = search(&mut c, query("테스트 API 키 발급")).await;
    assert_eq!(r.hits[0].id, "fx-api-key", "{r:?}");
    assert_eq!(r.hits[0].language, "ko");

    // Replacing a version: the next search sees the new text only.
    let replaced = record(
        "fx-staking",
        "en",
        "Test staking payouts",
        "Staking payouts arrive every Friday.",
    );
    upsert(&mut a, vec![replaced]).await.unwrap();
    let r = search(&mut c, query("staking payouts friday")).await;
    assert_eq!(r.hits[0].id, "fx-staking");
    assert_eq!(r.hits[0].title, "Test staking payouts");

    // Unknown ids change nothing.
    let err = delete(&mut a, &["fx-staking", "no-such-article"], None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(err.message().contains("no-such-article"), "{err:?}");
    assert_eq!(search(&mut c, query("staking payouts")).await.generation, 3);

    // Deleting one language keeps the others; deleting the id removes it.
    let done = delete(&mut a, &["fx-api-key"], Some("ko")).await.unwrap();
    assert_eq!(done.changed, 1);
    let group = c
        .get_article(GetArticleRequest {
            id: "fx-api-key".into(),
            language: None,
        })
        .await
        .unwrap()
        .into_inner();
    let langs: Vec<&str> = group
        .translations
        .iter()
        .map(|t| t.language.as_str())
        .collect();
    assert_eq!(langs, ["en", "zh"]);
    delete(&mut a, &["fx-staking"], None).await.unwrap();
    let r = search(&mut c, query("staking payouts friday")).await;
    assert!(r.hits.iter().all(|h| h.id != "fx-staking"), "{r:?}");
    let err = c
        .get_article(GetArticleRequest {
            id: "fx-staking".into(),
            language: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    let after = stats(&mut a).await;
    assert_eq!(after.generation, 5);
    assert_eq!(after.articles_by_language, before.articles_by_language);
    assert_eq!(after.article_ids, before.article_ids);
    assert!(
        after.sources.iter().any(|s| s.contains("4 admin edit(s)")),
        "{after:?}"
    );
    // A refused search (top_k over 50) is not served.
    let refused = c.search(query_k("staking", 99)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(stats(&mut a).await.searches_served, 5, "{after:?}");
    let shipped_glossary = faqd::translate::glossary::GlossarySource::Shipped
        .load()
        .unwrap()
        .len();
    assert_eq!(after.glossary_concepts as usize, shipped_glossary);
    assert!(after.translation_memory_entries > 0, "{after:?}");
    // The two versions in `events` (fx-staking's and fx-api-key's Korean one, both from
    // `record`) are deleted.
    assert_eq!(after.categories, before.categories);
}

/// fx-otp-reset has a zh-Hant version and no zh one: a Simplified question sees it
/// converted. The engine keeps conversions; after an edit, Search and GetArticle must show
/// the new text converted, not the old one kept.
#[tokio::test]
async fn an_edited_article_is_shown_converted_from_its_new_text() {
    let (addr, _dir) = server(Some(TOKEN));
    let mut a = admin(addr).await;
    let mut c = connect(addr).await;
    let shown = |r: &faqd::proto::SearchResponse| {
        let h = &r.hits[0];
        (
            h.id.clone(),
            h.language.clone(),
            h.converted,
            h.answer.clone(),
        )
    };
    let first = search(&mut c, query("测试OTP怎么重设")).await;
    let again = search(&mut c, query("测试OTP怎么重设")).await;
    assert_eq!(shown(&first), shown(&again));
    let (id, language, converted, answer) = shown(&first);
    assert_eq!(
        (id.as_str(), language.as_str(), converted),
        ("fx-otp-reset", "zh", true)
    );
    assert!(answer.contains("审核需要2天"), "{answer}");

    let mut edited = record(
        "fx-otp-reset",
        "zh-Hant",
        "測試OTP重設",
        "重設審核需要3個工作天。",
    );
    edited.category = "security".into();
    upsert(&mut a, vec![edited]).await.unwrap();
    let r = search(&mut c, query("测试OTP怎么重设")).await;
    let (id, language, converted, answer) = shown(&r);
    assert_eq!(
        (id.as_str(), language.as_str(), converted),
        ("fx-otp-reset", "zh", true)
    );
    // (Taiwan's `工作天` in the mainland's word.)
    assert!(answer.contains("审核需要3个工作日"), "{answer}");
    // The article as GetArticle shows it to a Simplified reader: the new text too.
    let article = c
        .get_article(GetArticleRequest {
            id: "fx-otp-reset".into(),
            language: Some("zh".into()),
        })
        .await
        .expect("get article")
        .into_inner();
    let zh = article.article.expect("the version asked for");
    assert_eq!((zh.language.as_str(), zh.converted), ("zh", true), "{zh:?}");
    assert!(zh.answer.contains("审核需要3个工作日"), "{zh:?}");
}

/// Stats names how hybrid ranking weighs the served knowledge base, decided anew for each
/// generation: an FAQ, until admin edits make most of its versions passages.
#[tokio::test]
async fn stats_name_the_weighing_and_an_edit_can_change_it() {
    let (addr, _dir) = server(Some(TOKEN));
    let mut a = admin(addr).await;
    assert_eq!(stats(&mut a).await.weighed_as, "faq");
    let passage = |i: usize| {
        record(
            &format!("manual-{i}"),
            "en",
            &format!("Manual, chapter {i}"),
            &format!(
                "Chapter {i} of the operator's manual. {}",
                "The service keeps each published generation until three newer ones exist. "
                    .repeat(3)
            ),
        )
    };
    // Eight FAQ versions and nine passages: most versions are documents now.
    upsert(&mut a, (0..9).map(passage).collect()).await.unwrap();
    assert_eq!(stats(&mut a).await.weighed_as, "documents");
    let ids: Vec<String> = (0..9).map(|i| format!("manual-{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    delete(&mut a, &ids, None).await.unwrap();
    assert_eq!(stats(&mut a).await.weighed_as, "faq");
}

#[tokio::test]
async fn invalid_upserts_and_deletes_name_the_problem_and_change_nothing() {
    let (addr, _dir) = server(Some(TOKEN));
    let mut a = admin(addr).await;
    let mut bad_time = record("fx-a", "en", "A title", "An answer");
    bad_time.updated_at = "yesterday".into();
    for (articles, expected) in [
        (
            vec![
                record("fx-ok", "en", "Fine", "Fine"),
                record("fx-b", "en", " ", "x"),
            ],
            "article 2: field `title`",
        ),
        (
            vec![record("fx-c", "jp", "Title", "x")],
            "article 1: field `language`",
        ),
        (vec![record("", "en", "Title", "x")], "field `id`"),
        (vec![bad_time], "field `updated_at`"),
        (
            vec![record(
                "fx-e",
                "en",
                "출금 방법",
                "지갑에서 출금을 누르세요",
            )],
            "article 1: field `language`: `en`, but the text of its title, questions and \
             answer is Korean",
        ),
        (
            vec![
                record("fx-d", "en", "One", "x"),
                record("fx-d", "en-US", "Two", "x"),
            ],
            "given twice",
        ),
        (vec![], "at least one"),
    ] {
        let err = upsert(&mut a, articles).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{expected}: {err:?}");
        assert!(err.message().contains(expected), "{expected}: {err:?}");
    }
    for (ids, lang, expected) in [
        (vec![], None, "at least one"),
        (vec![" "], None, "at least one"),
        (vec!["fx-withdrawal"], Some("jp"), "language"),
    ] {
        let err = delete(&mut a, &ids, lang).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{expected}: {err:?}");
        assert!(err.message().contains(expected), "{expected}: {err:?}");
    }
    let err = delete(&mut a, &["fx-api-key"], Some("ko"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "fx-api-key has no ko: {err:?}");
    // The id quoted, not the id and the language as one string (user trial).
    assert!(
        err.message()
            .starts_with("article \"fx-api-key\" in ko not found"),
        "{err:?}"
    );
    assert_eq!(stats(&mut a).await.generation, 1, "nothing was published");
}

#[tokio::test]
async fn reindex_with_a_bad_dump_keeps_serving_and_a_good_one_is_served_at_once() {
    let (addr, _dir) = server(Some(TOKEN));
    let mut a = admin(addr).await;
    let mut c = connect(addr).await;
    let bad = "bad_missing_title.jsonl";
    let err = reindex(&mut a, bad, None, false).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message()
            .contains("bad_missing_title.jsonl:2: field `title`"),
        "{err:?}"
    );
    let err = reindex(&mut a, "missing.jsonl", None, false)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("missing.jsonl"), "{err:?}");
    assert!(
        err.message().contains(&format!(
            "(in the dump directory {})",
            faqd::ingest::absolute(&crate::common::fixture(".")).display()
        )),
        "{err:?}"
    );
    let err = reindex(&mut a, bad, Some("xml"), false).await.unwrap_err();
    assert!(err.message().contains("format"), "{err:?}");
    let r = search(&mut c, query("test withdrawal")).await;
    assert_eq!((r.generation, r.hits[0].id.as_str()), (1, "fx-withdrawal"));

    // Skipping the bad record publishes the rest and reports what was skipped.
    let done = reindex(&mut a, bad, Some("jsonl"), true).await.unwrap();
    assert_eq!(done.generation, 2);
    assert_eq!(done.skipped.len(), 1, "{done:?}");
    assert_eq!(done.skipped_records, 1, "{done:?}");
    assert!(done.skipped[0].contains(":2: field `title`"), "{done:?}");
    assert!(done.ignored_fields.is_empty(), "{done:?}");
    // The generation remembers them (trial: after a restart nothing said a build had
    // skipped any), and so does an admin edit on top of it.
    let s = stats(&mut a).await;
    assert_eq!(
        (s.skipped_records, s.skipped.clone()),
        (1, done.skipped.clone())
    );
    delete(&mut a, &["fx-bad-c"], None).await.unwrap();
    let s = stats(&mut a).await;
    assert_eq!((s.generation, s.skipped_records), (3, 1), "{s:?}");
    let reopened = Engine::open(_dir.path(), Settings::default()).unwrap();
    assert_eq!(reopened.generation().meta.skipped, done.skipped);

    let done = reindex(&mut a, "small_zendesk.json", None, false)
        .await
        .unwrap();
    assert_eq!(done.generation, 4);
    assert_eq!(stats(&mut a).await.skipped_records, 0);
    let r = search(&mut c, query("test withdrawal")).await;
    assert_eq!((r.generation, r.hits[0].id.as_str()), (4, "fx-withdrawal"));
    // The generation records the dump by its absolute path, as `faqd index` does, so a
    // server restarted with `--source` on that file knows it built it (trial: it recorded
    // `small_zendesk.json`, and a restart with a broken dump refused to start).
    let fixtures = std::fs::canonicalize(crate::common::fixture(".")).unwrap();
    assert_eq!(
        stats(&mut a).await.sources,
        [fixtures.join("small_zendesk.json").display().to_string()]
    );
    let reloaded = a
        .reload(auth(ReloadRequest {}, TOKEN))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((reloaded.previous_generation, reloaded.generation), (4, 4));
    assert!(reloaded.glossary_concepts > 100, "{reloaded:?}");

    // Keys that are not faqd's are ignored, and the reply names each one once.
    let done = reindex(&mut a, "extra_fields.jsonl", None, false)
        .await
        .unwrap();
    assert_eq!((done.generation, done.article_versions), (5, 2));
    assert_eq!(done.ignored_fields.len(), 2, "{done:?}");
    assert!(
        done.ignored_fields[0].ends_with(
            "extra_fields.jsonl:1: field `author`: not a faqd field, ignored (2 records; first here)"
        ),
        "{done:?}"
    );
    assert!(done.ignored_fields[1].contains("field `views`"), "{done:?}");
}

/// Searches from several tasks while the index is re-indexed and edited repeatedly: every
/// search must succeed with the expected answer first.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn searches_never_fail_while_generations_are_swapped() {
    let (addr, _dir) = server(Some(TOKEN));
    let stop = Arc::new(AtomicBool::new(false));
    let searches = Arc::new(AtomicUsize::new(0));
    let cases = [
        ("test withdrawal", "fx-withdrawal"),
        ("테스트 OTP 초기화", "fx-otp-reset"),
        ("测试API密钥怎么创建", "fx-api-key"),
    ];
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (stop, searches) = (stop.clone(), searches.clone());
        tasks.push(tokio::spawn(async move {
            let mut c: Client = connect(addr).await;
            let mut generations = std::collections::BTreeSet::new();
            let mut i = t;
            while !stop.load(Ordering::Relaxed) {
                let (q, want) = cases[i % cases.len()];
                i += 1;
                let r = c
                    .search(query(q))
                    .await
                    .unwrap_or_else(|s| panic!("search {q:?} failed during a swap: {s:?}"))
                    .into_inner();
                assert_eq!(
                    r.hits.first().map(|h| h.id.as_str()),
                    Some(want),
                    "{q:?} in generation {}: {r:?}",
                    r.generation
                );
                generations.insert(r.generation);
                searches.fetch_add(1, Ordering::Relaxed);
            }
            generations
        }));
    }
    let mut a = admin(addr).await;
    let dumps = ["small.csv", "small_zendesk.json", "small.jsonl"];
    for round in 0..6 {
        if round % 2 == 0 {
            reindex(&mut a, dumps[round / 2], None, false)
                .await
                .unwrap();
        } else {
            let extra = record(
                &format!("fx-extra-{round}"),
                "en",
                "Test staking rewards",
                "Staking rewards are paid daily.",
            );
            upsert(&mut a, vec![extra]).await.unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut seen = std::collections::BTreeSet::new();
    for t in tasks {
        seen.extend(t.await.expect("search task"));
    }
    assert!(
        searches.load(Ordering::Relaxed) >= 12,
        "the searches ran alongside the swaps"
    );
    assert!(
        seen.len() >= 2,
        "searches saw several generations: {seen:?}"
    );
    assert_eq!(stats(&mut a).await.generation, 7);
}

#[tokio::test]
async fn an_edit_keeps_the_sources_fingerprint_so_a_restart_keeps_the_edit() {
    // `faqd serve --source X` rebuilds only when X changed: an admin edit must survive.
    let dir = tempdir();
    let sources = kb::sources(&[fixture("small.jsonl")], None);
    kb::build(dir.path(), &sources, false, &Default::default()).unwrap();
    let engine = Arc::new(Engine::open(dir.path(), Settings::default()).unwrap());
    let admin = faqd::admin::Admin::new(engine, 3);
    admin
        .upsert(vec![faqd::ingest::Article {
            id: "fx-kept".into(),
            lang: faqd::lang::Variant::En,
            title: "Kept after restart".into(),
            questions: vec![],
            answer: "Still here.".into(),
            category: String::new(),
            tags: vec![],
            url: String::new(),
            updated_at: String::new(),
        }])
        .unwrap();
    for explicit in [true, false] {
        let rebuilt =
            kb::ensure_built(dir.path(), &sources, explicit, &Default::default()).unwrap();
        assert!(
            rebuilt.is_none(),
            "explicit={explicit}: the edited index is kept"
        );
    }
    let engine = Engine::open(dir.path(), Settings::default()).unwrap();
    assert!(engine.generation().group("fx-kept").is_some());
}

#[test]
fn an_edited_generation_ranks_like_a_fresh_build_of_the_same_articles() {
    let dir = build_index(&kb::sources(&[fixture("small.jsonl")], None));
    let engine = Arc::new(Engine::open(dir.path(), Settings::default()).unwrap());
    let admin = faqd::admin::Admin::new(engine.clone(), 3);
    let mut article = Article::clone(&engine.generation().group("fx-withdrawal").unwrap()[1]);
    assert_eq!(article.lang, faqd::lang::Variant::En);
    article.title = "Test withdrawal to an external wallet".into();
    article.questions = vec!["why is my test withdrawal pending".into()];
    admin.upsert(vec![article]).unwrap();
    admin.delete(&["fx-api-key".to_string()], None).unwrap();

    let edited = engine.generation();
    let articles: Vec<Article> = edited
        .groups
        .iter()
        .flatten()
        .map(|a| Article::clone(a))
        .collect();
    let fresh_dir = tempdir();
    let lock = faqd::index::RootLock::acquire(fresh_dir.path()).unwrap();
    faqd::index::build_generation(&lock, &articles, Default::default(), &Default::default())
        .unwrap();
    drop(lock);
    let fresh = Engine::open(fresh_dir.path(), Settings::default()).unwrap();
    assert_eq!(fresh.generation().groups, edited.groups);
    for q in [
        "test withdrawal pending",
        "external wallet",
        "테스트 OTP 초기화",
        "测试API密钥怎么创建",
        "api key",
    ] {
        let ranked = |e: &Engine| -> Vec<(String, String)> {
            e.search(&SearchParams {
                query: q.into(),
                ..Default::default()
            })
            .unwrap()
            .hits
            .into_iter()
            .map(|h| (h.hit.version.id.clone(), format!("{:.4}", h.hit.confidence)))
            .collect()
        };
        assert_eq!(ranked(&engine), ranked(&fresh), "{q}");
    }
}

/// An English article none of the shipped ones resembles: `how do I frobnicate my widget`.
fn frobnication() -> Article {
    Article {
        id: "fx-frobnicate".into(),
        lang: faqd::lang::Variant::En,
        title: "Frobnication".into(),
        questions: vec!["how do I frobnicate my widget".into()],
        answer: "Ask support.".into(),
        category: String::new(),
        tags: Vec::new(),
        url: String::new(),
        updated_at: String::new(),
    }
}

/// An edit small enough not to be merged leaves the generation in several segments; a
/// phrasing's closeness, counted with the function words stored for its document, is then
/// read from the right segment: for a new article's phrasing (in the edit's segment) and for
/// a shipped one's (in the base segment). A query of one content word has coverage 1, so its
/// confidence is √closeness whatever the term statistics.
#[test]
fn phrasing_closeness_is_read_from_each_segment_of_an_edited_generation() {
    let dir = build_index(&kb::sources(&[], None));
    let engine = Arc::new(Engine::open(dir.path(), Settings::default()).unwrap());
    let admin = faqd::admin::Admin::new(engine.clone(), 3);
    let confidence = |q: &str, id: &str| -> f64 {
        let hits = engine
            .search(&SearchParams {
                query: q.into(),
                language: Some("en".into()),
                ..Default::default()
            })
            .unwrap()
            .hits;
        assert_eq!(hits[0].hit.version.id, id, "{q}");
        hits[0].hit.confidence
    };
    // `how do I withdraw coins`: the query has 4 of its 5 words.
    let shipped = confidence("how do I withdraw", "how-to-withdraw");
    assert!((shipped - (4.0f64 / 5.0).sqrt()).abs() < 1e-3, "{shipped}");
    admin.upsert(vec![frobnication()]).unwrap();
    let segments = engine
        .generation()
        .reader
        .searcher()
        .segment_readers()
        .len();
    assert!(
        segments > 1,
        "the edit is not merged: {segments} segment(s)"
    );
    // `how do I frobnicate my widget`: the query has 4 of its 6 words.
    let added = confidence("how do I frobnicate", "fx-frobnicate");
    assert!((added - (4.0f64 / 6.0).sqrt()).abs() < 1e-3, "{added}");
    let again = confidence("how do I withdraw", "how-to-withdraw");
    assert!((again - shipped).abs() < 1e-6, "{again} != {shipped}");
}

/// Term lookups are remembered per generation: a word looked up (and absent) before an edit
/// is found in the article the edit adds, and repeating a query gives the same hits and
/// confidences as its first run.
#[test]
fn a_word_looked_up_before_an_edit_is_found_after_it() {
    let dir = build_index(&kb::sources(&[], None));
    let engine = Arc::new(Engine::open(dir.path(), Settings::default()).unwrap());
    let admin = faqd::admin::Admin::new(engine.clone(), 3);
    let hits = |q: &str| -> Vec<(String, f64)> {
        engine
            .search(&SearchParams {
                query: q.into(),
                language: Some("en".into()),
                ..Default::default()
            })
            .unwrap()
            .hits
            .iter()
            .map(|h| (h.hit.version.id.clone(), h.hit.confidence))
            .collect()
    };
    let before = hits("frobnicate my widget");
    assert!(
        before.iter().all(|(id, _)| id != "fx-frobnicate"),
        "{before:?}"
    );
    let withdraw = hits("how do I withdraw");
    assert_eq!(hits("how do I withdraw"), withdraw, "a repeated query");
    admin.upsert(vec![frobnication()]).unwrap();
    let after = hits("frobnicate my widget");
    assert_eq!(after[0].0, "fx-frobnicate", "{after:?}");
    assert!(after[0].1 >= engine.threshold(), "{after:?}");
    assert_eq!(hits("frobnicate my widget"), after, "a repeated query");
}

/// A server over `small.jsonl` whose admin re-indexes read from `dumps` (or nowhere).
fn server_with_dumps(dumps: Option<DumpDir>) -> (SocketAddr, TempDir) {
    let dir = build_index(&kb::sources(&[fixture("small.jsonl")], None));
    let engine = Arc::new(Engine::open(dir.path(), Settings::default()).expect("open engine"));
    let config = ServeConfig {
        admin_token: Some(TOKEN.to_string()),
        keep_generations: 3,
        dumps,
        ..ServeConfig::default()
    };
    let (addr, _handle) = spawn_server_with(engine, std::future::pending(), config);
    (addr, dir)
}

/// Regression: Reindex read any path the server could (`../../etc/passwd`,
/// `/proc/self/environ`), blocked a thread forever on a FIFO, and echoed field values of
/// whatever it read.
#[tokio::test]
async fn reindex_reads_only_regular_files_inside_the_dump_directory() {
    let outside = tempdir();
    let dumps = outside.path().join("dumps");
    std::fs::create_dir(&dumps).unwrap();
    std::fs::copy(fixture("small.jsonl"), dumps.join("good.jsonl")).unwrap();
    std::fs::write(outside.path().join("secret.jsonl"), "{}").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.jsonl"),
        dumps.join("link.jsonl"),
    )
    .unwrap();
    let fifo = dumps.join("fifo.jsonl");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    std::fs::write(dumps.join("big.jsonl"), vec![b' '; 20_000]).unwrap();
    let long_lang = "x".repeat(5000);
    std::fs::write(
        dumps.join("noisy.jsonl"),
        format!(r#"{{"id": "a", "lang": "{long_lang}", "title": "t", "answer": "x"}}"#),
    )
    .unwrap();

    let (addr, _dir) = server_with_dumps(Some(DumpDir::new(&dumps, 16_384).unwrap()));
    let mut a = admin(addr).await;
    for (dump, expected) in [
        ("../secret.jsonl", "`..` leads out of the dump directory"),
        (
            "../../../../etc/passwd",
            "`..` leads out of the dump directory",
        ),
        ("/proc/self/environ", "an absolute path"),
        (".", "names the dump directory itself"),
        ("", "an empty path"),
        ("link.jsonl", "leads outside the dump directory"),
        ("fifo.jsonl", "not a regular file"),
        ("big.jsonl", "over the dump size limit of 16384 bytes"),
        ("missing.jsonl", "missing.jsonl"),
    ] {
        let err = reindex(&mut a, dump, None, false).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{dump}: {err:?}");
        assert!(err.message().contains(expected), "{dump}: {err:?}");
    }
    let err = reindex(&mut a, "noisy.jsonl", None, false)
        .await
        .unwrap_err();
    assert!(
        err.message().contains("noisy.jsonl:1: field `lang`") && err.message().len() < 400,
        "a short excerpt only: {err:?}"
    );
    assert_eq!(stats(&mut a).await.generation, 1, "nothing was published");
    let done = reindex(&mut a, "good.jsonl", None, false).await.unwrap();
    assert_eq!(done.generation, 2);

    // Without a dump directory, Reindex is refused.
    let (addr, _dir) = server_with_dumps(None);
    let mut a = admin(addr).await;
    let err = reindex(&mut a, "good.jsonl", None, false)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("--dump-dir"), "{err:?}");
}

/// Regression (user trial): a 2 MB answer was accepted, and its upsert kept the encoder busy
/// for seven minutes (every hit on it would carry the 2 MB too). A text field over 100,000
/// characters (a question too) is an invalid record that names the field, and nothing is
/// published.
#[tokio::test]
async fn an_upsert_with_an_oversized_answer_is_refused() {
    let (addr, _dir) = server(Some(TOKEN));
    let mut a = admin(addr).await;
    let huge = "log line ".repeat(12_000);
    let err = upsert(
        &mut a,
        vec![record("pasted-log", "en", "A pasted log", &huge)],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("field `answer`")
            && err
                .message()
                .contains("107999 characters, over the limit of 100000 per field"),
        "{err:?}"
    );
    // A question is embedded too: the same limit.
    let mut long_question = record("pasted-log", "en", "A pasted log", "short");
    long_question.questions = vec!["ok".into(), huge.clone()];
    let err = upsert(&mut a, vec![long_question]).await.unwrap_err();
    assert!(err.message().contains("field `questions[1]`"), "{err:?}");
    assert_eq!(stats(&mut a).await.generation, 1, "nothing was published");
}

/// Regression: a refused Reindex or upsert cut its whole message at 120 characters, so an
/// operator saw the first bad record, half of it, and not the rest. Each record is listed
/// (its problem cut, not the list), ten at most with the rest counted.
#[tokio::test]
async fn a_refused_reindex_or_upsert_lists_every_bad_record() {
    let dir = tempdir();
    let dumps = dir.path().join("dumps");
    std::fs::create_dir(&dumps).unwrap();
    let good = r#"{"id": "ok", "lang": "en", "title": "Fine", "answer": "Fine."}"#;
    let bad = [
        r#"{"id": "a", "lang": "en", "answer": "No title."}"#.to_string(),
        r#"{"id": "b", "lang": "ja", "title": "t", "answer": "x"}"#.to_string(),
        r#"{"id": "c", "lang": "en", "title": "#.to_string(),
        r#"{"id": "ok", "lang": "en", "title": "Again", "answer": "x"}"#.to_string(),
        format!(
            r#"{{"id": "d", "lang": "{}", "title": "t", "answer": "x"}}"#,
            "y".repeat(3000)
        ),
    ];
    let lines: Vec<String> = std::iter::once(good.to_string()).chain(bad).collect();
    std::fs::write(dumps.join("bad.jsonl"), lines.join("\n") + "\n").unwrap();
    let (addr, _dir) = server_with_dumps(Some(DumpDir::new(&dumps, 1 << 20).unwrap()));
    let mut a = admin(addr).await;
    let err = reindex(&mut a, "bad.jsonl", None, false).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let m = err.message();
    assert!(
        m.starts_with("paths: 5 invalid record(s); nothing was changed: "),
        "{m}"
    );
    for line in 2..=6 {
        assert!(
            m.contains(&format!("bad.jsonl:{line}: ")),
            "line {line}: {m}"
        );
    }
    assert!(m.contains("field `title`") && m.contains("\"ja\""), "{m}");
    assert!(
        m.len() <= 100 + faqd::engine::LISTED_BYTES,
        "bounded: {} bytes",
        m.len()
    );
    assert_eq!(stats(&mut a).await.generation, 1, "nothing was published");

    let articles: Vec<ArticleRecord> = (0..12)
        .map(|i| record(&format!("fx-{i}"), "jp", "Title", "x"))
        .collect();
    let err = upsert(&mut a, articles).await.unwrap_err();
    let m = err.message();
    assert!(m.starts_with("articles: 12 invalid record(s)"), "{m}");
    for i in 1..=10 {
        assert!(
            m.contains(&format!("article {i}: field `language`")),
            "{i}: {m}"
        );
    }
    assert!(
        m.ends_with("; and 2 more (the server's log lists up to 100)"),
        "{m}"
    );
    // A re-index says where to see them all; a problem of 230 characters is not cut (user
    // trial: messages ended mid-sentence at 160).
    let many: Vec<String> = std::iter::once(
        r#"{"id": "m", "lang": "en", "title": "출금 방법", "answer": "지갑 메뉴에서 출금을 누르세요."}"#
            .to_string(),
    )
    .chain((0..11).map(|i| format!(r#"{{"id": "j{i}", "lang": "jp", "title": "t", "answer": "x"}}"#)))
    .collect();
    std::fs::write(dumps.join("many.jsonl"), many.join("\n") + "\n").unwrap();
    let err = reindex(&mut a, "many.jsonl", None, false)
        .await
        .unwrap_err();
    let m = err.message();
    assert!(
        m.contains("use `ko` if that is its language, or fix the text; "),
        "{m}"
    );
    assert!(
        m.ends_with("; and 2 more (`faqd index` with these dumps lists every one)"),
        "{m}"
    );
}

/// Regression: Reindex on a full disk answered INTERNAL "internal error".
#[tokio::test]
async fn reindex_on_a_full_disk_says_so_and_where() {
    let (addr, dir) = server(Some(TOKEN));
    let mut a = admin(addr).await;
    for step in [
        faqd::index::faults::Step::WriteIndex,
        faqd::index::faults::Step::SyncCurrent,
    ] {
        faqd::index::faults::inject(dir.path(), step, 28);
        let err = reindex(&mut a, "small.jsonl", None, false)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted, "{step:?}: {err:?}");
        assert!(
            err.message().contains("No space left on device")
                && err.message().contains(dir.path().to_str().unwrap()),
            "{step:?}: {err:?}"
        );
    }
    assert_eq!(stats(&mut a).await.generation, 1);
    assert_eq!(
        reindex(&mut a, "small.jsonl", None, false)
            .await
            .unwrap()
            .generation,
        2
    );
}

/// Regression (user trial): an upserted article vanished on the next Reindex, and only the
/// server's log knew about 1,000 empty answers. The reply says how many admin edits the new
/// generation does not have, and names the versions with an empty answer.
#[tokio::test]
async fn a_reindex_says_which_admin_edits_it_replaced_and_which_answers_are_empty() {
    let (addr, _dir) = server(Some(TOKEN));
    let mut a = admin(addr).await;
    let mut c = connect(addr).await;
    let margin = record(
        "fx-margin",
        "en",
        "Test margin trading",
        "Margin is not offered.",
    );
    upsert(&mut a, vec![margin]).await.unwrap();
    delete(&mut a, &["fx-api-key"], Some("zh")).await.unwrap();
    let done = reindex(&mut a, "empty_answer.jsonl", None, false)
        .await
        .unwrap();
    assert_eq!(done.replaced_edits, 2, "{done:?}");
    // Which articles they touched, so that an operator can put them in the dumps (second
    // trial: only a count).
    assert_eq!(
        done.replaced_edit_ids,
        ["fx-api-key", "fx-margin"],
        "{done:?}"
    );
    assert_eq!(
        done.empty_answers,
        ["empty_answer.jsonl:2: field `answer`: empty (article \"ea-listing\")"],
        "{done:?}"
    );
    let r = search(&mut c, query("margin trading")).await;
    assert!(r.hits.iter().all(|h| h.id != "fx-margin"), "{r:?}");
    // The generation now served has no edits: the next Reindex replaces none.
    let done = reindex(&mut a, "small.jsonl", None, false).await.unwrap();
    assert_eq!(done.replaced_edits, 0, "{done:?}");
    assert!(done.replaced_edit_ids.is_empty(), "{done:?}");
    assert!(done.empty_answers.is_empty(), "{done:?}");
}

/// Regression (user trial): `faqd index` dropped an upserted article with nothing said.
#[test]
fn faqd_index_warns_that_the_admin_edits_are_not_in_the_new_generation() {
    let dir = build_index(&kb::sources(&[fixture("small.jsonl")], None));
    let engine = Arc::new(Engine::open(dir.path(), Settings::default()).unwrap());
    let admin = faqd::admin::Admin::new(engine.clone(), 3);
    admin.delete(&["fx-api-key".to_string()], None).unwrap();
    drop((admin, engine));
    let index = || {
        let out = crate::common::faqd_command()
            .args(["index", "--index-dir", dir.path().to_str().unwrap()])
            .arg(fixture("small.jsonl"))
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let stderr = index();
    assert!(
        stderr.contains(
            "warning: generation 2 had 1 admin edit(s) (UpsertArticles, DeleteArticles) of \
             articles fx-api-key; generation 3 is built from the dumps alone and does not have \
             them"
        ),
        "{stderr}"
    );
    assert!(!index().contains("admin edit"));
}

/// Regression (user trial): with the token file in the dump directory (`--dump-dir .` beside
/// `admin.token`), a Reindex of it as CSV quoted the token as the file's header, in the
/// reply and in the log. A file holding the admin token is refused without quoting it.
#[tokio::test]
async fn reindex_refuses_the_admin_token_file_without_quoting_it() {
    let dumps = tempdir();
    std::fs::write(dumps.path().join("admin.token"), format!("{TOKEN}\n")).unwrap();
    std::fs::copy(fixture("small.jsonl"), dumps.path().join("good.jsonl")).unwrap();
    let (addr, _dir) = server_with_dumps(Some(DumpDir::new(dumps.path(), 1 << 20).unwrap()));
    let mut a = admin(addr).await;
    for format in [Some("csv"), Some("jsonl"), None] {
        let err = reindex(&mut a, "admin.token", format, true)
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        let expected = if format.is_some() {
            "paths: \"admin.token\": holds the admin token, so it is not read as a dump (keep \
             the token file out of the dump directory)"
        } else {
            "paths: \"admin.token\": cannot tell the dump format from the extension (use \
             .jsonl, .csv or .json, or format)"
        };
        assert_eq!(err.message(), expected, "{format:?}");
        assert!(!err.message().contains(TOKEN));
    }
    assert_eq!(
        reindex(&mut a, "good.jsonl", None, false)
            .await
            .unwrap()
            .generation,
        2
    );
    // One file named twice, through a link inside the directory: said so, not one
    // duplicate article per record.
    std::os::unix::fs::symlink("good.jsonl", dumps.path().join("link.jsonl")).unwrap();
    let request = ReindexRequest {
        paths: vec!["good.jsonl".into(), "link.jsonl".into()],
        format: None,
        skip_invalid: true,
    };
    let err = a.reindex(auth(request, TOKEN)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message()
            .contains("link.jsonl: is given twice (first as good.jsonl"),
        "{err:?}"
    );
}
