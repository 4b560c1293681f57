//! The command line: one file per subcommand. Configuration precedence is flag, then
//! environment variable (`FAQD_...`), then default.

mod bench;
mod detect;
mod eval;
mod eval_tm;
mod index;
mod model;
mod search;
mod serve;
mod translate;

use crate::engine::Settings;
use crate::index::{BuildOptions, Progress};
use crate::lang::Lang;
use crate::search::hybrid::WeighAs;
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

/// Exit code for invalid input (bad dump records, unreadable files).
pub const EXIT_INVALID_INPUT: i32 = 3;

/// faqd: answers support questions in Korean, English and Chinese from a FAQ knowledge base.
#[derive(Debug, Parser)]
#[command(name = "faqd", version, about)]
pub struct Cli {
    /// Log line format: `text` for people, `json` (one object per line) for log shippers.
    #[arg(
        long,
        global = true,
        env = "FAQD_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, with the call's span fields (method, request_id).
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serves the gRPC API (builds the index from the knowledge base first if needed).
    Serve(serve::ServeArgs),
    /// Builds a new index generation from dump files and publishes it atomically.
    Index(index::IndexArgs),
    /// Searches the index from the command line.
    Search(search::SearchArgs),
    /// Detects the language of a text.
    Detect(detect::DetectArgs),
    /// Evaluates retrieval on a labelled query set.
    Eval(eval::EvalArgs),
    /// Evaluates language detection on a labelled set.
    EvalLangid(eval::LangidArgs),
    /// Looks up an agent's reply in the translation memory.
    Translate(translate::TranslateArgs),
    /// Evaluates translation-memory retrieval on parallel text.
    EvalTm(eval_tm::EvalTmArgs),
    /// Installs or checks the sentence encoder's model file.
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Sends Search calls to a running server at fixed rates and reports latency percentiles.
    Bench(bench::BenchArgs),
}

/// Where the index lives and what it is built from.
#[derive(Debug, Clone, Args)]
pub struct IndexLocation {
    /// Index root directory (holds generations and the CURRENT pointer). Default:
    /// $XDG_DATA_HOME/faqd/index, else ~/.local/share/faqd/index, so every command finds
    /// the same index from any working directory.
    #[arg(long, env = "FAQD_INDEX_DIR", default_value_os_t = default_index_dir())]
    pub index_dir: PathBuf,
    /// Dump files to build from (JSONL, CSV or Zendesk JSON). Default: the knowledge base
    /// shipped in index/faq.jsonl, compiled into the binary.
    #[arg(long = "source", env = "FAQD_SOURCE", value_delimiter = ',')]
    pub sources: Vec<PathBuf>,
    /// Published generations to keep.
    #[arg(long, env = "FAQD_KEEP_GENERATIONS", default_value_t = 3)]
    pub keep_generations: usize,
}

/// How queries are answered.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Language used when neither detection nor a hint decides.
    #[arg(long, env = "FAQD_DEFAULT_LANG", default_value = "en", value_parser = parse_lang)]
    pub default_lang: Lang,
    /// Confidence (0 to 1) at or above which the first hit counts as an answer (with the
    /// sentence encoder, its lexical or semantic evidence must also reach the threshold plus
    /// 0.05, or 0.15 for a question far from every article). Default: 0.2 with the sentence
    /// encoder (hybrid ranking), 0.23 without (lexical ranking).
    #[arg(long, env = "FAQD_THRESHOLD", value_parser = parse_threshold)]
    pub threshold: Option<f64>,
    /// Fail searches in unsupported languages (FAILED_PRECONDITION) instead of answering from
    /// the hint or default language.
    #[arg(long, env = "FAQD_STRICT_LANGUAGE")]
    pub strict_language: bool,
    /// How the sentence encoder's ranking weighs hits: `documents` (0.5 lexical, 0.5
    /// semantic, for a knowledge base of passages), `faq` (0.3 lexical, 0.7 semantic), or
    /// `auto`: documents when most article versions have no `questions` and an answer of 200
    /// characters or more.
    #[arg(long, env = "FAQD_WEIGH_AS", default_value = "auto", value_parser = WeighAs::parse)]
    pub weigh_as: WeighAs,
    /// Glossary TSV for the cross-language fallback (re-read on SIGHUP). Default: the shipped
    /// index/glossary.tsv, compiled into the binary.
    #[arg(long, env = "FAQD_GLOSSARY")]
    pub glossary: Option<PathBuf>,
    /// Canned replies for the translation memory (JSONL, `{"id", "ko", "en", "zh"}` per
    /// line), or `none`. Default: the shipped index/replies.jsonl, the demo exchange's own
    /// replies, compiled into the binary.
    #[arg(long, env = "FAQD_REPLIES")]
    pub replies: Option<String>,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// Which sentence encoder ranks with the lexical evidence.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// The model file (multilingual-e5-small, 4-bit, from `faqd model install`). Default: the
    /// installed one in the model directory (FAQD_MODEL_DIR, else ~/.local/share/faqd), if any.
    #[arg(long, env = "FAQD_MODEL")]
    pub model: Option<PathBuf>,
    /// Rank lexically even when a model is installed.
    #[arg(long, env = "FAQD_NO_MODEL", conflicts_with = "model")]
    pub no_model: bool,
}

