//! The topic registry: which topics exist, their ids, partition counts and config
//! overrides. It is the single interface the rest of the broker uses for topic metadata;
//! the metadata-quorum work later puts a Raft-replicated image behind it.
//!
//! Until then the registry is durable in `<data_dir>/petrel-topics.json`, rewritten
//! atomically (temp file, fsync, rename, directory fsync) on every change, so topics
//! survive restarts. Topic names follow Kafka's rules.

pub mod config_defs;
pub mod service;

pub use service::Topics;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

const REGISTRY_FILE: &str = "petrel-topics.json";
/// Kafka's limit on topic name length.
const TOPIC_NAME_CHARS_MAX: usize = 249;

/// What the registry knows about one topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicMeta {
    pub name: String,
    pub id: Uuid,
    pub partitions: i32,
    /// Config overrides (names as in Kafka); defaults are not stored.
    pub configs: BTreeMap<String, String>,
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
    InvalidConfig(String),
    #[error("cannot persist topic metadata: {0}")]
    Storage(String),
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
            TopicError::InvalidPartitions(_) => E::InvalidPartitions.code(),
            TopicError::InvalidConfig(_) => E::InvalidConfig.code(),
            TopicError::Storage(_) => E::KafkaStorageError.code(),
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

/// The durable set of topics.
#[derive(Debug)]
pub struct TopicRegistry {
    path: PathBuf,
    topics: RwLock<BTreeMap<String, TopicMeta>>,
}

impl TopicRegistry {
    /// Loads the registry from `data_dir` (empty if the file does not exist yet).
    pub fn load(data_dir: &Path) -> anyhow::Result<TopicRegistry> {
        let path = data_dir.join(REGISTRY_FILE);
        let topics = match fs::read_to_string(&path) {
            Ok(text) => {
                let list: Vec<TopicMeta> = serde_json::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("corrupt {}: {e}", path.display()))?;
                list.into_iter().map(|t| (t.name.clone(), t)).collect()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
        };
        Ok(TopicRegistry {
            path,
            topics: RwLock::new(topics),
        })
    }

    pub fn get(&self, name: &str) -> Option<TopicMeta> {
        self.read().get(name).cloned()
    }

    pub fn get_by_id(&self, id: Uuid) -> Option<TopicMeta> {
        self.read().values().find(|t| t.id == id).cloned()
    }

    pub fn list(&self) -> Vec<TopicMeta> {
        self.read().values().cloned().collect()
    }

