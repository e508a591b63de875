//! Choosing the [`RepeatBonus`] of a session model after training: every bonus of a small
//! grid is tried on the validation cases, in one pass of the network over them, and the one
//! with the best validation NDCG@10 (early stopping's figure) is kept. Only under the session
//! protocol, whose validation cases keep the session's items in the ranking; under
//! leave-one-out the model keeps no bonus.

use rayon::prelude::*;

#[cfg(doc)]
use crate::eval::evaluate;
use crate::eval::{NonFiniteScores, RepeatFit, score_cases};
use crate::metrics::Metrics;
use crate::model::{Awrsr, ModelConfig, RepeatBonus, window};
use crate::protocol::{Prepared, Protocol};

/// The bonuses tried (in units of the hidden state's length: cosines, under cosine scoring).
/// A bonus above 2 lifts an item above every item outside the session (cosines differ by at
/// most 2).
pub const BONUSES: [f32; 13] = [
    0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0,
];
/// The decays tried per click back.
pub const DECAYS: [f32; 5] = [1.0, 0.85, 0.7, 0.5, 0.3];

/// The grid in order: no bonus first, then each bonus with each decay.
fn grid() -> Vec<RepeatBonus> {
    let mut grid = vec![RepeatBonus::NONE];
    for &bonus in BONUSES.iter().filter(|&&b| b > 0.0) {
        grid.extend(DECAYS.iter().map(|&decay| RepeatBonus { bonus, decay }));
    }
    grid
}

/// The grid's bonus with the highest validation NDCG@10 for `model` of `config` on
/// `prepared`'s validation cases (ties: the earlier, so no bonus unless one helps), with
/// the validation figures without a bonus; `None` outside the session protocol.
pub fn fit_repeat_bonus(
    model: &Awrsr,
    config: &ModelConfig,
    prepared: &Prepared,
    device: &burn::tensor::Device,
) -> Result<Option<RepeatFit>, NonFiniteScores> {
    if prepared.protocol != Protocol::Sessions {
        return Ok(None);
    }
    let cases = &prepared.split.valid;
    let grid = grid();
    // Ranks by candidate, then case: added in the cases' order, as `evaluate` adds them.
    let mut ranks = vec![vec![0usize; cases.len()]; grid.len()];
    score_cases(model, config.max_len, cases, device, |chunk, scored| {
        let chunk_ranks: Vec<Vec<usize>> = chunk
            .par_iter()
            .zip(scored.par_iter())
            .map(|(&i, &(row, norm))| {
                let recency = RepeatBonus::recency(window(&cases[i].input, config.max_len));
                grid.iter()
                    .map(|bonus| rank_with(row, norm, cases[i].target, &recency, bonus))
                    .collect()
            })
            .collect();
        for (&i, case_ranks) in chunk.iter().zip(chunk_ranks) {
            for (by_case, rank) in ranks.iter_mut().zip(case_ranks) {
                by_case[i] = rank;
            }
        }
    })?;
    let metrics: Vec<Metrics> = ranks
        .into_iter()
        .map(|by_case| {
            let mut m = Metrics::default();
            by_case.into_iter().for_each(|rank| m.add(rank));
            m
        })
        .collect();
    let ndcg = |m: &Metrics| m.get("NDCG@10");
    let best = (1..grid.len()).fold(0, |best, i| {
        if ndcg(&metrics[i]) > ndcg(&metrics[best]) {
            i
        } else {
            best
        }
    });
    Ok(Some(RepeatFit {
        chosen: grid[best],
        valid_without: metrics[0].averages(),
    }))
}

/// `config` with [`fit_repeat_bonus`]'s choice (no bonus outside the session protocol), and
/// the fit: what training does once early stopping has chosen the model.
pub fn with_repeat_bonus(
    model: &Awrsr,
    config: &ModelConfig,
    prepared: &Prepared,
    device: &burn::tensor::Device,
) -> Result<(ModelConfig, Option<RepeatFit>), NonFiniteScores> {
    let fit = fit_repeat_bonus(model, config, prepared, device)?;
    let config = ModelConfig {
        repeat: fit.as_ref().map_or(RepeatBonus::NONE, |f| f.chosen),
        ..config.clone()
    };
    Ok((config, fit))
}

/// The 0-based rank of `target` among all items of `row` (entry j is item j + 1) once
/// `bonus` is added to the items of `recency` ([`RepeatBonus::recency`]) for a hidden state
/// of length `norm`: the rank [`evaluate`] gives under that bonus (the same float sums),
/// without writing the row.
fn rank_with(
    row: &[f32],
    norm: f32,
    target: u32,
    recency: &[(u32, usize)],
    bonus: &RepeatBonus,
) -> usize {
    let Some(&own) = (target as usize).checked_sub(1).and_then(|j| row.get(j)) else {
        return row.len();
    };
    let added = |back: usize| norm * bonus.at(back);
    let own_bonus = recency
        .iter()
        .find(|&&(item, _)| item == target)
        .map_or(0.0, |&(_, back)| added(back));
    let score = if bonus.is_none() {
        own
    } else {
        own + own_bonus
    };
    let mut rank = row.iter().filter(|&&s| s > score).count();
    if bonus.is_none() {
        return rank;
    }
    for &(item, back) in recency.iter().filter(|&&(item, _)| item != target) {
        if let Some(&s) = (item as usize).checked_sub(1).and_then(|j| row.get(j)) {
            rank += usize::from(s + added(back) > score);
            rank -= usize::from(s > score);
        }
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::{grid, rank_with};
    use crate::model::RepeatBonus;
    use crate::rank::rank_of;

    #[test]
    fn ranks_match_a_row_with_the_bonus_written_in() {
        let row = [0.9, 0.5, 0.45, 0.3, 0.1, -0.2];
        let window = [5, 2, 6, 3, 6];
        let recency = RepeatBonus::recency(&window);
        for bonus in grid() {
            for target in 1..=6u32 {
                let mut written = row.to_vec();
                bonus.apply(&mut written, &window, 1.5);
                assert_eq!(
                    rank_with(&row, 1.5, target, &recency, &bonus),
                    rank_of(&written, target, &[]),
                    "{bonus:?}, target {target}"
                );
            }
        }
    }
}
