//! CSV dumps with the canonical column names; list fields (`questions`, `tags`) joined with
//! `|`. Quoted fields may hold commas and newlines; errors name the line the record starts on.

use super::{Article, Fields, Ignored, Origin, RecordError, FIELDS};

/// Parses every record, yielding an article or the error for that record. A header that
/// is not faqd's (a required column missing, a faqd column twice, or a column that looks
/// like an absent one: [`super::check_names`]) is one error for the whole file; other
/// columns are counted in `ignored`. Drafts are left out.
pub(super) fn parse(name: &str, text: &str, ignored: &mut Ignored) -> Vec<super::Parsed> {
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        // No header and no records: an empty dump, as an empty JSONL file is.
        return Vec::new();
    }
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
                records: 1,
                origin: origin_at(1),
                field: None,
                message: format!("invalid CSV header: {e}"),
            })]
        }
    };
    let names: Vec<&str> = headers.iter().map(str::trim).collect();
    let col = |key: &str| names.iter().position(|h| *h == key);
    let cols: Vec<Option<usize>> = FIELDS.iter().map(|k| col(k)).collect();
    // Which columns have text, and how many rows that are not blank: a column is judged by
    // its cells, as a JSONL key by its value (a blank `URL` column loses nothing).
    let (filled, rows) = cells(text, &names);
    let named = names.iter().copied().filter(|h| !h.is_empty());
    // A faqd column that is there counts as filled: a column beside it is checked row by
    // row below (`url` and `URL`).
    let has_text = |name: &str| {
        FIELDS.contains(&name) && col(name).is_some()
            || names.iter().zip(&filled).any(|(h, f)| *h == name && *f)
    };
    let (unknown, mut problems) = match super::check_names(named, has_text, "column") {
        Ok(unknown) => (unknown, Vec::new()),
        Err(problems) => (Vec::new(), problems),
    };
    // A spreadsheet saved with another separator (`;` where the decimal mark is a comma, tabs)
    // has one column named after the whole header.
    let split = match names[..] {
        [only] => [';', '\t', '|'].into_iter().find(|c| only.contains(*c)),
        _ => None,
    };
    if let Some(sep) = split {
        // The one problem: the columns' own are not known yet.
        problems = vec![format!(
            "the header is one column, split by {}: faqd reads comma-separated CSV (save it \
             with commas)",
            if sep == '\t' {
                "tabs".to_string()
            } else {
                format!("`{sep}`")
            }
        )];
    }
    for field in FIELDS {
        let times = names.iter().filter(|h| **h == field).count();
        if times > 1 {
            problems.push(format!(
                "column `{field}` appears {times} times (only one can be read)"
            ));
        }
    }
    for field in super::REQUIRED.into_iter().filter(|_| split.is_none()) {
        if col(field).is_none() && !problems.iter().any(|p| p.contains(&format!("`{field}`"))) {
            problems.push(format!("no column `{field}` (required)"));
        }
    }
    if !problems.is_empty() {
        return vec![Err(RecordError {
            records: rows.max(1),
            origin: origin_at(1),
            field: None,
            message: format!(
                "the header is not faqd's, so none of the file's {rows} record{} is \
                 indexed: {} (the header is {}; faqd's columns are {})",
                if rows == 1 { "" } else { "s" },
                problems.join("; "),
                names
                    .iter()
                    .map(|h| format!("`{}`", super::shown(h)))
                    .collect::<Vec<_>>()
                    .join(", "),
                super::field_list()
            ),
        })];
    }
    let mut distinct: Vec<super::Unknown> = Vec::new();
    for u in unknown {
        if !distinct.iter().any(|d| d.name == u.name) {
            distinct.push(u);
        }
    }
    let mut drafts = 0;
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
                // The reader's own message names its own record and line numbers, which
                // count differently (from 0, the header first): say it in the dump's terms.
                let problem = match e.kind() {
                    ::csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("{len} fields where the header has {expected_len}"),
                    _ => e.to_string(),
                };
                let message = if last > line {
                    format!(
                        "invalid CSV record: lines {line}–{last} were read as one record, \
                         probably a quote opened on line {line} and not closed (the records on \
                         those lines are not indexed): {problem}"
                    )
                } else {
                    format!("invalid CSV record: {problem}")
                };
                out.push(Err(RecordError {
                    records: 1,
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
        if record.iter().all(|v| v.trim().is_empty()) {
            // A row of empty cells (`,,,`, as spreadsheets export): a blank line.
            continue;
        }
        records += 1;
        let origin = origin_at(record.position().map_or(0, |p| lines.start(p.byte())));
        let f = Fields { origin: &origin };
        let get = |i: usize| cols[i].and_then(|c| record.get(c)).map(str::to_string);
        match get(9).map(|d| super::draft_text(&d)).transpose() {
            Ok(Some(true)) => {
                drafts += 1;
                continue;
            }
            Ok(_) => {}
            Err(message) => {
                out.push(Err(f.error("draft", message)));
                continue;
            }
        }
        // Row by row, what the header check could not see: a column like a faqd one beside
        // it, with text in this row where the faqd one has none (`url,URL`), and another
        // export's mark of an unpublished record where there is no `draft` column.
        let cell = |c: usize| record.get(c).unwrap_or("");
        let lost = distinct.iter().find_map(|u| {
            let field = u.like.filter(|_| u.lost_where_empty)?;
            let (theirs, ours) = (col(u.name)?, col(field)?);
            (!cell_filled(field, cell(ours)) && cell_filled(u.name, cell(theirs)))
                .then_some((u.name, field))
        });
        if let Some((name, field)) = lost {
            out.push(Err(f.error(
                name,
                format!(
                    "not a faqd column: did you mean `{field}`? (`{field}` is empty in this \
                     row, so its text would be lost)"
                ),
            )));
            continue;
        }
        let freshdesk = names.iter().any(|n| super::FRESHDESK_FIELDS.contains(n));
        let unpublished = cols[9].is_none().then(|| {
            names.iter().enumerate().find_map(|(c, name)| {
                super::unpublished(name, cell(c), freshdesk).map(|m| (name, m))
            })
        });
        if let Some(Some((name, message))) = unpublished {
            out.push(Err(f.error(name, message)));
            continue;
        }
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
            f.checked_article(
                Article {
                    id: f.id("id", get(0))?,
                    lang: f.lang("lang", get(1))?,
                    title: f.required("title", get(2))?,
                    questions: list(3),
                    answer: f.present("answer", get(4))?,
                    category: get(5).unwrap_or_default().trim().to_string(),
                    tags: list(6),
                    url: get(7).unwrap_or_default().trim().to_string(),
                    updated_at: f.time("updated_at", get(8))?,
                },
                "lang",
            )
        })();
        out.push(article.map(|a| (origin.clone(), a)));
    }
    ignored.columns();
    for u in &distinct {
        ignored.saw(&origin_at(1), u, records);
    }
    // A column without a name that has values: they are not read either.
    let unnamed: Vec<String> = (0..names.len())
        .filter(|&c| names[c].is_empty() && filled[c])
        .map(|c| format!("(column {}, no name)", c + 1))
        .collect();
    for name in &unnamed {
        let u = super::Unknown {
            name,
            like: None,
            lost_where_empty: false,
        };
        ignored.saw(&origin_at(1), &u, records);
    }
    ignored.drafts(name, drafts);
    out
}

/// Returns true when a cell under `name` holds something: text, or, under a name like
/// `draft`, a value that reads as a draft (`Draft` `FALSE` loses nothing).
fn cell_filled(name: &str, value: &str) -> bool {
    match super::resembled(name) {
        Some("draft") => super::draft_text(value).unwrap_or(true),
        _ => !value.trim().is_empty(),
    }
}

/// Returns, per column, whether some record holds something in it ([`cell_filled`]), and
/// how many records are not blank (rows of empty cells are skipped). Records of the wrong
/// length count too: this is what the header is judged by, before each record is read.
fn cells(text: &str, names: &[&str]) -> (Vec<bool>, usize) {
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let (mut filled, mut rows) = (vec![false; names.len()], 0);
    for record in reader.records().map_while(Result::ok) {
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        rows += 1;
        for ((f, v), name) in filled.iter_mut().zip(record.iter()).zip(names) {
            *f |= cell_filled(name, v);
        }
    }
    (filled, rows)
}
