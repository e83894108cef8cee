//! Black-box tests of the server: a broker in-process on port 0, spoken to over TCP with
//! requests encoded by `kafka-protocol`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use bytes::{Buf, BufMut, BytesMut};
use common::{request_frame, start_broker, RawClient};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse,
    ResponseHeader, TopicName,
};
use kafka_protocol::protocol::{Decodable, StrBytes};
use petrel_protocol::SUPPORTED_APIS;

const UNSUPPORTED_VERSION: i16 = 35;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;

fn api_versions_request(version: i16) -> ApiVersionsRequest {
    let request = ApiVersionsRequest::default();
    if version >= 3 {
        request
            .with_client_software_name(StrBytes::from_static_str("petrel-tests"))
            .with_client_software_version(StrBytes::from_static_str("1.0"))
    } else {
        request
    }
}

fn metadata_all_topics(version: i16) -> MetadataRequest {
    let request =
        MetadataRequest::default().with_topics(if version == 0 { Some(vec![]) } else { None });
    if version < 4 {
        request.with_allow_auto_topic_creation(true)
    } else {
        request
    }
}

#[tokio::test]
async fn api_versions_lists_the_supported_table_at_every_version() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    for version in 0..=4 {
        let response: ApiVersionsResponse = client
            .call(
                ApiKey::ApiVersions,
                version,
                version.into(),
                &api_versions_request(version),
            )
            .await;
        assert_eq!(response.error_code, 0, "v{version}");
        let listed: Vec<(i16, i16, i16)> = response
            .api_keys
            .iter()
            .map(|k| (k.api_key, k.min_version, k.max_version))
            .collect();
        let table: Vec<(i16, i16, i16)> = SUPPORTED_APIS
            .iter()
            .map(|a| (a.key as i16, a.advertised_min_version, a.max_version))
            .collect();
        assert_eq!(listed, table, "v{version}");
    }
    broker.stop().await;
}

#[tokio::test]
async fn too_new_api_versions_gets_a_v0_unsupported_version_answer_kip_511() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    // A v7 request a future client might send: header v2, body unknown to us.
    let mut frame = BytesMut::new();
    frame.put_i32(0);
    frame.put_i16(ApiKey::ApiVersions as i16);
    frame.put_i16(7);
    frame.put_i32(4242);
    frame.put_i16(-1);
    frame.put_u8(0);
    frame.put_slice(b"\x05future\x021\x00");
    let len = (frame.len() - 4) as i32;
    frame[..4].copy_from_slice(&len.to_be_bytes());
    client.send_raw(&frame).await.unwrap();
    let mut response = client.read_frame().await.expect("answered, not closed");
    let header = ResponseHeader::decode(&mut response, 0).unwrap();
    assert_eq!(header.correlation_id, 4242);
    let body = ApiVersionsResponse::decode(&mut response, 0).unwrap();
    assert_eq!(body.error_code, UNSUPPORTED_VERSION);
    assert_eq!(body.api_keys.len(), 1);
    assert_eq!(body.api_keys[0].api_key, ApiKey::ApiVersions as i16);
    assert_eq!(body.api_keys[0].max_version, 4);
    // The connection stays usable: the client retries at v3.
    let retry: ApiVersionsResponse = client
        .call(ApiKey::ApiVersions, 3, 1, &api_versions_request(3))
        .await;
    assert_eq!(retry.error_code, 0);
    broker.stop().await;
}

#[tokio::test]
async fn metadata_reports_this_broker_cluster_and_controller_at_every_version() {
    let (broker, _dir) = start_broker(|c| c.node_id = 5).await;
    let cluster_id = broker.context.cluster_id.clone();
    let mut client = RawClient::connect(&broker).await;
    for version in 0..=13 {
        let response: MetadataResponse = client
            .call(
                ApiKey::Metadata,
                version,
                version.into(),
                &metadata_all_topics(version),
            )
            .await;
        assert_eq!(response.brokers.len(), 1, "v{version}");
        let broker_entry = &response.brokers[0];
        assert_eq!(broker_entry.node_id.0, 5);
        assert_eq!(broker_entry.host.as_str(), "127.0.0.1");
        assert_eq!(broker_entry.port, i32::from(broker.listen_addr.port()));
        assert!(response.topics.is_empty());
        if version >= 1 {
            assert_eq!(response.controller_id.0, 5, "v{version}");
        }
        if version >= 2 {
            assert_eq!(
                response.cluster_id.as_ref().map(|c| c.as_str()),
                Some(cluster_id.as_str()),
                "v{version}"
            );
        }
    }
    broker.stop().await;
}

