//! The encoder's forward pass (BERT as multilingual-e5-small uses it): word, position and
//! token-type embeddings, 12 post-LayerNorm transformer layers, then the mean of the last
//! hidden states. The weights stay 4-bit: the word embeddings are read from the memory map per
//! token, and the linear maps multiply 8-bit activations with them (the `faqd-kernel` crate
//! in src/embed/kernel). Attention, LayerNorm and softmax run on candle.
//!
//! The tokens of every text in a batch are stacked into one matrix, so each linear map reads
//! its weights once per batch; attention runs per text.

use super::file::{Dtype, Layout};
use super::EmbedError;
use candle_core::quantized::k_quants::{BlockQ4_0, GgmlType};
use candle_core::{Device, Tensor};
use faqd_kernel::{Activations, Q4Matrix};
use memmap2::Mmap;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, TryLockError};

struct Linear {
    weight: Q4Matrix,
    bias: Vec<f32>,
}

impl Linear {
    /// Returns `x · Wᵀ + b` for activations already quantised.
    fn forward(&self, x: &Activations) -> candle_core::Result<Tensor> {
        let y = self.weight.product(x, &self.bias);
        let rows = self.weight.rows();
        Tensor::from_vec(y, (x.tokens(), rows), &Device::Cpu)
    }
}

/// Quantises a `[tokens, width]` tensor's values to 8 bits per block.
fn quantize(x: &Tensor) -> candle_core::Result<Activations> {
    let width = x.dim(1)?;
    Ok(Activations::quantize(
        &x.flatten_all()?.to_vec1::<f32>()?,
        width,
    ))
}

struct Norm {
    weight: Tensor,
    bias: Tensor,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    ffn_in: Linear,
    ffn_out: Linear,
    output_norm: Norm,
}

/// The loaded network.
pub struct Network {
    hidden: usize,
    heads: usize,
    positions: usize,
    eps: f32,
    map: Mmap,
    word: Range<usize>,
    vocab_rows: usize,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    lanes: Lanes,
}

/// Passes of at most this many tokens (a question) run on a [`Lanes`] thread.
const SHORT_PASS_TOKENS: usize = 64;

/// Single-thread pools, one per thread of rayon's global pool, on which short passes run.
///
/// candle's CPU operations split their work across the pool they run on. For a question's
/// few tokens that split costs more than it saves: each of the hundreds of operations of a
/// pass wakes another thread and waits for it (11 tokens took 4.6 ms on two threads, 3.4 ms
/// on one). On a single-thread pool nothing is split, and two questions at once run on two
/// lanes, one core each.
struct Lanes {
    lanes: Vec<(rayon::ThreadPool, Mutex<()>)>,
    next: AtomicUsize,
}

impl Lanes {
    fn new() -> Lanes {
        let lanes = (0..rayon::current_num_threads())
            .map_while(|i| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(move |_| format!("faqd-encoder-{i}"))
                    .build()
                    .ok()?;
                Some((pool, Mutex::new(())))
            })
            .collect();
        Lanes {
            lanes,
            next: AtomicUsize::new(0),
        }
    }

    /// Runs `pass` on a free lane, else waits for one in turn; on rayon's global pool if no
    /// lane could be started. On a rayon thread already (a pass inside a pass, or a caller
    /// on some pool) it runs where it is: waiting there for a lane could wait on itself.
    fn run<R: Send>(&self, pass: impl FnOnce() -> R + Send) -> R {
        if rayon::current_thread_index().is_some() {
            return pass();
        }
        // A lane whose last pass panicked is free all the same (its lock is poisoned).
        let free = self
            .lanes
            .iter()
            .find_map(|(pool, busy)| match busy.try_lock() {
                Ok(guard) => Some((pool, guard)),
                Err(TryLockError::Poisoned(poisoned)) => Some((pool, poisoned.into_inner())),
                Err(TryLockError::WouldBlock) => None,
            });
        if let Some((pool, _busy)) = free {
            return pool.install(pass);
        }
        if self.lanes.is_empty() {
            return rayon::scope(|_| pass());
        }
        let (pool, busy) =
            &self.lanes[self.next.fetch_add(1, Ordering::Relaxed) % self.lanes.len()];
        let _busy = busy.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        pool.install(pass)
    }
}

/// One window of one text: token ids with `<s>` and `</s>`, at most `positions` long.
pub struct Segment<'a> {
    /// Token ids.
    pub ids: &'a [u32],
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

