//! Black-box tests of the admin APIs (DeleteTopics, CreatePartitions, DeleteRecords,
//! DescribeCluster, DescribeConfigs, AlterConfigs, IncrementalAlterConfigs,
//! DescribeLogDirs): a broker in-process on port 0, spoken to over TCP with requests
//! encoded by `kafka-protocol`, answers checked as a client sees them. Topics and records
//! are set up through the topic service and the partition logs directly, so these tests do
//! not depend on CreateTopics or Produce.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use common::{start_broker, RawClient};
use kafka_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsTopic,
};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult,
};
use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::{
    alter_configs_request, incremental_alter_configs_request, AlterConfigsRequest,
    AlterConfigsResponse, ApiKey, BrokerId, CreatePartitionsRequest, CreatePartitionsResponse,
    DeleteRecordsRequest, DeleteRecordsResponse, DeleteTopicsRequest, DeleteTopicsResponse,
    DescribeClusterRequest, DescribeClusterResponse, DescribeConfigsRequest,
    DescribeConfigsResponse, DescribeLogDirsRequest, DescribeLogDirsResponse,
    IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use petrel_broker::RunningBroker;
use petrel_storage::Durability;
use uuid::Uuid;

const OFFSET_OUT_OF_RANGE: i16 = 1;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const INVALID_TOPIC_EXCEPTION: i16 = 17;
const INVALID_PARTITIONS: i16 = 37;
const INVALID_REPLICA_ASSIGNMENT: i16 = 39;
const INVALID_CONFIG: i16 = 40;
const INVALID_REQUEST: i16 = 42;
const UNKNOWN_TOPIC_ID: i16 = 100;
const MISMATCHED_ENDPOINT_TYPE: i16 = 114;
const UNSUPPORTED_ENDPOINT_TYPE: i16 = 115;

const RESOURCE_TOPIC: i8 = 2;
const RESOURCE_BROKER: i8 = 4;
const SOURCE_TOPIC_CONFIG: i8 = 1;
const SOURCE_STATIC_BROKER_CONFIG: i8 = 4;
const SOURCE_DEFAULT_CONFIG: i8 = 5;
const OP_SET: i8 = 0;
const OP_DELETE: i8 = 1;
const OP_APPEND: i8 = 2;
const OP_SUBTRACT: i8 = 3;

fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

fn s(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_string())
}

async fn create_topic(
    broker: &RunningBroker,
    name: &str,
    partitions: i32,
    configs: &[(&str, &str)],
) -> Uuid {
    let configs: BTreeMap<String, String> = configs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    broker
        .context
        .topics
        .create(name, partitions, configs, false)
        .await
        .expect("topic created")
        .id
}

/// Appends one batch of `count` records to a partition, as a producer's batch would land.
async fn append_records(broker: &RunningBroker, topic: &str, partition: i32, count: usize) {
    let records: Vec<Record> = (0..count)
        .map(|i| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: 0,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            sequence: -1,
            timestamp: 1_700_000_000_000,
            key: None,
            value: Some(Bytes::from(vec![b'x'; 100])),
            headers: Default::default(),
        })
        .collect();
    let mut batch = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut batch,
        &records,
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )
    .expect("batch encodes");
    let partition = broker
        .context
        .topics
        .partitions
        .get(topic, partition)
        .expect("partition hosted");
    partition
        .log
        .append(batch, 0, Durability::PageCache)
        .await
        .expect("append");
}

// ---------------------------------------------------------------------------------------
// DescribeCluster
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn describe_cluster_reports_this_node_at_every_version() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let ctx = broker.context.clone();
    let mut client = RawClient::connect(&broker).await;
    for version in 0..=2 {
        let response: DescribeClusterResponse = client
            .call(
                ApiKey::DescribeCluster,
                version,
                version.into(),
                &DescribeClusterRequest::default(),
            )
            .await;
        assert_eq!(response.error_code, 0, "v{version}");
        assert_eq!(response.error_message, None, "v{version}");
        assert_eq!(response.cluster_id.as_str(), ctx.cluster_id, "v{version}");
        assert_eq!(response.controller_id, BrokerId(ctx.node_id), "v{version}");
        assert_eq!(response.brokers.len(), 1, "v{version}");
        let node = &response.brokers[0];
        assert_eq!(node.broker_id, BrokerId(ctx.node_id));
        assert_eq!(node.host.as_str(), ctx.advertised.host);
        assert_eq!(node.port, ctx.advertised.port);
        assert_eq!(node.rack, None);
        assert!(!node.is_fenced);
        assert_eq!(response.endpoint_type, 1, "v{version}: brokers");
        assert_eq!(
            response.cluster_authorized_operations,
            i32::MIN,
            "v{version}: not requested"
        );
    }
    let response: DescribeClusterResponse = client
        .call(
            ApiKey::DescribeCluster,
            2,
            9,
            &DescribeClusterRequest::default().with_include_cluster_authorized_operations(true),
        )
        .await;
    // CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS,
    // IDEMPOTENT_WRITE: everything, with no authorizer.
    let expected = [5, 7, 8, 9, 10, 11, 12]
        .iter()
        .fold(0, |bits, op| bits | (1 << op));
    assert_eq!(response.cluster_authorized_operations, expected);
    broker.stop().await;
}

#[tokio::test]
async fn describe_cluster_refuses_endpoint_types_other_than_broker() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    for version in 1..=2 {
        let controllers: DescribeClusterResponse = client
            .call(
                ApiKey::DescribeCluster,
                version,
                1,
                &DescribeClusterRequest::default().with_endpoint_type(2),
            )
            .await;
        assert_eq!(
            controllers.error_code, MISMATCHED_ENDPOINT_TYPE,
            "v{version}"
        );
        assert!(controllers.error_message.is_some());
        assert!(controllers.brokers.is_empty());
        let unknown: DescribeClusterResponse = client
            .call(
                ApiKey::DescribeCluster,
                version,
                2,
                &DescribeClusterRequest::default().with_endpoint_type(7),
            )
            .await;
        assert_eq!(unknown.error_code, UNSUPPORTED_ENDPOINT_TYPE, "v{version}");
        assert_eq!(
            unknown.error_message.as_ref().map(|m| m.as_str()),
            Some("Unsupported endpoint type 7")
        );
    }
    broker.stop().await;
}

