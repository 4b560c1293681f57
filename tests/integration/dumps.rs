//! Building indexes from dumps: bad records are reported with file, line and field and leave
//! the served generation alone; JSONL, CSV and Zendesk exports of the same articles agree.

use crate::common::{build_index, fixture, tempdir};
use faqd::engine::{Engine, SearchParams, Settings};
use faqd::index::{self, BuildOptions};
use faqd::ingest::{self, Article, Format, Source};
use faqd::kb::{self, BuildError};
use std::collections::BTreeSet;
use std::path::Path;

fn build(root: &Path, dump: &str) -> Result<kb::Built, BuildError> {
    kb::build(
        root,
        &kb::sources(&[fixture(dump)], None),
        false,
        &BuildOptions::default(),
    )
}

fn build_error(root: &Path, dump: &str) -> String {
    match build(root, dump) {
        Ok(b) => panic!("building {dump} should fail, published {:?}", b.meta),
        Err(e) => e.to_string(),
    }
}

fn load(dump: &str) -> Vec<Article> {
    let loaded = ingest::load(&kb::sources(&[fixture(dump)], None))
        .unwrap_or_else(|e| panic!("{dump}: {e}"));
    assert!(loaded.errors.is_empty(), "{dump}: {:?}", loaded.errors);
    loaded.articles
}

#[test]
fn dump_missing_title_fails_naming_file_line_2_and_title() {
    let dir = tempdir();
    let e = build_error(dir.path(), "bad_missing_title.jsonl");
    assert!(e.contains("bad_missing_title.jsonl:2"), "{e}");
    assert!(e.contains("title"), "{e}");
    assert!(
        !e.contains(":1:") && !e.contains(":3:"),
        "only line 2 is bad: {e}"
    );
}

#[test]
fn dump_with_invalid_json_fails_naming_file_and_line_3() {
    let dir = tempdir();
    let e = build_error(dir.path(), "bad_json.jsonl");
    assert!(e.contains("bad_json.jsonl:3"), "{e}");
    assert!(e.contains("JSON"), "{e}");
}

#[test]
fn dump_with_unsupported_language_fails_naming_file_line_2_and_lang() {
    let dir = tempdir();
    let e = build_error(dir.path(), "bad_lang.jsonl");
    assert!(e.contains("bad_lang.jsonl:2"), "{e}");
    assert!(e.contains("`lang`"), "{e}");
    assert!(e.contains("ja"), "{e}");
}

#[test]
fn failed_build_keeps_the_published_generation_current_and_openable() {
    let dir = build_index(&kb::sources(&[fixture("small.jsonl")], None));
    let root = dir.path();
    let before = index::current_generation(root).unwrap();
    assert_eq!(before, Some(1));
    for bad in [
        "bad_missing_title.jsonl",
        "bad_json.jsonl",
        "bad_lang.jsonl",
    ] {
        build_error(root, bad);
        assert_eq!(index::current_generation(root).unwrap(), before, "{bad}");
        assert!(
            !index::generation_dir(root, 2).exists(),
            "{bad}: no new generation directory"
        );
    }
    let leftovers: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporaries left: {leftovers:?}");
    let gen = index::open_current(root).expect("previous generation still opens");
    assert_eq!(gen.meta.generation, 1);
    assert_eq!(gen.article_count(), 8);
    let engine = Engine::open(root, Settings::default()).expect("engine opens");
    let o = engine
        .search(&SearchParams {
            query: "test withdrawal".into(),
            ..Default::default()
        })
        .expect("search");
    assert_eq!(o.hits[0].hit.version.id, "fx-withdrawal");
    // A good build after the failures publishes generation 2.
    build(root, "small.jsonl").expect("good build");
    assert_eq!(index::current_generation(root).unwrap(), Some(2));
}

#[test]
fn skip_invalid_builds_the_valid_records_and_reports_the_bad_ones() {
    let dir = tempdir();
    let built = kb::build(
        dir.path(),
        &kb::sources(&[fixture("bad_missing_title.jsonl")], None),
        true,
        &BuildOptions::default(),
    )
    .expect("build skipping invalid records");
    assert_eq!(built.skipped.len(), 1, "{:?}", built.skipped);
    let skipped = &built.skipped[0];
    assert_eq!(skipped.origin.line, 2);
    assert_eq!(skipped.field.as_deref(), Some("title"));
    assert_eq!(built.meta.articles.values().sum::<usize>(), 2);
    let gen = index::open_current(dir.path()).unwrap();
    assert!(gen.group("fx-bad-a").is_some() && gen.group("fx-bad-c").is_some());
    assert!(gen.group("fx-bad-b").is_none());
}

#[test]
fn same_articles_as_jsonl_csv_and_zendesk_load_identically() {
    let jsonl = load("small.jsonl");
    let csv = load("small.csv");
    let zendesk = load("small_zendesk.json");
    assert_eq!(jsonl.len(), 8);
    // CSV carries every field.
    assert_eq!(csv, jsonl, "CSV and JSONL articles differ");
    // Zendesk has no `questions`: compare everything else (body HTML reduced to text,
    // locales such as en-us and zh-tw mapped to en and zh-Hant).
    type Key = (
        String,
        String,
        String,
        String,
        String,
        Vec<String>,
        String,
        String,
    );
    let key = |a: &Article| -> Key {
        (
            a.id.clone(),
            a.lang.tag().to_string(),
            a.title.clone(),
            a.answer.clone(),
            a.category.clone(),
            a.tags.clone(),
            a.url.clone(),
            a.updated_at.clone(),
        )
    };
    let j: BTreeSet<Key> = jsonl.iter().map(key).collect();
    let z: BTreeSet<Key> = zendesk.iter().map(key).collect();
    for (a, b) in j.iter().zip(z.iter()) {
        assert_eq!(a, b, "JSONL vs Zendesk");
    }
    assert_eq!(j, z);
    assert!(zendesk.iter().all(|a| a.questions.is_empty()));
}

#[test]
fn csv_and_zendesk_dumps_build_searchable_indexes() {
    for dump in ["small.csv", "small_zendesk.json"] {
        let dir = build_index(&kb::sources(&[fixture(dump)], None));
        let gen = index::open_current(dir.path()).unwrap();
        assert_eq!(gen.article_count(), 8, "{dump}");
        assert_eq!(gen.meta.articles.get("zh-Hant"), Some(&1), "{dump}");
        let engine = Engine::open(dir.path(), Settings::default()).unwrap();
        for (q, want) in [
            ("테스트 출금", "fx-withdrawal"),
            ("test api key", "fx-api-key"),
            ("測試OTP重設", "fx-otp-reset"),
        ] {
            let o = engine
                .search(&SearchParams {
                    query: q.into(),
                    ..Default::default()
                })
                .unwrap();
            assert_eq!(
                o.hits.first().map(|h| h.hit.version.id.as_str()),
                Some(want),
                "{dump}: {q}"
            );
        }
    }
}

