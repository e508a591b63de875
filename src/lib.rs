//! awrsr: an in-browser sequential recommender — SASRec with attention weight refinement
//! (AWRSR, RecSys 2024) on burn.
//!
//! Shared by every target: [`model`] (the network), [`catalogue`] (item ids and titles),
//! [`bundle`] (the one-file model format), [`scoring`] (the item table as served),
//! [`rank`] and [`inference`] (top-k for a session). Native, and in the studio's browser
//! build (feature `studio`): [`data`] (log readers and the split), [`protocol`] (how a log is
//! split), [`train`] (the [`Trainer`](train::Trainer), a batch at a time), [`eval`],
//! [`metrics`] and the session [`baselines`]. Native only: train's
//! [`checkpoint`](train::checkpoint) files, [`warm`] retrains, [`ab`] (an A/B pilot's
//! verdict), the [`cli`] and `fs` (bounded reads, output checks, atomic writes). Browser
//! only: `web` (the JavaScript bindings: the exported class in `web/mod.rs`, beside one file
//! each for the device, the bundle's bytes, arguments in, answers out, guarded JS access and
//! the studio's class). The picture: `docs/architecture.md`.

#![warn(missing_docs)]

pub mod bundle;
pub mod catalogue;
pub mod inference;
pub mod model;
pub mod rank;
pub mod scoring;

#[cfg(not(target_arch = "wasm32"))]
pub mod ab;
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
pub mod baselines;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
pub mod data;
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
pub mod eval;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod fs;
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
pub mod metrics;
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
pub mod protocol;
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
pub mod train;
#[cfg(not(target_arch = "wasm32"))]
pub mod warm;
#[cfg(target_arch = "wasm32")]
pub mod web;
