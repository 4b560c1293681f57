//! Language detection: a script check first, lingua (restricted to a few Latin-script
//! languages) for Latin text, and an explicit decision order that is echoed back.
//!
//! Confidence, 0.0 to 1.0, is computed so a caller can threshold it:
//! - Hangul in the text decides Korean, unless more Han characters than Hangul syllables
//!   and a Chinese function character make it Chinese with a Korean word (0.80); kana
//!   decides Japanese (unsupported); Han without kana decides Chinese. Two or more such
//!   characters in an otherwise single-script text give 0.99 (0.97 for Han, which Japanese
//!   also writes); mixing in Latin words lowers it to 0.93; a single CJK character gives
//!   0.70 (0.60 for a lone Han character, possibly Japanese).
//! - Other non-Latin scripts (Cyrillic, Thai, Arabic ...) name their language as unsupported
//!   with 0.90.
//! - Latin-only text of two words or more is screened in two steps. First whichlang's
//!   hashed n-gram model (about 2 µs) over the 16 languages it knows, Latin-script ones
//!   among them; then, when it names English, whatlang's trigram model (about 10 µs)
//!   weighs English against the Latin-script languages lingua compares that whichlang does
//!   not know (Indonesian and Tagalog, which whichlang takes for English). When both rank
//!   English first, the text is English with whatlang's confidence, reliable or not. When
//!   whichlang ranks English first and whatlang Indonesian or Tagalog (short English
//!   questions often), lingua weighs English against those two alone (about 45 µs); when it
//!   ranks English first, that decides (confidence and alternatives are then those of the
//!   three). Any other text goes to lingua over every common Latin-script language
//!   (high-accuracy mode, about 140–200 µs a sentence). The text is reported in another
//!   language only when lingua over every language is at least 0.70 sure, gives English
//!   under 0.15, and the text has three words or more; otherwise it is English with
//!   lingua's English value. The screen never names another language: on the English
//!   queries of `../shared/eval` (4,277 of two words or more) lingua runs for 6% of them
//!   (whatlang alone over all eleven languages left 18% to it, at about 25 µs a text), and
//!   in a check of 49 short messages in the other ten languages the screen ranked English
//!   first for none. Text it does rank
//!   English first is English without lingua's say: its confidence is whatlang's (often
//!   low for short text, so the 0.60 floor below decides), with no alternatives, and a
//!   misranked message in another language would be searched in English rather than
//!   reported as unsupported.
//! - English confidence is at least 0.60, capped at 0.55 for one word, 0.40 for a short
//!   acronym, and at 0.45 for up to three words when the caller's hint is Korean or Chinese,
//!   so the hint decides.
//! - Text without letters (digits, punctuation) has confidence 0.

use super::Lang;
use lingua::{Language, LanguageDetector, LanguageDetectorBuilder};
use unicode_normalization::UnicodeNormalization;

/// Detection confidence at or above which the detected language is used.
pub const DETECTION_THRESHOLD: f64 = 0.5;

/// Confidence that text with more Han characters than Hangul syllables is Chinese.
const MIXED_HAN: f64 = 0.80;

/// Chinese function characters that Korean hanja words do not use: a text with Hangul that
/// has one of them (and more Han than Hangul) is Chinese.
const CHINESE_SIGNS: &str = "的了吗嗎呢么麼没沒我你您是怎这這那哪";

/// How a language was chosen, in order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Named explicitly by the caller.
    Override,
    /// Detected with confidence at or above [`DETECTION_THRESHOLD`].
    Detected,
    /// The caller's locale hint.
    Hint,
    /// The configured default language.
    Default,
}

impl Source {
    /// Returns a lowercase name for tables and logs.
    pub fn name(self) -> &'static str {
        match self {
            Source::Override => "override",
            Source::Detected => "detected",
            Source::Hint => "hint",
            Source::Default => "default",
        }
    }
}

/// What detection concluded about a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The detected language code: `ko`, `en`, `zh`, or an unsupported code such as `ja`;
    /// `None` when the text has no letters.
    pub code: Option<&'static str>,
    /// The detected supported language, if the text is in one.
    pub lang: Option<Lang>,
    /// Confidence 0.0 to 1.0.
    pub confidence: f64,
    /// Other plausible languages, best first.
    pub alternatives: Vec<(&'static str, f64)>,
}