#[test]
fn explicit_format_overrides_the_file_extension() {
    let dir = tempdir();
    let odd = dir.path().join("export.txt");
    std::fs::copy(fixture("small.csv"), &odd).unwrap();
    let err = ingest::load(&[Source::File(odd.clone(), None)]).unwrap_err();
    assert!(err.to_string().contains("export.txt"), "{err}");
    let loaded = ingest::load(&[Source::File(odd, Some(Format::Csv))]).unwrap();
    assert_eq!(loaded.articles, load("small.jsonl"));
}

#[test]
fn duplicate_articles_across_dumps_are_reported_with_both_places() {
    let dir = tempdir();
    let err = kb::build(
        dir.path(),
        &kb::sources(&[fixture("small.jsonl"), fixture("small.csv")], None),
        false,
        &BuildOptions::default(),
    )
    .unwrap_err();
    let BuildError::Invalid(errors) = &err else {
        panic!("expected invalid records, got {err}");
    };
    assert_eq!(errors.len(), 8, "{err}");
    let e = errors[0].to_string();
    assert!(e.contains("small.csv:2"), "{e}");
    assert!(e.contains("small.jsonl:1"), "{e}");
    assert_eq!(errors[0].field.as_deref(), Some("id"));
    assert_eq!(index::current_generation(dir.path()).unwrap(), None);
}

#[test]
fn csv_errors_name_the_line_a_multiline_record_starts_on() {
    let dir = tempdir();
    let path = dir.path().join("multiline.csv");
    std::fs::write(
        &path,
        "id,lang,title,questions,answer,category\n\
         a1,en,First,q1|q2,\"An answer\nover two lines, with a comma\",support\n\
         a2,en,,q,Answer without title,support\n\
         a3,ko,셋째,,답변,support\n",
    )
    .unwrap();
    let loaded = ingest::load(&[Source::File(path, None)]).unwrap();
    assert_eq!(loaded.articles.len(), 2);
    assert_eq!(
        loaded.articles[0].answer,
        "An answer\nover two lines, with a comma"
    );
    assert_eq!(loaded.articles[0].questions, ["q1", "q2"]);
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    let e = loaded.errors[0].to_string();
    assert!(e.contains("multiline.csv:4"), "{e}");
    assert!(e.contains("title"), "{e}");
}

#[test]
fn zendesk_html_body_is_reduced_to_plain_text_without_markup() {
    let dir = tempdir();
    let path = dir.path().join("links.json");
    std::fs::write(
        &path,
        r#"{"articles": [{"id": "z1", "locale": "en-us", "title": "Links",
            "body": "<p>Open <a href=\"https://example-exchange.com/settings\">Settings</a> &gt; <strong>API</strong>, then <em>Create</em>.</p><script>track()</script>"}]}"#,
    )
    .unwrap();
    let loaded = ingest::load(&[Source::File(path, None)]).unwrap();
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(
        loaded.articles[0].answer,
        "Open Settings > API, then Create."
    );
}

#[test]
fn zendesk_errors_name_the_line_record_number_and_field() {
    let dir = tempdir();
    let path = dir.path().join("export.json");
    std::fs::write(
        &path,
        r#"{"articles": [
            {"id": 101, "locale": "en-us", "title": "One", "body": "<p>Body &amp; more</p>"},
            {"id": 102, "locale": "en-us", "title": "Two"},
            {"id": 103, "locale": "ja", "title": "Three", "body": "<p>x</p>"}
        ]}"#,
    )
    .unwrap();
    let loaded = ingest::load(&[Source::File(path, None)]).unwrap();
    assert_eq!(loaded.articles.len(), 1);
    assert_eq!(loaded.articles[0].id, "101");
    assert_eq!(loaded.articles[0].answer, "Body & more");
    let errs: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].contains("export.json:3 (record 2): field `body`"),
        "{errs:?}"
    );
    assert!(
        errs[1].contains("export.json:4 (record 3): field `locale`"),
        "{errs:?}"
    );
    // A minified export (as the Zendesk API returns it) is one line: the record number
    // tells its records apart.
    let minified = br#"{"articles":[{"id":1,"locale":"en-us","title":"A","body":"x"},{"id":2,"locale":"en-us","body":"y"},5]}"#;
    let loaded = load_text(dir.path(), "min.json", minified).unwrap();
    let errs: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].contains("min.json:1 (record 2): field `title`"),
        "{errs:?}"
    );
    assert!(
        errs[1].ends_with("min.json:1 (record 3): expected a JSON object"),
        "{errs:?}"
    );
}

/// Regression: a Zendesk export's drafts (unpublished, often internal text such as a fee
/// change not yet announced) were indexed and answered. They are left out, unchecked, and
/// the records after them keep their numbers in error messages.
#[test]
fn zendesk_drafts_are_not_indexed() {
    let dir = tempdir();
    let export = br#"{"articles": [
            {"id": 201, "locale": "en-us", "title": "Secret fee change", "body": "<p>Do not share</p>", "draft": true},
            {"id": 202, "locale": "en-us", "title": "Withdrawal fees", "body": "<p>Fees</p>", "draft": false},
            {"id": 203, "locale": "en-us", "title": "Unfinished", "draft": "true"},
            {"id": 204, "locale": "en-us", "title": "Deposits"},
            {"id": 205, "locale": "en-us", "title": "Maybe", "body": "<p>x</p>", "draft": "maybe"}
        ]}"#;
    let loaded = load_text(dir.path(), "export.json", export).unwrap();
    let ids: Vec<&str> = loaded.articles.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["202"]);
    let errs: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].contains("export.json:5 (record 4)"), "{errs:?}");
    // A draft flag faqd cannot read is no "published" (trial: it was served).
    assert!(
        errs[1]
            .ends_with("export.json:6 (record 5): field `draft`: \"maybe\" is not true or false"),
        "{errs:?}"
    );
}

fn load_text(dir: &Path, name: &str, bytes: &[u8]) -> Result<ingest::Loaded, ingest::IngestError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    ingest::load(&[Source::File(path, None)])
}

