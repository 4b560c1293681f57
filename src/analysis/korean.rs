//! Korean analysis without a dictionary: Hangul character bigrams that ignore spacing, plus
//! word forms with common particles and verb endings stripped. Latin words and digits inside
//! Korean text are kept, lowercased.

use super::normalize::{bigrams as char_bigrams, is_hangul, normalize, runs, script_runs, text_of};
use super::Tok;

/// Suffixes removed from a Hangul word, longest first. Multi-syllable endings may leave a
/// one-syllable stem; one-syllable particles need a stem of two syllables, so nouns such as
/// `평가` or `문의` are left alone.
const SUFFIXES: &[&str] = &[
    // verb endings on 하다 / 되다 nouns (출금하려면, 처리되었습니다 ...)
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
    "안돼요",
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
    // particles and copula
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

/// Returns a Hangul word with one trailing particle or ending removed (longest match).
pub fn strip_particles(word: &str) -> &str {
    let len = word.chars().count();
    for suffix in SUFFIXES {
        let slen = suffix.chars().count();
        let min_stem = if slen == 1 { 2 } else { 1 };
        if len >= slen + min_stem && word.ends_with(suffix) {
            return &word[..word.len() - suffix.len()];
        }
    }
    word
}

/// Returns word tokens: Hangul words with particles stripped, Latin words and numbers.
pub fn words(text: &str) -> Vec<Tok> {
    let chars = normalize(text);
    let mut out = Vec::new();
    for run in runs(&chars, char::is_alphanumeric) {
        for part in script_runs(run) {
            let word = text_of(part);
            let (from, to) = (part[0].from, part[part.len() - 1].to);
            let text = if is_hangul(part[0].c) {
                strip_particles(&word).to_string()
            } else {
                word
            };
            out.push(Tok { text, from, to });
        }
    }
    out
}

/// Returns Hangul bigrams. Runs are joined across whitespace, so `비밀번호재설정` and
/// `비밀번호 재설정` give the same bigrams; any other character breaks a run.
pub fn bigrams(text: &str) -> Vec<Tok> {
    let chars: Vec<_> = normalize(text)
        .into_iter()
        .filter(|n| !n.c.is_whitespace())
        .collect();
    let mut out = Vec::new();
    for run in runs(&chars, is_hangul) {
        char_bigrams(run, &mut out);
    }
    out
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
}
