//! The metadata image: the state machine the metadata log drives, and the commands that
//! change it.
//!
//! `apply` is pure and deterministic (no clock, no randomness): every node applies the same
//! entries to the same image. Anything chosen freely (topic ids, replica placement) is chosen
//! by the active controller and carried inside the command; `apply` re-checks it.
//!
//! **Epoch rule.** A command carries the controller epoch it was decided under, which is the
//! Raft term of the controller that proposed it. `apply` refuses a command whose epoch is not
//! the term of the log entry that carries it: only the term-T leader appends term-T entries
//! (openraft's `single-term-leader`), so a decision made under an earlier tenure can never
//! take effect, even if it reached the log later.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The most producer ids one command hands out.
pub const PRODUCER_ID_BLOCK_MAX: i64 = 1 << 20;

/// A command proposed by the active controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerCommand {
    /// The controller epoch (Raft term) the command was decided under.
    pub epoch: u64,
    pub op: Op,
}

/// What a command does to the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Sets the cluster id once; the first committed one wins.
    InitCluster {
        cluster_id: String,
    },
    /// Adds a broker, or updates the endpoint and rack of one that registers again. A
    /// registered broker is live (unfenced): see [`Op::UnfenceBroker`].
    RegisterBroker {
        id: i32,
        endpoint: String,
        rack: Option<String>,
    },
    /// A broker missed its heartbeats: it leaves Metadata, leaves every ISR it is not the
    /// last member of, and the partitions it led get the first live ISR member as leader
    /// (or none), each with its leader epoch raised.
    FenceBroker {
        id: i32,
    },
    /// A fenced broker heartbeats again: it rejoins the ISRs of its replicas and leads the
    /// partitions left without a leader, each with its leader epoch raised.
    UnfenceBroker {
        id: i32,
    },
    /// Adds partitions to a topic (one replica list per new partition, leader first).
    CreatePartitions {
        name: String,
        assignment: Vec<Vec<i32>>,
    },
    /// Replaces a topic's config overrides.
    AlterConfigs {
        name: String,
        configs: BTreeMap<String, String>,
    },
    /// Reserves `count` producer ids for one broker; the result names the first.
    AllocateProducerIds {
        broker_id: i32,
        count: i64,
    },
    /// Takes over a single-node data directory written before the quorum existed: its
    /// cluster id, topics (every partition on `node`, leader epoch 0 as stamped in its
    /// batches) and producer-id reservation.
    ImportLegacy {
        cluster_id: String,
        node: i32,
        topics: Vec<LegacyTopic>,
        next_producer_id: i64,
    },
    /// Creates a topic with the given id and replica assignment (one list per partition;
    /// the first replica leads).
    CreateTopic {
        name: String,
        id: Uuid,
        configs: BTreeMap<String, String>,
        assignment: Vec<Vec<i32>>,
    },
    DeleteTopic {
        name: String,
    },
}

/// A topic as a single-node data directory recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyTopic {
    pub name: String,
    pub id: Uuid,
    pub partitions: i32,
    pub configs: BTreeMap<String, String>,
}

/// The outcome of one log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandResult {
    Applied,
    /// Producer ids `first .. first + count` now belong to the asking broker.
    ProducerIds {
        first: i64,
        count: i64,
    },
    Rejected(Reject),
    /// Raft's own entries (blank entries, membership changes) change no metadata.
    RaftInternal,
}

/// Why a command left the image unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Reject {
    #[error("command decided in controller epoch {command} reached the log in epoch {log}")]
    StaleControllerEpoch { command: u64, log: u64 },
    #[error("the cluster id is already {existing}")]
    ClusterIdAlreadySet { existing: String },
    #[error("topic {0} already exists")]
    TopicExists(String),
    #[error("topic id {0} is already in use")]
    TopicIdInUse(Uuid),
    #[error("topic {0} does not exist")]
    UnknownTopic(String),
    #[error("invalid replica assignment: {0}")]
    InvalidAssignment(String),
    #[error("broker {0} is not registered")]
    UnknownBroker(i32),
    #[error("invalid producer id block size {0}")]
    InvalidProducerIdCount(i64),
}

