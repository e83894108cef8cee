//! The node's group coordinator: `petrel_groups`' I/O-free state machine, plus the I/O it
//! leaves to us — the `__consumer_offsets` topic its records go to, replay of that topic at
//! start-up, the clock, the timers, and handing each reply to the request waiting for it.
//!
//! One async mutex guards the coordinator. A call runs the state machine and appends the
//! records of its outcome while holding it, so records reach the log in the order the
//! state machine produced them; the fsync and the replies happen after it is released.
//! Replies may belong to other, parked requests (a JoinGroup waits for the whole group):
//! every request registers a one-shot channel under its [`ReplyToken`] before the call.
//!
//! On a single node every partition of `__consumer_offsets` is led here, so this node
//! coordinates every group; a group's records go to partition
//! `partition_for_group(group, partitions)`, as in Kafka.
//!
//! Not yet: compaction of `__consumer_offsets` (the storage engine has none), so the
//! topic only grows and start-up replays all of it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{
    Compression, Record as KafkaRecord, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use petrel_groups::coordinator::{
    errors, GroupConfig, GroupCoordinator, GroupState, Outcome, Record, Reply, ReplyToken,
};
use petrel_groups::records::{
    decode_group_value, decode_key, decode_offset_value, encode_group_value, encode_key,
    encode_offset_value, partition_for_group, GroupMetadataKey, OffsetCommitKey, RecordKey,
};
use petrel_protocol::records::{records, BatchIter};
use petrel_storage::Durability;
use tokio::sync::{oneshot, Mutex, Notify};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::context::BrokerContext;
use crate::metrics as m;
use crate::partitions::Partition;
use crate::topics::service::Replicas;
use crate::topics::{TopicError, Topics};

/// Kafka's internal topic for group metadata and committed offsets.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";
/// Bytes read per step while replaying `__consumer_offsets`.
const REPLAY_CHUNK_BYTES: u64 = 8 << 20;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The group coordinator of this node.
#[derive(Debug)]
pub struct GroupService {
    coordinator: Mutex<GroupCoordinator>,
    waiting: std::sync::Mutex<HashMap<u64, oneshot::Sender<Reply>>>,
    next_token: AtomicU64,
    /// `offsets.topic.num.partitions`
    partitions: i32,
    /// Woken when a call may have moved the next timer earlier.
    timers_changed: Notify,
}

impl GroupService {
    pub fn new(config: GroupConfig, partitions: i32) -> GroupService {
        let seed = uuid::Uuid::new_v4().as_u64_pair().0;
        GroupService {
            coordinator: Mutex::new(GroupCoordinator::new(config, seed)),
            waiting: std::sync::Mutex::new(HashMap::new()),
            next_token: AtomicU64::new(1),
            partitions,
            timers_changed: Notify::new(),
        }
    }

    /// The `__consumer_offsets` partition holding `group`'s records.
    pub fn partition_for(&self, group: &str) -> i32 {
        partition_for_group(group, self.partitions)
    }

