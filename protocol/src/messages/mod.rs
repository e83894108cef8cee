//! Request body decoders, one module per API, each producing `kafka-protocol`'s struct.
//!
//! Every decoder implements [`DecodeBody`]. A decoder follows its JSON schema field by field,
//! with the version conditions written out, using the combinators of
//! [`crate::primitives`]. To add an API: write its module here, add a variant to
//! [`crate::request::Request`], add its range to [`crate::api::SUPPORTED_APIS`], and add it
//! to the differential tests.

pub mod alter_configs;
pub mod api_versions;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_groups;
pub mod delete_records;
pub mod delete_topics;
pub mod describe_cluster;
pub mod describe_configs;
pub mod describe_groups;
pub mod describe_log_dirs;
pub mod describe_quorum;
pub mod fetch;
pub mod find_coordinator;
pub mod heartbeat;
pub mod incremental_alter_configs;
pub mod init_producer_id;
pub mod join_group;
pub mod leave_group;
pub mod list_groups;
pub mod list_offsets;
pub mod metadata;
pub mod offset_commit;
pub mod offset_delete;
pub mod offset_fetch;
pub mod produce;
pub mod sync_group;

use crate::primitives::PResult;

/// A request body decodable at a given API version.
pub trait DecodeBody: Sized {
    /// Decodes the body of `version` from `input`, returning the rest.
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self>;
}
