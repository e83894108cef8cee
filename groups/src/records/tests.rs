//! Tests of the `__consumer_offsets` codec: byte-exact fixtures written out by hand from
//! Kafka's schemas, round trips of every version, hostile input, and the partition hash.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;

use super::*;

fn offset_key(group: &str, topic: &str, partition: i32) -> RecordKey {
    RecordKey::Offset(OffsetCommitKey {
        group: group.to_owned(),
        topic: topic.to_owned(),
        partition,
    })
}

fn group_key(group: &str) -> RecordKey {
    RecordKey::Group(GroupMetadataKey {
        group: group.to_owned(),
    })
}

/// 2023-11-14T22:13:20Z = 0x0000_018B_CFE5_6800.
const TS: i64 = 1_700_000_000_000;

fn one_member_group() -> GroupMetadataValue {
    GroupMetadataValue {
        protocol_type: "consumer".to_owned(),
        generation: 1,
        protocol: Some("range".to_owned()),
        leader: Some("m1".to_owned()),
        current_state_timestamp_ms: TS,
        members: vec![MemberMetadata {
            member_id: "m1".to_owned(),
            group_instance_id: Some("i".to_owned()),
            client_id: "c".to_owned(),
            client_host: "/h".to_owned(),
            rebalance_timeout_ms: 300_000,
            session_timeout_ms: 45_000,
            subscription: Bytes::from_static(&[0xaa, 0xbb]),
            assignment: Bytes::from_static(&[0xcc]),
        }],
    }
}

// ---------------------------------------------------------------------------------------
// Byte-exact fixtures (cross-checked against Kafka 4.3.1's own generated classes and
// GroupCoordinatorRecordSerde when written).

#[test]
fn records_offset_key_fixture() {
    let expected: &[u8] = &[
        0x00, 0x01, // key version 1 (CoordinatorRecordType OFFSET_COMMIT)
        0x00, 0x01, b'g', // group: int16 length 1, "g"
        0x00, 0x01, b't', // topic: int16 length 1, "t"
        0x00, 0x00, 0x00, 0x05, // partition: int32 5
    ];
    let key = offset_key("g", "t", 5);
    assert_eq!(encode_key(&key).unwrap(), expected);
    assert_eq!(decode_key(expected).unwrap(), DecodedKey::Known(key));
}

#[test]
fn records_legacy_offset_key_version_0_decodes() {
    let bytes: &[u8] = &[
        0x00, 0x00, // key version 0 (LegacyOffsetCommitKey, same fields)
        0x00, 0x01, b'g', // group "g"
        0x00, 0x01, b't', // topic "t"
        0x00, 0x00, 0x00, 0x05, // partition 5
    ];
    assert_eq!(
        decode_key(bytes).unwrap(),
        DecodedKey::Known(offset_key("g", "t", 5))
    );
}

#[test]
fn records_group_key_fixture() {
    let expected: &[u8] = &[
        0x00, 0x02, // key version 2 (GROUP_METADATA)
        0x00, 0x03, b'g', b'r', b'p', // group: int16 length 3, "grp"
    ];
    let key = group_key("grp");
    assert_eq!(encode_key(&key).unwrap(), expected);
    assert_eq!(decode_key(expected).unwrap(), DecodedKey::Known(key));
}

#[test]
fn records_unknown_key_versions_are_skipped() {
    // Key version 3 = ConsumerGroupMetadataKey (KIP-848): groupId "g".
    let consumer_group_metadata: &[u8] = &[0x00, 0x03, 0x00, 0x01, b'g'];
    assert_eq!(
        decode_key(consumer_group_metadata).unwrap(),
        DecodedKey::Unknown { version: 3 }
    );
    assert_eq!(decode_key(consumer_group_metadata).unwrap().known(), None);
    // The body of an unknown record type is not looked at, whatever it holds.
    for version in [3i16, 4, 8, 11, 17, 100, i16::MAX, -1, i16::MIN] {
        let mut bytes = version.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[0xff, 0x00, 0x13]);
        assert_eq!(
            decode_key(&bytes).unwrap(),
            DecodedKey::Unknown { version },
            "{version}"
        );
        assert_eq!(
            decode_key(&version.to_be_bytes()).unwrap(),
            DecodedKey::Unknown { version }
        );
    }
    // But a key too short to hold a version is an error.
    assert!(matches!(
        decode_key(&[]),
        Err(RecordError::Truncated { .. })
    ));
    assert!(matches!(
        decode_key(&[0x00]),
        Err(RecordError::Truncated { .. })
    ));
}

