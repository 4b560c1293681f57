//! What the memory of a served generation holds, and keeping one memory per generation.
//!
//! - Canned replies (`index/replies.jsonl`, compiled in): `{"id", "ko", "en", "zh", ...}`,
//!   every language tag a key; origin `reply:<id>`. Added first, so a reply wins over an FAQ
//!   sentence with the same source text.
//! - FAQ article groups: titles aligned across all versions; origin `faq:<article id>`.
//!
//! Replies and answers are entered whole, and sentence by sentence for each pair of versions
//! that split into the same number of sentences ([`super::text::segments`]).

use super::{Memory, MemoryBuilder};
use crate::index::Generation;
use crate::ingest::Article;
use crate::lang::Variant;
use arc_swap::ArcSwapOption;
use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock, Weak};

/// The canned replies shipped in `index/replies.jsonl`.
pub const SHIPPED_REPLIES: &str = include_str!("../../../index/replies.jsonl");

/// Texts aligned across languages: a canned reply, or one line of a parallel corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct Aligned {
    /// Its id (`id` field; a number is taken as its decimal string).
    pub id: String,
    /// The texts by language tag.
    pub texts: Vec<(Variant, String)>,
}

/// Parses aligned JSONL: one object per line with an `id` and one string per language tag
/// (at least two). Keys that are not supported language tags are an error, or, with
/// `ignore_unknown`, skipped and returned. Errors name the line and the field.
pub fn parse_aligned(
    name: &str,
    jsonl: &str,
    ignore_unknown: bool,
) -> Result<(Vec<Aligned>, BTreeSet<String>), String> {
    let mut out = Vec::new();
    let mut ignored = BTreeSet::new();
    // Every bad line is named, as a dump's bad records are (user trial: a replies file
    // stopped at its first).
    let mut errors = Vec::new();
    // (User trial: two replies with one id were both taken, under one origin.)
    let mut lines_of: std::collections::HashMap<String, usize> = Default::default();
    for (i, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match aligned_line(name, i + 1, line, ignore_unknown, &mut ignored) {
            Ok(a) => match lines_of.get(&a.id) {
                Some(first) => errors.push(format!(
                    "{name}:{}: field `id`: {:?} is already the id of line {first}",
                    i + 1,
                    a.id
                )),
                None => {
                    lines_of.insert(a.id.clone(), i + 1);
                    out.push(a);
                }
            },
            Err(e) => errors.push(e),
        }
    }
    if errors.len() > LISTED_LINES {
        let more = errors.len() - LISTED_LINES;
        errors.truncate(LISTED_LINES);
        errors.push(format!("{name}: and {more} more bad lines"));
    }
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    Ok((out, ignored))
}

/// Most bad lines of aligned JSONL named in its error (the rest are counted).
const LISTED_LINES: usize = 50;

/// Parses line `n` of aligned JSONL ([`parse_aligned`]).
fn aligned_line(
    name: &str,
    n: usize,
    line: &str,
    ignore_unknown: bool,
    ignored: &mut BTreeSet<String>,
) -> Result<Aligned, String> {
    let obj: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(line).map_err(|e| format!("{name}:{n}: invalid JSON: {e}"))?;
    let mut id = None;
    let mut texts = Vec::new();
    for (key, value) in obj {
        if key == "id" {
            id = match value {
                serde_json::Value::String(s) if !s.trim().is_empty() => Some(s),
                serde_json::Value::Number(x) => Some(x.to_string()),
                _ => None,
            };
            continue;
        }
        let v = match Variant::parse(&key) {
            Ok(v) => v,
            Err(_) if ignore_unknown => {
                ignored.insert(key);
                continue;
            }
            Err(e) => return Err(format!("{name}:{n}: field `{key}`: {e}")),
        };
        let Some(s) = value.as_str() else {
            return Err(format!("{name}:{n}: field `{key}`: expected a string"));
        };
        texts.push((v, s.to_string()));
    }
    let id = id.ok_or_else(|| format!("{name}:{n}: field `id`: missing or empty"))?;
    if texts.len() < 2 {
        return Err(format!(
            "{name}:{n}: {id:?} needs texts in at least two languages"
        ));
    }
    Ok(Aligned { id, texts })
}

