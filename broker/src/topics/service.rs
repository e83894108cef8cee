//! `Topics`: the broker's one interface to topic metadata. Reads come from the local copy
//! of the quorum's image; changes are validated here (names, configs: the Kafka-facing
//! rules), decided and committed by the active controller, and awaited until this node's
//! image has applied them, so the request that made a change sees it at once.
//!
//! [`Topics::reconcile`] keeps the hosted partitions in step with the image: it opens the
//! partitions this node is a replica of, records their leader epochs, applies changed
//! configs and removes deleted topics. It runs after every local change and on every image
//! change (`run_reconciler`), so other nodes' changes arrive too.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::error::ResponseError;
use petrel_raft::controller::{ControllerReply, ControllerRequest};
use petrel_raft::image::MetadataImage;
use petrel_raft::quorum::Quorum;
use petrel_storage::io::Disk;
use petrel_storage::Clock;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{check_collision, config_defs, validate_name, TopicError, TopicMeta};
use crate::partitions::{Partition, PartitionManager};

/// How a new topic's replicas are chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replicas {
    /// This many per partition (-1: the controller's default), placed by the controller.
    Factor(i16),
    /// One broker list per partition, leader first.
    Assigned(Vec<Vec<i32>>),
}

#[derive(Debug)]
pub struct Topics {
    quorum: Arc<Quorum>,
    node_id: i32,
    pub partitions: PartitionManager,
    /// `auto.create.topics.enable`
    auto_create: bool,
    /// `num.partitions`: partitions of an auto-created topic.
    default_partitions: i32,
    /// How long a change may wait for the controller.
    request_timeout: Duration,
    /// What the last reconcile pass saw; held for the whole pass, so passes never overlap.
    reconciled: Mutex<Reconciled>,
}

/// The state of the last reconcile pass.
#[derive(Debug, Default)]
struct Reconciled {
    /// The image index it reconciled (a pass for the same image has nothing to do).
    applied_index: Option<u64>,
    /// Each topic's configs as applied to its logs (by id), so unchanged ones are not
    /// re-applied.
    configs: HashMap<uuid::Uuid, BTreeMap<String, String>>,
}

impl Topics {
    /// Opens (recovers) every partition the image places on this node.
    pub async fn open(
        quorum: Arc<Quorum>,
        data_dir: &Path,
        disk: Disk,
        clock: Arc<dyn Clock>,
        auto_create: bool,
        default_partitions: i32,
        request_timeout: Duration,
    ) -> anyhow::Result<Topics> {
        let partitions = PartitionManager::new(data_dir, disk, clock);
        partitions.remove_deletion_leftovers();
        let node_id = i32::try_from(quorum.node_id())?;
        let topics = Topics {
            quorum,
            node_id,
            partitions,
            auto_create,
            default_partitions,
            request_timeout,
            reconciled: Mutex::new(Reconciled::default()),
        };
        topics.reconcile().await?;
        info!(topics = topics.image().topics.len(), "topics loaded");
        Ok(topics)
    }

    /// The metadata image as this node last applied it.
    pub fn image(&self) -> Arc<MetadataImage> {
        self.quorum.image()
    }

    pub fn quorum(&self) -> &Quorum {
        &self.quorum
    }

    pub fn get(&self, name: &str) -> Option<TopicMeta> {
        let image = self.image();
        image
            .topics
            .get(name)
            .map(|entry| TopicMeta::from_image(name, entry))
    }

    pub fn get_by_id(&self, id: uuid::Uuid) -> Option<TopicMeta> {
        let image = self.image();
        let name = image.topic_ids.get(&id)?;
        image
            .topics
            .get(name)
            .map(|entry| TopicMeta::from_image(name, entry))
    }

    pub fn list(&self) -> Vec<TopicMeta> {
        self.image()
            .topics
            .iter()
            .map(|(name, entry)| TopicMeta::from_image(name, entry))
            .collect()
    }

    /// Sends a change to the controller and waits until this node has applied it.
    async fn change(&self, request: ControllerRequest) -> Result<ControllerReply, TopicError> {
        let reply = self.quorum.call(request, self.request_timeout).await?;
        if let ControllerReply::Committed { log_index } = reply {
            if !self
                .quorum
                .wait_applied(log_index, self.request_timeout)
                .await
            {
                return Err(TopicError::TimedOut);
            }
            self.reconcile()
                .await
                .map_err(|e| TopicError::Storage(e.to_string()))?;
        }
        Ok(reply)
    }

