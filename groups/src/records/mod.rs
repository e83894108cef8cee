//! The records of `__consumer_offsets`, in Apache Kafka's own key/value schemas.
//!
//! Placeholder types only: the codec (encode/decode of every schema version) is written by
//! the records work. The coordinator builds these values; the broker turns them into record
//! batches appended to the group's `__consumer_offsets` partition.

use bytes::Bytes;

/// Key of a committed-offset record (`OffsetCommitKey`, key versions 0 and 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OffsetCommitKey {
    pub group: String,
    pub topic: String,
    pub partition: i32,
}

/// Value of a committed-offset record (`OffsetCommitValue`, versions 0-4). `None` fields are
/// absent on the wire in the versions that do not carry them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitValue {
    pub offset: i64,
    /// -1 when unknown (v3+ carries it).
    pub leader_epoch: i32,
    pub metadata: String,
    pub commit_timestamp_ms: i64,
    /// Only version 1 carries an explicit expiry; -1 otherwise.
    pub expire_timestamp_ms: i64,
}

/// Key of a group-metadata record (`GroupMetadataKey`, key version 2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupMetadataKey {
    pub group: String,
}

/// Value of a group-metadata record (`GroupMetadataValue`, versions 0-4): the group after a
/// completed rebalance (or empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMetadataValue {
    pub protocol_type: String,
    pub generation: i32,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    /// v2+; -1 when absent.
    pub current_state_timestamp_ms: i64,
    pub members: Vec<MemberMetadata>,
}

/// One member inside [`GroupMetadataValue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberMetadata {
    pub member_id: String,
    /// v3+ (static membership, KIP-345).
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    /// v1+; in v0 it equals the session timeout.
    pub rebalance_timeout_ms: i32,
    pub session_timeout_ms: i32,
    /// The member's subscription for the chosen protocol.
    pub subscription: Bytes,
    pub assignment: Bytes,
}

/// A decoded `__consumer_offsets` key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordKey {
    Offset(OffsetCommitKey),
    Group(GroupMetadataKey),
}