/// A registered broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerEntry {
    pub endpoint: String,
    pub rack: Option<String>,
    /// Missed its heartbeats: not in Metadata, leads nothing.
    pub fenced: bool,
}

/// One partition's replicas and leadership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionEntry {
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    /// The leading replica, or -1 when none is available.
    pub leader: i32,
    /// Raised on every leader change, so stale leaders are fenced.
    pub leader_epoch: i32,
}

/// A topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicEntry {
    pub id: Uuid,
    pub configs: BTreeMap<String, String>,
    pub partitions: Vec<PartitionEntry>,
}

/// The cluster's metadata as of the last applied log entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataImage {
    pub cluster_id: Option<String>,
    /// The term of the last applied entry: the epoch of the controller that wrote it.
    pub controller_epoch: u64,
    pub brokers: BTreeMap<i32, BrokerEntry>,
    pub topics: BTreeMap<String, TopicEntry>,
    pub topic_ids: BTreeMap<Uuid, String>,
    /// The first producer id not yet handed to a broker.
    pub next_producer_id: i64,
    /// The index of the last log entry applied (set by the state machine), so a node can
    /// wait until a commit it asked for is visible locally.
    pub applied_index: u64,
}

impl MetadataImage {
    /// Applies a command carried by a log entry of Raft term `term`.
    pub fn apply(&mut self, term: u64, command: &ControllerCommand) -> CommandResult {
        self.controller_epoch = self.controller_epoch.max(term);
        if command.epoch != term {
            return CommandResult::Rejected(Reject::StaleControllerEpoch {
                command: command.epoch,
                log: term,
            });
        }
        let producer_ids_before = self.next_producer_id;
        match self.apply_op(&command.op) {
            Ok(()) => match command.op {
                Op::AllocateProducerIds { count, .. } => CommandResult::ProducerIds {
                    first: producer_ids_before,
                    count,
                },
                _ => CommandResult::Applied,
            },
            Err(reject) => CommandResult::Rejected(reject),
        }
    }

    /// Notes a Raft-internal entry (blank or membership) of term `term`.
    pub fn note_internal_entry(&mut self, term: u64) {
        self.controller_epoch = self.controller_epoch.max(term);
    }

