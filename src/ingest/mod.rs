//! Reads FAQ dumps into [`Article`] values. Knows nothing of tantivy.
//!
//! Every problem is reported with the file, the line (or record number) and the field, so a
//! support team can fix its export.

mod csv;
mod jsonl;
mod zendesk;

use crate::lang::Variant;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One FAQ entry in one language. Entries with the same `id` form a translation group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// Id shared by all translations.
    pub id: String,
    /// Language of this version.
    #[serde(with = "variant_tag")]
    pub lang: Variant,
    /// Title (the canonical question).
    pub title: String,
    /// Other ways users ask the same question.
    #[serde(default)]
    pub questions: Vec<String>,
    /// The answer text (plain text).
    pub answer: String,
    /// Category, used for filtering.
    #[serde(default)]
    pub category: String,
    /// Free tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Help-center link.
    #[serde(default)]
    pub url: String,
    /// Last update as given (RFC 3339), empty when unknown.
    #[serde(default)]
    pub updated_at: String,
}

impl Article {
    /// Returns the update time in seconds since the epoch, when known.
    pub fn updated_ts(&self) -> Option<i64> {
        parse_time(&self.updated_at)
    }
}

/// Parses an RFC 3339 timestamp into seconds since the epoch.
pub fn parse_time(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

mod variant_tag {
    use crate::lang::Variant;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Variant, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.tag())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Variant, D::Error> {
        let s = String::deserialize(d)?;
        Variant::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// One parsed record: the article with where it came from, or what is wrong with it.
pub type Parsed = Result<(Origin, Article), RecordError>;

/// A dump file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Canonical JSON Lines, one article per line.
    Jsonl,
    /// CSV with the canonical column names; list fields joined with `|`.
    Csv,
    /// Zendesk Help Center article export (`{"articles": [...]}`).
    Zendesk,
}

impl Format {
    /// Guesses the format from a file name: `.jsonl`/`.ndjson`, `.csv`, `.json`.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Zendesk),
            _ => None,
        }
    }
}

/// Where a record came from: file and line (or the record's number in a call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The dump's name (its path, or `<shipped>` for the embedded knowledge base).
    pub file: String,
    /// 1-based line (the record's first), or number in a call (`unit`); 0 for the whole file.
    pub line: usize,
    /// Whether `line` is a line number or another unit's (`article` in an upsert).
    pub unit: &'static str,
    /// The record's 1-based number in a JSON export (whose records may share a line), or 0.
    pub record: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)?;
        } else if self.unit == "line" {
            write!(f, "{}:{}", self.file, self.line)?;
        } else {
            write!(f, "{}: {} {}", self.file, self.unit, self.line)?;
        }
        if self.record > 0 {
            write!(f, " (record {})", self.record)?;
        }
        Ok(())
    }
}

/// One problem in a dump.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {}{message}", field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
pub struct RecordError {
    /// Where.
    pub origin: Origin,
    /// The field at fault, if one is.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How many records it keeps out of the index: 1, or a whole file's when its header
    /// cannot be read.
    pub records: usize,
}

/// Returns how many records the errors keep out of the index.
pub fn records_kept_out(errors: &[RecordError]) -> usize {
    errors.iter().map(|e| e.records).sum()
}

/// Returns `path` as an absolute path (against the working directory), for logs and
/// messages: a relative path names a different file from each directory.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Reads a dump file; a failure names the path as resolved against the working directory.
pub fn read_file(path: &Path) -> Result<Vec<u8>, IngestError> {
    std::fs::read(path).map_err(|error| IngestError::Read {
        path: absolute(path),
        error,
    })
}

/// A dump that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file cannot be opened or read.
    #[error("failed to read {path}: {error}")]
    Read {
        /// The file, as resolved against the working directory.
        path: PathBuf,
        /// Why (in the message, not a separate source, so that it is said once).
        error: std::io::Error,
    },
    /// The format cannot be told from the file name.
    #[error("{path}: cannot tell the dump format from the extension (use .jsonl, .csv or .json, or --format)")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The whole file is malformed (e.g. a Zendesk export that is not JSON).
    #[error("{0}")]
    Malformed(RecordError),
}