// ---------------------------------------------------------------------------------------
// DeleteTopics
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn delete_topics_by_name_before_v6() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    create_topic(&broker, "doomed-a", 2, &[]).await;
    create_topic(&broker, "doomed-b", 1, &[]).await;
    let data_dir = broker.context.config.data_dir.clone();
    assert!(data_dir.join("doomed-a-1").is_dir());

    let response: DeleteTopicsResponse = client
        .call(
            ApiKey::DeleteTopics,
            4,
            1,
            &DeleteTopicsRequest::default()
                .with_topic_names(vec![topic_name("doomed-a"), topic_name("never-was")])
                .with_timeout_ms(5000),
        )
        .await;
    let by_name: BTreeMap<String, (i16, Option<String>)> = response
        .responses
        .iter()
        .map(|r| {
            (
                r.name.as_ref().unwrap().0.to_string(),
                (
                    r.error_code,
                    r.error_message.as_ref().map(|m| m.to_string()),
                ),
            )
        })
        .collect();
    assert_eq!(by_name["doomed-a"], (0, None));
    // v4 has no error message field.
    assert_eq!(by_name["never-was"], (UNKNOWN_TOPIC_OR_PARTITION, None));
    assert!(broker.context.topics.get("doomed-a").is_none());
    assert!(broker
        .context
        .topics
        .partitions
        .get("doomed-a", 0)
        .is_none());
    assert!(!data_dir.join("doomed-a-0").exists());
    assert!(!data_dir.join("doomed-a-1").exists());

    // v5 adds error messages; duplicates are refused once and not deleted.
    let response: DeleteTopicsResponse = client
        .call(
            ApiKey::DeleteTopics,
            5,
            2,
            &DeleteTopicsRequest::default().with_topic_names(vec![
                topic_name("doomed-b"),
                topic_name("doomed-b"),
                topic_name("never-was"),
            ]),
        )
        .await;
    assert_eq!(response.responses.len(), 2);
    let dup = response
        .responses
        .iter()
        .find(|r| r.name.as_ref().unwrap().0.as_str() == "doomed-b")
        .unwrap();
    assert_eq!(dup.error_code, INVALID_REQUEST);
    assert_eq!(dup.error_message.as_deref(), Some("Duplicate topic name."));
    let unknown = response
        .responses
        .iter()
        .find(|r| r.name.as_ref().unwrap().0.as_str() == "never-was")
        .unwrap();
    assert_eq!(unknown.error_code, UNKNOWN_TOPIC_OR_PARTITION);
    assert!(unknown.error_message.is_some());
    assert!(broker.context.topics.get("doomed-b").is_some());
    broker.stop().await;
}

#[tokio::test]
async fn delete_topics_v6_by_name_or_id() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    let by_id = create_topic(&broker, "by-id", 1, &[]).await;
    let by_name = create_topic(&broker, "by-name", 1, &[]).await;
    let kept = create_topic(&broker, "kept", 1, &[]).await;
    let missing_id = Uuid::new_v4();
    let state = |name: Option<&str>, id: Uuid| {
        DeleteTopicState::default()
            .with_name(name.map(topic_name))
            .with_topic_id(id)
    };
    let response: DeleteTopicsResponse = client
        .call(
            ApiKey::DeleteTopics,
            6,
            1,
            &DeleteTopicsRequest::default().with_topics(vec![
                state(None, by_id),
                state(Some("by-name"), Uuid::nil()),
                state(None, missing_id),
                state(Some("kept"), kept),
                state(None, Uuid::nil()),
            ]),
        )
        .await;
    assert_eq!(response.responses.len(), 5);
    let find = |id: Uuid, name: Option<&str>| {
        response
            .responses
            .iter()
            .find(|r| r.topic_id == id && r.name.as_ref().map(|n| n.0.as_str()) == name)
            .unwrap_or_else(|| panic!("no result for {name:?}/{id}: {:?}", response.responses))
    };
    let deleted = find(by_id, Some("by-id"));
    assert_eq!(
        (deleted.error_code, deleted.error_message.as_deref()),
        (0, None)
    );
    assert_eq!(find(by_name, Some("by-name")).error_code, 0);
    let unknown = find(missing_id, None);
    assert_eq!(unknown.error_code, UNKNOWN_TOPIC_ID);
    assert!(unknown.error_message.is_some());
    let both = find(kept, Some("kept"));
    assert_eq!(both.error_code, INVALID_REQUEST);
    assert_eq!(
        both.error_message.as_deref(),
        Some("You may not specify both topic name and topic id.")
    );
    assert_eq!(find(Uuid::nil(), None).error_code, INVALID_REQUEST);

    assert!(broker.context.topics.get("by-id").is_none());
    assert!(broker.context.topics.get("by-name").is_none());
    assert!(broker.context.topics.get("kept").is_some());
    broker.stop().await;
}

// ---------------------------------------------------------------------------------------
// CreatePartitions
// ---------------------------------------------------------------------------------------

fn grow(name: &str, count: i32) -> CreatePartitionsTopic {
    CreatePartitionsTopic::default()
        .with_name(topic_name(name))
        .with_count(count)
        .with_assignments(None)
}

fn assigned(name: &str, count: i32, assignments: &[&[i32]]) -> CreatePartitionsTopic {
    grow(name, count).with_assignments(Some(
        assignments
            .iter()
            .map(|ids| {
                CreatePartitionsAssignment::default()
                    .with_broker_ids(ids.iter().map(|id| BrokerId(*id)).collect())
            })
            .collect(),
    ))
}

