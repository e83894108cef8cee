//! `send_file_region` byte for byte over loopback TCP: a 64 MiB region (far more than the
//! socket buffers hold, so the WouldBlock path runs many times), odd offsets and lengths,
//! an unlinked file, and regions past the end of the file.
//!
//! The big transfers run on a current-thread runtime with the reader on the same thread:
//! if the sender ever blocked the thread instead of awaiting writability, the reader
//! could not drain the socket and the test would hang.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use petrel_storage::io::{LogFile, OpenMode};
use petrel_storage::sendfile::send_file_region;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

const MIB: usize = 1024 * 1024;

/// Deterministic bytes, different at every position.
fn pattern(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn write_file(path: &Path, contents: &[u8]) -> File {
    let mut file = File::create(path).unwrap();
    file.write_all(contents).unwrap();
    File::open(path).unwrap()
}

/// A connected loopback pair: (sender side, receiver side).
async fn loopback() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (connected, accepted) = tokio::join!(TcpStream::connect(address), listener.accept());
    (connected.unwrap(), accepted.unwrap().0)
}

/// Sends `file[offset..offset+len]` over a fresh connection and returns everything the
/// other end received before EOF, plus the sender's result.
async fn send_and_receive(
    file: Arc<File>,
    offset: u64,
    len: usize,
) -> (std::io::Result<()>, Vec<u8>) {
    let (sender, mut receiver) = loopback().await;
    let reader = tokio::spawn(async move {
        let mut received = Vec::new();
        receiver.read_to_end(&mut received).await.unwrap();
        received
    });
    let result = send_file_region(&sender, &file, offset, len).await;
    drop(sender); // EOF for the reader
    (result, reader.await.unwrap())
}

#[tokio::test(flavor = "current_thread")]
async fn a_64_mib_region_arrives_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let contents = pattern(64 * MIB + 4096);
    let file = Arc::new(write_file(&dir.path().join("big.log"), &contents));
    let (result, received) = send_and_receive(file, 1000, 64 * MIB).await;
    result.unwrap();
    assert_eq!(received.len(), 64 * MIB);
    assert!(
        received[..] == contents[1000..1000 + 64 * MIB],
        "contents differ"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn odd_offsets_and_lengths() {
    let dir = tempfile::tempdir().unwrap();
    let contents = pattern(3 * MIB + 333);
    let file = Arc::new(write_file(&dir.path().join("odd.log"), &contents));
    let total = contents.len();
    let regions: &[(usize, usize)] = &[
        (0, 0),
        (0, 1),
        (1, 1),
        (7, 13),
        (4095, 4097),
        (12_345, 1_000_001),
        (MIB - 1, MIB + 3),
        (0, total),
        (total - 7, 7),
        (total, 0),
    ];
    for &(offset, len) in regions {
        let (result, received) = send_and_receive(file.clone(), offset as u64, len).await;
        result.unwrap_or_else(|e| panic!("region {offset}+{len}: {e}"));
        assert_eq!(received.len(), len, "region {offset}+{len}");
        assert!(
            received[..] == contents[offset..offset + len],
            "region {offset}+{len}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_regions_of_one_file_on_a_multi_thread_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let contents = Arc::new(pattern(9 * MIB));
    let file = Arc::new(write_file(&dir.path().join("shared.log"), &contents));
    let mut tasks = Vec::new();
    for i in 0..8usize {
        let (file, contents) = (file.clone(), contents.clone());
        tasks.push(tokio::spawn(async move {
            let (offset, len) = (i * MIB - i.min(1) * 17, MIB + 5 * i);
            let (result, received) = send_and_receive(file, offset as u64, len).await;
            result.unwrap();
            assert!(received[..] == contents[offset..offset + len], "task {i}");
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_unlinked_file_still_sends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("00000000000000000000.log");
    let contents = pattern(2 * MIB + 1);
    write_file(&path, &contents);
    let segment = LogFile::open(&path, OpenMode::Existing).unwrap();
    // Retention deletes the segment while a fetch still holds its region.
    std::fs::remove_file(&path).unwrap();
    assert!(!path.exists());
    let (sender, mut receiver) = loopback().await;
    let reader = tokio::spawn(async move {
        let mut received = Vec::new();
        receiver.read_to_end(&mut received).await.unwrap();
        received
    });
    send_file_region(&sender, segment.as_std(), 5, 2 * MIB - 4)
        .await
        .unwrap();
    drop(sender);
    let received = reader.await.unwrap();
    assert!(received[..] == contents[5..2 * MIB + 1]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_region_past_the_end_fails_before_sending_anything() {
    let dir = tempfile::tempdir().unwrap();
    let file = Arc::new(write_file(&dir.path().join("short.log"), &pattern(1000)));
    for (offset, len) in [
        (0u64, 1001usize),
        (1000, 1),
        (999, 2),
        (5000, 0),
        (u64::MAX, 1),
    ] {
        let (result, received) = send_and_receive(file.clone(), offset, len).await;
        let error = result.unwrap_err();
        let expected = if offset == u64::MAX {
            std::io::ErrorKind::InvalidInput
        } else {
            std::io::ErrorKind::UnexpectedEof
        };
        assert_eq!(error.kind(), expected, "region {offset}+{len}: {error}");
        assert!(received.is_empty(), "region {offset}+{len} sent bytes");
    }
}
