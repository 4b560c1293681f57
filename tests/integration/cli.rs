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

#[test]
fn cli_index_with_missing_file_exits_3() {
    let dir = tempdir();
    let missing = dir.path().join("no-such-dump.jsonl");
    let out = faqd(&["index", "--index-dir", path(dir.path()), path(&missing)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("no-such-dump.jsonl"), "{stderr}");
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
    let hits = v["hits"].as_array().expect("hits array");
    assert!(!hits.is_empty(), "{v}");
    assert_eq!(hits[0]["id"], "fx-withdrawal", "{v}");
    assert_eq!(hits[0]["language"], "ko", "{v}");
    assert_eq!(hits[0]["agent_version"]["language"], "en", "{v}");
    assert_eq!(
        hits[0]["agent_version"]["title"], "Test withdrawal guide",
        "{v}"
    );
    // The index was built on demand in the given directory.
    assert!(dir.path().join("CURRENT").exists());
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
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{}:2:", g.display())), "{stderr}");
}
