//! Criterion benches: query analysis per language, language detection, and end-to-end search
//! (validation, detection, ranking, confidence) on the shipped knowledge base, and on any
//! bank given in `FAQD_BENCH_BANK` (a canonical JSONL dump, e.g. an evaluation bank) with
//! queries from `FAQD_BENCH_QUERIES`.

use criterion::{criterion_group, criterion_main, Criterion};
use faqd::analysis::{analyze, Kind};
use faqd::engine::{Engine, SearchParams, Settings};
use faqd::index::BuildOptions;
use faqd::lang::{Detector, Lang};
use std::hint::black_box;
use std::path::PathBuf;

const QUERIES: [(Lang, &str); 4] = [
    (Lang::Ko, "USDT 출금이 안돼요 어떻게 해야 하나요"),
    (Lang::En, "my withdrawal has been pending for two hours"),
    (Lang::Zh, "提币一直没到账怎么办"),
    (Lang::Zh, "提幣 pending 怎麼辦"),
];

fn analysis(c: &mut Criterion) {
    for (lang, q) in QUERIES {
        c.bench_function(&format!("analyze/{lang}/{q}"), |b| {
            b.iter(|| {
                for &k in Kind::for_lang(lang) {
                    black_box(analyze(lang, k, black_box(q)));
                }
            })
        });
    }
    let detector = Detector::new();
    for (_, q) in QUERIES.iter().chain(&[(Lang::En, "KYC")]) {
        c.bench_function(&format!("detect/{q}"), |b| {
            b.iter(|| black_box(detector.detect(black_box(q), None)))
        });
    }
}

fn engine_on(sources: &[faqd::ingest::Source]) -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    faqd::kb::build(dir.path(), sources, false, &BuildOptions::default()).expect("index builds");
    (
        Engine::open(dir.path(), Settings::default()).expect("index opens"),
        dir,
    )
}

fn search(c: &mut Criterion) {
    let (engine, _dir) = engine_on(&faqd::kb::sources(&[], None));
    for (_, q) in QUERIES {
        let params = SearchParams {
            query: q.to_string(),
            top_k: 5,
            ..SearchParams::default()
        };
        c.bench_function(&format!("search/shipped/{q}"), |b| {
            b.iter(|| black_box(engine.search(&params).expect("search")))
        });
    }
    let (Ok(bank), Ok(queries)) = (
        std::env::var("FAQD_BENCH_BANK"),
        std::env::var("FAQD_BENCH_QUERIES"),
    ) else {
        return;
    };
    let (engine, _dir) = engine_on(&faqd::kb::sources(&[PathBuf::from(&bank)], None));
    let queries = faqd::eval::retrieval::read_queries(&PathBuf::from(queries)).expect("queries");
    // As the peers in ../shared/eval/BASELINES.md were measured: routed to the query's
    // labelled language (no detection), no snippets, top 10.
    for (route, detect) in [("gold", false), ("detect", true)] {
        let params: Vec<SearchParams> = queries
            .iter()
            .take(200)
            .map(|q| SearchParams {
                query: q.query.clone(),
                language: (!detect).then(|| q.lang.clone()),
                top_k: 10,
                no_snippets: true,
                ..SearchParams::default()
            })
            .collect();
        c.bench_function(&format!("search/bank/{bank}/{route}/per-query"), |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % params.len();
                black_box(engine.search(&params[i]).expect("search"))
            })
        });
    }
}

criterion_group!(benches, analysis, search);
criterion_main!(benches);
