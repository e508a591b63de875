//! The file system, where hostile input meets the disk (native only): regular files opened
//! without blocking, reads with a bound, output paths checked before any work, and writes
//! that never leave a partial file. Used by the CLI and by training checkpoints.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Why [`open_bounded`] or [`read_bounded`] refused a file.
#[derive(Debug)]
pub enum Refused {
    /// The file could not be opened or read.
    Io(io::Error),
    /// It is not a regular file (a folder, a FIFO, a device).
    NotRegular,
    /// Its size in bytes, above the bound.
    TooLarge(u64),
}

/// Opens `path` for reading if it is a regular file (`None`: it is not), without blocking
/// on a FIFO or a device on the way.
pub fn open_regular(path: &Path) -> Result<File, Option<io::Error>> {
    if !std::fs::metadata(path).map_err(Some)?.is_file() {
        return Err(None);
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(Some)?;
    match file.metadata().map_err(Some)?.is_file() {
        true => Ok(file),
        false => Err(None),
    }
}

/// Opens `path` if it is a regular file of at most `max` bytes; the file and its size.
pub fn open_bounded(path: &Path, max: u64) -> Result<(File, u64), Refused> {
    let file = open_regular(path).map_err(|e| e.map_or(Refused::NotRegular, Refused::Io))?;
    let size = file.metadata().map_err(Refused::Io)?.len();
    match size > max {
        true => Err(Refused::TooLarge(size)),
        false => Ok((file, size)),
    }
}

/// Reads a regular file of at most `max` bytes, with that bound (a file that grows while
/// it is read is cut there).
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, Refused> {
    let (file, size) = open_bounded(path, max)?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(max)
        .read_to_end(&mut bytes)
        .map_err(Refused::Io)?;
    Ok(bytes)
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
