//! Fetch (key 1), v4-18: whole record batches from each partition, sent zero-copy.
//!
//! Each partition is read from its fetch offset up to the high watermark (the log end on a
//! single node), `partition_max_bytes` and what remains of `max_bytes`; the first batch
//! of the response is returned whole even when larger than the limits (Kafka's rule, so a
//! consumer always progresses). Record data stays in the segment files: the response is
//! built by the chunked encoder and the regions go to the socket with sendfile.
//!
//! Long polling: while fewer than `min_bytes` are available and `max_wait_ms` has not
//! passed, the request waits on the partitions' log-end watches (woken by appends, no
//! polling). Fetch sessions (KIP-227) are not created yet: a request to start one gets
//! session id 0, which tells the client none was created, so it keeps sending full
//! requests; an incremental request gets `FETCH_SESSION_ID_NOT_FOUND`.

use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::fetch_request::FetchPartition;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{ApiKey, FetchRequest, FetchResponse, RequestHeader};
use petrel_protocol::fetch_encoder::{encode_fetch_response, RecordsPayload};
use petrel_protocol::response::EncodeError;
use petrel_storage::{FileRegion, StorageError};
use tokio::time::Instant;
use tracing::warn;

use super::{HandledResponse, ResponseBody};
use crate::context::BrokerContext;
use crate::partitions::{Partition, SINGLE_NODE_LEADER_EPOCH};

/// Kafka's "no session" id and the epochs that start or close one.
const NO_SESSION: i32 = 0;
const INITIAL_EPOCH: i32 = 0;
const FINAL_EPOCH: i32 = -1;
/// Upper bound on a client's `max_wait_ms`, so a request cannot pin a task for long.
const MAX_WAIT_MS_MAX: i32 = 60_000;

/// A requested partition, resolved once per request.
struct Target<'a> {
    topic_index: usize,
    request: &'a FetchPartition,
    partition: Result<Arc<Partition>, ResponseError>,
}

pub async fn handle(
    ctx: &BrokerContext,
    header: &RequestHeader,
    request: &FetchRequest,
) -> Result<HandledResponse, EncodeError> {
    let version = header.request_api_version;
    if version >= 7 && request.session_id != NO_SESSION {
        return encode(
            header,
            FetchResponse::default().with_error_code(ResponseError::FetchSessionIdNotFound.code()),
            Vec::new(),
        );
    }
    if version >= 7 && !matches!(request.session_epoch, INITIAL_EPOCH | FINAL_EPOCH) {
        return encode(
            header,
            FetchResponse::default()
                .with_error_code(ResponseError::InvalidFetchSessionEpoch.code()),
            Vec::new(),
        );
    }
    let targets = resolve(ctx, version, request);
    let mut watches: Vec<_> = targets
        .iter()
        .filter_map(|t| t.partition.as_ref().ok())
        .map(|p| p.log.subscribe_end_offset())
        .collect();
    let max_wait = Duration::from_millis(request.max_wait_ms.clamp(0, MAX_WAIT_MS_MAX) as u64);
    let deadline = Instant::now() + max_wait;
    loop {
        // Mark the current log ends as seen before reading, so an append racing with the
        // read still wakes the wait below.
        for watch in &mut watches {
            watch.borrow_and_update();
        }
        let (response, payloads, bytes, has_error) = read_all(version, request, &targets).await;
        let enough =
            bytes >= i64::from(request.min_bytes.max(0)) || has_error || watches.is_empty();
        if enough || Instant::now() >= deadline {
            return encode(header, response, payloads);
        }
        let changed =
            futures::future::select_all(watches.iter_mut().map(|w| Box::pin(w.changed())));
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            // Timed out: answer with whatever is there now.
            let (response, payloads, _, _) = read_all(version, request, &targets).await;
            return encode(header, response, payloads);
        }
    }
}

fn encode(
    header: &RequestHeader,
    response: FetchResponse,
    payloads: Vec<Vec<RecordsPayload<Vec<FileRegion>>>>,
) -> Result<HandledResponse, EncodeError> {
    let error_code = response.error_code;
    let chunks = encode_fetch_response(
        header.request_api_version,
        header.correlation_id,
        &response,
        payloads,
    )
    .map_err(|e| EncodeError {
        api_key: ApiKey::Fetch,
        ..e
    })?;
    Ok(HandledResponse {
        body: ResponseBody::Chunks(chunks),
        error_code,
    })
}

