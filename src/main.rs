//! faqd binary: parses the command line, sets up logging, runs the library.

use clap::Parser;
use std::io::IsTerminal;

fn main() {
    let cli = faqd::cli::Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        faqd::cli::LogFormat::Json => logs.json().init(),
        // Colours on a terminal only: log files and pipes get plain text.
        faqd::cli::LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
    match faqd::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}
