//! Bridging languages through the gRPC API: the cross-language fallback (glossary) and
//! TranslateReply (translation memory).

use crate::common::{
    build_index, connect, fixture, ids, query, search, shipped, small, spawn_server, tempdir, top,
    Client,
};
use faqd::engine::{Engine, Settings};
use faqd::proto::{
    FallbackReason, GetArticleRequest, SearchHit, SearchResponse, TranslateReplyRequest,
    TranslateReplyResponse,
};
use faqd::translate::glossary::GlossarySource;
use faqd::translate::memory::{parse_replies, SHIPPED_REPLIES};
use std::sync::Arc;
use tonic::Code;

fn hit<'a>(r: &'a SearchResponse, id: &str) -> &'a SearchHit {
    r.hits
        .iter()
        .find(|h| h.id == id)
        .unwrap_or_else(|| panic!("{id} not among {:?}: {r:?}", ids(r)))
}

/// The shipped knowledge base lacks each of these articles in the query's language; the
/// fallback finds it through the glossary and returns it first, in the language it was
/// found in.
#[tokio::test]
async fn fallback_finds_articles_missing_in_the_query_language() {
    let mut c = shipped().await;
    for (text, lang, id) in [
        (
            "How do I change my bank account?",
            "en",
            "krw-bank-account-change",
        ),
        (
            "Why is there a withdrawal hold after my KRW deposit?",
            "en",
            "krw-deposit-withdrawal-hold",
        ),
        ("怎么从银行账户充值韩元？", "zh", "krw-deposit"),
        ("银行维护时间可以充值韩元吗", "zh", "krw-deposit"),
        ("P2P 거래 되나요?", "ko", "p2p-trading"),
        ("개인 간 거래로 코인 살 수 있나요", "ko", "p2p-trading"),
    ] {
        let r = search(&mut c, query(text)).await;
        assert_eq!(r.language, lang, "{text}");
        assert!(r.fallback_used, "{text}: {r:?}");
        let top = &r.hits[0];
        assert_eq!(top.id, id, "{text}: {:?}", ids(&r));
        assert_eq!(
            top.fallback,
            FallbackReason::MissingTranslation as i32,
            "{text}"
        );
        assert!(
            !top.available_languages.iter().any(|l| l.starts_with(lang)),
            "{text}: the group has no {lang} version: {:?}",
            top.available_languages
        );
        assert_eq!(top.language, top.found_language, "{text}: shown as found");
        assert_ne!(top.found_language, lang, "{text}");
        assert!(
            top.confidence >= r.confidence_threshold && top.confidence <= 1.0,
            "{text}: {top:?}"
        );
        assert!(r.answered, "{text}: {r:?}");
        // The native hits are still there, unflagged, in the query's language.
        for h in r.hits.iter().filter(|h| h.fallback == 0) {
            assert_eq!(h.found_language, lang, "{text}: {h:?}");
        }
    }
}

#[tokio::test]
async fn a_confident_native_answer_naming_every_concept_gets_no_fallback() {
    let mut c = shipped().await;
    for text in [
        "원화 입금 방법",
        "How do I reset my password",
        "如何提币",
        "USDT 출금이 안돼요",
    ] {
        let r = search(&mut c, query(text)).await;
        assert!(r.answered, "{text}");
        assert!(!r.fallback_used, "{text}: {r:?}");
        assert!(r.hits.iter().all(|h| h.fallback == 0), "{text}");
    }
}

/// `인출` is a glossary synonym of `출금`, but the Korean fixture article only says `출금`:
/// Korean has no answer, the English and Chinese versions match the mapped terms, and the
/// article is shown in Korean.
#[tokio::test]
async fn fallback_shows_the_users_language_when_the_group_has_it() {
    let mut c = small().await;
    let r = search(&mut c, query("인출")).await;
    assert_eq!(r.language, "ko");
    assert!(r.fallback_used, "{r:?}");
    let h = hit(&r, "fx-withdrawal");
    assert_eq!(
        h.fallback,
        FallbackReason::NoConfidentAnswer as i32,
        "{h:?}"
    );
    assert_eq!(h.language, "ko");
    assert_eq!(h.title, "테스트 출금 안내");
    assert!(["en", "zh"].contains(&h.found_language.as_str()), "{h:?}");
    assert!(!h.snippet.is_empty());
}