    fn apply_op(&mut self, op: &Op) -> Result<(), Reject> {
        match op {
            Op::InitCluster { cluster_id } => match &self.cluster_id {
                Some(existing) => Err(Reject::ClusterIdAlreadySet {
                    existing: existing.clone(),
                }),
                None => {
                    self.cluster_id = Some(cluster_id.clone());
                    Ok(())
                }
            },
            Op::RegisterBroker { id, endpoint, rack } => {
                self.brokers.insert(
                    *id,
                    BrokerEntry {
                        endpoint: endpoint.clone(),
                        rack: rack.clone(),
                        fenced: true,
                    },
                );
                self.unfence(*id);
                Ok(())
            }
            Op::FenceBroker { id } => {
                let broker = self.brokers.get_mut(id).ok_or(Reject::UnknownBroker(*id))?;
                broker.fenced = true;
                self.fence(*id);
                Ok(())
            }
            Op::UnfenceBroker { id } => {
                if !self.brokers.contains_key(id) {
                    return Err(Reject::UnknownBroker(*id));
                }
                self.unfence(*id);
                Ok(())
            }
            Op::CreatePartitions { name, assignment } => {
                let added = assignment
                    .iter()
                    .map(|replicas| self.new_partition(replicas))
                    .collect::<Result<Vec<_>, _>>()?;
                let topic = self
                    .topics
                    .get_mut(name)
                    .ok_or_else(|| Reject::UnknownTopic(name.clone()))?;
                if added.is_empty() {
                    return Err(Reject::InvalidAssignment("no partitions".into()));
                }
                topic.partitions.extend(added);
                Ok(())
            }
            Op::AlterConfigs { name, configs } => {
                let topic = self
                    .topics
                    .get_mut(name)
                    .ok_or_else(|| Reject::UnknownTopic(name.clone()))?;
                topic.configs = configs.clone();
                Ok(())
            }
            Op::AllocateProducerIds { broker_id, count } => {
                if !self.brokers.contains_key(broker_id) {
                    return Err(Reject::UnknownBroker(*broker_id));
                }
                if !(1..=PRODUCER_ID_BLOCK_MAX).contains(count) {
                    return Err(Reject::InvalidProducerIdCount(*count));
                }
                self.next_producer_id = self.next_producer_id.saturating_add(*count);
                Ok(())
            }
            Op::ImportLegacy {
                cluster_id,
                node,
                topics,
                next_producer_id,
            } => self.import_legacy(cluster_id, *node, topics, *next_producer_id),
            Op::CreateTopic {
                name,
                id,
                configs,
                assignment,
            } => {
                if self.topics.contains_key(name) {
                    return Err(Reject::TopicExists(name.clone()));
                }
                if self.topic_ids.contains_key(id) || id.is_nil() {
                    return Err(Reject::TopicIdInUse(*id));
                }
                let partitions = assignment
                    .iter()
                    .map(|replicas| self.new_partition(replicas))
                    .collect::<Result<Vec<_>, _>>()?;
                if partitions.is_empty() {
                    return Err(Reject::InvalidAssignment("no partitions".into()));
                }
                self.topic_ids.insert(*id, name.clone());
                self.topics.insert(
                    name.clone(),
                    TopicEntry {
                        id: *id,
                        configs: configs.clone(),
                        partitions,
                    },
                );
                Ok(())
            }
            Op::DeleteTopic { name } => {
                let topic = self
                    .topics
                    .remove(name)
                    .ok_or_else(|| Reject::UnknownTopic(name.clone()))?;
                self.topic_ids.remove(&topic.id);
                Ok(())
            }
        }
    }

    /// Marks `id` fenced in every partition: out of the ISRs where others remain, and a
    /// new leader (the first unfenced ISR member, or none) where it led.
    fn fence(&mut self, id: i32) {
        let live = |broker: &i32, brokers: &BTreeMap<i32, BrokerEntry>| {
            brokers.get(broker).is_some_and(|entry| !entry.fenced)
        };
        for topic in self.topics.values_mut() {
            for partition in &mut topic.partitions {
                if partition.isr.contains(&id) && partition.isr.len() > 1 {
                    partition.isr.retain(|member| *member != id);
                }
                if partition.leader == id {
                    partition.leader = partition
                        .isr
                        .iter()
                        .copied()
                        .find(|member| live(member, &self.brokers))
                        .unwrap_or(-1);
                    partition.leader_epoch += 1;
                }
            }
        }
    }

    /// Marks `id` live. Where a partition has a leader, `id` rejoins its ISR (no data is
    /// replicated yet, so there is nothing to catch up on). Where a partition has none,
    /// `id` leads it only if it is in the ISR, as Kafka's clean election requires; the
    /// ISR then takes back every live replica.
    fn unfence(&mut self, id: i32) {
        if let Some(broker) = self.brokers.get_mut(&id) {
            broker.fenced = false;
        }
        let brokers = &self.brokers;
        let live = |broker: &i32| brokers.get(broker).is_some_and(|entry| !entry.fenced);
        for topic in self.topics.values_mut() {
            for partition in &mut topic.partitions {
                if !partition.replicas.contains(&id) {
                    continue;
                }
                if partition.leader != -1 {
                    if !partition.isr.contains(&id) {
                        partition.isr.push(id);
                    }
                } else if partition.isr.contains(&id) {
                    partition.leader = id;
                    partition.leader_epoch += 1;
                    let rejoining: Vec<i32> = partition
                        .replicas
                        .iter()
                        .copied()
                        .filter(|replica| live(replica) && !partition.isr.contains(replica))
                        .collect();
                    partition.isr.extend(rejoining);
                }
            }
        }
    }

