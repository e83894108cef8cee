//! The sparse offset index (`.index`): entries of (relative offset: u32, position: u32),
//! big-endian, 8 bytes each, appended after every `index.interval.bytes` of log.
//!
//! As in Kafka, an entry names the *last* offset of a batch and the file position where
//! that batch *starts*: looking up a target offset gives the largest entry at or below it,
//! and scanning batches forward from its position finds the batch holding the target.

/// Bytes per entry on disk.
pub const OFFSET_ENTRY_BYTES: usize = 8;

/// One index entry, with the offset made absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetEntry {
    pub offset: i64,
    pub position: u32,
}

/// The entries of one segment's offset index, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetIndex {
    base_offset: i64,
    entries: Vec<OffsetEntry>,
}

impl OffsetIndex {
    pub fn new(base_offset: i64) -> OffsetIndex {
        OffsetIndex {
            base_offset,
            entries: Vec::new(),
        }
    }

    /// Decodes an index file, keeping the longest valid prefix: entries must increase in
    /// offset and position and point inside a log of `log_bytes`. Returns the index and
    /// whether the whole file was valid (false means it should be rewritten). Kafka
    /// preallocates index files with zeros; a zero entry after the first ends the data.
    pub fn decode(base_offset: i64, bytes: &[u8], log_bytes: u64) -> (OffsetIndex, bool) {
        let mut index = OffsetIndex::new(base_offset);
        let mut valid = bytes.len().is_multiple_of(OFFSET_ENTRY_BYTES);
        for chunk in bytes.chunks_exact(OFFSET_ENTRY_BYTES) {
            let (rel, pos) = chunk.split_at(4);
            let relative = u32::from_be_bytes(rel.try_into().unwrap_or_default());
            let position = u32::from_be_bytes(pos.try_into().unwrap_or_default());
            let entry = OffsetEntry {
                offset: base_offset + i64::from(relative),
                position,
            };
            let is_padding = relative == 0 && position == 0 && !index.entries.is_empty();
            if is_padding || u64::from(position) >= log_bytes || !index.accepts(entry) {
                valid = valid && is_padding && chunk_rest_is_zero(bytes, chunk);
                break;
            }
            index.entries.push(entry);
        }
        (index, valid)
    }

    /// Whether `entry` may follow the current last entry.
    fn accepts(&self, entry: OffsetEntry) -> bool {
        let relative_fits = entry.offset >= self.base_offset
            && entry.offset - self.base_offset <= i64::from(u32::MAX);
        relative_fits
            && self
                .entries
                .last()
                .is_none_or(|last| entry.offset > last.offset && entry.position > last.position)
    }

    /// Adds an entry; returns its file bytes, or None if it would break the ordering (the
    /// caller then simply skips indexing that batch: the index is sparse anyway).
    pub fn append(&mut self, offset: i64, position: u32) -> Option<[u8; OFFSET_ENTRY_BYTES]> {
        let entry = OffsetEntry { offset, position };
        if !self.accepts(entry) {
            return None;
        }
        self.entries.push(entry);
        Some(self.encode_entry(entry))
    }

    fn encode_entry(&self, entry: OffsetEntry) -> [u8; OFFSET_ENTRY_BYTES] {
        let relative = (entry.offset - self.base_offset) as u32;
        let mut bytes = [0u8; OFFSET_ENTRY_BYTES];
        bytes[..4].copy_from_slice(&relative.to_be_bytes());
        bytes[4..].copy_from_slice(&entry.position.to_be_bytes());
        bytes
    }

    /// The whole file's bytes.
    /// The file bytes from byte `position` on (the entries not yet written).
    pub fn encode_from(&self, position: u64) -> Vec<u8> {
        let first = (position / OFFSET_ENTRY_BYTES as u64) as usize;
        self.entries
            .get(first..)
            .unwrap_or_default()
            .iter()
            .flat_map(|e| self.encode_entry(*e))
            .collect()
    }

    pub fn encode(&self) -> Vec<u8> {
        self.entries
            .iter()
            .flat_map(|e| self.encode_entry(*e))
            .collect()
    }

    /// The largest entry at or below `offset`, or the segment start.
    pub fn lookup(&self, offset: i64) -> OffsetEntry {
        let after = self.entries.partition_point(|e| e.offset <= offset);
        match after.checked_sub(1).and_then(|i| self.entries.get(i)) {
            Some(entry) => *entry,
            None => OffsetEntry {
                offset: self.base_offset,
                position: 0,
            },
        }
    }

