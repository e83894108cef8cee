//! SyncGroupRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::sync_group_request::{SyncGroupRequest, SyncGroupRequestAssignment};
use kafka_protocol::messages::{ApiKey, GroupId};
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

use super::harness::*;

fn assignment(version: i16) -> impl Strategy<Value = SyncGroupRequestAssignment> {
    (text(), bytes(32), tags(version >= 4)).prop_map(|(member_id, data, unknown)| {
        let mut a = SyncGroupRequestAssignment::default();
        a.member_id = member_id;
        a.assignment = data;
        a.unknown_tagged_fields = unknown;
        a
    })
}

fn request(version: i16) -> impl Strategy<Value = SyncGroupRequest> {
    (
        (
            text().prop_map(GroupId),
            any::<i32>(),
            text(),
            field(version >= 3, prop::option::of(text()), None),
        ),
        (
            field(version >= 5, prop::option::of(text()), None),
            field(version >= 5, prop::option::of(text()), None),
            prop::collection::vec(assignment(version), 0..3),
            tags(version >= 4),
        ),
    )
        .prop_map(
            |(
                (group_id, generation_id, member_id, instance),
                (protocol_type, protocol_name, assignments, unknown),
            )| {
                let mut r = SyncGroupRequest::default();
                r.group_id = group_id;
                r.generation_id = generation_id;
                r.member_id = member_id;
                r.group_instance_id = instance;
                r.protocol_type = protocol_type;
                r.protocol_name = protocol_name;
                r.assignments = assignments;
                r.unknown_tagged_fields = unknown;
                r
            },
        )
}

#[test]
fn sync_group_decodes_like_the_oracle() {
    let range = ApiKey::SyncGroup.valid_versions();
    check_decoder::<SyncGroupRequest, _>(ApiKey::SyncGroup, range.min..=range.max, 96, request);
}

#[test]
fn sync_group_assignment_count_larger_than_body_is_refused() {
    // v0: group "g", generation 1, member "m", then i32::MAX assignments, 6 bytes left.
    let body = [
        0, 1, b'g', 0, 0, 0, 1, 0, 1, b'm', 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0,
    ];
    let err = flatten(SyncGroupRequest::decode_body(&body, 0).unwrap_err());
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
fn sync_group_assignment_longer_than_body_is_refused() {
    // v5: group "g", generation 1, member "", instance/type/name null, one assignment for
    // "m" claiming 100 bytes with 3 present.
    let body = [2, b'g', 0, 0, 0, 1, 1, 0, 0, 0, 2, 2, b'm', 101, 1, 2, 3];
    let err = flatten(SyncGroupRequest::decode_body(&body, 5).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}

#[test]
fn sync_group_null_member_id_is_refused() {
    // v4: group "g", generation 1, compact member id 0 = null.
    let body = [2, b'g', 0, 0, 0, 1, 0, 0, 1, 0];
    let err = flatten(SyncGroupRequest::decode_body(&body, 4).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}
