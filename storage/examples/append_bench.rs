//! Append benchmark: Petrel's partition log next to the machine's own limits, measured by
//! the same command on the same disk, medians of several runs.
//!
//! ```text
//! cargo run --release -p petrel-storage --example append_bench -- [--dir DIR] [--seconds S]
//!     [--runs N] [--backend auto|io_uring|portable] [--only TEXT] [--batch 16k|1m]
//! ```
//! Workloads (1 KiB records, batches of 16 KiB and 1 MiB):
//! - limits: plain sequential buffered write; write + fdatasync per chunk; each write the
//!   size of one batch (v2 batches are not page-aligned, and neither are these writes);
//! - `PageCache` appends from one appender (target: >= 70% of plain write);
//! - `Fsync` appends from 1, 8 and 64 concurrent appenders on one partition, and 64
//!   appenders spread over 64 partitions (target at 1 MiB with 64 appenders: >= 70% of
//!   write + fdatasync).
//!
//! Prints one line per workload: its median rate, the median rate of its reference measured
//! alternately with it, and the median of the per-run ratios; nothing is asserted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use petrel_storage::io::{BackendChoice, Disk};
use petrel_storage::{Durability, LogConfig, PartitionLog, SystemClock};

const RECORD_BYTES: usize = 1024;
const BATCH_SIZES: [usize; 2] = [16 * 1024, 1024 * 1024];

struct Options {
    dir: PathBuf,
    seconds: f64,
    runs: usize,
    backend: BackendChoice,
    /// Run only workloads whose name contains this (limits always run as references).
    only: Option<String>,
    /// Run only this batch size.
    batch: Option<usize>,
}

fn parse_options() -> Options {
    let mut options = Options {
        dir: PathBuf::from("target/append-bench"),
        seconds: 2.0,
        runs: 3,
        backend: BackendChoice::Auto,
        only: None,
        batch: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--dir" => options.dir = PathBuf::from(value),
            "--seconds" => options.seconds = value.parse().expect("--seconds N"),
            "--runs" => options.runs = value.parse().expect("--runs N"),
            "--backend" => {
                options.backend = match value.as_str() {
                    "io_uring" => BackendChoice::IoUring,
                    "portable" => BackendChoice::Portable,
                    _ => BackendChoice::Auto,
                }
            }
            "--only" => options.only = Some(value),
            "--batch" => {
                options.batch = Some(if value == "1m" {
                    1024 * 1024
                } else {
                    16 * 1024
                })
            }
            other => panic!(
                "unknown argument {other}; see the header of storage/examples/append_bench.rs"
            ),
        }
        i += 2;
    }
    options
}

/// A v2 batch of `batch_bytes / RECORD_BYTES` records of RECORD_BYTES-ish values, built
/// with kafka-protocol's encoder.
fn template_batch(batch_bytes: usize) -> BytesMut {
    use kafka_protocol::records::{
        Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
    };
    let count = (batch_bytes / RECORD_BYTES).max(1);
    let value = bytes::Bytes::from(vec![b'x'; RECORD_BYTES - 16]);
    let records: Vec<Record> = (0..count)
        .map(|i| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // kafka-protocol's encoder keeps records in one batch while offset - sequence
            // stays constant; this gives one batch whose base sequence is -1 (no idempotence).
            sequence: i as i32 - 1,
            timestamp: 1_700_000_000_000,
            key: None,
            value: Some(value.clone()),
            headers: indexmap::IndexMap::new(),
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &records,
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )
    .unwrap();
    buf
}

fn fresh_dir(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Plain sequential buffered writes (and optionally fdatasync after each chunk).
fn machine_write(root: &Path, chunk_bytes: usize, fdatasync: bool, seconds: f64) -> f64 {
    let dir = fresh_dir(root, "limit");
    let mut file = std::fs::File::create(dir.join("plain.bin")).unwrap();
    let chunk = vec![b'y'; chunk_bytes];
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut written = 0usize;
    while Instant::now() < deadline {
        file.write_all(&chunk).unwrap();
        if fdatasync {
            file.sync_data().unwrap();
        }
        written += chunk_bytes;
    }
    let rate = written as f64 / started.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_dir_all(&dir);
    rate
}

/// `appenders` tasks appending `batch_bytes` batches to `partitions` logs until the deadline.
async fn petrel_append(
    root: &Path,
    backend: BackendChoice,
    batch_bytes: usize,
    durability: Durability,
    appenders: usize,
    partitions: usize,
    seconds: f64,
) -> f64 {
    let dir = fresh_dir(root, "petrel");
    let disk = Disk::start(backend, 1024).unwrap();
    let mut logs = Vec::new();
    for p in 0..partitions {
        let log = PartitionLog::open(
            &dir.join(format!("bench-{p}")),
            disk.clone(),
            LogConfig::default(),
            Arc::new(SystemClock),
        )
        .await
        .unwrap();
        logs.push(Arc::new(log));
    }
    let template = template_batch(batch_bytes);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..appenders)
        .map(|a| {
            let log = logs[a % partitions].clone();
            let template = template.clone();
            tokio::spawn(async move {
                let mut written = 0usize;
                while Instant::now() < deadline {
                    let mut batch = BytesMut::with_capacity(template.len());
                    batch.put_slice(&template);
                    log.append(batch, 0, durability).await.unwrap();
                    written += template.len();
                }
                written
            })
        })
        .collect();
    let mut written = 0;
    for task in tasks {
        written += task.await.unwrap();
    }
    let rate = written as f64 / started.elapsed().as_secs_f64();
    drop(logs);
    let _ = std::fs::remove_dir_all(&dir);
    rate
}

