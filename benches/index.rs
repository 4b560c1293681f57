//! Indexing throughput: writes a synthetic dump (default 100,000 article versions, a third
//! each in Korean, English and Chinese; `FAQD_BENCH_ARTICLES` to change) into a temporary
//! directory, then runs the same build as `faqd index` on it and prints articles per second
//! for reading + validating and for building, with the process's peak memory; then opens it
//! for serving and times one admin upsert and one delete on it.
//!
//! `cargo bench --bench index`. The dump is generated, never committed.

use faqd::index::BuildOptions;
use faqd::ingest::Source;
use std::io::Write;
use std::time::Instant;

const KO: &[&str] = &[
    "출금이",
    "입금",
    "계정",
    "보안",
    "인증을",
    "완료하면",
    "수수료는",
    "지갑",
    "주소를",
    "확인해",
    "주세요",
    "네트워크",
    "지연될",
    "수",
    "있습니다",
    "고객센터에",
    "문의",
    "본인인증",
    "거래",
    "주문이",
    "체결되지",
    "않으면",
    "비밀번호를",
    "변경하려면",
    "원화",
    "계좌",
];
const EN: &[&str] = &[
    "withdrawal",
    "deposit",
    "account",
    "security",
    "verification",
    "after",
    "fees",
    "wallet",
    "address",
    "please",
    "check",
    "network",
    "may",
    "be",
    "delayed",
    "contact",
    "support",
    "identity",
    "trade",
    "order",
    "not",
    "filled",
    "password",
    "change",
    "bank",
    "limit",
];
const ZH: &[&str] = &[
    "提币",
    "充值",
    "账户",
    "安全",
    "认证",
    "完成后",
    "手续费",
    "钱包",
    "地址",
    "请",
    "确认",
    "网络",
    "可能",
    "延迟",
    "联系",
    "客服",
    "身份",
    "交易",
    "订单",
    "未",
    "成交",
    "密码",
    "修改",
    "银行",
    "限额",
    "到账",
];

/// A small deterministic generator (xorshift), so every run indexes the same dump.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 as usize
    }

    fn text(&mut self, words: &[&str], n: usize, sep: &str) -> String {
        (0..n)
            .map(|_| words[self.next() % words.len()])
            .collect::<Vec<_>>()
            .join(sep)
    }
}

fn write_dump(path: &std::path::Path, n: usize) {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create dump"));
    for i in 0..n {
        let (lang, words, sep) = match i % 3 {
            0 => ("ko", KO, " "),
            1 => ("en", EN, " "),
            _ => ("zh", ZH, ""),
        };
        let record = serde_json::json!({
            "id": format!("syn-{}", i / 3),
            "lang": lang,
            "title": rng.text(words, 8, sep),
            "questions": [rng.text(words, 6, sep), rng.text(words, 7, sep)],
            "answer": rng.text(words, 60, sep),
            "category": format!("cat-{}", i % 12),
            "updated_at": "2026-01-01T00:00:00Z",
        });
        writeln!(f, "{record}").expect("write dump");
    }
    f.flush().expect("flush dump");
}

/// Peak resident memory of this process in MiB (Linux), if known.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let n: usize = std::env::var("FAQD_BENCH_ARTICLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let dump = dir.path().join("synthetic.jsonl");
    write_dump(&dump, n);
    let size = std::fs::metadata(&dump).map(|m| m.len()).unwrap_or(0);
    let sources = [Source::File(dump, None)];

    let start = Instant::now();
    let loaded = faqd::ingest::load(&sources).expect("dump reads");
    let read = start.elapsed();
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors.first());
    drop(loaded);

    let root = dir.path().join("index");
    let start = Instant::now();
    let built =
        faqd::kb::build(&root, &sources, false, &BuildOptions::default()).expect("index builds");
    let total = start.elapsed();
    let articles: usize = built.meta.articles.values().sum();
    println!(
        "dump: {n} article versions, {:.1} MiB",
        size as f64 / 1_048_576.0
    );
    println!(
        "read + validate: {:.2} s ({:.0} articles/s)",
        read.as_secs_f64(),
        n as f64 / read.as_secs_f64()
    );
    println!(
        "faqd index (read, validate, analyse, write, merge, publish): {:.2} s, {:.0} articles/s, {} versions indexed",
        total.as_secs_f64(),
        articles as f64 / total.as_secs_f64(),
        articles
    );
    if let Some(mib) = peak_rss_mib() {
        println!("peak resident memory after the build: {mib:.0} MiB");
    }

    // Serving it, and admin edits on it (incremental generations).
    let start = Instant::now();
    let engine = std::sync::Arc::new(
        faqd::engine::Engine::open(&root, faqd::engine::Settings::default()).expect("opens"),
    );
    println!("open for serving: {:.2} s", start.elapsed().as_secs_f64());
    let admin = faqd::admin::Admin::new(engine.clone(), 3);
    let mut article = faqd::ingest::Article::clone(&engine.generation().groups[7][0]);
    article.title.push_str(" (edited)");
    let start = Instant::now();
    admin.upsert(vec![article]).expect("upsert");
    println!(
        "admin upsert of one version, until served: {:.2} s",
        start.elapsed().as_secs_f64()
    );
    let id = engine.generation().groups[9][0].id.clone();
    let start = Instant::now();
    admin.delete(&[id], None).expect("delete");
    println!(
        "admin delete of one id, until served: {:.2} s",
        start.elapsed().as_secs_f64()
    );
    if let Some(mib) = peak_rss_mib() {
        println!("peak resident memory overall: {mib:.0} MiB");
    }
}
