//! The linear maps' product, with the weights kept 4-bit and the activations quantised to 8
//! bits per block of 32 (ggml's Q4_0 × Q8_0 arithmetic): for a weight block with scale `dw`
//! and nibbles `n` (values `n − 8`), and an activation block with scale `da` and bytes `q`,
//! the block's share of the dot product is `dw · da · (Σ n·q − 8 · Σ q)`.
//!
//! Why not candle's 4-bit product: it makes one dot-product call per weight row and token, so
//! each row's nibbles are unpacked again for every token. Why not the weights expanded to f32:
//! 85 MB of weights streamed from memory for every question. Here eight or sixteen rows at a
//! time are unpacked (into a buffer that stays in the L1 cache, or in registers) and multiplied
//! with several tokens before the next rows: about 13 MB of nibbles and scales read per
//! forward pass, and the unpacking paid once per row and tile of tokens, not per token.
//!
//! The eight rows are interleaved four weights at a time (a 32-bit lane per row), so that one
//! 256-bit product of the rows with a token's four bytes, broadcast, adds to all eight rows'
//! sums at once: a block's eight sums come out in one vector, which is converted and scaled
//! once, not once per row, and needs no horizontal sum. Several tokens share each load of the
//! weights. On x86-64 the byte products are `vpdpbusd` (unsigned nibbles × signed bytes,
//! summed in fours) where the CPU has AVX-512 VNNI, on two groups' rows at once (512-bit
//! vectors, the nibbles split in registers, no buffer), else AVX2's `maddubs` and `madd`;
//! other machines run the same integer arithmetic in plain Rust. The SIMD paths add the same
//! integers and scale them in the same order, so they give the same floats; the plain path
//! agrees with them to rounding.

use std::ops::Range;

/// Weights per block.
const BLOCK: usize = 32;
/// Bytes of a file block: an f16 scale, then 16 bytes of nibbles.
const FILE_BLOCK_BYTES: usize = 18;
/// Weight rows unpacked and multiplied together: one 32-bit lane each.
const ROWS: usize = 8;
/// Adjacent weights of one row in a lane.
const LANE: usize = 4;
/// Bytes of a group's block unpacked: `BLOCK / LANE` chunks, each `ROWS` lanes.
const GROUP_BLOCK: usize = ROWS * BLOCK;
/// Bytes of a group's block as stored: two nibbles a byte.
const PACKED_BLOCK: usize = GROUP_BLOCK / 2;
/// Most tokens multiplied together with each load of the weights (AVX-512; the other paths
/// take four: [`Kernel::shape`]).
const TILE: usize = 8;
/// Most groups multiplied together (AVX-512: two groups' rows make one 512-bit vector).
const SPAN: usize = 2;
/// 1.5 × 2^23: added to and taken from a small f32, it leaves the nearest integer.
const ROUNDING: f32 = 12_582_912.0;
/// Widest input of a linear map.
pub const MAX_COLS: usize = 4096;
/// Tokens per task when a product is split across threads.
const TOKENS_PER_TASK: usize = 32;

/// A 4-bit weight matrix `[rows, cols]` (rows = outputs), in groups of [`ROWS`] rows (the
/// last group padded with zero rows).
pub struct Q4Matrix {
    rows: usize,
    cols: usize,
    /// Per group and block, [`PACKED_BLOCK`] bytes: byte `c · 32 + r · 4 + i` holds weight
    /// `4c + i` of row `r` (low nibble) and weight `4c + i + 16` (high nibble), so that the
    /// low nibbles are the unpacked block's first half and the high nibbles its second (see
    /// [`unpack`]).
    nibbles: Vec<u8>,
    /// Per group, block and row: the block's scale (a group's rows side by side, so one
    /// block's scales are one vector).
    scales: Vec<f32>,
}

/// Which code multiplies: [`Q4Matrix::product`] chooses the fastest the CPU has; the others
/// are there for the tests and the benches ([`Q4Matrix::product_with`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kernel {
    /// Plain Rust, for every machine.
    Portable,
    /// AVX2 and FMA: `maddubs`, one group of eight rows, four tokens at a time.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// AVX-512 F, VL and VNNI: `vpdpbusd`, two groups, eight tokens at a time.
    #[cfg(target_arch = "x86_64")]
    Vnni,
}

impl Kernel {
    /// Groups of rows multiplied together, tokens per tile, and whether the kernel reads the
    /// nibbles as stored (unpacking them in its registers) rather than unpacked by [`unpack`].
    fn shape(self) -> (usize, usize, bool) {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Vnni => (SPAN, TILE, true),
            _ => (1, 4, false),
        }
    }

    /// Every kernel this CPU runs, the fastest last.
    pub fn available() -> Vec<Kernel> {
        let mut kernels = vec![Kernel::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if has_avx2() {
                kernels.push(Kernel::Avx2);
            }
            if has_vnni() {
                kernels.push(Kernel::Vnni);
            }
        }
        kernels
    }

    /// The fastest the CPU runs.
    pub fn best() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if has_vnni() {
                return Kernel::Vnni;
            }
            if has_avx2() {
                return Kernel::Avx2;
            }
        }
        Kernel::Portable
    }
}

impl Q4Matrix {
    /// Reads `rows × cols` weights in ggml's Q4_0 blocks (18 bytes per 32 weights). `rows`
    /// must be at least 1, `cols` a positive multiple of 32, at most [`MAX_COLS`], and
    /// `bytes` exactly the matrix.
    pub fn from_q4_0(bytes: &[u8], rows: usize, cols: usize) -> Option<Q4Matrix> {
        if rows == 0
            || cols == 0
            || !cols.is_multiple_of(BLOCK)
            || cols > MAX_COLS
            || bytes.len() != rows * cols / BLOCK * FILE_BLOCK_BYTES
        {
            return None;
        }
        let nb = cols / BLOCK;
        let groups = rows.div_ceil(ROWS);
        let mut nibbles = vec![0u8; groups * nb * PACKED_BLOCK];
        let mut scales = vec![0f32; groups * nb * ROWS];
        for (i, block) in bytes.chunks_exact(FILE_BLOCK_BYTES).enumerate() {
            let (row, b) = (i / nb, i % nb);
            let (g, r) = (row / ROWS, row % ROWS);
            scales[(g * nb + b) * ROWS + r] =
                half::f16::from_le_bytes([block[0], block[1]]).to_f32();
            // File byte j holds weights j and j + 16: byte i of chunk c is file byte 4c + i.
            let out = (g * nb + b) * PACKED_BLOCK;
            for (c, four) in block[2..].chunks_exact(LANE).enumerate() {
                let at = out + c * ROWS * LANE + r * LANE;
                nibbles[at..at + LANE].copy_from_slice(four);
            }
        }
        Some(Q4Matrix {
            rows,
            cols,
            nibbles,
            scales,
        })
    }