#[test]
fn records_offset_value_v3_fixture() {
    let expected: &[u8] = &[
        0x00, 0x03, // value version 3
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, // offset: int64 42
        0x00, 0x00, 0x00, 0x07, // leaderEpoch: int32 7
        0x00, 0x01, b'm', // metadata: int16 length 1, "m"
        0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // commitTimestamp: int64 TS
    ];
    let value = OffsetCommitValue {
        offset: 42,
        leader_epoch: 7,
        metadata: "m".to_owned(),
        commit_timestamp_ms: TS,
        expire_timestamp_ms: NO_TIMESTAMP,
    };
    assert_eq!(offset_value_version(&value), 3);
    assert_eq!(encode_offset_value(&value).unwrap(), expected);
    assert_eq!(decode_offset_value(expected).unwrap(), value);
}

#[test]
fn records_offset_value_v1_fixture_with_expiry() {
    let expected: &[u8] = &[
        0x00, 0x01, // value version 1: the commit has an explicit expiry
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, // offset: int64 42
        0x00, 0x00, // metadata: int16 length 0, ""
        0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // commitTimestamp: TS
        0x00, 0x00, 0x01, 0x8b, 0xd5, 0x0b, 0xc4, 0x00, // expireTimestamp: TS + 1 day
    ];
    let value = OffsetCommitValue {
        offset: 42,
        leader_epoch: 7,
        metadata: String::new(),
        commit_timestamp_ms: TS,
        expire_timestamp_ms: TS + 86_400_000,
    };
    assert_eq!(offset_value_version(&value), 1);
    assert_eq!(encode_offset_value(&value).unwrap(), expected);
    // Version 1 has no leader epoch: it comes back unknown, as in Kafka.
    assert_eq!(
        decode_offset_value(expected).unwrap(),
        OffsetCommitValue {
            leader_epoch: NO_LEADER_EPOCH,
            ..value
        }
    );
}

#[test]
fn records_offset_value_v0_fixture_decodes() {
    let bytes: &[u8] = &[
        0x00, 0x00, // value version 0
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, // offset 42
        0x00, 0x01, b'm', // metadata "m"
        0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // commitTimestamp TS
    ];
    assert_eq!(
        decode_offset_value(bytes).unwrap(),
        OffsetCommitValue {
            offset: 42,
            leader_epoch: NO_LEADER_EPOCH,
            metadata: "m".to_owned(),
            commit_timestamp_ms: TS,
            expire_timestamp_ms: NO_TIMESTAMP,
        }
    );
}

#[test]
fn records_offset_value_v4_fixture_with_topic_id_tag() {
    // What Kafka 4.1+ writes: version 4 with the tagged topicId (tag 0, a 16-byte UUID).
    let kafka_41: &[u8] = &[
        0x00, 0x04, // value version 4 (flexible)
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, // offset: int64 42
        0xff, 0xff, 0xff, 0xff, // leaderEpoch: int32 -1
        0x02, b'm', // metadata: compact string, varint length+1 = 2, "m"
        0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // commitTimestamp TS
        0x01, // tagged fields: 1
        0x00, 0x10, // tag 0 (topicId), size 16
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // UUID, high half
        0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, // UUID, low half
    ];
    let value = OffsetCommitValue {
        offset: 42,
        leader_epoch: NO_LEADER_EPOCH,
        metadata: "m".to_owned(),
        commit_timestamp_ms: TS,
        expire_timestamp_ms: NO_TIMESTAMP,
    };
    assert_eq!(decode_offset_value(kafka_41).unwrap(), value);

    // Written as version 4 by this codec: no tagged fields.
    let written: &[u8] = &[
        0x00, 0x04, // value version 4
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, // offset 42
        0xff, 0xff, 0xff, 0xff, // leaderEpoch -1
        0x02, b'm', // metadata "m" (compact)
        0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // commitTimestamp TS
        0x00, // tagged fields: 0
    ];
    assert_eq!(encode_offset_value_version(&value, 4).unwrap(), written);
    assert_eq!(decode_offset_value(written).unwrap(), value);
}

