//! Chinese analysis: full-width and compatibility forms folded (NFKC), Traditional folded to
//! Simplified for matching; jieba words (search mode), Han bigrams and single Han characters,
//! each in a field of its own.

use super::normalize::{
    bigrams as char_bigrams, is_han, is_word_char, normalize, runs, script_runs, text_of,
    unigrams as char_unigrams, NChar,
};
use super::Tok;
use aho_corasick::{AhoCorasick, MatchKind};
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
/// against `沒到帳`); and Taiwan words as the mainland's ([`TAIWAN_WORDS`]: `身分` as
/// `身份`, `網路` as `网络`). One character for one, so offsets hold.
pub fn fold_to_simplified(text: &str) -> String {
    static WORDS: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(TAIWAN_WORDS.iter().map(|(taiwan, _)| taiwan))
            .expect("the Taiwan words build an automaton")
    });
    let mut s = to_simplified(text);
    if s.contains('帐') {
        s = s.replace('帐', "账");
    }
    if WORDS.is_match(&s) {
        let mut out = String::with_capacity(s.len());
        WORDS.replace_all_with(&s, &mut out, |m, found, out| {
            // A whole word only (review: `投資訊息` is `投资` `讯息`, not `资讯`).
            out.push_str(if is_word_at(&s, m.range()) {
                TAIWAN_WORDS[m.pattern().as_usize()].1
            } else {
                found
            });
            true
        });
        s = out;
    }
    s
}

/// Returns true when `range` (a byte range of `text`, Chinese in either script) is a whole
/// word or words as jieba cuts the text around it: it begins and ends where jieba's words
/// do (`资讯` in `投资讯息`, `投资` / `讯息`, does not; `小数位数`'s `数位` neither).
pub fn is_word_at(text: &str, range: std::ops::Range<usize>) -> bool {
    // (`fold_to_simplified` calls this: the window is folded by characters only.)
    let Some((words, r)) = words_around(text, range, to_simplified) else {
        return false;
    };
    let starts = |at: usize| at == 0 || words.iter().any(|w| w.start == at);
    let ends = |at: usize| words.iter().any(|w| w.end == at);
    starts(r.start) && ends(r.end)
}

/// Returns jieba's words (character spans) over `range` (a byte range of `text`) and
/// [`WORD_CONTEXT`] characters either side, the window folded by `fold` (one character for
/// one), with `range` as characters of that window; `None` when `range` does not fall on
/// characters of `text`.
fn words_around(
    text: &str,
    range: std::ops::Range<usize>,
    fold: fn(&str) -> String,
) -> Option<(Vec<std::ops::Range<usize>>, std::ops::Range<usize>)> {
    let (inner, head, tail) = (
        text.get(range.clone())?,
        text.get(..range.start)?,
        text.get(range.end..)?,
    );
    let head: Vec<char> = head.chars().collect();
    let from = head.len().saturating_sub(WORD_CONTEXT);
    let window: String = head[from..]
        .iter()
        .copied()
        .chain(inner.chars())
        .chain(tail.chars().take(WORD_CONTEXT))
        .collect();
    let start = head.len() - from;
    let folded = fold(&window);
    let words = JIEBA.cut(&folded, false);
    Some((
        words.iter().map(|w| w.start..w.end).collect(),
        start..start + inner.chars().count(),
    ))
}

/// Taiwan words (in Simplified characters) matched as the mainland word of the same length
/// and meaning: a Simplified question and a Traditional article (or the reverse) say the
/// same thing in these words, which folding characters leaves apart.
pub(crate) const TAIWAN_WORDS: [(&str, &str); 17] = [
    ("身分", "身份"),
    ("纪录", "记录"),
    ("工作天", "工作日"),
    ("网路", "网络"),
    ("软体", "软件"),
    ("登入", "登录"),
    ("简讯", "短信"),
    ("位址", "地址"),
    ("金钥", "密钥"),
    ("数位", "数字"),
    ("储值", "充值"),
    ("影片", "视频"),
    ("档案", "文件"),
    ("资讯", "信息"),
    ("点选", "点击"),
    ("预设", "默认"),
    ("行动装置", "移动设备"),
];

/// Characters on each side of a highlight that [`highlight_words`] segments with it.
const WORD_CONTEXT: usize = 4;

/// Returns the highlight `run` (a byte range of `text`) of Chinese bigrams without the ends
/// of words it only partly covers, `None` when less than two characters are left: `认证` in
/// `请确认证件` (`确认` / `证件`) reads as a word the text does not say, and `认证件` becomes
/// `证件` (user trial). A run within one word, or not all Han, is kept as it is. Words are
/// jieba's, over the run and a few characters either side, with Traditional folded.
pub fn highlight_words(text: &str, run: std::ops::Range<usize>) -> Option<std::ops::Range<usize>> {
    let Some(inner) = text.get(run.clone()) else {
        return Some(run);
    };
    if inner.chars().count() < 2 || !inner.chars().all(is_han) {
        return Some(run);
    }
    let Some((words, window_run)) = words_around(text, run.clone(), fold_to_simplified) else {
        return Some(run);
    };
    let (rs, re) = (window_run.start, window_run.end);
    if words.iter().any(|w| w.start <= rs && re <= w.end) {
        return Some(run);
    }
    let mut keep = rs..re;
    for w in &words {
        if w.start < keep.start && keep.start < w.end {
            keep.start = w.end;
        }
        if w.start < keep.end && keep.end < w.end {
            keep.end = w.start;
        }
    }
    if keep.end < keep.start + 2 {
        return None;
    }
    // Back to bytes of `text`: `inner`'s characters from `keep.start - rs` on.
    let bytes = |at: usize| {
        inner
            .char_indices()
            .nth(at - rs)
            .map_or(run.end, |(i, _)| run.start + i)
    };
    Some(bytes(keep.start)..bytes(keep.end))
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
