//! OffsetCommitRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequest, OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::{ApiKey, GroupId};
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

use super::harness::*;

/// The crate's `OffsetCommitRequest` encodes 2-9; `ApiKey::OffsetCommit` says 2-10 (v10
/// identifies topics by id, which the struct's `topic_id` has no versions for).
const MAX_VERSION: i16 = 9;

fn partition(version: i16) -> impl Strategy<Value = OffsetCommitRequestPartition> {
    (
        any::<i32>(),
        any::<i64>(),
        field(version >= 6, any::<i32>(), -1),
        prop::option::of(text()),
        tags(version >= 8),
    )
        .prop_map(|(index, offset, epoch, metadata, unknown)| {
            let mut p = OffsetCommitRequestPartition::default();
            p.partition_index = index;
            p.committed_offset = offset;
            p.committed_leader_epoch = epoch;
            p.committed_metadata = metadata;
            p.unknown_tagged_fields = unknown;
            p
        })
}

fn topic(version: i16) -> impl Strategy<Value = OffsetCommitRequestTopic> {
    (
        topic_name(),
        prop::collection::vec(partition(version), 0..3),
        tags(version >= 8),
    )
        .prop_map(|(name, partitions, unknown)| {
            let mut t = OffsetCommitRequestTopic::default();
            t.name = name;
            t.partitions = partitions;
            t.unknown_tagged_fields = unknown;
            t
        })
}

fn request(version: i16) -> impl Strategy<Value = OffsetCommitRequest> {
    (
        text().prop_map(GroupId),
        any::<i32>(),
        text(),
        field(version >= 7, prop::option::of(text()), None),
        field(version <= 4, any::<i64>(), -1),
        prop::collection::vec(topic(version), 0..3),
        tags(version >= 8),
    )
        .prop_map(
            |(group_id, generation, member_id, instance, retention, topics, unknown)| {
                let mut r = OffsetCommitRequest::default();
                r.group_id = group_id;
                r.generation_id_or_member_epoch = generation;
                r.member_id = member_id;
                r.group_instance_id = instance;
                r.retention_time_ms = retention;
                r.topics = topics;
                r.unknown_tagged_fields = unknown;
                r
            },
        )
}

#[test]
fn offset_commit_decodes_like_the_oracle() {
    let range = ApiKey::OffsetCommit.valid_versions();
    check_decoder::<OffsetCommitRequest, _>(
        ApiKey::OffsetCommit,
        range.min..=MAX_VERSION,
        96,
        request,
    );
}

#[test]
fn offset_commit_partition_count_larger_than_body_is_refused() {
    // v2: group "g", generation 1, member "", retention -1, one topic "t" claiming i32::MAX
    // partitions with 14 bytes left.
    let mut body = vec![0, 1, b'g', 0, 0, 0, 1, 0, 0];
    body.extend_from_slice(&[0xff; 8]);
    body.extend_from_slice(&[0, 0, 0, 1, 0, 1, b't', 0x7f, 0xff, 0xff, 0xff]);
    body.extend_from_slice(&[0; 14]);
    let err = flatten(OffsetCommitRequest::decode_body(&body, 2).unwrap_err());
    assert!(
        matches!(
            err,
            WireError::CountExceedsRemaining {
                count: 2_147_483_647,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn offset_commit_null_topic_name_is_refused() {
    // v8: group "g", generation 1, member "", instance null, one topic with compact name
    // 0 = null.
    let body = [2, b'g', 0, 0, 0, 1, 1, 0, 2, 0, 1, 0, 0];
    let err = flatten(OffsetCommitRequest::decode_body(&body, 8).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}

#[test]
fn offset_commit_negative_metadata_length_is_refused() {
    // v5: group "", generation 0, member "", one topic "t", one partition 0 at offset 0
    // whose metadata length is -2 (only -1, null, is allowed).
    let mut body = vec![0, 0, 0, 0, 0, 0, 0, 0];
    body.extend_from_slice(&[0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1]);
    body.extend_from_slice(&[0; 12]);
    body.extend_from_slice(&[0xff, 0xfe]);
    let err = flatten(OffsetCommitRequest::decode_body(&body, 5).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-2));
}
