//! Decompression of a batch's records section, for the few broker features that must look
//! inside compressed batches (ListOffsets by timestamp, MAX_TIMESTAMP), the way Kafka's
//! `DefaultRecordBatch` iterates the records of a compressed batch.
//!
//! Only bytes 61.. of a batch are compressed: the header stays readable, so the hot paths
//! (produce, fetch, recovery) never call this.
//!
//! Every codec is a maintained pure-Rust crate, so the build needs no C toolchain (the C
//! bindings `zstd`/`lz4` would pull `cc` builds of libzstd/liblz4 into every build and CI
//! run):
//!
//! - **gzip** (1): `flate2` on its default `miniz_oxide` backend. Read with
//!   `MultiGzDecoder`, because Java's `GZIPInputStream` (what Kafka reads with) also reads
//!   concatenated gzip members as one stream; the CRC-32 and size trailers are checked.
//! - **snappy** (2): `snap`'s raw (block) format. Kafka's Java producer writes it inside
//!   snappy-java's *xerial* framing (`SnappyOutputStream`): the 8-byte magic
//!   `0x82 "SNAPPY" 0`, two big-endian int32 versions, then blocks, each a big-endian int32
//!   length and a raw snappy block. That framing is 16 bytes of header and a length prefix,
//!   so it is parsed here rather than with a crate. Input without the magic is read as one
//!   raw block, as snappy-java's `SnappyInputStream` falls back to, for producers that write
//!   raw snappy. The magic cannot begin a valid raw block (it would decode to a copy before
//!   any literal), so the detection is unambiguous.
//! - **lz4** (3): `lz4_flex`'s LZ4 *frame* decoder (Kafka writes frames, not bare blocks),
//!   with its default safe (no `unsafe`) decoder. The frame header checksum is verified:
//!   KAFKA-3160 is about Kafka before 0.10 hashing the magic number into it, a bug kept only
//!   for magic 0/1 message sets; v2 batches (the only ones read here) carry correct frames
//!   from every current client, and Kafka verifies their checksum too.
//! - **zstd** (4): `ruzstd`'s decoder. Its default window limit (128 MiB) is libzstd's
//!   default `windowLogMax` of 27, which Kafka's zstd-jni decoder applies as well, so a frame
//!   Kafka accepts is accepted here. Concatenated and skippable frames are read as zstd-jni
//!   does; the optional content checksum is compared here, as ruzstd leaves that to callers.
//!
//! Hostile input: nothing here panics or indexes, and output is capped by a caller-given
//! `limit`. A stream that would decompress past it (a decompression bomb) stops with
//! [`RecordError::DecompressedTooLarge`] as soon as it crosses the limit, and the output
//! buffer never grows beyond the limit.

use std::io::{self, Read};

use flate2::read::MultiGzDecoder;
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::StreamingDecoder;

use super::error::RecordError;
use super::header::{parse_exact_batch, BatchHeader, Compression};
use super::record::{records_in, Records};
use super::BATCH_HEADER_BYTES;

/// snappy-java's stream magic (`SnappyCodec.MAGIC_HEADER`).
const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
/// The magic, then the stream version and the minimum compatible version (int32 each).
const XERIAL_HEADER_BYTES: usize = 16;
/// The output is read from the decoders in chunks of this size (on the stack).
const READ_CHUNK_BYTES: usize = 16 * 1024;

/// The records section of one batch, decompressed, with the batch's header.
///
/// [`DecompressedRecords::records`] iterates its records exactly as [`super::records`] does
/// those of an uncompressed batch: the same [`super::Record`] views (offset delta, timestamp
/// delta, key, value and headers borrowed from [`DecompressedRecords::as_bytes`]), the same
/// structural checks and errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecompressedRecords {
    header: BatchHeader,
    records: Vec<u8>,
}

impl DecompressedRecords {
    pub fn header(&self) -> &BatchHeader {
        &self.header
    }

    /// The records section as it would be in an uncompressed batch.
    pub fn as_bytes(&self) -> &[u8] {
        &self.records
    }

    /// The records; `recordsCount` of them must fill the section exactly.
    pub fn records(&self) -> Records<'_> {
        records_in(&self.records, self.header.records_count)
    }
}