/// Regression (user trial): a quote opened and never closed made the CSV reader take the
/// lines after it into one record, reported as "found record with 3 fields" on its first
/// line only, so the records swallowed with it vanished unnamed, even with `--skip-invalid`.
/// The error now names the lines read as one record and the likely cause; the records
/// before and after them still load.
#[test]
fn an_unclosed_csv_quote_names_the_lines_it_swallowed() {
    let dir = tempdir();
    let header = "id,lang,title,questions,answer,category,tags,url,updated_at\n";
    let text = format!(
        "{header}r0,en,Good one,,Answer zero,,,,\nr1,en,\"Bad quote title,,Answer one,,,,\n\
         r2,en,Two,,Answer two,,,,\nr3,en,Three,,Answer three,,,,\n"
    );
    // The same lines with Windows line endings (as spreadsheets export them), and without a
    // newline at the end: the reader's own line count is one early for the first and one
    // short for the second.
    let crlf = text.replace('\n', "\r\n");
    let unterminated = text.trim_end().to_string();
    for (name, text) in [
        ("quote.csv", &text),
        ("crlf.csv", &crlf),
        ("end.csv", &unterminated),
    ] {
        let loaded = load_text(dir.path(), name, text.as_bytes()).unwrap();
        let ids: Vec<&str> = loaded.articles.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["r0"], "{name}");
        let errs: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains(&format!("{name}:3:")), "{errs:?}");
        assert!(
            errs[0].contains("lines 3–5 were read as one record")
                && errs[0].contains("quote opened on line 3"),
            "{errs:?}"
        );
    }
    // A record that is short on one line is not blamed on a quote; a field error in a file
    // with Windows line endings, after a blank line, names the record's own line.
    let text = format!("{header}r0,en,Good one,,Answer zero,,,,\nr1,en,Two,,Answer two,,,\n");
    let loaded = load_text(dir.path(), "short.csv", text.as_bytes()).unwrap();
    let e = loaded.errors[0].to_string();
    assert!(e.contains("short.csv:3:") && !e.contains("quote"), "{e}");
    let text = format!("{header}r0,en,Good one,,Answer zero,,,,\n\nr1,en,,,Answer one,,,,\n")
        .replace('\n', "\r\n");
    let loaded = load_text(dir.path(), "blank.csv", text.as_bytes()).unwrap();
    let e = loaded.errors[0].to_string();
    assert!(e.contains("blank.csv:4: field `title`"), "{e}");
}

/// Regression: one invalid UTF-8 byte rejected a whole dump without a line or offset.
#[test]
fn invalid_utf8_is_reported_with_file_line_and_byte_offset() {
    let dir = tempdir();
    let e = load_text(
        dir.path(),
        "latin1.jsonl",
        b"{\"id\":\"a\",\"lang\":\"en\",\"title\":\"A\",\"answer\":\"x\"}\n{\"id\":\"b\",\"lang\":\"en\",\"title\":\"Caf\xe9\",\"answer\":\"y\"}\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("latin1.jsonl:2:"), "{e}");
    assert!(e.contains("invalid UTF-8 at byte offset 82"), "{e}");
    assert!(!e.contains("legacy encoding"), "{e}");
    // What spreadsheets on Korean Windows save (user trial): said, with what to do.
    let e = load_text(
        dir.path(),
        "cp949.csv",
        b"id,lang,title,answer\na,ko,\xc3\xe2\xb1\xdd,\xc3\xe2\xb1\xdd \xb9\xe6\xb9\xfd\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("cp949.csv:2: invalid UTF-8 at byte offset 26")
            && e.contains("a legacy encoding such as CP949/EUC-KR")
            && e.contains("\"CSV UTF-8\""),
        "{e}"
    );
    let e = load_text(dir.path(), "utf16.csv", b"\xff\xfei\x00d\x00\n\x00")
        .unwrap_err()
        .to_string();
    assert!(e.contains("utf16.csv:1: the file is UTF-16"), "{e}");
}

/// Regression (user trial): common export mistakes were reported without what to do: a CSV
/// separated by semicolons (four "no column" errors), a JSON list of records named `.json`,
/// and a trailing comma at "line 1" of a record on line 2.
#[test]
fn common_export_mistakes_are_named_with_what_to_do() {
    let dir = tempdir();
    let errors = |name: &str, bytes: &[u8]| -> Vec<String> {
        match load_text(dir.path(), name, bytes) {
            Ok(loaded) => texts(dir.path(), &loaded.errors),
            Err(e) => vec![e.to_string()],
        }
    };
    let e = errors("semi.csv", b"id;lang;title;answer\na;en;A;x\n");
    assert!(
        e[0].contains(
            "indexed: the header is one column, split by `;`: faqd reads comma-separated CSV \
             (save it with commas) (the header"
        ),
        "{e:?}"
    );
    let e = errors(
        "comma.jsonl",
        b"{\"id\":\"a\",\"lang\":\"en\",\"title\":\"A\",\"answer\":\"x\"}\n\
          {\"id\":\"b\",\"lang\":\"en\",\"title\":\"B\",\"answer\":\"y\",}\n",
    );
    assert_eq!(
        e,
        ["comma.jsonl:2: invalid JSON at byte 48 of the line: trailing comma"],
        "the record's line is the file's"
    );
    let e = errors(
        "list.json",
        br#"[{"id":"a","lang":"en","title":"A","answer":"x"}]"#,
    );
    assert!(
        e[0].ends_with(
            "(it is a JSON list of records: faqd reads them as JSON Lines, one object per \
             line, named .jsonl)"
        ),
        "{e:?}"
    );
}

/// Regression: a Zendesk file that is not JSON was reported as "record 0".
#[test]
fn a_zendesk_file_that_is_not_json_is_reported_with_line_and_column() {
    let dir = tempdir();
    let e = load_text(
        dir.path(),
        "export.json",
        b"{\"articles\": [\n  {\"id\": 1,\n   \"title\": }]}",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("export.json:3: "), "{e}");
    assert!(
        e.contains("not a Zendesk export") && e.contains("column 13"),
        "{e}"
    );
    assert!(!e.contains("record 0"), "{e}");
    let e = load_text(dir.path(), "list.json", b"[1, 2]")
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("list.json: expected an object with an `articles` list"),
        "{e}"
    );
}

/// Regression: `123456789012345678901234567890` became `1.2345678901234568e+29` and
/// collided with its neighbour.
#[test]
fn numeric_ids_keep_every_digit_in_jsonl_and_zendesk() {
    let dir = tempdir();
    let jsonl = load_text(
        dir.path(),
        "ids.jsonl",
        b"{\"id\":123456789012345678901234567890,\"lang\":\"en\",\"title\":\"A\",\"answer\":\"x\"}\n{\"id\":123456789012345678901234567891,\"lang\":\"en\",\"title\":\"B\",\"answer\":\"y\"}\n{\"id\":42,\"lang\":\"en\",\"title\":\"C\",\"answer\":\"z\"}\n",
    )
    .unwrap();
    let zendesk = load_text(
        dir.path(),
        "ids.json",
        br#"{"articles": [
            {"id": 123456789012345678901234567890, "locale": "en-us", "title": "A", "body": "<p>x</p>", "section_id": 98765432109876543210987},
            {"id": 123456789012345678901234567891, "locale": "en-us", "title": "B", "body": "<p>y</p>"}
        ]}"#,
    )
    .unwrap();
    for loaded in [&jsonl, &zendesk] {
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let ids: Vec<&str> = loaded.articles.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids[..2],
            [
                "123456789012345678901234567890",
                "123456789012345678901234567891"
            ]
        );
    }
    assert_eq!(jsonl.articles[2].id, "42");
    assert_eq!(zendesk.articles[0].category, "98765432109876543210987");
}

