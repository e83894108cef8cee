//! Produce, Fetch, ListOffsets, InitProducerId, CreateTopics and Metadata with topics,
//! over TCP against an in-process broker, with requests encoded and responses decoded by
//! `kafka-protocol` (independent of our codec), as a client sees them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use bytes::{Bytes, BytesMut};
use common::{request_frame, start_broker, RawClient};
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, CreateTopicsRequest, CreateTopicsResponse,
    FetchRequest, FetchResponse, InitProducerIdRequest, InitProducerIdResponse, ListOffsetsRequest,
    ListOffsetsResponse, MetadataRequest, MetadataResponse, ProduceRequest, ProduceResponse,
    TopicName, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

const NONE: i16 = 0;
const OFFSET_OUT_OF_RANGE: i16 = 1;
const CORRUPT_MESSAGE: i16 = 2;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const MESSAGE_TOO_LARGE: i16 = 10;
const COORDINATOR_NOT_AVAILABLE: i16 = 15;
const INVALID_TOPIC: i16 = 17;
const INVALID_REQUIRED_ACKS: i16 = 21;
const TOPIC_ALREADY_EXISTS: i16 = 36;
const INVALID_REPLICATION_FACTOR: i16 = 38;
const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
const INVALID_RECORD: i16 = 87;

fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// One v2 batch of `values` with keys "key-0", "key-1", ..., optionally idempotent
/// (producer id, epoch, base sequence).
fn batch(values: &[&str], producer: Option<(i64, i16, i32)>) -> Bytes {
    let records: Vec<(Option<String>, String)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (Some(format!("key-{i}")), v.to_string()))
        .collect();
    encode_batch(&records, producer)
}

/// One uncompressed v2 batch of (key, value) records, optionally idempotent.
fn encode_batch(records: &[(Option<String>, String)], producer: Option<(i64, i16, i32)>) -> Bytes {
    let (producer_id, producer_epoch, base_sequence) = producer.unwrap_or((-1, -1, -1));
    let records: Vec<Record> = records
        .iter()
        .enumerate()
        .map(|(i, (key, value))| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id,
            producer_epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // One batch: offset - sequence constant (see storage/tests/common).
            sequence: if base_sequence >= 0 {
                base_sequence + i as i32
            } else {
                i as i32 - 1
            },
            timestamp: now_ms(),
            key: key.clone().map(Bytes::from),
            value: Some(Bytes::from(value.clone())),
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

fn values_of(records: Option<Bytes>) -> Vec<(i64, String)> {
    let Some(mut bytes) = records else {
        return Vec::new();
    };
    if bytes.is_empty() {
        return Vec::new();
    }
    RecordBatchDecoder::decode_all(&mut bytes)
        .unwrap()
        .into_iter()
        .flat_map(|set| set.records)
        .map(|r| {
            (
                r.offset,
                String::from_utf8(r.value.unwrap().to_vec()).unwrap(),
            )
        })
        .collect()
}

async fn create_topic(
    client: &mut RawClient,
    topic: &str,
    partitions: i32,
    configs: &[(&str, &str)],
) -> CreateTopicsResponse {
    let request = CreateTopicsRequest::default().with_topics(vec![CreatableTopic::default()
        .with_name(name(topic))
        .with_num_partitions(partitions)
        .with_replication_factor(1)
        .with_configs(
            configs
                .iter()
                .map(|(k, v)| {
                    CreatableTopicConfig::default()
                        .with_name(StrBytes::from_string(k.to_string()))
                        .with_value(Some(StrBytes::from_string(v.to_string())))
                })
                .collect(),
        )]);
    client.call(ApiKey::CreateTopics, 7, 1, &request).await
}

fn produce_request(topic: &str, partition: i32, records: Bytes, acks: i16) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(name(topic))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(records))])])
}

