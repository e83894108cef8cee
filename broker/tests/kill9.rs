//! kill -9 during acks=all produce: after a restart, every acknowledged record is there,
//! at the offset it was acknowledged with.
//!
//! Four connections produce to their own partition with acks=-1 as fast as they can; the
//! broker process is SIGKILLed while requests are in flight. The records of every
//! acknowledged batch must then be fetched back unchanged. Unacknowledged batches may or
//! may not be there (they were never promised).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use common::process::Petrel;
use common::RawClient;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, BrokerId, CreateTopicsRequest, CreateTopicsResponse, FetchRequest, FetchResponse,
    ProduceRequest, ProduceResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

const TOPIC: &str = "acked";
const PRODUCERS: i32 = 4;
const RECORDS_PER_BATCH: usize = 10;
/// Acknowledged batches (over all producers) before the kill.
const ACKS_BEFORE_KILL: usize = 200;

fn topic() -> TopicName {
    TopicName(StrBytes::from_static_str(TOPIC))
}

fn batch(values: &[String]) -> Bytes {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, v)| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            sequence: i as i32 - 1,
            timestamp: 1_700_000_000_000,
            key: None,
            value: Some(Bytes::from(v.clone())),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &records,
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )
    .unwrap();
    buf.freeze()
}

/// Produces acks=all batches to `partition` until the connection fails, recording each
/// acknowledged record as (offset → value).
async fn produce_until_killed(
    addr: String,
    partition: i32,
    acked: Arc<Mutex<BTreeMap<(i32, i64), String>>>,
    acked_batches: Arc<AtomicUsize>,
) {
    let Ok(mut client) = RawClient::connect_to(&addr).await else {
        return;
    };
    for n in 0.. {
        let values: Vec<String> = (0..RECORDS_PER_BATCH)
            .map(|i| format!("p{partition}-b{n}-r{i}"))
            .collect();
        let request = ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(30_000)
            .with_topic_data(vec![TopicProduceData::default()
                .with_name(topic())
                .with_partition_data(vec![PartitionProduceData::default()
                    .with_index(partition)
                    .with_records(Some(batch(&values)))])]);
        let frame = common::request_frame(ApiKey::Produce, 9, n, &request);
        if client.send_raw(&frame).await.is_err() {
            return;
        }
        let Some(mut frame) = client.read_frame().await else {
            return; // killed
        };
        use kafka_protocol::protocol::Decodable;
        kafka_protocol::messages::ResponseHeader::decode(&mut frame, 1).unwrap();
        let response = ProduceResponse::decode(&mut frame, 9).unwrap();
        let result = &response.responses[0].partition_responses[0];
        assert_eq!(result.error_code, 0, "produce refused");
        let mut acked = acked.lock().unwrap();
        for (i, value) in values.into_iter().enumerate() {
            acked.insert((partition, result.base_offset + i as i64), value);
        }
        acked_batches.fetch_add(1, Ordering::SeqCst);
    }
}

async fn fetch_all(client: &mut RawClient, partition: i32) -> BTreeMap<(i32, i64), String> {
    let mut found = BTreeMap::new();
    let mut offset = 0;
    loop {
        let request = FetchRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_max_wait_ms(0)
            .with_max_bytes(1 << 20)
            .with_session_epoch(-1)
            .with_topics(vec![FetchTopic::default()
                .with_topic(topic())
                .with_partitions(vec![FetchPartition::default()
                    .with_partition(partition)
                    .with_fetch_offset(offset)
                    .with_partition_max_bytes(1 << 20)])]);
        let response: FetchResponse = client.call(ApiKey::Fetch, 12, 1, &request).await;
        let data = &response.responses[0].partitions[0];
        assert_eq!(data.error_code, 0);
        let Some(mut records) = data.records.clone().filter(|r| !r.is_empty()) else {
            return found;
        };
        for set in RecordBatchDecoder::decode_all(&mut records).unwrap() {
            for record in set.records {
                let value = String::from_utf8(record.value.unwrap().to_vec()).unwrap();
                found.insert((partition, record.offset), value);
                offset = record.offset + 1;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_records_survive_kill_9_during_acks_all_produce() {
    let petrel = Petrel::start(&[]);
    let mut admin = RawClient::connect_to(&petrel.listen).await.unwrap();
    let created: CreateTopicsResponse = admin
        .call(
            ApiKey::CreateTopics,
            7,
            1,
            &CreateTopicsRequest::default()
                .with_timeout_ms(10_000)
                .with_topics(vec![CreatableTopic::default()
                    .with_name(topic())
                    .with_num_partitions(PRODUCERS)
                    .with_replication_factor(1)]),
        )
        .await;
    assert_eq!(created.topics[0].error_code, 0);

    let acked = Arc::new(Mutex::new(BTreeMap::new()));
    let acked_batches = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|partition| {
            tokio::spawn(produce_until_killed(
                petrel.listen.clone(),
                partition,
                acked.clone(),
                acked_batches.clone(),
            ))
        })
        .collect();
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        while acked_batches.load(Ordering::SeqCst) < ACKS_BEFORE_KILL {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "producers too slow:\n{}", petrel.log());
    // The producers are mid-request: kill now.
    let dir = petrel.kill9();
    for producer in producers {
        tokio::time::timeout(Duration::from_secs(20), producer)
            .await
            .expect("producer notices the kill")
            .unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= ACKS_BEFORE_KILL * RECORDS_PER_BATCH);

    let petrel = Petrel::start_in(dir, &[]);
    let mut client = RawClient::connect_to(&petrel.listen).await.unwrap();
    let mut found = BTreeMap::new();
    for partition in 0..PRODUCERS {
        found.extend(fetch_all(&mut client, partition).await);
    }
    let missing: Vec<_> = acked
        .iter()
        .filter(|(key, value)| found.get(*key) != Some(*value))
        .take(5)
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged records lost or changed after kill -9, e.g. {missing:?}",
        acked
            .iter()
            .filter(|(k, v)| found.get(*k) != Some(*v))
            .count()
    );
    eprintln!(
        "kill -9: {} acknowledged records all found; {} stored in total",
        acked.len(),
        found.len()
    );
}
