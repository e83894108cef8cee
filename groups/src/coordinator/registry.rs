//! [`GroupCoordinator`]: the groups of one coordinator (e.g. of one `__consumer_offsets`
//! partition) by id, with Kafka's group-lookup rules and a single timer index.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::reply::{LeaveMemberReply, LeaveReply, OffsetDeleteReply, PartitionResult, Reply};
use super::state::GroupState;
use super::summary::{GroupOverview, GroupSummary};
use super::{
    errors, FetchedOffset, Group, GroupConfig, HeartbeatRequest, JoinRequest, LeaveMember,
    MemberIdGenerator, OffsetCommitRequest, Outcome, Record, ReplyToken, SyncRequest,
    TopicPartitions,
};
use crate::records::{GroupMetadataValue, OffsetCommitKey, OffsetCommitValue};

/// Groups by id. Outcomes' `next_deadline_ms` is the earliest deadline of *all* groups, so the
/// broker needs a single timer: call [`GroupCoordinator::tick`] when it fires.
#[derive(Debug)]
pub struct GroupCoordinator {
    config: GroupConfig,
    ids: MemberIdGenerator,
    groups: BTreeMap<String, Group>,
    /// (deadline, group id) for every group with a timer, to find due groups without scanning.
    timers: BTreeSet<(i64, String)>,
    deadline_of: HashMap<String, i64>,
}

impl GroupCoordinator {
    /// `member_id_seed` seeds member-id generation; use a random value in production.
    pub fn new(config: GroupConfig, member_id_seed: u64) -> Self {
        GroupCoordinator {
            config,
            ids: MemberIdGenerator::new(member_id_seed),
            groups: BTreeMap::new(),
            timers: BTreeSet::new(),
            deadline_of: HashMap::new(),
        }
    }

    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// Applies changed settings to every group.
    pub fn set_config(&mut self, config: GroupConfig) {
        self.config = config;
        for group in self.groups.values_mut() {
            group.set_config(config);
        }
    }

    pub fn group(&self, group_id: &str) -> Option<&Group> {
        self.groups.get(group_id)
    }

    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// JoinGroup. An unknown group is created only by a member without id (a first join);
    /// a member id for an unknown group gets UNKNOWN_MEMBER_ID.
    pub fn join_group(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        group_id: &str,
        request: JoinRequest,
    ) -> Outcome {
        self.with_settled(group_id, now_ms, |c| {
            c.join_group_now(now_ms, token, group_id, request)
        })
    }

    pub fn sync_group(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        group_id: &str,
        request: SyncRequest,
    ) -> Outcome {
        self.with_settled(group_id, now_ms, |c| {
            c.sync_group_now(now_ms, token, group_id, request)
        })
    }

    pub fn heartbeat(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        group_id: &str,
        request: HeartbeatRequest,
    ) -> Outcome {
        self.with_settled(group_id, now_ms, |c| {
            c.heartbeat_now(now_ms, token, group_id, request)
        })
    }

    pub fn leave_group(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        group_id: &str,
        members: Vec<LeaveMember>,
    ) -> Outcome {
        self.with_settled(group_id, now_ms, |c| {
            c.leave_group_now(now_ms, token, group_id, members)
        })
    }

    /// OffsetCommit. An unknown group is created by a commit outside group management
    /// (generation < 0); otherwise the commit is from a stale generation: ILLEGAL_GENERATION.
    pub fn commit_offsets(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        group_id: &str,
        request: OffsetCommitRequest,
    ) -> Outcome {
        self.with_settled(group_id, now_ms, |c| {
            c.commit_offsets_now(now_ms, token, group_id, request)
        })
    }

    pub fn delete_offsets(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        group_id: &str,
        topics: Vec<TopicPartitions>,
    ) -> Outcome {
        self.with_settled(group_id, now_ms, |c| {
            c.delete_offsets_now(now_ms, token, group_id, topics)
        })
    }

