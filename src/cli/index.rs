//! `faqd index`: builds a new generation from dump files and publishes it atomically.

use super::{build_options, EXIT_INVALID_INPUT};
use crate::index::IndexError;
use crate::ingest::Format;
use crate::kb::{self, BuildError};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Dump files (JSONL, CSV, Zendesk JSON; format from the extension unless --format).
    /// Default: the shipped knowledge base.
    pub dumps: Vec<PathBuf>,
    /// Index root directory (the one `faqd serve` reads). Default: $XDG_DATA_HOME/faqd/index,
    /// else ~/.local/share/faqd/index.
    #[arg(long, env = "FAQD_INDEX_DIR", default_value_os_t = super::default_index_dir())]
    pub index_dir: PathBuf,
    /// Format of every dump, overriding the extension.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Fail the whole run, changing nothing, if any record is invalid (the default).
    #[arg(long, conflicts_with = "skip_invalid")]
    pub strict: bool,
    /// Index the valid records and report the invalid ones, instead of failing the run.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Published generations to keep.
    #[arg(long, env = "FAQD_KEEP_GENERATIONS", default_value_t = 3)]
    pub keep_generations: usize,
    #[command(flatten)]
    pub model: super::ModelArgs,
}

pub fn run(a: IndexArgs) -> anyhow::Result<i32> {
    let sources = kb::sources(&a.dumps, a.format);
    let root = super::absolute(&a.index_dir);
    tracing::info!(root = %root.display(), "index root");
    match kb::build(
        &a.index_dir,
        &sources,
        a.skip_invalid,
        &build_options(a.keep_generations),
    ) {
        Ok(built) => {
            for e in &built.skipped {
                eprintln!("skipped: {e}");
            }
            if let Some((generation, edits)) = built.replaced_edits {
                eprintln!(
                    "warning: generation {generation} had {edits} admin edit(s) (UpsertArticles, \
                     DeleteArticles) of articles {}; generation {} is built from the dumps alone \
                     and does not have them",
                    built.replaced_ids.join(", "),
                    built.meta.generation
                );
            }
            let total: usize = built.meta.articles.values().sum();
            println!(
                "generation {} published in {}: {} article versions {:?}, {} skipped, {} ms",
                built.meta.generation,
                root.display(),
                total,
                built.meta.articles,
                crate::ingest::records_kept_out(&built.skipped),
                built.meta.build_ms
            );
            embed(&a, built.meta.generation)?;
            Ok(0)
        }
        Err(
            e @ (BuildError::Invalid(_)
            | BuildError::NothingValid(_)
            | BuildError::Ingest(_)
            | BuildError::OnlyDrafts(_)
            | BuildError::Index(IndexError::Empty)),
        ) => {
            eprintln!("error: {e}");
            Ok(EXIT_INVALID_INPUT)
        }
        Err(e) => Err(e.into()),
    }
}

/// Embeds the new generation's titles, questions and answers with the sentence encoder, when one is
/// installed, so that servers find its vectors ready (texts of earlier generations are
/// reused).
fn embed(a: &IndexArgs, generation: u64) -> anyhow::Result<()> {
    use anyhow::Context;
    let (encoder, model) = match a.model.load()? {
        Ok(e) => e,
        Err(reason) => {
            println!("vectors: none ({reason}); servers with a model embed at start");
            return Ok(());
        }
    };
    let gen = crate::index::open_current(&a.index_dir)
        .with_context(|| format!("failed to open generation {generation}"))?;
    let s = crate::index::vectors::Vectors::store(&a.index_dir, &gen, &encoder, &model)
        .context("failed to embed the new generation")?;
    let rate = s.embedded as f64 / (s.ms.max(1) as f64 / 1000.0);
    println!(
        "vectors: {} texts, {} embedded ({:.0} texts/s), {} reused, {} ms",
        s.texts, s.embedded, rate, s.reused, s.ms
    );
    Ok(())
}
