//! The decoded-postings table ranking reads: a generation's segments and document slots, the
//! readers and statistics of every text field, and each term's postings decoded once.

use super::documents::DocRef;
use super::generation::Generation;
use super::schema::{Fields, Part};
use super::IndexError;
use crate::analysis::Kind;
use crate::lang::Lang;
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::IndexReader;

/// A generation's segments, in the searcher's order: where each one's documents start
/// across segments (a document's *position* is its segment's start plus its id in the
/// segment), which of them are deleted, and each document's *slot*. Read once per generation.
///
/// Ranking keeps what it gathers per document in an array indexed by slot. Slots order the
/// documents by part, then language, then position: a language's article documents, which
/// every query scores first and whose postings are the longest, are next to each other (a
/// few tens of kilobytes for thousands of articles, which stay in the processor's nearest
/// caches) instead of spread between their phrasings and sentences. Within one part and
/// language, slots keep the order of positions.
#[derive(Default)]
pub struct Segments {
    /// Per segment: the position of its first document across segments.
    first: Vec<u32>,
    /// Per segment: its deleted documents (`None` when it has none).
    alive: Vec<Option<tantivy::fastfield::AliveBitSet>>,
    /// Per position: the document's slot.
    slot: Vec<u32>,
    /// Per slot: the document's position.
    position: Vec<u32>,
    /// Per language ([`Lang::ALL`] order): the slots of its article documents.
    articles: [std::ops::Range<u32>; 3],
}

impl Segments {
    /// Reads the segments, and gives each document (`doc_refs`, by position) its slot.
    pub(super) fn of(searcher: &tantivy::Searcher, doc_refs: &[DocRef]) -> Segments {
        let mut out = Segments::default();
        let mut first = 0u32;
        for seg in searcher.segment_readers() {
            out.first.push(first);
            out.alive.push(seg.alive_bitset().cloned());
            first += seg.max_doc();
        }
        debug_assert_eq!(first as usize, doc_refs.len(), "one reference per document");
        out.with_slots(doc_refs)
    }

    /// Gives each document (`doc_refs`, by position) its slot.
    fn with_slots(mut self, doc_refs: &[DocRef]) -> Segments {
        self.position = (0..doc_refs.len() as u32).collect();
        self.position.sort_by_key(|&at| {
            let r = doc_refs[at as usize];
            (r.part.index(), r.variant.lang(), at)
        });
        self.slot = vec![0; doc_refs.len()];
        for (slot, &at) in self.position.iter().enumerate() {
            self.slot[at as usize] = slot as u32;
        }
        let key = |at: u32| {
            let r = doc_refs[at as usize];
            (r.part.index(), r.variant.lang())
        };
        self.articles = Lang::ALL.map(|lang| {
            let article = (Part::Article.index(), lang);
            let start = self.position.partition_point(|&at| key(at) < article);
            let end = self.position.partition_point(|&at| key(at) <= article);
            start as u32..end as u32
        });
        self
    }

    /// Returns the slots of `lang`'s article documents (next to each other; every article
    /// document's slot comes before every phrasing's and sentence's).
    pub fn articles(&self, lang: Lang) -> std::ops::Range<u32> {
        let at = Lang::ALL.iter().position(|&l| l == lang).unwrap_or(0);
        self.articles[at].clone()
    }

    /// Returns the segment of the document in `slot`, and its id in that segment.
    pub fn locate(&self, slot: u32) -> (usize, u32) {
        let at = self.position[slot as usize];
        let segment = self.first.partition_point(|&first| first <= at) - 1;
        (segment, at - self.first[segment])
    }

    /// Returns a term's article postings in `lang`, [dense](ArticleDocs::Dense) when it is
    /// in at least one in [`DENSE_SHARE`] of the language's article documents.
    fn article_postings(&self, lang: Lang, listed: TermPostings<Posting>) -> ArticlePostings {
        let articles = self.articles(lang);
        let n = articles.len();
        let docs = if n > 0 && listed.postings.len() * DENSE_SHARE >= n {
            let mut factors = vec![0.0; n];
            for p in &listed.postings {
                factors[(p.at - articles.start) as usize] = p.factor;
            }
            ArticleDocs::Dense(factors.into_boxed_slice())
        } else {
            ArticleDocs::Listed(listed.postings)
        };
        ArticlePostings {
            doc_freq: listed.doc_freq,
            docs,
        }
    }

