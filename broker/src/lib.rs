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

/// How long start-up waits for the quorum (a cluster id, this broker's registration).
const QUORUM_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Joins the metadata quorum (a lone voter with no flags), registers this broker, waits for
/// the cluster id and checks or writes `meta.properties`, opens the partitions the image
/// places here, then serves clients.
pub async fn start(config: Config) -> anyhow::Result<RunningBroker> {
    let stored = node::load(&config.data_dir, config.node_id)?;
    let legacy = topics::legacy::detect(&config.data_dir)?;
    let (_, is_broker) = config.role_flags()?;
    let listener = TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let listen_addr = listener.local_addr()?;
    let advertised = match &config.advertised_listen {
        Some(address) => parse_endpoint(address)?,
        None => endpoint_for_bound(listen_addr),
    };
    let imports_legacy = legacy.is_some();
    let quorum = Arc::new(start_quorum(&config, stored.as_ref(), legacy).await?);
    if is_broker {
        // First: a broker that is not a voter receives the metadata log (and so the cluster
        // id) only once the controller has added it as a learner, at registration.
        register(&quorum, &config, &advertised).await?;
    }
    let cluster_id = wait_for_cluster_id(&quorum).await?;
    let identity = node::settle(&config.data_dir, stored, config.node_id, &cluster_id)?;
    if imports_legacy && quorum.image().cluster_id.as_deref() == Some(cluster_id.as_str()) {
        topics::legacy::mark_imported(&config.data_dir)
            .context("cannot mark the single-node metadata as imported")?;
        info!("single-node topic metadata imported into the metadata quorum");
    }
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
        Arc::clone(&quorum),
        &config.data_dir,
        disk,
        clock,
        config.auto_create_topics_enable,
        config.num_partitions,
        config.controller_request_timeout(),
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
        producer_ids: producers::ProducerIdAllocator::default(),
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
    let reconciling = context.clone();
    let token = shutdown.clone();
    tokio::spawn(async move { reconciling.topics.run_reconciler(token).await });
    if is_broker {
        tokio::spawn(heartbeat(context.clone(), shutdown.clone()));
    }
    tokio::spawn(metrics::track_raft(Arc::clone(&quorum), shutdown.clone()));
    let serving = server::serve(listener, context.clone(), shutdown.clone());
    let ctx = context.clone();
    let task = tokio::spawn(async move {
        serving.await;
        close_partitions(&ctx).await;
        drop(ctx);
        // The last handle once connections and background tasks are gone; if one still
        // holds it, the Raft node stops with the process.
        if let Ok(quorum) = Arc::try_unwrap(quorum) {
            quorum.shutdown().await;
        }
    });
    Ok(RunningBroker {
        listen_addr,
        context,
        shutdown,
        task,
    })
}

/// Starts this node's quorum member from the configuration.
async fn start_quorum(
    config: &Config,
    stored: Option<&node::NodeIdentity>,
    legacy: Option<petrel_raft::controller::LegacyMetadata>,
) -> anyhow::Result<petrel_raft::quorum::Quorum> {
    use petrel_raft::controller::{ClusterBootstrap, ControllerSettings};
    use petrel_raft::quorum::{QuorumConfig, RaftTimings};
    use petrel_raft::types::PeerNode;
    let node_id = u64::try_from(config.node_id)?;
    let voter_list = config.voter_list()?;
    let voters: std::collections::BTreeMap<u64, PeerNode> = if voter_list.is_empty() {
        // No voters given: this node alone, reached by no one.
        [(node_id, PeerNode::default())].into()
    } else {
        voter_list
            .iter()
            .map(|v| {
                let id = u64::try_from(v.id).unwrap_or_default();
                (
                    id,
                    PeerNode {
                        addr: v.address.clone(),
                    },
                )
            })
            .collect()
    };
    let controller_listen = match &config.controller_listen {
        Some(address) => Some(
            tokio::net::lookup_host(address)
                .await
                .with_context(|| format!("cannot resolve controller_listen {address}"))?
                .next()
                .with_context(|| format!("controller_listen {address} resolves to nothing"))?,
        ),
        None => None,
    };
    let cluster_id = stored.map_or_else(node::new_cluster_id, |s| s.cluster_id.clone());
    let quorum_config = QuorumConfig {
        node_id,
        data_dir: config.data_dir.clone(),
        controller_listen,
        voters,
        timings: RaftTimings {
            heartbeat_interval_ms: config.raft_heartbeat_interval_ms,
            election_timeout_min_ms: config.raft_election_timeout_min_ms,
            election_timeout_max_ms: config.raft_election_timeout_max_ms,
        },
        controller: ControllerSettings {
            session_timeout: std::time::Duration::from_millis(config.broker_session_timeout_ms),
            commit_timeout: config.controller_request_timeout(),
            default_replication_factor: config.default_replication_factor,
            bootstrap: Some(ClusterBootstrap { cluster_id, legacy }),
        },
    };
    petrel_raft::quorum::Quorum::start(quorum_config)
        .await
        .context("cannot start the metadata quorum member")
}

/// Waits until the quorum's image has a cluster id (the first leader sets it).
async fn wait_for_cluster_id(quorum: &petrel_raft::quorum::Quorum) -> anyhow::Result<String> {
    let mut image = quorum.subscribe();
    let waited = tokio::time::timeout(QUORUM_WAIT, async {
        loop {
            if let Some(id) = image.borrow_and_update().cluster_id.clone() {
                return Some(id);
            }
            match tokio::time::timeout(std::time::Duration::from_secs(5), image.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return None,
                Err(_) => info!("waiting for the metadata quorum to elect a controller"),
            }
        }
    })
    .await;
    match waited {
        Ok(Some(id)) => Ok(id),
        _ => bail!("no metadata quorum formed within {QUORUM_WAIT:?}; check --voters and that the other controllers are running"),
    }
}

/// Registers this broker with the active controller and waits until the registration is
/// in the local image.
async fn register(
    quorum: &petrel_raft::quorum::Quorum,
    config: &Config,
    advertised: &Endpoint,
) -> anyhow::Result<()> {
    use petrel_raft::controller::{ControllerReply, ControllerRequest};
    let request = ControllerRequest::RegisterBroker {
        id: config.node_id,
        endpoint: format!("{}:{}", advertised.host, advertised.port),
        rack: config.rack.clone(),
        controller_addr: config.controller_listen.clone().unwrap_or_default(),
    };
    let started = tokio::time::Instant::now();
    loop {
        match quorum
            .call(request.clone(), config.controller_request_timeout())
            .await
        {
            Ok(ControllerReply::Committed { log_index }) => {
                if quorum.wait_applied(log_index, QUORUM_WAIT).await {
                    info!(
                        node_id = config.node_id,
                        "broker registered with the controller"
                    );
                    return Ok(());
                }
            }
            Ok(other) => bail!("unexpected answer to the broker registration: {other:?}"),
            Err(err) => info!(%err, "broker registration not accepted yet; retrying"),
        }
        if started.elapsed() > QUORUM_WAIT {
            bail!(
                "the controller did not accept this broker's registration within {QUORUM_WAIT:?}"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Tells the active controller this broker is alive, every heartbeat interval.
async fn heartbeat(ctx: Arc<BrokerContext>, shutdown: CancellationToken) {
    use petrel_raft::controller::ControllerRequest;
    let period = std::time::Duration::from_millis(ctx.config.broker_heartbeat_interval_ms);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let request = ControllerRequest::Heartbeat { id: ctx.node_id };
        if let Err(err) = ctx.topics.quorum().call(request, period).await {
            tracing::debug!(%err, "heartbeat not delivered");
        }
    }
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