    /// OffsetFetch; an unknown group has no offsets (-1 for each named partition).
    pub fn fetch_offsets(
        &self,
        group_id: &str,
        topics: Option<&[TopicPartitions]>,
    ) -> Result<Vec<FetchedOffset>, i16> {
        match self.groups.get(group_id) {
            Some(group) => group.fetch_offsets(topics),
            None => Group::new(group_id, self.config, 0).fetch_offsets(topics),
        }
    }

    /// DeleteGroups: one `Reply::DeleteGroups` with an entry per requested group.
    pub fn delete_groups(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        group_ids: &[String],
    ) -> Outcome {
        let mut outcome = Outcome::default();
        let mut results = Vec::with_capacity(group_ids.len());
        for group_id in group_ids {
            outcome.merge(self.settle_due(group_id, now_ms));
            let Some(group) = self.groups.get_mut(group_id) else {
                results.push((group_id.clone(), errors::GROUP_ID_NOT_FOUND));
                continue;
            };
            let mut code = errors::UNKNOWN_SERVER_ERROR;
            let single = group.run(now_ms, |g, fx| code = g.handle_delete(now_ms, fx));
            results.push((group_id.clone(), code));
            outcome.merge(single);
            self.reindex(group_id);
        }
        outcome.replies.push((token, Reply::DeleteGroups(results)));
        outcome.next_deadline_ms = self.next_deadline_ms();
        outcome
    }

    /// DescribeGroups; `None` for an unknown group (the broker answers
    /// [`GroupSummary::dead`] or, from v6, GROUP_ID_NOT_FOUND).
    pub fn describe_group(&self, group_id: &str) -> Option<GroupSummary> {
        self.groups.get(group_id).map(Group::summary)
    }

    /// ListGroups, filtered by state names (case-insensitive; empty filter: all groups).
    pub fn list_groups(&self, states: &[&str]) -> Vec<GroupOverview> {
        let wanted: Vec<GroupState> = states.iter().filter_map(|s| GroupState::parse(s)).collect();
        self.groups
            .values()
            .filter(|g| states.is_empty() || wanted.contains(&g.state()))
            .map(Group::overview)
            .collect()
    }

    /// Drops every group's offsets of deleted topics.
    pub fn remove_topic_offsets(&mut self, now_ms: i64, topics: &[String]) -> Outcome {
        let ids: Vec<String> = self.groups.keys().cloned().collect();
        let mut outcome = Outcome::default();
        for id in ids {
            if let Some(group) = self.groups.get_mut(&id) {
                outcome.merge(group.remove_topic_offsets(now_ms, topics));
            }
            self.reindex(&id);
        }
        outcome.next_deadline_ms = self.next_deadline_ms();
        outcome
    }

    /// Fires the timers of every group that has one due; drops groups that died.
    pub fn tick(&mut self, now_ms: i64) -> Outcome {
        let due: Vec<String> = self
            .timers
            .iter()
            .take_while(|(deadline, _)| *deadline <= now_ms)
            .map(|(_, id)| id.clone())
            .collect();
        let mut outcome = Outcome::default();
        for id in due {
            if let Some(group) = self.groups.get_mut(&id) {
                outcome.merge(group.tick(now_ms));
            }
            self.reindex(&id);
        }
        outcome.next_deadline_ms = self.next_deadline_ms();
        outcome
    }

    pub fn next_deadline_ms(&self) -> Option<i64> {
        self.timers.first().map(|(deadline, _)| *deadline)
    }

    /// Replays a group metadata record (`None`: tombstone) while loading.
    pub fn replay_group(&mut self, group_id: &str, value: Option<&GroupMetadataValue>) {
        self.ensure_group(group_id, 0);
        if let Some(group) = self.groups.get_mut(group_id) {
            group.replay_group(value);
        }
    }

    /// Replays an offset record (`None`: tombstone) while loading.
    pub fn replay_offset(&mut self, key: &OffsetCommitKey, value: Option<&OffsetCommitValue>) {
        self.ensure_group(&key.group, 0);
        if let Some(group) = self.groups.get_mut(&key.group) {
            group.replay_offset(&key.topic, key.partition, value);
        }
    }

    /// Replays one of the coordinator's own records (e.g. re-reading what it just wrote).
    pub fn replay_record(&mut self, record: &Record) {
        match record {
            Record::Group { key, value } => self.replay_group(&key.group, value.as_ref()),
            Record::Offset { key, value } => self.replay_offset(key, value.as_ref()),
        }
    }

