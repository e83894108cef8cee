//! The storage I/O suite, run against both backends: `portable::*` and `io_uring::*` run
//! the same test functions through `Disk::start(BackendChoice::Portable | IoUring, ..)`.
//!
//! The io_uring run insists on io_uring (it fails if the kernel refuses it) so a green
//! run proves that backend was exercised. On a host that blocks io_uring (Docker's
//! default seccomp profile, `kernel.io_uring_disabled`), set
//! `PETREL_SKIP_IO_URING_TESTS=1` to run only the portable half.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use petrel_storage::io::{BackendChoice, BackendKind, Disk, LogFile, OpenMode};
use proptest::prelude::*;
use tokio::sync::Barrier;

const QUEUE_DEPTH: usize = 64;

/// Starts a disk with exactly the requested backend, or `None` when io_uring tests are
/// explicitly skipped.
fn start(choice: BackendChoice) -> Option<Disk> {
    if choice == BackendChoice::IoUring && std::env::var_os("PETREL_SKIP_IO_URING_TESTS").is_some()
    {
        eprintln!("PETREL_SKIP_IO_URING_TESTS set: skipping the io_uring run");
        return None;
    }
    let disk = Disk::start(choice, QUEUE_DEPTH).unwrap_or_else(|e| {
        panic!("{choice:?} backend failed to start: {e} (set PETREL_SKIP_IO_URING_TESTS=1 where io_uring is blocked)")
    });
    let expected = match choice {
        BackendChoice::IoUring => BackendKind::IoUring,
        BackendChoice::Portable => BackendKind::Portable,
        BackendChoice::Auto => disk.backend(),
    };
    assert_eq!(disk.backend(), expected);
    // Every write through the backend under test, not inline page-cache writes.
    disk.set_inline_writes(false);
    Some(disk)
}

/// Deterministic, position-dependent bytes, so misplaced data shows.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn new_file(dir: &Path, name: &str) -> LogFile {
    LogFile::open(dir.join(name), OpenMode::CreateNew).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// The suite. Each function takes the backend choice.
// ---------------------------------------------------------------------------------------

fn round_trip_at_random_positions(choice: BackendChoice) {
    let Some(disk) = start(choice) else { return };
    let runtime = runtime();
    let writes = proptest::collection::vec(
        (
            0u64..256 * 1024,
            proptest::collection::vec(any::<u8>(), 1..16 * 1024),
        ),
        1..8,
    );
    let config = ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(writes in writes)| {
        let dir = tempfile::tempdir().unwrap();
        let file = new_file(dir.path(), "00000000000000000000.log");
        let mut model: Vec<u8> = Vec::new();
        runtime.block_on(async {
            for (position, data) in &writes {
                disk.write_at(&file, *position, Bytes::from(data.clone())).await.unwrap();
                let start = *position as usize;
                if model.len() < start + data.len() {
                    model.resize(start + data.len(), 0);
                }
                model[start..start + data.len()].copy_from_slice(data);
            }
            // Every write reads back where it went (later overlapping writes win) ...
            for (position, data) in &writes {
                let start = *position as usize;
                let read = disk.read_at(&file, *position, data.len()).await.unwrap();
                prop_assert_eq!(&read[..], &model[start..start + data.len()]);
            }
            // ... and the whole file is the model, holes read as zeroes.
            let whole = disk.read_at(&file, 0, model.len() + 100).await.unwrap();
            prop_assert_eq!(whole.len(), model.len());
            prop_assert!(whole[..] == model[..]);
            Ok(())
        })?;
    });
}

async fn short_reads_at_eof(choice: BackendChoice) {
    let Some(disk) = start(choice) else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = new_file(dir.path(), "f.log");
    let data = pattern(1, 100);
    disk.write_at(&file, 0, Bytes::from(data.clone()))
        .await
        .unwrap();
    assert_eq!(&disk.read_at(&file, 0, 100).await.unwrap()[..], &data[..]);
    assert_eq!(
        &disk.read_at(&file, 50, 100).await.unwrap()[..],
        &data[50..]
    );
    assert_eq!(&disk.read_at(&file, 99, 1).await.unwrap()[..], &data[99..]);
    assert!(disk.read_at(&file, 100, 10).await.unwrap().is_empty());
    assert!(disk.read_at(&file, 4096, 10).await.unwrap().is_empty());
    assert!(disk.read_at(&file, 0, 0).await.unwrap().is_empty());
    // After a truncate the tail is gone.
    file.set_len(10).unwrap();
    assert_eq!(&disk.read_at(&file, 0, 100).await.unwrap()[..], &data[..10]);
}

