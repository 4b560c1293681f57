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
use crossbeam_utils::Backoff;
use faqd_kernel::{Activations, Q4Matrix};
use memmap2::Mmap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, TryLockError};

struct Linear {
    weight: Q4Matrix,
    bias: Vec<f32>,
}

impl Linear {
    /// Returns `x · Wᵀ + b` for activations already quantised, with GELU applied if `gelu`,
    /// shared with the pass's partner thread if it has one.
    fn product<'n>(
        &'n self,
        x: &Arc<Activations>,
        gelu: bool,
        partner: Option<&Partner<'n>>,
    ) -> Vec<f32> {
        match partner {
            Some(partner) => partner.product(self, x, gelu),
            None => {
                let mut y = self.weight.product(x, &self.bias);
                if gelu {
                    faqd_kernel::gelu(&mut y);
                }
                y
            }
        }
    }

    /// [`Linear::product`] as a `[tokens, rows]` tensor.
    fn forward<'n>(
        &'n self,
        x: &Arc<Activations>,
        partner: Option<&Partner<'n>>,
    ) -> candle_core::Result<Tensor> {
        let y = self.product(x, false, partner);
        Tensor::from_vec(y, (x.tokens(), self.weight.rows()), &Device::Cpu)
    }

    /// Rows of part `part` of two and their products (see [`Q4Matrix::product_part`]).
    fn part(&self, x: &Activations, gelu: bool, part: usize) -> (Range<usize>, Vec<f32>) {
        let (rows, mut y) = self.weight.product_part(x, &self.bias, part, 2);
        if gelu {
            faqd_kernel::gelu(&mut y);
        }
        (rows, y)
    }
}

/// Quantises a `[tokens, width]` tensor's values to 8 bits per block.
fn quantize(x: &Tensor) -> candle_core::Result<Arc<Activations>> {
    let width = x.dim(1)?;
    Ok(Arc::new(Activations::quantize(
        &x.flatten_all()?.to_vec1::<f32>()?,
        width,
    )))
}

/// A second thread that takes half of each product of one short pass, while no other pass
/// runs: a question then has both cores of a two-core machine. It is started once per pass
/// (a thread of its own, not a pool's: handing each of the pass's 72 products to a sleeping
/// pool thread would cost a wake-up each) and waits for work spinning, then yielding, so a
/// product is taken up within a microsecond; it keeps the second core busy that way for the
/// length of the pass. It stops at the end of the pass, or as soon as another pass starts,
/// which then has the core to itself; the pass then multiplies alone. Products split this
/// way are the same floats as whole ones.
///
/// Every change of the shared state is made under its lock; the flags mirror it for
/// spinning without the lock.
struct Partner<'n> {
    shared: Mutex<Shared<'n>>,
    /// Whether the state is [`State::Posted`].
    posted: AtomicBool,
    /// Whether the state is [`State::Taken`].
    busy: AtomicBool,
    /// Set when the pass ends (also when it fails).
    finished: AtomicBool,
    /// Products the partner took half of.
    taken: AtomicUsize,
}

struct Shared<'n> {
    state: State<'n>,
    /// The partner has stopped: the pass multiplies alone.
    closed: bool,
}

enum State<'n> {
    Empty,
    /// The second half of a product, for the partner to take.
    Posted {
        linear: &'n Linear,
        x: Arc<Activations>,
        gelu: bool,
    },
    /// Taken by the partner.
    Taken,
    /// The partner's rows and their products.
    Done(Range<usize>, Vec<f32>),
}

/// Marks a partner stopped when its thread ends, however it ends: a half it had taken and
/// not finished (it panicked) is left to the pass.
struct Closing<'p, 'n>(&'p Partner<'n>);

impl Drop for Closing<'_, '_> {
    fn drop(&mut self) {
        let mut shared = self.0.shared();
        shared.closed = true;
        if matches!(shared.state, State::Taken) {
            shared.state = State::Empty;
            self.0.busy.store(false, Ordering::Release);
        }
    }
}

/// Sets a flag when dropped: the pass's end, also when it panics.
struct Finishing<'a>(&'a AtomicBool);

impl Drop for Finishing<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

