//! The XLM-R SentencePiece tokenizer of the model file: per-code-point normalisation (the
//! file's table), runs of spaces collapsed, spaces as `▁` with one in front, then the Unigram
//! model: the segmentation into pieces with the highest total score (Viterbi), an unknown
//! character scoring the lowest piece score minus 10, as SentencePiece does.
//!
//! The pieces are looked up in a hash table of the 250,002 pieces. The `tokenizers` crate's
//! Unigram model gives the same ids (it was used here first), but its byte trie of those
//! pieces held about 250 MB: more than the rest of the encoder and the index together.

use super::file::Vocabulary;
use super::EmbedError;
use rustc_hash::FxHashMap;
use std::collections::HashMap;

/// SentencePiece's word-boundary marker.
const METASPACE: char = '\u{2581}';

/// Turns text into token ids.
pub struct Tokenizer {
    /// Piece → (id, score); `<unk>` is left out (it never matches text).
    pieces: FxHashMap<Box<str>, (u32, f32)>,
    /// Longest piece, in bytes.
    longest: usize,
    /// Score of an unknown character.
    unknown_score: f32,
    normalize: HashMap<char, Box<[char]>>,
    bos: u32,
    eos: u32,
    unk: u32,
}

impl Tokenizer {
    /// Builds the tokenizer from the model file's vocabulary.
    pub fn new(v: Vocabulary) -> Result<Tokenizer, EmbedError> {
        if v.pieces.is_empty() {
            return Err(EmbedError::Format("the vocabulary is empty".into()));
        }
        let lowest = v
            .pieces
            .iter()
            .map(|(_, score)| *score as f32)
            .fold(f32::INFINITY, f32::min);
        let longest = v.pieces.iter().map(|(p, _)| p.len()).max().unwrap_or(1);
        let mut pieces = FxHashMap::default();
        pieces.reserve(v.pieces.len());
        for (id, (piece, score)) in v.pieces.into_iter().enumerate() {
            if id as u32 != v.unk && !piece.is_empty() {
                pieces
                    .entry(piece.into_boxed_str())
                    .or_insert((id as u32, score as f32));
            }
        }
        Ok(Tokenizer {
            pieces,
            longest,
            unknown_score: lowest - 10.0,
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
        // Character boundaries, in bytes.
        let bounds: Vec<usize> = prepared
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(prepared.len()))
            .collect();
        let n = bounds.len() - 1;
        // best[e]: the best score of a segmentation of the first e characters, reached from
        // character from[e] with piece id[e] (`None`: an unknown character).
        let mut best = vec![f32::NEG_INFINITY; n + 1];
        let mut from = vec![0usize; n + 1];
        let mut piece: Vec<Option<u32>> = vec![None; n + 1];
        best[0] = 0.0;
        for i in 0..n {
            if best[i] == f32::NEG_INFINITY {
                continue;
            }
            for e in i + 1..=n {
                let span = &prepared[bounds[i]..bounds[e]];
                if span.len() > self.longest {
                    break;
                }
                if let Some(&(id, score)) = self.pieces.get(span) {
                    let total = best[i] + score;
                    if total > best[e] {
                        best[e] = total;
                        from[e] = i;
                        piece[e] = Some(id);
                    }
                }
            }
            let unknown = best[i] + self.unknown_score;
            if unknown > best[i + 1] {
                best[i + 1] = unknown;
                from[i + 1] = i;
                piece[i + 1] = None;
            }
        }
        let mut ids = Vec::new();
        let mut at = n;
        while at > 0 {
            ids.push(piece[at].unwrap_or(self.unk));
            at = from[at];
        }
        ids.reverse();
        Ok(ids)
    }
}
