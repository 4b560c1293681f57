//! Per-language text analysis, shared by indexing (as tantivy tokenizers) and by query
//! building (called directly, so a query is never parsed as query syntax).
//!
//! Each language has several analyzers ([`Kind`]) that feed separate index fields, so each can
//! be weighed on its own: words for every language; character bigrams and single characters
//! for Korean and Chinese (spacing-insensitive, no dictionary needed); word pairs (shingles)
//! for English.

mod chinese;
mod english;
mod korean;
mod normalize;

use crate::budget::BudgetLru;
use crate::lang::Lang;
use compact_str::CompactString;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::{Arc, LazyLock, Mutex};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer, TokenizerManager};

pub use chinese::{fold_to_simplified, highlight_words, is_traditional, is_word_at, to_simplified};
pub use english::shingles;
pub use korean::strip_particles;
pub use normalize::{fold_char, is_han, is_hangul, is_kana, is_word_char};

/// One analysis of a text: a token with its byte span in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tok {
    /// Normalised token text, as indexed (held inline up to 24 bytes: a query's tokens
    /// cost no allocation).
    pub text: CompactString,
    /// Byte offset of the first character in the original text.
    pub from: usize,
    /// Byte offset one past the last character in the original text.
    pub to: usize,
}

/// Which of a language's analyzers to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Words: stemmed English words, Korean word forms with particles stripped, jieba words.
    Word,
    /// Character bigrams of Hangul or Han runs (Korean and Chinese).
    Bigram,
    /// Single Hangul syllables or Han characters (Korean and Chinese).
    Unigram,
    /// Pairs of neighbouring stemmed words (English).
    Shingle,
}

impl Kind {
    /// Returns the kinds of analysis a language has.
    pub fn for_lang(lang: Lang) -> &'static [Kind] {
        match lang {
            Lang::En => &[Kind::Word, Kind::Shingle],
            Lang::Ko | Lang::Zh => &[Kind::Word, Kind::Bigram, Kind::Unigram],
        }
    }

    /// Returns the name used in field and tokenizer names.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Word => "word",
            Kind::Bigram => "bigram",
            Kind::Unigram => "unigram",
            Kind::Shingle => "shingle",
        }
    }
}

/// Returns the tantivy tokenizer name for a language's analyzer; with `content`, the word
/// analyzer that also drops function words ([`is_function_word`]; registered for
/// [`Kind::Word`] only).
pub fn tokenizer_name(lang: Lang, kind: Kind, content: bool) -> String {
    if content {
        format!("faq_{}_{}_content", lang.code(), kind.name())
    } else {
        format!("faq_{}_{}", lang.code(), kind.name())
    }
}

/// Analyzes `text` as `lang` text with the given analyzer. English has no character
/// analyses and Korean and Chinese no shingles: those give no tokens.
pub fn analyze(lang: Lang, kind: Kind, text: &str) -> Vec<Tok> {
    match (lang, kind) {
        (Lang::Ko, Kind::Word) => korean::words(text),
        (Lang::Zh, Kind::Word) => chinese::words(text),
        (Lang::En, Kind::Word) => english::words(text),
        (Lang::Ko, Kind::Bigram) => korean::bigrams(text),
        (Lang::Zh, Kind::Bigram) => chinese::bigrams(text),
        _ => analyze_all(lang, text)
            .into_iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, toks)| toks)
            .unwrap_or_default(),
    }
}

/// Returns true when `term`, a [`Kind::Word`] or [`Kind::Bigram`] term of `lang`, is a
/// function word: a word of the NLTK stop-word list, analysed as the index analyses text.
/// English's list is pronouns, auxiliaries, prepositions, conjunctions, question words and
/// particles (`off`, `up`, `out` among them); of Chinese's, only the words jieba tags with a
/// closed class ([`chinese::is_closed_class`]: 什么, 的, 为什么, 一直, not 限制 or 安全).
/// Korean has no list: its analyzer strips particles and endings and drops fillers and request
/// words (`좀`, `싶어요`, `방법`, `알려주세요`) itself. A change to these lists
/// changes how sentences are indexed (see `INDEX_FORMAT`).
pub fn is_function_word(lang: Lang, term: &str) -> bool {
    match lang {
        Lang::En => FUNCTION_EN.contains(term),
        Lang::Zh => FUNCTION_ZH.contains(term),
        Lang::Ko => false,
    }
}

