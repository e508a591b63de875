//! The leave-one-out split: per user, the last item is the test target, the one before it
//! the validation target, and everything earlier is training data.

use super::Interactions;

/// One evaluation case: the history the model sees and the item it should rank high.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// Input history, oldest first (internal indices).
    pub input: Vec<u32>,
    /// The held-out next item.
    pub target: u32,
}

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
            split.valid.push(Case { input: items[..n - 2].to_vec(), target: items[n - 2] });
            split.test.push(Case { input: items[..n - 1].to_vec(), target: items[n - 1] });
        }
        split
    }
}