    /// Returns the references of `doc_refs` (by position) in slot order.
    pub(super) fn by_slot(&self, doc_refs: &[DocRef]) -> Vec<DocRef> {
        self.position
            .iter()
            .map(|&at| doc_refs[at as usize])
            .collect()
    }
}

/// The readers of one text field, one per segment.
pub struct FieldReaders {
    /// Its term dictionary and postings.
    pub inverted: Vec<Arc<tantivy::InvertedIndexReader>>,
    /// Its per-document lengths.
    pub norms: Vec<tantivy::fieldnorm::FieldNormReader>,
    /// The generation's segments.
    segments: Arc<Segments>,
    /// Per stored length: BM25's length normalisation (the field's
    /// [`FieldStats::bm25_norm`]), for the factors of decoded postings.
    bm25_norm: Box<[f32; 256]>,
    /// Words no document contains, with the closest term the field has (see
    /// [`FieldReaders::correction`]).
    corrections: RwLock<FxHashMap<Box<str>, Option<String>>>,
}

/// One posting of a term in an article document: a live document that contains it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Posting {
    /// The document's slot ([`Segments`]).
    pub at: u32,
    /// BM25's term-frequency factor of the term in it, `tf × (k1 + 1) / (tf + norm)`
    /// ([`crate::search::bm25_tf`] with the field's [`FieldStats::bm25_norm`]). A
    /// generation's statistics never change, so it is computed once, when the postings are
    /// decoded, instead of per query.
    pub factor: f32,
}

/// One posting of a term in a phrasing or an answer sentence, with what closeness needs
/// besides the score (article documents give coverage, which needs neither, so their
/// postings are a third smaller to hold and to stream).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShapedPosting {
    /// The document's slot ([`Segments`]).
    pub at: u32,
    /// BM25's term-frequency factor, as [`Posting::factor`].
    pub factor: f32,
    /// The term's occurrences in it (saturated at `u16::MAX`, far past BM25's saturation).
    pub tf: u16,
    /// The document's stored length in the field (tantivy's one-byte field norm id).
    pub norm: u8,
}

/// A term's postings in the article documents' field of its language.
#[derive(Debug, PartialEq)]
pub enum ArticleDocs {
    /// Its live documents, in slot order.
    Listed(Box<[Posting]>),
    /// Its BM25 factor in every article document of the language, from the first slot of
    /// [`Segments::articles`] on (0 where it is absent), for a term in at least one in
    /// [`DENSE_SHARE`] of them: ranking adds it to every article in one pass that the
    /// processor vectorises instead of one scattered update per posting. Chinese single
    /// characters and common bigrams are in most passages.
    Dense(Box<[f32]>),
}

impl Default for ArticleDocs {
    fn default() -> Self {
        ArticleDocs::Listed(Box::default())
    }
}

impl ArticleDocs {
    /// Returns how many entries it holds.
    fn len(&self) -> usize {
        match self {
            ArticleDocs::Listed(postings) => postings.len(),
            ArticleDocs::Dense(factors) => factors.len(),
        }
    }

    /// Returns about how many bytes its entries take.
    fn bytes(&self) -> usize {
        match self {
            ArticleDocs::Listed(postings) => postings.len() * std::mem::size_of::<Posting>(),
            ArticleDocs::Dense(factors) => factors.len() * std::mem::size_of::<f32>(),
        }
    }
}

/// A term is held as [`ArticleDocs::Dense`] when it is in at least one in this many of its
/// language's article documents. Adding a dense term costs about a quarter of an
/// instruction per article (four at a time), a listed posting about seventeen; a dense
/// term takes 4 bytes per article, a listed one 8 per posting.
pub const DENSE_SHARE: usize = 4;

/// A term's postings in the article documents' field.
#[derive(Debug, Default, PartialEq)]
pub struct ArticlePostings {
    /// Documents that contain it, deleted ones included until a merge drops them (tantivy's
    /// document frequency, which IDF uses).
    pub doc_freq: u64,
    /// Its live documents.
    pub docs: ArticleDocs,
}

