//! Member id generation: `<client.id or group.instance.id>-<uuid-like>` as Kafka does.
//!
//! Seeded instead of random so that tests are deterministic; the broker seeds it once from a
//! random source at start-up.

/// Produces member ids from a seed; the sequence is a pure function of the seed.
#[derive(Debug, Clone)]
pub struct MemberIdGenerator {
    state: u64,
}

impl MemberIdGenerator {
    pub fn new(seed: u64) -> Self {
        MemberIdGenerator { state: seed }
    }

    /// `prefix-xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`, shaped like a version-4 UUID so that
    /// tools parsing Kafka's member ids see the familiar form.
    pub fn next_id(&mut self, prefix: &str) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        // Version nibble 4 and RFC 4122 variant bits, as in a random UUID.
        let hi = (hi & !0xF000) | 0x4000;
        let lo = (lo & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
        format!(
            "{prefix}-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xFFFF,
            hi & 0xFFFF,
            lo >> 48,
            lo & 0xFFFF_FFFF_FFFF
        )
    }

    /// SplitMix64: a bijection of the counter, so ids never repeat within one sequence.
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
