//! A generation's sentence vectors: one per title and per question of every article version
//! (and per answer, see [`ANSWERS`]), kept in `vectors.bin` in the generation's directory and
//! keyed by a hash of the text, so that a rebuild or an admin edit embeds only texts it has not
//! seen: the previous generation's vectors are the cache of the next.
//!
//! `vectors.bin`: `FQV1`, u32 width, u32 model-id length, model id (the model file's SHA-256),
//! u64 count, then per vector a 16-byte text key and `width` little-endian f32.

use super::Generation;
use crate::embed::{Encoder, Role, DIM};
use crate::lang::Variant;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::Instant;

/// File name of a generation's vectors.
pub const FILE_NAME: &str = "vectors.bin";

/// Whether answers are embedded too (as passages, a channel of their own in ranking: see
/// [`crate::search::hybrid`]). A knowledge base of documents (a title and a long text)
/// has nothing else that says what an article answers.
pub const ANSWERS: bool = true;

/// Which text of an article version a vector is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// The title.
    Title,
    /// One of the other ways users ask.
    Question,
    /// The answer.
    Answer,
}

/// What one vector is of.
#[derive(Debug, Clone, Copy)]
pub struct VectorText {
    /// Its article group.
    pub group: u32,
    /// The language version.
    pub variant: Variant,
    /// Which text.
    pub kind: TextKind,
}

/// The vectors of one generation.
pub struct Vectors {
    /// The generation they belong to.
    pub generation: u64,
    /// The model they were made with.
    pub model: String,
    /// What each vector is of, in order.
    pub texts: Vec<VectorText>,
    /// Each text's key (a hash of its role and words).
    keys: Vec<u128>,
    /// The vectors, `DIM` floats each, in the order of `texts`.
    pub data: Vec<f32>,
    /// Per variant of [`Variant::ALL`]: how close its titles and questions come to another
    /// article's, typically ([`neighbour_cosines`]).
    neighbours: [Option<f32>; Variant::ALL.len()],
}

/// How vectors for a generation were obtained.
#[derive(Debug, Clone, Copy, Default)]
pub struct VectorStats {
    /// Texts with a vector.
    pub texts: usize,
    /// Texts embedded now.
    pub embedded: usize,
    /// Texts whose vector was reused (cache or file).
    pub reused: usize,
    /// Milliseconds spent.
    pub ms: u64,
    /// True when read whole from the generation's file.
    pub from_file: bool,
    /// Per variant of [`Variant::ALL`], [`Vectors::neighbour_cosine`].
    pub neighbours: [Option<f32>; Variant::ALL.len()],
}

