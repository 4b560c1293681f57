//! Language-detection evaluation: accuracy per gold language and per kind, a confusion
//! matrix and the cost per call.

use crate::lang::Detector;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// One labelled text: `{"id", "lang", "text", "kind", "source"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledText {
    /// Gold language code (`ko`, `en`, `zh`, `zh-Hans`, `zh-Hant`, `yue`, `wuu`, `ja`).
    pub lang: String,
    /// The text.
    pub text: String,
    /// `single-word`, `word-pair` or `sentence`.
    #[serde(default)]
    pub kind: String,
}

/// The expected answer class for a gold code: Chinese varieties count as `zh`.
pub fn expected(gold: &str) -> &str {
    match gold {
        "zh" | "zh-Hans" | "zh-Hant" | "yue" | "wuu" | "cmn" => "zh",
        other => other,
    }
}

fn has_kana(text: &str) -> bool {
    text.chars().any(crate::analysis::is_kana)
}

/// Returns true when a prediction is right: the expected class, or `zh` for Japanese text
/// without kana (kanji only).
pub fn is_correct(gold: &str, text: &str, predicted: &str) -> bool {
    let want = expected(gold);
    predicted == want || (want == "ja" && predicted == "zh" && !has_kana(text))
}

/// Accuracy counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub total: usize,
    pub correct: usize,
    pub accuracy: f64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct LangidReport {
    pub overall: Tally,
    pub by_language: BTreeMap<String, Tally>,
    pub by_kind: BTreeMap<String, Tally>,
    /// expected class -> predicted -> count
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    pub us_per_call_p50: f64,
    pub us_per_call_mean: f64,
    /// A few wrong cases: (gold, predicted, text).
    pub errors: Vec<(String, String, String)>,
}

fn add(t: &mut Tally, ok: bool) {
    t.total += 1;
    t.correct += usize::from(ok);
    t.accuracy = t.correct as f64 / t.total as f64;
}

/// Runs the detector on every text (no hint) and scores it.
pub fn evaluate(detector: &Detector, items: &[LabelledText]) -> LangidReport {
    let mut overall = Tally::default();
    let mut by_language: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_kind: BTreeMap<String, Tally> = BTreeMap::new();
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut times = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for item in items {
        let start = Instant::now();
        let d = detector.detect(&item.text, None);
        times.push(start.elapsed().as_nanos() as f64 / 1000.0);
        let predicted = d.code.unwrap_or("none");
        let ok = is_correct(&item.lang, &item.text, predicted);
        add(&mut overall, ok);
        add(
            by_language
                .entry(expected(&item.lang).to_string())
                .or_default(),
            ok,
        );
        add(by_kind.entry(item.kind.clone()).or_default(), ok);
        *confusion
            .entry(expected(&item.lang).to_string())
            .or_default()
            .entry(predicted.to_string())
            .or_default() += 1;
        if !ok && errors.len() < 200 {
            errors.push((item.lang.clone(), predicted.to_string(), item.text.clone()));
        }
    }
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    times.sort_by(f64::total_cmp);
    LangidReport {
        overall,
        by_language,
        by_kind,
        confusion,
        us_per_call_p50: times.get(times.len() / 2).copied().unwrap_or(0.0),
        us_per_call_mean: mean,
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoring_rules() {
        assert!(is_correct("yue", "佢哋", "zh"));
        assert!(is_correct("zh-Hant", "提幣", "zh"));
        assert!(is_correct("ja", "東京", "zh"));
        assert!(!is_correct("ja", "ひらがな", "zh"));
        assert!(is_correct("ja", "ひらがな", "ja"));
        assert!(!is_correct("en", "hello", "fr"));
    }
}
