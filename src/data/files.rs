//! Where logs are read from: natively the file system; in the studio's browser build the
//! files the page was given, by name ([`give`]), so that the readers are the same code.

use std::io;
use std::path::{Path, PathBuf};

/// The first `limit + 1` bytes at most of the regular file at `path` (a caller refuses
/// more than `limit`); `Err(None)` when it is not a regular file.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn read_up_to(path: &Path, limit: u64) -> Result<Vec<u8>, Option<io::Error>> {
    use std::io::Read;
    let file = crate::fs::open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(Some)?;
    Ok(bytes)
}

/// Whether `path` is a regular file.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn is_file(path: &Path) -> bool {
    path.is_file()
}

/// Whether `path` is a folder.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn is_dir(path: &Path) -> bool {
    path.is_dir()
}

/// The entries of the folder `path`.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn list(path: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::read_dir(path)?
        .map(|entry| entry.map(|e| e.path()))
        .collect()
}

#[cfg(target_arch = "wasm32")]
pub use given::{forget_all, give};
#[cfg(target_arch = "wasm32")]
pub(crate) use given::{is_dir, is_file, list, read_up_to};

/// The browser's files: what the page gave, by name, in one flat folder.
#[cfg(target_arch = "wasm32")]
mod given {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use super::*;

    thread_local! {
        static FILES: RefCell<BTreeMap<PathBuf, Vec<u8>>> = const { RefCell::new(BTreeMap::new()) };
    }

    /// Makes `bytes` readable as the file `name` (replacing one of that name).
    pub fn give(name: &str, bytes: Vec<u8>) {
        FILES.with(|files| files.borrow_mut().insert(PathBuf::from(name), bytes));
    }

    /// Forgets every file given.
    pub fn forget_all() {
        FILES.with(|files| files.borrow_mut().clear());
    }

    /// See the native `read_up_to`.
    pub(crate) fn read_up_to(path: &Path, limit: u64) -> Result<Vec<u8>, Option<io::Error>> {
        FILES.with(|files| {
            let files = files.borrow();
            let bytes = files.get(path).ok_or_else(|| {
                Some(io::Error::new(
                    io::ErrorKind::NotFound,
                    "no such file was given",
                ))
            })?;
            let end = bytes.len().min(
                usize::try_from(limit)
                    .unwrap_or(usize::MAX)
                    .saturating_add(1),
            );
            Ok(bytes[..end].to_vec())
        })
    }

    /// Whether a file `path` was given.
    pub(crate) fn is_file(path: &Path) -> bool {
        FILES.with(|files| files.borrow().contains_key(path))
    }

    /// The given files are not in folders.
    pub(crate) fn is_dir(_: &Path) -> bool {
        false
    }

    /// The given files (there is one folder).
    pub(crate) fn list(_: &Path) -> io::Result<Vec<PathBuf>> {
        Ok(FILES.with(|files| files.borrow().keys().cloned().collect()))
    }
}