async fn produce(
    client: &mut RawClient,
    version: i16,
    topic: &str,
    partition: i32,
    records: Bytes,
) -> (i16, i64) {
    let response: ProduceResponse = client
        .call(
            ApiKey::Produce,
            version,
            2,
            &produce_request(topic, partition, records, -1),
        )
        .await;
    let p = &response.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

fn fetch_request(
    version: i16,
    topic: &str,
    topic_id: uuid::Uuid,
    partition: i32,
    offset: i64,
) -> FetchRequest {
    let mut topic_entry = FetchTopic::default().with_partitions(vec![FetchPartition::default()
        .with_partition(partition)
        .with_fetch_offset(offset)
        .with_partition_max_bytes(1 << 20)]);
    if version >= 13 {
        topic_entry.topic_id = topic_id;
    } else {
        topic_entry.topic = name(topic);
    }
    let mut request = FetchRequest::default()
        .with_max_wait_ms(0)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![topic_entry]);
    if version >= 7 {
        request.session_epoch = -1;
    }
    if version < 15 {
        request.replica_id = kafka_protocol::messages::BrokerId(-1);
    }
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_topics_appear_in_metadata_with_their_partitions() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    let created = create_topic(&mut client, "orders", 3, &[("retention.ms", "86400000")]).await;
    let result = &created.topics[0];
    assert_eq!(result.error_code, NONE, "{:?}", result.error_message);
    assert_eq!(result.num_partitions, 3);
    assert!(!result.topic_id.is_nil());
    let retention = result
        .configs
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.name.as_str() == "retention.ms")
        .unwrap();
    assert_eq!(retention.value.as_ref().unwrap().as_str(), "86400000");
    let metadata: MetadataResponse = client
        .call(
            ApiKey::Metadata,
            12,
            3,
            &MetadataRequest::default().with_topics(Some(vec![
                MetadataRequestTopic::default().with_name(Some(name("orders")))
            ])),
        )
        .await;
    let topic = &metadata.topics[0];
    assert_eq!(topic.error_code, NONE);
    assert_eq!(topic.topic_id, result.topic_id);
    assert_eq!(topic.partitions.len(), 3);
    for p in &topic.partitions {
        assert_eq!(p.leader_id.0, broker.context.node_id);
        assert_eq!(p.isr_nodes.len(), 1);
    }
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_topics_refusals_carry_kafka_error_codes() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    assert_eq!(
        create_topic(&mut client, "t", 1, &[]).await.topics[0].error_code,
        NONE
    );
    assert_eq!(
        create_topic(&mut client, "t", 1, &[]).await.topics[0].error_code,
        TOPIC_ALREADY_EXISTS
    );
    assert_eq!(
        create_topic(&mut client, "bad name", 1, &[]).await.topics[0].error_code,
        INVALID_TOPIC
    );
    // Kafka refuses a name that differs from an existing one only in '.' versus '_'.
    assert_eq!(
        create_topic(&mut client, "a.b", 1, &[]).await.topics[0].error_code,
        NONE
    );
    assert_eq!(
        create_topic(&mut client, "a_b", 1, &[]).await.topics[0].error_code,
        INVALID_TOPIC
    );
    let replicated = CreateTopicsRequest::default().with_topics(vec![CreatableTopic::default()
        .with_name(name("r"))
        .with_num_partitions(1)
        .with_replication_factor(3)]);
    let response: CreateTopicsResponse = client.call(ApiKey::CreateTopics, 7, 1, &replicated).await;
    assert_eq!(response.topics[0].error_code, INVALID_REPLICATION_FACTOR);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produced_batches_are_fetched_back_at_every_fetch_generation() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    let topic_id = create_topic(&mut client, "events", 1, &[]).await.topics[0].topic_id;
    assert_eq!(
        produce(&mut client, 9, "events", 0, batch(&["a", "b", "c"], None)).await,
        (NONE, 0)
    );
    assert_eq!(
        produce(&mut client, 3, "events", 0, batch(&["d"], None)).await,
        (NONE, 3)
    );
    for version in [4, 7, 11, 12, 13, 16, 18] {
        let response: FetchResponse = client
            .call(
                ApiKey::Fetch,
                version,
                4,
                &fetch_request(version, "events", topic_id, 0, 1),
            )
            .await;
        let partition = &response.responses[0].partitions[0];
        assert_eq!(partition.error_code, NONE, "v{version}");
        assert_eq!(partition.high_watermark, 4, "v{version}");
        // Offset 1 is inside the first batch: the whole batch comes back, as in Kafka.
        let values = values_of(partition.records.clone());
        assert_eq!(
            values,
            vec![
                (0, "a".into()),
                (1, "b".into()),
                (2, "c".into()),
                (3, "d".into())
            ],
            "v{version}"
        );
    }
    broker.stop().await;
}

