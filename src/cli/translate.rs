//! `faqd translate`: looks up an agent's reply in the translation memory, through the same
//! code as the TranslateReply RPC, and prints the approved translation (or JSON).

use super::{EngineArgs, IndexLocation};
use crate::engine::ReplyParams;
use clap::Args;

#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// The reply text.
    pub text: String,
    /// Language to translate into (`ko`, `en`, `zh`, `zh-Hant` or a locale tag).
    #[arg(long)]
    pub to: String,
    /// Language of the text (detected when not given).
    #[arg(long)]
    pub from: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub location: IndexLocation,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(a: TranslateArgs) -> anyhow::Result<i32> {
    let engine = super::open_engine(&a.location, &a.engine)?;
    let params = ReplyParams {
        text: a.text,
        target_language: a.to,
        source_language: a.from,
    };
    let o = match engine.translate_reply(&params) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    if a.json {
        let v = serde_json::json!({
            "matched": o.matched,
            "translation": o.translation,
            "match_percent": o.percent,
            "matched_source": o.matched_source,
            "origin": o.origin,
            "source_language": o.source.code(),
            "target_language": o.target.tag(),
            "threshold": o.threshold,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    println!(
        "{} -> {}: {} ({:.1}%, threshold {:.0}%)",
        o.source,
        o.target,
        if o.matched { "match" } else { "no match" },
        o.percent,
        o.threshold
    );
    if let (Some(src), Some(origin)) = (&o.matched_source, &o.origin) {
        println!("  closest  [{origin}] {src}");
    }
    match &o.translation {
        Some(t) => println!("  approved {t}"),
        None => println!("  no approved translation: write the reply yourself"),
    }
    Ok(0)
}