impl Detection {
    /// Returns true when the text is confidently in a language faqd does not support.
    pub fn is_unsupported(&self) -> bool {
        self.lang.is_none() && self.code.is_some() && self.confidence >= DETECTION_THRESHOLD
    }

    /// Returns the languages weighed other than `chosen` (the language served) and the
    /// unsupported language reported ([`Detection::is_unsupported`]), best first: the best
    /// guess when it was not chosen (a detection the hint overruled), then the alternatives.
    pub fn others(&self, chosen: Option<&str>) -> Vec<(&'static str, f64)> {
        let unsupported = self.code.filter(|_| self.is_unsupported());
        let mut out: Vec<(&'static str, f64)> = Vec::new();
        for (code, conf) in self
            .code
            .map(|c| (c, self.confidence))
            .into_iter()
            .chain(self.alternatives.iter().copied())
        {
            if Some(code) != chosen
                && Some(code) != unsupported
                && !out.iter().any(|(c, _)| *c == code)
            {
                out.push((code, conf));
            }
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }
}

/// The language a request is served in, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The language searched.
    pub lang: Lang,
    /// How it was chosen.
    pub source: Source,
    /// Confidence of the choice (1.0 for an override, else the detection confidence).
    pub confidence: f64,
    /// The detection behind the choice (empty for an override).
    pub detection: Detection,
}

/// Returns English and the languages of [`LATIN_LANGUAGES`] that whichlang does not know (by
/// ISO 639-3 code), English first: what is left to weigh once whichlang has ranked English
/// first.
fn unseen_by_whichlang() -> Vec<Language> {
    LATIN_LANGUAGES
        .into_iter()
        .filter(|l| {
            let code = l.iso_code_639_3().to_string();
            code == "eng" || !whichlang_knows(&code)
        })
        .collect()
}

/// Returns the languages whatlang weighs English against once whichlang has ranked English
/// first ([`unseen_by_whichlang`]).
fn confirming_languages() -> Vec<whatlang::Lang> {
    unseen_by_whichlang()
        .iter()
        .filter_map(|l| whatlang::Lang::from_code(l.iso_code_639_3().to_string()))
        .collect()
}

/// Returns true when whichlang knows the language of ISO 639-3 code `code`.
fn whichlang_knows(code: &str) -> bool {
    whichlang::LANGUAGES
        .iter()
        .any(|w| w.three_letter_code() == code)
}

/// What the cheap screen of Latin text found.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Screen {
    /// whichlang and whatlang both rank English first (whatlang's confidence).
    English(f64),
    /// whichlang ranks English first, whatlang does not (it ranks a language whichlang does
    /// not know first, or none): lingua weighs English against those alone, and against
    /// every language of [`LATIN_LANGUAGES`] when English does not come first.
    Unseen,
    /// whichlang ranks another language first: lingua weighs all of [`LATIN_LANGUAGES`].
    Other,
}

/// Detects the language of short texts.
pub struct Detector {
    lingua: LanguageDetector,
    /// lingua over [`unseen_by_whichlang`], for text whichlang ranks English and whatlang
    /// does not.
    unseen: LanguageDetector,
    /// whatlang over [`confirming_languages`].
    confirm: whatlang::Detector,
}

const LATIN_LANGUAGES: [Language; 11] = [
    Language::English,
    Language::French,
    Language::German,
    Language::Spanish,
    Language::Portuguese,
    Language::Italian,
    Language::Dutch,
    Language::Vietnamese,
    Language::Indonesian,
    Language::Turkish,
    Language::Tagalog,
];

impl Default for Detector {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Default)]
struct Counts {
    hangul: usize,
    han: usize,
    kana: usize,
    latin: usize,
    latin_words: usize,
    other: usize,
    other_code: Option<&'static str>,
    all_upper: bool,
}