    /// Outputs (rows).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Inputs (columns).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Returns `x · Wᵀ + bias` for the quantised activations `x` (`[tokens, cols]`), as
    /// `[tokens, rows]`. Large products are split by tokens across rayon's threads.
    pub fn product(&self, x: &Activations, bias: &[f32]) -> Vec<f32> {
        self.multiply(Kernel::best(), x, bias)
    }

    /// [`Q4Matrix::product`] with the given kernel, which must be one of
    /// [`Kernel::available`].
    pub fn product_with(&self, kernel: Kernel, x: &Activations, bias: &[f32]) -> Vec<f32> {
        assert!(
            Kernel::available().contains(&kernel),
            "{kernel:?} cannot run here"
        );
        self.multiply(kernel, x, bias)
    }

    fn multiply(&self, kernel: Kernel, x: &Activations, bias: &[f32]) -> Vec<f32> {
        assert_eq!(x.cols, self.cols, "activation width");
        assert_eq!(bias.len(), self.rows, "bias length");
        let mut y = vec![0f32; x.tokens * self.rows];
        let steps = 0..self.steps(kernel);
        if x.tokens <= TOKENS_PER_TASK {
            self.product_range(kernel, x, 0..x.tokens, steps, bias, &mut y);
        } else {
            use rayon::prelude::*;
            y.par_chunks_mut(TOKENS_PER_TASK * self.rows)
                .enumerate()
                .for_each(|(i, out)| {
                    let start = i * TOKENS_PER_TASK;
                    let end = (start + TOKENS_PER_TASK).min(x.tokens);
                    self.product_range(kernel, x, start..end, steps.clone(), bias, out);
                });
        }
        y
    }

    /// Part `part` of `parts` of [`Q4Matrix::product`], split by rows (for two threads that
    /// share one product): the part's rows and their products, `[tokens, rows.len()]`. The
    /// parts' rows are consecutive, cover every row, and their products are the same floats
    /// as the whole product's. A part may have no rows.
    pub fn product_part(
        &self,
        x: &Activations,
        bias: &[f32],
        part: usize,
        parts: usize,
    ) -> (Range<usize>, Vec<f32>) {
        self.part_with(Kernel::best(), x, bias, part, parts)
    }

    fn part_with(
        &self,
        kernel: Kernel,
        x: &Activations,
        bias: &[f32],
        part: usize,
        parts: usize,
    ) -> (Range<usize>, Vec<f32>) {
        assert!(part < parts, "part {part} of {parts}");
        assert_eq!(x.cols, self.cols, "activation width");
        assert_eq!(bias.len(), self.rows, "bias length");
        let all = self.steps(kernel);
        let steps = all * part / parts..all * (part + 1) / parts;
        let step_rows = kernel.shape().0 * ROWS;
        let rows = (steps.start * step_rows).min(self.rows)..(steps.end * step_rows).min(self.rows);
        let mut y = vec![0f32; x.tokens * rows.len()];
        self.product_range(kernel, x, 0..x.tokens, steps, bias, &mut y);
        (rows, y)
    }

    /// Steps of the kernel's loop over the rows: groups, or pairs of groups ([`SPAN`]).
    fn steps(&self, kernel: Kernel) -> usize {
        self.rows.div_ceil(ROWS).div_ceil(kernel.shape().0)
    }

    /// Writes the products of `tokens` with the rows of `steps` (see [`Q4Matrix::steps`]),
    /// plus their bias, to `y`: `[tokens, those rows]`, from token `tokens.start`.
    fn product_range(
        &self,
        kernel: Kernel,
        x: &Activations,
        tokens: Range<usize>,
        steps: Range<usize>,
        bias: &[f32],
        y: &mut [f32],
    ) {
        let nb = self.cols / BLOCK;
        let (span, tile_tokens, packed) = kernel.shape();
        let first_row = (steps.start * span * ROWS).min(self.rows);
        let width = (steps.end * span * ROWS).min(self.rows) - first_row;
        assert!(tokens.end <= x.tokens && y.len() >= tokens.len() * width);
        let mut unpacked = vec![0u8; if packed { 0 } else { nb * GROUP_BLOCK }];
        let mut sums = [[0f32; SPAN * ROWS]; TILE];
        let step = span * nb * PACKED_BLOCK;
        let step_scales = span * nb * ROWS;
        let all = self
            .nibbles
            .chunks(step)
            .zip(self.scales.chunks(step_scales))
            .enumerate();
        for (g, (nibbles, scales)) in all.skip(steps.start).take(steps.len()) {
            // The next groups' nibbles and scales, asked for while these are multiplied: read
            // when needed, they are a wait on memory (the model's 13 MB do not stay in cache
            // from one question to the next), which took a quarter of the products' time.
            let ahead = self
                .nibbles
                .get((g + 1) * step..)
                .map_or(&[][..], |n| &n[..step.min(n.len())]);
            let ahead_scales = self
                .scales
                .get((g + 1) * step_scales..)
                .map_or(&[][..], |n| &n[..step_scales.min(n.len())]);
            if !packed {
                // Here one burst per group is faster than prefetching block by block (AVX2
                // products 3.0–3.2 against 3.4 ms for 11 tokens, `cargo bench -p faqd-kernel`).
                unpack(kernel, nibbles, &mut unpacked);
                prefetch(ahead);
            }
            let r0 = g * span * ROWS;
            let rows = (span * ROWS).min(self.rows - r0);
            let mut t = tokens.start;
            while t < tokens.end {
                let n = tile_tokens.min(tokens.end - t);
                // The first tile of the kernels that read packed nibbles prefetches block by
                // block.
                let first = packed && t == tokens.start;
                let tile = Tile {
                    weights: if packed { nibbles } else { &unpacked },
                    packed,
                    scales,
                    ahead: if first { ahead } else { &[] },
                    ahead_scales: if first { ahead_scales } else { &[] },
                    x,
                    first: t,
                    tokens: n,
                };
                match kernel {
                    Kernel::Portable => tile.portable(&mut sums),
                    // SAFETY: `best` chose these kernels only where the CPU has their
                    // features, and `product_with` runs only kernels in `available`; they
                    // check the tile.
                    #[cfg(target_arch = "x86_64")]
                    Kernel::Avx2 => unsafe { avx2::tile_maddubs(&tile, &mut sums) },
                    #[cfg(target_arch = "x86_64")]
                    Kernel::Vnni => unsafe { avx512::tile(&tile, &mut sums) },
                }
                for (i, sums) in sums[..n].iter().enumerate() {
                    let at = (t - tokens.start + i) * width + r0 - first_row;
                    for ((o, s), b) in y[at..at + rows].iter_mut().zip(sums).zip(&bias[r0..]) {
                        *o = s + b;
                    }
                }
                t += n;
            }
        }
    }
}