/// FNV-1a (64 bits) offset basis: the hash of nothing.
pub const FNV_OFFSET: u64 = 0xcbf29ce484222325;

/// Folds `bytes` into an FNV-1a (64 bits) hash.
pub fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Returns the key a phrasing's function word is stored under (see
/// `crate::index::Fields::function_words`).
pub fn term_key(term: &str) -> u64 {
    fnv1a(FNV_OFFSET, term.as_bytes())
}

/// Returns the function words of `text` as `lang`'s word analyzer gives them, repeats kept
/// (none in Korean, which has no list).
pub fn function_words_in(lang: Lang, text: &str) -> Vec<String> {
    if lang == Lang::Ko {
        return Vec::new();
    }
    analyze(lang, Kind::Word, text)
        .into_iter()
        .filter(|t| is_function_word(lang, &t.text))
        .map(|t| t.text.into_string())
        .collect()
}

static FUNCTION_EN: LazyLock<HashSet<String>> = LazyLock::new(|| function_words(Lang::En));
static FUNCTION_ZH: LazyLock<HashSet<String>> = LazyLock::new(|| function_words(Lang::Zh));

/// Loads the jieba dictionary and the function-word lists, so the first query does not pay
/// for them.
pub fn warm_up() {
    chinese::warm_up();
    LazyLock::force(&FUNCTION_EN);
    LazyLock::force(&FUNCTION_ZH);
}

/// Returns the analysed forms of a language's stop-word list: each word's one token, or the
/// token that spans it whole (jieba's search mode also gives `什么` inside `为什么`); a word
/// the analyzer splits into pieces (`don't`) is left out.
fn function_words(lang: Lang) -> HashSet<String> {
    let words = stop_words::lookup(lang.code()).unwrap_or_default();
    words
        .iter()
        .filter(|w| lang != Lang::Zh || chinese::is_closed_class(w))
        .filter_map(|w| {
            let tokens = analyze(lang, Kind::Word, w);
            match tokens.as_slice() {
                [one] => Some(one.text.to_string()),
                _ => tokens
                    .into_iter()
                    .find(|t| t.from == 0 && t.to == w.len())
                    .map(|t| t.text.into_string()),
            }
        })
        .collect()
}

/// Returns every analysis of `text` in `lang`, in [`Kind::for_lang`] order, sharing the
/// normalisation between them (indexing and query analysis need them all).
pub fn analyze_all(lang: Lang, text: &str) -> Vec<(Kind, Vec<Tok>)> {
    let kinds = Kind::for_lang(lang).iter().copied();
    match lang {
        Lang::En => {
            let words = english::words(text);
            let shingles = english::shingles(&words);
            kinds.zip([words, shingles]).collect()
        }
        Lang::Ko => kinds.zip(korean::all(text)).collect(),
        Lang::Zh => kinds.zip(chinese::all(text)).collect(),
    }
}

/// Splits text into sentences: after `。？！` and newlines always, after `.?!` when a space
/// or the end follows (so `1.5` and `v2.0` stay whole). Terminators stay with their sentence;
/// pieces are trimmed and empty ones dropped.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_is_space = chars.peek().is_none_or(|(_, n)| n.is_whitespace());
        let cut = match c {
            '。' | '？' | '！' | '\n' => true,
            '.' | '?' | '!' => next_is_space,
            _ => false,
        };
        if cut {
            let end = i + c.len_utf8();
            push_trimmed(&mut out, &text[start..end]);
            start = end;
        }
    }
    push_trimmed(&mut out, &text[start..]);
    out
}

fn push_trimmed<'a>(out: &mut Vec<&'a str>, s: &'a str) {
    let s = s.trim();
    if !s.is_empty() {
        out.push(s);
    }
}