async fn create_partitions(
    client: &mut RawClient,
    version: i16,
    topics: Vec<CreatePartitionsTopic>,
    validate_only: bool,
) -> BTreeMap<String, (i16, Option<String>)> {
    let response: CreatePartitionsResponse = client
        .call(
            ApiKey::CreatePartitions,
            version,
            1,
            &CreatePartitionsRequest::default()
                .with_topics(topics)
                .with_timeout_ms(5000)
                .with_validate_only(validate_only),
        )
        .await;
    response
        .results
        .into_iter()
        .map(|r| {
            (
                r.name.0.to_string(),
                (r.error_code, r.error_message.map(|m| m.to_string())),
            )
        })
        .collect()
}

#[tokio::test]
async fn create_partitions_grows_topics_as_kafka_does() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let node = broker.context.node_id;
    let mut client = RawClient::connect(&broker).await;
    create_topic(&broker, "grow", 1, &[]).await;
    create_topic(&broker, "manual", 1, &[]).await;

    for version in 0..=3 {
        let count = 2 + i32::from(version);
        let results =
            create_partitions(&mut client, version, vec![grow("grow", count)], false).await;
        assert_eq!(results["grow"], (0, None), "v{version}");
        assert_eq!(broker.context.topics.get("grow").unwrap().partitions, count);
        assert!(broker
            .context
            .topics
            .partitions
            .get("grow", count - 1)
            .is_some());
    }

    // validate_only checks and changes nothing.
    let results = create_partitions(&mut client, 3, vec![grow("grow", 10)], true).await;
    assert_eq!(results["grow"], (0, None));
    assert_eq!(broker.context.topics.get("grow").unwrap().partitions, 5);
    assert!(broker.context.topics.partitions.get("grow", 5).is_none());

    let results = create_partitions(
        &mut client,
        3,
        vec![grow("grow", 5), grow("manual", 0)],
        false,
    )
    .await;
    assert_eq!(
        results["grow"],
        (
            INVALID_PARTITIONS,
            Some("Topic already has 5 partition(s).".into())
        )
    );
    assert_eq!(
        results["manual"],
        (
            INVALID_PARTITIONS,
            Some(
                "The topic manual currently has 1 partition(s); 0 would not be an increase.".into()
            )
        )
    );

    let results = create_partitions(&mut client, 3, vec![grow("never-was", 3)], false).await;
    assert_eq!(results["never-was"].0, UNKNOWN_TOPIC_OR_PARTITION);

    // Manual assignments: one per new partition, naming only this node, once.
    let results = create_partitions(
        &mut client,
        3,
        vec![assigned("manual", 3, &[&[node], &[node + 1]])],
        false,
    )
    .await;
    assert_eq!(results["manual"].0, INVALID_REPLICA_ASSIGNMENT);
    assert!(results["manual"]
        .1
        .as_ref()
        .unwrap()
        .contains(&format!("broker {}", node + 1)));
    let results = create_partitions(
        &mut client,
        3,
        vec![assigned("manual", 3, &[&[node]])],
        false,
    )
    .await;
    assert_eq!(results["manual"].0, INVALID_REPLICA_ASSIGNMENT);
    let results = create_partitions(
        &mut client,
        3,
        vec![assigned("manual", 2, &[&[node, node]])],
        false,
    )
    .await;
    assert_eq!(results["manual"].0, INVALID_REPLICA_ASSIGNMENT);
    let results =
        create_partitions(&mut client, 3, vec![assigned("manual", 2, &[&[]])], false).await;
    assert_eq!(results["manual"].0, INVALID_REPLICA_ASSIGNMENT);
    assert_eq!(broker.context.topics.get("manual").unwrap().partitions, 1);
    let results = create_partitions(
        &mut client,
        3,
        vec![assigned("manual", 3, &[&[node], &[node]])],
        false,
    )
    .await;
    assert_eq!(results["manual"], (0, None));
    assert_eq!(broker.context.topics.get("manual").unwrap().partitions, 3);

    // A topic named twice is refused once and left alone.
    let response: CreatePartitionsResponse = client
        .call(
            ApiKey::CreatePartitions,
            3,
            2,
            &CreatePartitionsRequest::default()
                .with_topics(vec![grow("manual", 4), grow("manual", 5)]),
        )
        .await;
    assert_eq!(response.results.len(), 1);
    assert_eq!(response.results[0].error_code, INVALID_REQUEST);
    assert_eq!(broker.context.topics.get("manual").unwrap().partitions, 3);
    broker.stop().await;
}

// ---------------------------------------------------------------------------------------
// DeleteRecords
// ---------------------------------------------------------------------------------------

async fn delete_records(
    client: &mut RawClient,
    version: i16,
    topic: &str,
    offsets: &[(i32, i64)],
) -> Vec<(i32, i64, i16)> {
    let response: DeleteRecordsResponse = client
        .call(
            ApiKey::DeleteRecords,
            version,
            1,
            &DeleteRecordsRequest::default()
                .with_topics(vec![DeleteRecordsTopic::default()
                    .with_name(topic_name(topic))
                    .with_partitions(
                        offsets
                            .iter()
                            .map(|(p, o)| {
                                DeleteRecordsPartition::default()
                                    .with_partition_index(*p)
                                    .with_offset(*o)
                            })
                            .collect(),
                    )])
                .with_timeout_ms(5000),
        )
        .await;
    assert_eq!(response.topics.len(), 1);
    assert_eq!(response.topics[0].name.0.as_str(), topic);
    response.topics[0]
        .partitions
        .iter()
        .map(|p| (p.partition_index, p.low_watermark, p.error_code))
        .collect()
}

