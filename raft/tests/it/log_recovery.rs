//! The log store across restarts: what was acknowledged comes back, a torn last record is
//! cut off, damage anywhere else (or in the vote) refuses to start, and purge, truncate,
//! vote and committed id survive a reopen. The state machine's snapshot does too.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use openraft::storage::{RaftLogStorage, RaftLogStorageExt, RaftStateMachine};
use openraft::testing::{blank_ent, log_id};
use openraft::{EntryPayload, RaftLogReader, RaftSnapshotBuilder};
use petrel_raft::image::CommandResult;
use petrel_raft::log_store::LogStore;
use petrel_raft::state_machine::StateMachineStore;
use petrel_raft::types::{Entry, TypeConfig, Vote};

use crate::support::register;

fn command_entry(term: u64, index: u64, broker: i32) -> Entry {
    Entry {
        log_id: log_id(term, 1, index),
        payload: EntryPayload::Normal(register(term, broker)),
    }
}

async fn indexes(store: &mut LogStore) -> Vec<u64> {
    store
        .try_get_log_entries(0..u64::MAX)
        .await
        .unwrap()
        .iter()
        .map(|e| e.log_id.index)
        .collect()
}

async fn filled(dir: &Path, count: u64) -> LogStore {
    let mut store = LogStore::open(dir).unwrap();
    for index in 1..=count {
        store
            .blocking_append([command_entry(1, index, index as i32)])
            .await
            .unwrap();
    }
    store
}

fn log_file(dir: &Path) -> std::path::PathBuf {
    dir.join("log")
}

#[tokio::test]
async fn appended_entries_vote_and_committed_id_come_back_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = filled(dir.path(), 5).await;
    let vote = Vote::new_committed(3, 2);
    store.save_vote(&vote).await.unwrap();
    store.save_committed(Some(log_id(1, 1, 4))).await.unwrap();
    let before = store.try_get_log_entries(0..u64::MAX).await.unwrap();
    drop(store);

    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(
        store.try_get_log_entries(0..u64::MAX).await.unwrap(),
        before
    );
    assert_eq!(store.read_vote().await.unwrap(), Some(vote));
    assert_eq!(store.read_committed().await.unwrap(), Some(log_id(1, 1, 4)));
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_log_id, Some(log_id(1, 1, 5)));
    assert_eq!(state.last_purged_log_id, None);
    // And it goes on from there.
    store
        .blocking_append([command_entry(1, 6, 6)])
        .await
        .unwrap();
    drop(store);
    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(indexes(&mut store).await, vec![1, 2, 3, 4, 5, 6]);
}

#[tokio::test]
async fn a_torn_last_record_is_cut_off_at_every_possible_length() {
    let dir = tempfile::tempdir().unwrap();
    drop(filled(dir.path(), 3).await);
    let full = fs::read(log_file(dir.path())).unwrap();
    let dir4 = tempfile::tempdir().unwrap();
    drop(filled(dir4.path(), 4).await);
    let with_fourth = fs::read(log_file(dir4.path())).unwrap();
    assert!(with_fourth.starts_with(&full));
    // Every strict prefix of the fourth record: a crash in the middle of its write.
    for cut in full.len() + 1..with_fourth.len() {
        fs::write(log_file(dir.path()), &with_fourth[..cut]).unwrap();
        let mut store = LogStore::open(dir.path()).unwrap();
        assert_eq!(indexes(&mut store).await, vec![1, 2, 3], "cut at {cut}");
        assert_eq!(
            fs::metadata(log_file(dir.path())).unwrap().len(),
            full.len() as u64,
            "the torn bytes are gone from the file"
        );
        // Appending after recovery continues cleanly.
        store
            .blocking_append([command_entry(1, 4, 4)])
            .await
            .unwrap();
        drop(store);
        let mut store = LogStore::open(dir.path()).unwrap();
        assert_eq!(indexes(&mut store).await, vec![1, 2, 3, 4]);
    }
}

