//! HeartbeatRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::{ApiKey, GroupId, HeartbeatRequest};
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

use super::harness::*;

fn request(version: i16) -> impl Strategy<Value = HeartbeatRequest> {
    (
        text().prop_map(GroupId),
        any::<i32>(),
        text(),
        field(version >= 3, prop::option::of(text()), None),
        tags(version >= 4),
    )
        .prop_map(
            |(group_id, generation_id, member_id, group_instance_id, unknown)| {
                let mut r = HeartbeatRequest::default();
                r.group_id = group_id;
                r.generation_id = generation_id;
                r.member_id = member_id;
                r.group_instance_id = group_instance_id;
                r.unknown_tagged_fields = unknown;
                r
            },
        )
}

#[test]
fn heartbeat_decodes_like_the_oracle() {
    let range = ApiKey::Heartbeat.valid_versions();
    check_decoder::<HeartbeatRequest, _>(ApiKey::Heartbeat, range.min..=range.max, 128, request);
}

#[test]
fn heartbeat_negative_member_id_length_is_refused() {
    // v0: group "g", generation 1, member id length -7.
    let body = [0, 1, b'g', 0, 0, 0, 1, 0xff, 0xf9, 0, 0];
    let err = flatten(HeartbeatRequest::decode_body(&body, 0).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-7));
}

#[test]
fn heartbeat_null_group_id_is_refused() {
    // v4: compact group id 0 = null.
    let body = [0, 0, 0, 0, 1, 1, 1, 0, 0];
    let err = flatten(HeartbeatRequest::decode_body(&body, 4).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}

#[test]
fn heartbeat_truncated_instance_id_and_tag_bomb_are_refused() {
    // v3: group "", generation 0, member "", instance id claims 10 bytes, 2 present.
    let body = [0, 0, 0, 0, 0, 0, 0, 0, 0, 10, b'a', b'b'];
    let err = flatten(HeartbeatRequest::decode_body(&body, 3).unwrap_err());
    assert_eq!(err, WireError::Truncated);
    // v4: null instance id (fine), then a tag count far beyond the body.
    let body = [1, 0, 0, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f];
    let err = flatten(HeartbeatRequest::decode_body(&body, 4).unwrap_err());
    assert!(
        matches!(err, WireError::CountExceedsRemaining { .. }),
        "{err:?}"
    );
}