#[tokio::test]
async fn delete_records_moves_the_log_start_offset() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    create_topic(&broker, "trim", 2, &[]).await;
    for _ in 0..5 {
        append_records(&broker, "trim", 0, 2).await; // offsets 0-9
    }
    append_records(&broker, "trim", 1, 3).await; // offsets 0-2

    for version in 0..=2 {
        let trimmed =
            delete_records(&mut client, version, "trim", &[(0, 2 + i64::from(version))]).await;
        assert_eq!(trimmed, [(0, 2 + i64::from(version), 0)], "v{version}");
    }
    let log = &broker.context.topics.partitions.get("trim", 0).unwrap().log;
    assert_eq!(log.log_start_offset().await, 4);

    // Below the current start: nothing moves; past the high watermark or negative (other
    // than -1): OFFSET_OUT_OF_RANGE; unknown partition: UNKNOWN_TOPIC_OR_PARTITION.
    let results = delete_records(&mut client, 2, "trim", &[(0, 1), (1, 4), (1, -2), (7, 0)]).await;
    assert_eq!(
        results,
        [
            (0, 4, 0),
            (1, -1, OFFSET_OUT_OF_RANGE),
            (1, -1, OFFSET_OUT_OF_RANGE),
            (7, -1, UNKNOWN_TOPIC_OR_PARTITION),
        ]
    );
    // -1 is the high watermark: everything written.
    let results = delete_records(&mut client, 2, "trim", &[(0, -1), (1, 3)]).await;
    assert_eq!(results, [(0, 10, 0), (1, 3, 0)]);
    assert_eq!(log.log_start_offset().await, 10);
    assert_eq!(log.log_end_offset(), 10);

    let results = delete_records(&mut client, 2, "never-was", &[(0, 0)]).await;
    assert_eq!(results, [(0, -1, UNKNOWN_TOPIC_OR_PARTITION)]);
    broker.stop().await;
}

// ---------------------------------------------------------------------------------------
// DescribeConfigs / AlterConfigs / IncrementalAlterConfigs
// ---------------------------------------------------------------------------------------

fn resource(resource_type: i8, name: &str, keys: Option<&[&str]>) -> DescribeConfigsResource {
    DescribeConfigsResource::default()
        .with_resource_type(resource_type)
        .with_resource_name(s(name))
        .with_configuration_keys(keys.map(|keys| keys.iter().map(|k| s(k)).collect()))
}

async fn describe_configs(
    client: &mut RawClient,
    version: i16,
    resources: Vec<DescribeConfigsResource>,
    synonyms: bool,
    documentation: bool,
) -> Vec<DescribeConfigsResult> {
    let mut request = DescribeConfigsRequest::default()
        .with_resources(resources)
        .with_include_synonyms(synonyms);
    if version >= 3 {
        request.include_documentation = documentation;
    }
    let response: DescribeConfigsResponse = client
        .call(ApiKey::DescribeConfigs, version, 1, &request)
        .await;
    response.results
}

fn config<'a>(result: &'a DescribeConfigsResult, name: &str) -> &'a DescribeConfigsResourceResult {
    result
        .configs
        .iter()
        .find(|c| c.name.as_str() == name)
        .unwrap_or_else(|| panic!("{name} not described"))
}

fn value(result: &DescribeConfigsResult, name: &str) -> String {
    config(result, name).value.as_ref().unwrap().to_string()
}

#[tokio::test]
async fn describe_configs_reports_topic_overrides_defaults_and_synonyms() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    create_topic(&broker, "described", 1, &[("retention.ms", "3600000")]).await;
    let all = petrel_broker::topics::config_defs::TOPIC_CONFIGS;

    for version in 1..=4 {
        let results = describe_configs(
            &mut client,
            version,
            vec![resource(RESOURCE_TOPIC, "described", None)],
            true,
            true,
        )
        .await;
        let topic = &results[0];
        assert_eq!(
            (topic.error_code, topic.error_message.as_deref()),
            (0, None)
        );
        assert_eq!(
            (topic.resource_type, topic.resource_name.as_str()),
            (RESOURCE_TOPIC, "described")
        );
        assert_eq!(topic.configs.len(), all.len(), "v{version}");

        let retention = config(topic, "retention.ms");
        assert_eq!(retention.value.as_deref(), Some("3600000"));
        assert_eq!(retention.config_source, SOURCE_TOPIC_CONFIG);
        assert!(!retention.read_only && !retention.is_sensitive);
        let synonyms: Vec<(&str, Option<&str>, i8)> = retention
            .synonyms
            .iter()
            .map(|s| (s.name.as_str(), s.value.as_deref(), s.source))
            .collect();
        assert_eq!(
            synonyms,
            [
                ("retention.ms", Some("3600000"), SOURCE_TOPIC_CONFIG),
                ("log.retention.hours", Some("168"), SOURCE_DEFAULT_CONFIG),
            ]
        );

        let segment = config(topic, "segment.bytes");
        assert_eq!(segment.value.as_deref(), Some("1073741824"));
        assert_eq!(segment.config_source, SOURCE_DEFAULT_CONFIG);
        assert_eq!(segment.synonyms.len(), 1);
        assert_eq!(segment.synonyms[0].name.as_str(), "log.segment.bytes");

        if version >= 3 {
            assert_eq!(retention.config_type, 5, "LONG");
            assert_eq!(segment.config_type, 3, "INT");
            assert_eq!(config(topic, "cleanup.policy").config_type, 7, "LIST");
            assert_eq!(
                config(topic, "unclean.leader.election.enable").config_type,
                1,
                "BOOLEAN"
            );
            assert!(retention
                .documentation
                .as_ref()
                .is_some_and(|d| !d.is_empty()));
        }
    }

    // Without synonyms or documentation; only the keys asked for (unknown keys are skipped).
    let results = describe_configs(
        &mut client,
        4,
        vec![resource(
            RESOURCE_TOPIC,
            "described",
            Some(&["retention.ms", "no.such.config"]),
        )],
        false,
        false,
    )
    .await;
    let topic = &results[0];
    assert_eq!(topic.configs.len(), 1);
    assert!(topic.configs[0].synonyms.is_empty());
    assert_eq!(topic.configs[0].config_source, SOURCE_TOPIC_CONFIG);
    assert_eq!(topic.configs[0].documentation, None);

    let results = describe_configs(
        &mut client,
        4,
        vec![
            resource(RESOURCE_TOPIC, "never-was", None),
            resource(RESOURCE_TOPIC, "bad name", None),
            resource(8, "1", None),
        ],
        false,
        false,
    )
    .await;
    assert_eq!(results[0].error_code, UNKNOWN_TOPIC_OR_PARTITION);
    assert!(results[0].configs.is_empty());
    assert_eq!(results[1].error_code, INVALID_TOPIC_EXCEPTION);
    assert_eq!(results[2].error_code, INVALID_REQUEST);
    broker.stop().await;
}