/// A dump to read: a file, or text with a name (the shipped knowledge base).
#[derive(Debug, Clone)]
pub enum Source {
    /// A file on disk, with an optional explicit format.
    File(PathBuf, Option<Format>),
    /// In-memory JSONL text with a display name.
    Embedded(&'static str, &'static str),
    /// A file already read (by the admin API, which opens dumps itself), with its name in
    /// messages, its format, and the absolute path a generation records.
    Read(String, std::sync::Arc<[u8]>, Format, PathBuf),
}

impl Source {
    /// Returns the name used in messages.
    pub fn name(&self) -> String {
        match self {
            Source::File(p, _) => p.display().to_string(),
            Source::Embedded(name, _) => name.to_string(),
            Source::Read(name, _, _, _) => name.clone(),
        }
    }

    /// Returns the name a generation records: a file's absolute path (a relative one names
    /// another file from another directory), else [`Source::name`].
    pub fn recorded_name(&self) -> String {
        match self {
            Source::File(p, _) => absolute(p).display().to_string(),
            Source::Read(_, _, _, path) => path.display().to_string(),
            other => other.name(),
        }
    }
}

/// The articles read from one or more dumps, and every record-level problem found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Valid articles, in dump order, without duplicates.
    pub articles: Vec<Article>,
    /// Invalid records (skipped), in order.
    pub errors: Vec<RecordError>,
    /// Valid records with an empty answer (kept: a labelled set's bank has none, but a hit
    /// on one shows its title only), in order.
    pub empty_answers: Vec<RecordError>,
    /// Fields (JSONL) and columns (CSV) that are not faqd's and were ignored: one entry per
    /// name and dump, at its first occurrence, with how many records had it.
    pub ignored_fields: Vec<RecordError>,
    /// Drafts left out (`draft: true`; unpublished in a Zendesk export).
    pub drafts: usize,
}

/// Reads every source. File-level failures abort: a file that cannot be read, one named twice
/// (as the same file), one with no records; record-level problems (including duplicate
/// `(id, lang)` pairs across all sources) are collected in [`Loaded::errors`].
pub fn load(sources: &[Source]) -> Result<Loaded, IngestError> {
    let mut loaded = Loaded::default();
    let mut seen: HashMap<(String, Variant), Origin> = HashMap::new();
    // (User trial: one file named twice was reported as every one of its records being a
    // duplicate of itself.)
    let mut files: HashMap<PathBuf, String> = HashMap::new();
    for source in sources {
        // Compared as files: `./a.jsonl` and `a.jsonl`, or a link and its target, are one.
        let file = match source {
            Source::File(p, _) | Source::Read(_, _, _, p) => {
                std::fs::canonicalize(p).unwrap_or_else(|_| absolute(p))
            }
            Source::Embedded(name, _) => PathBuf::from(name),
        };
        if let Some(first) = files.insert(file.clone(), source.name()) {
            return Err(IngestError::Malformed(file_error(
                &source.name(),
                format!(
                    "is given twice (first as {first}, both {}): name each dump once",
                    file.display()
                ),
            )));
        }
    }
    for source in sources {
        let (name, text, format) = match source {
            Source::File(path, format) => {
                let format = format
                    .or_else(|| Format::from_path(path))
                    .ok_or_else(|| IngestError::UnknownFormat { path: path.clone() })?;
                let bytes = read_file(path)?;
                let name = path.display().to_string();
                let text = utf8(&name, bytes)?;
                (name, text, format)
            }
            Source::Embedded(name, text) => (name.to_string(), text.to_string(), Format::Jsonl),
            Source::Read(name, bytes, format, _) => {
                (name.clone(), utf8(name, bytes.to_vec())?, *format)
            }
        };
        let mut ignored = Ignored::default();
        let records = match format {
            Format::Jsonl => jsonl::parse(&name, &text, &mut ignored),
            Format::Csv => csv::parse(&name, &text, &mut ignored),
            Format::Zendesk => {
                zendesk::parse(&name, &text, &mut ignored).map_err(IngestError::Malformed)?
            }
        };
        if records.is_empty() && ignored.drafts == 0 {
            // (User trial: a zero-byte export among three dumps was indexed without a word,
            // and every article of its language left the index.)
            let body = text.trim_start_matches('\u{feff}');
            let what = if body.is_empty() {
                "is empty"
            } else if body.trim().is_empty() {
                "holds only blank lines"
            } else {
                "holds no records"
            };
            return Err(IngestError::Malformed(file_error(
                &name,
                format!(
                    "{what}: a dump holds at least one article; leave it out of the dumps to \
                     index nothing from it"
                ),
            )));
        }
        loaded.drafts += ignored.drafts;
        loaded.ignored_fields.extend(ignored.into_errors());
        for record in records {
            match record {
                Ok((origin, article)) => {
                    let key = (article.id.clone(), article.lang);
                    if let Some(first) = seen.get(&key) {
                        loaded.errors.push(RecordError {
                            records: 1,
                            origin,
                            field: Some("id".into()),
                            message: format!(
                                "duplicate article {} in {} (first at {first})",
                                excerpt(&article.id),
                                article.lang
                            ),
                        });
                        continue;
                    }
                    if article.answer.trim().is_empty() {
                        loaded.empty_answers.push(RecordError {
                            records: 1,
                            origin: origin.clone(),
                            field: Some("answer".into()),
                            message: format!("empty (article {})", excerpt(&article.id)),
                        });
                    }
                    seen.insert(key, origin);
                    loaded.articles.push(article);
                }
                Err(e) => loaded.errors.push(e),
            }
        }
    }
    Ok(loaded)
}

