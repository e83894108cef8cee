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
    pub min_version: i16,
    pub max_version: i16,
}

impl ApiSupport {
    pub fn supports(&self, version: i16) -> bool {
        (self.min_version..=self.max_version).contains(&version)
    }
}

/// Every (API, version range) Petrel serves. Keep sorted by API key.
pub const SUPPORTED_APIS: &[ApiSupport] = &[
    ApiSupport {
        key: ApiKey::Metadata,
        min_version: 0,
        max_version: 13,
    },
    ApiSupport {
        key: ApiKey::ApiVersions,
        min_version: 0,
        max_version: 4,
    },
];

/// The supported range of an API, if it is supported at all.
pub fn support_for(key: ApiKey) -> Option<&'static ApiSupport> {
    SUPPORTED_APIS.iter().find(|api| api.key == key)
}

/// The version range of ApiVersions itself, needed for the KIP-511 error response.
pub fn api_versions_support() -> ApiSupport {
    support_for(ApiKey::ApiVersions)
        .copied()
        .unwrap_or(ApiSupport {
            key: ApiKey::ApiVersions,
            min_version: 0,
            max_version: 0,
        })
}

/// A Markdown table of [`SUPPORTED_APIS`], for the README (a test checks they agree).
pub fn markdown_table() -> String {
    let mut out = String::from("| API | Key | Versions |\n|---|---|---|\n");
    for api in SUPPORTED_APIS {
        out.push_str(&format!(
            "| {:?} | {} | {}-{} |\n",
            api.key, api.key as i16, api.min_version, api.max_version
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