#[test]
fn ids_with_control_characters_are_rejected_with_file_and_line() {
    let dir = tempdir();
    let loaded = load_text(
        dir.path(),
        "ids.jsonl",
        b"{\"id\":\"ok\",\"lang\":\"en\",\"title\":\"A\",\"answer\":\"x\"}\n{\"id\":\"a\\u0000b\",\"lang\":\"en\",\"title\":\"B\",\"answer\":\"y\"}\n{\"id\":\"c\\nd\",\"lang\":\"en\",\"title\":\"C\",\"answer\":\"z\"}\n{\"id\":\"e\\u001bf\",\"lang\":\"en\",\"title\":\"D\",\"answer\":\"w\"}\n",
    )
    .unwrap();
    assert_eq!(loaded.articles.len(), 1);
    let prefix = format!("{}/", dir.path().display());
    let errs: Vec<String> = loaded
        .errors
        .iter()
        .map(|e| e.to_string().replace(&prefix, ""))
        .collect();
    assert_eq!(
        errs,
        [
            "ids.jsonl:2: field `id`: must not contain control characters (U+0000 at character 2): \"a\\0b\"",
            "ids.jsonl:3: field `id`: must not contain control characters (U+000A at character 2): \"c\\nd\"",
            "ids.jsonl:4: field `id`: must not contain control characters (U+001B at character 2): \"e\\u{1b}f\"",
        ]
    );
    let loaded = load_text(
        dir.path(),
        "ids.csv",
        b"id,lang,title,answer\n\"x\ny\",en,T,A\n",
    )
    .unwrap();
    assert!(
        loaded.errors[0]
            .to_string()
            .contains("ids.csv:2: field `id`: must not contain control"),
        "{:?}",
        loaded.errors
    );
}

/// Runs `faqd index --index-dir root ARGS` with warnings logged; returns its exit code and
/// what it wrote on stderr.
fn faqd_index<'a>(
    root: &Path,
    args: impl IntoIterator<Item = &'a std::ffi::OsStr>,
) -> (Option<i32>, String) {
    let out = crate::common::faqd_command()
        .arg("index")
        .arg("--index-dir")
        .arg(root)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Regression: a dump with no valid article exited 1 (failure) instead of 3 (invalid input).
#[test]
fn a_dump_without_a_valid_article_exits_3() {
    let dir = tempdir();
    let dump = dir.path().join("none.jsonl");
    std::fs::write(
        &dump,
        "{\"id\":\"a\",\"lang\":\"en\",\"title\":\"\",\"answer\":\"x\"}\n",
    )
    .unwrap();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "\n").unwrap();
    let root = dir.path().join("index");
    for (dump, flags) in [
        (&dump, &["--skip-invalid"][..]),
        (&dump, &[]),
        (&empty, &[]),
    ] {
        let (code, stderr) = faqd_index(
            &root,
            flags
                .iter()
                .map(std::ffi::OsStr::new)
                .chain([dump.as_os_str()]),
        );
        assert_eq!(code, Some(3), "{flags:?}: {stderr}");
        assert!(
            stderr.contains("none.jsonl:1: field `title`")
                || stderr.contains("empty.jsonl: holds only blank lines: a dump holds at least"),
            "{stderr}"
        );
    }
    assert!(index::current_generation(&root).unwrap().is_none());
}

/// Regression (user trial): a zero-byte export among three dumps was indexed without a word
/// and every Chinese article left the index; one file named twice was reported as each of
/// its records being a duplicate of itself. Both are refused, naming the file, and the
/// index is left as it was.
#[test]
fn an_empty_dump_or_one_named_twice_is_refused_naming_it() {
    let dir = tempdir();
    let en = dir.path().join("en.jsonl");
    std::fs::write(
        &en,
        "{\"id\":\"a\",\"lang\":\"en\",\"title\":\"Fees\",\"answer\":\"No fee.\"}\n",
    )
    .unwrap();
    let zh = dir.path().join("zh.jsonl");
    std::fs::write(&zh, "").unwrap();
    let root = dir.path().join("index");
    let index = |dumps: &[&Path]| {
        let skip = std::ffi::OsStr::new("--skip-invalid");
        faqd_index(
            &root,
            [skip]
                .into_iter()
                .chain(dumps.iter().map(|d| d.as_os_str())),
        )
    };
    let (code, stderr) = index(&[&en, &zh]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("{}: is empty:", zh.display())),
        "{stderr}"
    );
    let twice = dir.path().join(".").join("en.jsonl");
    let (code, stderr) = index(&[&en, &twice]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: is given twice (first as {}",
            twice.display(),
            en.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("duplicate article"), "{stderr}");
    assert!(index::current_generation(&root).unwrap().is_none());
    let (code, stderr) = index(&[&en]);
    assert_eq!(code, Some(0), "{stderr}");
}