    fn import_legacy(
        &mut self,
        cluster_id: &str,
        node: i32,
        topics: &[LegacyTopic],
        next_producer_id: i64,
    ) -> Result<(), Reject> {
        if let Some(existing) = &self.cluster_id {
            return Err(Reject::ClusterIdAlreadySet {
                existing: existing.clone(),
            });
        }
        for (i, topic) in topics.iter().enumerate() {
            let repeated = topics
                .iter()
                .skip(i + 1)
                .any(|other| other.name == topic.name || other.id == topic.id);
            if repeated || self.topics.contains_key(&topic.name) {
                return Err(Reject::TopicExists(topic.name.clone()));
            }
            if topic.id.is_nil() || self.topic_ids.contains_key(&topic.id) {
                return Err(Reject::TopicIdInUse(topic.id));
            }
            if topic.partitions < 1 {
                return Err(Reject::InvalidAssignment(format!(
                    "topic {} has {} partitions",
                    topic.name, topic.partitions
                )));
            }
        }
        self.cluster_id = Some(cluster_id.to_string());
        self.next_producer_id = self.next_producer_id.max(next_producer_id);
        for topic in topics {
            let partitions = (0..topic.partitions)
                .map(|_| PartitionEntry {
                    replicas: vec![node],
                    isr: vec![node],
                    leader: node,
                    leader_epoch: 0,
                })
                .collect();
            self.topic_ids.insert(topic.id, topic.name.clone());
            self.topics.insert(
                topic.name.clone(),
                TopicEntry {
                    id: topic.id,
                    configs: topic.configs.clone(),
                    partitions,
                },
            );
        }
        Ok(())
    }

    /// A new partition on `replicas`, led by the first; every replica must be a registered
    /// broker, listed once.
    fn new_partition(&self, replicas: &[i32]) -> Result<PartitionEntry, Reject> {
        let Some(&leader) = replicas.first() else {
            return Err(Reject::InvalidAssignment(
                "a partition without replicas".into(),
            ));
        };
        for (i, replica) in replicas.iter().enumerate() {
            if !self.brokers.contains_key(replica) {
                return Err(Reject::InvalidAssignment(format!(
                    "broker {replica} is not registered"
                )));
            }
            if replicas.iter().skip(i + 1).any(|other| other == replica) {
                return Err(Reject::InvalidAssignment(format!(
                    "broker {replica} listed twice"
                )));
            }
        }
        let live: Vec<i32> = replicas
            .iter()
            .copied()
            .filter(|replica| self.brokers.get(replica).is_some_and(|b| !b.fenced))
            .collect();
        let leader = if live.contains(&leader) {
            leader
        } else {
            live.first().copied().unwrap_or(-1)
        };
        Ok(PartitionEntry {
            replicas: replicas.to_vec(),
            isr: if live.is_empty() {
                replicas.to_vec()
            } else {
                live
            },
            leader,
            leader_epoch: 0,
        })
    }

