//! The state machine: the metadata image, how far the log has been applied to it, the last
//! membership, and snapshots.
//!
//! Only the snapshot is on disk (`<dir>/snapshot`, [`crate::durable_file`]): the image is
//! rebuilt at start-up from the snapshot plus the committed log entries after it, which
//! openraft re-applies. A snapshot's data is the postcard encoding of the image; its
//! meta (last log id, membership) travels beside it, in the file and on the wire.
//!
//! Every change of the image is published on a watch channel ([`StateMachineStore::subscribe`])
//! for the broker's read path.

use std::io::{self, Cursor};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use openraft::storage::RaftStateMachine;
use openraft::{
    AnyError, EntryPayload, OptionalSend, RaftSnapshotBuilder, Snapshot, StorageIOError,
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::durable_file;
use crate::image::{CommandResult, MetadataImage};
use crate::types::{Entry, LogId, SnapshotMeta, StorageError, StoredMembership, TypeConfig};

const SNAPSHOT_FILE: &str = "snapshot";
const SNAPSHOT_MAGIC: [u8; 4] = *b"PSNP";

/// A snapshot as kept on disk and in memory.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSnapshot {
    meta: SnapshotMeta,
    /// The image, postcard-encoded.
    data: Vec<u8>,
}

#[derive(Debug, Default)]
struct MachineState {
    image: MetadataImage,
    last_applied: Option<LogId>,
    membership: StoredMembership,
    snapshot: Option<StoredSnapshot>,
    /// Makes snapshot ids unique among snapshots of the same log position.
    snapshots_built: u64,
}

/// The state machine of one node; clones share it (the snapshot builder is a clone).
#[derive(Debug, Clone)]
pub struct StateMachineStore {
    dir: PathBuf,
    state: Arc<RwLock<MachineState>>,
    published: Arc<watch::Sender<Arc<MetadataImage>>>,
}

fn snapshot_error(err: impl std::fmt::Display) -> StorageError {
    StorageIOError::write_snapshot(None, AnyError::error(err.to_string())).into()
}

impl StateMachineStore {
    /// Opens the state machine in `dir`, loading the last snapshot if there is one.
    pub fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut state = MachineState::default();
        if let Some(bytes) = durable_file::read(dir, SNAPSHOT_FILE, SNAPSHOT_MAGIC)? {
            let snapshot: StoredSnapshot = postcard::from_bytes(&bytes)
                .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err.to_string()))?;
            state.image = postcard::from_bytes(&snapshot.data)
                .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err.to_string()))?;
            state.last_applied = snapshot.meta.last_log_id;
            state.membership = snapshot.meta.last_membership.clone();
            state.snapshot = Some(snapshot);
        }
        let (published, _) = watch::channel(Arc::new(state.image.clone()));
        Ok(Self {
            dir: dir.to_path_buf(),
            state: Arc::new(RwLock::new(state)),
            published: Arc::new(published),
        })
    }

    /// The image as of now, and every later change.
    pub fn subscribe(&self) -> watch::Receiver<Arc<MetadataImage>> {
        self.published.subscribe()
    }

    fn state(&self) -> std::sync::RwLockWriteGuard<'_, MachineState> {
        // Updates are whole-field assignments; a panic elsewhere cannot leave one half done.
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    async fn persist(&self, snapshot: &StoredSnapshot) -> Result<(), StorageError> {
        let bytes = postcard::to_allocvec(snapshot).map_err(snapshot_error)?;
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            durable_file::write(&dir, SNAPSHOT_FILE, SNAPSHOT_MAGIC, &bytes)
        })
        .await
        .map_err(snapshot_error)?
        .map_err(snapshot_error)
    }

    fn publish(&self, image: MetadataImage) {
        self.published.send_replace(Arc::new(image));
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachineStore {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let snapshot = {
            let mut state = self.state();
            state.snapshots_built += 1;
            let data = postcard::to_allocvec(&state.image).map_err(snapshot_error)?;
            let position = state
                .last_applied
                .map(|id| format!("{}-{}", id.leader_id.term, id.index))
                .unwrap_or_else(|| "empty".into());
            StoredSnapshot {
                meta: SnapshotMeta {
                    last_log_id: state.last_applied,
                    last_membership: state.membership.clone(),
                    snapshot_id: format!("{position}-{}", state.snapshots_built),
                },
                data,
            }
        };
        self.persist(&snapshot).await?;
        self.state().snapshot = Some(snapshot.clone());
        Ok(Snapshot {
            meta: snapshot.meta,
            snapshot: Box::new(Cursor::new(snapshot.data)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    type SnapshotBuilder = Self;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let state = self.state();
        Ok((state.last_applied, state.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<CommandResult>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let (image, results) = {
            let mut state = self.state();
            let mut results = Vec::new();
            for entry in entries {
                let term = entry.log_id.leader_id.term;
                state.last_applied = Some(entry.log_id);
                state.image.applied_index = entry.log_id.index;
                let result = match entry.payload {
                    EntryPayload::Normal(command) => state.image.apply(term, &command),
                    EntryPayload::Blank => {
                        state.image.note_internal_entry(term);
                        CommandResult::RaftInternal
                    }
                    EntryPayload::Membership(membership) => {
                        state.image.note_internal_entry(term);
                        state.membership = StoredMembership::new(Some(entry.log_id), membership);
                        CommandResult::RaftInternal
                    }
                };
                results.push(result);
            }
            (state.image.clone(), results)
        };
        self.publish(image);
        Ok(results)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        let mut image: MetadataImage = postcard::from_bytes(&data).map_err(snapshot_error)?;
        image.applied_index = meta.last_log_id.map_or(0, |id| id.index);
        let stored = StoredSnapshot {
            meta: meta.clone(),
            data,
        };
        self.persist(&stored).await?;
        {
            let mut state = self.state();
            state.image = image.clone();
            state.last_applied = meta.last_log_id;
            state.membership = meta.last_membership.clone();
            state.snapshot = Some(stored);
        }
        self.publish(image);
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        Ok(self.state().snapshot.clone().map(|stored| Snapshot {
            meta: stored.meta,
            snapshot: Box::new(Cursor::new(stored.data)),
        }))
    }
}
