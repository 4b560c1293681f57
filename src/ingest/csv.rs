//! CSV dumps with the canonical column names; list fields (`questions`, `tags`) joined with
//! `|`. Quoted fields may hold commas and newlines; errors name the line the record starts on.

use super::{Article, Fields, Origin, RecordError};

/// Parses every record, yielding an article or the error for that record.
pub fn parse(name: &str, text: &str) -> Vec<super::Parsed> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    // Lines are counted from byte offsets here, not taken from the reader: it counts a line
    // when it reads its `\n`, which with Windows line endings (`\r\n`) and after blank lines
    // is at the start of the next record, one line early.
    let mut lines = Lines {
        bytes: text.as_bytes(),
        at: 0,
        line: 1,
    };
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
    out
}

/// Line numbers of byte offsets, counted forward from the last offset asked for (records come
/// in order, so a dump is scanned once).
struct Lines<'a> {
    bytes: &'a [u8],
    /// The last offset counted to, and its line.
    at: usize,
    line: u64,
}

impl Lines<'_> {
    /// The line of the record starting at `byte`: of its first byte after any line endings
    /// before it.
    fn start(&mut self, byte: u64) -> u64 {
        let mut at = (byte as usize).min(self.bytes.len());
        while at < self.bytes.len() && matches!(self.bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        self.line_at(at)
    }

    /// The line of the record ending at `byte`: of its last byte before the line ending
    /// that closed it.
    fn end(&mut self, byte: u64) -> u64 {
        let mut at = (byte as usize).min(self.bytes.len());
        while at > 0 && matches!(self.bytes[at - 1], b'\r' | b'\n') {
            at -= 1;
        }
        self.line_at(at.saturating_sub(1))
    }

    fn line_at(&mut self, at: usize) -> u64 {
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
