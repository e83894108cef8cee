//! The consumer-group APIs (classic protocol): FindCoordinator, JoinGroup, SyncGroup,
//! Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ListGroups, DescribeGroups,
//! DeleteGroups, OffsetDelete. Each handler only translates between the wire structs and
//! the coordinator's own request/reply types; the behaviour lives in `petrel_groups` and
//! the I/O in [`crate::groups`].

use std::collections::BTreeMap;
use std::net::SocketAddr;

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{
    BrokerId, DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest,
    DescribeGroupsResponse, FindCoordinatorRequest, FindCoordinatorResponse, GroupId,
    HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest,
    LeaveGroupResponse, ListGroupsRequest, ListGroupsResponse, OffsetCommitRequest,
    OffsetCommitResponse, OffsetDeleteRequest, OffsetDeleteResponse, OffsetFetchRequest,
    OffsetFetchResponse, SyncGroupRequest, SyncGroupResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use petrel_groups::coordinator::{
    self as coordinator, errors, FetchedOffset, GroupSummary, LeaveMember, PartitionResult,
    Protocol, Reply, TopicPartitions,
};

use crate::context::BrokerContext;
use crate::groups::OFFSETS_TOPIC;

/// FindCoordinator's key types.
const KEY_TYPE_GROUP: i8 = 0;
/// What DescribeGroups reports when authorized operations were not requested.
const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;
/// The only group type this coordinator runs (KIP-848's "consumer" groups are not served).
const CLASSIC: &str = "classic";
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;

fn s(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

/// A group's coordinator is the leader of its `__consumer_offsets` partition, as in Kafka;
/// transactions have no coordinator yet, so their keys get COORDINATOR_NOT_AVAILABLE (the
/// client retries, as with Kafka while a coordinator is moving).
pub async fn find_coordinator(
    ctx: &BrokerContext,
    version: i16,
    request: &FindCoordinatorRequest,
) -> FindCoordinatorResponse {
    let ready = if request.key_type != KEY_TYPE_GROUP {
        Err(errors::COORDINATOR_NOT_AVAILABLE)
    } else {
        ctx.groups
            .ensure_offsets_topic(&ctx.topics)
            .await
            .map_err(|error| {
                tracing::warn!(%error, "cannot create the offsets topic");
                errors::COORDINATOR_NOT_AVAILABLE
            })
    };
    let locate = |key: &str| -> (i32, String, i32, i16) {
        let found = ready.and_then(|()| {
            let leader = ctx
                .topics
                .get(OFFSETS_TOPIC)
                .and_then(|meta| {
                    meta.partition(ctx.groups.partition_for(key))
                        .map(|p| p.leader)
                })
                .filter(|leader| *leader >= 0)
                .ok_or(errors::COORDINATOR_NOT_AVAILABLE)?;
            let endpoint = ctx
                .broker_endpoint(leader)
                .ok_or(errors::COORDINATOR_NOT_AVAILABLE)?;
            Ok((leader, endpoint))
        });
        match found {
            Ok((leader, endpoint)) => (leader, endpoint.host, endpoint.port, errors::NONE),
            Err(error) => (-1, String::new(), -1, error),
        }
    };
    if version >= 4 {
        let coordinators = request
            .coordinator_keys
            .iter()
            .map(|key| {
                let (node_id, host, port, error) = locate(key.as_str());
                Coordinator::default()
                    .with_key(key.clone())
                    .with_node_id(BrokerId(node_id))
                    .with_host(s(&host))
                    .with_port(port)
                    .with_error_code(error)
            })
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    let (node_id, host, port, error) = locate(request.key.as_str());
    FindCoordinatorResponse::default()
        .with_error_code(error)
        .with_node_id(BrokerId(node_id))
        .with_host(s(&host))
        .with_port(port)
}

pub async fn join_group(
    ctx: &BrokerContext,
    version: i16,
    client_id: &str,
    peer: SocketAddr,
    request: &JoinGroupRequest,
) -> JoinGroupResponse {
    let join = coordinator::JoinRequest {
        member_id: request.member_id.to_string(),
        group_instance_id: request.group_instance_id.as_ref().map(|i| i.to_string()),
        require_known_member_id: version >= 4,
        supports_skip_assignment: version >= 9,
        client_id: client_id.to_string(),
        // Kafka reports the client's address as InetAddress.toString(): "/1.2.3.4".
        client_host: format!("/{}", peer.ip()),
        rebalance_timeout_ms: if version >= 1 {
            request.rebalance_timeout_ms
        } else {
            request.session_timeout_ms
        },
        session_timeout_ms: request.session_timeout_ms,
        protocol_type: request.protocol_type.to_string(),
        protocols: request
            .protocols
            .iter()
            .map(|p| Protocol::new(p.name.to_string(), p.metadata.clone()))
            .collect(),
    };
    let group_id = request.group_id.0.to_string();
    let reply = ctx
        .groups
        .call(&ctx.topics, |c, now, token| {
            c.join_group(now, token, &group_id, join)
        })
        .await;
    let reply = match reply {
        Some(Reply::Join(reply)) => reply,
        _ => coordinator::JoinReply::error(
            request.member_id.to_string(),
            errors::UNKNOWN_SERVER_ERROR,
        ),
    };
    JoinGroupResponse::default()
        .with_error_code(reply.error_code)
        .with_generation_id(reply.generation_id)
        .with_protocol_type(reply.protocol_type.as_deref().map(s))
        // Before v7 the field is not nullable: an error answers "".
        .with_protocol_name(
            reply
                .protocol_name
                .as_deref()
                .map(s)
                .or_else(|| (version < 7).then(|| s(""))),
        )
        .with_leader(s(&reply.leader))
        .with_skip_assignment(reply.skip_assignment)
        .with_member_id(s(&reply.member_id))
        .with_members(
            reply
                .members
                .into_iter()
                .map(|m| {
                    JoinGroupResponseMember::default()
                        .with_member_id(s(&m.member_id))
                        .with_group_instance_id(m.group_instance_id.as_deref().map(s))
                        .with_metadata(m.metadata)
                })
                .collect(),
        )
}

pub async fn sync_group(ctx: &BrokerContext, request: &SyncGroupRequest) -> SyncGroupResponse {
    let sync = coordinator::SyncRequest {
        member_id: request.member_id.to_string(),
        generation_id: request.generation_id,
        group_instance_id: request.group_instance_id.as_ref().map(|i| i.to_string()),
        protocol_type: request.protocol_type.as_ref().map(|p| p.to_string()),
        protocol_name: request.protocol_name.as_ref().map(|p| p.to_string()),
        assignments: request
            .assignments
            .iter()
            .map(|a| (a.member_id.to_string(), a.assignment.clone()))
            .collect(),
    };
    let group_id = request.group_id.0.to_string();
    let reply = ctx
        .groups
        .call(&ctx.topics, |c, now, token| {
            c.sync_group(now, token, &group_id, sync)
        })
        .await;
    let reply = match reply {
        Some(Reply::Sync(reply)) => reply,
        _ => coordinator::SyncReply::error(errors::UNKNOWN_SERVER_ERROR),
    };
    SyncGroupResponse::default()
        .with_error_code(reply.error_code)
        .with_protocol_type(reply.protocol_type.as_deref().map(s))
        .with_protocol_name(reply.protocol_name.as_deref().map(s))
        .with_assignment(reply.assignment)
}

pub async fn heartbeat(ctx: &BrokerContext, request: &HeartbeatRequest) -> HeartbeatResponse {
    let beat = coordinator::HeartbeatRequest {
        member_id: request.member_id.to_string(),
        generation_id: request.generation_id,
        group_instance_id: request.group_instance_id.as_ref().map(|i| i.to_string()),
    };
    let group_id = request.group_id.0.to_string();
    let reply = ctx
        .groups
        .call(&ctx.topics, |c, now, token| {
            c.heartbeat(now, token, &group_id, beat)
        })
        .await;
    HeartbeatResponse::default().with_error_code(match reply {
        Some(reply) => reply.error_code(),
        None => errors::UNKNOWN_SERVER_ERROR,
    })
}

pub async fn leave_group(
    ctx: &BrokerContext,
    version: i16,
    request: &LeaveGroupRequest,
) -> LeaveGroupResponse {
    let members: Vec<LeaveMember> = if version >= 3 {
        request
            .members
            .iter()
            .map(|m| LeaveMember {
                member_id: m.member_id.to_string(),
                group_instance_id: m.group_instance_id.as_ref().map(|i| i.to_string()),
            })
            .collect()
    } else {
        vec![LeaveMember {
            member_id: request.member_id.to_string(),
            group_instance_id: None,
        }]
    };
    let group_id = request.group_id.0.to_string();
    let reply = ctx
        .groups
        .call(&ctx.topics, |c, now, token| {
            c.leave_group(now, token, &group_id, members)
        })
        .await;
    let Some(Reply::Leave(reply)) = reply else {
        return LeaveGroupResponse::default().with_error_code(errors::UNKNOWN_SERVER_ERROR);
    };
    if version < 3 {
        // One member and no per-member list: its error is the response's.
        let member_error = reply.members.first().map_or(errors::NONE, |m| m.error_code);
        let error = if reply.error_code != errors::NONE {
            reply.error_code
        } else {
            member_error
        };
        return LeaveGroupResponse::default().with_error_code(error);
    }
    LeaveGroupResponse::default()
        .with_error_code(reply.error_code)
        .with_members(
            reply
                .members
                .into_iter()
                .map(|m| {
                    MemberResponse::default()
                        .with_member_id(s(&m.member_id))
                        .with_group_instance_id(m.group_instance_id.as_deref().map(s))
                        .with_error_code(m.error_code)
                })
                .collect(),
        )
}

pub async fn offset_commit(
    ctx: &BrokerContext,
    version: i16,
    request: &OffsetCommitRequest,
) -> OffsetCommitResponse {
    // Kafka refuses commits for partitions that do not exist before the coordinator sees
    // them (UNKNOWN_TOPIC_OR_PARTITION); they keep their place in the response.
    let exists =
        |topic: &str, partition: i32| ctx.topics.partitions.get(topic, partition).is_some();
    let unknown: Vec<PartitionResult> = request
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .filter(|p| !exists(t.name.0.as_str(), p.partition_index))
                .map(|p| PartitionResult {
                    topic: t.name.0.to_string(),
                    partition: p.partition_index,
                    error_code: UNKNOWN_TOPIC_OR_PARTITION,
                })
        })
        .collect();
    let offsets = request
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .filter(|p| exists(t.name.0.as_str(), p.partition_index))
                .map(move |p| coordinator::CommitOffset {
                    topic: t.name.0.to_string(),
                    partition: p.partition_index,
                    offset: p.committed_offset,
                    leader_epoch: p.committed_leader_epoch,
                    metadata: p
                        .committed_metadata
                        .as_ref()
                        .map_or_else(String::new, |m| m.to_string()),
                    commit_timestamp_ms: -1,
                })
        })
        .collect();
    let commit = coordinator::OffsetCommitRequest {
        member_id: request.member_id.to_string(),
        generation_id: request.generation_id_or_member_epoch,
        group_instance_id: request.group_instance_id.as_ref().map(|i| i.to_string()),
        retention_time_ms: if version <= 4 {
            request.retention_time_ms
        } else {
            -1
        },
        offsets,
    };
    let group_id = request.group_id.0.to_string();
    let reply = ctx
        .groups
        .call(&ctx.topics, |c, now, token| {
            c.commit_offsets(now, token, &group_id, commit)
        })
        .await;
    let committed = match reply {
        Some(Reply::OffsetCommit(results)) => results,
        _ => request
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().map(|p| PartitionResult {
                    topic: t.name.0.to_string(),
                    partition: p.partition_index,
                    error_code: errors::UNKNOWN_SERVER_ERROR,
                })
            })
            .collect(),
    };
    // Back in request order.
    let results: Vec<PartitionResult> = request
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(move |p| (t.name.0.as_str(), p.partition_index))
        })
        .filter_map(|(topic, partition)| {
            committed
                .iter()
                .chain(&unknown)
                .find(|r| r.topic == topic && r.partition == partition)
                .cloned()
        })
        .collect();
    let topics = by_topic(results, |r| &r.topic)
        .into_iter()
        .map(|(topic, partitions)| {
            OffsetCommitResponseTopic::default()
                .with_name(TopicName(s(&topic)))
                .with_partitions(
                    partitions
                        .iter()
                        .map(|r| {
                            OffsetCommitResponsePartition::default()
                                .with_partition_index(r.partition)
                                .with_error_code(r.error_code)
                        })
                        .collect(),
                )
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}

/// Groups per-partition items by topic, topics in first-seen order.
fn by_topic<T>(items: Vec<T>, topic_of: impl Fn(&T) -> &str) -> Vec<(String, Vec<T>)> {
    let mut topics: Vec<(String, Vec<T>)> = Vec::new();
    for item in items {
        match topics.iter_mut().find(|(t, _)| t == topic_of(&item)) {
            Some((_, partitions)) => partitions.push(item),
            None => topics.push((topic_of(&item).to_string(), vec![item])),
        }
    }
    topics
}

/// One group's committed offsets (all when `topics` is None), by topic, with the group's
/// error (and no offsets) when it has one.
async fn fetch_group(
    ctx: &BrokerContext,
    group_id: &str,
    topics: Option<Vec<TopicPartitions>>,
) -> (i16, Vec<(String, Vec<FetchedOffset>)>) {
    let fetched = ctx
        .groups
        .read(|c| c.fetch_offsets(group_id, topics.as_deref()))
        .await;
    match fetched {
        Ok(offsets) => (errors::NONE, by_topic(offsets, |o| &o.topic)),
        Err(code) => (code, Vec::new()),
    }
}

pub async fn offset_fetch(
    ctx: &BrokerContext,
    version: i16,
    request: &OffsetFetchRequest,
) -> OffsetFetchResponse {
    if version >= 8 {
        let mut groups = Vec::with_capacity(request.groups.len());
        for group in &request.groups {
            let topics: Option<Vec<TopicPartitions>> = group.topics.as_ref().map(|topics| {
                topics
                    .iter()
                    .map(|t| TopicPartitions {
                        topic: t.name.0.to_string(),
                        partitions: t.partition_indexes.clone(),
                    })
                    .collect()
            });
            let (error, offsets) = fetch_group(ctx, group.group_id.0.as_str(), topics).await;
            let topics = offsets
                .into_iter()
                .map(|(topic, partitions)| {
                    OffsetFetchResponseTopics::default()
                        .with_name(TopicName(s(&topic)))
                        .with_partitions(
                            partitions
                                .into_iter()
                                .map(|o| {
                                    OffsetFetchResponsePartitions::default()
                                        .with_partition_index(o.partition)
                                        .with_committed_offset(o.offset)
                                        .with_committed_leader_epoch(o.leader_epoch)
                                        .with_metadata(Some(s(&o.metadata)))
                                        .with_error_code(o.error_code)
                                })
                                .collect(),
                        )
                })
                .collect();
            groups.push(
                OffsetFetchResponseGroup::default()
                    .with_group_id(group.group_id.clone())
                    .with_error_code(error)
                    .with_topics(topics),
            );
        }
        return OffsetFetchResponse::default().with_groups(groups);
    }
    let topics: Option<Vec<TopicPartitions>> = request.topics.as_ref().map(|topics| {
        topics
            .iter()
            .map(|t| TopicPartitions {
                topic: t.name.0.to_string(),
                partitions: t.partition_indexes.clone(),
            })
            .collect()
    });
    let (error, offsets) = fetch_group(ctx, request.group_id.0.as_str(), topics).await;
    let topics = offsets
        .into_iter()
        .map(|(topic, partitions)| {
            OffsetFetchResponseTopic::default()
                .with_name(TopicName(s(&topic)))
                .with_partitions(
                    partitions
                        .into_iter()
                        .map(|o| {
                            // v1 has no top-level error: a group error goes on each partition.
                            let code = if version < 2 && error != errors::NONE {
                                error
                            } else {
                                o.error_code
                            };
                            OffsetFetchResponsePartition::default()
                                .with_partition_index(o.partition)
                                .with_committed_offset(o.offset)
                                .with_committed_leader_epoch(o.leader_epoch)
                                .with_metadata(Some(s(&o.metadata)))
                                .with_error_code(code)
                        })
                        .collect(),
                )
        })
        .collect();
    OffsetFetchResponse::default()
        .with_error_code(error)
        .with_topics(topics)
}

pub async fn list_groups(ctx: &BrokerContext, request: &ListGroupsRequest) -> ListGroupsResponse {
    let types_match = request.types_filter.is_empty()
        || request
            .types_filter
            .iter()
            .any(|t| t.eq_ignore_ascii_case(CLASSIC));
    let states: Vec<String> = request
        .states_filter
        .iter()
        .map(|s| s.to_string())
        .collect();
    let state_refs: Vec<&str> = states.iter().map(String::as_str).collect();
    let groups = if types_match {
        ctx.groups.read(|c| c.list_groups(&state_refs)).await
    } else {
        Vec::new()
    };
    ListGroupsResponse::default().with_groups(
        groups
            .into_iter()
            .map(|g| {
                ListedGroup::default()
                    .with_group_id(GroupId(s(&g.group_id)))
                    .with_protocol_type(s(&g.protocol_type))
                    .with_group_state(s(g.state.as_str()))
                    .with_group_type(s(CLASSIC))
            })
            .collect(),
    )
}

pub async fn describe_groups(
    ctx: &BrokerContext,
    version: i16,
    request: &DescribeGroupsRequest,
) -> DescribeGroupsResponse {
    let mut described = Vec::with_capacity(request.groups.len());
    for group_id in &request.groups {
        let id = group_id.0.to_string();
        let summary = ctx.groups.read(|c| c.describe_group(&id)).await;
        let (error, summary) = match summary {
            Some(summary) => (errors::NONE, summary),
            // v6+ (KIP-1043) says so; older versions report a Dead, empty group.
            None if version >= 6 => (errors::GROUP_ID_NOT_FOUND, GroupSummary::dead(&id)),
            None => (errors::NONE, GroupSummary::dead(&id)),
        };
        described.push(
            DescribedGroup::default()
                .with_error_code(error)
                .with_group_id(group_id.clone())
                .with_group_state(s(summary.state.as_str()))
                .with_protocol_type(s(&summary.protocol_type))
                .with_protocol_data(s(&summary.protocol))
                .with_authorized_operations(AUTHORIZED_OPERATIONS_OMITTED)
                .with_members(
                    summary
                        .members
                        .into_iter()
                        .map(|m| {
                            DescribedGroupMember::default()
                                .with_member_id(s(&m.member_id))
                                .with_group_instance_id(m.group_instance_id.as_deref().map(s))
                                .with_client_id(s(&m.client_id))
                                .with_client_host(s(&m.client_host))
                                .with_member_metadata(m.metadata)
                                .with_member_assignment(m.assignment)
                        })
                        .collect(),
                ),
        );
    }
    DescribeGroupsResponse::default().with_groups(described)
}

pub async fn delete_groups(
    ctx: &BrokerContext,
    request: &DeleteGroupsRequest,
) -> DeleteGroupsResponse {
    let ids: Vec<String> = request
        .groups_names
        .iter()
        .map(|g| g.0.to_string())
        .collect();
    let reply = ctx
        .groups
        .call(&ctx.topics, |c, now, token| {
            c.delete_groups(now, token, &ids)
        })
        .await;
    let results: Vec<(String, i16)> = match reply {
        Some(Reply::DeleteGroups(results)) => results,
        _ => ids
            .iter()
            .map(|g| (g.clone(), errors::UNKNOWN_SERVER_ERROR))
            .collect(),
    };
    DeleteGroupsResponse::default().with_results(
        results
            .into_iter()
            .map(|(group, code)| {
                DeletableGroupResult::default()
                    .with_group_id(GroupId(s(&group)))
                    .with_error_code(code)
            })
            .collect(),
    )
}

pub async fn offset_delete(
    ctx: &BrokerContext,
    request: &OffsetDeleteRequest,
) -> OffsetDeleteResponse {
    let topics: Vec<TopicPartitions> = request
        .topics
        .iter()
        .map(|t| TopicPartitions {
            topic: t.name.0.to_string(),
            partitions: t.partitions.iter().map(|p| p.partition_index).collect(),
        })
        .collect();
    let group_id = request.group_id.0.to_string();
    let reply = ctx
        .groups
        .call(&ctx.topics, |c, now, token| {
            c.delete_offsets(now, token, &group_id, topics)
        })
        .await;
    let Some(Reply::OffsetDelete(reply)) = reply else {
        return OffsetDeleteResponse::default().with_error_code(errors::UNKNOWN_SERVER_ERROR);
    };
    let mut by_topic: BTreeMap<String, Vec<OffsetDeleteResponsePartition>> = BTreeMap::new();
    for p in &reply.partitions {
        by_topic.entry(p.topic.clone()).or_default().push(
            OffsetDeleteResponsePartition::default()
                .with_partition_index(p.partition)
                .with_error_code(p.error_code),
        );
    }
    OffsetDeleteResponse::default()
        .with_error_code(reply.error_code)
        .with_topics(
            by_topic
                .into_iter()
                .map(|(topic, partitions)| {
                    OffsetDeleteResponseTopic::default()
                        .with_name(TopicName(s(&topic)))
                        .with_partitions(partitions)
                })
                .collect(),
        )
}