/// Up to [`TILE`] tokens, from `first`, times one group's unpacked rows, or (`packed`) up to
/// [`SPAN`] groups' nibbles as stored.
struct Tile<'a> {
    /// One group's blocks unpacked ([`unpack`]'s layout), or the stored nibbles of one or
    /// more groups (`packed`).
    weights: &'a [u8],
    packed: bool,
    /// Per group, block and row: the weight scale.
    scales: &'a [f32],
    /// The next groups' nibbles and scales, to prefetch block by block (may be empty).
    ahead: &'a [u8],
    ahead_scales: &'a [f32],
    x: &'a Activations,
    first: usize,
    tokens: usize,
}

impl Tile<'_> {
    /// Asks for block `b` of the next groups' nibbles and scales (`ahead`, `ahead_scales`):
    /// spread over a tile's blocks, the requests do not queue up behind each other as one
    /// burst per group did (which stalled the loop on the CPU's full queue of misses).
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn prefetch_ahead(&self, b: usize) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        const LINE: usize = 64;
        let nb = self.x.cols / BLOCK;
        for g in 0..SPAN {
            for line in (0..PACKED_BLOCK).step_by(LINE) {
                if let Some(p) = self.ahead.get((g * nb + b) * PACKED_BLOCK + line) {
                    // SAFETY: a prefetch reads nothing the program sees and never faults.
                    unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(p).cast()) };
                }
            }
            if let Some(p) = self.ahead_scales.get((g * nb + b) * ROWS) {
                // SAFETY: as above.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(p).cast()) };
            }
        }
    }

    /// Groups of rows in the tile, when the slices hold what the SIMD kernels read without
    /// bounds checks.
    fn groups(&self) -> Option<usize> {
        let nb = self.x.cols / BLOCK;
        let group = if self.packed {
            nb * PACKED_BLOCK
        } else {
            nb * GROUP_BLOCK
        };
        let groups = self.weights.len() / group;
        let fits = self.weights.len() == groups * group
            && (1..=if self.packed { SPAN } else { 1 }).contains(&groups)
            && self.scales.len() == groups * nb * ROWS
            && (1..=TILE).contains(&self.tokens)
            && self.first + self.tokens <= self.x.tokens
            && self.x.quants.len() == self.x.tokens * self.x.cols
            && self.x.scales.len() == self.x.tokens * nb
            && self.x.starts.len() == self.x.tokens * nb;
        fits.then_some(groups)
    }

    /// Writes each token's dot products with the group's rows (without bias) to `sums`.
    ///
    /// Written so that the compiler can vectorise it: per chunk, the 32 bytes (eight rows'
    /// lanes) times the token's four bytes repeated eight times, added to 32 sums; each row's
    /// sum is then its lane's four. (On x86-64 without SIMD features, 12 layers' products for
    /// 11 tokens take 42 ms this way, 80 ms with a four-byte dot product per row and chunk.)
    fn portable(&self, sums: &mut [[f32; SPAN * ROWS]; TILE]) {
        assert!(!self.packed);
        let nb = self.x.cols / BLOCK;
        for (i, sums) in sums[..self.tokens].iter_mut().enumerate() {
            let x = self.x.token(self.first + i);
            let sums = &mut sums[..ROWS];
            sums.fill(0.0);
            for b in 0..nb {
                let block = &self.weights[b * GROUP_BLOCK..(b + 1) * GROUP_BLOCK];
                let q = &x.quants[b * BLOCK..(b + 1) * BLOCK];
                let mut lanes = [0i32; ROWS * LANE];
                for (w, q) in block.chunks_exact(ROWS * LANE).zip(q.chunks_exact(LANE)) {
                    let repeated: [i32; ROWS * LANE] = std::array::from_fn(|j| q[j % LANE].into());
                    for ((l, &w), q) in lanes.iter_mut().zip(w).zip(repeated) {
                        *l += i32::from(w) * q;
                    }
                }
                for (r, sum) in sums.iter_mut().enumerate() {
                    let dot = lanes[r * LANE..(r + 1) * LANE].iter().sum::<i32>() + x.starts[b];
                    *sum += self.scales[b * ROWS + r] * x.scales[b] * dot as f32;
                }
            }
        }
    }
}

/// Activations `[tokens, cols]` quantised to bytes per block of 32.
pub struct Activations {
    tokens: usize,
    cols: usize,
    quants: Vec<i8>,
    /// Per token and block: its scale.
    scales: Vec<f32>,
    /// Per token and block: −8 × the sum of its bytes (the nibbles' offset of 8, taken off
    /// each block's integer dot product, which starts from it). Stored negated so that the
    /// SIMD paths broadcast it straight from memory.
    starts: Vec<i32>,
}

/// One token's quantised activations.
struct Token<'a> {
    quants: &'a [i8],
    scales: &'a [f32],
    starts: &'a [i32],
}

impl Activations {
    /// Quantises `x` (`[tokens, cols]`, row-major, `cols` a multiple of 32): per block, the
    /// scale is the largest magnitude / 127 and each value is rounded to the nearest step.
    pub fn quantize(x: &[f32], cols: usize) -> Activations {
        assert!(cols.is_multiple_of(BLOCK) && x.len().is_multiple_of(cols));
        let blocks = x.len() / BLOCK;
        let mut a = Activations {
            tokens: x.len() / cols,
            cols,
            quants: vec![0i8; x.len()],
            scales: vec![0f32; blocks],
            starts: vec![0i32; blocks],
        };
        #[cfg(target_arch = "x86_64")]
        {
            if has_avx2() {
                // SAFETY: the CPU has AVX2 and FMA (checked above).
                unsafe { avx2::quantize_blocks(x, &mut a) };
                return a;
            }
        }
        quantize_blocks(x, &mut a);
        a
    }

