//! The active controller's duties, run by whichever voter leads the quorum.
//!
//! Brokers (and the broker's admin handlers) send [`ControllerRequest`]s; the leader turns
//! each into a command (choosing topic ids and replica placement itself, so `apply` stays
//! deterministic), commits it, and answers with the log index it committed at, so the
//! asking node can wait until its own image has applied that far. Requests are decided one
//! at a time, as KRaft's controller does, so each is checked against an image no other
//! request is changing.
//!
//! Liveness (when each broker last heartbeated) is the leader's soft state, not part of the
//! image: a new leader gives every broker a full session timeout before fencing it, as
//! Kafka's controller does after a failover.
//!
//! The controller only acts once the image includes an entry of its own term (openraft
//! commits a blank entry on election), so it never decides from an image missing commits
//! of an earlier leader.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use openraft::{Raft, ServerState};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tracing::{info, warn};
use uuid::Uuid;

use crate::image::{CommandResult, ControllerCommand, LegacyTopic, MetadataImage, Op, Reject};
use crate::placement::{self, Candidate};
use crate::quorum::{write, ProposeError};
use crate::types::{NodeId, PeerNode, TypeConfig};

/// A request to the active controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControllerRequest {
    /// A broker announces itself; `controller_addr` is where it receives the metadata log
    /// (a broker that is not a voter is added as a learner).
    RegisterBroker {
        id: i32,
        endpoint: String,
        rack: Option<String>,
        controller_addr: String,
    },
    /// A registered broker is alive.
    Heartbeat {
        id: i32,
    },
    /// `replication_factor` -1 takes the controller's default; `assignment` (one replica
    /// list per partition) overrides placement.
    CreateTopic {
        name: String,
        partitions: i32,
        replication_factor: i16,
        configs: BTreeMap<String, String>,
        assignment: Option<Vec<Vec<i32>>>,
        validate_only: bool,
    },
    DeleteTopic {
        name: String,
    },
    /// Grows `name` to `count` partitions in total.
    CreatePartitions {
        name: String,
        count: i32,
        assignment: Option<Vec<Vec<i32>>>,
        validate_only: bool,
    },
    AlterConfigs {
        name: String,
        configs: BTreeMap<String, String>,
    },
    AllocateProducerIds {
        broker_id: i32,
        count: i64,
    },
    DescribeQuorum,
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControllerReply {
    /// The change committed at this log index.
    Committed {
        log_index: u64,
    },
    /// Validation passed; nothing was changed (`validate_only`).
    Validated,
    ProducerIds {
        first: i64,
        count: i64,
        log_index: u64,
    },
    Quorum(QuorumState),
}

/// The quorum as its leader sees it (DescribeQuorum).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumState {
    pub leader_id: NodeId,
    pub term: u64,
    /// The index after the last committed entry (Kafka's high watermark).
    pub high_watermark: u64,
    pub voters: Vec<ReplicaState>,
    pub observers: Vec<ReplicaState>,
    /// Every member's controller address.
    pub nodes: Vec<(NodeId, String)>,
}

/// How far one member's log has been replicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaState {
    pub id: NodeId,
    /// The index after the last entry known to be on this member, -1 if unknown.
    pub log_end_offset: i64,
}

/// Why a request failed; the broker maps each to a Kafka error code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ControllerError {
    #[error("not the active controller (leader: {leader:?})")]
    NotController { leader: Option<NodeId> },
    #[error("no controller answered in time")]
    TimedOut,
    #[error(transparent)]
    Rejected(Reject),
    #[error("{0}")]
    InvalidReplicationFactor(String),
    #[error("{0}")]
    InvalidPartitions(String),
    #[error("{0}")]
    InvalidReplicaAssignment(String),
    #[error("controller failed: {0}")]
    Failed(String),
}

/// What the controller needs to know about the cluster's policy.
#[derive(Debug, Clone)]
pub struct ControllerSettings {
    /// A broker silent this long is fenced (`broker.session.timeout.ms`).
    pub session_timeout: Duration,
    /// How long one commit may take before the request fails.
    pub commit_timeout: Duration,
    /// Replicas of a topic created without a replication factor
    /// (`default.replication.factor`).
    pub default_replication_factor: i16,
    /// How the cluster gets its id and first metadata, if this node's leadership is the
    /// first one; `None` leaves that to whoever proposes `InitCluster` (tests).
    pub bootstrap: Option<ClusterBootstrap>,
}

impl Default for ControllerSettings {
    /// Kafka's defaults: a 9 s broker session, replication factor 1.
    fn default() -> Self {
        Self {
            session_timeout: Duration::from_millis(9_000),
            commit_timeout: Duration::from_millis(5_000),
            default_replication_factor: 1,
            bootstrap: None,
        }
    }
}

