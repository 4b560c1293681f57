//! Korean analysis without a dictionary: Hangul character bigrams that ignore spacing, plus
//! word forms with common particles and verb endings stripped. Latin words and digits inside
//! Korean text are kept, lowercased.

use super::normalize::{
    bigrams as char_bigrams, is_hangul, is_word_char, normalize, script_runs, text_of,
    unigrams as char_unigrams, NChar,
};
use super::Tok;

/// Endings of 하다 / 되다 verbs, longest first: stripped from a noun they follow
/// (`출금하려면` → `출금`), and function words when they stand alone (`출금을 하고 싶어요`).
const VERB_ENDINGS: &[&str] = &[
    "되었습니다",
    "하였습니다",
    "해주세요",
    "되었어요",
    "했습니다",
    "했는데요",
    "하려는데",
    "하려고요",
    "하려면",
    "하는데",
    "했는데",
    "했어요",
    "합니다",
    "하나요",
    "할까요",
    "하세요",
    "하는지",
    "되나요",
    "됐어요",
    "됐는데",
    "되는데",
    "된대요",
    "습니다",
    "습니까",
    "해야",
    "하면",
    "하고",
    "하는",
    "하기",
    "해요",
    "해서",
    "했다",
    "하다",
    "하죠",
    "되어",
    "되면",
    "되는",
    "되지",
    "되고",
    "돼요",
    "되요",
    "돼서",
    "됐다",
    "되다",
    "인가요",
    "일까요",
];

/// Particles, copula and sentence endings, longest first.
const PARTICLES: &[&str] = &[
    "안돼요",
    "에서는",
    "으로는",
    "에게서",
    "까지는",
    "부터는",
    "이라도",
    "이에요",
    "입니다",
    "에서",
    "에게",
    "한테",
    "으로",
    "까지",
    "부터",
    "보다",
    "처럼",
    "마다",
    "이나",
    "이랑",
    "에는",
    "에도",
    "로는",
    "과는",
    "와는",
    "예요",
    "이다",
    "나요",
    "까요",
    "어요",
    "아요",
    "지요",
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "의",
    "에",
    "도",
    "만",
    "로",
    "와",
    "과",
    "랑",
    "요",
    "죠",
];

/// Returns a Hangul word with one trailing particle or ending removed (verb endings first,
/// then particles; longest match within each). Multi-syllable endings may leave a
/// one-syllable stem; one-syllable particles need a stem of two syllables, so nouns such as
/// `평가` or `문의` are left alone.
pub fn strip_particles(word: &str) -> &str {
    let len = word.chars().count();
    // The last byte first: a cheap test that rules out nearly every suffix.
    let last = word.as_bytes().last();
    let suffixes = VERB_ENDINGS.iter().chain(PARTICLES);
    for suffix in suffixes.filter(|s| s.as_bytes().last() == last && word.ends_with(*s)) {
        let slen = suffix.chars().count();
        let min_stem = if slen == 1 { 2 } else { 1 };
        if len >= slen + min_stem {
            return &word[..word.len() - suffix.len()];
        }
    }
    word
}

/// Word stems that carry no topic once endings are stripped: auxiliary verbs and fillers
/// (`싶어요`, `하고`, `좀` ...). They are left out of both words and bigrams, so `출금하고
/// 싶어요` is about `출금`, not about every entry that ends in `하고 싶어요`. Compared with a
/// whole word once one ending is stripped (`법` drops `하는 법`, not `법인`). A change here
/// changes how articles are indexed: bump `INDEX_FORMAT` (src/index/generation.rs).
const FUNCTION_STEMS: &[&str] = &[
    "싶",
    "싶어",
    "싶은",
    "하",
    "해",
    "했",
    "할",
    "한",
    "함",
    "되",
    "돼",
    "된",
    "될",
    "있",
    "있어",
    "있나",
    "좀",
    "주세",
    "주",
    "요",
    "저",
    "제가",
    "내",
    "나",
    "그",
    "이",
    "그리고",
    "근데",
    "어떻게",
    "어떡",
    // Requests: how the question is asked, not what it asks about (`김치찌개 끓이는 방법
    // 알려주세요` shares them with `출금 방법` and every entry phrased as a request).
    "방법",
    "법",
    "알려",
    "알려주세",
    "알려주시",
    "알려주시겠",
    "알려줘",
    "알려줄래",
    "가르쳐",
    "가르쳐주세",
    "가르쳐줘",
    "줘",
    "궁금",
    "궁금해",
    "궁금한",
    "부탁",
    "부탁해",
    "부탁드립니다",
    "부탁드려",
];

/// One Hangul or Latin word of the text, with its stem.
struct Word<'a> {
    chars: &'a [NChar],
    stem_len: usize,
    hangul: bool,
    /// Only whitespace separates it from the previous word.
    joined: bool,
}