/// A term's postings in one field across every segment of a generation, decoded once.
#[derive(Debug, PartialEq)]
pub struct TermPostings<P> {
    /// Documents that contain it, deleted ones included until a merge drops them (tantivy's
    /// document frequency, which IDF uses).
    pub doc_freq: u64,
    /// Its live documents, in slot order.
    pub postings: Box<[P]>,
}

impl<P> Default for TermPostings<P> {
    fn default() -> Self {
        TermPostings {
            doc_freq: 0,
            postings: Box::default(),
        }
    }
}

/// A term's decoded postings in the article, phrasing and sentence fields of one language and
/// analysis ([`Generation::term`]). A part has none when it is not indexed with the analysis,
/// or when no article document has the term: an article document holds all the text of its
/// version, so then no phrasing or sentence has it.
#[derive(Debug, Default, PartialEq)]
pub struct TermParts {
    article: ArticlePostings,
    phrasing: TermPostings<ShapedPosting>,
    sentence: TermPostings<ShapedPosting>,
}

impl TermParts {
    /// Returns the term's postings in the article documents' field.
    pub fn article(&self) -> &ArticlePostings {
        &self.article
    }

    /// Returns the term's postings in a phrasing or sentence field (`None` for
    /// [`Part::Article`]: see [`TermParts::article`]).
    pub fn evidence(&self, part: Part) -> Option<&TermPostings<ShapedPosting>> {
        match part {
            Part::Article => None,
            Part::Phrasing => Some(&self.phrasing),
            Part::Sentence => Some(&self.sentence),
        }
    }

    /// Returns the term's document frequency in `part`'s field.
    pub fn doc_freq(&self, part: Part) -> u64 {
        self.evidence(part)
            .map_or(self.article.doc_freq, |p| p.doc_freq)
    }

    /// Returns how many postings it holds in all.
    fn len(&self) -> usize {
        self.article.docs.len() + self.phrasing.postings.len() + self.sentence.postings.len()
    }

    /// Returns about how many bytes an entry of `postings` under `text` takes in a
    /// lexicon's common terms, which hold the parts in the entry: the key, the parts and the
    /// postings (allocator and hash-table slack not counted).
    fn bytes(text: &str, postings: &TermParts) -> usize {
        let heap = if text.len() > std::mem::size_of::<TermText>() {
            text.len()
        } else {
            0
        };
        heap + std::mem::size_of::<(TermText, TermParts)>()
            + postings.article.docs.bytes()
            + (postings.phrasing.postings.len() + postings.sentence.postings.len())
                * std::mem::size_of::<ShapedPosting>()
    }
}

/// A term's decoded postings, shared between the remembered terms and the queries using them.
pub type Postings = Arc<TermParts>;

/// A term's postings as [`Generation::term`] finds them: borrowed from the terms decoded
/// when the generation opened, which live as long as it does (so a query takes no reference
/// count: an atomic increment and decrement per term and query, each on a cache line of its
/// own), or shared with the remembered terms, which may be forgotten while a query uses them.
#[derive(Debug, Clone)]
pub enum Found<'g> {
    /// One of the generation's common terms.
    Held(&'g TermParts),
    /// A term decoded on use.
    Shared(Postings),
}

impl std::ops::Deref for Found<'_> {
    type Target = TermParts;

    fn deref(&self) -> &TermParts {
        match self {
            Found::Held(parts) => parts,
            Found::Shared(parts) => parts,
        }
    }
}

/// A term's text as a table key: held in the table's own entry up to 24 bytes (every
/// Chinese and Korean bigram, nearly every word), so a lookup compares it without reading
/// memory elsewhere.
type TermText = compact_str::CompactString;

/// The terms of one language and analysis already looked up, with their decoded postings
/// (see [`Generation::term`]).
#[derive(Default)]
pub(super) struct Lexicon {
    /// The commonest terms, decoded when the generation opens ([`Generation::warm`]) and
    /// never forgotten (read without a lock).
    common: FxHashMap<TermText, TermParts>,
    /// True when `common` holds every term of the article field: a term it lacks has no
    /// postings.
    complete: bool,
    /// Other terms looked up recently (none when `complete`).
    remembered: RwLock<Remembered>,
    /// No postings.
    none: TermParts,
}

