//! Warm retrains: a newer log's model started from a previous bundle instead of from random
//! weights (`awrsr train --init previous.awrsr`).
//!
//! The architecture is the previous model's. Items it knows keep their embedding rows; items
//! new to the log start at the mean of the known items clicked within [`NEIGHBOURHOOD`]
//! clicks of them (weighted by how often), or at a fresh random row when none was; items
//! gone from the log
//! keep their rows (they can still be recommended, and their weights cost nothing) unless
//! asked to be dropped. Everything else (positions, attention, feed-forward, norms) starts
//! as it was.

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};

use crate::bundle::Bundle;
use crate::catalogue::Catalogue;
use crate::data::Interactions;
use crate::model::{Awrsr, ModelConfig};

/// The catalogue of a warm retrain: the previous model's items in their order (those gone
/// from `log` left out with `drop_gone`), then the log's new items in order of first
/// appearance. Titles: the log's where it has them, else the previous model's.
pub fn merged_catalogue(previous: &Catalogue, log: &Catalogue, drop_gone: bool) -> Catalogue {
    let mut ids = Vec::new();
    let mut titles = Vec::new();
    let title = |id: &str, fallback: Option<&str>| {
        log.index_of(id)
            .and_then(|i| log.title(i))
            .or(fallback)
            .map(str::to_string)
    };
    for (i, id) in previous.ids().iter().enumerate() {
        if drop_gone && log.index_of(id).is_none() {
            continue;
        }
        ids.push(id.clone());
        titles.push(title(id, previous.title(i as u32 + 1)));
    }
    for id in log.ids() {
        if previous.index_of(id).is_none() {
            ids.push(id.clone());
            titles.push(title(id, None));
        }
    }
    Catalogue::new(ids, titles).expect("ids are unique: each comes from a catalogue once")
}

/// How a warm start came out, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WarmStart {
    /// Items whose rows came from the previous model.
    pub kept: usize,
    /// New items started from the items they were clicked with.
    pub from_neighbours: usize,
    /// New items with no known neighbour: a fresh random row.
    pub fresh: usize,
    /// Previous items left out (`drop_gone`).
    pub dropped: usize,
}

/// The starting network for `config` (the previous model's architecture, for the new
/// catalogue's size and this run's dropout) over `catalogue` (from
/// [`merged_catalogue`]) whose training histories are `interactions` (indexed by
/// `catalogue`): `previous`'s weights with its item table laid out anew (module comment).
pub fn warm_model(
    previous: Bundle,
    config: &ModelConfig,
    catalogue: &Catalogue,
    interactions: &Interactions,
    device: &Device,
) -> (Awrsr, WarmStart) {
    let d = config.d_model;
    let fresh_table = config.init(device).items.weight.val().into_data();
    let fresh_table: Vec<f32> = fresh_table.iter::<f32>().collect();
    let old = &previous.item_table;
    let mut table = vec![0f32; (catalogue.len() + 1) * d];
    let mut known = vec![false; catalogue.len() + 1];
    for (i, id) in catalogue.ids().iter().enumerate() {
        let row = i + 1;
        if let Some(old_row) = previous.header.catalogue.index_of(id) {
            let old_row = old_row as usize;
            table[row * d..(row + 1) * d].copy_from_slice(&old[old_row * d..(old_row + 1) * d]);
            known[row] = true;
        }
    }
    let kept = known.iter().filter(|&&k| k).count();
    let (sums, counts) = neighbour_sums(interactions, &known, &table, d);
    let mut start = WarmStart {
        kept,
        from_neighbours: 0,
        fresh: 0,
        dropped: previous.header.catalogue.len() - kept,
    };
    for row in 1..=catalogue.len() {
        if known[row] {
            continue;
        }
        let target = &mut table[row * d..(row + 1) * d];
        if counts[row] > 0.0 {
            for (t, s) in target.iter_mut().zip(&sums[row * d..(row + 1) * d]) {
                *t = s / counts[row];
            }
            start.from_neighbours += 1;
        } else {
            target.copy_from_slice(&fresh_table[row * d..(row + 1) * d]);
            start.fresh += 1;
        }
    }
    let mut model = previous.model;
    let weights = Tensor::from_data(TensorData::new(table, [catalogue.len() + 1, d]), device);
    model.items.weight = Param::from_tensor(weights);
    (model, start)
}

/// How many clicks before or after a new item count as clicked with it.
pub const NEIGHBOURHOOD: usize = 5;

/// For every unknown item, the summed rows of the known items within [`NEIGHBOURHOOD`]
/// clicks of it in a history, and how many were summed.
fn neighbour_sums(
    interactions: &Interactions,
    known: &[bool],
    table: &[f32],
    d: usize,
) -> (Vec<f32>, Vec<f32>) {
    let mut sums = vec![0f32; table.len()];
    let mut counts = vec![0f32; known.len()];
    for user in &interactions.users {
        let items = &user.items;
        for (p, &new) in items
            .iter()
            .enumerate()
            .filter(|&(_, &i)| !known[i as usize])
        {
            let window = p.saturating_sub(NEIGHBOURHOOD)..(p + NEIGHBOURHOOD + 1).min(items.len());
            for &old in items[window].iter().filter(|&&i| known[i as usize]) {
                let (new, old) = (new as usize, old as usize);
                for k in 0..d {
                    sums[new * d + k] += table[old * d + k];
                }
                counts[new] += 1.0;
            }
        }
    }
    (sums, counts)
}