/// A problem with a whole file.
fn file_error(name: &str, message: String) -> RecordError {
    RecordError {
        origin: Origin {
            file: name.to_string(),
            line: 0,
            unit: "line",
            record: 0,
        },
        field: None,
        message,
        records: 0,
    }
}

/// The fields of a canonical record (JSONL keys, CSV columns), in order.
pub(crate) const FIELDS: [&str; 10] = [
    "id",
    "lang",
    "title",
    "questions",
    "answer",
    "category",
    "tags",
    "url",
    "updated_at",
    "draft",
];

/// The fields a record cannot do without.
const REQUIRED: [&str; 4] = ["id", "lang", "title", "answer"];

/// Names other exports and schemas give faqd's fields, as (name, field).
const OTHER_NAMES: &[(&str, &str)] = &[
    ("language", "lang"),
    ("locale", "lang"),
    ("alt_questions", "questions"),
    ("paraphrases", "questions"),
    ("variants", "questions"),
    ("body", "answer"),
    ("body_html", "answer"),
    ("answer_html", "answer"),
    ("description_text", "answer"),
    ("solution", "answer"),
    ("content", "answer"),
    ("reply", "answer"),
    ("response", "answer"),
    ("name", "title"),
    ("subject", "title"),
    ("tag", "tags"),
    ("labels", "tags"),
    ("label_names", "tags"),
    ("keywords", "tags"),
    ("section", "category"),
    ("section_id", "category"),
    ("categories", "category"),
    ("link", "url"),
    ("html_url", "url"),
    ("updated", "updated_at"),
    ("modified", "updated_at"),
    ("last_modified", "updated_at"),
    ("updated_time", "updated_at"),
    ("is_draft", "draft"),
    ("unpublished", "draft"),
];

/// How an unknown name resembles one of faqd's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Likeness {
    /// The same name in another case, with other separators, or the singular of a list
    /// field's name (`Title`, `updatedAt`, `tag`).
    Spelling,
    /// One letter added, left out, changed or swapped in a name of five letters or more
    /// (`questons`, `catgory`; shorter names are too often other words: `uri`, `tabs`).
    Typo,
    /// The name another export or schema gives the field (`language`, `body`, `keywords`).
    OtherName,
}

/// Returns the faqd field an unknown name resembles, and how.
fn resembles(name: &str) -> Option<(&'static str, Likeness)> {
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let key = fold(name);
    if key.is_empty() {
        return None;
    }
    let field = |likeness| move |f: &&'static str| (*f, likeness);
    // The singular of a list field's name is another spelling of it (`tag`, `question`): its
    // one value is the list's. (A plural of a field of one value, `categories`, `urls`, most
    // likely holds a list, which that field cannot take: warned about, review.)
    FIELDS
        .iter()
        .find(|f| fold(f) == key || fold(f).strip_suffix('s') == Some(key.as_str()))
        .map(field(Likeness::Spelling))
        .or_else(|| {
            OTHER_NAMES
                .iter()
                .find(|(other, _)| fold(other) == key)
                .map(|(_, f)| (*f, Likeness::OtherName))
        })
        .or_else(|| {
            (key.chars().count() >= 5)
                .then(|| {
                    FIELDS.iter().find(|f| {
                        rapidfuzz::distance::osa::distance(fold(f).chars(), key.chars()) <= 1
                    })
                })
                .flatten()
                .map(field(Likeness::Typo))
        })
}

