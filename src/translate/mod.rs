//! Bridging languages: translation groups (which versions exist, which are stale), the
//! glossary of support terms the cross-language fallback maps queries with ([`glossary`]),
//! and the translation memory for agent replies ([`memory`]).

pub mod glossary;
pub mod memory;

use crate::budget::BudgetLru;
use crate::ingest::Article;
use crate::lang::{Lang, Variant};
use aho_corasick::{AhoCorasick, MatchKind};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

/// A character as glossary and memory matching see it, with the byte span of the original
/// character it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folded {
    /// The folded character.
    pub c: char,
    /// Byte offset of the original character.
    pub from: usize,
    /// Byte offset one past the original character.
    pub to: usize,
}

/// Returns the characters of a text as glossary and memory matching see them: NFKC,
/// lowercase, and for Chinese Traditional folded to Simplified; each with its original span.
pub fn fold(text: &str, lang: Lang) -> Vec<Folded> {
    let simplified = (lang == Lang::Zh).then(|| crate::analysis::fold_to_simplified(text));
    // The folding maps one character to one character; otherwise fold each on its own.
    let one_to_one = simplified
        .as_ref()
        .is_some_and(|s| s.chars().count() == text.chars().count());
    let mut simple = simplified.iter().flat_map(|s| s.chars());
    let mut out = Vec::with_capacity(text.len());
    for (from, orig) in text.char_indices() {
        let to = from + orig.len_utf8();
        let c = match (&simplified, one_to_one) {
            (None, _) => orig,
            (Some(_), true) => simple.next().unwrap_or(orig),
            (Some(_), false) => crate::analysis::fold_to_simplified(orig.encode_utf8(&mut [0; 4]))
                .chars()
                .next()
                .unwrap_or(orig),
        };
        crate::analysis::fold_char(c, |c| out.push(Folded { c, from, to }));
    }
    out
}

/// Returns Simplified Chinese text in Traditional characters (OpenCC's `s2tw` tables:
/// phrases first, then characters, Taiwan standard forms; then [`taiwan_forms`]).
/// Traditional text and other scripts pass through unchanged but for [`taiwan_forms`].
///
/// Characters, not words: `s2twp`'s Taiwan phrase tables would also write `軟體` for `软件`,
/// but they change meanings an exchange's articles depend on (`注销账户`, close the account,
/// becomes `登出帳戶`, log out of it; `申诉程序`, the appeal procedure, `申訴程式`, a program).
pub fn to_traditional(text: &str) -> String {
    static S2TW: LazyLock<ferrous_opencc::OpenCC> = LazyLock::new(|| {
        ferrous_opencc::OpenCC::from_config(ferrous_opencc::config::BuiltinConfig::S2tw)
            .expect("the built-in s2tw configuration loads")
    });
    taiwan_forms(S2TW.convert(text))
}

/// Characters after which `天后` is the goddess (`歌壇天后`, `一代天后`, `媽祖天后`), and
/// before which it is (`天后宮`, `天后廟`, `天后誕`, `天后娘娘`): elsewhere it is "… days
/// later" or "after the day" (`3天後`, `聊天後`, `隔天後`, `3個工作天後`), which support text
/// means (review).
const GODDESS_BEFORE: &str = "壇坛代祖";
const GODDESS_AFTER: &str = "宮宫廟庙誕诞娘";

/// Returns `s2tw` output as Taiwan writes it (user trial): account words with `帳` (`帳戶`,
/// `到帳`; the tables write the mainland's `賬`), `台` for `臺` (`平台`, as native Taiwan
/// articles write it beside the tables' `平臺`), and `天後` where the tables' phrase `天后`
/// (the goddess) swallowed a `天` followed by "after" (`90 天后`), but in the goddess's own
/// words ([`GODDESS_BEFORE`], [`GODDESS_AFTER`]).
fn taiwan_forms(text: String) -> String {
    if !text.contains(['賬', '臺']) && !text.contains("天后") {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut before: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '賬' => out.push('帳'),
            '臺' => out.push('台'),
            '天' if chars.peek() == Some(&'后')
                && !before.is_some_and(|b| GODDESS_BEFORE.contains(b)) =>
            {
                chars.next();
                let goddess = chars.peek().is_some_and(|a| GODDESS_AFTER.contains(*a));
                out.push_str(if goddess { "天后" } else { "天後" });
            }
            _ => out.push(c),
        }
        before = Some(c);
    }
    out
}

