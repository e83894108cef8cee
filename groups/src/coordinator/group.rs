//! The group's data and the bookkeeping shared by every request: membership, protocol
//! selection, member validation, snapshots.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use super::member::{Member, Protocol};
use super::reply::JoinReplyMember;
use super::state::GroupState;
use super::subscription::subscribed_topics;
use super::{errors, Effects, GroupConfig, Outcome, Record};
use crate::records::{GroupMetadataKey, GroupMetadataValue, MemberMetadata, OffsetCommitValue};

/// The consumer protocol type: its subscriptions are parsed for OffsetDelete and offset expiry.
pub(crate) const CONSUMER_PROTOCOL_TYPE: &str = "consumer";

/// The timer that ends a join phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinTimer {
    /// Kafka's DelayedJoin: ends as soon as every member has rejoined, at the latest at the
    /// deadline (the rebalance timeout).
    Regular { deadline_ms: i64 },
    /// Kafka's InitialDelayedJoin, for a rebalance that starts from Empty: never ends early,
    /// and is extended by `delay_ms` while new members keep arriving and time `remaining_ms`
    /// (out of the rebalance timeout) is left.
    Initial {
        deadline_ms: i64,
        delay_ms: i64,
        remaining_ms: i64,
    },
}

impl JoinTimer {
    pub(crate) fn deadline_ms(self) -> i64 {
        match self {
            JoinTimer::Regular { deadline_ms } | JoinTimer::Initial { deadline_ms, .. } => {
                deadline_ms
            }
        }
    }
}

/// One classic consumer group.
#[derive(Debug, Clone)]
pub struct Group {
    pub(crate) group_id: String,
    pub(crate) config: GroupConfig,
    pub(crate) state: GroupState,
    /// When the group entered its current state; drives offset expiry of Empty groups.
    pub(crate) state_timestamp_ms: Option<i64>,
    /// Set by the first member to join; kept while Empty (offset expiry depends on it).
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) generation_id: i32,
    pub(crate) leader_id: Option<String>,
    /// Ordered by member id so that leader choice and member lists are deterministic.
    pub(crate) members: BTreeMap<String, Member>,
    /// group.instance.id -> member id.
    pub(crate) static_members: BTreeMap<String, String>,
    /// KIP-394: ids handed out with MEMBER_ID_REQUIRED, with the deadline to rejoin by.
    pub(crate) pending_members: BTreeMap<String, i64>,
    /// Members of the new generation that have not sent SyncGroup yet.
    pub(crate) pending_sync: BTreeSet<String>,
    /// Kafka's DelayedSync: members still in `pending_sync` at this time are removed.
    pub(crate) sync_deadline_ms: Option<i64>,
    pub(crate) join_timer: Option<JoinTimer>,
    /// A member was added during the initial delay, which extends it.
    pub(crate) new_member_added: bool,
    /// For consumer groups: the union of the members' subscriptions, or `None` when unknown.
    pub(crate) subscribed_topics: Option<BTreeSet<String>>,
    pub(crate) offsets: BTreeMap<String, BTreeMap<i32, OffsetCommitValue>>,
    pub(crate) next_cleanup_ms: i64,
    /// The last group record replayed was a tombstone.
    pub(crate) tombstoned: bool,
    /// Transitions Kafka would have refused; always 0 unless there is a bug (tests check it).
    pub(crate) invalid_transitions: u32,
}

impl Group {
    /// A new Empty group, as created by a first JoinGroup or a simple offset commit.
    pub fn new(group_id: impl Into<String>, config: GroupConfig, now_ms: i64) -> Self {
        Group {
            group_id: group_id.into(),
            config,
            state: GroupState::Empty,
            state_timestamp_ms: Some(now_ms),
            protocol_type: None,
            protocol_name: None,
            generation_id: 0,
            leader_id: None,
            members: BTreeMap::new(),
            static_members: BTreeMap::new(),
            pending_members: BTreeMap::new(),
            pending_sync: BTreeSet::new(),
            sync_deadline_ms: None,
            join_timer: None,
            new_member_added: false,
            subscribed_topics: None,
            offsets: BTreeMap::new(),
            next_cleanup_ms: now_ms.saturating_add(config.offsets_retention_check_interval_ms),
            tombstoned: false,
            invalid_transitions: 0,
        }
    }

    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// Applies changed broker settings; they take effect at the next decision that uses them.
    pub fn set_config(&mut self, config: GroupConfig) {
        self.config = config;
    }

    pub fn state(&self) -> GroupState {
        self.state
    }

    pub fn state_timestamp_ms(&self) -> Option<i64> {
        self.state_timestamp_ms
    }

    pub fn generation_id(&self) -> i32 {
        self.generation_id
    }

    pub fn protocol_type(&self) -> Option<&str> {
        self.protocol_type.as_deref()
    }

    pub fn protocol_name(&self) -> Option<&str> {
        self.protocol_name.as_deref()
    }

