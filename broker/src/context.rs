//! What every handler may use: the node's identity, the address it advertises, its limits,
//! and its topics and partitions. Shared by all connections behind an `Arc`; the fields
//! never change after start-up (topics change inside their own service).

use crate::config::Config;

/// Host and port as given to clients in Metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: i32,
}

/// Read-only node state shared by the server and the handlers.
#[derive(Debug)]
pub struct BrokerContext {
    pub node_id: i32,
    pub cluster_id: String,
    /// Where clients should connect (from `advertised_listen`, else the bound address).
    pub advertised: Endpoint,
    pub config: Config,
    /// Topics and the partitions hosted here.
    pub topics: crate::topics::Topics,
    /// Producer ids for InitProducerId.
    pub producer_ids: crate::producers::ProducerIdAllocator,
    /// Fetch sessions (KIP-227) of all connections.
    pub fetch_sessions: crate::fetch_sessions::FetchSessions,
    /// The group coordinator (every group, on a single node).
    pub groups: std::sync::Arc<crate::groups::GroupService>,
}