    /// Ends loading: groups deleted in the log (tombstone, no later offsets) are dropped, and
    /// every other group starts its clocks.
    pub fn finish_load(&mut self, now_ms: i64) -> Outcome {
        self.groups.retain(|_, g| {
            !(g.is_tombstoned() && g.members().next().is_none() && !g.has_offsets())
        });
        let ids: Vec<String> = self.groups.keys().cloned().collect();
        let mut outcome = Outcome::default();
        for id in ids {
            if let Some(group) = self.groups.get_mut(&id) {
                outcome.merge(group.finish_load(now_ms));
            }
            self.reindex(&id);
        }
        outcome.next_deadline_ms = self.next_deadline_ms();
        outcome
    }

    // The request bodies, run once the group's due timers have fired (see `with_settled`).

    fn join_group_now(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        group_id: &str,
        request: JoinRequest,
    ) -> Outcome {
        let early = if group_id.is_empty() {
            Some(errors::INVALID_GROUP_ID)
        } else if request.session_timeout_ms < self.config.min_session_timeout_ms
            || request.session_timeout_ms > self.config.max_session_timeout_ms
        {
            Some(errors::INVALID_SESSION_TIMEOUT)
        } else if !self.groups.contains_key(group_id) && !request.member_id.is_empty() {
            Some(errors::UNKNOWN_MEMBER_ID)
        } else {
            None
        };
        if let Some(code) = early {
            let reply = Reply::Join(super::JoinReply::error(request.member_id, code));
            return self.immediate(token, reply);
        }
        let created = self.ensure_group(group_id, now_ms);
        let GroupCoordinator { groups, ids, .. } = self;
        let outcome = match groups.get_mut(group_id) {
            Some(group) => group.join(now_ms, token, request, ids),
            None => Outcome::default(),
        };
        self.after(group_id, created, outcome)
    }

    fn sync_group_now(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        group_id: &str,
        request: SyncRequest,
    ) -> Outcome {
        let missing = Reply::Sync(super::SyncReply::error(if group_id.is_empty() {
            errors::INVALID_GROUP_ID
        } else {
            errors::UNKNOWN_MEMBER_ID
        }));
        match self.groups.get_mut(group_id) {
            Some(group) if !group_id.is_empty() => {
                let outcome = group.sync(now_ms, token, request);
                self.after(group_id, false, outcome)
            }
            _ => self.immediate(token, missing),
        }
    }

    fn heartbeat_now(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        group_id: &str,
        request: HeartbeatRequest,
    ) -> Outcome {
        let missing = Reply::Heartbeat {
            error_code: if group_id.is_empty() {
                errors::INVALID_GROUP_ID
            } else {
                errors::UNKNOWN_MEMBER_ID
            },
        };
        match self.groups.get_mut(group_id) {
            Some(group) if !group_id.is_empty() => {
                let outcome = group.heartbeat(now_ms, token, request);
                self.after(group_id, false, outcome)
            }
            _ => self.immediate(token, missing),
        }
    }

    fn leave_group_now(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        group_id: &str,
        members: Vec<LeaveMember>,
    ) -> Outcome {
        if group_id.is_empty() {
            let reply = Reply::Leave(LeaveReply {
                error_code: errors::INVALID_GROUP_ID,
                members: Vec::new(),
            });
            return self.immediate(token, reply);
        }
        match self.groups.get_mut(group_id) {
            Some(group) => {
                let outcome = group.leave(now_ms, token, members);
                self.after(group_id, false, outcome)
            }
            None => {
                let members = members
                    .into_iter()
                    .map(|m| LeaveMemberReply {
                        member_id: m.member_id,
                        group_instance_id: m.group_instance_id,
                        error_code: errors::UNKNOWN_MEMBER_ID,
                    })
                    .collect();
                let reply = Reply::Leave(LeaveReply {
                    error_code: errors::NONE,
                    members,
                });
                self.immediate(token, reply)
            }
        }
    }

