//! Search request options (language choice, category, top_k, answered) and every validation
//! error, through the gRPC API.

use crate::common::{ids, is_withdrawal, query, query_k, search, search_err, shipped, small, top};
use faqd::proto::{DetectLanguageRequest, LanguageSource, SearchRequest};
use tonic::Code;

#[tokio::test]
async fn explicit_language_is_an_override() {
    let mut c = shipped().await;
    let r = search(
        &mut c,
        SearchRequest {
            query: "출금".into(),
            language: Some("zh".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(r.language, "zh");
    assert_eq!(r.language_source, LanguageSource::Override as i32);
    assert_eq!(r.language_confidence, 1.0);
    assert!(r.hits.iter().all(|h| h.language.starts_with("zh")), "{r:?}");

    // Locale tags are accepted as the explicit language.
    let r = search(
        &mut c,
        SearchRequest {
            query: "withdrawal".into(),
            language: Some("en_US".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(r.language, "en");
    assert_eq!(r.language_source, LanguageSource::Override as i32);
    assert!(is_withdrawal(&top(&r).id), "{:?}", ids(&r));
}

#[tokio::test]
async fn confident_detection_beats_the_locale_hint() {
    let mut c = shipped().await;
    let r = search(
        &mut c,
        SearchRequest {
            query: "비밀번호 재설정".into(),
            locale_hint: Some("en-US".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(r.language, "ko");
    assert_eq!(r.language_source, LanguageSource::Detected as i32);
    assert!(r.language_confidence >= 0.5, "{r:?}");
}

#[tokio::test]
async fn short_latin_query_with_korean_locale_hint_is_searched_in_korean_by_hint() {
    let mut c = shipped().await;
    let r = search(
        &mut c,
        SearchRequest {
            query: "KYC".into(),
            locale_hint: Some("ko-KR".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(r.language, "ko");
    assert_eq!(r.language_source, LanguageSource::Hint as i32);
    let hit = top(&r);
    assert!(hit.id.starts_with("kyc-"), "{:?}", ids(&r));
    assert_eq!(hit.language, "ko");
}

#[tokio::test]
async fn short_latin_query_without_hint_uses_the_default_language() {
    let mut c = shipped().await;
    let r = search(&mut c, query("KYC")).await;
    assert_eq!(r.language, "en");
    assert_eq!(r.language_source, LanguageSource::Default as i32);
    assert!(r.language_confidence < 0.5, "{r:?}");
    assert!(top(&r).id.starts_with("kyc-"), "{:?}", ids(&r));
}

#[tokio::test]
async fn unsupported_query_language_is_reported_and_searched_in_the_hint_language() {
    let mut c = shipped().await;
    let r = search(&mut c, query("パスワードをリセットしたい")).await;
    assert_eq!(r.unsupported_language, "ja");
    assert_eq!(r.language, "en");
    assert_eq!(r.language_source, LanguageSource::Default as i32);
    assert!(!r.answered, "{r:?}");

    let r = search(
        &mut c,
        SearchRequest {
            query: "パスワードをリセットしたい".into(),
            locale_hint: Some("zh-CN".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(r.unsupported_language, "ja");
    assert_eq!(r.language, "zh");
    assert_eq!(r.language_source, LanguageSource::Hint as i32);

    // Supported text reports no unsupported language.
    let r = search(&mut c, query("비밀번호 재설정")).await;
    assert_eq!(r.unsupported_language, "");
}

#[tokio::test]
async fn category_filter_keeps_only_that_category() {
    let mut c = shipped().await;
    let unfiltered = search(&mut c, query("출금")).await;
    assert_ne!(
        top(&unfiltered).category,
        "fees",
        "the filter must change the result for this test to mean anything"
    );
    let r = search(
        &mut c,
        SearchRequest {
            category: Some("fees".into()),
            ..query_k("출금", 50)
        },
    )
    .await;
    assert!(!r.hits.is_empty());
    assert!(
        r.hits.iter().all(|h| h.category == "fees"),
        "{:?}",
        r.hits
            .iter()
            .map(|h| (&h.id, &h.category))
            .collect::<Vec<_>>()
    );
    assert_eq!(top(&r).id, "withdrawal-fees");
}

/// A category narrows what is shown, not what counts as an answer: a question about an
/// article outside the category gets the category's closest articles as candidates, not as
/// an answer (`how do i delete my account` in the KYC section found kyc-documents, which
/// shares `account`, and answered with it); a short question the section disambiguates is
/// still answered (`출금`, withdrawal, in the fees section: withdrawal-fees, though
/// how-to-withdraw is first without the filter).
#[tokio::test]
async fn a_category_without_the_questions_article_gives_candidates_not_an_answer() {
    let mut c = shipped().await;
    let asked = |q: &str, category: &str| SearchRequest {
        category: Some(category.into()),
        ..query(q)
    };
    let r = search(&mut c, asked("how do i delete my account", "kyc")).await;
    assert!(!r.hits.is_empty() && r.hits.iter().all(|h| h.category == "kyc"));
    assert!(!r.answered, "{:?}", ids(&r));
    assert!(r.hits.iter().all(|h| h.candidate_only), "{r:?}");
    assert!(
        top(&r).confidence >= r.confidence_threshold,
        "the first hit reaches the threshold on its own: {:?}",
        top(&r)
    );
    let r = search(&mut c, asked("how do i delete my account", "account")).await;
    assert!(r.answered);
    assert_eq!(top(&r).id, "account-deletion");
    let unfiltered = search(&mut c, query("출금")).await;
    assert_ne!(top(&unfiltered).id, "withdrawal-fees");
    let r = search(&mut c, asked("출금", "fees")).await;
    assert!(r.answered, "{r:?}");
    assert_eq!(top(&r).id, "withdrawal-fees");
}

/// A category no article has (a typo, or one a re-index removed) is refused, naming the value
/// and the categories there are, in a message a default client accepts; the same category
/// with the right spelling finds its articles.
#[tokio::test]
async fn an_unknown_category_is_invalid_argument_naming_the_known_ones() {
    let mut c = shipped().await;
    let asked = |category: &str| SearchRequest {
        query: "출금".into(),
        category: Some(category.into()),
        ..Default::default()
    };
    let s = search_err(&mut c, asked("deposit-withdrawals")).await;
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert!(
        s.message()
            .starts_with("category: no article has \"deposit-withdrawals\"")
            && s.message()
                .ends_with(": did you mean \"deposits-withdrawals\"? (categories match exactly)"),
        "{s:?}"
    );
    // A long value is quoted by its start only.
    let s = search_err(&mut c, asked(&"x".repeat(5_000))).await;
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert!(s.message().len() <= 120, "{}", s.message());
    assert!(
        s.message().contains(&format!("\"{}…\"", "x".repeat(24))),
        "{s:?}"
    );
    // Case matters, as documented: `Fees` is not `fees`, and the message says which is.
    let s = search_err(&mut c, asked("Fees")).await;
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert!(s.message().contains("did you mean \"fees\"?"), "{s:?}");
    let r = search(&mut c, asked("deposits-withdrawals")).await;
    assert!(!r.hits.is_empty());
    assert!(r.hits.iter().all(|h| h.category == "deposits-withdrawals"));
}

#[tokio::test]
async fn top_k_defaults_to_5_and_accepts_1_to_50() {
    let mut c = shipped().await;
    let with_k = |k: u32| query_k("출금", k);
    assert_eq!(search(&mut c, with_k(0)).await.hits.len(), 5);
    assert_eq!(search(&mut c, with_k(1)).await.hits.len(), 1);
    let fifty = search(&mut c, with_k(50)).await;
    assert!(
        fifty.hits.len() > 5 && fifty.hits.len() <= 50,
        "{}",
        fifty.hits.len()
    );
}

#[tokio::test]
async fn top_k_51_is_invalid_argument() {
    let mut c = shipped().await;
    let s = search_err(
        &mut c,
        SearchRequest {
            query: "출금".into(),
            top_k: 51,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert!(s.message().contains("top_k"), "{}", s.message());
    assert!(s.message().contains("50"), "{}", s.message());
}

#[tokio::test]
async fn empty_or_whitespace_query_is_invalid_argument() {
    let mut c = shipped().await;
    for q in ["", " ", "\t\n  \u{3000}"] {
        let s = search_err(&mut c, query(q)).await;
        assert_eq!(s.code(), Code::InvalidArgument, "{q:?}: {s:?}");
        assert!(s.message().contains("query"), "{q:?}: {}", s.message());
    }
}

#[tokio::test]
async fn query_over_1000_characters_is_invalid_argument_naming_the_limit() {
    let mut c = shipped().await;
    // Characters, not bytes: 1000 Hangul syllables (3000 bytes) are accepted, even with
    // surrounding whitespace, 1001 are not.
    let ok = format!("  {}  ", "가".repeat(1000));
    search(&mut c, query(&ok)).await;
    for long in ["가".repeat(1001), "a".repeat(1001), "출금 ".repeat(400)] {
        let s = search_err(&mut c, query(&long)).await;
        assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
        assert!(s.message().contains("1000"), "{}", s.message());
    }
}

#[tokio::test]
async fn unknown_language_code_is_invalid_argument_listing_supported_languages() {
    let mut c = shipped().await;
    let requests = [
        SearchRequest {
            query: "출금".into(),
            language: Some("xx".into()),
            ..Default::default()
        },
        SearchRequest {
            query: "출금".into(),
            agent_language: Some("xx".into()),
            ..Default::default()
        },
        SearchRequest {
            query: "출금".into(),
            language: Some("ja".into()),
            ..Default::default()
        },
    ];
    for (r, field) in requests
        .into_iter()
        .zip(["language", "agent_language", "language"])
    {
        let s = search_err(&mut c, r).await;
        assert_eq!(s.code(), Code::InvalidArgument, "{field}: {s:?}");
        assert!(
            s.message().contains("ko, en, zh"),
            "{field}: {}",
            s.message()
        );
        assert!(s.message().starts_with(field), "{field}: {}", s.message());
    }
}

/// Regression: an app's UI locale that faqd does not search (`ja-JP`, `fr`) failed the whole
/// call with INVALID_ARGUMENT, so every user of an app in another UI language got no answer.
/// It is now no hint: the Korean question is detected and answered as without one.
#[tokio::test]
async fn a_locale_hint_faqd_does_not_search_is_ignored() {
    let mut c = shipped().await;
    let plain = search(&mut c, query("USDT 출금이 안돼요")).await;
    for hint in ["ja-JP", "fr", "vi-VN", "not a locale"] {
        let r = search(
            &mut c,
            SearchRequest {
                locale_hint: Some(hint.into()),
                ..query("USDT 출금이 안돼요")
            },
        )
        .await;
        assert_eq!(r.language, "ko", "{hint}: {r:?}");
        assert_eq!(r.language_source, LanguageSource::Detected as i32, "{hint}");
        assert_eq!(
            (r.answered, ids(&r)),
            (plain.answered, ids(&plain)),
            "{hint}"
        );
    }
    let r = c
        .detect_language(faqd::proto::DetectLanguageRequest {
            text: "KYC".into(),
            locale_hint: Some("ja-JP".into()),
        })
        .await
        .expect("detect with an unsearched hint")
        .into_inner();
    assert_ne!(r.source, LanguageSource::Hint as i32, "{r:?}");
}

#[tokio::test]
async fn nonsense_query_is_not_answered_and_its_hits_are_candidates_only() {
    let mut c = shipped().await;
    let r = search(&mut c, query("qwxz zzkj vbnm")).await;
    assert!(!r.answered, "{r:?}");
    assert!(r.hits.iter().all(|h| h.candidate_only), "{r:?}");
    // One real word among nonsense finds articles, but no answer. Each nonsense word weighs
    // at least as much as the real one (no article has it), so coverage is at most a third
    // of the word alone's, with the same best phrasing: confidence at most √(1/3) of it.
    let r = search(&mut c, query("qwxz zzkj fee")).await;
    assert!(!r.answered, "{r:?}");
    assert!(!r.hits.is_empty(), "the real word finds candidates");
    assert!(top(&r).candidate_only, "{r:?}");
    let alone = search(&mut c, query("fee")).await;
    for h in &r.hits {
        let same = alone
            .hits
            .iter()
            .find(|a| a.id == h.id)
            .expect("found by the word");
        assert!(
            h.confidence <= same.confidence * (1.0f64 / 3.0).sqrt() + 1e-9,
            "{h:?} against {same:?}"
        );
    }
}

#[tokio::test]
async fn clear_query_is_answered_and_candidate_only_matches_the_threshold() {
    let mut c = shipped().await;
    let r = search(&mut c, query("How do I reset my password")).await;
    assert!(r.answered, "{r:?}");
    assert!(r.confidence_threshold > 0.0 && r.confidence_threshold <= 1.0);
    let hit = top(&r);
    assert_eq!(hit.id, "password-reset");
    assert!(!hit.candidate_only);
    assert!(hit.confidence >= r.confidence_threshold, "{hit:?}");
    for q in [
        "How do I reset my password",
        "비밀번호를 잊어버렸어요",
        "提币 pending 怎么办",
        "qwxz zzkj fee",
        "출금",
    ] {
        let r = search(&mut c, query(q)).await;
        // After the first hit, an answer also needs the first to be one and 0.6 of its
        // confidence.
        let first = r.hits.first().map(|h| h.confidence).unwrap_or(0.0);
        for (i, h) in r.hits.iter().enumerate() {
            let below = h.confidence < r.confidence_threshold;
            let beside = i == 0
                || (first >= r.confidence_threshold
                    && h.confidence >= faqd::engine::ANSWER_SHARE * first);
            assert_eq!(h.candidate_only, below || !beside, "{q}: {h:?}");
        }
        assert_eq!(
            r.answered,
            r.hits
                .first()
                .is_some_and(|h| h.confidence >= r.confidence_threshold),
            "{q}: answered means the first hit clears the threshold"
        );
    }
}

#[tokio::test]
async fn search_response_names_the_served_generation() {
    let mut c = small().await;
    let r = search(&mut c, query("test withdrawal")).await;
    assert_eq!(r.generation, 1);
    assert_eq!(top(&r).id, "fx-withdrawal");
}

#[tokio::test]
async fn strict_language_mode_fails_unsupported_queries_with_failed_precondition() {
    use faqd::engine::{Engine, Settings};
    use std::sync::Arc;
    let dir = crate::common::build_index(&faqd::kb::sources(
        &[crate::common::fixture("small.jsonl")],
        None,
    ));
    let settings = Settings {
        strict_language: true,
        ..Settings::default()
    };
    let engine = Arc::new(Engine::open(dir.path(), settings).expect("index opens"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr, handle) = crate::common::spawn_server(engine, async {
        let _ = rx.await;
    });
    let mut c = crate::common::connect(addr).await;
    let status = search_err(&mut c, query("出金の方法を教えてください")).await;
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("ja"), "{}", status.message());
    // DetectLanguage agrees: no language Search would use.
    let d = c
        .detect_language(DetectLanguageRequest {
            text: "出金の方法を教えてください".into(),
            locale_hint: None,
        })
        .await
        .expect("detect")
        .into_inner();
    assert_eq!((d.language.as_str(), d.detected.as_str()), ("", "ja"));
    // With a hint too: strict Search refuses it all the same (review).
    let d = c
        .detect_language(DetectLanguageRequest {
            text: "出金の方法を教えてください".into(),
            locale_hint: Some("ko-KR".into()),
        })
        .await
        .expect("detect")
        .into_inner();
    assert_eq!(d.language, "", "{d:?}");
    let status = search_err(
        &mut c,
        SearchRequest {
            locale_hint: Some("ko-KR".into()),
            ..query("出金の方法を教えてください")
        },
    )
    .await;
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    // Supported languages are still served in strict mode.
    let r = search(&mut c, query("출금이 안돼요")).await;
    assert_eq!(r.language, "ko");
    // Graceful shutdown waits for open connections: close ours first.
    drop(c);
    drop(tx);
    crate::common::join_server(handle).await;
}
