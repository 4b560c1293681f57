//! Zendesk Help Center article exports: `{"articles": [{"id", "locale", "title", "body",
//! "section_id", "label_names", "html_url", "updated_at", ...}]}`. HTML bodies are reduced to
//! readable text; errors name the line a record starts on and its number (from 1). Drafts (`"draft": true`)
//! are left out.

use super::{Article, Fields, Origin, RecordError};
use serde_json::Value;

/// Parses an export; a file that is not such an export at all is one error. Drafts are left
/// out and counted in `ignored`.
pub fn parse(
    name: &str,
    text: &str,
    ignored: &mut super::Ignored,
) -> Result<Vec<super::Parsed>, RecordError> {
    let whole = |line: usize, message: String| RecordError {
        records: 1,
        origin: Origin {
            file: name.to_string(),
            line,
            unit: "line",
            record: 0,
        },
        field: None,
        message,
    };
    let text = text.trim_start_matches('\u{feff}');
    // A JSON Lines dump named `.json` is the likeliest mistake, or a list of faqd's records:
    // say so (`tree`: the file read as JSON, when it is).
    let jsonl_hint = |tree: Option<&Value>| {
        let first: Option<Value> = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| serde_json::from_str(l).ok());
        let faqds = |v: &Value| ["id", "lang", "title"].iter().any(|k| v.get(k).is_some());
        if first.is_some_and(|v| faqds(&v)) {
            " (it looks like JSON Lines, one article per line: name it .jsonl or pass \
             --format jsonl)"
        } else if tree
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(faqds))
        {
            " (it is a JSON list of records: faqd reads them as JSON Lines, one object per \
             line, named .jsonl)"
        } else {
            ""
        }
    };
    // Each record is read from its own text, which gives its line (and keeps the text of
    // numbers a float cannot hold exactly). A file that is not an export is read again as
    // a tree, for the message that says why.
    let export: Export = match serde_json::from_str(text) {
        Ok(export) => export,
        Err(not_export) => {
            return Err(match serde_json::from_str::<Value>(text) {
                Err(e) => whole(
                    e.line(),
                    format!(
                        "not a Zendesk export: invalid JSON at column {}: {e}{}",
                        e.column(),
                        jsonl_hint(None)
                    ),
                ),
                Ok(v) if !v.get("articles").is_some_and(Value::is_array) => whole(
                    0,
                    format!(
                        "expected an object with an `articles` list{}",
                        jsonl_hint(Some(&v))
                    ),
                ),
                Ok(_) => whole(
                    not_export.line(),
                    format!("not a Zendesk export: {not_export}"),
                ),
            })
        }
    };
    let mut lines = super::Lines::new(text.as_bytes());
    let mut drafts = 0;
    let mut out = Vec::new();
    for (i, raw) in export.articles.iter().enumerate() {
        // The raw value borrows from `text`: its offset there is its distance from the start.
        let at = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        let origin = Origin {
            file: name.to_string(),
            line: lines.line_at(at) as usize,
            unit: "line",
            record: i + 1,
        };
        let mut item: Value =
            serde_json::from_str(raw.get()).map_err(|e| whole(0, e.to_string()))?;
        if !item.is_object() {
            out.push(Err(RecordError {
                records: 1,
                origin,
                field: None,
                message: "expected a JSON object".into(),
            }));
            continue;
        }
        // Drafts are unpublished (often internal) text: never served to users.
        match item.get("draft").map(super::is_draft).transpose() {
            Ok(Some(true)) => {
                drafts += 1;
                continue;
            }
            Ok(_) => {}
            Err(message) => {
                out.push(Err(Fields { origin: &origin }.error("draft", message)));
                continue;
            }
        }
        if let Value::Object(obj) = &mut item {
            super::exact_numbers(obj, || serde_json::from_str(raw.get()).ok());
        }
        out.push(article(&origin, &item).map(|a| (origin, a)));
    }
    ignored.drafts(name, drafts);
    Ok(out)
}

/// Reads one export record.
fn article(origin: &Origin, item: &Value) -> Result<Article, RecordError> {
    let f = Fields { origin };
    let s = |key: &str| match item.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let body = s("body").map(|html| html_to_text(&html));
    let tags = item
        .get("label_names")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    f.checked_article(
        Article {
            id: f.id("id", s("id"))?,
            lang: f.lang("locale", s("locale"))?,
            title: f.required("title", s("title"))?,
            questions: Vec::new(),
            answer: f.required("body", body)?,
            category: s("section_id")
                .map(|c| c.trim().to_string())
                .unwrap_or_default(),
            tags,
            url: s("html_url").unwrap_or_default(),
            updated_at: f.time("updated_at", s("updated_at"))?,
        },
        "locale",
    )
}

