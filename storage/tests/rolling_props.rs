//! Property test of segment rolling: for random batch sizes and `segment.bytes`, the
//! segments tile the offset space without gaps, none exceeds `segment.bytes` unless it holds
//! a single oversized batch, every segment is named by its first offset, and reading from
//! any offset returns the batch holding it — before and after a restart.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::sync::Arc;

use common::{batch, decode, open, Io};
use petrel_storage::io::BackendChoice;
use petrel_storage::{Durability, LogConfig, SystemClock};
use proptest::prelude::*;

fn segment_sizes(dir: &std::path::Path) -> Vec<(i64, u64)> {
    let mut segments: Vec<(i64, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            let base = name.strip_suffix(".log")?.parse().ok()?;
            Some((base, e.metadata().unwrap().len()))
        })
        .collect();
    segments.sort();
    segments
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn segments_tile_the_log(
        batches in prop::collection::vec((1usize..6, 10usize..900), 1..60),
        segment_bytes in 1024u64..12_000,
        io_uring in any::<bool>(),
        inline_writes in any::<bool>(),
    ) {
        let io = Io { backend: if io_uring { BackendChoice::IoUring } else { BackendChoice::Portable }, inline_writes };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let config = LogConfig { segment_bytes, index_interval_bytes: 512, ..LogConfig::default() };
            let mut firsts = Vec::new(); // (first offset, last offset, bytes) per batch
            {
                let log = open(dir.path(), io, config.clone(), Arc::new(SystemClock)).await;
                for (seq, (records, size)) in batches.iter().enumerate() {
                    let b = batch(seq as u64, *records, *size, 1_000);
                    let len = b.len() as u64;
                    let info = log.append(b, 0, Durability::PageCache).await.unwrap();
                    firsts.push((info.base_offset, info.last_offset, len));
                }
            }
            let segments = segment_sizes(dir.path());
            // Segments start where the previous ended and hold whole batches only.
            let mut batch_index = 0;
            for (i, (base, size)) in segments.iter().enumerate() {
                assert_eq!(*base, firsts.get(batch_index).map_or(*base, |b| b.0), "segment {i} starts at a batch start");
                let mut used = 0;
                let mut count = 0;
                while batch_index < firsts.len() && used + firsts[batch_index].2 <= *size {
                    used += firsts[batch_index].2;
                    batch_index += 1;
                    count += 1;
                }
                assert_eq!(used, *size, "segment {base} holds whole batches");
                assert!(*size <= segment_bytes || count == 1, "segment {base} of {size} bytes over {segment_bytes}");
            }
            assert_eq!(batch_index, firsts.len(), "every batch is in some segment");
            let log = open(dir.path(), io, config, Arc::new(SystemClock)).await;
            let end = log.log_end_offset();
            assert_eq!(end, firsts.last().unwrap().1 + 1);
            for (first, last, _) in &firsts {
                for from in [*first, *last] {
                    let (bytes, _) = log.read_to_memory(from, 1, end, true).await.unwrap();
                    assert_eq!(decode(&bytes)[0].0, *first, "read from {from}");
                }
            }
        });
    }
}

#[tokio::test]
async fn the_active_segment_rolls_by_age() {
    let dir = tempfile::tempdir().unwrap();
    let clock = petrel_storage::ManualClock::new(1_000_000);
    let config = LogConfig {
        segment_ms: 60_000,
        ..LogConfig::default()
    };
    let log = open(
        dir.path(),
        Io {
            backend: BackendChoice::IoUring,
            inline_writes: true,
        },
        config,
        Arc::new(clock.clone()),
    )
    .await;
    log.append(batch(0, 2, 50, 1_000), 0, Durability::PageCache)
        .await
        .unwrap();
    clock.advance_ms(30_000);
    log.append(batch(1, 2, 50, 1_000), 0, Durability::PageCache)
        .await
        .unwrap();
    assert_eq!(
        log.segment_count().await,
        1,
        "younger than segment.ms: no roll"
    );
    clock.advance_ms(31_000);
    log.append(batch(2, 2, 50, 1_000), 0, Durability::PageCache)
        .await
        .unwrap();
    assert_eq!(
        log.segment_count().await,
        2,
        "older than segment.ms: rolled"
    );
    assert!(dir.path().join("00000000000000000004.log").exists());
}
