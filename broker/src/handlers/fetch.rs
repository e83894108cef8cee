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
//! polling). Fetch sessions (KIP-227) live in [`crate::fetch_sessions`]: they decide which
//! partitions are read and which of them the response lists.

use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::fetch_request::FetchPartition;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{ApiKey, FetchRequest, FetchResponse, RequestHeader, TopicName};
use petrel_protocol::fetch_encoder::{encode_fetch_response, RecordsPayload};
use petrel_protocol::response::EncodeError;
use petrel_storage::{FileRegion, StorageError};
use tokio::time::Instant;
use tracing::warn;

use super::{HandledResponse, ResponseBody};
use crate::context::BrokerContext;
use crate::fetch_sessions::{FetchPlan, PartitionKey, ReadSummary, SentState};
use crate::partitions::{check_leader_epoch, Partition};

/// Upper bound on a client's `max_wait_ms`, so a request cannot pin a task for long.
const MAX_WAIT_MS_MAX: i32 = 60_000;

/// A partition to read, resolved once per request.
struct Target {
    key: PartitionKey,
    request: FetchPartition,
    partition: Result<Arc<Partition>, ResponseError>,
}

/// One partition's part of a response.
struct PartitionRead {
    data: PartitionData,
    payload: RecordsPayload<Vec<FileRegion>>,
    bytes: u64,
}

pub async fn handle(
    ctx: &BrokerContext,
    header: &RequestHeader,
    request: &FetchRequest,
) -> Result<HandledResponse, EncodeError> {
    let version = header.request_api_version;
    let plan = match ctx
        .fetch_sessions
        .begin(version, request, std::time::Instant::now())
    {
        Ok(plan) => plan,
        Err(code) => {
            return encode(
                header,
                FetchResponse::default().with_error_code(code.code()),
                Vec::new(),
            )
        }
    };
    let targets = resolve(ctx, version, &plan);
    let mut watches: Vec<_> = targets
        .iter()
        .filter_map(|t| t.partition.as_ref().ok())
        .map(|p| p.log.subscribe_end_offset())
        .collect();
    let max_wait = Duration::from_millis(request.max_wait_ms.clamp(0, MAX_WAIT_MS_MAX) as u64);
    let deadline = Instant::now() + max_wait;
    let reads = loop {
        // Mark the current log ends as seen before reading, so an append racing with the
        // read still wakes the wait below.
        for watch in &mut watches {
            watch.borrow_and_update();
        }
        let reads = read_all(version, request, &targets).await;
        let bytes: u64 = reads.iter().map(|r| r.bytes).sum();
        let has_error = reads.iter().any(|r| r.data.error_code != 0);
        let enough = bytes >= request.min_bytes.max(0) as u64 || has_error || watches.is_empty();
        if enough || Instant::now() >= deadline {
            break reads;
        }
        let changed =
            futures::future::select_all(watches.iter_mut().map(|w| Box::pin(w.changed())));
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            // Timed out: answer with whatever is there now.
            break read_all(version, request, &targets).await;
        }
    };
    let summaries: Vec<ReadSummary> = reads
        .iter()
        .map(|r| ReadSummary {
            state: SentState {
                high_watermark: r.data.high_watermark,
                last_stable_offset: r.data.last_stable_offset,
                log_start_offset: r.data.log_start_offset,
            },
            record_bytes: r.bytes,
            error_code: r.data.error_code,
        })
        .collect();
    let include = ctx.fetch_sessions.finish(&plan, &summaries);
    let (response, payloads) = assemble(version, &targets, reads, &include);
    encode(header, response.with_session_id(plan.session_id), payloads)
}

/// Groups the included partitions into topics, a new topic entry each time the topic
/// changes from the previous partition (as Kafka does: a session's order may interleave).
fn assemble(
    version: i16,
    targets: &[Target],
    reads: Vec<PartitionRead>,
    include: &[bool],
) -> (FetchResponse, Vec<Vec<RecordsPayload<Vec<FileRegion>>>>) {
    let mut topics: Vec<FetchableTopicResponse> = Vec::new();
    let mut payloads: Vec<Vec<RecordsPayload<Vec<FileRegion>>>> = Vec::new();
    let mut current: Option<&PartitionKey> = None;
    for ((target, read), included) in targets.iter().zip(reads).zip(include) {
        if !included {
            continue;
        }
        let same_topic = current
            .is_some_and(|k| k.topic == target.key.topic && k.topic_id == target.key.topic_id);
        if !same_topic {
            let mut topic = FetchableTopicResponse::default();
            if version >= 13 {
                topic.topic_id = target.key.topic_id;
            } else {
                topic.topic = TopicName(target.key.topic.clone().into());
            }
            topics.push(topic);
            payloads.push(Vec::new());
            current = Some(&target.key);
        }
        if let (Some(topic), Some(topic_payloads)) = (topics.last_mut(), payloads.last_mut()) {
            topic.partitions.push(read.data);
            topic_payloads.push(read.payload);
        }
    }
    (FetchResponse::default().with_responses(topics), payloads)
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

fn resolve(ctx: &BrokerContext, version: i16, plan: &FetchPlan) -> Vec<Target> {
    plan.partitions
        .iter()
        .map(|(key, request)| {
            let name = if version >= 13 {
                ctx.topics.get_by_id(key.topic_id).map(|meta| meta.name)
            } else {
                Some(key.topic.clone())
            };
            let found = match &name {
                None => Err(ResponseError::UnknownTopicId),
                Some(name) => ctx
                    .topics
                    .led_partition(name, key.partition)
                    .map_err(|code| match code {
                        ResponseError::UnknownTopicOrPartition if version >= 13 => {
                            ResponseError::UnknownTopicId
                        }
                        other => other,
                    }),
            };
            let checked = found.and_then(|p| {
                check_leader_epoch(request.current_leader_epoch, p.leader_epoch()).map(|()| p)
            });
            Target {
                key: key.clone(),
                request: request.clone(),
                partition: checked,
            }
        })
        .collect()
}

/// Reads every target once, within the request's byte budget.
async fn read_all(version: i16, request: &FetchRequest, targets: &[Target]) -> Vec<PartitionRead> {
    let mut reads = Vec::with_capacity(targets.len());
    let mut bytes_total: u64 = 0;
    let max_bytes = request.max_bytes.max(0) as u64;
    for target in targets {
        let read = match &target.partition {
            Err(code) => PartitionRead {
                data: error_data(target.request.partition, *code),
                payload: RecordsPayload::Empty,
                bytes: 0,
            },
            Ok(partition) => {
                let remaining = max_bytes.saturating_sub(bytes_total);
                let limit = (target.request.partition_max_bytes.max(0) as u64).min(remaining);
                read_partition(
                    version,
                    request.isolation_level,
                    partition,
                    &target.request,
                    limit,
                    bytes_total == 0,
                )
                .await
            }
        };
        bytes_total += read.bytes;
        reads.push(read);
    }
    reads
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
) -> PartitionRead {
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
            PartitionRead {
                data,
                payload,
                bytes,
            }
        }
        Err(StorageError::OffsetOutOfRange { .. }) => {
            data.error_code = ResponseError::OffsetOutOfRange.code();
            PartitionRead {
                data,
                payload: RecordsPayload::Empty,
                bytes: 0,
            }
        }
        Err(err) => {
            warn!(topic = %partition.topic, partition = partition.index, %err, "fetch read failed");
            data.error_code = ResponseError::KafkaStorageError.code();
            PartitionRead {
                data,
                payload: RecordsPayload::Empty,
                bytes: 0,
            }
        }
    }
}
