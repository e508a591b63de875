//! Training sequences into batches: long histories cut into overlapping windows, the
//! sequences of each epoch (in a warm retrain, a share of the old ones), and its batches,
//! shuffled or (under [`Batching::ByLength`]) sorted by length.

use std::ops::Range;

use rand::seq::SliceRandom;
use rand_chacha::ChaCha12Rng;

use super::config::{Batching, LENGTH_BUCKET};

/// A training sequence cut into windows of at most `n + 1` items, newest first, each
/// overlapping the next by one item: every item after the first is a target exactly once,
/// seen from up to `n` items before it. (Training on the newest `n + 1` alone, as plain
/// SASRec does, would never learn from the older part of a long history.)
pub(super) fn windows(sequence: &[u32], n: usize) -> Vec<&[u32]> {
    let mut out = Vec::new();
    let mut end = sequence.len();
    while end >= 2 {
        out.push(&sequence[end.saturating_sub(n + 1)..end]);
        end = end.saturating_sub(n);
    }
    out
}

/// How many of `old` sequences an epoch replays at `share` (all of them at 1; at least one).
pub(super) fn replayed(old: usize, share: f64) -> usize {
    if share >= 1.0 {
        old
    } else {
        ((old as f64 * share).round() as usize).clamp(old.min(1), old)
    }
}

/// The sequences (indices of `count`) an epoch trains on: every one from `old` on, and of
/// the `old` before it (a warm retrain's, which the starting model has trained on) a fresh
/// random [`replayed`] share.
pub(super) fn epoch_sequences(
    count: usize,
    old: usize,
    share: f64,
    rng: &mut ChaCha12Rng,
) -> Vec<usize> {
    let kept = replayed(old, share);
    if kept == old {
        return (0..count).collect();
    }
    let mut order = rand::seq::index::sample(rng, old, kept).into_vec();
    order.extend(old..count);
    order
}

/// An epoch's batches, as ranges of `order` (indices of sequences whose lengths are
/// `lengths`): `order` shuffled, then cut into batches of `batch_size` or, under
/// [`Batching::ByLength`], sorted by length within buckets of [`LENGTH_BUCKET`] batches (ties
/// keep their shuffled order) and cut into batches that are then put in random order. With
/// the latter, also the mean number of targets per batch, which each batch's summed loss is
/// divided by.
pub(super) fn epoch_batches(
    order: &mut [usize],
    lengths: &[usize],
    batching: Batching,
    batch_size: usize,
    rng: &mut ChaCha12Rng,
) -> (Vec<Range<usize>>, Option<f32>) {
    order.shuffle(rng);
    let cut = |len: usize| -> Vec<Range<usize>> {
        (0..len)
            .step_by(batch_size)
            .map(|start| start..(start + batch_size).min(len))
            .collect()
    };
    match batching {
        Batching::Shuffled => (cut(order.len()), None),
        Batching::ByLength => {
            let targets: usize = order.iter().map(|&i| lengths[i] - 1).sum();
            for bucket in order.chunks_mut(batch_size * LENGTH_BUCKET) {
                bucket.sort_by_key(|&i| lengths[i]);
            }
            let mut batches = cut(order.len());
            batches.shuffle(rng);
            let per_batch = targets as f64 / batches.len() as f64;
            (batches, Some(per_batch as f32))
        }
    }
}
