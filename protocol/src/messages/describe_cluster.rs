//! DescribeClusterRequest (key 60), versions 0-2. Flexible in every version. No tagged
//! fields are declared.
//!
//! ```text
//! include_cluster_authorized_operations BOOLEAN
//! endpoint_type INT8                   v1+  (1 = brokers before; 2 = controllers)
//! include_fenced_brokers BOOLEAN       v2+  (false before)
//! TAG_BUFFER
//! ```

use kafka_protocol::messages::DescribeClusterRequest;

use super::DecodeBody;
use crate::primitives::{boolean, int8, tagged_fields, PResult};

impl DecodeBody for DescribeClusterRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        // The default carries endpoint_type = 1 (brokers), which v0 implies.
        let mut request = DescribeClusterRequest::default();
        let (mut input, include_cluster_authorized_operations) = boolean(input)?;
        request.include_cluster_authorized_operations = include_cluster_authorized_operations;
        if version >= 1 {
            let (rest, endpoint_type) = int8(input)?;
            request.endpoint_type = endpoint_type;
            input = rest;
        }
        if version >= 2 {
            let (rest, include_fenced_brokers) = boolean(input)?;
            request.include_fenced_brokers = include_fenced_brokers;
            input = rest;
        }
        let (input, unknown) = tagged_fields(input)?;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