#[tokio::test]
async fn describe_configs_reports_the_static_broker_configs() {
    let (broker, _dir) = start_broker(|c| c.num_partitions = 3).await;
    let node = broker.context.node_id;
    let mut client = RawClient::connect(&broker).await;
    let results = describe_configs(
        &mut client,
        4,
        vec![
            resource(RESOURCE_BROKER, &node.to_string(), None),
            resource(RESOURCE_BROKER, "", None),
            resource(RESOURCE_BROKER, &(node + 1).to_string(), None),
            resource(RESOURCE_BROKER, "me", None),
        ],
        true,
        false,
    )
    .await;
    let ours = &results[0];
    assert_eq!(ours.error_code, 0);
    assert!(ours.configs.iter().all(|c| c.read_only && !c.is_sensitive));
    assert_eq!(value(ours, "node.id"), node.to_string());
    let data_dir = std::path::absolute(&broker.context.config.data_dir).unwrap();
    assert_eq!(value(ours, "log.dirs"), data_dir.display().to_string());
    assert_eq!(
        config(ours, "log.dirs").config_source,
        SOURCE_STATIC_BROKER_CONFIG
    );
    assert_eq!(
        value(ours, "advertised.listeners"),
        format!(
            "PLAINTEXT://{}:{}",
            broker.context.advertised.host, broker.context.advertised.port
        )
    );
    let partitions = config(ours, "num.partitions");
    assert_eq!(partitions.value.as_deref(), Some("3"));
    assert_eq!(partitions.config_source, SOURCE_STATIC_BROKER_CONFIG);
    let synonyms: Vec<(Option<&str>, i8)> = partitions
        .synonyms
        .iter()
        .map(|s| (s.value.as_deref(), s.source))
        .collect();
    assert_eq!(
        synonyms,
        [
            (Some("3"), SOURCE_STATIC_BROKER_CONFIG),
            (Some("1"), SOURCE_DEFAULT_CONFIG)
        ]
    );
    let auto_create = config(ours, "auto.create.topics.enable");
    assert_eq!(auto_create.value.as_deref(), Some("true"));
    assert_eq!(auto_create.config_source, SOURCE_DEFAULT_CONFIG);
    assert_eq!(auto_create.config_type, 1);
    for (name, default) in [
        ("message.max.bytes", "1048588"),
        ("log.retention.ms", "604800000"),
        ("log.retention.bytes", "-1"),
        ("log.segment.bytes", "1073741824"),
        ("log.roll.ms", "604800000"),
        ("log.index.interval.bytes", "4096"),
    ] {
        assert_eq!(value(ours, name), default, "{name}");
        assert_eq!(
            config(ours, name).config_source,
            SOURCE_DEFAULT_CONFIG,
            "{name}"
        );
    }
    assert!(ours.configs.iter().any(|c| c.name.as_str() == "listeners"));

    // The empty name is the cluster-wide dynamic defaults: none here.
    assert_eq!((results[1].error_code, results[1].configs.len()), (0, 0));
    assert_eq!(results[2].error_code, INVALID_REQUEST);
    assert_eq!(
        results[2].error_message.as_deref(),
        Some(
            format!(
                "Unexpected broker id, expected {node} or empty string, but received {}",
                node + 1
            )
            .as_str()
        )
    );
    assert_eq!(results[3].error_code, INVALID_REQUEST);
    broker.stop().await;
}

fn legacy_resource(
    resource_type: i8,
    name: &str,
    configs: &[(&str, Option<&str>)],
) -> alter_configs_request::AlterConfigsResource {
    alter_configs_request::AlterConfigsResource::default()
        .with_resource_type(resource_type)
        .with_resource_name(s(name))
        .with_configs(
            configs
                .iter()
                .map(|(k, v)| {
                    alter_configs_request::AlterableConfig::default()
                        .with_name(s(k))
                        .with_value(v.map(s))
                })
                .collect(),
        )
}

async fn alter_configs(
    client: &mut RawClient,
    version: i16,
    resources: Vec<alter_configs_request::AlterConfigsResource>,
    validate_only: bool,
) -> Vec<(i16, Option<String>)> {
    let response: AlterConfigsResponse = client
        .call(
            ApiKey::AlterConfigs,
            version,
            1,
            &AlterConfigsRequest::default()
                .with_resources(resources)
                .with_validate_only(validate_only),
        )
        .await;
    response
        .responses
        .into_iter()
        .map(|r| (r.error_code, r.error_message.map(|m| m.to_string())))
        .collect()
}

fn incremental_resource(
    resource_type: i8,
    name: &str,
    ops: &[(&str, i8, Option<&str>)],
) -> incremental_alter_configs_request::AlterConfigsResource {
    incremental_alter_configs_request::AlterConfigsResource::default()
        .with_resource_type(resource_type)
        .with_resource_name(s(name))
        .with_configs(
            ops.iter()
                .map(|(k, op, v)| {
                    incremental_alter_configs_request::AlterableConfig::default()
                        .with_name(s(k))
                        .with_config_operation(*op)
                        .with_value(v.map(s))
                })
                .collect(),
        )
}

async fn incremental_alter(
    client: &mut RawClient,
    version: i16,
    resources: Vec<incremental_alter_configs_request::AlterConfigsResource>,
    validate_only: bool,
) -> Vec<(i16, Option<String>)> {
    let response: IncrementalAlterConfigsResponse = client
        .call(
            ApiKey::IncrementalAlterConfigs,
            version,
            1,
            &IncrementalAlterConfigsRequest::default()
                .with_resources(resources)
                .with_validate_only(validate_only),
        )
        .await;
    response
        .responses
        .into_iter()
        .map(|r| (r.error_code, r.error_message.map(|m| m.to_string())))
        .collect()
}

