//! Interaction logs: reading them ([`formats`]), ordering each user's interactions in time,
//! test-case files of the session protocol ([`cases`]) and the splits used for training and
//! evaluation ([`split`]).

pub mod cases;
pub mod events;
pub mod files;
pub mod formats;
pub mod preprocess;
pub mod split;

use std::collections::HashMap;
use std::path::PathBuf;

use crate::catalogue::Catalogue;

pub use cases::{CaseFile, load_cases, prefix_cases};
pub use events::{EventOptions, RawFormat, Session, SessionLog, TimeFormat, read_events, read_raw};
pub use formats::{Format, LoadOptions, Log, MAX_LOG_BYTES, input_files, load, read};
pub use preprocess::{Preprocessed, Standard};
pub use split::{Case, Holdout, Split, VALID_SHARE};

/// What can go wrong reading an interaction log.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A line does not have the expected shape.
    #[error("{path}:{line}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        reason: String,
    },
    /// The format could not be recognised or the path holds no log.
    #[error("{path}: {reason}")]
    Unrecognised {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// After filtering, nothing is left to train on.
    #[error("{path}: no interactions left ({reason})")]
    Empty {
        /// The file.
        path: PathBuf,
        /// Why nothing is left.
        reason: String,
    },
}

/// One user's interactions, oldest first, as internal item indices.
#[derive(Clone, Debug, PartialEq)]
pub struct UserHistory {
    /// The user's external id.
    pub user: String,
    /// Internal item indices (1..=N) in time order.
    pub items: Vec<u32>,
}

/// A loaded interaction log.
#[derive(Clone, Debug)]
pub struct Interactions {
    /// The items seen in the log, with titles when the log came with them.
    pub catalogue: Catalogue,
    /// Every kept user's history.
    pub users: Vec<UserHistory>,
}

impl Interactions {
    /// Total number of interactions.
    pub fn len(&self) -> usize {
        self.users.iter().map(|u| u.items.len()).sum()
    }

    /// True when there are no interactions.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// One parsed interaction before ordering and indexing.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub user: String,
    pub item: String,
    /// Time stamp; `None` where the file order is the time order.
    pub time: Option<f64>,
}

/// Orders each user's events by time (stable, so ties keep file order), indexes items in
/// order of first appearance and drops users with fewer than `min_interactions`.
pub(crate) fn assemble(
    events: Vec<Event>,
    titles: &HashMap<String, String>,
    min_interactions: usize,
) -> Interactions {
    let mut by_user: Vec<(String, Vec<(f64, String)>)> = Vec::new();
    let mut user_slot: HashMap<String, usize> = HashMap::new();
    for (order, event) in events.into_iter().enumerate() {
        let slot = *user_slot.entry(event.user.clone()).or_insert_with(|| {
            by_user.push((event.user.clone(), Vec::new()));
            by_user.len() - 1
        });
        by_user[slot]
            .1
            .push((event.time.unwrap_or(order as f64), event.item));
    }

    let mut ids: Vec<String> = Vec::new();
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut users = Vec::new();
    for (user, mut events) in by_user {
        if events.len() < min_interactions {
            continue;
        }
        events.sort_by(|a, b| a.0.total_cmp(&b.0));
        let items = events
            .into_iter()
            .map(|(_, item)| {
                *index.entry(item.clone()).or_insert_with(|| {
                    ids.push(item);
                    ids.len() as u32
                })
            })
            .collect();
        users.push(UserHistory { user, items });
    }
    let item_titles = ids.iter().map(|id| titles.get(id).cloned()).collect();
    let catalogue = Catalogue::new(ids, item_titles).expect("ids are unique by construction");
    Interactions { catalogue, users }
}

impl Interactions {
    /// Re-indexes the histories with another catalogue (a trained model's). Interactions
    /// with items that catalogue lacks are dropped; returns how many were.
    pub fn with_catalogue(&self, catalogue: &Catalogue) -> (Interactions, usize) {
        let mut dropped = 0;
        let users = self
            .users
            .iter()
            .map(|u| {
                let items: Vec<u32> = u
                    .items
                    .iter()
                    .filter_map(|&i| catalogue.index_of(self.catalogue.id(i)))
                    .collect();
                dropped += u.items.len() - items.len();
                UserHistory {
                    user: u.user.clone(),
                    items,
                }
            })
            .collect();
        (
            Interactions {
                catalogue: catalogue.clone(),
                users,
            },
            dropped,
        )
    }
}
