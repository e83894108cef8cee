//! The rebalance cycle: starting a join phase, completing it into a new generation, and
//! distributing (or revoking) assignments.

use bytes::Bytes;

use super::group::JoinTimer;
use super::reply::{JoinReply, Reply, SyncReply};
use super::state::GroupState;
use super::{errors, Effects, Group};

impl Group {
    /// Kafka's `maybePrepareRebalance`: only from states a rebalance may start from.
    pub(crate) fn maybe_prepare_rebalance(&mut self, now: i64, fx: &mut Effects) {
        if matches!(
            self.state,
            GroupState::Stable | GroupState::CompletingRebalance | GroupState::Empty
        ) {
            self.prepare_rebalance(now, fx);
        }
    }

    pub(crate) fn prepare_rebalance(&mut self, now: i64, fx: &mut Effects) {
        if self.state == GroupState::CompletingRebalance {
            // Members waiting for this generation's assignment must rejoin instead.
            self.reset_and_propagate_error(errors::REBALANCE_IN_PROGRESS, now, fx);
        }
        self.pending_sync.clear();
        self.sync_deadline_ms = None;
        let rebalance_timeout = self.rebalance_timeout_ms();
        self.join_timer = Some(if self.state == GroupState::Empty {
            let delay = i64::from(self.config.initial_rebalance_delay_ms).max(0);
            JoinTimer::Initial {
                deadline_ms: now.saturating_add(delay),
                delay_ms: delay,
                remaining_ms: (rebalance_timeout - delay).max(0),
            }
        } else {
            JoinTimer::Regular {
                deadline_ms: now.saturating_add(rebalance_timeout),
            }
        });
        self.transition(GroupState::PreparingRebalance, now);
    }

    /// Completes the join phase early once every expected member has rejoined (never during
    /// the initial delay, which is meant to wait for more members).
    pub(crate) fn try_complete_join(&mut self, now: i64, fx: &mut Effects) {
        if self.state == GroupState::PreparingRebalance
            && matches!(self.join_timer, Some(JoinTimer::Regular { .. }))
            && self.all_members_joined()
        {
            self.complete_join(now, fx);
        }
    }

    /// Kafka's `onCompleteJoin`.
    pub(crate) fn complete_join(&mut self, now: i64, fx: &mut Effects) {
        self.join_timer = None;
        // Dynamic members that did not rejoin in time are gone; static ones stay (they may be
        // restarting) and get their chance in the sync phase.
        let stale: Vec<String> = self
            .members
            .values()
            .filter(|m| m.awaiting_join.is_none() && m.group_instance_id.is_none())
            .map(|m| m.member_id.clone())
            .collect();
        for id in &stale {
            self.remove_member(id, fx);
        }
        if self.state == GroupState::Dead {
            return;
        }
        if !self.maybe_elect_new_joined_leader() && !self.members.is_empty() {
            // Only static members remain and none rejoined: wait another rebalance timeout
            // (at least 1 ms, so a zero timeout cannot spin) for them to rejoin or expire.
            let wait = self.rebalance_timeout_ms().max(1);
            self.join_timer = Some(JoinTimer::Regular {
                deadline_ms: now.saturating_add(wait),
            });
            return;
        }
        self.init_next_generation(now);
        if self.state == GroupState::Empty {
            self.persist_snapshot(fx);
            return;
        }
        let member_list = self.join_member_list();
        let leader = self.leader_id.clone().unwrap_or_default();
        let generation = self.generation_id;
        let protocol_type = self.protocol_type.clone();
        let protocol_name = self.protocol_name.clone();
        for member in self.members.values_mut() {
            if let Some(token) = member.awaiting_join.take() {
                let is_leader = member.member_id == leader;
                let reply = JoinReply {
                    error_code: errors::NONE,
                    generation_id: generation,
                    protocol_type: protocol_type.clone(),
                    protocol_name: protocol_name.clone(),
                    leader: leader.clone(),
                    skip_assignment: false,
                    member_id: member.member_id.clone(),
                    members: if is_leader {
                        member_list.clone()
                    } else {
                        Vec::new()
                    },
                };
                fx.reply(token, Reply::Join(reply));
            }
            member.reset_session(now);
            member.is_new = false;
            self.pending_sync.insert(member.member_id.clone());
        }
        self.sync_deadline_ms = Some(now.saturating_add(self.rebalance_timeout_ms()));
    }

    /// Keeps the leader if it rejoined, else promotes any rejoined member. False when the
    /// group has no leader or nobody rejoined.
    fn maybe_elect_new_joined_leader(&mut self) -> bool {
        let Some(leader) = self.leader_id.clone() else {
            return false;
        };
        if self
            .members
            .get(&leader)
            .is_some_and(|m| m.awaiting_join.is_some())
        {
            return true;
        }
        match self.members.values().find(|m| m.awaiting_join.is_some()) {
            Some(m) => {
                self.leader_id = Some(m.member_id.clone());
                true
            }
            None => false,
        }
    }

    fn init_next_generation(&mut self, now: i64) {
        self.generation_id = self.generation_id.wrapping_add(1);
        if self.members.is_empty() {
            self.protocol_name = None;
            self.subscribed_topics = self.compute_subscribed_topics();
            self.transition(GroupState::Empty, now);
        } else {
            self.protocol_name = self.select_protocol();
            self.subscribed_topics = self.compute_subscribed_topics();
            self.transition(GroupState::CompletingRebalance, now);
        }
        self.pending_sync.clear();
        self.new_member_added = false;
    }

    /// Delivers the assignments to every member with a parked SyncGroup.
    pub(crate) fn propagate_assignment(&mut self, now: i64, fx: &mut Effects) {
        let protocol_type = self.protocol_type.clone();
        let protocol_name = self.protocol_name.clone();
        for member in self.members.values_mut() {
            if let Some(token) = member.awaiting_sync.take() {
                let reply = SyncReply {
                    error_code: errors::NONE,
                    protocol_type: protocol_type.clone(),
                    protocol_name: protocol_name.clone(),
                    assignment: member.assignment.clone(),
                };
                fx.reply(token, Reply::Sync(reply));
                // The session clock restarts: it did not run while the request was parked.
                member.reset_session(now);
            }
        }
    }

    /// Clears the assignments and answers parked SyncGroups with `code`.
    pub(crate) fn reset_and_propagate_error(&mut self, code: i16, now: i64, fx: &mut Effects) {
        for member in self.members.values_mut() {
            member.assignment = Bytes::new();
            if let Some(token) = member.awaiting_sync.take() {
                fx.sync_error(token, code);
                member.reset_session(now);
            }
        }
    }

    /// Kafka's `removeMemberAndUpdateGroup`: a member left or expired.
    pub(crate) fn remove_member_and_rebalance(
        &mut self,
        member_id: &str,
        now: i64,
        fx: &mut Effects,
    ) {
        self.remove_member(member_id, fx);
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.maybe_prepare_rebalance(now, fx)
            }
            GroupState::PreparingRebalance => self.try_complete_join(now, fx),
            GroupState::Empty | GroupState::Dead => {}
        }
    }
}
