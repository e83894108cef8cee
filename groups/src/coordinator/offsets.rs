//! Committed offsets: OffsetCommit validation and storage, OffsetFetch, OffsetDelete,
//! retention expiry and removal for deleted topics.

use super::reply::{OffsetDeleteReply, PartitionResult, Reply};
use super::state::GroupState;
use super::{errors, Effects, Group, Outcome, Record, ReplyToken};
use crate::records::{OffsetCommitKey, OffsetCommitValue};

/// One partition of an OffsetCommit request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// -1 when unknown.
    pub leader_epoch: i32,
    /// Null metadata is stored as "".
    pub metadata: String,
    /// Only v1 carries it; -1 means "now".
    pub commit_timestamp_ms: i64,
}

/// An OffsetCommit request (v1+; v0 was ZooKeeper storage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetCommitRequest {
    /// "" with generation -1 for commits outside group management (simple consumers, admin).
    pub member_id: String,
    pub generation_id: i32,
    pub group_instance_id: Option<String>,
    /// v2-4 `retention_time_ms`: -1 for the broker's retention; otherwise an explicit expiry.
    pub retention_time_ms: i64,
    pub offsets: Vec<CommitOffset>,
}

/// Partitions of one topic, as named by OffsetFetch and OffsetDelete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicPartitions {
    pub topic: String,
    pub partitions: Vec<i32>,
}

/// One partition of an OffsetFetch answer; offset -1 with "" metadata when nothing is
/// committed, as Kafka answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: String,
    pub error_code: i16,
}

impl Group {
    /// Handles an OffsetCommit: a `Reply::OffsetCommit` with one result per partition, and one
    /// offset record per accepted partition.
    pub fn commit_offsets(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        request: OffsetCommitRequest,
    ) -> Outcome {
        self.run(now_ms, |group, fx| {
            let results = group.handle_commit(now_ms, request, fx);
            fx.reply(token, Reply::OffsetCommit(results));
        })
    }

    /// Kafka's `validateOffsetCommit` (non-transactional).
    fn validate_commit(&self, req: &OffsetCommitRequest) -> Option<i16> {
        if self.state == GroupState::Dead {
            return Some(errors::COORDINATOR_NOT_AVAILABLE);
        }
        if req.generation_id < 0 && self.state == GroupState::Empty {
            // Admin client or a consumer without group management: allowed while nobody is a
            // member.
            return None;
        }
        if req.generation_id >= 0 || !req.member_id.is_empty() || req.group_instance_id.is_some() {
            if let Some(code) =
                self.validate_member(&req.member_id, req.group_instance_id.as_deref())
            {
                return Some(code);
            }
            if req.generation_id != self.generation_id {
                return Some(errors::ILLEGAL_GENERATION);
            }
        } else if self.state != GroupState::Empty {
            // Without member id and generation, only an Empty group takes commits.
            return Some(errors::UNKNOWN_MEMBER_ID);
        }
        if self.state == GroupState::CompletingRebalance {
            // Valid member and generation, but the assignment is not out yet: let the client
            // finish the rebalance (SyncGroup) first.
            return Some(errors::REBALANCE_IN_PROGRESS);
        }
        None
    }

    fn handle_commit(
        &mut self,
        now: i64,
        req: OffsetCommitRequest,
        fx: &mut Effects,
    ) -> Vec<PartitionResult> {
        if let Some(code) = self.validate_commit(&req) {
            return req
                .offsets
                .into_iter()
                .map(|o| PartitionResult {
                    topic: o.topic,
                    partition: o.partition,
                    error_code: code,
                })
                .collect();
        }
        if matches!(
            self.state,
            GroupState::Stable | GroupState::PreparingRebalance
        ) {
            // A commit proves the member alive like a heartbeat does.
            if let Some(member) = self.members.get_mut(&req.member_id) {
                member.reset_session(now);
            }
        }
        let expire_timestamp_ms = if req.retention_time_ms == -1 {
            -1
        } else {
            now.saturating_add(req.retention_time_ms)
        };
        let max_metadata = self.config.offset_metadata_max_bytes;
        req.offsets
            .into_iter()
            .map(|o| {
                let error_code = if o.metadata.len() > max_metadata {
                    errors::OFFSET_METADATA_TOO_LARGE
                } else {
                    let value = OffsetCommitValue {
                        offset: o.offset,
                        leader_epoch: o.leader_epoch,
                        metadata: o.metadata,
                        commit_timestamp_ms: if o.commit_timestamp_ms == -1 {
                            now
                        } else {
                            o.commit_timestamp_ms
                        },
                        expire_timestamp_ms,
                    };
                    self.store_offset(&o.topic, o.partition, value, fx);
                    errors::NONE
                };
                PartitionResult {
                    topic: o.topic,
                    partition: o.partition,
                    error_code,
                }
            })
            .collect()
    }

    fn store_offset(
        &mut self,
        topic: &str,
        partition: i32,
        value: OffsetCommitValue,
        fx: &mut Effects,
    ) {
        fx.records.push(Record::Offset {
            key: self.offset_key(topic, partition),
            value: Some(value.clone()),
        });
        self.offsets
            .entry(topic.to_owned())
            .or_default()
            .insert(partition, value);
    }

    /// Removes one offset, with its tombstone; nothing if it was not committed.
    pub(crate) fn remove_offset(&mut self, topic: &str, partition: i32, fx: &mut Effects) -> bool {
        let Some(parts) = self.offsets.get_mut(topic) else {
            return false;
        };
        let removed = parts.remove(&partition).is_some();
        if parts.is_empty() {
            self.offsets.remove(topic);
        }
        if removed {
            fx.records.push(Record::Offset {
                key: self.offset_key(topic, partition),
                value: None,
            });
        }
        removed
    }