impl Network {
    /// Builds the network from a mapped model file and its parsed layout.
    pub fn new(map: Mmap, layout: &Layout) -> Result<Network, EmbedError> {
        let c = layout.config;
        let (h, f) = (c.hidden, c.ffn);
        let dev = Device::Cpu;
        let vector = |name: &str, n: usize| -> Result<Tensor, EmbedError> {
            let t = layout.tensor(name, Dtype::F32, n)?;
            Ok(Tensor::from_vec(f32s(&map[t.bytes.clone()]), n, &dev)?)
        };
        let norm = |prefix: &str| -> Result<Norm, EmbedError> {
            Ok(Norm {
                weight: vector(&format!("{prefix}.w"), h)?,
                bias: vector(&format!("{prefix}.b"), h)?,
            })
        };
        let linear = |prefix: &str, out: usize, inp: usize| -> Result<Linear, EmbedError> {
            let name = format!("{prefix}.w");
            let t = layout.tensor(&name, Dtype::Q4_0, out * inp)?;
            let weight = Q4Matrix::from_q4_0(&map[t.bytes.clone()], out, inp)
                .ok_or_else(|| EmbedError::Format(format!("{name} is not {out}×{inp}")))?;
            let b = layout.tensor(&format!("{prefix}.b"), Dtype::F32, out)?;
            Ok(Linear {
                weight,
                bias: f32s(&map[b.bytes.clone()]),
            })
        };
        let mut layers = Vec::with_capacity(c.layers);
        for l in 0..c.layers {
            layers.push(Layer {
                query: linear(&format!("l{l}.q"), h, h)?,
                key: linear(&format!("l{l}.k"), h, h)?,
                value: linear(&format!("l{l}.v"), h, h)?,
                attention_out: linear(&format!("l{l}.ao"), h, h)?,
                attention_norm: norm(&format!("l{l}.aln"))?,
                ffn_in: linear(&format!("l{l}.fi"), f, h)?,
                ffn_out: linear(&format!("l{l}.fo"), h, f)?,
                output_norm: norm(&format!("l{l}.oln"))?,
            });
        }
        let word = layout
            .tensor("emb.word", Dtype::Q4_0, c.vocab_rows * h)?
            .bytes
            .clone();
        if !(map.as_ptr() as usize + word.start).is_multiple_of(std::mem::align_of::<BlockQ4_0>()) {
            return Err(EmbedError::Format("word embeddings are misaligned".into()));
        }
        let position = f32s(
            &map[layout
                .tensor("emb.pos", Dtype::F32, c.positions * h)?
                .bytes
                .clone()],
        );
        let token_type = f32s(&map[layout.tensor("emb.type", Dtype::F32, 2 * h)?.bytes.clone()]);
        let embedding_norm = norm("emb.ln")?;
        Ok(Network {
            hidden: h,
            heads: c.heads,
            positions: c.positions,
            eps: c.eps as f32,
            map,
            word,
            vocab_rows: c.vocab_rows,
            position,
            token_type,
            embedding_norm,
            layers,
            lanes: Lanes::new(),
        })
    }

    /// Returns the longest segment accepted, special tokens included.
    pub fn max_tokens(&self) -> usize {
        self.positions
    }

