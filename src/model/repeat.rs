//! The repeat bonus: a session's own items scored up by how recently they were clicked.
//!
//! Shop visitors go back to what they have just looked at: on Diginetica a fifth of the next
//! clicks are items already in the session, and the network alone ranks those lower than
//! session kNN does (its "remind" scoring). The bonus adds to the score of each item of the
//! session window `‖h‖ · bonus · decay^(k − 1)`, `k` = 1 for the newest click, counting each
//! item at its latest click; `h` is the session's hidden state, so under cosine scoring (unit
//! item rows) the bonus is in cosine units whatever the session's length. It is chosen on the
//! validation cases after training (`train::fit_repeat_bonus`) and stored in the bundle's
//! configuration; 0 (the default, and every bundle from before it) leaves the scores as the
//! network computes them. Removing session items from the rankings (`exclude_seen`,
//! `--filter-seen`) makes it moot.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// How much a session's own items are scored up ([the module](self)).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatBonus {
    /// The newest click's bonus, in units of the hidden state's length (0: none).
    pub bonus: f32,
    /// Factor per click further back (1: every session item the same).
    pub decay: f32,
}

impl Default for RepeatBonus {
    fn default() -> Self {
        Self::NONE
    }
}

impl RepeatBonus {
    /// No bonus: the network's scores.
    pub const NONE: Self = Self {
        bonus: 0.0,
        decay: 1.0,
    };
    /// Largest bonus a bundle may hold.
    pub const MAX_BONUS: f32 = 100.0;

    /// Whether this is [`Self::NONE`] (no bonus at all).
    pub fn is_none(&self) -> bool {
        self.bonus == 0.0
    }

    /// Checks the ranges: bonus in [0, [`Self::MAX_BONUS`]], decay in [0, 1].
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=Self::MAX_BONUS).contains(&self.bonus) {
            return Err(format!(
                "repeat bonus {} is not a number in [0, {}]",
                self.bonus,
                Self::MAX_BONUS
            ));
        }
        if !(0.0..=1.0).contains(&self.decay) {
            return Err(format!(
                "repeat decay {} is not a number in [0, 1]",
                self.decay
            ));
        }
        Ok(())
    }

    /// The bonus of an item whose latest click is `k` clicks back (1: the newest), in units
    /// of the hidden state's length.
    pub fn at(&self, k: usize) -> f32 {
        self.bonus
            * self
                .decay
                .powi(k.saturating_sub(1).min(i32::MAX as usize) as i32)
    }

    /// Each distinct item of `window` (oldest first) with how many clicks back its latest
    /// click is (1: the newest), newest first.
    pub fn recency(window: &[u32]) -> Vec<(u32, usize)> {
        let mut seen = HashSet::with_capacity(window.len());
        window
            .iter()
            .rev()
            .enumerate()
            .filter(|&(_, item)| seen.insert(*item))
            .map(|(back, &item)| (item, back + 1))
            .collect()
    }

    /// The bonus [`Self::apply`] adds to `item`'s score.
    pub fn added(&self, window: &[u32], item: u32, norm: f32) -> f32 {
        match self.is_none() {
            true => 0.0,
            false => window
                .iter()
                .rev()
                .position(|&i| i == item)
                .map_or(0.0, |back| norm * self.at(back + 1)),
        }
    }

    /// Adds the bonus to `scores` (entry j is item j + 1) for the items of `window`, the
    /// session as the network read it, whose hidden state has length `norm`. Items outside
    /// the scores are ignored.
    pub fn apply(&self, scores: &mut [f32], window: &[u32], norm: f32) {
        if self.is_none() {
            return;
        }
        for (item, back) in Self::recency(window) {
            if let Some(score) = (item as usize)
                .checked_sub(1)
                .and_then(|j| scores.get_mut(j))
            {
                *score += norm * self.at(back);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RepeatBonus;

    #[test]
    fn the_latest_click_counts_and_older_ones_decay() {
        let bonus = RepeatBonus {
            bonus: 0.5,
            decay: 0.5,
        };
        assert_eq!(
            RepeatBonus::recency(&[3, 1, 3, 2]),
            [(2, 1), (3, 2), (1, 3)]
        );
        let mut scores = vec![0.0; 4];
        bonus.apply(&mut scores, &[3, 1, 3, 2, 9], 2.0);
        // 9 is outside the scores; 2 is two back, 3 three back, 1 four back.
        assert_eq!(scores, [0.125, 0.5, 0.25, 0.0]);
        let added: Vec<f32> = (1..=4)
            .map(|i| bonus.added(&[3, 1, 3, 2, 9], i, 2.0))
            .collect();
        assert_eq!(added, scores);
        let mut untouched = vec![1.0; 4];
        RepeatBonus::NONE.apply(&mut untouched, &[1, 2], 2.0);
        assert_eq!(untouched, [1.0; 4]);
    }

    #[test]
    fn out_of_range_values_are_refused() {
        for (bonus, decay) in [(-0.1, 1.0), (f32::NAN, 1.0), (1.0, 1.5), (1.0, f32::NAN)] {
            assert!(RepeatBonus { bonus, decay }.validate().is_err());
        }
        assert!(RepeatBonus::NONE.validate().is_ok());
    }
}