impl VectorStats {
    /// Names each variant's [`Vectors::neighbour_cosine`], for logs:
    /// `ko 0.922 en - zh 0.925 zh-Hant -`.
    pub fn neighbours(&self) -> String {
        Variant::ALL
            .iter()
            .zip(self.neighbours)
            .map(|(v, n)| match n {
                Some(n) => format!("{} {n:.3}", v.tag()),
                None => format!("{} -", v.tag()),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Errors reading or writing vectors.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// The encoder failed.
    #[error(transparent)]
    Embed(#[from] crate::embed::EmbedError),
    /// The vectors file cannot be written.
    #[error("failed to write {path}: {source}")]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

fn key(role: Role, text: &str) -> u128 {
    let mut h = Sha256::new();
    h.update(match role {
        Role::Query => b"q:",
        Role::Passage => b"p:",
    });
    h.update(text.as_bytes());
    u128::from_le_bytes(h.finalize()[..16].try_into().unwrap())
}

/// Returns every text of a generation that gets a vector, with its role.
fn texts_of(gen: &Generation) -> Vec<(VectorText, Role, &str)> {
    let mut out = Vec::new();
    for (g, versions) in gen.groups.iter().enumerate() {
        for a in versions {
            let at = |kind| VectorText {
                group: g as u32,
                variant: a.lang,
                kind,
            };
            if !a.title.trim().is_empty() {
                out.push((at(TextKind::Title), Role::Query, a.title.as_str()));
            }
            for q in a.questions.iter().filter(|q| !q.trim().is_empty()) {
                out.push((at(TextKind::Question), Role::Query, q.as_str()));
            }
            if ANSWERS && !a.answer.trim().is_empty() {
                out.push((at(TextKind::Answer), Role::Passage, a.answer.as_str()));
            }
        }
    }
    out
}

impl Vectors {
    /// Returns the number of vectors.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Returns true when there are none.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// Returns vector `i`.
    pub fn vector(&self, i: usize) -> &[f32] {
        &self.data[i * DIM..(i + 1) * DIM]
    }

    /// Returns vectors of the given texts (`DIM` floats each in `data`), without keys.
    #[cfg(test)]
    pub(crate) fn of_texts(texts: Vec<VectorText>, data: Vec<f32>) -> Vectors {
        assert_eq!(texts.len() * DIM, data.len());
        Vectors {
            generation: 0,
            model: String::new(),
            keys: vec![0; texts.len()],
            neighbours: neighbour_cosines(&texts, &data),
            texts,
            data,
        }
    }

    /// Returns how close `variant`'s titles and questions typically come to those of another
    /// article in the same variant (the median of each one's closest, over at most
    /// [`NEIGHBOUR_PROBES`] of them); `None` when fewer than [`NEIGHBOUR_GROUPS`] articles
    /// have titles or questions in it. Chinese scripts are measured apart: the same sentence
    /// in the other script has a cosine of 0.96 at the median (the shipped knowledge base's
    /// Chinese questions converted with OpenCC), so a question in one script sits lower
    /// against every text in the other than these do among themselves.
    pub fn neighbour_cosine(&self, variant: Variant) -> Option<f32> {
        self.neighbours[variant_index(variant)]
    }

    /// Returns the vectors by text key (the cache for the next generation).
    fn by_key(&self) -> FxHashMap<u128, &[f32]> {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, self.vector(i)))
            .collect()
    }

    /// Returns the vectors of `gen` (a generation under `root`): read from its `vectors.bin`
    /// when that was made with the same model and covers every text, else embedded and written
    /// there. Texts that `previous` or another generation's `vectors.bin` in `root` has (same
    /// model, same words) are not embedded again. Writing is best effort: a read-only index
    /// still serves.
    pub fn load_or_build(
        root: &Path,
        gen: &Generation,
        encoder: &Encoder,
        model: &str,
        previous: Option<&Vectors>,
    ) -> Result<(Vectors, VectorStats), VectorError> {
        Vectors::load_or_build_with(root, gen, encoder, model, previous, true)
    }

    /// Embeds the texts of `gen` that no `vectors.bin` in `root` has and writes its
    /// `vectors.bin` (best effort, as [`Vectors::load_or_build`]), for a command that only
    /// prepares the index: what a server measures at load ([`Vectors::neighbour_cosine`]) is
    /// not measured, and the stats' `neighbours` are all `None`.
    pub fn store(
        root: &Path,
        gen: &Generation,
        encoder: &Encoder,
        model: &str,
    ) -> Result<VectorStats, VectorError> {
        Vectors::load_or_build_with(root, gen, encoder, model, None, false).map(|(_, s)| s)
    }

    fn load_or_build_with(
        root: &Path,
        gen: &Generation,
        encoder: &Encoder,
        model: &str,
        previous: Option<&Vectors>,
        measure: bool,
    ) -> Result<(Vectors, VectorStats), VectorError> {
        let start = Instant::now();
        let texts = texts_of(gen);
        let dir = super::generation_dir(root, gen.meta.generation);
        let path = dir.join(FILE_NAME);
        let stored = read_file(&path, model).unwrap_or_default();
        let mut cache: FxHashMap<u128, &[f32]> = previous
            .filter(|p| p.model == model)
            .map(Vectors::by_key)
            .unwrap_or_default();
        let others: Vec<Vec<(u128, Vec<f32>)>> = std::fs::read_dir(root)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir() && *p != dir)
            .filter_map(|p| read_file(&p.join(FILE_NAME), model))
            .collect();
        for (k, v) in others.iter().flatten() {
            cache.insert(*k, v);
        }
        for (k, v) in &stored {
            cache.insert(*k, v);
        }
        let keys: Vec<u128> = texts.iter().map(|(_, role, t)| key(*role, t)).collect();
        let mut data = vec![0f32; texts.len() * DIM];
        let mut missing: Vec<usize> = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            match cache.get(k) {
                Some(v) => data[i * DIM..(i + 1) * DIM].copy_from_slice(v),
                None => missing.push(i),
            }
        }
        let from_file = missing.is_empty() && stored.len() == texts.len();
        for role in [Role::Query, Role::Passage] {
            let todo: Vec<usize> = missing
                .iter()
                .copied()
                .filter(|&i| texts[i].1 == role)
                .collect();
            for chunk in todo.chunks(256) {
                let batch: Vec<&str> = chunk.iter().map(|&i| texts[i].2).collect();
                for (&i, v) in chunk.iter().zip(encoder.embed(&batch, role)?) {
                    data[i * DIM..(i + 1) * DIM].copy_from_slice(&v);
                }
            }
        }
        let texts: Vec<VectorText> = texts.iter().map(|(t, _, _)| *t).collect();
        let vectors = Vectors {
            generation: gen.meta.generation,
            model: model.to_string(),
            neighbours: if measure {
                neighbour_cosines(&texts, &data)
            } else {
                [None; Variant::ALL.len()]
            },
            texts,
            keys,
            data,
        };
        if !from_file {
            if let Err(e) = vectors.write(&path) {
                tracing::warn!(error = %e, "vectors not saved; they will be embedded again next time");
            }
        }
        let stats = VectorStats {
            texts: vectors.texts.len(),
            embedded: missing.len(),
            reused: vectors.texts.len() - missing.len(),
            ms: start.elapsed().as_millis() as u64,
            from_file,
            neighbours: vectors.neighbours,
        };
        Ok((vectors, stats))
    }

    fn write(&self, path: &Path) -> Result<(), VectorError> {
        let err = |source| VectorError::Write {
            path: path.to_path_buf(),
            source,
        };
        let tmp = path.with_extension("bin.tmp");
        let f = std::fs::File::create(&tmp).map_err(err)?;
        let mut w = BufWriter::new(f);
        let mut put = |b: &[u8]| w.write_all(b);
        put(b"FQV1").map_err(err)?;
        put(&(DIM as u32).to_le_bytes()).map_err(err)?;
        put(&(self.model.len() as u32).to_le_bytes()).map_err(err)?;
        put(self.model.as_bytes()).map_err(err)?;
        put(&(self.keys.len() as u64).to_le_bytes()).map_err(err)?;
        for (i, k) in self.keys.iter().enumerate() {
            put(&k.to_le_bytes()).map_err(err)?;
            for x in self.vector(i) {
                put(&x.to_le_bytes()).map_err(err)?;
            }
        }
        let f = w.into_inner().map_err(|e| err(e.into_error()))?;
        f.sync_all().map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)?;
        Ok(())
    }
}