/// A name of a record (JSONL) or header (CSV) that is not faqd's, ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unknown<'a> {
    pub name: &'a str,
    /// The faqd field it resembles, named in the report.
    pub like: Option<&'static str>,
    /// Whether its text would be lost where that field has none ([`check_names`]): a CSV
    /// checks this row by row when the dump has both columns.
    pub lost_where_empty: bool,
}

/// Returns true when, under `name`, text would be lost where `field` has none: `name` is
/// another spelling or a typo of it, or another export's name for a field that must not be
/// missed (a required one, or `draft`, whose loss would publish an unpublished text).
fn lost_where_empty(field: &str, likeness: Likeness) -> bool {
    likeness != Likeness::OtherName || REQUIRED.contains(&field) || field == "draft"
}

/// Returns the faqd field an unknown name resembles, if any (for [`check_names`]' callers,
/// which judge a name like `Draft` by what `draft` would read in it).
pub(crate) fn resembled(name: &str) -> Option<&'static str> {
    resembles(name).map(|(field, _)| field)
}

/// Returns true when a field of another export marks its record unpublished
/// (`status`/`state` `draft` or `unpublished`, `published`/`is_published` false): faqd
/// reads only `draft`, so the record would be served.
fn marks_unpublished(name: &str, value: &str) -> bool {
    let key: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let value = value.trim().to_ascii_lowercase();
    match key.as_str() {
        "published" | "ispublished" => matches!(value.as_str(), "false" | "no" | "0"),
        _ => is_state_field(name) && matches!(value.as_str(), "draft" | "unpublished"),
    }
}

/// Says why a record cannot be served as it is when a field of another export marks it
/// unpublished ([`marks_unpublished`]) or holds a numbered state, which exports number
/// differently: in a Freshdesk record (`freshdesk`: it has `folder_id` or
/// `description_text`) 1 is a draft and 2 published, elsewhere a number cannot be read
/// either way (user trial: Freshdesk's `status: 1` was ignored and the draft served).
pub(crate) fn unpublished(name: &str, value: &str, freshdesk: bool) -> Option<String> {
    if marks_unpublished(name, value) {
        return Some(unpublished_message(value));
    }
    let value = value.trim();
    if !is_state_field(name) || value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match (freshdesk, value) {
        (true, "2") => None,
        (true, "1") => Some(
            "1 is Freshdesk's draft state, an unpublished article, which faqd would serve: faqd \
             leaves out records with `draft` true (set it, or take the record out of the dump)"
                .to_string(),
        ),
        _ => Some(format!(
            "{value} is a numbered state, which faqd cannot read: exports number their states \
             differently (in Freshdesk, 1 is a draft and 2 published), and a draft would be \
             served: set `draft` true or false in the record"
        )),
    }
}

/// Returns true for the names exports give a record's publication state.
fn is_state_field(name: &str) -> bool {
    let key: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    matches!(
        key.as_str(),
        "status" | "state" | "publishstatus" | "publicationstatus"
    )
}

/// Field names only a Freshdesk solution article has.
pub(crate) const FRESHDESK_FIELDS: [&str; 2] = ["folder_id", "description_text"];

/// The message for a record [`marks_unpublished`].
fn unpublished_message(value: &str) -> String {
    format!(
        "{} marks an unpublished article, which faqd would serve: faqd leaves out records \
         with `draft` true (set it, or take the record out of the dump)",
        excerpt(value)
    )
}

/// Checks the names of one record (JSONL) or of a header (CSV): `filled(name)` says whether
/// the record has text under a name (for a header: whether it has the column). Returns the
/// names that are not faqd's, to be ignored and reported once per dump, or what is wrong.
///
/// A name that is not faqd's but resembles one of its fields is an error when that field
/// has no text and the name has some, so that the text would be lost without a word: for
/// a required field (`language` for `lang`, `body` for `answer`), for another spelling of
/// any field (`Title`, `updatedAt`), and for a typo of one (`questons`). A name other
/// exports give an optional field (`keywords`, `section`, `link`) is only ignored: dumps
/// carry such fields for their own uses.
pub(crate) fn check_names<'a>(
    names: impl Iterator<Item = &'a str>,
    filled: impl Fn(&str) -> bool,
    what: &str,
) -> Result<Vec<Unknown<'a>>, Vec<String>> {
    let (mut unknown, mut problems) = (Vec::new(), Vec::new());
    for name in names {
        if FIELDS.contains(&name) {
            continue;
        }
        let like = resembles(name);
        match like {
            Some((field, likeness))
                if !filled(field) && filled(name) && lost_where_empty(field, likeness) =>
            {
                let name = shown(name);
                problems.push(format!(
                    "{what} `{name}` is not faqd's: did you mean `{field}`? (there is no \
                     `{field}`{}, so its text would be lost)",
                    if what == "field" { " with text" } else { "" }
                ))
            }
            _ => unknown.push(Unknown {
                name,
                like: like.map(|(f, _)| f),
                lost_where_empty: like.is_some_and(|(f, l)| lost_where_empty(f, l)),
            }),
        }
    }
    if problems.is_empty() {
        Ok(unknown)
    } else {
        Err(problems)
    }
}

