//! The chunked Fetch response encoder against the oracle: random responses of every
//! version 4-18 with random record payloads are encoded into chunks, the chunks are joined,
//! and `kafka-protocol` must decode exactly the response with those records.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, EpochEndOffset, FetchResponse, FetchableTopicResponse, LeaderIdAndEpoch,
    NodeEndpoint, PartitionData, SnapshotId,
};
use kafka_protocol::messages::{ApiKey, BrokerId, ProducerId, ResponseHeader, TopicName};
use kafka_protocol::protocol::{Decodable, StrBytes};
use petrel_protocol::fetch_encoder::{encode_fetch_response, Chunk, RecordsPayload};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn partition(version: i16) -> impl Strategy<Value = (PartitionData, Option<Bytes>)> {
    (
        (
            any::<i32>(),
            any::<i16>(),
            any::<i64>(),
            any::<i64>(),
            any::<i64>(),
            any::<i32>(),
        ),
        prop::option::of(prop::collection::vec((any::<i64>(), any::<i64>()), 0..3)),
        (
            any::<i32>(),
            any::<i64>(),
            any::<i32>(),
            any::<i32>(),
            any::<i64>(),
            any::<i32>(),
        ),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..300).prop_map(Bytes::from)),
    )
        .prop_map(
            move |((index, error, hwm, lso, log_start, preferred), aborted, tagged, records)| {
                let mut p = PartitionData::default()
                    .with_partition_index(index)
                    .with_error_code(error)
                    .with_high_watermark(hwm)
                    .with_last_stable_offset(lso)
                    .with_aborted_transactions(aborted.map(|list| {
                        list.into_iter()
                            .map(|(pid, first)| {
                                AbortedTransaction::default()
                                    .with_producer_id(ProducerId(pid))
                                    .with_first_offset(first)
                            })
                            .collect()
                    }));
                if version >= 5 {
                    p.log_start_offset = log_start;
                }
                if version >= 11 {
                    p.preferred_read_replica = BrokerId(preferred);
                }
                if version >= 12 {
                    let (epoch, end, leader, leader_epoch, snap_end, snap_epoch) = tagged;
                    p.diverging_epoch = EpochEndOffset::default()
                        .with_epoch(epoch)
                        .with_end_offset(end);
                    p.current_leader = LeaderIdAndEpoch::default()
                        .with_leader_id(BrokerId(leader))
                        .with_leader_epoch(leader_epoch);
                    p.snapshot_id = SnapshotId::default()
                        .with_end_offset(snap_end)
                        .with_epoch(snap_epoch);
                }
                (p, records)
            },
        )
}

fn response(version: i16) -> impl Strategy<Value = (FetchResponse, Vec<Vec<Option<Bytes>>>)> {
    let topic = (
        "[a-z]{1,12}",
        any::<u128>(),
        prop::collection::vec(partition(version), 0..3),
    );
    (
        (any::<i32>(), any::<i16>(), any::<i32>()),
        prop::collection::vec(topic, 0..3),
        prop::collection::vec(
            (
                any::<i32>(),
                "[a-z.]{1,12}",
                any::<i32>(),
                prop::option::of("[a-z]{1,5}"),
            ),
            0..2,
        ),
    )
        .prop_map(move |((throttle, error, session), topics, endpoints)| {
            let mut payloads = Vec::new();
            let responses = topics
                .into_iter()
                .map(|(name, id, partitions)| {
                    let mut topic = FetchableTopicResponse::default();
                    if version >= 13 {
                        topic.topic_id = uuid::Uuid::from_u128(id);
                    } else {
                        topic.topic = TopicName(StrBytes::from_string(name));
                    }
                    let (parts, records): (Vec<_>, Vec<_>) = partitions.into_iter().unzip();
                    payloads.push(records);
                    topic.with_partitions(parts)
                })
                .collect();
            let mut r = FetchResponse::default()
                .with_throttle_time_ms(throttle)
                .with_responses(responses);
            if version >= 7 {
                r.error_code = error;
                r.session_id = session;
            }
            if version >= 16 {
                r.node_endpoints = endpoints
                    .into_iter()
                    .map(|(id, host, port, rack)| {
                        NodeEndpoint::default()
                            .with_node_id(BrokerId(id))
                            .with_host(StrBytes::from_string(host))
                            .with_port(port)
                            .with_rack(rack.map(StrBytes::from_string))
                    })
                    .collect();
            }
            (r, payloads)
        })
}

#[test]
fn chunked_fetch_responses_decode_like_the_oracle_at_every_version() {
    for version in 4..=18 {
        let mut runner = TestRunner::new(Config {
            cases: 96,
            ..Config::default()
        });
        runner
            .run(&response(version), |(response, payloads)| {
                let typed: Vec<Vec<RecordsPayload<Bytes>>> = payloads
                    .iter()
                    .map(|topic| {
                        topic
                            .iter()
                            .map(|records| match records {
                                None => RecordsPayload::Null,
                                Some(bytes) => RecordsPayload::Records {
                                    records: bytes.clone(),
                                    len: bytes.len() as u64,
                                },
                            })
                            .collect()
                    })
                    .collect();
                let chunks = encode_fetch_response(version, 77, &response, typed).unwrap();
                let mut joined = BytesMut::new();
                for chunk in &chunks {
                    match chunk {
                        Chunk::Bytes(b) => joined.extend_from_slice(b),
                        Chunk::Records { records, len } => {
                            prop_assert_eq!(records.len() as u64, *len);
                            joined.extend_from_slice(records);
                        }
                    }
                }
                let mut frame = joined.freeze();
                let frame_len = frame.get_i32();
                prop_assert_eq!(frame_len as usize, frame.len());
                let header = ResponseHeader::decode(
                    &mut frame,
                    ApiKey::Fetch.response_header_version(version),
                )
                .unwrap();
                prop_assert_eq!(header.correlation_id, 77);
                let decoded = FetchResponse::decode(&mut frame, version).unwrap();
                prop_assert_eq!(frame.remaining(), 0);
                let mut expected = response.clone();
                for (topic, records) in expected.responses.iter_mut().zip(&payloads) {
                    for (partition, records) in topic.partitions.iter_mut().zip(records) {
                        partition.records = records.clone();
                    }
                }
                prop_assert_eq!(decoded, expected);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("Fetch v{version}: {e}"));
    }
}

#[test]
fn record_payloads_stay_separate_chunks() {
    let response = FetchResponse::default().with_responses(vec![FetchableTopicResponse::default()
        .with_topic(TopicName(StrBytes::from_static_str("t")))
        .with_partitions(vec![PartitionData::default(), PartitionData::default()])]);
    let payloads = vec![vec![
        RecordsPayload::Records {
            records: "region-a",
            len: 1000,
        },
        RecordsPayload::Records {
            records: "region-b",
            len: 2000,
        },
    ]];
    let chunks = encode_fetch_response(11, 1, &response, payloads).unwrap();
    let regions: Vec<&str> = chunks
        .iter()
        .filter_map(|c| match c {
            Chunk::Records { records, .. } => Some(*records),
            Chunk::Bytes(_) => None,
        })
        .collect();
    assert_eq!(regions, ["region-a", "region-b"]);
    let total: u64 = chunks.iter().map(Chunk::len).sum();
    let Chunk::Bytes(first) = &chunks[0] else {
        panic!("starts with bytes")
    };
    assert_eq!(
        i32::from_be_bytes(first[..4].try_into().unwrap()) as u64,
        total - 4
    );
}