/// Registers every faqd analyzer with an index's tokenizer manager. Must run after every
/// index open or create: tantivy stores only tokenizer names.
pub fn register(manager: &TokenizerManager) {
    for lang in Lang::ALL {
        for &kind in Kind::for_lang(lang) {
            // Only word fields are indexed without function words (`Part::content_only`).
            let variants: &[bool] = if kind == Kind::Word {
                &[false, true]
            } else {
                &[false]
            };
            for &content in variants {
                manager.register(
                    &tokenizer_name(lang, kind, content),
                    FaqTokenizer {
                        lang,
                        kind,
                        content,
                    },
                );
            }
        }
    }
}

/// Adapts [`analyze`] to tantivy's tokenizer interface.
#[derive(Clone)]
struct FaqTokenizer {
    lang: Lang,
    kind: Kind,
    /// Drops function words.
    content: bool,
}

impl Tokenizer for FaqTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let tokens = recent_analysis(self.lang, text)
            .iter()
            .find(|(k, _)| *k == self.kind)
            .map(|(_, toks)| toks.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|t| !(self.content && is_function_word(self.lang, &t.text)))
            .enumerate()
            .map(|(position, t)| Token {
                offset_from: t.from,
                offset_to: t.to,
                position,
                text: t.text.to_string(),
                position_length: 1,
            })
            .collect();
        VecTokenStream { tokens, next: 0 }
    }
}

type Analyses = Rc<Vec<(Kind, Vec<Tok>)>>;

/// Texts recently analysed on this thread, with every analysis of them.
const RECENT_TEXTS: usize = 256;

thread_local! {
    static RECENT: RefCell<HashMap<u64, (Lang, String, Analyses)>> =
        RefCell::new(HashMap::new());
}

/// Returns every analysis of `text` ([`analyze_all`]), remembering the last texts: an
/// article's phrasings and sentences are indexed in their own documents and again in the
/// article document, and several fields analyse the same text (one per kind), so each text
/// is analysed once instead of up to five times.
fn recent_analysis(lang: Lang, text: &str) -> Analyses {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (lang, text).hash(&mut h);
    let key = h.finish();
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        if let Some((l, t, found)) = recent.get(&key) {
            if *l == lang && t == text {
                return found.clone();
            }
        }
        if recent.len() >= RECENT_TEXTS {
            recent.clear();
        }
        let found: Analyses = Rc::new(analyze_all(lang, text));
        recent.insert(key, (lang, text.to_string(), found.clone()));
        found
    })
}

/// Returns a tokenizer for highlighting a field of `lang` and `kind` in snippets: the same
/// tokens as the field's analyzer, computed for that kind alone (no jieba for Chinese
/// bigrams, no shingles for English words) and remembered per text in one cache for the
/// process (at most [`SNIPPET_CACHE_BYTES`]), so the answers of the articles a server keeps
/// returning are analysed once.
pub fn snippet_tokenizer(lang: Lang, kind: Kind) -> tantivy::tokenizer::TextAnalyzer {
    tantivy::tokenizer::TextAnalyzer::from(SnippetTokenizer { lang, kind })
}

#[derive(Clone)]
struct SnippetTokenizer {
    lang: Lang,
    kind: Kind,
}

/// Bytes of snippet tokens the process remembers (texts, tokens and their words), shared by
/// every thread: an answer of a few hundred words takes tens of kilobytes of tokens. One cache
/// for the process, so that memory does not grow with the threads that search.
const SNIPPET_CACHE_BYTES: usize = 48 << 20;

type SnippetTokens = Arc<Vec<Token>>;

/// Remembered snippet tokens by (language, kind, hash of the text), with the text; the least
/// recently used go first when their bytes pass [`SNIPPET_CACHE_BYTES`].
struct SnippetCache(BudgetLru<(Lang, Kind, u64), (Box<str>, SnippetTokens)>);

/// Bytes an entry of [`SnippetCache`] holds.
fn snippet_entry_bytes(text: &str, tokens: &[Token]) -> usize {
    text.len()
        + std::mem::size_of_val(tokens)
        + tokens.iter().map(|t| t.text.capacity()).sum::<usize>()
}

