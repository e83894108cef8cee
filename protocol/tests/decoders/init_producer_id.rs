use super::harness::*;
use kafka_protocol::messages::{ApiKey, InitProducerIdRequest, ProducerId, TransactionalId};
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

fn request(version: i16) -> impl Strategy<Value = InitProducerIdRequest> {
    (
        proptest::option::of(text().prop_map(TransactionalId)),
        any::<i32>(),
        field(version >= 3, any::<i64>(), -1),
        field(version >= 3, any::<i16>(), -1),
        tags(version >= 2),
    )
        .prop_map(|(transactional_id, timeout, producer_id, epoch, unknown)| {
            let mut r = InitProducerIdRequest::default();
            r.transactional_id = transactional_id;
            r.transaction_timeout_ms = timeout;
            r.producer_id = ProducerId(producer_id);
            r.producer_epoch = epoch;
            r.unknown_tagged_fields = unknown;
            r
        })
}

#[test]
fn init_producer_id_decodes_like_the_oracle() {
    // ApiKey::InitProducerId says 0-6, but the crate's InitProducerIdRequest encodes only
    // 0-5 (v6's fields have no versions there); v6 is covered by the hand-built test below.
    let range = ApiKey::InitProducerId.valid_versions();
    check_decoder::<InitProducerIdRequest, _>(ApiKey::InitProducerId, range.min..=5, 128, request);
}

#[test]
fn init_producer_id_v6_reads_the_2pc_flags() {
    // "tx", timeout 1000, producer 5, epoch 2, enable_2_pc, keep_prepared_txn, no tags.
    let body = [
        3, b't', b'x', 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0, 0, 0, 5, 0, 2, 1, 1, 0,
    ];
    let (rest, r) = InitProducerIdRequest::decode_body(&body, 6).unwrap();
    assert!(rest.is_empty());
    assert_eq!(
        r.transactional_id.as_deref().map(|s| s.as_str()),
        Some("tx")
    );
    assert_eq!(r.transaction_timeout_ms, 1000);
    assert_eq!(r.producer_id, ProducerId(5));
    assert_eq!(r.producer_epoch, 2);
    assert!(r.enable_2_pc && r.keep_prepared_txn);
    // The same body without the flags and tag buffer is truncated at v6.
    let err = flatten(InitProducerIdRequest::decode_body(&body[..17], 6).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}

#[test]
fn init_producer_id_hostile_lengths_are_refused() {
    // v0: transactional id length -3.
    let err =
        flatten(InitProducerIdRequest::decode_body(&[0xff, 0xfd, 0, 0, 0, 0], 0).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-3));
    // v2: tag count far beyond the body.
    let body = [0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f];
    let err = flatten(InitProducerIdRequest::decode_body(&body, 2).unwrap_err());
    assert!(
        matches!(err, WireError::CountExceedsRemaining { .. }),
        "{err:?}"
    );
    // v3: string longer than the body.
    let err = flatten(InitProducerIdRequest::decode_body(&[10, b'a', b'b'], 3).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}