    pub fn leader_id(&self) -> Option<&str> {
        self.leader_id.as_deref()
    }

    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    pub fn member(&self, member_id: &str) -> Option<&Member> {
        self.members.get(member_id)
    }

    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    /// The member id currently registered for a group.instance.id.
    pub fn static_member_id(&self, group_instance_id: &str) -> Option<&str> {
        self.static_members
            .get(group_instance_id)
            .map(String::as_str)
    }

    /// KIP-394 member ids handed out and not yet used to join.
    pub fn pending_member_ids(&self) -> impl Iterator<Item = &str> {
        self.pending_members.keys().map(String::as_str)
    }

    /// The committed offset of one partition.
    pub fn offset(&self, topic: &str, partition: i32) -> Option<&OffsetCommitValue> {
        self.offsets.get(topic).and_then(|p| p.get(&partition))
    }

    /// Every committed offset as (topic, partition, value).
    pub fn offsets(&self) -> impl Iterator<Item = (&str, i32, &OffsetCommitValue)> {
        self.offsets
            .iter()
            .flat_map(|(t, parts)| parts.iter().map(move |(p, v)| (t.as_str(), *p, v)))
    }

    pub fn has_offsets(&self) -> bool {
        self.offsets.values().any(|p| !p.is_empty())
    }

    /// Whether the consumer group subscribes to `topic` (unknown counts as subscribed for
    /// consumer groups, and as not subscribed for other protocol types, as in Kafka 4.x).
    pub fn is_subscribed_to_topic(&self, topic: &str) -> bool {
        match &self.subscribed_topics {
            Some(topics) => topics.contains(topic),
            None => self.uses_consumer_protocol(),
        }
    }

    /// Runs one request: timers due at `now_ms` fire first (the clock has reached them), then
    /// the request, then whatever became complete or due because of it.
    pub(crate) fn run(
        &mut self,
        now_ms: i64,
        handle: impl FnOnce(&mut Group, &mut Effects),
    ) -> Outcome {
        let mut fx = Effects::default();
        self.settle(now_ms, &mut fx);
        handle(self, &mut fx);
        self.settle(now_ms, &mut fx);
        Outcome {
            replies: fx.replies,
            records: fx.records,
            next_deadline_ms: self.next_deadline_ms(),
        }
    }

    pub(crate) fn uses_consumer_protocol(&self) -> bool {
        self.protocol_type.as_deref() == Some(CONSUMER_PROTOCOL_TYPE)
    }

    pub(crate) fn transition(&mut self, to: GroupState, now_ms: i64) {
        if !self.state.can_transition_to(to) {
            self.invalid_transitions = self.invalid_transitions.saturating_add(1);
        }
        self.state = to;
        self.state_timestamp_ms = Some(now_ms);
        if to == GroupState::Dead {
            // A Dead group is about to be dropped: nothing of it may fire any more.
            self.join_timer = None;
            self.sync_deadline_ms = None;
            self.pending_members.clear();
            self.pending_sync.clear();
        }
    }

    pub(crate) fn add_member(&mut self, member: Member, protocol_type: &str) {
        if let Some(instance) = &member.group_instance_id {
            self.static_members
                .insert(instance.clone(), member.member_id.clone());
        }
        if self.members.is_empty() {
            self.protocol_type = Some(protocol_type.to_owned());
        }
        if self.leader_id.is_none() {
            self.leader_id = Some(member.member_id.clone());
        }
        self.pending_members.remove(&member.member_id);
        self.members.insert(member.member_id.clone(), member);
    }

    /// Drops a member (or a KIP-394 pending id). A parked request of the member is answered
    /// with UNKNOWN_MEMBER_ID so that a client that is still there rejoins; no token is left
    /// unanswered.
    pub(crate) fn remove_member(&mut self, member_id: &str, fx: &mut Effects) {
        if let Some(member) = self.members.remove(member_id) {
            if let Some(token) = member.awaiting_join {
                fx.join_error(token, "", errors::UNKNOWN_MEMBER_ID);
            }
            if let Some(token) = member.awaiting_sync {
                fx.sync_error(token, errors::UNKNOWN_MEMBER_ID);
            }
            if let Some(instance) = &member.group_instance_id {
                if self.static_members.get(instance).map(String::as_str) == Some(member_id) {
                    self.static_members.remove(instance);
                }
            }
        }
        if self.leader_id.as_deref() == Some(member_id) {
            self.leader_id = self.members.keys().next().cloned();
        }
        self.pending_members.remove(member_id);
        self.pending_sync.remove(member_id);
    }

    /// Kafka's `supportsProtocols`: an Empty group takes any non-empty protocol type and list;
    /// otherwise the type must match and one protocol must be supported by every member.
    pub(crate) fn supports_protocols(&self, protocol_type: &str, protocols: &[Protocol]) -> bool {
        if self.state == GroupState::Empty {
            !protocol_type.is_empty() && !protocols.is_empty()
        } else {
            self.protocol_type.as_deref() == Some(protocol_type)
                && protocols.iter().any(|p| self.supported_by_all(&p.name))
        }
    }