impl ModelArgs {
    /// Loads the encoder: `Ok(None)` with the reason when there is none to load (no model
    /// installed, or `--no-model`); an error when a model named or installed fails to load.
    pub fn load(&self) -> anyhow::Result<Result<(Arc<crate::embed::Encoder>, String), String>> {
        use anyhow::Context;
        if self.no_model {
            return Ok(Err("--no-model".into()));
        }
        let path = match &self.model {
            Some(p) => p.clone(),
            None => {
                let p = crate::embed::install::default_path();
                if !p.is_file() {
                    return Ok(Err(format!(
                        "no model installed (run `faqd model install`; looked for {})",
                        p.display()
                    )));
                }
                p
            }
        };
        let started = std::time::Instant::now();
        let id = crate::embed::install::sha256_file(&path).context("failed to read the model")?;
        let encoder = crate::embed::Encoder::load(&path).map_err(|e| match e {
            // Names the path already.
            crate::embed::EmbedError::Io { .. } => anyhow::anyhow!("failed to load the model: {e}"),
            e => anyhow::anyhow!("failed to load model {}: {e}", path.display()),
        })?;
        if id != crate::embed::install::SHA256 {
            tracing::warn!(model = %path.display(), sha256 = %id, "model file is not the one faqd was tested with");
        }
        tracing::info!(model = %path.display(), load_ms = started.elapsed().as_millis() as u64, "sentence encoder loaded");
        Ok(Ok((Arc::new(encoder), id)))
    }
}

impl EngineArgs {
    pub fn settings(&self) -> Settings {
        Settings {
            default_lang: self.default_lang,
            threshold: self.threshold,
            strict_language: self.strict_language,
            weigh_as: self.weigh_as,
        }
    }
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).map_err(|e| e.to_string())
}

/// Parses a confidence threshold: a share from 0 to 1.
fn parse_threshold(s: &str) -> Result<f64, String> {
    let t: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&t) {
        Ok(t)
    } else {
        Err(format!(
            "{t} is not between 0 and 1 (a share of confidence)"
        ))
    }
}

/// Returns the default index root: `$XDG_DATA_HOME/faqd/index`, else
/// `$HOME/.local/share/faqd/index`, else `index/data` (no home directory).
pub fn default_index_dir() -> PathBuf {
    let from = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    from("XDG_DATA_HOME")
        .or_else(|| from("HOME").map(|h| h.join(".local/share")))
        .map_or_else(|| PathBuf::from("index/data"), |d| d.join("faqd/index"))
}

/// Reads an input file as text; when it cannot be read, prints an error naming the path as
/// resolved against the working directory and returns `None` (invalid input).
pub fn read_input(path: &std::path::Path) -> Option<String> {
    std::fs::read_to_string(path)
        .map_err(|e| eprintln!("error: failed to read {}: {e}", absolute(path).display()))
        .ok()
}

pub use crate::ingest::absolute;

/// Returns build options with a progress bar on a terminal, log lines otherwise.
pub fn build_options(keep: usize) -> BuildOptions {
    let progress: Progress = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "indexing {bar:40} {pos}/{len} articles ({per_sec})",
            )
            .expect("valid template"),
        );
        Arc::new(move |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            if done == total {
                bar.finish_and_clear();
            }
        })
    } else {
        Arc::new(|done, total| tracing::info!(done, total, "indexing"))
    };
    BuildOptions {
        keep,
        progress: Some(progress),
    }
}

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve(a) => serve::run(a),
        Command::Index(a) => index::run(a),
        Command::Search(a) => search::run(a),
        Command::Detect(a) => detect::run(a),
        Command::Eval(a) => eval::run(a),
        Command::EvalLangid(a) => eval::run_langid(a),
        Command::Translate(a) => translate::run(a),
        Command::EvalTm(a) => eval_tm::run(a),
        Command::Model(c) => model::run(c),
        Command::Bench(a) => bench::run(a),
    }
}

