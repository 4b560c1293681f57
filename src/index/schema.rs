//! The tantivy schema: per-language text fields, one document per article version (title and
//! answer) and one per question variant, so an article with many phrasings is not penalised
//! for length and each phrasing is evidence of its own.

use crate::analysis::{tokenizer_name, Kind};
use crate::lang::Lang;
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};

/// The parts of an article that are indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The title.
    Title,
    /// The answer text.
    Answer,
    /// One alternative phrasing of the question.
    Question,
}

impl Part {
    /// Every part.
    pub const ALL: [Part; 3] = [Part::Title, Part::Answer, Part::Question];

    fn name(self) -> &'static str {
        match self {
            Part::Title => "title",
            Part::Answer => "answer",
            Part::Question => "question",
        }
    }
}

/// Document kinds stored in the `kind` field.
pub const KIND_ARTICLE: &str = "a";
/// A question-variant document.
pub const KIND_QUESTION: &str = "q";

/// Handles to every field.
#[derive(Debug, Clone)]
pub struct Fields {
    /// Article id (shared by translations).
    pub id: Field,
    /// Version tag (`ko`, `en`, `zh`, `zh-Hant`).
    pub variant: Field,
    /// Search language (`ko`, `en`, `zh`).
    pub lang: Field,
    /// `a` (article) or `q` (question variant).
    pub kind: Field,
    /// For question documents: i + 1 for `questions[i]`.
    pub unit: Field,
    /// Category, for filtering.
    pub category: Field,
    /// The article as JSON (article documents only).
    pub payload: Field,
    text: Vec<(Lang, Part, Kind, Field)>,
}

impl Fields {
    /// Returns the text field for a language, part and analysis kind.
    pub fn text(&self, lang: Lang, part: Part, kind: Kind) -> Field {
        self.text
            .iter()
            .find(|(l, p, k, _)| *l == lang && *p == part && *k == kind)
            .map(|t| t.3)
            .expect("every language, part and kind has a field")
    }

    /// Builds the schema and its field handles.
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let id = b.add_text_field("id", STRING | STORED | FAST);
        let variant = b.add_text_field("variant", STRING | STORED | FAST);
        let lang = b.add_text_field("lang", STRING);
        let kind = b.add_text_field("kind", STRING | FAST);
        let unit = b.add_u64_field("unit", FAST);
        let category = b.add_text_field("category", STRING | STORED);
        let payload = b.add_text_field("payload", STORED);
        let mut text = Vec::new();
        for l in Lang::ALL {
            for part in Part::ALL {
                for &k in Kind::for_lang(l) {
                    let suffix = if k == Kind::Bigram { "_bi" } else { "" };
                    let opts = TextOptions::default().set_indexing_options(
                        TextFieldIndexing::default()
                            .set_tokenizer(tokenizer_name(l, k))
                            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
                    );
                    let f =
                        b.add_text_field(&format!("{}_{}{}", l.code(), part.name(), suffix), opts);
                    text.push((l, part, k, f));
                }
            }
        }
        (
            b.build(),
            Fields {
                id,
                variant,
                lang,
                kind,
                unit,
                category,
                payload,
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
