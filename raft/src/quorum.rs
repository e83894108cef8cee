//! One node's membership in the metadata quorum: the broker's single entry point.
//!
//! [`Quorum::start`] opens the log store and state machine under `<data_dir>/raft/`, starts
//! the Raft node, serves the controller listener when there is one, and on a voter's first
//! start initializes the cluster with the configured voters (every voter passes the same
//! map, which openraft allows; a node already initialized skips this). A single node with
//! no listener is a one-voter quorum that elects itself at once.
//!
//! [`Quorum::propose`] is how the active controller changes the image: the command carries
//! the current term as its controller epoch, so if leadership changes before it commits it
//! is refused when applied (see [`crate::image`]). Every write is bounded in time: openraft
//! 0.9 has no check-quorum, and an isolated leader's write would otherwise wait forever.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{ClientWriteError, InitializeError, RaftError};
use openraft::{Config, Raft, ServerState};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::controller::{
    Controller, ControllerError, ControllerReply, ControllerRequest, ControllerSettings,
};
use crate::image::{CommandResult, ControllerCommand, MetadataImage, Op};
use crate::log_store::LogStore;
use crate::net::client::{call_controller, NetworkFactory};
use crate::net::server;
use crate::state_machine::StateMachineStore;
use crate::types::{NodeId, PeerNode, TypeConfig};

/// Raft timings, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct RaftTimings {
    pub heartbeat_interval_ms: u64,
    pub election_timeout_min_ms: u64,
    pub election_timeout_max_ms: u64,
}

impl Default for RaftTimings {
    /// A heartbeat well above an fsync on a shared disk (openraft's AppendEntries timeout
    /// is one heartbeat interval), and elections within the 3 s failover target.
    fn default() -> Self {
        Self {
            heartbeat_interval_ms: 100,
            election_timeout_min_ms: 500,
            election_timeout_max_ms: 1000,
        }
    }
}

/// What a node needs to join the quorum.
#[derive(Debug, Clone)]
pub struct QuorumConfig {
    pub node_id: NodeId,
    /// The node's data directory; the quorum's files go under `raft/` in it.
    pub data_dir: PathBuf,
    /// Where to serve other members' Raft RPCs; `None` for a lone node.
    pub controller_listen: Option<SocketAddr>,
    /// The voters (id → controller address); initializes the cluster on first start if
    /// this node is one of them.
    pub voters: BTreeMap<NodeId, PeerNode>,
    pub timings: RaftTimings,
    /// The controller's policy (used only if this node is a voter).
    pub controller: ControllerSettings,
}

/// Why a proposal did not commit.
#[derive(Debug, thiserror::Error)]
pub enum ProposeError {
    /// This node is not the active controller; the leader, if known.
    #[error("not the active controller (leader: {leader:?})")]
    NotController { leader: Option<NodeId> },
    #[error("no commit within {0:?}")]
    TimedOut(Duration),
    #[error("raft node failed: {0}")]
    Failed(String),
}

/// Appends `command` through `raft` and waits, up to `within`, for its commit; returns the
/// log index it committed at and how apply judged it.
pub(crate) async fn write(
    raft: &Raft<TypeConfig>,
    command: ControllerCommand,
    within: Duration,
) -> Result<(u64, CommandResult), ProposeError> {
    match tokio::time::timeout(within, raft.client_write(command)).await {
        Err(_) => Err(ProposeError::TimedOut(within)),
        Ok(Ok(written)) => Ok((written.log_id.index, written.data)),
        Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(forward)))) => {
            Err(ProposeError::NotController {
                leader: forward.leader_id,
            })
        }
        Ok(Err(err)) => Err(ProposeError::Failed(err.to_string())),
    }
}

