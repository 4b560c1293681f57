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

thread_local! {
    static ANALYZER: RefCell<TextAnalyzer> = RefCell::new(analyzer());
}

/// Returns stemmed English words.
pub fn words(text: &str) -> Vec<Tok> {
    ANALYZER.with(|a| {
        let mut a = a.borrow_mut();
        let mut stream = a.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push(Tok {
                text: t.text.clone(),
                from: t.offset_from,
                to: t.offset_to,
            });
        }
        out
    })
}

/// Returns shingles of analysed words: each neighbouring pair joined by a space (`"card
/// arriv"`). Words are neighbours when only stop words or punctuation stood between them.
pub fn shingles(words: &[Tok]) -> Vec<Tok> {
    words
        .windows(2)
        .map(|w| Tok {
            text: format!("{} {}", w[0].text, w[1].text),
            from: w[0].from,
            to: w[1].to,
        })
        .collect()
}
