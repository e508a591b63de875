//! The CLI's file handling, where hostile input meets the disk: bounded model reads,
//! output paths checked before any work, and writes that never leave a partial file.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::bundle::{self, MAX_BUNDLE_BYTES, MAX_HEADER_BYTES};
use crate::data::open_regular;

/// Reads a model bundle file: a regular file of at most [`MAX_BUNDLE_BYTES`], exactly as
/// long as its safetensors header says, read with a bound (never `/dev/zero` forever).
pub fn read_bundle(path: &Path) -> Result<Vec<u8>, String> {
    let cannot = |e: io::Error| format!("cannot read model {}: {e}", path.display());
    let refuse = |reason: String| format!("{}: {reason}", path.display());
    let mut file = open_regular(path).map_err(|e| match e {
        Some(e) => cannot(e),
        None => refuse("not a regular file".into()),
    })?;
    let size = file.metadata().map_err(cannot)?.len();
    if size > MAX_BUNDLE_BYTES {
        return Err(refuse(format!(
            "{size} bytes is above the limit of {MAX_BUNDLE_BYTES} bytes for a model"
        )));
    }
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
    let declared = bundle::declared_len(&bytes).map_err(|e| refuse(e.to_string()))?;
    if declared != size {
        return Err(not_bundle(&format!(
            "the file is {size} bytes but its header describes {declared}"
        )));
    }
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

/// Checks, before any work, that `path` can receive a written file: its folder exists and
/// is writable, it is not a directory or a device, and it is none of `taken` (the inputs
/// and the other outputs of the command).
pub fn check_output(path: &Path, what: &str, taken: &[PathBuf]) -> Result<(), String> {
    let refuse = |reason: &str| format!("{what} {}: {reason}", path.display());
    let (dir, _) = split(&link_target(path)).map_err(|e| refuse(&e))?;
    if let Ok(metadata) = std::fs::metadata(path) {
        if metadata.is_dir() {
            return Err(refuse("is a directory"));
        }
        if !metadata.is_file() {
            return Err(refuse("is not a regular file"));
        }
    }
    if let Some(other) = taken.iter().find(|other| same_file(path, other)) {
        return Err(refuse(&format!(
            "would overwrite {}, an input or another output of this command",
            other.display()
        )));
    }
    let probe = temporary(&dir, "probe");
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| refuse(&format!("cannot write in {}: {e}", dir.display())))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Writes `bytes` to `path` atomically: to a temporary file in the same folder, synced,
/// then renamed over `path` (over the file it points to, when it is a symbolic link). A
/// failure leaves `path` as it was and no temporary behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let target = link_target(path);
    let (dir, name) = split(&target)?;
    let temp = temporary(&dir, &name);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, &target)?;
        if let Ok(folder) = File::open(&dir) {
            let _ = folder.sync_all();
        }
        Ok(())
    })();
    written.map_err(|e: io::Error| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot write {}: {e}", path.display())
    })
}

/// Where a write to `path` lands: the file a symbolic link points to, so that the rename
/// replaces that file and leaves the link as it was; `path` itself otherwise.
fn link_target(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

/// The folder (`.` for a bare name) and file name of an output path.
fn split(path: &Path) -> Result<(PathBuf, String), String> {
    let name = path
        .file_name()
        .ok_or_else(|| format!("{} is not a file path", path.display()))?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(format!("folder {} does not exist", dir.display()));
    }
    Ok((dir, name.to_string_lossy().into_owned()))
}

/// A fresh name beside the target, unique to this process.
fn temporary(dir: &Path, name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Whether two paths name the same file: the same folder and name, or (when both exist)
/// the same file through links.
fn same_file(a: &Path, b: &Path) -> bool {
    let target = |p: &Path| {
        split(p)
            .ok()
            .and_then(|(dir, name)| Some(dir.canonicalize().ok()?.join(name)))
    };
    if target(a).is_some_and(|t| Some(t) == target(b)) {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    false
}
