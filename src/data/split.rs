//! The two splits: leave-one-out for user histories (per user, the last item is the test
//! target, the one before it the validation target, everything earlier training data), and
//! the session-based protocol for shop sessions (whole sessions train; a share of them, the
//! latest, validates with every prefix a case; the test cases come from later sessions).

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha12Rng;

use super::Interactions;
use super::cases::prefix_cases;

/// One evaluation case: the history the model sees and the item it should rank high.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// Input history, oldest first (internal indices).
    pub input: Vec<u32>,
    /// The held-out next item.
    pub target: u32,
}

/// Which training sessions validate, under [`Split::sessions`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Holdout {
    /// The latest sessions (the log is in time order).
    Latest,
    /// Sessions drawn at random with this seed (the log has no times).
    Random(u64),
}

/// Share of the training sessions that validates under [`Split::sessions`].
pub const VALID_SHARE: f64 = 0.1;

/// Training sequences and the validation and test cases of a log.
#[derive(Clone, Debug, Default)]
pub struct Split {
    /// Per user, the training prefix (every position predicts its next item).
    pub train: Vec<Vec<u32>>,
    /// Input = training prefix, target = second-to-last item.
    pub valid: Vec<Case>,
    /// Input = training prefix + validation item, target = last item.
    pub test: Vec<Case>,
}

impl Split {
    /// Splits every user's history. Users with fewer than three interactions are too short
    /// to hold out two items: their whole history goes to training.
    pub fn leave_one_out(interactions: &Interactions) -> Self {
        let mut split = Self::default();
        for user in &interactions.users {
            let items = &user.items;
            let n = items.len();
            if n < 3 {
                split.train.push(items.clone());
                continue;
            }
            split.train.push(items[..n - 2].to_vec());
            split.valid.push(Case {
                input: items[..n - 2].to_vec(),
                target: items[n - 2],
            });
            split.test.push(Case {
                input: items[..n - 1].to_vec(),
                target: items[n - 1],
            });
        }
        split
    }
}

impl Split {
    /// The session-based protocol: every training session is trained whole, except a
    /// [`VALID_SHARE`] of them (at least one) chosen by `holdout`, whose every prefix is a
    /// validation case; `test` holds the test cases. Sessions of one click train nothing
    /// and are skipped.
    pub fn sessions(sessions: &[Vec<u32>], holdout: Holdout, test: Vec<Case>) -> Self {
        let usable: Vec<&Vec<u32>> = sessions.iter().filter(|s| s.len() >= 2).collect();
        let held = ((usable.len() as f64 * VALID_SHARE).ceil() as usize).min(usable.len());
        let mut order: Vec<usize> = (0..usable.len()).collect();
        if let Holdout::Random(seed) = holdout {
            order.shuffle(&mut ChaCha12Rng::seed_from_u64(seed));
        } else {
            order.reverse();
        }
        let mut is_valid = vec![false; usable.len()];
        for &i in &order[..held] {
            is_valid[i] = true;
        }
        let (valid, train): (Vec<_>, Vec<_>) =
            usable.into_iter().zip(is_valid).partition(|(_, v)| *v);
        let valid: Vec<Vec<u32>> = valid.into_iter().map(|(s, _)| s.clone()).collect();
        Self {
            train: train.into_iter().map(|(s, _)| s.clone()).collect(),
            valid: prefix_cases(&valid),
            test,
        }
    }
}