fn overrides(broker: &RunningBroker, topic: &str) -> BTreeMap<String, String> {
    broker.context.topics.get(topic).unwrap().configs
}

fn map(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn alter_configs_changes_survive_a_restart() {
    let (broker, dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    create_topic(&broker, "altered", 1, &[("retention.ms", "1000")]).await;

    // Legacy AlterConfigs replaces the whole override set.
    for version in 0..=2 {
        let results = alter_configs(
            &mut client,
            version,
            vec![legacy_resource(
                RESOURCE_TOPIC,
                "altered",
                &[("segment.bytes", Some("2097152"))],
            )],
            false,
        )
        .await;
        assert_eq!(results, [(0, None)], "v{version}");
        assert_eq!(
            overrides(&broker, "altered"),
            map(&[("segment.bytes", "2097152")])
        );
    }
    // validate_only changes nothing.
    let results = alter_configs(
        &mut client,
        2,
        vec![legacy_resource(
            RESOURCE_TOPIC,
            "altered",
            &[("retention.ms", Some("5"))],
        )],
        true,
    )
    .await;
    assert_eq!(results, [(0, None)]);
    assert_eq!(
        overrides(&broker, "altered"),
        map(&[("segment.bytes", "2097152")])
    );

    // Incremental: SET and DELETE single keys.
    for version in 0..=1 {
        let results = incremental_alter(
            &mut client,
            version,
            vec![incremental_resource(
                RESOURCE_TOPIC,
                "altered",
                &[
                    ("retention.ms", OP_SET, Some("7200000")),
                    ("segment.bytes", OP_DELETE, None),
                    ("max.message.bytes", OP_DELETE, None),
                ],
            )],
            false,
        )
        .await;
        assert_eq!(results, [(0, None)], "v{version}");
        assert_eq!(
            overrides(&broker, "altered"),
            map(&[("retention.ms", "7200000")])
        );
    }
    let results = incremental_alter(
        &mut client,
        1,
        vec![incremental_resource(
            RESOURCE_TOPIC,
            "altered",
            &[("message.timestamp.type", OP_SET, Some("LogAppendTime"))],
        )],
        false,
    )
    .await;
    assert_eq!(results, [(0, None)]);
    let log_config = broker
        .context
        .topics
        .partitions
        .get("altered", 0)
        .unwrap()
        .log
        .config()
        .await;
    assert_eq!(
        log_config.retention_ms, 7_200_000,
        "applied to the open log"
    );

    let data_dir = dir.path().to_path_buf();
    broker.stop().await;
    let (broker, _unused) = start_broker(|c| c.data_dir = data_dir.clone()).await;
    let mut client = RawClient::connect(&broker).await;
    let results = describe_configs(
        &mut client,
        4,
        vec![resource(RESOURCE_TOPIC, "altered", None)],
        false,
        false,
    )
    .await;
    let topic = &results[0];
    assert_eq!(value(topic, "retention.ms"), "7200000");
    assert_eq!(
        config(topic, "retention.ms").config_source,
        SOURCE_TOPIC_CONFIG
    );
    assert_eq!(value(topic, "message.timestamp.type"), "LogAppendTime");
    assert_eq!(value(topic, "segment.bytes"), "1073741824");
    assert_eq!(
        config(topic, "segment.bytes").config_source,
        SOURCE_DEFAULT_CONFIG
    );
    let log_config = broker
        .context
        .topics
        .partitions
        .get("altered", 0)
        .unwrap()
        .log
        .config()
        .await;
    assert_eq!(
        log_config.retention_ms, 7_200_000,
        "reopened with the override"
    );
    broker.stop().await;
}

#[tokio::test]
async fn alter_configs_refuses_what_kafka_refuses() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let node = broker.context.node_id.to_string();
    let other = (broker.context.node_id + 1).to_string();
    let mut client = RawClient::connect(&broker).await;
    create_topic(&broker, "guarded", 1, &[("retention.ms", "1000")]).await;
    let unchanged = map(&[("retention.ms", "1000")]);

    let incremental = [
        (vec![("retention.ms", OP_APPEND, Some("1"))], INVALID_CONFIG),
        (
            vec![("retention.ms", OP_SUBTRACT, Some("1"))],
            INVALID_CONFIG,
        ),
        (vec![("no.such.config", OP_SET, Some("1"))], INVALID_CONFIG),
        (vec![("retention.ms", OP_SET, Some("soon"))], INVALID_CONFIG),
        (vec![("retention.ms", OP_SET, None)], INVALID_REQUEST),
        (vec![("retention.ms", 9, Some("1"))], INVALID_REQUEST),
        (
            vec![
                ("retention.ms", OP_SET, Some("1")),
                ("retention.ms", OP_DELETE, None),
            ],
            INVALID_REQUEST,
        ),
    ];
    for (ops, code) in incremental {
        let results = incremental_alter(
            &mut client,
            1,
            vec![incremental_resource(RESOURCE_TOPIC, "guarded", &ops)],
            false,
        )
        .await;
        assert_eq!(results[0].0, code, "{ops:?}");
        assert!(results[0].1.is_some(), "{ops:?}");
        assert_eq!(overrides(&broker, "guarded"), unchanged, "{ops:?}");
    }
    // cleanup.policy is a LIST: APPEND and SUBTRACT edit its items (KIP-339).
    create_topic(&broker, "listy", 1, &[]).await;
    let list_ops = [
        (OP_APPEND, "compact", "delete,compact"),
        (OP_APPEND, "compact", "delete,compact"),
        (OP_SUBTRACT, "delete", "compact"),
    ];
    for (op, item, expected) in list_ops {
        let results = incremental_alter(
            &mut client,
            1,
            vec![incremental_resource(
                RESOURCE_TOPIC,
                "listy",
                &[("cleanup.policy", op, Some(item))],
            )],
            false,
        )
        .await;
        assert_eq!(results[0].0, 0, "{op} {item}");
        assert_eq!(
            overrides(&broker, "listy"),
            map(&[("cleanup.policy", expected)]),
            "{op} {item}"
        );
    }
    // One resource per request: the same resource twice in one request is refused whole.
    let cases = [
        (
            RESOURCE_TOPIC,
            "never-was",
            ("retention.ms", OP_SET, Some("1")),
            UNKNOWN_TOPIC_OR_PARTITION,
        ),
        (
            RESOURCE_TOPIC,
            "",
            ("retention.ms", OP_SET, Some("1")),
            INVALID_REQUEST,
        ),
        (
            RESOURCE_TOPIC,
            "bad/name",
            ("retention.ms", OP_SET, Some("1")),
            INVALID_TOPIC_EXCEPTION,
        ),
        (
            RESOURCE_BROKER,
            node.as_str(),
            ("log.retention.ms", OP_SET, Some("1")),
            INVALID_REQUEST,
        ),
        (
            RESOURCE_BROKER,
            "",
            ("num.partitions", OP_SET, Some("2")),
            INVALID_REQUEST,
        ),
        (
            RESOURCE_BROKER,
            node.as_str(),
            ("log.retention.ms", OP_DELETE, None),
            0,
        ),
        (
            RESOURCE_BROKER,
            other.as_str(),
            ("log.retention.ms", OP_DELETE, None),
            INVALID_REQUEST,
        ),
        (
            RESOURCE_BROKER,
            "me",
            ("log.retention.ms", OP_DELETE, None),
            INVALID_REQUEST,
        ),
        (
            RESOURCE_BROKER,
            node.as_str(),
            ("log.dirs", OP_APPEND, Some("/x")),
            INVALID_REQUEST,
        ),
        (
            16,
            "metrics",
            ("interval.ms", OP_SET, Some("1")),
            INVALID_REQUEST,
        ),
    ];
    for (resource_type, name, op, code) in cases {
        let results = incremental_alter(
            &mut client,
            1,
            vec![incremental_resource(resource_type, name, &[op])],
            false,
        )
        .await;
        assert_eq!(results[0].0, code, "{resource_type} {name:?} {op:?}");
        assert_eq!(
            results[0].1.is_none(),
            code == 0,
            "{resource_type} {name:?} {op:?}"
        );
    }
    let results = incremental_alter(
        &mut client,
        1,
        vec![incremental_resource(
            RESOURCE_BROKER,
            &node,
            &[("log.retention.ms", OP_SET, Some("1"))],
        )],
        true,
    )
    .await;
    assert_eq!(
        results[0].1.as_deref(),
        Some("Cannot update these configs dynamically: Set(log.retention.ms)")
    );

    // Legacy: a resource named twice is refused at both places.
    let results = alter_configs(
        &mut client,
        2,
        vec![
            legacy_resource(RESOURCE_TOPIC, "guarded", &[]),
            legacy_resource(RESOURCE_TOPIC, "guarded", &[]),
        ],
        false,
    )
    .await;
    let refusal = (
        INVALID_REQUEST,
        Some("Each resource must appear at most once.".to_string()),
    );
    assert_eq!(results, [refusal.clone(), refusal]);
    // Null values, broker changes, unknown topics, bad values.
    let cases = [
        (
            RESOURCE_TOPIC,
            "guarded",
            vec![("retention.ms", None)],
            INVALID_REQUEST,
        ),
        (
            RESOURCE_TOPIC,
            "guarded",
            vec![("retention.ms", Some("-5"))],
            INVALID_CONFIG,
        ),
        (
            RESOURCE_TOPIC,
            "guarded",
            vec![("a", Some("1")), ("a", Some("2"))],
            INVALID_REQUEST,
        ),
        (
            RESOURCE_TOPIC,
            "never-was",
            vec![],
            UNKNOWN_TOPIC_OR_PARTITION,
        ),
        (
            RESOURCE_BROKER,
            node.as_str(),
            vec![("log.dirs", Some("/x"))],
            INVALID_REQUEST,
        ),
        (RESOURCE_BROKER, other.as_str(), vec![], INVALID_REQUEST),
        (RESOURCE_BROKER, node.as_str(), vec![], 0),
        (8, node.as_str(), vec![], INVALID_REQUEST),
    ];
    for (resource_type, name, configs, code) in cases {
        let results = alter_configs(
            &mut client,
            2,
            vec![legacy_resource(resource_type, name, &configs)],
            false,
        )
        .await;
        assert_eq!(results[0].0, code, "{resource_type} {name:?} {configs:?}");
    }
    assert_eq!(overrides(&broker, "guarded"), unchanged);
    broker.stop().await;
}

// ---------------------------------------------------------------------------------------
// DescribeLogDirs
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn describe_log_dirs_reports_the_data_dir_and_partition_sizes() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    create_topic(&broker, "sized", 2, &[]).await;
    create_topic(&broker, "empty", 1, &[]).await;
    append_records(&broker, "sized", 1, 10).await;
    let size_of = |p: i32| broker.context.topics.partitions.get("sized", p).unwrap();
    let sized_1 = i64::try_from(size_of(1).log.size_bytes().await).unwrap();
    assert!(sized_1 > 0);
    let log_dir = std::path::absolute(&broker.context.config.data_dir)
        .unwrap()
        .display()
        .to_string();

    for version in 1..=4 {
        let response: DescribeLogDirsResponse = client
            .call(
                ApiKey::DescribeLogDirs,
                version,
                1,
                &DescribeLogDirsRequest::default().with_topics(None),
            )
            .await;
        assert_eq!(response.error_code, 0);
        assert_eq!(response.results.len(), 1, "v{version}");
        let dir = &response.results[0];
        assert_eq!(
            (dir.error_code, dir.log_dir.as_str()),
            (0, log_dir.as_str())
        );
        let listed: Vec<(String, i32, i64, i64, bool)> = dir
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().map(|p| {
                    (
                        t.name.0.to_string(),
                        p.partition_index,
                        p.partition_size,
                        p.offset_lag,
                        p.is_future_key,
                    )
                })
            })
            .collect();
        assert_eq!(
            listed,
            [
                ("empty".to_string(), 0, 0, 0, false),
                ("sized".to_string(), 0, 0, 0, false),
                ("sized".to_string(), 1, sized_1, 0, false),
            ],
            "v{version}"
        );
        if version >= 4 {
            // -1 is Kafka's "unknown"; when known, usable space fits in the total.
            assert!(dir.total_bytes == -1 || dir.total_bytes > 0);
            assert!(dir.usable_bytes <= dir.total_bytes);
        }
    }

    // Only what is asked for; partitions not hosted are left out.
    let response: DescribeLogDirsResponse = client
        .call(
            ApiKey::DescribeLogDirs,
            4,
            2,
            &DescribeLogDirsRequest::default().with_topics(Some(vec![
                DescribableLogDirTopic::default()
                    .with_topic(topic_name("sized"))
                    .with_partitions(vec![1, 5]),
                DescribableLogDirTopic::default()
                    .with_topic(topic_name("never-was"))
                    .with_partitions(vec![0]),
            ])),
        )
        .await;
    let dir = &response.results[0];
    assert_eq!(dir.topics.len(), 1);
    assert_eq!(dir.topics[0].name.0.as_str(), "sized");
    let partitions: Vec<(i32, i64)> = dir.topics[0]
        .partitions
        .iter()
        .map(|p| (p.partition_index, p.partition_size))
        .collect();
    assert_eq!(partitions, [(1, sized_1)]);
    broker.stop().await;
}

