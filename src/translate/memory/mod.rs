//! Translation memory for agent replies: approved source texts with their approved
//! translations, looked up by character-level fuzzy match, as translation tools do.
//!
//! - An *entry* is one approved pair: a source segment in one language and its translation
//!   in another, with its origin (`reply:<id>` or `faq:<article id>`). Aligned texts in
//!   several languages give an entry for every ordered pair of their languages.
//! - Segments (distinct normalised sources per language tag) are indexed by character
//!   bigrams. A lookup counts shared bigrams, keeps the [`CANDIDATES`] segments with the best
//!   Dice overlap, then computes the exact Levenshtein distance (rapidfuzz, bit-parallel) on
//!   those, skipping a candidate when its length difference alone rules out beating the best
//!   so far, and bounding the distance computation by the best so far.
//! - The match percentage is `100 * (1 - distance / length of the longer)` over the
//!   normalised texts ([`text::normalize`]); below [`DEFAULT_THRESHOLD`] there is no match.
//!
//! [`sources`] builds the memory of a generation (FAQ answers aligned by group, titles,
//! canned replies); [`PerGeneration`] keeps one memory per served generation.

mod sources;
pub mod text;

pub use sources::{
    for_generation, from_sources, parse_aligned, parse_replies, Aligned, PerGeneration,
    SHIPPED_REPLIES,
};

use crate::lang::{Lang, Variant};
use rapidfuzz::distance::levenshtein;
use std::collections::HashMap;

/// Match percentage below which a lookup answers "no match".
pub const DEFAULT_THRESHOLD: f64 = 75.0;
/// Segments compared exactly per lookup (best bigram overlap first).
pub const CANDIDATES: usize = 32;

/// One approved translation of a segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    /// Its language tag.
    pub variant: Variant,
    /// The approved text.
    pub text: String,
    /// Where the pair comes from: `reply:<id>`, `faq:<article id>` ...
    pub origin: String,
}

/// A source text in the memory with its translations.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Its language tag.
    pub variant: Variant,
    /// The text as approved.
    pub text: String,
    norm: Vec<char>,
    grams: u32,
    translations: Vec<Translation>,
}

impl Segment {
    /// Returns the translation into `target`; a `zh-Hant` target takes the Simplified one
    /// when there is no Traditional one, a `zh` target only a Simplified one.
    pub fn translation(&self, target: Variant) -> Option<&Translation> {
        self.translations
            .iter()
            .find(|t| t.variant == target)
            .or_else(|| {
                (target == Variant::ZhHant)
                    .then(|| self.translations.iter().find(|t| t.variant == Variant::Zh))
                    .flatten()
            })
    }
}

/// The best entry found for a text.
#[derive(Debug, Clone, Copy)]
pub struct Lookup<'a> {
    /// The matched source segment.
    pub segment: &'a Segment,
    /// Its translation into the target language.
    pub translation: &'a Translation,
    /// Fuzzy match percentage, 0 to 100.
    pub percent: f64,
}

/// Collects entries; [`MemoryBuilder::build`] indexes them.
#[derive(Debug, Default)]
pub struct MemoryBuilder {
    segments: Vec<Segment>,
    by_key: HashMap<(Variant, Vec<char>), usize>,
}

impl MemoryBuilder {
    /// Adds one entry. A source already present (same tag, same normalised text) keeps its
    /// first translation per target tag: the first approved text wins.
    pub fn add(&mut self, source: (Variant, &str), target: (Variant, &str), origin: &str) {
        let (sv, st) = source;
        let (tv, tt) = target;
        let norm = text::normalize(st, sv.lang());
        if norm.is_empty() || tt.trim().is_empty() || sv == tv {
            return;
        }
        let i = *self.by_key.entry((sv, norm.clone())).or_insert_with(|| {
            self.segments.push(Segment {
                variant: sv,
                text: st.trim().to_string(),
                grams: 0,
                norm,
                translations: Vec::new(),
            });
            self.segments.len() - 1
        });
        let seg = &mut self.segments[i];
        if !seg.translations.iter().any(|t| t.variant == tv) {
            seg.translations.push(Translation {
                variant: tv,
                text: tt.trim().to_string(),
                origin: origin.to_string(),
            });
        }
    }