static SNIPPET_TOKENS: LazyLock<Mutex<SnippetCache>> =
    LazyLock::new(|| Mutex::new(SnippetCache::new(SNIPPET_CACHE_BYTES)));

impl SnippetCache {
    fn new(budget: usize) -> Self {
        SnippetCache(BudgetLru::new(budget, |(text, tokens)| {
            snippet_entry_bytes(text, tokens)
        }))
    }

    fn get(&mut self, key: &(Lang, Kind, u64), text: &str) -> Option<SnippetTokens> {
        match self.0.get(key) {
            Some((t, found)) if &**t == text => Some(found.clone()),
            _ => None,
        }
    }

    fn put(&mut self, key: (Lang, Kind, u64), text: &str, tokens: SnippetTokens) {
        self.0.put(key, (text.into(), tokens));
    }
}

impl Tokenizer for SnippetTokenizer {
    type TokenStream<'a> = SharedTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> SharedTokenStream {
        let mut h = rustc_hash::FxHasher::default();
        text.hash(&mut h);
        let key = (self.lang, self.kind, h.finish());
        // A poisoned lock only means another thread panicked between two plain updates.
        let cache = || SNIPPET_TOKENS.lock().unwrap_or_else(|e| e.into_inner());
        let found = cache().get(&key, text);
        let tokens = found.unwrap_or_else(|| {
            // Analysed outside the lock: two threads may analyse one text at once, and one
            // of the results is kept.
            let tokens: SnippetTokens = Arc::new(
                analyze(self.lang, self.kind, text)
                    .into_iter()
                    .enumerate()
                    .map(|(position, t)| Token {
                        offset_from: t.from,
                        offset_to: t.to,
                        position,
                        text: t.text.into_string(),
                        position_length: 1,
                    })
                    .collect(),
            );
            cache().put(key, text, tokens.clone());
            tokens
        });
        SharedTokenStream { tokens, next: 0 }
    }
}

/// A token stream over remembered tokens.
struct SharedTokenStream {
    tokens: SnippetTokens,
    next: usize,
}

impl TokenStream for SharedTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        // Snippets only read tokens; a filter that edits one gets its own copy of the list.
        let next = self.next;
        &mut Arc::make_mut(&mut self.tokens)[next - 1]
    }
}

