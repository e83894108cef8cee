//! DeleteGroupsRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::{ApiKey, DeleteGroupsRequest, GroupId};
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

use super::harness::*;

fn request(version: i16) -> impl Strategy<Value = DeleteGroupsRequest> {
    (
        prop::collection::vec(text().prop_map(GroupId), 0..4),
        tags(version >= 2),
    )
        .prop_map(|(groups_names, unknown)| {
            let mut r = DeleteGroupsRequest::default();
            r.groups_names = groups_names;
            r.unknown_tagged_fields = unknown;
            r
        })
}

#[test]
fn delete_groups_decodes_like_the_oracle() {
    let range = ApiKey::DeleteGroups.valid_versions();
    check_decoder::<DeleteGroupsRequest, _>(
        ApiKey::DeleteGroups,
        range.min..=range.max,
        128,
        request,
    );
}

#[test]
fn delete_groups_group_count_larger_than_body_is_refused() {
    // v0: 4 groups claimed, 6 bytes left (each needs at least 2).
    let body = [0, 0, 0, 4, 0, 0, 0, 0, 0, 0];
    let err = flatten(DeleteGroupsRequest::decode_body(&body, 0).unwrap_err());
    assert!(
        matches!(
            err,
            WireError::CountExceedsRemaining {
                count: 4,
                needed_bytes: 8,
                remaining_bytes: 6
            }
        ),
        "{err:?}"
    );
}

#[test]
fn delete_groups_null_array_is_refused() {
    // v2: compact groups count 0 = null, which the schema does not allow.
    let err = flatten(DeleteGroupsRequest::decode_body(&[0, 0], 2).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}

#[test]
fn delete_groups_negative_name_length_is_refused() {
    // v1: one group whose name length is -9.
    let body = [0, 0, 0, 1, 0xff, 0xf7, 0, 0];
    let err = flatten(DeleteGroupsRequest::decode_body(&body, 1).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-9));
}