fn split_words(chars: &[NChar]) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut prev_end: Option<usize> = None;
    let mut i = 0;
    while i < chars.len() {
        if !is_word_char(chars[i].c) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_word_char(chars[i].c) {
            i += 1;
        }
        let mut offset = start;
        for part in script_runs(&chars[start..i]) {
            let joined =
                prev_end.is_some_and(|e| chars[e..offset].iter().all(|n| n.c.is_whitespace()));
            let hangul = is_hangul(part[0].c);
            let stem_len = if hangul {
                let word: String = text_of(part);
                let stem = strip_particles(&word);
                if FUNCTION_STEMS.contains(&stem) || VERB_ENDINGS.contains(&word.as_str()) {
                    0
                } else {
                    stem.chars().count()
                }
            } else {
                part.len()
            };
            out.push(Word {
                chars: part,
                stem_len,
                hangul,
                joined,
            });
            offset += part.len();
            prev_end = Some(offset);
        }
    }
    out
}

/// Returns word tokens: Hangul words with particles stripped (function words dropped), Latin
/// words and numbers.
pub fn words(text: &str) -> Vec<Tok> {
    words_of(&split_words(&normalize(text)))
}

fn words_of(words: &[Word]) -> Vec<Tok> {
    words
        .iter()
        .filter(|w| w.stem_len > 0)
        .map(|w| Tok {
            text: text_of(&w.chars[..w.stem_len]),
            from: w.chars[0].from,
            to: w.chars[w.stem_len - 1].to,
        })
        .collect()
}

/// Returns the runs of Hangul word stems the character analyses work on: stems are joined
/// across whitespace, so `비밀번호재설정` and `비밀번호 재설정` give the same run; particles,
/// endings and function words are left out; any other character ends a run.
fn stem_runs(words: &[Word]) -> Vec<Vec<NChar>> {
    let mut runs = Vec::new();
    let mut run: Vec<NChar> = Vec::new();
    for w in words {
        if (!w.hangul || !w.joined) && !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
        if w.hangul {
            run.extend_from_slice(&w.chars[..w.stem_len]);
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// Returns the Hangul bigrams of [`all`] alone (highlighting needs only them).
pub fn bigrams(text: &str) -> Vec<Tok> {
    let chars = normalize(text);
    let mut bi = Vec::new();
    for run in stem_runs(&split_words(&chars)) {
        char_bigrams(&run, &mut bi);
    }
    bi
}

/// Returns [`words`], the character bigrams of the Hangul stem runs (a run of one syllable
/// gives it alone) and their single syllables, normalising and splitting the text once.
pub fn all(text: &str) -> [Vec<Tok>; 3] {
    let chars = normalize(text);
    let words = split_words(&chars);
    let (mut bi, mut uni) = (Vec::new(), Vec::new());
    for run in stem_runs(&words) {
        char_bigrams(&run, &mut bi);
        char_unigrams(&run, &mut uni);
    }
    [words_of(&words), bi, uni]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_particles_and_endings() {
        for (word, stem) in [
            ("출금이", "출금"),
            ("출금을", "출금"),
            ("출금은", "출금"),
            ("출금하려면", "출금"),
            ("비트코인이", "비트코인"),
            ("거래소에서는", "거래소"),
            ("평가", "평가"),
            ("문의", "문의"),
            ("돈을", "돈을"),
        ] {
            assert_eq!(strip_particles(word), stem, "{word}");
        }
    }

    #[test]
    fn request_words_are_not_about_anything() {
        let texts = |toks: Vec<Tok>| toks.into_iter().map(|t| t.text).collect::<Vec<_>>();
        for (text, want) in [
            (
                "김치찌개 맛있게 끓이는 방법 알려주세요",
                vec!["김치찌개", "맛있게", "끓이"],
            ),
            ("출금 방법 좀 알려줘", vec!["출금"]),
            ("입금하는 법 알려 주세요", vec!["입금"]),
            ("스테이킹이 궁금해요", vec!["스테이킹"]),
            ("스테이킹 궁금해", vec!["스테이킹"]),
            ("수수료 좀 알려 줘", vec!["수수료"]),
            ("출금 한도 알려주시겠어요", vec!["출금", "한도"]),
            ("입금 주소 가르쳐줘요", vec!["입금", "주소"]),
            ("확인 부탁해", vec!["확인"]),
            // A word that only starts like one is kept.
            ("법인 계좌 입금", vec!["법인", "계좌", "입금"]),
        ] {
            assert_eq!(texts(words(text)), want, "{text}");
        }
        // Nor do they make bigrams: the analyses see only the topic's characters.
        let [_, bigrams, _] = all("출금 방법 알려주세요");
        assert_eq!(texts(bigrams), vec!["출금"]);
    }
}
