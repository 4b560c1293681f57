//! Translation-memory evaluation on parallel text (`faqd eval-tm`).
//!
//! Every line of aligned sentences becomes memory entries for every ordered pair of its
//! languages (origin `<line id>`). Then each sentence is looked up (towards the next language
//! of its line that is not the same language) three ways: as it is, with one edited
//! character and with two. Edits are deterministic (seeded): a substitution, insertion or
//! deletion of a letter or digit, drawn from the sentence's own characters, and always
//! change the normalised text. A lookup is *right* when the entry returned first is the
//! sentence's own (or one with the same normalised source: a duplicate sentence).
//!
//! Replies are built from pieces, so a fourth kind of query joins two or three consecutive
//! lines (in one source language, alternately two and three; lines that end with a sentence
//! stop, so headlines are left out) and edits one character of one of them; it is looked up sentence by sentence ([`Memory::lookup_segments`]) and is *right*
//! when every segment finds an entry of its own line first, the lines in order (a line of
//! several sentences may be found sentence by sentence or whole).

use crate::lang::Variant;
use crate::translate::memory::{self, text, Aligned, Memory, MemoryBuilder};
use std::time::Instant;

/// How a query was derived from its source sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The source sentence exactly.
    Exact,
    /// One edited character.
    Edit1,
    /// Two edited characters.
    Edit2,
    /// Two or three lines joined, one character of one of them edited.
    Joined,
    /// The same lines typed as in chat: no stop but the last, a space between them.
    Unstopped,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 5] = [
        Kind::Exact,
        Kind::Edit1,
        Kind::Edit2,
        Kind::Joined,
        Kind::Unstopped,
    ];

    /// Returns the report name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Exact => "exact",
            Kind::Edit1 => "1 edit",
            Kind::Edit2 => "2 edits",
            Kind::Joined => "joined",
            Kind::Unstopped => "no stops",
        }
    }

    fn edits(self) -> usize {
        match self {
            Kind::Exact => 0,
            Kind::Edit1 => 1,
            Kind::Edit2 => 2,
            Kind::Joined | Kind::Unstopped => 1,
        }
    }
}

/// The result of one lookup (of a joined query: `right` when every segment found its own
/// entry first, `matched` when every segment matched, `percent` the lowest).
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// How the query was made.
    pub kind: Kind,
    /// The right entry came first.
    pub right: bool,
    /// The best entry reached the match threshold.
    pub matched: bool,
    /// Match percentage of the best entry (0 when none).
    pub percent: f64,
    /// Time of the lookup in microseconds.
    pub micros: f64,
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Row {
    /// Query kind name.
    pub kind: &'static str,
    /// Lookups.
    pub queries: usize,
    /// Share (0 to 1) with the right entry first.
    pub right_first: f64,
    /// Share at or above the match threshold.
    pub matched: f64,
    /// Mean match percentage.
    pub mean_percent: f64,
}

/// Lookup latency in microseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Latency {
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Mean.
    pub mean_us: f64,
}

/// The evaluation report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Entries (source → target pairs) in the memory.
    pub entries: usize,
    /// Distinct source segments indexed.
    pub segments: usize,
    /// Time to build the memory, milliseconds.
    pub build_ms: f64,
    /// The match threshold used for `matched`.
    pub threshold: f64,
    /// One row per query kind.
    pub rows: Vec<Row>,
    /// Latency over every lookup.
    pub latency: Latency,
}

