//! Zero-copy send of a file region to a TCP socket: the fetch path's last step.
//!
//! ```text
//! PartitionLog::read --> (LogFile, offset, len) --send_file_region--> sendfile(2) --> socket
//! ```
//!
//! The socket is non-blocking (tokio's), so `sendfile(2)` never blocks: when the socket
//! buffer is full it returns `EAGAIN`, `try_io` clears the readiness, and we await
//! writability again. Page-cache bytes go to the socket without a trip through user
//! space; nothing sleeps and the runtime thread is never blocked on the network. (A cold
//! page-cache read inside `sendfile` can still wait for the disk; that is the usual
//! sendfile trade-off, as in Kafka.)

use std::fs::File;
use std::io;
use std::os::fd::AsFd;

use tokio::io::Interest;
use tokio::net::TcpStream;

/// Largest count passed to one `sendfile(2)` call (Linux moves at most 0x7ffff000).
const CALL_MAX_BYTES: usize = 1 << 30;

/// Sends exactly `len_bytes` of `file` starting at `offset` on `stream`, using
/// `sendfile(2)`. Fails with `UnexpectedEof`, before sending anything, if the file is
/// shorter than `offset + len_bytes` (and mid-way if it shrinks while sending). The
/// file's own position is not used or moved, so regions of one file can be sent
/// concurrently. A file that was unlinked after opening still sends.
pub async fn send_file_region(
    stream: &TcpStream,
    file: &File,
    offset: u64,
    len_bytes: usize,
) -> io::Result<()> {
    let end = u64::try_from(len_bytes)
        .ok()
        .and_then(|len| offset.checked_add(len))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "region end overflows u64"))?;
    let file_len = file.metadata()?.len();
    if end > file_len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("region {offset}..{end} extends past the end of the file ({file_len} bytes)"),
        ));
    }

    let mut position = offset;
    let mut remaining_bytes = len_bytes;
    while remaining_bytes > 0 {
        stream.writable().await?;
        let sent = stream.try_io(Interest::WRITABLE, || {
            let mut at = position;
            rustix::fs::sendfile(
                stream.as_fd(),
                file.as_fd(),
                Some(&mut at),
                remaining_bytes.min(CALL_MAX_BYTES),
            )
            .map_err(io::Error::from)
        });
        match sent {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("file ended at {position} while sending up to {end}"),
                ));
            }
            Ok(sent_bytes) => {
                position = position.saturating_add(u64::try_from(sent_bytes).unwrap_or(u64::MAX));
                remaining_bytes = remaining_bytes.saturating_sub(sent_bytes);
            }
            // Socket full (readiness already cleared by try_io) or a signal: wait again.
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
