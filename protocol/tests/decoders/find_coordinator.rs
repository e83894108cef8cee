//! FindCoordinatorRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::{ApiKey, FindCoordinatorRequest};
use kafka_protocol::protocol::StrBytes;
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

use super::harness::*;

fn request(version: i16) -> impl Strategy<Value = FindCoordinatorRequest> {
    (
        field(version <= 3, text(), StrBytes::from_static_str("")),
        field(version >= 1, any::<i8>(), 0),
        field(
            version >= 4,
            prop::collection::vec(text(), 0..4),
            Vec::new(),
        ),
        tags(version >= 3),
    )
        .prop_map(|(key, key_type, coordinator_keys, unknown)| {
            let mut r = FindCoordinatorRequest::default();
            r.key = key;
            r.key_type = key_type;
            r.coordinator_keys = coordinator_keys;
            r.unknown_tagged_fields = unknown;
            r
        })
}

#[test]
fn find_coordinator_decodes_like_the_oracle() {
    let range = ApiKey::FindCoordinator.valid_versions();
    check_decoder::<FindCoordinatorRequest, _>(
        ApiKey::FindCoordinator,
        range.min..=range.max,
        96,
        request,
    );
}

#[test]
fn find_coordinator_key_count_larger_than_body_is_refused() {
    // v4: key_type 0, coordinator_keys compact count u32::MAX - 1, then 2 bytes.
    let body = [0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0];
    let err = flatten(FindCoordinatorRequest::decode_body(&body, 4).unwrap_err());
    assert!(
        matches!(err, WireError::CountExceedsRemaining { .. }),
        "{err:?}"
    );
}

#[test]
fn find_coordinator_negative_key_length_is_refused() {
    // v0: key length -2.
    let err = flatten(FindCoordinatorRequest::decode_body(&[0xff, 0xfe, b'a'], 0).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-2));
}

#[test]
fn find_coordinator_null_keys_are_refused() {
    // v3: compact key 0 = null, which STRING does not allow.
    let err = flatten(FindCoordinatorRequest::decode_body(&[0, 0, 0], 3).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
    // v4: one coordinator key, and it is null.
    let err = flatten(FindCoordinatorRequest::decode_body(&[0, 2, 0, 0], 4).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}
