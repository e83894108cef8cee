//! Encoding and decoding of the four `__consumer_offsets` schemas, version by version.
//!
//! Field order and presence follow Kafka's JSON schemas exactly:
//! - `OffsetCommitKey` / `GroupMetadataKey`: a single, non-flexible version;
//! - `OffsetCommitValue`: offset (0+), leaderEpoch (3+), metadata (0+), commitTimestamp
//!   (0+), expireTimestamp (1 only); flexible from 4;
//! - `GroupMetadataValue`: protocolType, generation, protocol (nullable), leader (nullable),
//!   currentStateTimestamp (2+), members; each member: memberId, groupInstanceId (3+,
//!   nullable), clientId, clientHost, rebalanceTimeout (1+), sessionTimeout, subscription,
//!   assignment; flexible from 4.
//!
//! Fields a version lacks are dropped on write (they are all `ignorable` in the schemas, so
//! Kafka's generated code drops them too) and take their defaults on read.

use bytes::Bytes;

use super::wire::{Reader, Writer};
use super::{
    DecodedKey, GroupMetadataKey, GroupMetadataValue, MemberMetadata, OffsetCommitKey,
    OffsetCommitValue, RecordError, RecordKey, GROUP_METADATA_KEY_VERSION,
    GROUP_METADATA_VALUE_VERSION, LEGACY_OFFSET_COMMIT_KEY_VERSION, MAX_VALUE_VERSION,
    NO_LEADER_EPOCH, NO_TIMESTAMP, OFFSET_COMMIT_KEY_VERSION, OFFSET_COMMIT_VALUE_VERSION,
    OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY,
};

/// The first flexible version of both values.
const FIRST_FLEXIBLE_VERSION: i16 = 4;

/// Encodes a key: offsets as key version 1, groups as key version 2 (what Kafka writes).
pub fn encode_key(key: &RecordKey) -> Result<Bytes, RecordError> {
    let mut w = Writer::new();
    match key {
        RecordKey::Offset(k) => {
            w.i16(OFFSET_COMMIT_KEY_VERSION);
            w.string("OffsetCommitKey.group", &k.group, false)?;
            w.string("OffsetCommitKey.topic", &k.topic, false)?;
            w.i32(k.partition);
        }
        RecordKey::Group(k) => {
            w.i16(GROUP_METADATA_KEY_VERSION);
            w.string("GroupMetadataKey.group", &k.group, false)?;
        }
    }
    Ok(w.finish())
}

/// Decodes a key. Key versions 0 and 1 are committed offsets, 2 is group metadata; any other
/// version (the KIP-848 and later record types) is [`DecodedKey::Unknown`], to be skipped.
/// A known key must span the whole input.
pub fn decode_key(buf: &[u8]) -> Result<DecodedKey, RecordError> {
    let mut r = Reader::new(buf);
    let version = r.i16("key version")?;
    let key = match version {
        LEGACY_OFFSET_COMMIT_KEY_VERSION | OFFSET_COMMIT_KEY_VERSION => {
            let group = r.string("OffsetCommitKey.group", false)?;
            let topic = r.string("OffsetCommitKey.topic", false)?;
            let partition = r.i32("OffsetCommitKey.partition")?;
            r.finish("OffsetCommitKey")?;
            RecordKey::Offset(OffsetCommitKey {
                group,
                topic,
                partition,
            })
        }
        GROUP_METADATA_KEY_VERSION => {
            let group = r.string("GroupMetadataKey.group", false)?;
            r.finish("GroupMetadataKey")?;
            RecordKey::Group(GroupMetadataKey { group })
        }
        other => return Ok(DecodedKey::Unknown { version: other }),
    };
    Ok(DecodedKey::Known(key))
}

fn check_value_version(what: &'static str, version: i16) -> Result<(), RecordError> {
    if (0..=MAX_VALUE_VERSION).contains(&version) {
        Ok(())
    } else {
        Err(RecordError::UnsupportedVersion {
            what,
            version,
            max: MAX_VALUE_VERSION,
        })
    }
}