/// Decompresses the records section of exactly one v2 batch (the slice must be the whole
/// batch), giving at most `limit` bytes.
///
/// Checks the batch's framing (magic, lengths) and codec, not its CRC: call
/// [`super::validate_batch`] first for untrusted bytes. An uncompressed batch is accepted
/// too (its section is copied), so callers need not tell the two apart.
pub fn decompress_records(batch: &[u8], limit: usize) -> Result<DecompressedRecords, RecordError> {
    let header = parse_exact_batch(batch)?;
    let compression = Compression::from_attributes(header.attributes)?;
    let section = batch.get(BATCH_HEADER_BYTES..).unwrap_or_default();
    let records = decompress(compression, section, limit)?;
    Ok(DecompressedRecords { header, records })
}

/// Decompresses `input` (a batch's records section) written with `compression`, refusing to
/// produce more than `limit` bytes. [`Compression::None`] copies the input (within the same
/// limit). Empty input gives empty output for every codec: no bytes hold no records, and
/// the caller's record count check reports any that were promised.
pub fn decompress(
    compression: Compression,
    input: &[u8],
    limit: usize,
) -> Result<Vec<u8>, RecordError> {
    let mut out = Vec::new();
    if input.is_empty() {
        return Ok(out);
    }
    let mut sink = Sink {
        out: &mut out,
        limit,
        compression,
    };
    match compression {
        Compression::None => sink.append(input)?,
        Compression::Gzip => sink.read_all(MultiGzDecoder::new(input))?,
        Compression::Snappy => unsnappy(input, &mut sink)?,
        Compression::Lz4 => unlz4(input, &mut sink)?,
        Compression::Zstd => unzstd(input, &mut sink)?,
    }
    Ok(out)
}

/// The output buffer with its limit.
struct Sink<'a> {
    out: &'a mut Vec<u8>,
    limit: usize,
    compression: Compression,
}

impl Sink<'_> {
    fn invalid(&self, reason: impl ToString) -> RecordError {
        RecordError::Decompression {
            compression: self.compression,
            reason: reason.to_string(),
        }
    }

    /// Makes room for `additional` more bytes, or refuses if that would pass the limit.
    /// Capacity doubles (amortised growth) but is capped at the limit, so a bomb costs at
    /// most `limit` bytes of memory.
    fn reserve(&mut self, additional: usize) -> Result<usize, RecordError> {
        let needed = self
            .out
            .len()
            .checked_add(additional)
            .filter(|&needed| needed <= self.limit)
            .ok_or(RecordError::DecompressedTooLarge {
                compression: self.compression,
                limit: self.limit,
            })?;
        if needed > self.out.capacity() {
            let target = self
                .out
                .capacity()
                .saturating_mul(2)
                .max(needed)
                .min(self.limit);
            self.out
                .reserve_exact(target.saturating_sub(self.out.len()));
        }
        Ok(needed)
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), RecordError> {
        self.reserve(bytes.len())?;
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    /// Appends everything `reader` yields until its end.
    fn read_all(&mut self, mut reader: impl Read) -> Result<(), RecordError> {
        let mut chunk = [0u8; READ_CHUNK_BYTES];
        loop {
            let read = match reader.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(self.invalid(error)),
            };
            let bytes = chunk
                .get(..read)
                .ok_or_else(|| self.invalid("decoder reported more bytes than it was given"))?;
            self.append(bytes)?;
        }
    }

    /// Appends one raw snappy block, after checking its declared length against the limit
    /// (snappy states the length up front, so a bomb is refused before any allocation).
    fn snappy_block(&mut self, block: &[u8]) -> Result<(), RecordError> {
        let length = snap::raw::decompress_len(block).map_err(|e| self.invalid(e))?;
        let start = self.out.len();
        let end = self.reserve(length)?;
        self.out.resize(end, 0);
        let written = match self.out.get_mut(start..) {
            Some(target) => snap::raw::Decoder::new().decompress(block, target),
            None => return Err(self.invalid("output buffer shorter than reserved")),
        }
        .map_err(|e| self.invalid(e))?;
        if written != length {
            return Err(self.invalid(format!(
                "block declares {length} bytes but decodes to {written}"
            )));
        }
        Ok(())
    }
}