fn other_script(c: char) -> Option<&'static str> {
    Some(match c as u32 {
        0x0400..=0x052F => "ru",
        0x0370..=0x03FF => "el",
        0x0590..=0x05FF => "he",
        0x0600..=0x06FF | 0x0750..=0x077F => "ar",
        0x0900..=0x097F => "hi",
        0x0E00..=0x0E7F => "th",
        0x0E80..=0x0EFF => "lo",
        0x1000..=0x109F => "my",
        0x10A0..=0x10FF => "ka",
        0x0530..=0x058F => "hy",
        0x1780..=0x17FF => "km",
        0x0980..=0x09FF => "bn",
        0x0B80..=0x0BFF => "ta",
        _ => return None,
    })
}

/// Counts the letters of each script in `text`, NFKC-normalised (full-width Latin counts as
/// Latin). ASCII text is its own NFKC form and is counted as it is.
fn count(text: &str) -> Counts {
    if text.is_ascii() {
        count_chars(text.chars())
    } else {
        count_chars(text.nfkc())
    }
}

fn count_chars(chars: impl Iterator<Item = char>) -> Counts {
    use crate::analysis::{is_han, is_hangul, is_kana};
    let mut c = Counts {
        all_upper: true,
        ..Counts::default()
    };
    let mut in_latin_word = false;
    for ch in chars {
        let latin = ch.is_alphabetic()
            && (ch.is_ascii() || matches!(ch as u32, 0xC0..=0x24F | 0x1E00..=0x1EFF));
        if latin {
            c.latin += 1;
            if !ch.is_uppercase() {
                c.all_upper = false;
            }
            if !in_latin_word {
                c.latin_words += 1;
            }
        } else if is_hangul(ch) {
            c.hangul += 1;
        } else if is_kana(ch) {
            c.kana += 1;
        } else if is_han(ch) {
            c.han += 1;
        } else if let Some(code) = other_script(ch) {
            c.other += 1;
            c.other_code.get_or_insert(code);
        }
        in_latin_word = latin || (in_latin_word && (ch == '\'' || ch == '-'));
    }
    c
}

impl Detector {
    /// Builds a detector with its models loaded (a few hundred milliseconds, once).
    pub fn new() -> Self {
        let lingua = LanguageDetectorBuilder::from_languages(&LATIN_LANGUAGES)
            .with_preloaded_language_models()
            .build();
        let unseen = LanguageDetectorBuilder::from_languages(&unseen_by_whichlang())
            .with_preloaded_language_models()
            .build();
        let confirm = whatlang::Detector::with_allowlist(confirming_languages());
        Detector {
            lingua,
            unseen,
            confirm,
        }
    }

    /// Screens Latin text with whichlang, then whatlang (see the module docs).
    fn screen(&self, text: &str) -> Screen {
        if whichlang::detect_language(text) != whichlang::Lang::Eng {
            return Screen::Other;
        }
        match self.confirm.detect(text) {
            Some(info) if info.lang() == whatlang::Lang::Eng => Screen::English(info.confidence()),
            _ => Screen::Unseen,
        }
    }

    /// Detects the language of `text`; `hint` lowers the confidence of short Latin text when
    /// the caller's locale is Korean or Chinese.
    pub fn detect(&self, text: &str, hint: Option<Lang>) -> Detection {
        let c = count(text);
        let cjk = c.hangul + c.han + c.kana;
        let mixed = c.latin > 0 || c.other > 0;
        let cjk_conf = |n: usize, single: f64| {
            if n < 2 {
                single
            } else if mixed {
                0.93
            } else {
                0.99
            }
        };
        // Han outnumbering Hangul, with a Chinese function word, is Chinese with a Korean
        // word in it (user trial: `提币一直没到账 출금`); without one it may be Korean with
        // hanja (review: `株式會社 삼성`).
        if c.hangul > 0
            && c.han > c.hangul
            && c.kana == 0
            && text.contains(|ch| CHINESE_SIGNS.contains(ch))
        {
            return supported(Lang::Zh, MIXED_HAN, vec![("ko", 1.0 - MIXED_HAN)]);
        }
        if c.hangul > 0 {
            let conf = cjk_conf(c.hangul, 0.70);
            let mut alts = Vec::new();
            if c.han > 0 {
                alts.push(("zh", (1.0 - conf) * 0.6));
            }
            if c.latin > 0 {
                alts.push(("en", (1.0 - conf) * 0.4));
            }
            return supported(Lang::Ko, conf, alts);
        }
        if c.kana > 0 {
            let conf = cjk_conf(cjk, 0.70);
            return Detection {
                code: Some("ja"),
                lang: None,
                confidence: conf,
                alternatives: vec![("zh", 1.0 - conf)],
            };
        }
        if c.han > 0 {
            let conf = if c.han < 2 {
                0.60
            } else if mixed {
                0.93
            } else {
                0.97
            };
            let mut alts = vec![("ja", (1.0 - conf) * 0.7)];
            if c.latin > 0 {
                alts.push(("en", (1.0 - conf) * 0.3));
            }
            return supported(Lang::Zh, conf, alts);
        }
        if c.other > c.latin {
            return Detection {
                code: c.other_code,
                lang: None,
                confidence: 0.90,
                alternatives: Vec::new(),
            };
        }
        if c.latin == 0 {
            return Detection {
                code: None,
                lang: None,
                confidence: 0.0,
                alternatives: Vec::new(),
            };
        }
        self.detect_latin(text, &c, hint)
    }

