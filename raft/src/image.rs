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
    /// Adds a broker, or updates the endpoint and rack of one that registers again.
    RegisterBroker {
        id: i32,
        endpoint: String,
        rack: Option<String>,
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

/// The outcome of one log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandResult {
    Applied,
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
}

/// A registered broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerEntry {
    pub endpoint: String,
    pub rack: Option<String>,
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
        match self.apply_op(&command.op) {
            Ok(()) => CommandResult::Applied,
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
                    },
                );
                Ok(())
            }
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
        Ok(PartitionEntry {
            replicas: replicas.to_vec(),
            isr: replicas.to_vec(),
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