/// How a quorum with no cluster id yet gets one: the first leader commits its own
/// candidate (the id in its `meta.properties`, or a fresh one), importing its legacy
/// single-node metadata if it has some. The first commit wins; later ones are refused.
#[derive(Debug, Clone, Default)]
pub struct ClusterBootstrap {
    pub cluster_id: String,
    pub legacy: Option<LegacyMetadata>,
}

/// Metadata a single-node data directory held before the quorum existed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyMetadata {
    pub topics: Vec<LegacyTopic>,
    pub next_producer_id: i64,
}

/// Broker liveness as the current leader has seen it.
#[derive(Debug, Default)]
struct Liveness {
    /// The term these observations belong to; a new term starts a grace period.
    term: u64,
    term_started: Option<Instant>,
    last_heartbeat: HashMap<i32, Instant>,
}

/// The controller of one voter; it acts only while this voter leads.
pub struct Controller {
    raft: Raft<TypeConfig>,
    node_id: NodeId,
    image: watch::Receiver<Arc<MetadataImage>>,
    settings: ControllerSettings,
    /// One decision at a time.
    decisions: tokio::sync::Mutex<()>,
    liveness: Mutex<Liveness>,
}

impl std::fmt::Debug for Controller {
    // By hand: openraft's `Raft` has no Debug.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("node_id", &self.node_id)
            .finish_non_exhaustive()
    }
}

impl Controller {
    pub fn new(
        raft: Raft<TypeConfig>,
        node_id: NodeId,
        image: watch::Receiver<Arc<MetadataImage>>,
        settings: ControllerSettings,
    ) -> Self {
        Self {
            raft,
            node_id,
            image,
            settings,
            decisions: tokio::sync::Mutex::new(()),
            liveness: Mutex::new(Liveness::default()),
        }
    }

    /// The current term if this node leads and its image has caught up with its own term.
    fn leading_term(&self) -> Result<u64, ControllerError> {
        let metrics = self.raft.metrics().borrow().clone();
        if metrics.state != ServerState::Leader {
            return Err(ControllerError::NotController {
                leader: metrics.current_leader.filter(|id| *id != self.node_id),
            });
        }
        if self.image.borrow().controller_epoch != metrics.current_term {
            // Elected, but the blank entry of this term is not applied yet.
            return Err(ControllerError::NotController { leader: None });
        }
        Ok(metrics.current_term)
    }

    /// Answers one request (on the leader; elsewhere `NotController`).
    pub async fn handle(
        &self,
        request: ControllerRequest,
    ) -> Result<ControllerReply, ControllerError> {
        if let ControllerRequest::Heartbeat { id } = request {
            return self.heartbeat(id).await;
        }
        if request == ControllerRequest::DescribeQuorum {
            self.leading_term()?;
            return Ok(ControllerReply::Quorum(self.describe_quorum()));
        }
        let _decision = self.decisions.lock().await;
        let term = self.leading_term()?;
        let image = Arc::clone(&self.image.borrow());
        match request {
            ControllerRequest::RegisterBroker {
                id,
                endpoint,
                rack,
                controller_addr,
            } => {
                self.ensure_member(id, controller_addr).await?;
                self.note_heartbeat(term, id);
                info!(broker = id, %endpoint, "broker registered");
                self.commit(term, Op::RegisterBroker { id, endpoint, rack })
                    .await
            }
            ControllerRequest::CreateTopic {
                name,
                partitions,
                replication_factor,
                configs,
                assignment,
                validate_only,
            } => {
                if image.topics.contains_key(&name) {
                    return Err(ControllerError::Rejected(Reject::TopicExists(name)));
                }
                let assignment = match assignment {
                    Some(given) => given,
                    None => self.place(&image, 0, partitions, replication_factor)?,
                };
                if validate_only {
                    return Ok(ControllerReply::Validated);
                }
                let op = Op::CreateTopic {
                    name,
                    id: Uuid::new_v4(),
                    configs,
                    assignment,
                };
                self.commit(term, op).await
            }
            ControllerRequest::DeleteTopic { name } => {
                self.commit(term, Op::DeleteTopic { name }).await
            }
            ControllerRequest::CreatePartitions {
                name,
                count,
                assignment,
                validate_only,
            } => {
                let topic = image
                    .topics
                    .get(&name)
                    .ok_or_else(|| ControllerError::Rejected(Reject::UnknownTopic(name.clone())))?;
                let existing = topic.partitions.len();
                let added = usize::try_from(count)
                    .ok()
                    .and_then(|count| count.checked_sub(existing))
                    .filter(|added| *added > 0)
                    .ok_or_else(|| {
                        ControllerError::InvalidPartitions(format!(
                            "topic {name} has {existing} partitions; {count} is not more"
                        ))
                    })?;
                let factor = topic
                    .partitions
                    .first()
                    .map_or(1, |p| i16::try_from(p.replicas.len()).unwrap_or(i16::MAX));
                let assignment = match assignment {
                    Some(given) => given,
                    None => self.place(&image, existing, added as i32, factor)?,
                };
                if validate_only {
                    return Ok(ControllerReply::Validated);
                }
                self.commit(term, Op::CreatePartitions { name, assignment })
                    .await
            }
            ControllerRequest::AlterConfigs { name, configs } => {
                self.commit(term, Op::AlterConfigs { name, configs }).await
            }
            ControllerRequest::AllocateProducerIds { broker_id, count } => {
                let op = Op::AllocateProducerIds { broker_id, count };
                self.commit(term, op).await
            }
            ControllerRequest::Heartbeat { .. } | ControllerRequest::DescribeQuorum => {
                Err(ControllerError::Failed("handled above".into()))
            }
        }
    }

