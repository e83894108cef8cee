//! Per-partition log settings, named and defaulted as Apache Kafka's topic configs
//! (`segment.bytes`, `segment.ms`, `index.interval.bytes`, `retention.ms`,
//! `retention.bytes`, `message.timestamp.type`, `cleanup.policy=compact`,
//! `delete.retention.ms`).

/// How a batch's timestamps are set (Kafka's `message.timestamp.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampType {
    /// Keep the producer's timestamps.
    #[default]
    CreateTime,
    /// Stamp every batch with the broker's clock at append.
    LogAppendTime,
}

/// Settings of one partition's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// Roll the active segment when it would exceed this size (`segment.bytes`).
    pub segment_bytes: u64,
    /// Roll the active segment when it is older than this (`segment.ms`).
    pub segment_ms: i64,
    /// Add an offset/time index entry after at least this many bytes (`index.interval.bytes`).
    pub index_interval_bytes: u64,
    /// Delete closed segments whose newest record is older than this; -1 = never
    /// (`retention.ms`).
    pub retention_ms: i64,
    /// Delete the oldest closed segments while the log is larger than this; -1 = no limit
    /// (`retention.bytes`).
    pub retention_bytes: i64,
    /// `message.timestamp.type`.
    pub timestamp_type: TimestampType,
    /// `cleanup.policy` includes `compact`: retention passes also compact the closed
    /// segments (see `PartitionLog::compact`). Deletion by age or size is governed by
    /// `retention_ms` / `retention_bytes` alone (-1 when the policy lacks `delete`).
    pub compact: bool,
    /// How long compaction keeps a tombstone (a record with a null value) after its
    /// segment was last modified, so that consumers catch the delete (`delete.retention.ms`).
    pub delete_retention_ms: i64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1024 * 1024 * 1024,
            segment_ms: 7 * 24 * 60 * 60 * 1000,
            index_interval_bytes: 4096,
            retention_ms: 7 * 24 * 60 * 60 * 1000,
            retention_bytes: -1,
            timestamp_type: TimestampType::CreateTime,
            compact: false,
            delete_retention_ms: 24 * 60 * 60 * 1000,
        }
    }
}
