//! How the command line chooses the split of a log (`--split`, `--test`); the split itself
//! is [`crate::protocol`]'s.

use std::error::Error;

use clap::ValueEnum;

use super::{DataArgs, say};
use crate::data::{self, Interactions, Log};
use crate::protocol::{Prepared, Protocol};

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

/// Splits `interactions` (`log`'s, maybe re-indexed for a model) as `args` asks: a click
/// export or a test file means the session protocol ([`crate::protocol::prepare`]).
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
            Some(file.cases)
        }
        None => None,
    };
    let protocol = match sessions_protocol {
        true => Protocol::Sessions,
        false => Protocol::LeaveOneOut,
    };
    Ok(crate::protocol::prepare(
        log,
        interactions,
        protocol,
        test,
        seed,
        &mut |line| say(line),
    ))
}