/// Remembered terms in two halves: lookups find terms in either and bring those found in the
/// older half into the newer; when the newer half is full it becomes the older, and the older
/// is forgotten. Terms in use stay, however many others pass through.
#[derive(Default)]
struct Remembered {
    newer: Half,
    older: Half,
}

#[derive(Default)]
struct Half {
    terms: FxHashMap<TermText, Postings>,
    /// Postings held in `terms`.
    postings: usize,
}

impl Half {
    fn insert(&mut self, text: TermText, postings: Postings) {
        self.postings += postings.len();
        self.terms.insert(text, postings);
    }
}

impl Remembered {
    /// Remembers a term in the newer half, first making room; returns the half forgotten to
    /// make it (dropped by the caller once it has let go of the lock: thousands of frees).
    fn insert(&mut self, text: TermText, postings: Postings) -> Option<Half> {
        let held = postings.len();
        if held > REMEMBERED_POSTINGS {
            return None;
        }
        let forgotten = (self.newer.terms.len() >= REMEMBERED_TERMS
            || self.newer.postings + held > REMEMBERED_POSTINGS)
            .then(|| std::mem::replace(&mut self.older, std::mem::take(&mut self.newer)));
        self.newer.insert(text, postings);
        forgotten
    }
}

/// About how many bytes of terms and postings [`Generation::warm`] decodes per language and
/// analysis ([`TermParts::bytes`]). The dev sets' banks are held whole, the largest
/// analysis taking about 17 MiB: zh-hant-drcd's 1,000 passages of a few hundred characters
/// have 111,951 distinct bigrams (its three analyses take 26 MiB together, decoded in about
/// a third of a second), en-squad's 2,067 answers 131,122 word pairs.
pub(super) const COMMON_BYTES: usize = 32 << 20;

/// Most terms each half of a language and analysis's remembered terms holds.
const REMEMBERED_TERMS: usize = 10_000;
/// Most postings each half of a language and analysis's remembered terms holds (in its three
/// parts' fields together): 8 or 12 bytes each, so at most 36 MiB per language and analysis in
/// all, as much as three fields' own tables held before (a knowledge base of a few thousand
/// articles is remembered whole).
const REMEMBERED_POSTINGS: usize = 3 << 19;

impl FieldReaders {
    fn new(
        inverted: Vec<Arc<tantivy::InvertedIndexReader>>,
        norms: Vec<tantivy::fieldnorm::FieldNormReader>,
        segments: Arc<Segments>,
        stats: &FieldStats,
    ) -> Self {
        FieldReaders {
            inverted,
            norms,
            segments,
            bm25_norm: stats.bm25_norm.clone(),
            corrections: RwLock::default(),
        }
    }

    /// Returns the correction of a word the field lacks: remembered, or found by `closest`
    /// (a walk of the term dictionary with an edit-distance automaton, tens of microseconds)
    /// and remembered, since the same typos recur from query to query. Forgets everything
    /// once it holds `REMEMBERED_TERMS` (10,000) words.
    pub fn correction<E>(
        &self,
        word: &str,
        closest: impl FnOnce() -> Result<Option<String>, E>,
    ) -> Result<Option<String>, E> {
        let remembered = self.corrections.read().unwrap_or_else(|e| e.into_inner());
        if let Some(fixed) = remembered.get(word) {
            return Ok(fixed.clone());
        }
        drop(remembered);
        let fixed = closest()?;
        let mut remembered = self.corrections.write().unwrap_or_else(|e| e.into_inner());
        if remembered.len() >= REMEMBERED_TERMS {
            remembered.clear();
        }
        remembered.insert(word.into(), fixed.clone());
        Ok(fixed)
    }

    /// Returns the field's terms, those with the most documents (deleted ones included, as
    /// in [`TermPostings::doc_freq`]) first; ties in term order.
    fn by_frequency(&self) -> std::io::Result<Vec<TermText>> {
        let mut freq: FxHashMap<TermText, u64> = FxHashMap::default();
        for inverted in &self.inverted {
            let mut stream = inverted.terms().stream()?;
            while stream.advance() {
                let Ok(text) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                *freq.entry(text.into()).or_default() += u64::from(stream.value().doc_freq);
            }
        }
        let mut terms: Vec<(TermText, u64)> = freq.into_iter().collect();
        terms.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(terms.into_iter().map(|(text, _)| text).collect())
    }

