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
use crate::topics::service::Replicas;
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
        results.push(to_result(
            version,
            ctx.config.default_replication_factor,
            topic,
            result,
        ));
    }
    CreateTopicsResponse::default().with_topics(results)
}

async fn create_one(
    ctx: &BrokerContext,
    topic: &CreatableTopic,
    validate_only: bool,
) -> Result<TopicMeta, (i16, String)> {
    let replication_factor = topic.replication_factor;
    let live = ctx.live_brokers().len();
    if usize::try_from(replication_factor).is_ok_and(|factor| factor > live) {
        return Err((
            ResponseError::InvalidReplicationFactor.code(),
            format!("Unable to replicate the partition {replication_factor} time(s): The target replication factor of {replication_factor} cannot be reached because only {live} broker(s) are registered."),
        ));
    }
    if replication_factor == 0 || replication_factor < -1 {
        return Err((
            ResponseError::InvalidReplicationFactor.code(),
            "Replication factor must be larger than 0, or -1 to use the default value.".into(),
        ));
    }
    let (partitions, replicas) = if topic.assignments.is_empty() {
        let partitions = match topic.num_partitions {
            -1 => ctx.config.num_partitions,
            n => n,
        };
        (partitions, Replicas::Factor(replication_factor))
    } else {
        if topic.num_partitions != -1 || topic.replication_factor != -1 {
            return Err((ResponseError::InvalidRequest.code(), "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.".into()));
        }
        let registered: Vec<i32> = ctx.topics.image().brokers.keys().copied().collect();
        let mut lists = Vec::with_capacity(topic.assignments.len());
        for (expected, assignment) in topic.assignments.iter().enumerate() {
            let list: Vec<i32> = assignment.broker_ids.iter().map(|b| b.0).collect();
            let unknown = list.iter().find(|id| !registered.contains(id));
            let refusal = if assignment.partition_index != expected as i32 {
                Some(format!(
                    "partitions should be a consecutive 0-based integer sequence, found {}",
                    assignment.partition_index
                ))
            } else if list.is_empty() {
                Some("The manual partition assignment includes an empty replica list.".into())
            } else {
                unknown.map(|id| {
                    format!(
                        "The manual partition assignment includes broker {id}, but no such \
                         broker is registered."
                    )
                })
            };
            if let Some(message) = refusal {
                return Err((ResponseError::InvalidReplicaAssignment.code(), message));
            }
            lists.push(list);
        }
        (lists.len() as i32, Replicas::Assigned(lists))
    };
    let mut configs = BTreeMap::new();
    for config in &topic.configs {
        // A null value means "use the default", so it is not an override.
        if let Some(value) = &config.value {
            configs.insert(config.name.to_string(), value.to_string());
        }
    }
    ctx.topics
        .create_with(
            topic.name.0.as_str(),
            partitions,
            replicas,
            configs,
            validate_only,
        )
        .await
        .map_err(|e| (e.code(), e.to_string()))
}

fn to_result(
    version: i16,
    default_replication_factor: i16,
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
                // A topic only validated has no layout: report the factor it would get.
                out.replication_factor = meta.layout.first().map_or(
                    match topic.replication_factor {
                        -1 => default_replication_factor,
                        given => given,
                    },
                    |p| p.replicas.len() as i16,
                );
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
