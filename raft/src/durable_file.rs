//! Small files replaced atomically and checked on read: the vote and the snapshot.
//!
//! Layout: `magic (4) | version (1) | payload length (u32 BE) | payload | crc32c (u32 BE)`
//! over everything before the CRC. A write goes to `NAME.tmp`, is fsynced, renamed over
//! `NAME`, and the directory is fsynced, so after a crash the file is either the old one or
//! the new one, never a mix. A file that fails its checks is an error, never "absent": a
//! vote must not be guessed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

const VERSION: u8 = 1;
const HEADER_BYTES: usize = 4 + 1 + 4;
const CRC_BYTES: usize = 4;

/// Writes `payload` as `dir/name`, durably and atomically.
pub fn write(dir: &Path, name: &str, magic: [u8; 4], payload: &[u8]) -> io::Result<()> {
    let length = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "payload over 4 GiB"))?;
    let mut bytes = Vec::with_capacity(HEADER_BYTES + payload.len() + CRC_BYTES);
    bytes.extend_from_slice(&magic);
    bytes.push(VERSION);
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(payload);
    let crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&crc.to_be_bytes());
    replace(dir, name, &bytes)
}

/// Replaces `dir/name` with `bytes` atomically and durably: `NAME.tmp` written and
/// fsynced, renamed over `NAME`, the directory fsynced.
pub fn replace(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}

/// Reads `dir/name`: `Ok(None)` if it does not exist, an error if it exists but is damaged.
pub fn read(dir: &Path, name: &str, magic: [u8; 4]) -> io::Result<Option<Vec<u8>>> {
    let path = dir.join(name);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    let damaged = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {what}", path.display()),
        )
    };
    if bytes.len() < HEADER_BYTES + CRC_BYTES {
        return Err(damaged("too short"));
    }
    let (body, crc) = bytes.split_at(bytes.len() - CRC_BYTES);
    let stored_crc = u32::from_be_bytes(crc.try_into().map_err(|_| damaged("no CRC"))?);
    if crc32c::crc32c(body) != stored_crc {
        return Err(damaged("CRC mismatch"));
    }
    if body.get(..4) != Some(&magic[..]) {
        return Err(damaged("wrong magic"));
    }
    if body.get(4) != Some(&VERSION) {
        return Err(damaged("unknown version"));
    }
    let length = body
        .get(5..9)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| damaged("no length"))? as usize;
    let payload = body.get(HEADER_BYTES..).unwrap_or_default();
    if payload.len() != length {
        return Err(damaged("length mismatch"));
    }
    Ok(Some(payload.to_vec()))
}

/// Makes a create, rename or delete in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    const MAGIC: [u8; 4] = *b"TEST";

    #[test]
    fn written_files_read_back_and_damage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path(), "f", MAGIC).unwrap(), None);
        write(dir.path(), "f", MAGIC, b"hello").unwrap();
        assert_eq!(read(dir.path(), "f", MAGIC).unwrap().unwrap(), b"hello");
        write(dir.path(), "f", MAGIC, b"").unwrap();
        assert_eq!(read(dir.path(), "f", MAGIC).unwrap().unwrap(), b"");
        write(dir.path(), "f", MAGIC, b"hello").unwrap();
        let path = dir.path().join("f");
        let mut bytes = fs::read(&path).unwrap();
        bytes[10] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert!(read(dir.path(), "f", MAGIC).is_err());
        fs::write(&path, &bytes[..3]).unwrap();
        assert!(read(dir.path(), "f", MAGIC).is_err());
        write(dir.path(), "f", MAGIC, b"x").unwrap();
        assert!(read(dir.path(), "f", *b"OTHR").is_err());
    }
}
