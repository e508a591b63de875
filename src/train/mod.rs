//! Training (native only: a progress bar, synchronous reads, files): every position of a
//! training sequence predicts its next item; Adam; early stopping on validation NDCG@10; a
//! checkpoint after every epoch to resume from.
//!
//! The files, each depending only on those before it: `config.rs` (the settings, their
//! bounds and defaults), `loss.rs` (the objective of one batch), `batching.rs` (windows and
//! batches), [`checkpoint`] (a run's whole state in one file) and `fit.rs` (the loop,
//! [`train`]); `tests.rs` tests the windows and the losses.

mod batching;
pub mod checkpoint;
mod config;
mod fit;
mod loss;
#[cfg(test)]
mod tests;

pub use config::{Batching, KindDefaults, LENGTH_BUCKET, LogKind, Loss, TrainConfig};
pub use fit::{Trained, check_trainable, train};
