//! Ranking scores over the whole catalogue: the one routine behind evaluation, the CLI and
//! the browser. `scores[j]` is the score of internal item `j + 1`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A score as ranked: NaN counts as −∞.
fn key(score: f32) -> f32 {
    if score.is_nan() {
        f32::NEG_INFINITY
    } else {
        score
    }
}

/// Orders scores high to low with NaN last; ties go to the lower item index.
fn better(a: (usize, f32), b: (usize, f32)) -> Ordering {
    key(b.1).total_cmp(&key(a.1)).then(a.0.cmp(&b.0))
}

/// A candidate in the running top k; the heap's greatest element is the worst kept.
#[derive(Clone, Copy, PartialEq)]
struct Kept(usize, f32);

impl Eq for Kept {}

impl Ord for Kept {
    fn cmp(&self, other: &Self) -> Ordering {
        better((self.0, self.1), (other.0, other.1))
    }
}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The `k` best items (internal index, score) among those `allowed` accepts, best first.
/// One pass with a k-sized heap; once it is full, an item must score strictly above the
/// worst kept (a later item loses ties), and `allowed` is asked only about items that would
/// enter.
pub fn top_k(scores: &[f32], k: usize, allowed: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
    let mut kept: BinaryHeap<Kept> = BinaryHeap::with_capacity(k.min(scores.len()) + 1);
    let mut threshold = f32::NEG_INFINITY; // the worst kept score, once the heap is full
    for (j, &s) in scores.iter().enumerate() {
        let full = kept.len() == k;
        if (full && key(s) <= threshold) || k == 0 || !allowed(j as u32 + 1) {
            continue;
        }
        kept.push(Kept(j, s));
        if kept.len() > k {
            kept.pop();
        }
        if kept.len() == k {
            threshold = kept.peek().map_or(f32::NEG_INFINITY, |worst| key(worst.1));
        }
    }
    kept.into_sorted_vec()
        .into_iter()
        .map(|Kept(j, s)| (j as u32 + 1, s))
        .collect()
}

/// 0-based rank of `target` among all items: how many score strictly higher. Items in
/// `excluded` (other than the target) do not count.
pub fn rank_of(scores: &[f32], target: u32, excluded: &[u32]) -> usize {
    let target_score = scores[target as usize - 1];
    if target_score.is_nan() {
        return scores.len();
    }
    let higher = scores.iter().filter(|&&s| s > target_score).count();
    let mut seen: Vec<u32> = excluded.iter().copied().filter(|&i| i != target).collect();
    seen.sort_unstable();
    seen.dedup();
    let excluded_higher = seen
        .iter()
        .filter(|&&i| scores[i as usize - 1] > target_score)
        .count();
    higher - excluded_higher
}
