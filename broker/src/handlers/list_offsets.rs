//! ListOffsets (key 2): offsets by timestamp. Special timestamps, as Kafka defines them:
//! -1 latest (the high watermark), -2 earliest (the log start), -3 the first record with the
//! largest timestamp (v7+; Kafka's answer since KAFKA-16310), -4 earliest local (v8+; all data is local), -5 earliest pending
//! upload (v9+; nothing is tiered, so none). A real timestamp finds the first record at or
//! after it via the time index, or -1 when every record is older.

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use crate::context::BrokerContext;
use crate::partitions::{check_leader_epoch, Partition};

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
const EARLIEST_LOCAL: i64 = -4;
const EARLIEST_PENDING_UPLOAD: i64 = -5;

pub async fn handle(
    ctx: &BrokerContext,
    version: i16,
    request: &ListOffsetsRequest,
) -> ListOffsetsResponse {
    let mut topics = Vec::with_capacity(request.topics.len());
    for topic in &request.topics {
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for p in &topic.partitions {
            let response =
                ListOffsetsPartitionResponse::default().with_partition_index(p.partition_index);
            let led = ctx
                .topics
                .led_partition(topic.name.0.as_str(), p.partition_index)
                .and_then(|partition| {
                    check_leader_epoch(p.current_leader_epoch, partition.leader_epoch())
                        .map(|()| partition)
                });
            let answer = match led {
                Err(code) => response.with_error_code(code.code()),
                Ok(partition) => lookup(&partition, p.timestamp, version, response).await,
            };
            partitions.push(answer);
        }
        topics.push(
            ListOffsetsTopicResponse::default()
                .with_name(topic.name.clone())
                .with_partitions(partitions),
        );
    }
    ListOffsetsResponse::default().with_topics(topics)
}

async fn lookup(
    partition: &Partition,
    timestamp: i64,
    version: i16,
    response: ListOffsetsPartitionResponse,
) -> ListOffsetsPartitionResponse {
    let log = &partition.log;
    let (offset, found_timestamp) = match timestamp {
        LATEST => (log.log_end_offset(), -1),
        EARLIEST | EARLIEST_LOCAL => (log.log_start_offset().await, -1),
        MAX_TIMESTAMP if version >= 7 => match log.max_timestamp().await {
            Ok(Some(found)) => (found.offset, found.timestamp_ms),
            Ok(None) => (-1, -1),
            Err(_) => return response.with_error_code(ResponseError::KafkaStorageError.code()),
        },
        EARLIEST_PENDING_UPLOAD if version >= 9 => (-1, -1),
        t if t >= 0 => match log.offset_for_timestamp(t).await {
            Ok(Some(found)) => (found.offset, found.timestamp_ms),
            Ok(None) => (-1, -1),
            Err(_) => return response.with_error_code(ResponseError::KafkaStorageError.code()),
        },
        _ => return response.with_error_code(ResponseError::InvalidRequest.code()),
    };
    let mut response = response.with_offset(offset).with_timestamp(found_timestamp);
    if version >= 4 {
        response.leader_epoch = if offset >= 0 {
            partition.leader_epoch()
        } else {
            -1
        };
    }
    response
}
