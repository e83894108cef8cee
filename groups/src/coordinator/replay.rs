//! Rebuilding a group from its `__consumer_offsets` records at start-up (or after a failed
//! append): group metadata snapshots, offset records and tombstones, then `finish_load`.

use std::collections::BTreeSet;

use super::member::{Member, Protocol};
use super::state::GroupState;
use super::{Group, Outcome};
use crate::records::{GroupMetadataValue, OffsetCommitValue};

impl Group {
    /// Applies a group metadata record (`None`: tombstone). The latest record wins; offsets
    /// are kept, because they are separate records. A snapshot with members loads as Stable,
    /// without as Empty, as in Kafka. Members come back with the chosen protocol's
    /// subscription only (that is all the record keeps); timers start at [`Group::finish_load`].
    pub fn replay_group(&mut self, value: Option<&GroupMetadataValue>) {
        self.members.clear();
        self.static_members.clear();
        self.pending_members.clear();
        self.pending_sync.clear();
        self.sync_deadline_ms = None;
        self.join_timer = None;
        self.new_member_added = false;
        let Some(value) = value else {
            // Kafka starts the group over: offsets written after the tombstone belong to a new
            // group without members or protocol.
            self.tombstoned = true;
            self.state = GroupState::Empty;
            self.state_timestamp_ms = None;
            self.protocol_type = None;
            self.protocol_name = None;
            self.generation_id = 0;
            self.leader_id = None;
            self.subscribed_topics = None;
            return;
        };
        self.tombstoned = false;
        self.generation_id = value.generation;
        self.protocol_type = Some(value.protocol_type.clone()).filter(|t| !t.is_empty());
        self.protocol_name = value.protocol.clone();
        self.state_timestamp_ms = Some(value.current_state_timestamp_ms).filter(|t| *t >= 0);
        // Without a protocol the members' subscriptions mean nothing; such a record is not
        // written by Kafka or by this coordinator, so the members are dropped, not guessed at.
        if let Some(protocol) = self.protocol_name.clone() {
            let mut seen_instances = BTreeSet::new();
            for m in &value.members {
                if let Some(instance) = &m.group_instance_id {
                    if !seen_instances.insert(instance.clone()) {
                        continue;
                    }
                    self.static_members
                        .insert(instance.clone(), m.member_id.clone());
                }
                self.members.insert(
                    m.member_id.clone(),
                    Member {
                        member_id: m.member_id.clone(),
                        group_instance_id: m.group_instance_id.clone(),
                        client_id: m.client_id.clone(),
                        client_host: m.client_host.clone(),
                        rebalance_timeout_ms: m.rebalance_timeout_ms,
                        session_timeout_ms: m.session_timeout_ms,
                        protocols: vec![Protocol {
                            name: protocol.clone(),
                            metadata: m.subscription.clone(),
                        }],
                        assignment: m.assignment.clone(),
                        awaiting_join: None,
                        awaiting_sync: None,
                        is_new: false,
                        heartbeat_deadline_ms: 0,
                    },
                );
            }
        }
        self.leader_id = value
            .leader
            .clone()
            .filter(|l| self.members.contains_key(l))
            .or_else(|| self.members.keys().next().cloned());
        self.state = if self.members.is_empty() {
            GroupState::Empty
        } else {
            GroupState::Stable
        };
        self.subscribed_topics = self.compute_subscribed_topics();
    }

    /// Applies an offset record (`None`: tombstone).
    pub fn replay_offset(
        &mut self,
        topic: &str,
        partition: i32,
        value: Option<&OffsetCommitValue>,
    ) {
        match value {
            Some(v) => {
                self.offsets
                    .entry(topic.to_owned())
                    .or_default()
                    .insert(partition, v.clone());
            }
            None => {
                if let Some(parts) = self.offsets.get_mut(topic) {
                    parts.remove(&partition);
                    if parts.is_empty() {
                        self.offsets.remove(topic);
                    }
                }
            }
        }
    }

    /// Whether the last group record replayed was a tombstone; such a group without offsets
    /// should be dropped rather than loaded.
    pub fn is_tombstoned(&self) -> bool {
        self.tombstoned
    }

    /// Starts the loaded group's clocks: every member gets a full session to heartbeat, and a
    /// group over `max_size` rebalances so that members can commit before being shed.
    pub fn finish_load(&mut self, now_ms: i64) -> Outcome {
        self.next_cleanup_ms =
            now_ms.saturating_add(self.config.offsets_retention_check_interval_ms);
        for member in self.members.values_mut() {
            member.reset_session(now_ms);
        }
        self.run(now_ms, |group, fx| {
            if group.members.len() > group.config.max_size {
                group.prepare_rebalance(now_ms, fx);
            }
        })
    }
}
