//! The documents an article becomes: one article document holding all the text of a version,
//! one per phrasing and one per answer sentence; and reading back what each document stands for.

use super::schema::{Fields, Part};
use super::{io_err, IndexError};
use crate::analysis::{self, Kind};
use crate::ingest::Article;
use crate::lang::{Lang, Variant};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tantivy::{doc, IndexReader, TantivyDocument};

/// What one tantivy document stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocRef {
    /// Index into [`Generation::groups`](super::Generation::groups).
    pub group: u32,
    /// The article version it belongs to.
    pub variant: Variant,
    /// What part of the version it indexes.
    pub part: Part,
}

pub(super) fn load_doc_refs(
    reader: &IndexReader,
    by_id: &HashMap<String, u32>,
) -> Result<Vec<DocRef>, IndexError> {
    let searcher = reader.searcher();
    let mut out = Vec::new();
    for seg in searcher.segment_readers() {
        let ff = seg.fast_fields();
        let missing = |f: &str| IndexError::Corrupt {
            path: PathBuf::from(f),
            message: "fast field missing".into(),
        };
        let ids = ff.str("id")?.ok_or_else(|| missing("id"))?;
        let variants = ff.str("variant")?.ok_or_else(|| missing("variant"))?;
        let kinds = ff.str("kind")?.ok_or_else(|| missing("kind"))?;
        // Each column's dictionary is read once (ord -> value); per document only the ord is
        // looked up, which keeps opening a large generation fast.
        let values = |col: &tantivy::columnar::StrColumn| -> Result<Vec<String>, IndexError> {
            let mut values = Vec::with_capacity(col.num_terms());
            let mut stream = col
                .dictionary()
                .stream()
                .map_err(io_err("read", "fast field"))?;
            while stream.advance() {
                values.push(String::from_utf8_lossy(stream.key()).into_owned());
            }
            Ok(values)
        };
        let groups: Vec<u32> = values(&ids)?
            .iter()
            .map(|id| by_id.get(id).copied().unwrap_or(u32::MAX))
            .collect();
        let variant_of: Vec<Variant> = values(&variants)?
            .iter()
            .map(|v| Variant::parse(v).unwrap_or(Variant::En))
            .collect();
        let part_of: Vec<Part> = values(&kinds)?
            .iter()
            .map(|k| {
                Part::ALL
                    .into_iter()
                    .find(|p| p.tag() == k)
                    .unwrap_or(Part::Article)
            })
            .collect();
        let ord = |col: &tantivy::columnar::StrColumn, doc: u32| col.term_ords(doc).next();
        out.reserve(seg.max_doc() as usize);
        for doc in 0..seg.max_doc() {
            let group = ord(&ids, doc).map_or(u32::MAX, |o| groups[o as usize]);
            let variant = ord(&variants, doc).map_or(Variant::En, |o| variant_of[o as usize]);
            let part = ord(&kinds, doc).map_or(Part::Article, |o| part_of[o as usize]);
            out.push(DocRef {
                group,
                variant,
                part,
            });
        }
    }
    Ok(out)
}

pub(super) fn load_groups(
    reader: &IndexReader,
    fields: &Fields,
) -> Result<HashMap<String, Vec<Arc<Article>>>, IndexError> {
    use tantivy::collector::DocSetCollector;
    use tantivy::query::TermQuery;
    use tantivy::schema::{IndexRecordOption, Value};
    let searcher = reader.searcher();
    let q = TermQuery::new(
        tantivy::Term::from_field_text(fields.kind, Part::Article.tag()),
        IndexRecordOption::Basic,
    );
    let mut groups: HashMap<String, Vec<Arc<Article>>> = HashMap::new();
    // In document order, so the store decompresses each block once.
    let mut addrs: Vec<_> = searcher.search(&q, &DocSetCollector)?.into_iter().collect();
    addrs.sort_unstable();
    for addr in addrs {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let payload = doc
            .get_first(fields.payload)
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let article: Article = serde_json::from_str(payload).map_err(|e| IndexError::Corrupt {
            path: PathBuf::from("payload"),
            message: e.to_string(),
        })?;
        groups
            .entry(article.id.clone())
            .or_default()
            .push(Arc::new(article));
    }
    for versions in groups.values_mut() {
        versions.sort_by_key(|a| a.lang);
    }
    Ok(groups)
}

/// Returns the tantivy documents for one article version: its article document, then one
/// document per phrasing and per answer sentence (see [`Part`]).
pub fn documents(fields: &Fields, article: &Article) -> Vec<TantivyDocument> {
    let lang: Lang = article.lang.lang();
    let payload = serde_json::to_string(article).expect("articles serialise");
    let base = |part: Part| {
        doc!(
            fields.id => article.id.as_str(),
            fields.variant => article.lang.tag(),
            fields.kind => part.tag(),
        )
    };
    let mut main = base(Part::Article);
    main.add_text(fields.payload, &payload);
    let mut docs = Vec::new();
    let phrasings = std::iter::once(&article.title).chain(&article.questions);
    let sentences = analysis::sentences(&article.answer);
    let units = phrasings
        .map(|q| (Part::Phrasing, q.as_str()))
        .chain(sentences.into_iter().map(|s| (Part::Sentence, s)));
    // Each phrasing and sentence indexes a document of its own and is one value of the
    // article document (title, questions and answer together). The analyzers remember the
    // texts they just analysed, so each is analysed once when an article's documents are
    // indexed together (see `write_index`).
    for (part, text) in units {
        let mut d = base(part);
        for k in part.kinds(lang) {
            d.add_text(fields.text(lang, part, k), text);
        }
        if part == Part::Phrasing {
            for word in analysis::function_words_in(lang, text) {
                d.add_u64(fields.function_words, analysis::term_key(&word));
            }
        }
        for &k in Kind::for_lang(lang) {
            main.add_text(fields.text(lang, Part::Article, k), text);
        }
        docs.push(d);
    }
    docs.insert(0, main);
    docs
}

/// Indexes an article version's documents as one batch, so one indexing thread analyses
/// them one after the other (and reuses each text's analysis, see [`documents`]).
pub(super) fn add_article(
    writer: &tantivy::IndexWriter,
    fields: &Fields,
    article: &Article,
) -> Result<(), IndexError> {
    let ops = documents(fields, article)
        .into_iter()
        .map(tantivy::indexer::UserOperation::Add);
    writer.run(ops)?;
    Ok(())
}