/// The `OffsetCommitValue` version Kafka writes for this value: 1 when it carries an explicit
/// expiry (`expire_timestamp_ms != -1`), else 3.
pub fn offset_value_version(value: &OffsetCommitValue) -> i16 {
    if value.expire_timestamp_ms != NO_TIMESTAMP {
        OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY
    } else {
        OFFSET_COMMIT_VALUE_VERSION
    }
}

/// Encodes an offset-commit value in the version Kafka writes ([`offset_value_version`]).
/// Version 1 has no leader epoch: like Kafka, a commit with an explicit expiry loses it.
pub fn encode_offset_value(value: &OffsetCommitValue) -> Result<Bytes, RecordError> {
    encode_offset_value_version(value, offset_value_version(value))
}

/// Encodes an offset-commit value in the given version (0-4), dropping the fields that
/// version lacks.
pub fn encode_offset_value_version(
    value: &OffsetCommitValue,
    version: i16,
) -> Result<Bytes, RecordError> {
    check_value_version("OffsetCommitValue", version)?;
    let flexible = version >= FIRST_FLEXIBLE_VERSION;
    let mut w = Writer::new();
    w.i16(version);
    w.i64(value.offset);
    if version >= 3 {
        w.i32(value.leader_epoch);
    }
    w.string("OffsetCommitValue.metadata", &value.metadata, flexible)?;
    w.i64(value.commit_timestamp_ms);
    if version == 1 {
        w.i64(value.expire_timestamp_ms);
    }
    if flexible {
        w.no_tagged_fields();
    }
    Ok(w.finish())
}

/// Decodes an offset-commit value of any version 0-4. The value must span the whole input.
pub fn decode_offset_value(buf: &[u8]) -> Result<OffsetCommitValue, RecordError> {
    let mut r = Reader::new(buf);
    let version = r.i16("OffsetCommitValue version")?;
    check_value_version("OffsetCommitValue", version)?;
    let flexible = version >= FIRST_FLEXIBLE_VERSION;
    let offset = r.i64("OffsetCommitValue.offset")?;
    let leader_epoch = if version >= 3 {
        r.i32("OffsetCommitValue.leaderEpoch")?
    } else {
        NO_LEADER_EPOCH
    };
    let metadata = r.string("OffsetCommitValue.metadata", flexible)?;
    let commit_timestamp_ms = r.i64("OffsetCommitValue.commitTimestamp")?;
    let expire_timestamp_ms = if version == 1 {
        r.i64("OffsetCommitValue.expireTimestamp")?
    } else {
        NO_TIMESTAMP
    };
    if flexible {
        r.skip_tagged_fields("OffsetCommitValue tagged fields")?;
    }
    r.finish("OffsetCommitValue")?;
    Ok(OffsetCommitValue {
        offset,
        leader_epoch,
        metadata,
        commit_timestamp_ms,
        expire_timestamp_ms,
    })
}

/// Encodes a group-metadata value in the version Kafka writes (3).
pub fn encode_group_value(value: &GroupMetadataValue) -> Result<Bytes, RecordError> {
    encode_group_value_version(value, GROUP_METADATA_VALUE_VERSION)
}

/// Encodes a group-metadata value in the given version (0-4), dropping the fields that
/// version lacks.
pub fn encode_group_value_version(
    value: &GroupMetadataValue,
    version: i16,
) -> Result<Bytes, RecordError> {
    check_value_version("GroupMetadataValue", version)?;
    let flexible = version >= FIRST_FLEXIBLE_VERSION;
    let mut w = Writer::new();
    w.i16(version);
    w.string(
        "GroupMetadataValue.protocolType",
        &value.protocol_type,
        flexible,
    )?;
    w.i32(value.generation);
    w.nullable_string(
        "GroupMetadataValue.protocol",
        value.protocol.as_deref(),
        flexible,
    )?;
    w.nullable_string(
        "GroupMetadataValue.leader",
        value.leader.as_deref(),
        flexible,
    )?;
    if version >= 2 {
        w.i64(value.current_state_timestamp_ms);
    }
    w.array_len("GroupMetadataValue.members", value.members.len(), flexible)?;
    for member in &value.members {
        encode_member(&mut w, member, version, flexible)?;
    }
    if flexible {
        w.no_tagged_fields();
    }
    Ok(w.finish())
}

