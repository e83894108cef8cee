//! Consumer-protocol subscription parsing never panics and rejects malformed input.

use super::*;

#[test]
fn parses_well_formed_subscriptions() {
    assert_eq!(
        subscribed_topics(&subscription(&["a", "bc"])),
        Some(vec!["a".into(), "bc".into()])
    );
    assert_eq!(subscribed_topics(&subscription(&[])), Some(vec![]));
    // A later version with user data and trailing fields (owned partitions, generation...).
    let mut v = BytesMut::new();
    v.put_i16(3);
    v.put_i32(1);
    v.put_i16(1);
    v.put_slice(b"x");
    v.put_i32(2);
    v.put_slice(b"ud");
    v.put_slice(&[0, 0, 0, 0, 0, 0, 0, 7]);
    assert_eq!(subscribed_topics(&v), Some(vec!["x".into()]));
}

#[test]
fn rejects_malformed_subscriptions() {
    let good = subscription(&["topic"]);
    for cut in 0..good.len() {
        assert_eq!(subscribed_topics(&good[..cut]), None, "truncated at {cut}");
    }
    let mut negative = BytesMut::new();
    negative.put_i16(0);
    negative.put_i32(-1);
    assert_eq!(subscribed_topics(&negative), None);
    let mut huge = BytesMut::new();
    huge.put_i16(0);
    huge.put_i32(i32::MAX);
    huge.put_i16(1);
    assert_eq!(subscribed_topics(&huge), None);
    let mut bad_utf8 = BytesMut::new();
    bad_utf8.put_i16(0);
    bad_utf8.put_i32(1);
    bad_utf8.put_i16(1);
    bad_utf8.put_u8(0xFF);
    bad_utf8.put_i32(-1);
    assert_eq!(subscribed_topics(&bad_utf8), None);
    let mut null_topic = BytesMut::new();
    null_topic.put_i16(0);
    null_topic.put_i32(1);
    null_topic.put_i16(-1);
    null_topic.put_i32(-1);
    assert_eq!(subscribed_topics(&null_topic), None);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
        let _ = subscribed_topics(&bytes);
    }
}
