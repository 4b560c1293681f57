//! CSV dumps with the canonical column names; list fields (`questions`, `tags`) joined with
//! `|`. Quoted fields may hold commas and newlines; errors name the line the record starts on.

use super::{Article, Fields, Ignored, Origin, RecordError, FIELDS};

/// Parses every record, yielding an article or the error for that record. A header without
/// a required column, or with a column that looks like a typo of an absent one, is one
/// error for the whole file; other columns that are not faqd's are counted in `ignored`.
pub(super) fn parse(name: &str, text: &str, ignored: &mut Ignored) -> Vec<super::Parsed> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    // Lines are counted from byte offsets here, not taken from the reader: it counts a line
    // when it reads its `\n`, which with Windows line endings (`\r\n`) and after blank lines
    // is at the start of the next record, one line early.
    let mut lines = super::Lines::new(text.as_bytes());
    let origin_at = |line: u64| Origin {
        file: name.to_string(),
        line: line as usize,
        unit: "line",
        record: 0,
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
    let cols: Vec<Option<usize>> = FIELDS.iter().map(|k| col(k)).collect();
    let header_error = |message: String| {
        vec![Err(RecordError {
            origin: origin_at(1),
            field: None,
            message,
        })]
    };
    let names = headers.iter().map(str::trim).filter(|h| !h.is_empty());
    let unknown = match super::check_names(&origin_at(1), names, "column") {
        Ok(unknown) => unknown,
        Err(e) => return vec![Err(e)],
    };
    let required = ["id", "lang", "title", "answer"];
    let missing: Vec<String> = required
        .iter()
        .filter(|k| col(k).is_none())
        .map(|k| format!("`{k}`"))
        .collect();
    if !missing.is_empty() {
        return header_error(format!(
            "the header has no column {} (required; the header is {})",
            missing.join(", "),
            headers
                .iter()
                .map(|h| format!("`{h}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut records = 0;
    let mut out = Vec::new();
    let mut record = ::csv::StringRecord::new();
    loop {
        let before = reader.position().byte();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.start(p.byte()));
                // Over more than one line, a quote opened in the record and never closed
                // took the lines after it in: say so, and which lines, since their records
                // are lost with it.
                let last = lines.end(reader.position().byte()).max(line);
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
                if reader.position().byte() == before {
                    // Nothing read: nothing more will be.
                    break;
                }
                continue;
            }
        }
        records += 1;
        let origin = origin_at(record.position().map_or(0, |p| lines.start(p.byte())));
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
            f.bounded_article(Article {
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
    for name in unknown {
        ignored.saw(&origin_at(1), name, records);
    }
    out
}