    /// Reads a term's postings in this field from every segment, each made by `make` from
    /// its slot, BM25 factor, occurrences and field norm id.
    fn decode<P>(
        &self,
        field: Field,
        text: &str,
        make: impl Fn(u32, f32, u16, u8) -> P,
    ) -> std::io::Result<TermPostings<P>> {
        let term = tantivy::Term::from_field_text(field, text);
        let mut out = TermPostings::default();
        let mut postings = Vec::new();
        for (((inverted, norms), alive), base) in self
            .inverted
            .iter()
            .zip(&self.norms)
            .zip(&self.segments.alive)
            .zip(&self.segments.first)
        {
            let Some(info) = inverted.get_term_info(&term)? else {
                continue;
            };
            out.doc_freq += u64::from(info.doc_freq);
            postings.reserve(info.doc_freq as usize);
            let mut block =
                inverted.read_block_postings_from_terminfo(&info, IndexRecordOption::WithFreqs)?;
            loop {
                let docs = block.docs();
                if docs.is_empty() {
                    break;
                }
                for (&doc, &tf) in docs.iter().zip(block.freqs()) {
                    if alive.as_ref().is_some_and(|a| a.is_deleted(doc)) {
                        continue;
                    }
                    let tf = tf.min(u32::from(u16::MAX)) as u16;
                    let norm = norms.fieldnorm_id(doc);
                    postings.push(make(
                        self.segments.slot[(base + doc) as usize],
                        crate::search::bm25_tf(f32::from(tf), self.bm25_norm[usize::from(norm)]),
                        tf,
                        norm,
                    ));
                }
                block.advance();
            }
        }
        out.postings = postings.into_boxed_slice();
        Ok(out)
    }
}

/// Statistics of one text field over the documents of its language and part (deleted ones
/// included until a merge drops them, as in tantivy's own statistics).
#[derive(Debug, Clone)]
pub struct FieldStats {
    /// Documents of the field's language and part.
    pub docs: u64,
    /// Average number of tokens per such document.
    pub avg_len: f32,
    /// Per stored length (tantivy's one-byte field norm): BM25's length normalisation
    /// `k1 × (1 − b + b × len / avg_len)`, computed once per generation.
    pub bm25_norm: Box<[f32; 256]>,
    /// Per stored length: `1 / len`, the share of the document one occurrence is.
    pub inv_len: Box<[f32; 256]>,
}

impl FieldStats {
    /// Statistics of `docs` documents averaging `avg_len` tokens, with their length tables.
    pub fn new(docs: u64, avg_len: f32) -> FieldStats {
        let mut bm25_norm = Box::new([0f32; 256]);
        let mut inv_len = Box::new([0f32; 256]);
        for id in 0..=255u8 {
            let len = tantivy::fieldnorm::FieldNormReader::id_to_fieldnorm(id) as f32;
            let norm = crate::search::bm25_length_norm(len, avg_len);
            bm25_norm[id as usize] = norm;
            inv_len[id as usize] = 1.0 / len.max(1.0);
        }
        FieldStats {
            docs,
            avg_len,
            bm25_norm,
            inv_len,
        }
    }
}