/// A token stream over tokens computed up front.
struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// Returns the key two wordings share when they are the same question: the text's letters and
/// digits only, NFKC-normalised and lowercased (Chinese folded to Simplified), so spacing,
/// punctuation and case do not tell them apart. Empty when the text has no letter or digit.
pub fn phrasing_key(text: &str, lang: Lang) -> String {
    let folded;
    let text = if lang == Lang::Zh {
        folded = chinese::fold_to_simplified(text);
        folded.as_str()
    } else {
        text
    };
    let mut key = String::with_capacity(text.len());
    for c in text.chars() {
        normalize::fold_char(c, |n| {
            if normalize::is_word_char(n) {
                key.push(n);
            }
        });
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens<T: Tokenizer>(mut t: T, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut stream = t.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let k = stream.token();
            out.push((k.text.clone(), k.offset_from, k.offset_to, k.position));
        }
        out
    }

    #[test]
    fn the_snippet_cache_keeps_its_byte_budget_and_drops_the_least_recently_used() {
        let token = |text: &str| Token {
            text: text.to_string(),
            ..Token::default()
        };
        let one = Arc::new(vec![token("card"), token("arrived")]);
        let size = snippet_entry_bytes("card arrived", &one);
        let mut cache = SnippetCache::new(2 * size);
        let key = |n| (Lang::En, Kind::Word, n);
        cache.put(key(1), "card arrived", one.clone());
        cache.put(key(2), "card arrived", one.clone());
        assert_eq!(cache.0.bytes(), 2 * size);
        // The first is used again, so the second is the one dropped for a third.
        assert!(cache.get(&key(1), "card arrived").is_some());
        cache.put(key(3), "card arrived", one.clone());
        assert_eq!(cache.0.bytes(), 2 * size);
        assert!(cache.get(&key(2), "card arrived").is_none());
        assert!(cache.get(&key(1), "card arrived").is_some());
        // A hash shared by another text is not its tokens.
        assert!(cache.get(&key(3), "card lost").is_none());
        // Replacing an entry counts its bytes once.
        cache.put(key(3), "card arrived", one);
        assert_eq!(cache.0.bytes(), 2 * size);
        assert_eq!(cache.0.len(), 2);
        // An entry larger than the budget is not kept, and the others stay.
        let long = "card ".repeat(3 * size);
        cache.put(key(4), &long, Arc::new(vec![token("card")]));
        assert!(cache.get(&key(4), &long).is_none());
        assert_eq!((cache.0.bytes(), cache.0.len()), (2 * size, 2));
    }

    #[test]
    fn snippet_tokens_are_the_article_fields_tokens() {
        for (lang, kind, text) in [
            (
                Lang::En,
                Kind::Word,
                "Why hasn't my card arrived? I ordered it 2 weeks ago.",
            ),
            (
                Lang::Ko,
                Kind::Bigram,
                "출금이 안돼요. 비트코인 출금하려면 어떻게 하나요? USDT",
            ),
            (
                Lang::Zh,
                Kind::Bigram,
                "提币一直没有到账怎么办？請問提現手續費是多少 USDT",
            ),
            (Lang::Zh, Kind::Bigram, "充值"),
        ] {
            let field = FaqTokenizer {
                lang,
                kind,
                content: false,
            };
            let want = tokens(field, text);
            assert!(!want.is_empty(), "{text}");
            // Twice: computed, then remembered.
            for _ in 0..2 {
                let mut snippet = snippet_tokenizer(lang, kind);
                let mut stream = snippet.token_stream(text);
                let mut got = Vec::new();
                while stream.advance() {
                    let k = stream.token();
                    got.push((k.text.clone(), k.offset_from, k.offset_to, k.position));
                }
                assert_eq!(got, want, "{lang:?} {kind:?} {text}");
            }
        }
    }

    fn texts(lang: Lang, kind: Kind, text: &str) -> Vec<String> {
        analyze(lang, kind, text)
            .into_iter()
            .map(|t| t.text.into_string())
            .collect()
    }

    #[test]
    fn function_words_in_a_phrasing_are_its_analysed_function_words_with_repeats() {
        assert_eq!(
            function_words_in(Lang::En, "How do I know if my card is in my name?"),
            // The English analyzer drops `if`, `is` and `in` itself (Lucene's stop set).
            ["how", "do", "i", "my", "my"]
        );
        // jieba's search mode gives `什么` inside `为什么` as a token of its own.
        assert_eq!(
            function_words_in(Lang::Zh, "为什么我的提币一直没到账"),
            ["什么", "为什么", "我", "的", "一直"]
        );
        assert!(function_words_in(Lang::Ko, "왜 출금이 안 되나요").is_empty());
    }

    #[test]
    fn function_words_are_known_in_their_analysed_form() {
        let function = |lang: Lang, text: &str| -> Vec<bool> {
            analyze(lang, Kind::Word, text)
                .iter()
                .map(|t| is_function_word(lang, &t.text))
                .collect()
        };
        // `why` is stemmed to `whi`, `don't` split into `don` and `t`.
        assert_eq!(
            function(Lang::En, "Why don't you reset my card"),
            [true, true, true, true, false, true, false]
        );
        // jieba's search mode gives 提币 什么 为什么 没到 账.
        assert_eq!(
            function(Lang::Zh, "提币为什么没到账"),
            [false, true, true, false, false]
        );
        assert_eq!(
            function(Lang::Zh, "提幣為什麼"),
            [false, true, true],
            "Traditional folds"
        );
        // Content words of the Chinese list are not function words.
        assert_eq!(
            function(Lang::Zh, "提现限制安全吗"),
            [false, false, false, true]
        );
        assert!(!is_function_word(Lang::Ko, "무엇"), "no Korean list");
    }

    #[test]
    fn a_highlight_keeps_the_whole_words_it_covers() {
        let run = |text: &str, run: &str| -> Option<String> {
            let at = text.find(run).unwrap();
            highlight_words(text, at..at + run.len()).map(|r| text[r].to_string())
        };
        // `确认` / `证件`: `认证` is no word of the text; of `认证件`, `证件` is.
        assert_eq!(run("请确认证件照片清晰", "认证"), None);
        assert_eq!(run("請確認證件照片清晰", "認證"), None);
        assert_eq!(run("请确认证件照片清晰", "认证件").as_deref(), Some("证件"));
        // Whole words, a run within one word, or not all Han: as they are.
        assert_eq!(run("身份认证失败", "身份认证").as_deref(), Some("身份认证"));
        assert_eq!(run("请上传身份证", "身份").as_deref(), Some("身份"));
        assert_eq!(run("提币到TXID", "到TX").as_deref(), Some("到TX"));
        assert_eq!(run("认证", "认").as_deref(), Some("认"));
    }

    #[test]
    fn account_words_in_either_script_are_the_same_tokens() {
        // Traditional `帳` folds to `帐`, while mainland text writes `账`.
        assert_eq!(fold_to_simplified("沒到帳 帳戶 帐号"), "没到账 账户 账号");
        // Where the pair's characters belong to other words, as they are (review).
        for text in ["投資訊息", "小數位數", "電影片段", "重點選擇"] {
            assert_eq!(
                fold_to_simplified(text),
                chinese::to_simplified(text),
                "{text}"
            );
        }
        // Taiwan words as the mainland's, one character for one (every pair: offsets hold).
        for (taiwan, mainland) in chinese::TAIWAN_WORDS {
            assert_eq!(taiwan.chars().count(), mainland.chars().count(), "{taiwan}");
        }
        for (taiwan, mainland) in [
            ("身分驗證", "身份验证"),
            ("交易紀錄", "交易记录"),
            ("3個工作天", "3个工作日"),
            ("網路與軟體", "网络与软件"),
            ("行動裝置登入", "移动设备登录"),
        ] {
            let folded = fold_to_simplified(taiwan);
            assert_eq!(folded, fold_to_simplified(mainland), "{taiwan}");
            assert_eq!(folded.chars().count(), taiwan.chars().count());
        }
        for &kind in Kind::for_lang(Lang::Zh) {
            let words = |text: &str| -> Vec<String> {
                analyze(Lang::Zh, kind, text)
                    .into_iter()
                    .map(|t| t.text.to_string())
                    .collect()
            };
            assert_eq!(words("充幣沒到帳"), words("充币没到账"), "{kind:?}");
            assert_eq!(words("帳戶"), words("账户"), "{kind:?}");
        }
    }

    #[test]
    fn token_offsets_point_into_the_original_text() {
        for (lang, text) in [
            (Lang::Ko, "USDT 출금이 안돼요!"),
            (Lang::Zh, "提幣 Pending 怎麼辦？"),
            (Lang::En, "Withdrawals are PENDING"),
        ] {
            for &kind in Kind::for_lang(lang) {
                for t in analyze(lang, kind, text) {
                    assert!(text.get(t.from..t.to).is_some(), "{lang:?} {kind:?} {t:?}");
                    assert!(t.from < t.to, "{t:?}");
                }
            }
        }
    }

    #[test]
    fn content_tokenizers_drop_function_words_and_the_others_keep_them() {
        let manager = TokenizerManager::default();
        register(&manager);
        let run = |lang: Lang, content: bool, text: &str| -> Vec<String> {
            let mut t = manager
                .get(&tokenizer_name(lang, Kind::Word, content))
                .expect("registered");
            let mut stream = t.token_stream(text);
            let mut out = Vec::new();
            while stream.advance() {
                out.push(stream.token().text.clone());
            }
            out
        };
        let en = "Why is my card not here yet";
        assert_eq!(
            run(Lang::En, false, en),
            ["whi", "my", "card", "here", "yet"]
        );
        assert_eq!(run(Lang::En, true, en), ["card", "yet"]);
        let zh = "为什么提币没到账";
        assert_eq!(run(Lang::Zh, true, zh), ["提币", "没到", "账"]);
        assert_eq!(run(Lang::Zh, false, zh).len(), 5);
        assert_eq!(
            run(Lang::Ko, true, "출금이 안돼요"),
            run(Lang::Ko, false, "출금이 안돼요")
        );
    }

    #[test]
    fn analyzer_table() {
        let cases: &[(Lang, Kind, &str, &[&str])] = &[
            (
                Lang::En,
                Kind::Word,
                "Withdrawals are pending",
                &["withdraw", "pend"],
            ),
            (
                Lang::En,
                Kind::Word,
                "Café \"AND\" (KYC):*",
                &["cafe", "kyc"],
            ),
            (
                Lang::Ko,
                Kind::Word,
                "출금이 출금을 출금은",
                &["출금", "출금", "출금"],
            ),
            (
                Lang::Ko,
                Kind::Word,
                "USDT 출금이 안돼요",
                &["usdt", "출금", "안"],
            ),
            (
                Lang::Ko,
                Kind::Bigram,
                "비밀번호 재설정",
                &["비밀", "밀번", "번호", "호재", "재설", "설정"],
            ),
            (
                Lang::Ko,
                Kind::Bigram,
                "비밀번호재설정",
                &["비밀", "밀번", "번호", "호재", "재설", "설정"],
            ),
            (Lang::Ko, Kind::Bigram, "돈", &["돈"]),
            (
                Lang::Zh,
                Kind::Bigram,
                "提幣到賬",
                &["提币", "币到", "到账"],
            ),
            (
                Lang::Zh,
                Kind::Bigram,
                "提币 pending 怎么办",
                &["提币", "怎么", "么办"],
            ),
            (Lang::Zh, Kind::Word, "ＵＳＤＴ提幣", &["usdt", "提币"]),
            (Lang::Ko, Kind::Word, "출금을 하고 싶어요", &["출금"]),
            (
                Lang::Ko,
                Kind::Unigram,
                "출금이 안돼요",
                &["출", "금", "안"],
            ),
            (Lang::Ko, Kind::Word, "2FA 인증", &["2fa", "인증"]),
            (Lang::Zh, Kind::Unigram, "提幣 USDT", &["提", "币"]),
            (
                Lang::En,
                Kind::Shingle,
                "Where is my card? It has not arrived",
                &["where my", "my card", "card has", "has arriv"],
            ),
            (Lang::En, Kind::Shingle, "KYC", &[]),
            (Lang::En, Kind::Bigram, "no character analysis", &[]),
        ];
        for (lang, kind, text, want) in cases {
            assert_eq!(texts(*lang, *kind, text), *want, "{lang:?} {kind:?} {text}");
        }
    }

    #[test]
    fn splits_sentences_on_western_and_cjk_terminators() {
        assert_eq!(
            sentences("Fees are 0.5%. Really? Yes!\nDone"),
            ["Fees are 0.5%.", "Really?", "Yes!", "Done"]
        );
        assert_eq!(
            sentences("请提供UID。UID可在顶部查看！好吗？"),
            ["请提供UID。", "UID可在顶部查看！", "好吗？"]
        );
        assert_eq!(sentences("v2.0 is out"), ["v2.0 is out"]);
        assert!(sentences("  \n ").is_empty());
    }

    #[test]
    fn a_phrasing_key_ignores_spacing_punctuation_case_and_chinese_script() {
        assert_eq!(
            phrasing_key("OTP 번호 알려줘도 되나요?", Lang::Ko),
            phrasing_key("otp번호  알려줘도되나요", Lang::Ko)
        );
        assert_eq!(
            phrasing_key("How do I reset my password?", Lang::En),
            "howdoiresetmypassword"
        );
        assert_eq!(
            phrasing_key("如何提幣？", Lang::Zh),
            phrasing_key("如何提币", Lang::Zh)
        );
        assert_ne!(
            phrasing_key("reset password", Lang::En),
            phrasing_key("reset my password", Lang::En)
        );
        assert_eq!(phrasing_key("?!  ...", Lang::En), "");
    }
}