    /// Tokens (rows).
    pub fn tokens(&self) -> usize {
        self.tokens
    }

    fn token(&self, t: usize) -> Token<'_> {
        let nb = self.cols / BLOCK;
        Token {
            quants: &self.quants[t * self.cols..(t + 1) * self.cols],
            scales: &self.scales[t * nb..(t + 1) * nb],
            starts: &self.starts[t * nb..(t + 1) * nb],
        }
    }
}

/// Fills `a`'s quantised values, scales and starts from `x` (see [`Activations::quantize`]).
/// The values must be finite (activations are); the AVX2 path gives the same bytes for them.
fn quantize_blocks(x: &[f32], a: &mut Activations) {
    let blocks = x.chunks_exact(BLOCK).zip(a.quants.chunks_exact_mut(BLOCK));
    for ((block, q), (scale, start)) in blocks.zip(a.scales.iter_mut().zip(&mut a.starts)) {
        let max = block.iter().fold(0f32, |m, v| m.max(v.abs()));
        *scale = max / 127.0;
        let inverse = inverse_of(*scale);
        let mut sum = 0i32;
        for (q, v) in q.iter_mut().zip(block) {
            // Rounds to nearest (ties to even) by adding and taking away 1.5 × 2^23, for
            // |v| ≤ 127: `f32::round` is a libm call per value.
            let n = ((v * inverse + ROUNDING) - ROUNDING) as i32;
            sum += n;
            *q = n as i8;
        }
        // The nibbles' offset of 8, taken off each block's integer dot product.
        *start = -8 * sum;
    }
}

/// Returns `1 / scale`, or 0 for a block of zeros (or of values so small that the inverse
/// would overflow).
fn inverse_of(scale: f32) -> f32 {
    let inverse = 1.0 / scale;
    if scale > 0.0 && inverse.is_finite() {
        inverse
    } else {
        0.0
    }
}

/// Largest |x| at which [`erf`] is evaluated: erf(3.92) is 1 − 3 · 10⁻⁸, 1 in f32.
const ERF_LIMIT: f32 = 3.92;
/// `erf(x) ≈ x · P(x²) / Q(x²)` on [−3.92, 3.92], coefficients from the lowest power up:
/// a rational least-squares fit made for faqd (worst error 9.1 · 10⁻⁷ evaluated in f32,
/// against about 10⁻⁷ for the C library's `erff`). Every coefficient of Q is positive, so
/// Q ≥ 1.
const ERF_P: [f32; 6] = [
    1.128_378_5,
    0.372_522_68,
    0.073_424_794,
    0.010_573_647,
    0.000_267_522_4,
    -0.000_001_523_298,
];
const ERF_Q: [f32; 5] = [
    1.0,
    0.663_462_34,
    0.186_275_38,
    0.028_826_682,
    0.002_489_407,
];

/// Returns `erf(x)` without a library call, so that a loop over it is vectorised.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let c = x.clamp(-ERF_LIMIT, ERF_LIMIT);
    let z = c * c;
    let p = ERF_P.iter().rev().fold(0.0, |acc, &c| acc * z + c);
    let q = ERF_Q.iter().rev().fold(0.0, |acc, &c| acc * z + c);
    // Never beyond ±1 (the fit overshoots by up to 8 · 10⁻⁷ near 3.8), and ±1 exactly beyond
    // its range (selects, not branches, once vectorised).
    if c == x {
        (c * p / q).clamp(-1.0, 1.0)
    } else {
        x.signum()
    }
}

/// Applies GELU, the exact form `x · (1 + erf(x / √2)) / 2`, in place: sixteen values at a
/// time with AVX-512, eight with AVX2, where the CPU has them (the C library's `erff`, one call
/// per value, took 17 % of a short question's forward pass).
pub fn gelu(values: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if has_vnni() {
            // SAFETY: the CPU has AVX-512 F and VL, AVX2 and FMA (checked above).
            unsafe { avx512::gelu(values) };
            return;
        }
        if has_avx2() {
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            unsafe { avx2::gelu(values) };
            return;
        }
    }
    gelu_portable(values);
}