impl Generation {
    /// Returns a term's postings in the article, phrasing and sentence fields of `lang` and
    /// `kind`, decoded (live documents only, with their lengths and BM25 factors). The
    /// commonest terms were decoded when the generation opened ([`Generation::warm`]); when
    /// they are all its terms, a term not among them has no postings. Other terms are
    /// decoded on first use, and recent ones remembered: a query looks each of its terms up,
    /// and the same characters, bigrams and words recur from query to query, the commonest
    /// (the longest postings) most. A decoded term costs one hash lookup for its three
    /// fields instead of a term-dictionary walk and a block decode per field and segment.
    /// Each language and analysis remembers at most twice `REMEMBERED_TERMS` (10,000) terms
    /// and `REMEMBERED_POSTINGS` (1,572,864) postings besides those decoded at opening, the
    /// least recently used half forgotten first.
    pub fn term(&self, lang: Lang, kind: Kind, text: &str) -> std::io::Result<Found<'_>> {
        let Some(lexicon) = self.lexicons.get(&(lang, kind)) else {
            return Ok(Found::Shared(Postings::default()));
        };
        if let Some(postings) = lexicon.common.get(text) {
            return Ok(Found::Held(postings));
        }
        if lexicon.complete {
            return Ok(Found::Held(&lexicon.none));
        }
        let remembered = lexicon.remembered.read().unwrap_or_else(|e| e.into_inner());
        if let Some(postings) = remembered.newer.terms.get(text) {
            return Ok(Found::Shared(Arc::clone(postings)));
        }
        let older = remembered.older.terms.get(text).cloned();
        drop(remembered);
        let postings = match older {
            Some(postings) => postings,
            None => Arc::new(self.decode(lang, kind, text)?),
        };
        let mut remembered = lexicon
            .remembered
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let forgotten = if remembered.newer.terms.contains_key(text) {
            None
        } else {
            remembered.insert(text.into(), Arc::clone(&postings))
        };
        drop(remembered);
        drop(forgotten);
        Ok(Found::Shared(postings))
    }

    /// Decodes the terms of every language and analysis before the generation serves (see
    /// [`Generation::term`]), the commonest (those with the most article documents) first,
    /// until a language and analysis holds about `budget` bytes ([`COMMON_BYTES`] when a
    /// generation opens). The commonest are the costliest to decode and the likeliest to
    /// recur; a knowledge base of a few thousand articles is held whole, so its queries never
    /// walk a term dictionary or decode a block, and a term it does not hold is known absent
    /// without a lookup. Returns how many terms were decoded.
    pub(super) fn warm(&mut self, budget: usize) -> std::io::Result<usize> {
        let mut warmed = 0;
        let keys: Vec<(Lang, Kind)> = self.lexicons.keys().copied().collect();
        for (lang, kind) in keys {
            let field = self.fields.text(lang, Part::Article, kind);
            let Some(readers) = self.readers.get(&field) else {
                continue;
            };
            let terms = readers.by_frequency()?;
            let mut common = FxHashMap::default();
            common.reserve(terms.len());
            let mut held = 0;
            for text in terms {
                let postings = self.decode(lang, kind, &text)?;
                held += TermParts::bytes(&text, &postings);
                if held > budget {
                    break;
                }
                common.insert(text, postings);
            }
            common.shrink_to_fit();
            tracing::debug!(
                lang = lang.code(),
                kind = ?kind,
                terms = common.len(),
                bytes = held,
                "decoded terms"
            );
            warmed += common.len();
            let lexicon = self.lexicons.entry((lang, kind)).or_default();
            lexicon.complete = held <= budget;
            lexicon.common = common;
        }
        Ok(warmed)
    }

    /// Reads a term's postings from its article field, then, when an article document has
    /// it, from its phrasing and sentence fields.
    fn decode(&self, lang: Lang, kind: Kind, text: &str) -> std::io::Result<TermParts> {
        let mut out = TermParts::default();
        for part in Part::with_kind(lang, kind) {
            if part != Part::Article && out.article.doc_freq == 0 {
                break;
            }
            let field = self.fields.text(lang, part, kind);
            let Some(readers) = self.readers.get(&field) else {
                continue;
            };
            let shaped = |at, factor, tf, norm| ShapedPosting {
                at,
                factor,
                tf,
                norm,
            };
            match part {
                Part::Article => {
                    let listed =
                        readers.decode(field, text, |at, factor, _, _| Posting { at, factor })?;
                    out.article = self.segments.article_postings(lang, listed);
                }
                Part::Phrasing => out.phrasing = readers.decode(field, text, shaped)?,
                Part::Sentence => out.sentence = readers.decode(field, text, shaped)?,
            }
        }
        Ok(out)
    }
}

/// Something per text field (looked up several times per query: a fast hasher).
pub type FieldMap<T> = FxHashMap<tantivy::schema::Field, T>;