    /// Adds the 4-bit word embedding of `id` to `out`.
    fn add_word(&self, id: u32, out: &mut [f32]) {
        let row = self.hidden / 32 * 18;
        let id = (id as usize).min(self.vocab_rows - 1);
        let start = self.word.start + id * row;
        let bytes = &self.map[start..start + row];
        // SAFETY: BlockQ4_0 is repr(C) (an f16 and 16 bytes, 18 bytes, alignment 2); the
        // row lies inside the map and its alignment was checked when loading (rows are 18
        // bytes apart, an even number).
        let blocks: &[BlockQ4_0] =
            unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast(), self.hidden / 32) };
        let mut values = vec![0f32; self.hidden];
        BlockQ4_0::to_float(blocks, &mut values);
        out.iter_mut().zip(values).for_each(|(o, v)| *o += v);
    }

    fn layer_norm(&self, x: &Tensor, n: &Norm) -> candle_core::Result<Tensor> {
        candle_nn::ops::layer_norm(x, &n.weight, &n.bias, self.eps)
    }

    /// Returns the mean of the last hidden states of each segment (not normalised).
    ///
    /// The pass runs on a rayon thread: candle's CPU operations and the kernel's large
    /// products hand their work to a rayon pool, and an operation called from any other
    /// thread waits for a pool thread to take it up and hand it back (two context switches,
    /// on each of the hundreds of operations of a pass). Called from a pool, they run where
    /// they are called: a short pass on a lane of its own (see [`Lanes`]), a batch on the
    /// global pool, which its products are split across.
    pub fn forward(&self, segments: &[Segment]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let tokens: usize = segments.iter().map(|s| s.ids.len()).sum();
        if tokens <= SHORT_PASS_TOKENS {
            self.lanes.run(|| self.forward_here(segments))
        } else {
            rayon::scope(|_| self.forward_here(segments))
        }
    }

    fn forward_here(&self, segments: &[Segment]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let h = self.hidden;
        let total: usize = segments.iter().map(|s| s.ids.len()).sum();
        let mut x = vec![0f32; total * h];
        let mut at = 0;
        let mut spans = Vec::with_capacity(segments.len());
        for s in segments {
            if s.ids.is_empty() || s.ids.len() > self.positions {
                return Err(EmbedError::Tokenize(format!(
                    "segment of {} tokens (1 to {} allowed)",
                    s.ids.len(),
                    self.positions
                )));
            }
            spans.push((at, s.ids.len()));
            for (p, &id) in s.ids.iter().enumerate() {
                let row = &mut x[(at + p) * h..(at + p + 1) * h];
                row.copy_from_slice(&self.position[p * h..(p + 1) * h]);
                row.iter_mut()
                    .zip(&self.token_type[..h])
                    .for_each(|(r, t)| *r += t);
                self.add_word(id, row);
            }
            at += s.ids.len();
        }
        let x = Tensor::from_vec(x, (total, h), &Device::Cpu)?;
        let mut x = self.layer_norm(&x, &self.embedding_norm)?;
        let hd = h / self.heads;
        let scale = 1.0 / (hd as f64).sqrt();
        for layer in &self.layers {
            // A pass holds its core for milliseconds; between layers it lets a thread that
            // is waiting for the core run first (a health check, a response to send).
            std::thread::yield_now();
            let xq = quantize(&x)?;
            let q = layer.query.forward(&xq)?;
            let k = layer.key.forward(&xq)?;
            let v = layer.value.forward(&xq)?;
            let mut contexts = Vec::with_capacity(spans.len());
            for &(start, len) in &spans {
                let heads = |t: &Tensor| -> candle_core::Result<Tensor> {
                    t.narrow(0, start, len)?
                        .reshape((len, self.heads, hd))?
                        .transpose(0, 1)?
                        .contiguous()
                };
                let (qs, ks, vs) = (heads(&q)?, heads(&k)?, heads(&v)?);
                let scores = (qs.matmul(&ks.t()?)? * scale)?;
                let probs = candle_nn::ops::softmax_last_dim(&scores)?;
                let ctx = probs.matmul(&vs)?.transpose(0, 1)?.reshape((len, h))?;
                contexts.push(ctx);
            }
            let ctx = Tensor::cat(&contexts, 0)?;
            let attn = layer.attention_out.forward(&quantize(&ctx)?)?;
            x = self.layer_norm(&(x + attn)?, &layer.attention_norm)?;
            let ffn_in = &layer.ffn_in;
            let mut mid = ffn_in.weight.product(&quantize(&x)?, &ffn_in.bias);
            faqd_kernel::gelu(&mut mid);
            let mid = Activations::quantize(&mid, ffn_in.weight.rows());
            let out = layer.ffn_out.forward(&mid)?;
            x = self.layer_norm(&(x + out)?, &layer.output_norm)?;
        }
        let mut means = Vec::with_capacity(spans.len());
        for &(start, len) in &spans {
            means.push(x.narrow(0, start, len)?.mean(0)?.to_vec1::<f32>()?);
        }
        Ok(means)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passes_run_alone_on_single_thread_lanes() {
        let lanes = Lanes::new();
        assert_eq!(lanes.lanes.len(), rayon::current_num_threads());
        // A pass that panics leaves its lane usable.
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lanes.run(|| panic!("a pass that fails"))
        }));
        assert!(panicked.is_err());
        assert!(lanes.lanes[0].1.is_poisoned());
        let name = || std::thread::current().name().unwrap_or("").to_owned();
        assert_eq!(lanes.run(name), "faqd-encoder-0", "the first free lane");
        // More passes at once than lanes: each still runs, on a lane of its own (no other
        // pass on it meanwhile), where rayon's work is not split.
        let running = Mutex::new(std::collections::HashSet::new());
        let seen: Vec<(usize, String, bool)> = std::thread::scope(|s| {
            let passes: Vec<_> = (0..2 * lanes.lanes.len() + 1)
                .map(|_| {
                    s.spawn(|| {
                        lanes.run(|| {
                            let name = name();
                            let alone = running.lock().unwrap().insert(name.clone());
                            std::thread::sleep(std::time::Duration::from_millis(5));
                            running.lock().unwrap().remove(&name);
                            (rayon::current_num_threads(), name, alone)
                        })
                    })
                })
                .collect();
            passes.into_iter().map(|p| p.join().unwrap()).collect()
        });
        for (threads, name, alone) in seen {
            assert_eq!(threads, 1);
            assert!(name.starts_with("faqd-encoder-"), "{name}");
            assert!(alone, "two passes at once on {name}");
        }
        // A pass inside a pass runs where it is instead of waiting for a lane.
        let (outer, inner) = lanes.run(|| (name(), lanes.run(name)));
        assert_eq!(inner, outer);
    }
}
