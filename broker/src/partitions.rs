//! The partitions this node hosts: one `PartitionLog` per topic partition it is a replica
//! of, in Kafka's layout `<data_dir>/<topic>-<partition>/`. `Topics::reconcile` opens them
//! (running each log's recovery) as the metadata image places them here, records whether
//! this node leads each one and with which leader epoch, and removes deleted topics.
//!
//! Data replication to followers is not built yet: a follower replica is an open, empty
//! log until it leads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, RwLock};

use petrel_raft::image::MetadataImage;
use petrel_storage::io::Disk;
use petrel_storage::{Clock, PartitionLog};
use tracing::{info, warn};
use uuid::Uuid;

use crate::producers::{BatchSequence, ProducerStates};
use crate::topics::{config_defs, TopicMeta};

/// One hosted partition.
#[derive(Debug)]
pub struct Partition {
    pub topic: String,
    pub topic_id: Uuid,
    pub index: i32,
    pub log: PartitionLog,
    /// The leader epoch from the image (stamped into appended batches).
    leader_epoch: AtomicI32,
    /// Whether the image makes this node the partition's leader.
    leads: AtomicBool,
    /// Idempotent producers' sequence state; held across check-and-append so a retry and
    /// its original cannot both be written.
    pub producers: tokio::sync::Mutex<ProducerStates>,
}

type Key = (String, i32);

/// Kafka's check of the leader epoch a client sends (-1 when it knows none): newer than
/// ours means this node has not seen the change yet, older means the client's metadata is
/// stale.
pub fn check_leader_epoch(
    client_epoch: i32,
    current: i32,
) -> Result<(), kafka_protocol::error::ResponseError> {
    use kafka_protocol::error::ResponseError;
    if client_epoch > current {
        Err(ResponseError::UnknownLeaderEpoch)
    } else if (0..current).contains(&client_epoch) {
        Err(ResponseError::FencedLeaderEpoch)
    } else {
        Ok(())
    }
}

/// File in the partition directory holding the producers' state as of an offset.
const PRODUCER_SNAPSHOT_FILE: &str = "petrel-producer-state.json";

/// Producers' sequence state and the log end offset it reflects.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ProducerSnapshot {
    end_offset: i64,
    states: ProducerStates,
}

/// Loads idempotent producers' sequence state: the last snapshot, brought up to date by
/// replaying the batch headers written after it. Without a usable snapshot (none yet, or
/// taken beyond a log end that was since truncated) the whole log is replayed. Producers
/// whose batches are all gone (retention) have no state afterwards and are told
/// `UNKNOWN_PRODUCER_ID` on their next batch, on which clients reset (KIP-360).
async fn load_producer_states(log: &PartitionLog) -> petrel_storage::Result<ProducerStates> {
    let path = log.dir().join(PRODUCER_SNAPSHOT_FILE);
    let snapshot = std::fs::read(&path)
        .ok()
        .and_then(|bytes| match serde_json::from_slice::<ProducerSnapshot>(&bytes) {
            Ok(snapshot) => Some(snapshot),
            Err(error) => {
                warn!(path = %path.display(), %error, "ignoring an unreadable producer snapshot");
                None
            }
        })
        .filter(|s| s.end_offset <= log.log_end_offset());
    let (mut states, from_offset) = match snapshot {
        Some(snapshot) => (snapshot.states, snapshot.end_offset),
        None => (ProducerStates::default(), i64::MIN),
    };
    log.visit_headers_from(from_offset, |header| {
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

impl Partition {
    pub fn leader_epoch(&self) -> i32 {
        self.leader_epoch.load(Ordering::Acquire)
    }

    /// Whether this node leads the partition (produce and fetch are served only then).
    pub fn is_leader(&self) -> bool {
        self.leads.load(Ordering::Acquire)
    }

    /// Writes the producers' state with the log end offset it reflects, so the next start
    /// replays only the batches after it. Taken under the producers' lock, which every
    /// idempotent append holds, so the state and the offset agree.
    pub async fn snapshot_producers(&self) -> std::io::Result<()> {
        let contents = {
            let states = self.producers.lock().await;
            serde_json::to_vec(&ProducerSnapshot {
                end_offset: self.log.log_end_offset(),
                states: states.clone(),
            })?
        };
        let path = self.log.dir().join(PRODUCER_SNAPSHOT_FILE);
        tokio::task::spawn_blocking(move || crate::durable::write_atomically(&path, &contents))
            .await
            .map_err(std::io::Error::other)?
    }
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

    /// The data directory's I/O counters (fdatasyncs, writes); tests read them to see what
    /// a request made durable.
    pub fn disk_stats(&self) -> petrel_storage::io::DiskStats {
        self.disk.stats()
    }

    fn dir_of(&self, topic: &str, partition: i32) -> PathBuf {
        self.data_dir.join(format!("{topic}-{partition}"))
    }

    /// Opens (creating if needed) the partitions `indexes` of `meta` not yet open.
    pub async fn ensure_partitions(
        &self,
        meta: &TopicMeta,
        indexes: &[i32],
    ) -> petrel_storage::Result<()> {
        let log_config = config_defs::log_config(&meta.configs);
        for &index in indexes {
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
            let producers = load_producer_states(&log).await?;
            let partition = Arc::new(Partition {
                topic: meta.name.clone(),
                topic_id: meta.id,
                index,
                log,
                leader_epoch: AtomicI32::new(0),
                leads: AtomicBool::new(false),
                producers: tokio::sync::Mutex::new(producers),
            });
            self.write().insert((meta.name.clone(), index), partition);
        }
        Ok(())
    }

    /// Records, for every hosted partition, whether `node_id` leads it in `image` and the
    /// current leader epoch.
    pub fn set_leadership(&self, image: &MetadataImage, node_id: i32) {
        for partition in self.read().values() {
            let entry = image.topics.get(&partition.topic).and_then(|topic| {
                usize::try_from(partition.index)
                    .ok()
                    .and_then(|i| topic.partitions.get(i))
            });
            if let Some(entry) = entry {
                partition
                    .leader_epoch
                    .store(entry.leader_epoch, Ordering::Release);
                partition
                    .leads
                    .store(entry.leader == node_id, Ordering::Release);
            }
        }
    }

    /// Each topic with a partition open here, and its id.
    pub fn hosted_topics(&self) -> HashMap<String, Uuid> {
        self.read()
            .values()
            .map(|p| (p.topic.clone(), p.topic_id))
            .collect()
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
