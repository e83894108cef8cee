//! Known hostile inputs, each pinned as a named regression test: every one must produce a
//! typed rejection, never a panic, and never an allocation sized by the claim.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use bytes::{BufMut, BytesMut};
use petrel_protocol::frame::split_frame;
use petrel_protocol::{decode_request, RequestRejection, WireError};

fn header(api_key: i16, version: i16, correlation_id: i32) -> BytesMut {
    let mut buf = BytesMut::new();
    buf.put_i16(api_key);
    buf.put_i16(version);
    buf.put_i32(correlation_id);
    buf
}

fn malformed_error(frame: &[u8]) -> WireError {
    match decode_request(frame) {
        Err(RequestRejection::Malformed { error, .. }) => error,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn frame_shorter_than_a_header() {
    for len in 0..8 {
        let frame = vec![0u8; len];
        assert_eq!(
            decode_request(&frame),
            Err(RequestRejection::Unreadable(
                WireError::FrameShorterThanHeader(len)
            ))
        );
    }
}

#[test]
fn array_bomb_2_pow_31_elements_in_an_8_byte_body() {
    // Metadata v1: client id null, then a topic array claiming i32::MAX entries.
    let mut frame = header(3, 1, 1);
    frame.put_i16(-1);
    frame.put_i32(i32::MAX);
    frame.put_i32(0);
    assert!(matches!(
        malformed_error(&frame),
        WireError::CountExceedsRemaining {
            count: 2_147_483_647,
            ..
        }
    ));
}

#[test]
fn compact_array_bomb_in_flexible_metadata() {
    // Metadata v12 (header v2): client id null, empty tag buffer, then a compact array
    // whose varint count is u32::MAX.
    let mut frame = header(3, 12, 1);
    frame.put_i16(-1);
    frame.put_u8(0);
    frame.put_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    frame.put_slice(&[0u8; 3]);
    assert!(matches!(
        malformed_error(&frame),
        WireError::CountExceedsRemaining { .. }
    ));
}

#[test]
fn negative_string_length_in_client_id() {
    let mut frame = header(18, 2, 1);
    frame.put_i16(-7);
    assert_eq!(malformed_error(&frame), WireError::NegativeLength(-7));
}

#[test]
fn negative_array_length() {
    let mut frame = header(3, 4, 1);
    frame.put_i16(-1);
    frame.put_i32(-2);
    assert_eq!(malformed_error(&frame), WireError::NegativeLength(-2));
}

#[test]
fn negative_frame_length() {
    let mut buf = BytesMut::new();
    buf.put_i32(i32::MIN);
    assert_eq!(
        split_frame(&mut buf, 1 << 20),
        Err(WireError::NegativeFrameLength(i32::MIN))
    );
}

#[test]
fn oversize_frame_is_refused_from_its_prefix() {
    let mut buf = BytesMut::new();
    buf.put_i32(200 * 1024 * 1024);
    assert!(matches!(
        split_frame(&mut buf, petrel_protocol::frame::FRAME_BYTES_MAX_DEFAULT),
        Err(WireError::FrameTooLarge { .. })
    ));
}

#[test]
fn nested_counts_each_plausible_alone_but_not_together() {
    // Metadata v10: 3 topics claimed, each needs >= 18 bytes, only 20 bytes follow.
    let mut frame = header(3, 10, 1);
    frame.put_i16(-1);
    frame.put_u8(0); // header tag buffer
    frame.put_u8(4); // compact array: 3 topics
    frame.put_slice(&[0u8; 16]); // topic id
    frame.put_u8(0); // null name
    frame.put_u8(0xff); // tag buffer claiming many fields...
    frame.put_slice(&[0xff, 0xff, 0x0f]);
    assert!(matches!(
        malformed_error(&frame),
        WireError::CountExceedsRemaining { .. }
    ));
}

#[test]
fn truncated_tagged_fields_in_header() {
    // ApiVersions v3 (header v2): one tagged field claiming 100 bytes, 1 present.
    let mut frame = header(18, 3, 1);
    frame.put_i16(-1);
    frame.put_u8(1); // one field
    frame.put_u8(5); // tag 5
    frame.put_u8(100); // size 100
    frame.put_u8(0xaa);
    assert_eq!(malformed_error(&frame), WireError::Truncated);
}

#[test]
fn truncated_tagged_field_tag_varint() {
    let mut frame = header(18, 3, 1);
    frame.put_i16(-1);
    frame.put_u8(1);
    frame.put_slice(&[0x80, 0x80]); // tag varint continues past the end
    assert_eq!(malformed_error(&frame), WireError::Truncated);
}

#[test]
fn overlong_varint_is_malformed() {
    let mut frame = header(18, 3, 1);
    frame.put_i16(-1);
    frame.put_u8(0); // header tags
    frame.put_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]); // 6-byte varint
    assert_eq!(malformed_error(&frame), WireError::MalformedVarint);
}

#[test]
fn invalid_utf8_client_software_name() {
    let mut frame = header(18, 3, 1);
    frame.put_i16(-1);
    frame.put_u8(0);
    frame.put_u8(3); // compact length 2
    frame.put_slice(&[0xc3, 0x28]);
    frame.put_u8(1);
    frame.put_u8(0);
    assert_eq!(malformed_error(&frame), WireError::InvalidUtf8);
}

#[test]
fn unknown_api_key_is_refused() {
    let frame = header(9999, 0, 5);
    assert!(
        matches!(decode_request(&frame), Err(RequestRejection::UnsupportedApi(h)) if h.correlation_id == 5)
    );
}

#[test]
fn known_but_unserved_api_key_is_refused() {
    // EndTxn (26) exists in Kafka but is not served yet (no transactions).
    let frame = header(26, 3, 5);
    assert!(matches!(
        decode_request(&frame),
        Err(RequestRejection::UnsupportedApi(_))
    ));
}

#[test]
fn produce_v0_to_v2_are_listed_but_refused_kafka_18659() {
    for version in 0..=2 {
        let frame = header(0, version, 5);
        assert!(
            matches!(
                decode_request(&frame),
                Err(RequestRejection::UnsupportedVersion(_))
            ),
            "Produce v{version}"
        );
    }
}

#[test]
fn unsupported_metadata_version_is_refused() {
    let frame = header(3, 99, 5);
    assert!(matches!(
        decode_request(&frame),
        Err(RequestRejection::UnsupportedVersion(_))
    ));
}

#[test]
fn too_new_api_versions_is_kip_511() {
    let frame = header(18, 42, 5);
    assert!(
        matches!(decode_request(&frame), Err(RequestRejection::ApiVersionsTooNew(h)) if h.correlation_id == 5)
    );
}

#[test]
fn negative_api_versions_version_is_refused_not_kip_511() {
    let frame = header(18, -1, 5);
    assert!(matches!(
        decode_request(&frame),
        Err(RequestRejection::UnsupportedVersion(_))
    ));
}
