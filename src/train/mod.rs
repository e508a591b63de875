//! Training: every position of a training sequence predicts its next item; Adam; early
//! stopping on validation NDCG@10; natively a checkpoint after every epoch to resume from.
//! The same code trains in the studio's browser build, a batch per [`Trainer::step`].
//!
//! The files, each depending only on those before it: `config.rs` (the settings, their
//! bounds and defaults), `loss.rs` (the objective of one batch), `adam.rs` (Adam, fused on
//! the CPU backend), `batching.rs` (windows and
//! batches), [`checkpoint`] (a run's whole state in one file) and `fit.rs` (the loop,
//! [`Trainer`]), `alongside.rs` (a refit on a thread of its own, driven by the loop's
//! epochs), [`finish`] (a few epochs on the newest sessions after early stopping), `repeat.rs` (the
//! repeat bonus chosen after it); `tests.rs` tests the windows and the losses.

mod adam;
#[cfg(not(target_arch = "wasm32"))]
mod alongside;
mod batching;
pub mod checkpoint;
mod config;
pub mod finish;
mod fit;
mod loss;
mod repeat;
#[cfg(test)]
mod tests;

#[cfg(not(target_arch = "wasm32"))]
pub use alongside::Alongside;
pub use config::{Batching, KindDefaults, LENGTH_BUCKET, LogKind, Loss, TrainConfig};
pub use fit::{EpochReport, RATES_NOT_RECORDED, Step, Trained, Trainer, check_trainable};
#[cfg(not(target_arch = "wasm32"))]
pub use fit::{Start, refit, train};
pub use repeat::{BONUSES, DECAYS, fit_repeat_bonus, with_repeat_bonus};