/// An empty answer is indexed (a labelled set's bank has none) but named in a warning, with
/// file, line and field: a hit on it would show a support front-end a title and no reply.
#[test]
fn an_empty_answer_is_indexed_with_a_warning_naming_the_record() {
    let dir = tempdir();
    let dump = dir.path().join("faq.jsonl");
    std::fs::write(
        &dump,
        concat!(
            r#"{"id": "fees", "lang": "en", "title": "Trading fees", "answer": "0.1 % per trade."}"#,
            "\n",
            r#"{"id": "listing", "lang": "en", "title": "How do I list a coin", "answer": " "}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = crate::common::faqd_command()
        .arg("index")
        .arg("--index-dir")
        .arg(dir.path().join("index"))
        .arg(&dump)
        .output()
        .expect("run faqd index");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:2: field `answer`: empty (article \"listing\")",
            dump.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains(":1: field `answer`"), "{stderr}");
}

/// Regression (user trial): a key that is not faqd's was ignored without a word, so a typo
/// (`questons`) or another schema's name (`language`, `body`) lost its text silently. Such a
/// name is now an invalid record when the field it resembles has no text and it has some
/// (and, for a name other exports give an optional field, only for a required one); any
/// other unknown key is reported once per dump with its count. A review and a trial then
/// found the first rule too eager: ordinary extra fields (`keywords`, `link`, `uri`) made
/// records invalid, and `--skip-invalid` dropped them.
#[test]
fn jsonl_keys_that_are_not_faqds_are_reported() {
    let dir = tempdir();
    let lines = [
        r#"{"id":"a","lang":"en","title":"A","answer":"x","questons":["how a"]}"#,
        r#"{"id":"b","language":"en","title":"B","answer":"y"}"#,
        r#"{"id":"c","lang":"en","title":"C","answer":"z","author":"kim","views":3}"#,
        r#"{"id":"d","lang":"en","title":"D","answer":"w","author":"lee","body":"<p>w</p>"}"#,
        r#"{"id":"e","lang":"en","title":"E","answer":"","body":"the real answer"}"#,
        r#"{"id":"f","lang":"en","Title":"F","answer":"v"}"#,
        r#"{"id":"g","lang":"en","title":"G","answer":"u","keywords":["k"],"link":"https://x","uri":"u","modified":true,"questons":[]}"#,
        r#"{"id":"h","lang":"en","title":"Unpublished","answer":"t","draft":true}"#,
        r#"{"id":"i","lang":"en","title":"Unpublished","answer":"t","Draft":true}"#,
        r#"{"id":"j","lang":"en","title":"Unpublished","answer":"t","draft":"Y"}"#,
        r#"{"id":"k","lang":"en","title":"Unpublished","Title":"x","draft":"yes"}"#,
        r#"{"id":"l","lang":"en","title":"L","answer":"","description_text":"the real answer"}"#,
        r#"{"id":"m","lang":"en","title":"Unpublished","answer":"t","is_draft":true}"#,
        r#"{"id":"n","lang":"en","title":"Unpublished","answer":"t","status":"Draft"}"#,
        r#"{"id":"o","lang":"en","title":"O","answer":"t","Draft":false,"status":"published"}"#,
    ];
    let loaded = load_text(dir.path(), "dump.jsonl", lines.join("\n").as_bytes()).unwrap();
    let ids: Vec<&str> = loaded.articles.iter().map(|a| a.id.as_str()).collect();
    // `"Draft": false` loses nothing: ignored, not an error.
    assert_eq!(ids, ["c", "d", "g", "o"], "{:?}", loaded.errors);
    let errs: Vec<String> = texts(dir.path(), &loaded.errors);
    let starts = [
        "dump.jsonl:1: field `questons` is not faqd's: did you mean `questions`?",
        "dump.jsonl:2: field `language` is not faqd's: did you mean `lang`?",
        "dump.jsonl:5: field `body` is not faqd's: did you mean `answer`? (there is no `answer` with text",
        "dump.jsonl:6: field `Title` is not faqd's: did you mean `title`?",
        // A misspelled draft flag would serve an unpublished text; so would a value read
        // as "published" because it is not understood (review).
        "dump.jsonl:9: field `Draft` is not faqd's: did you mean `draft`?",
        "dump.jsonl:10: field `draft`: \"Y\" is not true or false",
        // Other exports' names for the answer (Freshdesk's `description_text`) and for an
        // unpublished record (trial).
        "dump.jsonl:12: field `description_text` is not faqd's: did you mean `answer`?",
        "dump.jsonl:13: field `is_draft` is not faqd's: did you mean `draft`?",
        "dump.jsonl:14: field `status`: \"Draft\" marks an unpublished article, which faqd \
         would serve",
    ];
    assert_eq!(errs.len(), starts.len(), "{errs:#?}");
    for (e, start) in errs.iter().zip(starts) {
        assert!(e.starts_with(start), "{e}\n  should start with\n{start}");
    }
    let ignored: Vec<String> = texts(dir.path(), &loaded.ignored_fields);
    assert_eq!(
        ignored,
        [
            "dump.jsonl:3: field `author`: not a faqd field, ignored (2 records; first here)",
            "dump.jsonl:3: field `views`: not a faqd field, ignored (1 record; first here)",
            "dump.jsonl:4: field `body`: not a faqd field, ignored (1 record; first here); \
             faqd's field for this is `answer`",
            "dump.jsonl:7: field `keywords`: not a faqd field, ignored (1 record; first here); \
             faqd's field for this is `tags`",
            "dump.jsonl:7: field `link`: not a faqd field, ignored (1 record; first here); \
             faqd's field for this is `url`",
            "dump.jsonl:7: field `modified`: not a faqd field, ignored (1 record; first here); \
             faqd's field for this is `updated_at`",
            "dump.jsonl:7: field `questons`: not a faqd field, ignored (1 record; first here); \
             faqd's field for this is `questions`",
            "dump.jsonl:7: field `uri`: not a faqd field, ignored (1 record; first here)",
            "dump.jsonl:15: field `Draft`: not a faqd field, ignored (1 record; first here); \
             faqd's field for this is `draft`",
            "dump.jsonl:15: field `status`: not a faqd field, ignored (1 record; first here)",
        ]
    );
    // `kb::build` (faqd index, admin Reindex) returns them; with skip_invalid the invalid
    // records are skipped and the rest published (a draft is left out unchecked).
    let root = dir.path().join("root");
    let built = kb::build(
        &root,
        &[Source::File(dir.path().join("dump.jsonl"), None)],
        true,
        &BuildOptions::default(),
    )
    .unwrap();
    assert_eq!(built.skipped.len(), 9);
    assert_eq!(built.ignored_fields.len(), 10);
    assert_eq!(built.meta.articles.values().sum::<usize>(), 4);
}

/// Regression (user trial): a CSV header with `language` for `lang` gave one "missing
/// required field" error per row. A header that is not faqd's is now one error that names
/// every problem and says how many records it keeps out; other columns are reported.
#[test]
fn a_csv_header_that_is_not_faqds_is_one_error() {
    let dir = tempdir();
    let header_error = |name: &str, csv: &str| {
        let loaded = load_text(dir.path(), name, csv.as_bytes()).unwrap();
        assert!(loaded.articles.is_empty());
        let errs = texts(dir.path(), &loaded.errors);
        assert_eq!(errs.len(), 1, "{errs:#?}");
        errs[0].clone()
    };
    let e = header_error(
        "wrong.csv",
        "id,language,title,answer\na,en,A,x\nb,en,B,y\nc,en,C,z\n",
    );
    assert!(
        e.starts_with(
            "wrong.csv:1: the header is not faqd's, so none of the file's 3 records is \
             indexed: column `language` is not faqd's: did you mean `lang`?"
        ),
        "{e}"
    );
    // Every problem at once.
    let e = header_error("cased.csv", "ID,Lang,Title,Answer\na,en,A,x\n");
    for name in ["ID", "Lang", "Title", "Answer"] {
        assert!(e.contains(&format!("column `{name}` is not faqd's")), "{e}");
    }
    assert!(!e.contains("no column"), "{e}");
    let e = header_error("missing.csv", "id,title,answer,notes\na,A,x,n\n");
    assert!(
        e.contains("1 record is indexed: no column `lang` (required)"),
        "{e}"
    );
    let e = header_error("twice.csv", "id,lang,title,answer,answer\na,en,A,x,y\n");
    assert!(e.contains("column `answer` appears 2 times"), "{e}");
    // Other columns, and one without a name that has values, are reported, each once
    // however often it appears; so is a column named like an absent field of faqd's when
    // it has no text (a blank `URL` column loses nothing, review); a draft is left out.
    let extra = "notes,id,lang,title,answer,keywords,,draft,URL,notes\n\
                 n,a,en,A,x,k,1,,,\n\
                 m,b,en,B,y,,,,,\n\
                 ,c,en,C,z,,,true,,\n";
    let loaded = load_text(dir.path(), "extra.csv", extra.as_bytes()).unwrap();
    let ids: Vec<&str> = loaded.articles.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"], "{:?}", loaded.errors);
    assert_eq!(
        texts(dir.path(), &loaded.ignored_fields),
        [
            "extra.csv:1: field `notes`: not a faqd column, ignored (3 records; first here)",
            "extra.csv:1: field `keywords`: not a faqd column, ignored (3 records; first \
             here); faqd's column for this is `tags`",
            "extra.csv:1: field `URL`: not a faqd column, ignored (3 records; first here); \
             faqd's column for this is `url`",
            "extra.csv:1: field `(column 7, no name)`: not a faqd column, ignored (3 \
             records; first here)",
        ]
    );
    // Both `url` and `URL`: a row with text under `URL` only would lose it (trial), a
    // `Draft` column of FALSE loses nothing, and `status` `draft` marks an unpublished row.
    let both = "id,lang,title,answer,url,URL,Draft,status\n\
                a,en,A,x,,,FALSE,published\n\
                b,en,B,y,,https://lost,FALSE,\n\
                c,en,C,z,,,,draft\n";
    let loaded = load_text(dir.path(), "both.csv", both.as_bytes()).unwrap();
    let ids: Vec<&str> = loaded.articles.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a"], "{:?}", loaded.errors);
    assert_eq!(
        texts(dir.path(), &loaded.errors),
        [
            "both.csv:3: field `URL`: not a faqd column: did you mean `url`? (`url` is empty \
             in this row, so its text would be lost)",
            "both.csv:4: field `status`: \"draft\" marks an unpublished article, which faqd \
             would serve: faqd leaves out records with `draft` true (set it, or take the \
             record out of the dump)",
        ]
    );
    // An empty file is refused, naming it, as an empty JSONL file is.
    for (empty, what) in [
        ("", "is empty"),
        ("\n", "holds only blank lines"),
        ("\u{feff}", "is empty"),
        ("id,lang,title,answer\n", "holds no records"),
    ] {
        let error = load_text(dir.path(), "empty.csv", empty.as_bytes()).unwrap_err();
        assert!(
            error.to_string().ends_with(&format!(
                "empty.csv: {what}: a dump holds at least one article; leave it out of the \
                 dumps to index nothing from it"
            )),
            "{empty:?}: {error}"
        );
    }
}

/// Regression (user trial): an article tagged with a language its text is not in (`lang:
/// en` over Korean) was indexed without a word, analysed as the wrong language, so that its
/// own title did not find it, and shown to the wrong readers. A plain contradiction between
/// the tag and the script is an invalid record naming the tag to use; mixed texts pass.
#[test]
fn an_article_tagged_with_a_language_its_text_is_not_in_is_invalid() {
    let dir = tempdir();
    let dump = [
        r#"{"id":"a1","lang":"en","title":"출금 방법","answer":"지갑 메뉴에서 출금을 누르세요."}"#,
        r#"{"id":"a2","lang":"ko","title":"如何提币","answer":"在钱包页面点击提币。"}"#,
        r#"{"id":"a3","lang":"zh","title":"How to withdraw","answer":"Open the wallet and press Withdraw."}"#,
        r#"{"id":"a4","lang":"en","title":"出金方法","answer":"ウォレット画面で出金を押してください。"}"#,
        r#"{"id":"a5","lang":"en","title":"Withdrawing in the app","answer":"Tap 출금 (Withdraw) in the 지갑 (Wallet) menu, then choose the coin."}"#,
        r#"{"id":"a6","lang":"ko","title":"OTP 재설정","answer":"Google OTP를 분실한 경우 고객센터에 문의하세요."}"#,
        r#"{"id":"a7","lang":"zh-Hant","title":"USDT TRC20 提幣","answer":"請選擇 TRC20 network 並輸入 address。"}"#,
        r#"{"id":"a8","lang":"ko","title":"KYC","answer":"OK"}"#,
    ]
    .join("\n");
    let loaded = load_text(dir.path(), "tagged.jsonl", dump.as_bytes()).unwrap();
    let ids: Vec<&str> = loaded.articles.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a5", "a6", "a7", "a8"], "{:?}", loaded.errors);
    assert_eq!(
        texts(dir.path(), &loaded.errors),
        [
            "tagged.jsonl:1: field `lang`: `en`, but the text of its title, questions and \
             answer is Korean: 17 of its 17 letters are Hangul; use `ko` if that is its \
             language, or fix the text",
            "tagged.jsonl:2: field `lang`: `ko`, but the text of its title, questions and \
             answer is Chinese: 13 of its 13 letters are Han characters and none is Hangul; \
             use `zh` if that is its language, or fix the text",
            "tagged.jsonl:3: field `lang`: `zh`, but the text of its title, questions and \
             answer has no Chinese: 42 of its 42 letters are Latin and none is a Han \
             character; use `en` if that is its language, or fix the text",
            "tagged.jsonl:4: field `lang`: `en`, but the text of its title, questions and \
             answer is Japanese: 22 of its 22 letters are kana or kanji; faqd serves ko, en \
             and zh only: leave it out, or fix the text",
        ]
    );
    // The other Chinese script (second trial: shown unconverted to its readers, and flagged
    // converted to the other script's though nothing was).
    let scripts = [
        r#"{"id":"s1","lang":"zh","title":"韓元提領限額","answer":"每日提領上限為五千萬韓元，請於設定頁面確認。"}"#,
        r#"{"id":"s2","lang":"zh-Hant","title":"韩元提现限额","answer":"每日提现上限为五千万韩元，请在设置页面确认。"}"#,
        r#"{"id":"s3","lang":"zh","title":"提币到台湾交易所","answer":"请确认地址。臺"}"#,
    ]
    .join("\n");
    let loaded = load_text(dir.path(), "scripts.jsonl", scripts.as_bytes()).unwrap();
    let ids: Vec<&str> = loaded.articles.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["s3"], "{:?}", loaded.errors);
    let errs = texts(dir.path(), &loaded.errors);
    assert!(
        errs[0].starts_with(
            "scripts.jsonl:1: field `lang`: `zh`, but the text of its title, \
                             questions and answer is Traditional Chinese: "
        ) && errs[0].ends_with("use `zh-Hant` if that is its language, or fix the text"),
        "{errs:?}"
    );
    assert!(
        errs[1].contains(
            "`zh-Hant`, but the text of its title, questions and answer is \
                          Simplified Chinese"
        ) && errs[1].contains("use `zh` if"),
        "{errs:?}"
    );
    // A country code for a language tag gets the tag to use.
    let loaded = load_text(
        dir.path(),
        "country.jsonl",
        r#"{"id":"c1","lang":"kr","title":"출금","answer":"지갑"}"#.as_bytes(),
    )
    .unwrap();
    let errs = texts(dir.path(), &loaded.errors);
    assert!(
        errs[0].contains("field `lang`: unsupported language \"kr\": did you mean `ko`"),
        "{errs:?}"
    );
    // In a CSV dump and a Zendesk export (its `locale`) alike.
    let csv = "id,lang,title,answer\nb1,zh,출금 방법,지갑 메뉴에서 출금을 누르세요\n";
    let loaded = load_text(dir.path(), "tagged.csv", csv.as_bytes()).unwrap();
    let errs = texts(dir.path(), &loaded.errors);
    assert!(
        errs[0].starts_with("tagged.csv:2: field `lang`: `zh`, but"),
        "{errs:?}"
    );
    let export = r#"{"articles": [{"id": 7, "locale": "ko", "title": "Withdrawals", "body": "<p>Open the wallet.</p>"}]}"#;
    let loaded = load_text(dir.path(), "export.json", export.as_bytes()).unwrap();
    let errs = texts(dir.path(), &loaded.errors);
    assert!(
        errs[0].contains(
            "field `locale`: `ko`, but the text of its title, questions and \
                          answer has no Korean"
        ),
        "{errs:?}"
    );
}

/// Regression (user trial): a record with `question` and no `title` was told only that
/// `question` is not faqd's; the missing required field is named too.
#[test]
fn a_misnamed_field_does_not_hide_a_missing_required_one() {
    let dir = tempdir();
    let dump =
        r#"{"id":"q1","lang":"en","question":"How to withdraw","answer":"Go to the wallet"}"#;
    let loaded = load_text(dir.path(), "q.jsonl", dump.as_bytes()).unwrap();
    let errs = texts(dir.path(), &loaded.errors);
    assert!(
        errs[0].starts_with(
            "q.jsonl:1: field `question` is not faqd's: did you mean `questions`? (there is \
             no `questions` with text, so its text would be lost); no field `title` (required)"
        ),
        "{errs:?}"
    );
}

/// Regression (review): `tag` for `tags` was only warned about, so its text was lost. The
/// singular of a list field's name is another spelling of it: an invalid record where the
/// field has no text, ignored with a warning where it has. A plural of a field of one value
/// (`categories`, `urls`) most likely holds a list that field cannot take: warned about.
#[test]
fn the_singular_of_a_list_fields_name_is_another_spelling() {
    let dir = tempdir();
    let dump = [
        r#"{"id":"a","lang":"en","title":"A","answer":"x","tag":"fees"}"#,
        r#"{"id":"b","lang":"en","title":"B","answer":"x","tags":["fees"],"tag":"fees"}"#,
        r#"{"id":"c","lang":"en","title":"C","answer":"x","categories":["fees","kyc"]}"#,
    ]
    .join("\n");
    let loaded = load_text(dir.path(), "number.jsonl", dump.as_bytes()).unwrap();
    let ids: Vec<&str> = loaded.articles.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["b", "c"], "{:?}", loaded.errors);
    let errs = texts(dir.path(), &loaded.errors);
    assert!(
        errs[0].contains("field `tag` is not faqd's: did you mean `tags`?"),
        "{errs:?}"
    );
    assert_eq!(
        texts(dir.path(), &loaded.ignored_fields),
        [
            "number.jsonl:2: field `tag`: not a faqd field, ignored (1 record; first here); \
             faqd's field for this is `tags`",
            "number.jsonl:3: field `categories`: not a faqd field, ignored (1 record; first \
             here); faqd's field for this is `category`",
        ]
    );
}

