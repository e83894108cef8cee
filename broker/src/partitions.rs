//! The partitions this node hosts: one `PartitionLog` per topic partition, in Kafka's
//! layout `<data_dir>/<topic>-<partition>/`. Opened at start-up for every registered topic
//! (running each log's recovery), created when topics are created or grown, removed when
//! topics are deleted.
//!
//! On a single node every partition is led here with leader epoch 0; the replication work
//! adds followers, ISR and epochs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use petrel_storage::io::Disk;
use petrel_storage::{Clock, PartitionLog};
use tracing::{info, warn};
use uuid::Uuid;

use crate::producers::{BatchSequence, ProducerStates};
use crate::topics::{config_defs, TopicMeta};

/// Leader epoch of every partition on a single node.
pub const SINGLE_NODE_LEADER_EPOCH: i32 = 0;

/// One hosted partition.
#[derive(Debug)]
pub struct Partition {
    pub topic: String,
    pub topic_id: Uuid,
    pub index: i32,
    pub log: PartitionLog,
    pub leader_epoch: i32,
    /// Idempotent producers' sequence state; held across check-and-append so a retry and
    /// its original cannot both be written.
    pub producers: tokio::sync::Mutex<ProducerStates>,
}

type Key = (String, i32);

/// Rebuilds idempotent producers' sequence state from the active segment's batches.
/// Producers whose last batches are only in older segments have no state afterwards and
/// are told `UNKNOWN_PRODUCER_ID` on their next batch, on which clients reset (KIP-360).
async fn rebuild_producer_states(log: &PartitionLog) -> petrel_storage::Result<ProducerStates> {
    let mut states = ProducerStates::default();
    log.visit_active_segment_headers(|header| {
        if header.producer_id >= 0 {
            let batch = BatchSequence {
                producer_id: header.producer_id,
                producer_epoch: header.producer_epoch,
                base_sequence: header.base_sequence,
                last_offset_delta: header.last_offset_delta,
            };
            states.record(&batch, header.base_offset);
        }
    })
    .await?;
    Ok(states)
}

/// Every partition this node hosts.
#[derive(Debug)]
pub struct PartitionManager {
    data_dir: PathBuf,
    disk: Disk,
    clock: Arc<dyn Clock>,
    partitions: RwLock<HashMap<Key, Arc<Partition>>>,
}

impl PartitionManager {
    pub fn new(data_dir: &Path, disk: Disk, clock: Arc<dyn Clock>) -> PartitionManager {
        PartitionManager {
            data_dir: data_dir.to_path_buf(),
            disk,
            clock,
            partitions: RwLock::new(HashMap::new()),
        }
    }

    fn dir_of(&self, topic: &str, partition: i32) -> PathBuf {
        self.data_dir.join(format!("{topic}-{partition}"))
    }

    /// Opens (creating if needed) every partition of `meta` not yet open.
    pub async fn ensure_topic(&self, meta: &TopicMeta) -> petrel_storage::Result<()> {
        let log_config = config_defs::log_config(&meta.configs);
        for index in 0..meta.partitions {
            if self.get(&meta.name, index).is_some() {
                continue;
            }
            let log = PartitionLog::open(
                &self.dir_of(&meta.name, index),
                self.disk.clone(),
                log_config.clone(),
                self.clock.clone(),
            )
            .await?;
            let producers = rebuild_producer_states(&log).await?;
            let partition = Arc::new(Partition {
                topic: meta.name.clone(),
                topic_id: meta.id,
                index,
                log,
                leader_epoch: SINGLE_NODE_LEADER_EPOCH,
                producers: tokio::sync::Mutex::new(producers),
            });
            self.write().insert((meta.name.clone(), index), partition);
        }
        Ok(())
    }

    pub fn get(&self, topic: &str, partition: i32) -> Option<Arc<Partition>> {
        self.read().get(&(topic.to_string(), partition)).cloned()
    }

    /// Every hosted partition (for retention and DescribeLogDirs).
    pub fn all(&self) -> Vec<Arc<Partition>> {
        self.read().values().cloned().collect()
    }

    /// Applies a topic's (changed) configs to its open logs.
    pub async fn apply_configs(&self, meta: &TopicMeta) {
        let log_config = config_defs::log_config(&meta.configs);
        let partitions: Vec<Arc<Partition>> = self
            .read()
            .values()
            .filter(|p| p.topic == meta.name)
            .cloned()
            .collect();
        for partition in partitions {
            partition.log.set_config(log_config.clone()).await;
        }
    }

    /// Closes and deletes every partition of `topic`. The directories are first renamed
    /// (as Kafka does, `<dir>.<id>-delete`) so a crash mid-way leaves nothing that looks
    /// like a live partition; leftovers are removed at the next start.
    pub async fn remove_topic(&self, topic: &str) {
        let removed: Vec<Arc<Partition>> = {
            let mut partitions = self.write();
            let keys: Vec<Key> = partitions
                .keys()
                .filter(|(t, _)| t == topic)
                .cloned()
                .collect();
            keys.iter().filter_map(|k| partitions.remove(k)).collect()
        };
        for partition in removed {
            let dir = self.dir_of(topic, partition.index);
            let doomed = self.data_dir.join(format!(
                "{topic}-{}.{}-delete",
                partition.index,
                partition.topic_id.simple()
            ));
            if let Err(error) =
                std::fs::rename(&dir, &doomed).and_then(|()| std::fs::remove_dir_all(&doomed))
            {
                warn!(dir = %dir.display(), %error, "cannot remove a deleted topic's partition directory");
            }
        }
        info!(topic, "topic partitions deleted");
    }

    /// Removes directories left by interrupted topic deletions.
    pub fn remove_deletion_leftovers(&self) {
        let Ok(entries) = std::fs::read_dir(&self.data_dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().ends_with("-delete") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Key, Arc<Partition>>> {
        // Entries are inserted or removed whole, so a poisoned map is still consistent.
        self.partitions.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Key, Arc<Partition>>> {
        self.partitions.write().unwrap_or_else(|p| p.into_inner())
    }
}