#[inline(always)]
fn gelu_portable(values: &mut [f32]) {
    for v in values {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// Unpacks a group's blocks of nibbles into one byte (0..=15) per weight: per block, the low
/// nibbles (the first half of the block's chunks), then the high ones (the second half).
fn unpack(kernel: Kernel, nibbles: &[u8], out: &mut [u8]) {
    match kernel {
        Kernel::Portable => unpack_portable(nibbles, out),
        // SAFETY: `best` chose these kernels only where the CPU has AVX2 (the tests choose
        // them the same way); it checks the lengths.
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 | Kernel::Vnni => unsafe { avx2::unpack(nibbles, out) },
    }
}

fn unpack_portable(nibbles: &[u8], out: &mut [u8]) {
    assert_eq!(out.len(), nibbles.len() * 2);
    let blocks = nibbles.chunks_exact(PACKED_BLOCK);
    for (block, o) in blocks.zip(out.chunks_exact_mut(GROUP_BLOCK)) {
        let (low, high) = o.split_at_mut(GROUP_BLOCK / 2);
        for ((l, h), b) in low.iter_mut().zip(high).zip(block) {
            *l = b & 0x0f;
            *h = b >> 4;
        }
    }
}

/// Asks the CPU to bring `bytes` into its caches, without waiting for them.
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch reads nothing the program sees and never faults; SSE is part
        // of x86-64.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// Returns whether the CPU has AVX-512 (F, VL) with the byte dot product (`vpdpbusd`, VNNI),
/// which does the work of AVX2's `maddubs` and `madd` in one instruction.
#[cfg(target_arch = "x86_64")]
fn has_vnni() -> bool {
    has_avx2()
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512vl")
        && std::is_x86_feature_detected!("avx512vnni")
}

/// Returns whether the AVX2 and FMA paths can run.
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Tile, BLOCK, GROUP_BLOCK, LANE, ROWS, SPAN, TILE};
    use std::arch::x86_64::*;

    /// A group's unpacked block: one vector per chunk of four weights, the eight rows' lanes.
    type Block = [__m256i; BLOCK / LANE];

    /// [`Tile::portable`] with AVX2's `maddubs` (pairs of byte products summed into 16 bits:
    /// eight chunks of at most 2 · 15 · 127 each stay below 2^15) and `madd` (pairs of those
    /// into 32 bits).
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn tile_maddubs(tile: &Tile, sums: &mut [[f32; SPAN * ROWS]; TILE]) {
        let ones = _mm256_set1_epi16(1);
        // SAFETY: as the caller's.
        unsafe {
            tile_with(tile, sums, |w, q, start| {
                let mut s = _mm256_maddubs_epi16(w[0], broadcast(q, 0));
                for (c, w) in w.iter().enumerate().skip(1) {
                    s = _mm256_add_epi16(s, _mm256_maddubs_epi16(*w, broadcast(q, c)));
                }
                _mm256_add_epi32(_mm256_madd_epi16(s, ones), start)
            })
        }
    }

    /// The token's four bytes of chunk `c`, in every lane.
    ///
    /// # Safety
    /// `q` points at a block of [`BLOCK`] bytes and `c` < `BLOCK / LANE`.
    #[inline(always)]
    unsafe fn broadcast(q: *const i8, c: usize) -> __m256i {
        // SAFETY: as the caller's.
        unsafe { _mm256_set1_epi32(q.add(c * LANE).cast::<i32>().read_unaligned()) }
    }

    /// The loop of both: `block(w, q, start)` returns `start` plus each row's integer dot
    /// product of the block `w` with the token's block of bytes at `q`. Inlined into its
    /// callers, so it is compiled with their target features.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA and what `block` uses.
    #[inline(always)]
    unsafe fn tile_with(
        tile: &Tile,
        sums: &mut [[f32; SPAN * ROWS]; TILE],
        block: impl Fn(&Block, *const i8, __m256i) -> __m256i,
    ) {
        assert!(!tile.packed && tile.groups() == Some(1));
        // SAFETY: as the caller's, and `groups` checked the tile.
        unsafe {
            match tile.tokens {
                4 => tile_of::<4>(tile, sums, block),
                3 => tile_of::<3>(tile, sums, block),
                2 => tile_of::<2>(tile, sums, block),
                1 => tile_of::<1>(tile, sums, block),
                n => unreachable!("AVX2 tiles have at most 4 tokens, not {n}"),
            }
        }
    }

    /// [`tile_with`] for `T` = `tile.tokens` tokens.
    ///
    /// # Safety
    /// As [`tile_with`]'s, and `tile.groups()` is 1 for an unpacked tile.
    #[inline(always)]
    unsafe fn tile_of<const T: usize>(
        tile: &Tile,
        sums: &mut [[f32; SPAN * ROWS]; TILE],
        block: impl Fn(&Block, *const i8, __m256i) -> __m256i,
    ) {
        const { assert!(T <= TILE) };
        let cols = tile.x.cols;
        let nb = cols / BLOCK;
        let mut acc = [_mm256_setzero_ps(); T];
        // SAFETY: `groups` bounds every offset below: blocks b < nb of the group's weights and
        // scales, and of tokens first..first + T of the activations.
        unsafe {
            let w = tile.weights.as_ptr();
            let q = tile.x.quants.as_ptr().add(tile.first * cols);
            let da = tile.x.scales.as_ptr().add(tile.first * nb);
            let starts = tile.x.starts.as_ptr().add(tile.first * nb);
            for b in 0..nb {
                let wb: Block = std::array::from_fn(|c| {
                    _mm256_loadu_si256(w.add(b * GROUP_BLOCK + c * ROWS * LANE).cast())
                });
                let dw = _mm256_loadu_ps(tile.scales.as_ptr().add(b * ROWS));
                for (t, acc) in acc.iter_mut().enumerate() {
                    // The nibbles' offset of 8, taken off every row's sum.
                    let start = _mm256_set1_epi32(*starts.add(t * nb + b));
                    let dots = block(&wb, q.add(t * cols + b * BLOCK), start);
                    let scaled = _mm256_mul_ps(
                        _mm256_cvtepi32_ps(dots),
                        _mm256_set1_ps(*da.add(t * nb + b)),
                    );
                    *acc = _mm256_fmadd_ps(scaled, dw, *acc);
                }
            }
            for (s, acc) in sums.iter_mut().zip(acc) {
                _mm256_storeu_ps(s.as_mut_ptr(), acc);
            }
        }
    }

    /// [`super::quantize_blocks`] with AVX2: a block is four vectors; `cvtps_epi32` rounds to
    /// nearest, ties to even, as the portable form does.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn quantize_blocks(x: &[f32], a: &mut super::Activations) {
        assert!(x.len() == a.quants.len() && a.scales.len() * BLOCK == x.len());
        let sign = _mm256_set1_ps(-0.0);
        // packs_epi32 and packs_epi16 interleave the 128-bit lanes: this puts them back.
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        for b in 0..a.scales.len() {
            // SAFETY: block b's 32 values lie inside `x` and `a.quants` (checked above).
            unsafe {
                let p = x.as_ptr().add(b * BLOCK);
                let v = [0, 8, 16, 24].map(|i| _mm256_loadu_ps(p.add(i)));
                let m = v.map(|v| _mm256_andnot_ps(sign, v));
                let m = _mm256_max_ps(_mm256_max_ps(m[0], m[1]), _mm256_max_ps(m[2], m[3]));
                let m = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
                let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
                let max = _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
                let scale = max / 127.0;
                let inverse = _mm256_set1_ps(super::inverse_of(scale));
                let n = v.map(|v| _mm256_cvtps_epi32(_mm256_mul_ps(v, inverse)));
                let bytes = _mm256_packs_epi16(
                    _mm256_packs_epi32(n[0], n[1]),
                    _mm256_packs_epi32(n[2], n[3]),
                );
                let bytes = _mm256_permutevar8x32_epi32(bytes, order);
                _mm256_storeu_si256(a.quants.as_mut_ptr().add(b * BLOCK).cast(), bytes);
                let sum =
                    _mm256_add_epi32(_mm256_add_epi32(n[0], n[1]), _mm256_add_epi32(n[2], n[3]));
                let sum = _mm_add_epi32(
                    _mm256_castsi256_si128(sum),
                    _mm256_extracti128_si256(sum, 1),
                );
                let sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0b01_00_11_10));
                let sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0b10_11_00_01));
                a.scales[b] = scale;
                a.starts[b] = -8 * _mm_cvtsi128_si32(sum);
            }
        }
    }

    /// [`super::gelu_portable`] compiled for AVX2, which vectorises its loop.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn gelu(values: &mut [f32]) {
        super::gelu_portable(values);
    }

    /// [`super::unpack_portable`] with AVX2; the caller checks that `out` is twice `nibbles`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn unpack(nibbles: &[u8], out: &mut [u8]) {
        const HALF: usize = super::PACKED_BLOCK;
        assert_eq!(out.len(), nibbles.len() * 2);
        let low = _mm256_set1_epi8(0x0f);
        for b in 0..nibbles.len() / HALF {
            for i in (0..HALF).step_by(32) {
                // SAFETY: 32 bytes of block b in, twice 32 out, inside both slices (checked
                // by the caller).
                unsafe {
                    let v = _mm256_loadu_si256(nibbles.as_ptr().add(b * HALF + i).cast());
                    let o = out.as_mut_ptr().add(b * GROUP_BLOCK + i);
                    _mm256_storeu_si256(o.cast(), _mm256_and_si256(v, low));
                    let high = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
                    _mm256_storeu_si256(o.add(HALF).cast(), high);
                }
            }
        }
    }
}