    /// Replica lists for `count` partitions numbered from `first`, over live brokers.
    fn place(
        &self,
        image: &MetadataImage,
        first: usize,
        count: i32,
        replication_factor: i16,
    ) -> Result<Vec<Vec<i32>>, ControllerError> {
        let count = usize::try_from(count)
            .ok()
            .filter(|count| *count > 0)
            .ok_or_else(|| ControllerError::InvalidPartitions(format!("{count} partitions")))?;
        let factor = match replication_factor {
            -1 => self.settings.default_replication_factor,
            given => given,
        };
        let factor = usize::try_from(factor)
            .ok()
            .filter(|factor| *factor > 0)
            .ok_or_else(|| {
                ControllerError::InvalidReplicationFactor(format!(
                    "replication factor {replication_factor} must be at least 1"
                ))
            })?;
        let live: Vec<Candidate> = image
            .brokers
            .iter()
            .filter(|(_, broker)| !broker.fenced)
            .map(|(id, broker)| Candidate {
                id: *id,
                rack: broker.rack.clone(),
            })
            .collect();
        // Kafka draws the starting broker and the follower shift at random per topic.
        let random = Uuid::new_v4().as_u128();
        let (start, shift) = (random as usize, (random >> 64) as usize);
        placement::assign(&live, first, count, factor, start, shift)
            .map_err(|err| ControllerError::InvalidReplicationFactor(err.to_string()))
    }

    /// Commits `op` in `term`; the reply names the log index it committed at.
    async fn commit(&self, term: u64, op: Op) -> Result<ControllerReply, ControllerError> {
        let command = ControllerCommand { epoch: term, op };
        let (log_index, result) = write(&self.raft, command, self.settings.commit_timeout)
            .await
            .map_err(|err| match err {
                ProposeError::NotController { leader } => ControllerError::NotController { leader },
                ProposeError::TimedOut(_) => ControllerError::TimedOut,
                ProposeError::Failed(why) => ControllerError::Failed(why),
            })?;
        match result {
            CommandResult::Applied | CommandResult::RaftInternal => {
                Ok(ControllerReply::Committed { log_index })
            }
            CommandResult::ProducerIds { first, count } => Ok(ControllerReply::ProducerIds {
                first,
                count,
                log_index,
            }),
            CommandResult::Rejected(Reject::StaleControllerEpoch { .. }) => {
                Err(ControllerError::NotController { leader: None })
            }
            CommandResult::Rejected(reject) => Err(ControllerError::Rejected(reject)),
        }
    }

    /// Adds a broker that is not yet a quorum member as a learner, so it receives the log.
    async fn ensure_member(&self, id: i32, controller_addr: String) -> Result<(), ControllerError> {
        let node_id = NodeId::try_from(id)
            .map_err(|_| ControllerError::Failed(format!("invalid broker id {id}")))?;
        let known = self
            .raft
            .metrics()
            .borrow()
            .membership_config
            .nodes()
            .any(|(member, _)| *member == node_id);
        if known {
            return Ok(());
        }
        let node = PeerNode {
            addr: controller_addr,
        };
        tokio::time::timeout(
            self.settings.commit_timeout,
            self.raft.add_learner(node_id, node, false),
        )
        .await
        .map_err(|_| ControllerError::TimedOut)?
        .map_err(|err| ControllerError::Failed(err.to_string()))?;
        Ok(())
    }

    async fn heartbeat(&self, id: i32) -> Result<ControllerReply, ControllerError> {
        let term = self.leading_term()?;
        self.note_heartbeat(term, id);
        let fenced = self.image.borrow().brokers.get(&id).map(|b| b.fenced);
        match fenced {
            None => Err(ControllerError::Rejected(Reject::UnknownBroker(id))),
            Some(false) => Ok(ControllerReply::Committed {
                log_index: self.image.borrow().applied_index,
            }),
            Some(true) => {
                let _decision = self.decisions.lock().await;
                let term = self.leading_term()?;
                info!(broker = id, "fenced broker heartbeats again: unfencing");
                self.commit(term, Op::UnfenceBroker { id }).await
            }
        }
    }