/// Reads a `draft` value: whether the record is unpublished. `true`, `"true"`, `"yes"`, `1`
/// are drafts; `false`, `"false"`, `"no"`, `0`, empty and null are not; anything else is an
/// error (read as published, an unpublished text would be served).
pub(crate) fn is_draft(v: &serde_json::Value) -> Result<bool, String> {
    match v {
        serde_json::Value::Bool(b) => Ok(*b),
        serde_json::Value::Null => Ok(false),
        serde_json::Value::String(s) => draft_text(s),
        serde_json::Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        serde_json::Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        other => Err(format!("{other} is not true or false")),
    }
}

/// [`is_draft`] for a value written as text (a CSV cell).
pub(crate) fn draft_text(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" | "" => Ok(false),
        _ => Err(format!("{} is not true or false", excerpt(s))),
    }
}

/// Returns a name as a message shows it: escaped (`"title\u{200b}"`) when it holds
/// characters that do not show, such as a zero-width space, which would make it look like
/// the field it is not.
fn shown(name: &str) -> String {
    let escaped = format!("{name:?}");
    if escaped[1..escaped.len() - 1] == *name {
        name.to_string()
    } else {
        escaped
    }
}

/// The names of faqd's fields, for messages.
pub(crate) fn field_list() -> String {
    FIELDS.map(|f| format!("`{f}`")).join(", ")
}

/// Unknown field names seen in one dump: each with its first place and how many records.
#[derive(Debug, Default)]
pub(crate) struct Ignored {
    seen: Vec<(String, Origin, usize, Option<&'static str>)>,
    /// Whether the names are CSV columns (else JSONL fields).
    columns: bool,
    /// Drafts left out of the dump ([`Ignored::drafts`]).
    drafts: usize,
}

impl Ignored {
    /// Counts (and logs) the drafts a dump left out.
    pub(crate) fn drafts(&mut self, file: &str, drafts: usize) {
        if drafts > 0 {
            tracing::info!(file, drafts, "drafts (\"draft\": true) not indexed");
        }
        self.drafts += drafts;
    }

    /// Counts `records` more records with the unknown name, first seen at `origin`.
    pub(crate) fn saw(&mut self, origin: &Origin, unknown: &Unknown, records: usize) {
        match self.seen.iter_mut().find(|(n, ..)| n == unknown.name) {
            Some((_, _, count, _)) => *count += records,
            None => self.seen.push((
                unknown.name.to_string(),
                origin.clone(),
                records,
                unknown.like,
            )),
        }
    }

    /// Reports columns rather than fields.
    pub(crate) fn columns(&mut self) {
        self.columns = true;
    }

