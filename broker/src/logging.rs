//! Log set-up: `tracing` to stderr, human text by default or one JSON object per line.
//! `RUST_LOG` wins over `--log-level` when set, as is usual for tracing programs. The Raft
//! library's own chatter is kept at warn unless the filter names it.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat, level: &str) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::try_new(spec)?,
        // openraft logs every election step and snapshot at info; its warnings are what
        // an operator needs, unless the filter asks for openraft explicitly.
        _ if level.contains("openraft") => EnvFilter::try_new(level)?,
        _ => EnvFilter::try_new(format!("{level},openraft=warn"))?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in files or collectors.
        .with_ansi(std::io::stderr().is_terminal());
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot initialise logging: {e}"))
}
