//! Training sequences into batches: long histories cut into overlapping windows, and each
//! epoch's batches, shuffled or (under [`Batching::ByLength`]) sorted by length.

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

/// [`Batching::ByLength`]'s batches: `shuffled` sorted by length within buckets of
/// [`LENGTH_BUCKET`] batches (ties keep their shuffled order), cut into batches that are
/// then put in random order.
fn by_length<'a>(
    shuffled: &'a mut [&'a [u32]],
    batch_size: usize,
    rng: &mut ChaCha12Rng,
) -> Vec<&'a [&'a [u32]]> {
    for bucket in shuffled.chunks_mut(batch_size * LENGTH_BUCKET) {
        bucket.sort_by_key(|s| s.len());
    }
    let mut batches: Vec<_> = shuffled.chunks(batch_size).collect();
    batches.shuffle(rng);
    batches
}

/// An epoch's batches: `order` shuffled, then cut into batches of `batch_size` or, under
/// [`Batching::ByLength`], into [`by_length`]'s batches; with the latter, also the mean
/// number of targets per batch, which each batch's summed loss is divided by.
pub(super) fn epoch_batches<'a>(
    order: &'a mut [&'a [u32]],
    batching: Batching,
    batch_size: usize,
    rng: &mut ChaCha12Rng,
) -> (Vec<&'a [&'a [u32]]>, Option<f32>) {
    order.shuffle(rng);
    match batching {
        Batching::Shuffled => {
            let order: &'a [&'a [u32]] = order;
            (order.chunks(batch_size).collect(), None)
        }
        Batching::ByLength => {
            let targets: usize = order.iter().map(|s| s.len() - 1).sum();
            let batches = by_length(order, batch_size, rng);
            let per_batch = targets as f64 / batches.len() as f64;
            (batches, Some(per_batch as f32))
        }
    }
}