#[tokio::test]
async fn damage_before_the_last_record_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    drop(filled(dir.path(), 3).await);
    let mut bytes = fs::read(log_file(dir.path())).unwrap();
    bytes[12] ^= 0x40; // inside the first record
    fs::write(log_file(dir.path()), &bytes).unwrap();
    let err = LogStore::open(dir.path()).unwrap_err();
    assert!(err.to_string().contains("refusing to start"), "{err}");
}

#[tokio::test]
async fn a_damaged_vote_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = filled(dir.path(), 1).await;
    store.save_vote(&Vote::new(2, 1)).await.unwrap();
    drop(store);
    let mut vote = OpenOptions::new()
        .append(true)
        .open(dir.path().join("vote"))
        .unwrap();
    vote.write_all(b"x").unwrap();
    drop(vote);
    assert!(LogStore::open(dir.path()).is_err());
}

#[tokio::test]
async fn purge_and_truncate_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = filled(dir.path(), 10).await;
    store.purge(log_id(1, 1, 4)).await.unwrap();
    store.truncate(log_id(1, 1, 9)).await.unwrap();
    assert_eq!(indexes(&mut store).await, vec![5, 6, 7, 8]);
    drop(store);

    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(indexes(&mut store).await, vec![5, 6, 7, 8]);
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id, Some(log_id(1, 1, 4)));
    assert_eq!(state.last_log_id, Some(log_id(1, 1, 8)));
    // A new term's entries replace the truncated ones.
    store
        .blocking_append([blank_ent::<TypeConfig>(2, 1, 9)])
        .await
        .unwrap();
    // Purging past the end leaves an empty log whose last id is the purge point.
    store.purge(log_id(2, 1, 12)).await.unwrap();
    drop(store);
    let mut store = LogStore::open(dir.path()).unwrap();
    assert!(indexes(&mut store).await.is_empty());
    let state = store.get_log_state().await.unwrap();
    assert_eq!(state.last_log_id, Some(log_id(2, 1, 12)));
    store
        .blocking_append([blank_ent::<TypeConfig>(2, 1, 13)])
        .await
        .unwrap();
    drop(store);
    let mut store = LogStore::open(dir.path()).unwrap();
    assert_eq!(indexes(&mut store).await, vec![13]);
}

#[tokio::test]
async fn the_state_machine_comes_back_from_its_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut machine = StateMachineStore::open(dir.path()).unwrap();
    let mut image = machine.subscribe();
    let results = machine
        .apply(
            [
                blank_ent::<TypeConfig>(1, 1, 1),
                command_entry(1, 2, 7),
                command_entry(0, 3, 8), // a stale epoch: the term-0 command in a term-1 entry below
            ]
            .map(|mut e| {
                e.log_id = log_id(1, 1, e.log_id.index);
                e
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        results[..2],
        [CommandResult::RaftInternal, CommandResult::Applied]
    );
    assert!(matches!(results[2], CommandResult::Rejected(_)));
    assert!(image.has_changed().unwrap());
    assert_eq!(
        image.borrow_and_update().brokers.keys().collect::<Vec<_>>(),
        vec![&7]
    );
    let snapshot = machine
        .get_snapshot_builder()
        .await
        .build_snapshot()
        .await
        .unwrap();
    assert_eq!(snapshot.meta.last_log_id, Some(log_id(1, 1, 3)));
    drop(machine);

    let mut machine = StateMachineStore::open(dir.path()).unwrap();
    let (applied, _) = machine.applied_state().await.unwrap();
    assert_eq!(applied, Some(log_id(1, 1, 3)));
    assert_eq!(
        machine
            .subscribe()
            .borrow()
            .brokers
            .keys()
            .collect::<Vec<_>>(),
        vec![&7]
    );
    let current = machine.get_current_snapshot().await.unwrap().unwrap();
    assert_eq!(current.meta, snapshot.meta);
}
