//! DeleteTopics (key 20): deletes topics by name (v1-5 `topic_names`) or, from v6, by name
//! or id (`topics`), through the topic service, which removes the registry entry and the
//! partitions' data.
//!
//! Follows Kafka's `ControllerApis.deleteTopics`: the request is first sorted into names
//! and ids, refusing entries that give both or neither and names or ids given twice
//! (`INVALID_REQUEST`); names are resolved to ids (`UNKNOWN_TOPIC_OR_PARTITION` if none)
//! and ids to names (`UNKNOWN_TOPIC_ID`); a name whose id was also given is refused; the
//! rest are deleted. Results come back in that order, one per distinct topic. Deletion is
//! immediate here, so `timeout_ms` never expires.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use crate::context::BrokerContext;

/// The default messages of the two codes (Kafka's `Errors`), which Kafka's controller
/// sends for a name or id it cannot find.
const UNKNOWN_TOPIC_MESSAGE: &str = "This server does not host this topic-partition.";
const UNKNOWN_TOPIC_ID_MESSAGE: &str = "This server does not host this topic ID.";

/// One topic's outcome before it is shaped for the response version.
struct Outcome {
    name: Option<String>,
    id: Uuid,
    error: Option<(i16, String)>,
}

impl Outcome {
    fn failed(name: Option<String>, id: Uuid, error: ResponseError, message: &str) -> Outcome {
        Outcome {
            name,
            id,
            error: Some((error.code(), message.to_string())),
        }
    }
}

/// Names or ids in request order, with how often each was given (hashed: a request may
/// name very many topics).
struct Provided<T> {
    order: Vec<T>,
    counts: HashMap<T, usize>,
}

impl<T: Eq + Hash + Clone> Provided<T> {
    fn new() -> Self {
        Provided {
            order: Vec::new(),
            counts: HashMap::new(),
        }
    }

    fn add(&mut self, item: T) {
        let count = self.counts.entry(item.clone()).or_insert(0);
        if *count == 0 {
            self.order.push(item);
        }
        *count += 1;
    }

    /// Those given once (true) or more than once (false), in request order.
    fn given_once(&self, once: bool) -> Vec<T> {
        self.order
            .iter()
            .filter(|item| (self.counts.get(*item) == Some(&1)) == once)
            .cloned()
            .collect()
    }
}

pub async fn handle(
    ctx: &BrokerContext,
    version: i16,
    request: &DeleteTopicsRequest,
) -> DeleteTopicsResponse {
    let mut outcomes = Vec::new();
    let mut names = Provided::<String>::new();
    let mut ids = Provided::<Uuid>::new();
    // v1-5 fill `topic_names`, v6 fills `topics`; the other list decodes empty.
    for name in &request.topic_names {
        names.add(name.0.to_string());
    }
    for topic in &request.topics {
        match (&topic.name, topic.topic_id.is_nil()) {
            (None, true) => outcomes.push(Outcome::failed(
                None,
                Uuid::nil(),
                ResponseError::InvalidRequest,
                "Neither topic name nor id were specified.",
            )),
            (None, false) => ids.add(topic.topic_id),
            (Some(name), true) => names.add(name.0.to_string()),
            (Some(name), false) => outcomes.push(Outcome::failed(
                Some(name.0.to_string()),
                topic.topic_id,
                ResponseError::InvalidRequest,
                "You may not specify both topic name and topic id.",
            )),
        }
    }
    for name in names.given_once(false) {
        outcomes.push(Outcome::failed(
            Some(name),
            Uuid::nil(),
            ResponseError::InvalidRequest,
            "Duplicate topic name.",
        ));
    }
    for id in ids.given_once(false) {
        outcomes.push(Outcome::failed(
            None,
            id,
            ResponseError::InvalidRequest,
            "Duplicate topic id.",
        ));
    }

    // Resolve everything before deleting anything, as Kafka does.
    let unique_ids = ids.given_once(true);
    let given_ids: HashSet<Uuid> = unique_ids.iter().copied().collect();
    let mut doomed: Vec<(String, Uuid)> = Vec::new();
    for name in names.given_once(true) {
        match ctx.topics.get(&name) {
            None => outcomes.push(Outcome::failed(
                Some(name),
                Uuid::nil(),
                ResponseError::UnknownTopicOrPartition,
                UNKNOWN_TOPIC_MESSAGE,
            )),
            Some(meta) if given_ids.contains(&meta.id) => outcomes.push(Outcome::failed(
                Some(name),
                meta.id,
                ResponseError::InvalidRequest,
                "The provided topic name maps to an ID that was already supplied.",
            )),
            Some(meta) => doomed.push((meta.name, meta.id)),
        }
    }
    for id in unique_ids {
        match ctx.topics.get_by_id(id) {
            None => outcomes.push(Outcome::failed(
                None,
                id,
                ResponseError::UnknownTopicId,
                UNKNOWN_TOPIC_ID_MESSAGE,
            )),
            Some(meta) => doomed.push((meta.name, meta.id)),
        }
    }

    for (name, id) in doomed {
        let error = match ctx.topics.delete(&name).await {
            Ok(_) => {
                // Kafka tombstones every group's offsets of a deleted topic, so a topic
                // created again under the same name starts without stale offsets.
                ctx.groups
                    .apply(&ctx.topics, |c, now| {
                        c.remove_topic_offsets(now, std::slice::from_ref(&name))
                    })
                    .await;
                None
            }
            Err(e) => Some((e.code(), e.to_string())),
        };
        outcomes.push(Outcome {
            name: Some(name),
            id,
            error,
        });
    }

    let responses = outcomes
        .into_iter()
        .map(|outcome| to_result(version, outcome))
        .collect();
    DeleteTopicsResponse::default().with_responses(responses)
}

/// Shapes one outcome for `version`: the id only in v6, the message only from v5, and a
/// name that is never null before v6 (only v6 can name a topic by id alone).
fn to_result(version: i16, outcome: Outcome) -> DeletableTopicResult {
    let (error_code, message) = outcome.error.unwrap_or((0, String::new()));
    let name = match outcome.name {
        Some(name) => Some(TopicName(StrBytes::from_string(name))),
        None if version >= 6 => None,
        None => Some(TopicName(StrBytes::default())),
    };
    let mut result = DeletableTopicResult::default()
        .with_name(name)
        .with_error_code(error_code);
    if version >= 6 {
        result.topic_id = outcome.id;
    }
    if version >= 5 && error_code != 0 {
        result.error_message = Some(StrBytes::from_string(message));
    }
    result
}