#[test]
fn records_group_value_v3_fixture() {
    let expected: &[u8] = &[
        0x00, 0x03, // value version 3
        0x00, 0x08, b'c', b'o', b'n', b's', b'u', b'm', b'e', b'r', // protocolType "consumer"
        0x00, 0x00, 0x00, 0x01, // generation: int32 1
        0x00, 0x05, b'r', b'a', b'n', b'g', b'e', // protocol: nullable string "range"
        0x00, 0x02, b'm', b'1', // leader: nullable string "m1"
        0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // currentStateTimestamp: TS
        0x00, 0x00, 0x00, 0x01, // members: int32 count 1
        0x00, 0x02, b'm', b'1', //   memberId "m1"
        0x00, 0x01, b'i', //   groupInstanceId: nullable string "i"
        0x00, 0x01, b'c', //   clientId "c"
        0x00, 0x02, b'/', b'h', //   clientHost "/h"
        0x00, 0x04, 0x93, 0xe0, //   rebalanceTimeout: int32 300000
        0x00, 0x00, 0xaf, 0xc8, //   sessionTimeout: int32 45000
        0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb, //   subscription: int32 length 2, bytes
        0x00, 0x00, 0x00, 0x01, 0xcc, //   assignment: int32 length 1, bytes
    ];
    let value = one_member_group();
    assert_eq!(encode_group_value(&value).unwrap(), expected);
    assert_eq!(decode_group_value(expected).unwrap(), value);
}

#[test]
fn records_empty_group_value_v3_fixture() {
    // What Kafka's newEmptyGroupMetadataRecord writes: no protocol type, generation 0,
    // null protocol and leader, no members.
    let expected: &[u8] = &[
        0x00, 0x03, // value version 3
        0x00, 0x00, // protocolType: ""
        0x00, 0x00, 0x00, 0x00, // generation 0
        0xff, 0xff, // protocol: null (int16 length -1)
        0xff, 0xff, // leader: null
        0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // currentStateTimestamp TS
        0x00, 0x00, 0x00, 0x00, // members: count 0
    ];
    let value = GroupMetadataValue {
        protocol_type: String::new(),
        generation: 0,
        protocol: None,
        leader: None,
        current_state_timestamp_ms: TS,
        members: Vec::new(),
    };
    assert_eq!(encode_group_value(&value).unwrap(), expected);
    assert_eq!(decode_group_value(expected).unwrap(), value);
}

#[test]
fn records_group_value_v4_fixture_skips_tagged_fields() {
    let bytes: &[u8] = &[
        0x00, 0x04, // value version 4 (flexible)
        0x09, b'c', b'o', b'n', b's', b'u', b'm', b'e', b'r', // protocolType: compact, 8+1
        0x00, 0x00, 0x00, 0x01, // generation 1
        0x06, b'r', b'a', b'n', b'g', b'e', // protocol: compact nullable, 5+1
        0x03, b'm', b'1', // leader: compact nullable, 2+1
        0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, // currentStateTimestamp TS
        0x02, // members: compact array, 1+1
        0x03, b'm', b'1', //   memberId "m1"
        0x00, //   groupInstanceId: compact null
        0x02, b'c', //   clientId "c"
        0x03, b'/', b'h', //   clientHost "/h"
        0x00, 0x04, 0x93, 0xe0, //   rebalanceTimeout 300000
        0x00, 0x00, 0xaf, 0xc8, //   sessionTimeout 45000
        0x03, 0xaa, 0xbb, //   subscription: compact bytes, 2+1
        0x02, 0xcc, //   assignment: compact bytes, 1+1
        0x01, 0x05, 0x02, 0xff, 0xff, //   member tagged fields: 1, unknown tag 5, size 2
        0x01, 0x96, 0x01, 0x00, // top-level tagged fields: 1, unknown tag 150, size 0
    ];
    let mut value = one_member_group();
    value.members[0].group_instance_id = None;
    assert_eq!(decode_group_value(bytes).unwrap(), value);
}

