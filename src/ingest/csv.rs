//! CSV dumps with the canonical column names; list fields (`questions`, `tags`) joined with
//! `|`. Quoted fields may hold commas and newlines; errors name the line the record starts on.

use super::{Article, Fields, Origin, RecordError};

/// Parses every record, yielding an article or the error for that record.
pub fn parse(name: &str, text: &str) -> Vec<super::Parsed> {
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let origin_at = |line: u64| Origin {
        file: name.to_string(),
        line: line as usize,
        unit: "line",
    };
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return vec![Err(RecordError {
                origin: origin_at(1),
                field: None,
                message: format!("invalid CSV header: {e}"),
            })]
        }
    };
    let col = |key: &str| headers.iter().position(|h| h.trim() == key);
    let cols: Vec<Option<usize>> = [
        "id",
        "lang",
        "title",
        "questions",
        "answer",
        "category",
        "tags",
        "url",
        "updated_at",
    ]
    .iter()
    .map(|k| col(k))
    .collect();
    let mut out = Vec::new();
    let mut record = ::csv::StringRecord::new();
    loop {
        let before = reader.position().byte();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            // Nothing read: nothing more will be.
            Err(_) if reader.position().byte() == before => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                // The record read ended before the line the reader is at now. Over more than
                // one line, a quote opened in it and never closed took the lines after it in:
                // say so, and which lines, since their records are lost with it.
                let last = reader.position().line().saturating_sub(1).max(line);
                let message = if last > line {
                    format!(
                        "invalid CSV record: lines {line}–{last} were read as one record, \
                         probably a quote opened on line {line} and not closed (the records on \
                         those lines are not indexed): {e}"
                    )
                } else {
                    format!("invalid CSV record: {e}")
                };
                out.push(Err(RecordError {
                    origin: origin_at(line),
                    field: None,
                    message,
                }));
                continue;
            }
        }
        let origin = origin_at(record.position().map_or(0, |p| p.line()));
        let f = Fields { origin: &origin };
        let get = |i: usize| cols[i].and_then(|c| record.get(c)).map(str::to_string);
        let list = |i: usize| -> Vec<String> {
            get(i)
                .unwrap_or_default()
                .split('|')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let article = (|| {
            Ok(Article {
                id: f.id("id", get(0))?,
                lang: f.lang("lang", get(1))?,
                title: f.required("title", get(2))?,
                questions: list(3),
                answer: f.present("answer", get(4))?,
                category: get(5).unwrap_or_default().trim().to_string(),
                tags: list(6),
                url: get(7).unwrap_or_default().trim().to_string(),
                updated_at: f.time("updated_at", get(8))?,
            })
        })();
        out.push(article.map(|a| (origin.clone(), a)));
    }
    out
}