impl<'n> Partner<'n> {
    fn new() -> Partner<'n> {
        Partner {
            shared: Mutex::new(Shared {
                state: State::Empty,
                closed: false,
            }),
            posted: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            taken: AtomicUsize::new(0),
        }
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared<'n>> {
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The partner thread's loop: runs the second half of each posted product until the
    /// pass ends or `alone()` is false (another pass has started).
    fn serve(&self, alone: impl Fn() -> bool) {
        let _closing = Closing(self);
        let backoff = Backoff::new();
        loop {
            if self.posted.load(Ordering::Acquire) {
                let job = {
                    let mut shared = self.shared();
                    match std::mem::replace(&mut shared.state, State::Taken) {
                        State::Posted { linear, x, gelu } => {
                            self.posted.store(false, Ordering::Release);
                            self.busy.store(true, Ordering::Release);
                            Some((linear, x, gelu))
                        }
                        // Taken back by the pass meanwhile.
                        other => {
                            shared.state = other;
                            None
                        }
                    }
                };
                if let Some((linear, x, gelu)) = job {
                    let (rows, y) = linear.part(&x, gelu, 1);
                    let mut shared = self.shared();
                    shared.state = State::Done(rows, y);
                    self.busy.store(false, Ordering::Release);
                    self.taken.fetch_add(1, Ordering::Relaxed);
                }
                backoff.reset();
                continue;
            }
            // Whatever the state: a posted half is taken back by the pass, a done one
            // collected.
            if self.finished.load(Ordering::Acquire) || !alone() {
                return;
            }
            backoff.snooze();
        }
    }

    /// The pass's side of one product: posts the second half, multiplies the first, then
    /// takes the second from the partner, or multiplies it itself if the partner has not
    /// started it or has stopped.
    fn product(&self, linear: &'n Linear, x: &Arc<Activations>, gelu: bool) -> Vec<f32> {
        {
            let mut shared = self.shared();
            if shared.closed {
                drop(shared);
                return linear.product(x, gelu, None);
            }
            shared.state = State::Posted {
                linear,
                x: Arc::clone(x),
                gelu,
            };
            self.posted.store(true, Ordering::Release);
        }
        let first = linear.part(x, gelu, 0);
        let second = loop {
            let mut shared = self.shared();
            match std::mem::replace(&mut shared.state, State::Empty) {
                State::Done(rows, y) => break Some((rows, y)),
                State::Taken => {
                    shared.state = State::Taken;
                    drop(shared);
                    let backoff = Backoff::new();
                    while self.busy.load(Ordering::Acquire) {
                        backoff.snooze();
                    }
                }
                // Not taken up yet (taken back here), or left by a partner that failed.
                State::Posted { .. } | State::Empty => {
                    self.posted.store(false, Ordering::Release);
                    break None;
                }
            }
        };
        let second = second.unwrap_or_else(|| linear.part(x, gelu, 1));
        let rows = linear.weight.rows();
        let tokens = x.tokens();
        let mut y = vec![0f32; tokens * rows];
        for (range, part) in [first, second] {
            if range.is_empty() {
                continue;
            }
            for (t, values) in part.chunks_exact(range.len()).enumerate() {
                y[t * rows + range.start..t * rows + range.end].copy_from_slice(values);
            }
        }
        y
    }
}