// ---------------------------------------------------------------------------------------
// Upgrade from a single-node data directory written before the metadata quorum

/// A data directory as the single-node broker left it (`meta.properties`, partition logs,
/// `petrel-topics.json`, `petrel-producer-ids`, no `raft/`) starts with its topics (same
/// ids, configs and data) and producer-id reservation imported into the quorum, once.
#[tokio::test]
async fn a_single_node_data_dir_from_before_the_quorum_keeps_its_topics() {
    let (broker, dir) = start_broker(|_| {}).await;
    let id = create_topic(&broker, "orders", 2, &[("retention.ms", "86400000")]).await;
    append_records(&broker, "orders", 1, 5).await;
    let cluster_id = broker.context.cluster_id.clone();
    broker.stop().await;

    // Rewrite the directory into the layout of a pre-quorum single node.
    std::fs::remove_dir_all(dir.path().join("raft")).unwrap();
    std::fs::write(
        dir.path().join("petrel-topics.json"),
        format!(
            r#"[{{"name":"orders","id":"{id}","partitions":2,"configs":{{"retention.ms":"86400000"}}}}]"#
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("petrel-producer-ids"), "5000\n").unwrap();

    let config = petrel_broker::config::Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".into(),
        ..Default::default()
    };
    for start in ["upgrade", "restart after the upgrade"] {
        let broker = petrel_broker::start(config.clone()).await.unwrap();
        assert_eq!(broker.context.cluster_id, cluster_id, "{start}");
        let orders = broker.context.topics.get("orders").expect(start);
        assert_eq!((orders.id, orders.partitions), (id, 2), "{start}");
        assert_eq!(orders.configs["retention.ms"], "86400000", "{start}");
        assert_eq!(orders.layout[1].leader_epoch, 0, "{start}");
        let partition = broker.context.topics.led_partition("orders", 1).unwrap();
        assert_eq!(partition.log.log_end_offset(), 5, "{start}");
        assert!(
            broker.context.topics.image().next_producer_id >= 5000,
            "{start}"
        );
        assert!(dir.path().join("petrel-topics.json.imported").exists());
        assert!(!dir.path().join("petrel-topics.json").exists());
        broker.stop().await;
    }
}