#[tokio::test]
async fn metadata_for_a_missing_topic_is_unknown_topic_or_partition() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    for version in [4, 9, 12, 13] {
        let response: MetadataResponse = client
            .call(ApiKey::Metadata, version, 1, &metadata_for("orders", false))
            .await;
        assert_eq!(response.topics.len(), 1);
        assert_eq!(
            response.topics[0].error_code, UNKNOWN_TOPIC_OR_PARTITION,
            "v{version}"
        );
        assert_eq!(
            response.topics[0].name.as_ref().map(|n| n.0.as_str()),
            Some("orders")
        );
    }
    broker.stop().await;
}

fn metadata_for(topic: &'static str, allow_auto_topic_creation: bool) -> MetadataRequest {
    MetadataRequest::default()
        .with_topics(Some(vec![MetadataRequestTopic::default()
            .with_name(Some(TopicName(StrBytes::from_static_str(topic))))]))
        .with_allow_auto_topic_creation(allow_auto_topic_creation)
}

#[tokio::test]
async fn metadata_auto_creates_topics_when_allowed_and_enabled() {
    let (broker, _dir) = start_broker(|c| c.num_partitions = 3).await;
    let mut client = RawClient::connect(&broker).await;
    // Before v4 the request cannot refuse auto-creation.
    let response: MetadataResponse = client
        .call(ApiKey::Metadata, 1, 1, &metadata_for("old-client", true))
        .await;
    assert_eq!(
        (
            response.topics[0].error_code,
            response.topics[0].partitions.len()
        ),
        (0, 3)
    );
    let response: MetadataResponse = client
        .call(ApiKey::Metadata, 12, 2, &metadata_for("new-client", true))
        .await;
    assert_eq!(
        (
            response.topics[0].error_code,
            response.topics[0].partitions.len()
        ),
        (0, 3)
    );
    broker.stop().await;
    let (broker, _dir) = start_broker(|c| c.auto_create_topics_enable = false).await;
    let mut client = RawClient::connect(&broker).await;
    let response: MetadataResponse = client
        .call(ApiKey::Metadata, 1, 3, &metadata_for("nope", true))
        .await;
    assert_eq!(
        response.topics[0].error_code, UNKNOWN_TOPIC_OR_PARTITION,
        "auto.create.topics.enable=false"
    );
    broker.stop().await;
}

