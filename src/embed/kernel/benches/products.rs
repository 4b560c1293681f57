//! The 12 layers' linear maps of multilingual-e5-small (per layer: four 384 × 384, one
//! 1536 × 384 and one 384 × 1536), with random 4-bit weights, for a short and a long question
//! (11 and 28 tokens), with every kernel the CPU runs: `cargo bench -p faqd-kernel`.

use criterion::{criterion_group, criterion_main, Criterion};
use faqd_kernel::{Activations, Kernel, Q4Matrix};
use std::hint::black_box;

const HIDDEN: usize = 384;
const INTERMEDIATE: usize = 1536;
const LAYERS: usize = 12;

#[path = "../src/noise.rs"]
mod noise;

/// A deterministic pseudo-random byte sequence.
fn bytes(n: usize, seed: u64) -> Vec<u8> {
    noise::sequence(n, seed).map(|s| (s >> 32) as u8).collect()
}

/// A matrix in Q4_0 blocks: scale 0.01, random nibbles.
fn matrix(rows: usize, cols: usize, seed: u64) -> Q4Matrix {
    let mut q4 = bytes(rows * cols / 32 * 18, seed);
    let scale = half::f16::from_f32(0.01).to_le_bytes();
    for block in q4.chunks_exact_mut(18) {
        block[..2].copy_from_slice(&scale);
    }
    Q4Matrix::from_q4_0(&q4, rows, cols).expect("a well-formed matrix")
}

fn activations(tokens: usize, cols: usize, seed: u64) -> Activations {
    let x: Vec<f32> = bytes(tokens * cols, seed)
        .into_iter()
        .map(|b| f32::from(b) / 128.0 - 1.0)
        .collect();
    Activations::quantize(&x, cols)
}

fn products(c: &mut Criterion) {
    // One layer's maps (rows, cols); the 12 layers are the same shapes.
    let shapes = [
        (HIDDEN, HIDDEN),
        (HIDDEN, HIDDEN),
        (HIDDEN, HIDDEN),
        (HIDDEN, HIDDEN),
        (INTERMEDIATE, HIDDEN),
        (HIDDEN, INTERMEDIATE),
    ];
    // Every layer its own matrices, so that the weights are read from memory as in a pass.
    let layers: Vec<Vec<Q4Matrix>> = (0..LAYERS)
        .map(|l| {
            shapes
                .iter()
                .enumerate()
                .map(|(i, &(r, c))| matrix(r, c, (l * shapes.len() + i) as u64))
                .collect()
        })
        .collect();
    let biases: Vec<Vec<Vec<f32>>> = layers
        .iter()
        .map(|layer| layer.iter().map(|m| vec![0f32; m.rows()]).collect())
        .collect();
    for tokens in [11, 28] {
        let narrow = activations(tokens, HIDDEN, 1);
        let wide = activations(tokens, INTERMEDIATE, 2);
        for kernel in Kernel::available() {
            c.bench_function(&format!("12 layers/{tokens} tokens/{kernel:?}"), |b| {
                b.iter(|| {
                    for (layer, biases) in layers.iter().zip(&biases) {
                        for (m, bias) in layer.iter().zip(biases) {
                            let x = if m.cols() == HIDDEN { &narrow } else { &wide };
                            black_box(m.product_with(kernel, black_box(x), bias));
                        }
                    }
                })
            });
        }
    }
}

criterion_group!(benches, products);
criterion_main!(benches);
