//! Group-commit bookkeeping for one file: which write generation is durable, which
//! fdatasync is in flight, and whether an fdatasync ever failed.
//!
//! Generations: every completed write bumps the file's write generation (kept in
//! `LogFile`). `Disk::sync_data` reads the generation it needs when it is called, then
//! loops on [`SyncGroup::step`]:
//!
//! ```text
//! needed <= durable            -> Durable (an fdatasync issued after those writes finished)
//! an fdatasync is in flight    -> Wait    (whatever it covers, waiting is free; if it does
//!                                          not cover `needed`, the next one will, and every
//!                                          waiter that arrived meanwhile shares that one)
//! nothing in flight            -> Issue(generation now) once the caller holds a backend slot
//! ```
//!
//! The backend reports the outcome with [`SyncGroup::finish`] (or [`SyncGroup::abort`]
//! when the operation never ran), which wakes every waiter. At most one fdatasync per file
//! is in flight, so a waiter never causes an fdatasync that an in-flight one covers.

use std::io;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

/// What a `sync_data` caller should do next.
#[derive(Debug)]
pub(crate) enum Step {
    /// An fdatasync covering the needed generation has finished.
    Durable,
    /// An fdatasync of this file failed earlier; see [`SyncGroup::finish`].
    Failed(io::Error),
    /// An fdatasync is in flight: wait for its outcome, then step again.
    Wait,
    /// Nothing is in flight; get a backend slot and step again.
    NeedSlot,
    /// Issue an fdatasync recorded as covering this generation, now.
    Issue(u64),
}

/// The group-commit state of one file, shared by every handle to it.
#[derive(Debug)]
pub(crate) struct SyncGroup {
    state: Mutex<SyncState>,
    /// Woken on every fdatasync outcome; waiters re-check the state.
    notify: Notify,
}

#[derive(Debug, Default)]
struct SyncState {
    /// Highest generation covered by a finished, successful fdatasync.
    durable_generation: u64,
    /// Generation recorded by the fdatasync in flight, if any.
    in_flight_generation: Option<u64>,
    /// Set by the first failed sync and never cleared: after a failed fdatasync Linux may
    /// have dropped the dirty pages and marked them clean, so a later fdatasync can
    /// succeed without the data being on disk. Only reopening (recovery) is safe.
    failure: Option<SyncFailure>,
}

#[derive(Debug, Clone)]
struct SyncFailure {
    kind: io::ErrorKind,
    message: String,
}

impl SyncFailure {
    fn to_error(&self) -> io::Error {
        io::Error::new(
            self.kind,
            format!(
                "an earlier sync of this file failed ({}); unsynced writes may be lost, \
                 reopen and recover the file",
                self.message
            ),
        )
    }
}

impl SyncGroup {
    /// A group with nothing durable yet: generation 0 is "before any write".
    pub(crate) fn new() -> Self {
        SyncGroup {
            state: Mutex::new(SyncState::default()),
            notify: Notify::new(),
        }
    }

