//! awrsr: an in-browser sequential recommender — SASRec with attention weight refinement
//! (AWRSR, RecSys 2024) on burn.
//!
//! Shared by every target: [`model`] (the network), [`catalogue`] (item ids and titles),
//! [`bundle`] (the one-file model format), [`scoring`] (the item table as served),
//! [`rank`] and [`inference`] (top-k for a session). Native only: [`data`] (log readers and
//! the split), [`train`] and its [`checkpoint`](train::checkpoint)s, [`warm`] retrains, [`eval`], [`metrics`],
//! the session [`baselines`], [`ab`] (an A/B pilot's verdict), the [`cli`] and `fs` (bounded
//! reads, output checks, atomic writes). Browser only: `web` (the JavaScript bindings: the
//! exported class in `web/mod.rs`, beside one file each for the device, the bundle's bytes,
//! arguments in, answers out and guarded JS access). The
//! picture: `docs/architecture.md`.

#![warn(missing_docs)]

pub mod bundle;
pub mod catalogue;
pub mod inference;
pub mod model;
pub mod rank;
pub mod scoring;

#[cfg(not(target_arch = "wasm32"))]
pub mod ab;
#[cfg(not(target_arch = "wasm32"))]
pub mod baselines;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
#[cfg(not(target_arch = "wasm32"))]
pub mod data;
#[cfg(not(target_arch = "wasm32"))]
pub mod eval;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod fs;
#[cfg(not(target_arch = "wasm32"))]
pub mod metrics;
#[cfg(not(target_arch = "wasm32"))]
pub mod train;
#[cfg(not(target_arch = "wasm32"))]
pub mod warm;
#[cfg(target_arch = "wasm32")]
pub mod web;
