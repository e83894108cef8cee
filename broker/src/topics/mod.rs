//! Topic metadata as the broker sees it. The metadata quorum's image (`petrel_raft`) is
//! the source of truth: [`service::Topics`] reads topics from it and sends every change
//! to the active controller. This module holds what the rest of the broker shares: the
//! per-topic view ([`TopicMeta`]), the refusals with their Kafka codes ([`TopicError`]),
//! Kafka's topic name rules, and the reader of the metadata a single-node data directory
//! kept before the quorum existed ([`legacy`]).

pub mod config_defs;
pub mod legacy;
pub mod service;

pub use service::Topics;

use std::collections::BTreeMap;

use petrel_raft::controller::ControllerError;
use petrel_raft::image::{PartitionEntry, Reject, TopicEntry};
use uuid::Uuid;

/// Kafka's limit on topic name length.
const TOPIC_NAME_CHARS_MAX: usize = 249;

/// One topic as the image has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicMeta {
    pub name: String,
    pub id: Uuid,
    pub partitions: i32,
    /// Config overrides (names as in Kafka); defaults are not stored.
    pub configs: BTreeMap<String, String>,
    /// Each partition's replicas, ISR, leader and leader epoch (empty for a topic only
    /// validated, not created).
    pub layout: Vec<PartitionEntry>,
}

impl TopicMeta {
    pub fn from_image(name: &str, entry: &TopicEntry) -> TopicMeta {
        TopicMeta {
            name: name.to_string(),
            id: entry.id,
            partitions: i32::try_from(entry.partitions.len()).unwrap_or(i32::MAX),
            configs: entry.configs.clone(),
            layout: entry.partitions.clone(),
        }
    }

    /// Partition `index`'s replicas and leadership, if it exists.
    pub fn partition(&self, index: i32) -> Option<&PartitionEntry> {
        usize::try_from(index).ok().and_then(|i| self.layout.get(i))
    }
}

/// Why a topic operation was refused; each maps to one Kafka error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    #[error("topic {0} already exists")]
    AlreadyExists(String),
    #[error("unknown topic {0}")]
    Unknown(String),
    #[error("invalid topic name {0:?}: {1}")]
    InvalidName(String, &'static str),
    #[error("topic '{0}' collides with existing topic: {1}")]
    Collides(String, String),
    #[error("invalid partition count {0}")]
    InvalidPartitions(i32),
    #[error("{0}")]
    PartitionCount(String),
    #[error("{0}")]
    InvalidConfig(String),
    #[error("cannot persist topic metadata: {0}")]
    Storage(String),
    #[error("{0}")]
    InvalidReplicationFactor(String),
    #[error("{0}")]
    InvalidReplicaAssignment(String),
    #[error("no active controller answered: {0}")]
    NotController(String),
    #[error("the controller did not answer in time")]
    TimedOut,
}

impl From<ControllerError> for TopicError {
    fn from(error: ControllerError) -> Self {
        match error {
            ControllerError::Rejected(Reject::TopicExists(name)) => TopicError::AlreadyExists(name),
            ControllerError::Rejected(Reject::UnknownTopic(name)) => TopicError::Unknown(name),
            ControllerError::Rejected(Reject::InvalidAssignment(why))
            | ControllerError::InvalidReplicaAssignment(why) => {
                TopicError::InvalidReplicaAssignment(why)
            }
            ControllerError::InvalidReplicationFactor(why) => {
                TopicError::InvalidReplicationFactor(why)
            }
            ControllerError::InvalidPartitions(why) => TopicError::PartitionCount(why),
            ControllerError::TimedOut => TopicError::TimedOut,
            ControllerError::NotController { .. } => TopicError::NotController(error.to_string()),
            other => TopicError::Storage(other.to_string()),
        }
    }
}

impl TopicError {
    /// The Kafka error code for this refusal.
    pub fn code(&self) -> i16 {
        use kafka_protocol::error::ResponseError as E;
        match self {
            TopicError::AlreadyExists(_) => E::TopicAlreadyExists.code(),
            TopicError::Unknown(_) => E::UnknownTopicOrPartition.code(),
            TopicError::InvalidName(..) | TopicError::Collides(..) => {
                E::InvalidTopicException.code()
            }
            TopicError::InvalidPartitions(_) | TopicError::PartitionCount(_) => {
                E::InvalidPartitions.code()
            }
            TopicError::InvalidConfig(_) => E::InvalidConfig.code(),
            TopicError::Storage(_) => E::KafkaStorageError.code(),
            TopicError::InvalidReplicationFactor(_) => E::InvalidReplicationFactor.code(),
            TopicError::InvalidReplicaAssignment(_) => E::InvalidReplicaAssignment.code(),
            TopicError::NotController(_) => E::NotController.code(),
            TopicError::TimedOut => E::RequestTimedOut.code(),
        }
    }
}

/// Kafka's topic name rules: 1-249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub fn validate_name(name: &str) -> Result<(), TopicError> {
    let invalid = |why| Err(TopicError::InvalidName(name.to_string(), why));
    if name.is_empty() {
        return invalid("empty");
    }
    if name == "." || name == ".." {
        return invalid("'.' and '..' are not allowed");
    }
    if name.len() > TOPIC_NAME_CHARS_MAX {
        return invalid("longer than 249 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return invalid("only ASCII letters, digits, '.', '_' and '-' are allowed");
    }
    Ok(())
}

/// Kafka refuses names that differ only in '.' versus '_' (both map to the same metric
/// names); `Err` names the existing topic `name` collides with.
pub fn check_collision<'a>(
    name: &str,
    existing: impl IntoIterator<Item = &'a String>,
) -> Result<(), TopicError> {
    let normalized = |n: &str| n.replace('.', "_");
    match existing
        .into_iter()
        .find(|t| *t != name && normalized(t) == normalized(name))
    {
        Some(other) => Err(TopicError::Collides(name.to_string(), other.clone())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_kafka_rules() {
        assert!(validate_name("orders.v1_x-2").is_ok());
        for bad in ["", ".", "..", "bad name", &"x".repeat(250)] {
            assert_eq!(validate_name(bad).unwrap_err().code(), 17, "{bad:?}");
        }
        let existing = ["a.b".to_string()];
        assert_eq!(check_collision("a_b", &existing).unwrap_err().code(), 17);
        assert!(check_collision("a.b", &existing).is_ok());
    }

    #[test]
    fn controller_refusals_carry_kafka_codes() {
        let code = |e: ControllerError| TopicError::from(e).code();
        assert_eq!(
            code(ControllerError::Rejected(Reject::TopicExists("t".into()))),
            36
        );
        assert_eq!(
            code(ControllerError::Rejected(Reject::UnknownTopic("t".into()))),
            3
        );
        assert_eq!(
            code(ControllerError::InvalidReplicationFactor("3 > 1".into())),
            38
        );
        assert_eq!(
            code(ControllerError::InvalidReplicaAssignment("x".into())),
            39
        );
        assert_eq!(code(ControllerError::NotController { leader: None }), 41);
        assert_eq!(code(ControllerError::TimedOut), 7);
    }
}
