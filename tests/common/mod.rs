//! Helpers shared by the integration tests: where the data sets are.

#![allow(dead_code)]

use std::path::PathBuf;

/// The shipped `ml-latest-small` copy inside the project.
pub fn shipped_movielens() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/ml-latest-small")
}

/// A data set under the shared data folder: `$AWRSR_SHARED_DATA`, else `../shared/data`
/// beside the checkout, else `/work/shared/data`.
pub fn shared(relative: &str) -> PathBuf {
    let candidates = [
        std::env::var_os("AWRSR_SHARED_DATA").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data")),
        Some(PathBuf::from("/work/shared/data")),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|root| root.join(relative))
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("test data {relative} is missing: set AWRSR_SHARED_DATA to the shared data folder"))
}