    fn into_errors(self) -> Vec<RecordError> {
        let what = if self.columns { "column" } else { "field" };
        self.seen
            .into_iter()
            .map(|(name, origin, count, like)| RecordError {
                // Ignored, not kept out.
                records: 0,
                message: format!(
                    "not a faqd {what}, ignored ({count} record{}; first here){}",
                    if count == 1 { "" } else { "s" },
                    like.map(|f| format!("; faqd's {what} for this is `{f}`"))
                        .unwrap_or_default()
                ),
                origin,
                field: Some(shown(&name)),
            })
            .collect()
    }
}

/// Line numbers of byte offsets, counted forward from the last offset asked for (records come
/// in order, so a dump is scanned once).
pub(crate) struct Lines<'a> {
    bytes: &'a [u8],
    /// The last offset counted to, and its line.
    at: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    /// Counts lines in `bytes` from its start.
    pub(crate) fn new(bytes: &'a [u8]) -> Lines<'a> {
        Lines {
            bytes,
            at: 0,
            line: 1,
        }
    }

    /// The line of the record starting at `byte`: of its first byte after any line endings
    /// before it.
    pub(crate) fn start(&mut self, byte: u64) -> u64 {
        let mut at = (byte as usize).min(self.bytes.len());
        while at < self.bytes.len() && matches!(self.bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        self.line_at(at)
    }

    /// The line of the record ending at `byte`: of its last byte before the line ending
    /// that closed it.
    pub(crate) fn end(&mut self, byte: u64) -> u64 {
        let mut at = (byte as usize).min(self.bytes.len());
        while at > 0 && matches!(self.bytes[at - 1], b'\r' | b'\n') {
            at -= 1;
        }
        self.line_at(at.saturating_sub(1))
    }

    /// The line of the byte at offset `at`.
    pub(crate) fn line_at(&mut self, at: usize) -> u64 {
        if at < self.at {
            // Backwards (not expected): count again from the start.
            (self.at, self.line) = (0, 1);
        }
        self.line += self.bytes[self.at..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.at = at;
        self.line
    }
}

/// Decodes a dump as UTF-8, or names the line and byte offset of the first invalid byte.
fn utf8(name: &str, bytes: Vec<u8>) -> Result<String, IngestError> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
        let line_start = bytes[..offset]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |at| at + 1);
        IngestError::Malformed(RecordError {
            records: 1,
            origin: Origin {
                file: name.to_string(),
                line,
                unit: "line",
                record: 0,
            },
            field: None,
            message: if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
                "the file is UTF-16 (it starts with a UTF-16 byte-order mark): dumps must be \
                 UTF-8; save it as UTF-8 (in Excel: \"CSV UTF-8\")"
                    .to_string()
            } else {
                // A lead byte and a trail byte of the double-byte encodings spreadsheets on
                // Korean and Chinese Windows save in.
                let legacy = matches!(bytes[offset..], [0x81..=0xfe, 0x81..=0xfe, ..]);
                format!(
                    "invalid UTF-8 at byte offset {offset} (byte {} of the line): dumps must be \
                     UTF-8{}",
                    offset - line_start + 1,
                    if legacy {
                        " (this looks like a legacy encoding such as CP949/EUC-KR, GBK or \
                         Big5: save the file as UTF-8; in Excel: \"CSV UTF-8\")"
                    } else {
                        ""
                    }
                )
            },
        })
    })
}

/// Most characters of a value quoted in an error message: enough to find it, never a page
/// of whatever file was read.
const EXCERPT_CHARS: usize = 40;

/// Returns `value` quoted for an error message, cut to [`EXCERPT_CHARS`] characters.
pub fn excerpt(value: &str) -> String {
    match value.char_indices().nth(EXCERPT_CHARS) {
        None => format!("{value:?}"),
        Some((at, _)) => format!(
            "{:?}... ({} characters)",
            &value[..at],
            value.chars().count()
        ),
    }
}

/// Replaces the top-level numbers of a JSON record that a 64-bit float cannot hold exactly
/// (ids such as `123456789012345678901234567890`) by their text as written, read from the
/// record's raw JSON (`raw`, parsed only when such a number is present).
pub(crate) fn exact_numbers(
    obj: &mut serde_json::Map<String, serde_json::Value>,
    raw: impl FnOnce() -> Option<HashMap<String, Box<serde_json::value::RawValue>>>,
) {
    let inexact = |v: &serde_json::Value| matches!(v, serde_json::Value::Number(n) if !n.is_i64() && !n.is_u64());
    if !obj.values().any(inexact) {
        return;
    }
    let Some(raw) = raw() else {
        return;
    };
    for (key, value) in obj.iter_mut() {
        if inexact(value) {
            if let Some(text) = raw.get(key) {
                *value = serde_json::Value::String(text.get().trim().to_string());
            }
        }
    }
}

/// Longest text field, in characters. An FAQ answer is at most a few thousand; a field over
/// this is a pasted log or an encoded file, which would make every hit on it megabytes long
/// and keep the encoder busy for minutes.
pub const MAX_FIELD_CHARS: usize = 100_000;

/// Builds an article from field values, checking required fields. Shared by every format.
pub(crate) struct Fields<'a> {
    pub origin: &'a Origin,
}

