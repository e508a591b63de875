//! The popularity baseline: every item scored by its click count in training. Its order
//! (best seller first) also breaks ties for every baseline in [`super::evaluate`].

use super::{Baseline, valid};

/// Click counts in the training sessions, and the items' order by them.
#[derive(Clone, Debug)]
pub struct Popularity {
    /// Clicks of item `j + 1`.
    counts: Vec<f32>,
    /// Position of item `j + 1` in the order by clicks (most first), ties to the lower index.
    order: Vec<u32>,
}

impl Popularity {
    /// Counts the clicks of `sessions` over items 1..=`num_items`.
    pub fn fit(sessions: &[Vec<u32>], num_items: usize) -> Self {
        let mut counts = vec![0.0f32; num_items];
        for &item in sessions.iter().flatten() {
            if valid(item, num_items) {
                counts[item as usize - 1] += 1.0;
            }
        }
        let mut by_clicks: Vec<usize> = (0..num_items).collect();
        by_clicks.sort_by(|&a, &b| counts[b].total_cmp(&counts[a]).then(a.cmp(&b)));
        let mut order = vec![0u32; num_items];
        for (position, &j) in by_clicks.iter().enumerate() {
            order[j] = position as u32;
        }
        Self { counts, order }
    }

    /// Number of items N.
    pub fn num_items(&self) -> usize {
        self.counts.len()
    }

    /// Clicks of each item (`[j]` is item `j + 1`).
    pub fn counts(&self) -> &[f32] {
        &self.counts
    }

    /// Each item's 0-based position by clicks, most first, ties to the lower index
    /// (`[j]` is item `j + 1`).
    pub fn order(&self) -> &[u32] {
        &self.order
    }
}

impl Baseline for Popularity {
    fn name(&self) -> &'static str {
        "POP"
    }

    fn score(&self, _input: &[u32], scores: &mut [f32]) {
        scores.fill(0.0);
        for (s, &c) in scores.iter_mut().zip(&self.counts) {
            *s = c;
        }
    }
}