    fn commit_offsets_now(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        group_id: &str,
        request: OffsetCommitRequest,
    ) -> Outcome {
        if !self.groups.contains_key(group_id) && request.generation_id >= 0 {
            let results = request
                .offsets
                .into_iter()
                .map(|o| PartitionResult {
                    topic: o.topic,
                    partition: o.partition,
                    error_code: errors::ILLEGAL_GENERATION,
                })
                .collect();
            return self.immediate(token, Reply::OffsetCommit(results));
        }
        let created = self.ensure_group(group_id, now_ms);
        let outcome = match self.groups.get_mut(group_id) {
            Some(group) => group.commit_offsets(now_ms, token, request),
            None => Outcome::default(),
        };
        self.after(group_id, created, outcome)
    }

    fn delete_offsets_now(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        group_id: &str,
        topics: Vec<TopicPartitions>,
    ) -> Outcome {
        match self.groups.get_mut(group_id) {
            Some(group) => {
                let outcome = group.delete_offsets(now_ms, token, topics);
                self.after(group_id, false, outcome)
            }
            None => {
                let reply = Reply::OffsetDelete(OffsetDeleteReply {
                    error_code: errors::GROUP_ID_NOT_FOUND,
                    partitions: Vec::new(),
                });
                self.immediate(token, reply)
            }
        }
    }

    fn with_settled(
        &mut self,
        group_id: &str,
        now_ms: i64,
        request: impl FnOnce(&mut Self) -> Outcome,
    ) -> Outcome {
        let mut outcome = self.settle_due(group_id, now_ms);
        outcome.merge(request(self));
        outcome.next_deadline_ms = self.next_deadline_ms();
        outcome
    }

    /// Fires a group's due timers before a request reaches it, so that a group whose
    /// retention check would delete it is gone (and can be created afresh) rather than
    /// answering from the grave.
    fn settle_due(&mut self, group_id: &str, now_ms: i64) -> Outcome {
        let due = self.deadline_of.get(group_id).is_some_and(|d| *d <= now_ms);
        if !due {
            return Outcome::default();
        }
        let outcome = match self.groups.get_mut(group_id) {
            Some(group) => group.tick(now_ms),
            None => Outcome::default(),
        };
        self.reindex(group_id);
        outcome
    }

    /// Creates the group if absent; true if it was created.
    fn ensure_group(&mut self, group_id: &str, now_ms: i64) -> bool {
        if self.groups.contains_key(group_id) {
            return false;
        }
        self.groups.insert(
            group_id.to_owned(),
            Group::new(group_id, self.config, now_ms),
        );
        true
    }

    fn immediate(&self, token: ReplyToken, reply: Reply) -> Outcome {
        Outcome {
            replies: vec![(token, reply)],
            records: Vec::new(),
            next_deadline_ms: self.next_deadline_ms(),
        }
    }

    /// Book-keeping after a group handled a request: a group created for a request that left
    /// nothing behind (it failed) is not kept, and the timer index follows the group.
    fn after(&mut self, group_id: &str, created: bool, mut outcome: Outcome) -> Outcome {
        if created {
            let vacant = self.groups.get(group_id).is_some_and(|g| {
                g.state() == GroupState::Empty
                    && g.members().next().is_none()
                    && g.pending_member_ids().next().is_none()
                    && !g.has_offsets()
            });
            if vacant {
                self.groups.remove(group_id);
            }
        }
        self.reindex(group_id);
        outcome.next_deadline_ms = self.next_deadline_ms();
        outcome
    }

    fn reindex(&mut self, group_id: &str) {
        if let Some(old) = self.deadline_of.remove(group_id) {
            self.timers.remove(&(old, group_id.to_owned()));
        }
        let dead = self
            .groups
            .get(group_id)
            .is_some_and(|g| g.state() == GroupState::Dead);
        if dead {
            self.groups.remove(group_id);
            return;
        }
        if let Some(deadline) = self.groups.get(group_id).and_then(Group::next_deadline_ms) {
            self.timers.insert((deadline, group_id.to_owned()));
            self.deadline_of.insert(group_id.to_owned(), deadline);
        }
    }
}
