//! DescribeQuorum (key 55): the metadata quorum as its leader sees it, answered for Kafka's
//! name of the metadata log, topic `__cluster_metadata` partition 0 (what
//! `kafka-metadata-quorum.sh describe --status` asks for).
//!
//! The request is forwarded to the active controller, which knows every member's
//! replication progress: leader id, epoch (the Raft term), high watermark (the index after
//! the last committed entry), voters and observers (learners, i.e. broker-only nodes) with
//! their log end offsets, and from v2 each voter's controller endpoint. Petrel does not
//! record fetch times, so the timestamps are -1, which Kafka's schema allows. Any other
//! topic or partition gets `UNKNOWN_TOPIC_OR_PARTITION`; no controller reachable gets
//! `NOT_LEADER_OR_FOLLOWER` on the partition, as Kafka answers from a non-leader.

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::describe_quorum_response::{
    Listener, Node, PartitionData, ReplicaState, TopicData,
};
use kafka_protocol::messages::{BrokerId, DescribeQuorumRequest, DescribeQuorumResponse};
use kafka_protocol::protocol::StrBytes;
use petrel_raft::controller::{ControllerReply, ControllerRequest, QuorumState};

use crate::context::BrokerContext;

const METADATA_TOPIC: &str = "__cluster_metadata";

pub async fn handle(
    ctx: &BrokerContext,
    version: i16,
    request: &DescribeQuorumRequest,
) -> DescribeQuorumResponse {
    let quorum = ctx
        .topics
        .quorum()
        .call(
            ControllerRequest::DescribeQuorum,
            ctx.config.controller_request_timeout(),
        )
        .await;
    let state = match quorum {
        Ok(ControllerReply::Quorum(state)) => Some(state),
        _ => None,
    };
    let topics = request
        .topics
        .iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let known =
                        topic.topic_name.0.as_str() == METADATA_TOPIC && p.partition_index == 0;
                    match (&state, known) {
                        (_, false) => PartitionData::default()
                            .with_partition_index(p.partition_index)
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code()),
                        (None, true) => PartitionData::default()
                            .with_partition_index(p.partition_index)
                            .with_error_code(ResponseError::NotLeaderOrFollower.code()),
                        (Some(state), true) => describe(state),
                    }
                })
                .collect();
            TopicData::default()
                .with_topic_name(topic.topic_name.clone())
                .with_partitions(partitions)
        })
        .collect();
    let mut response = DescribeQuorumResponse::default().with_topics(topics);
    if version >= 2 {
        response.nodes = state.as_ref().map(nodes).unwrap_or_default();
    }
    response
}

fn as_broker_id(id: u64) -> BrokerId {
    BrokerId(i32::try_from(id).unwrap_or(-1))
}

fn describe(state: &QuorumState) -> PartitionData {
    let replicas = |list: &[petrel_raft::controller::ReplicaState]| {
        list.iter()
            .map(|r| {
                ReplicaState::default()
                    .with_replica_id(as_broker_id(r.id))
                    .with_log_end_offset(r.log_end_offset)
                    .with_last_fetch_timestamp(-1)
                    .with_last_caught_up_timestamp(-1)
            })
            .collect()
    };
    PartitionData::default()
        .with_partition_index(0)
        .with_leader_id(as_broker_id(state.leader_id))
        .with_leader_epoch(i32::try_from(state.term).unwrap_or(i32::MAX))
        .with_high_watermark(i64::try_from(state.high_watermark).unwrap_or(i64::MAX))
        .with_current_voters(replicas(&state.voters))
        .with_observers(replicas(&state.observers))
}

/// The voters' controller endpoints (v2).
fn nodes(state: &QuorumState) -> Vec<Node> {
    state
        .nodes
        .iter()
        .filter(|(id, _)| state.voters.iter().any(|v| v.id == *id))
        .filter_map(|(id, addr)| {
            let endpoint = crate::parse_endpoint(addr).ok()?;
            Some(
                Node::default()
                    .with_node_id(as_broker_id(*id))
                    .with_listeners(vec![Listener::default()
                        .with_name(StrBytes::from_static_str("CONTROLLER"))
                        .with_host(StrBytes::from_string(endpoint.host))
                        .with_port(u16::try_from(endpoint.port).unwrap_or(0))]),
            )
        })
        .collect()
}