    /// Adds an entry for every ordered pair of the aligned texts.
    pub fn add_aligned(&mut self, texts: &[(Variant, &str)], origin: &str) {
        for &a in texts {
            for &b in texts {
                if a.0 != b.0 {
                    self.add(a, b, origin);
                }
            }
        }
    }

    /// Indexes the entries.
    pub fn build(mut self) -> Memory {
        let mut postings: HashMap<u64, Vec<u32>> = HashMap::new();
        for (i, seg) in self.segments.iter_mut().enumerate() {
            let grams = bigrams(&seg.norm, seg.variant.lang());
            seg.grams = grams.len() as u32;
            for g in grams {
                postings.entry(g).or_default().push(i as u32);
            }
        }
        let entries = self.segments.iter().map(|s| s.translations.len()).sum();
        Memory {
            segments: self.segments,
            postings,
            entries,
        }
    }
}

/// Distinct character bigrams of a normalised text (the character itself for a text of
/// one), as integer keys that include the language, so a lookup only walks postings of
/// segments in its own language.
fn bigrams(norm: &[char], lang: Lang) -> Vec<u64> {
    let lang = (lang as u64) << 60;
    let mut g: Vec<u64> = if norm.len() == 1 {
        vec![lang | u64::from(norm[0])]
    } else {
        norm.windows(2)
            .map(|w| lang | (u64::from(w[0]) << 30) | u64::from(w[1]))
            .collect()
    };
    g.sort_unstable();
    g.dedup();
    g
}

/// An indexed translation memory.
#[derive(Debug, Default)]
pub struct Memory {
    segments: Vec<Segment>,
    postings: HashMap<u64, Vec<u32>>,
    entries: usize,
}

impl Memory {
    /// Returns the number of entries (source → target pairs).
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Returns the number of indexed source segments.
    pub fn segments(&self) -> usize {
        self.segments.len()
    }

