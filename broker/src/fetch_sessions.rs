//! Fetch sessions (KIP-227): a bounded cache of the partitions each consumer fetches, so
//! that its requests and our responses only carry what changed.
//!
//! A client starts a session with a full request (session id 0, epoch 0); we answer with
//! a new session id. Its next requests are incremental (that id, epoch 1, 2, ...): they list
//! only partitions whose fetch position changed or that were added, plus the partitions
//! to forget, and the response lists only partitions with news (records, an error, or a
//! changed high watermark, last stable offset or log start offset). Epoch -1 closes a
//! session; a full request with session id 0 and epoch -1 uses none.
//!
//! Eviction: at most `slots` sessions are kept. When the cache is full, a new session may
//! take the slot of the least recently used one only if that one has been idle for
//! `eviction_idle`; otherwise the new client gets session id 0 and simply keeps sending
//! full requests (KIP-227's "no session" answer, which every client handles). Kafka
//! also lets larger sessions evict smaller ones; we do not, which only costs a busy
//! cache some bandwidth.
//!
//! Pure data structure behind a mutex; the caller passes the time, so it is unit-tested
//! without sleeping.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::fetch_request::FetchPartition;
use kafka_protocol::messages::FetchRequest;
use uuid::Uuid;

/// Kafka's "no session" id and the epochs with a special meaning.
pub const NO_SESSION: i32 = 0;
const INITIAL_EPOCH: i32 = 0;
const FINAL_EPOCH: i32 = -1;
/// Kafka's `min.incremental.fetch.session.eviction.ms` default.
pub const EVICTION_IDLE_DEFAULT: Duration = Duration::from_secs(120);

/// One partition a session or request covers: by name before Fetch v13, by topic id after.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartitionKey {
    /// Empty when the request uses topic ids.
    pub topic: String,
    /// Nil when the request uses topic names.
    pub topic_id: Uuid,
    pub partition: i32,
}

/// What was last sent for a partition, to tell whether it has news.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentState {
    pub high_watermark: i64,
    pub last_stable_offset: i64,
    pub log_start_offset: i64,
}

/// The outcome of reading one partition, as the session needs to see it.
#[derive(Debug, Clone, Copy)]
pub struct ReadSummary {
    pub state: SentState,
    pub record_bytes: u64,
    pub error_code: i16,
}

#[derive(Debug)]
struct CachedPartition {
    request: FetchPartition,
    last_sent: Option<SentState>,
}

#[derive(Debug)]
struct Session {
    /// The epoch the next incremental request must carry.
    next_epoch: i32,
    uses_topic_ids: bool,
    partitions: IndexMap<PartitionKey, CachedPartition>,
    last_used: Instant,
}

/// How to answer one Fetch request, decided before reading.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchPlan {
    /// Session id to put in the response (0 = none).
    pub session_id: i32,
    /// Whether the response lists only partitions with news.
    pub incremental: bool,
    /// The partitions to read, in order.
    pub partitions: Vec<(PartitionKey, FetchPartition)>,
}

/// The cache shared by all connections of a node.
#[derive(Debug)]
pub struct FetchSessions {
    slots: usize,
    eviction_idle: Duration,
    sessions: Mutex<HashMap<i32, Session>>,
}

fn next_epoch(epoch: i32) -> i32 {
    // Epochs wrap from i32::MAX back to 1 (0 and -1 have their own meaning).
    if epoch == i32::MAX {
        1
    } else {
        epoch + 1
    }
}

fn request_partitions(version: i16, request: &FetchRequest) -> Vec<(PartitionKey, FetchPartition)> {
    let uses_topic_ids = version >= 13;
    request
        .topics
        .iter()
        .flat_map(|topic| {
            topic.partitions.iter().map(move |p| {
                let key = PartitionKey {
                    topic: if uses_topic_ids {
                        String::new()
                    } else {
                        topic.topic.0.to_string()
                    },
                    topic_id: if uses_topic_ids {
                        topic.topic_id
                    } else {
                        Uuid::nil()
                    },
                    partition: p.partition,
                };
                (key, p.clone())
            })
        })
        .collect()
}

