//! The group's timers: member sessions, KIP-394 pending members, the join phase (rebalance
//! timeout or initial delay), the sync phase, and the periodic offset-retention check. Each is
//! a deadline; `tick` fires those that are due.

use super::group::JoinTimer;
use super::state::GroupState;
use super::{Effects, Group, Outcome};

/// One timer that is due.
#[derive(Debug)]
enum Due {
    Join,
    Sync,
    Session(String),
    Pending(String),
    Cleanup,
}

impl Group {
    /// Fires every timer due at `now_ms`: expires sessions and pending members, ends join and
    /// sync phases, and (every retention check interval) expires offsets.
    pub fn tick(&mut self, now_ms: i64) -> Outcome {
        self.run(now_ms, |_, _| {})
    }

    /// When the next timer fires; `None` for a Dead group.
    pub fn next_deadline_ms(&self) -> Option<i64> {
        if self.state == GroupState::Dead {
            return None;
        }
        let timers = [
            self.join_timer.map(JoinTimer::deadline_ms),
            self.sync_deadline_ms,
            Some(self.next_cleanup_ms),
        ];
        let sessions = self
            .members
            .values()
            .filter_map(|m| m.session_deadline_ms());
        let pending = self.pending_members.values().copied();
        timers
            .into_iter()
            .flatten()
            .chain(sessions)
            .chain(pending)
            .min()
    }

    /// Completes what can complete and fires what is due, until neither applies. Each firing
    /// removes or pushes back its timer; the bound is a guard, not a expected limit.
    pub(crate) fn settle(&mut self, now: i64, fx: &mut Effects) {
        let budget = 2 * (self.members.len() + self.pending_members.len()) + 32;
        for _ in 0..budget {
            self.try_complete_join(now, fx);
            if self.sync_deadline_ms.is_some()
                && (self.pending_sync.is_empty()
                    || !matches!(
                        self.state,
                        GroupState::CompletingRebalance | GroupState::Stable
                    ))
            {
                // Kafka's DelayedSync completes as soon as everyone synced (or the group
                // moved on): nothing left to expire.
                self.sync_deadline_ms = None;
            }
            match self.next_due(now) {
                Some(due) => self.fire(due, now, fx),
                None => return,
            }
        }
    }

    /// The earliest due timer; ties go to the join and sync phases first, then sessions.
    fn next_due(&self, now: i64) -> Option<Due> {
        if self.state == GroupState::Dead {
            return None;
        }
        let mut best: Option<(i64, Due)> = None;
        let mut consider = |deadline: i64, due: Due| {
            if deadline <= now && best.as_ref().is_none_or(|(d, _)| deadline < *d) {
                best = Some((deadline, due));
            }
        };
        if let Some(timer) = self.join_timer {
            consider(timer.deadline_ms(), Due::Join);
        }
        if let Some(deadline) = self.sync_deadline_ms {
            consider(deadline, Due::Sync);
        }
        for member in self.members.values() {
            if let Some(deadline) = member.session_deadline_ms() {
                consider(deadline, Due::Session(member.member_id.clone()));
            }
        }
        for (id, deadline) in &self.pending_members {
            consider(*deadline, Due::Pending(id.clone()));
        }
        consider(self.next_cleanup_ms, Due::Cleanup);
        best.map(|(_, due)| due)
    }

    fn fire(&mut self, due: Due, now: i64, fx: &mut Effects) {
        match due {
            Due::Join => self.fire_join_timer(now, fx),
            Due::Sync => self.expire_pending_sync(now, fx),
            Due::Session(member_id) => self.remove_member_and_rebalance(&member_id, now, fx),
            Due::Pending(member_id) => {
                self.pending_members.remove(&member_id);
                self.try_complete_join(now, fx);
            }
            Due::Cleanup => {
                self.next_cleanup_ms =
                    now.saturating_add(self.config.offsets_retention_check_interval_ms.max(1));
                self.expire_offsets(now, fx);
            }
        }
    }

    fn fire_join_timer(&mut self, now: i64, fx: &mut Effects) {
        match self.join_timer {
            Some(JoinTimer::Initial {
                deadline_ms,
                delay_ms,
                remaining_ms,
            }) if self.new_member_added && remaining_ms != 0 => {
                // Kafka's InitialDelayedJoin: newcomers buy another delay, within what is left
                // of the rebalance timeout. (Kafka subtracts the delay that just ended, not the
                // new one; kept so the total matches.) Based on the old deadline, not `now`,
                // so a late tick does not stretch the phase.
                self.new_member_added = false;
                let configured = i64::from(self.config.initial_rebalance_delay_ms).max(0);
                let delay = configured.min(remaining_ms);
                self.join_timer = Some(JoinTimer::Initial {
                    deadline_ms: deadline_ms.saturating_add(delay),
                    delay_ms: delay,
                    remaining_ms: (remaining_ms - delay_ms).max(0),
                });
            }
            Some(_) => self.complete_join(now, fx),
            None => {}
        }
    }

    /// Kafka's DelayedSync expiry: members that never sent SyncGroup for this generation are
    /// removed and the group rebalances without them.
    fn expire_pending_sync(&mut self, now: i64, fx: &mut Effects) {
        self.sync_deadline_ms = None;
        if !matches!(
            self.state,
            GroupState::CompletingRebalance | GroupState::Stable
        ) || self.pending_sync.is_empty()
        {
            return;
        }
        let laggards: Vec<String> = self.pending_sync.iter().cloned().collect();
        for id in &laggards {
            self.remove_member(id, fx);
        }
        self.prepare_rebalance(now, fx);
    }
}