    fn supported_by_all(&self, protocol: &str) -> bool {
        self.members.values().all(|m| m.supports(protocol))
    }

    /// Each member votes for its most preferred protocol among those every member supports;
    /// the most votes win (ties: the protocol voted for first, in member-id order, so that the
    /// choice is deterministic where Kafka's is arbitrary).
    pub(crate) fn select_protocol(&self) -> Option<String> {
        let mut votes: Vec<(&str, usize)> = Vec::new();
        for member in self.members.values() {
            let Some(choice) = member
                .protocols
                .iter()
                .map(|p| p.name.as_str())
                .find(|name| self.supported_by_all(name))
            else {
                continue;
            };
            match votes.iter_mut().find(|(name, _)| *name == choice) {
                Some((_, count)) => *count += 1,
                None => votes.push((choice, 1)),
            }
        }
        let mut best: Option<(&str, usize)> = None;
        for (name, count) in votes {
            if best.is_none_or(|(_, c)| count > c) {
                best = Some((name, count));
            }
        }
        best.map(|(name, _)| name.to_owned())
    }

    /// The largest rebalance timeout of the members (Kafka's group rebalance timeout).
    pub(crate) fn rebalance_timeout_ms(&self) -> i64 {
        self.members
            .values()
            .map(|m| i64::from(m.rebalance_timeout_ms))
            .max()
            .unwrap_or(0)
            .max(0)
    }

    pub(crate) fn awaiting_join_count(&self) -> usize {
        self.members
            .values()
            .filter(|m| m.awaiting_join.is_some())
            .count()
    }

    /// Every member has rejoined and no KIP-394 member is still expected.
    pub(crate) fn all_members_joined(&self) -> bool {
        self.pending_members.is_empty() && self.members.values().all(|m| m.awaiting_join.is_some())
    }

    /// Kafka's `validateCurrentMember`: a given group.instance.id must map to this member id
    /// (else FENCED_INSTANCE_ID, or UNKNOWN_MEMBER_ID if unknown), and the member must exist.
    pub(crate) fn validate_member(
        &self,
        member_id: &str,
        group_instance_id: Option<&str>,
    ) -> Option<i16> {
        if let Some(instance) = group_instance_id {
            match self.static_members.get(instance) {
                Some(current) if current != member_id => return Some(errors::FENCED_INSTANCE_ID),
                Some(_) => {}
                None => return Some(errors::UNKNOWN_MEMBER_ID),
            }
        }
        if self.members.contains_key(member_id) {
            None
        } else {
            Some(errors::UNKNOWN_MEMBER_ID)
        }
    }

    /// The member list the leader assigns from: each member's metadata for the chosen
    /// protocol.
    pub(crate) fn join_member_list(&self) -> Vec<JoinReplyMember> {
        let protocol = self.protocol_name.as_deref().unwrap_or_default();
        self.members
            .values()
            .map(|m| JoinReplyMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                metadata: m.metadata(protocol).cloned().unwrap_or_default(),
            })
            .collect()
    }

    /// The union of the members' consumer-protocol subscriptions; `None` when the group is
    /// not a consumer group, has no protocol yet, or a subscription does not parse.
    pub(crate) fn compute_subscribed_topics(&self) -> Option<BTreeSet<String>> {
        if !self.uses_consumer_protocol() {
            return None;
        }
        if self.members.is_empty() {
            return Some(BTreeSet::new());
        }
        let protocol = self.protocol_name.as_deref()?;
        let mut all = BTreeSet::new();
        for member in self.members.values() {
            let metadata = member.metadata(protocol)?;
            all.extend(subscribed_topics(metadata)?);
        }
        Some(all)
    }

    /// The group as a `GroupMetadataValue` record, written after every completed rebalance.
    pub fn snapshot(&self) -> GroupMetadataValue {
        let protocol = self.protocol_name.as_deref().unwrap_or_default();
        GroupMetadataValue {
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            generation: self.generation_id,
            protocol: self.protocol_name.clone(),
            leader: self.leader_id.clone(),
            current_state_timestamp_ms: self.state_timestamp_ms.unwrap_or(-1),
            members: self
                .members
                .values()
                .map(|m| MemberMetadata {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    rebalance_timeout_ms: m.rebalance_timeout_ms,
                    session_timeout_ms: m.session_timeout_ms,
                    subscription: m.metadata(protocol).cloned().unwrap_or_else(Bytes::new),
                    assignment: m.assignment.clone(),
                })
                .collect(),
        }
    }

    pub(crate) fn persist_snapshot(&self, fx: &mut Effects) {
        fx.records.push(Record::Group {
            key: self.group_key(),
            value: Some(self.snapshot()),
        });
    }

    pub(crate) fn group_key(&self) -> GroupMetadataKey {
        GroupMetadataKey {
            group: self.group_id.clone(),
        }
    }

    /// The number of transitions Kafka would have refused (a bug detector for tests).
    #[cfg(test)]
    pub(crate) fn invalid_transitions(&self) -> u32 {
        self.invalid_transitions
    }
}
