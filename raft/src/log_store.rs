//! The Raft log on disk: one append-only file of CRC-checked records, and the vote.
//!
//! `<dir>/log` holds records `len (u32 BE) | crc32c (u32 BE) | version (u8) | kind (u8) |
//! payload`, where `len` counts version, kind and payload and the CRC covers the same bytes.
//! Kinds: an entry (postcard), the committed log id (written with the next fsync, never
//! trusted beyond the records before it), and the last purged log id (first in the file).
//!
//! One file rather than segments: the metadata log is small and snapshots bound it, so a
//! purge rewrites the retained tail into `log.tmp` and renames it over `log` (fsync, rename,
//! directory fsync), which also makes the purged log id durable before anything is
//! dropped. Truncation cuts the file at the first removed entry.
//!
//! Recovery reads the whole file. A damaged record that ends the file is a torn append: it
//! is cut off. A damaged record with intact bytes after it is corruption: `open` refuses to
//! start rather than forget entries a quorum may count on. Entry indexes must follow each
//! other without a gap.
//!
//! The vote lives in `<dir>/vote` ([`crate::durable_file`]), durable before `save_vote`
//! returns, as Raft requires.
//!
//! All file I/O runs on tokio's blocking pool: openraft waits for each log write before it
//! does anything else, and must not hold a runtime worker meanwhile.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{AnyError, OptionalSend, RaftLogReader, StorageIOError};
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::durable_file;
use crate::types::{Entry, LogId, StorageError, TypeConfig, Vote};

const LOG_FILE: &str = "log";
const VOTE_FILE: &str = "vote";
const VOTE_MAGIC: [u8; 4] = *b"PVOT";
const RECORD_VERSION: u8 = 1;
/// `len` and `crc`, before the checked bytes.
const RECORD_HEADER_BYTES: usize = 8;

/// What a record holds: decoded as `Record<Entry>`, encoded as `Record<&Entry>` so that
/// writing an entry does not copy it (serde encodes a reference as its target).
#[derive(Debug, Serialize, Deserialize)]
enum Record<E> {
    Entry(E),
    Committed(Option<LogId>),
    Purged(LogId),
}

impl<E> Record<E> {
    fn kind(&self) -> u8 {
        match self {
            Record::Entry(_) => 1,
            Record::Committed(_) => 2,
            Record::Purged(_) => 3,
        }
    }
}

/// Appends one framed record to `out`.
fn encode_record(record: &Record<&Entry>, out: &mut Vec<u8>) -> io::Result<()> {
    let payload = postcard::to_allocvec(record).map_err(invalid_data)?;
    let mut checked = Vec::with_capacity(2 + payload.len());
    checked.push(RECORD_VERSION);
    checked.push(record.kind());
    checked.extend_from_slice(&payload);
    let len = u32::try_from(checked.len()).map_err(invalid_data)?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&crc32c::crc32c(&checked).to_be_bytes());
    out.extend_from_slice(&checked);
    Ok(())
}

fn invalid_data(err: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, err.to_string())
}

/// One entry in memory, with where its record starts in the file.
#[derive(Debug, Clone)]
struct StoredEntry {
    entry: Entry,
    offset: u64,
}

/// The log's state, shared with the readers openraft hands to replication tasks.
#[derive(Debug, Default)]
struct LogMemory {
    entries: BTreeMap<u64, StoredEntry>,
    last_purged: Option<LogId>,
    committed: Option<LogId>,
    /// Where the next record goes.
    file_len: u64,
}

impl LogMemory {
    fn last_log_id(&self) -> Option<LogId> {
        self.entries
            .values()
            .next_back()
            .map(|stored| stored.entry.log_id)
            .or(self.last_purged)
    }
}

type Shared = Arc<RwLock<LogMemory>>;

fn read_memory(shared: &Shared) -> std::sync::RwLockReadGuard<'_, LogMemory> {
    // A panic while holding the lock cannot leave the map half-updated (every update is a
    // single insert/split), so a poisoned lock is still safe to use.
    shared.read().unwrap_or_else(PoisonError::into_inner)
}

fn write_memory(shared: &Shared) -> std::sync::RwLockWriteGuard<'_, LogMemory> {
    shared.write().unwrap_or_else(PoisonError::into_inner)
}

