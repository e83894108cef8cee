//! Walking the batches of a segment file, for reads, recovery and timestamp lookups.
//!
//! The file is read in windows of [`SCAN_WINDOW_BYTES`] (or one whole batch, if larger and
//! the caller validates), so scanning many small batches costs few reads, and a large
//! batch is never read just to skip it when only headers are wanted.

use std::ops::ControlFlow;

use bytes::Bytes;
use petrel_protocol::records::{
    parse_batch_header, validate_stored_batch, BatchHeader, RecordError, BATCH_HEADER_BYTES,
};

use crate::error::{Result, StorageError};
use crate::io::{Disk, LogFile};

/// Bytes read at a time while scanning.
pub const SCAN_WINDOW_BYTES: usize = 256 * 1024;

/// A batch found by a scan: where it starts, its header, and (when validating) its bytes.
#[derive(Debug)]
pub struct ScannedBatch {
    pub position: u64,
    pub header: BatchHeader,
    pub total_bytes: u64,
    /// The whole batch, present only for validating scans.
    pub bytes: Option<Bytes>,
}

/// Why a scan stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEnd {
    /// Reached `end` exactly at a batch boundary.
    Complete,
    /// The visitor asked to stop.
    Stopped,
    /// A batch starting at `position` runs past `end`: a torn write.
    Torn { position: u64 },
    /// The batch at `position` is not valid.
    Corrupt { position: u64, error: RecordError },
}

/// Visits every batch of `file` between `start` and `end` (file positions). With
/// `validate`, each batch's CRC and structure are checked and its bytes handed over. Stored
/// batches are checked by `validate_stored_batch`, which accepts the offset gaps compaction
/// leaves (`validate_batch`'s strict rules are for produced batches only).
pub async fn scan(
    disk: &Disk,
    file: &LogFile,
    start: u64,
    end: u64,
    validate: bool,
    mut visit: impl FnMut(ScannedBatch) -> ControlFlow<()>,
) -> Result<ScanEnd> {
    let mut window = Window {
        start,
        bytes: Bytes::new(),
    };
    let mut position = start;
    while position < end {
        let remaining = end - position;
        if remaining < BATCH_HEADER_BYTES as u64 {
            return Ok(ScanEnd::Torn { position });
        }
        window
            .ensure(disk, file, position, BATCH_HEADER_BYTES, end)
            .await?;
        let header = match parse_batch_header(window.at(position)) {
            Ok(header) => header,
            Err(error) => return Ok(ScanEnd::Corrupt { position, error }),
        };
        let total_bytes = header.total_bytes() as u64;
        if total_bytes > remaining {
            return Ok(ScanEnd::Torn { position });
        }
        let bytes = if validate {
            window
                .ensure(disk, file, position, total_bytes as usize, end)
                .await?;
            let batch = window.slice(position, total_bytes as usize);
            if let Err(error) = validate_stored_batch(&batch) {
                return Ok(ScanEnd::Corrupt { position, error });
            }
            Some(batch)
        } else {
            None
        };
        if visit(ScannedBatch {
            position,
            header,
            total_bytes,
            bytes,
        })
        .is_break()
        {
            return Ok(ScanEnd::Stopped);
        }
        position += total_bytes;
    }
    Ok(ScanEnd::Complete)
}

/// The bytes of the file currently in memory.
struct Window {
    start: u64,
    bytes: Bytes,
}

impl Window {
    /// Makes sure `[position, position + len)` is in the window, reading from `position`.
    async fn ensure(
        &mut self,
        disk: &Disk,
        file: &LogFile,
        position: u64,
        len: usize,
        end: u64,
    ) -> Result<()> {
        let window_end = self.start + self.bytes.len() as u64;
        if position >= self.start && position + len as u64 <= window_end {
            return Ok(());
        }
        let want = len.max(SCAN_WINDOW_BYTES).min((end - position) as usize);
        let bytes = disk
            .read_at(file, position, want)
            .await
            .map_err(|e| StorageError::io(file.path(), e))?;
        if bytes.len() < len {
            return Err(StorageError::Corrupt {
                path: file.path().display().to_string(),
                reason: format!(
                    "file ends at {} within a batch at {position}",
                    position + bytes.len() as u64
                ),
            });
        }
        self.start = position;
        self.bytes = bytes;
        Ok(())
    }

    fn at(&self, position: u64) -> &[u8] {
        self.bytes
            .get((position - self.start) as usize..)
            .unwrap_or_default()
    }

    fn slice(&self, position: u64, len: usize) -> Bytes {
        let from = (position - self.start) as usize;
        self.bytes.slice(from..from + len)
    }
}
