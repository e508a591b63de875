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
        .unwrap_or_else(|| {
            panic!(
                "test data {relative} is missing: set AWRSR_SHARED_DATA to the shared data folder"
            )
        })
}

/// Runs the `awrsr` binary with `args`.
pub fn awrsr(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_awrsr"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The standard output of a run that must succeed.
pub fn ok(output: std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A JSON file's value.
pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
