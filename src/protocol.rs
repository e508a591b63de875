//! How a log is split for training and evaluation, shared by the CLI and the studio:
//! leave-one-out per user, or the session-based protocol (whole sessions train, a tenth
//! validates, and the test cases are given, come from the sessions the standard
//! preprocessing held out, or are every prefix of the log's last tenth).

use serde::Serialize;

use crate::data::{Case, Holdout, Interactions, Log, Split, prefix_cases};

/// The evaluation protocol a split (and a report) follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// Per user, the last item is the test target and the one before it validates.
    LeaveOneOut,
    /// Whole sessions train; later sessions test, every prefix a case (SR-GNN's protocol).
    Sessions,
}

/// A log split for training and evaluation.
pub struct Prepared {
    /// Training sequences, validation and test cases.
    pub split: Split,
    /// The protocol followed.
    pub protocol: Protocol,
    /// Under the session protocol, every training session (the validating ones included),
    /// which the simple baselines fit on.
    pub sessions: Vec<Vec<u32>>,
    /// Under the session protocol, which training sessions validate.
    pub holdout: Option<Holdout>,
    /// Under the session protocol on a log with times, the start (Unix seconds) of each
    /// session that trains or validates, ascending: the split's training sessions, then the
    /// validating ones (the newest), as a refit trains them.
    pub starts: Option<Vec<f64>>,
}

impl Prepared {
    /// Whether a refit (`train --refit`) follows early stopping by default: under the
    /// session protocol when the newest sessions validate (the log has times), since the
    /// model would otherwise never train on them.
    pub fn refits_by_default(&self) -> bool {
        self.holdout == Some(Holdout::Latest)
    }

    /// What a refit trains on: every training session that has a step (two clicks or more),
    /// the validating ones included.
    pub fn refit_sessions(&self) -> impl Iterator<Item = &Vec<u32>> {
        self.sessions.iter().filter(|s| s.len() >= 2)
    }

    /// The start of the newest session a model trains on, where the log has times: of the
    /// training sessions, or with `refitting` of the validating ones too.
    pub fn trained_until(&self, refitting: bool) -> Option<f64> {
        let starts = self.starts.as_deref()?;
        let trained = if refitting {
            starts.len()
        } else {
            self.split.train.len()
        };
        starts[..trained.min(starts.len())].last().copied()
    }

    /// How many of the leading training sessions start before `until` (sessions are in
    /// order of their start), where the log has times. Sessions starting at `until` itself
    /// count as newer: with times by the day, some of them may never have trained. So do
    /// validating sessions before it (a log hardly newer than `until`): they train in full.
    pub fn training_sessions_before(&self, until: f64) -> Option<usize> {
        let starts = self.starts.as_deref()?;
        let old = starts.iter().take_while(|&&start| start < until).count();
        Some(old.min(self.split.train.len()))
    }
}

/// Splits `interactions` (`log`'s, maybe re-indexed for a model) under `protocol`. Under
/// the session protocol the test cases are `test` when given, else the sessions `log`'s
/// preprocessing held out, else every prefix of the log's last tenth of sessions; the
/// validating sessions are the latest when the log has times, else drawn with `seed`.
/// Each step is described through `say`.
pub fn prepare(
    log: &Log,
    interactions: &Interactions,
    protocol: Protocol,
    test: Option<Vec<Case>>,
    seed: u64,
    say: &mut dyn FnMut(String),
) -> Prepared {
    if protocol == Protocol::LeaveOneOut {
        return Prepared {
            split: Split::leave_one_out(interactions),
            protocol,
            sessions: Vec::new(),
            holdout: None,
            starts: None,
        };
    }
    let mut sessions: Vec<Vec<u32>> = interactions.users.iter().map(|u| u.items.clone()).collect();
    let num_items = interactions.catalogue.len();
    let test = match (test, log.held_out.as_deref()) {
        (Some(cases), _) => cases,
        (None, Some(held_out)) => {
            let indexed: Vec<Vec<u32>> = held_out
                .iter()
                .map(|s| {
                    s.iter()
                        .filter_map(|id| interactions.catalogue.index_of(id))
                        .collect()
                })
                .collect();
            let cases = prefix_cases(&known_only(indexed, &sessions, num_items));
            say(format!(
                "test: the {} sessions the preprocessing held out — {} cases",
                held_out.len(),
                cases.len()
            ));
            cases
        }
        (None, None) => {
            let held = sessions.len() / 10;
            let last = sessions.split_off(sessions.len() - held);
            let cases = prefix_cases(&known_only(last, &sessions, num_items));
            say(format!(
                "test: the last {held} sessions of the log — {} cases",
                cases.len()
            ));
            cases
        }
    };
    let (holdout, which) = if log.timed() {
        (Holdout::Latest, "the latest")
    } else {
        (Holdout::Random(seed), "a random")
    };
    let split = Split::sessions(&sessions, holdout, test);
    // Under a split by time the validating sessions are the newest: they come last.
    let starts = log.starts.as_ref().map(|starts| {
        let usable = sessions.iter().zip(starts).filter(|(s, _)| s.len() >= 2);
        usable.map(|(_, &start)| start).collect()
    });
    say(format!(
        "split: {} training sessions, {} validation cases (every prefix of {which} 10%)",
        split.train.len(),
        split.valid.len()
    ));
    Prepared {
        split,
        protocol,
        sessions,
        holdout: Some(holdout),
        starts,
    }
}

/// `test` sessions without the items that no `train` session has (the protocol's rule: a
/// model cannot know them), keeping those still two clicks long.
fn known_only(test: Vec<Vec<u32>>, train: &[Vec<u32>], num_items: usize) -> Vec<Vec<u32>> {
    let mut known = vec![false; num_items + 1];
    train
        .iter()
        .flatten()
        .for_each(|&i| known[i as usize] = true);
    test.into_iter()
        .map(|s| {
            s.into_iter()
                .filter(|&i| known[i as usize])
                .collect::<Vec<u32>>()
        })
        .filter(|s| s.len() >= 2)
        .collect()
}
