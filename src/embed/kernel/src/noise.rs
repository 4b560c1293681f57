//! A deterministic pseudo-random sequence (xorshift64) for the kernel's tests and its bench:
//! the same inputs on every run and machine. Not part of the crate's API: the tests declare it
//! as a module and the bench includes the file by path.

/// Returns `n` values of xorshift64 started from `seed`.
pub fn sequence(n: usize, seed: u64) -> impl Iterator<Item = u64> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n).map(move |_| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    })
}
