//! Crash consistency: a child process appends with `Durability::Fsync` and prints every
//! acknowledgement; the parent SIGKILLs it at a random moment, recovers the log, and checks
//! that every acknowledged batch is intact at its offsets, that the log holds only whole
//! valid batches (nothing from a torn tail is visible), and that appends continue after
//! recovery. Repeated for several rounds on each I/O set-up (both backends, and io_uring
//! with inline page-cache writes).
//!
//! The child is this same test binary, started with `PETREL_CRASH_CHILD_DIR` set. Run with
//! `cargo test -p petrel-storage --test crash`; `PETREL_CRASH_ROUNDS` and
//! `PETREL_CRASH_SEED` change the number of rounds and the random kill times.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use bytes::Bytes;
use common::{batch, decode, open, value_of, Io};
use petrel_storage::io::BackendChoice;
use petrel_storage::{Durability, LogConfig, SystemClock};

const RECORDS_PER_BATCH: usize = 4;

/// Record size of batch `seq`: mostly small, every third one large so that kills often
/// land while a long write is in flight.
fn record_bytes(seq: u64) -> usize {
    if seq.is_multiple_of(3) {
        96 * 1024
    } else {
        300
    }
}

fn config() -> LogConfig {
    // Small segments so that crashes also hit rolls.
    LogConfig {
        segment_bytes: 1024 * 1024,
        index_interval_bytes: 4096,
        ..LogConfig::default()
    }
}

/// The I/O set-ups under test, by name: each backend alone, and io_uring with inline
/// page-cache writes (the production default).
const SETUPS: [&str; 3] = ["portable", "io_uring", "io_uring_inline"];

fn setup_named(name: &str) -> Io {
    match name {
        "io_uring" => Io {
            backend: BackendChoice::IoUring,
            inline_writes: false,
        },
        "io_uring_inline" => Io {
            backend: BackendChoice::IoUring,
            inline_writes: true,
        },
        _ => Io {
            backend: BackendChoice::Portable,
            inline_writes: false,
        },
    }
}

fn main() {
    if let Ok(dir) = std::env::var("PETREL_CRASH_CHILD_DIR") {
        let io = setup_named(&std::env::var("PETREL_CRASH_BACKEND").unwrap());
        child(Path::new(&dir), io);
        return;
    }
    let rounds: usize = std::env::var("PETREL_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("PETREL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("crash test: {rounds} rounds per I/O set-up, PETREL_CRASH_SEED={seed}");
    let mut passed = 0;
    for backend in SETUPS {
        parent(backend, rounds, seed);
        passed += 1;
    }
    println!("{passed} passed, 0 failed");
}

/// Appends forever, printing `ACK seq base last` after each acknowledged Fsync append.
fn child(dir: &Path, io: Io) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let log = open(dir, io, config(), Arc::new(SystemClock)).await;
        let mut seq = (log.log_end_offset() as u64) / RECORDS_PER_BATCH as u64;
        let stdout = std::io::stdout();
        loop {
            let info = log
                .append(
                    batch(seq, RECORDS_PER_BATCH, record_bytes(seq), 1_700_000_000_000),
                    0,
                    Durability::Fsync,
                )
                .await
                .unwrap();
            let mut out = stdout.lock();
            writeln!(out, "ACK {seq} {} {}", info.base_offset, info.last_offset).unwrap();
            out.flush().unwrap();
            seq += 1;
        }
    });
}

fn parent(backend: &str, rounds: usize, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = seed ^ backend.len() as u64;
    let mut acked: Vec<(u64, i64, i64)> = Vec::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for round in 0..rounds {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let run_ms = 20 + rng % 300;
        let new_acks = run_child_and_kill(dir.path(), backend, Duration::from_millis(run_ms));
        acked.extend(new_acks.iter().copied());
        let (end, batches) = runtime.block_on(verify(dir.path(), setup_named(backend), &acked));
        println!("{backend} round {round}: killed after {run_ms} ms, {} new acks, log end {end}, {batches} batches intact", new_acks.len());
    }
    assert!(
        !acked.is_empty(),
        "{backend}: the child never acknowledged an append"
    );
}

/// Starts the child, collects its acks for `run`, then SIGKILLs it.
fn run_child_and_kill(dir: &Path, backend: &str, run: Duration) -> Vec<(u64, i64, i64)> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("PETREL_CRASH_CHILD_DIR", dir)
        .env("PETREL_CRASH_BACKEND", backend)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let ["ACK", seq, base, last] = fields[..] {
                let _ = tx.send((
                    seq.parse().unwrap(),
                    base.parse().unwrap(),
                    last.parse().unwrap(),
                ));
            }
        }
    });
    std::thread::sleep(run);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reader.join().unwrap();
    rx.try_iter().collect()
}

/// Recovers the log and checks it against the acknowledged appends.
async fn verify(dir: &Path, io: Io, acked: &[(u64, i64, i64)]) -> (i64, usize) {
    let log = open(dir, io, config(), Arc::new(SystemClock)).await;
    let end = log.log_end_offset();
    if let Some((_, _, last)) = acked.last() {
        assert!(
            end > *last,
            "acknowledged offset {last} lost: log end is {end}"
        );
    }
    let (bytes, result) = log.read_to_memory(0, u64::MAX, end, true).await.unwrap();
    assert_eq!(
        result.next_offset, end,
        "the whole log is readable up to its end"
    );
    // Every record is where its batch number says, with its content: acknowledged batches
    // and any written-but-unacknowledged whole batches alike; no fragment is visible.
    let records = decode(&bytes);
    assert_eq!(records.len() as i64, end);
    for (offset, key, value) in &records {
        let seq = *offset as u64 / RECORDS_PER_BATCH as u64;
        let i = *offset as usize % RECORDS_PER_BATCH;
        assert_eq!(key, &Bytes::from(format!("{seq}-{i}")), "offset {offset}");
        assert_eq!(
            value,
            &value_of(seq, i, record_bytes(seq)),
            "offset {offset}"
        );
    }
    for (seq, base, last) in acked {
        assert_eq!(
            (*base, *last),
            (*seq as i64 * 4, *seq as i64 * 4 + 3),
            "ack of batch {seq}"
        );
    }
    (end, records.len() / RECORDS_PER_BATCH)
}