/// A running quorum member.
pub struct Quorum {
    raft: Raft<TypeConfig>,
    image: watch::Receiver<Arc<MetadataImage>>,
    server: Option<JoinHandle<()>>,
    node_id: NodeId,
    voters: BTreeMap<NodeId, PeerNode>,
    /// This voter's controller; `None` on a node that only follows the log.
    controller: Option<Arc<Controller>>,
    stop_duties: watch::Sender<bool>,
}

/// What this node knows of the quorum's leadership (for metrics and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaftStatus {
    pub is_leader: bool,
    pub term: u64,
    pub leader: Option<NodeId>,
}

impl std::fmt::Debug for Quorum {
    // By hand: openraft's `Raft` has no Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quorum")
            .field("node_id", &self.node_id)
            .finish_non_exhaustive()
    }
}

impl Quorum {
    /// Starts this node's quorum member; see the module docs.
    pub async fn start(config: QuorumConfig) -> io::Result<Self> {
        let dir = config.data_dir.join("raft");
        let log = LogStore::open(&dir.join("log"))?;
        let machine = StateMachineStore::open(&dir.join("machine"))?;
        let image = machine.subscribe();
        let raft_config = Config {
            cluster_name: "petrel".into(),
            heartbeat_interval: config.timings.heartbeat_interval_ms,
            election_timeout_min: config.timings.election_timeout_min_ms,
            election_timeout_max: config.timings.election_timeout_max_ms,
            // Snapshot chunks include the follower's install: far above openraft's 200 ms.
            install_snapshot_timeout: 5_000,
            snapshot_max_chunk_size: 1 << 20,
            ..Default::default()
        }
        .validate()
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err.to_string()))?;
        let raft = Raft::new(
            config.node_id,
            Arc::new(raft_config),
            NetworkFactory,
            log,
            machine,
        )
        .await
        .map_err(|err| io::Error::other(err.to_string()))?;
        let is_voter = config.voters.contains_key(&config.node_id);
        let controller = is_voter.then(|| {
            Arc::new(Controller::new(
                raft.clone(),
                config.node_id,
                image.clone(),
                config.controller.clone(),
            ))
        });
        let (stop_duties, stopped) = watch::channel(false);
        if let Some(controller) = &controller {
            tokio::spawn(Arc::clone(controller).run_duties(stopped));
        }
        let server = match config.controller_listen {
            Some(addr) => {
                let listener = TcpListener::bind(addr).await?;
                Some(tokio::spawn(server::serve(
                    listener,
                    raft.clone(),
                    controller.clone(),
                )))
            }
            None => None,
        };
        let initialized = raft
            .is_initialized()
            .await
            .map_err(|err| io::Error::other(err.to_string()))?;
        if !initialized && config.voters.contains_key(&config.node_id) {
            match raft.initialize(config.voters.clone()).await {
                Ok(()) | Err(RaftError::APIError(InitializeError::NotAllowed(_))) => {}
                Err(err) => return Err(io::Error::other(err.to_string())),
            }
        }
        Ok(Self {
            raft,
            image,
            server,
            node_id: config.node_id,
            voters: config.voters,
            controller,
            stop_duties,
        })
    }

    /// The image as of the last applied entry.
    pub fn image(&self) -> Arc<MetadataImage> {
        Arc::clone(&self.image.borrow())
    }

    /// The image now and at every change.
    pub fn subscribe(&self) -> watch::Receiver<Arc<MetadataImage>> {
        self.image.clone()
    }

    /// Whether this node is the active controller now.
    pub fn is_controller(&self) -> bool {
        self.raft.metrics().borrow().state == ServerState::Leader
    }

    /// Waits until some node leads, up to `within`; returns its id.
    pub async fn wait_for_leader(&self, within: Duration) -> Option<NodeId> {
        let mut metrics = self.raft.metrics();
        let seen = tokio::time::timeout(within, metrics.wait_for(|m| m.current_leader.is_some()))
            .await
            .ok()?
            .ok()?;
        seen.current_leader
    }

    /// Commits `op` as the active controller, within `within`; returns how apply judged it.
    pub async fn propose(&self, op: Op, within: Duration) -> Result<CommandResult, ProposeError> {
        let metrics = self.raft.metrics().borrow().clone();
        if metrics.state != ServerState::Leader {
            return Err(ProposeError::NotController {
                leader: metrics.current_leader,
            });
        }
        let command = ControllerCommand {
            epoch: metrics.current_term,
            op,
        };
        write(&self.raft, command, within)
            .await
            .map(|(_, result)| result)
    }

    /// Sends `request` to the active controller (this node's own, or another voter's over
    /// the controller listener), following leader hints and retrying through elections
    /// until `within` has passed.
    pub async fn call(
        &self,
        request: ControllerRequest,
        within: Duration,
    ) -> Result<ControllerReply, ControllerError> {
        let deadline = tokio::time::Instant::now() + within;
        let voter_ids: Vec<NodeId> = self.voters.keys().copied().collect();
        let mut hint: Option<NodeId> = None;
        let mut attempt = 0usize;
        loop {
            let known_leader = self.raft.metrics().borrow().current_leader;
            let target = hint.or(known_leader).or_else(|| {
                // No leader known (a learner not yet added, or an election): ask the voters
                // in turn.
                let id = voter_ids.get(attempt % voter_ids.len().max(1)).copied();
                attempt += 1;
                id
            });
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            let result = match target {
                Some(id) if id == self.node_id => match &self.controller {
                    Some(controller) => controller.handle(request.clone()).await,
                    None => Err(ControllerError::NotController { leader: None }),
                },
                Some(id) => match self.address_of(id) {
                    Some(addr) => call_controller(&addr, request.clone(), remaining)
                        .await
                        .unwrap_or_else(|err| {
                            tracing::debug!(node = id, %err, "controller call failed");
                            Err(ControllerError::NotController { leader: None })
                        }),
                    None => Err(ControllerError::NotController { leader: None }),
                },
                None => Err(ControllerError::NotController { leader: None }),
            };
            hint = match result {
                Err(ControllerError::NotController { leader }) => {
                    leader.filter(|l| Some(*l) != target)
                }
                Err(ControllerError::TimedOut) => None,
                done => return done,
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(ControllerError::TimedOut);
            }
            if hint.is_none() {
                tokio::time::sleep(Duration::from_millis(20).min(remaining)).await;
            }
        }
    }

    /// A member's controller address: from the membership, else from the voter list.
    fn address_of(&self, id: NodeId) -> Option<String> {
        let from_membership = self
            .raft
            .metrics()
            .borrow()
            .membership_config
            .nodes()
            .find(|(member, _)| **member == id)
            .map(|(_, node)| node.addr.clone());
        from_membership
            .or_else(|| self.voters.get(&id).map(|node| node.addr.clone()))
            .filter(|addr| !addr.is_empty())
    }

    /// Waits until the local image has applied `log_index`, up to `within`; false if not.
    pub async fn wait_applied(&self, log_index: u64, within: Duration) -> bool {
        let mut image = self.image.clone();
        let applied = tokio::time::timeout(within, async {
            image
                .wait_for(|i| i.applied_index >= log_index)
                .await
                .is_ok()
        })
        .await;
        applied == Ok(true)
    }

    /// This node's view of the leadership.
    pub fn status(&self) -> RaftStatus {
        let metrics = self.raft.metrics().borrow().clone();
        RaftStatus {
            is_leader: metrics.state == ServerState::Leader,
            term: metrics.current_term,
            leader: metrics.current_leader,
        }
    }

    /// This node's id.
    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    /// Stops the Raft node and the controller listener.
    pub async fn shutdown(self) {
        self.stop_duties.send_replace(true);
        if let Err(err) = self.raft.shutdown().await {
            tracing::warn!(%err, "raft node did not stop cleanly");
        }
        if let Some(server) = self.server {
            server.abort();
        }
    }
}
