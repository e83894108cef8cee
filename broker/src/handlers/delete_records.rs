//! DeleteRecords (key 21): moves partitions' log start offsets forward, making the records
//! before them unreadable and letting whole segments below go. Every field exists in every
//! version (0-2).
//!
//! As Kafka's `KafkaApis.handleDeleteRecordsRequest` and `Partition.deleteRecordsOnLeader`:
//! a partition the broker does not know is `UNKNOWN_TOPIC_OR_PARTITION`; offset -1 means the
//! high watermark (the log end offset on a single node, where every write is committed
//! once appended); any other negative offset, or one past the high watermark, is
//! `OFFSET_OUT_OF_RANGE`; an offset at or below the current log start changes nothing. The
//! answer's low watermark is the log start offset afterwards, or -1 with an error.

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};
use petrel_storage::StorageError;

use crate::context::BrokerContext;

/// Kafka's `DeleteRecordsRequest.HIGH_WATERMARK`: delete everything committed.
const HIGH_WATERMARK: i64 = -1;
/// Kafka's `DeleteRecordsResponse.INVALID_LOW_WATERMARK`, sent with an error.
const INVALID_LOW_WATERMARK: i64 = -1;

pub async fn handle(ctx: &BrokerContext, request: &DeleteRecordsRequest) -> DeleteRecordsResponse {
    let mut topics = Vec::with_capacity(request.topics.len());
    for topic in &request.topics {
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for p in &topic.partitions {
            let result =
                DeleteRecordsPartitionResult::default().with_partition_index(p.partition_index);
            let result = match delete_before(
                ctx,
                topic.name.0.as_str(),
                p.partition_index,
                p.offset,
            )
            .await
            {
                Ok(low_watermark) => result.with_low_watermark(low_watermark),
                Err(error) => result
                    .with_low_watermark(INVALID_LOW_WATERMARK)
                    .with_error_code(error.code()),
            };
            partitions.push(result);
        }
        topics.push(
            DeleteRecordsTopicResult::default()
                .with_name(topic.name.clone())
                .with_partitions(partitions),
        );
    }
    DeleteRecordsResponse::default().with_topics(topics)
}

/// Deletes the records of one partition before `offset`; returns the new log start.
async fn delete_before(
    ctx: &BrokerContext,
    topic: &str,
    index: i32,
    offset: i64,
) -> Result<i64, ResponseError> {
    let partition = ctx
        .topics
        .partitions
        .get(topic, index)
        .ok_or(ResponseError::UnknownTopicOrPartition)?;
    let log = &partition.log;
    let offset = if offset == HIGH_WATERMARK {
        log.log_end_offset()
    } else {
        offset
    };
    if offset < 0 {
        return Err(ResponseError::OffsetOutOfRange);
    }
    // The log checks the upper bound under its own lock, so a concurrent append cannot slip
    // between the check and the move.
    log.advance_log_start_offset(offset)
        .await
        .map_err(|error| match error {
            StorageError::OffsetOutOfRange { .. } => ResponseError::OffsetOutOfRange,
            StorageError::Io { .. } => ResponseError::KafkaStorageError,
            _ => ResponseError::UnknownServerError,
        })
}
