//! Test-case files of the session-based protocol: one case a line, `name item … target`
//! (the shared `t<n>` files of SR-GNN's preprocessing), the last id the target and the ones
//! before it the input, oldest first. Read against a trained catalogue: input items it lacks
//! are skipped, and a case whose target it lacks is left out (the protocol drops test items
//! unseen in training), both counted.

use std::path::Path;

use super::formats::{malformed, numbered_lines, read_text};
use super::{Case, DataError};
use crate::catalogue::{Catalogue, excerpt};

/// Test cases read from a file, with what was left out.
#[derive(Clone, Debug, Default)]
pub struct CaseFile {
    /// The cases kept, in file order.
    pub cases: Vec<Case>,
    /// Cases left out because the catalogue lacks their target.
    pub unknown_targets: usize,
    /// Input clicks skipped because the catalogue lacks their item.
    pub unknown_inputs: usize,
}

/// Reads the cases at `path` (at least one id after the name on every line) against
/// `catalogue`. Errors name the file and line.
pub fn load_cases(path: &Path, catalogue: &Catalogue) -> Result<CaseFile, DataError> {
    let text = read_text(path)?;
    let mut file = CaseFile::default();
    for (number, line) in numbered_lines(&text) {
        let mut fields = line.split_whitespace();
        let name = fields.next().unwrap_or_default();
        let ids: Vec<&str> = fields.collect();
        let Some((target, input)) = ids.split_last() else {
            let reason = format!(
                "case {} has no items: expected `name item … target`",
                excerpt(name)
            );
            return Err(malformed(path, number, reason));
        };
        let Some(target) = catalogue.index_of(target) else {
            file.unknown_targets += 1;
            continue;
        };
        let known: Vec<u32> = input
            .iter()
            .filter_map(|id| catalogue.index_of(id))
            .collect();
        file.unknown_inputs += input.len() - known.len();
        file.cases.push(Case {
            input: known,
            target,
        });
    }
    if file.cases.is_empty() {
        let reason = format!(
            "none of its {} cases has a target the model knows",
            file.unknown_targets
        );
        return Err(DataError::Empty {
            path: path.into(),
            reason,
        });
    }
    Ok(file)
}

/// Every prefix of each session as a case: the clicks before a position are the input and
/// the click there the target (the protocol's test cases), sessions in order.
pub fn prefix_cases(sessions: &[Vec<u32>]) -> Vec<Case> {
    sessions
        .iter()
        .flat_map(|s| {
            (1..s.len()).map(move |t| Case {
                input: s[..t].to_vec(),
                target: s[t],
            })
        })
        .collect()
}