/// Fewest letters a text needs before its script is held against its language tag.
const MISMATCH_MIN_LETTERS: usize = 8;
/// Fewest characters of the other Chinese script (four times as many as of its own) before
/// a `zh` or `zh-Hant` text is taken for the other script.
const SCRIPT_MIN_CHARACTERS: usize = 3;

/// Says why an article's language tag cannot be right for the script its title, questions
/// and answer are written in, e.g. `lang: en` over Korean text: such a version is analysed
/// as the wrong language and searched for by the wrong readers, so its own title does not
/// find it. Only a plain contradiction counts: Korean with no Hangul, Chinese with no Han
/// character, English or Chinese whose letters are mostly Hangul, English whose letters
/// are mostly Han, Chinese in the other script ([`SCRIPT_MIN_CHARACTERS`]); Japanese (kana)
/// is named as unsupported. Mixed texts (an English answer quoting a Korean menu name) pass.
pub fn language_mismatch(a: &Article) -> Option<String> {
    let texts = [a.title.as_str(), a.answer.as_str()]
        .into_iter()
        .chain(a.questions.iter().map(String::as_str));
    let (text, tag) = script_mismatch(a.lang, texts)?;
    Some(format!(
        "`{}`, but the text of its title, questions and answer {text}; {}",
        a.lang.tag(),
        match tag {
            Some(tag) => format!("use `{tag}` if that is its language, or fix the text"),
            None => "faqd serves ko, en and zh only: leave it out, or fix the text".to_string(),
        }
    ))
}

/// The test of [`language_mismatch`] on any texts tagged `lang`: what the texts are instead
/// (`is Korean: 17 of its 17 letters are Hangul`) and the tag to use (`None` for Japanese).
pub fn script_mismatch<'t>(
    lang: Variant,
    texts: impl Iterator<Item = &'t str> + Clone,
) -> Option<(String, Option<&'static str>)> {
    use crate::analysis::{is_han, is_hangul, is_kana};
    let (mut hangul, mut han, mut kana, mut latin) = (0usize, 0usize, 0usize, 0usize);
    let texts = || texts.clone();
    for c in texts().flat_map(str::chars) {
        if is_hangul(c) {
            hangul += 1;
        } else if is_han(c) {
            han += 1;
        } else if is_kana(c) {
            kana += 1;
        } else if c.is_alphabetic() && (c as u32) < 0x250 {
            latin += 1;
        }
    }
    let letters = hangul + han + kana + latin;
    if letters < MISMATCH_MIN_LETTERS {
        return None;
    }
    let most = |n: usize| n * 2 > letters;
    let of = |n: usize, what: &str| format!("{n} of its {letters} letters are {what}");
    let (text, tag) = if kana * 5 > letters && (han + kana) * 2 > letters {
        let counted = of(han + kana, "kana or kanji");
        (format!("is Japanese: {counted}"), None)
    } else {
        match lang {
            Variant::Ko if hangul == 0 && most(han) => (
                format!(
                    "is Chinese: {} and none is Hangul",
                    of(han, "Han characters")
                ),
                Some("zh"),
            ),
            Variant::Ko if hangul == 0 && most(latin) => (
                format!("has no Korean: {} and none is Hangul", of(latin, "Latin")),
                Some("en"),
            ),
            Variant::En if most(hangul) => {
                (format!("is Korean: {}", of(hangul, "Hangul")), Some("ko"))
            }
            Variant::En if most(han) => (
                format!("is Chinese: {}", of(han, "Han characters")),
                Some("zh"),
            ),
            Variant::Zh | Variant::ZhHant if most(hangul) => {
                (format!("is Korean: {}", of(hangul, "Hangul")), Some("ko"))
            }
            Variant::Zh | Variant::ZhHant if han == 0 && most(latin) => (
                format!(
                    "has no Chinese: {} and none is a Han character",
                    of(latin, "Latin")
                ),
                Some("en"),
            ),
            Variant::Zh | Variant::ZhHant => {
                // The other script: shown unconverted to the readers of this one, and
                // flagged converted to those of the other (second trial).
                let (traditional, simplified) = texts()
                    .map(crate::translate::script_characters)
                    .fold((0, 0), |(t, s), (t1, s1)| (t + t1, s + s1));
                let (ours, theirs, name, tag) = match lang {
                    Variant::Zh => (simplified, traditional, "Traditional", "zh-Hant"),
                    _ => (traditional, simplified, "Simplified", "zh"),
                };
                if theirs < SCRIPT_MIN_CHARACTERS || theirs < 4 * ours {
                    return None;
                }
                (
                    format!(
                        "is {name} Chinese: {theirs} of its {} characters written differently \
                         in the two scripts are {name}",
                        theirs + ours
                    ),
                    Some(tag),
                )
            }
            _ => return None,
        }
    };
    Some((text, tag))
}