/// Nonsense around one glossary term (the regression `qwxz zzkj fee` was answered with
/// confidence 1.0 when fallback confidence ignored the unmapped words): the fallback finds
/// articles for the term, but its confidence is scaled by how little of the query the
/// glossary accounts for.
#[tokio::test]
async fn fallback_confidence_counts_the_words_the_glossary_does_not_know() {
    let mut c = shipped().await;
    let r = search(&mut c, query("qwxz zzkj fee")).await;
    assert!(!r.answered, "{r:?}");
    assert!(top(&r).candidate_only, "{r:?}");
    let fallback = FallbackReason::Unspecified as i32;
    assert!(
        r.hits
            .iter()
            .all(|h| h.fallback == fallback || h.candidate_only),
        "a fallback hit found through one word of three is a candidate: {r:?}"
    );
    let r = search(&mut c, query("fee")).await;
    assert!(r.answered, "{r:?}");
}

async fn search_ids(c: &mut Client, text: &str) -> (bool, Vec<String>) {
    let r = search(c, query(text)).await;
    (
        r.fallback_used,
        r.hits.iter().map(|h| h.id.clone()).collect(),
    )
}

/// The glossary is re-read from its file without re-indexing; a bad file keeps the old one.
#[tokio::test]
async fn reloading_the_glossary_changes_the_fallback_without_reindexing() {
    let index = build_index(&faqd::kb::sources(&[fixture("small.jsonl")], None));
    let dir = tempdir();
    let file = dir.path().join("glossary.tsv");
    let header = "concept\tko\ten\tzh\n";
    std::fs::write(&file, format!("{header}otp\totp\totp\totp\n")).unwrap();
    let engine = Arc::new(
        Engine::open(index.path(), Settings::default())
            .unwrap()
            .with_glossary(GlossarySource::File(file.clone()))
            .unwrap(),
    );
    let generation = engine.generation().meta.generation;
    let (addr, _handle) = spawn_server(engine.clone(), std::future::pending());
    let mut c = connect(addr).await;
    // fx-api-key has no Korean version: without an api-key concept Korean cannot reach it.
    let text = "테스트 API 키 만들기";
    let (used, before) = search_ids(&mut c, text).await;
    assert!(
        !used && !before.iter().any(|i| i == "fx-api-key"),
        "{before:?}"
    );

    std::fs::write(
        &file,
        format!("{header}otp\totp\totp\totp\napi-key\tapi 키\tapi key\tapi密钥\n"),
    )
    .unwrap();
    assert_eq!(engine.reload_glossary().unwrap(), 2);
    let (used, after) = search_ids(&mut c, text).await;
    assert!(used, "{after:?}");
    assert_eq!(
        after.first().map(String::as_str),
        Some("fx-api-key"),
        "{after:?}"
    );

    std::fs::write(&file, format!("{header}api-key\tapi 키\n")).unwrap();
    let e = engine.reload_glossary().unwrap_err().to_string();
    assert!(
        e.contains(&format!("{}:2:", file.display())),
        "the error names file:line: {e}"
    );
    assert_eq!(
        search_ids(&mut c, text).await,
        (used, after),
        "old glossary kept"
    );
    assert_eq!(
        engine.generation().meta.generation,
        generation,
        "no re-index"
    );
}

async fn translate(
    c: &mut Client,
    text: &str,
    target: &str,
    source: Option<&str>,
) -> TranslateReplyResponse {
    c.translate_reply(TranslateReplyRequest {
        text: text.into(),
        target_language: target.into(),
        source_language: source.map(str::to_string),
    })
    .await
    .unwrap_or_else(|s| panic!("translate_reply {text:?} -> {target}: {s:?}"))
    .into_inner()
}

#[tokio::test]
async fn translate_reply_returns_every_canned_reply_exactly() {
    let mut c = shipped().await;
    let replies = parse_replies("index/replies.jsonl", SHIPPED_REPLIES).unwrap();
    for r in &replies {
        for (sv, source) in &r.texts {
            for (tv, want) in r.texts.iter().filter(|(tv, _)| tv != sv) {
                // Detected source language: the replies are long enough to detect.
                let out = translate(&mut c, source, tv.tag(), None).await;
                assert!(out.matched, "{} {sv}->{tv}: {out:?}", r.id);
                assert_eq!(out.match_percent, 100.0, "{} {sv}->{tv}", r.id);
                assert_eq!(&out.translation, want, "{} {sv}->{tv}", r.id);
                assert_eq!(&out.matched_source, source);
                assert_eq!(out.origin, format!("reply:{}", r.id));
                assert_eq!(out.source_language, sv.lang().code());
                assert_eq!(out.target_language, tv.tag());
            }
        }
    }
}