/// The product with AVX-512 VNNI: [`SPAN`] groups' rows at once, one 512-bit vector per
/// chunk (the first group's eight lanes, then the second's), so that each instruction does
/// twice the work of the 256-bit forms and each token's broadcast bytes serve 16 rows. The
/// nibbles are read as stored and unpacked in registers (no buffer), and the next groups'
/// nibbles and scales are prefetched block by block, spread over the first tile's work.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Tile, BLOCK, LANE, PACKED_BLOCK, ROWS, SPAN, TILE};
    use std::arch::x86_64::*;

    /// [`super::gelu_portable`] compiled for AVX-512, which vectorises its loop 16 values at
    /// a time.
    #[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
    pub(super) unsafe fn gelu(values: &mut [f32]) {
        super::gelu_portable(values);
    }

    /// Writes each token's dot products with the tile's one or two groups' rows (without
    /// bias) to `sums` (a missing second group's rows are zeros), with `vpdpbusd` in two
    /// chains (even and odd chunks).
    ///
    /// # Safety
    /// The CPU has AVX-512 F, VL and VNNI, AVX2 and FMA.
    #[target_feature(enable = "avx2,fma,avx512f,avx512vl,avx512vnni")]
    pub(super) unsafe fn tile(tile: &Tile, sums: &mut [[f32; SPAN * ROWS]; TILE]) {
        let groups = tile.groups();
        assert!(tile.packed && groups.is_some());
        let second = groups == Some(2);
        // SAFETY: as the caller's, and `groups` checked the tile.
        unsafe {
            match tile.tokens {
                8 => tile_of::<8>(tile, second, sums),
                7 => tile_of::<7>(tile, second, sums),
                6 => tile_of::<6>(tile, second, sums),
                5 => tile_of::<5>(tile, second, sums),
                4 => tile_of::<4>(tile, second, sums),
                3 => tile_of::<3>(tile, second, sums),
                2 => tile_of::<2>(tile, second, sums),
                _ => tile_of::<1>(tile, second, sums),
            }
        }
    }

    /// [`tile`] for `T` = `tile.tokens` tokens; `second`: the tile has two groups.
    ///
    /// # Safety
    /// As [`tile`]'s, and `tile.groups()` is 2 when `second`, else 1.
    #[inline(always)]
    unsafe fn tile_of<const T: usize>(
        tile: &Tile,
        second: bool,
        sums: &mut [[f32; SPAN * ROWS]; TILE],
    ) {
        const { assert!(T <= TILE) };
        let cols = tile.x.cols;
        let nb = cols / BLOCK;
        let group = nb * PACKED_BLOCK;
        let mut acc = [_mm512_setzero_ps(); T];
        let low = _mm512_set1_epi8(0x0f);
        // SAFETY: `groups` bounds every offset below: blocks b < nb of the groups' nibbles
        // and scales (the second group's only when `second`), and of tokens first..first + T
        // of the activations. Prefetches read nothing the program sees and never fault; their
        // addresses are inside `ahead` and `ahead_scales` all the same.
        unsafe {
            let w = tile.weights.as_ptr();
            let s = tile.scales.as_ptr();
            let q = tile.x.quants.as_ptr().add(tile.first * cols);
            let da = tile.x.scales.as_ptr().add(tile.first * nb);
            let starts = tile.x.starts.as_ptr().add(tile.first * nb);
            for b in 0..nb {
                tile.prefetch_ahead(b);
                // Piece i holds chunks i (low nibbles) and i + 4 (high nibbles).
                let mut wb = [_mm512_setzero_si512(); BLOCK / LANE];
                for i in 0..BLOCK / LANE / 2 {
                    let at = b * PACKED_BLOCK + i * ROWS * LANE;
                    let first = _mm256_loadu_si256(w.add(at).cast());
                    let other = if second {
                        _mm256_loadu_si256(w.add(group + at).cast())
                    } else {
                        _mm256_setzero_si256()
                    };
                    let v = _mm512_inserti64x4(_mm512_castsi256_si512(first), other, 1);
                    wb[i] = _mm512_and_si512(v, low);
                    wb[i + BLOCK / LANE / 2] = _mm512_and_si512(_mm512_srli_epi32(v, 4), low);
                }
                // The two groups' eight scales side by side.
                let first = _mm256_loadu_pd(s.add(b * ROWS).cast());
                let other = if second {
                    _mm256_loadu_pd(s.add((nb + b) * ROWS).cast())
                } else {
                    _mm256_setzero_pd()
                };
                let dw =
                    _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(first), other, 1));
                for (t, acc) in acc.iter_mut().enumerate() {
                    let bytes = q.add(t * cols + b * BLOCK);
                    let four = |c: usize| {
                        _mm512_set1_epi32(bytes.add(c * LANE).cast::<i32>().read_unaligned())
                    };
                    // The nibbles' offset of 8, taken off every row's sum.
                    let mut even = _mm512_set1_epi32(*starts.add(t * nb + b));
                    let mut odd = _mm512_setzero_si512();
                    for c in (0..BLOCK / LANE).step_by(2) {
                        even = _mm512_dpbusd_epi32(even, wb[c], four(c));
                        odd = _mm512_dpbusd_epi32(odd, wb[c + 1], four(c + 1));
                    }
                    let dots = _mm512_add_epi32(even, odd);
                    let scaled = _mm512_mul_ps(
                        _mm512_cvtepi32_ps(dots),
                        _mm512_set1_ps(*da.add(t * nb + b)),
                    );
                    *acc = _mm512_fmadd_ps(scaled, dw, *acc);
                }
            }
            for (s, acc) in sums.iter_mut().zip(acc) {
                _mm512_storeu_ps(s.as_mut_ptr(), acc);
            }
        }
    }
}