/// Fewest articles with titles or questions in a variant for [`Vectors::neighbour_cosine`].
pub const NEIGHBOUR_GROUPS: usize = 5;
/// Most titles and questions of a language whose closest other article is looked up for
/// [`Vectors::neighbour_cosine`] (evenly spaced): enough for a steady median, and a
/// knowledge base of 10,000 questions costs 2.6 million dot products once per generation.
pub const NEIGHBOUR_PROBES: usize = 256;
/// Two texts at least this close are the same words (a title several passages share): not
/// a neighbour.
const SAME_TEXT: f32 = 0.9999;

/// Returns the index of `variant` in [`Variant::ALL`].
pub fn variant_index(variant: Variant) -> usize {
    Variant::ALL
        .iter()
        .position(|&v| v == variant)
        .expect("every variant is in Variant::ALL")
}

/// Returns, per variant of [`Variant::ALL`], the median over (at most [`NEIGHBOUR_PROBES`]
/// of) its titles and questions of the cosine with the closest title or question of another
/// article in the same variant; `None` for a variant with fewer than [`NEIGHBOUR_GROUPS`]
/// such articles.
fn neighbour_cosines(texts: &[VectorText], data: &[f32]) -> [Option<f32>; Variant::ALL.len()] {
    let vector = |i: usize| &data[i * DIM..(i + 1) * DIM];
    Variant::ALL.map(|variant| {
        let of_lang: Vec<usize> = (0..texts.len())
            .filter(|&i| texts[i].kind != TextKind::Answer && texts[i].variant == variant)
            .collect();
        let mut groups: Vec<u32> = of_lang.iter().map(|&i| texts[i].group).collect();
        groups.sort_unstable();
        groups.dedup();
        if groups.len() < NEIGHBOUR_GROUPS {
            return None;
        }
        let step = of_lang.len().div_ceil(NEIGHBOUR_PROBES);
        let probes: Vec<usize> = of_lang.iter().copied().step_by(step).collect();
        let mut closest: Vec<f32> = probes
            .par_iter()
            .filter_map(|&p| {
                of_lang
                    .iter()
                    .filter(|&&j| texts[j].group != texts[p].group)
                    .map(|&j| crate::embed::dot(vector(p), vector(j)))
                    .filter(|&c| c < SAME_TEXT)
                    .max_by(f32::total_cmp)
            })
            .collect();
        if closest.is_empty() {
            return None;
        }
        closest.sort_unstable_by(f32::total_cmp);
        Some(closest[closest.len() / 2])
    })
}

