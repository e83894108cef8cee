//! FindCoordinatorRequest (key 10), versions 0-6. Flexible from v3. No tagged fields are
//! declared.
//!
//! ```text
//! key STRING                             v0-3 ("" after)
//! key_type INT8                          v1+ (0 = group before)
//! coordinator_keys [STRING]              v4+ (KIP-699 batching; empty before)
//! TAG_BUFFER                             v3+
//! ```
//!
//! v3 is the one version with a compact `key`: flexible, but not yet batched.

use kafka_protocol::messages::FindCoordinatorRequest;

use super::DecodeBody;
use crate::primitives::{array, int8, string, tag_buffer, when, PResult};

const FLEXIBLE_FROM: i16 = 3;

impl DecodeBody for FindCoordinatorRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = FindCoordinatorRequest::default();
        let (input, key) = when(version <= 3, Default::default(), input, string(flexible))?;
        let (input, key_type) = when(version >= 1, 0, input, int8)?;
        // Only ever compact (v4+ is flexible); an empty compact string is one byte.
        let (input, coordinator_keys) = when(version >= 4, Vec::new(), input, |i| {
            array(true, 1, string(true))(i)
        })?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        request.key = key;
        request.key_type = key_type;
        request.coordinator_keys = coordinator_keys;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
