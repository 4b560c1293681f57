//! The tantivy schema. Each article version is indexed as several documents, each evidence of
//! its own:
//! - one *article* document: title, questions and answer together;
//! - one *phrasing* document per way of asking: the title and each question, so each
//!   phrasing matches on its own, however many the article has;
//! - one *sentence* document per sentence of the answer, so a question that one sentence of a
//!   long answer answers is found.
//!
//! Every part has one text field per language and analysis [`Kind`], so statistics (document
//! frequency, average length) are those of that language and part alone.

use crate::analysis::{tokenizer_name, Kind};
use crate::lang::Lang;
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};

/// The kinds of documents an article version is indexed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// Title, questions and answer together.
    Article,
    /// The title or one question.
    Phrasing,
    /// One sentence of the answer.
    Sentence,
}

impl Part {
    /// Every part.
    pub const ALL: [Part; 3] = [Part::Article, Part::Phrasing, Part::Sentence];

    /// Returns the part's index in [`Part::ALL`].
    pub fn index(self) -> usize {
        match self {
            Part::Article => 0,
            Part::Phrasing => 1,
            Part::Sentence => 2,
        }
    }

    /// Returns the value of the `kind` field of this part's documents.
    pub fn tag(self) -> &'static str {
        match self {
            Part::Article => "a",
            Part::Phrasing => "q",
            Part::Sentence => "s",
        }
    }

    /// Returns the analyses this part is indexed with in `lang`: all of the language's, but
    /// single characters only for article documents (in a short phrasing or sentence, the
    /// bigrams carry the same evidence, and the unigram postings are the longest to read).
    pub fn kinds(self, lang: Lang) -> impl Iterator<Item = Kind> {
        Kind::for_lang(lang)
            .iter()
            .copied()
            .filter(move |&k| self == Part::Article || k != Kind::Unigram)
    }

    /// Returns the parts indexed with `kind` in `lang`, in [`Part::ALL`] order.
    pub fn with_kind(lang: Lang, kind: Kind) -> impl Iterator<Item = Part> {
        Part::ALL
            .into_iter()
            .filter(move |p| p.kinds(lang).any(|k| k == kind))
    }

    /// Returns true when this part's field of `kind` leaves function words out
    /// ([`crate::analysis::is_function_word`]), so their word postings (`my` is in a third of
    /// banking77's 10,000 phrasings) are not read and do not rank its documents (they still
    /// count in English word pairs and in CJK bigrams):
    /// - an answer sentence's `the`, `it`, `you` say nothing about the question it answers,
    ///   so they earn it no closeness either;
    /// - a phrasing's wording is evidence of closeness (`how do I` against `why can't I`):
    ///   its function words are kept per document in [`Fields::function_words`], and
    ///   closeness counts them for the best phrasing alone (see `search::rank`). The best
    ///   phrasing is the best by the score of its content words and word pairs.
    ///
    /// Article documents keep every word.
    pub fn content_only(self, kind: Kind) -> bool {
        matches!(self, Part::Sentence | Part::Phrasing) && kind == Kind::Word
    }

    fn suffix(self) -> &'static str {
        match self {
            Part::Article => "",
            Part::Phrasing => "_q",
            Part::Sentence => "_s",
        }
    }
}

/// Handles to every field.
#[derive(Debug, Clone)]
pub struct Fields {
    /// Article id (shared by translations).
    pub id: Field,
    /// Version tag (`ko`, `en`, `zh`, `zh-Hant`).
    pub variant: Field,
    /// The document's [`Part`] tag.
    pub kind: Field,
    /// The article as JSON (article documents only).
    pub payload: Field,
    /// A phrasing's function words, as [`crate::analysis::term_key`]s (one value per
    /// occurrence), which its word field leaves out ([`Part::content_only`]).
    pub function_words: Field,
    text: Vec<(Lang, Part, Kind, Field)>,
}

impl Fields {
    /// Returns the text field for a language, part and analysis kind.
    pub fn text(&self, lang: Lang, part: Part, kind: Kind) -> Field {
        self.text
            .iter()
            .find(|(l, p, k, _)| *l == lang && *p == part && *k == kind)
            .map(|t| t.3)
            .expect("every language, part and kind of the language has a field")
    }

    /// Builds the schema and its field handles.
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        // Stored once, in the payload; ids are indexed for deletes and fast for `doc_refs`.
        let id = b.add_text_field("id", STRING | FAST);
        let variant = b.add_text_field("variant", FAST);
        let kind = b.add_text_field("kind", STRING | FAST);
        let payload = b.add_text_field("payload", STORED);
        let function_words = b.add_u64_field("function_words", FAST);
        let mut text = Vec::new();
        for l in Lang::ALL {
            for part in Part::ALL {
                for k in part.kinds(l) {
                    let opts = TextOptions::default().set_indexing_options(
                        TextFieldIndexing::default()
                            .set_tokenizer(&tokenizer_name(l, k, part.content_only(k)))
                            .set_index_option(IndexRecordOption::WithFreqs),
                    );
                    let name = format!("{}_{}{}", l.code(), k.name(), part.suffix());
                    text.push((l, part, k, b.add_text_field(&name, opts)));
                }
            }
        }
        (
            b.build(),
            Fields {
                id,
                variant,
                kind,
                payload,
                function_words,
                text,
            },
        )
    }

    /// Looks the fields up in an opened index's schema.
    pub fn from_schema(schema: &Schema) -> tantivy::Result<Fields> {
        let (expected, fields) = Fields::schema();
        if serde_json::to_value(&expected).ok() != serde_json::to_value(schema).ok() {
            return Err(tantivy::TantivyError::SchemaError(
                "index schema does not match this faqd version: rebuild the index".into(),
            ));
        }
        Ok(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_s_index_is_its_place_in_all() {
        for (i, part) in Part::ALL.into_iter().enumerate() {
            assert_eq!(part.index(), i, "{part:?}");
        }
    }
}