/// Regression (user trial): with `--skip-invalid`, a CSV header that is not faqd's was
/// counted as "1 skipped" although it keeps every record of its file out; and a dump of
/// drafts only said "the dumps hold no valid article", as if its records were broken.
#[test]
fn skipped_counts_records_and_a_dump_of_drafts_says_so() {
    let dir = tempdir();
    let csv = dir.path().join("wrong.csv");
    std::fs::write(
        &csv,
        "id,language,title,answer\na,en,A,x\nb,en,B,y\nc,en,C,z\n",
    )
    .unwrap();
    let good = dir.path().join("good.jsonl");
    std::fs::write(
        &good,
        "{\"id\":\"g\",\"lang\":\"en\",\"title\":\"G\",\"answer\":\"x\"}\n",
    )
    .unwrap();
    let dumps = [Source::File(csv.clone(), None), Source::File(good, None)];
    let root = dir.path().join("root");
    let built = kb::build(&root, &dumps, true, &BuildOptions::default()).unwrap();
    assert_eq!(built.skipped.len(), 1);
    assert_eq!(ingest::records_kept_out(&built.skipped), 3);
    let e = kb::build(&root, &dumps, false, &BuildOptions::default()).unwrap_err();
    assert!(e.to_string().starts_with("3 invalid record(s)"), "{e}");
    let drafts = dir.path().join("drafts.jsonl");
    std::fs::write(
        &drafts,
        "{\"id\":\"d\",\"lang\":\"en\",\"title\":\"D\",\"answer\":\"x\",\"draft\":true}\n\
         {\"id\":\"e\",\"lang\":\"en\",\"title\":\"E\",\"answer\":\"y\",\"draft\":\"yes\"}\n",
    )
    .unwrap();
    let e = kb::build(
        &root,
        &[Source::File(drafts.clone(), None)],
        false,
        &BuildOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, BuildError::OnlyDrafts(2)), "{e}");
    // The CLI says so, with the exit code of invalid input.
    let out = crate::common::faqd_command()
        .args(["index", "--no-model", "--index-dir"])
        .arg(dir.path().join("cli"))
        .arg(&drafts)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("nothing to index: all 2 records of the dumps are drafts"),
        "{stderr}"
    );
    let out = crate::common::faqd_command()
        .args(["index", "--no-model", "--skip-invalid", "--index-dir"])
        .arg(dir.path().join("cli"))
        .args([&csv, &dir.path().join("good.jsonl")])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(", 3 skipped,"), "{stdout}");
    // Skipping with nothing valid left says so (second trial: only "nothing was changed").
    let e = kb::build(
        &root,
        &[Source::File(csv.clone(), None)],
        true,
        &BuildOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string().starts_with(
            "3 invalid record(s) and no valid one: skipping them leaves nothing to index"
        ),
        "{e}"
    );
}