impl FetchSessions {
    pub fn new(slots: usize, eviction_idle: Duration) -> Self {
        FetchSessions {
            slots,
            eviction_idle,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, Session>> {
        // A panic while holding the lock cannot leave the map half-updated in a way that
        // matters more than losing sessions; keep serving.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sessions currently cached.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decides how to serve `request` (Fetch `version`), creating, updating or closing its
    /// session. An error is the response's top-level error code.
    pub fn begin(
        &self,
        version: i16,
        request: &FetchRequest,
        now: Instant,
    ) -> Result<FetchPlan, ResponseError> {
        let requested = request_partitions(version, request);
        if version < 7 {
            return Ok(FetchPlan {
                session_id: NO_SESSION,
                incremental: false,
                partitions: requested,
            });
        }
        let uses_topic_ids = version >= 13;
        let mut sessions = self.lock();
        match (request.session_id, request.session_epoch) {
            (id, INITIAL_EPOCH | FINAL_EPOCH) => {
                // A full request; it closes the session it names, if any.
                if id != NO_SESSION {
                    sessions.remove(&id);
                }
                let session_id = if request.session_epoch == INITIAL_EPOCH {
                    self.create(&mut sessions, uses_topic_ids, &requested, now)
                } else {
                    NO_SESSION
                };
                Ok(FetchPlan {
                    session_id,
                    incremental: false,
                    partitions: requested,
                })
            }
            (id, epoch) => {
                let session = sessions
                    .get_mut(&id)
                    .ok_or(ResponseError::FetchSessionIdNotFound)?;
                if session.next_epoch != epoch {
                    return Err(ResponseError::InvalidFetchSessionEpoch);
                }
                if session.uses_topic_ids != uses_topic_ids {
                    return Err(ResponseError::FetchSessionTopicIdError);
                }
                for forgotten in &request.forgotten_topics_data {
                    for &partition in &forgotten.partitions {
                        session.partitions.shift_remove(&PartitionKey {
                            topic: if uses_topic_ids {
                                String::new()
                            } else {
                                forgotten.topic.0.to_string()
                            },
                            topic_id: if uses_topic_ids {
                                forgotten.topic_id
                            } else {
                                Uuid::nil()
                            },
                            partition,
                        });
                    }
                }
                for (key, partition) in requested {
                    match session.partitions.get_mut(&key) {
                        Some(cached) => cached.request = partition,
                        None => {
                            session.partitions.insert(
                                key,
                                CachedPartition {
                                    request: partition,
                                    last_sent: None,
                                },
                            );
                        }
                    }
                }
                session.next_epoch = next_epoch(epoch);
                session.last_used = now;
                Ok(FetchPlan {
                    session_id: id,
                    incremental: true,
                    partitions: session
                        .partitions
                        .iter()
                        .map(|(k, c)| (k.clone(), c.request.clone()))
                        .collect(),
                })
            }
        }
    }

    /// Makes room and stores a new session; returns its id, or 0 when no slot is free.
    fn create(
        &self,
        sessions: &mut HashMap<i32, Session>,
        uses_topic_ids: bool,
        requested: &[(PartitionKey, FetchPartition)],
        now: Instant,
    ) -> i32 {
        if self.slots == 0 {
            return NO_SESSION;
        }
        if sessions.len() >= self.slots {
            let oldest = sessions
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(id, s)| (*id, s.last_used));
            match oldest {
                Some((id, last_used)) if now.duration_since(last_used) >= self.eviction_idle => {
                    sessions.remove(&id);
                }
                _ => return NO_SESSION,
            }
        }
        let id = loop {
            // Random ids, so a client holding an id from before a restart is unlikely to
            // hit someone else's session (it would then get a wrong-epoch error anyway).
            let candidate = (Uuid::new_v4().as_u128() as i32) & i32::MAX;
            if candidate != NO_SESSION && !sessions.contains_key(&candidate) {
                break candidate;
            }
        };
        sessions.insert(
            id,
            Session {
                next_epoch: 1,
                uses_topic_ids,
                partitions: requested
                    .iter()
                    .map(|(k, p)| {
                        (
                            k.clone(),
                            CachedPartition {
                                request: p.clone(),
                                last_sent: None,
                            },
                        )
                    })
                    .collect(),
                last_used: now,
            },
        );
        id
    }

    /// Records what a response carries for each partition of `plan` and returns, per
    /// partition, whether it belongs in the response: all of them for a full request, only
    /// those with news for an incremental one. Partitions that returned records move to
    /// the back of the session, so the others get the response's byte budget next time.
    pub fn finish(&self, plan: &FetchPlan, reads: &[ReadSummary]) -> Vec<bool> {
        if plan.session_id == NO_SESSION {
            return vec![true; reads.len()];
        }
        let mut sessions = self.lock();
        let Some(session) = sessions.get_mut(&plan.session_id) else {
            // Closed or evicted meanwhile: answer as if sessionless.
            return vec![true; reads.len()];
        };
        let mut include = Vec::with_capacity(reads.len());
        let mut returned_records = Vec::new();
        for ((key, _), read) in plan.partitions.iter().zip(reads) {
            let cached = session.partitions.get_mut(key);
            let news = read.record_bytes > 0
                || read.error_code != 0
                || cached
                    .as_ref()
                    .is_none_or(|c| c.last_sent != Some(read.state));
            if let Some(cached) = cached {
                cached.last_sent = Some(read.state);
            }
            if read.record_bytes > 0 {
                returned_records.push(key.clone());
            }
            include.push(!plan.incremental || news);
        }
        if plan.incremental {
            for key in returned_records {
                if let Some(cached) = session.partitions.shift_remove(&key) {
                    session.partitions.insert(key, cached);
                }
            }
        }
        include
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::fetch_request::{FetchTopic, ForgottenTopic};
    use kafka_protocol::messages::TopicName;

    fn partition(index: i32, offset: i64) -> FetchPartition {
        FetchPartition::default()
            .with_partition(index)
            .with_fetch_offset(offset)
    }

    fn request(session_id: i32, epoch: i32, parts: &[(i32, i64)]) -> FetchRequest {
        FetchRequest::default()
            .with_session_id(session_id)
            .with_session_epoch(epoch)
            .with_topics(vec![FetchTopic::default()
                .with_topic(TopicName("t".into()))
                .with_partitions(
                    parts.iter().map(|&(i, o)| partition(i, o)).collect(),
                )])
    }

    fn read(hw: i64, bytes: u64) -> ReadSummary {
        ReadSummary {
            state: SentState {
                high_watermark: hw,
                last_stable_offset: hw,
                log_start_offset: 0,
            },
            record_bytes: bytes,
            error_code: 0,
        }
    }

    fn indices(plan: &FetchPlan) -> Vec<i32> {
        plan.partitions.iter().map(|(k, _)| k.partition).collect()
    }

    #[test]
    fn a_full_request_creates_a_session_and_incremental_ones_carry_only_news() {
        let cache = FetchSessions::new(10, EVICTION_IDLE_DEFAULT);
        let now = Instant::now();
        let full = cache
            .begin(12, &request(0, 0, &[(0, 0), (1, 0)]), now)
            .unwrap();
        assert_ne!(full.session_id, NO_SESSION);
        assert!(!full.incremental);
        assert_eq!(
            cache.finish(&full, &[read(5, 100), read(0, 0)]),
            [true, true]
        );

        // Epoch 1 with no partitions: the session still covers both. Partition 0 has
        // records, partition 1 is unchanged: only 0 is sent.
        let inc = cache
            .begin(12, &request(full.session_id, 1, &[]), now)
            .unwrap();
        assert!(inc.incremental);
        assert_eq!(indices(&inc), [0, 1]);
        assert_eq!(
            cache.finish(&inc, &[read(9, 40), read(0, 0)]),
            [true, false]
        );

        // The partition that returned records moved to the back. Partition 1's high
        // watermark moves without records: that is news too; partition 0 has none.
        let inc = cache
            .begin(12, &request(full.session_id, 2, &[(0, 9)]), now)
            .unwrap();
        assert_eq!(
            indices(&inc),
            [1, 0],
            "the partition that returned data moved back"
        );
        assert_eq!(
            inc.partitions[1].1.fetch_offset, 9,
            "updated fetch offset kept"
        );
        assert_eq!(cache.finish(&inc, &[read(3, 0), read(9, 0)]), [true, false]);
    }

    #[test]
    fn wrong_epochs_unknown_ids_and_forgotten_partitions() {
        let cache = FetchSessions::new(10, EVICTION_IDLE_DEFAULT);
        let now = Instant::now();
        let full = cache
            .begin(12, &request(0, 0, &[(0, 0), (1, 0)]), now)
            .unwrap();
        let id = full.session_id;
        assert_eq!(
            cache.begin(12, &request(id, 5, &[]), now),
            Err(ResponseError::InvalidFetchSessionEpoch)
        );
        assert_eq!(
            cache.begin(12, &request(id.wrapping_add(1), 1, &[]), now),
            Err(ResponseError::FetchSessionIdNotFound)
        );
        assert_eq!(
            cache.begin(13, &request(id, 1, &[]), now),
            Err(ResponseError::FetchSessionTopicIdError)
        );
        let mut forget = request(id, 1, &[]);
        forget.forgotten_topics_data = vec![ForgottenTopic::default()
            .with_topic(TopicName("t".into()))
            .with_partitions(vec![0])];
        let inc = cache.begin(12, &forget, now).unwrap();
        assert_eq!(indices(&inc), [1]);
        // Epoch -1 closes it.
        let closed = cache.begin(12, &request(id, -1, &[(1, 0)]), now).unwrap();
        assert_eq!(closed.session_id, NO_SESSION);
        assert!(cache.is_empty());
        assert_eq!(
            cache.begin(12, &request(id, 3, &[]), now),
            Err(ResponseError::FetchSessionIdNotFound)
        );
    }

    #[test]
    fn a_full_cache_evicts_only_idle_sessions() {
        let cache = FetchSessions::new(2, Duration::from_secs(120));
        let t0 = Instant::now();
        let a = cache.begin(12, &request(0, 0, &[(0, 0)]), t0).unwrap();
        let b = cache.begin(12, &request(0, 0, &[(0, 0)]), t0).unwrap();
        assert!(a.session_id != NO_SESSION && b.session_id != NO_SESSION);
        // Full and nobody idle: the third client gets no session.
        let c = cache.begin(12, &request(0, 0, &[(0, 0)]), t0).unwrap();
        assert_eq!(c.session_id, NO_SESSION);
        // b stays busy; a goes idle and is evicted by the next newcomer.
        let later = t0 + Duration::from_secs(121);
        cache
            .begin(12, &request(b.session_id, 1, &[]), later)
            .unwrap();
        let d = cache.begin(12, &request(0, 0, &[(0, 0)]), later).unwrap();
        assert_ne!(d.session_id, NO_SESSION);
        assert_eq!(
            cache.begin(12, &request(a.session_id, 1, &[]), later),
            Err(ResponseError::FetchSessionIdNotFound)
        );
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn versions_before_7_never_use_sessions() {
        let cache = FetchSessions::new(2, EVICTION_IDLE_DEFAULT);
        let plan = cache
            .begin(6, &request(0, 0, &[(0, 0)]), Instant::now())
            .unwrap();
        assert_eq!(plan.session_id, NO_SESSION);
        assert!(cache.is_empty());
    }

    #[test]
    fn epochs_wrap_to_one() {
        assert_eq!(next_epoch(i32::MAX), 1);
        assert_eq!(next_epoch(1), 2);
    }
}
