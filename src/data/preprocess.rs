//! The standard preprocessing of session logs, as SR-GNN's `datasets/preprocess.py`
//! (CRIPAC-DIG/SR-GNN, Wu et al., AAAI 2019) does it for Diginetica and most later papers
//! copy: short sessions and rare items dropped, the last days' sessions held out as the test
//! set, test clicks on items unseen in training dropped, every prefix of a test session a
//! test case.
//!
//! Each step below names the lines of `preprocess.py` it reproduces, quirks included:
//!
//! 1. `if len(sess_clicks[s]) == 1: del …`: sessions shorter than
//!    [`Standard::min_session_length`] (2) are dropped.
//! 2. `iid_counts` counts every click (not sessions) of the sessions left; then
//!    `filter(lambda i: iid_counts[i] >= 5, curseq)` drops the clicks on items seen fewer than
//!    [`Standard::min_item_support`] (5) times, and `if len(filseq) < 2: del …` drops the
//!    sessions left too short. One pass: an item whose count falls below 5 through these
//!    drops is kept.
//! 3. `maxdate` is the latest time of the sessions *left after step 2* (`sess_date` entries
//!    are deleted with their sessions); `splitdate = maxdate - 86400 * 7`. Training sessions
//!    are those with `date < splitdate`, test sessions those with `date > splitdate`: a
//!    session dated exactly at the split date is in neither (with Diginetica's whole-day
//!    dates, every session of the day 7 days before the last one is dropped).
//! 4. `sorted(tra_sess, key=operator.itemgetter(1))`: sessions ordered by date only, stably,
//!    so ties keep the order of `sess_clicks` (a dict: the order in which each session id
//!    first appears in the file), not the session id. [`SessionLog`] already has this order;
//!    it is re-established here for hand-made logs.
//! 5. `obtian_tra`: training items are numbered in order of first appearance in the sorted
//!    training sessions (callers that build a catalogue from [`Preprocessed::train`] in order
//!    get the same numbering); `if len(outseq) < 2: continue` never fires.
//! 6. `obtian_tes`: test clicks on items absent from the training sessions are dropped, then
//!    test sessions shorter than 2 (`if len(outseq) < 2: continue`).
//! 7. `process_seqs`: each test session of n clicks gives n − 1 cases, the longest input
//!    first (`for i in range(1, len(seq)): tar = seq[-i]; seq[:-i]`): [`test_cases`].
//!
//! A log without times (file order is time order) cannot be split by date: the last
//! [`Standard::test_fraction`] of its sessions (after steps 1–2, in file order) are the test
//! sessions instead, rounded to the nearest whole session.

use std::collections::{HashMap, HashSet};

use super::events::{Session, SessionLog, format_time};

/// Settings of the standard preprocessing (SR-GNN's values by default).
#[derive(Clone, Debug, PartialEq)]
pub struct Standard {
    /// Shorter sessions are dropped, before and after the item filter and from the test set.
    pub min_session_length: usize,
    /// Items with fewer clicks are dropped.
    pub min_item_support: usize,
    /// Sessions dated after the latest session's time minus this many days are the test set
    /// (SR-GNN: 7 for Diginetica, 1 for YooChoose).
    pub test_days: f64,
    /// For a log without times: the share of sessions, the last by file order, held out.
    pub test_fraction: f64,
}

impl Default for Standard {
    fn default() -> Self {
        Self {
            min_session_length: 2,
            min_item_support: 5,
            test_days: 7.0,
            test_fraction: 0.1,
        }
    }
}

/// Training and test sessions after the standard preprocessing.
#[derive(Clone, Debug, Default)]
pub struct Preprocessed {
    /// Training sessions, ordered by time (ties: file order).
    pub train: Vec<Session>,
    /// Test sessions, ordered by time, holding training items only; [`test_cases`] makes
    /// the protocol's cases of them.
    pub test: Vec<Session>,
    /// What each step kept and dropped, for printing.
    pub notes: Vec<String>,
}

/// One test case of the session protocol: the clicks before, and the next click.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionCase {
    /// Input clicks, oldest first.
    pub input: Vec<String>,
    /// The next click, to be ranked high.
    pub target: String,
}

/// Every prefix of every session as a case, in SR-GNN's `process_seqs` order: session by
/// session, the longest input first.
pub fn test_cases(sessions: &[Session]) -> Vec<SessionCase> {
    sessions
        .iter()
        .flat_map(|s| {
            (1..s.items.len()).rev().map(|end| SessionCase {
                input: s.items[..end].to_vec(),
                target: s.items[end].clone(),
            })
        })
        .collect()
}

/// `sessions, clicks, items` of a set of sessions, for the notes.
fn summary(sessions: &[Session]) -> String {
    let clicks: usize = sessions.iter().map(|s| s.items.len()).sum();
    let items = sessions
        .iter()
        .flat_map(|s| &s.items)
        .collect::<HashSet<_>>()
        .len();
    format!(
        "{} sessions, {clicks} clicks, {items} items",
        sessions.len()
    )
}