/// Returns the value at quantile `q` (0 to 1) of sorted values (nearest rank).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Summarises outcomes into report rows and latency.
pub fn summarise(outcomes: &[Outcome]) -> (Vec<Row>, Latency) {
    let share = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    let rows = Kind::ALL
        .iter()
        .map(|&k| {
            let of: Vec<&Outcome> = outcomes.iter().filter(|o| o.kind == k).collect();
            Row {
                kind: k.name(),
                queries: of.len(),
                right_first: share(of.iter().filter(|o| o.right).count(), of.len()),
                matched: share(of.iter().filter(|o| o.matched).count(), of.len()),
                mean_percent: if of.is_empty() {
                    0.0
                } else {
                    of.iter().map(|o| o.percent).sum::<f64>() / of.len() as f64
                },
            }
        })
        .collect();
    let mut us: Vec<f64> = outcomes.iter().map(|o| o.micros).collect();
    us.sort_by(f64::total_cmp);
    let latency = Latency {
        p50_us: quantile(&us, 0.5),
        p99_us: quantile(&us, 0.99),
        mean_us: if us.is_empty() {
            0.0
        } else {
            us.iter().sum::<f64>() / us.len() as f64
        },
    };
    (rows, latency)
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Returns `text` with `n` edits of letters or digits (substitution, insertion, deletion),
/// or `None` when the text has too few letters and digits to edit.
pub fn edit(text: &str, n: usize, rng: &mut impl FnMut(usize) -> usize) -> Option<String> {
    let mut chars: Vec<char> = text.chars().collect();
    let pool: Vec<char> = chars
        .iter()
        .copied()
        .filter(|c| c.is_alphanumeric())
        .collect();
    if pool.len() < 2 {
        return None;
    }
    for _ in 0..n {
        let at: Vec<usize> = (0..chars.len())
            .filter(|&i| chars[i].is_alphanumeric())
            .collect();
        let i = *at.get(rng(at.len()))?;
        match rng(3) {
            0 => {
                let old = chars[i].to_lowercase().collect::<String>();
                let c = (0..8)
                    .map(|_| pool[rng(pool.len())])
                    .find(|c| c.to_lowercase().collect::<String>() != old)?;
                chars[i] = c;
            }
            1 => chars.insert(i, pool[rng(pool.len())]),
            _ => {
                chars.remove(i);
            }
        }
    }
    Some(chars.into_iter().collect())
}

/// Builds the memory of aligned lines: every ordered pair of languages of each line, whole
/// and sentence by sentence (as replies are).
pub fn build_memory(lines: &[Aligned]) -> Memory {
    let mut b = MemoryBuilder::default();
    for l in lines {
        let texts: Vec<(Variant, &str)> = l.texts.iter().map(|(v, t)| (*v, t.as_str())).collect();
        b.add_aligned_segments(&texts, &l.id);
    }
    b.build()
}

/// Runs the evaluation: builds the memory, looks up every sentence exactly and with one and
/// two edits (seeded), then joined lines (see the module docs), and summarises.
pub fn evaluate(lines: &[Aligned], seed: u64) -> Report {
    let start = Instant::now();
    let memory = build_memory(lines);
    let build_ms = start.elapsed().as_secs_f64() * 1000.0;
    let threshold = memory::DEFAULT_THRESHOLD;
    let mut rng = Rng(seed);
    let mut outcomes = Vec::new();
    for line in lines {
        for (i, &(source, ref original)) in line.texts.iter().enumerate() {
            let others = line.texts[i + 1..].iter().chain(&line.texts[..i]);
            let Some(&(target, _)) = others.into_iter().find(|(v, _)| v.lang() != source.lang())
            else {
                continue;
            };
            let lang = source.lang();
            let want = text::normalize(original, lang);
            for kind in [Kind::Exact, Kind::Edit1, Kind::Edit2] {
                let query = if kind == Kind::Exact {
                    Some(original.clone())
                } else {
                    (0..4)
                        .filter_map(|_| edit(original, kind.edits(), &mut |n| rng.below(n)))
                        .find(|q| text::normalize(q, lang) != want)
                };
                let Some(query) = query else { continue };
                let t = Instant::now();
                let found = memory.lookup(&query, lang, target);
                let micros = t.elapsed().as_secs_f64() * 1e6;
                outcomes.push(Outcome {
                    kind,
                    right: found.is_some_and(|l| {
                        l.translation.origin == line.id
                            || text::normalize(&l.segment.text, lang) == want
                    }),
                    matched: found.is_some_and(|l| l.percent >= threshold),
                    percent: found.map_or(0.0, |l| l.percent),
                    micros,
                });
            }
        }
    }
    joined(lines, &memory, &mut rng, &mut outcomes);
    let (rows, latency) = summarise(&outcomes);
    Report {
        entries: memory.entries(),
        segments: memory.segments(),
        build_ms,
        threshold,
        rows,
        latency,
    }
}

/// Closing quotes and brackets, which may follow a sentence's stop.
const CLOSERS: &[char] = &['"', '\'', '”', '’', ')', '）', '」', '』', ']', '】'];
/// Sentence-final stops.
const STOPS: [char; 6] = ['.', '?', '!', '。', '？', '！'];

/// Returns true when a text ends with a sentence-final stop (`.?!。？！`, before closing
/// quotes or brackets).
fn ends_a_sentence(text: &str) -> bool {
    text.trim_end().trim_end_matches(CLOSERS).ends_with(STOPS)
}

/// Returns a text without its final stop and the quotes or brackets after it.
fn without_stop(text: &str) -> &str {
    text.trim_end()
        .trim_end_matches(|c| CLOSERS.contains(&c) || STOPS.contains(&c))
}

/// Looks up consecutive lines joined (alternately two and three, in every source language
/// the window's lines share with a target), one character of one of them edited: as
/// written ([`Kind::Joined`]), and as typed in chat, with no stop but the last and a space
/// between them in every language ([`Kind::Unstopped`]).
fn joined(lines: &[Aligned], memory: &Memory, rng: &mut Rng, outcomes: &mut Vec<Outcome>) {
    let text_in = |l: &Aligned, v: Variant| -> Option<String> {
        l.texts
            .iter()
            .find(|(x, _)| *x == v)
            .map(|(_, t)| t.clone())
    };
    let mut i = 0;
    let mut windows = 0;
    while i + 1 < lines.len() {
        let n = if windows % 2 == 0 { 2 } else { 3 };
        let window = &lines[i..(i + n).min(lines.len())];
        i += window.len();
        windows += 1;
        let first = &window[0];
        for (k, &(source, _)) in first.texts.iter().enumerate() {
            let others = first.texts[k + 1..].iter().chain(&first.texts[..k]);
            let Some(&(target, _)) = others.into_iter().find(|(v, _)| v.lang() != source.lang())
            else {
                continue;
            };
            let Some(mut parts) = window
                .iter()
                .map(|l| text_in(l, target).and(text_in(l, source)))
                .collect::<Option<Vec<String>>>()
            else {
                continue;
            };
            // Sentences only: a line without a final stop (a headline) would run into the next.
            if !parts.iter().all(|p| ends_a_sentence(p)) {
                continue;
            }
            let lang = source.lang();
            let at = rng.below(parts.len());
            let original = text::normalize(&parts[at], lang);
            let Some(edited) = (0..4)
                .filter_map(|_| edit(&parts[at], 1, &mut |n| rng.below(n)))
                .find(|q| text::normalize(q, lang) != original)
            else {
                continue;
            };
            parts[at] = edited;
            let last = parts.len() - 1;
            let unstopped = parts
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    if i < last {
                        without_stop(p)
                    } else {
                        p.as_str()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            let want: Vec<&str> = window.iter().map(|l| l.id.as_str()).collect();
            for (kind, query) in [
                (Kind::Joined, parts.join(text::joiner(lang))),
                (Kind::Unstopped, unstopped),
            ] {
                outcomes.push(look_up_joined(memory, kind, &query, lang, target, &want));
            }
        }
    }
}

/// Looks up a query of joined lines sentence by sentence: right when every segment finds
/// an entry, their origins being `want`, in order.
fn look_up_joined(
    memory: &Memory,
    kind: Kind,
    query: &str,
    lang: crate::lang::Lang,
    target: Variant,
    want: &[&str],
) -> Outcome {
    let threshold = memory::DEFAULT_THRESHOLD;
    let t = Instant::now();
    let got = memory.lookup_segments(query, lang, target, threshold, &text::agree(lang));
    let micros = t.elapsed().as_secs_f64() * 1e6;
    // Right: every segment found an entry, and their origins are the lines' own, in
    // order (a line of several sentences may be found sentence by sentence or whole).
    let mut found: Vec<&str> = Vec::new();
    let mut complete = true;
    for g in &got {
        match g.found {
            Some(l) if found.last() != Some(&l.translation.origin.as_str()) => {
                found.push(&l.translation.origin)
            }
            Some(_) => {}
            None => complete = false,
        }
    }
    let right = complete && found == want;
    Outcome {
        kind,
        right,
        matched: !got.is_empty() && got.iter().all(|g| g.percent() >= threshold),
        percent: got
            .iter()
            .map(|g| g.percent())
            .reduce(f64::min)
            .unwrap_or(0.0),
        micros,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, en: &str, ko: &str, zh: &str) -> Aligned {
        Aligned {
            id: id.into(),
            texts: vec![
                (Variant::En, en.into()),
                (Variant::Ko, ko.into()),
                (Variant::Zh, zh.into()),
            ],
        }
    }

    #[test]
    fn summarise_computes_shares_means_and_percentiles() {
        let o = |kind, right, matched, percent, micros| Outcome {
            kind,
            right,
            matched,
            percent,
            micros,
        };
        let outcomes = [
            o(Kind::Exact, true, true, 100.0, 10.0),
            o(Kind::Exact, true, true, 100.0, 30.0),
            o(Kind::Edit1, true, true, 95.0, 20.0),
            o(Kind::Edit1, false, false, 50.0, 40.0),
        ];
        let (rows, lat) = summarise(&outcomes);
        assert_eq!(rows[0].queries, 2);
        assert_eq!(rows[0].right_first, 1.0);
        assert_eq!(rows[1].right_first, 0.5);
        assert_eq!(rows[1].matched, 0.5);
        assert_eq!(rows[1].mean_percent, 72.5);
        assert_eq!(rows[2].queries, 0);
        assert_eq!(lat.p50_us, 20.0);
        assert_eq!(lat.p99_us, 40.0);
        assert_eq!(lat.mean_us, 25.0);
    }

    #[test]
    fn evaluates_a_hand_made_memory() {
        let lines = [
            line(
                "1",
                "The deposit has arrived.",
                "입금이 완료되었습니다.",
                "充值已到账。",
            ),
            line(
                "2",
                "The withdrawal is pending.",
                "출금이 대기 중입니다.",
                "提币处理中。",
            ),
            line(
                "3",
                "Please send us your UID.",
                "UID를 보내 주세요.",
                "请发送您的UID。",
            ),
        ];
        let r = evaluate(&lines, 7);
        assert_eq!(r.entries, 18, "3 lines x 6 ordered pairs");
        assert_eq!(r.segments, 9);
        let exact = &r.rows[0];
        assert_eq!(
            (exact.queries, exact.right_first, exact.mean_percent),
            (9, 1.0, 100.0)
        );
        for row in &r.rows[1..3] {
            assert_eq!(row.queries, 9, "{row:?}");
            assert!(
                row.mean_percent < 100.0,
                "edits lower the percentage: {row:?}"
            );
        }
        // Lines 1 and 2 joined in each of the three languages (line 3 is left alone).
        let joined = &r.rows[3];
        assert_eq!((joined.kind, joined.queries), ("joined", 3));
        assert_eq!(joined.right_first, 1.0, "{joined:?}");
        assert!(joined.mean_percent < 100.0, "{joined:?}");
        // The same lines typed without a stop between them: split again, each its own line.
        let unstopped = &r.rows[4];
        assert_eq!((unstopped.kind, unstopped.queries), ("no stops", 3));
        assert_eq!(unstopped.right_first, 1.0, "{unstopped:?}");
    }

    #[test]
    fn edits_are_deterministic_and_change_the_text() {
        let mut a = Rng(1);
        let mut b = Rng(1);
        let x = edit("withdrawal pending", 2, &mut |n| a.below(n)).unwrap();
        let y = edit("withdrawal pending", 2, &mut |n| b.below(n)).unwrap();
        assert_eq!(x, y);
        assert!(edit("!", 1, &mut |n| a.below(n)).is_none());
    }
}