/// Runs `pass` with a partner thread kept off the calling thread's core when `alone()` says
/// no other pass runs (else, or if no thread can be started, without one). The partner stops
/// when the pass returns or panics; a partner that panicked is logged, and the pass's own
/// result stands.
fn with_partner<'n, R>(
    alone: &(dyn Fn() -> bool + Sync),
    pass: impl FnOnce(Option<&Partner<'n>>) -> R,
) -> R {
    if !alone() {
        return pass(None);
    }
    let partner = Partner::new();
    std::thread::scope(|s| {
        let (here, partner) = (current_cpu(), &partner);
        let started = std::thread::Builder::new()
            .name("faqd-partner".into())
            .spawn_scoped(s, move || {
                if let Some(cpu) = here {
                    leave_cpu(cpu);
                }
                partner.serve(alone)
            });
        let finishing = Finishing(&partner.finished);
        let out = pass(started.is_ok().then_some(partner));
        drop(finishing);
        if let Ok(thread) = started {
            if thread.join().is_err() {
                tracing::warn!("the encoder's partner thread failed; the pass finished alone");
            }
        }
        out
    })
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

/// The core the calling thread runs on.
#[cfg(target_os = "linux")]
fn current_cpu() -> Option<usize> {
    // SAFETY: sched_getcpu takes nothing and returns the core or −1.
    usize::try_from(unsafe { libc::sched_getcpu() }).ok()
}

#[cfg(not(target_os = "linux"))]
fn current_cpu() -> Option<usize> {
    None
}

/// Moves the calling thread off `cpu`, if it may run on another core. A new thread starts on
/// its parent's core, and the scheduler moves it to an idle one only at its next balancing,
/// after the pass: with questions 25 ms apart, a partner left where it started took none of
/// its pass's 72 products (the pass took each back when it had finished its own half).
#[cfg(target_os = "linux")]
fn leave_cpu(cpu: usize) {
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: cpu_set_t is plain data (all zeros is the empty set); both calls read or write
    // exactly `size` bytes of `set`, and pid 0 is the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size, &mut set) != 0 || cpu >= libc::CPU_SETSIZE as usize {
            return;
        }
        libc::CPU_CLR(cpu, &mut set);
        if libc::CPU_COUNT(&set) > 0 {
            libc::sched_setaffinity(0, size, &set);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn leave_cpu(_cpu: usize) {}

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
    /// Passes running or waiting for a lane.
    passes: AtomicUsize,
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
            passes: AtomicUsize::new(0),
        }
    }

    /// Whether the one pass running has another core to share its products with: no other
    /// pass (a question's or a batch's) runs or waits, and there are two lanes (cores) or
    /// more.
    fn alone(&self) -> bool {
        self.lanes.len() >= 2 && self.passes.load(Ordering::Acquire) == 1
    }

    /// Counts a pass as running until the guard is dropped.
    fn count(&self) -> Counted<'_> {
        self.passes.fetch_add(1, Ordering::AcqRel);
        Counted(&self.passes)
    }

    /// Runs `pass` on a free lane, else waits for one in turn; on rayon's global pool if no
    /// lane could be started. On a rayon thread already (a pass inside a pass, or a caller
    /// on some pool) it runs where it is: waiting there for a lane could wait on itself.
    /// `pass` is told whether it is counted in [`Lanes::alone`] (not where it is run in
    /// place).
    fn run<R: Send>(&self, pass: impl FnOnce(bool) -> R + Send) -> R {
        if rayon::current_thread_index().is_some() {
            return pass(false);
        }
        let _counted = self.count();
        let pass = || pass(true);
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

/// A pass counted in [`Lanes::alone`] while this lives.
struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
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
        if tokens > SHORT_PASS_TOKENS {
            let _counted = self.lanes.count();
            return rayon::scope(|_| self.forward_here(segments, None));
        }
        self.lanes.run(|counted| {
            let alone = || counted && self.lanes.alone();
            with_partner(&alone, |partner| self.forward_here(segments, partner))
        })
    }

    fn forward_here<'n>(
        &'n self,
        segments: &[Segment],
        partner: Option<&Partner<'n>>,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
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
            let q = layer.query.forward(&xq, partner)?;
            let k = layer.key.forward(&xq, partner)?;
            let v = layer.value.forward(&xq, partner)?;
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
            let attn = layer.attention_out.forward(&quantize(&ctx)?, partner)?;
            x = self.layer_norm(&(x + attn)?, &layer.attention_norm)?;
            let ffn_in = &layer.ffn_in;
            let mid = ffn_in.product(&quantize(&x)?, true, partner);
            let mid = Arc::new(Activations::quantize(&mid, ffn_in.weight.rows()));
            let out = layer.ffn_out.forward(&mid, partner)?;
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

    /// A linear map of `rows × cols` pseudo-random 4-bit weights (scale 1) and bias.
    fn linear(rows: usize, cols: usize, seed: u32) -> Linear {
        let mut state = seed.wrapping_mul(2_654_435_761).max(1);
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        let mut bytes = Vec::new();
        for _ in 0..rows * cols / 32 {
            bytes.extend_from_slice(&[0x00, 0x3c]); // 1.0 as f16
            bytes.extend((0..16).map(|_| next() as u8));
        }
        Linear {
            weight: Q4Matrix::from_q4_0(&bytes, rows, cols).unwrap(),
            bias: (0..rows).map(|_| (next() % 100) as f32 / 10.0).collect(),
        }
    }

    #[test]
    fn a_partner_shares_products_without_changing_them() {
        let maps = [linear(384, 384, 1), linear(1536, 384, 2), linear(40, 64, 3)];
        let inputs: Vec<Arc<Activations>> = [(11, 384), (11, 384), (3, 64)]
            .iter()
            .enumerate()
            .map(|(i, &(tokens, cols))| {
                let x: Vec<f32> = (0..tokens * cols)
                    .map(|j| ((j * 7 + i * 13) % 23) as f32 - 11.0)
                    .collect();
                Arc::new(Activations::quantize(&x, cols))
            })
            .collect();
        let alone: Vec<Vec<f32>> = maps
            .iter()
            .zip(&inputs)
            .enumerate()
            .map(|(i, (m, x))| m.product(x, i == 1, None))
            .collect();
        fn shared<'n>(
            maps: &'n [Linear],
            inputs: &[Arc<Activations>],
            partner: &Partner<'n>,
        ) -> Vec<Vec<f32>> {
            (0..3)
                .flat_map(|_| maps.iter().zip(inputs).enumerate())
                .map(|(i, (m, x))| m.product(x, i == 1, Some(partner)))
                .collect()
        }
        let expected: Vec<Vec<f32>> = (0..3).flat_map(|_| alone.clone()).collect();
        // A partner that takes products: passes until it has taken some (a partner that is
        // not scheduled in time leaves the pass to take its products back).
        let taken = with_partner(&|| true, |partner| {
            let partner = partner.expect("a partner thread");
            for _ in 0..1000 {
                assert_eq!(shared(&maps, &inputs, partner), expected, "shared");
                if partner.taken.load(Ordering::Relaxed) > 0 {
                    break;
                }
            }
            partner.taken.load(Ordering::Relaxed)
        });
        assert!(taken > 0, "the partner took none");
        // One that never starts (each product is taken back), one that has stopped.
        assert_eq!(
            shared(&maps, &inputs, &Partner::new()),
            expected,
            "taken back"
        );
        let stopped = Partner::new();
        stopped.serve(|| false);
        assert!(stopped.shared().closed);
        assert_eq!(shared(&maps, &inputs, &stopped), expected, "stopped");
        // One that stops when another pass starts, in the middle of this one.
        let other = AtomicBool::new(false);
        with_partner(&|| !other.load(Ordering::Acquire), |partner| {
            let partner = partner.expect("a partner thread");
            assert_eq!(shared(&maps, &inputs, partner), expected, "before");
            other.store(true, Ordering::Release);
            for _ in 0..10_000 {
                if partner.shared().closed {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            assert!(partner.shared().closed, "the partner went on");
            assert_eq!(shared(&maps, &inputs, partner), expected, "after");
        });
        // One that fails holding a product: the pass multiplies it and the rest itself.
        let failing = Partner::new();
        std::thread::scope(|s| {
            let failed = s.spawn(|| {
                let _closing = Closing(&failing);
                loop {
                    let mut shared = failing.shared();
                    if matches!(shared.state, State::Posted { .. }) {
                        shared.state = State::Taken;
                        failing.posted.store(false, Ordering::Release);
                        failing.busy.store(true, Ordering::Release);
                        drop(shared);
                        panic!("a partner that fails holding a product");
                    }
                    drop(shared);
                    if failing.finished.load(Ordering::Acquire) {
                        return;
                    }
                    std::thread::yield_now();
                }
            });
            for _ in 0..1000 {
                assert_eq!(shared(&maps, &inputs, &failing), expected, "failed");
                if failing.shared().closed {
                    break;
                }
            }
            failing.finished.store(true, Ordering::Release);
            assert!(failed.join().is_err(), "the partner did not fail");
        });
        // A pass that panics stops its partner (else the scope would wait for it forever),
        // and the panic reaches the caller.
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            with_partner(&|| true, |partner| {
                shared(&maps, &inputs, partner.expect("a partner thread"));
                panic!("a pass that fails");
            })
        }));
        assert!(panicked.is_err());
    }

    #[test]
    fn short_passes_run_alone_on_single_thread_lanes() {
        let lanes = Lanes::new();
        assert_eq!(lanes.lanes.len(), rayon::current_num_threads());
        // A pass that panics leaves its lane usable.
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lanes.run(|_| panic!("a pass that fails"))
        }));
        assert!(panicked.is_err());
        assert!(lanes.lanes[0].1.is_poisoned());
        let name = || std::thread::current().name().unwrap_or("").to_owned();
        assert_eq!(
            lanes.run(|counted| (counted, name())),
            (true, "faqd-encoder-0".to_owned()),
            "the first free lane"
        );
        // More passes at once than lanes: each still runs, on a lane of its own (no other
        // pass on it meanwhile), where rayon's work is not split.
        let running = Mutex::new(std::collections::HashSet::new());
        let seen: Vec<(usize, String, bool)> = std::thread::scope(|s| {
            let passes: Vec<_> = (0..2 * lanes.lanes.len() + 1)
                .map(|_| {
                    s.spawn(|| {
                        lanes.run(|_| {
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
        // A pass inside a pass runs where it is instead of waiting for a lane, and is not
        // counted (so it never starts a partner of its own).
        let (outer, inner) = lanes.run(|_| (name(), lanes.run(|counted| (counted, name()))));
        assert_eq!(inner, (false, outer));
    }
}