    /// Creates a topic (or only checks that it could be created, with `validate_only`).
    pub fn create(
        &self,
        name: &str,
        partitions: i32,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<TopicMeta, TopicError> {
        validate_name(name)?;
        if partitions < 1 {
            return Err(TopicError::InvalidPartitions(partitions));
        }
        for (key, value) in &configs {
            config_defs::validate(key, value).map_err(TopicError::InvalidConfig)?;
        }
        let mut topics = self.write();
        if topics.contains_key(name) {
            return Err(TopicError::AlreadyExists(name.to_string()));
        }
        // Kafka refuses names that differ only in '.' versus '_': both map to the same
        // metric names.
        let normalized = |n: &str| n.replace('.', "_");
        if let Some(existing) = topics.keys().find(|t| normalized(t) == normalized(name)) {
            return Err(TopicError::Collides(name.to_string(), existing.clone()));
        }
        let meta = TopicMeta {
            name: name.to_string(),
            id: Uuid::new_v4(),
            partitions,
            configs,
        };
        if !validate_only {
            topics.insert(name.to_string(), meta.clone());
            self.persist(&topics)?;
        }
        Ok(meta)
    }

    /// Removes a topic; returns what it was.
    pub fn delete(&self, name: &str) -> Result<TopicMeta, TopicError> {
        let mut topics = self.write();
        let meta = topics
            .remove(name)
            .ok_or_else(|| TopicError::Unknown(name.to_string()))?;
        self.persist(&topics)?;
        Ok(meta)
    }

    /// Raises a topic's partition count (Kafka never lowers it).
    pub fn set_partition_count(
        &self,
        name: &str,
        count: i32,
        validate_only: bool,
    ) -> Result<TopicMeta, TopicError> {
        let mut topics = self.write();
        let meta = topics
            .get_mut(name)
            .ok_or_else(|| TopicError::Unknown(name.to_string()))?;
        if count <= meta.partitions {
            return Err(TopicError::InvalidPartitions(count));
        }
        let mut updated = meta.clone();
        updated.partitions = count;
        if !validate_only {
            *meta = updated.clone();
            self.persist(&topics)?;
        }
        Ok(updated)
    }

    /// Replaces a topic's config overrides after validating every entry.
    pub fn set_configs(
        &self,
        name: &str,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<TopicMeta, TopicError> {
        for (key, value) in &configs {
            config_defs::validate(key, value).map_err(TopicError::InvalidConfig)?;
        }
        let mut topics = self.write();
        let meta = topics
            .get_mut(name)
            .ok_or_else(|| TopicError::Unknown(name.to_string()))?;
        let mut updated = meta.clone();
        updated.configs = configs;
        if !validate_only {
            *meta = updated.clone();
            self.persist(&topics)?;
        }
        Ok(updated)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, TopicMeta>> {
        // A panic while holding the lock cannot leave the map half-updated (every change is
        // a single insert/remove/assignment), so a poisoned lock is still consistent.
        self.topics
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, TopicMeta>> {
        self.topics
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Rewrites the registry file atomically.
    fn persist(&self, topics: &BTreeMap<String, TopicMeta>) -> Result<(), TopicError> {
        let list: Vec<&TopicMeta> = topics.values().collect();
        let text =
            serde_json::to_vec_pretty(&list).map_err(|e| TopicError::Storage(e.to_string()))?;
        let storage =
            |e: std::io::Error| TopicError::Storage(format!("{}: {e}", self.path.display()));
        crate::durable::write_atomically(&self.path, &text).map_err(storage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_survive_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let registry = TopicRegistry::load(dir.path()).unwrap();
        let orders = registry
            .create(
                "orders",
                6,
                BTreeMap::from([("retention.ms".into(), "1000".into())]),
                false,
            )
            .unwrap();
        registry.create("audit", 1, BTreeMap::new(), false).unwrap();
        assert!(registry.create("dry-run", 1, BTreeMap::new(), true).is_ok());
        registry.delete("audit").unwrap();
        registry.set_partition_count("orders", 8, false).unwrap();
        let reloaded = TopicRegistry::load(dir.path()).unwrap();
        let names: Vec<String> = reloaded.list().into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["orders"]);
        let loaded = reloaded.get("orders").unwrap();
        assert_eq!((loaded.id, loaded.partitions), (orders.id, 8));
        assert_eq!(reloaded.get_by_id(orders.id).unwrap().name, "orders");
    }

    #[test]
    fn refusals_carry_kafka_codes() {
        let dir = tempfile::tempdir().unwrap();
        let registry = TopicRegistry::load(dir.path()).unwrap();
        registry.create("t", 1, BTreeMap::new(), false).unwrap();
        assert_eq!(
            registry
                .create("t", 1, BTreeMap::new(), false)
                .unwrap_err()
                .code(),
            36
        );
        assert_eq!(
            registry
                .create("bad name", 1, BTreeMap::new(), false)
                .unwrap_err()
                .code(),
            17
        );
        assert_eq!(
            registry
                .create("..", 1, BTreeMap::new(), false)
                .unwrap_err()
                .code(),
            17
        );
        assert_eq!(
            registry
                .create(&"x".repeat(250), 1, BTreeMap::new(), false)
                .unwrap_err()
                .code(),
            17
        );
        assert_eq!(
            registry
                .create("u", 0, BTreeMap::new(), false)
                .unwrap_err()
                .code(),
            37
        );
        let bad_config = BTreeMap::from([("retention.ms".to_string(), "soon".to_string())]);
        assert_eq!(
            registry
                .create("v", 1, bad_config, false)
                .unwrap_err()
                .code(),
            40
        );
        assert_eq!(
            registry
                .set_partition_count("t", 1, false)
                .unwrap_err()
                .code(),
            37
        );
        assert_eq!(registry.delete("missing").unwrap_err().code(), 3);
    }
}
