//! Consumer groups over TCP against an in-process broker: offsets committed and fetched,
//! and everything replayed from `__consumer_offsets` after a restart.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use bytes::Bytes;
use common::{start_broker, RawClient};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ApiKey, DescribeGroupsRequest, DescribeGroupsResponse, FindCoordinatorRequest,
    FindCoordinatorResponse, GroupId, HeartbeatRequest, HeartbeatResponse, JoinGroupRequest,
    JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, ListGroupsRequest,
    ListGroupsResponse, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest,
    OffsetFetchResponse, SyncGroupRequest, SyncGroupResponse, TopicName,
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
    broker
        .context
        .topics
        .create("t", 3, Default::default(), false)
        .await
        .unwrap();
    // Partitions that do not exist are refused, as Kafka does, in request order.
    assert_eq!(
        commit(&mut client, "g", "t", &[(0, 5), (7, 1), (1, 7)]).await,
        [0, 3, 0]
    );
    assert_eq!(commit(&mut client, "g", "nope", &[(0, 1)]).await, [3]);
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
    // Deleting the topic drops its committed offsets; a new topic of the same name starts
    // without them (as in Kafka).
    let deleted: kafka_protocol::messages::DeleteTopicsResponse = client
        .call(
            ApiKey::DeleteTopics,
            5,
            3,
            &kafka_protocol::messages::DeleteTopicsRequest::default()
                .with_topic_names(vec![TopicName(s("t"))])
                .with_timeout_ms(10_000),
        )
        .await;
    assert_eq!(deleted.responses[0].error_code, 0);
    broker
        .context
        .topics
        .create("t", 3, Default::default(), false)
        .await
        .unwrap();
    assert_eq!(fetch(&mut client, "g", "t", &[0, 1]).await, [-1, -1]);
    broker.stop().await;
}

/// Kafka applies a connection's requests one at a time, so pipelined commits land in send
/// order and the last one wins (librdkafka's test 0030 commits asynchronously this way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_commits_on_one_connection_apply_in_send_order() {
    let (broker, _dir) = start_broker(|c| c.offsets_topic_num_partitions = 3).await;
    broker
        .context
        .topics
        .create("t", 1, Default::default(), false)
        .await
        .unwrap();
    let mut client = RawClient::connect(&broker).await;
    for round in 0..5 {
        let mut frames = Vec::new();
        for offset in 1..=50i64 {
            let request = OffsetCommitRequest::default()
                .with_group_id(GroupId(s("pipelined")))
                .with_generation_id_or_member_epoch(-1)
                .with_member_id(s(""))
                .with_topics(vec![OffsetCommitRequestTopic::default()
                    .with_name(TopicName(s("t")))
                    .with_partitions(vec![OffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(round * 100 + offset)])]);
            frames.extend_from_slice(&common::request_frame(
                ApiKey::OffsetCommit,
                8,
                offset as i32,
                &request,
            ));
        }
        client.send_raw(&frames).await.unwrap();
        for _ in 1..=50 {
            client.read_frame().await.expect("an OffsetCommit response");
        }
        assert_eq!(
            fetch(&mut client, "pipelined", "t", &[0]).await,
            [round * 100 + 50],
            "round {round}"
        );
    }
    broker.stop().await;
}

const MEMBER_ID_REQUIRED: i16 = 79;

async fn join(client: &mut RawClient, member_id: &str) -> JoinGroupResponse {
    let request = JoinGroupRequest::default()
        .with_group_id(GroupId(s("flow")))
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_member_id(s(member_id))
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name(s("range"))
            .with_metadata(Bytes::from_static(b"subscription"))]);
    client.call(ApiKey::JoinGroup, 9, 10, &request).await
}

