//! `faqd eval` and `faqd eval-langid`.

use crate::engine::Settings;
use crate::eval::{langid, retrieval};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The knowledge base to evaluate (canonical JSONL dump).
    #[arg(long)]
    pub bank: PathBuf,
    /// Labelled queries (`{"id", "lang", "query", "gold": [ids]}` per line).
    #[arg(long)]
    pub queries: PathBuf,
    /// Route queries by detection (as production) or by their labelled language.
    #[arg(long, value_enum, default_value = "detect")]
    pub route: retrieval::Route,
    /// Confidence threshold for the answer/no-answer decision (with the sentence encoder the
    /// stronger evidence must also reach it plus 0.05, or 0.15 for a question far from every
    /// article). Default: that of the ranking in use
    /// (0.2 hybrid, 0.23 lexical).
    #[arg(long, value_parser = super::parse_threshold)]
    pub threshold: Option<f64>,
    /// How the sentence encoder's ranking weighs hits: `auto`, `faq` or `documents` (as for
    /// `serve`).
    #[arg(long, default_value = "auto", value_parser = crate::search::hybrid::WeighAs::parse)]
    pub weigh_as: crate::search::hybrid::WeighAs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also print how the answer/no-answer decision would fare at other thresholds.
    #[arg(long)]
    pub sweep: bool,
    /// Write each query's outcome (right, wrong, missed, declined), rank and first hits to
    /// this file, one JSON object per line, in query order.
    #[arg(long, value_name = "FILE")]
    pub details: Option<PathBuf>,
    #[command(flatten)]
    pub model: super::ModelArgs,
}

pub fn run(a: EvalArgs) -> anyhow::Result<i32> {
    let settings = Settings {
        threshold: a.threshold,
        weigh_as: a.weigh_as,
        ..Settings::default()
    };
    let loaded = retrieval::read_queries(&a.queries).and_then(|queries| {
        let (engine, dir) = retrieval::engine_for_bank(&a.bank, settings)?;
        Ok((queries, engine, dir))
    });
    let (queries, engine, _dir) = match loaded {
        Ok(x) => x,
        Err(e) if e.is_invalid_input() => {
            eprintln!("error: {e}");
            return Ok(super::EXIT_INVALID_INPUT);
        }
        Err(e) => {
            return Err(
                anyhow::Error::new(e).context(format!("failed to index bank {}", a.bank.display()))
            )
        }
    };
    let engine = super::with_model(engine, &a.model)?;
    let results = retrieval::run_queries(&engine, &queries, a.route)?;
    if let Some(path) = &a.details {
        write_details(path, &queries, &results)
            .with_context(|| format!("failed to write {}", path.display()))?;
    }
    let report = retrieval::report(&results);
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", retrieval::table(&report));
    }
    if a.sweep {
        print!("{}", retrieval::sweep(&results));
    }
    Ok(0)
}

/// Writes one JSON line per query, in query order.
fn write_details(
    path: &std::path::Path,
    queries: &[retrieval::LabelledQuery],
    results: &[retrieval::QueryResult],
) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for (q, r) in queries.iter().zip(results) {
        serde_json::to_writer(&mut out, &r.detail(q))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

#[derive(Debug, Args)]
pub struct LangidArgs {
    /// Labelled texts (`{"lang", "text", "kind"}` per line).
    #[arg(long)]
    pub input: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Print up to this many wrong cases.
    #[arg(long, default_value_t = 0)]
    pub show_errors: usize,
}

pub fn run_langid(a: LangidArgs) -> anyhow::Result<i32> {
    let Some(text) = super::read_input(&a.input) else {
        return Ok(super::EXIT_INVALID_INPUT);
    };
    let items: Vec<langid::LabelledText> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| format!("{}:{}", a.input.display(), i + 1))
        })
        .collect::<anyhow::Result<_>>()?;
    let detector = crate::lang::Detector::new();
    let r = langid::evaluate(&detector, &items);
    if a.json {
        println!("{}", serde_json::to_string(&r)?);
        return Ok(0);
    }
    println!("{:<14} {:>7} {:>8}", "gold", "texts", "accuracy");
    for (k, t) in &r.by_language {
        println!("{:<14} {:>7} {:>8.4}", k, t.total, t.accuracy);
    }
    for (k, t) in &r.by_kind {
        println!("{:<14} {:>7} {:>8.4}", k, t.total, t.accuracy);
    }
    println!(
        "{:<14} {:>7} {:>8.4}",
        "overall", r.overall.total, r.overall.accuracy
    );
    println!("\nconfusion (gold -> predicted):");
    for (gold, row) in &r.confusion {
        let cells: Vec<String> = row.iter().map(|(p, n)| format!("{p}:{n}")).collect();
        println!("  {gold:<4} {}", cells.join("  "));
    }
    println!(
        "\nµs per call: p50 {:.2}, mean {:.2}",
        r.us_per_call_p50, r.us_per_call_mean
    );
    for (gold, pred, text) in r.errors.iter().take(a.show_errors) {
        println!("  wrong: {gold} -> {pred}: {text}");
    }
    Ok(0)
}