/// acks=all costs an fdatasync by default; with `fsync_acks_all` off it is answered from
/// the page cache (Kafka's default), and the records are still there to fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_all_fsyncs_unless_switched_off() {
    for fsync in [true, false] {
        let (broker, _dir) = start_broker(|c| c.fsync_acks_all = fsync).await;
        let mut client = RawClient::connect(&broker).await;
        create_topic(&mut client, "durable", 1, &[]).await;
        let disk = || {
            broker
                .context
                .topics
                .partitions
                .disk_stats()
                .fdatasync_calls
        };
        let before = disk();
        for i in 0..3 {
            let (code, offset) = produce(&mut client, 9, "durable", 0, batch(&["x"], None)).await;
            assert_eq!((code, offset), (NONE, i), "fsync_acks_all={fsync}");
        }
        let synced = disk() - before;
        if fsync {
            assert!(
                synced >= 3,
                "acks=all made {synced} fdatasyncs for 3 produces"
            );
        } else {
            assert_eq!(synced, 0, "acks=all fdatasynced with fsync_acks_all off");
        }
        broker.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_zero_gets_no_response_at_all() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    create_topic(&mut client, "fire", 1, &[]).await;
    let mut burst = request_frame(
        ApiKey::Produce,
        9,
        50,
        &produce_request("fire", 0, batch(&["x"], None), 0),
    )
    .to_vec();
    let api_versions = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("t"))
        .with_client_software_version(StrBytes::from_static_str("1"));
    burst.extend_from_slice(&request_frame(ApiKey::ApiVersions, 3, 51, &api_versions));
    client.send_raw(&burst).await.unwrap();
    let mut next = client.read_frame().await.unwrap();
    use bytes::Buf;
    assert_eq!(
        next.get_i32(),
        51,
        "the first response is for the request after the acks=0 produce"
    );
    let _: ApiVersionsResponse = client.call(ApiKey::ApiVersions, 3, 52, &api_versions).await;
    let offsets = list_offsets(&mut client, "fire", -1).await;
    assert_eq!(offsets.0, 1, "the acks=0 batch was written");
    broker.stop().await;
}

async fn list_offsets(client: &mut RawClient, topic: &str, timestamp: i64) -> (i64, i64) {
    let request = ListOffsetsRequest::default()
        .with_replica_id(kafka_protocol::messages::BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(name(topic))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(0)
                .with_timestamp(timestamp)])]);
    let response: ListOffsetsResponse = client.call(ApiKey::ListOffsets, 7, 9, &request).await;
    let p = &response.topics[0].partitions[0];
    assert_eq!(p.error_code, NONE);
    (p.offset, p.timestamp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_offsets_latest_earliest_and_by_timestamp() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    create_topic(&mut client, "times", 1, &[]).await;
    let before = now_ms();
    produce(&mut client, 9, "times", 0, batch(&["a", "b"], None)).await;
    std::thread::sleep(std::time::Duration::from_millis(5));
    let middle = now_ms();
    produce(&mut client, 9, "times", 0, batch(&["c"], None)).await;
    assert_eq!(list_offsets(&mut client, "times", -1).await.0, 3);
    assert_eq!(list_offsets(&mut client, "times", -2).await.0, 0);
    assert_eq!(list_offsets(&mut client, "times", before).await.0, 0);
    assert_eq!(list_offsets(&mut client, "times", middle).await.0, 2);
    assert_eq!(
        list_offsets(&mut client, "times", now_ms() + 60_000)
            .await
            .0,
        -1,
        "nothing that late"
    );
    let (offset, timestamp) = list_offsets(&mut client, "times", -3).await;
    assert_eq!(offset, 2);
    assert!(timestamp >= middle);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_retries_are_stored_once_and_gaps_are_refused() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    create_topic(&mut client, "idem", 1, &[]).await;
    let init: InitProducerIdResponse = client
        .call(
            ApiKey::InitProducerId,
            4,
            1,
            &InitProducerIdRequest::default()
                .with_transactional_id(None)
                .with_transaction_timeout_ms(-1),
        )
        .await;
    assert_eq!(init.error_code, NONE);
    let (pid, epoch) = (init.producer_id.0, init.producer_epoch);
    let first = batch(&["a", "b"], Some((pid, epoch, 0)));
    assert_eq!(
        produce(&mut client, 9, "idem", 0, first.clone()).await,
        (NONE, 0)
    );
    assert_eq!(
        produce(
            &mut client,
            9,
            "idem",
            0,
            batch(&["c"], Some((pid, epoch, 2)))
        )
        .await,
        (NONE, 2)
    );
    // The first batch again (a retry after a lost response): its original offset, no write.
    assert_eq!(produce(&mut client, 9, "idem", 0, first).await, (NONE, 0));
    assert_eq!(
        list_offsets(&mut client, "idem", -1).await.0,
        3,
        "stored once"
    );
    let (error, _) = produce(
        &mut client,
        9,
        "idem",
        0,
        batch(&["z"], Some((pid, epoch, 7))),
    )
    .await;
    assert_eq!(error, OUT_OF_ORDER_SEQUENCE_NUMBER);
    let transactional: InitProducerIdResponse = client
        .call(
            ApiKey::InitProducerId,
            4,
            2,
            &InitProducerIdRequest::default()
                .with_transactional_id(Some(TransactionalId(StrBytes::from_static_str("tx")))),
        )
        .await;
    assert_eq!(
        transactional.error_code, COORDINATOR_NOT_AVAILABLE,
        "no transaction coordinator yet"
    );
    broker.stop().await;
}