fn resolve<'a>(ctx: &BrokerContext, version: i16, request: &'a FetchRequest) -> Vec<Target<'a>> {
    let mut targets = Vec::new();
    for (topic_index, topic) in request.topics.iter().enumerate() {
        let name = if version >= 13 {
            ctx.topics.get_by_id(topic.topic_id).map(|meta| meta.name)
        } else {
            Some(topic.topic.0.to_string())
        };
        for partition in &topic.partitions {
            let found =
                match &name {
                    None => Err(ResponseError::UnknownTopicId),
                    Some(name) => ctx.topics.partitions.get(name, partition.partition).ok_or(
                        if version >= 13 {
                            ResponseError::UnknownTopicId
                        } else {
                            ResponseError::UnknownTopicOrPartition
                        },
                    ),
                };
            let checked = found.and_then(|p| {
                // Clients send -1 when they do not know the leader epoch.
                match partition.current_leader_epoch {
                    epoch if epoch > SINGLE_NODE_LEADER_EPOCH => {
                        Err(ResponseError::UnknownLeaderEpoch)
                    }
                    // (Fenced: a known epoch older than ours; none is older than 0 here, but
                    // the replication work gives partitions higher epochs.)
                    epoch if (0..SINGLE_NODE_LEADER_EPOCH).contains(&epoch) => {
                        Err(ResponseError::FencedLeaderEpoch)
                    }
                    _ => Ok(p),
                }
            });
            targets.push(Target {
                topic_index,
                request: partition,
                partition: checked,
            });
        }
    }
    targets
}

/// Reads every target once: the response, its record payloads, the record bytes found,
/// and whether any partition has an error (which answers the fetch at once, as in Kafka).
async fn read_all(
    version: i16,
    request: &FetchRequest,
    targets: &[Target<'_>],
) -> (
    FetchResponse,
    Vec<Vec<RecordsPayload<Vec<FileRegion>>>>,
    i64,
    bool,
) {
    let mut topics: Vec<FetchableTopicResponse> = request
        .topics
        .iter()
        .map(|t| {
            let mut out = FetchableTopicResponse::default();
            if version >= 13 {
                out.topic_id = t.topic_id;
            } else {
                out.topic = t.topic.clone();
            }
            out
        })
        .collect();
    let mut payloads: Vec<Vec<RecordsPayload<Vec<FileRegion>>>> = vec![Vec::new(); topics.len()];
    let mut bytes_total: i64 = 0;
    let mut has_error = false;
    let max_bytes = i64::from(request.max_bytes.max(0));
    for target in targets {
        let (data, payload, bytes) = match &target.partition {
            Err(code) => (
                error_data(target.request.partition, *code),
                RecordsPayload::Null,
                0,
            ),
            Ok(partition) => {
                let remaining = (max_bytes - bytes_total).max(0);
                let limit = i64::from(target.request.partition_max_bytes.max(0)).min(remaining);
                read_partition(
                    version,
                    request.isolation_level,
                    partition,
                    target.request,
                    limit as u64,
                    bytes_total == 0,
                )
                .await
            }
        };
        has_error |= data.error_code != 0;
        bytes_total += bytes;
        if let (Some(topic), Some(topic_payloads)) = (
            topics.get_mut(target.topic_index),
            payloads.get_mut(target.topic_index),
        ) {
            topic.partitions.push(data);
            topic_payloads.push(payload);
        }
    }
    (
        FetchResponse::default().with_responses(topics),
        payloads,
        bytes_total,
        has_error,
    )
}

fn error_data(index: i32, code: ResponseError) -> PartitionData {
    PartitionData::default()
        .with_partition_index(index)
        .with_error_code(code.code())
        .with_high_watermark(-1)
        .with_last_stable_offset(-1)
        .with_log_start_offset(-1)
}

async fn read_partition(
    version: i16,
    isolation_level: i8,
    partition: &Partition,
    request: &FetchPartition,
    max_bytes: u64,
    first_in_response: bool,
) -> (PartitionData, RecordsPayload<Vec<FileRegion>>, i64) {
    let log = &partition.log;
    let high_watermark = log.log_end_offset();
    let log_start_offset = log.log_start_offset().await;
    let mut data = PartitionData::default()
        .with_partition_index(request.partition)
        .with_high_watermark(high_watermark)
        .with_last_stable_offset(high_watermark)
        // No transactions yet: nothing was aborted. Null means "none" to every client.
        .with_aborted_transactions(if isolation_level == 1 {
            Some(Vec::new())
        } else {
            None
        });
    if version >= 5 {
        data.log_start_offset = log_start_offset;
    }
    match log
        .read(
            request.fetch_offset,
            max_bytes,
            high_watermark,
            first_in_response,
        )
        .await
    {
        Ok(read) => {
            let bytes = read.bytes;
            let payload = RecordsPayload::Records {
                records: read.regions,
                len: bytes,
            };
            (data, payload, bytes as i64)
        }
        Err(StorageError::OffsetOutOfRange { .. }) => {
            data.error_code = ResponseError::OffsetOutOfRange.code();
            (data, RecordsPayload::Null, 0)
        }
        Err(err) => {
            warn!(topic = %partition.topic, partition = partition.index, %err, "fetch read failed");
            data.error_code = ResponseError::KafkaStorageError.code();
            (data, RecordsPayload::Null, 0)
        }
    }
}
