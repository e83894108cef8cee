//! DescribeLogDirs (key 35): the node's one log directory (`data_dir`) and the size of
//! every hosted partition in it, all of them when `topics` is null or else the ones asked
//! for, as Kafka's `ReplicaManager.describeLogDirs` reports them.
//!
//! The directory is named by its absolute path (Kafka's `toAbsolutePath`, not resolving
//! links). Partitions asked for but not hosted are simply absent, and topics left with no
//! partitions are dropped, as in Kafka. A leader's offset lag is 0 and there are no future
//! (moving) replicas. An unreadable directory is reported as `KAFKA_STORAGE_ERROR` on its
//! entry. v4 adds the volume's total and usable bytes, -1 (the schema default, "unknown")
//! when they cannot be read; [`volume_space`] cannot read them yet (no `statvfs` in std).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::context::BrokerContext;

/// Space on the volume holding a directory, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VolumeSpace {
    pub total_bytes: i64,
    pub usable_bytes: i64,
}

pub async fn handle(
    ctx: &BrokerContext,
    version: i16,
    request: &DescribeLogDirsRequest,
) -> DescribeLogDirsResponse {
    let data_dir = &ctx.config.data_dir;
    let log_dir = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.clone());
    let mut result = DescribeLogDirsResult::default()
        .with_log_dir(StrBytes::from_string(log_dir.display().to_string()));
    if std::fs::metadata(&log_dir).is_err() {
        result.error_code = ResponseError::KafkaStorageError.code();
    } else {
        result.topics = hosted_topics(ctx, request).await;
        if version >= 4 {
            if let Some(space) = volume_space(&log_dir) {
                result.total_bytes = space.total_bytes;
                result.usable_bytes = space.usable_bytes;
            }
        }
    }
    DescribeLogDirsResponse::default().with_results(vec![result])
}

/// The hosted partitions the request asks for, grouped by topic, in name and index order.
async fn hosted_topics(
    ctx: &BrokerContext,
    request: &DescribeLogDirsRequest,
) -> Vec<DescribeLogDirsTopic> {
    let wanted: Option<HashSet<(&str, i32)>> = request.topics.as_ref().map(|topics| {
        topics
            .iter()
            .flat_map(|t| t.partitions.iter().map(|p| (t.topic.0.as_str(), *p)))
            .collect()
    });
    let mut by_topic: BTreeMap<String, Vec<DescribeLogDirsPartition>> = BTreeMap::new();
    let mut hosted = ctx.topics.partitions.all();
    hosted.sort_by(|a, b| (&a.topic, a.index).cmp(&(&b.topic, b.index)));
    for partition in hosted {
        let asked = wanted
            .as_ref()
            .is_none_or(|w| w.contains(&(partition.topic.as_str(), partition.index)));
        if !asked {
            continue;
        }
        let size = i64::try_from(partition.log.size_bytes().await).unwrap_or(i64::MAX);
        by_topic.entry(partition.topic.clone()).or_default().push(
            DescribeLogDirsPartition::default()
                .with_partition_index(partition.index)
                .with_partition_size(size)
                .with_offset_lag(0)
                .with_is_future_key(false),
        );
    }
    by_topic
        .into_iter()
        .map(|(name, partitions)| {
            DescribeLogDirsTopic::default()
                .with_name(TopicName(StrBytes::from_string(name)))
                .with_partitions(partitions)
        })
        .collect()
}

/// Total and usable (available to unprivileged users) bytes of the volume holding `dir`,
/// as Java's `FileStore.getTotalSpace`/`getUsableSpace` that Kafka reports.
pub fn volume_space(dir: &Path) -> Option<VolumeSpace> {
    let stats = rustix::fs::statvfs(dir).ok()?;
    let bytes =
        |blocks: u64| i64::try_from(blocks.saturating_mul(stats.f_frsize)).unwrap_or(i64::MAX);
    Some(VolumeSpace {
        total_bytes: bytes(stats.f_blocks),
        usable_bytes: bytes(stats.f_bavail),
    })
}