fn median(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}

fn mib(rate: f64) -> f64 {
    rate / (1024.0 * 1024.0)
}

fn size_name(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

/// Medians of `runs` paired measurements: each run measures the reference and the workload
/// back to back (alternating which goes first, each after a `sync`), so both see the same
/// machine state; the ratio is the median of the per-run ratios.
struct Paired {
    workload: (f64, f64, f64),
    reference: f64,
    ratio: f64,
}

fn paired(runs: usize, reference: &dyn Fn() -> f64, workload: &dyn Fn() -> f64) -> Paired {
    let (mut refs, mut values, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        // Each measurement starts with no dirty pages left by the previous one (a run that
        // follows gigabytes of unwritten data pays for their writeback), and the two sides
        // take turns going first.
        let measure = |f: &dyn Fn() -> f64| {
            rustix::fs::sync();
            f()
        };
        let (r, v) = if run % 2 == 0 {
            let r = measure(reference);
            (r, measure(workload))
        } else {
            let v = measure(workload);
            (measure(reference), v)
        };
        ratios.push(v / r);
        refs.push(r);
        values.push(v);
    }
    Paired {
        workload: median(values),
        reference: median(refs).0,
        ratio: median(ratios).0,
    }
}

fn main() {
    let options = parse_options();
    std::fs::create_dir_all(&options.dir).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let backend = runtime.block_on(async { Disk::start(options.backend, 16).unwrap().backend() });
    println!(
        "append_bench: dir {}, {} s per run, {} runs (reference and workload alternate), backend {backend}",
        options.dir.display(),
        options.seconds,
        options.runs
    );
    println!(
        "{:<52} {:>7} {:>9} {:>17} {:>30} {:>6}",
        "workload", "batch", "MiB/s", "(min..max)", "reference MiB/s", "ratio"
    );
    let selected = |name: &str| {
        options
            .only
            .as_ref()
            .is_none_or(|only| name.contains(only.as_str()))
    };
    let report = |name: &str, batch: usize, reference_name: &str, result: Paired| {
        let (m, lo, hi) = result.workload;
        println!(
            "{name:<52} {:>7} {:>9.1} {:>17} {:>30} {:>6.2}",
            size_name(batch),
            mib(m),
            format!("({:.1}..{:.1})", mib(lo), mib(hi)),
            format!("{reference_name} {:.1}", mib(result.reference)),
            result.ratio
        );
    };
    for batch in BATCH_SIZES
        .into_iter()
        .filter(|b| options.batch.is_none_or(|only| only == *b))
    {
        // The machine's limits are measured with writes of exactly the bytes one appended
        // batch occupies: a v2 batch is never a whole number of pages, and unaligned writes
        // cost more than page-aligned ones (measured here: ~1.7x at 16 KiB).
        let write_bytes = template_batch(batch).len();
        let plain = || machine_write(&options.dir, write_bytes, false, options.seconds);
        let synced = || machine_write(&options.dir, write_bytes, true, options.seconds);
        let petrel = |durability, appenders, partitions| {
            runtime.block_on(petrel_append(
                &options.dir,
                options.backend,
                batch,
                durability,
                appenders,
                partitions,
                options.seconds,
            ))
        };
        let name = "petrel: PageCache append, 1 appender";
        if selected(name) {
            let result = paired(options.runs, &plain, &|| {
                petrel(Durability::PageCache, 1, 1)
            });
            report(name, batch, "plain write", result);
        }
        for (appenders, partitions) in [(1, 1), (8, 1), (64, 1), (64, 64)] {
            let name =
                format!("petrel: Fsync append, {appenders} appenders, {partitions} partition(s)");
            if selected(&name) {
                let result = paired(options.runs, &synced, &|| {
                    petrel(Durability::Fsync, appenders, partitions)
                });
                report(&name, batch, "write+fdatasync", result);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&options.dir);
}
