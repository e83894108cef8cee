//! CreatePartitions (key 37): raises topics' partition counts through the topic service,
//! which opens the new partitions' logs. Every field exists in every version (0-3), so the
//! answer does not depend on the version.
//!
//! Checks and messages follow Kafka's `ControllerApis.createPartitions` and
//! `ReplicationControlManager.createPartitions`: a topic named twice in one request gets one
//! `INVALID_REQUEST` and is not touched; an unknown topic is `UNKNOWN_TOPIC_OR_PARTITION`; a
//! count not above the current one is `INVALID_PARTITIONS`; manual assignments must give
//! exactly one per new partition, each a non-empty list of registered brokers (only this
//! node) without repeats, else
//! `INVALID_REPLICA_ASSIGNMENT`. `validate_only` runs every check and changes nothing.

use std::collections::HashSet;

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsTopic,
};
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::context::BrokerContext;

/// The default message of the code, which Kafka sends for a topic it cannot find.
const UNKNOWN_TOPIC_MESSAGE: &str = "This server does not host this topic-partition.";

/// A refusal: the Kafka error code and the message sent with it.
type Refusal = (i16, String);

pub async fn handle(
    ctx: &BrokerContext,
    request: &CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    // Hashed, not scanned: a request may name very many topics.
    let mut seen = HashSet::new();
    let mut repeated = HashSet::new();
    let mut duplicates = Vec::new();
    for topic in &request.topics {
        let name = topic.name.0.as_str();
        if !seen.insert(name) && repeated.insert(name) {
            duplicates.push(name);
        }
    }
    // Kafka answers the duplicates first, once each, then the rest in request order.
    let mut results: Vec<CreatePartitionsTopicResult> = duplicates
        .iter()
        .map(|name| {
            result(
                name,
                Err((
                    ResponseError::InvalidRequest.code(),
                    "Duplicate topic name.".into(),
                )),
            )
        })
        .collect();
    for topic in &request.topics {
        let name = topic.name.0.as_str();
        if repeated.contains(name) {
            continue;
        }
        let outcome = grow(ctx, topic, request.validate_only).await;
        results.push(result(name, outcome));
    }
    CreatePartitionsResponse::default().with_results(results)
}

async fn grow(
    ctx: &BrokerContext,
    topic: &CreatePartitionsTopic,
    validate_only: bool,
) -> Result<(), Refusal> {
    let name = topic.name.0.as_str();
    let Some(meta) = ctx.topics.get(name) else {
        return Err((
            ResponseError::UnknownTopicOrPartition.code(),
            UNKNOWN_TOPIC_MESSAGE.into(),
        ));
    };
    let current = meta.partitions;
    if topic.count == current {
        return Err((
            ResponseError::InvalidPartitions.code(),
            format!("Topic already has {current} partition(s)."),
        ));
    }
    if topic.count < current {
        return Err((
            ResponseError::InvalidPartitions.code(),
            format!(
                "The topic {name} currently has {current} partition(s); {} would not be an \
                 increase.",
                topic.count
            ),
        ));
    }
    let assignment = match &topic.assignments {
        Some(assignments) => {
            let registered: Vec<i32> = ctx.topics.image().brokers.keys().copied().collect();
            let factor = meta.layout.first().map_or(1, |p| p.replicas.len());
            Some(check_assignments(
                &registered,
                factor,
                topic.count - current,
                assignments,
            )?)
        }
        None => None,
    };
    // The controller checks the count again, in case another request grew the topic
    // meanwhile; its refusal maps to the same codes.
    ctx.topics
        .add_partitions(name, topic.count, assignment, validate_only)
        .await
        .map(|_| ())
        .map_err(|e| (e.code(), e.to_string()))
}

/// Kafka's checks of manual assignments for new partitions; returns the replica lists.
fn check_assignments(
    registered: &[i32],
    replication_factor: usize,
    additional: i32,
    assignments: &[CreatePartitionsAssignment],
) -> Result<Vec<Vec<i32>>, Refusal> {
    let invalid = |message: String| Err((ResponseError::InvalidReplicaAssignment.code(), message));
    if usize::try_from(additional).ok() != Some(assignments.len()) {
        return invalid(format!(
            "Attempted to add {additional} additional partition(s), but only {} assignment(s) \
             were specified.",
            assignments.len()
        ));
    }
    let mut lists = Vec::with_capacity(assignments.len());
    for (offset, assignment) in assignments.iter().enumerate() {
        let given: Vec<i32> = assignment.broker_ids.iter().map(|b| b.0).collect();
        let mut broker_ids = given.clone();
        if broker_ids.is_empty() {
            return invalid(
                "The manual partition assignment includes an empty replica list.".into(),
            );
        }
        broker_ids.sort_unstable();
        let mut previous = None;
        for &broker_id in &broker_ids {
            if !registered.contains(&broker_id) {
                return invalid(format!(
                    "The manual partition assignment includes broker {broker_id}, but no such \
                     broker is registered."
                ));
            }
            if previous == Some(broker_id) {
                return invalid(format!(
                    "The manual partition assignment includes the broker {broker_id} more than \
                     once."
                ));
            }
            previous = Some(broker_id);
        }
        if broker_ids.len() != replication_factor {
            return invalid(format!(
                "Inconsistent replication factor between partitions, partition 0 has \
                 {replication_factor} while partitions [{}] have replication factors [{}], \
                 respectively.",
                offset,
                broker_ids.len()
            ));
        }
        lists.push(given);
    }
    Ok(lists)
}

fn result(name: &str, outcome: Result<(), Refusal>) -> CreatePartitionsTopicResult {
    let result = CreatePartitionsTopicResult::default().with_name(
        kafka_protocol::messages::TopicName(StrBytes::from_string(name.to_string())),
    );
    match outcome {
        Ok(()) => result,
        Err((code, message)) => result
            .with_error_code(code)
            .with_error_message(Some(StrBytes::from_string(message))),
    }
}