    fn offset_key(&self, topic: &str, partition: i32) -> OffsetCommitKey {
        OffsetCommitKey {
            group: self.group_id.clone(),
            topic: topic.to_owned(),
            partition,
        }
    }

    /// OffsetFetch: the named partitions (offset -1 where nothing is committed), or every
    /// committed offset when `topics` is `None`. A Dead group answers GROUP_ID_NOT_FOUND.
    pub fn fetch_offsets(
        &self,
        topics: Option<&[TopicPartitions]>,
    ) -> Result<Vec<FetchedOffset>, i16> {
        if self.state == GroupState::Dead {
            return Err(errors::GROUP_ID_NOT_FOUND);
        }
        let found = |topic: &str, partition: i32, v: &OffsetCommitValue| FetchedOffset {
            topic: topic.to_owned(),
            partition,
            offset: v.offset,
            leader_epoch: v.leader_epoch,
            metadata: v.metadata.clone(),
            error_code: errors::NONE,
        };
        let Some(topics) = topics else {
            return Ok(self.offsets().map(|(t, p, v)| found(t, p, v)).collect());
        };
        Ok(topics
            .iter()
            .flat_map(|tp| tp.partitions.iter().map(move |p| (tp.topic.as_str(), *p)))
            .map(|(topic, partition)| match self.offset(topic, partition) {
                Some(v) => found(topic, partition, v),
                None => FetchedOffset {
                    topic: topic.to_owned(),
                    partition,
                    offset: -1,
                    leader_epoch: -1,
                    metadata: String::new(),
                    error_code: errors::NONE,
                },
            })
            .collect())
    }

    /// OffsetDelete (KIP-496): refused for a non-empty group of another protocol type; for a
    /// consumer group, refused per partition of topics its members subscribe to.
    pub fn delete_offsets(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        topics: Vec<TopicPartitions>,
    ) -> Outcome {
        self.run(now_ms, |group, fx| {
            let reply = group.handle_delete_offsets(topics, fx);
            fx.reply(token, Reply::OffsetDelete(reply));
        })
    }

    fn handle_delete_offsets(
        &mut self,
        topics: Vec<TopicPartitions>,
        fx: &mut Effects,
    ) -> OffsetDeleteReply {
        let group_error = match self.state {
            GroupState::Dead => Some(errors::GROUP_ID_NOT_FOUND),
            GroupState::Stable
            | GroupState::PreparingRebalance
            | GroupState::CompletingRebalance
                if !self.uses_consumer_protocol() =>
            {
                Some(errors::NON_EMPTY_GROUP)
            }
            _ => None,
        };
        if let Some(code) = group_error {
            return OffsetDeleteReply {
                error_code: code,
                partitions: Vec::new(),
            };
        }
        let mut partitions = Vec::new();
        for tp in topics {
            let subscribed = self.is_subscribed_to_topic(&tp.topic);
            for partition in tp.partitions {
                let error_code = if subscribed {
                    errors::GROUP_SUBSCRIBED_TO_TOPIC
                } else {
                    self.remove_offset(&tp.topic, partition, fx);
                    errors::NONE
                };
                partitions.push(PartitionResult {
                    topic: tp.topic.clone(),
                    partition,
                    error_code,
                });
            }
        }
        OffsetDeleteReply {
            error_code: errors::NONE,
            partitions,
        }
    }

    /// Drops the offsets of deleted topics (with tombstones).
    pub fn remove_topic_offsets(&mut self, now_ms: i64, topics: &[String]) -> Outcome {
        self.run(now_ms, |group, fx| {
            for topic in topics {
                let partitions: Vec<i32> = group
                    .offsets
                    .get(topic)
                    .map(|p| p.keys().copied().collect())
                    .unwrap_or_default();
                for partition in partitions {
                    group.remove_offset(topic, partition, fx);
                }
            }
        })
    }

    /// Kafka's offset retention, run every retention check interval:
    /// - Empty group with a protocol type: retention counts from when it became Empty;
    /// - Stable consumer group with known subscriptions: offsets of topics nobody subscribes
    ///   to expire by commit time;
    /// - group that never had members (simple consumers): by commit time;
    /// - an explicit expire timestamp (OffsetCommit v2-4) overrides all of these.
    ///
    /// An Empty group left without offsets (and expecting no KIP-394 member) is then deleted.
    pub(crate) fn expire_offsets(&mut self, now: i64, fx: &mut Effects) {
        let retention = self.config.offsets_retention_ms;
        let rule = match (&self.protocol_type, self.state) {
            (Some(_), GroupState::Empty) => Some((self.state_timestamp_ms, None)),
            (Some(_), GroupState::Stable) if self.uses_consumer_protocol() => {
                self.subscribed_topics.clone().map(|t| (None, Some(t)))
            }
            (None, _) => Some((None, None)),
            _ => None,
        };
        if let Some((base, protected)) = rule {
            let expired: Vec<(String, i32)> = self
                .offsets()
                .filter(|(topic, _, _)| protected.as_ref().is_none_or(|p| !p.contains(*topic)))
                .filter(|(_, _, v)| {
                    if v.expire_timestamp_ms >= 0 {
                        now >= v.expire_timestamp_ms
                    } else {
                        let since = base.unwrap_or(v.commit_timestamp_ms);
                        now.saturating_sub(since) >= retention
                    }
                })
                .map(|(t, p, _)| (t.to_owned(), p))
                .collect();
            for (topic, partition) in expired {
                self.remove_offset(&topic, partition, fx);
            }
        }
        if self.state == GroupState::Empty && !self.has_offsets() && self.pending_members.is_empty()
        {
            self.transition(GroupState::Dead, now);
            fx.records.push(Record::Group {
                key: self.group_key(),
                value: None,
            });
        }
    }
}