/// Returns Traditional Chinese text in Simplified characters, in mainland wording (OpenCC's
/// `tw2sp` tables: Taiwan phrases first, `網路` → `网络`, `金鑰` → `密钥`, then characters;
/// but [`TAIWAN_WORDS`] as that list writes them; then [`account_words`]). Other scripts pass
/// through unchanged, and Simplified text but for [`account_words`] and the list's words.
pub fn to_simplified(text: &str) -> String {
    static TW2SP: LazyLock<ferrous_opencc::OpenCC> = LazyLock::new(|| {
        ferrous_opencc::OpenCC::from_config(ferrous_opencc::config::BuiltinConfig::Tw2sp)
            .expect("the built-in tw2sp configuration loads")
    });
    static WORDS: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .build(TAIWAN_WORDS.iter().map(|(taiwan, _)| taiwan))
            .expect("the Taiwan words build an automaton")
    });
    // Each Taiwan word is marked with a character of the private use area, which the tables
    // leave alone, and written in its mainland form after them.
    // (Text that has such characters of its own is left to the tables.)
    let mut marked = String::with_capacity(text.len());
    let mut words: Vec<String> = Vec::new();
    if text.chars().any(|c| PRIVATE_USE.contains(&(c as u32))) {
        marked.push_str(text);
    } else {
        WORDS.replace_all_with(text, &mut marked, |m, found, out| {
            // A word written as another only where it is a whole word; elsewhere its
            // characters, converted one by one, so that the tables do not take it for the
            // word either (review: `刊登出來` is `刊登` `出來`, not `登出`, which the tables
            // write `注销`). One kept as its characters (`指標` in `技術指標`) is so anywhere.
            let mainland = TAIWAN_WORDS[m.pattern().as_usize()].1;
            let chars = crate::analysis::to_simplified(found);
            let word = if chars == mainland || crate::analysis::is_word_at(text, m.range()) {
                mainland.to_string()
            } else {
                chars
            };
            let mark = PRIVATE_USE.start + words.len() as u32;
            // More words than marks: this one and the rest are left to the tables.
            let Some(mark) = char::from_u32(mark).filter(|_| mark < PRIVATE_USE.end) else {
                out.push_str(&text[m.range()]);
                return false;
            };
            out.push(mark);
            words.push(word);
            true
        });
    }
    let converted = TW2SP.convert(&marked);
    if words.is_empty() {
        return account_words(converted);
    }
    let mut out = String::with_capacity(converted.len());
    for c in converted.chars() {
        match (c as u32).checked_sub(PRIVATE_USE.start) {
            Some(i) if (i as usize) < words.len() => out.push_str(&words[i as usize]),
            _ => out.push(c),
        }
    }
    account_words(out)
}

/// The private use area of the Basic Multilingual Plane.
const PRIVATE_USE: std::ops::Range<u32> = 0xE000..0xF900;

