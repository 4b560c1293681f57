//! The real `faqd` binary.

use crate::common::{faqd_command, fixture, tempdir};
use std::path::Path;
use std::process::Output;

fn faqd(args: &[&str]) -> Output {
    faqd_command()
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run faqd")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn cli_index_with_bad_dump_exits_3_naming_file_line_and_field() {
    let dir = tempdir();
    for (dump, line, field) in [
        ("bad_missing_title.jsonl", 2, "`title`"),
        ("bad_lang.jsonl", 2, "`lang`"),
        ("bad_json.jsonl", 3, "JSON"),
    ] {
        let f = fixture(dump);
        let out = faqd(&["index", "--index-dir", path(dir.path()), path(&f)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{dump}: {stderr}");
        assert!(
            stderr.contains(&format!("{dump}:{line}")),
            "{dump}: stderr names file:line: {stderr}"
        );
        assert!(
            stderr.contains(field),
            "{dump}: stderr names {field}: {stderr}"
        );
        assert!(
            !dir.path().join("CURRENT").exists(),
            "{dump}: nothing published"
        );
    }
}

/// A missing file given by a relative name is named by the absolute path it was resolved to
/// (as the README says), once, and is invalid input (exit code 3).
#[test]
fn cli_missing_files_are_named_by_their_absolute_path() {
    let dir = tempdir();
    let idx = dir.path().join("idx");
    let bank = fixture("small.jsonl");
    for args in [
        vec!["index", "--index-dir", path(&idx), "no-such-dump.jsonl"],
        vec![
            "eval",
            "--no-model",
            "--bank",
            path(&bank),
            "--queries",
            "no-such-dump.jsonl",
        ],
        vec!["eval-langid", "--input", "no-such-dump.jsonl"],
        vec!["eval-tm", "--input", "no-such-dump.jsonl"],
    ] {
        let out = faqd_command()
            .args(&args)
            .current_dir(dir.path())
            .env("RUST_LOG", "warn")
            .output()
            .expect("run faqd");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let resolved = dir
            .path()
            .canonicalize()
            .unwrap()
            .join("no-such-dump.jsonl");
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert_eq!(
            stderr
                .matches(&format!("failed to read {}: ", resolved.display()))
                .count(),
            1,
            "{args:?}: {stderr}"
        );
        assert_eq!(
            stderr.matches("os error 2").count(),
            1,
            "{args:?}: {stderr}"
        );
    }
}

/// A missing model file is named once, with its cause once (user trial: "No such file or
/// directory (os error 2): No such file or directory (os error 2)").
#[test]
fn a_missing_model_file_is_reported_once() {
    let dir = tempdir();
    let idx = dir.path().join("index");
    let model = dir.path().join("no-such-model.bin");
    let small = fixture("small.jsonl");
    let out = faqd(&[
        "search",
        "출금",
        "--model",
        path(&model),
        "--index-dir",
        path(&idx),
        "--source",
        path(&small),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("no-such-model.bin").count(), 1, "{stderr}");
}

#[test]
fn cli_search_json_on_small_fixture_prints_hits() {
    let dir = tempdir();
    let small = fixture("small.jsonl");
    let out = faqd(&[
        "search",
        "--json",
        "--index-dir",
        path(dir.path()),
        "--source",
        path(&small),
        "--agent",
        "en",
        "테스트 출금이 안돼요",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}"));
    assert_eq!(v["language"], "ko", "{v}");
    assert_eq!(v["language_source"], "detected", "{v}");
    assert_eq!(v["answered"], true, "{v}");
    // Which signals ranked it, as in a SearchResponse: lexical says why.
    match v["ranking"].as_str() {
        Some("hybrid") => assert_eq!(v["ranking_note"], "", "{v}"),
        Some("lexical") => assert_ne!(v["ranking_note"], "", "{v}"),
        other => panic!("ranking {other:?}: {v}"),
    }
    assert!(
        v["confidence_threshold"].as_f64().is_some_and(|t| t > 0.0),
        "{v}"
    );
    let hits = v["hits"].as_array().expect("hits array");
    assert!(!hits.is_empty(), "{v}");
    assert_eq!(hits[0]["id"], "fx-withdrawal", "{v}");
    assert_eq!(hits[0]["language"], "ko", "{v}");
    assert_eq!(hits[0]["agent_version"]["language"], "en", "{v}");
    assert_eq!(
        hits[0]["agent_version"]["title"], "Test withdrawal guide",
        "{v}"
    );
    assert_eq!(hits[0]["converted"], false, "{v}");
    // The index was built on demand in the given directory.
    assert!(dir.path().join("CURRENT").exists());
    // A converted version says so (trial: the CLI never did).
    let out = faqd(&[
        "search",
        "--json",
        "--index-dir",
        path(dir.path()),
        "--agent",
        "zh",
        "测试OTP怎么重设",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let hit = &v["hits"][0];
    assert_eq!(hit["id"], "fx-otp-reset", "{v}");
    assert_eq!(
        (&hit["language"], &hit["converted"]),
        (&"zh".into(), &true.into()),
        "{v}"
    );
    assert_eq!(hit["agent_version"]["converted"], true, "{v}");
}

#[test]
fn cli_index_then_search_uses_the_published_generation() {
    let dir = tempdir();
    let csv = fixture("small.csv");
    let out = faqd(&["index", "--index-dir", path(dir.path()), path(&csv)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("generation 1"), "{stdout}");
    let out = faqd(&[
        "search",
        "--json",
        "--index-dir",
        path(dir.path()),
        "--source",
        path(&csv),
        "--hint",
        "ko-KR",
        "OTP",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["generation"], 1, "same sources: no rebuild: {v}");
    assert_eq!(v["language"], "ko", "{v}");
    assert_eq!(v["language_source"], "hint", "{v}");
    assert_eq!(v["hits"][0]["id"], "fx-otp-reset", "{v}");
}

#[test]
fn cli_search_with_invalid_request_exits_2() {
    let dir = tempdir();
    let small = fixture("small.jsonl");
    let out = faqd(&[
        "search",
        "--index-dir",
        path(dir.path()),
        "--source",
        path(&small),
        "--lang",
        "xx",
        "test",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ko, en, zh"), "{stderr}");
}

#[test]
fn cli_detect_json_reports_unsupported_japanese() {
    let out = faqd(&["detect", "--json", "パスワードをリセットしたい"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["detected"], "ja", "{v}");
    assert_eq!(v["unsupported"], true, "{v}");
}

#[test]
fn cli_translate_prints_the_approved_translation_as_json() {
    let replies =
        faqd::translate::memory::parse_replies("replies", faqd::translate::memory::SHIPPED_REPLIES)
            .unwrap();
    let reply = replies.iter().find(|r| r.id == "reply-ask-uid").unwrap();
    let text = |tag: &str| {
        let (_, t) = reply.texts.iter().find(|(v, _)| v.tag() == tag).unwrap();
        t.as_str()
    };
    let dir = tempdir();
    let idx = dir.path().join("index");
    let out = faqd(&[
        "translate",
        text("ko"),
        "--to",
        "en",
        "--json",
        "--index-dir",
        path(&idx),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(v["matched"], true, "{v}");
    assert_eq!(v["match_percent"], 100.0);
    assert_eq!(v["translation"], text("en"));
    assert_eq!(v["origin"], "reply:reply-ask-uid");
    assert_eq!(v["source_language"], "ko");
    let out = faqd(&[
        "translate",
        "hello",
        "--to",
        "xx",
        "--index-dir",
        path(&idx),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("target_language"));
}

/// `faqd translate TEXT --to en --json --no-model` on the index in `idx`, with `--replies`.
fn translate_into_english(idx: &Path, text: &str, replies: &str) -> Output {
    faqd(&[
        "translate",
        text,
        "--to",
        "en",
        "--json",
        "--no-model",
        "--index-dir",
        path(idx),
        "--replies",
        replies,
    ])
}

/// Regression (user trial): the demo exchange's canned replies were in every translation
/// memory, so an agent of another company got "approved" translations naming Example
/// Exchange, with no way to replace them. `--replies FILE` brings one's own; `none` leaves
/// only the knowledge base's titles and answers; a bad file names its line.
#[test]
fn cli_translate_uses_the_canned_replies_given() {
    let dir = tempdir();
    let idx = dir.path().join("index");
    let own = dir.path().join("replies.jsonl");
    std::fs::write(
        &own,
        "{\"id\": \"acme-greeting\", \"ko\": \"안녕하세요, Acme 고객센터입니다.\", \"en\": \"Hello, this is Acme support.\"}\n",
    )
    .unwrap();
    let translate = |text: &str, replies: &str| {
        let out = translate_into_english(&idx, text, replies);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, stdout, stderr) = translate("안녕하세요, Acme 고객센터입니다.", path(&own));
    assert_eq!(code, Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(v["origin"], "reply:acme-greeting", "{v}");
    assert_eq!(v["translation"], "Hello, this is Acme support.");
    let shipped_greeting = "안녕하세요, Example Exchange 고객센터입니다. 무엇을 도와드릴까요?";
    for replies in [path(&own), "none"] {
        let (code, stdout, stderr) = translate(shipped_greeting, replies);
        assert_eq!(code, Some(0), "{stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
        assert_ne!(v["origin"], "reply:reply-greeting", "{replies}: {v}");
        assert!(
            !v["translation"]
                .as_str()
                .unwrap_or("")
                .contains("Example Exchange"),
            "{v}"
        );
    }
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"id\": \"a\", \"ko\": \"x\", \"en\": \"y\"}\nnope\n",
    )
    .unwrap();
    let (code, _, stderr) = translate("x", path(&bad));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{}:2", bad.display())), "{stderr}");
    // It fails before the knowledge base is indexed (which can take minutes), not after.
    let fresh = dir.path().join("fresh");
    let out = faqd(&[
        "translate",
        "x",
        "--to",
        "en",
        "--no-model",
        "--index-dir",
        path(&fresh),
        "--replies",
        path(&bad),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{}:2", bad.display())), "{stderr}");
    assert!(
        !fresh.join("CURRENT").exists() && !stderr.contains("built index"),
        "a generation was built before the bad file was read: {stderr}"
    );
}

/// Review of stop 44: a sentence whose closest entry names another glossary term (입금,
/// deposit, for 출금, withdrawal) was no match even when a close entry naming the same term
/// was in the memory too. That entry is taken now; with it gone, the segment is no match and
/// says why.
#[test]
fn cli_translate_takes_the_close_entry_that_names_the_same_terms() {
    let dir = tempdir();
    let idx = dir.path().join("index");
    let replies = dir.path().join("replies.jsonl");
    let deposit = "{\"id\": \"deposit-done\", \"ko\": \"확인 결과 입금이 정상적으로 반영되었습니다.\", \"en\": \"We have confirmed that your deposit has been credited.\"}\n";
    let withdrawal = "{\"id\": \"withdrawal-done\", \"ko\": \"확인 결과 출금이 정상적으로 처리되었습니다.\", \"en\": \"We have confirmed that your withdrawal has been processed.\"}\n";
    let translate = |lines: &str| {
        std::fs::write(&replies, lines).unwrap();
        let out = translate_into_english(
            &idx,
            "확인 결과 출금이 정상적으로 반영되었습니다.",
            path(&replies),
        );
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str::<serde_json::Value>(&stdout).expect("JSON")
    };
    let v = translate(&format!("{deposit}{withdrawal}"));
    assert_eq!(v["origin"], "reply:withdrawal-done", "{v}");
    assert_eq!(
        v["translation"], "We have confirmed that your withdrawal has been processed.",
        "{v}"
    );
    let v = translate(deposit);
    assert_eq!(v["matched"], false, "{v}");
    assert_eq!(
        v["segments"][0]["differs"], "it says 출금 where the entry says 입금",
        "{v}"
    );
    // Third user trial: another network, and "must not" for "need not", were matches.
    std::fs::write(
        &replies,
        "{\"id\": \"fee\", \"ko\": \"USDT(TRC20) 출금 수수료는 1 USDT입니다.\", \"en\": \"The withdrawal fee for USDT (TRC20) is 1 USDT.\"}\n\
         {\"id\": \"memo\", \"ko\": \"메모를 입력하지 않아도 됩니다.\", \"en\": \"You do not need to enter a memo.\"}\n",
    )
    .unwrap();
    for (text, differs) in [
        (
            "USDT(ERC20) 출금 수수료는 1 USDT입니다.",
            "it names ERC20 where the entry names TRC20",
        ),
        (
            "메모를 입력하면 안 됩니다.",
            "they are negated differently (one says cannot or must not, the other only not)",
        ),
    ] {
        let out = translate_into_english(&idx, text, path(&replies));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(v["matched"], false, "{v}");
        assert_eq!(v["segments"][0]["differs"], differs, "{v}");
    }
    // As text: the summary says how many segments failed (a 96 % one that differs read as a
    // pass), and the log how many replies were read.
    let out = faqd_command()
        .args([
            "translate",
            "USDT(ERC20) 출금 수수료는 1 USDT입니다.",
            "--to",
            "en",
            "--no-model",
            "--index-dir",
            path(&idx),
            "--replies",
            path(&replies),
        ])
        .env("RUST_LOG", "info")
        .output()
        .expect("run faqd");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stdout.contains("no match (1 segment, 1 without a match, lowest 96."),
        "{stdout}"
    );
    assert!(
        stderr.contains("canned replies loaded") && stderr.contains("replies=2"),
        "{stderr}"
    );
}

#[test]
fn cli_with_a_bad_glossary_fails_naming_file_and_line() {
    let dir = tempdir();
    let g = dir.path().join("bad.tsv");
    std::fs::write(&g, "concept\tko\ten\tzh\nwithdrawal\t출금\n").unwrap();
    let out = faqd(&[
        "search",
        "출금",
        "--glossary",
        path(&g),
        "--index-dir",
        path(&dir.path().join("index")),
        "--source",
        path(&fixture("small.jsonl")),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{}:2:", g.display())), "{stderr}");
    assert!(
        !dir.path().join("index/CURRENT").exists(),
        "a generation was built before the bad glossary was read: {stderr}"
    );
}

/// `faqd eval` on a bank and queries small enough to check by hand (tests/fixtures/eval_*):
/// English q1, q2 rank 1 and q3 rank 2 (answered with the other article), q4 out of scope
/// with no hit, q5 out of scope but answered; Korean q6, q7 rank 1; Chinese q8 rank 1 below
/// the threshold (0.27 against 0.35, given explicitly so the case does not move with the
/// default). Every figure below is worked out from those outcomes.
#[test]
fn cli_eval_computes_the_metrics_of_a_hand_checked_case_and_writes_details() {
    let dir = tempdir();
    let details = dir.path().join("details.jsonl");
    let out = faqd(&[
        "eval",
        "--bank",
        path(&fixture("eval_bank.jsonl")),
        "--queries",
        path(&fixture("eval_queries.jsonl")),
        "--no-model",
        "--threshold",
        "0.35",
        "--json",
        "--details",
        path(&details),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let close = |v: &serde_json::Value, want: f64, what: &str| {
        let got = v.as_f64().unwrap_or_else(|| panic!("{what}: {v}"));
        assert!((got - want).abs() < 1e-9, "{what}: {got}, want {want}");
    };
    let overall = &report["overall"];
    assert_eq!(overall["queries"], 8);
    // In scope: q1 q2 q3 q6 q7 q8, ranks 1 1 2 1 1 1.
    close(&overall["recall_at_1"], 5.0 / 6.0, "overall R@1");
    close(&overall["recall_at_5"], 1.0, "overall R@5");
    close(&overall["mrr_at_10"], 5.5 / 6.0, "overall MRR@10");
    // Declined: q4 (out of scope) and q8 (in scope).
    close(&overall["no_answer_precision"], 0.5, "overall NA-P");
    close(&overall["no_answer_recall"], 0.5, "overall NA-R");
    // Right decisions: q1 q2 q3 q6 q7 answered, q4 declined.
    close(&overall["no_answer_accuracy"], 6.0 / 8.0, "overall NA-acc");
    close(&overall["language_agreement"], 1.0, "overall language");
    let en = &report["by_language"]["en"];
    assert_eq!(en["queries"], 5);
    close(&en["recall_at_1"], 2.0 / 3.0, "en R@1");
    close(&en["mrr_at_10"], 2.5 / 3.0, "en MRR@10");
    close(&en["no_answer_precision"], 1.0, "en NA-P");
    close(&en["no_answer_recall"], 0.5, "en NA-R");
    close(&en["no_answer_accuracy"], 0.8, "en NA-acc");
    let ko = &report["by_language"]["ko"];
    assert_eq!(ko["queries"], 2);
    close(&ko["recall_at_1"], 1.0, "ko R@1");
    assert!(
        ko["no_answer_accuracy"].is_null(),
        "no out-of-scope ko query: {ko}"
    );
    let zh = &report["by_language"]["zh"];
    close(&zh["recall_at_1"], 1.0, "zh R@1");
    close(&zh["answered_recall_at_1"], 0.0, "zh answered R@1");
    for key in ["latency_us_p50", "latency_us_p99"] {
        assert!(overall[key].is_u64(), "{key}: {overall}");
    }

    let text = std::fs::read_to_string(&details).expect("details written");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    let outcomes: Vec<(&str, &str)> = lines
        .iter()
        .map(|d| (d["id"].as_str().unwrap(), d["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("q1", "right"),
            ("q2", "right"),
            ("q3", "wrong"),
            ("q4", "declined"),
            ("q5", "wrong"),
            ("q6", "right"),
            ("q7", "right"),
            ("q8", "missed"),
        ]
    );
    assert_eq!(lines[2]["rank"], 2);
    assert_eq!(lines[2]["hits"][0]["id"], "card-lost", "{}", lines[2]);
    assert_eq!(lines[2]["hits"][1]["id"], "transfer-fee", "{}", lines[2]);
    for h in lines.iter().flat_map(|d| d["hits"].as_array().unwrap()) {
        // Under lexical ranking a hit's lexical evidence is its confidence, and it has no
        // semantic evidence.
        assert!(h.get("semantic").is_none(), "{h}");
        assert_eq!(h["lexical"], h["confidence"], "{h}");
    }
    assert_eq!(lines[3]["hits"].as_array().map(Vec::len), Some(0));
    assert!(lines.iter().all(|d| d["micros"].is_u64()), "{lines:?}");
    assert_eq!(lines[5]["searched_language"], "ko");
    assert_eq!(lines[7]["searched_language"], "zh");
}

#[test]
fn cli_eval_with_a_bad_query_line_names_file_and_line() {
    let dir = tempdir();
    let queries = dir.path().join("queries.jsonl");
    std::fs::write(
        &queries,
        "{\"id\": \"q1\", \"lang\": \"en\", \"query\": \"lost card\", \"gold\": []}\n{\"id\": \"q2\", \"lang\": \"en\"}\n",
    )
    .unwrap();
    let out = faqd(&[
        "eval",
        "--bank",
        path(&fixture("eval_bank.jsonl")),
        "--queries",
        path(&queries),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "invalid input: {stderr}");
    assert!(stderr.contains("queries.jsonl:2"), "{stderr}");
    assert!(
        stderr.contains("query"),
        "names the missing field: {stderr}"
    );
}

/// Issue 28: `--threshold 5` was accepted; it is a share from 0 to 1.
#[test]
fn cli_threshold_outside_0_to_1_is_a_usage_error() {
    let dir = tempdir();
    let idx = dir.path().join("index");
    for bad in ["5", "-0.1", "x"] {
        let flag = format!("--threshold={bad}");
        let out = faqd(&["search", "출금", &flag, "--index-dir", path(&idx)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("--threshold"), "{bad}: {stderr}");
    }
    let built = faqd(&["index", "--index-dir", path(&idx)]);
    assert_eq!(built.status.code(), Some(0));
    let out = faqd(&[
        "search",
        "출금",
        "--threshold",
        "1",
        "--index-dir",
        path(&idx),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 28: a relative `--index-dir` run from another directory published where no server
/// reads; `faqd index` names the absolute root it used.
#[test]
fn cli_index_names_the_absolute_root() {
    let dir = tempdir();
    let out = faqd_command()
        .current_dir(dir.path())
        .args([
            "index",
            "--index-dir",
            "rel/idx",
            path(&fixture("small.jsonl")),
        ])
        .env("RUST_LOG", "info")
        .output()
        .expect("run faqd");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The child's working directory as it sees it (symlinks resolved).
    let root = dir.path().canonicalize().unwrap().join("rel/idx");
    assert!(
        stdout.contains(&format!("published in {}:", root.display())),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!("root={}", root.display())),
        "{stderr}"
    );
    assert!(root.join("CURRENT").exists());
}
