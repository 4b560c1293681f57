//! Text handling of the translation memory: the normalisation fuzzy matching runs on, the
//! match percentage, and the sentence segmentation of replies, answers and agents' texts.

use crate::lang::Lang;
use unicode_segmentation::UnicodeSegmentation;

/// Returns the sentences of a text, as translation tools segment it: Unicode sentence
/// boundaries (UAX #29: `.?!` before a space and a capital or another script, `。？！` and
/// their full-width forms, line breaks), trimmed. A piece without a letter or digit (`...`,
/// an emoticon) stays with the sentence before it.
pub fn segments(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    for (at, piece) in text.split_sentence_bound_indices() {
        let has_word = piece.chars().any(char::is_alphanumeric);
        match start {
            Some(s) if has_word => {
                out.push(text[s..end].trim());
                start = Some(at);
            }
            None => start = Some(at),
            Some(_) => {}
        }
        end = at + piece.len();
    }
    if let Some(s) = start {
        out.push(text[s..end].trim());
    }
    out.retain(|s| !s.is_empty());
    out
}

/// Returns what goes between the sentences of a text in `lang` when they are joined:
/// nothing in Chinese, a space elsewhere.
pub fn joiner(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "",
        _ => " ",
    }
}

/// Returns the characters a match is computed on: NFKC, lowercase, Chinese folded to
/// Simplified, punctuation and symbols removed (anything that is not a letter, digit or
/// space), runs of whitespace collapsed to one space, no leading or trailing space.
pub fn normalize(text: &str, lang: Lang) -> Vec<char> {
    let chars = crate::translate::fold(text, lang);
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut space = false;
    for c in chars.into_iter().map(|f| f.c) {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else if c.is_alphanumeric() {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Returns the fuzzy match percentage of two normalised texts with edit distance
/// `distance`: `100 * (1 - distance / length of the longer)`; 100 for two empty texts.
pub fn percent(distance: usize, a_len: usize, b_len: usize) -> f64 {
    let longer = a_len.max(b_len);
    if longer == 0 {
        return 100.0;
    }
    100.0 * (1.0 - distance as f64 / longer as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(text: &str, lang: Lang) -> String {
        normalize(text, lang).into_iter().collect()
    }

    #[test]
    fn normalises_case_width_spaces_punctuation_and_script() {
        assert_eq!(norm("  Hello,   World!! ", Lang::En), "hello world");
        assert_eq!(norm("ＵＩＤ를 알려 주세요.", Lang::Ko), "uid를 알려 주세요");
        assert_eq!(norm("請提供您的UID。", Lang::Zh), "请提供您的uid");
        assert_eq!(norm("?!", Lang::En), "");
    }

    #[test]
    fn segments_follow_korean_chinese_and_english_sentence_ends() {
        assert_eq!(
            segments("UID를 알려 주시겠어요? UID는 [마이페이지] 상단에서 확인할 수 있습니다."),
            [
                "UID를 알려 주시겠어요?",
                "UID는 [마이페이지] 상단에서 확인할 수 있습니다."
            ]
        );
        assert_eq!(
            segments("请提供您的UID。UID可在【我的页面】顶部查看！好吗？"),
            ["请提供您的UID。", "UID可在【我的页面】顶部查看！", "好吗？"]
        );
        assert_eq!(
            segments("Fees are 0.5% (e.g. for BTC). Really?! Yes...\nDone"),
            [
                "Fees are 0.5% (e.g. for BTC).",
                "Really?!",
                "Yes...",
                "Done"
            ]
        );
        // Pieces without words stay with their sentence; version numbers are not ends.
        assert_eq!(segments("It is v2.0. Thanks!"), ["It is v2.0.", "Thanks!"]);
        assert_eq!(segments("Thanks! :)"), ["Thanks! :)"]);
        assert!(segments("  \n ").is_empty());
        assert_eq!(segments("..."), ["..."]);
    }

    #[test]
    fn percent_is_one_minus_distance_over_the_longer() {
        assert_eq!(percent(0, 10, 10), 100.0);
        assert_eq!(percent(1, 10, 9), 90.0);
        assert_eq!(percent(4, 4, 2), 0.0);
        assert_eq!(percent(0, 0, 0), 100.0);
    }
}