/// Applies the standard preprocessing (see the module documentation) to `log`.
pub fn standard(log: SessionLog, settings: &Standard) -> Result<Preprocessed, String> {
    if !(settings.test_days.is_finite() && settings.test_days >= 0.0) {
        return Err(format!(
            "test days must be a number of days, 0 or more, not {}",
            settings.test_days
        ));
    }
    if !(settings.test_fraction > 0.0 && settings.test_fraction < 1.0) {
        return Err(format!(
            "the test fraction must lie between 0 and 1, not {}",
            settings.test_fraction
        ));
    }
    let min_length = settings.min_session_length.max(1);
    let mut sessions = log.sessions;
    let timed = sessions.iter().filter(|s| s.time.is_some()).count();
    if timed != 0 && timed != sessions.len() {
        return Err(format!(
            "{timed} of {} sessions have a time: all or none must",
            sessions.len()
        ));
    }
    let timed = timed != 0;
    let mut notes = vec![format!("read: {}", summary(&sessions))];

    // Step 1: `if len(sess_clicks[s]) == 1: del sess_clicks[s]`.
    let before = sessions.len();
    sessions.retain(|s| s.items.len() >= min_length);
    notes.push(format!(
        "dropped {} sessions shorter than {min_length}: {}",
        before - sessions.len(),
        summary(&sessions)
    ));

    // Step 2: `iid_counts` over every click left, then `iid_counts[i] >= 5` and
    // `len(filseq) < 2` in one pass.
    let mut counts: HashMap<String, usize> = HashMap::new();
    for item in sessions.iter().flat_map(|s| &s.items) {
        match counts.get_mut(item) {
            Some(count) => *count += 1,
            None => {
                counts.insert(item.clone(), 1);
            }
        }
    }
    let rare = counts
        .values()
        .filter(|&&c| c < settings.min_item_support)
        .count();
    let (before, mut rare_clicks) = (sessions.len(), 0);
    sessions.retain_mut(|s| {
        let length = s.items.len();
        s.items.retain(|i| counts[i] >= settings.min_item_support);
        rare_clicks += length - s.items.len();
        s.items.len() >= min_length
    });
    drop(counts);
    notes.push(format!(
        "dropped {rare} items seen fewer than {} times ({rare_clicks} clicks), then {} sessions left shorter than {min_length}: {}",
        settings.min_item_support,
        before - sessions.len(),
        summary(&sessions)
    ));
    if sessions.is_empty() {
        return Err(format!(
            "no session of {min_length} or more clicks on items seen {} or more times",
            settings.min_item_support
        ));
    }

    // Steps 3 and 4: split at `maxdate - 86400 * days` (strict on both sides), each side
    // sorted by date, stably.
    let (mut train, mut test) = if timed {
        let time = |s: &Session| s.time.unwrap_or(0.0);
        sessions.sort_by(|a, b| time(a).total_cmp(&time(b)));
        let latest = sessions.iter().map(time).fold(f64::NEG_INFINITY, f64::max);
        let split = latest - 86_400.0 * settings.test_days;
        let at_split = sessions.iter().filter(|s| time(s) == split).count();
        let (train, rest): (Vec<Session>, Vec<Session>) =
            sessions.into_iter().partition(|s| time(s) < split);
        let test: Vec<Session> = rest.into_iter().filter(|s| time(s) > split).collect();
        notes.push(format!(
            "split date {} (latest session {} minus {} days): {} training sessions before it, {} test sessions after it, {at_split} sessions at it dropped",
            format_time(split),
            format_time(latest),
            settings.test_days,
            train.len(),
            test.len()
        ));
        (train, test)
    } else {
        let count =
            ((sessions.len() as f64 * settings.test_fraction).round() as usize).min(sessions.len());
        let test = sessions.split_off(sessions.len() - count);
        notes.push(format!(
            "no times: the last {count} sessions by file order ({} of {}) are the test sessions",
            settings.test_fraction,
            sessions.len() + count
        ));
        (sessions, test)
    };

    // Step 5: `obtian_tra` (the `len(outseq) < 2` check cannot fire after step 2).
    train.retain(|s| s.items.len() >= min_length);
    let known: HashSet<&str> = train
        .iter()
        .flat_map(|s| &s.items)
        .map(String::as_str)
        .collect();

    // Step 6: `obtian_tes`.
    let (before, mut unknown_clicks) = (test.len(), 0);
    test.retain_mut(|s| {
        let length = s.items.len();
        s.items.retain(|i| known.contains(i.as_str()));
        unknown_clicks += length - s.items.len();
        s.items.len() >= min_length
    });
    drop(known);
    let cases: usize = test.iter().map(|s| s.items.len() - 1).sum();
    notes.push(format!(
        "test: dropped {unknown_clicks} clicks on items not in training, then {} sessions shorter than {min_length}: {}, {cases} test cases",
        before - test.len(),
        summary(&test)
    ));
    notes.push(format!("train: {}", summary(&train)));
    if train.is_empty() {
        return Err("no training sessions: every session falls in the test period".into());
    }
    if test.is_empty() {
        return Err(format!("no test sessions left: {}", notes[notes.len() - 2]));
    }
    Ok(Preprocessed { train, test, notes })
}
