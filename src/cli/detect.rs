//! `faqd detect`: prints the language faqd would search a text in, and why.

use clap::Args;

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// The text.
    pub text: String,
    /// The caller's locale hint (e.g. ko-KR).
    #[arg(long)]
    pub hint: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: DetectArgs) -> anyhow::Result<i32> {
    let detector = crate::lang::Detector::new();
    // As Search reads it: a locale faqd does not search is no hint.
    let hint = crate::engine::parse_hint(&a.hint);
    let c = detector.choose(&a.text, None, hint, crate::lang::Lang::En);
    let d = &c.detection;
    // The fields mean what DetectLanguageResponse's do (proto/faq/v1/faq.proto).
    let others = d.others(Some(c.lang.code()));
    if a.json {
        let v = serde_json::json!({
            "language": c.lang.code(),
            "source": c.source.name(),
            "confidence": d.confidence,
            "detected": d.code.filter(|_| d.is_unsupported()),
            "unsupported": d.is_unsupported(),
            "alternatives": others.iter().map(|(l, p)| serde_json::json!({"language": l, "confidence": p})).collect::<Vec<_>>(),
        });
        println!("{v}");
    } else {
        println!(
            "language {} ({}), confidence {:.2}, detected {}{}",
            c.lang,
            c.source.name(),
            d.confidence,
            d.code.unwrap_or("nothing"),
            if d.is_unsupported() {
                " (unsupported)"
            } else {
                ""
            }
        );
        for (l, p) in &others {
            println!("  alternative {l} {p:.2}");
        }
    }
    Ok(0)
}
