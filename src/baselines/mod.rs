//! Model-free session-based baselines, fitted on training sessions and ranked under the same
//! full-catalogue protocol as the network: [`Popularity`] (click counts), [`SequentialRules`]
//! (Ludewig & Jannach's SR) and [`SessionKnn`] (their V-SKNN, `VMContextKNN`).
//!
//! Each method follows the code of session-rec (github `rn5l/session-rec`, commit `5dcd583`);
//! the submodules say which file, variant and parameters. Training sessions are `&[Vec<u32>]`
//! of internal item indices 1..=N in time order (a later session is a newer one); indices
//! outside 1..=N are ignored. [`evaluate`] ranks each case's target among all items, ties
//! broken by training popularity and then by the lower index: what a shop would show,
//! backfilling the method's suggestions with best sellers.

mod knn;
mod popularity;
mod rules;

pub use knn::{KnnParams, PositionWeighting, SessionKnn};
pub use popularity::Popularity;
pub use rules::{GapWeighting, RulesParams, SequentialRules};

use rayon::prelude::*;

use crate::data::Case;
use crate::metrics::Metrics;

/// A model-free recommender fitted on training sessions.
pub trait Baseline: Sync {
    /// A short name for reports (`POP`, `SR`, `V-SKNN`).
    fn name(&self) -> &'static str;

    /// Scores every item for a session `input` (oldest first): `scores[j]` is item `j + 1`,
    /// higher is better. Every entry is overwritten.
    fn score(&self, input: &[u32], scores: &mut [f32]);
}

/// A score as ranked: NaN counts as −∞.
fn key(score: f32) -> f32 {
    if score.is_nan() {
        f32::NEG_INFINITY
    } else {
        score
    }
}

/// 0-based rank of `target` among all items: how many items come before it, ordered by
/// score (high first), then by `popularity.order()` (best seller first). Items in `excluded`
/// other than the target do not count. A target outside 1..=N ranks last.
fn rank_with_backfill(
    scores: &[f32],
    popularity: &Popularity,
    target: u32,
    excluded: &[u32],
) -> usize {
    let order = popularity.order();
    let t = target as usize;
    if t == 0 || t > scores.len() || t > order.len() {
        return scores.len();
    }
    let (st, ot) = (key(scores[t - 1]), order[t - 1]);
    let beats = |s: f32, o: u32| {
        let s = key(s);
        s > st || (s == st && o < ot)
    };
    let ahead = scores
        .iter()
        .zip(order)
        .filter(|&(&s, &o)| beats(s, o))
        .count();
    let mut seen: Vec<u32> = excluded
        .iter()
        .copied()
        .filter(|&i| i != target && i >= 1)
        .collect();
    seen.sort_unstable();
    seen.dedup();
    let skipped = seen
        .iter()
        .filter_map(|&i| Some((*scores.get(i as usize - 1)?, *order.get(i as usize - 1)?)))
        .filter(|&(s, o)| beats(s, o))
        .count();
    ahead - skipped
}

/// Ranks each case's target under `baseline` with `rank_with_backfill` (in parallel, the
/// cases' order kept in the result). `filter_seen` removes the input's items (except the
/// target) from the ranking; the SR-GNN protocol keeps them.
pub fn evaluate(
    baseline: &dyn Baseline,
    popularity: &Popularity,
    cases: &[Case],
    filter_seen: bool,
) -> Metrics {
    let n = popularity.num_items();
    let ranks: Vec<usize> = cases
        .par_iter()
        .map_init(
            || vec![0.0f32; n],
            |scores, case| {
                baseline.score(&case.input, scores);
                let excluded: &[u32] = if filter_seen { &case.input } else { &[] };
                rank_with_backfill(scores, popularity, case.target, excluded)
            },
        )
        .collect();
    let mut metrics = Metrics::default();
    for rank in ranks {
        metrics.add(rank);
    }
    metrics
}

/// Whether `item` is an internal index of a catalogue of `num_items` (1..=N).
fn valid(item: u32, num_items: usize) -> bool {
    item >= 1 && item as usize <= num_items
}

#[cfg(test)]
mod tests {
    use super::{Baseline, Popularity, SequentialRules, rank_with_backfill};

    #[test]
    fn ties_are_broken_by_popularity_then_index_and_seen_items_skipped() {
        let sessions = vec![vec![1, 2, 3], vec![1, 3], vec![4, 4]];
        let popularity = Popularity::fit(&sessions, 6);
        // clicks: 1 → 2, 2 → 1, 3 → 2, 4 → 2, 5 and 6 → 0; order 1, 3, 4, 2, 5, 6.
        let sr = SequentialRules::fit(&sessions, 6);
        let mut s = vec![f32::NAN; 6];
        sr.score(&[2, 1], &mut s); // 2 → 1, 3 → 1.5
        assert_eq!(rank_with_backfill(&s, &popularity, 3, &[]), 0);
        assert_eq!(rank_with_backfill(&s, &popularity, 2, &[]), 1);
        assert_eq!(
            rank_with_backfill(&s, &popularity, 4, &[]),
            3,
            "after 3, 2 and the best seller 1"
        );
        assert_eq!(rank_with_backfill(&s, &popularity, 6, &[]), 5);
        assert_eq!(rank_with_backfill(&s, &popularity, 6, &[2, 1, 1]), 3);
        assert_eq!(
            rank_with_backfill(&s, &popularity, 7, &[]),
            6,
            "an unknown target ranks last"
        );
    }
}
