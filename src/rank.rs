//! Ranking scores over the whole catalogue: the one routine behind evaluation, the CLI and
//! the browser. `scores[j]` is the score of internal item `j + 1`.

use std::cmp::Ordering;

/// Orders scores high to low with NaN last; ties go to the lower item index.
fn better(a: (usize, f32), b: (usize, f32)) -> Ordering {
    let key = |s: f32| if s.is_nan() { f32::NEG_INFINITY } else { s };
    key(b.1).total_cmp(&key(a.1)).then(a.0.cmp(&b.0))
}

/// The `k` best items (internal index, score) among those `allowed` accepts, best first.
pub fn top_k(scores: &[f32], k: usize, allowed: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
    let mut candidates: Vec<(usize, f32)> = scores
        .iter()
        .enumerate()
        .filter(|(j, _)| allowed(*j as u32 + 1))
        .map(|(j, &s)| (j, s))
        .collect();
    if k < candidates.len() {
        candidates.select_nth_unstable_by(k, |a, b| better(*a, *b));
        candidates.truncate(k);
    }
    candidates.sort_by(|a, b| better(*a, *b));
    candidates.into_iter().map(|(j, s)| (j as u32 + 1, s)).collect()
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
    let excluded_higher = seen.iter().filter(|&&i| scores[i as usize - 1] > target_score).count();
    higher - excluded_higher
}
