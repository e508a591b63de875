//! How the command line splits a log: leave-one-out per user, or the session-based
//! protocol (whole sessions train, a tenth validates, and the test cases come from a file,
//! from the sessions the standard preprocessing held out, or from the log's last tenth).

use std::error::Error;

use clap::ValueEnum;

use super::{DataArgs, say};
use crate::data::{self, Holdout, Interactions, Log, Split};
use crate::eval::Protocol;

/// How a log is split into training, validation and test data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum SplitChoice {
    /// Sessions when a test file is given, leave-one-out otherwise.
    Auto,
    /// The session-based protocol.
    Sessions,
    /// Leave-one-out per user.
    LeaveOneOut,
}

/// A log split for training and evaluation.
pub(super) struct Prepared {
    pub split: Split,
    pub protocol: Protocol,
    /// Under the session protocol, every training session (the validating ones included).
    pub sessions: Vec<Vec<u32>>,
}

/// Splits `interactions` (`log`'s, maybe re-indexed for a model) as `args` asks: a click
/// export or a test file means the session protocol. Validating sessions are the latest
/// when the log has times, else drawn with `seed`.
pub(super) fn prepare(
    args: &DataArgs,
    log: &Log,
    interactions: &Interactions,
    seed: u64,
) -> Result<Prepared, Box<dyn Error>> {
    let sessions_protocol = match args.split {
        SplitChoice::Auto => args.test.is_some() || log.format.is_click_export(),
        SplitChoice::Sessions => true,
        SplitChoice::LeaveOneOut if args.test.is_some() => {
            return Err("--test needs the session split, not --split leave-one-out".into());
        }
        SplitChoice::LeaveOneOut => false,
    };
    if !sessions_protocol {
        return Ok(Prepared {
            split: Split::leave_one_out(interactions),
            protocol: Protocol::LeaveOneOut,
            sessions: Vec::new(),
        });
    }
    let mut sessions: Vec<Vec<u32>> = interactions.users.iter().map(|u| u.items.clone()).collect();
    let test = match &args.test {
        Some(path) => {
            let file = data::load_cases(path, &interactions.catalogue)?;
            say(format!(
                "test: {} — {} cases ({} left out: target unknown to the training log; {} input clicks on unknown items skipped)",
                path.display(),
                file.cases.len(),
                file.unknown_targets,
                file.unknown_inputs
            ));
            file.cases
        }
        None if log.held_out.is_some() => {
            let held_out = log.held_out.as_deref().unwrap_or_default();
            let indexed: Vec<Vec<u32>> = held_out
                .iter()
                .map(|s| {
                    s.iter()
                        .filter_map(|id| interactions.catalogue.index_of(id))
                        .collect()
                })
                .collect();
            let cases = data::prefix_cases(&known_only(
                indexed,
                &sessions,
                interactions.catalogue.len(),
            ));
            say(format!(
                "test: the {} sessions the preprocessing held out — {} cases",
                held_out.len(),
                cases.len()
            ));
            cases
        }
        None => {
            let held = sessions.len() / 10;
            let test_sessions = known_only(
                sessions.split_off(sessions.len() - held),
                &sessions,
                interactions.catalogue.len(),
            );
            let cases = data::prefix_cases(&test_sessions);
            say(format!(
                "test: the last {held} sessions of the log — {} cases",
                cases.len()
            ));
            cases
        }
    };
    let (holdout, which) = if log.timed {
        (Holdout::Latest, "the latest")
    } else {
        (Holdout::Random(seed), "a random")
    };
    let split = Split::sessions(&sessions, holdout, test);
    say(format!(
        "split: {} training sessions, {} validation cases (every prefix of {which} 10%)",
        split.train.len(),
        split.valid.len()
    ));
    Ok(Prepared {
        split,
        protocol: Protocol::Sessions,
        sessions,
    })
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