/// Snappy: xerial framing if the input starts with its magic, one raw block otherwise.
fn unsnappy(input: &[u8], sink: &mut Sink<'_>) -> Result<(), RecordError> {
    if !input.starts_with(&XERIAL_MAGIC) {
        return sink.snappy_block(input);
    }
    let mut rest = input
        .get(XERIAL_HEADER_BYTES..)
        .ok_or_else(|| sink.invalid("xerial stream header cut short"))?;
    while let Some((length, after)) = rest.split_first_chunk::<4>() {
        // snappy-java reads a stream header where a block length is expected as the start
        // of a concatenated stream, and skips it.
        if rest.starts_with(&XERIAL_MAGIC) {
            rest = rest
                .get(XERIAL_HEADER_BYTES..)
                .ok_or_else(|| sink.invalid("concatenated xerial stream header cut short"))?;
            continue;
        }
        let length = usize::try_from(u32::from_be_bytes(*length))
            .map_err(|_| sink.invalid("xerial block length does not fit in memory"))?;
        let (block, after) = after.split_at_checked(length).ok_or_else(|| {
            sink.invalid(format!(
                "xerial block of {length} bytes cut short at {}",
                after.len()
            ))
        })?;
        sink.snappy_block(block)?;
        rest = after;
    }
    // snappy-java stops silently at 1-3 stray bytes; no encoder writes them, so they are
    // refused here as damage.
    if rest.is_empty() {
        Ok(())
    } else {
        Err(sink.invalid(format!(
            "{} stray bytes after the last xerial block",
            rest.len()
        )))
    }
}

/// The compressed input, noting whether a decoder tried to read past its end.
struct Source<'a> {
    rest: &'a [u8],
    read_past_end: bool,
}

impl Read for Source<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.rest.read(buf)?;
        if read == 0 && !buf.is_empty() {
            self.read_past_end = true;
        }
        Ok(read)
    }
}

/// LZ4: every frame in turn. `lz4_flex` reports the end of its input between two blocks as
/// the end of the stream, so a frame cut at a block boundary would pass for a whole one;
/// a frame is whole only if its end mark was read without running out of input.
fn unlz4(input: &[u8], sink: &mut Sink<'_>) -> Result<(), RecordError> {
    let mut decoder = lz4_flex::frame::FrameDecoder::new(Source {
        rest: input,
        read_past_end: false,
    });
    loop {
        let before = decoder.get_ref().rest.len();
        // Stops at the frame's end mark (or at a cut).
        sink.read_all(&mut decoder)?;
        let source = decoder.get_ref();
        if source.read_past_end {
            return Err(sink.invalid("LZ4 frame cut short before its end mark"));
        }
        if source.rest.is_empty() {
            return Ok(());
        }
        // Another frame follows (the decoder reads it on the next call), as a concatenated
        // stream. Every frame consumes its header, so this cannot spin; the check is a guard.
        if source.rest.len() == before {
            return Err(sink.invalid("LZ4 decoder made no progress"));
        }
    }
}