#[tokio::test]
async fn translate_reply_with_a_typo_matches_below_100() {
    let mut c = shipped().await;
    let replies = parse_replies("index/replies.jsonl", SHIPPED_REPLIES).unwrap();
    let r = replies
        .iter()
        .find(|r| r.id == "reply-ask-txid")
        .expect("reply-ask-txid");
    let text = |tag: &str| {
        r.texts
            .iter()
            .find(|(v, _)| v.tag() == tag)
            .map(|(_, t)| t.clone())
            .unwrap()
    };
    // One character dropped and one doubled.
    let en = text("en");
    let typo = en
        .replacen("transaction", "transacton", 1)
        .replacen("send", "sennd", 1);
    assert_ne!(typo, en);
    let out = translate(&mut c, &typo, "ko", Some("en")).await;
    assert!(out.matched, "{out:?}");
    assert!(
        out.match_percent < 100.0 && out.match_percent >= out.threshold,
        "{out:?}"
    );
    assert_eq!(out.translation, text("ko"));
    assert_eq!(out.matched_source, en);
    let ko = text("ko").replacen("확인해", "확인헤", 1);
    let out = translate(&mut c, &ko, "zh", None).await;
    assert!(out.matched && out.match_percent < 100.0, "{out:?}");
    assert_eq!(out.translation, text("zh"));
    assert_eq!(out.source_language, "ko");
}

#[tokio::test]
async fn translate_reply_aligns_faq_titles_and_follows_the_chinese_script() {
    let mut c = shipped().await;
    let group = c
        .get_article(GetArticleRequest {
            id: "withdrawal-delay".into(),
            language: None,
        })
        .await
        .unwrap()
        .into_inner();
    let title = |tag: &str| {
        group
            .translations
            .iter()
            .find(|v| v.language == tag)
            .map(|v| v.title.clone())
            .unwrap()
    };
    for (target, want) in [("zh", "zh"), ("zh-TW", "zh-Hant"), ("ko", "ko")] {
        let out = translate(&mut c, &title("en"), target, Some("en")).await;
        assert!(out.matched, "{target}: {out:?}");
        assert_eq!(out.translation, title(want), "{target}");
        assert_eq!(out.origin, "faq:withdrawal-delay");
        assert_eq!(out.target_language, want);
    }
}

#[tokio::test]
async fn translate_reply_without_a_close_entry_says_no_match() {
    let mut c = shipped().await;
    for (text, target) in [
        (
            "The bakery's quarterly earnings exceeded every analyst forecast this spring.",
            "ko",
        ),
        ("오늘 점심 메뉴는 김치찌개와 계란말이입니다.", "en"),
        ("今年春天的面包店季度收益超出了预期。", "en"),
    ] {
        let out = translate(&mut c, text, target, None).await;
        assert!(!out.matched, "{text}: {out:?}");
        assert_eq!(out.translation, "", "never an invented translation");
        assert!(out.match_percent < out.threshold, "{out:?}");
        assert_eq!(out.threshold, 75.0);
    }
}

#[tokio::test]
async fn translate_reply_validates_its_input() {
    let mut c = shipped().await;
    for (text, target, source, field) in [
        ("안녕하세요", "xx", None, "target_language"),
        ("안녕하세요", "", None, "target_language"),
        ("안녕하세요", "en", Some("klingon"), "source_language"),
        ("", "en", None, "text"),
        ("   ", "en", None, "text"),
        ("?!…", "en", None, "text"),
    ] {
        let s = c
            .translate_reply(TranslateReplyRequest {
                text: text.into(),
                target_language: target.into(),
                source_language: source.map(str::to_string),
            })
            .await
            .unwrap_err();
        assert_eq!(
            s.code(),
            Code::InvalidArgument,
            "{text:?} {target:?}: {s:?}"
        );
        assert!(s.message().starts_with(field), "{field}: {}", s.message());
    }
    let s = c
        .translate_reply(TranslateReplyRequest {
            text: "가".repeat(1001),
            target_language: "en".into(),
            source_language: None,
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
}