/// Parses canned replies (`{"id", "ko", "en", "zh"}` per line; every other key must be a
/// language tag).
pub fn parse_replies(name: &str, jsonl: &str) -> Result<Vec<Aligned>, String> {
    parse_aligned(name, jsonl, false).map(|(r, _)| r)
}

static REPLIES: LazyLock<Vec<Aligned>> = LazyLock::new(|| {
    parse_replies("index/replies.jsonl", SHIPPED_REPLIES)
        .expect("the shipped index/replies.jsonl is valid (checked by a unit test)")
});

/// Adds the aligned texts of one article group: titles, and answers whole and sentence by
/// sentence.
fn add_group(b: &mut MemoryBuilder, group: &[Arc<Article>]) {
    let Some(first) = group.first() else { return };
    let origin = format!("faq:{}", first.id);
    let titles: Vec<(Variant, &str)> = group.iter().map(|a| (a.lang, a.title.as_str())).collect();
    b.add_aligned(&titles, &origin);
    let answers: Vec<(Variant, &str)> = group.iter().map(|a| (a.lang, a.answer.as_str())).collect();
    b.add_aligned_segments(&answers, &origin);
}

/// Builds a memory from canned replies and FAQ article groups.
pub fn from_sources(replies: &[Aligned], groups: &[Vec<Arc<Article>>]) -> Memory {
    let mut b = MemoryBuilder::default();
    for r in replies {
        let texts: Vec<(Variant, &str)> = r.texts.iter().map(|(v, t)| (*v, t.as_str())).collect();
        b.add_aligned_segments(&texts, &format!("reply:{}", r.id));
    }
    for g in groups {
        add_group(&mut b, g);
    }
    b.build()
}

/// Builds the memory of a generation: the shipped canned replies plus its article groups.
pub fn for_generation(gen: &Generation) -> Memory {
    from_sources(&REPLIES, &gen.groups)
}