/// The Raft log store of one node.
#[derive(Debug)]
pub struct LogStore {
    dir: PathBuf,
    memory: Shared,
    file: Arc<Mutex<File>>,
    vote: Option<Vote>,
}

/// A read-only view of the log for openraft's replication tasks.
#[derive(Debug, Clone)]
pub struct LogReader {
    memory: Shared,
}

impl LogStore {
    /// Opens (creating if needed) the log in `dir`, recovering from an unclean stop.
    pub fn open(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let vote = durable_file::read(dir, VOTE_FILE, VOTE_MAGIC)?
            .map(|bytes| postcard::from_bytes::<Vote>(&bytes).map_err(invalid_data))
            .transpose()?;
        let path = dir.join(LOG_FILE);
        let existed = path.exists();
        let bytes = if existed {
            fs::read(&path)?
        } else {
            Vec::new()
        };
        let (memory, valid_len) = recover(&bytes, &path)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)?;
        if valid_len < bytes.len() as u64 {
            warn!(
                path = %path.display(),
                kept = valid_len,
                dropped = bytes.len() as u64 - valid_len,
                "raft log: cutting off a torn record at the end"
            );
            file.set_len(valid_len)?;
            file.sync_all()?;
        }
        if !existed {
            durable_file::sync_dir(dir)?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            memory: Arc::new(RwLock::new(memory)),
            file: Arc::new(Mutex::new(file)),
            vote,
        })
    }

    /// Runs blocking file work on the blocking pool.
    async fn blocking<T: Send + 'static>(
        work: impl FnOnce() -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        tokio::task::spawn_blocking(work)
            .await
            .unwrap_or_else(|join| Err(io::Error::other(join.to_string())))
    }

    /// Appends framed `bytes` to the log file; fsyncs if `sync`.
    async fn write_records(&self, bytes: Vec<u8>, sync: bool) -> io::Result<()> {
        let file = Arc::clone(&self.file);
        Self::blocking(move || {
            let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
            file.write_all(&bytes)?;
            if sync {
                file.sync_data()?;
            }
            Ok(())
        })
        .await
    }
}

/// Parses the log file's bytes; returns the state and how many leading bytes are valid.
fn recover(bytes: &[u8], path: &Path) -> io::Result<(LogMemory, u64)> {
    let corrupt = |offset: usize, what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: {what} at byte {offset}; refusing to start on a damaged raft log",
                path.display()
            ),
        )
    };
    let mut memory = LogMemory::default();
    let mut offset = 0usize;
    while offset < bytes.len() {
        let (Some(len), Some(crc)) = (be_u32(bytes, offset), be_u32(bytes, offset + 4)) else {
            break; // a torn header: the end
        };
        let len = len as usize;
        let body_start = offset + RECORD_HEADER_BYTES;
        let Some(body) = bytes.get(body_start..body_start + len) else {
            break; // runs past the end: torn
        };
        let record_end = body_start + len;
        if crc32c::crc32c(body) != crc || len < 2 {
            if record_end == bytes.len() {
                break; // the last record, half written
            }
            return Err(corrupt(offset, "a record fails its CRC"));
        }
        if body.first() != Some(&RECORD_VERSION) {
            return Err(corrupt(offset, "unknown record version"));
        }
        let record: Record<Entry> = postcard::from_bytes(body.get(2..).unwrap_or_default())
            .map_err(|err| corrupt(offset, &format!("undecodable record ({err})")))?;
        match record {
            Record::Entry(entry) => {
                let index = entry.log_id.index;
                let expected = memory
                    .entries
                    .keys()
                    .next_back()
                    .map(|last| last + 1)
                    .or(memory.last_purged.map(|purged| purged.index + 1));
                if expected.is_some_and(|expected| expected != index) {
                    return Err(corrupt(offset, &format!("entry {index} out of sequence")));
                }
                memory.entries.insert(
                    index,
                    StoredEntry {
                        entry,
                        offset: offset as u64,
                    },
                );
            }
            Record::Committed(committed) => memory.committed = committed,
            Record::Purged(purged) => memory.last_purged = Some(purged),
        }
        offset = record_end;
    }
    memory.file_len = offset as u64;
    Ok((memory, offset as u64))
}

/// The big-endian `u32` at `at`, if the bytes are there.
fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let four: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(four))
}

fn log_write_error(err: io::Error) -> StorageError {
    StorageIOError::write_logs(AnyError::new(&err)).into()
}