async fn describe(client: &mut RawClient) -> (String, usize, Bytes) {
    let response: DescribeGroupsResponse = client
        .call(
            ApiKey::DescribeGroups,
            5,
            11,
            &DescribeGroupsRequest::default().with_groups(vec![GroupId(s("flow"))]),
        )
        .await;
    let group = &response.groups[0];
    assert_eq!(group.error_code, 0);
    (
        group.group_state.to_string(),
        group.members.len(),
        group
            .members
            .first()
            .map(|m| m.member_assignment.clone())
            .unwrap_or_default(),
    )
}

async fn heartbeat(client: &mut RawClient, member_id: &str, generation: i32) -> i16 {
    let response: HeartbeatResponse = client
        .call(
            ApiKey::Heartbeat,
            4,
            12,
            &HeartbeatRequest::default()
                .with_group_id(GroupId(s("flow")))
                .with_member_id(s(member_id))
                .with_generation_id(generation),
        )
        .await;
    response.error_code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_joins_syncs_survives_a_restart_and_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let config = |c: &mut petrel_broker::config::Config| {
        c.data_dir = data.clone();
        c.offsets_topic_num_partitions = 3;
        c.group_initial_rebalance_delay_ms = 0;
    };
    let (broker, _unused) = start_broker(config).await;
    let mut client = RawClient::connect(&broker).await;

    // KIP-394: a first join gets an id and must come back with it.
    let first = join(&mut client, "").await;
    assert_eq!(first.error_code, MEMBER_ID_REQUIRED);
    let member_id = first.member_id.to_string();
    assert!(member_id.starts_with("petrel-tests-"), "{member_id}");
    let joined = join(&mut client, &member_id).await;
    assert_eq!(joined.error_code, 0);
    assert_eq!(joined.generation_id, 1);
    assert_eq!(joined.leader.as_str(), member_id);
    assert_eq!(joined.protocol_name.as_ref().unwrap().as_str(), "range");
    assert_eq!(joined.members.len(), 1, "the leader gets the member list");

    let synced: SyncGroupResponse = client
        .call(
            ApiKey::SyncGroup,
            5,
            13,
            &SyncGroupRequest::default()
                .with_group_id(GroupId(s("flow")))
                .with_generation_id(1)
                .with_member_id(s(&member_id))
                .with_protocol_type(Some(s("consumer")))
                .with_protocol_name(Some(s("range")))
                .with_assignments(vec![SyncGroupRequestAssignment::default()
                    .with_member_id(s(&member_id))
                    .with_assignment(Bytes::from_static(b"all of it"))]),
        )
        .await;
    assert_eq!(synced.error_code, 0);
    assert_eq!(synced.assignment.as_ref(), b"all of it");
    assert_eq!(heartbeat(&mut client, &member_id, 1).await, 0);
    assert_eq!(
        describe(&mut client).await,
        ("Stable".to_string(), 1, Bytes::from_static(b"all of it"))
    );
    drop(client);
    broker.stop().await;

    // The group comes back from __consumer_offsets, Stable, and the member may go on
    // heartbeating in its generation.
    let (broker, _unused) = start_broker(config).await;
    let mut client = RawClient::connect(&broker).await;
    assert_eq!(
        describe(&mut client).await,
        ("Stable".to_string(), 1, Bytes::from_static(b"all of it"))
    );
    assert_eq!(heartbeat(&mut client, &member_id, 1).await, 0);

    let left: LeaveGroupResponse = client
        .call(
            ApiKey::LeaveGroup,
            5,
            14,
            &LeaveGroupRequest::default()
                .with_group_id(GroupId(s("flow")))
                .with_members(vec![MemberIdentity::default().with_member_id(s(&member_id))]),
        )
        .await;
    assert_eq!(left.error_code, 0);
    assert_eq!(left.members[0].error_code, 0);
    let listed: ListGroupsResponse = client
        .call(ApiKey::ListGroups, 5, 15, &ListGroupsRequest::default())
        .await;
    let group = &listed.groups[0];
    assert_eq!(
        (group.group_id.0.as_str(), group.group_state.as_str()),
        ("flow", "Empty")
    );
    broker.stop().await;
}
