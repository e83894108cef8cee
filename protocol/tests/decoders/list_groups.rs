//! ListGroupsRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::{ApiKey, ListGroupsRequest};
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

use super::harness::*;

fn request(version: i16) -> impl Strategy<Value = ListGroupsRequest> {
    (
        field(
            version >= 4,
            prop::collection::vec(text(), 0..4),
            Vec::new(),
        ),
        field(
            version >= 5,
            prop::collection::vec(text(), 0..4),
            Vec::new(),
        ),
        tags(version >= 3),
    )
        .prop_map(|(states_filter, types_filter, unknown)| {
            let mut r = ListGroupsRequest::default();
            r.states_filter = states_filter;
            r.types_filter = types_filter;
            r.unknown_tagged_fields = unknown;
            r
        })
}

#[test]
fn list_groups_decodes_like_the_oracle() {
    let range = ApiKey::ListGroups.valid_versions();
    check_decoder::<ListGroupsRequest, _>(ApiKey::ListGroups, range.min..=range.max, 128, request);
}

#[test]
fn list_groups_v0_body_is_empty() {
    let (rest, r) = ListGroupsRequest::decode_body(&[], 0).unwrap();
    assert!(rest.is_empty());
    assert_eq!(r, ListGroupsRequest::default());
}

#[test]
fn list_groups_filter_count_larger_than_body_is_refused() {
    // v4: states_filter compact count 1000 (varint 0xe9 0x07 = 1001), 3 bytes left.
    let body = [0xe9, 0x07, 1, 1, 0];
    let err = flatten(ListGroupsRequest::decode_body(&body, 4).unwrap_err());
    assert!(
        matches!(err, WireError::CountExceedsRemaining { count: 1000, .. }),
        "{err:?}"
    );
}

#[test]
fn list_groups_null_filters_are_refused() {
    // v5: empty states_filter, then types_filter 0 = null.
    let err = flatten(ListGroupsRequest::decode_body(&[1, 0, 0], 5).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
    // v4: one state, and it is null.
    let err = flatten(ListGroupsRequest::decode_body(&[2, 0, 0], 4).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}

#[test]
fn list_groups_tag_bomb_is_refused() {
    // v3: tag count u32::MAX with nothing after it.
    let body = [0xff, 0xff, 0xff, 0xff, 0x0f];
    let err = flatten(ListGroupsRequest::decode_body(&body, 3).unwrap_err());
    assert!(
        matches!(err, WireError::CountExceedsRemaining { .. }),
        "{err:?}"
    );
}
