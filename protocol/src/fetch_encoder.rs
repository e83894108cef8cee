//! The Fetch response encoder that never copies record data: it yields a list of chunks,
//! `Bytes` for everything the encoder writes and the caller's own value (a file region)
//! for each partition's records, so record bytes can go from the segment file to the socket
//! with sendfile.
//!
//! Every field except the records is encoded by `kafka-protocol`. The records field is the
//! last non-tagged field of a partition, as the partitions array is of a topic and the
//! responses array is of the response, so each struct's encoding is
//! `[prefix][that field][tagged fields]`. Encoding a struct with that field empty, once as
//! it is and once with its tagged fields cleared, gives the exact prefix and suffix bytes;
//! the encoder then writes the field's length itself and splices in the payload. A
//! differential test decodes the result with `kafka-protocol`.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::fetch_response::{FetchResponse, FetchableTopicResponse};
use kafka_protocol::messages::{ApiKey, ResponseHeader};
use kafka_protocol::protocol::Encodable;

use crate::response::EncodeError;

/// One piece of an encoded response.
#[derive(Debug, Clone)]
pub enum Chunk<R> {
    Bytes(Bytes),
    /// The caller's records (e.g. a file region), `len` bytes long.
    Records {
        records: R,
        len: u64,
    },
}

impl<R> Chunk<R> {
    pub fn len(&self) -> u64 {
        match self {
            Chunk::Bytes(bytes) => bytes.len() as u64,
            Chunk::Records { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A partition's records in a response: none (null), none (empty, not null), or `len`
/// bytes the caller supplies.
#[derive(Debug, Clone)]
pub enum RecordsPayload<R> {
    Null,
    /// Zero bytes, encoded as a non-null length 0. What Kafka sends with a partition error
    /// (`MemoryRecords.EMPTY`): librdkafka fails to parse the whole Fetch response when an
    /// erroring partition's records are null.
    Empty,
    Records {
        records: R,
        len: u64,
    },
}

/// Encodes a whole Fetch response frame (length prefix, header, body) as chunks.
///
/// `response` carries every field but the records (its partitions' `records` are ignored);
/// `payloads[t][p]` gives the records of `response.responses[t].partitions[p]`.
pub fn encode_fetch_response<R>(
    version: i16,
    correlation_id: i32,
    response: &FetchResponse,
    mut payloads: Vec<Vec<RecordsPayload<R>>>,
) -> Result<Vec<Chunk<R>>, EncodeError> {
    let err = |reason: String| EncodeError {
        api_key: ApiKey::Fetch,
        version,
        reason,
    };
    let flexible = version >= 12;
    let mut out = Chunks::default();
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    header
        .encode(&mut out.buf, ApiKey::Fetch.response_header_version(version))
        .map_err(|e| err(e.to_string()))?;

    let top_empty = response.clone().with_responses(Vec::new());
    let top_cleared = top_empty
        .clone()
        .with_node_endpoints(Vec::new())
        .with_unknown_tagged_fields(Default::default());
    let (top_prefix, top_suffix) =
        split(&top_empty, &top_cleared, version, flexible).map_err(err)?;
    out.buf.put_slice(&top_prefix);
    put_len(&mut out.buf, flexible, response.responses.len() as u64);
    if payloads.len() != response.responses.len() {
        return Err(err("payloads do not match topics".into()));
    }
    for (topic, topic_payloads) in response.responses.iter().zip(payloads.drain(..)) {
        encode_topic(&mut out, topic, topic_payloads, version, flexible).map_err(err)?;
    }
    out.buf.put_slice(&top_suffix);
    out.finish()
}

fn encode_topic<R>(
    out: &mut Chunks<R>,
    topic: &FetchableTopicResponse,
    payloads: Vec<RecordsPayload<R>>,
    version: i16,
    flexible: bool,
) -> Result<(), String> {
    let empty = topic.clone().with_partitions(Vec::new());
    let cleared = empty.clone().with_unknown_tagged_fields(Default::default());
    let (prefix, suffix) = split(&empty, &cleared, version, flexible)?;
    out.buf.put_slice(&prefix);
    put_len(&mut out.buf, flexible, topic.partitions.len() as u64);
    if payloads.len() != topic.partitions.len() {
        return Err("payloads do not match partitions".into());
    }
    for (partition, payload) in topic.partitions.iter().zip(payloads) {
        // The struct's own `records` is ignored: the payload supplies them.
        let partition = partition.clone().with_records(None);
        let cleared = partition
            .clone()
            .with_diverging_epoch(Default::default())
            .with_current_leader(Default::default())
            .with_snapshot_id(Default::default())
            .with_unknown_tagged_fields(Default::default());
        let (prefix, suffix) = split(&partition, &cleared, version, flexible)?;
        out.buf.put_slice(&prefix);
        match payload {
            RecordsPayload::Null => put_nullable_len(&mut out.buf, flexible, None),
            RecordsPayload::Empty => put_nullable_len(&mut out.buf, flexible, Some(0)),
            RecordsPayload::Records { records, len } => {
                put_nullable_len(&mut out.buf, flexible, Some(len));
                out.push_records(records, len);
            }
        }
        out.buf.put_slice(&suffix);
    }
    out.buf.put_slice(&suffix);
    Ok(())
}

/// Splits the encoding of a struct whose last non-tagged field is empty (an empty array
/// or null records) into the bytes before that field and the bytes after it (the tagged
/// fields), using a copy whose tagged fields are cleared to locate the field.
fn split<T: Encodable>(
    value: &T,
    cleared: &T,
    version: i16,
    flexible: bool,
) -> Result<(Bytes, Bytes), String> {
    let full = encode(value, version)?;
    let without_tags = encode(cleared, version)?;
    // The emptied field's own encoding: 1 byte compact (varint 0 or 1), 4 bytes legacy.
    let field_bytes = if flexible { 1 } else { 4 };
    let empty_tag_section = usize::from(flexible);
    let prefix_len = without_tags
        .len()
        .checked_sub(field_bytes + empty_tag_section)
        .ok_or("struct shorter than its last field")?;
    let suffix_start = prefix_len + field_bytes;
    let prefix = full.slice(..prefix_len.min(full.len()));
    let suffix = full.slice(suffix_start.min(full.len())..);
    Ok((prefix, suffix))
}

fn encode<T: Encodable>(value: &T, version: i16) -> Result<Bytes, String> {
    let mut buf = BytesMut::new();
    value.encode(&mut buf, version).map_err(|e| e.to_string())?;
    Ok(buf.freeze())
}

/// An array length: compact (count + 1, as a varint) or INT32.
fn put_len(buf: &mut BytesMut, flexible: bool, count: u64) {
    if flexible {
        put_uvarint(buf, count + 1);
    } else {
        buf.put_i32(count as i32);
    }
}

/// A nullable bytes length (COMPACT_RECORDS / RECORDS).
fn put_nullable_len(buf: &mut BytesMut, flexible: bool, len: Option<u64>) {
    match (flexible, len) {
        (true, None) => put_uvarint(buf, 0),
        (true, Some(len)) => put_uvarint(buf, len + 1),
        (false, None) => buf.put_i32(-1),
        (false, Some(len)) => buf.put_i32(len as i32),
    }
}

fn put_uvarint(buf: &mut BytesMut, mut value: u64) {
    while value >= 0x80 {
        buf.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

/// Accumulates chunks; the first 4 bytes of the first chunk become the frame length.
struct Chunks<R> {
    chunks: Vec<Chunk<R>>,
    buf: BytesMut,
}

impl<R> Default for Chunks<R> {
    fn default() -> Self {
        let mut buf = BytesMut::with_capacity(256);
        buf.put_i32(0); // frame length, patched in finish()
        Chunks {
            chunks: Vec::new(),
            buf,
        }
    }
}

impl<R> Chunks<R> {
    fn push_records(&mut self, records: R, len: u64) {
        if !self.buf.is_empty() {
            self.chunks.push(Chunk::Bytes(self.buf.split().freeze()));
        }
        self.chunks.push(Chunk::Records { records, len });
    }

    fn finish(mut self) -> Result<Vec<Chunk<R>>, EncodeError> {
        if !self.buf.is_empty() {
            self.chunks.push(Chunk::Bytes(self.buf.split().freeze()));
        }
        let total: u64 = self.chunks.iter().map(Chunk::len).sum();
        let frame_len = i32::try_from(total - 4).map_err(|_| EncodeError {
            api_key: ApiKey::Fetch,
            version: -1,
            reason: "response over 2 GiB".into(),
        })?;
        if let Some(Chunk::Bytes(first)) = self.chunks.first_mut() {
            let mut patched = BytesMut::from(&first[..]);
            if let Some(prefix) = patched.get_mut(..4) {
                prefix.copy_from_slice(&frame_len.to_be_bytes());
            }
            *first = patched.freeze();
        }
        Ok(self.chunks)
    }
}