/// Counts the documents of each language and part, and the average length of each text field
/// over them; opens every text field's readers (kept for searching). Deleted documents that no
/// merge has dropped yet are counted, as tantivy counts them in document frequencies and token
/// totals: the statistics stay consistent (an IDF never goes negative), only slightly stale
/// until the next merge.
pub(super) fn field_stats(
    reader: &IndexReader,
    fields: &Fields,
    doc_refs: &[DocRef],
    segment_docs: &Arc<Segments>,
) -> Result<(FieldMap<FieldStats>, FieldMap<FieldReaders>), IndexError> {
    let searcher = reader.searcher();
    let segments = searcher.segment_readers();
    let mut docs: HashMap<(Lang, Part), u64> = HashMap::new();
    for r in doc_refs {
        *docs.entry((r.variant.lang(), r.part)).or_default() += 1;
    }
    let mut stats = FieldMap::default();
    let mut readers = FieldMap::default();
    for lang in Lang::ALL {
        for part in Part::ALL {
            let n = docs.get(&(lang, part)).copied().unwrap_or(0);
            for kind in part.kinds(lang) {
                let field = fields.text(lang, part, kind);
                let inverted: Vec<_> = segments
                    .iter()
                    .map(|seg| seg.inverted_index(field))
                    .collect::<tantivy::Result<_>>()?;
                let tokens: u64 = inverted.iter().map(|inv| inv.total_num_tokens()).sum();
                let avg_len = if n == 0 {
                    1.0
                } else {
                    (tokens as f32 / n as f32).max(1.0)
                };
                let field_stats = FieldStats::new(n, avg_len);
                let field_readers = FieldReaders::new(
                    inverted,
                    segments
                        .iter()
                        .map(|seg| seg.get_fieldnorms_reader(field))
                        .collect::<tantivy::Result<_>>()?,
                    Arc::clone(segment_docs),
                    &field_stats,
                );
                stats.insert(field, field_stats);
                readers.insert(field, field_readers);
            }
        }
    }
    Ok((stats, readers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{open_current, BuildOptions};
    use crate::lang::Variant;

    fn postings(n: usize) -> Postings {
        let p = Posting { at: 0, factor: 1.0 };
        Arc::new(TermParts {
            article: ArticlePostings {
                doc_freq: n as u64,
                docs: ArticleDocs::Listed(vec![p; n].into_boxed_slice()),
            },
            ..TermParts::default()
        })
    }

    #[test]
    fn slots_put_a_language_s_articles_together_and_locate_their_documents() {
        let doc = |variant, part| DocRef {
            group: 0,
            variant,
            part,
        };
        // Two segments of 3 and 4 documents, by position.
        let refs = [
            doc(Variant::En, Part::Article),
            doc(Variant::En, Part::Sentence),
            doc(Variant::Ko, Part::Article),
            doc(Variant::Ko, Part::Phrasing),
            doc(Variant::En, Part::Article),
            doc(Variant::En, Part::Phrasing),
            doc(Variant::Ko, Part::Article),
        ];
        let segments = Segments {
            first: vec![0, 3],
            alive: vec![None, None],
            ..Segments::default()
        }
        .with_slots(&refs);
        // Articles (Korean, then English, each in position order), phrasings, sentences.
        assert_eq!(segments.position, [2, 6, 0, 4, 3, 5, 1]);
        let by_slot = segments.by_slot(&refs);
        assert_eq!(by_slot[0], refs[2]);
        assert_eq!(by_slot[6], refs[1]);
        for (at, &slot) in segments.slot.iter().enumerate() {
            assert_eq!(segments.position[slot as usize], at as u32);
        }
        let located: Vec<_> = (0..7).map(|slot| segments.locate(slot)).collect();
        assert_eq!(
            located,
            [(0, 2), (1, 3), (0, 0), (1, 1), (1, 0), (1, 2), (0, 1)]
        );
    }

    /// Builds the shipped knowledge base in a new index root.
    fn shipped_root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let shipped = crate::kb::sources(&[], None);
        crate::kb::build(dir.path(), &shipped, false, &BuildOptions::default()).unwrap();
        dir
    }

    #[test]
    fn dense_article_terms_hold_the_factors_of_their_listed_postings() {
        let dir = shipped_root();
        let gen = open_current(dir.path()).unwrap();
        let (mut dense, mut listed) = (0, 0);
        for (&(lang, kind), lexicon) in &gen.lexicons {
            let articles = gen.segments.articles(lang);
            assert!(!articles.is_empty(), "{lang:?}");
            for slot in articles.clone() {
                let r = gen.doc_refs[slot as usize];
                assert_eq!((r.part, r.variant.lang()), (Part::Article, lang));
            }
            let field = gen.fields.text(lang, Part::Article, kind);
            for (text, postings) in &lexicon.common {
                let raw = gen.readers[&field]
                    .decode(field, text, |at, factor, _, _| Posting { at, factor })
                    .unwrap();
                let n = articles.len();
                match &postings.article().docs {
                    ArticleDocs::Dense(factors) => {
                        dense += 1;
                        assert!(raw.postings.len() * DENSE_SHARE >= n, "{text}");
                        assert_eq!(factors.len(), n, "{text}");
                        let held: Vec<Posting> = (articles.start..)
                            .zip(factors.iter())
                            .filter(|(_, &factor)| factor > 0.0)
                            .map(|(at, &factor)| Posting { at, factor })
                            .collect();
                        assert_eq!(held, &*raw.postings, "{text}");
                    }
                    ArticleDocs::Listed(held) => {
                        listed += 1;
                        assert!(raw.postings.len() * DENSE_SHARE < n, "{text}");
                        assert_eq!(held, &raw.postings, "{text}");
                    }
                }
                assert_eq!(postings.article().doc_freq, raw.doc_freq, "{text}");
            }
        }
        assert!(dense > 0 && listed > 0, "{dense} dense, {listed} listed");
    }

    #[test]
    fn terms_decoded_when_a_generation_opens_are_those_a_lookup_decodes() {
        let dir = shipped_root();
        let whole = open_current(dir.path()).unwrap();
        let mut part = open_current(dir.path()).unwrap();
        part.warm(4096).unwrap();
        let mut incomplete = 0;
        for (&(lang, kind), lexicon) in &whole.lexicons {
            let field = whole.fields.text(lang, Part::Article, kind);
            let terms = whole.readers[&field].by_frequency().unwrap();
            assert!(!terms.is_empty(), "{lang:?} {kind:?}");
            assert!(lexicon.complete, "{lang:?} {kind:?}");
            assert_eq!(lexicon.common.len(), terms.len(), "{lang:?} {kind:?}");
            let small = &part.lexicons[&(lang, kind)];
            assert!(!small.common.is_empty() && small.common.len() < terms.len());
            assert!(small
                .common
                .keys()
                .all(|t| terms[..small.common.len()].contains(t)));
            incomplete += usize::from(!small.complete);
            for text in terms
                .iter()
                .map(|t| &**t)
                .chain(["zzzqqq", "없는말", "无此词"])
            {
                let decoded = whole.decode(lang, kind, text).unwrap();
                assert_eq!(*whole.term(lang, kind, text).unwrap(), decoded, "{text}");
                assert_eq!(*part.term(lang, kind, text).unwrap(), decoded, "{text}");
            }
        }
        assert_eq!(incomplete, part.lexicons.len());
    }

    #[test]
    fn remembered_terms_keep_the_ones_in_use_and_stay_bounded() {
        let mut r = Remembered::default();
        r.insert("hot".into(), postings(3));
        let mut forgotten = 0;
        for i in 0..3 * REMEMBERED_TERMS {
            if r.insert(format!("cold{i}").into(), postings(1)).is_some() {
                forgotten += 1;
            }
            // A term in use is looked up by every query: found in the older half, it is
            // brought into the newer one, as `FieldReaders::postings` does.
            if !r.newer.terms.contains_key("hot") {
                let hot = r.older.terms.get("hot").cloned().expect("still remembered");
                r.insert("hot".into(), hot);
            }
        }
        assert!(
            forgotten >= 2,
            "the newer half filled up and was turned over"
        );
        assert!(r.newer.terms.len() <= REMEMBERED_TERMS);
        assert!(r.older.terms.len() <= REMEMBERED_TERMS);
        assert!(
            !r.older.terms.contains_key("cold0"),
            "old terms are forgotten"
        );
        // Postings bound each half too; a list longer than a half is never remembered.
        let before = r.newer.postings + r.older.postings;
        assert!(r
            .insert("huge".into(), postings(REMEMBERED_POSTINGS + 1))
            .is_none());
        assert!(!r.newer.terms.contains_key("huge"));
        assert_eq!(r.newer.postings + r.older.postings, before);
        r.insert("big".into(), postings(REMEMBERED_POSTINGS));
        assert_eq!(
            r.newer.postings, REMEMBERED_POSTINGS,
            "a full half turned over"
        );
    }
}