/// Opens the engine on an index that exists (`search`): a root without a generation is an
/// error, not a build of the shipped knowledge base, unless dumps are named with `--source`.
pub fn open_existing_engine(
    loc: &IndexLocation,
    engine: &EngineArgs,
) -> anyhow::Result<crate::engine::Engine> {
    if loc.sources.is_empty() && crate::index::is_empty_root(&loc.index_dir)? {
        return Err(crate::index::IndexError::NoGeneration(loc.index_dir.clone()).into());
    }
    open_engine(loc, engine, false)
}

/// Opens the engine on the index, building it from the sources first when it is missing or
/// out of date. With `keep`, named dumps that cannot be indexed leave the generation built
/// from an earlier version of them served ([`crate::kb::ensure_built_or_keep`]).
pub fn open_engine(
    loc: &IndexLocation,
    engine: &EngineArgs,
    keep: bool,
) -> anyhow::Result<crate::engine::Engine> {
    use crate::translate::glossary::GlossarySource;
    use anyhow::Context;
    // The files named besides the dumps are read first: a bad one fails at once, not after a
    // build that can take minutes.
    let glossary = match GlossarySource::from_path(engine.glossary.as_deref()) {
        GlossarySource::Shipped => None,
        source => {
            let glossary = source.load().context("failed to load the glossary")?;
            Some((source, glossary))
        }
    };
    let replies = engine
        .replies
        .as_ref()
        .map(|spec| {
            let replies = crate::translate::memory::load_replies(spec)
                .map_err(|e| anyhow::anyhow!("failed to load the canned replies: {e}"))?;
            // (User trial: nothing said how many were read, or that they replace the
            // shipped ones.)
            tracing::info!(
                file = %spec,
                replies = replies.len(),
                "canned replies loaded (in place of the shipped ones)"
            );
            Ok::<_, anyhow::Error>(replies)
        })
        .transpose()?;
    let model = engine.model.load()?;
    let sources = crate::kb::sources(&loc.sources, None);
    let (index_dir, explicit) = (&loc.index_dir, !loc.sources.is_empty());
    let options = build_options(loc.keep_generations);
    let ensured = if keep {
        crate::kb::ensure_built_or_keep(index_dir, &sources, explicit, &options)?
    } else {
        crate::kb::Ensured::Built(
            crate::kb::ensure_built(index_dir, &sources, explicit, &options)?.map(Box::new),
        )
    };
    let kept = match ensured {
        crate::kb::Ensured::Built(Some(built)) => {
            tracing::info!(
                generation = built.meta.generation,
                articles = built.meta.articles.values().sum::<usize>(),
                build_ms = built.meta.build_ms,
                root = %absolute(index_dir).display(),
                "built index"
            );
            None
        }
        crate::kb::Ensured::Built(None) => None,
        crate::kb::Ensured::Kept(problem) => Some(problem),
    };
    tracing::info!(root = %absolute(&loc.index_dir).display(), "index root");
    let opened =
        crate::engine::Engine::open(&loc.index_dir, engine.settings()).with_context(|| {
            format!(
                "failed to open index in {}",
                absolute(&loc.index_dir).display()
            )
        })?;
    let opened = match glossary {
        Some((source, glossary)) => opened.with_loaded_glossary(source, glossary),
        None => opened,
    };
    let opened = match replies {
        Some(replies) => opened.with_replies(replies),
        None => opened,
    };
    let opened = match kept {
        Some(problem) => opened.with_kept_generation(problem),
        None => opened,
    };
    with_loaded_model(opened, model)
}

/// Adds the sentence encoder to an engine (embedding what the served generation's vectors
/// file lacks), or says why it ranks lexically.
pub fn with_model(
    engine: crate::engine::Engine,
    model: &ModelArgs,
) -> anyhow::Result<crate::engine::Engine> {
    with_loaded_model(engine, model.load()?)
}

/// [`with_model`] with the model already loaded ([`ModelArgs::load`]).
fn with_loaded_model(
    engine: crate::engine::Engine,
    model: Result<(Arc<crate::embed::Encoder>, String), String>,
) -> anyhow::Result<crate::engine::Engine> {
    use anyhow::Context;
    let (encoder, reason) = match model {
        Ok(e) => (Some(e), String::new()),
        Err(reason) => (None, reason),
    };
    let (engine, stats) = engine
        .with_encoder(encoder, &reason)
        .context("failed to embed the knowledge base")?;
    match stats {
        Some(s) => tracing::info!(
            ranking = "hybrid",
            weighed_as = engine.settings().weigh_as.name(&engine.generation()),
            texts = s.texts,
            embedded = s.embedded,
            reused = s.reused,
            ms = s.ms,
            neighbours = %s.neighbours(),
            "vectors ready"
        ),
        None => {
            tracing::warn!(ranking = "lexical", reason = %reason, "searching without the sentence encoder")
        }
    }
    Ok(engine)
}