    /// The image's own consistency rules; `Err` names the first one broken.
    pub fn check_invariants(&self) -> Result<(), String> {
        if self.topics.len() != self.topic_ids.len() {
            return Err("topic names and ids are not one to one".into());
        }
        for (name, topic) in &self.topics {
            if self.topic_ids.get(&topic.id) != Some(name) {
                return Err(format!("topic {name}: its id does not map back to it"));
            }
            for (index, partition) in topic.partitions.iter().enumerate() {
                let in_isr = partition.isr.contains(&partition.leader);
                if partition.isr.is_empty() {
                    return Err(format!("{name}-{index}: empty ISR"));
                }
                let leader_fenced = self
                    .brokers
                    .get(&partition.leader)
                    .is_some_and(|broker| broker.fenced);
                if leader_fenced {
                    return Err(format!("{name}-{index}: led by a fenced broker"));
                }
                if partition.leader != -1 && !in_isr {
                    return Err(format!("{name}-{index}: leader outside the ISR"));
                }
                if partition
                    .isr
                    .iter()
                    .any(|member| !partition.replicas.contains(member))
                {
                    return Err(format!("{name}-{index}: ISR member outside the replicas"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn command(epoch: u64, op: Op) -> ControllerCommand {
        ControllerCommand { epoch, op }
    }

    fn register(id: i32) -> Op {
        Op::RegisterBroker {
            id,
            endpoint: format!("127.0.0.{id}:9092"),
            rack: None,
        }
    }

    fn create(name: &str, id: u128, assignment: Vec<Vec<i32>>) -> Op {
        Op::CreateTopic {
            name: name.into(),
            id: Uuid::from_u128(id),
            configs: BTreeMap::new(),
            assignment,
        }
    }

    #[test]
    fn a_command_from_another_epoch_changes_nothing() {
        let mut image = MetadataImage::default();
        assert_eq!(
            image.apply(3, &command(3, register(1))),
            CommandResult::Applied
        );
        let before = image.clone();
        let stale = command(2, create("t", 1, vec![vec![1]]));
        assert_eq!(
            image.apply(3, &stale),
            CommandResult::Rejected(Reject::StaleControllerEpoch { command: 2, log: 3 })
        );
        assert_eq!(image, before);
        // A command from a later epoch in an earlier entry is as wrong.
        assert!(matches!(
            image.apply(3, &command(4, register(2))),
            CommandResult::Rejected(Reject::StaleControllerEpoch { .. })
        ));
    }

    #[test]
    fn topics_are_created_on_registered_brokers_and_deleted() {
        let mut image = MetadataImage::default();
        for id in [1, 2, 3] {
            image.apply(1, &command(1, register(id)));
        }
        let op = create("t", 7, vec![vec![1, 2], vec![2, 3], vec![3, 1]]);
        assert_eq!(
            image.apply(1, &command(1, op.clone())),
            CommandResult::Applied
        );
        let topic = &image.topics["t"];
        assert_eq!(topic.partitions[1].leader, 2);
        assert_eq!(topic.partitions[1].isr, vec![2, 3]);
        assert_eq!(
            image.apply(1, &command(1, op)),
            CommandResult::Rejected(Reject::TopicExists("t".into()))
        );
        assert_eq!(
            image.apply(1, &command(1, create("u", 7, vec![vec![1]]))),
            CommandResult::Rejected(Reject::TopicIdInUse(Uuid::from_u128(7)))
        );
        assert!(matches!(
            image.apply(1, &command(1, create("u", 8, vec![vec![9]]))),
            CommandResult::Rejected(Reject::InvalidAssignment(_))
        ));
        assert!(matches!(
            image.apply(1, &command(1, create("u", 8, vec![vec![1, 1]]))),
            CommandResult::Rejected(Reject::InvalidAssignment(_))
        ));
        image.check_invariants().unwrap();
        let delete = Op::DeleteTopic { name: "t".into() };
        assert_eq!(
            image.apply(2, &command(2, delete.clone())),
            CommandResult::Applied
        );
        assert!(image.topics.is_empty() && image.topic_ids.is_empty());
        assert_eq!(
            image.apply(2, &command(2, delete)),
            CommandResult::Rejected(Reject::UnknownTopic("t".into()))
        );
        assert_eq!(image.controller_epoch, 2);
    }

    fn any_op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            (0..5i32).prop_map(register),
            (
                0..3usize,
                0..4u128,
                proptest::collection::vec(proptest::collection::vec(0..6i32, 0..4), 0..4)
            )
                .prop_map(|(name, id, assignment)| create(
                    ["a", "b", "c"][name],
                    id,
                    assignment
                )),
            (0..3usize).prop_map(|name| Op::DeleteTopic {
                name: ["a", "b", "c"][name].into()
            }),
            (0..2usize).prop_map(|id| Op::InitCluster {
                cluster_id: format!("cluster-{id}")
            }),
            (0..5i32).prop_map(|id| Op::FenceBroker { id }),
            (0..5i32).prop_map(|id| Op::UnfenceBroker { id }),
            (
                0..3usize,
                proptest::collection::vec(proptest::collection::vec(0..6i32, 0..4), 0..3)
            )
                .prop_map(|(name, assignment)| Op::CreatePartitions {
                    name: ["a", "b", "c"][name].into(),
                    assignment
                }),
            (0..5i32, -1..3i64)
                .prop_map(|(broker_id, count)| Op::AllocateProducerIds { broker_id, count }),
        ]
    }

    proptest::proptest! {
        /// Any sequence of commands, some from a stale epoch: the invariants hold after
        /// every step, a refused command changes nothing but the epoch seen, and applying
        /// the same sequence twice gives the same image (every node agrees).
        #[test]
        fn any_command_sequence_keeps_the_invariants_and_is_deterministic(
            steps in proptest::collection::vec((any_op(), 1..4u64, proptest::bool::ANY), 0..60)
        ) {
            let mut image = MetadataImage::default();
            let mut replica = MetadataImage::default();
            for (op, term, stale) in steps {
                let epoch = if stale { term - 1 } else { term };
                let cmd = command(epoch, op);
                let before = image.clone();
                let result = image.apply(term, &cmd);
                proptest::prop_assert_eq!(&replica.apply(term, &cmd), &result);
                proptest::prop_assert_eq!(&replica, &image);
                image.check_invariants().map_err(proptest::test_runner::TestCaseError::fail)?;
                for (name, topic) in &image.topics {
                    if let Some(earlier) = before.topics.get(name).filter(|t| t.id == topic.id) {
                        for (now, then) in topic.partitions.iter().zip(&earlier.partitions) {
                            proptest::prop_assert!(now.leader_epoch >= then.leader_epoch);
                            if now.leader != then.leader {
                                proptest::prop_assert!(now.leader_epoch > then.leader_epoch);
                            }
                        }
                    }
                }
                proptest::prop_assert!(image.next_producer_id >= before.next_producer_id);
                if let CommandResult::Rejected(_) = result {
                    let mut expected = before;
                    expected.controller_epoch = expected.controller_epoch.max(term);
                    proptest::prop_assert_eq!(&image, &expected);
                }
                if stale {
                    let refused_as_stale = matches!(
                        result,
                        CommandResult::Rejected(Reject::StaleControllerEpoch { .. })
                    );
                    proptest::prop_assert!(refused_as_stale, "stale command not refused: {:?}", result);
                }
            }
        }
    }

    #[test]
    fn fencing_moves_leadership_and_unfencing_restores_it() {
        let mut image = MetadataImage::default();
        for id in [1, 2, 3] {
            image.apply(1, &command(1, register(id)));
        }
        let op = create("t", 7, vec![vec![1, 2, 3], vec![2, 3, 1], vec![1]]);
        assert_eq!(image.apply(1, &command(1, op)), CommandResult::Applied);
        let fence = |id| command(1, Op::FenceBroker { id });
        assert_eq!(image.apply(1, &fence(1)), CommandResult::Applied);
        let t = &image.topics["t"];
        assert_eq!(
            (t.partitions[0].leader, t.partitions[0].leader_epoch),
            (2, 1)
        );
        assert_eq!(t.partitions[0].isr, vec![2, 3]);
        // A follower's fencing changes the ISR but not the leader or its epoch.
        assert_eq!(
            (t.partitions[1].leader, t.partitions[1].leader_epoch),
            (2, 0)
        );
        assert_eq!(t.partitions[1].isr, vec![2, 3]);
        // The only replica: offline, and it stays in the ISR to lead again cleanly.
        assert_eq!(
            (t.partitions[2].leader, t.partitions[2].leader_epoch),
            (-1, 1)
        );
        assert_eq!(t.partitions[2].isr, vec![1]);
        image.check_invariants().unwrap();
        assert_eq!(
            image.apply(1, &command(1, Op::UnfenceBroker { id: 1 })),
            CommandResult::Applied
        );
        let t = &image.topics["t"];
        assert_eq!(
            (t.partitions[0].leader, t.partitions[0].leader_epoch),
            (2, 1)
        );
        assert_eq!(t.partitions[0].isr, vec![2, 3, 1]);
        assert_eq!(
            (t.partitions[2].leader, t.partitions[2].leader_epoch),
            (1, 2)
        );
        assert!(!image.brokers[&1].fenced);
        assert_eq!(
            image.apply(1, &fence(9)),
            CommandResult::Rejected(Reject::UnknownBroker(9))
        );
    }

    #[test]
    fn an_offline_partition_waits_for_an_isr_member() {
        let mut image = MetadataImage::default();
        for id in [1, 2] {
            image.apply(1, &command(1, register(id)));
        }
        image.apply(1, &command(1, create("t", 7, vec![vec![1, 2]])));
        image.apply(1, &command(1, Op::FenceBroker { id: 1 }));
        image.apply(1, &command(1, Op::FenceBroker { id: 2 }));
        assert_eq!(image.topics["t"].partitions[0].isr, vec![2]);
        // Broker 1 left the ISR first: it may not lead (no unclean election).
        image.apply(1, &command(1, Op::UnfenceBroker { id: 1 }));
        assert_eq!(image.topics["t"].partitions[0].leader, -1);
        image.apply(1, &command(1, Op::UnfenceBroker { id: 2 }));
        let p = &image.topics["t"].partitions[0];
        assert_eq!(
            (p.leader, p.leader_epoch, p.isr.clone()),
            (2, 3, vec![2, 1])
        );
    }

    #[test]
    fn producer_id_blocks_never_overlap() {
        let mut image = MetadataImage::default();
        image.apply(1, &command(1, register(1)));
        let allocate = |count| {
            command(
                1,
                Op::AllocateProducerIds {
                    broker_id: 1,
                    count,
                },
            )
        };
        assert_eq!(
            image.apply(1, &allocate(1000)),
            CommandResult::ProducerIds {
                first: 0,
                count: 1000
            }
        );
        assert_eq!(
            image.apply(1, &allocate(10)),
            CommandResult::ProducerIds {
                first: 1000,
                count: 10
            }
        );
        assert_eq!(
            image.apply(1, &allocate(0)),
            CommandResult::Rejected(Reject::InvalidProducerIdCount(0))
        );
    }

    #[test]
    fn a_legacy_directory_is_imported_once() {
        let mut image = MetadataImage::default();
        let import = Op::ImportLegacy {
            cluster_id: "old".into(),
            node: 1,
            topics: vec![LegacyTopic {
                name: "orders".into(),
                id: Uuid::from_u128(5),
                partitions: 3,
                configs: BTreeMap::new(),
            }],
            next_producer_id: 4000,
        };
        assert_eq!(
            image.apply(1, &command(1, import.clone())),
            CommandResult::Applied
        );
        let orders = &image.topics["orders"];
        assert_eq!(orders.partitions.len(), 3);
        assert_eq!(orders.partitions[2].leader, 1);
        assert_eq!(image.next_producer_id, 4000);
        assert!(matches!(
            image.apply(1, &command(1, import)),
            CommandResult::Rejected(Reject::ClusterIdAlreadySet { .. })
        ));
        image.check_invariants().unwrap();
    }

    #[test]
    fn the_first_cluster_id_wins() {
        let mut image = MetadataImage::default();
        let first = Op::InitCluster {
            cluster_id: "a".into(),
        };
        let second = Op::InitCluster {
            cluster_id: "b".into(),
        };
        assert_eq!(image.apply(1, &command(1, first)), CommandResult::Applied);
        assert_eq!(
            image.apply(1, &command(1, second)),
            CommandResult::Rejected(Reject::ClusterIdAlreadySet {
                existing: "a".into()
            })
        );
        assert_eq!(image.cluster_id.as_deref(), Some("a"));
    }
}