impl Fields<'_> {
    pub fn error(&self, field: &str, message: impl Into<String>) -> RecordError {
        RecordError {
            records: 1,
            origin: self.origin.clone(),
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    /// Returns a required non-empty text field.
    pub fn required(&self, field: &str, value: Option<String>) -> Result<String, RecordError> {
        match value {
            None => Err(self.error(field, "missing required field")),
            Some(v) if v.trim().is_empty() => Err(self.error(field, "must not be empty")),
            Some(v) => self.bounded(field, v.trim()),
        }
    }

    /// Returns `a` when its language (field `lang_field`) fits the script its text is
    /// written in ([`language_mismatch`]) and [`Fields::bounded_article`] holds.
    pub fn checked_article(&self, a: Article, lang_field: &str) -> Result<Article, RecordError> {
        if let Some(problem) = language_mismatch(&a) {
            return Err(self.error(lang_field, problem));
        }
        self.bounded_article(a)
    }

    /// Returns `a` when its other text fields (questions, tags, category, url) are within
    /// [`MAX_FIELD_CHARS`] too (id, title and answer are checked as they are read).
    fn bounded_article(&self, a: Article) -> Result<Article, RecordError> {
        for (i, q) in a.questions.iter().enumerate() {
            self.bounded(&format!("questions[{i}]"), q)?;
        }
        for (i, t) in a.tags.iter().enumerate() {
            self.bounded(&format!("tags[{i}]"), t)?;
        }
        self.bounded("category", &a.category)?;
        self.bounded("url", &a.url)?;
        Ok(a)
    }

    /// Returns `v`, or an error when it is over [`MAX_FIELD_CHARS`].
    fn bounded(&self, field: &str, v: &str) -> Result<String, RecordError> {
        if v.len() > MAX_FIELD_CHARS {
            let chars = v.chars().count();
            if chars > MAX_FIELD_CHARS {
                return Err(self.error(
                    field,
                    format!("{chars} characters, over the limit of {MAX_FIELD_CHARS} per field"),
                ));
            }
        }
        Ok(v.to_string())
    }

    /// Returns a required article id: non-empty, without control characters (a NUL, a
    /// newline or a tab in an id breaks every tool that prints or compares it).
    pub fn id(&self, field: &str, value: Option<String>) -> Result<String, RecordError> {
        let id = self.required(field, value)?;
        match id.chars().position(char::is_control) {
            None => Ok(id),
            Some(at) => {
                let c = id.chars().nth(at).unwrap_or_default();
                Err(self.error(
                    field,
                    format!(
                        "must not contain control characters (U+{:04X} at character {}): {}",
                        c as u32,
                        at + 1,
                        excerpt(&id)
                    ),
                ))
            }
        }
    }

    /// Returns a text field that must be present but may be empty (question-only entries).
    pub fn present(&self, field: &str, value: Option<String>) -> Result<String, RecordError> {
        let v = value.ok_or_else(|| self.error(field, "missing required field"))?;
        self.bounded(field, v.trim())
    }

    /// Returns the parsed language of a record.
    pub fn lang(&self, field: &str, value: Option<String>) -> Result<Variant, RecordError> {
        let v = self.required(field, value)?;
        Variant::parse(&v).map_err(|_| {
            let meant = crate::lang::meant_by(&v);
            self.error(
                field,
                format!(
                    "unsupported language {}: {}supported languages are ko, en, zh (locale \
                     tags such as ko-KR, en_US, zh-TW, zh-Hant are accepted)",
                    excerpt(&v),
                    meant
                        .map(|m| format!("did you mean {m}? "))
                        .unwrap_or_default()
                ),
            )
        })
    }

    /// Checks an optional RFC 3339 timestamp.
    pub fn time(&self, field: &str, value: Option<String>) -> Result<String, RecordError> {
        let v = value.unwrap_or_default().trim().to_string();
        if !v.is_empty() && parse_time(&v).is_none() {
            return Err(self.error(
                field,
                format!("{} is not an RFC 3339 timestamp", excerpt(&v)),
            ));
        }
        Ok(v)
    }
}
