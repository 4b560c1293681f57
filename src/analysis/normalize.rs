//! Character normalisation that keeps a map back to the original text, so tokens built from
//! normalised characters still carry offsets into what the user wrote.

use compact_str::ToCompactString;
use unicode_normalization::UnicodeNormalization;

/// A normalised character with the byte span of the original character it came from.
#[derive(Debug, Clone, Copy)]
pub struct NChar {
    pub c: char,
    pub from: usize,
    pub to: usize,
}

/// Returns `text` NFKC-normalised and lowercased, one entry per resulting character.
pub fn normalize(text: &str) -> Vec<NChar> {
    let mut out = Vec::with_capacity(text.len());
    for (from, orig) in text.char_indices() {
        let to = from + orig.len_utf8();
        fold_char(orig, |c| out.push(NChar { c, from, to }));
    }
    out
}

/// Passes `c` NFKC-normalised and lowercased to `emit`, one call per resulting character
/// (ASCII and [`is_stable`] characters skip both).
pub fn fold_char(c: char, mut emit: impl FnMut(char)) {
    if c.is_ascii() || is_stable(c) {
        emit(c.to_ascii_lowercase());
        return;
    }
    for n in std::iter::once(c).nfkc().flat_map(char::to_lowercase) {
        emit(n);
    }
}

/// Returns true for characters NFKC and lowercasing leave unchanged that are common enough to
/// skip both (Hangul syllables, CJK unified ideographs): indexing is dominated by them.
fn is_stable(c: char) -> bool {
    matches!(c as u32, 0xAC00..=0xD7A3 | 0x4E00..=0x9FFF)
}

/// Returns true for letters and digits of any script; the scripts faqd sees most are
/// checked first, before the general (slower) Unicode lookup.
pub fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || is_stable(c) || (!c.is_ascii() && c.is_alphanumeric())
}

/// Returns true for Hangul syllables and jamo.
pub fn is_hangul(c: char) -> bool {
    matches!(c as u32, 0xAC00..=0xD7A3 | 0x1100..=0x11FF | 0x3130..=0x318F | 0xA960..=0xA97F | 0xD7B0..=0xD7FF)
}

/// Returns true for CJK ideographs (Han characters).
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2EBEF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F | 0x3007)
}

/// Returns true for Hiragana and Katakana.
pub fn is_kana(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x309F | 0x30A0..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9D)
}

/// Splits normalised characters into maximal runs of characters for which `keep` holds.
pub fn runs<'a>(
    chars: &'a [NChar],
    keep: impl Fn(char) -> bool + 'a,
) -> impl Iterator<Item = &'a [NChar]> + 'a {
    chars
        .split(move |n| !keep(n.c))
        .filter(|run| !run.is_empty())
}

/// Splits a run of word characters where the script changes between Hangul, Han, kana and
/// everything else (Latin letters and digits), so `usdt출금` gives `usdt` and `출금`.
pub fn script_runs(run: &[NChar]) -> Vec<&[NChar]> {
    fn class(c: char) -> u8 {
        if is_hangul(c) {
            1
        } else if is_han(c) {
            2
        } else if is_kana(c) {
            3
        } else {
            0
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=run.len() {
        if i == run.len() || class(run[i].c) != class(run[start].c) {
            out.push(&run[start..i]);
            start = i;
        }
    }
    out
}

/// Returns the string of a slice of normalised characters.
pub fn text_of<S: FromIterator<char>>(chars: &[NChar]) -> S {
    chars.iter().map(|n| n.c).collect()
}

/// Returns character bigrams (or a unigram for a run of one) over `chars`, each with the span
/// from its first to its last original character.
pub fn bigrams(chars: &[NChar], out: &mut Vec<super::Tok>) {
    if chars.len() == 1 {
        out.push(super::Tok {
            text: chars[0].c.to_compact_string(),
            from: chars[0].from,
            to: chars[0].to,
        });
        return;
    }
    for w in chars.windows(2) {
        out.push(super::Tok {
            text: [w[0].c, w[1].c].into_iter().collect(),
            from: w[0].from,
            to: w[1].to,
        });
    }
}

/// Returns each character of `chars` as a token.
pub fn unigrams(chars: &[NChar], out: &mut Vec<super::Tok>) {
    out.extend(chars.iter().map(|n| super::Tok {
        text: n.c.to_compact_string(),
        from: n.from,
        to: n.to,
    }));
}