/// Taiwan words and their mainland form, written so rather than as `tw2sp`'s phrase tables
/// write them: tables made for software texts, which change what a support article says
/// (`申訴程序`, the appeal procedure, became `申诉进程`, a process; `登出`, log out,
/// `注销`, which mainland apps use for closing an account; `技術指標` `技术指针`, a
/// pointer; `充值通道` `充值信道`; `提交資料` `提交数据`; `查詢` `查找`), or miss the
/// mainland word (`預設` `缺省`; `身分`, `工作天`, `唯讀`, `紀錄` kept; user trial).
const TAIWAN_WORDS: [(&str, &str); 39] = [
    ("查詢", "查询"),
    ("程序", "程序"),
    ("行程", "行程"),
    ("登出", "退出登录"),
    ("指標", "指标"),
    ("通道", "通道"),
    ("核心", "核心"),
    ("執行", "执行"),
    ("文件", "文件"),
    ("文字", "文字"),
    ("資料", "资料"),
    ("資料庫", "数据库"),
    ("資料夾", "文件夹"),
    ("模擬", "模拟"),
    ("複製", "复制"),
    ("序列", "序列"),
    ("進階", "进阶"),
    ("高階", "高级"),
    ("呼叫", "呼叫"),
    ("物件", "物件"),
    ("預設", "默认"),
    ("唯讀", "只读"),
    ("工作天", "工作日"),
    ("紀錄", "记录"),
    ("紀錄片", "纪录片"),
    ("身分", "身份"),
    ("儲值", "充值"),
    ("行動裝置", "移动设备"),
    ("使用者介面", "用户界面"),
    ("介面設計", "界面设计"),
    // A screen (`界面`), but a programming interface (`接口`) where it is one; the tables
    // make every `介面` an `接口` (user trial: `請在介面上確認`).
    ("介面", "界面"),
    ("API介面", "API接口"),
    ("API 介面", "API 接口"),
    ("程式介面", "程序接口"),
    ("應用程式介面", "应用程序接口"),
    ("銀行戶口", "银行账户"),
    ("行動支付", "移动支付"),
    ("推播", "推送"),
    ("設定檔", "配置文件"),
];

/// Words in which Simplified `帐` is a curtain or tent, not an account.
const CURTAIN_WORDS: [&str; 10] = [
    "帐篷", "蚊帐", "帐幕", "营帐", "帷帐", "帐子", "军帐", "床帐", "帐幔", "纱帐",
];

/// Returns Simplified text with account words written as mainland text writes them: `帐`
/// becomes `账` (`帐户` → `账户`, `到帐` → `到账`) except in [`CURTAIN_WORDS`]. OpenCC turns
/// Taiwan's `帳` into `帐` (user trial: `到帐` shown beside a native article's `到账`).
fn account_words(text: String) -> String {
    if !text.contains('帐') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        let curtain = c == '帐'
            && CURTAIN_WORDS.iter().any(|w| {
                w.char_indices()
                    .filter(|&(_, x)| x == '帐')
                    .any(|(off, _)| {
                        at.checked_sub(off)
                            .and_then(|from| text.get(from..))
                            .is_some_and(|t| t.starts_with(w))
                    })
            });
        out.push(if c == '帐' && !curtain { '账' } else { c });
    }
    out
}

/// Returns Chinese text in the script of `variant` (`zh-Hant`: [`to_traditional`], else
/// [`to_simplified`]).
pub fn to_script(text: &str, variant: Variant) -> String {
    if variant == Variant::ZhHant {
        to_traditional(text)
    } else {
        to_simplified(text)
    }
}

/// Characters that Traditional text uses as they are, though OpenCC's Simplified-to-
/// Traditional table turns them into another form (台 → 臺, 里 → 裏, 游 → 遊): no sign
/// that a text is Simplified (`平台`, `公里`, `游泳` are written so in Taiwan too).
const SHARED_FORMS: &str = "台里吃岩托游唇皂凶占杰范岳涌咸伙余朴干后准划采征斗丑郁几";

/// Returns the Chinese script `text` is written in: the one more of its characters exist
/// only in. A character exists only in Traditional when folding to Simplified changes it,
/// only in Simplified when OpenCC's plain `s2t` table turns it into another and it is not
/// one of [`SHARED_FORMS`]. `None` for text in characters both scripts share, in no
/// Chinese, or with as many of each (a stray character pasted or typed by an input method
/// does not turn a question's script).
pub fn written_script(text: &str) -> Option<Variant> {
    let (traditional, simplified) = script_characters(text);
    match traditional.cmp(&simplified) {
        std::cmp::Ordering::Greater => Some(Variant::ZhHant),
        std::cmp::Ordering::Less => Some(Variant::Zh),
        std::cmp::Ordering::Equal => None,
    }
}

