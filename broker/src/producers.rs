//! Idempotent producers: producer-id allocation and per-partition sequence checking.
//!
//! Ids come in blocks the active controller commits to the metadata log for this broker
//! (`AllocateProducerIds`): a block is durable and belongs to one broker before any id in
//! it is handed out, so an id is never reused, across brokers or restarts (ids left in a
//! half-used block are skipped).
//!
//! For each partition, the last [`BATCHES_REMEMBERED`] batches of each producer are kept
//! (Kafka keeps five, matching `max.in.flight.requests.per.connection` <= 5): a retried
//! batch is recognised and answered with its original offset instead of being written
//! twice; a gap in sequence numbers is `OUT_OF_ORDER_SEQUENCE_NUMBER`; an older epoch is
//! fenced. Pure logic, no I/O, so it is tested on its own.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use petrel_raft::controller::{ControllerError, ControllerReply, ControllerRequest};
use petrel_raft::quorum::Quorum;

use kafka_protocol::error::ResponseError;

/// How many recent batches per producer are remembered for duplicate detection.
pub const BATCHES_REMEMBERED: usize = 5;
/// Producer ids asked of the controller at a time.
const ID_BLOCK_SIZE: i64 = 1000;

/// Hands out producer ids that are never reused.
#[derive(Debug, Default)]
pub struct ProducerIdAllocator {
    /// (next id to hand out, end of the block this broker owns)
    block: tokio::sync::Mutex<(i64, i64)>,
}

impl ProducerIdAllocator {
    /// A fresh producer id for broker `broker_id`, asking the controller for a new block
    /// when the current one is used up.
    pub async fn allocate(
        &self,
        quorum: &Quorum,
        broker_id: i32,
        within: Duration,
    ) -> Result<i64, ControllerError> {
        let mut block = self.block.lock().await;
        if block.0 >= block.1 {
            let request = ControllerRequest::AllocateProducerIds {
                broker_id,
                count: ID_BLOCK_SIZE,
            };
            match quorum.call(request, within).await? {
                ControllerReply::ProducerIds { first, count, .. } => {
                    *block = (first, first + count)
                }
                other => {
                    return Err(ControllerError::Failed(format!(
                        "unexpected answer to a producer id request: {other:?}"
                    )))
                }
            }
        }
        let id = block.0;
        block.0 += 1;
        Ok(id)
    }
}

/// A batch as far as sequence checking is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchSequence {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    /// Records in the batch minus one (the batch's lastOffsetDelta).
    pub last_offset_delta: i32,
}

impl BatchSequence {
    fn last_sequence(&self) -> i32 {
        // Sequences wrap from i32::MAX to 0, as in Kafka.
        let last = i64::from(self.base_sequence) + i64::from(self.last_offset_delta);
        (last % (i64::from(i32::MAX) + 1)) as i32
    }
}

