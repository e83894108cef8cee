//! The single table of supported APIs and versions.
//!
//! [`SUPPORTED_APIS`] is the only place a version range is written down: the request
//! decoder ([`crate::request`]) refuses anything outside it, and the broker's ApiVersions
//! response and the README's table are generated from it. An entry is added only when its
//! decoder, handler and tests exist end to end.

use kafka_protocol::messages::ApiKey;

/// One API the broker implements, and the versions it implements it for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiSupport {
    pub key: ApiKey,
    /// Lowest version served (requests below it are refused like any unsupported version).
    pub min_version: i16,
    pub max_version: i16,
    /// Lowest version listed in ApiVersions; below `min_version` only where a client needs
    /// it listed (see [`SUPPORTED_APIS`]).
    pub advertised_min_version: i16,
}

impl ApiSupport {
    pub fn supports(&self, version: i16) -> bool {
        (self.min_version..=self.max_version).contains(&version)
    }
}

const fn api(key: ApiKey, min_version: i16, max_version: i16) -> ApiSupport {
    ApiSupport {
        key,
        min_version,
        max_version,
        advertised_min_version: min_version,
    }
}

/// Every (API, version range) Petrel serves. Keep sorted by API key.
///
/// Produce is listed from v0 but served from v3, as Apache Kafka 4.x does (KAFKA-18659):
/// librdkafka derives its "message format v1/v2" features from Produce v2/v3 being listed
/// from v0 and, without them, refuses to produce at all (seen with librdkafka 2.0.2).
pub const SUPPORTED_APIS: &[ApiSupport] = &[
    ApiSupport {
        advertised_min_version: 0,
        ..api(ApiKey::Produce, 3, 13)
    },
    api(ApiKey::Fetch, 4, 18),
    api(ApiKey::ListOffsets, 1, 10),
    api(ApiKey::Metadata, 0, 13),
    // OffsetCommit/OffsetFetch v10 address topics by id, which kafka-protocol 0.18 cannot
    // encode yet.
    api(ApiKey::OffsetCommit, 2, 9),
    api(ApiKey::OffsetFetch, 1, 9),
    api(ApiKey::FindCoordinator, 0, 6),
    api(ApiKey::JoinGroup, 0, 9),
    api(ApiKey::Heartbeat, 0, 4),
    api(ApiKey::LeaveGroup, 0, 5),
    api(ApiKey::SyncGroup, 0, 5),
    api(ApiKey::DescribeGroups, 0, 6),
    api(ApiKey::ListGroups, 0, 5),
    api(ApiKey::ApiVersions, 0, 4),
    api(ApiKey::CreateTopics, 2, 7),
    api(ApiKey::DeleteTopics, 1, 6),
    api(ApiKey::DeleteRecords, 0, 2),
    api(ApiKey::InitProducerId, 0, 5),
    api(ApiKey::DescribeConfigs, 1, 4),
    api(ApiKey::AlterConfigs, 0, 2),
    api(ApiKey::DescribeLogDirs, 1, 4),
    api(ApiKey::CreatePartitions, 0, 3),
    api(ApiKey::DeleteGroups, 0, 2),
    api(ApiKey::IncrementalAlterConfigs, 0, 1),
    api(ApiKey::OffsetDelete, 0, 0),
    api(ApiKey::DescribeQuorum, 0, 2),
    api(ApiKey::DescribeCluster, 0, 2),
];

/// The supported range of an API, if it is supported at all.
pub fn support_for(key: ApiKey) -> Option<&'static ApiSupport> {
    SUPPORTED_APIS.iter().find(|api| api.key == key)
}

/// The version range of ApiVersions itself, needed for the KIP-511 error response.
pub fn api_versions_support() -> ApiSupport {
    support_for(ApiKey::ApiVersions)
        .copied()
        .unwrap_or(api(ApiKey::ApiVersions, 0, 0))
}

/// A Markdown table of [`SUPPORTED_APIS`], for the README (a test checks they agree).
pub fn markdown_table() -> String {
    let mut out = String::from("| API | Key | Versions |\n|---|---|---|\n");
    for api in SUPPORTED_APIS {
        let versions = if api.advertised_min_version < api.min_version {
            format!(
                "{}-{} (listed from {}; {}-{} refused, as in Kafka 4.x)",
                api.min_version,
                api.max_version,
                api.advertised_min_version,
                api.advertised_min_version,
                api.min_version - 1
            )
        } else {
            format!("{}-{}", api.min_version, api.max_version)
        };
        out.push_str(&format!(
            "| {:?} | {} | {versions} |\n",
            api.key, api.key as i16
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_within_the_crate_schemas() {
        let keys: Vec<i16> = SUPPORTED_APIS.iter().map(|a| a.key as i16).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            keys, sorted,
            "SUPPORTED_APIS must be sorted by key without duplicates"
        );
        for api in SUPPORTED_APIS {
            let schema = api.key.valid_versions();
            assert!(api.min_version <= api.max_version, "{api:?}");
            assert!(
                api.min_version >= schema.min && api.max_version <= schema.max,
                "{api:?}"
            );
        }
    }
}