/// Counts the characters of `text` that exist only in Traditional and only in Simplified
/// Chinese, as [`written_script`] tells them.
pub fn script_characters(text: &str) -> (usize, usize) {
    static S2T: LazyLock<ferrous_opencc::OpenCC> = LazyLock::new(|| {
        ferrous_opencc::OpenCC::from_config(ferrous_opencc::config::BuiltinConfig::S2t)
            .expect("the built-in s2t configuration loads")
    });
    let (mut traditional, mut simplified) = (0, 0);
    for c in text.chars().filter(|&c| crate::analysis::is_han(c)) {
        let mut buf = [0u8; 4];
        let one = c.encode_utf8(&mut buf);
        if crate::analysis::is_traditional(one) {
            traditional += 1;
        } else if !SHARED_FORMS.contains(c) && S2T.convert(one) != *one {
            simplified += 1;
        }
    }
    (traditional, simplified)
}

/// One version of an article with its staleness within the group.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    /// The article version.
    pub article: Arc<Article>,
    /// True when it is older (by `updated_at`) than the newest version in its group.
    pub stale: bool,
    /// True when the text was converted from the version in the other Chinese script
    /// ([`in_script`]): the article has no version in the script that was asked for.
    pub converted: bool,
}

/// Returns `v` in the script of `wanted`: a Simplified version for a `zh-Hant` reader is
/// converted to Traditional ([`to_traditional`]: title, questions, answer) and tagged
/// `zh-Hant` with `converted` set, a Traditional one for a `zh` reader to Simplified
/// ([`to_simplified`]) and tagged `zh`; anything else is returned as it is.
pub fn in_script(v: Version, wanted: Variant) -> Version {
    if !needs_conversion(v.article.lang, wanted) {
        return v;
    }
    let convert = |text: &str| to_script(text, wanted);
    let a = &v.article;
    Version {
        article: Arc::new(Article {
            lang: wanted,
            title: convert(&a.title),
            questions: a.questions.iter().map(|q| convert(q)).collect(),
            answer: convert(&a.answer),
            ..Article::clone(a)
        }),
        stale: v.stale,
        converted: true,
    }
}

/// Most bytes of converted text [`Converted`] keeps: every Chinese version of a knowledge
/// base of FAQ entries (the shipped one's are 28 KB) or about 12,000 passages the size of
/// zh-hant-drcd's (1.3 KB), while one answer may be 100,000 characters long.
const KEPT_BYTES: usize = 16 << 20;

/// Chinese versions converted to the other script ([`in_script`]), kept for the next request
/// that shows them: OpenCC's phrase tables cost more than the search itself (a Simplified
/// question on zh-hant-drcd's Traditional passages: 2 ms per Search without the model, against
/// 0.1 ms in Traditional), and the same articles are shown again and again. A new generation
/// loads every article afresh, so its first request drops what the previous one kept.
pub struct Converted {
    kept: Mutex<Kept>,
}

/// What [`Converted`] keeps.
struct Kept {
    /// The generation the conversions are of.
    generation: u64,
    /// Per (source version's address, script wanted): the source version, and it converted
    /// (counted by the converted text's bytes). An entry holds its source, so no other version
    /// can be allocated at that address while it is kept.
    map: BudgetLru<(usize, Variant), (Arc<Article>, Arc<Article>)>,
}

impl Default for Converted {
    fn default() -> Converted {
        Converted::with_budget(KEPT_BYTES)
    }
}

impl Converted {
    /// Returns `v` in the script of `wanted` ([`in_script`]), converted by an earlier call on
    /// the same version of `generation` when one is kept.
    pub fn in_script(&self, generation: u64, v: Version, wanted: Variant) -> Version {
        if !needs_conversion(v.article.lang, wanted) {
            return v;
        }
        let key = (Arc::as_ptr(&v.article) as usize, wanted);
        let kept = {
            let mut kept = self.lock();
            if kept.generation != generation {
                kept.map.clear();
                kept.generation = generation;
            }
            kept.map.get(&key).map(|(_, converted)| converted.clone())
        };
        if let Some(article) = kept {
            return Version {
                article,
                stale: v.stale,
                converted: true,
            };
        }
        let source = v.article.clone();
        let out = in_script(v, wanted);
        let mut kept = self.lock();
        // (Another call may have moved on to a newer generation meanwhile.)
        if kept.generation == generation {
            kept.map.put(key, (source, out.article.clone()));
        }
        out
    }

