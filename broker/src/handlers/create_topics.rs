//! CreateTopics (key 19): creates topics through the topic service, as Kafka answers on a
//! single broker: `-1` partitions or replication factor mean the broker defaults; a
//! replication factor above the number of brokers (1) is `INVALID_REPLICATION_FACTOR`;
//! manual assignments may only name this broker; `validate_only` checks without creating.
//! From v5 a created topic's configs are returned, as Kafka does.

use std::collections::{BTreeMap, HashSet};

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::context::BrokerContext;
use crate::topics::config_defs::{self, TOPIC_CONFIGS};
use crate::topics::TopicMeta;

/// Kafka's `ConfigSource` codes used here.
const TOPIC_CONFIG_SOURCE: i8 = 1;
const DEFAULT_CONFIG_SOURCE: i8 = 5;

pub async fn handle(
    ctx: &BrokerContext,
    version: i16,
    request: &CreateTopicsRequest,
) -> CreateTopicsResponse {
    let mut seen = HashSet::new();
    let duplicates: HashSet<&str> = request
        .topics
        .iter()
        .filter(|t| !seen.insert(t.name.0.as_str()))
        .map(|t| t.name.0.as_str())
        .collect();
    let mut results = Vec::with_capacity(request.topics.len());
    for topic in &request.topics {
        let result = if duplicates.contains(topic.name.0.as_str()) {
            Err((
                ResponseError::InvalidRequest.code(),
                "duplicate topic name in the request".to_string(),
            ))
        } else {
            create_one(ctx, topic, request.validate_only).await
        };
        results.push(to_result(version, topic, result));
    }
    CreateTopicsResponse::default().with_topics(results)
}

async fn create_one(
    ctx: &BrokerContext,
    topic: &CreatableTopic,
    validate_only: bool,
) -> Result<TopicMeta, (i16, String)> {
    let replication_factor = topic.replication_factor;
    if replication_factor > 1 {
        return Err((
            ResponseError::InvalidReplicationFactor.code(),
            format!("Unable to replicate the partition {replication_factor} time(s): The target replication factor of {replication_factor} cannot be reached because only 1 broker(s) are registered."),
        ));
    }
    if replication_factor == 0 || replication_factor < -1 {
        return Err((
            ResponseError::InvalidReplicationFactor.code(),
            "Replication factor must be larger than 0, or -1 to use the default value.".into(),
        ));
    }
    let partitions = if topic.assignments.is_empty() {
        match topic.num_partitions {
            -1 => ctx.config.num_partitions,
            n => n,
        }
    } else {
        if topic.num_partitions != -1 || topic.replication_factor != -1 {
            return Err((ResponseError::InvalidRequest.code(), "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.".into()));
        }
        for (expected, assignment) in topic.assignments.iter().enumerate() {
            let only_us = assignment.broker_ids.len() == 1
                && assignment.broker_ids.iter().all(|b| b.0 == ctx.node_id);
            if assignment.partition_index != expected as i32 || !only_us {
                return Err((
                    ResponseError::InvalidReplicaAssignment.code(),
                    format!(
                        "partition {} may only be assigned to broker {}",
                        assignment.partition_index, ctx.node_id
                    ),
                ));
            }
        }
        topic.assignments.len() as i32
    };
    let mut configs = BTreeMap::new();
    for config in &topic.configs {
        // A null value means "use the default", so it is not an override.
        if let Some(value) = &config.value {
            configs.insert(config.name.to_string(), value.to_string());
        }
    }
    ctx.topics
        .create(topic.name.0.as_str(), partitions, configs, validate_only)
        .await
        .map_err(|e| (e.code(), e.to_string()))
}

fn to_result(
    version: i16,
    topic: &CreatableTopic,
    result: Result<TopicMeta, (i16, String)>,
) -> CreatableTopicResult {
    let mut out = CreatableTopicResult::default().with_name(topic.name.clone());
    match result {
        Ok(meta) => {
            if version >= 7 {
                out.topic_id = meta.id;
            }
            if version >= 5 {
                out.num_partitions = meta.partitions;
                out.replication_factor = 1;
                out.configs = Some(describe_configs(&meta.configs));
            }
        }
        Err((code, message)) => {
            out.error_code = code;
            out.error_message = Some(StrBytes::from_string(message));
            if version >= 5 {
                out.configs = None;
            }
        }
    }
    out
}

fn describe_configs(overrides: &BTreeMap<String, String>) -> Vec<CreatableTopicConfigs> {
    TOPIC_CONFIGS
        .iter()
        .map(|def| {
            let source = if overrides.contains_key(def.name) {
                TOPIC_CONFIG_SOURCE
            } else {
                DEFAULT_CONFIG_SOURCE
            };
            CreatableTopicConfigs::default()
                .with_name(StrBytes::from_static_str(def.name))
                .with_value(Some(StrBytes::from_string(
                    config_defs::effective(overrides, def.name).to_string(),
                )))
                .with_config_source(source)
        })
        .collect()
}
