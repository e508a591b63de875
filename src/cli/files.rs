//! The CLI's model reads: a bundle file read with bounds, exactly as long as its header
//! says. The rest of the file handling (bounded reads, output checks, atomic writes) is
//! [`crate::fs`]'s.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::bundle::{self, MAX_BUNDLE_BYTES, MAX_HEADER_BYTES};
use crate::fs::{Refused, open_bounded};

/// Reads a model bundle file: a regular file of at most [`MAX_BUNDLE_BYTES`], exactly as
/// long as its safetensors header says, read with a bound (never `/dev/zero` forever).
pub fn read_bundle(path: &Path) -> Result<Vec<u8>, String> {
    let cannot = |e: io::Error| format!("cannot read model {}: {e}", path.display());
    let refuse = |reason: String| format!("{}: {reason}", path.display());
    let (mut file, size) = open_bounded(path, MAX_BUNDLE_BYTES).map_err(|e| match e {
        Refused::Io(e) => cannot(e),
        Refused::NotRegular => refuse("not a regular file".into()),
        Refused::TooLarge(size) => refuse(format!(
            "{size} bytes is above the limit of {MAX_BUNDLE_BYTES} bytes for a model"
        )),
    })?;
    let not_bundle = |reason: &str| refuse(format!("not an awrsr model bundle: {reason}"));
    let mut bytes = vec![0u8; 8];
    file.read_exact(&mut bytes)
        .map_err(|_| not_bundle("shorter than a safetensors header"))?;
    let header_len =
        u64::from_le_bytes(bytes[..8].try_into().map_err(|_| not_bundle("no header"))?);
    if header_len > MAX_HEADER_BYTES || 8 + header_len > size {
        return Err(not_bundle(&format!(
            "header length {header_len} does not fit a file of {size} bytes"
        )));
    }
    read_more(&mut file, &mut bytes, header_len).map_err(cannot)?;
    bundle::check_declared_len(&bytes, size).map_err(|e| refuse(e.to_string()))?;
    read_more(&mut file, &mut bytes, size - 8 - header_len).map_err(cannot)?;
    let mut extra = [0u8; 1];
    if bytes.len() as u64 != size || file.read(&mut extra).map_err(cannot)? != 0 {
        return Err(refuse("the file changed while it was read".into()));
    }
    Ok(bytes)
}

/// Appends at most `count` more bytes of `file` to `bytes`.
fn read_more(file: &mut File, bytes: &mut Vec<u8>, count: u64) -> io::Result<()> {
    file.take(count).read_to_end(bytes).map(|_| ())
}