#[tokio::test]
async fn advertised_listen_is_what_metadata_returns() {
    let (broker, _dir) =
        start_broker(|c| c.advertised_listen = Some("kafka.example:19092".into())).await;
    let mut client = RawClient::connect(&broker).await;
    let response: MetadataResponse = client
        .call(ApiKey::Metadata, 12, 1, &metadata_all_topics(12))
        .await;
    assert_eq!(response.brokers[0].host.as_str(), "kafka.example");
    assert_eq!(response.brokers[0].port, 19092);
    broker.stop().await;
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_request_order() {
    let (broker, _dir) = start_broker(|c| c.inflight_requests_max = 4).await;
    let mut client = RawClient::connect(&broker).await;
    // 200 requests of two kinds in one write, far more than the in-flight bound.
    let mut burst = BytesMut::new();
    for correlation_id in 0..200 {
        if correlation_id % 2 == 0 {
            burst.extend_from_slice(&request_frame(
                ApiKey::Metadata,
                12,
                correlation_id,
                &metadata_all_topics(12),
            ));
        } else {
            burst.extend_from_slice(&request_frame(
                ApiKey::ApiVersions,
                3,
                correlation_id,
                &api_versions_request(3),
            ));
        }
    }
    client.send_raw(&burst).await.unwrap();
    for expected in 0..200 {
        let mut frame = client.read_frame().await.expect("response");
        // Both response kinds start with the correlation id (header v0 or v1).
        assert_eq!(frame.get_i32(), expected);
    }
    broker.stop().await;
}

async fn assert_closed_and_others_still_served(
    broker: &petrel_broker::RunningBroker,
    bytes: &[u8],
    what: &str,
) {
    let mut bad = RawClient::connect(broker).await;
    let _ = bad.send_raw(bytes).await;
    assert!(
        bad.is_closed_by_broker().await,
        "{what}: connection should be closed"
    );
    let mut good = RawClient::connect(broker).await;
    let response: MetadataResponse = good
        .call(ApiKey::Metadata, 12, 1, &metadata_all_topics(12))
        .await;
    assert_eq!(
        response.brokers.len(),
        1,
        "{what}: other clients keep being served"
    );
}

#[tokio::test]
async fn bad_input_closes_only_the_offending_connection() {
    let (broker, _dir) = start_broker(|c| c.frame_bytes_max = 1024 * 1024).await;
    let frame = |body: &[u8]| {
        let mut f = (body.len() as i32).to_be_bytes().to_vec();
        f.extend_from_slice(body);
        f
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "unknown api key",
            frame(&[0x27, 0x0f, 0, 0, 0, 0, 0, 1, 0xff, 0xff]),
        ),
        (
            "known api not served (EndTxn)",
            frame(&[0, 26, 0, 3, 0, 0, 0, 1, 0xff, 0xff]),
        ),
        (
            "Produce v2, listed but refused as in Kafka 4.x",
            frame(&[0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xff]),
        ),
        (
            "unsupported Metadata version",
            frame(&[0, 3, 0, 99, 0, 0, 0, 1, 0xff, 0xff]),
        ),
        ("frame shorter than a header", frame(&[0, 3, 0])),
        (
            "oversize frame",
            (2 * 1024 * 1024i32).to_be_bytes().to_vec(),
        ),
        ("negative frame length", (-1i32).to_be_bytes().to_vec()),
        (
            "array bomb",
            frame(&[
                0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0,
            ]),
        ),
        (
            "random bytes",
            vec![
                0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
            ],
        ),
    ];
    for (what, bytes) in cases {
        assert_closed_and_others_still_served(&broker, &bytes, what).await;
    }
    broker.stop().await;
}

#[tokio::test]
async fn responses_owed_before_bad_input_are_still_written() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let mut client = RawClient::connect(&broker).await;
    let mut bytes = request_frame(ApiKey::ApiVersions, 3, 11, &api_versions_request(3)).to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 8, 0x27, 0x0f, 0, 0, 0, 0, 0, 1]);
    client.send_raw(&bytes).await.unwrap();
    let mut first = client
        .read_frame()
        .await
        .expect("the good request is answered");
    assert_eq!(first.get_i32(), 11);
    assert!(client.is_closed_by_broker().await);
    broker.stop().await;
}

#[tokio::test]
async fn connections_beyond_connections_max_are_closed() {
    let (broker, _dir) = start_broker(|c| c.connections_max = 2).await;
    let mut first = RawClient::connect(&broker).await;
    let mut second = RawClient::connect(&broker).await;
    // Make sure both are accepted before the third arrives.
    let _: ApiVersionsResponse = first
        .call(ApiKey::ApiVersions, 3, 1, &api_versions_request(3))
        .await;
    let _: ApiVersionsResponse = second
        .call(ApiKey::ApiVersions, 3, 1, &api_versions_request(3))
        .await;
    let mut third = RawClient::connect(&broker).await;
    assert!(
        third.is_closed_by_broker().await,
        "third connection is over the limit"
    );
    drop(first);
    // A slot frees up once the first connection's task ends.
    let mut served = false;
    for _ in 0..50 {
        let mut again = RawClient::connect(&broker).await;
        let _ = again
            .send_raw(&request_frame(
                ApiKey::ApiVersions,
                3,
                9,
                &api_versions_request(3),
            ))
            .await;
        if again.read_frame().await.is_some() {
            served = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(served, "a freed slot is reused");
    broker.stop().await;
}

#[tokio::test]
async fn shutdown_stops_the_listener_and_closes_idle_connections() {
    let (broker, _dir) = start_broker(|_| {}).await;
    let addr = broker.listen_addr;
    let mut idle = RawClient::connect(&broker).await;
    let _: ApiVersionsResponse = idle
        .call(ApiKey::ApiVersions, 3, 1, &api_versions_request(3))
        .await;
    tokio::time::timeout(common::IO_TIMEOUT, broker.stop())
        .await
        .expect("shutdown completes");
    assert!(idle.is_closed_by_broker().await);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener is closed"
    );
}