    fn detect_latin(&self, text: &str, c: &Counts, hint: Option<Lang>) -> Detection {
        let acronym = c.latin_words == 1 && c.latin <= 5 && (c.all_upper || c.latin <= 3);
        let lingua = |detector: &LanguageDetector| {
            let values = detector.compute_language_confidence_values(text);
            let english = values
                .iter()
                .find(|(l, _)| *l == Language::English)
                .map_or(0.0, |(_, v)| *v);
            (values, english)
        };
        let (values, english) = if c.latin_words < 2 {
            (Vec::new(), 1.0)
        } else {
            match self.screen(text) {
                Screen::English(english) => (Vec::new(), english),
                Screen::Unseen => match lingua(&self.unseen) {
                    (values, english)
                        if values.first().is_some_and(|(l, _)| *l == Language::English) =>
                    {
                        (values, english)
                    }
                    // Naming another language takes every language's say, as below.
                    _ => lingua(&self.lingua),
                },
                Screen::Other => lingua(&self.lingua),
            }
        };
        let alternatives: Vec<(&'static str, f64)> = values
            .iter()
            .filter(|(l, v)| *l != Language::English && *v > 0.01)
            .take(3)
            .map(|(l, v)| (latin_code(*l), *v))
            .collect();
        if let Some((top, top_conf)) = values.first() {
            if *top != Language::English
                && *top_conf >= 0.70
                && english < 0.15
                && c.latin_words >= 3
            {
                let mut alts = alternatives.clone();
                alts.retain(|(code, _)| *code != latin_code(*top));
                alts.insert(0, ("en", english));
                return Detection {
                    code: Some(latin_code(*top)),
                    lang: None,
                    confidence: *top_conf,
                    alternatives: alts,
                };
            }
        }
        let mut conf = english.max(0.60);
        if acronym {
            conf = conf.min(0.40);
        } else if c.latin_words == 1 {
            conf = conf.min(0.55);
        }
        if matches!(hint, Some(Lang::Ko | Lang::Zh)) && c.latin_words <= 3 {
            conf = conf.min(0.45);
        }
        supported(Lang::En, conf, alternatives)
    }

    /// Chooses the language to serve: override, then confident detection, then the hint, then
    /// the default.
    pub fn choose(
        &self,
        text: &str,
        explicit: Option<Lang>,
        hint: Option<Lang>,
        default: Lang,
    ) -> Choice {
        if let Some(lang) = explicit {
            return Choice {
                lang,
                source: Source::Override,
                confidence: 1.0,
                detection: Detection {
                    code: None,
                    lang: None,
                    confidence: 0.0,
                    alternatives: Vec::new(),
                },
            };
        }
        let detection = self.detect(text, hint);
        let confident = detection.confidence >= DETECTION_THRESHOLD;
        let (lang, source) = match (detection.lang, hint) {
            (Some(lang), _) if confident => (lang, Source::Detected),
            (_, Some(hint)) => (hint, Source::Hint),
            _ => (default, Source::Default),
        };
        Choice {
            lang,
            source,
            confidence: detection.confidence,
            detection,
        }
    }
}

fn supported(lang: Lang, confidence: f64, alternatives: Vec<(&'static str, f64)>) -> Detection {
    Detection {
        code: Some(lang.code()),
        lang: Some(lang),
        confidence,
        alternatives,
    }
}

fn latin_code(l: Language) -> &'static str {
    match l {
        Language::English => "en",
        Language::French => "fr",
        Language::German => "de",
        Language::Spanish => "es",
        Language::Portuguese => "pt",
        Language::Italian => "it",
        Language::Dutch => "nl",
        Language::Vietnamese => "vi",
        Language::Indonesian => "id",
        Language::Turkish => "tr",
        Language::Tagalog => "tl",
        _ => "und",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::LazyLock;

    static DETECTOR: LazyLock<Detector> = LazyLock::new(Detector::new);

    #[test]
    fn decision_order_table() {
        use Source::*;
        type Case<'a> = (&'a str, Option<Lang>, Option<Lang>, Lang, Source);
        let cases: &[Case] = &[
            (
                "Upbit 출금이 안돼요 withdrawal pending",
                None,
                None,
                Lang::Ko,
                Detected,
            ),
            ("API key 발급 방법", None, None, Lang::Ko, Detected),
            ("2FA 인증", None, None, Lang::Ko, Detected),
            ("USDT 提现", None, None, Lang::Zh, Detected),
            ("提幣 pending 怎麼辦", None, None, Lang::Zh, Detected),
            // Chinese with a Korean word; Korean with a hanja word (user trial).
            ("提币一直没到账 출금", None, None, Lang::Zh, Detected),
            (
                "USDT 提币 pending 怎么办 출금 fee",
                None,
                None,
                Lang::Zh,
                Detected,
            ),
            ("出金 지연 문의드립니다", None, None, Lang::Ko, Detected),
            ("株式會社 삼성", None, None, Lang::Ko, Detected),
            ("大韓民國 國會 의원", None, None, Lang::Ko, Detected),
            (
                "How do I reset my password?",
                None,
                None,
                Lang::En,
                Detected,
            ),
            (
                "How do I reset my password?",
                None,
                Some(Lang::Ko),
                Lang::En,
                Detected,
            ),
            ("KYC", None, Some(Lang::Ko), Lang::Ko, Hint),
            ("OTP", None, Some(Lang::Zh), Lang::Zh, Hint),
            ("API error 401", None, Some(Lang::Ko), Lang::Ko, Hint),
            ("KYC", None, None, Lang::En, Default),
            ("12345", None, Some(Lang::Zh), Lang::Zh, Hint),
            ("12345", None, None, Lang::En, Default),
            ("출금", Some(Lang::En), None, Lang::En, Override),
            (
                "出金の方法を教えてください",
                None,
                Some(Lang::Ko),
                Lang::Ko,
                Hint,
            ),
        ];
        for (text, explicit, hint, want, source) in cases {
            let c = DETECTOR.choose(text, *explicit, *hint, Lang::En);
            assert_eq!(
                (c.lang, c.source),
                (*want, *source),
                "{text:?} hint {hint:?}: {c:?}"
            );
        }
    }

    #[test]
    fn unsupported_languages_are_named() {
        for (text, code) in [
            ("出金の方法を教えてください", "ja"),
            ("Как вывести деньги?", "ru"),
            ("ถอนเงินอย่างไร", "th"),
            ("Comment puis-je retirer mon argent de mon compte ?", "fr"),
            ("Quiero retirar mi dinero de la cuenta, por favor", "es"),
            ("Ich möchte mein Geld von meinem Konto abheben", "de"),
            ("Tôi muốn rút tiền từ tài khoản của mình", "vi"),
            ("Voglio annullare il mio ordine", "it"),
            ("Ik wil mijn bestelling annuleren", "nl"),
            ("Não consigo sacar meu dinheiro", "pt"),
            ("Saya ingin membatalkan pesanan saya", "id"),
            ("Siparişimi iptal etmek istiyorum", "tr"),
            ("Paano ko babaguhin ang aking password", "tl"),
        ] {
            let d = DETECTOR.detect(text, None);
            assert!(d.is_unsupported(), "{text}: {d:?}");
            assert_eq!(d.code, Some(code), "{text}");
        }
    }

    #[test]
    fn confidence_is_lower_for_short_and_mixed_text() {
        let full = DETECTOR.detect("출금이 안돼요", None).confidence;
        let mixed = DETECTOR.detect("USDT 출금이 안돼요", None).confidence;
        let one = DETECTOR.detect("돈", None).confidence;
        assert!(full > mixed && mixed > one, "{full} {mixed} {one}");
        let sentence = DETECTOR.detect("my withdrawal has been pending for two days", None);
        let word = DETECTOR.detect("withdrawal", None);
        assert!(
            sentence.confidence > word.confidence,
            "{sentence:?} {word:?}"
        );
        assert_eq!(DETECTOR.detect("404", None).confidence, 0.0);
    }

    #[test]
    fn the_screen_knows_every_language_lingua_weighs() {
        use whatlang::Lang as W;
        // whichlang knows the others; whatlang confirms English against these.
        assert_eq!(confirming_languages(), [W::Eng, W::Ind, W::Tgl]);
        for l in LATIN_LANGUAGES {
            let code = l.iso_code_639_3().to_string();
            let confirmed = confirming_languages().iter().any(|w| w.code() == code);
            assert!(whichlang_knows(&code) || confirmed, "{code}");
        }
    }

    #[test]
    fn the_screen_decides_english_only() {
        let english = DETECTOR.screen("my withdrawal has been pending for two hours");
        assert!(
            matches!(english, Screen::English(c) if c > 0.9),
            "{english:?}"
        );
        // English that whatlang ranks first without being sure of it still skips lingua.
        let unsure = DETECTOR.screen("card not working");
        assert!(
            matches!(unsure, Screen::English(c) if c < 0.5),
            "{unsure:?}"
        );
        for (other, screened) in [
            (
                "Comment puis-je retirer mon argent de mon compte ?",
                Screen::Other,
            ),
            (
                "Quiero retirar mi dinero de la cuenta, por favor",
                Screen::Other,
            ),
            ("Ma carte a été bloquée hier soir", Screen::Other),
            ("Mi tarjeta no funciona", Screen::Other),
            ("Wo finde ich meine Rechnung", Screen::Other),
            // whichlang does not know Tagalog or Indonesian, and ranks these English; lingua
            // then weighs English against those two alone.
            ("Paano ko babaguhin ang aking password", Screen::Unseen),
            ("Hindi ako makapag-login", Screen::Unseen),
        ] {
            assert_eq!(DETECTOR.screen(other), screened, "{other}");
        }
        // whichlang takes this Indonesian for Turkish, which it knows: all of lingua's.
        let indonesian = "Bagaimana cara mengubah kata sandi saya";
        assert_eq!(DETECTOR.screen(indonesian), Screen::Other);
    }

    #[test]
    fn english_that_whatlang_takes_for_tagalog_or_indonesian_is_english() {
        // Short English questions whose trigrams whatlang finds closer to Indonesian or
        // Tagalog: lingua over English, Indonesian and Tagalog finds English.
        for text in ["How do I reset my PIN?", "My PIN is blocked, what do I do?"] {
            assert_eq!(DETECTOR.screen(text), Screen::Unseen, "{text}");
            let d = DETECTOR.detect(text, None);
            assert_eq!(d.lang, Some(Lang::En), "{text}: {d:?}");
            // Decided by the small detector (its alternatives), English first among the three.
            assert!(
                d.alternatives.iter().all(|(c, _)| ["tl", "id"].contains(c)),
                "{text}: {d:?}"
            );
            let alone = DETECTOR.unseen.compute_language_confidence_values(text);
            assert_eq!(alone[0].0, Language::English, "{text}: {alone:?}");
        }
        // Weighed against Tagalog and Indonesian alone this is Tagalog (0.72, English 0.07);
        // naming another language takes every language's say, and among them it is English.
        let sang = "I sang a long song.";
        assert_eq!(DETECTOR.screen(sang), Screen::Unseen);
        let alone = DETECTOR.unseen.compute_language_confidence_values(sang);
        assert_eq!(alone[0].0, Language::Tagalog, "{alone:?}");
        let d = DETECTOR.detect(sang, None);
        assert_eq!(d.lang, Some(Lang::En), "{d:?}");
    }
}
