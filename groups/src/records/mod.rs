//! The records of `__consumer_offsets`, in Apache Kafka's own key/value schemas, so that what
//! Petrel writes there is what Kafka would write and what Kafka wrote can be replayed.
//!
//! The schemas are Kafka's `OffsetCommitKey`, `OffsetCommitValue`, `GroupMetadataKey` and
//! `GroupMetadataValue` (`group-coordinator/src/main/resources/common/message/`). A record key
//! is an int16 *key version* (since KIP-915 read as the record type) followed by the key
//! struct; a value is an int16 value version followed by the value struct:
//!
//! | key version | record | key fields | value versions |
//! |---|---|---|---|
//! | 0, 1 | committed offset | group, topic, partition | `OffsetCommitValue` 0-4 |
//! | 2 | group metadata (classic protocol) | group | `GroupMetadataValue` 0-4 |
//! | 3 and up | KIP-848 consumer / share / streams group records | | not decoded: [`DecodedKey::Unknown`] |
//!
//! Value version 4 is the first *flexible* version of both values (compact strings, bytes
//! and arrays; tagged fields), added by KIP-915.
//!
//! What is written ([`encode_key`], [`encode_offset_value`], [`encode_group_value`]):
//! - keys: version 1 for offsets and 2 for groups, as every Kafka since 0.9 writes them
//!   (Scala `GroupMetadataManager`'s `CURRENT_OFFSET_KEY_SCHEMA_VERSION = 1` and
//!   `CURRENT_GROUP_KEY_SCHEMA_VERSION = 2`; Kafka 4.x's `CoordinatorRecordType`
//!   `OFFSET_COMMIT = 1`, `GROUP_METADATA = 2`);
//! - `OffsetCommitValue`: version 1 when the commit carries an explicit expiry timestamp
//!   (the only version with that field), otherwise version 3. Kafka 2.1 to 4.0 write exactly
//!   this (`GroupMetadataManager.offsetCommitValue`, later
//!   `GroupCoordinatorRecordHelpers.offsetCommitValueVersion`). Kafka 4.1 and later write
//!   version 4 instead of 3, only to carry the tagged `topicId` (KAFKA-19141); Petrel keeps
//!   no topic id here, and version 3 holds everything it has while staying readable by every
//!   Kafka since 2.1 and by third-party decoders that predate version 4;
//! - `GroupMetadataValue`: version 3 (`GROUP_METADATA_VALUE_VERSION = 3` in Kafka 4.x's
//!   `GroupCoordinatorRecordHelpers`; version 3 for inter-broker protocol 2.3 and later in
//!   the Scala coordinator).
//!
//! Every version 0-4 of both values is decoded (unknown tagged fields are skipped). Tombstones
//! (a key with a null value) are the broker's business: the value codecs never see them.
//!
//! The groups' placement: [`partition_for_group`] is Kafka's
//! `Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions`.

mod codec;
mod wire;

#[cfg(test)]
mod tests;

use bytes::Bytes;

pub use codec::{
    decode_group_value, decode_key, decode_offset_value, encode_group_value,
    encode_group_value_version, encode_key, encode_offset_value, encode_offset_value_version,
    offset_value_version,
};

/// Key version of a committed offset written by Kafka before 0.9 (same fields as version 1).
pub const LEGACY_OFFSET_COMMIT_KEY_VERSION: i16 = 0;
/// Key version of a committed offset, as written.
pub const OFFSET_COMMIT_KEY_VERSION: i16 = 1;
/// Key version of a group-metadata record.
pub const GROUP_METADATA_KEY_VERSION: i16 = 2;
/// `OffsetCommitValue` version written for a commit without an explicit expiry.
pub const OFFSET_COMMIT_VALUE_VERSION: i16 = 3;
/// `OffsetCommitValue` version written for a commit with an explicit expiry timestamp.
pub const OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY: i16 = 1;
/// `GroupMetadataValue` version written.
pub const GROUP_METADATA_VALUE_VERSION: i16 = 3;
/// Highest value version of both values this codec reads and can write.
pub const MAX_VALUE_VERSION: i16 = 4;
/// Kafka's "no timestamp" (`OffsetCommitRequest.DEFAULT_TIMESTAMP`, and the default of
/// `currentStateTimestamp`).
pub const NO_TIMESTAMP: i64 = -1;
/// Kafka's "no leader epoch" (`RecordBatch.NO_PARTITION_LEADER_EPOCH`).
pub const NO_LEADER_EPOCH: i32 = -1;