    /// Returns the entry whose source (in `source`'s language) is closest to `text` and that
    /// has a translation into `target`, with its match percentage, whatever the threshold;
    /// `None` when no segment shares a character bigram with the text. Ties keep the
    /// candidate with the larger bigram overlap.
    pub fn lookup(&self, text: &str, source: Lang, target: Variant) -> Option<Lookup<'_>> {
        let q = text::normalize(text, source);
        if q.is_empty() {
            return None;
        }
        let qgrams = bigrams(&q, source);
        let mut shared = vec![0u32; self.segments.len()];
        let mut touched: Vec<u32> = Vec::new();
        for g in &qgrams {
            for &s in self.postings.get(g).map_or(&[][..], Vec::as_slice) {
                let n = &mut shared[s as usize];
                if *n == 0 {
                    touched.push(s);
                }
                *n += 1;
            }
        }
        let mut candidates: Vec<(f64, u32)> = touched
            .into_iter()
            .filter(|&s| self.segments[s as usize].translation(target).is_some())
            .map(|s| {
                let seg = &self.segments[s as usize];
                let n = f64::from(shared[s as usize]);
                let dice = 2.0 * n / (qgrams.len() as f64 + f64::from(seg.grams));
                (dice, s)
            })
            .collect();
        let by_overlap = |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if candidates.len() > CANDIDATES {
            candidates.select_nth_unstable_by(CANDIDATES - 1, by_overlap);
            candidates.truncate(CANDIDATES);
        }
        candidates.sort_unstable_by(by_overlap);
        let scorer = levenshtein::BatchComparator::new(q.iter().copied());
        let mut best: Option<(f64, u32)> = None;
        for (_, s) in candidates {
            let seg = &self.segments[s as usize];
            let longer = q.len().max(seg.norm.len());
            // The largest distance that still beats the best percentage so far.
            let limit = match best {
                None => longer,
                Some((pct, _)) => {
                    let d = (longer as f64 * (1.0 - pct / 100.0)).ceil() as usize;
                    if d == 0 {
                        break;
                    }
                    d - 1
                }
            };
            if q.len().abs_diff(seg.norm.len()) > limit {
                continue;
            }
            let args = levenshtein::Args::default().score_cutoff(limit);
            if let Some(d) = scorer.distance_with_args(seg.norm.iter().copied(), &args) {
                let pct = text::percent(d, q.len(), seg.norm.len());
                if best.is_none_or(|(b, _)| pct > b) {
                    best = Some((pct, s));
                }
            }
        }
        best.map(|(percent, s)| {
            let segment = &self.segments[s as usize];
            Lookup {
                segment,
                translation: segment.translation(target).expect("filtered on target"),
                percent,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Memory {
        let mut b = MemoryBuilder::default();
        b.add_aligned(
            &[
                (Variant::Ko, "비밀번호를 재설정해 주세요."),
                (Variant::En, "Please reset your password."),
                (Variant::Zh, "请重置您的密码。"),
            ],
            "reply:reset",
        );
        b.add_aligned(
            &[
                (Variant::Ko, "출금이 완료되었습니다."),
                (Variant::En, "Your withdrawal is complete."),
                (Variant::ZhHant, "您的提幣已完成。"),
            ],
            "reply:done",
        );
        b.build()
    }

    #[test]
    fn counts_entries_and_segments() {
        let m = memory();
        assert_eq!(m.segments(), 6);
        assert_eq!(m.entries(), 12);
    }

    #[test]
    fn exact_match_after_normalisation_is_100() {
        let m = memory();
        let l = m
            .lookup("please  RESET your password", Lang::En, Variant::Ko)
            .unwrap();
        assert_eq!(l.percent, 100.0);
        assert_eq!(l.translation.text, "비밀번호를 재설정해 주세요.");
        assert_eq!(l.translation.origin, "reply:reset");
        assert_eq!(l.segment.text, "Please reset your password.");
    }

    #[test]
    fn a_typo_lowers_the_percentage_by_the_edit_distance() {
        let m = memory();
        let l = m
            .lookup("Please reset you password.", Lang::En, Variant::Zh)
            .unwrap();
        // "please reset your password" has 26 characters; one deletion.
        assert!(
            (l.percent - 100.0 * (1.0 - 1.0 / 26.0)).abs() < 1e-9,
            "{}",
            l.percent
        );
        assert_eq!(l.translation.text, "请重置您的密码。");
    }

    #[test]
    fn chinese_targets_follow_the_script_and_sources_fold_traditional() {
        let m = memory();
        // Only a zh-Hant translation exists: a zh (Simplified) target gets nothing from it.
        let l = m.lookup("출금이 완료되었습니다", Lang::Ko, Variant::Zh);
        assert!(l.is_none_or(|l| l.translation.origin != "reply:done"));
        let l = m
            .lookup("출금이 완료되었습니다", Lang::Ko, Variant::ZhHant)
            .unwrap();
        assert_eq!(l.translation.text, "您的提幣已完成。");
        // A zh-Hant target falls back to the Simplified translation.
        let l = m
            .lookup("Please reset your password", Lang::En, Variant::ZhHant)
            .unwrap();
        assert_eq!(l.translation.text, "请重置您的密码。");
        // Traditional input matches the Simplified source.
        let l = m.lookup("請重置您的密碼", Lang::Zh, Variant::En).unwrap();
        assert_eq!(l.percent, 100.0);
    }

    #[test]
    fn unrelated_text_finds_nothing_or_a_low_percentage() {
        let m = memory();
        assert!(m.lookup("xyz", Lang::En, Variant::Ko).is_none());
        let l = m.lookup("The weather is nice today", Lang::En, Variant::Ko);
        assert!(l.is_none_or(|l| l.percent < DEFAULT_THRESHOLD));
        assert!(m.lookup("...", Lang::En, Variant::Ko).is_none());
    }
}
