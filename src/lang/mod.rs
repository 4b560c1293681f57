//! Supported languages, lenient locale parsing, and language detection.

mod detect;

pub use detect::{Choice, Detection, Detector, Source, DETECTION_THRESHOLD};

use std::fmt;

/// A language faqd answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    /// Korean.
    Ko,
    /// English.
    En,
    /// Chinese, Simplified and Traditional.
    Zh,
}

/// An unknown or unsupported language code. Its message quotes at most the first 16
/// characters of the code, so that what is supported still fits in a short status message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unsupported language {:?} (use ko, en, zh or a locale tag: ko-KR, zh-TW, zh-Hant)",
    start(code, 16)
)]
pub struct UnknownLang {
    /// The code as given.
    pub code: String,
}

/// The tag meant by a country code written for a language tag (`kr`, `cn`, `tw`), as words
/// for a message: `` `ko` (Korean; `kr` is the country code) ``.
pub fn meant_by(tag: &str) -> Option<&'static str> {
    match tag.trim().to_ascii_lowercase().as_str() {
        "kr" | "kr-kr" => Some("`ko` (Korean; `kr` is the country code)"),
        "cn" | "chs" => Some("`zh` (Simplified Chinese)"),
        "tw" | "hk" | "cht" => Some("`zh-Hant` (Traditional Chinese)"),
        "us" | "gb" => Some("`en` (English)"),
        _ => None,
    }
}

/// Returns the first `n` characters of `text`, with `…` when it is longer (a value quoted in
/// an error message).
pub(crate) fn start(text: &str, n: usize) -> String {
    let mut chars = text.chars();
    let mut short: String = chars.by_ref().take(n).collect();
    if chars.next().is_some() {
        short.push('…');
    }
    short
}

/// Lists the first `most` of `items` in one line (`; ` between them), each cut to `chars`
/// characters, as many as fit in `bytes`; the rest are counted (`and 3 more`).
pub(crate) fn list_first(items: &[String], most: usize, chars: usize, bytes: usize) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut used = 0;
    for item in items.iter().take(most) {
        let item = start(item, chars);
        if used + item.len() > bytes {
            break;
        }
        used += item.len() + 2;
        out.push(item);
    }
    if items.len() > out.len() {
        out.push(format!("and {} more", items.len() - out.len()));
    }
    out.join("; ")
}

impl Lang {
    /// Every supported language.
    pub const ALL: [Lang; 3] = [Lang::Ko, Lang::En, Lang::Zh];

    /// Returns the language code (`ko`, `en`, `zh`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// Parses a language code or locale tag leniently: `ko`, `ko-KR`, `en_US`, `zh-TW`,
    /// `zh-Hant`, `KOR`, `chi` ...
    pub fn parse(tag: &str) -> Result<Lang, UnknownLang> {
        Variant::parse(tag).map(Variant::lang)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The language of one version of an article: a supported language, with Chinese split by
/// script so `zh` and `zh-Hant` versions can live side by side in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    /// Korean.
    Ko,
    /// English.
    En,
    /// Simplified Chinese (also the form for untagged `zh`).
    Zh,
    /// Traditional Chinese (`zh-Hant`, `zh-TW`, `zh-HK`, `zh-MO`).
    ZhHant,
}

impl Variant {
    /// Every variant.
    pub const ALL: [Variant; 4] = [Variant::Ko, Variant::En, Variant::Zh, Variant::ZhHant];

    /// Returns the variant a user of `lang` reads: for Chinese, Traditional when
    /// `traditional`, else Simplified.
    pub fn read_in(lang: Lang, traditional: bool) -> Variant {
        match lang {
            Lang::Ko => Variant::Ko,
            Lang::En => Variant::En,
            Lang::Zh if traditional => Variant::ZhHant,
            Lang::Zh => Variant::Zh,
        }
    }

    /// Returns the tag (`ko`, `en`, `zh`, `zh-Hant`).
    pub fn tag(self) -> &'static str {
        match self {
            Variant::Ko => "ko",
            Variant::En => "en",
            Variant::Zh => "zh",
            Variant::ZhHant => "zh-Hant",
        }
    }