    /// Creates a topic with the controller's default replication factor.
    pub async fn create(
        &self,
        name: &str,
        partitions: i32,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<TopicMeta, TopicError> {
        self.create_with(
            name,
            partitions,
            Replicas::Factor(-1),
            configs,
            validate_only,
        )
        .await
    }

    pub async fn create_with(
        &self,
        name: &str,
        partitions: i32,
        replicas: Replicas,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<TopicMeta, TopicError> {
        validate_name(name)?;
        let (replication_factor, assignment) = match replicas {
            Replicas::Factor(factor) => (factor, None),
            Replicas::Assigned(lists) => (-1, Some(lists)),
        };
        if assignment.is_none() && partitions < 1 {
            return Err(TopicError::InvalidPartitions(partitions));
        }
        for (key, value) in &configs {
            config_defs::validate(key, value).map_err(TopicError::InvalidConfig)?;
        }
        if self.get(name).is_some() {
            return Err(TopicError::AlreadyExists(name.to_string()));
        }
        check_collision(name, self.image().topics.keys())?;
        let request = ControllerRequest::CreateTopic {
            name: name.to_string(),
            partitions,
            replication_factor,
            configs: configs.clone(),
            assignment,
            validate_only,
        };
        match self.change(request).await? {
            ControllerReply::Validated => Ok(TopicMeta {
                name: name.to_string(),
                id: uuid::Uuid::nil(),
                partitions,
                configs,
                layout: Vec::new(),
            }),
            _ => {
                let meta = self
                    .get(name)
                    .ok_or_else(|| TopicError::Unknown(name.to_string()))?;
                info!(topic = name, partitions = meta.partitions, id = %meta.id, "topic created");
                Ok(meta)
            }
        }
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
        let meta = self
            .get(name)
            .ok_or_else(|| TopicError::Unknown(name.to_string()))?;
        self.change(ControllerRequest::DeleteTopic {
            name: name.to_string(),
        })
        .await?;
        Ok(meta)
    }

    pub async fn add_partitions(
        &self,
        name: &str,
        count: i32,
        assignment: Option<Vec<Vec<i32>>>,
        validate_only: bool,
    ) -> Result<TopicMeta, TopicError> {
        let meta = self
            .get(name)
            .ok_or_else(|| TopicError::Unknown(name.to_string()))?;
        if count <= meta.partitions {
            return Err(TopicError::InvalidPartitions(count));
        }
        let request = ControllerRequest::CreatePartitions {
            name: name.to_string(),
            count,
            assignment,
            validate_only,
        };
        match self.change(request).await? {
            ControllerReply::Validated => Ok(TopicMeta {
                partitions: count,
                ..meta
            }),
            _ => self
                .get(name)
                .ok_or_else(|| TopicError::Unknown(name.to_string())),
        }
    }

    /// Edits a topic's overrides (IncrementalAlterConfigs: read, modify, write); the
    /// result is validated like `set_configs`.
    pub async fn update_configs(
        &self,
        name: &str,
        validate_only: bool,
        edit: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<TopicMeta, TopicError> {
        let mut configs = self.get(name).map(|meta| meta.configs).unwrap_or_default();
        edit(&mut configs);
        self.set_configs(name, configs, validate_only).await
    }

    pub async fn set_configs(
        &self,
        name: &str,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<TopicMeta, TopicError> {
        for (key, value) in &configs {
            config_defs::validate(key, value).map_err(TopicError::InvalidConfig)?;
        }
        let meta = self
            .get(name)
            .ok_or_else(|| TopicError::Unknown(name.to_string()))?;
        if validate_only {
            return Ok(TopicMeta { configs, ..meta });
        }
        self.change(ControllerRequest::AlterConfigs {
            name: name.to_string(),
            configs,
        })
        .await?;
        self.get(name)
            .ok_or_else(|| TopicError::Unknown(name.to_string()))
    }

    /// The hosted partition `index` of `name` if this node leads it; otherwise the error
    /// a Kafka client acts on (refresh metadata and go to the leader).
    pub fn led_partition(&self, name: &str, index: i32) -> Result<Arc<Partition>, ResponseError> {
        let image = self.image();
        let entry = image
            .topics
            .get(name)
            .and_then(|topic| {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| topic.partitions.get(i))
            })
            .ok_or(ResponseError::UnknownTopicOrPartition)?;
        if entry.leader != self.node_id {
            return Err(ResponseError::NotLeaderOrFollower);
        }
        match self.partitions.get(name, index) {
            Some(partition) if partition.is_leader() => Ok(partition),
            // The image says so, but the reconciler has not opened it yet.
            _ => Err(ResponseError::NotLeaderOrFollower),
        }
    }

    /// Brings the hosted partitions in line with the image (see the module docs).
    pub async fn reconcile(&self) -> petrel_storage::Result<()> {
        let mut reconciled = self.reconciled.lock().await;
        let image = self.image();
        if reconciled.applied_index == Some(image.applied_index) {
            // The change that asked for this pass was already reconciled by another one.
            return Ok(());
        }
        let hosted = self.partitions.hosted_topics();
        for (name, entry) in &image.topics {
            let meta = TopicMeta::from_image(name, entry);
            if hosted.get(name).is_some_and(|id| *id != entry.id) {
                // Deleted and created again under the same name since the last pass.
                self.partitions.remove_topic(name).await;
            }
            let mine: Vec<i32> = (0..meta.partitions)
                .filter(|index| {
                    meta.partition(*index)
                        .is_some_and(|p| p.replicas.contains(&self.node_id))
                })
                .collect();
            self.partitions.ensure_partitions(&meta, &mine).await?;
            if reconciled.configs.get(&entry.id) != Some(&entry.configs) {
                self.partitions.apply_configs(&meta).await;
                reconciled.configs.insert(entry.id, entry.configs.clone());
            }
        }
        self.partitions.set_leadership(&image, self.node_id);
        for name in hosted.keys() {
            if !image.topics.contains_key(name) {
                self.partitions.remove_topic(name).await;
            }
        }
        reconciled
            .configs
            .retain(|id, _| image.topic_ids.contains_key(id));
        reconciled.applied_index = Some(image.applied_index);
        Ok(())
    }

    /// Reconciles on every image change until `shutdown`.
    pub async fn run_reconciler(&self, shutdown: CancellationToken) {
        let mut changes = self.quorum.subscribe();
        loop {
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                () = shutdown.cancelled() => return,
            }
            if let Err(error) = self.reconcile().await {
                warn!(%error, "cannot open or remove partitions for a metadata change");
            }
        }
    }
}
