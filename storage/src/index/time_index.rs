//! The time index (`.timeindex`): entries of (timestamp: i64, relative offset: u32),
//! big-endian, 12 bytes each, appended alongside offset index entries whenever the
//! segment's largest timestamp so far has grown. Used to find the first offset whose
//! timestamp is at or after a target (ListOffsets by timestamp): the largest entry at or
//! below the target tells where to start scanning.

/// Bytes per entry on disk.
pub const TIME_ENTRY_BYTES: usize = 12;

/// One time index entry, with the offset made absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeEntry {
    pub timestamp_ms: i64,
    pub offset: i64,
}

/// The entries of one segment's time index, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeIndex {
    base_offset: i64,
    entries: Vec<TimeEntry>,
}

impl TimeIndex {
    pub fn new(base_offset: i64) -> TimeIndex {
        TimeIndex {
            base_offset,
            entries: Vec::new(),
        }
    }

    /// Decodes a time index file, keeping the longest valid prefix (timestamps and offsets
    /// strictly increasing, offsets below `next_offset`). Returns whether all of it was
    /// valid; zero padding (as Kafka preallocates) after the data counts as valid.
    pub fn decode(base_offset: i64, bytes: &[u8], next_offset: i64) -> (TimeIndex, bool) {
        let mut index = TimeIndex::new(base_offset);
        let mut valid = bytes.len().is_multiple_of(TIME_ENTRY_BYTES);
        for (n, chunk) in bytes.chunks_exact(TIME_ENTRY_BYTES).enumerate() {
            let (ts, rel) = chunk.split_at(8);
            let timestamp_ms = i64::from_be_bytes(ts.try_into().unwrap_or_default());
            let relative = u32::from_be_bytes(rel.try_into().unwrap_or_default());
            let entry = TimeEntry {
                timestamp_ms,
                offset: base_offset + i64::from(relative),
            };
            if entry.offset >= next_offset || !index.accepts(entry) {
                let rest_zero = bytes
                    .get(n * TIME_ENTRY_BYTES..)
                    .is_some_and(|r| r.iter().all(|b| *b == 0));
                valid = valid && rest_zero && !index.entries.is_empty();
                break;
            }
            index.entries.push(entry);
        }
        (index, valid)
    }

    fn accepts(&self, entry: TimeEntry) -> bool {
        entry.offset >= self.base_offset
            && entry.offset - self.base_offset <= i64::from(u32::MAX)
            && self.entries.last().is_none_or(|last| {
                entry.timestamp_ms > last.timestamp_ms && entry.offset > last.offset
            })
    }

    /// Adds an entry if it moves the index forward; returns its file bytes.
    pub fn maybe_append(
        &mut self,
        timestamp_ms: i64,
        offset: i64,
    ) -> Option<[u8; TIME_ENTRY_BYTES]> {
        let entry = TimeEntry {
            timestamp_ms,
            offset,
        };
        if !self.accepts(entry) {
            return None;
        }
        self.entries.push(entry);
        Some(self.encode_entry(entry))
    }

    fn encode_entry(&self, entry: TimeEntry) -> [u8; TIME_ENTRY_BYTES] {
        let mut bytes = [0u8; TIME_ENTRY_BYTES];
        bytes[..8].copy_from_slice(&entry.timestamp_ms.to_be_bytes());
        bytes[8..].copy_from_slice(&((entry.offset - self.base_offset) as u32).to_be_bytes());
        bytes
    }

    /// The file bytes from byte `position` on (the entries not yet written).
    pub fn encode_from(&self, position: u64) -> Vec<u8> {
        let first = (position / TIME_ENTRY_BYTES as u64) as usize;
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

    /// The offset to start scanning from for the first record at or after `timestamp_ms`:
    /// the largest entry with a timestamp at or below it, or the segment start.
    pub fn lookup(&self, timestamp_ms: i64) -> TimeEntry {
        let after = self
            .entries
            .partition_point(|e| e.timestamp_ms <= timestamp_ms);
        match after.checked_sub(1).and_then(|i| self.entries.get(i)) {
            Some(entry) => *entry,
            None => TimeEntry {
                timestamp_ms: -1,
                offset: self.base_offset,
            },
        }
    }

    /// Drops entries for offsets at or above `offset`.
    pub fn truncate_to(&mut self, offset: i64) {
        let keep = self.entries.partition_point(|e| e.offset < offset);
        self.entries.truncate(keep);
    }

    pub fn last(&self) -> Option<TimeEntry> {
        self.entries.last().copied()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn file_bytes(&self) -> u64 {
        (self.entries.len() * TIME_ENTRY_BYTES) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn lookup_is_the_largest_entry_at_or_below(base in 0i64..1000, points in prop::collection::vec((0i64..10_000, 1i64..100), 0..100), target in -10i64..2_000_000) {
            let mut index = TimeIndex::new(base);
            let (mut ts, mut offset) = (0i64, base);
            for (ts_step, offset_step) in points {
                ts += ts_step;
                offset += offset_step;
                index.maybe_append(ts, offset);
            }
            let found = index.lookup(target);
            let expected = index.entries.iter().rev().find(|e| e.timestamp_ms <= target).copied()
                .unwrap_or(TimeEntry { timestamp_ms: -1, offset: base });
            prop_assert_eq!(found, expected);
            let (decoded, valid) = TimeIndex::decode(base, &index.encode(), i64::MAX);
            prop_assert!(valid || index.is_empty());
            prop_assert_eq!(decoded, index);
        }
    }

    #[test]
    fn non_increasing_timestamps_are_not_indexed() {
        let mut index = TimeIndex::new(0);
        assert!(index.maybe_append(100, 5).is_some());
        assert!(index.maybe_append(100, 9).is_none());
        assert!(index.maybe_append(90, 12).is_none());
        assert!(index.maybe_append(101, 12).is_some());
        assert_eq!(index.len(), 2);
    }
}
