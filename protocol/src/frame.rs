//! Framing: every Kafka request and response is a 4-byte big-endian length followed by that
//! many bytes. A frame over `frame_bytes_max` (Kafka's `socket.request.max.bytes`, default
//! 100 MiB) is refused before any of it is buffered.

use bytes::{Buf, BytesMut};

use crate::error::WireError;

/// Kafka's default `socket.request.max.bytes`.
pub const FRAME_BYTES_MAX_DEFAULT: usize = 100 * 1024 * 1024;

/// Bytes of the length prefix.
pub const LENGTH_PREFIX_BYTES: usize = 4;

/// The length announced by the prefix at the start of `buf`, once 4 bytes are there.
pub fn announced_frame_length(buf: &[u8]) -> Option<i32> {
    buf.first_chunk::<LENGTH_PREFIX_BYTES>()
        .map(|prefix| i32::from_be_bytes(*prefix))
}

/// Splits one complete frame (without its length prefix) off the front of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed. Never reserves memory for the announced
/// length: the caller's buffer grows only as bytes actually arrive, so a peer announcing a
/// large frame and sending nothing costs nothing.
pub fn split_frame(
    buf: &mut BytesMut,
    frame_bytes_max: usize,
) -> Result<Option<BytesMut>, WireError> {
    let Some(announced) = announced_frame_length(buf) else {
        return Ok(None);
    };
    let len = usize::try_from(announced).map_err(|_| WireError::NegativeFrameLength(announced))?;
    if len > frame_bytes_max {
        return Err(WireError::FrameTooLarge {
            len,
            max: frame_bytes_max,
        });
    }
    if buf.len() < LENGTH_PREFIX_BYTES + len {
        return Ok(None);
    }
    buf.advance(LENGTH_PREFIX_BYTES);
    Ok(Some(buf.split_to(len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_prefix_and_body() {
        let mut buf = BytesMut::from(&[0u8, 0, 0][..]);
        assert_eq!(split_frame(&mut buf, 100), Ok(None));
        buf.extend_from_slice(&[3, 1, 2]);
        assert_eq!(split_frame(&mut buf, 100), Ok(None));
        buf.extend_from_slice(&[3, 9]);
        let frame = split_frame(&mut buf, 100).unwrap().unwrap();
        assert_eq!(&frame[..], &[1, 2, 3]);
        assert_eq!(&buf[..], &[9]);
    }

    #[test]
    fn negative_length_is_refused() {
        let mut buf = BytesMut::from(&(-5i32).to_be_bytes()[..]);
        assert_eq!(
            split_frame(&mut buf, 100),
            Err(WireError::NegativeFrameLength(-5))
        );
    }

    #[test]
    fn oversize_frame_is_refused_before_its_body_arrives() {
        let mut buf = BytesMut::from(&(1_000_000i32).to_be_bytes()[..]);
        assert_eq!(
            split_frame(&mut buf, 1000),
            Err(WireError::FrameTooLarge {
                len: 1_000_000,
                max: 1000
            })
        );
    }
}
