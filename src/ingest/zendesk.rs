//! Zendesk Help Center article exports: `{"articles": [{"id", "locale", "title", "body",
//! "section_id", "label_names", "html_url", "updated_at", ...}]}`. HTML bodies are reduced to
//! readable text; records are numbered from 1 in error messages.

use super::{Article, Fields, Origin, RecordError};
use serde_json::Value;

/// Parses an export; a file that is not such an export at all is one error.
pub fn parse(name: &str, text: &str) -> Result<Vec<super::Parsed>, RecordError> {
    let whole = |message: String| RecordError {
        origin: Origin {
            file: name.to_string(),
            line: 0,
            unit: "record",
        },
        field: None,
        message,
    };
    let value: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
        whole(format!(
            "invalid JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let articles = value
        .get("articles")
        .and_then(Value::as_array)
        .ok_or_else(|| whole("expected an object with an `articles` list".into()))?;
    Ok(articles
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let origin = Origin {
                file: name.to_string(),
                line: i + 1,
                unit: "record",
            };
            let f = Fields { origin: &origin };
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
            let article = Article {
                id: f.required("id", s("id"))?,
                lang: f.lang("locale", s("locale"))?,
                title: f.required("title", s("title"))?,
                questions: Vec::new(),
                answer: f.required("body", body)?,
                category: s("section_id").unwrap_or_default(),
                tags,
                url: s("html_url").unwrap_or_default(),
                updated_at: f.time("updated_at", s("updated_at"))?,
            };
            Ok((origin, article))
        })
        .collect())
}

/// Returns the readable text of an HTML fragment: tags removed, entities decoded, scripts and
/// styles dropped, whitespace collapsed per line.
pub fn html_to_text(html: &str) -> String {
    let text = html2text::config::with_decorator(html2text::render::TrivialDecorator::new())
        .string_from_read(html.as_bytes(), 100_000)
        .unwrap_or_else(|_| html.to_string());
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_reduced_to_text() {
        let t = html_to_text("<p>Go to <b>Wallet</b> &amp; click &quot;Withdraw&quot;</p><script>alert(1)</script><style>p{}</style><ul><li>one</li></ul>");
        assert!(t.contains("Go to Wallet & click \"Withdraw\""), "{t}");
        assert!(!t.contains("alert") && !t.contains("p{}"), "{t}");
    }
}