/// Reads the canned replies of `--replies`: a JSONL file, or `none` for no canned replies
/// (the memory then holds the knowledge base's own titles and answers only).
pub fn load_replies(spec: &str) -> Result<Vec<Aligned>, String> {
    if spec.trim() == "none" {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(spec).map_err(|e| {
        format!(
            "{}: {e}",
            crate::ingest::absolute(std::path::Path::new(spec)).display()
        )
    })?;
    parse_replies(spec, &text)
}

struct Cached {
    generation: Weak<Generation>,
    memory: Arc<Memory>,
}

/// Keeps the memory of the generation last asked for; a different generation (after a
/// reload or an upsert) gets its memory built on first use. The weak reference keeps the
/// generation's allocation, so a new generation can never be mistaken for the cached one.
#[derive(Default)]
pub struct PerGeneration {
    slot: ArcSwapOption<Cached>,
    /// The canned replies (`--replies`); `None`: the shipped ones.
    replies: Option<Arc<Vec<Aligned>>>,
}

impl PerGeneration {
    /// Memories built with these canned replies instead of the shipped ones.
    pub fn with_replies(replies: Vec<Aligned>) -> PerGeneration {
        PerGeneration {
            slot: ArcSwapOption::empty(),
            replies: Some(Arc::new(replies)),
        }
    }

    /// Returns the memory of `gen`, building it if the cached one belongs to another
    /// generation.
    pub fn get(&self, gen: &Arc<Generation>) -> Arc<Memory> {
        if let Some(c) = self.slot.load().as_ref() {
            if Weak::as_ptr(&c.generation) == Arc::as_ptr(gen) {
                return c.memory.clone();
            }
        }
        let start = std::time::Instant::now();
        let memory = Arc::new(match &self.replies {
            Some(replies) => from_sources(replies, &gen.groups),
            None => for_generation(gen),
        });
        tracing::info!(
            generation = gen.meta.generation,
            entries = memory.entries(),
            segments = memory.segments(),
            build_ms = start.elapsed().as_millis() as u64,
            "built translation memory"
        );
        self.slot.store(Some(Arc::new(Cached {
            generation: Arc::downgrade(gen),
            memory: memory.clone(),
        })));
        memory
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;

    fn art(id: &str, lang: Variant, title: &str, answer: &str) -> Arc<Article> {
        Arc::new(Article {
            id: id.into(),
            lang,
            title: title.into(),
            questions: vec![],
            answer: answer.into(),
            category: String::new(),
            tags: vec![],
            url: String::new(),
            updated_at: String::new(),
        })
    }

    #[test]
    fn the_shipped_replies_parse() {
        let r = parse_replies("replies.jsonl", SHIPPED_REPLIES).unwrap();
        assert!(r.len() >= 30, "{}", r.len());
        for reply in &r {
            let mut tags: Vec<&str> = reply.texts.iter().map(|(v, _)| v.tag()).collect();
            tags.sort_unstable();
            assert_eq!(tags, ["en", "ko", "zh"], "{}", reply.id);
        }
    }

    #[test]
    fn bad_replies_name_line_and_field() {
        for (text, want) in [
            (
                "{\"id\": \"a\", \"ko\": \"x\", \"en\": \"y\"}\nnope",
                "r:2: invalid JSON",
            ),
            (
                "{\"id\": \"a\", \"xx\": \"x\", \"en\": \"y\"}",
                "r:1: field `xx`",
            ),
            ("{\"ko\": \"x\", \"en\": \"y\"}", "r:1: field `id`"),
            (
                "{\"id\": \"\", \"ko\": \"x\", \"en\": \"y\"}",
                "r:1: field `id`",
            ),
            (
                "{\"id\": \"a\", \"ko\": 1, \"en\": \"y\"}",
                "r:1: field `ko`",
            ),
            ("{\"id\": \"a\", \"ko\": \"x\"}", "r:1: \"a\" needs"),
            (
                "{\"id\": \"a\", \"ko\": \"x\", \"en\": \"y\"}\n\n{\"id\": \"a\", \"ko\": \"z\", \"en\": \"w\"}",
                "r:3: field `id`: \"a\" is already the id of line 1",
            ),
        ] {
            let e = parse_replies("r", text).unwrap_err();
            assert!(e.starts_with(want), "{e}");
        }
        // Every bad line is named, one per line.
        let e = parse_replies(
            "r",
            "{\"id\": \"a\"}\n{\"id\": \"b\", \"ko\": \"x\", \"en\": \"y\"}\nnot json",
        )
        .unwrap_err();
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 2, "{e}");
        assert!(
            lines[0].starts_with("r:1: \"a\" needs") && lines[1].starts_with("r:3: invalid JSON"),
            "{e}"
        );
    }

    #[test]
    fn faq_answers_align_by_sentence_when_counts_agree() {
        let group = vec![
            art(
                "g",
                Variant::Ko,
                "출금 안내",
                "출금은 10분 걸립니다. 수수료는 없습니다.",
            ),
            art(
                "g",
                Variant::En,
                "Withdrawals",
                "Withdrawals take 10 minutes. There is no fee.",
            ),
            art("g", Variant::Zh, "提币说明", "提币需要10分钟，没有手续费。"),
        ];
        let m = from_sources(&[], &[group]);
        let l = m
            .lookup("수수료는 없습니다.", Lang::Ko, Variant::En)
            .unwrap();
        assert_eq!(l.percent, 100.0);
        assert_eq!(l.translation.text, "There is no fee.");
        assert_eq!(l.translation.origin, "faq:g");
        // ko has two sentences, zh one: the whole answers are paired.
        let l = m
            .lookup(
                "출금은 10분 걸립니다. 수수료는 없습니다.",
                Lang::Ko,
                Variant::Zh,
            )
            .unwrap();
        assert_eq!(l.percent, 100.0);
        assert_eq!(l.translation.text, "提币需要10分钟，没有手续费。");
        let l = m.lookup("Withdrawals", Lang::En, Variant::Zh).unwrap();
        assert_eq!(l.translation.text, "提币说明");
    }
}
