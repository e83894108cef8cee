//! Helpers shared by the integration tests.

use petrel_raft::image::{ControllerCommand, Op};

/// A command registering broker `id`, decided in controller epoch `epoch`.
pub fn register(epoch: u64, id: i32) -> ControllerCommand {
    ControllerCommand {
        epoch,
        op: Op::RegisterBroker {
            id,
            endpoint: format!("broker-{id}:9092"),
            rack: None,
        },
    }
}
