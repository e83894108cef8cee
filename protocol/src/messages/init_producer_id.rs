//! InitProducerIdRequest (key 22), versions 0-6. Flexible from v2.
//!
//! ```text
//! transactional_id NULLABLE_STRING     (null = idempotent-only producer)
//! transaction_timeout_ms INT32
//! producer_id INT64                    v3+ (-1 before)
//! producer_epoch INT16                 v3+ (-1 before)
//! enable_2_pc BOOLEAN                  v6+ (false before; KIP-939)
//! keep_prepared_txn BOOLEAN            v6+ (false before; KIP-939)
//! TAG_BUFFER                           v2+
//! ```
//!
//! kafka-protocol 0.18 encodes this request only up to v5 (its struct lists the v6 fields
//! with no versions), so v6 is decoded from Kafka's schema and tested by hand.

use std::collections::BTreeMap;

use kafka_protocol::messages::{InitProducerIdRequest, ProducerId, TransactionalId};

use super::DecodeBody;
use crate::primitives::when;
use crate::primitives::{boolean, int16, int32, int64, nullable_string, tagged_fields, PResult};

const FLEXIBLE_FROM: i16 = 2;

impl DecodeBody for InitProducerIdRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let (input, transactional_id) = nullable_string(flexible)(input)?;
        let (input, transaction_timeout_ms) = int32(input)?;
        let (input, producer_id) = when(version >= 3, -1, input, int64)?;
        let (input, producer_epoch) = when(version >= 3, -1, input, int16)?;
        let (input, enable_2_pc) = when(version >= 6, false, input, boolean)?;
        let (input, keep_prepared_txn) = when(version >= 6, false, input, boolean)?;
        let (input, unknown) = when(flexible, BTreeMap::new(), input, tagged_fields)?;
        let mut request = InitProducerIdRequest::default();
        request.transactional_id = transactional_id.map(TransactionalId);
        request.transaction_timeout_ms = transaction_timeout_ms;
        request.producer_id = ProducerId(producer_id);
        request.producer_epoch = producer_epoch;
        request.enable_2_pc = enable_2_pc;
        request.keep_prepared_txn = keep_prepared_txn;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
