//! openraft's storage test suite (`openraft::testing::Suite`): the contract every log store
//! and state machine must meet (log state, membership, vote, truncate/purge, apply,
//! snapshots), run against fresh stores in a temporary directory.

use openraft::testing::{StoreBuilder, Suite};
use petrel_raft::log_store::LogStore;
use petrel_raft::state_machine::StateMachineStore;
use petrel_raft::types::{StorageError, TypeConfig};
use tempfile::TempDir;

struct FreshStores;

impl StoreBuilder<TypeConfig, LogStore, StateMachineStore, TempDir> for FreshStores {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachineStore), StorageError> {
        let dir = TempDir::new().unwrap();
        let log = LogStore::open(&dir.path().join("log")).unwrap();
        let machine = StateMachineStore::open(&dir.path().join("machine")).unwrap();
        Ok((dir, log, machine))
    }
}

/// A plain test, not a tokio one: the suite makes a runtime per case.
#[test]
fn openraft_storage_suite_passes() {
    if let Err(err) = Suite::test_all(FreshStores) {
        panic!("openraft's storage suite failed: {err}");
    }
}