/// Reads a vectors file made with `model`; `None` when absent, unreadable or of another model.
fn read_file(path: &Path, model: &str) -> Option<Vec<(u128, Vec<f32>)>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .read_to_end(&mut bytes)
        .ok()?;
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = bytes.get(at..at.checked_add(n)?)?;
        at += n;
        Some(s)
    };
    if take(4)? != b"FQV1" {
        return None;
    }
    let width = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
    let len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
    if width != DIM || take(len)? != model.as_bytes() {
        return None;
    }
    let count = u64::from_le_bytes(take(8)?.try_into().ok()?) as usize;
    let mut out = Vec::with_capacity(count.min(1 << 24));
    for _ in 0..count {
        let k = u128::from_le_bytes(take(16)?.try_into().ok()?);
        let v: Vec<f32> = take(DIM * 4)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        out.push((k, v));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vector of `DIM` floats with the given leading values (the rest 0).
    fn unit(leading: &[(usize, f32)]) -> Vec<f32> {
        let mut v = vec![0f32; DIM];
        for &(i, x) in leading {
            v[i] = x;
        }
        v
    }

    fn title(group: u32, variant: Variant) -> VectorText {
        VectorText {
            group,
            variant,
            kind: TextKind::Title,
        }
    }

    #[test]
    fn neighbours_are_the_median_closest_other_article_per_language() {
        // Five Korean titles sharing a component: title g is 0.9·e0 + √0.19·e(1+g), so any
        // two of them have a cosine of 0.81; group 5 repeats group 0's title word for word
        // (a shared title), which is no neighbour.
        let c = 0.19f32.sqrt();
        let mut texts = Vec::new();
        let mut data = Vec::new();
        for g in 0..5u32 {
            texts.push(title(g, Variant::Ko));
            data.extend(unit(&[(0, 0.9), (1 + g as usize, c)]));
        }
        texts.push(title(5, Variant::Ko));
        data.extend(unit(&[(0, 0.9), (1, c)]));
        // Answers do not count; English has four articles only, too few to measure.
        texts.push(VectorText {
            kind: TextKind::Answer,
            ..title(0, Variant::Ko)
        });
        data.extend(unit(&[(0, 1.0)]));
        for g in 0..4u32 {
            texts.push(title(g, Variant::En));
            data.extend(unit(&[(100 + g as usize, 1.0)]));
        }
        let v = Vectors::of_texts(texts, data);
        let ko = v
            .neighbour_cosine(Variant::Ko)
            .expect("five Korean articles");
        assert!((ko - 0.81).abs() < 1e-5, "{ko}");
        assert_eq!(v.neighbour_cosine(Variant::En), None);
        assert_eq!(v.neighbour_cosine(Variant::Zh), None);
    }
}
