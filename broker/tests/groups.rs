//! Consumer groups over TCP against an in-process broker: offsets committed and fetched,
//! and everything replayed from `__consumer_offsets` after a restart.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{start_broker, RawClient};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{
    ApiKey, FindCoordinatorRequest, FindCoordinatorResponse, GroupId, OffsetCommitRequest,
    OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

async fn commit(
    client: &mut RawClient,
    group: &str,
    topic: &str,
    offsets: &[(i32, i64)],
) -> Vec<i16> {
    let request = OffsetCommitRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id_or_member_epoch(-1)
        .with_member_id(s(""))
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(TopicName(s(topic)))
            .with_partitions(
                offsets
                    .iter()
                    .map(|&(p, o)| {
                        OffsetCommitRequestPartition::default()
                            .with_partition_index(p)
                            .with_committed_offset(o)
                            .with_committed_metadata(Some(s("meta")))
                    })
                    .collect(),
            )]);
    let response: OffsetCommitResponse = client.call(ApiKey::OffsetCommit, 8, 1, &request).await;
    response.topics[0]
        .partitions
        .iter()
        .map(|p| p.error_code)
        .collect()
}

async fn fetch(client: &mut RawClient, group: &str, topic: &str, partitions: &[i32]) -> Vec<i64> {
    let request = OffsetFetchRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(TopicName(s(topic)))
            .with_partition_indexes(partitions.to_vec())]));
    let response: OffsetFetchResponse = client.call(ApiKey::OffsetFetch, 7, 2, &request).await;
    assert_eq!(response.error_code, 0);
    response.topics[0]
        .partitions
        .iter()
        .map(|p| p.committed_offset)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_offsets_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let (broker, _unused) = start_broker(|c| {
        c.data_dir = data.clone();
        c.offsets_topic_num_partitions = 3;
    })
    .await;
    let mut client = RawClient::connect(&broker).await;
    let found: FindCoordinatorResponse = client
        .call(
            ApiKey::FindCoordinator,
            3,
            1,
            &FindCoordinatorRequest::default().with_key(s("g")),
        )
        .await;
    assert_eq!(found.error_code, 0);
    assert_eq!(found.node_id.0, broker.context.node_id);
    assert_eq!(
        commit(&mut client, "g", "t", &[(0, 5), (1, 7)]).await,
        [0, 0]
    );
    assert_eq!(commit(&mut client, "g", "t", &[(1, 9)]).await, [0]);
    assert_eq!(fetch(&mut client, "g", "t", &[0, 1, 2]).await, [5, 9, -1]);
    drop(client);
    broker.stop().await;

    let (broker, _unused) = start_broker(|c| {
        c.data_dir = data.clone();
        c.offsets_topic_num_partitions = 3;
    })
    .await;
    let mut client = RawClient::connect(&broker).await;
    assert_eq!(fetch(&mut client, "g", "t", &[0, 1, 2]).await, [5, 9, -1]);
    broker.stop().await;
}