/// What to do with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceCheck {
    /// Append it.
    Append,
    /// Already written: answer with this original base offset, write nothing.
    Duplicate { base_offset: i64 },
    /// Refuse with this Kafka error.
    Reject(ResponseError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Remembered {
    first_sequence: i32,
    last_sequence: i32,
    base_offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ProducerEntry {
    epoch: i16,
    batches: VecDeque<Remembered>,
}

/// Sequence state of every idempotent producer writing to one partition. Serializable:
/// the partition snapshots it (see `partitions`), so it survives restarts without
/// rescanning the whole log.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProducerStates {
    producers: HashMap<i64, ProducerEntry>,
}

impl ProducerStates {
    /// Decides what to do with `batch` (Kafka's `ProducerAppendInfo` rules).
    pub fn check(&self, batch: &BatchSequence) -> SequenceCheck {
        let Some(entry) = self.producers.get(&batch.producer_id) else {
            // No state: a new producer must start at sequence 0. One whose state is gone
            // (retention, or a partition recreated) is told so, and resets (KIP-360).
            return if batch.base_sequence == 0 {
                SequenceCheck::Append
            } else {
                SequenceCheck::Reject(ResponseError::UnknownProducerId)
            };
        };
        if batch.producer_epoch < entry.epoch {
            return SequenceCheck::Reject(ResponseError::InvalidProducerEpoch);
        }
        if batch.producer_epoch > entry.epoch {
            return if batch.base_sequence == 0 {
                SequenceCheck::Append
            } else {
                SequenceCheck::Reject(ResponseError::OutOfOrderSequenceNumber)
            };
        }
        if let Some(original) = entry.batches.iter().find(|r| {
            r.first_sequence == batch.base_sequence && r.last_sequence == batch.last_sequence()
        }) {
            return SequenceCheck::Duplicate {
                base_offset: original.base_offset,
            };
        }
        let expected = entry
            .batches
            .back()
            .map_or(0, |last| next_sequence(last.last_sequence));
        if batch.base_sequence == expected {
            SequenceCheck::Append
        } else {
            SequenceCheck::Reject(ResponseError::OutOfOrderSequenceNumber)
        }
    }

    /// Records an appended batch.
    pub fn record(&mut self, batch: &BatchSequence, base_offset: i64) {
        let entry = self
            .producers
            .entry(batch.producer_id)
            .or_insert_with(|| ProducerEntry {
                epoch: batch.producer_epoch,
                batches: VecDeque::new(),
            });
        if batch.producer_epoch > entry.epoch {
            entry.epoch = batch.producer_epoch;
            entry.batches.clear();
        }
        entry.batches.push_back(Remembered {
            first_sequence: batch.base_sequence,
            last_sequence: batch.last_sequence(),
            base_offset,
        });
        while entry.batches.len() > BATCHES_REMEMBERED {
            entry.batches.pop_front();
        }
    }
}

fn next_sequence(sequence: i32) -> i32 {
    if sequence == i32::MAX {
        0
    } else {
        sequence + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(epoch: i16, base_sequence: i32, records: i32) -> BatchSequence {
        BatchSequence {
            producer_id: 7,
            producer_epoch: epoch,
            base_sequence,
            last_offset_delta: records - 1,
        }
    }

    #[test]
    fn in_order_batches_append_and_retries_are_duplicates() {
        let mut states = ProducerStates::default();
        assert_eq!(states.check(&batch(0, 0, 3)), SequenceCheck::Append);
        states.record(&batch(0, 0, 3), 100);
        assert_eq!(states.check(&batch(0, 3, 2)), SequenceCheck::Append);
        states.record(&batch(0, 3, 2), 103);
        assert_eq!(
            states.check(&batch(0, 0, 3)),
            SequenceCheck::Duplicate { base_offset: 100 }
        );
        assert_eq!(
            states.check(&batch(0, 3, 2)),
            SequenceCheck::Duplicate { base_offset: 103 }
        );
        assert_eq!(
            states.check(&batch(0, 6, 1)),
            SequenceCheck::Reject(ResponseError::OutOfOrderSequenceNumber)
        );
    }

    #[test]
    fn only_the_last_five_batches_are_remembered() {
        let mut states = ProducerStates::default();
        for n in 0..7 {
            states.record(&batch(0, n, 1), 1000 + i64::from(n));
        }
        assert_eq!(
            states.check(&batch(0, 2, 1)),
            SequenceCheck::Duplicate { base_offset: 1002 }
        );
        assert_eq!(
            states.check(&batch(0, 1, 1)),
            SequenceCheck::Reject(ResponseError::OutOfOrderSequenceNumber)
        );
    }

    #[test]
    fn epochs_fence_and_reset() {
        let mut states = ProducerStates::default();
        states.record(&batch(3, 0, 1), 0);
        assert_eq!(
            states.check(&batch(2, 1, 1)),
            SequenceCheck::Reject(ResponseError::InvalidProducerEpoch)
        );
        assert_eq!(
            states.check(&batch(4, 5, 1)),
            SequenceCheck::Reject(ResponseError::OutOfOrderSequenceNumber)
        );
        assert_eq!(states.check(&batch(4, 0, 1)), SequenceCheck::Append);
        assert_eq!(
            ProducerStates::default().check(&batch(0, 9, 1)),
            SequenceCheck::Reject(ResponseError::UnknownProducerId)
        );
    }

    #[test]
    fn sequences_wrap_at_i32_max() {
        let mut states = ProducerStates::default();
        states.record(&batch(0, 0, 1), 0);
        let near_end = BatchSequence {
            producer_id: 7,
            producer_epoch: 0,
            base_sequence: i32::MAX - 1,
            last_offset_delta: 1,
        };
        assert_eq!(near_end.last_sequence(), i32::MAX);
        let wrapping = BatchSequence {
            producer_id: 7,
            producer_epoch: 0,
            base_sequence: i32::MAX,
            last_offset_delta: 2,
        };
        assert_eq!(wrapping.last_sequence(), 1);
        assert_eq!(next_sequence(i32::MAX), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn producer_ids_are_never_reused_across_restarts() {
        use petrel_raft::controller::{ClusterBootstrap, ControllerSettings};
        use petrel_raft::quorum::{QuorumConfig, RaftTimings};
        let dir = tempfile::tempdir().unwrap();
        let within = Duration::from_secs(10);
        let config = QuorumConfig {
            node_id: 1,
            data_dir: dir.path().to_path_buf(),
            controller_listen: None,
            voters: [(1, Default::default())].into(),
            timings: RaftTimings::default(),
            controller: ControllerSettings {
                bootstrap: Some(ClusterBootstrap {
                    cluster_id: "c".into(),
                    legacy: None,
                }),
                ..Default::default()
            },
        };
        let quorum = Quorum::start(config.clone()).await.unwrap();
        let register = ControllerRequest::RegisterBroker {
            id: 1,
            endpoint: "127.0.0.1:9092".into(),
            rack: None,
            controller_addr: String::new(),
        };
        quorum.call(register, within).await.unwrap();
        let first = ProducerIdAllocator::default();
        let a = first.allocate(&quorum, 1, within).await.unwrap();
        let b = first.allocate(&quorum, 1, within).await.unwrap();
        assert_ne!(a, b);
        quorum.shutdown().await;
        let quorum = Quorum::start(config).await.unwrap();
        let second = ProducerIdAllocator::default();
        let c = second.allocate(&quorum, 1, within).await.unwrap();
        assert!(c > b, "{c} after restart must exceed {b}");
        quorum.shutdown().await;
    }
}