#[cfg(test)]
mod noise;

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random sequence in [-1, 1).
    fn noise(n: usize, seed: u64) -> Vec<f32> {
        crate::noise::sequence(n, seed)
            .map(|s| (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
            .collect()
    }

    /// Q4_0 blocks of `w` (`[rows, cols]`), quantised as ggml does (scale = value of largest
    /// magnitude / −8).
    fn q4_0(w: &[f32]) -> Vec<u8> {
        let mut out = Vec::new();
        for block in w.chunks_exact(BLOCK) {
            let max = block
                .iter()
                .copied()
                .fold(0f32, |m, v| if v.abs() > m.abs() { v } else { m });
            let d = max / -8.0;
            let id = if d != 0.0 { 1.0 / d } else { 0.0 };
            out.extend_from_slice(&half::f16::from_f32(d).to_le_bytes());
            let q = |v: f32| ((v * id + 8.5) as i32).clamp(0, 15) as u8;
            for j in 0..16 {
                out.push(q(block[j]) | (q(block[j + 16]) << 4));
            }
        }
        out
    }

    fn dequantized(bytes: &[u8]) -> Vec<f32> {
        let mut w = Vec::new();
        for block in bytes.chunks_exact(FILE_BLOCK_BYTES) {
            let d = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
            let mut values = [0f32; BLOCK];
            for j in 0..16 {
                values[j] = d * ((block[2 + j] & 0x0f) as f32 - 8.0);
                values[j + 16] = d * ((block[2 + j] >> 4) as f32 - 8.0);
            }
            w.extend_from_slice(&values);
        }
        w
    }

    #[test]
    fn product_matches_f32_within_quantisation_error() {
        // Rows that are not a multiple of ROWS (one, two and three groups); tokens that leave
        // tiles of several sizes, and 45 (more than one task).
        let shapes = [(7, 64, 3), (9, 96, 45), (17, 32, 6), (8, 64, 1)];
        for ((rows, cols, tokens), kernel) in shapes.into_iter().flat_map(|s| {
            let k = Kernel::available();
            k.into_iter().map(move |k| (s, k))
        }) {
            let bytes = q4_0(&noise(rows * cols, 1));
            let w = dequantized(&bytes);
            let x = noise(tokens * cols, 2);
            let bias = noise(rows, 3);
            let m = Q4Matrix::from_q4_0(&bytes, rows, cols).unwrap();
            let y = m.product_with(kernel, &Activations::quantize(&x, cols), &bias);
            for t in 0..tokens {
                for r in 0..rows {
                    let row = &w[r * cols..(r + 1) * cols];
                    let token = &x[t * cols..(t + 1) * cols];
                    let exact: f32 =
                        bias[r] + row.iter().zip(token).map(|(w, x)| w * x).sum::<f32>();
                    // Each activation is off by at most half its block's step (max / 127).
                    let bound: f32 = row
                        .chunks(BLOCK)
                        .zip(token.chunks(BLOCK))
                        .map(|(w, x)| {
                            let step = x.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
                            w.iter().map(|w| w.abs()).sum::<f32>() * step / 2.0
                        })
                        .sum();
                    let got = y[t * rows + r];
                    assert!(
                        (got - exact).abs() <= bound * 1.01 + 1e-5,
                        "{kernel:?} {rows}x{cols} t{t} r{r}: {got} vs {exact} (bound {bound})"
                    );
                }
            }
        }
    }

    #[test]
    fn parts_of_a_product_are_its_rows() {
        // Groups of 8 rows: 1, 5 (odd, so AVX-512's pairs of groups split unevenly) and 48;
        // 2 to 4 parts, some with no rows.
        for (rows, cols, tokens) in [(7, 64, 3), (37, 96, 11), (384, 128, 5)] {
            let m = Q4Matrix::from_q4_0(&q4_0(&noise(rows * cols, 4)), rows, cols).unwrap();
            let x = Activations::quantize(&noise(tokens * cols, 5), cols);
            let bias = noise(rows, 6);
            for (kernel, parts) in Kernel::available()
                .into_iter()
                .flat_map(|k| (2..=4).map(move |p| (k, p)))
            {
                let whole = m.product_with(kernel, &x, &bias);
                let mut next = 0;
                for part in 0..parts {
                    let (range, y) = m.part_with(kernel, &x, &bias, part, parts);
                    assert_eq!(
                        range.start, next,
                        "{kernel:?}: {rows} rows, part {part} of {parts}"
                    );
                    assert_eq!(y.len(), tokens * range.len());
                    for t in 0..tokens {
                        let got = &y[t * range.len()..(t + 1) * range.len()];
                        let want = &whole[t * rows + range.start..t * rows + range.end];
                        assert_eq!(
                            got, want,
                            "{kernel:?}: {rows} rows, part {part}/{parts}, token {t}"
                        );
                    }
                    next = range.end;
                }
                assert_eq!(next, rows, "{rows} rows in {parts} parts");
            }
        }
    }

    #[test]
    fn simd_and_portable_paths_agree() {
        // Three groups: AVX-512 multiplies two, then one alone.
        let (rows, cols) = (2 * ROWS + 3, 128);
        let bytes = q4_0(&noise(rows * cols, 4));
        let m = Q4Matrix::from_q4_0(&bytes, rows, cols).unwrap();
        // Noise, a block of zeros, and a block whose largest magnitude is 127 (so values are
        // their own steps) with ties to round to even.
        let mut values = noise(cols, 5);
        values[32..64].fill(0.0);
        let ties = [0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -127.0];
        for (v, t) in values[64..96].iter_mut().zip(ties.iter().cycle()) {
            *v = *t;
        }
        let mut portable = Activations::quantize(&values, cols);
        portable.quants.fill(0);
        quantize_blocks(&values, &mut portable);
        assert_eq!(&portable.quants[64..72], &[0, 0, 2, -2, 2, -2, 126, -127]);
        assert_eq!(&portable.quants[32..64], &[0; 32]);
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            let mut simd = Activations::quantize(&values, cols);
            simd.quants.fill(0);
            // SAFETY: the CPU has AVX2 and FMA.
            unsafe { avx2::quantize_blocks(&values, &mut simd) };
            assert_eq!(
                (&simd.quants, &simd.scales, &simd.starts),
                (&portable.quants, &portable.scales, &portable.starts)
            );
        }
        let group = &m.nibbles[..cols / 2 * ROWS];
        let mut expected = vec![0u8; rows.min(ROWS) * cols];
        unpack_portable(group, &mut expected);
        // The portable unpacking puts weight j of row r where the layout says.
        let w = dequantized(&bytes);
        for (r, b, j) in (0..ROWS)
            .flat_map(|r| (0..cols / BLOCK).flat_map(move |b| (0..BLOCK).map(move |j| (r, b, j))))
        {
            let at = b * GROUP_BLOCK + j / LANE * ROWS * LANE + r * LANE + j % LANE;
            let scale = m.scales[b * ROWS + r];
            let value = scale * (expected[at] as f32 - 8.0);
            assert_eq!(
                value,
                w[r * cols + b * BLOCK + j],
                "row {r} block {b} weight {j}"
            );
        }
        // Tokens of noise, of the values above, and of the largest and smallest bytes: against
        // nibbles of 15 (a block of 7.0 but for one −8.0, which sets the scale to 1), the
        // 16-bit sums of `maddubs` over a block's eight chunks come near 8 · 2 · 15 · 127.
        // Then more noise: 33 tokens in all, taken 1, 2, 4, 7, 11, 15 and 33 at a time, so that
        // tiles of many sizes run on both SIMD paths, and the split across threads (over 32).
        let mut tokens = noise(8 * cols, 6);
        tokens.extend_from_slice(&values);
        tokens.extend(std::iter::repeat_n(1.0, cols));
        tokens.extend(std::iter::repeat_n(-1.0, cols));
        tokens.extend(noise(22 * cols, 8));
        let bias = noise(rows, 7);
        let sevens: Vec<f32> = (0..rows * cols)
            .map(|i| if i % BLOCK == 0 { -8.0 } else { 7.0 })
            .collect();
        let heavy = Q4Matrix::from_q4_0(&q4_0(&sevens), rows, cols).unwrap();
        assert_eq!(heavy.nibbles[1], 0xff);
        for kernel in Kernel::available() {
            let mut unpacked = vec![0u8; group.len() * 2];
            unpack(kernel, &m.nibbles[..group.len()], &mut unpacked);
            let mut portable = vec![0u8; group.len() * 2];
            unpack_portable(&m.nibbles[..group.len()], &mut portable);
            assert_eq!(unpacked, portable, "{kernel:?}");
        }
        for (m, n) in [&m, &heavy]
            .into_iter()
            .flat_map(|m| [1, 2, 4, 7, 11, 15, 33].map(|n| (m, n)))
        {
            let x = Activations::quantize(&tokens[..n * cols], cols);
            let reference = m.product_with(Kernel::Portable, &x, &bias);
            for kernel in Kernel::available() {
                let y = m.product_with(kernel, &x, &bias);
                for (i, (a, b)) in y.iter().zip(&reference).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                        "{kernel:?} {n} tokens, output {i}: {a} vs {b}"
                    );
                }
                // The SIMD paths add the same integers and scale them in the same order.
                #[cfg(target_arch = "x86_64")]
                if kernel == Kernel::Vnni && has_avx2() {
                    let avx2 = m.product_with(Kernel::Avx2, &x, &bias);
                    let bits = |y: &[f32]| y.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&y), bits(&avx2), "VNNI and AVX2 differ, {n} tokens");
                }
            }
        }
    }

    #[test]
    fn rejects_a_matrix_of_the_wrong_size() {
        assert!(Q4Matrix::from_q4_0(&[0; 18], 1, 33).is_none());
        assert!(Q4Matrix::from_q4_0(&[0; 17], 1, 32).is_none());
        assert!(Q4Matrix::from_q4_0(&[], 0, 32).is_none());
        assert!(Q4Matrix::from_q4_0(&[], 1, 0).is_none());
    }

    extern "C" {
        /// The C library's erf, in f64: the reference.
        fn erf(x: f64) -> f64;
    }

    #[test]
    fn gelu_matches_the_exact_form() {
        // Every 1/1000 from −6 to 6, through both paths (an odd length, so the vector loop's
        // tail runs too).
        let xs: Vec<f32> = (-6000..=6000).map(|i| i as f32 / 1000.0).collect();
        let mut fast = xs.clone();
        gelu(&mut fast);
        let mut portable = xs.clone();
        gelu_portable(&mut portable);
        // Every vector width computes each value with the same operations.
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            let mut avx2 = xs.clone();
            // SAFETY: the CPU has AVX2 and FMA.
            unsafe { avx2::gelu(&mut avx2) };
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&avx2), bits(&fast));
        }
        for ((&x, &f), &p) in xs.iter().zip(&fast).zip(&portable) {
            let x64 = f64::from(x);
            // SAFETY: erf is a pure function of its argument.
            let exact = 0.5 * x64 * (1.0 + unsafe { erf(x64 / std::f64::consts::SQRT_2) });
            let bound = 2e-6 * x64.abs().max(1.0);
            assert!(
                (f64::from(f) - exact).abs() <= bound,
                "gelu({x}) = {f}, not {exact}"
            );
            assert!(
                (f64::from(p) - exact).abs() <= bound,
                "gelu({x}) = {p}, not {exact}"
            );
        }
        // The saturated ends: x itself above, 0 below.
        let mut ends = [-30.0f32, 30.0];
        gelu(&mut ends);
        assert_eq!(ends, [0.0, 30.0]);
    }
}
