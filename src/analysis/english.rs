//! English analysis: words, lowercase, ASCII folding, stop words removed, Snowball stemming;
//! and shingles, pairs of neighbouring stemmed words, which reward a query's words in the same
//! order and next to each other.

use super::Tok;
use std::cell::RefCell;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer, TokenStream,
};

fn analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    match StopWordFilter::new(Language::English) {
        Some(stop) => builder
            .filter(stop)
            .filter(Stemmer::new(Language::English))
            .build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
    }
}

/// Longest text whose words are remembered ([`words`]): a query, not an answer.
const REMEMBERED_LEN: usize = 512;

thread_local! {
    static ANALYZER: RefCell<TextAnalyzer> = RefCell::new(analyzer());
    /// The last short text analysed on this thread, with its words: a query's words are
    /// wanted by ranking and again by the glossary, and stemming is most of their cost.
    static LAST: RefCell<(String, Vec<Tok>)> = const { RefCell::new((String::new(), Vec::new())) };
}

/// Returns stemmed English words.
pub fn words(text: &str) -> Vec<Tok> {
    let remember = text.len() <= REMEMBERED_LEN;
    if remember {
        let found = LAST.with(|last| {
            let last = last.borrow();
            (last.0 == text).then(|| last.1.clone())
        });
        if let Some(found) = found {
            return found;
        }
    }
    let out = ANALYZER.with(|a| {
        let mut a = a.borrow_mut();
        let mut stream = a.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push(Tok {
                text: t.text.as_str().into(),
                from: t.offset_from,
                to: t.offset_to,
            });
        }
        out
    });
    if remember {
        LAST.with(|last| {
            let mut last = last.borrow_mut();
            last.0.clear();
            last.0.push_str(text);
            last.1.clone_from(&out);
        });
    }
    out
}

/// Returns shingles of analysed words: each neighbouring pair joined by a space (`"card
/// arriv"`). Words are neighbours when only stop words or punctuation stood between them.
pub fn shingles(words: &[Tok]) -> Vec<Tok> {
    words
        .windows(2)
        .map(|w| Tok {
            text: compact_str::format_compact!("{} {}", w[0].text, w[1].text),
            from: w[0].from,
            to: w[1].to,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(toks: &[Tok]) -> Vec<&str> {
        toks.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn remembered_words_are_the_words_of_the_text_asked_for() {
        let long = "cards arriving ".repeat(REMEMBERED_LEN / 10);
        for _ in 0..2 {
            assert_eq!(
                texts(&words("Cards arriving late")),
                ["card", "arriv", "late"]
            );
            assert_eq!(texts(&words("Cards arriving")), ["card", "arriv"]);
            assert_eq!(words(&long).len(), 2 * (REMEMBERED_LEN / 10));
            assert_eq!(texts(&words("")), Vec::<&str>::new());
        }
        let again = words("Lost my card, card lost");
        assert_eq!(again, words("Lost my card, card lost"));
        assert_eq!(
            (again[3].from, again[3].to),
            (14, 18),
            "offsets are the text's"
        );
    }
}
