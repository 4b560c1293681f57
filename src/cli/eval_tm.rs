//! `faqd eval-tm`: translation-memory retrieval and lookup speed on parallel text.

use crate::eval::tm;
use crate::translate::memory::parse_aligned;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct EvalTmArgs {
    /// Parallel text: JSONL, one object per line with an `id` and one sentence per language
    /// tag (`en`, `ko`, `zh-Hans`, `zh-Hant` ...; other languages are skipped), e.g.
    /// ../shared/eval/parallel/ntrex128.jsonl.
    #[arg(long)]
    pub input: PathBuf,
    /// Seed of the character edits.
    #[arg(long, default_value_t = 6)]
    pub seed: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: EvalTmArgs) -> anyhow::Result<i32> {
    let name = a.input.display().to_string();
    let Some(text) = super::read_input(&a.input) else {
        return Ok(super::EXIT_INVALID_INPUT);
    };
    let (lines, skipped) = match parse_aligned(&name, &text, true) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(super::EXIT_INVALID_INPUT);
        }
    };
    let r = tm::evaluate(&lines, a.seed);
    if a.json {
        let mut v = serde_json::to_value(&r)?;
        v["lines"] = lines.len().into();
        v["skipped_languages"] = serde_json::json!(skipped);
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    println!(
        "memory: {} entries (ordered language pairs), {} segments indexed, from {} lines of {name}; built in {:.0} ms",
        r.entries,
        r.segments,
        lines.len(),
        r.build_ms
    );
    if !skipped.is_empty() {
        println!(
            "skipped languages: {}",
            skipped.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    println!(
        "{:<8} {:>8} {:>12} {:>12} {:>10}",
        "query", "lookups", "right first", "matched", "mean %"
    );
    for row in &r.rows {
        println!(
            "{:<8} {:>8} {:>11.2}% {:>11.2}% {:>10.1}",
            row.kind,
            row.queries,
            100.0 * row.right_first,
            100.0 * row.matched,
            row.mean_percent
        );
    }
    println!(
        "lookup: p50 {:.0} µs, p99 {:.0} µs, mean {:.0} µs (matched = at least {:.0}%)",
        r.latency.p50_us, r.latency.p99_us, r.latency.mean_us, r.threshold
    );
    Ok(0)
}