    /// Drops entries for offsets at or above `offset` (log truncation).
    pub fn truncate_to(&mut self, offset: i64) {
        let keep = self.entries.partition_point(|e| e.offset < offset);
        self.entries.truncate(keep);
    }

    /// Drops entries whose position is at or beyond `position` (torn-tail truncation).
    pub fn truncate_to_position(&mut self, position: u64) {
        let keep = self
            .entries
            .partition_point(|e| u64::from(e.position) < position);
        self.entries.truncate(keep);
    }

    pub fn last(&self) -> Option<OffsetEntry> {
        self.entries.last().copied()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn file_bytes(&self) -> u64 {
        (self.entries.len() * OFFSET_ENTRY_BYTES) as u64
    }
}

/// True if every byte from `chunk` to the end of `bytes` is zero (preallocated padding).
fn chunk_rest_is_zero(bytes: &[u8], chunk: &[u8]) -> bool {
    let start = chunk.as_ptr() as usize - bytes.as_ptr() as usize;
    bytes
        .get(start..)
        .is_some_and(|rest| rest.iter().all(|b| *b == 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn build(base: i64, steps: &[(u32, u32)]) -> OffsetIndex {
        let mut index = OffsetIndex::new(base);
        let (mut offset, mut position) = (base, 0u32);
        for (offset_step, position_step) in steps {
            offset += i64::from(*offset_step) + 1;
            position = position.saturating_add(*position_step + 1);
            index.append(offset, position);
        }
        index
    }

    proptest! {
        #[test]
        fn lookup_is_the_largest_entry_at_or_below(base in 0i64..1_000_000, steps in prop::collection::vec((0u32..1000, 0u32..100_000), 0..200), target in 0i64..2_000_000) {
            let index = build(base, &steps);
            let found = index.lookup(target);
            let expected = index.entries.iter().rev().find(|e| e.offset <= target).copied()
                .unwrap_or(OffsetEntry { offset: base, position: 0 });
            prop_assert_eq!(found, expected);
        }

        #[test]
        fn encode_decode_round_trips(base in 0i64..1_000_000, steps in prop::collection::vec((0u32..1000, 0u32..100_000), 0..200)) {
            let index = build(base, &steps);
            let (decoded, valid) = OffsetIndex::decode(base, &index.encode(), u64::MAX);
            prop_assert!(valid);
            prop_assert_eq!(decoded, index);
        }

        #[test]
        fn a_torn_or_garbled_file_keeps_a_valid_prefix(base in 0i64..1000, steps in prop::collection::vec((0u32..1000, 0u32..100_000), 1..50), cut in 0usize..400, garbage in any::<u8>()) {
            let index = build(base, &steps);
            let mut bytes = index.encode();
            let cut = cut.min(bytes.len());
            bytes.truncate(cut);
            bytes.push(garbage);
            let (decoded, _) = OffsetIndex::decode(base, &bytes, u64::MAX);
            // Whole untouched entries decode exactly; the garbage byte may complete one more
            // plausible entry, which no decoder can tell from a real one (recovery checks
            // that the last entry points at a valid batch).
            let intact = cut / OFFSET_ENTRY_BYTES;
            prop_assert!(decoded.len() <= intact + 1);
            let common = decoded.len().min(intact);
            prop_assert_eq!(&decoded.entries[..common], &index.entries[..common]);
        }
    }

    #[test]
    fn entries_pointing_past_the_log_are_dropped() {
        let index = build(0, &[(0, 10), (0, 10), (0, 10)]);
        let (decoded, valid) = OffsetIndex::decode(0, &index.encode(), 20);
        assert!(!valid);
        assert_eq!(decoded.len(), 1);
    }

    #[test]
    fn kafka_zero_padding_is_not_corruption() {
        let index = build(100, &[(0, 10), (5, 10)]);
        let mut bytes = index.encode();
        bytes.extend_from_slice(&[0u8; 64]);
        let (decoded, valid) = OffsetIndex::decode(100, &bytes, u64::MAX);
        assert!(valid);
        assert_eq!(decoded, index);
    }

    #[test]
    fn truncation_drops_entries_at_and_above() {
        let mut index = build(0, &[(0, 10), (0, 10), (0, 10)]);
        index.truncate_to(2);
        assert_eq!(index.len(), 1);
        assert_eq!(index.lookup(100).offset, 1);
    }
}