#[test]
fn records_group_value_v0_fixture_rebalance_timeout_is_session_timeout() {
    let bytes: &[u8] = &[
        0x00, 0x00, // value version 0
        0x00, 0x08, b'c', b'o', b'n', b's', b'u', b'm', b'e', b'r', // protocolType
        0x00, 0x00, 0x00, 0x01, // generation 1
        0x00, 0x05, b'r', b'a', b'n', b'g', b'e', // protocol "range"
        0x00, 0x02, b'm', b'1', // leader "m1"
        0x00, 0x00, 0x00, 0x01, // members: 1 (no currentStateTimestamp before v2)
        0x00, 0x02, b'm', b'1', //   memberId (no groupInstanceId before v3)
        0x00, 0x01, b'c', //   clientId
        0x00, 0x02, b'/', b'h', //   clientHost (no rebalanceTimeout before v1)
        0x00, 0x00, 0xaf, 0xc8, //   sessionTimeout 45000
        0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb, //   subscription
        0x00, 0x00, 0x00, 0x01, 0xcc, //   assignment
    ];
    let value = decode_group_value(bytes).unwrap();
    assert_eq!(value.current_state_timestamp_ms, NO_TIMESTAMP);
    assert_eq!(value.members[0].group_instance_id, None);
    assert_eq!(value.members[0].rebalance_timeout_ms, 45_000);
    assert_eq!(value.members[0].session_timeout_ms, 45_000);
}

// ---------------------------------------------------------------------------------------
// Errors.

#[test]
fn records_unknown_value_versions_are_errors() {
    for version in [5i16, 100, -1] {
        let mut bytes = version.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[0; 32]);
        assert!(matches!(
            decode_offset_value(&bytes),
            Err(RecordError::UnsupportedVersion { version: v, .. }) if v == version
        ));
        assert!(matches!(
            decode_group_value(&bytes),
            Err(RecordError::UnsupportedVersion { version: v, .. }) if v == version
        ));
    }
    let value = one_member_group();
    assert!(encode_group_value_version(&value, 5).is_err());
    assert!(encode_group_value_version(&value, -1).is_err());
}

#[test]
fn records_null_in_non_nullable_field_is_an_error() {
    let bytes: &[u8] = &[
        0x00, 0x03, // version 3
        0, 0, 0, 0, 0, 0, 0, 1, // offset
        0xff, 0xff, 0xff, 0xff, // leaderEpoch
        0xff, 0xff, // metadata: null
        0, 0, 0, 0, 0, 0, 0, 0, // commitTimestamp
    ];
    assert_eq!(
        decode_offset_value(bytes),
        Err(RecordError::UnexpectedNull {
            field: "OffsetCommitValue.metadata"
        })
    );
    // A null group id in a key.
    assert!(matches!(
        decode_key(&[0x00, 0x02, 0xff, 0xff]),
        Err(RecordError::UnexpectedNull { .. })
    ));
}

