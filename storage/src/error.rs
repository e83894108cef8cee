//! Storage errors. Callers map them to Kafka error codes at the handler edge
//! (`OFFSET_OUT_OF_RANGE`, `CORRUPT_MESSAGE`, `KAFKA_STORAGE_ERROR`, ...).

use petrel_protocol::records::RecordError;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The disk refused: the partition's data directory is unusable.
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A batch handed to append, or found on disk, is not a valid v2 batch.
    #[error("invalid record batch: {0}")]
    InvalidBatch(#[from] RecordError),
    /// A read or truncation outside [log start offset, log end offset].
    #[error("offset {offset} is outside the log [{log_start_offset}, {log_end_offset}]")]
    OffsetOutOfRange {
        offset: i64,
        log_start_offset: i64,
        log_end_offset: i64,
    },
    /// A file on disk is not what its name says (bad name, impossible layout).
    #[error("corrupt log file {path}: {reason}")]
    Corrupt { path: String, reason: String },
    /// An append with nothing in it, or a count that does not fit the offset space.
    #[error("invalid append: {0}")]
    InvalidAppend(String),
}

impl StorageError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> StorageError {
        StorageError::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, StorageError>;
