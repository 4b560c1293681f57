//! Text handling of the translation memory: the normalisation fuzzy matching runs on, the
//! match percentage, and sentence splitting for aligning FAQ answers.

use crate::lang::Lang;

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
    fn percent_is_one_minus_distance_over_the_longer() {
        assert_eq!(percent(0, 10, 10), 100.0);
        assert_eq!(percent(1, 10, 9), 90.0);
        assert_eq!(percent(4, 4, 2), 0.0);
        assert_eq!(percent(0, 0, 0), 100.0);
    }
}
