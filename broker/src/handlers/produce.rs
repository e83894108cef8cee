//! Produce (key 0), v3-13: append each partition's record batch, with Kafka's checks.
//!
//! Per partition, in Kafka's order: the topic and partition must exist (unknown names are
//! auto-created when enabled; v13 addresses topics by id); exactly one magic-2 batch
//! (v3+), zstd only from v7; the batch must be valid (CRC, structure: `CORRUPT_MESSAGE` /
//! `INVALID_RECORD`), within `max.message.bytes` (`MESSAGE_TOO_LARGE`) and, for CreateTime,
//! within `message.timestamp.{before,after}.max.ms` of now (`INVALID_TIMESTAMP`); on a
//! compacted topic every record needs a key (`INVALID_RECORD`, listing the keyless records
//! in `record_errors`, v8+); idempotent batches pass the sequence checks of `producers`.
//!
//! acks=0 writes and answers nothing; acks=1 answers once the batch is in the page cache;
//! acks=-1 (all) answers after a group-committed fdatasync covering it (on a single node
//! the leader is the whole ISR), unless `fsync_acks_all` is off: then acks=all is answered
//! from the page cache like acks=1, as Apache Kafka does with its default flush settings.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse, RequestHeader};
use kafka_protocol::protocol::StrBytes;
use petrel_protocol::records::{
    decompress_records, records, validate_batch, BatchHeader, BatchIter, Compression, RecordError,
    TimestampType,
};
use petrel_protocol::response::EncodeError;
use petrel_storage::{AppendInfo, Durability, MAX_DECOMPRESSED_BATCH_BYTES};
use tracing::warn;

use super::{respond, HandledResponse, ResponseBody};
use crate::context::BrokerContext;
use crate::partitions::Partition;
use crate::producers::{BatchSequence, SequenceCheck};
use crate::topics::{config_defs, TopicMeta};
use crate::turn::Turn;

/// A partition's outcome: the response, and the partition to sync if acks=-1 wrote to it.
type Outcome = (PartitionProduceResponse, Option<Arc<Partition>>);

/// Handles a Produce in its connection's Produce chain (`turn`): the appends happen in
/// request order, as in Kafka, since an idempotent producer with several requests in flight
/// sends sequence n+1 right behind n, and a later, smaller request must not reach the
/// partition first. The turn finishes once appended, so fsyncs still overlap.
pub async fn handle(
    ctx: &BrokerContext,
    header: &RequestHeader,
    request: &ProduceRequest,
    mut turn: Turn,
) -> Result<HandledResponse, EncodeError> {
    turn.wait().await;
    let version = header.request_api_version;
    let acks = request.acks;
    let mut responses = Vec::with_capacity(request.topic_data.len());
    let mut to_sync: Vec<(usize, usize, Arc<Partition>)> = Vec::new();
    for topic in &request.topic_data {
        let meta = resolve_topic(ctx, version, topic).await;
        let mut partitions = Vec::with_capacity(topic.partition_data.len());
        for data in &topic.partition_data {
            let (response, written) = match (&meta, acks) {
                (_, a) if !(-1..=1).contains(&a) => (
                    error(data.index, ResponseError::InvalidRequiredAcks, None),
                    None,
                ),
                (Err(code), _) => (error(data.index, *code, None), None),
                (Ok(_), _) if request.transactional_id.is_some() => (
                    error(
                        data.index,
                        ResponseError::TransactionalIdAuthorizationFailed,
                        Some("transactions are not supported yet"),
                    ),
                    None,
                ),
                (Ok(meta), _) => produce_partition(ctx, version, meta, data).await,
            };
            if let (Some(partition), -1, true) = (written, acks, ctx.config.fsync_acks_all) {
                to_sync.push((responses.len(), partitions.len(), partition));
            }
            partitions.push(response);
        }
        let mut out = TopicProduceResponse::default().with_partition_responses(partitions);
        if version >= 13 {
            out.topic_id = topic.topic_id;
        } else {
            out.name = topic.name.clone();
        }
        responses.push(out);
    }
    turn.finish();
    // acks=all: every written partition must be durable before the answer. The syncs are
    // group-committed by the disk, so concurrent producers share them.
    for (t, p, partition) in to_sync {
        if let Err(err) = partition.log.sync().await {
            warn!(topic = %partition.topic, partition = partition.index, %err, "fdatasync failed");
            if let Some(response) = responses
                .get_mut(t)
                .and_then(|topic| topic.partition_responses.get_mut(p))
            {
                response.error_code = ResponseError::KafkaStorageError.code();
            }
        }
    }
    if acks == 0 {
        return Ok(HandledResponse {
            body: ResponseBody::None,
            error_code: 0,
        });
    }
    respond(
        header,
        &ProduceResponse::default().with_responses(responses),
        0,
    )
}