    /// Creates `__consumer_offsets` if it does not exist yet (Kafka creates it on the first
    /// FindCoordinator for a group).
    pub async fn ensure_offsets_topic(&self, topics: &Topics) -> Result<(), TopicError> {
        if topics.get(OFFSETS_TOPIC).is_some() {
            return Ok(());
        }
        // Kafka's settings for the topic: compacted, 100 MiB segments.
        let configs = BTreeMap::from([
            ("cleanup.policy".to_string(), "compact".to_string()),
            ("segment.bytes".to_string(), "104857600".to_string()),
        ]);
        // Kafka's offsets.topic.replication.factor (3), capped at the live brokers so a
        // smaller cluster can still coordinate groups.
        let live = topics
            .image()
            .brokers
            .values()
            .filter(|broker| !broker.fenced)
            .count();
        let factor = i16::try_from(live.clamp(1, 3)).unwrap_or(1);
        match topics
            .create_with(
                OFFSETS_TOPIC,
                self.partitions,
                Replicas::Factor(factor),
                configs,
                false,
            )
            .await
        {
            Ok(_) | Err(TopicError::AlreadyExists(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Rebuilds every group from `__consumer_offsets` (start-up).
    pub async fn load(&self, topics: &Topics) -> anyhow::Result<()> {
        let Some(meta) = topics.get(OFFSETS_TOPIC) else {
            return Ok(());
        };
        let mut coordinator = self.coordinator.lock().await;
        let mut replayed = 0usize;
        for index in 0..meta.partitions {
            let Some(partition) = topics.partitions.get(OFFSETS_TOPIC, index) else {
                continue;
            };
            replayed += replay_partition(&partition, &mut coordinator).await?;
        }
        info!(
            records = replayed,
            groups = coordinator.groups().count(),
            "consumer groups loaded from {OFFSETS_TOPIC}"
        );
        drop(coordinator);
        self.apply(topics, |c, now| c.finish_load(now)).await;
        Ok(())
    }

    /// Runs a coordinator call whose reply may come later (JoinGroup, SyncGroup, ...), makes
    /// its records durable, and returns the reply for this request. `None` only if the
    /// coordinator never answers the token, which would be a bug in the state machine.
    pub async fn call(
        &self,
        topics: &Topics,
        op: impl FnOnce(&mut GroupCoordinator, i64, ReplyToken) -> Outcome,
    ) -> Option<Reply> {
        let token = ReplyToken(self.next_token.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        self.waiting_map().insert(token.0, tx);
        self.apply(topics, |c, now| op(c, now, token)).await;
        let reply = rx.await.ok();
        self.waiting_map().remove(&token.0);
        reply
    }

    /// Runs a coordinator change under the lock, appends its records in order, then (after
    /// the lock) makes them durable and hands out its replies. Every change goes through
    /// here: requests, timers, loading, and changes that answer no request (e.g. dropping
    /// a deleted topic's offsets).
    pub async fn apply(
        &self,
        topics: &Topics,
        op: impl FnOnce(&mut GroupCoordinator, i64) -> Outcome,
    ) {
        let (outcome, written) = {
            let mut coordinator = self.coordinator.lock().await;
            let outcome = op(&mut coordinator, now_ms());
            let written = self.append(topics, &outcome.records).await;
            (outcome, written)
        };
        self.finish(outcome, written).await;
    }

    /// Reads the coordinator's state (OffsetFetch, DescribeGroups, ListGroups).
    pub async fn read<T>(&self, f: impl FnOnce(&GroupCoordinator) -> T) -> T {
        f(&*self.coordinator.lock().await)
    }

    /// Fires the coordinators' timers (session expiry, join and sync phases, offset
    /// retention) until `shutdown`.
    pub async fn run_timers(ctx: Arc<BrokerContext>, shutdown: CancellationToken) {
        let (this, topics) = (&ctx.groups, &ctx.topics);
        this.timer_loop(topics, shutdown).await;
    }

    async fn timer_loop(&self, topics: &Topics, shutdown: CancellationToken) {
        loop {
            self.record_gauges().await;
            let next = self.coordinator.lock().await.next_deadline_ms();
            // Re-check at least every second: a call may have added an earlier timer
            // without us being parked on `timers_changed` at that moment.
            let wait_ms = next.map_or(1_000, |d| (d - now_ms()).clamp(0, 1_000));
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.timers_changed.notified() => continue,
                _ = tokio::time::sleep(Duration::from_millis(wait_ms as u64)) => {}
            }
            self.apply(topics, |c, now| c.tick(now)).await;
        }
    }

    /// Groups by state and members, for the metrics endpoint (refreshed by the timer loop,
    /// at least once a second, rather than on every request).
    async fn record_gauges(&self) {
        let (by_state, members) = self
            .read(|c| {
                let mut by_state: BTreeMap<&'static str, usize> =
                    GroupState::ALL.iter().map(|s| (s.as_str(), 0)).collect();
                let mut members = 0;
                for group in c.groups() {
                    *by_state.entry(group.state().as_str()).or_default() += 1;
                    members += group.member_count();
                }
                (by_state, members)
            })
            .await;
        for (state, count) in by_state {
            metrics::gauge!(m::GROUPS, "state" => state).set(count as f64);
        }
        metrics::gauge!(m::GROUP_MEMBERS).set(members as f64);
    }

    fn waiting_map(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Reply>>> {
        // Entries are inserted and removed whole; a poisoned map is still consistent.
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends `records` (page cache) to their `__consumer_offsets` partitions, in order.
    /// Returns the partitions written, to sync, or an error code for the replies.
    async fn append(&self, topics: &Topics, records: &[Record]) -> AppendResult {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        if let Err(error) = self.ensure_offsets_topic(topics).await {
            warn!(%error, "cannot create {OFFSETS_TOPIC}");
            return Err(errors::COORDINATOR_NOT_AVAILABLE);
        }
        // One batch per partition, records in their original order within it.
        let mut by_partition: BTreeMap<i32, Vec<KafkaRecord>> = BTreeMap::new();
        for record in records {
            let (group, key, value) = match encode_record(record) {
                Ok(encoded) => encoded,
                Err(error) => {
                    warn!(%error, "cannot encode a group record");
                    return Err(errors::UNKNOWN_SERVER_ERROR);
                }
            };
            let batch = by_partition.entry(self.partition_for(&group)).or_default();
            let offset = batch.len() as i64;
            batch.push(KafkaRecord {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset,
                // Non-idempotent batch: the encoder wants offset - sequence constant.
                sequence: offset as i32 - 1,
                timestamp: now_ms(),
                key: Some(key),
                value,
                headers: Default::default(),
            });
        }
        let mut written = Vec::new();
        for (index, batch) in by_partition {
            let Ok(partition) = topics.led_partition(OFFSETS_TOPIC, index) else {
                // Its leadership moved: the client finds the new coordinator.
                return Err(errors::NOT_COORDINATOR);
            };
            let mut bytes = BytesMut::new();
            let encoded = RecordBatchEncoder::encode(
                &mut bytes,
                &batch,
                &RecordEncodeOptions {
                    version: 2,
                    compression: Compression::None,
                },
            );
            if let Err(error) = encoded {
                warn!(%error, "cannot encode a {OFFSETS_TOPIC} batch");
                return Err(errors::UNKNOWN_SERVER_ERROR);
            }
            if let Err(error) = partition
                .log
                .append(bytes, partition.leader_epoch(), Durability::PageCache)
                .await
            {
                warn!(%error, partition = index, "cannot append to {OFFSETS_TOPIC}");
                return Err(errors::COORDINATOR_NOT_AVAILABLE);
            }
            written.push(partition);
        }
        Ok(written)
    }

    /// Makes the appended records durable, then sends the replies (as errors if the records
    /// could not be written: Kafka maps append failures to COORDINATOR_NOT_AVAILABLE).
    async fn finish(&self, outcome: Outcome, written: AppendResult) {
        let mut failure = written.as_ref().err().copied();
        if let Ok(partitions) = &written {
            for partition in partitions {
                if let Err(error) = partition.log.sync().await {
                    warn!(%error, "fdatasync of {OFFSETS_TOPIC} failed");
                    failure = Some(errors::COORDINATOR_NOT_AVAILABLE);
                }
            }
        }
        let mut waiting = self.waiting_map();
        for (token, reply) in outcome.replies {
            let reply = match failure {
                Some(code) => reply.with_error(code),
                None => reply,
            };
            record_reply_metrics(&reply);
            if let Some(tx) = waiting.remove(&token.0) {
                // The requester may have gone (connection closed): nothing to do.
                let _ = tx.send(reply);
            }
        }
        drop(waiting);
        self.timers_changed.notify_one();
    }
}

type AppendResult = Result<Vec<Arc<Partition>>, i16>;

/// Counts completed rebalances (once, through the leader's JoinGroup answer) and commits.
fn record_reply_metrics(reply: &Reply) {
    match reply {
        Reply::Join(join) if join.error_code == errors::NONE && join.member_id == join.leader => {
            metrics::counter!(m::GROUP_REBALANCES_TOTAL).increment(1);
        }
        Reply::OffsetCommit(results) => {
            for result in results {
                metrics::counter!(m::OFFSET_COMMITS_TOTAL, "result" => m::error_label(result.error_code))
                    .increment(1);
            }
        }
        _ => {}
    }
}

/// A coordinator record as (group id, key bytes, value bytes or None for a tombstone).
fn encode_record(
    record: &Record,
) -> Result<(String, Bytes, Option<Bytes>), petrel_groups::records::RecordError> {
    Ok(match record {
        Record::Group { key, value } => (
            key.group.clone(),
            encode_key(&RecordKey::Group(key.clone()))?,
            value.as_ref().map(encode_group_value).transpose()?,
        ),
        Record::Offset { key, value } => (
            key.group.clone(),
            encode_key(&RecordKey::Offset(key.clone()))?,
            value.as_ref().map(encode_offset_value).transpose()?,
        ),
    })
}

/// Replays one `__consumer_offsets` partition into the coordinator; returns the records
/// applied. Unreadable records are skipped with a warning (Kafka fails the load; we keep
/// serving the groups we can read).
async fn replay_partition(
    partition: &Partition,
    coordinator: &mut GroupCoordinator,
) -> anyhow::Result<usize> {
    let log = &partition.log;
    let end = log.log_end_offset();
    let mut from = log.log_start_offset().await;
    let mut applied = 0;
    while from < end {
        let (bytes, _) = log
            .read_to_memory(from, REPLAY_CHUNK_BYTES, end, true)
            .await?;
        if bytes.is_empty() {
            break;
        }
        for batch in BatchIter::new(&bytes) {
            let (header, range) = match batch {
                Ok(batch) => batch,
                Err(error) => {
                    warn!(%error, partition = partition.index, "unreadable {OFFSETS_TOPIC} batch");
                    return Ok(applied);
                }
            };
            from = header.last_offset() + 1;
            let Some(batch_bytes) = bytes.get(range) else {
                break;
            };
            for record in records(batch_bytes) {
                match record
                    .map_err(|e| e.to_string())
                    .and_then(|r| to_record(&r))
                {
                    Ok(Some(record)) => {
                        coordinator.replay_record(&record);
                        applied += 1;
                    }
                    Ok(None) => {}
                    Err(error) => {
                        warn!(%error, partition = partition.index, "skipping an unreadable {OFFSETS_TOPIC} record")
                    }
                }
            }
        }
    }
    Ok(applied)
}

/// A stored record back as a coordinator record; `None` for kinds we do not use (KIP-848
/// records, transaction markers).
fn to_record(record: &petrel_protocol::records::Record<'_>) -> Result<Option<Record>, String> {
    let Some(key) = record.key else {
        return Ok(None);
    };
    let Some(key) = decode_key(key).map_err(|e| e.to_string())?.known() else {
        return Ok(None);
    };
    Ok(Some(match key {
        RecordKey::Group(GroupMetadataKey { group }) => Record::Group {
            key: GroupMetadataKey { group },
            value: record
                .value
                .map(decode_group_value)
                .transpose()
                .map_err(|e| e.to_string())?,
        },
        RecordKey::Offset(key) => Record::Offset {
            key: OffsetCommitKey { ..key },
            value: record
                .value
                .map(decode_offset_value)
                .transpose()
                .map_err(|e| e.to_string())?,
        },
    }))
}
