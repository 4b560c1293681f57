//! Canonical JSON Lines dumps: one article object per line; blank lines are ignored.

use super::{Article, Fields, Ignored, Origin, RecordError};
use serde_json::{Map, Value};

/// Parses every line, yielding an article or the error for that line; keys that are not
/// faqd's are counted in `ignored` (or make the record invalid when they look like one of
/// its fields that has no text: [`super::check_names`]). Drafts are left out.
pub(super) fn parse(name: &str, text: &str, ignored: &mut Ignored) -> Vec<super::Parsed> {
    let mut drafts = 0;
    let out = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .filter_map(|(i, line)| {
            let origin = Origin {
                file: name.to_string(),
                line: i + 1,
                unit: "line",
                record: 0,
            };
            let record = record(origin, line, ignored);
            if matches!(record, Ok(None)) {
                drafts += 1;
            }
            record.transpose()
        })
        .collect();
    ignored.drafts(name, drafts);
    out
}

/// Reads one line: its article, or `None` for a draft.
fn record(
    origin: Origin,
    line: &str,
    ignored: &mut Ignored,
) -> Result<Option<(Origin, Article)>, RecordError> {
    let line = line.trim_start_matches('\u{feff}');
    let value: Value = serde_json::from_str(line).map_err(|e| {
        // serde's "at line 1 column 91" counts in the record, not the file, and in bytes.
        let what = e.to_string();
        let what = what
            .strip_suffix(&format!(" at line {} column {}", e.line(), e.column()))
            .unwrap_or(&what)
            .to_string();
        RecordError {
            records: 1,
            origin: origin.clone(),
            field: None,
            message: format!("invalid JSON at byte {} of the line: {what}", e.column()),
        }
    })?;
    let Value::Object(mut obj) = value else {
        return Err(RecordError {
            records: 1,
            origin,
            field: None,
            message: "expected a JSON object".into(),
        });
    };
    // A draft is left out before anything else is checked: it is not served either way.
    match obj.get("draft").map(super::is_draft).transpose() {
        Ok(Some(true)) => return Ok(None),
        Ok(_) => {}
        Err(message) => return Err(Fields { origin: &origin }.error("draft", message)),
    }
    // A name like `draft` holds something when it reads as a draft (`"Draft": false` loses
    // nothing); any other when it has text.
    let filled = |key: &str| {
        obj.get(key).is_some_and(|v| match super::resembled(key) {
            Some("draft") => super::is_draft(v).unwrap_or(true),
            _ => has_text(v),
        })
    };
    if !obj.contains_key("draft") {
        for (key, v) in &obj {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Bool(_) | Value::Number(_) => v.to_string(),
                _ => continue,
            };
            let freshdesk = super::FRESHDESK_FIELDS.iter().any(|k| obj.contains_key(*k));
            if let Some(message) = super::unpublished(key, &text, freshdesk) {
                let f = Fields { origin: &origin };
                return Err(f.error(key, message));
            }
        }
    }
    match super::check_names(obj.keys().map(String::as_str), filled, "field") {
        Ok(unknown) => {
            for u in &unknown {
                ignored.saw(&origin, u, 1);
            }
        }
        Err(mut problems) => {
            // A required field missing besides is said too (user trial: a record with
            // `question` and no `title` was told only about `question`).
            for field in super::REQUIRED {
                let named = format!("`{field}`");
                if !obj.contains_key(field) && !problems.iter().any(|p| p.contains(&named)) {
                    problems.push(format!("no field {named} (required)"));
                }
            }
            return Err(RecordError {
                records: 1,
                origin,
                field: None,
                message: format!(
                    "{} (the fields are {})",
                    problems.join("; "),
                    super::field_list()
                ),
            });
        }
    }
    super::exact_numbers(&mut obj, || serde_json::from_str(line).ok());
    let article = from_object(&Fields { origin: &origin }, &obj)?;
    Ok(Some((origin, article)))
}

/// Returns true when a value holds something: a string that is not blank, a number, `true`,
/// a list with such an item, or an object (null, `false`, `""` and `[]` hold nothing).
fn has_text(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.trim().is_empty(),
        Value::Number(_) | Value::Object(_) => true,
        Value::Array(items) => items.iter().any(has_text),
    }
}

/// Returns a text field: a string, a number (ids are often numeric), or absent.
fn text(f: &Fields, obj: &Map<String, Value>, key: &str) -> Result<Option<String>, RecordError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(f.error(key, format!("expected a string, found {}", kind(other)))),
    }
}

fn list(f: &Fields, obj: &Map<String, Value>, key: &str) -> Result<Vec<String>, RecordError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(f.error(
                    &format!("{key}[{i}]"),
                    format!("expected a string, found {}", kind(other)),
                )),
            })
            .filter(|r| r.as_ref().map_or(true, |s| !s.trim().is_empty()))
            .collect(),
        Some(other) => Err(f.error(
            key,
            format!("expected a list of strings, found {}", kind(other)),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub(super) fn from_object(f: &Fields, obj: &Map<String, Value>) -> Result<Article, RecordError> {
    f.checked_article(
        Article {
            id: f.id("id", text(f, obj, "id")?)?,
            lang: f.lang("lang", text(f, obj, "lang")?)?,
            title: f.required("title", text(f, obj, "title")?)?,
            questions: list(f, obj, "questions")?,
            answer: f.present("answer", text(f, obj, "answer")?)?,
            category: text(f, obj, "category")?
                .unwrap_or_default()
                .trim()
                .to_string(),
            tags: list(f, obj, "tags")?,
            url: text(f, obj, "url")?.unwrap_or_default(),
            updated_at: f.time("updated_at", text(f, obj, "updated_at")?)?,
        },
        "lang",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_line_and_field() {
        let text = "{\"id\":\"a\",\"lang\":\"ko\",\"title\":\"t\",\"answer\":\"x\"}\n\n{\"id\":\"b\",\"lang\":\"ko\",\"answer\":\"x\"}\n{\"id\":\"c\",\"lang\":\"ja\",\"title\":\"t\",\"answer\":\"x\"}\n{oops\n";
        let out = parse("dump.jsonl", text, &mut Ignored::default());
        assert!(out[0].is_ok());
        let errs: Vec<String> = out[1..]
            .iter()
            .map(|r| r.as_ref().unwrap_err().to_string())
            .collect();
        assert_eq!(
            errs[0],
            "dump.jsonl:3: field `title`: missing required field"
        );
        assert!(
            errs[1].starts_with("dump.jsonl:4: field `lang`: unsupported language \"ja\""),
            "{}",
            errs[1]
        );
        assert!(
            errs[2].starts_with("dump.jsonl:5: invalid JSON"),
            "{}",
            errs[2]
        );
    }
}
