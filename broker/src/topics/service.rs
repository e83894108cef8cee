//! `Topics`: creating, deleting, growing and reconfiguring topics, keeping the durable
//! registry and the hosted partitions in step. Handlers go through this one service, so
//! the metadata quorum can later take the registry's place without touching them.
//!
//! Changes are serialised by one async mutex (they are rare); reads never wait for it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use petrel_storage::io::Disk;
use petrel_storage::Clock;
use tokio::sync::Mutex;
use tracing::info;

use super::{TopicError, TopicMeta, TopicRegistry};
use crate::partitions::PartitionManager;

#[derive(Debug)]
pub struct Topics {
    registry: TopicRegistry,
    pub partitions: PartitionManager,
    /// `auto.create.topics.enable`
    auto_create: bool,
    /// `num.partitions`: partitions of an auto-created topic.
    default_partitions: i32,
    changes: Mutex<()>,
}

impl Topics {
    /// Loads the registry and opens (recovers) every registered partition.
    pub async fn open(
        data_dir: &Path,
        disk: Disk,
        clock: Arc<dyn Clock>,
        auto_create: bool,
        default_partitions: i32,
    ) -> anyhow::Result<Topics> {
        let registry = TopicRegistry::load(data_dir)?;
        let partitions = PartitionManager::new(data_dir, disk, clock);
        partitions.remove_deletion_leftovers();
        for meta in registry.list() {
            partitions.ensure_topic(&meta).await?;
        }
        info!(topics = registry.list().len(), "topics loaded");
        Ok(Topics {
            registry,
            partitions,
            auto_create,
            default_partitions,
            changes: Mutex::new(()),
        })
    }

    pub fn get(&self, name: &str) -> Option<TopicMeta> {
        self.registry.get(name)
    }

    pub fn get_by_id(&self, id: uuid::Uuid) -> Option<TopicMeta> {
        self.registry.get_by_id(id)
    }

    pub fn list(&self) -> Vec<TopicMeta> {
        self.registry.list()
    }

    pub async fn create(
        &self,
        name: &str,
        partitions: i32,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<TopicMeta, TopicError> {
        let _change = self.changes.lock().await;
        let meta = self
            .registry
            .create(name, partitions, configs, validate_only)?;
        if !validate_only {
            self.partitions
                .ensure_topic(&meta)
                .await
                .map_err(|e| TopicError::Storage(e.to_string()))?;
            info!(topic = name, partitions, id = %meta.id, "topic created");
        }
        Ok(meta)
    }

    /// Creates `name` with the default partition count if auto-creation is on and the name
    /// is valid; returns the topic if it exists afterwards.
    pub async fn get_or_auto_create(&self, name: &str) -> Result<TopicMeta, TopicError> {
        if let Some(meta) = self.get(name) {
            return Ok(meta);
        }
        if !self.auto_create {
            return Err(TopicError::Unknown(name.to_string()));
        }
        match self
            .create(name, self.default_partitions, BTreeMap::new(), false)
            .await
        {
            // Another request created it meanwhile.
            Err(TopicError::AlreadyExists(_)) => self
                .get(name)
                .ok_or_else(|| TopicError::Unknown(name.to_string())),
            other => other,
        }
    }

    pub async fn delete(&self, name: &str) -> Result<TopicMeta, TopicError> {
        let _change = self.changes.lock().await;
        let meta = self.registry.delete(name)?;
        self.partitions.remove_topic(name).await;
        Ok(meta)
    }

    pub async fn add_partitions(
        &self,
        name: &str,
        count: i32,
        validate_only: bool,
    ) -> Result<TopicMeta, TopicError> {
        let _change = self.changes.lock().await;
        let meta = self
            .registry
            .set_partition_count(name, count, validate_only)?;
        if !validate_only {
            self.partitions
                .ensure_topic(&meta)
                .await
                .map_err(|e| TopicError::Storage(e.to_string()))?;
        }
        Ok(meta)
    }

    /// Edits a topic's overrides in place under the change lock (IncrementalAlterConfigs:
    /// read, modify and write as one step); the result is validated like `set_configs`.
    pub async fn update_configs(
        &self,
        name: &str,
        validate_only: bool,
        edit: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<TopicMeta, TopicError> {
        let _change = self.changes.lock().await;
        let mut configs = self.get(name).map(|meta| meta.configs).unwrap_or_default();
        edit(&mut configs);
        let meta = self.registry.set_configs(name, configs, validate_only)?;
        if !validate_only {
            self.partitions.apply_configs(&meta).await;
        }
        Ok(meta)
    }

    pub async fn set_configs(
        &self,
        name: &str,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<TopicMeta, TopicError> {
        let _change = self.changes.lock().await;
        let meta = self.registry.set_configs(name, configs, validate_only)?;
        if !validate_only {
            self.partitions.apply_configs(&meta).await;
        }
        Ok(meta)
    }
}