async fn resolve_topic(
    ctx: &BrokerContext,
    version: i16,
    topic: &TopicProduceData,
) -> Result<TopicMeta, ResponseError> {
    if version >= 13 {
        return ctx
            .topics
            .get_by_id(topic.topic_id)
            .ok_or(ResponseError::UnknownTopicId);
    }
    ctx.topics
        .get_or_auto_create(topic.name.0.as_str())
        .await
        .map_err(|e| {
            ResponseError::try_from_code(e.code()).unwrap_or(ResponseError::UnknownTopicOrPartition)
        })
}

fn error(index: i32, error: ResponseError, message: Option<&str>) -> PartitionProduceResponse {
    PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(error.code())
        .with_base_offset(-1)
        .with_error_message(message.map(|m| StrBytes::from_string(m.to_string())))
}

async fn produce_partition(
    ctx: &BrokerContext,
    version: i16,
    meta: &TopicMeta,
    data: &PartitionProduceData,
) -> Outcome {
    let partition = match ctx.topics.led_partition(&meta.name, data.index) {
        Ok(partition) => partition,
        Err(code) => return (error(data.index, code, None), None),
    };
    let records = data.records.clone().unwrap_or_default();
    let header = match check_batch(version, &records, &meta.configs) {
        Ok(header) => header,
        Err((code, message)) => return (error(data.index, code, Some(&message)), None),
    };
    if config_defs::is_compacted(&meta.configs) {
        if let Err(rejection) = check_keys(&records, &header, &meta.name, data.index) {
            return (rejection.into_response(version, data.index), None);
        }
    }
    let batch: BytesMut = records
        .try_into_mut()
        .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
    match append(&partition, &header, batch).await {
        Ok(Appended::Written(info) | Appended::Duplicate(info)) => {
            let mut response = PartitionProduceResponse::default()
                .with_index(data.index)
                .with_base_offset(info.base_offset)
                .with_log_append_time_ms(info.log_append_time_ms.unwrap_or(-1));
            if version >= 5 {
                response.log_start_offset = info.log_start_offset;
            }
            (response, Some(partition))
        }
        Ok(Appended::Rejected(code)) => (error(data.index, code, None), None),
        Err(err) => {
            warn!(topic = %meta.name, partition = data.index, %err, "append failed");
            (
                error(data.index, ResponseError::KafkaStorageError, None),
                None,
            )
        }
    }
}

/// What became of a batch.
enum Appended {
    Written(AppendInfo),
    /// A retry of a batch already written: the original's offsets, nothing written.
    Duplicate(AppendInfo),
    Rejected(ResponseError),
}

/// Appends a checked batch; an idempotent producer's batch passes the sequence checks
/// first, under the partition's producer lock so a retry and its original cannot race.
async fn append(
    partition: &Partition,
    header: &BatchHeader,
    batch: BytesMut,
) -> petrel_storage::Result<Appended> {
    let log = &partition.log;
    if header.producer_id < 0 {
        return Ok(Appended::Written(
            log.append(batch, partition.leader_epoch(), Durability::PageCache)
                .await?,
        ));
    }
    let sequence = BatchSequence {
        producer_id: header.producer_id,
        producer_epoch: header.producer_epoch,
        base_sequence: header.base_sequence,
        last_offset_delta: header.last_offset_delta,
    };
    let mut producers = partition.producers.lock().await;
    match producers.check(&sequence) {
        SequenceCheck::Append => {
            let info = log
                .append(batch, partition.leader_epoch(), Durability::PageCache)
                .await?;
            producers.record(&sequence, info.base_offset);
            Ok(Appended::Written(info))
        }
        SequenceCheck::Duplicate { base_offset } => Ok(Appended::Duplicate(AppendInfo {
            base_offset,
            last_offset: base_offset + i64::from(header.last_offset_delta),
            log_append_time_ms: None,
            log_start_offset: log.log_start_offset().await,
        })),
        SequenceCheck::Reject(code) => Ok(Appended::Rejected(code)),
    }
}