/// Returns the errors' texts with the directory `dir` left out of their file names.
fn texts(dir: &Path, errors: &[ingest::RecordError]) -> Vec<String> {
    let dir = format!("{}/", dir.display());
    errors
        .iter()
        .map(|e| e.to_string().replace(&dir, ""))
        .collect()
}

/// Regressions (user trial): a spreadsheet's rows of empty cells failed the whole run; a CSV
/// record with a field too many was reported with the reader's own record and line numbers
/// ("record 1 (line: 1 ...)" on line 2); a key with a zero-width space was shown exactly
/// like the field it is not; a JSON Lines dump named `.json` was called an invalid export.
#[test]
fn small_dump_mistakes_are_reported_in_the_dumps_terms() {
    let dir = tempdir();
    let csv = "id,lang,title,answer\r\na,en,A,x\r\n,,,\r\nb,en,B,y,extra\r\n,,,\r\n";
    let loaded = load_text(dir.path(), "sheet.csv", csv.as_bytes()).unwrap();
    assert_eq!(loaded.articles.len(), 1, "{:?}", loaded.errors);
    assert_eq!(
        texts(dir.path(), &loaded.errors),
        ["sheet.csv:4: invalid CSV record: 5 fields where the header has 4"]
    );
    let hidden = "{\"id\":\"a\",\"lang\":\"en\",\"title\u{200b}\":\"A\",\"answer\":\"x\"}\n";
    let loaded = load_text(dir.path(), "hidden.jsonl", hidden.as_bytes()).unwrap();
    let errs = texts(dir.path(), &loaded.errors);
    assert!(
        errs[0].starts_with(
            "hidden.jsonl:1: field `\"title\\u{200b}\"` is not faqd's: did you mean `title`?"
        ),
        "{errs:?}"
    );
    let jsonl = "{\"id\":\"a\",\"lang\":\"en\",\"title\":\"A\",\"answer\":\"x\"}\n\
                 {\"id\":\"b\",\"lang\":\"en\",\"title\":\"B\",\"answer\":\"y\"}\n";
    let e = load_text(dir.path(), "faq.json", jsonl.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not a Zendesk export")
            && e.ends_with("(it looks like JSON Lines, one article per line: name it .jsonl or pass --format jsonl)"),
        "{e}"
    );
}