    /// Returns a [`Converted`] keeping at most `budget` bytes of converted text.
    fn with_budget(budget: usize) -> Converted {
        Converted {
            kept: Mutex::new(Kept {
                generation: 0,
                map: BudgetLru::new(budget, |(_, converted)| text_bytes(converted)),
            }),
        }
    }

    /// Returns how many converted versions are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Locks what is kept. A panic while it was held left it whole (nothing under the lock
    /// runs code of ours that can panic), so a poisoned lock is used as it is.
    fn lock(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Returns the bytes of an article's text: title, questions and answer.
fn text_bytes(a: &Article) -> usize {
    a.title.len() + a.answer.len() + a.questions.iter().map(String::len).sum::<usize>()
}

/// True when a version in `have` is shown converted to `wanted`'s script ([`in_script`]).
fn needs_conversion(have: Variant, wanted: Variant) -> bool {
    matches!(
        (have, wanted),
        (Variant::Zh, Variant::ZhHant) | (Variant::ZhHant, Variant::Zh)
    )
}

/// Returns every version of a group with its staleness flag, ordered by language tag.
pub fn versions(group: &[Arc<Article>]) -> Vec<Version> {
    let newest = newest(group);
    group.iter().map(|a| version_of(a, newest)).collect()
}

/// Returns the version in `wanted`, else another version of the same language (`zh` for
/// `zh-Hant` and back). The other script's version is also taken when it is newer (by
/// `updated_at`) by more than [`NEWER_BY`]: converted, it says what the article says now,
/// where the version in `wanted` is outdated (user trial: a stale Simplified version shown
/// beside a newer Traditional one).
pub fn pick(versions: &[Version], wanted: Variant) -> Option<&Version> {
    find(versions, |v| &v.article, wanted)
}

/// Returns a group's version in `wanted` (chosen as [`pick`] does) with its staleness, without
/// building the others (a search does this for each hit).
pub fn version(group: &[Arc<Article>], wanted: Variant) -> Option<Version> {
    find(group, |a| a, wanted).map(|a| version_of(a, newest(group)))
}

/// How much newer (seconds) the other Chinese script's version must be to be shown, converted,
/// instead of the one in the script asked for: a day. Versions saved in one sitting or one
/// import (seconds or hours apart) are one revision, and a native text reads better than a
/// conversion (review).
const NEWER_BY: i64 = 24 * 3600;

/// Returns the item in `wanted`, else one of the same language; one of the same language
/// rather than the one in `wanted` when it is newer by more than [`NEWER_BY`].
fn find<T>(items: &[T], article: impl Fn(&T) -> &Arc<Article>, wanted: Variant) -> Option<&T> {
    let exact = items.iter().find(|i| article(i).lang == wanted);
    let other = items.iter().find(|i| {
        let lang = article(i).lang;
        lang != wanted && lang.lang() == wanted.lang()
    });
    match (exact, other) {
        (Some(e), Some(o)) => {
            let newer = matches!(
                (article(o).updated_ts(), article(e).updated_ts()),
                (Some(o), Some(e)) if o > e + NEWER_BY
            );
            Some(if newer { o } else { e })
        }
        (e, o) => e.or(o),
    }
}

/// Returns the newest `updated_at` of a group's versions.
fn newest(group: &[Arc<Article>]) -> Option<i64> {
    group.iter().filter_map(|a| a.updated_ts()).max()
}

/// Returns an article as a version of a group whose newest version is from `newest`.
fn version_of(a: &Arc<Article>, newest: Option<i64>) -> Version {
    Version {
        article: Arc::clone(a),
        stale: matches!((a.updated_ts(), newest), (Some(t), Some(n)) if t < n),
        converted: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(lang: Variant, updated_at: &str) -> Arc<Article> {
        Arc::new(Article {
            id: "x".into(),
            lang,
            title: "t".into(),
            questions: vec![],
            answer: "a".into(),
            category: String::new(),
            tags: vec![],
            url: String::new(),
            updated_at: updated_at.into(),
        })
    }

    /// Regression (review): `平台`, `台北`, `公里` are written so in Taiwan too, and OpenCC's
    /// Taiwan tables turned them into 平臺, 臺北, 公裏: a Traditional reader's question with
    /// them was taken for Simplified and shown converted text.
    #[test]
    fn only_simplified_only_characters_make_a_text_simplified() {
        for simplified in [
            "如何提币",
            "测试OTP怎么重设",
            "账户 平台",
            "USDT 充值没到账",
            // One Traditional character among Simplified ones (trial).
            "我的網络连接不稳定怎么办",
        ] {
            assert_eq!(
                written_script(simplified),
                Some(Variant::Zh),
                "{simplified}"
            );
        }
        assert_eq!(written_script("提幣為什麼這麼慢"), Some(Variant::ZhHant));
        for not in [
            "平台",
            "方法 台北",
            "公里",
            "游泳池 吃",
            "OTP方法",
            "提幣 平台",
            "如何",
            "hello",
            "출금",
        ] {
            assert_ne!(written_script(not), Some(Variant::Zh), "{not}");
        }
    }

    #[test]
    fn a_traditional_only_version_is_converted_for_a_simplified_reader_only() {
        let mut a = Article::clone(&art(Variant::ZhHant, ""));
        a.title = "測試OTP重設".into();
        a.questions = vec!["遺失OTP怎麼辦".into()];
        a.answer = "請聯絡客服，網路".into();
        let v = Version {
            article: Arc::new(a),
            stale: true,
            converted: false,
        };
        let simple = in_script(v.clone(), Variant::Zh);
        assert!(simple.converted && simple.stale);
        assert_eq!(simple.article.lang, Variant::Zh);
        assert_eq!(simple.article.title, "测试OTP重设");
        assert_eq!(simple.article.questions, ["遗失OTP怎么办"]);
        // Mainland wording, not only characters (tw2sp): 联络 → 联系, 網路 → 网络.
        assert_eq!(simple.article.answer, "请联系客服，网络");
        for other in [Variant::ZhHant, Variant::Ko, Variant::En] {
            assert_eq!(in_script(v.clone(), other), v, "{other:?}");
        }
    }

    #[test]
    fn a_conversion_is_kept_for_the_very_version_it_was_made_from() {
        let mut a = Article::clone(&art(Variant::ZhHant, ""));
        a.answer = "重設審核需要2天".into();
        let v = Version {
            article: Arc::new(a.clone()),
            stale: false,
            converted: false,
        };
        let kept = Converted::default();
        let first = kept.in_script(1, v.clone(), Variant::Zh);
        assert_eq!(first, in_script(v.clone(), Variant::Zh));
        assert_eq!(first.article.answer, "重设审核需要2天");
        // The entry holds its source (`v` and the entry), so no other version can take its
        // address while it is kept.
        assert_eq!(Arc::strong_count(&v.article), 2);
        // Asked again (stale this time): the same conversion, with the asker's staleness.
        let again = kept.in_script(
            1,
            Version {
                stale: true,
                ..v.clone()
            },
            Variant::Zh,
        );
        assert!(Arc::ptr_eq(&first.article, &again.article));
        assert!(again.stale && again.converted);
        assert_eq!(kept.len(), 1);
        // Another version with other words (an edit) is converted from its own text.
        a.answer = "重設審核需要3天".into();
        let edited = Version {
            article: Arc::new(a),
            ..v.clone()
        };
        let edited = kept.in_script(1, edited, Variant::Zh);
        assert_eq!(edited.article.answer, "重设审核需要3天");
        assert_eq!(kept.len(), 2);
        // Nothing to convert, nothing kept.
        assert_eq!(kept.in_script(1, v.clone(), Variant::ZhHant), v);
        assert_eq!(kept.len(), 2);
        // Another generation drops what the previous one kept, and lets it go.
        let next = kept.in_script(2, v.clone(), Variant::Zh);
        assert!(!Arc::ptr_eq(&first.article, &next.article));
        assert_eq!(kept.len(), 1);
        assert_eq!(Arc::strong_count(&edited.article), 1);
    }

    #[test]
    fn the_least_recently_shown_conversions_go_beyond_the_budget() {
        let version = |answer: &str| {
            let mut a = Article::clone(&art(Variant::ZhHant, ""));
            a.answer = answer.into();
            Version {
                article: Arc::new(a),
                stale: false,
                converted: false,
            }
        };
        // Each converted text is 1 + 12 bytes ("t" and four Han characters).
        let (one, two, three) = (
            version("審核一天"),
            version("審核兩天"),
            version("審核三天"),
        );
        let kept = Converted::with_budget(26);
        for v in [&one, &two, &one, &three] {
            kept.in_script(1, v.clone(), Variant::Zh);
        }
        // `two` was shown least recently when `three` came: it went, `one` stayed.
        assert_eq!(kept.len(), 2);
        assert_eq!(Arc::strong_count(&two.article), 1);
        assert_eq!(Arc::strong_count(&one.article), 2);
        assert_eq!(Arc::strong_count(&three.article), 2);
    }

    #[test]
    fn converted_simplified_writes_account_words_as_the_mainland_does() {
        assert_eq!(
            to_simplified("入帳後請確認帳戶與帳號；露營帳篷、蚊帳"),
            "入账后请确认账户与账号；露营帐篷、蚊帐"
        );
        assert_eq!(account_words("帐".into()), "账");
        // A curtain word's `帐` is not the first character: what stands that far before an
        // account's `帐` may be a character of another width (user trial: a panic, and
        // every Search that showed the article failed).
        assert_eq!(
            to_simplified("請在[帳戶]建立，我的(帳號) 帳戶"),
            "请在[账户]创建，我的(账号) 账户"
        );
        assert_eq!(account_words("a帐 x蚊帐".into()), "a账 x蚊帐");
    }

    #[test]
    fn converted_simplified_keeps_what_taiwan_words_mean() {
        for (taiwan, mainland) in [
            // The tables alone: 申诉进程, 注销, 技术指针, 充值信道, 提交数据, 查找.
            ("申訴程序請見公告", "申诉程序请见公告"),
            ("登出後請重新登入", "退出登录后请重新登录"),
            ("技術指標與充值通道", "技术指标与充值通道"),
            ("請提交資料並查詢進度", "请提交资料并查询进度"),
            // The tables' 缺省, 身分, 唯读, 工作天, 纪录.
            ("預設網路", "默认网络"),
            ("身分驗證需要3個工作天", "身份验证需要3个工作日"),
            ("唯讀API金鑰", "只读API密钥"),
            ("[充值紀錄]", "[充值记录]"),
            // Longer words first; the tables' own words stay theirs.
            ("資料庫與紀錄片", "数据库与纪录片"),
            ("軟體與網路", "软件与网络"),
            (
                "請在介面上確認，或呼叫API介面",
                "请在界面上确认，或呼叫API接口",
            ),
            // Words of other words left alone (review).
            ("刊登出來", "刊登出来"),
        ] {
            assert_eq!(to_simplified(taiwan), mainland, "{taiwan}");
        }
        // Text with private-use characters of its own is left to the tables.
        assert_eq!(to_simplified("\u{E000}查詢"), "\u{E000}查找");
        // More words than marks: the rest are converted by the tables, none lost.
        let many = "查詢".repeat(7000);
        let out = to_simplified(&many);
        assert_eq!(out.chars().count(), many.chars().count());
        assert!(out.starts_with("查询") && out.ends_with("查找"));
    }

    #[test]
    fn converted_traditional_is_written_as_taiwan_writes_it() {
        // The tables alone: `90 天后`, `到賬`, `平臺`.
        assert_eq!(
            to_traditional("90 天后到账，请在平台查看账户；3天后、今天后、两天后再试"),
            "90 天後到帳，請在平台查看帳戶；3天後、今天後、兩天後再試"
        );
        // "After the day" however it is said (review).
        assert_eq!(
            to_traditional("聊天后再说；隔天后；3个工作天后；（3）天后"),
            "聊天後再說；隔天後；3個工作天後；（3）天後"
        );
        // The goddess and other words with `后` stay.
        assert_eq!(
            to_traditional("天后宫 天后庙 歌坛天后 一代天后 皇后 后台"),
            "天后宮 天后廟 歌壇天后 一代天后 皇后 後台"
        );
        // Other `台` words keep their own characters.
        assert_eq!(to_traditional("台风 台灯 台湾"), "颱風 檯燈 台灣");
    }

    #[test]
    fn older_translations_are_stale() {
        let g = [
            art(Variant::Ko, "2026-10-15T00:00:00Z"),
            art(Variant::En, "2026-06-01T00:00:00+09:00"),
            art(Variant::Zh, ""),
        ];
        let v = versions(&g);
        assert_eq!(
            v.iter().map(|v| v.stale).collect::<Vec<_>>(),
            [false, true, false]
        );
    }

    #[test]
    fn one_version_is_picked_and_flagged_as_among_all_of_them() {
        let g = [
            art(Variant::Ko, "2026-10-15T00:00:00Z"),
            art(Variant::En, "2026-06-01T00:00:00+09:00"),
            art(Variant::ZhHant, "2026-10-15T00:00:00Z"),
        ];
        let all = versions(&g);
        for wanted in [Variant::Ko, Variant::En, Variant::Zh, Variant::ZhHant] {
            let one = version(&g, wanted).unwrap();
            assert_eq!(Some(&one), pick(&all, wanted), "{wanted:?}");
        }
        // Simplified Chinese falls back to the Traditional version; English is stale.
        assert_eq!(
            version(&g, Variant::Zh).unwrap().article.lang,
            Variant::ZhHant
        );
        assert!(version(&g, Variant::En).unwrap().stale);
        assert_eq!(version(&g[..1], Variant::En), None);
    }

    #[test]
    fn a_newer_version_in_the_other_script_is_taken_over_an_outdated_one() {
        let g = [
            art(Variant::Zh, "2026-01-01T00:00:00Z"),
            art(Variant::ZhHant, "2026-06-01T00:00:00Z"),
            art(Variant::En, "2026-01-01T00:00:00Z"),
        ];
        let all = versions(&g);
        let v = version(&g, Variant::Zh).unwrap();
        assert_eq!((v.article.lang, v.stale), (Variant::ZhHant, false));
        assert_eq!(pick(&all, Variant::Zh), Some(&v));
        assert_eq!(
            version(&g, Variant::ZhHant).unwrap().article.lang,
            Variant::ZhHant
        );
        // Either way round: a Traditional reader gets the newer Simplified one.
        let g = [
            art(Variant::Zh, "2026-06-01T00:00:00Z"),
            art(Variant::ZhHant, "2026-01-01T00:00:00Z"),
        ];
        assert_eq!(
            version(&g, Variant::ZhHant).unwrap().article.lang,
            Variant::Zh
        );
        assert_eq!(version(&g, Variant::Zh).unwrap().article.lang, Variant::Zh);
        // As new, newer by a day at most (one sitting), or a date missing on either side:
        // the version in the script asked for.
        for (own, other) in [
            ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
            ("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"),
            ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
            ("2026-01-01T00:00:00Z", ""),
            ("", "2026-06-01T00:00:00Z"),
        ] {
            let g = [art(Variant::Zh, own), art(Variant::ZhHant, other)];
            assert_eq!(
                version(&g, Variant::Zh).unwrap().article.lang,
                Variant::Zh,
                "{own} {other}"
            );
        }
    }

    #[test]
    fn simplified_versions_are_converted_for_traditional_readers_only() {
        let mut zh = Article::clone(&art(Variant::Zh, ""));
        zh.title = "提币网络拥堵".into();
        zh.answer = "请通过1:1咨询提供您的UID。".into();
        let g = [Arc::new(zh)];
        let v = version(&g, Variant::ZhHant).unwrap();
        let t = in_script(v.clone(), Variant::ZhHant);
        assert!(t.converted);
        assert_eq!(t.article.lang, Variant::ZhHant);
        assert_eq!(t.article.title, "提幣網絡擁堵");
        assert_eq!(t.article.answer, "請通過1:1諮詢提供您的UID。");
        assert_eq!(in_script(v.clone(), Variant::Zh), v);
        // A real zh-Hant version is never converted.
        let h = version(&[art(Variant::ZhHant, "")], Variant::ZhHant).unwrap();
        assert_eq!(in_script(h.clone(), Variant::ZhHant), h);
    }
}