#[test]
fn records_hostile_lengths_are_errors() {
    // A member count of i32::MAX with nothing behind it: rejected before any allocation.
    let bytes: &[u8] = &[
        0x00, 0x03, // version 3
        0x00, 0x00, // protocolType ""
        0x00, 0x00, 0x00, 0x00, // generation
        0xff, 0xff, 0xff, 0xff, // protocol, leader: null
        0, 0, 0, 0, 0, 0, 0, 0, // currentStateTimestamp
        0x7f, 0xff, 0xff, 0xff, // members: 2^31 - 1
    ];
    assert!(matches!(
        decode_group_value(bytes),
        Err(RecordError::InvalidLength { .. })
    ));
    // A string claiming 0x7fff bytes in a 10-byte key.
    assert!(matches!(
        decode_key(&[0x00, 0x02, 0x7f, 0xff, b'a', b'b']),
        Err(RecordError::Truncated { .. })
    ));
    // A compact string longer than Kafka's 32767 limit.
    let mut v4 = vec![0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    v4.extend_from_slice(&[0x81, 0x80, 0x02]); // varint 32769 = length 32768
    assert!(matches!(
        decode_offset_value(&v4),
        Err(RecordError::InvalidLength { length: 32768, .. })
    ));
    // A varint running past 5 bytes.
    let mut v4 = vec![0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    v4.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert!(matches!(
        decode_offset_value(&v4),
        Err(RecordError::InvalidVarint { .. })
    ));
    // Invalid UTF-8 in a string.
    assert_eq!(
        decode_key(&[0x00, 0x02, 0x00, 0x02, 0xc3, 0x28]),
        Err(RecordError::InvalidUtf8 {
            field: "GroupMetadataKey.group"
        })
    );
}

#[test]
fn records_trailing_bytes_are_errors() {
    let mut key = encode_key(&group_key("g")).unwrap().to_vec();
    key.push(0);
    assert!(matches!(
        decode_key(&key),
        Err(RecordError::TrailingBytes { count: 1, .. })
    ));
    let mut value = encode_group_value(&one_member_group()).unwrap().to_vec();
    value.extend_from_slice(&[1, 2]);
    assert!(matches!(
        decode_group_value(&value),
        Err(RecordError::TrailingBytes { count: 2, .. })
    ));
}

#[test]
fn records_strings_over_32767_bytes_are_not_encoded() {
    let fits = "x".repeat(0x7fff);
    let too_long = "x".repeat(0x8000);
    assert!(encode_key(&group_key(&fits)).is_ok());
    assert_eq!(
        encode_key(&group_key(&too_long)),
        Err(RecordError::TooLong {
            field: "GroupMetadataKey.group",
            length: 0x8000,
            max: 0x7fff
        })
    );
    let value = OffsetCommitValue {
        offset: 0,
        leader_epoch: NO_LEADER_EPOCH,
        metadata: too_long,
        commit_timestamp_ms: 0,
        expire_timestamp_ms: NO_TIMESTAMP,
    };
    for version in 0..=MAX_VALUE_VERSION {
        assert!(matches!(
            encode_offset_value_version(&value, version),
            Err(RecordError::TooLong { .. })
        ));
    }
    // And a long string round-trips in the flexible form (2-byte varint length).
    let value = OffsetCommitValue {
        metadata: fits,
        ..value
    };
    let bytes = encode_offset_value_version(&value, 4).unwrap();
    assert_eq!(decode_offset_value(&bytes).unwrap(), value);
}

// ---------------------------------------------------------------------------------------
// The partition hash.

#[test]
fn records_partition_for_group_matches_java_hash_code() {
    // Java String.hashCode: h = 31*h + c over UTF-16 code units, wrapping at 32 bits.
    assert_eq!(java_string_hash(""), 0);
    assert_eq!(java_string_hash("a"), 97);
    // "ab": 97*31 + 98 = 3105.
    assert_eq!(java_string_hash("ab"), 3105);
    // "abc": 3105*31 + 99 = 96354.
    assert_eq!(java_string_hash("abc"), 96_354);
    // The classic collision: "Aa" = 65*31 + 97 = 2112 = 66*31 + 66 = "BB".
    assert_eq!(java_string_hash("Aa"), 2112);
    assert_eq!(java_string_hash("BB"), 2112);
    // "hello": 104 -> 3325 -> 103183 -> 3198781 -> 3198781*31 + 111 = 99162322.
    assert_eq!(java_string_hash("hello"), 99_162_322);
    // Non-ASCII: "é" is one UTF-16 unit, U+00E9 = 233 (its UTF-8 bytes would give
    // 0xC3*31 + 0xA9 = 6214).
    assert_eq!(java_string_hash("é"), 233);
    // "日本": U+65E5, U+672C: 26085*31 + 26412 = 835047.
    assert_eq!(java_string_hash("日本"), 835_047);
    // Supplementary plane: U+1F600 is the surrogate pair D83D DE00:
    // 55357*31 + 56832 = 1772899 (the code point alone would give 128512).
    assert_eq!(java_string_hash("\u{1F600}"), 1_772_899);
    // A hash past i32::MAX wraps: "testgroup".hashCode() == -1172783827.
    assert_eq!(java_string_hash("testgroup"), -1_172_783_827);
    // The famous string whose hashCode is Integer.MIN_VALUE.
    assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);

    assert_eq!(partition_for_group("", 50), 0);
    assert_eq!(partition_for_group("a", 50), 47); // 97 % 50
    assert_eq!(partition_for_group("hello", 50), 22); // 99162322 % 50
    assert_eq!(partition_for_group("é", 50), 33); // 233 % 50
    assert_eq!(partition_for_group("日本", 50), 47); // 835047 % 50
    assert_eq!(partition_for_group("\u{1F600}", 50), 49); // 1772899 % 50
                                                          // |-1172783827| % 50 = 27 (the commonly quoted Kafka example for "testgroup").
    assert_eq!(partition_for_group("testgroup", 50), 27);
    // Utils.abs(Integer.MIN_VALUE) is 0 (Math.abs would give MIN_VALUE, and -48 here).
    assert_eq!(partition_for_group("polygenelubricants", 50), 0);
    assert_eq!(partition_for_group("hello", 1), 0);
    assert_eq!(partition_for_group("hello", 7), 99_162_322 % 7);
    // Nonsense partition counts do not panic.
    assert_eq!(partition_for_group("hello", 0), 0);
    assert_eq!(partition_for_group("hello", -3), 0);
}

// ---------------------------------------------------------------------------------------
// Properties.

fn string() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

fn blob() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

fn record_key() -> impl Strategy<Value = RecordKey> {
    prop_oneof![
        (string(), string(), any::<i32>()).prop_map(|(group, topic, partition)| {
            RecordKey::Offset(OffsetCommitKey {
                group,
                topic,
                partition,
            })
        }),
        string().prop_map(|group| RecordKey::Group(GroupMetadataKey { group })),
    ]
}

fn offset_value() -> impl Strategy<Value = OffsetCommitValue> {
    (
        any::<i64>(),
        prop_oneof![Just(NO_LEADER_EPOCH), any::<i32>()],
        string(),
        any::<i64>(),
        prop_oneof![Just(NO_TIMESTAMP), any::<i64>()],
    )
        .prop_map(
            |(offset, leader_epoch, metadata, commit_timestamp_ms, expire_timestamp_ms)| {
                OffsetCommitValue {
                    offset,
                    leader_epoch,
                    metadata,
                    commit_timestamp_ms,
                    expire_timestamp_ms,
                }
            },
        )
}

fn member() -> impl Strategy<Value = MemberMetadata> {
    (
        string(),
        proptest::option::of(string()),
        string(),
        string(),
        prop_oneof![Just(-1), any::<i32>()],
        any::<i32>(),
        blob(),
        blob(),
    )
        .prop_map(
            |(
                member_id,
                group_instance_id,
                client_id,
                client_host,
                rebalance_timeout_ms,
                session_timeout_ms,
                subscription,
                assignment,
            )| MemberMetadata {
                member_id,
                group_instance_id,
                client_id,
                client_host,
                rebalance_timeout_ms,
                session_timeout_ms,
                subscription,
                assignment,
            },
        )
}

fn group_value() -> impl Strategy<Value = GroupMetadataValue> {
    (
        string(),
        any::<i32>(),
        proptest::option::of(string()),
        proptest::option::of(string()),
        prop_oneof![Just(NO_TIMESTAMP), any::<i64>()],
        vec(member(), 0..4),
    )
        .prop_map(
            |(protocol_type, generation, protocol, leader, current_state_timestamp_ms, members)| {
                GroupMetadataValue {
                    protocol_type,
                    generation,
                    protocol,
                    leader,
                    current_state_timestamp_ms,
                    members,
                }
            },
        )
}

/// What survives a trip through `version`: the fields it lacks take their defaults.
fn offset_as_version(value: &OffsetCommitValue, version: i16) -> OffsetCommitValue {
    OffsetCommitValue {
        leader_epoch: if version >= 3 {
            value.leader_epoch
        } else {
            NO_LEADER_EPOCH
        },
        expire_timestamp_ms: if version == 1 {
            value.expire_timestamp_ms
        } else {
            NO_TIMESTAMP
        },
        ..value.clone()
    }
}

fn group_as_version(value: &GroupMetadataValue, version: i16) -> GroupMetadataValue {
    GroupMetadataValue {
        current_state_timestamp_ms: if version >= 2 {
            value.current_state_timestamp_ms
        } else {
            NO_TIMESTAMP
        },
        members: value
            .members
            .iter()
            .map(|m| MemberMetadata {
                group_instance_id: if version >= 3 {
                    m.group_instance_id.clone()
                } else {
                    None
                },
                rebalance_timeout_ms: if version >= 1 && m.rebalance_timeout_ms != -1 {
                    m.rebalance_timeout_ms
                } else {
                    m.session_timeout_ms
                },
                ..m.clone()
            })
            .collect(),
        ..value.clone()
    }
}

fn assert_every_prefix_fails<T: std::fmt::Debug>(
    bytes: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, RecordError>,
) {
    for len in 0..bytes.len() {
        let prefix = bytes.get(..len).unwrap();
        assert!(
            decode(prefix).is_err(),
            "prefix of {len} of {} bytes decoded",
            bytes.len()
        );
    }
}

proptest! {
    #[test]
    fn records_key_round_trip(key in record_key()) {
        let bytes = encode_key(&key).unwrap();
        prop_assert_eq!(decode_key(&bytes).unwrap(), DecodedKey::Known(key));
        assert_every_prefix_fails(&bytes, decode_key);
    }

    #[test]
    fn records_offset_value_round_trip_every_version(value in offset_value(), version in 0i16..=4) {
        let bytes = encode_offset_value_version(&value, version).unwrap();
        prop_assert_eq!(i16::from_be_bytes([bytes[0], bytes[1]]), version);
        prop_assert_eq!(decode_offset_value(&bytes).unwrap(), offset_as_version(&value, version));
        assert_every_prefix_fails(&bytes, decode_offset_value);
    }

    #[test]
    fn records_offset_value_written_version(value in offset_value()) {
        let bytes = encode_offset_value(&value).unwrap();
        let expected = if value.expire_timestamp_ms == NO_TIMESTAMP { 3 } else { 1 };
        prop_assert_eq!(i16::from_be_bytes([bytes[0], bytes[1]]), expected);
        prop_assert_eq!(decode_offset_value(&bytes).unwrap(), offset_as_version(&value, expected));
    }

    #[test]
    fn records_group_value_round_trip_every_version(value in group_value(), version in 0i16..=4) {
        let bytes = encode_group_value_version(&value, version).unwrap();
        prop_assert_eq!(i16::from_be_bytes([bytes[0], bytes[1]]), version);
        prop_assert_eq!(decode_group_value(&bytes).unwrap(), group_as_version(&value, version));
        assert_every_prefix_fails(&bytes, decode_group_value);
    }

    #[test]
    fn records_group_value_written_version_is_3(value in group_value()) {
        let bytes = encode_group_value(&value).unwrap();
        prop_assert_eq!(&bytes[..2], &[0x00, 0x03]);
        prop_assert_eq!(decode_group_value(&bytes).unwrap(), group_as_version(&value, 3));
    }

    #[test]
    fn records_random_bytes_never_panic(bytes in vec(any::<u8>(), 0..96)) {
        let _ = decode_key(&bytes);
        let _ = decode_offset_value(&bytes);
        let _ = decode_group_value(&bytes);
    }

    #[test]
    fn records_random_bodies_behind_valid_versions_never_panic(
        version in -1i16..=5,
        body in vec(any::<u8>(), 0..96),
    ) {
        let mut bytes = version.to_be_bytes().to_vec();
        bytes.extend_from_slice(&body);
        let _ = decode_key(&bytes);
        let _ = decode_offset_value(&bytes);
        let _ = decode_group_value(&bytes);
    }

    #[test]
    fn records_corrupted_encodings_never_panic(
        value in group_value(),
        version in 0i16..=4,
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut bytes = encode_group_value_version(&value, version).unwrap().to_vec();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        let _ = decode_group_value(&bytes);
        let _ = decode_offset_value(&bytes);
        let _ = decode_key(&bytes);
    }
}