    /// The wake-up for the next outcome. Create it *before* calling [`step`](Self::step):
    /// `Notify::notify_waiters` reaches futures created before it, polled or not, so an
    /// outcome landing between the step and the await is not lost.
    pub(crate) fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }

    /// Decides the next move of a caller that needs `needed` durable. When it returns
    /// `Issue`, the fdatasync is already recorded as in flight (with the generation from
    /// `generation_now`, read under the lock) and `on_issue` has run under the lock too,
    /// so counters move atomically with the decision.
    pub(crate) fn step(
        &self,
        needed: u64,
        have_slot: bool,
        generation_now: impl FnOnce() -> u64,
        on_issue: impl FnOnce(),
    ) -> Step {
        let mut state = self.lock();
        if let Some(failure) = &state.failure {
            return Step::Failed(failure.to_error());
        }
        if state.durable_generation >= needed {
            return Step::Durable;
        }
        if state.in_flight_generation.is_some() {
            return Step::Wait;
        }
        if !have_slot {
            return Step::NeedSlot;
        }
        let generation = generation_now().max(needed);
        state.in_flight_generation = Some(generation);
        on_issue();
        Step::Issue(generation)
    }

    /// The in-flight fdatasync recorded at `generation` finished with `result`.
    pub(crate) fn finish(&self, generation: u64, result: &io::Result<()>) {
        {
            let mut state = self.lock();
            if state.in_flight_generation == Some(generation) {
                state.in_flight_generation = None;
            }
            state.record(generation, result);
        }
        self.notify.notify_waiters();
    }

    /// The in-flight fdatasync recorded at `generation` never ran (backend gone): clear it
    /// without touching durability, so a waiter can try again and see the real error.
    pub(crate) fn abort(&self, generation: u64) {
        {
            let mut state = self.lock();
            if state.in_flight_generation == Some(generation) {
                state.in_flight_generation = None;
            }
        }
        self.notify.notify_waiters();
    }

    /// A sync outside the group (a full fsync) that was issued at `generation` finished.
    pub(crate) fn record_outside_sync(&self, generation: u64, result: &io::Result<()>) {
        self.lock().record(generation, result);
        self.notify.notify_waiters();
    }

    /// Highest write generation known durable.
    pub(crate) fn durable_generation(&self) -> u64 {
        self.lock().durable_generation
    }

    fn lock(&self) -> MutexGuard<'_, SyncState> {
        // Every update is a few plain assignments, so a panic elsewhere cannot leave the
        // state half-written: recovering from poisoning is sound.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SyncState {
    fn record(&mut self, generation: u64, result: &io::Result<()>) {
        match result {
            Ok(()) => self.durable_generation = self.durable_generation.max(generation),
            Err(error) => {
                if self.failure.is_none() {
                    self.failure = Some(SyncFailure {
                        kind: error.kind(),
                        message: error.to_string(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(group: &SyncGroup, needed: u64, have_slot: bool, now: u64) -> Step {
        group.step(needed, have_slot, || now, || {})
    }

    #[test]
    fn a_fresh_group_needs_one_fdatasync() {
        let group = SyncGroup::new();
        assert!(matches!(step(&group, 1, false, 1), Step::NeedSlot));
        assert!(matches!(step(&group, 1, true, 1), Step::Issue(1)));
        assert!(matches!(step(&group, 1, true, 1), Step::Wait));
        group.finish(1, &Ok(()));
        assert!(matches!(step(&group, 1, true, 1), Step::Durable));
        assert_eq!(group.durable_generation(), 1);
    }

    #[test]
    fn an_in_flight_sync_from_before_a_write_does_not_cover_it() {
        let group = SyncGroup::new();
        // fdatasync issued at generation 1 ...
        assert!(matches!(step(&group, 1, true, 1), Step::Issue(1)));
        // ... then a write completes (generation 2) and its writer asks for durability:
        // it waits (never a second concurrent fdatasync) ...
        assert!(matches!(step(&group, 2, true, 2), Step::Wait));
        group.finish(1, &Ok(()));
        // ... and the old fdatasync does not satisfy it: a new one is issued.
        assert!(matches!(step(&group, 2, false, 2), Step::NeedSlot));
        assert!(matches!(step(&group, 2, true, 5), Step::Issue(5)));
        group.finish(5, &Ok(()));
        // Writers up to generation 5 are covered by that one fdatasync.
        for needed in 1..=5 {
            assert!(matches!(step(&group, needed, true, 5), Step::Durable));
        }
        assert!(matches!(step(&group, 6, true, 6), Step::Issue(6)));
    }

    #[test]
    fn waiters_share_the_in_flight_sync() {
        let group = SyncGroup::new();
        let mut issued = 0;
        assert!(matches!(
            group.step(3, true, || 3, || issued += 1),
            Step::Issue(3)
        ));
        for needed in 1..=3 {
            assert!(matches!(
                group.step(needed, true, || 3, || issued += 1),
                Step::Wait
            ));
        }
        group.finish(3, &Ok(()));
        for needed in 1..=3 {
            assert!(matches!(
                group.step(needed, true, || 3, || issued += 1),
                Step::Durable
            ));
        }
        assert_eq!(issued, 1);
    }

    #[test]
    fn a_failed_sync_poisons_the_file() {
        let group = SyncGroup::new();
        assert!(matches!(step(&group, 1, true, 1), Step::Issue(1)));
        group.finish(1, &Err(io::Error::other("EIO")));
        assert!(matches!(step(&group, 1, true, 1), Step::Failed(_)));
        // Even a later successful sync does not clear it (the fsyncgate lesson).
        group.record_outside_sync(2, &Ok(()));
        assert!(matches!(step(&group, 2, true, 2), Step::Failed(_)));
    }

    #[test]
    fn an_aborted_sync_lets_the_next_caller_issue() {
        let group = SyncGroup::new();
        assert!(matches!(step(&group, 1, true, 1), Step::Issue(1)));
        group.abort(1);
        assert!(matches!(step(&group, 1, true, 1), Step::Issue(1)));
        assert_eq!(group.durable_generation(), 0);
    }
}