    fn liveness(&self) -> std::sync::MutexGuard<'_, Liveness> {
        self.liveness.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn note_heartbeat(&self, term: u64, id: i32) {
        let mut liveness = self.liveness();
        Self::start_term(&mut liveness, term);
        liveness.last_heartbeat.insert(id, Instant::now());
    }

    /// A new term forgets the old observations and starts every broker's grace period.
    fn start_term(liveness: &mut Liveness, term: u64) {
        if liveness.term != term {
            liveness.term = term;
            liveness.term_started = Some(Instant::now());
            liveness.last_heartbeat.clear();
        }
    }

    /// Live brokers whose session has expired under the current term.
    fn expired_brokers(&self, term: u64, image: &MetadataImage) -> Vec<i32> {
        let mut liveness = self.liveness();
        Self::start_term(&mut liveness, term);
        let now = Instant::now();
        let grace_from = liveness.term_started.unwrap_or(now);
        image
            .brokers
            .iter()
            .filter(|(_, broker)| !broker.fenced)
            .filter(|(id, _)| {
                let seen = liveness
                    .last_heartbeat
                    .get(id)
                    .copied()
                    .unwrap_or(grace_from);
                now.duration_since(seen) > self.settings.session_timeout
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// The leader's duties: give a new cluster its id, fence silent brokers. Runs on every
    /// image change (so a new leader acts as soon as its first entry is applied) and every
    /// 200 ms (so session timeouts are noticed), until `stop` fires.
    pub async fn run_duties(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut image = self.image.clone();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                changed = image.changed() => if changed.is_err() { return },
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            if let Err(err) = self.duties_once().await {
                if !matches!(err, ControllerError::NotController { .. }) {
                    warn!(%err, "controller duty failed; retrying");
                }
            }
        }
    }

    async fn duties_once(&self) -> Result<(), ControllerError> {
        let term = self.leading_term()?;
        let image = Arc::clone(&self.image.borrow());
        if image.cluster_id.is_none() {
            let Some(bootstrap) = &self.settings.bootstrap else {
                return Ok(());
            };
            let _decision = self.decisions.lock().await;
            let op = match &bootstrap.legacy {
                Some(legacy) => Op::ImportLegacy {
                    cluster_id: bootstrap.cluster_id.clone(),
                    node: i32::try_from(self.node_id).unwrap_or(i32::MAX),
                    topics: legacy.topics.clone(),
                    next_producer_id: legacy.next_producer_id,
                },
                None => Op::InitCluster {
                    cluster_id: bootstrap.cluster_id.clone(),
                },
            };
            info!(cluster_id = %bootstrap.cluster_id, imports_legacy = bootstrap.legacy.is_some(), "initializing the cluster");
            self.commit(term, op).await?;
            return Ok(());
        }
        for id in self.expired_brokers(term, &image) {
            let _decision = self.decisions.lock().await;
            let term = self.leading_term()?;
            let still_live = self
                .image
                .borrow()
                .brokers
                .get(&id)
                .is_some_and(|b| !b.fenced);
            if still_live {
                warn!(broker = id, timeout = ?self.settings.session_timeout, "broker missed its heartbeats: fencing it");
                self.commit(term, Op::FenceBroker { id }).await?;
            }
        }
        Ok(())
    }

    fn describe_quorum(&self) -> QuorumState {
        let metrics = self.raft.metrics().borrow().clone();
        let membership = metrics.membership_config.membership().clone();
        let matched = |id: NodeId| -> i64 {
            if id == self.node_id {
                return metrics.last_log_index.map_or(0, |i| i as i64 + 1);
            }
            metrics
                .replication
                .as_ref()
                .and_then(|r| r.get(&id).cloned().flatten())
                .map_or(-1, |log_id| log_id.index as i64 + 1)
        };
        let voters: Vec<NodeId> = membership.voter_ids().collect();
        QuorumState {
            leader_id: self.node_id,
            term: metrics.current_term,
            high_watermark: metrics.last_applied.map_or(0, |id| id.index + 1),
            voters: voters
                .iter()
                .map(|id| ReplicaState {
                    id: *id,
                    log_end_offset: matched(*id),
                })
                .collect(),
            observers: membership
                .learner_ids()
                .map(|id| ReplicaState {
                    id,
                    log_end_offset: matched(id),
                })
                .collect(),
            nodes: membership
                .nodes()
                .map(|(id, node)| (*id, node.addr.clone()))
                .collect(),
        }
    }
}