/// Kafka's checks of a partition's records; the single batch's header when they pass.
fn check_batch(
    version: i16,
    records: &Bytes,
    configs: &BTreeMap<String, String>,
) -> Result<BatchHeader, (ResponseError, String)> {
    let invalid = |message: &str| (ResponseError::InvalidRecord, message.to_string());
    let mut batches = BatchIter::new(records);
    let (header, range) = match batches.next() {
        None => return Err(invalid("Produce requests with version 3 or later must have at least one record batch per partition")),
        Some(Err(err)) => return Err((code_of(err.kafka_error_code()), err.to_string())),
        Some(Ok(found)) => found,
    };
    if batches.next().is_some() {
        return Err(invalid("Produce requests with version 3 or later are only allowed to contain exactly one record batch per partition"));
    }
    if range.end != records.len() {
        return Err(invalid("bytes after the record batch"));
    }
    if version < 7 && header.compression() == Compression::Zstd {
        return Err((
            ResponseError::UnsupportedCompressionType,
            "zstd needs Produce v7 or later".into(),
        ));
    }
    let max_message_bytes = config_defs::max_message_bytes(configs);
    if records.len() > max_message_bytes {
        return Err((
            ResponseError::MessageTooLarge,
            format!(
                "batch of {} bytes exceeds max.message.bytes {max_message_bytes}",
                records.len()
            ),
        ));
    }
    let header = validate_batch(records)
        .map_err(|err| (code_of(err.kafka_error_code()), err.to_string()))?;
    if header.records_count == 0 {
        return Err(invalid("a record batch must hold at least one record"));
    }
    if header.is_control() {
        return Err(invalid("clients may not write control batches"));
    }
    if header.is_transactional() {
        return Err((
            ResponseError::TransactionalIdAuthorizationFailed,
            "transactions are not supported yet".into(),
        ));
    }
    check_timestamps(&header, configs)?;
    Ok(header)
}

/// A compacted topic's batch refused because records in it have no key (compaction keeps
/// the latest record per key, so a keyless one could never be kept or removed correctly).
struct KeylessRecords {
    message: String,
    /// The keyless records' indexes within the batch, each with Kafka's message.
    record_errors: Vec<BatchIndexAndErrorMessage>,
}

impl KeylessRecords {
    fn into_response(self, version: i16, index: i32) -> PartitionProduceResponse {
        let mut response = error(index, ResponseError::InvalidRecord, Some(&self.message));
        // record_errors exist from v8; older clients get the error and message only.
        if version >= 8 {
            response.record_errors = self.record_errors;
        }
        response
    }
}

/// Kafka's rule for compacted topics: every record must have a key (a zero-length key
/// counts as one). Compressed batches are decompressed to look, as Kafka does.
fn check_keys(
    batch: &Bytes,
    header: &BatchHeader,
    topic: &str,
    partition: i32,
) -> Result<(), KeylessRecords> {
    let keyless = match keyless_record_indexes(batch, header) {
        Ok(keyless) if keyless.is_empty() => return Ok(()),
        Ok(keyless) => keyless,
        Err(err) => {
            return Err(KeylessRecords {
                message: format!("records could not be read to check their keys: {err}"),
                record_errors: Vec::new(),
            })
        }
    };
    let per_record = format!(
        "Compacted topic cannot accept message without key in topic partition {topic}-{partition}."
    );
    Err(KeylessRecords {
        message: format!(
            "One or more records have been rejected due to {} record errors in total: {per_record}",
            keyless.len()
        ),
        record_errors: keyless
            .into_iter()
            .map(|batch_index| {
                BatchIndexAndErrorMessage::default()
                    .with_batch_index(batch_index)
                    .with_batch_index_error_message(Some(StrBytes::from_string(per_record.clone())))
            })
            .collect(),
    })
}

/// The indexes (within the batch) of the records that have a null key.
fn keyless_record_indexes(batch: &[u8], header: &BatchHeader) -> Result<Vec<i32>, RecordError> {
    let decompressed;
    let all = if header.compression() == Compression::None {
        records(batch)
    } else {
        decompressed = decompress_records(batch, MAX_DECOMPRESSED_BATCH_BYTES)?;
        decompressed.records()
    };
    let mut keyless = Vec::new();
    for (index, record) in (0..).zip(all) {
        if record?.key.is_none() {
            keyless.push(index);
        }
    }
    Ok(keyless)
}

/// CreateTime timestamps must be within the configured distance of the broker's clock.
fn check_timestamps(
    header: &BatchHeader,
    configs: &BTreeMap<String, String>,
) -> Result<(), (ResponseError, String)> {
    if config_defs::effective(configs, "message.timestamp.type") == "LogAppendTime"
        || header.timestamp_type() == TimestampType::LogAppendTime
    {
        return Ok(());
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let before_ms: i64 = config_defs::effective(configs, "message.timestamp.before.max.ms")
        .parse()
        .unwrap_or(i64::MAX);
    let after_ms: i64 = config_defs::effective(configs, "message.timestamp.after.max.ms")
        .parse()
        .unwrap_or(i64::MAX);
    let earliest = now_ms.saturating_sub(before_ms);
    let latest = now_ms.saturating_add(after_ms);
    for timestamp in [header.base_timestamp, header.max_timestamp] {
        if timestamp < earliest || timestamp > latest {
            return Err((
                ResponseError::InvalidTimestamp,
                format!("timestamp {timestamp} is out of range [{earliest}, {latest}]"),
            ));
        }
    }
    Ok(())
}

fn code_of(code: i16) -> ResponseError {
    ResponseError::try_from_code(code).unwrap_or(ResponseError::CorruptMessage)
}