async fn concurrent_writers_to_one_file(choice: BackendChoice) {
    let Some(disk) = start(choice) else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = new_file(dir.path(), "f.log");
    const CHUNK: usize = 16 * 1024;
    const WRITERS: u64 = 128; // twice the queue depth: some wait for a slot
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let (disk, file) = (disk.clone(), file.clone());
        tasks.push(tokio::spawn(async move {
            disk.write_at(&file, i * CHUNK as u64, Bytes::from(pattern(i, CHUNK)))
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(file.len().unwrap(), WRITERS * CHUNK as u64);
    let whole = disk
        .read_at(&file, 0, WRITERS as usize * CHUNK)
        .await
        .unwrap();
    for i in 0..WRITERS {
        let at = i as usize * CHUNK;
        assert!(whole[at..at + CHUNK] == pattern(i, CHUNK)[..], "chunk {i}");
    }
    let stats = disk.stats();
    assert_eq!(stats.writes, WRITERS);
    assert_eq!(stats.bytes_written, WRITERS * CHUNK as u64);
}

async fn large_write_and_read(choice: BackendChoice) {
    let Some(disk) = start(choice) else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = new_file(dir.path(), "f.log");
    let data = pattern(7, 24 * 1024 * 1024 + 13);
    disk.write_at(&file, 4095, Bytes::from(data.clone()))
        .await
        .unwrap();
    let read = disk.read_at(&file, 4095, data.len()).await.unwrap();
    assert_eq!(read.len(), data.len());
    assert!(read[..] == data[..]);
}

async fn sync_data_issues_an_fdatasync_exactly_when_needed(choice: BackendChoice) {
    let Some(disk) = start(choice) else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = new_file(dir.path(), "f.log");
    let fdatasyncs = || disk.stats().fdatasync_calls;

    // A freshly opened file may hold unsynced data from before: the first sync is real.
    disk.sync_data(&file).await.unwrap();
    assert_eq!(fdatasyncs(), 1);
    // Nothing written since: nothing to do.
    disk.sync_data(&file).await.unwrap();
    assert_eq!(fdatasyncs(), 1);
    // A completed write must be covered by an fdatasync issued after it.
    for round in 0..5u64 {
        disk.write_at(&file, round * 10, Bytes::from(pattern(round, 10)))
            .await
            .unwrap();
        let seen = file.write_generation();
        let before = fdatasyncs();
        disk.sync_data(&file).await.unwrap();
        assert_eq!(fdatasyncs(), before + 1, "round {round}");
        assert!(file.durable_generation() >= seen);
        disk.sync_data(&file).await.unwrap();
        assert_eq!(fdatasyncs(), before + 1, "round {round}: no new writes");
    }
    // A truncate counts as a modification too.
    let before = fdatasyncs();
    file.set_len(7).unwrap();
    disk.sync_data(&file).await.unwrap();
    assert_eq!(fdatasyncs(), before + 1);
    // Another handle to the same path starts unknown, hence dirty.
    let reopened = LogFile::open(file.path(), OpenMode::Existing).unwrap();
    disk.sync_data(&reopened).await.unwrap();
    assert_eq!(fdatasyncs(), before + 2);
}

async fn sync_data_covers_every_completed_write_under_concurrency(choice: BackendChoice) {
    let Some(disk) = start(choice) else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = new_file(dir.path(), "f.log");
    let mut tasks = Vec::new();
    for task in 0..16u64 {
        let (disk, file) = (disk.clone(), file.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..20u64 {
                let position = (task * 20 + round) * 512;
                disk.write_at(&file, position, Bytes::from(pattern(position, 512)))
                    .await
                    .unwrap();
                // Our write has completed, so the generation now includes it.
                let seen = file.write_generation();
                disk.sync_data(&file).await.unwrap();
                assert!(
                    file.durable_generation() >= seen,
                    "sync_data returned before an fdatasync covering generation {seen}"
                );
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stats = disk.stats();
    println!(
        "{choice:?}: 320 write+sync_data pairs from 16 tasks -> {} fdatasyncs",
        stats.fdatasync_calls
    );
    assert!(stats.fdatasync_calls <= 320);
}

/// `tasks` tasks spread over `files` files each write then sync_data; with `lined_up`
/// they all finish writing before any syncs. Returns the number of fdatasyncs.
async fn write_then_sync(disk: &Disk, dir: &Path, tasks: u64, files: u64, lined_up: bool) -> u64 {
    let files: Vec<LogFile> = (0..files)
        .map(|i| new_file(dir, &format!("{i:020}.log")))
        .collect();
    let barrier = Arc::new(Barrier::new(tasks as usize));
    let before = disk.stats().fdatasync_calls;
    let mut handles = Vec::new();
    for task in 0..tasks {
        let disk = disk.clone();
        let file = files[(task % files.len() as u64) as usize].clone();
        let barrier = barrier.clone();
        handles.push(tokio::spawn(async move {
            let position = task * 4096;
            disk.write_at(&file, position, Bytes::from(pattern(task, 4096)))
                .await
                .unwrap();
            if lined_up {
                barrier.wait().await;
            }
            disk.sync_data(&file).await.unwrap();
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    disk.stats().fdatasync_calls - before
}

async fn group_commit_on_one_file(choice: BackendChoice) {
    let Some(disk) = start(choice) else { return };
    let dir = tempfile::tempdir().unwrap();
    let free = write_then_sync(&disk, dir.path(), 64, 1, false).await;
    println!("{choice:?}: 64 concurrent write+sync_data on 1 file -> {free} fdatasyncs");
    assert!((1..64).contains(&free), "{free} fdatasyncs");
    // All writes complete before any sync: the first fdatasync covers every waiter.
    let dir = tempfile::tempdir().unwrap();
    let lined_up = write_then_sync(&disk, dir.path(), 64, 1, true).await;
    println!("{choice:?}: same, writes all done before the syncs -> {lined_up} fdatasync");
    assert_eq!(lined_up, 1);
}

async fn group_commit_across_eight_files(choice: BackendChoice) {
    let Some(disk) = start(choice) else { return };
    let dir = tempfile::tempdir().unwrap();
    let free = write_then_sync(&disk, dir.path(), 64, 8, false).await;
    println!("{choice:?}: 64 concurrent write+sync_data on 8 files -> {free} fdatasyncs");
    assert!((8..64).contains(&free), "{free} fdatasyncs");
    let dir = tempfile::tempdir().unwrap();
    let lined_up = write_then_sync(&disk, dir.path(), 64, 8, true).await;
    println!("{choice:?}: same, writes all done before the syncs -> {lined_up} fdatasyncs");
    assert_eq!(lined_up, 8);
}

async fn synced_data_reads_back_through_a_fresh_file(choice: BackendChoice) {
    let Some(disk) = start(choice) else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("00000000000000000042.log");
    let data = pattern(42, 100_000);
    {
        let file = LogFile::open(&path, OpenMode::CreateNew).unwrap();
        disk.write_at(&file, 0, Bytes::from(data[..60_000].to_vec()))
            .await
            .unwrap();
        disk.write_at(&file, 60_000, Bytes::from(data[60_000..].to_vec()))
            .await
            .unwrap();
        disk.sync_data(&file).await.unwrap();
        disk.sync_dir(dir.path()).await.unwrap();
    }
    drop(disk);
    assert!(std::fs::read(&path).unwrap() == data);
}

async fn reads_survive_unlink(choice: BackendChoice) {
    let Some(disk) = start(choice) else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.log");
    let file = LogFile::open(&path, OpenMode::CreateNew).unwrap();
    let data = pattern(3, 8192);
    disk.write_at(&file, 0, Bytes::from(data.clone()))
        .await
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    disk.sync_dir(dir.path()).await.unwrap();
    assert!(!path.exists());
    let read = disk.read_at(&file, 0, 8192).await.unwrap();
    assert!(read[..] == data[..]);
}

async fn sync_all_and_sync_dir(choice: BackendChoice) {
    let Some(disk) = start(choice) else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = new_file(dir.path(), "f.log");
    disk.write_at(&file, 0, Bytes::from_static(b"metadata"))
        .await
        .unwrap();
    let seen = file.write_generation();
    disk.sync_all(&file).await.unwrap();
    assert!(file.durable_generation() >= seen);
    // The full fsync covered the write: sync_data has nothing left to do.
    disk.sync_data(&file).await.unwrap();
    disk.sync_dir(dir.path()).await.unwrap();
    let stats = disk.stats();
    assert_eq!(stats.fsync_calls, 2);
    assert_eq!(stats.fdatasync_calls, 0);
    let missing = disk.sync_dir(dir.path().join("missing")).await.unwrap_err();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
}

async fn a_queue_depth_of_one_still_serves_many_tasks(choice: BackendChoice) {
    if choice == BackendChoice::IoUring && start(choice).is_none() {
        return;
    }
    let disk = Disk::start(choice, 1).unwrap();
    disk.set_inline_writes(false);
    let dir = tempfile::tempdir().unwrap();
    let file = new_file(dir.path(), "f.log");
    let mut tasks = Vec::new();
    for i in 0..32u64 {
        let (disk, file) = (disk.clone(), file.clone());
        tasks.push(tokio::spawn(async move {
            disk.write_at(&file, i * 100, Bytes::from(pattern(i, 100)))
                .await
                .unwrap();
            disk.sync_data(&file).await.unwrap();
            disk.read_at(&file, i * 100, 100).await.unwrap()
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        assert!(task.await.unwrap()[..] == pattern(i as u64, 100)[..]);
    }
}

macro_rules! backend_suite {
    ($module:ident, $choice:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn round_trip_at_random_positions() {
                super::round_trip_at_random_positions($choice);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn short_reads_at_eof() {
                super::short_reads_at_eof($choice).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_writers_to_one_file() {
                super::concurrent_writers_to_one_file($choice).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn large_write_and_read() {
                super::large_write_and_read($choice).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sync_data_issues_an_fdatasync_exactly_when_needed() {
                super::sync_data_issues_an_fdatasync_exactly_when_needed($choice).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sync_data_covers_every_completed_write_under_concurrency() {
                super::sync_data_covers_every_completed_write_under_concurrency($choice).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn group_commit_on_one_file() {
                super::group_commit_on_one_file($choice).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn group_commit_across_eight_files() {
                super::group_commit_across_eight_files($choice).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn synced_data_reads_back_through_a_fresh_file() {
                super::synced_data_reads_back_through_a_fresh_file($choice).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn reads_survive_unlink() {
                super::reads_survive_unlink($choice).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sync_all_and_sync_dir() {
                super::sync_all_and_sync_dir($choice).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_queue_depth_of_one_still_serves_many_tasks() {
                super::a_queue_depth_of_one_still_serves_many_tasks($choice).await;
            }

            // The single-threaded runtime: nothing may depend on a second worker.
            #[tokio::test(flavor = "current_thread")]
            async fn group_commit_on_a_current_thread_runtime() {
                super::group_commit_on_one_file($choice).await;
            }
        }
    };
}

backend_suite!(portable, BackendChoice::Portable);
backend_suite!(io_uring, BackendChoice::IoUring);

// ---------------------------------------------------------------------------------------
// Backend-independent behaviour.
// ---------------------------------------------------------------------------------------

#[test]
fn auto_uses_io_uring_exactly_when_it_is_available() {
    let auto = Disk::start(BackendChoice::Auto, 8).unwrap();
    let forced = Disk::start(BackendChoice::IoUring, 8);
    println!("Auto picked {} here", auto.backend());
    match forced {
        Ok(_) => assert_eq!(auto.backend(), BackendKind::IoUring),
        Err(error) => {
            println!("io_uring unavailable: {error}");
            assert_eq!(auto.backend(), BackendKind::Portable);
        }
    }
    assert_eq!(BackendKind::IoUring.to_string(), "io_uring");
    assert_eq!(BackendKind::Portable.to_string(), "portable");
}

#[test]
fn a_zero_queue_depth_is_rejected() {
    let error = Disk::start(BackendChoice::Portable, 0).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn open_modes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.index");
    let missing = LogFile::open(&path, OpenMode::Existing).unwrap_err();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    let created = LogFile::open(&path, OpenMode::CreateNew).unwrap();
    assert!(created.is_empty().unwrap());
    created.set_len(100).unwrap();
    let exists = LogFile::open(&path, OpenMode::CreateNew).unwrap_err();
    assert_eq!(exists.kind(), std::io::ErrorKind::AlreadyExists);
    // Create opens without truncating; Existing opens too.
    assert_eq!(
        LogFile::open(&path, OpenMode::Create)
            .unwrap()
            .len()
            .unwrap(),
        100
    );
    assert_eq!(
        LogFile::open(&path, OpenMode::Existing)
            .unwrap()
            .len()
            .unwrap(),
        100
    );
    assert_eq!(created.path(), path);
    assert_eq!(created.as_std().metadata().unwrap().len(), 100);
}

/// Inline page-cache writes: data lands, reads back through a fresh file, and a
/// later `sync_data` still issues an fdatasync that covers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_writes_read_back_and_are_covered_by_sync_data() {
    let disk = Disk::start(BackendChoice::Auto, QUEUE_DEPTH).unwrap();
    disk.set_inline_writes(true);
    let dir = tempfile::tempdir().unwrap();
    let file = new_file(dir.path(), "inline.log");
    disk.sync_data(&file).await.unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    for (n, chunk) in data.chunks(16 * 1024).enumerate() {
        disk.write_at(
            &file,
            (n * 16 * 1024) as u64,
            bytes::Bytes::copy_from_slice(chunk),
        )
        .await
        .unwrap();
    }
    let before = disk.stats().fdatasync_calls;
    disk.sync_data(&file).await.unwrap();
    assert_eq!(
        disk.stats().fdatasync_calls,
        before + 1,
        "the inline writes made the file dirty"
    );
    assert_eq!(std::fs::read(dir.path().join("inline.log")).unwrap(), data);
}
