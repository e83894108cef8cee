//! Reads the topic list out of a consumer-protocol subscription (the JoinGroup metadata of
//! protocol type "consumer"), for OffsetDelete and offset expiry.
//!
//! Only the version-0 layout is read, because every later version extends it at the end:
//! `version: int16, topics: [string], user_data: nullable bytes`. Anything that does not parse
//! yields `None` ("unknown"), never a panic: the bytes come straight from clients.

/// The topics of a consumer-protocol subscription, or `None` if the bytes do not parse.
pub fn subscribed_topics(metadata: &[u8]) -> Option<Vec<String>> {
    let mut reader = Reader { rest: metadata };
    // Any version: v0 is a prefix of all of them.
    reader.i16()?;
    let count = usize::try_from(reader.i32()?).ok()?;
    // Each topic takes at least its 2-byte length: reject absurd counts before allocating.
    if count > reader.rest.len() / 2 {
        return None;
    }
    let mut topics = Vec::with_capacity(count);
    for _ in 0..count {
        let len = usize::try_from(reader.i16()?).ok()?;
        let raw = reader.take(len)?;
        topics.push(String::from_utf8(raw.to_vec()).ok()?);
    }
    // user_data must be present and complete for the subscription to be well formed (-1 is
    // null); later versions' fields may follow and are ignored.
    if let Ok(len) = usize::try_from(reader.i32()?) {
        reader.take(len)?;
    }
    Some(topics)
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let head = self.rest.get(..n)?;
        self.rest = self.rest.get(n..)?;
        Some(head)
    }

    fn i16(&mut self) -> Option<i16> {
        let raw = self.take(2)?;
        Some(i16::from_be_bytes(raw.try_into().ok()?))
    }

    fn i32(&mut self) -> Option<i32> {
        let raw = self.take(4)?;
        Some(i32::from_be_bytes(raw.try_into().ok()?))
    }
}