impl RaftLogReader<TypeConfig> for LogReader {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(read_memory(&self.memory)
            .entries
            .range(range)
            .map(|(_, stored)| stored.entry.clone())
            .collect())
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        LogReader {
            memory: Arc::clone(&self.memory),
        }
        .try_get_log_entries(range)
        .await
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogReader;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let memory = read_memory(&self.memory);
        Ok(LogState {
            last_purged_log_id: memory.last_purged,
            last_log_id: memory.last_log_id(),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        LogReader {
            memory: Arc::clone(&self.memory),
        }
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        let vote_error = |err: io::Error| -> StorageError {
            StorageIOError::write_vote(AnyError::new(&err)).into()
        };
        let payload = postcard::to_allocvec(vote)
            .map_err(invalid_data)
            .map_err(vote_error)?;
        let dir = self.dir.clone();
        Self::blocking(move || durable_file::write(&dir, VOTE_FILE, VOTE_MAGIC, &payload))
            .await
            .map_err(vote_error)?;
        self.vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        Ok(self.vote)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        // No fsync of its own: it rides on the next one. A lost committed id only means
        // re-learning it from the leader; it is never trusted past the records before it.
        let mut bytes = Vec::new();
        encode_record(&Record::Committed(committed), &mut bytes).map_err(log_write_error)?;
        let written = bytes.len() as u64;
        self.write_records(bytes, false)
            .await
            .map_err(log_write_error)?;
        let mut memory = write_memory(&self.memory);
        memory.committed = committed;
        memory.file_len += written;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(read_memory(&self.memory).committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let start = read_memory(&self.memory).file_len;
        let mut bytes = Vec::new();
        let mut stored = Vec::new();
        for entry in entries {
            let offset = start + bytes.len() as u64;
            encode_record(&Record::Entry(&entry), &mut bytes).map_err(log_write_error)?;
            stored.push(StoredEntry { entry, offset });
        }
        let written = bytes.len() as u64;
        match self.write_records(bytes, true).await {
            Ok(()) => {
                {
                    let mut memory = write_memory(&self.memory);
                    for entry in stored {
                        memory.entries.insert(entry.entry.log_id.index, entry);
                    }
                    memory.file_len += written;
                }
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(err) => {
                callback.log_io_completed(Err(io::Error::new(err.kind(), err.to_string())));
                Err(log_write_error(err))
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let cut = read_memory(&self.memory)
            .entries
            .get(&log_id.index)
            .map(|stored| stored.offset);
        let Some(cut) = cut else {
            return Ok(()); // nothing at or after that index
        };
        let file = Arc::clone(&self.file);
        Self::blocking(move || {
            let file = file.lock().unwrap_or_else(PoisonError::into_inner);
            file.set_len(cut)?;
            file.sync_data()
        })
        .await
        .map_err(log_write_error)?;
        let mut memory = write_memory(&self.memory);
        memory.entries.split_off(&log_id.index);
        memory.file_len = cut;
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        // Rewrite what stays into a new file with the purge point first, then swap it in.
        let (bytes, kept) = {
            let memory = read_memory(&self.memory);
            let mut bytes = Vec::new();
            encode_record(&Record::Purged(log_id), &mut bytes).map_err(log_write_error)?;
            encode_record(&Record::Committed(memory.committed), &mut bytes)
                .map_err(log_write_error)?;
            let mut kept = BTreeMap::new();
            for (index, stored) in memory.entries.range(log_id.index + 1..) {
                let offset = bytes.len() as u64;
                encode_record(&Record::Entry(&stored.entry), &mut bytes)
                    .map_err(log_write_error)?;
                kept.insert(
                    *index,
                    StoredEntry {
                        entry: stored.entry.clone(),
                        offset,
                    },
                );
            }
            (bytes, kept)
        };
        let file_len = bytes.len() as u64;
        let dir = self.dir.clone();
        let file = Arc::clone(&self.file);
        Self::blocking(move || {
            let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
            durable_file::replace(&dir, LOG_FILE, &bytes)?;
            *file = OpenOptions::new()
                .append(true)
                .read(true)
                .open(dir.join(LOG_FILE))?;
            Ok(())
        })
        .await
        .map_err(log_write_error)?;
        let mut memory = write_memory(&self.memory);
        memory.entries = kept;
        memory.last_purged = Some(log_id);
        memory.file_len = file_len;
        Ok(())
    }
}
