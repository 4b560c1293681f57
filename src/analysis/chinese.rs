//! Chinese analysis: full-width and compatibility forms folded (NFKC), Traditional folded to
//! Simplified for matching; jieba words (search mode), Han bigrams and single Han characters,
//! each in a field of its own.

use super::normalize::{
    bigrams as char_bigrams, is_han, is_word_char, normalize, runs, script_runs, text_of,
    unigrams as char_unigrams, NChar,
};
use super::Tok;
use jieba_rs::{Jieba, TokenizeMode};
use std::sync::LazyLock;

static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Returns the text with Traditional characters folded to Simplified.
pub fn to_simplified(text: &str) -> String {
    fast2s::convert(text)
}

/// Returns the text as matching compares it: Traditional folded to Simplified
/// ([`to_simplified`]), and `帐` folded with `账`. Traditional `帳` becomes `帐`, while
/// mainland text writes account words with `账` (`账户`, `到账`): without it a Simplified
/// question about an account missed a Traditional article (user trial: `充币一直没到账`
/// against `沒到帳`). One character for one, so offsets hold.
pub fn fold_to_simplified(text: &str) -> String {
    let mut s = to_simplified(text);
    if s.contains('帐') {
        s = s.replace('帐', "账");
    }
    s
}

/// Characters on each side of a highlight that [`splits_words`] segments with it.
const WORD_CONTEXT: usize = 4;

/// Returns true when the Han characters `run` (a byte range of `text`) hold no whole word
/// and lie in no one word, but join the ends of two: `认证` in `请确认证件` (`确认` / `证件`),
/// a highlight of bigrams that reads as a word the text does not say (user trial). Words are
/// jieba's, over the run and a few characters either side, with Traditional folded.
pub fn splits_words(text: &str, run: std::ops::Range<usize>) -> bool {
    let (Some(inner), Some(head)) = (text.get(run.clone()), text.get(..run.start)) else {
        return false;
    };
    if inner.chars().count() < 2 || !inner.chars().all(is_han) {
        return false;
    }
    let before: Vec<usize> = head.char_indices().map(|(i, _)| i).collect();
    let from = before.len().saturating_sub(WORD_CONTEXT);
    let start = before.get(from).copied().unwrap_or(run.start);
    let end = text[run.end..]
        .char_indices()
        .nth(WORD_CONTEXT)
        .map_or(text.len(), |(i, _)| run.end + i);
    let window = fold_to_simplified(&text[start..end]);
    // Char offsets within the window (folding keeps one character for one).
    let (rs, re) = (
        before.len() - from,
        before.len() - from + inner.chars().count(),
    );
    !JIEBA
        .cut(&window, false)
        .iter()
        .any(|w| (rs <= w.start && w.end <= re) || (w.start <= rs && re <= w.end))
}

/// Returns true when the text contains Traditional-only characters.
pub fn is_traditional(text: &str) -> bool {
    to_simplified(text) != text
}

/// Returns normalised characters with Traditional folded to Simplified, keeping offsets
/// (the folding maps one character to one character).
fn fold(text: &str) -> Vec<NChar> {
    let mut chars = normalize(text);
    let plain: String = chars.iter().map(|n| n.c).collect();
    let simple = fold_to_simplified(&plain);
    if simple != plain {
        for (n, c) in chars.iter_mut().zip(simple.chars()) {
            n.c = c;
        }
    }
    chars
}

/// Returns true when jieba's dictionary tags `word`, as one word, with a closed word class:
/// pronoun (r), adverb (d), numeral (m), preposition (p), conjunction (c), particle (u..., y),
/// interjection or onomatopoeia (e, o). The NLTK Chinese stop-word list also holds content
/// words a support question turns on (限制, 安全, 需要, tagged v, an, v), which this leaves out.
pub fn is_closed_class(word: &str) -> bool {
    match JIEBA.tag(word, false).as_slice() {
        [t] => {
            t.word == word
                && matches!(
                    t.tag.chars().next(),
                    Some('r' | 'd' | 'm' | 'p' | 'c' | 'u' | 'y' | 'e' | 'o')
                )
        }
        _ => false,
    }
}

/// Forces the jieba dictionary to load, so the first query does not pay for it.
pub fn warm_up() {
    LazyLock::force(&JIEBA);
}

/// Returns jieba words (search mode) of Han runs, plus Latin words and numbers.
pub fn words(text: &str) -> Vec<Tok> {
    words_of(&fold(text))
}

fn words_of(chars: &[NChar]) -> Vec<Tok> {
    let mut out = Vec::new();
    for run in runs(chars, is_word_char) {
        for part in script_runs(run) {
            if !is_han(part[0].c) {
                out.push(Tok {
                    text: text_of(part),
                    from: part[0].from,
                    to: part[part.len() - 1].to,
                });
                continue;
            }
            let sentence: String = text_of(part);
            for t in JIEBA.tokenize(&sentence, TokenizeMode::Search, true) {
                out.push(Tok {
                    text: t.word.into(),
                    from: part[t.start].from,
                    to: part[t.end - 1].to,
                });
            }
        }
    }
    out
}

/// Returns the Han bigrams of [`all`] alone (no jieba: highlighting needs only them).
pub fn bigrams(text: &str) -> Vec<Tok> {
    let chars = fold(text);
    let mut bi = Vec::new();
    for run in runs(&chars, is_han) {
        char_bigrams(run, &mut bi);
    }
    bi
}

/// Returns [`words`], Han bigrams within runs of Han characters (a lone character gives a
/// unigram) and single Han characters, folding the text once.
pub fn all(text: &str) -> [Vec<Tok>; 3] {
    let chars = fold(text);
    let (mut bi, mut uni) = (Vec::new(), Vec::new());
    for run in runs(&chars, is_han) {
        char_bigrams(run, &mut bi);
        char_unigrams(run, &mut uni);
    }
    [words_of(&chars), bi, uni]
}
