//! Per-language text analysis, shared by indexing (as tantivy tokenizers) and by query
//! building (called directly, so a query is never parsed as query syntax).
//!
//! Each language has a *word* analyzer and, for Korean and Chinese, a *bigram* analyzer that
//! feed separate index fields, so each can be weighed on its own.

mod chinese;
mod english;
mod korean;
mod normalize;

use crate::lang::Lang;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer, TokenizerManager};

pub use chinese::{is_traditional, to_simplified, warm_up};
pub use korean::strip_particles;
pub use normalize::{is_han, is_hangul, is_kana};

/// One analysis of a text: a token with its byte span in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tok {
    /// Normalised token text, as indexed.
    pub text: String,
    /// Byte offset of the first character in the original text.
    pub from: usize,
    /// Byte offset one past the last character in the original text.
    pub to: usize,
}

/// Which of a language's analyzers to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Words: stemmed English words, Korean word forms with particles stripped, jieba words.
    Word,
    /// Character bigrams of Hangul or Han runs (Korean and Chinese only).
    Bigram,
}

impl Kind {
    /// Returns the kinds of analysis a language has.
    pub fn for_lang(lang: Lang) -> &'static [Kind] {
        match lang {
            Lang::En => &[Kind::Word],
            Lang::Ko | Lang::Zh => &[Kind::Word, Kind::Bigram],
        }
    }
}

/// Returns the tantivy tokenizer name for a language's analyzer.
pub fn tokenizer_name(lang: Lang, kind: Kind) -> &'static str {
    match (lang, kind) {
        (Lang::Ko, Kind::Word) => "faq_ko_word",
        (Lang::Ko, Kind::Bigram) => "faq_ko_bigram",
        (Lang::Zh, Kind::Word) => "faq_zh_word",
        (Lang::Zh, Kind::Bigram) => "faq_zh_bigram",
        (Lang::En, _) => "faq_en",
    }
}

/// Analyzes `text` as `lang` text with the given analyzer.
pub fn analyze(lang: Lang, kind: Kind, text: &str) -> Vec<Tok> {
    match (lang, kind) {
        (Lang::Ko, Kind::Word) => korean::words(text),
        (Lang::Ko, Kind::Bigram) => korean::bigrams(text),
        (Lang::Zh, Kind::Word) => chinese::words(text),
        (Lang::Zh, Kind::Bigram) => chinese::bigrams(text),
        (Lang::En, _) => english::words(text),
    }
}

/// Registers every faqd analyzer with an index's tokenizer manager. Must run after every
/// index open or create: tantivy stores only tokenizer names.
pub fn register(manager: &TokenizerManager) {
    for lang in Lang::ALL {
        for &kind in Kind::for_lang(lang) {
            manager.register(tokenizer_name(lang, kind), FaqTokenizer { lang, kind });
        }
    }
}

/// Adapts [`analyze`] to tantivy's tokenizer interface.
#[derive(Clone)]
struct FaqTokenizer {
    lang: Lang,
    kind: Kind,
}

impl Tokenizer for FaqTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let tokens = analyze(self.lang, self.kind, text)
            .into_iter()
            .enumerate()
            .map(|(position, t)| Token {
                offset_from: t.from,
                offset_to: t.to,
                position,
                text: t.text,
                position_length: 1,
            })
            .collect();
        VecTokenStream { tokens, next: 0 }
    }
}

/// A token stream over tokens computed up front.
struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lang: Lang, kind: Kind, text: &str) -> Vec<String> {
        analyze(lang, kind, text)
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn token_offsets_point_into_the_original_text() {
        for (lang, text) in [
            (Lang::Ko, "USDT 출금이 안돼요!"),
            (Lang::Zh, "提幣 Pending 怎麼辦？"),
            (Lang::En, "Withdrawals are PENDING"),
        ] {
            for &kind in Kind::for_lang(lang) {
                for t in analyze(lang, kind, text) {
                    assert!(text.get(t.from..t.to).is_some(), "{lang:?} {kind:?} {t:?}");
                    assert!(t.from < t.to, "{t:?}");
                }
            }
        }
    }

    #[test]
    fn analyzer_table() {
        let cases: &[(Lang, Kind, &str, &[&str])] = &[
            (
                Lang::En,
                Kind::Word,
                "Withdrawals are pending",
                &["withdraw", "pend"],
            ),
            (
                Lang::En,
                Kind::Word,
                "Café \"AND\" (KYC):*",
                &["cafe", "kyc"],
            ),
            (
                Lang::Ko,
                Kind::Word,
                "출금이 출금을 출금은",
                &["출금", "출금", "출금"],
            ),
            (
                Lang::Ko,
                Kind::Word,
                "USDT 출금이 안돼요",
                &["usdt", "출금", "안"],
            ),
            (
                Lang::Ko,
                Kind::Bigram,
                "비밀번호 재설정",
                &["비밀", "밀번", "번호", "호재", "재설", "설정"],
            ),
            (
                Lang::Ko,
                Kind::Bigram,
                "비밀번호재설정",
                &["비밀", "밀번", "번호", "호재", "재설", "설정"],
            ),
            (Lang::Ko, Kind::Bigram, "돈", &["돈"]),
            (
                Lang::Zh,
                Kind::Bigram,
                "提幣到賬",
                &["提币", "币到", "到账"],
            ),
            (
                Lang::Zh,
                Kind::Bigram,
                "提币 pending 怎么办",
                &["提币", "怎么", "么办"],
            ),
            (Lang::Zh, Kind::Word, "ＵＳＤＴ提幣", &["usdt", "提币"]),
        ];
        for (lang, kind, text, want) in cases {
            assert_eq!(texts(*lang, *kind, text), *want, "{lang:?} {kind:?} {text}");
        }
    }
}