/// Regression (user trial): Freshdesk's numbered `status` (1 draft, 2 published) was an
/// ignored field, so a draft was served. A Freshdesk record (it has `description_text` or
/// `folder_id`) with status 1 is an invalid record as other exports' drafts are, 2 loads; a numbered
/// state elsewhere cannot be read either way and asks for `draft`.
#[test]
fn a_numbered_status_is_read_for_freshdesk_and_refused_elsewhere() {
    let dir = tempdir();
    let dump = "{\"id\":\"1\",\"lang\":\"en\",\"title\":\"Margin\",\"description_text\":\"Draft about margin.\",\"status\":1}\n\
                {\"id\":\"2\",\"lang\":\"en\",\"title\":\"Fees\",\"answer\":\"No fee.\",\"folder_id\":7,\"status\":2}\n\
                {\"id\":\"3\",\"lang\":\"en\",\"title\":\"Limits\",\"answer\":\"10 BTC a day.\",\"status\":0}\n\
                {\"id\":\"4\",\"lang\":\"en\",\"title\":\"Limits\",\"answer\":\"10 BTC a day.\",\"status\":0,\"draft\":false}\n";
    let loaded = load_text(dir.path(), "freshdesk.jsonl", dump.as_bytes()).unwrap();
    let ids: Vec<&str> = loaded.articles.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["2", "4"], "{:?}", loaded.errors);
    assert_eq!(
        texts(dir.path(), &loaded.errors),
        [
            "freshdesk.jsonl:1: field `status`: 1 is Freshdesk's draft state, an unpublished \
             article, which faqd would serve: faqd leaves out records with `draft` true (set \
             it, or take the record out of the dump)",
            "freshdesk.jsonl:3: field `status`: 0 is a numbered state, which faqd cannot read: \
             exports number their states differently (in Freshdesk, 1 is a draft and 2 \
             published), and a draft would be served: set `draft` true or false in the record",
        ]
    );
    // The same in CSV, under any spelling of the state's name.
    let csv = "id,lang,title,answer,folder_id,Publish Status\n\
               1,en,Margin,Draft about margin.,7,1\n\
               2,en,Fees,No fee.,7,2\n";
    let loaded = load_text(dir.path(), "freshdesk.csv", csv.as_bytes()).unwrap();
    let ids: Vec<&str> = loaded.articles.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["2"], "{:?}", loaded.errors);
    let errors = texts(dir.path(), &loaded.errors);
    assert!(
        errors.len() == 1
            && errors[0]
                .starts_with("freshdesk.csv:2: field `Publish Status`: 1 is Freshdesk's draft"),
        "{errors:?}"
    );
    let csv = "id,lang,title,answer,status\n1,en,Limits,10 BTC a day.,0\n";
    let loaded = load_text(dir.path(), "other.csv", csv.as_bytes()).unwrap();
    assert!(loaded.articles.is_empty(), "{:?}", loaded.articles);
    assert!(texts(dir.path(), &loaded.errors)[0]
        .starts_with("other.csv:2: field `status`: 0 is a numbered state"));
}

/// An article whose language versions are filed under different categories is indexed,
/// with a warning naming it and each version's category (a user trial found one: a search
/// in either category finds it, and each language's readers see another category).
#[test]
fn versions_in_different_categories_are_named_in_a_warning() {
    let dir = tempdir();
    let dump = dir.path().join("faq.jsonl");
    std::fs::write(
        &dump,
        "{\"id\":\"fees\",\"lang\":\"en\",\"title\":\"Fees\",\"answer\":\"0.1 %.\",\"category\":\"fees\"}\n\
         {\"id\":\"fees\",\"lang\":\"ko\",\"title\":\"수수료\",\"answer\":\"0.1 %입니다.\",\"category\":\"수수료\"}\n\
         {\"id\":\"kyc\",\"lang\":\"en\",\"title\":\"KYC\",\"answer\":\"Upload an ID.\",\"category\":\"account\"}\n\
         {\"id\":\"kyc\",\"lang\":\"ko\",\"title\":\"본인인증\",\"answer\":\"신분증을 올려 주세요.\",\"category\":\"account\"}\n",
    )
    .unwrap();
    let (code, stderr) = faqd_index(&dir.path().join("index"), [dump.as_os_str()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("articles whose language versions have different categories"),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"fees (en: "fees", ko: "수수료")"#),
        "{stderr}"
    );
    assert!(!stderr.contains("kyc ("), "{stderr}");
}
