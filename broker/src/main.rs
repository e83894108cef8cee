//! The `petrel` binary: parse the configuration, set up logs and metrics, start the node,
//! and stop it gracefully on SIGINT or SIGTERM. Nothing else lives here.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use petrel_broker::config::{Cli, Config, Overrides};
use tokio::signal::unix::{signal, SignalKind};
use tracing::{error, info};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Overrides::from_env(std::env::vars())
        .and_then(|env| Config::resolve(cli.overrides, env))
    {
        Ok(config) => config,
        Err(err) => {
            eprintln!("petrel: {err:#}");
            return ExitCode::from(2);
        }
    };
    if let Err(err) = petrel_broker::logging::init(config.log_format, &config.log_level) {
        eprintln!("petrel: {err:#}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            error!(%err, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            error!("{err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let metrics_addr = tokio::net::lookup_host(&config.metrics_listen)
        .await
        .with_context(|| format!("cannot resolve metrics_listen {}", config.metrics_listen))?
        .next()
        .with_context(|| {
            format!(
                "metrics_listen {} resolves to nothing",
                config.metrics_listen
            )
        })?;
    petrel_broker::metrics::install(metrics_addr)?;
    info!(metrics = %metrics_addr, "metrics served at /metrics");
    // Watched before start-up, which may wait for the quorum: a signal meanwhile is kept
    // for the select below instead of killing the process without a clean stop.
    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let broker = petrel_broker::start(config).await?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => info!("SIGINT received; shutting down"),
        _ = terminate.recv() => info!("SIGTERM received; shutting down"),
    }
    broker.stop().await;
    info!("petrel stopped");
    Ok(())
}