/// An export's records, each as its raw JSON text within the export.
#[derive(serde::Deserialize)]
struct Export<'a> {
    #[serde(borrow)]
    articles: Vec<&'a serde_json::value::RawValue>,
}

/// Returns the readable text of an HTML fragment: tags removed, entities decoded, scripts and
/// styles dropped, a line per block (paragraph, list item, heading, break ...), whitespace
/// collapsed per line. Reads html5ever's tokens as they come, without building a tree, so the
/// cost follows the length of the text however deeply its elements nest (a tree builder
/// checks the open elements on every tag: 100,000 nested `<div>`s took 20 CPU-seconds).
pub fn html_to_text(html: &str) -> String {
    use html5ever::tokenizer::{BufferQueue, Tokenizer, TokenizerOpts};
    let sink = TextSink::default();
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(html.into());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let text = tokenizer.sink.text.into_inner();
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Elements that start and end a line of text.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tr",
    "ul",
];

/// Gathers the text of an HTML fragment from its tokens.
#[derive(Default)]
struct TextSink {
    text: std::cell::RefCell<String>,
    /// Inside `<script>` or `<style>`: text dropped until the element ends.
    skipping: std::cell::Cell<bool>,
    /// Open `<pre>` elements: their line breaks are kept.
    pre: std::cell::Cell<usize>,
}

impl html5ever::tokenizer::TokenSink for TextSink {
    type Handle = ();

    fn process_token(
        &self,
        token: html5ever::tokenizer::Token,
        _line: u64,
    ) -> html5ever::tokenizer::TokenSinkResult<()> {
        use html5ever::tokenizer::states::RawKind;
        use html5ever::tokenizer::{TagKind, Token, TokenSinkResult};
        match token {
            Token::TagToken(tag) => {
                let name: &str = &tag.name;
                let start = tag.kind == TagKind::StartTag;
                match name {
                    "script" | "style" => {
                        self.skipping.set(start && !tag.self_closing);
                        if start && !tag.self_closing {
                            return TokenSinkResult::RawData(if name == "script" {
                                RawKind::ScriptData
                            } else {
                                RawKind::Rawtext
                            });
                        }
                    }
                    "pre" => {
                        let open = self.pre.get();
                        self.pre.set(if start {
                            open + 1
                        } else {
                            open.saturating_sub(1)
                        });
                    }
                    _ => {}
                }
                if name == "img" && start {
                    // An image says what it shows through its alternative text.
                    if let Some(alt) = tag.attrs.iter().find(|a| &*a.name.local == "alt") {
                        let mut text = self.text.borrow_mut();
                        text.push(' ');
                        text.push_str(&alt.value);
                        text.push(' ');
                    }
                }
                if BLOCKS.contains(&name) {
                    self.text.borrow_mut().push('\n');
                } else if matches!(name, "td" | "th") {
                    self.text.borrow_mut().push(' ');
                }
            }
            Token::CharacterTokens(chars) if !self.skipping.get() => {
                let mut text = self.text.borrow_mut();
                if self.pre.get() > 0 {
                    text.push_str(&chars);
                } else {
                    text.extend(
                        chars
                            .chars()
                            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
                    );
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeply_nested_html_is_read_in_one_pass() {
        // Regression: 100,000 nested <div>s (a 1.1 MB body) took 20 CPU-seconds through a
        // tree builder. Each nesting level is a line break, collapsed away.
        let depth = 100_000;
        let html = format!(
            "{}deep text{}",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        assert_eq!(html_to_text(&html), "deep text");
    }

    #[test]
    fn blocks_are_lines_and_inline_text_flows() {
        let t = html_to_text(
            "<h1>Title</h1><p>one\ntwo &lt;3</p><ul><li>a</li><li>b<br>c</li></ul><pre>x\n  y</pre><table><tr><td>1</td><td>2</td></tr></table><p>Tap<img src=\"k.png\" alt=\"the key icon\">now</p>",
        );
        assert_eq!(
            t,
            "Title\none two <3\na\nb\nc\nx\ny\n1 2\nTap the key icon now"
        );
    }

    #[test]
    fn html_is_reduced_to_text() {
        let t = html_to_text("<p>Go to <b>Wallet</b> &amp; click &quot;Withdraw&quot;</p><script>alert(1)</script><style>p{}</style><ul><li>one</li></ul>");
        assert!(t.contains("Go to Wallet & click \"Withdraw\""), "{t}");
        assert!(!t.contains("alert") && !t.contains("p{}"), "{t}");
    }
}
