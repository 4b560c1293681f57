//! The XLM-R SentencePiece tokenizer of the model file: per-code-point normalisation (the
//! file's table), runs of spaces collapsed, spaces as `▁` with one in front, then the Unigram
//! model (tokenizers' Viterbi over the file's pieces and scores).

use super::file::Vocabulary;
use super::EmbedError;
use std::collections::HashMap;
use tokenizers::models::unigram::Unigram;
use tokenizers::Model;

/// SentencePiece's word-boundary marker.
const METASPACE: char = '\u{2581}';

/// Turns text into token ids.
pub struct Tokenizer {
    unigram: Unigram,
    normalize: HashMap<char, Box<[char]>>,
    bos: u32,
    eos: u32,
    unk: u32,
}

impl Tokenizer {
    /// Builds the tokenizer from the model file's vocabulary.
    pub fn new(v: Vocabulary) -> Result<Tokenizer, EmbedError> {
        let unigram = Unigram::from(v.pieces, Some(v.unk as usize), false)
            .map_err(|e| EmbedError::Format(format!("vocabulary: {e}")))?;
        Ok(Tokenizer {
            unigram,
            normalize: v.normalize,
            bos: v.bos,
            eos: v.eos,
            unk: v.unk,
        })
    }

    /// Returns the beginning- and end-of-sequence ids.
    pub fn specials(&self) -> (u32, u32) {
        (self.bos, self.eos)
    }

    /// Returns the text as SentencePiece sees it: normalised, single spaces, each space (and
    /// one in front) written as `▁`.
    fn prepare(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 4);
        let mut last_space = false;
        let mut push = |out: &mut String, ch: char| {
            let space = ch == ' ';
            if space && last_space {
                return;
            }
            if out.is_empty() && !space {
                out.push(METASPACE);
            }
            out.push(if space { METASPACE } else { ch });
            last_space = space;
        };
        for ch in text.chars() {
            match self.normalize.get(&ch) {
                Some(to) => to.iter().for_each(|&c| push(&mut out, c)),
                None => push(&mut out, ch),
            }
        }
        if out.is_empty() {
            out.push(METASPACE);
        }
        out
    }

    /// Returns the content token ids of `text` (no `<s>`, `</s>`). A character no piece
    /// covers is one `<unk>` each.
    pub fn content_ids(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        let prepared = self.prepare(text);
        let tokens = self
            .unigram
            .tokenize(&prepared)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        let mut ids = Vec::with_capacity(tokens.len());
        for t in tokens {
            if t.id == self.unk {
                // tokenizers fuses runs of unknown characters into one token.
                let chars = prepared[t.offsets.0..t.offsets.1].chars().count().max(1);
                ids.extend(std::iter::repeat_n(self.unk, chars));
            } else {
                ids.push(t.id);
            }
        }
        Ok(ids)
    }
}