fn encode_member(
    w: &mut Writer,
    member: &MemberMetadata,
    version: i16,
    flexible: bool,
) -> Result<(), RecordError> {
    w.string("MemberMetadata.memberId", &member.member_id, flexible)?;
    if version >= 3 {
        w.nullable_string(
            "MemberMetadata.groupInstanceId",
            member.group_instance_id.as_deref(),
            flexible,
        )?;
    }
    w.string("MemberMetadata.clientId", &member.client_id, flexible)?;
    w.string("MemberMetadata.clientHost", &member.client_host, flexible)?;
    if version >= 1 {
        w.i32(member.rebalance_timeout_ms);
    }
    w.i32(member.session_timeout_ms);
    w.bytes(
        "MemberMetadata.subscription",
        &member.subscription,
        flexible,
    )?;
    w.bytes("MemberMetadata.assignment", &member.assignment, flexible)?;
    if flexible {
        w.no_tagged_fields();
    }
    Ok(())
}

/// Decodes a group-metadata value of any version 0-4. The value must span the whole input.
/// A member's rebalance timeout that is absent (version 0) or -1 is its session timeout, as
/// Kafka loads it.
pub fn decode_group_value(buf: &[u8]) -> Result<GroupMetadataValue, RecordError> {
    let mut r = Reader::new(buf);
    let version = r.i16("GroupMetadataValue version")?;
    check_value_version("GroupMetadataValue", version)?;
    let flexible = version >= FIRST_FLEXIBLE_VERSION;
    let protocol_type = r.string("GroupMetadataValue.protocolType", flexible)?;
    let generation = r.i32("GroupMetadataValue.generation")?;
    let protocol = r.nullable_string("GroupMetadataValue.protocol", flexible)?;
    let leader = r.nullable_string("GroupMetadataValue.leader", flexible)?;
    let current_state_timestamp_ms = if version >= 2 {
        r.i64("GroupMetadataValue.currentStateTimestamp")?
    } else {
        NO_TIMESTAMP
    };
    let count = r.array_len("GroupMetadataValue.members", flexible)?;
    let mut members = Vec::new();
    for _ in 0..count {
        members.push(decode_member(&mut r, version, flexible)?);
    }
    if flexible {
        r.skip_tagged_fields("GroupMetadataValue tagged fields")?;
    }
    r.finish("GroupMetadataValue")?;
    Ok(GroupMetadataValue {
        protocol_type,
        generation,
        protocol,
        leader,
        current_state_timestamp_ms,
        members,
    })
}

fn decode_member(
    r: &mut Reader<'_>,
    version: i16,
    flexible: bool,
) -> Result<MemberMetadata, RecordError> {
    let member_id = r.string("MemberMetadata.memberId", flexible)?;
    let group_instance_id = if version >= 3 {
        r.nullable_string("MemberMetadata.groupInstanceId", flexible)?
    } else {
        None
    };
    let client_id = r.string("MemberMetadata.clientId", flexible)?;
    let client_host = r.string("MemberMetadata.clientHost", flexible)?;
    // Absent before v1; -1 is the schema's default. Kafka loads either as the session
    // timeout (`GroupMetadataManager.replay` in 4.x, `readGroupMessageValue` before).
    let rebalance_timeout = if version >= 1 {
        Some(r.i32("MemberMetadata.rebalanceTimeout")?).filter(|t| *t != -1)
    } else {
        None
    };
    let session_timeout_ms = r.i32("MemberMetadata.sessionTimeout")?;
    let subscription = r.bytes("MemberMetadata.subscription", flexible)?;
    let assignment = r.bytes("MemberMetadata.assignment", flexible)?;
    if flexible {
        r.skip_tagged_fields("MemberMetadata tagged fields")?;
    }
    Ok(MemberMetadata {
        member_id,
        group_instance_id,
        client_id,
        client_host,
        rebalance_timeout_ms: rebalance_timeout.unwrap_or(session_timeout_ms),
        session_timeout_ms,
        subscription,
        assignment,
    })
}