// ---------------------------------------------------------------------------------------
// DescribeQuorum

/// A lone node's quorum: it leads its own one-voter quorum at every version; the metadata
/// log's high watermark counts the commits made so far; other partitions are unknown.
#[tokio::test]
async fn describe_quorum_reports_the_metadata_quorum() {
    use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
    use kafka_protocol::messages::{DescribeQuorumRequest, DescribeQuorumResponse};
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    let topic = |name: &str, partitions: &[i32]| {
        TopicData::default()
            .with_topic_name(TopicName(StrBytes::from_string(name.into())))
            .with_partitions(
                partitions
                    .iter()
                    .map(|p| PartitionData::default().with_partition_index(*p))
                    .collect(),
            )
    };
    let request = DescribeQuorumRequest::default().with_topics(vec![
        topic("__cluster_metadata", &[0, 1]),
        topic("orders", &[0]),
    ]);
    for version in 0..=2 {
        let response: DescribeQuorumResponse = client
            .call(ApiKey::DescribeQuorum, version, 1, &request)
            .await;
        assert_eq!(response.error_code, 0, "v{version}");
        let metadata = &response.topics[0].partitions;
        assert_eq!(metadata[0].error_code, 0, "v{version}");
        assert_eq!(metadata[0].leader_id, BrokerId(1), "v{version}");
        assert!(metadata[0].leader_epoch >= 1, "v{version}");
        // At least the cluster id, the registration and a blank entry are committed.
        assert!(metadata[0].high_watermark >= 3, "v{version}");
        assert_eq!(metadata[0].current_voters.len(), 1, "v{version}");
        assert_eq!(
            metadata[0].current_voters[0].log_end_offset, metadata[0].high_watermark,
            "v{version}"
        );
        assert!(metadata[0].observers.is_empty(), "v{version}");
        assert_eq!(metadata[1].error_code, 3, "v{version}: partition 1");
        assert_eq!(
            response.topics[1].partitions[0].error_code, 3,
            "v{version}: another topic"
        );
    }
    broker.stop().await;
}