/// Zstd: every frame in turn (skippable frames skipped), checking content checksums.
fn unzstd(input: &[u8], sink: &mut Sink<'_>) -> Result<(), RecordError> {
    let mut rest = input;
    while !rest.is_empty() {
        let mut decoder = match StreamingDecoder::new(&mut rest) {
            Ok(decoder) => decoder,
            Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                length,
                ..
            })) => {
                // Skippable frames hold application metadata, never content. The decoder
                // has consumed their magic and length; `rest` is at their payload.
                let skip = usize::try_from(length)
                    .map_err(|_| sink.invalid("skippable frame length does not fit in memory"))?;
                rest = rest
                    .get(skip..)
                    .ok_or_else(|| sink.invalid("skippable frame cut short"))?;
                continue;
            }
            Err(error) => return Err(sink.invalid(error)),
        };
        sink.read_all(&mut decoder)?;
        let frame = &decoder.decoder;
        if let (Some(stored), Some(computed)) = (
            frame.get_checksum_from_data(),
            frame.get_calculated_checksum(),
        ) {
            if stored != computed {
                return Err(sink.invalid(format!(
                    "content checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use proptest::prelude::*;

    use super::*;

    const CODECS: [Compression; 4] = [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// Some compressible bytes with structure, `len` long.
    fn sample(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| b"the quick brown fox jumps over the lazy dog; "[i % 45] ^ (i / 997) as u8)
            .collect()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn raw_snappy(data: &[u8]) -> Vec<u8> {
        snap::raw::Encoder::new().compress_vec(data).unwrap()
    }

    /// snappy-java's framing, built by hand: header, then length-prefixed raw blocks of
    /// `block_size` input bytes (snappy-java's default is 32 KiB).
    fn xerial(data: &[u8], block_size: usize) -> Vec<u8> {
        let mut out = XERIAL_MAGIC.to_vec();
        out.extend_from_slice(&1i32.to_be_bytes());
        out.extend_from_slice(&1i32.to_be_bytes());
        for block in data.chunks(block_size) {
            let compressed = raw_snappy(block);
            out.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
            out.extend_from_slice(&compressed);
        }
        out
    }

    fn lz4_frame(data: &[u8], info: lz4_flex::frame::FrameInfo) -> Vec<u8> {
        let mut encoder = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn zstd(data: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
    }

    /// How Kafka's clients would compress `data` with `codec`.
    fn compress(codec: Compression, data: &[u8]) -> Vec<u8> {
        match codec {
            Compression::None => data.to_vec(),
            Compression::Gzip => gzip(data),
            Compression::Snappy => xerial(data, 32 * 1024),
            Compression::Lz4 => lz4_frame(data, lz4_flex::frame::FrameInfo::new()),
            Compression::Zstd => zstd(data),
        }
    }

    #[test]
    fn round_trips_every_codec() {
        for len in [1, 100, 32 * 1024, 32 * 1024 + 1, 300_000] {
            let data = sample(len);
            for codec in CODECS.into_iter().chain([Compression::None]) {
                let compressed = compress(codec, &data);
                assert_eq!(
                    decompress(codec, &compressed, len).unwrap(),
                    data,
                    "{codec:?}, {len} bytes"
                );
            }
        }
    }

    #[test]
    fn empty_input_is_empty_output() {
        for codec in CODECS {
            assert_eq!(decompress(codec, &[], 0).unwrap(), Vec::<u8>::new());
        }
    }

    #[test]
    fn snappy_reads_raw_blocks_too() {
        let data = sample(70_000);
        assert_eq!(
            decompress(Compression::Snappy, &raw_snappy(&data), usize::MAX).unwrap(),
            data
        );
    }

    #[test]
    fn xerial_framing_details() {
        let data = sample(100_000);
        // Several blocks, including a short last one.
        let framed = xerial(&data, 32 * 1024);
        assert_eq!(&framed[..8], b"\x82SNAPPY\x00");
        assert_eq!(
            decompress(Compression::Snappy, &framed, usize::MAX).unwrap(),
            data
        );
        // Concatenated streams read as one (snappy-java skips the second header).
        let mut twice = framed.clone();
        twice.extend_from_slice(&xerial(&data, 10_000));
        assert_eq!(
            decompress(Compression::Snappy, &twice, usize::MAX).unwrap(),
            [data.clone(), data.clone()].concat()
        );
        // A header and no blocks is an empty stream.
        assert!(decompress(Compression::Snappy, &framed[..16], 0)
            .unwrap()
            .is_empty());
        // The header alone, cut short: refused (the magic marks it as xerial).
        assert!(matches!(
            decompress(Compression::Snappy, &framed[..12], usize::MAX),
            Err(RecordError::Decompression { .. })
        ));
        // A block length running past the input.
        let mut long = framed[..16].to_vec();
        long.extend_from_slice(&1000u32.to_be_bytes());
        long.extend_from_slice(&[0; 10]);
        assert!(matches!(
            decompress(Compression::Snappy, &long, usize::MAX),
            Err(RecordError::Decompression { .. })
        ));
        // Stray bytes after the last block.
        let mut stray = framed.clone();
        stray.extend_from_slice(&[0, 0]);
        assert!(matches!(
            decompress(Compression::Snappy, &stray, usize::MAX),
            Err(RecordError::Decompression { .. })
        ));
    }

    #[test]
    fn lz4_frame_options_are_read() {
        use lz4_flex::frame::{BlockMode, BlockSize, FrameInfo};
        let data = sample(200_000);
        let options = [
            FrameInfo::new(),
            FrameInfo::new()
                .block_checksums(true)
                .content_checksum(true),
            FrameInfo::new()
                .block_mode(BlockMode::Linked)
                .block_size(BlockSize::Max256KB),
            FrameInfo::new().content_size(Some(data.len() as u64)),
        ];
        for info in options {
            let framed = lz4_frame(&data, info.clone());
            assert_eq!(
                decompress(Compression::Lz4, &framed, data.len()).unwrap(),
                data,
                "{info:?}"
            );
        }
        // Two frames back to back read as one stream.
        let framed = lz4_frame(&data, FrameInfo::new());
        assert_eq!(
            decompress(
                Compression::Lz4,
                &[framed.clone(), framed].concat(),
                usize::MAX
            )
            .unwrap()
            .len(),
            2 * data.len()
        );
    }

    #[test]
    fn lz4_header_checksum_is_checked() {
        // The last header byte is the descriptor checksum (what KAFKA-3160 was about).
        let mut framed = lz4_frame(&sample(1000), lz4_flex::frame::FrameInfo::new());
        framed[6] ^= 0xff;
        assert!(matches!(
            decompress(Compression::Lz4, &framed, usize::MAX),
            Err(RecordError::Decompression { .. })
        ));
    }

    #[test]
    fn zstd_frames_checksums_and_skippable_frames() {
        let data = sample(50_000);
        let frame = zstd(&data);
        // A skippable frame (magic 0x184D2A5?, little-endian length, payload) between two
        // frames.
        let mut input = frame.clone();
        input.extend_from_slice(&0x184D_2A53u32.to_le_bytes());
        input.extend_from_slice(&3u32.to_le_bytes());
        input.extend_from_slice(b"abc");
        input.extend_from_slice(&frame);
        assert_eq!(
            decompress(Compression::Zstd, &input, usize::MAX).unwrap(),
            [data.clone(), data.clone()].concat()
        );
        // A skippable frame longer than the input.
        let mut short = frame.clone();
        short.extend_from_slice(&0x184D_2A50u32.to_le_bytes());
        short.extend_from_slice(&100u32.to_le_bytes());
        assert!(matches!(
            decompress(Compression::Zstd, &short, usize::MAX),
            Err(RecordError::Decompression { .. })
        ));
        // Garbage after a frame.
        let mut trailing = frame.clone();
        trailing.extend_from_slice(b"junk");
        assert!(matches!(
            decompress(Compression::Zstd, &trailing, usize::MAX),
            Err(RecordError::Decompression { .. })
        ));
    }

    #[test]
    fn zstd_content_checksum_is_compared() {
        // ruzstd's encoder writes the checksum flag: find a frame that has one and corrupt
        // its last 4 bytes (the checksum).
        let data = sample(1000);
        let mut frame = zstd(&data);
        let descriptor = frame[4];
        assert_ne!(descriptor & 0x04, 0, "ruzstd writes content checksums");
        let last = frame.len() - 1;
        frame[last] ^= 0x01;
        let error = decompress(Compression::Zstd, &frame, usize::MAX).unwrap_err();
        assert!(
            matches!(&error, RecordError::Decompression { reason, .. } if reason.contains("checksum")),
            "{error:?}"
        );
    }

    #[test]
    fn truncated_input_is_an_error() {
        let data = sample(20_000);
        for codec in CODECS {
            let compressed = compress(codec, &data);
            let mut cuts = vec![1, 5, compressed.len() / 2, compressed.len() - 1];
            if codec == Compression::Lz4 {
                // Between two blocks, and just before the end mark (the cuts `lz4_flex`
                // alone would take for a complete stream).
                cuts.push(compressed.len() - 4);
                cuts.push(lz4_block_boundary(&compressed));
            }
            for cut in cuts {
                let result = decompress(codec, &compressed[..cut], usize::MAX);
                assert!(
                    matches!(result, Err(RecordError::Decompression { .. })),
                    "{codec:?} cut at {cut}: {:?}",
                    result.map(|out| out.len())
                );
            }
        }
    }

    /// Where the second block of an LZ4 frame (default options: 7-byte header, no block
    /// checksums) starts.
    fn lz4_block_boundary(frame: &[u8]) -> usize {
        let size = u32::from_le_bytes(frame[7..11].try_into().unwrap()) & 0x7fff_ffff;
        11 + size as usize
    }

    #[test]
    fn garbage_is_an_error() {
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for codec in CODECS {
            let result = decompress(codec, &garbage, usize::MAX);
            assert!(
                matches!(result, Err(RecordError::Decompression { .. })),
                "{codec:?}: {:?}",
                result.map(|out| out.len())
            );
        }
    }

    #[test]
    fn output_past_the_limit_is_refused() {
        let data = sample(100_000);
        for codec in CODECS.into_iter().chain([Compression::None]) {
            let compressed = compress(codec, &data);
            assert_eq!(decompress(codec, &compressed, data.len()).unwrap(), data);
            assert_eq!(
                decompress(codec, &compressed, data.len() - 1),
                Err(RecordError::DecompressedTooLarge {
                    compression: codec,
                    limit: data.len() - 1
                }),
                "{codec:?}"
            );
        }
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        // 16 MiB of zeros compress to well under 1 MiB; they are streamed through the
        // encoders, then decompressed with a 1 MiB limit.
        const BOMB: usize = 16 << 20;
        const LIMIT: usize = 1 << 20;
        let zeros = [0u8; 64 * 1024];
        let mut bombs = Vec::new();

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let mut lz = lz4_flex::frame::FrameEncoder::new(Vec::new());
        for _ in 0..BOMB / zeros.len() {
            gz.write_all(&zeros).unwrap();
            lz.write_all(&zeros).unwrap();
        }
        bombs.push((Compression::Gzip, gz.finish().unwrap()));
        bombs.push((Compression::Lz4, lz.finish().unwrap()));
        let zstd_bomb = ruzstd::encoding::compress_to_vec(
            io::repeat(0).take(BOMB as u64),
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        bombs.push((Compression::Zstd, zstd_bomb));
        // Snappy states each block's length up front: one raw block claiming 4 GiB - 1, and
        // a xerial stream of many maximal blocks.
        let mut claims = vec![0xff, 0xff, 0xff, 0xff, 0x0f];
        claims.extend_from_slice(&[0; 8]);
        bombs.push((Compression::Snappy, claims));
        bombs.push((Compression::Snappy, xerial(&vec![0; 8 << 20], 32 * 1024)));

        for (codec, bomb) in bombs {
            assert!(bomb.len() < LIMIT, "{codec:?} bomb is {} bytes", bomb.len());
            assert_eq!(
                decompress(codec, &bomb, LIMIT),
                Err(RecordError::DecompressedTooLarge {
                    compression: codec,
                    limit: LIMIT
                }),
                "{codec:?}"
            );
        }
    }

    #[test]
    fn output_capacity_stays_within_the_limit() {
        let data = sample(300_000);
        for codec in CODECS {
            let out = decompress(codec, &compress(codec, &data), data.len()).unwrap();
            assert!(
                out.capacity() <= data.len(),
                "{codec:?}: {}",
                out.capacity()
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Arbitrary bytes never panic any decoder, and never pass the limit.
        #[test]
        fn arbitrary_input_never_panics(input in proptest::collection::vec(any::<u8>(), 0..2048)) {
            for codec in CODECS {
                if let Ok(out) = decompress(codec, &input, 1 << 16) {
                    prop_assert!(out.len() <= 1 << 16);
                }
            }
        }

        /// Valid streams with a few bytes flipped or cut: errors or other output, no panic.
        #[test]
        fn damaged_streams_never_panic(
            seed in proptest::collection::vec(any::<u8>(), 1..4096),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            for codec in CODECS {
                let mut damaged = compress(codec, &seed);
                for (at, xor) in &flips {
                    let at = at.index(damaged.len());
                    damaged[at] ^= xor | 1;
                }
                let keep = cut.index(damaged.len() + 1);
                if let Ok(out) = decompress(codec, &damaged[..keep], 1 << 16) {
                    prop_assert!(out.len() <= 1 << 16);
                }
            }
        }
    }
}