/// Key of a committed-offset record (`OffsetCommitKey`, key versions 0 and 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OffsetCommitKey {
    pub group: String,
    pub topic: String,
    pub partition: i32,
}

/// Value of a committed-offset record (`OffsetCommitValue`, versions 0-4). Fields a version
/// does not carry decode to their defaults (-1).
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
    /// v1+; decoded as the session timeout from v0, or when -1 (as Kafka loads it).
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

/// What [`decode_key`] found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DecodedKey {
    /// A committed offset or a classic group's metadata.
    Known(RecordKey),
    /// A record type this codec does not handle: the KIP-848 consumer-group records (key
    /// versions 3-8), share and streams groups, or anything newer. Replay skips the record,
    /// as Kafka's loader does with an unknown record type (KIP-915); its body is not parsed.
    Unknown { version: i16 },
}

impl DecodedKey {
    /// The key, unless the record is to be skipped.
    pub fn known(self) -> Option<RecordKey> {
        match self {
            DecodedKey::Known(key) => Some(key),
            DecodedKey::Unknown { .. } => None,
        }
    }
}

/// Why a key or value could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The input ended inside a field.
    #[error("{field}: truncated at byte {at}: {needed} bytes needed, {available} left")]
    Truncated {
        field: &'static str,
        at: usize,
        needed: usize,
        available: usize,
    },
    /// The schema was fully read but bytes remain.
    #[error("{what}: {count} bytes left over after the last field")]
    TrailingBytes { what: &'static str, count: usize },
    /// A value version this codec does not know (values have no "skip" outcome: Kafka also
    /// fails the load on them).
    #[error("{what} version {version} is not supported (known: 0-{max})")]
    UnsupportedVersion {
        what: &'static str,
        version: i16,
        max: i16,
    },
    /// A null where the schema does not allow one.
    #[error("{field}: non-nullable field is null")]
    UnexpectedNull { field: &'static str },
    /// A length or count that is negative, over Kafka's limit, or more than the bytes left.
    #[error("{field}: invalid length {length}")]
    InvalidLength { field: &'static str, length: i64 },
    /// A string whose bytes are not UTF-8.
    #[error("{field}: string is not valid UTF-8")]
    InvalidUtf8 { field: &'static str },
    /// An unsigned varint longer than 5 bytes or above `u32::MAX`.
    #[error("{field}: malformed unsigned varint")]
    InvalidVarint { field: &'static str },
    /// On encoding: a field too long for its wire form (Kafka's limit for strings is 32767
    /// UTF-8 bytes, in every version).
    #[error("{field}: {length} bytes do not fit (at most {max})")]
    TooLong {
        field: &'static str,
        length: usize,
        max: usize,
    },
}

/// Java's `String.hashCode()`: `s[0]*31^(n-1) + ... + s[n-1]` over the UTF-16 code units,
/// in wrapping 32-bit arithmetic.
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |hash, unit| {
        hash.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The `__consumer_offsets` partition that owns `group`, as Kafka computes it:
/// `Utils.abs(groupId.hashCode()) % partitions`, where Kafka's `Utils.abs` maps
/// `Integer.MIN_VALUE` to 0 (not to itself as `Math.abs` would).
///
/// `partitions` is `offsets.topic.num.partitions` (50 by default) and must be positive; 0
/// or less (where Java would throw) gives 0.
pub fn partition_for_group(group: &str, partitions: i32) -> i32 {
    if partitions <= 0 {
        return 0;
    }
    let abs = java_string_hash(group).checked_abs().unwrap_or(0);
    abs % partitions
}