    /// Returns the language this variant is searched as.
    pub fn lang(self) -> Lang {
        match self {
            Variant::Ko => Lang::Ko,
            Variant::En => Lang::En,
            Variant::Zh | Variant::ZhHant => Lang::Zh,
        }
    }

    /// Returns the Chinese script a locale tag names (`zh-TW`, `zh-Hant`: Traditional;
    /// `zh-CN`, `zh-Hans`: Simplified), or `None` when it names none (`zh`, `ko`).
    pub fn script_named(tag: &str) -> Option<Variant> {
        let lower = tag.trim().to_ascii_lowercase().replace('_', "-");
        let mut parts = lower.split('-').filter(|p| !p.is_empty());
        if !matches!(parts.next(), Some("zh" | "zho" | "chi" | "cmn")) {
            return None;
        }
        let rest: Vec<&str> = parts.collect();
        let hant = rest
            .iter()
            .any(|p| matches!(*p, "hant" | "tw" | "hk" | "mo"));
        let hans = rest.iter().any(|p| matches!(*p, "hans" | "cn" | "sg"));
        match (hant, hans) {
            (true, false) => Some(Variant::ZhHant),
            (false, true) => Some(Variant::Zh),
            _ => None,
        }
    }

    /// Parses a language code or locale tag leniently.
    pub fn parse(tag: &str) -> Result<Variant, UnknownLang> {
        let lower = tag.trim().to_ascii_lowercase().replace('_', "-");
        let primary = lower.split('-').find(|p| !p.is_empty()).unwrap_or("");
        let unknown = || UnknownLang {
            code: tag.to_string(),
        };
        match primary {
            "ko" | "kor" => Ok(Variant::Ko),
            "en" | "eng" => Ok(Variant::En),
            "zh" | "zho" | "chi" | "cmn" if chinese_subtags_known(&lower) => {
                Ok(match Variant::script_named(tag) {
                    Some(Variant::ZhHant) => Variant::ZhHant,
                    _ => Variant::Zh,
                })
            }
            _ => Err(unknown()),
        }
    }
}

/// True when every subtag of a Chinese tag (lowercase, `-` between subtags) before any
/// extension or private use (`-x-…`) is one faqd knows what to do with: the script `hans` or
/// `hant`, a region (`tw`, `cn`, `my`, `419`), or Mandarin (`cmn`). Not another script
/// (`zh-Latn`, pinyin), language (`zh-yue`, Cantonese) or a typo (`zh-TWN`), which would
/// otherwise be served as Simplified (user trial).
fn chinese_subtags_known(lower: &str) -> bool {
    lower
        .split('-')
        .filter(|p| !p.is_empty())
        .skip(1)
        .take_while(|p| p.len() > 1)
        .all(|p| {
            matches!(p, "hans" | "hant" | "cmn")
                || (p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()))
                || (p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()))
        })
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_locale_tags_leniently() {
        for (tag, want) in [
            ("ko", Variant::Ko),
            ("ko-KR", Variant::Ko),
            ("KO", Variant::Ko),
            ("en_US", Variant::En),
            ("en-GB", Variant::En),
            ("zh", Variant::Zh),
            ("zh-CN", Variant::Zh),
            ("zh-Hans-CN", Variant::Zh),
            ("zh-TW", Variant::ZhHant),
            ("zh_Hant_HK", Variant::ZhHant),
            ("zh-Hant", Variant::ZhHant),
            ("zh-cmn-Hant-TW", Variant::ZhHant),
            ("zh-HK-x-private", Variant::ZhHant),
            ("zh-MY", Variant::Zh),
            ("zh-419", Variant::Zh),
        ] {
            assert_eq!(Variant::parse(tag), Ok(want), "{tag}");
        }
        // Another script or language, or a typo, is not served as Simplified.
        for bad in [
            "zh-TWN",
            "zh-XXX",
            "zh-yue",
            "zh-Latn",
            "zh-Hant-TWN",
            "zh-pinyin",
        ] {
            assert!(Variant::parse(bad).is_err(), "{bad}");
        }
        for bad in ["ja", "", "fr-FR", "klingon"] {
            assert!(Lang::parse(bad).is_err(), "{bad}");
        }
        let msg = Lang::parse("ja").unwrap_err().to_string();
        assert!(msg.contains("ko, en, zh"), "{msg}");
    }
}
