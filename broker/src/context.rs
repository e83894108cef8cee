//! What every handler may read about this node: its identity, the address it advertises
//! and its limits. Shared by all connections behind an `Arc`; immutable after start-up.

use crate::config::Config;

/// Host and port as given to clients in Metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: i32,
}

/// Read-only node state shared by the server and the handlers.
#[derive(Debug, Clone)]
pub struct BrokerContext {
    pub node_id: i32,
    pub cluster_id: String,
    /// Where clients should connect (from `advertised_listen`, else the bound address).
    pub advertised: Endpoint,
    pub config: Config,
    /// The storage I/O backend of the data directory (partitions use it once topics exist).
    pub disk: petrel_storage::io::Disk,
}
