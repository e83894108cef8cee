//! # petrel-broker: the `petrel` node
//!
//! `main.rs` only parses the configuration and calls [`start`]. Start-up: format or load the
//! data directory ([`node`]), bind the client listener, then serve connections
//! ([`server`]) whose requests go to [`handlers`]. Everything handlers may read about the
//! node is in [`context::BrokerContext`].

#![forbid(unsafe_code)]

pub mod config;
pub mod context;
mod durable;
pub mod fetch_sessions;
pub mod groups;
pub mod handlers;
pub mod logging;
pub mod metrics;
pub mod node;
pub mod partitions;
pub mod producers;
pub mod retention;
pub mod server;
pub mod topics;
pub mod turn;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use anyhow::{bail, Context};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::config::Config;
use crate::context::{BrokerContext, Endpoint};

/// Operations queued to the storage I/O backend at most (its bounded channel).
const STORAGE_QUEUE_DEPTH_MAX: usize = 1024;

/// A started node: where it listens, and how to stop it.
#[derive(Debug)]
pub struct RunningBroker {
    /// The bound client listener address (useful when configured with port 0).
    pub listen_addr: SocketAddr,
    pub context: Arc<BrokerContext>,
    /// Cancel to begin a graceful shutdown.
    pub shutdown: CancellationToken,
    /// Completes when the listener and all connections have finished.
    pub task: JoinHandle<()>,
}

impl RunningBroker {
    /// Begins a graceful shutdown and waits for it to finish.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// Formats or loads the data directory, binds the listener and starts serving.
pub async fn start(config: Config) -> anyhow::Result<RunningBroker> {
    let identity = node::load_or_format(&config.data_dir, config.node_id)?;
    let disk =
        petrel_storage::io::Disk::start(config.storage_io_backend.into(), STORAGE_QUEUE_DEPTH_MAX)
            .with_context(|| {
                format!(
                    "cannot start the {:?} storage I/O backend",
                    config.storage_io_backend
                )
            })?;
    metrics::record_storage_backend(disk.backend());
    let clock: std::sync::Arc<dyn petrel_storage::Clock> =
        std::sync::Arc::new(petrel_storage::SystemClock);
    let topics = topics::Topics::open(
        &config.data_dir,
        disk,
        clock,
        config.auto_create_topics_enable,
        config.num_partitions,
    )
    .await?;
    let groups = Arc::new(groups::GroupService::new(
        petrel_groups::coordinator::GroupConfig {
            initial_rebalance_delay_ms: config.group_initial_rebalance_delay_ms,
            ..Default::default()
        },
        config.offsets_topic_num_partitions,
    ));
    groups.load(&topics).await?;
    let listener = TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let listen_addr = listener.local_addr()?;
    let advertised = match &config.advertised_listen {
        Some(address) => parse_endpoint(address)?,
        None => endpoint_for_bound(listen_addr),
    };
    info!(
        node_id = identity.node_id,
        cluster_id = %identity.cluster_id,
        formatted_now = identity.formatted_now,
        data_dir = %config.data_dir.display(),
        listen = %listen_addr,
        advertised = %format!("{}:{}", advertised.host, advertised.port),
        "petrel started"
    );
    let context = Arc::new(BrokerContext {
        node_id: identity.node_id,
        cluster_id: identity.cluster_id,
        advertised,
        producer_ids: producers::ProducerIdAllocator::load(&config.data_dir)?,
        fetch_sessions: fetch_sessions::FetchSessions::new(
            config.fetch_session_cache_slots,
            fetch_sessions::EVICTION_IDLE_DEFAULT,
        ),
        groups,
        config,
        topics,
    });
    let shutdown = CancellationToken::new();
    let retention_interval =
        std::time::Duration::from_millis(context.config.retention_check_interval_ms.max(1));
    tokio::spawn(retention::run(
        context.clone(),
        retention_interval,
        shutdown.clone(),
    ));
    tokio::spawn(groups::GroupService::run_timers(
        context.clone(),
        shutdown.clone(),
    ));
    let serving = server::serve(listener, context.clone(), shutdown.clone());
    let ctx = context.clone();
    let task = tokio::spawn(async move {
        serving.await;
        close_partitions(&ctx).await;
    });
    Ok(RunningBroker {
        listen_addr,
        context,
        shutdown,
        task,
    })
}

/// Writes every partition's final index state (Kafka's clean close) and producer
/// snapshot, so the next start has nothing to rescan.
async fn close_partitions(ctx: &BrokerContext) {
    for partition in ctx.topics.partitions.all() {
        if let Err(error) = partition.snapshot_producers().await {
            tracing::warn!(topic = %partition.topic, partition = partition.index, %error, "writing the producer snapshot failed");
        }
        if let Err(error) = partition.log.close().await {
            tracing::warn!(topic = %partition.topic, partition = partition.index, %error, "closing a partition log failed");
        }
    }
}

/// Parses `HOST:PORT` (an IPv6 host in brackets) into an advertised endpoint.
pub fn parse_endpoint(address: &str) -> anyhow::Result<Endpoint> {
    let (host, port) = address
        .rsplit_once(':')
        .with_context(|| format!("address {address:?} is not HOST:PORT"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        bail!("address {address:?} has no host");
    }
    let port: u16 = port
        .parse()
        .with_context(|| format!("address {address:?} has an invalid port"))?;
    Ok(Endpoint {
        host: host.to_string(),
        port: i32::from(port),
    })
}

/// What to advertise when only the bound address is known: the address itself, or the
/// machine's host name when bound to a wildcard address (0.0.0.0 cannot be dialled).
fn endpoint_for_bound(addr: SocketAddr) -> Endpoint {
    let host = if addr.ip().is_unspecified() {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_string())
            .ok()
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "localhost".to_string())
    } else {
        match addr.ip() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => ip.to_string(),
        }
    };
    Endpoint {
        host,
        port: i32::from(addr.port()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        assert_eq!(
            parse_endpoint("kafka-0.local:9092").unwrap(),
            Endpoint {
                host: "kafka-0.local".into(),
                port: 9092
            }
        );
        assert_eq!(
            parse_endpoint("[::1]:19092").unwrap(),
            Endpoint {
                host: "::1".into(),
                port: 19092
            }
        );
        assert!(parse_endpoint("nohost").is_err());
        assert!(parse_endpoint(":9092").is_err());
        assert!(parse_endpoint("h:99999").is_err());
    }
}