/// One uncompressed v2 batch whose records have these keys (values "v0", "v1", ...).
fn batch_with_keys(keys: &[Option<&str>]) -> Bytes {
    let records: Vec<(Option<String>, String)> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| (key.map(str::to_string), format!("v{i}")))
        .collect();
    encode_batch(&records, None)
}

/// The error code and the `record_errors` indexes of a one-partition produce.
async fn produce_record_errors(
    client: &mut RawClient,
    version: i16,
    topic: &str,
    records: Bytes,
) -> (i16, Vec<i32>) {
    let response: ProduceResponse = client
        .call(
            ApiKey::Produce,
            version,
            4,
            &produce_request(topic, 0, records, -1),
        )
        .await;
    let p = &response.responses[0].partition_responses[0];
    (
        p.error_code,
        p.record_errors.iter().map(|e| e.batch_index).collect(),
    )
}

/// Kafka's rule (and librdkafka test 0011's expectation): on a compacted topic a batch with
/// keyless records is refused whole with INVALID_RECORD, `record_errors` (v8+) naming each
/// keyless record, compressed batches included; an empty key is a key; other topics take
/// keyless records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compacted_topics_refuse_keyless_records() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    create_topic(
        &mut client,
        "compacted",
        1,
        &[("cleanup.policy", "compact")],
    )
    .await;
    create_topic(
        &mut client,
        "compact-delete",
        1,
        &[("cleanup.policy", "compact,delete")],
    )
    .await;
    create_topic(&mut client, "plain", 1, &[]).await;
    let mixed = batch_with_keys(&[Some("a"), None, Some(""), None]);
    for topic in ["compacted", "compact-delete"] {
        assert_eq!(
            produce_record_errors(&mut client, 9, topic, mixed.clone()).await,
            (INVALID_RECORD, vec![1, 3]),
            "{topic}"
        );
    }
    // Before v8 the response has no record_errors: the error alone.
    assert_eq!(
        produce_record_errors(&mut client, 7, "compacted", mixed.clone()).await,
        (INVALID_RECORD, vec![])
    );
    // A gzip batch written by the Java client whose record 3 has no key (see the fixture's
    // README): decompressed and refused the same way.
    let gzip = Bytes::from_static(include_bytes!(
        "../../protocol/tests/fixtures/compressed/java-gzip.bin"
    ));
    assert_eq!(
        produce_record_errors(&mut client, 9, "compacted", gzip.clone()).await,
        (INVALID_RECORD, vec![3])
    );
    assert_eq!(
        list_offsets(&mut client, "compacted", -1).await.0,
        0,
        "nothing of a refused batch is written"
    );
    let keyed = batch_with_keys(&[Some("a"), Some("")]);
    assert_eq!(
        produce_record_errors(&mut client, 9, "compacted", keyed).await,
        (NONE, vec![])
    );
    assert_eq!(list_offsets(&mut client, "compacted", -1).await.0, 2);
    assert_eq!(
        produce_record_errors(&mut client, 9, "plain", mixed).await,
        (NONE, vec![])
    );
    assert_eq!(
        produce_record_errors(&mut client, 9, "plain", gzip).await,
        (NONE, vec![])
    );
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_produce_requests_get_kafkas_error_codes() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    create_topic(&mut client, "strict", 1, &[("max.message.bytes", "200")]).await;
    let mut corrupt = BytesMut::from(&batch(&["a"], None)[..]);
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    assert_eq!(
        produce(&mut client, 9, "strict", 0, corrupt.freeze())
            .await
            .0,
        CORRUPT_MESSAGE
    );
    let big = "x".repeat(500);
    assert_eq!(
        produce(&mut client, 9, "strict", 0, batch(&[&big], None))
            .await
            .0,
        MESSAGE_TOO_LARGE
    );
    let mut two = BytesMut::from(&batch(&["a"], None)[..]);
    two.extend_from_slice(&batch(&["b"], None));
    assert_eq!(
        produce(&mut client, 9, "strict", 0, two.freeze()).await.0,
        INVALID_RECORD
    );
    assert_eq!(
        produce(&mut client, 9, "strict", 5, batch(&["a"], None))
            .await
            .0,
        UNKNOWN_TOPIC_OR_PARTITION
    );
    let response: ProduceResponse = client
        .call(
            ApiKey::Produce,
            9,
            3,
            &produce_request("strict", 0, batch(&["a"], None), 2),
        )
        .await;
    assert_eq!(
        response.responses[0].partition_responses[0].error_code,
        INVALID_REQUIRED_ACKS
    );
    assert_eq!(
        list_offsets(&mut client, "strict", -1).await.0,
        0,
        "nothing was written"
    );
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_out_of_range_and_long_poll_woken_by_a_produce() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    let topic_id = create_topic(&mut client, "wait", 1, &[]).await.topics[0].topic_id;
    let response: FetchResponse = client
        .call(
            ApiKey::Fetch,
            12,
            1,
            &fetch_request(12, "wait", topic_id, 0, 5),
        )
        .await;
    assert_eq!(
        response.responses[0].partitions[0].error_code,
        OFFSET_OUT_OF_RANGE
    );
    // Empty, not null, as Kafka sends: librdkafka rejects the whole response otherwise.
    for version in [12, 16] {
        let response: FetchResponse = client
            .call(
                ApiKey::Fetch,
                version,
                2,
                &fetch_request(version, "wait", topic_id, 0, 5),
            )
            .await;
        let partition = &response.responses[0].partitions[0];
        assert_eq!(partition.error_code, OFFSET_OUT_OF_RANGE, "v{version}");
        assert_eq!(partition.records, Some(Bytes::new()), "v{version}");
    }
    // A fetch that may wait a minute for data; a produce from another connection wakes it.
    let mut waiting = RawClient::connect(&broker).await;
    let long_poll = fetch_request(12, "wait", topic_id, 0, 0).with_max_wait_ms(60_000);
    waiting
        .send_raw(&request_frame(ApiKey::Fetch, 12, 7, &long_poll))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    produce(&mut client, 9, "wait", 0, batch(&["late"], None)).await;
    let mut frame = tokio::time::timeout(std::time::Duration::from_secs(20), waiting.read_frame())
        .await
        .expect("woken well before max_wait")
        .unwrap();
    use kafka_protocol::protocol::Decodable;
    let _ = kafka_protocol::messages::ResponseHeader::decode(&mut frame, 1).unwrap();
    let response = FetchResponse::decode(&mut frame, 12).unwrap();
    assert_eq!(
        values_of(response.responses[0].partitions[0].records.clone()),
        vec![(0, "late".into())]
    );
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_and_records_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let (broker, _unused) = start_broker(|c| c.data_dir = data.clone()).await;
    let mut client = RawClient::connect(&broker).await;
    let topic_id = create_topic(&mut client, "kept", 2, &[]).await.topics[0].topic_id;
    produce(&mut client, 9, "kept", 1, batch(&["one", "two"], None)).await;
    drop(client);
    broker.stop().await;
    let (broker, _unused) = start_broker(|c| c.data_dir = data.clone()).await;
    let mut client = RawClient::connect(&broker).await;
    let response: FetchResponse = client
        .call(
            ApiKey::Fetch,
            13,
            1,
            &fetch_request(13, "kept", topic_id, 1, 0),
        )
        .await;
    assert_eq!(
        values_of(response.responses[0].partitions[0].records.clone()),
        vec![(0, "one".into()), (1, "two".into())]
    );
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_runs_in_the_background_by_topic_config() {
    let (broker, _dir) = start_broker(|c| c.retention_check_interval_ms = 100).await;
    let mut client = RawClient::connect(&broker).await;
    let limits = [("segment.bytes", "1048576"), ("retention.bytes", "1048576")];
    assert_eq!(
        create_topic(&mut client, "bounded", 1, &limits)
            .await
            .topics[0]
            .error_code,
        NONE
    );
    let value = "v".repeat(100_000);
    for _ in 0..40 {
        assert_eq!(
            produce(&mut client, 9, "bounded", 0, batch(&[&value], None))
                .await
                .0,
            NONE
        );
    }
    let mut earliest = 0;
    for _ in 0..100 {
        earliest = list_offsets(&mut client, "bounded", -2).await.0;
        if earliest > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        earliest > 0,
        "retention.bytes deleted old segments in the background"
    );
    assert_eq!(
        list_offsets(&mut client, "bounded", -1).await.0,
        40,
        "the newest data is kept"
    );
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_sessions_send_only_partitions_with_news() {
    const FETCH_SESSION_ID_NOT_FOUND: i16 = 70;
    const INVALID_FETCH_SESSION_EPOCH: i16 = 71;
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    let topic_id = create_topic(&mut client, "s", 2, &[]).await.topics[0].topic_id;
    produce(&mut client, 9, "s", 0, batch(&["a0"], None)).await;
    let partitions = |offsets: &[(i32, i64)]| {
        vec![FetchTopic::default()
            .with_topic_id(topic_id)
            .with_partitions(
                offsets
                    .iter()
                    .map(|&(p, o)| {
                        FetchPartition::default()
                            .with_partition(p)
                            .with_fetch_offset(o)
                            .with_partition_max_bytes(1 << 20)
                    })
                    .collect(),
            )]
    };
    let fetch = |session_id: i32, epoch: i32, topics| {
        FetchRequest::default()
            .with_max_wait_ms(0)
            .with_min_bytes(0)
            .with_max_bytes(1 << 20)
            .with_session_id(session_id)
            .with_session_epoch(epoch)
            .with_topics(topics)
    };
    let listed = |r: &FetchResponse| -> Vec<(i32, Vec<(i64, String)>)> {
        r.responses
            .iter()
            .flat_map(|t| t.partitions.iter())
            .map(|p| (p.partition_index, values_of(p.records.clone())))
            .collect()
    };

    // Full request, epoch 0: a session is created and both partitions are listed.
    let full: FetchResponse = client
        .call(
            ApiKey::Fetch,
            16,
            1,
            &fetch(0, 0, partitions(&[(0, 0), (1, 0)])),
        )
        .await;
    assert_eq!(full.error_code, NONE);
    assert_ne!(full.session_id, 0, "a session was created");
    assert_eq!(
        listed(&full),
        vec![(0, vec![(0, "a0".to_string())]), (1, vec![])]
    );
    let id = full.session_id;

    // Incremental, epoch 1: partition 0's position moved past its data and nothing else
    // changed, so nothing is listed.
    let quiet: FetchResponse = client
        .call(ApiKey::Fetch, 16, 2, &fetch(id, 1, partitions(&[(0, 1)])))
        .await;
    assert_eq!((quiet.error_code, quiet.session_id), (NONE, id));
    assert_eq!(listed(&quiet), vec![]);

    // Data arrives on partition 1 only: only partition 1 is listed, though the request
    // names no partition at all.
    produce(&mut client, 9, "s", 1, batch(&["b0", "b1"], None)).await;
    let news: FetchResponse = client
        .call(ApiKey::Fetch, 16, 3, &fetch(id, 2, Vec::new()))
        .await;
    assert_eq!(
        listed(&news),
        vec![(1, vec![(0, "b0".to_string()), (1, "b1".to_string())])]
    );

    // A stale epoch and an unknown session are refused with Kafka's codes.
    let stale: FetchResponse = client
        .call(ApiKey::Fetch, 16, 4, &fetch(id, 1, Vec::new()))
        .await;
    assert_eq!(stale.error_code, INVALID_FETCH_SESSION_EPOCH);
    let unknown: FetchResponse = client
        .call(ApiKey::Fetch, 16, 5, &fetch(id ^ 1, 1, Vec::new()))
        .await;
    assert_eq!(unknown.error_code, FETCH_SESSION_ID_NOT_FOUND);

    // Epoch -1 closes it; the id is then unknown.
    let closing: FetchResponse = client
        .call(ApiKey::Fetch, 16, 6, &fetch(id, -1, partitions(&[(0, 1)])))
        .await;
    assert_eq!((closing.error_code, closing.session_id), (NONE, 0));
    let after: FetchResponse = client
        .call(ApiKey::Fetch, 16, 7, &fetch(id, 3, Vec::new()))
        .await;
    assert_eq!(after.error_code, FETCH_SESSION_ID_NOT_FOUND);
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_producer_state_survives_restarts_across_rolled_segments() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let (broker, _unused) = start_broker(|c| c.data_dir = data.clone()).await;
    let mut client = RawClient::connect(&broker).await;
    // The smallest segments Kafka allows (1 MiB) and 300 kB batches: three per segment, so
    // a producer's last five batches span several segments, not just the active one.
    create_topic(&mut client, "roll", 1, &[("segment.bytes", "1048576")]).await;
    let init: InitProducerIdResponse = client
        .call(
            ApiKey::InitProducerId,
            4,
            1,
            &InitProducerIdRequest::default()
                .with_transactional_id(None)
                .with_transaction_timeout_ms(-1),
        )
        .await;
    let (pid, epoch) = (init.producer_id.0, init.producer_epoch);
    let big = "v".repeat(300_000);
    let batches: Vec<Bytes> = (0..15)
        .map(|n| batch(&[big.as_str()], Some((pid, epoch, n))))
        .collect();
    for (n, b) in batches.iter().enumerate() {
        assert_eq!(
            produce(&mut client, 9, "roll", 0, b.clone()).await,
            (NONE, n as i64)
        );
    }
    let segments = |data: &std::path::Path| {
        std::fs::read_dir(data.join("roll-0"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("log".as_ref()))
            .count()
    };
    assert!(segments(&data) >= 4, "segments rolled");
    drop(client);
    broker.stop().await;

    // Restart 1 uses the snapshot written at shutdown; restart 2 has none (as after a
    // crash before any snapshot) and replays the log. Each time, a retry of the oldest
    // batch remembered (five back, in an older segment) is a duplicate, and the next
    // sequence appends.
    for (round, remove_snapshot) in [(0usize, false), (1, true)] {
        let snapshot = data.join("roll-0").join("petrel-producer-state.json");
        assert!(snapshot.exists(), "snapshot written at shutdown");
        if remove_snapshot {
            std::fs::remove_file(&snapshot).unwrap();
        }
        let (broker, _unused) = start_broker(|c| c.data_dir = data.clone()).await;
        let mut client = RawClient::connect(&broker).await;
        assert_eq!(
            produce(&mut client, 9, "roll", 0, batches[10 + round].clone()).await,
            (NONE, 10 + round as i64),
            "round {round}: a retry of an old batch is answered with its offset"
        );
        let next = 15 + round as i64;
        assert_eq!(
            produce(
                &mut client,
                9,
                "roll",
                0,
                batch(&["next"], Some((pid, epoch, next as i32)))
            )
            .await,
            (NONE, next),
            "round {round}: the next sequence appends"
        );
        drop(client);
        broker.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_by_topic_id_ignores_the_empty_name_the_java_client_sends() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    let topic_id = create_topic(&mut client, "by-id", 2, &[]).await.topics[0].topic_id;
    let metadata: MetadataResponse = client
        .call(
            ApiKey::Metadata,
            12,
            1,
            &MetadataRequest::default().with_topics(Some(vec![MetadataRequestTopic::default()
                .with_topic_id(topic_id)
                .with_name(Some(name("")))])),
        )
        .await;
    let topic = &metadata.topics[0];
    assert_eq!(topic.error_code, NONE);
    assert_eq!(topic.name.as_ref().unwrap().0.as_str(), "by-id");
    assert_eq!(topic.partitions.len(), 2);
    broker.stop().await;
}
