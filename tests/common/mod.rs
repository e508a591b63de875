//! Helpers shared by the integration tests: where the data sets are.

#![allow(dead_code)]

use std::path::PathBuf;

/// The shipped `ml-latest-small` copy inside the project.
pub fn shipped_movielens() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/ml-latest-small")
}

/// A data set under the shared data folder (`$AWRSR_SHARED_DATA`, else `../shared/data`).
pub fn shared(relative: &str) -> PathBuf {
    let root = std::env::var_os("AWRSR_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let path = root.join(relative);
    assert!(path.exists(), "test data {} is missing: set AWRSR_SHARED_DATA to the shared data folder", path.display());
    path
}
